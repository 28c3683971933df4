//! The stub: the executable that every packed program starts as.
//!
//! It finds the payload appended to its own file, loads the precompiled module
//! in place and runs its `_start` with WASI preview 1. See `image.rs` for the
//! loading and `run.rs` for the program's environment and exit status.

// Links faster memcpy/memmove in place of musl's (see stub/mem).
#[cfg(all(target_arch = "x86_64", target_env = "musl"))]
extern crate wpack_mem;

// musl's allocator hands memory back to the kernel after nearly every large
// free and takes a lock per call; WASI output allocates a buffer per 4 KiB
// chunk it writes, so writing 256 MiB to stdout cost a third more than with
// glibc (BENCHMARKS.md). dlmalloc keeps freed memory for reuse.
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: alloc::Dlmalloc = alloc::Dlmalloc;

#[cfg(target_env = "musl")]
mod alloc {
    use std::alloc::{GlobalAlloc, Layout};

    /// dlmalloc's global allocator, called rather than inlined: inlined
    /// into every allocation site it made the stub 150 KB larger.
    pub struct Dlmalloc;

    // SAFETY: forwards to dlmalloc's `GlobalAlloc`, which upholds the contract.
    unsafe impl GlobalAlloc for Dlmalloc {
        #[inline(never)]
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            unsafe { dlmalloc::GlobalDlmalloc.alloc(layout) }
        }
        #[inline(never)]
        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            unsafe { dlmalloc::GlobalDlmalloc.alloc_zeroed(layout) }
        }
        #[inline(never)]
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            unsafe { dlmalloc::GlobalDlmalloc.dealloc(ptr, layout) }
        }
        #[inline(never)]
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            unsafe { dlmalloc::GlobalDlmalloc.realloc(ptr, layout, new_size) }
        }
    }
}

mod embedded;
mod image;
mod run;
mod verified;

use std::process::ExitCode;

fn main() -> ExitCode {
    let program = run::program_name();
    match image::load().and_then(|loaded| run::run(&program, loaded)) {
        Ok(code) => code,
        Err(error) => {
            run::report(&format!("{program}: {error:#}"));
            ExitCode::FAILURE
        }
    }
}
