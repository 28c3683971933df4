//! What each fuzz target runs (`fuzz/fuzz_targets/NAME.rs` calls
//! [`run`] with the function of the same name), and what the test suite
//! runs to replay the corpora without a fuzzer: tests/fuzz_regressions.rs
//! compiles this same file. So an input that once crashed a target stays a
//! test case, replayed by `scripts/test.sh` through the same code.
//!
//! Each body takes arbitrary bytes, runs what the stub runs on its own file
//! at every start (or what `wpack inspect` runs on the file it is given),
//! and asserts what must hold whatever the bytes: no panic, no region handed
//! out beyond the file, and, for what is accepted, the properties named in
//! each body's comment. [`run`] adds the leak check, [`Counting`] the limit
//! on one allocation.
//!
//! Compiled as a module of a crate that depends on `wpack_stub`, `goblin`
//! and `xxhash_rust` and that has `mod codesign` (packer/src/codesign.rs):
//! the fuzz crate (fuzz/src/lib.rs) and the replay test.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::BTreeMap;

use wpack_stub::manifest::{DirMapping, EnvVar, Init, InitDescriptor, Manifest, Network, Program};
use wpack_stub::payload::{self, TRAILER_LEN};
use wpack_stub::tree::{Entry, Kind, Tree};
use xxhash_rust::xxh3::{Xxh3, xxh3_64};

use crate::codesign;

/// A fuzz target's body.
pub type Body = fn(&[u8]);

/// Every fuzz target, by name: its file in fuzz/fuzz_targets/, its folders
/// in fuzz/corpus/ and fuzz/corpus-regressions/, and its body. All but
/// `wasi_host`, whose body (src/wasi_host.rs) needs `wpack_wasi`, which the
/// replay test has not; wasi/tests/fuzz_corpus.rs replays that one.
pub const TARGETS: &[(&str, Body)] = &[
    ("payload_read", payload_read),
    ("packed_file", packed_file),
    ("manifest", manifest),
    ("elf_index", elf_index),
    ("macho", macho),
    ("tree", tree),
    ("inspect", inspect),
    ("fat", fat),
];

/// Runs `body` on `data`, then fails if it left more bytes allocated than
/// the input holds: a leak, as the issue defines one (libFuzzer's own leak
/// check needs a sanitizer, which stable Rust does not have).
pub fn run(body: Body, data: &[u8]) {
    let before = held();
    body(data);
    let leaked = held() - before;
    assert!(
        leaked <= data.len() as isize,
        "leaked {leaked} bytes on an input of {} bytes",
        data.len()
    );
}

/// The largest single allocation a body may make. Over it the allocator
/// fails, which aborts the process with "memory allocation of N bytes
/// failed": libFuzzer records a crash (its own `-malloc_limit_mb` needs a
/// sanitizer's allocator hooks), a test run fails.
pub const MALLOC_LIMIT: usize = 256 << 20;

/// The global allocator of the fuzz targets and of the replay test: the
/// system's, counting the bytes each thread holds (for [`run`]) and
/// refusing any allocation over [`MALLOC_LIMIT`].
pub struct Counting;

thread_local! {
    static HELD: Cell<isize> = const { Cell::new(0) };
}

fn count(bytes: isize) {
    // `try_with`: no panic while the thread is being torn down.
    let _ = HELD.try_with(|held| held.set(held.get() + bytes));
}

/// Bytes the current thread holds, as far as [`Counting`] saw them.
pub fn held() -> isize {
    HELD.try_with(Cell::get).unwrap_or(0)
}

// SAFETY: every call goes to `System` with the caller's layout; the
// counting has no effect on the memory handed out.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > MALLOC_LIMIT {
            return std::ptr::null_mut();
        }
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            count(layout.size() as isize);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.size() > MALLOC_LIMIT {
            return std::ptr::null_mut();
        }
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            count(layout.size() as isize);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        count(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > MALLOC_LIMIT {
            return std::ptr::null_mut();
        }
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        new
    }
}

/// `payload::read` and `read_own`, which the stub runs on its own file at
/// every start, then what the stub does with a file it accepts: the payload
/// check, the original stub, the embedded files' bytes. Every region handed out must
/// lie inside the file, and every accepted tree has [`tree_properties`].
/// Then the same again with the trailer's checksums made to match
/// ([`reseal`]), so that damage reaches the layout, manifest, index and
/// tree checks that the checksums guard.
pub fn payload_read(data: &[u8]) {
    read_and_use(data);
    if let Some(sealed) = reseal(data) {
        read_and_use(&sealed);
    }
}

/// `payload::read` on real packed files, damaged: [`payload_read`] on the
/// file a condensed input stands for ([`condense`]), or on the input itself
/// if it is not one.
pub fn packed_file(data: &[u8]) {
    let Some(mut file) = expand(data) else {
        return payload_read(data);
    };
    read_and_use(&file);
    if reseal_in_place(&mut file) {
        read_and_use(&file);
    }
}

/// The start of a condensed packed file (see [`condense`]).
pub const CONDENSED: &[u8; 8] = b"WPCNDS1\n";

/// The longest file a condensed input expands to.
const MAX_EXPANDED: usize = 16 << 20;

