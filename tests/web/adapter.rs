//! The web adapter against what the browser and the caller's JS may hand it: short
//! reads, bad job ranges, worker messages that name no job, tokens that fail, timers
//! dropped early, and every body kind on the API path; and the helpers the facade
//! calls instead of js-sys/web-sys.

// One-range lists are what these tests mean.
#![allow(clippy::single_range_in_vec_init)]

use std::future::ready;
use std::pin::pin;

use futures_util::future::{select, Either};
use js_sys::{Array, Function, Uint8Array};
use procore_upload::core::error::Cause;
use procore_upload::core::hash::{hash_bytes, Digests, HashBackend, HashOptions};
use procore_upload::core::http::{Body, Http, Method, Request, Target, Tokens};
use procore_upload::core::Error;
use procore_upload::facade::hash_job;
use procore_upload::web::abort::AbortWatch;
use procore_upload::web::blob::BlobSource;
use procore_upload::web::error::{call_error, to_js_error, use_error_prototype};
use procore_upload::web::hashing::Hashing;
use procore_upload::web::http::WebHttp;
use procore_upload::web::timer::Timeout;
use procore_upload::web::tokens::JsTokens;
use procore_upload::web::webcrypto;
use procore_upload::web::workers::{WorkerPool, WorkerRuntime};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::{AbortController, Blob};

use super::support::*;

/// Runs JS `body` as a function of no arguments and returns what it returns.
fn js(body: &str) -> JsValue {
    Function::new_no_args(body)
        .call0(&JsValue::UNDEFINED)
        .expect("test JS runs")
}

/// A `Blob` that says it holds `bytes` but reads `missing` bytes short at its end,
/// through its slices and its own stream, as a file truncated on disk after it was
/// picked reads.
fn shrinking_blob(bytes: &[u8], missing: u32) -> Blob {
    let make = Function::new_with_args(
        "bytes, missing",
        "const shrunk = new Blob([bytes.subarray(0, bytes.length - missing)]);
         class Shrinking extends Blob {
           slice(start, end) { return shrunk.slice(start, end); }
           stream() { return shrunk.stream(); }
         }
         return new Shrinking([bytes]);",
    );
    make.call2(
        &JsValue::UNDEFINED,
        &Uint8Array::from(bytes),
        &missing.into(),
    )
    .expect("make blob")
    .unchecked_into()
}

/// A read that comes back short is FILE_READ on the WebCrypto path too, for a last
/// segment read through a slice and for four read through the file's own stream:
/// never a panic, never a digest of the wrong bytes.
#[wasm_bindgen_test]
async fn short_reads_are_file_read_errors() {
    let bytes = pseudo_random_bytes(4 * 1000, 7);
    let subtle = webcrypto::subtle().expect("WebCrypto in a secure test page");
    let one: Vec<std::ops::Range<u64>> = vec![3000..4000];
    let four: Vec<std::ops::Range<u64>> = (0..4).map(|i| i * 1000..(i + 1) * 1000).collect();
    for ranges in [one, four] {
        let blob = shrinking_blob(&bytes, 1);
        let result =
            webcrypto::hash_ranges(&subtle, &blob, &ranges, true, false, 1 << 20, |_| {}).await;
        match result {
            Err(Error::FileRead { message, .. }) => {
                assert!(message.contains("changed while it was read"), "{message}")
            }
            other => panic!("{} ranges: {other:?}", ranges.len()),
        }
        // The same ranges of an intact Blob hash to the right digests.
        let intact = Blob::new_with_u8_array_sequence(&Array::of1(&Uint8Array::from(&bytes[..])))
            .expect("blob");
        let (digests, _) =
            webcrypto::hash_ranges(&subtle, &intact, &ranges, true, false, 1 << 20, |_| {})
                .await
                .expect("hashes");
        for (range, digest) in ranges.iter().zip(digests) {
            let expected = hash_bytes(&bytes[range.start as usize..range.end as usize], true);
            assert_eq!(digest, expected);
        }
    }
}

