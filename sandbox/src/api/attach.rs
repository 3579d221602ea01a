//! Attaching uploads to resources, as Procore's API does it: images, drawing areas,
//! drawings and drawing uploads, accident logs and incidents (which can also be
//! deleted: Procore's Delete Incident answers 204). Project and company files live
//! in Documents (`api::documents`), which records them here too.
//!
//! Every referenced upload must exist in the caller's company, belong to the caller
//! and be finished (v1: stored; v2.1: `available`); a drawing upload's files must be
//! PDFs by name. Answers are 201 with the documented shape, or 422 with an `errors`
//! body. (A repeated `Idempotency-Token` gets the first answer again from the API's
//! guard, as every create call does: see `api::idempotent`.) Everything attached (and not deleted since) is listed by
//! `GET /_sandbox/attachments`.

use std::collections::HashMap;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::{json_object, ApiError, Caller};
use crate::state::{ApiVersion, AppState, Inner, Status, Transfer, Upload};

/// One resource created by an attach call.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    /// Its id.
    pub id: u64,
    /// `project_file`, `company_file`, `image`, `drawing`, `drawing_upload`,
    /// `accident_log`, `incident`.
    pub kind: &'static str,
    /// Company.
    pub company_id: u64,
    /// Project, where the resource lives in one.
    pub project_id: Option<u64>,
    /// The uploads it holds.
    pub upload_uuids: Vec<String>,
    /// The request body, as received.
    pub request: Value,
}

/// The drawing area every sandbox project has (Procore projects have theirs).
pub fn drawing_area_id(project_id: u64) -> u64 {
    project_id * 100 + 1
}

/// The one drawing set of every sandbox project.
pub fn drawing_set_id(project_id: u64) -> u64 {
    project_id * 100 + 2
}

/// A created resource's answer: 201 with `answer`. (A repeated `Idempotency-Token`
/// never gets here: the API's guard replays the first answer, see `api::idempotent`.)
async fn created<F>(create: F) -> Result<Response, ApiError>
where
    F: std::future::Future<Output = Result<Value, ApiError>>,
{
    Ok((StatusCode::CREATED, Json(create.await?)).into_response())
}

/// The object under `key` of a request body (400 when it is not one).
pub(super) fn part<'a>(
    body: &'a Map<String, Value>,
    key: &str,
) -> Result<&'a Map<String, Value>, ApiError> {
    body.get(key)
        .and_then(Value::as_object)
        .ok_or_else(|| ApiError::bad_request(format!("the body must have a {key:?} object")))
}

pub(super) fn text<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    what: &str,
) -> Result<&'a str, ApiError> {
    object
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::unprocessable(format!("{what}.{key} is required")))
}

fn id(object: &Map<String, Value>, key: &str, what: &str) -> Result<u64, ApiError> {
    object
        .get(key)
        .and_then(Value::as_u64)
        .filter(|&n| n > 0)
        .ok_or_else(|| ApiError::unprocessable(format!("{what}.{key} must be a positive integer")))
}

/// An integer in `0..=max` (an hour, a minute).
fn up_to(object: &Map<String, Value>, key: &str, max: u64, what: &str) -> Result<u64, ApiError> {
    object
        .get(key)
        .and_then(Value::as_u64)
        .filter(|&n| n <= max)
        .ok_or_else(|| {
            ApiError::unprocessable(format!("{what}.{key} must be an integer from 0 to {max}"))
        })
}

/// `object[key]`, absent or a list of upload uuids (strings).
fn uuids(object: &Map<String, Value>, key: &str, what: &str) -> Result<Vec<String>, ApiError> {
    let Some(value) = object.get(key) else {
        return Ok(Vec::new());
    };
    value
        .as_array()
        .and_then(|items| {
            items
                .iter()
                .map(|item| item.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
        })
        .ok_or_else(|| ApiError::unprocessable(format!("{what}.{key} must be an array of strings")))
}

/// `YYYY-MM-DD`.
fn date(object: &Map<String, Value>, key: &str, what: &str) -> Result<(), ApiError> {
    let ok = object.get(key).and_then(Value::as_str).is_some_and(|d| {
        d.len() == 10
            && d.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            })
    });
    if ok {
        Ok(())
    } else {
        Err(ApiError::unprocessable(format!(
            "{what}.{key} must be a date as YYYY-MM-DD"
        )))
    }
}

