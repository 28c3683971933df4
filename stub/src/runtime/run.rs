//! Running the loaded program: the program's arguments, environment,
//! directories and network, and how its end becomes this process's exit
//! status. A core module runs with WASI preview 1 (`_start`), a component
//! with WASI 0.2 (`wasi:cli/run`); both get the same configuration from the
//! manifest and end the same ways.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, anyhow};
use wasmtime::{Trap, WasmBacktrace};

use crate::trap::describe_backtrace;

use super::Runnable;
use super::image::Loaded;
use crate::manifest::Manifest;

/// Exit status after a trap: what `wasmtime run` uses (128 + SIGABRT on
/// Unix, abort's 3 on Windows), so scripts that wrap either see the same.
const TRAP_EXIT_CODE: u8 = if cfg!(windows) { 3 } else { 134 };

pub use crate::report::{program_name, report};

/// Runs the program to its end and turns that end into an exit status.
pub fn run<P: Runnable>(program: &str, loaded: Loaded<P>) -> Result<ExitCode> {
    let Loaded {
        engine,
        code,
        manifest,
        argv,
        file,
    } = loaded;
    let outcome = code.run(&engine, manifest, argv, file)?;
    exit_status::<P>(program, outcome)
}

/// How the program ended, as this process's exit status.
fn exit_status<P: Runnable>(program: &str, outcome: wasmtime::Result<()>) -> Result<ExitCode> {
    match outcome {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(error) => {
            if let Some(status) = P::exit_request(&error) {
                // Unix keeps only the low 8 bits of a status; Windows all 32.
                if cfg!(windows) {
                    std::process::exit(status);
                }
                return Ok(ExitCode::from(status as u8));
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

/// What the program is given, the same for both kinds: arguments as given
/// (after the baked `--arg`s), the baked environment, and the host
/// directories to preopen in order (descriptors 3, 4, ... follow it).
pub(super) struct Setup {
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub dirs: Vec<Preopen>,
}

/// A host directory the program sees under `guest`.
pub(super) struct Preopen {
    pub host: PathBuf,
    pub guest: String,
    /// How it was asked for, for messages.
    pub origin: Origin,
}

pub(super) enum Origin {
    HostFs,
    /// `--dir HOST::GUEST`, as given.
    Dir(String),
}

impl Preopen {
    /// The one-line error for a directory that cannot be opened.
    pub fn error(&self, e: impl std::fmt::Display) -> anyhow::Error {
        match &self.origin {
            Origin::HostFs => anyhow!("--host-fs: cannot open {}: {e}", self.host.display()),
            Origin::Dir(spec) => anyhow!(
                "cannot open directory {:?} (baked in with --dir {spec}): {e}",
                self.host
            ),
        }
    }
}

pub(super) fn setup(manifest: &Manifest, argv: Vec<OsString>) -> Result<Setup> {
    // argv[0] is what the process was started as (of a file with several
    // commands, the command's name); every other argument goes to the
    // program untouched (wpack's own flags are all baked at pack time).
    // `--arg` values come first, as if the user had typed them.
    let mut args: Vec<String> = argv.into_iter().map(lossy).collect();
    let rest = args.split_off(args.len().min(1));
    args.extend(manifest.args.iter().cloned());
    args.extend(rest);

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

    let mut dirs = Vec::new();
    if manifest.host_fs {
        dirs.extend(host_fs()?);
    }
    for dir in &manifest.dirs {
        dirs.push(Preopen {
            host: PathBuf::from(&dir.host),
            guest: dir.guest.clone(),
            origin: Origin::Dir(format!("{}::{}", dir.host, dir.guest)),
        });
    }
    Ok(Setup {
        args,
        env: env.into_iter().collect(),
        dirs,
    })
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
fn host_fs() -> Result<Vec<Preopen>> {
    let cwd = std::env::current_dir()
        .map_err(|e| anyhow!("--host-fs: cannot read the working directory: {e}"))?;
    let mut preopens: Vec<(PathBuf, String)> = vec![("/".into(), "/".into())];
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
    Ok(preopens
        .into_iter()
        .map(|(host, guest)| Preopen {
            host,
            guest,
            origin: Origin::HostFs,
        })
        .collect())
}

/// WASI strings are UTF-8; a host string that is not is passed with
/// replacement characters rather than refused.
fn lossy(s: OsString) -> String {
    s.into_string()
        .unwrap_or_else(|s| s.to_string_lossy().into_owned())
}
