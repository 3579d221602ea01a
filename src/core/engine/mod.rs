//! The upload engine: hash → create → send the bytes → complete → (v2.1) wait
//! until available. Platform-free: it talks to the world through [`Http`],
//! [`Tokens`] and [`HashBackend`], so native tests drive it with scripted answers.
//!
//! Where a change goes: [`storage`] sends one storage request (retries, the stall
//! watchdog); [`parts`] hashes and sends the segments (checkpoints beside them);
//! [`v1`] the form upload and v1's segmented flow; [`v2`] v2.1's; [`resume`] the kept
//! state (does it fit, how it changes). What stops a run, and when, is the task's
//! ([`super::task`]); progress is [`super::progress`]'s.

mod parts;
mod resume;
mod storage;
mod v1;
mod v2;

use std::cell::RefCell;
use std::future::Future;

use super::api::ApiClient;
use super::hash::{upload_md5, HashBackend};
use super::http::{Http, Method, Response, Tokens};
use super::plan::{plan_segments, use_segments, ApiVersion, SegmentPlan, Segmented};
use super::protocol::{FileMeta, Scope};
use super::runtime::Shared;
use super::state::{FileIdentity, StateScope, UploadState};
use super::Error;

pub use super::progress::{
    eta_seconds, report_due, speed, Phase, Progress, ProgressTracker, ReportGate,
    REPORT_INTERVAL_MS,
};
pub use parts::{server_checkpoint_due, SERVER_CHECKPOINT_MS};
use resume::{check_state_fits, StateKeeper};

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
    /// Send MD5s besides SHA-256, as chosen; `None`: as the kept state gone on from
    /// was hashed, else not ([`crate::core::hash::upload_md5`]).
    pub md5: Option<bool>,
    /// Parallel storage requests of this upload (the client's limit still holds).
    pub concurrency: usize,
    /// Accept `http:` instruction URLs (local testing).
    pub allow_insecure_storage: bool,
    /// v2.1: how long to wait for `available`.
    pub processing_timeout_ms: u64,
    /// Bytes per read while hashing.
    pub chunk_size: usize,
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
        upload_md5(options.md5, None),
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
        uploads_url: options.scope.uploads_url(),
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

/// The engine's calls for one upload: the transport, the API client, the shared
/// limits and the upload's options.
struct Client<'a, H, T> {
    http: &'a H,
    api: ApiClient<'a, H, T>,
    shared: &'a Shared<T>,
    options: &'a UploadOptions,
    /// Where Create Upload goes.
    uploads_url: String,
}

impl<'c, H: Http, T: Tokens> Client<'c, H, T> {
    pub(super) fn scope(&self) -> &Scope {
        &self.options.scope
    }

    /// One API call without extra headers: the API client's future itself, not
    /// one that awaits it (a smaller package).
    pub(super) fn api<'a>(
        &'a self,
        method: Method,
        url: &'a str,
        body: Option<String>,
    ) -> impl Future<Output = Result<Response, Error>> + use<'a, 'c, H, T> {
        self.api.call(method, url, body, &[])
    }

    /// Create Upload with `body`.
    pub(super) fn create(
        &self,
        body: String,
    ) -> impl Future<Output = Result<Response, Error>> + use<'_, 'c, H, T> {
        self.api(Method::Post, &self.uploads_url, Some(body))
    }
}
