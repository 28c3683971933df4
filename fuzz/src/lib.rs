//! wpack's fuzz targets (`fuzz_targets/`, run by `scripts/fuzz.sh`). What
//! each target runs is in [`bodies`], which `cargo test` compiles too
//! (tests/fuzz_regressions.rs) to replay the corpora without a fuzzer.

/// The packer's ad hoc signature code, which `wpack inspect` checks macOS
/// files with: compiled from its source (the packer is a binary crate).
#[path = "../../packer/src/codesign.rs"]
pub mod codesign;

pub mod bodies;

/// The `wasi_host` target's body, apart from [`bodies`]: it needs wasmtime
/// with a compiler and `wpack_wasi`, which the packer's replay test has
/// not (wasi/tests/fuzz_corpus.rs replays its corpus).
pub mod wasi_host;
