//! Packing for other platforms from this Linux x86_64 host, and running the
//! results: natively (Linux x86_64, static and glibc), under qemu-aarch64
//! (aarch64) and under wine (Windows). Outputs and exit codes must match the
//! native packed run. `scripts/install-targets.sh` installs the emulators
//! and every target's build tools; a missing one fails the suite (a target
//! silently left out would otherwise pass). macOS outputs: tests/macos.rs.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// How to run a packed file of each target on this host.
fn runner(target: &str) -> Option<Vec<String>> {
    let have = |tool: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    match target {
        "x86_64-linux" | "x86_64-linux-gnu" => Some(vec![]),
        "aarch64-linux" => have("qemu-aarch64").then(|| vec!["qemu-aarch64".into()]),
        "x86_64-windows" => ["wine64", "wine"]
            .into_iter()
            .find(|w| have(w))
            .map(|w| vec![w.to_string()]),
        _ => None,
    }
}

/// The targets whose outputs run on this host (natively or emulated); a
/// missing emulator fails the test instead of leaving a target out.
const RUNNABLE: [&str; 4] = [
    "x86_64-linux",
    "x86_64-linux-gnu",
    "aarch64-linux",
    "x86_64-windows",
];

fn runnable_targets() -> [&'static str; 4] {
    for target in RUNNABLE {
        if runner(target).is_none() {
            missing(&format!("an emulator for {target}"));
        }
    }
    RUNNABLE
}

/// Where a program named `name` for `target` goes in `dir`: `NAME.exe` for
/// Windows, as a Windows program must be named to start.
fn exe_for(target: &str, dir: &Path, name: &str) -> PathBuf {
    dir.join(if target.contains("windows") {
        format!("{name}.exe")
    } else {
        name.to_owned()
    })
}

fn missing(what: &str) {
    panic!(
        "{what}: missing, so NOT TESTED. Install it with scripts/install-targets.sh \
         (scripts/test.sh runs it), rebuild, then run `cargo test --release -p wpack --test targets`"
    );
}

