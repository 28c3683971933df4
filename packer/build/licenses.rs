//! The licence notices wpack carries (issue #25), generated with the stubs:
//! for each stub it embeds, and for wpack itself, the crates linked in, their
//! licence expressions and authors, and the licence, notice and copyright
//! files each crate ships. `wpack inspect --licenses` and `wpack --licenses`
//! print them (`src/licenses.rs`).
//!
//! The crates of a stub are what `cargo tree` lists for the flags `build_one`
//! builds it with (normal dependencies, proc macros included: over-listing
//! costs a distributor a few lines, under-listing a licence breach); cargo
//! metadata says where each crate's sources are. Neither needs the stubs
//! built, so this works the same with `WPACK_STUB_DIR`. The texts are
//! deduplicated and deflated: 112 files of the crates in today's stubs and
//! wpack come to about 340 KB, nearly all copies of the Apache and MIT
//! licences, and about 19 KB deflated.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Names of the files a crate's notices are in (compared in lower case).
const NOTICE_FILES: &[&str] = &[
    "license",
    "licence",
    "copying",
    "notice",
    "copyright",
    "unlicense",
];

/// Phrases that tell which licence a file holds (lower case, spaces
/// collapsed): a licence the crate names but ships no file for gets the
/// standard text from `packer/licenses/`.
const MARKERS: &[(&str, &str)] = &[
    ("Apache-2.0", "apache license version 2.0"),
    (
        "LLVM-exception",
        "llvm exceptions to the apache 2.0 license",
    ),
    (
        "MIT",
        "permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated documentation files",
    ),
    (
        "BSD-2-Clause",
        "redistribution and use in source and binary forms",
    ),
    ("BSD-3-Clause", "endorse or promote products derived"),
    (
        "ISC",
        "permission to use, copy, modify, and/or distribute this software",
    ),
    (
        "0BSD",
        "permission to use, copy, modify, and/or distribute this software",
    ),
    ("Zlib", "this software is provided 'as-is'"),
    ("Unicode-3.0", "unicode license v3"),
    ("Unlicense", "this is free and unencumbered software"),
    ("BSL-1.0", "boost software license"),
    ("MPL-2.0", "mozilla public license version 2.0"),
    ("CC0-1.0", "cc0 1.0 universal"),
];

/// What a crate brings: licence, authors, and its notices as indices into
/// the deduplicated texts.
struct CrateNotices {
    license: String,
    authors: Vec<String>,
    /// (file name, or licence id for a standard text; standard; text index)
    notices: Vec<(String, bool, usize)>,
}

/// Where cargo metadata says a package is.
struct Package {
    license: Option<String>,
    license_file: Option<String>,
    authors: Vec<String>,
    dir: PathBuf,
    /// A path dependency (a workspace member): its notices may be the
    /// workspace's.
    local: bool,
}

