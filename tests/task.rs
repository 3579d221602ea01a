//! The task runtime's state machine, natively: commands taken at once whatever the
//! task waits for (a queue slot, a request in flight), every race between pause,
//! resume, cancel and close, resume after a stop in completing, the attach step.
//! Requests can be held (after tus-js-client's TestHttpStack) and the futures are
//! polled by hand, so each interleaving is exact.
#![cfg(not(target_arch = "wasm32"))]

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::{Context, Poll};

use procore_upload::core::engine::{
    file_identity, prepare, Phase, Progress, ProgressTracker, UploadOptions,
};
use procore_upload::core::hash::InThread;
use procore_upload::core::http::{Http, Method, Request, Response, Target};
use procore_upload::core::json::Json;
use procore_upload::core::plan::{ApiVersion, Segmented, MIB};
use procore_upload::core::runtime::{Limits, Shared, Wakeup};
use procore_upload::core::state::{MemoryStore, Store};
use procore_upload::core::task::{Attach, Env, Failure, Finished, ResumeFrom, Status, Task};
use procore_upload::core::Error;
use serde_json::json;

mod common;
use common::*;

type Outcome = Result<Finished, Failure>;
/// Which requests a [`Held`] transport holds.
type HoldRule = Box<dyn Fn(&Request) -> bool>;

/// A transport whose requests matching `hold` wait until released; every request
/// is logged when sent, answered by the responder once let through.
struct Held {
    log: RefCell<Vec<Request>>,
    responder: RefCell<Responder>,
    hold: RefCell<HoldRule>,
    released: Cell<bool>,
    wakeup: Wakeup,
    /// Requests in flight (sent, not answered, not dropped).
    in_flight: Rc<Cell<usize>>,
    clock: Cell<f64>,
}

struct InFlight(Rc<Cell<usize>>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

impl Held {
    fn new(responder: impl FnMut(&Request) -> Result<Response, Error> + 'static) -> Self {
        Self {
            log: RefCell::new(Vec::new()),
            responder: RefCell::new(Box::new(responder)),
            hold: RefCell::new(Box::new(|_| false)),
            released: Cell::new(false),
            wakeup: Wakeup::default(),
            in_flight: Rc::new(Cell::new(0)),
            clock: Cell::new(0.0),
        }
    }

    /// Holds the requests `which` matches from now on; a held request that it
    /// does not match goes on.
    fn hold(&self, which: impl Fn(&Request) -> bool + 'static) {
        self.released.set(false);
        *self.hold.borrow_mut() = Box::new(which);
        self.wakeup.wake_all();
    }

    fn release(&self) {
        *self.hold.borrow_mut() = Box::new(|_| false);
        self.released.set(true);
        self.wakeup.wake_all();
    }

    fn sent(&self, method: Method, url_end: &str) -> usize {
        self.log
            .borrow()
            .iter()
            .filter(|r| r.method == method && r.url.ends_with(url_end))
            .count()
    }

    fn methods(&self) -> Vec<String> {
        self.log
            .borrow()
            .iter()
            .map(|r| format!("{} {}", r.method.as_str(), r.url))
            .collect()
    }
}

impl Http for Held {
    async fn send(&self, request: Request, progress: &dyn Fn(u64)) -> Result<Response, Error> {
        self.log.borrow_mut().push(request.clone());
        self.in_flight.set(self.in_flight.get() + 1);
        let _guard = InFlight(self.in_flight.clone());
        self.wakeup
            .until(&|| self.released.get() || !(self.hold.borrow())(&request))
            .await;
        let response = (self.responder.borrow_mut())(&request)?;
        if let procore_upload::core::http::Body::Bytes(range) = &request.body {
            progress(range.end - range.start);
        }
        Ok(response)
    }

    async fn sleep(&self, millis: u64) -> Result<(), Error> {
        self.clock.set(self.clock.get() + millis as f64);
        Ok(())
    }

    fn now_ms(&self) -> f64 {
        self.clock.get()
    }

    fn wall_clock_ms(&self) -> u64 {
        1_800_000_000_000 + self.clock.get() as u64
    }
}

/// Polls `future` until it is done or makes no more progress.
fn settle<F: Future + ?Sized>(mut future: Pin<&mut F>) -> Poll<F::Output> {
    let waker = futures_util::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    for _ in 0..500 {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return Poll::Ready(output);
        }
    }
    Poll::Pending
}