/// A real packed file is a few MB, of which its readers look at a few KB:
/// the headers at its start (ELF, PE, Mach-O load commands), the payload's
/// ELF header and section table, the section index, manifest and trailer,
/// a macOS file's signature. Its condensed form keeps those and nothing
/// else, so that a fuzzer mutates where readers look: [`CONDENSED`], the
/// file's length (u32), then chunks, each an offset (u32), a length (u16)
/// and that many bytes. The rest of the file reads as zeros: code and data
/// no reader parses, behind checksums that [`reseal`] recomputes.
pub fn condense(file: &[u8]) -> Vec<u8> {
    let mut keep = Vec::new();
    keep.push(0..file.len().min(16 << 10));
    if let Ok(packed) = payload::read(file) {
        let at = packed.payload_offset as usize;
        let image = packed.payload;
        keep.push(at..at + image.len().min(64));
        if image.len() >= 64 {
            let shoff = u64::from_le_bytes(image[40..48].try_into().unwrap());
            let shnum = u16::from_le_bytes(image[60..62].try_into().unwrap());
            let start = at.saturating_add(shoff as usize);
            keep.push(start..start.saturating_add(64 * usize::from(shnum)));
        }
        let manifest_end = match wpack_stub::macho::payload_section(file) {
            Ok(Some(section)) => (u64::from(section.offset) + section.size) as usize,
            _ => file.len(),
        };
        keep.push(at + image.len()..manifest_end);
    }
    if let Ok(parsed) = wpack_stub::macho::parse(file)
        && let Some((offset, _)) = parsed.code_signature(file)
    {
        keep.push(offset as usize..offset as usize + 1024);
    }
    let mut out = CONDENSED.to_vec();
    out.extend_from_slice(&(file.len() as u32).to_le_bytes());
    for range in keep {
        let range = range.start.min(file.len())..range.end.min(file.len());
        for start in range.clone().step_by(u16::MAX as usize) {
            let chunk = &file[start..range.end.min(start + u16::MAX as usize)];
            out.extend_from_slice(&(start as u32).to_le_bytes());
            out.extend_from_slice(&(chunk.len() as u16).to_le_bytes());
            out.extend_from_slice(chunk);
        }
    }
    out
}

/// The file a condensed input stands for; `None` if it is not one.
pub fn expand(data: &[u8]) -> Option<Vec<u8>> {
    let mut input = Input(data.strip_prefix(CONDENSED)?);
    let mut file = vec![0; input.u32() as usize % (MAX_EXPANDED + 1)];
    while !input.is_empty() {
        let at = input.u32() as usize;
        let len = usize::from(input.byte()) | usize::from(input.byte()) << 8;
        let bytes = input.bytes(len);
        if let Some(rest) = file.get_mut(at..) {
            let n = bytes.len().min(rest.len());
            rest[..n].copy_from_slice(&bytes[..n]);
        }
    }
    Some(file)
}

fn read_and_use(whole: &[u8]) {
    // The stub reads its own file with `read_own`, which here takes apart
    // only ELF (and any other plain) files: on those it answers as `read`.
    let plain = !wpack_stub::pe::is_pe(whole) && !wpack_stub::macho::is_macho(whole);
    if plain && matches!(wpack_stub::macho::fat_slices(whole), Ok(None)) {
        let own = payload::read_own(whole).map(|p| (p.payload_offset, p.manifest));
        let any = payload::read(whole).map(|p| (p.payload_offset, p.manifest));
        assert_eq!(own, any);
    }
    let Ok(packed) = payload::read(whole) else {
        return;
    };
    // The bytes the offsets count from: `whole`, or a universal file's slice.
    let file = packed.file;
    let inside = whole.as_ptr_range();
    assert!(inside.start <= file.as_ptr_range().start && file.as_ptr_range().end <= inside.end);
    let _ = packed.verify_payload();
    let payload_at = packed.payload_offset as usize;
    assert!(packed.stub_region.len() <= payload_at);
    assert!(payload_at + packed.payload.len() + packed.elf_index.len() <= file.len());
    // (A copy of the stub: megabytes for a real file, where it would take
    // most of the time; the `elf_index` target covers it.)
    if packed.stub_region.len() <= 1 << 20 {
        assert_eq!(packed.original_stub().len(), packed.stub_region.len());
    }
    for tree in &packed.manifest.trees {
        for entry in &tree.entries {
            if let Kind::File { offset, len, .. } = entry.kind {
                // Where the stub serves the file's bytes from (and hashes
                // them when the program first opens it): before the payload.
                let end = offset
                    .checked_add(len)
                    .expect("an embedded file's end overflows");
                assert!(
                    end <= packed.payload_offset,
                    "embedded file beyond the payload"
                );
                let _ = xxh3_64(&file[offset as usize..end as usize]);
            }
        }
        tree_properties(tree);
    }
}

/// `file` with the trailer's two checksums recomputed (and a macOS file
/// signed again) as the packer computes them, so that bytes a checksum
/// would refuse reach the checks behind it. `None` without a trailer to
/// reseal.
pub fn reseal(file: &[u8]) -> Option<Vec<u8>> {
    let mut out = file.to_vec();
    reseal_in_place(&mut out).then_some(out)
}