/// `project_id` from the query.
pub(super) fn project_query(query: &HashMap<String, String>) -> Result<u64, ApiError> {
    query
        .get("project_id")
        .and_then(|p| p.parse().ok())
        .filter(|&p: &u64| p > 0)
        .ok_or_else(|| ApiError::bad_request("the project_id query parameter is required"))
}

/// [`finished_upload`] for each of `uuids`: their file names, in order.
async fn finished_uploads(
    state: &AppState,
    caller: &Caller,
    uuids: &[String],
) -> Result<Vec<String>, ApiError> {
    let mut names = Vec::with_capacity(uuids.len());
    for uuid in uuids {
        names.push(finished_upload(state, caller, uuid).await?);
    }
    Ok(names)
}

/// Checks that `uuid` names a finished upload of the caller in its company, and
/// answers its file name.
async fn finished_upload(
    state: &AppState,
    caller: &Caller,
    uuid: &str,
) -> Result<String, ApiError> {
    let upload = finished(state, caller, uuid).await?;
    Ok(upload_file_name(&upload))
}

/// An upload's file name: v2.1's `file_name`, v1's `response_filename` ("" without).
pub(super) fn upload_file_name(upload: &Upload) -> String {
    match &upload.file {
        Some(file) => file.file_name.clone(),
        None => upload
            .request
            .get("response_filename")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    }
}

/// The upload `uuid` when it is a finished upload of the caller in its company (v1:
/// stored; v2.1: `available`); 422 otherwise.
pub(super) async fn finished(
    state: &AppState,
    caller: &Caller,
    uuid: &str,
) -> Result<Upload, ApiError> {
    let upload = state
        .lock()
        .uploads
        .get(uuid)
        .filter(|u| u.company_id == caller.company_id)
        .cloned()
        .ok_or_else(|| ApiError::unprocessable(format!("upload {uuid} does not exist")))?;
    if upload.owner != caller.token {
        return Err(ApiError::unprocessable(format!(
            "upload {uuid} belongs to another user"
        )));
    }
    let finished = match (&upload.transfer, upload.api_version, upload.status.clone()) {
        (_, ApiVersion::V21, status) => status == Status::Available,
        (Transfer::Form { .. }, _, Status::Complete) => true,
        // A form upload is finished once storage has the object, asked or not.
        (Transfer::Form { .. }, _, Status::Ready) => state
            .s3
            .head_object(&upload.key)
            .await
            .map_err(ApiError::storage)?
            .is_some(),
        (Transfer::Multipart { .. }, _, status) => status == Status::Complete,
        _ => false,
    };
    if !finished {
        return Err(ApiError::unprocessable(format!(
            "upload {uuid} is not finished (status {:?})",
            upload.status
        )));
    }
    Ok(upload)
}

/// Stores a record and answers its id.
fn record(
    state: &AppState,
    kind: &'static str,
    caller: &Caller,
    project_id: Option<u64>,
    upload_uuids: Vec<String>,
    request: &Map<String, Value>,
) -> u64 {
    let mut inner = state.lock();
    inner.next_record_id += 1;
    let id = inner.next_record_id;
    record_as(
        &mut inner,
        id,
        kind,
        caller,
        project_id,
        upload_uuids,
        request,
    );
    id
}

/// Stores a record under `id`, an id given out already (a Documents file's).
pub(super) fn record_as(
    inner: &mut Inner,
    id: u64,
    kind: &'static str,
    caller: &Caller,
    project_id: Option<u64>,
    upload_uuids: Vec<String>,
    request: &Map<String, Value>,
) {
    inner.records.push(Record {
        id,
        kind,
        company_id: caller.company_id,
        project_id,
        upload_uuids,
        request: Value::Object(request.clone()),
    });
}

