//! Hashing in workers, what is decided rather than done: how many workers a client
//! keeps by default, how one file's hashing is split into jobs for them, how their
//! progress adds up, and what a pool does when one of its workers fails (so that a
//! browser without module workers, whose workers never start, and a worker that
//! crashes mid-job are told apart by a table test).

use std::ops::Range;

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

/// Where a job's digests go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// The file's segments from this index on, one per range of the job.
    Segments(usize),
    /// The whole-file digest (the job's one range is the whole file).
    Whole,
}

/// One worker's share of a file's hashing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Consecutive ranges of the file, hashed one digest each, in one pass.
    pub ranges: Vec<Range<u64>>,
    /// Also the whole-file digest, from the same pass (the job then covers the file).
    pub whole: bool,
    /// Where its digests go.
    pub slot: Slot,
}

impl Job {
    /// Bytes the job reads.
    pub fn size(&self) -> u64 {
        self.ranges.iter().map(|r| r.end - r.start).sum()
    }
}

/// Splits the hashing of `ranges` (consecutive segments of a `size`-byte file, and the
/// whole file's digest when `whole`) for `workers` workers. One worker, or one
/// segment, is one job doing everything in one pass. More workers share the segments
/// in runs of consecutive ones, about two runs per worker: a worker reads a run
/// through one stream, and the runs still spread the load. The whole-file digest is
/// sequential by nature: with more workers, one job streams the whole file alone
/// (listed first, so it starts first) while the others share the segments.
pub fn plan_jobs(ranges: &[Range<u64>], whole: bool, workers: usize, size: u64) -> Vec<Job> {
    if workers <= 1 || ranges.len() <= 1 {
        return vec![Job {
            ranges: ranges.to_vec(),
            whole,
            slot: Slot::Segments(0),
        }];
    }
    let mut jobs = Vec::with_capacity(ranges.len() + 1);
    if whole {
        jobs.push(Job {
            ranges: vec![Range {
                start: 0,
                end: size,
            }],
            whole: false,
            slot: Slot::Whole,
        });
    }
    let segment_workers = if whole { workers - 1 } else { workers };
    let run = ranges.len().div_ceil(2 * segment_workers.max(1)).max(1);
    jobs.extend(ranges.chunks(run).enumerate().map(|(index, chunk)| Job {
        ranges: chunk.to_vec(),
        whole: false,
        slot: Slot::Segments(index * run),
    }));
    jobs
}

/// The bytes hashed for every digest wanted, from each job's bytes so far (`done`, in
/// the order of `jobs`): the segments' bytes, capped by the whole-file job's when
/// there is one (a byte counts once all its digests are done).
pub fn bytes_done(jobs: &[Job], done: &[u64]) -> u64 {
    let (mut segments, mut whole) = (0u64, None);
    for (job, bytes) in jobs.iter().zip(done) {
        match job.slot {
            Slot::Whole => whole = Some(*bytes),
            Slot::Segments(_) => segments += bytes,
        }
    }
    whole.map_or(segments, |whole| whole.min(segments))
}

/// What becomes of a failed worker's job, and of the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// A new worker runs the job once more.
    RunAgain,
    /// The job fails (`WORKER`).
    Fail,
    /// No worker of this pool ever started, so this page cannot run them (no module
    /// workers, a worker script that does not load, a policy that forbids it): the
    /// pool starts no more workers and hands every job of it back unrun, for its
    /// owner to hash elsewhere (the calling thread).
    GiveUp,
}

