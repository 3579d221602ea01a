//! An upload's state as a value: stopped runs go on from their last saved state,
//! sending only what is missing; states kept in a store are found, checked and
//! bounded. Native, on the scripted transport.
#![cfg(not(target_arch = "wasm32"))]

use std::cell::{Cell, RefCell};
use std::ops::Range;

use procore_upload::core::engine::{
    eta_seconds, fresh_state, prepare, report_due, run, server_checkpoint_due, speed, Checkpoints,
    Phase, Progress, ProgressTracker, ReportGate, UploadOptions, UploadResult,
};
use procore_upload::core::hash::{Digests, HashBackend, HashOptions, InThread};
use procore_upload::core::http::{Body, Http, Method, Request};
use procore_upload::core::plan::{ApiVersion, Segmented, MIB};
use procore_upload::core::runtime::{Limits, Shared};
use procore_upload::core::state::{fingerprint, parse_state, state_text, StateScope, UploadState};
use procore_upload::core::Error;
use serde_json::{json, Value};

mod common;
use common::*;

const SEGMENT: usize = 5 * MIB as usize;

/// A change made to a good state in the table of misfits.
type StateChange = Box<dyn Fn(&mut UploadState)>;
/// Speed samples: (ms, bytes uploaded).
type Samples = &'static [(f64, u64)];

/// Counts the hashing calls and bytes of the hasher it wraps.
struct CountingHasher<'a> {
    inner: InThread<'a, [u8]>,
    calls: Cell<usize>,
    bytes: Cell<u64>,
}

impl<'a> CountingHasher<'a> {
    fn new(source: &'a [u8]) -> Self {
        Self {
            inner: InThread::new(source),
            calls: Cell::new(0),
            bytes: Cell::new(0),
        }
    }
}

impl HashBackend for CountingHasher<'_> {
    fn size(&self) -> u64 {
        self.inner.size()
    }

    async fn hash(
        &self,
        ranges: &[Range<u64>],
        options: HashOptions,
        whole: bool,
        progress: &dyn Fn(u64),
    ) -> Result<(Vec<Digests>, Option<Digests>), Error> {
        self.calls.set(self.calls.get() + 1);
        let bytes: u64 = ranges.iter().map(|r| r.end - r.start).sum();
        self.bytes.set(self.bytes.get() + bytes);
        self.inner.hash(ranges, options, whole, progress).await
    }
}

fn segmented(version: ApiVersion, size: usize) -> UploadOptions {
    let mut options = options(version, Some(42), size as u64, Segmented::Yes);
    options.segment_size = Some(if version == ApiVersion::V21 {
        SEGMENT as u64 + 1
    } else {
        SEGMENT as u64
    });
    // One PUT at a time: which part a stop hits is then certain.
    options.concurrency = 1;
    options
}

/// One upload across several runs: the same tracker, every saved state kept.
struct Task<'a> {
    http: &'a Scripted,
    shared: Shared<CountingTokens>,
    options: UploadOptions,
    states: RefCell<Vec<UploadState>>,
    seen: RefCell<Vec<Progress>>,
}

impl<'a> Task<'a> {
    fn new(http: &'a Scripted, options: UploadOptions) -> Self {
        Self {
            http,
            shared: Shared::new(tokens(), Limits::default()),
            options,
            states: RefCell::new(Vec::new()),
            seen: RefCell::new(Vec::new()),
        }
    }

    fn last_state(&self) -> Option<UploadState> {
        self.states.borrow().last().cloned()
    }

    fn run(
        &self,
        tracker: &ProgressTracker<'_>,
        hasher: &CountingHasher<'_>,
        state: Option<UploadState>,
        verify: bool,
    ) -> Result<UploadResult, Error> {
        let prepared = prepare(&self.options, hasher.size())?;
        let saved = |state: &UploadState| self.states.borrow_mut().push(state.clone());
        let fresh = || {
            fresh_state(
                &self.options,
                prepared,
                identity(self.options.file.size),
                self.http.wall_clock_ms(),
            )
        };
        let held = RefCell::new(state.unwrap_or_else(fresh));
        pollster::block_on(run(
            self.http,
            &self.shared,
            hasher,
            &self.options,
            prepared,
            tracker,
            Checkpoints {
                state: &held,
                verify,
                fresh: &fresh,
                saved: &saved,
            },
        ))
    }

