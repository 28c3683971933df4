//! The stub for components: the executable every packed WASI 0.2 command
//! component starts as. Like `wpack-stub`, but it loads a component and
//! calls its `wasi:cli/run` (see `wpack_stub::runtime`).

use wpack_stub::runtime::{self, Component};

// The packer reads which kind of program a stub runs from these bytes.
#[used]
static KIND: [u8; 25] = wpack_stub::manifest::COMPONENT_STUB_MARKER;

fn main() -> std::process::ExitCode {
    runtime::main::<Component>()
}
