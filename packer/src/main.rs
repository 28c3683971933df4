//! `wpack`: the command line over the library (see `lib.rs`).

fn main() -> std::process::ExitCode {
    wpack::main_with(std::env::args_os())
}
