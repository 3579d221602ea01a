//! The Procore API side: upload endpoints of v1.0, v1.1 and v2.1, with Procore's
//! authentication, company header, rate-limit headers and CORS, plus the sandbox's
//! own inspection and fault endpoints under `/_sandbox/`.

mod admin;
pub mod attach;
pub mod documents;
mod listings;
mod v1;
mod v2;
pub mod validate;

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use rand::Rng;
use serde_json::json;

use crate::config::AimedKind;
use crate::state::{header_pairs, ApiVersion, AppState, Inner, LoggedRequest, Replay, Upload};

/// `http://<Host>` of a request: the base URL the client reached the API by, for the
/// links answers carry (file versions, images, drawing files).
pub(super) fn base_url(headers: &axum::http::HeaderMap) -> String {
    headers
        .get(axum::http::header::HOST)
        .and_then(|host| host.to_str().ok())
        .map(|host| format!("http://{host}"))
        .unwrap_or_default()
}

/// The API router.
pub fn router(state: AppState) -> Router {
    let procore = Router::new()
        .route(
            "/rest/{version}/companies/{company_id}/uploads",
            post(create),
        )
        .route(
            "/rest/{version}/projects/{project_id}/uploads",
            post(create),
        )
        .route(
            "/rest/{version}/companies/{company_id}/projects/{project_id}/uploads",
            post(create),
        )
        .route(
            "/rest/{version}/companies/{company_id}/uploads/{uuid}",
            get(show).patch(complete),
        )
        .route(
            "/rest/{version}/projects/{project_id}/uploads/{uuid}",
            get(show).patch(complete),
        )
        .route(
            "/rest/{version}/companies/{company_id}/projects/{project_id}/uploads/{uuid}",
            get(show).patch(complete),
        )
        .route("/rest/v1.0/files", post(documents::create_file))
        .route(
            "/rest/v1.0/companies/{company_id}/files",
            post(documents::create_file),
        )
        .route(
            "/rest/v1.0/folders",
            get(documents::list_root).post(documents::create_folder),
        )
        .route(
            "/rest/v1.0/companies/{company_id}/folders",
            get(documents::list_root).post(documents::create_folder),
        )
        .route("/rest/v1.0/folders/{id}", get(documents::show_folder))
        .route(
            "/rest/v1.0/companies/{company_id}/folders/{id}",
            get(documents::show_folder),
        )
        .route(
            "/rest/v1.0/file_versions",
            post(documents::create_file_version),
        )
        .route(
            "/rest/v1.0/companies/{company_id}/file_versions",
            post(documents::create_file_version),
        )
        .route("/rest/v1.0/projects", get(listings::projects))
        .route("/rest/v1.1/projects", get(listings::projects))
        .route(
            "/rest/v1.0/images",
            get(listings::images).post(attach::image),
        )
        .route(
            "/rest/v1.1/projects/{project_id}/drawing_areas",
            get(attach::drawing_areas),
        )
        .route(
            "/rest/v1.1/drawing_areas/{drawing_area_id}/drawings",
            post(attach::drawing),
        )
        .route(
            "/rest/v1.1/projects/{project_id}/drawing_uploads",
            get(listings::drawing_uploads).post(attach::drawing_upload),
        )
        .route(
            "/rest/v1.0/projects/{project_id}/accident_logs",
            post(attach::accident_log),
        )
        .route(
            "/rest/v1.0/projects/{project_id}/incidents",
            post(attach::incident),
        )
        .route(
            "/rest/v1.0/projects/{project_id}/incidents/{id}",
            delete(attach::delete_incident),
        )
        .layer(middleware::from_fn_with_state(state.clone(), guard));
    Router::new()
        .merge(procore)
        .merge(admin::router())
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such endpoint") })
        .layer(middleware::from_fn_with_state(state.clone(), log_and_cors))
        .with_state(state)
}

/// An API error: `{"errors": "<message>"}` with a status, or another body where
/// Procore answers one (see [`ApiError::with_body`]).
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    body: Option<serde_json::Value>,
}

