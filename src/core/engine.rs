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
    classify, elapsed_ms, rate_limit_wait_secs, storage_backoff, Class, MAX_ATTEMPTS,
    STORAGE_ATTEMPTS,
};
use super::runtime::{yield_now, Shared, Wakeup};
use super::state::{v1_instructions_usable, FileIdentity, StateScope, UploadState, STATE_FORMAT};
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
    /// Upload speed over the last seconds; `None` until known (and after a pause,
    /// until known again).
    pub bytes_per_second: Option<u64>,
    /// Seconds left at that speed; `None` while the speed is unknown.
    pub eta_seconds: Option<u64>,
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

/// How far back the speed is measured.
const SPEED_WINDOW_MS: f64 = 5000.0;
/// The speed is not told before this much of the window is covered.
const SPEED_MIN_SPAN_MS: f64 = 1000.0;

/// Bytes per second over `samples` (time in ms, bytes uploaded so far), oldest
/// first; `None` while they cover less than [`SPEED_MIN_SPAN_MS`].
pub fn speed(samples: &[(f64, u64)]) -> Option<u64> {
    let (first, last) = (samples.first()?, samples.last()?);
    let span = last.0 - first.0;
    if span < SPEED_MIN_SPAN_MS {
        return None;
    }
    let bytes = last.1.saturating_sub(first.1);
    // Float to integer: a speed is far below u64::MAX and never negative here.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    Some((bytes as f64 * 1000.0 / span).round() as u64)
}

/// The least time between two progress reports of one upload: at most ten a second
/// reach `onProgress`, however often the engine reports (WebKit: one event per
/// 8 KiB sent).
pub const REPORT_INTERVAL_MS: f64 = 100.0;

/// Whether `next` is reported at `now` (ms), given the last report and when it was
/// made: always the first, a new phase and the moment every byte is sent (so the
/// final report is never held back); otherwise once [`REPORT_INTERVAL_MS`] passed.
pub fn report_due(last: Option<(f64, &Progress)>, now: f64, next: &Progress) -> bool {
    let Some((at, last)) = last else {
        return true;
    };
    let all_sent = |p: &Progress| p.bytes_uploaded == p.total_bytes;
    next.phase != last.phase || all_sent(next) && !all_sent(last) || now - at >= REPORT_INTERVAL_MS
}

/// Holds progress reports back to [`report_due`]'s pace and remembers the last one.
#[derive(Debug, Default)]
pub struct ReportGate {
    last: Option<(f64, Progress)>,
}

impl ReportGate {
    /// Whether `next` goes out at `now`; when it does, it is the new last report.
    pub fn admit(&mut self, now: f64, next: &Progress) -> bool {
        let due = report_due(self.last.as_ref().map(|(at, p)| (*at, p)), now, next);
        if due {
            self.last = Some((now, *next));
        }
        due
    }

    /// Admits `current` if it differs from the last report: what stopping work
    /// calls, so the last thing said is where it stands.
    pub fn admit_held_back(&mut self, now: f64, current: &Progress) -> bool {
        let held_back = self.last.as_ref().is_none_or(|(_, said)| said != current);
        if held_back {
            self.last = Some((now, *current));
        }
        held_back
    }
}

/// Seconds to send `left` bytes at `speed` bytes per second (`None` at a standstill).
pub fn eta_seconds(left: u64, speed: Option<u64>) -> Option<u64> {
    match speed {
        Some(speed) if speed > 0 => Some(left.div_ceil(speed)),
        Some(_) if left == 0 => Some(0),
        _ => None,
    }
}

/// Keeps an upload's progress: every counter monotonic and capped at the total
/// across retries, expiry, pauses and resumes (a segment's bytes count as the most
/// ever sent of it), and the speed over the last seconds. Lives as long as the
/// upload does, across the engine runs of a paused and resumed upload.
pub struct ProgressTracker<'a> {
    state: RefCell<Progress>,
    /// Bytes sent per segment (the largest seen: a retry does not go backwards).
    sent: RefCell<Vec<u64>>,
    /// Segments stored at least once.
    done: RefCell<Vec<bool>>,
    /// (ms, bytes uploaded) within the speed window, oldest first.
    samples: RefCell<Vec<(f64, u64)>>,
    /// Paces the reports ([`report_due`]).
    gate: RefCell<ReportGate>,
    emit: Box<dyn Fn(&Progress) + 'a>,
    clock: Box<dyn Fn() -> f64 + 'a>,
}

