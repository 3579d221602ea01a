//! The pure-Rust core: everything that decides or computes, nothing that touches the web.

pub mod api;
pub mod browser;
pub mod engine;
pub mod error;
pub mod folders;
pub mod hash;
pub mod http;
pub mod json;
pub mod options;
pub mod plan;
pub mod progress;
pub mod protocol;
pub mod reads;
pub mod resources;
pub mod retry;
pub mod runtime;
pub mod source;
pub mod state;
pub mod task;
#[doc(hidden)]
pub mod test_vectors;
pub mod workers;

pub use error::Error;
