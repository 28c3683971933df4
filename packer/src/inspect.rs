//! `wpack inspect`: reads a packed file back, verifies it and describes it.

use std::fmt::Write as _;

use anyhow::{Context, Result, bail};
use goblin::elf::Elf;
use serde::Serialize;
use wasmtime::{Config, Engine, ExternType, Module};
use wpack_stub::tree::{Kind, Tree};
use wpack_stub::{DirMapping, EnvVar, Init, Program, engine, macho, payload, pe};

use crate::cli::InspectArgs;
use crate::codesign::{self, SignatureInfo};
use crate::stub_image;

/// Name of the section in wasmtime's precompiled image that records the
/// wasmtime version (`wasmtime_environ::obj::ELF_WASM_ENGINE`): one format
/// byte, one length byte, then the version string.
const ENGINE_SECTION: &str = ".wasmtime.engine";

#[derive(Serialize)]
struct EmbeddedTree {
    guest: String,
    files: usize,
    directories: usize,
    symlinks: usize,
    bytes: u64,
}

/// `wpack inspect` of a universal macOS file.
#[derive(Serialize)]
struct UniversalReport {
    file: String,
    universal: bool,
    slices: Vec<SliceReport>,
}

/// One slice of a universal file: its entry in the slice table, and the
/// report of the packed program it holds.
#[derive(Serialize)]
struct SliceReport {
    cpu: String,
    cputype: u32,
    cpusubtype: u32,
    offset: u64,
    size: u64,
    align_log2: u32,
    report: Report,
}

#[derive(Serialize)]
struct Report {
    file: String,
    format_version: u32,
    wpack_version: String,
    wasmtime_version: Option<String>,
    target: String,
    stub_bytes: u64,
    payload_offset: u64,
    payload_bytes: u64,
    payload_xxh3: String,
    /// Bytes of the ELF section index (0 without one: a PE stub).
    elf_index_bytes: u64,
    verified: bool,
    /// A macOS file's ad hoc signature, checked; absent for other targets.
    macos_signature: Option<SignatureInfo>,
    /// A signed Windows file's Authenticode certificate table, in bytes
    /// (the packed program is read from the bytes before it); absent when
    /// unsigned or not a Windows file.
    authenticode_certificate_bytes: Option<u64>,
    module_name: String,
    /// `module` (WASI preview 1) or `component` (WASI 0.2).
    kind: &'static str,
    dirs: Vec<DirMapping>,
    env: Vec<EnvVar>,
    inherit_env: bool,
    host_fs: bool,
    /// `--arg` values, placed before the user's arguments.
    args: Vec<String>,
    /// `--include` trees: guest directory, files, bytes.
    embedded: Vec<EmbeddedTree>,
    /// `--inherit-network` and `--allow-ip-name-lookup`.
    inherit_network: bool,
    ip_name_lookup: bool,
    /// `--init-func`: the payload is a snapshot taken after this ran.
    pre_initialized: Option<Init>,
    /// A module's imports and exports with their kinds; a component's
    /// top-level interfaces (and functions) by name.
    imports: Option<Vec<String>>,
    exports: Option<Vec<String>>,
    /// A file of several commands (`--command`): each command, in the order
    /// they were given (absent for a file of one program).
    commands: Option<Vec<CommandReport>>,
    /// The compiled code of a suite's other modules, before the payload.
    other_codes: Vec<CodeReport>,
}

/// One command of a suite.
#[derive(Serialize)]
struct CommandReport {
    name: String,
    /// The `.wasm` it runs.
    module: String,
    /// 0: the payload; n: `other_codes[n - 1]`.
    code: u32,
    /// Its baked arguments (the shared `--arg`s, then its `--command-arg`s).
    args: Vec<String>,
    env: Vec<EnvVar>,
    dirs: Vec<DirMapping>,
    /// The guest names of the embedded trees it sees.
    embedded: Vec<String>,
}

/// A suite's code besides the payload.
#[derive(Serialize)]
struct CodeReport {
    module: String,
    offset: u64,
    bytes: u64,
    xxh3: String,
    verified: bool,
}

pub fn inspect(args: &InspectArgs) -> Result<()> {
    let shown = args.file.display();
    if args.file.is_dir() {
        bail!("{shown} is a directory; give the path of a packed executable");
    }
    let file = std::fs::read(&args.file).with_context(|| format!("cannot read {shown}"))?;
    let slices = macho::fat_slices(&file).map_err(|damage| {
        anyhow::anyhow!(
            "{shown}: damaged universal (fat) macOS header ({damage}); download or pack \
             the file again"
        )
    })?;
    if let Some(slices) = slices {
        return inspect_universal(args, &file, &slices);
    }
    let report = describe(&file, shown.to_string())?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", as_text(&report));
    }
    Ok(())
}