/// What every attach handler needs: the state and the authenticated caller (put
/// there by the API's guard).
pub struct Ctx {
    pub(super) state: AppState,
    pub(super) caller: Caller,
}

impl axum::extract::FromRequestParts<AppState> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, ApiError> {
        let caller = parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "not authenticated"))?;
        Ok(Self {
            state: state.clone(),
            caller,
        })
    }
}

/// POST `/rest/v1.0/images?project_id=` with `{"upload": {uuid, image_name,
/// source}, "image": {…}}`.
pub async fn image(
    Ctx { state, caller }: Ctx,
    Query(query): Query<HashMap<String, String>>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let project = project_query(&query)?;
    let body = json_object(&body)?;
    created(async {
        let upload = part(&body, "upload")?;
        let uuid = text(upload, "uuid", "upload")?;
        let name = text(upload, "image_name", "upload")?;
        let image = body.get("image").cloned().unwrap_or_else(|| json!({}));
        finished_upload(&state, &caller, uuid).await?;
        let id = record(
            &state,
            "image",
            &caller,
            Some(project),
            vec![uuid.into()],
            &body,
        );
        Ok(json!({
            "id": id,
            "filename": name,
            "description": image.get("description").cloned().unwrap_or(Value::Null),
        }))
    })
    .await
}

/// GET `/rest/v1.1/projects/{project_id}/drawing_areas`.
pub async fn drawing_areas(_: Ctx, Path(project_id): Path<u64>) -> Result<Response, ApiError> {
    Ok(Json(json!([{
        "id": drawing_area_id(project_id),
        "name": "Sandbox drawings",
        "drawing_set_id": drawing_set_id(project_id),
    }]))
    .into_response())
}

/// The project of a sandbox drawing area id.
fn area_project(area: u64) -> Result<u64, ApiError> {
    if area % 100 == 1 && area > 100 {
        Ok(area / 100)
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("drawing area {area} not found"),
        ))
    }
}

/// POST `/rest/v1.1/drawing_areas/{id}/drawings` with `{"drawing": {number, title,
/// drawing_discipline: {name}}}`.
pub async fn drawing(
    Ctx { state, caller }: Ctx,
    Path(area): Path<u64>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let project = area_project(area)?;
    let body = json_object(&body)?;
    created(async {
        let drawing = part(&body, "drawing")?;
        let number = text(drawing, "number", "drawing")?;
        let discipline = drawing
            .get("drawing_discipline")
            .and_then(Value::as_object)
            .ok_or_else(|| ApiError::unprocessable("drawing.drawing_discipline is required"))?;
        let discipline = text(discipline, "name", "drawing.drawing_discipline")?;
        let id = record(&state, "drawing", &caller, Some(project), Vec::new(), &body);
        Ok(json!({
            "id": id,
            "number": number,
            "title": drawing.get("title").cloned().unwrap_or(Value::Null),
            "discipline": { "name": discipline },
            "drawing_area_id": area,
        }))
    })
    .await
}

