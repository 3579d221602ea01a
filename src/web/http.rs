//! The core's [`Http`] over the browser: `fetch` for Procore's API, XHR for storage
//! (it reports upload progress), `setTimeout` for waits. Every request and wait
//! stops when the caller's `AbortSignal` fires or when its future is dropped.

use std::cell::Cell;
use std::pin::pin;

use futures_channel::mpsc;
use futures_util::future::{select, Either};
use futures_util::StreamExt;
use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortController, AbortSignal, Blob, FormData, RequestCredentials, RequestInit, RequestMode,
    XmlHttpRequest,
};

use super::abort::{self, AbortWatch};
use super::blob::read_whole;
use super::error::js_cause;
use super::js::current_engine;
use super::timer::{self, Timeout};
use crate::core::browser::check_file_before_send;
use crate::core::error::redact_url;
use crate::core::http::{Body, Http, Request, Response, Target};
use crate::core::Error;

#[wasm_bindgen]
extern "C" {
    /// The global `fetch` (window or worker).
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(input: &web_sys::Request) -> Promise;
}

/// A request body as the browser takes it.
enum JsBody {
    Text(String),
    Blob(Blob),
    Form(FormData),
}

/// The browser as the engine's transport, for one file.
pub struct WebHttp {
    /// The file request bodies are cut from; `None` for calls that carry no file.
    blob: Option<Blob>,
    signal: Option<AbortSignal>,
    /// Whether each storage body's first byte is read just before it is sent
    /// ([`check_file_before_send`]: WebKit).
    check_before_send: bool,
}

impl WebHttp {
    /// Requests whose bodies are slices of `blob`, all stopped by `signal`.
    pub fn new(blob: Blob, signal: Option<AbortSignal>) -> Self {
        Self {
            blob: Some(blob),
            signal,
            check_before_send: check_file_before_send(current_engine()),
        }
    }

    /// Requests that carry no file (API calls), all stopped by `signal`.
    pub fn without_file(signal: Option<AbortSignal>) -> Self {
        Self {
            blob: None,
            signal,
            check_before_send: false,
        }
    }

    fn blob(&self) -> Result<&Blob, Error> {
        self.blob
            .as_ref()
            .ok_or_else(|| Error::InvalidInput("this request has no file to send".into()))
    }

    fn slice(&self, range: &std::ops::Range<u64>) -> Result<Blob, Error> {
        super::blob::slice(self.blob()?, range)
    }

    /// The body of a storage request ([`Self::body`]); where the engine needs it
    /// ([`check_file_before_send`]), only once the file's first byte of it was read.
    async fn storage_body(&self, body: &Body) -> Result<Option<JsBody>, Error> {
        if self.check_before_send {
            if let Some(range) = body.file_range() {
                self.check_readable(range).await?;
            }
        }
        self.body(body)
    }

    /// The body of `request` for `fetch` or XHR: JSON text, a slice of the file
    /// (never a copy), or the form with the file's slice last as `file`.
    fn body(&self, body: &Body) -> Result<Option<JsBody>, Error> {
        Ok(Some(match body {
            Body::Empty => return Ok(None),
            Body::Json(json) => JsBody::Text(json.clone()),
            Body::Bytes(range) => JsBody::Blob(self.slice(range)?),
            Body::Form {
                fields,
                file,
                filename,
            } => JsBody::Form(form(fields, &self.slice(file)?, filename)?),
        }))
    }

    /// An API call by `fetch`: any body, no cookies.
    async fn fetch(&self, request: Request) -> Result<Response, Error> {
        let controller = AbortOnDrop::linked(self.signal.as_ref())?;
        let init = RequestInit::new();
        init.set_method(request.method.as_str());
        init.set_mode(RequestMode::Cors);
        init.set_credentials(RequestCredentials::Omit);
        init.set_signal(Some(&controller.signal()));
        let headers = web_sys::Headers::new().map_err(js_error)?;
        for (name, value) in &request.headers {
            headers.append(name, value).map_err(js_error)?;
        }
        init.set_headers(&headers);
        match self.body(&request.body)? {
            None => {}
            Some(JsBody::Text(text)) => init.set_body(&JsValue::from_str(&text)),
            Some(JsBody::Blob(blob)) => init.set_body(&blob),
            Some(JsBody::Form(form)) => init.set_body(&form),
        }
        let js_request =
            web_sys::Request::new_with_str_and_init(&request.url, &init).map_err(js_error)?;
        let network = |thrown: JsValue| self.network_error(&request, thrown);
        let response: web_sys::Response = JsFuture::from(global_fetch(&js_request))
            .await
            .map_err(network)?
            .dyn_into()
            .map_err(|other| {
                Error::Protocol(format!(
                    "fetch resolved to {} instead of a Response",
                    super::js::describe(&other)
                ))
            })?;
        let body = JsFuture::from(response.text().map_err(js_error)?)
            .await
            .map_err(network)?;
        let mut header_pairs = Vec::new();
        if let Ok(Some(entries)) = js_sys::try_iter(&response.headers()) {
            for entry in entries.flatten() {
                let Some(pair) = entry.dyn_ref::<js_sys::Array>() else {
                    continue;
                };
                if let (Some(name), Some(value)) =
                    (pair.get(0).as_string(), pair.get(1).as_string())
                {
                    header_pairs.push((name, value));
                }
            }
        }
        Ok(Response {
            status: response.status(),
            headers: header_pairs,
            body: body.as_string().unwrap_or_default(),
        })
    }

