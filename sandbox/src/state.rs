//! What the sandbox remembers: uploads, the request log, fault counters, rate limits.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::{rngs::StdRng, Rng, SeedableRng};
use serde::Serialize;

use crate::config::{AimedKind, Config, Faults};
use crate::s3_client::{S3Client, Validity};

/// Which API created an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ApiVersion {
    /// `/rest/v1.0/...`
    #[serde(rename = "v1.0")]
    V10,
    /// `/rest/v1.1/...`
    #[serde(rename = "v1.1")]
    V11,
    /// `/rest/v2.1/...`
    #[serde(rename = "v2.1")]
    V21,
}

impl ApiVersion {
    /// From the path segment (`v1.0`, `v1.1`, `v2.1`).
    pub fn parse(segment: &str) -> Option<Self> {
        match segment {
            "v1.0" => Some(Self::V10),
            "v1.1" => Some(Self::V11),
            "v2.1" => Some(Self::V21),
            _ => None,
        }
    }
}

/// Lifecycle of an upload, with Procore's status names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Created; waiting for bytes.
    Ready,
    /// Some part ETags were submitted (v2.1 partial PATCH).
    Receiving,
    /// All parts submitted and the object assembled.
    Complete,
    /// v2.1: processed and verified; usable.
    Available,
    /// v2.1: verification failed (the reason is in `failure`).
    Failed,
}

/// One segment (v1) or part (v2.1) as created.
#[derive(Debug, Clone, Serialize)]
pub struct Segment {
    /// Bytes.
    pub size: u64,
    /// Hex SHA-256 the client declared.
    pub sha256: String,
    /// Hex MD5 the client declared, if any.
    pub md5: Option<String>,
    /// Presigned PUT URL.
    pub url: String,
    /// Unix seconds when `url` expires.
    pub url_expires_at: u64,
    /// Headers the PUT must carry, in the order given to the client.
    pub headers: Vec<(String, String)>,
    /// ETag submitted by the client (v1 PATCH or v2.1 part_etags), without quotes.
    pub etag: Option<String>,
}

/// How the bytes reach storage.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Transfer {
    /// v1 browser form POST.
    Form {
        /// The form's action.
        url: String,
        /// The fields, in order.
        fields: Vec<(String, String)>,
    },
    /// v1 segmented or v2.1: an S3 multipart upload.
    Multipart {
        /// Storage's upload id.
        multipart_id: String,
        /// In create order.
        segments: Vec<Segment>,
    },
}

/// v2.1 whole-file facts from the create call.
#[derive(Debug, Clone, Serialize)]
pub struct FileInfo {
    /// `file_name`.
    pub file_name: String,
    /// `file_size`.
    pub file_size: u64,
    /// `content_type`.
    pub content_type: Option<String>,
    /// Whole-file hex SHA-256.
    pub sha256: String,
    /// Whole-file hex MD5, if given.
    pub md5: Option<String>,
}

/// One upload.
#[derive(Debug, Clone, Serialize)]
pub struct Upload {
    /// `uuid` (v1) / `upload_id` (v2.1).
    pub uuid: String,
    /// API that created it.
    pub api_version: ApiVersion,
    /// Company it belongs to.
    pub company_id: u64,
    /// Project, for project-level uploads.
    pub project_id: Option<u64>,
    /// The token that created it (its owner).
    #[serde(skip)]
    pub owner: String,
    /// Object key in storage.
    pub key: String,
    /// Current status.
    pub status: Status,
    /// Why verification failed.
    pub failure: Option<String>,
    /// The create request's body, as received.
    pub request: serde_json::Value,
    /// v2.1 file facts.
    pub file: Option<FileInfo>,
    /// Form or multipart.
    pub transfer: Transfer,
    /// Unix seconds of creation.
    pub created_at: u64,
    /// When it became complete (v2.1 processing starts then).
    #[serde(skip)]
    pub completed_at: Option<Instant>,
    /// Complete Upload calls it answered with success (v1 PATCH, v2.1 PATCH with every
    /// ETag): a client completes each upload once; v2.1 checkpoints (nulls) not counted.
    pub completions: u32,
}

