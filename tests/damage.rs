//! Damaged packed files: truncated, bit-flipped, with junk appended, stripped.
//! Each must either run exactly like the intact file or exit with a code in
//! 1..=125 and one line naming the file and the problem: never a signal,
//! never a hang, never a panic.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::*;
use wpack_stub::payload;

/// How many positions across the payload are sampled (the trailer and the
/// manifest are covered byte by byte).
const PAYLOAD_SAMPLES: usize = 96;

#[derive(Default)]
struct Verdict {
    ran_as_intact: usize,
    refused: usize,
}

/// Runs one damaged variant and checks the rule above.
fn check(path: &Path, intact_stdout: &str, what: &str, verdict: &mut Verdict) {
    let (out, killed) = run_with_timeout(&mut Command::new(path), Duration::from_secs(20));
    assert!(!killed, "{what}: hung");
    let code = out
        .status
        .code()
        .unwrap_or_else(|| panic!("{what}: killed by a signal: {:?}", out.status));
    let err = stderr(&out);
    assert!(!err.contains("panicked"), "{what}: panic: {err}");
    if code == 0 && stdout(&out) == intact_stdout {
        verdict.ran_as_intact += 1;
        return;
    }
    assert!(
        (1..=125).contains(&code),
        "{what}: exit code {code}; stderr: {err}"
    );
    assert_eq!(err.lines().count(), 1, "{what}: one line expected: {err}");
    let name = path.file_name().unwrap().to_str().unwrap();
    assert!(
        err.contains(name),
        "{what}: message does not name the file: {err}"
    );
    verdict.refused += 1;
}

/// Positions: every byte from the ELF section index to the end, plus a
/// spread across the payload including its first and last byte.
fn positions(file: &[u8]) -> Vec<usize> {
    let packed = payload::read(file).unwrap();
    let start = packed.payload_offset as usize;
    let manifest_at = start + packed.payload.len();
    let step = (packed.payload.len() / PAYLOAD_SAMPLES).max(1);
    let mut at: Vec<usize> = (start..manifest_at).step_by(step).collect();
    at.push(manifest_at - 1);
    at.extend(manifest_at..file.len());
    at
}

/// Packs hello with `extra` options into `dir`; returns the intact bytes and
/// the path where damaged variants are written.
fn intact_hello(dir: &Path, extra: &[&str], variant: &str) -> (Vec<u8>, PathBuf) {
    let hello = pack_sample("hello", dir, extra);
    (std::fs::read(&hello).unwrap(), dir.join(variant))
}

#[test]
fn truncated_at_every_tail_byte_and_across_the_payload() {
    let dir = tempdir();
    let (intact, variant) = intact_hello(dir.path(), &[], "truncated-hello");
    let mut verdict = Verdict::default();
    let cuts = positions(&intact);
    for &cut in &cuts {
        write_executable(&variant, &intact[..cut]);
        check(
            &variant,
            "Hello, world!\n",
            &format!("truncated at {cut}"),
            &mut verdict,
        );
    }
    eprintln!(
        "truncations: {} positions, {} refused",
        cuts.len(),
        verdict.refused
    );
    assert_eq!(verdict.refused, cuts.len(), "a truncated file cannot run");
}

#[test]
fn bit_flips_at_every_tail_byte_and_across_the_payload() {
    let dir = tempdir();
    let (intact, variant) =
        intact_hello(dir.path(), &["--dir", ".", "--env", "A=1"], "flipped-hello");
    let mut verdict = Verdict::default();
    let at = positions(&intact);
    for &pos in &at {
        let mut bytes = intact.clone();
        bytes[pos] ^= 1 << (pos % 8);
        write_executable(&variant, &bytes);
        check(
            &variant,
            "Hello, world!\n",
            &format!("bit flipped at {pos}"),
            &mut verdict,
        );
    }
    eprintln!(
        "bit flips: {} bytes, {} refused, {} ran as intact",
        at.len(),
        verdict.refused,
        verdict.ran_as_intact
    );
    // The payload and the manifest are covered by hashes: every flip there is
    // caught. (Only the hash fields themselves could flip "harmlessly", and
    // they cannot: a changed hash no longer matches.)
    assert_eq!(verdict.refused, at.len());
}

