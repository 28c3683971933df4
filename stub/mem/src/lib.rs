//! `memcpy`, `memmove` and `memset` for the static x86_64 musl stub.
//!
//! wasmtime runs every wasm `memory.copy` through a call to `memmove`, and
//! compilers emit `memory.copy` for small copies of unknown length (Rust's
//! `copy_from_slice` on a short slice, for example). musl's x86_64 `memcpy`
//! aligns byte by byte and then uses `rep movsq`, whose start-up cost makes
//! an 8-byte copy several times slower than glibc's: a program reading a file
//! and hashing it in 8-byte pieces ran at half the glibc stub's speed
//! (BENCHMARKS.md). `memory.fill` (zeroing a small array) goes to `memset`
//! the same way. These versions copy or fill up to 32 bytes with two
//! overlapping accesses, up to `REP_MOVSB_ABOVE` with 16-byte moves, and
//! larger blocks with `rep movsb` / `rep stosb`.
//!
//! The functions are exported under the C names only in the musl x86_64
//! build, where they take the place of libc's (a static link pulls an archive
//! member only for a symbol still undefined). Everywhere else they exist
//! under their own names, for the tests.
//!
//! `no_builtins` keeps LLVM from recognising these loops as a copy and
//! compiling them into a call to `memcpy`, which would be this function.
#![no_std]
#![no_builtins]

use core::ptr::{read_unaligned as load, write_unaligned as store};

/// From this length on, `rep movsb` (fast on every x86_64 CPU since 2012)
/// beats a loop of 16-byte moves.
const REP_MOVSB_ABOVE: usize = 512;

/// Copies `n` bytes from `src` to `dst`; the ranges must not overlap.
///
/// # Safety
/// As C's `memcpy`.
#[cfg_attr(all(target_arch = "x86_64", target_env = "musl"), unsafe(no_mangle))]
pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller's promise, as for C's memcpy.
    unsafe {
        if n <= 32 {
            copy_small(dst, src, n);
        } else {
            copy_forward(dst, src, n);
        }
    }
    dst
}

/// Copies `n` bytes from `src` to `dst`; the ranges may overlap.
///
/// # Safety
/// As C's `memmove`.
#[cfg_attr(all(target_arch = "x86_64", target_env = "musl"), unsafe(no_mangle))]
pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller's promise, as for C's memmove; each helper is safe
    // for the overlap it is chosen for.
    unsafe {
        if n <= 32 {
            copy_small(dst, src, n);
        } else if (dst as usize).wrapping_sub(src as usize) >= n {
            // `dst` is before `src`, or the ranges are apart: a forward copy
            // never overwrites a source byte it has yet to read.
            copy_forward(dst, src, n);
        } else {
            copy_backward(dst, src, n);
        }
    }
    dst
}

/// Sets `n` bytes at `dst` to `c as u8`.
///
/// # Safety
/// As C's `memset`.
#[cfg_attr(all(target_arch = "x86_64", target_env = "musl"), unsafe(no_mangle))]
pub unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
    let byte = c as u8;
    let wide = u128::from_ne_bytes([byte; 16]);
    // SAFETY: the caller's promise, as for C's memset; every store is within
    // the first `n` bytes (overlapping stores for the odd lengths).
    unsafe {
        if n >= 16 {
            #[cfg(target_arch = "x86_64")]
            if n > REP_MOVSB_ABOVE {
                core::arch::asm!(
                    "rep stosb",
                    inout("rcx") n => _,
                    inout("rdi") dst => _,
                    in("al") byte,
                    options(nostack, preserves_flags)
                );
                return dst;
            }
            let mut at = 0;
            while at + 16 < n {
                store(dst.add(at).cast::<u128>(), wide);
                at += 16;
            }
            store(dst.add(n - 16).cast::<u128>(), wide);
        } else if n >= 8 {
            store(dst.cast::<u64>(), wide as u64);
            store(dst.add(n - 8).cast::<u64>(), wide as u64);
        } else if n >= 4 {
            store(dst.cast::<u32>(), wide as u32);
            store(dst.add(n - 4).cast::<u32>(), wide as u32);
        } else if n >= 2 {
            store(dst.cast::<u16>(), wide as u16);
            store(dst.add(n - 2).cast::<u16>(), wide as u16);
        } else if n == 1 {
            *dst = byte;
        }
    }
    dst
}

