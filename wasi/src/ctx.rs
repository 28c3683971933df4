//! The program's WASI state: arguments, environment, the clocks' origin and
//! the descriptor table (stdio, preopened directories, what the program
//! opened since).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::IsTerminal;
use std::time::Instant;

use crate::error::Errno;
use crate::fs::{Dir, DirEntry, File};

/// One of the three standard streams, always the process's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stdio {
    In,
    Out,
    Err,
}

/// What a descriptor number stands for.
pub enum Descriptor {
    Stdio {
        stream: Stdio,
        /// A terminal: reported as a character device (else "unknown"),
        /// as wasmtime does.
        tty: bool,
    },
    Dir {
        dir: Box<dyn Dir>,
        /// The guest name of a preopened directory.
        preopen: Option<String>,
        /// Where the program's last `fd_readdir` left off.
        listing: Option<Listing>,
    },
    File {
        file: Box<dyn File>,
        position: u64,
        append: bool,
        nonblocking: bool,
    },
}

/// A directory listing in progress, so that reading it on from the cookie
/// the last call ended at neither re-reads the directory nor re-stats its
/// entries: `fd_readdir` is linear in the size of the directory (wasmtime's
/// re-reads and stats it all at every call).
///
/// The first call of a listing reads the directory in one pass (each entry
/// with its inode and type, no stat); later calls serve it from here, so
/// cookies stay stable while the directory changes. Cookies number the
/// entries: 0 is `.`, 1 is `..`, 2 the first entry the platform lists.
/// `pending` holds the entries the program has not read past, starting at
/// number `base`.
pub struct Listing {
    pub(crate) base: u64,
    pub(crate) pending: VecDeque<DirEntry>,
}

/// The descriptor table. Numbers are handed out as wasmtime-wasi does:
/// the highest freed number first, else one past the highest in use.
#[derive(Default)]
pub struct Table {
    used: BTreeMap<u32, Descriptor>,
    free: BTreeSet<u32>,
}

impl Table {
    pub fn push(&mut self, desc: Descriptor) -> Result<u32, Errno> {
        let fd = match self.free.pop_last() {
            Some(fd) => fd,
            None => match self.used.last_key_value() {
                Some((fd, _)) => fd.checked_add(1).ok_or(Errno::NOMEM)?,
                None => 0,
            },
        };
        self.used.insert(fd, desc);
        Ok(fd)
    }

    pub fn get(&self, fd: u32) -> Result<&Descriptor, Errno> {
        self.used.get(&fd).ok_or(Errno::BADF)
    }

    pub fn get_mut(&mut self, fd: u32) -> Result<&mut Descriptor, Errno> {
        self.used.get_mut(&fd).ok_or(Errno::BADF)
    }

    /// Every descriptor, by number.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &Descriptor)> {
        self.used.iter().map(|(fd, desc)| (*fd, desc))
    }

    pub fn remove(&mut self, fd: u32) -> Result<Descriptor, Errno> {
        let desc = self.used.remove(&fd).ok_or(Errno::BADF)?;
        self.free.insert(fd);
        Ok(desc)
    }

    /// Puts `desc` at `fd`, replacing whatever was there.
    pub(crate) fn insert_at(&mut self, fd: u32, desc: Descriptor) {
        self.free.remove(&fd);
        self.used.insert(fd, desc);
    }

    pub fn dir(&self, fd: u32) -> Result<&dyn Dir, Errno> {
        match self.get(fd)? {
            Descriptor::Dir { dir, .. } => Ok(dir.as_ref()),
            _ => Err(Errno::BADF),
        }
    }

    pub fn file(&self, fd: u32) -> Result<&dyn File, Errno> {
        match self.get(fd)? {
            Descriptor::File { file, .. } => Ok(file.as_ref()),
            _ => Err(Errno::BADF),
        }
    }
}

/// Everything the host functions read and change.
pub struct WasiCtx {
    pub(crate) args: Vec<String>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) table: Table,
    /// The monotonic clock counts from here, as in wasmtime.
    pub(crate) start: Instant,
    /// The program's memory, found on the first call that needs it.
    pub(crate) memory: Option<crate::abi::Memory>,
    /// Whether the program asked for the preopened directories
    /// (`fd_prestat_get`): wasi-libc keeps the answer in its memory.
    pub(crate) preopens_listed: bool,
}

impl WasiCtx {
    /// A context with the process's stdio as descriptors 0-2.
    pub fn new() -> WasiCtx {
        WasiCtx::with_stdio([Some(Stdio::In), Some(Stdio::Out), Some(Stdio::Err)])
    }

    /// A context whose descriptors 0-2 are the given streams of this
    /// process, or closed (`None`): e.g. a program's stdout sent to this
    /// process's stderr.
    pub fn with_stdio(streams: [Option<Stdio>; 3]) -> WasiCtx {
        let mut table = Table::default();
        for (fd, stream) in (0..).zip(streams) {
            if let Some(stream) = stream {
                let tty = match stream {
                    Stdio::In => std::io::stdin().is_terminal(),
                    Stdio::Out => std::io::stdout().is_terminal(),
                    Stdio::Err => std::io::stderr().is_terminal(),
                };
                table.insert_at(fd, Descriptor::Stdio { stream, tty });
            }
        }
        WasiCtx {
            args: Vec::new(),
            env: Vec::new(),
            table,
            start: Instant::now(),
            memory: None,
            preopens_listed: false,
        }
    }

    pub fn set_args(&mut self, args: Vec<String>) {
        self.args = args;
    }

    pub fn set_env(&mut self, env: Vec<(String, String)>) {
        self.env = env;
    }

    /// Preopens `dir` under the guest name `name`, as the next descriptor;
    /// returns its number.
    pub fn preopen(&mut self, dir: Box<dyn Dir>, name: &str) -> u32 {
        self.table
            .push(Descriptor::Dir {
                dir,
                preopen: Some(name.to_owned()),
                listing: None,
            })
            .expect("the table has room for preopens")
    }
}

impl WasiCtx {
    /// The descriptor table as the program left it.
    pub fn table(&self) -> &Table {
        &self.table
    }

    /// Puts `desc` at number `fd`, replacing what was there: how an
    /// embedder recreates descriptors a program had before (wpack: those
    /// open when it was pre-initialized).
    pub fn restore(&mut self, fd: u32, desc: Descriptor) {
        self.table.insert_at(fd, desc);
    }

    /// Whether the program has asked which directories are preopened.
    pub fn preopens_listed(&self) -> bool {
        self.preopens_listed
    }
}

impl Default for WasiCtx {
    fn default() -> Self {
        WasiCtx::new()
    }
}

/// The status a program asked to exit with (`proc_exit`), carried out of
/// the call as the error that ends it.
#[derive(Debug, thiserror::Error)]
#[error("exit status {0}")]
pub struct I32Exit(pub i32);
