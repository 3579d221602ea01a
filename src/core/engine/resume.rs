//! The kept state of a segmented upload: whether a state given to go on from fits
//! this upload, and how a run changes it (in place, telling its owner each time).

use std::cell::RefCell;

use super::{state_scope, Phase, UploadOptions};
use crate::core::hash::kept_md5_fits;
use crate::core::plan::SegmentPlan;
use crate::core::state::{UploadState, STATE_FORMAT};
use crate::core::Error;

/// A state given to go on from must be of this upload: same place, same file size,
/// same segments, same digest kinds.
pub(super) fn check_state_fits(
    state: &UploadState,
    options: &UploadOptions,
    plan: SegmentPlan,
) -> Result<(), Error> {
    let count = usize::try_from(plan.count()).unwrap_or(usize::MAX);
    let digests_fit = state.digests.as_ref().is_none_or(|d| {
        d.len() == count
            && d.iter()
                .zip(plan.ranges())
                .all(|(d, r)| d.size == r.end - r.start)
    });
    let parts_fit = state.uuid.is_none()
        || (state.etags.len() == count && (state.parts.is_empty() || state.parts.len() == count));
    let why = if state.format != STATE_FORMAT {
        Some("it was written by another version of procore-upload".to_string())
    } else if state.scope != state_scope(&options.scope) {
        Some("it is for another company, project or API version".to_string())
    } else if state.file.size != options.file.size {
        Some(format!(
            "it is for a file of {} bytes, this one has {}",
            state.file.size, options.file.size
        ))
    } else if state.segment_size != plan.segment_size || !digests_fit || !parts_fit {
        Some("its segments differ from this upload's (segmentSize?)".to_string())
    } else if !kept_md5_fits(options.md5, state.md5) {
        Some("it was hashed with another md5 setting".to_string())
    } else {
        None
    };
    match why {
        Some(why) => Err(Error::InvalidInput(format!(
            "resume: the state does not fit: {why}"
        ))),
        None => Ok(()),
    }
}

/// The upload's state, saved after each change.
/// The upload's state, changed in place and told to its owner after each change.
pub(super) struct StateKeeper<'a> {
    /// The state, held by the upload's owner.
    pub(super) state: &'a RefCell<UploadState>,
    /// Told after each change.
    pub(super) saved: &'a dyn Fn(&UploadState),
    /// The wall clock, stamped on each change.
    pub(super) clock: &'a dyn Fn() -> u64,
    /// Where the upload is, stamped on each saved state.
    pub(super) phase: &'a dyn Fn() -> Phase,
}

impl StateKeeper<'_> {
    pub(super) fn change(&self, change: impl FnOnce(&mut UploadState, u64)) {
        let now = (self.clock)();
        change(&mut self.state.borrow_mut(), now);
        self.stamp(now);
    }

    /// What every change ends with, apart from [`Self::change`] (which is copied for
    /// each of its callers' closures): the time and phase stamped, then saved.
    fn stamp(&self, now: u64) {
        {
            let mut state = self.state.borrow_mut();
            state.updated_ms = now;
            state.phase = (self.phase)().as_str().into();
        }
        (self.saved)(&self.state.borrow());
    }

    pub(super) fn get(&self) -> std::cell::Ref<'_, UploadState> {
        self.state.borrow()
    }
}

/// The upload id and every segment's ETag, once all are stored.
pub(super) fn stored_etags(keeper: &StateKeeper<'_>) -> Result<(String, Vec<String>), Error> {
    let state = keeper.get();
    let uuid = state
        .uuid
        .clone()
        .ok_or_else(|| Error::Protocol("no upload id".into()))?;
    // A loop, not a collect into a Result: less code in the package.
    let mut etags = Vec::with_capacity(state.etags.len());
    for (i, etag) in state.etags.iter().enumerate() {
        match etag {
            Some(etag) => etags.push(etag.clone()),
            None => return Err(Error::Protocol(format!("segment {} has no ETag", i + 1))),
        }
    }
    Ok((uuid, etags))
}
