//! The 46 functions of `wasi_snapshot_preview1`, as typed wasmtime host
//! functions: [`add_to_linker`] is the glue (one line per function), the
//! functions below it the behaviour, written against the descriptor table
//! and the [`crate::fs`] traits. Where a case is not obvious, the answer is
//! the one wasmtime-wasi 48's preview 1 gives (tests/wasi_diff.rs compares).

use std::time::{Duration, Instant, SystemTime};

use wasmtime::{Caller, Extern, Linker};

use crate::ctx::{Descriptor, I32Exit, Listing, Stdio, WasiCtx};
use crate::error::{Errno, Error, Result};
use crate::fs::{Advice, DirEntry, Filestat, Filetype, NewTime, OpenOptions, Opened};
use crate::memory::GuestMemory;
use crate::poll;

const MODULE: &str = "wasi_snapshot_preview1";

/// The program's memory export, looked up once.
#[derive(Clone)]
pub(crate) enum Memory {
    Plain(wasmtime::Memory),
    Shared(wasmtime::SharedMemory),
}

/// Defines every preview 1 function in `linker`.
pub fn add_to_linker(linker: &mut Linker<WasiCtx>) -> wasmtime::Result<()> {
    macro_rules! plain {
        ($name:ident ($($arg:ident: $ty:ty),*)) => {
            linker.func_wrap(MODULE, stringify!($name),
                |mut caller: Caller<'_, WasiCtx>, $($arg: $ty),*| -> wasmtime::Result<i32> {
                    errno($name(caller.data_mut(), $($arg as _),*))
                })?;
        };
    }
    macro_rules! with_memory {
        ($name:ident ($($arg:ident: $ty:ty),*)) => {
            linker.func_wrap(MODULE, stringify!($name),
                |mut caller: Caller<'_, WasiCtx>, $($arg: $ty),*| -> wasmtime::Result<i32> {
                    call_with_memory(&mut caller, |ctx, mem| $name(ctx, mem, $($arg as _),*))
                })?;
        };
    }
    with_memory!(args_get(argv: i32, buf: i32));
    with_memory!(args_sizes_get(count: i32, size: i32));
    with_memory!(environ_get(environ: i32, buf: i32));
    with_memory!(environ_sizes_get(count: i32, size: i32));
    with_memory!(clock_res_get(id: i32, out: i32));
    with_memory!(clock_time_get(id: i32, precision: i64, out: i32));
    plain!(fd_advise(fd: i32, offset: i64, len: i64, advice: i32));
    plain!(fd_allocate(fd: i32, offset: i64, len: i64));
    plain!(fd_close(fd: i32));
    plain!(fd_datasync(fd: i32));
    with_memory!(fd_fdstat_get(fd: i32, out: i32));
    plain!(fd_fdstat_set_flags(fd: i32, flags: i32));
    plain!(fd_fdstat_set_rights(fd: i32, base: i64, inheriting: i64));
    with_memory!(fd_filestat_get(fd: i32, out: i32));
    plain!(fd_filestat_set_size(fd: i32, size: i64));
    plain!(fd_filestat_set_times(fd: i32, atim: i64, mtim: i64, flags: i32));
    with_memory!(fd_pread(fd: i32, iovs: i32, count: i32, offset: i64, out: i32));
    with_memory!(fd_prestat_get(fd: i32, out: i32));
    with_memory!(fd_prestat_dir_name(fd: i32, path: i32, len: i32));
    with_memory!(fd_pwrite(fd: i32, iovs: i32, count: i32, offset: i64, out: i32));
    with_memory!(fd_read(fd: i32, iovs: i32, count: i32, out: i32));
    with_memory!(fd_readdir(fd: i32, buf: i32, len: i32, cookie: i64, out: i32));
    plain!(fd_renumber(fd: i32, to: i32));
    with_memory!(fd_seek(fd: i32, offset: i64, whence: i32, out: i32));
    plain!(fd_sync(fd: i32));
    with_memory!(fd_tell(fd: i32, out: i32));
    with_memory!(fd_write(fd: i32, iovs: i32, count: i32, out: i32));
    with_memory!(path_create_directory(fd: i32, path: i32, len: i32));
    with_memory!(path_filestat_get(fd: i32, flags: i32, path: i32, len: i32, out: i32));
    with_memory!(path_filestat_set_times(fd: i32, flags: i32, path: i32, len: i32, atim: i64, mtim: i64, fst: i32));
    with_memory!(path_link(fd: i32, flags: i32, path: i32, len: i32, to_fd: i32, to: i32, to_len: i32));
    with_memory!(path_open(fd: i32, flags: i32, path: i32, len: i32, oflags: i32, base: i64, inheriting: i64, fdflags: i32, out: i32));
    with_memory!(path_readlink(fd: i32, path: i32, len: i32, buf: i32, buf_len: i32, out: i32));
    with_memory!(path_remove_directory(fd: i32, path: i32, len: i32));
    with_memory!(path_rename(fd: i32, path: i32, len: i32, to_fd: i32, to: i32, to_len: i32));
    with_memory!(path_symlink(target: i32, target_len: i32, fd: i32, path: i32, len: i32));
    with_memory!(path_unlink_file(fd: i32, path: i32, len: i32));
    with_memory!(poll_oneoff(subs: i32, events: i32, count: i32, out: i32));
    linker.func_wrap(MODULE, "proc_exit", |status: i32| -> wasmtime::Result<()> {
        Err(wasmtime::Error::new(I32Exit(status)))
    })?;
    plain!(proc_raise(signal: i32));
    plain!(sched_yield());
    with_memory!(random_get(buf: i32, len: i32));
    plain!(sock_accept(fd: i32, flags: i32, out: i32));
    plain!(sock_recv(fd: i32, iovs: i32, count: i32, flags: i32, out: i32, out_flags: i32));
    plain!(sock_send(fd: i32, iovs: i32, count: i32, flags: i32, out: i32));
    plain!(sock_shutdown(fd: i32, how: i32));
    Ok(())
}

