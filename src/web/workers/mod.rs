//! Hashing in Web Workers, the page's side. A client keeps one pool of workers
//! ([`WorkerPool`]); one file's hashing is split into jobs for it ([`WorkerHashing`]); every message
//! between the page and a worker is built and checked in one place ([`protocol`],
//! `js/hash-worker.js` is the other end). Each worker instantiates the
//! already-compiled wasm module and reads its own ranges of the `File` (the page
//! copies no bytes).
//!
//! Where no worker of the pool can start (a browser without module workers, a worker
//! script that does not load), its jobs come back unrun and the caller decides where
//! to hash instead: [`crate::web::hashing::Hashing`], on the calling thread. Nothing
//! here imports that module.
//!
//! Segments are hashed in parallel. The whole-file digest of v2.1 is sequential by
//! nature: with two or more workers, one worker streams the whole file while the
//! others share the segments, so it does not serialise them.

mod hashing;
mod pool;
pub mod protocol;

pub use hashing::{InWorkers, WorkerHashing};
pub use pool::{WorkerPool, WorkerRuntime};
