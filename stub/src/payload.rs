//! The packed file layout: `docs/FORMAT.md` explains it; this is its one
//! definition in code, used by the packer to write and by the stub to read.
//!
//! ```text
//! 0                 stub executable (ELF: section fields of its header point
//!                   at the section index, see `elf_index.rs`)
//! stub_len          zero padding up to the next multiple of PAYLOAD_ALIGN
//! payload_offset    payload: the module precompiled by wasmtime (an ELF image)
//! index_offset      ELF section index (ELF stubs), or 0-7 zero bytes that end
//!                   a PE file on a multiple of 8 (see `pe.rs`); index_offset
//!                   = payload_offset + payload_len, it ends at manifest_offset
//! manifest_offset   manifest (postcard, see `manifest.rs`)
//! file_len - 64     trailer (64 bytes, little-endian):
//!                     +0  u64  payload_offset
//!                     +8  u64  payload_len
//!                     +16 u64  manifest_offset
//!                     +24 u64  manifest_len
//!                     +32 u64  payload_hash  xxh3-64 of the payload, then the index
//!                     +40 u64  meta_hash     xxh3-64 of the manifest, then trailer bytes +0..+40
//!                     +48 u32  format_version
//!                     +52 u32  trailer_len (64)
//!                     +56 [u8; 8] MAGIC
//! ```
//!
//! The last 16 bytes (version, trailer length, magic) keep their place in
//! every future version, so any reader can tell "not packed" from "packed by a
//! different version".
//!
//! What may surround that, and is not part of it: a macOS file's signature
//! after the `__wpack` section (`macho.rs`), the other slices of a universal
//! macOS file (`macho::fat_slices`), and an Authenticode certificate table
//! after a signed Windows file (`pe.rs`). [`read`] takes them away first
//! ([`read_own`], in the stub, only its own platform's).

use std::io::{self, Read, Write};

use thiserror::Error;
use xxhash_rust::xxh3::{Xxh3, xxh3_64};

use crate::elf_index;
use crate::macho;
use crate::manifest::Manifest;
use crate::pe;
use crate::tree;

/// Bumped on any change to the layout or to the manifest's types.
pub const FORMAT_VERSION: u32 = 7;

/// The version of a file holding several commands (`--command`): version 7
/// with a [`crate::manifest::Suite`] after the manifest's fields and the
/// suite's extra codes before the payload. A file of one program is still
/// written as version 7, byte for byte as before suites existed.
pub const SUITE_FORMAT_VERSION: u32 = 8;

/// The last eight bytes of every packed file.
pub const MAGIC: [u8; 8] = *b"WPACK\0\r\n";

/// Size of the trailer in bytes (this version).
pub const TRAILER_LEN: usize = 64;

/// Alignment of the payload's offset in the file. The stub maps the file and
/// makes the payload's code executable in place, so the code must start on a
/// page boundary of every platform we target (4 KiB on x86_64, up to 64 KiB
/// on aarch64 kernels).
pub const PAYLOAD_ALIGN: u64 = 64 * 1024;

/// Why a file could not be read as a packed program.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum FormatError {
    #[error(
        "no wpack payload found: the file is not a packed program, or its end was cut off \
         or removed (for example by `strip`); pack the .wasm again"
    )]
    NotPacked,
    #[error(
        "the payload uses format version {found}, but this program reads versions \
         {FORMAT_VERSION} and {SUITE_FORMAT_VERSION}; pack it again with this wpack"
    )]
    UnsupportedVersion { found: u32 },
    #[error("the payload trailer or manifest is damaged ({0}); download or pack the file again")]
    Damaged(&'static str),
    #[error("the compiled code is damaged (checksum mismatch); download or pack the file again")]
    PayloadChecksum,
    #[error(
        "this universal macOS file holds no program for this CPU; pack it again with \
         --target universal-macos"
    )]
    NoSliceForThisCpu,
}

/// The Mach-O CPU type of the slice a universal file's reader takes: the
/// CPU this code runs on (under Rosetta, the x86_64 slice macOS chose).
const OWN_MACHO_CPU: u32 = if cfg!(target_arch = "aarch64") {
    macho::CPU_TYPE_ARM64
} else {
    macho::CPU_TYPE_X86_64
};

/// The parts of a packed file, borrowed from its bytes.
#[derive(Debug)]
pub struct Packed<'a> {
    /// The bytes the trailer's offsets count from: the whole file, or a
    /// universal macOS file's slice for this CPU.
    pub file: &'a [u8],
    /// The file up to the payload: the stub as packed (its ELF header may
    /// point at the section index; see [`Packed::original_stub`]) and padding.
    pub stub_region: &'a [u8],
    /// The precompiled module; starts at a multiple of [`PAYLOAD_ALIGN`] in the file.
    pub payload: &'a [u8],
    pub payload_offset: u64,
    /// The ELF section index that lets wasmtime load the payload from the
    /// file itself; empty when the stub is not ELF.
    pub elf_index: &'a [u8],
    pub payload_hash: u64,
    pub manifest: Manifest,
    /// Payload and index, the bytes `payload_hash` covers.
    hashed: &'a [u8],
}

/// Compiled code in a packed file: the payload, or a suite's extra code.
#[derive(Debug, Clone, Copy)]
pub struct CodeRef<'a> {
    /// 0 for the payload, `n` for `Suite::codes[n - 1]`.
    pub index: u32,
    pub offset: u64,
    pub bytes: &'a [u8],
    /// The hash recorded at pack time: for code 0 the payload hash, which
    /// also covers the ELF index.
    pub hash: u64,
}

