//! Edge cases of WASI preview 1, through raw calls so that every errno is
//! printed exactly (std would fold them into a few `ErrorKind`s). Prints
//! neither timestamps nor inode numbers, and sorts what the host lists in
//! its own order. Modes (first argument):
//!   paths          trailing slashes, open flags, loops, long names, times (in /sandbox)
//!   rename         link, rename, unlink and rmdir edges, across /sandbox and /other; readlink
//!   io             seek past the end and before the start, append, truncate, iovecs
//!   fds            numbering, close, renumber, fdstat, set_flags, prestat, filestat
//!   readdir        tiny buffers, cookies, `.` and `..` (in /sandbox/d)
//!   readdir-count  DIR: count the entries of a big directory
//!   nonutf8        names that are not UTF-8, made by the host (in /sandbox/mixed)
//!   poll           poll_oneoff: clocks, stdout, regular files, several at once, errors
//!   poll-stdin     poll_oneoff on stdin (data or EOF), read it, poll again at EOF
//!   clocks         clock_res_get / clock_time_get for every id
//!   stdio          stdio descriptors: fdstat and filestat on stderr, errnos, closing
//!   bad-value WHAT an argument outside its witx type (unknown flag bits, enum values)

include!("wasi_raw.rs");

const ERRNO: [&str; 77] = [
    "SUCCESS", "2BIG", "ACCES", "ADDRINUSE", "ADDRNOTAVAIL", "AFNOSUPPORT", "AGAIN", "ALREADY", "BADF", "BADMSG",
    "BUSY", "CANCELED", "CHILD", "CONNABORTED", "CONNREFUSED", "CONNRESET", "DEADLK", "DESTADDRREQ", "DOM", "DQUOT",
    "EXIST", "FAULT", "FBIG", "HOSTUNREACH", "IDRM", "ILSEQ", "INPROGRESS", "INTR", "INVAL", "IO",
    "ISCONN", "ISDIR", "LOOP", "MFILE", "MLINK", "MSGSIZE", "MULTIHOP", "NAMETOOLONG", "NETDOWN", "NETRESET",
    "NETUNREACH", "NFILE", "NOBUFS", "NODEV", "NOENT", "NOEXEC", "NOLCK", "NOLINK", "NOMEM", "NOMSG",
    "NOPROTOOPT", "NOSPC", "NOSYS", "NOTCONN", "NOTDIR", "NOTEMPTY", "NOTRECOVERABLE", "NOTSOCK", "NOTSUP", "NOTTY",
    "NXIO", "OVERFLOW", "OWNERDEAD", "PERM", "PIPE", "PROTO", "PROTONOSUPPORT", "PROTOTYPE", "RANGE", "ROFS",
    "SPIPE", "SRCH", "STALE", "TIMEDOUT", "TXTBSY", "XDEV", "NOTCAPABLE",
];
const FILETYPE: [&str; 8] = ["unknown", "block", "char", "dir", "file", "dgram", "stream", "symlink"];

// oflags, fdflags, lookupflags, rights, fstflags, whence
const CREAT: u16 = 1;
const DIRECTORY: u16 = 2;
const EXCL: u16 = 4;
const TRUNC: u16 = 8;
const APPEND: u16 = 1;
const DSYNC: u16 = 2;
const NONBLOCK: u16 = 4;
const RSYNC: u16 = 8;
const SYNC: u16 = 16;
const FOLLOW: u32 = 1;
const NOFOLLOW: u32 = 0;
const R_READ: u64 = 1 << 1;
const R_WRITE: u64 = 1 << 6;
const R_ALL: u64 = (1 << 30) - 1;
const RW: u64 = R_READ | R_WRITE;
const ATIM: u16 = 1;
const ATIM_NOW: u16 = 2;
const MTIM: u16 = 4;
const MTIM_NOW: u16 = 8;
const SET: u8 = 0;
const CUR: u8 = 1;
const END: u8 = 2;

/// An errno by name.
fn en(e: u16) -> String {
    match ERRNO.get(e as usize) {
        Some(name) => format!("E{name}"),
        None => format!("errno {e}"),
    }
}

fn ft(t: u8) -> &'static str {
    FILETYPE.get(t as usize).copied().unwrap_or("?")
}

/// A nested result, its errno by name.
fn er<T>(r: Result<T, u16>) -> Result<T, String> {
    r.map_err(en)
}

fn res<T>(errno: u16, v: T) -> Result<T, u16> {
    if errno == 0 { Ok(v) } else { Err(errno) }
}

/// Prints `what: ok VALUE` or `what: ERRNO`.
fn show<T: std::fmt::Debug>(what: &str, r: Result<T, u16>) {
    match r {
        Ok(v) => println!("{what}: ok {v:?}"),
        Err(e) => println!("{what}: {}", en(e)),
    }
}

fn open(dir: u32, lookup: u32, path: &[u8], oflags: u16, rights: u64, fdflags: u16) -> Result<u32, u16> {
    let mut fd = 0;
    let e = unsafe { path_open(dir, lookup, path.as_ptr(), path.len(), oflags, rights, rights, fdflags, &mut fd) };
    res(e, fd)
}

fn close(fd: u32) -> Result<(), u16> {
    res(unsafe { fd_close(fd) }, ())
}

/// Opens, reports the type of what was opened, closes.
fn open_type(dir: u32, lookup: u32, path: &[u8], oflags: u16, rights: u64, fdflags: u16) -> Result<&'static str, u16> {
    let fd = open(dir, lookup, path, oflags, rights, fdflags)?;
    let t = fdstat(fd).map(|s| ft(s.filetype));
    close(fd)?;
    t
}

fn fdstat(fd: u32) -> Result<Fdstat, u16> {
    let mut s = Fdstat::default();
    let e = unsafe { fd_fdstat_get(fd, &mut s) };
    res(e, s)
}

/// fdstat without the raw struct: type, flags, rights (hex).
fn fdstat_str(fd: u32) -> Result<String, u16> {
    fdstat(fd).map(|s| format!("{} flags {:#x} base {:#x} inheriting {:#x}", ft(s.filetype), s.flags, s.rights_base, s.rights_inheriting))
}

fn fstat(fd: u32) -> Result<Filestat, u16> {
    let mut s = Filestat::default();
    let e = unsafe { fd_filestat_get(fd, &mut s) };
    res(e, s)
}

fn stat(dir: u32, lookup: u32, path: &[u8]) -> Result<Filestat, u16> {
    let mut s = Filestat::default();
    let e = unsafe { path_filestat_get(dir, lookup, path.as_ptr(), path.len(), &mut s) };
    res(e, s)
}

/// Type, and size for regular files (a directory's size depends on the
/// host's file system).
fn stat_str(dir: u32, lookup: u32, path: &[u8]) -> Result<String, u16> {
    stat(dir, lookup, path).map(|s| match s.filetype {
        4 => format!("file size {} nlink {}", s.size, s.nlink),
        t => ft(t).to_string(),
    })
}

fn mkdir(dir: u32, path: &[u8]) -> Result<(), u16> {
    res(unsafe { path_create_directory(dir, path.as_ptr(), path.len()) }, ())
}

fn rmdir(dir: u32, path: &[u8]) -> Result<(), u16> {
    res(unsafe { path_remove_directory(dir, path.as_ptr(), path.len()) }, ())
}

fn unlink(dir: u32, path: &[u8]) -> Result<(), u16> {
    res(unsafe { path_unlink_file(dir, path.as_ptr(), path.len()) }, ())
}

fn rename(d1: u32, p1: &[u8], d2: u32, p2: &[u8]) -> Result<(), u16> {
    res(unsafe { path_rename(d1, p1.as_ptr(), p1.len(), d2, p2.as_ptr(), p2.len()) }, ())
}

fn link(d1: u32, lookup: u32, p1: &[u8], d2: u32, p2: &[u8]) -> Result<(), u16> {
    res(unsafe { path_link(d1, lookup, p1.as_ptr(), p1.len(), d2, p2.as_ptr(), p2.len()) }, ())
}

fn symlink(dir: u32, target: &[u8], path: &[u8]) -> Result<(), u16> {
    res(unsafe { path_symlink(target.as_ptr(), target.len(), dir, path.as_ptr(), path.len()) }, ())
}

fn readlink(dir: u32, path: &[u8], cap: usize) -> Result<String, u16> {
    let mut buf = vec![0u8; cap];
    let mut n = 0;
    let e = unsafe { path_readlink(dir, path.as_ptr(), path.len(), buf.as_mut_ptr(), cap, &mut n) };
    res(e, ()).map(|_| String::from_utf8_lossy(&buf[..n]).into_owned())
}

fn read(fd: u32, cap: usize) -> Result<String, u16> {
    let mut buf = vec![0u8; cap];
    let mut n = 0;
    let e = unsafe { fd_read(fd, &Iovec { buf: buf.as_mut_ptr(), len: cap }, 1, &mut n) };
    res(e, ()).map(|_| String::from_utf8_lossy(&buf[..n]).into_owned())
}

fn write(fd: u32, data: &[u8]) -> Result<usize, u16> {
    let mut n = 0;
    let e = unsafe { fd_write(fd, &Iovec { buf: data.as_ptr(), len: data.len() }, 1, &mut n) };
    res(e, n)
}

