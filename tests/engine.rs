//! The upload engine driven natively by a scripted transport (after tus-js-client's
//! test stack): every request is recorded, and a responder per test plays Procore and
//! storage, including their failures.
#![cfg(not(target_arch = "wasm32"))]

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use procore_upload::core::engine::{upload, Phase, Progress, UploadOptions, UploadResult};
use procore_upload::core::hash::{hash_bytes, InThread};
use procore_upload::core::http::{Body, Method, Request, Response, Target, Tokens};
use procore_upload::core::plan::{ApiVersion, Segmented, MIB};
use procore_upload::core::runtime::{Limits, Shared};
use procore_upload::core::Error;
use serde_json::{json, Value};

mod common;
use common::*;

fn run(
    http: &Scripted,
    source: &[u8],
    options: &UploadOptions,
) -> (Result<UploadResult, Error>, Vec<Progress>) {
    let seen = RefCell::new(Vec::new());
    let result = pollster::block_on(upload(
        http,
        &Shared::new(tokens(), Limits::default()),
        &InThread::new(source),
        options,
        &|p| seen.borrow_mut().push(*p),
    ));
    (result, seen.into_inner())
}

/// A v1 form upload (not segmented) of 10 bytes through `http`.
fn run_form(http: &Scripted) -> Result<UploadResult, Error> {
    run(
        http,
        &data(10),
        &options(ApiVersion::V10, None, 10, Segmented::No),
    )
    .0
}

fn assert_monotonic(progress: &[Progress]) {
    for pair in progress.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        assert!(
            b.phase >= a.phase && b.bytes_hashed >= a.bytes_hashed,
            "{a:?} → {b:?}"
        );
        assert!(
            b.bytes_uploaded >= a.bytes_uploaded && b.segments_done >= a.segments_done,
            "{a:?} → {b:?}"
        );
    }
}

fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Storage requests carry only what the instructions say; API requests carry the
/// token and company.
fn assert_headers(requests: &[Request]) {
    for request in requests {
        match request.target {
            Target::Api => {
                assert!(header(request, "authorization")
                    .unwrap()
                    .starts_with("Bearer t"));
                assert_eq!(header(request, "procore-company-id"), Some("7"));
                assert!(request.url.starts_with("https://api.test/rest/"));
            }
            Target::Storage => {
                assert_eq!(
                    header(request, "authorization"),
                    None,
                    "no token to storage"
                );
                assert!(request.url.starts_with("https://storage.test/"));
            }
        }
    }
}