/// [`reseal`] without a copy; false if there is no trailer to reseal.
fn reseal_in_place(file: &mut [u8]) -> bool {
    let end = if wpack_stub::macho::is_macho(file) {
        match wpack_stub::macho::payload_section(file) {
            Ok(Some(section)) => (u64::from(section.offset) + section.size) as usize,
            _ => return false,
        }
    } else {
        file.len()
    };
    let part = &mut file[..end];
    let Some(trailer) = part.len().checked_sub(TRAILER_LEN) else {
        return false;
    };
    let field = |part: &[u8], at: usize| {
        let at = trailer + at;
        u64::from_le_bytes(part[at..at + 8].try_into().unwrap()) as usize
    };
    let (payload_offset, manifest_offset) = (field(part, 0), field(part, 16));
    // Manifests are small (a few KB); hashing megabytes of a damaged one
    // would only slow the fuzzer down.
    if manifest_offset > trailer || trailer - manifest_offset > MAX_RESEALED_MANIFEST {
        return false;
    }
    if payload_offset <= manifest_offset {
        let hash = xxh3_64(&part[payload_offset..manifest_offset]);
        part[trailer + 32..trailer + 40].copy_from_slice(&hash.to_le_bytes());
    }
    let mut meta = Xxh3::new();
    meta.update(&part[manifest_offset..trailer]);
    meta.update(&part[trailer..trailer + 40]);
    part[trailer + 40..trailer + 48].copy_from_slice(&meta.digest().to_le_bytes());
    if wpack_stub::macho::is_macho(file) {
        resign(file);
    }
    true
}

/// The largest manifest [`reseal`] recomputes the checksum of.
const MAX_RESEALED_MANIFEST: usize = 64 << 10;

/// Signs a macOS file again in the space its signature has, with an
/// identifier of the length that space was made for.
fn resign(file: &mut [u8]) {
    let Ok(parsed) = wpack_stub::macho::parse(file) else {
        return;
    };
    let Some((code_limit, size)) = parsed.code_signature(file) else {
        return;
    };
    let fixed = codesign::signature_len(code_limit.into(), "");
    if let Some(len) = u64::from(size).checked_sub(fixed).filter(|&n| n <= 1024) {
        let _ = codesign::sign(file, &"x".repeat(len as usize));
    }
}

/// The manifest decoder, which `payload::read` runs on the bytes the
/// trailer points at, as format version 7 and as a suite's version 8: what
/// decodes encodes back to the same manifest, its trees go through
/// `Tree::check` (and [`tree_properties`] if accepted), and a suite's
/// command table through `Suite::check`.
pub fn manifest(data: &[u8]) {
    for with_suite in [false, true] {
        let Ok(manifest) = Manifest::from_bytes(data, with_suite) else {
            continue;
        };
        let again = Manifest::from_bytes(&manifest.to_bytes(), with_suite)
            .expect("an encoded manifest decodes");
        assert_eq!(again, manifest);
        assert_eq!(manifest.suite.is_some(), with_suite);
        let _ = (manifest.program.kind(), manifest.program.stub_marker());
        for tree in &manifest.trees {
            if tree.check(u64::MAX).is_ok() {
                tree_properties(tree);
            }
        }
        if let Some(suite) = &manifest.suite
            && suite.check(&manifest.program, manifest.trees.len()).is_ok()
        {
            for (i, command) in suite.commands.iter().enumerate() {
                // Names are distinct, so each finds its own command.
                assert_eq!(suite.position(&command.name), Some(i));
                assert!(command.code as usize <= suite.codes.len());
            }
        }
    }
}

/// The ELF section index. After a mode byte:
/// * even: `check` and `original_stub` as `payload::read` calls them: three
///   u32 place the payload and the index in the rest of the input, the file;
/// * odd: `build` on a stub and a payload (a u32 splits the rest of the
///   input) at any u64 offset. Whenever it builds an index, the packed
///   header must pass `check` and `original_stub` must give back the stub
///   byte for byte.
pub fn elf_index(data: &[u8]) {
    use wpack_stub::elf_index::{build, check, original_stub};
    let mut input = Input(data);
    if input.byte() % 2 == 0 {
        let (a, b, c) = (input.u32(), input.u32(), input.u32());
        let file = input.rest();
        let at = a as usize % (file.len() + 1);
        let payload_end = at + b as usize % (file.len() - at + 1);
        let index_end = payload_end + c as usize % (file.len() - payload_end + 1);
        let (payload, index) = (&file[at..payload_end], &file[payload_end..index_end]);
        let _ = check(file, payload, at as u64, index);
        let _ = original_stub(&file[..at], index);
    } else {
        let offset = input.u64();
        let split = input.u32() as usize;
        let rest = input.rest();
        let (stub, payload) = rest.split_at(split % (rest.len() + 1));
        if let Some((index, header)) = build(stub, payload, offset) {
            let mut head = header.to_vec();
            head.extend_from_slice(&stub[header.len()..]);
            assert_eq!(check(&head, payload, offset, &index), Ok(()));
            assert!(*original_stub(&head, &index) == *stub);
        }
    }
}

