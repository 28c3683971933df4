//! The stub for core modules: the executable every packed WASI preview 1
//! program starts as. It finds the payload appended to its own file, loads
//! the precompiled module in place and runs its `_start` (see
//! `wpack_stub::runtime`).

use wpack_stub::runtime::{self, Module};

// The packer reads which kind of program a stub runs from these bytes.
#[used]
static KIND: [u8; 22] = wpack_stub::manifest::MODULE_STUB_MARKER;

fn main() -> std::process::ExitCode {
    runtime::main::<Module>()
}
