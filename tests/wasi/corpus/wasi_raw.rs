// Raw WASI preview 1 calls that Rust's std does not wrap, shared by the
// corpus programs with `include!`. Layouts follow the witx definitions.


#[allow(dead_code)]
#[link(wasm_import_module = "wasi_snapshot_preview1")]
unsafe extern "C" {
    pub fn clock_res_get(id: u32, out: *mut u64) -> u16;
    pub fn clock_time_get(id: u32, precision: u64, out: *mut u64) -> u16;
    pub fn random_get(buf: *mut u8, len: usize) -> u16;
    pub fn sched_yield() -> u16;
    pub fn poll_oneoff(subs: *const Subscription, events: *mut Event, n: usize, nevents: *mut usize) -> u16;
    pub fn fd_allocate(fd: u32, offset: u64, len: u64) -> u16;
    pub fn fd_advise(fd: u32, offset: u64, len: u64, advice: u8) -> u16;
    pub fn fd_datasync(fd: u32) -> u16;
    pub fn fd_sync(fd: u32) -> u16;
    pub fn fd_pread(fd: u32, iovs: *const Iovec, n: usize, offset: u64, nread: *mut usize) -> u16;
    pub fn fd_pwrite(fd: u32, iovs: *const Iovec, n: usize, offset: u64, nwritten: *mut usize) -> u16;
    pub fn fd_renumber(from: u32, to: u32) -> u16;
    pub fn fd_fdstat_set_flags(fd: u32, flags: u16) -> u16;
    pub fn path_filestat_set_times(fd: u32, lookup: u32, path: *const u8, len: usize, atim: u64, mtim: u64, flags: u16) -> u16;
    pub fn proc_raise(sig: u8) -> u16;
    pub fn sock_shutdown(fd: u32, how: u8) -> u16;
    pub fn path_symlink(old: *const u8, old_len: usize, fd: u32, new: *const u8, new_len: usize) -> u16;
    pub fn path_open(fd: u32, dirflags: u32, path: *const u8, len: usize, oflags: u16, rights_base: u64, rights_inheriting: u64, fdflags: u16, out: *mut u32) -> u16;
    pub fn fd_close(fd: u32) -> u16;
    pub fn fd_read(fd: u32, iovs: *const Iovec, n: usize, nread: *mut usize) -> u16;
    pub fn fd_write(fd: u32, iovs: *const Iovec, n: usize, nwritten: *mut usize) -> u16;
    pub fn fd_seek(fd: u32, offset: i64, whence: u8, out: *mut u64) -> u16;
    pub fn fd_tell(fd: u32, out: *mut u64) -> u16;
    pub fn fd_fdstat_get(fd: u32, out: *mut Fdstat) -> u16;
    pub fn fd_fdstat_set_rights(fd: u32, base: u64, inheriting: u64) -> u16;
    pub fn fd_filestat_get(fd: u32, out: *mut Filestat) -> u16;
    pub fn fd_filestat_set_size(fd: u32, size: u64) -> u16;
    pub fn fd_filestat_set_times(fd: u32, atim: u64, mtim: u64, flags: u16) -> u16;
    pub fn fd_prestat_get(fd: u32, out: *mut Prestat) -> u16;
    pub fn fd_prestat_dir_name(fd: u32, buf: *mut u8, len: usize) -> u16;
    pub fn fd_readdir(fd: u32, buf: *mut u8, len: usize, cookie: u64, used: *mut usize) -> u16;
    pub fn path_filestat_get(fd: u32, lookup: u32, path: *const u8, len: usize, out: *mut Filestat) -> u16;
    pub fn path_create_directory(fd: u32, path: *const u8, len: usize) -> u16;
    pub fn path_remove_directory(fd: u32, path: *const u8, len: usize) -> u16;
    pub fn path_unlink_file(fd: u32, path: *const u8, len: usize) -> u16;
    pub fn path_rename(fd: u32, old: *const u8, old_len: usize, new_fd: u32, new: *const u8, new_len: usize) -> u16;
    pub fn path_link(old_fd: u32, lookup: u32, old: *const u8, old_len: usize, new_fd: u32, new: *const u8, new_len: usize) -> u16;
    pub fn path_readlink(fd: u32, path: *const u8, len: usize, buf: *mut u8, buf_len: usize, used: *mut usize) -> u16;
}

