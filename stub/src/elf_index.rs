//! The ELF section index: how a packed Linux program lets wasmtime map the
//! payload from the file itself (`docs/FORMAT.md`, "ELF section index").
//!
//! wasmtime maps a module's data segments straight from the file into linear
//! memory (copy-on-write) only when it loaded the module from a file, and it
//! reads a file as one ELF image starting at offset 0. A packed program's
//! offset 0 is the stub's ELF header, so the packer points that header's
//! section table at a new one, the index, written after the payload:
//!
//! * first the stub's own sections, unchanged except that their names are
//!   empty (wasmtime skips unnamed sections) and their relocation sections
//!   name no target section (wasmtime refuses relocations against code).
//!   Tools that rewrite a file from its sections (`strip`) still see the
//!   stub's segments covered and keep them, dropping only the payload;
//! * then the payload's sections, with file offsets moved by the payload's
//!   offset and section links renumbered: wasmtime finds `.text`,
//!   `.wasmtime.info` and the data segments by these names.
//!
//! The kernel and the dynamic loader read only program headers, so the stub
//! starts as built. The stub's own header fields are kept at the start of the
//! index so the change can be undone.
//!
//! ```text
//! index (little-endian)
//!   +0  u64  stub e_shoff     the stub's own values, before packing
//!   +8  u32  stub e_flags
//!   +12 u16  stub e_shnum
//!   +14 u16  stub e_shstrndx
//!   +16      section headers, 64 bytes each: the null section, the stub's
//!            sections 1..stub e_shnum, the payload's sections 1..
//! ```

use std::borrow::Cow;

/// Bytes before the section headers in the index.
pub const PROLOGUE_LEN: usize = 16;

/// Size of an ELF64 section header (`e_shentsize`).
const SHDR_LEN: usize = 64;
/// Size of an ELF64 file header.
const EHDR_LEN: usize = 64;

// Offsets of the ELF64 file header fields the index touches.
const E_SHOFF: usize = 40;
const E_FLAGS: usize = 48;
const E_SHENTSIZE: usize = 58;
const E_SHNUM: usize = 60;
const E_SHSTRNDX: usize = 62;
// Offsets of section header fields.
const SH_NAME: usize = 0;
const SH_TYPE: usize = 4;
const SH_FLAGS: usize = 8;
const SH_OFFSET: usize = 24;
const SH_LINK: usize = 40;
const SH_INFO: usize = 44;

// Relocation section types (SHT_REL, SHT_RELA, SHT_CREL) and the flag that
// says `sh_info` names a section.
const RELOCATION_TYPES: [u32; 3] = [9, 4, 0x4000_0014];
const SHF_INFO_LINK: u64 = 0x40;

/// Beyond this, ELF stores the count elsewhere (`SHN_LORESERVE`).
const MAX_SECTIONS: usize = 0xff00;

/// A little-endian 64-bit ELF file's section table, as the index needs it.
struct Elf64<'a> {
    bytes: &'a [u8],
    shoff: u64,
    flags: u32,
    shnum: u16,
    shstrndx: u16,
}

impl<'a> Elf64<'a> {
    fn parse(bytes: &'a [u8]) -> Option<Self> {
        if bytes.len() < EHDR_LEN || bytes[..6] != *b"\x7fELF\x02\x01" {
            return None;
        }
        Some(Elf64 {
            bytes,
            shoff: u64_at(bytes, E_SHOFF),
            flags: u32_at(bytes, E_FLAGS),
            shnum: u16_at(bytes, E_SHNUM),
            shstrndx: u16_at(bytes, E_SHSTRNDX),
        })
    }

    /// The section header table, if it is a plain one within the file.
    fn section_headers(&self) -> Option<&'a [u8]> {
        if u16_at(self.bytes, E_SHENTSIZE) as usize != SHDR_LEN
            || self.shnum == 0
            || self.shnum as usize >= MAX_SECTIONS
            || self.shstrndx >= self.shnum
        {
            return None;
        }
        let start = usize::try_from(self.shoff).ok()?;
        let end = start.checked_add(self.shnum as usize * SHDR_LEN)?;
        self.bytes.get(start..end)
    }
}

