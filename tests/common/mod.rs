//! Helpers shared by the integration tests: they run the real `wpack` binary
//! and the programs it writes as processes.
#![allow(dead_code)] // each test file uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub use tempfile::TempDir;

/// The `wpack` binary under test.
pub fn wpack_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_wpack"))
}

/// The repository root (samples and fixtures are found from it).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

pub fn sample(name: &str) -> PathBuf {
    root()
        .join("samples")
        .join(name)
        .join(format!("{name}.wasm"))
}

pub fn fixture(name: &str) -> PathBuf {
    root().join("tests").join("fixtures").join(name)
}

pub fn tempdir() -> TempDir {
    tempfile::tempdir().expect("cannot create a temporary directory")
}

/// Runs `wpack ARGS...` and returns its output.
pub fn wpack(args: &[&str]) -> Output {
    Command::new(wpack_bin())
        .args(args)
        .output()
        .expect("cannot run wpack")
}

/// Packs `wasm` into `out` with extra wpack arguments; panics with wpack's
/// stderr if packing fails.
pub fn pack(wasm: &Path, out: &Path, extra: &[&str]) {
    let output = Command::new(wpack_bin())
        .arg(wasm)
        .arg("-o")
        .arg(out)
        .arg("--quiet")
        .args(extra)
        .output()
        .expect("cannot run wpack");
    assert!(
        output.status.success(),
        "wpack {} failed: {}",
        wasm.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Packs a sample into `dir` and returns the path of the executable.
pub fn pack_sample(name: &str, dir: &Path, extra: &[&str]) -> PathBuf {
    let out = dir.join(name);
    pack(&sample(name), &out, extra);
    out
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Lists the names of the entries of `dir`, sorted.
pub fn list_dir(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