    /// A storage request by XHR, for its upload progress events. No credentials and
    /// nothing but the given headers.
    async fn xhr(&self, request: Request, progress: &dyn Fn(u64)) -> Result<Response, Error> {
        let xhr = XmlHttpRequest::new().map_err(js_error)?;
        xhr.open_with_async(request.method.as_str(), &request.url, true)
            .map_err(js_error)?;
        for (name, value) in &request.headers {
            xhr.set_request_header(name, value).map_err(js_error)?;
        }
        let (progress_tx, mut progress_rx) = mpsc::unbounded::<u64>();
        let on_progress = Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(
            move |event: web_sys::ProgressEvent| {
                // A count the browser made; anything but a whole number is ignored.
                if let Some(loaded) = super::js::whole_number(&event.loaded().into()) {
                    let _ = progress_tx.unbounded_send(loaded);
                }
            },
        );
        xhr.upload()
            .map_err(js_error)?
            .set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
        // Built before the XHR starts: a body that cannot be built sends nothing.
        let body = self.storage_body(&request.body).await?;
        let guard = XhrGuard::new(xhr.clone(), self.signal.as_ref())?;
        let done = Promise::new(&mut |resolve, reject| {
            xhr.set_onload(Some(&resolve));
            xhr.set_onerror(Some(&reject));
            xhr.set_onabort(Some(&reject));
            xhr.set_ontimeout(Some(&reject));
        });
        match body {
            None => xhr.send(),
            Some(JsBody::Text(text)) => xhr.send_with_opt_str(Some(&text)),
            Some(JsBody::Blob(blob)) => xhr.send_with_opt_blob(Some(&blob)),
            Some(JsBody::Form(form)) => xhr.send_with_opt_form_data(Some(&form)),
        }
        .map_err(|thrown| self.network_error(&request, thrown))?;
        let mut done = JsFuture::from(done);
        let outcome = loop {
            match select(progress_rx.next(), &mut done).await {
                Either::Left((Some(loaded), _)) => progress(loaded),
                Either::Left((None, _)) => break (&mut done).await,
                Either::Right((outcome, _)) => break outcome,
            }
        };
        guard.finished();
        // Unhook before dropping: a late progress event must not reach a dropped closure.
        if let Ok(upload) = xhr.upload() {
            upload.set_onprogress(None);
        }
        drop(on_progress);
        if let Err(event) = outcome {
            abort::check(self.signal.as_ref())?;
            // XHR says only "error"; a file changed on disk since it was picked is
            // one cause, and no retry can mend it: tell it apart by reading it.
            if let Some(range) = request.body.file_range() {
                self.check_readable(range).await?;
            }
            let kind = event
                .dyn_ref::<web_sys::Event>()
                .map(|e| e.type_())
                .unwrap_or_else(|| "error".into());
            return Err(Error::Network {
                method: request.method.as_str(),
                url: redact_url(&request.url),
                message: format!(
                    "the request failed ({kind}): connection refused or reset, or refused by CORS"
                ),
                cause: Some(js_cause(event)),
            });
        }
        Ok(Response {
            status: xhr.status().map_err(js_error)?,
            headers: parse_header_block(&xhr.get_all_response_headers().unwrap_or_default()),
            body: xhr.response_text().ok().flatten().unwrap_or_default(),
        })
    }

    /// [`Error::FileRead`] when the first byte of `range` cannot be read any more.
    async fn check_readable(&self, range: &std::ops::Range<u64>) -> Result<(), Error> {
        if range.is_empty() {
            return Ok(());
        }
        let first = range.start..range.start + 1;
        read_whole(self.blob()?, &first).await.map(drop)
    }

