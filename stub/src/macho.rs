//! The Mach-O layout: where a packed macOS program keeps its payload
//! (`docs/FORMAT.md`, "Mach-O layout").
//!
//! macOS runs only signed code on Apple silicon, and a signature covers the
//! file up to the signature itself, which ends `__LINKEDIT`, which ends the
//! file. So the payload cannot be an overlay after the stub, as on Linux and
//! Windows: it goes into a segment of its own, `__WPACK`, between the stub's
//! last data segment and `__LINKEDIT`, and the whole file is then signed
//! ad hoc (the packer's `codesign` module):
//!
//! ```text
//! 0             the stub up to its __LINKEDIT (F): header, load commands
//!               (one LC_SEGMENT_64 __WPACK added before __LINKEDIT's),
//!               __TEXT, __DATA_CONST, __DATA
//! F             segment __WPACK (r-x), F .. L:
//!                 zero padding up to payload_offset (a multiple of 64 KiB)
//!                 section __wpack: payload, manifest, trailer, exactly as
//!                 `payload::write` lays them out after a stub of F bytes
//!                 zero padding up to L, the next multiple of PAGE
//! L             segment __LINKEDIT: the stub's, moved by L - F, without its
//!               old signature; zero padding to a multiple of 16
//! code_limit    the ad hoc signature (LC_CODE_SIGNATURE), to the end of file
//! ```
//!
//! A reader takes the file up to the end of section `__wpack` and reads it
//! like any other packed file: the trailer's offsets are file offsets. A
//! universal file (`fat`) is one such file per CPU; the offsets are then
//! relative to the slice.
//!
//! The segment is executable and file-backed: the kernel maps it at exec and
//! checks its pages against the signature, so the stub runs the code where
//! the kernel mapped it, with no writable-and-executable page and no JIT
//! entitlement.

use thiserror::Error;

mod fat;
pub use fat::{FatSlice, SLICE_ALIGN_LOG2, fat_slices, slice_for_cpu, write_fat};

/// The segment that holds the payload.
pub const SEGMENT: &str = "__WPACK";
/// Its one section: payload, manifest and trailer.
pub const SECTION: &str = "__wpack";
/// Segments start and end on this boundary: Apple silicon's 16 KiB page
/// (Intel Macs' 4 KiB pages divide it).
pub const PAGE: u64 = 0x4000;
/// The signature's offset is a multiple of this, as `codesign` makes it.
pub const SIGNATURE_ALIGN: u64 = 16;

const MH_MAGIC_64: u32 = 0xfeed_facf;
/// `cputype` of Apple silicon and of Intel Macs.
pub const CPU_TYPE_ARM64: u32 = 0x0100_000c;
pub const CPU_TYPE_X86_64: u32 = 0x0100_0007;
/// `filetype` of a main executable.
pub const MH_EXECUTE: u32 = 2;
const HEADER_LEN: usize = 32;

pub const LC_SEGMENT_64: u32 = 0x19;
pub const LC_CODE_SIGNATURE: u32 = 0x1d;
const LC_SYMTAB: u32 = 0x2;
const LC_DYSYMTAB: u32 = 0xb;
const LC_DYLD_INFO: u32 = 0x22;
const LC_DYLD_INFO_ONLY: u32 = 0x8000_0022;
const LC_DYLD_CHAINED_FIXUPS: u32 = 0x8000_0034;
/// Load commands that are a `linkedit_data_command` (an offset at +8 into
/// `__LINKEDIT`, a size at +12): split info, function starts, data in code,
/// code-signing DRs, linker optimisation hints, exports trie, atom info.
const LINKEDIT_DATA_COMMANDS: [u32; 7] = [0x1e, 0x26, 0x29, 0x2b, 0x2e, 0x8000_0033, 0x36];
/// Load commands that hold no file offset, so moving `__LINKEDIT` leaves
/// them alone: dylinker, UUID, version-min, source version, build version,
/// main, (weak, re-exported) dylibs, rpath.
const OFFSET_FREE_COMMANDS: [u32; 10] = [
    0xe,
    0x1b,
    0x24,
    0x2a,
    0x32,
    0x8000_0028,
    0xc,
    0x8000_0018,
    0x8000_001f,
    0x8000_001c,
];

const SEGMENT_CMD_LEN: usize = 72;
const SECTION_LEN: usize = 80;
const CODE_SIGNATURE_CMD_LEN: usize = 16;
/// `initprot`/`maxprot` of the payload segment: read and execute.
const PROT_READ_EXECUTE: u32 = 0x1 | 0x4;

