//! The stub's run time: everything a packed program does from `main` on.
//!
//! Two stub executables are built from this one module, one per kind of
//! program, because WASI 0.2 and the component model made the stub every
//! preview 1 program carries 71% larger (BENCHMARKS.md): the
//! `wpack-stub` binary runs core modules ([`Module`], WASI preview 1), the
//! `wpack-stub-component` binary runs command components ([`Component`],
//! WASI 0.2). Both are [`main`] with a different [`Runnable`], so each
//! links only its own half: each is built by a cargo invocation of its own
//! with the `module` or `component` feature, so the module stub's
//! dependency tree holds no wasmtime-wasi, tokio or component model.
//! `image.rs` loads the payload (of a file with several commands, the code of
//! the one [`crate::command`] chooses), `run.rs` holds what both kinds share
//! (arguments, environment, directories, exit statuses), `module.rs` (with
//! wpack's own WASI preview 1 host, `wpack-wasi`, and the embedded trees of
//! [`crate::embedded`]) and `component.rs` instantiate and run.

#[cfg(feature = "component")]
mod component;
mod image;
#[cfg(feature = "module")]
mod module;
mod run;
mod verified;

use std::fs::File;
use std::process::ExitCode;
use std::ptr::NonNull;

use anyhow::Result;
use wasmtime::Engine;
#[cfg(feature = "module")]
pub use wasmtime::Module;
#[cfg(feature = "component")]
pub use wasmtime::component::Component;

use crate::manifest::Manifest;

// Links faster memcpy/memmove in place of musl's (see stub/mem).
#[cfg(all(target_arch = "x86_64", target_env = "musl"))]
extern crate wpack_mem;

/// A kind of compiled program the stub can load and run.
pub trait Runnable: Sized {
    /// What [`crate::manifest::Program::kind`] says for this kind.
    const KIND: &'static str;
    /// Loads the payload from the open file through the ELF section index.
    ///
    /// # Safety
    /// As `Module::deserialize_open_file`: the file holds what the packer
    /// compiled for this kind, checked, and nothing modifies it.
    unsafe fn from_file(engine: &Engine, file: File) -> wasmtime::Result<Self>;
    /// Loads the payload in place.
    ///
    /// # Safety
    /// As `Module::deserialize_raw`.
    unsafe fn from_raw(engine: &Engine, code: NonNull<[u8]>) -> wasmtime::Result<Self>;
    /// The exit status `error` asks for, if it is the program's own exit
    /// (`proc_exit`, `exit-with-code`) rather than a trap or a failure.
    fn exit_request(error: &wasmtime::Error) -> Option<i32>;
    /// Instantiates and runs the program; the outer error is a set-up
    /// failure, the inner one how the program ended if not normally.
    /// `argv` is argv[0] and the user's arguments; the baked ones go after
    /// argv[0] (see `run::setup`).
    fn run(
        self,
        engine: &Engine,
        manifest: Manifest,
        argv: Vec<std::ffi::OsString>,
        file: Option<&'static [u8]>,
    ) -> Result<wasmtime::Result<()>>;
}

/// The whole stub: load the payload, run it, exit with its status.
pub fn main<P: Runnable>() -> ExitCode {
    let program = run::program_name();
    match image::load::<P>().and_then(|loaded| run::run(&program, loaded)) {
        Ok(code) => code,
        Err(error) if error.is::<crate::command::NoCommand>() => {
            run::report(&error.to_string());
            ExitCode::from(crate::command::NO_COMMAND_STATUS)
        }
        Err(error) => {
            run::report(&format!("{program}: {error:#}"));
            ExitCode::FAILURE
        }
    }
}

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