/// The client's limits, without the stall watchdog: a held request makes no
/// progress, and the virtual clock jumps with every wait.
fn limits() -> Limits {
    Limits {
        stall_timeout_ms: 0,
        ..Limits::default()
    }
}

const SEGMENT: usize = 5 * MIB as usize;

fn v1_options(size: usize) -> UploadOptions {
    let mut options = options(ApiVersion::V11, Some(42), size as u64, Segmented::Yes);
    options.segment_size = Some(SEGMENT as u64);
    options.concurrency = 1;
    options
}

fn task(
    options: &UploadOptions,
    resume: ResumeFrom,
    attach: Option<Attach>,
) -> (Task, Rc<RefCell<Vec<Progress>>>) {
    let prepared = prepare(options, options.file.size).unwrap();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let reports = seen.clone();
    let tracker = ProgressTracker::new(
        options.file.size,
        prepared.segments_total(),
        Box::new(move |p| reports.borrow_mut().push(*p)),
        Box::new(|| 0.0),
    );
    let identity = file_identity(options, Some(1), "application/pdf".into());
    let task = Task::new(
        options.clone(),
        prepared,
        identity,
        tracker,
        resume,
        attach,
        1_800_000_000_000,
    );
    (task, seen)
}

fn env<'a>(
    http: &'a Held,
    shared: &'a Shared<CountingTokens>,
    hasher: &'a InThread<'a, [u8]>,
    store: &'a MemoryStore,
) -> Env<'a, Held, CountingTokens, InThread<'a, [u8]>, MemoryStore> {
    Env {
        http,
        shared,
        hasher,
        store: Some(store),
        on_store_error: &|error| panic!("store: {error}"),
    }
}

fn stored_keys(store: &MemoryStore) -> Vec<String> {
    pollster::block_on(store.list())
        .unwrap()
        .into_iter()
        .map(|(key, _)| key)
        .collect()
}

fn aborted(outcome: &Option<Outcome>) -> bool {
    matches!(
        outcome,
        Some(Err(Failure {
            error: Error::Aborted,
            ..
        }))
    )
}

/// Defect 1: with one sending turn, a task queued behind a long upload stops at
/// once on pause and on cancel, without waiting for its turn, having sent nothing.
#[test]
fn a_queued_task_pauses_and_cancels_at_once() {
    let size = 2 * SEGMENT + 10;
    let source = data(size);
    let http = Held::new(v1_segmented_responder(source.clone(), SEGMENT));
    // The first upload's PUTs hang: it keeps the only sending turn.
    http.hold(|r| r.method == Method::Put);
    let shared = Shared::new(
        tokens(),
        Limits {
            max_active_uploads: 1,
            ..limits()
        },
    );
    let store = MemoryStore::default();
    let hasher = InThread::new(source.as_slice());
    let env = env(&http, &shared, &hasher, &store);
    let options = v1_options(size);
    let (long, _) = task(&options, ResumeFrom::Nothing, None);
    let (queued, _) = task(&options, ResumeFrom::Nothing, None);
    let (long_outcome, queued_outcome) = (RefCell::new(None), RefCell::new(None));
    let mut long_run = pin!(long.run(&env, |o| *long_outcome.borrow_mut() = Some(o)));
    let mut queued_run = pin!(queued.run(&env, |o| *queued_outcome.borrow_mut() = Some(o)));
    assert!(
        settle(long_run.as_mut()).is_pending(),
        "{:?}",
        long_outcome.borrow()
    );
    assert!(settle(queued_run.as_mut()).is_pending());
    assert_eq!(long.status(), Status::Sending);
    // Hashed (two files hash ahead), waiting for a sending turn: progress stays at
    // its last phase.
    assert_eq!(queued.status(), Status::Hashing);
    let creates = http.sent(Method::Post, "/uploads");
    assert_eq!(creates, 1, "only the first upload was created");

    queued.pause();
    assert!(
        settle(pin!(queued.stopped())).is_pending(),
        "its driver has not run yet"
    );
    assert!(settle(queued_run.as_mut()).is_pending());
    assert!(
        settle(pin!(queued.stopped())).is_ready(),
        "paused at its driver's next turn"
    );
    assert_eq!(queued.status(), Status::Paused);
    queued.resume();
    assert!(settle(queued_run.as_mut()).is_pending());
    assert_eq!(queued.status(), Status::Hashing, "back in line");

    queued.cancel();
    assert!(settle(queued_run.as_mut()).is_ready(), "cancelled at once");
    assert!(
        aborted(&queued_outcome.borrow()),
        "{:?}",
        queued_outcome.borrow()
    );
    assert_eq!(queued.status(), Status::Cancelled);
    assert_eq!(
        http.sent(Method::Post, "/uploads"),
        creates,
        "the queued upload sent nothing"
    );
    assert!(long_outcome.borrow().is_none(), "the long upload goes on");
    assert_eq!(long.status(), Status::Sending);

    http.release();
    assert!(settle(long_run.as_mut()).is_ready());
    assert!(matches!(*long_outcome.borrow(), Some(Ok(_))));
    assert!(
        stored_keys(&store).is_empty(),
        "done and cancelled states are deleted"
    );
}

