//! macOS outputs, checked offline: nothing here can run a Mach-O, so these
//! tests prove what can be proven without a Mac (docs/MACOS.md lists what
//! still needs one). Every output is parsed back with goblin, not with
//! `wpack_stub::macho` that wrote it, and its ad hoc signature is read by the
//! code below, not by the packer's `codesign` module.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use goblin::mach::MachO;
use goblin::mach::load_command::CommandVariant;
use sha2::{Digest, Sha256};

const TARGETS: [(&str, &str, u32); 2] = [
    ("aarch64-macos", "aarch64-apple-darwin", 0x0100_000c),
    ("x86_64-macos", "x86_64-apple-darwin", 0x0100_0007),
];
/// The VM page size of each CPU type: segments must be aligned to it.
fn page_size(cputype: u32) -> u64 {
    if cputype == TARGETS[0].2 {
        0x4000
    } else {
        0x1000
    }
}
const CODE_PAGE: usize = 4096;
const VM_PROT_READ: u32 = 1;
const VM_PROT_EXECUTE: u32 = 4;

fn pack_for(target: &str, dir: &Path, name: &str) -> (PathBuf, Vec<u8>) {
    let out = dir.join(name);
    pack(&sample("hello"), &out, &["--target", target]);
    let bytes = std::fs::read(&out).unwrap();
    (out, bytes)
}

/// The stub as built (packer/build.rs), to compare the packed file with.
fn built_stub(triple: &str) -> Vec<u8> {
    let path = built_stub_path(triple, "module");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
}

fn be64(b: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(b[at..at + 8].try_into().unwrap())
}

/// What the signature says, read independently of the packer.
struct Signature {
    code_limit: usize,
    identifier: String,
    flags: u32,
    version: u32,
    exec_seg: (u64, u64, u64),
    page_hashes: Vec<[u8; 32]>,
    special: Vec<[u8; 32]>,
    requirements: Vec<u8>,
}

/// Reads the SuperBlob at `file[off..off + size]`, checking its structure.
fn read_signature(file: &[u8], off: usize, size: usize) -> Signature {
    let sb = &file[off..off + size];
    assert_eq!(be32(sb, 0), 0xfade_0cc0, "SuperBlob magic");
    assert_eq!(
        be32(sb, 4) as usize,
        size,
        "SuperBlob length = LC_CODE_SIGNATURE size"
    );
    let count = be32(sb, 8) as usize;
    let mut cd = None;
    let mut requirements = None;
    let mut cms = false;
    for i in 0..count {
        let slot = be32(sb, 12 + 8 * i);
        let at = be32(sb, 16 + 8 * i) as usize;
        let len = be32(sb, at + 4) as usize;
        assert!(at + len <= size, "blob {slot} runs out of the signature");
        let blob = &sb[at..at + len];
        match slot {
            0 => cd = Some(blob),
            2 => requirements = Some(blob.to_vec()),
            0x1_0000 => {
                assert_eq!(be32(blob, 0), 0xfade_0b01, "CMS wrapper magic");
                cms = true;
            }
            other => panic!("unexpected blob slot {other:#x}"),
        }
    }
    assert!(cms, "no CMS wrapper blob");
    let cd = cd.expect("no CodeDirectory");
    assert_eq!(be32(cd, 0), 0xfade_0c02, "CodeDirectory magic");
    let hash_offset = be32(cd, 16) as usize;
    let ident_offset = be32(cd, 20) as usize;
    let n_special = be32(cd, 24) as usize;
    let n_code = be32(cd, 28) as usize;
    assert_eq!(cd[36], 32, "hash size");
    assert_eq!(cd[37], 2, "hash type SHA-256");
    assert_eq!(cd[39], 12, "4 KiB pages");
    let ident_end = ident_offset + cd[ident_offset..].iter().position(|&b| b == 0).unwrap();
    let hash = |at: usize| -> [u8; 32] { cd[at..at + 32].try_into().unwrap() };
    Signature {
        code_limit: be32(cd, 32) as usize,
        identifier: String::from_utf8(cd[ident_offset..ident_end].to_vec()).unwrap(),
        flags: be32(cd, 12),
        version: be32(cd, 8),
        exec_seg: (be64(cd, 64), be64(cd, 72), be64(cd, 80)),
        page_hashes: (0..n_code).map(|i| hash(hash_offset + 32 * i)).collect(),
        special: (1..=n_special)
            .map(|i| hash(hash_offset - 32 * i))
            .collect(),
        requirements: requirements.expect("no requirements blob"),
    }
}