    /// A first run that stops (the responder aborts a PUT): the state it left.
    fn stopped(&self, tracker: &ProgressTracker<'_>, hasher: &CountingHasher<'_>) -> UploadState {
        let stopped = self.run(tracker, hasher, None, false);
        assert!(matches!(stopped, Err(Error::Aborted)), "{stopped:?}");
        self.last_state().unwrap()
    }

    fn tracker(&self) -> ProgressTracker<'_> {
        let prepared = prepare(&self.options, self.options.file.size).unwrap();
        ProgressTracker::new(
            self.options.file.size,
            prepared.segments_total(),
            Box::new(|p| self.seen.borrow_mut().push(*p)),
            Box::new(|| self.http.clock.get()),
        )
    }
}

fn assert_monotonic_and_capped(progress: &[Progress]) {
    for pair in progress.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        assert!(b.phase >= a.phase, "{a:?} → {b:?}");
        assert!(b.bytes_hashed >= a.bytes_hashed, "{a:?} → {b:?}");
        assert!(b.bytes_uploaded >= a.bytes_uploaded, "{a:?} → {b:?}");
        assert!(b.segments_done >= a.segments_done, "{a:?} → {b:?}");
    }
    for p in progress {
        assert!(p.bytes_uploaded <= p.total_bytes, "{p:?}");
    }
}

fn puts(http: &Scripted) -> Vec<String> {
    http.requests()
        .iter()
        .filter(|r| r.method == Method::Put)
        .map(|r| r.url.clone())
        .collect()
}

fn count(http: &Scripted, method: Method) -> usize {
    http.requests()
        .iter()
        .filter(|r| r.method == method)
        .count()
}

/// The v1 mock, with the PUT of part `stop_at` failing as a pause does (aborted),
/// once.
fn v1_stopping_at(source: Vec<u8>, stop_at: usize) -> Scripted {
    let mut inner = v1_segmented_responder(source, SEGMENT);
    let stopped = Cell::new(false);
    Scripted::new(move |request: &Request| {
        let part = format!("https://storage.test/part/{stop_at}?");
        if request.method == Method::Put && request.url.starts_with(&part) && !stopped.get() {
            stopped.set(true);
            return Err(Error::Aborted);
        }
        inner(request)
    })
}

#[test]
fn a_stopped_v1_upload_goes_on_with_only_the_parts_without_an_etag() {
    let size = 3 * SEGMENT + 10;
    let source = data(size);
    let http = v1_stopping_at(source.clone(), 2);
    let task = Task::new(&http, segmented(ApiVersion::V11, size));
    let tracker = task.tracker();
    let hasher = CountingHasher::new(&source);

    let state = task.stopped(&tracker, &hasher);
    assert_eq!(state.uuid.as_deref(), Some("U2"));
    assert_eq!(state.phase, "uploading");
    let phases: Vec<String> = task
        .states
        .borrow()
        .iter()
        .map(|s| s.phase.clone())
        .collect();
    assert_eq!(
        phases.first().map(String::as_str),
        Some("hashing"),
        "{phases:?}"
    );
    let stored: Vec<bool> = state.etags.iter().map(Option::is_some).collect();
    assert_eq!(stored, [true, true, false, false]);
    assert_eq!(state.bytes_stored(), 2 * SEGMENT as u64);
    // The state survives being written out and read back.
    assert_eq!(parse_state(&state_text(&state)), Some(state.clone()));
    assert_eq!(tracker.current().segments_done, 2);
    let before = http.requests().len();

    let done = task.run(&tracker, &hasher, Some(state), false).unwrap();
    let again = &http.requests()[before..];
    let methods: Vec<Method> = again.iter().map(|r| r.method).collect();
    assert_eq!(
        methods,
        [Method::Put, Method::Put, Method::Patch],
        "no create, no hashing: the two missing parts, then complete"
    );
    assert!(again[0].url.contains("/part/2?") && again[1].url.contains("/part/3?"));
    assert_eq!(hasher.calls.get(), 1, "hashed once, in the first run");
    let etags: Vec<Value> = done
        .segments
        .as_ref()
        .unwrap()
        .iter()
        .map(|s| json!({"etag": s.etag}))
        .collect();
    assert_eq!(
        again[2].body,
        Body::Json(json!({"segments": etags}).to_string())
    );
    assert_eq!(etags.len(), 4);
    let progress = task.seen.borrow();
    assert_monotonic_and_capped(&progress);
    let last = progress.last().unwrap();
    assert_eq!((last.bytes_uploaded, last.segments_done), (size as u64, 4));
}

