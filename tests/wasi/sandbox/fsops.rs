//! Raw WASI preview 1 file operations on the program's first preopened
//! directory (descriptor 3), one per argument, each reported on one line:
//! `OP => ok DETAIL` or `OP => error ERRNO-NAME`. Paths go to the host as
//! written, without wasi-libc's preopen lookup (which maps absolute paths to
//! a preopen itself), so the tests see what the host's sandbox does.
//!
//! Operations (fields separated by spaces):
//!
//! | op | WASI call |
//! |---|---|
//! | `read P` | `path_open` (following links), read: first line |
//! | `write P` | `path_open` CREAT\|TRUNC, writes "written\n" |
//! | `create P` | `path_open` CREAT\|EXCL, writes "written\n" |
//! | `openw P` | `path_open` for writing, no CREAT/TRUNC, writes nothing |
//! | `trunc P` | `path_open` TRUNC for writing |
//! | `append P` | `path_open` APPEND, writes "written\n" |
//! | `list P` | `path_open` DIRECTORY + `fd_readdir`: sorted names |
//! | `stat P` / `lstat P` | `path_filestat_get` following / not following |
//! | `touch P` | `path_filestat_set_times` (following): mtime = 1 s |
//! | `mkdir P` / `rmdir P` / `unlink P` | `path_create_directory` / `path_remove_directory` / `path_unlink_file` |
//! | `rename A B` | `path_rename` |
//! | `link A B` / `link-follow A B` | `path_link` without / with SYMLINK_FOLLOW |
//! | `symlink TARGET L` | `path_symlink` |
//! | `readlink P` | `path_readlink` |
//! | `at DIR OP...` | opens DIR as a directory, then OP relative to it |
use std::io::{Read, Write};
use std::os::fd::FromRawFd;

#[link(wasm_import_module = "wasi_snapshot_preview1")]
unsafe extern "C" {
    fn path_open(
        fd: u32,
        dirflags: u32,
        path: *const u8,
        path_len: usize,
        oflags: u32,
        rights_base: u64,
        rights_inheriting: u64,
        fdflags: u32,
        opened: *mut u32,
    ) -> u16;
    fn fd_readdir(fd: u32, buf: *mut u8, len: usize, cookie: u64, used: *mut usize) -> u16;
    fn path_filestat_get(fd: u32, flags: u32, path: *const u8, len: usize, out: *mut u64) -> u16;
    fn path_filestat_set_times(
        fd: u32,
        flags: u32,
        path: *const u8,
        len: usize,
        atim: u64,
        mtim: u64,
        fst_flags: u32,
    ) -> u16;
    fn path_create_directory(fd: u32, path: *const u8, len: usize) -> u16;
    fn path_remove_directory(fd: u32, path: *const u8, len: usize) -> u16;
    fn path_unlink_file(fd: u32, path: *const u8, len: usize) -> u16;
    fn path_rename(
        fd: u32,
        old: *const u8,
        old_len: usize,
        new_fd: u32,
        new: *const u8,
        new_len: usize,
    ) -> u16;
    fn path_link(
        old_fd: u32,
        old_flags: u32,
        old: *const u8,
        old_len: usize,
        new_fd: u32,
        new: *const u8,
        new_len: usize,
    ) -> u16;
    fn path_symlink(old: *const u8, old_len: usize, fd: u32, new: *const u8, new_len: usize)
    -> u16;
    fn path_readlink(
        fd: u32,
        path: *const u8,
        len: usize,
        buf: *mut u8,
        buf_len: usize,
        used: *mut usize,
    ) -> u16;
    fn fd_close(fd: u32) -> u16;
}

const FOLLOW: u32 = 1;
const O_CREAT: u32 = 1;
const O_DIRECTORY: u32 = 2;
const O_EXCL: u32 = 4;
const O_TRUNC: u32 = 8;
const FDFLAG_APPEND: u32 = 1;
const RIGHT_FD_READ: u64 = 1 << 1;
const RIGHT_FD_WRITE: u64 = 1 << 6;
/// Every right preview 1 defines.
const ALL_RIGHTS: u64 = (1 << 30) - 1;
const FILE_READ: u64 = ALL_RIGHTS & !RIGHT_FD_WRITE;
const FILE_WRITE: u64 = ALL_RIGHTS & !RIGHT_FD_READ;
const DIR_RIGHTS: u64 = ALL_RIGHTS & !RIGHT_FD_WRITE;
const FST_MTIM: u32 = 4;

