//! The fuzz corpora, replayed without a fuzzer (`scripts/fuzz.sh` runs the
//! fuzzers). Each input goes through the same body its fuzz target runs
//! (fuzz/src/bodies.rs, compiled into this test), under the same leak and
//! allocation checks and a time limit:
//!
//! * fuzz/corpus-regressions/TARGET/: inputs that once crashed a target,
//!   kept after the fix;
//! * fuzz/corpus/TARGET/: a small committed seed corpus;
//! * generated seeds: small packed files of every layout, and real files
//!   the built wpack packs for every target it carries, module and
//!   component (too large to commit).
//!
//! With `WPACK_FUZZ_SEEDS=DIR` the generated seeds are also written to
//! DIR/TARGET/, where `scripts/fuzz.sh` starts the fuzzers from.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use wpack_stub::payload;

#[allow(dead_code)] // `wpack inspect`'s signature check; the rest serves the seeds
#[path = "../packer/src/codesign.rs"]
mod codesign;

#[path = "../fuzz/src/bodies.rs"]
mod bodies;

#[global_allocator]
static ALLOCATOR: bodies::Counting = bodies::Counting;

/// What one input may take: scripts/fuzz.sh gives libFuzzer `-timeout=10`.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Targets whose body is not in bodies.rs, and whose corpora another test
/// replays: `wasi_host` (fuzz/src/wasi_host.rs) needs wpack-wasi, which
/// this crate does not depend on; wasi/tests/fuzz_corpus.rs replays it.
const REPLAYED_ELSEWHERE: &[&str] = &["wasi_host"];

fn body(target: &str) -> bodies::Body {
    bodies::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .unwrap_or_else(|| panic!("no fuzz target {target:?} in fuzz/src/bodies.rs"))
        .1
}

/// Runs `target`'s body on `data` as its fuzz target would; a failure names
/// the case.
fn replay(target: &str, case: &str, data: &[u8]) {
    let start = Instant::now();
    let result = std::panic::catch_unwind(|| bodies::run(body(target), data));
    assert!(result.is_ok(), "fuzz target {target} fails on {case}");
    let took = start.elapsed();
    assert!(
        took < TIMEOUT,
        "fuzz target {target} took {took:?} on {case}"
    );
}

/// Writes a generated seed where `scripts/fuzz.sh` asked for them.
fn keep_seed(target: &str, name: &str, data: &[u8]) {
    if let Some(dir) = std::env::var_os("WPACK_FUZZ_SEEDS") {
        let dir = Path::new(&dir).join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), data).unwrap();
    }
}

fn cases(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.retain(|f| f.is_file());
    files.sort();
    files
}

#[test]
fn the_allocator_counts() {
    let before = bodies::held();
    let kept = vec![0u8; 1000];
    assert!(bodies::held() - before >= 1000);
    drop(kept);
    assert_eq!(bodies::held(), before);
    let copy: bodies::Body = |data| std::mem::forget(data.to_vec());
    bodies::run(copy, &[0; 100]); // no more than the input: allowed
    let more: bodies::Body = |data| std::mem::forget(vec![0u8; data.len() + 1]);
    let leak = std::panic::catch_unwind(|| bodies::run(more, &[0; 100]));
    assert!(leak.is_err(), "a leak went unnoticed");
}

#[test]
fn crash_cases_and_the_seed_corpus_replay() {
    let fuzz = root().join("fuzz");
    let mut replayed = 0;
    for folder in ["corpus-regressions", "corpus"] {
        for dir in std::fs::read_dir(fuzz.join(folder)).unwrap() {
            let dir = dir.unwrap().path();
            if !dir.is_dir() {
                continue; // a README
            }
            let target = dir.file_name().unwrap().to_str().unwrap();
            if REPLAYED_ELSEWHERE.contains(&target) {
                continue;
            }
            body(target); // every folder is a target's
            for case in cases(&dir) {
                let name = format!("{folder}/{target}/{}", case.file_name().unwrap().display());
                replay(target, &name, &std::fs::read(&case).unwrap());
                replayed += 1;
            }
        }
    }
    assert!(replayed > 0, "no corpus under {}", fuzz.display());
}