impl<'a> ProgressTracker<'a> {
    /// Progress of a `total_bytes` upload in `segments_total` segments, reported to
    /// `emit`; `clock` gives ms for the speed.
    pub fn new(
        total_bytes: u64,
        segments_total: u64,
        emit: Box<dyn Fn(&Progress) + 'a>,
        clock: Box<dyn Fn() -> f64 + 'a>,
    ) -> Self {
        let segments = usize::try_from(segments_total).unwrap_or(0);
        Self {
            state: RefCell::new(Progress {
                phase: Phase::Queued,
                bytes_hashed: 0,
                bytes_uploaded: 0,
                total_bytes,
                segments_done: 0,
                segments_total,
                bytes_per_second: None,
                eta_seconds: None,
            }),
            sent: RefCell::new(vec![0; segments]),
            done: RefCell::new(vec![false; segments]),
            samples: RefCell::new(Vec::new()),
            gate: RefCell::new(ReportGate::default()),
            emit,
            clock,
        }
    }

    /// The last report.
    pub fn current(&self) -> Progress {
        *self.state.borrow()
    }

    fn update(&self, change: impl FnOnce(&mut Progress)) {
        let now = (self.clock)();
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
            if state.bytes_uploaded != before.bytes_uploaded {
                let mut samples = self.samples.borrow_mut();
                samples.push((now, state.bytes_uploaded));
                let stale = samples
                    .iter()
                    .take_while(|(at, _)| now - at > SPEED_WINDOW_MS)
                    .count();
                samples.drain(..stale);
                // Only the ends of the window count: no copy of it per event.
                state.bytes_per_second = match (samples.first(), samples.last()) {
                    (Some(first), Some(last)) => speed(&[*first, *last]),
                    _ => None,
                };
                state.eta_seconds = eta_seconds(
                    state.total_bytes - state.bytes_uploaded,
                    state.bytes_per_second,
                );
            }
            *state
        };
        let due = self.gate.borrow_mut().admit(now, &snapshot);
        if due {
            (self.emit)(&snapshot);
        }
    }

    /// Reports the latest state if a report of it was held back ([`report_due`]):
    /// when the upload stops, so the last thing said is where it stands.
    pub fn flush(&self) {
        let current = *self.state.borrow();
        let held_back = self
            .gate
            .borrow_mut()
            .admit_held_back((self.clock)(), &current);
        if held_back {
            (self.emit)(&current);
        }
    }

    /// The upload stopped (paused): the speed is unknown until it has run again
    /// for a while.
    pub fn paused(&self) {
        self.flush();
        self.samples.borrow_mut().clear();
        let mut state = self.state.borrow_mut();
        state.bytes_per_second = None;
        state.eta_seconds = None;
    }

    /// Moves to `phase` (never back).
    pub fn phase(&self, phase: Phase) {
        self.update(|p| p.phase = phase);
    }

    fn sent(&self, segment: usize, bytes: u64) {
        // The total moves by what this segment gained: no sum over every segment
        // on each progress event (there may be 10,000).
        let gained = {
            let mut sent = self.sent.borrow_mut();
            sent.get_mut(segment).map_or(0, |slot| {
                let before = *slot;
                *slot = before.max(bytes);
                *slot - before
            })
        };
        self.update(|p| p.bytes_uploaded = p.bytes_uploaded.saturating_add(gained));
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

/// An upload checked and planned before anything is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prepared {
    /// The segments (one for a form upload).
    pub plan: SegmentPlan,
    /// Whether it goes in segments.
    pub segmented: bool,
}

impl Prepared {
    /// Segments progress counts.
    pub fn segments_total(&self) -> u64 {
        if self.segmented {
            self.plan.count()
        } else {
            1
        }
    }
}

/// Checks `options` for a file of `size` bytes and plans its segments: every bad
/// input is refused here, before any request.
pub fn prepare(options: &UploadOptions, size: u64) -> Result<Prepared, Error> {
    check_size(options, size)?;
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
    Ok(Prepared { plan, segmented })
}

/// The file is still the size the options say.
fn check_size(options: &UploadOptions, size: u64) -> Result<(), Error> {
    if size == options.file.size {
        Ok(())
    } else {
        Err(Error::InvalidInput("the file size changed".into()))
    }
}

/// Where an upload's state lives between its engine runs: held once, by the
/// upload's owner (the task), and changed here in place.
pub struct Checkpoints<'a> {
    /// The state to go on from (a fresh one: start afresh).
    pub state: &'a RefCell<UploadState>,
    /// The state came from a store or the caller: hash the first segment again and
    /// start afresh unless it matches (the file may have changed under the same name).
    pub verify: bool,
    /// A fresh state of this file, for when the kept one turns out to be another's.
    pub fresh: &'a dyn Fn() -> UploadState,
    /// Told after every change: after hashing, after instructions, after each part.
    pub saved: &'a dyn Fn(&UploadState),
}

