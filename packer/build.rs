//! Builds the stubs and hands them to the packer to embed.
//!
//! Each target has two stubs, `wpack-stub` (core modules, feature `module`)
//! and `wpack-stub-component` (components, feature `component`), each built
//! by a cargo invocation of its own, in the stubs' own target directory and
//! with only the stub package selected: in the same build as the packer,
//! Cargo would unify wasmtime's features and link Cranelift into the stub,
//! and in one build together, the module stub would get the component
//! stub's wasmtime-wasi, tokio and component model. The results are copied to `OUT_DIR` and embedded with
//! `include_bytes!` through a generated `stubs.rs` (see `src/stub_image.rs`),
//! so `wpack` is one self-contained file.
//!
//! The stubs of the platform wpack is built for are always built. The stub
//! of every other target in `src/targets.rs` is built when its Rust target is
//! installed (`rustup target add`); if that build fails (a missing cross C
//! compiler or linker), the target is left out with a warning and `wpack
//! --list-targets` says so. Cargo runs this script again when a target is
//! installed or removed, or the Zig tools appear (`toolchain_inputs`), so
//! the build after `scripts/install-targets.sh` carries the new targets.
//!
//! `WPACK_STUB_DIR=DIR` takes the stubs already built instead, from
//! `DIR/TRIPLE/wpack-stub` and `DIR/TRIPLE/wpack-stub-component` (`.exe` for
//! Windows), and builds none: `scripts/dist.sh` builds the twelve stubs once
//! and gives the same files to the wpack of every host platform, so a
//! program packed on any of them is the same file.

use std::env;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

#[allow(dead_code)] // the packer uses the rest of the table
mod targets {
    include!("src/targets.rs");
}
use targets::TARGETS;

#[path = "build/licenses.rs"]
mod licenses;

fn main() {
    let packer_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let root = packer_dir.parent().unwrap();
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").unwrap());
    // The platform this wpack will run on (not the one building it).
    let host = env::var("TARGET").unwrap();
    let prebuilt = env::var_os("WPACK_STUB_DIR").map(PathBuf::from);

    // A stale stub is worse than a slow build: a stub built from other sources
    // or other wasmtime settings makes files that fail to load. So rebuild
    // whenever anything it is built from changes. These lines replace cargo's
    // default (rerun when any file of the packer changes), so they name every
    // input: the stub's sources, and what decides which stubs can be built.
    let inputs = match &prebuilt {
        Some(dir) => vec![dir.clone(), root.join("Cargo.lock")],
        None => [stub_sources(root), toolchain_inputs(root)].concat(),
    };
    for input in inputs {
        println!("cargo:rerun-if-changed={}", input.display());
    }
    for var in [
        "CARGO_TARGET_DIR",
        "RUSTFLAGS",
        "RUSTUP_TOOLCHAIN",
        "WPACK_STUB_DIR",
        "WPACK_STUB_TARGETS",
        "WPACK_ZIG_BIN",
    ] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    // `wpack --version` names the wasmtime its stubs and compiler share.
    println!(
        "cargo:rustc-env=WPACK_WASMTIME_VERSION={}",
        locked_version(root, "wasmtime")
    );

    // One stub build shared by the packer's debug and release builds.
    let target_dir = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("wpack-stub");
    let installed = match &prebuilt {
        Some(_) => TARGETS.iter().map(|t| t.triple.to_owned()).collect(),
        None => installed_rust_targets(),
    };
    // (triple, module stub, component stub)
    let mut embedded = String::from("pub static EMBEDDED: &[(&str, &[u8], &[u8])] = &[\n");
    let mut triples: Vec<&str> = TARGETS.iter().map(|t| t.triple).collect();
    if !triples.contains(&host.as_str()) {
        triples.push(&host);
    }
    let mut carried = Vec::new();
    for triple in triples {
        if triple != host && !installed.iter().any(|t| t == triple) {
            continue;
        }
        let stubs = match &prebuilt {
            Some(dir) => prebuilt_stubs(dir, triple),
            None => build_stub(root, &target_dir, triple),
        };
        match stubs {
            Ok([module, component]) => {
                carried.push(triple.to_owned());
                let copy = |stub: &Path, kind: &str| {
                    let copy = out_dir.join(format!("stub-{kind}-{triple}"));
                    std::fs::copy(stub, &copy)
                        .unwrap_or_else(|e| panic!("cannot copy {}: {e}", stub.display()));
                    copy
                };
                let (module, component) = (copy(&module, "module"), copy(&component, "component"));
                writeln!(
                    embedded,
                    "    ({triple:?}, include_bytes!({module:?}), include_bytes!({component:?})),"
                )
                .unwrap();
            }
            Err(error) if triple == host => {
                panic!("no stub for {host}, which wpack is built for: {error}")
            }
            Err(error) => println!("cargo:warning=the {triple} stub was not built: {error}"),
        }
    }
    embedded.push_str("];\n");
    writeln!(embedded, "pub const HOST_TRIPLE: &str = {host:?};").unwrap();
    std::fs::write(out_dir.join("stubs.rs"), embedded).unwrap();
    // `wpack --licenses`, `wpack inspect --licenses`.
    if let Err(error) = licenses::generate(root, &out_dir, &host, &carried) {
        panic!("cannot gather the licence notices: {error}");
    }
}

