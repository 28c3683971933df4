//! Pre-initialization (`--init-func`): run a module's start-up work once,
//! at pack time, and pack a snapshot of the state it leaves.
//!
//! Wizer does the WebAssembly half: [`Wizer::instrument`] exports every
//! memory and global, and [`Wizer::snapshot`] writes their contents back as
//! data segments and global initializers of a new module. The half between
//! them is ours: instantiate the instrumented module with wpack's own WASI
//! host in this process, run `_initialize` (if exported) and the init
//! function, and read the instance's state. wasmtime-wizer's own driver
//! (its `wasmtime` feature) is not used: it turns on wasmtime features
//! (async, cache, wit-parser, ...) that would merge into the packer's
//! wasmtime.
//!
//! What the init sees is what the program will see at run time and can be
//! fixed now: the `--arg` arguments, the `--env NAME=VALUE` values and the
//! `--include` trees (the same bytes). Everything that may differ where it
//! runs is absent: stdin (closed), host directories (each `--dir` is
//! preopened under its guest name, so that the preopen list a C library
//! caches at init is the one of run time, but every use of it fails with
//! `ENOTCAPABLE`), inherited variables and `--env NAME` values. Its stdout
//! and stderr go to the packer's stderr.

use std::collections::{BTreeMap, HashMap};

use thiserror::Error;
use wasmtime::wasmparser::{Parser, Payload};
use wasmtime::{Config, Engine, Instance, Linker, Module, Store, Trap, WasmBacktrace};
use wasmtime_wizer::{InstanceState, SnapshotVal, Wizer};
use wpack_stub::embedded::EmbeddedDir;
use wpack_stub::tree::Tree;
use wpack_stub::{Init, engine, payload, trap};
use wpack_wasi::ctx::Stdio;
use wpack_wasi::fs::{Dir, Entries, Filestat, FsResult, NewTime, OpenOptions, Opened};
use wpack_wasi::{Errno, I32Exit, WasiCtx};

/// What `--init-func`, `--keep-init-func` and `--rename-func` ask for.
#[derive(Debug, Clone)]
pub struct Request {
    pub func: String,
    pub keep: bool,
    /// (DST, SRC) pairs.
    pub renames: Vec<(String, String)>,
}

/// What the program is given while it initializes.
pub struct World<'a> {
    /// `argv[0]`: the name the packed file will have (`output::program_name`).
    pub program_name: String,
    /// `--arg` values.
    pub args: &'a [String],
    /// `--env NAME=VALUE` values, in order (a later one wins).
    pub env: Vec<(String, String)>,
    /// The guest names of `--dir` directories, preopened but unusable.
    pub dirs: Vec<String>,
    /// `--host-fs`: its preopens depend on the machine it runs on.
    pub host_fs: bool,
    /// `--include` trees and their files' bytes, in manifest order.
    pub trees: &'a [Tree],
    pub contents: &'a [Vec<u8>],
}

/// The pre-initialized module and what the manifest records of it.
pub struct Snapshot {
    pub wasm: Vec<u8>,
    pub init: Init,
}

/// Why a module cannot be pre-initialized, phrased to follow its file name.
#[derive(Debug, Error)]
pub enum InitError {
    #[error(
        "--init-func is for core modules; this is a WASI 0.2 component. Pre-initialize \
         it with `wasmtime wizer` first and pack its output, or pack the wasm32-wasip1 \
         build with --init-func"
    )]
    Component,
    #[error("has no export `{func}` to run with --init-func; {candidates}")]
    NoSuchExport { func: String, candidates: String },
    #[error(
        "--init-func {func}: the export is a function of type {found}, but an init \
         function takes no parameters and returns nothing (`[] -> []`)"
    )]
    WrongSignature { func: String, found: String },
    #[error(
        "--init-func _start: `_start` runs the program; name the export that only \
         initializes it (e.g. `wizer-initialize`)"
    )]
    IsStart,
    #[error("--rename-func {dst}={src}: it exports no function `{src}` to rename")]
    NoRenameSource { dst: String, src: String },
    #[error("--init-func {func}: the export is a {kind}, not a function")]
    NotAFunction { func: String, kind: &'static str },
    #[error(
        "cannot be pre-initialized: {0} (wizer cannot snapshot this module; pack it \
         without --init-func)"
    )]
    Unsupported(String),
    #[error(
        "cannot be pre-initialized: it declares a shared memory (built with threads), \
         whose contents wizer cannot snapshot; pack it without --init-func or build it \
         without atomics"
    )]
    SharedMemory,
    #[error("--init-func {func}: the init function trapped: {message}")]
    Trapped { func: String, message: String },
    #[error(
        "--init-func {func}: the init function called exit({status}) (proc_exit); it must \
         return to be snapshotted"
    )]
    Exited { func: String, status: i32 },
    #[error("--init-func {func}: the init function failed: {message}")]
    Failed { func: String, message: String },
    #[error(
        "--init-func {func}: the init function listed the preopened directories, which \
         --host-fs decides only where the program runs (the C library keeps the list it \
         read); use --dir or --include instead of --host-fs, or open no file at init"
    )]
    HostFsPreopens { func: String },
    #[error("cannot be pre-initialized: {0}")]
    Internal(String),
}