/// The file as a fingerprint takes it, from the upload's options and what the
/// browser says of the file (`File.lastModified`, the type as picked): computed
/// here only, for the states an upload keeps and the look-ups that find them.
pub fn file_identity(
    options: &UploadOptions,
    last_modified: Option<u64>,
    picked_type: String,
) -> FileIdentity {
    FileIdentity {
        name: options.file.name.clone(),
        size: options.file.size,
        last_modified,
        content_type: picked_type,
    }
}

/// A fresh state of `identity` uploaded as `options` and `prepared` say.
pub fn fresh_state(
    options: &UploadOptions,
    prepared: Prepared,
    identity: FileIdentity,
    now_ms: u64,
) -> UploadState {
    UploadState::new(
        state_scope(&options.scope),
        identity,
        prepared.plan.segment_size,
        options.md5,
        now_ms,
    )
}

/// Uploads `source` as `options` say, sharing `shared`'s limits with the client's
/// other uploads: it waits in line for a hashing turn and for a sending turn, and
/// each storage request for a storage slot. No state is kept.
pub async fn upload<H: Http, T: Tokens, B: HashBackend>(
    http: &H,
    shared: &Shared<T>,
    hasher: &B,
    options: &UploadOptions,
    report: &dyn Fn(&Progress),
) -> Result<UploadResult, Error> {
    let prepared = prepare(options, hasher.size())?;
    let tracker = ProgressTracker::new(
        options.file.size,
        prepared.segments_total(),
        Box::new(report),
        Box::new(|| http.now_ms()),
    );
    let identity = file_identity(
        options,
        None,
        options.file.content_type.clone().unwrap_or_default(),
    );
    let fresh = || fresh_state(options, prepared, identity.clone(), http.wall_clock_ms());
    let state = RefCell::new(fresh());
    let checkpoints = Checkpoints {
        state: &state,
        verify: false,
        fresh: &fresh,
        saved: &|_| {},
    };
    let result = run(
        http,
        shared,
        hasher,
        options,
        prepared,
        &tracker,
        checkpoints,
    )
    .await?;
    tracker.phase(Phase::Done);
    Ok(result)
}

/// One run of an upload `prepare`d before, from `checkpoints.state`, reporting to
/// `tracker` (up to, not including, `done`: the caller may have steps left) and each
/// change of the state to `checkpoints.saved`. Stopping it (dropping the future, or
/// the abort that fails it) leaves the state as last changed, to go on from.
pub async fn run<H: Http, T: Tokens, B: HashBackend>(
    http: &H,
    shared: &Shared<T>,
    hasher: &B,
    options: &UploadOptions,
    prepared: Prepared,
    tracker: &ProgressTracker<'_>,
    checkpoints: Checkpoints<'_>,
) -> Result<UploadResult, Error> {
    // Checked again on each run: the file may have changed since it was prepared.
    check_size(options, hasher.size())?;
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
    tracker.phase(Phase::Queued);
    if !prepared.segmented {
        // In line behind the files given before it, hashed or not.
        drop(shared.hashing.acquire().await);
        let _sending = shared.uploads.acquire().await;
        return client.form_upload(tracker).await;
    }
    check_state_fits(&checkpoints.state.borrow(), options, prepared.plan)?;
    let keeper = StateKeeper {
        state: checkpoints.state,
        saved: checkpoints.saved,
        clock: &|| http.wall_clock_ms(),
        phase: &|| tracker.current().phase,
    };
    client
        .segmented_upload(
            hasher,
            prepared.plan,
            tracker,
            &keeper,
            checkpoints.verify,
            checkpoints.fresh,
        )
        .await
}

/// The state's scope as stored.
pub fn state_scope(scope: &Scope) -> StateScope {
    StateScope {
        api_version: scope.version.as_str().into(),
        company_id: scope.company_id,
        project_id: scope.project_id,
    }
}

/// A state given to go on from must be of this upload: same place, same file size,
/// same segments, same digest kinds.
fn check_state_fits(
    state: &UploadState,
    options: &UploadOptions,
    plan: SegmentPlan,
) -> Result<(), Error> {
    let count = usize::try_from(plan.count()).unwrap_or(usize::MAX);
    let digests_fit = state.digests.as_ref().is_none_or(|d| {
        d.len() == count
            && d.iter()
                .zip(plan.ranges())
                .all(|(d, r)| d.size == r.end - r.start)
    });
    let parts_fit = state.uuid.is_none()
        || (state.etags.len() == count && (state.parts.is_empty() || state.parts.len() == count));
    let why = if state.format != STATE_FORMAT {
        Some("it was written by another version of procore-upload".to_string())
    } else if state.scope != state_scope(&options.scope) {
        Some("it is for another company, project or API version".to_string())
    } else if state.file.size != options.file.size {
        Some(format!(
            "it is for a file of {} bytes, this one has {}",
            state.file.size, options.file.size
        ))
    } else if state.segment_size != plan.segment_size || !digests_fit || !parts_fit {
        Some("its segments differ from this upload's (segmentSize?)".to_string())
    } else if state.md5 != options.md5 {
        Some("it was hashed with another md5 setting".to_string())
    } else {
        None
    };
    match why {
        Some(why) => Err(Error::InvalidInput(format!(
            "resume: the state does not fit: {why}"
        ))),
        None => Ok(()),
    }
}