/// Every read size (down to `chunkSize: 1`), with and without MD5, gives each
/// segment's digests, and with `whole` the whole file's SHA-256 from the same read.
#[wasm_bindgen_test]
async fn webcrypto_ranges_and_the_whole_digest_at_any_read_size() {
    let bytes = pseudo_random_bytes(4 * 300 + 7, 3);
    let subtle = webcrypto::subtle().expect("WebCrypto");
    let blob =
        Blob::new_with_u8_array_sequence(&Array::of1(&Uint8Array::from(&bytes[..]))).expect("blob");
    let mut ranges: Vec<std::ops::Range<u64>> = (0..4).map(|i| i * 300..(i + 1) * 300).collect();
    ranges.push(1200..1207);
    for (chunk, md5, whole) in [
        (1, true, false),
        (1, true, true),
        (64, false, true),
        (1 << 20, true, true),
        (1 << 20, false, false),
    ] {
        let (digests, whole_digest) =
            webcrypto::hash_ranges(&subtle, &blob, &ranges, md5, whole, chunk, |_| {})
                .await
                .expect("hashes");
        for (range, digest) in ranges.iter().zip(digests) {
            let expected = hash_bytes(&bytes[range.start as usize..range.end as usize], md5);
            assert_eq!(digest, expected, "chunk {chunk}, md5 {md5}");
        }
        let expected_whole = whole.then(|| hash_bytes(&bytes, false));
        assert_eq!(
            whole_digest, expected_whole,
            "chunk {chunk}, md5 {md5}, whole"
        );
    }
}

/// `hashJob` (a public export) refuses ranges that are not whole, ordered and
/// within the file with INVALID_INPUT, before reading anything.
#[wasm_bindgen_test]
async fn hash_job_checks_its_ranges() {
    let cases: Vec<(Vec<f64>, f64, &str)> = vec![
        (vec![10.0, 5.0], 4096.0, "not within the file"),
        (vec![0.0, 11.0], 4096.0, "not within the file"),
        (vec![0.0], 4096.0, "pairs"),
        (vec![-1.0, 5.0], 4096.0, "whole numbers"),
        (vec![0.5, 5.0], 4096.0, "whole numbers"),
        (vec![f64::NAN, 5.0], 4096.0, "whole numbers"),
        (vec![0.0, 5.0], -1.0, "chunkSize"),
        (vec![0.0, 5.0], 0.0, "chunkSize"),
    ];
    let noop = Function::new_no_args("");
    for (ranges, chunk, message) in cases {
        let error = hash_job(
            file(b"0123456789", "f").into(),
            ranges.clone(),
            true,
            chunk,
            false,
            noop.clone(),
        )
        .await
        .expect_err("rejects");
        assert_eq!(get_string(&error, "code"), "INVALID_INPUT", "{ranges:?}");
        let got = get_string(&error, "message");
        assert!(got.contains(message), "{ranges:?}: {got}");
    }
}

/// A worker that answers with `message` (JS object literal source) to every job.
fn fake_worker_runtime(message: &str) -> WorkerRuntime {
    let source =
        format!("onmessage = (e) => {{ if (e.data.type === 'job') postMessage({message}); }};");
    let create_worker = Function::new_with_args(
        "source",
        "const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
         return () => new Worker(url);",
    )
    .call1(&JsValue::UNDEFINED, &source.into())
    .expect("worker factory")
    .unchecked_into();
    WorkerRuntime {
        create_worker,
        module: JsValue::NULL,
    }
}

/// Worker messages are believed only when they name a job that was given out: one
/// without an id (or with a bad one, or with a byte count past its job) is a
/// WORKER error, never credited to job 0.
#[wasm_bindgen_test]
async fn worker_messages_must_name_their_job() {
    let digest = "['e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', null]";
    let cases = [
        format!("{{ type: 'done', segments: [{digest}], whole: null }}"),
        format!("{{ type: 'done', id: -1, segments: [{digest}], whole: null }}"),
        format!("{{ type: 'done', id: 0.5, segments: [{digest}], whole: null }}"),
        format!("{{ type: 'done', id: '0', segments: [{digest}], whole: null }}"),
        "{ type: 'progress', id: 0, bytes: 1e12 }".to_string(),
        format!("{{ type: 'done', id: 0, segments: [{digest}, {digest}], whole: null }}"),
    ];
    for message in cases {
        let runtime = fake_worker_runtime(&message);
        let result = hash_empty(&WorkerPool::new(runtime, 1, 10_000)).await;
        assert_eq!(
            result.as_ref().map_err(Error::code).err(),
            Some("WORKER"),
            "{message}: {result:?}"
        );
    }
    // The same worker with a proper id is believed.
    let runtime = fake_worker_runtime(&format!(
        "{{ type: 'done', id: 0, segments: [{digest}], whole: null }}"
    ));
    let segments = hash_empty(&WorkerPool::new(runtime, 1, 10_000))
        .await
        .expect("a well-formed answer is taken");
    assert_eq!(segments, vec![hash_bytes(b"", false)]);
}

