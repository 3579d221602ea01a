//! The one error type of the library.

use std::any::Any;
use std::fmt;
use std::rc::Rc;

/// What lies beneath an error, when something outside the core failed first (a JS
/// exception, a `DOMException`): opaque here, handed to JS as the `Error`'s `cause`.
#[derive(Clone)]
pub struct Cause(Rc<dyn Any>);

impl Cause {
    /// Wraps any value (the web adapter wraps a `JsValue`).
    pub fn new<T: Any>(value: T) -> Self {
        Self(Rc::new(value))
    }

    /// The wrapped value, if it is a `T`.
    pub fn downcast_ref<T: Any>(&self) -> Option<&T> {
        self.0.downcast_ref()
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cause(..)")
    }
}

/// Two causes are equal when they are the same value: errors compare by what they
/// say, and a cause is only carried along.
impl PartialEq for Cause {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Cause {}

/// Every failure the library reports.
///
/// The facade turns it into a JS `Error` once, with [`Error::code`] as its stable
/// `code` property and, where there is one, the HTTP status and body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The caller passed something unusable; nothing was read or sent.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The file could not be read, e.g. it was changed or deleted after it was picked.
    #[error("could not read the file: {message}")]
    FileRead {
        /// What went wrong.
        message: String,
        /// The browser's exception, where there is one.
        cause: Option<Cause>,
    },
    /// The caller cancelled the operation through its abort signal.
    #[error("the operation was aborted")]
    Aborted,
    /// A request was answered with an unexpected status.
    #[error("{method} {url} answered {status}: {body}")]
    Http {
        /// Request method.
        method: &'static str,
        /// Request URL, without its query (presigned signatures stay out of logs).
        url: String,
        /// HTTP status.
        status: u16,
        /// Response body (truncated).
        body: String,
        /// `Retry-After` of that answer, in seconds, when it had a readable one (a
        /// 503 after the retries, say).
        retry_after_secs: Option<u64>,
    },
    /// A request got no answer (connection refused or reset, DNS, CORS refusal).
    #[error("{method} {url} failed: {message}")]
    Network {
        /// Request method.
        method: &'static str,
        /// Request URL without its query.
        url: String,
        /// What the browser said.
        message: String,
        /// The browser's exception, where there is one.
        cause: Option<Cause>,
    },
    /// Upload instructions expired and could not be renewed.
    #[error("the upload instructions expired: {0}")]
    Expired(String),
    /// Storage answered a part's `PUT` without a readable `ETag`.
    #[error(
        "{url} answered without a readable ETag: the storage bucket's CORS configuration must expose the ETag header (Access-Control-Expose-Headers: ETag)"
    )]
    MissingEtag {
        /// Storage URL without its query.
        url: String,
    },
    /// The caller's `getAccessToken` threw, rejected or gave no token; no request
    /// was sent with it.
    #[error("getAccessToken() {message}")]
    AccessToken {
        /// What it did instead of giving a token.
        message: String,
        /// What it threw or rejected with.
        cause: Option<Cause>,
    },
    /// The API refused the access token (401), also after asking for a fresh one.
    #[error("{method} {url} answered 401: the access token was refused: {body}")]
    Unauthorized {
        /// Request method.
        method: &'static str,
        /// Request URL without its query.
        url: String,
        /// Response body (truncated).
        body: String,
    },
    /// The API kept answering 429 after the retries.
    #[error("{method} {url} answered 429 (rate limited){}", retry_after_secs.map(|s| format!("; retry after {s} s")).unwrap_or_default())]
    RateLimited {
        /// Request method.
        method: &'static str,
        /// Request URL without its query.
        url: String,
        /// How long the last answer asked to wait, in seconds (`Retry-After`, else
        /// `X-Rate-Limit-Reset`), when it said.
        retry_after_secs: Option<u64>,
        /// Response body (truncated).
        body: String,
    },
    /// A response was malformed or not what the protocol allows.
    #[error("unexpected response: {0}")]
    Protocol(String),
    /// Procore reported that processing the upload failed (v2.1 status `failed`).
    #[error("Procore could not process the upload: {0}")]
    ProcessingFailed(String),
    /// The upload did not become available in time.
    #[error("timed out: {0}")]
    Timeout(String),
    /// A hashing worker failed to start or crashed.
    #[error("hashing worker failed: {message}")]
    Worker {
        /// What went wrong.
        message: String,
        /// The exception or error event, where there is one.
        cause: Option<Cause>,
    },
    /// A file's name is taken in its Procore folder and `onExisting: "error"` says
    /// not to touch what is there (`uploadFolder`); nothing was sent for it.
    #[error("name taken: {0}")]
    NameTaken(String),
    /// The store of upload states (IndexedDB or the caller's) failed.
    #[error("the upload state store failed: {message}")]
    Store {
        /// What went wrong.
        message: String,
        /// The exception, where there is one.
        cause: Option<Cause>,
    },
}

