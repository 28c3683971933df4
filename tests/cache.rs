//! The compile cache (WPACK_CACHE): a second pack of the same module takes
//! the code from it and writes the same bytes; a damaged entry is compiled
//! again, never used; --no-cache leaves it alone; processes sharing it at
//! once all get whole entries.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::*;

fn pack_with_cache(cache: &Path, wasm: &Path, out: &Path, extra: &[&str]) -> Output {
    let run = Command::new(wpack_bin())
        .arg(wasm)
        .arg("-o")
        .arg(out)
        .args(extra)
        .env("WPACK_CACHE", cache)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    run
}

fn entries(cache: &Path) -> Vec<std::path::PathBuf> {
    match std::fs::read_dir(cache) {
        Ok(dir) => dir.map(|e| e.unwrap().path()).collect(),
        Err(_) => vec![],
    }
}

#[test]
fn a_second_pack_takes_the_code_from_the_cache() {
    let dir = tempdir();
    let cache = dir.path().join("cache");
    let wasm = big_module(dir.path());
    let (first, second) = (dir.path().join("first"), dir.path().join("second"));
    let run = pack_with_cache(
        &cache,
        &wasm,
        &first,
        &["--target", "x86_64-linux,aarch64-linux"],
    );
    let err = stderr(&run);
    assert_eq!(err.matches("wpack: compiling ").count(), 2, "{err}");
    assert_eq!(entries(&cache).len(), 2, "one entry per compilation");

    let run = pack_with_cache(
        &cache,
        &wasm,
        &second,
        &["--target", "x86_64-linux,aarch64-linux"],
    );
    let err = stderr(&run);
    assert!(!err.contains("wpack: compiling "), "{err}");
    assert_eq!(
        err.matches("compiled code from the cache").count(),
        2,
        "{err}"
    );
    for name in ["big-x86_64-linux", "big-aarch64-linux"] {
        assert!(
            std::fs::read(first.join(name)).unwrap() == std::fs::read(second.join(name)).unwrap(),
            "{name} differs when its code comes from the cache"
        );
    }
    let out = Command::new(second.join("big-x86_64-linux"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));

    // The code depends on --cpu: another level is another entry.
    let run = pack_with_cache(
        &cache,
        &wasm,
        &dir.path().join("v3"),
        &["--target", "x86_64-linux", "--cpu", "x86-64-v3"],
    );
    assert!(
        stderr(&run).contains("wpack: compiling "),
        "{}",
        stderr(&run)
    );
    assert_eq!(entries(&cache).len(), 3);
}

#[test]
fn a_damaged_entry_is_compiled_again() {
    let dir = tempdir();
    let cache = dir.path().join("cache");
    let wasm = big_module(dir.path());
    let good = dir.path().join("good");
    pack_with_cache(&cache, &wasm, &good, &[]);
    let [entry] = entries(&cache).try_into().expect("one entry");
    let mut bytes = std::fs::read(&entry).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&entry, &bytes).unwrap();

    let again = dir.path().join("again");
    let run = pack_with_cache(&cache, &wasm, &again, &[]);
    let err = stderr(&run);
    assert!(err.contains("is damaged; compiling again"), "{err}");
    assert!(err.contains("wpack: compiling "), "{err}");
    assert!(std::fs::read(&good).unwrap() == std::fs::read(&again).unwrap());
    let out = Command::new(&again).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    // The entry was written again, whole.
    let run = pack_with_cache(&cache, &wasm, &dir.path().join("third"), &[]);
    assert!(
        stderr(&run).contains("compiled code from the cache"),
        "{}",
        stderr(&run)
    );
}

#[test]
fn no_cache_reads_and_writes_nothing() {
    let dir = tempdir();
    let cache = dir.path().join("cache");
    pack_with_cache(
        &cache,
        &sample("hello"),
        &dir.path().join("hello"),
        &["--no-cache"],
    );
    assert!(entries(&cache).is_empty());
    pack_with_cache(&cache, &sample("hello"), &dir.path().join("hello"), &[]);
    assert_eq!(entries(&cache).len(), 1);
    // An entry replaced by garbage is not read under --no-cache either.
    std::fs::write(&entries(&cache)[0], "garbage").unwrap();
    let run = pack_with_cache(
        &cache,
        &sample("hello"),
        &dir.path().join("h2"),
        &["--no-cache"],
    );
    assert!(!stderr(&run).contains("damaged"), "{}", stderr(&run));
}

/// Several wpack processes packing the same module into one cache at once.
#[test]
fn processes_share_a_cache() {
    let dir = tempdir();
    let cache = dir.path().join("cache");
    let wasm = big_module(dir.path());
    let children: Vec<_> = (0..4)
        .map(|i| {
            Command::new(wpack_bin())
                .arg(&wasm)
                .arg("-o")
                .arg(dir.path().join(format!("out{i}")))
                .arg("-q")
                .env("WPACK_CACHE", &cache)
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let first = std::fs::read(dir.path().join("out0")).unwrap();
    for i in 1..4 {
        assert!(std::fs::read(dir.path().join(format!("out{i}"))).unwrap() == first);
    }
    // No temporary file is left, and the one entry is whole.
    assert_eq!(entries(&cache).len(), 1, "{:?}", entries(&cache));
    let run = pack_with_cache(&cache, &wasm, &dir.path().join("after"), &[]);
    assert!(
        stderr(&run).contains("compiled code from the cache"),
        "{}",
        stderr(&run)
    );
}

/// An unwritable cache is a warning, never a failed pack.
#[test]
fn an_unwritable_cache_only_warns() {
    let dir = tempdir();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "").unwrap();
    let run = pack_with_cache(
        &file.join("cache"),
        &sample("hello"),
        &dir.path().join("hello"),
        &[],
    );
    let err = stderr(&run);
    assert!(
        err.contains("wpack: warning: cannot write the compile cache"),
        "{err}"
    );
    let out = Command::new(dir.path().join("hello")).output().unwrap();
    assert_eq!(stdout(&out), "Hello, world!\n");
}