/// A function's result as wasm sees it: 0, an errno, or a trap.
fn errno(result: Result<()>) -> wasmtime::Result<i32> {
    match result {
        Ok(()) => Ok(0),
        Err(Error::Errno(e)) => Ok(e.0.into()),
        Err(Error::Trap(message)) => Err(wasmtime::Error::msg(message)),
    }
}

/// Runs `f` with the context and the program's memory.
fn call_with_memory(
    caller: &mut Caller<'_, WasiCtx>,
    f: impl FnOnce(&mut WasiCtx, &mut GuestMemory<'_>) -> Result<()>,
) -> wasmtime::Result<i32> {
    let memory = match caller.data().memory.clone() {
        Some(memory) => memory,
        None => {
            let memory = match caller.get_export("memory") {
                Some(Extern::Memory(m)) => Memory::Plain(m),
                Some(Extern::SharedMemory(m)) => Memory::Shared(m),
                _ => return Err(wasmtime::Error::msg("missing required memory export")),
            };
            caller.data_mut().memory = Some(memory.clone());
            memory
        }
    };
    match memory {
        Memory::Plain(m) => {
            let (bytes, ctx) = m.data_and_store_mut(caller);
            errno(f(ctx, &mut GuestMemory::new(bytes)))
        }
        Memory::Shared(m) => {
            let cells = m.data();
            // SAFETY: no other thread runs this program's code (there is no
            // way to start one: no wasi-threads), so nothing else reads or
            // writes the shared memory during this call.
            let bytes =
                unsafe { std::slice::from_raw_parts_mut(cells.as_ptr() as *mut u8, cells.len()) };
            errno(f(caller.data_mut(), &mut GuestMemory::new(bytes)))
        }
    }
}

// Argument values outside their witx type trap before the function runs,
// as wiggle's generated glue does in wasmtime.

fn flags(value: u32, all: u32, ty: &str) -> Result<u32> {
    if value & !all != 0 {
        return Err(Error::invalid_flags(ty));
    }
    Ok(value)
}

const FDFLAGS_ALL: u32 = 0x1f;
const FDFLAG_APPEND: u32 = 1;
const FDFLAG_DSYNC: u32 = 2;
const FDFLAG_NONBLOCK: u32 = 4;
const FDFLAG_RSYNC: u32 = 8;
const FDFLAG_SYNC: u32 = 16;
const LOOKUP_SYMLINK_FOLLOW: u32 = 1;
const OFLAG_CREAT: u32 = 1;
const OFLAG_DIRECTORY: u32 = 2;
const OFLAG_EXCL: u32 = 4;
const OFLAG_TRUNC: u32 = 8;
const FST_ATIM: u32 = 1;
const FST_ATIM_NOW: u32 = 2;
const FST_MTIM: u32 = 4;
const FST_MTIM_NOW: u32 = 8;

/// `rights` bits.
mod rights {
    pub const FD_DATASYNC: u64 = 1 << 0;
    pub const FD_READ: u64 = 1 << 1;
    pub const FD_SEEK: u64 = 1 << 2;
    pub const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
    pub const FD_SYNC: u64 = 1 << 4;
    pub const FD_TELL: u64 = 1 << 5;
    pub const FD_WRITE: u64 = 1 << 6;
    pub const FD_ADVISE: u64 = 1 << 7;
    pub const FD_ALLOCATE: u64 = 1 << 8;
    pub const PATH_CREATE_DIRECTORY: u64 = 1 << 9;
    pub const PATH_CREATE_FILE: u64 = 1 << 10;
    pub const PATH_LINK_SOURCE: u64 = 1 << 11;
    pub const PATH_LINK_TARGET: u64 = 1 << 12;
    pub const PATH_OPEN: u64 = 1 << 13;
    pub const FD_READDIR: u64 = 1 << 14;
    pub const PATH_READLINK: u64 = 1 << 15;
    pub const PATH_RENAME_SOURCE: u64 = 1 << 16;
    pub const PATH_RENAME_TARGET: u64 = 1 << 17;
    pub const PATH_FILESTAT_GET: u64 = 1 << 18;
    pub const PATH_FILESTAT_SET_SIZE: u64 = 1 << 19;
    pub const PATH_FILESTAT_SET_TIMES: u64 = 1 << 20;
    pub const FD_FILESTAT_GET: u64 = 1 << 21;
    pub const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
    pub const FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
    pub const PATH_SYMLINK: u64 = 1 << 24;
    pub const PATH_REMOVE_DIRECTORY: u64 = 1 << 25;
    pub const PATH_UNLINK_FILE: u64 = 1 << 26;
    pub const POLL_FD_READWRITE: u64 = 1 << 27;
    pub const ALL: u64 = (1 << 30) - 1;

    /// What wasmtime reports for a preopened directory, "expected by many
    /// userlands".
    pub const PREOPEN: u64 = PATH_CREATE_DIRECTORY
        | PATH_CREATE_FILE
        | PATH_LINK_SOURCE
        | PATH_LINK_TARGET
        | PATH_OPEN
        | FD_READDIR
        | PATH_READLINK
        | PATH_RENAME_SOURCE
        | PATH_RENAME_TARGET
        | PATH_SYMLINK
        | PATH_REMOVE_DIRECTORY
        | PATH_UNLINK_FILE
        | PATH_FILESTAT_GET
        | PATH_FILESTAT_SET_TIMES
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_TIMES;
    pub const PREOPEN_INHERITING: u64 = PREOPEN
        | FD_DATASYNC
        | FD_READ
        | FD_SEEK
        | FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_TELL
        | FD_WRITE
        | FD_ADVISE
        | FD_ALLOCATE
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_SIZE
        | FD_FILESTAT_SET_TIMES
        | POLL_FD_READWRITE;
}

fn check_rights(value: u64) -> Result<u64> {
    if value & !rights::ALL != 0 {
        return Err(Error::invalid_flags("Rights"));
    }
    Ok(value)
}

/// Clock ids: realtime, monotonic, process and thread CPU time.
pub(crate) fn clock_id(id: u32) -> Result<u32> {
    if id > 3 {
        return Err(Error::invalid_enum("Clockid"));
    }
    Ok(id)
}

/// The new timestamp a `fstflags` pair asks for (`EINVAL` for both a
/// time and "now").
fn new_time(set: bool, now: bool, ns: u64) -> Result<Option<NewTime>> {
    match (set, now) {
        (true, true) => Err(Errno::INVAL.into()),
        (true, false) => Ok(Some(NewTime::At(
            SystemTime::UNIX_EPOCH + Duration::from_nanos(ns),
        ))),
        (false, true) => Ok(Some(NewTime::Now)),
        (false, false) => Ok(None),
    }
}

fn new_times(atim: u64, mtim: u64, fst: u32) -> Result<(Option<NewTime>, Option<NewTime>)> {
    let fst = flags(fst, 0xf, "Fstflags")?;
    Ok((
        new_time(fst & FST_ATIM != 0, fst & FST_ATIM_NOW != 0, atim)?,
        new_time(fst & FST_MTIM != 0, fst & FST_MTIM_NOW != 0, mtim)?,
    ))
}

// Arguments and environment.

fn write_strings<'s>(
    mem: &mut GuestMemory<'_>,
    mut ptrs: u32,
    mut buf: u32,
    strings: impl Iterator<Item = Vec<&'s [u8]>>,
) -> Result<()> {
    for parts in strings {
        mem.put_u32(ptrs, buf)?;
        ptrs = ptrs.checked_add(4).ok_or_else(Error::out_of_bounds)?;
        for part in parts.into_iter().chain([&b"\0"[..]]) {
            mem.write(buf, part)?;
            buf = buf
                .checked_add(part.len() as u32)
                .ok_or_else(Error::out_of_bounds)?;
        }
    }
    Ok(())
}

