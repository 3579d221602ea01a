//! The calls that attach an upload to a Procore resource: project and company
//! files, images, drawings and drawing uploads, accident logs. Pure functions from
//! the caller's options (camelCase, as JSON) to the request (method, path with its
//! query, JSON body), each field checked: a missing required field or one of the
//! wrong type is [`Error::InvalidInput`] and nothing is sent. Fields this module does
//! not name pass through untouched, for the many Procore fields integrators need.

use super::json::Json;

use super::http::Method;
use super::Error;

/// A call to make through [`super::api::ApiClient`].
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceCall {
    /// Method.
    pub method: Method,
    /// Path and query, starting with `/`.
    pub path: String,
    /// JSON body, when there is one.
    pub body: Option<Json>,
}

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A positive integer id.
    Id,
    /// A non-empty string (an upload uuid, a name, a number).
    Text,
    /// Any string, empty included.
    AnyText,
    /// `YYYY-MM-DD`.
    Date,
    /// An integer in `0..=max`.
    UpTo(u64),
    /// `true` or `false`.
    Bool,
    /// A non-empty list of non-empty strings (upload ids).
    TextList,
    /// A JSON object, sent as given.
    Object,
}

/// One field of a resource: its name in the caller's options, its name on the wire.
struct Field {
    js: &'static str,
    wire: &'static str,
    kind: Kind,
    required: bool,
}

const fn field(js: &'static str, wire: &'static str, kind: Kind, required: bool) -> Field {
    Field {
        js,
        wire,
        kind,
        required,
    }
}

/// Checks `value` against `kind`; `what` names it in the error.
fn check(value: &Json, kind: Kind, what: &str) -> Result<(), Error> {
    let ok = match kind {
        Kind::Id => value.as_u64().is_some_and(|n| n >= 1),
        Kind::Text => value.as_str().is_some_and(|s| !s.is_empty()),
        Kind::AnyText => matches!(value, Json::String(_)),
        Kind::Date => value.as_str().is_some_and(is_date),
        Kind::UpTo(max) => value.as_u64().is_some_and(|n| n <= max),
        Kind::Bool => value.as_bool().is_some(),
        Kind::TextList => value.as_array().is_some_and(|items| {
            !items.is_empty()
                && items
                    .iter()
                    .all(|item| item.as_str().is_some_and(|s| !s.is_empty()))
        }),
        Kind::Object => value.as_object().is_some(),
    };
    if ok {
        return Ok(());
    }
    let expected = match kind {
        Kind::Id => "a positive integer".to_string(),
        Kind::Text => "a non-empty string".to_string(),
        Kind::AnyText => "a string".to_string(),
        Kind::Date => "a date as \"YYYY-MM-DD\"".to_string(),
        Kind::UpTo(max) => format!("an integer from 0 to {max}"),
        Kind::Bool => "a boolean".to_string(),
        Kind::TextList => "a non-empty array of non-empty strings".to_string(),
        Kind::Object => "an object".to_string(),
    };
    Err(Error::InvalidInput(format!(
        "{what} must be {expected}, got {}",
        json_type(value)
    )))
}

fn json_type(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(s) if s.is_empty() => "an empty string",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// `YYYY-MM-DD` with a plausible month and day.
fn is_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let number = |part: &&str, len: usize, range: std::ops::RangeInclusive<u32>| {
        part.len() == len
            && part.bytes().all(|b| b.is_ascii_digit())
            && part.parse().is_ok_and(|n: u32| range.contains(&n))
    };
    matches!(parts.as_slice(), [y, m, d] if number(y, 4, 0..=9999) && number(m, 2, 1..=12) && number(d, 2, 1..=31))
}

/// The caller's options as a JSON object; `what` names them in errors.
fn object<'a>(input: &'a Json, what: &str) -> Result<&'a Json, Error> {
    input.as_object().map(|_| input).ok_or_else(|| {
        Error::InvalidInput(format!(
            "{what} must be an object, got {}",
            json_type(input)
        ))
    })
}

