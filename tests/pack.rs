//! Packing the samples and running the results as real processes.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use common::*;

#[test]
fn hello_prints_and_exits_zero() {
    let dir = tempdir();
    let hello = pack_sample("hello", dir.path(), &[]);
    let mode = std::fs::metadata(&hello).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o755, "packed file mode");
    let out = Command::new(&hello).output().unwrap();
    assert_eq!(stdout(&out), "Hello, world!\n");
    assert_eq!(stderr(&out), "");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn default_output_is_the_stem_in_the_current_directory() {
    let dir = tempdir();
    let out = Command::new(wpack_bin())
        .arg(sample("hello"))
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("packed"),
        "summary line: {}",
        stderr(&out)
    );
    assert_eq!(list_dir(dir.path()), ["hello"]);
    let run = Command::new(dir.path().join("hello")).output().unwrap();
    assert_eq!(stdout(&run), "Hello, world!\n");
}

#[test]
fn fib_computes_and_reports_bad_arguments() {
    let dir = tempdir();
    let fib = pack_sample("fib", dir.path(), &[]);
    let out = Command::new(&fib).arg("25").output().unwrap();
    assert_eq!(stdout(&out), "fib(25) = 75025\n");
    assert_eq!(out.status.code(), Some(0));

    let out = Command::new(&fib).arg("many").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "fib: expected a number from 0 to 90, got \"many\"\n"
    );
}

#[test]
fn arguments_reach_the_program_untouched() {
    let dir = tempdir();
    let args = pack_sample("args", dir.path(), &[]);
    let given = [
        "--help",
        "--dir",
        "/",
        "",
        "two words",
        "quotes \"double\" 'single'",
        "ünïcödé ✓ 日本",
        "-o",
        "--version",
    ];
    let out = Command::new(&args).args(given).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut expected = format!("argv[0]={}\n", args.display());
    for (i, arg) in given.iter().enumerate() {
        expected.push_str(&format!("argv[{}]={arg}\n", i + 1));
    }
    // No --env and no --inherit-env: the program sees an empty environment.
    assert_eq!(stdout(&out), expected);
}