/// The Mach-O layout: `parse`, `payload_section` (what `payload::read`
/// runs on a macOS file) and the signature check of `wpack inspect`, on
/// arbitrary bytes; and when the bytes pass as a stub (`stub_head`), the
/// packer's whole macOS path — `payload::write` into the stub's head,
/// `macho::finish`, `codesign::sign` — whose output must read back with the
/// same payload and manifest and pass the signature check.
pub fn macho(data: &[u8]) {
    use wpack_stub::macho;
    if let Ok(parsed) = macho::parse(data) {
        let _ = (parsed.code_signature(data), parsed.segment("__TEXT"));
    }
    let _ = macho::payload_section(data);
    let _ = codesign::check(data);
    let Ok(head) = macho::stub_head(data) else {
        return;
    };
    let manifest = sample_manifest();
    let payload = elf_payload();
    let mut packed = Vec::new();
    let payload_offset = payload::write(&mut packed, head, &payload, &manifest, &CONTENTS)
        .expect("writing to memory");
    let identifier = "fuzz";
    let Ok(mut file) = macho::finish(data, packed, payload_offset, |limit| {
        codesign::signature_len(limit, identifier)
    }) else {
        return;
    };
    let read = payload::read(&file).expect("a macOS file as packed reads back");
    let mut written = read.manifest.clone();
    for entry in written.trees.iter_mut().flat_map(|t| &mut t.entries) {
        if let Kind::File { offset, len, .. } = &mut entry.kind {
            (*offset, *len) = (0, 0); // filled in by `payload::write`
        }
    }
    assert!(read.payload == payload.as_slice() && written == manifest);
    read.verify_payload()
        .expect("a macOS file as packed has its checksum");
    if codesign::sign(&mut file, identifier).is_ok() {
        codesign::check(&file).expect("a file as signed passes the check");
    }
}

/// Universal macOS files: the slice table (`macho::fat_slices`), the slice
/// a reader takes (`slice_for_cpu`; `payload::read`, which the stub runs on
/// its own file), and each slice as `wpack inspect` takes it: a thin packed
/// file ([`payload_read`], [`inspect`]). Every slice accepted lies inside
/// the file, past the table, aligned as its entry says, apart from the
/// others. An input that is not a universal file is made into one
/// ([`fat_round_trip`]).
pub fn fat(data: &[u8]) {
    use wpack_stub::macho;
    let slices = match macho::fat_slices(data) {
        Ok(Some(slices)) => slices,
        Ok(None) => return fat_round_trip(data),
        Err(_) => {
            assert!(payload::read(data).is_err(), "a damaged table is read");
            return;
        }
    };
    assert!(!slices.is_empty());
    let mut by_offset: Vec<_> = slices.iter().collect();
    by_offset.sort_by_key(|s| s.offset);
    // After the table: 8 bytes, then 20 per slice (32 with 64-bit offsets).
    let entry = if data[3] == 0xbf { 32 } else { 20 };
    let mut end = 8 + entry * slices.len() as u64;
    for slice in by_offset {
        assert!(slice.offset >= end && slice.size > 0);
        assert!(slice.align <= 31 && slice.offset.is_multiple_of(1 << slice.align));
        end = slice.offset + slice.size;
        assert!(end <= data.len() as u64);
    }
    read_and_use(data);
    for slice in &slices {
        let bytes = &data[slice.offset as usize..(slice.offset + slice.size) as usize];
        let first = slices.iter().find(|s| s.cputype == slice.cputype).unwrap();
        let taken = macho::slice_for_cpu(data, slice.cputype).expect("a listed CPU");
        assert_eq!(taken.as_ptr() as u64 - data.as_ptr() as u64, first.offset);
        assert_eq!(taken.len() as u64, first.size);
        payload_read(bytes);
        inspect(bytes);
    }
}

/// Up to three slices, each a CPU type and subtype (u32) and a u16 length
/// of the input's bytes, through `write_fat`: what it writes reads back as
/// written, every slice at a multiple of 2^`SLICE_ALIGN_LOG2`; one with an
/// empty slice is refused.
fn fat_round_trip(data: &[u8]) {
    use wpack_stub::macho;
    let mut input = Input(data);
    let count = 1 + usize::from(input.byte() % 3);
    let slices: Vec<(u32, u32, &[u8])> = (0..count)
        .map(|_| {
            let (cputype, cpusubtype) = (input.u32(), input.u32());
            let len = usize::from(input.byte()) | usize::from(input.byte()) << 8;
            (cputype, cpusubtype, input.bytes(len))
        })
        .collect();
    let file = macho::write_fat(&slices).expect("slices of at most 64 KiB fit");
    let read = macho::fat_slices(&file);
    if slices.iter().any(|(_, _, bytes)| bytes.is_empty()) {
        assert!(read.is_err(), "an empty slice is accepted");
        return;
    }
    let read = read
        .expect("a table as written reads")
        .expect("a universal file");
    assert_eq!(read.len(), slices.len());
    for (entry, &(cputype, cpusubtype, bytes)) in read.iter().zip(&slices) {
        assert_eq!((entry.cputype, entry.cpusubtype), (cputype, cpusubtype));
        assert_eq!(entry.align, macho::SLICE_ALIGN_LOG2);
        assert!(entry.offset.is_multiple_of(1 << macho::SLICE_ALIGN_LOG2));
        let at = entry.offset as usize;
        assert!(file[at..at + entry.size as usize] == *bytes);
    }
    let _ = payload::read(&file).map(|p| p.verify_payload());
}

/// Embedded-tree look-ups (`tree.rs`) with arbitrary paths: `..`, `//`,
/// symlinks, long names, paths that are not UTF-8 (refused before any
/// look-up by the stub, as here; their lossy form is looked up too). The
/// input is a tree, then look-ups (see [`Input::tree`]). A tree that
/// `Tree::check` refuses is normalised first (what `check` accepts, the
/// stub uses); every look-up from a directory must end where a file
/// system's would: never on a symlink it was told to follow, only on a
/// directory after a trailing `/`.
pub fn tree(data: &[u8]) {
    let mut input = Input(data);
    let raw = input.tree();
    let tree = if raw.check(TREE_DATA_END).is_ok() {
        raw
    } else {
        let tree = normalised(raw);
        tree.check(TREE_DATA_END)
            .expect("a normalised tree passes the check");
        tree
    };
    tree_properties(&tree);
    while !input.is_empty() {
        let from = usize::from(input.byte()) % tree.entries.len();
        let follow = input.byte() % 2 == 1;
        let path = input.path();
        if let Ok(path) = std::str::from_utf8(&path) {
            look_up(&tree, from, path, follow);
        }
        look_up(&tree, from, &String::from_utf8_lossy(&path), follow);
    }
}

