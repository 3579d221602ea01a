//! Which folder to look up or create next, while many files upload at once: a pure
//! state, told what each listing and each create answered, that never asks for the
//! same folder twice, creates parents before children, reuses what is already
//! there, and says when a file's folder is ready for it.
//!
//! A place (the folder the tree goes into, or a folder of the plan) needs its id
//! and its children: its id comes from the caller (the top), from its parent's
//! listing (reused) or from its create; its children from a listing, or are known
//! to be none when it was just created (no listing asked). A listing is asked only
//! for a place something of the plan goes into.
//!
//! The caller (the runtime) loops: take [`Scheduler::next_step`]s and send them,
//! report each answer ([`Scheduler::listed`], [`Scheduler::created`],
//! [`Scheduler::name_taken`], [`Scheduler::failed`]), and let each file wait until
//! [`Scheduler::target`] of its folder is no longer [`Target::Waiting`].

use super::super::Error;
use super::existing::{Child, Listing};
use super::plan::Plan;
use super::report::FolderResult;

/// A request the scheduler wants sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `GET /rest/v1.0/folders` (`id` `None`: the Documents root) or
    /// `GET /rest/v1.0/folders/{id}`: the children of `at`.
    List {
        /// The place: a folder of the plan, `None` for the top.
        at: Option<usize>,
        /// Its Procore id.
        id: Option<u64>,
    },
    /// `POST /rest/v1.0/folders` `{"folder": {name, parent_id}}`.
    Create {
        /// The folder of the plan.
        folder: usize,
        /// Its parent's Procore id (`None`: the Documents root).
        parent_id: Option<u64>,
        /// Its name.
        name: String,
    },
}

/// Where a file of a place stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    /// Its folder is not there yet, or what it holds is not known yet.
    Waiting,
    /// Its folder is there: attach it under `parent_id`; `files` are those already
    /// there (for [`super::existing::decide`]).
    Ready {
        /// The folder's Procore id (`None`: the Documents root).
        parent_id: Option<u64>,
        /// The files the folder holds, as last listed (none when it was just made).
        files: &'a [Child],
    },
    /// Its folder could not be looked up or made (or one above it): the file fails
    /// with this error.
    Failed(&'a Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Id {
    Pending,
    Creating,
    Known(Option<u64>),
}

#[derive(Debug)]
enum Children {
    Unknown,
    /// A listing is on its way; `stale`: what it says is outdated already.
    Listing {
        stale: bool,
    },
    Known(Listing),
}

#[derive(Debug)]
struct Place {
    id: Id,
    created: bool,
    children: Children,
    /// Something of the plan goes in it.
    needed: bool,
    /// Its create answered "name taken" (that answer), and its parent is listed again.
    taken: Option<Error>,
    error: Option<Error>,
}

/// The folders of one tree on their way into Procore.
#[derive(Debug)]
pub struct Scheduler {
    plan: Plan,
    /// The top first, then each folder of the plan in its order.
    places: Vec<Place>,
}

/// The place of `folder` (`None`: the top) in [`Scheduler::places`].
fn slot(folder: Option<usize>) -> usize {
    folder.map_or(0, |i| i + 1)
}

impl Scheduler {
    /// The folders of `plan`, to go into the folder `parent_id` (`None`: the
    /// Documents root).
    pub fn new(plan: Plan, parent_id: Option<u64>) -> Self {
        let mut places = Vec::with_capacity(plan.folders.len() + 1);
        for n in 0..=plan.folders.len() {
            places.push(Place {
                id: if n == 0 {
                    Id::Known(parent_id)
                } else {
                    Id::Pending
                },
                created: false,
                children: Children::Unknown,
                needed: false,
                taken: None,
                error: None,
            });
        }
        let parents = plan.folders.iter().map(|folder| folder.parent);
        for parent in parents.chain(plan.files.iter().map(|file| file.folder)) {
            if let Some(place) = places.get_mut(slot(parent)) {
                place.needed = true;
            }
        }
        Self { plan, places }
    }

    /// The plan it works on.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The next request to send, if one can be sent now; it counts as on its way.
    /// `None` while every possible request waits for an answer (or all is done).
    pub fn next_step(&mut self) -> Option<Step> {
        for at in 0..self.places.len() {
            self.resolve(at);
            if let Some(step) = self.step(at) {
                return Some(step);
            }
        }
        None
    }

    /// The request `at` needs now, if any, marked as on its way.
    fn step(&mut self, at: usize) -> Option<Step> {
        let ready = self.parent_ready(at);
        let parent_id = self.parent_id(at);
        let folder = at.checked_sub(1);
        let planned = folder.and_then(|i| self.plan.folders.get(i));
        let place = self.places.get_mut(at)?;
        if place.error.is_some() {
            return None;
        }
        match (place.id, &place.children) {
            (Id::Known(id), Children::Unknown) if place.needed => {
                place.children = Children::Listing { stale: false };
                Some(Step::List { at: folder, id })
            }
            (Id::Pending, _) if ready => {
                place.id = Id::Creating;
                Some(Step::Create {
                    folder: folder?,
                    parent_id,
                    name: planned?.name().to_string(),
                })
            }
            _ => None,
        }
    }

