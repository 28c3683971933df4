//! Licence notices: every packed program carries a stub built from Rust
//! crates (wasmtime and others) in object form, and their licences (Apache,
//! MIT, ...) ask that their notices go with every copy. `build/licenses.rs`
//! gathers, at build time, the crates of each stub wpack carries and of
//! wpack itself, with the licence, notice and copyright files they ship;
//! `wpack inspect --licenses FILE` prints those of the stub FILE runs on,
//! `wpack --licenses` those of wpack.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use wpack_stub::{macho, payload};

/// A crate linked into a stub or into wpack.
pub struct Crate {
    pub name: &'static str,
    pub version: &'static str,
    /// The SPDX expression of its manifest (`/` written as `OR`).
    pub license: &'static str,
    pub authors: &'static [&'static str],
    pub notices: &'static [Notice],
}

/// One of a crate's notice texts.
pub struct Notice {
    /// The file it ships (`LICENSE-APACHE`), or, for a licence it names but
    /// ships no text of, the licence (`Apache-2.0`).
    pub file: &'static str,
    /// The standard text of `file`'s licence, not the crate's own file.
    pub standard: bool,
    /// Index into the texts (`generated::SPANS`).
    pub text: usize,
}

/// Written by build.rs: `TEXTS_DEFLATED` (every distinct text, deflated),
/// `TEXTS_LEN`, `SPANS` (offset and length of each text), `CRATES` (sorted
/// by name and version) and `BINARIES`: (target triple, "module",
/// "component" or "wpack", indices into `CRATES`).
mod generated {
    use super::{Crate, Notice};
    include!(concat!(env!("OUT_DIR"), "/licenses.rs"));
}

const WPACK: &str = "wpack";

/// `wpack --licenses`: the notices of wpack itself, which holds the stubs.
pub fn print_own() -> Result<()> {
    let mut crates = BTreeSet::new();
    let mut stubs = BTreeSet::new();
    for (triple, kind, indices) in generated::BINARIES {
        crates.extend(indices.iter().copied());
        if *kind != WPACK {
            stubs.insert(*triple);
        }
    }
    let host = crate::stub_image::host_triple();
    let stubs: Vec<&str> = stubs.into_iter().collect();
    let header = format!(
        "Licence notices of wpack {version} (built for {host})\n\
         \n\
         wpack and the runtime stubs it carries are built from the {n} Rust crates\n\
         listed below. Their licences ask that these notices go with every copy:\n\
         whoever distributes wpack must ship this text with it.\n\
         A program packed by wpack holds only its stub's crates: for the notices to\n\
         ship with it, run `wpack inspect --licenses FILE`.\n\
         \n\
         Stubs: {stubs}.\n",
        version = env!("CARGO_PKG_VERSION"),
        stubs = stubs.join(", "),
        n = crates.len(),
    );
    emit(&render(&header, &crates)?)
}