/// Writes `licenses.rs` and `licenses.deflate` to `out_dir`, for the stubs
/// of `stub_triples` (both kinds each) and for wpack built for `host`.
pub fn generate(
    root: &Path,
    out_dir: &Path,
    host: &str,
    stub_triples: &[String],
) -> Result<(), String> {
    let standard_dir = root.join("packer").join("licenses");
    for input in [standard_dir.clone(), root.join("packer").join("Cargo.toml")] {
        println!("cargo:rerun-if-changed={}", input.display());
    }

    // (triple, kind) -> crates; kind "wpack" is the packer.
    let mut binaries: Vec<(String, &str)> = Vec::new();
    for triple in stub_triples {
        binaries.push((triple.clone(), "module"));
        binaries.push((triple.clone(), "component"));
    }
    binaries.push((host.to_owned(), "wpack"));
    let trees: Vec<Result<BTreeSet<(String, String)>, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = binaries
            .iter()
            .map(|(triple, kind)| s.spawn(move || tree(root, triple, kind)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let trees: Vec<BTreeSet<(String, String)>> = trees.into_iter().collect::<Result<_, _>>()?;

    let mut platforms: Vec<&str> = stub_triples.iter().map(String::as_str).collect();
    platforms.push(host);
    let packages = metadata(root, &platforms)?;

    let all: BTreeSet<&(String, String)> = trees.iter().flatten().collect();
    let mut texts: Vec<String> = Vec::new();
    let mut text_index: HashMap<String, usize> = HashMap::new();
    let mut add_text = |text: String| -> usize {
        *text_index.entry(text.clone()).or_insert_with(|| {
            texts.push(text);
            texts.len() - 1
        })
    };
    let root_files = notice_files(root, None);
    let mut crates: BTreeMap<&(String, String), CrateNotices> = BTreeMap::new();
    for id in &all {
        let (name, version) = id;
        let package = packages
            .get(*id)
            .ok_or_else(|| format!("cargo metadata does not list {name} {version}"))?;
        let mut files = notice_files(&package.dir, package.license_file.as_deref());
        if files.is_empty() && package.local {
            files = root_files.clone();
        }
        let license = package
            .license
            .as_deref()
            .map(|l| l.replace(" / ", " OR ").replace('/', " OR "))
            .unwrap_or_default();
        let mut covered = BTreeSet::new();
        let mut notices = Vec::new();
        for file in &files {
            let bytes =
                std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let text = normalize(&String::from_utf8_lossy(&bytes));
            covered.extend(licences_in(&text));
            let label = file
                .strip_prefix(&package.dir)
                .or_else(|_| file.strip_prefix(root))
                .unwrap_or(file)
                .to_string_lossy()
                .replace('\\', "/");
            notices.push((label, false, add_text(text)));
        }
        for licence in licence_ids(&license) {
            if covered.contains(licence) {
                continue;
            }
            let path = standard_dir.join(format!("{licence}.txt"));
            match std::fs::read_to_string(&path) {
                Ok(text) => notices.push((licence.to_owned(), true, add_text(normalize(&text)))),
                // A licence no marker knows, in a crate that ships files: they
                // are taken to be its text.
                Err(_) if !files.is_empty() && !MARKERS.iter().any(|(l, _)| *l == licence) => {}
                Err(_) => {
                    return Err(format!(
                        "{name} {version} is under {licence} and ships no text of it: \
                         add its standard text as {}",
                        path.display()
                    ));
                }
            }
        }
        if license.is_empty() && files.is_empty() {
            return Err(format!(
                "{name} {version} names no licence and ships no licence file"
            ));
        }
        crates.insert(
            id,
            CrateNotices {
                license,
                authors: package.authors.clone(),
                notices,
            },
        );
    }

    let mut blob = String::new();
    let mut spans = Vec::new();
    for text in &texts {
        spans.push((blob.len(), text.len()));
        blob.push_str(text);
    }
    let deflated = miniz_oxide::deflate::compress_to_vec(blob.as_bytes(), 9);
    let deflate_path = out_dir.join("licenses.deflate");
    std::fs::write(&deflate_path, &deflated).map_err(|e| e.to_string())?;

    let position: HashMap<&(String, String), usize> =
        crates.keys().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut rs = String::new();
    let _ = writeln!(
        rs,
        "// Generated by packer/build/licenses.rs: {} crates, {} texts, {} bytes, {} deflated.",
        crates.len(),
        texts.len(),
        blob.len(),
        deflated.len()
    );
    let _ = writeln!(
        rs,
        "pub static TEXTS_DEFLATED: &[u8] = include_bytes!({deflate_path:?});"
    );
    let _ = writeln!(rs, "pub const TEXTS_LEN: usize = {};", blob.len());
    let _ = writeln!(rs, "pub static SPANS: &[(usize, usize)] = &{spans:?};");
    rs.push_str("pub static CRATES: &[Crate] = &[\n");
    for ((name, version), c) in &crates {
        let notices: Vec<String> = c
            .notices
            .iter()
            .map(|(file, standard, text)| {
                format!("Notice {{ file: {file:?}, standard: {standard}, text: {text} }}")
            })
            .collect();
        let _ = writeln!(
            rs,
            "    Crate {{ name: {name:?}, version: {version:?}, license: {:?}, authors: &{:?}, notices: &[{}] }},",
            c.license,
            c.authors,
            notices.join(", ")
        );
    }
    rs.push_str("];\n");
    rs.push_str("pub static BINARIES: &[(&str, &str, &[usize])] = &[\n");
    for ((triple, kind), tree) in binaries.iter().zip(&trees) {
        let indices: Vec<usize> = tree.iter().map(|id| position[id]).collect();
        let _ = writeln!(rs, "    ({triple:?}, {kind:?}, &{indices:?}),");
    }
    rs.push_str("];\n");
    std::fs::write(out_dir.join("licenses.rs"), rs).map_err(|e| e.to_string())
}

/// The crates (name, version) `cargo tree` lists for a stub of `kind` for
/// `triple`, or for wpack (`kind` "wpack") built for `triple`.
fn tree(root: &Path, triple: &str, kind: &str) -> Result<BTreeSet<(String, String)>, String> {
    let mut cmd = cargo(root);
    cmd.args(["tree", "--locked", "-e", "normal", "--prefix", "none"])
        .args(["--format", "{p}", "--target", triple]);
    if kind == "wpack" {
        cmd.args(["-p", "wpack"]);
    } else {
        cmd.args([
            "-p",
            "wpack-stub",
            "--no-default-features",
            "--features",
            kind,
        ]);
    }
    let stdout = run(&mut cmd)?;
    Ok(stdout
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let name = words.next()?;
            let version = words.next()?.strip_prefix('v')?;
            Some((name.to_owned(), version.to_owned()))
        })
        .collect())
}

