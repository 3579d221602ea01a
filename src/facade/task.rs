//! `client.start(file, options)`: an upload as a handle that can be paused, resumed
//! and cancelled, whose state is kept in the client's store so that it can go on
//! after a reload; and `client.findResumable(file)`.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;

use super::client::{js_upload_result, read_call, Call, Settings};
use crate::core::engine::{self, Checkpoints, Prepared, ProgressTracker};
use crate::core::state::{self, fingerprint, FileIdentity, Store, UploadState};
use crate::core::Error;
use crate::web::abort;
use crate::web::blob::BlobSource;
use crate::web::error::to_js_error;
use crate::web::hashing::Hashing;
use crate::web::http::WebHttp;
use crate::web::js::{
    array, deferred, from_json, json_text, report_callback_error, resolved, Options, Settle,
};
use crate::web::store::WebStore;
use crate::web::timer;

/// Where a task is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Running,
    Paused,
    Done,
    Failed,
    Cancelled,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Done => "done",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
        }
    }
}

/// What `resume` asked for.
enum ResumeFrom {
    Nothing,
    /// Look the file up in the store.
    Auto,
    /// This state (from `findResumable`, or kept by the caller).
    State(Box<UploadState>),
}

/// A write to the store, the latest replacing one not yet done.
enum Write {
    Put(Box<UploadState>),
    Delete(String),
}

/// Writes states to the store one at a time, in order, keeping only the latest
/// pending one: a state saved after each part never queues up.
struct Writer {
    store: Rc<WebStore>,
    next: RefCell<Option<Write>>,
    busy: Cell<bool>,
    /// The store was pruned after this upload's first write.
    pruned: Cell<bool>,
}

impl Writer {
    fn write(self: &Rc<Self>, write: Write) {
        *self.next.borrow_mut() = Some(write);
        if self.busy.replace(true) {
            return;
        }
        let writer = self.clone();
        spawn_local(async move {
            loop {
                let Some(write) = writer.next.borrow_mut().take() else {
                    break;
                };
                let store = writer.store.as_ref();
                let written = match write {
                    Write::Put(state) if !writer.pruned.replace(true) => {
                        match state::save(store, &state).await {
                            Ok(()) => state::prune(store, state.updated_ms).await,
                            error => error,
                        }
                    }
                    Write::Put(state) => state::save(store, &state).await,
                    Write::Delete(key) => store.delete(&key).await,
                };
                // The upload goes on without its checkpoint (private mode, quota).
                if let Err(error) = written {
                    report_callback_error("the state store", &to_js_error(&error));
                }
            }
            writer.busy.set(false);
        });
    }
}

struct TaskInner {
    settings: Rc<Settings>,
    source: BlobSource,
    call: Call,
    prepared: Prepared,
    tracker: ProgressTracker<'static>,
    state: RefCell<Option<UploadState>>,
    resume_from: RefCell<ResumeFrom>,
    /// The state came from outside this page: check the file before trusting it.
    verify: Cell<bool>,
    status: Cell<Status>,
    /// Aborts the current run.
    run: RefCell<Option<abort::Controller>>,
    /// Resolved once the current run has stopped (`pause()` and `cancel()` wait).
    on_stop: RefCell<Vec<Settle>>,
    writer: Option<Rc<Writer>>,
    done: Promise,
    settle: RefCell<Option<Settle>>,
    /// Aborts when the caller's signal or the client's `close()` does.
    watch: abort::Either,
    _watching: RefCell<Option<abort::Listener>>,
}

/// An upload started with `client.start()`.
#[wasm_bindgen(skip_typescript)]
pub struct UploadTask {
    inner: Rc<TaskInner>,
}

#[wasm_bindgen]
impl UploadTask {
    /// Settles with the upload's result, or rejects with its error (`AbortError`
    /// once cancelled).
    #[wasm_bindgen(getter)]
    pub fn done(&self) -> Promise {
        self.inner.done.clone()
    }

    /// `running`, `paused`, `done`, `failed` or `cancelled`.
    #[wasm_bindgen(getter)]
    pub fn status(&self) -> String {
        self.inner.status.get().as_str().into()
    }

    /// The upload's state as last saved (a plain object; `null` before the first
    /// save and for uploads in one piece).
    #[wasm_bindgen(getter)]
    pub fn state(&self) -> JsValue {
        self.inner
            .state
            .borrow()
            .as_ref()
            .and_then(|state| state_to_js(state).ok())
            .unwrap_or(JsValue::NULL)
    }

    /// Stops sending (requests in flight are aborted; their parts go again on
    /// resume). Resolves once nothing is in flight.
    pub fn pause(&self) -> Promise {
        let inner = &self.inner;
        if inner.status.get() == Status::Running {
            inner.status.set(Status::Paused);
        }
        inner.stop()
    }

