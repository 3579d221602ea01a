//! Procore's upload API: the URLs, the request bodies, and the responses read with
//! every field checked. Instruction URLs, fields and headers are kept exactly as
//! received (order included) and never parsed or changed.

// Reads values from the network and from stores: no arithmetic that can overflow,
// underflow or divide by zero (checked or saturating operations only).
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use super::json::Json;

use super::plan::ApiVersion;
use super::Error;

/// Where uploads are created: base URL, API version, company, project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// E.g. `https://api.procore.com` (no trailing slash needed).
    pub base_url: String,
    /// API version.
    pub version: ApiVersion,
    /// Company id (also sent as `Procore-Company-Id`).
    pub company_id: u64,
    /// Project id for project-level uploads.
    pub project_id: Option<u64>,
}

impl Scope {
    /// The Create Upload URL.
    pub fn uploads_url(&self) -> String {
        let base = self.base_url.trim_end_matches('/');
        let version = self.version.as_str();
        match (self.version, self.project_id) {
            (ApiVersion::V21, Some(project)) => {
                format!(
                    "{base}/rest/{version}/companies/{}/projects/{project}/uploads",
                    self.company_id
                )
            }
            (ApiVersion::V21, None) | (_, None) => format!(
                "{base}/rest/{version}/companies/{}/uploads",
                self.company_id
            ),
            (_, Some(project)) => format!("{base}/rest/{version}/projects/{project}/uploads"),
        }
    }

    /// The Show/Complete Upload URL of `uuid`.
    pub fn upload_url(&self, uuid: &str) -> String {
        format!(
            "{}/{}",
            self.uploads_url(),
            super::api::percent_encode(uuid)
        )
    }
}

/// What the create call says about the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMeta {
    /// File name (`response_filename` / `file_name`).
    pub name: String,
    /// Bytes.
    pub size: u64,
    /// MIME type, when known.
    pub content_type: Option<String>,
    /// v1 `attachment_content_disposition`.
    pub attachment: Option<bool>,
}

/// A segment's declared size and digests (hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentDigest {
    /// Bytes.
    pub size: u64,
    /// SHA-256, lowercase hex.
    pub sha256: String,
    /// MD5, lowercase hex, when computed.
    pub md5: Option<String>,
}

fn segments_json(segments: &[SegmentDigest]) -> Json {
    Json::Array(
        segments
            .iter()
            .map(|segment| {
                let mut out = Json::object();
                out.insert("size", segment.size);
                out.insert("sha256", segment.sha256.as_str());
                if let Some(md5) = &segment.md5 {
                    out.insert("md5", md5.as_str());
                }
                out
            })
            .collect(),
    )
}

/// The v1.0/v1.1 Create Upload body; `segments` for a segmented upload.
pub fn v1_create_body(file: &FileMeta, segments: Option<&[SegmentDigest]>) -> String {
    let mut body = Json::object();
    if !file.name.is_empty() {
        body.insert("response_filename", file.name.as_str());
    }
    if let Some(content_type) = &file.content_type {
        body.insert("response_content_type", content_type.as_str());
    }
    if let Some(attachment) = file.attachment {
        body.insert("attachment_content_disposition", attachment);
    }
    body.insert("size", file.size);
    if let Some(segments) = segments {
        body.insert("segments", segments_json(segments));
    }
    body.to_string()
}

/// The v2.1 Create Upload body.
pub fn v2_create_body(
    file: &FileMeta,
    sha256: &str,
    md5: Option<&str>,
    segments: &[SegmentDigest],
) -> String {
    let mut body = Json::object();
    body.insert("file_name", file.name.as_str());
    body.insert("file_size", file.size);
    if let Some(content_type) = &file.content_type {
        body.insert("content_type", content_type.as_str());
    }
    body.insert("sha256", sha256);
    if let Some(md5) = md5 {
        body.insert("md5", md5);
    }
    body.insert("segments", segments_json(segments));
    body.to_string()
}

/// v1 completion: `{"segments":[{"etag":…}]}` in create order.
pub fn v1_complete_body(etags: &[String]) -> String {
    let segments = etags
        .iter()
        .map(|etag| Json::object_of([("etag", etag.as_str().into())]))
        .collect::<Vec<Json>>();
    Json::object_of([("segments", Json::Array(segments))]).to_string()
}

/// v2.1 completion: `{"part_etags":[…]}`, `null` for parts not sent yet.
pub fn v2_complete_body(etags: &[Option<String>]) -> String {
    Json::object_of([("part_etags", Json::optional_strings(etags))]).to_string()
}

