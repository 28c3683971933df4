//! Builds the stub and hands it to the packer to embed.
//!
//! The stub is built by a separate cargo invocation, in its own target
//! directory and with only its own package selected: in the same build as the
//! packer, Cargo would unify wasmtime's features and link Cranelift into the
//! stub. The result is copied to `OUT_DIR` and embedded with `include_bytes!`
//! (see `src/stub_image.rs`), so `wpack` is one self-contained file.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let packer_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let root = packer_dir.parent().unwrap();
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").unwrap());

    // A stale stub is worse than a slow build: a stub built from other sources
    // or other wasmtime settings makes files that fail to load. So rebuild
    // whenever anything it is built from changes.
    for input in ["stub", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(input).display());
    }
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");
    println!("cargo:rerun-if-env-changed=RUSTFLAGS");

    // One stub build shared by the packer's debug and release builds.
    let target_dir = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("wpack-stub");
    let stub = build_stub(root, &target_dir);
    std::fs::copy(&stub, out_dir.join("wpack-stub"))
        .unwrap_or_else(|e| panic!("cannot copy {}: {e}", stub.display()));
}

fn build_stub(root: &Path, target_dir: &Path) -> PathBuf {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root)
        .args(["build", "--package", "wpack-stub", "--bin", "wpack-stub"])
        .args(["--profile", "stub", "--locked", "--target-dir"])
        .arg(target_dir)
        // Flags cargo passes to this build script's own compilation are not
        // meant for the stub's, nor is a linter wrapping the outer build
        // (`cargo clippy` lints the stub in its own run).
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .status()
        .expect("cannot run cargo to build the stub");
    assert!(
        status.success(),
        "building the stub failed (see the output above)"
    );
    target_dir.join("stub").join("wpack-stub")
}
