//! Release files through the real `wpack`: `--archive`, `--archive-file` and
//! `--checksums`. Archives are read back with Python's tarfile and zipfile,
//! checksums with `sha256sum -c`, and the program is run from an extracted
//! archive.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;
use sha2::{Digest, Sha256};

/// SOURCE_DATE_EPOCH for the runs that set it: 2023-11-14T22:13:20Z.
const EPOCH: u64 = 1_700_000_000;
/// The entries' time when it is not set: 1980-01-01T00:00:00Z.
const DEFAULT_EPOCH: u64 = 315_532_800;

const LINUX_TAR: &str = "hello-x86_64-unknown-linux-musl.tar.gz";
const WINDOWS_ZIP: &str = "hello-x86_64-pc-windows-gnu.zip";

/// Describes an archive as Python's standard library reads it, as JSON: the
/// gzip header's flags and time (tar.gz) and every member in order with its
/// type, mode, time, owner and the SHA-256 of its contents.
const DESCRIBE: &str = r#"
import gzip, hashlib, json, sys, tarfile, zipfile
path = sys.argv[1]
out = {"members": []}
if path.endswith(".zip"):
    with zipfile.ZipFile(path) as z:
        out["bad"] = z.testzip()
        for i in z.infolist():
            out["members"].append({
                "name": i.filename,
                "mode": i.external_attr >> 16,
                "system": i.create_system,
                "time": list(i.date_time),
                "method": i.compress_type,
                "sha256": hashlib.sha256(z.read(i)).hexdigest(),
            })
else:
    raw = open(path, "rb").read()
    out["gzip_flags"] = raw[3]
    out["gzip_mtime"] = int.from_bytes(raw[4:8], "little")
    with tarfile.open(path, "r:gz") as t:
        for m in t.getmembers():
            data = t.extractfile(m).read() if m.isfile() else b""
            out["members"].append({
                "name": m.name,
                "kind": "dir" if m.isdir() else "file" if m.isfile() else "other",
                "mode": m.mode,
                "time": m.mtime,
                "owner": [m.uid, m.gid, m.uname, m.gname],
                "sha256": hashlib.sha256(data).hexdigest(),
            })
print(json.dumps(out))
"#;

