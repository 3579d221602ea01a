//! An upload as a task: one state machine for every way an upload is started
//! (`upload()`, `start()`, `uploadAndAttach()`), owned here and driven natively by the
//! scripted transport in the tests.
//!
//! queued → hashing → creating → sending → completing → processing → attaching →
//! done, or paused / failed / cancelled. `pause`, `resume`, `cancel` and `close` are
//! commands: each is taken at once, whatever the task waits for (a slot in the
//! client's queue, a token, a request), because a run is a future that the driver
//! drops when a command stops it, and dropping cancels (the web adapter aborts the
//! requests and worker jobs it owns).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::pin;

use futures_util::future::{join, select, Either, FutureExt};

use super::api::{ApiClient, IDEMPOTENCY_TOKEN};
use super::engine::{
    self, Checkpoints, Phase, Prepared, ProgressTracker, UploadOptions, UploadResult,
};
use super::hash::HashBackend;
use super::http::{Http, Tokens};
use super::json::Json;
use super::resources::attach_upload;
use super::runtime::{Shared, Wakeup};
use super::state::{self, fingerprint, FileIdentity, Store, UploadState};
use super::Error;

/// Where a task is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Waiting for its turn behind the client's other uploads.
    Queued,
    /// Reading and hashing the file.
    Hashing,
    /// Asking Procore for instructions.
    Creating,
    /// Sending bytes to storage.
    Sending,
    /// Telling Procore the bytes are there.
    Completing,
    /// v2.1: waiting until Procore has processed the upload.
    Processing,
    /// Attaching the upload to its resource.
    Attaching,
    /// Stopped by `pause()`, to go on with `resume()`.
    Paused,
    /// Uploaded (and attached).
    Done,
    /// Stopped by an error.
    Failed,
    /// Stopped by `cancel()`, an abort or the client's `close()`.
    Cancelled,
}

impl Status {
    /// The step a running task is at, from its progress phase.
    fn of_phase(phase: Phase) -> Self {
        match phase {
            Phase::Queued => Status::Queued,
            Phase::Hashing => Status::Hashing,
            Phase::Creating => Status::Creating,
            Phase::Uploading => Status::Sending,
            Phase::Completing => Status::Completing,
            Phase::Processing => Status::Processing,
            Phase::Attaching => Status::Attaching,
            Phase::Done => Status::Done,
        }
    }

    /// As `task.status` shows it: `running` (every step before done), `paused`,
    /// `done`, `failed` or `cancelled`.
    pub fn summary(self) -> &'static str {
        match self {
            Status::Paused => "paused",
            Status::Done => "done",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
            _ => "running",
        }
    }

    /// Whether the task has ended (its outcome is settled).
    pub fn is_final(self) -> bool {
        matches!(self, Status::Done | Status::Failed | Status::Cancelled)
    }
}

/// What the caller asked of the task last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    Run,
    Pause,
    /// Stop for good and forget the kept state (`cancel()`, the caller's signal).
    Cancel,
    /// Stop for good and keep the state, to go on after a reload (`close()`).
    Close,
}

/// Where a task's first run starts from.
#[derive(Debug)]
pub enum ResumeFrom {
    /// Afresh.
    Nothing,
    /// From the state the store keeps for this file, if any.
    Auto,
    /// From this state (from `findResumable`, or kept by the caller).
    State(Box<UploadState>),
}

/// The attach step that follows the upload.
#[derive(Debug, Clone)]
pub struct Attach {
    /// The target, as `uploadAndAttach` takes it (checked when the task is made).
    pub target: Json,
    /// Sent with the attach call, the same on every retry and after a pause, so
    /// that Procore creates the resource once.
    pub idempotency_token: String,
}

/// What a task ends with.
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    /// The upload.
    pub upload: UploadResult,
    /// Procore's answer to the attach call (its JSON text), when there was one.
    pub attached: Option<String>,
}

/// Why a task failed, with the finished upload when only attaching failed (so the
/// caller can attach it again without sending the bytes twice).
#[derive(Debug, Clone)]
pub struct Failure {
    /// What went wrong ([`Error::Aborted`] once cancelled or closed).
    pub error: Error,
    /// The upload, when it was done before the failure.
    pub upload: Option<Box<UploadResult>>,
}

/// A pending write of the task's state to the store; the latest replaces one not
/// yet done, so a state changed after each part never queues up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    Put,
    Delete,
}

/// The environment a task runs in: the client's transport, shared limits, the
/// file's hashing and the state store (if states are kept).
pub struct Env<'a, H, T, B, S: ?Sized> {
    /// Requests and waits.
    pub http: &'a H,
    /// The client's tokens, slots and 429 hold.
    pub shared: &'a Shared<T>,
    /// The file's hashing.
    pub hasher: &'a B,
    /// Where states are kept; `None`: not kept.
    pub store: Option<&'a S>,
    /// Told when the store fails (the upload goes on without its checkpoint).
    pub on_store_error: &'a dyn Fn(&Error),
}

