//! `--include HOST[::GUEST]`: reading host files and directories into the
//! embedded trees of the manifest (format: `wpack_stub::tree`).
//!
//! Everything is read now, at pack time, and written deterministically:
//! entries sorted by name, no timestamps, no owners, so the same inputs give
//! the same bytes.

use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};
use wpack_stub::DirMapping;
use wpack_stub::tree::{Entry, Kind, Tree};
use xxhash_rust::xxh3::xxh3_64;

/// `--include HOST[::GUEST]` as given.
#[derive(Debug, Clone)]
pub struct IncludeSpec {
    pub host: String,
    pub guest: String,
}

impl IncludeSpec {
    /// Parses `HOST[::GUEST]`; without `::GUEST` the program sees HOST under
    /// the name it was given, as with `--dir`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let (host, guest) = match spec.split_once("::") {
            Some((host, guest)) => (host, guest),
            None => (spec, spec),
        };
        if host.is_empty() || guest.is_empty() {
            return Err("--include needs a file or directory, as HOST or HOST::GUEST".into());
        }
        Ok(IncludeSpec {
            host: host.to_owned(),
            guest: guest.to_owned(),
        })
    }
}

/// The trees for the manifest and their files' contents, in manifest order.
#[derive(Default)]
pub struct Included {
    pub trees: Vec<Tree>,
    pub contents: Vec<Vec<u8>>,
}

impl Included {
    pub fn total_bytes(&self) -> usize {
        self.contents.iter().map(Vec::len).sum()
    }
}

/// Reads every `--include`, refusing what the program could not be given
/// faithfully and guest names that would make lookups ambiguous.
/// `outputs` are the files this run writes: none may be inside a tree.
pub fn read(specs: &[IncludeSpec], dirs: &[DirMapping], outputs: &[&Path]) -> Result<Included> {
    let outputs = outputs
        .iter()
        .map(|output| absolute(output))
        .collect::<Result<Vec<_>>>()?;
    let mut trees: Vec<(Tree, Vec<Vec<u8>>)> = Vec::new();
    for spec in specs {
        let shown = format!("--include {}", spec.host);
        let host = Path::new(&spec.host);
        let meta = std::fs::metadata(host).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                anyhow::anyhow!("{shown}: no such file or directory")
            }
            _ => anyhow::anyhow!("{shown}: {e}"),
        })?;
        let root = absolute(host)?;
        if let Some(output) = outputs.iter().find(|output| output.starts_with(&root)) {
            bail!(
                "{shown}: the output {} would be inside what is included; write it elsewhere \
                 or include less",
                output.display()
            );
        }
        let mut entries = vec![dir_entry("")];
        let mut contents = Vec::new();
        let guest = normalise_guest(&spec.guest);
        let guest = if meta.is_dir() {
            walk(&root, &root, "", &mut entries, &mut contents).with_context(|| shown.clone())?;
            (entries, contents) = sort_by_path(entries, contents);
            guest
        } else if meta.is_file() {
            // A single file: its guest directory holds just that file.
            let (dir, name) = match guest.rsplit_once('/') {
                Some(("", name)) => ("/".to_owned(), name.to_owned()),
                Some((dir, name)) => (dir.to_owned(), name.to_owned()),
                None => (".".to_owned(), guest.clone()),
            };
            let data = std::fs::read(&root).with_context(|| shown.clone())?;
            entries.push(file_entry(&name, &data));
            contents.push(data);
            dir
        } else {
            bail!("{shown}: {}", special(&meta));
        };
        trees.push((Tree { guest, entries }, contents));
    }
    let trees = merge(trees)?;
    check_guests(&trees, dirs)?;
    let mut included = Included::default();
    for (tree, contents) in trees {
        included.trees.push(tree);
        included.contents.extend(contents);
    }
    Ok(included)
}