/// Every check of the file's structure and signature; returns the signature.
fn check_file(file: &[u8], name: &str, cputype: u32, triple: &str) -> Signature {
    let macho = MachO::parse(file, 0).expect("goblin parses the output");
    assert_eq!(macho.header.cputype, cputype);
    assert_eq!(macho.header.filetype, goblin::mach::header::MH_EXECUTE);

    // Segments: ordered, covering the file exactly, no gaps or overlaps,
    // page-aligned, __LINKEDIT last and ending the file.
    let page = page_size(cputype);
    let segs: Vec<_> = macho.segments.iter().collect();
    let names: Vec<String> = segs.iter().map(|s| s.name().unwrap().to_owned()).collect();
    assert_eq!(
        names.last().map(String::as_str),
        Some("__LINKEDIT"),
        "{names:?}"
    );
    let wpack_index = names
        .iter()
        .position(|n| n == "__WPACK")
        .expect("__WPACK segment");
    assert_eq!(
        wpack_index,
        names.len() - 2,
        "__WPACK right before __LINKEDIT: {names:?}"
    );
    let mut covered = 0u64;
    let mut vm_end = 0u64;
    for s in segs.iter().filter(|s| s.filesize > 0 || s.vmsize > 0) {
        assert!(
            s.vmaddr >= vm_end,
            "{} overlaps the previous segment in memory",
            s.name().unwrap()
        );
        vm_end = s.vmaddr + s.vmsize;
        if s.filesize == 0 {
            continue;
        }
        assert_eq!(
            s.fileoff,
            covered,
            "{} leaves a gap or overlaps",
            s.name().unwrap()
        );
        assert!(s.vmsize >= s.filesize);
        let name = s.name().unwrap();
        assert_eq!(s.fileoff % page, 0, "{name}: file offset not page-aligned");
        assert_eq!(s.vmaddr % page, 0, "{name}: address not page-aligned");
        covered = s.fileoff + s.filesize;
    }
    assert_eq!(
        covered,
        file.len() as u64,
        "segments do not end at the end of the file"
    );

    // The payload segment: read-execute, its section 64 KiB-aligned in the
    // file and in memory, holding exactly what payload::read reads.
    let wpack = segs[wpack_index];
    assert_eq!(wpack.initprot, VM_PROT_READ | VM_PROT_EXECUTE);
    assert_eq!(wpack.maxprot, VM_PROT_READ | VM_PROT_EXECUTE);
    let sections = wpack.sections().unwrap();
    assert_eq!(sections.len(), 1);
    let (section, data) = &sections[0];
    assert_eq!(section.name().unwrap(), "__wpack");
    assert_eq!(section.offset % 0x10000, 0);
    assert_eq!(section.addr % 0x10000, 0);
    let packed_end = section.offset as usize + section.size as usize;
    let packed = wpack_stub::payload::read(file).expect("payload::read finds the payload");
    assert_eq!(packed.payload_offset, u64::from(section.offset));
    assert!(
        data.ends_with(b"WPACK\0\r\n"),
        "the trailer ends the section"
    );
    assert_eq!(&file[packed_end - 8..packed_end], b"WPACK\0\r\n");
    packed.verify_payload().unwrap();
    assert_eq!(packed.manifest.target, triple);

    // Load commands leave the first section's bytes alone.
    let first_section = macho
        .segments
        .iter()
        .flat_map(|s| s.sections().unwrap())
        .map(|(s, _)| s.offset)
        .filter(|&o| o != 0)
        .min()
        .unwrap();
    assert!(32 + macho.header.sizeofcmds as usize <= first_section as usize);

    // The signature: the last bytes of the file, inside __LINKEDIT.
    let (dataoff, datasize) = macho
        .load_commands
        .iter()
        .find_map(|c| match c.command {
            CommandVariant::CodeSignature(cs) => Some((cs.dataoff as usize, cs.datasize as usize)),
            _ => None,
        })
        .expect("LC_CODE_SIGNATURE");
    assert_eq!(dataoff + datasize, file.len(), "bytes follow the signature");
    assert_eq!(dataoff % 16, 0);
    assert!(dataoff as u64 >= segs.last().unwrap().fileoff);
    let sig = read_signature(file, dataoff, datasize);
    assert_eq!(
        sig.code_limit, dataoff,
        "codeLimit is the signature's offset"
    );
    assert!(
        packed_end <= sig.code_limit,
        "the payload lies in the signed range"
    );
    assert_eq!(sig.identifier, name);
    assert_eq!(sig.version, 0x20400);
    assert_eq!(sig.flags & 0x2, 0x2, "adhoc flag");
    let text = segs.iter().find(|s| s.name().unwrap() == "__TEXT").unwrap();
    assert_eq!(
        sig.exec_seg,
        (text.fileoff, text.filesize, 1),
        "execSeg = __TEXT, main binary"
    );

    // Every page hash, the last page hashed only up to codeLimit.
    let pages: Vec<&[u8]> = file[..sig.code_limit].chunks(CODE_PAGE).collect();
    assert_eq!(sig.page_hashes.len(), pages.len());
    for (i, page) in pages.iter().enumerate() {
        assert_eq!(sig.page_hashes[i][..], Sha256::digest(page)[..], "page {i}");
    }
    // Special slots: Info.plist absent (zeros), requirements hashed.
    assert_eq!(sig.special.len(), 2);
    assert_eq!(sig.special[0], [0; 32], "slot -1 (Info.plist)");
    assert_eq!(
        sig.special[1][..],
        Sha256::digest(&sig.requirements)[..],
        "slot -2"
    );
    sig
}

