//! Every upload as a core task ([`crate::core::task::Task`]): `upload()`,
//! `uploadAndAttach()` and `start()` are entries onto [`launch`]; `start()` hands
//! back the task as an `UploadTask` (pause, resume, cancel, state, status, done).
//! This file converts options in and outcomes out, nothing more.

use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;
use web_sys::AbortSignal;

use super::convert::{js_upload_result, state_to_js};
use super::options::{read_call, Call, Settings, START_OPTIONS};
use crate::core::engine::{self, ProgressTracker};
use crate::core::source::ByteSource;
use crate::core::state;
use crate::core::task::{state_key, Attach, Env, Failure, Finished, ResumeFrom, Task};
use crate::core::Error;
use crate::web::abort;
use crate::web::blob::BlobSource;
use crate::web::error::{failure_to_js, to_js_error};
use crate::web::hashing::Hashing;
use crate::web::http::WebHttp;
use crate::web::js::{array, deferred, json_text, object, parse_json_answer, Options, Settle};
use crate::web::timer;

/// An upload started with `client.start()`.
#[wasm_bindgen(skip_typescript)]
pub struct UploadTask {
    task: Rc<Task>,
    done: Promise,
}

#[wasm_bindgen]
impl UploadTask {
    /// Settles with the upload's result, or rejects with its error (`AbortError`
    /// once cancelled, or when the client closed).
    #[wasm_bindgen(getter)]
    pub fn done(&self) -> Promise {
        self.done.clone()
    }

    /// `running`, `paused`, `done`, `failed` or `cancelled`.
    #[wasm_bindgen(getter)]
    pub fn status(&self) -> String {
        self.task.status().summary().into()
    }

    /// The upload's state as last saved (a plain object; `null` before the first
    /// save and for uploads in one piece).
    #[wasm_bindgen(getter)]
    pub fn state(&self) -> JsValue {
        self.task
            .state()
            .and_then(|state| state_to_js(&state).ok())
            .unwrap_or(JsValue::NULL)
    }

    /// Stops sending, at once, queued or not (requests in flight are aborted; their
    /// parts go again on resume). Resolves once nothing is in flight.
    pub fn pause(&self) -> Promise {
        self.task.pause();
        self.stopped()
    }

    /// Goes on after `pause()`, sending only what is missing. Resolves to `true`
    /// once it sends again (or is done), `false` when it failed or was cancelled
    /// first (`index.js` then rejects with `done`'s error).
    pub fn resume(&self) -> Promise {
        self.task.resume();
        let task = self.task.clone();
        super::promise(async move { Ok(task.restarted().await.into()) })
    }

    /// Stops for good, at once: `done` rejects with an `AbortError` and the kept
    /// state is deleted. Resolves once nothing is in flight.
    pub fn cancel(&self) -> Promise {
        self.task.cancel();
        self.stopped()
    }
}

impl UploadTask {
    fn stopped(&self) -> Promise {
        let task = self.task.clone();
        super::promise(async move {
            task.stopped().await;
            Ok(JsValue::UNDEFINED)
        })
    }
}

/// A task launched: the task and its `done` promise.
pub(super) struct Launched {
    task: Rc<Task>,
    done: Promise,
}

impl Launched {
    /// The promise of the task's outcome.
    pub(super) fn done(self) -> Promise {
        self.done
    }
}

/// Starts a task for `source` as `call` says: checked and planned here (every bad
/// input refused before anything is sent), then driven in the background. The
/// caller's `signal` cancels it; the client's `close()` closes it (its state kept).
/// States are kept in the client's store when `keep_states`.
pub(super) fn launch(
    settings: &Rc<Settings>,
    source: BlobSource,
    call: Call,
    resume_from: ResumeFrom,
    attach: Option<Attach>,
    keep_states: bool,
) -> Result<Launched, Error> {
    let prepared = engine::prepare(&call.options, source.size())?;
    // A closed client refuses the upload here; an aborted signal cancels the task
    // before it sends anything (below), so that `done` rejects with its reason.
    settings.check_open()?;
    let identity =
        engine::file_identity(&call.options, source.last_modified(), source.picked_type());
    let progress = call.on_progress.clone();
    let tracker = ProgressTracker::new(
        call.options.file.size,
        prepared.segments_total(),
        Box::new(move |p| progress.report(p)),
        Box::new(timer::now_ms),
    );
    let has_target = attach.is_some();
    let task = Rc::new(Task::new(
        call.options,
        prepared,
        identity,
        tracker,
        resume_from,
        attach,
        timer::wall_clock_ms(),
    ));
    let cancelling = task.clone();
    let signal = call.signal;
    let cancel_on_abort = abort::on_abort(signal.as_ref(), move || cancelling.cancel())?;
    let closing = task.clone();
    let close_on_close =
        abort::on_abort(Some(&settings.closing.signal()), move || closing.close())?;
    let (done, settle) = deferred();
    let settings = settings.clone();
    let driven = task.clone();
    let workers = call.workers;
    spawn_local(async move {
        // Dropping a run's future aborts what it had in flight: no signal needed.
        let http = WebHttp::new(source.as_raw().clone(), None);
        let hasher = Hashing::choose(settings.pool.as_ref(), workers, &source, None);
        let store = if keep_states {
            settings.store.as_deref()
        } else {
            None
        };
        let env = Env {
            http: &http,
            shared: &settings.shared,
            hasher: &hasher,
            store,
            on_store_error: &|error| settings.store_failed(error),
        };
        driven
            .run(&env, |outcome| {
                settle_outcome(settle, outcome, has_target, signal.as_ref())
            })
            .await;
        drop((cancel_on_abort, close_on_close));
    });
    Ok(Launched { task, done })
}