/// Adds the entries under host directory `dir` (at tree path `at`), sorted.
fn walk(
    root: &Path,
    dir: &Path,
    at: &str,
    entries: &mut Vec<Entry>,
    contents: &mut Vec<Vec<u8>>,
) -> Result<()> {
    let mut names = Vec::new();
    for item in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let item = item.with_context(|| format!("cannot list {}", dir.display()))?;
        let name = item.file_name().into_string().map_err(|name| {
            anyhow::anyhow!(
                "{}: the name is not UTF-8, which WASI cannot show",
                dir.join(name).display()
            )
        })?;
        names.push(name);
    }
    names.sort();
    for name in names {
        let host = dir.join(&name);
        let path = if at.is_empty() {
            name.clone()
        } else {
            format!("{at}/{name}")
        };
        let meta = std::fs::symlink_metadata(&host)
            .with_context(|| format!("cannot read {}", host.display()))?;
        if meta.is_dir() {
            entries.push(dir_entry(&path));
            walk(root, &host, &path, entries, contents)?;
        } else if meta.is_file() {
            let data =
                std::fs::read(&host).with_context(|| format!("cannot read {}", host.display()))?;
            entries.push(file_entry(&path, &data));
            contents.push(data);
        } else if meta.is_symlink() {
            let target = std::fs::read_link(&host)
                .with_context(|| format!("cannot read the link {}", host.display()))?;
            let target = link_inside(root, &host, &target).with_context(|| {
                format!(
                    "{}: the symlink leads out of the included tree ({}); include its target \
                     instead",
                    host.display(),
                    target.display()
                )
            })?;
            entries.push(Entry {
                path,
                kind: Kind::Symlink { target },
            });
        } else {
            bail!("{}: {}", host.display(), special(&meta));
        }
    }
    Ok(())
}

/// A symlink's target as a path relative to the link's directory, if it
/// stays inside `root` (lexically: `..` never climbs above the root).
fn link_inside(root: &Path, link: &Path, target: &Path) -> Option<String> {
    let link_dir = link.parent()?;
    let resolved = if target.is_absolute() {
        target.to_path_buf()
    } else {
        link_dir.join(target)
    };
    let resolved = lexical(&resolved)?;
    let inside = resolved.strip_prefix(root).ok()?;
    let from = link_dir.strip_prefix(root).ok()?;
    if target.is_relative() {
        // Keep the link as written when it stays inside.
        return target.to_str().map(str::to_owned);
    }
    // An absolute link into the tree: the same place, relative.
    let ups = from.components().count();
    let mut parts: Vec<String> = vec!["..".to_owned(); ups];
    parts.extend(
        inside
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    Some(if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    })
}

/// `path` without `.` and `..` components, or `None` if `..` climbs above `/`.
fn lexical(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    Some(out)
}

fn absolute(path: &Path) -> Result<PathBuf> {
    let joined =
        std::path::absolute(path).with_context(|| format!("cannot resolve {}", path.display()))?;
    // Resolve symlinks in the directories leading to it, where they exist.
    match (joined.parent(), joined.file_name()) {
        (Some(parent), Some(name)) => Ok(std::fs::canonicalize(parent)
            .map(|p| p.join(name))
            .unwrap_or(joined)),
        _ => Ok(joined),
    }
}

#[cfg(not(unix))]
fn special(_meta: &std::fs::Metadata) -> &'static str {
    "is not a regular file or directory; only those and symlinks can be included"
}

#[cfg(unix)]
fn special(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_socket() {
        "is a socket; only files, directories and symlinks can be included"
    } else if t.is_fifo() {
        "is a named pipe; only files, directories and symlinks can be included"
    } else if t.is_block_device() || t.is_char_device() {
        "is a device; only files, directories and symlinks can be included"
    } else {
        "is not a regular file or directory; only those and symlinks can be included"
    }
}

fn dir_entry(path: &str) -> Entry {
    Entry {
        path: path.to_owned(),
        kind: Kind::Dir,
    }
}

