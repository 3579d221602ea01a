//! Command-line flags and the configuration they make.

use std::net::IpAddr;

use clap::Parser;
use serde::{Deserialize, Serialize};

/// A local Procore-compatible upload server on real S3-protocol storage.
///
/// Serves Procore's upload API (v1.0, v1.1, v2.1; company and project level) on one
/// port and an S3-compatible store on another, both on 127.0.0.1, and prints their
/// base URLs on stdout ("api: <url>", "storage: <url>"). Inspection and fault
/// injection live under /_sandbox/ on the API port.
#[derive(Parser, Debug, Clone)]
#[command(name = "procore-sandbox", version)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1", env = "SANDBOX_HOST")]
    pub host: IpAddr,

    /// Port of the Procore API; 0 picks a free port (printed on stdout).
    #[arg(long, default_value_t = 0, env = "SANDBOX_PORT")]
    pub port: u16,

    /// Port of the embedded S3 store; 0 picks a free port. Unused with --storage-endpoint.
    #[arg(long, default_value_t = 0)]
    pub storage_port: u16,

    /// An access token the API accepts (repeat for several users). Each token is one
    /// user: only the token that created an upload may complete or read it.
    #[arg(long = "token", default_values_t = [String::from("sandbox-token")])]
    pub tokens: Vec<String>,

    /// Seconds that upload instructions (presigned URLs and POST policies) stay valid.
    #[arg(long, default_value_t = 3600)]
    pub instruction_ttl: u64,

    /// Milliseconds a v2.1 upload spends "complete" (processing) before it is "available".
    #[arg(long, default_value_t = 300)]
    pub processing_delay_ms: u64,

    /// API requests allowed per rate-limit window (0 = no limit); beyond it: 429.
    #[arg(long, default_value_t = 0)]
    pub rate_limit: u32,

    /// Length of the rate-limit window in seconds.
    #[arg(long, default_value_t = 3600)]
    pub rate_limit_window: u64,

    /// Do not expose ETag to browsers in the storage's CORS answers (to test a client's
    /// handling of an unreadable ETag).
    #[arg(long)]
    pub hide_etag: bool,

    /// Folder for the embedded store's objects (default: a temporary folder removed on exit).
    #[arg(long)]
    pub data_dir: Option<std::path::PathBuf>,

    /// Presign against this external S3-compatible server (e.g. Garage) instead of the
    /// embedded store: its base URL, e.g. http://127.0.0.1:3900.
    #[arg(long, requires_all = ["storage_access_key", "storage_secret_key"])]
    pub storage_endpoint: Option<url::Url>,

    /// Bucket to store uploads in.
    #[arg(long, default_value = "procore-uploads")]
    pub storage_bucket: String,

    /// Region to sign for.
    #[arg(long, default_value = "us-east-1")]
    pub storage_region: String,

    /// Access key id for --storage-endpoint.
    #[arg(long, env = "SANDBOX_STORAGE_ACCESS_KEY")]
    pub storage_access_key: Option<String>,

    /// Secret key for --storage-endpoint.
    #[arg(long, env = "SANDBOX_STORAGE_SECRET_KEY", hide_env_values = true)]
    pub storage_secret_key: Option<String>,

    /// Let Create File (`POST /rest/v1.0/files`, `/companies/{id}/files`) without
    /// `unique_name` add a file whose name is already taken in its folder, keeping
    /// both. Procore refuses it (422, name taken), and so does the sandbox without
    /// this flag; it is for older tests that attach one file name many times.
    #[arg(long)]
    pub allow_duplicate_file_names: bool,

    /// Fault injection at start, as JSON (same shape as PUT /_sandbox/faults), e.g.
    /// '{"storage_error_rate":0.1,"storage_latency_ms":50}'.
    #[arg(long, value_parser = parse_faults)]
    pub faults: Option<Faults>,

    /// Seed for the random choices of fault injection (reproducible runs).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

fn parse_faults(json: &str) -> Result<Faults, String> {
    let faults: Faults =
        serde_json::from_str(json).map_err(|error| format!("--faults: {error}"))?;
    faults
        .check()
        .map_err(|error| format!("--faults: {error}"))?;
    Ok(faults)
}

