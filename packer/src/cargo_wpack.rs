//! `cargo wpack`: builds a package's binaries for WASI with cargo and packs
//! each for every target asked for (placeholder, being written).

use std::ffi::OsString;
use std::process::ExitCode;

pub fn main(_args: impl IntoIterator<Item = OsString>) -> ExitCode {
    eprintln!("cargo-wpack: not written yet");
    ExitCode::FAILURE
}