/// An upload as a task. Single-threaded: commands are plain method calls that take
/// effect at the driver's next poll ([`Task::drive`]).
pub struct Task {
    options: UploadOptions,
    prepared: Prepared,
    identity: FileIdentity,
    tracker: ProgressTracker<'static>,
    attach: Option<Attach>,
    command: Cell<Command>,
    status: Cell<Status>,
    /// A run's future is alive (requests may be in flight).
    running: Cell<bool>,
    changes: Wakeup,
    /// The upload's state, held here only: runs change it in place, the store gets
    /// what is here when its write comes.
    state: RefCell<UploadState>,
    /// The state is worth showing and keeping (saved once, or given to go on from).
    kept: Cell<bool>,
    resume_from: RefCell<ResumeFrom>,
    /// The state came from outside this page: check the file before trusting it.
    verify: Cell<bool>,
    /// The upload once done (attaching may still follow).
    uploaded: RefCell<Option<UploadResult>>,
    write: Cell<Option<Write>>,
    /// The store was pruned after this task's first write.
    pruned: Cell<bool>,
    /// The driver has ended: the writer ends once its last write is done.
    ended: Cell<bool>,
}

impl Task {
    /// A task for an upload checked and planned by [`engine::prepare`]; `identity`
    /// from [`engine::file_identity`]; `now_ms` the wall clock; `tracker` reports
    /// its progress.
    pub fn new(
        options: UploadOptions,
        prepared: Prepared,
        identity: FileIdentity,
        tracker: ProgressTracker<'static>,
        resume_from: ResumeFrom,
        attach: Option<Attach>,
        now_ms: u64,
    ) -> Self {
        let state = engine::fresh_state(&options, prepared, identity.clone(), now_ms);
        Self {
            options,
            prepared,
            identity,
            tracker,
            attach,
            command: Cell::new(Command::Run),
            status: Cell::new(Status::Queued),
            running: Cell::new(false),
            changes: Wakeup::default(),
            state: RefCell::new(state),
            kept: Cell::new(false),
            resume_from: RefCell::new(resume_from),
            verify: Cell::new(false),
            uploaded: RefCell::new(None),
            write: Cell::new(None),
            pruned: Cell::new(false),
            ended: Cell::new(false),
        }
    }

    /// Where the task is.
    /// Where the task is. A command shows at once (`paused` right after `pause()`,
    /// `cancelled` after `cancel()` or `close()`), before the driver has taken it.
    pub fn status(&self) -> Status {
        let status = self.status.get();
        match self.command.get() {
            _ if status.is_final() => status,
            Command::Pause => Status::Paused,
            Command::Cancel | Command::Close => Status::Cancelled,
            Command::Run if status == Status::Queued && self.running.get() => {
                Status::of_phase(self.tracker.current().phase)
            }
            Command::Run => status,
        }
    }

    /// The state as last saved; `None` before the first save and for uploads in
    /// one piece.
    pub fn state(&self) -> Option<UploadState> {
        self.kept.get().then(|| self.state.borrow().clone())
    }

    /// The key this file's states are kept under (for this task's scope).
    pub fn key(&self) -> String {
        state_key(&self.options, &self.identity)
    }

    /// Stops sending (what is in flight is dropped: its parts go again on resume).
    /// Nothing happens once the task has ended. Await [`Task::stopped`] for the moment
    /// nothing is in flight.
    pub fn pause(&self) {
        if self.command.get() == Command::Run && !self.status.get().is_final() {
            self.command.set(Command::Pause);
            self.changes.wake_all();
        }
    }

    /// Goes on after [`Task::pause`], sending only what is missing. Await
    /// [`Task::restarted`] for the moment it sends again.
    pub fn resume(&self) {
        if self.command.get() == Command::Pause {
            self.command.set(Command::Run);
            self.changes.wake_all();
        }
    }

    /// Resolves once the task sends again: a run (the one going since the last
    /// pause) is past hashing and creating and sending its parts, or at a later
    /// step; or once the task has ended. `false` when it failed or was cancelled
    /// first. A pause before that keeps it waiting for the next resume.
    pub async fn restarted(&self) -> bool {
        let ready = || {
            self.status.get().is_final()
                || self.command.get() == Command::Run
                    && self.running.get()
                    && self.tracker.reached() >= Phase::Uploading
        };
        // A run's steps wake the tracker's waiters, commands and the end the task's.
        let steps = pin!(self.tracker.until_moved(&ready));
        select(steps, pin!(self.changes.until(&ready))).await;
        !matches!(self.status.get(), Status::Failed | Status::Cancelled)
    }

