//! Embedded trees (`--include`) seen by the program as read-only
//! directories, served straight from this executable's mapping of itself.
//!
//! wasmtime-wasi's preopens are host directories, and its descriptor table
//! is private, so embedded trees join the program's file system as a thin
//! WASI preview 1 layer of our own in front of wasmtime-wasi:
//!
//! * Each tree is a preopen under its guest name. To give it a descriptor
//!   number in the sequence the program enumerates (3, 4, ...) and keep
//!   wasmtime-wasi from ever handing that number out, a stand-in directory is
//!   preopened read-only in wasmtime-wasi under the same name (its
//!   `fd_prestat_*` answers are then right as they are); every other call on
//!   that number comes here, so the stand-in is never read.
//! * Files and directories opened inside a tree get descriptors from a range
//!   no real file uses ([`FIRST_FD`] up), as Deno does.
//! * Every preview 1 function that takes a descriptor is shadowed: calls on
//!   our descriptors are answered here, all others go to wasmtime-wasi
//!   unchanged. Without `--include` nothing is shadowed at all.
//!
//! Reads copy from the mapping (nothing is extracted or read at start);
//! every change (create, write, rename, unlink, set times, truncate) gets
//! `EROFS`, as on a read-only file system. Files read as mode 0444 would, and
//! carry no timestamps (they are not recorded at pack time).

use std::collections::HashMap;

use crate::tree::{Kind, LookupError, Tree};
use wasmtime::{AsContextMut, Caller, Extern, FuncType, Linker, Val, ValType};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p1::wasi_snapshot_preview1::{self, WasiSnapshotPreview1 as _};
use wiggle::GuestMemory;
use xxhash_rust::xxh3::xxh3_64;

/// The store's data: wasmtime-wasi's context and the embedded trees.
pub struct Host {
    pub wasi: WasiP1Ctx,
    pub embedded: Embedded,
}

const WASI: &str = "wasi_snapshot_preview1";

/// Descriptors of files and directories opened inside embedded trees.
const FIRST_FD: u32 = 1 << 30;
/// `st_dev` of every embedded entry ("wpk").
const DEVICE: u64 = 0x0077_706b;

// WASI preview 1 errno values.
const SUCCESS: i32 = 0;
const EBADF: i32 = 8;
const EEXIST: i32 = 20;
const EFAULT: i32 = 21;
const EINVAL: i32 = 28;
const EIO: i32 = 29;
const EISDIR: i32 = 31;
const ELOOP: i32 = 32;
const ENOENT: i32 = 44;
const ENOTDIR: i32 = 54;
const ENOTSUP: i32 = 58;
const EPERM: i32 = 63;
const EROFS: i32 = 69;

// File types.
const DIRECTORY: u8 = 3;
const REGULAR_FILE: u8 = 4;
const SYMBOLIC_LINK: u8 = 7;

// Flags.
const LOOKUP_SYMLINK_FOLLOW: i32 = 1;
const O_CREAT: i32 = 1;
const O_DIRECTORY: i32 = 2;
const O_EXCL: i32 = 4;
const O_TRUNC: i32 = 8;
const FDFLAG_APPEND: i32 = 1;
const RIGHT_FD_WRITE: i64 = 1 << 6;
/// Rights reported for files: read, seek, tell, advise, stat, poll.
const FILE_RIGHTS: u64 = (1 << 1) | (1 << 2) | (1 << 5) | (1 << 7) | (1 << 21) | (1 << 27);
/// Rights reported for directories: open, readdir, readlink, stat.
const DIR_RIGHTS: u64 = (1 << 13) | (1 << 14) | (1 << 15) | (1 << 18) | (1 << 21);

/// An open descriptor on an embedded entry.
struct Open {
    tree: usize,
    entry: usize,
    /// Read position (files).
    pos: u64,
    /// Also a preopen in wasmtime-wasi's table (see the module comment).
    preopen: bool,
}

/// The trees, their open descriptors, and which files were checked.
pub struct Embedded {
    /// The whole packed file, mapped for the life of the process.
    file: &'static [u8],
    trees: Vec<Tree>,
    open: HashMap<u32, Open>,
    next_fd: u32,
    /// Files whose contents matched their hash, by (tree, entry).
    verified: std::collections::HashSet<(usize, usize)>,
}