fn seek(fd: u32, offset: i64, whence: u8) -> Result<u64, u16> {
    let mut pos = 0;
    let e = unsafe { fd_seek(fd, offset, whence, &mut pos) };
    res(e, pos)
}

fn tell(fd: u32) -> Result<u64, u16> {
    let mut pos = 0;
    let e = unsafe { fd_tell(fd, &mut pos) };
    res(e, pos)
}

fn size(fd: u32) -> Result<u64, u16> {
    fstat(fd).map(|s| s.size)
}

fn set_size(fd: u32, n: u64) -> Result<(), u16> {
    res(unsafe { fd_filestat_set_size(fd, n) }, ())
}

fn realtime() -> u64 {
    let mut t = 0;
    unsafe { clock_time_get(CLOCK_REALTIME, 1, &mut t) };
    t
}

fn monotonic() -> u64 {
    let mut t = 0;
    unsafe { clock_time_get(CLOCK_MONOTONIC, 1, &mut t) };
    t
}

/// The preopened directories, found as wasi-libc does: by asking fd 3, 4, ...
fn preopens() -> Vec<(u32, String)> {
    let mut v = Vec::new();
    for fd in 3..64 {
        let mut p = Prestat::default();
        if unsafe { fd_prestat_get(fd, &mut p) } != 0 {
            break;
        }
        let mut name = vec![0u8; p.name_len as usize];
        unsafe { fd_prestat_dir_name(fd, name.as_mut_ptr(), name.len()) };
        v.push((fd, String::from_utf8_lossy(&name).into_owned()));
    }
    v
}

fn preopen(name: &str) -> u32 {
    preopens().into_iter().find(|(_, n)| n == name).map(|(fd, _)| fd).expect("preopen")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str).unwrap_or("") {
        "paths" => paths(),
        "rename" => renames(),
        "io" => io(),
        "fds" => fds(),
        "readdir" => readdir(),
        "readdir-count" => readdir_count(&args[2]),
        "nonutf8" => nonutf8(),
        "poll" => poll_misc(),
        "poll-stdin" => poll_stdin(),
        "clocks" => clocks(),
        "stdio" => stdio(),
        "bad-value" => bad_value(&args[2]),
        other => println!("unknown mode {other:?}"),
    }
}