/// Runs the init function of `wasm` in `world` and returns the snapshot.
/// `progress` is called every few seconds while the init runs.
pub fn run(wasm: &[u8], request: &Request, world: &World) -> Result<Snapshot, InitError> {
    check_memories(wasm)?;
    let mut wizer = Wizer::new();
    wizer.init_func(&request.func).keep_init_func(request.keep);
    for (dst, src) in &request.renames {
        wizer.func_rename(dst, src);
    }
    let (cx, instrumented) = wizer
        .instrument(wasm)
        .map_err(|e| InitError::Unsupported(one_line(&e)))?;

    let mut config = Config::new();
    engine::configure(&mut config, engine::Kind::Module);
    let engine = Engine::new(&config).map_err(|e| InitError::Internal(one_line(&e)))?;
    let module = Module::new(&engine, &instrumented).map_err(|e| {
        InitError::Internal(format!("cannot compile it to run here: {}", one_line(&e)))
    })?;
    check_init_func(&module, &request.func)?;
    for (dst, src) in &request.renames {
        if !matches!(module.get_export(src), Some(wasmtime::ExternType::Func(_))) {
            return Err(InitError::NoRenameSource {
                dst: dst.clone(),
                src: src.clone(),
            });
        }
    }

    let mut store = Store::new(&engine, context(world)?);
    let mut linker: Linker<WasiCtx> = Linker::new(&engine);
    wpack_wasi::add_to_linker(&mut linker).map_err(|e| InitError::Internal(one_line(&e)))?;
    let instance = linker
        .instantiate(&mut store, &module)
        .map_err(|e| call_error(&request.func, e))?;
    if let Some(reactor) = instance.get_func(&mut store, "_initialize") {
        let reactor = reactor
            .typed::<(), ()>(&store)
            .map_err(|e| InitError::Internal(one_line(&e)))?;
        reactor
            .call(&mut store, ())
            .map_err(|e| call_error("_initialize", e))?;
    }
    if request.func != "_initialize" {
        let init = instance
            .get_typed_func::<(), ()>(&mut store, &request.func)
            .map_err(|e| InitError::Internal(one_line(&e)))?;
        init.call(&mut store, ())
            .map_err(|e| call_error(&request.func, e))?;
    }

    let ctx = store.data();
    if world.host_fs && ctx.preopens_listed() {
        return Err(InitError::HostFsPreopens {
            func: request.func.clone(),
        });
    }
    let open = ctx
        .table()
        .iter()
        .filter_map(|(fd, desc)| EmbeddedDir::locate(fd, desc))
        .collect();

    let state = State::read(&mut store, &module, instance);
    let wasm = block_on(wizer.snapshot(&cx, &mut { state }))
        .map_err(|e| InitError::Internal(one_line(&e)))?;
    Ok(Snapshot {
        wasm,
        init: Init {
            func: request.func.clone(),
            kept: request.keep,
            renames: request.renames.clone(),
            open,
        },
    })
}

