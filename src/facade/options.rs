//! Options in: the client's settings and each call's options, read from JS and
//! checked (every bad one is `INVALID_INPUT` before anything is sent).

use std::rc::Rc;

use js_sys::Function;
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

use super::ProgressCallback;
use crate::core::engine::{UploadOptions, DEFAULT_PROCESSING_TIMEOUT_MS, MAX_CONCURRENCY};
use crate::core::hash::checked_chunk_size;
use crate::core::options::{checked_base_url, checked_duration};
use crate::core::plan::{ApiVersion, Segmented};
use crate::core::protocol::{FileMeta, Scope};
use crate::core::runtime::{Limits, Shared};
use crate::core::source::ByteSource;
use crate::core::workers::DEFAULT_WORKERS;
use crate::core::Error;
use crate::web::abort;
use crate::web::blob::BlobSource;
use crate::web::error::to_js_error;
use crate::web::hashing::MAX_WORKERS;
use crate::web::js::{call_listener, report_callback_error, Options};
use crate::web::store::WebStore;
use crate::web::tokens::JsTokens;
use crate::web::workers::{WorkerPool, WorkerRuntime};

/// Hashing workers end after this long without work, by default.
const DEFAULT_WORKER_IDLE_MS: u64 = 10_000;

/// Most uploads a client may send at once.
const MAX_ACTIVE_UPLOADS: u64 = 64;

/// The client's settings and the runtime all its calls share.
pub(super) struct Settings {
    pub(super) company_id: u64,
    pub(super) base_url: String,
    pub(super) version: ApiVersion,
    pub(super) allow_insecure_storage: bool,
    /// Tokens, the 429 hold, and the slots for storage requests, uploads and hashing.
    pub(super) shared: Shared<JsTokens>,
    /// The client's hashing workers; `None` where Workers do not exist.
    pub(super) pool: Option<WorkerPool>,
    /// Workers a hashing uses unless it says.
    pub(super) default_workers: usize,
    /// Aborted by `close()`: stops every call in progress.
    pub(super) closing: abort::Controller,
    /// Where `start()` keeps upload states; `None`: not kept.
    pub(super) store: Option<Rc<WebStore>>,
    /// `onStoreError`: told of each failed save, delete or look-up of a task's
    /// state; `None`: the console is.
    on_store_error: Option<Function>,
}

/// The keys of `new ProcoreClient(options)` (`workerUrl` is `index.js`'s).
const CLIENT_OPTIONS: &[&str] = &[
    "companyId",
    "accessToken",
    "getAccessToken",
    "baseUrl",
    "allowInsecureBaseUrl",
    "apiVersion",
    "allowInsecureStorage",
    "concurrency",
    "maxActiveUploads",
    "stallTimeoutMs",
    "workers",
    "workerIdleMs",
    "workerUrl",
    "store",
    "onStoreError",
];

/// The keys of `start()` options: `upload()`'s, then `resume`.
pub(super) const START_OPTIONS: &[&str] = &[
    "projectId",
    "apiVersion",
    "segmented",
    "segmentSize",
    "md5",
    "concurrency",
    "workers",
    "filename",
    "contentType",
    "attachmentContentDisposition",
    "onProgress",
    "signal",
    "processingTimeoutMs",
    "chunkSize",
    "resume",
];

/// The keys of `upload()` and `uploadAndAttach()` options: `start()`'s but `resume`.
pub(super) const UPLOAD_OPTIONS: &[&str] = START_OPTIONS.split_at(START_OPTIONS.len() - 1).0;

impl Settings {
    /// What stops a call: its own `signal` or the client's `close()`. A closed
    /// client refuses the call; an aborted signal aborts it.
    pub(super) fn watch(&self, signal: Option<&AbortSignal>) -> Result<abort::Either, Error> {
        self.check_open()?;
        abort::check(signal)?;
        abort::Either::new(signal, &self.closing.signal())
    }

    /// A closed client refuses every call.
    pub(super) fn check_open(&self) -> Result<(), Error> {
        if self.closing.is_aborted() {
            return Err(Error::InvalidInput("this ProcoreClient was closed".into()));
        }
        Ok(())
    }