#[test]
fn macos_outputs_are_well_formed_and_signed() {
    let dir = tempdir();
    for (target, triple, cputype) in TARGETS {
        let name = format!("hello-{target}");
        let (_, file) = pack_for(target, dir.path(), &name);
        check_file(&file, &name, cputype, triple);
        eprintln!("{target}: packed hello is {} bytes", file.len());

        // The stub's own bytes before __LINKEDIT are unchanged but for
        // the load commands; __LINKEDIT's contents moved whole.
        let stub = built_stub(triple);
        let stub_macho = MachO::parse(&stub, 0).unwrap();
        let first = stub_macho
            .segments
            .iter()
            .flat_map(|s| s.sections().unwrap())
            .map(|(s, _)| s.offset as usize)
            .filter(|&o| o != 0)
            .min()
            .unwrap();
        let old_linkedit = stub_macho.segments.iter().last().unwrap();
        let head = old_linkedit.fileoff as usize;
        assert_eq!(
            file[first..head],
            stub[first..head],
            "{target}: stub code changed"
        );
        let old_end = stub_macho
            .load_commands
            .iter()
            .find_map(|c| match c.command {
                CommandVariant::CodeSignature(cs) => Some(cs.dataoff as usize),
                _ => None,
            })
            .unwrap_or(stub.len());
        let macho = MachO::parse(&file, 0).unwrap();
        let moved = macho.segments.iter().last().unwrap().fileoff as usize;
        let len = old_end - head;
        assert_eq!(
            file[moved..moved + len],
            stub[head..old_end],
            "{target}: __LINKEDIT"
        );
    }
}

/// Components have their own stub: its outputs must be laid out and
/// signed the same way.
#[test]
fn macos_component_outputs_are_well_formed_and_signed() {
    let dir = tempdir();
    for (target, triple, cputype) in TARGETS {
        let name = format!("hello-p2-{target}");
        let out = dir.path().join(&name);
        pack(
            &root().join("samples/hello/hello-p2.wasm"),
            &out,
            &["--target", target],
        );
        let file = std::fs::read(&out).unwrap();
        check_file(&file, &name, cputype, triple);
        let packed = wpack_stub::payload::read(&file).unwrap();
        assert!(matches!(
            packed.manifest.program,
            wpack_stub::Program::Component { .. }
        ));
    }
}

