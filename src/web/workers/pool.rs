//! The client's pool of hashing workers: started on first need, shared by all its
//! hashing, ended after an idle time and by `close()`. A worker that crashes is
//! replaced and its job run once more; where no worker of the pool ever starts, the
//! pool gives up on workers for good and hands its jobs back unrun
//! ([`crate::core::workers::after_worker_failure`] tells the two apart).

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use futures_channel::mpsc;
use js_sys::{Function, Object};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{MessageEvent, Worker};

use super::protocol;
use crate::core::workers::{after_worker_failure, AfterFailure};
use crate::core::Error;
use crate::web::error::worker_error;
use crate::web::js::{describe, describe_error, get_property as get};

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
pub(super) enum Reply {
    /// A message the worker sent about this job (progress, done, error).
    Message(JsValue),
    /// The job cannot finish: its worker crashed twice, could not start, or the
    /// pool was closed.
    Failed(Error),
    /// No worker of the pool can start on this page: the job comes back unrun.
    GaveUp,
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
    /// pool gave up on workers, the only reply is [`Reply::GaveUp`] and there
    /// is no ticket.
    pub(super) fn submit(
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
                let _ = to.unbounded_send((tag, Reply::GaveUp));
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

    /// Whether the pool gave up on workers (none could start on this page): its jobs
    /// come back unrun.
    pub fn gave_up(&self) -> bool {
        self.inner.state.borrow().gave_up
    }
}

/// A submitted job; dropping it cancels the job.
pub(super) struct Ticket {
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
/// job, waiting or running, to be told their jobs come back unrun.
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
        let mut gave_up_on = Vec::new();
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
                                    AfterFailure::GiveUp => {
                                        let reason = match &error {
                                            Error::Worker { message, .. } => message.clone(),
                                            other => other.to_string(),
                                        };
                                        gave_up_on.extend(give_up(&mut state, &reason));
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
                protocol::set_job_id(&job.message, id);
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
        for owner in gave_up_on {
            let _ = owner.to.unbounded_send((owner.tag, Reply::GaveUp));
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
        worker
            .post_message(&protocol::init_message(&this.runtime.module))
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
            let kind = protocol::kind(&data);
            if kind.as_deref() == Some("ready") {
                // Workers run on this page: a failure from now on is a crash.
                state.proven = true;
                return;
            }
            let Some(running) = state.workers.get(index).and_then(|w| w.job) else {
                return;
            };
            let named = protocol::job_id(&data);
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
                        describe(&get(&data, "id"))
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
    /// and all its jobs come back unrun.
    fn on_crash(this: &Rc<Self>, key: u64, event: JsValue) {
        let message = event
            .dyn_ref::<web_sys::ErrorEvent>()
            .map(|e| e.message())
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "the worker script failed (not found, or not a module?)".into());
        let mut gave_up_on = Vec::new();
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
                (AfterFailure::GiveUp, _) => {
                    gave_up_on = give_up(&mut state, &message);
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
        for owner in gave_up_on {
            let _ = owner.to.unbounded_send((owner.tag, Reply::GaveUp));
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