/// The WASI context of the init: see the module documentation.
fn context(world: &World) -> Result<WasiCtx, InitError> {
    let mut wasi = WasiCtx::with_stdio([None, Some(Stdio::Err), Some(Stdio::Err)]);
    let mut args = vec![world.program_name.clone()];
    args.extend(world.args.iter().cloned());
    wasi.set_args(args);
    // As the stub orders them: by name, a later value winning.
    let env: BTreeMap<String, String> = world.env.iter().cloned().collect();
    wasi.set_env(env.into_iter().collect());
    for guest in &world.dirs {
        wasi.preopen(Box::new(Unavailable), guest);
    }
    // The trees' files laid out in memory as `payload::write` lays them out
    // in the packed file, so that the embedded trees of the stub serve them.
    let mut trees = world.trees.to_vec();
    let contents: Vec<&[u8]> = world.contents.iter().map(Vec::as_slice).collect();
    let placed = payload::place(&mut trees, &contents, payload::PAYLOAD_ALIGN)
        .map_err(|e| InitError::Internal(e.to_string()))?;
    let mut file = vec![0u8; placed.end as usize];
    for (offset, data) in placed.files {
        file[offset as usize..][..data.len()].copy_from_slice(data);
    }
    // Lives as long as the packer: one init per process.
    let file: &'static [u8] = Box::leak(file.into_boxed_slice());
    for tree in EmbeddedDir::trees(file, trees) {
        let guest = tree.guest().to_owned();
        wasi.preopen(Box::new(tree), &guest);
    }
    Ok(wasi)
}

/// Wizer cannot read a shared memory's contents (wasmtime gives no
/// `Memory` for one); say so before it tries. (Components never get here:
/// `pack::check_options` refuses them.)
fn check_memories(wasm: &[u8]) -> Result<(), InitError> {
    for payload in Parser::new(0).parse_all(wasm) {
        if let Ok(Payload::MemorySection(memories)) = payload
            && memories.into_iter().flatten().any(|memory| memory.shared)
        {
            return Err(InitError::SharedMemory);
        }
    }
    Ok(())
}

/// The init function must be an exported `[] -> []` function other than
/// `_start`; if it is missing, name the exports that could be meant.
fn check_init_func(module: &Module, func: &str) -> Result<(), InitError> {
    use wasmtime::ExternType;
    if func == "_start" {
        return Err(InitError::IsStart);
    }
    match module.get_export(func) {
        Some(ExternType::Func(ty)) if ty.params().len() == 0 && ty.results().len() == 0 => Ok(()),
        Some(ExternType::Func(ty)) => {
            let list = |types: &mut dyn Iterator<Item = wasmtime::ValType>| {
                types.map(|t| t.to_string()).collect::<Vec<_>>().join(", ")
            };
            Err(InitError::WrongSignature {
                func: func.into(),
                found: format!(
                    "`[{}] -> [{}]`",
                    list(&mut ty.params()),
                    list(&mut ty.results())
                ),
            })
        }
        Some(other) => Err(InitError::NotAFunction {
            func: func.into(),
            kind: match other {
                ExternType::Global(_) => "global",
                ExternType::Table(_) => "table",
                ExternType::Memory(_) => "memory",
                _ => "tag",
            },
        }),
        None => {
            let candidates: Vec<String> = module
                .exports()
                .filter(|e| !e.name().starts_with("__wizer_") && e.name() != "_start")
                .filter(|e| matches!(e.ty(), ExternType::Func(ty) if ty.params().len() == 0 && ty.results().len() == 0))
                .map(|e| format!("`{}`", e.name()))
                .collect();
            Err(InitError::NoSuchExport {
                func: func.into(),
                candidates: if candidates.is_empty() {
                    "it exports no function that takes and returns nothing (a Rust program \
                     exports one with #[unsafe(export_name = \"wizer-initialize\")])"
                        .into()
                } else {
                    format!(
                        "functions it exports that could be: {}",
                        candidates.join(", ")
                    )
                },
            })
        }
    }
}

/// How a call into the module ended, as an error: a trap (with where it
/// happened), an exit, or a host failure.
fn call_error(func: &str, error: wasmtime::Error) -> InitError {
    if let Some(exit) = error.downcast_ref::<I32Exit>() {
        return InitError::Exited {
            func: func.into(),
            status: exit.0,
        };
    }
    let backtrace = error
        .downcast_ref::<WasmBacktrace>()
        .map(trap::describe_backtrace)
        .unwrap_or_default();
    match error.downcast_ref::<Trap>() {
        Some(trap) => InitError::Trapped {
            func: func.into(),
            message: format!("{trap}{backtrace}"),
        },
        None => InitError::Failed {
            func: func.into(),
            message: format!("{}{backtrace}", one_line(&error)),
        },
    }
}

fn one_line(error: &wasmtime::Error) -> String {
    format!("{error:#}").replace('\n', " ")
}

