//! `/_sandbox/`: inspection and fault injection for tests (no authentication).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::ApiError;
use crate::config::Faults;
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
