//! The storage-side checks, written once and run against the embedded store
//! (tests/storage.rs) and against Garage (tests/garage.rs). Where the two answer
//! differently, each check states both answers.

use crate::common::*;

/// One `#[tokio::test]` per check, each on a fresh harness made by `$harness`
/// (an expression that may `.await`): the list of checks lives here, once.
macro_rules! storage_check_tests {
    ($harness:expr) => {
        storage_check_tests!(@each $harness;
            presigned_put_returns_quoted_md5_etag,
            wrong_content_md5_is_bad_digest,
            wrong_sha256_is_refused,
            tampered_signature_is_refused,
            altered_signed_header_is_refused,
            expired_url_is_refused,
            authorization_header_on_storage_is_refused,
            form_post_policy_is_enforced,
            expired_form_policy_is_refused,
            already_expired_instructions_are_refused,
            cors_lets_browsers_put_and_read_etag,
            full_uploads_store_every_byte,
            list_parts_pages_past_a_thousand,
        );
    };
    (@each $harness:expr; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                checks::$check(&$harness).await;
            }
        )*
    };
}
use reqwest::Method;
use serde_json::{json, Value};

const SEGMENTED: &str = "/rest/v1.1/companies/7/uploads";

async fn one_segment(h: &Harness, declared: &[u8], md5: bool) -> Value {
    let created = h
        .create_segmented(SEGMENTED, declared, declared.len().max(1), md5)
        .await;
    segments_of(&created)[0].clone()
}

/// A presigned PUT stores the bytes; the ETag is the quoted hex MD5.
pub async fn presigned_put_returns_quoted_md5_etag(h: &Harness) {
    let data = bytes(4096, 10);
    let segment = one_segment(h, &data, true).await;
    let response = h.put_segment(&segment, &data).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["etag"].to_str().unwrap(),
        format!("\"{}\"", md5_hex(&data))
    );
}

/// Bytes that do not match the signed Content-MD5: 400 BadDigest.
pub async fn wrong_content_md5_is_bad_digest(h: &Harness) {
    let data = bytes(4096, 11);
    let mut segment = one_segment(h, &data, true).await;
    // Same signed header, other bytes of the same length and declared SHA-256 kept:
    // only the MD5 check can catch it.
    let other = bytes(4096, 12);
    segment["headers"]["x-amz-content-sha256"] = json!(sha256_hex(&data));
    let (status, code) = s3_code(h.put_segment(&segment, &other).await).await;
    assert_eq!(status, 400, "{code}");
    if h.is_garage() {
        // Garage checks the body's SHA-256 against the header before the MD5.
        assert!(
            code == "BadDigest" || code == "XAmzContentSHA256Mismatch" || code == "InvalidDigest",
            "{code}"
        );
    } else {
        assert!(
            code == "BadDigest" || code == "XAmzContentSHA256Mismatch",
            "{code}"
        );
    }
}

/// MD5 off; bytes that do not match the signed x-amz-content-sha256. S3 and the
/// embedded store refuse the PUT (400 XAmzContentSHA256Mismatch). Garage does not check
/// the header on presigned PUTs and stores the bytes; the sandbox then refuses to
/// complete the upload, naming the segment.
pub async fn wrong_sha256_is_refused(h: &Harness) {
    let data = bytes(4096, 13);
    let created = h
        .create_segmented(SEGMENTED, &data, data.len(), false)
        .await;
    let segment = &segments_of(&created)[0];
    let other = bytes(4096, 14);
    let response = h.put_segment(segment, &other).await;
    if h.is_garage() {
        assert_eq!(response.status(), 200, "Garage stores it");
        let etag = response.headers()["etag"].to_str().unwrap().to_string();
        let uuid = created["uuid"].as_str().unwrap();
        let patch = h
            .api(Method::PATCH, &format!("{SEGMENTED}/{uuid}"))
            .json(&json!({ "segments": [{ "etag": etag }] }))
            .send()
            .await
            .unwrap();
        let (status, body) = json_of(patch).await;
        assert_eq!(status, 422, "{body}");
        assert!(
            body["errors"]
                .as_str()
                .unwrap()
                .contains("segment 1 SHA-256"),
            "{body}"
        );
    } else {
        let (status, code) = s3_code(response).await;
        assert_eq!((status, code.as_str()), (400, "XAmzContentSHA256Mismatch"));
    }
}

