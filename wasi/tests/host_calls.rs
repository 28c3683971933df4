//! Every host function, called with arbitrary arguments over arbitrary guest
//! memory: each call returns an errno (0..=76) or traps, never panics, never
//! hangs, and nothing appears outside the preopened directory.
//!
//! One module imports all 46 functions of `wasi_snapshot_preview1` and
//! exports a shim for each that forwards its parameters; each case runs a
//! short random sequence of calls in a fresh store, over a fresh directory.
//! `PROPTEST_CASES` overrides the number of cases.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use wasmtime::{Engine, Instance, InstancePre, Linker, Module, Store, Val};
use wpack_wasi::{HostDir, I32Exit, WasiCtx};

mod calls;
use calls::*;

/// Cases when `PROPTEST_CASES` is not set: 2 to 20 s in release, most of it
/// making and removing the directories.
const CASES: u32 = 2000;

/// One argument as drawn; structured ones are written to memory at the
/// call.
#[derive(Clone, Debug)]
enum Arg {
    I32(i32),
    I64(i64),
    /// A pointer and a length or count, as given.
    Raw(i32, i32),
    /// One of [`NAMES`], written to the scratch region.
    Name(&'static [u8]),
    /// `(buf, len)` pairs, written to the scratch region.
    Iovecs(Vec<(u32, u32)>),
    /// Subscriptions, written to the scratch region.
    Subscriptions(Vec<Sub>),
}

/// A `subscription`: the tag picks clock (0), fd_read (1), fd_write (2).
#[derive(Clone, Debug)]
struct Sub {
    userdata: u64,
    tag: u8,
    /// The clock id, or the descriptor.
    id_or_fd: u32,
    /// Cut to under 2 ms at the call.
    timeout: u64,
    precision: u64,
    flags: u16,
}

impl Sub {
    fn encode(&self) -> [u8; 48] {
        let mut b = [0u8; 48];
        b[0..8].copy_from_slice(&self.userdata.to_le_bytes());
        b[8] = self.tag;
        b[16..20].copy_from_slice(&self.id_or_fd.to_le_bytes());
        b[24..32].copy_from_slice(&self.timeout.to_le_bytes());
        b[32..40].copy_from_slice(&self.precision.to_le_bytes());
        b[40..42].copy_from_slice(&self.flags.to_le_bytes());
        b
    }
}

#[derive(Clone, Debug)]
struct Call {
    func: usize,
    args: Vec<Arg>,
}

#[derive(Clone, Debug)]
struct Case {
    /// Repeated over all of memory (zeros if empty).
    fill: Vec<u8>,
    /// A few likely opens, then anything.
    calls: Vec<Call>,
}

fn ptr() -> impl Strategy<Value = i32> {
    prop_oneof![
        5 => (0..70000 / 8).prop_map(|p| p * 8),
        2 => 0..70000,
        1 => (MEM as i32 - 16)..(MEM as i32 + 16),
        1 => any::<i32>(),
    ]
}

fn len() -> impl Strategy<Value = i32> {
    prop_oneof![3 => 0..16, 2 => 0..70000, 1 => any::<i32>()]
}

fn count() -> impl Strategy<Value = i32> {
    prop_oneof![4 => 0..4, 1 => 0..70000, 1 => any::<i32>()]
}

fn small(max: i32) -> impl Strategy<Value = i32> {
    prop_oneof![2 => Just(0), 6 => 0..=max, 1 => 0..64, 1 => any::<i32>()]
}

fn rights() -> impl Strategy<Value = i64> {
    prop_oneof![
        2 => 0..(1i64 << 30),
        1 => select(vec![0, 2, 64, 66, (1 << 30) - 1]),
        1 => any::<i64>(),
    ]
}

fn sub() -> impl Strategy<Value = Sub> {
    // Mostly a valid clock (realtime or monotonic, relative or absolute)
    // or a descriptor's readiness; else anything.
    let (tag, id_or_fd, flags) = (
        any::<u8>().boxed(),
        any::<u32>().boxed(),
        any::<u16>().boxed(),
    );
    let clock = (
        Just(0u8).boxed(),
        prop_oneof![8 => 0..2u32, 1 => 0..6u32].boxed(),
        prop_oneof![2 => Just(0u16), 1 => Just(1u16)].boxed(),
    );
    let fd = (1..3u8).boxed();
    let fd = (fd, (0..6u32).boxed(), any::<u16>().boxed());
    (
        any::<u64>(),
        prop_oneof![4 => clock, 2 => fd, 1 => (tag, id_or_fd, flags)],
        any::<u64>(),
        any::<u64>(),
    )
        .prop_map(
            |(userdata, (tag, id_or_fd, flags), timeout, precision)| Sub {
                userdata,
                tag,
                id_or_fd,
                timeout,
                precision,
                flags,
            },
        )
}

fn arg(kind: Kind) -> BoxedStrategy<Arg> {
    match kind {
        Fd => prop_oneof![5 => 0..3, 3 => 3..6, 1 => 0..16, 1 => any::<i32>()]
            .prop_map(Arg::I32)
            .boxed(),
        Ptr => ptr().prop_map(Arg::I32).boxed(),
        Len => len().prop_map(Arg::I32).boxed(),
        Small(max) => small(max).prop_map(Arg::I32).boxed(),
        Wide => prop_oneof![
            3 => 0..4096i64,
            2 => any::<i64>(),
            1 => select(vec![-1, i64::MIN, i64::MAX, 1 << 32, 1 << 40, 1 << 62]),
        ]
        .prop_map(Arg::I64)
        .boxed(),
        Rights => rights().prop_map(Arg::I64).boxed(),
        Path => prop_oneof![
            4 => select(NAMES).prop_map(Arg::Name),
            1 => (ptr(), len()).prop_map(|(p, l)| Arg::Raw(p, l)),
        ]
        .boxed(),
        Iovs => {
            let buf = prop_oneof![
                3 => 0..70000u32,
                1 => (MEM - 64)..(MEM + 64),
                1 => any::<u32>(),
            ];
            let len = prop_oneof![3 => 0..64u32, 1 => 0..70000u32, 1 => any::<u32>()];
            prop_oneof![
                4 => vec((buf, len), 0..4).prop_map(Arg::Iovecs),
                1 => (ptr(), count()).prop_map(|(p, n)| Arg::Raw(p, n)),
            ]
            .boxed()
        }
        Subs => prop_oneof![
            4 => vec(sub(), 1..3).prop_map(Arg::Subscriptions),
            1 => Just(Arg::Subscriptions(Vec::new())),
            1 => (ptr(), count()).prop_map(|(p, n)| Arg::Raw(p, n)),
        ]
        .boxed(),
    }
}

fn call() -> impl Strategy<Value = Call> {
    (0..FUNCS.len()).prop_flat_map(|func| {
        let args: Vec<_> = FUNCS[func].1.iter().map(|k| arg(*k)).collect();
        args.prop_map(move |args| Call { func, args })
    })
}

/// A `path_open` likely to succeed, so that later calls find files open.
fn open() -> impl Strategy<Value = Call> {
    // Mostly an existing file of the first preopen, for reading and
    // writing; else more of everything.
    let file = (
        Just(3),
        Just(1),
        select(vec![&b"a"[..], b"b", b"l", b"d/c", b"m/c"]),
        Just(0),
        select(vec![2i64, 64, 66]),
        Just(0i64),
        select(vec![0, 1]),
    );
    let any_open = (
        prop_oneof![3 => Just(3), 1 => Just(4)],
        0..=1,
        prop_oneof![
            3 => select(vec![&b"a"[..], b"c", b"d", b"d/c", b"l", b"m", b"n"]),
            1 => select(NAMES),
        ],
        prop_oneof![2 => Just(0), 1 => Just(1), 1 => 0..16],
        prop_oneof![Just(2), Just(64), Just(66), 0..(1i64 << 30)],
        0..(1i64 << 30),
        select(vec![0, 0, 1, 4, 5]),
    );
    prop_oneof![2 => file, 1 => any_open].prop_map(
        |(fd, lookup, name, oflags, base, inheriting, fdflags)| Call {
            func: FUNCS.iter().position(|f| f.0 == "path_open").unwrap(),
            args: vec![
                Arg::I32(fd),
                Arg::I32(lookup),
                Arg::Name(name),
                Arg::I32(oflags),
                Arg::I64(base),
                Arg::I64(inheriting),
                Arg::I32(fdflags),
                Arg::I32(0x10000),
            ],
        },
    )
}

fn case() -> impl Strategy<Value = Case> {
    (
        vec(any::<u8>(), 0..256),
        vec(open(), 0..4),
        vec(call(), 1..8),
    )
        .prop_map(|(fill, mut calls, more)| {
            calls.extend(more);
            Case { fill, calls }
        })
}

/// The call's wasm arguments; writes its structured arguments to `mem`.
fn materialize(call: &Call, mem: &mut [u8]) -> Vec<Val> {
    let mut vals = Vec::new();
    for (pos, arg) in call.args.iter().enumerate() {
        let at = SCRATCH + SCRATCH_STRIDE * pos as u32;
        let mut write = |bytes: &[u8], offset: usize| {
            let start = at as usize + offset;
            mem[start..start + bytes.len()].copy_from_slice(bytes);
        };
        match arg {
            Arg::I32(v) => vals.push(Val::I32(*v)),
            Arg::I64(v) => vals.push(Val::I64(*v)),
            Arg::Raw(p, n) => vals.extend([Val::I32(*p), Val::I32(*n)]),
            Arg::Name(name) => {
                write(name, 0);
                vals.extend([Val::I32(at as i32), Val::I32(name.len() as i32)]);
            }
            Arg::Iovecs(iovs) => {
                for (i, (buf, len)) in iovs.iter().enumerate() {
                    write(&buf.to_le_bytes(), i * 8);
                    write(&len.to_le_bytes(), i * 8 + 4);
                }
                vals.extend([Val::I32(at as i32), Val::I32(iovs.len() as i32)]);
            }
            Arg::Subscriptions(subs) => {
                for (i, sub) in subs.iter().enumerate() {
                    write(&sub.encode(), i * 48);
                }
                vals.extend([Val::I32(at as i32), Val::I32(subs.len() as i32)]);
            }
        }
    }
    if FUNCS[call.func].0 == "poll_oneoff" {
        // (subs, count, events, out) as drawn; the call takes
        // (subs, events, count, out).
        vals.swap(1, 2);
        let subs = vals[0].unwrap_i32() as u32 as u64;
        let count = vals[2].unwrap_i32() as u32 as u64;
        // No subscription may wait long: every timeout (bytes 24..32 of
        // each 48-byte subscription in memory) becomes one under 2 ms.
        for i in 0..count {
            let at = (subs + i * 48 + 24) as usize;
            let Some(field) = mem.get_mut(at..at + 8) else {
                break;
            };
            let timeout = u64::from_le_bytes(field.try_into().unwrap()) % 2_000_000;
            field.copy_from_slice(&timeout.to_le_bytes());
        }
    }
    vals
}

/// The current call and when it started, for the watchdog.
static CURRENT: Mutex<Option<(Instant, String)>> = Mutex::new(None);

/// Ends the process if one call runs for more than a minute: a hang fails
/// the test instead of stalling it.
fn start_watchdog() {
    std::thread::spawn(|| {
        loop {
            std::thread::sleep(Duration::from_secs(1));
            let current = CURRENT.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((since, call)) = &*current
                && since.elapsed() > Duration::from_secs(60)
            {
                eprintln!("host call hangs: {call}");
                std::process::exit(101);
            }
        }
    });
}

/// Marks `call` as running until dropped (also when the call panics).
struct Running;

impl Running {
    fn start(call: String) -> Running {
        *CURRENT.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), call));
        Running
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        *CURRENT.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

