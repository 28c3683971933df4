//! WASI 0.2 command components (`wasm32-wasip2`): packing what `cargo
//! build` makes, `wpack inspect`, and the inputs and options wpack refuses
//! for them. Their behaviour against `wasmtime run` is compared case by case
//! in tests/wasi_diff.rs (the `p2 ` cases), other targets in targets.rs.

mod common;

use std::process::Command;

use common::*;

fn component(name: &str) -> std::path::PathBuf {
    root()
        .join("tests/wasi/components")
        .join(format!("{name}.wasm"))
}

/// The issue's promise, literally: a fresh cargo project built with
/// `cargo build --target wasm32-wasip2` packs and runs like a native tool.
#[test]
fn cargo_build_for_wasm32_wasip2_packs_and_runs() {
    let dir = tempdir();
    let project = dir.path().join("greet");
    std::fs::create_dir_all(project.join("src")).unwrap();
    std::fs::write(
        project.join("Cargo.toml"),
        "[package]\nname = \"greet\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(
        project.join("src/main.rs"),
        r#"use std::io::Read;
fn main() {
    let who = std::env::args().nth(1).unwrap_or_else(|| "nobody".into());
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    let notes = std::fs::read_to_string("/data/notes.txt").unwrap();
    std::fs::write("/data/out.txt", format!("{} lines read\n", input.lines().count())).unwrap();
    println!("hello {who} from {}; notes say {:?}", std::env::var("PLACE").unwrap(), notes.trim());
    std::process::exit(if who == "fail" { 9 } else { 0 });
}
"#,
    )
    .unwrap();
    let target_dir = dir.path().join("target");
    let built = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "build",
            "--release",
            "--offline",
            "--target",
            "wasm32-wasip2",
        ])
        .current_dir(&project)
        .env("CARGO_TARGET_DIR", &target_dir)
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "cargo build --target wasm32-wasip2 failed (scripts/install-targets.sh adds the target): {}",
        stderr(&built)
    );
    let wasm = target_dir.join("wasm32-wasip2/release/greet.wasm");
    let exe = dir.path().join("greet-packed");
    pack(
        &wasm,
        &exe,
        &["--dir", "data::/data", "--env", "PLACE=Lyon"],
    );

    let run_dir = dir.path().join("run");
    std::fs::create_dir_all(run_dir.join("data")).unwrap();
    std::fs::write(run_dir.join("data/notes.txt"), "buy bread\n").unwrap();
    let run = |arg: &str| {
        let mut child = Command::new(&exe)
            .arg(arg)
            .current_dir(&run_dir)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(b"a\nb\nc\n").unwrap();
        child.wait_with_output().unwrap()
    };
    let out = run("Ada");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "hello Ada from Lyon; notes say \"buy bread\"\n"
    );
    assert_eq!(
        std::fs::read_to_string(run_dir.join("data/out.txt")).unwrap(),
        "3 lines read\n"
    );
    // Rust's std ends a failing WASI 0.2 program with `exit(err)`: status 1,
    // as under `wasmtime run` (tests/wasi/README.md).
    assert_eq!(run("fail").status.code(), Some(1));
}

/// The options shared with core modules mean the same for components.
#[test]
fn shared_options_mean_the_same() {
    let dir = tempdir();
    let work = dir.path().join("work");
    std::fs::create_dir_all(work.join("sub")).unwrap();
    std::fs::write(work.join("sub/rel.txt"), "relative").unwrap();
    std::fs::write(dir.path().join("up.txt"), "up a level").unwrap();
    let absolute = dir.path().join("up.txt");

    // --host-fs: relative, `..` and absolute paths resolve natively.
    let exe = dir.path().join("paths");
    pack(&component("paths"), &exe, &["--host-fs", "--cpu", "native"]);
    let out = Command::new(&exe)
        .args(["sub/rel.txt", "../up.txt", absolute.to_str().unwrap()])
        .current_dir(&work)
        .output()
        .unwrap();
    assert_eq!(
        stdout(&out),
        format!(
            "sub/rel.txt: ok \"relative\"\n../up.txt: ok \"up a level\"\n{}: ok \"up a level\"\n",
            absolute.display()
        ),
        "{}",
        stderr(&out)
    );

    // --inherit-env with a baked --env winning, and --arg before the user's.
    let exe = dir.path().join("args_env");
    pack(
        &component("args_env"),
        &exe,
        &["--inherit-env", "--env", "B=baked", "--arg", "first"],
    );
    let out = Command::new(&exe)
        .arg("second")
        .env_clear()
        .env("A", "from host")
        .env("B", "from host")
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_contains_all(
        "packed component",
        &text,
        &[
            "arg 0: \"first\"",
            "arg 1: \"second\"",
            "env \"A=from host\"",
            "env \"B=baked\"",
        ],
    );
}

