//! The `wasi_host` fuzz target's body: every WASI preview 1 host function of
//! `wpack-wasi` (wasi/), called with arbitrary arguments over arbitrary
//! guest memory, as wasi/tests/host_calls.rs does with proptest. Each call
//! returns an errno (0..=76) or traps, never panics, never hangs (libFuzzer's
//! `-timeout`), and nothing changes outside the preopened directory.
//!
//! One module, compiled once ([`harness`]), imports all 46 functions of
//! `wasi_snapshot_preview1` and exports a shim for each that forwards its
//! parameters. Each input runs in a fresh store with a fresh `WasiCtx`:
//! stdio closed (descriptors 0-2, so no call reads the fuzzer's stdin or
//! writes to its output), `outer/sandbox` preopened as `/sandbox` (fd 3) and
//! `outer/sandbox/d` as `/d` (fd 4), made afresh under /dev/shm (else the
//! temporary directory) and removed afterwards; `outer/sibling` lies outside
//! both and must stay as it is.
//!
//! An input is read as:
//!
//! * one byte N, then N bytes repeated over all of memory (2 pages; zeros
//!   if N is 0);
//! * then up to [`MAX_CALLS`] calls, each a byte choosing the function
//!   (modulo 46, in the order of [`FUNCS`]) and its arguments, each
//!   argument drawn by [`Kind`] from the bytes that follow (see
//!   [`Call::decode`]): mostly values in range (descriptors 0-15,
//!   pointers into memory, names of the tree), a marker byte away from any
//!   raw value. Missing bytes read as 0; `proc_exit` ends the sequence.
//!
//! Paths, `iovec` arrays and subscriptions are written to a scratch region
//! of memory, one per parameter position. Every subscription's timeout is
//! cut to under 0.1 ms before `poll_oneoff` runs, wherever the
//! subscriptions are.
//!
//! Not in bodies.rs: this body needs wasmtime with a compiler, `wat` and
//! `wpack_wasi`, which the packer's replay test (tests/fuzz_regressions.rs)
//! does not have; wasi/tests/fuzz_corpus.rs compiles this file to replay
//! the corpus without a fuzzer. `WPACK_FUZZ_TRACE=1` prints every call.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use wasmtime::{Engine, Instance, InstancePre, Linker, Module, ModuleExport, Store, Val};
use wpack_wasi::{HostDir, I32Exit, WasiCtx};

#[path = "../../wasi/tests/calls/mod.rs"]
mod calls;
pub use calls::FUNCS;
use calls::*;

/// Calls per input at most.
pub const MAX_CALLS: usize = 32;

/// Every subscription's timeout becomes one under this (ns).
const MAX_TIMEOUT: u64 = 100_000;

/// Rights masks a rights byte under 0xf0 picks: read and write, read,
/// write, none, all, readdir.
const RIGHTS: &[i64] = &[66, 2, 64, 0, (1 << 30) - 1, 1 << 14];

/// The input, read a byte at a time; past its end every byte is 0.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }

    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut bytes = [0; N];
        for b in &mut bytes {
            *b = self.u8();
        }
        bytes
    }

    fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.array())
    }

    fn i32(&mut self) -> i32 {
        i32::from_le_bytes(self.array())
    }

    fn i64(&mut self) -> i64 {
        i64::from_le_bytes(self.array())
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let (taken, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        taken
    }

    /// A descriptor: 0-15, or (after a byte from 0xf0) any i32.
    fn fd(&mut self) -> i32 {
        match self.u8() {
            b @ ..0xf0 => (b % 16).into(),
            _ => self.i32(),
        }
    }

    /// A pointer: twice a u16 under 0xff00 (anywhere in memory, aligned to
    /// 2), or (after 0xff00 and up) any i32.
    fn ptr(&mut self) -> i32 {
        match self.u16() {
            v @ ..0xff00 => i32::from(v) * 2,
            _ => self.i32(),
        }
    }

    /// A length or count: a byte under 0xf0, twice the u16 after 0xf0-0xfe,
    /// or any i32 after 0xff.
    fn len(&mut self) -> i32 {
        match self.u8() {
            b @ ..0xf0 => b.into(),
            0xf0..=0xfe => i32::from(self.u16()) * 2,
            _ => self.i32(),
        }
    }

    /// Flags or an enum: a byte under 0xf0 modulo `max + 1`, or any i32.
    fn small(&mut self, max: i32) -> i32 {
        match self.u8() {
            b @ ..0xf0 => i32::from(b) % (max + 1),
            _ => self.i32(),
        }
    }

    /// An offset, size or time: a byte under 0xc0, the u16 after 0xc0-0xef,
    /// or any i64.
    fn wide(&mut self) -> i64 {
        match self.u8() {
            b @ ..0xc0 => b.into(),
            ..0xf0 => self.u16().into(),
            _ => self.i64(),
        }
    }

    fn rights(&mut self) -> i64 {
        match self.u8() {
            b @ ..0xf0 => RIGHTS[usize::from(b) % RIGHTS.len()],
            _ => self.i64(),
        }
    }
}