/// The upload's state, saved after each change.
struct StateKeeper<'a> {
    state: &'a RefCell<UploadState>,
    saved: &'a dyn Fn(&UploadState),
    clock: &'a dyn Fn() -> u64,
    /// Where the upload is, stamped on each saved state.
    phase: &'a dyn Fn() -> Phase,
}

impl StateKeeper<'_> {
    fn change(&self, change: impl FnOnce(&mut UploadState, u64)) {
        let now = (self.clock)();
        {
            let mut state = self.state.borrow_mut();
            change(&mut state, now);
            state.updated_ms = now;
            state.phase = (self.phase)().as_str().into();
        }
        (self.saved)(&self.state.borrow());
    }

    fn get(&self) -> std::cell::Ref<'_, UploadState> {
        self.state.borrow()
    }
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
                    let retry_after = rate_limit_wait_secs(
                        response.header("retry-after"),
                        None,
                        response.header("date"),
                        self.http.wall_clock_ms() / 1000,
                    );
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
    async fn form_upload(&self, tracker: &ProgressTracker<'_>) -> Result<UploadResult, Error> {
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

    /// Hashes (unless the state has the digests), then sends what the state lacks.
    async fn segmented_upload<B: HashBackend>(
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
        let hash_options = HashOptions {
            md5: self.options.md5,
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
    async fn first_segment_matches<B: HashBackend>(
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

    /// v1 segmented: create with the segments (or go on with the state's
    /// instructions while they are fresh), PUT each segment without an ETag, PATCH
    /// the ETags in order. Expired instructions: create again and send every segment
    /// again (a new create is a new multipart upload); the digests are reused.
    async fn v1_parts(
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
    async fn complete_v1(
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
                    super::api::pause(self.http, attempt, None).await?;
                    ask = true;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// v2.1: create (or, going on from a state, GET the upload for fresh URLs),
    /// PUT each part without an ETag (renewing expired URLs through GET), PATCH all
    /// ETags, then GET until `available`.
    async fn v2_parts(
        &self,
        ranges: &[Range<u64>],
        declared: &[SegmentDigest],
        tracker: &ProgressTracker<'_>,
        keeper: &StateKeeper<'_>,
        sending: super::runtime::Permit<'_>,
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
                    "the upload was not available after {} s (last status {})",
                    waited / 1000,
                    super::json::quote(&upload.status)
                )));
            }
            self.http.sleep(interval).await?;
            interval = (interval * 3 / 2).min(2000);
        }
    }

    /// PUTs the `pending` segments, `concurrency` at a time, into `etags`; returns
    /// the segments whose instructions expired (in the order they failed: callers
    /// only ask whether there are any). Any other failure stops them all.
    async fn send_parts(
        &self,
        parts: &[PartInstruction],
        ranges: &[Range<u64>],
        pending: &[usize],
        tracker: &ProgressTracker<'_>,
        keeper: &StateKeeper<'_>,
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
                wakeup.until(|| checkpoint_wanted.get()).await;
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
    async fn v2_checkpoint(&self, keeper: &StateKeeper<'_>) -> Result<(), Error> {
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
    async fn put_part(
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

/// The upload id and every segment's ETag, once all are stored.
fn stored_etags(keeper: &StateKeeper<'_>) -> Result<(String, Vec<String>), Error> {
    let state = keeper.get();
    let uuid = state
        .uuid
        .clone()
        .ok_or_else(|| Error::Protocol("no upload id".into()))?;
    let etags = state
        .etags
        .iter()
        .enumerate()
        .map(|(i, etag)| {
            etag.clone()
                .ok_or_else(|| Error::Protocol(format!("segment {} has no ETag", i + 1)))
        })
        .collect::<Result<Vec<String>, Error>>()?;
    Ok((uuid, etags))
}

/// v2.1 server-side checkpoints (PATCH with `null`s) go out at most this often.
pub const SERVER_CHECKPOINT_MS: f64 = 5000.0;

/// Whether a v2.1 checkpoint is due at `now_ms`, the last having gone at `last_ms`.
pub fn server_checkpoint_due(last_ms: f64, now_ms: f64) -> bool {
    now_ms - last_ms >= SERVER_CHECKPOINT_MS
}
