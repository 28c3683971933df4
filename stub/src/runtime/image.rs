//! Loading the payload from the stub's own file, without copying it.

use std::fs::File;
use std::path::Path;
use std::ptr::NonNull;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use memmap2::Mmap;
use wasmtime::{Config, CustomCodeMemory, Engine};

use super::{Runnable, verified};
use crate::manifest::Manifest;
use crate::payload::{self, CodeRef, Packed};
use crate::{command, engine};

/// Set to `1` to have the stub describe what it loads, on stderr.
const DEBUG_VAR: &str = "WPACK_DEBUG";

/// A program ready to instantiate, with the configuration baked next to it.
pub struct Loaded<P> {
    pub engine: Engine,
    pub code: P,
    pub manifest: Manifest,
    /// The program's argv[0] and the user's arguments, before the baked ones
    /// go in after argv[0].
    pub argv: Vec<std::ffi::OsString>,
    /// The whole packed file, kept mapped when it embeds files.
    pub file: Option<&'static [u8]>,
}

/// Maps this executable's file, checks its payload and loads the program in
/// place.
pub fn load<P: Runnable>() -> Result<Loaded<P>> {
    let exe = std::env::current_exe().context("cannot locate this program's own file")?;
    let file = File::open(&exe).with_context(|| format!("cannot open {}", exe.display()))?;
    // SAFETY: the mapping is read-only and the file is the running
    // executable, which the kernel refuses to let anyone write to (ETXTBSY).
    let map =
        unsafe { Mmap::map(&file) }.with_context(|| format!("cannot map {}", exe.display()))?;

    let mut packed = payload::read_own(&map).map_err(|e| anyhow!("{}: {e}", exe.display()))?;
    let debug = debug_enabled();
    if debug {
        describe(&exe, &packed);
    }
    // A file of several commands runs the one it was started as, with that
    // command's settings and code (see `crate::command`).
    let args: Vec<_> = std::env::args_os().collect();
    let (argv, command) = match &packed.manifest.suite {
        None => (args, None),
        Some(suite) => {
            let chosen = command::choose(suite, args)?;
            let code = suite.commands[chosen.index].code;
            (chosen.argv, Some((chosen.index, code)))
        }
    };
    let code = packed
        .code(command.map_or(0, |(_, code)| code))
        .context("the command table names no code")?;
    if debug && command.is_some() {
        eprintln!(
            "wpack-debug: command {}, code {} ({} bytes at offset {})",
            argv[0].to_string_lossy(),
            code.index,
            code.bytes.len(),
            code.offset
        );
    }
    verify(&exe, &file, &packed, &code, debug)?;
    if packed.manifest.program.kind() != P::KIND {
        // The packer checks the stub it writes (its marker), so only a file
        // put together by other means gets here.
        bail!(
            "{}: this file holds a {} but its stub runs a {}; pack it again \
             without --stub, or with the stub for its kind",
            exe.display(),
            packed.manifest.program.kind(),
            P::KIND
        );
    }

    // The settings are moved out: nothing below reads `packed.manifest`.
    let manifest = std::mem::take(&mut packed.manifest);
    let manifest = match command {
        Some((index, _)) => command::apply(manifest, index),
        None => manifest,
    };

    let mut config = Config::new();
    engine::configure(&mut config, manifest.program.engine_kind());
    config.with_custom_code_memory(Some(Arc::new(MappedCode)));
    let engine = Engine::new(&config).map_err(|e| anyhow!("cannot start the runtime: {e}"))?;

    // Only the payload (code 0) has the ELF section index.
    let indexed = !packed.elf_index.is_empty() && code.index == 0;
    // SAFETY (both branches): the payload was written by the packer with
    // `precompile_module` or `precompile_component`, as the manifest checked
    // just above says, under the same wasmtime version and settings
    // (wasmtime checks both), its hash and the ELF header that leads
    // wasmtime to it were checked above, and the file is the running
    // executable.
    let code = if indexed {
        // wasmtime maps the file itself and, knowing the file, maps data
        // segments into linear memory straight from it instead of copying
        // them at every start (see `wpack_stub::elf_index`).
        let file = file
            .try_clone()
            .with_context(|| format!("cannot reopen {}", exe.display()))?;
        unsafe { P::from_file(&engine, file) }
    } else {
        let code = NonNull::from(runnable_code(&packed, code)?);
        unsafe { P::from_raw(&engine, code) }
    }
    .map_err(|e| explain_load_error(&exe, e))?;
    if debug {
        let how = if indexed {
            "from the file through its ELF section index"
        } else if cfg!(target_os = "macos") {
            "in place from the __WPACK segment the kernel mapped"
        } else {
            "in place from this mapping"
        };
        eprintln!("wpack-debug: {} loaded {how}", P::KIND);
    }

    // Where the packed program starts in the mapping: a universal file's
    // slice, whose offsets the manifest's are.
    let start = packed.file.as_ptr() as usize - map.as_ptr() as usize;
    let range = start..start + packed.file.len();
    let file: Option<&'static [u8]> = if !manifest.trees.is_empty() {
        // Embedded files are served from this mapping for the rest of the
        // process (see `embedded.rs`); only the pages read become resident.
        Some(&Box::leak(Box::new(map))[range])
    } else if indexed {
        // wasmtime holds its own mapping; pages this one touched while
        // hashing need not stay resident.
        drop(map);
        None
    } else {
        // The module borrows this mapping for the rest of the process.
        std::mem::forget(map);
        None
    };
    Ok(Loaded {
        engine,
        code,
        manifest,
        argv,
        file,
    })
}

