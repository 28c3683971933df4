//! The packing steps, in order: work out what to write, prepare the
//! program once (read, check and validate it, walk the embedded trees,
//! pre-initialize it), compile it once per kind of machine code, then emit
//! it for each target.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use std::io::Write as _;

use wpack_stub::{Manifest, Network, Program, macho, payload};

use crate::cache::Cache;
use crate::cli::PackArgs;
use crate::compile::Settings;
use crate::stub_image::Choice;
use crate::targets::{Format, Target};
use crate::{codesign, compile, include, output, preinit, release, stub_image, suite, windows};

/// Modules above this size get a line saying compilation is under way.
const ANNOUNCE_COMPILE_ABOVE: usize = 1 << 20;

/// One file to write: what it is for, where it goes, and the stub of each
/// part (one, or one per slice of a universal file).
struct Emit {
    choice: Choice,
    path: PathBuf,
    parts: Vec<Part>,
}

/// One program inside an output: its target, its stub, and which of the
/// run's compilations it uses.
struct Part {
    target: &'static Target,
    stub: Cow<'static, [u8]>,
    code: usize,
}

/// One distinct module (or component) of the output, read and checked: the
/// input, or each different program `--command` names (two commands on the
/// same bytes share one).
struct Module {
    path: PathBuf,
    wasm: Vec<u8>,
    program: Program,
}

/// The code of every module of an output, compiled with one `Settings`, in
/// module order: the first is the payload, the others a suite's codes 1...
type Compiled = Vec<Vec<u8>>;

/// One slice of a universal file: its stub, compiled code and manifest.
type Slice<'a> = (&'a [u8], &'a [Vec<u8>], Manifest);

