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
        method: String,
        /// Request URL, without its query (presigned signatures stay out of logs).
        url: String,
        /// HTTP status.
        status: u16,
        /// Response body (truncated).
        body: String,
    },
    /// A request got no answer (connection refused or reset, DNS, CORS refusal).
    #[error("{method} {url} failed: {message}")]
    Network {
        /// Request method.
        method: String,
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
    /// Storage answered without a readable `ETag`.
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
    #[error("{url} answered 401: the access token was refused: {body}")]
    Unauthorized {
        /// Request URL.
        url: String,
        /// Response body (truncated).
        body: String,
    },
    /// The API kept answering 429 after the retries.
    #[error("{url} answered 429 (rate limited){}", retry_after_secs.map(|s| format!("; retry after {s} s")).unwrap_or_default())]
    RateLimited {
        /// Request URL.
        url: String,
        /// `Retry-After` of the last answer, in seconds.
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
            method: "PUT".into(),
            url: "u".into(),
            status: 500,
            body: "b".into(),
        };
        let table = [
            (Error::InvalidInput("x".into()), "INVALID_INPUT"),
            (Error::file_read("x"), "FILE_READ"),
            (Error::Aborted, "ABORTED"),
            (http, "HTTP"),
            (
                Error::Network {
                    method: "GET".into(),
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
                    url: "u".into(),
                    body: "b".into(),
                },
                "UNAUTHORIZED",
            ),
            (
                Error::RateLimited {
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
            url: "u".into(),
            retry_after_secs: Some(3),
            body: String::new(),
        };
        assert!(limited.to_string().ends_with("retry after 3 s"));
        assert_eq!(limited.http(), Some((429, "")));
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