/// What the stubs are built from: the stub crate, every other workspace
/// member but the packer (crates the stub depends on), the workspace's
/// manifest and lock file, and the target table.
fn stub_sources(root: &Path) -> Vec<PathBuf> {
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap_or_default();
    // `members = [...]` (a line of its own: not `default-members`).
    let members = manifest
        .find("\nmembers")
        .and_then(|at| manifest[at..].split_once('['))
        .and_then(|(_, rest)| rest.split_once(']'))
        .map_or("", |(list, _)| list);
    let mut inputs: Vec<PathBuf> = ["stub", "Cargo.toml", "Cargo.lock", "packer/src/targets.rs"]
        .iter()
        .map(|p| root.join(p))
        .collect();
    for member in members.split(',') {
        let member = member.trim().trim_matches('"');
        let path = root.join(member);
        let listed = inputs.iter().any(|input| path.starts_with(input));
        if !member.is_empty() && member != "packer" && !listed && path.exists() {
            inputs.push(path);
        }
    }
    inputs
}

/// What decides which stubs can be built, besides their sources:
///
/// * the Rust targets installed: rustup rewrites `lib/rustlib/components` in
///   the toolchain's sysroot on every `rustup target add` or `remove`, so
///   the build after `scripts/install-targets.sh` carries the new targets;
/// * the Zig tools that link the macOS stubs (`scripts/zig.sh` fills
///   `target/zig-venv/bin`, or `WPACK_ZIG_BIN`).
///
/// Only paths that exist are listed: cargo runs a build script again on
/// every build while a path it was told to watch is missing. So the Zig
/// directory is created, empty, when it does not exist yet, and a toolchain
/// without rustup's record (not installed by rustup) watches nothing here:
/// no `rustup`, no targets to add (see `installed_rust_targets`).
fn toolchain_inputs(root: &Path) -> Vec<PathBuf> {
    let mut inputs = Vec::new();
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if let Some(sysroot) = sysroot {
        let components = sysroot.join("lib").join("rustlib").join("components");
        if components.is_file() {
            inputs.push(components);
        }
    }
    let zig = zig_bin(root);
    if env::var_os("WPACK_ZIG_BIN").is_none() {
        let _ = std::fs::create_dir_all(&zig);
    }
    if zig.is_dir() {
        inputs.push(zig);
    }
    inputs
}

/// The version of `package` that Cargo.lock pins.
fn locked_version(root: &Path, package: &str) -> String {
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap_or_default();
    let entry = format!("name = \"{package}\"\nversion = \"");
    lock.split_once(&entry)
        .and_then(|(_, rest)| rest.split_once('"'))
        .map_or_else(|| "unknown".to_owned(), |(version, _)| version.to_owned())
}

/// The two stubs of `triple` in `WPACK_STUB_DIR`, as `scripts/dist.sh`
/// lays them out; a target without them is left out.
fn prebuilt_stubs(dir: &Path, triple: &str) -> Result<[PathBuf; 2], String> {
    let exe = if triple.contains("windows") {
        ".exe"
    } else {
        ""
    };
    let stub = |bin: &str| {
        let path = dir.join(triple).join(format!("{bin}{exe}"));
        if path.is_file() {
            println!("cargo:rerun-if-changed={}", path.display());
            Ok(path)
        } else {
            Err(format!("{} not found", path.display()))
        }
    };
    Ok([stub("wpack-stub")?, stub("wpack-stub-component")?])
}

