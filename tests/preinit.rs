//! Pre-initialization (`--init-func`): the init function runs at pack time,
//! sees only what is fixed then, and the packed program starts from its
//! snapshot; bad modules and options are refused in one line. Which targets
//! run such a file is in tests/targets.rs, the memory it maps in
//! tests/memory.rs.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

const INIT: [&str; 2] = ["--init-func", "wizer-initialize"];

/// A directory with what tests/fixtures/preinit_world.rs reads: `data/`
/// (given with --dir) and `app/` (embedded with --include).
fn world_dir() -> TempDir {
    let dir = tempdir();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    std::fs::create_dir_all(dir.path().join("app")).unwrap();
    std::fs::write(dir.path().join("data/x.txt"), "x-data").unwrap();
    std::fs::write(dir.path().join("app/hello.txt"), "hello, embedded world").unwrap();
    dir
}

/// Packs the world fixture in `dir` with `extra` options and runs it there
/// with arguments `a b` and `PASSED=p`; returns wpack's stderr and the
/// program's stdout.
fn pack_and_run_world(dir: &Path, extra: &[&str]) -> (String, String) {
    let app = format!("{}::/app", dir.join("app").display());
    let out = dir.join("world");
    let mut args = vec![
        fixture("preinit_world.wasm").to_str().unwrap().to_owned(),
        "-o".into(),
        out.to_str().unwrap().into(),
    ];
    for arg in [
        "--arg",
        "fixed",
        "--env",
        "FIXED=f",
        "--env",
        "PASSED",
        "--dir",
        "data",
        "--include",
        &app,
    ] {
        args.push(arg.into());
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let packed = Command::new(wpack_bin())
        .args(&args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(packed.status.success(), "{}", stderr(&packed));
    let run = Command::new(&out)
        .args(["a", "b"])
        .env("PASSED", "p")
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    (stderr(&packed), stdout(&run))
}

#[test]
fn the_init_sees_only_what_is_fixed_at_pack_time() {
    let dir = world_dir();
    let (packing, out) = pack_and_run_world(dir.path(), &INIT);
    // Its output went to wpack's stderr, not into the program.
    assert!(packing.contains("init says hello"), "{packing}");
    assert!(
        packing.contains("wpack: ran wizer-initialize in"),
        "{packing}"
    );
    assert!(!out.contains("init says hello"), "{out}");
    assert_contains_all(
        "pre-initialized",
        &out,
        &[
            // The name the output has, the --arg values, the fixed --env.
            "init: argv0=world\n",
            "init: args=[\"fixed\"]\n",
            "init: FIXED=f\n",
            // Not there at init: --env NAME values, stdin (closed: Rust
            // reads EBADF as end of file), host directories (ENOTCAPABLE).
            "init: PASSED=unset\n",
            "init: stdin=\"0 bytes\"\n",
            "init: dir=errno 76\n",
            // The embedded tree is: the file opened then is still open at
            // run time, at the same position.
            "init: head=\"hello,\"\n",
            "run: rest=\" embedded world\"\n",
            // Run time: the user's arguments, and the --dir directory (the
            // preopen list the C library read at init is the same).
            "run: args=[\"fixed\", \"a\", \"b\"]\n",
            "run: dir=\"x-data\"\n",
            "run: FIXED=f\n",
            // The documented pitfall: wasi-libc read the environment at init
            // and keeps that copy.
            "run: PASSED=unset\n",
        ],
    );

    // Without --init-func the same program does its init at run time.
    let (_, plain) = pack_and_run_world(dir.path(), &[]);
    assert_contains_all(
        "not pre-initialized",
        &plain,
        &[
            "not pre-initialized\n",
            "run: PASSED=p\n",
            "run: dir=\"x-data\"\n",
        ],
    );

    // The documented fix: forget the environment at the end of the init.
    let (_, reset) = pack_and_run_world(
        dir.path(),
        &["--init-func", "wizer-initialize", "--arg", "reset-env"],
    );
    assert_contains_all(
        "reset-env",
        &reset,
        &["init: PASSED=unset\n", "run: PASSED=p\n"],
    );
}

#[test]
fn inspect_tells_how_it_was_initialized() {
    let dir = world_dir();
    pack_and_run_world(
        dir.path(),
        &["--init-func", "wizer-initialize", "--keep-init-func"],
    );
    let exe = dir.path().join("world");
    let text = stdout(&wpack(&["inspect", exe.to_str().unwrap()]));
    assert!(
        text.contains("Initialized:    at pack time, by `wizer-initialize` (--init-func), still exported, 1 embedded files left open"),
        "{text}"
    );
    assert!(text.contains("wizer-initialize (function)"), "kept: {text}");
    let json: serde_json::Value = serde_json::from_str(&stdout(&wpack(&[
        "inspect",
        "--json",
        exe.to_str().unwrap(),
    ])))
    .unwrap();
    assert_eq!(json["pre_initialized"]["func"], "wizer-initialize");
    assert_eq!(json["pre_initialized"]["open"][0]["position"], 6);

    // Without --keep-init-func the export is gone; without --init-func
    // inspect says so.
    pack_and_run_world(dir.path(), &INIT);
    let text = stdout(&wpack(&["inspect", exe.to_str().unwrap()]));
    assert!(!text.contains("wizer-initialize (function)"), "{text}");
    pack_and_run_world(dir.path(), &[]);
    let text = stdout(&wpack(&["inspect", exe.to_str().unwrap()]));
    assert!(
        text.contains("Initialized:    at each start (not pre-initialized)"),
        "{text}"
    );
}

/// wasi-libc lists the preopens once (`fd_prestat_get`) and keeps the
/// list; with --host-fs that list is only known where the program runs.
#[test]
fn host_fs_preopens_cannot_be_frozen() {
    let dir = tempdir();
    let lists = wat_file(
        dir.path(),
        "lists",
        r#"(module
          (import "wasi_snapshot_preview1" "fd_prestat_get"
            (func $prestat (param i32 i32) (result i32)))
          (memory (export "memory") 1)
          (func (export "init") (drop (call $prestat (i32.const 3) (i32.const 0))))
          (func (export "_start")))"#,
    );
    refuses(
        &lists,
        &["--init-func", "init", "--host-fs"],
        "--init-func init: the init function listed the preopened directories, which --host-fs decides only where the program runs",
    );
    // Without --host-fs the same init is fine, and so is --host-fs with an
    // init that opens nothing.
    pack(
        &lists,
        &dir.path().join("lists"),
        &["--init-func", "init", "--dir", "."],
    );
    let quiet = wat_file(dir.path(), "quiet", &module_with_init(""));
    pack(
        &quiet,
        &dir.path().join("quiet"),
        &["--init-func", "init", "--host-fs"],
    );
}

fn wat_file(dir: &Path, name: &str, wat: &str) -> PathBuf {
    let path = dir.join(format!("{name}.wasm"));
    std::fs::write(&path, wat::parse_str(wat).unwrap()).unwrap();
    path
}

/// A command module whose exports are `_start`, `init` (`[] -> []`) and
/// `other` (`[i32] -> [i32]`), with `body` as the body of `init`.
fn module_with_init(body: &str) -> String {
    format!(
        r#"(module
          (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (memory (export "memory") 1)
          (table 1 funcref)
          (func $deep {body})
          (func $init (export "init") (call $deep))
          (func (export "other") (param i32) (result i32) (local.get 0))
          (func (export "_start")))"#
    )
}

#[test]
fn bad_init_functions_are_refused_in_one_line() {
    let dir = tempdir();
    let plain = wat_file(dir.path(), "plain", &module_with_init(""));
    refuses(
        &plain,
        &INIT,
        "has no export `wizer-initialize` to run with --init-func; functions it exports that could be: `init`",
    );
    refuses(
        &plain,
        &["--init-func", "other"],
        "--init-func other: the export is a function of type `[i32] -> [i32]`, but an init function takes no parameters and returns nothing (`[] -> []`)",
    );
    refuses(
        &plain,
        &["--init-func", "memory"],
        "--init-func memory: the export is a memory, not a function",
    );
    refuses(
        &plain,
        &["--init-func", "_start"],
        "`_start` runs the program",
    );

    let trap = wat_file(dir.path(), "trap", &module_with_init("unreachable"));
    refuses(
        &trap,
        &["--init-func", "init"],
        "--init-func init: the init function trapped: wasm trap: wasm `unreachable` instruction executed (at deep <- init)",
    );
    let exit = wat_file(
        dir.path(),
        "exit",
        &module_with_init("(call $exit (i32.const 3))"),
    );
    refuses(
        &exit,
        &["--init-func", "init"],
        "the init function called exit(3) (proc_exit); it must return to be snapshotted",
    );
    let table = wat_file(
        dir.path(),
        "table",
        &module_with_init("(table.set (i32.const 0) (ref.null func))"),
    );
    refuses(
        &table,
        &["--init-func", "init"],
        "cannot be pre-initialized: unsupported `table.set` instruction",
    );
    let shared = wat_file(
        dir.path(),
        "shared",
        r#"(module (memory 1 1 shared) (func (export "init")) (func (export "_start")))"#,
    );
    refuses(
        &shared,
        &["--init-func", "init"],
        "it declares a shared memory",
    );
    let imported = wat_file(
        dir.path(),
        "imported",
        r#"(module (import "wasi_snapshot_preview1" "memory" (memory 1))
             (func (export "init")) (func (export "_start")))"#,
    );
    refuses(
        &imported,
        &["--init-func", "init"],
        "cannot be pre-initialized: imported memories are not supported",
    );
    // A rename that takes `_start` away leaves no program.
    refuses(
        &plain,
        &["--init-func", "init", "--rename-func", "begin=_start", "-q"],
        "pre-initialized by init: exports no `_start` function",
    );
    refuses(
        &plain,
        &[
            "--init-func",
            "init",
            "--rename-func",
            "_start=wizer.resume",
        ],
        "--rename-func _start=wizer.resume: it exports no function `wizer.resume` to rename",
    );
    refuses(
        &root().join("samples/hello/hello-p2.wasm"),
        &INIT,
        "--init-func is for core modules; this is a WASI 0.2 component",
    );
}

