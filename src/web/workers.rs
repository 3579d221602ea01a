//! Hashing in Web Workers, the main thread's side. A client keeps one pool of
//! workers: started on first need, shared by all its hashing, ended after an idle
//! time and by `close()`. Each worker instantiates the already-compiled wasm module
//! and reads its own slices of the `File` (the main thread copies no bytes). Every
//! message a worker sends is checked before it is believed; a worker that crashes
//! is replaced and its job run once more. Where no worker of the pool ever starts
//! (a browser without module workers, a worker script that does not load), the pool
//! gives up on workers for good and its hashing runs on the calling thread
//! ([`crate::core::workers::after_worker_failure`] tells the two apart).
//!
//! Protocol (see `js/hash-worker.js`):
//! - main → worker `{type:"init", module}`, then `{type:"job", id, file, ranges, md5, chunkSize, whole}`
//!   (`ranges`: flat `[start, end, start, end, …]`);
//! - worker → main `{type:"ready"}` once it has the wasm instantiated, then
//!   `{type:"progress", id, bytes}`, `{type:"done", id, segments:[[sha256, md5|null]…],
//!   whole:[sha256, md5|null]|null}` or `{type:"error", id, code, message, cause?}`.
//!
//! Segments are hashed in parallel. The whole-file digest of v2.1 is sequential by
//! nature: with two or more workers, one worker streams the whole file while the
//! others share the segments, so it does not serialise them.

use std::cell::RefCell;
use std::ops::Range;
use std::pin::pin;
use std::rc::{Rc, Weak};

use futures_channel::mpsc;
use futures_util::future::{select, Either};
use futures_util::StreamExt;
use js_sys::{Array, Function, Object};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{AbortSignal, Blob, MessageEvent, Worker};

use super::abort::{self, AbortWatch};
use super::blob::BlobSource;
use super::error::{js_cause, worker_error};
use super::hashing::hash_on_calling_thread;
use super::js::{describe_error, get_property as get, number, set_property as set, whole_number};
use crate::core::hash::{Digests, HashBackend, HashOptions};
use crate::core::source::ByteSource;
use crate::core::workers::{after_worker_failure, AfterFailure};
use crate::core::Error;

/// How to start hashing workers: a function returning a new module `Worker`, and the
/// compiled `WebAssembly.Module` to give each.
#[derive(Clone, Debug)]
pub struct WorkerRuntime {
    /// `() => new Worker(new URL("./hash-worker.js", import.meta.url), { type: "module" })`.
    pub create_worker: Function,
    /// The compiled module.
    pub module: JsValue,
}

/// What the pool tells a job's owner.
enum Reply {
    /// A message the worker sent about this job (progress, done, error).
    Message(JsValue),
    /// The job cannot finish: its worker crashed twice, could not start, or the
    /// pool was closed.
    Failed(Error),
    /// The pool's workers cannot start on this page: hash on the calling thread.
    CallingThread,
}

/// A job's owner: replies go to `to`, tagged with the owner's own job number.
struct Owner {
    to: mpsc::UnboundedSender<(usize, Reply)>,
    tag: usize,
}

struct PoolJob {
    message: Object,
    owner: Owner,
    /// Run once more already after a crash.
    rerun: bool,
}

struct Pooled {
    key: u64,
    worker: Worker,
    /// The job it runs.
    job: Option<u64>,
    _handlers: [Closure<dyn FnMut(JsValue)>; 2],
}

thread_local! {
    /// The error handler of an ended worker: its error was handled already (or no
    /// longer matters), so it must not surface as an uncaught error of the page.
    static SWALLOW_ERROR: Closure<dyn FnMut(web_sys::Event)> =
        Closure::new(|event: web_sys::Event| event.prevent_default());
}

impl Pooled {
    fn end(&self) {
        // Unhook first: an event already queued must not reach a dropped closure.
        self.worker.set_onmessage(None);
        SWALLOW_ERROR.with(|swallow| {
            self.worker
                .set_onerror(Some(swallow.as_ref().unchecked_ref()))
        });
        self.worker.set_onmessageerror(None);
        self.worker.terminate();
    }
}

/// The pool's jobs by id: a handful at a time, so a list rather than a map, whose
/// code the package would carry (issue 13).
#[derive(Default)]
struct Jobs(Vec<(u64, PoolJob)>);