#[test]
fn changing_any_payload_byte_breaks_a_page_hash() {
    let dir = tempdir();
    let (target, triple, cputype) = TARGETS[0];
    let (_, file) = pack_for(target, dir.path(), "hello");
    let sig = check_file(&file, "hello", cputype, triple);
    let packed = wpack_stub::payload::read(&file).unwrap();
    let start = packed.payload_offset as usize;
    for at in [
        start,
        start + packed.payload.len() / 2,
        start + packed.payload.len() - 1,
    ] {
        let mut bad = file.clone();
        bad[at] ^= 0x40;
        let page = at / CODE_PAGE;
        assert_ne!(
            sig.page_hashes[page][..],
            Sha256::digest(&bad[page * CODE_PAGE..((page + 1) * CODE_PAGE).min(sig.code_limit)])[..],
            "flip at {at} unnoticed by the signature"
        );
        let caught = match wpack_stub::payload::read(&bad) {
            Err(_) => true,
            Ok(p) => p.verify_payload().is_err(),
        };
        assert!(caught, "flip at {at} unnoticed by the payload hash");
    }
}

#[test]
fn macos_outputs_are_reproducible() {
    let (a, b) = (tempdir(), tempdir());
    for (target, _, _) in TARGETS {
        let (_, first) = pack_for(target, a.path(), "tool");
        let (_, second) = pack_for(target, b.path(), "tool");
        assert!(
            first == second,
            "{target}: two packs of the same input differ"
        );
    }
}