fn args_get(ctx: &mut WasiCtx, mem: &mut GuestMemory<'_>, argv: u32, buf: u32) -> Result<()> {
    let args = ctx.args.iter().map(|a| vec![a.as_bytes()]);
    write_strings(mem, argv, buf, args)
}

fn args_sizes_get(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    count: u32,
    size: u32,
) -> Result<()> {
    let total: usize = ctx.args.iter().map(|a| a.len() + 1).sum();
    mem.put_u32(count, ctx.args.len().try_into()?)?;
    mem.put_u32(size, total.try_into()?)
}

fn environ_get(ctx: &mut WasiCtx, mem: &mut GuestMemory<'_>, env: u32, buf: u32) -> Result<()> {
    let vars = ctx
        .env
        .iter()
        .map(|(k, v)| vec![k.as_bytes(), b"=", v.as_bytes()]);
    write_strings(mem, env, buf, vars)
}

fn environ_sizes_get(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    count: u32,
    size: u32,
) -> Result<()> {
    let total: usize = ctx.env.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
    mem.put_u32(count, ctx.env.len().try_into()?)?;
    mem.put_u32(size, total.try_into()?)
}

// Clocks and randomness.

fn clock_res_get(_: &mut WasiCtx, mem: &mut GuestMemory<'_>, id: u32, out: u32) -> Result<()> {
    let res = match clock_id(id)? {
        0 => poll::realtime_resolution(),
        1 => poll::monotonic_resolution(),
        // wasmtime-wasi 48 has no CPU-time clocks in preview 1.
        _ => return Err(Errno::BADF.into()),
    };
    mem.put_u64(out, res)
}

fn clock_time_get(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    id: u32,
    _precision: u64,
    out: u32,
) -> Result<()> {
    let now = match clock_id(id)? {
        0 => poll::realtime_now()?,
        1 => poll::monotonic_now(ctx.start),
        _ => return Err(Errno::BADF.into()),
    };
    mem.put_u64(out, now)
}

fn random_get(_: &mut WasiCtx, mem: &mut GuestMemory<'_>, buf: u32, len: u32) -> Result<()> {
    let buf = mem.slice_mut(buf, len)?;
    getrandom::fill(buf).map_err(|e| Error::Trap(format!("cannot get random bytes: {e}")))
}

fn sched_yield(_: &mut WasiCtx) -> Result<()> {
    std::thread::yield_now();
    Ok(())
}

fn proc_raise(_: &mut WasiCtx, signal: u32) -> Result<()> {
    if signal > 30 {
        return Err(Error::invalid_enum("Signal"));
    }
    Err(Errno::NOTSUP.into())
}

// Descriptors.

fn fd_close(ctx: &mut WasiCtx, fd: u32) -> Result<()> {
    ctx.table.remove(fd)?;
    Ok(())
}

