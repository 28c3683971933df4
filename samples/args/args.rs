//! Prints its arguments and environment, one per line, then exits with the
//! code given by an argument of the form `exit=N` (default 0).
fn main() {
    let mut code = 0;
    for (i, arg) in std::env::args().enumerate() {
        println!("argv[{i}]={arg}");
        if let Some(n) = arg.strip_prefix("exit=") {
            code = n.parse().unwrap_or(0);
        }
    }
    let mut env: Vec<(String, String)> = std::env::vars().collect();
    env.sort();
    for (name, value) in env {
        println!("env {name}={value}");
    }
    std::process::exit(code);
}
