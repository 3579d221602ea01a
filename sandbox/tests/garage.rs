//! The same storage-side checks with the sandbox presigning against Garage, a real
//! S3 server (`--storage-endpoint`). Needs the garage binary (scripts/bootstrap).

mod checks;
mod common;

use common::Harness;

macro_rules! garage_checks {
    ($($check:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                checks::$check(&Harness::garage(common::config()).await).await;
            }
        )*
    };
}

garage_checks!(
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
