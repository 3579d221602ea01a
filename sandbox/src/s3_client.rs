//! The sandbox's own S3 client: how the API side talks to its storage (the embedded
//! store or an external server such as Garage), exactly as Procore's backend would.
//!
//! Requests are signed by [rusty-s3](https://crates.io/crates/rusty-s3) (SigV4
//! presigned URLs, sans-IO: reqwest sends them) and its answers read by its parsers
//! (instant-xml); S3's `<Error>` documents too. What rusty-s3 does not do stays here:
//! the browser POST policy ([`crate::post_policy`]), instructions handed out already
//! expired (fault injection, [`Validity`]), PutBucketCors (signed with
//! `rusty_s3::signing::sign`), and the digests of a stored object.

use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use futures_util::StreamExt;
use instant_xml::FromXml;
use jiff::{SignedDuration, Timestamp};
use md5::Md5;
use rusty_s3::actions::{
    CompleteMultipartUpload, CreateBucket, CreateMultipartUpload, GetObject, HeadBucket,
    HeadObject, ListParts, UploadPart,
};
use rusty_s3::{Bucket, S3Action, UrlStyle};
use sha2::{Digest, Sha256};
use url::Url;

/// `User-Agent` of the sandbox's own storage calls: the embedded store neither logs
/// them as client requests nor injects faults into them.
pub const INTERNAL_USER_AGENT: &str = concat!("procore-sandbox/", env!("CARGO_PKG_VERSION"));

/// How long the sandbox's own presigned calls to storage stay valid: they are sent
/// at once.
const OWN_CALL_TTL: Duration = Duration::from_secs(300);

/// An access key pair and the region it signs for.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// Access key id.
    pub access_key: String,
    /// Secret access key.
    pub secret_key: String,
    /// Region in the credential scope.
    pub region: String,
}

/// A part of a multipart upload as storage lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedPart {
    /// 1-based part number.
    pub number: u32,
    /// The ETag storage returned for it, without quotes.
    pub etag: String,
    /// Bytes.
    pub size: u64,
}

/// Size and digests of a stored object.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ObjectDigests {
    /// Bytes.
    pub size: u64,
    /// Hex SHA-256 of the whole object.
    pub sha256: String,
    /// Hex MD5 of the whole object.
    pub md5: String,
    /// Hex SHA-256 of each requested byte range, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub range_sha256: Vec<String>,
}

/// How long a new set of instructions (presigned URLs, a POST policy) is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// Seconds they are valid for.
    pub ttl_secs: u64,
    /// Already expired when handed out (fault injection). A URL is signed as if
    /// `ttl_secs` + 1 seconds ago, so it reads as one that aged out; a policy is signed
    /// now (its `x-amz-date` stays within storage's clock-skew window) with an
    /// expiration a second ago. Storage then refuses either as it refuses any expired
    /// instructions.
    pub expired: bool,
}

impl Validity {
    /// Unix seconds when instructions signed at `now` (Unix seconds) stop being valid.
    pub fn expires_at(&self, now: u64) -> u64 {
        if self.expired {
            now.saturating_sub(1)
        } else {
            now.saturating_add(self.ttl_secs)
        }
    }

    /// The signing time of a presigned URL made at `now`.
    fn signed_at(&self, now: Timestamp) -> Timestamp {
        if self.expired {
            now.saturating_sub(SignedDuration::from_secs(
                self.ttl_secs_i64().saturating_add(1),
            ))
            .unwrap_or(now)
        } else {
            now
        }
    }

    /// The expiration of a POST policy signed at `now`.
    fn policy_expiration(&self, now: Timestamp) -> Timestamp {
        let shift = if self.expired {
            SignedDuration::from_secs(-1)
        } else {
            SignedDuration::from_secs(self.ttl_secs_i64())
        };
        now.saturating_add(shift).unwrap_or(now)
    }

    /// `ttl_secs` capped at ten years, so date arithmetic cannot overflow.
    fn ttl_secs_i64(&self) -> i64 {
        const TEN_YEARS: i64 = 10 * 365 * 24 * 3600;
        i64::try_from(self.ttl_secs).map_or(TEN_YEARS, |ttl| ttl.min(TEN_YEARS))
    }
}

/// An S3 endpoint, bucket and key pair, path-style (`{endpoint}/{bucket}/{key}`).
#[derive(Clone, Debug)]
pub struct S3Client {
    bucket: Bucket,
    keys: rusty_s3::Credentials,
    credentials: Credentials,
    http: reqwest::Client,
}

/// An S3 error answer (`<Error><Code>…`), or a transport failure.
#[derive(Debug, thiserror::Error)]
#[error("storage answered {status} {code}: {message}")]
pub struct S3Error {
    /// HTTP status.
    pub status: u16,
    /// S3 error code, e.g. `InvalidPart`.
    pub code: String,
    /// S3's message.
    pub message: String,
}