impl ApiError {
    /// An error with `status`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            body: None,
        }
    }

    /// 403: `company` (given `place`, e.g. " in the path") is not the caller's
    /// `Procore-Company-Id`.
    pub fn other_company(caller: &Caller, company: impl std::fmt::Display, place: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            format!(
                "Procore-Company-Id {} does not match company {company}{place}",
                caller.company_id
            ),
        )
    }

    /// An error with `status` and exactly `body`, e.g. a Rails validation error
    /// `{"errors": {"name": ["has already been taken"]}}`.
    pub fn with_body(status: StatusCode, body: serde_json::Value) -> Self {
        Self {
            status,
            message: body.to_string(),
            body: Some(body),
        }
    }

    /// 422: the request was understood but breaks a rule.
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }

    /// 400: the request is malformed.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 502: storage failed under us.
    pub fn storage(error: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::BAD_GATEWAY, format!("storage: {error}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self
            .body
            .unwrap_or_else(|| json!({ "errors": self.message }));
        (self.status, Json(body)).into_response()
    }
}

/// The authenticated caller of a `/rest/` request.
#[derive(Clone, Debug)]
pub struct Caller {
    /// Its access token (the user).
    pub token: String,
    /// Its `Procore-Company-Id`.
    pub company_id: u64,
}

/// Where an upload lives: API version, company, project.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scope {
    /// API version from the path.
    pub version: ApiVersion,
    /// Company (from the path, or the header for v1 project routes).
    pub company_id: u64,
    /// Project, for project-level routes.
    pub project_id: Option<u64>,
}

impl Scope {
    fn resolve(
        version: &str,
        path_company: Option<u64>,
        project_id: Option<u64>,
        caller: &Caller,
    ) -> Result<Self, ApiError> {
        let version = ApiVersion::parse(version)
            .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no such API version"))?;
        if let Some(company_id) = path_company {
            if company_id != caller.company_id {
                return Err(ApiError::other_company(caller, company_id, " in the path"));
            }
        }
        Ok(Self {
            version,
            company_id: caller.company_id,
            project_id,
        })
    }

    /// The storage key prefix of this scope's uploads.
    pub fn key(&self, uuid: &str) -> String {
        match self.project_id {
            Some(project) => format!(
                "companies/{}/projects/{project}/uploads/{uuid}",
                self.company_id
            ),
            None => format!("companies/{}/uploads/{uuid}", self.company_id),
        }
    }

    fn is_v2(&self) -> bool {
        self.version == ApiVersion::V21
    }
}

/// A new upload id in Procore's form: 26 characters of Crockford base32, time first.
pub fn new_uuid() -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let mut rng = rand::rng();
    let random: u128 = rng.random::<u128>() & ((1u128 << 80) - 1);
    let value = (millis << 80) | random;
    (0..26)
        .rev()
        .map(|i| ALPHABET[((value >> (i * 5)) & 31) as usize] as char)
        .collect()
}

/// A new upload record, `ready`, owned by `caller`.
pub fn new_upload(
    scope: Scope,
    caller: &Caller,
    uuid: String,
    request: serde_json::Map<String, serde_json::Value>,
    file: Option<crate::state::FileInfo>,
    transfer: crate::state::Transfer,
) -> Upload {
    Upload {
        key: scope.key(&uuid),
        uuid,
        api_version: scope.version,
        company_id: scope.company_id,
        project_id: scope.project_id,
        owner: caller.token.clone(),
        status: crate::state::Status::Ready,
        failure: None,
        request: serde_json::Value::Object(request),
        file,
        transfer,
        created_at: crate::state::now_unix(),
        completed_at: None,
        completions: 0,
    }
}

