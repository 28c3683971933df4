//! Windows outputs ready to ship: signed with Authenticode they keep working
//! (osslsigncode signs and verifies, wine runs), their PE checksum is right,
//! and they carry an application manifest and, when asked, version
//! information and an icon. Formats are read back by independent readers:
//! osslsigncode, and Python's pefile (pinned; scripts/install-targets.sh
//! installs all three tools, and a missing one fails these tests).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use common::*;

const TARGET: &str = "x86_64-windows";

/// The options of a program with every Windows resource (the icon is made
/// by `make_icon`).
const VERSION: &str = "1.2.3.4";
const PRODUCT: &str = "Demo Tool";
const COMPANY: &str = "Example Ltd";
const DESCRIPTION: &str = "Prints its arguments";
const COPYRIGHT: &str = "© 2026 Example Ltd, ünï";

fn missing(tool: &str) -> ! {
    panic!(
        "{tool}: missing, so NOT TESTED. Install it with scripts/install-targets.sh \
         (scripts/test.sh runs it)"
    );
}

fn tool(name: &str) -> Command {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        missing(name);
    }
    Command::new(name)
}

/// Runs `cmd` and panics with its stderr unless it succeeds.
fn ok(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?}: {}", stderr(&out));
    out
}

/// Python with pefile, pinned (scripts/install-targets.sh).
fn python() -> Command {
    let python = root().join("target/pefile-venv/bin/python");
    if !python.is_file() {
        missing(&format!("{} (Python's pefile)", python.display()));
    }
    Command::new(python)
}

/// Runs `exe` under wine (in `exe`'s directory, where the shim is); returns
/// the exit code and stdout and stderr with line ends normalised.
fn wine(exe: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let mut cmd = tool("wine");
    cmd.arg(exe)
        .args(args)
        .current_dir(exe.parent().unwrap())
        .env("WINEDEBUG", "-all")
        .env("WINEPREFIX", root().join("target").join("wine-prefix"));
    let (out, killed) = run_with_timeout(&mut cmd, Duration::from_secs(120));
    assert!(!killed, "{} hung under wine", exe.display());
    let text = |b: &[u8]| String::from_utf8_lossy(b).replace("\r\n", "\n");
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

/// The arguments `args.wasm` is run with, and what it then prints first.
const ARGS: [&str; 2] = ["x y", "exit=7"];
const ARGS_OUT: &str = "argv[1]=x y\nargv[2]=exit=7\n";

fn check_runs_like_args(exe: &Path, what: &str) {
    let (code, out, err) = wine(exe, &ARGS);
    assert_eq!(code, Some(7), "{what}: stderr {err}");
    assert!(out.contains(ARGS_OUT), "{what}: {out}");
}

/// A self-signed code-signing certificate in `dir`: (cert.pem, cert.p12).
fn certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let (key, cert, p12) = (
        dir.join("key.pem"),
        dir.join("cert.pem"),
        dir.join("cert.p12"),
    );
    ok(tool("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
        ])
        .args(["-subj", "/CN=wpack test signer"])
        .args(["-addext", "extendedKeyUsage=codeSigning"])
        .args(["-addext", "keyUsage=digitalSignature"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert));
    ok(tool("openssl")
        .args(["pkcs12", "-export", "-passout", "pass:test", "-inkey"])
        .arg(&key)
        .arg("-in")
        .arg(&cert)
        .arg("-out")
        .arg(&p12));
    (cert, p12)
}

fn sign(p12: &Path, input: &Path, output: &Path) {
    ok(tool("osslsigncode")
        .args([
            "sign",
            "-pass",
            "test",
            "-n",
            "wpack test",
            "-h",
            "sha256",
            "-pkcs12",
        ])
        .arg(p12)
        .arg("-in")
        .arg(input)
        .arg("-out")
        .arg(output));
}

/// `osslsigncode verify`, trusting the test's own certificate.
fn verify(cert: &Path, file: &Path) -> Output {
    tool("osslsigncode")
        .arg("verify")
        .arg("-CAfile")
        .arg(cert)
        .arg("-in")
        .arg(file)
        .output()
        .unwrap()
}