#[test]
fn generated_seeds_are_packed_files_and_replay() {
    for (target, name, data) in bodies::seeds() {
        if name.ends_with("-packed") {
            let packed = payload::read(&data).unwrap_or_else(|e| panic!("{name}: {e}"));
            packed.verify_payload().unwrap();
        }
        replay(target, &format!("seed {target}/{name}"), &data);
        keep_seed(target, &name, &data);
    }
}

/// What wpack writes for every target it carries: hello as a module and as
/// a component, and with --include, --dir, --env, --arg for the default
/// target. Condensed, these are the `packed_file` target's seeds.
fn real_packed_files(dir: &Path) -> Vec<PathBuf> {
    let hello = sample("hello");
    let component = root().join("samples/hello/hello-p2.wasm");
    let mut files = Vec::new();
    for target in targets_carried() {
        for (kind, wasm) in [("module", &hello), ("component", &component)] {
            let out = dir.join(format!("hello-{kind}-{target}"));
            pack(wasm, &out, &["--target", &target]);
            files.push(out);
        }
    }
    // Every part of the manifest, an embedded tree (the samples).
    let out = dir.join("hello-configured");
    let include = format!("{}::/app", root().join("samples").display());
    let options = ["--include", &include, "--dir", ".::/work", "--env", "A=1"];
    pack(
        &hello,
        &out,
        &[&options[..], &["--env", "HOME", "--arg", "-v"]].concat(),
    );
    files.push(out);
    files
}

#[test]
fn real_packed_files_of_every_target_replay() {
    let dir = tempdir();
    for file in real_packed_files(dir.path()) {
        let name = file.file_name().unwrap().to_str().unwrap().to_owned();
        let data = std::fs::read(&file).unwrap();
        let packed = payload::read(&data).unwrap_or_else(|e| panic!("{name}: {e}"));
        packed.verify_payload().unwrap();
        for target in ["payload_read", "packed_file", "inspect"] {
            replay(target, &name, &data);
        }
        // Condensed, it keeps everything its readers look at.
        let condensed = bodies::condense(&data);
        let expanded = bodies::expand(&condensed).unwrap();
        let again = payload::read(&expanded).unwrap_or_else(|e| panic!("{name}, condensed: {e}"));
        assert_eq!(again.manifest, packed.manifest, "{name}");
        assert_eq!(again.payload.len(), packed.payload.len(), "{name}");
        assert_eq!(again.elf_index, packed.elf_index, "{name}");
        replay("packed_file", &format!("{name}, condensed"), &condensed);
        keep_seed("packed_file", &format!("{name}.condensed"), &condensed);
    }
}

/// The real `wpack inspect` on every input of the `inspect` target: it
/// describes the file or refuses it in one line, never panics.
#[test]
fn wpack_inspect_refuses_or_describes_every_inspect_case() {
    let fuzz = root().join("fuzz");
    let dir = tempdir();
    let mut files = cases(&fuzz.join("corpus-regressions/inspect"));
    files.extend(cases(&fuzz.join("corpus/inspect")));
    for (target, name, data) in bodies::seeds() {
        if target == "inspect" {
            let path = dir.path().join(name);
            std::fs::write(&path, data).unwrap();
            files.push(path);
        }
    }
    for file in files {
        let out = Command::new(wpack_bin())
            .arg("inspect")
            .arg(&file)
            .output()
            .unwrap();
        let err = stderr(&out);
        let what = file.display();
        assert!(!err.contains("panicked"), "{what}: {err}");
        match out.status.code() {
            Some(0) => assert!(stdout(&out).contains("(verified)"), "{what}"),
            Some(1) => assert_eq!(err.lines().count(), 1, "{what}: {err}"),
            other => panic!("{what}: exit status {other:?}: {err}"),
        }
    }
}

/// A universal macOS file as wpack writes it, through the `fat` target and
/// the readers of a whole file (the stub reads the slice of this machine's
/// CPU). Not a seed: at 4 MB it is past the fuzzer's input length, and the
/// generated `universal-packed` seed has the same layout.
#[test]
fn a_real_universal_file_replays() {
    let dir = tempdir();
    let out = dir.path().join("hello-universal");
    pack(&sample("hello"), &out, &["--target", "universal-macos"]);
    let data = std::fs::read(&out).unwrap();
    for target in ["fat", "payload_read", "inspect"] {
        replay(target, "hello-universal", &data);
    }
}
