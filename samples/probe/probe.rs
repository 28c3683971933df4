//! Tries file operations named on its command line and reports each outcome,
//! one line per operation: used to test what a packed program can reach.
//!
//! Operations: `read:PATH`, `write:PATH` (writes "probe\n"), `list:PATH`,
//! `stat:PATH`, and `readloop:PATH:N` (reads PATH N times and prints each
//! distinct content once, for races against a symlink swapped on the host).
use std::collections::BTreeSet;

fn outcome<T>(result: std::io::Result<T>, ok: impl FnOnce(T) -> String) -> String {
    match result {
        Ok(value) => format!("ok {}", ok(value)),
        Err(e) => format!("error {:?}", e.kind()),
    }
}

fn main() {
    for op in std::env::args().skip(1) {
        let (action, rest) = op.split_once(':').unwrap_or((op.as_str(), ""));
        let line = match action {
            "read" => outcome(std::fs::read_to_string(rest), |s| {
                s.lines().next().unwrap_or("").to_string()
            }),
            "write" => outcome(std::fs::write(rest, "probe\n"), |()| String::new()),
            "list" => outcome(std::fs::read_dir(rest), |entries| {
                let mut names: Vec<String> = entries
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect();
                names.sort();
                names.join(",")
            }),
            "stat" => outcome(std::fs::metadata(rest), |m| format!("len={}", m.len())),
            "readloop" => {
                let (path, count) = rest.rsplit_once(':').unwrap_or((rest, "100"));
                let mut seen = BTreeSet::new();
                for _ in 0..count.parse::<u32>().unwrap_or(100) {
                    match std::fs::read_to_string(path) {
                        Ok(s) => seen.insert(s.trim().to_string()),
                        Err(e) => seen.insert(format!("error {:?}", e.kind())),
                    };
                }
                format!("saw {}", seen.into_iter().collect::<Vec<_>>().join("|"))
            }
            _ => "unknown operation".to_string(),
        };
        println!("{op} => {line}");
    }
}
