//! The pure-Rust core: everything that decides or computes, nothing that touches the web.

pub mod error;
pub mod hash;
pub mod source;

pub use error::Error;