/// /sandbox holds file.txt ("hello\n"), dir/, full/inner.txt, the symlinks
/// loop1 <-> loop2, self -> self, flink -> file.txt, dlink -> dir,
/// dangling -> nowhere.
fn paths() {
    println!("preopens: {:?}", preopens());
    let d = preopen("/sandbox");

    // Trailing slashes.
    show("open file.txt/", open_type(d, FOLLOW, b"file.txt/", 0, R_READ, 0));
    show("open dir/", open_type(d, FOLLOW, b"dir/", 0, R_READ, 0));
    show("open dir//", open_type(d, FOLLOW, b"dir//", 0, R_READ, 0));
    show("open dir/ O_DIRECTORY", open_type(d, FOLLOW, b"dir/", DIRECTORY, R_READ, 0));
    show("open dir/.", open_type(d, FOLLOW, b"dir/.", 0, R_READ, 0));
    show("open flink/", open_type(d, FOLLOW, b"flink/", 0, R_READ, 0));
    show("open dlink/", open_type(d, FOLLOW, b"dlink/", 0, R_READ, 0));
    show("open dlink/ nofollow", open_type(d, NOFOLLOW, b"dlink/", 0, R_READ, 0));
    show("open missing/", open_type(d, FOLLOW, b"missing/", 0, R_READ, 0));
    show("create new.txt/", open_type(d, FOLLOW, b"new.txt/", CREAT, RW, 0));
    show("stat file.txt/", stat_str(d, FOLLOW, b"file.txt/"));
    show("stat dir/", stat_str(d, FOLLOW, b"dir/"));
    show("lstat dlink/", stat_str(d, NOFOLLOW, b"dlink/"));
    show("lstat dlink", stat_str(d, NOFOLLOW, b"dlink"));
    show("lstat flink/", stat_str(d, NOFOLLOW, b"flink/"));
    show("mkdir newdir/", mkdir(d, b"newdir/"));
    show("stat newdir", stat_str(d, FOLLOW, b"newdir"));
    show("mkdir newdir2//", mkdir(d, b"newdir2//"));
    show("mkdir file.txt/", mkdir(d, b"file.txt/"));
    show("mkdir dangling/", mkdir(d, b"dangling/"));
    show("rmdir newdir/", rmdir(d, b"newdir/"));
    show("rmdir newdir2/.", rmdir(d, b"newdir2/."));
    show("rmdir file.txt/", rmdir(d, b"file.txt/"));
    show("rmdir dlink/", rmdir(d, b"dlink/"));
    show("unlink file.txt/", unlink(d, b"file.txt/"));
    show("unlink dir/", unlink(d, b"dir/"));
    show("unlink flink/", unlink(d, b"flink/"));
    show("unlink dlink/", unlink(d, b"dlink/"));
    show("rename file.txt/ -> f2", rename(d, b"file.txt/", d, b"f2"));
    show("rename dir/ -> dir2/", rename(d, b"dir/", d, b"dir2/"));
    show("rename dir2 -> dir", rename(d, b"dir2", d, b"dir"));
    show("rename file.txt -> f2/", rename(d, b"file.txt", d, b"f2/"));
    show("rename f2 -> file.txt", rename(d, b"f2", d, b"file.txt"));
    show("rename file.txt -> dir/", rename(d, b"file.txt", d, b"dir/"));
    show("rename newdir2 -> dir3/", rename(d, b"newdir2", d, b"dir3/"));
    show("rename flink/ -> x", rename(d, b"flink/", d, b"x"));
    show("link file.txt/ -> l", link(d, NOFOLLOW, b"file.txt/", d, b"l"));
    show("symlink x -> newlink/", symlink(d, b"x", b"newlink/"));

    // Open flags.
    show("O_DIRECTORY on a file", open_type(d, FOLLOW, b"file.txt", DIRECTORY, R_READ, 0));
    show("O_DIRECTORY on flink", open_type(d, FOLLOW, b"flink", DIRECTORY, R_READ, 0));
    show("O_CREAT|O_DIRECTORY new", open_type(d, FOLLOW, b"cd", CREAT | DIRECTORY, RW, 0));
    show("O_CREAT|O_DIRECTORY existing dir", open_type(d, FOLLOW, b"dir", CREAT | DIRECTORY, R_READ, 0));
    show("O_DIRECTORY|O_TRUNC on dir", open_type(d, FOLLOW, b"dir", DIRECTORY | TRUNC, R_READ, 0));
    show("O_DIRECTORY|O_EXCL on dir", open_type(d, FOLLOW, b"dir", DIRECTORY | EXCL, R_READ, 0));
    show("O_CREAT|O_EXCL existing file", open_type(d, FOLLOW, b"file.txt", CREAT | EXCL, RW, 0));
    show("O_CREAT|O_EXCL existing dir", open_type(d, FOLLOW, b"dir", CREAT | EXCL, RW, 0));
    show("O_CREAT|O_EXCL on dangling link", open_type(d, FOLLOW, b"dangling", CREAT | EXCL, RW, 0));
    show("O_CREAT on dangling link", open_type(d, FOLLOW, b"dangling", CREAT, RW, 0));
    show("O_CREAT on dangling link nofollow", open_type(d, NOFOLLOW, b"dangling", CREAT, RW, 0));
    show("O_EXCL alone", open_type(d, FOLLOW, b"file.txt", EXCL, R_READ, 0));
    show("O_CREAT new, no rights", open_type(d, FOLLOW, b"norights.txt", CREAT, 0, 0));
    show("open with no rights", open_type(d, FOLLOW, b"file.txt", 0, 0, 0));
    show("O_TRUNC without write rights", open(d, FOLLOW, b"file.txt", TRUNC, R_READ, 0).and_then(|fd| {
        let after = (er(fdstat_str(fd)), er(size(fd)), er(write(fd, b"w")), er(read(fd, 10)));
        close(fd)?;
        Ok(after)
    }));
    show("file.txt after", stat_str(d, FOLLOW, b"file.txt"));
    std::fs::write("/sandbox/file.txt", "hello\n").unwrap();
    show("read-only open, write", open(d, FOLLOW, b"file.txt", 0, R_READ, 0).and_then(|fd| {
        let w = write(fd, b"w");
        close(fd)?;
        Ok(er(w))
    }));
    show("write-only open, read", open(d, FOLLOW, b"file.txt", 0, R_WRITE, 0).and_then(|fd| {
        let r = read(fd, 4);
        close(fd)?;
        Ok(er(r))
    }));
    show("open dir for writing", open_type(d, FOLLOW, b"dir", 0, RW, 0));
    show("open dir write-only", open_type(d, FOLLOW, b"dir", 0, R_WRITE, 0));
    show("open dir O_TRUNC", open_type(d, FOLLOW, b"dir", TRUNC, R_READ, 0));
    show("open dir O_CREAT", open_type(d, FOLLOW, b"dir", CREAT, RW, 0));
    show("open . for writing", open_type(d, FOLLOW, b".", 0, RW, 0));
    show("open .", open_type(d, FOLLOW, b".", 0, R_READ, 0));
    show("open empty path", open_type(d, FOLLOW, b"", 0, R_READ, 0));
    show("open absolute path", open_type(d, FOLLOW, b"/sandbox/file.txt", 0, R_READ, 0));
    show("open ..", open_type(d, FOLLOW, b"..", 0, R_READ, 0));
    show("open dir/../..", open_type(d, FOLLOW, b"dir/../..", 0, R_READ, 0));
    show("open dir/../file.txt", open_type(d, FOLLOW, b"dir/../file.txt", 0, R_READ, 0));
    show("open file.txt/..", open_type(d, FOLLOW, b"file.txt/..", 0, R_READ, 0));
    show("open O_SYNC", open_type(d, FOLLOW, b"file.txt", 0, RW, SYNC));
    show("open O_DSYNC", open_type(d, FOLLOW, b"file.txt", 0, RW, DSYNC));
    show("open O_RSYNC", open_type(d, FOLLOW, b"file.txt", 0, RW, RSYNC));
    show("open O_NONBLOCK|O_APPEND", open(d, FOLLOW, b"file.txt", 0, RW, NONBLOCK | APPEND).and_then(|fd| {
        let s = fdstat_str(fd);
        close(fd)?;
        s
    }));
    show("open with all rights", open(d, FOLLOW, b"file.txt", 0, R_ALL, 0).and_then(|fd| {
        let s = fdstat_str(fd);
        close(fd)?;
        s
    }));
    show("open dir with all rights", open(d, FOLLOW, b"dir", DIRECTORY, R_ALL, 0).and_then(|fd| {
        let s = fdstat_str(fd);
        close(fd)?;
        s
    }));

    // Directories that are not empty, symlink loops, no-follow.
    show("rmdir full", rmdir(d, b"full"));
    show("rmdir .", rmdir(d, b"."));
    show("rmdir empty path", rmdir(d, b""));
    show("mkdir empty path", mkdir(d, b""));
    show("mkdir .", mkdir(d, b"."));
    show("mkdir existing", mkdir(d, b"dir"));
    show("mkdir in missing", mkdir(d, b"missing/x"));
    show("open loop1", open_type(d, FOLLOW, b"loop1", 0, R_READ, 0));
    show("open self", open_type(d, FOLLOW, b"self", 0, R_READ, 0));
    show("open loop1/x", open_type(d, FOLLOW, b"loop1/x", 0, R_READ, 0));
    show("create through loop1", open_type(d, FOLLOW, b"loop1", CREAT, RW, 0));
    show("stat loop1", stat_str(d, FOLLOW, b"loop1"));
    show("lstat loop1", stat_str(d, NOFOLLOW, b"loop1"));
    show("mkdir loop1/x", mkdir(d, b"loop1/x"));
    show("open flink nofollow", open_type(d, NOFOLLOW, b"flink", 0, R_READ, 0));
    show("open flink follow", open_type(d, FOLLOW, b"flink", 0, R_READ, 0));
    show("open dlink nofollow", open_type(d, NOFOLLOW, b"dlink", 0, R_READ, 0));
    show("open dlink nofollow O_DIRECTORY", open_type(d, NOFOLLOW, b"dlink", DIRECTORY, R_READ, 0));
    show("open dlink/x nofollow", open_type(d, NOFOLLOW, b"dlink/../file.txt", 0, R_READ, 0));
    show("open dangling", open_type(d, FOLLOW, b"dangling", 0, R_READ, 0));
    show("open dangling nofollow", open_type(d, NOFOLLOW, b"dangling", 0, R_READ, 0));
    show("lstat dangling", stat_str(d, NOFOLLOW, b"dangling"));
    show("stat flink", stat_str(d, FOLLOW, b"flink"));
    show("lstat flink", stat_str(d, NOFOLLOW, b"flink"));

    // Long names.
    let n255 = vec![b'n'; 255];
    let n256 = vec![b'n'; 256];
    show("create 255-byte name", open_type(d, FOLLOW, &n255, CREAT, RW, 0));
    show("stat 255-byte name", stat_str(d, FOLLOW, &n255));
    show("unlink 255-byte name", unlink(d, &n255));
    show("create 256-byte name", open_type(d, FOLLOW, &n256, CREAT, RW, 0));
    show("stat 256-byte name", stat_str(d, FOLLOW, &n256));
    show("mkdir 256-byte name", mkdir(d, &n256));
    show("unlink 256-byte name", unlink(d, &n256));
    let mut mid = n256.clone();
    mid.extend_from_slice(b"/x");
    show("open 256-byte component then /x", open_type(d, FOLLOW, &mid, 0, R_READ, 0));
    let mut long = b"./".repeat(2100);
    long.extend_from_slice(b"file.txt");
    show("open a 4208-byte path", open_type(d, FOLLOW, &long, 0, R_READ, 0));
    let mut long = b"dir/../".repeat(600);
    long.extend_from_slice(b"file.txt");
    show("open a 4208-byte path through dir/..", open_type(d, FOLLOW, &long, 0, R_READ, 0));

    // Times: NOW flags, fixed values, both at once.
    let before = realtime() / 1_000_000_000;
    let p = b"file.txt";
    let set = |lookup: u32, path: &[u8], a: u64, m: u64, flags: u16| {
        res(unsafe { path_filestat_set_times(d, lookup, path.as_ptr(), path.len(), a, m, flags) }, ())
    };
    show("set times: fixed atim and mtim", set(FOLLOW, p, 1_000_000_000_123_456_789, 1_500_000_000_987_654_321, ATIM | MTIM));
    show("times after fixed", stat(d, FOLLOW, p).map(|s| (s.atim, s.mtim)));
    show("set times: ATIM_NOW|MTIM_NOW", set(FOLLOW, p, 0, 0, ATIM_NOW | MTIM_NOW));
    let near = |t: u64| t / 1_000_000_000 + 5 >= before && t / 1_000_000_000 <= before + 60;
    show("times are now", stat(d, FOLLOW, p).map(|s| (near(s.atim), near(s.mtim))));
    show("set times: MTIM only", set(FOLLOW, p, 0, 1_200_000_000_000_000_000, MTIM));
    show("times after MTIM only (atim still now)", stat(d, FOLLOW, p).map(|s| (near(s.atim), s.mtim)));
    show("set times: no flags", set(FOLLOW, p, 5, 5, 0));
    show("times after no flags", stat(d, FOLLOW, p).map(|s| (near(s.atim), s.mtim)));
    show("set times: ATIM|ATIM_NOW", set(FOLLOW, p, 0, 0, ATIM | ATIM_NOW));
    show("set times: MTIM|MTIM_NOW", set(FOLLOW, p, 0, 0, MTIM | MTIM_NOW));
    show("set times: missing file", set(FOLLOW, b"missing", 0, 0, MTIM_NOW));
    show("set times through flink", set(FOLLOW, b"flink", 0, 1_300_000_000_000_000_000, MTIM));
    show("file.txt mtime", stat(d, FOLLOW, p).map(|s| s.mtim));
    show("set times on flink nofollow", set(NOFOLLOW, b"flink", 0, 1_400_000_000_000_000_000, MTIM));
    show("flink and file.txt mtimes", stat(d, NOFOLLOW, b"flink").and_then(|l| Ok((l.mtim, stat(d, FOLLOW, p)?.mtim))));
    show("set times on dir", set(FOLLOW, b"dir", 7_000_000_000, 8_000_000_000, ATIM | MTIM));
    show("dir times", stat(d, FOLLOW, b"dir").map(|s| (s.atim, s.mtim)));
    show("fd set times MTIM_NOW", open(d, FOLLOW, p, 0, RW, 0).and_then(|fd| {
        let e = unsafe { fd_filestat_set_times(fd, 0, 0, MTIM_NOW) };
        let s = fstat(fd).map(|s| near(s.mtim));
        close(fd)?;
        Ok((en(e), er(s)))
    }));
    show("fd set times ATIM|ATIM_NOW", open(d, FOLLOW, p, 0, RW, 0).and_then(|fd| {
        let e = unsafe { fd_filestat_set_times(fd, 0, 0, ATIM | ATIM_NOW) };
        close(fd)?;
        Ok(en(e))
    }));
    show("fd set times on read-only fd", open(d, FOLLOW, p, 0, R_READ, 0).and_then(|fd| {
        let e = unsafe { fd_filestat_set_times(fd, 0, 9_000_000_000, MTIM) };
        let s = fstat(fd).map(|s| s.mtim);
        close(fd)?;
        Ok((en(e), er(s)))
    }));
    show("fd set times on the preopen", res(unsafe { fd_filestat_set_times(d, 0, 0, 0) }, ()));
    show("fd set times on stdout", res(unsafe { fd_filestat_set_times(1, 0, 0, MTIM_NOW) }, ()));
}

