//! Remembering which packed files were already verified, so that the hash
//! of a file's payload (and of each other code a suite's commands run) is
//! computed once per file rather than at every start.
//!
//! Hashing reads every page of the payload: about 2 ms and the whole payload
//! resident for an 86 MB payload (see BENCHMARKS.md), while a run typically
//! touches a small part of it. Any change to a file's bytes (a write,
//! truncation, copy over it, an antivirus patch) gives it a new change time
//! (`ctime`), which no user can set back. So after a successful check the stub
//! records the file's identity and times in a small cache entry, and later
//! starts skip the hash while all of them still match.
//!
//! As in git's "racy" index rule, a file changed less than [`SETTLE`] before
//! the check is not recorded: its timestamps may be too coarse to tell that
//! change from a later one. Without a usable cache directory every start
//! hashes, which is always safe. So does every start on platforms without
//! inode numbers and change times (Windows).

use std::fs::File;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long a file must have been unchanged before its check is remembered.
const SETTLE: Duration = Duration::from_secs(2);

/// Written at the start of each entry so that a future layout is not misread.
const ENTRY_TAG: &[u8; 8] = b"wpackv1\n";

/// The cache entry of one code of a file: the file's identity and times,
/// and the code's hash.
pub struct Entry {
    path: Option<PathBuf>,
    record: Vec<u8>,
    settled: bool,
}

impl Entry {
    /// Describes code `code` of the open file `file`, whose recorded hash
    /// is `hash` (for code 0, the payload hash). Each code a file's
    /// commands run has an entry of its own, verified when first run.
    pub fn for_code(file: &File, code: u32, hash: u64) -> Option<Self> {
        let id = identity(file)?;
        // Code 0 keeps the name entries had before suites, so those stay valid.
        let name = match code {
            0 => format!("{:x}-{:x}", id.dev, id.ino),
            _ => format!("{:x}-{:x}-{code}", id.dev, id.ino),
        };
        Some(Self {
            path: cache_dir().map(|dir| dir.join(name)),
            record: record(&id, hash),
            settled: settled(&id),
        })
    }

    /// True if this exact file was verified before.
    pub fn is_verified(&self) -> bool {
        let Some(path) = &self.path else { return false };
        std::fs::read(path).is_ok_and(|stored| stored == self.record)
    }

    /// Records a successful check, when the file has settled. Failures are
    /// ignored: the only cost is hashing again next time.
    pub fn remember(&self) {
        let (Some(path), true) = (&self.path, self.settled) else {
            return;
        };
        let Some(dir) = path.parent() else { return };
        if std::fs::create_dir_all(dir).is_err() {
            return;
        }
        let temp = path.with_extension(format!("tmp{}", std::process::id()));
        if std::fs::write(&temp, &self.record).is_ok() && std::fs::rename(&temp, path).is_err() {
            let _ = std::fs::remove_file(&temp);
        }
    }

    /// Where the entry lives, for `WPACK_DEBUG`.
    pub fn location(&self) -> Option<&std::path::Path> {
        self.path.as_deref()
    }
}

/// What identifies a file's current contents without reading them.
struct Identity {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

#[cfg(unix)]
fn identity(file: &File) -> Option<Identity> {
    use std::os::unix::fs::MetadataExt;
    let m = file.metadata().ok()?;
    Some(Identity {
        dev: m.dev(),
        ino: m.ino(),
        size: m.size(),
        mtime: (m.mtime(), m.mtime_nsec()),
        ctime: (m.ctime(), m.ctime_nsec()),
    })
}

#[cfg(not(unix))]
fn identity(_file: &File) -> Option<Identity> {
    None
}

fn record(id: &Identity, hash: u64) -> Vec<u8> {
    let mut out = ENTRY_TAG.to_vec();
    for field in [
        id.dev,
        id.ino,
        id.size,
        id.mtime.0 as u64,
        id.mtime.1 as u64,
        id.ctime.0 as u64,
        id.ctime.1 as u64,
        hash,
    ] {
        out.extend_from_slice(&field.to_le_bytes());
    }
    out
}

fn settled(id: &Identity) -> bool {
    let changed = UNIX_EPOCH + Duration::new(id.ctime.0.max(0) as u64, id.ctime.1 as u32);
    SystemTime::now()
        .duration_since(changed)
        .is_ok_and(|age| age > SETTLE)
}

/// `$XDG_CACHE_HOME/wpack/verified`, or `~/.cache/wpack/verified`.
fn cache_dir() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_CACHE_HOME") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(std::env::var_os("HOME").filter(|h| !h.is_empty())?).join(".cache"),
    };
    Some(base.join("wpack").join("verified"))
}