/// S3's error document.
#[derive(Debug, FromXml)]
#[xml(rename = "Error")]
struct ErrorDocument {
    #[xml(rename = "Code")]
    code: String,
    #[xml(rename = "Message")]
    message: Option<String>,
}

impl S3Client {
    /// A client for `bucket` at `endpoint` (an `http(s)` URL with a host).
    pub fn new(endpoint: Url, bucket: String, credentials: Credentials) -> Result<Self> {
        let http = reqwest::Client::builder()
            .user_agent(INTERNAL_USER_AGENT)
            .build()
            .context("building the storage client")?;
        let bucket = Bucket::new(endpoint, UrlStyle::Path, bucket, credentials.region.clone())
            .map_err(|error| anyhow!("storage endpoint: {error}"))?;
        Ok(Self {
            bucket,
            keys: rusty_s3::Credentials::new(&credentials.access_key, &credentials.secret_key),
            credentials,
            http,
        })
    }

    /// The bucket's name.
    pub fn bucket(&self) -> &str {
        self.bucket.name()
    }

    /// The URL browsers POST forms to (the bucket, without a trailing `/`).
    pub fn bucket_url(&self) -> Url {
        let mut url = self.bucket.base_url().clone();
        let path = url.path().trim_end_matches('/').to_string();
        url.set_path(&path);
        url
    }

