//! Embedded file trees (`wpack --include`): how they are described in the
//! manifest and how a path is looked up in one (`docs/FORMAT.md`, "Embedded
//! trees").
//!
//! A tree is a list of entries sorted by path: the root directory (path
//! `""`), then every directory, file and symlink below it, with `/`-separated
//! paths relative to the root. File contents are not in the manifest: they
//! lie in the packed file before the payload, each at an offset recorded
//! here, so the stub serves them from its mapping of its own file, and a
//! file costs nothing until the program reads it. Each file carries its own
//! XXH3 hash, checked when the program first opens it: start-up never reads
//! embedded data, however large.
//!
//! Sorted paths keep lookups a binary search and make a directory's children
//! one contiguous run (all paths starting with `dir/`), already in name order.

use serde::{Deserialize, Serialize};

/// A directory tree shown read-only to the program under `guest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tree {
    /// The directory name the program sees (`--include HOST::GUEST`).
    pub guest: String,
    /// Sorted by `path`; the first is the root directory, path `""`.
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Relative to the tree's root, `/`-separated, no `.` or `..`.
    pub path: String,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    Dir,
    /// `offset` is a file offset in the packed file (0 until the packed file
    /// is laid out, see `payload::write`); `hash` the XXH3-64 of the bytes.
    File {
        offset: u64,
        len: u64,
        hash: u64,
    },
    /// A link whose target, relative to the link's directory, stays inside
    /// the tree (checked at pack time).
    Symlink {
        target: String,
    },
}

/// File contents of this size or more start on a 16 KiB boundary, so they
/// can be mapped page by page on every platform; smaller ones are packed at
/// 16-byte alignment so that many small files do not waste pages.
pub const PAGE_ALIGNED_FROM: u64 = 64 * 1024;
pub const PAGE_ALIGN: u64 = 16 * 1024;
pub const SMALL_ALIGN: u64 = 16;

/// Where a file of `len` bytes starts when the previous data ends at `end`.
pub fn file_offset(end: u64, len: u64) -> u64 {
    let align = if len >= PAGE_ALIGNED_FROM {
        PAGE_ALIGN
    } else {
        SMALL_ALIGN
    };
    end.div_ceil(align) * align
}

/// Symlinks followed in one lookup before giving up, as Linux does.
const MAX_LINKS: usize = 40;

/// Why a path does not lead to an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupError {
    NotFound,
    /// A file (or a link to one) where the path needs a directory.
    NotDir,
    /// The path leaves the tree (`..` above its root, an absolute path).
    Escapes,
    /// More than [`MAX_LINKS`] symlinks.
    Loop,
}

impl Tree {
    /// Index of the entry at `path` (relative, normalised), if any.
    pub fn find(&self, path: &str) -> Option<usize> {
        self.entries
            .binary_search_by(|e| e.path.as_str().cmp(path))
            .ok()
    }

    /// Indices of the entries directly inside directory `dir`, in name order.
    pub fn children(&self, dir: usize) -> impl Iterator<Item = usize> + '_ {
        let base = &self.entries[dir].path;
        let prefix = if base.is_empty() {
            String::new()
        } else {
            format!("{base}/")
        };
        let start = self
            .entries
            .partition_point(|e| e.path.as_str() <= prefix.as_str());
        let start = if base.is_empty() { 1 } else { start };
        let skip = prefix.len();
        self.entries[start..]
            .iter()
            .take_while(move |e| e.path.starts_with(&prefix))
            .enumerate()
            .filter(move |(_, e)| !e.path[skip..].contains('/'))
            .map(move |(i, _)| start + i)
    }

    /// The last component of an entry's path (`""` for the root).
    pub fn name(&self, entry: usize) -> &str {
        let path = &self.entries[entry].path;
        path.rsplit('/').next().unwrap_or(path)
    }

    /// The directory containing `entry` (the root contains itself).
    pub fn parent(&self, entry: usize) -> usize {
        let path = &self.entries[entry].path;
        match path.rfind('/') {
            Some(at) => self.find(&path[..at]).unwrap_or(0),
            None => 0,
        }
    }

    /// Looks `path` up from directory `from`, as a file system would: `.`
    /// and `..` (never above the root), symlinks inside the tree, the last
    /// one followed only if `follow_last`.
    pub fn resolve(
        &self,
        from: usize,
        path: &str,
        follow_last: bool,
    ) -> Result<usize, LookupError> {
        if path.starts_with('/') {
            return Err(LookupError::Escapes);
        }
        // The directory reached so far, as components from the root.
        let mut dir: Vec<String> = split(&self.entries[from].path);
        let mut todo: Vec<String> = split(path).into_iter().rev().collect();
        let trailing_slash = path.ends_with('/');
        let mut links = 0;
        while let Some(part) = todo.pop() {
            match part.as_str() {
                "." => continue,
                ".." => {
                    dir.pop().ok_or(LookupError::Escapes)?;
                    continue;
                }
                _ => {}
            }
            let mut candidate = dir.join("/");
            if !candidate.is_empty() {
                candidate.push('/');
            }
            candidate.push_str(&part);
            let found = self.find(&candidate).ok_or(LookupError::NotFound)?;
            let last = todo.is_empty();
            match &self.entries[found].kind {
                Kind::Dir => dir.push(part),
                Kind::File { .. } if last && !trailing_slash => return Ok(found),
                Kind::File { .. } => return Err(LookupError::NotDir),
                Kind::Symlink { .. } if last && !follow_last && !trailing_slash => {
                    return Ok(found);
                }
                Kind::Symlink { target } => {
                    links += 1;
                    if links > MAX_LINKS {
                        return Err(LookupError::Loop);
                    }
                    if target.starts_with('/') {
                        return Err(LookupError::Escapes);
                    }
                    todo.extend(split(target).into_iter().rev());
                }
            }
        }
        self.find(&dir.join("/")).ok_or(LookupError::NotFound)
    }

    /// Checks what a reader relies on: sorted unique paths, the root first
    /// and a directory, every parent a directory, file data inside
    /// `data_end` and not at offset 0.
    pub fn check(&self, data_end: u64) -> Result<(), &'static str> {
        match self.entries.first() {
            Some(Entry {
                path,
                kind: Kind::Dir,
            }) if path.is_empty() => {}
            _ => return Err("an embedded tree has no root directory"),
        }
        if self.guest.is_empty() {
            return Err("an embedded tree has no guest name");
        }
        for pair in self.entries.windows(2) {
            if pair[0].path >= pair[1].path {
                return Err("an embedded tree is not sorted");
            }
        }
        for (i, entry) in self.entries.iter().enumerate().skip(1) {
            // Every component, empty ones included (`/a`, `a//b`, `a/`).
            if entry
                .path
                .split('/')
                .any(|p| p.is_empty() || p == "." || p == "..")
            {
                return Err("an embedded path is not normalised");
            }
            let parent = match entry.path.rfind('/') {
                Some(at) => self.find(&entry.path[..at]),
                None => Some(0),
            };
            if parent.is_none_or(|p| p == i || self.entries[p].kind != Kind::Dir) {
                return Err("an embedded entry's parent is not a directory");
            }
            if let Kind::File { offset, len, .. } = entry.kind
                && (offset == 0 || offset.checked_add(len).is_none_or(|end| end > data_end))
            {
                return Err("an embedded file lies outside the packed file");
            }
        }
        Ok(())
    }
}

