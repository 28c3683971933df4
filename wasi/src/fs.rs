//! The one file-system layer: what the descriptor table holds behind a
//! descriptor number. A [`Dir`] resolves paths and opens what they name; a
//! [`File`] reads and writes. Host directories ([`crate::HostDir`]) and any
//! other tree a embedder provides (wpack's embedded trees) implement the same
//! two traits, so every preview 1 function is written once, above them.
//!
//! Implementations answer with [`Errno`]s; which errno a case gets follows
//! wasmtime-wasi 48, the reference this host is compared against.

use std::any::Any;
use std::time::SystemTime;

use crate::error::Errno;

pub type FsResult<T> = Result<T, Errno>;

/// `filetype` in the witx definitions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Filetype {
    Unknown = 0,
    BlockDevice = 1,
    CharacterDevice = 2,
    Directory = 3,
    RegularFile = 4,
    SymbolicLink = 7,
}

/// `filestat`: what `fd_filestat_get` and `path_filestat_get` report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Filestat {
    pub dev: u64,
    pub ino: u64,
    pub filetype: Option<Filetype>,
    pub nlink: u64,
    pub size: u64,
    /// Nanoseconds since the Unix epoch; 0 where the platform keeps none.
    pub atim: u64,
    pub mtim: u64,
    pub ctim: u64,
}

impl Filestat {
    /// The 64-byte little-endian layout of `filestat`.
    pub fn encode(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[0..8].copy_from_slice(&self.dev.to_le_bytes());
        out[8..16].copy_from_slice(&self.ino.to_le_bytes());
        out[16] = self.filetype.unwrap_or(Filetype::Unknown) as u8;
        out[24..32].copy_from_slice(&self.nlink.to_le_bytes());
        out[32..40].copy_from_slice(&self.size.to_le_bytes());
        out[40..48].copy_from_slice(&self.atim.to_le_bytes());
        out[48..56].copy_from_slice(&self.mtim.to_le_bytes());
        out[56..64].copy_from_slice(&self.ctim.to_le_bytes());
        out
    }
}

/// A timestamp to set: `None` in an `Option<NewTime>` leaves it unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewTime {
    Now,
    At(SystemTime),
}

/// `advice` in the witx definitions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Advice {
    Normal,
    Sequential,
    Random,
    WillNeed,
    DontNeed,
    NoReuse,
}

/// How `path_open` asks for a file, decoded from its flags and rights.
#[derive(Clone, Copy, Debug, Default)]
pub struct OpenOptions {
    /// Follow a symlink in the last component.
    pub follow: bool,
    pub create: bool,
    pub exclusive: bool,
    pub truncate: bool,
    /// Fail with `ENOTDIR` unless the path names a directory.
    pub directory: bool,
    pub read: bool,
    pub write: bool,
}

/// What a path opened to.
pub enum Opened {
    File(Box<dyn File>),
    Dir(Box<dyn Dir>),
}

/// One directory entry, as `fd_readdir` reports it (without `.` and `..`,
/// which the table adds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    pub name: String,
    pub ino: u64,
    pub filetype: Filetype,
}

/// A directory listing, read lazily: one `getdents` batch at a time on a
/// host directory.
pub type Entries = Box<dyn Iterator<Item = FsResult<DirEntry>>>;

/// An open file.
pub trait File {
    fn stat(&self) -> FsResult<Filestat>;
    fn read_at(&self, buf: &mut [u8], offset: u64) -> FsResult<usize>;
    fn write_at(&self, buf: &[u8], offset: u64) -> FsResult<usize>;
    /// Writes at the end of the file, whatever the position.
    fn append(&self, buf: &[u8]) -> FsResult<usize>;
    fn set_size(&self, size: u64) -> FsResult<()>;
    fn set_times(&self, atim: Option<NewTime>, mtim: Option<NewTime>) -> FsResult<()>;
    fn sync(&self) -> FsResult<()>;
    fn sync_data(&self) -> FsResult<()>;
    fn advise(&self, offset: u64, len: u64, advice: Advice) -> FsResult<()>;
    /// Opened for reading / for writing (rights derive from these).
    fn readable(&self) -> bool;
    fn writable(&self) -> bool;
    /// For embedders that need to know which of their files a descriptor
    /// holds (wpack carries files opened at pre-initialization over).
    fn as_any(&self) -> &dyn Any;
}

/// An open directory: every path is resolved inside it, never above it.
pub trait Dir {
    fn open(&self, path: &str, options: &OpenOptions) -> FsResult<Opened>;
    fn stat(&self) -> FsResult<Filestat>;
    fn stat_at(&self, path: &str, follow: bool) -> FsResult<Filestat>;
    fn set_times(&self, atim: Option<NewTime>, mtim: Option<NewTime>) -> FsResult<()>;
    fn set_times_at(
        &self,
        path: &str,
        follow: bool,
        atim: Option<NewTime>,
        mtim: Option<NewTime>,
    ) -> FsResult<()>;
    /// The entries from the start, in the order the platform lists them.
    fn entries(&self) -> FsResult<Entries>;
    fn create_dir(&self, path: &str) -> FsResult<()>;
    fn remove_dir(&self, path: &str) -> FsResult<()>;
    fn unlink_file(&self, path: &str) -> FsResult<()>;
    fn read_link(&self, path: &str) -> FsResult<String>;
    fn symlink(&self, target: &str, path: &str) -> FsResult<()>;
    /// `to` is another directory of the table; implementations move only
    /// between directories of their own kind.
    fn rename(&self, path: &str, to: &dyn Dir, to_path: &str) -> FsResult<()>;
    fn hard_link(&self, path: &str, to: &dyn Dir, to_path: &str) -> FsResult<()>;
    fn sync(&self) -> FsResult<()>;
    /// Opened for reading (rights derive from it).
    fn readable(&self) -> bool;
    fn as_any(&self) -> &dyn Any;
}

/// Nanoseconds since the epoch, or 0 for a time before it or none at all.
pub fn nanos(time: std::io::Result<SystemTime>) -> u64 {
    time.ok()
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .and_then(|d| u64::try_from(d.as_nanos()).ok())
        .unwrap_or(0)
}
