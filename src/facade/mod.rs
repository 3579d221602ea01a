//! The `#[wasm_bindgen]` exports. Each one reads its JS options, calls the core
//! through the web adapter, and converts the result or error out. It calls nothing
//! in js-sys or web-sys: it names `Function`, `Promise` and `AbortSignal` to pass
//! them through, and leaves every call into JS (building objects and promises,
//! aborting, calling the caller's callbacks) to [`crate::web`]. Its own means are
//! wasm-bindgen's (`JsValue`, futures as promises) and serde-wasm-bindgen's (results
//! out). `tests/layering.rs` checks this.
//!
//! The npm package's `index.js` wraps these (lazy loading) and `index.d.ts` types
//! them, so the generated typings are skipped here.

mod client;
mod task;

use js_sys::Function;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

pub use client::ProcoreClient;

use crate::core::engine::{Phase, Progress, ReportGate};
use crate::core::hash::{hash_source, HashOptions};
use crate::core::Error;
use crate::web::abort;
use crate::web::blob::BlobSource;
use crate::web::error::to_js_error;
use crate::web::hashing::run_job;
use crate::web::js::{call_listener, report_callback_error, Options};
use crate::web::timer::now_ms;

/// What `hashFile` resolves to.
#[derive(Serialize)]
struct HashFileResult {
    size: u64,
    sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    md5: Option<String>,
}

/// `UploadProgress` as JS sees it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsProgress {
    phase: &'static str,
    bytes_hashed: u64,
    bytes_uploaded: u64,
    total_bytes: u64,
    segments_done: u64,
    segments_total: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    bytes_per_second: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    eta_seconds: Option<u64>,
}

/// Calls the caller's `onProgress`, if any, like a DOM event listener: an exception
/// it throws is reported and the work goes on.
#[derive(Clone, Default)]
struct ProgressCallback(Option<Function>);

impl ProgressCallback {
    fn report(&self, progress: &Progress) {
        let Some(callback) = &self.0 else { return };
        let js = JsProgress {
            phase: progress.phase.as_str(),
            bytes_hashed: progress.bytes_hashed,
            bytes_uploaded: progress.bytes_uploaded,
            total_bytes: progress.total_bytes,
            segments_done: progress.segments_done,
            segments_total: progress.segments_total,
            bytes_per_second: progress.bytes_per_second,
            eta_seconds: progress.eta_seconds,
        };
        match serde_wasm_bindgen::to_value(&js) {
            Ok(value) => call_listener(callback, "onProgress", &value),
            Err(error) => report_callback_error("onProgress", &error.into()),
        }
    }
}

/// A [`ProgressCallback`] paced by a [`ReportGate`]: what a hashing reports through,
/// since it has no tracker of its own.
struct PacedProgress<'a> {
    callback: &'a ProgressCallback,
    gate: std::cell::RefCell<ReportGate>,
}

impl<'a> PacedProgress<'a> {
    fn new(callback: &'a ProgressCallback) -> Self {
        Self {
            callback,
            gate: std::cell::RefCell::new(ReportGate::default()),
        }
    }

    /// Reports `progress` when the gate lets it through now.
    fn report(&self, progress: &Progress) {
        if self.gate.borrow_mut().admit(now_ms(), progress) {
            self.callback.report(progress);
        }
    }
}

/// `hashFile` options, read from the JS object.
struct HashFileOptions {
    hash: HashOptions,
    on_progress: ProgressCallback,
    signal: Option<AbortSignal>,
}

impl HashFileOptions {
    fn from_js(raw: &JsValue) -> Result<Self, Error> {
        let options = Options::new(raw, "options")?;
        let md5 = options.bool("md5")?.unwrap_or(true);
        let chunk_size = options.whole_number("chunkSize")?;
        Ok(Self {
            hash: HashOptions::new(md5, chunk_size)?,
            on_progress: ProgressCallback(options.function("onProgress")?),
            signal: options.instance::<AbortSignal>("signal", "an AbortSignal")?,
        })
    }
}

/// Hashes a `Blob`/`File` in slices and resolves to `{ size, sha256, md5? }` (hex).
///
/// Options: `md5` (default `true`), `chunkSize` (bytes per read), `onProgress`,
/// `signal`. Rejects with a `ProcoreUploadError` (`code` `INVALID_INPUT` or
/// `FILE_READ`) or an `AbortError`.
#[wasm_bindgen(js_name = hashFile, skip_typescript)]
pub async fn hash_file(file: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
    let result = hash_file_impl(file, &options)
        .await
        .map_err(|error| to_js_error(&error))?;
    serde_wasm_bindgen::to_value(&result).map_err(JsValue::from)
}

async fn hash_file_impl(file: JsValue, options: &JsValue) -> Result<HashFileResult, Error> {
    let source = BlobSource::from_js(file)?;
    let options = HashFileOptions::from_js(options)?;
    let total_bytes = crate::core::source::ByteSource::size(&source);
    let progress = |phase, bytes_hashed, segments_done| Progress {
        phase,
        bytes_hashed,
        bytes_uploaded: 0,
        total_bytes,
        segments_done,
        segments_total: 1,
        bytes_per_second: None,
        eta_seconds: None,
    };
    let paced = PacedProgress::new(&options.on_progress);
    let digests = hash_source(&source, options.hash, |bytes_hashed| {
        abort::check(options.signal.as_ref())?;
        paced.report(&progress(Phase::Hashing, bytes_hashed, 0));
        Ok(())
    })
    .await?;
    // An abort that lands during the last read still wins: the caller asked to stop.
    abort::check(options.signal.as_ref())?;
    options
        .on_progress
        .report(&progress(Phase::Done, total_bytes, 1));
    Ok(HashFileResult {
        size: total_bytes,
        sha256: digests.sha256_hex(),
        md5: digests.md5_hex(),
    })
}

/// The job a hashing worker runs (`js/hash-worker.js`): digests of the consecutive
/// byte ranges `ranges` (flat `[start, end, …]`) of `file`, and of all of them
/// together when `whole`. Resolves to `{ segments: [[sha256, md5|null]…],
/// whole: [sha256, md5|null] | null }`; `on_progress(bytes)` after every read.
#[wasm_bindgen(js_name = hashJob, skip_typescript)]
pub async fn hash_job(
    file: JsValue,
    ranges: Vec<f64>,
    md5: bool,
    chunk_size: f64,
    whole: bool,
    on_progress: Function,
) -> Result<JsValue, JsValue> {
    run_job(file, &ranges, md5, chunk_size, whole, &on_progress)
        .await
        .map_err(|error| to_js_error(&error))
}
