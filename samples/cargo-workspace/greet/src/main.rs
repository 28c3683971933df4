//! Greets each argument, with $GREETING (default "Hello").

fn main() {
    let greeting = std::env::var("GREETING").unwrap_or_else(|_| "Hello".to_owned());
    for name in std::env::args().skip(1) {
        let line = format!("{greeting}, {name}!");
        if cfg!(feature = "loud") {
            println!("{}", line.to_uppercase());
        } else {
            println!("{line}");
        }
    }
}
