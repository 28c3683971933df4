//! Writing the packed file: never over the input, never half-written.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// The default output path: the input's file stem, in the current directory.
pub fn default_path(input: &Path) -> Result<PathBuf> {
    match input.file_stem() {
        Some(stem) if !stem.is_empty() => Ok(PathBuf::from(stem)),
        _ => bail!(
            "cannot derive an output name from {}; pass -o OUTPUT",
            input.display()
        ),
    }
}

/// Refuses an output path that would replace the input or wpack itself.
pub fn check_target(output: &Path, input: &Path) -> Result<()> {
    let Ok(out_meta) = fs::metadata(output) else {
        return Ok(()); // nothing there yet
    };
    if out_meta.is_dir() {
        bail!(
            "{} is a directory; pass a file path with -o",
            output.display()
        );
    }
    let same = |other: &Path| same_file(output, &out_meta, other);
    if same(input) {
        bail!(
            "the output {} is the input file; choose another path with -o",
            output.display()
        );
    }
    if std::env::current_exe().is_ok_and(|exe| same(&exe)) {
        bail!(
            "the output {} is this wpack executable; choose another path with -o",
            output.display()
        );
    }
    Ok(())
}

/// Whether `other` is the file `output` (with metadata `meta`) is, under
/// any name: hard links included where the platform tells.
#[cfg(unix)]
fn same_file(_output: &Path, meta: &fs::Metadata, other: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(other).is_ok_and(|m| m.dev() == meta.dev() && m.ino() == meta.ino())
}

#[cfg(not(unix))]
fn same_file(output: &Path, _meta: &fs::Metadata, other: &Path) -> bool {
    matches!(
        (fs::canonicalize(output), fs::canonicalize(other)),
        (Ok(a), Ok(b)) if a == b
    )
}

/// Writes `output` through a temporary file in the same directory, then
/// renames it into place, so readers see either the old file or the complete
/// new one. The result is executable (mode 0755).
pub fn write_atomically(
    output: &Path,
    write: impl FnOnce(&mut BufWriter<&File>) -> std::io::Result<()>,
) -> Result<()> {
    let dir = match output.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        bail!(
            "cannot write {}: the directory {} does not exist",
            output.display(),
            dir.display()
        );
    }
    let fail = || format!("cannot write {}", output.display());
    let temp = tempfile::Builder::new()
        .prefix(".wpack-")
        .tempfile_in(dir)
        .with_context(fail)?;
    let mut writer = BufWriter::with_capacity(1 << 20, temp.as_file());
    write(&mut writer).with_context(fail)?;
    writer.flush().with_context(fail)?;
    drop(writer);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        temp.as_file()
            .set_permissions(fs::Permissions::from_mode(0o755))
            .with_context(fail)?;
    }
    temp.as_file().sync_all().with_context(fail)?;
    // On failure the temporary file is removed when `temp` drops.
    temp.persist(output)
        .map_err(|e| e.error)
        .with_context(fail)?;
    Ok(())
}

/// The name a packed program goes by: the output's file name. It is the
/// program's `argv[0]` during `--init-func` and the identifier its macOS
/// signature names.
pub fn program_name(output: &Path) -> String {
    output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "wpack-program".to_owned())
}
