//! The stub a packed program starts as: one built into wpack for the chosen
//! target and kind of program (core module or component: each has its own
//! stub, see `wpack_stub::runtime`), or one given with `--stub`, checked
//! before anything is appended.

use std::borrow::Cow;
use std::path::Path;

use anyhow::{Context, Result, bail};
use goblin::Object;
use goblin::elf::header::{EM_AARCH64, EM_X86_64, ET_DYN, ET_EXEC};
use goblin::mach::Mach;
use goblin::mach::constants::cputype::{CPU_TYPE_ARM64, CPU_TYPE_X86_64};
use goblin::mach::header::MH_EXECUTE;
use goblin::pe::header::{COFF_MACHINE_ARM64, COFF_MACHINE_X86_64};
use wpack_stub::{FormatError, Program, payload};

use crate::targets::{Arch, Format, TARGETS, Target, UNIVERSAL, Universal};

/// The stubs `build.rs` built: (Rust target triple, module stub, component
/// stub).
mod built {
    include!(concat!(env!("OUT_DIR"), "/stubs.rs"));
}

fn embedded(target: &Target, program: &Program) -> Option<&'static [u8]> {
    built::EMBEDDED
        .iter()
        .find(|(triple, _, _)| *triple == target.triple)
        .map(|&(_, module, component)| match program {
            Program::Module => module,
            Program::Component { .. } => component,
        })
}

/// Either kind: both stubs of a target are built together.
fn has_stubs(target: &Target) -> bool {
    embedded(target, &Program::Module).is_some()
}

/// The Rust target triple wpack itself was built for.
pub fn host_triple() -> &'static str {
    built::HOST_TRIPLE
}

/// The target used without `--target`: on Linux, the static (musl) build for
/// this machine's architecture when this wpack carries its stub, since it runs
/// on every distribution and starts fastest (no dynamic loader); otherwise
/// the platform wpack was built for. See BENCHMARKS.md for the measurements.
pub fn default_target() -> &'static Target {
    let host = TARGETS.iter().find(|t| t.triple == built::HOST_TRIPLE);
    let static_linux = host
        .filter(|h| h.triple.ends_with("-linux-gnu"))
        .and_then(|h| {
            TARGETS
                .iter()
                .find(|t| t.triple == h.triple.replace("-gnu", "-musl"))
        })
        .filter(|t| has_stubs(t));
    static_linux.or(host).unwrap_or(&TARGETS[0])
}

/// Looks up a target by its name, its Rust triple or an alias (see
/// [`find_universal`] for the other kind).
pub fn find_target(name: &str) -> Result<&'static Target> {
    TARGETS
        .iter()
        .find(|t| t.name == name || t.triple == name || t.aliases.contains(&name))
        .with_context(|| {
            let names: Vec<&str> = TARGETS
                .iter()
                .map(|t| t.name)
                .chain(UNIVERSAL.iter().map(|u| u.name))
                .collect();
            format!(
                "unknown target {name:?}; known targets: {}, or `all` (Rust target triples \
                 such as x86_64-unknown-linux-musl are accepted too)",
                names.join(", ")
            )
        })
}

/// The universal output `--target NAME` names, by its name or an alias.
pub fn find_universal(name: &str) -> Option<&'static Universal> {
    UNIVERSAL
        .iter()
        .find(|u| u.name == name || u.aliases.contains(&name))
}

/// One output a run writes: for one target, or a universal file of several.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    Thin(&'static Target),
    Universal(&'static Universal),
}

impl Choice {
    /// wpack's name for it (`{target}` in --name-template).
    pub fn name(self) -> &'static str {
        match self {
            Choice::Thin(target) => target.name,
            Choice::Universal(universal) => universal.name,
        }
    }

    /// Its Rust target triple (`{triple}`), as release tools name files:
    /// cargo-dist calls a universal macOS file `universal2-apple-darwin`.
    pub fn triple(self) -> &'static str {
        match self {
            Choice::Thin(target) => target.triple,
            Choice::Universal(universal) => universal.aliases[0],
        }
    }

    pub fn is_windows(self) -> bool {
        matches!(self, Choice::Thin(t) if t.format == Format::Pe)
    }

    /// The targets whose stubs and code it is made of.
    pub fn parts(self) -> Vec<&'static Target> {
        match self {
            Choice::Thin(target) => vec![target],
            Choice::Universal(universal) => universal
                .slices
                .iter()
                .map(|name| find_target(name).expect("UNIVERSAL names known targets"))
                .collect(),
        }
    }
}

