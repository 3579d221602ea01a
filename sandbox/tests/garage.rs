//! The same storage-side checks with the sandbox presigning against Garage, a real
//! S3 server (`--storage-endpoint`). Needs the garage binary (scripts/bootstrap).

#[macro_use]
mod checks;
mod common;

use common::Harness;

storage_check_tests!(Harness::garage(common::config()).await);
