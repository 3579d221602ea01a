//! v2.1 unified uploads: always an S3 multipart upload; partial PATCHes; GET refreshes
//! expired part URLs and, after a processing delay, verifies the stored bytes against
//! the declared hashes before the upload becomes `available`.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use super::v1::{start_multipart, HeaderNames};
use super::validate::{self, DeclaredSegment, V2_RULES};
use super::{new_uuid, ApiError, Caller, Scope};
use crate::s3_client::Validity;
use crate::state::{now_unix, AppState, FileInfo, Segment, Status, Transfer, Upload};

/// Uploads must be associated within 24 hours (v2.1 guide).
const UPLOAD_LIFETIME_SECS: u64 = 24 * 3600;
/// v2.1 spells headers as its guide does (`Content-Length`); the set is opaque to
/// clients, which must send whatever is given.
const V2_HEADERS: HeaderNames = HeaderNames {
    sha256: "x-amz-content-sha256",
    length: "Content-Length",
    md5: "Content-MD5",
};
/// A part URL this close to expiry is replaced on GET.
const REFRESH_MARGIN_SECS: u64 = 60;

/// POST `.../uploads`.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    scope: Scope,
    body: Map<String, Value>,
) -> Result<Response, ApiError> {
    let (file, segments) = parse_create(&body)?;
    let uuid = new_uuid();
    let key = scope.key(&uuid);
    let (transfer, validity) = start_multipart(state, &key, &segments, &V2_HEADERS).await?;
    let upload = super::new_upload(scope, caller, uuid.clone(), body, Some(file), transfer);
    let out = json!({ "data": data(&upload, true) });
    state.lock().uploads.insert(uuid, upload);
    let response = (StatusCode::CREATED, Json(out)).into_response();
    Ok(super::with_validity(response, validity))
}

fn parse_create(body: &Map<String, Value>) -> Result<(FileInfo, Vec<DeclaredSegment>), ApiError> {
    let null = Value::Null;
    let field = |name: &str| body.get(name).unwrap_or(&null);
    let file_name = field("file_name")
        .as_str()
        .filter(|name| !name.is_empty())
        .ok_or_else(|| ApiError::unprocessable("file_name is required"))?
        .to_string();
    let file_size =
        validate::whole_number(field("file_size"), "file_size").map_err(ApiError::unprocessable)?;
    let content_type = match field("content_type") {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        _ => return Err(ApiError::unprocessable("content_type must be a string")),
    };
    let sha256 =
        validate::hex_digest(field("sha256"), 32, "sha256").map_err(ApiError::unprocessable)?;
    let md5 = match field("md5") {
        Value::Null => None,
        md5 => Some(validate::hex_digest(md5, 16, "md5").map_err(ApiError::unprocessable)?),
    };
    let segments = validate::parse_segments(field("segments")).map_err(ApiError::unprocessable)?;
    validate::check_segments(&segments, V2_RULES, Some(file_size))
        .map_err(ApiError::unprocessable)?;
    let file = FileInfo {
        file_name,
        file_size,
        content_type,
        sha256,
        md5,
    };
    Ok((file, segments))
}

/// GET `.../uploads/{uuid}`.
pub async fn show(state: &AppState, upload: Upload) -> Result<Response, ApiError> {
    let mut refreshed = None;
    let processed = upload.status == Status::Complete
        && upload.completed_at.is_some_and(|at| {
            at.elapsed() >= Duration::from_millis(state.config.processing_delay_ms)
        });
    if processed {
        let failure = verify_stored(state, &upload).await?;
        let mut inner = state.lock();
        if let Some(stored) = inner.uploads.get_mut(&upload.uuid) {
            stored.status = if failure.is_some() {
                Status::Failed
            } else {
                Status::Available
            };
            stored.failure = failure;
        }
    } else if matches!(upload.status, Status::Ready | Status::Receiving) {
        refreshed = refresh_expired_urls(state, &upload.uuid);
    }
    let inner = state.lock();
    let upload = inner
        .uploads
        .get(&upload.uuid)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "upload vanished"))?;
    let response = Json(json!({ "data": data(upload, false) })).into_response();
    Ok(match refreshed {
        Some(validity) => super::with_validity(response, validity),
        None => response,
    })
}

