//! Sorts N (default 5 000 000) pseudo-random u64 and prints a checksum.
fn main() {
    let n: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(5_000_000);
    let mut x: u64 = 88172645463325252;
    let mut v: Vec<u64> = (0..n).map(|_| { x ^= x << 13; x ^= x >> 7; x ^= x << 17; x }).collect();
    v.sort_unstable();
    let sum = v.iter().enumerate().fold(0u64, |acc, (i, &e)| acc.wrapping_add(e.wrapping_mul(i as u64 + 1)));
    println!("sorted {n}: {sum:016x} first {:016x} last {:016x}", v[0], v[n - 1]);
}
