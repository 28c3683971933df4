//! Pre-initialization (Wizer, `wpack --init-func`): a program whose start-up
//! computes a table, slowly, so that computing it at pack time shows.
//!
//! The export `wizer-initialize` builds the table: a sieve of the primes
//! below 2^25 in a 16 MiB scratch array, then Euler's totient of every
//! number below 2^21 in an 8 MiB one. What it keeps is small (about 45 KiB:
//! the primes below sqrt(2^25), the number of primes before every 4096th
//! number and the sum of the totients up to every 4096th number); everything
//! else is computed from that at run time, a block of 4096 numbers at a time.
//! Pre-initialized (`wasmtime wizer -S cli=y preinit.wasm -o out.wasm`, or
//! `wpack preinit.wasm --init-func wizer-initialize`), the table is in the
//! snapshot's memory and `main` only reads it; otherwise `main` builds it
//! first. The output is the same either way. (`-S cli=y`: wasmtime 48's
//! `wizer` links no WASI without it, and a module that imports WASI then
//! fails to instantiate.)
//!
//! Usage: preinit [N...] [--seed]. For each number N below 2^25: whether N is
//! prime, how many primes there are up to N, the N-th prime, Euler's totient
//! of N and, below 2^21, the sum of the totients up to N. The environment
//! variable PREINIT_GREETING, read at run time, is printed.
//!
//! `--seed` shows the pitfall of pre-initialization: whatever the init
//! function reads from the outside world is frozen into the snapshot. The
//! init function draws a random u64 (WASI `random_get`) and reads the clock;
//! pre-initialized, that "seed" is the same in every run and the clock
//! reading is the time of packing, while a seed drawn in `main` differs in
//! every run. Everything but the `--seed` lines is deterministic.
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// The sieve covers the numbers below this.
const LIMIT: usize = 1 << 25;
/// The totients are summed below this.
const TOTIENT_LIMIT: usize = 1 << 21;
/// The table keeps counts and sums at every BLOCK-th number.
const BLOCK: usize = 1 << 12;

struct Table {
    /// The primes p with p * p < LIMIT.
    small_primes: Vec<u64>,
    /// The number of primes below BLOCK b, for BLOCK b < LIMIT.
    primes_before: Vec<u32>,
    /// phi(1) + ... + phi(BLOCK b - 1), for BLOCK b < TOTIENT_LIMIT.
    totient_sums: Vec<u64>,
    /// A checksum over the sieve and all the totients.
    checksum: u64,
    /// Drawn from WASI `random_get` when the table was built.
    seed: u64,
    /// The clock when the table was built, nanoseconds since the epoch.
    built_at_ns: u128,
    /// Whether it was built by the init function (pre-initialized: at pack
    /// time) rather than by `main`.
    by_init: bool,
}

static TABLE: OnceLock<Table> = OnceLock::new();

#[link(wasm_import_module = "wasi_snapshot_preview1")]
unsafe extern "C" {
    /// WASI preview 1 `random_get(buf, len) -> errno`, called directly.
    #[link_name = "random_get"]
    fn wasi_random_get(buf: *mut u8, len: usize) -> u16;
}

fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    let errno = unsafe { wasi_random_get(bytes.as_mut_ptr(), bytes.len()) };
    assert_eq!(errno, 0, "random_get failed");
    u64::from_le_bytes(bytes)
}

fn now_ns() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}

fn fnv(hash: u64, word: u64) -> u64 {
    (hash ^ word).wrapping_mul(0x0100_0000_01b3)
}

/// Zeroes a scratch array, then frees it: a snapshot carries every non-zero
/// byte of linear memory, freed or not. (`black_box` keeps the compiler from
/// dropping the zeroing as a dead store before `free`.)
fn wipe<T: Default + Copy>(mut scratch: Vec<T>) {
    scratch.fill(T::default());
    std::hint::black_box(&mut scratch);
}

fn build(by_init: bool) -> Table {
    let mut checksum = 0xcbf2_9ce4_8422_2325u64; // FNV-1a

    // Sieve of Eratosthenes over the odd numbers, a byte each.
    let half = LIMIT / 2;
    let mut composite = vec![0u8; half]; // index i: the number 2i + 1
    composite[0] = 1; // 1 is not prime
    let mut i = 1;
    while (2 * i + 1) * (2 * i + 1) < LIMIT {
        if composite[i] == 0 {
            let p = 2 * i + 1;
            let mut j = p * p / 2;
            while j < half {
                composite[j] = 1;
                j += p;
            }
        }
        i += 1;
    }
    let mut small_primes = vec![2u64];
    let mut primes_before = Vec::with_capacity(LIMIT / BLOCK);
    let mut count = 1u32; // the prime 2
    for (b, chunk) in composite.chunks_exact(BLOCK / 2).enumerate() {
        primes_before.push(if b == 0 { 0 } else { count });
        let mut word = 0u64;
        for (j, &c) in chunk.iter().enumerate() {
            let n = (b * BLOCK + 2 * j + 1) as u64;
            if c == 0 {
                count += 1;
                if n * n < LIMIT as u64 {
                    small_primes.push(n);
                }
            }
            word = word << 1 | c as u64;
            if j % 64 == 63 {
                checksum = fnv(checksum, word);
            }
        }
    }
    wipe(composite);

    // Euler's totient of every number below TOTIENT_LIMIT, by its own
    // sieve: phi(n) = n * (1 - 1/p) for every prime p dividing n.
    let mut totient: Vec<u32> = (0..TOTIENT_LIMIT as u32).collect();
    for p in 2..TOTIENT_LIMIT {
        if totient[p] == p as u32 {
            // p is prime: no smaller prime has changed it
            let mut m = p;
            while m < TOTIENT_LIMIT {
                totient[m] -= totient[m] / p as u32;
                m += p;
            }
        }
    }
    let mut totient_sums = Vec::with_capacity(TOTIENT_LIMIT / BLOCK);
    let mut sum = 0u64;
    for (n, &phi) in totient.iter().enumerate() {
        if n % BLOCK == 0 {
            totient_sums.push(sum);
        }
        sum += phi as u64;
        checksum = fnv(checksum, phi as u64);
    }
    wipe(totient);

    Table {
        small_primes,
        primes_before,
        totient_sums,
        checksum,
        seed: random_u64(),
        built_at_ns: now_ns(),
        by_init,
    }
}

