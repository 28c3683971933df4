//! `cargo wpack`, run as cargo runs it: the built `cargo-wpack` on PATH and
//! `cargo wpack ARGS` (so cargo's own dispatch, and `cargo help wpack`, are
//! what is tested), on fresh copies of samples/cargo-workspace. The outputs
//! run natively (Linux x86_64), under qemu-aarch64 and under wine; the macOS
//! ones are read back with goblin; archives with Python's tarfile and
//! zipfile, checksums with `sha256sum -c`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;

/// The sample's binaries, their versions, and arguments and what each
/// prints when run with them and `GREETING=Hi`.
const BINS: [(&str, &str, &[&str], &str); 2] = [
    ("greet", "0.1.0", &["you"], "Hi, you!\n"),
    (
        "show",
        "0.2.0",
        &[],
        "show: This line was read from the tree embedded in the executable.\n",
    ),
];

/// wpack's targets, their Rust triples and how to run their outputs here
/// (`None`: not runnable here, read back instead).
const TARGETS: [(&str, &str, Option<&str>); 6] = [
    ("x86_64-linux", "x86_64-unknown-linux-musl", Some("")),
    ("x86_64-linux-gnu", "x86_64-unknown-linux-gnu", Some("")),
    (
        "aarch64-linux",
        "aarch64-unknown-linux-musl",
        Some("qemu-aarch64"),
    ),
    ("x86_64-windows", "x86_64-pc-windows-gnu", Some("wine")),
    ("aarch64-macos", "aarch64-apple-darwin", None),
    ("x86_64-macos", "x86_64-apple-darwin", None),
];

fn cargo_wpack_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_cargo-wpack"))
}

/// A copy of samples/cargo-workspace in a temporary directory, without any
/// `target/` a developer left in the original.
fn fresh_sample() -> TempDir {
    let dir = tempdir();
    copy_tree(&root().join("samples/cargo-workspace"), dir.path());
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let (name, path) = (entry.file_name(), entry.path());
        if name == "target" {
            continue;
        }
        if path.is_dir() {
            std::fs::create_dir_all(to.join(&name)).unwrap();
            copy_tree(&path, &to.join(&name));
        } else {
            std::fs::copy(&path, to.join(&name)).unwrap();
        }
    }
}

/// `cargo ARGS` in `dir`, with cargo-wpack's directory first on PATH, a
/// compile cache of its own, and none of the environment of the cargo
/// running this test that would redirect the sample's build.
fn cargo_in(dir: &Path, args: &[&str], cache: &Path) -> Command {
    let bin_dir = cargo_wpack_bin().parent().unwrap().to_path_buf();
    let path = std::env::join_paths(
        std::iter::once(bin_dir).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(args)
        .current_dir(dir)
        .env("PATH", path)
        .env("WPACK_CACHE", cache)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET");
    cmd
}

fn cargo(dir: &Path, args: &[&str]) -> Output {
    let cache = tempdir();
    cargo_in(dir, args, cache.path())
        .output()
        .expect("cannot run cargo")
}

fn assert_ok(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        stdout(out),
        stderr(out)
    );
}

/// Checks a failed run: exit code 1 and one line `cargo-wpack: error: ...`
/// as the last line of stderr holding every one of `expected`.
fn assert_refused(out: &Output, expected: &[&str]) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "exit code; stderr: {err}");
    let last = err.lines().last().unwrap_or_default().to_owned();
    assert!(last.starts_with("cargo-wpack: error: "), "{err}");
    assert_contains_all("the error", &last, expected);
    last
}

