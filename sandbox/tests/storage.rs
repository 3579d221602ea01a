//! The storage-side checks on the embedded store (s3s + the sandbox's own checks).

#[macro_use]
mod checks;
mod common;

use common::Harness;

storage_check_tests!(Harness::embedded().await);

#[tokio::test]
async fn hide_etag_leaves_etag_unexposed() {
    let mut config = common::config();
    config.hide_etag = true;
    let h = Harness::with(config).await;
    let data = common::bytes(10, 1);
    let created = h
        .create_segmented("/rest/v1.0/companies/7/uploads", &data, 10, true)
        .await;
    let segment = &common::segments_of(&created)[0];
    let response = h
        .http
        .put(segment["url"].as_str().unwrap())
        .header("Origin", "http://portal.example")
        .header(
            "x-amz-content-sha256",
            segment["headers"]["x-amz-content-sha256"].as_str().unwrap(),
        )
        .header(
            "content-md5",
            segment["headers"]["content-md5"].as_str().unwrap(),
        )
        .body(data)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(!response
        .headers()
        .contains_key("access-control-expose-headers"));
}
