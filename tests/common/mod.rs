//! The scripted transport and fixtures the native engine tests share (after
//! tus-js-client's test stack): every request is recorded, and a responder per test
//! plays Procore and storage, including their failures.
#![allow(dead_code)] // Each test file uses its own share of these.

use std::cell::{Cell, RefCell};

use procore_upload::core::engine::UploadOptions;
use procore_upload::core::hash::hash_bytes;
use procore_upload::core::http::{Body, Http, Method, Request, Response, Tokens};
use procore_upload::core::plan::{ApiVersion, Segmented};
use procore_upload::core::protocol::{FileMeta, Scope};
use procore_upload::core::state::{FileIdentity, StateScope};
use procore_upload::core::Error;
use serde_json::{json, Value};

pub type Responder = Box<dyn FnMut(&Request) -> Result<Response, Error>>;

/// Records requests, answers through the responder, keeps a virtual clock.
pub struct Scripted {
    pub log: RefCell<Vec<Request>>,
    pub responder: RefCell<Responder>,
    pub clock: Cell<f64>,
    pub sleeps: RefCell<Vec<u64>>,
    /// Virtual ms each request takes.
    pub request_ms: Cell<f64>,
}

impl Scripted {
    pub fn new(responder: impl FnMut(&Request) -> Result<Response, Error> + 'static) -> Self {
        Self {
            log: RefCell::new(Vec::new()),
            responder: RefCell::new(Box::new(responder)),
            clock: Cell::new(0.0),
            sleeps: RefCell::new(Vec::new()),
            request_ms: Cell::new(0.0),
        }
    }

    pub fn requests(&self) -> Vec<Request> {
        self.log.borrow().clone()
    }
}

impl Http for Scripted {
    async fn send(&self, request: Request, progress: &dyn Fn(u64)) -> Result<Response, Error> {
        self.log.borrow_mut().push(request.clone());
        self.clock.set(self.clock.get() + self.request_ms.get());
        let response = (self.responder.borrow_mut())(&request)?;
        if let Body::Bytes(range) = &request.body {
            progress((range.end - range.start) / 2);
        }
        Ok(response)
    }

    async fn sleep(&self, millis: u64) -> Result<(), Error> {
        self.sleeps.borrow_mut().push(millis);
        self.clock.set(self.clock.get() + millis as f64);
        Ok(())
    }

    fn now_ms(&self) -> f64 {
        self.clock.get()
    }

    fn wall_clock_ms(&self) -> u64 {
        // A fixed epoch plus the test clock.
        1_800_000_000_000 + (self.clock.get()) as u64
    }
}

/// Tokens "t1", "t2", … : a refresh hands out the next one.
pub struct CountingTokens(pub Cell<u32>);

impl Tokens for CountingTokens {
    async fn token(&self, refresh: bool) -> Result<String, Error> {
        if refresh || self.0.get() == 0 {
            self.0.set(self.0.get() + 1);
        }
        Ok(format!("t{}", self.0.get()))
    }
}

pub fn tokens() -> CountingTokens {
    CountingTokens(Cell::new(0))
}

pub fn options(
    version: ApiVersion,
    project: Option<u64>,
    size: u64,
    segmented: Segmented,
) -> UploadOptions {
    UploadOptions {
        scope: Scope {
            base_url: "https://api.test".into(),
            version,
            company_id: 7,
            project_id: project,
        },
        file: FileMeta {
            name: "plan.pdf".into(),
            size,
            content_type: Some("application/pdf".into()),
            attachment: None,
        },
        segmented,
        segment_size: None,
        md5: Some(true),
        concurrency: 2,
        allow_insecure_storage: false,
        processing_timeout_ms: 60_000,
        chunk_size: 1 << 20,
    }
}

pub fn ok(status: u16, body: Value) -> Result<Response, Error> {
    Ok(Response {
        status,
        headers: Vec::new(),
        body: body.to_string(),
    })
}

pub fn etag_response(etag: &str) -> Result<Response, Error> {
    Ok(Response {
        status: 200,
        headers: vec![("ETag".into(), format!("\"{etag}\""))],
        body: String::new(),
    })
}

/// Procore's side of a v1 form upload of uuid `U`: Create Upload answers a form
/// posting to `storage_url`, Show Upload answers `complete`.
pub fn form_api(request: &Request, storage_url: &str) -> Result<Response, Error> {
    match request.method {
        Method::Post => ok(201, json!({"uuid": "U", "url": storage_url, "fields": {}})),
        Method::Get => ok(200, json!({"uuid": "U", "status": "complete"})),
        other => panic!("unexpected {other:?} {}", request.url),
    }
}

pub fn data(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
}

/// A v1 storage mock: create answers one URL per segment; PUTs answer the MD5 as
/// ETag; PATCH checks the ETags.
pub fn v1_segmented_responder(
    source: Vec<u8>,
    segment: usize,
) -> impl FnMut(&Request) -> Result<Response, Error> {
    move |request| match (request.method, request.url.as_str()) {
        (Method::Post, url) if url.ends_with("/uploads") => {
            let body: Value = match &request.body {
                Body::Json(text) => serde_json::from_str(text).unwrap(),
                _ => panic!("create without JSON"),
            };
            let segments: Vec<Value> = body["segments"]
                .as_array()
                .unwrap()
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    json!({"size": s["size"], "sha256": s["sha256"], "url": format!("https://storage.test/part/{i}?sig=x"),
                           "headers": {"x-amz-content-sha256": s["sha256"], "content-length": s["size"].to_string(), "content-md5": "b64"}})
                })
                .collect();
            ok(
                201,
                json!({"uuid": "U2", "segments": segments, "status": "ready"}),
            )
        }
        (Method::Put, url) => {
            let index: usize = url["https://storage.test/part/".len()..]
                .split('?')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            let start = index * segment;
            let end = (start + segment).min(source.len());
            match &request.body {
                Body::Bytes(range) => assert_eq!(range.clone(), start as u64..end as u64),
                other => panic!("{other:?}"),
            }
            etag_response(&hash_bytes(&source[start..end], true).md5_hex().unwrap())
        }
        (Method::Patch, url) if url.ends_with("/uploads/U2") => {
            ok(200, json!({"uuid": "U2", "status": "complete"}))
        }
        other => panic!("unexpected {other:?}"),
    }
}

/// The file the state tests keep states of: `plan.pdf`, `size` bytes.
pub fn identity(size: u64) -> FileIdentity {
    FileIdentity {
        name: "plan.pdf".into(),
        size,
        last_modified: Some(1_700_000_000_000),
        content_type: "application/pdf".into(),
    }
}

/// Where those states go: v1.1, company 7, project 42.
pub fn scope() -> StateScope {
    StateScope {
        api_version: "v1.1".into(),
        company_id: 7,
        project_id: Some(42),
    }
}
