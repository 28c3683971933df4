//! Bad input to the packer: a clear one-line error, a non-zero exit code,
//! nothing written and nothing changed.

mod common;

use std::path::Path;

use common::*;

fn write_temp(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn missing_file() {
    refuses(
        Path::new("/nonexistent/app.wasm"),
        &[],
        "cannot read /nonexistent/app.wasm",
    );
}

#[test]
fn directory_as_input() {
    let dir = tempdir();
    refuses(dir.path(), &[], "is a directory");
}

#[test]
fn not_wasm_empty_truncated_invalid() {
    let dir = tempdir();
    let d = dir.path();
    refuses(
        &write_temp(d, "text.wasm", b"hello, world\n"),
        &[],
        "is not a WebAssembly module",
    );
    refuses(&write_temp(d, "empty.wasm", b""), &[], "is empty");
    let hello = std::fs::read(sample("hello")).unwrap();
    refuses(
        &write_temp(d, "cut.wasm", &hello[..hello.len() / 2]),
        &[],
        "is not valid WebAssembly",
    );
    // A type section that claims more bytes than it has.
    let bad = b"\0asm\x01\x00\x00\x00\x01\x05\x01\x60\x00";
    refuses(
        &write_temp(d, "bad.wasm", bad),
        &[],
        "is not valid WebAssembly",
    );
}

#[test]
fn empty_component_is_not_a_command() {
    let dir = tempdir();
    let component = write_temp(dir.path(), "c.wasm", b"\0asm\x0d\x00\x01\x00");
    refuses(
        &component,
        &[],
        "is a component that exports nothing, not `wasi:cli/run`",
    );
    // Cut short inside a section: a parse error, not a crash.
    let hello = std::fs::read(root().join("samples/hello/hello-p2.wasm")).unwrap();
    for len in [9, 100, hello.len() / 2, hello.len() - 1] {
        let cut = write_temp(dir.path(), "cut.wasm", &hello[..len]);
        refuses(&cut, &[], "is not valid WebAssembly");
    }
}

#[test]
fn module_with_env_import_lists_it() {
    refuses(&fixture("env_import.wasm"), &[], "imports `env::host_log`");
}

#[test]
fn library_module_without_start() {
    refuses(
        &fixture("reactor.wasm"),
        &[],
        "exports no `_start` function",
    );
}

#[test]
fn output_directory_missing() {
    let dir = tempdir();
    let out = dir.path().join("missing").join("hello");
    let result = wpack(&[
        sample("hello").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(result.status.code(), Some(1));
    let err = stderr(&result);
    assert!(err.contains("does not exist"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(list_dir(dir.path()), Vec::<String>::new());
}

#[test]
fn output_equal_to_input() {
    let dir = tempdir();
    let copy = dir.path().join("hello.wasm");
    std::fs::copy(sample("hello"), &copy).unwrap();
    let before = std::fs::read(&copy).unwrap();
    let out = wpack(&[copy.to_str().unwrap(), "-o", copy.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is the input file"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(&copy).unwrap(), before);
}

#[test]
fn bad_stubs() {
    let dir = tempdir();
    let text = write_temp(dir.path(), "stub.txt", b"#!/bin/sh\necho not a stub\n");
    refuses(
        &sample("hello"),
        &["--stub", text.to_str().unwrap()],
        "is not an executable",
    );

    let packed = dir.path().join("packed");
    pack(&sample("hello"), &packed, &[]);
    refuses(
        &sample("hello"),
        &["--stub", packed.to_str().unwrap()],
        "already carries a payload",
    );
}

#[test]
fn malformed_dir_and_env_are_usage_errors() {
    for args in [
        ["--dir", ""],
        ["--dir", "x::"],
        ["--env", "=v"],
        ["--env", ""],
    ] {
        let dir = tempdir();
        let out_path = dir.path().join("out");
        let mut all = vec![sample("hello").to_str().unwrap().to_owned()];
        all.extend(["-o".to_owned(), out_path.to_str().unwrap().to_owned()]);
        all.extend(args.iter().map(|s| s.to_string()));
        let out = wpack(&all.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(args[0]), "{args:?}: {}", stderr(&out));
        assert_eq!(list_dir(dir.path()), Vec::<String>::new());
    }
}

#[test]
fn output_in_a_read_only_directory() {
    // /proc refuses new files even for root, unlike a chmod-ed directory.
    let out = wpack(&[
        sample("hello").to_str().unwrap(),
        "-o",
        "/proc/wpack-test-out",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("cannot write /proc/wpack-test-out"), "{err}");
}

#[test]
fn output_equal_to_wpack_itself() {
    let dir = tempdir();
    let copy = dir.path().join("wpack");
    std::fs::copy(wpack_bin(), &copy).unwrap();
    let before = std::fs::read(&copy).unwrap();
    let out = std::process::Command::new(&copy)
        .arg(sample("hello"))
        .arg("-o")
        .arg(&copy)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is this wpack executable"),
        "{}",
        stderr(&out)
    );
    assert!(
        std::fs::read(&copy).unwrap() == before,
        "wpack was modified"
    );
}

#[test]
fn stub_for_another_architecture_or_platform() {
    let dir = tempdir();
    // Take the real stub from a packed file and relabel its ELF machine as
    // RISC-V (e_machine, offset 18).
    let packed = dir.path().join("packed");
    pack(&sample("hello"), &packed, &[]);
    let file = std::fs::read(&packed).unwrap();
    let mut stub = wpack_stub::payload::read(&file)
        .unwrap()
        .original_stub()
        .into_owned();
    stub[18..20].copy_from_slice(&243u16.to_le_bytes());
    let riscv = write_temp(dir.path(), "riscv-stub", &stub);
    refuses(
        &sample("hello"),
        &["--stub", riscv.to_str().unwrap()],
        "unsupported architecture",
    );

    let pe = write_temp(dir.path(), "stub.exe", b"MZ\x90\x00 not really a PE file");
    refuses(
        &sample("hello"),
        &["--stub", pe.to_str().unwrap()],
        "is not an executable",
    );
}

#[test]
fn missing_stub_file() {
    refuses(
        &sample("hello"),
        &["--stub", "/nonexistent/stub"],
        "cannot read the stub /nonexistent/stub",
    );
}

#[test]
fn dir_missing_at_pack_time_warns_but_packs() {
    let dir = tempdir();
    let out = dir.path().join("wc");
    let result = std::process::Command::new(wpack_bin())
        .arg(sample("wc"))
        .args(["-o", out.to_str().unwrap(), "--dir", "no-such-dir-here"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(result.status.success(), "{}", stderr(&result));
    assert!(
        stderr(&result).contains("warning: --dir no-such-dir-here: no such directory here"),
        "{}",
        stderr(&result)
    );
    assert!(out.exists());
}

/// A module that cannot compile is refused by validation, before any
/// function is compiled: the function that fails is named, nothing written.
#[test]
fn an_invalid_last_function_is_named_before_compiling() {
    let dir = tempdir();
    let wasm = dir.path().join("big.wasm");
    let made = std::process::Command::new("python3")
        .arg(root().join("bench/gen_large_wasm.py"))
        .arg(&wasm)
        .args(["--functions", "20000", "--invalid-last"])
        .output()
        .expect("python3 runs bench/gen_large_wasm.py");
    assert!(made.status.success(), "{}", stderr(&made));
    refuses(&wasm, &[], "function 20000, at offset 0x");
    let out_path = dir.path().join("out");
    let out = wpack(&[wasm.to_str().unwrap(), "-o", out_path.to_str().unwrap()]);
    let err = stderr(&out);
    assert!(err.contains("type mismatch"), "{err}");
    assert!(!err.contains("compiling"), "{err}");
}

#[test]
fn legacy_exceptions_are_refused_with_the_fix() {
    let dir = tempdir();
    let wat = write_temp(
        dir.path(),
        "legacy.wat",
        br#"(module
          (tag $e)
          (func $thrower (export "_start")
            try
              throw $e
            catch $e
            end))"#,
    );
    refuses(&wat, &[], "standard exception-handling proposal");
}
