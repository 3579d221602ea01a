//! A segment's digests with the browser's native SHA-256 (WebCrypto, SHA-NI where the
//! CPU has it) while MD5 runs in wasm over the same bytes.
//!
//! WebCrypto is one-shot, so the segment is read whole: only for segments up to
//! [`MAX_SEGMENT`]; larger ones, and the whole-file digest, stream through the core's
//! hasher instead.

use std::ops::Range;

use js_sys::{Reflect, Uint8Array};
use md5::{Digest, Md5};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, SubtleCrypto};

use super::error::file_read_error;
use crate::core::hash::Digests;
use crate::core::Error;

/// Largest segment read whole for WebCrypto (bounds the memory a worker holds).
pub const MAX_SEGMENT: u64 = 64 * 1024 * 1024;

/// `crypto.subtle` of this global (window or worker), where it exists.
pub fn subtle() -> Option<SubtleCrypto> {
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into()).ok()?;
    let subtle = Reflect::get(&crypto, &"subtle".into()).ok()?;
    subtle.dyn_into().ok()
}

/// Digests of `range` of `blob`: SHA-256 natively while MD5 (when `md5`) is computed
/// in wasm, `chunk` bytes at a time through `buffer`.
pub async fn hash_segment(
    subtle: &SubtleCrypto,
    blob: &Blob,
    range: Range<u64>,
    md5: bool,
    buffer: &mut [u8],
) -> Result<Digests, Error> {
    let slice = blob
        .slice_with_f64_and_f64(range.start as f64, range.end as f64)
        .map_err(file_read_error)?;
    let bytes = JsFuture::from(slice.array_buffer())
        .await
        .map_err(file_read_error)?;
    let sha256 = subtle
        .digest_with_str_and_buffer_source("SHA-256", bytes.unchecked_ref())
        .map_err(|e| Error::Worker(super::js::describe_error(&e)))?;
    // SHA-256 runs in the browser while MD5 runs here.
    let md5 = md5.then(|| {
        let view = Uint8Array::new(&bytes);
        let mut hasher = Md5::new();
        let mut offset = 0u32;
        while offset < view.length() {
            let len = (view.length() - offset).min(buffer.len() as u32);
            let chunk = &mut buffer[..len as usize];
            view.subarray(offset, offset + len).copy_to(chunk);
            hasher.update(&chunk[..]);
            offset += len;
        }
        hasher.finalize().into()
    });
    let digest = JsFuture::from(sha256)
        .await
        .map_err(|e| Error::Worker(super::js::describe_error(&e)))?;
    let digest = Uint8Array::new(&digest).to_vec();
    let sha256: [u8; 32] = digest
        .try_into()
        .map_err(|_| Error::Worker("WebCrypto gave a SHA-256 of the wrong length".into()))?;
    Ok(Digests { sha256, md5 })
}