/// Defect 2: `close()` settles a paused task (its state stays, as after a reload),
/// and one in flight, whose requests stop.
#[test]
fn close_settles_paused_and_running_tasks_and_keeps_their_state() {
    let size = 2 * SEGMENT + 10;
    let source = data(size);
    let http = Held::new(v1_segmented_responder(source.clone(), SEGMENT));
    http.hold(|r| r.method == Method::Put && r.url.contains("/part/1"));
    let shared = Shared::new(tokens(), limits());
    let store = MemoryStore::default();
    let hasher = InThread::new(source.as_slice());
    let env = env(&http, &shared, &hasher, &store);
    let options = v1_options(size);
    for pause_first in [true, false] {
        let (task, _) = task(&options, ResumeFrom::Nothing, None);
        let outcome = RefCell::new(None);
        let mut run = pin!(task.run(&env, |o| *outcome.borrow_mut() = Some(o)));
        assert!(settle(run.as_mut()).is_pending());
        assert_eq!(http.in_flight.get(), 1, "part 2 held");
        if pause_first {
            task.pause();
            assert!(settle(run.as_mut()).is_pending());
            assert_eq!(task.status(), Status::Paused);
        }
        assert_eq!(http.in_flight.get(), if pause_first { 0 } else { 1 });
        task.close();
        assert!(
            settle(run.as_mut()).is_ready(),
            "settled (pause_first {pause_first})"
        );
        assert!(aborted(&outcome.borrow()));
        assert_eq!(task.status(), Status::Cancelled);
        assert_eq!(http.in_flight.get(), 0, "nothing left in flight");
        assert_eq!(stored_keys(&store), [task.key()], "the state stays");
        let kept = task.state().unwrap();
        assert_eq!(
            kept.etags.iter().flatten().count(),
            1,
            "part 1 is kept as stored"
        );
    }
}

