//! Sleeps COUNT times (default 200) for MICROS microseconds each (default
//! 1000): one WASI `poll_oneoff` per sleep. Usage: sleep [COUNT] [MICROS]
fn main() {
    let mut args = std::env::args().skip(1).map(|s| s.parse::<u64>().expect("a number"));
    let count = args.next().unwrap_or(200);
    let micros = args.next().unwrap_or(1000);
    for _ in 0..count {
        std::thread::sleep(std::time::Duration::from_micros(micros));
    }
    println!("slept {count} x {micros} us");
}
