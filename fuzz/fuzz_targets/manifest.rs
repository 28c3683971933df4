//! The manifest decoder on arbitrary bytes (see `bodies::manifest`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wpack_fuzz::bodies;

#[global_allocator]
static ALLOCATOR: bodies::Counting = bodies::Counting;

fuzz_target!(|data: &[u8]| bodies::run(bodies::manifest, data));