/// The preopened directory the paths are relative to.
const PREOPEN: u32 = 3;

const ERRNO_NAMES: [&str; 77] = [
    "SUCCESS",
    "2BIG",
    "ACCES",
    "ADDRINUSE",
    "ADDRNOTAVAIL",
    "AFNOSUPPORT",
    "AGAIN",
    "ALREADY",
    "BADF",
    "BADMSG",
    "BUSY",
    "CANCELED",
    "CHILD",
    "CONNABORTED",
    "CONNREFUSED",
    "CONNRESET",
    "DEADLK",
    "DESTADDRREQ",
    "DOM",
    "DQUOT",
    "EXIST",
    "FAULT",
    "FBIG",
    "HOSTUNREACH",
    "IDRM",
    "ILSEQ",
    "INPROGRESS",
    "INTR",
    "INVAL",
    "IO",
    "ISCONN",
    "ISDIR",
    "LOOP",
    "MFILE",
    "MLINK",
    "MSGSIZE",
    "MULTIHOP",
    "NAMETOOLONG",
    "NETDOWN",
    "NETRESET",
    "NETUNREACH",
    "NFILE",
    "NOBUFS",
    "NODEV",
    "NOENT",
    "NOEXEC",
    "NOLCK",
    "NOLINK",
    "NOMEM",
    "NOMSG",
    "NOPROTOOPT",
    "NOSPC",
    "NOSYS",
    "NOTCONN",
    "NOTDIR",
    "NOTEMPTY",
    "NOTRECOVERABLE",
    "NOTSOCK",
    "NOTSUP",
    "NOTTY",
    "NXIO",
    "OVERFLOW",
    "OWNERDEAD",
    "PERM",
    "PIPE",
    "PROTO",
    "PROTONOSUPPORT",
    "PROTOTYPE",
    "RANGE",
    "ROFS",
    "SPIPE",
    "SRCH",
    "STALE",
    "TIMEDOUT",
    "TXTBSY",
    "XDEV",
    "NOTCAPABLE",
];

type Outcome = Result<String, String>;

fn check(errno: u16) -> Result<(), String> {
    match errno {
        0 => Ok(()),
        n => Err(format!(
            "E{}",
            ERRNO_NAMES.get(n as usize).copied().unwrap_or("?")
        )),
    }
}

fn io_error(e: std::io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => check(n as u16).unwrap_err(),
        None => format!("{:?}", e.kind()),
    }
}

fn open(
    dir: u32,
    path: &str,
    follow: bool,
    oflags: u32,
    rights: u64,
    fdflags: u32,
) -> Result<u32, String> {
    let mut fd = 0;
    let lookup = if follow { FOLLOW } else { 0 };
    check(unsafe {
        path_open(
            dir,
            lookup,
            path.as_ptr(),
            path.len(),
            oflags,
            rights,
            rights,
            fdflags,
            &mut fd,
        )
    })?;
    Ok(fd)
}

/// Opens `path` as a file, writes "written\n" unless `write` is false.
fn open_write(dir: u32, path: &str, oflags: u32, fdflags: u32, write: bool) -> Outcome {
    let fd = open(dir, path, true, oflags, FILE_WRITE, fdflags)?;
    let mut file = unsafe { std::fs::File::from_raw_fd(fd as i32) };
    if write {
        file.write_all(b"written\n").map_err(io_error)?;
    }
    Ok(String::new())
}

fn read(dir: u32, path: &str) -> Outcome {
    let fd = open(dir, path, true, 0, FILE_READ, 0)?;
    let mut file = unsafe { std::fs::File::from_raw_fd(fd as i32) };
    let mut text = String::new();
    file.read_to_string(&mut text).map_err(io_error)?;
    Ok(text.lines().next().unwrap_or("").to_string())
}

fn list(dir: u32, path: &str) -> Outcome {
    let fd = open(dir, path, true, O_DIRECTORY, DIR_RIGHTS, 0)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut used = 0;
    let result = check(unsafe { fd_readdir(fd, buf.as_mut_ptr(), buf.len(), 0, &mut used) });
    unsafe { fd_close(fd) };
    result?;
    let mut names = Vec::new();
    let mut at = 0;
    // dirent: d_next u64, d_ino u64, d_namlen u32, d_type u8, padding: 24 bytes.
    while at + 24 <= used {
        let len = u32::from_le_bytes(buf[at + 16..at + 20].try_into().unwrap()) as usize;
        let end = (at + 24 + len).min(used);
        names.push(String::from_utf8_lossy(&buf[at + 24..end]).into_owned());
        at += 24 + len;
    }
    names.retain(|n| n != "." && n != "..");
    names.sort();
    Ok(names.join(","))
}