/// Longest response body kept in an error.
pub const MAX_ERROR_BODY: usize = 2000;

impl Error {
    /// The stable, machine-readable code JS callers switch on.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidInput(_) => "INVALID_INPUT",
            Error::FileRead { .. } => "FILE_READ",
            Error::Aborted => "ABORTED",
            Error::Http { .. } => "HTTP",
            Error::Network { .. } => "NETWORK",
            Error::Expired(_) => "EXPIRED",
            Error::MissingEtag { .. } => "MISSING_ETAG",
            Error::AccessToken { .. } => "ACCESS_TOKEN",
            Error::Unauthorized { .. } => "UNAUTHORIZED",
            Error::RateLimited { .. } => "RATE_LIMITED",
            Error::Protocol(_) => "PROTOCOL",
            Error::ProcessingFailed(_) => "PROCESSING_FAILED",
            Error::Timeout(_) => "TIMEOUT",
            Error::Worker { .. } => "WORKER",
            Error::Store { .. } => "STORE",
            Error::NameTaken(_) => "NAME_TAKEN",
        }
    }

    /// [`Error::FileRead`] without a cause.
    pub fn file_read(message: impl Into<String>) -> Self {
        Error::FileRead {
            message: message.into(),
            cause: None,
        }
    }

    /// [`Error::Store`] without a cause.
    pub fn store(message: impl Into<String>) -> Self {
        Error::Store {
            message: message.into(),
            cause: None,
        }
    }

    /// [`Error::Worker`] without a cause.
    pub fn worker(message: impl Into<String>) -> Self {
        Error::Worker {
            message: message.into(),
            cause: None,
        }
    }

    /// This error with `cause` beneath it, for the kinds that carry one (the others
    /// come from the core's own decisions and are returned unchanged).
    pub fn with_cause(mut self, cause: Cause) -> Self {
        match &mut self {
            Error::FileRead { cause: slot, .. }
            | Error::Network { cause: slot, .. }
            | Error::AccessToken { cause: slot, .. }
            | Error::Worker { cause: slot, .. }
            | Error::Store { cause: slot, .. } => *slot = Some(cause),
            _ => {}
        }
        self
    }

    /// What lies beneath, where something outside the core failed first.
    pub fn cause(&self) -> Option<&Cause> {
        match self {
            Error::FileRead { cause, .. }
            | Error::Network { cause, .. }
            | Error::AccessToken { cause, .. }
            | Error::Worker { cause, .. }
            | Error::Store { cause, .. } => cause.as_ref(),
            _ => None,
        }
    }

    /// The request that failed, as its method and its URL without the query, where
    /// one did: what `method` and `path` tell JS callers.
    pub fn request(&self) -> Option<(&str, &str)> {
        match self {
            Error::Http { method, url, .. }
            | Error::Network { method, url, .. }
            | Error::Unauthorized { method, url, .. }
            | Error::RateLimited { method, url, .. } => Some((*method, url)),
            // Only a part's PUT reads an ETag.
            Error::MissingEtag { url } => Some(("PUT", url)),
            _ => None,
        }
    }

    /// Milliseconds the last answer asked to wait before trying again, where it said.
    pub fn retry_after_ms(&self) -> Option<u64> {
        match self {
            Error::Http {
                retry_after_secs, ..
            }
            | Error::RateLimited {
                retry_after_secs, ..
            } => retry_after_secs.map(|secs| secs.saturating_mul(1000)),
            _ => None,
        }
    }

    /// The HTTP status and body behind this error, where there is one.
    pub fn http(&self) -> Option<(u16, &str)> {
        match self {
            Error::Http { status, body, .. } => Some((*status, body)),
            Error::Unauthorized { body, .. } => Some((401, body)),
            Error::RateLimited { body, .. } => Some((429, body)),
            _ => None,
        }
    }
}

/// `url` without its query and fragment: presigned signatures stay out of messages.
pub fn redact_url(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or_default().to_string()
}

