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

use super::blob::{read_bytes, start_read};
use super::error::worker_error;
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

/// Copies `view[offset..offset + len]` into the front of `buffer` and returns it:
/// at most `buffer.len()` bytes, never past the view's end.
fn copy_chunk<'b>(view: &Uint8Array, offset: u32, buffer: &'b mut [u8]) -> &'b [u8] {
    let room = u32::try_from(buffer.len()).unwrap_or(u32::MAX);
    let len = view.length().saturating_sub(offset).min(room);
    let chunk = buffer.get_mut(..len as usize).unwrap_or_default();
    view.subarray(offset, offset + len).copy_to(chunk);
    chunk
}

/// MD5 of a read segment in wasm, `buffer.len()` bytes at a time.
fn md5_of(view: &Uint8Array, buffer: &mut [u8]) -> [u8; 16] {
    let mut hasher = Md5::new();
    let mut offset = 0u32;
    while offset < view.length() {
        let chunk = copy_chunk(view, offset, buffer);
        if chunk.is_empty() {
            break;
        }
        hasher.update(chunk);
        // A chunk is at most the view's length, a u32.
        offset = offset.saturating_add(u32::try_from(chunk.len()).unwrap_or(u32::MAX));
    }
    hasher.finalize().into()
}

/// Starts WebCrypto's SHA-256 of a read segment (it runs off this thread).
fn start_sha256(subtle: &SubtleCrypto, view: &Uint8Array) -> Result<JsFuture, Error> {
    subtle
        .digest_with_str_and_buffer_source("SHA-256", view.unchecked_ref())
        .map(JsFuture::from)
        .map_err(|e| worker_error(super::js::describe_error(&e), e))
}

async fn finish_sha256(digest: JsFuture) -> Result<[u8; 32], Error> {
    let digest = digest
        .await
        .map_err(|e| worker_error(super::js::describe_error(&e), e))?;
    Uint8Array::new(&digest)
        .to_vec()
        .try_into()
        .map_err(|_| Error::worker("WebCrypto gave a SHA-256 of the wrong length"))
}

/// Segments hashed together by [`Md5x4`]: four of the same size, each at most this
/// big (four segments are in memory at once).
const GROUP: usize = 4;
const GROUP_MAX_SEGMENT: u64 = 16 * 1024 * 1024;

/// Four segments of the same size, each at most [`GROUP_MAX_SEGMENT`].
fn groupable(window: &[Range<u64>]) -> bool {
    let Some(size) = window.first().map(|r| r.end - r.start) else {
        return false;
    };
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
    while let Some(rest) = ranges.get(index..).filter(|rest| !rest.is_empty()) {
        let group = rest.get(..GROUP).unwrap_or(rest);
        let batch = if groupable(group) {
            digests.extend(hash_group(subtle, blob, group, md5, &mut buffer).await?);
            group
        } else {
            // One by one up to the next group of four.
            let end = rest
                .windows(GROUP)
                .position(groupable)
                .map_or(rest.len(), |offset| offset.max(1));
            let batch = rest.get(..end).unwrap_or(rest);
            digests.extend(hash_one_by_one(subtle, blob, batch, md5, &mut buffer).await?);
            batch
        };
        hashed += batch.iter().map(|r| r.end - r.start).sum::<u64>();
        index += batch.len();
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
    for (index, range) in ranges.iter().enumerate() {
        let Some(current) = next.take() else { break };
        let bytes = read_bytes(current, range).await?;
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
    for (read, range) in reads.into_iter().zip(group) {
        // Every view has its range's length (checked), so all four are equally long.
        let view = read_bytes(read, range).await?;
        shas.push(start_sha256(subtle, &view)?);
        views.push(view);
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
    let length = views.first().map_or(0, Uint8Array::length);
    // Each lane's share of the buffer: whole 64-byte blocks, at least one (a buffer
    // too small for four lanes, as a tiny chunkSize makes, is replaced).
    let lane = (buffer.len() / GROUP / 64 * 64).max(64);
    let mut own = Vec::new();
    let buffer = if buffer.len() >= GROUP * lane {
        buffer
    } else {
        own.resize(GROUP * lane, 0);
        &mut own[..]
    };
    let mut lanes: Vec<&mut [u8]> = buffer.chunks_exact_mut(lane).take(GROUP).collect();
    let mut md5 = Md5x4::new();
    let mut offset = 0u32;
    loop {
        let mut parts: [&[u8]; GROUP] = [&[]; GROUP];
        for ((view, lane), part) in views.iter().zip(lanes.iter_mut()).zip(parts.iter_mut()) {
            *part = copy_chunk(view, offset, lane);
        }
        // Equal views, equal lanes: every part has the same length, at most a view's.
        let advanced = parts.first().map_or(0, |part| part.len());
        offset = offset.saturating_add(u32::try_from(advanced).unwrap_or(u32::MAX));
        if offset >= length {
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
