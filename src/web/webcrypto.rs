//! A segment's digests with the browser's native SHA-256 (WebCrypto, SHA-NI where the
//! CPU has it) while MD5 runs in wasm over the same bytes.
//!
//! WebCrypto is one-shot, so the segment is read whole, into one buffer reused from
//! segment to segment: only for segments up to [`MAX_SEGMENT`]; larger ones stream
//! through the core's hasher instead. The whole-file digest comes from the same pieces
//! when one job covers the file, else it streams through the core's hasher too.

use std::cell::Cell;
use std::ops::Range;

use js_sys::{ArrayBuffer, Reflect, Uint8Array};
use md5::{Digest, Md5};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, SubtleCrypto};

use super::blob::{BlobReader, Pieces};
use super::error::worker_error;
use crate::core::hash::{Digests, MultiHasher};
use crate::core::Error;

/// Largest segment read whole for WebCrypto: the default segment size, so that a
/// worker holds at most about two of them (its buffer and WebCrypto's copy); larger
/// segments, and the v2.1 whole-file digest of larger files, stream through wasm.
pub const MAX_SEGMENT: u64 = crate::core::plan::DEFAULT_SEGMENT_SIZE;

thread_local! {
    /// This thread's segment buffer, kept from job to job: a worker so holds one for
    /// its whole life, where a new one per job left the last to the garbage collector
    /// (Firefox grew by +184 MiB hashing 4 GiB with two workers, against +105 for one
    /// worker doing the same jobs).
    static SEGMENT_BUFFER: Cell<Option<ArrayBuffer>> = const { Cell::new(None) };
}

/// `crypto.subtle` of this global (window or worker), where it exists.
pub fn subtle() -> Option<SubtleCrypto> {
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into()).ok()?;
    let subtle = Reflect::get(&crypto, &"subtle".into()).ok()?;
    subtle.dyn_into().ok()
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

/// Digests of consecutive `ranges` of `blob`, one segment after the other through
/// one stream and one buffer reused for every segment (see [`BlobReader`]): MD5 in wasm while the
/// bytes come in, then WebCrypto's SHA-256 of the whole segment. WebCrypto copies the
/// bytes when the digest starts, so the buffer takes the next segment at once; one
/// digest runs at a time, so a worker holds about two segments' worth of memory.
///
/// With `whole` (the ranges then cover the file from its start, in order), the same
/// pieces also feed the whole file's SHA-256 (in wasm, as [`hash_segments`] computes
/// it): one read of each byte gives every digest v2.1 needs.
///
/// [`hash_segments`]: crate::core::hash::hash_segments
pub async fn hash_ranges(
    subtle: &SubtleCrypto,
    blob: &Blob,
    ranges: &[Range<u64>],
    md5: bool,
    whole: bool,
    chunk: usize,
    progress: impl Fn(u64),
) -> Result<(Vec<Digests>, Option<Digests>), Error> {
    let mut whole_hasher = whole.then(|| MultiHasher::new(false));
    let mut staging = vec![0u8; chunk.max(1)];
    let mut spare = SEGMENT_BUFFER.take();
    let mut md5s = Vec::with_capacity(ranges.len());
    let mut sha256s = Vec::with_capacity(ranges.len());
    let mut running: Option<JsFuture> = None;
    let mut hashed = 0;
    let mut reader = BlobReader::new(blob.clone());
    for range in ranges {
        let mut hasher = md5.then(Md5::new);
        let mut update = |piece: &[u8]| {
            if let Some(hasher) = hasher.as_mut() {
                hasher.update(piece);
            }
            if let Some(whole) = whole_hasher.as_mut() {
                whole.update(piece);
            }
        };
        // Without MD5 or the whole digest the pieces need no copy into wasm memory.
        let pieces = if md5 || whole {
            Some(Pieces {
                staging: &mut staging,
                each: &mut update,
            })
        } else {
            None
        };
        let bytes = reader.read(range, &mut spare, pieces).await?;
        if let Some(previous) = running.take() {
            sha256s.push(finish_sha256(previous).await?);
        }
        running = Some(start_sha256(subtle, &bytes)?);
        md5s.push(hasher.map(|hasher| hasher.finalize().into()));
        hashed += range.end - range.start;
        progress(hashed);
    }
    SEGMENT_BUFFER.set(spare);
    if let Some(last) = running {
        sha256s.push(finish_sha256(last).await?);
    }
    let segments = sha256s
        .into_iter()
        .zip(md5s)
        .map(|(sha256, md5)| Digests { sha256, md5 })
        .collect();
    Ok((segments, whole_hasher.map(MultiHasher::finalize)))
}
