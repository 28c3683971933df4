//! Copies a file to another path, upper-casing ASCII letters: exercises reading
//! and writing files in a preopened directory. Usage: copy SRC DST
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: copy SRC DST");
        return ExitCode::from(2);
    }
    let result = std::fs::read(&args[1]).and_then(|data| {
        std::fs::write(&args[2], data.to_ascii_uppercase())?;
        Ok(data.len())
    });
    match result {
        Ok(n) => {
            println!("copied {n} bytes");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("copy: {e}");
            ExitCode::FAILURE
        }
    }
}