/// The init function: `wasmtime wizer` and `wpack --init-func` call it once,
/// at pack time, then snapshot memory and globals.
#[unsafe(export_name = "wizer-initialize")]
pub extern "C" fn init() {
    TABLE.get_or_init(|| build(true));
}

/// The numbers lo..hi (hi <= LIMIT) with, for each, whether it is prime and
/// its totient: a segmented sieve with the table's small primes.
struct Segment {
    lo: u64,
    prime: Vec<bool>,
    phi: Vec<u64>,
}

impl Table {
    fn segment(&self, lo: u64, hi: u64) -> Segment {
        assert!(lo <= hi && hi <= LIMIT as u64);
        let len = (hi - lo) as usize;
        let mut rest: Vec<u64> = (lo..hi).collect(); // n without the primes seen so far
        let mut phi = rest.clone();
        let mut prime: Vec<bool> = (lo..hi).map(|n| n >= 2).collect();
        if lo == 0 && len > 0 {
            rest[0] = 1; // phi(0) = 0, and no prime divides it here
        }
        for &p in &self.small_primes {
            if p * p >= hi {
                break;
            }
            let first = lo.div_ceil(p).max(1) * p;
            let mut m = first;
            while m < hi {
                let i = (m - lo) as usize;
                if m != p {
                    prime[i] = false;
                }
                phi[i] -= phi[i] / p;
                while rest[i] % p == 0 {
                    rest[i] /= p;
                }
                m += p;
            }
        }
        for i in 0..len {
            if rest[i] > 1 {
                phi[i] -= phi[i] / rest[i]; // the one prime factor above sqrt(hi)
            }
        }
        Segment { lo, prime, phi }
    }

    fn is_prime(&self, n: u64) -> bool {
        self.segment(n, n + 1).prime[0]
    }

    /// The number of primes up to n.
    fn primes_up_to(&self, n: u64) -> u64 {
        let b = n as usize / BLOCK;
        let s = self.segment((b * BLOCK) as u64, n + 1);
        self.primes_before[b] as u64 + s.prime.iter().filter(|&&p| p).count() as u64
    }

    /// The k-th prime (k >= 1), if it is below LIMIT.
    fn nth_prime(&self, k: u64) -> Option<u64> {
        // The last block with fewer than k primes before it.
        let b = self.primes_before.partition_point(|&c| (c as u64) < k).checked_sub(1)?;
        let s = self.segment((b * BLOCK) as u64, ((b + 1) * BLOCK) as u64);
        let left = (k - self.primes_before[b] as u64) as usize;
        s.prime.iter().enumerate().filter(|&(_, &p)| p).nth(left - 1).map(|(i, _)| s.lo + i as u64)
    }

    /// phi(1) + ... + phi(n), for n < TOTIENT_LIMIT.
    fn totient_sum(&self, n: u64) -> u64 {
        let b = n as usize / BLOCK;
        self.totient_sums[b] + self.segment((b * BLOCK) as u64, n + 1).phi.iter().sum::<u64>()
    }
}

fn main() {
    // Not pre-initialized: build the table now.
    let table = TABLE.get_or_init(|| build(false));
    let count = table.primes_up_to(LIMIT as u64 - 1);
    println!(
        "table: {count} primes below {LIMIT}, the largest {}; totients below {TOTIENT_LIMIT}; checksum {:016x}",
        table.nth_prime(count).unwrap(),
        table.checksum
    );
    match std::env::var("PREINIT_GREETING") {
        Ok(greeting) => println!("greeting: {greeting}"),
        Err(_) => println!("greeting: (PREINIT_GREETING is not set)"),
    }
    let mut code = 0;
    for arg in std::env::args().skip(1) {
        if arg == "--seed" {
            let age = now_ns().saturating_sub(table.built_at_ns);
            println!("table built by: {}", if table.by_init { "the init function" } else { "main" });
            println!("clock read at init: {} ms ago", age / 1_000_000);
            println!("seed drawn at init: {:016x}", table.seed);
            println!("seed drawn now: {:016x}", random_u64());
            continue;
        }
        let n = match arg.parse::<u64>() {
            Ok(n) if n < LIMIT as u64 => n,
            _ => {
                eprintln!("preinit: expected a number below {LIMIT} or --seed, got {arg:?}");
                code = 2;
                continue;
            }
        };
        let up_to = table.primes_up_to(n);
        let mut line = if table.is_prime(n) {
            format!("{n} is prime, the prime number {up_to}")
        } else {
            format!("{n} is not prime, {up_to} primes up to it")
        };
        if n >= 1 {
            match table.nth_prime(n) {
                Some(p) => line += &format!("; prime number {n} is {p}"),
                None => line += &format!("; prime number {n} is beyond the table"),
            }
        }
        line += &format!("; phi({n}) = {}", table.segment(n, n + 1).phi[0]);
        if n < TOTIENT_LIMIT as u64 {
            line += &format!("; phi(1) + ... + phi({n}) = {}", table.totient_sum(n));
        }
        println!("{line}");
    }
    std::process::exit(code);
}
