//! The stub: the executable that every packed program starts as.
//!
//! It finds the payload appended to its own file, loads the precompiled module
//! in place and runs its `_start` with WASI preview 1. See `image.rs` for the
//! loading and `run.rs` for the program's environment and exit status.

mod image;
mod run;
mod verified;

use std::process::ExitCode;

fn main() -> ExitCode {
    let program = run::program_name();
    match image::load().and_then(|loaded| run::run(&program, loaded)) {
        Ok(code) => code,
        Err(error) => {
            run::report(&format!("{program}: {error:#}"));
            ExitCode::FAILURE
        }
    }
}
