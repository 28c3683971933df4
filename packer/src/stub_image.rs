//! The stub a packed program starts as: the one built into wpack, or one given
//! with `--stub`, checked before anything is appended to it.

use std::borrow::Cow;
use std::path::Path;

use anyhow::{Context, Result, bail};
use goblin::Object;
use goblin::elf::header::{EM_AARCH64, EM_X86_64, ET_DYN, ET_EXEC};
use wpack_stub::{FormatError, payload};

/// The stub built by `build.rs` for the host, in its own cargo invocation.
static EMBEDDED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/wpack-stub"));

/// The stub bytes to pack with: `--stub PATH` if given, else the embedded one.
pub fn load(path: Option<&Path>) -> Result<Cow<'static, [u8]>> {
    match path {
        None => Ok(Cow::Borrowed(EMBEDDED)),
        Some(path) => {
            let bytes = std::fs::read(path)
                .with_context(|| format!("cannot read the stub {}", path.display()))?;
            Ok(Cow::Owned(bytes))
        }
    }
}

/// Checks that `stub` is a bare stub executable for a platform wpack can
/// compile for, and returns the target triple to compile the module for.
pub fn target_of(stub: &[u8], name: &str) -> Result<&'static str> {
    match payload::read(stub) {
        Err(FormatError::NotPacked) => {}
        _ => bail!(
            "{name} already carries a payload (it is a packed program, not a bare stub); \
             use the stub built into wpack or a freshly built `wpack-stub`"
        ),
    }
    let elf = match Object::parse(stub) {
        Ok(Object::Elf(elf)) => elf,
        Ok(Object::PE(_)) | Ok(Object::Mach(_)) => {
            bail!("{name} is a Windows or macOS executable; this wpack packs for Linux only")
        }
        _ => bail!("{name} is not an executable wpack can use as a stub (expected an ELF file)"),
    };
    if !matches!(elf.header.e_type, ET_EXEC | ET_DYN) || elf.entry == 0 || !elf.is_64 {
        bail!("{name} is not a 64-bit executable (it may be a library or an object file)");
    }
    match elf.header.e_machine {
        EM_X86_64 => Ok("x86_64-unknown-linux-gnu"),
        EM_AARCH64 => Ok("aarch64-unknown-linux-gnu"),
        machine => bail!(
            "{name} is for an unsupported architecture (ELF machine {machine}); \
             wpack packs for x86_64 and aarch64"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_stub_is_a_bare_host_executable() {
        let target = target_of(EMBEDDED, "embedded").unwrap();
        assert!(target.starts_with(std::env::consts::ARCH), "{target}");
    }

    #[test]
    fn rejects_non_executables() {
        assert!(target_of(b"", "x").is_err());
        assert!(target_of(b"#!/bin/sh\necho hi\n", "x").is_err());
    }
}