/// Why a file is not a Mach-O executable wpack can read or pack into.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum MachoError {
    #[error("not a 64-bit little-endian Mach-O file")]
    NotMacho,
    #[error("damaged Mach-O header ({0})")]
    Malformed(&'static str),
    #[error(
        "the stub's load command {0:#x} points into __LINKEDIT in a way wpack cannot move; \
         link the stub with Zig (scripts/install-targets.sh) or with `-Wl,-no_fixup_chains`"
    )]
    Unsupported(u32),
    #[error(
        "the stub has no room for two more load commands ({need} bytes needed, {have} free \
         before its first section); link it with `-Wl,-headerpad_max_install_names`"
    )]
    NoHeaderRoom { need: usize, have: usize },
}

/// One load command: its type and where its bytes are in the file.
#[derive(Debug, Clone, Copy)]
pub struct LoadCommand {
    pub cmd: u32,
    pub offset: usize,
    pub size: usize,
}

#[derive(Debug, Clone)]
pub struct Segment {
    pub name: String,
    /// Index of its command in [`MachO::commands`].
    pub command: usize,
    pub vmaddr: u64,
    pub vmsize: u64,
    pub fileoff: u64,
    pub filesize: u64,
    pub initprot: u32,
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone)]
pub struct Section {
    pub name: String,
    pub addr: u64,
    pub size: u64,
    /// File offset; 0 for zero-fill sections.
    pub offset: u32,
}

/// The parts of a Mach-O header wpack needs.
#[derive(Debug)]
pub struct MachO {
    pub cputype: u32,
    pub filetype: u32,
    pub commands: Vec<LoadCommand>,
    pub segments: Vec<Segment>,
}

impl MachO {
    pub fn segment(&self, name: &str) -> Option<&Segment> {
        self.segments.iter().find(|s| s.name == name)
    }

    /// `(dataoff, datasize)` of `LC_CODE_SIGNATURE`, if the file is signed.
    pub fn code_signature(&self, file: &[u8]) -> Option<(u32, u32)> {
        self.commands
            .iter()
            .find(|c| c.cmd == LC_CODE_SIGNATURE)
            .map(|c| (u32_at(file, c.offset + 8), u32_at(file, c.offset + 12)))
    }

    /// End of the load commands: where a new one would go.
    fn commands_end(&self) -> usize {
        self.commands
            .last()
            .map_or(HEADER_LEN, |c| c.offset + c.size)
    }

    /// Bytes free between the load commands and the first section's contents.
    fn header_room(&self) -> usize {
        let first = self
            .segments
            .iter()
            .flat_map(|s| &s.sections)
            .filter(|s| s.offset != 0)
            .map(|s| s.offset as usize)
            .min()
            .unwrap_or(usize::MAX);
        first.saturating_sub(self.commands_end())
    }
}

pub fn is_macho(file: &[u8]) -> bool {
    file.len() >= 4 && u32_at(file, 0) == MH_MAGIC_64
}

/// Reads the header, load commands, segments and sections, checking that
/// every one lies inside `file`.
pub fn parse(file: &[u8]) -> Result<MachO, MachoError> {
    if file.len() < HEADER_LEN || !is_macho(file) {
        return Err(MachoError::NotMacho);
    }
    let ncmds = u32_at(file, 16) as usize;
    let sizeofcmds = u32_at(file, 20) as usize;
    if HEADER_LEN + sizeofcmds > file.len() {
        return Err(MachoError::Malformed("load commands run past the end"));
    }
    let mut commands = Vec::new();
    let mut segments = Vec::new();
    let mut at = HEADER_LEN;
    for _ in 0..ncmds {
        if at + 8 > HEADER_LEN + sizeofcmds {
            return Err(MachoError::Malformed("load commands run past sizeofcmds"));
        }
        let cmd = u32_at(file, at);
        let size = u32_at(file, at + 4) as usize;
        if size < 8 || !size.is_multiple_of(8) || at + size > HEADER_LEN + sizeofcmds {
            return Err(MachoError::Malformed("bad load command size"));
        }
        if cmd == LC_SEGMENT_64 {
            segments.push(read_segment(file, at, size, commands.len())?);
        }
        if cmd == LC_CODE_SIGNATURE && size < CODE_SIGNATURE_CMD_LEN {
            return Err(MachoError::Malformed("signature command too short"));
        }
        commands.push(LoadCommand {
            cmd,
            offset: at,
            size,
        });
        at += size;
    }
    Ok(MachO {
        cputype: u32_at(file, 4),
        filetype: u32_at(file, 12),
        commands,
        segments,
    })
}