    /// Sends a presigned `url`, with `body` (and `headers`, not signed).
    async fn send(
        &self,
        method: reqwest::Method,
        url: Url,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<reqwest::Response> {
        let what = format!("{method} {}", url.path());
        let mut request = self.http.request(method, url).body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.context(what)
    }

    /// [`Self::send`], then the answer's text; a status above 299, or an `<Error>`
    /// document (CompleteMultipartUpload may answer one with 200), is an [`S3Error`].
    async fn send_ok(
        &self,
        method: reqwest::Method,
        url: Url,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<String> {
        let response = self.send(method, url, headers, body).await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        match instant_xml::from_str::<ErrorDocument>(&text) {
            Ok(error) => Err(S3Error {
                status,
                code: error.code,
                message: error.message.unwrap_or_default(),
            }
            .into()),
            Err(_) if status >= 300 => Err(S3Error {
                status,
                code: String::new(),
                message: text.chars().take(200).collect(),
            }
            .into()),
            Err(_) => Ok(text),
        }
    }

    /// Starts a multipart upload of `key`; returns its upload id.
    pub async fn create_multipart_upload(&self, key: &str) -> Result<String> {
        let url =
            CreateMultipartUpload::new(&self.bucket, Some(&self.keys), key).sign(OWN_CALL_TTL);
        let text = self
            .send_ok(reqwest::Method::POST, url, &[], Vec::new())
            .await?;
        let answer = CreateMultipartUpload::parse_response(&text)
            .map_err(|error| anyhow!("CreateMultipartUpload answer {text:?}: {error}"))?;
        Ok(answer.upload_id().to_string())
    }

    /// A presigned UploadPart URL; the client must send exactly `headers` (their
    /// names in any case: they are signed lowercase).
    pub fn presign_upload_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u16,
        headers: &[(&str, &str)],
        validity: Validity,
    ) -> Url {
        let mut action =
            UploadPart::new(&self.bucket, Some(&self.keys), key, part_number, upload_id);
        for (name, value) in headers {
            action
                .headers_mut()
                .insert(name.to_ascii_lowercase(), value.to_string());
        }
        action.sign_with_time(
            Duration::from_secs(validity.ttl_secs),
            &validity.signed_at(Timestamp::now()),
        )
    }

    /// Form fields for a browser POST of `key` (see [`crate::post_policy::fields`]).
    pub fn presign_post(
        &self,
        key: &str,
        extra_fields: &[(String, String)],
        size_range: (u64, u64),
        validity: Validity,
    ) -> Vec<(String, String)> {
        let mut fields = vec![("key".to_string(), key.to_string())];
        fields.extend(extra_fields.iter().cloned());
        let now = Timestamp::now();
        crate::post_policy::fields(
            &self.credentials,
            self.bucket.name(),
            &fields,
            size_range,
            validity.policy_expiration(now),
            now,
        )
    }

    /// Every part uploaded so far, by part number.
    pub async fn list_parts(&self, key: &str, upload_id: &str) -> Result<Vec<ListedPart>> {
        let mut parts = Vec::new();
        let mut marker = None;
        loop {
            let mut action = ListParts::new(&self.bucket, Some(&self.keys), key, upload_id);
            action.set_max_parts(1000);
            if let Some(marker) = marker {
                action.set_part_number_marker(marker);
            }
            let text = self
                .send_ok(
                    reqwest::Method::GET,
                    action.sign(OWN_CALL_TTL),
                    &[],
                    Vec::new(),
                )
                .await?;
            let page = ListParts::parse_response(&text)
                .map_err(|error| anyhow!("ListParts answer {text:?}: {error}"))?;
            parts.extend(page.parts.into_iter().map(|part| ListedPart {
                number: u32::from(part.number),
                etag: part.etag.trim_matches('"').to_string(),
                size: part.size,
            }));
            match page.next_part_number_marker {
                Some(next) if Some(next) != marker => marker = Some(next),
                _ => break,
            }
        }
        parts.sort_by_key(|p| p.number);
        Ok(parts)
    }

    /// Completes a multipart upload with the ETags of its parts, part 1 first.
    pub async fn complete_multipart_upload(
        &self,
        key: &str,
        upload_id: &str,
        etags: &[String],
    ) -> Result<()> {
        let quoted: Vec<String> = etags
            .iter()
            .map(|etag| format!("\"{}\"", etag.trim_matches('"')))
            .collect();
        let action = CompleteMultipartUpload::new(
            &self.bucket,
            Some(&self.keys),
            key,
            upload_id,
            quoted.iter().map(String::as_str),
        );
        let url = action.sign(OWN_CALL_TTL);
        let body = action.body();
        self.send_ok(reqwest::Method::POST, url, &[], body.into_bytes())
            .await?;
        Ok(())
    }

    /// Size of `key`, or `None` when it is not stored.
    pub async fn head_object(&self, key: &str) -> Result<Option<u64>> {
        let url = HeadObject::new(&self.bucket, Some(&self.keys), key).sign(OWN_CALL_TTL);
        let response = self
            .send(reqwest::Method::HEAD, url, &[], Vec::new())
            .await?;
        match response.status().as_u16() {
            404 => Ok(None),
            200 => Ok(response.content_length().or_else(|| {
                response
                    .headers()
                    .get("content-length")
                    .and_then(|v| v.to_str().ok()?.parse().ok())
            })),
            status => bail!("HEAD {key}: storage answered {status}"),
        }
    }

    /// The bytes of `key`, or `None` when it is not stored.
    pub async fn get_object(&self, key: &str) -> Result<Option<bytes::Bytes>> {
        let url = GetObject::new(&self.bucket, Some(&self.keys), key).sign(OWN_CALL_TTL);
        let response = self
            .send(reqwest::Method::GET, url, &[], Vec::new())
            .await?;
        match response.status().as_u16() {
            404 => Ok(None),
            200 => Ok(Some(response.bytes().await?)),
            status => bail!("GET {key}: storage answered {status}"),
        }
    }

    /// Streams `key` once and hashes it: whole-object SHA-256 and MD5, plus the
    /// SHA-256 of each of `ranges` (consecutive byte lengths from the start).
    /// `None` when the object is not stored.
    pub async fn object_digests(&self, key: &str, ranges: &[u64]) -> Result<Option<ObjectDigests>> {
        let url = GetObject::new(&self.bucket, Some(&self.keys), key).sign(OWN_CALL_TTL);
        let response = self
            .send(reqwest::Method::GET, url, &[], Vec::new())
            .await?;
        match response.status().as_u16() {
            404 => return Ok(None),
            200 => {}
            status => bail!("GET {key}: storage answered {status}"),
        }
        let mut sha256 = Sha256::new();
        let mut md5 = Md5::new();
        let mut size = 0u64;
        let mut range_hasher = RangeHasher::new(ranges);
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            sha256.update(&chunk);
            md5.update(&chunk);
            range_hasher.update(&chunk);
            size += chunk.len() as u64;
        }
        Ok(Some(ObjectDigests {
            size,
            sha256: hex::encode(sha256.finalize()),
            md5: hex::encode(md5.finalize()),
            range_sha256: range_hasher.finish(),
        }))
    }

    /// Creates the bucket if missing (an external server may already have it).
    pub async fn ensure_bucket(&self) -> Result<()> {
        let url = HeadBucket::new(&self.bucket, Some(&self.keys)).sign(OWN_CALL_TTL);
        let response = self
            .send(reqwest::Method::HEAD, url, &[], Vec::new())
            .await?;
        if response.status().is_success() {
            return Ok(());
        }
        let action = CreateBucket::new(&self.bucket, &self.keys);
        let url = action.sign(OWN_CALL_TTL);
        self.send_ok(reqwest::Method::PUT, url, &[], action.body().into_bytes())
            .await?;
        Ok(())
    }

