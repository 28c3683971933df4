//! Path resolution across preopens: `..` inside and outside, absolute guest
//! paths, several preopens and nested guest names. Each argument is a path
//! to read; the result (first line or error kind) is printed.
fn main() {
    for path in std::env::args().skip(1) {
        match std::fs::read_to_string(&path) {
            Ok(s) => println!("{path}: ok {:?}", s.lines().next().unwrap_or("")),
            Err(e) => println!("{path}: error {:?}", e.kind()),
        }
    }
}