/// The ELF header fields that lead wasmtime to the payload (e_shoff, e_flags,
/// e_shentsize, e_shnum, e_shstrndx; docs/FORMAT.md): the kernel ignores
/// them, so only the stub's check stands between a flip and wasmtime reading
/// the wrong bytes as compiled code.
#[test]
fn bit_flips_in_the_elf_header_fields_that_point_at_the_payload() {
    let dir = tempdir();
    let (intact, variant) = intact_hello(dir.path(), &[], "header-hello");
    let mut verdict = Verdict::default();
    let fields: Vec<usize> = (40..52).chain(58..64).collect();
    for &pos in &fields {
        for bit in [0, 3, 7] {
            let mut bytes = intact.clone();
            bytes[pos] ^= 1 << bit;
            write_executable(&variant, &bytes);
            check(
                &variant,
                "Hello, world!\n",
                &format!("header bit {bit} flipped at {pos}"),
                &mut verdict,
            );
        }
    }
    assert_eq!(verdict.refused, fields.len() * 3);
}

#[test]
fn junk_appended() {
    let dir = tempdir();
    let (intact, variant) = intact_hello(dir.path(), &[], "junk-hello");
    let mut verdict = Verdict::default();
    for junk in [&b"\n"[..], b"0123456789", &[0u8; 4096], &[0xa5; 70_000]] {
        let mut bytes = intact.clone();
        bytes.extend_from_slice(junk);
        write_executable(&variant, &bytes);
        check(
            &variant,
            "Hello, world!\n",
            &format!("{} junk bytes", junk.len()),
            &mut verdict,
        );
    }
    assert_eq!(verdict.refused, 4);
}

#[test]
fn stripped_file_says_the_payload_was_removed() {
    // `strip` rewrites an executable from its section headers. In a packed
    // Linux file they list the stub's sections (unnamed) and the payload's
    // (docs/FORMAT.md, "ELF section index"): strip keeps the stub whole and
    // drops what follows it, and the stub says so.
    let dir = tempdir();
    let hello = pack_sample("hello", dir.path(), &[]);
    let stripped = dir.path().join("stripped-hello");
    let status = Command::new("strip")
        .arg("-o")
        .arg(&stripped)
        .arg(&hello)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("`strip` (binutils) is needed for this test");
    assert!(status.success());
    let (out, killed) = run_with_timeout(&mut Command::new(&stripped), Duration::from_secs(20));
    assert!(!killed);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("stripped-hello") && err.contains("strip"),
        "{err}"
    );
    // The packed file itself is untouched and still runs.
    let out = Command::new(&hello).output().unwrap();
    assert_eq!(stdout(&out), "Hello, world!\n");
}

/// The payload hash is remembered per file (see stub/src/verified.rs); a
/// file changed after its check must be checked again, and refused.
#[test]
fn a_file_damaged_after_a_successful_check_is_checked_again() {
    use std::io::{Seek, SeekFrom, Write};

    let dir = tempdir();
    let cache = tempdir();
    let hello = pack_sample("hello", dir.path(), &[]);
    let run = || {
        let out = Command::new(&hello)
            .env("XDG_CACHE_HOME", cache.path())
            .env("WPACK_DEBUG", "1")
            .output()
            .unwrap();
        (out.status.code(), stdout(&out), stderr(&out))
    };
    let entries = || list_dir(&cache.path().join("wpack").join("verified")).len();

    // Just written: verified, but not remembered (its times may be too coarse).
    let (code, _, err) = run();
    assert_eq!(code, Some(0));
    assert!(err.contains("verified now"), "{err}");
    assert!(!cache.path().join("wpack").exists());

    std::thread::sleep(Duration::from_millis(2200));
    let (_, _, err) = run();
    assert!(err.contains("verified now"), "{err}");
    assert_eq!(entries(), 1);
    let (code, out, err) = run();
    assert_eq!((code, out.as_str()), (Some(0), "Hello, world!\n"));
    assert!(err.contains("verified at an earlier start"), "{err}");

    // Same file, same size, one byte of code changed in place.
    let bytes = std::fs::read(&hello).unwrap();
    let at = payload::read(&bytes).unwrap().payload_offset + 5000;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(&hello)
        .unwrap();
    file.seek(SeekFrom::Start(at)).unwrap();
    file.write_all(&[bytes[at as usize] ^ 0x10]).unwrap();
    drop(file);
    let (code, out, err) = run();
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(out, "");
    assert!(err.contains("the compiled code is damaged"), "{err}");
}