/// The directory a case runs in: `outer/sandbox` is preopened as
/// `/sandbox`, `outer/sandbox/d` as `/d`; `outer/sibling` is outside both.
fn make_tree() -> tempfile::TempDir {
    let outer = tempfile::tempdir().unwrap();
    let root = outer.path();
    calls::fill_tree(root);
    outer
}

/// What lies outside the preopened directory: it must not change.
fn outside(root: &std::path::Path) -> (Vec<String>, Vec<u8>) {
    let mut names: Vec<String> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    (names, std::fs::read(root.join("sibling")).unwrap())
}

struct Harness {
    pre: InstancePre<WasiCtx>,
}

impl Harness {
    fn new() -> Harness {
        let engine = Engine::default();
        let wasm = wat::parse_str(module_text()).unwrap();
        let module = Module::new(&engine, wasm).unwrap();
        let mut linker = Linker::new(&engine);
        wpack_wasi::add_to_linker(&mut linker).unwrap();
        Harness {
            pre: linker.instantiate_pre(&module).unwrap(),
        }
    }

    fn run(&self, case: &Case) -> Result<(), TestCaseError> {
        let tree = make_tree();
        let before = outside(tree.path());
        let mut ctx = WasiCtx::new();
        ctx.set_args(vec!["prog".into(), "--flag".into(), "é".into()]);
        ctx.set_env(vec![("A".into(), "1".into()), ("EMPTY".into(), "".into())]);
        let sandbox = tree.path().join("sandbox");
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

        // No call may read the test's stdin or write to its output.
        for fd in 0..3 {
            let errno = call_export(&mut store, &instance, "fd_close", &[Val::I32(fd)]);
            prop_assert_eq!(errno.ok(), Some(0), "closing fd {}", fd);
        }

        let memory = instance.get_memory(&mut store, "memory").unwrap();
        if !case.fill.is_empty() {
            for (dst, src) in memory
                .data_mut(&mut store)
                .iter_mut()
                .zip(case.fill.iter().cycle())
            {
                *dst = *src;
            }
        }

        for call in &case.calls {
            let name = FUNCS[call.func].0;
            let params = materialize(call, memory.data_mut(&mut store));
            let running = Running::start(format!("{name}{params:?}"));
            let result = call_export(&mut store, &instance, name, &params);
            drop(running);
            match (name, result) {
                ("proc_exit", Ok(_)) => return Err(TestCaseError::fail("proc_exit returned")),
                ("proc_exit", Err(e)) => {
                    let status = e.downcast_ref::<I32Exit>().map(|e| e.0);
                    prop_assert_eq!(status, Some(params[0].unwrap_i32()));
                }
                (_, Ok(errno)) => prop_assert!(
                    (0..=ERRNO_MAX).contains(&errno),
                    "{}{:?} returned {}",
                    name,
                    params,
                    errno
                ),
                (_, Err(e)) => prop_assert!(
                    e.downcast_ref::<I32Exit>().is_none(),
                    "{} exited: {:?}",
                    name,
                    e
                ),
            }
        }
        drop(store);
        prop_assert_eq!(outside(tree.path()), before, "changed outside the preopens");
        Ok(())
    }
}

/// Calls the shim `name`: its errno, or the trap (or exit) that ended it.
fn call_export(
    store: &mut Store<WasiCtx>,
    instance: &Instance,
    name: &str,
    params: &[Val],
) -> wasmtime::Result<i32> {
    let func = instance.get_func(&mut *store, name).unwrap();
    let mut results = vec![Val::I32(0); func.ty(&*store).results().len()];
    func.call(&mut *store, params, &mut results)?;
    Ok(results.first().map_or(0, |v| v.unwrap_i32()))
}

#[test]
fn the_table_lists_all_46_functions() {
    assert_eq!(FUNCS.len(), 46);
    let mut names: Vec<_> = FUNCS.iter().map(|f| f.0).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 46);
}

#[test]
fn every_host_function_survives_arbitrary_calls() {
    let harness = Harness::new();
    start_watchdog();
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CASES);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&case(), |case| harness.run(&case));
    if let Err(e) = result {
        panic!("{e}");
    }
}