/// One call, decoded: the function and its wasm arguments.
struct Call {
    func: usize,
    params: Vec<Val>,
}

impl Call {
    /// Decodes the next call from `input`, writing its structured arguments
    /// to `mem`.
    fn decode(input: &mut Input<'_>, mem: &mut [u8]) -> Call {
        let func = usize::from(input.u8()) % FUNCS.len();
        let mut params = Vec::new();
        for (pos, kind) in FUNCS[func].1.iter().enumerate() {
            let at = SCRATCH + SCRATCH_STRIDE * pos as u32;
            let write = |mem: &mut [u8], offset: usize, bytes: &[u8]| {
                let start = at as usize + offset;
                mem[start..start + bytes.len()].copy_from_slice(bytes);
            };
            match *kind {
                Fd => params.push(Val::I32(input.fd())),
                Ptr => params.push(Val::I32(input.ptr())),
                Len => params.push(Val::I32(input.len())),
                Small(max) => params.push(Val::I32(input.small(max))),
                Wide => params.push(Val::I64(input.wide())),
                Rights => params.push(Val::I64(input.rights())),
                // A name of the tree, the bytes given (up to 63), or any
                // pointer and length.
                Path => {
                    let name = match input.u8() {
                        b @ ..0x80 => NAMES[usize::from(b) % NAMES.len()],
                        b @ ..0xc0 => input.take(usize::from(b - 0x80)),
                        _ => {
                            params.extend([Val::I32(input.ptr()), Val::I32(input.len())]);
                            continue;
                        }
                    };
                    write(mem, 0, name);
                    params.extend([Val::I32(at as i32), Val::I32(name.len() as i32)]);
                }
                // Up to 3 `(buf, len)` pairs, or any pointer and count.
                Iovs => match input.u8() {
                    b @ ..0xf0 => {
                        let count = b % 4;
                        for i in 0..usize::from(count) {
                            let (buf, len) = (input.ptr(), input.len());
                            write(mem, i * 8, &buf.to_le_bytes());
                            write(mem, i * 8 + 4, &len.to_le_bytes());
                        }
                        params.extend([Val::I32(at as i32), Val::I32(count.into())]);
                    }
                    _ => params.extend([Val::I32(input.ptr()), Val::I32(input.len())]),
                },
                // Up to 3 subscriptions (userdata, tag, clock id or
                // descriptor, timeout, flags), or any pointer and count.
                Subs => match input.u8() {
                    b @ ..0xf0 => {
                        let count = b % 4;
                        for i in 0..usize::from(count) {
                            let mut sub = [0u8; 48];
                            sub[0] = input.u8();
                            sub[8] = input.u8() % 4;
                            sub[16] = input.u8();
                            sub[24..26].copy_from_slice(&input.u16().to_le_bytes());
                            sub[40] = input.u8() % 4;
                            write(mem, i * 48, &sub);
                        }
                        params.extend([Val::I32(at as i32), Val::I32(count.into())]);
                    }
                    _ => params.extend([Val::I32(input.ptr()), Val::I32(input.len())]),
                },
            }
        }
        if FUNCS[func].0 == "poll_oneoff" {
            // (subs, count, events, out) as decoded; the call takes
            // (subs, events, count, out).
            params.swap(1, 2);
            let subs = u64::from(params[0].unwrap_i32() as u32);
            let count = u64::from(params[2].unwrap_i32() as u32);
            // No subscription may wait long: every timeout (bytes 24..32 of
            // each 48-byte subscription in memory) becomes a short one.
            for i in 0..count {
                let at = (subs + i * 48 + 24) as usize;
                let Some(field) = mem.get_mut(at..at + 8) else {
                    break;
                };
                let timeout = u64::from_le_bytes(field.try_into().unwrap()) % MAX_TIMEOUT;
                field.copy_from_slice(&timeout.to_le_bytes());
            }
        }
        Call { func, params }
    }
}