/// The code's bytes where it will run: this process's mapping of the file,
/// except on macOS.
#[cfg(not(target_os = "macos"))]
fn runnable_code<'a>(_packed: &Packed<'a>, code: CodeRef<'a>) -> Result<&'a [u8]> {
    Ok(code.bytes)
}

/// On macOS the kernel mapped the `__WPACK` segment read-execute at exec and
/// checks each of its pages against the file's signature as it is touched,
/// so the code runs there: no page is ever writable and executable, and no
/// JIT entitlement is needed. The bytes are the ones just verified in `file`
/// (the same file, mapped by the kernel instead of by us). In a universal
/// file, dyld's image 0 is this CPU's slice, whose header `packed.file` is.
#[cfg(target_os = "macos")]
fn runnable_code(packed: &Packed<'_>, code: CodeRef<'_>) -> Result<&'static [u8]> {
    unsafe extern "C" {
        /// dyld's slide of image 0, the main executable (libSystem).
        fn _dyld_get_image_vmaddr_slide(image_index: u32) -> isize;
    }
    let section = crate::macho::payload_section(packed.file)
        .ok()
        .flatten()
        .context("the __WPACK segment is missing from the Mach-O header")?;
    // SAFETY: a plain query of dyld's image list.
    let slide = unsafe { _dyld_get_image_vmaddr_slide(0) };
    // Codes lie between the segment's start and the payload, inside it.
    let into_section = code.offset as i64 - i64::from(section.offset);
    let address = section
        .addr
        .wrapping_add(slide as u64)
        .wrapping_add(into_section as u64);
    // SAFETY: the kernel mapped the whole segment (it lies inside the file,
    // checked by `payload::read_own`) for the life of the process, read-only.
    Ok(unsafe { std::slice::from_raw_parts(address as *const u8, code.bytes.len()) })
}

