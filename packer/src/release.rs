//! Release files next to the outputs: archives in cargo-dist's layout and
//! a `SHA256SUMS` in `sha256sum`'s format.
//!
//! The layout follows cargo-dist (axodotdev/cargo-dist, read at commit
//! 7bbefa3d of 2026-05-15): `make_executable_zip_for_variant` in
//! `cargo-dist/src/tasks.rs` names each archive `{app}-{target}` plus the
//! format's extension (`.tar.xz` by default for Unix, `.zip` for Windows;
//! `unix-archive = ".tar.gz"` is one of its options) and sets `with_root` to
//! `{app}-{target}` for tarballs but to nothing for zips — its comment: "we
//! currently rely on zips being flat, but --strip-prefix=1 tarballs".
//! axoasset's `tar_dir` (src/compression.rs) then writes the tarball with
//! `append_dir_all({app}-{target}, ...)`, i.e. a directory entry for that
//! root followed by the files under it, and `zip_dir` puts the files at the
//! zip's top level. So, as there:
//!
//! - `{program}-{triple}.tar.gz`: `{program}-{triple}/` (a directory entry),
//!   `{program}-{triple}/{program}`, `{program}-{triple}/{extra}`...
//! - `{program}-{triple}.zip` (Windows): `{program}.exe`, `{extra}`... flat.
//!
//! cargo-binstall's default `bin-dir` (`{name}-{target}-v{version}/{bin}`)
//! does not match either exactly, but it also searches the archive's top
//! level and one directory down, so both layouts install.
//!
//! Reproducible as scripts/dist/tools.py makes wpack's own archives: every
//! entry has the time of SOURCE_DATE_EPOCH (or 1980-01-01, the oldest time
//! both formats hold, so tar and zip agree), owner 0 with no owner names,
//! mode 0755 for the program and its directory and 0644 for the extras, a
//! fixed order (program first, extras as given), and gzip without a file
//! name or time. The zip's DOS times are taken as UTC, clamped to the range
//! the format holds (1980-2107) and rounded down to even seconds.

use std::ffi::OsStr;
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

/// 1980-01-01T00:00:00Z: the default time of every entry, the oldest time a
/// zip can hold.
const DEFAULT_EPOCH: u64 = 315_532_800;

/// Checked before anything slow: every extra exists, is a regular file, the
/// file names are distinct and none is the program's own name. One-line errors
/// naming the file. SOURCE_DATE_EPOCH, which `archive` reads, is checked here
/// too, so that a bad value stops the run before any output is written.
pub fn check_extras(extras: &[PathBuf], program: &str) -> Result<()> {
    check_program_name(program)?;
    source_date_epoch(std::env::var_os("SOURCE_DATE_EPOCH").as_deref())?;
    // Compared without case: the archives are unpacked on Windows and macOS,
    // where `README` and `readme` are the same file.
    let own = [program.to_lowercase(), windows_name(program).to_lowercase()];
    let mut seen: Vec<(String, &Path)> = Vec::new();
    for extra in extras {
        let name = extra_name(extra)?;
        let meta = fs::metadata(extra).with_context(|| {
            format!(
                "cannot read the --archive-file {}; pass an existing file",
                extra.display()
            )
        })?;
        if !meta.is_file() {
            bail!(
                "the --archive-file {} is not a regular file; pass a file (a directory cannot be one)",
                extra.display()
            );
        }
        let key = name.to_lowercase();
        if own.contains(&key) {
            bail!(
                "the --archive-file {} has the program's own name {name}; rename it",
                extra.display()
            );
        }
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
            bail!(
                "the --archive-file {} has the same file name as {}; an archive holds one file per name",
                extra.display(),
                first.display()
            );
        }
        seen.push((key, extra));
    }
    Ok(())
}

