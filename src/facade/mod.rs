//! The `#[wasm_bindgen]` exports. Each one reads its JS options, calls the core
//! through the web adapter, and converts the result or error out. It calls nothing
//! in js-sys or web-sys: it names `Function`, `Promise` and `AbortSignal` to pass
//! them through, and leaves every call into JS (building objects and promises,
//! aborting, calling the caller's callbacks) to [`crate::web`]. Its own means are
//! wasm-bindgen's (`JsValue`, futures as promises); results go out as plain objects
//! the web adapter builds ([`crate::web::js::object_of`]). `tests/layering.rs` checks
//! this.
//!
//! The npm package's `index.js` wraps these (lazy loading) and `index.d.ts` types
//! them, so the generated typings are skipped here.

mod client;
mod convert;
mod folders;
mod options;
mod task;

use std::future::Future;
use std::pin::Pin;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;
use web_sys::AbortSignal;

pub use client::ProcoreClient;

use crate::core::engine::{Phase, Progress, ReportGate};
use crate::core::hash::{hash_source, HashOptions};
use crate::core::Error;
use crate::web::abort;
use crate::web::blob::BlobSource;
use crate::web::error::call_error;
use crate::web::hashing::run_job;
use crate::web::js::{call_listener, number, object_of, Options};
use crate::web::timer::now_ms;

/// The promise of an export's work, its error converted to JS here, once. Every
/// export's future goes through this one `future_to_promise`, boxed: one copy of its
/// machinery in the `.wasm` rather than one per export (issue 13).
fn promise(work: impl Future<Output = Result<JsValue, Error>> + 'static) -> Promise {
    promise_for(None, work)
}

/// [`promise`] of a call the caller may stop through `signal`: an abort it caused
/// rejects with its `reason` as `cause`.
fn promise_for(
    signal: Option<AbortSignal>,
    work: impl Future<Output = Result<JsValue, Error>> + 'static,
) -> Promise {
    promise_boxed(signal, Box::pin(work))
}

/// A future as [`promise_for`] takes it, boxed by its maker.
type Work = Pin<Box<dyn Future<Output = Result<JsValue, Error>>>>;

/// [`promise_for`] of work boxed already.
fn promise_boxed(signal: Option<AbortSignal>, work: Work) -> Promise {
    future_to_promise(converted(work, signal))
}

/// The promise of an entry that checked its input synchronously: as given, or
/// rejected with why it could not start.
fn or_rejected(started: Result<Promise, Error>) -> Promise {
    match started {
        Ok(promise) => promise,
        Err(error) => promise(std::future::ready(Err(error))),
    }
}

/// The one future every export's promise runs: the boxed work, its error as JS.
async fn converted(work: Work, signal: Option<AbortSignal>) -> Result<JsValue, JsValue> {
    work.await
        .map_err(|error| call_error(&error, signal.as_ref()))
}

/// `useErrorPrototype(ProcoreUploadError.prototype)`, called by `index.js` once the
/// wasm is loaded: every error from then on is an instance of that class.
#[wasm_bindgen(js_name = useErrorPrototype, skip_typescript)]
pub fn use_error_prototype(prototype: JsValue) {
    crate::web::error::use_error_prototype(prototype);
}

/// Calls the caller's `onProgress`, if any, like a DOM event listener: an exception
/// it throws is reported and the work goes on.
#[derive(Clone, Default)]
struct ProgressCallback(Option<Function>);

impl ProgressCallback {
    fn report(&self, progress: &Progress) {
        let Some(callback) = &self.0 else { return };
        call_listener(callback, "onProgress", &progress_object(progress, &[]));
    }
}

/// A progress as JS gets it (`UploadProgress`), `extra` fields first.
fn progress_object(progress: &Progress, extra: &[(&str, Option<JsValue>)]) -> JsValue {
    let mut fields = extra.to_vec();
    fields.extend([
        ("phase", Some(progress.phase.as_str().into())),
        ("bytesHashed", Some(number(progress.bytes_hashed))),
        ("bytesUploaded", Some(number(progress.bytes_uploaded))),
        ("totalBytes", Some(number(progress.total_bytes))),
        ("segmentsDone", Some(number(progress.segments_done))),
        ("segmentsTotal", Some(number(progress.segments_total))),
        ("bytesPerSecond", progress.bytes_per_second.map(number)),
        ("etaSeconds", progress.eta_seconds.map(number)),
    ]);
    object_of(&fields)
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
        options.known(&["md5", "chunkSize", "onProgress", "signal"])?;
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
pub fn hash_file(file: JsValue, options: JsValue) -> Promise {
    let signal = abort::signal_option(&options);
    promise_for(signal, async move { hash_file_impl(file, &options).await })
}

async fn hash_file_impl(file: JsValue, options: &JsValue) -> Result<JsValue, Error> {
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
    Ok(object_of(&[
        ("size", Some(number(total_bytes))),
        ("sha256", Some(digests.sha256_hex().into())),
        ("md5", digests.md5_hex().map(JsValue::from)),
    ]))
}

/// The job a hashing worker runs (`js/hash-worker.js`): digests of the consecutive
/// byte ranges `ranges` (flat `[start, end, …]`) of `file`, and of all of them
/// together when `whole`. Resolves to `{ segments: [[sha256, md5|null]…],
/// whole: [sha256, md5|null] | null }`; `on_progress(bytes)` after every read.
#[wasm_bindgen(js_name = hashJob, skip_typescript)]
pub fn hash_job(
    file: JsValue,
    ranges: Vec<f64>,
    md5: bool,
    chunk_size: f64,
    whole: bool,
    on_progress: Function,
) -> Promise {
    promise(async move { run_job(file, &ranges, md5, chunk_size, whole, &on_progress).await })
}