/// A universal macOS file: the slice table, then each slice described as
/// the thin file it is (its offsets are relative to it).
fn inspect_universal(args: &InspectArgs, file: &[u8], slices: &[macho::FatSlice]) -> Result<()> {
    let shown = args.file.display().to_string();
    let mut described = Vec::new();
    for slice in slices {
        let bytes = &file[slice.offset as usize..(slice.offset + slice.size) as usize];
        let cpu = cpu_name(slice.cputype);
        let name = format!("{shown} ({cpu} slice)");
        described.push(SliceReport {
            cpu,
            cputype: slice.cputype,
            cpusubtype: slice.cpusubtype,
            offset: slice.offset,
            size: slice.size,
            align_log2: slice.align,
            report: describe(bytes, name)?,
        });
    }
    let report = UniversalReport {
        file: shown,
        universal: true,
        slices: described,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let mut out = String::new();
    let _ = writeln!(out, "{:<16}{}", "File:", report.file);
    let table: Vec<String> = report
        .slices
        .iter()
        .map(|s| {
            format!(
                "{}: {} bytes at offset {} (aligned to 2^{}), {}",
                s.cpu, s.size, s.offset, s.align_log2, s.report.target
            )
        })
        .collect();
    let _ = writeln!(
        out,
        "{:<16}macOS universal file of {} slices, each a packed program of its own",
        "Universal:",
        table.len()
    );
    let _ = writeln!(out, "{:<16}{}", "Slices:", list_or_none(table));
    for slice in &report.slices {
        let _ = write!(out, "\n{}", as_text(&slice.report));
    }
    print!("{out}");
    Ok(())
}

/// How `wpack inspect` names a Mach-O CPU type.
fn cpu_name(cputype: u32) -> String {
    match cputype {
        macho::CPU_TYPE_ARM64 => "arm64".into(),
        macho::CPU_TYPE_X86_64 => "x86_64".into(),
        other => format!("CPU type {other:#x}"),
    }
}

/// Reads, checks and describes one packed program: a whole file, or one
/// slice of a universal file.
fn describe(file: &[u8], shown: String) -> Result<Report> {
    let packed = payload::read(file).with_context(|| shown.clone())?;
    packed.verify_payload().with_context(|| shown.clone())?;
    let macos_signature = if macho::is_macho(file) {
        Some(codesign::check(file).with_context(|| shown.clone())?)
    } else {
        None
    };
    let authenticode_certificate_bytes = if pe::is_pe(file) {
        pe::certificate_table(file)
            .map_err(|why| anyhow::anyhow!("{shown}: {why}"))?
            .map(|(_, len)| len as u64)
    } else {
        None
    };

    let mut other_codes = Vec::new();
    for (i, code) in packed
        .manifest
        .suite
        .iter()
        .flat_map(|s| &s.codes)
        .enumerate()
    {
        packed
            .verify_code(i as u32 + 1)
            .with_context(|| format!("{shown}: the code of {}", code.module_name))?;
        other_codes.push(CodeReport {
            module: code.module_name.clone(),
            offset: code.offset,
            bytes: code.len,
            xxh3: format!("{:016x}", code.hash),
            verified: true,
        });
    }
    let format_version = packed.version();
    let manifest = packed.manifest;
    let commands = manifest.suite.as_ref().map(|suite| {
        suite
            .commands
            .iter()
            .map(|c| CommandReport {
                name: c.name.clone(),
                module: match c.code {
                    0 => manifest.module_name.clone(),
                    n => suite.codes[n as usize - 1].module_name.clone(),
                },
                code: c.code,
                args: c.args.clone(),
                env: c.env.clone(),
                dirs: c.dirs.clone(),
                embedded: c
                    .trees
                    .iter()
                    .map(|&t| manifest.trees[t as usize].guest.clone())
                    .collect(),
            })
            .collect()
    });
    let (kind, (imports, exports)) = match manifest.program {
        Program::Module => (
            "module",
            match describe_module(packed.payload, &manifest.target) {
                Some((imports, exports)) => (Some(imports), Some(exports)),
                None => (None, None),
            },
        ),
        // Recorded at pack time: the type information is not in the
        // compiled code in a form readable without loading it.
        Program::Component { imports, exports } => ("component", (Some(imports), Some(exports))),
    };
    Ok(Report {
        file: shown,
        format_version,
        wpack_version: manifest.wpack_version,
        wasmtime_version: wasmtime_version(packed.payload),
        target: manifest.target,
        stub_bytes: packed.stub_region.len() as u64,
        payload_offset: packed.payload_offset,
        payload_bytes: packed.payload.len() as u64,
        payload_xxh3: format!("{:016x}", packed.payload_hash),
        elf_index_bytes: packed.elf_index.len() as u64,
        verified: true,
        macos_signature,
        authenticode_certificate_bytes,
        module_name: manifest.module_name,
        kind,
        dirs: manifest.dirs,
        env: manifest.env,
        inherit_env: manifest.inherit_env,
        host_fs: manifest.host_fs,
        args: manifest.args,
        embedded: manifest.trees.iter().map(summarise).collect(),
        inherit_network: manifest.network.inherit,
        ip_name_lookup: manifest.network.ip_name_lookup,
        pre_initialized: manifest.init,
        imports,
        exports,
        commands,
        other_codes,
    })
}

/// The wasmtime version recorded in the precompiled image, if readable.
fn wasmtime_version(image: &[u8]) -> Option<String> {
    let elf = Elf::parse(image).ok()?;
    let section = elf
        .section_headers
        .iter()
        .find(|s| elf.shdr_strtab.get_at(s.sh_name) == Some(ENGINE_SECTION))?;
    let data = image.get(section.file_range()?)?;
    let len = usize::from(*data.get(1)?);
    let version = data.get(2..2 + len)?;
    Some(String::from_utf8_lossy(version).into_owned())
}

/// The module's imports and exports, read by loading the payload into a
/// wasmtime engine configured like the stub's. Only for payloads of this
/// machine's architecture and OS (the code is loaded, never run); wasmtime
/// loads only for the host's exact triple, so a static (musl) payload is
/// loaded as the host's, which is the same code. The engine's CPU flags must
/// match the payload's: baseline first, then this machine's (`--cpu native`).
fn describe_module(image: &[u8], target: &str) -> Option<(Vec<String>, Vec<String>)> {
    let host = stub_image::host_triple();
    if arch_and_os(target) != arch_and_os(host) {
        return None;
    }
    let module = [Some(host), None].into_iter().find_map(|triple| {
        let mut config = Config::new();
        engine::configure(&mut config, engine::Kind::Module);
        if let Some(triple) = triple {
            config.target(triple).ok()?;
        }
        let engine = Engine::new(&config).ok()?;
        // SAFETY: the payload's checksum matched, so these are the bytes
        // wpack wrote with `precompile_module`; wasmtime checks version and
        // settings, and nothing is executed.
        unsafe { Module::deserialize(&engine, image) }.ok()
    })?;
    let imports = module
        .imports()
        .map(|i| format!("{}::{} ({})", i.module(), i.name(), kind(&i.ty())))
        .collect();
    let exports = module
        .exports()
        .map(|e| format!("{} ({})", e.name(), kind(&e.ty())))
        .collect();
    Some((imports, exports))
}

/// The first and third parts of a target triple (`x86_64`, `linux`).
fn arch_and_os(triple: &str) -> (Option<&str>, Option<&str>) {
    let mut parts = triple.split('-');
    (parts.next(), parts.nth(1))
}

fn kind(ty: &ExternType) -> &'static str {
    match ty {
        ExternType::Func(_) => "function",
        ExternType::Global(_) => "global",
        ExternType::Table(_) => "table",
        ExternType::Memory(_) => "memory",
        ExternType::Tag(_) => "tag",
    }
}