#[test]
fn inspect_reads_macos_outputs() {
    let dir = tempdir();
    for (target, triple, _) in TARGETS {
        let (out, file) = pack_for(target, dir.path(), &format!("hello-{target}"));
        let packed = wpack_stub::payload::read(&file).unwrap();
        let text = wpack(&["inspect", out.to_str().unwrap()]);
        assert!(text.status.success(), "{}", stderr(&text));
        let text = stdout(&text);
        assert!(text.contains(triple), "{text}");
        assert!(text.contains("(verified)"), "{text}");
        assert!(
            text.contains(&format!("at offset {}", packed.payload_offset)),
            "{text}"
        );
        assert!(text.contains("signed ad hoc"), "{text}");
        let json = wpack(&["inspect", "--json", out.to_str().unwrap()]);
        let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
        assert_eq!(json["target"], triple);
        assert_eq!(json["verified"], true);
        assert_eq!(json["payload_offset"], packed.payload_offset);
        assert_eq!(
            json["macos_signature"]["identifier"],
            format!("hello-{target}")
        );

        // Damage under the signature is reported, not described.
        let mut bad = file.clone();
        let at = packed.payload_offset as usize + 100;
        bad[at] ^= 1;
        let bad_path = dir.path().join(format!("bad-{target}"));
        std::fs::write(&bad_path, &bad).unwrap();
        let out = wpack(&["inspect", bad_path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains("damaged"), "{}", stderr(&out));
    }
}

#[test]
fn a_stub_without_header_room_is_refused() {
    // The x86_64 stub with its first section moved up against the load
    // commands: wpack must refuse rather than overwrite code.
    let (_, triple, _) = TARGETS[1];
    let mut stub = built_stub(triple);
    let sizeofcmds = u32::from_le_bytes(stub[20..24].try_into().unwrap()) as usize;
    let macho = MachO::parse(&stub, 0).unwrap();
    let text = macho
        .segments
        .iter()
        .find(|s| s.name().unwrap() == "__TEXT")
        .unwrap();
    let (first, _) = text.sections().unwrap().into_iter().next().unwrap();
    let section_header_at = {
        // find the section header of `first` in the load commands
        let name = first.sectname;
        stub.windows(16).position(|w| w == name).unwrap()
    };
    let room_left = 32 + sizeofcmds + 8;
    stub[section_header_at + 48..section_header_at + 52]
        .copy_from_slice(&(room_left as u32).to_le_bytes());
    let dir = tempdir();
    let stub_path = dir.path().join("tight-stub");
    write_executable(&stub_path, &stub);
    refuses(
        &sample("hello"),
        &[
            "--target",
            "x86_64-macos",
            "--stub",
            stub_path.to_str().unwrap(),
        ],
        "headerpad_max_install_names",
    );
}

/// The stub reads its own header with `payload::read` before anything else:
/// no damage to the load commands or truncation may make that panic.
#[test]
fn damaged_or_cut_macos_files_are_errors_not_panics() {
    let dir = tempdir();
    let (_, file) = pack_for(TARGETS[0].0, dir.path(), "hello");
    let sizeofcmds = u32::from_le_bytes(file[20..24].try_into().unwrap()) as usize;
    for at in 0..32 + sizeofcmds {
        for bit in 0..8 {
            let mut bad = file.clone();
            bad[at] ^= 1 << bit;
            let _ = wpack_stub::payload::read(&bad).map(|p| p.verify_payload());
        }
    }
    let packed = wpack_stub::payload::read(&file).unwrap();
    let end = packed.payload_offset as usize + packed.payload.len();
    for cut in (0..file.len())
        .step_by(997)
        .chain([end, end + 1, file.len() - 1])
    {
        if let Ok(p) = wpack_stub::payload::read(&file[..cut]) {
            panic!(
                "cut at {cut} still reads as packed ({} bytes)",
                p.payload.len()
            );
        }
    }
}

/// `--target universal-macos` and the fat file it makes, read with goblin's
/// fat parser (not `wpack_stub::macho`).
const UNIVERSAL: &str = "universal-macos";

/// The slices of a universal file as goblin reads its table, after the
/// checks every fat file must pass: big-endian header, one slice per macOS
/// target in TARGETS' order, each aligned to at least its CPU's page (wpack
/// aligns both to 2^14), inside the file, not overlapping, zeros between.
fn fat_slices(file: &[u8]) -> Vec<goblin::mach::fat::FatArch> {
    assert_eq!(file[..4], [0xca, 0xfe, 0xba, 0xbe], "big-endian FAT_MAGIC");
    assert_eq!(be32(file, 4), TARGETS.len() as u32, "nfat_arch");
    let goblin::mach::Mach::Fat(fat) = goblin::mach::Mach::parse(file).unwrap() else {
        panic!("goblin does not read a fat file");
    };
    let arches = fat.arches().unwrap();
    assert_eq!(arches.len(), TARGETS.len());
    let mut end = 8 + 20 * arches.len();
    for (arch, (target, _, cputype)) in arches.iter().zip(TARGETS) {
        assert_eq!(arch.cputype, cputype, "{target}: slice order");
        assert_eq!(arch.align, 14, "{target}: alignment");
        assert!(1u64 << arch.align >= page_size(cputype));
        let (offset, size) = (arch.offset as usize, arch.size as usize);
        assert_eq!(offset % (1 << arch.align), 0, "{target}: misaligned slice");
        assert!(offset >= end, "{target}: overlaps what precedes it");
        assert!(file[end..offset].iter().all(|&b| b == 0), "{target}: gap");
        end = offset + size;
        // The table names the slice's own CPU, as lipo writes it.
        let header = MachO::parse(arch.slice(file), 0).unwrap().header;
        assert_eq!(
            (header.cputype, header.cpusubtype),
            (arch.cputype, arch.cpusubtype)
        );
    }
    assert_eq!(end, file.len(), "bytes after the last slice");
    arches
}

fn pack_universal(dir: &Path, name: &str, extra: &[&str]) -> (PathBuf, Vec<u8>) {
    let out = dir.join(name);
    let args = [&["--target", UNIVERSAL][..], extra].concat();
    pack(&sample("hello"), &out, &args);
    let bytes = std::fs::read(&out).unwrap();
    (out, bytes)
}

/// Each slice passes every check of a thin file and is byte for byte the
/// thin file packed for its target under the same name (one identifier).
#[test]
fn universal_outputs_hold_a_thin_signed_program_per_cpu() {
    let dir = tempdir();
    let (_, file) = pack_universal(dir.path(), "hello", &[]);
    let arches = fat_slices(&file);
    let thin_dir = tempdir();
    let mut thin_total = 0;
    for (arch, (target, triple, cputype)) in arches.iter().zip(TARGETS) {
        let slice = arch.slice(&file);
        let sig = check_file(slice, "hello", cputype, triple);
        assert_eq!(sig.identifier, "hello");
        let (_, thin) = pack_for(target, thin_dir.path(), "hello");
        assert!(
            slice == thin.as_slice(),
            "{target}: the slice is not the thin file"
        );
        thin_total += thin.len();
    }
    eprintln!(
        "universal hello: {} bytes (thin: {thin_total} together)",
        file.len()
    );
    // The stub reads the slice of the CPU it runs on; here, this machine's.
    let packed = wpack_stub::payload::read(&file).unwrap();
    packed.verify_payload().unwrap();
    let own = if cfg!(target_arch = "aarch64") { 0 } else { 1 };
    assert_eq!(packed.manifest.target, TARGETS[own].1);
    assert!(std::ptr::eq(packed.file, arches[own].slice(&file)));

    // Reproducible, and the same file under each alias.
    for alias in [
        UNIVERSAL,
        "universal2-apple-darwin",
        "universal-apple-darwin",
    ] {
        let again = tempdir();
        let out = again.path().join("hello");
        pack(&sample("hello"), &out, &["--target", alias]);
        assert!(std::fs::read(&out).unwrap() == file, "{alias}: differs");
    }
}

/// Embedded trees are stored in each slice, so each slice is a complete
/// program (what `lipo -thin` would extract runs alone).
#[test]
fn universal_outputs_embed_trees_in_every_slice() {
    let dir = tempdir();
    let include = format!("{}::/app", root().join("samples").display());
    let (out, file) = pack_universal(dir.path(), "tool", &["--include", &include]);
    let arches = fat_slices(&file);
    let mut thin_total = 0;
    for (arch, (target, triple, cputype)) in arches.iter().zip(TARGETS) {
        let slice = arch.slice(&file);
        check_file(slice, "tool", cputype, triple);
        let packed = wpack_stub::payload::read(slice).unwrap();
        assert_eq!(packed.manifest.trees.len(), 1, "{target}");
        assert_eq!(packed.manifest.trees[0].guest, "/app");
        let thin_dir = tempdir();
        let thin = thin_dir.path().join("tool");
        pack(
            &sample("hello"),
            &thin,
            &["--target", target, "--include", &include],
        );
        let thin = std::fs::read(&thin).unwrap();
        assert!(
            slice == thin.as_slice(),
            "{target}: the slice is not the thin file"
        );
        thin_total += thin.len();
    }
    let text = stdout(&wpack(&["inspect", out.to_str().unwrap()]));
    assert_eq!(text.matches("/app (read-only)").count(), 2, "{text}");
    eprintln!(
        "universal hello --include samples: {} bytes (thin: {thin_total} together)",
        file.len()
    );
}

#[test]
fn inspect_describes_both_slices() {
    let dir = tempdir();
    let (out, file) = pack_universal(dir.path(), "hello", &[]);
    let arches = fat_slices(&file);
    let result = wpack(&["inspect", out.to_str().unwrap()]);
    assert!(result.status.success(), "{}", stderr(&result));
    let text = stdout(&result);
    assert!(text.contains("Universal:"), "{text}");
    assert_eq!(text.matches("(verified)").count(), 2, "{text}");
    assert_eq!(
        text.matches("signed ad hoc as \"hello\"").count(),
        2,
        "{text}"
    );
    for (arch, (_, triple, _)) in arches.iter().zip(TARGETS) {
        assert!(text.contains(triple), "{text}");
        assert!(
            text.contains(&format!("{} bytes at offset {}", arch.size, arch.offset)),
            "{text}"
        );
    }
    for cpu in ["arm64 slice", "x86_64 slice"] {
        assert!(text.contains(cpu), "{text}");
    }

    let json = wpack(&["inspect", "--json", out.to_str().unwrap()]);
    assert!(json.status.success(), "{}", stderr(&json));
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["universal"], true);
    let slices = json["slices"].as_array().unwrap();
    assert_eq!(slices.len(), 2);
    for ((slice, arch), (_, triple, cputype)) in slices.iter().zip(&arches).zip(TARGETS) {
        assert_eq!(slice["cputype"], cputype);
        assert_eq!(slice["cpusubtype"], arch.cpusubtype);
        assert_eq!(slice["offset"], arch.offset);
        assert_eq!(slice["size"], arch.size);
        assert_eq!(slice["align_log2"], 14);
        let report = &slice["report"];
        assert_eq!(report["target"], triple);
        assert_eq!(report["verified"], true);
        assert_eq!(report["macos_signature"]["identifier"], "hello");
        // Offsets in a slice's report are relative to the slice.
        let packed = wpack_stub::payload::read(arch.slice(&file)).unwrap();
        assert_eq!(report["payload_offset"], packed.payload_offset);
    }
    assert_eq!(slices[0]["cpu"], "arm64");
    assert_eq!(slices[1]["cpu"], "x86_64");
}