fn stat(dir: u32, path: &str, follow: bool) -> Outcome {
    // filestat: dev, ino, filetype (u8 in a u64 slot), nlink, size, atim, mtim, ctim.
    let mut out = [0u64; 8];
    let flags = if follow { FOLLOW } else { 0 };
    check(unsafe { path_filestat_get(dir, flags, path.as_ptr(), path.len(), out.as_mut_ptr()) })?;
    Ok(format!("type={} size={}", out[2] & 0xff, out[4]))
}

fn run(dir: u32, fields: &[&str]) -> Outcome {
    let arg = |i: usize| -> Result<&str, String> {
        fields
            .get(i)
            .copied()
            .ok_or_else(|| "missing operand".to_string())
    };
    let done = |errno: u16| check(errno).map(|()| String::new());
    match fields.first().copied().unwrap_or("") {
        "read" => read(dir, arg(1)?),
        "write" => open_write(dir, arg(1)?, O_CREAT | O_TRUNC, 0, true),
        "create" => open_write(dir, arg(1)?, O_CREAT | O_EXCL, 0, true),
        "openw" => open_write(dir, arg(1)?, 0, 0, false),
        "trunc" => open_write(dir, arg(1)?, O_TRUNC, 0, false),
        "append" => open_write(dir, arg(1)?, 0, FDFLAG_APPEND, true),
        "list" => list(dir, arg(1)?),
        "stat" => stat(dir, arg(1)?, true),
        "lstat" => stat(dir, arg(1)?, false),
        "touch" => {
            let p = arg(1)?;
            done(unsafe {
                path_filestat_set_times(
                    dir,
                    FOLLOW,
                    p.as_ptr(),
                    p.len(),
                    0,
                    1_000_000_000,
                    FST_MTIM,
                )
            })
        }
        "mkdir" => {
            let p = arg(1)?;
            done(unsafe { path_create_directory(dir, p.as_ptr(), p.len()) })
        }
        "rmdir" => {
            let p = arg(1)?;
            done(unsafe { path_remove_directory(dir, p.as_ptr(), p.len()) })
        }
        "unlink" => {
            let p = arg(1)?;
            done(unsafe { path_unlink_file(dir, p.as_ptr(), p.len()) })
        }
        "rename" => {
            let (a, b) = (arg(1)?, arg(2)?);
            done(unsafe { path_rename(dir, a.as_ptr(), a.len(), dir, b.as_ptr(), b.len()) })
        }
        op @ ("link" | "link-follow") => {
            let (a, b) = (arg(1)?, arg(2)?);
            let flags = if op == "link" { 0 } else { FOLLOW };
            done(unsafe { path_link(dir, flags, a.as_ptr(), a.len(), dir, b.as_ptr(), b.len()) })
        }
        "symlink" => {
            let (target, name) = (arg(1)?, arg(2)?);
            done(unsafe {
                path_symlink(
                    target.as_ptr(),
                    target.len(),
                    dir,
                    name.as_ptr(),
                    name.len(),
                )
            })
        }
        "readlink" => {
            let p = arg(1)?;
            let mut buf = vec![0u8; 4096];
            let mut used = 0;
            check(unsafe {
                path_readlink(
                    dir,
                    p.as_ptr(),
                    p.len(),
                    buf.as_mut_ptr(),
                    buf.len(),
                    &mut used,
                )
            })?;
            Ok(String::from_utf8_lossy(&buf[..used]).into_owned())
        }
        "at" => {
            let sub = open(dir, arg(1)?, true, O_DIRECTORY, DIR_RIGHTS, 0)?;
            let result = run(sub, &fields[2..]);
            unsafe { fd_close(sub) };
            result
        }
        other => Err(format!("unknown operation {other:?}")),
    }
}

fn main() {
    for op in std::env::args().skip(1) {
        let fields: Vec<&str> = op.split(' ').collect();
        match run(PREOPEN, &fields) {
            Ok(detail) => println!("{op} => ok {detail}"),
            Err(errno) => println!("{op} => error {errno}"),
        }
    }
}
