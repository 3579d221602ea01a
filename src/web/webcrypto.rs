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
use crate::core::md5x4::Md5x4;
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

/// Segments hashed together by [`Md5x4`]: four of the same size, each at most this
/// big (four segments are in memory at once).
const GROUP: usize = 4;
const GROUP_MAX_SEGMENT: u64 = 16 * 1024 * 1024;

/// Four segments of the same size, each at most [`GROUP_MAX_SEGMENT`].
fn groupable(window: &[Range<u64>]) -> bool {
    let size = window[0].end - window[0].start;
    window.len() == GROUP
        && size <= GROUP_MAX_SEGMENT
        && window.iter().all(|r| r.end - r.start == size)
}

/// Digests of consecutive `ranges` of `blob`. Runs of four equally sized segments are
/// read together and their MD5s computed four at a time (wasm SIMD lanes); other
/// segments one at a time, the next read while the current is hashed.
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
    let mut hashed = 0;
    let mut index = 0;
    while index < ranges.len() {
        let group = &ranges[index..(index + GROUP).min(ranges.len())];
        let end = if groupable(group) {
            digests.extend(hash_group(subtle, blob, group, md5, &mut buffer).await?);
            index + GROUP
        } else {
            // One by one up to the next group of four.
            let end = ranges[index..]
                .windows(GROUP)
                .position(groupable)
                .map_or(ranges.len(), |offset| index + offset.max(1));
            digests.extend(
                hash_one_by_one(subtle, blob, &ranges[index..end], md5, &mut buffer).await?,
            );
            end
        };
        hashed += ranges[index..end]
            .iter()
            .map(|r| r.end - r.start)
            .sum::<u64>();
        index = end;
        progress(hashed);
    }
    Ok(digests)
}

/// One segment after the other, the next read while the current one is hashed.
async fn hash_one_by_one(
    subtle: &SubtleCrypto,
    blob: &Blob,
    ranges: &[Range<u64>],
    md5: bool,
    buffer: &mut [u8],
) -> Result<Vec<Digests>, Error> {
    let mut digests = Vec::with_capacity(ranges.len());
    let mut next = ranges
        .first()
        .map(|range| start_read(blob, range))
        .transpose()?;
    for index in 0..ranges.len() {
        let Some(current) = next.take() else { break };
        let bytes = current.await.map_err(file_read_error)?;
        // SHA-256 goes off this thread first; the next read and MD5 overlap with it.
        // (FileReaderSync measured no faster here: its reads cannot overlap.)
        let sha256 = start_sha256(subtle, &bytes)?;
        next = ranges
            .get(index + 1)
            .map(|range| start_read(blob, range))
            .transpose()?;
        let md5 = md5.then(|| md5_of(&bytes, buffer));
        digests.push(Digests {
            sha256: finish_sha256(sha256).await?,
            md5,
        });
    }
    Ok(digests)
}

/// Four equally sized segments: read together (more reads in flight than one ahead
/// measured faster), four native SHA-256s, and (when `md5`) the four MD5s in the lanes
/// of one [`Md5x4`], through `buffer` split in four.
async fn hash_group(
    subtle: &SubtleCrypto,
    blob: &Blob,
    group: &[Range<u64>],
    md5: bool,
    buffer: &mut [u8],
) -> Result<Vec<Digests>, Error> {
    let reads: Vec<JsFuture> = group
        .iter()
        .map(|range| start_read(blob, range))
        .collect::<Result<_, _>>()?;
    let mut views = Vec::with_capacity(GROUP);
    let mut shas = Vec::with_capacity(GROUP);
    for read in reads {
        let bytes = read.await.map_err(file_read_error)?;
        shas.push(start_sha256(subtle, &bytes)?);
        views.push(Uint8Array::new(&bytes));
    }
    if !md5 {
        let mut digests = Vec::with_capacity(GROUP);
        for sha in shas {
            digests.push(Digests {
                sha256: finish_sha256(sha).await?,
                md5: None,
            });
        }
        return Ok(digests);
    }
    let length = views[0].length();
    // Each lane's share of the buffer, whole 64-byte blocks.
    let lane = (buffer.len() / GROUP / 64 * 64).max(64) as u32;
    let (b0, rest) = buffer.split_at_mut(lane as usize);
    let (b1, rest) = rest.split_at_mut(lane as usize);
    let (b2, b3) = rest.split_at_mut(lane as usize);
    let mut lanes = [b0, b1, b2, &mut b3[..lane as usize]];
    let mut md5 = Md5x4::new();
    let mut offset = 0u32;
    loop {
        let len = (length - offset).min(lane);
        for (view, lane) in views.iter().zip(lanes.iter_mut()) {
            view.subarray(offset, offset + len)
                .copy_to(&mut lane[..len as usize]);
        }
        let parts = [
            &lanes[0][..len as usize],
            &lanes[1][..len as usize],
            &lanes[2][..len as usize],
            &lanes[3][..len as usize],
        ];
        offset += len;
        if offset == length {
            let md5s = md5.finalize(parts);
            let mut digests = Vec::with_capacity(GROUP);
            for (sha, md5) in shas.into_iter().zip(md5s) {
                digests.push(Digests {
                    sha256: finish_sha256(sha).await?,
                    md5: Some(md5),
                });
            }
            return Ok(digests);
        }
        md5.update_blocks(parts);
    }
}