/// A required route id (`projectId`, `drawingAreaId`): a positive integer.
fn route_id(input: &Json, js: &str, what: &str) -> Result<u64, Error> {
    let value = input
        .get(js)
        .ok_or_else(|| Error::InvalidInput(format!("{what}.{js} is required")))?;
    check(value, Kind::Id, &format!("{what}.{js}"))?;
    value
        .as_u64()
        .ok_or_else(|| Error::InvalidInput(format!("{what}.{js} must be a positive integer")))
}

/// The resource object: each field of `fields` checked and renamed, the `route`
/// keys left out (they went into the path), every other key passed through as the
/// caller wrote it. An optional field given as `null` is sent as `null`.
fn resource(input: &Json, fields: &[Field], route: &[&str], what: &str) -> Result<Json, Error> {
    let mut out = Json::object();
    for field in fields {
        let name = format!("{what}.{}", field.js);
        match input.get(field.js) {
            None if field.required => {
                return Err(Error::InvalidInput(format!("{name} is required")))
            }
            None => {}
            Some(Json::Null) if !field.required => {
                out.insert(field.wire, Json::Null);
            }
            Some(value) => {
                check(value, field.kind, &name)?;
                out.insert(field.wire, value.clone());
            }
        }
    }
    for (key, value) in input.as_object().unwrap_or_default() {
        let known = fields.iter().any(|f| f.js == key) || route.contains(&key.as_str());
        if !known {
            out.insert(key, value.clone());
        }
    }
    Ok(out)
}

const FILE_FIELDS: &[Field] = &[
    field("uploadUuid", "upload_uuid", Kind::Text, true),
    field("name", "name", Kind::Text, true),
    field("parentId", "parent_id", Kind::Id, false),
    field("description", "description", Kind::AnyText, false),
    field("private", "private", Kind::Bool, false),
];

/// `createProjectFile({ projectId, uploadUuid, name, parentId?, description?,
/// private?, … })`: `POST /rest/v1.0/files?project_id=` with `{"file": {…}}`.
pub fn project_file(input: &Json) -> Result<ResourceCall, Error> {
    let what = "options";
    let input = object(input, what)?;
    let project = route_id(input, "projectId", what)?;
    let file = resource(input, FILE_FIELDS, &["projectId"], what)?;
    Ok(ResourceCall {
        method: Method::Post,
        path: format!("/rest/v1.0/files?project_id={project}"),
        body: Some(Json::object_of([("file", file)])),
    })
}

/// `createCompanyFile({ uploadUuid, name, parentId?, description?, private?, … })`:
/// `POST /rest/v1.0/companies/{company_id}/files` with `{"file": {…}}`.
pub fn company_file(company_id: u64, input: &Json) -> Result<ResourceCall, Error> {
    let what = "options";
    let file = resource(object(input, what)?, FILE_FIELDS, &[], what)?;
    Ok(ResourceCall {
        method: Method::Post,
        path: format!("/rest/v1.0/companies/{company_id}/files"),
        body: Some(Json::object_of([("file", file)])),
    })
}

const IMAGE_UPLOAD_FIELDS: &[Field] = &[
    field("uploadUuid", "uuid", Kind::Text, true),
    field("imageName", "image_name", Kind::Text, true),
    field("source", "source", Kind::AnyText, false),
];

/// `createImage({ projectId, uploadUuid, imageName, source?, image? })`:
/// `POST /rest/v1.0/images?project_id=` with the body the attachments guide shows,
/// `{"upload": {"uuid", "image_name", "source"}, "image": {…}}`; `image` (Procore's
/// own fields: `description`, `image_category_id`, `log_date`, …) is sent as given.
pub fn image(input: &Json) -> Result<ResourceCall, Error> {
    let what = "options";
    let input = object(input, what)?;
    let project = route_id(input, "projectId", what)?;
    let image = match input.get("image") {
        None => Json::object(),
        Some(value) => {
            check(value, Kind::Object, "options.image")?;
            value.clone()
        }
    };
    let upload = resource(input, IMAGE_UPLOAD_FIELDS, &["projectId", "image"], what)?;
    Ok(ResourceCall {
        method: Method::Post,
        path: format!("/rest/v1.0/images?project_id={project}"),
        body: Some(Json::object_of([("upload", upload), ("image", image)])),
    })
}

