//! Windows outputs: the resources written into the copy of the stub (an
//! application manifest always; version information and an icon when the
//! `--windows-*` options ask for them), and the PE checksum set over the
//! finished file, last.
//!
//! The resources are edited with `editpe` (what uv uses for its
//! trampolines): it adds a resource section after the stub's sections, before
//! the payload is appended, so the payload stays an overlay at the end.

use std::path::Path;

use anyhow::{Context, Result, bail};
use editpe::types::{FixedFileInfo, VersionU16, VersionU32};
use editpe::{Image, ResourceDirectory, VersionInfo, VersionStringTable};

use crate::cli::PackArgs;
use crate::targets::{Format, Target};

/// The application manifest of every Windows output.
///
/// * `asInvoker`: without a manifest, Windows' installer detection asks
///   for elevation for any program whose name contains "install", "setup",
///   "update" or "patch".
/// * `longPathAware`: paths longer than 260 characters work (where the
///   system allows them).
/// * `activeCodePage` UTF-8: the process's ANSI code page is UTF-8, so that
///   a C library call made with narrow strings sees what the program sees
///   (wasmtime and the stub use the UTF-16 APIs either way).
/// * `supportedOS` Windows 10 and 11: the system does not pretend to be an
///   older Windows to the program.
const MANIFEST: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<assembly xmlns="urn:schemas-microsoft-com:asm.v1" manifestVersion="1.0">
  <trustInfo xmlns="urn:schemas-microsoft-com:asm.v3">
    <security>
      <requestedPrivileges>
        <requestedExecutionLevel level="asInvoker" uiAccess="false"/>
      </requestedPrivileges>
    </security>
  </trustInfo>
  <compatibility xmlns="urn:schemas-microsoft-com:compatibility.v1">
    <application>
      <supportedOS Id="{8e0f7a12-bfb3-4fe8-b9a5-48fd50a15a9a}"/>
    </application>
  </compatibility>
  <application xmlns="urn:schemas-microsoft-com:asm.v3">
    <windowsSettings>
      <longPathAware xmlns="http://schemas.microsoft.com/SMI/2016/WindowsSettings">true</longPathAware>
      <activeCodePage xmlns="http://schemas.microsoft.com/SMI/2019/WindowsSettings">UTF-8</activeCodePage>
    </windowsSettings>
  </application>
</assembly>
"#;

/// US English, Unicode: the language and code page of the version strings.
const LANGUAGE: u16 = 0x0409;
const CODE_PAGE: u16 = 1200;

/// `--windows-version X.Y.Z[.W]`: the four numbers, and the text as given
/// (the FileVersion and ProductVersion strings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub parts: [u16; 4],
    pub text: String,
}

impl Version {
    pub fn parse(text: &str) -> Result<Self, String> {
        let numbers: Vec<Option<u16>> = text.split('.').map(|part| part.parse().ok()).collect();
        match numbers[..] {
            [Some(a), Some(b), Some(c)] => Ok(Self {
                parts: [a, b, c, 0],
                text: text.to_owned(),
            }),
            [Some(a), Some(b), Some(c), Some(d)] => Ok(Self {
                parts: [a, b, c, d],
                text: text.to_owned(),
            }),
            _ => Err(format!(
                "{text:?}: give the version as X.Y.Z or X.Y.Z.W, each part a number from 0 \
                 to 65535 (e.g. 1.4.2)"
            )),
        }
    }
}

