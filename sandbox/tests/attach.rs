//! Attaching uploads to resources, driven over HTTP as a client would: each resource
//! with a finished upload, and each refusal (unknown, unfinished, someone else's,
//! not a PDF, missing fields) with its 422; a repeated Idempotency-Token creates once;
//! an incident deleted answers 204 with no body and leaves the attachments.

mod common;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};

/// POSTs `body` to `path` (with `extra` headers): status and JSON answer.
async fn post(h: &Harness, path: &str, body: Value, extra: &[(&str, &str)]) -> (u16, Value) {
    let mut request = h.api(Method::POST, path).json(&body);
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    json_of(request.send().await.unwrap()).await
}

#[tokio::test]
async fn each_resource_takes_a_finished_upload() {
    let h = Harness::embedded().await;
    let uuid = h.form_upload("site.png", b"png bytes").await;
    let cases = [
        (
            "/rest/v1.0/files?project_id=42",
            json!({"file": {"upload_uuid": uuid, "name": "site.png", "parent_id": null}}),
            "project_file",
        ),
        (
            "/rest/v1.0/companies/7/files",
            json!({"file": {"upload_uuid": uuid, "name": "site.png"}}),
            "company_file",
        ),
        (
            "/rest/v1.0/images?project_id=42",
            json!({"upload": {"uuid": uuid, "image_name": "site.png", "source": "API"}, "image": {"description": "north"}}),
            "image",
        ),
        (
            "/rest/v1.0/projects/42/accident_logs",
            json!({"accident_log": {"time_hour": 10, "time_minute": 15, "comments": "c", "upload_ids": [uuid]}}),
            "accident_log",
        ),
        (
            "/rest/v1.0/projects/42/incidents",
            json!({"incident": {"title": "Fall near the gate", "upload_uuids": [uuid]}}),
            "incident",
        ),
    ];
    for (path, body, kind) in &cases {
        let (status, answer) = post(&h, path, body.clone(), &[]).await;
        assert_eq!(status, 201, "{path}: {answer}");
        assert!(answer["id"].as_u64().is_some(), "{path}: {answer}");
        let attached = h.attachments().await;
        let last = attached.last().unwrap();
        assert_eq!(last["kind"], *kind);
        assert_eq!(last["upload_uuids"], json!([uuid]));
    }
    let (_, log) = post(&h, cases[3].0, cases[3].1.clone(), &[]).await;
    assert_eq!(log["attachments"][0]["filename"], "site.png");
    assert_eq!(log["time_hour"], 10);
}