fn fd_renumber(ctx: &mut WasiCtx, fd: u32, to: u32) -> Result<()> {
    ctx.table.get(fd)?;
    ctx.table.get(to)?;
    if fd == to {
        return Ok(());
    }
    ctx.table.remove(to)?;
    let desc = ctx.table.remove(fd)?;
    ctx.table.insert_at(to, desc);
    Ok(())
}

fn fd_advise(ctx: &mut WasiCtx, fd: u32, offset: u64, len: u64, advice: u32) -> Result<()> {
    let advice = match advice {
        0 => Advice::Normal,
        1 => Advice::Sequential,
        2 => Advice::Random,
        3 => Advice::WillNeed,
        4 => Advice::DontNeed,
        5 => Advice::NoReuse,
        _ => return Err(Error::invalid_enum("Advice")),
    };
    Ok(ctx.table.file(fd)?.advise(offset, len, advice)?)
}

fn fd_allocate(ctx: &mut WasiCtx, fd: u32, _offset: u64, _len: u64) -> Result<()> {
    ctx.table.file(fd)?;
    Err(Errno::NOTSUP.into())
}

fn fd_datasync(ctx: &mut WasiCtx, fd: u32) -> Result<()> {
    Ok(ctx.table.file(fd)?.sync_data()?)
}

fn fd_sync(ctx: &mut WasiCtx, fd: u32) -> Result<()> {
    Ok(ctx.table.file(fd)?.sync()?)
}

fn fd_fdstat_get(ctx: &mut WasiCtx, mem: &mut GuestMemory<'_>, fd: u32, out: u32) -> Result<()> {
    let (filetype, fdflags, base, inheriting) = match ctx.table.get(fd)? {
        Descriptor::Stdio { stream, tty } => {
            let filetype = stdio_filetype(*tty);
            let base = match stream {
                Stdio::In => rights::FD_READ,
                Stdio::Out | Stdio::Err => rights::FD_WRITE,
            };
            (filetype, 0, base, base)
        }
        Descriptor::Dir {
            preopen: Some(_), ..
        } => (
            Filetype::Directory,
            0,
            rights::PREOPEN,
            rights::PREOPEN_INHERITING,
        ),
        Descriptor::Dir { dir, .. } => {
            let mut base = rights::ALL
                & !(rights::FD_SEEK
                    | rights::FD_FILESTAT_SET_SIZE
                    | rights::PATH_FILESTAT_SET_SIZE
                    | rights::FD_WRITE);
            if !dir.readable() {
                base &= !(rights::FD_READ | rights::FD_READDIR);
            }
            (Filetype::Directory, 0, base, base)
        }
        Descriptor::File {
            file,
            append,
            nonblocking,
            ..
        } => {
            let filetype = file.stat()?.filetype.unwrap_or(Filetype::Unknown);
            let mut base = rights::ALL;
            if !file.readable() {
                base &= !(rights::FD_READ | rights::FD_READDIR);
            }
            if !file.writable() {
                base &= !rights::FD_WRITE;
            }
            let mut fdflags = 0;
            if *append {
                fdflags |= FDFLAG_APPEND as u16;
            }
            if *nonblocking {
                fdflags |= FDFLAG_NONBLOCK as u16;
            }
            (filetype, fdflags, base, base)
        }
    };
    let mut stat = [0u8; 24];
    stat[0] = filetype as u8;
    stat[2..4].copy_from_slice(&fdflags.to_le_bytes());
    stat[8..16].copy_from_slice(&base.to_le_bytes());
    stat[16..24].copy_from_slice(&inheriting.to_le_bytes());
    mem.put_struct(out, 8, &stat)
}

fn stdio_filetype(tty: bool) -> Filetype {
    if tty {
        Filetype::CharacterDevice
    } else {
        Filetype::Unknown
    }
}

fn fd_fdstat_set_flags(ctx: &mut WasiCtx, fd: u32, fdflags: u32) -> Result<()> {
    let fdflags = flags(fdflags, FDFLAGS_ALL, "Fdflags")?;
    let Descriptor::File {
        append,
        nonblocking,
        ..
    } = ctx.table.get_mut(fd)?
    else {
        return Err(Errno::BADF.into());
    };
    // Only APPEND and NONBLOCK can change after opening.
    if fdflags & (FDFLAG_DSYNC | FDFLAG_SYNC | FDFLAG_RSYNC) != 0 {
        return Err(Errno::INVAL.into());
    }
    *append = fdflags & FDFLAG_APPEND != 0;
    *nonblocking = fdflags & FDFLAG_NONBLOCK != 0;
    Ok(())
}

fn fd_fdstat_set_rights(ctx: &mut WasiCtx, fd: u32, base: u64, inheriting: u64) -> Result<()> {
    check_rights(base)?;
    check_rights(inheriting)?;
    match ctx.table.get(fd)? {
        Descriptor::Stdio { .. } => Err(Errno::BADF.into()),
        // Rights are advisory in wasmtime's preview 1: they cannot be
        // dropped, and it says so.
        _ => Err(Errno::NOTSUP.into()),
    }
}

fn fd_filestat_get(ctx: &mut WasiCtx, mem: &mut GuestMemory<'_>, fd: u32, out: u32) -> Result<()> {
    let stat = match ctx.table.get(fd)? {
        Descriptor::Stdio { tty, .. } => Filestat {
            filetype: Some(stdio_filetype(*tty)),
            ..Filestat::default()
        },
        Descriptor::Dir { dir, .. } => dir.stat()?,
        Descriptor::File { file, .. } => file.stat()?,
    };
    mem.put_struct(out, 8, &stat.encode())
}

