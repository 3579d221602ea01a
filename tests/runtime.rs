//! Many uploads through one client's shared runtime, driven natively on a virtual
//! clock: requests take time, timers fire in order, and the tests read from the log
//! what was open at once and when each request went out.
#![cfg(not(target_arch = "wasm32"))]

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use futures_util::future::join_all;
use procore_upload::core::engine::{upload, UploadOptions, UploadResult};
use procore_upload::core::hash::InThread;
use procore_upload::core::http::{Body, Http, Method, Request, Response, Target, Tokens};
use procore_upload::core::plan::{ApiVersion, Segmented};
use procore_upload::core::protocol::{FileMeta, Scope};
use procore_upload::core::runtime::{Limits, Shared};
use procore_upload::core::Error;
use serde_json::{json, Value};

/// What the simulated world answers a request.
enum Reply {
    /// This answer, after the request's time on the wire.
    Answer(u16, Vec<(String, String)>, Value),
    /// Storage takes the body slowly: one tenth every second for ten seconds.
    Slow,
    /// Never answers, never progresses.
    Hang,
}

type Responder = Box<dyn FnMut(&Request, &World) -> Reply>;

/// Procore and storage on a virtual clock.
struct World {
    now: Cell<f64>,
    timers: RefCell<Vec<(f64, Waker)>>,
    /// Every request with the time it went out.
    log: RefCell<Vec<(f64, Request)>>,
    storage_open: Cell<usize>,
    storage_most_open: Cell<usize>,
    responder: RefCell<Option<Responder>>,
}

/// Milliseconds an API answer takes.
const API_MS: u64 = 10;
/// Milliseconds a storage request takes.
const STORAGE_MS: u64 = 100;

impl World {
    fn new(responder: impl FnMut(&Request, &World) -> Reply + 'static) -> Self {
        Self {
            now: Cell::new(0.0),
            timers: RefCell::new(Vec::new()),
            log: RefCell::new(Vec::new()),
            storage_open: Cell::new(0),
            storage_most_open: Cell::new(0),
            responder: RefCell::new(Some(Box::new(responder))),
        }
    }

    fn wait(&self, millis: u64) -> Sleep<'_> {
        Sleep {
            world: self,
            deadline: self.now.get() + millis as f64,
        }
    }

    fn requests(&self, target: Target) -> Vec<(f64, Request)> {
        let log = self.log.borrow();
        log.iter()
            .filter(|(_, r)| r.target == target)
            .cloned()
            .collect()
    }

    /// Runs `future` to its end: polls while anything woke, else moves the clock to
    /// the next timer. Nothing pending and no timer is a deadlock: a failed test.
    fn run<F: Future>(&self, future: F) -> F::Output {
        struct Flag(AtomicBool);
        impl Wake for Flag {
            fn wake(self: Arc<Self>) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let flag = Arc::new(Flag(AtomicBool::new(false)));
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        loop {
            flag.0.store(false, Ordering::SeqCst);
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return output;
            }
            if flag.0.load(Ordering::SeqCst) {
                continue;
            }
            let mut timers = self.timers.borrow_mut();
            let next = timers
                .iter()
                .map(|(at, _)| *at)
                .fold(f64::INFINITY, f64::min);
            assert!(next.is_finite(), "deadlock: nothing to wait for");
            self.now.set(self.now.get().max(next));
            let now = self.now.get();
            timers.retain(|(at, waker)| {
                if *at <= now {
                    waker.wake_by_ref();
                    false
                } else {
                    true
                }
            });
        }
    }
}

struct Sleep<'a> {
    world: &'a World,
    deadline: f64,
}

impl Future for Sleep<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.world.now.get() >= self.deadline {
            return Poll::Ready(());
        }
        self.world
            .timers
            .borrow_mut()
            .push((self.deadline, cx.waker().clone()));
        Poll::Pending
    }
}

/// Counts a storage request as open until dropped (answered or abandoned).
struct Open<'a>(&'a World);

impl<'a> Open<'a> {
    fn new(world: &'a World) -> Self {
        world.storage_open.set(world.storage_open.get() + 1);
        let open = world.storage_open.get();
        world
            .storage_most_open
            .set(world.storage_most_open.get().max(open));
        Self(world)
    }
}

