//! The half of wpack that both sides share.
//!
//! A packed program is the stub executable with a payload appended: the
//! module or component precompiled by wasmtime, a manifest of baked
//! configuration and a trailer that lets the stub find both. `docs/FORMAT.md` describes the layout in
//! prose; [`payload`], [`manifest`], [`tree`] (embedded files),
//! [`elf_index`] (Linux), [`pe`] (Windows) and [`macho`] (macOS) are its
//! only definition in code, and [`engine`] holds the wasmtime settings the packer compiles
//! with and the stub loads with, which must agree exactly.
//!
//! [`command`] is how the stub chooses the command of a file that holds
//! several; it needs no runtime, so it is tested with the format.
//!
//! With the `runtime` feature it is also the stub itself ([`runtime`]);
//! the packer uses it without. The `wasi` feature adds what running a core
//! module needs on both sides, because the packer runs one to pre-initialize
//! it (`--init-func`): embedded trees as directories of the WASI host
//! ([`embedded`]) and how a trap is reported ([`trap`]).

pub mod command;
pub mod elf_index;
#[cfg(feature = "wasi")]
pub mod embedded;
pub mod engine;
pub mod macho;
pub mod manifest;
pub mod payload;
pub mod pe;
pub mod report;
#[cfg(feature = "runtime")]
pub mod runtime;
#[cfg(any(feature = "runtime", feature = "wasi"))]
pub mod trap;
pub mod tree;

pub use manifest::{DirMapping, EnvVar, Init, InitDescriptor, Manifest, Network, Program};
pub use payload::{FORMAT_VERSION, FormatError, PAYLOAD_ALIGN, Packed, TRAILER_LEN};