fn fd_filestat_set_size(ctx: &mut WasiCtx, fd: u32, size: u64) -> Result<()> {
    Ok(ctx.table.file(fd)?.set_size(size)?)
}

fn fd_filestat_set_times(ctx: &mut WasiCtx, fd: u32, atim: u64, mtim: u64, fst: u32) -> Result<()> {
    let (atim, mtim) = new_times(atim, mtim, fst)?;
    match ctx.table.get(fd)? {
        Descriptor::Dir { dir, .. } => Ok(dir.set_times(atim, mtim)?),
        Descriptor::File { file, .. } => Ok(file.set_times(atim, mtim)?),
        Descriptor::Stdio { .. } => Err(Errno::BADF.into()),
    }
}

fn fd_prestat_get(ctx: &mut WasiCtx, mem: &mut GuestMemory<'_>, fd: u32, out: u32) -> Result<()> {
    ctx.preopens_listed = true;
    let Descriptor::Dir {
        preopen: Some(name),
        ..
    } = ctx.table.get(fd)?
    else {
        return Err(Errno::BADF.into());
    };
    let mut prestat = [0u8; 8];
    prestat[4..8].copy_from_slice(&u32::try_from(name.len())?.to_le_bytes());
    mem.put_struct(out, 4, &prestat)
}

fn fd_prestat_dir_name(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    path: u32,
    len: u32,
) -> Result<()> {
    let Descriptor::Dir {
        preopen: Some(name),
        ..
    } = ctx.table.get(fd)?
    else {
        return Err(Errno::NOTDIR.into());
    };
    if name.len() > len as usize {
        return Err(Errno::NAMETOOLONG.into());
    }
    mem.write(path, name.as_bytes())
}

// Reading and writing.

fn fd_read(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    iovs: u32,
    count: u32,
    out: u32,
) -> Result<()> {
    let (buf, len) = mem.first_nonempty_iovec(iovs, count)?;
    let n = match ctx.table.get_mut(fd)? {
        Descriptor::File { file, position, .. } => {
            let n = file.read_at(mem.slice_mut(buf, len)?, *position)?;
            *position = position.checked_add(n as u64).ok_or(Errno::OVERFLOW)?;
            n
        }
        Descriptor::Stdio {
            stream: Stdio::In, ..
        } => crate::stdio::read(mem.slice_mut(buf, len)?)?,
        _ => return Err(Errno::BADF.into()),
    };
    mem.put_u32(out, n as u32)
}

fn fd_pread(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    iovs: u32,
    count: u32,
    offset: u64,
    out: u32,
) -> Result<()> {
    let (buf, len) = mem.first_nonempty_iovec(iovs, count)?;
    let n = match ctx.table.get(fd)? {
        Descriptor::File { file, .. } => file.read_at(mem.slice_mut(buf, len)?, offset)?,
        Descriptor::Stdio {
            stream: Stdio::In, ..
        } => return Err(Errno::SPIPE.into()),
        _ => return Err(Errno::BADF.into()),
    };
    mem.put_u32(out, n as u32)
}

fn fd_write(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    iovs: u32,
    count: u32,
    out: u32,
) -> Result<()> {
    let (buf, len) = mem.first_nonempty_iovec(iovs, count)?;
    let data = mem.slice(buf, len)?;
    let n = match ctx.table.get_mut(fd)? {
        Descriptor::File {
            file,
            position,
            append,
            ..
        } => {
            if *append {
                let n = file.append(data)?;
                *position = file.stat()?.size;
                n
            } else {
                let n = file.write_at(data, *position)?;
                *position = position.checked_add(n as u64).ok_or(Errno::OVERFLOW)?;
                n
            }
        }
        Descriptor::Stdio {
            stream: stream @ (Stdio::Out | Stdio::Err),
            ..
        } => crate::stdio::write(*stream, data)?,
        _ => return Err(Errno::BADF.into()),
    };
    mem.put_u32(out, n as u32)
}

fn fd_pwrite(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    iovs: u32,
    count: u32,
    offset: u64,
    out: u32,
) -> Result<()> {
    let (buf, len) = mem.first_nonempty_iovec(iovs, count)?;
    let data = mem.slice(buf, len)?;
    let n = match ctx.table.get(fd)? {
        // In append mode even a positional write appends, as in wasmtime.
        Descriptor::File { file, append, .. } if *append => file.append(data)?,
        Descriptor::File { file, .. } => file.write_at(data, offset)?,
        Descriptor::Stdio {
            stream: Stdio::Out | Stdio::Err,
            ..
        } => return Err(Errno::SPIPE.into()),
        _ => return Err(Errno::BADF.into()),
    };
    mem.put_u32(out, n as u32)
}

/// The position of a seekable descriptor (`ESPIPE` for stdio).
fn position(ctx: &mut WasiCtx, fd: u32) -> Result<(&dyn crate::fs::File, &mut u64)> {
    match ctx.table.get_mut(fd)? {
        Descriptor::File { file, position, .. } => Ok((&**file, position)),
        Descriptor::Stdio { .. } => Err(Errno::SPIPE.into()),
        Descriptor::Dir { .. } => Err(Errno::BADF.into()),
    }
}

