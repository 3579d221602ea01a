//! The upload state machine: hash → create → send the bytes → complete → (v2.1)
//! wait until available. Platform-free: it talks to the world through [`Http`],
//! [`Tokens`] and [`ByteSource`], so native tests drive it with scripted answers.

use std::cell::{Cell, RefCell};
use std::ops::Range;
use std::pin::pin;

use futures_util::future::{select, Either};
use futures_util::stream::{self, StreamExt};

use super::api::{http_error, ApiClient};
use super::error::{redact_url, truncate_body};
use super::hash::{Digests, HashBackend, HashOptions};
use super::http::{browser_sets_itself, Body, Http, Method, Request, Response, Target, Tokens};
use super::plan::{plan_segments, use_segments, ApiVersion, SegmentPlan, Segmented};
use super::protocol::{self, FileMeta, PartInstruction, Scope, SegmentDigest};
use super::retry::{
    classify, elapsed_ms, parse_retry_after, storage_backoff, Class, STORAGE_ATTEMPTS,
};
use super::runtime::Shared;
use super::Error;

/// Most parallel storage requests allowed.
pub const MAX_CONCURRENCY: usize = 16;
/// How long a v2.1 upload may take to become available.
pub const DEFAULT_PROCESSING_TIMEOUT_MS: u64 = 10 * 60 * 1000;
/// Times expired instructions are renewed before giving up.
const MAX_REFRESHES: u32 = 3;

/// What to upload, where, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadOptions {
    /// API, company, project.
    pub scope: Scope,
    /// Name, size, type.
    pub file: FileMeta,
    /// Cut into segments or not.
    pub segmented: Segmented,
    /// Requested segment size.
    pub segment_size: Option<u64>,
    /// Send MD5s besides SHA-256.
    pub md5: bool,
    /// Parallel storage requests of this upload (the client's limit still holds).
    pub concurrency: usize,
    /// Accept `http:` instruction URLs (local testing).
    pub allow_insecure_storage: bool,
    /// v2.1: how long to wait for `available`.
    pub processing_timeout_ms: u64,
    /// Bytes per read while hashing.
    pub chunk_size: usize,
}

/// Where an upload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Waiting for its turn: other files of the client are hashed or sent first.
    Queued,
    /// Reading and hashing the file.
    Hashing,
    /// Asking Procore for instructions.
    Creating,
    /// Sending bytes to storage.
    Uploading,
    /// Telling Procore the bytes are there.
    Completing,
    /// v2.1: waiting until Procore has processed the upload.
    Processing,
    /// `uploadAndAttach`: attaching the upload to its resource.
    Attaching,
    /// Finished.
    Done,
}

impl Phase {
    /// As JS sees it.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Queued => "queued",
            Phase::Hashing => "hashing",
            Phase::Creating => "creating",
            Phase::Uploading => "uploading",
            Phase::Completing => "completing",
            Phase::Processing => "processing",
            Phase::Attaching => "attaching",
            Phase::Done => "done",
        }
    }
}

/// A progress report. No field ever goes backwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Current phase.
    pub phase: Phase,
    /// Bytes read and hashed.
    pub bytes_hashed: u64,
    /// Bytes accepted by storage (or on their way, as the browser reports).
    pub bytes_uploaded: u64,
    /// File size.
    pub total_bytes: u64,
    /// Segments stored.
    pub segments_done: u64,
    /// Segments in all.
    pub segments_total: u64,
}

/// One stored segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentResult {
    /// Bytes.
    pub size: u64,
    /// Hex SHA-256.
    pub sha256: String,
    /// Hex MD5, when computed.
    pub md5: Option<String>,
    /// ETag storage returned, without quotes.
    pub etag: String,
}

/// What an upload ends with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadResult {
    /// The id to attach to a Procore resource.
    pub uuid: String,
    /// The upload's status as Procore last reported it: v1 from Show Upload after
    /// the form POST or from Complete Upload (`complete`), v2.1 from Show Upload
    /// (`available`).
    pub status: String,
    /// File size.
    pub size: u64,
    /// API version used.
    pub api_version: ApiVersion,
    /// Segments, for segmented uploads.
    pub segments: Option<Vec<SegmentResult>>,
}

