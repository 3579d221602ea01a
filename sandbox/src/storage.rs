//! The embedded S3 store: s3s (the S3 protocol: SigV4 header and presigned auth, POST
//! policies) over s3s-fs (objects in a folder), behind the checks S3 makes that those
//! leave out, CORS, the request log and fault injection.
//!
//! Served by hyper directly rather than axum so that a fault can drop the connection
//! mid-body: a service error makes hyper close the socket without an answer.
//!
//! Each client request is logged when it arrives and stamped `finished_ms` when it
//! ends. A client that closes the connection is noticed without help: while the
//! handler reads the body, the read fails; once the body is read (a stalled upload, a
//! slow answer), hyper's HTTP/1 dispatcher keeps reading the socket for EOF and, on
//! EOF, ends the connection and drops the handler's future. The log entry's guard
//! (`OpenEntry`) stamps the entry when it is dropped. (During `storage_latency_ms`,
//! before the body is read, the unread body hides the EOF: a close is noticed when
//! the latency is over.)

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use anyhow::{Context, Result};
use axum::http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use base64::Engine;
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body as _, Frame, Incoming, SizeHint};
use md5::Md5;
use s3s::service::{S3Service, S3ServiceBuilder};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;

use crate::s3_client::INTERNAL_USER_AGENT;
use crate::state::{header_pairs, AppState, Inner, LoggedRequest};

type StdError = Box<dyn std::error::Error + Send + Sync>;

/// The S3 service over a folder, accepting one key pair.
pub fn s3_service(
    root: &std::path::Path,
    bucket: &str,
    access_key: &str,
    secret_key: &str,
) -> Result<S3Service> {
    std::fs::create_dir_all(root.join(bucket)).context("creating the bucket folder")?;
    let fs = s3s_fs::FileSystem::new(root)
        .map_err(|error| anyhow::anyhow!("opening the store folder: {error:?}"))?;
    let mut builder = S3ServiceBuilder::new(crate::store::Store::new(fs));
    builder.set_auth(s3s::auth::SimpleAuth::from_single(access_key, secret_key));
    Ok(builder.build())
}

/// Serves `service` on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, state: AppState, service: S3Service) {
    let service = Arc::new(service);
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let (state, service) = (state.clone(), service.clone());
        tokio::spawn(async move {
            let handler =
                hyper::service::service_fn(move |req| handle(state.clone(), service.clone(), req));
            // A connection ended by an injected reset ends with an error here: expected.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), handler)
                .await;
        });
    }
}

/// What to do with one client request, decided before it is served.
enum Fault {
    Error(u16),
    Reset,
    /// Read the body, then hold the request this long and drop the connection.
    Stall(Duration),
}

/// How long a stalled upload is held when `storage_stall_ms` is not set.
const DEFAULT_STALL_MS: u64 = 120_000;

async fn handle(
    state: AppState,
    service: Arc<S3Service>,
    req: Request<Incoming>,
) -> Result<Response<LoggedBody>, StdError> {
    let internal = req
        .headers()
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        == Some(INTERNAL_USER_AGENT);
    if internal {
        let response = serve_checked(&service, req)
            .await
            .map_err(|_| "the sandbox's own storage request was cut short")?;
        return Ok(response.map(|body| LoggedBody { body, entry: None }));
    }
    let origin = req.headers().get("origin").cloned();
    let mut entry = OpenEntry::start(&state, &req);
    match serve_client(&state, &service, req, &entry).await {
        Ok(mut response) => {
            if let Some(origin) = origin {
                add_cors(response.headers_mut(), origin, !state.config.hide_etag);
            }
            entry.settle(response.status().as_u16());
            // The entry finishes when hyper is done with the body.
            Ok(response.map(|body| LoggedBody {
                body,
                entry: Some(entry),
            }))
        }
        Err(Dropped::Reset) => {
            entry.settle(0);
            Err("connection reset by fault injection".into())
        }
        Err(Dropped::Stalled) => {
            entry.settle(0);
            Err("stalled upload dropped by fault injection".into())
        }
        Err(Dropped::ClientGone) => {
            entry.settle(CLIENT_CLOSED_REQUEST);
            Err("the client closed the connection".into())
        }
    }
}

/// Why a request ends without an answer.
enum Dropped {
    /// Injected fault: drop the connection mid-body.
    Reset,
    /// Injected fault: a stalled upload held until `storage_stall_ms` passed.
    Stalled,
    /// The client went away (aborted) before its body arrived.
    ClientGone,
}

