//! Counts lines, words and bytes of the files named on its command line, like `wc`.
use std::process::ExitCode;

fn main() -> ExitCode {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: wc FILE...");
        return ExitCode::from(2);
    }
    let mut status = ExitCode::SUCCESS;
    for file in &files {
        match std::fs::read(file) {
            Ok(bytes) => {
                let lines = bytes.iter().filter(|&&b| b == b'\n').count();
                let words = bytes
                    .split(|b| b.is_ascii_whitespace())
                    .filter(|w| !w.is_empty())
                    .count();
                println!("{lines} {words} {} {file}", bytes.len());
            }
            Err(e) => {
                eprintln!("wc: {file}: {e}");
                status = ExitCode::FAILURE;
            }
        }
    }
    status
}
