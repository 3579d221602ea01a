//! Errors across the JS boundary, both ways, each in one place.

use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::DomException;

use crate::core::Error;

/// The `name` of every error this library rejects with, except aborts.
pub const ERROR_NAME: &str = "ProcoreUploadError";
/// The `name` of an abort, as `fetch` and the DOM use it.
pub const ABORT_ERROR_NAME: &str = "AbortError";

/// Builds the JS `Error` a promise rejects with: `name`, `message` and the stable
/// `code` (plus, for HTTP errors, `status` and `body`).
pub fn to_js_error(error: &Error) -> JsValue {
    let js_error = js_sys::Error::new(&error.to_string());
    let name = match error {
        Error::Aborted => ABORT_ERROR_NAME,
        _ => ERROR_NAME,
    };
    js_error.set_name(name);
    // Setting properties on a fresh Error object cannot fail.
    let _ = Reflect::set(&js_error, &"code".into(), &error.code().into());
    if let Some((status, body)) = error.http() {
        let _ = Reflect::set(&js_error, &"status".into(), &status.into());
        let _ = Reflect::set(&js_error, &"body".into(), &body.into());
    }
    js_error.into()
}

/// Maps a failed Blob read (a `DOMException` or anything thrown) to the core error.
pub fn file_read_error(thrown: JsValue) -> Error {
    match thrown.dyn_ref::<DomException>() {
        Some(exception) if exception.name() == "AbortError" => Error::Aborted,
        Some(exception) => {
            Error::FileRead(format!("{}: {}", exception.name(), exception.message()))
        }
        None => Error::FileRead(super::js::describe(&thrown)),
    }
}