fn read_segment(
    file: &[u8],
    at: usize,
    size: usize,
    command: usize,
) -> Result<Segment, MachoError> {
    if size < SEGMENT_CMD_LEN {
        return Err(MachoError::Malformed("segment command too short"));
    }
    let nsects = u32_at(file, at + 64) as usize;
    if SEGMENT_CMD_LEN + nsects * SECTION_LEN > size {
        return Err(MachoError::Malformed(
            "sections run past their segment command",
        ));
    }
    let segment = Segment {
        name: name_at(file, at + 8),
        command,
        vmaddr: u64_at(file, at + 24),
        vmsize: u64_at(file, at + 32),
        fileoff: u64_at(file, at + 40),
        filesize: u64_at(file, at + 48),
        initprot: u32_at(file, at + 60),
        sections: (0..nsects)
            .map(|i| {
                let s = at + SEGMENT_CMD_LEN + i * SECTION_LEN;
                Section {
                    name: name_at(file, s),
                    addr: u64_at(file, s + 32),
                    size: u64_at(file, s + 40),
                    offset: u32_at(file, s + 48),
                }
            })
            .collect(),
    };
    let end = segment.fileoff.checked_add(segment.filesize);
    if end.is_none_or(|end| end > file.len() as u64) {
        return Err(MachoError::Malformed(
            "a segment runs past the end of the file",
        ));
    }
    Ok(segment)
}

/// Where a packed program's payload section is: `None` if the file has no
/// `__WPACK` segment (a bare stub, or not packed by wpack).
pub fn payload_section(file: &[u8]) -> Result<Option<Section>, MachoError> {
    let macho = parse(file)?;
    let Some(segment) = macho.segment(SEGMENT) else {
        return Ok(None);
    };
    let section =
        segment
            .sections
            .iter()
            .find(|s| s.name == SECTION)
            .ok_or(MachoError::Malformed(
                "the __WPACK segment has no __wpack section",
            ))?;
    let start = u64::from(section.offset);
    let inside = start >= segment.fileoff
        && start
            .checked_add(section.size)
            .is_some_and(|end| end <= segment.fileoff + segment.filesize);
    if !inside {
        return Err(MachoError::Malformed(
            "the __wpack section lies outside its segment",
        ));
    }
    Ok(Some(section.clone()))
}

/// The stub's bytes before `__LINKEDIT`: what `payload::write` is given as
/// the stub, so that the payload lands in the `__WPACK` segment.
pub fn stub_head(stub: &[u8]) -> Result<&[u8], MachoError> {
    let macho = parse(stub)?;
    let linkedit = check_linkedit_last(&macho)?;
    Ok(&stub[..linkedit.fileoff as usize])
}

fn check_linkedit_last(macho: &MachO) -> Result<&Segment, MachoError> {
    let linkedit = macho
        .segments
        .last()
        .filter(|s| s.name == "__LINKEDIT")
        .ok_or(MachoError::Malformed("__LINKEDIT is not the last segment"))?;
    if macho.segments.iter().any(|s| {
        s.name != "__LINKEDIT" && s.fileoff + s.filesize > linkedit.fileoff && s.filesize > 0
    }) {
        return Err(MachoError::Malformed(
            "a segment lies after __LINKEDIT in the file",
        ));
    }
    if macho.segment(SEGMENT).is_some() {
        return Err(MachoError::Malformed(
            "the stub already has a __WPACK segment",
        ));
    }
    // The head kept before the payload holds the header and load commands.
    if (linkedit.fileoff as usize) < macho.commands_end() {
        return Err(MachoError::Malformed(
            "__LINKEDIT overlaps the load commands",
        ));
    }
    Ok(linkedit)
}