    /// A task's store failed (the upload goes on without that checkpoint): told to
    /// `onStoreError`, or else on the console.
    pub(super) fn store_failed(&self, error: &Error) {
        let error = to_js_error(error);
        match &self.on_store_error {
            Some(callback) => call_listener(callback, "onStoreError", &error),
            None => report_callback_error("the state store", &error),
        }
    }

    pub(super) fn from_js(raw: &JsValue, runtime: &JsValue) -> Result<Self, Error> {
        if raw.is_undefined() || raw.is_null() {
            return Err(Error::InvalidInput(
                "ProcoreClient needs options: { companyId, accessToken }".into(),
            ));
        }
        let options = Options::new(raw, "options")?;
        options.known(CLIENT_OPTIONS)?;
        let company_id = options
            .positive_id("companyId")?
            .ok_or_else(|| Error::InvalidInput("options.companyId is required".into()))?;
        let tokens = match (options.string("accessToken")?, options.function("getAccessToken")?) {
            (Some(token), None) if !token.is_empty() => JsTokens::Fixed(token),
            (None, Some(provider)) => JsTokens::Provider(provider),
            (Some(_), Some(_)) => {
                return Err(Error::InvalidInput(
                    "pass one of options.accessToken and options.getAccessToken, not both".into(),
                ))
            }
            _ => {
                return Err(Error::InvalidInput(
                    "options.accessToken (a non-empty string) or options.getAccessToken (a function) is required".into(),
                ))
            }
        };
        let base_url = options
            .string("baseUrl")?
            .unwrap_or_else(|| "https://api.procore.com".into());
        checked_base_url(
            &base_url,
            options.bool("allowInsecureBaseUrl")?.unwrap_or(false),
        )?;
        let version = match options.string("apiVersion")? {
            Some(text) => ApiVersion::parse(&text)?,
            None => ApiVersion::V11,
        };
        let limits = Limits {
            concurrency: bounded(&options, "concurrency", 1, MAX_CONCURRENCY as u64)?
                .unwrap_or(Limits::default().concurrency),
            max_active_uploads: bounded(&options, "maxActiveUploads", 1, MAX_ACTIVE_UPLOADS)?
                .unwrap_or(Limits::default().max_active_uploads),
            stall_timeout_ms: duration(&options, "stallTimeoutMs")?
                .unwrap_or(Limits::default().stall_timeout_ms),
        };
        let default_workers =
            bounded(&options, "workers", 0, MAX_WORKERS)?.unwrap_or(DEFAULT_WORKERS);
        let idle_ms = duration(&options, "workerIdleMs")?.unwrap_or(DEFAULT_WORKER_IDLE_MS);
        let store = match options.get("store")? {
            None => WebStore::indexed_db().map(Rc::new),
            Some(value) if value.as_bool() == Some(false) || value.is_null() => None,
            Some(value) => Some(Rc::new(WebStore::custom(&value)?)),
        };
        let pool = worker_runtime(runtime)?
            .map(|runtime| WorkerPool::new(runtime, default_workers.max(1), idle_ms));
        Ok(Self {
            company_id,
            base_url,
            version,
            allow_insecure_storage: options.bool("allowInsecureStorage")?.unwrap_or(false),
            shared: Shared::new(tokens, limits),
            pool,
            default_workers,
            store,
            on_store_error: options.function("onStoreError")?,
            closing: abort::Controller::new()?,
        })
    }
}

/// `options[name]` as a whole number in `min..=max`, if given.
fn bounded(options: &Options<'_>, name: &str, min: u64, max: u64) -> Result<Option<usize>, Error> {
    match options.whole_number(name)? {
        None => Ok(None),
        Some(n) if (min..=max).contains(&n) => Ok(usize::try_from(n).ok()),
        Some(n) => Err(Error::InvalidInput(format!(
            "options.{name} must be a whole number from {min} to {max}, got {n}"
        ))),
    }
}

/// `options[name]` as milliseconds a browser timer can hold, if given.
fn duration(options: &Options<'_>, name: &str) -> Result<Option<u64>, Error> {
    checked_duration(name, options.whole_number(name)?)
}