impl Drop for Open<'_> {
    fn drop(&mut self) {
        self.0.storage_open.set(self.0.storage_open.get() - 1);
    }
}

impl Http for World {
    async fn send(&self, request: Request, progress: &dyn Fn(u64)) -> Result<Response, Error> {
        self.log
            .borrow_mut()
            .push((self.now.get(), request.clone()));
        let reply = {
            let mut slot = self.responder.borrow_mut();
            let responder = slot.as_mut().expect("a responder");
            responder(&request, self)
        };
        let size = request
            .body
            .file_range()
            .map_or(0, |range| range.end - range.start);
        let _open = (request.target == Target::Storage).then(|| Open::new(self));
        match reply {
            Reply::Hang => std::future::pending().await,
            Reply::Slow => {
                for tenth in 1..=10 {
                    self.wait(1000).await;
                    progress(size * tenth / 10);
                }
                Ok(etag())
            }
            Reply::Answer(status, headers, body) => {
                let millis = match request.target {
                    Target::Api => API_MS,
                    Target::Storage => STORAGE_MS,
                };
                self.wait(millis).await;
                progress(size);
                Ok(Response {
                    status,
                    headers,
                    body: if body.is_null() {
                        String::new()
                    } else {
                        body.to_string()
                    },
                })
            }
        }
    }

    async fn sleep(&self, millis: u64) -> Result<(), Error> {
        self.wait(millis).await;
        Ok(())
    }

    fn now_ms(&self) -> f64 {
        self.now.get()
    }

    fn wall_clock_ms(&self) -> u64 {
        // A fixed epoch plus the test clock.
        1_800_000_000_000 + (self.now.get()) as u64
    }
}

fn etag() -> Response {
    Response {
        status: 200,
        headers: vec![("ETag".into(), "\"e\"".into())],
        body: String::new(),
    }
}

/// Tokens `t1`, `t2`, …: a new one on each refresh; every call is recorded.
#[derive(Default)]
struct Recorded {
    calls: RefCell<Vec<bool>>,
}

impl Tokens for Recorded {
    async fn token(&self, refresh: bool) -> Result<String, Error> {
        self.calls.borrow_mut().push(refresh);
        let refreshes = self.calls.borrow().iter().filter(|&&r| r).count();
        Ok(format!("t{}", refreshes + 1))
    }
}

fn options(name: &str, size: u64, segmented: Segmented, concurrency: usize) -> UploadOptions {
    UploadOptions {
        scope: Scope {
            base_url: "https://api.test".into(),
            version: ApiVersion::V10,
            company_id: 7,
            project_id: Some(1),
        },
        file: FileMeta {
            name: name.into(),
            size,
            content_type: None,
            attachment: None,
        },
        segmented,
        segment_size: Some(5_242_880),
        md5: Some(false),
        concurrency,
        allow_insecure_storage: false,
        processing_timeout_ms: 60_000,
        chunk_size: 1 << 20,
    }
}

/// Procore for v1 uploads (form or segmented) named by their file name: the uuid is
/// `U-<name>`; segment URLs end in `/<name>/<index>`.
fn procore(request: &Request) -> Reply {
    let answer = |status, body| Reply::Answer(status, Vec::new(), body);
    match (request.target, request.method) {
        (Target::Api, Method::Post) => {
            let Body::Json(text) = &request.body else {
                panic!("create without JSON")
            };
            let body: Value = serde_json::from_str(text).expect("JSON");
            let name = body["response_filename"]
                .as_str()
                .expect("a name")
                .to_string();
            match body["segments"].as_array() {
                Some(segments) => {
                    let segments: Vec<Value> = (0..segments.len())
                        .map(|i| json!({"url": format!("https://storage.test/{name}/{i}"), "headers": {}}))
                        .collect();
                    answer(
                        201,
                        json!({"uuid": format!("U-{name}"), "segments": segments}),
                    )
                }
                None => answer(
                    201,
                    json!({"uuid": format!("U-{name}"), "url": format!("https://storage.test/{name}"), "fields": {"key": name}}),
                ),
            }
        }
        (Target::Api, Method::Get | Method::Patch) => {
            answer(200, json!({"uuid": "U", "status": "complete"}))
        }
        (Target::Storage, Method::Put) => {
            Reply::Answer(200, vec![("ETag".into(), "\"e\"".into())], Value::Null)
        }
        (Target::Storage, _) => answer(204, Value::Null),
        other => panic!("unexpected {other:?}"),
    }
}

