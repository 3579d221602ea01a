//! What a portal reads back, over HTTP as a client would: the company's projects, the
//! images and drawing uploads attached in a project (another project's and another
//! company's left out), and the stored bytes behind each listed `url`.

mod common;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};

async fn get(h: &Harness, path: &str) -> (u16, Value) {
    json_of(h.api(Method::GET, path).send().await.unwrap()).await
}

#[tokio::test]
async fn the_company_projects_and_their_refusals() {
    let h = Harness::embedded().await;
    for version in ["v1.0", "v1.1"] {
        let response = h
            .api(
                Method::GET,
                &format!("/rest/{version}/projects?company_id={COMPANY}"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["total"], "3");
        let (status, projects) = json_of(response).await;
        assert_eq!(status, 200);
        let ids: Vec<u64> = projects
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_u64().unwrap())
            .collect();
        assert_eq!(ids, [42, 43, 44]);
        assert_eq!(projects[0]["name"], "Tower");
        assert_eq!(projects[0]["company"]["id"], COMPANY);
    }
    // Without the company: 400; another company than the header's: 403.
    assert_eq!(get(&h, "/rest/v1.0/projects").await.0, 400);
    assert_eq!(
        get(
            &h,
            &format!("/rest/v1.0/projects?company_id={}", COMPANY + 1)
        )
        .await
        .0,
        403
    );
}

#[tokio::test]
async fn attached_images_and_drawings_are_listed_with_their_bytes() {
    let h = Harness::embedded().await;
    let photo = h
        .form_upload("north face.png", b"png: the north face")
        .await;
    let elsewhere = h.form_upload("other.png", b"png: project 43").await;
    let plan = h.form_upload("A-101.pdf", b"%PDF-1.7 ground floor").await;
    for (path, body) in [
        (
            "/rest/v1.0/images?project_id=42",
            json!({"upload": {"uuid": photo, "image_name": "north face.png"}, "image": {"description": "north"}}),
        ),
        (
            "/rest/v1.0/images?project_id=43",
            json!({"upload": {"uuid": elsewhere, "image_name": "other.png"}, "image": {}}),
        ),
        (
            "/rest/v1.1/projects/42/drawing_uploads",
            json!({"drawing_upload": {"drawing_area_id": 4201, "drawing_set_id": 4202,
            "drawing_log_imports": [{"upload_uuid": plan, "drawing_date": "2026-12-05"}]}}),
        ),
    ] {
        let (status, answer) =
            json_of(h.api(Method::POST, path).json(&body).send().await.unwrap()).await;
        assert_eq!(status, 201, "{path}: {answer}");
    }

    let (status, images) = get(&h, "/rest/v1.0/images?project_id=42").await;
    assert_eq!(status, 200);
    let images = images.as_array().unwrap();
    assert_eq!(images.len(), 1, "only project 42's: {images:?}");
    assert_eq!(images[0]["filename"], "north face.png");
    assert_eq!(images[0]["upload_uuid"], photo.as_str());
    assert_eq!(images[0]["description"], "north");
    assert_eq!(
        get(&h, "/rest/v1.0/images").await.0,
        400,
        "project_id is required"
    );

    let (status, drawings) = get(&h, "/rest/v1.1/projects/42/drawing_uploads").await;
    assert_eq!(status, 200);
    assert_eq!(drawings[0]["status"], "in_queue");
    assert_eq!(drawings[0]["drawing_set_id"], 4202);
    assert_eq!(drawings[0]["files"][0]["name"], "A-101.pdf");
    let (_, none) = get(&h, "/rest/v1.1/projects/44/drawing_uploads").await;
    assert_eq!(none, json!([]));

    // Each url downloads the stored bytes, named for the file.
    for (url, bytes, name) in [
        (
            images[0]["url"].as_str().unwrap(),
            &b"png: the north face"[..],
            "north%20face.png",
        ),
        (
            drawings[0]["files"][0]["url"].as_str().unwrap(),
            &b"%PDF-1.7 ground floor"[..],
            "A-101.pdf",
        ),
    ] {
        let response = reqwest::get(url).await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        let disposition = response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(disposition.ends_with(name), "{disposition}");
        assert_eq!(&response.bytes().await.unwrap()[..], bytes);
    }
    let missing = reqwest::get(h.url("/_sandbox/uploads/NOPE/content"))
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}
