//! Loading the payload from the stub's own file, without copying it.

use std::fs::File;
use std::ptr::NonNull;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use memmap2::Mmap;
use wasmtime::{Config, CustomCodeMemory, Engine, Module};
use wpack_stub::{Manifest, engine, payload};

/// A module ready to instantiate, with the configuration baked next to it.
pub struct Loaded {
    pub engine: Engine,
    pub module: Module,
    pub manifest: Manifest,
}

/// Maps this executable's file, checks its payload and loads the module in place.
pub fn load() -> Result<Loaded> {
    let exe = std::env::current_exe().context("cannot locate this program's own file")?;
    let file = File::open(&exe).with_context(|| format!("cannot open {}", exe.display()))?;
    // SAFETY: the mapping is read-only and the file is the running
    // executable, which the kernel refuses to let anyone write to (ETXTBSY).
    let map =
        unsafe { Mmap::map(&file) }.with_context(|| format!("cannot map {}", exe.display()))?;
    // The module borrows the mapping for the rest of the process.
    let map: &'static Mmap = Box::leak(Box::new(map));

    let packed = payload::read(map).map_err(|e| anyhow!("{}: {e}", exe.display()))?;
    // Checked before any byte of the payload becomes executable: a damaged
    // payload is reported, never run (and a damaged ELF image could otherwise
    // trip wasmtime's alignment assertions).
    packed
        .verify_payload()
        .map_err(|e| anyhow!("{}: {e}", exe.display()))?;

    let mut config = Config::new();
    engine::configure(&mut config);
    config.with_custom_code_memory(Some(Arc::new(MappedCode)));
    let engine = Engine::new(&config).map_err(|e| anyhow!("cannot start the runtime: {e}"))?;

    // SAFETY: the payload was written by the packer with `precompile_module`
    // under the same wasmtime version and settings (wasmtime checks both), its
    // hash matches, and the mapping lives until the process exits.
    let module = unsafe { Module::deserialize_raw(&engine, NonNull::from(packed.payload)) }
        .map_err(|e| {
            anyhow!(
                "{}: the compiled code does not fit this runtime ({e}); \
                 pack the .wasm again with the wpack that matches this stub",
                exe.display()
            )
        })?;
    Ok(Loaded {
        engine,
        module,
        manifest: packed.manifest,
    })
}

/// Makes code pages of the mapped file executable in place.
///
/// wasmtime would otherwise expect memory it allocated itself; telling it how
/// to flip page protections lets it run code straight from the file mapping,
/// so start-up costs no copy and only touched pages become resident.
struct MappedCode;

impl CustomCodeMemory for MappedCode {
    fn required_alignment(&self) -> usize {
        region::page::size()
    }

    fn publish_executable(&self, ptr: *const u8, len: usize) -> wasmtime::Result<()> {
        // SAFETY: wasmtime passes the page-aligned text section of the payload,
        // which nothing writes to.
        unsafe { region::protect(ptr, len, region::Protection::READ_EXECUTE) }
            .map_err(|e| wasmtime::format_err!("cannot make code executable: {e}"))
    }

    fn unpublish_executable(&self, ptr: *const u8, len: usize) -> wasmtime::Result<()> {
        // SAFETY: as above; no code runs from the range any more.
        unsafe { region::protect(ptr, len, region::Protection::READ) }
            .map_err(|e| wasmtime::format_err!("cannot unmap code: {e}"))
    }
}