/// What the `--windows-*` options ask for, read and checked before
/// anything is compiled or written.
#[derive(Debug, Default)]
pub struct Resources {
    icon: Option<Vec<u8>>,
    version: Option<Version>,
    strings: Vec<(&'static str, String)>,
}

impl Resources {
    /// Reads `--windows-icon` and collects the other options. They apply
    /// to Windows outputs only: when none of `targets` is Windows, they are
    /// an error.
    pub fn from_args(cli: &PackArgs, targets: &[&Target]) -> Result<Self> {
        let given: [(&'static str, Option<&String>); 4] = [
            ("ProductName", cli.windows_product.as_ref()),
            ("CompanyName", cli.windows_company.as_ref()),
            ("FileDescription", cli.windows_description.as_ref()),
            ("LegalCopyright", cli.windows_copyright.as_ref()),
        ];
        if targets.iter().all(|target| target.format != Format::Pe) {
            let flags = [
                (cli.windows_icon.is_some(), "--windows-icon"),
                (cli.windows_version.is_some(), "--windows-version"),
                (cli.windows_product.is_some(), "--windows-product"),
                (cli.windows_company.is_some(), "--windows-company"),
                (cli.windows_description.is_some(), "--windows-description"),
                (cli.windows_copyright.is_some(), "--windows-copyright"),
            ];
            if let Some((_, flag)) = flags.iter().find(|(set, _)| *set) {
                let names: Vec<&str> = targets.iter().map(|target| target.name).collect();
                bail!(
                    "{flag} applies to Windows outputs only (--target x86_64-windows), \
                     not to {}; leave it out or pack for Windows",
                    names.join(", ")
                );
            }
            return Ok(Self::default());
        }
        let icon = match &cli.windows_icon {
            Some(path) => Some(read_icon(path)?),
            None => None,
        };
        Ok(Self {
            icon,
            version: cli.windows_version.clone(),
            strings: given
                .into_iter()
                .filter_map(|(key, value)| Some((key, value?.clone())))
                .collect(),
        })
    }
}

/// Reads an `.ico` file and checks that it is one: an icon directory whose
/// entries each point at a PNG or BMP (DIB) image inside the file.
fn read_icon(path: &Path) -> Result<Vec<u8>> {
    let shown = path.display();
    let bytes =
        std::fs::read(path).with_context(|| format!("--windows-icon: cannot read {shown}"))?;
    check_icon(&bytes).map_err(|why| {
        anyhow::anyhow!(
            "--windows-icon {shown} is not a Windows icon (.ico) file: {why}; convert the \
             image to a multi-size .ico first (e.g. `magick in.png -define \
             icon:auto-resize=256,48,32,16 out.ico`)"
        )
    })?;
    Ok(bytes)
}

/// The `.ico` layout: ICONDIR (reserved 0, type 1, count) then `count`
/// 16-byte entries, each ending with the image's size and file offset.
fn check_icon(bytes: &[u8]) -> Result<(), String> {
    let u16_at = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]);
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    if bytes.len() < 6 || u16_at(0) != 0 || u16_at(2) != 1 {
        return Err("it does not start with an icon directory".into());
    }
    let count = usize::from(u16_at(4));
    if count == 0 {
        return Err("it holds no image".into());
    }
    if bytes.len() < 6 + 16 * count {
        return Err("its directory is cut short".into());
    }
    for entry in 0..count {
        let at = 6 + 16 * entry;
        let (len, offset) = (u32_at(at + 8) as usize, u32_at(at + 12) as usize);
        let image = offset
            .checked_add(len)
            .and_then(|end| bytes.get(offset..end))
            .ok_or_else(|| format!("image {} lies outside the file", entry + 1))?;
        let png = image.starts_with(b"\x89PNG\r\n\x1a\n");
        // A BMP image in an icon is a DIB: it starts with its header's size.
        let dib = image.len() >= 40 && u32::from_le_bytes(image[..4].try_into().unwrap()) == 40;
        if !png && !dib {
            return Err(format!("image {} is neither PNG nor BMP", entry + 1));
        }
    }
    Ok(())
}

