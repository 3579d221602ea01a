//! Results out: what the calls resolve to, as the plain objects JS gets.

use wasm_bindgen::prelude::*;

use crate::core::engine;
use crate::core::state::{self, UploadState};
use crate::core::Error;
use crate::web::js::{array, from_json, number, object_of};

/// One segment of an `upload()` or `hashFile()` result: `{ size, sha256, md5?, etag? }`.
pub(super) fn js_segment(
    size: u64,
    sha256: String,
    md5: Option<String>,
    etag: Option<String>,
) -> JsValue {
    object_of(&[
        ("size", Some(number(size))),
        ("sha256", Some(sha256.into())),
        ("md5", md5.map(JsValue::from)),
        ("etag", etag.map(JsValue::from)),
    ])
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

/// The state as a plain object, through its JSON text (one serializer for the store
/// and for JS keeps the package small).
pub(super) fn state_to_js(state: &UploadState) -> Result<JsValue, Error> {
    from_json(&state::state_text(state))
        .ok_or_else(|| Error::Protocol("the state could not be handed to JS".into()))
}