/// Instructions for a v1 browser form POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormInstructions {
    /// Upload id.
    pub uuid: String,
    /// Where to POST.
    pub url: String,
    /// Fields, in the order received.
    pub fields: Vec<(String, String)>,
}

/// Where and how to PUT one segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartInstruction {
    /// Presigned URL, as received.
    pub url: String,
    /// Headers to send, as received, in order.
    pub headers: Vec<(String, String)>,
}

/// A v1 segmented upload as Create Upload describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartsUpload {
    /// `uuid`.
    pub uuid: String,
    /// One per segment, in order.
    pub parts: Vec<PartInstruction>,
}

/// A v2.1 upload as Create, Show and Complete describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2Upload {
    /// `upload_id`.
    pub uuid: String,
    /// `status`: `ready`, `receiving`, `complete`, `available` or `failed`.
    pub status: String,
    /// `failure_reason`, when Procore gives one.
    pub failure_reason: Option<String>,
    /// One per segment, in order (a GET may list none once complete).
    pub parts: Vec<PartInstruction>,
}

fn parse_json(body: &str, what: &str) -> Result<Json, Error> {
    Json::parse(body)
        .map_err(|error| Error::Protocol(format!("{what}: the body is not JSON ({error})")))
}

fn object<'a>(value: &'a Json, what: &str) -> Result<&'a Json, Error> {
    value
        .as_object()
        .map(|_| value)
        .ok_or_else(|| Error::Protocol(format!("{what} is not a JSON object")))
}

fn string(map: &Json, key: &str, what: &str) -> Result<String, Error> {
    match map.get(key) {
        Some(Json::String(text)) if !text.is_empty() => Ok(text.clone()),
        Some(_) => Err(Error::Protocol(format!(
            "{what}.{key} is not a non-empty string"
        ))),
        None => Err(Error::Protocol(format!("{what} has no {key}"))),
    }
}

/// A map of opaque strings (fields or headers), order kept. Numbers are taken as
/// their text as sent; anything else is a protocol error.
fn string_pairs(value: Option<&Json>, what: &str) -> Result<Vec<(String, String)>, Error> {
    let members = match value {
        Some(Json::Object(members)) => members,
        Some(_) => return Err(Error::Protocol(format!("{what} is not a JSON object"))),
        None => return Err(Error::Protocol(format!("{what} is missing"))),
    };
    let mut pairs = Vec::with_capacity(members.len());
    for (name, value) in members {
        match value {
            Json::String(text) | Json::Number(text) => pairs.push((name.clone(), text.clone())),
            _ => return Err(Error::Protocol(format!("{what}.{name} is not a string"))),
        }
    }
    Ok(pairs)
}

/// Reads a v1 non-segmented create answer: `{uuid, url, fields}`.
pub fn parse_v1_form(body: &str) -> Result<FormInstructions, Error> {
    let value = parse_json(body, "Create Upload")?;
    let map = object(&value, "the Create Upload answer")?;
    Ok(FormInstructions {
        uuid: string(map, "uuid", "the Create Upload answer")?,
        url: string(map, "url", "the Create Upload answer")?,
        fields: string_pairs(map.get("fields"), "fields")?,
    })
}

fn parse_parts(
    value: Option<&Json>,
    expected: Option<usize>,
) -> Result<Vec<PartInstruction>, Error> {
    let items = value
        .and_then(Json::as_array)
        .ok_or_else(|| Error::Protocol("segments is missing or not an array".into()))?;
    if let Some(expected) = expected {
        if items.len() != expected {
            return Err(Error::Protocol(format!(
                "{} segment instructions for {expected} segments",
                items.len()
            )));
        }
    }
    let mut parts = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let what = format!("segments[{index}]");
        let map = object(item, &what)?;
        parts.push(PartInstruction {
            url: string(map, "url", &what)?,
            headers: string_pairs(map.get("headers"), &format!("{what}.headers"))?,
        });
    }
    Ok(parts)
}

/// Reads a v1 segmented create answer: `{uuid, segments:[{url, headers}], …}`.
pub fn parse_v1_segmented(body: &str, expected_segments: usize) -> Result<PartsUpload, Error> {
    let value = parse_json(body, "Create Upload")?;
    let map = object(&value, "the Create Upload answer")?;
    Ok(PartsUpload {
        uuid: string(map, "uuid", "the Create Upload answer")?,
        parts: parse_parts(map.get("segments"), Some(expected_segments))?,
    })
}