/// Reports progress, keeping every counter monotonic and counting each segment
/// once, also when expired instructions make it go out again.
struct Reporter<'a> {
    state: RefCell<Progress>,
    /// Bytes sent per segment (the largest seen: a retry does not go backwards).
    sent: RefCell<Vec<u64>>,
    /// Segments stored at least once.
    done: RefCell<Vec<bool>>,
    emit: &'a dyn Fn(&Progress),
}

impl<'a> Reporter<'a> {
    fn new(total_bytes: u64, segments_total: u64, emit: &'a dyn Fn(&Progress)) -> Self {
        Self {
            state: RefCell::new(Progress {
                phase: Phase::Queued,
                bytes_hashed: 0,
                bytes_uploaded: 0,
                total_bytes,
                segments_done: 0,
                segments_total,
            }),
            sent: RefCell::new(vec![0; usize::try_from(segments_total).unwrap_or(0)]),
            done: RefCell::new(vec![false; usize::try_from(segments_total).unwrap_or(0)]),
            emit,
        }
    }

    fn update(&self, change: impl FnOnce(&mut Progress)) {
        let snapshot = {
            let mut state = self.state.borrow_mut();
            let before = *state;
            change(&mut state);
            state.phase = state.phase.max(before.phase);
            state.bytes_hashed = state.bytes_hashed.max(before.bytes_hashed);
            state.bytes_uploaded = state
                .bytes_uploaded
                .max(before.bytes_uploaded)
                .min(state.total_bytes);
            state.segments_done = state.segments_done.max(before.segments_done);
            *state
        };
        (self.emit)(&snapshot);
    }

    fn phase(&self, phase: Phase) {
        self.update(|p| p.phase = phase);
    }

    fn sent(&self, segment: usize, bytes: u64) {
        let total = {
            let mut sent = self.sent.borrow_mut();
            if let Some(slot) = sent.get_mut(segment) {
                *slot = (*slot).max(bytes);
            }
            sent.iter().sum::<u64>()
        };
        self.update(|p| p.bytes_uploaded = total);
    }

    fn segment_done(&self, segment: usize, size: u64) {
        self.sent(segment, size);
        let stored = {
            let mut done = self.done.borrow_mut();
            if let Some(slot) = done.get_mut(segment) {
                *slot = true;
            }
            done.iter().filter(|&&stored| stored).count() as u64
        };
        self.update(|p| p.segments_done = stored);
    }
}

/// Uploads `source` as `options` say, sharing `shared`'s limits with the client's
/// other uploads: it waits in line for a hashing turn and for a sending turn, and
/// each storage request for a storage slot.
pub async fn upload<H: Http, T: Tokens, B: HashBackend>(
    http: &H,
    shared: &Shared<T>,
    hasher: &B,
    options: &UploadOptions,
    report: &dyn Fn(&Progress),
) -> Result<UploadResult, Error> {
    let size = hasher.size();
    if size != options.file.size {
        return Err(Error::InvalidInput("the file size changed".into()));
    }
    if !(1..=MAX_CONCURRENCY).contains(&options.concurrency) {
        return Err(Error::InvalidInput(format!(
            "concurrency must be between 1 and {MAX_CONCURRENCY}, got {}",
            options.concurrency
        )));
    }
    let version = options.scope.version;
    if version != ApiVersion::V10 && options.file.name.is_empty() {
        return Err(Error::InvalidInput(format!(
            "{} needs a file name: pass filename (a Blob has none)",
            version.as_str()
        )));
    }
    // A requested segment size is checked even when the file goes in one piece.
    let plan = plan_segments(size, version, options.segment_size)?;
    let segmented = use_segments(version, options.segmented, size)?;
    let client = Client {
        http,
        api: ApiClient {
            http,
            shared,
            base_url: &options.scope.base_url,
            company_id: options.scope.company_id,
        },
        shared,
        options,
    };
    if !segmented {
        let reporter = Reporter::new(size, 1, report);
        reporter.phase(Phase::Queued);
        // In line behind the files given before it, hashed or not.
        drop(shared.hashing.acquire().await);
        let _sending = shared.uploads.acquire().await;
        return client.form_upload(&reporter).await;
    }
    let reporter = Reporter::new(size, plan.count(), report);
    client.segmented_upload(hasher, plan, &reporter).await
}

