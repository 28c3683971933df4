//! Universal ("fat") Mach-O files: several complete executables, one per
//! CPU, behind a big-endian table (`docs/FORMAT.md`, "Universal macOS
//! files"). macOS runs the slice of its CPU; a packed universal file is one
//! packed thin program per slice, each signed on its own, so a reader takes
//! its slice and reads it exactly as a thin file, with every offset in the
//! slice's trailer and manifest relative to the slice's start.

/// `fat_header.magic` (big-endian), with 32-bit offsets.
const FAT_MAGIC: u32 = 0xcafe_babe;
/// The same with 64-bit offsets (`fat_arch_64`), which lipo writes for
/// slices past 4 GiB.
const FAT_MAGIC_64: u32 = 0xcafe_babf;
const FAT_HEADER_LEN: usize = 8;
const FAT_ARCH_LEN: usize = 20;
const FAT_ARCH_64_LEN: usize = 32;
/// More slices than any universal file holds; a larger count is damage
/// (or a Java class file, which shares the magic).
const MAX_SLICES: usize = 16;
/// log2 of the alignment wpack gives every slice: Apple silicon's page,
/// which Intel's divides (lipo uses 2^14 for arm64, 2^12 for x86_64).
pub const SLICE_ALIGN_LOG2: u32 = 14;

/// One entry of the slice table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FatSlice {
    pub cputype: u32,
    pub cpusubtype: u32,
    pub offset: u64,
    pub size: u64,
    /// log2 of the slice's alignment.
    pub align: u32,
}

/// The slice table of a universal file: `None` if `file` is not one; an
/// error if its table is damaged (slices outside the file, overlapping,
/// misaligned, or none).
pub fn fat_slices(file: &[u8]) -> Result<Option<Vec<FatSlice>>, &'static str> {
    if file.len() < FAT_HEADER_LEN {
        return Ok(None);
    }
    let entry_len = match be32(file, 0) {
        FAT_MAGIC => FAT_ARCH_LEN,
        FAT_MAGIC_64 => FAT_ARCH_64_LEN,
        _ => return Ok(None),
    };
    let count = be32(file, 4) as usize;
    if count == 0 || count > MAX_SLICES {
        return Err("the universal file's slice count is out of range");
    }
    let table_end = FAT_HEADER_LEN + count * entry_len;
    if table_end > file.len() {
        return Err("the universal file's slice table runs past its end");
    }
    let mut slices = Vec::with_capacity(count);
    for i in 0..count {
        let at = FAT_HEADER_LEN + i * entry_len;
        let (offset, size, align) = if entry_len == FAT_ARCH_LEN {
            (
                u64::from(be32(file, at + 8)),
                u64::from(be32(file, at + 12)),
                be32(file, at + 16),
            )
        } else {
            (be64(file, at + 8), be64(file, at + 16), be32(file, at + 24))
        };
        let slice = FatSlice {
            cputype: be32(file, at),
            cpusubtype: be32(file, at + 4),
            offset,
            size,
            align,
        };
        let inside = slice.offset >= table_end as u64
            && slice
                .offset
                .checked_add(slice.size)
                .is_some_and(|end| end <= file.len() as u64);
        if !inside || slice.size == 0 {
            return Err("a slice of the universal file lies outside it");
        }
        if slice.align > 31 || !slice.offset.is_multiple_of(1 << slice.align) {
            return Err("a slice of the universal file is misaligned");
        }
        slices.push(slice);
    }
    let mut by_offset: Vec<&FatSlice> = slices.iter().collect();
    by_offset.sort_by_key(|s| s.offset);
    if by_offset
        .windows(2)
        .any(|pair| pair[0].offset + pair[0].size > pair[1].offset)
    {
        return Err("slices of the universal file overlap");
    }
    Ok(Some(slices))
}