/// /sandbox: file.txt, f2.txt, src_dir/a.txt, dst_full/b.txt, dst_empty/,
/// sub/inner/, dlink -> src_dir, flink -> file.txt, mvdir/m.txt;
/// /other: o.txt.
fn renames() {
    let d = preopen("/sandbox");
    let o = preopen("/other");
    // Across the two preopens.
    show("link file.txt -> /other/linked.txt", link(d, NOFOLLOW, b"file.txt", o, b"linked.txt"));
    show("nlink of file.txt", stat(d, FOLLOW, b"file.txt").map(|s| s.nlink));
    show("link with SYMLINK_FOLLOW", link(d, FOLLOW, b"file.txt", d, b"followed.txt"));
    show("link flink -> flink2 (the link itself)", link(d, NOFOLLOW, b"flink", d, b"flink2"));
    show("lstat flink2", stat_str(d, NOFOLLOW, b"flink2"));
    show("link a directory", link(d, NOFOLLOW, b"src_dir", d, b"dirlink"));
    show("link onto an existing name", link(d, NOFOLLOW, b"file.txt", o, b"o.txt"));
    show("link missing", link(d, NOFOLLOW, b"missing", d, b"x"));
    show("link into a missing directory", link(d, NOFOLLOW, b"file.txt", d, b"missing/x"));
    show("rename f2.txt -> /other/moved.txt", rename(d, b"f2.txt", o, b"moved.txt"));
    show("rename mvdir -> /other/mvdir", rename(d, b"mvdir", o, b"mvdir"));
    show("rename /other/o.txt -> /sandbox/o.txt", rename(o, b"o.txt", d, b"o.txt"));

    // Directories and files over each other.
    show("rename dir over non-empty dir", rename(d, b"src_dir", d, b"dst_full"));
    show("rename dir over empty dir", rename(d, b"src_dir", d, b"dst_empty"));
    show("rename dst_empty back to src_dir", rename(d, b"dst_empty", d, b"src_dir"));
    show("rename file onto dir", rename(d, b"file.txt", d, b"dst_full"));
    show("rename dir onto file", rename(d, b"src_dir", d, b"o.txt"));
    show("rename file onto itself", rename(d, b"file.txt", d, b"file.txt"));
    show("rename dir into itself", rename(d, b"sub", d, b"sub/inner/sub"));
    show("rename missing", rename(d, b"missing", d, b"x"));
    show("rename .", rename(d, b".", d, b"x"));
    show("rename onto .", rename(d, b"o.txt", d, b"."));
    show("rename onto ..", rename(d, b"o.txt", d, b".."));
    show("rename empty path", rename(d, b"", d, b"x"));
    show("rename file over file", rename(d, b"o.txt", d, b"replaced.txt"));
    show("rename dlink (the link, not its target)", rename(d, b"dlink", d, b"dlink2"));
    show("lstat dlink2", stat_str(d, NOFOLLOW, b"dlink2"));

    // unlink and rmdir of what they do not remove.
    show("unlink a directory", unlink(d, b"sub"));
    show("unlink .", unlink(d, b"."));
    show("unlink missing", unlink(d, b"missing"));
    show("rmdir a symlink to a directory", rmdir(d, b"dlink2"));
    show("rmdir a file", rmdir(d, b"file.txt"));
    show("rmdir missing", rmdir(d, b"missing"));
    show("unlink a symlink to a directory", unlink(d, b"dlink2"));
    show("unlink a hard link", unlink(o, b"linked.txt"));
    show("nlink of file.txt after", stat(d, FOLLOW, b"file.txt").map(|s| s.nlink));

    // readlink into small buffers.
    for cap in [64, 8, 3, 1, 0] {
        show(&format!("readlink flink into {cap} bytes"), readlink(d, b"flink", cap));
    }
    show("readlink of a file", readlink(d, b"file.txt", 64));
    show("readlink of a directory", readlink(d, b"sub", 64));
    show("readlink missing", readlink(d, b"missing", 64));
    show("readlink flink/", readlink(d, b"flink/", 64));
    show("symlink with an absolute target", symlink(d, b"/etc/passwd", b"abs"));
    show("readlink abs", readlink(d, b"abs", 64));
    show("open abs", open_type(d, FOLLOW, b"abs", 0, R_READ, 0));
    show("symlink escaping", symlink(d, b"../../x", b"esc"));
    show("open esc", open_type(d, FOLLOW, b"esc", 0, R_READ, 0));
    show("symlink onto an existing name", symlink(d, b"x", b"file.txt"));
    show("symlink with an empty target", symlink(d, b"", b"empty"));
}

/// /sandbox/file.txt: "hello\n".
fn io() {
    let d = preopen("/sandbox");
    let fd = open(d, FOLLOW, b"file.txt", 0, RW, 0).unwrap();
    // Past the end.
    show("seek SET 100", seek(fd, 100, SET));
    show("read past the end", read(fd, 10));
    show("tell", tell(fd));
    show("write past the end", write(fd, b"X"));
    show("size", size(fd));
    show("seek SET 4, read", seek(fd, 4, SET).and_then(|_| read(fd, 6)).map(|s| s.into_bytes()));
    // Before the start and other bad seeks.
    show("seek SET -1", seek(fd, -1, SET));
    show("seek CUR -1000", seek(fd, -1000, CUR));
    show("seek END -1000", seek(fd, -1000, END));
    show("tell after failed seeks", tell(fd));
    show("seek END -1", seek(fd, -1, END));
    show("seek END +10", seek(fd, 10, END));
    show("seek CUR -5", seek(fd, -5, CUR));
    show("seek SET i64::MAX", seek(fd, i64::MAX, SET));
    show("seek CUR i64::MAX", seek(fd, i64::MAX, CUR));
    show("read at i64::MAX", read(fd, 4));
    show("write at i64::MAX", write(fd, b"Y"));
    show("size", size(fd));
    // pread/pwrite at odd offsets.
    show("pread past the end", {
        let mut b = [0u8; 4];
        let mut n = 0;
        let e = unsafe { fd_pread(fd, &Iovec { buf: b.as_mut_ptr(), len: 4 }, 1, 1000, &mut n) };
        res(e, n)
    });
    show("pwrite at 2^63", {
        let mut n = 0;
        let e = unsafe { fd_pwrite(fd, &Iovec { buf: b"Z".as_ptr(), len: 1 }, 1, 1 << 63, &mut n) };
        res(e, n)
    });
    show("pread at 2^63", {
        let mut b = [0u8; 4];
        let mut n = 0;
        let e = unsafe { fd_pread(fd, &Iovec { buf: b.as_mut_ptr(), len: 4 }, 1, 1 << 63, &mut n) };
        res(e, n)
    });
    // Several iovecs: what one call moves.
    show("read into [2, 10] bytes", seek(fd, 0, SET).and_then(|_| {
        let (mut a, mut b) = ([0u8; 2], [0u8; 10]);
        let iovs = [Iovec { buf: a.as_mut_ptr(), len: 2 }, Iovec { buf: b.as_mut_ptr(), len: 10 }];
        let mut n = 0;
        let e = unsafe { fd_read(fd, iovs.as_ptr(), 2, &mut n) };
        res(e, (n, a, b))
    }));
    show("read into [0, 3] bytes", seek(fd, 0, SET).and_then(|_| {
        let mut b = [0u8; 3];
        let iovs = [Iovec { buf: b.as_mut_ptr(), len: 0 }, Iovec { buf: b.as_mut_ptr(), len: 3 }];
        let mut n = 0;
        let e = unsafe { fd_read(fd, iovs.as_ptr(), 2, &mut n) };
        res(e, (n, b))
    }));
    show("read with no iovecs", {
        let mut n = 7;
        let e = unsafe { fd_read(fd, std::ptr::null(), 0, &mut n) };
        res(e, n)
    });
    show("write [ab, cd]", seek(fd, 0, SET).and_then(|_| {
        let iovs = [Iovec { buf: b"ab".as_ptr(), len: 2 }, Iovec { buf: b"cd".as_ptr(), len: 2 }];
        let mut n = 0;
        let e = unsafe { fd_write(fd, iovs.as_ptr(), 2, &mut n) };
        res(e, n)
    }));
    show("tell", tell(fd));
    show("write with no iovecs", {
        let mut n = 7;
        let e = unsafe { fd_write(fd, std::ptr::null(), 0, &mut n) };
        res(e, n)
    });
    // Truncate and extend.
    show("set_size 3", set_size(fd, 3));
    show("size, tell", size(fd).and_then(|s| Ok((s, tell(fd)?))));
    show("read at the old position", read(fd, 4));
    show("set_size 10", set_size(fd, 10));
    show("contents", seek(fd, 0, SET).and_then(|_| read(fd, 20)).map(|s| s.into_bytes()));
    close(fd).unwrap();
    show("set_size on a read-only fd", open(d, FOLLOW, b"file.txt", 0, R_READ, 0).and_then(|fd| {
        let r = set_size(fd, 1);
        close(fd)?;
        Ok(r.map_err(en))
    }));
    show("set_size on a directory", set_size(d, 1));
    show("fd_advise on a directory", res(unsafe { fd_advise(d, 0, 0, 1) }, ()));
    show("fd_allocate on a directory", res(unsafe { fd_allocate(d, 0, 1) }, ()));
    show("fd_sync on a directory", res(unsafe { fd_sync(d) }, ()));

    // Append mode: writes go to the end whatever the position.
    let fd = open(d, FOLLOW, b"file.txt", 0, RW, APPEND).unwrap();
    show("append: seek SET 0", seek(fd, 0, SET));
    show("append: write", write(fd, b"+A"));
    show("append: tell", tell(fd));
    show("append: pwrite at 0", {
        let mut n = 0;
        let e = unsafe { fd_pwrite(fd, &Iovec { buf: b"+P".as_ptr(), len: 2 }, 1, 0, &mut n) };
        res(e, n)
    });
    show("append: tell after pwrite", tell(fd));
    show("append: read from 0", seek(fd, 0, SET).and_then(|_| read(fd, 20)).map(|s| s.into_bytes()));
    show("append: set_size 2", set_size(fd, 2));
    show("append: write after set_size", write(fd, b"!"));
    show("append: contents", seek(fd, 0, SET).and_then(|_| read(fd, 20)));
    close(fd).unwrap();
    show("append, read-only", open(d, FOLLOW, b"file.txt", 0, R_READ, APPEND).and_then(|fd| {
        let r = write(fd, b"?");
        close(fd)?;
        Ok(r.map_err(en))
    }));
    show("append, then O_TRUNC", open(d, FOLLOW, b"file.txt", TRUNC, RW, APPEND).and_then(|fd| {
        let w = write(fd, b"fresh");
        let t = tell(fd);
        close(fd)?;
        Ok((er(w), er(t)))
    }));
}