fn file_entry(path: &str, data: &[u8]) -> Entry {
    Entry {
        path: path.to_owned(),
        kind: Kind::File {
            offset: 0,
            len: data.len() as u64,
            hash: xxh3_64(data),
        },
    }
}

/// `/app/` and `/app` are the same guest directory.
fn normalise_guest(guest: &str) -> String {
    let trimmed = guest.trim_end_matches('/');
    if trimmed.is_empty() {
        "/".into()
    } else {
        trimmed.to_owned()
    }
}

/// The entries in the byte order of their paths, which readers rely on
/// (docs/FORMAT.md), with the file contents in the same order. A walk is not
/// in that order: it lists `a`, `a/x`, `a-b`, where `-` sorts before `/`.
fn sort_by_path(entries: Vec<Entry>, contents: Vec<Vec<u8>>) -> (Vec<Entry>, Vec<Vec<u8>>) {
    let mut data = contents.into_iter();
    let mut paired: Vec<(Entry, Option<Vec<u8>>)> = entries
        .into_iter()
        .map(|e| {
            let bytes =
                matches!(e.kind, Kind::File { .. }).then(|| data.next().unwrap_or_default());
            (e, bytes)
        })
        .collect();
    paired.sort_by(|a, b| a.0.path.cmp(&b.0.path));
    let contents = paired.iter_mut().filter_map(|(_, c)| c.take()).collect();
    (paired.into_iter().map(|(e, _)| e).collect(), contents)
}

/// Includes into the same guest directory become one tree (for example
/// several single files); the same path twice is refused.
fn merge(trees: Vec<(Tree, Vec<Vec<u8>>)>) -> Result<Vec<(Tree, Vec<Vec<u8>>)>> {
    let mut merged: Vec<(Tree, Vec<Vec<u8>>)> = Vec::new();
    for (tree, contents) in trees {
        let Some(into) = merged.iter_mut().find(|(t, _)| t.guest == tree.guest) else {
            merged.push((tree, contents));
            continue;
        };
        let entries = [std::mem::take(&mut into.0.entries), tree.entries].concat();
        let contents = [std::mem::take(&mut into.1), contents].concat();
        let (mut entries, contents) = sort_by_path(entries, contents);
        // A directory in both is one directory (directories have no
        // contents, so the contents stay in step); anything else twice is
        // refused.
        entries.dedup_by(|b, a| a.path == b.path && a.kind == Kind::Dir && b.kind == Kind::Dir);
        if let Some(pair) = entries.windows(2).find(|w| w[0].path == w[1].path) {
            bail!(
                "--include: {}/{} is included twice; include it once",
                tree.guest,
                pair[0].path
            );
        }
        into.0.entries = entries;
        into.1 = contents;
    }
    Ok(merged)
}

/// Refuses guest directories that are equal to, or inside, one another.
fn check_guests(trees: &[(Tree, Vec<Vec<u8>>)], dirs: &[DirMapping]) -> Result<()> {
    let within = |a: &str, b: &str| {
        let (a, b) = (normalise_guest(a), normalise_guest(b));
        a == b || a.starts_with(&format!("{}/", b.trim_end_matches('/'))) || b == "/"
    };
    for (i, (tree, _)) in trees.iter().enumerate() {
        for (other, _) in &trees[i + 1..] {
            if within(&tree.guest, &other.guest) || within(&other.guest, &tree.guest) {
                bail!(
                    "--include: the guest directories {} and {} overlap, so a path could \
                     belong to either; give them separate names",
                    tree.guest,
                    other.guest
                );
            }
        }
        for dir in dirs {
            if within(&tree.guest, &dir.guest) || within(&dir.guest, &tree.guest) {
                bail!(
                    "--include {} and --dir {}::{} overlap, so a path could belong to \
                     either; give them separate guest names",
                    tree.guest,
                    dir.host,
                    dir.guest
                );
            }
        }
    }
    Ok(())
}