impl Jobs {
    fn insert(&mut self, id: u64, job: PoolJob) {
        self.0.push((id, job));
    }

    fn position(&self, id: &u64) -> Option<usize> {
        self.0.iter().position(|(key, _)| key == id)
    }

    fn get(&self, id: &u64) -> Option<&PoolJob> {
        self.0.get(self.position(id)?).map(|(_, job)| job)
    }

    fn get_mut(&mut self, id: &u64) -> Option<&mut PoolJob> {
        let index = self.position(id)?;
        self.0.get_mut(index).map(|(_, job)| job)
    }

    fn remove(&mut self, id: &u64) -> Option<PoolJob> {
        let index = self.position(id)?;
        Some(self.0.remove(index).1)
    }

    /// Every job, oldest first.
    fn into_values(self) -> impl Iterator<Item = PoolJob> {
        self.0.into_iter().map(|(_, job)| job)
    }
}

#[derive(Default)]
struct PoolState {
    /// Workers it may run at once.
    size: usize,
    workers: Vec<Pooled>,
    /// Jobs waiting for a worker, first in line first (a list: a few at a time).
    queue: Vec<u64>,
    jobs: Jobs,
    next_job: u64,
    next_worker: u64,
    /// A worker has reported ready (or answered a job): workers run on this page.
    proven: bool,
    /// No worker could start here: the pool starts none any more.
    gave_up: bool,
    /// The idle timer, while no job runs or waits.
    idle: Option<(JsValue, Closure<dyn FnMut()>)>,
    /// The timer's closure after it fired: dropped later, never from inside itself.
    fired: Option<Closure<dyn FnMut()>>,
    closed: bool,
}

struct PoolInner {
    runtime: WorkerRuntime,
    idle_ms: u64,
    state: RefCell<PoolState>,
}

/// A client's hashing workers.
#[derive(Clone)]
pub struct WorkerPool {
    inner: Rc<PoolInner>,
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, millis: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
}

impl WorkerPool {
    /// A pool of up to `size` workers started by `runtime`, ended after `idle_ms`
    /// without work.
    pub fn new(runtime: WorkerRuntime, size: usize, idle_ms: u64) -> Self {
        Self {
            inner: Rc::new(PoolInner {
                runtime,
                idle_ms,
                state: RefCell::new(PoolState {
                    size: size.max(1),
                    ..PoolState::default()
                }),
            }),
        }
    }

    /// Lets the pool run up to `size` workers (it never shrinks).
    pub fn grow_to(&self, size: usize) {
        let mut state = self.inner.state.borrow_mut();
        state.size = state.size.max(size);
    }

    /// Ends every worker; jobs waiting or running fail with [`Error::Aborted`], and
    /// later jobs are refused.
    pub fn close(&self) {
        let jobs = {
            let mut state = self.inner.state.borrow_mut();
            state.closed = true;
            for pooled in state.workers.drain(..) {
                pooled.end();
            }
            state.queue.clear();
            disarm(&mut state);
            std::mem::take(&mut state.jobs)
        };
        for job in jobs.into_values() {
            let _ = job
                .owner
                .to
                .unbounded_send((job.owner.tag, Reply::Failed(Error::Aborted)));
        }
    }

    /// Queues `message` (a job without its id); the replies go to `to` tagged `tag`.
    /// Dropping the ticket cancels the job (ending its worker if it runs). Once the
    /// pool gave up on workers, the only reply is [`Reply::CallingThread`] and there
    /// is no ticket.
    fn submit(
        &self,
        message: Object,
        to: mpsc::UnboundedSender<(usize, Reply)>,
        tag: usize,
    ) -> Result<Option<Ticket>, Error> {
        let id = {
            let mut state = self.inner.state.borrow_mut();
            if state.closed {
                return Err(Error::InvalidInput("the client was closed".into()));
            }
            if state.gave_up {
                let _ = to.unbounded_send((tag, Reply::CallingThread));
                return Ok(None);
            }
            let id = state.next_job;
            state.next_job += 1;
            state.jobs.insert(
                id,
                PoolJob {
                    message,
                    owner: Owner { to, tag },
                    rerun: false,
                },
            );
            state.queue.push(id);
            id
        };
        PoolInner::dispatch(&self.inner);
        Ok(Some(Ticket {
            pool: Rc::downgrade(&self.inner),
            id,
        }))
    }

    /// Workers running now (for tests).
    pub fn running(&self) -> usize {
        self.inner.state.borrow().workers.len()
    }

