//! Which hashing runs where: the backend an upload or `client.hashFile` uses (Web
//! Workers, or the calling thread), and the job a worker runs (`hashJob`) with the
//! strategy it picks (WebCrypto per segment, or streaming).

use std::ops::Range;

use js_sys::{Array, Function, Object};
use wasm_bindgen::JsValue;
use web_sys::AbortSignal;

use super::blob::BlobSource;
use super::js::{number, number_text, set_property, whole_number};
use super::webcrypto;
use super::workers::{digest_to_js, WorkerHashing, WorkerPool};
use crate::core::hash::{hash_segments, Digests, HashBackend, HashOptions, InThread};
use crate::core::source::ByteSource;
use crate::core::Error;

/// Bytes per read when hashing on the calling thread: with wasm still warming up,
/// 1 MiB keeps every task of a page's main thread well under 50 ms (measured in
/// bench/RESULTS.md; 4 MiB reads made a 134 ms task).
pub const CALLING_THREAD_CHUNK: usize = 1024 * 1024;

/// Most workers one hashing may ask for.
pub const MAX_WORKERS: u64 = 64;

/// Where an upload's digests are computed.
pub enum Hashing<'a> {
    /// In `count` Web Workers.
    Workers(WorkerHashing<'a>),
    /// On the calling thread, 1 MiB per read, stopping between reads on abort.
    CallingThread {
        /// The file.
        source: &'a BlobSource,
        /// Stops the hashing.
        signal: Option<AbortSignal>,
    },
}

impl<'a> Hashing<'a> {
    /// The client's workers when the page can start them and `workers` > 0, else
    /// the calling thread.
    pub fn choose(
        pool: Option<&'a WorkerPool>,
        workers: usize,
        source: &'a BlobSource,
        signal: Option<AbortSignal>,
    ) -> Self {
        match pool {
            Some(pool) if workers > 0 => Hashing::Workers(WorkerHashing::new(
                pool,
                workers,
                source.as_raw().clone(),
                signal,
            )),
            _ => Hashing::CallingThread { source, signal },
        }
    }
}

impl HashBackend for Hashing<'_> {
    fn size(&self) -> u64 {
        match self {
            Hashing::Workers(workers) => workers.size(),
            Hashing::CallingThread { source, .. } => source.size(),
        }
    }

    async fn hash(
        &self,
        ranges: &[Range<u64>],
        options: HashOptions,
        whole: bool,
        progress: &dyn Fn(u64),
    ) -> Result<(Vec<Digests>, Option<Digests>), Error> {
        match self {
            Hashing::Workers(workers) => workers.hash(ranges, options, whole, progress).await,
            Hashing::CallingThread { source, signal } => {
                hash_on_calling_thread(source, signal.as_ref(), ranges, options, whole, progress)
                    .await
            }
        }
    }
}

/// Hashes on the calling thread ([`CALLING_THREAD_CHUNK`] per read, the wasm
/// SHA-256 and MD5), stopping between reads once `signal` aborts: where no worker
/// is wanted or none can start.
pub async fn hash_on_calling_thread(
    source: &BlobSource,
    signal: Option<&AbortSignal>,
    ranges: &[Range<u64>],
    options: HashOptions,
    whole: bool,
    progress: &dyn Fn(u64),
) -> Result<(Vec<Digests>, Option<Digests>), Error> {
    let cancelled = || signal.is_some_and(AbortSignal::aborted);
    let hashed = InThread::cancellable(source, &cancelled)
        .with_max_chunk(CALLING_THREAD_CHUNK)
        .hash(ranges, options, whole, progress)
        .await;
    // The stream the reads went through is not needed any more.
    source.end_reading();
    hashed
}

/// The byte ranges of a job, from the flat `[start, end, start, end, …]` a worker
/// is sent: whole numbers, in order, each within the file. Anything else is
/// [`Error::InvalidInput`] and nothing is read.
pub fn job_ranges(flat: &[f64], size: u64) -> Result<Vec<Range<u64>>, Error> {
    if flat.len() % 2 != 0 {
        return Err(Error::InvalidInput(format!(
            "ranges must be [start, end] pairs, got {} numbers",
            flat.len()
        )));
    }
    let offset = |n: f64| {
        whole_number(&JsValue::from(n)).ok_or_else(|| {
            Error::InvalidInput(format!(
                "range offsets must be whole numbers, got {}",
                number_text(n)
            ))
        })
    };
    flat.chunks_exact(2)
        .map(|pair| match pair {
            [start, end] => {
                let (start, end) = (offset(*start)?, offset(*end)?);
                if start > end || end > size {
                    return Err(Error::InvalidInput(format!(
                        "range {start}..{end} is not within the file's {size} bytes"
                    )));
                }
                Ok(start..end)
            }
            _ => Err(Error::InvalidInput("ranges must be pairs".into())),
        })
        .collect()
}

/// A worker's job: the digests of `ranges` (flat `[start, end, …]`) of `file`, and
/// of all of them together when `whole`. Native SHA-256 (WebCrypto) beside wasm MD5
/// segment by segment where it can; streaming through the core's hasher for the
/// whole-file digest, segments over [`webcrypto::MAX_SEGMENT`] or no WebCrypto.
/// Resolves to `{ segments: [[sha256, md5|null]…], whole: [sha256, md5|null] | null }`.
pub async fn run_job(
    file: JsValue,
    flat: &[f64],
    md5: bool,
    chunk_size: f64,
    whole: bool,
    on_progress: &Function,
) -> Result<JsValue, Error> {
    let source = BlobSource::from_js(file)?;
    let ranges = job_ranges(flat, source.size())?;
    let chunk_size = whole_number(&JsValue::from(chunk_size)).ok_or_else(|| {
        Error::InvalidInput(format!(
            "chunkSize must be a whole number, got {}",
            number_text(chunk_size)
        ))
    })?;
    let options = HashOptions::new(md5, Some(chunk_size))?;
    let report = |bytes: u64| {
        // The main thread stops this worker by terminating it; nothing to check here.
        let _ = on_progress.call1(&JsValue::UNDEFINED, &number(bytes));
    };
    let small = ranges
        .iter()
        .all(|r| r.end - r.start <= webcrypto::MAX_SEGMENT);
    let (segments, whole) = match (webcrypto::subtle(), small) {
        (Some(subtle), true) => {
            webcrypto::hash_ranges(
                &subtle,
                source.as_raw(),
                &ranges,
                md5,
                whole,
                options.chunk_size,
                report,
            )
            .await?
        }
        _ => {
            hash_segments(&source, &ranges, options, whole, |bytes| {
                report(bytes);
                Ok(())
            })
            .await?
        }
    };
    let result = Object::new();
    let list: Array = segments.iter().map(digest_to_js).collect();
    set_property(&result, "segments", &list);
    set_property(
        &result,
        "whole",
        &whole.as_ref().map_or(JsValue::NULL, digest_to_js),
    );
    Ok(result.into())
}