/// Settles `done`: `upload()`'s result, `{ upload, attached }` with a target, or the
/// error (with `error.upload` when only the attach step failed; the reason of the
/// caller's `signal` as `cause` when it aborted the task).
fn settle_outcome(
    settle: Option<Settle>,
    outcome: Result<Finished, Failure>,
    has_target: bool,
    signal: Option<&AbortSignal>,
) {
    let Some(settle) = settle else { return };
    match outcome {
        Ok(finished) => {
            let upload = js_upload_result(finished.upload);
            if !has_target {
                return settle.resolve(&upload);
            }
            let attached = finished
                .attached
                .map_or(Ok(JsValue::NULL), |text| parse_json_answer(&text));
            match attached {
                Ok(attached) => {
                    settle.resolve(&object(&[("upload", &upload), ("attached", &attached)]))
                }
                Err(error) => settle.reject(&to_js_error(&error)),
            }
        }
        Err(failure) => settle.reject(&failure_to_js(
            &failure.error,
            failure.upload.map(|upload| js_upload_result(*upload)),
            signal,
        )),
    }
}

/// `options.resume`: `"auto"`, a state object, or nothing.
fn resume_option(raw: &JsValue) -> Result<ResumeFrom, Error> {
    let options = Options::new(raw, "options")?;
    match options.get("resume")? {
        None => Ok(ResumeFrom::Nothing),
        Some(value) if value.as_string().as_deref() == Some("auto") => Ok(ResumeFrom::Auto),
        Some(value) if value.is_object() => {
            let text = json_text(&value, "options.resume")?;
            let state = state::read_state(&text).ok_or_else(|| {
                Error::InvalidInput(
                    "options.resume must be \"auto\" or a state as findResumable() or task.state gave it, unchanged".into(),
                )
            })?;
            Ok(ResumeFrom::State(Box::new(state)))
        }
        Some(value) => {
            Err(options.invalid("resume", "\"auto\" or a state from findResumable()", &value))
        }
    }
}

/// `client.start(file, options)`: checks everything, then starts the task.
pub(super) fn start(
    settings: &Rc<Settings>,
    file: JsValue,
    raw: &JsValue,
) -> Result<UploadTask, Error> {
    let source = BlobSource::from_js(file)?;
    Options::new(raw, "options")?.known(START_OPTIONS)?;
    let call = read_call(settings, Some(&source), raw)?;
    let resume_from = resume_option(raw)?;
    let Launched { task, done } = launch(settings, source, call, resume_from, None, true)?;
    Ok(UploadTask { task, done })
}

/// What `findResumable` takes: the scope of the states it looks up.
const FIND_RESUMABLE_OPTIONS: &[&str] = &["projectId", "apiVersion", "filename"];

/// `client.findResumable(file, options?)`: the kept states of this file for the
/// scope `options` give (projectId, apiVersion, filename), newest first. Any other
/// option is `INVALID_INPUT`.
pub(super) async fn find_resumable(
    settings: Rc<Settings>,
    file: JsValue,
    raw: JsValue,
) -> Result<JsValue, Error> {
    let source = BlobSource::from_js(file)?;
    Options::new(&raw, "options")?.known_else(
        FIND_RESUMABLE_OPTIONS,
        "findResumable takes what identifies the scope: projectId, apiVersion, filename",
    )?;
    let call = read_call(&settings, Some(&source), &raw)?;
    let Some(store) = &settings.store else {
        return Ok(array([]));
    };
    let identity =
        engine::file_identity(&call.options, source.last_modified(), source.picked_type());
    let key = state_key(&call.options, &identity);
    let found = state::find(store.as_ref(), &key, timer::wall_clock_ms()).await?;
    let mut list = Vec::with_capacity(found.len());
    for state in &found {
        list.push(state_to_js(state)?);
    }
    Ok(array(list))
}
