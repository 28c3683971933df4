//! The `wasi_host` fuzz target's corpora, replayed without a fuzzer
//! (`scripts/fuzz.sh` runs the fuzzer): each input of
//! fuzz/corpus-regressions/wasi_host/ (inputs that once made it fail, kept
//! after the fix) and fuzz/corpus/wasi_host/ (the committed seeds) goes
//! through the same body as the fuzz target (fuzz/src/wasi_host.rs,
//! compiled into this test) under the same time limit. The other targets'
//! corpora are replayed by tests/fuzz_regressions.rs; this one is here, as
//! it needs this crate.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[path = "../../fuzz/src/wasi_host.rs"]
mod wasi_host;

/// What one input may take: scripts/fuzz.sh gives libFuzzer `-timeout=10`.
const TIMEOUT: Duration = Duration::from_secs(10);

fn cases(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.retain(|f| f.is_file());
    files.sort();
    files
}

#[test]
fn the_wasi_host_corpora_replay() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    wasi_host::harness();
    let mut replayed = 0;
    for folder in ["corpus-regressions", "corpus"] {
        for case in cases(&fuzz.join(folder).join("wasi_host")) {
            let name = format!("{folder}/wasi_host/{}", case.file_name().unwrap().display());
            let data = std::fs::read(&case).unwrap();
            let start = Instant::now();
            let result = std::panic::catch_unwind(|| wasi_host::wasi_host(&data));
            assert!(result.is_ok(), "fuzz target wasi_host fails on {name}");
            let took = start.elapsed();
            assert!(
                took < TIMEOUT,
                "fuzz target wasi_host took {took:?} on {name}"
            );
            replayed += 1;
        }
    }
    assert!(replayed > 0, "no corpus under {}", fuzz.display());
}

#[test]
fn the_body_knows_all_46_functions() {
    assert_eq!(wasi_host::FUNCS.len(), 46);
    let mut names: Vec<_> = wasi_host::FUNCS.iter().map(|f| f.0).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 46);
}
