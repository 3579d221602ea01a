//! Hashing in Web Workers, the main thread's side: each worker instantiates the
//! already-compiled wasm module and reads its own slices of the `File` (the main
//! thread copies no bytes). Workers are started for one hashing and ended with it;
//! every message they send is checked before it is believed.
//!
//! Protocol (see `js/hash-worker.js`):
//! - main → worker `{type:"init", module}`, then `{type:"job", id, file, ranges, md5, chunkSize, whole}`
//!   (`ranges`: flat `[start, end, start, end, …]`);
//! - worker → main `{type:"progress", id, bytes}`, `{type:"done", id, segments:[[sha256, md5|null]…],
//!   whole:[sha256, md5|null]|null}` or `{type:"error", id, code, message, cause?}`.
//!
//! Segments are hashed in parallel. The whole-file digest of v2.1 is sequential by
//! nature: with two or more workers, one worker streams the whole file while the
//! others share the segments, so it does not serialise them.

use std::ops::Range;

use std::pin::pin;

use futures_channel::mpsc;
use futures_util::future::{select, Either};
use futures_util::StreamExt;
use js_sys::{Array, Function, Object};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{AbortSignal, Blob, MessageEvent, Worker};

use super::abort::{self, AbortWatch};
use super::error::{js_cause, worker_error};
use super::js::{
    describe_error, get_property as get, index_below, set_property as set, whole_number,
};
use crate::core::hash::{Digests, HashBackend, HashOptions};
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

/// Hashing in `count` workers (started per call, terminated when it ends).
pub struct WorkerHashing<'a> {
    runtime: &'a WorkerRuntime,
    count: usize,
    blob: Blob,
    signal: Option<AbortSignal>,
}

impl<'a> WorkerHashing<'a> {
    /// Hashes `blob` in `count` (≥ 1) workers, stopping them all when `signal` aborts.
    pub fn new(
        runtime: &'a WorkerRuntime,
        count: usize,
        blob: Blob,
        signal: Option<AbortSignal>,
    ) -> Self {
        Self {
            runtime,
            count: count.max(1),
            blob,
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

/// Terminates the workers when the hashing ends, however it ends.
struct Workers {
    workers: Vec<Worker>,
    _handlers: Vec<Closure<dyn FnMut(JsValue)>>,
}

impl Drop for Workers {
    fn drop(&mut self) {
        for worker in &self.workers {
            // Unhook first: an event already queued must not reach a dropped closure.
            worker.set_onmessage(None);
            worker.set_onerror(None);
            worker.set_onmessageerror(None);
            worker.terminate();
        }
    }
}

/// What a worker said.
enum Event {
    Message(usize, JsValue),
    Crashed(usize, String, JsValue),
}

impl WorkerHashing<'_> {
    fn spawn(&self, count: usize) -> Result<(Workers, mpsc::UnboundedReceiver<Event>), Error> {
        let (tx, rx) = mpsc::unbounded();
        let mut workers = Workers {
            workers: Vec::with_capacity(count),
            _handlers: Vec::with_capacity(count * 2),
        };
        for index in 0..count {
            let worker: Worker = self
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
            let messages = tx.clone();
            let on_message = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
                let data = event.unchecked_into::<MessageEvent>().data();
                let _ = messages.unbounded_send(Event::Message(index, data));
            });
            let crashes = tx.clone();
            let on_error = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
                let message = event
                    .dyn_ref::<web_sys::ErrorEvent>()
                    .map(|e| e.message())
                    .filter(|m| !m.is_empty())
                    .unwrap_or_else(|| {
                        "the worker script failed (not found, or not a module?)".into()
                    });
                let _ = crashes.unbounded_send(Event::Crashed(index, message, event));
            });
            worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
            worker.set_onmessageerror(Some(on_error.as_ref().unchecked_ref()));
            let init = Object::new();
            set(&init, "type", &"init".into());
            set(&init, "module", &self.runtime.module);
            worker
                .post_message(&init)
                .map_err(|e| worker_error(describe_error(&e), e))?;
            workers.workers.push(worker);
            workers._handlers.push(on_message);
            workers._handlers.push(on_error);
        }
        Ok((workers, rx))
    }

    fn post_job(
        &self,
        worker: &Worker,
        id: usize,
        job: &Job,
        options: HashOptions,
    ) -> Result<(), Error> {
        let message = Object::new();
        set(&message, "type", &"job".into());
        // Job ids, offsets and sizes are far below 2^53: f64 holds them exactly.
        #[allow(clippy::cast_precision_loss)]
        let number = |n: u64| JsValue::from(n as f64);
        set(&message, "id", &number(id as u64));
        set(&message, "file", &self.blob);
        let flat: Array = job
            .ranges
            .iter()
            .flat_map(|r| [number(r.start), number(r.end)])
            .collect();
        set(&message, "ranges", &flat);
        set(&message, "md5", &options.md5.into());
        set(&message, "chunkSize", &number(options.chunk_size as u64));
        set(&message, "whole", &job.whole.into());
        worker
            .post_message(&message)
            .map_err(|e| worker_error(describe_error(&e), e))
    }
}

impl HashBackend for WorkerHashing<'_> {
    fn size(&self) -> u64 {
        super::blob::blob_size(&self.blob)
    }

    async fn hash(
        &self,
        ranges: &[Range<u64>],
        options: HashOptions,
        whole: bool,
        progress: &dyn Fn(u64),
    ) -> Result<(Vec<Digests>, Option<Digests>), Error> {
        abort::check(self.signal.as_ref())?;
        let size = self.size();
        let jobs = plan_jobs(ranges, whole, self.count, size);
        let mut aborted = AbortWatch::new(self.signal.as_ref())?;
        let (workers, mut events) = self.spawn(self.count.min(jobs.len()))?;

        let mut segments: Vec<Option<Digests>> = vec![None; ranges.len()];
        let mut whole_digest = None;
        let mut job_bytes = vec![0u64; jobs.len()];
        let mut next_job = 0;
        let mut running = 0;
        for (worker, job) in workers.workers.iter().zip(&jobs) {
            self.post_job(worker, next_job, job, options)?;
            next_job += 1;
            running += 1;
        }
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
            let (worker_index, data) = match event {
                Some(Event::Message(index, data)) => (index, data),
                Some(Event::Crashed(index, message, event)) => {
                    return Err(worker_error(format!("worker {index}: {message}"), event))
                }
                None => return Err(Error::worker("the workers went away")),
            };
            // A message without a valid job id is refused, never credited to a job.
            let Some((id, job)) =
                index_below(&get(&data, "id"), jobs.len()).and_then(|id| Some((id, jobs.get(id)?)))
            else {
                return Err(Error::worker(format!(
                    "a worker answered no job we gave it (id {})",
                    super::js::describe(&get(&data, "id"))
                )));
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
                    if let (Some(job), Some(worker)) =
                        (jobs.get(next_job), workers.workers.get(worker_index))
                    {
                        self.post_job(worker, next_job, job, options)?;
                        next_job += 1;
                        running += 1;
                    }
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
        drop(workers);
        let segments: Option<Vec<Digests>> = segments.into_iter().collect();
        let segments = segments.ok_or_else(|| Error::worker("a segment was never hashed"))?;
        if whole && whole_digest.is_none() {
            return Err(Error::worker("the whole file was never hashed"));
        }
        Ok((segments, whole_digest))
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