/// Rust targets `rustup` has installed; empty without rustup.
fn installed_rust_targets() -> Vec<String> {
    let requested = env::var("WPACK_STUB_TARGETS").ok();
    if let Some(list) = &requested {
        return list.split(',').map(|s| s.trim().to_owned()).collect();
    }
    Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Builds both stubs of `triple`, for core modules and for components.
fn build_stub(root: &Path, target_dir: &Path, triple: &str) -> Result<[PathBuf; 2], String> {
    Ok([
        build_one(
            root,
            target_dir,
            triple,
            "wpack-stub",
            "module",
            "stub-module",
        )?,
        build_one(
            root,
            target_dir,
            triple,
            "wpack-stub-component",
            "component",
            "stub",
        )?,
    ])
}

/// Builds stub binary `bin` of `triple` with only `feature`, in cargo
/// profile `profile` (see the workspace manifest).
fn build_one(
    root: &Path,
    target_dir: &Path,
    triple: &str,
    bin: &str,
    feature: &str,
    profile: &str,
) -> Result<PathBuf, String> {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let upper = triple.replace('-', "_").to_uppercase();
    let lower = triple.replace('-', "_");
    let mut cmd = if triple.ends_with("-apple-darwin") {
        zigbuild(root, &cargo)?
    } else {
        let mut cmd = Command::new(&cargo);
        cmd.arg("build");
        cmd
    };
    cmd.current_dir(root)
        .args(["--package", "wpack-stub", "--bin", bin])
        .args(["--no-default-features", "--features", feature])
        .args([
            "--profile",
            profile,
            "--locked",
            "--target",
            triple,
            "--target-dir",
        ])
        .arg(target_dir)
        // Flags cargo passes to this build script's own compilation are not
        // meant for the stub's, nor is a linter wrapping the outer build
        // (`cargo clippy` lints the stub in its own run).
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTC_WORKSPACE_WRAPPER");
    // Static musl stubs link with Rust's own lld and its bundled C runtime;
    // wasmtime's small C helper file needs a C compiler for the target.
    if triple.ends_with("-linux-musl") {
        let linker = format!("CARGO_TARGET_{upper}_LINKER");
        if env::var_os(&linker).is_none() {
            cmd.env(linker, "rust-lld");
        }
        let cc = format!("CC_{lower}");
        if env::var_os(&cc).is_none() && env::var_os("CC").is_none() {
            let compiler = match triple.split('-').next() {
                Some("aarch64") if !env::var("HOST").unwrap().starts_with("aarch64") => {
                    "aarch64-linux-gnu-gcc"
                }
                _ => "gcc",
            };
            cmd.env(cc, compiler);
        }
        // Relative relocations packed as RELR, which musl's static-pie
        // start-up applies: 60 KB less than `.rela.dyn` (issue #17).
        let flags = format!("CARGO_TARGET_{upper}_RUSTFLAGS");
        if env::var_os(&flags).is_none() && env::var_os("RUSTFLAGS").is_none() {
            cmd.env(flags, "-C link-arg=-zpack-relative-relocs");
        }
    }
    let output = cmd
        .output()
        .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    if !output.status.success() {
        let log = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = log.lines().rev().take(15).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(tail.join("\n"));
    }
    let exe = if triple.contains("windows") {
        ".exe"
    } else {
        ""
    };
    Ok(target_dir
        .join(triple)
        .join(profile)
        .join(format!("{bin}{exe}")))
}

/// `cargo zigbuild`: cargo with Zig as the C compiler and linker, which links
/// macOS executables against the macOS system libraries' link stubs that Zig
/// ships (no Apple SDK). Zig and cargo-zigbuild come from PyPI, pinned, into
/// target/zig-venv (`scripts/zig.sh`); `WPACK_ZIG_BIN` names another
/// directory holding `cargo-zigbuild` and `zig`.
fn zigbuild(root: &Path, cargo: &std::ffi::OsStr) -> Result<Command, String> {
    let bin = zig_bin(root);
    let zigbuild = bin.join("cargo-zigbuild");
    if !zigbuild.is_file() {
        return Err(format!(
            "{} not found: run scripts/zig.sh (or scripts/install-targets.sh)",
            zigbuild.display()
        ));
    }
    // cargo-zigbuild runs `zig` and `cargo` from PATH: the venv's first,
    // then the cargo running this build.
    let mut path = vec![bin];
    if let Some(dir) = Path::new(cargo)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        path.push(dir.to_path_buf());
    }
    path.extend(env::split_paths(&env::var_os("PATH").unwrap_or_default()));
    let mut cmd = Command::new(zigbuild);
    cmd.arg("zigbuild")
        .env("PATH", env::join_paths(path).map_err(|e| e.to_string())?)
        .env("CARGO", cargo);
    Ok(cmd)
}

/// Where `cargo-zigbuild` and `zig` are: `WPACK_ZIG_BIN`, else the venv
/// `scripts/zig.sh` makes.
fn zig_bin(root: &Path) -> PathBuf {
    env::var_os("WPACK_ZIG_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target").join("zig-venv").join("bin"))
}