/// File data of the trees [`tree`] builds ends here.
const TREE_DATA_END: u64 = 1 << 16;

fn look_up(tree: &Tree, from: usize, path: &str, follow: bool) {
    let found = tree.resolve(from, path, follow);
    if tree.entries[from].kind != Kind::Dir {
        return; // the stub resolves paths from open directories only
    }
    if let Ok(at) = found {
        let kind = &tree.entries[at].kind;
        assert!(
            !(follow && matches!(kind, Kind::Symlink { .. })),
            "{path:?}"
        );
        assert!(!path.ends_with('/') || *kind == Kind::Dir, "{path:?}");
    }
}

/// What holds in every tree `Tree::check` accepts: each entry is found, and
/// looked up, at its own path; names hold no `/`; a directory's children
/// are the entries whose parent it is, each listed once.
fn tree_properties(tree: &Tree) {
    if tree.entries.len() > 64 {
        return; // each check below is linear or worse: keep each run fast
    }
    for (i, entry) in tree.entries.iter().enumerate() {
        assert_eq!(tree.find(&entry.path), Some(i));
        assert_eq!(
            tree.resolve(0, &entry.path, false),
            Ok(i),
            "{:?} is not found at its own path",
            entry.path
        );
        assert!(!tree.name(i).contains('/'));
        if i > 0 {
            let parent = tree.parent(i);
            assert_eq!(tree.children(parent).filter(|&c| c == i).count(), 1);
        }
        if entry.kind == Kind::Dir {
            for child in tree.children(i) {
                assert_eq!(tree.parent(child), i);
            }
        }
    }
}

/// A tree `Tree::check` accepts, made of `raw`'s entries: paths without
/// empty, `.` or `..` components, every parent a directory, sorted, files
/// within [`TREE_DATA_END`].
fn normalised(raw: Tree) -> Tree {
    let mut entries = BTreeMap::from([(String::new(), Kind::Dir)]);
    for entry in raw.entries {
        // At most 16 deep: look-ups cost the depth of what they pass through.
        let parts: Vec<&str> = entry
            .path
            .split('/')
            .filter(|p| !p.is_empty() && *p != "." && *p != "..")
            .take(16)
            .collect();
        if parts.is_empty() {
            continue;
        }
        for n in 1..parts.len() {
            entries.insert(parts[..n].join("/"), Kind::Dir);
        }
        let kind = match entry.kind {
            Kind::File { len, hash, .. } => Kind::File {
                offset: 16,
                len: len % 4096,
                hash,
            },
            other => other,
        };
        entries.entry(parts.join("/")).or_insert(kind);
    }
    Tree {
        guest: if raw.guest.is_empty() {
            "/t".into()
        } else {
            raw.guest
        },
        entries: entries
            .into_iter()
            .map(|(path, kind)| Entry { path, kind })
            .collect(),
    }
}

/// What `wpack inspect` parses (packer/src/inspect.rs) before it gives the
/// payload to wasmtime: `payload::read`, the payload check, a macOS file's
/// ad hoc signature (`codesign::check`), the wasmtime version in the
/// payload's ELF image (with goblin), the embedded trees' summary. Then the
/// same on the file resealed ([`reseal`]). (Loading a payload whose checksum
/// matches is wasmtime's parsing, not ours; the replay test runs the real
/// `wpack inspect` on every case.)
pub fn inspect(data: &[u8]) {
    inspect_once(data);
    if let Some(sealed) = reseal(data) {
        inspect_once(&sealed);
    }
}

fn inspect_once(file: &[u8]) {
    let Ok(packed) = payload::read(file) else {
        return;
    };
    if packed.verify_payload().is_err() {
        return;
    }
    if wpack_stub::macho::is_macho(file) && codesign::check(file).is_err() {
        return;
    }
    let _ = wasmtime_version(packed.payload);
    let mut bytes = 0u64;
    for tree in &packed.manifest.trees {
        for entry in &tree.entries {
            if let Kind::File { len, .. } = entry.kind {
                bytes += len;
            }
        }
    }
    assert!(bytes <= file.len() as u64 * packed.manifest.trees.len() as u64);
}

/// As `wasmtime_version` in packer/src/inspect.rs: the version string in
/// the `.wasmtime.engine` section of the payload's ELF image.
fn wasmtime_version(image: &[u8]) -> Option<String> {
    let elf = goblin::elf::Elf::parse(image).ok()?;
    let section = elf
        .section_headers
        .iter()
        .find(|s| elf.shdr_strtab.get_at(s.sh_name) == Some(".wasmtime.engine"))?;
    let data = image.get(section.file_range()?)?;
    let len = usize::from(*data.get(1)?);
    let version = data.get(2..2 + len)?;
    Some(String::from_utf8_lossy(version).into_owned())
}