    /// Goes on after `pause()`, sending only what is missing.
    pub fn resume(&self) {
        let inner = &self.inner;
        if inner.status.get() == Status::Paused && inner.run.borrow().is_none() {
            inner.status.set(Status::Running);
            TaskInner::spawn_run(inner.clone());
        } else if inner.status.get() == Status::Paused {
            // Paused while the run is still stopping: it goes on once stopped.
            inner.status.set(Status::Running);
        }
    }

    /// Stops for good: `done` rejects with an `AbortError` and the kept state is
    /// deleted. Resolves once nothing is in flight.
    pub fn cancel(&self) -> Promise {
        let inner = &self.inner;
        match inner.status.get() {
            Status::Running => {
                inner.status.set(Status::Cancelled);
                inner.stop()
            }
            Status::Paused => {
                inner.status.set(Status::Cancelled);
                let stopped = inner.stop();
                if inner.run.borrow().is_none() {
                    inner.finish(Err(Error::Aborted));
                }
                stopped
            }
            _ => resolved(),
        }
    }
}

impl TaskInner {
    /// Aborts the current run; resolves once it has stopped.
    fn stop(&self) -> Promise {
        let Some(run) = self.run.borrow().clone() else {
            return resolved();
        };
        let (promise, settle) = deferred();
        if let Some(settle) = settle {
            self.on_stop.borrow_mut().push(settle);
        }
        run.abort();
        promise
    }

    fn spawn_run(inner: Rc<Self>) {
        let Ok(controller) = abort::Controller::new() else {
            inner.status.set(Status::Failed);
            inner.finish(Err(Error::Protocol(
                "could not make an AbortController".into(),
            )));
            return;
        };
        *inner.run.borrow_mut() = Some(controller.clone());
        spawn_local(async move {
            let outcome = inner.run_once(&controller).await;
            inner.run.borrow_mut().take();
            let status = inner.status.get();
            match outcome {
                Err(Error::Aborted) if status == Status::Paused => inner.tracker.paused(),
                // Resumed while it was stopping.
                Err(Error::Aborted) if status == Status::Running && !inner.watch.is_aborted() => {
                    inner.tracker.paused();
                    Self::spawn_run(inner.clone());
                }
                outcome => {
                    // A failure's last progress may have been held back.
                    inner.tracker.flush();
                    inner.finish(outcome);
                }
            }
            for stopped in inner.on_stop.borrow_mut().drain(..) {
                stopped.resolve(&JsValue::UNDEFINED);
            }
        });
    }

    async fn run_once(
        &self,
        controller: &abort::Controller,
    ) -> Result<engine::UploadResult, Error> {
        let either = abort::Either::new(Some(&self.watch.signal()), &controller.signal())?;
        let signal = Some(either.signal());
        abort::check(signal.as_ref())?;
        let asked = std::mem::replace(&mut *self.resume_from.borrow_mut(), ResumeFrom::Nothing);
        match asked {
            ResumeFrom::Nothing => {}
            ResumeFrom::State(state) => {
                *self.state.borrow_mut() = Some(*state);
                self.verify.set(true);
            }
            ResumeFrom::Auto => {
                if let (Some(store), true) = (&self.settings.store, self.prepared.segmented) {
                    let key = self.fingerprint();
                    match state::find(store.as_ref(), &key, timer::wall_clock_ms()).await {
                        Ok(found) => {
                            if let Some(state) = found.into_iter().next() {
                                *self.state.borrow_mut() = Some(state);
                                self.verify.set(true);
                            }
                        }
                        Err(error) => {
                            report_callback_error("the state store", &to_js_error(&error));
                        }
                    }
                }
            }
        }
        let http = WebHttp::new(self.source.as_raw().clone(), signal.clone());
        let hasher = Hashing::choose(
            self.settings.pool.as_ref(),
            self.call.workers,
            &self.source,
            signal.clone(),
        );
        let save = |state: &UploadState| {
            // Saved after the check (or the hashing): trusted from now on.
            self.verify.set(false);
            *self.state.borrow_mut() = Some(state.clone());
            if let Some(writer) = &self.writer {
                writer.write(Write::Put(Box::new(state.clone())));
            }
        };
        let state = self.state.borrow().clone();
        engine::run(
            &http,
            &self.settings.shared,
            &hasher,
            &self.call.options,
            self.prepared,
            &self.tracker,
            Checkpoints {
                state,
                verify: self.verify.get(),
                identity: Some(self.identity()),
                save: &save,
            },
        )
        .await
    }

    /// The file as its fingerprint takes it.
    fn identity(&self) -> FileIdentity {
        identity(&self.source, &self.call.options.file.name)
    }

    /// The store key of this file and scope: the key of every state it saves.
    fn fingerprint(&self) -> String {
        fingerprint(
            &engine::state_scope(&self.call.options.scope),
            &self.identity(),
        )
    }

