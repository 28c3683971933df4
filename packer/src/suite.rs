//! Several commands in one file (`--command NAME=INPUT`): which programs
//! under which names and with which baked arguments, the command table the
//! stub chooses from (`wpack_stub::manifest::Suite`), and the links that
//! start each command (`--links DIR`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use wpack_stub::manifest::{Code, Command, Suite};
use wpack_stub::{Manifest, Program};

use crate::cli::PackArgs;

/// The commands asked for, each naming one of `inputs`.
pub struct Spec {
    pub commands: Vec<CommandSpec>,
    /// The distinct input paths, in the order commands first name them.
    pub inputs: Vec<PathBuf>,
}

pub struct CommandSpec {
    pub name: String,
    /// Index into [`Spec::inputs`].
    pub input: usize,
    /// `--command-arg NAME=ARG`, in order.
    pub args: Vec<String>,
}

/// A command name must be usable as a file name of its own on every
/// platform, since links are named after it.
pub fn check_name(name: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("--command {name:?}: a command name {why}"));
    if name.is_empty() {
        return bad("cannot be empty; give NAME=INPUT");
    }
    if name == "." || name == ".." {
        return bad("cannot be `.` or `..`");
    }
    if let Some(c) = name.chars().find(|c| {
        matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') || c.is_control()
    }) {
        return bad(&format!(
            "is a file name (links are named after it), so it cannot contain {c:?}"
        ));
    }
    if name.starts_with('-') {
        return bad("cannot start with `-`, which would read as an option");
    }
    Ok(())
}

/// The suite `--command` and `--command-arg` ask for, or `None` without
/// `--command`.
pub fn from_args(cli: &PackArgs) -> Result<Option<Spec>> {
    if cli.commands.is_empty() {
        return Ok(None);
    }
    let mut spec = Spec {
        commands: Vec::new(),
        inputs: Vec::new(),
    };
    for (name, input) in &cli.commands {
        if spec.commands.iter().any(|c| c.name == *name) {
            bail!("--command {name}: that name is given twice; each command needs its own name");
        }
        let same = |known: &PathBuf| {
            known == input
                || matches!((known.canonicalize(), input.canonicalize()), (Ok(a), Ok(b)) if a == b)
        };
        let input = match spec.inputs.iter().position(same) {
            Some(i) => i,
            None => {
                spec.inputs.push(input.clone());
                spec.inputs.len() - 1
            }
        };
        spec.commands.push(CommandSpec {
            name: name.clone(),
            input,
            args: Vec::new(),
        });
    }
    for (name, arg) in &cli.command_args {
        let Some(command) = spec.commands.iter_mut().find(|c| c.name == *name) else {
            let names: Vec<&str> = spec.commands.iter().map(|c| c.name.as_str()).collect();
            bail!(
                "--command-arg {name}={arg}: there is no --command {name} (the commands are {})",
                names.join(", ")
            );
        };
        command.args.push(arg.clone());
    }
    if cli.output.is_none() {
        bail!(
            "a file of several commands has no name of its own: give it one with -o FILE \
             (or -o DIR with several targets)"
        );
    }
    if let Some(func) = &cli.init_func {
        bail!(
            "--init-func {func} cannot be used with --command: a snapshot is taken of one \
             program with its own arguments and environment, and each command has its \
             own; pack a pre-initialized program in a file of its own"
        );
    }
    Ok(Some(spec))
}

/// The manifest's command table. `code_of_input` maps each input to the
/// code that holds it (0 is the payload), `codes` describes codes 1.. (the
/// offsets are filled in when the file is written). Each command gets the
/// shared arguments, environment, directories and trees, then its own.
pub fn table(spec: &Spec, code_of_input: &[u32], codes: Vec<Code>, shared: &Manifest) -> Suite {
    let commands = spec
        .commands
        .iter()
        .map(|c| Command {
            name: c.name.clone(),
            code: code_of_input[c.input],
            args: shared.args.iter().chain(&c.args).cloned().collect(),
            env: shared.env.clone(),
            dirs: shared.dirs.clone(),
            trees: (0..shared.trees.len() as u32).collect(),
        })
        .collect();
    Suite { codes, commands }
}

/// All programs of one file run on one stub, which runs one kind.
pub fn check_kinds(spec: &Spec, programs: &[Program]) -> Result<()> {
    let first = &programs[spec.commands[0].input];
    if let Some(other) = spec
        .commands
        .iter()
        .find(|c| programs[c.input].kind() != first.kind())
    {
        bail!(
            "--command {}: {} is a {}, but --command {} ({}) is a {}; one file runs either \
             core modules or components, so pack them as two files",
            other.name,
            spec.inputs[other.input].display(),
            programs[other.input].kind(),
            spec.commands[0].name,
            spec.inputs[spec.commands[0].input].display(),
            first.kind()
        );
    }
    Ok(())
}

/// How [`make_links`] made a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    Symbolic,
    Hard,
    Copy,
}

impl LinkKind {
    pub fn describe(self) -> &'static str {
        match self {
            LinkKind::Symbolic => "symbolic links",
            LinkKind::Hard => "hard links",
            LinkKind::Copy => "copies",
        }
    }
}

