//! What a tree's upload reports: each folder and file at the end, and the progress
//! of the whole tree, fed by each file's own [`Progress`].

use super::super::progress::{eta_seconds, report_due, speed, Phase, Progress, SPEED_WINDOW_MS};
use super::super::Error;
use super::plan::Plan;

/// A folder of the tree at the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderResult {
    /// Its path in the tree.
    pub path: String,
    /// Its Procore id, unless it failed.
    pub id: Option<u64>,
    /// Whether this run made it (not: found it there and reused it).
    pub created: bool,
    /// Why it could not be looked up or made (or one above it).
    pub error: Option<Error>,
}

/// What became of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileStatus {
    /// A new file, under its own name.
    Created,
    /// A new version of the file of its name.
    Versioned,
    /// A new file, renamed by Procore (its name was taken; `onExisting: "rename"`).
    Renamed,
    /// Left out: a file of its name was there (`onExisting: "skip"`).
    Skipped,
    /// It failed; the error says why.
    Failed,
}

impl FileStatus {
    /// As JS sees it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Versioned => "versioned",
            Self::Renamed => "renamed",
            Self::Skipped => "skipped",
            Self::Failed => "failed",
        }
    }

    /// A created file's status: renamed when Procore calls it otherwise than
    /// `asked` (`named`, from its answer).
    pub fn of_create(asked: &str, named: &str) -> Self {
        if asked == named {
            Self::Created
        } else {
            Self::Renamed
        }
    }
}

/// A file of the tree at the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileResult {
    /// Its path in the tree.
    pub path: String,
    /// What became of it.
    pub status: FileStatus,
    /// Its upload, once made.
    pub upload_uuid: Option<String>,
    /// The Procore file it is (or, skipped, the one left there).
    pub file_id: Option<u64>,
    /// Its version's id, when Procore said it.
    pub version_id: Option<u64>,
    /// What Procore calls it (after a rename, its new name).
    pub name: Option<String>,
    /// Why it failed.
    pub error: Option<Error>,
}

/// What a tree's upload gives at the end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeResult {
    /// Every folder of the plan, parents first.
    pub folders: Vec<FolderResult>,
    /// Every file of the plan, in its order.
    pub files: Vec<FileResult>,
}

/// The progress of a whole tree. No field ever goes backwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeProgress {
    /// Files done: created, versioned, renamed or skipped.
    pub files_done: u64,
    /// Files that failed.
    pub files_failed: u64,
    /// Files in the tree (ignored ones are not).
    pub files_total: u64,
    /// The usual counts, summed over the files. `phase`: the least advanced of the
    /// files not finished yet ([`Phase::Done`] once all are). A file done counts
    /// its whole size as hashed and uploaded (a skipped one has nothing to send: its
    /// bytes are accounted for, not sent); a failed file's bytes stay as they were.
    /// The speed is of bytes sent; the time left, of the bytes the files not
    /// finished have left.
    pub bytes: Progress,
}

/// Each phase, in order (`phase as usize` is its place).
const PHASES: [Phase; 8] = [
    Phase::Queued,
    Phase::Hashing,
    Phase::Creating,
    Phase::Uploading,
    Phase::Completing,
    Phase::Processing,
    Phase::Attaching,
    Phase::Done,
];

/// A file as the tree counts it.
#[derive(Debug, Clone, Copy)]
struct Counted {
    size: u64,
    hashed: u64,
    uploaded: u64,
    segments_done: u64,
    segments_total: u64,
    phase: Phase,
    settled: bool,
}

/// Keeps a tree's progress from its files' reports, and paces the tree's own
/// reports as [`report_due`] paces a file's. Pure: the time is given.
#[derive(Debug)]
pub struct TreeTracker {
    files: Vec<Counted>,
    state: TreeProgress,
    /// Files not finished, per phase.
    phases: [u64; 8],
    /// Bytes counted as uploaded without being sent (files skipped, or done
    /// before they said all their bytes were sent).
    credited: u64,
    /// Bytes failed files will never send.
    abandoned: u64,
    /// (ms, bytes sent) within the speed window, oldest first.
    samples: Vec<(f64, u64)>,
    last: Option<(f64, TreeProgress)>,
}