fn fd_seek(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    offset: i64,
    whence: u32,
    out: u32,
) -> Result<()> {
    if whence > 2 {
        return Err(Error::invalid_enum("Whence"));
    }
    let (file, position) = position(ctx, fd)?;
    let new = match whence {
        0 => u64::try_from(offset).map_err(|_| Errno::INVAL)?,
        1 => position.checked_add_signed(offset).ok_or(Errno::INVAL)?,
        _ => file
            .stat()?
            .size
            .checked_add_signed(offset)
            .ok_or(Errno::INVAL)?,
    };
    *position = new;
    mem.put_u64(out, new)
}

fn fd_tell(ctx: &mut WasiCtx, mem: &mut GuestMemory<'_>, fd: u32, out: u32) -> Result<()> {
    let (_, position) = position(ctx, fd)?;
    let at = *position;
    mem.put_u64(out, at)
}

// Directories.

/// Size of a `dirent` header; its name follows.
const DIRENT_SIZE: usize = 24;

fn fd_readdir(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    buf: u32,
    len: u32,
    cookie: u64,
    out: u32,
) -> Result<()> {
    let Descriptor::Dir { dir, listing, .. } = ctx.table.get_mut(fd)? else {
        return Err(Errno::BADF.into());
    };
    // Cookies 0 and 1 are `.` and `..`; a listing read from the start, or
    // from before where the last one stands, starts afresh (rewinddir sees
    // what changed since).
    let restart = match listing {
        Some(l) => cookie == 0 || cookie.max(2) < l.base,
        None => true,
    };
    if restart {
        // One pass over the directory (a name that is not UTF-8 fails the
        // whole listing, as in wasmtime, which also reads it all first).
        let pending = dir.entries()?.collect::<Result<_, Errno>>()?;
        *listing = Some(Listing { base: 2, pending });
    }
    let listing = listing.as_mut().expect("set above");
    // Drop what the program has read; skip ahead if it jumped forward.
    while listing.base < cookie && listing.pending.pop_front().is_some() {
        listing.base += 1;
    }

    let mut cap = len as usize;
    let mut at = buf;
    let mut index = cookie;
    let dot_ino = if cookie < 2 { dir.stat()?.ino } else { 0 };
    loop {
        let entry = match index {
            0 => DirEntry {
                name: ".".into(),
                ino: dot_ino,
                filetype: Filetype::Directory,
            },
            1 => DirEntry {
                name: "..".into(),
                ino: dot_ino,
                filetype: Filetype::Directory,
            },
            _ => {
                let offset = (index.max(listing.base) - listing.base) as usize;
                match listing.pending.get(offset) {
                    Some(entry) => entry.clone(),
                    // A cookie past the last entry: nothing more to list.
                    None => break,
                }
            }
        };
        index += 1;
        // The header, then the name, each cut off where the buffer ends: a
        // full buffer tells libc to read on from the last whole entry.
        let mut header = [0u8; DIRENT_SIZE];
        header[0..8].copy_from_slice(&index.to_le_bytes());
        header[8..16].copy_from_slice(&entry.ino.to_le_bytes());
        header[16..20].copy_from_slice(&u32::try_from(entry.name.len())?.to_le_bytes());
        header[20] = entry.filetype as u8;
        for part in [&header[..], entry.name.as_bytes()] {
            let n = part.len().min(cap);
            mem.write(at, &part[..n])?;
            at += n as u32;
            cap -= n;
            if cap == 0 {
                return mem.put_u32(out, len);
            }
        }
    }
    mem.put_u32(out, len - cap as u32)
}

/// A path argument; read after the descriptor is checked, as in wasmtime.
fn path<'m>(mem: &'m GuestMemory<'_>, ptr: u32, len: u32) -> Result<&'m str> {
    mem.str(ptr, len)
}

fn path_create_directory(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    ptr: u32,
    len: u32,
) -> Result<()> {
    let dir = ctx.table.dir(fd)?;
    Ok(dir.create_dir(path(mem, ptr, len)?)?)
}

fn path_filestat_get(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    lookup: u32,
    ptr: u32,
    len: u32,
    out: u32,
) -> Result<()> {
    let follow = flags(lookup, LOOKUP_SYMLINK_FOLLOW, "Lookupflags")? != 0;
    let dir = ctx.table.dir(fd)?;
    let stat = dir.stat_at(path(mem, ptr, len)?, follow)?;
    mem.put_struct(out, 8, &stat.encode())
}

#[allow(clippy::too_many_arguments, reason = "the witx signature")]
fn path_filestat_set_times(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    lookup: u32,
    ptr: u32,
    len: u32,
    atim: u64,
    mtim: u64,
    fst: u32,
) -> Result<()> {
    let follow = flags(lookup, LOOKUP_SYMLINK_FOLLOW, "Lookupflags")? != 0;
    let (atim, mtim) = new_times(atim, mtim, fst)?;
    let dir = ctx.table.dir(fd)?;
    Ok(dir.set_times_at(path(mem, ptr, len)?, follow, atim, mtim)?)
}

#[allow(clippy::too_many_arguments, reason = "the witx signature")]
fn path_link(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    lookup: u32,
    ptr: u32,
    len: u32,
    to_fd: u32,
    to_ptr: u32,
    to_len: u32,
) -> Result<()> {
    let follow = flags(lookup, LOOKUP_SYMLINK_FOLLOW, "Lookupflags")? != 0;
    let (dir, to) = (ctx.table.dir(fd)?, ctx.table.dir(to_fd)?);
    let (from, to_path) = (path(mem, ptr, len)?, path(mem, to_ptr, to_len)?);
    if follow {
        return Err(Errno::INVAL.into());
    }
    Ok(dir.hard_link(from, to, to_path)?)
}