#[test]
fn a_v1_state_past_its_hour_is_created_again_from_the_stored_digests() {
    let size = 2 * SEGMENT + 10;
    let source = data(size);
    let http = v1_stopping_at(source.clone(), 1);
    let task = Task::new(&http, segmented(ApiVersion::V11, size));
    let tracker = task.tracker();
    let hasher = CountingHasher::new(&source);
    let state = task.stopped(&tracker, &hasher);
    let first_create = http.requests()[0].body.clone();

    // 56 minutes on: the instructions are taken for expired.
    http.clock.set(http.clock.get() + 56.0 * 60_000.0);
    let before = http.requests().len();
    task.run(&tracker, &hasher, Some(state), false).unwrap();
    let again = &http.requests()[before..];
    assert_eq!(again[0].method, Method::Post);
    assert_eq!(
        again[0].body, first_create,
        "the same digests, not hashed again"
    );
    assert_eq!(hasher.calls.get(), 1);
    assert_eq!(
        again.iter().filter(|r| r.method == Method::Put).count(),
        3,
        "a new create is a new multipart upload: every part again"
    );
    assert_monotonic_and_capped(&task.seen.borrow());
}

#[test]
fn a_state_from_a_store_whose_first_segment_changed_starts_afresh() {
    let size = 2 * SEGMENT + 10;
    let old = data(size);
    let http = v1_stopping_at(old.clone(), 1);
    let task = Task::new(&http, segmented(ApiVersion::V11, size));
    let tracker = task.tracker();
    let state = task.stopped(&tracker, &CountingHasher::new(&old));

    // The same name, size and date, other bytes.
    let mut new = old.clone();
    new[7] ^= 0xff;
    *http.responder.borrow_mut() = Box::new(v1_segmented_responder(new.clone(), SEGMENT));
    let hasher = CountingHasher::new(&new);
    let before = http.requests().len();
    let tracker = task.tracker();
    let done = task
        .run(&tracker, &hasher, Some(state.clone()), true)
        .unwrap();
    assert_eq!(
        hasher.calls.get(),
        2,
        "the first segment checked, then all hashed"
    );
    assert_eq!(hasher.bytes.get(), SEGMENT as u64 + size as u64);
    let again = &http.requests()[before..];
    assert_eq!(again[0].method, Method::Post, "created afresh");
    assert_eq!(again.iter().filter(|r| r.method == Method::Put).count(), 3);
    assert_ne!(
        done.segments.unwrap()[0].sha256,
        state.digests.unwrap()[0].sha256
    );

    // The unchanged file: the check passes and only the missing part goes.
    let http = v1_stopping_at(old.clone(), 1);
    let task = Task::new(&http, segmented(ApiVersion::V11, size));
    let tracker = task.tracker();
    let hasher = CountingHasher::new(&old);
    let state = task.stopped(&tracker, &hasher);
    let before = http.requests().len();
    task.run(&tracker, &hasher, Some(state), true).unwrap();
    assert_eq!(hasher.bytes.get(), size as u64 + SEGMENT as u64);
    let methods: Vec<Method> = http.requests()[before..].iter().map(|r| r.method).collect();
    assert_eq!(methods, [Method::Put, Method::Put, Method::Patch]);
}

