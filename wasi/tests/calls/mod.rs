//! The 46 functions of `wasi_snapshot_preview1` as the calling tests see
//! them: each one's parameters by meaning ([`Kind`]), the names of the test
//! tree a path argument picks from, and the module that imports every
//! function and exports a forwarding shim for each. Shared by
//! wasi/tests/host_calls.rs (proptest) and the `wasi_host` fuzz target
//! (fuzz/src/wasi_host.rs), which draw the arguments each their own way.
#![allow(dead_code)] // each user takes its subset

/// The module's memory: 2 pages.
pub const MEM: u32 = 2 * 65536;

/// Where a structured argument (a path, an iovec array, subscriptions) is
/// written before the call: one region per parameter position.
pub const SCRATCH: u32 = 0x11000;
pub const SCRATCH_STRIDE: u32 = 0x400;

/// The largest errno of preview 1 (`ENOTCAPABLE`).
pub const ERRNO_MAX: i32 = 76;

/// What a parameter means, which decides how its value is decoded.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// A descriptor number (i32).
    Fd,
    /// A pointer into memory, e.g. for a result (i32).
    Ptr,
    /// A buffer length (i32).
    Len,
    /// Flags, an enum, a clock id, a signal (i32): valid from 0 to the
    /// value given, which traps above.
    Small(i32),
    /// An offset, a size, a timestamp (i64).
    Wide,
    /// A rights mask (i64).
    Rights,
    /// A path: pointer and length (two i32).
    Path,
    /// An `iovec` array: pointer and count (two i32).
    Iovs,
    /// `poll_oneoff`'s subscriptions: pointer and count (two i32, which the
    /// call puts first and third).
    Subs,
}

pub use Kind::*;

impl Kind {
    pub fn wasm_types(self) -> &'static [&'static str] {
        match self {
            Wide | Rights => &["i64"],
            Path | Iovs | Subs => &["i32", "i32"],
            Fd | Ptr | Len | Small(_) => &["i32"],
        }
    }
}

pub const CLOCKID: Kind = Small(3);
pub const ADVICE: Kind = Small(5);
pub const WHENCE: Kind = Small(2);
pub const LOOKUP: Kind = Small(1);
pub const OFLAGS: Kind = Small(0xf);
pub const FDFLAGS: Kind = Small(0x1f);
pub const FSTFLAGS: Kind = Small(0xf);

/// Every function of `wasi_snapshot_preview1`, with its parameters (as in
/// wasi/src/abi.rs). All return an errno except `proc_exit`.
pub const FUNCS: &[(&str, &[Kind])] = &[
    ("args_get", &[Ptr, Ptr]),
    ("args_sizes_get", &[Ptr, Ptr]),
    ("environ_get", &[Ptr, Ptr]),
    ("environ_sizes_get", &[Ptr, Ptr]),
    ("clock_res_get", &[CLOCKID, Ptr]),
    ("clock_time_get", &[CLOCKID, Wide, Ptr]),
    ("fd_advise", &[Fd, Wide, Wide, ADVICE]),
    ("fd_allocate", &[Fd, Wide, Wide]),
    ("fd_close", &[Fd]),
    ("fd_datasync", &[Fd]),
    ("fd_fdstat_get", &[Fd, Ptr]),
    ("fd_fdstat_set_flags", &[Fd, FDFLAGS]),
    ("fd_fdstat_set_rights", &[Fd, Rights, Rights]),
    ("fd_filestat_get", &[Fd, Ptr]),
    ("fd_filestat_set_size", &[Fd, Wide]),
    ("fd_filestat_set_times", &[Fd, Wide, Wide, FSTFLAGS]),
    ("fd_pread", &[Fd, Iovs, Wide, Ptr]),
    ("fd_prestat_get", &[Fd, Ptr]),
    ("fd_prestat_dir_name", &[Fd, Ptr, Len]),
    ("fd_pwrite", &[Fd, Iovs, Wide, Ptr]),
    ("fd_read", &[Fd, Iovs, Ptr]),
    ("fd_readdir", &[Fd, Ptr, Len, Wide, Ptr]),
    ("fd_renumber", &[Fd, Fd]),
    ("fd_seek", &[Fd, Wide, WHENCE, Ptr]),
    ("fd_sync", &[Fd]),
    ("fd_tell", &[Fd, Ptr]),
    ("fd_write", &[Fd, Iovs, Ptr]),
    ("path_create_directory", &[Fd, Path]),
    ("path_filestat_get", &[Fd, LOOKUP, Path, Ptr]),
    (
        "path_filestat_set_times",
        &[Fd, LOOKUP, Path, Wide, Wide, FSTFLAGS],
    ),
    ("path_link", &[Fd, LOOKUP, Path, Fd, Path]),
    (
        "path_open",
        &[Fd, LOOKUP, Path, OFLAGS, Rights, Rights, FDFLAGS, Ptr],
    ),
    ("path_readlink", &[Fd, Path, Ptr, Len, Ptr]),
    ("path_remove_directory", &[Fd, Path]),
    ("path_rename", &[Fd, Path, Fd, Path]),
    ("path_symlink", &[Path, Fd, Path]),
    ("path_unlink_file", &[Fd, Path]),
    ("poll_oneoff", &[Subs, Ptr, Ptr]),
    ("proc_exit", &[Small(3)]),
    ("proc_raise", &[Small(30)]),
    ("sched_yield", &[]),
    ("random_get", &[Ptr, Len]),
    ("sock_accept", &[Fd, FDFLAGS, Ptr]),
    ("sock_recv", &[Fd, Iovs, Small(3), Ptr, Ptr]),
    ("sock_send", &[Fd, Iovs, Small(0), Ptr]),
    ("sock_shutdown", &[Fd, Small(3)]),
];

