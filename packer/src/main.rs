//! `wpack`: turns a WebAssembly (WASI) program into one native executable.
//!
//! The work is split by concern: `cli` (arguments), `compile` (checking and
//! precompiling the module), `include` (files embedded with --include),
//! `inspect` (reading a packed file back), `licenses` (the licence notices
//! of wpack and its stubs), `preinit` (running an init
//! function at pack time, --init-func),
//! `stub_image` and `targets` (the runtime the output starts as, per
//! platform), `codesign` (signing macOS outputs), `windows` (the resources and
//! checksum of Windows outputs), `output` (writing the
//! result safely) and `pack` (the steps in order).

mod cli;
mod codesign;
mod compile;
mod include;
mod inspect;
mod licenses;
mod output;
mod pack;
mod preinit;
mod stub_image;
mod targets;
mod windows;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match &cli.command {
        Some(cli::Command::Inspect(args)) if args.licenses => licenses::print_for_file(&args.file),
        Some(cli::Command::Inspect(args)) => inspect::inspect(args),
        None if cli.pack.licenses => licenses::print_own(),
        None => pack::pack(&cli.pack),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("wpack: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