/// Writes next to `output` (same directory) the release archive of one packed
/// file, in cargo-dist's layout and naming (see the module comment):
/// `{program}-{triple}.tar.gz` or, when `windows`, `{program}-{triple}.zip`.
/// Returns the archive's path.
pub fn archive(
    output: &Path,
    program: &str,
    triple: &str,
    windows: bool,
    extras: &[PathBuf],
) -> Result<PathBuf> {
    check_program_name(program)?;
    // A Windows program named with its `.exe` gives the same archive as
    // without: `hello.exe` goes in `hello-{triple}.zip`.
    let program = match windows {
        true => strip_exe(program),
        false => program,
    };
    check_program_name(program)?;
    let epoch = source_date_epoch(std::env::var_os("SOURCE_DATE_EPOCH").as_deref())?;
    let root = format!("{program}-{triple}");
    check_program_name(&root)?;
    let dir = match output.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let path = dir.join(format!(
        "{root}{}",
        if windows { ".zip" } else { ".tar.gz" }
    ));
    if path.file_name() == output.file_name() {
        bail!(
            "the archive {} would replace the packed file itself; choose another output name",
            path.display()
        );
    }
    let mut entries = vec![Entry {
        name: if windows {
            windows_name(program)
        } else {
            format!("{root}/{program}")
        },
        source: output,
        mode: 0o755,
    }];
    for extra in extras {
        let name = extra_name(extra)?;
        entries.push(Entry {
            name: if windows {
                name.to_owned()
            } else {
                format!("{root}/{name}")
            },
            source: extra,
            mode: 0o644,
        });
    }
    write_new_file(&path, |out| {
        if windows {
            write_zip(out, &entries, epoch)
        } else {
            write_tar_gz(out, &root, &entries, epoch)
        }
    })?;
    Ok(path)
}

/// Writes `dir/SHA256SUMS` in `sha256sum` format ("<64 hex>  <name>\n"),
/// names relative to `dir` with `/` separators, sorted by name; atomically.
/// A SHA256SUMS among `files` is left out (it cannot list itself).
pub fn checksums(dir: &Path, files: &[PathBuf]) -> Result<PathBuf> {
    let sums = dir.join("SHA256SUMS");
    let mut lines = Vec::new();
    for file in files {
        let name = relative_name(dir, file)?;
        if name == "SHA256SUMS" {
            continue;
        }
        lines.push((name, sha256_hex(file)?));
    }
    lines.sort();
    lines.dedup();
    let text: String = lines
        .iter()
        .map(|(name, hash)| sum_line(name, hash))
        .collect();
    write_new_file(&sums, |out| out.write_all(text.as_bytes()))?;
    Ok(sums)
}

/// One file to put in an archive.
struct Entry<'a> {
    /// Its name inside the archive, with `/` separators.
    name: String,
    source: &'a Path,
    mode: u32,
}

impl Entry<'_> {
    /// Opens the source, with its length at the time it was opened.
    fn open(&self) -> io::Result<(File, u64)> {
        let file = File::open(self.source).map_err(|e| self.error(e))?;
        let len = file.metadata().map_err(|e| self.error(e))?.len();
        Ok((file, len))
    }

    fn error(&self, e: io::Error) -> io::Error {
        io::Error::new(e.kind(), format!("{}: {e}", self.source.display()))
    }
}

fn write_tar_gz(out: &mut dyn Write, root: &str, entries: &[Entry], epoch: u64) -> io::Result<()> {
    let gzip = flate2::GzBuilder::new()
        .mtime(0)
        .write(out, flate2::Compression::best());
    let mut tar = tar::Builder::new(gzip);
    let header = |kind: tar::EntryType, mode: u32, size: u64| {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_size(size);
        header.set_mtime(epoch);
        header.set_uid(0);
        header.set_gid(0);
        // new_gnu leaves the owner names empty already; saying so keeps it
        // that way whatever the crate's default becomes.
        header.set_username("")?;
        header.set_groupname("")?;
        Ok::<_, io::Error>(header)
    };
    let mut dir = header(tar::EntryType::Directory, 0o755, 0)?;
    tar.append_data(&mut dir, format!("{root}/"), io::empty())?;
    for entry in entries {
        let (file, len) = entry.open()?;
        let mut head = header(tar::EntryType::Regular, entry.mode, len)?;
        let data = Exact {
            inner: BufReader::new(file).take(len),
            left: len,
            source: entry.source,
        };
        tar.append_data(&mut head, &entry.name, data)?;
    }
    tar.into_inner()?.finish()?;
    Ok(())
}