    /// Stops for good: the task fails with [`Error::Aborted`] and its kept state is
    /// deleted.
    pub fn cancel(&self) {
        self.stop_for_good(Command::Cancel);
    }

    /// Stops for good, keeping the state (to go on after a reload): the client is
    /// closing. The task fails with [`Error::Aborted`], paused or not.
    pub fn close(&self) {
        self.stop_for_good(Command::Close);
    }

    fn stop_for_good(&self, command: Command) {
        if matches!(self.command.get(), Command::Run | Command::Pause) {
            self.command.set(command);
            self.changes.wake_all();
        }
    }

    /// Resolves once no run is in flight and the last command has been taken (or
    /// was withdrawn: resumed before the pause took effect).
    pub async fn stopped(&self) {
        self.changes
            .until(&|| {
                self.status.get().is_final()
                    || !self.running.get() && self.command.get() != Command::Run
                    || self.command.get() == Command::Run && self.status.get() != Status::Paused
            })
            .await;
    }

    /// Runs the task to its end: the driver ([`Task::drive`]) and the state writer
    /// together; `settle` is called with the outcome as soon as the driver ends (the
    /// writer may still delete the state after that).
    pub fn run<'a, H: Http, T: Tokens, B: HashBackend, S: Store + ?Sized>(
        &'a self,
        env: &'a Env<'a, H, T, B, S>,
        settle: impl FnOnce(Result<Finished, Failure>) + 'a,
    ) -> impl Future<Output = ()> + 'a {
        // One instance of the run for every caller's `settle` (measured: a smaller
        // package; `start()`'s and `uploadFolder`'s tasks share it).
        self.run_settled(env, Box::new(settle))
    }

    async fn run_settled<H: Http, T: Tokens, B: HashBackend, S: Store + ?Sized>(
        &self,
        env: &Env<'_, H, T, B, S>,
        settle: Box<dyn FnOnce(Result<Finished, Failure>) + '_>,
    ) {
        let driving = async {
            let outcome = self.drive(env).await;
            self.ended.set(true);
            self.changes.wake_all();
            settle(outcome);
        };
        join(driving, self.write_states(env.store, env.on_store_error)).await;
    }

    /// The state machine: runs, stops and runs again as commanded, until the upload
    /// (and its attach step) is done, fails, or is stopped for good.
    pub async fn drive<H: Http, T: Tokens, B: HashBackend, S: Store + ?Sized>(
        &self,
        env: &Env<'_, H, T, B, S>,
    ) -> Result<Finished, Failure> {
        let outcome = loop {
            self.changes
                .until(&|| self.command.get() != Command::Pause)
                .await;
            if matches!(self.command.get(), Command::Cancel | Command::Close) {
                break Err(Error::Aborted);
            }
            self.status.set(Status::Queued);
            self.running.set(true);
            let ran = {
                let stopping = || self.command.get() != Command::Run;
                let run = pin!(self.run_once(env));
                let stop = pin!(self.changes.until(&stopping));
                match select(run, stop).await {
                    Either::Left((outcome, _)) => Some(outcome),
                    // The run is dropped here: what it had in flight stops.
                    Either::Right(((), _)) => None,
                }
            };
            self.running.set(false);
            match ran {
                Some(outcome) => break outcome,
                None => {
                    self.tracker.paused();
                    self.status.set(Status::Paused);
                    self.changes.wake_all();
                }
            }
        };
        self.tracker.flush();
        self.finish(outcome)
    }

    /// Settles the status and what is kept: a state is deleted on success and on
    /// cancel, kept on failure and on close (to go on later).
    fn finish(&self, outcome: Result<Finished, Error>) -> Result<Finished, Failure> {
        let (status, forget) = match &outcome {
            Ok(_) => (Status::Done, true),
            Err(Error::Aborted) => (Status::Cancelled, self.command.get() != Command::Close),
            Err(_) => (Status::Failed, false),
        };
        if forget && self.kept.get() {
            self.want_write(Write::Delete);
        }
        self.status.set(status);
        self.changes.wake_all();
        outcome.map_err(|error| Failure {
            error,
            upload: self.uploaded.borrow().clone().map(Box::new),
        })
    }

    /// One run: the upload from where its state is (unless done already), then the
    /// attach step.
    async fn run_once<H: Http, T: Tokens, B: HashBackend, S: Store + ?Sized>(
        &self,
        env: &Env<'_, H, T, B, S>,
    ) -> Result<Finished, Error> {
        let done = self.uploaded.borrow().clone();
        let upload = match done {
            Some(upload) => upload,
            None => {
                self.take_resume_from(env).await;
                let fresh = || {
                    engine::fresh_state(
                        &self.options,
                        self.prepared,
                        self.identity.clone(),
                        env.http.wall_clock_ms(),
                    )
                };
                let saved = |_: &UploadState| {
                    // Saved after the check (or the hashing): trusted from now on.
                    self.verify.set(false);
                    self.kept.set(true);
                    self.want_write(Write::Put);
                };
                let checkpoints = Checkpoints {
                    state: &self.state,
                    verify: self.verify.get(),
                    fresh: &fresh,
                    saved: &saved,
                };
                // Boxed: the engine's state machine stays a function of its own, not
                // inlined into the task's (measured: a smaller package).
                let upload = engine::run(
                    env.http,
                    env.shared,
                    env.hasher,
                    &self.options,
                    self.prepared,
                    &self.tracker,
                    checkpoints,
                )
                .boxed_local()
                .await?;
                *self.uploaded.borrow_mut() = Some(upload.clone());
                upload
            }
        };
        let attached = match &self.attach {
            Some(attach) => Some(self.attach_upload(env, attach, &upload).await?),
            None => None,
        };
        self.tracker.phase(Phase::Done);
        Ok(Finished { upload, attached })
    }

    /// Attaches the finished upload to its resource: Procore's answer (JSON text).
    async fn attach_upload<H: Http, T: Tokens, B: HashBackend, S: ?Sized>(
        &self,
        env: &Env<'_, H, T, B, S>,
        attach: &Attach,
        upload: &UploadResult,
    ) -> Result<String, Error> {
        self.tracker.phase(Phase::Attaching);
        let scope = &self.options.scope;
        let call = attach_upload(
            &attach.target,
            &upload.uuid,
            Some(&self.options.file.name),
            scope.company_id,
        )?;
        let api = ApiClient {
            http: env.http,
            shared: env.shared,
            base_url: &scope.base_url,
            company_id: scope.company_id,
        };
        let headers = [(
            IDEMPOTENCY_TOKEN.to_string(),
            attach.idempotency_token.clone(),
        )];
        let response = api
            .call(
                call.method,
                &api.url(&call.path),
                call.body.map(|body| body.to_string()),
                &headers,
            )
            .await?;
        Ok(response.body)
    }

    /// Takes what the first run starts from: a state given, or the one the store
    /// keeps for this file (a store that fails is reported, and the upload starts
    /// afresh).
    async fn take_resume_from<H: Http, T: Tokens, B: HashBackend, S: Store + ?Sized>(
        &self,
        env: &Env<'_, H, T, B, S>,
    ) {
        let asked = std::mem::replace(&mut *self.resume_from.borrow_mut(), ResumeFrom::Nothing);
        let found = match asked {
            ResumeFrom::Nothing => None,
            ResumeFrom::State(state) => Some(*state),
            ResumeFrom::Auto => match (env.store, self.prepared.segmented) {
                (Some(store), true) => {
                    match state::find(store, &self.key(), env.http.wall_clock_ms()).await {
                        Ok(found) => found.into_iter().next(),
                        Err(error) => {
                            (env.on_store_error)(&error);
                            None
                        }
                    }
                }
                _ => None,
            },
        };
        if let Some(mut found) = found {
            // Kept under this file's key, whatever key the given state came with.
            found.key = self.key();
            *self.state.borrow_mut() = found;
            self.kept.set(true);
            self.verify.set(true);
        }
    }

    fn want_write(&self, write: Write) {
        self.write.set(Some(write));
        self.changes.wake_all();
    }

    /// Writes the task's state to `store` as it changes, one write at a time and
    /// only the latest; ends once the driver has ended and nothing is left to write.
    async fn write_states<S: Store + ?Sized>(&self, store: Option<&S>, on_error: &dyn Fn(&Error)) {
        loop {
            self.changes
                .until(&|| self.write.get().is_some() || self.ended.get())
                .await;
            let Some(write) = self.write.take() else {
                return;
            };
            let Some(store) = store else { continue };
            let (key, text, updated_ms) = {
                let state = self.state.borrow();
                (
                    state.key.clone(),
                    state::state_text(&state),
                    state.updated_ms,
                )
            };
            let written = match write {
                Write::Put => match store.put(&key, &text).await {
                    Ok(()) if !self.pruned.replace(true) => state::prune(store, updated_ms).await,
                    other => other,
                },
                Write::Delete => store.delete(&key).await,
            };
            // The upload goes on without its checkpoint (private mode, quota).
            if let Err(error) = written {
                on_error(&error);
            }
        }
    }
}

/// The key the states of a file are kept under, for an upload as `options` say:
/// what `findResumable` looks up, the same a task of that file keeps its state under.
pub fn state_key(options: &UploadOptions, identity: &FileIdentity) -> String {
    fingerprint(&engine::state_scope(&options.scope), identity)
}
