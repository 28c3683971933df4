//! Lists a directory, then opens, reads and closes every file in it; ROUNDS
//! times (default 4). Prints the file count, bytes read and a checksum that
//! does not depend on the listing's order. Usage: smallfiles DIR [ROUNDS]
use std::io::Read;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("usage: smallfiles DIR [ROUNDS]");
    let rounds: u32 = args.next().and_then(|s| s.parse().ok()).unwrap_or(4);
    let (mut files, mut bytes, mut sum) = (0u64, 0u64, 0u64);
    let mut buf = Vec::with_capacity(64 << 10);
    for _ in 0..rounds {
        for entry in std::fs::read_dir(&dir).expect("cannot list the directory") {
            let path = entry.unwrap().path();
            let mut file = std::fs::File::open(&path).expect("cannot open a file");
            buf.clear();
            file.read_to_end(&mut buf).unwrap();
            let h = buf.iter().fold(0xcbf29ce484222325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x100000001b3));
            files += 1;
            bytes += buf.len() as u64;
            sum = sum.wrapping_add(h);
        }
    }
    println!("{files} files, {bytes} bytes: {sum:016x}");
}