#[test]
fn a_state_that_does_not_fit_is_refused_before_any_request() {
    let size = 2 * SEGMENT + 10;
    let source = data(size);
    let http = v1_stopping_at(source.clone(), 1);
    let task = Task::new(&http, segmented(ApiVersion::V11, size));
    let tracker = task.tracker();
    let good = task.stopped(&tracker, &CountingHasher::new(&source));
    let cases: Vec<(&str, StateChange)> = vec![
        ("another company", Box::new(|s| s.scope.company_id = 8)),
        ("another project", Box::new(|s| s.scope.project_id = None)),
        (
            "another API",
            Box::new(|s| s.scope.api_version = "v1.0".into()),
        ),
        ("another size", Box::new(|s| s.file.size += 1)),
        ("other segments", Box::new(|s| s.segment_size += 1)),
        ("md5 differs", Box::new(|s| s.md5 = false)),
        ("another format", Box::new(|s| s.format = 99)),
        ("ETags not per segment", Box::new(|s| s.etags.push(None))),
        (
            "digests not per segment",
            Box::new(|s| {
                if let Some(d) = &mut s.digests {
                    d.pop();
                }
            }),
        ),
    ];
    for (what, change) in cases {
        let mut state = good.clone();
        change(&mut state);
        let before = http.requests().len();
        let result = task.run(&tracker, &CountingHasher::new(&source), Some(state), false);
        assert!(
            matches!(&result, Err(Error::InvalidInput(m)) if m.starts_with("resume: the state does not fit")),
            "{what}: {result:?}"
        );
        assert_eq!(http.requests().len(), before, "{what}: nothing sent");
    }
}

/// `md5` unset: a fresh upload sends no MD5 (`UPLOAD_MD5_DEFAULT`); a state kept with
/// either setting goes on (states kept before the default changed still resume) and
/// keeps its setting; a state of the other setting than an `md5` chosen is refused.
#[test]
fn a_kept_state_goes_on_with_its_own_md5_setting_when_the_options_choose_none() {
    let size = 3 * SEGMENT + 10;
    let source = data(size);
    let unset = || {
        let mut options = segmented(ApiVersion::V11, size);
        options.md5 = None;
        options
    };
    // Fresh, unset: no MD5 in the create request, none in the state or the result.
    let http = v1_stopping_at(source.clone(), usize::MAX);
    let task = Task::new(&http, unset());
    let done = task
        .run(&task.tracker(), &CountingHasher::new(&source), None, false)
        .unwrap();
    assert!(
        !http.requests()[0].body_text().contains("md5"),
        "no md5 sent"
    );
    assert!(!task.last_state().unwrap().md5);
    assert!(done.segments.unwrap().iter().all(|s| s.md5.is_none()));

    for kept in [true, false] {
        let http = v1_stopping_at(source.clone(), 1);
        let mut first = segmented(ApiVersion::V11, size);
        first.md5 = Some(kept);
        let task = Task::new(&http, first);
        let tracker = task.tracker();
        let state = task.stopped(&tracker, &CountingHasher::new(&source));
        assert_eq!(state.md5, kept);

        // The options choose the other setting: refused, nothing sent.
        let mut other = segmented(ApiVersion::V11, size);
        other.md5 = Some(!kept);
        let before = http.requests().len();
        let refused = Task::new(&http, other).run(
            &tracker,
            &CountingHasher::new(&source),
            Some(state.clone()),
            false,
        );
        assert!(
            matches!(&refused, Err(Error::InvalidInput(m)) if m.contains("md5 setting")),
            "kept {kept}: {refused:?}"
        );
        assert_eq!(http.requests().len(), before, "kept {kept}: nothing sent");

        // Unset: goes on from the state, its digests as they were kept.
        let task = Task::new(&http, unset());
        let hasher = CountingHasher::new(&source);
        let done = task.run(&tracker, &hasher, Some(state), false).unwrap();
        assert_eq!(hasher.calls.get(), 0, "kept {kept}: not hashed again");
        assert!(
            done.segments
                .unwrap()
                .iter()
                .all(|s| s.md5.is_some() == kept),
            "kept {kept}"
        );
        assert_eq!(task.last_state().unwrap().md5, kept);
    }
}

