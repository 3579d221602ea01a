//! How many hashing workers a client keeps by default, and what a pool of them does
//! when one of its workers fails: a pure rule, so that a browser without module
//! workers (whose workers never start) and a worker that crashes mid-job are told
//! apart by a table test.

/// Hashing workers a client keeps unless told otherwise: one, in every engine.
///
/// Each busy worker costs the browser 50 to 100 MiB (its 16 MiB segment buffer,
/// WebCrypto's copy, its isolate and what its reads leave to the collector), so two
/// or more break the 128 MiB budget while a big file is hashed or uploaded: measured
/// with two workers, Firefox +139 MiB hashing 4 GiB, Chromium +150 uploading 4 GiB
/// by v2.1, WebKit +187 to +345 (`bench/memory.mjs`); one per core, as before, would
/// start four on most laptops. Uploads lose nothing (20 × 50 MB through one client:
/// v1.1 11.45 s with one, 11.81 s with two), a lone `hashFile` does: two hash it up
/// to 1.5× faster, the setting to pick where memory is plentiful.
pub const DEFAULT_WORKERS: usize = 1;

/// What becomes of a failed worker's job, and of the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// A new worker runs the job once more.
    RunAgain,
    /// The job fails (`WORKER`).
    Fail,
    /// No worker of this pool ever started, so this page cannot run them (no module
    /// workers, a worker script that does not load, a policy that forbids it): the
    /// pool starts no more workers, and every job of it is hashed on the calling thread.
    CallingThread,
}

/// The rule for a worker that failed, whether its constructor threw or it fired an
/// `error` event: `proven` once any worker of the pool has reported ready (or
/// answered a job); `ran_again` when its job already ran once more after a failure.
pub fn after_worker_failure(proven: bool, ran_again: bool) -> AfterFailure {
    match (proven, ran_again) {
        (false, _) => AfterFailure::CallingThread,
        (true, false) => AfterFailure::RunAgain,
        (true, true) => AfterFailure::Fail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_that_never_started_means_the_calling_thread_else_one_more_run() {
        let table = [
            // Module workers unsupported, the script missing: the first failure says so.
            (false, false, AfterFailure::CallingThread),
            // Never proven even after a rerun (a pool that still had no ready worker).
            (false, true, AfterFailure::CallingThread),
            // A crash where workers do run: replaced, the job once more.
            (true, false, AfterFailure::RunAgain),
            // The same job crashed its worker twice.
            (true, true, AfterFailure::Fail),
        ];
        for (proven, ran_again, after) in table {
            assert_eq!(
                after_worker_failure(proven, ran_again),
                after,
                "proven {proven}, ran again {ran_again}"
            );
        }
    }
}