    /// Whether the pool gave up on workers (none could start on this page), so that
    /// its hashing runs on the calling thread.
    pub fn gave_up(&self) -> bool {
        self.inner.state.borrow().gave_up
    }
}

/// A submitted job; dropping it cancels the job.
struct Ticket {
    pool: Weak<PoolInner>,
    id: u64,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.upgrade() {
            PoolInner::cancel(&pool, self.id);
        }
    }
}

/// Takes the first queued job off the queue (a list, not a `VecDeque`: a few jobs
/// at a time, and less code in the package).
fn pop_first(queue: &mut Vec<u64>) {
    if !queue.is_empty() {
        queue.remove(0);
    }
}

fn disarm(state: &mut PoolState) {
    if let Some((id, _closure)) = state.idle.take() {
        clear_timeout(&id);
    }
}

/// No worker could start on this page (`reason`): the pool ends its workers, starts
/// none any more, says so once on the console, and hands back the owners of every
/// job, waiting or running, to be told to hash on the calling thread.
fn give_up(state: &mut PoolState, reason: &str) -> Vec<Owner> {
    if !state.gave_up {
        state.gave_up = true;
        web_sys::console::warn_1(
            &format!(
                "procore-upload: no hashing worker could start here ({reason}); \
                 hashing on the calling thread instead"
            )
            .into(),
        );
    }
    for pooled in state.workers.drain(..) {
        pooled.end();
    }
    state.queue.clear();
    disarm(state);
    std::mem::take(&mut state.jobs)
        .into_values()
        .map(|job| job.owner)
        .collect()
}

impl PoolInner {
    /// Gives waiting jobs to free workers, starting workers up to the pool's size;
    /// arms the idle timer when nothing runs or waits.
    fn dispatch(this: &Rc<Self>) {
        let mut failed = Vec::new();
        let mut calling_thread = Vec::new();
        {
            let mut state = this.state.borrow_mut();
            while let Some(&id) = state.queue.first() {
                let free = state.workers.iter().position(|w| w.job.is_none());
                let index = match free {
                    Some(index) => index,
                    None if state.workers.len() < state.size => {
                        let key = state.next_worker;
                        state.next_worker += 1;
                        match Self::start(this, key) {
                            Ok(pooled) => {
                                state.workers.push(pooled);
                                state.workers.len() - 1
                            }
                            Err(error) => {
                                let proven = state.proven;
                                let Some(job) = state.jobs.get_mut(&id) else {
                                    pop_first(&mut state.queue);
                                    continue;
                                };
                                match after_worker_failure(proven, job.rerun) {
                                    AfterFailure::RunAgain => job.rerun = true,
                                    AfterFailure::Fail => {
                                        pop_first(&mut state.queue);
                                        if let Some(job) = state.jobs.remove(&id) {
                                            failed.push((job.owner, error));
                                        }
                                    }
                                    AfterFailure::CallingThread => {
                                        let reason = match &error {
                                            Error::Worker { message, .. } => message.clone(),
                                            other => other.to_string(),
                                        };
                                        calling_thread.extend(give_up(&mut state, &reason));
                                    }
                                }
                                continue;
                            }
                        }
                    }
                    None => break,
                };
                pop_first(&mut state.queue);
                let Some(job) = state.jobs.get(&id) else {
                    continue;
                };
                set(&job.message, "id", &number(id));
                let posted = state
                    .workers
                    .get(index)
                    .map(|pooled| pooled.worker.post_message(&job.message));
                match posted {
                    Some(Ok(())) => {
                        if let Some(pooled) = state.workers.get_mut(index) {
                            pooled.job = Some(id);
                        }
                    }
                    Some(Err(thrown)) => {
                        if let Some(job) = state.jobs.remove(&id) {
                            failed.push((job.owner, worker_error(describe_error(&thrown), thrown)));
                        }
                    }
                    None => {}
                }
            }
            let busy = state.workers.iter().any(|w| w.job.is_some());
            if busy || !state.queue.is_empty() {
                disarm(&mut state);
            } else if state.idle.is_none() && !state.workers.is_empty() {
                let pool = Rc::downgrade(this);
                let closure = Closure::<dyn FnMut()>::new(move || {
                    if let Some(pool) = pool.upgrade() {
                        pool.end_idle();
                    }
                });
                // Idle delays are far below 2^53 ms.
                #[allow(clippy::cast_precision_loss)]
                let id = set_timeout(closure.as_ref().unchecked_ref(), this.idle_ms as f64);
                state.idle = Some((id, closure));
            }
        }
        for (owner, error) in failed {
            let _ = owner.to.unbounded_send((owner.tag, Reply::Failed(error)));
        }
        for owner in calling_thread {
            let _ = owner.to.unbounded_send((owner.tag, Reply::CallingThread));
        }
    }

