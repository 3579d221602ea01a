//! Fault injection and inspection: what tests of an uploader lean on.

mod common;

use std::time::{Duration, Instant};

use common::*;
use reqwest::Method;
use serde_json::json;

async fn one_segment(h: &Harness, data: &[u8]) -> serde_json::Value {
    let created = h
        .create_segmented("/rest/v1.1/companies/7/uploads", data, data.len(), true)
        .await;
    segments_of(&created)[0].clone()
}

#[tokio::test]
async fn storage_errors_for_the_next_requests_then_success() {
    let h = Harness::embedded().await;
    let data = bytes(1000, 1);
    let segment = one_segment(&h, &data).await;
    h.set_faults(json!({ "storage_fail_next": 2, "storage_error_status": 500 }))
        .await;
    for _ in 0..2 {
        let (status, code) = s3_code(h.put_segment(&segment, &data).await).await;
        assert_eq!((status, code.as_str()), (500, "InternalError"));
    }
    assert_eq!(
        h.put_segment(&segment, &data).await.status(),
        200,
        "the third attempt passes"
    );
    h.set_faults(json!({ "storage_fail_next": 1 })).await;
    let (status, code) = s3_code(h.put_segment(&segment, &data).await).await;
    assert_eq!((status, code.as_str()), (503, "SlowDown"), "503 by default");
    let faults: Vec<_> = h
        .requests()
        .await
        .into_iter()
        .filter_map(|r| r["fault"].as_str().map(String::from))
        .collect();
    assert_eq!(faults, ["error 500", "error 500", "error 503"]);
}

#[tokio::test]
async fn connection_reset_mid_body_then_success() {
    let h = Harness::embedded().await;
    let data = bytes(2 * MIB, 2);
    let segment = one_segment(&h, &data).await;
    h.set_faults(json!({ "storage_reset_next": 1 })).await;
    let error = put_with_headers(
        &h.http,
        segment["url"].as_str().unwrap(),
        &segment["headers"],
        data.clone(),
    )
    .await
    .expect_err("the connection is dropped before any answer");
    assert!(!error.is_status(), "{error}");
    assert_eq!(h.put_segment(&segment, &data).await.status(), 200);
    let log = h.requests().await;
    assert!(
        log.iter()
            .any(|r| r["fault"] == "reset" && r["status"] == 0),
        "{log:?}"
    );
}

#[tokio::test]
async fn error_rate_is_a_fraction_and_reproducible() {
    let mut config = config();
    config.seed = 42;
    config.faults = Some(procore_sandbox::Faults {
        storage_error_rate: 0.5,
        ..Default::default()
    });
    let h = Harness::with(config).await;
    let data = bytes(10, 3);
    let segment = one_segment(&h, &data).await;
    let mut failures = 0;
    for _ in 0..200 {
        if h.put_segment(&segment, &data).await.status() == 503 {
            failures += 1;
        }
    }
    assert!(
        (60..=140).contains(&failures),
        "about half of 200 failed: {failures}"
    );
}

#[tokio::test]
async fn latency_is_added() {
    let h = Harness::embedded().await;
    let data = bytes(10, 4);
    let segment = one_segment(&h, &data).await;
    h.set_faults(json!({ "storage_latency_ms": 300, "api_latency_ms": 200 }))
        .await;
    let started = Instant::now();
    assert_eq!(h.put_segment(&segment, &data).await.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    let started = Instant::now();
    h.api(Method::GET, "/rest/v1.1/companies/7/uploads/X")
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn api_429_burst_and_forced_401() {
    let h = Harness::embedded().await;
    h.set_faults(json!({ "api_429_next": 2, "retry_after_secs": 3, "api_401_next": 1 }))
        .await;
    let path = "/rest/v1.0/companies/7/uploads";
    let first = h
        .api(Method::POST, path)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 401, "the forced 401 comes first");
    for _ in 0..2 {
        let limited = h
            .api(Method::POST, path)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(limited.status(), 429);
        assert_eq!(limited.headers()["retry-after"], "3");
    }
    let ok = h
        .api(Method::POST, path)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 201);
}

#[tokio::test]
async fn canned_answers_replace_the_next_api_answers_in_order() {
    let h = Harness::embedded().await;
    h.set_faults(json!({ "api_canned_next": [
        { "status": 201, "body": "{not json" },
        { "status": 200, "body": "{\"uuid\":\"U\"}" },
    ] }))
    .await;
    let path = "/rest/v1.0/companies/7/uploads";
    let mut answers = Vec::new();
    for _ in 0..3 {
        let response = h
            .api(Method::POST, path)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let kind = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_string();
        answers.push((status, kind, response.text().await.unwrap()));
    }
    assert_eq!(
        answers[..2],
        [
            (201, "application/json".to_string(), "{not json".to_string()),
            (
                200,
                "application/json".to_string(),
                "{\"uuid\":\"U\"}".to_string()
            ),
        ]
    );
    assert_eq!(answers[2].0, 201, "then the endpoint answers again");
    assert!(answers[2].2.contains("\"uuid\""));
    let log = h.requests().await;
    let faults: Vec<_> = log.iter().map(|r| r["fault"].clone()).collect();
    assert_eq!(
        faults[..3],
        [json!("canned"), json!("canned"), serde_json::Value::Null]
    );
}