impl Embedded {
    /// The trees, their preopens numbered from `first_fd` in order (see
    /// `run::wasi_context`, which adds their stand-ins there).
    pub fn new(file: &'static [u8], trees: Vec<Tree>, first_fd: u32) -> Self {
        let open = (0..trees.len())
            .map(|tree| {
                let open = Open {
                    tree,
                    entry: 0,
                    pos: 0,
                    preopen: true,
                };
                (first_fd + tree as u32, open)
            })
            .collect();
        Embedded {
            file,
            trees,
            open,
            next_fd: FIRST_FD,
            verified: Default::default(),
        }
    }

    /// For `fd_close`: forgets a tree's preopen and says to let wasmtime-wasi
    /// close its stand-in (false); true for our other descriptors.
    fn close_preopen(&mut self, fd: i32) -> bool {
        match self.open.get(&(fd as u32)) {
            Some(o) if o.preopen => {
                self.open.remove(&(fd as u32));
                false
            }
            Some(_) => true,
            None => false,
        }
    }

    fn owns(&self, fd: i32) -> bool {
        self.open.contains_key(&(fd as u32))
    }

    fn kind(&self, o: &Open) -> &Kind {
        &self.trees[o.tree].entries[o.entry].kind
    }

    /// Contents of a file entry, checked against its hash the first time.
    fn contents(&mut self, tree: usize, entry: usize) -> Result<&'static [u8], i32> {
        let Kind::File { offset, len, hash } = self.trees[tree].entries[entry].kind else {
            return Err(EISDIR);
        };
        let file = self.file;
        let bytes = file
            .get(offset as usize..(offset + len) as usize)
            .ok_or(EIO)?;
        if self.verified.insert((tree, entry)) && xxh3_64(bytes) != hash {
            self.verified.remove(&(tree, entry));
            super::run::report(&format!(
                "{}: the embedded file {} is damaged (checksum mismatch); download or pack \
                 the program again",
                super::run::program_name(),
                self.trees[tree].entries[entry].path
            ));
            return Err(EIO);
        }
        Ok(bytes)
    }

    fn filestat(&self, tree: usize, entry: usize) -> [u8; 64] {
        let (filetype, size) = match &self.trees[tree].entries[entry].kind {
            Kind::Dir => (DIRECTORY, 0),
            Kind::File { len, .. } => (REGULAR_FILE, *len),
            Kind::Symlink { target } => (SYMBOLIC_LINK, target.len() as u64),
        };
        let mut stat = [0u8; 64];
        stat[0..8].copy_from_slice(&DEVICE.to_le_bytes());
        stat[8..16].copy_from_slice(&inode(tree, entry).to_le_bytes());
        stat[16] = filetype;
        stat[24..32].copy_from_slice(&1u64.to_le_bytes());
        stat[32..40].copy_from_slice(&size.to_le_bytes());
        stat
    }

    /// Looks `path` up from the directory open as `dirfd`.
    fn lookup(&self, dirfd: i32, path: &str, follow: bool) -> Result<(usize, usize), i32> {
        let o = self.open.get(&(dirfd as u32)).ok_or(EBADF)?;
        if !matches!(self.kind(o), Kind::Dir) {
            return Err(ENOTDIR);
        }
        let tree = &self.trees[o.tree];
        tree.resolve(o.entry, path, follow)
            .map(|entry| (o.tree, entry))
            .map_err(|e| match e {
                LookupError::NotFound => ENOENT,
                LookupError::NotDir => ENOTDIR,
                LookupError::Escapes => EPERM,
                LookupError::Loop => ELOOP,
            })
    }

    /// The directory listing of an open directory as preview 1 dirents,
    /// from entry number `cookie` on: `.`, `..`, then the children.
    fn dirents(&self, o: &Open, cookie: u64) -> Vec<u8> {
        let tree = &self.trees[o.tree];
        let mut names: Vec<(&str, usize)> = vec![(".", o.entry), ("..", tree.parent(o.entry))];
        names.extend(tree.children(o.entry).map(|c| (tree.name(c), c)));
        let mut out = Vec::new();
        for (i, (name, entry)) in names.into_iter().enumerate().skip(cookie as usize) {
            let filetype = match tree.entries[entry].kind {
                Kind::Dir => DIRECTORY,
                Kind::File { .. } => REGULAR_FILE,
                Kind::Symlink { .. } => SYMBOLIC_LINK,
            };
            out.extend_from_slice(&(i as u64 + 1).to_le_bytes());
            out.extend_from_slice(&inode(o.tree, entry).to_le_bytes());
            out.extend_from_slice(&(name.len() as u32).to_le_bytes());
            out.extend_from_slice(&[filetype, 0, 0, 0]);
            out.extend_from_slice(name.as_bytes());
        }
        out
    }
}