impl<'a> Packed<'a> {
    /// Checks the payload and index against the hash recorded at pack time.
    /// The stub calls this before any of the payload is made executable.
    pub fn verify_payload(&self) -> Result<(), FormatError> {
        if xxh3_64(self.hashed) == self.payload_hash {
            Ok(())
        } else {
            Err(FormatError::PayloadChecksum)
        }
    }

    /// The format version this file was written in.
    pub fn version(&self) -> u32 {
        if self.manifest.suite.is_some() {
            SUITE_FORMAT_VERSION
        } else {
            FORMAT_VERSION
        }
    }

    /// Code `index` (see [`crate::manifest::Command::code`]), or `None` if
    /// there is no such code.
    pub fn code(&self, index: u32) -> Option<CodeRef<'a>> {
        if index == 0 {
            return Some(CodeRef {
                index,
                offset: self.payload_offset,
                bytes: self.payload,
                hash: self.payload_hash,
            });
        }
        let code = self
            .manifest
            .suite
            .as_ref()?
            .codes
            .get(index as usize - 1)?;
        Some(CodeRef {
            index,
            offset: code.offset,
            // In bounds: `read` checked every code's place.
            bytes: &self.file[code.offset as usize..(code.offset + code.len) as usize],
            hash: code.hash,
        })
    }

    /// Checks code `index` against its hash, as [`Packed::verify_payload`]
    /// does for the payload (code 0).
    pub fn verify_code(&self, index: u32) -> Result<(), FormatError> {
        match self.code(index) {
            Some(code) if code.index == 0 => self.verify_payload(),
            Some(code) if xxh3_64(code.bytes) == code.hash => Ok(()),
            _ => Err(FormatError::PayloadChecksum),
        }
    }

    /// The stub and padding as they were before packing.
    pub fn original_stub(&self) -> std::borrow::Cow<'a, [u8]> {
        elf_index::original_stub(self.stub_region, self.elf_index)
    }
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
}

/// Finds and checks the trailer and manifest of `file` (the whole packed
/// file; of a universal macOS file, the slice for this CPU), whichever
/// target it was packed for: what the packer and `wpack inspect` read. The
/// payload hash is not checked here; see [`Packed::verify_payload`].
pub fn read(file: &[u8]) -> Result<Packed<'_>, FormatError> {
    read_as::<true, true>(file)
}

/// [`read`] for the stub, on its own file, which is in this platform's
/// executable format: a Linux stub's file is never a Mach-O or PE file. So
/// only that format is taken apart, and the other formats' readers stay out
/// of the stub (10 KB of the x86_64 Linux one, which `tests/stub_budget.rs`
/// counts). On a file of this platform's format it answers as `read` does.
pub fn read_own(file: &[u8]) -> Result<Packed<'_>, FormatError> {
    read_as::<{ cfg!(target_os = "macos") }, { cfg!(windows) }>(file)
}

/// [`read`], taking apart Mach-O files if `MACHO` and PE files if `PE`;
/// any other file is read as it is (an ELF stub's).
fn read_as<const MACHO: bool, const PE: bool>(file: &[u8]) -> Result<Packed<'_>, FormatError> {
    let fat = if MACHO {
        macho::fat_slices(file)
    } else {
        Ok(None)
    };
    let file = match fat {
        Ok(None) => file,
        Ok(Some(_)) => {
            macho::slice_for_cpu(file, OWN_MACHO_CPU).map_err(|_| FormatError::NoSliceForThisCpu)?
        }
        Err(damage) => return Err(FormatError::Damaged(damage)),
    };
    let packed = read_packed::<PE>(packed_part::<MACHO, PE>(file)?)?;
    Ok(Packed { file, ..packed })
}

/// The part of `file` that ends with the trailer: the whole file, except for
/// a macOS program, where the trailer ends the `__wpack` section and the
/// signature follows (see `macho.rs`), and a signed Windows program, where
/// the certificate table follows (see `pe.rs`).
fn packed_part<const MACHO: bool, const PE: bool>(file: &[u8]) -> Result<&[u8], FormatError> {
    if PE && pe::is_pe(file) {
        return signed_part(file);
    }
    if !MACHO || !macho::is_macho(file) {
        return Ok(file);
    }
    match macho::payload_section(file) {
        Ok(Some(section)) => Ok(&file[..(u64::from(section.offset) + section.size) as usize]),
        Ok(None) => Err(FormatError::NotPacked),
        Err(_) => Err(FormatError::Damaged(
            "the Mach-O header does not lead to the payload",
        )),
    }
}

/// A Windows file without the Authenticode certificate table a signer
/// appended, if it ends with one. Nothing else may follow the trailer.
fn signed_part(file: &[u8]) -> Result<&[u8], FormatError> {
    if file.ends_with(&MAGIC) {
        return Ok(file);
    }
    match pe::certificate_table(file) {
        Ok(Some((offset, len))) if offset + len == file.len() => Ok(&file[..offset]),
        Ok(Some(_)) => Err(FormatError::Damaged(
            "bytes follow the Authenticode signature",
        )),
        // Unsigned and not ending in a trailer, or a table cut off.
        Ok(None) | Err(_) => Err(FormatError::NotPacked),
    }
}