/// A worker's error reply keeps its code, and its message says the error's first
/// words once ("could not read the file: could not read the file: …" before).
#[wasm_bindgen_test]
async fn a_worker_error_keeps_its_code_and_says_its_message_once() {
    let cases = [
        (
            "{ type: 'error', id: 0, code: 'FILE_READ', message: 'could not read the file: TypeError: network error' }",
            "FILE_READ",
            "could not read the file: TypeError: network error",
        ),
        (
            "{ type: 'error', id: 0, code: 'WORKER', message: 'hashing worker failed: boom' }",
            "WORKER",
            "hashing worker failed: boom",
        ),
        (
            "{ type: 'error', id: 0, code: 'INVALID_INPUT', message: 'invalid input: ranges' }",
            "WORKER",
            "hashing worker failed: invalid input: ranges",
        ),
        (
            "{ type: 'error', id: 0, code: 'ABORTED', message: 'the operation was aborted' }",
            "ABORTED",
            "the operation was aborted",
        ),
    ];
    for (message, code, text) in cases {
        let runtime = fake_worker_runtime(message);
        let error = hash_empty(&WorkerPool::new(runtime, 1, 10_000))
            .await
            .expect_err("the worker failed");
        assert_eq!(
            (error.code(), error.to_string()),
            (code, text.to_string()),
            "{message}"
        );
    }
}

/// Workers whose script is `scripts[n]` for the n-th worker started (the last one
/// for any later), each answering a job by echoing its id; `started()` counts them.
fn scripted_workers(scripts: &[&str]) -> (WorkerRuntime, Function) {
    let list: Array = scripts.iter().map(|s| JsValue::from_str(s)).collect();
    let made: Array = Function::new_with_args(
        "scripts",
        "let started = 0;
         const urls = scripts.map((s) => URL.createObjectURL(new Blob([s], { type: 'text/javascript' })));
         return [() => new Worker(urls[Math.min(started++, urls.length - 1)]), () => started];",
    )
    .call1(&JsValue::UNDEFINED, &list)
    .expect("worker factory")
    .unchecked_into();
    (
        WorkerRuntime {
            create_worker: made.get(0).unchecked_into(),
            module: JsValue::NULL,
        },
        made.get(1).unchecked_into(),
    )
}

// Each says ready on `init`, as js/hash-worker.js does once it has the wasm.
const ECHO: &str = "onmessage = (e) => { if (e.data.type === 'init') postMessage({ type: 'ready' }); if (e.data.type === 'job') postMessage({ type: 'done', id: e.data.id, segments: [['e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', null]], whole: null }); };";
const CRASH: &str = "onmessage = (e) => { if (e.data.type === 'init') postMessage({ type: 'ready' }); if (e.data.type === 'job') throw new Error('boom'); };";
/// A worker script that fails as it loads, as the package's module worker does when
/// an engine without module workers loads it as a classic script.
const NEVER_STARTS: &str = "import { initSync } from './procore_upload_wasm.js';";

/// The digests of an empty file hashed in `pool` (on the calling thread where its
/// workers cannot start), as an upload hashes.
async fn hash_empty(pool: &WorkerPool) -> Result<Vec<Digests>, Error> {
    let source = BlobSource::from_raw(file(b"", "empty").into());
    Hashing::choose(Some(pool), 1, &source, None)
        .hash(
            &[0..0],
            HashOptions::new(false, None).expect("options"),
            false,
            &|_| {},
        )
        .await
        .map(|(segments, _)| segments)
}

fn started(counter: &Function) -> f64 {
    counter
        .call0(&JsValue::UNDEFINED)
        .expect("count")
        .as_f64()
        .expect("a number")
}

/// A worker that crashes is replaced and its job runs once more; a job that
/// crashes its worker twice is a WORKER error.
#[wasm_bindgen_test]
async fn a_crashed_worker_is_replaced_and_its_job_run_once_more() {
    let (runtime, counter) = scripted_workers(&[CRASH, ECHO]);
    let pool = WorkerPool::new(runtime, 1, 10_000);
    hash_empty(&pool)
        .await
        .expect("the second worker hashed it");
    assert_eq!(started(&counter), 2.0);

    let (runtime, counter) = scripted_workers(&[CRASH]);
    let pool = WorkerPool::new(runtime, 1, 10_000);
    let error = hash_empty(&pool).await.expect_err("crashed twice");
    assert_eq!(error.code(), "WORKER");
    assert!(error.to_string().contains("crashed twice"), "{error}");
    assert_eq!(started(&counter), 2.0, "run once more, not forever");
}