fn inode(tree: usize, entry: usize) -> u64 {
    ((tree as u64 + 1) << 32) | (entry as u64 + 1)
}

/// The guest's memory and the host state, borrowed together.
fn memory<'a>(caller: &'a mut Caller<'_, Host>) -> Result<(&'a mut [u8], &'a mut Host), i32> {
    match caller.get_export("memory") {
        Some(Extern::Memory(m)) => Ok(m.data_and_store_mut(caller)),
        Some(Extern::SharedMemory(m)) => {
            let cells = m.data();
            // SAFETY: no other thread runs this program's code (wpack gives
            // no way to start one: no wasi-threads), so nothing else reads
            // or writes the shared memory while this call copies into it.
            let bytes =
                unsafe { std::slice::from_raw_parts_mut(cells.as_ptr() as *mut u8, cells.len()) };
            Ok((bytes, caller.data_mut()))
        }
        _ => Err(EFAULT),
    }
}

fn bytes(mem: &[u8], ptr: i32, len: i32) -> Result<&[u8], i32> {
    let start = ptr as u32 as usize;
    mem.get(start..start + len as u32 as usize).ok_or(EFAULT)
}

fn put(mem: &mut [u8], ptr: i32, data: &[u8]) -> Result<(), i32> {
    let start = ptr as u32 as usize;
    mem.get_mut(start..start + data.len())
        .ok_or(EFAULT)?
        .copy_from_slice(data);
    Ok(())
}

fn path(mem: &[u8], ptr: i32, len: i32) -> Result<String, i32> {
    std::str::from_utf8(bytes(mem, ptr, len)?)
        .map(str::to_owned)
        .map_err(|_| EINVAL)
}

/// The `(buf, len)` pairs of an iovec array.
fn iovecs(mem: &[u8], ptr: i32, count: i32) -> Result<Vec<(i32, i32)>, i32> {
    let raw = bytes(mem, ptr, count.checked_mul(8).ok_or(EINVAL)?)?;
    Ok(raw
        .chunks(8)
        .map(|c| {
            let word = |at: usize| i32::from_le_bytes(c[at..at + 4].try_into().unwrap());
            (word(0), word(4))
        })
        .collect())
}

/// Copies `data` into the guest's iovecs; returns the bytes copied.
fn scatter(mem: &mut [u8], iovs: &[(i32, i32)], mut data: &[u8]) -> Result<usize, i32> {
    let mut copied = 0;
    for &(buf, len) in iovs {
        let n = (len as u32 as usize).min(data.len());
        put(mem, buf, &data[..n])?;
        copied += n;
        data = &data[n..];
        if data.is_empty() {
            break;
        }
    }
    Ok(copied)
}

/// Reads from an open file at `at` into the iovecs.
fn read_at(
    host: &mut Host,
    mem: &mut [u8],
    fd: i32,
    iovs: i32,
    count: i32,
    at: u64,
) -> Result<usize, i32> {
    let (tree, entry) = {
        let o = &host.embedded.open[&(fd as u32)];
        (o.tree, o.entry)
    };
    let contents = host.embedded.contents(tree, entry)?;
    let iovs = iovecs(mem, iovs, count)?;
    let from = (at.min(contents.len() as u64)) as usize;
    scatter(mem, &iovs, &contents[from..])
}

/// Turns a result into the errno a preview 1 function returns.
fn errno(result: Result<(), i32>) -> i32 {
    result.err().unwrap_or(SUCCESS)
}

/// A parameter of a shadowed function, as wasm passes it.
trait Param: Sized {
    const TYPE: ValType;
    fn from(value: Option<&Val>) -> Self;
}

impl Param for i32 {
    const TYPE: ValType = ValType::I32;
    fn from(value: Option<&Val>) -> Self {
        value.and_then(Val::i32).unwrap_or_default()
    }
}

impl Param for i64 {
    const TYPE: ValType = ValType::I64;
    fn from(value: Option<&Val>) -> Self {
        value.and_then(Val::i64).unwrap_or_default()
    }
}

