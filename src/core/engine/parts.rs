//! The segments of an upload: hashed (unless the state has their digests), then
//! sent `concurrency` at a time, each with exactly its instructions' headers; v2.1
//! checkpoints go beside them.

use std::cell::Cell;
use std::ops::Range;
use std::pin::pin;

use futures_util::future::{select, Either};
use futures_util::stream::{self, StreamExt};

use super::resume::StateKeeper;
use super::{Client, Phase, ProgressTracker, SegmentResult, UploadResult};
use crate::core::error::redact_url;
use crate::core::hash::{Digests, HashBackend, HashOptions};
use crate::core::http::{browser_sets_itself, Body, Http, Method, Request, Target, Tokens};
use crate::core::plan::{ApiVersion, SegmentPlan};
use crate::core::protocol::{self, PartInstruction, SegmentDigest};
use crate::core::runtime::{yield_now, Wakeup};
use crate::core::state::UploadState;
use crate::core::Error;

impl<H: Http, T: Tokens> Client<'_, H, T> {
    /// Hashes (unless the state has the digests), then sends what the state lacks.
    pub(super) async fn segmented_upload<B: HashBackend>(
        &self,
        hasher: &B,
        plan: SegmentPlan,
        tracker: &ProgressTracker<'_>,
        keeper: &StateKeeper<'_>,
        verify: bool,
        fresh: &dyn Fn() -> UploadState,
    ) -> Result<UploadResult, Error> {
        let version = self.scope().version;
        let ranges: Vec<Range<u64>> = plan.ranges().collect();
        // The state's setting: the options' for a fresh one, the kept one's else.
        let hash_options = HashOptions {
            md5: keeper.get().md5,
            chunk_size: self.options.chunk_size,
        };
        let is_v2 = version == ApiVersion::V21;
        {
            let _turn = self.shared.hashing.acquire().await;
            if verify && !self.first_segment_matches(hasher, &ranges, keeper).await? {
                // Another file under the same name, size and date: start afresh.
                keeper.change(|state, _| *state = fresh());
            }
            if keeper.get().digests.is_none() {
                tracker.phase(Phase::Hashing);
                // One segment is the whole file: its SHA-256 is the whole file's.
                let one_segment = ranges.len() == 1;
                let (digests, whole) = hasher
                    .hash(&ranges, hash_options, is_v2 && !one_segment, &|hashed| {
                        tracker.update(|p| p.bytes_hashed = hashed)
                    })
                    .await?;
                let whole = if one_segment {
                    digests.first().cloned()
                } else {
                    whole
                };
                keeper.change(|state, _| {
                    state.digests = Some(
                        ranges
                            .iter()
                            .zip(&digests)
                            .map(|(range, digest)| SegmentDigest {
                                size: range.end - range.start,
                                sha256: digest.sha256_hex(),
                                md5: digest.md5_hex(),
                            })
                            .collect(),
                    );
                    if is_v2 {
                        state.whole_sha256 = whole.as_ref().map(Digests::sha256_hex);
                    }
                });
            }
        }
        tracker.update(|p| p.bytes_hashed = p.total_bytes);
        // Parts stored in an earlier run count as sent.
        for index in keeper
            .get()
            .etags
            .iter()
            .enumerate()
            .filter(|(_, e)| e.is_some())
            .map(|(i, _)| i)
        {
            if let Some(range) = ranges.get(index) {
                tracker.segment_done(index, range.end - range.start);
            }
        }
        // Sent once one of the client's sending turns is free; the next files hash
        // meanwhile.
        let sending = self.shared.uploads.acquire().await;
        let declared = keeper
            .get()
            .digests
            .clone()
            .ok_or_else(|| Error::Protocol("no digests after hashing".into()))?;
        let (uuid, etags, status) = if is_v2 {
            self.v2_parts(&ranges, &declared, tracker, keeper, sending)
                .await?
        } else {
            let done = self.v1_parts(&ranges, &declared, tracker, keeper).await?;
            drop(sending);
            done
        };
        Ok(UploadResult {
            uuid,
            status,
            size: self.options.file.size,
            api_version: version,
            segments: Some(
                declared
                    .into_iter()
                    .zip(etags)
                    .map(|(d, etag)| SegmentResult {
                        size: d.size,
                        sha256: d.sha256,
                        md5: d.md5,
                        etag,
                    })
                    .collect(),
            ),
        })
    }

    /// Whether the first segment's SHA-256 is still the one the state declared.
    pub(super) async fn first_segment_matches<B: HashBackend>(
        &self,
        hasher: &B,
        ranges: &[Range<u64>],
        keeper: &StateKeeper<'_>,
    ) -> Result<bool, Error> {
        let Some(stored) = keeper
            .get()
            .digests
            .as_ref()
            .and_then(|d| d.first())
            .map(|d| d.sha256.clone())
        else {
            return Ok(true);
        };
        let first = ranges.first().cloned().unwrap_or(0..0);
        let options = HashOptions {
            md5: false,
            chunk_size: self.options.chunk_size,
        };
        let (digests, _) = hasher.hash(&[first], options, false, &|_| {}).await?;
        Ok(digests.first().map(Digests::sha256_hex) == Some(stored))
    }

    /// PUTs the `pending` segments, `concurrency` at a time, into `etags`; returns
    /// the segments whose instructions expired (in the order they failed: callers
    /// only ask whether there are any). Any other failure stops them all.
    pub(super) async fn send_parts(
        &self,
        parts: &[PartInstruction],
        ranges: &[Range<u64>],
        pending: &[usize],
        tracker: &ProgressTracker<'_>,
        keeper: &StateKeeper<'_>,
    ) -> Result<Vec<usize>, Error> {
        // Every segment has instructions and every URL is checked before the first
        // byte goes out.
        let mut work = Vec::with_capacity(pending.len());
        for &index in pending {
            let (Some(part), Some(range)) = (parts.get(index), ranges.get(index)) else {
                return Err(Error::Protocol(format!(
                    "no instructions for segment {}",
                    index + 1
                )));
            };
            protocol::check_storage_url(&part.url, self.options.allow_insecure_storage)?;
            work.push((index, part, range.clone()));
        }
        let mut expired = Vec::new();
        let mut results = stream::iter(work)
            .map(|(index, part, range)| async move {
                (index, self.put_part(index, part, range, tracker).await)
            })
            .buffer_unordered(self.options.concurrency.min(self.shared.limits.concurrency));
        // v2.1 checkpoints go beside the sending, never holding a PUT back: the first
        // stored part is told at once, then at most every few seconds; a failed one
        // is only retried with a later one (the upload goes on).
        let is_v2 = self.scope().version == ApiVersion::V21;
        let last_checkpoint = Cell::new(f64::NEG_INFINITY);
        let checkpoint_wanted = Cell::new(false);
        let wakeup = Wakeup::default();
        let sending = async {
            while let Some((index, result)) = results.next().await {
                match result {
                    Ok(etag) => {
                        keeper.change(|state, _| {
                            if let Some(slot) = state.etags.get_mut(index) {
                                *slot = Some(etag);
                            }
                        });
                        let now = self.http.now_ms();
                        if is_v2 && server_checkpoint_due(last_checkpoint.get(), now) {
                            last_checkpoint.set(now);
                            checkpoint_wanted.set(true);
                            wakeup.wake_all();
                            // Lets the checkpoint start before the next part's answer.
                            yield_now().await;
                        }
                    }
                    Err(Error::Expired(_)) => expired.push(index),
                    Err(error) => return Err(error),
                }
            }
            Ok(())
        };
        let checkpoints = async {
            loop {
                wakeup.until(&|| checkpoint_wanted.get()).await;
                checkpoint_wanted.set(false);
                // Failed: Procore keeps the last one it took; a later one says more.
                let _ = self.v2_checkpoint(keeper).await;
            }
        };
        let sent = match select(pin!(sending), pin!(checkpoints)).await {
            Either::Left((sent, _)) => sent,
            Either::Right((never, _)) => never,
        };
        sent.map(|()| expired)
    }

    /// v2.1: tells Procore which parts are stored so far (`null` for the others).
    pub(super) async fn v2_checkpoint(&self, keeper: &StateKeeper<'_>) -> Result<(), Error> {
        let (uuid, etags) = {
            let state = keeper.get();
            (state.uuid.clone(), state.etags.clone())
        };
        let Some(uuid) = uuid else { return Ok(()) };
        if etags.iter().all(Option::is_some) {
            // The full list completes the upload: that is the caller's step.
            return Ok(());
        }
        self.api(
            Method::Patch,
            &self.scope().upload_url(&uuid),
            Some(protocol::v2_complete_body(&etags)),
        )
        .await?;
        Ok(())
    }

    /// PUTs one segment's bytes with exactly its headers (those a browser sets
    /// itself are left to it) plus `Content-Type: application/octet-stream`.
    pub(super) async fn put_part(
        &self,
        index: usize,
        part: &PartInstruction,
        range: Range<u64>,
        tracker: &ProgressTracker<'_>,
    ) -> Result<String, Error> {
        let size = range.end - range.start;
        let mut headers: Vec<(String, String)> = part
            .headers
            .iter()
            .filter(|(name, _)| !browser_sets_itself(name))
            .cloned()
            .collect();
        if !headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        {
            headers.push(("Content-Type".into(), "application/octet-stream".into()));
        }
        let request = Request {
            method: Method::Put,
            url: part.url.clone(),
            headers,
            body: Body::Bytes(range),
            target: Target::Storage,
        };
        let response = self
            .storage(request, &|sent| tracker.sent(index, sent))
            .await?;
        let etag = response
            .header("etag")
            .map(|etag| {
                etag.trim()
                    .trim_start_matches("W/")
                    .trim_matches('"')
                    .to_string()
            })
            .filter(|etag| !etag.is_empty())
            .ok_or_else(|| Error::MissingEtag {
                url: redact_url(&part.url),
            })?;
        tracker.segment_done(index, size);
        Ok(etag)
    }
}

/// v2.1 server-side checkpoints (PATCH with `null`s) go out at most this often.
pub const SERVER_CHECKPOINT_MS: f64 = 5000.0;

/// Whether a v2.1 checkpoint is due at `now_ms`, the last having gone at `last_ms`.
pub fn server_checkpoint_due(last_ms: f64, now_ms: f64) -> bool {
    now_ms - last_ms >= SERVER_CHECKPOINT_MS
}
