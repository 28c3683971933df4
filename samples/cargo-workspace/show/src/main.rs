//! Prints each file named in its arguments, each line after $SHOW_PREFIX.

fn main() {
    let prefix = std::env::var("SHOW_PREFIX").unwrap_or_default();
    for path in std::env::args().skip(1) {
        match std::fs::read_to_string(&path) {
            Ok(text) => text.lines().for_each(|line| println!("{prefix}{line}")),
            Err(e) => {
                eprintln!("show: {path}: {e}");
                std::process::exit(1);
            }
        }
    }
}