/// The instance's state as wizer asks for it: its instrumented exports,
/// read out of the store first (the store holds the WASI context, which is
/// not `Send`, and wizer's interface wants `Send` futures).
struct State<'a> {
    globals: HashMap<String, SnapshotVal>,
    memories: HashMap<String, &'a [u8]>,
}

impl<'a> State<'a> {
    fn read(store: &'a mut Store<WasiCtx>, module: &Module, instance: Instance) -> State<'a> {
        use wasmtime::{ExternType, Val};
        let mut globals = HashMap::new();
        let mut memories = Vec::new();
        for export in module.exports() {
            let name = export.name().to_owned();
            match export.ty() {
                ExternType::Global(_) => {
                    let value = match instance
                        .get_global(&mut *store, &name)
                        .map(|g| g.get(&mut *store))
                    {
                        Some(Val::I32(x)) => SnapshotVal::I32(x),
                        Some(Val::I64(x)) => SnapshotVal::I64(x),
                        Some(Val::F32(x)) => SnapshotVal::F32(x),
                        Some(Val::F64(x)) => SnapshotVal::F64(x),
                        Some(Val::V128(x)) => SnapshotVal::V128(x.as_u128()),
                        // Wizer refuses mutable globals of reference type and
                        // snapshots no other.
                        _ => continue,
                    };
                    globals.insert(name, value);
                }
                ExternType::Memory(_) => {
                    if let Some(memory) = instance.get_memory(&mut *store, &name) {
                        memories.push((name, memory));
                    }
                }
                _ => {}
            }
        }
        let store: &'a Store<WasiCtx> = store;
        let memories = memories
            .into_iter()
            .map(|(name, memory)| (name, memory.data(store)))
            .collect();
        State { globals, memories }
    }
}

impl InstanceState for State<'_> {
    async fn global_get(&mut self, name: &str, _: wasmtime_wizer::ValType) -> SnapshotVal {
        self.globals
            .remove(name)
            .expect("wizer exports every global it snapshots, and asks once")
    }

    async fn memory_contents(&mut self, name: &str, contents: impl FnOnce(&[u8]) + Send) {
        contents(
            self.memories
                .get(name)
                .expect("wizer exports every memory; shared ones were refused"),
        )
    }
}

/// Runs a future that never waits: wizer's snapshot is `async` only so that
/// state can come from an async store; ours answers at once.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

/// A `--dir` directory at pack time: named, but every use fails as a path
/// outside every preopen does.
struct Unavailable;

impl Dir for Unavailable {
    fn open(&self, _: &str, _: &OpenOptions) -> FsResult<Opened> {
        Err(Errno::NOTCAPABLE)
    }
    fn stat(&self) -> FsResult<Filestat> {
        Err(Errno::NOTCAPABLE)
    }
    fn stat_at(&self, _: &str, _: bool) -> FsResult<Filestat> {
        Err(Errno::NOTCAPABLE)
    }
    fn set_times(&self, _: Option<NewTime>, _: Option<NewTime>) -> FsResult<()> {
        Err(Errno::NOTCAPABLE)
    }
    fn set_times_at(
        &self,
        _: &str,
        _: bool,
        _: Option<NewTime>,
        _: Option<NewTime>,
    ) -> FsResult<()> {
        Err(Errno::NOTCAPABLE)
    }
    fn entries(&self) -> FsResult<Entries> {
        Err(Errno::NOTCAPABLE)
    }
    fn create_dir(&self, _: &str) -> FsResult<()> {
        Err(Errno::NOTCAPABLE)
    }
    fn remove_dir(&self, _: &str) -> FsResult<()> {
        Err(Errno::NOTCAPABLE)
    }
    fn unlink_file(&self, _: &str) -> FsResult<()> {
        Err(Errno::NOTCAPABLE)
    }
    fn read_link(&self, _: &str) -> FsResult<String> {
        Err(Errno::NOTCAPABLE)
    }
    fn symlink(&self, _: &str, _: &str) -> FsResult<()> {
        Err(Errno::NOTCAPABLE)
    }
    fn rename(&self, _: &str, _: &dyn Dir, _: &str) -> FsResult<()> {
        Err(Errno::NOTCAPABLE)
    }
    fn hard_link(&self, _: &str, _: &dyn Dir, _: &str) -> FsResult<()> {
        Err(Errno::NOTCAPABLE)
    }
    fn sync(&self) -> FsResult<()> {
        Err(Errno::NOTCAPABLE)
    }
    fn readable(&self) -> bool {
        false
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
