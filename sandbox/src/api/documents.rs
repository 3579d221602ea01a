//! Procore's Documents API at project level (`?project_id=`) and company level
//! (`/rest/v1.0/companies/{company_id}/…`): list the root, show a folder, create
//! folders, files (each from a finished upload) and file versions. The tree itself
//! and its rules are `crate::documents`.
//!
//! Answers have Procore's shapes (its OpenAPI as rendered in generated SDKs:
//! `Folder`, `RestV10FilesPost201Response`, `RestV10FileVersionsPost201Response`):
//! a folder with `folders` and `files` (a child folder's own children left empty, as
//! Procore's List Folders and Files describes), a file with its `file_versions`
//! (oldest first, each also naming its `upload_uuid`), a version with its `file_id`.
//! A name taken answers 422 `{"errors": {"name": ["has already been taken"]}}` (the
//! Rails form; Procore's body is not documented); other refusals `{"errors": "…"}`.
//!
//! Every create goes through the API's guard like any other, so it honours an
//! `Idempotency-Token` and takes injected faults (see `api::guard`). A file's
//! version keeps the size and digests of the upload's stored bytes as they were
//! when the file or version was made; `GET /_sandbox/documents` shows them and
//! `GET /_sandbox/file_versions/{id}/content` gives the bytes back.

use std::collections::HashMap;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use super::attach::{finished, part, record_as, text, Ctx};
use super::{json_object, ApiError, Caller};
use crate::documents::{DocError, Documents, File, Folder, NewVersion, Place, Version};
use crate::state::{now_rfc3339, AppState};

/// What every Documents handler needs: the state, the caller, whose Documents, and
/// the API's own base URL (for version URLs).
pub struct Docs {
    state: AppState,
    caller: Caller,
    place: Place,
    base: String,
}

impl axum::extract::FromRequestParts<AppState> for Docs {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, ApiError> {
        let Ctx { caller, .. } = Ctx::from_request_parts(parts, state).await?;
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
        let project_id = match params.get("company_id") {
            Some(company) => {
                if company.parse::<u64>().ok() != Some(caller.company_id) {
                    return Err(ApiError::other_company(&caller, company, " in the path"));
                }
                None
            }
            None => Some(positive_query(
                query_of(parts).get("project_id"),
                "project_id",
            )?),
        };
        let base = super::base_url(&parts.headers);
        Ok(Self {
            state: state.clone(),
            place: Place {
                company_id: caller.company_id,
                project_id,
            },
            caller,
            base,
        })
    }
}

/// The query string's parameters (the last of a repeated one).
fn query_of(parts: &axum::http::request::Parts) -> HashMap<String, String> {
    url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// A required positive integer query parameter (400 when absent or not one).
fn positive_query(value: Option<&String>, name: &str) -> Result<u64, ApiError> {
    value
        .and_then(|v| v.parse().ok())
        .filter(|&v: &u64| v > 0)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "the {name} query parameter is required (a positive integer)"
            ))
        })
}

/// How a folder is shown: `exclude_files`, `exclude_folders`,
/// `show_latest_file_version_only`.
#[derive(Debug, Clone, Copy, Default)]
struct View {
    exclude_files: bool,
    exclude_folders: bool,
    latest_only: bool,
}

impl View {
    fn parse(query: &HashMap<String, String>) -> Result<Self, ApiError> {
        let flag = |name: &str| match query.get(name).map(String::as_str) {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(other) => Err(ApiError::bad_request(format!(
                "{name} must be either true or false, got {other:?}"
            ))),
        };
        Ok(Self {
            exclude_files: flag("exclude_files")?,
            exclude_folders: flag("exclude_folders")?,
            latest_only: flag("show_latest_file_version_only")?,
        })
    }
}

