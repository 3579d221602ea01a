//! The web adapter: every call into js-sys and web-sys (Blob reads, fetch and XHR,
//! Web Workers, WebCrypto, IndexedDB, timers, abort controllers and signals, plain
//! objects, arrays and promises, the caller's callbacks) happens here, and so does
//! every check of what the browser or the caller's JS hands back.
//!
//! It implements the core's seams over browser objects ([`blob::BlobSource`] for
//! [`crate::core::source::ByteSource`], [`http::WebHttp`] for
//! [`crate::core::http::Http`], [`tokens::JsTokens`] for
//! [`crate::core::http::Tokens`], [`hashing::Hashing`] for
//! [`crate::core::hash::HashBackend`]) and converts between JS values and
//! [`crate::core::Error`]. The facade names a few JS types (`Function`, `Promise`,
//! `AbortSignal`) to pass them through, and calls these modules for everything else
//! (`tests/layering.rs` checks it).

pub mod abort;
pub mod blob;
pub mod error;
pub mod hashing;
pub mod http;
pub mod js;
pub mod store;
pub mod timer;
pub mod tokens;
pub mod webcrypto;
pub mod workers;