/// `wpack inspect` on `bytes`: a description (exit 0) or one line of
/// refusal (exit 1), never a crash. Returns the exit code and stderr.
fn inspect_bytes(dir: &Path, name: &str, bytes: &[u8]) -> (i32, String) {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let out = wpack(&["inspect", path.to_str().unwrap()]);
    let err = stderr(&out);
    assert!(!err.contains("panicked"), "{name}: {err}");
    let code = out
        .status
        .code()
        .unwrap_or_else(|| panic!("{name}: killed: {err}"));
    match code {
        0 => assert!(stdout(&out).contains("(verified)"), "{name}"),
        1 => assert_eq!(err.lines().count(), 1, "{name}: {err}"),
        other => panic!("{name}: exit {other}: {err}"),
    }
    (code, err)
}

#[test]
fn a_damaged_slice_table_is_refused_not_a_crash() {
    let dir = tempdir();
    let (_, file) = pack_universal(dir.path(), "hello", &[]);
    let arches = fat_slices(&file);
    let put = |at: usize, value: u32| {
        let mut bad = file.clone();
        bad[at..at + 4].copy_from_slice(&value.to_be_bytes());
        bad
    };
    // fat_arch i starts at 8 + 20 i: cputype, cpusubtype, offset, size, align.
    let (first, second) = (8, 28);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("no slices", put(4, 0)),
        ("too many slices", put(4, 200)),
        ("a table past the end", put(4, 0x0fff_ffff)),
        ("a slice past the end", put(second + 8, file.len() as u32)),
        ("a size past the end", put(second + 12, u32::MAX)),
        ("an empty slice", put(first + 12, 0)),
        ("overlapping slices", put(second + 8, arches[0].offset)),
        ("a misaligned slice", put(first + 8, arches[0].offset + 16)),
        ("an offset inside the table", put(first + 8, 0)),
        ("an alignment over 31", put(first + 16, 64)),
        ("cut in the table", file[..30].to_vec()),
        ("cut in the last slice", file[..file.len() - 100].to_vec()),
    ];
    for (name, bad) in &cases {
        let (code, err) = inspect_bytes(dir.path(), &name.replace(' ', "-"), bad);
        assert_eq!(code, 1, "{name}: accepted");
        assert!(err.contains("universal"), "{name}: {err}");
        assert!(
            wpack_stub::payload::read(bad).is_err(),
            "{name}: the stub reads it"
        );
    }
    // A flipped payload byte in one slice: refused, naming the slice.
    let mut bad = file.clone();
    let slice = arches[1].slice(&file);
    let payload = wpack_stub::payload::read(slice).unwrap().payload_offset as usize;
    bad[arches[1].offset as usize + payload + 100] ^= 1;
    let (code, err) = inspect_bytes(dir.path(), "flipped", &bad);
    assert_eq!(code, 1);
    assert!(
        err.contains("x86_64 slice") && err.contains("damaged"),
        "{err}"
    );
    // Every bit of the header and table, in the stub's reader and in
    // `wpack inspect` (one flip per byte): an answer, never a panic.
    for at in 0..8 + 20 * arches.len() {
        for bit in 0..8 {
            let mut bad = file.clone();
            bad[at] ^= 1 << bit;
            let _ = wpack_stub::payload::read(&bad).map(|p| p.verify_payload());
            if bit == 7 {
                inspect_bytes(dir.path(), &format!("flip-{at}"), &bad);
            }
        }
    }
}