#[test]
fn init_options_need_init_func_and_a_valid_rename() {
    let hello = sample("hello");
    let hello = hello.to_str().unwrap();
    for (args, expected) in [
        (vec![hello, "--keep-init-func"], "--init-func <FUNC>"),
        (vec![hello, "--rename-func", "a=b"], "--init-func <FUNC>"),
        (
            vec![hello, "--init-func", "x", "--rename-func", "nothing"],
            "give the new export name and the old one, as DST=SRC",
        ),
    ] {
        let out = wpack(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&out).contains(expected),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn a_long_init_reports_progress() {
    let dir = tempdir();
    // About a billion additions: long enough for a few 20 ms ticks.
    let slow = wat_file(
        dir.path(),
        "slow",
        &module_with_init(
            "(local i32) (loop (local.set 0 (i32.add (local.get 0) (i32.const 1)))
               (br_if 0 (i32.lt_u (local.get 0) (i32.const 1000000000))))",
        ),
    );
    let out = Command::new(wpack_bin())
        .arg(&slow)
        .arg("-o")
        .arg(dir.path().join("slow"))
        .args(["--init-func", "init"])
        .env("WPACK_PROGRESS_MS", "20")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("wpack: initializing: "), "{err}");
    assert!(err.contains("wpack: ran init in "), "{err}");
    let run = Command::new(dir.path().join("slow")).output().unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
}