/// `fdstat`: 24 bytes.
#[allow(dead_code)]
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct Fdstat {
    pub filetype: u8,
    pub flags: u16,
    pub rights_base: u64,
    pub rights_inheriting: u64,
}

/// `filestat`: 64 bytes.
#[allow(dead_code)]
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct Filestat {
    pub dev: u64,
    pub ino: u64,
    pub filetype: u8,
    pub nlink: u64,
    pub size: u64,
    pub atim: u64,
    pub mtim: u64,
    pub ctim: u64,
}

/// `prestat`: a tag (0 = directory) and the length of its name; 8 bytes.
#[allow(dead_code)]
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct Prestat {
    pub tag: u8,
    pub name_len: u32,
}

/// `symlink(target, dir/name)` through `path_symlink` (std's wrapper is unstable).
#[allow(dead_code)]
pub fn symlink_in(dir: &str, target: &str, name: &str) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let dir = std::fs::File::open(dir)?;
    let errno = unsafe {
        path_symlink(target.as_ptr(), target.len(), dir.as_raw_fd() as u32, name.as_ptr(), name.len())
    };
    if errno == 0 { Ok(()) } else { Err(std::io::Error::from_raw_os_error(errno as i32)) }
}

#[allow(dead_code)]
/// `iovec` / `ciovec`: pointer and length.
#[allow(dead_code)]
#[repr(C)]
pub struct Iovec {
    pub buf: *const u8,
    pub len: usize,
}

#[allow(dead_code)]
pub const EVENTTYPE_CLOCK: u8 = 0;
#[allow(dead_code)]
pub const EVENTTYPE_FD_READ: u8 = 1;
#[allow(dead_code)]
pub const CLOCK_REALTIME: u32 = 0;
#[allow(dead_code)]
pub const CLOCK_MONOTONIC: u32 = 1;

/// `subscription`: 48 bytes; `u` is a tagged union at offset 8/16.
#[allow(dead_code)]
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct Subscription {
    pub userdata: u64,
    pub tag: u8,
    pub _pad: [u8; 7],
    pub id_or_fd: u32,
    pub _pad2: u32,
    pub timeout: u64,
    pub precision: u64,
    pub flags: u16,
    pub _pad3: [u8; 6],
}

/// `event`: 32 bytes.
#[allow(dead_code)]
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct Event {
    pub userdata: u64,
    pub error: u16,
    pub kind: u8,
    pub _pad: [u8; 5],
    pub nbytes: u64,
    pub flags: u16,
    pub _pad2: [u8; 6],
}

#[allow(dead_code)]
pub fn clock_sub(userdata: u64, timeout_ns: u64) -> Subscription {
    Subscription { userdata, tag: EVENTTYPE_CLOCK, id_or_fd: CLOCK_MONOTONIC, timeout: timeout_ns, ..Default::default() }
}

#[allow(dead_code)]
pub fn fd_read_sub(userdata: u64, fd: u32) -> Subscription {
    Subscription { userdata, tag: EVENTTYPE_FD_READ, id_or_fd: fd, ..Default::default() }
}

/// Polls `subs`; returns the events that fired, sorted by userdata.
#[allow(dead_code)]
pub fn poll(subs: &[Subscription]) -> Result<Vec<Event>, u16> {
    let mut events = vec![Event::default(); subs.len()];
    let mut n = 0usize;
    let errno = unsafe { poll_oneoff(subs.as_ptr(), events.as_mut_ptr(), subs.len(), &mut n) };
    if errno != 0 {
        return Err(errno);
    }
    events.truncate(n);
    events.sort_by_key(|e| e.userdata);
    Ok(events)
}
