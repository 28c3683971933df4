//! Checking a module or component and compiling it ahead of time with
//! Cranelift.

use rayon::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use thiserror::Error;
use wasmtime::wasmparser::{
    BinaryReaderError, Encoding, ExternalKind, FuncValidatorAllocations, KnownCustom, Name, Parser,
    Payload, ValidPayload, Validator,
};

use wasmtime::wasmparser;
use wasmtime::{CacheStore, Config, Engine, OptLevel};
use wpack_stub::{Program, engine};

use crate::targets::{Format, Target};

/// The only import module a packed core module can be given.
pub const WASI_MODULE: &str = "wasi_snapshot_preview1";

/// The export that makes a component a command (`wasi:cli/command` world).
pub const RUN_INTERFACE: &str = "wasi:cli/run";

/// The WASI 0.2 packages whose interfaces the stub provides to components
/// (wasmtime-wasi's `wasi:cli/command` world).
pub const WASI_PACKAGES: [&str; 6] = [
    "wasi:cli/",
    "wasi:clocks/",
    "wasi:filesystem/",
    "wasi:io/",
    "wasi:random/",
    "wasi:sockets/",
];

/// What is wrong with a module, phrased to follow its file name.
#[derive(Debug, Error)]
pub enum ModuleError {
    #[error("is empty; expected a WebAssembly module (.wasm)")]
    Empty,
    #[error("is not a WebAssembly module (it does not start with the `\\0asm` header)")]
    NotWasm,
    #[error(
        "is a component that exports {exports}, not `{RUN_INTERFACE}`: wpack runs \
         command components (the `wasi:cli/command` world, a program with a `main`, \
         e.g. `cargo build --target wasm32-wasip2`), not libraries or servers{hint}"
    )]
    NotCommand { exports: String, hint: &'static str },
    #[error(
        "is a component that imports {list}, which a packed program cannot be given: \
         only WASI 0.2 interfaces of the `wasi:cli/command` world are provided \
         (wasi:cli, wasi:clocks, wasi:filesystem, wasi:io, wasi:random, wasi:sockets)"
    )]
    ForeignComponentImports { list: String },
    #[error("is not valid WebAssembly: {0}")]
    Invalid(String),
    /// Validation or compilation failed; this includes modules that use a
    /// proposal wpack does not enable (wasmparser's message names it).
    #[error("cannot be compiled: {0}")]
    Compile(String),
    #[error(
        "imports {list}, which a packed program cannot be given: only \
         `{WASI_MODULE}` imports are supported (build for wasm32-wasip1 without \
         extra host functions)"
    )]
    ForeignImports { list: String },
    #[error(
        "exports no `_start` function: it is a library (reactor) module, not a \
         command; build it as a program with a `main`"
    )]
    NoStart,
}

/// `input` itself if it is binary WebAssembly, else its text format (`.wat`)
/// compiled to binary; text that does not parse is reported with its line.
pub fn from_text(input: Vec<u8>) -> Result<Vec<u8>, ModuleError> {
    if input.starts_with(b"\0asm") || input.is_empty() {
        return Ok(input);
    }
    let looks_like_text = std::str::from_utf8(&input).is_ok_and(|text| {
        let text = text.trim_start();
        text.starts_with('(') || text.starts_with(";;")
    });
    if !looks_like_text {
        return Ok(input); // check_module says it is not WebAssembly
    }
    wat::parse_bytes(&input)
        .map(|binary| binary.into_owned())
        .map_err(|e| {
            // One line: wat's message, then where (it also quotes the line).
            let text = e.to_string();
            let parts: Vec<&str> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && *l != "|")
                .collect();
            ModuleError::Invalid(format!("(text format) {}", parts.join(" ")))
        })
}

fn invalid(e: wasmtime::wasmparser::BinaryReaderError) -> ModuleError {
    ModuleError::Invalid(e.to_string())
}

/// Checks that `wasm` is a program wpack can pack, without compiling it,
/// and says which kind it is: a WASI preview 1 command module or a WASI 0.2
/// command component.
pub fn check(wasm: &[u8]) -> Result<Program, ModuleError> {
    if wasm.is_empty() {
        return Err(ModuleError::Empty);
    }
    if !wasm.starts_with(b"\0asm") {
        return Err(ModuleError::NotWasm);
    }
    match Parser::new(0).parse_all(wasm).next() {
        Some(Ok(Payload::Version {
            encoding: Encoding::Component,
            ..
        })) => check_component(wasm),
        _ => check_module(wasm).map(|()| Program::Module),
    }
}