/// What `--target` asks for, in the order given, each once: names, triples
/// and aliases, comma lists (clap splits them) and `all`, every target this
/// wpack carries stubs for, in `--list-targets` order (universal files are
/// made of those, so `all` leaves them out: ask for them by name).
pub fn choose(names: &[String]) -> Result<Vec<Choice>> {
    let mut chosen = Vec::new();
    for name in names {
        let name = name.trim();
        let found = if name == "all" {
            let carried: Vec<Choice> = TARGETS
                .iter()
                .filter(|t| has_stubs(t))
                .map(Choice::Thin)
                .collect();
            if carried.is_empty() {
                bail!("--target all: this wpack carries no stubs; see --list-targets");
            }
            carried
        } else if let Some(universal) = find_universal(name) {
            vec![Choice::Universal(universal)]
        } else {
            vec![Choice::Thin(find_target(name)?)]
        };
        for choice in found {
            if !chosen.contains(&choice) {
                chosen.push(choice);
            }
        }
    }
    Ok(chosen)
}

/// `wpack --list-targets`.
pub fn list_targets() -> String {
    let default = default_target().name;
    let mut out = String::new();
    for t in TARGETS {
        let component = Program::Component {
            imports: vec![],
            exports: vec![],
        };
        let state = match (embedded(t, &Program::Module), embedded(t, &component)) {
            (Some(module), Some(component)) => format!(
                "stubs built in ({} KiB for modules, {} KiB for components)",
                module.len() / 1024,
                component.len() / 1024
            ),
            _ => format!("no stub in this wpack: {}", how_to_build(t)),
        };
        let mark = if t.name == default { " (default)" } else { "" };
        out.push_str(&format!(
            "{:<18}{}{mark}\n{:<18}{state}\n",
            t.name, t.summary, ""
        ));
    }
    // Not "stubs built in": a universal file has no stub of its own.
    for u in UNIVERSAL {
        let slices = u.slices.join(" and ");
        let missing: Vec<&Target> = u
            .slices
            .iter()
            .filter_map(|name| TARGETS.iter().find(|t| t.name == *name))
            .filter(|t| !has_stubs(t))
            .collect();
        let state = match missing.first() {
            None => format!(
                "made of the {slices} stubs (carried); also named {}",
                u.aliases.join(", ")
            ),
            Some(t) => format!("needs the {} stub: {}", t.name, how_to_build(t)),
        };
        out.push_str(&format!("{:<18}{}\n{:<18}{state}\n", u.name, u.summary, ""));
    }
    out
}

fn how_to_build(t: &Target) -> String {
    format!(
        "`rustup target add {}`, install {}, then rebuild wpack (scripts/install-targets.sh does both)",
        t.triple, t.needs
    )
}

/// The stub bytes for `target` and `program`: `--stub PATH` if given, else
/// the embedded one.
pub fn load(path: Option<&Path>, target: &Target, program: &Program) -> Result<Cow<'static, [u8]>> {
    match path {
        Some(path) => {
            let bytes = std::fs::read(path)
                .with_context(|| format!("cannot read the stub {}", path.display()))?;
            Ok(Cow::Owned(bytes))
        }
        None => match embedded(target, program) {
            Some(bytes) => Ok(Cow::Borrowed(bytes)),
            None => bail!(
                "this wpack carries no stub for {}: {}; or pass --stub PATH",
                target.name,
                how_to_build(target)
            ),
        },
    }
}

/// The format and architecture of an executable, if it is one wpack knows.
fn kind_of(stub: &[u8], name: &str) -> Result<(Format, Arch)> {
    match Object::parse(stub) {
        Ok(Object::Elf(elf)) => {
            if !matches!(elf.header.e_type, ET_EXEC | ET_DYN) || elf.entry == 0 || !elf.is_64 {
                bail!("{name} is not a 64-bit executable (it may be a library or an object file)");
            }
            match elf.header.e_machine {
                EM_X86_64 => Ok((Format::Elf, Arch::X86_64)),
                EM_AARCH64 => Ok((Format::Elf, Arch::Aarch64)),
                machine => bail!(
                    "{name} is for an unsupported architecture (ELF machine {machine}); \
                     wpack packs for x86_64 and aarch64"
                ),
            }
        }
        Ok(Object::PE(pe)) => {
            if pe.is_lib {
                bail!("{name} is a DLL, not an executable");
            }
            match pe.header.coff_header.machine {
                COFF_MACHINE_X86_64 => Ok((Format::Pe, Arch::X86_64)),
                COFF_MACHINE_ARM64 => Ok((Format::Pe, Arch::Aarch64)),
                machine => {
                    bail!("{name} is for an unsupported architecture (PE machine {machine:#x})")
                }
            }
        }
        Ok(Object::Mach(Mach::Binary(macho))) => {
            if macho.header.filetype != MH_EXECUTE || !macho.is_64 {
                bail!("{name} is not a 64-bit macOS executable (it may be a library)");
            }
            match macho.header.cputype {
                CPU_TYPE_X86_64 => Ok((Format::MachO, Arch::X86_64)),
                CPU_TYPE_ARM64 => Ok((Format::MachO, Arch::Aarch64)),
                cpu => bail!("{name} is for an unsupported architecture (Mach-O CPU {cpu:#x})"),
            }
        }
        Ok(Object::Mach(Mach::Fat(_))) => {
            bail!("{name} is a universal (fat) macOS binary; give a stub for one architecture")
        }
        _ => bail!(
            "{name} is not an executable wpack can use as a stub (expected ELF, PE or Mach-O)"
        ),
    }
}

