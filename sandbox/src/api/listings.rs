//! The read calls a portal makes beside the upload flows, in the fields Procore's
//! List Projects, List Images and List Drawing Uploads answer with: the company's
//! projects (fixed: 42, 43 and 44), and the images and drawing uploads attached in a
//! project (read from what the attach calls recorded). Each attached file's `url`
//! downloads its stored bytes from `GET /_sandbox/uploads/{uuid}/content`.

use std::collections::HashMap;

use axum::extract::{Path, Query};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::attach::{upload_file_name, Ctx};
use super::{base_url, ApiError};
use crate::state::Inner;

/// The sandbox company's projects: id, name, number.
pub const PROJECTS: [(u64, &str, &str); 3] = [
    (42, "Tower", "T-042"),
    (43, "Hospital Annex", "H-043"),
    (44, "Bridge Retrofit", "B-044"),
];

/// GET `/rest/v1.{0,1}/projects?company_id=`: the company's projects (the company
/// must be the `Procore-Company-Id`: 403 otherwise; 400 without it).
pub async fn projects(
    Ctx { caller, .. }: Ctx,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let company = query
        .get("company_id")
        .and_then(|c| c.parse::<u64>().ok())
        .filter(|&c| c > 0)
        .ok_or_else(|| ApiError::bad_request("the company_id query parameter is required"))?;
    if company != caller.company_id {
        return Err(ApiError::other_company(&caller, company, ""));
    }
    let projects: Vec<Value> = PROJECTS
        .iter()
        .map(|&(id, name, number)| {
            json!({
                "id": id,
                "name": name,
                "display_name": format!("{number} - {name}"),
                "project_number": number,
                "active": true,
                "company": { "id": company, "name": "Sandbox Construction" },
            })
        })
        .collect();
    let total = projects.len().to_string();
    Ok((
        [("Total", total.clone()), ("Per-Page", total)],
        Json(projects),
    )
        .into_response())
}

/// GET `/rest/v1.0/images?project_id=`: the images attached in the project, oldest first.
pub async fn images(
    Ctx { state, caller }: Ctx,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let project = super::attach::project_query(&query)?;
    let base = base_url(&headers);
    let inner = state.lock();
    let images: Vec<Value> = attached(&inner, "image", caller.company_id, project)
        .map(|record| {
            let uuid = record.upload_uuids.first().cloned().unwrap_or_default();
            let name = record.request["upload"]["image_name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            json!({
                "id": record.id,
                "filename": name,
                "description": record.request["image"]["description"].clone(),
                "size": stored_size(&inner, &uuid),
                "url": content_url(&base, &uuid),
                "upload_uuid": uuid,
            })
        })
        .collect();
    Ok(Json(images).into_response())
}

/// GET `/rest/v1.1/projects/{project_id}/drawing_uploads`: the drawing uploads made in
/// the project, oldest first, each with its files.
pub async fn drawing_uploads(
    Ctx { state, caller }: Ctx,
    Path(project): Path<u64>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let base = base_url(&headers);
    let inner = state.lock();
    let uploads: Vec<Value> = attached(&inner, "drawing_upload", caller.company_id, project)
        .map(|record| {
            let request = &record.request["drawing_upload"];
            let files: Vec<Value> = record
                .upload_uuids
                .iter()
                .map(|uuid| {
                    json!({
                        "upload_uuid": uuid,
                        "name": inner.uploads.get(uuid).map(upload_file_name).unwrap_or_default(),
                        "size": stored_size(&inner, uuid),
                        "url": content_url(&base, uuid),
                    })
                })
                .collect();
            json!({
                "id": record.id,
                "status": "in_queue",
                "drawing_area_id": request["drawing_area_id"].clone(),
                "drawing_set_id": request["drawing_set_id"].clone(),
                "files": files,
            })
        })
        .collect();
    Ok(Json(uploads).into_response())
}

/// The records of `kind` in `project` of `company`.
fn attached<'a>(
    inner: &'a Inner,
    kind: &'a str,
    company: u64,
    project: u64,
) -> impl Iterator<Item = &'a super::attach::Record> {
    inner.records.iter().filter(move |record| {
        record.kind == kind && record.company_id == company && record.project_id == Some(project)
    })
}

/// The upload's size as its create call gave it (v2.1 `file_size`, v1 `size` or its
/// segments' sum; null when it gave none).
fn stored_size(inner: &Inner, uuid: &str) -> Value {
    let Some(upload) = inner.uploads.get(uuid) else {
        return Value::Null;
    };
    let from_segments = || {
        upload.request["segments"].as_array().map(|segments| {
            segments
                .iter()
                .filter_map(|s| s["size"].as_u64())
                .sum::<u64>()
        })
    };
    upload
        .file
        .as_ref()
        .map(|file| file.file_size)
        .or_else(|| upload.request["size"].as_u64())
        .or_else(from_segments)
        .map_or(Value::Null, Value::from)
}

fn content_url(base: &str, uuid: &str) -> String {
    format!("{base}/_sandbox/uploads/{uuid}/content")
}