    fn network_error(&self, request: &Request, thrown: JsValue) -> Error {
        if self.signal.as_ref().is_some_and(AbortSignal::aborted)
            || thrown
                .dyn_ref::<web_sys::DomException>()
                .is_some_and(|e| e.name() == "AbortError")
        {
            return Error::Aborted;
        }
        Error::Network {
            method: request.method.as_str(),
            url: redact_url(&request.url),
            message: super::js::describe_error(&thrown),
            cause: Some(js_cause(thrown)),
        }
    }
}

impl Http for WebHttp {
    async fn send(&self, request: Request, progress: &dyn Fn(u64)) -> Result<Response, Error> {
        abort::check(self.signal.as_ref())?;
        let response = match request.target {
            Target::Api => self.fetch(request).await,
            Target::Storage => self.xhr(request, progress).await,
        };
        // An abort that lands while the answer arrives still wins.
        abort::check(self.signal.as_ref())?;
        response
    }

    /// Waits, or fails with [`Error::Aborted`] as soon as the signal fires; dropped
    /// early, its timer is cleared.
    async fn sleep(&self, millis: u64) -> Result<(), Error> {
        let mut aborted = AbortWatch::new(self.signal.as_ref())?;
        let mut timeout = Timeout::start(millis);
        let (fired, aborting) = (pin!(timeout.wait()), pin!(aborted.fired()));
        match select(fired, aborting).await {
            Either::Left(_) => abort::check(self.signal.as_ref()),
            Either::Right(_) => Err(Error::Aborted),
        }
    }

    fn now_ms(&self) -> f64 {
        timer::now_ms()
    }

    fn wall_clock_ms(&self) -> u64 {
        timer::wall_clock_ms()
    }

    fn jitter(&self) -> f64 {
        js_sys::Math::random()
    }

    fn random_token(&self) -> String {
        super::js::random_token()
    }
}

/// A form with `fields` in order and `file` last, as the field `file`.
fn form(fields: &[(String, String)], file: &Blob, filename: &str) -> Result<FormData, Error> {
    let form = FormData::new().map_err(js_error)?;
    for (name, value) in fields {
        form.append_with_str(name, value).map_err(js_error)?;
    }
    form.append_with_blob_and_filename("file", file, filename)
        .map_err(js_error)?;
    Ok(form)
}

/// `name: value` lines of `getAllResponseHeaders()` as pairs.
fn parse_header_block(block: &str) -> Vec<(String, String)> {
    // A loop, not a collect: no iterator code of its own.
    let mut headers = Vec::new();
    for line in block.split("\r\n") {
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    headers
}

fn js_error(thrown: JsValue) -> Error {
    Error::Protocol(format!(
        "the browser refused the request: {}",
        super::js::describe_error(&thrown)
    ))
}

/// An `AbortController` for one fetch: aborted with the caller's signal, and when
/// the fetch's future is dropped.
struct AbortOnDrop {
    controller: AbortController,
    _link: Option<abort::Listener>,
}

impl AbortOnDrop {
    fn linked(signal: Option<&AbortSignal>) -> Result<Self, Error> {
        let controller = AbortController::new().map_err(js_error)?;
        let inner = controller.clone();
        let link = abort::on_abort(signal, move || inner.abort())?;
        Ok(Self {
            controller,
            _link: link,
        })
    }

    fn signal(&self) -> AbortSignal {
        self.controller.signal()
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        // After completion this is a no-op.
        self.controller.abort();
    }
}

/// Aborts an XHR when the caller's signal fires or when the request's future is
/// dropped before it finished (another part failed, the upload was abandoned).
struct XhrGuard {
    xhr: XmlHttpRequest,
    running: Cell<bool>,
    _link: Option<abort::Listener>,
}

impl XhrGuard {
    fn new(xhr: XmlHttpRequest, signal: Option<&AbortSignal>) -> Result<Self, Error> {
        let inner = xhr.clone();
        let link = abort::on_abort(signal, move || {
            let _ = inner.abort();
        })?;
        Ok(Self {
            xhr,
            running: Cell::new(true),
            _link: link,
        })
    }

    fn finished(&self) {
        self.running.set(false);
    }
}

impl Drop for XhrGuard {
    fn drop(&mut self) {
        // The progress closure is dropped right after this guard (declared before it).
        if let Ok(upload) = self.xhr.upload() {
            upload.set_onprogress(None);
        }
        if self.running.get() {
            let _ = self.xhr.abort();
        }
    }
}
