//! The calls that attach an upload to a Procore resource: project and company
//! files, images, drawings and drawing uploads, accident logs. Pure functions from
//! the caller's options (camelCase, as JSON) to the request (method, path with its
//! query, JSON body), each field checked: a missing required field, one of the wrong
//! type, or a key the call does not know (`parentID` for `parentId`) is
//! [`Error::InvalidInput`] and nothing is sent. Procore fields the library does not
//! name go in one explicit object, `procoreFields`, sent under the resource as written.

use super::json::Json;

use super::http::Method;
use super::options::check_keys;
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
    /// Checked and placed by the call itself (a discipline, a list of imports).
    Own,
}

/// One field of a resource: its name in the caller's options, its name on the wire
/// (empty for an id that goes into the path), what it holds, whether it is required.
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

/// The one key of every attach call's options beside the named fields: Procore's
/// own fields, sent under the resource as written.
const PROCORE_FIELDS: &str = "procoreFields";

/// What an unknown key's error adds: where a field the library does not name goes.
const PROCORE_HINT: &str = "Procore's own fields go in procoreFields";

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
        Kind::Own => true,
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
        Kind::Object | Kind::Own => "an object".to_string(),
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

/// A route id (`projectId`, `drawingAreaId`) [`resource`] checked (required, a
/// positive integer): never absent once it has.
fn route_id(input: &Json, js: &str) -> u64 {
    input.get(js).and_then(Json::as_u64).unwrap_or_default()
}

/// The keys of an object, in order.
fn keys_of(input: &Json) -> Vec<&str> {
    let members = input.as_object().unwrap_or_default();
    let mut keys = Vec::with_capacity(members.len());
    for (key, _) in members {
        keys.push(key.as_str());
    }
    keys
}

/// The caller's options checked against `fields`: every key one of theirs or, for a
/// resource with a body, `procoreFields` (checked first: a misspelled key explains
/// a missing field), each
/// field of its kind, the required ones there. Answers the fields with a wire name
/// (but [`Kind::Own`]) renamed for the wire, in the order of `fields` (an optional
/// field given as `null` is sent as `null`), and `procoreFields` (an empty object
/// when absent).
fn resource(input: &Json, fields: &[Field], what: &str) -> Result<(Json, Json), Error> {
    // An id where the options were: the call's old form, `call(42, {…})`.
    if let (Json::Number(n), Some(first)) = (input, fields.first()) {
        if first.kind == Kind::Id {
            return Err(Error::InvalidInput(format!(
                "{what} must be an object, got a number: ids go in it, as {{ {}: {n}, … }}",
                first.js
            )));
        }
    }
    let input = object(input, what)?;
    let mut known = Vec::with_capacity(fields.len() + 1);
    let mut body = false;
    for field in fields {
        known.push(field.js);
        body |= !field.wire.is_empty();
    }
    if body {
        known.push(PROCORE_FIELDS);
    }
    check_keys(
        what,
        &keys_of(input),
        &known,
        if body { PROCORE_HINT } else { "" },
    )?;
    let mut out = Json::object();
    for field in fields {
        let name = format!("{what}.{}", field.js);
        let value = match input.get(field.js) {
            None if field.required => {
                return Err(Error::InvalidInput(format!("{name} is required")))
            }
            None => continue,
            Some(Json::Null) if !field.required => &Json::Null,
            Some(value) => {
                check(value, field.kind, &name)?;
                value
            }
        };
        if !field.wire.is_empty() && field.kind != Kind::Own {
            out.insert(field.wire, value.clone());
        }
    }
    let procore = match input.get(PROCORE_FIELDS) {
        None => Json::object(),
        Some(value) => {
            check(value, Kind::Object, &format!("{what}.{PROCORE_FIELDS}"))?;
            value.clone()
        }
    };
    Ok((out, procore))
}

/// `named` with the members of `procore` added as written. A member the library
/// sends from one of `fields` is refused: that field's option says it, checked.
fn with_procore(
    mut named: Json,
    procore: &Json,
    fields: &[Field],
    what: &str,
) -> Result<Json, Error> {
    for (key, value) in procore.as_object().unwrap_or_default() {
        if let Some(field) = fields.iter().find(|f| !f.wire.is_empty() && f.wire == key) {
            return Err(Error::InvalidInput(format!(
                "{what}.{PROCORE_FIELDS}.{key} is sent from {what}.{}: use that",
                field.js
            )));
        }
        named.insert(key, value.clone());
    }
    Ok(named)
}

/// [`resource`] and its `procoreFields` in one object: the resource's body.
fn body(input: &Json, fields: &[Field], what: &str) -> Result<Json, Error> {
    let (named, procore) = resource(input, fields, what)?;
    with_procore(named, &procore, fields, what)
}

const PROJECT_FILE_FIELDS: &[Field] = &[
    field("projectId", "", Kind::Id, true),
    field("uploadUuid", "upload_uuid", Kind::Text, true),
    field("name", "name", Kind::Text, true),
    field("parentId", "parent_id", Kind::Id, false),
    field("description", "description", Kind::AnyText, false),
    field("private", "private", Kind::Bool, false),
];

/// A company file's fields: a project file's but its project.
const FILE_FIELDS: &[Field] = PROJECT_FILE_FIELDS.split_at(1).1;