/// The path of `url`, without scheme, host (and any user info) and without query and
/// fragment: `/rest/v1.0/files` of `https://api.procore.com/rest/v1.0/files?x=1`;
/// `/` when it has none. A path (`/…`) stays a path.
pub fn url_path(url: &str) -> &str {
    let url = url.split(['?', '#']).next().unwrap_or_default();
    // Char patterns only: a `str` pattern would bring its searcher into the wasm.
    let authority = match url.split_once(':') {
        Some((_, rest)) if !url.starts_with('/') => rest.strip_prefix("//"),
        _ => None,
    };
    match authority {
        Some(rest) => rest.find('/').and_then(|at| rest.get(at..)).unwrap_or("/"),
        None => url,
    }
}

/// At most [`MAX_ERROR_BODY`] characters of `body`.
pub fn truncate_body(body: &str) -> String {
    match body.char_indices().nth(MAX_ERROR_BODY) {
        Some((cut, _)) => format!("{}…", body.get(..cut).unwrap_or(body)),
        None => body.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        let http = Error::Http {
            method: "PUT",
            url: "u".into(),
            status: 500,
            body: "b".into(),
            retry_after_secs: None,
        };
        let table = [
            (Error::InvalidInput("x".into()), "INVALID_INPUT"),
            (Error::file_read("x"), "FILE_READ"),
            (Error::Aborted, "ABORTED"),
            (http, "HTTP"),
            (
                Error::Network {
                    method: "GET",
                    url: "u".into(),
                    message: "m".into(),
                    cause: None,
                },
                "NETWORK",
            ),
            (Error::Expired("x".into()), "EXPIRED"),
            (Error::store("x"), "STORE"),
            (Error::MissingEtag { url: "u".into() }, "MISSING_ETAG"),
            (
                Error::AccessToken {
                    message: "threw".into(),
                    cause: None,
                },
                "ACCESS_TOKEN",
            ),
            (
                Error::Unauthorized {
                    method: "GET",
                    url: "u".into(),
                    body: "b".into(),
                },
                "UNAUTHORIZED",
            ),
            (
                Error::RateLimited {
                    method: "GET",
                    url: "u".into(),
                    retry_after_secs: Some(3),
                    body: "b".into(),
                },
                "RATE_LIMITED",
            ),
            (Error::Protocol("x".into()), "PROTOCOL"),
            (Error::ProcessingFailed("x".into()), "PROCESSING_FAILED"),
            (Error::Timeout("x".into()), "TIMEOUT"),
            (Error::worker("x"), "WORKER"),
        ];
        // The package's typings list the same codes, so TypeScript callers can
        // switch over them exhaustively; the README's table explains each.
        let typings = include_str!("../../js/index.d.ts");
        let readme = include_str!("../../README.md");
        // uploadFolder's codes: its JS API comes in a later step, which lists them
        // in the typings and the README with it (checked from then on).
        let folder_codes = [(Error::NameTaken("x".into()), "NAME_TAKEN")];
        for (error, code) in &folder_codes {
            assert_eq!(error.code(), *code, "{error}");
            if typings.contains("uploadFolder") {
                assert!(
                    typings.contains(&format!("| \"{code}\"")),
                    "{code} in index.d.ts"
                );
            }
            if readme.contains("uploadFolder(") {
                assert!(
                    readme.contains(&format!("| `{code}`")),
                    "{code} in README.md"
                );
            }
        }
        for (error, code) in table {
            assert_eq!(error.code(), code, "{error}");
            assert!(
                typings.contains(&format!("| \"{code}\"")),
                "{code} in index.d.ts"
            );
            assert!(
                readme.contains(&format!("| `{code}`")),
                "{code} in README.md"
            );
        }
    }

    #[test]
    fn messages_name_what_failed_without_signatures() {
        assert_eq!(
            redact_url("https://s3/b/k?X-Amz-Signature=abc#f"),
            "https://s3/b/k"
        );
        let error = Error::MissingEtag {
            url: redact_url("https://s3/b/k?sig"),
        };
        assert!(error
            .to_string()
            .contains("Access-Control-Expose-Headers: ETag"));
        assert!(!error.to_string().contains("sig"));
        let limited = Error::RateLimited {
            method: "POST",
            url: "u".into(),
            retry_after_secs: Some(3),
            body: String::new(),
        };
        assert!(limited.to_string().ends_with("retry after 3 s"));
        assert_eq!(limited.http(), Some((429, "")));
    }

    /// Which request failed, for every kind that made one; none for the others.
    #[test]
    fn requests_are_named() {
        let http = |retry_after_secs| Error::Http {
            method: "PATCH",
            url: "https://api/rest/v1.1/x".into(),
            status: 503,
            body: String::new(),
            retry_after_secs,
        };
        let table = [
            (http(None), Some(("PATCH", "https://api/rest/v1.1/x"))),
            (
                Error::Network {
                    method: "POST",
                    url: "https://s3/b".into(),
                    message: "reset".into(),
                    cause: None,
                },
                Some(("POST", "https://s3/b")),
            ),
            (
                Error::Unauthorized {
                    method: "GET",
                    url: "https://api/me".into(),
                    body: String::new(),
                },
                Some(("GET", "https://api/me")),
            ),
            (
                Error::RateLimited {
                    method: "DELETE",
                    url: "https://api/f".into(),
                    retry_after_secs: None,
                    body: String::new(),
                },
                Some(("DELETE", "https://api/f")),
            ),
            (
                Error::MissingEtag {
                    url: "https://s3/k".into(),
                },
                Some(("PUT", "https://s3/k")),
            ),
            (Error::Aborted, None),
            (Error::InvalidInput("x".into()), None),
            (Error::Protocol("x".into()), None),
            (Error::Expired("x".into()), None),
        ];
        for (error, request) in table {
            assert_eq!(error.request(), request, "{error}");
        }
        assert!(http(None)
            .to_string()
            .starts_with("PATCH https://api/rest/v1.1/x answered 503"));
    }

    /// `retryAfterMs`: what the last answer asked, in ms; absent when it did not say
    /// and for the kinds that had no answer to say it.
    #[test]
    fn retry_after_in_milliseconds() {
        let limited = |retry_after_secs| Error::RateLimited {
            method: "GET",
            url: "u".into(),
            retry_after_secs,
            body: String::new(),
        };
        let http = |retry_after_secs| Error::Http {
            method: "GET",
            url: "u".into(),
            status: 503,
            body: String::new(),
            retry_after_secs,
        };
        let table = [
            (limited(Some(3)), Some(3000)),
            (limited(Some(0)), Some(0)),
            (limited(None), None),
            (limited(Some(u64::MAX)), Some(u64::MAX)),
            (http(Some(120)), Some(120_000)),
            (http(None), None),
            (Error::Aborted, None),
            (Error::Timeout("x".into()), None),
        ];
        for (error, ms) in table {
            assert_eq!(error.retry_after_ms(), ms, "{error:?}");
        }
    }

    /// A path is what is left of a URL without scheme, host, user info, query and
    /// fragment: never a signature or a credential.
    #[test]
    fn paths_of_urls() {
        let table = [
            (
                "https://api.procore.com/rest/v1.0/files?project_id=1",
                "/rest/v1.0/files",
            ),
            (
                "https://s3.example/bucket/key?X-Amz-Signature=abc#f",
                "/bucket/key",
            ),
            (
                "http://127.0.0.1:8080/rest/v1.1/companies/7/uploads",
                "/rest/v1.1/companies/7/uploads",
            ),
            ("https://user:secret@host.example/p/q", "/p/q"),
            ("https://host.example", "/"),
            ("https://host.example?x=1", "/"),
            ("https://host.example#top", "/"),
            ("/rest/v1.0/me?x=1", "/rest/v1.0/me"),
            ("/a://b", "/a://b"),
            ("", ""),
        ];
        for (url, path) in table {
            assert_eq!(url_path(url), path, "{url}");
        }
    }

    /// A cause rides along on the kinds that come from outside the core, never
    /// changes what an error says, and is not invented for the core's own errors.
    #[test]
    fn causes_ride_along() {
        let cause = Cause::new(42u32);
        let read = Error::file_read("gone").with_cause(cause.clone());
        assert_eq!(read.cause().and_then(Cause::downcast_ref::<u32>), Some(&42));
        assert_eq!(read.to_string(), "could not read the file: gone");
        assert_eq!(read, Error::file_read("gone").with_cause(cause.clone()));
        assert_ne!(read, Error::file_read("gone"));
        let token = Error::AccessToken {
            message: "threw".into(),
            cause: None,
        }
        .with_cause(cause.clone());
        assert!(token.cause().is_some());
        assert_eq!(token.http(), None, "no request, no status");
        assert_eq!(Error::Aborted.with_cause(cause).cause(), None);
    }

    #[test]
    fn long_bodies_are_cut() {
        let body = "é".repeat(MAX_ERROR_BODY + 10);
        let cut = truncate_body(&body);
        assert_eq!(cut.chars().count(), MAX_ERROR_BODY + 1);
        assert_eq!(truncate_body("short"), "short");
    }
}
