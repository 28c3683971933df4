//! Core modules: instantiated with WASI preview 1 (plus the embedded-file
//! layer when there are `--include` trees) and run from `_start`.

use std::fs::File;
use std::ptr::NonNull;

use anyhow::{Result, anyhow};
use wasmtime::{Engine, Linker, Module, Store};
use wasmtime_wasi::I32Exit;

use super::Runnable;
use super::embedded::{self, Embedded, Host};
use super::run::wasi_context;
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

    fn run(
        self,
        engine: &Engine,
        mut manifest: Manifest,
        file: Option<&'static [u8]>,
    ) -> Result<wasmtime::Result<()>> {
        let (mut builder, first_tree_fd) = wasi_context(&manifest)?;
        let mut linker: Linker<Host> = Linker::new(engine);
        wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |host: &mut Host| &mut host.wasi)
            .and_then(|()| native_proc_exit(&mut linker))
            .map_err(|e| anyhow!("cannot set up WASI: {e}"))?;
        // The store takes the trees; the manifest is not read after this.
        let trees = std::mem::take(&mut manifest.trees);
        if !trees.is_empty() {
            embedded::add_to_linker(&mut linker)
                .map_err(|e| anyhow!("cannot set up the embedded files: {e}"))?;
        }
        let mut store = Store::new(
            engine,
            Host {
                wasi: builder.build_p1(),
                embedded: Embedded::new(file.unwrap_or_default(), trees, first_tree_fd),
            },
        );
        Ok(linker
            .instantiate(&mut store, &self)
            .and_then(|instance| instance.get_typed_func::<(), ()>(&mut store, "_start"))
            .and_then(|start| start.call(&mut store, ())))
    }
}

/// Replaces wasmtime-wasi's `proc_exit`, which refuses statuses of 126 and
/// above, with one that exits like a native program: `exit(255)` gives 255,
/// `exit(256)` gives 0 (the low 8 bits, as the kernel keeps them).
fn native_proc_exit(linker: &mut Linker<Host>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    linker.func_wrap(
        "wasi_snapshot_preview1",
        "proc_exit",
        |status: i32| -> wasmtime::Result<()> { Err(wasmtime::Error::new(I32Exit(status))) },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}