/// One request as the sandbox received it, for tests to inspect.
#[derive(Debug, Clone, Serialize)]
pub struct LoggedRequest {
    /// `api` or `storage`.
    pub side: &'static str,
    /// HTTP method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Query string, if any.
    pub query: Option<String>,
    /// Every header, lowercase names, in arrival order.
    pub headers: Vec<(String, String)>,
    /// Status answered: 0 while unanswered and when the sandbox dropped the connection
    /// on purpose (reset, stall); 499 when the client closed it first.
    pub status: u16,
    /// What fault was injected, if any.
    pub fault: Option<String>,
    /// Milliseconds since the sandbox started, when the request arrived.
    pub received_ms: f64,
    /// Milliseconds since the sandbox started, when the answer was complete or the
    /// request ended without one; `None` while the request is open.
    pub finished_ms: Option<f64>,
    /// Finds the entry again while its request is open (storage requests are logged
    /// when they arrive and updated as they go).
    #[serde(skip)]
    pub id: u64,
}

/// A create call's first answer, given again to a request with the same
/// `Idempotency-Token`.
#[derive(Debug, Clone)]
pub struct Replay {
    /// Its status.
    pub status: u16,
    /// Its `Content-Type`, if any.
    pub content_type: Option<axum::http::HeaderValue>,
    /// Its body.
    pub body: bytes::Bytes,
}

/// Rate-limit bookkeeping for one token.
#[derive(Debug, Clone)]
struct Window {
    started: SystemTime,
    used: u32,
}

/// The rate-limit verdict for one API request.
pub struct RateVerdict {
    /// `X-Rate-Limit-Limit`.
    pub limit: u32,
    /// `X-Rate-Limit-Remaining`.
    pub remaining: u32,
    /// `X-Rate-Limit-Reset` (Unix seconds).
    pub reset: u64,
    /// Over the limit: answer 429.
    pub exceeded: bool,
}

/// Mutable state shared by every handler.
pub struct Inner {
    /// Uploads by uuid.
    pub uploads: BTreeMap<String, Upload>,
    /// Requests: storage requests in arrival order, API requests when answered.
    pub log: Vec<LoggedRequest>,
    /// Current fault settings (counters count down).
    pub faults: Faults,
    /// Resources created by attach calls, in order.
    pub records: Vec<crate::api::attach::Record>,
    /// The last id given out, for records and for Documents' folders, files and
    /// versions alike (so that no two of them share an id).
    pub next_record_id: u64,
    /// Company and project Documents: folders, files, versions.
    pub documents: crate::documents::Documents,
    /// First successful answers of create calls, by caller token, method and path, and
    /// `Idempotency-Token` (see `api::idempotent`).
    pub idempotent: BTreeMap<String, Replay>,
    /// The same keys while their first request is being answered.
    pub idempotent_in_flight: BTreeSet<String>,
    rng: StdRng,
    windows: BTreeMap<String, Window>,
    last_log_id: u64,
}

/// Everything the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// Flags.
    pub config: Arc<Config>,
    /// How the API side reaches storage.
    pub s3: S3Client,
    inner: Arc<Mutex<Inner>>,
    started: Instant,
}

impl AppState {
    /// Fresh state.
    pub fn new(config: Config, s3: S3Client) -> Self {
        let inner = Inner {
            uploads: BTreeMap::new(),
            log: Vec::new(),
            faults: config.faults.clone().unwrap_or_default(),
            records: Vec::new(),
            next_record_id: 0,
            documents: Default::default(),
            idempotent: BTreeMap::new(),
            idempotent_in_flight: BTreeSet::new(),
            rng: StdRng::seed_from_u64(config.seed),
            windows: BTreeMap::new(),
            last_log_id: 0,
        };
        Self {
            config: Arc::new(config),
            s3,
            inner: Arc::new(Mutex::new(inner)),
            started: Instant::now(),
        }
    }

    /// Milliseconds since the sandbox started (the request log's clock).
    pub fn elapsed_ms(&self) -> f64 {
        self.started.elapsed().as_secs_f64() * 1000.0
    }

    /// Locks the state (a poisoned lock still holds consistent data: every update is
    /// a single assignment or push).
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The validity of one new set of instructions (takes one from
    /// `instructions_expired_next`).
    pub fn instruction_validity(&self) -> Validity {
        self.lock()
            .instruction_validity(self.config.instruction_ttl)
    }

    /// Counts one API request against `token`'s window.
    pub fn rate_limit(&self, token: &str) -> RateVerdict {
        let (limit, window) = (
            self.config.rate_limit,
            Duration::from_secs(self.config.rate_limit_window),
        );
        let now = SystemTime::now();
        let mut inner = self.lock();
        let entry = inner.windows.entry(token.to_string()).or_insert(Window {
            started: now,
            used: 0,
        });
        if now.duration_since(entry.started).unwrap_or_default() >= window {
            *entry = Window {
                started: now,
                used: 0,
            };
        }
        entry.used = entry.used.saturating_add(1);
        let reset = unix(entry.started + window);
        if limit == 0 {
            return RateVerdict {
                limit: u32::MAX,
                remaining: u32::MAX,
                reset,
                exceeded: false,
            };
        }
        RateVerdict {
            limit,
            remaining: limit.saturating_sub(entry.used),
            reset,
            exceeded: entry.used > limit,
        }
    }
}

impl Inner {
    /// True with probability `rate`.
    pub fn chance(&mut self, rate: f64) -> bool {
        rate > 0.0 && self.rng.random::<f64>() < rate
    }

