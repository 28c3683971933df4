//! The packing steps, in order.

use std::time::Instant;

use anyhow::{Context, Result};
use std::io::Write as _;

use wpack_stub::{Manifest, macho, payload};

use crate::cli::PackArgs;
use crate::targets::Format;
use crate::{codesign, compile, output, stub_image};

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
    let output = match &cli.output {
        Some(path) => path.clone(),
        None => output::default_path(input)?,
    };
    output::check_target(&output, input)?;

    let stub_name = match &cli.stub {
        Some(path) => format!("the stub {}", path.display()),
        None => "the built-in stub".to_owned(),
    };
    let (target, stub) = match (&cli.target, &cli.stub) {
        (Some(name), path) => {
            let target = stub_image::find_target(name)?;
            (target, stub_image::load(path.as_deref(), target)?)
        }
        (None, None) => {
            let target = stub_image::default_target();
            (target, stub_image::load(None, target)?)
        }
        // Only a stub file: it says which platform to compile for.
        (None, Some(path)) => {
            let stub = stub_image::load(Some(path), stub_image::default_target())?;
            (stub_image::target_of(&stub, &stub_name)?, stub)
        }
    };
    stub_image::check(&stub, target, &stub_name)?;

    compile::check_module(&wasm).with_context(|| shown.to_string())?;
    if !cli.quiet {
        warn_about_missing_dirs(cli);
    }
    if !cli.quiet && wasm.len() > ANNOUNCE_COMPILE_ABOVE {
        eprintln!(
            "wpack: compiling {shown} ({}) for {}...",
            human(wasm.len()),
            target.name
        );
    }
    let wasm = if cli.strip_names {
        compile::without_names(&wasm).with_context(|| shown.to_string())?
    } else {
        wasm
    };
    let compiled =
        compile::precompile(&wasm, target, &cli.cpu).with_context(|| shown.to_string())?;

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
    };
    match target.format {
        Format::MachO => {
            let identifier = output
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "wpack-program".to_owned());
            let file = macos_file(&stub, &compiled, &manifest, &identifier)
                .with_context(|| format!("cannot lay out the macOS file ({stub_name})"))?;
            output::write_atomically(&output, |out| out.write_all(&file))?;
        }
        Format::Elf | Format::Pe => output::write_atomically(&output, |out| {
            payload::write(out, &stub, &compiled, &manifest)
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
            target.name,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// A packed macOS program: the payload in a segment of its own before the
/// stub's `__LINKEDIT`, then an ad hoc signature over everything, written
/// last (see `wpack_stub::macho`). `identifier` names the signed program.
fn macos_file(
    stub: &[u8],
    compiled: &[u8],
    manifest: &Manifest,
    identifier: &str,
) -> Result<Vec<u8>> {
    let head = macho::stub_head(stub)?;
    let mut packed = Vec::new();
    payload::write(&mut packed, head, compiled, manifest)?;
    let payload_offset = payload::payload_offset_for(head.len() as u64);
    let mut file = macho::finish(stub, packed, payload_offset, |code_limit| {
        codesign::signature_len(code_limit, identifier)
    })?;
    codesign::sign(&mut file, identifier)?;
    Ok(file)
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