#[test]
fn argv0_is_what_the_process_was_started_as() {
    let dir = tempdir();
    pack_sample("args", dir.path(), &[]);
    let out = Command::new("./args")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        stdout(&out).starts_with("argv[0]=./args\n"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn exit_codes_follow_proc_exit() {
    let dir = tempdir();
    let args = pack_sample("args", dir.path(), &[]);
    for (code, expected) in [(0, 0), (1, 1), (42, 42), (255, 255), (256, 0), (300, 44)] {
        let out = Command::new(&args)
            .arg(format!("exit={code}"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(expected), "proc_exit({code})");
    }
}

#[test]
fn baked_environment() {
    let dir = tempdir();
    let args = pack_sample(
        "args",
        dir.path(),
        &[
            "--env",
            "FIXED=baked value",
            "--env",
            "FROM_HOST",
            "--env",
            "EMPTY=",
        ],
    );
    let out = Command::new(&args)
        .env("FROM_HOST", "host value")
        .env("NOT_BAKED", "hidden")
        .env("FIXED", "host tries to override")
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(text.contains("env FIXED=baked value\n"), "{text}");
    assert!(text.contains("env FROM_HOST=host value\n"), "{text}");
    assert!(text.contains("env EMPTY=\n"), "{text}");
    assert!(!text.contains("NOT_BAKED"), "{text}");

    // `--env NAME` with NAME unset at run time: the program does not see it.
    let out = Command::new(&args)
        .env_remove("FROM_HOST")
        .output()
        .unwrap();
    assert!(!stdout(&out).contains("FROM_HOST"), "{}", stdout(&out));
}

#[test]
fn inherit_env_passes_the_host_environment() {
    let dir = tempdir();
    let args = pack_sample("args", dir.path(), &["--inherit-env", "--env", "WIN=baked"]);
    let out = Command::new(&args)
        .env("HOST_ONLY", "seen")
        .env("WIN", "host")
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(text.contains("env HOST_ONLY=seen\n"), "{text}");
    assert!(text.contains("env WIN=baked\n"), "{text}");
}

#[test]
fn baked_directory_read_and_write() {
    let dir = tempdir();
    let copy = pack_sample("copy", dir.path(), &["--dir", "data::/work"]);
    let wc = pack_sample("wc", dir.path(), &["--dir", "data"]);
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("in.txt"), "one two\nthree\n").unwrap();

    // HOST is relative: resolved against the working directory at run time.
    let out = Command::new(&copy)
        .args(["/work/in.txt", "/work/out.txt"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "copied 14 bytes\n");
    assert_eq!(
        std::fs::read_to_string(data.join("out.txt")).unwrap(),
        "ONE TWO\nTHREE\n"
    );

    let out = Command::new(&wc)
        .arg("data/in.txt")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(stdout(&out), "2 3 14 data/in.txt\n");

    // Outside the baked directory nothing is visible.
    let out = Command::new(&wc)
        .arg("/etc/hostname")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("wc: /etc/hostname: "),
        "{}",
        stderr(&out)
    );
}

#[test]
fn missing_baked_directory_is_a_clear_error() {
    let dir = tempdir();
    let wc = pack_sample("wc", dir.path(), &["--dir", "nowhere::/data"]);
    let out = Command::new(&wc)
        .arg("/data/x")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("wc: cannot open directory \"nowhere\""),
        "{err}"
    );
}

#[test]
fn a_trap_prints_one_line_and_exits_134() {
    let dir = tempdir();
    let panic = pack_sample("panic", dir.path(), &[]);

    let out = Command::new(&panic).arg("divide").output().unwrap();
    assert_eq!(out.status.code(), Some(134));
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("panic: wasm trap: integer divide by zero"),
        "{err}"
    );
    // The backtrace names the wasm functions (from the name section).
    assert!(err.contains("(at panic::divide <- "), "{err}");

    // A Rust panic: the program's own message, then wpack's trap line.
    let out = Command::new(&panic).output().unwrap();
    assert_eq!(out.status.code(), Some(134));
    let err = stderr(&out);
    assert!(err.contains("this program panics on purpose"), "{err}");
    let last = err.lines().last().unwrap();
    assert!(
        last.starts_with("panic: wasm trap: wasm `unreachable` instruction executed"),
        "{err}"
    );
}

#[test]
fn strip_names_makes_a_smaller_file_whose_traps_name_functions_by_number() {
    let dir = tempdir();
    let named = dir.path().join("named");
    let stripped = dir.path().join("stripped");
    pack(&sample("panic"), &named, &[]);
    pack(&sample("panic"), &stripped, &["--strip-names"]);
    let size = |p: &std::path::Path| std::fs::metadata(p).unwrap().len();
    assert!(
        size(&stripped) + 4096 < size(&named),
        "{} vs {} bytes",
        size(&stripped),
        size(&named)
    );

    let out = Command::new(&stripped).arg("divide").output().unwrap();
    assert_eq!(out.status.code(), Some(134));
    let err = stderr(&out);
    assert!(
        err.starts_with("stripped: wasm trap: integer divide by zero (at wasm function "),
        "{err}"
    );
    assert!(!err.contains("panic::divide"), "{err}");
    // The program itself behaves the same.
    let out = Command::new(&stripped).output().unwrap();
    assert_eq!(out.status.code(), Some(134));
    assert!(stderr(&out).contains("this program panics on purpose"));
}

#[test]
fn packing_is_reproducible() {
    let dir = tempdir();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    pack(&sample("fib"), &a, &["--dir", ".", "--env", "X=1"]);
    pack(&sample("fib"), &b, &["--dir", ".", "--env", "X=1"]);
    assert!(
        std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap(),
        "two packs differ"
    );
}