/// A fuzz input read as a sequence of values; past its end every value is 0.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }

    fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | u64::from(self.u32()) << 32
    }

    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }

    fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.0)
    }

    /// A length byte, then that many bytes (its low 7 bits); with the high
    /// bit set, a count byte follows and the bytes are repeated that many
    /// times, joined by `/`: deep and long paths from a few bytes.
    fn path(&mut self) -> Vec<u8> {
        let n = self.byte();
        let part = self.bytes(usize::from(n & 0x7f));
        if n & 0x80 == 0 {
            return part.to_vec();
        }
        let times = usize::from(self.byte());
        let mut path = Vec::with_capacity((part.len() + 1) * times);
        for i in 0..times {
            if i > 0 {
                path.push(b'/');
            }
            path.extend_from_slice(part);
        }
        path
    }

    /// A count byte (up to 31 entries), each a kind byte (0 directory, 1
    /// file with a u16 offset and a length byte, 2 symlink with a target
    /// path) and a path; then the guest name.
    fn tree(&mut self) -> Tree {
        let count = self.byte() % 32;
        let entries = (0..count)
            .map(|_| {
                let kind = match self.byte() % 3 {
                    0 => Kind::Dir,
                    1 => Kind::File {
                        offset: u64::from(self.byte()) | u64::from(self.byte()) << 8,
                        len: u64::from(self.byte()),
                        hash: 0,
                    },
                    _ => Kind::Symlink {
                        target: String::from_utf8_lossy(&self.path()).into_owned(),
                    },
                };
                let path = String::from_utf8_lossy(&self.path()).into_owned();
                Entry { path, kind }
            })
            .collect();
        let guest = String::from_utf8_lossy(&self.path()).into_owned();
        Tree { guest, entries }
    }
}

/// Inputs every target starts from besides its committed corpus, by
/// target: small packed files of every layout (ELF with a section index,
/// PE-like without, macOS signed), written by `payload::write`,
/// `macho::finish` and `codesign::sign` around stand-in stubs, and inputs
/// in each target's own format. The replay test checks the packed ones
/// read back, and writes them all out for `scripts/fuzz.sh`, with real
/// packed files that the built wpack writes.
pub fn seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    let payload = elf_payload();
    let (full, component) = (sample_manifest(), component_manifest());
    let pack = |stub: &[u8], manifest: &Manifest, contents: &[&[u8]]| {
        let mut file = Vec::new();
        payload::write(&mut file, stub, &payload, manifest, contents).unwrap();
        file
    };
    let elf = pack(&elf_stub(), &full, &CONTENTS);
    let pe = pack(&pe_stub(), &component, &[]);
    // Several commands (format version 8): the payload and one more code.
    let suite = {
        let mut manifest = Manifest {
            init: None,
            ..full.clone()
        };
        manifest.suite = Some(suite_table());
        let mut file = Vec::new();
        payload::write_with_codes(
            &mut file,
            &elf_stub(),
            &payload,
            &[&payload],
            &manifest,
            &CONTENTS,
        )
        .unwrap();
        file
    };
    let macos_for = |cputype: u32| {
        let mut stub = macho_stub();
        stub[4..8].copy_from_slice(&cputype.to_le_bytes());
        let head = wpack_stub::macho::stub_head(&stub).unwrap();
        let mut packed = Vec::new();
        let at = payload::write(&mut packed, head, &payload, &full, &CONTENTS).unwrap();
        let mut file = wpack_stub::macho::finish(&stub, packed, at, |limit| {
            codesign::signature_len(limit, "hello")
        })
        .unwrap();
        codesign::sign(&mut file, "hello").unwrap();
        file
    };
    let macos = macos_for(wpack_stub::macho::CPU_TYPE_ARM64);
    let intel = macos_for(wpack_stub::macho::CPU_TYPE_X86_64);
    let universal = wpack_stub::macho::write_fat(&[
        (wpack_stub::macho::CPU_TYPE_ARM64, 0, macos.as_slice()),
        (wpack_stub::macho::CPU_TYPE_X86_64, 3, intel.as_slice()),
    ])
    .unwrap();
    let mut seeds = Vec::new();
    for (name, file) in [
        ("elf", &elf),
        ("suite", &suite),
        ("pe", &pe),
        ("macos", &macos),
        ("universal", &universal),
    ] {
        for target in ["payload_read", "packed_file", "inspect", "fat"] {
            if target != "fat" || name == "universal" {
                seeds.push((target, format!("{name}-packed"), file.clone()));
            }
        }
    }
    // fat, not a universal file: two slices for `write_fat`.
    let mut table = vec![1];
    for (cputype, subtype, len) in [(0x0100_000c_u32, 0u32, 40u16), (0x0100_0007, 3, 8)] {
        table.extend_from_slice(&cputype.to_le_bytes());
        table.extend_from_slice(&subtype.to_le_bytes());
        table.extend_from_slice(&len.to_le_bytes());
        table.extend(std::iter::repeat_n(0xcf, usize::from(len)));
    }
    seeds.push(("fat", "write".into(), table));
    seeds.push(("macho", "stub".into(), macho_stub()));
    seeds.push(("macho", "packed".into(), macos));
    for (name, manifest) in [
        ("full", &full),
        ("component", &component),
        ("default", &Manifest::default()),
    ] {
        seeds.push(("manifest", name.into(), manifest.to_bytes()));
    }
    // elf_index, mode 1: build an index for the stand-in stub and payload.
    let stub = elf_stub();
    let mut build = vec![1];
    build.extend_from_slice(&payload::PAYLOAD_ALIGN.to_le_bytes());
    build.extend_from_slice(&(stub.len() as u32).to_le_bytes());
    build.extend_from_slice(&stub);
    build.extend_from_slice(&payload);
    seeds.push(("elf_index", "build".into(), build));
    // elf_index, mode 0: check the packed ELF file's index where it is.
    let packed = payload::read(&elf).unwrap();
    let at = packed.payload_offset as u32;
    let mut check = vec![0];
    for n in [
        at,
        packed.payload.len() as u32,
        packed.elf_index.len() as u32,
    ] {
        check.extend_from_slice(&n.to_le_bytes());
    }
    check.extend_from_slice(&elf);
    seeds.push(("elf_index", "check".into(), check));
    seeds.push(("tree", "app".into(), tree_input()));
    seeds
}