/// Defines the shadowed preview 1 functions: calls whose descriptor is ours
/// run the body (an errno); every other call goes to wasmtime-wasi's own
/// implementation of the function, with the guest's memory, exactly as its
/// linker would call it (`sync` or `async` as wasmtime-wasi declares it).
macro_rules! layer {
    ($( $(#[$doc:meta])* $mode:ident $func:ident ($caller:ident $(, $arg:ident : $ty:ty)*)
        ours($owned:expr) => $body:expr; )*) => {
        /// The shadowed functions and their parameter types.
        const SHADOWED: &[(&str, &[ValType])] = &[$((stringify!($func), &[$(<$ty as Param>::TYPE),*])),*];

        /// Runs shadowed function `name`.
        fn dispatch(name: &str, caller: Caller<'_, Host>, params: &[Val]) -> wasmtime::Result<i32> {
            match name {
                $(stringify!($func) => {
                    #[allow(unused_mut)]
                    let mut $caller = caller;
                    let mut next = params.iter();
                    $(let $arg = <$ty as Param>::from(next.next());)*
                    if $owned {
                        return Ok($body);
                    }
                    // wasmtime-wasi limits what one call may copy by this
                    // allowance, which its own linker sets before every call.
                    let fuel = $caller.as_context_mut().hostcall_fuel();
                    let export = $caller.get_export("memory");
                    let (mut memory, host) = guest_memory(&export, &mut $caller)?;
                    host.wasi.set_hostcall_fuel(fuel);
                    let call = wasi_snapshot_preview1::$func(&mut host.wasi, &mut memory, $($arg),*);
                    layer!(@$mode call)
                })*
                _ => Err(wasmtime::format_err!("{name} is not shadowed")),
            }
        }
    };
    (@sync $call:ident) => { $call };
    (@async $call:ident) => { wasmtime_wasi::runtime::in_tokio($call) };
}

/// The guest's memory as wasmtime-wasi's functions take it.
fn guest_memory<'a>(
    export: &'a Option<Extern>,
    caller: &'a mut Caller<'_, Host>,
) -> wasmtime::Result<(GuestMemory<'a>, &'a mut Host)> {
    match export {
        Some(Extern::Memory(m)) => {
            let (mem, host) = m.data_and_store_mut(caller);
            Ok((GuestMemory::Unshared(mem), host))
        }
        Some(Extern::SharedMemory(m)) => Ok((GuestMemory::Shared(m.data()), caller.data_mut())),
        _ => Err(wasmtime::format_err!("missing required memory export")),
    }
}

/// Puts the layer in front of wasmtime-wasi's preview 1 functions in `linker`.
/// Puts the layer in front of wasmtime-wasi's preview 1 functions in
/// `linker`, all through one untyped host closure (`func_new`, then
/// `dispatch` by name). The layer makes the stub about 330 KB larger, most
/// likely because the stub crate instantiates wasmtime-wasi's generic preview 1
/// functions a second time (BENCHMARKS.md, issue #12).
pub fn add_to_linker(linker: &mut Linker<Host>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    for &(name, params) in SHADOWED {
        let ty = FuncType::new(linker.engine(), params.iter().cloned(), [ValType::I32]);
        linker.func_new(WASI, name, ty, move |caller, params, results| {
            results[0] = Val::I32(dispatch(name, caller, params)?);
            Ok(())
        })?;
    }
    linker.allow_shadowing(false);
    Ok(())
}

