//! Start-up memory does not grow with the module's data: wasmtime maps data
//! segments into linear memory straight from the packed file (through the ELF
//! section index, docs/FORMAT.md) instead of copying them at every start.
#![cfg(target_os = "linux")]

mod common;

use std::process::Command;

use common::*;

/// Size of the data segment: large next to the stub's own few MB, so a copy
/// would show plainly in the resident set.
const DATA_MIB: usize = 32;

/// A program with `DATA_MIB` of non-zero data that says "ready" and then
/// spins, so its resident memory can be read while it runs.
fn data_heavy_module() -> Vec<u8> {
    let pages = DATA_MIB * 16 + 2;
    let data = "w".repeat(DATA_MIB << 20);
    let wat = format!(
        r#"(module
          (import "wasi_snapshot_preview1" "fd_write"
            (func $fd_write (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") {pages})
          (data (i32.const 0) "ready\n")
          (data (i32.const 65536) "{data}")
          (func (export "_start")
            (i32.store (i32.const 16) (i32.const 0))
            (i32.store (i32.const 20) (i32.const 6))
            (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24)))
            (loop (br 0))))"#
    );
    wat::parse_str(wat).unwrap()
}

#[test]
fn data_segments_are_mapped_not_copied() {
    let dir = tempdir();
    let wasm = dir.path().join("data.wasm");
    std::fs::write(&wasm, data_heavy_module()).unwrap();
    let packed = dir.path().join("data");
    pack(&wasm, &packed, &[]);
    assert!(std::fs::metadata(&packed).unwrap().len() > (DATA_MIB as u64) << 20);

    // The first start hashes the payload, the later ones need not (see
    // verified.rs); both must leave the data pages alone.
    for start in ["first", "second"] {
        let (rss, output) = resident_when_ready(Command::new(&packed).env("WPACK_DEBUG", "1"));
        assert!(
            stderr(&output).contains("module loaded from the file through its ELF section index"),
            "{}",
            stderr(&output)
        );
        // The stub and runtime take a few MB; a copy of the data would add 32.
        assert!(
            rss < 16 * 1024,
            "{start} start: {rss} KiB resident with {DATA_MIB} MiB of data"
        );
    }
}