/// The target a `--stub` file is for, when no `--target` was given.
pub fn target_of(stub: &[u8], name: &str) -> Result<&'static Target> {
    let (format, arch) = kind_of(stub, name)?;
    TARGETS
        .iter()
        .find(|t| t.format == format && t.arch == arch)
        .with_context(|| format!("{name}: wpack has no target for this kind of executable"))
}

/// Checks that `stub` is a bare stub executable for `target` that runs
/// `program`'s kind.
pub fn check(stub: &[u8], target: &Target, name: &str, program: &Program) -> Result<()> {
    match payload::read(stub) {
        Err(FormatError::NotPacked) => {}
        _ => bail!(
            "{name} already carries a payload (it is a packed program, not a bare stub); \
             use the stub built into wpack or a freshly built `wpack-stub`"
        ),
    }
    let (format, arch) = kind_of(stub, name)?;
    if (format, arch) != (target.format, target.arch) {
        bail!(
            "{name} is a {arch:?} {format:?} executable, but the target {} needs a {:?} {:?} one",
            target.name,
            target.arch,
            target.format
        );
    }
    let has = |marker: &[u8]| stub.windows(marker.len()).any(|w| w == marker);
    if !has(program.stub_marker()) {
        // The stub this input needs, and what `stub` is if it is the other.
        let (other_marker, other, wanted): (&[u8], _, _) = match program {
            Program::Module => (
                &wpack_stub::manifest::COMPONENT_STUB_MARKER,
                "components",
                "wpack-stub",
            ),
            Program::Component { .. } => (
                &wpack_stub::manifest::MODULE_STUB_MARKER,
                "core modules",
                "wpack-stub-component",
            ),
        };
        if has(other_marker) {
            bail!(
                "{name} is the stub for {other}, but the input is a {}; use `{wanted}` \
                 from the same build, or leave out --stub",
                program.kind()
            );
        }
        bail!(
            "{name} is not a wpack stub of this version (it lacks the marker every stub \
             carries); use the stub built into wpack or a freshly built `wpack-stub`"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_stubs_match_their_targets_and_kinds() {
        let component = Program::Component {
            imports: vec![],
            exports: vec![],
        };
        for t in TARGETS {
            for program in [&Program::Module, &component] {
                if let Some(stub) = embedded(t, program) {
                    check(stub, t, t.name, program).unwrap();
                    let other = if program == &Program::Module {
                        &component
                    } else {
                        &Program::Module
                    };
                    let err = check(stub, t, t.name, other).unwrap_err().to_string();
                    assert!(err.contains("is the stub for"), "{err}");
                }
            }
        }
        assert!(has_stubs(default_target()));
    }

    #[test]
    fn universal_targets_are_found_by_name_and_alias_and_listed() {
        for name in [
            "universal-macos",
            "universal2-apple-darwin",
            "universal-apple-darwin",
        ] {
            let universal = find_universal(name).unwrap();
            assert_eq!(universal.slices, ["aarch64-macos", "x86_64-macos"]);
            for slice in universal.slices {
                assert_eq!(find_target(slice).unwrap().format, Format::MachO);
            }
        }
        assert!(find_universal("aarch64-macos").is_none());
        for (alias, name) in [
            ("x86_64-unknown-linux-musl", "x86_64-linux"),
            ("aarch64-unknown-linux-musl", "aarch64-linux"),
            ("x86_64-unknown-linux-gnu", "x86_64-linux-gnu"),
            ("x86_64-pc-windows-gnu", "x86_64-windows"),
            ("x86_64-pc-windows-msvc", "x86_64-windows"),
            ("aarch64-apple-darwin", "aarch64-macos"),
            ("x86_64-apple-darwin", "x86_64-macos"),
        ] {
            assert_eq!(find_target(alias).unwrap().name, name);
        }
        let twice = choose(&["x86_64-linux".into(), "x86_64-unknown-linux-musl".into()]).unwrap();
        assert_eq!(twice.len(), 1);
        let err = find_target("nonsense").unwrap_err().to_string();
        assert!(err.contains("universal-macos"), "{err}");
        // Listed, but not as a target with stubs of its own (the tests
        // read "stubs built in" as one).
        let list = list_targets();
        let line = list
            .lines()
            .position(|l| l.starts_with("universal-macos"))
            .unwrap();
        let state = list.lines().nth(line + 1).unwrap();
        assert!(!state.contains("stubs built in"), "{state}");
    }

    #[test]
    fn rejects_non_executables() {
        assert!(kind_of(b"", "x").is_err());
        assert!(kind_of(b"#!/bin/sh\necho hi\n", "x").is_err());
    }
}
