//! `ProcoreClient`: options in, the engine through the web adapter, results out.

use std::cell::Cell;
use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

use super::{PacedProgress, ProgressCallback};
use crate::core::api::{checked_headers, checked_path, with_idempotency_token, ApiClient};
use crate::core::engine::{
    self, Phase, Progress, UploadOptions, DEFAULT_PROCESSING_TIMEOUT_MS, MAX_CONCURRENCY,
};
use crate::core::hash::{HashBackend, HashOptions};
use crate::core::http::Method;
use crate::core::json::Json;
use crate::core::plan::{plan_segments, ApiVersion, Segmented};
use crate::core::protocol::{FileMeta, Scope};
use crate::core::resources::{self, attach_upload, target_project, ResourceCall};
use crate::core::runtime::{Limits, Shared};
use crate::core::source::ByteSource;
use crate::core::workers::DEFAULT_WORKERS;
use crate::core::Error;
use crate::web::abort;
use crate::web::blob::BlobSource;
use crate::web::error::to_js_error;
use crate::web::hashing::{Hashing, MAX_WORKERS};
use crate::web::http::WebHttp;
use crate::web::js::{
    array, json_text, number, object, object_of, parse_json_answer, random_token, text_pairs,
    Options,
};
use crate::web::store::WebStore;
use crate::web::tokens::JsTokens;
use crate::web::workers::{WorkerPool, WorkerRuntime};

/// Hashing workers end after this long without work, by default.
const DEFAULT_WORKER_IDLE_MS: u64 = 10_000;
/// Most uploads a client may send at once.
const MAX_ACTIVE_UPLOADS: u64 = 64;

/// The client's settings and the runtime all its calls share.
pub(super) struct Settings {
    pub(super) company_id: u64,
    base_url: String,
    version: ApiVersion,
    allow_insecure_storage: bool,
    /// Tokens, the 429 hold, and the slots for storage requests, uploads and hashing.
    pub(super) shared: Shared<JsTokens>,
    /// The client's hashing workers; `None` where Workers do not exist.
    pub(super) pool: Option<WorkerPool>,
    /// Workers a hashing uses unless it says.
    default_workers: usize,
    /// Aborted by `close()`: stops every call in progress.
    pub(super) closing: abort::Controller,
    /// Where `start()` keeps upload states; `None`: not kept.
    pub(super) store: Option<Rc<WebStore>>,
}

/// Uploads files to one Procore company.
#[wasm_bindgen(skip_typescript)]
pub struct ProcoreClient {
    settings: Rc<Settings>,
}

