//! The core's [`Http`] over the browser: `fetch` for Procore's API, XHR for storage
//! (it reports upload progress), `setTimeout` for waits. Every request and wait
//! stops when the caller's `AbortSignal` fires or when its future is dropped.

use std::cell::Cell;
use std::rc::Rc;

use futures_channel::mpsc;
use futures_util::future::{select, Either};
use futures_util::StreamExt;
use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortController, AbortSignal, Blob, FormData, RequestCredentials, RequestInit, RequestMode,
    XmlHttpRequest,
};

use super::abort;
use crate::core::error::redact_url;
use crate::core::http::{Body, Http, Request, Response, Target};
use crate::core::Error;

#[wasm_bindgen]
extern "C" {
    /// The global `fetch` (window or worker).
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(input: &web_sys::Request) -> Promise;
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, millis: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
}

/// The browser as the engine's transport, for one file.
pub struct WebHttp {
    blob: Blob,
    signal: Option<AbortSignal>,
}

impl WebHttp {
    /// Requests whose bodies are slices of `blob`, all stopped by `signal`.
    pub fn new(blob: Blob, signal: Option<AbortSignal>) -> Self {
        Self { blob, signal }
    }

    fn slice(&self, range: &std::ops::Range<u64>) -> Result<Blob, Error> {
        self.blob
            .slice_with_f64_and_f64(range.start as f64, range.end as f64)
            .map_err(|e| Error::FileRead(super::js::describe(&e)))
    }

    /// An API call by `fetch`: JSON, no cookies.
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
        if let Body::Json(json) = &request.body {
            init.set_body(&JsValue::from_str(json));
        }
        let js_request =
            web_sys::Request::new_with_str_and_init(&request.url, &init).map_err(js_error)?;
        let network = |thrown: JsValue| self.network_error(&request, thrown);
        let response: web_sys::Response = JsFuture::from(global_fetch(&js_request))
            .await
            .map_err(network)?
            .unchecked_into();
        let body = JsFuture::from(response.text().map_err(js_error)?)
            .await
            .map_err(network)?;
        let mut header_pairs = Vec::new();
        if let Ok(Some(entries)) = js_sys::try_iter(&response.headers()) {
            for entry in entries.flatten() {
                let pair: js_sys::Array = entry.unchecked_into();
                header_pairs.push((
                    pair.get(0).as_string().unwrap_or_default(),
                    pair.get(1).as_string().unwrap_or_default(),
                ));
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
                let _ = progress_tx.unbounded_send(event.loaded() as u64);
            },
        );
        xhr.upload()
            .map_err(js_error)?
            .set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
        let guard = XhrGuard::new(xhr.clone(), self.signal.as_ref())?;
        let done = Promise::new(&mut |resolve, reject| {
            xhr.set_onload(Some(&resolve));
            xhr.set_onerror(Some(&reject));
            xhr.set_onabort(Some(&reject));
            xhr.set_ontimeout(Some(&reject));
        });
        match &request.body {
            Body::Empty => xhr.send(),
            Body::Json(json) => xhr.send_with_opt_str(Some(json)),
            Body::Bytes(range) => xhr.send_with_opt_blob(Some(&self.slice(range)?)),
            Body::Form {
                fields,
                file,
                filename,
            } => {
                let form = FormData::new().map_err(js_error)?;
                for (name, value) in fields {
                    form.append_with_str(name, value).map_err(js_error)?;
                }
                form.append_with_blob_and_filename("file", &self.slice(file)?, filename)
                    .map_err(js_error)?;
                xhr.send_with_opt_form_data(Some(&form))
            }
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
            let kind = event
                .dyn_ref::<web_sys::Event>()
                .map(|e| e.type_())
                .unwrap_or_else(|| "error".into());
            return Err(Error::Network {
                method: request.method.as_str().into(),
                url: redact_url(&request.url),
                message: format!(
                    "the request failed ({kind}): connection refused or reset, or refused by CORS"
                ),
            });
        }
        Ok(Response {
            status: xhr.status().map_err(js_error)?,
            headers: parse_header_block(&xhr.get_all_response_headers().unwrap_or_default()),
            body: xhr.response_text().ok().flatten().unwrap_or_default(),
        })
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
            method: request.method.as_str().into(),
            url: redact_url(&request.url),
            message: super::js::describe_error(&thrown),
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

    async fn sleep(&self, millis: u64) -> Result<(), Error> {
        abort::check(self.signal.as_ref())?;
        let timer = Rc::new(Cell::new(JsValue::UNDEFINED));
        let slot = timer.clone();
        let sleeping =
            Promise::new(&mut |resolve, _| slot.set(set_timeout(&resolve, millis as f64)));
        let aborted = abort::rejected_on_abort(self.signal.as_ref());
        let outcome = match aborted {
            Some((aborted, _listener)) => {
                match select(JsFuture::from(sleeping), JsFuture::from(aborted)).await {
                    Either::Left((outcome, _)) | Either::Right((outcome, _)) => outcome,
                }
            }
            None => JsFuture::from(sleeping).await,
        };
        clear_timeout(&timer.take());
        outcome.map(drop).map_err(|_| Error::Aborted)?;
        abort::check(self.signal.as_ref())
    }

    fn now_ms(&self) -> f64 {
        js_sys::Date::now()
    }

    fn jitter(&self) -> f64 {
        js_sys::Math::random()
    }
}

/// `name: value` lines of `getAllResponseHeaders()` as pairs.
fn parse_header_block(block: &str) -> Vec<(String, String)> {
    block
        .split("\r\n")
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_string(), value.trim().to_string()))
        .collect()
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
        let link = abort::on_abort(signal, move || inner.abort());
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
        });
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
