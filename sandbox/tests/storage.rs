//! The storage-side checks on the embedded store (s3s + the sandbox's own checks).

mod checks;
mod common;

use common::Harness;

macro_rules! embedded_checks {
    ($($check:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                checks::$check(&Harness::embedded().await).await;
            }
        )*
    };
}

embedded_checks!(
    presigned_put_returns_quoted_md5_etag,
    wrong_content_md5_is_bad_digest,
    wrong_sha256_is_refused,
    tampered_signature_is_refused,
    altered_signed_header_is_refused,
    expired_url_is_refused,
    authorization_header_on_storage_is_refused,
    form_post_policy_is_enforced,
    expired_form_policy_is_refused,
    cors_lets_browsers_put_and_read_etag,
    full_uploads_store_every_byte,
);

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
