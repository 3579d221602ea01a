//! v1.0 and v1.1 uploads: a browser form POST (non-segmented) or an S3 multipart
//! upload with one presigned PUT per segment (segmented).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde_json::{json, Map, Value};

use super::validate::{self, DeclaredSegment, V1_MAX_SEGMENT, V1_RULES};
use super::{new_uuid, ApiError, Caller, Scope};
use crate::s3_client::Validity;
use crate::state::{now_unix, ApiVersion, AppState, Segment, Status, Transfer, Upload};

/// POST `.../uploads`.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    scope: Scope,
    body: Map<String, Value>,
) -> Result<Response, ApiError> {
    let request = CreateRequest::parse(&body, scope.version)?;
    let uuid = new_uuid();
    let key = scope.key(&uuid);
    let (transfer, validity) = match &request.segments {
        None => {
            let validity = state.instruction_validity();
            let fields =
                state
                    .s3
                    .presign_post(&key, &request.form_fields(), request.size_range(), validity);
            let url = state.s3.bucket_url().to_string();
            (Transfer::Form { url, fields }, validity)
        }
        Some(segments) => start_multipart(state, &key, segments, &V1_HEADERS).await?,
    };
    let upload = super::new_upload(scope, caller, uuid.clone(), body, None, transfer);
    let out = representation(&upload, false);
    state.lock().uploads.insert(uuid, upload);
    let response = (StatusCode::CREATED, Json(out)).into_response();
    Ok(super::with_validity(response, validity))
}

/// Starts the storage multipart upload of `key` and presigns a PUT per segment: one
/// set of instructions, with one validity.
pub async fn start_multipart(
    state: &AppState,
    key: &str,
    declared: &[DeclaredSegment],
    names: &HeaderNames,
) -> Result<(Transfer, Validity), ApiError> {
    let multipart_id = state
        .s3
        .create_multipart_upload(key)
        .await
        .map_err(ApiError::storage)?;
    // Taken only now: a create that failed above handed out no instructions.
    let validity = state.instruction_validity();
    let segments = declared
        .iter()
        .enumerate()
        .map(|(index, declared)| {
            presign_segment(
                state,
                (key, &multipart_id),
                index,
                declared,
                names,
                validity,
            )
        })
        .collect();
    let transfer = Transfer::Multipart {
        multipart_id,
        segments,
    };
    Ok((transfer, validity))
}

/// Names of the headers a part's PUT must carry, as each API version spells them.
pub struct HeaderNames {
    /// Declared SHA-256 (hex).
    pub sha256: &'static str,
    /// Byte count.
    pub length: &'static str,
    /// Declared MD5 (base64), when given.
    pub md5: &'static str,
}

/// v1's spelling (segmented-upload guide).
pub const V1_HEADERS: HeaderNames = HeaderNames {
    sha256: "x-amz-content-sha256",
    length: "content-length",
    md5: "content-md5",
};

/// A segment's presigned PUT: the SHA-256, the length and (when an MD5 was declared)
/// the MD5 headers are signed, so storage checks all three.
pub fn presign_segment(
    state: &AppState,
    (key, multipart_id): (&str, &str),
    index: usize,
    declared: &DeclaredSegment,
    names: &HeaderNames,
    validity: Validity,
) -> Segment {
    let mut headers = vec![
        (names.sha256.to_string(), declared.sha256.clone()),
        (names.length.to_string(), declared.size.to_string()),
    ];
    if let Some(md5) = &declared.md5 {
        let bytes = hex::decode(md5).unwrap_or_default();
        headers.push((
            names.md5.to_string(),
            base64::engine::general_purpose::STANDARD.encode(bytes),
        ));
    }
    let signed: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    // At most 10,000 segments (validated): the part number fits.
    let number = u16::try_from(index + 1).unwrap_or(u16::MAX);
    let url = state
        .s3
        .presign_upload_part(key, multipart_id, number, &signed, validity);
    Segment {
        size: declared.size,
        sha256: declared.sha256.clone(),
        md5: declared.md5.clone(),
        url: url.to_string(),
        url_expires_at: validity.expires_at(now_unix()),
        headers,
        etag: None,
    }
}