/// A core module: only `wasi_snapshot_preview1` imports, and `_start`.
fn check_module(wasm: &[u8]) -> Result<(), ModuleError> {
    let mut foreign = Vec::new();
    let mut has_start = false;
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.map_err(invalid)? {
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import.map_err(invalid)?;
                    if import.module != WASI_MODULE {
                        foreign.push(format!("`{}::{}`", import.module, import.name));
                    }
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export.map_err(invalid)?;
                    has_start |= export.name == "_start" && export.kind == ExternalKind::Func;
                }
            }
            _ => {}
        }
    }
    if !foreign.is_empty() {
        return Err(ModuleError::ForeignImports {
            list: foreign.join(", "),
        });
    }
    if !has_start {
        return Err(ModuleError::NoStart);
    }
    Ok(())
}

/// A component: exports `wasi:cli/run` and imports nothing but WASI 0.2.
/// Returns its top-level import and export names (nested modules and
/// components are its own business).
fn check_component(wasm: &[u8]) -> Result<Program, ModuleError> {
    let (mut imports, mut exports) = (Vec::new(), Vec::new());
    // Every module or component, nested ones included, starts with a
    // version header and closes with an end; depth 1 is the outer one.
    let mut depth = 0;
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.map_err(invalid)? {
            Payload::Version { .. } => depth += 1,
            Payload::End(_) => depth -= 1,
            Payload::ComponentImportSection(reader) if depth == 1 => {
                for import in reader {
                    imports.push(import.map_err(invalid)?.name.name.to_owned());
                }
            }
            Payload::ComponentExportSection(reader) if depth == 1 => {
                for export in reader {
                    exports.push(export.map_err(invalid)?.name.name.to_owned());
                }
            }
            _ => {}
        }
    }
    let interface = |name: &String| name.split('@').next().unwrap_or_default().to_owned();
    if !exports.iter().any(|e| interface(e) == RUN_INTERFACE) {
        let hint = if exports.iter().any(|e| e.starts_with("wasi:http/")) {
            " (an HTTP proxy component runs under `wasmtime serve`)"
        } else {
            ""
        };
        let exports = if exports.is_empty() {
            "nothing".to_owned()
        } else {
            exports
                .iter()
                .map(|e| format!("`{e}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(ModuleError::NotCommand { exports, hint });
    }
    let foreign: Vec<String> = imports
        .iter()
        .filter(|i| !WASI_PACKAGES.iter().any(|p| i.starts_with(p)))
        .map(|i| format!("`{i}`"))
        .collect();
    if !foreign.is_empty() {
        return Err(ModuleError::ForeignComponentImports {
            list: foreign.join(", "),
        });
    }
    Ok(Program::Component { imports, exports })
}

/// `wasm` without its `name` custom sections (function and local names).
/// The payload then carries no names; a trap report names functions by
/// index (`wasm function 12`). Other sections are copied byte for byte.
pub fn without_names(wasm: &[u8]) -> Result<Vec<u8>, ModuleError> {
    // Sections follow each other: each one's header (id and size) starts
    // where the previous one's contents end, the first after the 8-byte
    // module header.
    let mut section_start = 8;
    let mut out = wasm.get(..section_start).unwrap_or_default().to_vec();
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(invalid)?;
        let Some((_, contents)) = payload.as_section() else {
            continue;
        };
        let is_names = matches!(&payload, Payload::CustomSection(c) if c.name() == "name");
        if !is_names {
            out.extend_from_slice(&wasm[section_start..contents.end]);
        }
        section_start = contents.end;
    }
    Ok(out)
}

/// Validates all of `wasm`, every function body included, with the
/// proposals the stub accepts, before anything is compiled.
///
/// wasmtime validates each function as it compiles it, so a module with
/// one bad function is otherwise refused only when compilation is over:
/// minutes and gigabytes for a big one. Validating takes about a second for
/// 75 MB; the function bodies are checked in parallel.
pub fn validate(wasm: &[u8], program: &Program) -> Result<(), ModuleError> {
    let features = match program.engine_kind() {
        engine::Kind::Module => engine::WASM_FEATURES,
        engine::Kind::Component => engine::COMPONENT_FEATURES,
    };
    let mut validator = Validator::new_with_features(features);
    let mut parser = Parser::new(0);
    // The parser refuses some instructions of proposals not enabled (such
    // as the legacy exceptions' `try`) by itself.
    parser.set_features(features);
    let mut functions = Vec::new();
    for payload in parser.parse_all(wasm) {
        let payload = payload.map_err(|e| invalid_with_hint(&e, None))?;
        match validator.payload(&payload) {
            Ok(ValidPayload::Func(func, body)) => functions.push((func, body)),
            Ok(_) => {}
            Err(e) => return Err(invalid_with_hint(&e, None)),
        }
    }
    let first_failure = functions
        .into_par_iter()
        .map_init(FuncValidatorAllocations::default, |allocs, (func, body)| {
            let index = func.index;
            let mut func = func.into_validator(std::mem::take(allocs));
            let result = func.validate(&body);
            *allocs = func.into_allocations();
            result.err().map(|e| (index, e))
        })
        .flatten()
        .min_by_key(|(index, _)| *index);
    match first_failure {
        Some((index, e)) => Err(invalid_with_hint(
            &e,
            Some((index, function_name(wasm, index))),
        )),
        None => Ok(()),
    }
}

/// wasmparser's message, where it was found, and what to do when the cause
/// is a proposal the stub does not enable.
fn invalid_with_hint(
    e: &BinaryReaderError,
    function: Option<(u32, Option<String>)>,
) -> ModuleError {
    let place = match function {
        Some((index, Some(name))) => format!("function {index} ({name}), "),
        Some((index, None)) => format!("function {index}, "),
        None => String::new(),
    };
    let message = e.message();
    let hint = if message.contains("legacy_exceptions") {
        "; the module uses the legacy exception-handling instructions (try/catch), which \
         wasmtime does not run: rebuild it with the standard exception-handling proposal \
         (exnref; e.g. Emscripten's -fwasm-exceptions -sWASM_LEGACY_EXCEPTIONS=0, or \
         `wasm-opt --translate-to-exnref`)"
    } else if message.contains("not enabled") || message.contains("feature required") {
        "; the module uses a WebAssembly proposal wpack does not enable (it enables what \
         `wasmtime run` does by default: WebAssembly 3.0)"
    } else {
        ""
    };
    ModuleError::Invalid(format!(
        "{place}at offset {:#x}: {message}{hint}",
        e.offset()
    ))
}

/// The name the module's name section gives function `index`, if any.
fn function_name(wasm: &[u8], index: u32) -> Option<String> {
    for payload in Parser::new(0).parse_all(wasm) {
        let Ok(Payload::CustomSection(section)) = payload else {
            continue;
        };
        let KnownCustom::Name(names) = section.as_known() else {
            continue;
        };
        for name in names.into_iter().flatten() {
            if let Name::Function(map) = name {
                let found = map
                    .into_iter()
                    .flatten()
                    .find(|naming| naming.index == index);
                return found.map(|naming| naming.name.to_owned());
            }
        }
    }
    None
}

/// Everything that decides the compiled bytes besides the module and the
/// wpack build: one value per distinct compilation, so that targets with
/// the same settings share one (see `Target::compiles_as`), and the key of
/// the compile cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    triple: &'static str,
    kind: wpack_stub::engine::Kind,
    /// `--cpu` as given, and the Cranelift flags it means.
    cpu: String,
    cpu_flags: Vec<String>,
    /// Native unwind tables serve outside unwinders only (wasmtime walks
    /// wasm frames itself, and the stub aborts on panic), except on
    /// Windows, whose ABI requires them.
    unwind_info: bool,
}

