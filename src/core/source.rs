//! The seam between the core and the bytes it uploads (after tus-js-client's `FileSource`).

use super::Error;

/// Random-access bytes of a known size: a browser `Blob` in the web adapter, a byte
/// slice in native tests.
#[allow(async_fn_in_trait)] // Used through generics on one thread; no `Send` bound wanted.
pub trait ByteSource {
    /// Total size in bytes.
    fn size(&self) -> u64;

    /// Fills `buf` with the bytes starting at `offset`. Fails with
    /// [`Error::FileRead`] when fewer than `buf.len()` bytes are there.
    async fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), Error>;
}

impl ByteSource for [u8] {
    fn size(&self) -> u64 {
        self.len() as u64
    }

    async fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), Error> {
        let start = usize::try_from(offset).map_err(|_| out_of_range(offset, buf.len()))?;
        let bytes = start
            .checked_add(buf.len())
            .and_then(|end| self.get(start..end))
            .ok_or_else(|| out_of_range(offset, buf.len()))?;
        buf.copy_from_slice(bytes);
        Ok(())
    }
}

fn out_of_range(offset: u64, len: usize) -> Error {
    Error::file_read(format!("{len} bytes at offset {offset} are past the end"))
}
