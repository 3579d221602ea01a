//! Helpers for the browser tests: building Files and reading JS results.

use js_sys::{Array, Function, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::File;

/// A real `File` in the page holding `bytes`.
pub fn file(bytes: &[u8], name: &str) -> File {
    let parts = Array::of1(&Uint8Array::from(bytes));
    File::new_with_u8_array_sequence(&parts, name).expect("File constructor")
}

/// `n` pseudo-random bytes (xorshift: reproducible, no dependency).
pub fn pseudo_random_bytes(n: usize, mut seed: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}

/// A plain JS object from key/value pairs.
pub fn object(entries: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (key, value) in entries {
        Reflect::set(&object, &(*key).into(), value).expect("set on a fresh object");
    }
    object.into()
}

/// `object[key]`.
pub fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &key.into()).expect("Reflect.get")
}

/// `object[key]` as a string (panics with the key when it is not one).
pub fn get_string(object: &JsValue, key: &str) -> String {
    get(object, key)
        .as_string()
        .unwrap_or_else(|| panic!("{key} is not a string"))
}

/// SHA-256 of `bytes` by WebCrypto: an implementation independent of ours.
pub async fn webcrypto_sha256_hex(bytes: &[u8]) -> String {
    let subtle = web_sys::window()
        .expect("window")
        .crypto()
        .expect("crypto")
        .subtle();
    let digest = JsFuture::from(
        subtle
            .digest_with_str_and_u8_array("SHA-256", bytes)
            .expect("digest"),
    )
    .await
    .expect("digest resolves");
    Uint8Array::new(&digest)
        .to_vec()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A JS function that appends its argument to the returned array.
pub fn recorder() -> (Function, Array) {
    let calls = Array::new();
    let push = Function::new_with_args("calls", "return (p) => { calls.push(p); }")
        .call1(&JsValue::UNDEFINED, &calls)
        .expect("make recorder")
        .unchecked_into::<Function>();
    (push, calls)
}

/// Whether the tests run in WebKit, by the user agent (`engine.rs` checks that it names
/// the engine the run asked for), not by any rule of the library's under test.
pub fn is_webkit() -> bool {
    let agent = procore_upload::web::js::navigator_property("userAgent")
        .as_string()
        .unwrap_or_default();
    procore_upload::core::browser::engine_of(&agent)
        == procore_upload::core::browser::Engine::WebKit
}