/// The bytes of the slice for `cputype`, or all of `file` if it is not a
/// universal file.
pub fn slice_for_cpu(file: &[u8], cputype: u32) -> Result<&[u8], &'static str> {
    let Some(slices) = fat_slices(file)? else {
        return Ok(file);
    };
    slices
        .iter()
        .find(|s| s.cputype == cputype)
        .map(|s| &file[s.offset as usize..(s.offset + s.size) as usize])
        .ok_or("the universal file holds no slice for this CPU")
}

/// A universal file holding `slices` (cputype, cpusubtype, bytes) in that
/// order, each at the next multiple of 2^[`SLICE_ALIGN_LOG2`], zero bytes
/// between them. 32-bit offsets: every slice must end below 4 GiB.
pub fn write_fat(slices: &[(u32, u32, &[u8])]) -> Result<Vec<u8>, &'static str> {
    let align = 1u64 << SLICE_ALIGN_LOG2;
    let mut file = Vec::new();
    file.extend_from_slice(&FAT_MAGIC.to_be_bytes());
    file.extend_from_slice(&(slices.len() as u32).to_be_bytes());
    let mut at = (FAT_HEADER_LEN + slices.len() * FAT_ARCH_LEN) as u64;
    let mut placed = Vec::with_capacity(slices.len());
    for &(cputype, cpusubtype, bytes) in slices {
        let offset = at.div_ceil(align) * align;
        at = offset + bytes.len() as u64;
        if at > u64::from(u32::MAX) {
            return Err("a universal file over 4 GiB");
        }
        for field in [cputype, cpusubtype, offset as u32, bytes.len() as u32] {
            file.extend_from_slice(&field.to_be_bytes());
        }
        file.extend_from_slice(&SLICE_ALIGN_LOG2.to_be_bytes());
        placed.push((offset as usize, bytes));
    }
    for (offset, bytes) in placed {
        file.resize(offset, 0);
        file.extend_from_slice(bytes);
    }
    Ok(file)
}

fn be32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap())
}

fn be64(bytes: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(bytes[at..at + 8].try_into().unwrap())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let (a, b) = (vec![1u8; 5000], vec![2u8; 70_000]);
        let file = write_fat(&[(0x0100_000c, 0, &a), (0x0100_0007, 3, &b)]).unwrap();
        let slices = fat_slices(&file).unwrap().unwrap();
        assert_eq!(slices[0].offset, 0x4000);
        assert_eq!(slices[1].offset, 0x8000);
        assert_eq!(slices[1].cpusubtype, 3);
        assert_eq!(slice_for_cpu(&file, 0x0100_000c).unwrap(), &a[..]);
        assert_eq!(slice_for_cpu(&file, 0x0100_0007).unwrap(), &b[..]);
        assert!(slice_for_cpu(&file, 7).is_err());
        assert_eq!(slice_for_cpu(b"thin", 7).unwrap(), b"thin");
    }

    #[test]
    fn damaged_tables_are_refused() {
        let a = vec![1u8; 5000];
        let good = write_fat(&[(0x0100_000c, 0, &a), (0x0100_0007, 0, &a)]).unwrap();
        let mut count = good.clone();
        count[7] = 200;
        assert!(fat_slices(&count).is_err());
        let mut outside = good.clone();
        outside[8 + 12..8 + 16].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(fat_slices(&outside).is_err());
        let mut overlap = good.clone();
        overlap[8 + 20 + 8..8 + 20 + 12].copy_from_slice(&0x4000u32.to_be_bytes());
        assert!(fat_slices(&overlap).is_err());
        let mut misaligned = good.clone();
        misaligned[8 + 8..8 + 12].copy_from_slice(&0x4001u32.to_be_bytes());
        assert!(fat_slices(&misaligned).is_err());
        assert!(fat_slices(&good[..30]).is_err());
        // Every truncation and every byte of the table: an answer, no panic.
        for len in 0..good.len().min(100) {
            let _ = fat_slices(&good[..len]);
        }
        for at in 0..48 {
            let mut bad = good.clone();
            bad[at] ^= 0xff;
            let _ = fat_slices(&bad);
        }
    }
}
