//! The PE fields a packed Windows program depends on (`docs/FORMAT.md`,
//! "Windows (PE) files").
//!
//! A packed `.exe` keeps its payload as an overlay after the stub, like an
//! ELF one. Two things that distributors do to an `.exe` touch the end of
//! the file or its header:
//!
//! * **Authenticode signing** (`signtool`, `osslsigncode`) appends a
//!   certificate table after everything else, padded to 8 bytes, and names
//!   its file offset and size in the security data directory. A reader
//!   therefore reads the packed file as the bytes before that table; the
//!   packer ends every Windows output on an 8-byte boundary, so the signer
//!   adds no padding and the table starts right after the trailer.
//! * The optional header's **CheckSum**, which signing tools and some
//!   loaders check, covers the whole file: the packer sets it last.

/// `MZ`: every PE file starts with a DOS header.
const DOS_MAGIC: &[u8; 2] = b"MZ";
/// Where the DOS header keeps the PE header's offset.
const LFANEW_AT: usize = 0x3c;
const PE_SIGNATURE: &[u8; 4] = b"PE\0\0";
const COFF_HEADER_LEN: usize = 20;
const PE32_MAGIC: u16 = 0x10b;
const PE32_PLUS_MAGIC: u16 = 0x20b;
/// The optional header's CheckSum, at the same place in PE32 and PE32+.
const CHECKSUM_AT: usize = 64;
/// Index of the security (certificate table) data directory.
const SECURITY_DIRECTORY: usize = 4;

/// The signer pads the file to this before the certificate table, and
/// every certificate entry is a multiple of it.
pub const CERTIFICATE_ALIGN: usize = 8;

/// Where the fields this module uses are, for one file.
struct Header {
    checksum_at: usize,
    /// Offset of the security directory's (offset, size) pair, if the file
    /// has that many data directories.
    security_at: Option<usize>,
}

/// Whether `file` starts like a PE file (DOS header leading to a PE header).
pub fn is_pe(file: &[u8]) -> bool {
    header(file).is_ok()
}

fn header(file: &[u8]) -> Result<Header, &'static str> {
    if file.len() < LFANEW_AT + 4 || &file[..2] != DOS_MAGIC {
        return Err("not a PE file");
    }
    let pe = u32_at(file, LFANEW_AT) as usize;
    let optional = pe
        .checked_add(PE_SIGNATURE.len() + COFF_HEADER_LEN)
        .filter(|&at| at + 2 <= file.len())
        .ok_or("the PE header lies past the end of the file")?;
    if &file[pe..pe + 4] != PE_SIGNATURE {
        return Err("not a PE file");
    }
    let optional_len = u16_at(file, pe + 4 + 16) as usize;
    let (count_at, directories_at) = match u16_at(file, optional) {
        PE32_MAGIC => (92, 96),
        PE32_PLUS_MAGIC => (108, 112),
        _ => return Err("unknown PE optional header"),
    };
    if optional_len < directories_at || optional + optional_len > file.len() {
        return Err("the PE optional header is cut short");
    }
    let count = u32_at(file, optional + count_at) as usize;
    let security = directories_at + 8 * SECURITY_DIRECTORY;
    let security_at =
        (count > SECURITY_DIRECTORY && security + 8 <= optional_len).then_some(optional + security);
    Ok(Header {
        checksum_at: optional + CHECKSUM_AT,
        security_at,
    })
}

/// The Authenticode certificate table's file offset and length, if `file`
/// is signed. An error means the directory points outside the file.
pub fn certificate_table(file: &[u8]) -> Result<Option<(usize, usize)>, &'static str> {
    let Some(at) = header(file)?.security_at else {
        return Ok(None);
    };
    let (offset, len) = (u32_at(file, at) as usize, u32_at(file, at + 4) as usize);
    if len == 0 {
        return Ok(None);
    }
    if offset.checked_add(len).is_none_or(|end| end > file.len())
        || !offset.is_multiple_of(CERTIFICATE_ALIGN)
    {
        return Err("the certificate table lies outside the file");
    }
    Ok(Some((offset, len)))
}

