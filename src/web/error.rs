//! Errors across the JS boundary, both ways, each in one place.

use std::cell::OnceCell;

use js_sys::Object;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{AbortSignal, DomException};

use super::js::{describe_error, number, set_property};
use crate::core::error::{url_path, Cause};
use crate::core::Error;

/// The `name` of every error this library rejects with, except aborts.
pub const ERROR_NAME: &str = "ProcoreUploadError";
/// The `name` of an abort, as `fetch` and the DOM use it.
pub const ABORT_ERROR_NAME: &str = "AbortError";

/// A JS exception (or anything thrown) as the cause of a core error.
pub fn js_cause(thrown: JsValue) -> Cause {
    Cause::new(thrown)
}

thread_local! {
    /// `ProcoreUploadError.prototype`, handed over by `index.js` once the wasm is
    /// loaded ([`use_error_prototype`]): the class lives in JS, so that it exists
    /// (and `instanceof` works) before the wasm does.
    static PROTOTYPE: OnceCell<Object> = const { OnceCell::new() };
}

/// Makes every error [`to_js_error`] builds from now on an instance of the class
/// whose prototype this is (the first one handed over stays).
pub fn use_error_prototype(prototype: JsValue) {
    PROTOTYPE.with(|slot| {
        // Only index.js calls this, with a class's prototype.
        let _ = slot.set(prototype.unchecked_into());
    });
}

/// Builds the JS `Error` a promise rejects with, a `ProcoreUploadError` once
/// `index.js` has handed its class over: `name`, `message` and the stable `code`;
/// for HTTP answers `status` and `body`; the request that failed as `method` and
/// `path` (no host, query or fragment); `retryAfterMs` when the last answer asked
/// to wait; and `cause`, the JS value that failed first, where there is one (a
/// `DOMException`, what `getAccessToken` threw). `js/index.js`'s constructor makes
/// the same shape.
pub fn to_js_error(error: &Error) -> JsValue {
    build(error).into()
}

fn build(error: &Error) -> js_sys::Error {
    let js_error = js_sys::Error::new(&error.to_string());
    let name = match error {
        Error::Aborted => ABORT_ERROR_NAME,
        _ => ERROR_NAME,
    };
    js_error.set_name(name);
    set_property(&js_error, "code", &error.code().into());
    if let Some((status, body)) = error.http() {
        set_property(&js_error, "status", &status.into());
        set_property(&js_error, "body", &body.into());
    }
    if let Some(ms) = error.retry_after_ms() {
        set_property(&js_error, "retryAfterMs", &number(ms));
    }
    if let Some((method, url)) = error.request() {
        set_property(&js_error, "method", &method.into());
        set_property(&js_error, "path", &url_path(url).into());
    }
    if let Some(cause) = error.cause().and_then(Cause::downcast_ref::<JsValue>) {
        js_error.set_cause(cause);
    }
    PROTOTYPE.with(|slot| {
        if let Some(prototype) = slot.get() {
            Object::set_prototype_of(&js_error, prototype);
        }
    });
    js_error
}

/// [`to_js_error`] of a call the caller could stop through `signal`: an abort while
/// that signal is aborted carries the signal's `reason` as `cause` (what the caller
/// gave `abort()`, else the browser's `AbortError` `DOMException`). Aborts it did
/// not cause (`task.cancel()`, `client.close()`) carry none.
pub fn call_error(error: &Error, signal: Option<&AbortSignal>) -> JsValue {
    let js_error = build(error);
    if let (Error::Aborted, Some(signal)) = (error, signal) {
        if signal.aborted() {
            js_error.set_cause(&signal.reason());
        }
    }
    js_error.into()
}

/// [`call_error`] of a task's failure, with `upload` (the finished upload) when only
/// its attach step failed: the caller can attach it again without sending it twice.
pub fn failure_to_js(
    error: &Error,
    upload: Option<JsValue>,
    signal: Option<&AbortSignal>,
) -> JsValue {
    let js_error = call_error(error, signal);
    if let (Some(upload), Some(object)) = (upload, js_error.dyn_ref::<js_sys::Object>()) {
        set_property(object, "upload", &upload);
    }
    js_error
}

/// Maps a failed Blob read (a `DOMException` or anything thrown) to the core error,
/// the exception as its cause.
pub fn file_read_error(thrown: JsValue) -> Error {
    let error = match thrown.dyn_ref::<DomException>() {
        Some(exception) if exception.name() == "AbortError" => return Error::Aborted,
        Some(exception) => {
            Error::file_read(format!("{}: {}", exception.name(), exception.message()))
        }
        // Chromium's stream of a changed file fails with "TypeError: network error".
        None => Error::file_read(describe_error(&thrown)),
    };
    error.with_cause(js_cause(thrown))
}

/// A hashing worker's failure, the exception or event as its cause.
pub fn worker_error(message: impl Into<String>, thrown: JsValue) -> Error {
    Error::worker(message).with_cause(js_cause(thrown))
}
