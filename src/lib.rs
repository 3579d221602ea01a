//! Uploads browser `File`s to Procore by direct upload, compiled to WebAssembly.
//!
//! Three layers, one folder each:
//! - [`core`]: pure Rust: segment planning, protocol models, the upload state machine,
//!   retry decisions, hashing, errors. No web APIs; tested with native `cargo test`.
//! - `web` (wasm32 only): every call into the browser (Blob reads, fetch/XHR,
//!   workers, WebCrypto, timers, abort signals) and every check of what JS hands back.
//! - `facade` (wasm32 only): the `#[wasm_bindgen]` exports; reads options, calls the
//!   core through the web adapter, converts results and errors out.
#![deny(missing_docs)]

pub mod core;

#[cfg(target_arch = "wasm32")]
pub mod web;

#[cfg(target_arch = "wasm32")]
pub mod facade;