    /// A folder waiting for its parent's children: reused when they hold it; failed
    /// when its create was refused as "name taken" and they still do not hold it.
    /// Otherwise it is left to be created.
    fn resolve(&mut self, at: usize) {
        let Some(folder) = at.checked_sub(1).and_then(|i| self.plan.folders.get(i)) else {
            return;
        };
        let pending = self
            .places
            .get(at)
            .is_some_and(|place| place.id == Id::Pending && place.error.is_none());
        if !pending || !self.parent_ready(at) {
            return;
        }
        let found = match self.places.get(slot(folder.parent)).map(|p| &p.children) {
            Some(Children::Known(listing)) => listing.folder(folder.name()),
            _ => None,
        };
        let Some(place) = self.places.get_mut(at) else {
            return;
        };
        match (found, place.taken.take()) {
            (Some(id), _) => place.id = Id::Known(Some(id)),
            (None, Some(answer)) => self.fail(at, answer),
            (None, None) => {}
        }
    }

    /// Whether `at`'s parent is there with its children known.
    fn parent_ready(&self, at: usize) -> bool {
        let parent = at
            .checked_sub(1)
            .and_then(|i| self.plan.folders.get(i))
            .and_then(|folder| self.places.get(slot(folder.parent)));
        parent.is_some_and(|p| {
            p.error.is_none()
                && matches!(p.id, Id::Known(_))
                && matches!(p.children, Children::Known(_))
        })
    }

    fn parent_id(&self, at: usize) -> Option<u64> {
        let folder = at.checked_sub(1).and_then(|i| self.plan.folders.get(i))?;
        match self.places.get(slot(folder.parent))?.id {
            Id::Known(id) => id,
            _ => None,
        }
    }

    /// `at` (`None`: the top) holds `listing`. A listing that was made outdated
    /// while on its way ([`Self::relist`], [`Self::name_taken`]) is asked again.
    pub fn listed(&mut self, at: Option<usize>, listing: Listing) {
        if let Some(place) = self.places.get_mut(slot(at)) {
            place.children = match place.children {
                Children::Listing { stale: true } => Children::Unknown,
                _ => Children::Known(listing),
            };
        }
    }

    /// The folder `folder` was made, with Procore id `id`: it holds nothing yet.
    pub fn created(&mut self, folder: usize, id: u64) {
        if let Some(place) = self.places.get_mut(slot(Some(folder))) {
            place.id = Id::Known(Some(id));
            place.created = true;
            place.children = Children::Known(Listing::default());
        }
    }

    /// Creating `folder` answered "name taken" (`answer`): another client made it
    /// meanwhile. Its parent is listed again; the folder found there is reused, and
    /// if none is, the folder fails with `answer`.
    pub fn name_taken(&mut self, folder: usize, answer: Error) {
        let at = slot(Some(folder));
        if let Some(place) = self.places.get_mut(at) {
            place.id = Id::Pending;
            place.taken = Some(answer);
        }
        let parent = self.plan.folders.get(folder).and_then(|f| f.parent);
        self.relist(parent);
    }

    /// What `at` (`None`: the top) holds is outdated (a file's create there
    /// answered "name taken"): it is listed again, and its files wait for that.
    pub fn relist(&mut self, at: Option<usize>) {
        if let Some(place) = self.places.get_mut(slot(at)) {
            place.children = match place.children {
                Children::Listing { .. } => Children::Listing { stale: true },
                _ => Children::Unknown,
            };
        }
    }

    /// `step` failed for good (after the retries): the place it was for fails with
    /// `error`, and with it every folder inside it and every file they hold.
    pub fn failed(&mut self, step: &Step, error: Error) {
        let at = match step {
            Step::List { at, .. } => slot(*at),
            Step::Create { folder, .. } => slot(Some(*folder)),
        };
        self.fail(at, error);
    }

    fn fail(&mut self, at: usize, error: Error) {
        if let Some(place) = self.places.get_mut(at) {
            place.error.get_or_insert(error);
        }
        // Parents come first: one pass reaches every folder below.
        for (n, folder) in self.plan.folders.iter().enumerate() {
            let above = self.places.get(slot(folder.parent));
            if let Some(error) = above.and_then(|p| p.error.clone()) {
                if let Some(place) = self.places.get_mut(n + 1) {
                    place.error.get_or_insert(error);
                }
            }
        }
    }

    /// Where the files of `at` (`None`: the top) stand.
    pub fn target(&self, at: Option<usize>) -> Target<'_> {
        let Some(place) = self.places.get(slot(at)) else {
            return Target::Waiting;
        };
        match (&place.error, place.id, &place.children) {
            (Some(error), _, _) => Target::Failed(error),
            (None, Id::Known(parent_id), Children::Known(listing)) => Target::Ready {
                parent_id,
                files: &listing.files,
            },
            _ => Target::Waiting,
        }
    }

    /// Whether nothing is left to send or to wait for: every folder there or failed.
    pub fn settled(&self) -> bool {
        self.places.iter().all(|place| {
            place.error.is_some()
                || matches!(place.id, Id::Known(_))
                    && (!place.needed || matches!(place.children, Children::Known(_)))
        })
    }

    /// Every folder of the plan as it stands: its id once known, whether this run
    /// made it, its error if it failed.
    pub fn folders(&self) -> Vec<FolderResult> {
        let mut out = Vec::with_capacity(self.plan.folders.len());
        for (folder, place) in self.plan.folders.iter().zip(self.places.iter().skip(1)) {
            out.push(FolderResult {
                path: folder.path.clone(),
                id: match place.id {
                    Id::Known(id) => id,
                    _ => None,
                },
                created: place.created,
                error: place.error.clone(),
            });
        }
        out
    }
}
