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

/// A pre-initialized program (`--init-func`) whose init fills 64 MiB of its
/// memory: the snapshot is data like any other, so it is mapped from the
/// file at start, not copied.
#[test]
fn a_64_mib_snapshot_is_mapped_not_copied() {
    const SNAPSHOT_MIB: u32 = 64;
    let bytes = SNAPSHOT_MIB << 20;
    // The init writes byte i%251+1 at 65536+i; `_start` checks one of them
    // and says "ready" (or "not initialized"), then spins.
    let wat = format!(
        r#"(module
          (import "wasi_snapshot_preview1" "fd_write"
            (func $fd_write (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") {pages})
          (data (i32.const 0) "ready\n")
          (data (i32.const 8) "not initialized\n")
          (func (export "init") (local $i i32)
            (loop
              (i32.store8 (i32.add (i32.const 65536) (local.get $i))
                (i32.add (i32.rem_u (local.get $i) (i32.const 251)) (i32.const 1)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if 0 (i32.lt_u (local.get $i) (i32.const {bytes})))))
          (func (export "_start")
            (if (i32.eq (i32.load8_u (i32.const 66536)) (i32.const 248))
              (then (i32.store (i32.const 32) (i32.const 0)) (i32.store (i32.const 36) (i32.const 6)))
              (else (i32.store (i32.const 32) (i32.const 8)) (i32.store (i32.const 36) (i32.const 16))))
            (drop (call $fd_write (i32.const 1) (i32.const 32) (i32.const 1) (i32.const 40)))
            (loop (br 0))))"#,
        pages = SNAPSHOT_MIB * 16 + 2,
    );
    let dir = tempdir();
    let wasm = dir.path().join("filled.wasm");
    std::fs::write(&wasm, wat::parse_str(wat).unwrap()).unwrap();
    let packed = dir.path().join("filled");
    pack(&wasm, &packed, &["--init-func", "init"]);
    assert!(std::fs::metadata(&packed).unwrap().len() > u64::from(bytes));
    let (rss, output) = resident_when_ready(Command::new(&packed).env("WPACK_DEBUG", "1"));
    assert!(
        stderr(&output).contains("module loaded from the file through its ELF section index"),
        "{}",
        stderr(&output)
    );
    eprintln!("a {SNAPSHOT_MIB} MiB snapshot: {rss} KiB resident at start");
    assert!(
        rss < 16 * 1024,
        "{rss} KiB resident with a {SNAPSHOT_MIB} MiB snapshot"
    );
}