/// S3 answers a bad signature 403 SignatureDoesNotMatch; Garage 403 AccessDenied.
fn signature_refusal(h: &Harness) -> (u16, &'static str) {
    if h.is_garage() {
        (403, "AccessDenied")
    } else {
        (403, "SignatureDoesNotMatch")
    }
}

/// One character of the signature changed: refused.
pub async fn tampered_signature_is_refused(h: &Harness) {
    let data = bytes(100, 15);
    let mut segment = one_segment(h, &data, true).await;
    let url = segment["url"].as_str().unwrap().to_string();
    let (head, signature) = url.rsplit_once("X-Amz-Signature=").unwrap();
    let flipped = if signature.starts_with('0') { "1" } else { "0" };
    segment["url"] = json!(format!(
        "{head}X-Amz-Signature={flipped}{}",
        &signature[1..]
    ));
    let (status, code) = s3_code(h.put_segment(&segment, &data).await).await;
    assert_eq!((status, code.as_str()), signature_refusal(h));
}

/// A signed header sent with another value (here Content-MD5, matching other bytes):
/// the signature no longer matches.
pub async fn altered_signed_header_is_refused(h: &Harness) {
    let data = bytes(100, 16);
    let mut segment = one_segment(h, &data, true).await;
    let other = bytes(100, 17);
    let other_md5 = base64_md5(&other);
    segment["headers"]["content-md5"] = json!(other_md5);
    segment["headers"]["x-amz-content-sha256"] = json!(sha256_hex(&other));
    let (status, code) = s3_code(h.put_segment(&segment, &other).await).await;
    assert_eq!((status, code.as_str()), signature_refusal(h));
}

/// A URL used after its expiry: refused (S3 and the embedded store: 403
/// AccessDenied; Garage: 400).
pub async fn expired_url_is_refused(h: &Harness) {
    let data = bytes(100, 18);
    h.set_faults(json!({ "instruction_ttl_secs": 1 })).await;
    let segment = one_segment(h, &data, true).await;
    h.set_faults(json!({})).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let (status, code) = s3_code(h.put_segment(&segment, &data).await).await;
    if h.is_garage() {
        assert_eq!(status, 400, "{code}");
    } else {
        assert_eq!((status, code.as_str()), (403, "AccessDenied"));
    }
}

/// Sending the Procore token to storage: S3 and the embedded store refuse a second
/// credential next to a presigned URL (400 InvalidArgument). Garage ignores the
/// header and accepts; against it, the clients' request logs on the embedded store
/// are what show that no token is sent.
pub async fn authorization_header_on_storage_is_refused(h: &Harness) {
    let data = bytes(100, 19);
    let segment = one_segment(h, &data, true).await;
    let mut headers = segment["headers"].clone();
    headers["authorization"] = json!(format!("Bearer {TOKEN}"));
    let response = put_with_headers(
        &h.http,
        segment["url"].as_str().unwrap(),
        &headers,
        data.clone(),
    )
    .await
    .unwrap();
    let (status, code) = s3_code(response).await;
    if h.is_garage() {
        assert_eq!(status, 200, "{code}");
    } else {
        assert_eq!((status, code.as_str()), (400, "InvalidArgument"));
    }
}

