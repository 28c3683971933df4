//! Ad hoc code signatures for macOS outputs.
//!
//! Apple silicon runs no unsigned code, and an ad hoc signature — hashes of
//! the file's pages, no certificate — is all it asks of a program that is
//! not distributed through the App Store. This writes the signature `codesign
//! -s -` writes: a SuperBlob holding a CodeDirectory (version 0x20400,
//! SHA-256 hashes of every 4 KiB page up to the signature, flag `adhoc`,
//! `execSeg` fields for the main binary's `__TEXT`), an empty requirement set
//! (hashed in special slot 2) and an empty CMS wrapper.
//!
//! Why our own ~150 lines rather than a crate (both read before deciding):
//! `apple-codesign` (rcodesign) signs this way too but brings a certificate,
//! CMS and networking stack of well over a hundred crates into wpack for the
//! one blob we need. `libsui` (Deno's injector) adds a section and signs ad
//! hoc, but its segment is read-only, it aligns the data to 16 bytes only
//! (the payload's code must start on a 64 KiB boundary to run in place),
//! and it does not move every `__LINKEDIT` offset (its constant for
//! `LC_DYLD_EXPORTS_TRIE` is not Apple's 0x80000033). The layout lives in
//! `wpack_stub::macho`; the tests check the result with an independent
//! parser (goblin) and their own signature reader.

use serde::Serialize;
use sha2::{Digest, Sha256};
use thiserror::Error;
use wpack_stub::macho::{self, MachoError};

/// Page size the CodeDirectory hashes: 4 KiB on every Mac, as `codesign` and
/// `ld` use, whatever the VM page size.
pub const CODE_PAGE: usize = 4096;
const HASH_LEN: usize = 32;

const SUPERBLOB_MAGIC: u32 = 0xfade_0cc0;
const CODEDIRECTORY_MAGIC: u32 = 0xfade_0c02;
const REQUIREMENTS_MAGIC: u32 = 0xfade_0c01;
const BLOBWRAPPER_MAGIC: u32 = 0xfade_0b01;
/// SuperBlob slot types.
const SLOT_CODEDIRECTORY: u32 = 0;
const SLOT_REQUIREMENTS: u32 = 2;
const SLOT_SIGNATURE: u32 = 0x1_0000;

/// The CodeDirectory version with `execSeg` fields.
const CD_VERSION: u32 = 0x20400;
const CD_HEADER_LEN: usize = 88;
const CS_ADHOC: u32 = 0x2;
const HASH_TYPE_SHA256: u8 = 2;
const CS_EXECSEG_MAIN_BINARY: u64 = 0x1;
/// Special slots: 1 is Info.plist (none: zeros), 2 the requirement set.
const SPECIAL_SLOTS: usize = 2;

/// An empty requirement set (no requirements: magic, length, count 0):
/// `codesign` writes one for every ad hoc signature.
const EMPTY_REQUIREMENTS: [u8; 12] = blob_header(REQUIREMENTS_MAGIC, 12);
/// An empty CMS signature wrapper: ad hoc means no certificate.
const EMPTY_CMS: [u8; 8] = blob_header(BLOBWRAPPER_MAGIC, 8);

/// A blob of `LEN` bytes holding only its big-endian magic and length.
const fn blob_header<const LEN: usize>(magic: u32, len: u32) -> [u8; LEN] {
    let mut blob = [0; LEN];
    let (m, l) = (magic.to_be_bytes(), len.to_be_bytes());
    let mut i = 0;
    while i < 4 {
        blob[i] = m[i];
        blob[4 + i] = l[i];
        i += 1;
    }
    blob
}

/// Bytes of the signature for a file whose signed part is `code_limit` bytes.
pub fn signature_len(code_limit: u64, identifier: &str) -> u64 {
    let pages = code_limit.div_ceil(CODE_PAGE as u64) as usize;
    let directory = CD_HEADER_LEN + identifier.len() + 1 + (SPECIAL_SLOTS + pages) * HASH_LEN;
    (12 + 3 * 8 + directory + EMPTY_REQUIREMENTS.len() + EMPTY_CMS.len()) as u64
}

