//! A segment's digests with the browser's native SHA-256 (WebCrypto, SHA-NI where the
//! CPU has it) while MD5 runs in wasm over the same bytes.
//!
//! WebCrypto is one-shot, so the segment is read whole: only for segments up to
//! [`MAX_SEGMENT`]; larger ones, and the whole-file digest, stream through the core's
//! hasher instead.

use std::ops::Range;

use js_sys::{Reflect, Uint8Array};
use md5::{Digest, Md5};
use wasm_bindgen::{JsCast, JsValue};
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

/// Starts reading `range` of `blob` (the read proceeds while this thread hashes).
fn start_read(blob: &Blob, range: &Range<u64>) -> Result<JsFuture, Error> {
    let slice = blob
        .slice_with_f64_and_f64(range.start as f64, range.end as f64)
        .map_err(file_read_error)?;
    Ok(JsFuture::from(slice.array_buffer()))
}

/// MD5 of a read segment in wasm, `buffer.len()` bytes at a time.
fn md5_of(bytes: &JsValue, buffer: &mut [u8]) -> [u8; 16] {
    let view = Uint8Array::new(bytes);
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
}

/// Starts WebCrypto's SHA-256 of a read segment (it runs off this thread).
fn start_sha256(subtle: &SubtleCrypto, bytes: &JsValue) -> Result<JsFuture, Error> {
    subtle
        .digest_with_str_and_buffer_source("SHA-256", bytes.unchecked_ref())
        .map(JsFuture::from)
        .map_err(|e| Error::Worker(super::js::describe_error(&e)))
}

async fn finish_sha256(digest: JsFuture) -> Result<[u8; 32], Error> {
    let digest = digest
        .await
        .map_err(|e| Error::Worker(super::js::describe_error(&e)))?;
    Uint8Array::new(&digest)
        .to_vec()
        .try_into()
        .map_err(|_| Error::Worker("WebCrypto gave a SHA-256 of the wrong length".into()))
}

/// Digests of consecutive `ranges` of `blob` (two segments in memory at most).
pub async fn hash_ranges(
    subtle: &SubtleCrypto,
    blob: &Blob,
    ranges: &[Range<u64>],
    md5: bool,
    chunk: usize,
    progress: impl Fn(u64),
) -> Result<Vec<Digests>, Error> {
    let mut buffer = vec![0u8; chunk];
    let mut digests = Vec::with_capacity(ranges.len());
    let mut next = ranges
        .first()
        .map(|range| start_read(blob, range))
        .transpose()?;
    let mut hashed = 0;
    for (index, range) in ranges.iter().enumerate() {
        let Some(current) = next.take() else { break };
        let bytes = current.await.map_err(file_read_error)?;
        // SHA-256 goes off this thread first; the next read and MD5 overlap with it.
        // (FileReaderSync measured no faster here: its reads cannot overlap.)
        let sha256 = start_sha256(subtle, &bytes)?;
        next = ranges
            .get(index + 1)
            .map(|range| start_read(blob, range))
            .transpose()?;
        let md5 = md5.then(|| md5_of(&bytes, &mut buffer));
        digests.push(Digests {
            sha256: finish_sha256(sha256).await?,
            md5,
        });
        hashed += range.end - range.start;
        progress(hashed);
    }
    Ok(digests)
}