/// The PE CheckSum of `file`: its 16-bit words summed with end-around carry,
/// the checksum field itself counted as zero, plus the file's length. `None`
/// if `file` is not a PE file.
pub fn checksum(file: &[u8]) -> Option<u32> {
    let at = header(file).ok()?.checksum_at;
    let mut sum: u64 = 0;
    let mut add = |bytes: &[u8]| {
        let mut words = bytes.chunks_exact(2);
        for word in &mut words {
            sum += u64::from(u16::from_le_bytes([word[0], word[1]]));
        }
        if let [last] = words.remainder() {
            sum += u64::from(*last);
        }
    };
    // The field's offset is even, so both halves stay word-aligned.
    add(&file[..at]);
    add(&file[at + 4..]);
    let mut folded = sum;
    while folded > 0xffff {
        folded = (folded & 0xffff) + (folded >> 16);
    }
    Some((folded as u32).wrapping_add(file.len() as u32))
}

/// Writes [`checksum`] into `file`'s header.
pub fn set_checksum(file: &mut [u8]) -> Result<(), &'static str> {
    let at = header(file)?.checksum_at;
    let sum = checksum(file).ok_or("not a PE file")?;
    file[at..at + 4].copy_from_slice(&sum.to_le_bytes());
    Ok(())
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(bytes[at..at + 2].try_into().unwrap())
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A minimal PE32+ header: DOS header, PE signature, COFF header and an
    /// optional header with 16 data directories, in `len` bytes.
    pub(crate) fn fake_pe(len: usize) -> Vec<u8> {
        let mut pe = vec![0u8; len];
        pe[..2].copy_from_slice(DOS_MAGIC);
        pe[LFANEW_AT..LFANEW_AT + 4].copy_from_slice(&0x80u32.to_le_bytes());
        pe[0x80..0x84].copy_from_slice(PE_SIGNATURE);
        pe[0x84 + 16..0x84 + 18].copy_from_slice(&240u16.to_le_bytes());
        let optional = 0x80 + 24;
        pe[optional..optional + 2].copy_from_slice(&PE32_PLUS_MAGIC.to_le_bytes());
        pe[optional + 108..optional + 112].copy_from_slice(&16u32.to_le_bytes());
        pe
    }

    pub(crate) fn sign(file: &mut Vec<u8>, table: &[u8]) {
        let at = header(file).unwrap().security_at.unwrap();
        let offset = file.len() as u32;
        file[at..at + 4].copy_from_slice(&offset.to_le_bytes());
        file[at + 4..at + 8].copy_from_slice(&(table.len() as u32).to_le_bytes());
        file.extend_from_slice(table);
    }

    #[test]
    fn finds_the_certificate_table() {
        let mut file = fake_pe(1024);
        assert!(is_pe(&file));
        assert_eq!(certificate_table(&file), Ok(None));
        sign(&mut file, &[7; 64]);
        assert_eq!(certificate_table(&file), Ok(Some((1024, 64))));
        file.truncate(1050);
        assert!(certificate_table(&file).is_err());
        assert!(!is_pe(b"MZ"));
        assert!(!is_pe(&[0; 512]));
    }

    #[test]
    fn checksum_ignores_its_own_field_and_counts_the_length() {
        let mut file = fake_pe(1024);
        file[1000] = 0xff;
        let sum = checksum(&file).unwrap();
        assert_eq!(sum, 0xff + 0x5a4d + 0x80 + 0x4550 + 240 + 0x20b + 16 + 1024);
        set_checksum(&mut file).unwrap();
        assert_eq!(checksum(&file), Some(sum));
        assert_eq!(u32_at(&file, 0x80 + 24 + CHECKSUM_AT), sum);
    }
}
