//! `cargo wpack`: cargo runs `cargo-wpack wpack ARGS...` (see
//! `wpack::cargo_wpack`).

fn main() -> std::process::ExitCode {
    wpack::cargo_wpack::main(std::env::args_os())
}