#[test]
fn a_universal_output_takes_no_stub_option() {
    let stub = built_stub_path(TARGETS[0].1, "module");
    refuses(
        &sample("hello"),
        &["--target", UNIVERSAL, "--stub", stub.to_str().unwrap()],
        "one per slice",
    );
}

/// A distributor may sign an output again (a Developer ID, or `rcodesign
/// sign`): `wpack inspect` then checks the page hashes macOS checks instead
/// of expecting wpack's own bytes. Simulated by changing a CodeDirectory
/// field that no page hash covers (its platform byte): the signature is no
/// longer wpack's, the pages still match; a changed page is still caught.
#[test]
fn a_signature_made_again_is_checked_by_its_page_hashes() {
    let dir = tempdir();
    let (_, file) = pack_for("aarch64-macos", dir.path(), "app");
    let macho = MachO::parse(&file, 0).unwrap();
    let dataoff = macho
        .load_commands
        .iter()
        .find_map(|c| match c.command {
            CommandVariant::CodeSignature(cs) => Some(cs.dataoff as usize),
            _ => None,
        })
        .expect("LC_CODE_SIGNATURE");
    // SuperBlob index entry 0 is the CodeDirectory (checked above).
    let cd = dataoff + be32(&file, dataoff + 16) as usize;
    assert_eq!(be32(&file, cd), 0xfade_0c02);
    let mut resigned = file.clone();
    resigned[cd + 38] ^= 0x7f;
    let (code, _) = inspect_bytes(dir.path(), "resigned", &resigned);
    assert_eq!(code, 0);
    let out = wpack(&["inspect", dir.path().join("resigned").to_str().unwrap()]);
    assert!(
        stdout(&out).contains("signed again by another tool"),
        "{}",
        stdout(&out)
    );
    let mut changed = resigned.clone();
    changed[100] ^= 1;
    let (code, err) = inspect_bytes(dir.path(), "changed", &changed);
    assert_eq!(code, 1);
    assert!(err.contains("does not match"), "{err}");
}