/// The embedded files of [`sample_manifest`], in manifest order.
const CONTENTS: [&[u8]; 2] = [b"def helper():\n    return 1\n", b"print('hello')\n"];

/// Two commands on two codes, the second with its own argument; both see
/// the sample's tree.
fn suite_table() -> wpack_stub::manifest::Suite {
    use wpack_stub::manifest::{Code, Command, Suite};
    Suite {
        codes: vec![Code {
            module_name: "other.wasm".into(),
            program: Program::Module,
            ..Code::default()
        }],
        commands: vec![
            Command {
                name: "app".into(),
                code: 0,
                args: vec!["/app/main.py".into()],
                trees: vec![0],
                ..Command::default()
            },
            Command {
                name: "other".into(),
                code: 1,
                args: vec!["-x".into()],
                env: vec![EnvVar::parse("B=2").unwrap()],
                dirs: vec![DirMapping::parse("out").unwrap()],
                trees: vec![0],
            },
        ],
    }
}

fn sample_manifest() -> Manifest {
    let entry = |path: &str, kind| Entry {
        path: path.into(),
        kind,
    };
    let file = |hash| Kind::File {
        offset: 0,
        len: 0,
        hash,
    };
    Manifest {
        wpack_version: "0.1.0".into(),
        target: "x86_64-unknown-linux-musl".into(),
        module_name: "app.wasm".into(),
        dirs: vec![DirMapping::parse("data::/data").unwrap()],
        env: vec![
            EnvVar::parse("A=1").unwrap(),
            EnvVar::parse("HOME").unwrap(),
        ],
        inherit_env: true,
        host_fs: false,
        args: vec!["/app/main.py".into()],
        trees: vec![Tree {
            guest: "/app".into(),
            entries: vec![
                entry("", Kind::Dir),
                entry("lib", Kind::Dir),
                entry("lib/util.py", file(xxh3_64(CONTENTS[0]))),
                entry(
                    "link",
                    Kind::Symlink {
                        target: "lib/util.py".into(),
                    },
                ),
                entry("main.py", file(xxh3_64(CONTENTS[1]))),
            ],
        }],
        program: Program::Module,
        network: Network::default(),
        init: Some(Init {
            func: "wizer-initialize".into(),
            open: vec![InitDescriptor {
                fd: 4,
                tree: 0,
                entry: 4,
                position: 3,
            }],
            ..Init::default()
        }),
        suite: None,
    }
}

fn component_manifest() -> Manifest {
    Manifest {
        wpack_version: "0.1.0".into(),
        target: "x86_64-pc-windows-gnu".into(),
        module_name: "client.wasm".into(),
        host_fs: true,
        program: Program::Component {
            imports: vec!["wasi:cli/stdout@0.2.6".into()],
            exports: vec!["wasi:cli/run@0.2.6".into()],
        },
        network: Network {
            inherit: true,
            ip_name_lookup: true,
        },
        ..Manifest::default()
    }
}

/// A tree with every kind of entry and look-ups through `.`, `..`, `//`,
/// symlinks and a trailing `/`, in [`Input::tree`]'s format.
fn tree_input() -> Vec<u8> {
    fn path(out: &mut Vec<u8>, p: &str) {
        out.push(p.len() as u8);
        out.extend_from_slice(p.as_bytes());
    }
    let mut out = vec![6];
    for (kind, target, p) in [
        (0, "", ""),
        (0, "", "a"),
        (1, "", "a/f"),
        (2, "a", "to-a"),
        (2, "../x", "out"),
        (2, "loop", "loop"),
    ] {
        out.push(kind);
        match kind {
            1 => out.extend_from_slice(&[16, 0, 4]),
            2 => path(&mut out, target),
            _ => {}
        }
        path(&mut out, p);
    }
    path(&mut out, "/app");
    for (from, follow, p) in [
        (0, 1, "a/./f"),
        (1, 0, "../a//f"),
        (0, 1, "to-a/"),
        (0, 1, "loop"),
        (0, 0, "out"),
    ] {
        out.extend_from_slice(&[from, follow]);
        path(&mut out, p);
    }
    out
}