/// A folder as Procore shows it; with `children`, its folders (their own children
/// left empty) and files, as `view` allows; `base` makes the versions' URLs.
fn folder_json(docs: &Documents, folder: &Folder, view: View, children: bool, base: &str) -> Value {
    let subfolders = docs.subfolders(folder.id);
    let files = docs.files_in(folder.id);
    let folders_json: Vec<Value> = if children && !view.exclude_folders {
        subfolders
            .iter()
            .map(|child| folder_json(docs, child, view, false, base))
            .collect()
    } else {
        Vec::new()
    };
    let files_json: Vec<Value> = if children && !view.exclude_files {
        files
            .iter()
            .map(|file| file_json(docs, file, view.latest_only, base))
            .collect()
    } else {
        Vec::new()
    };
    json!({
        "id": folder.id,
        "name": folder.name,
        "parent_id": folder.parent_id,
        "private": false,
        "updated_at": folder.created_at,
        "is_tracked": false,
        "tracked_folder": null,
        "name_with_path": docs.folder_path(folder.id),
        "folders": folders_json,
        "files": files_json,
        "read_only": false,
        "is_deleted": false,
        "is_recycle_bin": false,
        "has_children": !subfolders.is_empty() || !files.is_empty(),
        "has_children_files": !files.is_empty(),
        "has_children_folders": !subfolders.is_empty(),
    })
}

/// The extension Procore calls a file's `file_type` (`pdf`), empty without one.
fn file_type(name: &str) -> String {
    match name.rfind('.') {
        Some(dot) if dot > 0 => name[dot + 1..].to_ascii_lowercase(),
        _ => String::new(),
    }
}

/// A file as Procore shows it, with its versions (only the latest with
/// `latest_only`); `base` makes the versions' URLs.
fn file_json(docs: &Documents, file: &File, latest_only: bool, base: &str) -> Value {
    let versions: Vec<Value> = if latest_only {
        file.versions.last().into_iter().collect::<Vec<_>>()
    } else {
        file.versions.iter().collect()
    }
    .into_iter()
    .map(|version| version_json(file, version, base))
    .collect();
    let latest = file.versions.last();
    json!({
        "id": file.id,
        "name": file.name,
        "parent_id": file.parent_id,
        "size": latest.map_or(0, |v| v.size),
        "description": file.description,
        "updated_at": latest.map_or(file.created_at.as_str(), |v| v.created_at.as_str()),
        "created_at": file.created_at,
        "checked_out_until": null,
        "name_with_path": docs.file_path(file),
        "private": false,
        "is_tracked": false,
        "tracked_folder": null,
        "checked_out_by": null,
        "file_type": file_type(&file.name),
        "file_versions": versions,
        "legacy_id": null,
        "is_deleted": false,
    })
}

/// A file version as Procore shows it, plus the `upload_uuid` it was made from.
fn version_json(file: &File, version: &Version, base: &str) -> Value {
    let url = format!("{base}/_sandbox/file_versions/{}/content", version.id);
    let name = version.download_name.as_deref().unwrap_or(&file.name);
    json!({
        "id": version.id,
        "notes": version.notes,
        "url": url,
        "size": version.size,
        "created_at": version.created_at,
        "number": version.number,
        "created_by": null,
        "prostore_file": { "id": version.id, "name": name, "filename": name, "url": url },
        "file_id": file.id,
        "upload_uuid": version.upload_uuid,
    })
}

/// The answer to a refused change; `what` names the object (`folder`, `file`).
fn refusal(error: DocError, what: &str, place: Place) -> ApiError {
    match error {
        DocError::FolderNameTaken | DocError::FileNameTaken => ApiError::with_body(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({ "errors": { "name": ["has already been taken"] } }),
        ),
        DocError::BadName(reason) => ApiError::unprocessable(format!("{what}.name {reason}")),
        DocError::NoSuchFolder(id) => {
            ApiError::unprocessable(format!("{what}.parent_id {id} is not a folder"))
        }
        DocError::FolderElsewhere(id) => ApiError::unprocessable(format!(
            "{what}.parent_id {id} is a folder of other Documents, not of {place}"
        )),
        DocError::NoSuchFile(id) => ApiError::new(
            StatusCode::NOT_FOUND,
            format!("file {id} not found in {place}"),
        ),
    }
}