/// `n <= 32`. Loads everything before storing, so any overlap is fine.
#[inline(always)]
unsafe fn copy_small(dst: *mut u8, src: *const u8, n: usize) {
    // SAFETY: every access is within the first `n` bytes of each range.
    unsafe {
        if n >= 16 {
            let (a, b) = (
                load(src.cast::<u128>()),
                load(src.add(n - 16).cast::<u128>()),
            );
            store(dst.cast::<u128>(), a);
            store(dst.add(n - 16).cast::<u128>(), b);
        } else if n >= 8 {
            let (a, b) = (load(src.cast::<u64>()), load(src.add(n - 8).cast::<u64>()));
            store(dst.cast::<u64>(), a);
            store(dst.add(n - 8).cast::<u64>(), b);
        } else if n >= 4 {
            let (a, b) = (load(src.cast::<u32>()), load(src.add(n - 4).cast::<u32>()));
            store(dst.cast::<u32>(), a);
            store(dst.add(n - 4).cast::<u32>(), b);
        } else if n >= 2 {
            let (a, b) = (load(src.cast::<u16>()), load(src.add(n - 2).cast::<u16>()));
            store(dst.cast::<u16>(), a);
            store(dst.add(n - 2).cast::<u16>(), b);
        } else if n == 1 {
            *dst = *src;
        }
    }
}

/// `n > 32`, ascending. Safe when `dst` is before `src` or the ranges are
/// apart: each store lands below every source byte not yet read. The last 16
/// bytes are read first, so the final (overlapping) store is right too.
unsafe fn copy_forward(dst: *mut u8, src: *const u8, n: usize) {
    // SAFETY: offsets stay below `n`; see above for overlap.
    unsafe {
        #[cfg(target_arch = "x86_64")]
        if n > REP_MOVSB_ABOVE {
            core::arch::asm!(
                "rep movsb",
                inout("rcx") n => _,
                inout("rdi") dst => _,
                inout("rsi") src => _,
                options(nostack, preserves_flags)
            );
            return;
        }
        let tail = load(src.add(n - 16).cast::<u128>());
        let mut at = 0;
        while at + 16 < n {
            store(dst.add(at).cast::<u128>(), load(src.add(at).cast::<u128>()));
            at += 16;
        }
        store(dst.add(n - 16).cast::<u128>(), tail);
    }
}

/// `n > 32`, descending, for `dst` after `src` with overlap: each store lands
/// above every source byte not yet read. The first 16 bytes are read first.
unsafe fn copy_backward(dst: *mut u8, src: *const u8, n: usize) {
    // SAFETY: offsets stay below `n`; see above for overlap.
    unsafe {
        let head = load(src.cast::<u128>());
        let mut at = n;
        while at > 16 {
            at -= 16;
            store(dst.add(at).cast::<u128>(), load(src.add(at).cast::<u128>()));
        }
        store(dst.cast::<u128>(), head);
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    use super::*;

    const LEN: usize = 1200;

    fn pattern() -> Vec<u8> {
        (0..LEN).map(|i| (i * 131 + 7) as u8).collect()
    }

    #[test]
    fn memcpy_copies_every_length_and_alignment() {
        let src = pattern();
        for n in (0..=600).chain([1023, 1024, 1025]) {
            for (s_off, d_off) in [(0, 0), (1, 0), (0, 3), (7, 9), (15, 1)] {
                let mut dst = std::vec![0xeeu8; LEN];
                let ret =
                    unsafe { memcpy(dst.as_mut_ptr().add(d_off), src.as_ptr().add(s_off), n) };
                assert_eq!(ret, unsafe { dst.as_mut_ptr().add(d_off) });
                assert_eq!(&dst[d_off..d_off + n], &src[s_off..s_off + n], "n={n}");
                assert!(
                    dst[..d_off].iter().all(|&b| b == 0xee),
                    "wrote before, n={n}"
                );
                assert!(
                    dst[d_off + n..].iter().all(|&b| b == 0xee),
                    "wrote after, n={n}"
                );
            }
        }
    }

    #[test]
    fn memset_sets_every_length_and_alignment() {
        for n in (0..=600).chain([1023, 1024, 1025]) {
            for off in [0, 1, 7, 15] {
                let mut buf = std::vec![0xeeu8; LEN];
                let ret = unsafe { memset(buf.as_mut_ptr().add(off), 0x1_5a, n) };
                assert_eq!(ret, unsafe { buf.as_mut_ptr().add(off) });
                assert!(buf[off..off + n].iter().all(|&b| b == 0x5a), "n={n}");
                assert!(buf[..off].iter().all(|&b| b == 0xee), "wrote before, n={n}");
                assert!(
                    buf[off + n..].iter().all(|&b| b == 0xee),
                    "wrote after, n={n}"
                );
            }
        }
    }

    #[test]
    fn memmove_handles_every_overlap() {
        for n in (0..=300).chain([511, 512, 513, 700]) {
            for shift in -40isize..=40 {
                let base = 100usize;
                let mut buf = pattern();
                let expected = {
                    let mut e = buf.clone();
                    e.copy_within(base..base + n, (base as isize + shift) as usize);
                    e
                };
                let src = unsafe { buf.as_mut_ptr().add(base) };
                let dst = unsafe { buf.as_mut_ptr().offset(base as isize + shift) };
                unsafe { memmove(dst, src, n) };
                assert_eq!(buf, expected, "n={n} shift={shift}");
            }
        }
    }
}