/// Finds `uuid` in `scope`, owned by `caller`.
pub fn find_upload(
    inner: &Inner,
    scope: &Scope,
    uuid: &str,
    caller: &Caller,
) -> Result<Upload, ApiError> {
    let upload = inner
        .uploads
        .get(uuid)
        .filter(|u| u.company_id == scope.company_id && u.project_id == scope.project_id)
        .filter(|u| (u.api_version == ApiVersion::V21) == scope.is_v2())
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("upload {uuid} not found")))?;
    if upload.owner != caller.token {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "only the user who created an upload may use it",
        ));
    }
    Ok(upload.clone())
}

/// `body[key]`: an array of exactly `expected` items (400 when not an array, 422 when
/// the count is off).
pub fn listed<'a>(
    body: &'a serde_json::Map<String, serde_json::Value>,
    key: &str,
    expected: usize,
    shape: &str,
    rule: &str,
) -> Result<&'a Vec<serde_json::Value>, ApiError> {
    let items = body
        .get(key)
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| ApiError::bad_request(format!("{key} must be {shape}")))?;
    if items.len() != expected {
        return Err(ApiError::unprocessable(format!(
            "expected {expected} {key} ({rule}), got {}",
            items.len()
        )));
    }
    Ok(items)
}

/// Parses a JSON object body.
pub fn json_object(body: &[u8]) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::bad_request("the body must be a JSON object")),
        Err(error) => Err(ApiError::bad_request(format!("malformed JSON: {error}"))),
    }
}

// --- routes: three path shapes, one handler per action ---------------------------

type Body = axum::body::Bytes;

/// An upload endpoint's path, checked: the scope it names, the caller, and the
/// upload id for show/complete.
struct Located {
    scope: Scope,
    caller: Caller,
    uuid: String,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Located {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        let axum::extract::Path(params) = axum::extract::Path::<
            std::collections::HashMap<String, String>,
        >::from_request_parts(parts, state)
        .await
        .map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
        let caller = parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "not authenticated"))?;
        let id = |name: &str| -> Result<Option<u64>, ApiError> {
            params
                .get(name)
                .map(|text| {
                    text.parse()
                        .map_err(|_| ApiError::bad_request(format!("{name} must be an integer")))
                })
                .transpose()
        };
        let (company, project) = (id("company_id")?, id("project_id")?);
        let scope = Scope::resolve(
            params.get("version").map_or("", String::as_str),
            company,
            project,
            &caller,
        )?;
        // v1 names projects without their company; v2.1 always within it.
        let shape_fits = match (company, project) {
            (None, Some(_)) => !scope.is_v2(),
            (Some(_), Some(_)) => scope.is_v2(),
            _ => true,
        };
        if !shape_fits {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "this endpoint does not exist in this API version",
            ));
        }
        Ok(Self {
            scope,
            caller,
            uuid: params.get("uuid").cloned().unwrap_or_default(),
        })
    }
}

async fn create(
    State(state): State<AppState>,
    at: Located,
    body: Body,
) -> Result<Response, ApiError> {
    let body = json_object(&body)?;
    if at.scope.is_v2() {
        v2::create(&state, &at.caller, at.scope, body).await
    } else {
        v1::create(&state, &at.caller, at.scope, body).await
    }
}

async fn show(State(state): State<AppState>, at: Located) -> Result<Response, ApiError> {
    let upload = find_upload(&state.lock(), &at.scope, &at.uuid, &at.caller)?;
    if at.scope.is_v2() {
        v2::show(&state, upload).await
    } else {
        v1::show(&state, upload).await
    }
}

async fn complete(
    State(state): State<AppState>,
    at: Located,
    body: Body,
) -> Result<Response, ApiError> {
    let upload = find_upload(&state.lock(), &at.scope, &at.uuid, &at.caller)?;
    let body = json_object(&body)?;
    if at.scope.is_v2() {
        v2::complete(&state, upload, body).await
    } else {
        v1::complete(&state, upload, body).await
    }
}

// --- middleware -----------------------------------------------------------------