/// Uploads every `(name, size, segmented)` through one client with `limits`; each
/// upload may open `per_upload` storage requests.
fn upload_all(
    world: &World,
    shared: &Shared<Recorded>,
    files: &[(&str, u64, Segmented)],
    per_upload: usize,
) -> Vec<Result<UploadResult, Error>> {
    let bytes: Vec<u8> = (0..files.iter().map(|f| f.1).max().unwrap_or(0))
        .map(|i| (i % 251) as u8)
        .collect();
    let options: Vec<UploadOptions> = files
        .iter()
        .map(|(name, size, segmented)| options(name, *size, *segmented, per_upload))
        .collect();
    let sources: Vec<&[u8]> = files
        .iter()
        .map(|(_, size, _)| &bytes[..*size as usize])
        .collect();
    let hashers: Vec<_> = sources.iter().map(|s| InThread::new(*s)).collect();
    world.run(join_all(options.iter().zip(&hashers).map(
        |(options, hasher)| upload(world, shared, hasher, options, &|_| {}),
    )))
}

/// The name a request is about, from its URL or its create body.
fn file_of(request: &Request) -> String {
    match &request.body {
        Body::Json(text) if request.method == Method::Post => {
            let body: Value = serde_json::from_str(text).expect("JSON");
            body["response_filename"].as_str().unwrap_or("").to_string()
        }
        _ => request
            .url
            .split('/')
            .find_map(|part| part.strip_prefix("U-"))
            .map(str::to_string)
            .unwrap_or_else(|| {
                let path = request.url.trim_start_matches("https://storage.test/");
                path.split('/').next().unwrap_or("").to_string()
            }),
    }
}

#[test]
fn one_client_bounds_storage_requests_and_sending_uploads() {
    let world = World::new(|request, _| procore(request));
    let shared = Shared::new(
        Recorded::default(),
        Limits {
            concurrency: 3,
            max_active_uploads: 2,
            stall_timeout_ms: 30_000,
        },
    );
    let files: Vec<(&str, u64, Segmented)> = vec![
        ("a", 15_000_000, Segmented::Yes),
        ("b", 12_000_000, Segmented::Yes),
        ("c", 1000, Segmented::No),
        ("d", 11_000_000, Segmented::Yes),
        ("e", 0, Segmented::No),
    ];
    // Each upload alone would open up to 16 storage requests.
    let results = upload_all(&world, &shared, &files, 16);
    for result in &results {
        assert!(result.is_ok(), "{result:?}");
    }
    assert_eq!(
        world.storage_most_open.get(),
        3,
        "the client's limit, reached and never passed"
    );
    // Between its create and its last storage request an upload is sending.
    let log = world.log.borrow();
    let mut sending: Vec<String> = Vec::new();
    let mut most_sending = 0;
    for (index, (_, request)) in log.iter().enumerate() {
        let name = file_of(request);
        let is_create = request.target == Target::Api && request.method == Method::Post;
        let last_storage = request.target == Target::Storage
            && !log[index + 1..]
                .iter()
                .any(|(_, r)| r.target == Target::Storage && file_of(r) == name);
        if is_create && !sending.contains(&name) {
            sending.push(name.clone());
        }
        most_sending = most_sending.max(sending.len());
        if last_storage {
            sending.retain(|n| *n != name);
        }
    }
    assert_eq!(most_sending, 2, "maxActiveUploads");
    // Files are started in the order given.
    let creates: Vec<String> = log
        .iter()
        .filter(|(_, r)| r.target == Target::Api && r.method == Method::Post)
        .map(|(_, r)| file_of(r))
        .collect();
    assert_eq!(creates, ["a", "b", "c", "d", "e"]);
}

#[test]
fn an_upload_may_lower_the_clients_limit_for_itself() {
    let world = World::new(|request, _| procore(request));
    let shared = Shared::new(Recorded::default(), Limits::default());
    let results = upload_all(&world, &shared, &[("a", 26_000_000, Segmented::Yes)], 2);
    assert!(results[0].is_ok());
    assert_eq!(world.storage_most_open.get(), 2);
}

