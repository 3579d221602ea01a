//! Folder trees into Procore Documents (issue 23), the pure part: the entries a
//! caller drops checked into a plan ([`plan`]), what to do with a file whose name is
//! taken ([`existing`]), which folder to look up or create next while many files
//! upload at once ([`scheduler`]), and what the whole tree reports ([`report`]).
//!
//! Names are compared exactly (byte for byte) everywhere: Procore's documentation
//! says nothing of how Documents compares names, and an exact match never makes one
//! file a version of another that only looks alike. Where Procore compares otherwise,
//! its "name taken" answer is the arbiter ([`existing::decide`],
//! [`scheduler::Scheduler::name_taken`]).

pub mod existing;
pub mod plan;
pub mod report;
pub mod run;
pub mod scheduler;
