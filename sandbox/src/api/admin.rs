//! `/_sandbox/`: inspection and fault injection for tests (no authentication).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::ApiError;
use sha2::{Digest, Sha256};

use crate::config::Faults;
use crate::documents::{Documents, File, Folder, Place, Version};
use crate::state::{AppState, Transfer};

/// The admin routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/_sandbox/health", get(health))
        .route("/_sandbox/uploads", get(list_uploads))
        .route("/_sandbox/uploads/{uuid}", get(show_upload))
        .route(
            "/_sandbox/requests",
            get(list_requests).delete(clear_requests),
        )
        .route("/_sandbox/faults", get(get_faults).put(put_faults))
        .route("/_sandbox/attachments", get(list_attachments))
        .route("/_sandbox/documents", get(documents))
        .route("/_sandbox/file_versions/{id}/content", get(version_content))
        .route("/_sandbox/uploads/{uuid}/content", get(upload_content))
}

async fn health(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(
        json!({ "ok": true, "bucket": state.s3.bucket(), "storage": state.s3.bucket_url().to_string() }),
    )
}

async fn list_uploads(State(state): State<AppState>) -> Json<serde_json::Value> {
    let inner = state.lock();
    Json(json!(inner.uploads.values().collect::<Vec<_>>()))
}

/// One upload plus what storage holds for it: size, SHA-256 and MD5 of the object
/// (and of each segment's byte range), or `null` when nothing is stored yet.
async fn show_upload(
    State(state): State<AppState>,
    Path(uuid): Path<String>,
) -> Result<Response, ApiError> {
    let upload =
        state.lock().uploads.get(&uuid).cloned().ok_or_else(|| {
            ApiError::new(StatusCode::NOT_FOUND, format!("upload {uuid} not found"))
        })?;
    let sizes: Vec<u64> = match &upload.transfer {
        Transfer::Multipart { segments, .. } => segments.iter().map(|s| s.size).collect(),
        Transfer::Form { .. } => Vec::new(),
    };
    let stored = state
        .s3
        .object_digests(&upload.key, &sizes)
        .await
        .map_err(ApiError::storage)?;
    Ok(Json(json!({ "upload": upload, "stored": stored })).into_response())
}

async fn list_requests(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(json!(state.lock().log))
}

async fn clear_requests(State(state): State<AppState>) -> StatusCode {
    state.lock().log.clear();
    StatusCode::NO_CONTENT
}

async fn get_faults(State(state): State<AppState>) -> Json<Faults> {
    Json(state.lock().faults.clone())
}

async fn put_faults(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Json<Faults>, ApiError> {
    let faults: Faults = serde_json::from_slice(&body)
        .map_err(|error| ApiError::bad_request(format!("faults: {error}")))?;
    faults
        .check()
        .map_err(|error| ApiError::bad_request(format!("faults: {error}")))?;
    state.lock().faults = faults.clone();
    Ok(Json(faults))
}

/// What attach calls created, in order.
async fn list_attachments(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(serde_json::json!(state.lock().records))
}

/// An optional positive integer query parameter (400 when given and not one).
fn optional_id(query: &HashMap<String, String>, name: &str) -> Result<Option<u64>, ApiError> {
    query
        .get(name)
        .map(|value| {
            value
                .parse::<u64>()
                .ok()
                .filter(|&id| id > 0)
                .ok_or_else(|| ApiError::bad_request(format!("{name} must be a positive integer")))
        })
        .transpose()
}

/// One version for inspection: what it was made from and the bytes it took.
fn version_facts(version: &Version) -> serde_json::Value {
    json!({
        "id": version.id,
        "number": version.number,
        "upload_uuid": version.upload_uuid,
        "notes": version.notes,
        "size": version.size,
        "sha256": version.sha256,
        "md5": version.md5,
        "created_at": version.created_at,
    })
}

/// One file for inspection, with every version.
fn file_facts(docs: &Documents, file: &File) -> serde_json::Value {
    json!({
        "id": file.id,
        "folder_id": file.parent_id,
        "name": file.name,
        "path": docs.file_path(file),
        "description": file.description,
        "version_count": file.versions.len(),
        "versions": file.versions.iter().map(version_facts).collect::<Vec<_>>(),
    })
}

/// Folder `folder` and everything under it, for inspection.
fn tree(docs: &Documents, folder: &Folder) -> serde_json::Value {
    json!({
        "id": folder.id,
        "name": folder.name,
        "path": docs.folder_path(folder.id),
        "folders": docs.subfolders(folder.id).into_iter().map(|f| tree(docs, f)).collect::<Vec<_>>(),
        "files": docs.files_in(folder.id).into_iter().map(|f| file_facts(docs, f)).collect::<Vec<_>>(),
    })
}

/// Every folder under `folder` (depth first, by name) and every file, flat.
fn flatten<'a>(
    docs: &'a Documents,
    folder: &Folder,
    folders: &mut Vec<&'a Folder>,
    files: &mut Vec<&'a File>,
) {
    files.extend(docs.files_in(folder.id));
    for child in docs.subfolders(folder.id) {
        folders.push(child);
        flatten(docs, child, folders, files);
    }
}

