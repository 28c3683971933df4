//! The ELF section index, `build` and `check`, on arbitrary bytes (see
//! `bodies::elf_index`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wpack_fuzz::bodies;

#[global_allocator]
static ALLOCATOR: bodies::Counting = bodies::Counting;

fuzz_target!(|data: &[u8]| bodies::run(bodies::elf_index, data));