/// `console.warn` recorded for the length of a test (put back when dropped).
struct Warnings {
    _patch: Patched,
    calls: Array,
}

impl Warnings {
    fn record() -> Self {
        let (recorder, calls) = recorder();
        Self {
            _patch: Patched::on(js("return console"), "warn", &recorder),
            calls,
        }
    }

    fn messages(&self) -> Vec<String> {
        self.calls
            .iter()
            .map(|m| m.as_string().unwrap_or_default())
            .collect()
    }
}

/// A pool none of whose workers ever starts (an engine without module workers, a
/// script that does not load) gives up on workers: the hashing runs on the calling
/// thread, right, with one console warning; later hashing tries no worker again.
#[wasm_bindgen_test]
async fn a_pool_whose_workers_never_start_hashes_on_the_calling_thread() {
    let bytes = pseudo_random_bytes(3000, 11);
    let ranges: Vec<std::ops::Range<u64>> = vec![0..1000, 1000..2000, 2000..3000];
    let options = HashOptions::new(true, None).expect("options");
    let expected: Vec<Digests> = ranges
        .iter()
        .map(|r| hash_bytes(&bytes[r.start as usize..r.end as usize], true))
        .collect();
    let warnings = Warnings::record();
    let (runtime, counter) = scripted_workers(&[NEVER_STARTS]);
    let pool = WorkerPool::new(runtime, 2, 10_000);
    for round in 0..2 {
        let source = BlobSource::from_raw(file(&bytes, "f").into());
        let (segments, whole) = Hashing::choose(Some(&pool), 2, &source, None)
            .hash(&ranges, options, true, &|_| {})
            .await
            .expect("hashed on the calling thread");
        assert_eq!(segments, expected, "round {round}");
        assert_eq!(whole, Some(hash_bytes(&bytes, false)), "round {round}");
    }
    let tried = started(&counter);
    assert!((1.0..=2.0).contains(&tried), "workers tried once: {tried}");
    assert!(pool.gave_up());
    assert_eq!(pool.running(), 0);
    let messages = warnings.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages[0].contains("calling thread"), "{messages:?}");

    // A factory that throws (an engine refusing `type: "module"`): the same.
    let throwing = Function::new_no_args(
        "throw new TypeError(\"Module scripts are not supported on DedicatedWorker yet.\")",
    );
    let pool = WorkerPool::new(
        WorkerRuntime {
            create_worker: throwing,
            module: JsValue::NULL,
        },
        1,
        10_000,
    );
    assert_eq!(
        hash_empty(&pool)
            .await
            .expect("hashed on the calling thread"),
        vec![hash_bytes(b"", false)]
    );
    assert!(pool.gave_up());
    assert_eq!(warnings.messages().len(), 2, "one warning per pool");
}

/// Once a worker of the pool has started, a worker failing as it loads is a crash
/// like any other: replaced, its job run once more, then WORKER; never the calling
/// thread.
#[wasm_bindgen_test]
async fn after_a_worker_started_a_load_failure_is_a_crash() {
    let (runtime, counter) = scripted_workers(&[ECHO, NEVER_STARTS]);
    let pool = WorkerPool::new(runtime, 1, 50);
    hash_empty(&pool).await.expect("the first worker hashed it");
    Timeout::start(200).wait().await;
    assert_eq!(pool.running(), 0, "ended when idle");
    let error = hash_empty(&pool).await.expect_err("crashed twice");
    assert_eq!(error.code(), "WORKER");
    assert!(error.to_string().contains("crashed twice"), "{error}");
    assert_eq!(
        started(&counter),
        3.0,
        "one more worker, then one for the rerun"
    );
    assert!(!pool.gave_up());
}

/// The pool's workers serve one hashing after another and end once idle.
#[wasm_bindgen_test]
async fn workers_are_reused_then_end_when_idle() {
    let (runtime, counter) = scripted_workers(&[ECHO]);
    let pool = WorkerPool::new(runtime, 2, 100);
    for _ in 0..3 {
        hash_empty(&pool).await.expect("hashed");
    }
    assert_eq!(started(&counter), 1.0, "one worker did all three");
    assert_eq!(pool.running(), 1);
    Timeout::start(300).wait().await;
    assert_eq!(pool.running(), 0, "ended after 100 ms idle");
    hash_empty(&pool)
        .await
        .expect("a new worker starts on need");
    assert_eq!(started(&counter), 2.0);
}