/// `createProjectFile({ projectId, uploadUuid, name, parentId?, description?,
/// private?, procoreFields? })`: `POST /rest/v1.0/files?project_id=` with
/// `{"file": {…}}`. `what` names the options in errors.
pub fn project_file(input: &Json, what: &str) -> Result<ResourceCall, Error> {
    let file = body(input, PROJECT_FILE_FIELDS, what)?;
    let project = route_id(input, "projectId");
    Ok(ResourceCall {
        method: Method::Post,
        path: format!("/rest/v1.0/files?project_id={project}"),
        body: Some(Json::object_of([("file", file)])),
    })
}

/// `createCompanyFile({ uploadUuid, name, parentId?, description?, private?,
/// procoreFields? })`: `POST /rest/v1.0/companies/{company_id}/files` with
/// `{"file": {…}}`.
pub fn company_file(company_id: u64, input: &Json, what: &str) -> Result<ResourceCall, Error> {
    let file = body(input, FILE_FIELDS, what)?;
    Ok(ResourceCall {
        method: Method::Post,
        path: format!("/rest/v1.0/companies/{company_id}/files"),
        body: Some(Json::object_of([("file", file)])),
    })
}

const IMAGE_FIELDS: &[Field] = &[
    field("projectId", "", Kind::Id, true),
    field("uploadUuid", "uuid", Kind::Text, true),
    field("imageName", "image_name", Kind::Text, true),
    field("source", "source", Kind::AnyText, false),
];

/// `createImage({ projectId, uploadUuid, imageName, source?, procoreFields? })`:
/// `POST /rest/v1.0/images?project_id=` with the body the attachments guide shows,
/// `{"upload": {"uuid", "image_name", "source"}, "image": {…}}`: the image resource
/// is `procoreFields` (Procore's own fields: `description`, `image_category_id`,
/// `log_date`, …) as given, the named fields all go under `upload`.
pub fn image(input: &Json, what: &str) -> Result<ResourceCall, Error> {
    let (upload, image) = resource(input, IMAGE_FIELDS, what)?;
    let project = route_id(input, "projectId");
    Ok(ResourceCall {
        method: Method::Post,
        path: format!("/rest/v1.0/images?project_id={project}"),
        body: Some(Json::object_of([("upload", upload), ("image", image)])),
    })
}

const DRAWING_AREAS_FIELDS: &[Field] = &[field("projectId", "", Kind::Id, true)];

/// `listDrawingAreas({ projectId })`: `GET /rest/v1.1/projects/{project_id}/drawing_areas`.
/// A GET has no resource to send Procore's fields under: no `procoreFields`.
pub fn drawing_areas(input: &Json, what: &str) -> Result<ResourceCall, Error> {
    resource(input, DRAWING_AREAS_FIELDS, what)?;
    let project = route_id(input, "projectId");
    Ok(ResourceCall {
        method: Method::Get,
        path: format!("/rest/v1.1/projects/{project}/drawing_areas"),
        body: None,
    })
}

const DRAWING_FIELDS: &[Field] = &[
    field("drawingAreaId", "", Kind::Id, true),
    field("number", "number", Kind::Text, true),
    field("title", "title", Kind::AnyText, false),
    field("disciplineName", "drawing_discipline", Kind::Own, true),
];

/// `createDrawing({ drawingAreaId, number, title?, disciplineName, procoreFields? })`:
/// `POST /rest/v1.1/drawing_areas/{id}/drawings` with
/// `{"drawing": {"number", "title", "drawing_discipline": {"name"}}}`.
pub fn drawing(input: &Json, what: &str) -> Result<ResourceCall, Error> {
    let (mut drawing, procore) = resource(input, DRAWING_FIELDS, what)?;
    let area = route_id(input, "drawingAreaId");
    let discipline = input.get("disciplineName").unwrap_or(&Json::Null);
    check(discipline, Kind::Text, &format!("{what}.disciplineName"))?;
    drawing.insert(
        "drawing_discipline",
        Json::object_of([("name", discipline.clone())]),
    );
    Ok(ResourceCall {
        method: Method::Post,
        path: format!("/rest/v1.1/drawing_areas/{area}/drawings"),
        body: Some(Json::object_of([(
            "drawing",
            with_procore(drawing, &procore, DRAWING_FIELDS, what)?,
        )])),
    })
}

const DRAWING_UPLOAD_FIELDS: &[Field] = &[
    field("projectId", "", Kind::Id, true),
    field("drawingAreaId", "drawing_area_id", Kind::Id, true),
    field("drawingSetId", "drawing_set_id", Kind::Id, true),
    field("imports", "drawing_log_imports", Kind::Own, true),
];

const DRAWING_IMPORT_FIELDS: &[Field] = &[
    field("uploadUuid", "upload_uuid", Kind::Text, true),
    field("drawingDate", "drawing_date", Kind::Date, true),
    field("receivedDate", "received_date", Kind::Date, false),
    field("defaultRevision", "default_revision", Kind::AnyText, false),
    field("drawingId", "drawing_id", Kind::Id, false),
];

/// The keys of a drawing target: the upload's ids and one import's fields.
const DRAWING_TARGET: &[&str] = &[
    "projectId",
    "drawingAreaId",
    "drawingSetId",
    "drawingDate",
    "receivedDate",
    "defaultRevision",
    "drawingId",
    PROCORE_FIELDS,
];