/// `{ createWorker, module }` from `index.js`, or `None`.
fn worker_runtime(raw: &JsValue) -> Result<Option<WorkerRuntime>, Error> {
    if raw.is_undefined() || raw.is_null() {
        return Ok(None);
    }
    let runtime = Options::new(raw, "runtime")?;
    let (Some(create_worker), Some(module)) =
        (runtime.function("createWorker")?, runtime.get("module")?)
    else {
        return Ok(None);
    };
    Ok(Some(WorkerRuntime {
        create_worker,
        module,
    }))
}

/// Hashing workers asked for: `workers` (0 = on the calling thread), else one per
/// core up to 4; none where Workers do not exist.
pub(super) fn worker_count(settings: &Settings, options: &Options<'_>) -> Result<usize, Error> {
    let asked = options.whole_number("workers")?;
    let asked = match asked.map(usize::try_from) {
        Some(Ok(n)) if n as u64 <= MAX_WORKERS => Some(n),
        None => None,
        Some(_) => {
            return Err(Error::InvalidInput(format!(
                "options.workers must be at most {MAX_WORKERS}"
            )))
        }
    };
    Ok(match (&settings.pool, asked) {
        (None, _) => 0,
        (Some(_), Some(n)) => n,
        (Some(_), None) => settings.default_workers,
    })
}

/// `upload()` options besides the file.
pub(super) struct Call {
    pub(super) options: UploadOptions,
    pub(super) workers: usize,
    pub(super) on_progress: ProgressCallback,
    pub(super) signal: Option<AbortSignal>,
}

/// `upload()` options for `source`; without one (`uploadFolder`, whose files each
/// bring their own), the file's name, size and type are left empty.
pub(super) fn read_call(
    settings: &Settings,
    source: Option<&BlobSource>,
    raw: &JsValue,
) -> Result<Call, Error> {
    let options = Options::new(raw, "options")?;
    let project_id = options.positive_id("projectId")?;
    let segmented = match options.get("segmented")? {
        None => Segmented::Auto,
        Some(value) if value.as_bool() == Some(true) => Segmented::Yes,
        Some(value) if value.as_bool() == Some(false) => Segmented::No,
        Some(value) if value.as_string().as_deref() == Some("auto") => Segmented::Auto,
        Some(value) => return Err(options.invalid("segmented", "true, false or \"auto\"", &value)),
    };
    let concurrency = options
        .whole_number("concurrency")?
        .unwrap_or(settings.shared.limits.concurrency as u64);
    let workers = worker_count(settings, &options)?;
    let md5 = options.bool("md5")?;
    let chunk_size = checked_chunk_size(options.whole_number("chunkSize")?)?;
    let name = match options.string("filename")? {
        Some(name) => name,
        None => source.map(BlobSource::name).unwrap_or_default(),
    };
    let content_type = match options.string("contentType")? {
        Some(content_type) => Some(content_type),
        None => source.and_then(BlobSource::content_type),
    };
    Ok(Call {
        options: UploadOptions {
            scope: Scope {
                base_url: settings.base_url.clone(),
                version: match options.string("apiVersion")? {
                    Some(text) => ApiVersion::parse(&text)?,
                    None => settings.version,
                },
                company_id: settings.company_id,
                project_id,
            },
            file: FileMeta {
                name,
                size: source.map_or(0, ByteSource::size),
                content_type,
                attachment: options.bool("attachmentContentDisposition")?,
            },
            segmented,
            segment_size: options.whole_number("segmentSize")?,
            md5,
            concurrency: usize::try_from(concurrency).unwrap_or(usize::MAX),
            allow_insecure_storage: settings.allow_insecure_storage,
            processing_timeout_ms: duration(&options, "processingTimeoutMs")?
                .unwrap_or(DEFAULT_PROCESSING_TIMEOUT_MS),
            chunk_size,
        },
        workers,
        on_progress: ProgressCallback(options.function("onProgress")?),
        signal: options.instance::<AbortSignal>("signal", "an AbortSignal")?,
    })
}
