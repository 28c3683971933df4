//! What `wpack inspect` parses, on arbitrary files (see `bodies::inspect`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wpack_fuzz::bodies;

#[global_allocator]
static ALLOCATOR: bodies::Counting = bodies::Counting;

fuzz_target!(|data: &[u8]| bodies::run(bodies::inspect, data));