/// /sandbox: a.txt ("aaa"), b.txt ("bbb"), c.txt ("ccc"), sub/; /other.
fn fds() {
    println!("preopens: {:?}", preopens());
    let d = preopen("/sandbox");
    let o = preopen("/other");

    // fdstat of every kind of descriptor.
    for fd in [0, 1, 2] {
        show(&format!("fdstat {fd}"), fdstat_str(fd));
    }
    show("fdstat preopen", fdstat_str(d));
    show("fdstat 999", fdstat_str(999));
    for (what, path, oflags, rights, fdflags) in [
        ("file read-only", &b"a.txt"[..], 0, R_READ, 0),
        ("file write-only", b"a.txt", 0, R_WRITE, 0),
        ("file read-write", b"a.txt", 0, RW, 0),
        ("file append", b"a.txt", 0, R_WRITE, APPEND),
        ("file nonblock", b"a.txt", 0, R_READ, NONBLOCK),
        ("file no rights", b"a.txt", 0, 0, 0),
        ("dir", b"sub", DIRECTORY, R_READ, 0),
        ("dir without O_DIRECTORY", b"sub", 0, R_READ, 0),
        ("dir no rights", b"sub", 0, 0, 0),
        (". of the preopen", b".", 0, R_ALL, 0),
    ] {
        show(&format!("fdstat {what}"), open(d, FOLLOW, path, oflags, rights, fdflags).and_then(|fd| {
            let s = fdstat_str(fd);
            close(fd)?;
            s
        }));
    }

    // filestat of files and directories (no times, no inode numbers).
    show("filestat file", open(d, FOLLOW, b"a.txt", 0, R_READ, 0).and_then(|fd| {
        let s = fstat(fd).map(|s| (s.dev, ft(s.filetype), s.nlink, s.size));
        close(fd)?;
        s
    }));
    show("filestat preopen", fstat(d).map(|s| (s.dev, ft(s.filetype))));
    show("path_filestat file", stat(d, FOLLOW, b"a.txt").map(|s| (s.dev, ft(s.filetype), s.nlink, s.size)));
    show("path_filestat .", stat(d, FOLLOW, b".").map(|s| (s.dev, ft(s.filetype))));

    // Numbering: new descriptors, and which freed number comes back first.
    let a = open(d, FOLLOW, b"a.txt", 0, R_READ, 0).unwrap();
    let b = open(d, FOLLOW, b"b.txt", 0, R_READ, 0).unwrap();
    let c = open(d, FOLLOW, b"c.txt", 0, R_READ, 0).unwrap();
    println!("opened a b c as {a} {b} {c}");
    close(a).unwrap();
    close(b).unwrap();
    let x = open(d, FOLLOW, b"a.txt", 0, R_READ, 0).unwrap();
    let y = open(d, FOLLOW, b"b.txt", 0, R_READ, 0).unwrap();
    let z = open(d, FOLLOW, b"c.txt", 0, R_READ, 0).unwrap();
    println!("after closing {a} and {b}, opened {x} {y} {z}");
    for fd in [x, y, z, c] {
        close(fd).unwrap();
    }

    // Use after close.
    let fd = open(d, FOLLOW, b"a.txt", 0, RW, 0).unwrap();
    show("close", close(fd));
    show("read after close", read(fd, 4));
    show("write after close", write(fd, b"x"));
    show("seek after close", seek(fd, 0, SET));
    show("fdstat after close", fdstat_str(fd));
    show("filestat after close", fstat(fd).map(|_| ()));
    show("close again", close(fd));
    show("close 999", close(999));

    // set_flags: only APPEND and NONBLOCK change.
    let fd = open(d, FOLLOW, b"a.txt", 0, RW, 0).unwrap();
    for (what, flags) in [
        ("APPEND", APPEND),
        ("NONBLOCK", NONBLOCK),
        ("APPEND|NONBLOCK", APPEND | NONBLOCK),
        ("none", 0),
        ("DSYNC", DSYNC),
        ("SYNC", SYNC),
        ("RSYNC", RSYNC),
        ("APPEND|SYNC", APPEND | SYNC),
    ] {
        let e = unsafe { fd_fdstat_set_flags(fd, flags) };
        println!("set_flags {what}: {} -> {:?}", en(e), fdstat(fd).map(|s| s.flags));
    }
    unsafe { fd_fdstat_set_flags(fd, APPEND) };
    show("write after set_flags APPEND", seek(fd, 0, SET).and_then(|_| write(fd, b"+")).and_then(|_| tell(fd)));
    show("set_flags on stdout", res(unsafe { fd_fdstat_set_flags(1, APPEND) }, ()));
    show("set_flags on stdin", res(unsafe { fd_fdstat_set_flags(0, NONBLOCK) }, ()));
    show("set_flags on a directory", res(unsafe { fd_fdstat_set_flags(d, 0) }, ()));
    show("set_flags on 999", res(unsafe { fd_fdstat_set_flags(999, 0) }, ()));
    show("set_rights on a file", res(unsafe { fd_fdstat_set_rights(fd, R_READ, 0) }, ()));
    show("set_rights on a directory", res(unsafe { fd_fdstat_set_rights(d, 0, 0) }, ()));
    show("set_rights on stdout", res(unsafe { fd_fdstat_set_rights(1, 0, 0) }, ()));
    close(fd).unwrap();

    // prestat of what is not a preopen.
    let prestat = |fd: u32| {
        let mut p = Prestat::default();
        let e = unsafe { fd_prestat_get(fd, &mut p) };
        res(e, (p.tag, p.name_len))
    };
    let dir_name = |fd: u32, cap: usize| {
        let mut buf = vec![b'#'; cap + 2];
        let e = unsafe { fd_prestat_dir_name(fd, buf.as_mut_ptr(), cap) };
        res(e, String::from_utf8_lossy(&buf).into_owned())
    };
    show("prestat preopen", prestat(d));
    show("prestat_dir_name into 8", dir_name(d, 8));
    show("prestat_dir_name into 20", dir_name(d, 20));
    show("prestat_dir_name into 7", dir_name(d, 7));
    show("prestat_dir_name into 0", dir_name(d, 0));
    for fd in [0, 1, 2, 999] {
        show(&format!("prestat {fd}"), prestat(fd));
        show(&format!("prestat_dir_name {fd}"), dir_name(fd, 20));
    }
    let f = open(d, FOLLOW, b"a.txt", 0, R_READ, 0).unwrap();
    let s = open(d, FOLLOW, b"sub", DIRECTORY, R_READ, 0).unwrap();
    show("prestat of an opened file", prestat(f));
    show("prestat_dir_name of an opened file", dir_name(f, 20));
    show("prestat of an opened directory", prestat(s));
    show("prestat_dir_name of an opened directory", dir_name(s, 20));

    // Path calls on what is not a directory.
    show("path_open on a file fd", open(f, FOLLOW, b"x", 0, R_READ, 0));
    show("path_open on stdin", open(0, FOLLOW, b"x", 0, R_READ, 0));
    show("path_filestat on a file fd", stat_str(f, FOLLOW, b"x"));
    show("mkdir on a file fd", mkdir(f, b"x"));
    show("readdir on a file fd", {
        let mut buf = [0u8; 64];
        let mut n = 0;
        let e = unsafe { fd_readdir(f, buf.as_mut_ptr(), 64, 0, &mut n) };
        res(e, n)
    });
    show("read a directory fd", read(s, 4));
    show("write a directory fd", write(s, b"x"));
    show("seek a directory fd", seek(s, 0, SET));
    show("tell a directory fd", tell(s));
    show("path_open in an opened directory", open_type(s, FOLLOW, b"..", 0, R_READ, 0));
    show("path_open .. of an opened directory, then its file", open_type(s, FOLLOW, b"../a.txt", 0, R_READ, 0));

    // Renumbering.
    show("renumber onto an unused fd", res(unsafe { fd_renumber(f, 100) }, ()));
    show("renumber from an unused fd", res(unsafe { fd_renumber(100, f) }, ()));
    show("renumber onto itself", res(unsafe { fd_renumber(f, f) }, ()));
    show("read after renumber onto itself", read(f, 10));
    let g = open(d, FOLLOW, b"b.txt", 0, R_READ, 0).unwrap();
    show("renumber file onto file", res(unsafe { fd_renumber(g, f) }, ()));
    show("read the target", seek(f, 0, SET).and_then(|_| read(f, 10)));
    show("read the source", read(g, 10));
    let h = open(d, FOLLOW, b"c.txt", 0, R_READ, 0).unwrap();
    println!("next fd after renumber: {h} (source was {g})");
    show("renumber a file onto the second preopen", res(unsafe { fd_renumber(h, o) }, ()));
    show("prestat of it", prestat(o));
    show("fdstat of it", fdstat_str(o));
    show("read it", read(o, 10));
    show("path_open through it", open(o, FOLLOW, b"o.txt", 0, R_READ, 0));
    show("preopens now", Ok::<_, u16>(preopens()));
    show("renumber the preopen onto a file", res(unsafe { fd_renumber(d, f) }, ()));
    show("prestat of the new number", prestat(f));
    show("open through the new number", open_type(f, FOLLOW, b"a.txt", 0, R_READ, 0));
    show("open through the old number", open_type(d, FOLLOW, b"a.txt", 0, R_READ, 0));
    let k = open(f, FOLLOW, b"a.txt", 0, R_READ, 0).unwrap();
    println!("next fd: {k}");
    // A file onto stderr: what the program writes to fd 2 lands in it.
    let e = open(f, FOLLOW, b"err.txt", CREAT, RW, 0).unwrap();
    show("renumber a file onto stderr", res(unsafe { fd_renumber(e, 2) }, ()));
    show("fdstat 2", fdstat_str(2));
    show("write to 2", write(2, b"into the file\n"));
    show("close stdin", close(0));
    show("read stdin after close", read(0, 4));
    show("fdstat stdin after close", fdstat_str(0));
    let n = open(f, FOLLOW, b"a.txt", 0, R_READ, 0).unwrap();
    println!("next fd after closing stdin: {n}");
}