/// GET `/_sandbox/documents?project_id=` (project Documents) or without `project_id`
/// (company Documents), `company_id` to choose among companies (needed only when
/// several have such Documents): the whole tree (`root`), and flat lists of its
/// `folders` (the root left out) and `files` by path, each file with every version's
/// upload uuid, size, SHA-256 and MD5 of the bytes it took; and the counts. Documents
/// nobody touched yet answer `root: null` and empty lists.
async fn documents(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let company_id = optional_id(&query, "company_id")?;
    let project_id = optional_id(&query, "project_id")?;
    let inner = state.lock();
    let docs = &inner.documents;
    let places: Vec<Place> = docs
        .places()
        .into_iter()
        .filter(|place| {
            place.project_id == project_id && company_id.is_none_or(|c| c == place.company_id)
        })
        .collect();
    let place = match places.as_slice() {
        [] => {
            return Ok(Json(json!({
                "company_id": company_id,
                "project_id": project_id,
                "root": null,
                "folders": [],
                "files": [],
                "folder_count": 0,
                "file_count": 0,
                "version_count": 0,
            })))
        }
        [one] => *one,
        several => {
            let companies: Vec<String> = several.iter().map(|p| p.company_id.to_string()).collect();
            return Err(ApiError::bad_request(format!(
                "such Documents exist in companies {}: give company_id",
                companies.join(", ")
            )));
        }
    };
    let root = docs
        .existing_root(place)
        .and_then(|id| docs.folder(id))
        .ok_or_else(|| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the root is gone"))?;
    let (mut folders, mut files) = (Vec::new(), Vec::new());
    flatten(docs, root, &mut folders, &mut files);
    let folder_list: Vec<serde_json::Value> = {
        let mut listed: Vec<(String, &Folder)> = folders
            .iter()
            .map(|f| (docs.folder_path(f.id), *f))
            .collect();
        listed.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.id.cmp(&b.1.id)));
        listed
            .into_iter()
            .map(|(path, f)| json!({"id": f.id, "parent_id": f.parent_id, "name": f.name, "path": path}))
            .collect()
    };
    let file_list: Vec<serde_json::Value> = {
        let mut listed: Vec<(String, &File)> =
            files.iter().map(|f| (docs.file_path(f), *f)).collect();
        listed.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.id.cmp(&b.1.id)));
        listed
            .into_iter()
            .map(|(_, f)| file_facts(docs, f))
            .collect()
    };
    let version_count: usize = files.iter().map(|f| f.versions.len()).sum();
    Ok(Json(json!({
        "company_id": place.company_id,
        "project_id": place.project_id,
        "root": tree(docs, root),
        "folders": folder_list,
        "files": file_list,
        "folder_count": folders.len(),
        "file_count": files.len(),
        "version_count": version_count,
    })))
}

/// GET `/_sandbox/file_versions/{id}/content`: the bytes file version `id` took,
/// read back from storage (404 for no such version; 409 when the stored bytes are no
/// longer those, e.g. the upload was posted again since).
async fn version_content(
    State(state): State<AppState>,
    Path(id): Path<u64>,
) -> Result<Response, ApiError> {
    let (key, sha256, name) = {
        let inner = state.lock();
        let (file, version) = inner.documents.version(id).ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!("file version {id} not found"),
            )
        })?;
        (
            version.key.clone(),
            version.sha256.clone(),
            file.name.clone(),
        )
    };
    let bytes = stored_object(&state, &key, StatusCode::CONFLICT, || {
        format!("the bytes of file version {id} are gone")
    })
    .await?;
    if hex::encode(Sha256::digest(&bytes)) != sha256 {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("the bytes stored for file version {id} changed since it was made"),
        ));
    }
    Ok(download(bytes, &name))
}

/// GET `/_sandbox/uploads/{uuid}/content`: the bytes storage holds for upload `uuid`,
/// as a download named by its file name (404 for no such upload or nothing stored).
async fn upload_content(
    State(state): State<AppState>,
    Path(uuid): Path<String>,
) -> Result<Response, ApiError> {
    let (key, name) = {
        let inner = state.lock();
        let upload = inner.uploads.get(&uuid).ok_or_else(|| {
            ApiError::new(StatusCode::NOT_FOUND, format!("upload {uuid} not found"))
        })?;
        (upload.key.clone(), super::attach::upload_file_name(upload))
    };
    let bytes = stored_object(&state, &key, StatusCode::NOT_FOUND, || {
        format!("storage holds nothing for upload {uuid}")
    })
    .await?;
    Ok(download(bytes, &name))
}

/// The object storage holds under `key`; `status` with `missing()` when it holds none.
async fn stored_object(
    state: &AppState,
    key: &str,
    status: StatusCode,
    missing: impl FnOnce() -> String,
) -> Result<bytes::Bytes, ApiError> {
    state
        .s3
        .get_object(key)
        .await
        .map_err(ApiError::storage)?
        .ok_or_else(|| ApiError::new(status, missing()))
}

/// `bytes` as an attachment named `name`.
fn download(bytes: bytes::Bytes, name: &str) -> Response {
    let disposition = format!("attachment; filename*=UTF-8''{}", utf8_percent(name));
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// `text` percent-encoded for a header's `filename*` (RFC 5987: unreserved bytes as
/// they are, every other byte `%XX`).
fn utf8_percent(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
