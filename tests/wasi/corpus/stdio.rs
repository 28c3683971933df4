//! Standard streams. Modes:
//!   cat              copy stdin to stdout, then report the byte count on stderr
//!   big MIB          write MIB mebibytes to stdout in 64 KiB writes
//!   lines N          write N numbered lines; stop quietly if stdout is closed
//!   stderr           write a few lines to stderr and one to stdout
//!   read-closed      read stdin to its end and say how much there was
use std::io::{Read, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map(String::as_str).unwrap_or("");
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let mut out = std::io::stdout().lock();
    match mode {
        "cat" => {
            let mut buf = Vec::new();
            std::io::stdin().read_to_end(&mut buf).unwrap();
            out.write_all(&buf).unwrap();
            eprintln!("copied {} bytes", buf.len());
        }
        "big" => {
            let chunk: Vec<u8> = (0..65536u32).map(|i| b'a' + (i % 26) as u8).collect();
            for _ in 0..n * 16 {
                out.write_all(&chunk).unwrap();
            }
        }
        "lines" => {
            for i in 0..n {
                if writeln!(out, "line {i}").is_err() {
                    // The reader went away (EPIPE): end quietly, as `yes | head` does.
                    return ExitCode::SUCCESS;
                }
            }
        }
        "stderr" => {
            eprintln!("to stderr: one");
            println!("to stdout");
            eprintln!("to stderr: two ünï");
        }
        "read-closed" => {
            let mut buf = Vec::new();
            let n = std::io::stdin().read_to_end(&mut buf).map(|_| buf.len());
            println!("stdin gave {n:?}");
        }
        _ => {
            eprintln!("unknown mode {mode:?}");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}