/// Turns `packed` — `payload::write`'s output for the stub's head
/// ([`stub_head`]) — into the whole macOS file: adds the `__WPACK` segment,
/// moves the stub's `__LINKEDIT` after it and reserves `signature_len(code
/// limit)` zero bytes at the end for the signature, which the packer fills
/// in last. `payload_offset` is where `payload::write` put the payload.
pub fn finish(
    stub: &[u8],
    mut packed: Vec<u8>,
    payload_offset: u64,
    signature_len: impl FnOnce(u64) -> u64,
) -> Result<Vec<u8>, MachoError> {
    let macho = parse(stub)?;
    let linkedit = check_linkedit_last(&macho)?.clone();
    let head_len = linkedit.fileoff;
    let packed_end = packed.len() as u64;
    if (packed.len() as u64) < payload_offset || payload_offset < head_len {
        return Err(MachoError::Malformed("payload outside the packed bytes"));
    }

    // The stub's __LINKEDIT contents, without its old signature (it must be
    // the last thing in __LINKEDIT, as linkers write it).
    let mut linkedit_end = linkedit.fileoff + linkedit.filesize;
    if let Some((dataoff, datasize)) = macho.code_signature(stub) {
        if u64::from(dataoff) + u64::from(datasize) < linkedit_end.saturating_sub(SIGNATURE_ALIGN)
            || u64::from(dataoff) < linkedit.fileoff
            || u64::from(dataoff) > linkedit_end
        {
            return Err(MachoError::Malformed(
                "the stub's signature does not end __LINKEDIT",
            ));
        }
        linkedit_end = u64::from(dataoff);
    }
    let new_linkedit_off = packed_end.div_ceil(PAGE) * PAGE;
    let shift = new_linkedit_off - linkedit.fileoff;
    packed.resize(new_linkedit_off as usize, 0);
    packed.extend_from_slice(&stub[linkedit.fileoff as usize..linkedit_end as usize]);
    let code_limit = (packed.len() as u64).div_ceil(SIGNATURE_ALIGN) * SIGNATURE_ALIGN;
    let sig_len = signature_len(code_limit);
    packed.resize((code_limit + sig_len) as usize, 0);
    let file_len = packed.len() as u64;
    if file_len > u64::from(u32::MAX) {
        return Err(MachoError::Malformed("a Mach-O file cannot exceed 4 GiB"));
    }

    // The new segment's address keeps its offset's alignment to 64 KiB, so
    // the payload, at a multiple of 64 KiB in the file, is as aligned in
    // memory as wasmtime needs its code (one page of any size up to that).
    // Both segments must end inside the address space (a damaged stub's
    // __LINKEDIT may sit at its very top).
    let align = crate::payload::PAYLOAD_ALIGN;
    let wpack_filesize = new_linkedit_off - head_len;
    let linkedit_vmsize = (file_len - new_linkedit_off).div_ceil(PAGE) * PAGE;
    let vmaddr = linkedit
        .vmaddr
        .checked_add((head_len % align + align - linkedit.vmaddr % align) % align)
        .filter(|a| a.checked_add(wpack_filesize + linkedit_vmsize).is_some())
        .ok_or(MachoError::Malformed(
            "__LINKEDIT's address leaves no room for the payload",
        ))?;
    let section_addr = vmaddr + (payload_offset - head_len);

    // Rewrite the load commands: everything as it was, the __WPACK segment
    // before __LINKEDIT, offsets into __LINKEDIT moved, the signature's
    // command pointing at the reserved bytes.
    let mut commands: Vec<u8> = Vec::new();
    let mut ncmds = 0u32;
    let mut signed = false;
    for (i, c) in macho.commands.iter().enumerate() {
        let mut bytes = stub[c.offset..c.offset + c.size].to_vec();
        if i == linkedit.command {
            commands.extend(wpack_segment(
                vmaddr,
                wpack_filesize,
                head_len,
                section_addr,
                payload_offset,
                packed_end - payload_offset,
            ));
            ncmds += 1;
            put_u64(&mut bytes, 24, vmaddr + wpack_filesize);
            put_u64(&mut bytes, 32, linkedit_vmsize);
            put_u64(&mut bytes, 40, new_linkedit_off);
            put_u64(&mut bytes, 48, file_len - new_linkedit_off);
        } else {
            move_linkedit_offsets(c.cmd, &mut bytes, shift)?;
        }
        if c.cmd == LC_CODE_SIGNATURE {
            put_u32(&mut bytes, 8, code_limit as u32);
            put_u32(&mut bytes, 12, sig_len as u32);
            signed = true;
        }
        commands.extend(bytes);
        ncmds += 1;
    }
    if !signed {
        let mut bytes = vec![0; CODE_SIGNATURE_CMD_LEN];
        put_u32(&mut bytes, 0, LC_CODE_SIGNATURE);
        put_u32(&mut bytes, 4, CODE_SIGNATURE_CMD_LEN as u32);
        put_u32(&mut bytes, 8, code_limit as u32);
        put_u32(&mut bytes, 12, sig_len as u32);
        commands.extend(bytes);
        ncmds += 1;
    }
    let old_len = macho.commands_end() - HEADER_LEN;
    let room = old_len + macho.header_room();
    if commands.len() > room {
        return Err(MachoError::NoHeaderRoom {
            need: commands.len() - old_len,
            have: macho.header_room(),
        });
    }
    put_u32(&mut packed, 16, ncmds);
    put_u32(&mut packed, 20, commands.len() as u32);
    packed[HEADER_LEN..HEADER_LEN + commands.len()].copy_from_slice(&commands);
    Ok(packed)
}