/// `listDrawingAreas(projectId)`: `GET /rest/v1.1/projects/{project_id}/drawing_areas`.
pub fn drawing_areas(project_id: u64) -> ResourceCall {
    ResourceCall {
        method: Method::Get,
        path: format!("/rest/v1.1/projects/{project_id}/drawing_areas"),
        body: None,
    }
}

const DRAWING_FIELDS: &[Field] = &[
    field("number", "number", Kind::Text, true),
    field("title", "title", Kind::AnyText, false),
];

/// `createDrawing(drawingAreaId, { number, title?, disciplineName, … })`:
/// `POST /rest/v1.1/drawing_areas/{id}/drawings` with
/// `{"drawing": {"number", "title", "drawing_discipline": {"name"}}}`.
pub fn drawing(drawing_area_id: u64, input: &Json) -> Result<ResourceCall, Error> {
    let what = "options";
    let input = object(input, what)?;
    let discipline = input
        .get("disciplineName")
        .ok_or_else(|| Error::InvalidInput("options.disciplineName is required".into()))?;
    check(discipline, Kind::Text, "options.disciplineName")?;
    let mut drawing = resource(input, DRAWING_FIELDS, &["disciplineName"], what)?;
    drawing.insert(
        "drawing_discipline",
        Json::object_of([("name", discipline.clone())]),
    );
    Ok(ResourceCall {
        method: Method::Post,
        path: format!("/rest/v1.1/drawing_areas/{drawing_area_id}/drawings"),
        body: Some(Json::object_of([("drawing", drawing)])),
    })
}

const DRAWING_IMPORT_FIELDS: &[Field] = &[
    field("uploadUuid", "upload_uuid", Kind::Text, true),
    field("drawingDate", "drawing_date", Kind::Date, true),
    field("receivedDate", "received_date", Kind::Date, false),
    field("defaultRevision", "default_revision", Kind::AnyText, false),
    field("drawingId", "drawing_id", Kind::Id, false),
];

/// `createDrawingUpload({ projectId, drawingAreaId, drawingSetId, imports: [{
/// uploadUuid, drawingDate, receivedDate?, defaultRevision?, drawingId? }] })`:
/// `POST /rest/v1.1/projects/{project_id}/drawing_uploads` with `{"drawing_upload":
/// {"drawing_area_id", "drawing_set_id", "drawing_log_imports": [{…}]}}`. Sent, as
/// every POST and PATCH, with an `Idempotency-Token` header, the same on every retry
/// ([`super::api::with_idempotency_token`]).
pub fn drawing_upload(input: &Json) -> Result<ResourceCall, Error> {
    let what = "options";
    let input = object(input, what)?;
    let project = route_id(input, "projectId", what)?;
    let area = route_id(input, "drawingAreaId", what)?;
    let set = route_id(input, "drawingSetId", what)?;
    let imports = input
        .get("imports")
        .and_then(Json::as_array)
        .filter(|imports| !imports.is_empty())
        .ok_or_else(|| {
            Error::InvalidInput("options.imports must be a non-empty array of imports".into())
        })?;
    // A loop, not a collect into Result: one GenericShunt less in the package.
    let mut checked = Vec::with_capacity(imports.len());
    for (index, item) in imports.iter().enumerate() {
        let what = format!("options.imports[{index}]");
        checked.push(resource(
            object(item, &what)?,
            DRAWING_IMPORT_FIELDS,
            &[],
            &what,
        )?);
    }
    let imports = checked;
    let mut upload = resource(
        input,
        &[],
        &["projectId", "drawingAreaId", "drawingSetId", "imports"],
        what,
    )?;
    upload.insert("drawing_area_id", area);
    upload.insert("drawing_set_id", set);
    upload.insert("drawing_log_imports", imports);
    Ok(ResourceCall {
        method: Method::Post,
        path: format!("/rest/v1.1/projects/{project}/drawing_uploads"),
        body: Some(Json::object_of([("drawing_upload", upload)])),
    })
}

const ACCIDENT_LOG_FIELDS: &[Field] = &[
    field("uploadIds", "upload_ids", Kind::TextList, true),
    field("timeHour", "time_hour", Kind::UpTo(23), true),
    field("timeMinute", "time_minute", Kind::UpTo(59), true),
    field("comments", "comments", Kind::AnyText, false),
    field("date", "date", Kind::Date, false),
    field("involvedCompany", "involved_company", Kind::AnyText, false),
    field("involvedName", "involved_name", Kind::AnyText, false),
];