impl TreeTracker {
    /// The progress of `plan`'s files, none started.
    pub fn new(plan: &Plan) -> Self {
        let mut files = Vec::with_capacity(plan.files.len());
        for file in &plan.files {
            files.push(Counted {
                size: file.size,
                hashed: 0,
                uploaded: 0,
                segments_done: 0,
                segments_total: 0,
                phase: Phase::Queued,
                settled: false,
            });
        }
        let total = files.len() as u64;
        let phases = [total, 0, 0, 0, 0, 0, 0, 0];
        Self {
            files,
            state: TreeProgress {
                files_done: 0,
                files_failed: 0,
                files_total: total,
                bytes: Progress {
                    phase: if total == 0 {
                        Phase::Done
                    } else {
                        Phase::Queued
                    },
                    bytes_hashed: 0,
                    bytes_uploaded: 0,
                    total_bytes: plan.total_bytes(),
                    segments_done: 0,
                    segments_total: 0,
                    bytes_per_second: None,
                    eta_seconds: None,
                },
            },
            phases,
            credited: 0,
            abandoned: 0,
            samples: Vec::new(),
            last: None,
        }
    }

    /// Where the tree stands.
    pub fn current(&self) -> TreeProgress {
        self.state
    }

    /// File `index` (of the plan) reported `progress` at `now` (ms); the tree's
    /// report when one is due.
    pub fn file(&mut self, index: usize, progress: &Progress, now: f64) -> Option<TreeProgress> {
        let file = self.files.get_mut(index).filter(|file| !file.settled)?;
        let bytes = &mut self.state.bytes;
        let gain = |seen: &mut u64, now: u64| {
            let gained = now.saturating_sub(*seen);
            *seen += gained;
            gained
        };
        bytes.bytes_hashed += gain(&mut file.hashed, progress.bytes_hashed.min(file.size));
        bytes.bytes_uploaded += gain(&mut file.uploaded, progress.bytes_uploaded.min(file.size));
        bytes.segments_done += gain(&mut file.segments_done, progress.segments_done);
        bytes.segments_total += gain(&mut file.segments_total, progress.segments_total);
        let phase = file.phase.max(progress.phase);
        let was = std::mem::replace(&mut file.phase, phase);
        self.move_phase(was, Some(phase));
        self.changed(now)
    }

    /// File `index` finished at `now`: done (`ok`: created, versioned, renamed,
    /// skipped) or failed. The tree's report when one is due.
    pub fn settled(&mut self, index: usize, ok: bool, now: f64) -> Option<TreeProgress> {
        let file = self.files.get_mut(index).filter(|file| !file.settled)?;
        file.settled = true;
        let (phase, size, hashed, uploaded) = (file.phase, file.size, file.hashed, file.uploaded);
        let state = &mut self.state;
        if ok {
            state.files_done += 1;
            state.bytes.bytes_hashed += size - hashed;
            state.bytes.bytes_uploaded += size - uploaded;
            self.credited += size - uploaded;
        } else {
            state.files_failed += 1;
            self.abandoned += size - uploaded;
        }
        self.move_phase(phase, None);
        self.changed(now)
    }

    /// The tree's report if the last one was held back: what stopping work calls,
    /// so the last thing said is where it stands.
    pub fn flush(&mut self, now: f64) -> Option<TreeProgress> {
        if self
            .last
            .as_ref()
            .is_some_and(|(_, said)| *said == self.state)
        {
            return None;
        }
        self.last = Some((now, self.state));
        Some(self.state)
    }

