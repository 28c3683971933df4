//! The WASI preview 1 host functions of `wpack-wasi`, called with arbitrary
//! arguments over arbitrary guest memory (see `wasi_host`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wpack_fuzz::{bodies, wasi_host};

#[global_allocator]
static ALLOCATOR: bodies::Counting = bodies::Counting;

// The module is compiled, and wasmtime set up, before fuzzing starts: not
// counted as the first input's leak.
fuzz_target!(
    init: {
        wasi_host::harness();
    },
    |data: &[u8]| bodies::run(wasi_host::wasi_host, data)
);