/// Runs a packed output with GREETING=Hi and `args` in `dir`, under
/// `runner` (`""`: natively); returns its exit code, stdout and stderr.
fn run_output(
    runner: &str,
    exe: &Path,
    args: &[&str],
    dir: &Path,
) -> (Option<i32>, String, String) {
    let mut cmd = if runner.is_empty() {
        Command::new(exe)
    } else {
        let mut cmd = Command::new(which_runner(runner));
        cmd.arg(exe);
        cmd
    };
    let out = cmd
        .args(args)
        .current_dir(dir)
        .env("GREETING", "Hi")
        .env("WINEDEBUG", "-all")
        .env("WINEPREFIX", root().join("target/wine-prefix"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()));
    let text = |b: &[u8]| String::from_utf8_lossy(b).replace("\r\n", "\n");
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

/// The emulator, which scripts/install-targets.sh installs: missing, it
/// fails the test rather than leaving its target untested.
fn which_runner(runner: &str) -> String {
    let candidates: &[&str] = match runner {
        "wine" => &["wine64", "wine"],
        other => &[other][..],
    };
    for candidate in candidates {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {candidate}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if found {
            return candidate.to_string();
        }
    }
    panic!("{runner}: missing, so NOT TESTED; scripts/install-targets.sh installs it");
}

fn output_name(bin: &str, version: &str, triple: &str) -> String {
    let exe = if triple.contains("windows") {
        ".exe"
    } else {
        ""
    };
    format!("{bin}-{version}-{triple}{exe}")
}

/// What `wpack inspect --json` says of a packed file.
fn inspect(file: &Path) -> serde_json::Value {
    let out = wpack(&["inspect", "--json", file.to_str().unwrap()]);
    assert_ok("wpack inspect", &out);
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The member of the archive `archive` whose file name is `name`, read by
/// Python's standard library.
fn archive_member(archive: &Path, name: &str) -> Vec<u8> {
    let script = r#"
import sys, tarfile, zipfile
path, name = sys.argv[1], sys.argv[2]
if path.endswith(".zip"):
    z = zipfile.ZipFile(path)
    data = [z.read(n) for n in z.namelist() if n.split("/")[-1] == name]
else:
    t = tarfile.open(path, "r:gz")
    data = [t.extractfile(m).read() for m in t.getmembers() if m.isfile() and m.name.split("/")[-1] == name]
assert len(data) == 1, f"{path}: {len(data)} members named {name}"
sys.stdout.buffer.write(data[0])
"#;
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(archive)
        .arg(name)
        .output()
        .expect("python3");
    assert_ok(&format!("reading {}", archive.display()), &out);
    out.stdout
}

/// The whole release: both binaries for all six targets, archives and
/// SHA256SUMS, into the default target/wpack/; every runnable output runs,
/// the macOS ones are Mach-O files of their architecture.
#[test]
fn packs_every_binary_for_every_target_into_target_wpack() {
    let sample = fresh_sample();
    let out = cargo(
        sample.path(),
        &["wpack", "--target", "all", "--archive", "--checksums"],
    );
    assert_ok("cargo wpack --target all", &out);
    let out_dir = sample.path().join("target/wpack");

    let mut expected = vec!["SHA256SUMS".to_owned()];
    for (bin, version, _, _) in BINS {
        for (_, triple, _) in TARGETS {
            expected.push(output_name(bin, version, triple));
            let suffix = if triple.contains("windows") {
                "zip"
            } else {
                "tar.gz"
            };
            expected.push(format!("{bin}-{triple}.{suffix}"));
        }
    }
    expected.sort();
    assert_eq!(list_dir(&out_dir), expected);

    // Every file but SHA256SUMS is listed in it, and each matches.
    let sums = std::fs::read_to_string(out_dir.join("SHA256SUMS")).unwrap();
    let mut listed: Vec<&str> = sums
        .lines()
        .map(|l| l.split_once("  ").expect("sha256sum format").1)
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        expected[1..].iter().map(String::as_str).collect::<Vec<_>>()
    );
    let check = Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(&out_dir)
        .output()
        .unwrap();
    assert_ok("sha256sum -c SHA256SUMS", &check);

    let run_dir = sample.path().join("run");
    std::fs::create_dir(&run_dir).unwrap();
    wine_shim(&run_dir);
    for (bin, version, args, printed) in BINS {
        for (target, triple, runner) in TARGETS {
            let name = output_name(bin, version, triple);
            let output = out_dir.join(&name);
            let bytes = std::fs::read(&output).unwrap();
            let suffix = if triple.contains("windows") {
                "zip"
            } else {
                "tar.gz"
            };
            let archive = out_dir.join(format!("{bin}-{triple}.{suffix}"));
            let in_archive = if triple.contains("windows") {
                format!("{bin}.exe")
            } else {
                bin.to_owned()
            };
            assert!(
                archive_member(&archive, &in_archive) == bytes,
                "{}: {in_archive} differs from {name}",
                archive.display()
            );
            match runner {
                Some(runner) => {
                    // A copy beside the wine shim, out of the release folder.
                    let exe = run_dir.join(&name);
                    write_executable(&exe, &bytes);
                    let (code, got, err) = run_output(runner, &exe, args, &run_dir);
                    assert_eq!(
                        (code, got.as_str()),
                        (Some(0), printed),
                        "{name} on {target}: {err}"
                    );
                }
                None => {
                    let macho = goblin::mach::MachO::parse(&bytes, 0)
                        .unwrap_or_else(|e| panic!("{name}: not a Mach-O file: {e}"));
                    let cputype = if triple.starts_with("aarch64") {
                        goblin::mach::cputype::CPU_TYPE_ARM64
                    } else {
                        goblin::mach::cputype::CPU_TYPE_X86_64
                    };
                    assert_eq!(macho.header.cputype, cputype, "{name}");
                    assert_eq!(inspect(&output)["target"], triple, "{name}");
                }
            }
        }
    }

    // Each binary's [package.metadata.wpack] is in its outputs, and only in
    // its own.
    let show = inspect(&out_dir.join(output_name("show", "0.2.0", TARGETS[0].1)));
    assert_eq!(
        show["env"],
        serde_json::json!([{"name": "SHOW_PREFIX", "value": "show: "}])
    );
    assert_eq!(show["args"], serde_json::json!(["/data/message.txt"]));
    assert_eq!(show["embedded"][0]["guest"], "/data");
    assert_eq!(show["embedded"][0]["files"], 1);
    let greet = inspect(&out_dir.join(output_name("greet", "0.1.0", TARGETS[0].1)));
    assert_eq!(
        greet["env"],
        serde_json::json!([{"name": "GREETING", "value": null}])
    );
    assert_eq!(greet["embedded"], serde_json::json!([]));
}

/// Cargo's flags reach cargo build (--bin, --features, --profile,
/// --target-dir), --out-dir is where the outputs go, and pack options given
/// on the command line add to those in Cargo.toml.
#[test]
fn cargo_flags_pass_through() {
    let sample = fresh_sample();
    let work = tempdir();
    let (target_dir, out_dir) = (work.path().join("t"), work.path().join("out"));
    let out = cargo(
        sample.path(),
        &[
            "wpack",
            "--bin",
            "greet",
            "--features",
            "loud",
            "--profile",
            "dev",
            "--target",
            "x86_64-linux",
            "--target-dir",
            target_dir.to_str().unwrap(),
            "--out-dir",
            out_dir.to_str().unwrap(),
            "--env",
            "EXTRA=1",
            "--arg",
            "--first",
        ],
    );
    assert_ok("cargo wpack --bin greet --features loud", &out);
    assert!(
        target_dir.join("wasm32-wasip1/debug/greet.wasm").is_file(),
        "--profile dev builds into debug/"
    );
    assert!(!target_dir.join("wasm32-wasip1/debug/show.wasm").exists());
    assert!(!sample.path().join("target").exists(), "--target-dir");
    let name = output_name("greet", "0.1.0", "x86_64-unknown-linux-musl");
    assert_eq!(list_dir(&out_dir), std::slice::from_ref(&name));
    let exe = out_dir.join(&name);
    let (code, got, err) = run_output("", &exe, &["you"], work.path());
    assert_eq!(
        (code, got.as_str()),
        (Some(0), "HI, --FIRST!\nHI, YOU!\n"),
        "--features loud, --arg: {err}"
    );
    let info = inspect(&exe);
    assert_eq!(
        info["env"],
        serde_json::json!([
            {"name": "GREETING", "value": null},
            {"name": "EXTRA", "value": "1"}
        ]),
        "--env adds to Cargo.toml's env"
    );
}

/// `--component`: built for wasm32-wasip2 and packed as a component.
#[test]
fn component_builds_for_wasip2() {
    let sample = fresh_sample();
    let out = cargo(
        sample.path(),
        &[
            "wpack",
            "-p",
            "greet",
            "--component",
            "--target",
            "x86_64-linux",
            "-q",
        ],
    );
    assert_ok("cargo wpack --component", &out);
    assert!(
        sample
            .path()
            .join("target/wasm32-wasip2/release/greet.wasm")
            .is_file()
    );
    let exe = sample.path().join("target/wpack").join(output_name(
        "greet",
        "0.1.0",
        "x86_64-unknown-linux-musl",
    ));
    assert_eq!(inspect(&exe)["kind"], "component");
    let (code, got, err) = run_output("", &exe, &["you"], sample.path());
    assert_eq!((code, got.as_str()), (Some(0), "Hi, you!\n"), "{err}");
}

/// Mistakes in [package.metadata.wpack] are one line naming the Cargo.toml
/// and the key, before anything is built.
#[test]
fn bad_metadata_is_refused_naming_the_key() {
    let cases: [(&str, &[&str]); 4] = [
        (
            "envs = [\"X\"]",
            &["unknown key `envs`", "[package.metadata.wpack]"],
        ),
        (
            "host-fs = \"yes\"",
            &["`host-fs` must be true or false", "host-fs = true"],
        ),
        (
            "targets = [\"vax-vms\"]",
            &["`targets`: unknown target \"vax-vms\""],
        ),
        (
            "[package.metadata.wpack.bin.nope]\nenv = []",
            &[
                "[package.metadata.wpack.bin.nope]",
                "no binary named `nope`",
            ],
        ),
    ];
    for (line, expected) in cases {
        let sample = fresh_sample();
        let manifest = sample.path().join("greet/Cargo.toml");
        let text = std::fs::read_to_string(&manifest).unwrap();
        std::fs::write(&manifest, format!("{text}{line}\n")).unwrap();
        let out = cargo(sample.path(), &["wpack", "-q"]);
        let error = assert_refused(&out, expected);
        assert!(error.contains("greet/Cargo.toml"), "{error}");
        assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
        assert!(
            !sample.path().join("target").exists(),
            "{line}: nothing built"
        );
    }
}

/// Errors found before the build write nothing and print one line; a
/// failing build shows cargo's own errors, then one line.
#[test]
fn errors_write_nothing() {
    let sample = fresh_sample();
    for (args, expected) in [
        (
            &["wpack", "--target", "x86_64-linux,vax"][..],
            "unknown target \"vax\"",
        ),
        (
            &["wpack", "--env", "=x"][..],
            "invalid value '=x' for '--env",
        ),
    ] {
        let out = cargo(sample.path(), args);
        assert_refused(&out, &[expected]);
        assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
        assert!(!sample.path().join("target").exists(), "{args:?}");
    }

    // A package with no binary.
    let lib = tempdir();
    std::fs::create_dir(lib.path().join("src")).unwrap();
    std::fs::write(
        lib.path().join("Cargo.toml"),
        "[package]\nname = \"onlylib\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(lib.path().join("src/lib.rs"), "").unwrap();
    let out = cargo(lib.path(), &["wpack"]);
    assert_refused(&out, &["nothing to pack", "onlylib", "no binary target"]);
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    assert!(!lib.path().join("target").exists());

    // A build that fails.
    std::fs::write(
        sample.path().join("greet/src/main.rs"),
        "fn main() { let x: u8 = \"not a number\"; }\n",
    )
    .unwrap();
    let out = cargo(sample.path(), &["wpack", "--target", "all"]);
    assert_refused(&out, &["cargo build failed"]);
    assert!(stderr(&out).contains("error[E0308]"), "{}", stderr(&out));
    assert!(!sample.path().join("target/wpack").exists());
}

/// `cargo help wpack` (cargo runs `cargo-wpack wpack --help`), `cargo wpack
/// --help`, cargo-wpack run directly and wpack started as `cargo-wpack`
/// (how the release files install it) print the same help, laid out as
/// cargo's own.
#[test]
fn help_follows_cargo() {
    let dir = tempdir();
    let help = stdout(&cargo(dir.path(), &["wpack", "--help"]));
    assert_contains_all(
        "cargo wpack --help",
        &help,
        &[
            "Usage: cargo wpack [OPTIONS]",
            "Package Selection:\n  -p, --package <SPEC>",
            "Feature Selection:",
            "Compilation Options:",
            "Manifest Options:\n      --manifest-path <PATH>",
            "  -F, --features <FEATURES>",
            "--target <TARGET>",
            "[package.metadata.wpack]",
        ],
    );
    assert_eq!(stdout(&cargo(dir.path(), &["help", "wpack"])), help);
    let direct = Command::new(cargo_wpack_bin())
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(stdout(&direct), help);
    let linked = dir.path().join("cargo-wpack");
    std::fs::copy(wpack_bin(), &linked).unwrap();
    let as_wpack = Command::new(&linked)
        .args(["wpack", "--help"])
        .output()
        .unwrap();
    assert_eq!(stdout(&as_wpack), help);
}

/// A fake `rustc` whose sysroot lacks the wasm target (everything else goes
/// to the real one), so the target looks missing.
fn fake_toolchain(dir: &Path) -> PathBuf {
    let real = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .unwrap();
    let real = PathBuf::from(stdout(&real).trim()).join("bin/rustc");
    let sysroot = dir.join("sysroot");
    std::fs::create_dir_all(sysroot.join("lib/rustlib")).unwrap();
    let rustc = dir.join("bin/rustc");
    std::fs::create_dir_all(rustc.parent().unwrap()).unwrap();
    write_executable(
        &rustc,
        format!(
            "#!/bin/sh\nif [ \"$1 $2\" = \"--print sysroot\" ]; then echo {}; exit 0; fi\nexec {} \"$@\"\n",
            sysroot.display(),
            real.display()
        )
        .as_bytes(),
    );
    rustc
}

/// A missing wasm target is installed with rustup (a stand-in here that
/// records its arguments and installs into the fake sysroot), and said so.
#[test]
fn a_missing_wasm_target_is_installed_with_rustup() {
    let sample = fresh_sample();
    let tools = tempdir();
    let rustc = fake_toolchain(tools.path());
    let log = tools.path().join("rustup.log");
    write_executable(
        &tools.path().join("bin/rustup"),
        format!(
            "#!/bin/sh\necho \"$@\" >> {}\n[ \"$1\" = target ] && mkdir -p {}/sysroot/lib/rustlib/$3/lib\nexit 0\n",
            log.display(),
            tools.path().display()
        )
        .as_bytes(),
    );
    let cache = tempdir();
    let mut cmd = cargo_in(
        sample.path(),
        &["wpack", "-p", "greet", "--target", "x86_64-linux"],
        cache.path(),
    );
    let path = format!(
        "{}:{}",
        tools.path().join("bin").display(),
        std::env::var("PATH").unwrap()
    );
    let bin_dir = cargo_wpack_bin().parent().unwrap().display().to_string();
    let out = cmd
        .env("PATH", format!("{bin_dir}:{path}"))
        .env("RUSTC", &rustc)
        .output()
        .unwrap();
    assert_ok("cargo wpack with the target missing", &out);
    assert!(
        stderr(&out).contains(
            "the Rust target wasm32-wasip1 is not installed; installing it (rustup target add wasm32-wasip1)"
        ),
        "{}",
        stderr(&out)
    );
    let calls = std::fs::read_to_string(&log).unwrap();
    assert!(calls.contains("target add wasm32-wasip1\n"), "{calls}");
    assert!(
        sample
            .path()
            .join("target/wpack")
            .join(output_name("greet", "0.1.0", "x86_64-unknown-linux-musl"))
            .is_file()
    );
}

/// Without rustup, a missing target is one line saying what to install.
#[test]
fn without_rustup_a_missing_target_says_what_to_install() {
    let sample = fresh_sample();
    let tools = tempdir();
    let rustc = fake_toolchain(tools.path());
    // Only cargo-wpack's directory and the system's: no rustup.
    let bin_dir = cargo_wpack_bin().parent().unwrap().display().to_string();
    let cache = tempdir();
    let out = cargo_in(sample.path(), &["wpack"], cache.path())
        .env("PATH", format!("{bin_dir}:/usr/bin:/bin"))
        .env("RUSTC", &rustc)
        .output()
        .unwrap();
    assert_refused(
        &out,
        &[
            "the Rust target wasm32-wasip1 is not installed",
            "no rustup",
            "rustup target add wasm32-wasip1",
        ],
    );
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    assert!(!sample.path().join("target").exists());
}