fn read_packed<const PE: bool>(file: &[u8]) -> Result<Packed<'_>, FormatError> {
    if file.len() < 16 || file[file.len() - 8..] != MAGIC {
        return Err(FormatError::NotPacked);
    }
    let version = u32_at(file, file.len() - 16);
    if version != FORMAT_VERSION && version != SUITE_FORMAT_VERSION {
        return Err(FormatError::UnsupportedVersion { found: version });
    }
    if u32_at(file, file.len() - 12) as usize != TRAILER_LEN || file.len() < TRAILER_LEN {
        return Err(FormatError::Damaged("bad trailer length"));
    }
    let trailer_at = file.len() - TRAILER_LEN;
    let t = &file[trailer_at..];
    let payload_offset = u64_at(t, 0);
    let payload_len = u64_at(t, 8);
    let manifest_offset = u64_at(t, 16);
    let manifest_len = u64_at(t, 24);
    let payload_hash = u64_at(t, 32);
    let meta_hash = u64_at(t, 40);

    // Every region must sit exactly where the layout puts it; checked with
    // overflow-free arithmetic because the numbers may be garbage.
    let manifest_end = manifest_offset.checked_add(manifest_len);
    if manifest_end != Some(trailer_at as u64) {
        return Err(FormatError::Damaged("manifest does not end at the trailer"));
    }
    let index_offset = payload_offset
        .checked_add(payload_len)
        .filter(|&end| end <= manifest_offset)
        .ok_or(FormatError::Damaged("payload runs into the manifest"))?;
    if !payload_offset.is_multiple_of(PAYLOAD_ALIGN) || payload_offset == 0 || payload_len == 0 {
        return Err(FormatError::Damaged("payload is not aligned"));
    }
    let manifest_bytes = &file[manifest_offset as usize..trailer_at];
    if meta_hash != hash_meta(manifest_bytes, &t[..40]) {
        return Err(FormatError::Damaged("checksum mismatch"));
    }
    let manifest = Manifest::from_bytes(manifest_bytes, version == SUITE_FORMAT_VERSION)
        .map_err(|_| FormatError::Damaged("manifest does not decode"))?;
    let payload = &file[payload_offset as usize..index_offset as usize];
    let mut elf_index = &file[index_offset as usize..manifest_offset as usize];
    if PE && pe::is_pe(file) {
        if elf_index.len() >= pe::CERTIFICATE_ALIGN || elf_index.iter().any(|&b| b != 0) {
            return Err(FormatError::Damaged("bad padding after the payload"));
        }
        elf_index = &[];
    } else if !elf_index.is_empty() {
        elf_index::check(file, payload, payload_offset, elf_index).map_err(FormatError::Damaged)?;
    }
    // Embedded files and a suite's codes lie between the stub and the
    // payload, the codes aligned, none overlapping another.
    for tree in &manifest.trees {
        tree.check(payload_offset).map_err(FormatError::Damaged)?;
    }
    if let Some(suite) = &manifest.suite {
        suite
            .check(&manifest.program, manifest.trees.len())
            .map_err(FormatError::Damaged)?;
        check_codes(suite, &manifest, payload_offset)?;
    }
    let data_start = regions(&manifest)
        .map(|(offset, _)| offset)
        .min()
        .unwrap_or(payload_offset);
    Ok(Packed {
        file,
        stub_region: &file[..data_start as usize],
        payload,
        payload_offset,
        elf_index,
        payload_hash,
        manifest,
        hashed: &file[payload_offset as usize..manifest_offset as usize],
    })
}

fn hash_meta(manifest: &[u8], trailer_head: &[u8]) -> u64 {
    let mut h = Xxh3::new();
    h.update(manifest);
    h.update(trailer_head);
    h.digest()
}

/// `(offset, len)` of every embedded file, in manifest order.
fn files(manifest: &Manifest) -> impl Iterator<Item = (u64, u64)> + '_ {
    manifest
        .trees
        .iter()
        .flat_map(|t| &t.entries)
        .filter_map(|e| match e.kind {
            tree::Kind::File { offset, len, .. } => Some((offset, len)),
            _ => None,
        })
}

/// `(offset, len)` of every embedded file and extra code.
fn regions(manifest: &Manifest) -> impl Iterator<Item = (u64, u64)> + '_ {
    let codes = manifest.suite.iter().flat_map(|s| &s.codes);
    files(manifest).chain(codes.map(|c| (c.offset, c.len)))
}

/// A suite's codes: each aligned, non-empty and before the payload, and no
/// two regions (codes, embedded files) overlapping.
fn check_codes(
    suite: &crate::manifest::Suite,
    manifest: &Manifest,
    payload_offset: u64,
) -> Result<(), FormatError> {
    for code in &suite.codes {
        let end = code.offset.checked_add(code.len);
        if code.len == 0
            || !code.offset.is_multiple_of(PAYLOAD_ALIGN)
            || end.is_none_or(|end| end > payload_offset)
        {
            return Err(FormatError::Damaged("a command's code is out of place"));
        }
    }
    // Each end was checked against `payload_offset` above or by `tree::check`.
    let overlap = |a: (u64, u64), b: (u64, u64)| a.0 < b.0 + b.1 && b.0 < a.0 + a.1;
    for (i, code) in suite.codes.iter().enumerate() {
        let code = (code.offset, code.len);
        let others = suite.codes[i + 1..].iter().map(|c| (c.offset, c.len));
        if files(manifest)
            .chain(others)
            .any(|other| overlap(code, other))
        {
            return Err(FormatError::Damaged("a command's code overlaps other data"));
        }
    }
    Ok(())
}