/// Makes in `dir` an entry named after each of `names` (with `.exe` for a
/// Windows program) that starts `file`: a symbolic link (relative, so the
/// two can move together), else a hard link, else a copy. Each replaces
/// what was there atomically. Returns the paths made and how.
pub fn make_links(
    dir: &Path,
    file: &Path,
    names: &[&str],
    windows: bool,
) -> Result<(Vec<PathBuf>, LinkKind)> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("--links: cannot create the directory {}", dir.display()))?;
    let target = relative_to(dir, file);
    let mut made = Vec::new();
    let mut kind = LinkKind::Symbolic;
    for name in names {
        let name = if windows {
            format!("{name}.exe")
        } else {
            name.to_string()
        };
        let link = dir.join(&name);
        if same_file(&link, file) && !is_symlink(&link) {
            bail!(
                "--links {}: {} is the packed file itself; give another directory",
                dir.display(),
                link.display()
            );
        }
        let temp = dir.join(format!(".{name}.wpack-tmp{}", std::process::id()));
        let _ = std::fs::remove_file(&temp);
        let made_as = make_one(&target, file, &temp, windows)
            .with_context(|| format!("--links: cannot make {}", link.display()))?;
        std::fs::rename(&temp, &link).with_context(|| {
            let _ = std::fs::remove_file(&temp);
            format!("--links: cannot put {} in place", link.display())
        })?;
        kind = kind.max_with(made_as);
        made.push(link);
    }
    Ok((made, kind))
}

impl LinkKind {
    /// The weakest of two, to report one kind for all links.
    fn max_with(self, other: LinkKind) -> LinkKind {
        use LinkKind::*;
        match (self, other) {
            (Copy, _) | (_, Copy) => Copy,
            (Hard, _) | (_, Hard) => Hard,
            _ => Symbolic,
        }
    }
}

fn make_one(target: &Path, file: &Path, at: &Path, windows: bool) -> std::io::Result<LinkKind> {
    // A Windows program is started by its name ending in .exe; a symbolic
    // link to it works on Windows only with privileges, so not for it.
    #[cfg(unix)]
    if !windows && std::os::unix::fs::symlink(target, at).is_ok() {
        return Ok(LinkKind::Symbolic);
    }
    let _ = (target, windows);
    if std::fs::hard_link(file, at).is_ok() {
        return Ok(LinkKind::Hard);
    }
    std::fs::copy(file, at).map(|_| LinkKind::Copy)
}

fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

fn same_file(a: &Path, b: &Path) -> bool {
    matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b)
}

/// `file` as seen from `dir`: a relative path when both resolve, otherwise
/// `file` made absolute.
fn relative_to(dir: &Path, file: &Path) -> PathBuf {
    let (Ok(dir), Ok(file)) = (dir.canonicalize(), file.canonicalize()) else {
        return std::path::absolute(file).unwrap_or_else(|_| file.to_owned());
    };
    let common = dir
        .components()
        .zip(file.components())
        .take_while(|(a, b)| a == b)
        .count();
    let mut relative = PathBuf::new();
    for _ in dir.components().skip(common) {
        relative.push("..");
    }
    for part in file.components().skip(common) {
        relative.push(part);
    }
    relative
}

/// `--links DIR FILE` without `--command`: the links of a file packed
/// before.
pub fn links_for_packed(dir: &Path, file: &Path, quiet: bool) -> Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let packed = wpack_stub::payload::read(&bytes)
        .map_err(|e| anyhow::anyhow!("--links: {}: {e}", file.display()))?;
    let Some(suite) = &packed.manifest.suite else {
        bail!(
            "--links: {} holds one program, not several commands; pack it with --command \
             NAME=INPUT for each command, then make the links",
            file.display()
        );
    };
    let names: Vec<&str> = suite.commands.iter().map(|c| c.name.as_str()).collect();
    let windows = wpack_stub::pe::is_pe(&bytes);
    let (made, kind) = make_links(dir, file, &names, windows)?;
    if !quiet {
        report_links(&made, file, kind);
    }
    Ok(())
}

pub fn report_links(made: &[PathBuf], file: &Path, kind: LinkKind) {
    let list: Vec<String> = made.iter().map(|p| p.display().to_string()).collect();
    eprintln!(
        "wpack: made {} to {}: {}",
        kind.describe(),
        file.display(),
        list.join(", ")
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_file_names() {
        assert!(check_name("clang++").is_ok());
        assert!(check_name("llvm-ar").is_ok());
        for bad in ["", ".", "..", "a/b", "a\\b", "-x", "a:b", "a\0b"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn links_point_relatively() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/bin")).unwrap();
        std::fs::write(dir.path().join("a/tools"), b"x").unwrap();
        let rel = relative_to(&dir.path().join("a/bin"), &dir.path().join("a/tools"));
        assert_eq!(rel, Path::new("../tools"));
        let rel = relative_to(&dir.path().join("a"), &dir.path().join("a/tools"));
        assert_eq!(rel, Path::new("tools"));
    }
}
