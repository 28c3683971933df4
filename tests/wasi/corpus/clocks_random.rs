//! Clocks, randomness, sched_yield and poll_oneoff: prints properties, never
//! raw values (which differ from run to run).
//! Modes: clocks | bad-clock | random | yield | sleep MS | poll-stdin | poll-clocks
use std::time::{Duration, Instant, SystemTime};

include!("wasi_raw.rs");

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str).unwrap_or("") {
        "clocks" => {
            let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
            println!("realtime after 2020 and before 2100: {}", now > 1_577_836_800 && now < 4_102_444_800);
            let mut last = Instant::now();
            let mut monotonic = true;
            for _ in 0..10_000 {
                let t = Instant::now();
                monotonic &= t >= last;
                last = t;
            }
            println!("monotonic never goes back: {monotonic}");
            for (name, id) in [("realtime", 0), ("monotonic", 1), ("process_cputime", 2), ("thread_cputime", 3)] {
                let mut res = 0u64;
                let errno = unsafe { clock_res_get(id, &mut res) };
                let mut t = 0u64;
                let errno2 = unsafe { clock_time_get(id, 1, &mut t) };
                println!("{name}: res errno {errno} res>0 {} time errno {errno2}", res > 0);
            }
        }
        "bad-clock" => {
            let mut t = 0u64;
            println!("bad clock id errno: {}", unsafe { clock_time_get(99, 1, &mut t) });
        }
        "random" => {
            let mut a = [0u8; 32];
            let mut b = [0u8; 32];
            let e1 = unsafe { random_get(a.as_mut_ptr(), a.len()) };
            let e2 = unsafe { random_get(b.as_mut_ptr(), b.len()) };
            println!("errno {e1} {e2}; differ {}; nonzero {}", a != b, a.iter().any(|&x| x != 0));
            let mut big = vec![0u8; 1 << 20];
            let e3 = unsafe { random_get(big.as_mut_ptr(), big.len()) };
            let ones: u32 = big.iter().map(|b| b.count_ones()).sum();
            // 8 Mi bits, half of them set, within a generous margin.
            println!("1 MiB: errno {e3}; balanced {}", (4_150_000..4_240_000).contains(&ones));
        }
        "yield" => {
            let errnos: Vec<u16> = (0..100).map(|_| unsafe { sched_yield() }).collect();
            println!("sched_yield x100 all ok: {}", errnos.iter().all(|&e| e == 0));
        }
        "sleep" => {
            let ms: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(50);
            let start = Instant::now();
            std::thread::sleep(Duration::from_millis(ms));
            println!("slept at least {ms} ms: {}", start.elapsed() >= Duration::from_millis(ms));
        }
        "poll-clocks" => {
            // Two timeouts: only the shorter one fires.
            let start = Instant::now();
            let events = poll(&[clock_sub(1, 20_000_000), clock_sub(2, 5_000_000_000)]).unwrap();
            let fired: Vec<(u64, u16, u8)> = events.iter().map(|e| (e.userdata, e.error, e.kind)).collect();
            println!("fired {fired:?} after >= 20 ms: {}", start.elapsed() >= Duration::from_millis(20));
            println!("zero subscriptions: {:?}", poll(&[]).map(|e| e.len()));
        }
        "poll-stdin" => {
            // stdin has data (the runner pipes some): readable before the timeout.
            let events = poll(&[fd_read_sub(7, 0), clock_sub(8, 10_000_000_000)]).unwrap();
            let fired: Vec<(u64, u16, u8)> = events.iter().map(|e| (e.userdata, e.error, e.kind)).collect();
            println!("fired {fired:?}");
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).unwrap();
            println!("then read {line:?}");
        }
        other => println!("unknown mode {other:?}"),
    }
}