/// Re-presigns every part whose URL has expired (or is about to), keeping its headers:
/// one new set of instructions, whose validity it returns (`None`: nothing renewed).
fn refresh_expired_urls(state: &AppState, uuid: &str) -> Option<Validity> {
    let now = now_unix();
    let mut inner = state.lock();
    let ttl = inner.instruction_ttl(state.config.instruction_ttl);
    let margin = REFRESH_MARGIN_SECS.min(ttl / 2);
    let stale =
        |segment: &Segment| segment.etag.is_none() && segment.url_expires_at <= now + margin;
    let needs_renewal = inner.uploads.get(uuid).is_some_and(|upload| {
        matches!(&upload.transfer, Transfer::Multipart { segments, .. } if segments.iter().any(stale))
    });
    if !needs_renewal {
        return None;
    }
    let validity = inner.instruction_validity(state.config.instruction_ttl);
    let upload = inner.uploads.get_mut(uuid)?;
    let key = upload.key.clone();
    let Transfer::Multipart {
        multipart_id,
        segments,
    } = &mut upload.transfer
    else {
        return None;
    };
    for (index, segment) in segments.iter_mut().enumerate() {
        if stale(segment) {
            let signed: Vec<(&str, &str)> = segment
                .headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            // At most 10,000 parts (validated): the part number fits.
            let number = u16::try_from(index + 1).unwrap_or(u16::MAX);
            segment.url = state
                .s3
                .presign_upload_part(&key, multipart_id, number, &signed, validity)
                .to_string();
            segment.url_expires_at = validity.expires_at(now);
        }
    }
    Some(validity)
}

/// Reads the stored object back and compares it with what the client declared (each
/// part's SHA-256; for v2.1 also the whole file's size, SHA-256 and MD5); `Some(reason)`
/// when it differs. Storage that does not check `x-amz-content-sha256` on presigned
/// PUTs (Garage) is caught here, as S3 would have caught it at the PUT.
pub async fn verify_stored(state: &AppState, upload: &Upload) -> Result<Option<String>, ApiError> {
    let Transfer::Multipart { segments, .. } = &upload.transfer else {
        return Ok(None);
    };
    let sizes: Vec<u64> = segments.iter().map(|s| s.size).collect();
    let Some(stored) = state
        .s3
        .object_digests(&upload.key, &sizes)
        .await
        .map_err(ApiError::storage)?
    else {
        return Ok(Some("the object is missing from storage".into()));
    };
    for (index, (segment, actual)) in segments.iter().zip(&stored.range_sha256).enumerate() {
        if segment.sha256 != *actual {
            return Ok(Some(format!(
                "segment {} SHA-256 {actual} differs from the declared {}",
                index + 1,
                segment.sha256
            )));
        }
    }
    let Some(file) = &upload.file else {
        return Ok(None);
    };
    if stored.size != file.file_size {
        return Ok(Some(format!(
            "stored {} bytes, file_size is {}",
            stored.size, file.file_size
        )));
    }
    if stored.sha256 != file.sha256 {
        return Ok(Some(format!(
            "stored SHA-256 {} differs from the declared {}",
            stored.sha256, file.sha256
        )));
    }
    if file.md5.as_ref().is_some_and(|md5| *md5 != stored.md5) {
        return Ok(Some(format!(
            "stored MD5 {} differs from the declared one",
            stored.md5
        )));
    }
    Ok(None)
}

/// PATCH `.../uploads/{uuid}` with `{"part_etags": [..]}` (nulls: not sent yet).
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
        return Err(ApiError::unprocessable("not a multipart upload"));
    };
    let etags = parse_part_etags(&body, segments.len())?;
    let all: Option<Vec<String>> = etags.iter().cloned().collect();
    let already_done = matches!(
        upload.status,
        Status::Complete | Status::Available | Status::Failed
    );
    if let (Some(all), false) = (&all, already_done) {
        finish_multipart(state, &upload.key, multipart_id, all).await?;
    }
    let mut inner = state.lock();
    let stored = inner
        .uploads
        .get_mut(&upload.uuid)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "upload vanished"))?;
    if all.is_some() {
        stored.completions += 1;
    }
    if !already_done {
        if let Transfer::Multipart { segments, .. } = &mut stored.transfer {
            for (segment, etag) in segments.iter_mut().zip(&etags) {
                if etag.is_some() {
                    segment.etag = etag.clone();
                }
            }
        }
        if all.is_some() {
            stored.status = Status::Complete;
            stored.completed_at = Some(Instant::now());
        } else {
            stored.status = Status::Receiving;
        }
    }
    Ok(
        Json(json!({ "data": { "upload_id": stored.uuid, "status": stored.status } }))
            .into_response(),
    )
}

