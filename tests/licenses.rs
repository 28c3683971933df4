//! Licence notices (issue #25): `wpack inspect --licenses FILE` lists the
//! crates of the stub a packed file runs on, and `wpack --licenses` those of
//! wpack. Each list is checked against one `cargo tree` makes here, with the
//! flags packer/build.rs builds the stubs with.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use common::*;

/// (name, version) -> licence, as `cargo tree` lists the normal
/// dependencies of `package ARGS` for `triple`.
fn cargo_tree(triple: &str, package_args: &[&str]) -> BTreeMap<(String, String), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(root())
        .args(["tree", "--locked", "-e", "normal", "--prefix", "none"])
        .args(["--format", "{p}|{l}", "--target", triple])
        .args(package_args)
        .output()
        .expect("cannot run cargo tree");
    assert!(out.status.success(), "cargo tree: {}", stderr(&out));
    stdout(&out)
        .lines()
        .filter_map(|line| {
            let (package, licence) = line.split_once('|')?;
            let mut words = package.split_whitespace();
            let name = words.next()?.to_owned();
            let version = words.next()?.trim_start_matches('v').to_owned();
            let licence = licence.trim_end_matches(" (*)").replace('/', " OR ");
            let licence = licence.split_whitespace().collect::<Vec<_>>().join(" ");
            Some(((name, version), licence))
        })
        .collect()
}

fn stub_tree(triple: &str, kind: &str) -> BTreeMap<(String, String), String> {
    cargo_tree(
        triple,
        &[
            "-p",
            "wpack-stub",
            "--no-default-features",
            "--features",
            kind,
        ],
    )
}

/// The notices as printed: (name, version) -> (licence, text numbers), and
/// the texts by number.
struct Notices {
    header: String,
    crates: BTreeMap<(String, String), (String, Vec<usize>)>,
    texts: BTreeMap<usize, String>,
}

fn parse(text: &str) -> Notices {
    let (header, rest) = text.split_once("\nCrates (").expect("a crate list");
    let (list, texts) = rest.split_once("\nTexts (").expect("the texts");
    let mut crates = BTreeMap::new();
    for line in list.lines().skip(1).filter(|l| !l.is_empty()) {
        let fields: Vec<&str> = line.split(" — ").collect();
        assert_eq!(
            fields.len(),
            3,
            "name version — licence — authors [n]: {line}"
        );
        let (name, version) = fields[0].split_once(' ').expect(line);
        let (_, numbers) = fields[2].rsplit_once(" [").expect(line);
        let numbers: Vec<usize> = numbers
            .trim_end_matches(']')
            .split(", ")
            .map(|n| n.parse().expect(line))
            .collect();
        crates.insert(
            (name.to_owned(), version.to_owned()),
            (fields[1].to_owned(), numbers),
        );
    }
    let mut by_number = BTreeMap::new();
    for part in texts.split("\n======== [").skip(1) {
        let (number, rest) = part.split_once(']').unwrap();
        // After the line naming the text and the crates that ship it.
        let (_, body) = rest.split_once(" ========\n\n").expect(rest);
        by_number.insert(number.parse().unwrap(), body.to_owned());
    }
    Notices {
        header: header.to_owned(),
        crates,
        texts: by_number,
    }
}