#[wasm_bindgen]
impl ProcoreClient {
    /// `new ProcoreClient({ companyId, accessToken | getAccessToken, baseUrl?,
    /// apiVersion?, allowInsecureStorage? }, { createWorker, module })`; the second
    /// argument comes from `index.js` (null where there are no Workers). Throws
    /// `INVALID_INPUT` on bad options.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue, runtime: JsValue) -> Result<ProcoreClient, JsValue> {
        Settings::from_js(&options, &runtime)
            .map(|settings| ProcoreClient {
                settings: Rc::new(settings),
            })
            .map_err(|error| to_js_error(&error))
    }

    /// Uploads a `Blob`/`File`; resolves to `UploadResult`.
    pub fn upload(&self, file: JsValue, options: JsValue) -> Promise {
        super::promise(upload(self.settings.clone(), file, options, None))
    }

    /// `start(file, options?)`: like `upload`, as a handle with `pause()`,
    /// `resume()`, `cancel()`, `state`, `status` and `done`; `options.resume`:
    /// `"auto"` or a state from `findResumable`. Throws `INVALID_INPUT` on bad input.
    pub fn start(
        &self,
        file: JsValue,
        options: JsValue,
    ) -> Result<super::task::UploadTask, JsValue> {
        super::task::start(&self.settings, file, &options).map_err(|error| to_js_error(&error))
    }

    /// `findResumable(file, options?)`: the kept states of `file` for the scope the
    /// options give (`projectId`, `apiVersion`, `filename`).
    #[wasm_bindgen(js_name = findResumable)]
    pub fn find_resumable(&self, file: JsValue, options: JsValue) -> Promise {
        let settings = self.settings.clone();
        super::promise(super::task::find_resumable(settings, file, options))
    }

    /// `uploadAndAttach(file, target, options?)`: uploads, then attaches the upload to
    /// the resource `target` names (`{ projectFile: {…} }`, `{ image }`, …); one
    /// progress stream, `done` after the attach step. Resolves to `{ upload, attached }`.
    #[wasm_bindgen(js_name = uploadAndAttach)]
    pub fn upload_and_attach(&self, file: JsValue, target: JsValue, options: JsValue) -> Promise {
        super::promise(upload(self.settings.clone(), file, options, Some(target)))
    }

    /// `request(method, path, { query?, body?, headers?, signal? })`: one
    /// authenticated call to the API with the client's token, company, retries and
    /// typed errors; resolves to the parsed JSON answer (`null` when there is none).
    pub fn request(&self, method: JsValue, path: JsValue, options: JsValue) -> Promise {
        let prepared = prepare_request(&method, &path, &options);
        super::promise(send(self.settings.clone(), prepared))
    }

    /// `createProjectFile({ projectId, uploadUuid, name, parentId?, description?, … })`.
    #[wasm_bindgen(js_name = createProjectFile)]
    pub fn create_project_file(&self, options: JsValue) -> Promise {
        self.attach(options, &|_, input| resources::project_file(input))
    }

    /// `createCompanyFile({ uploadUuid, name, parentId?, description?, … })`.
    #[wasm_bindgen(js_name = createCompanyFile)]
    pub fn create_company_file(&self, options: JsValue) -> Promise {
        self.attach(options, &|settings, input| {
            resources::company_file(settings.company_id, input)
        })
    }

    /// `createImage({ projectId, uploadUuid, imageName, source?, image? })`.
    #[wasm_bindgen(js_name = createImage)]
    pub fn create_image(&self, options: JsValue) -> Promise {
        self.attach(options, &|_, input| resources::image(input))
    }

    /// `listDrawingAreas(projectId)`.
    #[wasm_bindgen(js_name = listDrawingAreas)]
    pub fn list_drawing_areas(&self, project_id: JsValue) -> Promise {
        self.attach(JsValue::UNDEFINED, &|_, _| {
            Ok(resources::drawing_areas(positive(
                &project_id,
                "projectId",
            )?))
        })
    }

    /// `createDrawing(drawingAreaId, { number, title?, disciplineName, … })`.
    #[wasm_bindgen(js_name = createDrawing)]
    pub fn create_drawing(&self, drawing_area_id: JsValue, options: JsValue) -> Promise {
        self.attach(options, &|_, input| {
            resources::drawing(positive(&drawing_area_id, "drawingAreaId")?, input)
        })
    }

    /// `createDrawingUpload({ projectId, drawingAreaId, drawingSetId, imports })`.
    #[wasm_bindgen(js_name = createDrawingUpload)]
    pub fn create_drawing_upload(&self, options: JsValue) -> Promise {
        self.attach(options, &|_, input| resources::drawing_upload(input))
    }

    /// `createAccidentLog(projectId, { uploadIds, timeHour?, timeMinute?, … })`.
    #[wasm_bindgen(js_name = createAccidentLog)]
    pub fn create_accident_log(&self, project_id: JsValue, options: JsValue) -> Promise {
        self.attach(options, &|_, input| {
            resources::accident_log(positive(&project_id, "projectId")?, input)
        })
    }

    /// Stops the client: every upload and call in progress rejects with `AbortError`,
    /// the hashing workers end, and later calls are refused (`INVALID_INPUT`).
    pub fn close(&self) {
        self.settings.closing.abort();
        if let Some(pool) = &self.settings.pool {
            pool.close();
        }
    }

    /// Hashes a `Blob`/`File` segment by segment, as `upload` would with these
    /// options; resolves to `{ size, segments: [{ size, sha256, md5? }] }`.
    #[wasm_bindgen(js_name = hashFile)]
    pub fn hash_file(&self, file: JsValue, options: JsValue) -> Promise {
        let settings = self.settings.clone();
        super::promise(async move { hash_file(&settings, file, &options).await })
    }
}

impl ProcoreClient {
    /// Runs an attach call: the options (all but `signal`) as JSON through `build`,
    /// then the call through the API client. Resolves to the parsed answer.
    fn attach(
        &self,
        options: JsValue,
        build: &dyn Fn(&Settings, &Json) -> Result<ResourceCall, Error>,
    ) -> Promise {
        let prepared = prepare_attach(&self.settings, &options, build);
        super::promise(send(self.settings.clone(), prepared))
    }
}