/// Entries of a directory listing (name, type, d_next), in the host's order.
type Entries = Vec<(Vec<u8>, u8, u64)>;

/// Parses the complete entries of a fd_readdir buffer.
fn parse_dirents(buf: &[u8]) -> Entries {
    let mut v = Vec::new();
    let mut p = 0;
    while p + 24 <= buf.len() {
        let next = u64::from_le_bytes(buf[p..p + 8].try_into().unwrap());
        let namlen = u32::from_le_bytes(buf[p + 16..p + 20].try_into().unwrap()) as usize;
        let t = buf[p + 20];
        if p + 24 + namlen > buf.len() {
            break;
        }
        v.push((buf[p + 24..p + 24 + namlen].to_vec(), t, next));
        p += 24 + namlen;
    }
    v
}

/// One fd_readdir call: the bytes it filled, or its errno.
fn readdir_once(fd: u32, cap: usize, cookie: u64) -> Result<Vec<u8>, u16> {
    let mut buf = vec![0u8; cap];
    let mut n = 0;
    let e = unsafe { fd_readdir(fd, buf.as_mut_ptr(), cap, cookie, &mut n) };
    res(e, ()).map(|_| {
        buf.truncate(n);
        buf
    })
}

/// Reads a whole directory with buffers of `cap` bytes, resuming from the
/// cookie of the last complete entry. None if a buffer holds no complete
/// entry (the caller would need a bigger one).
fn readdir_all(fd: u32, cap: usize) -> Result<Option<(Entries, usize)>, u16> {
    let mut all = Vec::new();
    let mut cookie = 0;
    let mut calls = 0;
    loop {
        let buf = readdir_once(fd, cap, cookie)?;
        calls += 1;
        let entries = parse_dirents(&buf);
        if entries.is_empty() {
            return Ok(if buf.is_empty() { Some((all, calls)) } else { None });
        }
        cookie = entries.last().unwrap().2;
        let full = buf.len() == cap;
        all.extend(entries);
        if !full {
            return Ok(Some((all, calls)));
        }
    }
}

/// A listing made deterministic: `.` and `..` as they come first, the rest
/// sorted; and whether the cookies count 1, 2, 3, ... in listing order.
fn describe(entries: &Entries) -> String {
    let cookies_in_order = entries.iter().enumerate().all(|(i, e)| e.2 == i as u64 + 1);
    let head: Vec<_> = entries.iter().take(2).map(|e| (String::from_utf8_lossy(&e.0).into_owned(), ft(e.1))).collect();
    let mut rest: Vec<_> = entries.iter().skip(2).map(|e| (String::from_utf8_lossy(&e.0).into_owned(), ft(e.1))).collect();
    rest.sort();
    format!("{} entries, cookies 1.. in order {cookies_in_order}, first {head:?}, then {rest:?}", entries.len())
}

/// /sandbox/d: a, bb, ccc_a_longer_name (files), sub/, lnk -> a,
/// dangl -> nowhere; /sandbox/empty/.
fn readdir() {
    let d = preopen("/sandbox");
    let dir = open(d, FOLLOW, b"d", DIRECTORY, R_READ, 0).unwrap();
    show("full listing", readdir_all(dir, 4096).map(|r| r.map(|(e, _)| describe(&e))));
    // The first call with tiny buffers: the bytes filled; `.` and `..` come
    // first, so the bytes are known but for inode numbers (masked as 'i')
    // and the three bytes of padding after d_type (masked as 'p': wasmtime
    // leaves whatever its own memory held there).
    for cap in (0..=26).chain([30, 40, 49, 50, 51, 52, 60, 64]) {
        show(&format!("first call, {cap}-byte buffer"), readdir_once(dir, cap, 0).map(|mut b| {
            let mut p = 0;
            while p < b.len() {
                for i in p + 8..(p + 16).min(b.len()) {
                    b[i] = b'i';
                }
                for i in p + 21..(p + 24).min(b.len()) {
                    b[i] = b'p';
                }
                if p + 20 > b.len() {
                    break;
                }
                p += 24 + u32::from_le_bytes(b[p + 16..p + 20].try_into().unwrap()) as usize;
            }
            // From the third entry on the order is the host's: only its length.
            let shown = b.len().min(51);
            (b.len(), format!("{:02x?}", &b[..shown]))
        }));
    }
    // Whole listings resumed from cookies, with buffers that hold one or a
    // few entries.
    for cap in [42, 43, 48, 64, 100, 128, 256] {
        show(&format!("listing with {cap}-byte buffers"), readdir_all(dir, cap).map(|r| r.map(|(e, _)| describe(&e))));
    }
    show("listing with 30-byte buffers (too small for some names)", readdir_all(dir, 30).map(|r| r.is_some()));
    // Cookies at and past the end, and in the middle.
    for cookie in [1, 2, 7, 8, 9, 1000, u64::MAX] {
        show(&format!("cookie {cookie}"), readdir_once(dir, 4096, cookie).map(|b| {
            let e = parse_dirents(&b);
            (e.len(), e.first().map(|e| e.2))
        }));
    }
    show("cookie 2 lists all but . and ..", readdir_once(dir, 4096, 2).map(|b| {
        let mut names: Vec<_> = parse_dirents(&b).into_iter().map(|e| String::from_utf8_lossy(&e.0).into_owned()).collect();
        names.sort();
        names
    }));
    // The preopen itself, an empty directory, `.` of a subdirectory.
    show("preopen listing", readdir_all(d, 4096).map(|r| r.map(|(e, _)| describe(&e))));
    show("empty directory", open(d, FOLLOW, b"empty", DIRECTORY, R_READ, 0).and_then(|fd| {
        let r = readdir_all(fd, 4096).map(|r| r.map(|(e, _)| describe(&e)));
        close(fd)?;
        r
    }));
    show("d/sub/.. listing", open(d, FOLLOW, b"d/sub/..", DIRECTORY, R_READ, 0).and_then(|fd| {
        let r = readdir_all(fd, 4096).map(|r| r.map(|(e, _)| describe(&e)));
        close(fd)?;
        r
    }));
    show("readdir of a directory opened without read rights", open(d, FOLLOW, b"d", DIRECTORY, 0, 0).and_then(|fd| {
        let r = readdir_all(fd, 4096).map(|r| r.map(|(e, _)| e.len()));
        close(fd)?;
        r
    }));
    // A listing sees changes made after the directory was opened.
    show("create d/new after opening", open_type(d, FOLLOW, b"d/new", CREAT, RW, 0));
    show("unlink d/bb after opening", unlink(d, b"d/bb"));
    show("listing after changes", readdir_all(dir, 4096).map(|r| r.map(|(e, _)| describe(&e))));
    show("readdir of stdin", readdir_once(0, 64, 0).map(|b| b.len()));
    show("readdir of a closed fd", close(dir).and_then(|_| readdir_once(dir, 64, 0)).map(|b| b.len()));
}

/// Counts the entries of DIR with 1 MiB buffers.
fn readdir_count(path: &str) {
    let d = preopen("/sandbox");
    let rel = path.strip_prefix("/sandbox/").unwrap();
    let dir = open(d, FOLLOW, rel.as_bytes(), DIRECTORY, R_READ, 0).unwrap();
    match readdir_all(dir, 1 << 20) {
        Ok(Some((entries, _))) => {
            let mut names: Vec<_> = entries.iter().map(|e| e.0.clone()).collect();
            names.sort();
            names.dedup();
            let files = entries.iter().filter(|e| e.1 == 4).count();
            println!("{path}: {} entries, {} distinct names, {files} files, cookies 1.. in order {}", entries.len(), names.len(), entries.iter().enumerate().all(|(i, e)| e.2 == i as u64 + 1));
        }
        other => println!("{path}: {:?}", other.map(|_| ()).map_err(en)),
    }
}

