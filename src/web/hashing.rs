//! Which hashing runs where: the backend an upload or `client.hashFile` uses (Web
//! Workers, or the calling thread where none can start), and the job a worker runs
//! (`hashJob`) with the strategy it picks (WebCrypto per segment, or streaming).
//! This module decides the fallback; the worker pool ([`super::workers`]) only says
//! that its workers cannot start, and imports nothing from here.

use std::ops::Range;

use js_sys::Function;
use wasm_bindgen::JsValue;
use web_sys::AbortSignal;

use super::blob::BlobSource;
use super::js::{number, number_text, whole_number};
use super::webcrypto;
use super::workers::protocol::{done_reply, job_ranges};
use super::workers::{WorkerHashing, WorkerPool};
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
    /// In the client's Web Workers; on the calling thread where none can start.
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
        let (source, signal) = match self {
            Hashing::Workers(workers) => {
                match workers.hash(ranges, options, whole, progress).await? {
                    Some(done) => return Ok(done),
                    // No worker can start here: none hashed a byte, so progress starts at 0.
                    None => (workers.source(), workers.signal()),
                }
            }
            Hashing::CallingThread { source, signal } => (*source, signal.as_ref()),
        };
        hash_on_calling_thread(source, signal, ranges, options, whole, progress).await
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
            hash_segments(&source, &ranges, options, whole, &mut |bytes| {
                report(bytes);
                Ok(())
            })
            .await?
        }
    };
    Ok(done_reply(&segments, whole.as_ref()))
}
