//! The half of wpack that both sides share.
//!
//! A packed program is the stub executable with a payload appended: the
//! module or component precompiled by wasmtime, a manifest of baked
//! configuration and a trailer that lets the stub find both. `docs/FORMAT.md` describes the layout in
//! prose; [`payload`], [`manifest`], [`tree`] (embedded files),
//! [`elf_index`] (Linux) and [`macho`] (macOS) are its only definition in
//! code, and [`engine`] holds the wasmtime settings the packer compiles
//! with and the stub loads with, which must agree exactly.
//!
//! With the `runtime` feature it is also the stub itself ([`runtime`]);
//! the packer uses it without.

pub mod elf_index;
pub mod engine;
pub mod macho;
pub mod manifest;
pub mod payload;
#[cfg(feature = "runtime")]
pub mod runtime;
pub mod tree;

pub use manifest::{DirMapping, EnvVar, Manifest, Network, Program};
pub use payload::{FORMAT_VERSION, FormatError, PAYLOAD_ALIGN, Packed, TRAILER_LEN};
