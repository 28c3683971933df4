//! `wpack inspect`: describes and verifies packed files, refuses the rest.

mod common;

use common::*;

#[test]
fn describes_a_packed_file() {
    let dir = tempdir();
    let exe = pack_sample(
        "args",
        dir.path(),
        &[
            "--dir",
            "data::/data",
            "--env",
            "A=1",
            "--env",
            "HOME",
            "--inherit-env",
        ],
    );
    let out = wpack(&["inspect", exe.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for needle in [
        "Host files:     only --dir directories",
        &format!("wpack payload version {}", wpack_stub::FORMAT_VERSION),
        "Wasmtime:       48",
        "Target:         x86_64-unknown-linux-",
        "(verified)",
        "Loading:        wasmtime maps the file (ELF section index, ",
        "Module:         args.wasm",
        "data (host) as /data",
        "A=1",
        "HOME (from the host)",
        "inherited (--inherit-env)",
        "wasi_snapshot_preview1::proc_exit (function)",
        "_start (function)",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}

#[test]
fn json_output_is_one_object() {
    let dir = tempdir();
    let exe = pack_sample("hello", dir.path(), &["--env", "X=y"]);
    let out = wpack(&["inspect", "--json", exe.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["format_version"], wpack_stub::FORMAT_VERSION);
    assert_eq!(v["host_fs"], false);
    assert_eq!(v["verified"], true);
    assert_eq!(v["module_name"], "hello.wasm");
    assert_eq!(v["env"][0]["name"], "X");
    assert_eq!(v["env"][0]["value"], "y");
    let file_len = std::fs::metadata(&exe).unwrap().len();
    let payload_end = v["payload_offset"].as_u64().unwrap() + v["payload_bytes"].as_u64().unwrap();
    assert!(payload_end < file_len);
    // A Linux file carries the index: 16 bytes, then 64 per payload section.
    let index = v["elf_index_bytes"].as_u64().unwrap();
    assert!(index > 16 && (index - 16).is_multiple_of(64), "{index}");
    let imports = v["imports"].as_array().unwrap();
    assert!(
        imports
            .iter()
            .any(|i| i == "wasi_snapshot_preview1::fd_write (function)")
    );
}

#[test]
fn refuses_damaged_and_foreign_files() {
    let dir = tempdir();
    let exe = pack_sample("hello", dir.path(), &[]);
    let mut bytes = std::fs::read(&exe).unwrap();
    let payload_at = wpack_stub::payload::read(&bytes).unwrap().payload_offset as usize;
    bytes[payload_at + 100] ^= 0xff;
    let damaged = dir.path().join("damaged");
    std::fs::write(&damaged, &bytes).unwrap();
    let stub_only = dir.path().join("stub-only");
    std::fs::write(&stub_only, &bytes[..payload_at]).unwrap();

    for (file, expected) in [
        (damaged.to_str().unwrap(), "the compiled code is damaged"),
        (stub_only.to_str().unwrap(), "no wpack payload found"),
        (sample("hello").to_str().unwrap(), "no wpack payload found"),
        ("/nonexistent", "cannot read /nonexistent"),
        (dir.path().to_str().unwrap(), "is a directory"),
    ] {
        let out = wpack(&["inspect", file]);
        assert_eq!(out.status.code(), Some(1), "{file}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains(expected) && err.contains(file),
            "{file}: {err}"
        );
    }
}