/// Checks the payload before any byte of it becomes executable: a damaged
/// payload is reported, never run (and a damaged ELF image could otherwise
/// trip wasmtime's alignment assertions). See `verified.rs` for why a file
/// already checked is not hashed again.
fn verify(
    exe: &Path,
    file: &File,
    packed: &Packed<'_>,
    code: &CodeRef<'_>,
    debug: bool,
) -> Result<()> {
    let entry = verified::Entry::for_code(file, code.index, code.hash);
    let code = code.index;
    if entry.as_ref().is_some_and(|e| e.is_verified()) {
        if debug {
            eprintln!("wpack-debug: code {code} checksum: verified at an earlier start");
        }
        return Ok(());
    }
    packed
        .verify_code(code)
        .map_err(|e| anyhow!("{}: {e}", exe.display()))?;
    if let Some(entry) = &entry {
        entry.remember();
    }
    if debug {
        let place = entry.as_ref().and_then(|e| e.location());
        eprintln!("wpack-debug: code {code} checksum: verified now (cache entry {place:?})");
    }
    Ok(())
}

/// Turns wasmtime's refusal of the payload into what the user can do about it.
fn explain_load_error(exe: &Path, e: wasmtime::Error) -> anyhow::Error {
    let detail = format!("{e:#}");
    if detail.contains("incompatible with native host") {
        anyhow!(
            "{}: this program was compiled for CPU features this machine lacks \
             ({}); pack it again with a lower --cpu (the default, baseline, \
             runs on every CPU of its architecture)",
            exe.display(),
            detail.replace('\n', " ")
        )
    } else {
        anyhow!(
            "{}: the compiled code does not fit this runtime ({detail}); \
             pack the .wasm again with the wpack that matches this stub",
            exe.display()
        )
    }
}

fn debug_enabled() -> bool {
    std::env::var_os(DEBUG_VAR).is_some_and(|v| !v.is_empty() && v != "0")
}

/// The `WPACK_DEBUG` report of what the file holds.
fn describe(exe: &Path, packed: &Packed<'_>) {
    let m = &packed.manifest;
    eprintln!("wpack-debug: file {}", exe.display());
    eprintln!(
        "wpack-debug: format version {}, packed by wpack {} for {}",
        packed.version(),
        m.wpack_version,
        m.target
    );
    for c in m.suite.iter().flat_map(|s| &s.commands) {
        eprintln!(
            "wpack-debug: command {} runs code {} with {:?}",
            c.name, c.code, c.args
        );
    }
    eprintln!(
        "wpack-debug: {} {}, payload {} bytes at offset {}",
        m.program.kind(),
        m.module_name,
        packed.payload.len(),
        packed.payload_offset
    );
    for dir in &m.dirs {
        eprintln!("wpack-debug: dir {} (host) as {}", dir.host, dir.guest);
    }
    for var in &m.env {
        match &var.value {
            Some(value) => eprintln!("wpack-debug: env {}={value}", var.name),
            None => eprintln!("wpack-debug: env {} (from the host)", var.name),
        }
    }
    eprintln!("wpack-debug: inherit host environment: {}", m.inherit_env);
    eprintln!("wpack-debug: host file system (--host-fs): {}", m.host_fs);
    eprintln!(
        "wpack-debug: network: inherit {}, name lookup {}",
        m.network.inherit, m.network.ip_name_lookup
    );
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
            .map_err(|e| wasmtime::format_err!("cannot make code executable: {e}"))?;
        // Architectures without coherent instruction caches (aarch64) must
        // not execute stale instructions for these pages.
        use wasmtime_internal_jit_icache_coherence as icache;
        // SAFETY: the range is the mapped text section just made executable.
        unsafe { icache::clear_cache(ptr.cast(), len) }
            .and_then(|()| icache::pipeline_flush_mt())
            .map_err(|e| wasmtime::format_err!("cannot synchronise the instruction cache: {e}"))
    }

    fn unpublish_executable(&self, ptr: *const u8, len: usize) -> wasmtime::Result<()> {
        // SAFETY: as above; no code runs from the range any more.
        unsafe { region::protect(ptr, len, region::Protection::READ) }
            .map_err(|e| wasmtime::format_err!("cannot unmap code: {e}"))
    }
}
