//! `ProcoreClient`: the exports. Uploads go through the task runtime
//! ([`super::task`]); API calls (`request`, the attach helpers) and `hashSegments` here.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

use super::convert::js_segment;
use super::options::{read_call, worker_count, Settings, UPLOAD_OPTIONS};
use super::{PacedProgress, ProgressCallback};
use crate::core::api::{checked_headers, checked_path, ApiClient, IDEMPOTENCY_TOKEN};
use crate::core::engine::{Phase, Progress};
use crate::core::hash::{HashBackend, HashOptions};
use crate::core::http::Method;
use crate::core::json::Json;
use crate::core::plan::plan_segments;
use crate::core::resources::{self, attach_upload, target_project, ResourceCall};
use crate::core::source::ByteSource;
use crate::core::task::{Attach, ResumeFrom};
use crate::core::Error;
use crate::web::abort;
use crate::web::blob::BlobSource;
use crate::web::error::to_js_error;
use crate::web::hashing::Hashing;
use crate::web::http::WebHttp;
use crate::web::js::{
    array, json_data, json_text, number, object_of, parse_json_answer, random_token, text_pairs,
    Options,
};

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
        super::or_rejected(upload(&self.settings, file, &options, None))
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
        super::or_rejected(upload(&self.settings, file, &options, Some(&target)))
    }

    /// `attach(upload, target, { fileName?, idempotencyToken?, signal? })`: the attach
    /// step of `uploadAndAttach` on its own, for an upload already made (again after
    /// a failed attach, without sending the bytes twice). Resolves to Procore's
    /// answer. One `idempotencyToken` given on every try makes Procore act once.
    pub fn attach(&self, upload: JsValue, target: JsValue, options: JsValue) -> Promise {
        let token = RefCell::new(None);
        let prepared = prepare_attach(&self.settings, &options, &|settings, input| {
            let upload = json_data(&upload, "upload")?;
            let target = json_data(&target, "target")?;
            let (call, given) =
                resources::attach_again(&upload, &target, input, settings.company_id)?;
            *token.borrow_mut() = given;
            Ok(call)
        })
        .map(|mut call| {
            // Without one, the call gets a fresh token (the same on its retries).
            let given = token
                .take()
                .map(|token| (IDEMPOTENCY_TOKEN.to_string(), token));
            call.headers.extend(given);
            call
        });
        send(self.settings.clone(), prepared)
    }

    /// `uploadFolder(entries, options?)`: a tree of files and folders into Procore
    /// Documents (issue 23); resolves to `{ folders, files }`. Bad entries and
    /// options reject with `INVALID_INPUT` before anything is sent.
    #[wasm_bindgen(js_name = uploadFolder)]
    pub fn upload_folder(&self, entries: JsValue, options: JsValue) -> Promise {
        let signal = abort::signal_option(&options);
        match super::folders::upload_folder(&self.settings, &entries, &options) {
            Ok(work) => super::promise_boxed(signal, work),
            Err(error) => super::promise_for(signal, std::future::ready(Err(error))),
        }
    }

    /// `request(method, path, { query?, body?, headers?, signal? })`: one
    /// authenticated call to the API with the client's token, company, retries and
    /// typed errors; resolves to the parsed JSON answer (`null` when there is none).
    pub fn request(&self, method: JsValue, path: JsValue, options: JsValue) -> Promise {
        let prepared = prepare_request(&method, &path, &options);
        send(self.settings.clone(), prepared)
    }

    /// `createProjectFile({ projectId, uploadUuid, name, parentId?, description?,
    /// private?, procoreFields?, signal? })`.
    #[wasm_bindgen(js_name = createProjectFile)]
    pub fn create_project_file(&self, options: JsValue) -> Promise {
        self.resource_call(options, &|_, input| {
            resources::project_file(input, "options")
        })
    }

    /// `createCompanyFile({ uploadUuid, name, parentId?, description?, private?,
    /// procoreFields?, signal? })`.
    #[wasm_bindgen(js_name = createCompanyFile)]
    pub fn create_company_file(&self, options: JsValue) -> Promise {
        self.resource_call(options, &|settings, input| {
            resources::company_file(settings.company_id, input, "options")
        })
    }

    /// `createImage({ projectId, uploadUuid, imageName, source?, procoreFields?, signal? })`.
    #[wasm_bindgen(js_name = createImage)]
    pub fn create_image(&self, options: JsValue) -> Promise {
        self.resource_call(options, &|_, input| resources::image(input, "options"))
    }

    /// `listDrawingAreas({ projectId, signal? })`.
    #[wasm_bindgen(js_name = listDrawingAreas)]
    pub fn list_drawing_areas(&self, options: JsValue) -> Promise {
        self.resource_call(options, &|_, input| {
            resources::drawing_areas(input, "options")
        })
    }

    /// `createDrawing({ drawingAreaId, number, title?, disciplineName, procoreFields?,
    /// signal? })`.
    #[wasm_bindgen(js_name = createDrawing)]
    pub fn create_drawing(&self, options: JsValue) -> Promise {
        self.resource_call(options, &|_, input| resources::drawing(input, "options"))
    }

    /// `createDrawingUpload({ projectId, drawingAreaId, drawingSetId, imports,
    /// procoreFields?, signal? })`.
    #[wasm_bindgen(js_name = createDrawingUpload)]
    pub fn create_drawing_upload(&self, options: JsValue) -> Promise {
        self.resource_call(options, &|_, input| {
            resources::drawing_upload(input, "options")
        })
    }

    /// `createAccidentLog({ projectId, uploadIds, timeHour, timeMinute, …,
    /// procoreFields?, signal? })`.
    #[wasm_bindgen(js_name = createAccidentLog)]
    pub fn create_accident_log(&self, options: JsValue) -> Promise {
        self.resource_call(options, &|_, input| {
            resources::accident_log(input, "options")
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
    #[wasm_bindgen(js_name = hashSegments)]
    pub fn hash_segments(&self, file: JsValue, options: JsValue) -> Promise {
        let settings = self.settings.clone();
        let signal = abort::signal_option(&options);
        super::promise_for(signal, async move {
            hash_segments(&settings, file, &options).await
        })
    }
}

impl ProcoreClient {
    /// Runs an attach call: the options (all but `signal`) as JSON through `build`,
    /// then the call through the API client. Resolves to the parsed answer.
    fn resource_call(
        &self,
        options: JsValue,
        build: &dyn Fn(&Settings, &Json) -> Result<ResourceCall, Error>,
    ) -> Promise {
        let prepared = prepare_attach(&self.settings, &options, build);
        send(self.settings.clone(), prepared)
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

/// The promise of a prepared call (rejected with why it could not be prepared): one
/// future type for `request` and every attach call, so the wasm holds one copy of it.
fn send(settings: Rc<Settings>, prepared: Result<Prepared, Error>) -> Promise {
    let signal = prepared.as_ref().ok().and_then(|call| call.signal.clone());
    super::promise_for(signal, async move { call_api(&settings, prepared?).await })
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
        headers: Vec::new(),
        signal,
    }
}

fn prepare_attach(
    settings: &Settings,
    raw: &JsValue,
    build: &dyn Fn(&Settings, &Json) -> Result<ResourceCall, Error>,
) -> Result<Prepared, Error> {
    let mut input = json_data(raw, "options")?;
    // The signal is read here; the rest is the resource's.
    input.remove("signal");
    let call = build(settings, &input)?;
    let signal =
        Options::new(raw, "options")?.instance::<AbortSignal>("signal", "an AbortSignal")?;
    Ok(prepared(call, signal))
}

/// `upload` and `uploadAndAttach` (with a `target`): a task with no kept state,
/// whose `done` is the promise.
fn upload(
    settings: &Rc<Settings>,
    file: JsValue,
    raw: &JsValue,
    target: Option<&JsValue>,
) -> Result<Promise, Error> {
    let source = BlobSource::from_js(file)?;
    Options::new(raw, "options")?.known(UPLOAD_OPTIONS)?;
    let mut call = read_call(settings, Some(&source), raw)?;
    // The whole target is checked before anything is sent.
    let target = target
        .map(|target| json_data(target, "target"))
        .transpose()?;
    if let Some(target) = &target {
        attach_upload(
            target,
            "pending",
            Some(&call.options.file.name),
            settings.company_id,
        )?;
        if call.options.scope.project_id.is_none() {
            call.options.scope.project_id = target_project(target);
        }
    }
    let attach = target.map(|target| Attach {
        target,
        idempotency_token: random_token(),
    });
    let launched = super::task::launch(settings, source, call, ResumeFrom::Nothing, attach, false)?;
    Ok(launched.done())
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
    options.known(&["query", "body", "headers", "signal"])?;
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
        headers,
        signal: options.instance::<AbortSignal>("signal", "an AbortSignal")?,
    })
}

async fn hash_segments(
    settings: &Settings,
    file: JsValue,
    raw: &JsValue,
) -> Result<JsValue, Error> {
    let source = BlobSource::from_js(file)?;
    let options = Options::new(raw, "options")?;
    options.known(&[
        "segmentSize",
        "md5",
        "workers",
        "onProgress",
        "signal",
        "chunkSize",
    ])?;
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