pub fn pack(cli: &PackArgs) -> Result<()> {
    if cli.list_targets {
        print!("{}", stub_image::list_targets());
        return Ok(());
    }
    if let (Some(dir), true) = (&cli.links, cli.commands.is_empty()) {
        let file = cli.input.as_deref().expect("clap requires INPUT");
        return suite::links_for_packed(dir, file, cli.quiet);
    }
    let started = Instant::now();
    let spec = suite::from_args(cli)?;
    let inputs: Vec<PathBuf> = match &spec {
        Some(spec) => spec.inputs.clone(),
        None => vec![cli.input.clone().expect("clap requires INPUT")],
    };
    let input = inputs[0].as_path();
    let shown = input.display();
    let choices = choose(cli)?;
    if cli.links.is_some() && choices.len() > 1 {
        anyhow::bail!(
            "--links makes links to one file, but {} targets are asked for; pack for one \
             --target, or make the links of each output with `wpack --links DIR FILE`",
            choices.len()
        );
    }
    // What names the outputs: the input, or a suite's first command.
    let name = match &spec {
        Some(spec) => spec.commands[0].name.clone(),
        None => output::default_path(input)?.to_string_lossy().into_owned(),
    };
    let input_paths: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    let paths = output::paths(cli, &name, &input_paths, &choices)?;

    // Every program read and validated before anything slow: one that
    // cannot compile is refused now. Two inputs of the same bytes are one.
    let mut modules: Vec<Module> = Vec::new();
    let mut module_of_input = Vec::new();
    for path in &inputs {
        let (wasm, program) = read_module(path)?;
        check_options(cli, &program, &path.display())?;
        match modules.iter().position(|m| m.wasm == wasm) {
            Some(i) => module_of_input.push(i),
            None => {
                modules.push(Module {
                    path: path.clone(),
                    wasm,
                    program,
                });
                module_of_input.push(modules.len() - 1);
            }
        }
    }
    if let Some(spec) = &spec {
        let programs: Vec<Program> = module_of_input
            .iter()
            .map(|&m| modules[m].program.clone())
            .collect();
        suite::check_kinds(spec, &programs)?;
    }
    let program = modules[0].program.clone();
    let program_name = match output::names_a_directory(cli) {
        // Shared by every output: the name the program has in all of them.
        true => name,
        false => output::program_name(&paths[0]),
    };
    let archive_files = cli.archive || !cli.archive_file.is_empty();
    if archive_files {
        release::check_extras(&cli.archive_file, &program_name)?;
    }
    let (mut emits, settings) = plan(cli, &program, &choices, paths)?;

    if !cli.quiet {
        warn_about_missing_dirs(cli);
    }
    let outputs: Vec<&Path> = emits.iter().map(|e| e.path.as_path()).collect();
    let included = include::read(&cli.includes, &cli.dirs, &outputs)?;
    if !cli.quiet && !included.trees.is_empty() {
        eprintln!(
            "wpack: embedding {} files ({})",
            included.contents.len(),
            human(included.total_bytes())
        );
    }
    // `suite::from_args` refused --init-func with --command: one module here.
    let init = match &cli.init_func {
        Some(func) => {
            let snapshot = preinitialize(cli, func, &modules[0].wasm, &included, &program_name)
                .with_context(|| shown.to_string())?;
            // Renames may have taken `_start` away.
            compile::check(&snapshot.wasm)
                .with_context(|| format!("{shown}, pre-initialized by {func}"))?;
            modules[0].wasm = snapshot.wasm;
            Some(snapshot.init)
        }
        None => None,
    };
    if cli.strip_names {
        for module in &mut modules {
            module.wasm = compile::without_names(&module.wasm)
                .with_context(|| module.path.display().to_string())?;
        }
    }

    let mut manifest = Manifest {
        wpack_version: env!("CARGO_PKG_VERSION").to_owned(),
        target: String::new(), // each part's own, below
        module_name: file_name(input),
        dirs: cli.dirs.clone(),
        env: cli.env.clone(),
        inherit_env: cli.inherit_env,
        host_fs: cli.host_fs,
        args: cli.args.clone(),
        trees: included.trees,
        program,
        network: Network {
            inherit: cli.inherit_network,
            ip_name_lookup: cli.allow_ip_name_lookup,
        },
        init,
        suite: None,
    };
    if let Some(spec) = &spec {
        let code_of_input: Vec<u32> = module_of_input.iter().map(|&m| m as u32).collect();
        let codes = modules[1..]
            .iter()
            .map(|m| wpack_stub::manifest::Code {
                module_name: file_name(&m.path),
                program: m.program.clone(),
                ..Default::default()
            })
            .collect();
        manifest.suite = Some(suite::table(spec, &code_of_input, codes, &manifest));
    }
    let contents: Vec<&[u8]> = included.contents.iter().map(Vec::as_slice).collect();
    if output::names_a_directory(cli) {
        let dir = emits[0].path.parent().unwrap_or(Path::new("."));
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the directory {}", dir.display()))?;
        }
    }

    // Each compilation in turn, each output as soon as its code is there;
    // code no output still needs is dropped, so a big module's compiled
    // code is held about once, not once per target.
    let cache = Cache::open(cli.no_cache, cli.quiet);
    let digests: Vec<[u8; 32]> = match &cache {
        Some(_) => modules.iter().map(|m| Cache::digest(&m.wasm)).collect(),
        None => Vec::new(),
    };
    // What the report of each output names (the input, or the commands)
    // and the links made to each.
    let command_names: Vec<&str> = spec
        .iter()
        .flat_map(|s| &s.commands)
        .map(|c| c.name.as_str())
        .collect();
    let packed = match command_names.len() {
        0 => shown.to_string(),
        n => format!("{n} commands ({})", command_names.join(", ")),
    };
    let mut codes: Vec<Option<Compiled>> = vec![None; settings.len()];
    let mut written = Vec::new();
    let steps = settings.len() * modules.len();
    for (i, (settings, targets)) in settings.iter().enumerate() {
        let mut compiled = Vec::with_capacity(modules.len());
        for (j, module) in modules.iter().enumerate() {
            let step = (i * modules.len() + j + 1, steps);
            let cache = cache.as_ref().map(|cache| (cache, &digests[j]));
            compiled.push(
                compile(cli, module, settings, targets, step, cache)
                    .with_context(|| module.path.display().to_string())?,
            );
        }
        codes[i] = Some(compiled);
        let ready: Vec<Emit>;
        (ready, emits) = emits
            .into_iter()
            .partition(|e| e.parts.iter().all(|p| codes[p.code].is_some()));
        for emit in ready {
            write(&emit, &codes, &manifest, &contents)
                .with_context(|| format!("{shown} for {}", emit.choice.name()))?;
            if !cli.quiet {
                let size = std::fs::metadata(&emit.path).map_or(0, |m| m.len() as usize);
                let what = format!("{}, {}", human(size), emit.choice.name());
                match output::names_a_directory(cli) {
                    true => eprintln!("wpack: wrote {} ({what})", emit.path.display()),
                    false => eprintln!(
                        "wpack: packed {packed} into {} ({what}) in {:.2}s",
                        emit.path.display(),
                        started.elapsed().as_secs_f64()
                    ),
                }
            }
            if let Some(dir) = &cli.links {
                if command_names.is_empty() {
                    anyhow::bail!(
                        "--links: {} holds one program; give --command NAME=INPUT for each \
                         command to make a file of several",
                        emit.path.display()
                    );
                }
                let (made, kind) =
                    suite::make_links(dir, &emit.path, &command_names, emit.choice.is_windows())?;
                if !cli.quiet {
                    suite::report_links(&made, &emit.path, kind);
                }
            }
            written.push(emit);
        }
        for (j, code) in codes.iter_mut().enumerate() {
            if !emits.iter().any(|e| e.parts.iter().any(|p| p.code == j)) {
                *code = None;
            }
        }
    }

    let mut files: Vec<PathBuf> = written.iter().map(|e| e.path.clone()).collect();
    if archive_files {
        for emit in &written {
            let archive = release::archive(
                &emit.path,
                &program_name,
                emit.choice.triple(),
                emit.choice.is_windows(),
                &cli.archive_file,
            )?;
            if !cli.quiet {
                eprintln!("wpack: wrote {}", archive.display());
            }
            files.push(archive);
        }
    }
    if cli.checksums {
        let dir = match written[0].path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
            _ => PathBuf::from("."),
        };
        let sums = release::checksums(&dir, &files)?;
        if !cli.quiet {
            eprintln!("wpack: wrote {}", sums.display());
        }
    }
    if !cli.quiet && output::names_a_directory(cli) {
        eprintln!(
            "wpack: packed {shown} for {} target{} in {:.2}s",
            written.len(),
            if written.len() == 1 { "" } else { "s" },
            started.elapsed().as_secs_f64()
        );
    }
    if !cli.quiet && cfg!(windows) {
        // Windows keeps no executable permission to give the file: whoever
        // runs it on Linux or macOS has to.
        for emit in written.iter().filter(|e| !e.choice.is_windows()) {
            eprintln!(
                "wpack: Windows records no executable permission; on the {} machine, run `chmod +x {}` first",
                emit.choice.name(),
                emit.path.file_name().unwrap_or_default().to_string_lossy()
            );
        }
    }
    Ok(())
}