    /// The idle timer fired: end the workers if still nothing runs.
    fn end_idle(&self) {
        let mut state = self.state.borrow_mut();
        // The closure running now is dropped later, not from inside itself.
        state.fired = state.idle.take().map(|(_, closure)| closure);
        if state.workers.iter().all(|w| w.job.is_none()) && state.queue.is_empty() {
            for pooled in state.workers.drain(..) {
                pooled.end();
            }
        }
    }

    fn start(this: &Rc<Self>, key: u64) -> Result<Pooled, Error> {
        let worker: Worker = this
            .runtime
            .create_worker
            .call0(&JsValue::UNDEFINED)
            .map_err(|e| {
                worker_error(
                    format!("could not start a hashing worker: {}", describe_error(&e)),
                    e,
                )
            })?
            .dyn_into()
            .map_err(|_| Error::worker("the worker factory did not return a Worker"))?;
        let pool = Rc::downgrade(this);
        let on_message = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            if let Some(pool) = pool.upgrade() {
                let data = event.unchecked_into::<MessageEvent>().data();
                Self::on_message(&pool, key, data);
            }
        });
        let pool = Rc::downgrade(this);
        let on_error = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            // Handled here (replaced, then WORKER): not an uncaught error of the page.
            if let Some(event) = event.dyn_ref::<web_sys::Event>() {
                event.prevent_default();
            }
            if let Some(pool) = pool.upgrade() {
                Self::on_crash(&pool, key, event);
            }
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        worker.set_onmessageerror(Some(on_error.as_ref().unchecked_ref()));
        let init = Object::new();
        set(&init, "type", &"init".into());
        set(&init, "module", &this.runtime.module);
        worker
            .post_message(&init)
            .map_err(|e| worker_error(describe_error(&e), e))?;
        Ok(Pooled {
            key,
            worker,
            job: None,
            _handlers: [on_message, on_error],
        })
    }

    /// A worker's message goes to the owner of the job that worker runs; a message
    /// naming any other job is a fault of that worker.
    fn on_message(this: &Rc<Self>, key: u64, data: JsValue) {
        let reply = {
            let mut state = this.state.borrow_mut();
            let Some(index) = state.workers.iter().position(|w| w.key == key) else {
                return;
            };
            let kind = get(&data, "type").as_string();
            if kind.as_deref() == Some("ready") {
                // Workers run on this page: a failure from now on is a crash.
                state.proven = true;
                return;
            }
            let Some(running) = state.workers.get(index).and_then(|w| w.job) else {
                return;
            };
            let named = whole_number(&get(&data, "id"));
            let matches = named == Some(running);
            // A worker answering its job runs, even one that never said ready.
            state.proven |= matches;
            let finished = matches!(kind.as_deref(), Some("done" | "error"));
            if !matches || finished {
                if let Some(pooled) = state.workers.get_mut(index) {
                    pooled.job = None;
                }
            }
            let owner = if !matches || finished {
                state.jobs.remove(&running).map(|job| job.owner)
            } else {
                state.jobs.get(&running).map(|job| Owner {
                    to: job.owner.to.clone(),
                    tag: job.owner.tag,
                })
            };
            owner.map(|owner| {
                let reply = if matches {
                    Reply::Message(data)
                } else {
                    Reply::Failed(Error::worker(format!(
                        "a worker answered no job we gave it (id {})",
                        super::js::describe(&get(&data, "id"))
                    )))
                };
                (owner, reply)
            })
        };
        if let Some((owner, reply)) = reply {
            let _ = owner.to.unbounded_send((owner.tag, reply));
        }
        Self::dispatch(this);
    }

    /// A worker failed (an `error` event): it is ended. Where workers have run
    /// before, its job goes first in line to run once more on another, and a second
    /// crash fails the job; where none ever started, the pool gives up on workers
    /// and all its jobs go to the calling thread.
    fn on_crash(this: &Rc<Self>, key: u64, event: JsValue) {
        let message = event
            .dyn_ref::<web_sys::ErrorEvent>()
            .map(|e| e.message())
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "the worker script failed (not found, or not a module?)".into());
        let mut calling_thread = Vec::new();
        let failed = {
            let mut state = this.state.borrow_mut();
            let Some(index) = state.workers.iter().position(|w| w.key == key) else {
                return;
            };
            let pooled = state.workers.remove(index);
            pooled.end();
            let proven = state.proven;
            let running = pooled.job;
            let job = running.and_then(|id| state.jobs.get_mut(&id).map(|job| (id, job)));
            let rerun = job.as_ref().is_some_and(|(_, job)| job.rerun);
            match (after_worker_failure(proven, rerun), job) {
                (AfterFailure::CallingThread, _) => {
                    calling_thread = give_up(&mut state, &message);
                    None
                }
                (AfterFailure::RunAgain, Some((id, job))) => {
                    job.rerun = true;
                    state.queue.insert(0, id);
                    None
                }
                (AfterFailure::Fail, Some((id, _))) => state.jobs.remove(&id).map(|job| job.owner),
                (_, None) => None,
            }
        };
        if let Some(owner) = failed {
            let error = worker_error(format!("a hashing worker crashed twice: {message}"), event);
            let _ = owner.to.unbounded_send((owner.tag, Reply::Failed(error)));
        }
        for owner in calling_thread {
            let _ = owner.to.unbounded_send((owner.tag, Reply::CallingThread));
        }
        Self::dispatch(this);
    }

    /// The owner gave the job up: out of the line, or its worker ended.
    fn cancel(this: &Rc<Self>, id: u64) {
        {
            let mut state = this.state.borrow_mut();
            if state.jobs.remove(&id).is_none() {
                return;
            }
            state.queue.retain(|&queued| queued != id);
            if let Some(index) = state.workers.iter().position(|w| w.job == Some(id)) {
                let pooled = state.workers.remove(index);
                pooled.end();
            }
        }
        Self::dispatch(this);
    }
}