/// Pause during each phase, then resume: the upload completes, each part stored
/// once, the phases never going back in what progress reports.
#[test]
fn pause_in_each_phase_then_resume_completes() {
    let size = 2 * SEGMENT + 10;
    let source = data(size);
    // (phase, the request held while in it)
    type Which = fn(&Request) -> bool;
    let table: &[(Status, Which)] = &[
        (Status::Creating, |r| r.method == Method::Post),
        (Status::Sending, |r| {
            r.method == Method::Put && r.url.contains("/part/1")
        }),
        (Status::Completing, |r| r.method == Method::Patch),
    ];
    for &(status, which) in table {
        let mut storage = v1_segmented_responder(source.clone(), SEGMENT);
        // Show Upload (asked after a stop in completing): not complete yet.
        let http = Held::new(move |request| match request.method {
            Method::Get => ok(200, json!({"uuid": "U2", "status": "ready"})),
            _ => storage(request),
        });
        http.hold(which);
        let shared = Shared::new(tokens(), limits());
        let store = MemoryStore::default();
        let hasher = InThread::new(source.as_slice());
        let env = env(&http, &shared, &hasher, &store);
        let (task, seen) = task(&v1_options(size), ResumeFrom::Nothing, None);
        let outcome = RefCell::new(None);
        let mut run = pin!(task.run(&env, |o| *outcome.borrow_mut() = Some(o)));
        assert!(settle(run.as_mut()).is_pending());
        assert_eq!(task.status(), status);
        task.pause();
        assert!(settle(run.as_mut()).is_pending());
        assert_eq!(task.status(), Status::Paused, "{status:?}");
        assert_eq!(
            http.in_flight.get(),
            0,
            "{status:?}: the held request was dropped"
        );
        http.release();
        task.resume();
        assert!(settle(run.as_mut()).is_ready(), "{status:?}");
        let result = outcome.borrow_mut().take().unwrap().unwrap();
        assert_eq!(result.upload.status, "complete", "{status:?}");
        assert_eq!(task.status(), Status::Done);
        let puts = http.sent(Method::Put, "");
        let expected_puts = if status == Status::Sending { 4 } else { 3 };
        assert_eq!(puts, expected_puts, "{status:?}: {:?}", http.methods());
        let phases: Vec<Phase> = seen.borrow().iter().map(|p| p.phase).collect();
        assert!(
            phases.windows(2).all(|w| w[0] <= w[1]),
            "{status:?}: {phases:?}"
        );
        assert_eq!(phases.last(), Some(&Phase::Done));
    }
}

/// Defect 5: after a stop in completing, the next run asks Show Upload first and
/// completes only what Procore has not; a complete whose answer is lost is asked
/// about, not sent again.
#[test]
fn v1_completion_asks_procore_first_after_a_stop_or_a_lost_answer() {
    let size = 2 * SEGMENT + 10;
    let source = data(size);
    for lose_answer in [false, true] {
        let completed = Rc::new(Cell::new(0));
        let patches = completed.clone();
        let mut storage = v1_segmented_responder(source.clone(), SEGMENT);
        let http = Held::new(move |request| match request.method {
            Method::Get => {
                let status = if patches.get() > 0 {
                    "complete"
                } else {
                    "ready"
                };
                ok(200, json!({"uuid": "U2", "status": status}))
            }
            Method::Patch => {
                // Procore refuses a second complete of a completed upload.
                if patches.get() > 0 {
                    return ok(422, json!({"errors": "already complete"}));
                }
                patches.set(patches.get() + 1);
                if lose_answer {
                    return Err(Error::Network {
                        method: "PATCH",
                        url: request.url.clone(),
                        message: "connection reset".into(),
                        cause: None,
                    });
                }
                storage(request)
            }
            _ => storage(request),
        });
        if !lose_answer {
            // The complete goes out; the task stops before its answer.
            http.hold(|r| r.method == Method::Patch);
        }
        let shared = Shared::new(tokens(), limits());
        let store = MemoryStore::default();
        let hasher = InThread::new(source.as_slice());
        let env = env(&http, &shared, &hasher, &store);
        let (task, _) = task(&v1_options(size), ResumeFrom::Nothing, None);
        let outcome = RefCell::new(None);
        let mut run = pin!(task.run(&env, |o| *outcome.borrow_mut() = Some(o)));
        if !lose_answer {
            assert!(settle(run.as_mut()).is_pending());
            assert_eq!(task.status(), Status::Completing);
            task.pause();
            assert!(settle(run.as_mut()).is_pending());
            assert_eq!(task.state().unwrap().phase, "completing");
            // Procore acted on the complete whose answer never came.
            completed.set(1);
            http.release();
            task.resume();
        }
        assert!(settle(run.as_mut()).is_ready(), "lose_answer {lose_answer}");
        let done = outcome.borrow_mut().take().unwrap();
        assert_eq!(
            done.unwrap().upload.status,
            "complete",
            "lose_answer {lose_answer}"
        );
        let after_patch: Vec<String> = http
            .methods()
            .into_iter()
            .skip_while(|m| !m.starts_with("PATCH"))
            .collect();
        assert_eq!(
            after_patch,
            [
                "PATCH https://api.test/rest/v1.1/projects/42/uploads/U2",
                "GET https://api.test/rest/v1.1/projects/42/uploads/U2",
            ],
            "lose_answer {lose_answer}: one complete, then Show Upload decides"
        );
    }
}