/// A file of two commands on two modules (`--command`), thin and
/// universal: every check of a packed macOS file holds, and the second
/// module's code lies in the __WPACK segment (read-execute, signed page by
/// page) before the payload, where the stub runs it from the kernel's
/// mapping.
#[test]
fn several_commands_keep_every_code_in_the_signed_segment() {
    let dir = tempdir();
    let commands = [
        "--command".to_owned(),
        format!("alpha={}", fixture("suite_a.wasm").display()),
        "--command".to_owned(),
        format!("beta={}", fixture("suite_b.wasm").display()),
        "--command-arg=beta=--baked".to_owned(),
    ];
    let check_slice = |slice: &[u8], cputype: u32, triple: &str| {
        check_file(slice, "tools", cputype, triple);
        let macho = MachO::parse(slice, 0).unwrap();
        let wpack = macho
            .segments
            .iter()
            .find(|s| s.name().unwrap() == "__WPACK")
            .unwrap();
        let packed = wpack_stub::payload::read(slice).unwrap();
        let suite = packed.manifest.suite.as_ref().expect("a command table");
        let names: Vec<&str> = suite.commands.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["alpha", "beta"]);
        assert_eq!(suite.commands[1].args, ["--baked"]);
        assert_eq!(suite.codes.len(), 1);
        let code = &suite.codes[0];
        assert!(
            wpack.fileoff <= code.offset,
            "{triple}: code before __WPACK"
        );
        assert!(code.offset + code.len <= packed.payload_offset);
        assert_eq!(code.offset % 0x10000, 0);
        packed.verify_code(1).unwrap();
    };
    for (target, triple, cputype) in TARGETS {
        let out = dir.path().join(target).join("tools");
        std::fs::create_dir_all(out.parent().unwrap()).unwrap();
        let mut args: Vec<&str> = commands.iter().map(String::as_str).collect();
        args.extend(["--target", target, "-o", out.to_str().unwrap(), "--quiet"]);
        let packed = wpack(&args);
        assert!(packed.status.success(), "{target}: {}", stderr(&packed));
        check_slice(&std::fs::read(&out).unwrap(), cputype, triple);
    }
    let out = dir.path().join("universal/tools");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let mut args: Vec<&str> = commands.iter().map(String::as_str).collect();
    args.extend([
        "--target",
        UNIVERSAL,
        "-o",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    let packed = wpack(&args);
    assert!(packed.status.success(), "{}", stderr(&packed));
    let file = std::fs::read(&out).unwrap();
    for (arch, (_, triple, cputype)) in fat_slices(&file).iter().zip(TARGETS) {
        check_slice(arch.slice(&file), cputype, triple);
    }
}