/// An API answer given instead of the endpoint's (see `Faults::api_canned_next`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CannedAnswer {
    /// The status to answer with.
    pub status: u16,
    /// The body, sent as `application/json` whatever it holds.
    pub body: String,
}

/// API answers to drop (see `Faults::api_answer_dropped`): the requests that match
/// reach their endpoint, which does its work, then the connection is closed without a
/// byte of answer. A browser sees a network error (`TypeError` from `fetch`). Browsers
/// send a request again by themselves when a *reused* connection closes before any
/// answer, so while a rule has a count left every API answer carries
/// `Connection: close`: the request to drop then comes on a fresh connection, and the
/// client, not the browser, has to retry (a request on a connection opened before
/// the rule was set may still be resent by the browser).
///
/// Aimed with `method` and `path`, e.g. at a v1 Complete Upload and then at the Show
/// Upload a client sends to find out whether the complete happened:
///
/// ```json
/// {"api_answer_dropped": [
///   {"method": "PATCH", "path": "/rest/v1.1/projects/*/uploads/*"},
///   {"method": "GET", "path": "/rest/v1.1/projects/*/uploads/*", "next": 1}
/// ]}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DropAnswer {
    /// Only requests with this method (any case), e.g. `"PATCH"`; any method when absent.
    #[serde(default)]
    pub method: Option<String>,
    /// Only requests whose path (without the query) matches this pattern, where `*`
    /// stands for exactly one path segment, e.g. `"/rest/v1.0/companies/*/uploads/*"`;
    /// any path when absent.
    #[serde(default)]
    pub path: Option<String>,
    /// How many matching requests to drop (1 by default); counts down to 0.
    #[serde(default = "one")]
    pub next: u32,
}

fn one() -> u32 {
    1
}

impl DropAnswer {
    /// Whether a request with `method` and `path` is one this rule aims at (its count
    /// left aside).
    pub fn matches(&self, method: &str, path: &str) -> bool {
        aims_at(self.method.as_deref(), self.path.as_deref(), method, path)
    }
}

/// Whether a rule with `wanted` method and `pattern` (each "any" when absent) aims at
/// a request with `method` and `path`.
fn aims_at(wanted: Option<&str>, pattern: Option<&str>, method: &str, path: &str) -> bool {
    wanted.is_none_or(|wanted| wanted.eq_ignore_ascii_case(method))
        && pattern.is_none_or(|pattern| path_matches(pattern, path))
}

/// `path` against `pattern`, segment by segment; `*` matches any one segment.
pub fn path_matches(pattern: &str, path: &str) -> bool {
    let (mut wanted, mut got) = (pattern.split('/'), path.split('/'));
    loop {
        match (wanted.next(), got.next()) {
            (None, None) => return true,
            (Some("*"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            _ => return false,
        }
    }
}

/// What an [`AimedFault`] does to a request it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AimedKind {
    /// Answered 429 with `Retry-After` (`retry_after_secs`) before the endpoint.
    #[serde(rename = "429")]
    TooManyRequests,
    /// Answered 503 before the endpoint.
    #[serde(rename = "503")]
    Unavailable,
    /// The endpoint does its work, then the answer is replaced by a 502.
    #[serde(rename = "answer_lost")]
    AnswerLost,
    /// The endpoint does its work, then the connection closes without an answer (as
    /// [`DropAnswer`] does).
    #[serde(rename = "answer_dropped")]
    AnswerDropped,
}

/// A fault aimed at some API requests (see `Faults::api_faults`): `fault` for the
/// requests that match `method` and `path` (as in [`DropAnswer`]), each with the
/// chance `rate`, until `next` of them took it. E.g. a lost answer for about one
/// Create Folder in four, five times at most:
///
/// ```json
/// {"api_faults": [
///   {"fault": "answer_lost", "method": "POST", "path": "/rest/v1.0/folders", "next": 5, "rate": 0.25}
/// ]}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AimedFault {
    /// What happens to a request that takes this fault.
    pub fault: AimedKind,
    /// Only requests with this method (any case); any method when absent.
    #[serde(default)]
    pub method: Option<String>,
    /// Only requests whose path (without the query) matches this pattern, `*` standing
    /// for one path segment; any path when absent.
    #[serde(default)]
    pub path: Option<String>,
    /// How many requests take the fault (1 by default); counts down to 0.
    #[serde(default = "one")]
    pub next: u32,
    /// The chance (0..=1, 1 by default) that a matching request takes the fault while
    /// `next` is above 0 (random choices seeded by --seed).
    #[serde(default = "always")]
    pub rate: f64,
}