/// Fills in the signature of `file`, whose `LC_CODE_SIGNATURE` already
/// points at [`signature_len`] reserved bytes at its end (see
/// `wpack_stub::macho::finish`). Must run last: any later change to a signed
/// byte makes macOS kill the program.
pub fn sign(file: &mut [u8], identifier: &str) -> Result<(), MachoError> {
    let parsed = macho::parse(file)?;
    let (code_limit, size) = parsed
        .code_signature(file)
        .ok_or(MachoError::Malformed("no LC_CODE_SIGNATURE"))?;
    let (code_limit, size) = (code_limit as usize, size as usize);
    if code_limit + size != file.len()
        || size as u64 != signature_len(code_limit as u64, identifier)
    {
        return Err(MachoError::Malformed(
            "the signature space does not end the file",
        ));
    }
    let text = parsed
        .segment("__TEXT")
        .ok_or(MachoError::Malformed("no __TEXT segment"))?;
    let exec_flags = if parsed.filetype == macho::MH_EXECUTE {
        CS_EXECSEG_MAIN_BINARY
    } else {
        0
    };

    let pages = code_limit.div_ceil(CODE_PAGE);
    let ident_offset = CD_HEADER_LEN;
    let hash_offset = ident_offset + identifier.len() + 1 + SPECIAL_SLOTS * HASH_LEN;
    let directory_len = hash_offset + pages * HASH_LEN;
    let mut cd = Vec::with_capacity(directory_len);
    for field in [
        CODEDIRECTORY_MAGIC,
        directory_len as u32,
        CD_VERSION,
        CS_ADHOC,
        hash_offset as u32,
        ident_offset as u32,
        SPECIAL_SLOTS as u32,
        pages as u32,
        code_limit as u32,
    ] {
        cd.extend_from_slice(&field.to_be_bytes());
    }
    // hashSize, hashType, platform, log2(pageSize)
    cd.extend_from_slice(&[
        HASH_LEN as u8,
        HASH_TYPE_SHA256,
        0,
        CODE_PAGE.trailing_zeros() as u8,
    ]);
    // spare2, scatterOffset, teamOffset, spare3
    cd.extend_from_slice(&[0; 16]);
    cd.extend_from_slice(&0u64.to_be_bytes()); // codeLimit64: code_limit fits 32 bits
    cd.extend_from_slice(&text.fileoff.to_be_bytes());
    cd.extend_from_slice(&text.filesize.to_be_bytes());
    cd.extend_from_slice(&exec_flags.to_be_bytes());
    debug_assert_eq!(cd.len(), CD_HEADER_LEN);
    cd.extend_from_slice(identifier.as_bytes());
    cd.push(0);
    // Special slots, highest first: requirements (-2), then Info.plist (-1).
    cd.extend_from_slice(&Sha256::digest(EMPTY_REQUIREMENTS));
    cd.extend_from_slice(&[0; HASH_LEN]);
    // The last page is hashed only up to code_limit, never padded.
    for page in file[..code_limit].chunks(CODE_PAGE) {
        cd.extend_from_slice(&Sha256::digest(page));
    }
    debug_assert_eq!(cd.len(), directory_len);

    let blobs: [(u32, &[u8]); 3] = [
        (SLOT_CODEDIRECTORY, &cd),
        (SLOT_REQUIREMENTS, &EMPTY_REQUIREMENTS),
        (SLOT_SIGNATURE, &EMPTY_CMS),
    ];
    let mut blob = Vec::with_capacity(size);
    let header_len = 12 + 8 * blobs.len();
    for field in [SUPERBLOB_MAGIC, size as u32, blobs.len() as u32] {
        blob.extend_from_slice(&field.to_be_bytes());
    }
    let mut offset = header_len;
    for (slot, data) in &blobs {
        blob.extend_from_slice(&slot.to_be_bytes());
        blob.extend_from_slice(&(offset as u32).to_be_bytes());
        offset += data.len();
    }
    for (_, data) in &blobs {
        blob.extend_from_slice(data);
    }
    debug_assert_eq!(blob.len(), size);
    file[code_limit..].copy_from_slice(&blob);
    Ok(())
}

/// Why a macOS file's signature is not the one wpack writes for it.
#[derive(Debug, Error)]
pub enum CheckError {
    #[error(transparent)]
    Layout(#[from] MachoError),
    #[error("the file has no ad hoc signature that wpack can read")]
    Unreadable,
    #[error(
        "the ad hoc signature does not match the file's contents (it was changed after \
         packing, and macOS would refuse to run it); pack it again"
    )]
    Mismatch,
}

