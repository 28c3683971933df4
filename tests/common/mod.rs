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

/// The reference `wasmtime` CLI (scripts/reference-wasmtime.sh installs it).
pub fn reference_wasmtime() -> PathBuf {
    let out = Command::new(root().join("scripts/reference-wasmtime.sh"))
        .output()
        .expect("scripts/reference-wasmtime.sh");
    assert!(out.status.success(), "{}", stderr(&out));
    PathBuf::from(stdout(&out).trim())
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

/// Runs `cmd`, killing it after `limit`; returns its output and whether it
/// had to be killed. Retries when the kernel reports the file busy (ETXTBSY):
/// a file this test process just wrote can still be open in a child that
/// another test thread is forking at the same moment.
pub fn run_with_timeout(
    cmd: &mut std::process::Command,
    limit: std::time::Duration,
) -> (Output, bool) {
    use std::process::Stdio;
    let mut child = None;
    for _ in 0..50 {
        match cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn() {
            Ok(c) => {
                child = Some(c);
                break;
            }
            Err(e) if e.raw_os_error() == Some(26) => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            Err(e) => panic!("cannot start {cmd:?}: {e}"),
        }
    }
    let mut child = child.expect("file stayed busy");
    let deadline = std::time::Instant::now() + limit;
    let mut killed = false;
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            killed = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    (child.wait_with_output().unwrap(), killed)
}

/// Runs wpack on `input` with output into an empty directory and checks that
/// it fails with one line containing `expected`, writes nothing and leaves
/// the input as it was.
pub fn refuses(input: &Path, extra: &[&str], expected: &str) {
    let dir = tempdir();
    let before = std::fs::read(input).ok();
    let out_path = dir.path().join("out");
    let mut args = vec![input.to_str().unwrap(), "-o", out_path.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = wpack(&args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "exit code; stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line expected: {err}");
    assert!(err.starts_with("wpack: error: "), "{err}");
    assert!(err.contains(expected), "expected {expected:?} in: {err}");
    assert_eq!(
        list_dir(dir.path()),
        Vec::<String>::new(),
        "nothing written"
    );
    assert_eq!(std::fs::read(input).ok(), before, "input unchanged");
}

/// Asserts that `text` contains every one of `lines`; `what` names the run.
pub fn assert_contains_all(what: &str, text: &str, lines: &[&str]) {
    for line in lines {
        assert!(text.contains(line), "{what}: {line:?} missing in:\n{text}");
    }
}

/// Writes `bytes` to `path` as an executable file.
pub fn write_executable(path: &Path, bytes: &[u8]) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, bytes).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The modules in tests/wasi/features/, one per WebAssembly proposal that
/// wpack (like `wasmtime run`) enables by default; each exits with 42.
pub const DEFAULT_FEATURES: [&str; 9] = [
    "simd",
    "bulk_memory",
    "reference_types",
    "multi_value",
    "tail_call",
    "exceptions",
    "threads_atomics",
    "gc",
    "memory64",
];

/// Assembles tests/wasi/features/NAME.wat into NAME.wasm in `dir`.
pub fn assemble_feature(name: &str, dir: &Path) -> PathBuf {
    let source = root()
        .join("tests/wasi/features")
        .join(format!("{name}.wat"));
    let wasm = wat::parse_file(&source).unwrap_or_else(|e| panic!("{name}.wat: {e}"));
    let path = dir.join(format!("{name}.wasm"));
    std::fs::write(&path, wasm).unwrap();
    path
}

/// Every target `wpack --list-targets` names.
pub const ALL_TARGETS: [&str; 6] = [
    "x86_64-linux",
    "x86_64-linux-gnu",
    "aarch64-linux",
    "x86_64-windows",
    "aarch64-macos",
    "x86_64-macos",
];

/// The targets `wpack --list-targets` says this wpack carries a stub for.
pub fn targets_carried() -> Vec<String> {
    targets_carried_by(&wpack_bin())
}

/// The same for another wpack executable.
pub fn targets_carried_by(wpack: &Path) -> Vec<String> {
    let out = Command::new(wpack)
        .arg("--list-targets")
        .output()
        .expect("cannot run wpack");
    assert!(out.status.success());
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    lines
        .chunks(2)
        .filter(|pair| pair.len() == 2 && pair[1].contains("stubs built in"))
        .map(|pair| pair[0].split_whitespace().next().unwrap().to_string())
        .collect()
}

/// `VmRSS` of a running process, in KiB.
pub fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("VmRSS in /proc/PID/status");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Starts `cmd`, a program that prints "ready" and then spins, and returns
/// its resident memory (KiB) once it said so, and its output after it was
/// killed.
pub fn resident_when_ready(cmd: &mut Command) -> (u64, Output) {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let rss = resident_kib(child.id());
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(line, "ready\n", "{}", stderr(&output));
    (rss, output)
}

/// A stub as packer/build.rs built it, for `triple` and kind (`"module"` or
/// `"component"`): each kind has a cargo profile of its own.
#[allow(dead_code)]
pub fn built_stub_path(triple: &str, kind: &str) -> PathBuf {
    let (profile, bin) = match kind {
        "module" => ("stub-module", "wpack-stub"),
        _ => ("stub", "wpack-stub-component"),
    };
    let exe = if triple.contains("windows") {
        ".exe"
    } else {
        ""
    };
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
        .join("wpack-stub")
        .join(triple)
        .join(profile)
        .join(format!("{bin}{exe}"))
}

/// Builds tests/wine/bcryptprimitives.c into `dir`, next to the .exe files:
/// wine 8.0 lacks that DLL, which Windows 10+ has (see the file).
pub fn wine_shim(dir: &Path) {
    let status = Command::new("x86_64-w64-mingw32-gcc")
        .args(["-shared", "-O2", "-o"])
        .arg(dir.join("bcryptprimitives.dll"))
        .arg(root().join("tests/wine/bcryptprimitives.c"))
        .arg("-ladvapi32")
        .status()
        .expect("x86_64-w64-mingw32-gcc (scripts/install-targets.sh installs it)");
    assert!(status.success());
}

/// A module of 40 000 small functions, over wpack's 1 MiB threshold for
/// saying that it compiles (and showing progress), written to `dir`.
pub fn big_module(dir: &Path) -> PathBuf {
    let mut wat =
        String::from("(module (memory (export \"memory\") 1) (func (export \"_start\"))\n");
    for i in 0..40_000 {
        wat.push_str(&format!(
            "(func (export \"f{i}\") (param i32) (result i32) local.get 0 i32.const {i} i32.mul i32.const 7 i32.add local.get 0 i32.xor)\n"
        ));
    }
    wat.push(')');
    let wasm = dir.join("big.wasm");
    std::fs::write(&wasm, wat::parse_str(&wat).unwrap()).unwrap();
    assert!(std::fs::metadata(&wasm).unwrap().len() > 1 << 20);
    wasm
}
