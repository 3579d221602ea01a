//! Procore's API as one authenticated client: its headers, the 401 refresh, and
//! the 429/5xx/network retries for any method and any JSON body. The upload engine
//! calls it, and so does every other call the package makes (attaching uploads to
//! resources, the generic `request`).

// Reads values from the network and from stores: no arithmetic that can overflow,
// underflow or divide by zero (checked or saturating operations only).
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use std::future::Future;

use super::error::{redact_url, truncate_body};
use super::http::{browser_sets_itself, Body, Http, Method, Request, Response, Target, Tokens};
use super::retry::{
    backoff, classify, parse_retry_after, rate_limit_wait_secs, Class, MAX_ATTEMPTS,
};
use super::runtime::Shared;
use super::Error;

/// Authenticated calls to one company's Procore API through `http`.
pub struct ApiClient<'a, H, T> {
    /// The transport.
    pub http: &'a H,
    /// The client's tokens and its 429 hold, shared by all its calls.
    pub shared: &'a Shared<T>,
    /// E.g. `https://api.procore.com` (a trailing slash is fine).
    pub base_url: &'a str,
    /// Sent as `Procore-Company-Id`.
    pub company_id: u64,
}

/// Headers the API client sets itself: a caller may not replace them.
const OWN_HEADERS: &[&str] = &[
    "authorization",
    "procore-company-id",
    "accept",
    "content-type",
];

impl<'c, H: Http, T: Tokens> ApiClient<'c, H, T> {
    /// The full URL of `path_and_query` (which starts with `/`).
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.base_url.trim_end_matches('/'))
    }

    /// One API call with Procore's headers (and `extra` ones), retried as
    /// [`classify`] says: a fresh token once after a 401 (one refresh for all the
    /// client's requests refused that token), on 429 a hold on every API request of
    /// the client for `Retry-After` (or until `X-Rate-Limit-Reset`), backoff on 5xx
    /// and network errors. Any other answer but 2xx is an error
    /// carrying its status and body. A POST or PATCH carries an `Idempotency-Token`
    /// (the caller's, or one made here), the same on every retry
    /// ([`with_idempotency_token`]), so a retry after a lost answer never acts twice.
    pub fn call<'a>(
        &'a self,
        method: Method,
        url: &'a str,
        body: Option<String>,
        extra: &'a [(String, String)],
    ) -> impl Future<Output = Result<Response, Error>> + use<'a, 'c, H, T> {
        self.call_retrying(method, url, body, extra, true)
    }

    /// [`Self::call`], except that a network error (no answer: the request may or
    /// may not have been acted on) is returned at once, for the caller to find out
    /// what happened before it sends the request again.
    pub fn call_unless_lost<'a>(
        &'a self,
        method: Method,
        url: &'a str,
        body: Option<String>,
        extra: &'a [(String, String)],
    ) -> impl Future<Output = Result<Response, Error>> + use<'a, 'c, H, T> {
        self.call_retrying(method, url, body, extra, false)
    }

    async fn call_retrying(
        &self,
        method: Method,
        url: &str,
        body: Option<String>,
        extra: &[(String, String)],
        retry_lost: bool,
    ) -> Result<Response, Error> {
        // Made once, before the first attempt: every retry carries the same token.
        let extra = with_idempotency_token(method, extra.to_vec(), || self.http.random_token());
        let tokens = &self.shared.tokens;
        let mut refused: Option<String> = None;
        let mut refreshed = false;
        let mut attempt: u32 = 0;
        loop {
            attempt = attempt.saturating_add(1);
            // A 429 to any request of this client holds them all.
            self.shared.api_gate.pass(self.http).await?;
            let token = match refused.take() {
                Some(stale) => tokens.replace(&stale).await?,
                None => tokens.token().await?,
            };
            let mut headers = vec![
                ("Authorization".to_string(), format!("Bearer {token}")),
                (
                    "Procore-Company-Id".to_string(),
                    self.company_id.to_string(),
                ),
                ("Accept".to_string(), "application/json".to_string()),
            ];
            if body.is_some() {
                headers.push(("Content-Type".to_string(), "application/json".to_string()));
            }
            headers.extend(extra.iter().cloned());
            let request = Request {
                method,
                url: url.to_string(),
                headers,
                body: body.clone().map_or(Body::Empty, Body::Json),
                target: Target::Api,
            };
            let response = if retry_lost {
                match send_or_pause(self.http, request, &|_| {}, attempt).await? {
                    Some(response) => response,
                    None => continue,
                }
            } else {
                self.http.send(request, &|_| {}).await?
            };
            let retry_after = rate_limit_wait_secs(
                response.header("retry-after"),
                response.header("x-rate-limit-reset"),
                response.header("date"),
                self.http.wall_clock_ms() / 1000,
            );
            match classify(Target::Api, response.status, &response.body) {
                Class::Success => return Ok(response),
                Class::Unauthorized if !refreshed && tokens.can_refresh() => {
                    refreshed = true;
                    refused = Some(token);
                }
                Class::Unauthorized => {
                    return Err(Error::Unauthorized {
                        method: method.as_str(),
                        url: redact_url(url),
                        body: truncate_body(&response.body),
                    })
                }
                Class::RateLimited if attempt < MAX_ATTEMPTS => {
                    let wait = backoff(attempt, retry_after, self.http.jitter());
                    self.shared.api_gate.hold(self.http.now_ms(), wait);
                }
                Class::RateLimited => {
                    return Err(Error::RateLimited {
                        method: method.as_str(),
                        url: redact_url(url),
                        retry_after_secs: retry_after,
                        body: truncate_body(&response.body),
                    })
                }
                Class::Retryable if attempt < MAX_ATTEMPTS => {
                    pause(self.http, attempt, retry_after).await?
                }
                _ => {
                    let now_secs = self.http.wall_clock_ms() / 1000;
                    return Err(http_error(method, url, &response, now_secs));
                }
            }
        }
    }
}