fn parse_part_etags(
    body: &Map<String, Value>,
    expected: usize,
) -> Result<Vec<Option<String>>, ApiError> {
    super::listed(
        body,
        "part_etags",
        expected,
        "an array of strings or nulls",
        "one per part, in order; null for parts not sent yet",
    )?
    .iter()
    .enumerate()
    .map(|(index, item)| match item {
        Value::Null => Ok(None),
        Value::String(etag) if !etag.trim_matches('"').is_empty() => {
            Ok(Some(etag.trim_matches('"').to_string()))
        }
        _ => Err(ApiError::unprocessable(format!(
            "part_etags[{index}] must be a string or null"
        ))),
    })
    .collect()
}

/// Completes the storage multipart upload with `etags` (part 1 first), each checked
/// against the one storage returned for that part.
pub async fn finish_multipart(
    state: &AppState,
    key: &str,
    multipart_id: &str,
    etags: &[String],
) -> Result<(), ApiError> {
    check_against_storage(state, key, multipart_id, etags).await?;
    state
        .s3
        .complete_multipart_upload(key, multipart_id, etags)
        .await
        .map_err(|error| {
            ApiError::unprocessable(format!("storage refused to complete the upload: {error}"))
        })
}

/// Every submitted ETag must be the one storage returned for that part.
async fn check_against_storage(
    state: &AppState,
    key: &str,
    multipart_id: &str,
    etags: &[String],
) -> Result<(), ApiError> {
    let parts = state
        .s3
        .list_parts(key, multipart_id)
        .await
        .map_err(ApiError::storage)?;
    for (index, etag) in etags.iter().enumerate() {
        let number = index as u32 + 1;
        match parts.iter().find(|p| p.number == number) {
            None => {
                return Err(ApiError::unprocessable(format!(
                    "part {number} was never uploaded to storage"
                )));
            }
            Some(part) if !part.etag.eq_ignore_ascii_case(etag) => {
                return Err(ApiError::unprocessable(format!(
                    "part {number}: etag {etag} does not match the {} storage returned",
                    part.etag
                )));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// The `data` object of a v2.1 answer (`created`: the create call's shape).
fn data(upload: &Upload, created: bool) -> Value {
    let file = upload.file.as_ref();
    let segments: Vec<Value> = match (&upload.transfer, &upload.status) {
        (Transfer::Multipart { segments, .. }, Status::Ready | Status::Receiving) => segments
            .iter()
            .map(|segment| {
                let headers: Map<String, Value> = segment.headers.iter().map(|(n, v)| (n.clone(), json!(v))).collect();
                json!({ "url": segment.url, "url_expires_at": segment.url_expires_at, "headers": headers })
            })
            .collect(),
        _ => Vec::new(),
    };
    let mut out = json!({
        "upload_id": upload.uuid,
        "file_name": file.map(|f| f.file_name.clone()),
        "file_size": file.map(|f| f.file_size),
        "content_type": file.and_then(|f| f.content_type.clone()),
    });
    if created {
        out["upload_expires_at"] = json!(upload.created_at + UPLOAD_LIFETIME_SECS);
    } else {
        out["sanitized_file_name"] = json!(file.map(|f| sanitize(&f.file_name)));
        out["custom_metadata"] = json!({});
    }
    out["segments"] = json!(segments);
    out["status"] = json!(upload.status);
    if let Some(failure) = &upload.failure {
        out["failure_reason"] = json!(failure);
    }
    out
}

/// File name with path separators and control characters replaced.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_control() || c == '/' || c == '\\' {
                '_'
            } else {
                c
            }
        })
        .collect()
}