/// An API call with everything checked, ready to send.
struct Prepared {
    method: Method,
    path_and_query: String,
    body: Option<String>,
    headers: Vec<(String, String)>,
    signal: Option<AbortSignal>,
}

/// Sends a prepared call (or rejects with why it could not be prepared): one future
/// type for `request` and every attach call, so the wasm holds one copy of it.
async fn send(settings: Rc<Settings>, prepared: Result<Prepared, Error>) -> Result<JsValue, Error> {
    call_api(&settings, prepared?).await
}

/// Sends a prepared call: the parsed answer.
async fn call_api(settings: &Settings, call: Prepared) -> Result<JsValue, Error> {
    let watch = settings.watch(call.signal.as_ref())?;
    let http = WebHttp::without_file(Some(watch.signal()));
    let api = ApiClient {
        http: &http,
        shared: &settings.shared,
        base_url: &settings.base_url,
        company_id: settings.company_id,
    };
    let url = api.url(&call.path_and_query);
    let response = api
        .call(call.method, &url, call.body, &call.headers)
        .await?;
    parse_json_answer(&response.body)
}

/// A resource call ready to send (a POST or PATCH with an `Idempotency-Token`).
fn prepared(call: ResourceCall, signal: Option<AbortSignal>) -> Prepared {
    Prepared {
        method: call.method,
        path_and_query: call.path,
        body: call.body.map(|body| body.to_string()),
        headers: with_idempotency_token(call.method, Vec::new(), random_token),
        signal,
    }
}

/// A JS value as JSON data (`JSON.stringify`, then parsed), without its top-level
/// `signal`; `undefined` and `null` are an empty object.
fn json_value(raw: &JsValue, what: &str) -> Result<Json, Error> {
    let mut value = if raw.is_undefined() || raw.is_null() {
        Json::object()
    } else {
        Json::parse(&json_text(raw, what)?)
            .map_err(|error| Error::InvalidInput(format!("{what} is not JSON data: {error}")))?
    };
    value.remove("signal");
    Ok(value)
}

fn prepare_attach(
    settings: &Settings,
    raw: &JsValue,
    build: &dyn Fn(&Settings, &Json) -> Result<ResourceCall, Error>,
) -> Result<Prepared, Error> {
    let options = Options::new(raw, "options")?;
    let signal = options.instance::<AbortSignal>("signal", "an AbortSignal")?;
    let call = build(settings, &json_value(raw, "options")?)?;
    Ok(prepared(call, signal))
}

/// A positive integer id passed as an argument.
fn positive(value: &JsValue, name: &str) -> Result<u64, Error> {
    crate::web::js::positive_integer(value)
        .ok_or_else(|| Error::InvalidInput(format!("{name} must be a positive integer")))
}

impl Settings {
    /// What stops a call: its own `signal` or the client's `close()`. A closed
    /// client refuses the call; an aborted signal aborts it.
    pub(super) fn watch(&self, signal: Option<&AbortSignal>) -> Result<abort::Either, Error> {
        if self.closing.is_aborted() {
            return Err(Error::InvalidInput("this ProcoreClient was closed".into()));
        }
        abort::check(signal)?;
        abort::Either::new(signal, &self.closing.signal())
    }

