//! v1.0/v1.1: the form upload (one POST with every field in order) and the segmented
//! flow (create with the digests, PUT each segment, complete with the ETags in order).

use std::ops::Range;

use super::resume::{stored_etags, StateKeeper};
use super::{Client, Phase, ProgressTracker, UploadResult, MAX_REFRESHES};
use crate::core::http::{Body, Http, Method, Request, Target, Tokens};
use crate::core::protocol::{self, SegmentDigest};
use crate::core::retry::MAX_ATTEMPTS;
use crate::core::state::{v1_instructions_usable, UploadState};
use crate::core::Error;

impl<H: Http, T: Tokens> Client<'_, H, T> {
    /// v1 non-segmented: create, then one form POST with every field in order and
    /// the bytes last as `file`, then Show Upload for the status Procore gives it.
    pub(super) async fn form_upload(
        &self,
        tracker: &ProgressTracker<'_>,
    ) -> Result<UploadResult, Error> {
        let file = &self.options.file;
        let mut refreshes = 0;
        loop {
            tracker.phase(Phase::Creating);
            let created = self.create(protocol::v1_create_body(file, None)).await?;
            let form = protocol::parse_v1_form(&created.body)?;
            tracker.phase(Phase::Uploading);
            let request = Request {
                method: Method::Post,
                url: form.url.clone(),
                headers: Vec::new(),
                body: Body::Form {
                    fields: form.fields.clone(),
                    file: 0..file.size,
                    filename: file.name.clone(),
                },
                target: Target::Storage,
            };
            match self.storage(request, &|sent| tracker.sent(0, sent)).await {
                Ok(_) => {
                    tracker.segment_done(0, file.size);
                    tracker.phase(Phase::Completing);
                    // Storage took the bytes; what Procore makes of them is its to say.
                    let shown = self
                        .api(Method::Get, &self.scope().upload_url(&form.uuid), None)
                        .await?;
                    let status = protocol::parse_v1_status(&shown.body, "Show Upload")?;
                    return Ok(UploadResult {
                        uuid: form.uuid,
                        status,
                        size: file.size,
                        api_version: self.scope().version,
                        segments: None,
                    });
                }
                // Expired instructions: ask for new ones (the file needs no re-reading).
                Err(Error::Expired(_)) if refreshes < MAX_REFRESHES => refreshes += 1,
                Err(error) => return Err(error),
            }
        }
    }

    /// v1 segmented: create with the segments (or go on with the state's
    /// instructions while they are fresh), PUT each segment without an ETag, PATCH
    /// the ETags in order. Expired instructions: create again and send every segment
    /// again (a new create is a new multipart upload); the digests are reused.
    pub(super) async fn v1_parts(
        &self,
        ranges: &[Range<u64>],
        declared: &[SegmentDigest],
        tracker: &ProgressTracker<'_>,
        keeper: &StateKeeper<'_>,
    ) -> Result<(String, Vec<String>, String), Error> {
        let body = protocol::v1_create_body(&self.options.file, Some(declared));
        let mut refreshes = 0;
        let all_stored = |state: &UploadState| {
            state.uuid.is_some() && state.etags.len() == ranges.len() && state.pending().is_empty()
        };
        // Every part stored before this run: it stopped while completing (or just
        // before), so Procore may have completed it already.
        let ask_first = all_stored(&keeper.get());
        let mut expired = {
            let state = keeper.get();
            !(state.uuid.is_some()
                && state.parts.len() == ranges.len()
                && state
                    .instructions_at_ms
                    .is_some_and(|at| v1_instructions_usable(at, self.http.wall_clock_ms())))
        };
        // Stored parts need no instructions: completing takes the id and the ETags.
        while !all_stored(&keeper.get()) {
            if expired {
                tracker.phase(Phase::Creating);
                let created = self.create(body.clone()).await?;
                let upload = protocol::parse_v1_segmented(&created.body, ranges.len())?;
                keeper.change(|state, now| state.created(&upload.uuid, &upload.parts, now));
            }
            tracker.phase(Phase::Uploading);
            let (parts, pending) = {
                let state = keeper.get();
                (state.parts.clone(), state.pending())
            };
            let lapsed = self
                .send_parts(&parts, ranges, &pending, tracker, keeper)
                .await?;
            if !lapsed.is_empty() {
                if refreshes >= MAX_REFRESHES {
                    return Err(Error::Expired("instructions kept expiring".into()));
                }
                refreshes += 1;
                expired = true;
            }
        }
        let (uuid, etags) = stored_etags(keeper)?;
        tracker.phase(Phase::Completing);
        // Kept as completing: going on after a stop from here asks Procore first.
        keeper.change(|_, _| {});
        let status = self.complete_v1(&uuid, &etags, ask_first).await?;
        Ok((uuid, etags, status))
    }

    /// v1 Complete Upload, which Procore may refuse once done: when it may have
    /// been sent before (`ask_first`: a run that stopped while completing) or its
    /// answer was lost on the way back, Show Upload decides first (complete: done;
    /// else complete again).
    pub(super) async fn complete_v1(
        &self,
        uuid: &str,
        etags: &[String],
        ask_first: bool,
    ) -> Result<String, Error> {
        let url = self.scope().upload_url(uuid);
        let mut ask = ask_first;
        let mut attempt = 0;
        loop {
            attempt += 1;
            if ask {
                let shown = self.api(Method::Get, &url, None).await?;
                let status = protocol::parse_v1_status(&shown.body, "Show Upload")?;
                if status == protocol::V1_COMPLETE {
                    return Ok(status);
                }
            }
            let sent = self
                .api
                .call_unless_lost(
                    Method::Patch,
                    &url,
                    Some(protocol::v1_complete_body(etags)),
                    &[],
                )
                .await;
            match sent {
                Ok(completed) => {
                    return protocol::parse_v1_status(&completed.body, "Complete Upload")
                }
                Err(Error::Network { .. }) if attempt < MAX_ATTEMPTS => {
                    crate::core::api::pause(self.http, attempt, None).await?;
                    ask = true;
                }
                Err(error) => return Err(error),
            }
        }
    }
}