impl Settings {
    /// The settings for `program` on `target` with `--cpu cpu`.
    pub fn new(program: &Program, target: &Target, cpu: &str) -> Result<Self, ModuleError> {
        Ok(Self {
            triple: target.compiles_as,
            kind: program.engine_kind(),
            cpu: cpu.to_owned(),
            cpu_flags: cpu_flags(cpu, target)?,
            unwind_info: target.format == Format::Pe,
        })
    }

    /// The settings in one line, for the compile cache's key.
    pub fn describe(&self) -> String {
        format!("{self:?}")
    }
}

/// Compiles `wasm` (a module or component, as `settings` say) with the
/// settings the stub loads with.
///
/// Giving the target explicitly, even when it is the host, makes Cranelift
/// compile for the architecture's baseline instead of this machine's CPU, so
/// the output runs on any CPU of that architecture unless `--cpu` asks for
/// more.
pub fn precompile(
    wasm: &[u8],
    settings: &Settings,
    progress: Option<Arc<Progress>>,
) -> Result<Vec<u8>, ModuleError> {
    let mut config = Config::new();
    if let Some(progress) = progress {
        config
            .enable_incremental_compilation(progress)
            .map_err(|e| ModuleError::Compile(format!("{e:#}")))?;
    }
    engine::configure(&mut config, settings.kind);
    let triple = settings.triple;
    config
        .target(triple)
        .map_err(|e| ModuleError::Compile(format!("unsupported target {triple}: {e}")))?;
    for flag in &settings.cpu_flags {
        // SAFETY: these flags only select instructions; the stub checks at
        // load time that the CPU it runs on has every one of them.
        unsafe { config.cranelift_flag_enable(flag) };
    }
    config.cranelift_opt_level(OptLevel::Speed);
    // Tables the stub never reads (measured on a 300k-function module:
    // 18.5% and 13.9% of the payload, see BENCHMARKS.md). Address maps give
    // wasm byte offsets in backtraces; the stub's trap line uses function
    // names, which come from the name section.
    config.generate_address_map(false);
    config.native_unwind_info(settings.unwind_info);
    config.parallel_compilation(true);
    let engine = Engine::new(&config).map_err(|e| {
        ModuleError::Compile(format!(
            "cannot configure the compiler (--cpu {}?): {e:#}",
            settings.cpu
        ))
    })?;
    match settings.kind {
        engine::Kind::Module => engine.precompile_module(wasm),
        engine::Kind::Component => engine.precompile_component(wasm),
    }
    .map_err(|e| ModuleError::Compile(format!("{e:#}")))
}