/// `close()` fails the jobs in progress and refuses later ones.
#[wasm_bindgen_test]
async fn a_closed_pool_stops_its_jobs_and_takes_no_more() {
    // A worker that never answers: the job runs until the pool is closed.
    let (runtime, _) = scripted_workers(&["onmessage = () => {};"]);
    let pool = WorkerPool::new(runtime, 1, 10_000);
    let closer = pool.clone();
    let hashing = hash_empty(&pool);
    let close = async move {
        Timeout::start(50).wait().await;
        closer.close();
    };
    let (result, ()) = futures_util::future::join(hashing, close).await;
    assert_eq!(result.map_err(|e| e.code()), Err("ABORTED"));
    assert_eq!(pool.running(), 0);
    assert_eq!(
        hash_empty(&pool).await.map_err(|e| e.code()),
        Err("INVALID_INPUT")
    );
}

/// Replaces `globalThis[name]` (or `target[name]`) for the length of a test; puts it
/// back when dropped.
struct Patched {
    target: JsValue,
    name: &'static str,
    original: JsValue,
}

impl Patched {
    fn new(name: &'static str, replacement: &JsValue) -> Self {
        Self::on(js_sys::global().into(), name, replacement)
    }

    fn on(target: JsValue, name: &'static str, replacement: &JsValue) -> Self {
        let original = get(&target, name);
        js_sys::Reflect::set(&target, &name.into(), replacement).expect("patch");
        Self {
            target,
            name,
            original,
        }
    }
}

impl Drop for Patched {
    fn drop(&mut self) {
        let _ = js_sys::Reflect::set(&self.target, &self.name.into(), &self.original);
    }
}

/// A timer dropped before it fires is cleared (as gloo's TimeoutFuture does), so a
/// sleep abandoned by a `select` leaves nothing behind.
#[wasm_bindgen_test]
async fn a_dropped_timeout_clears_its_timer() {
    // Only this test's own timers are looked at (by the delays they were set with):
    // other timers of the page (a worker pool's idle timer) may be cleared meanwhile.
    let started = Array::new();
    let cleared = Array::new();
    let set_spy = Function::new_with_args(
        "started, original",
        "return (f, ms, ...rest) => { const id = original(f, ms, ...rest); started.push([ms, id]); return id; };",
    )
    .call2(&JsValue::UNDEFINED, &started, &get(&js_sys::global(), "setTimeout"))
    .expect("spy");
    let clear_spy = Function::new_with_args(
        "cleared, original",
        "return (id) => { cleared.push(id); return original(id); };",
    )
    .call2(
        &JsValue::UNDEFINED,
        &cleared,
        &get(&js_sys::global(), "clearTimeout"),
    )
    .expect("spy");
    let _set = Patched::new("setTimeout", &set_spy);
    let _clear = Patched::new("clearTimeout", &clear_spy);
    let id_of = |ms: f64| -> JsValue {
        started
            .iter()
            .map(|pair| Array::from(&pair))
            .find(|pair| pair.get(0).as_f64() == Some(ms))
            .map(|pair| pair.get(1))
            .expect("the timer was set")
    };
    let was_cleared = |id: &JsValue| cleared.iter().any(|c| c == *id);
    {
        let mut timeout = Timeout::start(60_000);
        let (long, now) = (pin!(timeout.wait()), pin!(ready(())));
        let right = matches!(select(long, now).await, Either::Right(_));
        assert!(right, "the long timer loses");
    }
    assert!(
        was_cleared(&id_of(60_000.0)),
        "the dropped timer was cleared"
    );
    // One that fired is not cleared again.
    let mut fired = Timeout::start(1);
    fired.wait().await;
    drop(fired);
    assert!(
        !was_cleared(&id_of(1.0)),
        "a timer that fired is not cleared"
    );
}

/// `WebHttp::sleep` ends with ABORTED as soon as the signal fires, and at once when
/// it already has; an `AbortWatch` of an aborted signal is an error, not a watch
/// that never fires.
#[wasm_bindgen_test]
async fn sleeps_end_on_abort() {
    let controller = AbortController::new().expect("controller");
    controller.abort();
    assert!(matches!(
        AbortWatch::new(Some(&controller.signal())),
        Err(Error::Aborted)
    ));
    let http = WebHttp::new(file(b"", "e").into(), Some(controller.signal()));
    assert_eq!(http.sleep(60_000).await, Err(Error::Aborted));

    let controller = AbortController::new().expect("controller");
    let http = WebHttp::new(file(b"", "e").into(), Some(controller.signal()));
    let later = controller.clone();
    let aborter = Function::new_with_args("abort", "setTimeout(abort, 20);");
    let abort = wasm_bindgen::closure::Closure::once_into_js(move || later.abort());
    aborter
        .call1(&JsValue::UNDEFINED, &abort)
        .expect("schedule");
    let started = js_sys::Date::now();
    assert_eq!(http.sleep(60_000).await, Err(Error::Aborted));
    assert!(
        js_sys::Date::now() - started < 10_000.0,
        "ended with the abort"
    );
}