/// Offset at which the payload starts when appended to a stub of `stub_len`
/// bytes with no embedded files.
pub fn payload_offset_for(stub_len: u64) -> u64 {
    stub_len.div_ceil(PAYLOAD_ALIGN) * PAYLOAD_ALIGN
}

/// Where [`place`] put the embedded files.
pub struct Placed<'a> {
    /// Each file's offset and bytes, in manifest order.
    pub files: Vec<(u64, &'a [u8])>,
    /// Where the last one ends.
    pub end: u64,
}

/// Lays out the embedded files from `start` on: fills in the offset and
/// length of each file of `trees`, whose bytes are `contents` in manifest
/// order.
pub fn place<'a>(
    trees: &mut [tree::Tree],
    contents: &[&'a [u8]],
    start: u64,
) -> io::Result<Placed<'a>> {
    let mut end = start;
    let mut placed = Vec::with_capacity(contents.len());
    let mut next = contents.iter();
    for entry in trees.iter_mut().flat_map(|t| &mut t.entries) {
        if let tree::Kind::File { offset, len, .. } = &mut entry.kind {
            let data = next.next().ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, "fewer contents than files")
            })?;
            *offset = tree::file_offset(end, data.len() as u64);
            *len = data.len() as u64;
            placed.push((*offset, *data));
            end = *offset + *len;
        }
    }
    if next.next().is_some() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "more contents than files",
        ));
    }
    Ok(Placed { files: placed, end })
}

/// Writes a complete packed file: `stub` (its ELF header pointed at the
/// index), the embedded files, padding, `payload`, the ELF section index,
/// `manifest`, trailer. `contents` holds the bytes of the manifest's
/// embedded files in manifest order; their offsets are filled in here.
/// Returns where the payload starts.
pub fn write(
    out: &mut impl Write,
    stub: &[u8],
    payload: &[u8],
    manifest: &Manifest,
    contents: &[&[u8]],
) -> io::Result<u64> {
    write_with_codes(out, stub, payload, &[], manifest, contents)
}

