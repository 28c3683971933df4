//! Command components: instantiated with WASI 0.2 (`wasi:cli/command`) and
//! run through `wasi:cli/run`.

use std::fs::File;
use std::ptr::NonNull;

use anyhow::{Result, anyhow};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::p2::bindings::sync::Command;
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::Runnable;
use super::run::setup;
use crate::manifest::Manifest;

/// The store's data: wasmtime-wasi's WASI 0.2 context and the table of
/// resources (streams, files, sockets) the program holds.
struct Host {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl Runnable for Component {
    const KIND: &'static str = "component";

    unsafe fn from_file(engine: &Engine, file: File) -> wasmtime::Result<Self> {
        let path = open_file_path(&file)?;
        // SAFETY: passed on to the caller; `file` stays open meanwhile.
        unsafe { Component::deserialize_file(engine, path) }
    }

    unsafe fn from_raw(engine: &Engine, code: NonNull<[u8]>) -> wasmtime::Result<Self> {
        // SAFETY: passed on to the caller.
        unsafe { Component::deserialize_raw(engine, code) }
    }

    fn exit_request(error: &wasmtime::Error) -> Option<i32> {
        error.downcast_ref::<I32Exit>().map(|exit| exit.0)
    }

    fn run(
        self,
        engine: &Engine,
        manifest: Manifest,
        argv: Vec<std::ffi::OsString>,
        _file: Option<&'static [u8]>,
    ) -> Result<wasmtime::Result<()>> {
        // wasmtime-wasi runs each WASI call on the tokio runtime it finds
        // current, or else on one it creates with a worker thread per CPU
        // (after reading cgroup limits to count them). One synchronous guest
        // needs one worker, for timers, stdin readiness and sockets. Never
        // dropped, like wasmtime-wasi's own: shutting it down would wait for
        // the worker.
        let tokio = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| anyhow!("cannot start the I/O runtime: {e}"))?;
        let _in_tokio = Box::leak(Box::new(tokio)).enter();

        let setup = setup(&manifest, argv)?;
        let mut builder = WasiCtxBuilder::new();
        builder.inherit_stdio();
        // The stub runs one synchronous guest: file operations can block this
        // thread directly instead of hopping to a tokio worker thread and
        // back for every call. Must be set before directories are added.
        builder.allow_blocking_current_thread(true);
        builder.args(&setup.args);
        builder.envs(&setup.env);
        for dir in &setup.dirs {
            builder
                .preopened_dir(&dir.host, &dir.guest, FsPerms::ReadWrite)
                .map_err(|e| dir.error(e))?;
        }
        // As `wasmtime run` does: TCP and UDP are available, but every
        // address is refused (access denied) unless --inherit-network
        // allowed them all.
        builder.allow_tcp(true).allow_udp(true);
        if manifest.network.inherit {
            builder.inherit_network();
        }
        builder.allow_ip_name_lookup(manifest.network.ip_name_lookup);
        let mut linker = Linker::new(engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|e| anyhow!("cannot set up WASI: {e}"))?;
        let mut store = Store::new(
            engine,
            Host {
                wasi: builder.build(),
                table: ResourceTable::new(),
            },
        );
        Ok(Command::instantiate(&mut store, &self, &linker)
            .and_then(|command| command.wasi_cli_run().call_run(&mut store))
            .and_then(|ended| {
                // `run` returning an error is a failed program: exit status
                // 1, as `wasmtime run` has it (`wasi:cli/run` carries no
                // status; `exit-with-code` does, and ends the program as
                // `I32Exit` before this).
                ended.map_err(|()| wasmtime::Error::new(I32Exit(1)))
            }))
    }
}

/// A path that opens `file` itself: components can only be loaded from a
/// path, and this one names the file already open and checked, not
/// whatever is at the executable's path now. (Only ELF stubs have a
/// section index, so only Linux loads from the file.)
#[cfg(target_os = "linux")]
fn open_file_path(file: &File) -> wasmtime::Result<String> {
    use std::os::fd::AsRawFd;
    Ok(format!("/proc/self/fd/{}", file.as_raw_fd()))
}

#[cfg(not(target_os = "linux"))]
fn open_file_path(_file: &File) -> wasmtime::Result<String> {
    Err(wasmtime::format_err!(
        "an ELF section index in a file that is not ELF"
    ))
}