    /// Settles `done` once; a state is deleted on success and on cancel, kept on
    /// failure and when the client closed (to go on later).
    fn finish(&self, outcome: Result<engine::UploadResult, Error>) {
        let Some(settle) = self.settle.borrow_mut().take() else {
            return;
        };
        self._watching.borrow_mut().take();
        let closed = self.settings.closing.is_aborted();
        let forget = match &outcome {
            Ok(_) => true,
            Err(Error::Aborted) => !closed,
            Err(_) => false,
        };
        if forget {
            if let (Some(writer), Some(state)) = (&self.writer, self.state.borrow().as_ref()) {
                writer.write(Write::Delete(state.key.clone()));
            }
        }
        match outcome {
            Ok(result) => {
                self.status.set(Status::Done);
                settle.resolve(&js_upload_result(result));
            }
            Err(error) => {
                self.status.set(if matches!(error, Error::Aborted) {
                    Status::Cancelled
                } else {
                    Status::Failed
                });
                settle.reject(&to_js_error(&error));
            }
        }
    }
}

/// The file's identity as a fingerprint takes it (`name` as the upload names it).
fn identity(source: &BlobSource, name: &str) -> FileIdentity {
    FileIdentity {
        name: name.into(),
        size: crate::core::source::ByteSource::size(source),
        last_modified: source.last_modified(),
        content_type: source.picked_type(),
    }
}

/// The state as a plain object, through its JSON text (one serializer for the store
/// and for JS keeps the package small).
fn state_to_js(state: &UploadState) -> Result<JsValue, Error> {
    from_json(&state::state_text(state))
        .ok_or_else(|| Error::Protocol("the state could not be handed to JS".into()))
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
                    "options.resume must be \"auto\" or a state from findResumable(): a field is missing or of the wrong type".into(),
                )
            })?;
            Ok(ResumeFrom::State(Box::new(state)))
        }
        Some(value) => {
            Err(options.invalid("resume", "\"auto\" or a state from findResumable()", &value))
        }
    }
}

/// `client.start(file, options)`: checks everything, then starts the first run.
pub(super) fn start(
    settings: &Rc<Settings>,
    file: JsValue,
    raw: &JsValue,
) -> Result<UploadTask, Error> {
    let source = BlobSource::from_js(file)?;
    let call = read_call(settings, &source, raw)?;
    let resume_from = resume_option(raw)?;
    let prepared = engine::prepare(
        &call.options,
        crate::core::source::ByteSource::size(&source),
    )?;
    let watch = settings.watch(call.signal.as_ref())?;
    let (done, settle) = deferred();
    let progress = call.on_progress.clone();
    let tracker = ProgressTracker::new(
        call.options.file.size,
        prepared.segments_total(),
        Box::new(move |p| progress.report(p)),
        Box::new(timer::now_ms),
    );
    let inner = Rc::new(TaskInner {
        writer: settings.store.clone().map(|store| {
            Rc::new(Writer {
                store,
                next: RefCell::new(None),
                busy: Cell::new(false),
                pruned: Cell::new(false),
            })
        }),
        settings: settings.clone(),
        source,
        call,
        prepared,
        tracker,
        state: RefCell::new(None),
        resume_from: RefCell::new(resume_from),
        verify: Cell::new(false),
        status: Cell::new(Status::Running),
        run: RefCell::new(None),
        on_stop: RefCell::new(Vec::new()),
        done,
        settle: RefCell::new(settle),
        watch,
        _watching: RefCell::new(None),
    });
    // The caller's signal or close() while paused: nothing runs to see it.
    let weak: Weak<TaskInner> = Rc::downgrade(&inner);
    let listener = abort::on_abort(Some(&inner.watch.signal()), move || {
        if let Some(inner) = weak.upgrade() {
            if inner.status.get() == Status::Paused && inner.run.borrow().is_none() {
                inner.finish(Err(Error::Aborted));
            }
        }
    })?;
    *inner._watching.borrow_mut() = listener;
    TaskInner::spawn_run(inner.clone());
    Ok(UploadTask { inner })
}

/// `client.findResumable(file, options?)`: the kept states of this file for the
/// scope `options` give (projectId, apiVersion, filename), newest first.
pub(super) async fn find_resumable(
    settings: Rc<Settings>,
    file: JsValue,
    raw: JsValue,
) -> Result<JsValue, Error> {
    let source = BlobSource::from_js(file)?;
    let call = read_call(&settings, &source, &raw)?;
    let Some(store) = &settings.store else {
        return Ok(array([]));
    };
    let key = fingerprint(
        &engine::state_scope(&call.options.scope),
        &identity(&source, &call.options.file.name),
    );
    let found = state::find(store.as_ref(), &key, timer::wall_clock_ms()).await?;
    let list = found
        .iter()
        .map(state_to_js)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(array(list))
}
