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
// Values from JS and the network reach most of this crate: outside tests, nothing
// may panic on them (no unwrap/expect/panic, no indexing or slicing that can fail)
// and no cast may silently truncate, wrap or drop a sign. Where a cast is checked
// by hand, its own `allow` says so.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::unreachable,
        clippy::indexing_slicing,
        clippy::cast_possible_truncation,
        clippy::cast_possible_wrap,
        clippy::cast_sign_loss
    )
)]

pub mod core;

#[cfg(target_arch = "wasm32")]
pub mod web;

#[cfg(target_arch = "wasm32")]
pub mod facade;