/// Runs `exe ARGS` with `PREINIT_GREETING=hi`; returns (exit code, stdout).
fn run_greeted(exe: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(exe)
        .args(args)
        .env("PREINIT_GREETING", "hi")
        .output()
        .unwrap();
    (out.status.code(), stdout(&out))
}

/// `wasmtime wizer` (`-S cli=y`: without it wasmtime 48 links no WASI for
/// the init) with `wizer_args`, then `wasmtime run` of its output with
/// `run_args` and `PREINIT_GREETING=hi`: the reference for a packed file.
fn wizer_and_run(
    wasm: &Path,
    dir: &Path,
    wizer_args: &[&str],
    run_args: &[&str],
) -> (Option<i32>, String) {
    let wasmtime = reference_wasmtime();
    let snapshot = dir.join("wizened.wasm");
    let wizer = Command::new(&wasmtime)
        .args(["wizer", "-S", "cli=y"])
        .args(wizer_args)
        .arg(wasm)
        .arg("-o")
        .arg(&snapshot)
        .output()
        .unwrap();
    assert!(wizer.status.success(), "{}", stderr(&wizer));
    let run = Command::new(&wasmtime)
        .args(["run", "--env", "PREINIT_GREETING=hi"])
        .arg(&snapshot)
        .args(run_args)
        .output()
        .unwrap();
    (run.status.code(), stdout(&run))
}

