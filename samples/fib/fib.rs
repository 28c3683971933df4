//! Naive recursive Fibonacci: a pure compute benchmark. Usage: fib [N] (default 30).
use std::process::ExitCode;

fn fib(n: u64) -> u64 {
    if n < 2 { n } else { fib(n - 1) + fib(n - 2) }
}

fn main() -> ExitCode {
    let arg = std::env::args().nth(1).unwrap_or_else(|| "30".to_string());
    match arg.parse::<u64>() {
        Ok(n) if n <= 90 => {
            println!("fib({n}) = {}", fib(n));
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("fib: expected a number from 0 to 90, got {arg:?}");
            ExitCode::from(2)
        }
    }
}