    fn from_js(raw: &JsValue, runtime: &JsValue) -> Result<Self, Error> {
        if raw.is_undefined() || raw.is_null() {
            return Err(Error::InvalidInput(
                "ProcoreClient needs options: { companyId, accessToken }".into(),
            ));
        }
        let options = Options::new(raw, "options")?;
        let company_id = options
            .positive_id("companyId")?
            .ok_or_else(|| Error::InvalidInput("options.companyId is required".into()))?;
        let tokens = match (options.string("accessToken")?, options.function("getAccessToken")?) {
            (Some(token), None) if !token.is_empty() => JsTokens::Fixed(token),
            (None, Some(provider)) => JsTokens::Provider(provider),
            (Some(_), Some(_)) => {
                return Err(Error::InvalidInput(
                    "pass one of options.accessToken and options.getAccessToken, not both".into(),
                ))
            }
            _ => {
                return Err(Error::InvalidInput(
                    "options.accessToken (a non-empty string) or options.getAccessToken (a function) is required".into(),
                ))
            }
        };
        let base_url = options
            .string("baseUrl")?
            .unwrap_or_else(|| "https://api.procore.com".into());
        if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
            return Err(Error::InvalidInput(format!(
                "options.baseUrl must be an http(s) URL, got {}",
                crate::core::json::quote(&base_url)
            )));
        }
        let version = match options.string("apiVersion")? {
            Some(text) => ApiVersion::parse(&text)?,
            None => ApiVersion::V11,
        };
        let limits = Limits {
            concurrency: bounded(&options, "concurrency", 1, MAX_CONCURRENCY as u64)?
                .unwrap_or(Limits::default().concurrency),
            max_active_uploads: bounded(&options, "maxActiveUploads", 1, MAX_ACTIVE_UPLOADS)?
                .unwrap_or(Limits::default().max_active_uploads),
            stall_timeout_ms: options
                .whole_number("stallTimeoutMs")?
                .unwrap_or(Limits::default().stall_timeout_ms),
        };
        let default_workers =
            bounded(&options, "workers", 0, MAX_WORKERS)?.unwrap_or(DEFAULT_WORKERS);
        let idle_ms = options
            .whole_number("workerIdleMs")?
            .unwrap_or(DEFAULT_WORKER_IDLE_MS);
        let store = match options.get("store")? {
            None => WebStore::indexed_db().map(Rc::new),
            Some(value) if value.as_bool() == Some(false) || value.is_null() => None,
            Some(value) => Some(Rc::new(WebStore::custom(&value)?)),
        };
        let pool = worker_runtime(runtime)?
            .map(|runtime| WorkerPool::new(runtime, default_workers.max(1), idle_ms));
        Ok(Self {
            company_id,
            base_url,
            version,
            allow_insecure_storage: options.bool("allowInsecureStorage")?.unwrap_or(false),
            shared: Shared::new(tokens, limits),
            pool,
            default_workers,
            store,
            closing: abort::Controller::new()?,
        })
    }
}

/// `options[name]` as a whole number in `min..=max`, if given.
fn bounded(options: &Options<'_>, name: &str, min: u64, max: u64) -> Result<Option<usize>, Error> {
    match options.whole_number(name)? {
        None => Ok(None),
        Some(n) if (min..=max).contains(&n) => Ok(usize::try_from(n).ok()),
        Some(n) => Err(Error::InvalidInput(format!(
            "options.{name} must be a whole number from {min} to {max}, got {n}"
        ))),
    }
}

/// `{ createWorker, module }` from `index.js`, or `None`.
fn worker_runtime(raw: &JsValue) -> Result<Option<WorkerRuntime>, Error> {
    if raw.is_undefined() || raw.is_null() {
        return Ok(None);
    }
    let runtime = Options::new(raw, "runtime")?;
    let (Some(create_worker), Some(module)) =
        (runtime.function("createWorker")?, runtime.get("module")?)
    else {
        return Ok(None);
    };
    Ok(Some(WorkerRuntime {
        create_worker,
        module,
    }))
}

/// Hashing workers asked for: `workers` (0 = on the calling thread), else one per
/// core up to 4; none where Workers do not exist.
fn worker_count(settings: &Settings, options: &Options<'_>) -> Result<usize, Error> {
    let asked = options.whole_number("workers")?;
    let asked = match asked.map(usize::try_from) {
        Some(Ok(n)) if n as u64 <= MAX_WORKERS => Some(n),
        None => None,
        Some(_) => {
            return Err(Error::InvalidInput(format!(
                "options.workers must be at most {MAX_WORKERS}"
            )))
        }
    };
    Ok(match (&settings.pool, asked) {
        (None, _) => 0,
        (Some(_), Some(n)) => n,
        (Some(_), None) => settings.default_workers,
    })
}

/// `upload()` options besides the file.
pub(super) struct Call {
    pub(super) options: UploadOptions,
    pub(super) workers: usize,
    pub(super) on_progress: ProgressCallback,
    pub(super) signal: Option<AbortSignal>,
}