/// Checks that running `exe` is refused: exit 1..=125, one line naming the
/// file and containing `expected`.
fn check_refused(exe: &Path, expected: &str) {
    let (code, _, err) = wine(exe, &ARGS);
    let what = format!("{}: stderr {err}", exe.display());
    let code = code.unwrap_or_else(|| panic!("{what}: no exit code"));
    assert!((1..=125).contains(&code), "{what}: exit code {code}");
    assert_eq!(err.trim_end().lines().count(), 1, "{what}");
    assert!(!err.contains("panicked"), "{what}");
    assert!(err.contains(expected), "{what}: {expected:?} missing");
    let name = exe.file_name().unwrap().to_str().unwrap();
    assert!(err.contains(name), "{what}: the file is not named");
}

#[test]
fn signed_output_runs_like_unsigned_and_damage_inside_the_signature_is_refused() {
    let dir = tempdir();
    wine_shim(dir.path());
    let (cert, p12) = certificate(dir.path());
    let unsigned = dir.path().join("a.exe");
    pack(&sample("args"), &unsigned, &["--target", TARGET]);
    let bytes = std::fs::read(&unsigned).unwrap();
    assert_eq!(bytes.len() % 8, 0, "a Windows output ends on 8 bytes");

    let signed = dir.path().join("a-signed.exe");
    sign(&p12, &unsigned, &signed);
    let out = verify(&cert, &signed);
    assert!(
        out.status.success(),
        "verify: {}{}",
        stdout(&out),
        stderr(&out)
    );
    let signed_bytes = std::fs::read(&signed).unwrap();
    // The signer appended its certificate table and changed nothing before
    // it but the checksum and the security directory entry (12 bytes): no
    // padding went between the trailer and the table.
    let table = signed_bytes.len() - bytes.len();
    assert!(table > 0);
    let changed = bytes
        .iter()
        .zip(&signed_bytes)
        .filter(|(a, b)| a != b)
        .count();
    assert!(
        changed <= 12,
        "the signer changed {changed} bytes of the packed file"
    );

    let (code, out, err) = wine(&unsigned, &ARGS);
    assert_eq!(code, Some(7), "unsigned: {err}");
    assert!(out.contains(ARGS_OUT), "unsigned: {out}");
    let (signed_code, signed_out, signed_err) = wine(&signed, &ARGS);
    assert_eq!(
        (signed_code, signed_out.replace("a-signed.exe", "a.exe")),
        (code, out),
        "signed: {signed_err}"
    );

    // wpack reads it too, and says it is signed, in text and JSON.
    let text = stdout(&wpack(&["inspect", signed.to_str().unwrap()]));
    let line = format!("signed (Authenticode), {table} bytes of certificates");
    assert!(text.contains(&line), "{line:?} missing in:\n{text}");
    let json = wpack(&["inspect", "--json", signed.to_str().unwrap()]);
    assert!(json.status.success(), "{}", stderr(&json));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["authenticode_certificate_bytes"], table as u64);
    let report = wpack(&["inspect", "--json", unsigned.to_str().unwrap()]);
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    assert!(report["authenticode_certificate_bytes"].is_null());
    let payload_at = report["payload_offset"].as_u64().unwrap() as usize;
    let payload_len = report["payload_bytes"].as_u64().unwrap() as usize;

    // One flipped byte in the payload: the signature no longer matches and
    // the stub refuses to run the code.
    let mut flipped = signed_bytes.clone();
    flipped[payload_at + payload_len / 2] ^= 0x20;
    let damaged = dir.path().join("damaged.exe");
    std::fs::write(&damaged, &flipped).unwrap();
    let out = verify(&cert, &damaged);
    assert!(!out.status.success(), "verify passed a damaged file");
    check_refused(&damaged, "damaged");

    // Bytes after the certificate table are not part of anything.
    let mut appended = signed_bytes.clone();
    appended.extend_from_slice(b"appended");
    let junk = dir.path().join("junk.exe");
    std::fs::write(&junk, &appended).unwrap();
    check_refused(&junk, "damaged");
    let out = wpack(&["inspect", junk.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

/// What pefile reads from a Windows file, as JSON.
const READ_PE: &str = r#"
import json, struct, sys
import pefile

pe = pefile.PE(sys.argv[1])
out = {
    "checksum_field": pe.OPTIONAL_HEADER.CheckSum,
    "checksum_ok": pe.verify_checksum(),
    "warnings": pe.get_warnings(),
    "sections": {s.Name.rstrip(b"\0").decode(): s.SizeOfRawData for s in pe.sections},
    "types": [],
    "manifest": None,
    "strings": {},
    "fixed": None,
    "icons": [],
    "group_icons": [],
}
res = getattr(pe, "DIRECTORY_ENTRY_RESOURCE", None)

def leaves(entry):
    if hasattr(entry, "directory"):
        for sub in entry.directory.entries:
            yield from leaves(sub)
    else:
        yield pe.get_data(entry.data.struct.OffsetToData, entry.data.struct.Size)

if res is not None:
    for kind in res.entries:
        out["types"].append(kind.id)
        data = list(leaves(kind))
        if kind.id == pefile.RESOURCE_TYPE["RT_MANIFEST"]:
            out["manifest"] = data[0].decode()
        elif kind.id == pefile.RESOURCE_TYPE["RT_ICON"]:
            out["icons"] = [d.hex() for d in data]
        elif kind.id == pefile.RESOURCE_TYPE["RT_GROUP_ICON"]:
            for d in data:
                _, kind_, count = struct.unpack_from("<HHH", d)
                entries = [struct.unpack_from("<BBBBHHIH", d, 6 + 14 * i) for i in range(count)]
                out["group_icons"].append([{"width": e[0], "bytes": e[6], "id": e[7]} for e in entries])
for info in getattr(pe, "FileInfo", []):
    for entry in info:
        if entry.Key == b"StringFileInfo":
            for table in entry.StringTable:
                for k, v in table.entries.items():
                    out["strings"][k.decode()] = v.decode()
if hasattr(pe, "VS_FIXEDFILEINFO"):
    f = pe.VS_FIXEDFILEINFO[0]
    out["fixed"] = [f.FileVersionMS, f.FileVersionLS, f.ProductVersionMS, f.ProductVersionLS]
print(json.dumps(out))
"#;

fn read_pe(file: &Path) -> serde_json::Value {
    let out = ok(python().arg("-c").arg(READ_PE).arg(file));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Writes a multi-size .ico to `path`: 16 and 32 pixel PNG images and a
/// 48 pixel BMP one; returns the bytes of each image, in order.
const MAKE_ICON: &str = r#"
import struct, sys, zlib

def png(size, rgba):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\0" + bytes(rgba) * size for _ in range(size))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))

def bmp(size, bgra):
    header = struct.pack("<IiiHHIIiiII", 40, size, 2 * size, 1, 32, 0, 0, 0, 0, 0, 0)
    mask_row = (size + 31) // 32 * 4
    return header + bytes(bgra) * size * size + b"\0" * mask_row * size

images = [(16, png(16, [200, 30, 30, 255])), (32, png(32, [30, 200, 30, 255])), (48, bmp(48, [200, 30, 30, 255]))]
offset = 6 + 16 * len(images)
directory, data = struct.pack("<HHH", 0, 1, len(images)), b""
for size, image in images:
    directory += struct.pack("<BBBBHHII", size, size, 0, 0, 1, 32, len(image), offset + len(data))
    data += image
open(sys.argv[1], "wb").write(directory + data)
print(" ".join(image.hex() for _, image in images))
"#;

fn make_icon(path: &Path) -> Vec<String> {
    let out = ok(python().arg("-c").arg(MAKE_ICON).arg(path));
    stdout(&out).split_whitespace().map(str::to_owned).collect()
}

fn with_every_resource(icon: &Path) -> Vec<String> {
    [
        "--target",
        TARGET,
        "--windows-icon",
        icon.to_str().unwrap(),
        "--windows-version",
        VERSION,
        "--windows-product",
        PRODUCT,
        "--windows-company",
        COMPANY,
        "--windows-description",
        DESCRIPTION,
        "--windows-copyright",
        COPYRIGHT,
    ]
    .map(str::to_owned)
    .to_vec()
}

fn manifest_is_complete(pe: &serde_json::Value) {
    let manifest = pe["manifest"].as_str().expect("an RT_MANIFEST resource");
    for part in [
        r#"level="asInvoker""#,
        "<longPathAware",
        ">true</longPathAware>",
        ">UTF-8</activeCodePage>",
        "{8e0f7a12-bfb3-4fe8-b9a5-48fd50a15a9a}",
    ] {
        assert!(manifest.contains(part), "{part:?} missing in {manifest}");
    }
}

#[test]
fn resources_as_an_independent_reader_sees_them_and_the_output_runs() {
    let dir = tempdir();
    wine_shim(dir.path());
    let icon = dir.path().join("app.ico");
    let images = make_icon(&icon);
    let exe = dir.path().join("install-tool.exe");
    let options = with_every_resource(&icon);
    let options: Vec<&str> = options.iter().map(String::as_str).collect();
    pack(&sample("args"), &exe, &options);

    let pe = read_pe(&exe);
    assert_eq!(pe["warnings"], serde_json::json!([]), "{pe}");
    assert_eq!(pe["checksum_ok"], true, "{pe}");
    let types: Vec<u64> = serde_json::from_value(pe["types"].clone()).unwrap();
    for (kind, name) in [
        (3, "RT_ICON"),
        (14, "RT_GROUP_ICON"),
        (16, "RT_VERSION"),
        (24, "RT_MANIFEST"),
    ] {
        assert!(types.contains(&kind), "{name} missing: {types:?}");
    }
    manifest_is_complete(&pe);
    let strings = &pe["strings"];
    for (key, value) in [
        ("FileVersion", VERSION),
        ("ProductVersion", VERSION),
        ("ProductName", PRODUCT),
        ("CompanyName", COMPANY),
        ("FileDescription", DESCRIPTION),
        ("LegalCopyright", COPYRIGHT),
    ] {
        assert_eq!(strings[key], value, "{key}: {strings}");
    }
    assert_eq!(
        strings.as_object().unwrap().len(),
        6,
        "only what was given: {strings}"
    );
    let (ms, ls) = ((1u64 << 16) | 2, (3u64 << 16) | 4);
    assert_eq!(pe["fixed"], serde_json::json!([ms, ls, ms, ls]));
    // The icon group lists every image of the .ico, each stored whole.
    assert_eq!(pe["icons"], serde_json::json!(images));
    let group = &pe["group_icons"][0];
    let widths: Vec<u64> = group
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["width"].as_u64().unwrap())
        .collect();
    assert_eq!(widths, [16, 32, 48]);
    for (entry, image) in group.as_array().unwrap().iter().zip(&images) {
        assert_eq!(entry["bytes"].as_u64().unwrap() as usize, image.len() / 2);
    }

    check_runs_like_args(&exe, "with every resource");
    let text = stdout(&wpack(&["inspect", exe.to_str().unwrap()]));
    assert!(text.contains("Target:"), "{text}");
}

#[test]
fn every_output_has_the_manifest_a_right_checksum_and_claims_nothing() {
    let dir = tempdir();
    wine_shim(dir.path());
    for (name, extra) in [
        ("hello", &[][..]),
        ("args", &["--include", "samples/args::/data"][..]),
    ] {
        let exe = dir.path().join(format!("{name}.exe"));
        let mut options = vec!["--target", TARGET];
        options.extend_from_slice(extra);
        let out = Command::new(wpack_bin())
            .arg(sample(name))
            .arg("-o")
            .arg(&exe)
            .arg("--quiet")
            .args(&options)
            .current_dir(root())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let pe = read_pe(&exe);
        assert_eq!(pe["checksum_ok"], true, "{name}: {pe}");
        assert_ne!(pe["checksum_field"], 0, "{name}");
        assert_eq!(pe["warnings"], serde_json::json!([]), "{name}: {pe}");
        let types: Vec<u64> = serde_json::from_value(pe["types"].clone()).unwrap();
        assert_eq!(types, [24], "{name}: the manifest only");
        manifest_is_complete(&pe);
        assert!(pe["fixed"].is_null(), "{name}: no version information");
        assert!(
            !pe["manifest"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .contains("wpack")
        );
        // The issue's budget: the manifest and resources add at most 8 KiB.
        let rsrc = pe["sections"][".rsrc"].as_u64().expect("a .rsrc section");
        assert!(rsrc <= 8 * 1024, "{name}: .rsrc is {rsrc} bytes");
        eprintln!("{name}: .rsrc section of {rsrc} bytes");
    }
    let (code, out, err) = wine(&dir.path().join("hello.exe"), &[]);
    assert_eq!((code, out.as_str()), (Some(0), "Hello, world!\n"), "{err}");
    check_runs_like_args(&dir.path().join("args.exe"), "with --include");
}

#[test]
fn the_same_inputs_give_the_same_bytes() {
    let dir = tempdir();
    let icon = dir.path().join("app.ico");
    make_icon(&icon);
    let options = with_every_resource(&icon);
    let options: Vec<&str> = options.iter().map(String::as_str).collect();
    let mut files = Vec::new();
    for run in ["one", "two"] {
        std::fs::create_dir(dir.path().join(run)).unwrap();
        let exe = dir.path().join(run).join("args.exe");
        pack(&sample("args"), &exe, &options);
        files.push(std::fs::read(&exe).unwrap());
    }
    assert!(files[0] == files[1], "two packs of the same inputs differ");
}

#[test]
fn a_file_that_is_not_an_icon_is_refused_in_one_line() {
    let dir = tempdir();
    let icon = dir.path().join("good.ico");
    make_icon(&icon);
    let good = std::fs::read(&icon).unwrap();
    let png = good[6 + 16 * 3..].to_vec(); // the first image alone: a PNG file
    let mut cut = good.clone();
    cut.truncate(good.len() - 10);
    let mut count_zero = good.clone();
    count_zero[4] = 0;
    for (name, bytes) in [
        ("picture.ico", png),
        ("text.ico", b"not an icon at all\n".to_vec()),
        ("cut.ico", cut),
        ("empty-directory.ico", count_zero),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        refuses(
            &sample("hello"),
            &["--target", TARGET, "--windows-icon", path.to_str().unwrap()],
            "is not a Windows icon (.ico) file",
        );
    }
    refuses(
        &sample("hello"),
        &["--target", TARGET, "--windows-icon", "/nonexistent/app.ico"],
        "/nonexistent/app.ico",
    );
}

#[test]
fn windows_options_for_another_target_are_refused() {
    let dir = tempdir();
    let icon = dir.path().join("app.ico");
    make_icon(&icon);
    for (flag, value) in [
        ("--windows-icon", icon.to_str().unwrap()),
        ("--windows-version", "1.0.0"),
        ("--windows-product", "x"),
        ("--windows-company", "x"),
        ("--windows-description", "x"),
        ("--windows-copyright", "x"),
    ] {
        refuses(
            &sample("hello"),
            &["--target", "x86_64-linux", flag, value],
            &format!("{flag} applies to Windows outputs only (--target x86_64-windows)"),
        );
    }
    for bad in ["1.2", "1.2.3.4.5", "1.2.x", "70000.0.0"] {
        let out = wpack(&[
            sample("hello").to_str().unwrap(),
            "--target",
            TARGET,
            "--windows-version",
            bad,
            "-o",
            dir.path().join("v.exe").to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("give the version as X.Y.Z or X.Y.Z.W"),
            "{}",
            stderr(&out)
        );
        assert!(!dir.path().join("v.exe").exists());
    }
}
