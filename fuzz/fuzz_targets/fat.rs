//! Universal (fat) macOS files: the slice table and each slice, and the
//! table writer (see `bodies::fat`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wpack_fuzz::bodies;

#[global_allocator]
static ALLOCATOR: bodies::Counting = bodies::Counting;

fuzz_target!(|data: &[u8]| bodies::run(bodies::fat, data));