#[test]
fn inspect_shows_kind_interfaces_and_network() {
    let dir = tempdir();
    let exe = dir.path().join("net");
    pack(&component("net"), &exe, &["--inherit-network"]);
    let out = wpack(&["inspect", exe.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_contains_all(
        "wpack inspect",
        &text,
        &[
            "Kind:           component (wasi:cli/command), run with WASI 0.2",
            "Network:        host network (--inherit-network), no name lookup",
            "wasi:sockets/tcp@0.2.",
            "wasi:cli/stdout@0.2.",
        ],
    );
    let exports = text
        .lines()
        .find(|l| l.starts_with("Exports:"))
        .unwrap_or_default();
    assert!(exports.contains("wasi:cli/run@0.2."), "{text}");

    let json = wpack(&["inspect", "--json", exe.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["kind"], "component");
    assert_eq!(v["inherit_network"], true);
    assert_eq!(v["ip_name_lookup"], false);
    let imports: Vec<&str> = v["imports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_str().unwrap())
        .collect();
    assert!(
        imports
            .iter()
            .any(|i| i.starts_with("wasi:sockets/network@0.2.")),
        "{imports:?}"
    );

    // A core module says so, and has no network.
    let hello = pack_sample("hello", dir.path(), &[]);
    let text = stdout(&wpack(&["inspect", hello.to_str().unwrap()]));
    assert!(
        text.contains("Kind:           core module, run with WASI preview 1"),
        "{text}"
    );
    assert!(text.contains("Network:        none"), "{text}");
}

#[test]
fn the_stub_loads_a_component_from_the_file() {
    let dir = tempdir();
    let exe = dir.path().join("hello");
    pack(&root().join("samples/hello/hello-p2.wasm"), &exe, &[]);
    let out = Command::new(&exe).env("WPACK_DEBUG", "1").output().unwrap();
    assert_eq!(stdout(&out), "Hello, world!\n");
    let err = stderr(&out);
    assert!(
        err.contains("wpack-debug: component hello-p2.wasm"),
        "{err}"
    );
    assert!(
        err.contains("component loaded from the file through its ELF section index"),
        "{err}"
    );
}

#[test]
fn components_that_are_not_commands_are_refused() {
    refuses(
        &fixture("component_library.wat"),
        &[],
        "is a component that exports `example:math/api@1.0.0`, not `wasi:cli/run`",
    );
    refuses(
        &fixture("component_proxy.wat"),
        &[],
        "an HTTP proxy component runs under `wasmtime serve`",
    );
    refuses(
        &fixture("component_foreign_import.wat"),
        &[],
        "imports `acme:db/query@1.0.0`, which a packed program cannot be given",
    );
}

#[test]
fn options_for_the_other_kind_are_refused() {
    let dir = tempdir();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let hello2 = root().join("samples/hello/hello-p2.wasm");
    refuses(
        &hello2,
        &["--include", data.to_str().unwrap()],
        "--include is not supported for components yet",
    );
    refuses(
        &hello2,
        &["--strip-names"],
        "--strip-names is not supported for components yet",
    );
    for flag in ["--inherit-network", "--allow-ip-name-lookup"] {
        refuses(
            &sample("hello"),
            &[flag],
            "is a WASI preview 1 module, which has no way to open sockets",
        );
    }
}

/// A component whose `run` fails, or that exits with a code, or traps: the
/// same statuses as a core module where WASI 0.2 can express them.
#[test]
fn exit_statuses() {
    let dir = tempdir();
    let components = root().join("tests/wasi/components");
    for (name, args, code) in [
        ("exit_with_code.wat", &[][..], 42),
        ("run_fails.wat", &[], 1),
        ("exit_traps.wasm", &["exit", "0"], 0),
        ("exit_traps.wasm", &["divide"], 134),
    ] {
        let exe = dir.path().join(name.replace('.', "-"));
        pack(&components.join(name), &exe, &[]);
        let out = Command::new(&exe).args(args).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(code),
            "{name} {args:?}: {}",
            stderr(&out)
        );
        if code == 134 {
            let err = stderr(&out);
            assert!(err.contains("integer divide by zero"), "{err}");
            assert_eq!(err.lines().count(), 1, "one line: {err}");
        }
    }
}

/// `--stub` with the other kind's stub is a clear error at pack time.
#[test]
fn a_stub_of_the_other_kind_is_refused() {
    let module_stub = built_stub_path("x86_64-unknown-linux-musl", "module");
    let component_stub = built_stub_path("x86_64-unknown-linux-musl", "component");
    refuses(
        &root().join("samples/hello/hello-p2.wasm"),
        &["--stub", module_stub.to_str().unwrap()],
        "is the stub for core modules, but the input is a component",
    );
    refuses(
        &sample("hello"),
        &["--stub", component_stub.to_str().unwrap()],
        "is the stub for components, but the input is a module",
    );
    // The matching stub packs.
    let dir = tempdir();
    let exe = dir.path().join("hello");
    pack(
        &root().join("samples/hello/hello-p2.wasm"),
        &exe,
        &["--stub", component_stub.to_str().unwrap()],
    );
    let out = Command::new(&exe).output().unwrap();
    assert_eq!(stdout(&out), "Hello, world!\n");
}