fn write_zip<W: Write + Seek>(out: W, entries: &[Entry], epoch: u64) -> io::Result<()> {
    let (year, month, day, hour, minute, second) = dos_time(epoch);
    let time = zip::DateTime::from_date_and_time(year, month, day, hour, minute, second)
        .map_err(|e| io::Error::other(format!("zip time: {e}")))?;
    let mut zip = zip::ZipWriter::new(out);
    for entry in entries {
        let (file, len) = entry.open()?;
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(9))
            .last_modified_time(time)
            .unix_permissions(entry.mode)
            // ZIP64 fields only where the size needs them, so that ordinary
            // files stay readable by every unzip.
            .large_file(len >= u64::from(u32::MAX));
        zip.start_file(entry.name.as_str(), options)
            .map_err(io::Error::other)?;
        let mut data = Exact {
            inner: BufReader::new(file).take(len),
            left: len,
            source: entry.source,
        };
        io::copy(&mut data, &mut zip)?;
    }
    zip.finish().map_err(io::Error::other)?;
    Ok(())
}

/// Reads exactly `left` bytes: a file that shrinks while it is archived is
/// an error rather than an entry shorter than its header says (the tar crate
/// does not check).
struct Exact<'a, R> {
    inner: R,
    left: u64,
    source: &'a Path,
}

impl<R: Read> Read for Exact<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && self.left > 0 && !buf.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{} changed while it was archived", self.source.display()),
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// The time of every entry: SOURCE_DATE_EPOCH (seconds since 1970, UTC) if
/// set and not empty, otherwise [`DEFAULT_EPOCH`].
fn source_date_epoch(value: Option<&OsStr>) -> Result<u64> {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return Ok(DEFAULT_EPOCH);
    };
    match value.to_str().and_then(|v| v.trim().parse::<u64>().ok()) {
        Some(seconds) => Ok(seconds),
        None => bail!(
            "SOURCE_DATE_EPOCH is {}, not a number of seconds since 1970; set it to one (e.g. `git log -1 --format=%ct`) or unset it",
            value.to_string_lossy()
        ),
    }
}

/// A zip's date and time fields for `epoch`, in UTC: clamped to 1980-2107,
/// seconds rounded down to even (the DOS format counts two-second units).
fn dos_time(epoch: u64) -> (u16, u8, u8, u8, u8, u8) {
    // 2107-12-31T23:59:58Z, the newest time a DOS date holds.
    const LATEST: u64 = 4_354_819_198;
    let epoch = epoch.clamp(DEFAULT_EPOCH, LATEST);
    let days = epoch / 86_400;
    let secs = epoch % 86_400;
    let (year, month, day) = civil_from_days(days);
    (
        year,
        month,
        day,
        (secs / 3600) as u8,
        (secs / 60 % 60) as u8,
        (secs % 60 / 2 * 2) as u8,
    )
}

/// The Gregorian date `days` after 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for days >= 0).
fn civil_from_days(days: u64) -> (u16, u8, u8) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year as u16, month as u8, day as u8)
}

/// The program's name on Windows: with `.exe` unless it has it already.
fn windows_name(program: &str) -> String {
    format!("{}.exe", strip_exe(program))
}

/// `program` without a final `.exe` (in any case).
fn strip_exe(program: &str) -> &str {
    match program.len().checked_sub(4) {
        Some(at) if program.is_char_boundary(at) && program[at..].eq_ignore_ascii_case(".exe") => {
            &program[..at]
        }
        _ => program,
    }
}