#[test]
fn v1_form_upload_posts_fields_in_order_then_the_file() {
    let source = data(1000);
    let http = Scripted::new(|request| match (request.method, request.url.as_str()) {
        (Method::Post, "https://api.test/rest/v1.0/projects/42/uploads") => ok(
            201,
            json!({"uuid": "U1", "url": "https://storage.test/bucket", "fields": {"key": "k", "Content-Type": "application/pdf", "policy": "p", "x-amz-signature": "s"}}),
        ),
        (Method::Post, "https://storage.test/bucket") => ok(204, json!(null)),
        (Method::Get, "https://api.test/rest/v1.0/projects/42/uploads/U1") => {
            ok(200, json!({"uuid": "U1", "status": "complete"}))
        }
        other => panic!("unexpected {other:?}"),
    });
    let (result, progress) = run(
        &http,
        &source,
        &options(ApiVersion::V10, Some(42), 1000, Segmented::Auto),
    );
    let result = result.unwrap();
    assert_eq!(
        (result.uuid.as_str(), result.status.as_str(), result.size),
        ("U1", "complete", 1000)
    );
    let requests = http.requests();
    assert_eq!(requests.len(), 3, "create, form POST, Show Upload");
    assert_eq!(
        (requests[2].method, requests[2].target),
        (Method::Get, Target::Api)
    );
    let create: Value = match &requests[0].body {
        Body::Json(text) => serde_json::from_str(text).unwrap(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        create,
        json!({"response_filename": "plan.pdf", "response_content_type": "application/pdf", "size": 1000})
    );
    match &requests[1].body {
        Body::Form {
            fields,
            file,
            filename,
        } => {
            let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
            assert_eq!(names, ["key", "Content-Type", "policy", "x-amz-signature"]);
            assert_eq!((file.clone(), filename.as_str()), (0..1000, "plan.pdf"));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        requests[1].headers.is_empty(),
        "nothing added to the form POST"
    );
    assert_headers(&requests);
    assert_monotonic(&progress);
    let last = progress.last().unwrap();
    assert_eq!(
        (last.phase, last.bytes_uploaded, last.segments_done),
        (Phase::Done, 1000, 1)
    );
}

/// The status of a form upload is what Show Upload says after the POST, not the
/// library's guess; a Show answer without one is a protocol error.
#[test]
fn v1_form_upload_reports_procores_status() {
    for (shown, expected) in [
        (json!({"uuid": "U", "status": "ready"}), Ok("ready")),
        (json!({"uuid": "U", "status": "complete"}), Ok("complete")),
        (json!({"uuid": "U"}), Err("PROTOCOL")),
    ] {
        let http = Scripted::new(move |request| match (request.target, request.method) {
            (Target::Api, Method::Get) => ok(200, shown.clone()),
            (Target::Api, _) => form_api(request, "https://storage.test/b"),
            (Target::Storage, _) => ok(204, json!(null)),
        });
        let result = run_form(&http);
        match (result, expected) {
            (Ok(result), Ok(status)) => assert_eq!(result.status, status),
            (Err(error), Err(code)) => assert_eq!(error.code(), code, "{error}"),
            (other, expected) => panic!("{other:?}, expected {expected:?}"),
        }
    }
}

#[test]
fn v1_segmented_upload_hashes_puts_and_completes_in_order() {
    let size = 2 * 5 * MIB as usize + 123;
    let source = data(size);
    let http = Scripted::new(v1_segmented_responder(source.clone(), 5 * MIB as usize));
    let mut options = options(ApiVersion::V11, None, size as u64, Segmented::Yes);
    options.segment_size = Some(5 * MIB);
    let (result, progress) = run(&http, &source, &options);
    let result = result.unwrap();
    assert_eq!(result.status, "complete");
    let segments = result.segments.unwrap();
    assert_eq!(segments.len(), 3);
    for (i, segment) in segments.iter().enumerate() {
        let start = i * 5 * MIB as usize;
        let end = (start + 5 * MIB as usize).min(size);
        let digest = hash_bytes(&source[start..end], true);
        assert_eq!(segment.sha256, digest.sha256_hex());
        assert_eq!(
            segment.etag,
            digest.md5_hex().unwrap(),
            "ETag without quotes"
        );
    }
    let requests = http.requests();
    let puts: Vec<&Request> = requests
        .iter()
        .filter(|r| r.method == Method::Put)
        .collect();
    assert_eq!(puts.len(), 3);
    for put in &puts {
        assert_eq!(header(put, "content-length"), None, "left to the browser");
        assert_eq!(header(put, "content-md5"), Some("b64"));
        assert_eq!(
            header(put, "content-type"),
            Some("application/octet-stream")
        );
        assert!(header(put, "x-amz-content-sha256").is_some());
    }
    let patch = requests.iter().find(|r| r.method == Method::Patch).unwrap();
    let expected: Vec<Value> = segments.iter().map(|s| json!({"etag": s.etag})).collect();
    assert_eq!(
        patch.body,
        Body::Json(json!({"segments": expected}).to_string())
    );
    assert_headers(&requests);
    assert_monotonic(&progress);
    let phases: Vec<Phase> = progress.iter().map(|p| p.phase).collect();
    assert!(phases.contains(&Phase::Hashing) && phases.contains(&Phase::Completing));
    let last = progress.last().unwrap();
    assert_eq!(
        (
            last.bytes_hashed,
            last.bytes_uploaded,
            last.segments_done,
            last.segments_total
        ),
        (size as u64, size as u64, 3, 3)
    );
}

#[test]
fn v2_upload_polls_until_available() {
    let size = 6 * MIB as usize;
    let source = data(size);
    let polls = Cell::new(0);
    let whole = hash_bytes(&source, true);
    let expected_sha = whole.sha256_hex();
    let http = Scripted::new(
        move |request| match (request.method, request.url.as_str()) {
            (Method::Post, "https://api.test/rest/v2.1/companies/7/projects/42/uploads") => {
                let body: Value = match &request.body {
                    Body::Json(text) => serde_json::from_str(text).unwrap(),
                    _ => panic!(),
                };
                assert_eq!(body["sha256"], expected_sha);
                assert_eq!(body["file_size"], size);
                assert_eq!(body["segments"].as_array().unwrap().len(), 1);
                ok(
                    201,
                    json!({"data": {"upload_id": "V2", "status": "ready", "segments": [{"url": "https://storage.test/v2/1", "url_expires_at": 1, "headers": {"Content-Length": size.to_string()}}]}}),
                )
            }
            (Method::Put, _) => etag_response("e1"),
            (Method::Patch, _) => {
                assert_eq!(request.body, Body::Json(r#"{"part_etags":["e1"]}"#.into()));
                ok(
                    200,
                    json!({"data": {"upload_id": "V2", "status": "complete"}}),
                )
            }
            (Method::Get, _) => {
                polls.set(polls.get() + 1);
                let status = if polls.get() < 3 {
                    "complete"
                } else {
                    "available"
                };
                ok(
                    200,
                    json!({"data": {"upload_id": "V2", "status": status, "segments": []}}),
                )
            }
            other => panic!("unexpected {other:?}"),
        },
    );
    let (result, progress) = run(
        &http,
        &source,
        &options(ApiVersion::V21, Some(42), size as u64, Segmented::Auto),
    );
    let result = result.unwrap();
    assert_eq!(
        (result.uuid.as_str(), result.status.as_str()),
        ("V2", "available")
    );
    assert_eq!(
        http.sleeps.borrow().as_slice(),
        [250, 375],
        "growing poll interval"
    );
    assert!(progress.iter().any(|p| p.phase == Phase::Processing));
    assert_monotonic(&progress);
}

#[test]
fn v2_failed_processing_and_timeout() {
    for (status, code) in [("failed", "PROCESSING_FAILED"), ("complete", "TIMEOUT")] {
        let source = data(10);
        let http = Scripted::new(move |request| match request.method {
            Method::Post => ok(
                201,
                json!({"data": {"upload_id": "V", "status": "ready", "segments": [{"url": "https://storage.test/1", "headers": {}}]}}),
            ),
            Method::Put => etag_response("e"),
            Method::Patch => ok(
                200,
                json!({"data": {"upload_id": "V", "status": "complete"}}),
            ),
            Method::Get => ok(
                200,
                json!({"data": {"upload_id": "V", "status": status, "failure_reason": "checksum mismatch"}}),
            ),
            Method::Delete => panic!("nothing is deleted"),
        });
        let mut options = options(ApiVersion::V21, None, 10, Segmented::Auto);
        options.processing_timeout_ms = 5_000;
        let (result, _) = run(&http, &source, &options);
        let error = result.unwrap_err();
        assert_eq!(error.code(), code, "{error}");
        if code == "PROCESSING_FAILED" {
            assert!(error.to_string().contains("checksum mismatch"));
        }
    }
}

#[test]
fn v2_expired_part_urls_are_renewed_through_get() {
    let source = data(10);
    let puts = Cell::new(0);
    let http = Scripted::new(
        move |request| match (request.method, request.url.as_str()) {
            (Method::Post, _) => ok(
                201,
                json!({"data": {"upload_id": "V", "status": "ready", "segments": [{"url": "https://storage.test/old", "headers": {}}]}}),
            ),
            (Method::Put, "https://storage.test/old") => {
                puts.set(puts.get() + 1);
                ok(403, json!("<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"))
            }
            (Method::Get, "https://api.test/rest/v2.1/companies/7/uploads/V")
                if puts.get() == 1 =>
            {
                puts.set(2);
                ok(
                    200,
                    json!({"data": {"upload_id": "V", "status": "ready", "segments": [{"url": "https://storage.test/new", "headers": {}}]}}),
                )
            }
            (Method::Put, "https://storage.test/new") => etag_response("e"),
            (Method::Patch, _) => ok(
                200,
                json!({"data": {"upload_id": "V", "status": "complete"}}),
            ),
            (Method::Get, _) => ok(
                200,
                json!({"data": {"upload_id": "V", "status": "available"}}),
            ),
            other => panic!("unexpected {other:?}"),
        },
    );
    let (result, _) = run(
        &http,
        &source,
        &options(ApiVersion::V21, None, 10, Segmented::Auto),
    );
    assert_eq!(result.unwrap().status, "available");
    let puts: Vec<String> = http
        .requests()
        .iter()
        .filter(|r| r.method == Method::Put)
        .map(|r| r.url.clone())
        .collect();
    assert_eq!(
        puts,
        ["https://storage.test/old", "https://storage.test/new"]
    );
}

#[test]
fn v1_expired_instructions_create_again_without_rehashing() {
    let size = 100;
    let source = data(size);
    let creates = Rc::new(Cell::new(0));
    let counter = creates.clone();
    let mut inner = v1_segmented_responder(source.clone(), size);
    let http = Scripted::new(move |request| {
        if request.method == Method::Post {
            counter.set(counter.get() + 1);
        }
        if request.method == Method::Put && counter.get() == 1 {
            return ok(403, json!("Request has expired"));
        }
        inner(request)
    });
    let counting = CountingSource {
        bytes: &source,
        reads: Cell::new(0),
    };
    let seen = RefCell::new(Vec::new());
    let options = options(ApiVersion::V10, None, size as u64, Segmented::Yes);
    let result = pollster::block_on(upload(
        &http,
        &Shared::new(tokens(), Limits::default()),
        &InThread::new(&counting),
        &options,
        &|p| seen.borrow_mut().push(*p),
    ));
    assert_eq!(result.unwrap().status, "complete");
    assert_eq!(creates.get(), 2, "created again after the expiry");
    assert_eq!(counting.reads.get(), 1, "the file was hashed once");
}

/// Expired v1 instructions send every segment again under the new create, yet each
/// segment counts once: `segmentsDone` never passes `segmentsTotal`, nor
/// `bytesUploaded` the file size.
#[test]
fn v1_expiry_counts_each_segment_once() {
    let segment = 5 * MIB as usize;
    let size = 3 * segment;
    let source = data(size);
    let creates = Rc::new(Cell::new(0));
    let puts = Rc::new(Cell::new(0));
    let (counter, put_counter) = (creates.clone(), puts.clone());
    let mut inner = v1_segmented_responder(source.clone(), segment);
    let http = Scripted::new(move |request| {
        match request.method {
            Method::Post => counter.set(counter.get() + 1),
            Method::Put => put_counter.set(put_counter.get() + 1),
            _ => {}
        }
        // The first create's second PUT finds its instructions expired; the other
        // two are stored before the engine creates again.
        if request.method == Method::Put && counter.get() == 1 && put_counter.get() == 2 {
            return ok(403, json!("Request has expired"));
        }
        inner(request)
    });
    let mut options = options(ApiVersion::V10, None, size as u64, Segmented::Yes);
    options.segment_size = Some(5 * MIB);
    let (result, progress) = run(&http, &source, &options);
    assert_eq!(result.unwrap().segments.unwrap().len(), 3);
    assert_eq!(creates.get(), 2);
    assert_eq!(puts.get(), 6, "three PUTs per create");
    assert_monotonic(&progress);
    for p in &progress {
        assert!(p.segments_done <= p.segments_total, "{p:?}");
        assert!(p.bytes_uploaded <= p.total_bytes, "{p:?}");
    }
    let last = progress.last().unwrap();
    assert_eq!(
        (last.segments_done, last.segments_total, last.bytes_uploaded),
        (3, 3, size as u64)
    );
}

/// Counts reads of a byte slice.
struct CountingSource<'a> {
    bytes: &'a [u8],
    reads: Cell<u32>,
}

impl procore_upload::core::source::ByteSource for CountingSource<'_> {
    fn size(&self) -> u64 {
        self.bytes.len() as u64
    }
    async fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), Error> {
        self.reads.set(self.reads.get() + 1);
        self.bytes.read_at(offset, buf).await
    }
}

#[test]
fn api_401_gets_a_fresh_token_once() {
    let http = Scripted::new(|request| {
        let token = header(request, "authorization")
            .unwrap_or_default()
            .to_string();
        match (request.method, token.as_str()) {
            (Method::Post, "Bearer t1") => ok(401, json!({"errors": "expired"})),
            (Method::Post, "Bearer t2") if request.target == Target::Api => ok(
                201,
                json!({"uuid": "U", "url": "https://storage.test/b", "fields": {}}),
            ),
            (Method::Post, _) => ok(204, json!(null)),
            (Method::Get, "Bearer t2") => ok(200, json!({"uuid": "U", "status": "complete"})),
            other => panic!("{other:?}"),
        }
    });
    let result = run_form(&http);
    assert_eq!(result.unwrap().uuid, "U");

    let always_401 = Scripted::new(|_| ok(401, json!({"errors": "no"})));
    let result = run_form(&always_401);
    let error = result.unwrap_err();
    assert_eq!(error.code(), "UNAUTHORIZED");
    assert_eq!(error.http(), Some((401, r#"{"errors":"no"}"#)));
    assert_eq!(
        always_401.requests().len(),
        2,
        "one retry with a fresh token, then stop"
    );
}

/// A token source that cannot refresh (a fixed `accessToken`): a 401 fails at once
/// rather than sending the same token again.
struct FixedToken;

impl Tokens for FixedToken {
    async fn token(&self, _refresh: bool) -> Result<String, Error> {
        Ok("t1".into())
    }

    fn can_refresh(&self) -> bool {
        false
    }
}

/// A token source that fails, as a `getAccessToken` that throws does.
struct FailingTokens;

impl Tokens for FailingTokens {
    async fn token(&self, _refresh: bool) -> Result<String, Error> {
        Err(Error::AccessToken {
            message: "threw Error: offline".into(),
            cause: None,
        })
    }
}

#[test]
fn a_fixed_token_is_not_sent_again_after_a_401() {
    let source = data(10);
    let http = Scripted::new(|_| ok(401, json!({"errors": "no"})));
    let result = pollster::block_on(upload(
        &http,
        &Shared::new(FixedToken, Limits::default()),
        &InThread::new(source.as_slice()),
        &options(ApiVersion::V10, None, 10, Segmented::No),
        &|_| {},
    ));
    assert_eq!(result.unwrap_err().code(), "UNAUTHORIZED");
    assert_eq!(http.requests().len(), 1);
}

/// A failing token source is its own error (no status: no request was made), and
/// nothing is sent.
#[test]
fn a_failing_token_source_sends_nothing() {
    let source = data(10);
    let http = Scripted::new(|request| panic!("nothing may be sent: {request:?}"));
    let result = pollster::block_on(upload(
        &http,
        &Shared::new(FailingTokens, Limits::default()),
        &InThread::new(source.as_slice()),
        &options(ApiVersion::V10, None, 10, Segmented::No),
        &|_| {},
    ));
    let error = result.unwrap_err();
    assert_eq!(error.code(), "ACCESS_TOKEN");
    assert_eq!(error.http(), None);
    assert!(http.requests().is_empty());
}

#[test]
fn api_429_waits_retry_after_then_gives_up() {
    let calls = Cell::new(0);
    let http = Scripted::new(move |request| {
        calls.set(calls.get() + 1);
        match (request.target, calls.get()) {
            (Target::Api, 1 | 2) => Ok(Response {
                status: 429,
                headers: vec![("Retry-After".into(), "2".into())],
                body: String::new(),
            }),
            (Target::Api, _) => form_api(request, "https://storage.test/b"),
            (Target::Storage, _) => ok(204, json!(null)),
        }
    });
    let result = run_form(&http);
    assert!(result.is_ok());
    assert_eq!(http.sleeps.borrow().as_slice(), [2000, 2000]);

    let always = Scripted::new(|_| {
        Ok(Response {
            status: 429,
            headers: vec![],
            body: "slow down".into(),
        })
    });
    let result = run_form(&always);
    assert_eq!(result.unwrap_err().code(), "RATE_LIMITED");
    assert_eq!(always.requests().len(), 5);
}

/// A final error names the request that failed (its method, its URL without the
/// query: a presigned signature stays out) and carries how long the last answer
/// asked to wait: `Retry-After` (or, for a 429, `X-Rate-Limit-Reset`), none when it
/// did not say. The scripted wall clock is 1,800,000,000 s.
#[test]
fn final_errors_name_their_request_and_the_wait_asked() {
    let answer = |status: u16, headers: &[(&str, &str)]| {
        let headers = headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        move |request: &Request| match request.target {
            Target::Api => Ok(Response {
                status,
                headers: Vec::clone(&headers),
                body: "no".into(),
            }),
            Target::Storage => ok(204, json!(null)),
        }
    };
    let create = Some(("POST", "https://api.test/rest/v1.0/companies/7/uploads"));
    /// Status and headers of every API answer; the code and `retry_after_ms` it ends with.
    type Row<'a> = (u16, &'a [(&'a str, &'a str)], &'a str, Option<u64>);
    let table: &[Row] = &[
        (429, &[("Retry-After", "7")], "RATE_LIMITED", Some(7000)),
        // Procore's reset (Unix seconds) counted from the answer's Date.
        (
            429,
            &[
                ("X-Rate-Limit-Reset", "1800000045"),
                ("Date", "Fri, 15 Jan 2027 08:00:00 GMT"),
            ],
            "RATE_LIMITED",
            Some(45_000),
        ),
        (429, &[], "RATE_LIMITED", None),
        // A date 20 s after the answer's own Date.
        (
            503,
            &[
                ("Retry-After", "Fri, 15 Jan 2027 08:00:20 GMT"),
                ("Date", "Fri, 15 Jan 2027 08:00:00 GMT"),
            ],
            "HTTP",
            Some(20_000),
        ),
        (503, &[], "HTTP", None),
        // A reset on an answer that is no rate limit asks for no wait.
        (404, &[("X-Rate-Limit-Reset", "1800000045")], "HTTP", None),
        (401, &[("Retry-After", "5")], "UNAUTHORIZED", None),
    ];
    for &(status, headers, code, retry_after_ms) in table {
        let http = Scripted::new(answer(status, headers));
        let error = run_form(&http).unwrap_err();
        assert_eq!(error.code(), code, "{status} {headers:?}");
        assert_eq!(error.request(), create, "{status} {headers:?}");
        assert_eq!(
            error.retry_after_ms(),
            retry_after_ms,
            "{status} {headers:?}"
        );
    }

    // Storage: ten 503s to a signed URL; the error names it without its query.
    let http = Scripted::new(|request| match request.target {
        Target::Api => form_api(request, "https://storage.test/b/k?X-Amz-Signature=secret"),
        Target::Storage => Ok(Response {
            status: 503,
            headers: vec![("Retry-After".into(), "1".into())],
            body: "<Code>SlowDown</Code>".into(),
        }),
    });
    let error = run_form(&http).unwrap_err();
    assert_eq!(error.code(), "HTTP");
    assert_eq!(error.request(), Some(("POST", "https://storage.test/b/k")));
    assert_eq!(error.retry_after_ms(), Some(1000));
    assert!(!error.to_string().contains("secret"), "{error}");
}

/// A 503 with `Retry-After` (Procore's rate limiter sends it on 503 as on 429) waits
/// that long before the retry, in either form, capped at a minute; for the API and
/// for storage alike. The scripted clock starts at 1,800,000,000 s (wall clock).
#[test]
fn a_503_waits_retry_after_in_seconds_or_as_a_date_capped() {
    // (Retry-After, Date) → the wait before the retry, ms.
    let table: &[(&str, Option<&str>, u64)] = &[
        ("3", None, 3000),
        // 2027-01-15T08:00:20Z, 20 s after the answer's Date.
        (
            "Fri, 15 Jan 2027 08:00:20 GMT",
            Some("Fri, 15 Jan 2027 08:00:00 GMT"),
            20_000,
        ),
        // No Date to count from: the client's clock (1,800,000,000 s = 2027-01-15T08:00:00Z).
        ("Fri, 15 Jan 2027 08:00:07 GMT", None, 7000),
        // Asked for an hour: capped at a minute.
        ("3600", None, 60_000),
    ];
    for &(retry_after, date, expected) in table {
        for target in [Target::Api, Target::Storage] {
            let failed = Cell::new(false);
            let http = Scripted::new(move |request| {
                if request.target == target && !failed.replace(true) {
                    let mut headers = vec![("Retry-After".to_string(), retry_after.to_string())];
                    if let Some(date) = date {
                        headers.push(("Date".into(), date.into()));
                    }
                    return Ok(Response {
                        status: 503,
                        headers,
                        body: "busy".into(),
                    });
                }
                match request.target {
                    Target::Api => form_api(request, "https://storage.test/b"),
                    Target::Storage => ok(204, json!(null)),
                }
            });
            let result = run_form(&http);
            assert!(result.is_ok(), "{retry_after} {target:?}: {result:?}");
            assert_eq!(
                http.sleeps.borrow().as_slice(),
                [expected],
                "{retry_after} {date:?} {target:?}"
            );
        }
    }
}

#[test]
fn storage_5xx_and_network_errors_are_retried() {
    let attempts = Cell::new(0);
    let http = Scripted::new(move |request| match request.target {
        Target::Api => form_api(request, "https://storage.test/b"),
        Target::Storage => {
            attempts.set(attempts.get() + 1);
            match attempts.get() {
                1 => ok(503, json!("<Code>SlowDown</Code>")),
                2 => Err(Error::Network {
                    method: "POST",
                    url: request.url.clone(),
                    message: "reset".into(),
                    cause: None,
                }),
                _ => ok(204, json!(null)),
            }
        }
    });
    let result = run_form(&http);
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(http.sleeps.borrow().len(), 2);

    let fatal = Scripted::new(|request| match request.target {
        Target::Api => ok(
            201,
            json!({"uuid": "U", "url": "https://storage.test/b", "fields": {}}),
        ),
        Target::Storage => ok(403, json!("<Code>AccessDenied</Code>")),
    });
    let result = run_form(&fatal);
    let error = result.unwrap_err();
    assert_eq!(error.code(), "HTTP");
    assert_eq!(error.http().unwrap().0, 403);
    assert_eq!(fatal.requests().len(), 2, "a 403 is not retried");

    // Storage that keeps failing: ten attempts (more than the API's five), then the
    // last answer is the error.
    let failing = Scripted::new(|request| match request.target {
        Target::Api => ok(
            201,
            json!({"uuid": "U", "url": "https://storage.test/b", "fields": {}}),
        ),
        Target::Storage => ok(503, json!("<Code>SlowDown</Code>")),
    });
    let error = run_form(&failing).unwrap_err();
    assert_eq!(error.http().unwrap().0, 503);
    let storage = failing
        .requests()
        .iter()
        .filter(|r| r.target == Target::Storage)
        .count();
    assert_eq!(storage, 10);
}

/// A v1 upload of three 5 MiB segments, one PUT at a time, whose transport fails
/// the second PUT with `error`: the requests it made and how it ended.
fn second_put_fails(error: Error) -> (Scripted, Result<UploadResult, Error>) {
    let source = data(3 * 5 * MIB as usize);
    let puts = Cell::new(0);
    let http = Scripted::new({
        let mut inner = v1_segmented_responder(source.clone(), 5 * MIB as usize);
        move |request| {
            if request.method == Method::Put {
                puts.set(puts.get() + 1);
                if puts.get() == 2 {
                    return Err(error.clone());
                }
            }
            inner(request)
        }
    });
    let mut options = options(ApiVersion::V10, None, source.len() as u64, Segmented::Yes);
    options.segment_size = Some(5 * MIB);
    options.concurrency = 1;
    let (result, _) = run(&http, &source, &options);
    (http, result)
}

/// A file that can no longer be read while its bytes are sent (changed on disk) is
/// FILE_READ at once: not retried, nothing completed.
#[test]
fn an_unreadable_file_while_sending_is_final() {
    let (http, result) = second_put_fails(Error::file_read("NotReadableError: the file changed"));
    assert_eq!(result.unwrap_err().code(), "FILE_READ");
    let methods: Vec<Method> = http.requests().iter().map(|r| r.method).collect();
    assert_eq!(methods, [Method::Post, Method::Put, Method::Put]);
    assert!(http.sleeps.borrow().is_empty(), "no retry");
}

/// Each bad answer gets its typed error, and nothing more is sent after it.
#[test]
fn bad_answers_stop_the_upload() {
    let source = data(10);
    let cases: Vec<(Value, Option<&str>, &str, usize)> = vec![
        (json!("not an object"), None, "PROTOCOL", 1),
        (json!({"uuid": "U", "fields": {}}), None, "PROTOCOL", 1),
        (
            json!({"uuid": "U", "url": "http://storage.test/b", "fields": {}}),
            None,
            "PROTOCOL",
            1,
        ),
        (
            json!({"uuid": "U", "segments": [{"url": "http://storage.test/p", "headers": {}}]}),
            Some("segmented"),
            "PROTOCOL",
            1,
        ),
        (
            json!({"uuid": "U", "segments": [{"url": "https://storage.test/p", "headers": {}}]}),
            Some("no-etag"),
            "MISSING_ETAG",
            2,
        ),
    ];
    for (created, mode, code, requests) in cases {
        let http = Scripted::new(move |request| match request.target {
            Target::Api => ok(201, created.clone()),
            Target::Storage => ok(200, json!(null)),
        });
        let segmented = if mode.is_some() {
            Segmented::Yes
        } else {
            Segmented::No
        };
        let (result, _) = run(
            &http,
            &source,
            &options(ApiVersion::V10, None, 10, segmented),
        );
        let error = result.unwrap_err();
        assert_eq!(error.code(), code, "{mode:?}: {error}");
        assert_eq!(
            http.requests().len(),
            requests,
            "{mode:?}: no request after the bad answer"
        );
        if code == "MISSING_ETAG" {
            assert!(error.to_string().contains("must expose the ETag header"));
        }
    }
}

/// An `http:` instruction URL is refused (PROTOCOL, nothing sent to it) unless the
/// client allows insecure storage.
#[test]
fn insecure_storage_is_allowed_only_when_asked() {
    let source = data(10);
    for allowed in [false, true] {
        let http = Scripted::new(|request| match request.target {
            Target::Api => form_api(request, "http://127.0.0.1:9/b"),
            Target::Storage => ok(204, json!(null)),
        });
        let mut options = options(ApiVersion::V10, None, 10, Segmented::No);
        options.allow_insecure_storage = allowed;
        let (result, _) = run(&http, &source, &options);
        let to_storage = http
            .requests()
            .iter()
            .filter(|r| r.target == Target::Storage)
            .count();
        if allowed {
            assert_eq!(result.unwrap().status, "complete");
            assert_eq!(to_storage, 1);
        } else {
            let error = result.unwrap_err();
            assert_eq!(error.code(), "PROTOCOL", "{error}");
            assert!(
                error.to_string().contains("allowInsecureStorage"),
                "{error}"
            );
            assert_eq!(to_storage, 0, "nothing sent to an http: URL");
        }
    }
}

/// Each bad option and the error it gets, before any request.
#[test]
fn bad_options_are_refused_before_any_request() {
    let source = data(10);
    let mut cases: Vec<(UploadOptions, &str)> = Vec::new();
    let mut o = options(ApiVersion::V21, None, 10, Segmented::No);
    cases.push((o.clone(), "always segmented"));
    o = options(ApiVersion::V10, None, 10, Segmented::Yes);
    o.segment_size = Some(1);
    cases.push((o.clone(), "segmentSize must be between"));
    o = options(ApiVersion::V10, None, 10, Segmented::Yes);
    o.concurrency = 0;
    cases.push((o.clone(), "concurrency must be between 1"));
    o = options(ApiVersion::V11, None, 10, Segmented::Yes);
    o.file.name = String::new();
    cases.push((o.clone(), "needs a file name"));
    for (options, message) in cases {
        let http = Scripted::new(|request| panic!("nothing may be sent: {request:?}"));
        let (result, _) = run(&http, &source, &options);
        match result {
            Err(Error::InvalidInput(text)) => assert!(text.contains(message), "{text}"),
            other => panic!("{message}: {other:?}"),
        }
    }
}

#[test]
fn empty_files_per_version() {
    let empty: &[u8] = &[];
    // v1 auto: a form POST of 0 bytes.
    let http = Scripted::new(|request| match request.target {
        Target::Api => form_api(request, "https://storage.test/b"),
        Target::Storage => ok(204, json!(null)),
    });
    let (result, progress) = run(
        &http,
        empty,
        &options(ApiVersion::V10, None, 0, Segmented::Auto),
    );
    assert!(result.unwrap().segments.is_none());
    assert_eq!(progress.last().unwrap().phase, Phase::Done);
    // v2.1: one empty part with the empty input's digests.
    let http = Scripted::new(|request| match request.method {
        Method::Post => {
            let body: Value = match &request.body {
                Body::Json(text) => serde_json::from_str(text).unwrap(),
                _ => panic!(),
            };
            assert_eq!(
                body["segments"],
                json!([{"size": 0, "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "md5": "d41d8cd98f00b204e9800998ecf8427e"}])
            );
            ok(
                201,
                json!({"data": {"upload_id": "V", "status": "ready", "segments": [{"url": "https://storage.test/1", "headers": {}}]}}),
            )
        }
        Method::Put => etag_response("e"),
        Method::Patch => ok(
            200,
            json!({"data": {"upload_id": "V", "status": "complete"}}),
        ),
        Method::Get => ok(
            200,
            json!({"data": {"upload_id": "V", "status": "available"}}),
        ),
        Method::Delete => panic!("nothing is deleted"),
    });
    let (result, _) = run(
        &http,
        empty,
        &options(ApiVersion::V21, None, 0, Segmented::Auto),
    );
    assert_eq!(result.unwrap().segments.unwrap().len(), 1);
}

/// A request the transport reports aborted is final: not retried, nothing more sent
/// after it. (Stopping a run with several requests in flight, as cancel and pause do,
/// is `tests/task.rs`' `cancel_while_sending_stops_every_request_in_flight`.)
#[test]
fn an_aborted_request_is_final_not_retried() {
    let (aborting, result) = second_put_fails(Error::Aborted);
    assert_eq!(result.unwrap_err(), Error::Aborted);
    let methods: Vec<Method> = aborting.requests().iter().map(|r| r.method).collect();
    assert_eq!(
        methods,
        [Method::Post, Method::Put, Method::Put],
        "no PATCH, no third PUT"
    );
    assert!(aborting.sleeps.borrow().is_empty(), "no retry");
}

/// The API client alone, as the generic `request` uses it: any method, a JSON body,
/// extra headers beside Procore's own, a 503 retried, and a 422's body kept in the
/// HTTP error.
#[test]
fn the_api_client_calls_any_method() {
    use procore_upload::core::api::ApiClient;
    let calls = Cell::new(0);
    let http = Scripted::new(move |request| {
        calls.set(calls.get() + 1);
        match (request.method, calls.get()) {
            (Method::Delete, 1) => ok(503, json!("busy")),
            (Method::Delete, _) => Ok(Response {
                status: 204,
                headers: Vec::new(),
                body: String::new(),
            }),
            (Method::Post, _) => ok(422, json!({"errors": {"name": ["can't be blank"]}})),
            other => panic!("unexpected {other:?}"),
        }
    });
    let shared = Shared::new(tokens(), Limits::default());
    let api = ApiClient {
        http: &http,
        shared: &shared,
        base_url: "https://api.test/",
        company_id: 7,
    };
    let url = api.url("/rest/v1.0/projects/1/rfis/5");
    assert_eq!(url, "https://api.test/rest/v1.0/projects/1/rfis/5");
    let extra = [("Idempotency-Token".to_string(), "k1".to_string())];
    let deleted = pollster::block_on(api.call(Method::Delete, &url, None, &extra)).unwrap();
    assert_eq!(deleted.status, 204);
    let requests = http.requests();
    assert_eq!(requests.len(), 2, "the 503 was retried");
    for request in &requests {
        assert_eq!(
            header(request, "idempotency-token"),
            Some("k1"),
            "the same token on every attempt"
        );
        assert_eq!(header(request, "content-type"), None, "no body, no type");
    }
    assert_headers(&requests);
    let error = pollster::block_on(api.call(Method::Post, &url, Some(r#"{"rfi":{}}"#.into()), &[]))
        .unwrap_err();
    assert_eq!(error.code(), "HTTP");
    assert_eq!(
        error.http(),
        Some((422, r#"{"errors":{"name":["can't be blank"]}}"#))
    );
}

/// Every POST and PATCH to the API carries an `Idempotency-Token`, the same on each
/// retry of that call (a retried Create Upload whose answer was lost creates one
/// upload); GETs and storage requests carry none.
#[test]
fn api_posts_and_patches_carry_one_idempotency_token_per_call() {
    let size = 2 * 5 * MIB as usize + 10;
    let source = data(size);
    let failed = Cell::new(0);
    let http = Scripted::new({
        let mut inner = v1_segmented_responder(source.clone(), 5 * MIB as usize);
        move |request| {
            // The first create and the first complete fail once: each is retried.
            if matches!(request.method, Method::Post | Method::Patch)
                && request.target == Target::Api
                && failed.get() < 2
                && (request.method == Method::Post) == (failed.get() == 0)
            {
                failed.set(failed.get() + 1);
                return ok(503, json!("busy"));
            }
            inner(request)
        }
    });
    let mut options = options(ApiVersion::V11, Some(42), size as u64, Segmented::Yes);
    options.segment_size = Some(5 * MIB);
    let (result, _) = run(&http, &source, &options);
    assert!(result.is_ok(), "{result:?}");
    let tokens = |method: Method| -> Vec<Option<String>> {
        http.requests()
            .iter()
            .filter(|r| r.method == method)
            .map(|r| header(r, "idempotency-token").map(str::to_string))
            .collect()
    };
    let posts = tokens(Method::Post);
    let patches = tokens(Method::Patch);
    assert_eq!(posts.len(), 2, "the create was retried");
    assert_eq!(patches.len(), 2, "the complete was retried");
    assert!(posts[0].is_some() && posts[0] == posts[1], "{posts:?}");
    assert!(
        patches[0].is_some() && patches[0] == patches[1],
        "{patches:?}"
    );
    assert!(
        tokens(Method::Put).iter().all(Option::is_none),
        "storage gets none"
    );
}