impl Drop for PoolInner {
    fn drop(&mut self) {
        let mut state = self.state.borrow_mut();
        for pooled in state.workers.drain(..) {
            pooled.end();
        }
        disarm(&mut state);
    }
}

/// Hashing of one file in a client's pool, split for up to `count` workers; on the
/// calling thread where the pool's workers cannot start.
pub struct WorkerHashing<'a> {
    pool: &'a WorkerPool,
    count: usize,
    source: BlobSource,
    signal: Option<AbortSignal>,
}

impl<'a> WorkerHashing<'a> {
    /// Hashes `blob` in up to `count` (≥ 1) of `pool`'s workers, giving its jobs up
    /// when `signal` aborts.
    pub fn new(
        pool: &'a WorkerPool,
        count: usize,
        blob: Blob,
        signal: Option<AbortSignal>,
    ) -> Self {
        pool.grow_to(count);
        Self {
            pool,
            count: count.max(1),
            source: BlobSource::from_raw(blob),
            signal,
        }
    }
}
/// Where a job's digests go.
#[derive(Clone, Copy)]
enum Slot {
    /// Segments starting at this index.
    Segments(usize),
    /// The whole-file digest (hashed as a single range).
    Whole,
}

struct Job {
    ranges: Vec<Range<u64>>,
    /// Also the whole-file digest, in the same pass (one worker only).
    whole: bool,
    slot: Slot,
}

/// Splits the work: one worker does everything in one pass; more workers share
/// the segments, one of them streaming the whole file first when it is wanted.
fn plan_jobs(ranges: &[Range<u64>], whole: bool, workers: usize, size: u64) -> Vec<Job> {
    if workers == 1 || ranges.len() <= 1 {
        return vec![Job {
            ranges: ranges.to_vec(),
            whole,
            slot: Slot::Segments(0),
        }];
    }
    let mut jobs = Vec::with_capacity(ranges.len() + 1);
    if whole {
        jobs.push(Job {
            ranges: vec![Range {
                start: 0,
                end: size,
            }],
            whole: false,
            slot: Slot::Whole,
        });
    }
    // Runs of consecutive segments, about two per worker: a worker reads a run's next
    // segment while it hashes the current one, and the runs still spread the load.
    let segment_workers = if whole { workers - 1 } else { workers };
    let run = ranges.len().div_ceil(2 * segment_workers.max(1)).max(1);
    jobs.extend(ranges.chunks(run).enumerate().map(|(index, chunk)| Job {
        ranges: chunk.to_vec(),
        whole: false,
        slot: Slot::Segments(index * run),
    }));
    jobs
}

