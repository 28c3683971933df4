//! Core modules: instantiated with wpack's own WASI preview 1 host
//! (`wpack-wasi`) and run from `_start`. Host directories and embedded
//! trees (`--include`) are preopens of the same descriptor table.

use std::fs::File;
use std::ptr::NonNull;

use anyhow::{Result, anyhow};
use wasmtime::{Engine, Linker, Module, Store};
use wpack_wasi::{HostDir, I32Exit, WasiCtx};

use super::Runnable;
use super::run::setup;
use crate::embedded::EmbeddedDir;
use crate::manifest::Manifest;

impl Runnable for Module {
    const KIND: &'static str = "module";

    unsafe fn from_file(engine: &Engine, file: File) -> wasmtime::Result<Self> {
        // SAFETY: passed on to the caller.
        unsafe { Module::deserialize_open_file(engine, file) }
    }

    unsafe fn from_raw(engine: &Engine, code: NonNull<[u8]>) -> wasmtime::Result<Self> {
        // SAFETY: passed on to the caller.
        unsafe { Module::deserialize_raw(engine, code) }
    }

    fn exit_request(error: &wasmtime::Error) -> Option<i32> {
        // Any status, as a native program's: `exit(255)` gives 255 and
        // `exit(256)` 0 (wasmtime refuses statuses from 126 on).
        error.downcast_ref::<I32Exit>().map(|exit| exit.0)
    }

    fn run(
        self,
        engine: &Engine,
        mut manifest: Manifest,
        argv: Vec<std::ffi::OsString>,
        file: Option<&'static [u8]>,
    ) -> Result<wasmtime::Result<()>> {
        let setup = setup(&manifest, argv)?;
        let mut wasi = WasiCtx::new();
        wasi.set_args(setup.args);
        wasi.set_env(setup.env);
        for dir in &setup.dirs {
            let host = HostDir::open_ambient(&dir.host).map_err(|e| dir.error(e))?;
            wasi.preopen(Box::new(host), &dir.guest);
        }
        // Embedded trees come after the host directories, in the order given.
        let file = file.unwrap_or_default();
        let trees = EmbeddedDir::trees(file, std::mem::take(&mut manifest.trees));
        for tree in &trees {
            wasi.preopen(Box::new(tree.clone()), tree.guest());
        }
        // What a pre-initialized program opened in its trees at pack time:
        // its memory holds these numbers.
        for open in manifest.init.iter().flat_map(|init| &init.open) {
            let desc = usize::try_from(open.tree)
                .ok()
                .and_then(|tree| trees.get(tree))
                .and_then(|tree| tree.reopen(open))
                .ok_or_else(|| {
                    anyhow!("the packed file is damaged (a descriptor of its pre-initialization names no embedded file); download or pack the program again")
                })?;
            wasi.restore(open.fd, desc);
        }
        let mut linker: Linker<WasiCtx> = Linker::new(engine);
        wpack_wasi::add_to_linker(&mut linker).map_err(|e| anyhow!("cannot set up WASI: {e}"))?;
        let mut store = Store::new(engine, wasi);
        Ok(linker
            .instantiate(&mut store, &self)
            .and_then(|instance| instance.get_typed_func::<(), ()>(&mut store, "_start"))
            .and_then(|start| start.call(&mut store, ())))
    }
}