/// POST `/rest/v1.1/projects/{project_id}/drawing_uploads`: every import's upload
/// finished and a PDF; answers `status: "in_queue"`.
pub async fn drawing_upload(
    Ctx { state, caller }: Ctx,
    Path(project): Path<u64>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let body = json_object(&body)?;
    created(async {
        let upload = part(&body, "drawing_upload")?;
        let area = id(upload, "drawing_area_id", "drawing_upload")?;
        let set = id(upload, "drawing_set_id", "drawing_upload")?;
        if area != drawing_area_id(project) || set != drawing_set_id(project) {
            return Err(ApiError::unprocessable(format!(
                "drawing area {area} / set {set} are not in project {project}"
            )));
        }
        let imports = upload
            .get("drawing_log_imports")
            .and_then(Value::as_array)
            .filter(|imports| !imports.is_empty())
            .ok_or_else(|| {
                ApiError::unprocessable(
                    "drawing_upload.drawing_log_imports must be a non-empty array",
                )
            })?;
        let mut uuids = Vec::new();
        for (index, item) in imports.iter().enumerate() {
            let what = format!("drawing_log_imports[{index}]");
            let item = item
                .as_object()
                .ok_or_else(|| ApiError::unprocessable(format!("{what} must be an object")))?;
            let uuid = text(item, "upload_uuid", &what)?;
            date(item, "drawing_date", &what)?;
            let name = finished_upload(&state, &caller, uuid).await?;
            if !name.to_ascii_lowercase().ends_with(".pdf") {
                return Err(ApiError::unprocessable(format!(
                    "upload {uuid} ({name:?}) is not a PDF: drawings must be PDFs"
                )));
            }
            uuids.push(uuid.to_string());
        }
        let id = record(
            &state,
            "drawing_upload",
            &caller,
            Some(project),
            uuids,
            &body,
        );
        Ok(json!({
            "id": id,
            "status": "in_queue",
            "drawing_area_id": area,
            "drawing_set_id": set,
        }))
    })
    .await
}

/// POST `/rest/v1.0/projects/{project_id}/accident_logs` with `{"accident_log":
/// {time_hour, time_minute, …, upload_ids}}` (Procore's Create Accident Log requires
/// the hour and the minute).
pub async fn accident_log(
    Ctx { state, caller }: Ctx,
    Path(project): Path<u64>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let body = json_object(&body)?;
    created(async {
        let log = part(&body, "accident_log")?;
        up_to(log, "time_hour", 23, "accident_log")?;
        up_to(log, "time_minute", 59, "accident_log")?;
        let ids = uuids(log, "upload_ids", "accident_log")?;
        let attachments: Vec<Value> = finished_uploads(&state, &caller, &ids)
            .await?
            .into_iter()
            .map(|name| json!({ "name": name, "filename": name }))
            .collect();
        let id = record(&state, "accident_log", &caller, Some(project), ids, &body);
        let mut answer = log.clone();
        answer.remove("upload_ids");
        answer.insert("id".into(), json!(id));
        answer.insert("attachments".into(), Value::Array(attachments));
        Ok(Value::Object(answer))
    })
    .await
}

/// POST `/rest/v1.0/projects/{project_id}/incidents` with `{"incident": {…,
/// upload_uuids}}` (every field optional, as in Procore's Create Incident): the
/// incident with its `id` and `attachments`.
pub async fn incident(
    Ctx { state, caller }: Ctx,
    Path(project): Path<u64>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let body = json_object(&body)?;
    created(async {
        let incident = part(&body, "incident")?;
        let ids = uuids(incident, "upload_uuids", "incident")?;
        let attachments: Vec<Value> = finished_uploads(&state, &caller, &ids)
            .await?
            .into_iter()
            .map(|name| json!({ "name": name }))
            .collect();
        let id = record(&state, "incident", &caller, Some(project), ids, &body);
        let mut answer = incident.clone();
        answer.remove("upload_uuids");
        answer.insert("id".into(), json!(id));
        answer.insert("deleted_at".into(), Value::Null);
        answer.insert("attachments".into(), Value::Array(attachments));
        Ok(Value::Object(answer))
    })
    .await
}

/// DELETE `/rest/v1.0/projects/{project_id}/incidents/{id}`: 204 with no body, as
/// Procore's Delete Incident (which sends it to the recycle bin); the incident leaves
/// `/_sandbox/attachments`. 404 for an id that is not an incident of this project in
/// the caller's company (also one already deleted).
pub async fn delete_incident(
    Ctx { state, caller }: Ctx,
    Path((project, id)): Path<(u64, u64)>,
) -> Result<Response, ApiError> {
    let mut inner = state.lock();
    let index = inner
        .records
        .iter()
        .position(|r| {
            r.id == id
                && r.kind == "incident"
                && r.company_id == caller.company_id
                && r.project_id == Some(project)
        })
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!("incident {id} not found in project {project}"),
            )
        })?;
    inner.records.remove(index);
    Ok(StatusCode::NO_CONTENT.into_response())
}