/// v2.1: create lists URLs `…/v2/{i}?gen=1`; a GET lists fresh ones (`gen=2`); PUT
/// `stop_at` of the first generation is aborted once; PATCHes are recorded.
fn v2_stopping_at(parts: usize, stop_at: usize, status_on_get: &'static str) -> Scripted {
    let generation = Cell::new(1);
    let segments = move |generation: u32| -> Vec<Value> {
        (0..parts)
            .map(|i| json!({"url": format!("https://storage.test/v2/{i}?gen={generation}"), "url_expires_at": 1, "headers": {}}))
            .collect()
    };
    Scripted::new(move |request: &Request| match request.method {
        Method::Post => ok(
            201,
            json!({"data": {"upload_id": "V2", "status": "ready", "segments": segments(1)}}),
        ),
        Method::Get => {
            let patched = generation.get() > 1;
            generation.set(2);
            let status = if patched { "available" } else { status_on_get };
            ok(
                200,
                json!({"data": {"upload_id": "V2", "status": status, "segments": if status == "available" { vec![] } else { segments(2) }}}),
            )
        }
        Method::Put if request.url == format!("https://storage.test/v2/{stop_at}?gen=1") => {
            Err(Error::Aborted)
        }
        Method::Put => {
            let index = request.url["https://storage.test/v2/".len()..]
                .split('?')
                .next()
                .unwrap()
                .to_string();
            etag_response(&format!("e{index}"))
        }
        Method::Patch => {
            let complete = !request.body_text().contains("null");
            ok(
                200,
                json!({"data": {"upload_id": "V2", "status": if complete { "complete" } else { "receiving" }}}),
            )
        }
        _ => panic!("unexpected {request:?}"),
    })
}

trait BodyText {
    fn body_text(&self) -> String;
}

impl BodyText for Request {
    fn body_text(&self) -> String {
        match &self.body {
            Body::Json(text) => text.clone(),
            _ => String::new(),
        }
    }
}

