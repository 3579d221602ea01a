//! Shared by the sandbox's integration tests: a running sandbox (embedded store or
//! Garage), an API client with Procore's headers, and helpers for the upload steps.
#![allow(dead_code)] // Each test file uses a different subset.

pub mod garage;

use clap::Parser;
use md5::Md5;
use procore_sandbox::{start, Config, Sandbox};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub const TOKEN: &str = "sandbox-token";
pub const OTHER_TOKEN: &str = "other-user-token";
pub const COMPANY: u64 = 7;
pub const MIB: usize = 1024 * 1024;

/// A sandbox plus a client.
pub struct Harness {
    pub sandbox: Sandbox,
    pub http: reqwest::Client,
    pub garage: Option<garage::Garage>,
}

/// Default flags, two users.
pub fn config() -> Config {
    let mut config = Config::parse_from(["procore-sandbox"]);
    config.tokens = vec![TOKEN.into(), OTHER_TOKEN.into()];
    config.processing_delay_ms = 50;
    config
}

impl Harness {
    /// A sandbox on its embedded store.
    pub async fn embedded() -> Self {
        Self::with(config()).await
    }

    /// A sandbox with `config`.
    pub async fn with(config: Config) -> Self {
        let sandbox = start(config).await.expect("sandbox starts");
        Self {
            sandbox,
            http: reqwest::Client::new(),
            garage: None,
        }
    }

    /// A sandbox presigning against a fresh single-node Garage.
    pub async fn garage(mut config: Config) -> Self {
        let garage = garage::Garage::start().await;
        config.storage_endpoint = Some(garage.endpoint.clone());
        config.storage_bucket = garage.bucket.clone();
        config.storage_region = garage.region.clone();
        config.storage_access_key = Some(garage.access_key.clone());
        config.storage_secret_key = Some(garage.secret_key.clone());
        let mut harness = Self::with(config).await;
        harness.garage = Some(garage);
        harness
    }

