//! The sandbox's own S3 client: how the API side talks to its storage (the embedded
//! store or an external server such as Garage), exactly as Procore's backend would.

use anyhow::{anyhow, bail, Context, Result};
use futures_util::StreamExt;
use md5::Md5;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use url::Url;

use crate::sigv4::{uri_encode, Credentials};

/// `User-Agent` of the sandbox's own storage calls: the embedded store neither logs
/// them as client requests nor injects faults into them.
pub const INTERNAL_USER_AGENT: &str = concat!("procore-sandbox/", env!("CARGO_PKG_VERSION"));

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
    fn signed_at(&self, now: OffsetDateTime) -> OffsetDateTime {
        if self.expired {
            now - time::Duration::seconds(self.ttl_secs_i64().saturating_add(1))
        } else {
            now
        }
    }

    /// The expiration of a POST policy signed at `now`.
    fn policy_expiration(&self, now: OffsetDateTime) -> OffsetDateTime {
        if self.expired {
            now - time::Duration::seconds(1)
        } else {
            now + time::Duration::seconds(self.ttl_secs_i64())
        }
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
    endpoint: Url,
    bucket: String,
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

impl S3Client {
    /// A client for `bucket` at `endpoint`.
    pub fn new(endpoint: Url, bucket: String, credentials: Credentials) -> Self {
        let http = reqwest::Client::builder()
            .user_agent(INTERNAL_USER_AGENT)
            .build()
            .expect("a plain HTTP client builds");
        Self {
            endpoint,
            bucket,
            credentials,
            http,
        }
    }

    /// The bucket's name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The URL browsers POST forms to (the bucket).
    pub fn bucket_url(&self) -> Url {
        self.url(None, &[])
    }

    /// `{endpoint}/{bucket}[/{key}]?{query}`.
    fn url(&self, key: Option<&str>, query: &[(&str, &str)]) -> Url {
        let mut path = format!(
            "{}/{}",
            self.endpoint.path().trim_end_matches('/'),
            uri_encode(&self.bucket, true)
        );
        if let Some(key) = key {
            path.push('/');
            path.push_str(&uri_encode(key, false));
        }
        let mut url = self.endpoint.clone();
        url.set_path(&path);
        url.set_query(None);
        if !query.is_empty() {
            // S3 sub-resources like `?uploads` have no value: keep them bare.
            let query = query
                .iter()
                .map(|(name, value)| {
                    if value.is_empty() {
                        uri_encode(name, true)
                    } else {
                        format!("{}={}", uri_encode(name, true), uri_encode(value, true))
                    }
                })
                .collect::<Vec<_>>()
                .join("&");
            url.set_query(Some(&query));
        }
        url
    }

    async fn send(
        &self,
        method: reqwest::Method,
        url: Url,
        body: Vec<u8>,
    ) -> Result<reqwest::Response> {
        let headers =
            self.credentials
                .sign_request(method.as_str(), &url, &body, OffsetDateTime::now_utc());
        let mut request = self.http.request(method.clone(), url.clone()).body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("{method} {url}"))?;
        Ok(response)
    }

    async fn send_ok(&self, method: reqwest::Method, url: Url, body: Vec<u8>) -> Result<String> {
        let response = self.send(method, url, body).await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        // CompleteMultipartUpload may answer 200 with an <Error> body.
        if status >= 300 || text.contains("<Error>") {
            return Err(s3_error(status, &text).into());
        }
        Ok(text)
    }

    /// Starts a multipart upload of `key`; returns its upload id.
    pub async fn create_multipart_upload(&self, key: &str) -> Result<String> {
        let text = self
            .send_ok(
                reqwest::Method::POST,
                self.url(Some(key), &[("uploads", "")]),
                Vec::new(),
            )
            .await?;
        xml_values(&text, "UploadId")
            .into_iter()
            .next()
            .ok_or_else(|| anyhow!("CreateMultipartUpload answer has no UploadId: {text}"))
    }

    /// A presigned UploadPart URL; the client must send exactly `headers`.
    pub fn presign_upload_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        headers: &[(&str, &str)],
        validity: Validity,
    ) -> Url {
        let part_number = part_number.to_string();
        let url = self.url(
            Some(key),
            &[("partNumber", &part_number), ("uploadId", upload_id)],
        );
        self.credentials.presign(
            "PUT",
            &url,
            headers,
            validity.ttl_secs,
            validity.signed_at(OffsetDateTime::now_utc()),
        )
    }

    /// Form fields for a browser POST of `key` (see [`Credentials::post_policy`]).
    pub fn presign_post(
        &self,
        key: &str,
        extra_fields: &[(String, String)],
        size_range: (u64, u64),
        validity: Validity,
    ) -> Vec<(String, String)> {
        let mut fields = vec![("key".to_string(), key.to_string())];
        fields.extend(extra_fields.iter().cloned());
        let now = OffsetDateTime::now_utc();
        self.credentials.post_policy(
            &self.bucket,
            &fields,
            size_range,
            validity.policy_expiration(now),
            now,
        )
    }

    /// Every part uploaded so far, by part number.
    pub async fn list_parts(&self, key: &str, upload_id: &str) -> Result<Vec<ListedPart>> {
        let mut parts = Vec::new();
        let mut marker = String::from("0");
        loop {
            let url = self.url(
                Some(key),
                &[
                    ("uploadId", upload_id),
                    ("part-number-marker", &marker),
                    ("max-parts", "1000"),
                ],
            );
            let text = self.send_ok(reqwest::Method::GET, url, Vec::new()).await?;
            for part in xml_values(&text, "Part") {
                let number = first(&part, "PartNumber")?.parse()?;
                let etag = first(&part, "ETag")?.trim_matches('"').to_string();
                let size = first(&part, "Size")?.parse()?;
                parts.push(ListedPart { number, etag, size });
            }
            let truncated =
                xml_values(&text, "IsTruncated").first().map(String::as_str) == Some("true");
            match xml_values(&text, "NextPartNumberMarker").into_iter().next() {
                Some(next) if truncated && next != marker => marker = next,
                _ => break,
            }
        }
        parts.sort_by_key(|p| p.number);
        Ok(parts)
    }

    /// Completes a multipart upload with `(part number, etag)` pairs.
    pub async fn complete_multipart_upload(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[(u32, String)],
    ) -> Result<()> {
        let mut body = String::from("<CompleteMultipartUpload>");
        for (number, etag) in parts {
            body.push_str(&format!(
                "<Part><PartNumber>{number}</PartNumber><ETag>\"{}\"</ETag></Part>",
                xml_escape(etag.trim_matches('"'))
            ));
        }
        body.push_str("</CompleteMultipartUpload>");
        self.send_ok(
            reqwest::Method::POST,
            self.url(Some(key), &[("uploadId", upload_id)]),
            body.into_bytes(),
        )
        .await?;
        Ok(())
    }

    /// Size of `key`, or `None` when it is not stored.
    pub async fn head_object(&self, key: &str) -> Result<Option<u64>> {
        let response = self
            .send(reqwest::Method::HEAD, self.url(Some(key), &[]), Vec::new())
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

    /// Streams `key` once and hashes it: whole-object SHA-256 and MD5, plus the
    /// SHA-256 of each of `ranges` (consecutive byte lengths from the start).
    /// `None` when the object is not stored.
    pub async fn object_digests(&self, key: &str, ranges: &[u64]) -> Result<Option<ObjectDigests>> {
        let response = self
            .send(reqwest::Method::GET, self.url(Some(key), &[]), Vec::new())
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
        let response = self
            .send(reqwest::Method::HEAD, self.url(None, &[]), Vec::new())
            .await?;
        if response.status().is_success() {
            return Ok(());
        }
        self.send_ok(reqwest::Method::PUT, self.url(None, &[]), Vec::new())
            .await?;
        Ok(())
    }

    /// Lets browsers of any origin PUT/POST and read `ETag` (PutBucketCors).
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
        let url = self.url(None, &[("cors", "")]);
        // PutBucketCors requires Content-MD5 on AWS; Garage accepts it too.
        let md5 = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            Md5::digest(body.as_bytes()),
        );
        let headers =
            self.credentials
                .sign_request("PUT", &url, body.as_bytes(), OffsetDateTime::now_utc());
        let mut request = self.http.put(url).header("content-md5", md5).body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        if status >= 300 {
            return Err(s3_error(status, &response.text().await?).into());
        }
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

