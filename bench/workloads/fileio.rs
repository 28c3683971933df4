//! Reads a file in 64 KiB chunks and prints its length and a checksum.
//! Usage: fileio PATH
use std::io::Read;

fn main() {
    let path = std::env::args().nth(1).expect("usage: fileio PATH");
    let mut file = std::fs::File::open(&path).expect("cannot open the input");
    let mut buf = vec![0u8; 64 << 10];
    let (mut len, mut h) = (0u64, 0xcbf29ce484222325u64);
    loop {
        let n = file.read(&mut buf).unwrap();
        if n == 0 { break; }
        len += n as u64;
        for chunk in buf[..n].chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            h = (h ^ u64::from_le_bytes(w)).wrapping_mul(0x100000001b3);
        }
    }
    println!("read {len} bytes: {h:016x}");
}