/// The directory an input runs in: `outer/sandbox` is preopened as
/// `/sandbox`, `outer/sandbox/d` as `/d`; `outer/sibling` is outside both.
/// Removed when dropped (also when a check fails).
struct Tree {
    outer: PathBuf,
}

impl Tree {
    fn new(base: &Path) -> Tree {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let outer = base.join(format!("wpack-fuzz-wasi-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&outer);
        std::fs::create_dir(&outer).unwrap();
        let tree = Tree { outer };
        let root = &tree.outer;
        calls::fill_tree(root);
        tree
    }

    fn sandbox(&self) -> PathBuf {
        self.outer.join("sandbox")
    }

    /// What lies outside the preopened directories: it must not change.
    fn outside(&self) -> (Vec<String>, Vec<u8>) {
        let mut names: Vec<String> = std::fs::read_dir(&self.outer)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        (names, std::fs::read(self.outer.join("sibling")).unwrap())
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.outer);
    }
}

/// The module, its instantiation and exports, resolved once per process.
pub struct Harness {
    pre: InstancePre<WasiCtx>,
    /// The shims, by function index.
    exports: Vec<ModuleExport>,
    /// Where the trees are made.
    base: PathBuf,
    trace: bool,
}

/// The harness, built on first use. The fuzz target builds it before
/// fuzzing starts, so that the leak check (`bodies::run`) does not count
/// it against the first input.
pub fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(Harness::new)
}

/// Runs once in [`Harness::new`], so that what wasmtime and the host set
/// up on first use (per thread or per process) is in place before any
/// input is measured: opens `a`, reads it, lists the sandbox, makes a
/// directory, traps on a pointer out of bounds, exits. (Descriptors are
/// handed out as in wasmtime, the highest freed first: with stdio closed,
/// the first file a program opens is 2, then 1, 0, 5.)
const WARM_UP: &[u8] = &[
    0, // no fill
    31, 3, 1, 0, 0, 0, 3, 0, 0x00, 0x80, // path_open(3, follow, "a", rw) -> fd 2
    20, 2, 1, 0x80, 0x00, 64, 0x00, 0x01, // fd_read(2, [(0x100, 64)], 0x200)
    21, 3, 0x00, 0x02, 200, 0, 0x00, 0x01, // fd_readdir(3, 0x400, 200, 0, 0x200)
    27, 3, 10, // path_create_directory(3, "n")
    20, 2, 0xff, 0x00, 0xff, 0x00, 0, 0, 0x7f, 0, 0, 0, // fd_read(2, out of bounds)
    38, 0, // proc_exit(0)
];

impl Harness {
    fn new() -> Harness {
        let engine = Engine::default();
        let wasm = wat::parse_str(module_text()).unwrap();
        let module = Module::new(&engine, wasm).unwrap();
        let mut linker = Linker::new(&engine);
        wpack_wasi::add_to_linker(&mut linker).unwrap();
        let exports = FUNCS
            .iter()
            .map(|(name, _)| module.get_export_index(name).unwrap())
            .collect();
        let base = Path::new("/dev/shm");
        let base = if cfg!(target_os = "linux") && base.is_dir() {
            base.to_owned()
        } else {
            std::env::temp_dir()
        };
        let harness = Harness {
            pre: linker.instantiate_pre(&module).unwrap(),
            exports,
            base,
            trace: std::env::var_os("WPACK_FUZZ_TRACE").is_some_and(|v| v != "0"),
        };
        harness.run(WARM_UP);
        harness
    }

