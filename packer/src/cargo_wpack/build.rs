//! Building the binaries for WASI with cargo, after making sure the Rust
//! target is installed.

use std::ffi::OsString;
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// A binary cargo built: the package it belongs to and its `.wasm`.
#[derive(Debug, Clone)]
pub struct Artifact {
    pub package_id: String,
    pub bin: String,
    pub wasm: PathBuf,
}

/// Installs the standard library for `triple` with rustup when the
/// toolchain cargo uses lacks it, saying so; without rustup, says what to
/// install. Looks in the sysroot of `$RUSTC` (or `rustc`), which is where
/// cargo's compiler finds it, with or without rustup.
pub fn ensure_target(triple: &str, quiet: bool) -> Result<()> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .stderr(Stdio::inherit())
        .output();
    // No rustc to ask: cargo build will say what is wrong.
    let Ok(sysroot) = sysroot else { return Ok(()) };
    if !sysroot.status.success() {
        return Ok(());
    }
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    if sysroot
        .join("lib/rustlib")
        .join(triple)
        .join("lib")
        .is_dir()
    {
        return Ok(());
    }
    // Asked first, so that without rustup the error is the only line.
    match Command::new("rustup").arg("--version").output() {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "the Rust target {triple} is not installed (nothing in {}) and there is no rustup \
             to add it: install rustup (https://rustup.rs) and run `rustup target add \
             {triple}`, or install your distribution's standard library for {triple}",
            sysroot.join("lib/rustlib").display()
        ),
        Err(e) => return Err(e).context("cannot run rustup"),
        Ok(_) => {}
    }
    if !quiet {
        eprintln!(
            "cargo-wpack: the Rust target {triple} is not installed; installing it \
             (rustup target add {triple})"
        );
    }
    let status = Command::new("rustup")
        .args(["target", "add", triple])
        .status()
        .context("cannot run rustup")?;
    if !status.success() {
        bail!("rustup target add {triple} failed (its output is above)");
    }
    Ok(())
}

/// The lines of cargo's JSON messages that matter here.
#[derive(Deserialize)]
struct Message {
    reason: String,
    #[serde(default)]
    package_id: String,
    #[serde(default)]
    target: Option<MessageTarget>,
    #[serde(default)]
    executable: Option<PathBuf>,
}

#[derive(Deserialize)]
struct MessageTarget {
    name: String,
    kind: Vec<String>,
}

/// Runs `cargo build --target TRIPLE ARGS` and returns the binaries it
/// built. Cargo's own output (progress, diagnostics) goes to stderr as
/// usual; its JSON messages on stdout say where each binary is.
pub fn build(cargo: &Path, triple: &str, args: &[OsString]) -> Result<Vec<Artifact>> {
    let mut child = Command::new(cargo)
        .args(["build", "--target", triple])
        .arg("--message-format=json-render-diagnostics")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot run {}", cargo.display()))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut artifacts: Vec<Artifact> = Vec::new();
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.context("cannot read cargo build's output")?;
        let Ok(message) = serde_json::from_str::<Message>(&line) else {
            // Not a message (a build script printing to stdout, say).
            eprintln!("{line}");
            continue;
        };
        let (Some(target), Some(wasm)) = (message.target, message.executable) else {
            continue;
        };
        if message.reason == "compiler-artifact" && target.kind.iter().any(|k| k == "bin") {
            artifacts.push(Artifact {
                package_id: message.package_id,
                bin: target.name,
                wasm,
            });
        }
    }
    let status = child.wait().context("cannot wait for cargo build")?;
    if !status.success() {
        bail!("cargo build failed (its errors are above)");
    }
    Ok(artifacts)
}