/// The outputs `--target` (and `--stub`) ask for.
fn choose(cli: &PackArgs) -> Result<Vec<Choice>> {
    if cli.target.is_empty() {
        return Ok(vec![Choice::Thin(match &cli.stub {
            // Only a stub file: it says which platform to compile for.
            Some(path) => {
                let stub =
                    stub_image::load(Some(path), stub_image::default_target(), &Program::Module)?;
                stub_image::target_of(&stub, &format!("the stub {}", path.display()))?
            }
            None => stub_image::default_target(),
        })]);
    }
    let choices = stub_image::choose(&cli.target)?;
    if cli.stub.is_some() {
        match choices.as_slice() {
            [Choice::Thin(_)] => {}
            [Choice::Universal(universal)] => anyhow::bail!(
                "--stub gives one stub, but {} needs one per slice ({}); leave out --stub, or \
                 pack each of those targets with its own stub",
                universal.name,
                universal.slices.join(", ")
            ),
            _ => anyhow::bail!(
                "--stub gives the stub of one target, but {} targets are asked for; leave out \
                 --stub or pack for one --target",
                choices.len()
            ),
        }
    }
    Ok(choices)
}

/// The stubs of every output, checked, and the distinct compilations they
/// need (with the targets each serves, to name them in progress lines).
#[allow(clippy::type_complexity)]
fn plan(
    cli: &PackArgs,
    program: &Program,
    choices: &[Choice],
    paths: Vec<PathBuf>,
) -> Result<(Vec<Emit>, Vec<(Settings, Vec<&'static Target>)>)> {
    let all_parts: Vec<&Target> = choices.iter().flat_map(|c| c.parts()).collect();
    // Read now, so that a bad icon or a stub editpe cannot edit is refused
    // before the compilation.
    let windows_resources = windows::Resources::from_args(cli, &all_parts)?;
    let mut settings: Vec<(Settings, Vec<&'static Target>)> = Vec::new();
    let mut emits = Vec::new();
    for (&choice, path) in choices.iter().zip(paths) {
        let mut parts = Vec::new();
        for target in choice.parts() {
            let stub_name = match &cli.stub {
                Some(path) => format!("the stub {}", path.display()),
                None => "the built-in stub".to_owned(),
            };
            let stub = stub_image::load(cli.stub.as_deref(), target, program)?;
            stub_image::check(&stub, target, &stub_name, program)?;
            let stub = match target.format {
                // A Windows output's copy of the stub gets its manifest and
                // the --windows-* resources.
                Format::Pe => Cow::Owned(
                    windows::with_resources(&stub, &windows_resources)
                        .with_context(|| stub_name.clone())?,
                ),
                _ => stub,
            };
            let wanted = Settings::new(program, target, &cli.cpu)?;
            let code = match settings.iter().position(|(s, _)| *s == wanted) {
                Some(i) => {
                    if !settings[i].1.contains(&target) {
                        settings[i].1.push(target);
                    }
                    i
                }
                None => {
                    settings.push((wanted, vec![target]));
                    settings.len() - 1
                }
            };
            parts.push(Part { target, stub, code });
        }
        emits.push(Emit {
            choice,
            path,
            parts,
        });
    }
    Ok((emits, settings))
}

/// Writes one output: the stub, the payload of its compiled code and the
/// manifest (for a universal file, one of each per slice).
fn write(
    emit: &Emit,
    codes: &[Option<Compiled>],
    manifest: &Manifest,
    contents: &[&[u8]],
) -> Result<()> {
    let code = |part: &Part| -> &[Vec<u8>] {
        codes[part.code]
            .as_deref()
            .expect("compiled before its outputs")
    };
    let manifest_for = |target: &Target| Manifest {
        target: target.triple.to_owned(),
        ..manifest.clone()
    };
    let path = &emit.path;
    match emit.choice {
        Choice::Universal(_) => {
            let identifier = output::program_name(path);
            let slices: Vec<Slice> = emit
                .parts
                .iter()
                .map(|p| (p.stub.as_ref(), code(p), manifest_for(p.target)))
                .collect();
            let file = universal_file(&emit.parts, &slices, contents, &identifier)?;
            output::write_atomically(path, |out| out.write_all(&file))
        }
        Choice::Thin(target) => {
            let part = &emit.parts[0];
            let (stub, compiled, manifest) = (&part.stub, code(part), manifest_for(target));
            match target.format {
                Format::MachO => {
                    let identifier = output::program_name(path);
                    let file = macos_file(stub, compiled, &manifest, contents, &identifier)
                        .context("cannot lay out the macOS file")?;
                    output::write_atomically(path, |out| out.write_all(&file))
                }
                // The checksum covers the whole file: built in memory, set last.
                Format::Pe => {
                    let mut file = Vec::new();
                    write_payload(&mut file, stub, compiled, &manifest, contents)?;
                    windows::finish(&mut file)?;
                    output::write_atomically(path, |out| out.write_all(&file))
                }
                Format::Elf => output::write_atomically(path, |out| {
                    write_payload(out, stub, compiled, &manifest, contents).map(drop)
                }),
            }
        }
    }
}

/// `payload::write` of the first of `compiled` as the payload, the others
/// (a suite's) before it.
fn write_payload(
    out: &mut impl std::io::Write,
    stub: &[u8],
    compiled: &[Vec<u8>],
    manifest: &Manifest,
    contents: &[&[u8]],
) -> std::io::Result<u64> {
    let others: Vec<&[u8]> = compiled[1..].iter().map(Vec::as_slice).collect();
    payload::write_with_codes(out, stub, &compiled[0], &others, manifest, contents)
}

/// Compiles `module` with `settings` (for `targets`), or takes the code from
/// the cache (given with the digest of the module, taken once per run);
/// says so first if that takes a while.
fn compile(
    cli: &PackArgs,
    module: &Module,
    settings: &Settings,
    targets: &[&Target],
    (step, steps): (usize, usize),
    cache: Option<(&Cache, &[u8; 32])>,
) -> Result<Vec<u8>> {
    let wasm = module.wasm.as_slice();
    let big = !cli.quiet && wasm.len() > ANNOUNCE_COMPILE_ABOVE;
    let names: Vec<&str> = targets.iter().map(|t| t.name).collect();
    let names = names.join(" and ");
    let of = match steps {
        1 => String::new(),
        _ => format!(" ({step} of {steps})"),
    };
    let (cache, key) = match cache {
        Some((cache, digest)) => (Some(cache), Cache::key(digest, &settings.describe())),
        None => (None, None),
    };
    if let (Some(cache), Some(key)) = (cache, &key)
        && let Some(code) = cache.get(key)
    {
        if big {
            eprintln!(
                "wpack: {names}{of}: compiled code from the cache in {}",
                cache.dir().display()
            );
        }
        return Ok(code);
    }
    let code = if big {
        let started = Instant::now();
        let functions = compile::compile_units(wasm);
        eprintln!(
            "wpack: compiling {} for {names}{of} ({}, {} functions and trampolines)...",
            module.path.display(),
            human(wasm.len()),
            thousands(functions)
        );
        let progress = std::sync::Arc::new(compile::Progress::default());
        let counted = progress.clone();
        with_progress(
            "compiling",
            move || compiled_so_far(counted.done(), functions, started.elapsed().as_secs_f64()),
            || compile::precompile(wasm, settings, Some(progress)),
        )?
    } else {
        compile::precompile(wasm, settings, None)?
    };
    if let (Some(cache), Some(key)) = (cache, &key) {
        cache.put(key, &code);
    }
    Ok(code)
}

/// A macOS universal file: each slice exactly the thin file [`macos_file`]
/// makes for its target (`slices`: stub, compiled code and manifest of
/// each `parts`), all signed as `identifier`. Embedded files are stored in
/// each slice: a slice is then a complete program on its own (`lipo -thin`
/// gives a working file), its signature covers them, and its offsets stay
/// relative to it, as the stub reads them.
fn universal_file(
    parts: &[Part],
    slices: &[Slice],
    contents: &[&[u8]],
    identifier: &str,
) -> Result<Vec<u8>> {
    let mut files = Vec::with_capacity(slices.len());
    for (part, (stub, compiled, manifest)) in parts.iter().zip(slices) {
        let file = macos_file(stub, compiled, manifest, contents, identifier)
            .with_context(|| format!("cannot lay out the {} slice", part.target.name))?;
        // The table names each slice by its header's CPU, as lipo does.
        let header = goblin::mach::MachO::parse(&file, 0)
            .context("cannot read back the slice's Mach-O header")?
            .header;
        files.push((header.cputype, header.cpusubtype, file));
    }
    let table: Vec<(u32, u32, &[u8])> = files
        .iter()
        .map(|(cputype, cpusubtype, file)| (*cputype, *cpusubtype, file.as_slice()))
        .collect();
    macho::write_fat(&table).map_err(|e| {
        anyhow::anyhow!("cannot make the universal file: {e}; pack each architecture on its own")
    })
}

/// A packed macOS program: the payload in a segment of its own before the
/// stub's `__LINKEDIT`, then an ad hoc signature over everything, written
/// last (see `wpack_stub::macho`). `identifier` names the signed program.
fn macos_file(
    stub: &[u8],
    compiled: &[Vec<u8>],
    manifest: &Manifest,
    contents: &[&[u8]],
    identifier: &str,
) -> Result<Vec<u8>> {
    let head = macho::stub_head(stub)?;
    let mut packed = Vec::new();
    let payload_offset = write_payload(&mut packed, head, compiled, manifest, contents)?;
    let mut file = macho::finish(stub, packed, payload_offset, |code_limit| {
        codesign::signature_len(code_limit, identifier)
    })?;
    codesign::sign(&mut file, identifier)?;
    Ok(file)
}

/// Runs the module's init function (`--init-func`) with what the program
/// will be given that is fixed now, and returns the snapshot.
fn preinitialize(
    cli: &PackArgs,
    func: &str,
    wasm: &[u8],
    included: &include::Included,
    program_name: &str,
) -> Result<preinit::Snapshot> {
    let request = preinit::Request {
        func: func.to_owned(),
        keep: cli.keep_init_func,
        renames: cli.rename_func.clone(),
    };
    let world = preinit::World {
        program_name: program_name.to_owned(),
        args: &cli.args,
        env: cli
            .env
            .iter()
            .filter_map(|var| Some((var.name.clone(), var.value.clone()?)))
            .collect(),
        dirs: cli.dirs.iter().map(|dir| dir.guest.clone()).collect(),
        host_fs: cli.host_fs,
        trees: &included.trees,
        contents: &included.contents,
    };
    let started = Instant::now();
    let snapshot = if cli.quiet {
        preinit::run(wasm, &request, &world)
    } else {
        with_progress("initializing", String::new, || {
            preinit::run(wasm, &request, &world)
        })
    }?;
    if !cli.quiet {
        eprintln!(
            "wpack: ran {func} in {:.2}s; the snapshot is {}",
            started.elapsed().as_secs_f64(),
            human(snapshot.wasm.len())
        );
    }
    Ok(snapshot)
}

/// The tail of a compile progress line: how many functions are compiled,
/// counted as Cranelift finishes them (`compile::Progress`), and the time
/// left at the rate so far, corrected at every line. `total` is
/// `compile::compile_units`; past it (it counts one trampoline per function
/// type, wasmtime one per distinct signature, so it may be a little off),
/// what is left is laying out the code.
fn compiled_so_far(done: usize, total: usize, spent: f64) -> String {
    if done == 0 || total == 0 {
        return String::new();
    }
    if done >= total {
        return format!(", {} functions compiled, finishing", thousands(done));
    }
    let left = spent * (total - done) as f64 / done as f64;
    format!(
        ", {} of {} functions ({:.0}%), about {left:.0}s left",
        thousands(done),
        thousands(total),
        100.0 * done as f64 / total as f64
    )
}

/// Runs `work` (compilation or an init function) while stderr shows the
/// time spent and what `status` says of the work so far. On a terminal the
/// line updates in place; otherwise a line every 2 seconds.
fn with_progress<T: Send>(
    verb: &str,
    status: impl Fn() -> String,
    work: impl FnOnce() -> T + Send,
) -> T {
    use std::io::IsTerminal;
    let tty = std::io::stderr().is_terminal();
    let started = Instant::now();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    std::thread::scope(|scope| {
        let worker = scope.spawn(move || {
            let result = work();
            let _ = done_tx.send(());
            result
        });
        // WPACK_PROGRESS_MS overrides the interval (the tests use it, so
        // that they do not depend on how fast this machine compiles).
        let tick = std::env::var("WPACK_PROGRESS_MS")
            .ok()
            .and_then(|ms| ms.parse().ok())
            .map(std::time::Duration::from_millis)
            .unwrap_or(std::time::Duration::from_secs(if tty { 1 } else { 2 }));
        let mut ticked = false;
        while done_rx.recv_timeout(tick).is_err() {
            ticked = true;
            let spent = started.elapsed().as_secs_f64();
            let done = status();
            if tty {
                // Padded: the previous line may have been longer.
                eprint!("\rwpack: {verb}: {spent:.0}s{done}    ");
            } else {
                eprintln!("wpack: {verb}: {spent:.1}s{done}");
            }
        }
        if tty && ticked {
            eprintln!(
                "\rwpack: {verb} took {:.1}s{:60}",
                started.elapsed().as_secs_f64(),
                ""
            );
        }
        worker.join().expect("the worker thread panicked")
    })
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// Reads, checks and validates one input.
fn read_module(path: &Path) -> Result<(Vec<u8>, Program)> {
    let shown = path.display();
    if path.is_dir() {
        anyhow::bail!("{shown} is a directory; give the path of a .wasm file");
    }
    let wasm = std::fs::read(path).with_context(|| format!("cannot read {shown}"))?;
    // WebAssembly text (`.wat`) is accepted as `wasmtime compile` accepts it.
    let wasm = compile::from_text(wasm).with_context(|| shown.to_string())?;
    let program = compile::check(&wasm).with_context(|| shown.to_string())?;
    compile::validate(&wasm, &program).with_context(|| shown.to_string())?;
    Ok((wasm, program))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Options that only one kind of program can use.
fn check_options(cli: &PackArgs, program: &Program, input: &impl std::fmt::Display) -> Result<()> {
    match program {
        Program::Module => {
            for (set, flag) in [
                (cli.inherit_network, "--inherit-network"),
                (cli.allow_ip_name_lookup, "--allow-ip-name-lookup"),
            ] {
                if set {
                    anyhow::bail!(
                        "{flag}: {input} is a WASI preview 1 module, which has no way to \
                         open sockets; build it as a WASI 0.2 component (e.g. Rust's \
                         wasm32-wasip2 target) to use the network"
                    );
                }
            }
        }
        Program::Component { .. } => {
            if cli.init_func.is_some() {
                return Err(preinit::InitError::Component).with_context(|| input.to_string());
            }
            for (set, flag) in [
                (!cli.includes.is_empty(), "--include"),
                (cli.strip_names, "--strip-names"),
            ] {
                if set {
                    anyhow::bail!(
                        "{flag} is not supported for components yet ({input} is a WASI 0.2 \
                         component); pack a wasm32-wasip1 build of it to use {flag}"
                    );
                }
            }
        }
    }
    Ok(())
}

/// A `--dir` is resolved where the program runs, so one missing here is
/// allowed (it may exist there); but it is more often a typo, so say so.
fn warn_about_missing_dirs(cli: &PackArgs) {
    for dir in &cli.dirs {
        if !std::path::Path::new(&dir.host).is_dir() {
            eprintln!(
                "wpack: warning: --dir {}: no such directory here; the program will \
                 fail to start unless it exists where it runs",
                dir.host
            );
        }
    }
}

fn human(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / (1 << 10) as f64),
        b => format!("{b} B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_is_counted_and_the_time_left_corrected() {
        assert_eq!(compiled_so_far(0, 100, 5.0), "");
        assert_eq!(
            compiled_so_far(25, 100, 5.0),
            ", 25 of 100 functions (25%), about 15s left"
        );
        // Slower than it was: the estimate follows.
        assert!(compiled_so_far(50, 100, 20.0).ends_with("about 20s left"));
        assert_eq!(
            compiled_so_far(100_007, 100_001, 30.0),
            ", 100 007 functions compiled, finishing"
        );
        assert_eq!(thousands(1_234_567), "1 234 567");
        assert_eq!(thousands(999), "999");
    }
}