/// A small little-endian ELF64 image of the given sections (name, type,
/// contents) and a section-name table, as goblin and `elf_index` read them.
fn elf_image(flags: u32, sections: &[(&str, u32, &[u8])]) -> Vec<u8> {
    let mut out = vec![0u8; 64];
    let mut names = vec![0u8];
    let mut headers = vec![[0u8; 64]];
    let mut header = |name: usize, kind: u32, offset: usize, len: usize| {
        let mut h = [0u8; 64];
        h[0..4].copy_from_slice(&(name as u32).to_le_bytes());
        h[4..8].copy_from_slice(&kind.to_le_bytes());
        h[24..32].copy_from_slice(&(offset as u64).to_le_bytes());
        h[32..40].copy_from_slice(&(len as u64).to_le_bytes());
        h[48..56].copy_from_slice(&1u64.to_le_bytes());
        headers.push(h);
    };
    for (name, kind, data) in sections {
        header(names.len(), *kind, out.len(), data.len());
        names.extend_from_slice(name.as_bytes());
        names.push(0);
        out.extend_from_slice(data);
    }
    header(names.len(), 3, out.len(), names.len() + 10);
    names.extend_from_slice(b".shstrtab\0");
    out.extend_from_slice(&names);
    out.resize(out.len().next_multiple_of(8), 0);
    let shoff = out.len();
    let count = headers.len() as u16;
    for h in &headers {
        out.extend_from_slice(h);
    }
    out[..8].copy_from_slice(b"\x7fELF\x02\x01\x01\0");
    out[16..18].copy_from_slice(&1u16.to_le_bytes()); // ET_REL
    out[18..20].copy_from_slice(&62u16.to_le_bytes()); // x86_64
    out[20..24].copy_from_slice(&1u32.to_le_bytes());
    out[40..48].copy_from_slice(&(shoff as u64).to_le_bytes());
    out[48..52].copy_from_slice(&flags.to_le_bytes());
    out[52..54].copy_from_slice(&64u16.to_le_bytes());
    out[58..60].copy_from_slice(&64u16.to_le_bytes());
    out[60..62].copy_from_slice(&count.to_le_bytes());
    out[62..64].copy_from_slice(&(count - 1).to_le_bytes());
    out
}

/// A stand-in for wasmtime's precompiled image: code, data and the engine
/// section `wpack inspect` reads the wasmtime version from.
fn elf_payload() -> Vec<u8> {
    elf_image(
        1,
        &[
            (".text", 1, &[0xc3; 64]),
            (".wasmtime.engine", 1, b"\0\x0648.0.8"),
            (".data", 1, b"wasm data segment"),
        ],
    )
}

/// A stand-in ELF stub: a named section, and a relocation section against
/// it (which the index must make wasmtime skip).
fn elf_stub() -> Vec<u8> {
    let mut stub = elf_image(
        0,
        &[(".text", 1, &[0x90; 256]), (".rela.text", 4, &[0; 24])],
    );
    let shoff = u64::from_le_bytes(stub[40..48].try_into().unwrap()) as usize;
    let rela = shoff + 2 * 64;
    stub[rela + 8..rela + 16].copy_from_slice(&0x40u64.to_le_bytes()); // SHF_INFO_LINK
    stub[rela + 44..rela + 48].copy_from_slice(&1u32.to_le_bytes()); // applies to .text
    stub
}

/// A stand-in Windows stub: not ELF, so the file gets no section index.
fn pe_stub() -> Vec<u8> {
    let mut stub = b"MZ".to_vec();
    stub.resize(512, 0x90);
    stub
}

/// A stand-in macOS stub as `macho::finish` expects one: `__TEXT` with one
/// section, `__LINKEDIT` last holding a symbol table and the signature.
fn macho_stub() -> Vec<u8> {
    let mut file = vec![0u8; 0x4100];
    // Segment commands mix u32 and u64 fields: spelled out field by field.
    let segment = |name: &str,
                   vmaddr: u64,
                   fileoff: u64,
                   filesize: u64,
                   prot: u32,
                   sections: &[(&str, u64, u64, u32)]| {
        let mut cmd = Vec::new();
        cmd.extend_from_slice(&0x19u32.to_le_bytes());
        cmd.extend_from_slice(&((72 + 80 * sections.len()) as u32).to_le_bytes());
        let mut n = [0u8; 16];
        n[..name.len()].copy_from_slice(name.as_bytes());
        cmd.extend_from_slice(&n);
        for v in [vmaddr, 0x4000, fileoff, filesize] {
            cmd.extend_from_slice(&v.to_le_bytes());
        }
        for v in [prot, prot, sections.len() as u32, 0] {
            cmd.extend_from_slice(&v.to_le_bytes());
        }
        for (sect, addr, size, offset) in sections {
            let mut s = [0u8; 80];
            s[..sect.len()].copy_from_slice(sect.as_bytes());
            s[16..16 + name.len()].copy_from_slice(name.as_bytes());
            s[32..40].copy_from_slice(&addr.to_le_bytes());
            s[40..48].copy_from_slice(&size.to_le_bytes());
            s[48..52].copy_from_slice(&offset.to_le_bytes());
            cmd.extend_from_slice(&s);
        }
        cmd
    };
    let mut commands = vec![segment(
        "__TEXT",
        0x1_0000_0000,
        0,
        0x4000,
        5,
        &[("__text", 0x1_0000_1000, 0x100, 0x1000)],
    )];
    commands.push(segment("__LINKEDIT", 0x1_0000_4000, 0x4000, 0x100, 1, &[]));
    let words = |w: &[u32]| w.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>();
    commands.push(words(&[0x2, 24, 0x4000, 0, 0x4000, 0x10])); // LC_SYMTAB
    commands.push(words(&[0x1d, 16, 0x4080, 0x80])); // LC_CODE_SIGNATURE
    let all: Vec<u8> = commands.concat();
    file[..32].copy_from_slice(&words(&[
        0xfeed_facf,
        0x0100_000c,
        0,
        2,
        commands.len() as u32,
        all.len() as u32,
        0,
        0,
    ]));
    file[32..32 + all.len()].copy_from_slice(&all);
    file[0x1000..0x1100].fill(0xd5);
    file
}
