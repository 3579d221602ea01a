//! An upload's progress as users see it: the phases, the counters that never go
//! back, the speed over the last seconds, and the pace of the reports.

use std::cell::{Cell, RefCell};

use super::runtime::Wakeup;

/// Where an upload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Waiting for its turn: other files of the client are hashed or sent first.
    Queued,
    /// Reading and hashing the file.
    Hashing,
    /// Asking Procore for instructions.
    Creating,
    /// Sending bytes to storage.
    Uploading,
    /// Telling Procore the bytes are there.
    Completing,
    /// v2.1: waiting until Procore has processed the upload.
    Processing,
    /// `uploadAndAttach`: attaching the upload to its resource.
    Attaching,
    /// Finished.
    Done,
}

impl Phase {
    /// As JS sees it.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Queued => "queued",
            Phase::Hashing => "hashing",
            Phase::Creating => "creating",
            Phase::Uploading => "uploading",
            Phase::Completing => "completing",
            Phase::Processing => "processing",
            Phase::Attaching => "attaching",
            Phase::Done => "done",
        }
    }
}

/// A progress report. No field ever goes backwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Current phase.
    pub phase: Phase,
    /// Bytes read and hashed.
    pub bytes_hashed: u64,
    /// Bytes accepted by storage (or on their way, as the browser reports).
    pub bytes_uploaded: u64,
    /// File size.
    pub total_bytes: u64,
    /// Segments stored.
    pub segments_done: u64,
    /// Segments in all.
    pub segments_total: u64,
    /// Upload speed over the last seconds; `None` until known (and after a pause,
    /// until known again).
    pub bytes_per_second: Option<u64>,
    /// Seconds left at that speed; `None` while the speed is unknown.
    pub eta_seconds: Option<u64>,
}

/// How far back the speed is measured.
pub(crate) const SPEED_WINDOW_MS: f64 = 5000.0;
/// The speed is not told before this much of the window is covered.
const SPEED_MIN_SPAN_MS: f64 = 1000.0;

/// Bytes per second over `samples` (time in ms, bytes uploaded so far), oldest
/// first; `None` while they cover less than [`SPEED_MIN_SPAN_MS`].
pub fn speed(samples: &[(f64, u64)]) -> Option<u64> {
    let (first, last) = (samples.first()?, samples.last()?);
    let span = last.0 - first.0;
    if span < SPEED_MIN_SPAN_MS {
        return None;
    }
    let bytes = last.1.saturating_sub(first.1);
    // Float to integer: a speed is far below u64::MAX and never negative here.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    Some((bytes as f64 * 1000.0 / span).round() as u64)
}

/// The least time between two progress reports of one upload: at most ten a second
/// reach `onProgress`, however often the engine reports (WebKit: one event per
/// 8 KiB sent).
pub const REPORT_INTERVAL_MS: f64 = 100.0;

/// Whether `next` is reported at `now` (ms), given the last report and when it was
/// made: always the first, a new phase, the moment every byte is hashed (a file
/// then waiting for its turn shows it hashed) and the moment every byte is sent (so
/// the final report is never held back); otherwise once [`REPORT_INTERVAL_MS`] passed.
pub fn report_due(last: Option<(f64, &Progress)>, now: f64, next: &Progress) -> bool {
    let Some((at, last)) = last else {
        return true;
    };
    let all_sent = |p: &Progress| p.bytes_uploaded == p.total_bytes;
    let all_hashed = |p: &Progress| p.bytes_hashed == p.total_bytes;
    next.phase != last.phase
        || all_sent(next) && !all_sent(last)
        || all_hashed(next) && !all_hashed(last)
        || now - at >= REPORT_INTERVAL_MS
}

/// Holds progress reports back to [`report_due`]'s pace and remembers the last one.
#[derive(Debug, Default)]
pub struct ReportGate {
    last: Option<(f64, Progress)>,
}

impl ReportGate {
    /// Whether `next` goes out at `now`; when it does, it is the new last report.
    pub fn admit(&mut self, now: f64, next: &Progress) -> bool {
        let due = report_due(self.last.as_ref().map(|(at, p)| (*at, p)), now, next);
        if due {
            self.last = Some((now, *next));
        }
        due
    }

    /// Admits `current` if it differs from the last report: what stopping work
    /// calls, so the last thing said is where it stands.
    pub fn admit_held_back(&mut self, now: f64, current: &Progress) -> bool {
        let held_back = self.last.as_ref().is_none_or(|(_, said)| said != current);
        if held_back {
            self.last = Some((now, *current));
        }
        held_back
    }
}

/// Seconds to send `left` bytes at `speed` bytes per second (`None` at a standstill).
pub fn eta_seconds(left: u64, speed: Option<u64>) -> Option<u64> {
    match speed {
        Some(speed) if speed > 0 => Some(left.div_ceil(speed)),
        Some(_) if left == 0 => Some(0),
        _ => None,
    }
}

/// Keeps an upload's progress: every counter monotonic and capped at the total
/// across retries, expiry, pauses and resumes (a segment's bytes count as the most
/// ever sent of it), and the speed over the last seconds. Lives as long as the
/// upload does, across the engine runs of a paused and resumed upload.
pub struct ProgressTracker<'a> {
    state: RefCell<Progress>,
    /// Bytes sent per segment (the largest seen: a retry does not go backwards).
    sent: RefCell<Vec<u64>>,
    /// Segments stored at least once.
    done: RefCell<Vec<bool>>,
    /// (ms, bytes uploaded) within the speed window, oldest first.
    samples: RefCell<Vec<(f64, u64)>>,
    /// Paces the reports ([`report_due`]).
    gate: RefCell<ReportGate>,
    /// The phase the current run was put in last (the phase reported never goes
    /// back; a resumed run goes through the earlier steps again).
    reached: Cell<Phase>,
    /// Woken when a run is put in a phase.
    moved: Wakeup,
    emit: Box<dyn Fn(&Progress) + 'a>,
    clock: Box<dyn Fn() -> f64 + 'a>,
}