#[tokio::test]
async fn refusals_are_422_with_errors() {
    let h = Harness::embedded().await;
    let finished = h.form_upload("a.pdf", b"%PDF").await;
    let unfinished = h
        .create(
            "/rest/v1.1/projects/42/uploads",
            json!({"response_filename": "b.pdf", "size": 3}),
        )
        .await["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let file = |uuid: &str| json!({"file": {"upload_uuid": uuid, "name": "x"}});
    let cases = [
        (file("NOSUCHUPLOAD"), TOKEN, "does not exist"),
        (file(&unfinished), TOKEN, "is not finished"),
        (file(&finished), OTHER_TOKEN, "belongs to another user"),
        (
            json!({"file": {"upload_uuid": finished}}),
            TOKEN,
            "file.name is required",
        ),
    ];
    for (body, token, message) in cases {
        let response = h
            .api_as(token, Method::POST, "/rest/v1.0/files?project_id=42")
            .json(&body)
            .send()
            .await
            .unwrap();
        let (status, answer) = json_of(response).await;
        assert_eq!(status, 422, "{body}: {answer}");
        assert!(
            answer["errors"].as_str().unwrap().contains(message),
            "{answer}"
        );
    }
    let (status, _) = post(&h, "/rest/v1.0/files", file(&finished), &[]).await;
    assert_eq!(status, 400, "project_id is required");
    assert!(h.attachments().await.is_empty(), "nothing attached");
}

#[tokio::test]
async fn the_drawing_workflow_and_its_idempotency() {
    let h = Harness::embedded().await;
    let (status, areas) = json_of(
        h.api(Method::GET, "/rest/v1.1/projects/42/drawing_areas")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let area = areas[0]["id"].as_u64().unwrap();
    let set = areas[0]["drawing_set_id"].as_u64().unwrap();
    let (status, drawing) = post(
        &h,
        &format!("/rest/v1.1/drawing_areas/{area}/drawings"),
        json!({"drawing": {"number": "A-101", "title": "Ground", "drawing_discipline": {"name": "Architectural"}}}),
        &[],
    )
    .await;
    assert_eq!((status, drawing["number"].as_str()), (201, Some("A-101")));
    let pdf = h.form_upload("A-101.pdf", b"%PDF-1.7").await;
    let png = h.form_upload("A-101.png", b"png").await;
    let body = |uuid: &str| {
        json!({"drawing_upload": {"drawing_area_id": area, "drawing_set_id": set,
               "drawing_log_imports": [{"upload_uuid": uuid, "drawing_date": "2026-11-23"}]}})
    };
    let path = "/rest/v1.1/projects/42/drawing_uploads";
    let (status, answer) = post(&h, path, body(&png), &[]).await;
    assert_eq!(status, 422);
    assert!(
        answer["errors"].as_str().unwrap().contains("not a PDF"),
        "{answer}"
    );
    let token = [("Idempotency-Token", "import-1")];
    let (status, first) = post(&h, path, body(&pdf), &token).await;
    assert_eq!(
        (status, first["status"].as_str()),
        (201, Some("in_queue")),
        "{first}"
    );
    let (status, again) = post(&h, path, body(&pdf), &token).await;
    assert_eq!(
        (status, &again),
        (201, &first),
        "the first answer, replayed"
    );
    let uploads: Vec<Value> = h
        .attachments()
        .await
        .into_iter()
        .filter(|r| r["kind"] == "drawing_upload")
        .collect();
    assert_eq!(uploads.len(), 1, "imported once");
    let (status, _) = post(&h, path, body(&pdf), &[("Idempotency-Token", "import-2")]).await;
    assert_eq!(status, 201, "another token imports again");
}

/// A lost answer: the import happened, the client saw a 502; sent again with the same
/// token it gets the first answer, and nothing is imported twice.
#[tokio::test]
async fn a_lost_answer_is_replayed_for_the_same_token() {
    let h = Harness::embedded().await;
    let pdf = h.form_upload("A-1.pdf", b"%PDF").await;
    let body = json!({"drawing_upload": {"drawing_area_id": 4201, "drawing_set_id": 4202,
        "drawing_log_imports": [{"upload_uuid": pdf, "drawing_date": "2026-11-23"}]}});
    let path = "/rest/v1.1/projects/42/drawing_uploads";
    let token = [("Idempotency-Token", "lost-1")];
    h.set_faults(json!({"api_answer_lost_next": 1})).await;
    let (status, _) = post(&h, path, body.clone(), &token).await;
    assert_eq!(status, 502);
    assert_eq!(h.attachments().await.len(), 1, "the import happened");
    let (status, answer) = post(&h, path, body, &token).await;
    assert_eq!((status, answer["status"].as_str()), (201, Some("in_queue")));
    assert_eq!(h.attachments().await.len(), 1, "and only once");
}

#[tokio::test]
async fn an_injected_503_comes_before_the_endpoint() {
    let h = Harness::embedded().await;
    let uuid = h.form_upload("a.pdf", b"%PDF").await;
    h.set_faults(json!({"api_error_next": 1})).await;
    let body = json!({"file": {"upload_uuid": uuid, "name": "a.pdf"}});
    let (status, _) = post(&h, "/rest/v1.0/files?project_id=42", body.clone(), &[]).await;
    assert_eq!(status, 503);
    assert!(h.attachments().await.is_empty(), "the 503 attached nothing");
    let (status, _) = post(&h, "/rest/v1.0/files?project_id=42", body, &[]).await;
    assert_eq!(status, 201);
    assert_eq!(h.attachments().await.len(), 1);
}

/// A 1000-byte v2.1 upload named `v.pdf`, created under `path`, sent and completed
/// (so `complete`, processing): its id.
async fn completed_v2(h: &Harness, path: &str) -> String {
    let data = bytes(1000, 9);
    let created = h
        .create(
            path,
            json!({"file_name": "v.pdf", "file_size": data.len(), "sha256": sha256_hex(&data),
                   "segments": declare_segments(&data, 1000, false)}),
        )
        .await;
    let uuid = created["data"]["upload_id"].as_str().unwrap().to_string();
    let etags = h.put_all(&created, &data, 1000).await;
    let (status, _) = json_of(h.patch_v2(path, &uuid, json!(etags)).await).await;
    assert_eq!(status, 200);
    uuid
}

/// A v2.1 upload is attachable once `available`: `complete` (processing) is not
/// finished, and after Show Upload reports it available it is.
#[tokio::test]
async fn a_v2_upload_attaches_only_once_available() {
    let h = Harness::with({
        let mut config = config();
        config.processing_delay_ms = 60_000;
        config
    })
    .await;
    let path = "/rest/v2.1/companies/7/projects/42/uploads";
    let uuid = completed_v2(&h, path).await;
    let body = json!({"file": {"upload_uuid": uuid, "name": "v.pdf"}});
    let (status, answer) = post(&h, "/rest/v1.0/files?project_id=42", body.clone(), &[]).await;
    assert_eq!(status, 422, "{answer}");
    assert!(
        answer["errors"]
            .as_str()
            .unwrap()
            .contains("is not finished"),
        "{answer}"
    );

    let h = Harness::embedded().await; // processing takes 50 ms here
    let uuid = completed_v2(&h, path).await;
    let (_, shown) = h.show_after_processing(path, &uuid).await;
    assert_eq!(shown["data"]["status"], "available");
    let body = json!({"file": {"upload_uuid": uuid, "name": "v.pdf"}});
    let (status, answer) = post(&h, "/rest/v1.0/files?project_id=42", body, &[]).await;
    assert_eq!(status, 201, "{answer}");
}

/// Procore's Create Accident Log requires `time_hour` and `time_minute`.
#[tokio::test]
async fn an_accident_log_needs_its_hour_and_minute() {
    let h = Harness::embedded().await;
    let uuid = h.form_upload("site.png", b"png bytes").await;
    let path = "/rest/v1.0/projects/42/accident_logs";
    let cases = [
        (
            json!({"time_minute": 15, "upload_ids": [uuid]}),
            "accident_log.time_hour must be an integer from 0 to 23",
        ),
        (
            json!({"time_hour": 10, "upload_ids": [uuid]}),
            "accident_log.time_minute must be an integer from 0 to 59",
        ),
        (
            json!({"time_hour": 24, "time_minute": 0, "upload_ids": [uuid]}),
            "accident_log.time_hour must be an integer from 0 to 23",
        ),
        (
            json!({"time_hour": 10, "time_minute": 15, "upload_ids": [7]}),
            "accident_log.upload_ids must be an array of strings",
        ),
    ];
    for (log, message) in cases {
        let (status, answer) = post(&h, path, json!({ "accident_log": log }), &[]).await;
        assert_eq!(status, 422, "{log}: {answer}");
        assert_eq!(answer["errors"], message, "{log}");
    }
    assert!(h.attachments().await.is_empty(), "nothing attached");
}

/// DELETE an incident: 204 with an empty body (what `request()` answers `null` to),
/// the incident gone from the attachments; an unknown id, another project's, another
/// company's, or one already deleted is 404; the token and company are checked first.
#[tokio::test]
async fn deleting_an_incident_answers_204_with_no_body() {
    let h = Harness::embedded().await;
    let uuid = h.form_upload("gate.jpg", b"jpeg bytes").await;
    let (status, incident) = post(
        &h,
        "/rest/v1.0/projects/42/incidents",
        json!({"incident": {"title": "Fall near the gate", "upload_uuids": [uuid]}}),
        &[],
    )
    .await;
    assert_eq!(status, 201, "{incident}");
    assert_eq!(incident["attachments"][0]["name"], "gate.jpg");
    assert_eq!(incident["title"], "Fall near the gate");
    let id = incident["id"].as_u64().unwrap();
    let kept = post(
        &h,
        "/rest/v1.0/projects/42/incidents",
        json!({"incident": {"title": "kept"}}),
        &[],
    )
    .await
    .1["id"]
        .as_u64()
        .unwrap();
    let path = format!("/rest/v1.0/projects/42/incidents/{id}");

    let send = |request: reqwest::RequestBuilder| async move {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.text().await.unwrap())
    };
    let refused = [
        (h.http.delete(h.url(&path)), 401),
        (
            h.http.delete(h.url(&path)).bearer_auth(TOKEN),
            400, // no Procore-Company-Id
        ),
        (
            h.api(Method::DELETE, "/rest/v1.0/projects/43/incidents/1"),
            404,
        ),
        (
            h.http
                .delete(h.url(&path))
                .bearer_auth(TOKEN)
                .header("Procore-Company-Id", "8"),
            404, // another company's
        ),
        (
            h.api(
                Method::DELETE,
                &format!("/rest/v1.0/projects/43/incidents/{id}"),
            ),
            404, // another project's
        ),
        (
            h.api(Method::DELETE, "/rest/v1.0/projects/42/incidents/999999"),
            404,
        ),
    ];
    for (request, expected) in refused {
        let (status, _, body) = send(request).await;
        assert_eq!(status, expected, "{body}");
    }
    assert_eq!(h.attachments().await.len(), 2, "nothing deleted yet");

    let (status, headers, body) = send(h.api(Method::DELETE, &path)).await;
    assert_eq!(status, 204);
    assert_eq!(body, "", "no body");
    assert!(headers.get("content-type").is_none(), "{headers:?}");
    assert!(headers.get("x-rate-limit-remaining").is_some());
    let left: Vec<u64> = h
        .attachments()
        .await
        .iter()
        .map(|r| r["id"].as_u64().unwrap())
        .collect();
    assert_eq!(
        left,
        vec![kept],
        "the deleted incident left the attachments"
    );

    let (status, _, body) = send(h.api(Method::DELETE, &path)).await;
    assert_eq!(status, 404, "already deleted: {body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert!(
        answer["errors"].as_str().unwrap().contains("not found"),
        "{answer}"
    );
}

/// An incident takes only finished uploads of the caller, like every attach call.
#[tokio::test]
async fn an_incident_refuses_an_unknown_upload() {
    let h = Harness::embedded().await;
    let (status, answer) = post(
        &h,
        "/rest/v1.0/projects/42/incidents",
        json!({"incident": {"upload_uuids": ["NOSUCHUPLOAD"]}}),
        &[],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        answer["errors"]
            .as_str()
            .unwrap()
            .contains("does not exist"),
        "{answer}"
    );
    let (status, _) = post(&h, "/rest/v1.0/projects/42/incidents", json!({}), &[]).await;
    assert_eq!(status, 400, "the incident object is required");
    assert!(h.attachments().await.is_empty());
}

/// Uploads and attachments together: each create call makes exactly one of them.
async fn created_count(h: &Harness) -> usize {
    let uploads = h.admin_json("uploads").await.as_array().unwrap().len();
    uploads + h.attachments().await.len()
}

/// Every create call (uploads of each version, and each resource) honours an
/// `Idempotency-Token`: the same token sent again to the same endpoint by the same
/// user gets the first answer again and creates nothing; another endpoint, another
/// user or another token creates anew.
#[tokio::test]
async fn every_create_call_honours_an_idempotency_token() {
    let h = Harness::embedded().await;
    let png = h.form_upload("site.png", b"png bytes").await;
    let pdf = h.form_upload("A-1.pdf", b"%PDF").await;
    let v2 = bytes(1000, 5);
    let cases = [
        (
            "/rest/v1.1/projects/42/uploads",
            json!({"response_filename": "a.png", "size": 3}),
        ),
        (
            "/rest/v1.0/companies/7/uploads",
            json!({"segments": declare_segments(b"abc", 5 * MIB, true)}),
        ),
        (
            "/rest/v2.1/companies/7/projects/42/uploads",
            json!({"file_name": "v.pdf", "file_size": v2.len(), "sha256": sha256_hex(&v2),
                   "segments": declare_segments(&v2, 1000, false)}),
        ),
        // Files with `unique_name`: each new one is created beside the others (a
        // name taken is refused without it, as Procore does).
        (
            "/rest/v1.0/files?project_id=42",
            json!({"file": {"upload_uuid": png, "name": "site.png", "unique_name": true}}),
        ),
        (
            "/rest/v1.0/companies/7/files",
            json!({"file": {"upload_uuid": png, "name": "site.png", "unique_name": true}}),
        ),
        (
            "/rest/v1.0/images?project_id=42",
            json!({"upload": {"uuid": png, "image_name": "site.png"}, "image": {}}),
        ),
        (
            "/rest/v1.1/drawing_areas/4201/drawings",
            json!({"drawing": {"number": "A-1", "drawing_discipline": {"name": "Architectural"}}}),
        ),
        (
            "/rest/v1.1/projects/42/drawing_uploads",
            json!({"drawing_upload": {"drawing_area_id": 4201, "drawing_set_id": 4202,
                   "drawing_log_imports": [{"upload_uuid": pdf, "drawing_date": "2026-11-23"}]}}),
        ),
        (
            "/rest/v1.0/projects/42/accident_logs",
            json!({"accident_log": {"time_hour": 9, "time_minute": 5, "upload_ids": [png]}}),
        ),
        (
            "/rest/v1.0/projects/42/incidents",
            json!({"incident": {"title": "x", "upload_uuids": [png]}}),
        ),
    ];
    for (path, body) in cases {
        let token = [("Idempotency-Token", "same-token")];
        let before = created_count(&h).await;
        let (status, first) = post(&h, path, body.clone(), &token).await;
        assert_eq!(status, 201, "{path}: {first}");
        assert_eq!(created_count(&h).await, before + 1, "{path}: created");
        let (status, again) = post(&h, path, body.clone(), &token).await;
        assert_eq!(
            (status, &again),
            (201, &first),
            "{path}: the first answer again"
        );
        assert_eq!(created_count(&h).await, before + 1, "{path}: created once");
        let (status, _) = post(&h, path, body.clone(), &[("Idempotency-Token", "other")]).await;
        assert_eq!(status, 201);
        assert_eq!(
            created_count(&h).await,
            before + 2,
            "{path}: another token creates"
        );
        let (status, _) = post(&h, path, body, &[]).await;
        assert_eq!(status, 201);
        assert_eq!(
            created_count(&h).await,
            before + 3,
            "{path}: no token creates"
        );
    }
    // The same token to another endpoint, or from another user, is another call.
    let body = json!({"incident": {"title": "y"}});
    let before = h.attachments().await.len();
    let token = [("Idempotency-Token", "same-token")];
    let (status, _) = post(&h, "/rest/v1.0/projects/43/incidents", body.clone(), &token).await;
    assert_eq!(status, 201);
    let (status, _) = json_of(
        h.api_as(
            OTHER_TOKEN,
            Method::POST,
            "/rest/v1.0/projects/42/incidents",
        )
        .header("Idempotency-Token", "same-token")
        .json(&body)
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(h.attachments().await.len(), before + 2);
}

/// A refusal is not kept: the same token sent again once the upload is finished
/// does the work.
#[tokio::test]
async fn a_refused_create_is_not_replayed() {
    let h = Harness::embedded().await;
    let created = h
        .create(
            "/rest/v1.1/projects/42/uploads",
            json!({"response_filename": "late.png", "size": 4}),
        )
        .await;
    let uuid = created["uuid"].as_str().unwrap();
    let body = json!({"file": {"upload_uuid": uuid, "name": "late.png"}});
    let token = [("Idempotency-Token", "after-refusal")];
    let path = "/rest/v1.0/files?project_id=42";
    let (status, _) = post(&h, path, body.clone(), &token).await;
    assert_eq!(status, 422, "not finished yet");
    assert!(h.post_form(&created, b"late").await.status().is_success());
    let (status, answer) = post(&h, path, body, &token).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(h.attachments().await.len(), 1);
}