fn describe(archive: &Path) -> serde_json::Value {
    let out = Command::new("python3")
        .args(["-c", DESCRIBE])
        .arg(archive)
        .output()
        .expect("python3");
    assert!(out.status.success(), "python3: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn sha256(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn readme() -> PathBuf {
    root().join("README.md")
}

fn license() -> PathBuf {
    root().join("LICENSE")
}

/// Runs wpack with `args`, SOURCE_DATE_EPOCH set to `epoch` or unset.
fn run_wpack(args: &[&str], epoch: Option<u64>) -> Output {
    let mut cmd = Command::new(wpack_bin());
    cmd.args(args).arg("--quiet");
    match epoch {
        Some(epoch) => cmd.env("SOURCE_DATE_EPOCH", epoch.to_string()),
        None => cmd.env_remove("SOURCE_DATE_EPOCH"),
    };
    let out = cmd.output().expect("cannot run wpack");
    assert!(out.status.success(), "wpack {args:?}: {}", stderr(&out));
    out
}

fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Checks a tar.gz: a `root/` directory, then `root/hello` (the packed
/// `program`), then the extras in the order given, all at `time` and owned
/// by 0 with no names, gzip without a file name or time.
fn check_tar(archive: &Path, root: &str, program: &Path, extras: &[PathBuf], time: u64) {
    let got = describe(archive);
    assert_eq!(
        got["gzip_flags"].as_u64(),
        Some(0),
        "gzip header flags (FNAME etc.)"
    );
    assert_eq!(got["gzip_mtime"].as_u64(), Some(0), "gzip header time");
    let mut want = vec![serde_json::json!({
        "name": root, "kind": "dir", "mode": 0o755, "time": time,
        "owner": [0, 0, "", ""], "sha256": sha256_of(b""),
    })];
    let mut add = |name: String, path: &Path, mode: u32| {
        want.push(serde_json::json!({
            "name": name, "kind": "file", "mode": mode, "time": time,
            "owner": [0, 0, "", ""], "sha256": sha256(path),
        }))
    };
    add(format!("{root}/hello"), program, 0o755);
    for extra in extras {
        let name = extra.file_name().unwrap().to_str().unwrap();
        add(format!("{root}/{name}"), extra, 0o644);
    }
    assert_eq!(
        got["members"],
        serde_json::Value::Array(want),
        "{}",
        archive.display()
    );
    assert_eq!(mode_of(archive), 0o644, "{} is data", archive.display());
}

/// Checks a Windows zip: flat, `hello.exe` then the extras, Unix modes,
/// DOS time `time` (UTC), deflated, CRCs right.
fn check_zip(archive: &Path, program: &Path, extras: &[PathBuf], time: [u64; 6]) {
    let got = describe(archive);
    assert!(got["bad"].is_null(), "zip CRC: {}", got["bad"]);
    let entry = |name: &str, path: &Path, mode: u32| {
        serde_json::json!({
            "name": name, "mode": 0o100000 | mode, "system": 3, "time": time,
            "method": 8, "sha256": sha256(path),
        })
    };
    let mut want = vec![entry("hello.exe", program, 0o755)];
    for extra in extras {
        want.push(entry(
            extra.file_name().unwrap().to_str().unwrap(),
            extra,
            0o644,
        ));
    }
    assert_eq!(
        got["members"],
        serde_json::Value::Array(want),
        "{}",
        archive.display()
    );
    assert_eq!(mode_of(archive), 0o644, "{} is data", archive.display());
}

fn sha256_of(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `sha256sum -c SHA256SUMS` in `dir` passes and lists exactly `names`.
fn check_sums(dir: &Path, names: &[&str]) {
    let out = Command::new("sha256sum")
        .args(["-c", "--strict", "SHA256SUMS"])
        .current_dir(dir)
        .output()
        .expect("sha256sum");
    assert!(
        out.status.success(),
        "sha256sum -c: {}{}",
        stdout(&out),
        stderr(&out)
    );
    let mut checked: Vec<String> = stdout(&out)
        .lines()
        .map(|l| l.strip_suffix(": OK").expect(l).to_string())
        .collect();
    checked.sort();
    assert_eq!(checked, names, "SHA256SUMS lists every file written");
    assert_eq!(mode_of(&dir.join("SHA256SUMS")), 0o644);
}

/// Extracts a tar.gz with Python's tarfile into `dest`.
fn extract(archive: &Path, dest: &Path) {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2], filter='data')",
        ])
        .arg(archive)
        .arg(dest)
        .output()
        .expect("python3");
    assert!(out.status.success(), "extract: {}", stderr(&out));
}

#[test]
fn one_target_archive_and_checksums() {
    let dir = tempdir();
    let out = dir.path().join("hello");
    let extras = [readme()];
    run_wpack(
        &[
            sample("hello").to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--target",
            "x86_64-linux",
            "--archive",
            "--archive-file",
            extras[0].to_str().unwrap(),
            "--checksums",
        ],
        Some(EPOCH),
    );
    assert_eq!(list_dir(dir.path()), ["SHA256SUMS", "hello", LINUX_TAR]);
    let tar = dir.path().join(LINUX_TAR);
    check_tar(
        &tar,
        "hello-x86_64-unknown-linux-musl",
        &out,
        &extras,
        EPOCH,
    );
    check_sums(dir.path(), &["hello", LINUX_TAR]);

    // The program as a user gets it: unpacked from the archive, then run.
    let unpacked = tempdir();
    extract(&tar, unpacked.path());
    let exe = unpacked
        .path()
        .join("hello-x86_64-unknown-linux-musl/hello");
    let (run, killed) =
        run_with_timeout(&mut Command::new(&exe), std::time::Duration::from_secs(120));
    assert!(!killed, "the unpacked program hung");
    assert!(run.status.success(), "{}", stderr(&run));
    assert_eq!(stdout(&run), "Hello, world!\n");
    assert_eq!(
        std::fs::read(
            unpacked
                .path()
                .join("hello-x86_64-unknown-linux-musl/README.md")
        )
        .unwrap(),
        std::fs::read(readme()).unwrap()
    );
}

