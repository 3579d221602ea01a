//! Errors across the JS boundary, both ways, each in one place.

use wasm_bindgen::{JsCast, JsValue};
use web_sys::DomException;

use super::js::{describe_error, set_property};
use crate::core::error::Cause;
use crate::core::Error;

/// The `name` of every error this library rejects with, except aborts.
pub const ERROR_NAME: &str = "ProcoreUploadError";
/// The `name` of an abort, as `fetch` and the DOM use it.
pub const ABORT_ERROR_NAME: &str = "AbortError";

/// A JS exception (or anything thrown) as the cause of a core error.
pub fn js_cause(thrown: JsValue) -> Cause {
    Cause::new(thrown)
}

/// Builds the JS `Error` a promise rejects with: `name`, `message` and the stable
/// `code`; for HTTP errors `status` and `body`; and `cause`, the JS value that
/// failed first, where there is one (a `DOMException`, what `getAccessToken` threw).
pub fn to_js_error(error: &Error) -> JsValue {
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
    if let Some(cause) = error.cause().and_then(Cause::downcast_ref::<JsValue>) {
        js_error.set_cause(cause);
    }
    js_error.into()
}

/// [`to_js_error`] of a task's failure, with `upload` (the finished upload) when only
/// its attach step failed: the caller can attach it again without sending it twice.
pub fn failure_to_js(error: &Error, upload: Option<JsValue>) -> JsValue {
    let js_error = to_js_error(error);
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