fn always() -> f64 {
    1.0
}

impl AimedFault {
    /// Whether a request with `method` and `path` is one this rule aims at (its count
    /// and rate left aside).
    pub fn matches(&self, method: &str, path: &str) -> bool {
        aims_at(self.method.as_deref(), self.path.as_deref(), method, path)
    }
}

/// Faults to inject; every field defaults to "none". Set at start with --faults or at
/// run time with PUT /_sandbox/faults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Fraction (0..=1) of client storage requests answered with `storage_error_status`.
    pub storage_error_rate: f64,
    /// Status for injected storage errors: 500 or 503 (default 503).
    pub storage_error_status: Option<u16>,
    /// When not empty, each injected storage error answers one of these statuses, picked
    /// at random (seeded by --seed), instead of `storage_error_status`. The S3 error
    /// code is SlowDown for 503, InternalError otherwise.
    pub storage_error_statuses: Vec<u16>,
    /// The next N client storage requests fail with `storage_error_status`.
    pub storage_fail_next: u32,
    /// Fraction of client storage uploads whose connection is reset mid-body.
    pub storage_reset_rate: f64,
    /// The next N client storage uploads have their connection reset mid-body.
    pub storage_reset_next: u32,
    /// Fraction of client storage uploads (PUT or form POST with a body) that stall: the
    /// body is read in full, then no answer comes; the connection is dropped when the
    /// client gives up or after `storage_stall_ms`.
    pub storage_stall_rate: f64,
    /// The next N client storage uploads with a body stall (see `storage_stall_rate`).
    pub storage_stall_next: u32,
    /// How long a stalled upload is held before its connection is dropped, in
    /// milliseconds (default 120000).
    pub storage_stall_ms: Option<u64>,
    /// Added latency on every client storage request, in milliseconds.
    pub storage_latency_ms: u64,
    /// Added latency on every API request, in milliseconds.
    pub api_latency_ms: u64,
    /// The next N API requests are answered 429 (a burst of rate limiting).
    pub api_429_next: u32,
    /// `Retry-After` seconds sent with injected 429s (default 1).
    pub retry_after_secs: Option<u64>,
    /// The next N API requests are answered 401, whatever their token.
    pub api_401_next: u32,
    /// The next N API requests are answered 503 before they reach the endpoint.
    pub api_error_next: u32,
    /// The next N API requests reach their endpoint, which does its work, but are
    /// answered 502: the client cannot know the work was done.
    pub api_answer_lost_next: u32,
    /// Rules for API answers to drop without a byte of answer, after the endpoint did
    /// its work (see [`DropAnswer`]): the first rule with a count left that matches a
    /// request (once it passed authentication and the rate limit) takes one from its
    /// count. Logged with status 0 and fault `answer dropped`.
    pub api_answer_dropped: Vec<DropAnswer>,
    /// Faults aimed at some API requests by method and path (see [`AimedFault`]): a
    /// 429, a 503, a lost answer or a dropped one, for as many matching requests as
    /// each rule counts, each with its chance; the first rule with a count left that
    /// matches and whose chance comes up takes one from its count. A request takes at
    /// most one injected fault: `api_401_next`, `api_429_next`, `api_error_next` and
    /// `api_canned_next` come before an aimed 429 or 503; an `api_answer_dropped`
    /// rule before an aimed drop or loss; an aimed drop or loss before
    /// `api_answer_lost_next`.
    pub api_faults: Vec<AimedFault>,
    /// The next API requests are answered with these, one each and in order, before
    /// they reach an endpoint: a malformed or incomplete answer, exactly as written.
    pub api_canned_next: Vec<CannedAnswer>,
    /// When set, new instructions expire after this many seconds instead of
    /// --instruction-ttl.
    pub instruction_ttl_secs: Option<u64>,
    /// The next N instruction sets handed out (by a create call of any version, or the
    /// fresh part URLs of a v2.1 Show Upload) are already expired: storage refuses them
    /// as it refuses any expired URL or policy.
    pub instructions_expired_next: u32,
}