pub(super) fn read_call(
    settings: &Settings,
    source: &BlobSource,
    raw: &JsValue,
) -> Result<Call, Error> {
    let options = Options::new(raw, "options")?;
    let project_id = options.positive_id("projectId")?;
    let segmented = match options.get("segmented")? {
        None => Segmented::Auto,
        Some(value) if value.as_bool() == Some(true) => Segmented::Yes,
        Some(value) if value.as_bool() == Some(false) => Segmented::No,
        Some(value) if value.as_string().as_deref() == Some("auto") => Segmented::Auto,
        Some(value) => return Err(options.invalid("segmented", "true, false or \"auto\"", &value)),
    };
    let concurrency = options
        .whole_number("concurrency")?
        .unwrap_or(settings.shared.limits.concurrency as u64);
    let workers = worker_count(settings, &options)?;
    let md5 = options.bool("md5")?.unwrap_or(true);
    let hash = HashOptions::new(md5, options.whole_number("chunkSize")?)?;
    let name = match options.string("filename")? {
        Some(name) => name,
        None => source.name(),
    };
    let content_type = match options.string("contentType")? {
        Some(content_type) => Some(content_type),
        None => source.content_type(),
    };
    Ok(Call {
        options: UploadOptions {
            scope: Scope {
                base_url: settings.base_url.clone(),
                version: match options.string("apiVersion")? {
                    Some(text) => ApiVersion::parse(&text)?,
                    None => settings.version,
                },
                company_id: settings.company_id,
                project_id,
            },
            file: FileMeta {
                name,
                size: source.size(),
                content_type,
                attachment: options.bool("attachmentContentDisposition")?,
            },
            segmented,
            segment_size: options.whole_number("segmentSize")?,
            md5,
            concurrency: usize::try_from(concurrency).unwrap_or(usize::MAX),
            allow_insecure_storage: settings.allow_insecure_storage,
            processing_timeout_ms: options
                .whole_number("processingTimeoutMs")?
                .unwrap_or(DEFAULT_PROCESSING_TIMEOUT_MS),
            chunk_size: hash.chunk_size,
        },
        workers,
        on_progress: ProgressCallback(options.function("onProgress")?),
        signal: options.instance::<AbortSignal>("signal", "an AbortSignal")?,
    })
}

/// One segment of an `upload()` or `hashFile()` result: `{ size, sha256, md5?, etag? }`.
fn js_segment(size: u64, sha256: String, md5: Option<String>, etag: Option<String>) -> JsValue {
    object_of(&[
        ("size", Some(number(size))),
        ("sha256", Some(sha256.into())),
        ("md5", md5.map(JsValue::from)),
        ("etag", etag.map(JsValue::from)),
    ])
}

/// `upload` and `uploadAndAttach` (with a `target`): one future type for both.
async fn upload(
    settings: Rc<Settings>,
    file: JsValue,
    options: JsValue,
    target: Option<JsValue>,
) -> Result<JsValue, Error> {
    upload_then_attach(&settings, file, &options, target.as_ref()).await
}

async fn upload_then_attach(
    settings: &Settings,
    file: JsValue,
    raw: &JsValue,
    target: Option<&JsValue>,
) -> Result<JsValue, Error> {
    let source = BlobSource::from_js(file)?;
    let mut call = read_call(settings, &source, raw)?;
    // The whole target is checked before anything is sent.
    let target = target
        .map(|target| json_value(target, "target"))
        .transpose()?;
    if let Some(target) = &target {
        attach_upload(
            target,
            "pending",
            &call.options.file.name,
            settings.company_id,
        )?;
        if call.options.scope.project_id.is_none() {
            call.options.scope.project_id = target_project(target);
        }
    }
    let watch = settings.watch(call.signal.as_ref())?;
    let signal = Some(watch.signal());
    let http = WebHttp::new(source.as_raw().clone(), signal.clone());
    let progress = call.on_progress.clone();
    let last = Cell::new(None::<Progress>);
    // With a target the upload's last report is not the end: attaching follows.
    let report = |p: &Progress| {
        let mut p = *p;
        if target.is_some() && p.phase == Phase::Done {
            p.phase = Phase::Attaching;
        }
        last.set(Some(p));
        progress.report(&p);
    };
    let hasher = Hashing::choose(
        settings.pool.as_ref(),
        call.workers,
        &source,
        signal.clone(),
    );
    let result = engine::upload(&http, &settings.shared, &hasher, &call.options, &report).await?;
    let uuid = result.uuid.clone();
    let uploaded = js_upload_result(result);
    let Some(target) = target else {
        return Ok(uploaded);
    };
    let attach = attach_upload(&target, &uuid, &call.options.file.name, settings.company_id)?;
    let attached = call_api(settings, prepared(attach, signal)).await?;
    if let Some(mut done) = last.get() {
        done.phase = Phase::Done;
        progress.report(&done);
    }
    Ok(object(&[("upload", &uploaded), ("attached", &attached)]))
}