/// `createDrawingUpload({ projectId, drawingAreaId, drawingSetId, imports: [{
/// uploadUuid, drawingDate, receivedDate?, defaultRevision?, drawingId?,
/// procoreFields? }], procoreFields? })`: `POST
/// /rest/v1.1/projects/{project_id}/drawing_uploads` with `{"drawing_upload":
/// {"drawing_area_id", "drawing_set_id", "drawing_log_imports": [{…}]}}`. Sent, as
/// every POST and PATCH, with an `Idempotency-Token` header, the same on every retry
/// ([`super::api::with_idempotency_token`]).
pub fn drawing_upload(input: &Json, what: &str) -> Result<ResourceCall, Error> {
    let (mut upload, procore) = resource(input, DRAWING_UPLOAD_FIELDS, what)?;
    let project = route_id(input, "projectId");
    let imports = input
        .get("imports")
        .and_then(Json::as_array)
        .filter(|imports| !imports.is_empty())
        .ok_or_else(|| {
            Error::InvalidInput(format!(
                "{what}.imports must be a non-empty array of imports"
            ))
        })?;
    // A loop, not a collect into Result: one GenericShunt less in the package.
    let mut checked = Vec::with_capacity(imports.len());
    for (index, item) in imports.iter().enumerate() {
        checked.push(body(
            item,
            DRAWING_IMPORT_FIELDS,
            &format!("{what}.imports[{index}]"),
        )?);
    }
    upload.insert("drawing_log_imports", checked);
    Ok(ResourceCall {
        method: Method::Post,
        path: format!("/rest/v1.1/projects/{project}/drawing_uploads"),
        body: Some(Json::object_of([(
            "drawing_upload",
            with_procore(upload, &procore, DRAWING_UPLOAD_FIELDS, what)?,
        )])),
    })
}

const ACCIDENT_LOG_FIELDS: &[Field] = &[
    field("projectId", "", Kind::Id, true),
    field("uploadIds", "upload_ids", Kind::TextList, true),
    field("timeHour", "time_hour", Kind::UpTo(23), true),
    field("timeMinute", "time_minute", Kind::UpTo(59), true),
    field("comments", "comments", Kind::AnyText, false),
    field("date", "date", Kind::Date, false),
    field("involvedCompany", "involved_company", Kind::AnyText, false),
    field("involvedName", "involved_name", Kind::AnyText, false),
];