/// `wpack inspect --licenses FILE`: the notices of the stub (or, in a
/// universal macOS file, of each slice's stub) that FILE runs on.
pub fn print_for_file(path: &Path) -> Result<()> {
    let shown = path.display();
    if path.is_dir() {
        bail!("{shown} is a directory; give the path of a packed executable");
    }
    let file = std::fs::read(path).with_context(|| format!("cannot read {shown}"))?;
    let slices: Vec<&[u8]> = match macho::fat_slices(&file).map_err(|e| anyhow!("{shown}: {e}"))? {
        Some(slices) => slices
            .iter()
            .map(|s| {
                let range =
                    usize::try_from(s.offset).ok()?..usize::try_from(s.offset + s.size).ok()?;
                file.get(range)
            })
            .collect::<Option<_>>()
            .ok_or_else(|| anyhow!("{shown}: a slice of the universal file lies outside it"))?,
        None => vec![&file],
    };
    let mut crates = BTreeSet::new();
    let mut stubs = Vec::new();
    let mut packed_by = BTreeSet::new();
    for slice in slices {
        let manifest = payload::read(slice)
            .with_context(|| shown.to_string())?
            .manifest;
        let kind = manifest.program.kind();
        let Some((_, _, indices)) = generated::BINARIES
            .iter()
            .find(|(triple, k, _)| *triple == manifest.target && *k == kind)
        else {
            bail!(
                "{shown} is packed for {}, and this wpack carries no stub for it, so it \
                 cannot tell which crates the file holds: use a wpack that carries it (see \
                 `wpack --list-targets`)",
                manifest.target
            );
        };
        crates.extend(indices.iter().copied());
        let kind = match kind {
            "module" => "core modules",
            _ => "components",
        };
        stubs.push(format!("{} ({kind})", manifest.target));
        packed_by.insert(manifest.wpack_version);
    }
    let (stub, these) = match stubs.len() {
        1 => ("the runtime stub", "It is"),
        _ => ("the runtime stubs", "They are"),
    };
    let mut header = format!(
        "Licence notices for {shown}\n\
         \n\
         This file holds a program compiled by wpack and {stub} of wpack for\n\
         {stubs}. {these} built from the {n} Rust crates listed below,\n\
         whose licences ask that these notices go with every copy: whoever\n\
         distributes the file must ship this text with it (for example\n\
         `wpack inspect --licenses FILE > THIRD-PARTY-NOTICES.txt`), together with\n\
         the notices of the program itself, which are not listed here.\n",
        stubs = stubs.join(" and "),
        n = crates.len(),
    );
    let ours = env!("CARGO_PKG_VERSION");
    let others: Vec<String> = packed_by.into_iter().filter(|v| v != ours).collect();
    if !others.is_empty() {
        header.push_str(&format!(
            "\nThe file was packed by wpack {}; these are the crates of wpack {ours}'s\n\
             stub, which may differ: the `wpack inspect --licenses` of that version\n\
             lists its own.\n",
            others.join(", ")
        ));
    }
    emit(&render(&header, &crates)?)
}

/// The header, one line per crate, then each text once, numbered; each
/// crate's line ends with the numbers of its texts.
fn render(header: &str, crates: &BTreeSet<usize>) -> Result<String> {
    let blob = miniz_oxide::inflate::decompress_to_vec_with_limit(
        generated::TEXTS_DEFLATED,
        generated::TEXTS_LEN,
    )
    .map_err(|e| anyhow!("the licence texts built into wpack are damaged: {e:?}"))?;
    let crates: Vec<&Crate> = crates.iter().map(|&i| &generated::CRATES[i]).collect();
    // Texts numbered from 1 in order of first use: (text, the name it goes
    // by, the crates that ship it).
    let mut numbered: Vec<(usize, String, Vec<String>)> = Vec::new();
    let mut out = format!("{header}\nCrates ({}):\n\n", crates.len());
    for c in &crates {
        let mut refs = Vec::new();
        for notice in c.notices {
            let n = match numbered.iter().position(|(t, _, _)| *t == notice.text) {
                Some(n) => n,
                None => {
                    let name = if notice.standard {
                        format!("{} (standard text)", notice.file)
                    } else {
                        notice.file.to_owned()
                    };
                    numbered.push((notice.text, name, Vec::new()));
                    numbered.len() - 1
                }
            };
            numbered[n].2.push(format!("{} {}", c.name, c.version));
            refs.push((n + 1).to_string());
        }
        let license = if c.license.is_empty() {
            "licence in its file"
        } else {
            c.license
        };
        let authors = if c.authors.is_empty() {
            "authors not listed".to_owned()
        } else {
            c.authors.join(", ")
        };
        out.push_str(&format!(
            "{} {} — {license} — {authors} [{}]\n",
            c.name,
            c.version,
            refs.join(", ")
        ));
    }
    out.push_str(&format!(
        "\nTexts ({}): each once; the numbers in brackets above say whose they are.\n",
        numbered.len()
    ));
    for (n, (text, name, users)) in numbered.iter().enumerate() {
        let (start, len) = generated::SPANS[*text];
        let body = blob
            .get(start..start + len)
            .ok_or_else(|| anyhow!("the licence texts built into wpack are damaged"))?;
        out.push_str(&format!(
            "\n======== [{}] {name}, of {} ========\n\n{}",
            n + 1,
            users.join(", "),
            String::from_utf8_lossy(body)
        ));
    }
    Ok(out)
}

/// Writes to stdout; a reader that stops early (`| head`) is not an error.
fn emit(text: &str) -> Result<()> {
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        result => result.context("cannot write to stdout"),
    }
}
