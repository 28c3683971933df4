//! Lists a directory and prints how many entries it has (WASI `fd_readdir`).
//! Usage: listdir DIR
fn main() {
    let dir = std::env::args().nth(1).expect("usage: listdir DIR");
    let n = std::fs::read_dir(&dir).expect("cannot list the directory").count();
    println!("{n} entries");
}