/// The Rust sample builds a table in `wizer-initialize` and reads its
/// arguments and environment in `main`: the same output packed with and
/// without --init-func, and as `wasmtime wizer` + `wasmtime run`. (Its
/// start-up, about 100x faster pre-initialized, is measured by
/// `bench/run.py --only preinit`, not here.)
#[test]
fn the_rust_sample_runs_the_same_preinitialized() {
    let dir = tempdir();
    let wasm = sample("preinit");
    let plain = dir.path().join("plain");
    let init = dir.path().join("init");
    pack(&wasm, &plain, &["--env", "PREINIT_GREETING"]);
    pack(
        &wasm,
        &init,
        &[
            "--env",
            "PREINIT_GREETING",
            "--init-func",
            "wizer-initialize",
        ],
    );
    let args = ["2", "97", "1000", "33554393"];
    let (code, expected) = run_greeted(&plain, &args);
    assert_eq!(code, Some(0));
    assert!(expected.contains("greeting: hi\n"), "{expected}");
    assert!(expected.contains("97 is prime"), "{expected}");
    assert_eq!(run_greeted(&init, &args), (Some(0), expected.clone()));
    assert_eq!(
        wizer_and_run(
            &wasm,
            dir.path(),
            &["--init-func", "wizer-initialize"],
            &args
        ),
        (Some(0), expected)
    );

    // The pitfall: a seed drawn at init is the same at every run.
    let seeds = |exe: &Path| -> (String, String) {
        let out = run_greeted(exe, &["--seed"]).1;
        let line = |prefix: &str| {
            out.lines()
                .find(|l| l.starts_with(prefix))
                .unwrap_or_else(|| panic!("{prefix} in {out}"))
                .to_owned()
        };
        (line("seed drawn at init:"), line("seed drawn now:"))
    };
    let (init_1, now_1) = seeds(&init);
    let (init_2, now_2) = seeds(&init);
    assert_eq!(init_1, init_2, "frozen into the snapshot");
    assert_ne!(now_1, now_2, "drawn at run time");
    assert_ne!(seeds(&plain).0, seeds(&plain).0, "not pre-initialized");
}

/// The C sample uses the wizer.h pattern: `wizer.initialize` runs the
/// constructors and the init, `wizer.resume` replaces `_start` so that they
/// do not run again. Same output and exit code as `wasmtime wizer` with the
/// same options + `wasmtime run`, and as the file packed without them.
#[test]
fn the_c_sample_runs_the_same_preinitialized() {
    let dir = tempdir();
    let wasm = root().join("samples/preinit-c/preinit-c.wasm");
    let options = [
        "--init-func",
        "wizer.initialize",
        "--rename-func",
        "_start=wizer.resume",
    ];
    let plain = dir.path().join("plain");
    let init = dir.path().join("init");
    pack(&wasm, &plain, &["--env", "PREINIT_GREETING"]);
    let mut with_init = vec!["--env", "PREINIT_GREETING"];
    with_init.extend(options);
    pack(&wasm, &init, &with_init);
    for args in [&["a", "b"][..], &["fail"][..]] {
        let expected = run_greeted(&plain, args);
        assert!(
            expected.1.contains("constructor runs: 1\n"),
            "{}",
            expected.1
        );
        assert!(expected.1.contains("greeting: hi\n"), "{}", expected.1);
        assert_eq!(expected.0, Some(if args == ["fail"] { 3 } else { 0 }));
        assert_eq!(run_greeted(&init, args), expected, "{args:?}");
        assert_eq!(
            wizer_and_run(&wasm, dir.path(), &options, args),
            expected,
            "{args:?}"
        );
    }
}