/// A copy of `stub` carrying the manifest and what `resources` asks for.
/// Resources the stub already has are kept unless replaced.
pub fn with_resources(stub: &[u8], resources: &Resources) -> Result<Vec<u8>> {
    let mut image = Image::parse(stub).context("cannot read the stub's PE headers")?;
    let mut directory: ResourceDirectory = image.resource_directory().cloned().unwrap_or_default();
    directory
        .set_manifest(MANIFEST)
        .context("cannot add the application manifest")?;
    if let Some(icon) = &resources.icon {
        directory
            .set_main_icon(icon.as_slice())
            .context("cannot add the icon")?;
    }
    if resources.version.is_some() || !resources.strings.is_empty() {
        directory
            .set_version_info(&version_info(resources))
            .context("cannot add the version information")?;
    }
    image
        .set_resource_directory(directory)
        .context("cannot write the stub's resource section")?;
    let mut file = image.data().to_vec();
    name_resource_section(&mut file);
    Ok(file)
}

/// VERSIONINFO with exactly the fields given: nothing is filled in.
fn version_info(resources: &Resources) -> VersionInfo {
    let [a, b, c, d] = resources.version.as_ref().map_or([0; 4], |v| v.parts);
    let number = VersionU32 {
        major: (u32::from(a) << 16) | u32::from(b),
        minor: (u32::from(c) << 16) | u32::from(d),
    };
    let mut strings = VersionStringTable {
        key: format!("{LANGUAGE:04X}{CODE_PAGE:04X}"),
        ..Default::default()
    };
    if let Some(version) = &resources.version {
        for key in ["FileVersion", "ProductVersion"] {
            strings.strings.insert(key.into(), version.text.clone());
        }
    }
    for (key, value) in &resources.strings {
        strings.strings.insert((*key).into(), value.clone());
    }
    VersionInfo {
        info: FixedFileInfo {
            file_version: number,
            product_version: number,
            ..Default::default()
        },
        strings: vec![strings],
        vars: vec![VersionU16 {
            major: LANGUAGE,
            minor: CODE_PAGE,
        }],
    }
}

/// Renames the section editpe adds (`.pedata`) to `.rsrc`, the name resource
/// compilers give it and tools expect. Windows finds resources through the
/// data directory either way.
fn name_resource_section(file: &mut [u8]) {
    let Some(pe) = file
        .get(0x3c..0x40)
        .map(|b| u32::from_le_bytes(b.try_into().unwrap()) as usize)
    else {
        return;
    };
    let header = |at: usize| {
        file.get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let (Some(sections), Some(optional_len)) = (header(pe + 6), header(pe + 20)) else {
        return;
    };
    let table = pe + 24 + usize::from(optional_len);
    for at in (0..usize::from(sections)).map(|i| table + 40 * i) {
        if file.get(at..at + 8) == Some(b".pedata\0") {
            file[at..at + 8].copy_from_slice(b".rsrc\0\0\0");
        }
    }
}

/// Sets the PE checksum of the finished file (after everything else is
/// written: it covers every byte).
pub fn finish(file: &mut [u8]) -> Result<()> {
    wpack_stub::pe::set_checksum(file)
        .map_err(|why| anyhow::anyhow!("cannot set the PE checksum: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(Version::parse("1.2.3").unwrap().parts, [1, 2, 3, 0]);
        assert_eq!(
            Version::parse("1.2.3.65535").unwrap().parts,
            [1, 2, 3, 65535]
        );
        for bad in ["1.2", "1.2.3.4.5", "1.x.3", "1.2.65536", "", "1..2"] {
            assert!(Version::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn icons() {
        let mut ico = vec![0, 0, 1, 0, 1, 0];
        ico.extend_from_slice(&[16, 16, 0, 0, 1, 0, 32, 0]);
        ico.extend_from_slice(&12u32.to_le_bytes());
        ico.extend_from_slice(&22u32.to_le_bytes());
        ico.extend_from_slice(b"\x89PNG\r\n\x1a\nrest");
        assert_eq!(check_icon(&ico), Ok(()));
        assert!(check_icon(&ico[..30]).unwrap_err().contains("outside"));
        assert!(check_icon(b"\x89PNG\r\n\x1a\n").is_err());
        assert!(
            check_icon(&[0, 0, 1, 0, 0, 0])
                .unwrap_err()
                .contains("no image")
        );
        ico[22] = b'x';
        assert!(check_icon(&ico).unwrap_err().contains("neither"));
    }
}
