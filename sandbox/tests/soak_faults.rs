//! The faults and the request-log timing a browser soak test leans on: stalled
//! uploads, mixed error statuses, instructions already expired when handed out, and
//! `received_ms`/`finished_ms` (from which a test computes how many storage requests a
//! client had open at once).

mod common;

use std::time::{Duration, Instant};

use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SEGMENTED: &str = "/rest/v1.1/companies/7/uploads";

async fn one_segment(h: &Harness, data: &[u8]) -> Value {
    let created = h
        .create_segmented(SEGMENTED, data, data.len().max(1), true)
        .await;
    segments_of(&created)[0].clone()
}

/// Opens a connection to the segment's storage URL and sends its PUT, whole body
/// included, as a browser would (raw, so the test decides when the connection closes).
async fn send_put(segment: &Value, data: &[u8]) -> TcpStream {
    let url = url::Url::parse(segment["url"].as_str().unwrap()).unwrap();
    let host = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
    let mut head = format!(
        "PUT {}?{} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n",
        url.path(),
        url.query().unwrap(),
        data.len()
    );
    for (name, value) in segment["headers"].as_object().unwrap() {
        if !name.eq_ignore_ascii_case("content-length") {
            head.push_str(&format!("{name}: {}\r\n", value.as_str().unwrap()));
        }
    }
    head.push_str("\r\n");
    let mut stream = TcpStream::connect(&host).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(data).await.unwrap();
    stream.flush().await.unwrap();
    stream
}