/// Defect 6: an attach that fails leaves the finished upload in the failure; a
/// retried attach call carries the same Idempotency-Token.
#[test]
fn a_failed_attach_carries_the_upload_and_one_token() {
    let http = Held::new(move |request| match (request.target, request.method) {
        (Target::Api, Method::Post) if request.url.contains("/files") => {
            ok(503, json!({"errors": "down"}))
        }
        (Target::Api, _) => form_api(request, "https://storage.test/b"),
        (Target::Storage, _) => ok(204, json!(null)),
    });
    let shared = Shared::new(tokens(), limits());
    let store = MemoryStore::default();
    let source = data(10);
    let hasher = InThread::new(source.as_slice());
    let env = env(&http, &shared, &hasher, &store);
    let options = options(ApiVersion::V10, Some(42), 10, Segmented::No);
    let attach = Attach {
        target: Json::parse(r#"{"projectFile":{"projectId":42,"parentId":9}}"#).unwrap(),
        idempotency_token: "tok-1".into(),
    };
    let (task, _) = task(&options, ResumeFrom::Nothing, Some(attach));
    let outcome = RefCell::new(None);
    assert!(settle(pin!(task.run(&env, |o| *outcome.borrow_mut() = Some(o)))).is_ready());
    let failure = match outcome.borrow_mut().take() {
        Some(Err(failure)) => failure,
        other => panic!("{other:?}"),
    };
    assert_eq!(failure.error.code(), "HTTP", "{}", failure.error);
    let upload = failure.upload.expect("the finished upload");
    assert_eq!(
        (upload.uuid.as_str(), upload.status.as_str()),
        ("U", "complete")
    );
    let tokens: Vec<String> = http
        .log
        .borrow()
        .iter()
        .filter(|r| r.url.contains("/files"))
        .map(|r| header(r, "Idempotency-Token"))
        .collect();
    assert_eq!(
        tokens,
        vec!["tok-1".to_string(); 5],
        "five attempts, one token"
    );
}

fn header(request: &Request, name: &str) -> String {
    request
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// Defect 8: a v2.1 checkpoint in flight holds no PUT back, and one that fails does
/// not fail the upload.
#[test]
fn v2_checkpoints_run_beside_the_sending_and_may_fail() {
    let size = 3 * (SEGMENT + 1) + 10;
    let source = data(size);
    let segments = |n: usize| -> Vec<serde_json::Value> {
        (0..n)
            .map(|i| json!({"url": format!("https://storage.test/v2/{i}?sig=x"), "headers": {}}))
            .collect()
    };
    let completed = Rc::new(Cell::new(false));
    let done = completed.clone();
    let http = Held::new(move |request| match request.method {
        Method::Post => ok(
            201,
            json!({"data": {"upload_id": "V2", "status": "ready", "segments": segments(4)}}),
        ),
        Method::Put => etag_response("e"),
        Method::Patch if request_text(request).contains("null") => {
            ok(500, json!({"errors": "checkpoint down"}))
        }
        Method::Patch => {
            done.set(true);
            ok(
                200,
                json!({"data": {"upload_id": "V2", "status": "complete"}}),
            )
        }
        Method::Get => ok(
            200,
            json!({"data": {"upload_id": "V2", "status": if completed.get() { "available" } else { "ready" }}}),
        ),
        _ => panic!("unexpected {request:?}"),
    });
    // The first checkpoint hangs.
    http.hold(|r| r.method == Method::Patch && request_text(r).contains("null"));
    let shared = Shared::new(tokens(), limits());
    let store = MemoryStore::default();
    let hasher = InThread::new(source.as_slice());
    let env = env(&http, &shared, &hasher, &store);
    let mut options = options(ApiVersion::V21, Some(42), size as u64, Segmented::Yes);
    options.segment_size = Some(SEGMENT as u64 + 1);
    options.concurrency = 1;
    let (first, _) = task(&options, ResumeFrom::Nothing, None);
    let outcome = RefCell::new(None);
    let run = pin!(first.run(&env, |o| *outcome.borrow_mut() = Some(o)));
    assert!(settle(run).is_ready(), "{:?}", http.methods());
    let methods = http.methods();
    let verbs: Vec<&str> = methods
        .iter()
        .map(|m| m.split(' ').next().unwrap())
        .collect();
    assert_eq!(
        verbs,
        ["POST", "PUT", "PATCH", "PUT", "PUT", "PUT", "PATCH", "GET"],
        "the other parts and the complete went while the first checkpoint hung"
    );
    assert!(request_text(&http.log.borrow()[2]).contains("null"));
    assert_eq!(http.in_flight.get(), 0, "the hung checkpoint was dropped");
    let result = outcome.borrow_mut().take().unwrap();
    assert_eq!(result.unwrap().upload.status, "available");

    // A checkpoint that fails (500, five attempts) fails nothing either.
    let failing = Held::new({
        let mut first = true;
        move |request| match request.method {
            Method::Post => ok(
                201,
                json!({"data": {"upload_id": "V2", "status": "ready", "segments": (0..4).map(|i| json!({"url": format!("https://storage.test/v2/{i}?sig=x"), "headers": {}})).collect::<Vec<_>>()}}),
            ),
            Method::Put => etag_response("e"),
            Method::Patch if request_text(request).contains("null") => {
                ok(500, json!({"errors": "down"}))
            }
            Method::Patch => ok(
                200,
                json!({"data": {"upload_id": "V2", "status": "complete"}}),
            ),
            Method::Get if first => {
                first = false;
                ok(
                    200,
                    json!({"data": {"upload_id": "V2", "status": "available"}}),
                )
            }
            _ => ok(
                200,
                json!({"data": {"upload_id": "V2", "status": "available"}}),
            ),
        }
    });
    let env = Env {
        http: &failing,
        ..env
    };
    let (again, _) = task(&options, ResumeFrom::Nothing, None);
    let outcome = RefCell::new(None);
    assert!(settle(pin!(again.run(&env, |o| *outcome.borrow_mut() = Some(o)))).is_ready());
    assert!(
        failing.sent(Method::Patch, "/V2") >= 2,
        "{:?}",
        failing.methods()
    );
    let result = outcome.borrow_mut().take().unwrap();
    assert_eq!(
        result.unwrap().upload.status,
        "available",
        "a failed checkpoint fails nothing"
    );
}

fn request_text(request: &Request) -> String {
    match &request.body {
        procore_upload::core::http::Body::Json(text) => text.clone(),
        _ => String::new(),
    }
}

/// Cancel with three PUTs in flight (concurrency 3): every request in flight is
/// dropped at once, none completes the upload, and nothing is sent after.
#[test]
fn cancel_while_sending_stops_every_request_in_flight() {
    let size = 4 * SEGMENT + 10;
    let source = data(size);
    let http = Held::new(v1_segmented_responder(source.clone(), SEGMENT));
    http.hold(|r| r.method == Method::Put);
    let shared = Shared::new(tokens(), limits());
    let store = MemoryStore::default();
    let hasher = InThread::new(source.as_slice());
    let env = env(&http, &shared, &hasher, &store);
    let mut options = v1_options(size);
    options.concurrency = 3;
    let (task, _) = task(&options, ResumeFrom::Nothing, None);
    let outcome = RefCell::new(None);
    let mut run = pin!(task.run(&env, |o| *outcome.borrow_mut() = Some(o)));
    assert!(settle(run.as_mut()).is_pending());
    assert_eq!(http.in_flight.get(), 3, "three PUTs held");
    let sent = http.log.borrow().len();
    task.cancel();
    assert!(settle(run.as_mut()).is_ready());
    assert!(aborted(&outcome.borrow()));
    assert_eq!(http.in_flight.get(), 0, "every request in flight dropped");
    http.release();
    assert_eq!(
        http.log.borrow().len(),
        sent,
        "nothing sent after the cancel"
    );
    assert_eq!(http.sent(Method::Patch, ""), 0, "never completed");
    assert!(
        stored_keys(&store).is_empty(),
        "the cancelled state is deleted"
    );
}

/// A state given to go on from is kept under this file's key, never under the key
/// it came with (a caller's or another file's).
#[test]
fn a_given_state_is_kept_under_this_files_key() {
    let size = 3 * SEGMENT + 10;
    let source = data(size);
    let http = Held::new(v1_segmented_responder(source.clone(), SEGMENT));
    http.hold(|r| r.method == Method::Put && r.url.contains("/part/1"));
    let shared = Shared::new(tokens(), limits());
    let store = MemoryStore::default();
    let hasher = InThread::new(source.as_slice());
    let env = env(&http, &shared, &hasher, &store);
    let options = v1_options(size);
    // A first task stores part 1, then stops: its state is what a caller kept.
    let (first, _) = task(&options, ResumeFrom::Nothing, None);
    let mut run = pin!(first.run(&env, |_| {}));
    assert!(settle(run.as_mut()).is_pending());
    first.close();
    assert!(settle(run.as_mut()).is_ready());
    let mut given = first.state().unwrap();
    given.key = "procore-upload/someone-else".into();
    http.release();
    let (second, _) = task(&options, ResumeFrom::State(Box::new(given)), None);
    // Held at its third part, after part 2 was stored and its state written.
    http.hold(|r| r.method == Method::Put && r.url.contains("/part/2"));
    let mut run = pin!(second.run(&env, |_| {}));
    assert!(settle(run.as_mut()).is_pending());
    assert_eq!(
        stored_keys(&store),
        [second.key()],
        "written under this file's key"
    );
    http.release();
    assert!(settle(run.as_mut()).is_ready());
    assert_eq!(second.status(), Status::Done);
    assert_eq!(
        http.sent(Method::Put, "/part/0?sig=x"),
        1,
        "part 1 was not sent again"
    );
    assert!(
        !stored_keys(&store).contains(&"procore-upload/someone-else".to_string()),
        "{:?}",
        stored_keys(&store)
    );
}

/// `resume()`'s promise: it resolves once the resumed run sends again (here, after
/// creating the upload again: the kept instructions are past their hour), not while
/// the run is still creating, and the page is told "uploading" as it starts sending
/// again, though no byte has moved yet.
#[test]
fn restarted_resolves_once_the_resumed_run_sends_again() {
    let size = 2 * SEGMENT + 10;
    let source = data(size);
    let http = Held::new(v1_segmented_responder(source.clone(), SEGMENT));
    http.hold(|r| r.method == Method::Put && r.url.contains("/part/1"));
    let shared = Shared::new(tokens(), limits());
    let store = MemoryStore::default();
    let hasher = InThread::new(source.as_slice());
    let env = env(&http, &shared, &hasher, &store);
    let (task, seen) = task(&v1_options(size), ResumeFrom::Nothing, None);
    let outcome = RefCell::new(None);
    let mut run = pin!(task.run(&env, |o| *outcome.borrow_mut() = Some(o)));
    assert!(settle(run.as_mut()).is_pending());
    assert_eq!(task.status(), Status::Sending);
    assert_eq!(
        settle(pin!(task.restarted())),
        Poll::Ready(true),
        "sending, never paused: at once"
    );
    task.pause();
    assert!(settle(run.as_mut()).is_pending());
    assert_eq!(task.status(), Status::Paused);
    let mut paused = pin!(task.restarted());
    assert!(settle(paused.as_mut()).is_pending(), "paused");

    // An hour later: the resumed run creates the upload again first.
    http.clock.set(56.0 * 60_000.0);
    http.hold(|r| matches!(r.method, Method::Post | Method::Put));
    let reports = seen.borrow().len();
    task.resume();
    let mut restarted = pin!(task.restarted());
    assert!(settle(restarted.as_mut()).is_pending(), "not run yet");
    assert!(settle(run.as_mut()).is_pending());
    assert_eq!(
        http.sent(Method::Post, "/uploads"),
        2,
        "{:?}",
        http.methods()
    );
    assert_eq!(http.in_flight.get(), 1, "the create, held");
    assert!(
        settle(restarted.as_mut()).is_pending(),
        "creating again is not sending"
    );
    assert!(settle(paused.as_mut()).is_pending());
    assert_eq!(seen.borrow().len(), reports, "nothing new to tell yet");

    // Created: its PUTs go out (and are held).
    http.hold(|r| r.method == Method::Put);
    assert!(settle(run.as_mut()).is_pending());
    assert_eq!(http.in_flight.get(), 1, "a PUT in flight (concurrency 1)");
    assert_eq!(
        settle(restarted.as_mut()),
        Poll::Ready(true),
        "sending again"
    );
    assert_eq!(settle(paused.as_mut()), Poll::Ready(true), "every waiter");
    let told: Vec<Progress> = seen.borrow()[reports..].to_vec();
    assert_eq!(told.len(), 1, "told once, as it sends again: {told:?}");
    assert_eq!(told[0].phase, Phase::Uploading);
    assert_eq!(
        told[0].bytes_uploaded, SEGMENT as u64,
        "no byte moved yet: part 1, as stored before"
    );

    http.release();
    assert!(settle(run.as_mut()).is_ready());
    assert!(matches!(*outcome.borrow(), Some(Ok(_))));
    assert_eq!(settle(pin!(task.restarted())), Poll::Ready(true), "done");
}

/// A task that is cancelled, or fails, before it sends again: `restarted()` is
/// `false` (`resume()` then rejects with `done`'s error). A pause before it sends
/// again keeps it waiting.
#[test]
fn restarted_is_false_when_the_task_ends_before_sending_again() {
    let size = 2 * SEGMENT + 10;
    let source = data(size);
    for fail in [false, true] {
        let mut storage = v1_segmented_responder(source.clone(), SEGMENT);
        let creates = Cell::new(0);
        let http = Held::new(move |request| {
            if request.method == Method::Post {
                creates.set(creates.get() + 1);
                if fail && creates.get() > 1 {
                    return ok(403, json!({"errors": "no longer allowed"}));
                }
            }
            storage(request)
        });
        http.hold(|r| r.method == Method::Put && r.url.contains("/part/1"));
        let shared = Shared::new(tokens(), limits());
        let store = MemoryStore::default();
        let hasher = InThread::new(source.as_slice());
        let env = env(&http, &shared, &hasher, &store);
        let (task, _) = task(&v1_options(size), ResumeFrom::Nothing, None);
        let outcome = RefCell::new(None);
        let mut run = pin!(task.run(&env, |o| *outcome.borrow_mut() = Some(o)));
        assert!(settle(run.as_mut()).is_pending());
        task.pause();
        assert!(settle(run.as_mut()).is_pending());
        http.clock.set(56.0 * 60_000.0);
        http.hold(|r| r.method == Method::Post);
        task.resume();
        let mut restarted = pin!(task.restarted());
        assert!(settle(run.as_mut()).is_pending(), "fail {fail}");
        assert_eq!(http.in_flight.get(), 1, "the create, held");
        // Paused again before it sends: still waiting, for the next resume.
        task.pause();
        assert!(settle(run.as_mut()).is_pending());
        assert_eq!(task.status(), Status::Paused);
        assert!(settle(restarted.as_mut()).is_pending(), "fail {fail}");
        task.resume();
        assert!(settle(run.as_mut()).is_pending());
        assert!(settle(restarted.as_mut()).is_pending(), "fail {fail}");
        if fail {
            http.release();
        } else {
            task.cancel();
        }
        assert!(settle(run.as_mut()).is_ready(), "fail {fail}");
        let expected = if fail {
            Status::Failed
        } else {
            Status::Cancelled
        };
        assert_eq!(task.status(), expected);
        assert_eq!(
            settle(restarted.as_mut()),
            Poll::Ready(false),
            "fail {fail}: {:?}",
            outcome.borrow()
        );
    }
}
