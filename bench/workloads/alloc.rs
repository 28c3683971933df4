//! Allocation churn: a HashMap of Vecs that grow, shrink and are replaced,
//! N operations (default 3 000 000). Prints a checksum.
use std::collections::HashMap;

fn main() {
    let n: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(3_000_000);
    let mut map: HashMap<u64, Vec<u64>> = HashMap::new();
    let mut x: u64 = 0x2545F4914F6CDD1D;
    let mut sum = 0u64;
    for i in 0..n {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        let key = x % 50_000;
        match x % 4 {
            0 => { map.insert(key, (0..(x % 64)).collect()); }
            1 => { if let Some(v) = map.get_mut(&key) { v.extend_from_slice(&[i; 8]); } }
            2 => { if let Some(v) = map.remove(&key) { sum = sum.wrapping_add(v.iter().sum::<u64>()); } }
            _ => { sum = sum.wrapping_add(map.get(&key).map_or(0, |v| v.len() as u64)); }
        }
    }
    let total: u64 = map.values().map(|v| v.len() as u64).sum();
    println!("alloc {n}: entries {} elements {total} checksum {sum:016x}", map.len());
}