/// `object.parent_id`: absent or null (the root), or a positive integer.
fn parent_of(object: &Map<String, Value>, what: &str) -> Result<Option<u64>, ApiError> {
    match object.get("parent_id") {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_u64()
            .filter(|&id| id > 0)
            .map(Some)
            .ok_or_else(|| {
                ApiError::unprocessable(format!(
                    "{what}.parent_id must be a positive integer or null, got {value}"
                ))
            }),
    }
}

/// `object[key]`: absent or null, or a string.
fn optional_text(
    object: &Map<String, Value>,
    key: &str,
    what: &str,
) -> Result<Option<String>, ApiError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(other) => Err(ApiError::unprocessable(format!(
            "{what}.{key} must be a string, got {other}"
        ))),
    }
}

/// `object.unique_name`: absent or null (false), or a boolean.
fn unique_name(object: &Map<String, Value>) -> Result<bool, ApiError> {
    match object.get("unique_name") {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(flag)) => Ok(*flag),
        Some(other) => Err(ApiError::unprocessable(format!(
            "file.unique_name must be true or false, got {other}"
        ))),
    }
}

/// The bytes a new version takes: upload `uuid` must be a finished upload of the
/// caller (as for any attach call); its stored object is read once for its size and
/// digests.
async fn taken(
    docs: &Docs,
    uuid: &str,
    notes: Option<String>,
    download_name: Option<String>,
) -> Result<NewVersion, ApiError> {
    let upload = finished(&docs.state, &docs.caller, uuid).await?;
    let stored = docs
        .state
        .s3
        .object_digests(&upload.key, &[])
        .await
        .map_err(ApiError::storage)?
        .ok_or_else(|| ApiError::unprocessable(format!("upload {uuid} has no stored bytes")))?;
    Ok(NewVersion {
        upload_uuid: uuid.to_string(),
        key: upload.key,
        size: stored.size,
        sha256: stored.sha256,
        md5: stored.md5,
        notes,
        download_name,
    })
}

/// GET `/rest/v1.0/folders` (and the company's): the root with its folders and files.
pub async fn list_root(
    docs: Docs,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let view = View::parse(&query)?;
    let mut inner = docs.state.lock();
    let inner = &mut *inner;
    let root = inner
        .documents
        .root(&mut inner.next_record_id, docs.place, &now_rfc3339());
    let folder = inner
        .documents
        .folder(root)
        .ok_or_else(|| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the root is gone"))?;
    let answer = folder_json(&inner.documents, folder, view, true, &docs.base);
    Ok(Json(answer).into_response())
}

/// GET `/rest/v1.0/folders/{id}` (and the company's): one folder with its children.
/// 404 for an id that is no folder of these Documents.
pub async fn show_folder(
    docs: Docs,
    Path(params): Path<HashMap<String, String>>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let view = View::parse(&query)?;
    let id = params
        .get("id")
        .and_then(|id| id.parse::<u64>().ok())
        .ok_or_else(|| ApiError::bad_request("the folder id must be a positive integer"))?;
    let inner = docs.state.lock();
    let folder = inner.documents.folder_in(docs.place, id).map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("folder {id} not found in {}", docs.place),
        )
    })?;
    let answer = folder_json(&inner.documents, folder, view, true, &docs.base);
    Ok(Json(answer).into_response())
}