/// [`write`] for a suite: `codes` are the bytes of `manifest.suite`'s
/// codes (1..), placed after the embedded files, each at a multiple of
/// [`PAYLOAD_ALIGN`]; their offsets, lengths and hashes are filled in here.
pub fn write_with_codes<'a>(
    out: &mut impl Write,
    stub: &[u8],
    payload: &[u8],
    codes: &[&'a [u8]],
    manifest: &Manifest,
    contents: &[&'a [u8]],
) -> io::Result<u64> {
    let mut manifest = manifest.clone();
    let Placed {
        files: mut placed,
        mut end,
    } = place(&mut manifest.trees, contents, stub.len() as u64)?;
    let described = manifest
        .suite
        .as_mut()
        .map_or(&mut [][..], |s| &mut s.codes);
    if described.len() != codes.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the suite describes another number of codes",
        ));
    }
    for (code, bytes) in described.iter_mut().zip(codes) {
        code.offset = end.next_multiple_of(PAYLOAD_ALIGN);
        code.len = bytes.len() as u64;
        code.hash = xxh3_64(bytes);
        placed.push((code.offset, bytes));
        end = code.offset + code.len;
    }
    let version = if manifest.suite.is_some() {
        SUITE_FORMAT_VERSION
    } else {
        FORMAT_VERSION
    };
    let manifest = manifest.to_bytes();
    let payload_offset = payload_offset_for(end);
    let (index, stub_header) = match elf_index::build(stub, payload, payload_offset) {
        Some((index, header)) => (index, Some(header)),
        // A signer appends its certificate table at the next multiple of
        // 8, padding first: padded here, the table follows the trailer.
        None if pe::is_pe(stub) => {
            let end = payload_offset as usize + payload.len() + manifest.len() + TRAILER_LEN;
            let align = pe::CERTIFICATE_ALIGN;
            (vec![0; end.next_multiple_of(align) - end], None)
        }
        None => (Vec::new(), None),
    };
    let manifest_offset = payload_offset + (payload.len() + index.len()) as u64;
    let mut payload_hash = Xxh3::new();
    payload_hash.update(payload);
    payload_hash.update(&index);

    let mut trailer = Vec::with_capacity(TRAILER_LEN);
    for field in [
        payload_offset,
        payload.len() as u64,
        manifest_offset,
        manifest.len() as u64,
        payload_hash.digest(),
    ] {
        trailer.extend_from_slice(&field.to_le_bytes());
    }
    let meta_hash = hash_meta(&manifest, &trailer);
    trailer.extend_from_slice(&meta_hash.to_le_bytes());
    trailer.extend_from_slice(&version.to_le_bytes());
    trailer.extend_from_slice(&(TRAILER_LEN as u32).to_le_bytes());
    trailer.extend_from_slice(&MAGIC);
    debug_assert_eq!(trailer.len(), TRAILER_LEN);

    match stub_header {
        Some(header) => {
            out.write_all(&header)?;
            out.write_all(&stub[header.len()..])?;
        }
        None => out.write_all(stub)?,
    }
    let mut at = stub.len() as u64;
    for (offset, data) in placed {
        io::copy(&mut io::repeat(0).take(offset - at), out)?;
        out.write_all(data)?;
        at = offset + data.len() as u64;
    }
    io::copy(&mut io::repeat(0).take(payload_offset - at), out)?;
    out.write_all(payload)?;
    out.write_all(&index)?;
    out.write_all(&manifest)?;
    out.write_all(&trailer)?;
    Ok(payload_offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::EnvVar;

    fn sample() -> Vec<u8> {
        let manifest = Manifest {
            module_name: "x.wasm".into(),
            env: vec![EnvVar::parse("A=1").unwrap()],
            ..Manifest::default()
        };
        let mut file = Vec::new();
        write(&mut file, b"\x7fELF-stub", b"payload-bytes", &manifest, &[]).unwrap();
        file
    }

    #[test]
    fn round_trip() {
        let file = sample();
        let packed = read(&file).unwrap();
        assert_eq!(packed.payload, b"payload-bytes");
        assert_eq!(packed.payload_offset, PAYLOAD_ALIGN);
        assert_eq!(&packed.stub_region[..9], b"\x7fELF-stub");
        assert_eq!(packed.manifest.module_name, "x.wasm");
        packed.verify_payload().unwrap();
    }

    #[test]
    fn a_suite_keeps_its_codes_between_the_files_and_the_payload() {
        let file = super::properties::suite_file();
        let packed = read(&file).unwrap();
        assert_eq!(packed.version(), SUITE_FORMAT_VERSION);
        assert_eq!(u32_at(&file, file.len() - 16), SUITE_FORMAT_VERSION);
        let suite = packed.manifest.suite.as_ref().unwrap();
        assert_eq!(suite.commands.len(), 2);
        let code = packed.code(1).unwrap();
        assert_eq!(code.offset, PAYLOAD_ALIGN);
        assert_eq!(code.bytes, &[0x6b; 200]);
        assert_eq!(packed.payload_offset, 2 * PAYLOAD_ALIGN);
        assert!(packed.code(2).is_none());
        packed.verify_payload().unwrap();
        packed.verify_code(1).unwrap();
        // The stub region ends where the first embedded file starts.
        assert_eq!(packed.stub_region.len(), 16);

        // A flipped bit of the extra code is caught by its own hash.
        let mut bad = file.clone();
        bad[PAYLOAD_ALIGN as usize + 5] ^= 1;
        let packed = read(&bad).unwrap();
        assert_eq!(packed.verify_code(1), Err(FormatError::PayloadChecksum));
        packed.verify_payload().unwrap();

        // One program is still written as version 7.
        let single = sample();
        assert_eq!(u32_at(&single, single.len() - 16), FORMAT_VERSION);
        assert_eq!(read(&single).unwrap().version(), FORMAT_VERSION);
    }

    #[test]
    fn embedded_files_lie_between_stub_and_payload() {
        use crate::tree::{Entry, Kind, Tree};
        let entry = |path: &str, kind| Entry {
            path: path.into(),
            kind,
        };
        let file = |hash| Kind::File {
            offset: 0,
            len: 0,
            hash,
        };
        let big = vec![7u8; 100_000];
        let manifest = Manifest {
            trees: vec![Tree {
                guest: "/app".into(),
                entries: vec![
                    entry("", Kind::Dir),
                    entry("big", file(1)),
                    entry("small", file(2)),
                ],
            }],
            ..Manifest::default()
        };
        let mut out = Vec::new();
        let stub = b"\x7fELF-stub";
        let at = write(&mut out, stub, b"code", &manifest, &[&big, b"hi"]).unwrap();
        let packed = read(&out).unwrap();
        assert_eq!(packed.payload_offset, at);
        // The stub region ends where the first embedded file starts.
        assert!(packed.stub_region.starts_with(stub) && packed.stub_region.len() == 16384);
        let offsets: Vec<(u64, u64)> = files(&packed.manifest).collect();
        assert_eq!(offsets, [(16384, 100_000), (116_384, 2)]);
        assert!(out[16384..116_384] == big[..]);
        assert_eq!(&out[116_384..116_386], b"hi");
        assert_eq!(at, PAYLOAD_ALIGN * 2);
        assert!(write(&mut Vec::new(), stub, b"code", &manifest, &[b"x"]).is_err());
    }

    #[test]
    fn not_packed_and_other_versions() {
        assert_eq!(read(b"").unwrap_err(), FormatError::NotPacked);
        assert_eq!(
            read(b"\x7fELF plain binary").unwrap_err(),
            FormatError::NotPacked
        );
        let mut file = sample();
        let at = file.len() - 16;
        file[at..at + 4].copy_from_slice(&99u32.to_le_bytes());
        assert_eq!(
            read(&file).unwrap_err(),
            FormatError::UnsupportedVersion { found: 99 }
        );
    }

    fn packed_pe(payload: &[u8]) -> Vec<u8> {
        let stub = crate::pe::tests::fake_pe(1000);
        let mut file = Vec::new();
        write(&mut file, &stub, payload, &Manifest::default(), &[]).unwrap();
        file
    }

    #[test]
    fn windows_files_end_on_a_multiple_of_8() {
        for len in 1..=16 {
            let file = packed_pe(&vec![3; len]);
            assert!(file.len().is_multiple_of(8), "payload of {len}");
            let packed = read(&file).unwrap();
            assert_eq!(packed.payload.len(), len);
            assert!(packed.elf_index.is_empty());
            packed.verify_payload().unwrap();
        }
        // Padding that is not zero, or 8 bytes or more, is damage.
        let file = packed_pe(b"abc");
        let packed = read(&file).unwrap();
        let pad_at = (packed.payload_offset as usize) + 3;
        let mut bad = file.clone();
        bad[pad_at] = 1;
        assert!(read(&bad).is_err() || read(&bad).unwrap().verify_payload().is_err());
    }

    #[test]
    fn signed_windows_files_are_read_before_their_certificates() {
        let file = packed_pe(b"payload");
        let mut signed = file.clone();
        crate::pe::tests::sign(&mut signed, &[9; 1024]);
        let packed = read(&signed).unwrap();
        assert_eq!(packed.payload, b"payload");
        packed.verify_payload().unwrap();
        // Anything after the certificate table is refused.
        let mut appended = signed.clone();
        appended.extend_from_slice(b"more");
        assert_eq!(
            read(&appended).unwrap_err(),
            FormatError::Damaged("bytes follow the Authenticode signature")
        );
        // A table cut short: the end of the file is gone.
        assert_eq!(
            read(&signed[..signed.len() - 8]).unwrap_err(),
            FormatError::NotPacked
        );
        // Damage inside the signed range is still found.
        let mut flipped = signed.clone();
        flipped[packed.payload_offset as usize] ^= 1;
        assert_eq!(
            read(&flipped).unwrap().verify_payload(),
            Err(FormatError::PayloadChecksum)
        );
    }

    #[test]
    fn a_universal_file_is_read_through_this_cpus_slice() {
        let own = sample();
        let other = b"another CPU's program".to_vec();
        let (this_cpu, other_cpu) = (OWN_MACHO_CPU, OWN_MACHO_CPU ^ 0xf);
        let fat = macho::write_fat(&[(other_cpu, 0, &other), (this_cpu, 0, &own)]).unwrap();
        let packed = read(&fat).unwrap();
        assert_eq!(packed.payload, b"payload-bytes");
        assert_eq!(packed.file, &own[..]);
        packed.verify_payload().unwrap();
        let without = macho::write_fat(&[(other_cpu, 0, &other)]).unwrap();
        assert_eq!(read(&without).unwrap_err(), FormatError::NoSliceForThisCpu);
        let mut damaged = fat.clone();
        damaged[7] = 99;
        assert!(matches!(read(&damaged), Err(FormatError::Damaged(_))));
    }

    #[test]
    fn the_stub_takes_apart_only_its_own_platforms_format() {
        let (_, _, elf) = indexed_sample();
        let (own, any) = (read_own(&elf).unwrap(), read(&elf).unwrap());
        assert_eq!((own.payload, own.elf_index), (any.payload, any.elf_index));
        let mut signed = packed_pe(b"payload");
        crate::pe::tests::sign(&mut signed, &[9; 1024]);
        assert!(read(&signed).is_ok());
        assert_eq!(read_own(&signed).is_ok(), cfg!(windows));
        let fat = macho::write_fat(&[(OWN_MACHO_CPU, 0, &sample()), (0, 0, b"other")]).unwrap();
        assert!(read(&fat).is_ok());
        assert_eq!(read_own(&fat).is_ok(), cfg!(target_os = "macos"));
    }

    /// Flips each bit of `file` at each of `positions` in turn: `read`,
    /// `read_own` or the payload check must refuse every variant.
    fn assert_every_bit_flip_is_caught(file: &[u8], positions: impl Iterator<Item = usize>) {
        type Reader = fn(&[u8]) -> Result<Packed<'_>, FormatError>;
        for at in positions {
            for bit in 0..8 {
                let mut bad = file.to_vec();
                bad[at] ^= 1 << bit;
                for reader in [read as Reader, read_own] {
                    let caught = match reader(&bad) {
                        Err(_) => true,
                        Ok(p) => p.verify_payload().is_err(),
                    };
                    assert!(caught, "flip of bit {bit} at byte {at} went unnoticed");
                }
            }
        }
    }

    #[test]
    fn every_truncation_and_bit_flip_of_the_tail_is_caught() {
        let file = sample();
        let payload_offset = read(&file).unwrap().payload_offset as usize;
        for cut in 0..file.len() {
            assert!(read(&file[..cut]).is_err(), "truncated at {cut}");
        }
        assert_every_bit_flip_is_caught(&file, payload_offset..file.len());
    }

    /// A minimal little-endian ELF64 image: `len` bytes with a header whose
    /// section table (at `shoff`) has `offsets.len()` sections.
    pub(crate) fn fake_elf(len: usize, shoff: usize, flags: u32, offsets: &[u64]) -> Vec<u8> {
        let mut elf = vec![0u8; len];
        elf[..6].copy_from_slice(b"\x7fELF\x02\x01");
        elf[40..48].copy_from_slice(&(shoff as u64).to_le_bytes());
        elf[48..52].copy_from_slice(&flags.to_le_bytes());
        elf[58..60].copy_from_slice(&64u16.to_le_bytes());
        elf[60..62].copy_from_slice(&(offsets.len() as u16).to_le_bytes());
        elf[62..64].copy_from_slice(&(offsets.len() as u16 - 1).to_le_bytes());
        for (i, offset) in offsets.iter().enumerate() {
            let at = shoff + 64 * i + 24;
            elf[at..at + 8].copy_from_slice(&offset.to_le_bytes());
        }
        elf
    }

    pub(crate) fn indexed_sample() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let mut stub = fake_elf(5000, 4000, 0, &[0, 64, 128, 1000]);
        // Stub section 1 is named; section 2 is a relocation section (RELA)
        // against section 1, with SHF_INFO_LINK.
        stub[4000 + 64..4000 + 68].copy_from_slice(&7u32.to_le_bytes());
        let rela = 4000 + 128;
        stub[rela + 4..rela + 8].copy_from_slice(&4u32.to_le_bytes());
        stub[rela + 8..rela + 16].copy_from_slice(&0x42u64.to_le_bytes());
        stub[rela + 44..rela + 48].copy_from_slice(&1u32.to_le_bytes());
        let mut payload = fake_elf(3000, 2000, 1, &[0, 4096, 8192]);
        // Payload section 1 links to section 2 (as .symtab to .strtab).
        payload[2000 + 64 + 40..2000 + 64 + 44].copy_from_slice(&2u32.to_le_bytes());
        let mut file = Vec::new();
        write(&mut file, &stub, &payload, &Manifest::default(), &[]).unwrap();
        (stub, payload, file)
    }

    #[test]
    fn elf_stub_points_at_the_section_index() {
        let (stub, payload, file) = indexed_sample();
        let packed = read(&file).unwrap();
        packed.verify_payload().unwrap();
        assert_eq!(packed.payload, payload.as_slice());
        // Null section, the stub's 3, the payload's 2.
        assert_eq!(packed.elf_index.len(), elf_index::PROLOGUE_LEN + 6 * 64);
        let index_at = PAYLOAD_ALIGN + payload.len() as u64;
        let table = index_at as usize + elf_index::PROLOGUE_LEN;
        let section = |i: usize| &file[table + 64 * i..table + 64 * (i + 1)];
        // e_shoff, e_flags, e_shnum, e_shstrndx now describe the merged table.
        assert_eq!(u64_at(&file, 40), table as u64);
        assert_eq!(u32_at(&file, 48), 1);
        assert_eq!(&file[60..64], &[6, 0, 5, 0]);
        // Stub sections keep their offsets, lose their names and relocation targets.
        assert_eq!(u64_at(section(3), 24), 1000);
        assert_eq!(u32_at(section(1), 0), 0);
        assert_eq!(u32_at(section(2), 44), 0);
        assert_eq!(u64_at(section(2), 8), 0x02);
        // Payload sections: moved by the payload's offset, links renumbered.
        assert_eq!(u64_at(section(5), 24), PAYLOAD_ALIGN + 8192);
        assert_eq!(u32_at(section(4), 40), 5);
        // The stub is recoverable byte for byte.
        let original = packed.original_stub();
        assert_eq!(&original[..stub.len()], stub.as_slice());
        assert!(original[stub.len()..].iter().all(|&b| b == 0));
        assert_eq!(&file[64..stub.len()], &stub[64..]);
    }

    #[test]
    fn damage_to_the_header_or_index_is_caught() {
        let (_, _, file) = indexed_sample();
        let packed = read(&file).unwrap();
        let index_at = (packed.payload_offset as usize) + packed.payload.len();
        let index_end = index_at + packed.elf_index.len();
        let header_fields = (40..52).chain(58..64);
        assert_every_bit_flip_is_caught(
            &file,
            header_fields.chain(index_at + elf_index::PROLOGUE_LEN..index_end),
        );
    }

    #[test]
    fn non_elf_stubs_get_no_index() {
        let packed_file = sample();
        let packed = read(&packed_file).unwrap();
        assert!(packed.elf_index.is_empty());
        assert_eq!(packed.original_stub(), packed.stub_region);
    }

    #[test]
    fn padding_is_zero() {
        let file = sample();
        let mut pad = Vec::new();
        (&file[9..PAYLOAD_ALIGN as usize])
            .read_to_end(&mut pad)
            .unwrap();
        assert!(pad.iter().all(|&b| b == 0));
    }
}