    pub fn is_garage(&self) -> bool {
        self.garage.is_some()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.sandbox.api_url, path.trim_start_matches('/'))
    }

    /// An API request with Procore's headers.
    pub fn api(&self, method: Method, path: &str) -> RequestBuilder {
        self.api_as(TOKEN, method, path)
    }

    pub fn api_as(&self, token: &str, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, self.url(path))
            .bearer_auth(token)
            .header("Procore-Company-Id", COMPANY.to_string())
    }

    /// POST a create request; asserts 201 and returns the body.
    pub async fn create(&self, path: &str, body: Value) -> Value {
        let response = self
            .api(Method::POST, path)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, 201, "create {path}: {text}");
        serde_json::from_str(&text).unwrap()
    }

    /// PATCH a v2.1 upload's `part_etags`.
    pub async fn patch_v2(&self, path: &str, uuid: &str, etags: Value) -> Response {
        let body = json!({ "part_etags": etags });
        self.api(Method::PATCH, &format!("{path}/{uuid}"))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// GET an upload (after the processing delay): status and JSON body.
    pub async fn show_after_processing(&self, path: &str, uuid: &str) -> (u16, Value) {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        json_of(
            self.api(Method::GET, &format!("{path}/{uuid}"))
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// PUT `bytes` to a segment's URL with exactly its headers (+ Content-Type).
    pub async fn put_segment(&self, segment: &Value, bytes: &[u8]) -> Response {
        put_with_headers(
            &self.http,
            segment["url"].as_str().unwrap(),
            &segment["headers"],
            bytes.to_vec(),
        )
        .await
        .expect("the PUT gets an answer")
    }

    /// POST a v1 form: every field in order, the bytes last as `file`.
    pub async fn post_form(&self, created: &Value, bytes: &[u8]) -> Response {
        let mut form = reqwest::multipart::Form::new();
        for (name, value) in created["fields"].as_object().unwrap() {
            form = form.text(name.clone(), value.as_str().unwrap().to_string());
        }
        form = form.part(
            "file",
            reqwest::multipart::Part::bytes(bytes.to_vec()).file_name("upload.bin"),
        );
        self.http
            .post(created["url"].as_str().unwrap())
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// GET /_sandbox/uploads/{uuid}: the record and what storage holds.
    pub async fn inspect(&self, uuid: &str) -> Value {
        self.admin_get(&format!("uploads/{uuid}")).await
    }

    /// GET /_sandbox/attachments: what attach calls created, in order.
    pub async fn attachments(&self) -> Vec<Value> {
        serde_json::from_value(self.admin_get("attachments").await).unwrap()
    }

    /// A v1 form upload of `bytes` named `name`, posted to storage: its uuid.
    pub async fn form_upload(&self, name: &str, bytes: &[u8]) -> String {
        let created = self
            .create(
                "/rest/v1.1/projects/42/uploads",
                json!({ "response_filename": name, "size": bytes.len() }),
            )
            .await;
        let posted = self.post_form(&created, bytes).await;
        assert!(
            posted.status().is_success(),
            "form POST: {}",
            posted.status()
        );
        created["uuid"].as_str().unwrap().to_string()
    }

    pub async fn requests(&self) -> Vec<Value> {
        serde_json::from_value(self.admin_get("requests").await).unwrap()
    }

    /// GET /_sandbox/{route} as JSON.
    pub async fn admin_json(&self, route: &str) -> Value {
        self.admin_get(route).await
    }

    async fn admin_get(&self, route: &str) -> Value {
        let response = self
            .http
            .get(self.url(&format!("/_sandbox/{route}")))
            .send()
            .await
            .unwrap();
        response.json().await.unwrap()
    }

    pub async fn set_faults(&self, faults: Value) {
        let response = self
            .http
            .put(self.url("/_sandbox/faults"))
            .json(&faults)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    }

    /// A v1 segmented create for `data` cut into `segment_size` pieces.
    pub async fn create_segmented(
        &self,
        path: &str,
        data: &[u8],
        segment_size: usize,
        md5: bool,
    ) -> Value {
        self.create(
            path,
            json!({ "response_filename": "data.bin", "segments": declare_segments(data, segment_size, md5) }),
        )
        .await
    }

    /// PUTs every segment; returns the ETags.
    pub async fn put_all(&self, created: &Value, data: &[u8], segment_size: usize) -> Vec<String> {
        let mut etags = Vec::new();
        for (segment, bytes) in segments_of(created).iter().zip(chunks(data, segment_size)) {
            let response = self.put_segment(segment, bytes).await;
            let status = response.status();
            let etag = response
                .headers()
                .get("etag")
                .map(|v| v.to_str().unwrap().to_string());
            assert_eq!(status, 200, "PUT: {}", response.text().await.unwrap());
            etags.push(etag.expect("storage returns an ETag"));
        }
        etags
    }
}

/// `created.segments` (v1) or `created.data.segments` (v2.1).
pub fn segments_of(created: &Value) -> Vec<Value> {
    let segments = if created.get("data").is_some() {
        &created["data"]["segments"]
    } else {
        &created["segments"]
    };
    segments.as_array().unwrap().clone()
}

pub async fn put_with_headers(
    http: &reqwest::Client,
    url: &str,
    headers: &Value,
    body: Vec<u8>,
) -> reqwest::Result<Response> {
    let mut request = http
        .put(url)
        .header("Content-Type", "application/octet-stream");
    for (name, value) in headers.as_object().unwrap() {
        // Content-Length is set by the client from the body, as a browser does.
        if !name.eq_ignore_ascii_case("content-length") {
            request = request.header(name.as_str(), value.as_str().unwrap());
        }
    }
    if body.is_empty() {
        // A browser sends `Content-Length: 0` for an empty body; reqwest would omit it.
        request = request.header("content-length", "0");
    }
    request.body(body).send().await
}

/// `data` cut into pieces of `size` (one empty piece for empty data).
pub fn chunks(data: &[u8], size: usize) -> Vec<&[u8]> {
    if data.is_empty() {
        return vec![data];
    }
    data.chunks(size).collect()
}

pub fn declare_segments(data: &[u8], size: usize, md5: bool) -> Value {
    json!(chunks(data, size)
        .into_iter()
        .map(|piece| {
            let mut segment = json!({ "size": piece.len(), "sha256": sha256_hex(piece) });
            if md5 {
                segment["md5"] = json!(md5_hex(piece));
            }
            segment
        })
        .collect::<Vec<_>>())
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

pub fn md5_hex(data: &[u8]) -> String {
    hex::encode(Md5::digest(data))
}

/// Reproducible pseudo-random bytes.
pub fn bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 32) as u8
        })
        .collect()
}

/// The body of a response as JSON.
pub async fn json_of(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The S3 error code of an XML answer.
pub async fn s3_code(response: Response) -> (u16, String) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let code = text
        .split("<Code>")
        .nth(1)
        .and_then(|rest| rest.split("</Code>").next())
        .unwrap_or(&text)
        .to_string();
    (status, code)
}
