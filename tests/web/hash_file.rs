//! `hashFile` on real `File`s in the browser.

use js_sys::Function;
use procore_upload::facade::hash_file;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::AbortController;

use procore_upload::core::test_vectors::{lcg_bytes, LCG_LEN, LCG_MD5, LCG_SHA256, MILLION_A};

use super::support::*;

async fn hash(file: impl Into<JsValue>, options: JsValue) -> Result<JsValue, JsValue> {
    hash_file(file.into(), options).await
}

fn error_field(error: &JsValue, key: &str) -> String {
    get_string(error, key)
}

#[wasm_bindgen_test]
async fn known_answer_abc() {
    let result = hash(file(b"abc", "abc.txt"), JsValue::UNDEFINED)
        .await
        .expect("hashes");
    assert_eq!(
        get_string(&result, "sha256"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        get_string(&result, "md5"),
        "900150983cd24fb0d6963f7d28e17f72"
    );
    assert_eq!(get(&result, "size").as_f64(), Some(3.0));
}

#[wasm_bindgen_test]
async fn empty_file_has_the_empty_digests() {
    let result = hash(file(b"", "empty"), JsValue::NULL)
        .await
        .expect("hashes");
    assert_eq!(
        get_string(&result, "sha256"),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        get_string(&result, "md5"),
        "d41d8cd98f00b204e9800998ecf8427e"
    );
    assert_eq!(get(&result, "size").as_f64(), Some(0.0));
}

#[wasm_bindgen_test]
async fn million_a_read_in_slices_that_straddle_blocks() {
    let (byte, len, sha256, md5) = MILLION_A;
    let data = vec![byte; len];
    // 65_537 bytes per slice: every read ends mid-block, and the last one is short.
    for chunk_size in [65_537.0, 1_000_000.0, 4.0 * 1024.0 * 1024.0] {
        let options = object(&[("chunkSize", chunk_size.into())]);
        let result = hash(file(&data, "a.bin"), options).await.expect("hashes");
        assert_eq!(
            get_string(&result, "sha256"),
            sha256,
            "chunkSize {chunk_size}"
        );
        assert_eq!(get_string(&result, "md5"), md5, "chunkSize {chunk_size}");
    }
}

#[wasm_bindgen_test]
async fn nine_mib_plus_one_with_the_default_reads() {
    let data = lcg_bytes(LCG_LEN);
    let result = hash(file(&data, "lcg.bin"), JsValue::UNDEFINED)
        .await
        .expect("hashes");
    assert_eq!(get_string(&result, "sha256"), LCG_SHA256);
    assert_eq!(get_string(&result, "md5"), LCG_MD5);
    assert_eq!(get(&result, "size").as_f64(), Some(LCG_LEN as f64));
}

#[wasm_bindgen_test]
async fn sha256_matches_webcrypto_across_chunk_boundaries() {
    let chunk = 1 << 16;
    for len in [chunk - 1, chunk, chunk + 1, 3 * chunk + 7] {
        let data = pseudo_random_bytes(len, len as u64 + 1);
        let options = object(&[("chunkSize", (chunk as f64).into())]);
        let result = hash(file(&data, "r.bin"), options).await.expect("hashes");
        assert_eq!(
            get_string(&result, "sha256"),
            webcrypto_sha256_hex(&data).await,
            "{len} bytes"
        );
    }
}

#[wasm_bindgen_test]
async fn md5_off_leaves_md5_out() {
    let options = object(&[("md5", false.into())]);
    let result = hash(file(b"abc", "abc"), options).await.expect("hashes");
    assert!(get(&result, "md5").is_undefined());
    assert_eq!(
        get_string(&result, "sha256"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[wasm_bindgen_test]
async fn progress_is_monotonic_and_ends_at_the_total() {
    let (on_progress, calls) = recorder();
    let data = vec![1u8; 10_000];
    let options = object(&[
        ("chunkSize", 3000.0.into()),
        ("onProgress", on_progress.into()),
    ]);
    hash(file(&data, "p.bin"), options).await.expect("hashes");
    let hashed: Vec<f64> = calls
        .iter()
        .map(|p| get(&p, "bytesHashed").as_f64().expect("number"))
        .collect();
    // Reports are paced (at most ten a second): a fast hashing says where it starts
    // and where it ends, and nothing goes backwards between.
    assert_eq!(hashed.first(), Some(&0.0));
    assert!(hashed.windows(2).all(|w| w[0] <= w[1]), "{hashed:?}");
    assert_eq!(hashed.last(), Some(&10_000.0));
    let last = calls.get(calls.length() - 1);
    assert_eq!(get_string(&last, "phase"), "done");
    assert_eq!(get(&last, "totalBytes").as_f64(), Some(10_000.0));
    assert_eq!(get(&last, "segmentsDone").as_f64(), Some(1.0));
}

#[wasm_bindgen_test]
async fn a_throwing_progress_callback_does_not_stop_hashing() {
    let throws = Function::new_no_args("throw new Error('ui bug')");
    let options = object(&[("onProgress", throws.into())]);
    let result = hash(file(b"abc", "abc"), options)
        .await
        .expect("still hashes");
    assert_eq!(
        get_string(&result, "md5"),
        "900150983cd24fb0d6963f7d28e17f72"
    );
}

#[wasm_bindgen_test]
async fn an_aborted_signal_rejects_with_abort_error() {
    let controller = AbortController::new().expect("AbortController");
    controller.abort();
    let options = object(&[("signal", controller.signal().into())]);
    let error = hash(file(b"abc", "abc"), options)
        .await
        .expect_err("rejects");
    assert_eq!(error_field(&error, "name"), "AbortError");
    assert_eq!(error_field(&error, "code"), "ABORTED");
}

/// The signal's `reason` is the error's `cause`: the caller's own value, or the
/// browser's `AbortError` `DOMException` of a plain `abort()`; before the call or
/// while it reads.
#[wasm_bindgen_test]
async fn an_abort_carries_the_signals_reason_as_cause() {
    let reason = js_sys::Error::new("user left");
    let before = AbortController::new().expect("AbortController");
    before.abort_with_reason(&reason);
    let plain = AbortController::new().expect("AbortController");
    plain.abort();
    for (signal, expected) in [
        (before.signal(), JsValue::from(&reason)),
        (plain.signal(), plain.signal().reason()),
    ] {
        let options = object(&[("signal", signal.into())]);
        let error = hash(file(b"abc", "abc"), options)
            .await
            .expect_err("rejects");
        assert_eq!(error_field(&error, "code"), "ABORTED");
        assert_eq!(get(&error, "cause"), expected);
    }
    assert_eq!(
        get_string(&plain.signal().reason(), "name"),
        "AbortError",
        "a plain abort()'s reason"
    );
    // Aborted from the first progress report, while reading.
    let during = AbortController::new().expect("AbortController");
    let abort = Function::new_with_args(
        "controller, reason",
        "return () => controller.abort(reason);",
    )
    .call2(&JsValue::UNDEFINED, &during, &reason)
    .expect("make callback");
    let options = object(&[
        ("chunkSize", 1000.0.into()),
        ("onProgress", abort),
        ("signal", during.signal().into()),
    ]);
    let error = hash(file(&[0u8; 10_000], "zeros"), options)
        .await
        .expect_err("rejects");
    assert_eq!(error_field(&error, "name"), "AbortError");
    assert_eq!(get(&error, "cause"), JsValue::from(&reason));
}

#[wasm_bindgen_test]
async fn aborting_mid_way_stops_before_the_end() {
    let controller = AbortController::new().expect("AbortController");
    // Abort from inside the first progress report (0 bytes, before the first read
    // is counted; the others are paced and would come too late to tell).
    let abort_after_first_chunk =
        Function::new_with_args("controller", "return (p) => { controller.abort(); }")
            .call1(&JsValue::UNDEFINED, &controller)
            .expect("make callback");
    let (record, calls) = recorder();
    let both = Function::new_with_args("a, b", "return (p) => { a(p); b(p); }")
        .call2(&JsValue::UNDEFINED, &abort_after_first_chunk, &record)
        .expect("compose");
    let options = object(&[
        ("chunkSize", 1000.0.into()),
        ("onProgress", both),
        ("signal", controller.signal().into()),
    ]);
    // A Blob that counts the slices read from it: hashing must stop reading.
    let counting = Function::new_with_args(
        "bytes",
        "class Counting extends Blob {
           slice(...args) { this.slices = (this.slices ?? 0) + 1; return super.slice(...args); }
         }
         return new Counting([bytes]);",
    )
    .call1(
        &JsValue::UNDEFINED,
        &js_sys::Uint8Array::from(&[0u8; 10_000][..]),
    )
    .expect("a counting Blob");
    let error = hash(counting.clone(), options).await.expect_err("rejects");
    let slices = get(&counting, "slices").as_f64().unwrap_or(0.0);
    assert!(slices <= 2.0, "{slices} of 10 slices read after the abort");
    assert_eq!(error_field(&error, "name"), "AbortError");
    assert_eq!(
        calls.length(),
        1,
        "reported 0 bytes, then stopped reading at the next chunk"
    );
}

/// Each bad input and the typed error it gets.
#[wasm_bindgen_test]
async fn bad_inputs_get_invalid_input() {
    let cases: Vec<(JsValue, JsValue, &str)> = vec![
        (
            JsValue::from_str("not a file"),
            JsValue::UNDEFINED,
            "expected a Blob or File, got string",
        ),
        (JsValue::NULL, JsValue::UNDEFINED, "got null"),
        (
            js_sys::Object::new().into(),
            JsValue::UNDEFINED,
            "got Object",
        ),
        (
            file(b"x", "x").into(),
            JsValue::from(5),
            "options must be an object",
        ),
        (
            file(b"x", "x").into(),
            object(&[("md5", "yes".into())]),
            "options.md5 must be a boolean",
        ),
        (
            file(b"x", "x").into(),
            object(&[("chunkSize", 0.into())]),
            "chunkSize must be between 1",
        ),
        (
            file(b"x", "x").into(),
            object(&[("chunkSize", 1.5.into())]),
            "options.chunkSize must be a non-negative integer",
        ),
        (
            file(b"x", "x").into(),
            object(&[("chunkSize", (-1).into())]),
            "options.chunkSize must be a non-negative integer",
        ),
        (
            file(b"x", "x").into(),
            object(&[("chunkSize", (65.0 * 1048576.0).into())]),
            "chunkSize must be between 1",
        ),
        (
            file(b"x", "x").into(),
            object(&[("onProgress", 1.into())]),
            "options.onProgress must be a function",
        ),
        (
            file(b"x", "x").into(),
            object(&[("signal", "stop".into())]),
            "options.signal must be an AbortSignal",
        ),
    ];
    for (input, options, message) in cases {
        let error = hash(input, options).await.expect_err("rejects");
        assert!(error.is_instance_of::<js_sys::Error>());
        assert_eq!(error_field(&error, "name"), "ProcoreUploadError");
        assert_eq!(error_field(&error, "code"), "INVALID_INPUT");
        let got = error_field(&error, "message");
        assert!(
            got.contains(message),
            "message {got:?} should contain {message:?}"
        );
    }
}