#[allow(clippy::too_many_arguments, reason = "the witx signature")]
fn path_open(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    lookup: u32,
    ptr: u32,
    len: u32,
    oflags: u32,
    base: u64,
    inheriting: u64,
    fdflags: u32,
    out: u32,
) -> Result<()> {
    let follow = flags(lookup, LOOKUP_SYMLINK_FOLLOW, "Lookupflags")? != 0;
    let oflags = flags(oflags, 0xf, "Oflags")?;
    let base = check_rights(base)?;
    check_rights(inheriting)?;
    let fdflags = flags(fdflags, FDFLAGS_ALL, "Fdflags")?;
    let path = path(mem, ptr, len)?;
    let dir = match ctx.table.get(fd)? {
        Descriptor::Dir { dir, .. } => dir,
        Descriptor::File { .. } => return Err(Errno::NOTDIR.into()),
        Descriptor::Stdio { .. } => return Err(Errno::BADF.into()),
    };
    if fdflags & (FDFLAG_SYNC | FDFLAG_DSYNC | FDFLAG_RSYNC) != 0 {
        return Err(Errno::NOTSUP.into());
    }
    let options = OpenOptions {
        follow,
        create: oflags & OFLAG_CREAT != 0,
        exclusive: oflags & OFLAG_EXCL != 0,
        truncate: oflags & OFLAG_TRUNC != 0,
        directory: oflags & OFLAG_DIRECTORY != 0,
        read: base & rights::FD_READ != 0,
        write: base & rights::FD_WRITE != 0,
    };
    let desc = match dir.open(path, &options)? {
        Opened::Dir(dir) => Descriptor::Dir {
            dir,
            preopen: None,
            listing: None,
        },
        Opened::File(file) => Descriptor::File {
            file,
            position: 0,
            append: fdflags & FDFLAG_APPEND != 0,
            nonblocking: fdflags & FDFLAG_NONBLOCK != 0,
        },
    };
    let new = ctx.table.push(desc)?;
    mem.put_u32(out, new)
}

#[allow(clippy::too_many_arguments, reason = "the witx signature")]
fn path_readlink(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    ptr: u32,
    len: u32,
    buf: u32,
    buf_len: u32,
    out: u32,
) -> Result<()> {
    let dir = ctx.table.dir(fd)?;
    let target = dir.read_link(path(mem, ptr, len)?)?;
    let target = &target.as_bytes()[..target.len().min(buf_len as usize)];
    mem.write(buf, target)?;
    mem.put_u32(out, target.len() as u32)
}

fn path_remove_directory(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    ptr: u32,
    len: u32,
) -> Result<()> {
    let dir = ctx.table.dir(fd)?;
    Ok(dir.remove_dir(path(mem, ptr, len)?)?)
}

#[allow(clippy::too_many_arguments, reason = "the witx signature")]
fn path_rename(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    ptr: u32,
    len: u32,
    to_fd: u32,
    to_ptr: u32,
    to_len: u32,
) -> Result<()> {
    let (dir, to) = (ctx.table.dir(fd)?, ctx.table.dir(to_fd)?);
    let (from, to_path) = (path(mem, ptr, len)?, path(mem, to_ptr, to_len)?);
    Ok(dir.rename(from, to, to_path)?)
}

fn path_symlink(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    target_ptr: u32,
    target_len: u32,
    fd: u32,
    ptr: u32,
    len: u32,
) -> Result<()> {
    let dir = ctx.table.dir(fd)?;
    let (target, link) = (path(mem, target_ptr, target_len)?, path(mem, ptr, len)?);
    Ok(dir.symlink(target, link)?)
}

fn path_unlink_file(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    ptr: u32,
    len: u32,
) -> Result<()> {
    let dir = ctx.table.dir(fd)?;
    Ok(dir.unlink_file(path(mem, ptr, len)?)?)
}

fn poll_oneoff(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    subs: u32,
    events: u32,
    count: u32,
    out: u32,
) -> Result<()> {
    let n = poll::poll_oneoff(ctx, mem, subs, events, count)?;
    mem.put_u32(out, n)
}

// Sockets: a preview 1 program is never given one; wasmtime answers every
// call on an open descriptor with ENOTSOCK.

fn sock_accept(ctx: &mut WasiCtx, fd: u32, fdflags: u32, _out: u32) -> Result<()> {
    flags(fdflags, FDFLAGS_ALL, "Fdflags")?;
    ctx.table.get(fd)?;
    Err(Errno::NOTSOCK.into())
}

fn sock_recv(
    ctx: &mut WasiCtx,
    fd: u32,
    _iovs: u32,
    _count: u32,
    riflags: u32,
    _out: u32,
    _out_flags: u32,
) -> Result<()> {
    flags(riflags, 0x3, "Riflags")?;
    ctx.table.get(fd)?;
    Err(Errno::NOTSOCK.into())
}

fn sock_send(
    ctx: &mut WasiCtx,
    fd: u32,
    _iovs: u32,
    _count: u32,
    siflags: u32,
    _out: u32,
) -> Result<()> {
    if siflags > u16::MAX as u32 {
        return Err(Error::Trap(
            "out of range integral type conversion attempted".into(),
        ));
    }
    ctx.table.get(fd)?;
    Err(Errno::NOTSOCK.into())
}

fn sock_shutdown(ctx: &mut WasiCtx, fd: u32, how: u32) -> Result<()> {
    flags(how, 0x3, "Sdflags")?;
    ctx.table.get(fd)?;
    Err(Errno::NOTSOCK.into())
}

