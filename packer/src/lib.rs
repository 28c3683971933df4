//! `wpack`: turns a WebAssembly (WASI) program into one native executable.
//!
//! `wpack` (`main.rs`) is this library's command line. `cargo wpack`
//! (`cargo_wpack`: builds a package's binaries for WASI and packs them
//! through [`run_args`]) is wpack too, started by the small `cargo-wpack`
//! executable beside it (`bin/cargo-wpack.rs`) or under that name.
//!
//! The work is split by concern: `cli` (arguments), `compile` (checking and
//! precompiling the module), `cache` (compiled code kept between runs),
//! `include` (files embedded with --include), `inspect` (reading a packed
//! file back), `licenses` (the licence notices of wpack and its stubs),
//! `preinit` (running an init function at pack time, --init-func),
//! `stub_image` and `targets` (the runtime the output starts as, per
//! platform), `codesign` (signing macOS outputs), `windows` (the resources and
//! checksum of Windows outputs), `output` (writing the result safely and
//! naming it), `release` (archives and checksums to publish), `pack` (the
//! steps in order: prepare the program once, then emit it for each target)
//! and `cargo_wpack` (the cargo subcommand).

mod cache;
pub mod cargo_wpack;
mod cli;
mod codesign;
mod compile;
mod include;
mod inspect;
mod licenses;
mod output;
mod pack;
mod preinit;
mod release;
mod stub_image;
mod suite;
mod targets;
mod windows;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

/// `wpack ARGS...`: `args` holds the program name first, as
/// `std::env::args_os` does. Started as `cargo-wpack` (a link or copy
/// beside wpack, as the release files install it), wpack is `cargo wpack`.
pub fn main_with(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let mut args: Vec<OsString> = args.into_iter().collect();
    // The small `cargo-wpack` executable (bin/cargo-wpack.rs) starts wpack
    // with this first argument.
    if args.get(1).is_some_and(|arg| arg == "--as-cargo-wpack") {
        args.splice(0..2, [OsString::from("cargo-wpack")]);
        return cargo_wpack::main(args);
    }
    let called = args
        .first()
        .and_then(|arg0| std::path::Path::new(arg0).file_stem())
        .is_some_and(|stem| stem == "cargo-wpack");
    if called {
        return cargo_wpack::main(args);
    }
    let cli = cli::Cli::parse_from(args);
    exit_code(run(&cli))
}

/// Parses `args` (program name first) as wpack's command line and runs it;
/// `cargo wpack` packs through this, so its options mean what they mean
/// on wpack's own command line.
pub fn run_args(args: impl IntoIterator<Item = OsString>) -> anyhow::Result<()> {
    let cli = cli::Cli::try_parse_from(args).map_err(|e| anyhow::anyhow!("{e}"))?;
    run(&cli)
}

fn run(cli: &cli::Cli) -> anyhow::Result<()> {
    match &cli.command {
        Some(cli::Command::Inspect(args)) if args.licenses => licenses::print_for_file(&args.file),
        Some(cli::Command::Inspect(args)) => inspect::inspect(args),
        None if cli.pack.licenses => licenses::print_own(),
        None => pack::pack(&cli.pack),
    }
}

/// Prints an error the way every wpack error is printed: one line (with
/// its causes) after `wpack: error:`.
pub fn exit_code(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("wpack: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