/// The status of a v1 upload whose bytes Procore has (after Complete Upload, or a
/// form POST).
pub const V1_COMPLETE: &str = "complete";

/// Reads the `status` of a v1 Show Upload or Complete Upload answer (`call` names
/// which, for the error message).
pub fn parse_v1_status(body: &str, call: &str) -> Result<String, Error> {
    let value = parse_json(body, call)?;
    let what = format!("the {call} answer");
    string(object(&value, &what)?, "status", &what)
}

/// Reads a v2.1 answer `{"data":{upload_id, status, failure_reason?, segments?}}`;
/// `expected_segments` when the segments must all be there (the create answer).
pub fn parse_v2(body: &str, expected_segments: Option<usize>) -> Result<V2Upload, Error> {
    let value = parse_json(body, "v2.1 upload")?;
    let data = object(&value, "the answer")?
        .get("data")
        .ok_or_else(|| Error::Protocol("the answer has no data".into()))?;
    let data = object(data, "data")?;
    let parts = match (data.get("segments"), expected_segments) {
        (None, None) => Vec::new(),
        (segments, expected) => parse_parts(segments, expected)?,
    };
    Ok(V2Upload {
        uuid: string(data, "upload_id", "data")?,
        status: string(data, "status", "data")?,
        failure_reason: data
            .get("failure_reason")
            .and_then(Json::as_str)
            .map(str::to_string),
        parts,
    })
}