/// The transport's clock is `performance.now()`, which never jumps when the wall
/// clock is set (`Date.now()` does): the v2.1 processing timeout measures with it.
#[wasm_bindgen_test]
fn the_clock_is_monotonic() {
    let performance = get(&js_sys::global(), "performance");
    let original = get(&performance, "now");
    let fixed = js("return () => 12345.5;");
    js_sys::Reflect::set(&performance, &"now".into(), &fixed).expect("patch");
    let http = WebHttp::new(file(b"", "e").into(), None);
    let read = http.now_ms();
    js_sys::Reflect::set(&performance, &"now".into(), &original).expect("restore");
    assert_eq!(read, 12345.5);
}

/// `getAccessToken` receives `{ refresh }`; what it throws or rejects with becomes an
/// ACCESS_TOKEN error with that value as `cause` and no HTTP status.
#[wasm_bindgen_test]
async fn token_providers_get_refresh_and_their_failures_are_causes() {
    let (record, calls) = recorder();
    let provider: Function =
        Function::new_with_args("record", "return (arg) => { record(arg); return 'tok'; };")
            .call1(&JsValue::UNDEFINED, &record)
            .expect("provider")
            .unchecked_into();
    let tokens = JsTokens::Provider(provider);
    assert_eq!(tokens.token(false).await, Ok("tok".to_string()));
    assert_eq!(tokens.token(true).await, Ok("tok".to_string()));
    let refreshes: Vec<Option<bool>> = calls
        .iter()
        .map(|arg| get(&arg, "refresh").as_bool())
        .collect();
    assert_eq!(refreshes, [Some(false), Some(true)]);
    assert!(tokens.can_refresh());
    assert!(!JsTokens::Fixed("t".into()).can_refresh());

    let thrown = js("return new TypeError('offline');");
    for (body, what) in [
        (
            "return () => { throw thrown; };",
            "threw TypeError: offline",
        ),
        (
            "return () => Promise.reject(thrown);",
            "rejected with TypeError: offline",
        ),
    ] {
        let provider: Function = Function::new_with_args("thrown", body)
            .call1(&JsValue::UNDEFINED, &thrown)
            .expect("provider")
            .unchecked_into();
        let error = JsTokens::Provider(provider)
            .token(false)
            .await
            .expect_err("fails");
        assert_eq!(error.code(), "ACCESS_TOKEN");
        assert!(error.to_string().contains(what), "{error}");
        let js_error = to_js_error(&error);
        assert_eq!(get_string(&js_error, "code"), "ACCESS_TOKEN");
        assert!(
            get(&js_error, "status").is_undefined(),
            "no request, no status"
        );
        assert_eq!(
            get(&js_error, "cause"),
            thrown,
            "the thrown value is the cause"
        );
    }
    let empty: Function = js("return () => '';").unchecked_into();
    let error = JsTokens::Provider(empty)
        .token(false)
        .await
        .expect_err("empty");
    assert_eq!(error.code(), "ACCESS_TOKEN");
    assert!(get(&to_js_error(&error), "cause").is_undefined());
}

/// Errors from the core's own decisions carry no cause; a cause that is not a JS
/// value is not passed on.
#[wasm_bindgen_test]
fn causes_only_from_js() {
    assert!(get(&to_js_error(&Error::Protocol("x".into())), "cause").is_undefined());
    let foreign = Error::file_read("x").with_cause(Cause::new(5u8));
    assert!(get(&to_js_error(&foreign), "cause").is_undefined());
}