/// Property tests: the readers never panic, whatever the bytes, and damage
/// is never silently accepted as different content.
#[cfg(test)]
mod properties {
    use super::*;
    use crate::manifest::{DirMapping, EnvVar};
    use proptest::collection::vec;
    use proptest::prelude::*;
    use proptest::sample::Index;

    /// Cases per property (recorded in the issue's closing note).
    const CASES: u32 = 20_000;

    fn manifest() -> Manifest {
        Manifest {
            wpack_version: "0.1.0".into(),
            target: "x86_64-unknown-linux-gnu".into(),
            module_name: "app.wasm".into(),
            dirs: vec![DirMapping::parse("data::/data").unwrap()],
            env: vec![
                EnvVar::parse("A=1").unwrap(),
                EnvVar::parse("HOME").unwrap(),
            ],
            inherit_env: false,
            host_fs: false,
            args: vec!["--flag".into()],
            trees: vec![crate::tree::Tree {
                guest: "/app".into(),
                entries: vec![
                    crate::tree::Entry {
                        path: "".into(),
                        kind: crate::tree::Kind::Dir,
                    },
                    crate::tree::Entry {
                        path: "main.py".into(),
                        kind: crate::tree::Kind::File {
                            offset: 0,
                            len: 0,
                            hash: 7,
                        },
                    },
                ],
            }],
            program: crate::manifest::Program::Module,
            network: crate::manifest::Network::default(),
            init: None,
            suite: None,
        }
    }