/// Instruction URLs must be `https:` (or `http:` when the client allows insecure
/// storage, for local testing) and absolute.
pub fn check_storage_url(url: &str, allow_insecure: bool) -> Result<(), Error> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(Error::Protocol(format!(
            "instruction URL {} is not absolute",
            super::json::quote(url)
        )));
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let scheme = scheme.to_ascii_lowercase();
    let scheme_ok = scheme == "https" || (allow_insecure && scheme == "http");
    if !scheme_ok {
        return Err(Error::Protocol(format!(
            "instruction URL {} uses {scheme}: only https: is accepted{}",
            super::error::redact_url(url),
            if scheme == "http" {
                " (allowInsecureStorage permits http: for local testing)"
            } else {
                ""
            }
        )));
    }
    if host.is_empty() {
        return Err(Error::Protocol(format!(
            "instruction URL {} has no host",
            super::json::quote(url)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(version: ApiVersion, project_id: Option<u64>) -> Scope {
        Scope {
            base_url: "https://api.procore.com/".into(),
            version,
            company_id: 7,
            project_id,
        }
    }

    #[test]
    fn endpoint_urls() {
        use ApiVersion::*;
        let table = [
            (
                V10,
                None,
                "https://api.procore.com/rest/v1.0/companies/7/uploads",
            ),
            (
                V11,
                Some(42),
                "https://api.procore.com/rest/v1.1/projects/42/uploads",
            ),
            (
                V21,
                None,
                "https://api.procore.com/rest/v2.1/companies/7/uploads",
            ),
            (
                V21,
                Some(42),
                "https://api.procore.com/rest/v2.1/companies/7/projects/42/uploads",
            ),
        ];
        for (version, project, url) in table {
            assert_eq!(scope(version, project).uploads_url(), url);
        }
        assert_eq!(
            scope(V10, None).upload_url("01AB/x"),
            "https://api.procore.com/rest/v1.0/companies/7/uploads/01AB%2Fx"
        );
    }

    #[test]
    fn create_bodies() {
        let file = FileMeta {
            name: "a.pdf".into(),
            size: 3,
            content_type: Some("application/pdf".into()),
            attachment: Some(true),
        };
        let segments = [SegmentDigest {
            size: 3,
            sha256: "s".into(),
            md5: None,
        }];
        assert_eq!(
            v1_create_body(&file, None),
            r#"{"response_filename":"a.pdf","response_content_type":"application/pdf","attachment_content_disposition":true,"size":3}"#
        );
        assert_eq!(
            v1_create_body(&file, Some(&segments)),
            r#"{"response_filename":"a.pdf","response_content_type":"application/pdf","attachment_content_disposition":true,"size":3,"segments":[{"size":3,"sha256":"s"}]}"#
        );
        assert_eq!(
            v2_create_body(&file, "w", Some("m"), &segments),
            r#"{"file_name":"a.pdf","file_size":3,"content_type":"application/pdf","sha256":"w","md5":"m","segments":[{"size":3,"sha256":"s"}]}"#
        );
        assert_eq!(
            v1_complete_body(&["a".into()]),
            r#"{"segments":[{"etag":"a"}]}"#
        );
        assert_eq!(
            v2_complete_body(&[Some("a".into()), None]),
            r#"{"part_etags":["a",null]}"#
        );
    }

    #[test]
    fn form_fields_keep_their_order() {
        let body = r#"{"uuid":"U","url":"https://s3/b","fields":{"key":"k","Content-Type":"x","policy":"p","x-amz-signature":"s","n":5}}"#;
        let form = parse_v1_form(body).unwrap();
        let names: Vec<&str> = form.fields.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["key", "Content-Type", "policy", "x-amz-signature", "n"]
        );
        assert_eq!(form.fields[4].1, "5");
    }

    /// Each malformed answer and the error it gets.
    #[test]
    fn malformed_answers_are_protocol_errors() {
        let cases = [
            ("not json", "not JSON"),
            ("[]", "not a JSON object"),
            (r#"{"url":"u","fields":{}}"#, "has no uuid"),
            (r#"{"uuid":"U","fields":{}}"#, "has no url"),
            (r#"{"uuid":"U","url":"u"}"#, "fields is missing"),
            (
                r#"{"uuid":"U","url":"u","fields":{"a":[1]}}"#,
                "fields.a is not a string",
            ),
            (
                r#"{"uuid":"","url":"u","fields":{}}"#,
                "uuid is not a non-empty string",
            ),
        ];
        for (body, message) in cases {
            match parse_v1_form(body) {
                Err(Error::Protocol(text)) => assert!(text.contains(message), "{body}: {text}"),
                other => panic!("{body}: {other:?}"),
            }
        }
        let segmented = [
            (
                r#"{"uuid":"U","segments":[{"url":"u","headers":{}}]}"#,
                "1 segment instructions for 2",
            ),
            (
                r#"{"uuid":"U","segments":[{"url":"u"},{"url":"u","headers":{}}]}"#,
                "segments[0].headers is missing",
            ),
            (r#"{"uuid":"U"}"#, "segments is missing"),
        ];
        for (body, message) in segmented {
            match parse_v1_segmented(body, 2) {
                Err(Error::Protocol(text)) => assert!(text.contains(message), "{body}: {text}"),
                other => panic!("{body}: {other:?}"),
            }
        }
        assert!(matches!(
            parse_v2(r#"{"upload_id":"x"}"#, None),
            Err(Error::Protocol(_))
        ));
        assert!(matches!(
            parse_v2(r#"{"data":{"upload_id":"x"}}"#, None),
            Err(Error::Protocol(_))
        ));
    }

    #[test]
    fn v2_answers() {
        let created = r#"{"data":{"upload_id":"U","status":"ready","segments":[{"url":"https://s/1","url_expires_at":5,"headers":{"Content-Length":"3"}}]}}"#;
        let upload = parse_v2(created, Some(1)).unwrap();
        assert_eq!(
            upload.parts[0].headers,
            [("Content-Length".to_string(), "3".to_string())]
        );
        let available = r#"{"data":{"upload_id":"U","status":"available","segments":[]}}"#;
        assert_eq!(parse_v2(available, None).unwrap().status, "available");
        let failed =
            r#"{"data":{"upload_id":"U","status":"failed","failure_reason":"sha256 mismatch"}}"#;
        assert_eq!(
            parse_v2(failed, None).unwrap().failure_reason.as_deref(),
            Some("sha256 mismatch")
        );
        let no_segments = r#"{"data":{"upload_id":"U","status":"available"}}"#;
        assert!(parse_v2(no_segments, None).unwrap().parts.is_empty());
    }

    #[test]
    fn storage_url_schemes() {
        let table = [
            ("https://s3.amazonaws.com/b", false, true),
            ("HTTPS://s3/b", false, true),
            ("http://127.0.0.1:9000/b", false, false),
            ("http://127.0.0.1:9000/b", true, true),
            ("ftp://x/y", true, false),
            ("javascript:alert(1)", true, false),
            ("/relative", true, false),
            ("https:///nohost", false, false),
        ];
        for (url, allow, ok) in table {
            assert_eq!(
                check_storage_url(url, allow).is_ok(),
                ok,
                "{url} allow_insecure={allow}"
            );
        }
    }
}
