//! `payload::read` on real packed files, damaged (see
//! `bodies::packed_file`). Its corpus starts from files the built wpack
//! packs for every target it carries, condensed to what readers look at
//! (`bodies::condense`), so that mutations land there (`scripts/fuzz.sh`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wpack_fuzz::bodies;

#[global_allocator]
static ALLOCATOR: bodies::Counting = bodies::Counting;

fuzz_target!(|data: &[u8]| bodies::run(bodies::packed_file, data));