/// GET `.../uploads/{uuid}`.
pub async fn show(state: &AppState, mut upload: Upload) -> Result<Response, ApiError> {
    if matches!(upload.transfer, Transfer::Form { .. }) && upload.status == Status::Ready {
        // A form upload completes when storage has the object.
        if state
            .s3
            .head_object(&upload.key)
            .await
            .map_err(ApiError::storage)?
            .is_some()
        {
            upload.status = Status::Complete;
            if let Some(stored) = state.lock().uploads.get_mut(&upload.uuid) {
                stored.status = Status::Complete;
            }
        }
    }
    Ok(Json(representation(&upload, true)).into_response())
}

/// PATCH `.../uploads/{uuid}` with `{"segments":[{"etag":..}]}` in create order.
pub async fn complete(
    state: &AppState,
    upload: Upload,
    body: Map<String, Value>,
) -> Result<Response, ApiError> {
    let Transfer::Multipart {
        multipart_id,
        segments,
    } = &upload.transfer
    else {
        return Err(ApiError::unprocessable(
            "this upload is not segmented: there is nothing to complete",
        ));
    };
    let etags = parse_etags(&body, segments.len())?;
    if upload.status == Status::Failed {
        return Err(ApiError::unprocessable(
            upload.failure.clone().unwrap_or_default(),
        ));
    }
    if upload.status == Status::Complete {
        // Completing completes the storage's multipart upload, which then no longer
        // exists: S3 answers a second CompleteMultipartUpload 404 NoSuchUpload ("the
        // multipart upload might have been aborted or completed"). Procore documents
        // 400, 401, 403, 410, 422 and 503 for Complete Upload; 422 (the request is
        // understood but breaks a rule) is the one that fits, and is what this
        // sandbox answers for every other rule broken. A client must not count on a
        // second complete succeeding: after a lost answer it asks Show Upload first.
        return Err(ApiError::unprocessable(format!(
            "upload {} is already complete: it cannot be completed again",
            upload.uuid
        )));
    }
    super::v2::finish_multipart(state, &upload.key, multipart_id, &etags).await?;
    if let Some(failure) = super::v2::verify_stored(state, &upload).await? {
        if let Some(stored) = state.lock().uploads.get_mut(&upload.uuid) {
            stored.status = Status::Failed;
            stored.failure = Some(failure.clone());
        }
        return Err(ApiError::unprocessable(failure));
    }
    let mut inner = state.lock();
    let stored = inner
        .uploads
        .get_mut(&upload.uuid)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "upload vanished"))?;
    stored.status = Status::Complete;
    stored.completions += 1;
    if let Transfer::Multipart { segments, .. } = &mut stored.transfer {
        for (segment, etag) in segments.iter_mut().zip(etags) {
            segment.etag = Some(etag);
        }
    }
    Ok(Json(representation(stored, true)).into_response())
}

/// `segments[].etag`, one per created segment, quotes stripped.
fn parse_etags(body: &Map<String, Value>, expected: usize) -> Result<Vec<String>, ApiError> {
    super::listed(
        body,
        "segments",
        expected,
        "an array of {\"etag\": ...}",
        "one per created segment, in order",
    )?
    .iter()
    .enumerate()
    .map(
        |(index, item)| match item.get("etag").and_then(Value::as_str) {
            Some(etag) if !etag.trim_matches('"').is_empty() => {
                Ok(etag.trim_matches('"').to_string())
            }
            _ => Err(ApiError::unprocessable(format!(
                "segments[{index}].etag must be a non-empty string"
            ))),
        },
    )
    .collect()
}