fn licenses_of(file: &Path) -> Notices {
    let out = wpack(&["inspect", "--licenses", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    parse(&stdout(&out))
}

fn target_of(file: &Path) -> String {
    let out = wpack(&["inspect", "--json", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json["target"].as_str().unwrap().to_owned()
}

/// Every crate of `expected`, with its licence, and no other; every crate
/// with a text, and every text it names printed.
fn check_against(notices: &Notices, expected: &BTreeMap<(String, String), String>) {
    let listed: BTreeSet<&(String, String)> = notices.crates.keys().collect();
    let wanted: BTreeSet<&(String, String)> = expected.keys().collect();
    assert_eq!(
        listed.symmetric_difference(&wanted).collect::<Vec<_>>(),
        Vec::<&&(String, String)>::new(),
        "crates listed by wpack and by cargo tree differ"
    );
    for (id, (licence, numbers)) in &notices.crates {
        assert_eq!(licence, &expected[id], "licence of {id:?}");
        assert!(!numbers.is_empty(), "{id:?} has no text");
        for n in numbers {
            assert!(notices.texts.contains_key(n), "text {n} of {id:?} missing");
        }
    }
}

fn check_wasmtime(notices: &Notices) {
    let wasmtime = notices
        .crates
        .iter()
        .find(|((name, _), _)| name == "wasmtime")
        .expect("wasmtime listed");
    assert_eq!(wasmtime.1.0, "Apache-2.0 WITH LLVM-exception");
    let texts: Vec<&String> = wasmtime.1.1.iter().map(|n| &notices.texts[n]).collect();
    let all = texts.iter().map(|t| t.as_str()).collect::<String>();
    assert!(
        all.contains("TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION"),
        "wasmtime's texts hold the Apache-2.0 licence"
    );
    assert!(
        all.contains("LLVM Exceptions to the Apache 2.0 License"),
        "wasmtime's texts hold the LLVM exception"
    );
}

#[test]
fn a_packed_module_lists_its_stubs_crates_and_texts() {
    let dir = tempdir();
    let exe = pack_sample("hello", dir.path(), &[]);
    let triple = target_of(&exe);
    let notices = licenses_of(&exe);
    assert!(
        notices.header.contains(&format!("{triple} (core modules)")),
        "{}",
        notices.header
    );
    assert!(notices.header.contains("must ship"), "{}", notices.header);
    check_against(&notices, &stub_tree(&triple, "module"));
    check_wasmtime(&notices);
    // Identical texts are printed once: most crates ship their own copy of
    // the same Apache and MIT licences.
    let references: usize = notices.crates.values().map(|(_, n)| n.len()).sum();
    let distinct: BTreeSet<&String> = notices.texts.values().collect();
    assert_eq!(distinct.len(), notices.texts.len(), "a text printed twice");
    assert!(
        notices.texts.len() * 2 < references,
        "{} texts for {references} references",
        notices.texts.len()
    );
    // A crate that ships no licence file gets the standard texts.
    let core = notices
        .crates
        .iter()
        .find(|((name, _), _)| name == "wasmtime-internal-core")
        .expect("wasmtime-internal-core listed");
    assert!(core.1.1.len() >= 2, "{core:?}");
}

#[test]
fn a_packed_component_lists_the_component_stubs_crates() {
    let dir = tempdir();
    let exe = dir.path().join("stdio");
    pack(&root().join("tests/wasi/components/stdio.wasm"), &exe, &[]);
    let triple = target_of(&exe);
    let notices = licenses_of(&exe);
    assert!(notices.header.contains(&format!("{triple} (components)")));
    let expected = stub_tree(&triple, "component");
    check_against(&notices, &expected);
    check_wasmtime(&notices);
    assert!(expected.keys().any(|(name, _)| name == "wasmtime-wasi"));
}

#[test]
fn other_targets_list_their_own_stubs_crates() {
    let dir = tempdir();
    let exe = dir.path().join("hello.exe");
    pack(&sample("hello"), &exe, &["--target", "x86_64-windows"]);
    let notices = licenses_of(&exe);
    let expected = stub_tree("x86_64-pc-windows-gnu", "module");
    assert!(
        expected
            .keys()
            .any(|(name, _)| name.starts_with("windows-sys"))
    );
    check_against(&notices, &expected);
}

#[test]
fn a_universal_file_lists_both_slices_crates() {
    let dir = tempdir();
    let exe = dir.path().join("hello");
    pack(&sample("hello"), &exe, &["--target", "universal-macos"]);
    let notices = licenses_of(&exe);
    for triple in ["aarch64-apple-darwin", "x86_64-apple-darwin"] {
        assert!(
            notices.header.contains(&format!("{triple} (core modules)")),
            "{}",
            notices.header
        );
    }
    let mut expected = stub_tree("aarch64-apple-darwin", "module");
    expected.extend(stub_tree("x86_64-apple-darwin", "module"));
    check_against(&notices, &expected);
}

#[test]
fn wpack_lists_its_own_crates_and_its_stubs() {
    let out = wpack(&["--licenses"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let notices = parse(&text);
    let host = notices
        .header
        .split_once("(built for ")
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(host, _)| host)
        .expect("the header names the platform");
    let names: BTreeSet<&str> = notices.crates.keys().map(|(n, _)| n.as_str()).collect();
    for name in ["clap", "cranelift-codegen", "wasmtime", "wasmtime-wasi"] {
        assert!(names.contains(name), "{name} missing from wpack --licenses");
    }
    // Every crate of wpack itself and of the stub of the host, with its
    // licence.
    let mut expected = cargo_tree(host, &["-p", "wpack"]);
    expected.extend(stub_tree(host, "component"));
    for (id, licence) in &expected {
        let listed = notices.crates.get(id).map(|(l, _)| l);
        assert_eq!(listed, Some(licence), "{id:?} in wpack --licenses");
    }
    check_wasmtime(&notices);
}

#[test]
fn files_that_are_not_packed_are_refused_in_one_line() {
    let wasm = sample("hello");
    for (file, expected) in [
        (wasm.as_path(), "no wpack payload found"),
        (Path::new("samples"), "is a directory"),
        (Path::new("no/such/file"), "cannot read no/such/file"),
    ] {
        let out = Command::new(wpack_bin())
            .current_dir(root())
            .args(["inspect", "--licenses"])
            .arg(file)
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(err.starts_with("wpack: error: "), "{err}");
        assert!(err.contains(&*file.to_string_lossy()), "{err}");
        assert!(err.contains(expected), "{expected:?} in {err}");
        assert!(out.stdout.is_empty());
    }
    // Options that make no sense together are clap's errors.
    let out = wpack(&["--licenses", wasm.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = wpack(&["inspect", "--licenses", "--json", wasm.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
