//! wpack's fuzz targets (`fuzz_targets/`, run by `scripts/fuzz.sh`). What
//! each target runs is in [`bodies`], which `cargo test` compiles too
//! (tests/fuzz_regressions.rs) to replay the corpora without a fuzzer.

/// The packer's ad hoc signature code, which `wpack inspect` checks macOS
/// files with: compiled from its source (the packer is a binary crate).
#[path = "../../packer/src/codesign.rs"]
pub mod codesign;

pub mod bodies;
