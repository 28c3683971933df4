//! Running the loaded program: the program's arguments, environment,
//! directories and network, and how its end becomes this process's exit
//! status. A core module runs with WASI preview 1 (`_start`), a component
//! with WASI 0.2 (`wasi:cli/run`); both get the same configuration from the
//! manifest and end the same ways.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Result, anyhow};
use wasmtime::{Trap, WasmBacktrace};
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtxBuilder};

use super::Runnable;
use super::image::Loaded;
use crate::manifest::Manifest;

/// Exit status after a trap: what `wasmtime run` uses (128 + SIGABRT on
/// Unix, abort's 3 on Windows), so scripts that wrap either see the same.
const TRAP_EXIT_CODE: u8 = if cfg!(windows) { 3 } else { 134 };

/// Frames of the wasm backtrace shown after a trap, innermost first.
const BACKTRACE_FRAMES: usize = 6;

/// Writes one line to stderr. Unlike `eprintln!`, never panics: with stderr
/// closed the line is lost, but the exit status still tells what happened.
pub fn report(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// The name this program was started as, without directories, for messages.
pub fn program_name() -> String {
    std::env::args_os()
        .next()
        .map(|arg0| match Path::new(&arg0).file_name() {
            Some(name) => name.to_string_lossy().into_owned(),
            None => arg0.to_string_lossy().into_owned(),
        })
        .unwrap_or_else(|| "wpack-program".to_owned())
}

/// Runs the program to its end and turns that end into an exit status.
pub fn run<P: Runnable>(program: &str, loaded: Loaded<P>) -> Result<ExitCode> {
    // wasmtime-wasi runs each WASI call on the tokio runtime it finds
    // current, or else on one it creates with a worker thread per CPU (after
    // reading cgroup limits to count them). One synchronous guest needs one
    // worker, for timers, stdin readiness and sockets. Never dropped, like
    // wasmtime-wasi's own: shutting it down would wait for the worker.
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| anyhow!("cannot start the I/O runtime: {e}"))?;
    let _in_tokio = Box::leak(Box::new(tokio)).enter();
    let Loaded {
        engine,
        code,
        manifest,
        file,
    } = loaded;
    let outcome = code.run(&engine, manifest, file)?;
    exit_status(program, outcome)
}

/// How the program ended, as this process's exit status.
fn exit_status(program: &str, outcome: wasmtime::Result<()>) -> Result<ExitCode> {
    match outcome {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(error) => {
            if let Some(exit) = error.downcast_ref::<I32Exit>() {
                // Unix keeps only the low 8 bits of a status; Windows all 32.
                if cfg!(windows) {
                    std::process::exit(exit.0);
                }
                return Ok(ExitCode::from(exit.0 as u8));
            }
            if let Some(trap) = error.downcast_ref::<Trap>() {
                let backtrace = error
                    .downcast_ref::<WasmBacktrace>()
                    .map(describe_backtrace)
                    .unwrap_or_default();
                report(&format!("{program}: {trap}{backtrace}"));
                return Ok(ExitCode::from(TRAP_EXIT_CODE));
            }
            // Anything else (a missing import, a host error): the innermost
            // message, on one line.
            let backtrace = error
                .downcast_ref::<WasmBacktrace>()
                .map(describe_backtrace)
                .unwrap_or_default();
            Err(anyhow!("{}{backtrace}", error.root_cause()))
        }
    }
}

