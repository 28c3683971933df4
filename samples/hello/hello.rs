//! The smallest useful program: prints one line.
fn main() {
    println!("Hello, world!");
}
