//! A `Blob` (or `File`) as the core's [`ByteSource`].

use js_sys::Uint8Array;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::Blob;

use super::error::file_read_error;
use crate::core::source::ByteSource;
use crate::core::Error;

/// Reads a browser `Blob` in slices: `blob.slice(a, b).arrayBuffer()`, so only the
/// slice being read is ever in memory, never the whole file.
#[derive(Debug, Clone)]
pub struct BlobSource {
    raw: Blob,
}

impl BlobSource {
    /// Wraps `value` when it is a `Blob` (a `File` is one); anything else is
    /// [`Error::InvalidInput`].
    pub fn from_js(value: JsValue) -> Result<Self, Error> {
        value
            .dyn_into::<Blob>()
            .map(Self::from_raw)
            .map_err(|value| {
                Error::InvalidInput(format!(
                    "expected a Blob or File, got {}",
                    super::js::describe(&value)
                ))
            })
    }

    /// Wraps a `Blob`.
    pub fn from_raw(raw: Blob) -> Self {
        Self { raw }
    }

    /// The wrapped `Blob`.
    pub fn as_raw(&self) -> &Blob {
        &self.raw
    }
}

impl ByteSource for BlobSource {
    fn size(&self) -> u64 {
        // Blob sizes are integers below 2^53; the cast is exact.
        self.raw.size() as u64
    }

    async fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), Error> {
        let end = offset + buf.len() as u64;
        let slice = self
            .raw
            .slice_with_f64_and_f64(offset as f64, end as f64)
            .map_err(file_read_error)?;
        let bytes = JsFuture::from(slice.array_buffer())
            .await
            .map_err(file_read_error)?;
        let view = Uint8Array::new(&bytes);
        if view.length() as usize != buf.len() {
            return Err(Error::FileRead(format!(
                "expected {} bytes at offset {offset}, got {}: the file changed while it was read",
                buf.len(),
                view.length()
            )));
        }
        view.copy_to(buf);
        Ok(())
    }
}