/// Time until `deadline`, zero if it has passed.
pub(crate) fn until(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now())
}

#[cfg(test)]
mod tests {
    use std::any::Any;
    use std::cell::Cell;
    use std::rc::Rc;

    use super::*;
    use crate::fs::{Dir, Entries, FsResult};

    /// A directory of `n` files that counts how often it is listed from the
    /// start and how many entries are taken from its listings.
    struct Counted {
        n: usize,
        listings: Rc<Cell<usize>>,
        taken: Rc<Cell<usize>>,
    }

    impl Dir for Counted {
        fn open(&self, _: &str, _: &OpenOptions) -> FsResult<Opened> {
            Err(Errno::NOTSUP)
        }
        fn stat(&self) -> FsResult<Filestat> {
            Ok(Filestat::default())
        }
        fn stat_at(&self, _: &str, _: bool) -> FsResult<Filestat> {
            Err(Errno::NOTSUP)
        }
        fn set_times(&self, _: Option<NewTime>, _: Option<NewTime>) -> FsResult<()> {
            Err(Errno::NOTSUP)
        }
        fn set_times_at(
            &self,
            _: &str,
            _: bool,
            _: Option<NewTime>,
            _: Option<NewTime>,
        ) -> FsResult<()> {
            Err(Errno::NOTSUP)
        }
        fn entries(&self) -> FsResult<Entries> {
            self.listings.set(self.listings.get() + 1);
            let taken = Rc::clone(&self.taken);
            Ok(Box::new((0..self.n).map(move |i| {
                taken.set(taken.get() + 1);
                Ok(DirEntry {
                    name: format!("file-{i:06}"),
                    ino: i as u64,
                    filetype: Filetype::RegularFile,
                })
            })))
        }
        fn create_dir(&self, _: &str) -> FsResult<()> {
            Err(Errno::NOTSUP)
        }
        fn remove_dir(&self, _: &str) -> FsResult<()> {
            Err(Errno::NOTSUP)
        }
        fn unlink_file(&self, _: &str) -> FsResult<()> {
            Err(Errno::NOTSUP)
        }
        fn read_link(&self, _: &str) -> FsResult<String> {
            Err(Errno::NOTSUP)
        }
        fn symlink(&self, _: &str, _: &str) -> FsResult<()> {
            Err(Errno::NOTSUP)
        }
        fn rename(&self, _: &str, _: &dyn Dir, _: &str) -> FsResult<()> {
            Err(Errno::NOTSUP)
        }
        fn hard_link(&self, _: &str, _: &dyn Dir, _: &str) -> FsResult<()> {
            Err(Errno::NOTSUP)
        }
        fn sync(&self) -> FsResult<()> {
            Ok(())
        }
        fn readable(&self) -> bool {
            true
        }
        fn as_any(&self) -> &dyn Any {
            self
        }
    }

    /// Lists the directory as wasi-libc's `readdir` does: a buffer at a
    /// time, resuming from the cookie of the last whole entry.
    fn list(ctx: &mut WasiCtx, fd: u32, buf_len: u32) -> Vec<String> {
        let mut memory = vec![0u8; 65536];
        let mut names = Vec::new();
        let mut cookie = 0;
        loop {
            let mut mem = GuestMemory::new(&mut memory);
            fd_readdir(ctx, &mut mem, fd, 0, buf_len, cookie, 60000).unwrap();
            let used = mem.u32(60000).unwrap() as usize;
            let mut at = 0;
            while at + DIRENT_SIZE <= used {
                let next = u64::from_le_bytes(memory[at..at + 8].try_into().unwrap());
                let len = u32::from_le_bytes(memory[at + 16..at + 20].try_into().unwrap());
                let end = at + DIRENT_SIZE + len as usize;
                if end > used {
                    break;
                }
                names.push(String::from_utf8(memory[at + DIRENT_SIZE..end].to_vec()).unwrap());
                cookie = next;
                at = end;
            }
            if used < buf_len as usize {
                return names;
            }
        }
    }

    #[test]
    fn readdir_is_linear_and_resumes_from_any_cookie() {
        let (listings, taken) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
        let mut ctx = WasiCtx::new();
        let n = 5000;
        let dir = Counted {
            n,
            listings: Rc::clone(&listings),
            taken: Rc::clone(&taken),
        };
        let fd = ctx.preopen(Box::new(dir), "/d");
        // Buffers that cut entries in the header, in the name, and between.
        for buf_len in [4096, 100, 37, 36] {
            let (l0, t0) = (listings.get(), taken.get());
            let names = list(&mut ctx, fd, buf_len);
            assert_eq!(names.len(), n + 2, "buffer {buf_len}");
            assert_eq!(&names[..3], [".", "..", "file-000000"]);
            assert_eq!(names[n + 1], format!("file-{:06}", n - 1));
            // One listing per pass, each entry taken once.
            assert_eq!(listings.get() - l0, 1, "buffer {buf_len}");
            assert_eq!(taken.get() - t0, n, "buffer {buf_len}");
        }
        // A jump back (seekdir) restarts; a jump forward skips without
        // re-listing.
        let mut memory = vec![0u8; 65536];
        let mut mem = GuestMemory::new(&mut memory);
        fd_readdir(&mut ctx, &mut mem, fd, 0, 64, 1000, 60000).unwrap();
        fd_readdir(&mut ctx, &mut mem, fd, 0, 64, 4000, 60000).unwrap();
        let name = &memory[DIRENT_SIZE..DIRENT_SIZE + 11];
        assert_eq!(name, b"file-003998");
    }
}