/// Every property and the message of an error of a signed storage URL: no query,
/// no host in `path`; `method`, `status`, `retryAfterMs` as the core says.
#[wasm_bindgen_test]
fn errors_name_the_request_without_its_query_and_the_wait() {
    let http = Error::Http {
        method: "PUT",
        url: "https://s3.example/bucket/key".into(),
        status: 503,
        body: "<Code>SlowDown</Code>".into(),
        retry_after_secs: Some(2),
    };
    let js_error = to_js_error(&http);
    assert_eq!(get_string(&js_error, "method"), "PUT");
    assert_eq!(get_string(&js_error, "path"), "/bucket/key");
    assert_eq!(get(&js_error, "status").as_f64(), Some(503.0));
    assert_eq!(get(&js_error, "retryAfterMs").as_f64(), Some(2000.0));
    let limited = Error::RateLimited {
        method: "POST",
        url: "https://api.example/rest/v1.0/files".into(),
        retry_after_secs: None,
        body: String::new(),
    };
    let js_error = to_js_error(&limited);
    assert_eq!(
        (get_string(&js_error, "code"), get_string(&js_error, "path")),
        ("RATE_LIMITED".into(), "/rest/v1.0/files".into())
    );
    assert!(
        !js("return (e) => 'retryAfterMs' in e")
            .unchecked_into::<Function>()
            .call1(&JsValue::UNDEFINED, &js_error)
            .expect("in")
            .is_truthy(),
        "no wait said, no retryAfterMs"
    );
    for error in [Error::Aborted, Error::InvalidInput("x".into())] {
        let js_error = to_js_error(&error);
        assert!(get(&js_error, "method").is_undefined(), "{error}");
        assert!(get(&js_error, "path").is_undefined(), "{error}");
    }
}

/// An abort while the caller's signal is aborted carries its reason as `cause`;
/// an abort without one (cancel, close), or another error, gets no reason.
#[wasm_bindgen_test]
fn aborts_carry_the_reason_of_the_callers_signal() {
    let reason = js("return new Error('user left');");
    let controller = AbortController::new().expect("AbortController");
    let live = controller.signal();
    let error = call_error(&Error::Aborted, Some(&live));
    assert!(
        get(&error, "cause").is_undefined(),
        "not aborted yet: no cause"
    );
    controller.abort_with_reason(&reason);
    let error = call_error(&Error::Aborted, Some(&live));
    assert_eq!(get_string(&error, "name"), "AbortError");
    assert_eq!(get(&error, "cause"), reason, "the reason itself");
    let plain = AbortController::new().expect("AbortController");
    plain.abort();
    let error = call_error(&Error::Aborted, Some(&plain.signal()));
    assert_eq!(get(&error, "cause"), plain.signal().reason());
    assert_eq!(get_string(&get(&error, "cause"), "name"), "AbortError");
    assert!(get(&call_error(&Error::Aborted, None), "cause").is_undefined());
    let other = call_error(&Error::Timeout("x".into()), Some(&live));
    assert!(
        get(&other, "cause").is_undefined(),
        "only aborts take the reason"
    );
}

/// Once a prototype is handed over, every error is an instance of its class (and
/// still an `Error`), with its own fields unchanged. (No other test hands one over:
/// the first one stays for the page.)
#[wasm_bindgen_test]
fn errors_are_instances_of_the_class_handed_over() {
    let class: Function = js("return class TestUploadError extends Error {};").unchecked_into();
    let instance_of: Function =
        js("return (e, c) => e instanceof c && e instanceof Error;").unchecked_into();
    let is_instance = |error: &JsValue| {
        instance_of
            .call2(&JsValue::UNDEFINED, error, &class)
            .expect("instanceof")
            .is_truthy()
    };
    assert!(!is_instance(&to_js_error(&Error::Protocol("x".into()))));
    use_error_prototype(get(&class, "prototype"));
    for (error, name, code) in [
        (
            Error::InvalidInput("x".into()),
            "ProcoreUploadError",
            "INVALID_INPUT",
        ),
        (Error::Aborted, "AbortError", "ABORTED"),
    ] {
        let js_error = call_error(&error, None);
        assert!(is_instance(&js_error), "{error}");
        assert_eq!(get_string(&js_error, "name"), name);
        assert_eq!(get_string(&js_error, "code"), code);
        assert_eq!(get_string(&js_error, "message"), error.to_string());
    }
}