/// Logs every API request when answered (one the client abandons first is not
/// logged) and answers CORS for browsers on other origins.
async fn log_and_cors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let origin = request.headers().get("origin").cloned();
    let mut entry = LoggedRequest {
        side: "api",
        method: request.method().to_string(),
        path: request.uri().path().to_string(),
        query: request.uri().query().map(str::to_string),
        headers: header_pairs(request.headers()),
        status: 0,
        fault: None,
        received_ms: state.elapsed_ms(),
        finished_ms: None,
        id: 0,
    };
    let is_admin = entry.path.starts_with("/_sandbox/");
    let mut response = if request.method() == Method::OPTIONS {
        preflight(request.headers())
    } else {
        next.run(request).await
    };
    // While an answer is to be dropped, every connection carries one request: the
    // dropped one then comes on a fresh connection, which a browser does not send
    // again by itself (it does on a reused one), so the client sees the network
    // error and retries as it would after a real lost answer.
    if state.lock().drop_armed() {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    if let Some(origin) = origin {
        let headers = response.headers_mut();
        headers.insert("access-control-allow-origin", origin);
        headers.insert("vary", HeaderValue::from_static("Origin"));
        headers.insert(
            "access-control-expose-headers",
            HeaderValue::from_static(
                "X-Rate-Limit-Limit, X-Rate-Limit-Remaining, X-Rate-Limit-Reset, Retry-After",
            ),
        );
    }
    // A dropped answer never reaches the client: no status.
    entry.status = if response.extensions().get::<DropConnection>().is_some() {
        0
    } else {
        response.status().as_u16()
    };
    entry.fault = response
        .extensions()
        .get::<InjectedFault>()
        .map(|f| f.0.clone());
    if !is_admin {
        // The JSON answer is complete here; axum writes it at once.
        entry.finished_ms = Some(state.elapsed_ms());
        state.lock().push_log(entry);
    }
    response
}

/// Marks a response as made by fault injection (for the request log).
#[derive(Clone)]
struct InjectedFault(String);

fn preflight(headers: &HeaderMap) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let out = response.headers_mut();
    out.insert(
        "access-control-allow-methods",
        HeaderValue::from_static("GET, POST, PATCH, PUT, DELETE"),
    );
    if let Some(requested) = headers.get("access-control-request-headers") {
        out.insert("access-control-allow-headers", requested.clone());
    }
    out.insert("access-control-max-age", HeaderValue::from_static("600"));
    response
}

