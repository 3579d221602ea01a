//! The seams between the upload engine and the world (after tus-js-client's
//! `HttpStack`): an HTTP client that can also wait, and a source of access tokens.
//! The web adapter implements them with fetch/XHR and setTimeout; native tests with a
//! scripted stand-in.

use std::ops::Range;

use super::Error;

/// HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
}

impl Method {
    /// From a method name in any case: GET, POST, PUT, PATCH or DELETE.
    pub fn parse(name: &str) -> Result<Self, Error> {
        match name.to_ascii_uppercase().as_str() {
            "GET" => Ok(Method::Get),
            "POST" => Ok(Method::Post),
            "PUT" => Ok(Method::Put),
            "PATCH" => Ok(Method::Patch),
            "DELETE" => Ok(Method::Delete),
            _ => Err(Error::InvalidInput(format!(
                "method must be GET, POST, PUT, PATCH or DELETE, got {}",
                super::json::quote(name)
            ))),
        }
    }

    /// As on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// What a request carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// Nothing.
    Empty,
    /// A JSON document.
    Json(String),
    /// A byte range of the file being uploaded (sent as a `Blob` slice, never copied).
    Bytes(Range<u64>),
    /// `multipart/form-data`: every field in order, then the file as `file`.
    Form {
        /// Fields, in the order they must be sent.
        fields: Vec<(String, String)>,
        /// The file's bytes.
        file: Range<u64>,
        /// Filename of the `file` part.
        filename: String,
    },
}

impl Body {
    /// The byte range of the file this body carries, if it carries one.
    pub fn file_range(&self) -> Option<&Range<u64>> {
        match self {
            Body::Bytes(range) | Body::Form { file: range, .. } => Some(range),
            Body::Empty | Body::Json(_) => None,
        }
    }
}

/// Whom a request goes to: Procore's API (gets the access token) or storage (gets
/// nothing but what the instructions say).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Procore's API.
    Api,
    /// Storage, through a presigned URL or policy.
    Storage,
}

/// A request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Method.
    pub method: Method,
    /// Full URL, used as given.
    pub url: String,
    /// Headers in order.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Body,
    /// API or storage.
    pub target: Target,
}

/// A response.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers the client could read (CORS may hide some).
    pub headers: Vec<(String, String)>,
    /// Body as text.
    pub body: String,
}

impl Response {
    /// The first header named `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends requests and waits; every wait and request ends early with
/// [`Error::Aborted`] once the caller aborts.
#[allow(async_fn_in_trait)] // Single-threaded (wasm): no Send bound wanted.
pub trait Http {
    /// Sends `request`; `progress` gets the bytes of the body sent so far.
    /// Fails only when no response came: [`Error::Network`], [`Error::Aborted`], or
    /// [`Error::FileRead`] when the file the body comes from can no longer be read
    /// (changed or deleted on disk), which no retry can mend.
    async fn send(&self, request: Request, progress: &dyn Fn(u64)) -> Result<Response, Error>;

    /// Waits `millis` milliseconds.
    async fn sleep(&self, millis: u64) -> Result<(), Error>;

    /// Milliseconds on a monotonic clock (one that never goes back, whatever the
    /// wall clock does).
    fn now_ms(&self) -> f64;

    /// Milliseconds since 1970 (the wall clock): for states kept across reloads.
    fn wall_clock_ms(&self) -> u64;

    /// A random number in `0.0..1.0` to spread retries.
    fn jitter(&self) -> f64 {
        0.5
    }

    /// A fresh random `Idempotency-Token` (one per call, the same on its retries).
    fn random_token(&self) -> String {
        // Scaled to 53 bits: the most an f64 holds exactly.
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let bits = (self.jitter() * (1u64 << 53) as f64) as u64;
        format!("{bits:x}")
    }
}

/// Supplies Procore access tokens.
#[allow(async_fn_in_trait)]
pub trait Tokens {
    /// A token; `refresh` after the API refused the previous one.
    async fn token(&self, refresh: bool) -> Result<String, Error>;

    /// Whether asking with `refresh` can give another token (a fixed token cannot:
    /// a 401 then fails at once instead of sending the same token again).
    fn can_refresh(&self) -> bool {
        true
    }
}

/// Headers a browser sets itself and refuses from scripts (the Fetch standard's
/// forbidden request headers that instructions may name, e.g. `Content-Length`).
pub fn browser_sets_itself(name: &str) -> bool {
    const FORBIDDEN: &[&str] = &[
        "accept-charset",
        "accept-encoding",
        "access-control-request-headers",
        "access-control-request-method",
        "connection",
        "content-length",
        "cookie",
        "date",
        "dnt",
        "expect",
        "host",
        "keep-alive",
        "origin",
        "referer",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "via",
    ];
    let lower = name.to_ascii_lowercase();
    FORBIDDEN.contains(&lower.as_str()) || lower.starts_with("proxy-") || lower.starts_with("sec-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_headers() {
        for name in [
            "Content-Length",
            "content-length",
            "Host",
            "Sec-Fetch-Mode",
            "Proxy-Authorization",
        ] {
            assert!(browser_sets_itself(name), "{name}");
        }
        for name in [
            "Content-MD5",
            "x-amz-content-sha256",
            "Content-Type",
            "Authorization",
        ] {
            assert!(!browser_sets_itself(name), "{name}");
        }
    }

    #[test]
    fn response_headers_any_case() {
        let response = Response {
            status: 200,
            headers: vec![("ETag".into(), "\"x\"".into())],
            body: String::new(),
        };
        assert_eq!(response.header("etag"), Some("\"x\""));
        assert_eq!(response.header("missing"), None);
    }
}