/// What `wpack inspect` shows of a macOS file's signature.
#[derive(Debug, Serialize)]
pub struct SignatureInfo {
    pub identifier: String,
    /// Bytes the page hashes cover (everything before the signature).
    pub signed_bytes: u64,
    pub pages: u64,
    /// Whether the signature is the one wpack wrote; `false` for one made
    /// again by another tool (`codesign`, `rcodesign`), whose page hashes
    /// were checked instead.
    pub by_wpack: bool,
}

/// Checks the signature of a packed macOS file: reads its identifier, signs
/// a copy of the file again and compares, so every hash and field is checked.
pub fn check(file: &[u8]) -> Result<SignatureInfo, CheckError> {
    let parsed = macho::parse(file)?;
    let (code_limit, size) = parsed.code_signature(file).ok_or(CheckError::Unreadable)?;
    let blob = file
        .get(code_limit as usize..(code_limit as usize).saturating_add(size as usize))
        .ok_or(CheckError::Unreadable)?;
    let identifier = identifier(blob).ok_or(CheckError::Unreadable)?;
    let mut copy = file.to_vec();
    let by_wpack = sign(&mut copy, &identifier).is_ok() && copy == file;
    // A distributor may sign again (a Developer ID, or ad hoc by another
    // tool): then check what macOS checks, the code pages' hashes.
    if !by_wpack && !page_hashes_match(file, blob, code_limit as usize) {
        return Err(CheckError::Mismatch);
    }
    Ok(SignatureInfo {
        identifier,
        signed_bytes: code_limit.into(),
        pages: u64::from(code_limit).div_ceil(CODE_PAGE as u64),
        by_wpack,
    })
}

/// Whether the SHA-256 CodeDirectory of `superblob` covers `file` up to
/// `code_limit` and every page hash in it matches.
fn page_hashes_match(file: &[u8], superblob: &[u8], code_limit: usize) -> bool {
    let check = || -> Option<bool> {
        // Slot 0, or an alternate CodeDirectory (0x1000..): the SHA-256 one.
        let directories = blobs(superblob).filter_map(|(slot, offset)| {
            (slot == SLOT_CODEDIRECTORY || (0x1000..0x1005).contains(&slot))
                .then(|| superblob.get(offset..))?
        });
        for cd in directories {
            if be32(cd, 0)? as u32 != CODEDIRECTORY_MAGIC || *cd.get(37)? != 2 {
                continue; // not SHA-256
            }
            let (hashes_at, slots, limit) = (be32(cd, 16)?, be32(cd, 28)?, be32(cd, 32)?);
            let page = 1usize.checked_shl(u32::from(*cd.get(39)?))?;
            if limit != code_limit || slots != code_limit.div_ceil(page) {
                return Some(false);
            }
            let matches = (0..slots).all(|i| {
                let start = i * page;
                let bytes = &file[start..(start + page).min(code_limit)];
                let at = hashes_at + i * HASH_LEN;
                cd.get(at..at + HASH_LEN) == Some(&Sha256::digest(bytes)[..])
            });
            return Some(matches);
        }
        Some(false)
    };
    code_limit <= file.len() && check().unwrap_or(false)
}

/// The identifier in the CodeDirectory of a SuperBlob.
fn identifier(superblob: &[u8]) -> Option<String> {
    let (_, directory) = blobs(superblob).find(|&(slot, _)| slot == SLOT_CODEDIRECTORY)?;
    let cd = superblob.get(directory..)?;
    let name = cd.get(be32(cd, 20)?..)?;
    let end = name.iter().position(|&b| b == 0)?;
    String::from_utf8(name[..end].to_vec()).ok()
}

/// The (slot type, offset) of each entry of a SuperBlob's index, as far as
/// it can be read (at most 16: a signature has a handful).
fn blobs(superblob: &[u8]) -> impl Iterator<Item = (u32, usize)> + '_ {
    let count = be32(superblob, 8).unwrap_or(0).min(16);
    (0..count).map_while(move |i| {
        Some((
            be32(superblob, 12 + 8 * i)? as u32,
            be32(superblob, 16 + 8 * i)?,
        ))
    })
}

/// A big-endian field of a signature blob, if it lies inside it.
fn be32(blob: &[u8], at: usize) -> Option<usize> {
    Some(u32::from_be_bytes(blob.get(at..at + 4)?.try_into().ok()?) as usize)
}