/// The JSON Procore returns for an upload (`with_status`: GET/PATCH add `status` to
/// form uploads).
fn representation(upload: &Upload, with_status: bool) -> Value {
    match &upload.transfer {
        Transfer::Form { url, fields } => {
            let fields: Map<String, Value> =
                fields.iter().map(|(n, v)| (n.clone(), json!(v))).collect();
            let mut out = json!({ "uuid": upload.uuid, "url": url, "fields": fields });
            if with_status {
                out["status"] = json!(upload.status);
            }
            out
        }
        Transfer::Multipart { segments, .. } => {
            let segments: Vec<Value> = segments
                .iter()
                .map(|segment| {
                    let mut out = Map::new();
                    if let Some(etag) = &segment.etag {
                        out.insert("etag".into(), json!(etag));
                    }
                    if let Some(md5) = &segment.md5 {
                        out.insert("md5".into(), json!(md5));
                    }
                    out.insert("sha256".into(), json!(segment.sha256));
                    out.insert("size".into(), json!(segment.size));
                    out.insert("url".into(), json!(segment.url));
                    let headers: Map<String, Value> = segment
                        .headers
                        .iter()
                        .map(|(n, v)| (n.clone(), json!(v)))
                        .collect();
                    out.insert("headers".into(), Value::Object(headers));
                    Value::Object(out)
                })
                .collect();
            json!({ "uuid": upload.uuid, "segments": segments, "status": upload.status })
        }
    }
}

/// A v1 create request's fields, checked.
struct CreateRequest {
    response_filename: Option<String>,
    response_content_type: Option<String>,
    attachment: bool,
    size: Option<u64>,
    segments: Option<Vec<DeclaredSegment>>,
}

impl CreateRequest {
    fn parse(body: &Map<String, Value>, version: ApiVersion) -> Result<Self, ApiError> {
        let text = |name: &str| -> Result<Option<String>, ApiError> {
            match body.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(text)) => Ok(Some(text.clone())),
                Some(_) => Err(ApiError::unprocessable(format!("{name} must be a string"))),
            }
        };
        let response_filename = text("response_filename")?;
        if version == ApiVersion::V11 && response_filename.as_deref().is_none_or(str::is_empty) {
            return Err(ApiError::unprocessable(
                "response_filename is required in v1.1",
            ));
        }
        let attachment = match body.get("attachment_content_disposition") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(flag)) => *flag,
            Some(_) => {
                return Err(ApiError::unprocessable(
                    "attachment_content_disposition must be a boolean",
                ))
            }
        };
        let size = match body.get("size") {
            None | Some(Value::Null) => None,
            Some(value) => {
                Some(validate::whole_number(value, "size").map_err(ApiError::unprocessable)?)
            }
        };
        let segments = match body.get("segments") {
            None | Some(Value::Null) => None,
            Some(value) => {
                let segments = validate::parse_segments(value).map_err(ApiError::unprocessable)?;
                validate::check_segments(&segments, V1_RULES, size)
                    .map_err(ApiError::unprocessable)?;
                Some(segments)
            }
        };
        Ok(Self {
            response_filename,
            response_content_type: text("response_content_type")?,
            attachment,
            size,
            segments,
        })
    }

    /// Fields the POST policy binds, besides `key`.
    fn form_fields(&self) -> Vec<(String, String)> {
        let mut fields = Vec::new();
        if let Some(content_type) = &self.response_content_type {
            fields.push(("Content-Type".to_string(), content_type.clone()));
        }
        if let Some(filename) = &self.response_filename {
            let disposition = if self.attachment {
                "attachment"
            } else {
                "inline"
            };
            let quoted = filename.replace('\\', "\\\\").replace('"', "\\\"");
            fields.push((
                "Content-Disposition".to_string(),
                format!("{disposition}; filename=\"{quoted}\""),
            ));
        }
        fields
    }

    /// Sizes the policy accepts: exactly `size` when declared.
    fn size_range(&self) -> (u64, u64) {
        match self.size {
            Some(size) => (size, size),
            None => (0, V1_MAX_SEGMENT),
        }
    }
}
