//! v2.1: create (or GET fresh URLs to go on), PUT the parts, PATCH every ETag, then
//! wait until the upload is available.

use std::ops::Range;

use super::resume::{stored_etags, StateKeeper};
use super::{Client, Phase, ProgressTracker, MAX_REFRESHES};
use crate::core::http::{Http, Method, Tokens};
use crate::core::protocol::{self, SegmentDigest};
use crate::core::Error;

impl<H: Http, T: Tokens> Client<'_, H, T> {
    /// v2.1: create (or, going on from a state, GET the upload for fresh URLs),
    /// PUT each part without an ETag (renewing expired URLs through GET), PATCH all
    /// ETags, then GET until `available`.
    pub(super) async fn v2_parts(
        &self,
        ranges: &[Range<u64>],
        declared: &[SegmentDigest],
        tracker: &ProgressTracker<'_>,
        keeper: &StateKeeper<'_>,
        sending: crate::core::runtime::Permit<'_>,
    ) -> Result<(String, Vec<String>, String), Error> {
        let known = keeper.get().uuid.clone();
        let (uuid, mut parts) = match known {
            Some(uuid) => {
                tracker.phase(Phase::Creating);
                let shown = self
                    .api(Method::Get, &self.scope().upload_url(&uuid), None)
                    .await?;
                let upload = protocol::parse_v2(&shown.body, None)?;
                if matches!(upload.status.as_str(), "complete" | "available") {
                    // Completed before the stop: only the wait is left.
                    drop(sending);
                    tracker.phase(Phase::Processing);
                    let status = self.wait_available(&self.scope().upload_url(&uuid)).await?;
                    let (_, etags) = stored_etags(keeper)?;
                    return Ok((uuid, etags, status));
                }
                (uuid, upload.parts)
            }
            None => {
                tracker.phase(Phase::Creating);
                let whole = keeper
                    .get()
                    .whole_sha256
                    .clone()
                    .ok_or_else(|| Error::Protocol("no whole-file digest".into()))?;
                let body = protocol::v2_create_body(
                    &self.options.file,
                    &whole,
                    keeper.get().whole_md5.as_deref(),
                    declared,
                );
                let created = self.create(body).await?;
                let upload = protocol::parse_v2(&created.body, Some(ranges.len()))?;
                // v2.1 URLs are asked for again on resume: only the id is kept.
                keeper.change(|state, now| {
                    state.created(&upload.uuid, &[], now);
                    state.etags = vec![None; ranges.len()];
                });
                (upload.uuid, upload.parts)
            }
        };
        let upload_url = self.scope().upload_url(&uuid);
        let mut refreshes = 0;
        tracker.phase(Phase::Uploading);
        loop {
            let pending = keeper.get().pending();
            if pending.is_empty() {
                break;
            }
            if parts.len() != ranges.len() {
                return Err(Error::Protocol(format!(
                    "the upload lists {} parts, {} were declared",
                    parts.len(),
                    ranges.len()
                )));
            }
            let lapsed = self
                .send_parts(&parts, ranges, &pending, tracker, keeper)
                .await?;
            if lapsed.is_empty() {
                break;
            }
            if refreshes >= MAX_REFRESHES {
                return Err(Error::Expired("part URLs kept expiring".into()));
            }
            refreshes += 1;
            // GET answers fresh URLs for the parts whose URL expired.
            let shown = self.api(Method::Get, &upload_url, None).await?;
            parts = protocol::parse_v2(&shown.body, Some(ranges.len()))?.parts;
        }
        let (_, etags) = stored_etags(keeper)?;
        tracker.phase(Phase::Completing);
        let all: Vec<Option<String>> = etags.iter().cloned().map(Some).collect();
        self.api(
            Method::Patch,
            &upload_url,
            Some(protocol::v2_complete_body(&all)),
        )
        .await?;
        // Procore processes it now; the next upload may send meanwhile.
        drop(sending);
        tracker.phase(Phase::Processing);
        // Kept as completed: going on after a stop now only waits.
        keeper.change(|_, _| {});
        let status = self.wait_available(&upload_url).await?;
        Ok((uuid, etags, status))
    }

    /// Polls a v2.1 upload with a growing interval until it is `available`.
    pub(super) async fn wait_available(&self, upload_url: &str) -> Result<String, Error> {
        let started = self.http.now_ms();
        let mut interval = 250u64;
        loop {
            let shown = self.api(Method::Get, upload_url, None).await?;
            let upload = protocol::parse_v2(&shown.body, None)?;
            match upload.status.as_str() {
                "available" => return Ok(upload.status),
                "failed" => {
                    return Err(Error::ProcessingFailed(
                        upload
                            .failure_reason
                            .unwrap_or_else(|| "status failed".into()),
                    ))
                }
                _ => {}
            }
            let waited = crate::core::retry::elapsed_ms(started, self.http.now_ms());
            if waited >= self.options.processing_timeout_ms {
                return Err(Error::Timeout(format!(
                    "the upload was not available after {} s (last status {})",
                    waited / 1000,
                    crate::core::json::quote(&upload.status)
                )));
            }
            self.http.sleep(interval).await?;
            interval = (interval * 3 / 2).min(2000);
        }
    }
}