/// The name an archive's entries and its own file name start with must be
/// one plain file name.
fn check_program_name(name: &str) -> Result<()> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\', '\0']) {
        bail!("{name:?} cannot name a file in a release archive; choose another output name");
    }
    Ok(())
}

/// An extra's name inside the archive: its file name, which must be UTF-8
/// (zip names are text, and `sha256sum` lines should read the same
/// everywhere).
fn extra_name(extra: &Path) -> Result<&str> {
    let Some(name) = extra.file_name() else {
        bail!(
            "the --archive-file {} has no file name; name a file",
            extra.display()
        );
    };
    match name.to_str() {
        Some(name) if !name.contains('\\') => Ok(name),
        _ => bail!(
            "the --archive-file {} has a file name that is not plain UTF-8 text; rename it",
            extra.display()
        ),
    }
}

/// `file`'s name relative to `dir`, with `/` separators.
fn relative_name(dir: &Path, file: &Path) -> Result<String> {
    let relative = match file.strip_prefix(dir) {
        Ok(relative) => relative.to_path_buf(),
        // One of the two may be spelt through a link or `..`: compare the
        // real paths.
        Err(_) => {
            let real = |p: &Path| {
                fs::canonicalize(p).with_context(|| format!("cannot read {}", p.display()))
            };
            let (dir_real, file_real) = (real(dir)?, real(file)?);
            match file_real.strip_prefix(&dir_real) {
                Ok(relative) => relative.to_path_buf(),
                Err(_) => bail!(
                    "{} is not in {}, so SHA256SUMS there cannot list it",
                    file.display(),
                    dir.display()
                ),
            }
        }
    };
    let mut parts = Vec::new();
    for component in relative.components() {
        match component {
            Component::Normal(part) => match part.to_str() {
                Some(part) => parts.push(part),
                None => bail!(
                    "{} has a name that is not UTF-8 text; SHA256SUMS cannot list it",
                    file.display()
                ),
            },
            Component::CurDir => {}
            _ => bail!(
                "{} is not in {}, so SHA256SUMS there cannot list it",
                file.display(),
                dir.display()
            ),
        }
    }
    if parts.is_empty() {
        bail!("{} is a directory, not a file to checksum", file.display());
    }
    Ok(parts.join("/"))
}