/// /sandbox/mixed holds ok.txt and, made by the host, a file named
/// "bad\xffname" and a directory "caf\xe9"; /sandbox/badlink -> "\xff".
fn nonutf8() {
    let d = preopen("/sandbox");
    let mixed = open(d, FOLLOW, b"mixed", DIRECTORY, R_READ, 0).unwrap();
    show("readdir of mixed", readdir_all(mixed, 4096).map(|r| r.map(|(e, _)| describe(&e))));
    show("readdir of mixed from cookie 2", readdir_once(mixed, 4096, 2).map(|b| b.len()));
    show("readdir of mixed, 10-byte buffer", readdir_once(mixed, 10, 0).map(|b| b.len()));
    show("std::fs::read_dir of mixed", Ok::<_, u16>(std::fs::read_dir("/sandbox/mixed").map(|rd| rd.map(|e| e.map(|e| e.file_name()).map_err(|e| e.kind())).collect::<Vec<_>>()).map_err(|e| e.kind())));
    show("readdir of the preopen", readdir_all(d, 4096).map(|r| r.map(|(e, _)| describe(&e))));
    show("open ok.txt", open_type(mixed, FOLLOW, b"ok.txt", 0, R_READ, 0));
    show("open bad\\xffname", open_type(mixed, FOLLOW, b"bad\xffname", 0, R_READ, 0));
    show("open caf\\xe9", open_type(mixed, FOLLOW, b"caf\xe9", 0, R_READ, 0));
    show("stat bad\\xffname", stat_str(mixed, FOLLOW, b"bad\xffname"));
    show("create new\\xfe", open_type(mixed, FOLLOW, b"new\xfe", CREAT, RW, 0));
    show("mkdir new\\xfe", mkdir(mixed, b"new\xfe"));
    show("unlink bad\\xffname", unlink(mixed, b"bad\xffname"));
    show("rmdir caf\\xe9", rmdir(mixed, b"caf\xe9"));
    show("rename bad\\xffname -> good", rename(mixed, b"bad\xffname", mixed, b"good"));
    show("rename ok.txt -> bad\\xfe", rename(mixed, b"ok.txt", mixed, b"bad\xfe"));
    show("symlink to \\xff", symlink(mixed, b"\xff", b"l"));
    show("open \\xc3 (a truncated sequence)", open_type(mixed, FOLLOW, b"\xc3", 0, R_READ, 0));
    show("open an overlong /", open_type(mixed, FOLLOW, b"\xc0\xaf", 0, R_READ, 0));
    show("open a surrogate", open_type(mixed, FOLLOW, b"\xed\xa0\x80", 0, R_READ, 0));
    show("lstat badlink", stat_str(d, NOFOLLOW, b"badlink"));
    show("readlink badlink", readlink(d, b"badlink", 64));
    show("open badlink", open_type(d, FOLLOW, b"badlink", 0, R_READ, 0));
    show("unlink badlink", unlink(d, b"badlink"));
    show("UTF-8 names: create ünï", open_type(mixed, FOLLOW, "ünï ✓".as_bytes(), CREAT, RW, 0));
    show("UTF-8 names: stat ünï", stat_str(mixed, FOLLOW, "ünï ✓".as_bytes()));
    show("a NUL in a name", open_type(mixed, FOLLOW, b"ok.txt\0junk", 0, R_READ, 0));
    show("create a name with a NUL", open_type(mixed, FOLLOW, b"nul\0", CREAT, RW, 0));
}

/// An event without its userdata order: (userdata, errno, type, nbytes, flags).
fn ev(e: &Event) -> (u64, String, u8, u64, u16) {
    (e.userdata, en(e.error), e.kind, e.nbytes, e.flags)
}

fn poll_show(what: &str, subs: &[Subscription]) {
    let start = monotonic();
    let r = poll(subs).map(|v| v.iter().map(ev).collect::<Vec<_>>());
    let ms = (monotonic() - start) / 1_000_000;
    match r {
        Ok(v) => println!("{what}: {v:?} (under 2 s: {})", ms < 2000),
        Err(e) => println!("{what}: {}", en(e)),
    }
}

fn clock(userdata: u64, id: u32, timeout: u64, abstime: bool) -> Subscription {
    Subscription { userdata, tag: EVENTTYPE_CLOCK, id_or_fd: id, timeout, flags: abstime as u16, ..Default::default() }
}

fn fd_sub(userdata: u64, tag: u8, fd: u32) -> Subscription {
    Subscription { userdata, tag, id_or_fd: fd, ..Default::default() }
}

const FD_WRITE: u8 = 2;
const LONG: u64 = 10_000_000_000;

/// /sandbox: data.txt ("abc"), empty.txt.
fn poll_misc() {
    let d = preopen("/sandbox");
    let start = monotonic();
    poll_show("relative monotonic 20 ms", &[clock(1, CLOCK_MONOTONIC, 20_000_000, false)]);
    println!("  waited >= 20 ms: {}", monotonic() - start >= 20_000_000);
    let start = monotonic();
    poll_show("relative monotonic 20 ms, and 10 s", &[clock(1, CLOCK_MONOTONIC, 20_000_000, false), clock(2, CLOCK_MONOTONIC, LONG, false)]);
    println!("  waited >= 20 ms: {}", monotonic() - start >= 20_000_000);
    let start = monotonic();
    poll_show("relative realtime 20 ms, and 10 s", &[clock(1, CLOCK_REALTIME, 20_000_000, false), clock(2, CLOCK_MONOTONIC, LONG, false)]);
    println!("  waited >= 20 ms: {}", monotonic() - start >= 20_000_000);
    let start = monotonic();
    poll_show("absolute monotonic now + 20 ms", &[clock(1, CLOCK_MONOTONIC, monotonic() + 20_000_000, true)]);
    println!("  waited >= 20 ms: {}", monotonic() - start >= 20_000_000);
    let start = monotonic();
    poll_show("absolute realtime now + 20 ms", &[clock(1, CLOCK_REALTIME, realtime() + 20_000_000, true)]);
    println!("  waited >= 15 ms: {}", monotonic() - start >= 15_000_000);
    poll_show("absolute monotonic in the past", &[clock(1, CLOCK_MONOTONIC, 1, true), clock(2, CLOCK_MONOTONIC, LONG, false)]);
    poll_show("absolute realtime in the past", &[clock(1, CLOCK_REALTIME, 1, true), clock(2, CLOCK_MONOTONIC, LONG, false)]);
    poll_show("zero timeout alone", &[clock(1, CLOCK_MONOTONIC, 0, false)]);
    poll_show("zero timeout, and 10 s", &[clock(1, CLOCK_MONOTONIC, 0, false), clock(2, CLOCK_MONOTONIC, LONG, false)]);
    poll_show("two zero timeouts", &[clock(1, CLOCK_MONOTONIC, 0, false), clock(2, CLOCK_REALTIME, 0, false)]);
    poll_show("process cputime clock alone (relative)", &[clock(1, 2, 1_000_000, false)]);
    poll_show("process cputime clock, and 10 s", &[clock(1, 2, 1_000_000, false), clock(2, CLOCK_MONOTONIC, LONG, false)]);
    poll_show("thread cputime clock absolute", &[clock(1, 3, 0, true)]);
    poll_show("precision ignored", &[Subscription { precision: u64::MAX, ..clock(1, CLOCK_MONOTONIC, 1_000_000, false) }, clock(2, CLOCK_MONOTONIC, LONG, false)]);

    // Descriptors.
    poll_show("fd_write on stdout", &[fd_sub(1, FD_WRITE, 1), clock(2, CLOCK_MONOTONIC, LONG, false)]);
    poll_show("fd_write on stdout and stderr", &[fd_sub(1, FD_WRITE, 1), fd_sub(2, FD_WRITE, 2), clock(3, CLOCK_MONOTONIC, LONG, false)]);
    poll_show("fd_write on stdout alone", &[fd_sub(1, FD_WRITE, 1)]);
    let data = open(d, FOLLOW, b"data.txt", 0, RW, 0).unwrap();
    let empty = open(d, FOLLOW, b"empty.txt", 0, R_READ, 0).unwrap();
    poll_show("fd_read on a file with data", &[fd_sub(1, EVENTTYPE_FD_READ, data), clock(2, CLOCK_MONOTONIC, LONG, false)]);
    poll_show("fd_read on an empty file", &[fd_sub(1, EVENTTYPE_FD_READ, empty), clock(2, CLOCK_MONOTONIC, LONG, false)]);
    seek(data, 3, SET).unwrap();
    poll_show("fd_read on a file at its end", &[fd_sub(1, EVENTTYPE_FD_READ, data), clock(2, CLOCK_MONOTONIC, LONG, false)]);
    seek(data, 100, SET).unwrap();
    poll_show("fd_read on a file past its end", &[fd_sub(1, EVENTTYPE_FD_READ, data), clock(2, CLOCK_MONOTONIC, LONG, false)]);
    seek(data, 1, SET).unwrap();
    poll_show("fd_write on a file", &[fd_sub(1, FD_WRITE, data), clock(2, CLOCK_MONOTONIC, LONG, false)]);
    poll_show("fd_write on a read-only file", &[fd_sub(1, FD_WRITE, empty), clock(2, CLOCK_MONOTONIC, LONG, false)]);
    poll_show("fd_read on a file alone", &[fd_sub(1, EVENTTYPE_FD_READ, data)]);
    // Several ready at once. (Not with a file read or a zero clock among
    // them: wasmtime returns what is ready when it first looks, and those
    // become ready a moment later, on another thread, so the set varies.)
    poll_show("several at once: file write, stdout, stderr", &[
        fd_sub(1, FD_WRITE, data),
        fd_sub(2, FD_WRITE, 1),
        fd_sub(3, FD_WRITE, 2),
        clock(4, CLOCK_MONOTONIC, LONG, false),
    ]);
    poll_show("the same descriptor twice", &[fd_sub(1, FD_WRITE, 1), fd_sub(2, FD_WRITE, 1)]);
    poll_show("the same userdata twice", &[fd_sub(7, FD_WRITE, 1), fd_sub(7, FD_WRITE, 2)]);
    println!("position after polls: {:?}", tell(data));

    // Errors.
    poll_show("fd_read on a directory", &[fd_sub(1, EVENTTYPE_FD_READ, d), clock(2, CLOCK_MONOTONIC, LONG, false)]);
    poll_show("fd_write on a directory", &[fd_sub(1, FD_WRITE, d), clock(2, CLOCK_MONOTONIC, LONG, false)]);
    poll_show("fd_read on a closed fd", &[fd_sub(1, EVENTTYPE_FD_READ, 99), clock(2, CLOCK_MONOTONIC, LONG, false)]);
    poll_show("fd_read on stdout", &[fd_sub(1, EVENTTYPE_FD_READ, 1), clock(2, CLOCK_MONOTONIC, LONG, false)]);
    poll_show("fd_write on stdin", &[fd_sub(1, FD_WRITE, 0), clock(2, CLOCK_MONOTONIC, LONG, false)]);
    poll_show("zero subscriptions", &[]);
    // Inside the subscriptions (read from memory), unknown values are EINVAL.
    poll_show("unknown subscription flag bits", &[Subscription { flags: 2, ..clock(1, CLOCK_MONOTONIC, 0, false) }, clock(2, CLOCK_MONOTONIC, LONG, false)]);
    poll_show("unknown event type", &[fd_sub(1, 3, 0), clock(2, CLOCK_MONOTONIC, LONG, false)]);
    poll_show("unknown clock id", &[clock(1, 9, 0, false), clock(2, CLOCK_MONOTONIC, LONG, false)]);
    let start = monotonic();
    poll_show("bad fd after a due clock", &[clock(1, CLOCK_MONOTONIC, 0, false), fd_sub(2, EVENTTYPE_FD_READ, 99)]);
    println!("  returned at once: {}", monotonic() - start < 1_000_000_000);
}