impl WorkerHashing<'_> {
    /// A job's message, without its id (the pool gives it one).
    fn job_message(&self, job: &Job, options: HashOptions) -> Object {
        let message = Object::new();
        set(&message, "type", &"job".into());
        set(&message, "file", self.source.as_raw());
        let flat: Array = job
            .ranges
            .iter()
            .flat_map(|r| [number(r.start), number(r.end)])
            .collect();
        set(&message, "ranges", &flat);
        // The whole-file digest is SHA-256 only (see `core::hash::hash_segments`).
        let md5 = options.md5 && !matches!(job.slot, Slot::Whole);
        set(&message, "md5", &md5.into());
        set(&message, "chunkSize", &number(options.chunk_size as u64));
        set(&message, "whole", &job.whole.into());
        message
    }
}

impl HashBackend for WorkerHashing<'_> {
    fn size(&self) -> u64 {
        self.source.size()
    }

    async fn hash(
        &self,
        ranges: &[Range<u64>],
        options: HashOptions,
        whole: bool,
        progress: &dyn Fn(u64),
    ) -> Result<(Vec<Digests>, Option<Digests>), Error> {
        if let Some(done) = self.in_workers(ranges, options, whole, progress).await? {
            return Ok(done);
        }
        // No worker could start: no byte was hashed in one, so progress starts at 0.
        hash_on_calling_thread(
            &self.source,
            self.signal.as_ref(),
            ranges,
            options,
            whole,
            progress,
        )
        .await
    }
}

/// What a hashing in workers gives: the digests, or `None` where no worker could
/// start (hash on the calling thread instead).
type InWorkers = Option<(Vec<Digests>, Option<Digests>)>;