fn sha256_hex(file: &Path) -> Result<String> {
    let fail = || format!("cannot read {} to checksum it", file.display());
    let mut hasher = Sha256::new();
    io::copy(&mut File::open(file).with_context(fail)?, &mut hasher).with_context(fail)?;
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// One line of `sha256sum` output. As GNU coreutils does, a name holding a
/// backslash, newline or carriage return is escaped and the line starts
/// with a backslash, so that every name reads back as it was.
fn sum_line(name: &str, hash: &str) -> String {
    if name.contains(['\\', '\n', '\r']) {
        let escaped = name
            .replace('\\', "\\\\")
            .replace('\n', "\\n")
            .replace('\r', "\\r");
        format!("\\{hash}  {escaped}\n")
    } else {
        format!("{hash}  {name}\n")
    }
}

/// Writes `path` atomically with mode 0644: a release file is data, not a
/// program.
fn write_new_file(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<&File>) -> io::Result<()>,
) -> Result<()> {
    crate::output::write_atomically_with_mode(path, 0o644, write)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, bytes).unwrap();
        path
    }

    fn message(result: Result<()>) -> String {
        let err = format!("{:#}", result.unwrap_err());
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        err
    }

    #[test]
    fn extras_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let readme = write(dir.path(), "README.md", b"read me\n");
        let license = write(dir.path(), "LICENSE", b"licence\n");
        check_extras(&[readme.clone(), license.clone()], "hello").unwrap();
        check_extras(&[], "hello").unwrap();

        let missing = dir.path().join("CHANGELOG.md");
        let err = message(check_extras(&[readme.clone(), missing], "hello"));
        assert!(err.contains("CHANGELOG.md"), "{err}");

        let sub = dir.path().join("docs");
        fs::create_dir(&sub).unwrap();
        let err = message(check_extras(std::slice::from_ref(&sub), "hello"));
        assert!(
            err.contains("docs") && err.contains("not a regular file"),
            "{err}"
        );

        let other = dir.path().join("other");
        fs::create_dir(&other).unwrap();
        let twin = write(&other, "readme.MD", b"again\n");
        let err = message(check_extras(&[readme, twin], "hello"));
        assert!(
            err.contains("readme.MD") && err.contains("README.md"),
            "{err}"
        );

        for own in ["hello", "hello.exe", "HELLO"] {
            let clash = write(&other, own, b"x");
            let err = message(check_extras(&[license.clone(), clash.clone()], "hello"));
            assert!(err.contains("program's own name"), "{err}");
            fs::remove_file(clash).unwrap();
        }

        let err = message(check_extras(&[PathBuf::from("/")], "hello"));
        assert!(err.contains("no file name"), "{err}");
        let err = message(check_extras(&[], "a/b"));
        assert!(err.contains("\"a/b\""), "{err}");
    }

    #[test]
    fn source_date_epoch_is_read_or_refused() {
        assert_eq!(source_date_epoch(None).unwrap(), DEFAULT_EPOCH);
        assert_eq!(
            source_date_epoch(Some(OsStr::new(""))).unwrap(),
            DEFAULT_EPOCH
        );
        assert_eq!(
            source_date_epoch(Some(OsStr::new("1700000000"))).unwrap(),
            1_700_000_000
        );
        for bad in ["yesterday", "-5", "1.5"] {
            let err = message(source_date_epoch(Some(OsStr::new(bad))).map(drop));
            assert!(
                err.contains("SOURCE_DATE_EPOCH") && err.contains(bad),
                "{err}"
            );
        }
    }

    #[test]
    fn dos_times_are_utc_and_clamped() {
        assert_eq!(dos_time(0), (1980, 1, 1, 0, 0, 0));
        assert_eq!(dos_time(DEFAULT_EPOCH), (1980, 1, 1, 0, 0, 0));
        // 2023-11-14T22:13:20Z, and one second later (rounded down).
        assert_eq!(dos_time(1_700_000_000), (2023, 11, 14, 22, 13, 20));
        assert_eq!(dos_time(1_700_000_001), (2023, 11, 14, 22, 13, 20));
        // 2024-02-29T12:00:59Z: a leap day.
        assert_eq!(dos_time(1_709_208_059), (2024, 2, 29, 12, 0, 58));
        assert_eq!(dos_time(u64::MAX), (2107, 12, 31, 23, 59, 58));
        // Days across 1980-2107 (every 7th, at a changing time of day),
        // against what GNU `date` makes of the same times.
        let times: Vec<u64> = (0..46_752u64)
            .step_by(7)
            .map(|day| DEFAULT_EPOCH + day * 86_400 + (day * 7_919) % 86_400)
            .collect();
        let input: String = times.iter().map(|t| format!("@{t}\n")).collect();
        let dir = tempfile::tempdir().unwrap();
        let list = write(dir.path(), "times", input.as_bytes());
        let out = Command::new("date")
            .args(["-u", "+%Y %m %d %H %M %S", "-f"])
            .arg(&list)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(text.lines().count(), times.len());
        for (line, &t) in text.lines().zip(&times) {
            let f: Vec<u64> = line.split(' ').map(|n| n.parse().unwrap()).collect();
            let (y, mo, d, h, mi, s) = dos_time(t);
            let ours = [y as u64, mo as u64, d as u64, h as u64, mi as u64, s as u64];
            assert_eq!(ours, [f[0], f[1], f[2], f[3], f[4], f[5] / 2 * 2], "@{t}");
        }
    }

    #[test]
    fn checksums_read_back_with_sha256sum() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("sub");
        fs::create_dir(&sub).unwrap();
        let files = vec![
            write(dir.path(), "zeta", b"last\n"),
            write(dir.path(), "alpha", b"first\n"),
            write(&sub, "inner", b"nested\n"),
            write(dir.path(), "back\\slash", b"odd\n"),
            write(dir.path(), "new\nline", b"odder\n"),
            write(dir.path(), "SHA256SUMS", b"old\n"),
        ];
        let sums = checksums(dir.path(), &files).unwrap();
        assert_eq!(sums, dir.path().join("SHA256SUMS"));
        let text = fs::read_to_string(&sums).unwrap();
        let names: Vec<&str> = text
            .lines()
            .map(|l| l.split_once("  ").unwrap().1)
            .collect();
        assert_eq!(
            names,
            ["alpha", "back\\\\slash", "new\\nline", "sub/inner", "zeta"]
        );
        assert!(text.lines().all(|l| {
            let hash = l.trim_start_matches('\\').split_once("  ").unwrap().0;
            hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit())
        }));
        let check = Command::new("sha256sum")
            .args(["-c", "--strict", "SHA256SUMS"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "{}{}",
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&check.stdout).lines().count(), 5);

        // Damage one file: sha256sum must notice, so the hashes are real.
        fs::write(dir.path().join("alpha"), b"changed\n").unwrap();
        let check = Command::new("sha256sum")
            .args(["-c", "SHA256SUMS"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(!check.status.success());

        let outside = tempfile::tempdir().unwrap();
        let stray = write(outside.path(), "stray", b"x");
        let err = message(checksums(dir.path(), &[stray]).map(drop));
        assert!(err.contains("stray") && err.contains("is not in"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn archives_are_reproducible_and_0644() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let program = write(dir.path(), "hello-x86_64-linux", b"\x7fELF program");
        let readme = write(dir.path(), "README.md", b"read me\n");
        let extras = vec![readme];
        for windows in [false, true] {
            let triple = if windows {
                "x86_64-pc-windows-gnu"
            } else {
                "x86_64-unknown-linux-musl"
            };
            let first = archive(&program, "hello", triple, windows, &extras).unwrap();
            let ext = if windows { "zip" } else { "tar.gz" };
            assert_eq!(first, dir.path().join(format!("hello-{triple}.{ext}")));
            let bytes = fs::read(&first).unwrap();
            let mode = fs::metadata(&first).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o644);
            // Another time, another file time of the inputs: the same bytes.
            let later = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
            File::options()
                .write(true)
                .open(&program)
                .unwrap()
                .set_modified(later)
                .unwrap();
            let again = archive(&program, "hello", triple, windows, &extras).unwrap();
            assert_eq!(fs::read(again).unwrap(), bytes, "{ext} not reproducible");
        }
        // No temporary file left behind.
        let mut names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "README.md",
                "hello-x86_64-linux",
                "hello-x86_64-pc-windows-gnu.zip",
                "hello-x86_64-unknown-linux-musl.tar.gz"
            ]
        );
    }

    #[test]
    fn an_archive_never_replaces_its_program() {
        let dir = tempfile::tempdir().unwrap();
        let program = write(
            dir.path(),
            "hello-x86_64-unknown-linux-musl.tar.gz",
            b"program",
        );
        let err = format!(
            "{:#}",
            archive(&program, "hello", "x86_64-unknown-linux-musl", false, &[]).unwrap_err()
        );
        assert!(err.contains("would replace the packed file"), "{err}");
        assert_eq!(fs::read(&program).unwrap(), b"program");
    }

    #[test]
    fn a_missing_program_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let err = format!(
            "{:#}",
            archive(
                &dir.path().join("gone"),
                "gone",
                "x86_64-pc-windows-gnu",
                true,
                &[]
            )
            .unwrap_err()
        );
        assert!(err.contains("gone"), "{err}");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