    /// Calls the shim of function `func`: its errno, or the trap (or exit)
    /// that ended it.
    fn call(
        &self,
        store: &mut Store<WasiCtx>,
        instance: &Instance,
        func: usize,
        params: &[Val],
    ) -> wasmtime::Result<i32> {
        let export = instance.get_module_export(&mut *store, &self.exports[func]);
        let func = export.and_then(|e| e.into_func()).expect("a shim");
        let mut results = [Val::I32(0)];
        let results = &mut results[..func.ty(&*store).results().len()];
        func.call(&mut *store, params, results)?;
        Ok(results.first().map_or(0, |v| v.unwrap_i32()))
    }

    /// Runs the calls `data` describes over a fresh tree and checks each
    /// result, then that nothing outside the preopens changed.
    pub fn run(&self, data: &[u8]) {
        let tree = Tree::new(&self.base);
        let before = tree.outside();
        let mut ctx = WasiCtx::new();
        ctx.set_args(vec!["prog".into(), "--flag".into(), "é".into()]);
        ctx.set_env(vec![("A".into(), "1".into()), ("EMPTY".into(), "".into())]);
        let sandbox = tree.sandbox();
        ctx.preopen(
            Box::new(HostDir::open_ambient(&sandbox).unwrap()),
            "/sandbox",
        );
        ctx.preopen(
            Box::new(HostDir::open_ambient(&sandbox.join("d")).unwrap()),
            "/d",
        );
        let mut store = Store::new(self.pre.module().engine(), ctx);
        let instance = self.pre.instantiate(&mut store).unwrap();

        // No call may read the fuzzer's stdin or write to its output.
        let fd_close = FUNCS.iter().position(|f| f.0 == "fd_close").unwrap();
        for fd in 0..3 {
            let errno = self.call(&mut store, &instance, fd_close, &[Val::I32(fd)]);
            assert_eq!(errno.ok(), Some(0), "closing fd {fd}");
        }

        let memory = instance.get_memory(&mut store, "memory").unwrap();
        let mut input = Input(data);
        let fill_len = input.u8();
        let fill = input.take(fill_len.into());
        if !fill.is_empty() {
            for (dst, src) in memory
                .data_mut(&mut store)
                .iter_mut()
                .zip(fill.iter().cycle())
            {
                *dst = *src;
            }
        }

        for _ in 0..MAX_CALLS {
            if input.0.is_empty() {
                break;
            }
            let call = Call::decode(&mut input, memory.data_mut(&mut store));
            let (name, params) = (FUNCS[call.func].0, &call.params);
            let result = self.call(&mut store, &instance, call.func, params);
            if self.trace {
                eprintln!("{name}{params:?} -> {result:?}");
            }
            match result {
                Ok(_) if name == "proc_exit" => panic!("proc_exit returned"),
                Err(e) if name == "proc_exit" => {
                    let status = e.downcast_ref::<I32Exit>().map(|e| e.0);
                    assert_eq!(status, Some(params[0].unwrap_i32()), "{e:?}");
                    break;
                }
                Ok(errno) => assert!(
                    (0..=ERRNO_MAX).contains(&errno),
                    "{name}{params:?} returned {errno}"
                ),
                Err(e) => assert!(
                    e.downcast_ref::<I32Exit>().is_none(),
                    "{name}{params:?} exited: {e:?}"
                ),
            }
        }
        drop(store);
        assert_eq!(tree.outside(), before, "changed outside the preopens");
    }
}

/// The fuzz target's body.
pub fn wasi_host(data: &[u8]) {
    harness().run(data);
}
