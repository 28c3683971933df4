//! Arguments and environment: counts, sizes and a digest, so that thousands
//! of entries or megabytes of values compare in a few lines.
fn digest(items: &[String]) -> u64 {
    // FNV-1a over every byte and a separator.
    let mut h: u64 = 0xcbf29ce484222325;
    for item in items {
        for b in item.bytes().chain([0xff]) {
            h = (h ^ b as u64).wrapping_mul(0x100000001b3);
        }
    }
    h
}

fn main() {
    // argv[0] is skipped: runtimes name the program differently (see README).
    let args: Vec<String> = std::env::args().skip(1).collect();
    println!("args: {} total bytes {} digest {:016x}", args.len(), args.iter().map(|a| a.len()).sum::<usize>(), digest(&args));
    for (i, arg) in args.iter().enumerate().take(20) {
        println!("arg {i}: {arg:?}");
    }
    let mut env: Vec<String> = std::env::vars().map(|(k, v)| format!("{k}={v}")).collect();
    env.sort();
    println!("env: {} total bytes {} digest {:016x}", env.len(), env.iter().map(|e| e.len()).sum::<usize>(), digest(&env));
    for var in env.iter().take(20) {
        let shown: String = var.chars().take(80).collect();
        println!("env {shown:?}");
    }
}