fn run(target: &str, exe: &Path, args: &[&str], cwd: &Path) -> (Option<i32>, String, String) {
    let mut prefix = runner(target).unwrap();
    let mut cmd = Command::new(if prefix.is_empty() {
        exe.as_os_str().to_owned()
    } else {
        prefix.remove(0).into()
    });
    if !runner(target).unwrap().is_empty() {
        cmd.arg(exe);
    }
    let wine_prefix = root().join("target").join("wine-prefix");
    let out = cmd
        .args(args)
        .current_dir(cwd)
        .env("WINEDEBUG", "-all")
        .env("WINEPREFIX", &wine_prefix)
        .output()
        .unwrap();
    // wine turns "\n" written by the program into "\r\n" only for consoles;
    // normalise anyway so the comparison is about content.
    let text = |b: &[u8]| String::from_utf8_lossy(b).replace("\r\n", "\n");
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

#[test]
fn list_targets_names_every_target_and_the_default() {
    let out = wpack(&["--list-targets"]);
    let text = stdout(&out);
    for name in ALL_TARGETS {
        assert!(text.contains(name), "{text}");
    }
    assert_eq!(text.matches("(default)").count(), 1, "{text}");
}

/// A wpack built by the README's commands carries every target: one left
/// out (a build tool missing on a fresh machine) fails here, not silently.
#[test]
fn every_listed_target_is_built_in() {
    let carried = targets_carried();
    let text = stdout(&wpack(&["--list-targets"]));
    for target in ALL_TARGETS {
        if !carried.iter().any(|c| c == target) {
            missing(&format!("the {target} stub (--list-targets says:\n{text})"));
        }
    }
}

#[test]
fn every_target_runs_the_samples_like_the_native_build() {
    let dir = tempdir();
    let carried = targets_carried();
    for target in runnable_targets() {
        if !carried.iter().any(|c| c == target) {
            missing(&format!(
                "the {target} stub (this wpack was built without it)"
            ));
        }
        let tdir = dir.path().join(target);
        std::fs::create_dir_all(tdir.join("data")).unwrap();
        if target.contains("windows") {
            wine_shim(&tdir);
        }
        std::fs::write(tdir.join("data").join("in.txt"), "alpha beta\ngamma\n").unwrap();
        let exe = |name: &str| -> PathBuf {
            let suffix = if target.contains("windows") {
                ".exe"
            } else {
                ""
            };
            let out = tdir.join(format!("{name}{suffix}"));
            let mut extra = vec!["--target", target];
            if name == "wc" {
                extra.extend(["--dir", "data"]);
            }
            pack(&sample(name), &out, &extra);
            out
        };
        let cases: [(&str, &[&str], Option<i32>, &str); 5] = [
            ("hello", &[], Some(0), "Hello, world!\n"),
            ("fib", &["20"], Some(0), "fib(20) = 6765\n"),
            ("wc", &["data/in.txt"], Some(0), "2 3 17 data/in.txt\n"),
            ("args", &["two words", "ünï", "exit=7"], Some(7), ""),
            ("panic", &["divide"], None, ""),
        ];
        for (name, args, code, expected) in cases {
            let (got_code, got_out, got_err) = run(target, &exe(name), args, &tdir);
            let what = format!("{target} {name}: stderr {got_err}");
            match name {
                "args" => {
                    assert_eq!(got_code, code, "{what}");
                    assert!(
                        got_out.contains("argv[1]=two words\nargv[2]=ünï\n"),
                        "{what}: {got_out}"
                    );
                }
                "panic" => {
                    let trap = if target.contains("windows") { 3 } else { 134 };
                    assert_eq!(got_code, Some(trap), "{what}");
                    assert!(
                        got_err.contains("wasm trap: integer divide by zero"),
                        "{what}"
                    );
                }
                _ => {
                    assert_eq!((got_code, got_out.as_str()), (code, expected), "{what}");
                }
            }
        }
        let size = std::fs::metadata(exe("hello")).unwrap().len();
        eprintln!("{target}: packed hello is {size} bytes; samples ran as natively");
    }
}

#[test]
fn static_linux_output_needs_no_loader() {
    let dir = tempdir();
    let out = dir.path().join("hello");
    pack(&sample("hello"), &out, &["--target", "x86_64-linux"]);
    let bytes = std::fs::read(&out).unwrap();
    let elf = goblin::elf::Elf::parse(&bytes).unwrap();
    assert!(
        elf.interpreter.is_none(),
        "static output has an ELF interpreter"
    );
    assert!(
        elf.libraries.is_empty(),
        "static output needs {:?}",
        elf.libraries
    );
}

#[test]
fn unknown_target_and_mismatched_stub_are_clear_errors() {
    let dir = tempdir();
    refuses(
        &sample("hello"),
        &["--target", "sparc-solaris"],
        "unknown target \"sparc-solaris\"; known targets: x86_64-linux",
    );

    // An x86_64 stub offered for the aarch64 target.
    let packed = dir.path().join("packed");
    pack(&sample("hello"), &packed, &[]);
    let file = std::fs::read(&packed).unwrap();
    let stub = dir.path().join("x86-stub");
    std::fs::write(
        &stub,
        wpack_stub::payload::read(&file).unwrap().original_stub(),
    )
    .unwrap();
    refuses(
        &sample("hello"),
        &[
            "--target",
            "aarch64-linux",
            "--stub",
            stub.to_str().unwrap(),
        ],
        "needs a Aarch64 Elf one",
    );
}

#[test]
fn cpu_levels() {
    let dir = tempdir();
    // native runs here; an unknown level is refused at pack time.
    let native = dir.path().join("native");
    pack(&sample("fib"), &native, &["--cpu", "native"]);
    let out = Command::new(&native).arg("20").output().unwrap();
    assert_eq!(stdout(&out), "fib(20) = 6765\n");
    refuses(
        &sample("fib"),
        &["--cpu", "pentium-9000"],
        "--cpu pentium-9000",
    );

    // A file built for x86-64-v3 on a CPU without AVX2 (qemu's baseline
    // model): a clear message, not a crash.
    let v3 = dir.path().join("v3");
    pack(
        &sample("fib"),
        &v3,
        &["--cpu", "x86-64-v3", "--target", "x86_64-linux"],
    );
    if runner("aarch64-linux").is_none() {
        return missing("qemu-user (for qemu-x86_64)");
    }
    let out = Command::new("qemu-x86_64")
        .args(["-cpu", "qemu64"])
        .arg(&v3)
        .arg("20")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("compiled for CPU features this machine lacks"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn packing_for_every_target_needs_no_toolchain() {
    let dir = tempdir();
    let empty = dir.path().join("empty-bin");
    std::fs::create_dir(&empty).unwrap();
    let component = root().join("samples/hello/hello-p2.wasm");
    for target in targets_carried() {
        for (input, kind) in [
            (sample("hello"), "module"),
            (component.clone(), "component"),
        ] {
            let out = dir.path().join(format!("hello-{kind}-{target}"));
            let result = Command::new(wpack_bin())
                .arg(&input)
                .arg("-o")
                .arg(&out)
                .args(["--target", &target, "-q"])
                .env_clear()
                .env("PATH", &empty)
                .output()
                .unwrap();
            assert!(result.status.success(), "{target}: {}", stderr(&result));
            let file = std::fs::read(&out).unwrap();
            let packed = wpack_stub::payload::read(&file).unwrap();
            assert_eq!(
                matches!(
                    packed.manifest.program,
                    wpack_stub::Program::Component { .. }
                ),
                kind == "component",
                "{target}"
            );
        }
    }
}

/// WASI 0.2 components under every target that runs here: arguments,
/// environment, a directory, exit statuses and a trap report.
#[test]
fn components_run_on_every_target() {
    let dir = tempdir();
    let components = root().join("tests/wasi/components");
    for target in runnable_targets() {
        let windows = target.contains("windows");
        let tdir = dir.path().join(target);
        std::fs::create_dir_all(tdir.join("work")).unwrap();
        if windows {
            wine_shim(&tdir);
        }
        let exe = |name: &str| exe_for(target, &tdir, name);

        pack(
            &root().join("samples/hello/hello-p2.wasm"),
            &exe("hello"),
            &["--target", target],
        );
        let (code, out, err) = run(target, &exe("hello"), &[], &tdir);
        assert_eq!(
            (code, out.as_str()),
            (Some(0), "Hello, world!\n"),
            "{target}: {err}"
        );

        pack(
            &components.join("args_env.wasm"),
            &exe("args_env"),
            &["--target", target, "--env", "GREETING=hi"],
        );
        let (code, out, err) = run(target, &exe("args_env"), &["one", "two words"], &tdir);
        assert_eq!(code, Some(0), "{target}: {err}");
        assert_contains_all(
            target,
            &out,
            &[
                "arg 0: \"one\"",
                "arg 1: \"two words\"",
                "env \"GREETING=hi\"",
            ],
        );

        pack(
            &components.join("fs.wasm"),
            &exe("fs"),
            &["--target", target, "--dir", "work::/sandbox"],
        );
        let (code, _, err) = run(target, &exe("fs"), &[], &tdir);
        assert_eq!(code, Some(0), "{target}: {err}");
        assert!(
            std::fs::read_dir(tdir.join("work"))
                .unwrap()
                .next()
                .is_some(),
            "{target}: the program wrote nothing into its --dir"
        );

        pack(
            &components.join("exit_traps.wasm"),
            &exe("ends"),
            &["--target", target],
        );
        let (code, _, _) = run(target, &exe("ends"), &["exit", "7"], &tdir);
        assert_eq!(code, Some(1), "{target}: exit(7) of a WASI 0.2 program");
        let (code, _, err) = run(target, &exe("ends"), &["panic"], &tdir);
        assert_eq!(code, Some(if windows { 3 } else { 134 }), "{target}: {err}");
        assert!(
            err.contains("deliberate panic") && err.contains("unreachable"),
            "{target}: {err}"
        );
    }
}

/// Embedded files (`--include`) under every target that runs here: the
/// layer in front of WASI is the same code on each, but the stand-in
/// preopen it relies on is platform-specific.
#[test]
fn embedded_trees_run_on_every_target() {
    let dir = tempdir();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("sub")).unwrap();
    std::fs::write(data.join("a.txt"), "alpha\nbeta\n").unwrap();
    std::fs::write(data.join("sub/b.txt"), "b").unwrap();
    let spec = format!("{}::/data", data.display());
    for target in runnable_targets() {
        let tdir = dir.path().join(target);
        std::fs::create_dir_all(&tdir).unwrap();
        if target.contains("windows") {
            wine_shim(&tdir);
        }
        let exe = exe_for(target, &tdir, "tree");
        pack(
            &sample("tree"),
            &exe,
            &["--target", target, "--include", &spec, "--arg", "/data"],
        );
        let (code, out, err) = run(target, &exe, &[], &tdir);
        assert_eq!(code, Some(0), "{target}: {err}");
        assert_contains_all(
            target,
            &out,
            &[
                "file a.txt 11 bytes, sum acefd12e",
                "file sub/b.txt 1 bytes",
                "sub/.. has 2 entries",
                "create: refused (os error Some(69))",
                "after: 2 entries",
            ],
        );
    }
}

/// The build after `rustup target add` carries the new target (issue 18:
/// `cargo build --release`, then `scripts/test.sh`, which installs the
/// other targets, used to test a wpack with the host's stub only). Read from
/// what the build script of the wpack under test told cargo: it asks to run
/// again when rustup rewrites the toolchain's record of installed
/// components (every `target add` or `remove` does), so it last ran after
/// the last change to them; it still names the stub's sources (its lines
/// replace cargo's default scan); and every path it names exists (cargo
/// runs a build script on every build while one is missing).
#[test]
fn the_build_reruns_when_rust_targets_are_installed() {
    let run = build_script_run();
    let output = std::fs::read_to_string(run.join("output")).unwrap();
    let watched: Vec<&Path> = output
        .lines()
        .filter_map(|l| l.strip_prefix("cargo:rerun-if-changed="))
        .map(Path::new)
        .collect();
    for path in &watched {
        assert!(path.exists(), "the build script watches a missing {path:?}");
    }
    for source in ["stub", "Cargo.toml", "Cargo.lock", "packer/src/targets.rs"] {
        assert!(watched.contains(&root().join(source).as_path()), "{source}");
    }
    assert!(output.contains("cargo:rerun-if-env-changed=RUSTUP_TOOLCHAIN\n"));

    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .unwrap();
    let sysroot = PathBuf::from(String::from_utf8(sysroot.stdout).unwrap().trim());
    let components = sysroot.join("lib/rustlib/components");
    if !components.is_file() {
        return; // a toolchain not installed by rustup: no targets to add
    }
    assert!(watched.contains(&components.as_path()), "{output}");
    let modified = |p: &Path| std::fs::metadata(p).unwrap().modified().unwrap();
    assert!(
        modified(&components) <= modified(&run.join("invoked.timestamp")),
        "Rust targets were installed or removed after the build script of the \
         wpack under test last ran, and cargo did not run it again"
    );
}

/// `target/PROFILE/build/wpack-HASH/`: where cargo ran the build script of
/// the wpack under test (the latest run, if it kept several).
fn build_script_run() -> PathBuf {
    let build = wpack_bin().parent().unwrap().join("build");
    let runs = std::fs::read_dir(&build).unwrap().filter_map(|entry| {
        let path = entry.unwrap().path();
        let name = path.file_name()?.to_str()?;
        let hash = name.strip_prefix("wpack-")?;
        let ours = hash.chars().all(|c| c.is_ascii_hexdigit()) && path.join("output").is_file();
        ours.then_some(path)
    });
    runs.max_by_key(|run| {
        std::fs::metadata(run.join("output"))
            .unwrap()
            .modified()
            .unwrap()
    })
    .unwrap_or_else(|| panic!("no build script run of wpack in {}", build.display()))
}

/// Pre-initialized programs (`--init-func`): the packer runs the init on
/// this machine and compiles the snapshot for each target; every stub must
/// load that output as it loads a plain one. Packed with and without it for
/// every target, run where an emulator allows.
#[test]
fn preinitialized_programs_run_on_every_target() {
    let dir = tempdir();
    std::fs::create_dir_all(dir.path().join("app")).unwrap();
    std::fs::write(dir.path().join("app/hello.txt"), "hello, embedded world").unwrap();
    let app = format!("{}::/app", dir.path().join("app").display());
    let runnable = runnable_targets();
    for target in ALL_TARGETS {
        let tdir = dir.path().join(target);
        std::fs::create_dir_all(tdir.join("data")).unwrap();
        std::fs::write(tdir.join("data/x.txt"), "x-data").unwrap();
        if target.contains("windows") {
            wine_shim(&tdir);
        }
        for (name, init) in [
            ("plain", &[][..]),
            ("init", &["--init-func", "wizer-initialize"][..]),
        ] {
            let exe = exe_for(target, &tdir, name);
            let mut args = vec![
                "--target",
                target,
                "--env",
                "FIXED=f",
                "--dir",
                "data",
                "--include",
                &app,
            ];
            args.extend_from_slice(init);
            pack(&fixture("preinit_world.wasm"), &exe, &args);
            let file = std::fs::read(&exe).unwrap();
            let packed = wpack_stub::payload::read(&file).unwrap();
            assert_eq!(packed.manifest.init.is_some(), name == "init", "{target}");
            if !runnable.contains(&target) {
                continue; // macOS: packed and read back only
            }
            let (code, out, err) = run(target, &exe, &["a"], &tdir);
            assert_eq!(code, Some(0), "{target} {name}: {err}");
            let expected: &[&str] = if name == "init" {
                &[
                    "init: head=\"hello,\"",
                    "init: dir=errno 76",
                    "run: rest=\" embedded world\"",
                ]
            } else {
                &["not pre-initialized"]
            };
            assert_contains_all(&format!("{target} {name}"), &out, expected);
            assert_contains_all(
                &format!("{target} {name}"),
                &out,
                &["run: args=[\"a\"]", "run: FIXED=f", "run: dir=\"x-data\""],
            );
        }
    }
}

/// `--target all`: every target in one call, named `{name}-{target}`, each
/// the very file a single-target pack writes; the runnable ones run here,
/// the macOS ones parse as signed executables.
#[test]
fn every_target_in_one_call() {
    let dir = tempdir();
    let all = dir.path().join("out");
    let out = wpack(&[
        sample("hello").to_str().unwrap(),
        "--target",
        "all",
        "-o",
        all.to_str().unwrap(),
        "--no-cache",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut expected: Vec<String> = ALL_TARGETS
        .iter()
        .map(|t| match t.contains("windows") {
            true => format!("hello-{t}.exe"),
            false => format!("hello-{t}"),
        })
        .collect();
    expected.sort();
    assert_eq!(list_dir(&all), expected, "{}", stderr(&out));
    wine_shim(&all);
    for target in ALL_TARGETS {
        let name = expected
            .iter()
            .find(|n| n.contains(&format!("-{target}")))
            .unwrap();
        let multi = all.join(name);
        let single = dir.path().join(name);
        pack(
            &sample("hello"),
            &single,
            &["--target", target, "--no-cache"],
        );
        assert!(
            std::fs::read(&multi).unwrap() == std::fs::read(&single).unwrap(),
            "{target}: --target all wrote another file than --target {target}"
        );
        if target.contains("macos") {
            let bytes = std::fs::read(&multi).unwrap();
            let macho = goblin::mach::MachO::parse(&bytes, 0).expect("goblin parses it");
            assert_eq!(macho.header.filetype, goblin::mach::header::MH_EXECUTE);
            assert!(
                macho.load_commands.iter().any(|c| matches!(
                    c.command,
                    goblin::mach::load_command::CommandVariant::CodeSignature(_)
                )),
                "{target}: not signed"
            );
            continue;
        }
        let (code, stdout, stderr) = run(target, &multi, &[], &all);
        assert_eq!(
            (code, stdout.as_str()),
            (Some(0), "Hello, world!\n"),
            "{target}: {stderr}"
        );
    }
}

/// Rust target triples name the same targets (two Windows triples, one
/// file), lists may be comma-separated or repeated, and each target is
/// written once however often it is named.
#[test]
fn rust_triples_and_lists_name_targets() {
    let dir = tempdir();
    let out = dir.path().join("out");
    let run = wpack(&[
        sample("hello").to_str().unwrap(),
        "--target",
        "x86_64-unknown-linux-musl,aarch64-unknown-linux-musl,x86_64-unknown-linux-gnu",
        "--target",
        "x86_64-pc-windows-msvc",
        "--target",
        "x86_64-pc-windows-gnu,aarch64-apple-darwin,x86_64-apple-darwin,x86_64-linux",
        "-o",
        out.to_str().unwrap(),
        "--name-template",
        "{name}-{version}-{triple}",
        "--version-tag",
        "1.2.3",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert_eq!(
        list_dir(&out),
        [
            "hello-1.2.3-aarch64-apple-darwin",
            "hello-1.2.3-aarch64-unknown-linux-musl",
            "hello-1.2.3-x86_64-apple-darwin",
            "hello-1.2.3-x86_64-pc-windows-gnu.exe",
            "hello-1.2.3-x86_64-unknown-linux-gnu",
            "hello-1.2.3-x86_64-unknown-linux-musl",
        ]
    );
    let (code, stdout, _) = run_native(&out.join("hello-1.2.3-x86_64-unknown-linux-musl"));
    assert_eq!((code, stdout.as_str()), (Some(0), "Hello, world!\n"));
}

fn run_native(exe: &Path) -> (Option<i32>, String, String) {
    run("x86_64-linux", exe, &[], exe.parent().unwrap())
}

/// What a run for several targets refuses, before writing anything.
#[test]
fn several_targets_refuse_what_cannot_work() {
    let dir = tempdir();
    let hello = sample("hello");
    let file = dir.path().join("a-file");
    std::fs::write(&file, "keep").unwrap();
    let out = dir.path().join("out");
    for (extra, says) in [
        (
            vec![
                "--target",
                "x86_64-linux,aarch64-linux",
                "-o",
                file.to_str().unwrap(),
            ],
            "is a file, but with several targets",
        ),
        (
            vec![
                "--target",
                "all",
                "-o",
                out.to_str().unwrap(),
                "--name-template",
                "{name}",
            ],
            "names both the",
        ),
        (
            vec![
                "--target",
                "all",
                "-o",
                out.to_str().unwrap(),
                "--name-template",
                "{name}-{version}-{target}",
            ],
            "give it with --version-tag",
        ),
        (
            vec![
                "--target",
                "all",
                "-o",
                out.to_str().unwrap(),
                "--stub",
                hello.to_str().unwrap(),
            ],
            "--stub gives the stub of one target",
        ),
        (
            vec![
                "--target",
                "x86_64-linux,nonesuch",
                "-o",
                out.to_str().unwrap(),
            ],
            "unknown target \"nonesuch\"",
        ),
        (
            vec![
                "--target",
                "x86_64-linux,aarch64-linux",
                "-o",
                out.to_str().unwrap(),
                "--windows-product",
                "P",
            ],
            "applies to Windows outputs only",
        ),
    ] {
        let mut args = vec![hello.to_str().unwrap()];
        args.extend(&extra);
        let run = wpack(&args);
        let err = stderr(&run);
        assert_eq!(run.status.code(), Some(1), "{extra:?}: {err}");
        assert_eq!(
            err.lines().count(),
            1,
            "{extra:?}: one line expected: {err}"
        );
        assert!(err.contains(says), "{extra:?}: expected {says:?} in {err}");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep");
        assert!(!out.exists(), "{extra:?} created {}", out.display());
    }
}

/// Windows options given with `all` apply to the Windows output alone.
#[test]
fn windows_options_apply_to_the_windows_output_of_several() {
    let dir = tempdir();
    let out = dir.path().join("out");
    let run = wpack(&[
        sample("hello").to_str().unwrap(),
        "--target",
        "x86_64-linux,x86_64-windows",
        "-o",
        out.to_str().unwrap(),
        "--windows-product",
        "Hello Product",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let has = |name: &str| {
        let bytes = std::fs::read(out.join(name)).unwrap();
        let needle: Vec<u8> = "Hello Product"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        bytes.windows(needle.len()).any(|w| w == needle)
    };
    assert!(has("hello-x86_64-windows.exe"));
    assert!(!has("hello-x86_64-linux"));
}

/// A file of two commands on two modules (`--command`) under every target
/// that runs here: chosen by the first argument and by the name of a copy
/// (`NAME.exe` on Windows), the second loaded from its own code region.
#[test]
fn several_commands_run_on_every_target() {
    let dir = tempdir();
    let tool = |name: &str| fixture(&format!("suite_{name}.wasm"));
    for target in runnable_targets() {
        let windows = target.contains("windows");
        let tdir = dir.path().join(target);
        std::fs::create_dir_all(&tdir).unwrap();
        if windows {
            wine_shim(&tdir);
        }
        let exe = |name: &str| exe_for(target, &tdir, name);
        let out = wpack(&[
            "--command",
            &format!("alpha={}", tool("a").display()),
            "--command",
            &format!("beta={}", tool("b").display()),
            "--command-arg=beta=--baked",
            "--target",
            target,
            "-o",
            exe("tools").to_str().unwrap(),
            "--quiet",
        ]);
        assert!(out.status.success(), "{target}: {}", stderr(&out));
        let (code, stdout, err) = run(target, &exe("tools"), &["beta", "x"], &tdir);
        assert_eq!(code, Some(11), "{target}: {err}");
        assert_eq!(
            stdout, "tool=b\nargv[0]=beta\nargv[1]=--baked\nargv[2]=x\n",
            "{target}"
        );
        std::fs::copy(exe("tools"), exe("alpha")).unwrap();
        let (code, stdout, err) = run(target, &exe("alpha"), &["y"], &tdir);
        assert_eq!(code, Some(10), "{target}: {err}");
        assert_eq!(stdout, "tool=a\nargv[0]=alpha\nargv[1]=y\n", "{target}");
        let (code, _, err) = run(target, &exe("tools"), &["gamma"], &tdir);
        assert_eq!(code, Some(2), "{target}: {err}");
        assert!(err.contains("commands: alpha, beta"), "{target}: {err}");
    }
}