/// Empties the request log.
async fn clear_log(h: &Harness) {
    let response = h
        .http
        .delete(h.url("/_sandbox/requests"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
}

/// The storage log entries.
async fn storage_log(h: &Harness) -> Vec<Value> {
    h.requests()
        .await
        .into_iter()
        .filter(|r| r["side"] == "storage")
        .collect()
}

/// Polls the log until the only storage entry has `finished_ms`; returns it and how
/// long that took.
async fn wait_finished(h: &Harness, limit: Duration) -> (Value, Duration) {
    let started = Instant::now();
    loop {
        let log = storage_log(h).await;
        assert_eq!(log.len(), 1, "{log:?}");
        if !log[0]["finished_ms"].is_null() {
            return (log[0].clone(), started.elapsed());
        }
        assert!(
            started.elapsed() < limit,
            "finished_ms still null after {limit:?}: {log:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn ms(entry: &Value, field: &str) -> f64 {
    entry[field]
        .as_f64()
        .unwrap_or_else(|| panic!("{field}: {entry}"))
}

/// A stalled PUT: its whole body is taken (24 MiB cannot sit in socket buffers while
/// nobody reads), then no answer comes; when the client closes the connection, its log
/// entry is stamped at once (hyper drops the held handler on EOF).
#[tokio::test]
async fn stalled_put_is_held_until_the_client_closes() {
    let h = Harness::embedded().await;
    let data = bytes(24 * MIB, 1);
    let segment = one_segment(&h, &data).await;
    h.set_faults(json!({ "storage_stall_next": 1 })).await;
    clear_log(&h).await;

    let sending = Instant::now();
    let mut stream = tokio::time::timeout(Duration::from_secs(10), send_put(&segment, &data))
        .await
        .expect("the sandbox reads the whole body of a stalled upload");
    let mut answer = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_millis(700), stream.read(&mut answer)).await;
    assert!(read.is_err(), "no answer while stalled: {read:?}");
    let log = storage_log(&h).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["fault"], "stall");
    assert_eq!(log[0]["status"], 0);
    assert!(log[0]["finished_ms"].is_null(), "still open: {}", log[0]);

    let held = sending.elapsed();
    drop(stream);
    let (entry, noticed) = wait_finished(&h, Duration::from_secs(1)).await;
    assert_eq!(entry["fault"], "stall");
    assert_eq!(entry["status"], 499, "the client closed the connection");
    let open_ms = ms(&entry, "finished_ms") - ms(&entry, "received_ms");
    let held_ms = held.as_secs_f64() * 1000.0;
    assert!(
        open_ms >= held_ms - 50.0 && open_ms <= held_ms + noticed.as_secs_f64() * 1000.0 + 50.0,
        "open {open_ms} ms in the log; the client held it {held_ms} ms (+{noticed:?} to see the stamp)"
    );
    assert_eq!(
        h.put_segment(&segment, &data).await.status(),
        200,
        "one stall only"
    );
}

/// Without the client closing, the sandbox drops the stalled connection itself after
/// `storage_stall_ms`, without an answer.
#[tokio::test]
async fn stall_ms_drops_the_connection_by_itself() {
    let h = Harness::embedded().await;
    let data = bytes(1000, 2);
    let segment = one_segment(&h, &data).await;
    h.set_faults(json!({ "storage_stall_next": 1, "storage_stall_ms": 400 }))
        .await;
    clear_log(&h).await;
    let started = Instant::now();
    let error = put_with_headers(
        &h.http,
        segment["url"].as_str().unwrap(),
        &segment["headers"],
        data.clone(),
    )
    .await
    .expect_err("the connection is dropped without an answer");
    assert!(!error.is_status(), "{error}");
    let waited = started.elapsed();
    assert!(
        (Duration::from_millis(400)..Duration::from_secs(5)).contains(&waited),
        "{waited:?}"
    );
    let (entry, _) = wait_finished(&h, Duration::from_secs(1)).await;
    assert_eq!(entry["fault"], "stall");
    assert_eq!(entry["status"], 0, "dropped by the sandbox");
    let open_ms = ms(&entry, "finished_ms") - ms(&entry, "received_ms");
    assert!((400.0..5000.0).contains(&open_ms), "{open_ms}");
}

/// `storage_stall_rate` stalls uploads that carry a body, not an empty PUT.
#[tokio::test]
async fn stall_rate_takes_only_uploads_with_a_body() {
    let h = Harness::embedded().await;
    let empty = one_segment(&h, b"").await;
    let data = bytes(100, 3);
    let segment = one_segment(&h, &data).await;
    h.set_faults(json!({ "storage_stall_rate": 1.0, "storage_stall_ms": 100 }))
        .await;
    assert_eq!(h.put_segment(&empty, b"").await.status(), 200);
    let stalled = put_with_headers(
        &h.http,
        segment["url"].as_str().unwrap(),
        &segment["headers"],
        data,
    )
    .await;
    assert!(stalled.is_err(), "{stalled:?}");
    let faults: Vec<_> = storage_log(&h)
        .await
        .iter()
        .map(|r| r["fault"].clone())
        .collect();
    assert_eq!(faults, [Value::Null, json!("stall")]);
}

/// A client that closes the connection mid-body: logged 499 and stamped at once.
#[tokio::test]
async fn client_closing_mid_body_is_stamped_at_once() {
    let h = Harness::embedded().await;
    let data = bytes(MIB, 4);
    let segment = one_segment(&h, &data).await;
    clear_log(&h).await;
    // Half the body, then the connection closes.
    let url = url::Url::parse(segment["url"].as_str().unwrap()).unwrap();
    let host = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
    let mut stream = TcpStream::connect(&host).await.unwrap();
    let head = format!(
        "PUT {}?{} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\n\r\n",
        url.path(),
        url.query().unwrap(),
        data.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&data[..data.len() / 2]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = storage_log(&h).await;
    assert!(log[0]["finished_ms"].is_null(), "open mid-body: {log:?}");
    drop(stream);
    let (entry, _) = wait_finished(&h, Duration::from_secs(1)).await;
    assert_eq!(entry["status"], 499);
    assert!(entry["fault"].is_null());
}

/// `storage_error_statuses`: every injected error answers a status from the list, and
/// the pick varies.
#[tokio::test]
async fn error_statuses_come_from_the_list() {
    let h = Harness::embedded().await;
    let data = bytes(10, 5);
    let segment = one_segment(&h, &data).await;
    h.set_faults(json!({ "storage_fail_next": 30, "storage_error_statuses": [500, 502, 504] }))
        .await;
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..30 {
        let (status, code) = s3_code(h.put_segment(&segment, &data).await).await;
        assert!([500, 502, 504].contains(&status), "{status} {code}");
        seen.insert(status);
    }
    assert!(seen.len() > 1, "the statuses vary: {seen:?}");
    assert_eq!(h.put_segment(&segment, &data).await.status(), 200);
    let faults: Vec<_> = storage_log(&h)
        .await
        .iter()
        .filter_map(|r| r["fault"].as_str().map(String::from))
        .collect();
    assert_eq!(faults.len(), 30);
    assert!(faults
        .iter()
        .all(|f| ["error 500", "error 502", "error 504"].contains(&f.as_str())));
}

/// The answer S3 gives an expired presigned URL or POST policy.
async fn assert_expired(response: reqwest::Response, what: &str) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert_eq!(status, 403, "{what}: {text}");
    assert!(text.contains("<Code>AccessDenied</Code>"), "{what}: {text}");
    assert!(text.contains("Request has expired"), "{what}: {text}");
}

/// `instructions_expired_next: 1`: the first create's instructions are refused as
/// expired (and the create is marked in the log); the next create's work.
#[tokio::test]
async fn the_next_instructions_are_already_expired() {
    let h = Harness::embedded().await;
    let data = bytes(100, 6);
    h.set_faults(json!({ "instructions_expired_next": 1 }))
        .await;
    let expired = one_segment(&h, &data).await;
    assert_expired(h.put_segment(&expired, &data).await, "segment").await;
    let fresh = one_segment(&h, &data).await;
    assert_eq!(h.put_segment(&fresh, &data).await.status(), 200);

    // A form's policy too.
    h.set_faults(json!({ "instructions_expired_next": 1 }))
        .await;
    let form = h
        .create(
            "/rest/v1.0/companies/7/uploads",
            json!({ "response_filename": "a" }),
        )
        .await;
    assert_expired(h.post_form(&form, b"late").await, "form").await;
    let form = h
        .create(
            "/rest/v1.0/companies/7/uploads",
            json!({ "response_filename": "a" }),
        )
        .await;
    assert_eq!(h.post_form(&form, b"in time").await.status(), 204);

    let marked: Vec<_> = h
        .requests()
        .await
        .into_iter()
        .filter(|r| r["side"] == "api")
        .map(|r| r["fault"].clone())
        .collect();
    let expired = json!("instructions expired");
    assert_eq!(marked, [expired.clone(), Value::Null, expired, Value::Null]);
}

/// v2.1: the create's part URLs and the fresh ones a Show Upload gives each count as
/// one set; after them, Show gives URLs that work.
#[tokio::test]
async fn v2_create_and_show_each_count_once() {
    let h = Harness::embedded().await;
    let data = bytes(5 * MIB + 100, 7);
    let path = "/rest/v2.1/companies/7/uploads";
    h.set_faults(json!({ "instructions_expired_next": 2 }))
        .await;
    let created = h
        .create(path, json!({ "file_name": "a", "file_size": data.len(), "sha256": sha256_hex(&data), "segments": declare_segments(&data, 5 * MIB + 1, true) }))
        .await;
    let uuid = created["data"]["upload_id"].as_str().unwrap();
    let parts = segments_of(&created);
    assert_eq!(parts.len(), 2);
    assert!(parts[0]["url_expires_at"].as_u64().unwrap() < now_unix());
    assert_expired(
        h.put_segment(&parts[0], &data[..5 * MIB + 1]).await,
        "part 1",
    )
    .await;
    let show = || async {
        let (status, body) = json_of(
            h.api(Method::GET, &format!("{path}/{uuid}"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        segments_of(&body)
    };
    let renewed = show().await;
    assert_expired(
        h.put_segment(&renewed[0], &data[..5 * MIB + 1]).await,
        "part 1 renewed once",
    )
    .await;
    let renewed = show().await;
    let etags = [
        h.put_segment(&renewed[0], &data[..5 * MIB + 1]).await,
        h.put_segment(&renewed[1], &data[5 * MIB + 1..]).await,
    ];
    assert!(etags.iter().all(|r| r.status() == 200));
    let faults: Value = h
        .http
        .get(h.url("/_sandbox/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(faults["instructions_expired_next"], 0);
    let marked: Vec<_> = h
        .requests()
        .await
        .into_iter()
        .filter(|r| r["side"] == "api")
        .map(|r| (r["method"].clone(), r["fault"].clone()))
        .collect();
    let expired = json!("instructions expired");
    assert_eq!(
        marked,
        [
            (json!("POST"), expired.clone()),
            (json!("GET"), expired),
            (json!("GET"), Value::Null)
        ]
    );
}

/// Every entry, API or storage, carries `received_ms <= finished_ms`; one request
/// after another, the times follow.
#[tokio::test]
async fn log_entries_carry_their_times() {
    let h = Harness::embedded().await;
    let data = bytes(1000, 8);
    let segment = one_segment(&h, &data).await;
    assert_eq!(h.put_segment(&segment, &data).await.status(), 200);
    h.set_faults(json!({ "storage_fail_next": 1 })).await;
    assert_eq!(h.put_segment(&segment, &data).await.status(), 503);
    let log = h.requests().await;
    assert_eq!(log.len(), 3, "{log:?}");
    for entry in &log {
        let (received, finished) = (ms(entry, "received_ms"), ms(entry, "finished_ms"));
        assert!(0.0 <= received && received <= finished, "{entry}");
    }
    for pair in log.windows(2) {
        assert!(
            ms(&pair[0], "finished_ms") <= ms(&pair[1], "received_ms"),
            "{pair:?}"
        );
    }
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}