/// Paths a program might give: the tree's names, ways out of it, the
/// malformed (a path byte under 0x80 picks one).
pub const NAMES: &[&[u8]] = &[
    b"a",
    b"b",
    b"d",
    b"d/c",
    b"d/n",
    b"l",
    b"m",
    b"m/c",
    b"e",
    b"r",
    b"n",
    b"n/",
    b"a/",
    b"l/",
    b"d/../a",
    b".",
    b"..",
    b"../sibling",
    b"../n",
    b"d/../../n",
    b"/",
    b"/etc/passwd",
    b"",
    b"a\0",
    b"\xff",
    b"\xc3\xa9",
    b"x/y/z",
    &[b'x'; 300],
];

/// The module: one import and one forwarding shim per function.
pub fn module_text() -> String {
    let mut imports = String::new();
    let mut shims = String::new();
    for (i, (name, kinds)) in FUNCS.iter().enumerate() {
        let types: Vec<&str> = kinds.iter().flat_map(|k| k.wasm_types()).copied().collect();
        let params = if types.is_empty() {
            String::new()
        } else {
            format!("(param {})", types.join(" "))
        };
        let result = if *name == "proc_exit" {
            ""
        } else {
            "(result i32)"
        };
        let gets: String = (0..types.len())
            .map(|j| format!("local.get {j} "))
            .collect();
        imports.push_str(&format!(
            "  (import \"wasi_snapshot_preview1\" \"{name}\" (func $f{i} {params} {result}))\n"
        ));
        shims.push_str(&format!(
            "  (func (export \"{name}\") {params} {result} {gets}call $f{i})\n"
        ));
    }
    format!(
        "(module\n{imports}  (memory (export \"memory\") {pages})\n{shims})\n",
        pages = MEM / 65536
    )
}

/// Fills `root` with the tree [`NAMES`] refers to: `root/sandbox` (preopened
/// as `/sandbox`, its `d` as `/d`) holds files, a directory and symlinks,
/// two of them ways out; `root/sibling` is outside both and must stay as it
/// is.
pub fn fill_tree(root: &std::path::Path) {
    std::fs::write(root.join("sibling"), b"outside").unwrap();
    let sandbox = root.join("sandbox");
    std::fs::create_dir(&sandbox).unwrap();
    std::fs::write(sandbox.join("a"), b"hello, world\n").unwrap();
    std::fs::write(sandbox.join("b"), b"").unwrap();
    std::fs::create_dir(sandbox.join("d")).unwrap();
    std::fs::write(sandbox.join("d/c"), b"in d").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::symlink;
        symlink("a", sandbox.join("l")).unwrap();
        symlink("d", sandbox.join("m")).unwrap();
        // Ways out, which must stay closed.
        symlink("../sibling", sandbox.join("e")).unwrap();
        symlink("/", sandbox.join("r")).unwrap();
    }
}