fn as_text(r: &Report) -> String {
    let mut out = String::new();
    let mut line = |label: &str, value: String| {
        let _ = writeln!(out, "{label:<16}{value}");
    };
    line("File:", r.file.clone());
    line(
        "Format:",
        format!("wpack payload version {}", r.format_version),
    );
    line("Packed by:", format!("wpack {}", r.wpack_version));
    line(
        "Wasmtime:",
        match &r.wasmtime_version {
            Some(v) => format!("{v} (the payload loads only in this wasmtime release line)"),
            None => "unknown".into(),
        },
    );
    line("Target:", r.target.clone());
    line("Stub:", format!("{} bytes (with padding)", r.stub_bytes));
    line(
        "Payload:",
        format!(
            "{} bytes at offset {}, xxh3 {} (verified)",
            r.payload_bytes, r.payload_offset, r.payload_xxh3
        ),
    );
    if let Some(sig) = &r.macos_signature {
        line(
            "Signature:",
            if sig.by_wpack {
                format!(
                    "signed ad hoc as {:?}: {} pages of 4 KiB, {} bytes (checked)",
                    sig.identifier, sig.pages, sig.signed_bytes
                )
            } else {
                format!(
                    "signed again by another tool as {:?}: {} bytes, page hashes checked \
                     (certificates are not: `codesign --verify` checks them)",
                    sig.identifier, sig.signed_bytes
                )
            },
        );
    }
    if let Some(bytes) = r.authenticode_certificate_bytes {
        line(
            "Signature:",
            format!(
                "signed (Authenticode), {bytes} bytes of certificates (not checked by \
                 wpack: `signtool verify` or `osslsigncode verify` checks it)"
            ),
        );
    }
    line(
        "Loading:",
        if r.macos_signature.is_some() {
            "macOS maps the __WPACK segment; the code runs there".into()
        } else if r.elf_index_bytes > 0 {
            format!(
                "wasmtime maps the file (ELF section index, {} bytes)",
                r.elf_index_bytes
            )
        } else {
            "from the stub's mapping of the payload (no ELF section index)".into()
        },
    );
    line("Module:", r.module_name.clone());
    line(
        "Kind:",
        if r.kind == "component" {
            "component (wasi:cli/command), run with WASI 0.2"
        } else {
            "core module, run with WASI preview 1"
        }
        .into(),
    );
    let dirs: Vec<String> = r
        .dirs
        .iter()
        .map(|d| format!("{} (host) as {}", d.host, d.guest))
        .collect();
    line("Directories:", list_or_none(dirs));
    let env: Vec<String> = r
        .env
        .iter()
        .map(|v| match &v.value {
            Some(value) => format!("{}={value}", v.name),
            None => format!("{} (from the host)", v.name),
        })
        .collect();
    line("Environment:", list_or_none(env));
    line(
        "Host env:",
        if r.inherit_env {
            "inherited (--inherit-env)"
        } else {
            "not inherited"
        }
        .into(),
    );
    line(
        "Host files:",
        if r.host_fs {
            "all, resolved natively (--host-fs)"
        } else {
            "only --dir directories"
        }
        .into(),
    );
    line(
        "Arguments:",
        list_or_none(r.args.iter().map(|a| format!("{a:?}")).collect()),
    );
    let trees: Vec<String> = r
        .embedded
        .iter()
        .map(|t| {
            format!(
                "{} (read-only): {} files, {} directories, {} symlinks, {} bytes",
                t.guest, t.files, t.directories, t.symlinks, t.bytes
            )
        })
        .collect();
    line("Embedded:", list_or_none(trees));
    line(
        "Network:",
        match (r.inherit_network, r.ip_name_lookup) {
            (false, false) => "none (every socket address refused)",
            (true, false) => "host network (--inherit-network), no name lookup",
            (false, true) => "name lookup only (--allow-ip-name-lookup)",
            (true, true) => "host network and name lookup",
        }
        .into(),
    );
    line(
        "Initialized:",
        match &r.pre_initialized {
            None => "at each start (not pre-initialized)".into(),
            Some(init) => {
                let mut text = format!("at pack time, by `{}` (--init-func)", init.func);
                if init.kept {
                    text.push_str(", still exported");
                }
                for (dst, src) in &init.renames {
                    text.push_str(&format!(", `{src}` renamed `{dst}`"));
                }
                if !init.open.is_empty() {
                    text.push_str(&format!(", {} embedded files left open", init.open.len()));
                }
                text
            }
        },
    );
    if let Some(commands) = &r.commands {
        let list = commands
            .iter()
            .map(|c| {
                let mut text = format!("{}: runs {}", c.name, c.module);
                if !c.args.is_empty() {
                    let args: Vec<String> = c.args.iter().map(|a| format!("{a:?}")).collect();
                    text.push_str(&format!(" with {}", args.join(" ")));
                }
                text
            })
            .collect();
        line("Commands:", list_or_none(list));
        let codes = r
            .other_codes
            .iter()
            .map(|c| {
                format!(
                    "{}: {} bytes at offset {}, xxh3 {} (verified)",
                    c.module, c.bytes, c.offset, c.xxh3
                )
            })
            .collect();
        line("Other code:", list_or_none(codes));
    }
    for (label, items) in [("Imports:", &r.imports), ("Exports:", &r.exports)] {
        match items {
            Some(items) => line(label, list_or_none(items.clone())),
            None => line(
                label,
                "not shown (payload for another platform or CPU level)".into(),
            ),
        }
    }
    out
}

fn list_or_none(items: Vec<String>) -> String {
    if items.is_empty() {
        "(none)".into()
    } else {
        items.join("\n                ")
    }
}

fn summarise(tree: &Tree) -> EmbeddedTree {
    let mut t = EmbeddedTree {
        guest: tree.guest.clone(),
        files: 0,
        directories: 0,
        symlinks: 0,
        bytes: 0,
    };
    for entry in &tree.entries {
        match entry.kind {
            Kind::Dir => t.directories += 1,
            Kind::File { len, .. } => {
                t.files += 1;
                t.bytes += len;
            }
            Kind::Symlink { .. } => t.symlinks += 1,
        }
    }
    t
}
