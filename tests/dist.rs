//! The cheap part of the release (issue #19; `scripts/dist.sh` builds all of
//! it): the Python wheel of this machine's own build of wpack, made with
//! maturin by `scripts/dist.sh --host-wheel`, installs into a fresh virtual
//! environment without a network, and the `wpack` it puts on PATH carries
//! every target's stubs and packs the same file as the wpack under test;
//! the `cargo-wpack` beside it is what `cargo wpack` runs.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_host_wheel_installs_offline_and_packs() {
    let dir = tempdir();
    let wheels = dir.path().join("wheels");
    run(Command::new(root().join("scripts/dist.sh"))
        .args(["--host-wheel", "--out"])
        .arg(&wheels));
    let built: Vec<String> = std::fs::read_dir(&wheels)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(built.len(), 1, "one wheel expected: {built:?}");
    let wheel = &built[0];
    let prefix = format!("wpack-{}-py3-none-", env!("CARGO_PKG_VERSION"));
    assert!(
        wheel.starts_with(&prefix) && wheel.ends_with("_x86_64.whl") && wheel.contains("linux"),
        "{wheel}: expected {prefix}...linux..._x86_64.whl"
    );

    // A fresh venv, and pip forbidden to look anywhere but at the file.
    let venv = dir.path().join("venv");
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv));
    run(Command::new(venv.join("bin/pip"))
        .args(["install", "--no-index", "--disable-pip-version-check"])
        .arg(wheels.join(wheel)));
    let installed = venv.join("bin/wpack");

    let version = run(Command::new(&installed).arg("--version"));
    assert_eq!(version, stdout(&wpack(&["--version"])));
    assert!(version.contains("(wasmtime 48."), "{version}");

    assert_eq!(
        targets_carried_by(&installed),
        ALL_TARGETS,
        "the installed wpack lacks stubs"
    );

    let from_wheel = dir.path().join("hello-wheel");
    let from_build = dir.path().join("hello-build");
    let hello = sample("hello");
    run(Command::new(&installed)
        .arg(&hello)
        .arg("-o")
        .arg(&from_wheel));
    pack(&hello, &from_build, &[]);
    assert_eq!(run(&mut Command::new(&from_wheel)), "Hello, world!\n");
    assert!(
        same_bytes(&from_wheel, &from_build),
        "the wheel's wpack packs another file than the wpack under test"
    );

    // cargo finds the wheel's cargo-wpack on PATH.
    let cargo_wpack = venv.join("bin/cargo-wpack");
    assert_eq!(
        run(Command::new(&cargo_wpack).arg("--version")),
        format!("cargo-{version}")
    );
    let path = std::env::join_paths(
        std::iter::once(venv.join("bin"))
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let help = run(Command::new(env!("CARGO"))
        .args(["wpack", "--help"])
        .env("PATH", path));
    assert!(help.contains("Usage: cargo wpack [OPTIONS]"), "{help}");
}

fn same_bytes(a: &Path, b: &Path) -> bool {
    std::fs::read(a).unwrap() == std::fs::read(b).unwrap()
}
