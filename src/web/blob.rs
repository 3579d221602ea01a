//! A `Blob` (or `File`) as the core's [`ByteSource`], and the checked reads every
//! hashing path shares.

use std::ops::Range;

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

    /// The `File`'s name; empty for a plain `Blob`.
    pub fn name(&self) -> String {
        self.raw
            .dyn_ref::<web_sys::File>()
            .map(web_sys::File::name)
            .unwrap_or_default()
    }

    /// The `File`'s `lastModified` (ms since 1970); `None` for a plain `Blob`.
    pub fn last_modified(&self) -> Option<u64> {
        let modified = self.raw.dyn_ref::<web_sys::File>()?.last_modified();
        super::js::whole_number(&JsValue::from(modified))
    }

    /// The `Blob`'s MIME type as picked (empty when it has none).
    pub fn picked_type(&self) -> String {
        self.raw.type_()
    }

    /// The `Blob`'s MIME type, when it has one.
    pub fn content_type(&self) -> Option<String> {
        Some(self.raw.type_()).filter(|t| !t.is_empty())
    }
}

/// The size of `blob`: a whole number of bytes below 2^53 for every real `Blob`
/// (0 for anything else, which a read then finds short).
pub fn blob_size(blob: &Blob) -> u64 {
    super::js::whole_number(&blob.size().into()).unwrap_or(0)
}

/// Starts reading `range` of `blob` (`slice(a, b).arrayBuffer()`); the bytes arrive
/// while the caller does other work. Check what arrives with [`read_bytes`].
pub fn start_read(blob: &Blob, range: &Range<u64>) -> Result<JsFuture, Error> {
    Ok(JsFuture::from(slice(blob, range)?.array_buffer()))
}

/// `blob.slice(start, end)`: a view of the bytes, nothing copied or read.
pub fn slice(blob: &Blob, range: &Range<u64>) -> Result<Blob, Error> {
    // Blob offsets are below 2^53: f64 holds them exactly.
    #[allow(clippy::cast_precision_loss)]
    let (start, end) = (range.start as f64, range.end as f64);
    blob.slice_with_f64_and_f64(start, end)
        .map_err(file_read_error)
}

/// The bytes of a read started by [`start_read`], or [`Error::FileRead`] when the
/// read failed or came back with another length than `range` asks: a file changed
/// on disk after it was picked gives a short read, and hashing it would give a
/// wrong digest.
pub async fn read_bytes(read: JsFuture, range: &Range<u64>) -> Result<Uint8Array, Error> {
    let bytes = read.await.map_err(file_read_error)?;
    let view = Uint8Array::new(&bytes);
    let expected = range.end - range.start;
    if u64::from(view.length()) != expected {
        return Err(Error::file_read(format!(
            "expected {expected} bytes at offset {}, got {}: the file changed while it was read",
            range.start,
            view.length()
        )));
    }
    Ok(view)
}

impl ByteSource for BlobSource {
    fn size(&self) -> u64 {
        blob_size(&self.raw)
    }

    async fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), Error> {
        let range = offset..offset + buf.len() as u64;
        let view = read_bytes(start_read(&self.raw, &range)?, &range).await?;
        // Same length, checked by read_bytes: copy_to cannot panic.
        view.copy_to(buf);
        Ok(())
    }
}