/// POST `/rest/v1.0/folders` (and the company's) with `{"folder": {name,
/// parent_id?, …}}`: 201 with the folder; 422 when the name is taken in the parent.
pub async fn create_folder(docs: Docs, body: axum::body::Bytes) -> Result<Response, ApiError> {
    let body = json_object(&body)?;
    let folder = part(&body, "folder")?;
    let name = text(folder, "name", "folder")?;
    let parent = parent_of(folder, "folder")?;
    let mut inner = docs.state.lock();
    let inner = &mut *inner;
    let id = inner
        .documents
        .create_folder(
            &mut inner.next_record_id,
            docs.place,
            parent,
            name,
            &now_rfc3339(),
        )
        .map_err(|error| refusal(error, "folder", docs.place))?;
    let created = inner
        .documents
        .folder(id)
        .ok_or_else(|| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the folder is gone"))?;
    let answer = folder_json(&inner.documents, created, View::default(), true, &docs.base);
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// POST `/rest/v1.0/files?project_id=` and `/rest/v1.0/companies/{id}/files` with
/// `{"file": {name, upload_uuid, parent_id?, unique_name?, description?, …}}`: a new
/// file whose first version is the upload's bytes. Also recorded in
/// `/_sandbox/attachments` (kind `project_file` or `company_file`, under the file's
/// id).
pub async fn create_file(docs: Docs, body: axum::body::Bytes) -> Result<Response, ApiError> {
    let body = json_object(&body)?;
    let file = part(&body, "file")?;
    let uuid = text(file, "upload_uuid", "file")?;
    let name = text(file, "name", "file")?;
    let parent = parent_of(file, "file")?;
    let unique = unique_name(file)?;
    let description = optional_text(file, "description", "file")?;
    crate::documents::check_name(name).map_err(|error| refusal(error, "file", docs.place))?;
    // A parent that is no folder here is refused before the bytes are read.
    if let Some(parent) = parent {
        docs.state
            .lock()
            .documents
            .folder_in(docs.place, parent)
            .map_err(|error| refusal(error, "file", docs.place))?;
    }
    let version = taken(&docs, uuid, None, None).await?;
    let mut inner = docs.state.lock();
    let inner = &mut *inner;
    let id = inner
        .documents
        .create_file(
            &mut inner.next_record_id,
            docs.place,
            parent,
            name,
            unique,
            docs.state.config.allow_duplicate_file_names,
            description,
            version,
            &now_rfc3339(),
        )
        .map_err(|error| refusal(error, "file", docs.place))?;
    let kind = if docs.place.project_id.is_some() {
        "project_file"
    } else {
        "company_file"
    };
    record_as(
        inner,
        id,
        kind,
        &docs.caller,
        docs.place.project_id,
        vec![uuid.to_string()],
        &body,
    );
    let created = inner
        .documents
        .file(id)
        .ok_or_else(|| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the file is gone"))?;
    let answer = file_json(&inner.documents, created, false, &docs.base);
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// POST `/rest/v1.0/file_versions?file_id=` (with `project_id`, or under the
/// company) with `{"file_version": {upload_uuid, notes?, name?}}`: a new version of
/// the file, 201 with it. 404 when the file is not in these Documents.
pub async fn create_file_version(
    docs: Docs,
    Query(query): Query<HashMap<String, String>>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let file_id = positive_query(query.get("file_id"), "file_id")?;
    let body = json_object(&body)?;
    let version = part(&body, "file_version")?;
    let uuid = text(version, "upload_uuid", "file_version")?;
    let notes = optional_text(version, "notes", "file_version")?;
    let download_name = optional_text(version, "name", "file_version")?;
    let known = docs
        .state
        .lock()
        .documents
        .file(file_id)
        .is_some_and(|file| file.place == docs.place);
    if !known {
        return Err(refusal(
            DocError::NoSuchFile(file_id),
            "file_version",
            docs.place,
        ));
    }
    let new = taken(&docs, uuid, notes, download_name).await?;
    let mut inner = docs.state.lock();
    let inner = &mut *inner;
    let id = inner
        .documents
        .add_version(
            &mut inner.next_record_id,
            docs.place,
            file_id,
            new,
            &now_rfc3339(),
        )
        .map_err(|error| refusal(error, "file_version", docs.place))?;
    let (file, version) = inner
        .documents
        .version(id)
        .ok_or_else(|| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the version is gone"))?;
    let answer = version_json(file, version, &docs.base);
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}