impl<'a> ProgressTracker<'a> {
    /// Progress of a `total_bytes` upload in `segments_total` segments, reported to
    /// `emit`; `clock` gives ms for the speed.
    pub fn new(
        total_bytes: u64,
        segments_total: u64,
        emit: Box<dyn Fn(&Progress) + 'a>,
        clock: Box<dyn Fn() -> f64 + 'a>,
    ) -> Self {
        let segments = usize::try_from(segments_total).unwrap_or(0);
        Self {
            state: RefCell::new(Progress {
                phase: Phase::Queued,
                bytes_hashed: 0,
                bytes_uploaded: 0,
                total_bytes,
                segments_done: 0,
                segments_total,
                bytes_per_second: None,
                eta_seconds: None,
            }),
            sent: RefCell::new(vec![0; segments]),
            done: RefCell::new(vec![false; segments]),
            samples: RefCell::new(Vec::new()),
            gate: RefCell::new(ReportGate::default()),
            reached: Cell::new(Phase::Queued),
            moved: Wakeup::default(),
            emit,
            clock,
        }
    }

    /// The last report.
    pub fn current(&self) -> Progress {
        *self.state.borrow()
    }

    pub(crate) fn update(&self, change: impl FnOnce(&mut Progress)) {
        let before = self.current();
        change(&mut self.state.borrow_mut());
        self.settle(before);
    }

    /// What every update ends with, apart from [`Self::update`] (which is copied for
    /// each of its callers' closures): the counters kept monotonic, the speed, the
    /// report if due.
    fn settle(&self, before: Progress) {
        let now = (self.clock)();
        let snapshot = {
            let mut state = self.state.borrow_mut();
            state.phase = state.phase.max(before.phase);
            state.bytes_hashed = state.bytes_hashed.max(before.bytes_hashed);
            state.bytes_uploaded = state
                .bytes_uploaded
                .max(before.bytes_uploaded)
                .min(state.total_bytes);
            state.segments_done = state.segments_done.max(before.segments_done);
            if state.bytes_uploaded != before.bytes_uploaded {
                let mut samples = self.samples.borrow_mut();
                samples.push((now, state.bytes_uploaded));
                let stale = samples
                    .iter()
                    .take_while(|(at, _)| now - at > SPEED_WINDOW_MS)
                    .count();
                samples.drain(..stale);
                // Only the ends of the window count: no copy of it per event.
                state.bytes_per_second = match (samples.first(), samples.last()) {
                    (Some(first), Some(last)) => speed(&[*first, *last]),
                    _ => None,
                };
                state.eta_seconds = eta_seconds(
                    state.total_bytes - state.bytes_uploaded,
                    state.bytes_per_second,
                );
            }
            *state
        };
        let due = self.gate.borrow_mut().admit(now, &snapshot);
        if due {
            (self.emit)(&snapshot);
        }
    }

    /// Reports the latest state if a report of it was held back ([`report_due`]):
    /// when the upload stops, so the last thing said is where it stands.
    pub fn flush(&self) {
        let current = *self.state.borrow();
        let held_back = self
            .gate
            .borrow_mut()
            .admit_held_back((self.clock)(), &current);
        if held_back {
            (self.emit)(&current);
        }
    }

    /// The phase the current run was put in last ([`Phase::Queued`] once stopped).
    pub fn reached(&self) -> Phase {
        self.reached.get()
    }

    /// Waits until `ready()` holds, checked now and each time a run is put in a phase.
    pub async fn until_moved(&self, ready: &dyn Fn() -> bool) {
        self.moved.until(ready).await;
    }

    /// The upload stopped (paused): the speed is unknown until it has run again
    /// for a while.
    pub fn paused(&self) {
        self.reached.set(Phase::Queued);
        self.flush();
        self.samples.borrow_mut().clear();
        let mut state = self.state.borrow_mut();
        state.bytes_per_second = None;
        state.eta_seconds = None;
    }

    /// Moves to `phase` (never back). A run that catches up with the phase shown
    /// (a resumed run sending again) is reported at once, though that phase stays.
    pub fn phase(&self, phase: Phase) {
        if self.reached.replace(phase) != phase && phase >= self.current().phase {
            *self.gate.borrow_mut() = ReportGate::default();
        }
        self.update(|p| p.phase = phase);
        self.moved.wake_all();
    }

    pub(crate) fn sent(&self, segment: usize, bytes: u64) {
        // The total moves by what this segment gained: no sum over every segment
        // on each progress event (there may be 10,000).
        let gained = {
            let mut sent = self.sent.borrow_mut();
            sent.get_mut(segment).map_or(0, |slot| {
                let before = *slot;
                *slot = before.max(bytes);
                *slot - before
            })
        };
        self.update(|p| p.bytes_uploaded = p.bytes_uploaded.saturating_add(gained));
    }

    pub(crate) fn segment_done(&self, segment: usize, size: u64) {
        self.sent(segment, size);
        let stored = {
            let mut done = self.done.borrow_mut();
            if let Some(slot) = done.get_mut(segment) {
                *slot = true;
            }
            done.iter().filter(|&&stored| stored).count() as u64
        };
        self.update(|p| p.segments_done = stored);
    }
}