/// The WASI context: arguments as given, baked environment and directories,
/// and a stand-in preopen per embedded tree (see `embedded.rs`). Also
/// returns the descriptor number of the first of those stand-ins.
pub(super) fn wasi_context(manifest: &Manifest) -> Result<(WasiCtxBuilder, u32)> {
    let mut builder = WasiCtxBuilder::new();
    builder.inherit_stdio();
    // The stub runs one synchronous guest: file operations can block this
    // thread directly instead of hopping to a tokio worker thread and back
    // for every call. Must be set before directories are added.
    builder.allow_blocking_current_thread(true);

    // argv[0] is what the process was started as; every other argument goes
    // to the program untouched (wpack's own flags are all baked at pack time).
    // `--arg` values come first, as if the user had typed them.
    let mut args: Vec<String> = std::env::args_os().map(lossy).collect();
    let rest = args.split_off(args.len().min(1));
    args.extend(manifest.args.iter().cloned());
    args.extend(rest);
    builder.args(&args);

    let mut env: BTreeMap<String, String> = BTreeMap::new();
    if manifest.inherit_env {
        env.extend(std::env::vars_os().map(|(k, v)| (lossy(k), lossy(v))));
    }
    for var in &manifest.env {
        match &var.value {
            Some(value) => {
                env.insert(var.name.clone(), value.clone());
            }
            None => {
                if let Some(value) = std::env::var_os(&var.name) {
                    env.insert(var.name.clone(), lossy(value));
                }
            }
        }
    }
    builder.envs(&env.into_iter().collect::<Vec<_>>());

    // Descriptors 0-2 are stdio; preopens follow in the order added.
    let mut preopens = 0;
    if manifest.host_fs {
        preopens += preopen_host_fs(&mut builder)?;
    }
    for dir in &manifest.dirs {
        builder
            .preopened_dir(&dir.host, &dir.guest, FsPerms::ReadWrite)
            .map_err(|e| {
                anyhow!(
                    "cannot open directory {:?} (baked in with --dir {}::{}): {e}",
                    dir.host,
                    dir.host,
                    dir.guest
                )
            })?;
        preopens += 1;
    }
    let stand_in = if cfg!(windows) {
        std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(std::path::Path::to_path_buf))
            .unwrap_or_else(|| ".".into())
    } else {
        "/".into()
    };
    for tree in &manifest.trees {
        builder
            .preopened_dir(&stand_in, &tree.guest, FsPerms::ReadOnly)
            .map_err(|e| anyhow!("cannot set up embedded {}: {e}", tree.guest))?;
    }
    Ok((builder, 3 + preopens))
}

/// Gives the program the host file system so that paths resolve natively.
///
/// wasi-libc does not know a working directory: it strips a leading `/` or
/// `./` and resolves every path against the preopen whose guest name is the
/// longest prefix of it. So `/etc/hostname` and `etc/hostname` look the same
/// to it. To make both absolute and relative paths work, preopen `/` itself,
/// every top-level directory under its own name (`/etc`, `/home`, ... win
/// for absolute paths), each ancestor of the working directory as `..`,
/// `../..`, ..., and the working directory as `.` last (it wins for other
/// relative paths; among equal prefixes wasi-libc takes the last one).
fn preopen_host_fs(builder: &mut WasiCtxBuilder) -> Result<u32> {
    let cwd = std::env::current_dir()
        .map_err(|e| anyhow!("--host-fs: cannot read the working directory: {e}"))?;
    let mut preopens: Vec<(std::path::PathBuf, String)> = vec![("/".into(), "/".into())];
    if let Ok(entries) = std::fs::read_dir("/") {
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        preopens.extend(
            names
                .into_iter()
                .map(|n| (format!("/{n}").into(), format!("/{n}"))),
        );
    }
    for (depth, ancestor) in cwd.ancestors().enumerate().skip(1) {
        preopens.push((ancestor.to_path_buf(), vec![".."; depth].join("/")));
    }
    preopens.push((cwd, ".".into()));
    let count = preopens.len() as u32;
    for (host, guest) in preopens {
        builder
            .preopened_dir(&host, &guest, FsPerms::ReadWrite)
            .map_err(|e| anyhow!("--host-fs: cannot open {}: {e}", host.display()))?;
    }
    Ok(count)
}

/// WASI strings are UTF-8; a host string that is not is passed with
/// replacement characters rather than refused.
fn lossy(s: OsString) -> String {
    s.into_string()
        .unwrap_or_else(|s| s.to_string_lossy().into_owned())
}

/// Innermost frames that only say how a program aborts (Rust's panic and
/// abort machinery); skipped so the line starts at the program's own code.
const ABORT_FRAMES: [&str; 5] = ["abort", "std::", "core::", "__rustc::", "__rust_"];

/// " (at f <- g <- _start)", innermost first, or "" without frames.
fn describe_backtrace(backtrace: &WasmBacktrace) -> String {
    let names: Vec<String> = backtrace
        .frames()
        .iter()
        .map(|frame| match frame.func_name() {
            Some(name) => format!("{:#}", rustc_demangle::demangle(name)),
            // Packed with --strip-names, or a module built without names.
            None => format!("wasm function {}", frame.func_index()),
        })
        .skip_while(|name| ABORT_FRAMES.iter().any(|p| name.starts_with(p)))
        .collect();
    if names.is_empty() {
        return String::new();
    }
    let mut shown = names[..names.len().min(BACKTRACE_FRAMES)].join(" <- ");
    if names.len() > BACKTRACE_FRAMES {
        shown.push_str(&format!(" <- ... {} more", names.len() - BACKTRACE_FRAMES));
    }
    format!(" (at {shown})")
}