/// The rule for a worker that failed, whether its constructor threw or it fired an
/// `error` event: `proven` once any worker of the pool has reported ready (or
/// answered a job); `ran_again` when its job already ran once more after a failure.
pub fn after_worker_failure(proven: bool, ran_again: bool) -> AfterFailure {
    match (proven, ran_again) {
        (false, _) => AfterFailure::GiveUp,
        (true, false) => AfterFailure::RunAgain,
        (true, true) => AfterFailure::Fail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_that_never_started_means_giving_up_else_one_more_run() {
        let table = [
            // Module workers unsupported, the script missing: the first failure says so.
            (false, false, AfterFailure::GiveUp),
            // Never proven even after a rerun (a pool that still had no ready worker).
            (false, true, AfterFailure::GiveUp),
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

    const MIB: u64 = 1024 * 1024;

    /// `n` segments of `segment` bytes over a `size`-byte file.
    fn segments(size: u64, segment: u64) -> Vec<Range<u64>> {
        (0..size.div_ceil(segment).max(1))
            .map(|i| i * segment..((i + 1) * segment).min(size))
            .collect()
    }

    #[test]
    fn jobs_for_each_count_of_workers_and_segments() {
        // (segments, whole, workers) → the jobs' first segment index and length
        // (Whole for the whole-file job), and which job also takes the whole digest.
        type Plan = Vec<(Slot, usize, bool)>;
        let table: Vec<(usize, bool, usize, Plan)> = vec![
            // One worker: one pass over everything, the whole digest from the same bytes.
            (6, false, 1, vec![(Slot::Segments(0), 6, false)]),
            (6, true, 1, vec![(Slot::Segments(0), 6, true)]),
            // One segment: one job, however many workers.
            (1, true, 4, vec![(Slot::Segments(0), 1, true)]),
            (1, false, 4, vec![(Slot::Segments(0), 1, false)]),
            // No worker asked for counts as one.
            (3, false, 0, vec![(Slot::Segments(0), 3, false)]),
            // Two workers, 16 segments: runs of four, about two per worker.
            (
                16,
                false,
                2,
                vec![
                    (Slot::Segments(0), 4, false),
                    (Slot::Segments(4), 4, false),
                    (Slot::Segments(8), 4, false),
                    (Slot::Segments(12), 4, false),
                ],
            ),
            // The whole digest first, alone; the other worker takes the segments in two runs.
            (
                6,
                true,
                2,
                vec![
                    (Slot::Whole, 1, false),
                    (Slot::Segments(0), 3, false),
                    (Slot::Segments(3), 3, false),
                ],
            ),
            // Three workers, 3 segments: one each, a short run last.
            (
                3,
                false,
                3,
                vec![
                    (Slot::Segments(0), 1, false),
                    (Slot::Segments(1), 1, false),
                    (Slot::Segments(2), 1, false),
                ],
            ),
            // Uneven: 10 segments, 3 workers: runs of two.
            (
                10,
                false,
                3,
                vec![
                    (Slot::Segments(0), 2, false),
                    (Slot::Segments(2), 2, false),
                    (Slot::Segments(4), 2, false),
                    (Slot::Segments(6), 2, false),
                    (Slot::Segments(8), 2, false),
                ],
            ),
        ];
        for (count, whole, workers, expected) in table {
            let size = count as u64 * 5 * MIB - 3;
            let ranges = segments(size, 5 * MIB);
            assert_eq!(ranges.len(), count);
            let jobs = plan_jobs(&ranges, whole, workers, size);
            let got: Plan = jobs
                .iter()
                .map(|job| (job.slot, job.ranges.len(), job.whole))
                .collect();
            assert_eq!(
                got, expected,
                "{count} segments, whole {whole}, {workers} workers"
            );
            // Every segment in exactly one job, in its slot; the whole job is the file.
            let mut covered = Vec::new();
            for job in &jobs {
                match job.slot {
                    Slot::Whole => assert_eq!(
                        job.ranges,
                        vec![Range {
                            start: 0,
                            end: size
                        }]
                    ),
                    Slot::Segments(first) => {
                        assert_eq!(job.ranges[..], ranges[first..first + job.ranges.len()]);
                        covered.extend(job.ranges.iter().cloned());
                    }
                }
            }
            assert_eq!(
                covered, ranges,
                "{count} segments, {workers} workers: all, once, in order"
            );
        }
    }

    #[test]
    fn progress_counts_a_byte_once_all_its_digests_are_done() {
        let ranges = segments(30 * MIB, 5 * MIB);
        let with_whole = plan_jobs(&ranges, true, 3, 30 * MIB);
        let segments_only = plan_jobs(&ranges, false, 3, 30 * MIB);
        // Six jobs of one segment; a whole-file job and three of two segments.
        assert_eq!((segments_only.len(), with_whole.len()), (6, 4));
        let table: [(&[Job], &[u64], u64); 6] = [
            (&segments_only, &[0; 6], 0),
            (&segments_only, &[5 * MIB, MIB, 0, 0, 0, 0], 6 * MIB),
            (&segments_only, &[5 * MIB; 6], 30 * MIB),
            // The whole-file job behind the segments: it caps the count.
            (&with_whole, &[2 * MIB, 10 * MIB, 10 * MIB, 0], 2 * MIB),
            // Ahead of them: the segments do.
            (&with_whole, &[30 * MIB, 10 * MIB, 3 * MIB, 0], 13 * MIB),
            (
                &with_whole,
                &[30 * MIB, 10 * MIB, 10 * MIB, 10 * MIB],
                30 * MIB,
            ),
        ];
        for (jobs, done, expected) in table {
            assert_eq!(bytes_done(jobs, done), expected, "{done:?}");
        }
    }

    #[test]
    fn a_job_reads_the_bytes_of_its_ranges() {
        let job = Job {
            ranges: vec![0..5, 5..12],
            whole: false,
            slot: Slot::Segments(0),
        };
        assert_eq!(job.size(), 12);
    }
}