impl WorkerHashing<'_> {
    async fn in_workers(
        &self,
        ranges: &[Range<u64>],
        options: HashOptions,
        whole: bool,
        progress: &dyn Fn(u64),
    ) -> Result<InWorkers, Error> {
        abort::check(self.signal.as_ref())?;
        if self.pool.gave_up() {
            return Ok(None);
        }
        let size = self.size();
        let jobs = plan_jobs(ranges, whole, self.count, size);
        let mut aborted = AbortWatch::new(self.signal.as_ref())?;
        let (to, mut events) = mpsc::unbounded();
        // At most `count` jobs of this hashing in the pool at once (the pool may be
        // larger: the client's default, or another upload's wish); the next goes in
        // as one is done. The sender goes once the last job is in: if the pool then
        // drops the jobs, the hashing hears of it instead of waiting forever. The
        // tickets are dropped when the hashing ends, however it ends: jobs still
        // queued or running are given up (their workers ended).
        let mut to = Some(to);
        let submit = |tag: usize, to: &mut Option<_>| -> Result<Option<Ticket>, Error> {
            let ticket = match (jobs.get(tag), to.as_ref()) {
                (Some(job), Some(sender)) => self.pool.submit(
                    self.job_message(job, options),
                    mpsc::UnboundedSender::clone(sender),
                    tag,
                )?,
                _ => None,
            };
            if tag + 1 >= jobs.len() {
                *to = None;
            }
            Ok(ticket)
        };
        let mut tickets = Vec::with_capacity(jobs.len());
        let mut next_job = self.count.min(jobs.len());
        for tag in 0..next_job {
            tickets.extend(submit(tag, &mut to)?);
        }

        let mut segments: Vec<Option<Digests>> = vec![None; ranges.len()];
        let mut whole_digest = None;
        let mut job_bytes = vec![0u64; jobs.len()];
        let mut running = jobs.len();
        let report = |job_bytes: &[u64]| {
            let (mut segment_bytes, mut whole_bytes) = (0u64, None);
            for (job, bytes) in jobs.iter().zip(job_bytes) {
                match job.slot {
                    Slot::Whole => whole_bytes = Some(*bytes),
                    Slot::Segments(_) => segment_bytes += bytes,
                }
            }
            // Bytes for which every wanted digest is done.
            progress(whole_bytes.map_or(segment_bytes, |w| w.min(segment_bytes)));
        };
        while running > 0 {
            let event = match select(events.next(), pin!(aborted.fired())).await {
                Either::Left((event, _)) => event,
                Either::Right(_) => return Err(Error::Aborted),
            };
            let (id, data) = match event {
                Some((tag, Reply::Message(data))) => (tag, data),
                Some((_, Reply::Failed(error))) => return Err(error),
                // Its jobs are dropped with the tickets (the pool holds none any more).
                Some((_, Reply::CallingThread)) => return Ok(None),
                None => return Err(Error::worker("the workers went away")),
            };
            let Some(job) = jobs.get(id) else {
                return Err(Error::worker("a reply for no job of this file"));
            };
            let job_size: u64 = job.ranges.iter().map(|r| r.end - r.start).sum();
            match get(&data, "type").as_string().as_deref() {
                Some("progress") => {
                    let bytes = whole_number(&get(&data, "bytes"))
                        .filter(|&bytes| bytes <= job_size)
                        .ok_or_else(|| Error::worker("a worker reported a bad byte count"))?;
                    if let Some(slot) = job_bytes.get_mut(id) {
                        *slot = (*slot).max(bytes);
                    }
                    report(&job_bytes);
                }
                Some("done") => {
                    let digests = read_digest_list(&get(&data, "segments"))?;
                    if digests.len() != job.ranges.len() {
                        return Err(Error::worker(format!(
                            "a worker sent {} digests for {} ranges",
                            digests.len(),
                            job.ranges.len()
                        )));
                    }
                    match job.slot {
                        Slot::Whole => whole_digest = digests.into_iter().next(),
                        Slot::Segments(first) => {
                            for (offset, digest) in digests.into_iter().enumerate() {
                                if let Some(slot) = segments.get_mut(first + offset) {
                                    *slot = Some(digest);
                                }
                            }
                            if job.whole {
                                whole_digest = read_digest(&get(&data, "whole"))?;
                            }
                        }
                    }
                    if let Some(slot) = job_bytes.get_mut(id) {
                        *slot = job_size;
                    }
                    report(&job_bytes);
                    running -= 1;
                    tickets.extend(submit(next_job, &mut to)?);
                    next_job += 1;
                }
                Some("error") => {
                    let message = get(&data, "message").as_string().unwrap_or_default();
                    let error = match get(&data, "code").as_string().as_deref() {
                        Some("FILE_READ") => Error::file_read(message),
                        Some("ABORTED") => Error::Aborted,
                        _ => Error::worker(message),
                    };
                    let cause = get(&data, "cause");
                    return Err(if cause.is_undefined() {
                        error
                    } else {
                        error.with_cause(js_cause(cause))
                    });
                }
                _ => return Err(Error::worker("a worker sent an unknown message")),
            }
        }
        let segments: Option<Vec<Digests>> = segments.into_iter().collect();
        let segments = segments.ok_or_else(|| Error::worker("a segment was never hashed"))?;
        if whole && whole_digest.is_none() {
            return Err(Error::worker("the whole file was never hashed"));
        }
        Ok(Some((segments, whole_digest)))
    }
}

/// `[sha256, md5|null]` → digests; `null` → `None`.
fn read_digest(value: &JsValue) -> Result<Option<Digests>, Error> {
    if value.is_null() || value.is_undefined() {
        return Ok(None);
    }
    let pair: &Array = value
        .dyn_ref()
        .ok_or_else(|| Error::worker("a worker sent a malformed digest"))?;
    let sha256 = pair.get(0).as_string().unwrap_or_default();
    let md5 = pair.get(1).as_string();
    Digests::from_hex(&sha256, md5.as_deref())
        .map(Some)
        .ok_or_else(|| Error::worker("a worker sent a malformed digest"))
}

fn read_digest_list(value: &JsValue) -> Result<Vec<Digests>, Error> {
    let list: &Array = value
        .dyn_ref()
        .ok_or_else(|| Error::worker("a worker sent no digests"))?;
    list.iter()
        .map(|item| {
            read_digest(&item)?.ok_or_else(|| Error::worker("a worker sent an empty digest"))
        })
        .collect()
}

/// Digests as the worker sends them: `[sha256, md5|null]`.
pub fn digest_to_js(digests: &Digests) -> JsValue {
    let pair = Array::new();
    pair.push(&digests.sha256_hex().into());
    pair.push(&digests.md5_hex().map_or(JsValue::NULL, JsValue::from));
    pair.into()
}
