//! Command components: instantiated with WASI 0.2 (`wasi:cli/command`) and
//! run through `wasi:cli/run`.

use std::fs::File;
use std::ptr::NonNull;

use anyhow::{Result, anyhow};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::p2::bindings::sync::Command;
use wasmtime_wasi::{I32Exit, WasiCtx, WasiCtxView, WasiView};

use super::Runnable;
use super::run::wasi_context;
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

    fn run(
        self,
        engine: &Engine,
        manifest: Manifest,
        _file: Option<&'static [u8]>,
    ) -> Result<wasmtime::Result<()>> {
        let (mut builder, _) = wasi_context(&manifest)?;
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