/// `createAccidentLog(projectId, { uploadIds, timeHour, timeMinute, comments?,
/// date?, involvedCompany?, involvedName?, … })`:
/// `POST /rest/v1.0/projects/{project_id}/accident_logs` with `{"accident_log": {…}}`.
/// Procore's Create Accident Log requires `time_hour` (0–23) and `time_minute`; the
/// rest is optional.
pub fn accident_log(project_id: u64, input: &Json) -> Result<ResourceCall, Error> {
    let what = "options";
    let log = resource(object(input, what)?, ACCIDENT_LOG_FIELDS, &[], what)?;
    Ok(ResourceCall {
        method: Method::Post,
        path: format!("/rest/v1.0/projects/{project_id}/accident_logs"),
        body: Some(Json::object_of([("accident_log", log)])),
    })
}

/// The targets `uploadAndAttach` knows, by their key in its `target` argument.
pub const TARGETS: &[&str] = &[
    "projectFile",
    "companyFile",
    "image",
    "drawing",
    "accidentLog",
];

/// The attach call of `uploadAndAttach`: `target` names one resource
/// (`{ projectFile: {…} }`, `{ companyFile }`, `{ image }`, `{ drawing }`,
/// `{ accidentLog: { projectId, … } }`) with that call's options but the upload id,
/// which is `uuid`; a file or image name left out is the file's. A drawing target
/// takes `projectId`, `drawingAreaId`, `drawingSetId` and one import's fields
/// (`drawingDate`, …), and the file must be a PDF. Called with a placeholder uuid
/// before the upload, it checks the whole target so that a bad one sends nothing.
pub fn attach_upload(
    target: &Json,
    uuid: &str,
    file_name: &str,
    company_id: u64,
) -> Result<ResourceCall, Error> {
    let (kind, options) = target_of(target)?;
    let mut options = options.clone();
    let mut default = |key: &str, value: &str| {
        if options.get(key).is_none() {
            options.insert(key, value);
        }
    };
    match kind {
        "projectFile" | "companyFile" => default("name", file_name),
        "image" => default("imageName", file_name),
        _ => {}
    }
    let what = format!("target.{kind}");
    let refine = |error: Error| match error {
        Error::InvalidInput(message) => Error::InvalidInput(message.replacen("options", &what, 1)),
        other => other,
    };
    let uuid = Json::from(uuid);
    let call = match kind {
        "projectFile" => {
            options.insert("uploadUuid", uuid);
            project_file(&options)
        }
        "companyFile" => {
            options.insert("uploadUuid", uuid);
            company_file(company_id, &options)
        }
        "image" => {
            options.insert("uploadUuid", uuid);
            image(&options)
        }
        "drawing" => {
            check_drawing_file_name(file_name)?;
            let mut upload = Json::object();
            for key in ["projectId", "drawingAreaId", "drawingSetId"] {
                if let Some(value) = options.remove(key) {
                    upload.insert(key, value);
                }
            }
            options.insert("uploadUuid", uuid);
            upload.insert("imports", vec![options]);
            return drawing_upload(&upload).map_err(|error| match error {
                Error::InvalidInput(message) => Error::InvalidInput(
                    message
                        .replacen("options.imports[0]", &what, 1)
                        .replacen("options", &what, 1),
                ),
                other => other,
            });
        }
        _ => {
            let project = route_id(&options, "projectId", &what)?;
            options.remove("projectId");
            options.insert("uploadIds", vec![uuid]);
            accident_log(project, &options)
        }
    };
    call.map_err(refine)
}

/// The project of `target`, where its resource lives in one (the upload then goes to
/// that project unless the caller says otherwise).
pub fn target_project(target: &Json) -> Option<u64> {
    let (_, options) = target_of(target).ok()?;
    options.get("projectId").and_then(Json::as_u64)
}

