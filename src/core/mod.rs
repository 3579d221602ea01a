//! The pure-Rust core: everything that decides or computes, nothing that touches the web.

pub mod error;
pub mod hash;
pub mod source;
#[doc(hidden)]
pub mod test_vectors;

pub use error::Error;