layer! {
    // Closing a tree's preopen closes its stand-in in wasmtime-wasi too, so
    // that number can then only be a real file's.
    async fd_close(caller, fd: i32) ours(caller.data_mut().embedded.close_preopen(fd)) => {
        caller.data_mut().embedded.open.remove(&(fd as u32));
        SUCCESS
    };
    async fd_read(caller, fd: i32, iovs: i32, count: i32, nread: i32) ours(caller.data().embedded.owns(fd)) => {
        errno((|| {
            let (mem, host) = memory(&mut caller)?;
            let pos = host.embedded.open[&(fd as u32)].pos;
            let n = read_at(host, mem, fd, iovs, count, pos)?;
            host.embedded.open.get_mut(&(fd as u32)).unwrap().pos = pos + n as u64;
            put(mem, nread, &(n as u32).to_le_bytes())
        })())
    };
    async fd_pread(caller, fd: i32, iovs: i32, count: i32, offset: i64, nread: i32) ours(caller.data().embedded.owns(fd)) => {
        errno((|| {
            let (mem, host) = memory(&mut caller)?;
            let n = read_at(host, mem, fd, iovs, count, offset as u64)?;
            put(mem, nread, &(n as u32).to_le_bytes())
        })())
    };
    async fd_seek(caller, fd: i32, delta: i64, whence: i32, out: i32) ours(caller.data().embedded.owns(fd)) => {
        errno((|| {
            let (mem, host) = memory(&mut caller)?;
            let e = &mut host.embedded;
            let o = &e.open[&(fd as u32)];
            let Kind::File { len, .. } = *e.kind(o) else { return Err(EBADF) };
            let base = match whence {
                0 => 0,
                1 => o.pos as i64,
                2 => len as i64,
                _ => return Err(EINVAL),
            };
            let pos = base.checked_add(delta).filter(|p| *p >= 0).ok_or(EINVAL)? as u64;
            e.open.get_mut(&(fd as u32)).unwrap().pos = pos;
            put(mem, out, &pos.to_le_bytes())
        })())
    };
    sync fd_tell(caller, fd: i32, out: i32) ours(caller.data().embedded.owns(fd)) => {
        errno((|| {
            let (mem, host) = memory(&mut caller)?;
            let o = &host.embedded.open[&(fd as u32)];
            if !matches!(host.embedded.kind(o), Kind::File { .. }) { return Err(EBADF) }
            put(mem, out, &o.pos.to_le_bytes())
        })())
    };
    async fd_fdstat_get(caller, fd: i32, out: i32) ours(caller.data().embedded.owns(fd)) => {
        errno((|| {
            let (mem, host) = memory(&mut caller)?;
            let o = &host.embedded.open[&(fd as u32)];
            let mut stat = [0u8; 24];
            let (filetype, rights) = match host.embedded.kind(o) {
                Kind::Dir => (DIRECTORY, DIR_RIGHTS),
                _ => (REGULAR_FILE, FILE_RIGHTS),
            };
            stat[0] = filetype;
            stat[8..16].copy_from_slice(&rights.to_le_bytes());
            stat[16..24].copy_from_slice(&(FILE_RIGHTS | DIR_RIGHTS).to_le_bytes());
            put(mem, out, &stat)
        })())
    };
    async fd_filestat_get(caller, fd: i32, out: i32) ours(caller.data().embedded.owns(fd)) => {
        errno((|| {
            let (mem, host) = memory(&mut caller)?;
            let o = &host.embedded.open[&(fd as u32)];
            let stat = host.embedded.filestat(o.tree, o.entry);
            put(mem, out, &stat)
        })())
    };
    async fd_readdir(caller, fd: i32, buf: i32, len: i32, cookie: i64, used: i32) ours(caller.data().embedded.owns(fd)) => {
        errno((|| {
            let (mem, host) = memory(&mut caller)?;
            let o = &host.embedded.open[&(fd as u32)];
            if !matches!(host.embedded.kind(o), Kind::Dir) { return Err(ENOTDIR) }
            let listing = host.embedded.dirents(o, cookie as u64);
            // A full buffer tells the caller to read on with a bigger one.
            let n = listing.len().min(len as u32 as usize);
            put(mem, buf, &listing[..n])?;
            put(mem, used, &(n as u32).to_le_bytes())
        })())
    };
    async path_open(caller, dirfd: i32, dirflags: i32, path_ptr: i32, path_len: i32, oflags: i32, rights: i64, _inheriting: i64, fdflags: i32, out: i32) ours(caller.data().embedded.owns(dirfd)) => {
        errno((|| {
            let (mem, host) = memory(&mut caller)?;
            let path = path(mem, path_ptr, path_len)?;
            let e = &mut host.embedded;
            let follow = dirflags & LOOKUP_SYMLINK_FOLLOW != 0;
            let (tree, entry) = match e.lookup(dirfd, &path, follow) {
                Err(ENOENT) if oflags & O_CREAT != 0 => return Err(EROFS),
                other => other?,
            };
            if oflags & (O_CREAT | O_EXCL) == O_CREAT | O_EXCL {
                return Err(EEXIST);
            }
            let kind = &e.trees[tree].entries[entry].kind;
            match kind {
                Kind::Symlink { .. } => return Err(ELOOP),
                Kind::File { .. } if oflags & O_DIRECTORY != 0 => return Err(ENOTDIR),
                Kind::Dir if rights & RIGHT_FD_WRITE != 0 => return Err(EISDIR),
                _ => {}
            }
            if oflags & O_TRUNC != 0 || rights & RIGHT_FD_WRITE != 0 || fdflags & FDFLAG_APPEND != 0 {
                return Err(EROFS);
            }
            if matches!(kind, Kind::File { .. }) {
                e.contents(tree, entry)?;
            }
            let fd = e.next_fd;
            e.next_fd = e.next_fd.checked_add(1).ok_or(ENOTSUP)?;
            e.open.insert(fd, Open { tree, entry, pos: 0, preopen: false });
            put(mem, out, &fd.to_le_bytes())
        })())
    };
    async path_filestat_get(caller, dirfd: i32, flags: i32, path_ptr: i32, path_len: i32, out: i32) ours(caller.data().embedded.owns(dirfd)) => {
        errno((|| {
            let (mem, host) = memory(&mut caller)?;
            let path = path(mem, path_ptr, path_len)?;
            let (tree, entry) = host.embedded.lookup(dirfd, &path, flags & LOOKUP_SYMLINK_FOLLOW != 0)?;
            put(mem, out, &host.embedded.filestat(tree, entry))
        })())
    };
    async path_readlink(caller, dirfd: i32, path_ptr: i32, path_len: i32, buf: i32, len: i32, used: i32) ours(caller.data().embedded.owns(dirfd)) => {
        errno((|| {
            let (mem, host) = memory(&mut caller)?;
            let path = path(mem, path_ptr, path_len)?;
            let (tree, entry) = host.embedded.lookup(dirfd, &path, false)?;
            let Kind::Symlink { target } = &host.embedded.trees[tree].entries[entry].kind else {
                return Err(EINVAL);
            };
            let n = target.len().min(len as u32 as usize);
            let target = target.as_bytes()[..n].to_vec();
            put(mem, buf, &target)?;
            put(mem, used, &(n as u32).to_le_bytes())
        })())
    };
    // Everything that would change a tree: refused as on a read-only mount.
    async fd_write(caller, fd: i32, _a: i32, _b: i32, _c: i32) ours(caller.data().embedded.owns(fd)) => EBADF;
    async fd_pwrite(caller, fd: i32, _a: i32, _b: i32, _c: i64, _d: i32) ours(caller.data().embedded.owns(fd)) => EBADF;
    sync fd_allocate(caller, fd: i32, _a: i64, _b: i64) ours(caller.data().embedded.owns(fd)) => EROFS;
    async fd_filestat_set_size(caller, fd: i32, _a: i64) ours(caller.data().embedded.owns(fd)) => EROFS;
    async fd_filestat_set_times(caller, fd: i32, _a: i64, _b: i64, _c: i32) ours(caller.data().embedded.owns(fd)) => EROFS;
    async path_create_directory(caller, fd: i32, _a: i32, _b: i32) ours(caller.data().embedded.owns(fd)) => EROFS;
    async path_remove_directory(caller, fd: i32, _a: i32, _b: i32) ours(caller.data().embedded.owns(fd)) => EROFS;
    async path_unlink_file(caller, fd: i32, _a: i32, _b: i32) ours(caller.data().embedded.owns(fd)) => EROFS;
    async path_filestat_set_times(caller, fd: i32, _a: i32, _b: i32, _c: i32, _d: i64, _e: i64, _f: i32) ours(caller.data().embedded.owns(fd)) => EROFS;
    async path_symlink(caller, _a: i32, _b: i32, fd: i32, _c: i32, _d: i32) ours(caller.data().embedded.owns(fd)) => EROFS;
    async path_link(caller, fd: i32, _a: i32, _b: i32, _c: i32, fd2: i32, _d: i32, _e: i32) ours(caller.data().embedded.owns(fd) || caller.data().embedded.owns(fd2)) => EROFS;
    async path_rename(caller, fd: i32, _a: i32, _b: i32, fd2: i32, _c: i32, _d: i32) ours(caller.data().embedded.owns(fd) || caller.data().embedded.owns(fd2)) => EROFS;
    // Nothing to do on data that never changes.
    async fd_sync(caller, fd: i32) ours(caller.data().embedded.owns(fd)) => SUCCESS;
    async fd_datasync(caller, fd: i32) ours(caller.data().embedded.owns(fd)) => SUCCESS;
    async fd_advise(caller, fd: i32, _a: i64, _b: i64, _c: i32) ours(caller.data().embedded.owns(fd)) => SUCCESS;
    sync fd_fdstat_set_flags(caller, fd: i32, _a: i32) ours(caller.data().embedded.owns(fd)) => SUCCESS;
    sync fd_fdstat_set_rights(caller, fd: i32, _a: i64, _b: i64) ours(caller.data().embedded.owns(fd)) => SUCCESS;
    async fd_renumber(caller, fd: i32, to: i32) ours(caller.data().embedded.owns(fd) || caller.data().embedded.owns(to)) => ENOTSUP;
}
