//! The Procore API side, driven over HTTP as a client would, on the embedded store.

mod common;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};

const LEVELS_V1: [&str; 2] = ["companies/7", "projects/42"];

#[tokio::test]
async fn v1_form_upload_every_version_and_level() {
    let h = Harness::embedded().await;
    for version in ["v1.0", "v1.1"] {
        for level in LEVELS_V1 {
            // Above the 20 MB s3s buffers before the file part.
            let data = bytes(21 * 1024 * 1024 + 17, 1);
            let path = format!("/rest/{version}/{level}/uploads");
            let created = h
                .create(
                    &path,
                    json!({ "response_filename": "r é.pdf", "response_content_type": "application/pdf", "size": data.len() }),
                )
                .await;
            let fields: Vec<&String> = created["fields"].as_object().unwrap().keys().collect();
            assert_eq!(
                fields,
                [
                    "key",
                    "Content-Type",
                    "Content-Disposition",
                    "policy",
                    "x-amz-credential",
                    "x-amz-algorithm",
                    "x-amz-date",
                    "x-amz-signature"
                ],
                "fields come in S3's order"
            );
            assert_eq!(
                created["fields"]["Content-Disposition"],
                "inline; filename=\"r é.pdf\""
            );
            let response = h.post_form(&created, &data).await;
            assert_eq!(
                response.status(),
                204,
                "{path}: {}",
                response.text().await.unwrap()
            );
            let uuid = created["uuid"].as_str().unwrap();
            let (status, shown) = json_of(
                h.api(Method::GET, &format!("{path}/{uuid}"))
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(
                (status, shown["status"].as_str()),
                (200, Some("complete")),
                "{shown}"
            );
            let stored = h.inspect(uuid).await;
            assert_eq!(stored["stored"]["sha256"], sha256_hex(&data), "{path}");
        }
    }
}

#[tokio::test]
async fn v1_segmented_upload_every_version_and_level() {
    let h = Harness::embedded().await;
    let data = bytes(2 * 5 * MIB + 12_345, 2);
    for (version, level, md5) in [
        ("v1.0", "companies/7", true),
        ("v1.1", "projects/42", false),
    ] {
        let path = format!("/rest/{version}/{level}/uploads");
        let created = h.create_segmented(&path, &data, 5 * MIB, md5).await;
        assert_eq!(created["status"], "ready");
        let segments = segments_of(&created);
        assert_eq!(segments.len(), 3);
        let header_names: Vec<&String> =
            segments[0]["headers"].as_object().unwrap().keys().collect();
        let mut expected = vec!["x-amz-content-sha256", "content-length"];
        if md5 {
            expected.push("content-md5");
        }
        assert_eq!(header_names, expected);
        let etags = h.put_all(&created, &data, 5 * MIB).await;
        let uuid = created["uuid"].as_str().unwrap();
        let body =
            json!({ "segments": etags.iter().map(|e| json!({ "etag": e })).collect::<Vec<_>>() });
        let (status, completed) = json_of(
            h.api(Method::PATCH, &format!("{path}/{uuid}"))
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            (status, completed["status"].as_str()),
            (200, Some("complete")),
            "{completed}"
        );
        assert_eq!(completed["segments"][0]["etag"], etags[0].trim_matches('"'));
        let stored = h.inspect(uuid).await;
        assert_eq!(stored["stored"]["sha256"], sha256_hex(&data));
        assert_eq!(stored["stored"]["size"], data.len());
        // Completing again is refused, as it may be on Procore (storage's multipart
        // upload is gone): a client must ask Show Upload after a lost answer.
        let (status, again) = json_of(
            h.api(Method::PATCH, &format!("{path}/{uuid}"))
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 422, "{again}");
        assert!(
            again["errors"]
                .as_str()
                .unwrap()
                .contains("already complete"),
            "{again}"
        );
        assert_eq!(h.inspect(uuid).await["upload"]["completions"], 1);
        let (status, shown) = json_of(
            h.api(Method::GET, &format!("{path}/{uuid}"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!((status, shown["status"].as_str()), (200, Some("complete")));
    }
}

#[tokio::test]
async fn v1_patch_refusals() {
    let h = Harness::embedded().await;
    let data = bytes(5 * MIB + 10, 3);
    let path = "/rest/v1.0/companies/7/uploads";
    let created = h.create_segmented(path, &data, 5 * MIB, true).await;
    let uuid = created["uuid"].as_str().unwrap();
    let patch = |body: Value| {
        h.api(Method::PATCH, &format!("{path}/{uuid}"))
            .json(&body)
            .send()
    };

    // Nothing uploaded yet: storage has no such part.
    let (status, body) = json_of(
        patch(json!({"segments": [{"etag": "a"}, {"etag": "b"}]}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["errors"].as_str().unwrap().contains("never uploaded"),
        "{body}"
    );

    let etags = h.put_all(&created, &data, 5 * MIB).await;
    let (status, body) = json_of(
        patch(json!({"segments": [{"etag": etags[0]}]}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422, "one etag for two segments: {body}");
    let (status, body) = json_of(
        patch(json!({"segments": [{"etag": etags[1]}, {"etag": etags[0]}]}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422, "etags out of order: {body}");
    assert!(
        body["errors"].as_str().unwrap().contains("does not match"),
        "{body}"
    );
    let (status, _) = json_of(patch(json!({"segments": "x"})).await.unwrap()).await;
    assert_eq!(status, 400);
    let (status, body) = json_of(
        patch(json!({"segments": [{"etag": etags[0]}, {"etag": etags[1]}]}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body["status"].as_str()), (200, Some("complete")));
    assert_eq!(h.inspect(uuid).await["upload"]["completions"], 1);
}

#[tokio::test]
async fn v2_upload_every_level_with_partial_patch_and_processing() {
    let h = Harness::embedded().await;
    let data = bytes(2 * 6 * MIB + 777, 4);
    for level in ["companies/7", "companies/7/projects/42"] {
        let path = format!("/rest/v2.1/{level}/uploads");
        let created = h
            .create(
                &path,
                json!({
                    "file_name": "video.mp4", "file_size": data.len(), "content_type": "video/mp4",
                    "sha256": sha256_hex(&data), "md5": md5_hex(&data),
                    "segments": declare_segments(&data, 6 * MIB, true),
                }),
            )
            .await;
        let created_data = &created["data"];
        assert_eq!(created_data["status"], "ready");
        let first = &segments_of(&created)[0];
        let header_names: Vec<&String> = first["headers"].as_object().unwrap().keys().collect();
        assert_eq!(
            header_names,
            ["x-amz-content-sha256", "Content-Length", "Content-MD5"],
            "v2.1 spelling"
        );
        assert!(created_data["upload_expires_at"].as_u64().is_some());
        let uuid = created_data["upload_id"].as_str().unwrap();
        let etags = h.put_all(&created, &data, 6 * MIB).await;
        let patch = |etags: Value| {
            h.api(Method::PATCH, &format!("{path}/{uuid}"))
                .json(&json!({ "part_etags": etags }))
                .send()
        };

        let (status, partial) =
            json_of(patch(json!([etags[0], null, etags[2]])).await.unwrap()).await;
        assert_eq!(
            (status, partial["data"]["status"].as_str()),
            (200, Some("receiving")),
            "{partial}"
        );
        assert_eq!(
            h.inspect(uuid).await["upload"]["completions"],
            0,
            "a checkpoint is no completion"
        );
        let (status, done) = json_of(patch(json!(etags)).await.unwrap()).await;
        assert_eq!(
            (status, done["data"]["status"].as_str()),
            (200, Some("complete")),
            "{done}"
        );
        assert_eq!(h.inspect(uuid).await["upload"]["completions"], 1);

        let mut last = Value::Null;
        for _ in 0..100 {
            let (_, shown) = json_of(
                h.api(Method::GET, &format!("{path}/{uuid}"))
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            last = shown;
            if last["data"]["status"] == "available" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(last["data"]["status"], "available", "{last}");
        assert_eq!(last["data"]["sanitized_file_name"], "video.mp4");
        assert_eq!(h.inspect(uuid).await["stored"]["sha256"], sha256_hex(&data));
    }
}

#[tokio::test]
async fn v2_declared_hash_that_differs_from_the_bytes_fails_processing() {
    let h = Harness::embedded().await;
    let data = bytes(1000, 5);
    let path = "/rest/v2.1/companies/7/uploads";
    let created = h
        .create(
            path,
            json!({ "file_name": "a", "file_size": 1000, "sha256": sha256_hex(b"other"), "segments": declare_segments(&data, 1000, false) }),
        )
        .await;
    let uuid = created["data"]["upload_id"].as_str().unwrap();
    let etags = h.put_all(&created, &data, 1000).await;
    let response = h.patch_v2(path, uuid, json!(etags)).await;
    assert_eq!(response.status(), 200);
    let (_, shown) = h.show_after_processing(path, uuid).await;
    assert_eq!(shown["data"]["status"], "failed", "{shown}");
    assert!(shown["data"]["failure_reason"]
        .as_str()
        .unwrap()
        .contains("SHA-256"));
}

#[tokio::test]
async fn v2_get_gives_fresh_urls_for_expired_parts() {
    let mut config = config();
    config.instruction_ttl = 1;
    let h = Harness::with(config).await;
    let data = bytes(300, 6);
    let path = "/rest/v2.1/companies/7/uploads";
    let created = h
        .create(path, json!({ "file_name": "a", "file_size": 300, "sha256": sha256_hex(&data), "segments": declare_segments(&data, 300, true) }))
        .await;
    let uuid = created["data"]["upload_id"].as_str().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let old = &segments_of(&created)[0];
    let (status, code) = s3_code(h.put_segment(old, &data).await).await;
    assert_eq!(
        (status, code.as_str()),
        (403, "AccessDenied"),
        "the old URL expired"
    );
    let (_, shown) = json_of(
        h.api(Method::GET, &format!("{path}/{uuid}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let fresh = &shown["data"]["segments"][0];
    assert_ne!(fresh["url"], old["url"]);
    assert_eq!(fresh["headers"], old["headers"]);
    let response = h.put_segment(fresh, &data).await;
    assert_eq!(response.status(), 200, "the fresh URL works");
}

#[tokio::test]
async fn authentication_and_company_refusals() {
    let h = Harness::embedded().await;
    let path = "/rest/v1.0/companies/7/uploads";
    let body = json!({});
    let cases: Vec<(reqwest::RequestBuilder, u16, &str)> = vec![
        (
            h.http
                .post(h.url(path))
                .header("Procore-Company-Id", "7")
                .json(&body),
            401,
            "no token",
        ),
        (
            h.http
                .post(h.url(path))
                .bearer_auth("wrong")
                .header("Procore-Company-Id", "7")
                .json(&body),
            401,
            "wrong token",
        ),
        (
            h.http.post(h.url(path)).bearer_auth(TOKEN).json(&body),
            400,
            "no company header",
        ),
        (
            h.http
                .post(h.url(path))
                .bearer_auth(TOKEN)
                .header("Procore-Company-Id", "seven")
                .json(&body),
            400,
            "non-numeric company",
        ),
        (
            h.http
                .post(h.url(path))
                .bearer_auth(TOKEN)
                .header("Procore-Company-Id", "0")
                .json(&body),
            400,
            "company 0",
        ),
        (
            h.http
                .post(h.url("/rest/v1.0/companies/8/uploads"))
                .bearer_auth(TOKEN)
                .header("Procore-Company-Id", "7")
                .json(&body),
            403,
            "other company in path",
        ),
        (
            h.http
                .post(h.url("/rest/v9.9/companies/7/uploads"))
                .bearer_auth(TOKEN)
                .header("Procore-Company-Id", "7")
                .json(&body),
            404,
            "unknown version",
        ),
    ];
    for (request, status, what) in cases {
        let (got, body) = json_of(request.send().await.unwrap()).await;
        assert_eq!(got, status, "{what}: {body}");
        assert!(body["errors"].is_string(), "{what}: errors in the body");
    }
    let unauthorized = h.http.post(h.url(path)).json(&body).send().await.unwrap();
    assert!(unauthorized.headers().contains_key("www-authenticate"));

    // Only the creating user may use an upload.
    let created = h.create(path, json!({ "response_filename": "a" })).await;
    let uuid = created["uuid"].as_str().unwrap();
    let other = h
        .api_as(OTHER_TOKEN, Method::GET, &format!("{path}/{uuid}"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 403);
    let other = h
        .api_as(OTHER_TOKEN, Method::PATCH, &format!("{path}/{uuid}"))
        .json(&json!({"segments": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 403);
    let missing = h
        .api(Method::GET, &format!("{path}/NOPE"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn create_validation_refusals() {
    let h = Harness::embedded().await;
    let sha = "a".repeat(64);
    let five_mib = 5 * MIB as u64;
    let seg = |size: u64| json!({ "size": size, "sha256": sha });
    let v2 = |segments: Value, size: u64| json!({ "file_name": "f", "file_size": size, "sha256": sha, "segments": segments });
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        (
            "/rest/v1.1/companies/7/uploads",
            json!({}),
            422,
            "response_filename is required",
        ),
        (
            "/rest/v1.0/companies/7/uploads",
            json!({ "segments": [seg(five_mib - 1), seg(1)] }),
            422,
            "below the minimum",
        ),
        (
            "/rest/v1.0/companies/7/uploads",
            json!({ "segments": [seg(5 * 1024 * five_mib + 1)] }),
            422,
            "above the maximum",
        ),
        (
            "/rest/v1.0/companies/7/uploads",
            json!({ "segments": vec![seg(five_mib); 10_001] }),
            422,
            "at most 10000",
        ),
        (
            "/rest/v1.0/companies/7/uploads",
            json!({ "segments": [{ "size": 1, "sha256": "xyz" }] }),
            422,
            "sha256 must be 64 hex",
        ),
        (
            "/rest/v1.0/companies/7/uploads",
            json!({ "segments": [{ "size": 1, "sha256": sha, "md5": "12" }] }),
            422,
            "md5 must be 32 hex",
        ),
        (
            "/rest/v1.0/companies/7/uploads",
            json!({ "size": 5, "segments": [seg(4)] }),
            422,
            "add up to 4",
        ),
        (
            "/rest/v1.0/companies/7/uploads",
            json!({ "segments": [] }),
            422,
            "must not be empty",
        ),
        (
            "/rest/v2.1/companies/7/uploads",
            v2(json!([seg(five_mib), seg(1)]), five_mib + 1),
            422,
            "below the minimum",
        ),
        (
            "/rest/v2.1/companies/7/uploads",
            v2(json!([seg(100 * MIB as u64 + 1)]), 100 * MIB as u64 + 1),
            422,
            "above the maximum",
        ),
        (
            "/rest/v2.1/companies/7/uploads",
            json!({ "file_size": 1, "sha256": sha, "segments": [seg(1)] }),
            422,
            "file_name is required",
        ),
        (
            "/rest/v2.1/companies/7/uploads",
            json!({ "file_name": "f", "file_size": 1, "segments": [seg(1)] }),
            422,
            "sha256 must be",
        ),
    ];
    for (path, body, status, message) in cases {
        let (got, answer) =
            json_of(h.api(Method::POST, path).json(&body).send().await.unwrap()).await;
        assert_eq!(got, status, "{message}: {answer}");
        assert!(
            answer["errors"].as_str().unwrap().contains(message),
            "{message} in {answer}"
        );
    }
    let malformed = h
        .api(Method::POST, "/rest/v1.0/companies/7/uploads")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    assert!(
        h.requests().await.iter().all(|r| r["side"] == "api"),
        "no refused create reached storage"
    );
}

#[tokio::test]
async fn rate_limit_headers_and_429() {
    let mut config = config();
    config.rate_limit = 3;
    let h = Harness::with(config).await;
    let path = "/rest/v1.0/companies/7/uploads/NONE";
    for remaining in ["2", "1", "0"] {
        let response = h.api(Method::GET, path).send().await.unwrap();
        assert_eq!(response.headers()["x-rate-limit-limit"], "3");
        assert_eq!(response.headers()["x-rate-limit-remaining"], remaining);
        assert!(response.headers()["x-rate-limit-reset"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .is_ok());
    }
    let limited = h.api(Method::GET, path).send().await.unwrap();
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().contains_key("retry-after"));
    // Another user has a window of their own.
    let other = h
        .api_as(OTHER_TOKEN, Method::GET, path)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
}

#[tokio::test]
async fn api_answers_cors() {
    let h = Harness::embedded().await;
    let preflight = h
        .http
        .request(Method::OPTIONS, h.url("/rest/v1.1/companies/7/uploads"))
        .header("Origin", "http://portal.example")
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization, procore-company-id, content-type",
        )
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "http://portal.example"
    );
    assert_eq!(
        preflight.headers()["access-control-allow-headers"],
        "authorization, procore-company-id, content-type"
    );
    let response = h
        .api(Method::GET, "/rest/v1.1/companies/7/uploads/X")
        .header("Origin", "http://portal.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "http://portal.example"
    );
    assert!(response.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .contains("X-Rate-Limit-Remaining"));
}

#[tokio::test]
async fn empty_files_upload_as_one_empty_part() {
    let h = Harness::embedded().await;
    let empty: &[u8] = &[];
    let path = "/rest/v1.1/projects/42/uploads";
    let created = h.create_segmented(path, empty, 1, true).await;
    let etags = h.put_all(&created, empty, 1).await;
    let uuid = created["uuid"].as_str().unwrap();
    let body = json!({ "segments": [{ "etag": etags[0] }] });
    let response = h
        .api(Method::PATCH, &format!("{path}/{uuid}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    assert_eq!(h.inspect(uuid).await["stored"]["size"], 0);

    let path = "/rest/v2.1/companies/7/uploads";
    let created = h
        .create(path, json!({ "file_name": "empty", "file_size": 0, "sha256": sha256_hex(empty), "segments": declare_segments(empty, 1, true) }))
        .await;
    let etags = h.put_all(&created, empty, 1).await;
    let uuid = created["data"]["upload_id"].as_str().unwrap();
    let response = h.patch_v2(path, uuid, json!(etags)).await;
    assert_eq!(response.status(), 200);
    let (_, shown) = h.show_after_processing(path, uuid).await;
    assert_eq!(shown["data"]["status"], "available", "{shown}");
}
