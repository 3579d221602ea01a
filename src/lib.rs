//! Uploads browser `File`s to Procore by direct upload, compiled to WebAssembly.
//!
//! Three layers, one folder each:
//! - [`core`]: pure Rust (hashing, and later segment planning, protocol models, the
//!   upload state machine, retry decisions). No web APIs; tested with native `cargo test`.
//! - `web` (wasm32 only): the one place that calls web-sys/js-sys (Blob reads,
//!   abort signals, errors as JS values).
//! - `facade` (wasm32 only): the `#[wasm_bindgen]` exports; converts options in and
//!   results/errors out, nothing else.
#![deny(missing_docs)]

pub mod core;

#[cfg(target_arch = "wasm32")]
pub mod web;

#[cfg(target_arch = "wasm32")]
pub mod facade;
