//! Remembering which packed files were already verified, so that the payload
//! hash is computed once per file rather than at every start.
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
//! hashes, which is always safe.

use std::fs::{File, Metadata};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long a file must have been unchanged before its check is remembered.
const SETTLE: Duration = Duration::from_secs(2);

/// Written at the start of each entry so that a future layout is not misread.
const ENTRY_TAG: &[u8; 8] = b"wpackv1\n";

/// The cache entry of one file: its identity, times and payload hash.
pub struct Entry {
    path: Option<PathBuf>,
    record: Vec<u8>,
    settled: bool,
}

impl Entry {
    /// Describes the open file `file` whose payload hash is `payload_hash`.
    pub fn for_file(file: &File, payload_hash: u64) -> Option<Self> {
        let meta = file.metadata().ok()?;
        Some(Self {
            path: cache_dir().map(|dir| dir.join(format!("{:x}-{:x}", meta.dev(), meta.ino()))),
            record: record(&meta, payload_hash),
            settled: settled(&meta),
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

fn record(meta: &Metadata, payload_hash: u64) -> Vec<u8> {
    let mut out = ENTRY_TAG.to_vec();
    for field in [
        meta.dev(),
        meta.ino(),
        meta.size(),
        meta.mtime() as u64,
        meta.mtime_nsec() as u64,
        meta.ctime() as u64,
        meta.ctime_nsec() as u64,
        payload_hash,
    ] {
        out.extend_from_slice(&field.to_le_bytes());
    }
    out
}

fn settled(meta: &Metadata) -> bool {
    let changed = UNIX_EPOCH + Duration::new(meta.ctime().max(0) as u64, meta.ctime_nsec() as u32);
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