#[test]
fn several_targets_archives_are_reproducible() {
    // LICENSE before README: the archives keep the order given.
    let extras = [license(), readme()];
    let pack = |dir: &Path| {
        let out = dir.join("out");
        run_wpack(
            &[
                sample("hello").to_str().unwrap(),
                "--target",
                "x86_64-linux,x86_64-windows",
                "-o",
                out.to_str().unwrap(),
                "--archive-file",
                extras[0].to_str().unwrap(),
                "--archive-file",
                extras[1].to_str().unwrap(),
                "--checksums",
            ],
            None,
        );
        out
    };
    let first = tempdir();
    let out = pack(first.path());
    let written = [
        "hello-x86_64-linux",
        WINDOWS_ZIP,
        LINUX_TAR,
        "hello-x86_64-windows.exe",
    ];
    let mut listed = list_dir(&out);
    listed.retain(|n| n != "SHA256SUMS");
    let mut sorted = written.to_vec();
    sorted.sort();
    assert_eq!(listed, sorted, "--archive-file implies --archive");
    check_tar(
        &out.join(LINUX_TAR),
        "hello-x86_64-unknown-linux-musl",
        &out.join("hello-x86_64-linux"),
        &extras,
        DEFAULT_EPOCH,
    );
    check_zip(
        &out.join(WINDOWS_ZIP),
        &out.join("hello-x86_64-windows.exe"),
        &extras,
        [1980, 1, 1, 0, 0, 0],
    );
    check_sums(&out, &sorted);

    // Another run, elsewhere, later: the same bytes.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let second = tempdir();
    let again = pack(second.path());
    for name in [LINUX_TAR, WINDOWS_ZIP, "SHA256SUMS"] {
        assert!(
            std::fs::read(out.join(name)).unwrap() == std::fs::read(again.join(name)).unwrap(),
            "{name} differs between two runs"
        );
    }
}

#[test]
fn source_date_epoch_sets_the_zip_time() {
    let dir = tempdir();
    let out = dir.path().join("hello.exe");
    run_wpack(
        &[
            sample("hello").to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--target",
            "x86_64-windows",
            "--archive",
        ],
        Some(EPOCH),
    );
    assert_eq!(
        list_dir(dir.path()),
        [WINDOWS_ZIP, "hello.exe"],
        "no SHA256SUMS unasked"
    );
    check_zip(
        &dir.path().join(WINDOWS_ZIP),
        &out,
        &[],
        [2023, 11, 14, 22, 13, 20],
    );
}

#[test]
fn a_missing_archive_file_is_refused() {
    let missing = root().join("no-such-CHANGES.md");
    let missing = missing.to_str().unwrap();
    refuses(
        &sample("hello"),
        &[
            "--target",
            "x86_64-linux",
            "--archive-file",
            missing,
            "--checksums",
        ],
        "no-such-CHANGES.md",
    );
    refuses(
        &sample("hello"),
        &[
            "--target",
            "x86_64-linux,x86_64-windows",
            "--archive",
            "--archive-file",
            missing,
        ],
        "no-such-CHANGES.md",
    );
}

#[test]
fn two_archive_files_with_one_name_are_refused() {
    let other = tempdir();
    let twin = other.path().join("README.md");
    std::fs::write(&twin, "another README\n").unwrap();
    refuses(
        &sample("hello"),
        &[
            "--target",
            "x86_64-linux",
            "--archive-file",
            readme().to_str().unwrap(),
            "--archive-file",
            twin.to_str().unwrap(),
        ],
        "README.md",
    );
    refuses(
        &sample("hello"),
        &[
            "--target",
            "x86_64-linux",
            "--archive-file",
            other.path().to_str().unwrap(),
        ],
        "not a regular file",
    );
}

#[test]
fn a_bad_source_date_epoch_is_refused_before_writing() {
    let dir = tempdir();
    let out = wpack_with_epoch(
        &[
            sample("hello").to_str().unwrap(),
            "-o",
            dir.path().join("out").to_str().unwrap(),
            "--target",
            "x86_64-linux",
            "--archive",
        ],
        "yesterday",
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(
        err.contains("SOURCE_DATE_EPOCH") && err.contains("yesterday"),
        "{err}"
    );
    assert_eq!(
        list_dir(dir.path()),
        Vec::<String>::new(),
        "nothing written"
    );
}

fn wpack_with_epoch(args: &[&str], epoch: &str) -> Output {
    Command::new(wpack_bin())
        .args(args)
        .env("SOURCE_DATE_EPOCH", epoch)
        .output()
        .expect("cannot run wpack")
}
