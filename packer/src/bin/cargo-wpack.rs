//! `cargo wpack`: cargo runs `cargo-wpack wpack ARGS...`. This small
//! executable only starts the `wpack` beside it, which does the work
//! (`wpack::cargo_wpack`): the release files then carry wpack's 40 MB once,
//! where a second full executable would double the .zip and the wheel.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

/// The first argument that tells wpack to be `cargo wpack` (see
/// `wpack::main_with`); wpack also answers to the name `cargo-wpack`.
const AS_CARGO_WPACK: &str = "--as-cargo-wpack";

fn main() -> ExitCode {
    let wpack = beside_me().unwrap_or_else(|| PathBuf::from("wpack"));
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let mut command = Command::new(&wpack);
    command.arg(AS_CARGO_WPACK).args(args);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let error = command.exec();
        fail(&wpack, error)
    }
    #[cfg(not(unix))]
    match command.status() {
        Ok(status) => ExitCode::from(status.code().map_or(1, |code| code.clamp(0, 255) as u8)),
        Err(error) => fail(&wpack, error),
    }
}

/// `wpack` in the directory this executable is in, where every release
/// file and `cargo install` put both.
fn beside_me() -> Option<PathBuf> {
    let me = std::env::current_exe().ok()?;
    let wpack = me.with_file_name(format!("wpack{}", std::env::consts::EXE_SUFFIX));
    wpack.is_file().then_some(wpack)
}

fn fail(wpack: &std::path::Path, error: std::io::Error) -> ExitCode {
    eprintln!(
        "cargo-wpack: error: cannot run {}: {error}; cargo-wpack starts the wpack installed \
         beside it, so install wpack (pipx install wpack, cargo binstall wpack) and keep the two together",
        wpack.display()
    );
    ExitCode::FAILURE
}