/// `createAccidentLog({ projectId, uploadIds, timeHour, timeMinute, comments?,
/// date?, involvedCompany?, involvedName?, procoreFields? })`:
/// `POST /rest/v1.0/projects/{project_id}/accident_logs` with `{"accident_log": {…}}`.
/// Procore's Create Accident Log requires `time_hour` (0–23) and `time_minute`; the
/// rest is optional.
pub fn accident_log(input: &Json, what: &str) -> Result<ResourceCall, Error> {
    let log = body(input, ACCIDENT_LOG_FIELDS, what)?;
    let project = route_id(input, "projectId");
    Ok(ResourceCall {
        method: Method::Post,
        path: format!("/rest/v1.0/projects/{project}/accident_logs"),
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
/// which is `uuid` (given in the target, it is refused); a file or image name left
/// out is the file's. A drawing target takes `projectId`, `drawingAreaId`,
/// `drawingSetId` and one import's fields (`drawingDate`, …, its `procoreFields`
/// sent under the import), and the file must be a PDF. Called with a placeholder
/// uuid before the upload, it checks the whole target so that a bad one sends
/// nothing. Without a `file_name` (`client.attach` not told it) nothing defaults to
/// it and a drawing's name is not checked: the target's own fields stand.
pub fn attach_upload(
    target: &Json,
    uuid: &str,
    file_name: Option<&str>,
    company_id: u64,
) -> Result<ResourceCall, Error> {
    let (kind, options) = target_of(target)?;
    let what = format!("target.{kind}");
    let id_key = if kind == "accidentLog" {
        "uploadIds"
    } else {
        "uploadUuid"
    };
    if options.get(id_key).is_some() {
        return Err(Error::InvalidInput(format!(
            "{what}.{id_key} is not an option here: it is the upload's"
        )));
    }
    let mut options = options.clone();
    let mut default = |key: &str| {
        if let (None, Some(name)) = (options.get(key), file_name) {
            options.insert(key, name);
        }
    };
    match kind {
        "projectFile" | "companyFile" => default("name"),
        "image" => default("imageName"),
        _ => {}
    }
    let uuid = Json::from(uuid);
    match kind {
        "projectFile" => {
            options.insert("uploadUuid", uuid);
            project_file(&options, &what)
        }
        "companyFile" => {
            options.insert("uploadUuid", uuid);
            company_file(company_id, &options, &what)
        }
        "image" => {
            options.insert("uploadUuid", uuid);
            image(&options, &what)
        }
        "drawing" => {
            check_keys(&what, &keys_of(&options), DRAWING_TARGET, PROCORE_HINT)?;
            if let Some(name) = file_name {
                check_drawing_file_name(name)?;
            }
            let mut upload = Json::object();
            for key in ["projectId", "drawingAreaId", "drawingSetId"] {
                if let Some(value) = options.remove(key) {
                    upload.insert(key, value);
                }
            }
            options.insert("uploadUuid", uuid);
            upload.insert("imports", vec![options]);
            // The import's fields are the target's own: named so in errors.
            let nested = format!("{what}.imports[0]");
            drawing_upload(&upload, &what).map_err(|error| match error {
                Error::InvalidInput(message) => {
                    Error::InvalidInput(message.replace(&nested, &what))
                }
                other => other,
            })
        }
        _ => {
            options.insert("uploadIds", vec![uuid]);
            accident_log(&options, &what)
        }
    }
}

/// The longest `Idempotency-Token` a caller may give (`client.attach`).
pub const MAX_IDEMPOTENCY_TOKEN: usize = 255;

/// `client.attach`'s options: both checked by the call itself.
const ATTACH_OPTIONS: &[Field] = &[
    field("fileName", "", Kind::Own, false),
    field("idempotencyToken", "", Kind::Own, false),
];

/// `client.attach(upload, target, { fileName?, idempotencyToken? })`: the attach step
/// of `uploadAndAttach` ([`attach_upload`]) for an upload already made, and the
/// caller's `Idempotency-Token` for it: 1 to [`MAX_IDEMPOTENCY_TOKEN`] visible ASCII
/// characters (no space, no control character), sent unchanged on every try.
pub fn attach_again(
    upload: &Json,
    target: &Json,
    input: &Json,
    company_id: u64,
) -> Result<(ResourceCall, Option<String>), Error> {
    resource(input, ATTACH_OPTIONS, "options")?;
    let uuid = upload
        .get("uuid")
        .and_then(Json::as_str)
        .filter(|uuid| !uuid.is_empty())
        .ok_or_else(|| {
            Error::InvalidInput("upload must be what upload() resolves to: { uuid, … }".into())
        })?;
    let file_name = match input.get("fileName") {
        None => None,
        Some(name) => Some(
            name.as_str()
                .filter(|name| !name.is_empty())
                .ok_or_else(|| {
                    Error::InvalidInput("options.fileName must be a non-empty string".into())
                })?,
        ),
    };
    let token = match input.get("idempotencyToken") {
        None => None,
        Some(token) => Some(
            token
                .as_str()
                .filter(|token| {
                    (1..=MAX_IDEMPOTENCY_TOKEN).contains(&token.len())
                        && token.bytes().all(|b| b.is_ascii_graphic())
                })
                .ok_or_else(|| {
                    Error::InvalidInput(
                        "options.idempotencyToken must be 1 to 255 visible ASCII characters (no spaces)"
                            .into(),
                    )
                })?
                .to_string(),
        ),
    };
    Ok((attach_upload(target, uuid, file_name, company_id)?, token))
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
    /// `procoreFields` sent under the resource as written, after the named fields.
    #[test]
    fn bodies_table() {
        let o = "options";
        let table: Vec<(Result<ResourceCall, Error>, Method, &str, Json)> = vec![
            (
                project_file(
                    &j(
                        r#"{"projectId": 42, "uploadUuid": "U1", "name": "plan.pdf", "parentId": 7, "description": "", "procoreFields": {"custom_field_9": "x", "is_tracked": true}}"#,
                    ),
                    o,
                ),
                Method::Post,
                "/rest/v1.0/files?project_id=42",
                j(
                    r#"{"file": {"upload_uuid": "U1", "name": "plan.pdf", "parent_id": 7, "description": "", "custom_field_9": "x", "is_tracked": true}}"#,
                ),
            ),
            (
                project_file(
                    &j(
                        r#"{"projectId": 42, "uploadUuid": "U1", "name": "a", "parentId": null, "procoreFields": {}}"#,
                    ),
                    o,
                ),
                Method::Post,
                "/rest/v1.0/files?project_id=42",
                j(r#"{"file": {"upload_uuid": "U1", "name": "a", "parent_id": null}}"#),
            ),
            (
                company_file(
                    7,
                    &j(
                        r#"{"uploadUuid": "U2", "name": "terms.pdf", "private": true, "procoreFields": {"explicit_permissions": {"user_ids": [3]}}}"#,
                    ),
                    o,
                ),
                Method::Post,
                "/rest/v1.0/companies/7/files",
                j(
                    r#"{"file": {"upload_uuid": "U2", "name": "terms.pdf", "private": true, "explicit_permissions": {"user_ids": [3]}}}"#,
                ),
            ),
            (
                image(
                    &j(
                        r#"{"projectId": 42, "uploadUuid": "U3", "imageName": "site.png", "source": "Image from API", "procoreFields": {"description": "north wall", "image_category_id": 2}}"#,
                    ),
                    o,
                ),
                Method::Post,
                "/rest/v1.0/images?project_id=42",
                j(
                    r#"{"upload": {"uuid": "U3", "image_name": "site.png", "source": "Image from API"}, "image": {"description": "north wall", "image_category_id": 2}}"#,
                ),
            ),
            (
                image(
                    &j(r#"{"projectId": 42, "uploadUuid": "U3", "imageName": "site.png"}"#),
                    o,
                ),
                Method::Post,
                "/rest/v1.0/images?project_id=42",
                j(r#"{"upload": {"uuid": "U3", "image_name": "site.png"}, "image": {}}"#),
            ),
            (
                drawing_areas(&j(r#"{"projectId": 42}"#), o),
                Method::Get,
                "/rest/v1.1/projects/42/drawing_areas",
                Json::Null,
            ),
            (
                drawing(
                    &j(
                        r#"{"drawingAreaId": 5, "number": "A-101", "title": "Ground floor", "disciplineName": "Architectural", "procoreFields": {"drawing_set_id": 9}}"#,
                    ),
                    o,
                ),
                Method::Post,
                "/rest/v1.1/drawing_areas/5/drawings",
                j(
                    r#"{"drawing": {"number": "A-101", "title": "Ground floor", "drawing_discipline": {"name": "Architectural"}, "drawing_set_id": 9}}"#,
                ),
            ),
            (
                drawing_upload(
                    &j(
                        r#"{"projectId": 42, "drawingAreaId": 5, "drawingSetId": 9, "procoreFields": {"notify": false}, "imports": [
                        {"uploadUuid": "U4", "drawingDate": "2026-11-23", "receivedDate": "2026-11-24", "defaultRevision": "0", "drawingId": 11, "procoreFields": {"title": "Ground"}},
                        {"uploadUuid": "U5", "drawingDate": "2026-11-23"}
                    ]}"#,
                    ),
                    o,
                ),
                Method::Post,
                "/rest/v1.1/projects/42/drawing_uploads",
                j(
                    r#"{"drawing_upload": {"drawing_area_id": 5, "drawing_set_id": 9, "drawing_log_imports": [
                    {"upload_uuid": "U4", "drawing_date": "2026-11-23", "received_date": "2026-11-24", "default_revision": "0", "drawing_id": 11, "title": "Ground"},
                    {"upload_uuid": "U5", "drawing_date": "2026-11-23"}
                ], "notify": false}}"#,
                ),
            ),
            (
                accident_log(
                    &j(
                        r#"{"projectId": 42, "timeHour": 10, "timeMinute": 15, "comments": "Minor incident near loading zone", "uploadIds": ["U6"], "procoreFields": {"custom_field_3": 1}}"#,
                    ),
                    o,
                ),
                Method::Post,
                "/rest/v1.0/projects/42/accident_logs",
                j(
                    r#"{"accident_log": {"upload_ids": ["U6"], "time_hour": 10, "time_minute": 15, "comments": "Minor incident near loading zone", "custom_field_3": 1}}"#,
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
                project_file(&j(r#""plan""#), "options"),
                "options must be an object, got a string",
            ),
            (
                project_file(&j(r#"{"uploadUuid": "U", "name": "a"}"#), "options"),
                "options.projectId is required",
            ),
            (
                project_file(&j(r#"{"projectId": 0, "uploadUuid": "U", "name": "a"}"#), "options"),
                "options.projectId must be a positive integer",
            ),
            (
                project_file(&j(r#"{"projectId": "42", "uploadUuid": "U", "name": "a"}"#), "options"),
                "options.projectId must be a positive integer, got a string",
            ),
            (
                project_file(&j(r#"{"projectId": 42, "name": "a"}"#), "options"),
                "options.uploadUuid is required",
            ),
            (
                project_file(&j(r#"{"projectId": 42, "uploadUuid": "", "name": "a"}"#), "options"),
                "options.uploadUuid must be a non-empty string, got an empty string",
            ),
            (
                project_file(&j(r#"{"projectId": 42, "uploadUuid": "U"}"#), "options"),
                "options.name is required",
            ),
            (
                project_file(&j(
                    r#"{"projectId": 42, "uploadUuid": "U", "name": "a", "parentId": 1.5}"#,
                ), "options"),
                "options.parentId must be a positive integer, got a number",
            ),
            (
                company_file(
                    7,
                    &j(r#"{"uploadUuid": "U", "name": "a", "private": "yes"}"#),
                    "options",
                ),
                "options.private must be a boolean",
            ),
            (
                image(&j(r#"{"projectId": 42, "uploadUuid": "U"}"#), "options"),
                "options.imageName is required",
            ),
            (
                image(&j(
                    r#"{"projectId": 42, "uploadUuid": "U", "imageName": "a", "procoreFields": []}"#,
                ), "options"),
                "options.procoreFields must be an object, got an array",
            ),
            (
                drawing(&j(r#"{"drawingAreaId": 5, "number": "A-1"}"#), "options"),
                "options.disciplineName is required",
            ),
            (
                drawing(&j(r#"{"drawingAreaId": 5, "disciplineName": "A"}"#), "options"),
                "options.number is required",
            ),
            (
                drawing_upload(&j(
                    r#"{"projectId": 42, "drawingAreaId": 5, "drawingSetId": 9, "imports": []}"#,
                ), "options"),
                "options.imports must be a non-empty array",
            ),
            (
                drawing_upload(&j(
                    r#"{"projectId": 42, "drawingSetId": 9, "imports": [{"uploadUuid": "U", "drawingDate": "2026-11-23"}]}"#,
                ), "options"),
                "options.drawingAreaId is required",
            ),
            (
                drawing_upload(&j(
                    r#"{"projectId": 42, "drawingAreaId": 5, "drawingSetId": 9, "imports": [{"uploadUuid": "U"}]}"#,
                ), "options"),
                "options.imports[0].drawingDate is required",
            ),
            (
                drawing_upload(&j(
                    r#"{"projectId": 42, "drawingAreaId": 5, "drawingSetId": 9, "imports": [{"uploadUuid": "U", "drawingDate": "23/11/2026"}]}"#,
                ), "options"),
                "options.imports[0].drawingDate must be a date as \"YYYY-MM-DD\"",
            ),
            (
                drawing_upload(&j(
                    r#"{"projectId": 42, "drawingAreaId": 5, "drawingSetId": 9, "imports": [{"uploadUuid": "U", "drawingDate": "2026-13-01"}]}"#,
                ), "options"),
                "drawingDate must be a date",
            ),
            (
                drawing_upload(&j(
                    r#"{"projectId": 42, "drawingAreaId": 5, "drawingSetId": 9, "imports": ["U"]}"#,
                ), "options"),
                "options.imports[0] must be an object",
            ),
            (
                accident_log(&j(r#"{"projectId": 42, "timeHour": 10, "timeMinute": 15}"#), "options"),
                "options.uploadIds is required",
            ),
            (
                accident_log(
                    &j(r#"{"projectId": 42, "uploadIds": [], "timeHour": 10, "timeMinute": 15}"#),
                    "options",
                ),
                "options.uploadIds must be a non-empty array of non-empty strings",
            ),
            (
                accident_log(&j(r#"{"projectId": 42, "uploadIds": ["U"], "timeMinute": 15}"#), "options"),
                "options.timeHour is required",
            ),
            (
                accident_log(&j(r#"{"projectId": 42, "uploadIds": ["U"], "timeHour": 10}"#), "options"),
                "options.timeMinute is required",
            ),
            (
                accident_log(
                    &j(r#"{"projectId": 42, "uploadIds": ["U"], "timeHour": null, "timeMinute": 15}"#),
                    "options",
                ),
                "options.timeHour must be an integer from 0 to 23, got null",
            ),
            (
                accident_log(
                    &j(r#"{"projectId": 42, "uploadIds": ["U"], "timeHour": 24, "timeMinute": 0}"#),
                    "options",
                ),
                "options.timeHour must be an integer from 0 to 23",
            ),
            (
                accident_log(
                    &j(r#"{"projectId": 42, "uploadIds": ["U"], "timeHour": 10, "timeMinute": -1}"#),
                    "options",
                ),
                "options.timeMinute must be an integer from 0 to 59",
            ),
            (
                accident_log(
                    &j(r#"{"projectId": 42, "uploadIds": ["U"], "timeHour": 10, "timeMinute": "15"}"#),
                    "options",
                ),
                "options.timeMinute must be an integer from 0 to 59, got a string",
            ),
            // Unknown keys: named (with the known name they are a variant of), before
            // any other check, in every call; nothing passes through.
            (
                project_file(
                    &j(r#"{"projectId": 42, "uploadUuid": "U", "name": "a", "parentID": 7}"#),
                    "options",
                ),
                "options.parentID (did you mean parentId?) is not a known option",
            ),
            (
                project_file(&j(r#"{"project_id": 42, "uploadUuid": "U", "name": "a"}"#), "options"),
                "options.project_id (did you mean projectId?) is not a known option",
            ),
            (
                project_file(
                    &j(r#"{"projectId": 42, "uploadUuid": "U", "name": "a", "custom_field_9": "x"}"#),
                    "options",
                ),
                "options.custom_field_9 is not a known option; Procore's own fields go in procoreFields",
            ),
            (
                company_file(7, &j(r#"{"uploadUuid": "U", "name": "a", "Private": true}"#), "options"),
                "options.Private (did you mean private?) is not a known option",
            ),
            (
                company_file(7, &j(r#"{"uploadUuid": "U", "name": "a", "projectId": 4}"#), "options"),
                "options.projectId is not a known option",
            ),
            (
                image(
                    &j(r#"{"projectId": 42, "uploadUuid": "U", "imageName": "a", "image": {"description": "x"}}"#),
                    "options",
                ),
                "options.image is not a known option; Procore's own fields go in procoreFields",
            ),
            (
                drawing_areas(&j(r#"{"projectID": 42}"#), "options"),
                "options.projectID (did you mean projectId?) is not a known option",
            ),
            (
                drawing_areas(&j(r#"{"projectId": 42, "procoreFields": {}}"#), "options"),
                "options.procoreFields is not a known option",
            ),
            (drawing_areas(&j(r#"{}"#), "options"), "options.projectId is required"),
            (
                drawing(&j(r#"{"number": "A-1", "disciplineName": "A"}"#), "options"),
                "options.drawingAreaId is required",
            ),
            (
                drawing(
                    &j(r#"{"drawingAreaId": 5, "number": "A-1", "discipline_name": "A"}"#),
                    "options",
                ),
                "options.discipline_name (did you mean disciplineName?) is not a known option",
            ),
            (
                drawing_upload(&j(
                    r#"{"projectId": 42, "drawingAreaId": 5, "drawingSetId": 9, "imports": [{"uploadUuid": "U", "drawingDate": "2026-11-23", "drawingID": 3}]}"#,
                ), "options"),
                "options.imports[0].drawingID (did you mean drawingId?) is not a known option",
            ),
            (
                drawing_upload(&j(
                    r#"{"projectId": 42, "drawingAreaId": 5, "drawingSetId": 9, "drawingSetID": 9, "imports": [{"uploadUuid": "U", "drawingDate": "2026-11-23"}]}"#,
                ), "options"),
                "options.drawingSetID (did you mean drawingSetId?) is not a known option",
            ),
            (
                accident_log(
                    &j(r#"{"projectId": 42, "uploadIds": ["U"], "timeHour": 10, "timeMinute": 15, "involved_name": "R"}"#),
                    "options",
                ),
                "options.involved_name (did you mean involvedName?) is not a known option",
            ),
            (
                accident_log(
                    &j(r#"{"projectId": 42, "uploadIds": ["U"], "timeHour": 10, "timeMinute": 15, "signal": {}}"#),
                    "options",
                ),
                "options.signal is not a known option",
            ),
            // procoreFields: an object, none of its keys one a named option sends.
            (
                project_file(
                    &j(r#"{"projectId": 42, "uploadUuid": "U", "name": "a", "procoreFields": [1]}"#),
                    "options",
                ),
                "options.procoreFields must be an object, got an array",
            ),
            (
                project_file(
                    &j(r#"{"projectId": 42, "uploadUuid": "U", "name": "a", "procoreFields": {"parent_id": 7}}"#),
                    "options",
                ),
                "options.procoreFields.parent_id is sent from options.parentId: use that",
            ),
            (
                company_file(
                    7,
                    &j(r#"{"uploadUuid": "U", "name": "a", "procoreFields": {"upload_uuid": "V"}}"#),
                    "options",
                ),
                "options.procoreFields.upload_uuid is sent from options.uploadUuid",
            ),
            (
                drawing(
                    &j(r#"{"drawingAreaId": 5, "number": "A-1", "disciplineName": "A", "procoreFields": {"drawing_discipline": {"name": "B"}}}"#),
                    "options",
                ),
                "options.procoreFields.drawing_discipline is sent from options.disciplineName",
            ),
            (
                drawing_upload(&j(
                    r#"{"projectId": 42, "drawingAreaId": 5, "drawingSetId": 9, "procoreFields": {"drawing_log_imports": []}, "imports": [{"uploadUuid": "U", "drawingDate": "2026-11-23"}]}"#,
                ), "options"),
                "options.procoreFields.drawing_log_imports is sent from options.imports",
            ),
            (
                drawing_upload(&j(
                    r#"{"projectId": 42, "drawingAreaId": 5, "drawingSetId": 9, "imports": [{"uploadUuid": "U", "drawingDate": "2026-11-23", "procoreFields": {"drawing_date": "2026-11-24"}}]}"#,
                ), "options"),
                "options.imports[0].procoreFields.drawing_date is sent from options.imports[0].drawingDate",
            ),
            (
                accident_log(
                    &j(r#"{"projectId": 42, "uploadIds": ["U"], "timeHour": 10, "timeMinute": 15, "procoreFields": {"time_hour": 3}}"#),
                    "options",
                ),
                "options.procoreFields.time_hour is sent from options.timeHour",
            ),
            // An id as the first argument (the old form): the new form said.
            (
                accident_log(&j("42"), "options"),
                "options must be an object, got a number: ids go in it, as { projectId: 42, … }",
            ),
            (
                drawing(&j("5"), "options"),
                "options must be an object, got a number: ids go in it, as { drawingAreaId: 5, … }",
            ),
            (
                drawing_areas(&j("42"), "options"),
                "options must be an object, got a number: ids go in it, as { projectId: 42, … }",
            ),
            (
                company_file(7, &j("42"), "options"),
                "options must be an object, got a number",
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
        let made = |target: Json, file: &str| attach_upload(&target, "U9", Some(file), 7);
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
            j(r#"{"drawing": {"projectId": 42, "drawingAreaId": 4201, "drawingSetId": 4202, "drawingDate": "2026-11-23", "drawingId": 5, "procoreFields": {"title": "Ground"}}}"#),
            "A-101.pdf",
        )
        .unwrap();
        assert_eq!(call.path, "/rest/v1.1/projects/42/drawing_uploads");
        assert_eq!(
            call.body,
            Some(j(
                r#"{"drawing_upload": {"drawing_area_id": 4201, "drawing_set_id": 4202,
                "drawing_log_imports": [{"upload_uuid": "U9", "drawing_date": "2026-11-23", "drawing_id": 5, "title": "Ground"}]}}"#
            )),
            "a drawing target's procoreFields go under its import"
        );
        let call = made(
            j(r#"{"projectFile": {"projectId": 42, "procoreFields": {"is_tracked": true}}}"#),
            "plan.pdf",
        )
        .unwrap();
        assert_eq!(
            call.body,
            Some(j(
                r#"{"file": {"upload_uuid": "U9", "name": "plan.pdf", "is_tracked": true}}"#
            ))
        );
        let call = made(
            j(r#"{"image": {"projectId": 42, "procoreFields": {"log_date": "2026-11-23"}}}"#),
            "site.png",
        )
        .unwrap();
        assert_eq!(
            call.body,
            Some(j(
                r#"{"upload": {"uuid": "U9", "image_name": "site.png"}, "image": {"log_date": "2026-11-23"}}"#
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
            // Unknown keys, named with the target's path; the upload's id is not the
            // caller's to give.
            (
                j(r#"{"projectFile": {"projectId": 42, "parentID": 7}}"#),
                "x.pdf",
                "target.projectFile.parentID (did you mean parentId?) is not a known option",
            ),
            (
                j(r#"{"companyFile": {"a": 1, "b": 2}}"#),
                "x.pdf",
                "target.companyFile.a, target.companyFile.b are not known options; Procore's own fields",
            ),
            (
                j(r#"{"image": {"projectId": 42, "image": {}}}"#),
                "x.png",
                "target.image.image is not a known option",
            ),
            (
                j(
                    r#"{"drawing": {"projectID": 42, "drawingAreaId": 1, "drawingSetId": 2, "drawingDate": "2026-11-23"}}"#,
                ),
                "A-101.pdf",
                "target.drawing.projectID (did you mean projectId?) is not a known option",
            ),
            (
                j(
                    r#"{"drawing": {"projectId": 42, "drawingAreaId": 1, "drawingSetId": 2, "drawingDate": "2026-11-23", "imports": []}}"#,
                ),
                "A-101.pdf",
                "target.drawing.imports is not a known option",
            ),
            (
                j(
                    r#"{"drawing": {"projectId": 42, "drawingAreaId": 1, "drawingSetId": 2, "drawingDate": "2026-11-23", "procoreFields": {"drawing_date": "x"}}}"#,
                ),
                "A-101.pdf",
                "target.drawing.procoreFields.drawing_date is sent from target.drawing.drawingDate",
            ),
            (
                j(
                    r#"{"accidentLog": {"projectId": 42, "timeHour": 9, "timeMinute": 0, "time_minute": 0}}"#,
                ),
                "x.jpg",
                "target.accidentLog.time_minute (did you mean timeMinute?) is not a known option",
            ),
            (
                j(r#"{"projectFile": {"projectId": 42, "uploadUuid": "U1"}}"#),
                "x.pdf",
                "target.projectFile.uploadUuid is not an option here",
            ),
            (
                j(
                    r#"{"accidentLog": {"projectId": 42, "timeHour": 9, "timeMinute": 0, "uploadIds": ["U1"]}}"#,
                ),
                "x.jpg",
                "target.accidentLog.uploadIds is not an option here",
            ),
        ];
        for (target, file, message) in refusals {
            match attach_upload(&target, "pending", Some(file), 7) {
                Err(Error::InvalidInput(got)) => assert!(got.contains(message), "{target}: {got}"),
                other => panic!("{target}: {other:?}"),
            }
        }
    }

    /// `client.attach` without a file name: the target's own name stands, none is
    /// made up, a nameless file target is refused as its call would refuse it, and a
    /// drawing is not checked by a name it does not have.
    #[test]
    fn attach_without_a_file_name() {
        let call = attach_upload(
            &j(r#"{"projectFile": {"projectId": 42, "name": "given.pdf"}}"#),
            "U9",
            None,
            7,
        )
        .unwrap();
        assert_eq!(
            call.body,
            Some(j(r#"{"file": {"upload_uuid": "U9", "name": "given.pdf"}}"#))
        );
        match attach_upload(&j(r#"{"projectFile": {"projectId": 42}}"#), "U9", None, 7) {
            Err(Error::InvalidInput(got)) => assert!(got.contains("name"), "{got}"),
            other => panic!("{other:?}"),
        }
        let drawing = j(
            r#"{"drawing": {"projectId": 42, "drawingAreaId": 5, "drawingSetId": 6, "drawingDate": "2026-11-23"}}"#,
        );
        if let Err(error) = attach_upload(&drawing, "U9", None, 7) {
            panic!("{error:?}");
        }
        assert!(attach_upload(&drawing, "U9", Some("plan.png"), 7).is_err());
    }

    /// `client.attach`'s own checks: the upload's id, the file name, the token; the
    /// target's are `attach_upload`'s (tables above).
    #[test]
    fn attach_again_table() {
        let long = "a".repeat(MAX_IDEMPOTENCY_TOKEN);
        let too_long = "a".repeat(MAX_IDEMPOTENCY_TOKEN + 1);
        let target = j(r#"{"companyFile": {"name": "kept.pdf"}}"#);
        let upload = j(r#"{"uuid": "U9", "status": "complete", "size": 3}"#);
        let attach = |upload: &Json, input: Json| attach_again(upload, &target, &input, 7);
        for (token, ok) in [
            ("0f3c9a1e-attach-1", true),
            ("~!#$%&'*+-.^_`|", true),
            (long.as_str(), true),
            ("", false),
            (too_long.as_str(), false),
            ("two words", false),
            ("line\nbreak", false),
            ("caf\u{e9}", false),
        ] {
            let input = Json::object_of([("idempotencyToken", Json::from(token))]);
            match attach(&upload, input) {
                Ok((_, given)) => {
                    assert!(ok, "{token:?} accepted");
                    assert_eq!(given.as_deref(), Some(token));
                }
                Err(Error::InvalidInput(message)) => {
                    assert!(!ok, "{token:?} refused: {message}");
                    assert!(
                        message.contains("options.idempotencyToken must be"),
                        "{message}"
                    );
                }
                Err(other) => panic!("{other:?}"),
            }
        }
        let (call, token) = attach(&upload, Json::object()).unwrap();
        assert_eq!(token, None, "no token given: the call's own fresh one");
        assert_eq!(
            call.body,
            Some(j(r#"{"file": {"upload_uuid": "U9", "name": "kept.pdf"}}"#))
        );
        for (upload, input, message) in [
            (
                j("null"),
                j("{}"),
                "upload must be what upload() resolves to",
            ),
            (
                j(r#"{"uuid": ""}"#),
                j("{}"),
                "upload must be what upload() resolves to",
            ),
            (
                j(r#"{"uuid": 7}"#),
                j("{}"),
                "upload must be what upload() resolves to",
            ),
            (
                upload.clone(),
                j(r#"{"filename": "a.pdf"}"#),
                "options.filename (did you mean fileName?)",
            ),
            (
                upload.clone(),
                j(r#"{"fileName": ""}"#),
                "options.fileName must be a non-empty string",
            ),
            (
                upload.clone(),
                j(r#"{"idempotencyToken": 7}"#),
                "options.idempotencyToken must be",
            ),
            (
                upload.clone(),
                j(r#""plan.pdf""#),
                "options must be an object",
            ),
        ] {
            match attach(&upload, input) {
                Err(Error::InvalidInput(got)) => assert!(got.contains(message), "{got}"),
                other => panic!("{message}: {other:?}"),
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
