//! The Mach-O parser and the packer's macOS layout on arbitrary bytes (see
//! `bodies::macho`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wpack_fuzz::bodies;

#[global_allocator]
static ALLOCATOR: bodies::Counting = bodies::Counting;

fuzz_target!(|data: &[u8]| bodies::run(bodies::macho, data));