/// stdin is piped data, or at its end.
fn poll_stdin() {
    poll_show("fd_read on stdin, and 10 s", &[fd_sub(1, EVENTTYPE_FD_READ, 0), clock(2, CLOCK_MONOTONIC, LONG, false)]);
    let mut all = Vec::new();
    loop {
        let s = read(0, 65536).unwrap();
        if s.is_empty() {
            break;
        }
        all.extend_from_slice(s.as_bytes());
    }
    println!("read {} bytes", all.len());
    poll_show("fd_read on stdin at its end, and 10 s", &[fd_sub(1, EVENTTYPE_FD_READ, 0), clock(2, CLOCK_MONOTONIC, LONG, false)]);
    poll_show("fd_read on stdin alone", &[fd_sub(1, EVENTTYPE_FD_READ, 0)]);
    poll_show("stdin at its end, and stdout", &[fd_sub(1, EVENTTYPE_FD_READ, 0), fd_sub(2, FD_WRITE, 1), clock(3, CLOCK_MONOTONIC, LONG, false)]);
    show("read at the end", read(0, 10));
}

fn clocks() {
    for (name, id) in [("realtime", 0), ("monotonic", 1), ("process_cputime", 2), ("thread_cputime", 3)] {
        let mut r = 0u64;
        let e = unsafe { clock_res_get(id, &mut r) };
        let mut t = 0u64;
        let e2 = unsafe { clock_time_get(id, 0, &mut t) };
        let mut t2 = 0u64;
        let e3 = unsafe { clock_time_get(id, u64::MAX, &mut t2) };
        println!("{name}: res {} {r}, time {} nonzero {}, with precision u64::MAX {}", en(e), en(e2), t > 0, en(e3));
    }
    let (a, b) = (realtime(), realtime());
    println!("realtime is nanoseconds since 1970 (2020..2100): {}", a > 1_577_836_800_000_000_000 && a < 4_102_444_800_000_000_000 && b >= a);
    let m = monotonic();
    std::thread::sleep(std::time::Duration::from_millis(10));
    println!("monotonic advances by >= 10 ms over a 10 ms sleep: {}", monotonic() - m >= 10_000_000);
    let std_now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    println!("std's SystemTime agrees within 1 s: {}", std_now.abs_diff(realtime()) < 1_000_000_000);
}

/// Descriptors 0-2: their fdstat and filestat on stderr (which might be a
/// file, a pipe or /dev/null), calls that do not apply to them, closing.
fn stdio() {
    for fd in 0..3 {
        eprintln!("fdstat {fd}: {:?}", fdstat_str(fd).map_err(en));
        eprintln!("filestat {fd}: {:?}", fstat(fd).map_err(en));
    }
    let mut all = Vec::new();
    loop {
        match read(0, 65536) {
            Ok(s) if s.is_empty() => break,
            Ok(s) => all.extend_from_slice(s.as_bytes()),
            Err(e) => {
                println!("read stdin: {}", en(e));
                break;
            }
        }
    }
    println!("stdin gave {} bytes", all.len());
    show("write to stdout", write(1, b"line on stdout\n"));
    show("seek stdout", seek(1, 0, SET));
    show("seek stdin", seek(0, 0, CUR));
    show("tell stdin", tell(0));
    show("tell stderr", tell(2));
    show("pread stdin", {
        let mut b = [0u8; 4];
        let mut n = 0;
        let e = unsafe { fd_pread(0, &Iovec { buf: b.as_mut_ptr(), len: 4 }, 1, 0, &mut n) };
        res(e, n)
    });
    show("pwrite stdout", {
        let mut n = 0;
        let e = unsafe { fd_pwrite(1, &Iovec { buf: b"x".as_ptr(), len: 1 }, 1, 0, &mut n) };
        res(e, n)
    });
    show("read stdout", read(1, 4));
    show("read stderr", read(2, 4));
    show("write stdin", write(0, b"x"));
    show("set_size stdout", set_size(1, 0));
    show("sync stdout", res(unsafe { fd_sync(1) }, ()));
    show("datasync stdout", res(unsafe { fd_datasync(1) }, ()));
    show("advise stdin", res(unsafe { fd_advise(0, 0, 0, 0) }, ()));
    show("allocate stdout", res(unsafe { fd_allocate(1, 0, 1) }, ()));
    show("set times stdout", res(unsafe { fd_filestat_set_times(1, 0, 0, 0) }, ()));
    show("readdir stdin", readdir_once(0, 64, 0).map(|b| b.len()));
    show("write 0 bytes to stdout", write(1, b""));
    show("close stdin", close(0));
    show("read stdin after close", read(0, 4));
    eprintln!("close stdout: {:?}", close(1).map_err(en));
    eprintln!("write stdout after close: {:?}", write(1, b"lost\n").map_err(en));
    eprintln!("fdstat 1 after close: {:?}", fdstat_str(1).map_err(en));
}

/// One call with an argument its witx type does not allow: an unknown flag
/// bit or enum value (wasmtime ends the program rather than return EINVAL).
fn bad_value(what: &str) {
    let d = preopen("/sandbox");
    let p = b"file.txt";
    let r = match what {
        "fstflags" => res(unsafe { path_filestat_set_times(d, FOLLOW, p.as_ptr(), p.len(), 0, 0, 16) }, 0),
        "fdflags" => open(d, FOLLOW, p, 0, R_READ, 0).and_then(|fd| res(unsafe { fd_fdstat_set_flags(fd, 0x20) }, 0)),
        "open-fdflags" => open(d, FOLLOW, p, 0, R_READ, 0x20).map(|_| 0),
        "oflags" => open(d, FOLLOW, p, 0x10, R_READ, 0).map(|_| 0),
        "lookupflags" => open(d, 2, p, 0, R_READ, 0).map(|_| 0),
        "rights" => open(d, FOLLOW, p, 0, 1 << 40, 0).map(|_| 0),
        "whence" => open(d, FOLLOW, p, 0, R_READ, 0).and_then(|fd| seek(fd, 0, 3)),
        "advice" => open(d, FOLLOW, p, 0, R_READ, 0).and_then(|fd| res(unsafe { fd_advise(fd, 0, 0, 6) }, 0)),
        "res-clockid" => {
            let mut r = 0;
            res(unsafe { clock_res_get(9, &mut r) }, r)
        }
        "signal" => res(unsafe { proc_raise(99) }, 0),
        "sdflags" => res(unsafe { sock_shutdown(1, 4) }, 0),
        other => {
            println!("unknown value {other:?}");
            return;
        }
    };
    show(what, r);
}