    /// Lets browsers of any origin PUT/POST and read `ETag` (PutBucketCors, which
    /// rusty-s3 has no action for: its URL signed by `rusty_s3::signing::sign`).
    pub async fn allow_browser_uploads(&self, expose_etag: bool) -> Result<()> {
        let expose = if expose_etag {
            "<ExposeHeader>ETag</ExposeHeader>"
        } else {
            ""
        };
        let body = format!(
            "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>\
             <AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod>\
             <AllowedMethod>POST</AllowedMethod><AllowedMethod>HEAD</AllowedMethod>\
             <AllowedHeader>*</AllowedHeader>{expose}<MaxAgeSeconds>600</MaxAgeSeconds>\
             </CORSRule></CORSConfiguration>"
        );
        let url = rusty_s3::signing::sign(
            &Timestamp::now(),
            rusty_s3::Method::Put,
            self.bucket.base_url().clone(),
            self.keys.key(),
            self.keys.secret(),
            None,
            self.bucket.region(),
            OWN_CALL_TTL.as_secs(),
            std::iter::once(("cors", "")),
            std::iter::empty(),
        );
        // PutBucketCors requires Content-MD5 on AWS; Garage accepts it too.
        let md5 = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            Md5::digest(body.as_bytes()),
        );
        self.send_ok(
            reqwest::Method::PUT,
            url,
            &[("content-md5", &md5)],
            body.into_bytes(),
        )
        .await?;
        Ok(())
    }
}

/// SHA-256 of consecutive byte ranges of a stream, given their lengths.
struct RangeHasher {
    lengths: std::collections::VecDeque<u64>,
    left: Option<u64>,
    hasher: Sha256,
    done: Vec<String>,
}

impl RangeHasher {
    fn new(lengths: &[u64]) -> Self {
        let mut lengths: std::collections::VecDeque<u64> = lengths.iter().copied().collect();
        let left = lengths.pop_front();
        Self {
            lengths,
            left,
            hasher: Sha256::new(),
            done: Vec::new(),
        }
    }

    fn update(&mut self, mut data: &[u8]) {
        loop {
            self.close_finished();
            let Some(left) = self.left else { return };
            if data.is_empty() {
                return;
            }
            let take = data.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            self.hasher.update(&data[..take]);
            data = &data[take..];
            self.left = Some(left - take as u64);
        }
    }

    fn close_finished(&mut self) {
        while self.left == Some(0) {
            self.done
                .push(hex::encode(std::mem::take(&mut self.hasher).finalize()));
            self.left = self.lengths.pop_front();
        }
    }

    /// Digests of the ranges that were complete.
    fn finish(mut self) -> Vec<String> {
        self.close_finished();
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_s3_error_documents() {
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InvalidPart</Code>\
                   <Message>One or more &quot;parts&quot;</Message><RequestId>1</RequestId></Error>";
        let error: ErrorDocument = instant_xml::from_str(xml).unwrap();
        assert_eq!(error.code, "InvalidPart");
        assert_eq!(error.message.as_deref(), Some("One or more \"parts\""));
        let listed =
            "<ListPartsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"></ListPartsResult>";
        assert!(instant_xml::from_str::<ErrorDocument>(listed).is_err());
    }

    #[test]
    fn expired_instructions_are_signed_in_the_past() {
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        let fresh = Validity {
            ttl_secs: 60,
            expired: false,
        };
        let expired = Validity {
            ttl_secs: 60,
            expired: true,
        };
        assert_eq!(fresh.signed_at(now), now);
        assert_eq!(expired.signed_at(now).as_second(), 1_700_000_000 - 61);
        assert_eq!(fresh.policy_expiration(now).as_second(), 1_700_000_060);
        assert_eq!(expired.policy_expiration(now).as_second(), 1_699_999_999);
        assert_eq!(expired.expires_at(100), 99);
        let huge = Validity {
            ttl_secs: u64::MAX,
            expired: true,
        };
        assert!(huge.signed_at(now) < now, "no overflow");
    }

    #[test]
    fn hashes_ranges_across_chunks() {
        let hex_of = |data: &[u8]| hex::encode(Sha256::digest(data));
        let data = b"abcdefghij";
        let mut hasher = RangeHasher::new(&[3, 0, 6, 1]);
        hasher.update(&data[..2]);
        hasher.update(&data[2..7]);
        hasher.update(&data[7..]);
        assert_eq!(
            hasher.finish(),
            [hex_of(b"abc"), hex_of(b""), hex_of(b"defghi"), hex_of(b"j")]
        );
        let short = RangeHasher::new(&[4, 4]);
        assert!(
            short.finish().is_empty(),
            "an unfinished range has no digest"
        );
    }
}