/// The packages of the workspace's resolve for `platforms`, by (name,
/// version).
fn metadata(root: &Path, platforms: &[&str]) -> Result<HashMap<(String, String), Package>, String> {
    let mut cmd = cargo(root);
    cmd.args(["metadata", "--format-version", "1", "--locked"]);
    for platform in platforms {
        cmd.args(["--filter-platform", platform]);
    }
    let json: serde_json::Value =
        serde_json::from_str(&run(&mut cmd)?).map_err(|e| format!("cargo metadata: {e}"))?;
    let text = |p: &serde_json::Value, key: &str| p[key].as_str().map(str::to_owned);
    let mut packages = HashMap::new();
    for p in json["packages"].as_array().into_iter().flatten() {
        let (Some(name), Some(version), Some(manifest)) = (
            text(p, "name"),
            text(p, "version"),
            text(p, "manifest_path"),
        ) else {
            continue;
        };
        let authors = p["authors"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a.as_str().map(str::to_owned))
            .collect();
        let package = Package {
            license: text(p, "license"),
            license_file: text(p, "license_file"),
            authors,
            dir: Path::new(&manifest).parent().unwrap().to_path_buf(),
            local: p["source"].is_null(),
        };
        packages.insert((name, version), package);
    }
    Ok(packages)
}

/// Cargo, run in the workspace, without what this build script's own
/// compilation was given (as in `build_one`).
fn cargo(root: &Path) -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root)
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTC_WORKSPACE_WRAPPER");
    cmd
}

fn run(cmd: &mut Command) -> Result<String, String> {
    let output = cmd
        .output()
        .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    if !output.status.success() {
        return Err(format!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    String::from_utf8(output.stdout).map_err(|e| e.to_string())
}

/// The licence, notice and copyright files at the top of `dir` (and in a
/// `LICENSES` directory), plus the manifest's `license-file`, by name.
fn notice_files(dir: &Path, license_file: Option<&str>) -> Vec<PathBuf> {
    let list = |dir: &Path| -> Vec<PathBuf> {
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect()
    };
    let is_notice = |path: &Path| {
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_lowercase();
        NOTICE_FILES.iter().any(|n| name.starts_with(n)) && path.is_file()
    };
    let mut files: BTreeSet<PathBuf> = list(dir).into_iter().filter(|p| is_notice(p)).collect();
    files.extend(
        list(&dir.join("LICENSES"))
            .into_iter()
            .filter(|p| p.is_file()),
    );
    if let Some(file) = license_file {
        let path = dir.join(file);
        if path.is_file() {
            files.insert(path);
        }
    }
    files.into_iter().collect()
}

/// Line ends and trailing spaces made uniform, so copies that differ only
/// there are stored once.
fn normalize(text: &str) -> String {
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    let start = lines
        .iter()
        .position(|l| !l.is_empty())
        .unwrap_or(lines.len());
    let end = lines
        .iter()
        .rposition(|l| !l.is_empty())
        .map_or(start, |e| e + 1);
    let mut out = lines[start..end].join("\n");
    out.push('\n');
    out
}

/// The licences `text` holds, as far as `MARKERS` tell.
fn licences_in(text: &str) -> Vec<&'static str> {
    let flat = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    MARKERS
        .iter()
        .filter(|(_, phrase)| flat.contains(phrase))
        .map(|(licence, _)| *licence)
        .collect()
}

/// The licence and exception identifiers of an SPDX expression.
fn licence_ids(expression: &str) -> Vec<&str> {
    expression
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .map(|id| id.trim_end_matches('+'))
        .filter(|id| !id.is_empty() && !["AND", "OR", "WITH"].contains(id))
        .collect()
}
