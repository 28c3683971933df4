//! A packed program reaches only its baked directories and variables.

mod common;

use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::*;

/// Runs the packed probe with `ops` in `cwd` and returns one line per op.
fn probe(exe: &Path, cwd: &Path, ops: &[&str]) -> Vec<String> {
    let out = Command::new(exe)
        .args(ops)
        .current_dir(cwd)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    stdout(&out).lines().map(str::to_owned).collect()
}

/// A directory with `data/` (given to the program) next to a secret file.
fn layout() -> TempDir {
    let dir = tempdir();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("inside.txt"), "inside\n").unwrap();
    std::fs::write(dir.path().join("secret.txt"), "SECRET\n").unwrap();
    dir
}

#[test]
fn without_dir_no_file_is_visible() {
    let dir = layout();
    let exe = pack_sample("probe", dir.path(), &[]);
    let ops = [
        "read:secret.txt",
        "read:/etc/passwd",
        "list:.",
        "list:/",
        "stat:/",
        "write:x",
    ];
    for line in probe(&exe, dir.path(), &ops) {
        assert!(line.contains("=> error"), "{line}");
    }
    assert!(!dir.path().join("x").exists());
}

#[test]
fn escapes_from_a_baked_directory_fail() {
    let dir = layout();
    let data = dir.path().join("data");
    symlink("../secret.txt", data.join("up-link")).unwrap();
    symlink(dir.path().join("secret.txt"), data.join("abs-link")).unwrap();
    symlink("/etc", data.join("etc-link")).unwrap();
    let exe = pack_sample("probe", dir.path(), &["--dir", "data::/data"]);

    let lines = probe(
        &exe,
        dir.path(),
        &[
            "read:/data/inside.txt",
            "read:/data/../secret.txt",
            "read:/data/../../../../etc/passwd",
            "read:/secret.txt",
            "read:/etc/passwd",
            "read:/data/up-link",
            "read:/data/abs-link",
            "read:/data/etc-link/passwd",
            "write:/data/../escaped.txt",
            "write:/data/etc-link/escaped.txt",
            "list:/data/..",
            "write:/data/new.txt",
        ],
    );
    assert_eq!(lines[0], "read:/data/inside.txt => ok inside");
    for line in &lines[1..11] {
        assert!(line.contains("=> error"), "escaped: {line}");
    }
    assert_eq!(lines[11], "write:/data/new.txt => ok ");
    assert!(!dir.path().join("escaped.txt").exists());
    assert_eq!(
        std::fs::read_to_string(data.join("new.txt")).unwrap(),
        "probe\n"
    );
}

#[test]
fn a_symlink_swapped_during_the_run_never_leads_outside() {
    let dir = layout();
    let data = dir.path().join("data");
    symlink("inside.txt", data.join("swap")).unwrap();
    let exe = pack_sample("probe", dir.path(), &["--dir", "data::/data"]);

    // Flip `swap` between a target inside and one outside the directory,
    // atomically (rename over), for as long as the program runs.
    let stop = Arc::new(AtomicBool::new(false));
    let flipper = {
        let stop = stop.clone();
        let data = data.clone();
        std::thread::spawn(move || {
            let mut flips = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let target = if flips.is_multiple_of(2) {
                    "../secret.txt"
                } else {
                    "inside.txt"
                };
                let tmp = data.join("swap.tmp");
                let _ = std::fs::remove_file(&tmp);
                symlink(target, &tmp).unwrap();
                std::fs::rename(&tmp, data.join("swap")).unwrap();
                flips += 1;
            }
            flips
        })
    };
    let lines = probe(&exe, dir.path(), &["readloop:/data/swap:3000"]);
    stop.store(true, Ordering::Relaxed);
    let flips = flipper.join().unwrap();
    assert!(flips > 10, "the symlink hardly changed ({flips} flips)");
    assert!(
        !lines[0].contains("SECRET"),
        "read through a swapped symlink: {}",
        lines[0]
    );
    assert!(lines[0].contains("inside"), "{}", lines[0]);
}

#[test]
fn only_baked_variables_are_visible() {
    let dir = tempdir();
    let exe = pack_sample("args", dir.path(), &["--env", "KEEP"]);
    let out = Command::new(&exe)
        .env("KEEP", "1")
        .env("SECRET_TOKEN", "x")
        .output()
        .unwrap();
    let text = stdout(&out);
    let env_lines: Vec<&str> = text.lines().filter(|l| l.starts_with("env ")).collect();
    assert_eq!(env_lines, ["env KEEP=1"]);
}