    /// One file not finished moves from phase `from` to `to` (`None`: finished).
    fn move_phase(&mut self, from: Phase, to: Option<Phase>) {
        if let Some(count) = self.phases.get_mut(from as usize) {
            *count = count.saturating_sub(1);
        }
        if let Some(count) = to.and_then(|to| self.phases.get_mut(to as usize)) {
            *count += 1;
        }
    }

    /// What follows every change: phase, speed, time left, the report if due.
    fn changed(&mut self, now: f64) -> Option<TreeProgress> {
        let bytes = &mut self.state.bytes;
        let mut least = Phase::Done;
        for (phase, count) in PHASES.iter().zip(self.phases) {
            if count > 0 {
                least = *phase;
                break;
            }
        }
        bytes.phase = bytes.phase.max(least);
        // Samples from the first byte sent on, as a file's speed is measured.
        let sent = bytes.bytes_uploaded.saturating_sub(self.credited);
        if self.samples.last().map_or(0, |(_, last)| *last) != sent {
            self.samples.push((now, sent));
            let stale = self
                .samples
                .iter()
                .take_while(|(at, _)| now - at > SPEED_WINDOW_MS)
                .count();
            self.samples.drain(..stale);
            bytes.bytes_per_second = match (self.samples.first(), self.samples.last()) {
                (Some(first), Some(last)) => speed(&[*first, *last]),
                _ => None,
            };
        }
        let left = bytes
            .total_bytes
            .saturating_sub(bytes.bytes_uploaded)
            .saturating_sub(self.abandoned);
        bytes.eta_seconds = eta_seconds(left, bytes.bytes_per_second);
        let due = self
            .last
            .as_ref()
            .is_none_or(|(at, last)| report_due(Some((*at, &last.bytes)), now, bytes));
        if due {
            self.last = Some((now, self.state));
            return Some(self.state);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::super::plan::{plan, Entry, EntryKind};
    use super::*;

    #[test]
    fn statuses() {
        let table = [
            (FileStatus::Created, "created"),
            (FileStatus::Versioned, "versioned"),
            (FileStatus::Renamed, "renamed"),
            (FileStatus::Skipped, "skipped"),
            (FileStatus::Failed, "failed"),
        ];
        for (status, text) in table {
            assert_eq!(status.as_str(), text);
        }
        assert_eq!(FileStatus::of_create("a.pdf", "a.pdf"), FileStatus::Created);
        assert_eq!(
            FileStatus::of_create("a.pdf", "a (1).pdf"),
            FileStatus::Renamed
        );
        for (n, phase) in PHASES.iter().enumerate() {
            assert_eq!(*phase as usize, n);
        }
    }

    fn tree(sizes: &[u64]) -> TreeTracker {
        let entries: Vec<Entry> = sizes
            .iter()
            .enumerate()
            .map(|(index, &size)| Entry {
                path: format!("d/f{index}"),
                kind: EntryKind::File { size, index },
            })
            .collect();
        TreeTracker::new(&plan(&entries, None).unwrap())
    }

    fn at(phase: Phase, hashed: u64, uploaded: u64, size: u64) -> Progress {
        Progress {
            phase,
            bytes_hashed: hashed,
            bytes_uploaded: uploaded,
            total_bytes: size,
            segments_done: 0,
            segments_total: 1,
            bytes_per_second: None,
            eta_seconds: None,
        }
    }

    /// Three files (100, 200, 300 B) through their phases: sums, the least phase
    /// of those not finished, a skipped file counted whole but not as sent, a
    /// failed one left out of the time left, the pace of the reports.
    #[test]
    fn a_tree_adds_up_its_files() {
        let mut t = tree(&[100, 200, 300]);
        let s = t.current();
        assert_eq!(
            (s.files_total, s.bytes.total_bytes, s.bytes.phase),
            (3, 600, Phase::Queued)
        );

        let r = t
            .file(0, &at(Phase::Hashing, 100, 0, 100), 0.0)
            .expect("first report");
        assert_eq!((r.bytes.bytes_hashed, r.bytes.phase), (100, Phase::Queued));
        assert_eq!(r.bytes.segments_total, 1);
        // Within 100 ms, no new phase, nothing all sent: held back.
        assert_eq!(t.file(1, &at(Phase::Hashing, 50, 0, 200), 50.0), None);
        assert_eq!(t.current().bytes.bytes_hashed, 150);
        // A report the same file already made counts once; more than its size, capped.
        assert_eq!(t.file(1, &at(Phase::Hashing, 50, 0, 200), 60.0), None);
        t.file(2, &at(Phase::Hashing, 900, 0, 300), 70.0);
        assert_eq!(t.current().bytes.bytes_hashed, 450);
        // Every file past Queued: the tree is Hashing (a phase change: reported).
        let r = t
            .file(2, &at(Phase::Uploading, 300, 0, 300), 2000.0)
            .expect("due");
        assert_eq!(r.bytes.phase, Phase::Hashing);
        // The speed from the first byte sent: 50 B in the second after it.
        let r = t
            .file(0, &at(Phase::Uploading, 100, 50, 100), 3000.0)
            .expect("due");
        assert_eq!(r.bytes.bytes_per_second, None);
        let r = t
            .file(0, &at(Phase::Uploading, 100, 100, 100), 4000.0)
            .expect("due");
        assert_eq!(r.bytes.bytes_uploaded, 100);
        assert_eq!(r.bytes.bytes_per_second, Some(50));
        // 500 bytes left at 50 B/s.
        assert_eq!(r.bytes.eta_seconds, Some(10));

        // File 1 skipped: counted whole, not as sent (the speed does not jump).
        let r = t.settled(1, true, 4200.0).expect("due");
        assert_eq!(
            (r.files_done, r.bytes.bytes_uploaded, r.bytes.bytes_hashed),
            (1, 300, 600)
        );
        assert_eq!(r.bytes.bytes_per_second, Some(50));
        assert_eq!(r.bytes.eta_seconds, Some(6));
        // Settled once only.
        assert_eq!(t.settled(1, false, 4300.0), None);
        assert_eq!(t.current().files_failed, 0);
        // File 2 fails with 100 of 300 B sent: its 200 are not waited for.
        t.file(2, &at(Phase::Uploading, 300, 100, 300), 4400.0);
        let r = t.settled(2, false, 4600.0).expect("due");
        assert_eq!((r.files_failed, r.bytes.bytes_uploaded), (1, 400));
        assert_eq!(r.bytes.eta_seconds, Some(0));
        assert_eq!(r.bytes.phase, Phase::Uploading);
        // Reports after settling are ignored.
        assert_eq!(t.file(2, &at(Phase::Done, 300, 300, 300), 4700.0), None);
        // The last file done: Done at once, whatever the pace.
        let r = t.settled(0, true, 4650.0).expect("the end is reported");
        assert_eq!(r.bytes.phase, Phase::Done);
        assert_eq!((r.files_done, r.files_failed, r.files_total), (2, 1, 3));
        assert_eq!((r.bytes.bytes_uploaded, r.bytes.total_bytes), (400, 600));
        assert_eq!(t.flush(4700.0), None, "nothing held back");
    }

    /// A report held back comes out with flush; an empty tree is done at once.
    #[test]
    fn held_back_reports_are_flushed() {
        let mut t = tree(&[10, 10]);
        assert!(t.file(0, &at(Phase::Hashing, 5, 0, 10), 0.0).is_some());
        assert_eq!(t.file(0, &at(Phase::Hashing, 6, 0, 10), 10.0), None);
        assert_eq!(t.flush(20.0).map(|r| r.bytes.bytes_hashed), Some(6));
        assert_eq!(t.flush(30.0), None);
        let empty = TreeTracker::new(&Plan::default());
        assert_eq!(empty.current().bytes.phase, Phase::Done);
        assert_eq!(empty.current().files_total, 0);
    }
}