/// Builds the index for `payload` placed at `payload_offset` after `stub`,
/// and the stub's patched ELF header. `None` when either is not an ELF64
/// little-endian image with a plain section table (a PE stub, for example):
/// the file is then written without an index.
pub fn build(stub: &[u8], payload: &[u8], payload_offset: u64) -> Option<(Vec<u8>, [u8; 64])> {
    let stub_elf = Elf64::parse(stub)?;
    let stub_headers = stub_elf.section_headers()?;
    let image = Elf64::parse(payload)?;
    let headers = image.section_headers()?;
    let (table, shnum, shstrndx) =
        merged_table(stub_headers, headers, image.shstrndx, payload_offset)?;

    let mut index = Vec::with_capacity(PROLOGUE_LEN + table.len());
    index.extend_from_slice(&stub_elf.shoff.to_le_bytes());
    index.extend_from_slice(&stub_elf.flags.to_le_bytes());
    index.extend_from_slice(&stub_elf.shnum.to_le_bytes());
    index.extend_from_slice(&stub_elf.shstrndx.to_le_bytes());
    index.extend_from_slice(&table);

    let table_offset = payload_offset
        .checked_add(payload.len() as u64)?
        .checked_add(PROLOGUE_LEN as u64)?;
    let mut header: [u8; EHDR_LEN] = stub[..EHDR_LEN].try_into().unwrap();
    patch_header(
        &mut header,
        table_offset,
        stub_elf.flags | image.flags,
        shnum,
        shstrndx,
    );
    Some((index, header))
}

/// Checks that the file's ELF header points at `index`, that the payload's
/// part of `index` is the payload's section table as `build` writes it, and
/// that wasmtime will skip every stub section in it: wasmtime reads the
/// payload through this header. (The whole index is also covered by the
/// payload hash.)
pub fn check(
    file_head: &[u8],
    payload: &[u8],
    payload_offset: u64,
    index: &[u8],
) -> Result<(), &'static str> {
    let outer = Elf64::parse(file_head).ok_or("the ELF header is damaged")?;
    let image = Elf64::parse(payload).ok_or("the compiled code is not an ELF image")?;
    let headers = image
        .section_headers()
        .ok_or("the compiled code's section table is damaged")?;
    if index.len() < PROLOGUE_LEN + SHDR_LEN {
        return Err("the section index is damaged");
    }
    // The stub's sections as listed in the index (its own table is not
    // covered by any hash, so the index's copy is what counts).
    let stub_count = u16_at(index, 12) as usize;
    let stub_part = stub_count
        .checked_sub(1)
        .ok_or("the section index is damaged")?;
    let table = &index[PROLOGUE_LEN..];
    let stub_end = SHDR_LEN * (1 + stub_part);
    let stub_sections = table
        .get(SHDR_LEN..stub_end)
        .ok_or("the section index is damaged")?;
    for header in stub_sections.chunks_exact(SHDR_LEN) {
        if !skipped_by_wasmtime(header) {
            return Err("the section index names a stub section");
        }
    }
    let payload_part =
        rebased(headers, payload_offset, stub_part as u32).ok_or("the section index is damaged")?;
    if table.len() != stub_end + payload_part.len() - SHDR_LEN
        || table[..SHDR_LEN] != payload_part[..SHDR_LEN]
        || table[stub_end..] != payload_part[SHDR_LEN..]
    {
        return Err("the section index does not match the compiled code");
    }
    let table_offset = payload_offset
        .checked_add(payload.len() as u64 + PROLOGUE_LEN as u64)
        .ok_or("the section index is damaged")?;
    let stub_flags = u32_at(index, 8);
    if outer.shoff != table_offset
        || outer.flags != stub_flags | image.flags
        || outer.shnum as usize != table.len() / SHDR_LEN
        || outer.shstrndx as usize != image.shstrndx as usize + stub_part
        || u16_at(file_head, E_SHENTSIZE) as usize != SHDR_LEN
    {
        return Err("the ELF header does not point at the section index");
    }
    Ok(())
}

