//! One file's hashing in the client's pool: split into jobs
//! ([`crate::core::workers::plan_jobs`]), at most `count` of them in the pool at once,
//! their replies checked ([`super::protocol`]) and put together.

use std::ops::Range;
use std::pin::pin;

use futures_channel::mpsc;
use futures_util::future::{select, Either};
use futures_util::StreamExt;
use web_sys::{AbortSignal, Blob};

use super::pool::{Reply, Ticket, WorkerPool};
use super::protocol::{self, JobReply};
use crate::core::hash::{Digests, HashOptions};
use crate::core::source::ByteSource;
use crate::core::workers::{bytes_done, plan_jobs, Slot};
use crate::core::Error;
use crate::web::abort::{self, AbortWatch};
use crate::web::blob::BlobSource;

/// Hashing of one file in a client's pool, split for up to `count` workers.
pub struct WorkerHashing<'a> {
    pool: &'a WorkerPool,
    count: usize,
    source: BlobSource,
    signal: Option<AbortSignal>,
}

/// What a hashing in workers gives: the digests (each segment's, and the whole file's
/// when asked), or `None` where the pool's workers cannot start on this page, so that
/// nothing was hashed (its owner hashes elsewhere).
pub type InWorkers = Option<(Vec<Digests>, Option<Digests>)>;

impl<'a> WorkerHashing<'a> {
    /// Hashes `blob` in up to `count` (≥ 1) of `pool`'s workers, giving its jobs up
    /// when `signal` aborts.
    pub fn new(
        pool: &'a WorkerPool,
        count: usize,
        blob: Blob,
        signal: Option<AbortSignal>,
    ) -> Self {
        pool.grow_to(count);
        Self {
            pool,
            count: count.max(1),
            source: BlobSource::from_raw(blob),
            signal,
        }
    }

    /// The file.
    pub fn source(&self) -> &BlobSource {
        &self.source
    }

    /// What stops the hashing.
    pub fn signal(&self) -> Option<&AbortSignal> {
        self.signal.as_ref()
    }

    /// Size of the file.
    pub fn size(&self) -> u64 {
        self.source.size()
    }

    /// Digests of consecutive `ranges`, and of the whole file when `whole`, in the
    /// pool's workers; `progress` gets the bytes hashed so far. `Ok(None)` where no
    /// worker can start on this page.
    pub async fn hash(
        &self,
        ranges: &[Range<u64>],
        options: HashOptions,
        whole: bool,
        progress: &dyn Fn(u64),
    ) -> Result<InWorkers, Error> {
        abort::check(self.signal.as_ref())?;
        if self.pool.gave_up() {
            return Ok(None);
        }
        let jobs = plan_jobs(ranges, whole, self.count, self.size());
        let mut aborted = AbortWatch::new(self.signal.as_ref())?;
        let (to, mut events) = mpsc::unbounded();
        // At most `count` jobs of this hashing in the pool at once (the pool may be
        // larger: the client's default, or another upload's wish); the next goes in
        // as one is done. The sender goes once the last job is in: if the pool then
        // drops the jobs, the hashing hears of it instead of waiting forever. The
        // tickets are dropped when the hashing ends, however it ends: jobs still
        // queued or running are given up (their workers ended).
        let mut to = Some(to);
        let submit = |tag: usize, to: &mut Option<_>| -> Result<Option<Ticket>, Error> {
            let ticket = match (jobs.get(tag), to.as_ref()) {
                (Some(job), Some(sender)) => self.pool.submit(
                    protocol::job_message(self.source.as_raw(), job, options),
                    mpsc::UnboundedSender::clone(sender),
                    tag,
                )?,
                _ => None,
            };
            if tag + 1 >= jobs.len() {
                *to = None;
            }
            Ok(ticket)
        };
        let mut tickets = Vec::with_capacity(jobs.len());
        let mut next_job = self.count.min(jobs.len());
        for tag in 0..next_job {
            tickets.extend(submit(tag, &mut to)?);
        }

        let mut segments: Vec<Option<Digests>> = vec![None; ranges.len()];
        let mut whole_digest = None;
        let mut job_bytes = vec![0u64; jobs.len()];
        let mut running = jobs.len();
        while running > 0 {
            let event = match select(events.next(), pin!(aborted.fired())).await {
                Either::Left((event, _)) => event,
                Either::Right(_) => return Err(Error::Aborted),
            };
            let (id, data) = match event {
                Some((tag, Reply::Message(data))) => (tag, data),
                Some((_, Reply::Failed(error))) => return Err(error),
                // Its jobs are dropped with the tickets (the pool holds none any more).
                Some((_, Reply::GaveUp)) => return Ok(None),
                None => return Err(Error::worker("the workers went away")),
            };
            let Some(job) = jobs.get(id) else {
                return Err(Error::worker("a reply for no job of this file"));
            };
            let bytes = match protocol::read_reply(&data, job)? {
                JobReply::Progress(bytes) => bytes,
                JobReply::Failed(error) => return Err(error),
                JobReply::Done(digests, whole) => {
                    match job.slot {
                        Slot::Whole => whole_digest = digests.into_iter().next(),
                        Slot::Segments(first) => {
                            for (offset, digest) in digests.into_iter().enumerate() {
                                if let Some(slot) = segments.get_mut(first + offset) {
                                    *slot = Some(digest);
                                }
                            }
                            if job.whole {
                                whole_digest = whole;
                            }
                        }
                    }
                    running -= 1;
                    tickets.extend(submit(next_job, &mut to)?);
                    next_job += 1;
                    job.size()
                }
            };
            if let Some(slot) = job_bytes.get_mut(id) {
                *slot = (*slot).max(bytes);
            }
            progress(bytes_done(&jobs, &job_bytes));
        }
        // A loop, not a collect into Option: one GenericShunt less in the package.
        let mut hashed = Vec::with_capacity(segments.len());
        for segment in segments {
            hashed.push(segment.ok_or_else(|| Error::worker("a segment was never hashed"))?);
        }
        let segments = hashed;
        if whole && whole_digest.is_none() {
            return Err(Error::worker("the whole file was never hashed"));
        }
        Ok(Some((segments, whole_digest)))
    }
}