/// Browser form POST: the policy binds the size and every field.
pub async fn form_post_policy_is_enforced(h: &Harness) {
    let data = bytes(1000, 20);
    let path = "/rest/v1.1/companies/7/uploads";
    let created = h
        .create(path, json!({ "response_filename": "a.txt", "response_content_type": "text/plain", "size": 1000 }))
        .await;
    let too_big = h.post_form(&created, &bytes(1001, 21)).await;
    let (status, code) = s3_code(too_big).await;
    assert!(
        status == 400 || status == 403,
        "a body off the declared size: {status} {code}"
    );

    let mut altered = created.clone();
    altered["fields"]["Content-Type"] = json!("text/html");
    let (status, code) = s3_code(h.post_form(&altered, &data).await).await;
    // S3 and the embedded store: 403 AccessDenied; Garage: 400 InvalidRequest.
    let expected = if h.is_garage() {
        (400, "InvalidRequest")
    } else {
        (403, "AccessDenied")
    };
    assert_eq!(
        (status, code.as_str()),
        expected,
        "a field changed from the policy"
    );

    let mut other_key = created.clone();
    other_key["fields"]["key"] = json!("companies/7/uploads/someone-elses");
    let (status, code) = s3_code(h.post_form(&other_key, &data).await).await;
    assert_eq!(
        (status, code.as_str()),
        expected,
        "another key than the policy's"
    );

    let response = h.post_form(&created, &data).await;
    assert_eq!(response.status(), 204, "the untouched form is accepted");
    let uuid = created["uuid"].as_str().unwrap();
    assert_eq!(h.inspect(uuid).await["stored"]["sha256"], sha256_hex(&data));
}

/// Browsers may PUT from any origin and read ETag.
pub async fn cors_lets_browsers_put_and_read_etag(h: &Harness) {
    let data = bytes(100, 22);
    let segment = one_segment(h, &data, true).await;
    let url = segment["url"].as_str().unwrap();
    let preflight = h
        .http
        .request(Method::OPTIONS, url)
        .header("Origin", "http://portal.example")
        .header("Access-Control-Request-Method", "PUT")
        .header(
            "Access-Control-Request-Headers",
            "content-md5,content-type,x-amz-content-sha256",
        )
        .send()
        .await
        .unwrap();
    assert!(
        preflight.status().is_success(),
        "preflight: {}",
        preflight.status()
    );
    let allowed = preflight.headers()["access-control-allow-origin"]
        .to_str()
        .unwrap();
    assert!(
        allowed == "*" || allowed == "http://portal.example",
        "{allowed}"
    );

    let mut request = h.http.put(url).header("Origin", "http://portal.example");
    for (name, value) in segment["headers"].as_object().unwrap() {
        if name != "content-length" {
            request = request.header(name.as_str(), value.as_str().unwrap());
        }
    }
    let response = request.body(data).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let expose = response.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(expose.contains("etag"), "{expose}");
}

