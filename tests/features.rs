//! WebAssembly proposals: every one the `wasmtime` CLI enables by default
//! packs and runs; one it does not enable is refused at pack time, naming the
//! feature. Each module (tests/wasi/features/*.wat) exits with 42 on success.

mod common;

use std::process::Command;

use common::*;

#[test]
fn default_proposals_pack_and_run() {
    let dir = tempdir();
    for name in DEFAULT_FEATURES {
        let wasm = assemble_feature(name, dir.path());
        let exe = dir.path().join(name);
        pack(&wasm, &exe, &[]);
        let out = Command::new(&exe).output().unwrap();
        assert_eq!(out.status.code(), Some(42), "{name}: {}", stderr(&out));
    }
}

#[test]
fn a_disabled_proposal_is_refused_at_pack_time() {
    let dir = tempdir();
    let wasm = assemble_feature("custom_page_sizes", dir.path());
    refuses(&wasm, &[], "custom page sizes");
}