/// `LC_SEGMENT_64 __WPACK` with its one section `__wpack`.
fn wpack_segment(
    vmaddr: u64,
    filesize: u64,
    fileoff: u64,
    section_addr: u64,
    section_offset: u64,
    section_size: u64,
) -> Vec<u8> {
    let mut seg = vec![0; SEGMENT_CMD_LEN + SECTION_LEN];
    put_u32(&mut seg, 0, LC_SEGMENT_64);
    put_u32(&mut seg, 4, (SEGMENT_CMD_LEN + SECTION_LEN) as u32);
    put_name(&mut seg, 8, SEGMENT);
    put_u64(&mut seg, 24, vmaddr);
    put_u64(&mut seg, 32, filesize);
    put_u64(&mut seg, 40, fileoff);
    put_u64(&mut seg, 48, filesize);
    put_u32(&mut seg, 56, PROT_READ_EXECUTE); // maxprot
    put_u32(&mut seg, 60, PROT_READ_EXECUTE); // initprot
    put_u32(&mut seg, 64, 1); // nsects
    let s = SEGMENT_CMD_LEN;
    put_name(&mut seg, s, SECTION);
    put_name(&mut seg, s + 16, SEGMENT);
    put_u64(&mut seg, s + 32, section_addr);
    put_u64(&mut seg, s + 40, section_size);
    put_u32(&mut seg, s + 48, section_offset as u32);
    put_u32(
        &mut seg,
        s + 52,
        crate::payload::PAYLOAD_ALIGN.trailing_zeros(),
    );
    seg
}

/// Adds `shift` to every file offset into `__LINKEDIT` in one load command.
fn move_linkedit_offsets(cmd: u32, bytes: &mut [u8], shift: u64) -> Result<(), MachoError> {
    let fields: &[usize] = match cmd {
        LC_SEGMENT_64 | LC_CODE_SIGNATURE => &[],
        LC_SYMTAB => &[8, 16],
        // tocoff, modtaboff, extrefsymoff, indirectsymoff, extreloff, locreloff
        LC_DYSYMTAB => &[32, 40, 48, 56, 64, 72],
        // rebase, bind, weak bind, lazy bind, export
        LC_DYLD_INFO | LC_DYLD_INFO_ONLY => &[8, 16, 24, 32, 40],
        c if LINKEDIT_DATA_COMMANDS.contains(&c) => &[8],
        c if OFFSET_FREE_COMMANDS.contains(&c) => &[],
        // Chained fixups hold a table indexed by segment, which a new
        // segment would put out of step (dyld refuses that).
        LC_DYLD_CHAINED_FIXUPS => return Err(MachoError::Unsupported(cmd)),
        other => return Err(MachoError::Unsupported(other)),
    };
    for &at in fields {
        if at + 4 > bytes.len() {
            return Err(MachoError::Malformed("load command too short"));
        }
        let value = u32_at(bytes, at);
        if value != 0 {
            let moved = u64::from(value) + shift;
            let moved =
                u32::try_from(moved).map_err(|_| MachoError::Malformed("offset overflow"))?;
            put_u32(bytes, at, moved);
        }
    }
    Ok(())
}

fn name_at(file: &[u8], at: usize) -> String {
    let raw = &file[at..at + 16];
    let len = raw.iter().position(|&b| b == 0).unwrap_or(16);
    String::from_utf8_lossy(&raw[..len]).into_owned()
}

fn put_name(bytes: &mut [u8], at: usize, name: &str) {
    bytes[at..at + name.len()].copy_from_slice(name.as_bytes());
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())
}

fn put_u32(bytes: &mut [u8], at: usize, value: u32) {
    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

fn put_u64(bytes: &mut [u8], at: usize, value: u64) {
    bytes[at..at + 8].copy_from_slice(&value.to_le_bytes());
}