/// A whole segmented upload and a form upload through the sandbox, stored intact.
pub async fn full_uploads_store_every_byte(h: &Harness) {
    let data = bytes(5 * MIB + 4321, 23);
    let created = h.create_segmented(SEGMENTED, &data, 5 * MIB, true).await;
    let etags = h.put_all(&created, &data, 5 * MIB).await;
    let uuid = created["uuid"].as_str().unwrap();
    let body =
        json!({ "segments": etags.iter().map(|e| json!({ "etag": e })).collect::<Vec<_>>() });
    let response = h
        .api(Method::PATCH, &format!("{SEGMENTED}/{uuid}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    assert_eq!(h.inspect(uuid).await["stored"]["sha256"], sha256_hex(&data));

    let path = "/rest/v2.1/companies/7/projects/42/uploads";
    let created = h
        .create(path, json!({ "file_name": "f", "file_size": data.len(), "sha256": sha256_hex(&data), "segments": declare_segments(&data, 5 * MIB + 1, true) }))
        .await;
    let etags = h.put_all(&created, &data, 5 * MIB + 1).await;
    let uuid = created["data"]["upload_id"].as_str().unwrap();
    let response = h.patch_v2(path, uuid, json!(etags)).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let (_, shown) = h.show_after_processing(path, uuid).await;
    assert_eq!(shown["data"]["status"], "available", "{shown}");
    assert_eq!(h.inspect(uuid).await["stored"]["sha256"], sha256_hex(&data));
}

fn base64_md5(data: &[u8]) -> String {
    use base64::Engine;
    use md5::Digest;
    base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(data))
}

/// A form posted after its policy expired: refused (S3 and the embedded store: 403
/// AccessDenied; Garage: 400).
pub async fn expired_form_policy_is_refused(h: &Harness) {
    h.set_faults(json!({ "instruction_ttl_secs": 1 })).await;
    let created = h
        .create(
            "/rest/v1.0/companies/7/uploads",
            json!({ "response_filename": "a" }),
        )
        .await;
    h.set_faults(json!({})).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let (status, code) = s3_code(h.post_form(&created, b"late").await).await;
    if h.is_garage() {
        assert_eq!(status, 400, "{code}");
    } else {
        assert_eq!((status, code.as_str()), (403, "AccessDenied"));
    }
}

/// `instructions_expired_next`: instructions handed out already expired meet the
/// answer any expired instructions get, a presigned PUT and a form policy alike (S3
/// and the embedded store: 403 AccessDenied "Request has expired"; Garage: 400
/// InvalidRequest, "Date is too old" for a URL, "Expiration date is in the past" for
/// a policy).
pub async fn already_expired_instructions_are_refused(h: &Harness) {
    let data = bytes(100, 24);
    h.set_faults(json!({ "instructions_expired_next": 2 }))
        .await;
    let segment = one_segment(h, &data, true).await;
    let form = h
        .create(
            "/rest/v1.0/companies/7/uploads",
            json!({ "response_filename": "a" }),
        )
        .await;
    for (what, response, garage_says) in [
        (
            "PUT",
            h.put_segment(&segment, &data).await,
            "Date is too old",
        ),
        (
            "form",
            h.post_form(&form, b"late").await,
            "Expiration date is in the past",
        ),
    ] {
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        if h.is_garage() {
            assert_eq!(status, 400, "{what}: {text}");
            assert!(text.contains(garage_says), "{what}: {text}");
        } else {
            assert_eq!(status, 403, "{what}: {text}");
            assert!(text.contains("<Code>AccessDenied</Code>"), "{what}: {text}");
            assert!(text.contains("Request has expired"), "{what}: {text}");
        }
    }
    let segment = one_segment(h, &data, true).await;
    assert_eq!(
        h.put_segment(&segment, &data).await.status(),
        200,
        "the next create's work"
    );
}

/// The sandbox's storage client lists every part of a multipart upload, also past
/// S3's page of 1000 (ListParts pages by `part-number-marker`), in order, each with
/// the ETag storage returned for it.
pub async fn list_parts_pages_past_a_thousand(h: &Harness) {
    let s3 = &h.sandbox.storage;
    let key = "paging/k";
    let upload_id = s3.create_multipart_upload(key).await.unwrap();
    let validity = procore_sandbox::s3_client::Validity {
        ttl_secs: 600,
        expired: false,
    };
    let count: u16 = 1001;
    let mut expected = Vec::new();
    for number in 1..=count {
        let body = number.to_be_bytes().to_vec();
        expected.push((u32::from(number), md5_hex(&body)));
        let url = s3.presign_upload_part(key, &upload_id, number, &[], validity);
        put_retrying_unavailable(h, &url, body, &format!("part {number}")).await;
    }
    let listed: Vec<(u32, String)> = s3
        .list_parts(key, &upload_id)
        .await
        .unwrap()
        .into_iter()
        .map(|part| (part.number, part.etag))
        .collect();
    assert_eq!(
        listed.len(),
        expected.len(),
        "every part, past the first page"
    );
    assert_eq!(listed, expected);
}

/// PUTs `body` to a presigned `url` and expects 200, retrying a 503 the way S3 clients
/// do: Garage answers 503 when an internal call times out on a loaded machine (seen
/// once in CI at part 125 of 1001), which says nothing about what the caller checks.
async fn put_retrying_unavailable(h: &Harness, url: &reqwest::Url, body: Vec<u8>, what: &str) {
    const ATTEMPTS: u64 = 5;
    for attempt in 1..=ATTEMPTS {
        let response = h
            .http
            .put(url.clone())
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        if status == 503 && attempt < ATTEMPTS {
            tokio::time::sleep(std::time::Duration::from_millis(200 * attempt)).await;
            continue;
        }
        let text = response.text().await.unwrap_or_default();
        assert_eq!(status, 200, "{what}: {text}");
        return;
    }
}