fn split(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> Tree {
        let file = |len| Kind::File {
            offset: 16,
            len,
            hash: 0,
        };
        let link = |t: &str| Kind::Symlink {
            target: t.to_owned(),
        };
        let entries = [
            ("", Kind::Dir),
            ("a", Kind::Dir),
            ("a/b", Kind::Dir),
            ("a/b-x", file(1)),
            ("a/b/c", file(2)),
            ("a/d", file(3)),
            ("loop", link("loop")),
            ("out", link("../x")),
            ("to-b", link("a/b")),
            ("to-c", link("a/b/c")),
            ("up", link("a/..")),
        ]
        .into_iter()
        .map(|(path, kind)| Entry {
            path: path.to_owned(),
            kind,
        })
        .collect();
        Tree {
            guest: "/app".into(),
            entries,
        }
    }

    #[test]
    fn children_are_direct_and_in_name_order() {
        let t = tree();
        let names = |d| t.children(d).map(|i| t.name(i)).collect::<Vec<_>>();
        assert_eq!(names(0), ["a", "loop", "out", "to-b", "to-c", "up"]);
        assert_eq!(names(1), ["b", "b-x", "d"]);
        assert_eq!(names(2), ["c"]);
        assert_eq!(t.parent(4), 2);
        assert_eq!(t.parent(1), 0);
        t.check(100).unwrap();
    }

    #[test]
    fn lookups() {
        let t = tree();
        let r = |p: &str| t.resolve(0, p, true);
        assert_eq!(r("a/b/c"), Ok(4));
        assert_eq!(r("./a/./b/../d"), Ok(5));
        assert_eq!(r("a/b/../../a/d"), Ok(5));
        assert_eq!(r(""), Ok(0));
        assert_eq!(r("."), Ok(0));
        assert_eq!(r("to-c"), Ok(4));
        assert_eq!(r("to-b/c"), Ok(4));
        assert_eq!(r("up"), Ok(0));
        assert_eq!(t.resolve(0, "to-c", false), Ok(9));
        assert_eq!(t.resolve(2, "../d", true), Ok(5));
        assert_eq!(r(".."), Err(LookupError::Escapes));
        assert_eq!(r("a/../.."), Err(LookupError::Escapes));
        assert_eq!(r("/a"), Err(LookupError::Escapes));
        assert_eq!(r("out"), Err(LookupError::Escapes));
        assert_eq!(r("loop"), Err(LookupError::Loop));
        assert_eq!(r("nope"), Err(LookupError::NotFound));
        assert_eq!(r("a/d/x"), Err(LookupError::NotDir));
        assert_eq!(r("a/d/"), Err(LookupError::NotDir));
    }

    #[test]
    fn check_refuses_bad_trees() {
        let mut t = tree();
        t.entries.swap(2, 3);
        assert!(t.check(100).is_err());
        let mut t = tree();
        t.entries[5].kind = Kind::File {
            offset: 90,
            len: 20,
            hash: 0,
        };
        assert!(t.check(100).is_err());
        let mut t = tree();
        t.entries.remove(2); // a/b/c without a/b
        assert!(t.check(100).is_err());
        let mut t = tree();
        t.entries.remove(0);
        assert!(t.check(100).is_err());
        // Empty components: no look-up reaches such an entry (found by
        // fuzzing, fuzz/corpus-regressions/manifest/).
        for bad in ["/x", "a/"] {
            let mut t = tree();
            t.entries.push(Entry {
                path: bad.into(),
                kind: Kind::Dir,
            });
            t.entries.sort_by(|a, b| a.path.cmp(&b.path));
            assert!(t.check(100).is_err(), "{bad:?}");
        }
    }
}