#[test]
fn packs_with_no_toolchain_on_path_and_when_copied_alone() {
    let dir = tempdir();
    let empty_path = dir.path().join("empty-bin");
    std::fs::create_dir(&empty_path).unwrap();
    let lone = dir.path().join("lone");
    std::fs::create_dir(&lone).unwrap();
    let lone_wpack = lone.join("wpack");
    std::fs::copy(wpack_bin(), &lone_wpack).unwrap();

    let out = Command::new(&lone_wpack)
        .arg(sample("hello"))
        .args(["-o", "hello"])
        .current_dir(&lone)
        .env_clear()
        .env("PATH", &empty_path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let run = Command::new(lone.join("hello"))
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(stdout(&run), "Hello, world!\n");
}

#[test]
fn replaces_an_existing_output() {
    let dir = tempdir();
    let out = dir.path().join("prog");
    std::fs::write(&out, "old contents").unwrap();
    pack(&sample("hello"), &out, &[]);
    let run = Command::new(&out).output().unwrap();
    assert_eq!(stdout(&run), "Hello, world!\n");
    assert_eq!(
        list_dir(dir.path()),
        ["prog"],
        "no temporary file left behind"
    );
}

#[test]
fn help_and_version() {
    let out = wpack(&["--help"]);
    assert!(out.status.success());
    let help = stdout(&out);
    for needle in [
        "--dir",
        "--env",
        "--inherit-env",
        "--stub",
        "Examples:",
        "INPUT.wasm",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}");
    }
    // The version with the wasmtime that Cargo.lock pins (issue #19).
    let lock =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock")).unwrap();
    let wasmtime = lock
        .split("\n[[package]]\n")
        .find_map(|p| p.strip_prefix("name = \"wasmtime\"\nversion = \""))
        .and_then(|rest| rest.split('"').next())
        .expect("wasmtime in Cargo.lock");
    let out = wpack(&["--version"]);
    assert_eq!(
        stdout(&out),
        format!(
            "wpack {} (wasmtime {wasmtime})\n",
            env!("CARGO_PKG_VERSION")
        )
    );
}

/// `wc`'s line for `path` as read natively by the test.
fn native_wc(path: &std::path::Path, shown: &str) -> String {
    let bytes = std::fs::read(path).unwrap();
    let lines = bytes.iter().filter(|&&b| b == b'\n').count();
    let words = bytes
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
        .count();
    format!("{lines} {words} {} {shown}\n", bytes.len())
}

#[test]
fn host_fs_resolves_paths_like_a_native_program() {
    let dir = tempdir();
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(sub.join("notes.txt"), "some notes here\n").unwrap();
    std::fs::write(dir.path().join("x"), "one\ntwo three\n").unwrap();
    let wc = pack_sample("wc", dir.path(), &["--host-fs"]);
    let copy = pack_sample("copy", dir.path(), &["--host-fs"]);

    let abs_x = dir.path().join("x");
    let abs = abs_x.to_str().unwrap();
    let out = Command::new(&wc)
        .args(["notes.txt", "./notes.txt", "../x", abs, "/etc/passwd"])
        .current_dir(&sub)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let expected = [
        native_wc(&sub.join("notes.txt"), "notes.txt"),
        native_wc(&sub.join("notes.txt"), "./notes.txt"),
        native_wc(&abs_x, "../x"),
        native_wc(&abs_x, abs),
        native_wc(std::path::Path::new("/etc/passwd"), "/etc/passwd"),
    ]
    .concat();
    assert_eq!(stdout(&out), expected);

    // Writing works the same way, relative and absolute.
    let target = dir.path().join("upper.txt");
    let out = Command::new(&copy)
        .args(["notes.txt", "../upper.txt"])
        .current_dir(&sub)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "SOME NOTES HERE\n"
    );
    let out = Command::new(&copy)
        .args([abs, sub.join("abs.txt").to_str().unwrap()])
        .current_dir(&sub)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(sub.join("abs.txt")).unwrap(),
        "ONE\nTWO THREE\n"
    );
}