/// Waits before attempt `attempt + 1`.
pub fn pause<H: Http>(
    http: &H,
    attempt: u32,
    retry_after: Option<u64>,
) -> impl Future<Output = Result<(), Error>> + use<'_, H> {
    http.sleep(backoff(attempt, retry_after, http.jitter()))
}

/// Sends `request`; after a network error that leaves attempts, waits and answers
/// `None` (try again).
pub async fn send_or_pause<H: Http>(
    http: &H,
    request: Request,
    progress: &dyn Fn(u64),
    attempt: u32,
) -> Result<Option<Response>, Error> {
    match http.send(request, progress).await {
        Ok(response) => Ok(Some(response)),
        Err(Error::Network { .. }) if attempt < MAX_ATTEMPTS => {
            pause(http, attempt, None).await?;
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

/// [`Error::Http`] for an answer nothing else explains, with the wait its
/// `Retry-After` asked for (read against the answer's `Date`, else `now_secs`, the
/// wall clock).
pub fn http_error(method: Method, url: &str, response: &Response, now_secs: u64) -> Error {
    Error::Http {
        method: method.as_str(),
        url: redact_url(url),
        status: response.status,
        body: truncate_body(&response.body),
        retry_after_secs: parse_retry_after(
            response.header("retry-after"),
            response.header("date"),
            now_secs,
        ),
    }
}

/// A caller's path for the generic `request`: it must start with `/` and name a
/// path on the API's own host, never another one (`//host`, `https://…`), never
/// climb (`..`, `.`), and carry its query in `query`, not in the path.
/// `query` pairs are percent-encoded and appended in order. Anything else is
/// [`Error::InvalidInput`].
pub fn checked_path(path: &str, query: &[(String, String)]) -> Result<String, Error> {
    let refuse = |why: &str| {
        Err(Error::InvalidInput(format!(
            "path {} {why}: give a path on the API such as \"/rest/v1.0/projects/1/rfis\"",
            super::json::quote(path)
        )))
    };
    if !path.starts_with('/') || path.starts_with("//") {
        return refuse("is not a path that starts with a single /");
    }
    if path.contains(['?', '#']) {
        return refuse("has a query or fragment (pass the query as `query`)");
    }
    if path.contains('\\') || path.chars().any(char::is_control) {
        return refuse("has a backslash or a control character");
    }
    // `.` and `..`, also percent-encoded (`%2e`), in any case.
    const CLIMBS: &[&str] = &[".", "..", "%2e", "%2e%2e", ".%2e", "%2e."];
    let climbs = path
        .split('/')
        .any(|segment| CLIMBS.iter().any(|c| segment.eq_ignore_ascii_case(c)));
    if climbs {
        return refuse("has a . or .. segment");
    }
    let mut out = path.to_string();
    for (index, (name, value)) in query.iter().enumerate() {
        out.push(if index == 0 { '?' } else { '&' });
        out.push_str(&percent_encode(name));
        out.push('=');
        out.push_str(&percent_encode(value));
    }
    Ok(out)
}

/// A caller's extra headers for the generic `request`: the client's own ones
/// (`Authorization`, `Procore-Company-Id`, `Accept`, `Content-Type`) and those a
/// browser sets itself cannot be given. Anything else passes as given.
pub fn checked_headers(headers: &[(String, String)]) -> Result<(), Error> {
    for (name, _) in headers {
        let lower = name.to_ascii_lowercase();
        if OWN_HEADERS.contains(&lower.as_str()) || browser_sets_itself(name) {
            return Err(Error::InvalidInput(format!(
                "header {} is set by the client or the browser, not by the caller",
                super::json::quote(name)
            )));
        }
        let token_char = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
        if name.is_empty() || !name.chars().all(token_char) {
            return Err(Error::InvalidInput(format!(
                "header name {} is not a valid HTTP header name",
                super::json::quote(name)
            )));
        }
    }
    Ok(())
}

/// The header that makes a create call safe to send again.
pub const IDEMPOTENCY_TOKEN: &str = "Idempotency-Token";

/// The headers of a call made on the caller's behalf: `headers` (the caller's, for
/// the generic `request`; none for the attach helpers), plus an
/// `Idempotency-Token` from `fresh_token` on a POST or PATCH that has none. Made once
/// per call, before its first attempt, so every retry sends the same token and a
/// retry after a lost answer never creates the resource twice (Procore's own SDKs
/// send one). GET, PUT and DELETE are idempotent by themselves and go without; a
/// caller's own token (in any case) is kept as given.
pub fn with_idempotency_token(
    method: Method,
    mut headers: Vec<(String, String)>,
    fresh_token: impl FnOnce() -> String,
) -> Vec<(String, String)> {
    let creates = matches!(method, Method::Post | Method::Patch);
    let given = headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case(IDEMPOTENCY_TOKEN));
    if creates && !given {
        headers.push((IDEMPOTENCY_TOKEN.to_string(), fresh_token()));
    }
    headers
}

/// Percent-encodes all but RFC 3986's unreserved characters.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(byte))
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each path and what it gets: the path with its encoded query, or the reason
    /// it is refused (nothing is sent then).
    #[test]
    fn checked_path_table() {
        let q = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        type Case = (
            &'static str,
            Vec<(String, String)>,
            Result<&'static str, &'static str>,
        );
        let table: &[Case] = &[
            (
                "/rest/v1.0/projects/1/rfis",
                q(&[]),
                Ok("/rest/v1.0/projects/1/rfis"),
            ),
            (
                "/rest/v1.0/files",
                q(&[("project_id", "42"), ("filters[name]", "a b&c")]),
                Ok("/rest/v1.0/files?project_id=42&filters%5Bname%5D=a%20b%26c"),
            ),
            ("rest/v1.0/x", q(&[]), Err("single /")),
            ("//evil.example/x", q(&[]), Err("single /")),
            ("https://evil.example/x", q(&[]), Err("single /")),
            ("/rest/../admin", q(&[]), Err(". or ..")),
            ("/rest/%2E%2E/admin", q(&[]), Err(". or ..")),
            ("/rest/./x", q(&[]), Err(". or ..")),
            ("/rest/x?y=1", q(&[]), Err("query or fragment")),
            ("/rest/x#y", q(&[]), Err("query or fragment")),
            ("/rest\\x", q(&[]), Err("backslash")),
            ("/rest/x\n", q(&[]), Err("control")),
        ];
        for (path, query, expected) in table {
            match (checked_path(path, query), expected) {
                (Ok(got), Ok(want)) => assert_eq!(&got, want),
                (Err(Error::InvalidInput(message)), Err(why)) => {
                    assert!(message.contains(why), "{path}: {message}")
                }
                (got, want) => panic!("{path}: {got:?}, expected {want:?}"),
            }
        }
    }

    /// Which calls get a fresh `Idempotency-Token`: POST and PATCH without one;
    /// the caller's headers are kept as given, in order.
    #[test]
    fn idempotency_token_table() {
        let h = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let token = ("Idempotency-Token", "fresh");
        type Headers = Vec<(String, String)>;
        let table: Vec<(Method, Headers, Headers)> = vec![
            (Method::Post, h(&[]), h(&[token])),
            (Method::Patch, h(&[]), h(&[token])),
            (Method::Get, h(&[]), h(&[])),
            (Method::Put, h(&[]), h(&[])),
            (Method::Delete, h(&[]), h(&[])),
            (
                Method::Post,
                h(&[("X-Custom", "1")]),
                h(&[("X-Custom", "1"), token]),
            ),
            (
                Method::Post,
                h(&[("Idempotency-Token", "mine")]),
                h(&[("Idempotency-Token", "mine")]),
            ),
            (
                Method::Patch,
                h(&[("idempotency-token", "mine"), ("X-Custom", "1")]),
                h(&[("idempotency-token", "mine"), ("X-Custom", "1")]),
            ),
            (
                Method::Get,
                h(&[("Idempotency-Token", "mine")]),
                h(&[("Idempotency-Token", "mine")]),
            ),
        ];
        for (method, given, expected) in table {
            let made = std::cell::Cell::new(0);
            let got = with_idempotency_token(method, given.clone(), || {
                made.set(made.get() + 1);
                "fresh".to_string()
            });
            assert_eq!(got, expected, "{method:?} {given:?}");
            let wanted = usize::from(expected.len() > given.len());
            assert_eq!(
                made.get(),
                wanted,
                "{method:?}: a token made only when sent"
            );
        }
    }

    #[test]
    fn checked_headers_table() {
        let table: &[(&str, bool)] = &[
            ("Idempotency-Token", true),
            ("X-Custom", true),
            ("Authorization", false),
            ("procore-company-id", false),
            ("Content-Type", false),
            ("Accept", false),
            ("Content-Length", false),
            ("Cookie", false),
            ("Bad Name", false),
            ("", false),
        ];
        for (name, allowed) in table {
            let result = checked_headers(&[(name.to_string(), "v".to_string())]);
            assert_eq!(result.is_ok(), *allowed, "{name}: {result:?}");
        }
    }
}