/// The API path sends every body kind (JSON, a slice of the file, a form with the
/// file last) instead of dropping the ones that are not JSON.
#[wasm_bindgen_test]
async fn api_requests_send_every_body_kind() {
    let requests = Array::new();
    let stub = Function::new_with_args(
        "requests",
        // WebKit cannot read back a Request's multipart body that holds a Blob
        // ("Unable to read form data blob"); it is marked so, and only its type checked.
        "return async (request) => {
           const type = request.headers.get('content-type') ?? '';
           let body;
           try {
             body = new Uint8Array(await request.arrayBuffer());
           } catch (error) {
             if (!type.startsWith('multipart/form-data')) throw error;
             body = new TextEncoder().encode('unreadable form');
           }
           requests.push({ method: request.method, type, body });
           return new Response('{}', { status: 200 });
         };",
    )
    .call1(&JsValue::UNDEFINED, &requests)
    .expect("stub");
    let _patch = Patched::new("fetch", &stub);
    let bytes = b"0123456789";
    let http = WebHttp::new(file(bytes, "f.bin").into(), None);
    let send = |body: Body| Request {
        method: Method::Post,
        url: "https://api.test/x".into(),
        headers: Vec::new(),
        body,
        target: Target::Api,
    };
    for body in [
        Body::Json("{\"a\":1}".into()),
        Body::Bytes(2..5),
        Body::Form {
            fields: vec![("key".into(), "k".into())],
            file: 0..3,
            filename: "f.bin".into(),
        },
        Body::Empty,
    ] {
        let response = http.send(send(body), &|_| {}).await.expect("answered");
        assert_eq!(response.status, 200);
    }
    let sent: Vec<Vec<u8>> = requests
        .iter()
        .map(|r| Uint8Array::new(&get(&r, "body")).to_vec())
        .collect();
    assert_eq!(sent[0], b"{\"a\":1}");
    assert_eq!(sent[1], b"234", "the slice, not nothing");
    let form = String::from_utf8_lossy(&sent[2]).to_string();
    assert!(
        form == "unreadable form" && is_webkit()
            || form.contains("name=\"key\"")
                && form.contains("filename=\"f.bin\"")
                && form.contains("012"),
        "{form}"
    );
    assert!(get_string(&requests.get(2), "type").starts_with("multipart/form-data"));
    assert!(sent[3].is_empty());
}

/// The helpers the facade calls instead of js-sys/web-sys: a deferred promise settles
/// once, with what it was given; listeners that throw are reported, not passed on;
/// controllers and `Either` report their abort; objects and arrays keep their order;
/// the JSON the library writes comes back as JS data.
#[wasm_bindgen_test]
async fn the_facade_helpers_do_what_they_say() {
    use procore_upload::web::abort::{Controller, Either};
    use procore_upload::web::js::{array, call_listener, deferred, from_json, object, resolved};
    use wasm_bindgen_futures::JsFuture;

    let (promise, settle) = deferred();
    let settle = settle.expect("the executor ran");
    settle.resolve(&7.into());
    settle.resolve(&8.into());
    settle.reject(&9.into());
    assert_eq!(JsFuture::from(promise).await, Ok(7.into()));
    let (promise, settle) = deferred();
    settle.expect("the executor ran").reject(&"no".into());
    assert_eq!(JsFuture::from(promise).await, Err("no".into()));
    assert_eq!(JsFuture::from(resolved()).await, Ok(JsValue::UNDEFINED));

    let seen = Array::new();
    let listener = Function::new_with_args(
        "seen",
        "return (v) => { seen.push(v); throw new Error('boom'); };",
    )
    .call1(&JsValue::UNDEFINED, &seen)
    .expect("listener")
    .unchecked_into::<Function>();
    call_listener(&listener, "onProgress", &5.into());
    assert_eq!(seen.to_vec(), vec![JsValue::from(5)]);

    let first = Controller::new().expect("controller");
    let second = Controller::new().expect("controller");
    assert!(!first.is_aborted() && !first.signal().aborted());
    let either = Either::new(Some(&first.signal()), &second.signal()).expect("either");
    assert!(!either.is_aborted());
    second.abort();
    assert!(second.is_aborted() && second.signal().aborted());
    assert!(either.is_aborted() && !first.is_aborted());

    let made = object(&[("upload", &1.into()), ("attached", &"a".into())]);
    assert_eq!(
        js_sys::JSON::stringify(&made).expect("JSON").as_string(),
        Some(r#"{"upload":1,"attached":"a"}"#.into())
    );
    let list = array([JsValue::from(1), JsValue::from("b")]);
    assert_eq!(
        js_sys::JSON::stringify(&list).expect("JSON").as_string(),
        Some(r#"[1,"b"]"#.into())
    );
    assert!(Array::is_array(&array([])));
    let parsed = from_json(r#"{"key":"k","parts":[1]}"#).expect("JSON");
    assert_eq!(get(&parsed, "key").as_string(), Some("k".into()));
    assert_eq!(from_json("{"), None);
}
