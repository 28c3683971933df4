//! Naming and writing the packed files: never over the input, never
//! half-written.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::cli::PackArgs;
use crate::stub_image::Choice;

/// How outputs are named when -o names a directory.
pub const DEFAULT_TEMPLATE: &str = "{name}-{target}";

/// Whether -o names a directory: when several targets are asked for (a
/// list, or `all`, which may grow with the stubs a wpack carries) or the
/// outputs are named by a template.
pub fn names_a_directory(cli: &PackArgs) -> bool {
    cli.target.len() > 1
        || cli.target.iter().any(|t| t.trim() == "all")
        || cli.name_template.is_some()
}

/// The path of each output, one per `choices`, checked: none replaces the
/// input or wpack, none is named twice.
pub fn paths(
    cli: &PackArgs,
    name: &str,
    inputs: &[&Path],
    choices: &[Choice],
) -> Result<Vec<PathBuf>> {
    let check = |path: &Path| {
        inputs
            .iter()
            .try_for_each(|input| check_target(path, input))
    };
    if !names_a_directory(cli) {
        let path = match &cli.output {
            Some(path) => path.clone(),
            None => PathBuf::from(name),
        };
        check(&path)?;
        return Ok(vec![path]);
    }
    let dir = cli.output.clone().unwrap_or_else(|| PathBuf::from("."));
    if dir.exists() && !dir.is_dir() {
        bail!(
            "{} is a file, but with several targets (or --name-template) -o names the \
             directory the outputs go to; give a directory",
            dir.display()
        );
    }
    let template = cli.name_template.as_deref().unwrap_or(DEFAULT_TEMPLATE);
    let mut paths: Vec<PathBuf> = Vec::with_capacity(choices.len());
    for (i, &choice) in choices.iter().enumerate() {
        let mut file = render(template, name, choice, cli.version_tag.as_deref())?;
        if choice.is_windows() && !file.to_ascii_lowercase().ends_with(".exe") {
            file.push_str(".exe");
        }
        let path = dir.join(&file);
        if let Some(j) = paths.iter().position(|p| *p == path) {
            bail!(
                "--name-template {template:?} names both the {} and the {} output {file}; \
                 use {{target}} or {{triple}} in it",
                choices[j].name(),
                choices[i].name()
            );
        }
        check(&path)?;
        paths.push(path);
    }
    Ok(paths)
}

/// Fills in the placeholders of --name-template for one output.
fn render(template: &str, name: &str, choice: Choice, version: Option<&str>) -> Result<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            bail!("--name-template {template:?}: a `{{` without its `}}`");
        };
        let value = match &rest[open + 1..open + close] {
            "name" => name,
            "target" => choice.name(),
            "triple" => choice.triple(),
            "version" => version.with_context(|| {
                format!("--name-template {template:?} uses {{version}}; give it with --version-tag")
            })?,
            other => bail!(
                "--name-template {template:?}: unknown placeholder {{{other}}}; the known ones \
                 are {{name}}, {{target}}, {{triple}} and {{version}}"
            ),
        };
        out.push_str(value);
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    if out.is_empty() || out == "." || out == ".." || out.contains(['/', '\\']) {
        bail!(
            "--name-template {template:?} gives {out:?}, which is not a file name; \
             outputs go into the -o directory, so leave out `/`"
        );
    }
    Ok(out)
}

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
    write_atomically_with_mode(output, 0o755, write)
}

/// [`write_atomically`] with the file's Unix mode: release files (archives,
/// `SHA256SUMS`) are data, 0644.
pub fn write_atomically_with_mode(
    output: &Path,
    #[cfg_attr(not(unix), allow(unused_variables))] mode: u32,
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
            .set_permissions(fs::Permissions::from_mode(mode))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stub_image::find_target;

    #[test]
    fn templates_fill_in_each_placeholder_and_refuse_the_rest() {
        let linux = Choice::Thin(find_target("x86_64-linux").unwrap());
        let name = |t: &str, v: Option<&str>| render(t, "app", linux, v);
        assert_eq!(name(DEFAULT_TEMPLATE, None).unwrap(), "app-x86_64-linux");
        assert_eq!(
            name("{name}-{version}-{triple}", Some("1.2.3")).unwrap(),
            "app-1.2.3-x86_64-unknown-linux-musl"
        );
        for (bad, says) in [
            ("{name}-{version}", "--version-tag"),
            ("{nmae}", "unknown placeholder {nmae}"),
            ("{name", "without its"),
            ("bin/{name}", "not a file name"),
            ("", "not a file name"),
        ] {
            let err = name(bad, None).unwrap_err().to_string();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}