fn s3_error(status: u16, body: &str) -> S3Error {
    S3Error {
        status,
        code: xml_values(body, "Code")
            .into_iter()
            .next()
            .unwrap_or_default(),
        message: xml_values(body, "Message")
            .into_iter()
            .next()
            .unwrap_or_else(|| body.chars().take(200).collect()),
    }
}

fn first(xml: &str, tag: &str) -> Result<String> {
    xml_values(xml, tag)
        .into_iter()
        .next()
        .ok_or_else(|| anyhow!("<{tag}> missing in {xml}"))
}

/// The unescaped text of every `<tag>…</tag>` in `xml` (flat: enough for S3's answers).
pub fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        rest = &rest[start + open.len()..];
        let Some(end) = rest.find(&close) else { break };
        out.push(xml_unescape(&rest[..end]));
        rest = &rest[end + close.len()..];
    }
    out
}

fn xml_unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#34;", "\"")
        .replace("&amp;", "&")
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_s3_xml_values() {
        let xml = "<R><Part><PartNumber>1</PartNumber><ETag>&quot;ab&quot;</ETag></Part>\
                   <Part><PartNumber>2</PartNumber><ETag>\"cd\"</ETag></Part></R>";
        let parts = xml_values(xml, "Part");
        assert_eq!(parts.len(), 2);
        assert_eq!(xml_values(&parts[0], "ETag"), ["\"ab\""]);
        assert_eq!(xml_values(&parts[1], "PartNumber"), ["2"]);
        assert!(xml_values(xml, "Missing").is_empty());
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
