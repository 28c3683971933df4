//! The stub: the executable that every packed program starts as.
//!
//! It finds the payload appended to its own file, loads the precompiled module
//! in place and runs its `_start` with WASI preview 1. See `image.rs` for the
//! loading and `run.rs` for the program's environment and exit status.

// Links faster memcpy/memmove in place of musl's (see stub/mem).
#[cfg(all(target_arch = "x86_64", target_env = "musl"))]
extern crate wpack_mem;

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
