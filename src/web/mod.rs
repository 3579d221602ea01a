//! The web adapter: the only module that calls web-sys and js-sys.
//!
//! It implements the core's seams over browser objects ([`blob::BlobSource`] for
//! [`crate::core::source::ByteSource`], [`http::WebHttp`] for
//! [`crate::core::http::Http`], [`tokens::JsTokens`] for
//! [`crate::core::http::Tokens`]) and converts between JS values and
//! [`crate::core::Error`].

pub mod abort;
pub mod blob;
pub mod error;
pub mod http;
pub mod js;
pub mod pool;
pub mod tokens;
pub mod webcrypto;
