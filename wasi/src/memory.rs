//! Checked access to the program's linear memory.
//!
//! Every pointer and length a program passes is checked here before a byte
//! is touched: out of bounds (or overflowing) is a trap, as in wasmtime's
//! own preview 1, and so is a misaligned pointer to a multi-byte value.
//! Values are little-endian, as in wasm.

use crate::error::{Errno, Error, Result};

/// The program's memory for the duration of one host call.
pub struct GuestMemory<'a> {
    bytes: &'a mut [u8],
}

impl<'a> GuestMemory<'a> {
    pub fn new(bytes: &'a mut [u8]) -> Self {
        GuestMemory { bytes }
    }

    fn range(&self, ptr: u32, len: u32, align: u32) -> Result<std::ops::Range<usize>> {
        if !ptr.is_multiple_of(align) {
            return Err(Error::Trap("pointer not aligned".into()));
        }
        let start = ptr as usize;
        let end = start
            .checked_add(len as usize)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(Error::out_of_bounds)?;
        Ok(start..end)
    }

    pub fn slice(&self, ptr: u32, len: u32) -> Result<&[u8]> {
        let range = self.range(ptr, len, 1)?;
        Ok(&self.bytes[range])
    }

    pub fn slice_mut(&mut self, ptr: u32, len: u32) -> Result<&mut [u8]> {
        let range = self.range(ptr, len, 1)?;
        Ok(&mut self.bytes[range])
    }

    /// A path or other string argument: must be UTF-8 (`EILSEQ` otherwise).
    pub fn str(&self, ptr: u32, len: u32) -> Result<&str> {
        std::str::from_utf8(self.slice(ptr, len)?).map_err(|_| Errno::ILSEQ.into())
    }

    pub fn write(&mut self, ptr: u32, data: &[u8]) -> Result<()> {
        let len = u32::try_from(data.len()).map_err(|_| Error::out_of_bounds())?;
        self.slice_mut(ptr, len)?.copy_from_slice(data);
        Ok(())
    }

    /// A value at an address aligned to `N`, as wiggle requires.
    fn array<const N: usize>(&self, ptr: u32) -> Result<[u8; N]> {
        let range = self.range(ptr, N as u32, N as u32)?;
        Ok(self.bytes[range].try_into().unwrap())
    }

    pub fn u8(&self, ptr: u32) -> Result<u8> {
        Ok(self.array::<1>(ptr)?[0])
    }

    pub fn u16(&self, ptr: u32) -> Result<u16> {
        Ok(u16::from_le_bytes(self.array(ptr)?))
    }

    pub fn u32(&self, ptr: u32) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array(ptr)?))
    }

    pub fn u64(&self, ptr: u32) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array(ptr)?))
    }

    fn put<const N: usize>(&mut self, ptr: u32, value: [u8; N]) -> Result<()> {
        let range = self.range(ptr, N as u32, N as u32)?;
        self.bytes[range].copy_from_slice(&value);
        Ok(())
    }

    pub fn put_u8(&mut self, ptr: u32, value: u8) -> Result<()> {
        self.put(ptr, [value])
    }

    pub fn put_u16(&mut self, ptr: u32, value: u16) -> Result<()> {
        self.put(ptr, value.to_le_bytes())
    }

    pub fn put_u32(&mut self, ptr: u32, value: u32) -> Result<()> {
        self.put(ptr, value.to_le_bytes())
    }

    pub fn put_u64(&mut self, ptr: u32, value: u64) -> Result<()> {
        self.put(ptr, value.to_le_bytes())
    }

    /// A struct written whole at an address aligned to `align`.
    pub fn put_struct(&mut self, ptr: u32, align: u32, bytes: &[u8]) -> Result<()> {
        let range = self.range(ptr, bytes.len() as u32, align)?;
        self.bytes[range].copy_from_slice(bytes);
        Ok(())
    }

    /// A struct read whole from an address aligned to `align`.
    pub fn get_struct<const N: usize>(&self, ptr: u32, align: u32) -> Result<[u8; N]> {
        let range = self.range(ptr, N as u32, align)?;
        Ok(self.bytes[range].try_into().unwrap())
    }

    /// The first non-empty buffer of an `iovec`/`ciovec` array, as
    /// `(ptr, len)`, or `(0, 0)` if all are empty. wasmtime's preview 1 reads
    /// and writes one buffer per call; a program's libc loops for the rest.
    pub fn first_nonempty_iovec(&self, iovs: u32, count: u32) -> Result<(u32, u32)> {
        let size = count.checked_mul(8).ok_or_else(Error::out_of_bounds)?;
        self.range(iovs, size, 4)?;
        for i in 0..count {
            let buf = self.u32(iovs + i * 8)?;
            let len = self.u32(iovs + i * 8 + 4)?;
            if len != 0 {
                self.range(buf, len, 1)?;
                return Ok((buf, len));
            }
        }
        Ok((0, 0))
    }
}
