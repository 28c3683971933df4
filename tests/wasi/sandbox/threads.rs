//! Prints the `Threads:` line of /proc/self/status: how many threads the
//! process running this program has (packed with `--host-fs`, that is the
//! stub's own process). Exits with 1 if the file cannot be read.
fn main() {
    let status = match std::fs::read_to_string("/proc/self/status") {
        Ok(status) => status,
        Err(e) => {
            eprintln!("cannot read /proc/self/status: {e}");
            std::process::exit(1);
        }
    };
    match status.lines().find(|l| l.starts_with("Threads:")) {
        Some(line) => println!("{line}"),
        None => {
            eprintln!("no Threads: line in /proc/self/status");
            std::process::exit(1);
        }
    }
}