#[test]
fn a_stopped_v2_upload_gets_fresh_urls_and_sends_the_rest() {
    let size = 3 * (SEGMENT + 1) + 10;
    let source = data(size);
    let http = v2_stopping_at(4, 2, "receiving");
    // Each request takes 2 virtual seconds: the first part is told at once, the
    // second comes too soon after it.
    http.request_ms.set(2000.0);
    let task = Task::new(&http, segmented(ApiVersion::V21, size));
    let tracker = task.tracker();
    let hasher = CountingHasher::new(&source);
    let state = task.stopped(&tracker, &hasher);
    let checkpoints: Vec<String> = http
        .requests()
        .iter()
        .filter(|r| r.method == Method::Patch)
        .map(BodyText::body_text)
        .collect();
    assert_eq!(
        checkpoints,
        [r#"{"part_etags":["e0",null,null,null]}"#],
        "server-side checkpoints with nulls for the parts not sent"
    );
    assert!(
        state.parts.is_empty(),
        "v2.1 URLs are not kept: GET renews them"
    );
    let before = http.requests().len();
    let done = task.run(&tracker, &hasher, Some(state), false).unwrap();
    assert_eq!(done.status, "available");
    let again = &http.requests()[before..];
    assert_eq!(again[0].method, Method::Get, "fresh URLs first");
    let sent: Vec<&str> = again
        .iter()
        .filter(|r| r.method == Method::Put)
        .map(|r| r.url.as_str())
        .collect();
    assert_eq!(
        sent,
        [
            "https://storage.test/v2/2?gen=2",
            "https://storage.test/v2/3?gen=2"
        ]
    );
    let complete = again.iter().rfind(|r| r.method == Method::Patch).unwrap();
    assert_eq!(
        complete.body_text(),
        r#"{"part_etags":["e0","e1","e2","e3"]}"#
    );
    assert_eq!(hasher.calls.get(), 1);
    assert_eq!(count(&http, Method::Post), 1);
    assert_monotonic_and_capped(&task.seen.borrow());
}

#[test]
fn a_v2_upload_completed_before_the_stop_only_waits() {
    let size = 2 * (SEGMENT + 1);
    let source = data(size);
    let http = v2_stopping_at(2, 9, "complete");
    let task = Task::new(&http, segmented(ApiVersion::V21, size));
    let tracker = task.tracker();
    let hasher = CountingHasher::new(&source);
    let mut state = UploadState::new(
        StateScope {
            api_version: "v2.1".into(),
            company_id: 7,
            project_id: Some(42),
        },
        identity(size as u64),
        SEGMENT as u64 + 1,
        true,
        1_800_000_000_000,
    );
    // Hashed, created and completed, but the page went away before `available`.
    let digests = pollster::block_on(hasher.hash(
        &[0..(SEGMENT as u64 + 1), (SEGMENT as u64 + 1)..size as u64],
        HashOptions::default(),
        true,
        &|_| {},
    ))
    .unwrap();
    state.digests = Some(
        digests
            .0
            .iter()
            .map(|d| procore_upload::core::protocol::SegmentDigest {
                size: SEGMENT as u64 + 1,
                sha256: d.sha256_hex(),
                md5: d.md5_hex(),
            })
            .collect(),
    );
    state.whole_sha256 = digests.1.map(|d| d.sha256_hex());
    state.uuid = Some("V2".into());
    state.etags = vec![Some("e0".into()), Some("e1".into())];
    let done = task.run(&tracker, &hasher, Some(state), false).unwrap();
    assert_eq!(done.status, "available");
    let methods: Vec<Method> = http.requests().iter().map(|r| r.method).collect();
    assert!(
        methods.iter().all(|m| *m == Method::Get),
        "nothing sent again: {methods:?}"
    );
    assert!(puts(&http).is_empty());
}

#[test]
fn fingerprints_differ_in_every_part() {
    let base = fingerprint(&scope(), &identity(10));
    let variants: Vec<(&str, String)> = vec![
        ("name", {
            let mut f = identity(10);
            f.name = "plan2.pdf".into();
            fingerprint(&scope(), &f)
        }),
        ("size", fingerprint(&scope(), &identity(11))),
        ("lastModified", {
            let mut f = identity(10);
            f.last_modified = Some(1);
            fingerprint(&scope(), &f)
        }),
        ("type", {
            let mut f = identity(10);
            f.content_type = "image/png".into();
            fingerprint(&scope(), &f)
        }),
        ("company", {
            let mut s = scope();
            s.company_id = 8;
            fingerprint(&s, &identity(10))
        }),
        ("project", {
            let mut s = scope();
            s.project_id = None;
            fingerprint(&s, &identity(10))
        }),
        ("version", {
            let mut s = scope();
            s.api_version = "v2.1".into();
            fingerprint(&s, &identity(10))
        }),
    ];
    for (what, key) in variants {
        assert_ne!(key, base, "{what}");
    }
}

#[test]
fn speed_and_eta() {
    let table: Vec<(Samples, Option<u64>)> = vec![
        (&[], None),
        (&[(0.0, 0)], None),
        (&[(0.0, 0), (999.0, 1000)], None),
        (&[(0.0, 0), (1000.0, 1000)], Some(1000)),
        (&[(0.0, 100), (500.0, 900), (2000.0, 4100)], Some(2000)),
    ];
    for (samples, expected) in table {
        assert_eq!(speed(samples), expected, "{samples:?}");
    }
    assert_eq!(eta_seconds(1000, Some(300)), Some(4));
    assert_eq!(eta_seconds(0, Some(0)), Some(0));
    assert_eq!(eta_seconds(10, Some(0)), None);
    assert_eq!(eta_seconds(10, None), None);
}

#[test]
fn server_checkpoints_at_most_every_five_seconds() {
    for (last, now, due) in [
        (0.0, 4999.0, false),
        (0.0, 5000.0, true),
        (1000.0, 7000.0, true),
    ] {
        assert_eq!(server_checkpoint_due(last, now), due, "{last} {now}");
    }
}

#[test]
fn speed_is_reported_while_sending_and_forgotten_on_a_pause() {
    let size = 3 * SEGMENT;
    let source = data(size);
    let http = v1_stopping_at(source.clone(), 2);
    http.request_ms.set(1000.0);
    let task = Task::new(&http, segmented(ApiVersion::V11, size));
    let tracker = task.tracker();
    let hasher = CountingHasher::new(&source);
    task.stopped(&tracker, &hasher);
    let seen: Vec<Progress> = task.seen.borrow().clone();
    let with_speed: Vec<&Progress> = seen
        .iter()
        .filter(|p| p.bytes_per_second.is_some())
        .collect();
    assert!(
        !with_speed.is_empty(),
        "known once a second of sending is seen"
    );
    for p in &with_speed {
        assert!(p.eta_seconds.is_some(), "{p:?}");
    }
    tracker.paused();
    assert_eq!(tracker.current().bytes_per_second, None);
    assert_eq!(tracker.current().eta_seconds, None);
}

fn progress_at(phase: Phase, uploaded: u64) -> Progress {
    Progress {
        phase,
        bytes_hashed: 100,
        bytes_uploaded: uploaded,
        total_bytes: 100,
        segments_done: 0,
        segments_total: 1,
        bytes_per_second: None,
        eta_seconds: None,
    }
}

#[test]
fn report_pacing_table() {
    let last = progress_at(Phase::Uploading, 10);
    let hashing = Progress {
        bytes_hashed: 50,
        ..progress_at(Phase::Hashing, 0)
    };
    // (last report at 1000 ms, now, next) → due
    let table = [
        (
            None,
            1000.0,
            progress_at(Phase::Uploading, 11),
            true,
            "the first",
        ),
        (
            Some(&last),
            1050.0,
            progress_at(Phase::Uploading, 20),
            false,
            "50 ms later",
        ),
        (
            Some(&last),
            1099.9,
            progress_at(Phase::Uploading, 20),
            false,
            "just under 100 ms",
        ),
        (
            Some(&last),
            1100.0,
            progress_at(Phase::Uploading, 20),
            true,
            "100 ms later",
        ),
        (
            Some(&last),
            1001.0,
            progress_at(Phase::Completing, 10),
            true,
            "a new phase",
        ),
        (
            Some(&last),
            1001.0,
            progress_at(Phase::Uploading, 100),
            true,
            "every byte sent",
        ),
        (
            Some(&hashing),
            1001.0,
            Progress {
                bytes_hashed: 100,
                ..hashing
            },
            true,
            "every byte hashed",
        ),
        (
            Some(&hashing),
            1001.0,
            Progress {
                bytes_hashed: 60,
                ..hashing
            },
            false,
            "more hashed, 1 ms later",
        ),
    ];
    for (said, now, next, due, why) in table {
        assert_eq!(
            report_due(said.map(|p| (1000.0, p)), now, &next),
            due,
            "{why}"
        );
    }
    let all_sent = progress_at(Phase::Uploading, 100);
    assert!(
        !report_due(
            Some((1000.0, &all_sent)),
            1001.0,
            &progress_at(Phase::Uploading, 100)
        ),
        "all sent is said once"
    );
}

#[test]
fn a_gate_lets_through_ten_a_second_and_always_the_last() {
    let mut gate = ReportGate::default();
    // WebKit on loopback: an event per 8 KiB, here 1,000 events over one second.
    let admitted = (0..1000u64)
        .filter(|&i| gate.admit(i as f64, &progress_at(Phase::Uploading, i / 10)))
        .count();
    assert!(
        (10..=11).contains(&admitted),
        "{admitted} reports in a second"
    );
    assert!(
        gate.admit(999.5, &progress_at(Phase::Uploading, 100)),
        "the last byte"
    );
    assert!(
        gate.admit(999.6, &progress_at(Phase::Completing, 100)),
        "the next phase"
    );
    let held = progress_at(Phase::Completing, 100);
    assert!(!gate.admit_held_back(999.7, &held), "nothing new to say");
    let mut gate = ReportGate::default();
    gate.admit(0.0, &progress_at(Phase::Uploading, 1));
    assert!(!gate.admit(1.0, &progress_at(Phase::Uploading, 2)));
    assert!(
        gate.admit_held_back(2.0, &progress_at(Phase::Uploading, 2)),
        "a held-back report on stop"
    );
}