/// Procore's gate in front of every `/rest/` request: injected faults, the bearer
/// token, the company header, then the rate limit.
async fn guard(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let method = request.method().as_str().to_string();
    let path = request.uri().path().to_string();
    let (latency, forced_401, forced_429, forced_503, canned, retry_after) = {
        let mut inner = state.lock();
        let faults = &mut inner.faults;
        // One injected answer per request: a pending 401 first, then a 429, then a 503,
        // then a canned answer, then a 429 or 503 aimed at this request.
        let forced_401 = Inner::take(&mut faults.api_401_next);
        let mut forced_429 = !forced_401 && Inner::take(&mut faults.api_429_next);
        let mut forced_503 = !forced_401 && !forced_429 && Inner::take(&mut faults.api_error_next);
        let canned =
            (!forced_401 && !forced_429 && !forced_503 && !faults.api_canned_next.is_empty())
                .then(|| faults.api_canned_next.remove(0));
        let (retry_after, latency) = (faults.retry_after_secs.unwrap_or(1), faults.api_latency_ms);
        if !forced_401 && !forced_429 && !forced_503 && canned.is_none() {
            match inner.take_aimed(
                &method,
                &path,
                &[AimedKind::TooManyRequests, AimedKind::Unavailable],
            ) {
                Some(AimedKind::TooManyRequests) => forced_429 = true,
                Some(AimedKind::Unavailable) => forced_503 = true,
                _ => {}
            }
        }
        (
            latency,
            forced_401,
            forced_429,
            forced_503,
            canned,
            retry_after,
        )
    };
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    if forced_401 {
        return with_fault(unauthorized("the access token expired (injected)"), "401");
    }
    if forced_429 {
        return with_fault(too_many_requests(retry_after), "429");
    }
    if forced_503 {
        let busy = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable (injected)");
        return with_fault(busy.into_response(), "503");
    }
    if let Some(canned) = canned {
        let status = StatusCode::from_u16(canned.status).unwrap_or(StatusCode::OK);
        let answer = (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            canned.body,
        );
        return with_fault(answer.into_response(), "canned");
    }
    let token = match bearer_token(request.headers()) {
        Some(token) if state.config.tokens.iter().any(|t| t == token) => token.to_string(),
        Some(_) => return unauthorized("invalid access token"),
        None => return unauthorized("an Authorization: Bearer <token> header is required"),
    };
    let company_id = match request
        .headers()
        .get("procore-company-id")
        .map(|v| v.to_str().map(str::trim))
    {
        None => {
            return ApiError::bad_request("the Procore-Company-Id header is required")
                .into_response()
        }
        Some(Ok(value)) => match value.parse::<u64>() {
            Ok(id) if id > 0 => id,
            _ => {
                return ApiError::bad_request("Procore-Company-Id must be a positive integer")
                    .into_response()
            }
        },
        Some(Err(_)) => {
            return ApiError::bad_request("Procore-Company-Id must be a positive integer")
                .into_response()
        }
    };
    let verdict = state.rate_limit(&token);
    let mut response = if verdict.exceeded {
        too_many_requests(
            verdict
                .reset
                .saturating_sub(crate::state::now_unix())
                .max(1),
        )
    } else {
        // A dropped or lost answer is decided on arrival: the untargeted rules first,
        // then the aimed ones.
        let (dropping, losing) = {
            let mut inner = state.lock();
            if inner.take_drop(&method, &path) {
                (true, false)
            } else {
                let aimed = inner.take_aimed(
                    &method,
                    &path,
                    &[AimedKind::AnswerDropped, AimedKind::AnswerLost],
                );
                (
                    aimed == Some(AimedKind::AnswerDropped),
                    aimed == Some(AimedKind::AnswerLost),
                )
            }
        };
        let key = idempotency_key(&token, &request);
        request
            .extensions_mut()
            .insert(Caller { token, company_id });
        let answered = match key {
            Some(key) => idempotent(&state, key, request, next).await,
            None => next.run(request).await,
        };
        // The endpoint did its work; the client never hears of it.
        if dropping {
            return with_fault(dropped(), "answer dropped");
        }
        if losing || Inner::take(&mut state.lock().faults.api_answer_lost_next) {
            let lost = ApiError::new(StatusCode::BAD_GATEWAY, "the answer was lost (injected)");
            return with_fault(lost.into_response(), "answer lost");
        }
        answered
    };
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-rate-limit-limit", verdict.limit.to_string()),
        ("x-rate-limit-remaining", verdict.remaining.to_string()),
        ("x-rate-limit-reset", verdict.reset.to_string()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    response
}

/// The key under which a create call's answer is kept for its `Idempotency-Token`:
/// the caller (its token), the method and path with query, and the token. `None`
/// for anything but a POST (a create) or without the header.
fn idempotency_key(caller: &str, request: &Request) -> Option<String> {
    if request.method() != Method::POST {
        return None;
    }
    let token = request.headers().get("idempotency-token")?.to_str().ok()?;
    let target = request.uri().path_and_query()?.as_str();
    Some(format!("{caller}\nPOST {target}\n{token}"))
}

/// Runs a create call once per idempotency key (see [`idempotency_key`]), as
/// Procore's SDKs expect of `Idempotency-Token`: the same token sent again to the same
/// endpoint by the same user gets the first successful answer again, and nothing is
/// created twice. A failed answer (4xx, 5xx) is not kept: the request may be sent
/// again and do its work then. While the first request with a key is being answered,
/// another with that key gets 409 (as Stripe answers a concurrent retry) rather
/// than a second resource.
async fn idempotent(state: &AppState, key: String, request: Request, next: Next) -> Response {
    {
        let mut inner = state.lock();
        if let Some(replay) = inner.idempotent.get(&key).cloned() {
            drop(inner);
            let status = StatusCode::from_u16(replay.status).unwrap_or(StatusCode::OK);
            let mut response = (status, replay.body).into_response();
            if let Some(content_type) = replay.content_type {
                response
                    .headers_mut()
                    .insert(header::CONTENT_TYPE, content_type);
            }
            return response;
        }
        if !inner.idempotent_in_flight.insert(key.clone()) {
            return ApiError::new(
                StatusCode::CONFLICT,
                "a request with this Idempotency-Token is in progress",
            )
            .into_response();
        }
    }
    // Forgets the in-flight mark also when the client goes away mid-request.
    struct InFlight<'a>(&'a AppState, &'a str);
    impl Drop for InFlight<'_> {
        fn drop(&mut self) {
            self.0.lock().idempotent_in_flight.remove(self.1);
        }
    }
    let _in_flight = InFlight(state, &key);
    let response = next.run(request).await;
    if !response.status().is_success() {
        return response;
    }
    let (parts, body) = response.into_parts();
    // Attach and create answers are small JSON documents.
    let Ok(body) = axum::body::to_bytes(body, 1 << 20).await else {
        return ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "unreadable answer")
            .into_response();
    };
    let replay = Replay {
        status: parts.status.as_u16(),
        content_type: parts.headers.get(header::CONTENT_TYPE).cloned(),
        body: body.clone(),
    };
    state.lock().idempotent.insert(key.clone(), replay);
    Response::from_parts(parts, axum::body::Body::from(body))
}