#[test]
fn a_429_holds_every_api_request_of_the_client() {
    let limited = Cell::new(false);
    let world = World::new(move |request, _| {
        if request.target == Target::Api && !limited.replace(true) {
            return Reply::Answer(
                429,
                vec![("Retry-After".into(), "5".into())],
                json!({"errors": "slow down"}),
            );
        }
        procore(request)
    });
    let shared = Shared::new(Recorded::default(), Limits::default());
    let files = [("a", 100, Segmented::No), ("b", 100, Segmented::No)];
    let results = upload_all(&world, &shared, &files, 4);
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let api = world.requests(Target::Api);
    let (sent, refused) = &api[0];
    assert_eq!(refused.method, Method::Post, "a's create got the 429");
    let answered = sent + API_MS as f64;
    // b's create was already out when the 429 came; everything sent after it waited.
    let after: Vec<f64> = api
        .iter()
        .map(|(at, _)| *at)
        .filter(|at| *at > *sent)
        .collect();
    assert_eq!(
        after.len(),
        3,
        "b's Show, a's create again, a's Show: {after:?}"
    );
    for at in &after {
        assert!(
            *at >= answered + 5000.0,
            "an API request went out at {at} ms, in the hold"
        );
    }
}

#[test]
fn one_refresh_for_every_request_refused_the_same_token() {
    let world = World::new(|request, _| {
        let token = request
            .headers
            .iter()
            .find(|(n, _)| n == "Authorization")
            .map(|(_, v)| v.clone());
        if request.target == Target::Api && token.as_deref() == Some("Bearer t1") {
            return Reply::Answer(401, Vec::new(), json!({"errors": "expired"}));
        }
        procore(request)
    });
    let shared = Shared::new(
        Recorded::default(),
        Limits {
            max_active_uploads: 3,
            ..Limits::default()
        },
    );
    let files = [
        ("a", 10, Segmented::No),
        ("b", 10, Segmented::No),
        ("c", 10, Segmented::No),
    ];
    let results = upload_all(&world, &shared, &files, 4);
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let refused = world
        .requests(Target::Api)
        .iter()
        .filter(|(_, r)| r.headers.iter().any(|(_, v)| v == "Bearer t1"))
        .count();
    assert_eq!(refused, 3, "three creates went out with t1 at once");
    let calls = shared_calls(&shared);
    assert_eq!(
        calls.iter().filter(|&&refresh| refresh).count(),
        1,
        "one refresh for the three: {calls:?}"
    );
}

fn shared_calls(shared: &Shared<Recorded>) -> Vec<bool> {
    shared.tokens.source().calls.borrow().clone()
}

#[test]
fn a_stalled_storage_request_is_abandoned_and_retried() {
    let storage_requests = Cell::new(0);
    let world = World::new(move |request, _| {
        if request.target == Target::Storage {
            storage_requests.set(storage_requests.get() + 1);
            if storage_requests.get() == 1 {
                return Reply::Hang;
            }
        }
        procore(request)
    });
    let shared = Shared::new(
        Recorded::default(),
        Limits {
            stall_timeout_ms: 2000,
            ..Limits::default()
        },
    );
    let results = upload_all(&world, &shared, &[("a", 100, Segmented::No)], 4);
    assert!(results[0].is_ok(), "{results:?}");
    let storage = world.requests(Target::Storage);
    assert_eq!(storage.len(), 2, "the stalled request, then its retry");
    assert!(storage[1].0 >= storage[0].0 + 2000.0, "{storage:?}");
    assert_eq!(
        world.storage_open.get(),
        0,
        "the stalled request was let go"
    );
}

#[test]
fn a_slow_request_that_keeps_progressing_is_not_a_stall() {
    let world = World::new(|request, _| match request.target {
        Target::Storage => Reply::Slow,
        Target::Api => procore(request),
    });
    let shared = Shared::new(
        Recorded::default(),
        Limits {
            stall_timeout_ms: 2000,
            ..Limits::default()
        },
    );
    let results = upload_all(&world, &shared, &[("a", 6_000_000, Segmented::Yes)], 4);
    assert!(results[0].is_ok(), "{results:?}");
    assert_eq!(
        world.requests(Target::Storage).len(),
        2,
        "two segments, each sent once over ten seconds"
    );
}