/// Logged status of a request whose client closed the connection (nginx's 499).
pub const CLIENT_CLOSED_REQUEST: u16 = 499;

/// A client request's log entry while the request is open. Logged on arrival; when
/// dropped, it stamps `finished_ms`. It lives in the handler, then in the answer's
/// body, so it drops when hyper has taken the whole answer, when the handler ends
/// without one, or when hyper drops the handler because the client closed the
/// connection (status 499 then, as no answer was decided).
struct OpenEntry {
    state: AppState,
    id: u64,
    /// The sandbox decided the status (an answer, or a drop on purpose).
    settled: bool,
}

impl OpenEntry {
    fn start(state: &AppState, req: &Request<Incoming>) -> Self {
        let entry = LoggedRequest {
            side: "storage",
            method: req.method().to_string(),
            path: req.uri().path().to_string(),
            query: req.uri().query().map(str::to_string),
            headers: header_pairs(req.headers()),
            status: 0,
            fault: None,
            received_ms: state.elapsed_ms(),
            finished_ms: None,
            id: 0,
        };
        let id = state.lock().push_log(entry);
        Self {
            state: state.clone(),
            id,
            settled: false,
        }
    }

    /// Changes the entry, unless the log was cleared since it was made.
    fn update(&self, change: impl FnOnce(&mut LoggedRequest)) {
        if let Some(entry) = self.state.lock().log_entry(self.id) {
            change(entry);
        }
    }

    fn set_fault(&self, fault: String) {
        self.update(|entry| entry.fault = Some(fault));
    }

    /// The sandbox decided how the request ends: an answer with `status`, or no
    /// answer (0: dropped on purpose; 499: the client had gone).
    fn settle(&mut self, status: u16) {
        self.settled = true;
        self.update(|entry| entry.status = status);
    }
}

impl Drop for OpenEntry {
    fn drop(&mut self) {
        let now = self.state.elapsed_ms();
        let settled = self.settled;
        self.update(|entry| {
            if !settled {
                entry.status = CLIENT_CLOSED_REQUEST;
            }
            entry.finished_ms.get_or_insert(now);
        });
    }
}

/// A storage answer's body, holding its request's log entry until hyper has taken the
/// last of it (or dropped it with the connection).
struct LoggedBody {
    body: s3s::Body,
    entry: Option<OpenEntry>,
}