    /// One of `items` at random; `None` when there are none.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> Option<T> {
        if items.is_empty() {
            return None;
        }
        Some(items[self.rng.random_range(0..items.len())])
    }

    /// Seconds new instructions stay valid (`default_ttl`: --instruction-ttl).
    pub fn instruction_ttl(&self, default_ttl: u64) -> u64 {
        self.faults.instruction_ttl_secs.unwrap_or(default_ttl)
    }

    /// The validity of one new set of instructions: takes one from
    /// `instructions_expired_next` (`default_ttl`: --instruction-ttl).
    pub fn instruction_validity(&mut self, default_ttl: u64) -> Validity {
        Validity {
            ttl_secs: self.instruction_ttl(default_ttl),
            expired: Self::take(&mut self.faults.instructions_expired_next),
        }
    }

    /// Appends `entry` to the request log; returns its id.
    pub fn push_log(&mut self, mut entry: LoggedRequest) -> u64 {
        self.last_log_id += 1;
        entry.id = self.last_log_id;
        self.log.push(entry);
        self.last_log_id
    }

    /// The log entry `id`, unless the log was cleared since.
    pub fn log_entry(&mut self, id: u64) -> Option<&mut LoggedRequest> {
        // Open requests are recent: search from the end.
        self.log.iter_mut().rev().find(|entry| entry.id == id)
    }

    /// Whether the answer to `method path` is to be dropped: takes one from the count of
    /// the first `api_answer_dropped` rule that has one left and matches.
    pub fn take_drop(&mut self, method: &str, path: &str) -> bool {
        self.faults
            .api_answer_dropped
            .iter_mut()
            .find(|rule| rule.next > 0 && rule.matches(method, path))
            .is_some_and(|rule| Self::take(&mut rule.next))
    }

    /// Whether an `api_answer_dropped` rule, or an `api_faults` rule dropping answers,
    /// has a count left.
    pub fn drop_armed(&self) -> bool {
        self.faults
            .api_answer_dropped
            .iter()
            .any(|rule| rule.next > 0)
            || self
                .faults
                .api_faults
                .iter()
                .any(|rule| rule.next > 0 && rule.fault == AimedKind::AnswerDropped)
    }

    /// The `api_faults` rule a request with `method` and `path` takes, among those of
    /// `kinds`: the first with a count left that matches and whose chance comes up
    /// (one is taken from its count). A rule with rate 1 draws no random number, so
    /// it leaves the other random choices as they were.
    pub fn take_aimed(
        &mut self,
        method: &str,
        path: &str,
        kinds: &[AimedKind],
    ) -> Option<AimedKind> {
        for index in 0..self.faults.api_faults.len() {
            let rule = &self.faults.api_faults[index];
            if rule.next == 0 || !kinds.contains(&rule.fault) || !rule.matches(method, path) {
                continue;
            }
            let (fault, rate) = (rule.fault, rule.rate);
            if rate < 1.0 && !self.chance(rate) {
                continue;
            }
            self.faults.api_faults[index].next -= 1;
            return Some(fault);
        }
        None
    }

    /// Takes one from a "next N" fault counter; true when it was positive.
    pub fn take(counter: &mut u32) -> bool {
        if *counter > 0 {
            *counter -= 1;
            true
        } else {
            false
        }
    }
}

/// Unix seconds of `time`.
pub fn unix(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Unix seconds now.
pub fn now_unix() -> u64 {
    unix(SystemTime::now())
}

/// Now as RFC 3339 in whole seconds (`2026-11-23T10:15:00Z`), as Procore writes its
/// `created_at`.
pub fn now_rfc3339() -> String {
    let now = jiff::Timestamp::now();
    jiff::Timestamp::from_second(now.as_second())
        .unwrap_or(now)
        .to_string()
}

/// Headers as (lowercase name, value) pairs, in arrival order.
pub fn header_pairs(headers: &axum::http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect()
}