struct Client<'a, H, T> {
    http: &'a H,
    api: ApiClient<'a, H, T>,
    shared: &'a Shared<T>,
    options: &'a UploadOptions,
}

impl<H: Http, T: Tokens> Client<'_, H, T> {
    fn scope(&self) -> &Scope {
        &self.options.scope
    }

    /// One API call without extra headers.
    async fn api(
        &self,
        method: Method,
        url: &str,
        body: Option<String>,
    ) -> Result<Response, Error> {
        self.api.call(method, url, body, &[]).await
    }

    /// Create Upload with `body`.
    async fn create(&self, body: String) -> Result<Response, Error> {
        self.api(Method::Post, &self.scope().uploads_url(), Some(body))
            .await
    }

    /// One storage request, retried on 5xx, 429 and network errors; an expiry comes
    /// back as [`Error::Expired`] for the caller to renew the instructions.
    async fn storage(&self, request: Request, progress: &dyn Fn(u64)) -> Result<Response, Error> {
        protocol::check_storage_url(&request.url, self.options.allow_insecure_storage)?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = {
                let _slot = self.shared.storage.acquire().await;
                self.send_watched(request.clone(), progress).await
            };
            let response = match sent {
                Ok(response) => response,
                Err(Error::Network { .. }) if attempt < STORAGE_ATTEMPTS => {
                    let wait = storage_backoff(attempt, None, self.http.jitter());
                    self.http.sleep(wait).await?;
                    continue;
                }
                Err(error) => return Err(error),
            };
            match classify(Target::Storage, response.status, &response.body) {
                Class::Success => return Ok(response),
                Class::Expired => return Err(Error::Expired(truncate_body(&response.body))),
                Class::Retryable | Class::RateLimited if attempt < STORAGE_ATTEMPTS => {
                    let retry_after = parse_retry_after(response.header("retry-after"));
                    let wait = storage_backoff(attempt, retry_after, self.http.jitter());
                    self.http.sleep(wait).await?;
                }
                _ => return Err(http_error(request.method, &request.url, &response)),
            }
        }
    }

    /// Sends `request`; with no upload progress for the client's stall timeout it is
    /// abandoned (dropping it aborts it) and fails as a network error, to be retried.
    async fn send_watched(
        &self,
        request: Request,
        progress: &dyn Fn(u64),
    ) -> Result<Response, Error> {
        let timeout = self.shared.limits.stall_timeout_ms;
        if timeout == 0 {
            return self.http.send(request, progress).await;
        }
        // When progress last moved, and how far it had got.
        let moved = Cell::new((self.http.now_ms(), 0u64));
        let watched = |sent: u64| {
            if sent > moved.get().1 {
                moved.set((self.http.now_ms(), sent));
            }
            progress(sent);
        };
        let (method, url) = (request.method, redact_url(&request.url));
        let sending = pin!(self.http.send(request, &watched));
        let watchdog = pin!(async {
            loop {
                let idle = elapsed_ms(moved.get().0, self.http.now_ms());
                if idle >= timeout {
                    return Ok(());
                }
                self.http.sleep(timeout - idle).await?;
            }
        });
        match select(sending, watchdog).await {
            Either::Left((response, _)) => response,
            Either::Right((Ok(()), _)) => Err(Error::Network {
                method: method.as_str().into(),
                url,
                message: format!("stalled: no upload progress for {timeout} ms"),
                cause: None,
            }),
            Either::Right((Err(error), _)) => Err(error),
        }
    }

    /// v1 non-segmented: create, then one form POST with every field in order and
    /// the bytes last as `file`, then Show Upload for the status Procore gives it.
    async fn form_upload(&self, reporter: &Reporter<'_>) -> Result<UploadResult, Error> {
        let file = &self.options.file;
        let mut refreshes = 0;
        loop {
            reporter.phase(Phase::Creating);
            let created = self.create(protocol::v1_create_body(file, None)).await?;
            let form = protocol::parse_v1_form(&created.body)?;
            reporter.phase(Phase::Uploading);
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
            match self.storage(request, &|sent| reporter.sent(0, sent)).await {
                Ok(_) => {
                    reporter.segment_done(0, file.size);
                    reporter.phase(Phase::Completing);
                    // Storage took the bytes; what Procore makes of them is its to say.
                    let shown = self
                        .api(Method::Get, &self.scope().upload_url(&form.uuid), None)
                        .await?;
                    let status = protocol::parse_v1_status(&shown.body, "Show Upload")?;
                    reporter.phase(Phase::Done);
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

    async fn segmented_upload<B: HashBackend>(
        &self,
        hasher: &B,
        plan: SegmentPlan,
        reporter: &Reporter<'_>,
    ) -> Result<UploadResult, Error> {
        let version = self.scope().version;
        let ranges: Vec<Range<u64>> = plan.ranges().collect();
        let hash_options = HashOptions {
            md5: self.options.md5,
            chunk_size: self.options.chunk_size,
        };
        let is_v2 = version == ApiVersion::V21;
        let (digests, whole) = {
            let _turn = self.shared.hashing.acquire().await;
            reporter.phase(Phase::Hashing);
            hasher
                .hash(&ranges, hash_options, is_v2, &|hashed| {
                    reporter.update(|p| p.bytes_hashed = hashed)
                })
                .await?
        };
        // Sent once one of the client's sending turns is free; the next files hash
        // meanwhile.
        let sending = self.shared.uploads.acquire().await;
        let declared: Vec<SegmentDigest> = ranges
            .iter()
            .zip(&digests)
            .map(|(range, digest)| SegmentDigest {
                size: range.end - range.start,
                sha256: digest.sha256_hex(),
                md5: digest.md5_hex(),
            })
            .collect();
        let (uuid, etags, status) = if is_v2 {
            let whole = whole.ok_or_else(|| Error::Protocol("no whole-file digest".into()))?;
            self.v2_parts(&ranges, &declared, &whole, reporter, sending)
                .await?
        } else {
            let done = self.v1_parts(&ranges, &declared, reporter).await?;
            drop(sending);
            done
        };
        reporter.phase(Phase::Done);
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

    /// v1 segmented: create with the segments, PUT each, PATCH the ETags in order.
    /// Expired instructions: create again and send every segment again (a new
    /// create is a new multipart upload); the digests are reused, not recomputed.
    async fn v1_parts(
        &self,
        ranges: &[Range<u64>],
        declared: &[SegmentDigest],
        reporter: &Reporter<'_>,
    ) -> Result<(String, Vec<String>, String), Error> {
        let body = protocol::v1_create_body(&self.options.file, Some(declared));
        let mut refreshes = 0;
        loop {
            reporter.phase(Phase::Creating);
            let created = self.create(body.clone()).await?;
            let upload = protocol::parse_v1_segmented(&created.body, ranges.len())?;
            let mut etags = vec![None; ranges.len()];
            let pending: Vec<usize> = (0..ranges.len()).collect();
            reporter.phase(Phase::Uploading);
            match self
                .send_parts(&upload.parts, ranges, &pending, &mut etags, reporter)
                .await?
            {
                expired if !expired.is_empty() => {
                    if refreshes >= MAX_REFRESHES {
                        return Err(Error::Expired("instructions kept expiring".into()));
                    }
                    refreshes += 1;
                    continue;
                }
                _ => {}
            }
            let etags: Vec<String> = etags.into_iter().map(Option::unwrap_or_default).collect();
            reporter.phase(Phase::Completing);
            let completed = self
                .api(
                    Method::Patch,
                    &self.scope().upload_url(&upload.uuid),
                    Some(protocol::v1_complete_body(&etags)),
                )
                .await?;
            let status = protocol::parse_v1_status(&completed.body, "Complete Upload")?;
            return Ok((upload.uuid, etags, status));
        }
    }

    /// v2.1: create, PUT each part (renewing expired URLs through GET), PATCH all
    /// ETags, then GET until `available`.
    async fn v2_parts(
        &self,
        ranges: &[Range<u64>],
        declared: &[SegmentDigest],
        whole: &Digests,
        reporter: &Reporter<'_>,
        sending: super::runtime::Permit<'_>,
    ) -> Result<(String, Vec<String>, String), Error> {
        reporter.phase(Phase::Creating);
        let whole_md5 = whole.md5_hex();
        let body = protocol::v2_create_body(
            &self.options.file,
            &whole.sha256_hex(),
            whole_md5.as_deref(),
            declared,
        );
        let created = self.create(body).await?;
        let upload = protocol::parse_v2(&created.body, Some(ranges.len()))?;
        let upload_url = self.scope().upload_url(&upload.uuid);
        let mut parts = upload.parts;
        let mut etags = vec![None; ranges.len()];
        let mut pending: Vec<usize> = (0..ranges.len()).collect();
        let mut refreshes = 0;
        reporter.phase(Phase::Uploading);
        loop {
            pending = self
                .send_parts(&parts, ranges, &pending, &mut etags, reporter)
                .await?;
            if pending.is_empty() {
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
        let etags: Vec<String> = etags.into_iter().map(Option::unwrap_or_default).collect();
        reporter.phase(Phase::Completing);
        let all: Vec<Option<String>> = etags.iter().cloned().map(Some).collect();
        self.api(
            Method::Patch,
            &upload_url,
            Some(protocol::v2_complete_body(&all)),
        )
        .await?;
        // Procore processes it now; the next upload may send meanwhile.
        drop(sending);
        reporter.phase(Phase::Processing);
        let status = self.wait_available(&upload_url).await?;
        Ok((upload.uuid, etags, status))
    }

    /// Polls a v2.1 upload with a growing interval until it is `available`.
    async fn wait_available(&self, upload_url: &str) -> Result<String, Error> {
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
            let waited = super::retry::elapsed_ms(started, self.http.now_ms());
            if waited >= self.options.processing_timeout_ms {
                return Err(Error::Timeout(format!(
                    "the upload was not available after {} s (last status {:?})",
                    waited / 1000,
                    upload.status
                )));
            }
            self.http.sleep(interval).await?;
            interval = (interval * 3 / 2).min(2000);
        }
    }

    /// PUTs the `pending` segments, `concurrency` at a time, into `etags`; returns
    /// the segments whose instructions expired. Any other failure stops them all.
    async fn send_parts(
        &self,
        parts: &[PartInstruction],
        ranges: &[Range<u64>],
        pending: &[usize],
        etags: &mut [Option<String>],
        reporter: &Reporter<'_>,
    ) -> Result<Vec<usize>, Error> {
        // Every segment has instructions and every URL is checked before the first
        // byte goes out.
        let work = pending
            .iter()
            .map(|&index| {
                let missing =
                    || Error::Protocol(format!("no instructions for segment {}", index + 1));
                let part = parts.get(index).ok_or_else(missing)?;
                let range = ranges.get(index).ok_or_else(missing)?.clone();
                protocol::check_storage_url(&part.url, self.options.allow_insecure_storage)?;
                Ok((index, part, range))
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let mut expired = Vec::new();
        let mut results = stream::iter(work)
            .map(|(index, part, range)| async move {
                (index, self.put_part(index, part, range, reporter).await)
            })
            .buffer_unordered(self.options.concurrency.min(self.shared.limits.concurrency));
        while let Some((index, result)) = results.next().await {
            match result {
                Ok(etag) => {
                    if let Some(slot) = etags.get_mut(index) {
                        *slot = Some(etag);
                    }
                }
                Err(Error::Expired(_)) => expired.push(index),
                Err(error) => return Err(error),
            }
        }
        expired.sort_unstable();
        Ok(expired)
    }

    /// PUTs one segment's bytes with exactly its headers (those a browser sets
    /// itself are left to it) plus `Content-Type: application/octet-stream`.
    async fn put_part(
        &self,
        index: usize,
        part: &PartInstruction,
        range: Range<u64>,
        reporter: &Reporter<'_>,
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
            .storage(request, &|sent| reporter.sent(index, sent))
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
        reporter.segment_done(index, size);
        Ok(etag)
    }
}