impl hyper::body::Body for LoggedBody {
    type Data = Bytes;
    type Error = StdError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, StdError>>> {
        let this = self.get_mut();
        let frame = Pin::new(&mut this.body).poll_frame(cx);
        if matches!(frame, Poll::Ready(None)) {
            // The answer is complete even if hyper keeps the body a while.
            this.entry.take();
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

async fn serve_client(
    state: &AppState,
    service: &S3Service,
    req: Request<Incoming>,
    entry: &OpenEntry,
) -> Result<Response<s3s::Body>, Dropped> {
    if req.method() == Method::OPTIONS {
        return Ok(preflight(req.headers()));
    }
    let carries_body = !req.body().is_end_stream();
    let (latency, fault) = {
        let mut inner = state.lock();
        (
            inner.faults.storage_latency_ms,
            decide_fault(&mut inner, req.method(), carries_body),
        )
    };
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    match fault {
        Some(Fault::Stall(hold)) => {
            entry.set_fault("stall".into());
            // The whole body first, so the client sees its upload reach the end. If the
            // client then closes the connection, hyper drops this future (see the
            // module comment) and the entry is stamped at once.
            if req.into_body().collect().await.is_err() {
                return Err(Dropped::ClientGone);
            }
            tokio::time::sleep(hold).await;
            return Err(Dropped::Stalled);
        }
        Some(Fault::Error(status)) => {
            entry.set_fault(format!("error {status}"));
            // S3 answers an internal error after the body, as here. An answer sent
            // before the body is read makes hyper close the connection mid-upload,
            // which WebKit reports as a network error rather than this status.
            if req.into_body().collect().await.is_err() {
                return Err(Dropped::ClientGone);
            }
            let code = if status == 503 {
                "SlowDown"
            } else {
                "InternalError"
            };
            return Ok(s3_error(
                status,
                code,
                "Injected by the sandbox's fault injection.",
            ));
        }
        Some(Fault::Reset) => {
            entry.set_fault("reset".into());
            // Take part of the body, then drop the connection.
            let mut body = req.into_body();
            let _ = body.frame().await;
            return Err(Dropped::Reset);
        }
        None => {}
    }
    if let Some(refusal) = refuse_token(&req) {
        return Ok(refusal);
    }
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Err(Dropped::ClientGone),
    };
    if let Some(refusal) = check_digests(&parts.headers, parts.uri.query(), &body) {
        return Ok(refusal);
    }
    let is_post = parts.method == Method::POST;
    let body = s3s_body(&parts.method, body);
    let response = call_s3(service, Request::from_parts(parts, body)).await;
    if is_post && response.status() == StatusCode::BAD_REQUEST {
        return Ok(as_s3_policy_refusal(response).await);
    }
    Ok(response)
}

/// s3s answers a failed POST policy condition with 400 InvalidPolicyDocument; S3
/// answers 403 AccessDenied "Invalid according to Policy". Answer as S3 does.
async fn as_s3_policy_refusal(response: Response<s3s::Body>) -> Response<s3s::Body> {
    let (parts, body) = response.into_parts();
    let Ok(collected) = body.collect().await else {
        return s3_error(400, "InvalidRequest", "unreadable error");
    };
    let text = String::from_utf8_lossy(&collected.to_bytes()).into_owned();
    if text.contains("<Code>InvalidPolicyDocument</Code>") && text.contains("Policy condition") {
        let detail = text
            .split("<Message>")
            .nth(1)
            .and_then(|rest| rest.split("</Message>").next())
            .unwrap_or_default();
        return s3_error(
            403,
            "AccessDenied",
            &format!("Invalid according to Policy: Policy Condition failed: {detail}"),
        );
    }
    Response::from_parts(parts, s3s::Body::from(text))
}

async fn serve_checked(
    service: &S3Service,
    req: Request<Incoming>,
) -> Result<Response<s3s::Body>, Dropped> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map_err(|_| Dropped::ClientGone)?
        .to_bytes();
    let body = s3s_body(&parts.method, body);
    Ok(call_s3(service, Request::from_parts(parts, body)).await)
}

/// The body as s3s takes it. s3s parses a POST form as a stream and refuses to buffer
/// more than 20 MB before it reaches the file part, so a form goes in two pieces: up
/// to the end of the file part's headers, then the rest. (Its file-part scanner also
/// lost the closing boundary of some browser-made bodies when the rest came in many
/// small pieces; one piece is what it handles reliably.)
fn s3s_body(method: &Method, body: Bytes) -> s3s::Body {
    let split = (*method == Method::POST)
        .then(|| file_part_start(&body))
        .flatten()
        .filter(|&at| at < body.len());
    let Some(at) = split else {
        return s3s::Body::from(body);
    };
    let frames: Vec<Result<hyper::body::Frame<Bytes>, std::convert::Infallible>> = vec![
        Ok(hyper::body::Frame::data(body.slice(..at))),
        Ok(hyper::body::Frame::data(body.slice(at..))),
    ];
    s3s::Body::http_body(http_body_util::StreamBody::new(futures_util::stream::iter(
        frames,
    )))
}

/// Offset just past the headers of the `file` part of a multipart form.
fn file_part_start(body: &[u8]) -> Option<usize> {
    let find =
        |haystack: &[u8], needle: &[u8]| haystack.windows(needle.len()).position(|w| w == needle);
    let name = find(body, b"name=\"file\"")?;
    let end = find(&body[name..], b"\r\n\r\n")?;
    Some(name + end + 4)
}

async fn call_s3(service: &S3Service, req: Request<s3s::Body>) -> Response<s3s::Body> {
    match service.call(req).await {
        Ok(response) => response,
        Err(error) => s3_error(500, "InternalError", &format!("{error:?}")),
    }
}

/// At most one fault per request: the "next N" counters first (error, reset, stall),
/// then the rates in the same order. Only uploads are reset, only uploads with a body
/// stall.
fn decide_fault(inner: &mut Inner, method: &Method, carries_body: bool) -> Option<Fault> {
    let uploads = *method == Method::PUT || *method == Method::POST;
    let stallable = uploads && carries_body;
    if Inner::take(&mut inner.faults.storage_fail_next) {
        return Some(injected_error(inner));
    }
    if uploads && Inner::take(&mut inner.faults.storage_reset_next) {
        return Some(Fault::Reset);
    }
    if stallable && Inner::take(&mut inner.faults.storage_stall_next) {
        return Some(stall(inner));
    }
    let (error_rate, reset_rate, stall_rate) = (
        inner.faults.storage_error_rate,
        inner.faults.storage_reset_rate,
        inner.faults.storage_stall_rate,
    );
    if inner.chance(error_rate) {
        return Some(injected_error(inner));
    }
    if uploads && inner.chance(reset_rate) {
        return Some(Fault::Reset);
    }
    if stallable && inner.chance(stall_rate) {
        return Some(stall(inner));
    }
    None
}

/// An injected error: a status picked from `storage_error_statuses` when it has any,
/// else `storage_error_status` (503 by default).
fn injected_error(inner: &mut Inner) -> Fault {
    let statuses = inner.faults.storage_error_statuses.clone();
    let status = inner
        .pick(&statuses)
        .or(inner.faults.storage_error_status)
        .unwrap_or(503);
    Fault::Error(status)
}

fn stall(inner: &Inner) -> Fault {
    Fault::Stall(Duration::from_millis(
        inner.faults.storage_stall_ms.unwrap_or(DEFAULT_STALL_MS),
    ))
}

/// S3 refuses a second credential next to a presigned URL or POST policy; a Procore
/// token sent to storage is exactly that mistake.
fn refuse_token(req: &Request<Incoming>) -> Option<Response<s3s::Body>> {
    let authorization = req.headers().get("authorization")?;
    let presigned = req
        .uri()
        .query()
        .is_some_and(|q| q.contains("X-Amz-Signature="));
    let form = req.method() == Method::POST
        && req
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
    if presigned || form {
        return Some(s3_error(
            400,
            "InvalidArgument",
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, \
             Signature query string parameter or the Authorization header should be specified",
        ));
    }
    if authorization
        .to_str()
        .is_ok_and(|v| v.starts_with("Bearer"))
    {
        return Some(s3_error(
            400,
            "InvalidArgument",
            "Unsupported Authorization Type",
        ));
    }
    None
}

/// The body checks S3 makes on a presigned PUT: `Content-MD5` and a hex
/// `x-amz-content-sha256` must match the bytes.
fn check_digests(
    headers: &HeaderMap,
    query: Option<&str>,
    body: &Bytes,
) -> Option<Response<s3s::Body>> {
    if !query.is_some_and(|q| q.contains("X-Amz-Signature=")) {
        return None;
    }
    if let Some(md5) = headers.get("content-md5") {
        let declared = md5
            .to_str()
            .ok()
            .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok());
        match declared {
            Some(declared) if declared.len() == 16 => {
                if declared[..] != Md5::digest(body)[..] {
                    return Some(s3_error(
                        400,
                        "BadDigest",
                        "The Content-MD5 you specified did not match what we received.",
                    ));
                }
            }
            _ => {
                return Some(s3_error(
                    400,
                    "InvalidDigest",
                    "The Content-MD5 you specified was invalid.",
                ))
            }
        }
    }
    if let Some(sha256) = headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
    {
        let is_hex_digest = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit());
        if is_hex_digest && !sha256.eq_ignore_ascii_case(&hex::encode(Sha256::digest(body))) {
            return Some(s3_error(
                400,
                "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            ));
        }
    }
    None
}

fn preflight(headers: &HeaderMap) -> Response<s3s::Body> {
    let mut response = Response::new(s3s::Body::empty());
    let out = response.headers_mut();
    out.insert(
        "access-control-allow-methods",
        HeaderValue::from_static("GET, PUT, POST, HEAD"),
    );
    if let Some(requested) = headers.get("access-control-request-headers") {
        out.insert("access-control-allow-headers", requested.clone());
    }
    out.insert("access-control-max-age", HeaderValue::from_static("600"));
    response
}

fn add_cors(headers: &mut HeaderMap, origin: HeaderValue, expose_etag: bool) {
    headers.insert("access-control-allow-origin", origin);
    headers.insert("vary", HeaderValue::from_static("Origin"));
    if expose_etag {
        headers.insert(
            "access-control-expose-headers",
            HeaderValue::from_static("ETag"),
        );
    }
}

/// An S3-style XML error answer.
pub fn s3_error(status: u16, code: &str, message: &str) -> Response<s3s::Body> {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    let mut response = Response::new(s3s::Body::from(body));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/xml"));
    response
}

/// Binds the store's port.
pub async fn bind(host: std::net::IpAddr, port: u16) -> Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind((host, port))
        .await
        .context("binding the storage port")?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}