    /// A suite of two commands, one on the payload and one on an extra code.
    pub(super) fn suite_file() -> Vec<u8> {
        use crate::manifest::{Code, Command, Suite};
        let mut m = manifest();
        m.suite = Some(Suite {
            codes: vec![Code {
                module_name: "b.wasm".into(),
                ..Code::default()
            }],
            commands: vec![
                Command {
                    name: "a".into(),
                    trees: vec![0],
                    ..Command::default()
                },
                Command {
                    name: "b".into(),
                    code: 1,
                    args: vec!["-b".into()],
                    ..Command::default()
                },
            ],
        });
        let mut file = Vec::new();
        write_with_codes(
            &mut file,
            b"\x7fELF stub",
            &[0x5a; 300],
            &[&[0x6b; 200]],
            &m,
            &[b"print()"],
        )
        .unwrap();
        file
    }

    pub(super) fn valid_file() -> Vec<u8> {
        let mut file = Vec::new();
        write(
            &mut file,
            b"\x7fELF stub",
            &[0x5a; 300],
            &manifest(),
            &[b"print()"],
        )
        .unwrap();
        file
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(CASES))]

        #[test]
        fn read_never_panics_on_arbitrary_bytes(bytes in vec(any::<u8>(), 0..600)) {
            if let Ok(packed) = read(&bytes) {
                let _ = packed.verify_payload();
            }
        }

        #[test]
        fn read_never_panics_on_arbitrary_trailers(
            head in vec(any::<u8>(), 0..200),
            fields in vec(any::<u64>(), 6),
            small in any::<bool>(),
        ) {
            // Plausible trailers: our version, length and magic, with
            // arbitrary (or small, in-bounds-looking) offsets and hashes.
            let mut bytes = head;
            for f in fields {
                let f = if small { f % 1024 } else { f };
                bytes.extend_from_slice(&f.to_le_bytes());
            }
            bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
            bytes.extend_from_slice(&(TRAILER_LEN as u32).to_le_bytes());
            bytes.extend_from_slice(&MAGIC);
            if let Ok(packed) = read(&bytes) {
                let _ = packed.verify_payload();
            }
        }

        #[test]
        fn manifest_decoder_never_panics(bytes in vec(any::<u8>(), 0..300), suite in any::<bool>()) {
            let _ = Manifest::from_bytes(&bytes, suite);
        }

        #[test]
        fn damage_to_a_suite_is_caught_or_harmless(
            edits in vec((any::<Index>(), any::<u8>()), 1..6),
        ) {
            // The embedded file, the extra code, the payload, the manifest
            // with its command table and the trailer (not the zero padding
            // between them, which nothing reads).
            let original = suite_file();
            let align = PAYLOAD_ALIGN as usize;
            let places: Vec<usize> = (16..23).chain(align..align + 200).chain(2 * align..original.len()).collect();
            let mut file = original.clone();
            for (at, byte) in edits {
                file[places[at.index(places.len())]] = byte;
            }
            if let Ok(packed) = read(&file)
                && packed.verify_payload().is_ok()
                && packed.verify_code(1).is_ok()
            {
                // Only the embedded file (checked when it is opened) may
                // change unnoticed here.
                for (i, (a, b)) in file.iter().zip(&original).enumerate() {
                    prop_assert!(a == b || (16..23).contains(&i), "byte {} changed unnoticed", i);
                }
            }
        }

        #[test]
        fn damage_is_caught_or_harmless(
            edits in vec((any::<Index>(), any::<u8>()), 1..6),
            cut in proptest::option::of(any::<Index>()),
        ) {
            let original = valid_file();
            let tail_start = PAYLOAD_ALIGN as usize; // payload, manifest, trailer
            let mut file = original.clone();
            for (at, byte) in edits {
                let at = tail_start + at.index(file.len() - tail_start);
                file[at] = byte;
            }
            if let Some(cut) = cut {
                file.truncate(tail_start + cut.index(file.len() - tail_start + 1));
            }
            if let Ok(packed) = read(&file)
                && packed.verify_payload().is_ok()
            {
                // Accepted: then it must be exactly what was packed.
                prop_assert_eq!(file.as_slice(), original.as_slice());
            }
        }

        #[test]
        fn damage_to_an_indexed_file_is_caught_or_harmless(
            edits in vec((any::<Index>(), any::<u8>()), 1..6),
            in_header in any::<bool>(),
        ) {
            // The ELF header that points at the index, or everything after the stub.
            let (_, _, original) = super::tests::indexed_sample();
            let region = if in_header { 0..64 } else { PAYLOAD_ALIGN as usize..original.len() };
            let mut file = original.clone();
            for (at, byte) in edits {
                file[region.start + at.index(region.len())] = byte;
            }
            if let Ok(packed) = read(&file)
                && packed.verify_payload().is_ok()
            {
                // Only bytes wasmtime and the kernel both ignore may differ.
                let ignored = |i: usize| in_header && !(40..52).contains(&i) && !(58..64).contains(&i);
                for (i, (a, b)) in file.iter().zip(&original).enumerate() {
                    prop_assert!(a == b || ignored(i), "byte {} changed unnoticed", i);
                }
            }
        }
    }
}
