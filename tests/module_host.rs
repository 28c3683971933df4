//! The module stub's WASI preview 1 host is synchronous and the stub's own:
//! a packed core module runs on the one thread the process starts with, and
//! the module stub links neither tokio, nor the component model, nor
//! wasmtime-wasi (those stay in the component stub, which needs them for
//! WASI 0.2).

mod common;

use std::process::Command;

use common::*;
use wpack_stub::payload;

/// The Linux targets whose outputs run here without an emulator.
const NATIVE_LINUX: [&str; 2] = ["x86_64-linux", "x86_64-linux-gnu"];

/// A packed program (tests/wasi/sandbox/threads.rs, with `--host-fs` so it
/// can read /proc/self/status) sees its process run one thread: the host
/// makes no worker thread for I/O, timers or anything else.
#[test]
fn hello_starts_no_thread() {
    let dir = tempdir();
    let program = root().join("tests/wasi/sandbox/threads.wasm");
    let carried = targets_carried();
    for target in NATIVE_LINUX {
        assert!(
            carried.iter().any(|t| t == target),
            "{target} is not carried by this wpack (scripts/install-targets.sh adds it)"
        );
        let exe = dir.path().join(format!("threads-{target}"));
        pack(&program, &exe, &["--host-fs", "--target", target]);
        let (out, killed) =
            run_with_timeout(&mut Command::new(&exe), std::time::Duration::from_secs(60));
        assert!(!killed, "{target}: the program hung");
        assert_eq!(out.status.code(), Some(0), "{target}: {}", stderr(&out));
        let text = stdout(&out);
        let threads: u32 = text
            .trim()
            .strip_prefix("Threads:")
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("{target}: no thread count in {text:?}"));
        assert_eq!(
            threads, 1,
            "{target}: a packed module runs with {threads} threads, not 1"
        );
    }
}

/// Byte strings that only tokio, wasmtime-wasi and wasmtime's component
/// model put in a binary: the source paths of their panic locations (cargo's
/// registry directory `NAME-VERSION/src/...`; no version, so a dependency
/// update keeps them). Each is proven present in the component stub, which
/// links all three.
const HOST_MARKERS: [&[u8]; 5] = [
    // tokio (its runtime, I/O driver, timers)
    b"/tokio-1.",
    // wasmtime-wasi and wasmtime-wasi-io
    b"/wasmtime-wasi-",
    // wasmtime's component model: the embedding API (`wasmtime::component`,
    // its `ResourceTable` among it), the runtime's component instances, and
    // wasmtime-environ's component types
    b"/src/runtime/component/",
    b"/src/runtime/vm/component",
    b"/src/component/",
];

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The stub of `wasm` packed for `target`.
fn stub_of(wasm: &std::path::Path, target: &str, dir: &std::path::Path) -> Vec<u8> {
    let out = dir.join(format!(
        "{target}-{}",
        wasm.file_stem().unwrap().to_string_lossy()
    ));
    pack(wasm, &out, &["--target", target]);
    let file = std::fs::read(&out).unwrap();
    let packed = payload::read(&file).expect("a packed file has a payload");
    packed.stub_region.to_vec()
}

/// For every target this wpack carries: the component stub contains every
/// marker (so the check is not blind), the module stub none of them.
#[test]
fn the_module_stub_links_no_tokio_component_model_or_wasmtime_wasi() {
    let dir = tempdir();
    let carried = targets_carried();
    assert!(!carried.is_empty());
    let mut linked = Vec::new();
    for target in carried {
        let component = stub_of(
            &root().join("samples/hello/hello-p2.wasm"),
            &target,
            dir.path(),
        );
        let module = stub_of(&sample("hello"), &target, dir.path());
        for marker in HOST_MARKERS {
            let name = String::from_utf8_lossy(marker);
            assert!(
                contains(&component, marker),
                "{target}: marker {name:?} not found in the component stub: the check is blind"
            );
            if contains(&module, marker) {
                linked.push(format!("{target}: {name}"));
            }
        }
    }
    assert!(
        linked.is_empty(),
        "the module stub links code it must not (target: marker):\n{}",
        linked.join("\n")
    );
}

/// The module stub's dependency tree, as cargo resolves it for the build
/// packer/build.rs runs (`--no-default-features --features module`): no
/// tokio, no wasmtime-wasi, and a wasmtime without its async support or
/// component model.
#[test]
fn the_module_stubs_dependency_tree_has_no_async_runtime_or_component_model() {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let tree = |edges: &str, features: &str| {
        let out = Command::new(&cargo)
            .current_dir(root())
            .args(["tree", "--locked", "--offline", "--prefix", "none"])
            .args(["-p", "wpack-stub", "--no-default-features", "--features"])
            .args([features, "-e", edges])
            .output()
            .unwrap();
        assert!(out.status.success(), "cargo tree: {}", stderr(&out));
        stdout(&out)
    };
    let module = tree("normal,features", "module");
    for crate_name in [
        "tokio v",
        "wasmtime-wasi v",
        "wasmtime-wasi-io v",
        "wiggle v",
    ] {
        assert!(!module.contains(crate_name), "{crate_name} in:\n{module}");
    }
    for feature in ["async", "component-model"] {
        let line = format!("wasmtime feature \"{feature}\"");
        assert!(!module.contains(&line), "{line} in:\n{module}");
    }
    assert!(module.contains("wpack-wasi v"), "{module}");
    // The same query sees them in the component stub: the check is not blind.
    let component = tree("normal,features", "component");
    for needle in [
        "tokio v",
        "wasmtime-wasi v",
        "wasmtime feature \"component-model\"",
    ] {
        assert!(component.contains(needle), "{needle} not in:\n{component}");
    }
}
