//! The packing steps, in order.

use std::borrow::Cow;
use std::time::Instant;

use anyhow::{Context, Result};
use std::io::Write as _;

use wpack_stub::{Manifest, Network, Program, macho, payload};

use crate::cli::PackArgs;
use crate::targets::{Format, Target, Universal};
use crate::{codesign, compile, include, output, preinit, stub_image, windows};

/// Modules above this size get a line saying compilation is under way.
const ANNOUNCE_COMPILE_ABOVE: usize = 1 << 20;

pub fn pack(cli: &PackArgs) -> Result<()> {
    if cli.list_targets {
        print!("{}", stub_image::list_targets());
        return Ok(());
    }
    let started = Instant::now();
    let input = cli.input.as_deref().expect("clap requires INPUT");
    let shown = input.display();
    if input.is_dir() {
        anyhow::bail!("{shown} is a directory; give the path of a .wasm file");
    }
    let wasm = std::fs::read(input).with_context(|| format!("cannot read {shown}"))?;
    // WebAssembly text (`.wat`) is accepted as `wasmtime compile` accepts it.
    let wasm = compile::from_text(wasm).with_context(|| shown.to_string())?;
    let output = match &cli.output {
        Some(path) => path.clone(),
        None => output::default_path(input)?,
    };
    output::check_target(&output, input)?;

    let program = compile::check(&wasm).with_context(|| shown.to_string())?;
    // Before anything slow: a module that cannot compile is refused now.
    compile::validate(&wasm, &program).with_context(|| shown.to_string())?;
    check_options(cli, &program, &shown)?;
    let stub_name = match &cli.stub {
        Some(path) => format!("the stub {}", path.display()),
        None => "the built-in stub".to_owned(),
    };
    // `--target universal-macos`: one packed program per slice, each with
    // its own stub; `target` and `stub` are then the first slice's.
    let universal = cli.target.first().map(String::as_str).and_then(stub_image::find_universal);
    let slices = match universal {
        Some(universal) => universal_slices(universal, cli, &program)?,
        None => Vec::new(),
    };
    let (target, stub) = match (cli.target.first(), &cli.stub) {
        _ if !slices.is_empty() => slices[0].clone(),
        (Some(name), path) => {
            let target = stub_image::find_target(name)?;
            (target, stub_image::load(path.as_deref(), target, &program)?)
        }
        (None, None) => {
            let target = stub_image::default_target();
            (target, stub_image::load(None, target, &program)?)
        }
        // Only a stub file: it says which platform to compile for.
        (None, Some(path)) => {
            let stub = stub_image::load(Some(path), stub_image::default_target(), &program)?;
            (stub_image::target_of(&stub, &stub_name)?, stub)
        }
    };
    stub_image::check(&stub, target, &stub_name, &program)?;
    // A Windows output's copy of the stub gets its manifest and the
    // --windows-* resources now, so that a bad icon or a stub editpe cannot
    // edit is refused before the compilation.
    let windows_resources = windows::Resources::from_args(cli, target)?;
    let stub = match target.format {
        Format::Pe => std::borrow::Cow::Owned(
            windows::with_resources(&stub, &windows_resources)
                .with_context(|| stub_name.clone())?,
        ),
        _ => stub,
    };

    if !cli.quiet {
        warn_about_missing_dirs(cli);
    }
    let included = include::read(&cli.includes, &cli.dirs, &output)?;
    if !cli.quiet && !included.trees.is_empty() {
        eprintln!(
            "wpack: embedding {} files ({})",
            included.contents.len(),
            human(included.total_bytes())
        );
    }
    let (wasm, init) = match &cli.init_func {
        Some(func) => {
            let snapshot = preinitialize(cli, func, &wasm, &included, &output)
                .with_context(|| shown.to_string())?;
            // Renames may have taken `_start` away.
            compile::check(&snapshot.wasm)
                .with_context(|| format!("{shown}, pre-initialized by {func}"))?;
            (snapshot.wasm, Some(snapshot.init))
        }
        None => (wasm, None),
    };
    let wasm = if cli.strip_names {
        compile::without_names(&wasm).with_context(|| shown.to_string())?
    } else {
        wasm
    };
    let compiled = compile(cli, &wasm, &program, target).with_context(|| shown.to_string())?;

    let manifest = Manifest {
        wpack_version: env!("CARGO_PKG_VERSION").to_owned(),
        target: target.triple.to_owned(),
        module_name: input
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
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
    };
    let contents: Vec<&[u8]> = included.contents.iter().map(Vec::as_slice).collect();
    match target.format {
        Format::MachO if universal.is_some() => {
            let identifier = output::program_name(&output);
            let file = universal_file(
                cli,
                &slices,
                &wasm,
                &compiled,
                &manifest,
                &contents,
                &identifier,
            )
            .with_context(|| shown.to_string())?;
            output::write_atomically(&output, |out| out.write_all(&file))?;
        }
        Format::MachO => {
            let identifier = output::program_name(&output);
            let file = macos_file(&stub, &compiled, &manifest, &contents, &identifier)
                .with_context(|| format!("cannot lay out the macOS file ({stub_name})"))?;
            output::write_atomically(&output, |out| out.write_all(&file))?;
        }
        // The checksum covers the whole file: built in memory, set last.
        Format::Pe => {
            let mut file = Vec::new();
            payload::write(&mut file, &stub, &compiled, &manifest, &contents)?;
            windows::finish(&mut file).with_context(|| stub_name.clone())?;
            output::write_atomically(&output, |out| out.write_all(&file))?;
        }
        Format::Elf => output::write_atomically(&output, |out| {
            payload::write(out, &stub, &compiled, &manifest, &contents).map(drop)
        })?,
    }

    if !cli.quiet {
        let size = std::fs::metadata(&output)
            .map(|m| m.len() as usize)
            .unwrap_or(0);
        eprintln!(
            "wpack: packed {shown} into {} ({}, {}) in {:.2}s",
            output.display(),
            human(size),
            universal.map_or(target.name, |u| u.name),
            started.elapsed().as_secs_f64()
        );
        // Windows keeps no executable permission to give the file: whoever
        // runs it on Linux or macOS has to.
        if cfg!(windows) && !matches!(target.format, Format::Pe) {
            eprintln!(
                "wpack: Windows records no executable permission; on the {} machine, run `chmod +x {}` first",
                target.name,
                output.file_name().unwrap_or_default().to_string_lossy()
            );
        }
    }
    Ok(())
}