/// `target`'s one key and its options.
fn target_of(target: &Json) -> Result<(&'static str, &Json), Error> {
    let map = object(target, "target")?.as_object().unwrap_or_default();
    let named = || {
        Error::InvalidInput(format!(
            "target must name one of {}, as {{ projectFile: {{ … }} }}",
            TARGETS.join(", ")
        ))
    };
    if map.len() != 1 {
        return Err(named());
    }
    let (key, options) = map.first().ok_or_else(named)?;
    let kind = TARGETS
        .iter()
        .find(|kind| **kind == key)
        .ok_or_else(named)?;
    Ok((kind, object(options, &format!("target.{kind}"))?))
}

/// Drawings must be PDFs: the drawing workflow refuses another file by its name
/// before anything is sent.
pub fn check_drawing_file_name(name: &str) -> Result<(), Error> {
    if name.to_ascii_lowercase().ends_with(".pdf") {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "drawings must be PDFs: {} does not end in .pdf",
            super::json::quote(name)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A JSON text as a value.
    fn j(text: &str) -> Json {
        Json::parse(text).unwrap()
    }

    fn ok(result: Result<ResourceCall, Error>) -> (Method, String, Json) {
        let call = result.unwrap();
        (call.method, call.path, call.body.unwrap_or(Json::Null))
    }

    fn refused(result: Result<ResourceCall, Error>) -> String {
        match result {
            Err(Error::InvalidInput(message)) => message,
            other => panic!("expected INVALID_INPUT, got {other:?}"),
        }
    }

    /// Every builder with good options: the method, the path and the exact body,
    /// unknown fields passed through as written.
    #[test]
    fn bodies_table() {
        let table: Vec<(Result<ResourceCall, Error>, Method, &str, Json)> = vec![
            (
                project_file(&j(
                    r#"{"projectId": 42, "uploadUuid": "U1", "name": "plan.pdf", "parentId": 7, "description": "", "custom_field_9": "x"}"#,
                )),
                Method::Post,
                "/rest/v1.0/files?project_id=42",
                j(
                    r#"{"file": {"upload_uuid": "U1", "name": "plan.pdf", "parent_id": 7, "description": "", "custom_field_9": "x"}}"#,
                ),
            ),
            (
                project_file(&j(
                    r#"{"projectId": 42, "uploadUuid": "U1", "name": "a", "parentId": null}"#,
                )),
                Method::Post,
                "/rest/v1.0/files?project_id=42",
                j(r#"{"file": {"upload_uuid": "U1", "name": "a", "parent_id": null}}"#),
            ),
            (
                company_file(
                    7,
                    &j(r#"{"uploadUuid": "U2", "name": "terms.pdf", "private": true}"#),
                ),
                Method::Post,
                "/rest/v1.0/companies/7/files",
                j(r#"{"file": {"upload_uuid": "U2", "name": "terms.pdf", "private": true}}"#),
            ),
            (
                image(&j(
                    r#"{"projectId": 42, "uploadUuid": "U3", "imageName": "site.png", "source": "Image from API", "image": {"description": "north wall", "image_category_id": 2}}"#,
                )),
                Method::Post,
                "/rest/v1.0/images?project_id=42",
                j(
                    r#"{"upload": {"uuid": "U3", "image_name": "site.png", "source": "Image from API"}, "image": {"description": "north wall", "image_category_id": 2}}"#,
                ),
            ),
            (
                image(&j(
                    r#"{"projectId": 42, "uploadUuid": "U3", "imageName": "site.png"}"#,
                )),
                Method::Post,
                "/rest/v1.0/images?project_id=42",
                j(r#"{"upload": {"uuid": "U3", "image_name": "site.png"}, "image": {}}"#),
            ),
            (
                Ok(drawing_areas(42)),
                Method::Get,
                "/rest/v1.1/projects/42/drawing_areas",
                Json::Null,
            ),
            (
                drawing(
                    5,
                    &j(
                        r#"{"number": "A-101", "title": "Ground floor", "disciplineName": "Architectural"}"#,
                    ),
                ),
                Method::Post,
                "/rest/v1.1/drawing_areas/5/drawings",
                j(
                    r#"{"drawing": {"number": "A-101", "title": "Ground floor", "drawing_discipline": {"name": "Architectural"}}}"#,
                ),
            ),
            (
                drawing_upload(&j(
                    r#"{"projectId": 42, "drawingAreaId": 5, "drawingSetId": 9, "imports": [
                        {"uploadUuid": "U4", "drawingDate": "2026-11-23", "receivedDate": "2026-11-24", "defaultRevision": "0", "drawingId": 11},
                        {"uploadUuid": "U5", "drawingDate": "2026-11-23"}
                    ]}"#,
                )),
                Method::Post,
                "/rest/v1.1/projects/42/drawing_uploads",
                j(
                    r#"{"drawing_upload": {"drawing_area_id": 5, "drawing_set_id": 9, "drawing_log_imports": [
                    {"upload_uuid": "U4", "drawing_date": "2026-11-23", "received_date": "2026-11-24", "default_revision": "0", "drawing_id": 11},
                    {"upload_uuid": "U5", "drawing_date": "2026-11-23"}
                ]}}"#,
                ),
            ),
            (
                accident_log(
                    42,
                    &j(
                        r#"{"timeHour": 10, "timeMinute": 15, "comments": "Minor incident near loading zone", "uploadIds": ["U6"]}"#,
                    ),
                ),
                Method::Post,
                "/rest/v1.0/projects/42/accident_logs",
                j(
                    r#"{"accident_log": {"upload_ids": ["U6"], "time_hour": 10, "time_minute": 15, "comments": "Minor incident near loading zone"}}"#,
                ),
            ),
        ];
        for (result, method, path, body) in table {
            let (got_method, got_path, got_body) = ok(result);
            assert_eq!((got_method, got_path.as_str()), (method, path));
            assert_eq!(got_body, body, "{path}");
        }
    }

    /// Each bad option and the message of the INVALID_INPUT it gets.
    #[test]
    fn refusals_table() {
        let table: Vec<(Result<ResourceCall, Error>, &str)> = vec![
            (
                project_file(&j(r#""plan""#)),
                "options must be an object, got a string",
            ),
            (
                project_file(&j(r#"{"uploadUuid": "U", "name": "a"}"#)),
                "options.projectId is required",
            ),
            (
                project_file(&j(r#"{"projectId": 0, "uploadUuid": "U", "name": "a"}"#)),
                "options.projectId must be a positive integer",
            ),
            (
                project_file(&j(r#"{"projectId": "42", "uploadUuid": "U", "name": "a"}"#)),
                "options.projectId must be a positive integer, got a string",
            ),
            (
                project_file(&j(r#"{"projectId": 42, "name": "a"}"#)),
                "options.uploadUuid is required",
            ),
            (
                project_file(&j(r#"{"projectId": 42, "uploadUuid": "", "name": "a"}"#)),
                "options.uploadUuid must be a non-empty string, got an empty string",
            ),
            (
                project_file(&j(r#"{"projectId": 42, "uploadUuid": "U"}"#)),
                "options.name is required",
            ),
            (
                project_file(&j(
                    r#"{"projectId": 42, "uploadUuid": "U", "name": "a", "parentId": 1.5}"#,
                )),
                "options.parentId must be a positive integer, got a number",
            ),
            (
                company_file(
                    7,
                    &j(r#"{"uploadUuid": "U", "name": "a", "private": "yes"}"#),
                ),
                "options.private must be a boolean",
            ),
            (
                image(&j(r#"{"projectId": 42, "uploadUuid": "U"}"#)),
                "options.imageName is required",
            ),
            (
                image(&j(
                    r#"{"projectId": 42, "uploadUuid": "U", "imageName": "a", "image": []}"#,
                )),
                "options.image must be an object, got an array",
            ),
            (
                drawing(5, &j(r#"{"number": "A-1"}"#)),
                "options.disciplineName is required",
            ),
            (
                drawing(5, &j(r#"{"disciplineName": "A"}"#)),
                "options.number is required",
            ),
            (
                drawing_upload(&j(
                    r#"{"projectId": 42, "drawingAreaId": 5, "drawingSetId": 9, "imports": []}"#,
                )),
                "options.imports must be a non-empty array",
            ),
            (
                drawing_upload(&j(
                    r#"{"projectId": 42, "drawingSetId": 9, "imports": [{"uploadUuid": "U", "drawingDate": "2026-11-23"}]}"#,
                )),
                "options.drawingAreaId is required",
            ),
            (
                drawing_upload(&j(
                    r#"{"projectId": 42, "drawingAreaId": 5, "drawingSetId": 9, "imports": [{"uploadUuid": "U"}]}"#,
                )),
                "options.imports[0].drawingDate is required",
            ),
            (
                drawing_upload(&j(
                    r#"{"projectId": 42, "drawingAreaId": 5, "drawingSetId": 9, "imports": [{"uploadUuid": "U", "drawingDate": "23/11/2026"}]}"#,
                )),
                "options.imports[0].drawingDate must be a date as \"YYYY-MM-DD\"",
            ),
            (
                drawing_upload(&j(
                    r#"{"projectId": 42, "drawingAreaId": 5, "drawingSetId": 9, "imports": [{"uploadUuid": "U", "drawingDate": "2026-13-01"}]}"#,
                )),
                "drawingDate must be a date",
            ),
            (
                drawing_upload(&j(
                    r#"{"projectId": 42, "drawingAreaId": 5, "drawingSetId": 9, "imports": ["U"]}"#,
                )),
                "options.imports[0] must be an object",
            ),
            (
                accident_log(42, &j(r#"{"timeHour": 10, "timeMinute": 15}"#)),
                "options.uploadIds is required",
            ),
            (
                accident_log(
                    42,
                    &j(r#"{"uploadIds": [], "timeHour": 10, "timeMinute": 15}"#),
                ),
                "options.uploadIds must be a non-empty array of non-empty strings",
            ),
            (
                accident_log(42, &j(r#"{"uploadIds": ["U"], "timeMinute": 15}"#)),
                "options.timeHour is required",
            ),
            (
                accident_log(42, &j(r#"{"uploadIds": ["U"], "timeHour": 10}"#)),
                "options.timeMinute is required",
            ),
            (
                accident_log(
                    42,
                    &j(r#"{"uploadIds": ["U"], "timeHour": null, "timeMinute": 15}"#),
                ),
                "options.timeHour must be an integer from 0 to 23, got null",
            ),
            (
                accident_log(
                    42,
                    &j(r#"{"uploadIds": ["U"], "timeHour": 24, "timeMinute": 0}"#),
                ),
                "options.timeHour must be an integer from 0 to 23",
            ),
            (
                accident_log(
                    42,
                    &j(r#"{"uploadIds": ["U"], "timeHour": 10, "timeMinute": -1}"#),
                ),
                "options.timeMinute must be an integer from 0 to 59",
            ),
            (
                accident_log(
                    42,
                    &j(r#"{"uploadIds": ["U"], "timeHour": 10, "timeMinute": "15"}"#),
                ),
                "options.timeMinute must be an integer from 0 to 59, got a string",
            ),
        ];
        for (result, message) in table {
            let got = refused(result);
            assert!(got.contains(message), "{got:?} should contain {message:?}");
        }
    }

    /// `uploadAndAttach`'s targets: the call each makes with the upload's id, names
    /// defaulting to the file's, and the refusals (with the target in the message).
    #[test]
    fn upload_targets_table() {
        let made = |target: Json, file: &str| attach_upload(&target, "U9", file, 7);
        let call = made(
            j(r#"{"projectFile": {"projectId": 42, "parentId": 3}}"#),
            "plan.pdf",
        )
        .unwrap();
        assert_eq!(call.path, "/rest/v1.0/files?project_id=42");
        assert_eq!(
            call.body,
            Some(j(
                r#"{"file": {"upload_uuid": "U9", "name": "plan.pdf", "parent_id": 3}}"#
            ))
        );
        let call = made(j(r#"{"companyFile": {"name": "renamed.pdf"}}"#), "plan.pdf").unwrap();
        assert_eq!(
            call.body,
            Some(j(
                r#"{"file": {"upload_uuid": "U9", "name": "renamed.pdf"}}"#
            ))
        );
        let call = made(j(r#"{"image": {"projectId": 42}}"#), "site.png").unwrap();
        assert_eq!(
            call.body,
            Some(j(
                r#"{"upload": {"uuid": "U9", "image_name": "site.png"}, "image": {}}"#
            ))
        );
        let call = made(
            j(r#"{"drawing": {"projectId": 42, "drawingAreaId": 4201, "drawingSetId": 4202, "drawingDate": "2026-11-23", "drawingId": 5}}"#),
            "A-101.pdf",
        )
        .unwrap();
        assert_eq!(call.path, "/rest/v1.1/projects/42/drawing_uploads");
        assert_eq!(
            call.body,
            Some(j(
                r#"{"drawing_upload": {"drawing_area_id": 4201, "drawing_set_id": 4202,
                "drawing_log_imports": [{"upload_uuid": "U9", "drawing_date": "2026-11-23", "drawing_id": 5}]}}"#
            ))
        );
        let call = made(
            j(r#"{"accidentLog": {"projectId": 42, "timeHour": 9, "timeMinute": 0}}"#),
            "x.jpg",
        )
        .unwrap();
        assert_eq!(call.path, "/rest/v1.0/projects/42/accident_logs");
        assert_eq!(
            call.body,
            Some(j(
                r#"{"accident_log": {"upload_ids": ["U9"], "time_hour": 9, "time_minute": 0}}"#
            ))
        );
        assert_eq!(
            target_project(&j(r#"{"image": {"projectId": 42}}"#)),
            Some(42)
        );
        assert_eq!(target_project(&j(r#"{"companyFile": {}}"#)), None);

        let refusals = [
            (j(r#"{}"#), "x.pdf", "target must name one of projectFile"),
            (
                j(r#"{"projectFile": {}, "image": {}}"#),
                "x.pdf",
                "target must name one of",
            ),
            (j(r#"{"folder": {}}"#), "x.pdf", "target must name one of"),
            (
                j(r#"{"image": 5}"#),
                "x.png",
                "target.image must be an object",
            ),
            (
                j(r#"{"projectFile": {"parentId": 3}}"#),
                "x.pdf",
                "target.projectFile.projectId is required",
            ),
            (
                j(
                    r#"{"drawing": {"projectId": 42, "drawingAreaId": 1, "drawingSetId": 2, "drawingDate": "2026-11-23"}}"#,
                ),
                "A-101.png",
                "drawings must be PDFs",
            ),
            (
                j(r#"{"drawing": {"projectId": 42, "drawingAreaId": 1, "drawingSetId": 2}}"#),
                "A-101.pdf",
                "target.drawing.drawingDate is required",
            ),
            (
                j(
                    r#"{"drawing": {"projectId": 42, "drawingSetId": 2, "drawingDate": "2026-11-23"}}"#,
                ),
                "A-101.pdf",
                "target.drawing.drawingAreaId is required",
            ),
            (
                j(r#"{"accidentLog": {"timeHour": 9}}"#),
                "x.jpg",
                "target.accidentLog.projectId is required",
            ),
            (
                j(r#"{"accidentLog": {"projectId": 42, "timeHour": 9, "timeMinute": 60}}"#),
                "x.jpg",
                "target.accidentLog.timeMinute must be an integer from 0 to 59",
            ),
            (
                j(r#"{"accidentLog": {"projectId": 42, "timeMinute": 5}}"#),
                "x.jpg",
                "target.accidentLog.timeHour is required",
            ),
            (
                j(r#"{"accidentLog": {"projectId": 42, "timeHour": 9}}"#),
                "x.jpg",
                "target.accidentLog.timeMinute is required",
            ),
        ];
        for (target, file, message) in refusals {
            match attach_upload(&target, "pending", file, 7) {
                Err(Error::InvalidInput(got)) => assert!(got.contains(message), "{target}: {got}"),
                other => panic!("{target}: {other:?}"),
            }
        }
    }

    #[test]
    fn drawings_are_pdfs() {
        for (name, ok) in [
            ("A-101.pdf", true),
            ("A-101.PDF", true),
            ("A-101.png", false),
            ("pdf", false),
            ("", false),
        ] {
            assert_eq!(check_drawing_file_name(name).is_ok(), ok, "{name}");
        }
    }

    #[test]
    fn dates() {
        for (text, ok) in [
            ("2026-11-23", true),
            ("2026-02-31", true),
            ("0001-01-01", true),
            ("2026-1-23", false),
            ("2026-00-10", false),
            ("2026-11-32", false),
            ("20261123", false),
            ("2026-11-23T00:00", false),
            ("", false),
        ] {
            assert_eq!(is_date(text), ok, "{text}");
        }
    }
}