/// Counts the functions Cranelift has compiled, as they finish: wasmtime
/// reports no progress, but it hands every function it compiles (wasm
/// functions and the trampolines between them and the host) to an
/// incremental-compilation cache. This one never has an entry (so the code
/// is compiled exactly as without it, byte for byte) and only counts what it
/// is given.
#[derive(Debug, Default)]
pub struct Progress {
    done: AtomicUsize,
}

impl Progress {
    pub fn done(&self) -> usize {
        self.done.load(Ordering::Relaxed)
    }
}

impl CacheStore for Progress {
    fn get(&self, _key: &[u8]) -> Option<std::borrow::Cow<'_, [u8]>> {
        None
    }

    fn insert(&self, _key: &[u8], _value: Vec<u8>) -> bool {
        self.done.fetch_add(1, Ordering::Relaxed);
        false
    }
}

/// How many functions Cranelift will compile for `wasm` (in every core
/// module of a component): what [`Progress`] counts towards. Besides each
/// defined function, wasmtime compiles a trampoline for every function that
/// can be called from outside (exported, in a table or a global: a module
/// can only take `ref.func` of those) and one per function type, so those
/// are counted too (LLVM's 133 000 functions make 171 000 compilations).
pub fn compile_units(wasm: &[u8]) -> usize {
    let mut total = 0;
    // Per module: its function imports (index space before the defined
    // ones) and the functions that escape.
    let mut imported: u32 = 0;
    let mut escaping: std::collections::HashSet<u32> = Default::default();
    let ref_funcs = |expr: &wasmparser::ConstExpr,
                     escaping: &mut std::collections::HashSet<u32>| {
        let mut ops = expr.get_operators_reader();
        while let Ok(op) = ops.read() {
            if let wasmparser::Operator::RefFunc { function_index } = op {
                escaping.insert(function_index);
            }
        }
    };
    for payload in Parser::new(0).parse_all(wasm) {
        let Ok(payload) = payload else { break };
        match payload {
            Payload::TypeSection(reader) => {
                for group in reader.into_iter().flatten() {
                    total += group
                        .types()
                        .filter(|t| {
                            matches!(
                                t.composite_type.inner,
                                wasmparser::CompositeInnerType::Func(_)
                            )
                        })
                        .count();
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports().flatten() {
                    imported += u32::from(matches!(import.ty, wasmparser::TypeRef::Func(_)));
                }
            }
            Payload::CodeSectionStart { count, .. } => total += count as usize,
            Payload::ExportSection(reader) => {
                for export in reader.into_iter().flatten() {
                    if export.kind == ExternalKind::Func {
                        escaping.insert(export.index);
                    }
                }
            }
            Payload::GlobalSection(reader) => {
                for global in reader.into_iter().flatten() {
                    ref_funcs(&global.init_expr, &mut escaping);
                }
            }
            Payload::ElementSection(reader) => {
                for element in reader.into_iter().flatten() {
                    match element.items {
                        wasmparser::ElementItems::Functions(funcs) => {
                            escaping.extend(funcs.into_iter().flatten());
                        }
                        wasmparser::ElementItems::Expressions(_, exprs) => {
                            for expr in exprs.into_iter().flatten() {
                                ref_funcs(&expr, &mut escaping);
                            }
                        }
                    }
                }
            }
            Payload::End(_) => {
                total += escaping.iter().filter(|&&f| f >= imported).count();
                (imported, escaping) = (0, Default::default());
            }
            _ => {}
        }
    }
    total
}

/// Cranelift flags for `--cpu`: none for `baseline`, the features this
/// machine has for `native`, otherwise the name itself (Cranelift presets
/// such as `x86-64-v3` or `skylake`; an unknown name fails in `Engine::new`).
fn cpu_flags(cpu: &str, target: &Target) -> Result<Vec<String>, ModuleError> {
    match cpu {
        "baseline" => Ok(vec![]),
        "native" => native_flags(target),
        preset => Ok(vec![preset.to_owned()]),
    }
}

#[cfg(target_arch = "x86_64")]
fn native_flags(target: &Target) -> Result<Vec<String>, ModuleError> {
    use crate::targets::Arch;
    use std::arch::is_x86_feature_detected as has;
    if target.arch != Arch::X86_64 {
        return Err(ModuleError::Compile(format!(
            "--cpu native describes this x86_64 machine, not a {} CPU; name a CPU level instead",
            target.name
        )));
    }
    let detected = [
        ("has_sse3", has!("sse3")),
        ("has_ssse3", has!("ssse3")),
        ("has_sse41", has!("sse4.1")),
        ("has_sse42", has!("sse4.2")),
        ("has_popcnt", has!("popcnt")),
        ("has_cmpxchg16b", has!("cmpxchg16b")),
        ("has_avx", has!("avx")),
        ("has_avx2", has!("avx2")),
        ("has_fma", has!("fma")),
        ("has_bmi1", has!("bmi1")),
        ("has_bmi2", has!("bmi2")),
        ("has_lzcnt", has!("lzcnt")),
        ("has_avx512f", has!("avx512f")),
        ("has_avx512dq", has!("avx512dq")),
        ("has_avx512vl", has!("avx512vl")),
        ("has_avx512bitalg", has!("avx512bitalg")),
        ("has_avx512vbmi", has!("avx512vbmi")),
    ];
    Ok(detected
        .iter()
        .filter(|(_, present)| *present)
        .map(|(flag, _)| flag.to_string())
        .collect())
}

#[cfg(not(target_arch = "x86_64"))]
fn native_flags(target: &Target) -> Result<Vec<String>, ModuleError> {
    Err(ModuleError::Compile(format!(
        "--cpu native is only supported on x86_64 hosts; name a CPU level for {}",
        target.name
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_non_modules() {
        assert!(matches!(check(b""), Err(ModuleError::Empty)));
        assert!(matches!(check(b"hello"), Err(ModuleError::NotWasm)));
        // An empty component (layer 1) is not a command.
        let component = b"\0asm\x0d\x00\x01\x00";
        assert!(matches!(
            check(component),
            Err(ModuleError::NotCommand { .. })
        ));
        // Truncated module header.
        assert!(matches!(check(b"\0asm\x01"), Err(ModuleError::Invalid(_))));
    }

    #[test]
    fn names_are_removed_and_nothing_else() {
        let wasm =
            wat::parse_str(r#"(module $m (func $f (export "_start")) (@custom "other" "x"))"#)
                .unwrap();
        let stripped = without_names(&wasm).unwrap();
        assert!(stripped.len() < wasm.len());
        let names = |bytes: &[u8]| -> Vec<String> {
            Parser::new(0)
                .parse_all(bytes)
                .filter_map(|p| match p.unwrap() {
                    Payload::CustomSection(c) => Some(c.name().to_owned()),
                    _ => None,
                })
                .collect()
        };
        assert_eq!(names(&wasm), ["other", "name"]);
        assert_eq!(names(&stripped), ["other"]);
        check(&stripped).unwrap();
        assert!(without_names(&wasm[..wasm.len() - 1]).is_err());
    }

    #[test]
    fn empty_module_has_no_start() {
        let empty = b"\0asm\x01\x00\x00\x00";
        assert!(matches!(check(empty), Err(ModuleError::NoStart)));
    }

    #[test]
    fn compile_units_count_functions_and_their_trampolines() {
        // Two types; four defined functions, of which three escape (an
        // export, a table element, a global): 2 + 4 + 3. The import is
        // neither defined nor counted.
        let wasm = wat::parse_str(
            r#"(module
                (type (func))
                (type (func (param i32)))
                (import "m" "f" (func $imported (type 1)))
                (func $a (type 0))
                (func $b (type 0))
                (func $c (type 0))
                (func $d (type 0))
                (table 1 funcref)
                (elem (i32.const 0) $b)
                (global funcref (ref.func $c))
                (export "a" (func $a))
                (export "imported" (func $imported)))"#,
        )
        .unwrap();
        assert_eq!(compile_units(&wasm), 2 + 4 + 3);
    }
}