/// What `upload()` resolves to: `{ uuid, status, size, apiVersion, segments? }`.
pub(super) fn js_upload_result(result: engine::UploadResult) -> JsValue {
    let segments = result.segments.map(|segments| {
        array(
            segments
                .into_iter()
                .map(|s| js_segment(s.size, s.sha256, s.md5, Some(s.etag))),
        )
    });
    object_of(&[
        ("uuid", Some(result.uuid.into())),
        ("status", Some(result.status.into())),
        ("size", Some(number(result.size))),
        ("apiVersion", Some(result.api_version.as_str().into())),
        ("segments", segments),
    ])
}

fn prepare_request(method: &JsValue, path: &JsValue, raw: &JsValue) -> Result<Prepared, Error> {
    let method = method
        .as_string()
        .ok_or_else(|| Error::InvalidInput("method must be a string such as \"GET\"".into()))
        .and_then(|name| Method::parse(&name))?;
    let path = path.as_string().ok_or_else(|| {
        Error::InvalidInput("path must be a string such as \"/rest/v1.0/projects/1/rfis\"".into())
    })?;
    let options = Options::new(raw, "options")?;
    let query = match options.get("query")? {
        Some(query) => text_pairs(&query, "options.query", true)?,
        None => Vec::new(),
    };
    let headers = match options.get("headers")? {
        Some(headers) => text_pairs(&headers, "options.headers", false)?,
        None => Vec::new(),
    };
    checked_headers(&headers)?;
    let path_and_query = checked_path(&path, &query)?;
    let body = options
        .get("body")?
        .map(|body| json_text(&body, "options.body"))
        .transpose()?;
    if body.is_some() && method == Method::Get {
        return Err(Error::InvalidInput("a GET request carries no body".into()));
    }
    Ok(Prepared {
        method,
        path_and_query,
        body,
        headers: with_idempotency_token(method, headers, random_token),
        signal: options.instance::<AbortSignal>("signal", "an AbortSignal")?,
    })
}

async fn hash_file(settings: &Settings, file: JsValue, raw: &JsValue) -> Result<JsValue, Error> {
    let source = BlobSource::from_js(file)?;
    let options = Options::new(raw, "options")?;
    let md5 = options.bool("md5")?.unwrap_or(true);
    let hash = HashOptions::new(md5, options.whole_number("chunkSize")?)?;
    let workers = worker_count(settings, &options)?;
    let on_progress = ProgressCallback(options.function("onProgress")?);
    let watch = settings.watch(
        options
            .instance::<AbortSignal>("signal", "an AbortSignal")?
            .as_ref(),
    )?;
    let signal = Some(watch.signal());
    let size = source.size();
    let plan = plan_segments(size, settings.version, options.whole_number("segmentSize")?)?;
    let ranges: Vec<_> = plan.ranges().collect();
    let paced = PacedProgress::new(&on_progress);
    let report = |phase, bytes_hashed, segments_done| {
        paced.report(&Progress {
            phase,
            bytes_hashed,
            bytes_uploaded: 0,
            total_bytes: size,
            segments_done,
            segments_total: plan.count(),
            bytes_per_second: None,
            eta_seconds: None,
        });
    };
    let progress = |hashed| report(Phase::Hashing, hashed, 0);
    let hasher = Hashing::choose(settings.pool.as_ref(), workers, &source, signal.clone());
    let (digests, _) = hasher.hash(&ranges, hash, false, &progress).await?;
    abort::check(signal.as_ref())?;
    report(Phase::Done, size, plan.count());
    let segments = ranges.iter().zip(digests).map(|(range, digest)| {
        js_segment(
            range.end - range.start,
            digest.sha256_hex(),
            digest.md5_hex(),
            None,
        )
    });
    Ok(object_of(&[
        ("size", Some(number(size))),
        ("segments", Some(array(segments))),
    ]))
}