/// Marks a response whose connection is to be closed without sending it (see
/// [`serve`]).
#[derive(Clone)]
struct DropConnection;

/// An answer that is never sent: the connection closes instead.
fn dropped() -> Response {
    let mut response = StatusCode::BAD_GATEWAY.into_response();
    response.extensions_mut().insert(DropConnection);
    response
}

/// Serves `app` on `listener` until the task is dropped: HTTP/1.1 through hyper
/// directly rather than `axum::serve`, so that an injected fault can close the
/// connection without an answer (a service error makes hyper close the socket
/// without writing anything, as the storage side's resets do).
pub async fn serve(listener: tokio::net::TcpListener, app: Router) {
    use tower::ServiceExt;
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let app = app.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let app = app.clone();
                async move {
                    let response = match app.oneshot(request).await {
                        Ok(response) => response,
                        Err(never) => match never {},
                    };
                    if response.extensions().get::<DropConnection>().is_some() {
                        return Err("answer dropped by fault injection");
                    }
                    Ok(response)
                }
            });
            // A connection closed by an injected fault ends with an error here: expected.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

fn with_fault(mut response: Response, fault: &str) -> Response {
    response
        .extensions_mut()
        .insert(InjectedFault(fault.into()));
    response
}

/// Marks an answer that handed out instructions already expired (for the request log).
fn with_validity(response: Response, validity: crate::s3_client::Validity) -> Response {
    if validity.expired {
        with_fault(response, "instructions expired")
    } else {
        response
    }
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn unauthorized(message: &str) -> Response {
    let mut response = ApiError::new(StatusCode::UNAUTHORIZED, message).into_response();
    response.headers_mut().insert(
        "www-authenticate",
        HeaderValue::from_static("Bearer realm=\"procore-sandbox\""),
    );
    response
}

fn too_many_requests(retry_after: u64) -> Response {
    let mut response =
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate limit exceeded").into_response();
    if let Ok(value) = HeaderValue::from_str(&retry_after.to_string()) {
        response.headers_mut().insert("retry-after", value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_look_like_procores() {
        let (a, b) = (new_uuid(), new_uuid());
        assert_eq!(a.len(), 26);
        assert_ne!(a, b);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()));
    }

    #[test]
    fn bearer_tokens() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer_token(&headers), None);
        headers.insert("authorization", HeaderValue::from_static("Bearer abc"));
        assert_eq!(bearer_token(&headers), Some("abc"));
        headers.insert("authorization", HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer_token(&headers), None);
    }
}
