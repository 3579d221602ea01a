//! The web adapter: every call into the browser (Blob reads, fetch and XHR, Web
//! Workers, WebCrypto, timers, abort signals) happens here, and so does every check
//! of what the browser or the caller's JS hands back.
//!
//! It implements the core's seams over browser objects ([`blob::BlobSource`] for
//! [`crate::core::source::ByteSource`], [`http::WebHttp`] for
//! [`crate::core::http::Http`], [`tokens::JsTokens`] for
//! [`crate::core::http::Tokens`], [`hashing::Hashing`] for
//! [`crate::core::hash::HashBackend`]) and converts between JS values and
//! [`crate::core::Error`]. The facade only names JS types to pass them through.

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
