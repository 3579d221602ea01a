//! Browser tests of the facade and the web adapter (wasm-bindgen-test, run by
//! `wasm-pack test --headless --chrome`). Each file under `tests/web/` is one area.
#![cfg(target_arch = "wasm32")]

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

#[path = "web/adapter.rs"]
mod adapter;
#[path = "web/engine.rs"]
mod engine;
#[path = "web/hash_file.rs"]
mod hash_file;
#[path = "web/reads.rs"]
mod reads;
#[path = "web/store.rs"]
mod store;
#[path = "web/support.rs"]
mod support;