#[tokio::test]
async fn early_instruction_expiry() {
    let h = Harness::embedded().await;
    h.set_faults(json!({ "instruction_ttl_secs": 1 })).await;
    let data = bytes(10, 5);
    let segment = one_segment(&h, &data).await;
    assert!(segment["url"]
        .as_str()
        .unwrap()
        .contains("X-Amz-Expires=1&"));
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, code) = s3_code(h.put_segment(&segment, &data).await).await;
    assert_eq!((status, code.as_str()), (403, "AccessDenied"));
}

#[tokio::test]
async fn bad_fault_settings_are_refused() {
    let h = Harness::embedded().await;
    let response = h
        .http
        .put(h.url("/_sandbox/faults"))
        .json(&json!({ "no_such_fault": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let current: serde_json::Value = h
        .http
        .get(h.url("/_sandbox/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(current["storage_fail_next"], 0, "unchanged");
}

/// The request log shows what a client sent, so tests can check that no storage
/// request carried the token.
#[tokio::test]
async fn request_log_records_both_sides() {
    let h = Harness::embedded().await;
    let data = bytes(100, 6);
    let segment = one_segment(&h, &data).await;
    assert_eq!(h.put_segment(&segment, &data).await.status(), 200);
    let log = h.requests().await;
    let api: Vec<_> = log.iter().filter(|r| r["side"] == "api").collect();
    let storage: Vec<_> = log.iter().filter(|r| r["side"] == "storage").collect();
    assert_eq!(api.len(), 1);
    assert_eq!(api[0]["method"], "POST");
    assert_eq!(api[0]["status"], 201);
    let has = |r: &serde_json::Value, name: &str| {
        r["headers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h[0] == name)
    };
    assert!(has(api[0], "authorization"));
    assert_eq!(
        storage.len(),
        1,
        "the sandbox's own storage calls are not logged: {storage:?}"
    );
    assert_eq!(storage[0]["method"], "PUT");
    assert!(storage[0]["query"]
        .as_str()
        .unwrap()
        .contains("partNumber=1"));
    assert!(!has(storage[0], "authorization"));
    assert!(has(storage[0], "content-md5"));
    let cleared = h
        .http
        .delete(h.url("/_sandbox/requests"))
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), 204);
    assert!(h.requests().await.is_empty());
}

/// The binary prints its URLs on stdout and serves until stopped.
#[tokio::test]
async fn binary_prints_its_urls_and_documents_its_flags() {
    use tokio::io::AsyncBufReadExt;
    let binary = env!("CARGO_BIN_EXE_procore-sandbox");
    let help = std::process::Command::new(binary)
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    for flag in [
        "--port",
        "--storage-port",
        "--token",
        "--instruction-ttl",
        "--processing-delay-ms",
        "--rate-limit",
        "--rate-limit-window",
        "--hide-etag",
        "--data-dir",
        "--storage-endpoint",
        "--storage-bucket",
        "--storage-region",
        "--storage-access-key",
        "--storage-secret-key",
        "--faults",
        "--seed",
        "--host",
    ] {
        assert!(help.contains(flag), "--help documents {flag}");
    }
    let mut child = tokio::process::Command::new(binary)
        .args(["--port", "0"])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let api = lines.next_line().await.unwrap().unwrap();
    let storage = lines.next_line().await.unwrap().unwrap();
    let api = api.strip_prefix("api: ").expect("first line: api: <url>");
    assert!(api.starts_with("http://127.0.0.1:"), "{api}");
    assert!(
        storage.starts_with("storage: http://127.0.0.1:"),
        "{storage}"
    );
    let health: serde_json::Value = reqwest::get(format!("{api}_sandbox/health"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["ok"], true);
    child.kill().await.unwrap();
}

/// `api_answer_dropped`: the endpoint does its work, then the connection closes with
/// no answer at all (not a status); only the requests a rule aims at, as many as it
/// counts. Sent again with the same `Idempotency-Token`, the first answer comes.
#[tokio::test]
async fn a_dropped_answer_closes_the_connection_after_the_work() {
    let h = Harness::embedded().await;
    let uuid = h.form_upload("a.pdf", b"%PDF").await;
    h.set_faults(json!({"api_answer_dropped": [{"method": "post", "path": "/rest/v1.0/files"}]}))
        .await;
    // Not aimed at: another method, another path. While a rule is armed, every answer
    // closes its connection, so the dropped request will come on a fresh one.
    let shown = h
        .api(
            Method::GET,
            &format!("/rest/v1.1/projects/42/uploads/{uuid}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(shown.status(), 200);
    assert_eq!(shown.headers()["connection"], "close");
    let (status, _) = json_of(
        h.api(Method::POST, "/rest/v1.0/projects/42/incidents")
            .json(&json!({"incident": {}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201);
    let before = h.attachments().await.len();
    let send = || {
        h.api(Method::POST, "/rest/v1.0/files?project_id=42")
            .header("Idempotency-Token", "t-1")
            .json(&json!({"file": {"upload_uuid": uuid, "name": "a.pdf"}}))
            .send()
    };
    let error = send().await.expect_err("no answer at all");
    assert!(!error.is_status(), "{error}");
    let attached = h.attachments().await;
    assert_eq!(attached.len(), before + 1, "the work was done");
    let (status, answer) = json_of(send().await.unwrap()).await;
    assert_eq!(status, 201, "the rule counted one");
    assert_eq!(
        answer["id"],
        attached.last().unwrap()["id"],
        "the first answer"
    );
    assert_eq!(h.attachments().await.len(), before + 1, "created once");
    let posts: Vec<_> = h
        .requests()
        .await
        .into_iter()
        .filter(|r| r["path"] == "/rest/v1.0/files")
        .map(|r| (r["status"].clone(), r["fault"].clone()))
        .collect();
    assert_eq!(
        posts,
        [
            (json!(0), json!("answer dropped")),
            (json!(201), json!(null))
        ]
    );
    assert_eq!(
        h.admin_json("faults").await["api_answer_dropped"][0]["next"],
        0
    );
    let disarmed = h
        .api(
            Method::GET,
            &format!("/rest/v1.1/projects/42/uploads/{uuid}"),
        )
        .send()
        .await
        .unwrap();
    assert!(
        disarmed.headers().get("connection").is_none(),
        "kept alive once no rule has a count left"
    );
}

/// The lost-answer fault aimed at a v1 Complete Upload and then at its Show Upload,
/// as a client's tests aim it: the complete happens but its answer never comes; the
/// Show Upload asked next is dropped too; a second complete is refused (the multipart
/// upload is gone, as on Procore), and Show Upload, asked again, says `complete`.
#[tokio::test]
async fn a_dropped_answer_aimed_at_a_v1_complete_then_at_show_upload() {
    let h = Harness::embedded().await;
    let data = bytes(5 * MIB + 10, 7);
    let path = "/rest/v1.1/projects/42/uploads";
    let created = h.create_segmented(path, &data, 5 * MIB, true).await;
    let uuid = created["uuid"].as_str().unwrap();
    let etags = h.put_all(&created, &data, 5 * MIB).await;
    h.set_faults(json!({"api_answer_dropped": [
        {"method": "PATCH", "path": "/rest/v1.1/projects/*/uploads/*"},
        {"method": "GET", "path": "/rest/v1.1/projects/*/uploads/*"},
    ]}))
    .await;
    let upload = format!("{path}/{uuid}");
    let complete = || {
        let body =
            json!({"segments": etags.iter().map(|e| json!({"etag": e})).collect::<Vec<_>>()});
        h.api(Method::PATCH, &upload).json(&body).send()
    };
    let show = || h.api(Method::GET, &upload).send();
    let error = complete()
        .await
        .expect_err("the complete's answer is dropped");
    assert!(!error.is_status(), "{error}");
    let record = h.inspect(uuid).await;
    assert_eq!(
        (
            &record["upload"]["status"],
            &record["upload"]["completions"]
        ),
        (&json!("complete"), &json!(1)),
        "the complete happened"
    );
    let error = show().await.expect_err("the show's answer is dropped");
    assert!(!error.is_status(), "{error}");
    let (status, again) = json_of(complete().await.unwrap()).await;
    assert_eq!(status, 422, "a second complete is refused: {again}");
    assert!(again["errors"]
        .as_str()
        .unwrap()
        .contains("already complete"));
    let (status, shown) = json_of(show().await.unwrap()).await;
    assert_eq!((status, shown["status"].as_str()), (200, Some("complete")));
    let faults: Vec<_> = h
        .requests()
        .await
        .into_iter()
        .filter(|r| r["path"] == upload.as_str())
        .map(|r| (r["method"].clone(), r["status"].clone()))
        .collect();
    assert_eq!(
        faults,
        [
            (json!("PATCH"), json!(0)),
            (json!("GET"), json!(0)),
            (json!("PATCH"), json!(422)),
            (json!("GET"), json!(200)),
        ]
    );
}

/// `api_faults`: a 429, a 503, a lost answer and a dropped one, each aimed by method
/// and path, taken by as many matching requests as the rule counts and by no other
/// request; the work behind a lost answer is done once, and the same token gets it.
#[tokio::test]
async fn faults_aimed_by_method_and_path() {
    let h = Harness::embedded().await;
    let incidents = "/rest/v1.0/projects/42/incidents";
    h.set_faults(json!({"retry_after_secs": 4, "api_faults": [
        {"fault": "429", "method": "post", "path": "/rest/v1.0/projects/*/incidents"},
        {"fault": "503", "method": "POST", "path": "/rest/v1.0/projects/*/incidents", "next": 2},
        {"fault": "answer_lost", "path": "/rest/v1.0/projects/*/incidents"},
        {"fault": "answer_dropped", "method": "POST", "path": "/rest/v1.0/projects/*/incidents"},
    ]}))
    .await;
    // Not aimed at: another path. While a drop is armed, every answer closes its
    // connection (see `api_answer_dropped`).
    let other = h
        .api(Method::POST, "/rest/v1.0/companies/7/uploads")
        .json(&json!({"response_filename": "a.png"}))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 201, "another path takes nothing");
    assert_eq!(other.headers()["connection"], "close");
    let send = || {
        h.api(Method::POST, incidents)
            .header("Idempotency-Token", "aimed-1")
            .json(&json!({"incident": {"title": "gate"}}))
            .send()
    };
    let limited = send().await.unwrap();
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.headers()["retry-after"], "4");
    for _ in 0..2 {
        assert_eq!(send().await.unwrap().status(), 503);
    }
    assert!(
        h.attachments().await.is_empty(),
        "nothing before the endpoint"
    );
    assert_eq!(send().await.unwrap().status(), 502, "the answer is lost");
    assert_eq!(h.attachments().await.len(), 1, "after the work");
    let error = send().await.expect_err("no answer at all");
    assert!(!error.is_status(), "{error}");
    let (status, answer) = json_of(send().await.unwrap()).await;
    assert_eq!(status, 201, "every rule used up: {answer}");
    assert_eq!(
        answer["id"],
        h.attachments().await[0]["id"],
        "the first answer"
    );
    assert_eq!(h.attachments().await.len(), 1, "created once");
    let faults: Vec<_> = h
        .requests()
        .await
        .into_iter()
        .filter(|r| r["path"] == incidents)
        .map(|r| (r["status"].clone(), r["fault"].clone()))
        .collect();
    assert_eq!(
        faults,
        [
            (json!(429), json!("429")),
            (json!(503), json!("503")),
            (json!(503), json!("503")),
            (json!(502), json!("answer lost")),
            (json!(0), json!("answer dropped")),
            (json!(201), json!(null)),
        ]
    );
    let left: Vec<_> = h.admin_json("faults").await["api_faults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rule| rule["next"].clone())
        .collect();
    assert_eq!(left, [json!(0), json!(0), json!(0), json!(0)]);
}

/// An aimed rule's `rate`: 0 never fires, a fraction fires for about that share of
/// the matching requests, as the seed decides (the same seed, the same requests);
/// outside 0..=1 the settings are refused.
#[tokio::test]
async fn an_aimed_fault_fires_at_its_rate() {
    async fn fired(seed: u64, rate: f64) -> Vec<bool> {
        let h = Harness::with({
            let mut config = config();
            config.seed = seed;
            config
        })
        .await;
        h.set_faults(json!({"api_faults": [
            {"fault": "503", "path": "/rest/v1.0/projects/42/incidents", "next": 1000, "rate": rate}
        ]}))
        .await;
        let mut fired = Vec::new();
        for _ in 0..40 {
            let response = h
                .api(Method::POST, "/rest/v1.0/projects/42/incidents")
                .json(&json!({"incident": {}}))
                .send()
                .await
                .unwrap();
            fired.push(response.status() == 503);
        }
        fired
    }
    assert!(fired(1, 0.0).await.iter().all(|f| !f), "rate 0: never");
    let first = fired(3, 0.5).await;
    let count = first.iter().filter(|f| **f).count();
    assert!((8..=32).contains(&count), "about half of 40: {count}");
    assert_eq!(
        fired(3, 0.5).await,
        first,
        "the same seed, the same choices"
    );

    let h = Harness::embedded().await;
    for rate in [1.5, -0.1] {
        let response = h
            .http
            .put(h.url("/_sandbox/faults"))
            .json(&json!({"api_faults": [{"fault": "503", "rate": rate}]}))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, 400, "{text}");
        assert!(
            text.contains("api_faults[0].rate must be from 0 to 1"),
            "{text}"
        );
    }
    let response = h
        .http
        .put(h.url("/_sandbox/faults"))
        .json(&json!({"api_faults": [{"fault": "502"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400, "an unknown fault kind");
    assert_eq!(h.admin_json("faults").await["api_faults"], json!([]));
}