/// The stub as it was built: the file's first bytes with the ELF header's
/// section fields restored from `index`.
pub fn original_stub<'a>(stub_region: &'a [u8], index: &[u8]) -> Cow<'a, [u8]> {
    if index.len() < PROLOGUE_LEN || stub_region.len() < EHDR_LEN {
        return Cow::Borrowed(stub_region);
    }
    let mut stub = stub_region.to_vec();
    patch_header(
        (&mut stub[..EHDR_LEN]).try_into().unwrap(),
        u64_at(index, 0),
        u32_at(index, 8),
        u16_at(index, 12),
        u16_at(index, 14),
    );
    Cow::Owned(stub)
}

/// The index's section table: null section, the stub's sections (unnamed,
/// relocation targets cleared), the payload's (rebased, links renumbered);
/// with the table's section count and string table index.
fn merged_table(
    stub_headers: &[u8],
    payload_headers: &[u8],
    payload_shstrndx: u16,
    payload_offset: u64,
) -> Option<(Vec<u8>, u16, u16)> {
    let stub_part = stub_headers.len() / SHDR_LEN - 1;
    let payload = rebased(payload_headers, payload_offset, stub_part as u32)?;
    let mut table = payload[..SHDR_LEN].to_vec();
    for header in stub_headers.chunks_exact(SHDR_LEN).skip(1) {
        let mut header = header.to_vec();
        header[SH_NAME..SH_NAME + 4].fill(0);
        if RELOCATION_TYPES.contains(&u32_at(&header, SH_TYPE)) {
            header[SH_INFO..SH_INFO + 4].fill(0);
            let flags = u64_at(&header, SH_FLAGS) & !SHF_INFO_LINK;
            header[SH_FLAGS..SH_FLAGS + 8].copy_from_slice(&flags.to_le_bytes());
        }
        table.extend_from_slice(&header);
    }
    table.extend_from_slice(&payload[SHDR_LEN..]);
    let count = table.len() / SHDR_LEN;
    if count >= MAX_SECTIONS {
        return None;
    }
    let shstrndx = u16::try_from(payload_shstrndx as usize + stub_part).ok()?;
    Some((table, count as u16, shstrndx))
}

/// Whether wasmtime passes over this section: no name, and no relocation
/// target (see `merged_table`).
fn skipped_by_wasmtime(header: &[u8]) -> bool {
    u32_at(header, SH_NAME) == 0
        && (!RELOCATION_TYPES.contains(&u32_at(header, SH_TYPE)) || u32_at(header, SH_INFO) == 0)
}

fn patch_header(header: &mut [u8; EHDR_LEN], shoff: u64, flags: u32, shnum: u16, shstrndx: u16) {
    header[E_SHOFF..E_SHOFF + 8].copy_from_slice(&shoff.to_le_bytes());
    header[E_FLAGS..E_FLAGS + 4].copy_from_slice(&flags.to_le_bytes());
    header[E_SHNUM..E_SHNUM + 2].copy_from_slice(&shnum.to_le_bytes());
    header[E_SHSTRNDX..E_SHSTRNDX + 2].copy_from_slice(&shstrndx.to_le_bytes());
}

/// The payload's section headers with every file offset moved by `by` and
/// every link to another section moved by `renumber` (the null section 0
/// stays all zero, as ELF requires).
fn rebased(headers: &[u8], by: u64, renumber: u32) -> Option<Vec<u8>> {
    let mut out = headers.to_vec();
    for header in out.chunks_exact_mut(SHDR_LEN).skip(1) {
        let moved = u64_at(header, SH_OFFSET).checked_add(by)?;
        header[SH_OFFSET..SH_OFFSET + 8].copy_from_slice(&moved.to_le_bytes());
        let link = u32_at(header, SH_LINK);
        if link != 0 {
            let link = link.checked_add(renumber)?;
            header[SH_LINK..SH_LINK + 4].copy_from_slice(&link.to_le_bytes());
        }
    }
    Some(out)
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(bytes[at..at + 2].try_into().unwrap())
}