/// Compiles `wasm` for `target`, saying so first if that takes a while.
fn compile(cli: &PackArgs, wasm: &[u8], program: &Program, target: &Target) -> Result<Vec<u8>> {
    if cli.quiet || wasm.len() <= ANNOUNCE_COMPILE_ABOVE {
        return Ok(compile::precompile(wasm, program, target, &cli.cpu)?);
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let expected = wasm.len() as f64 / (BYTES_PER_CORE_SECOND * cores);
    eprintln!(
        "wpack: compiling {} for {} ({}), about {expected:.0}s...",
        cli.input.as_deref().expect("clap requires INPUT").display(),
        target.name,
        human(wasm.len())
    );
    Ok(with_progress("compiling", Some(expected), || {
        compile::precompile(wasm, program, target, &cli.cpu)
    })?)
}

/// One program of a universal file: its target and stub.
type Slice = (&'static Target, Cow<'static, [u8]>);

/// The (target, stub) of each slice of a universal file.
fn universal_slices(
    universal: &Universal,
    cli: &PackArgs,
    program: &Program,
) -> Result<Vec<Slice>> {
    if cli.stub.is_some() {
        anyhow::bail!(
            "--stub gives one stub, but {} needs one per slice ({}); leave out --stub, or \
             pack each of those targets with its own stub",
            universal.name,
            universal.slices.join(", ")
        );
    }
    universal
        .slices
        .iter()
        .map(|name| {
            let target = stub_image::find_target(name)?;
            let stub = stub_image::load(None, target, program)?;
            stub_image::check(&stub, target, "the built-in stub", program)?;
            Ok((target, stub))
        })
        .collect()
}

/// A macOS universal file: each slice exactly the thin file [`macos_file`]
/// makes for its target, with its own compiled code and a manifest naming
/// its target, all signed as `identifier`. Embedded files are stored in
/// each slice: a slice is then a complete program on its own (`lipo -thin`
/// gives a working file), its signature covers them, and its offsets stay
/// relative to it, as the stub reads them.
fn universal_file(
    cli: &PackArgs,
    slices: &[Slice],
    wasm: &[u8],
    first_compiled: &[u8],
    manifest: &Manifest,
    contents: &[&[u8]],
    identifier: &str,
) -> Result<Vec<u8>> {
    let mut files = Vec::with_capacity(slices.len());
    for (i, (target, stub)) in slices.iter().enumerate() {
        // The first slice's code is compiled already.
        let compiled = match i {
            0 => Cow::Borrowed(first_compiled),
            _ => Cow::Owned(compile(cli, wasm, &manifest.program, target)?),
        };
        let manifest = Manifest {
            target: target.triple.to_owned(),
            ..manifest.clone()
        };
        let file = macos_file(stub, &compiled, &manifest, contents, identifier)
            .with_context(|| format!("cannot lay out the {} slice", target.name))?;
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
    compiled: &[u8],
    manifest: &Manifest,
    contents: &[&[u8]],
    identifier: &str,
) -> Result<Vec<u8>> {
    let head = macho::stub_head(stub)?;
    let mut packed = Vec::new();
    let payload_offset = payload::write(&mut packed, head, compiled, manifest, contents)?;
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
    output: &std::path::Path,
) -> Result<preinit::Snapshot> {
    let request = preinit::Request {
        func: func.to_owned(),
        keep: cli.keep_init_func,
        renames: cli.rename_func.clone(),
    };
    let world = preinit::World {
        program_name: output::program_name(output),
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
        with_progress("initializing", None, || {
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

/// Compilation speed, measured: 1.75 MB of wasm per second per core for the
/// 300 000-function module of BENCHMARKS.md, 0.5 for a 5 MB one of 60 000
/// small functions; the slower rate is used for estimates.
const BYTES_PER_CORE_SECOND: f64 = 0.5e6;

/// Runs `work` (compilation or an init function, which report no progress
/// of their own) while stderr shows the time spent and, given the
/// `expected` seconds, an estimate of how far it got. On a terminal the
/// line updates in place; otherwise a line every 2 seconds.
fn with_progress<T: Send>(verb: &str, expected: Option<f64>, work: impl FnOnce() -> T + Send) -> T {
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
            let done = expected
                .map(|expected| {
                    format!(", about {:.0}% done", (100.0 * spent / expected).min(99.0))
                })
                .unwrap_or_default();
            if tty {
                eprint!("\rwpack: {verb}: {spent:.0}s{done} ");
            } else {
                eprintln!("wpack: {verb}: {spent:.1}s{done}");
            }
        }
        if tty && ticked {
            eprintln!(
                "\rwpack: {verb} took {:.1}s                      ",
                started.elapsed().as_secs_f64()
            );
        }
        worker.join().expect("the worker thread panicked")
    })
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