impl Faults {
    /// Refuses settings that parse but make no sense: a rule's `rate` outside 0..=1.
    pub fn check(&self) -> Result<(), String> {
        for (index, rule) in self.api_faults.iter().enumerate() {
            if !(0.0..=1.0).contains(&rule.rate) {
                return Err(format!(
                    "api_faults[{index}].rate must be from 0 to 1, got {}",
                    rule.rate
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_rules_match_method_and_path() {
        let rule = |method: Option<&str>, path: Option<&str>| DropAnswer {
            method: method.map(str::to_string),
            path: path.map(str::to_string),
            next: 1,
        };
        let uploads = "/rest/v1.1/projects/*/uploads/*";
        let table = [
            (rule(None, None), "GET", "/anything", true),
            (rule(Some("patch"), None), "PATCH", "/x", true),
            (rule(Some("PATCH"), None), "GET", "/x", false),
            (
                rule(None, Some(uploads)),
                "GET",
                "/rest/v1.1/projects/42/uploads/U1",
                true,
            ),
            (
                rule(None, Some(uploads)),
                "GET",
                "/rest/v1.1/projects/42/uploads",
                false,
            ),
            (
                rule(None, Some(uploads)),
                "GET",
                "/rest/v1.1/projects/42/uploads/U1/x",
                false,
            ),
            (
                rule(None, Some(uploads)),
                "GET",
                "/rest/v1.0/projects/42/uploads/U1",
                false,
            ),
            (
                rule(None, Some("/rest/v1.0/files")),
                "POST",
                "/rest/v1.0/files",
                true,
            ),
            (
                rule(None, Some("/rest/v1.0/files")),
                "POST",
                "/rest/v1.0/files/",
                false,
            ),
        ];
        for (rule, method, path, expected) in table {
            assert_eq!(
                rule.matches(method, path),
                expected,
                "{rule:?} {method} {path}"
            );
        }
    }

    #[test]
    fn an_aimed_fault_reads_its_kind_and_defaults() {
        let faults: Faults = serde_json::from_str(
            r#"{"api_faults": [{"fault": "answer_lost", "path": "/rest/v1.0/folders"}]}"#,
        )
        .unwrap();
        let rule = &faults.api_faults[0];
        assert_eq!(
            (rule.fault, rule.next, rule.rate),
            (AimedKind::AnswerLost, 1, 1.0)
        );
        assert!(rule.matches("POST", "/rest/v1.0/folders"));
        assert!(rule.matches("GET", "/rest/v1.0/folders"));
        assert!(!rule.matches("POST", "/rest/v1.0/folders/3"));
        for (kind, json) in [
            (AimedKind::TooManyRequests, "\"429\""),
            (AimedKind::Unavailable, "\"503\""),
            (AimedKind::AnswerDropped, "\"answer_dropped\""),
        ] {
            assert_eq!(serde_json::from_str::<AimedKind>(json).unwrap(), kind);
        }
        for bad in [
            r#"{"api_faults": [{"path": "/x"}]}"#,
            r#"{"api_faults": [{"fault": "lost"}]}"#,
            r#"{"api_faults": [{"fault": "503", "count": 2}]}"#,
        ] {
            assert!(serde_json::from_str::<Faults>(bad).is_err(), "{bad}");
        }
        assert!(parse_faults(r#"{"api_faults": [{"fault": "503", "rate": 2}]}"#).is_err());
        assert!(parse_faults(r#"{"api_faults": [{"fault": "503", "rate": 0.5}]}"#).is_ok());
    }

    #[test]
    fn a_drop_rule_counts_one_by_default() {
        let faults: Faults =
            serde_json::from_str(r#"{"api_answer_dropped": [{"method": "POST"}]}"#).unwrap();
        assert_eq!(faults.api_answer_dropped[0].next, 1);
        assert!(
            serde_json::from_str::<Faults>(r#"{"api_answer_dropped": [{"verb": "POST"}]}"#)
                .is_err()
        );
    }
}
