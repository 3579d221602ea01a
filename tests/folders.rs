//! The folder scheduler of `uploadFolder` (issue 23) driven by hand, step by step,
//! like a state machine: which request it asks for, what each answer does. Then
//! thousands of random interleavings of answers against a model of Procore's
//! Documents, another client creating folders meanwhile.
#![cfg(not(target_arch = "wasm32"))]

use procore_upload::core::folders::existing::{Child, Listing};
use procore_upload::core::folders::plan::{plan, Entry, EntryKind, Plan};
use procore_upload::core::folders::report::FolderResult;
use procore_upload::core::folders::scheduler::{Scheduler, Step, Target};
use procore_upload::core::Error;

fn file(path: &str) -> Entry {
    Entry {
        path: path.into(),
        kind: EntryKind::File { size: 1, index: 0 },
    }
}

fn dir(path: &str) -> Entry {
    Entry {
        path: path.into(),
        kind: EntryKind::Directory,
    }
}

fn planned(entries: &[Entry]) -> Plan {
    plan(entries, None).unwrap()
}

fn child(name: &str, id: u64) -> Child {
    Child {
        name: name.into(),
        id,
    }
}

fn listing(folders: &[(&str, u64)], files: &[(&str, u64)]) -> Listing {
    Listing {
        folders: folders.iter().map(|&(n, id)| child(n, id)).collect(),
        files: files.iter().map(|&(n, id)| child(n, id)).collect(),
    }
}

/// Every step the scheduler can give now (a hundred at most: one given again and
/// again fails the test rather than fill the memory).
fn drain(s: &mut Scheduler) -> Vec<Step> {
    std::iter::from_fn(|| s.next_step()).take(100).collect()
}

fn list(at: Option<usize>, id: Option<u64>) -> Step {
    Step::List { at, id }
}

fn create(folder: usize, parent_id: Option<u64>, name: &str) -> Step {
    Step::Create {
        folder,
        parent_id,
        name: name.into(),
    }
}

fn taken() -> Error {
    Error::Http {
        method: "POST",
        url: "/rest/v1.0/folders".into(),
        status: 422,
        body: r#"{"errors":{"name":["has already been taken"]}}"#.into(),
        retry_after_secs: None,
    }
}

fn ready(files: &[Child], parent_id: Option<u64>) -> Target<'_> {
    Target::Ready { parent_id, files }
}

/// Two files in the same new folder: the top listed once, the folder created once,
/// no listing of what was just made, both files ready under it.
#[test]
fn two_files_in_one_new_folder_make_one_create() {
    let mut s = Scheduler::new(planned(&[file("plans/a.pdf"), file("plans/b.pdf")]), None);
    assert_eq!(s.target(Some(0)), Target::Waiting);
    assert_eq!(drain(&mut s), [list(None, None)]);
    assert_eq!(drain(&mut s), [], "nothing more before the listing");
    s.listed(None, Listing::default());
    assert_eq!(drain(&mut s), [create(0, None, "plans")]);
    assert_eq!(drain(&mut s), [], "one create, however often asked");
    assert_eq!(s.target(Some(0)), Target::Waiting);
    assert!(!s.settled());
    s.created(0, 100);
    assert_eq!(drain(&mut s), []);
    assert_eq!(s.target(Some(0)), ready(&[], Some(100)));
    assert!(s.settled());
    assert_eq!(
        s.folders(),
        [FolderResult {
            path: "plans".into(),
            id: Some(100),
            created: true,
            error: None
        }]
    );
}

/// Nested new folders: each parent before its children, each folder once; the
/// top's files are ready once the top is listed.
#[test]
fn parents_are_created_before_children() {
    let mut s = Scheduler::new(
        planned(&[file("a/b/c/x"), file("a/b/y"), file("top.txt"), dir("a/e")]),
        Some(5),
    );
    assert_eq!(drain(&mut s), [list(None, Some(5))]);
    s.listed(None, listing(&[], &[("top.txt", 50)]));
    assert_eq!(s.target(None), ready(&[child("top.txt", 50)], Some(5)));
    assert_eq!(drain(&mut s), [create(0, Some(5), "a")]);
    s.created(0, 10);
    // b and the empty e at once, both under a.
    assert_eq!(
        drain(&mut s),
        [create(1, Some(10), "b"), create(3, Some(10), "e")]
    );
    s.created(1, 11);
    assert_eq!(drain(&mut s), [create(2, Some(11), "c")]);
    assert_eq!(s.target(Some(1)), ready(&[], Some(11)));
    assert_eq!(s.target(Some(2)), Target::Waiting);
    s.created(2, 12);
    s.created(3, 13);
    assert_eq!(drain(&mut s), []);
    assert!(s.settled());
    let ids: Vec<_> = s
        .folders()
        .iter()
        .map(|f| (f.path.clone(), f.id, f.created))
        .collect();
    assert_eq!(
        ids,
        [
            ("a".to_string(), Some(10), true),
            ("a/b".to_string(), Some(11), true),
            ("a/b/c".to_string(), Some(12), true),
            ("a/e".to_string(), Some(13), true),
        ]
    );
}

/// Folders already there are reused, never created; those with something of the
/// plan in them are listed (their files decide versions); an empty folder given
/// that is already there is neither created nor listed.
#[test]
fn folders_already_there_are_reused() {
    let mut s = Scheduler::new(
        planned(&[
            file("plans/A/a1.pdf"),
            file("plans/new/n.pdf"),
            dir("plans/empty"),
        ]),
        None,
    );
    assert_eq!(drain(&mut s), [list(None, None)]);
    s.listed(
        None,
        listing(
            &[("Plans", 1), ("plans", 2), ("Recycle", 3)],
            &[("plans", 4)],
        ),
    );
    // Exact names: "plans" is 2, not "Plans"; a file of the name is no folder.
    assert_eq!(drain(&mut s), [list(Some(0), Some(2))]);
    s.listed(
        Some(0),
        listing(&[("A", 20), ("empty", 21)], &[("x.pdf", 22)]),
    );
    assert_eq!(
        drain(&mut s),
        [list(Some(1), Some(20)), create(2, Some(2), "new")]
    );
    s.listed(Some(1), listing(&[], &[("a1.pdf", 30)]));
    assert_eq!(s.target(Some(1)), ready(&[child("a1.pdf", 30)], Some(20)));
    s.created(2, 40);
    assert_eq!(drain(&mut s), []);
    assert!(s.settled());
    let got: Vec<_> = s.folders().iter().map(|f| (f.id, f.created)).collect();
    assert_eq!(
        got,
        [
            (Some(2), false),
            (Some(20), false),
            (Some(40), true),
            (Some(21), false)
        ]
    );
}

/// A create answered "name taken" (another client made it meanwhile): the parent
/// is listed again and the folder found there reused, its own children listed.
#[test]
fn a_name_taken_create_is_listed_again_and_reused() {
    let mut s = Scheduler::new(planned(&[file("d/e/x"), file("d/y")]), None);
    drain(&mut s);
    s.listed(None, Listing::default());
    assert_eq!(drain(&mut s), [create(0, None, "d")]);
    s.name_taken(0, taken());
    assert_eq!(s.target(None), Target::Waiting, "the top is listed again");
    assert_eq!(drain(&mut s), [list(None, None)]);
    s.listed(None, listing(&[("d", 7)], &[]));
    assert_eq!(drain(&mut s), [list(Some(0), Some(7))]);
    s.listed(Some(0), listing(&[("e", 8)], &[("y", 9)]));
    assert_eq!(s.target(Some(0)), ready(&[child("y", 9)], Some(7)));
    assert_eq!(drain(&mut s), [list(Some(1), Some(8))]);
    s.listed(Some(1), Listing::default());
    assert!(s.settled());
    let got: Vec<_> = s.folders().iter().map(|f| (f.id, f.created)).collect();
    assert_eq!(got, [(Some(7), false), (Some(8), false)]);
}

/// "Name taken", yet the fresh listing shows no folder of the name (a file holds
/// it, or Procore deems another name the same): the folder fails with that answer,
/// and so does everything inside it; the rest goes on.
#[test]
fn a_name_taken_by_no_folder_fails_that_branch() {
    let mut s = Scheduler::new(planned(&[file("d/e/x"), file("d/y"), file("f/z")]), None);
    drain(&mut s);
    s.listed(None, Listing::default());
    assert_eq!(drain(&mut s), [create(0, None, "d"), create(2, None, "f")]);
    s.name_taken(0, taken());
    s.created(2, 20);
    assert_eq!(drain(&mut s), [list(None, None)]);
    s.listed(None, listing(&[("D", 1), ("f", 20)], &[("d", 2)]));
    assert_eq!(drain(&mut s), []);
    assert_eq!(s.target(Some(0)), Target::Failed(&taken()));
    assert_eq!(s.target(Some(1)), Target::Failed(&taken()));
    assert_eq!(s.target(Some(2)), ready(&[], Some(20)));
    assert!(s.settled());
    let errors: Vec<_> = s.folders().iter().map(|f| f.error.is_some()).collect();
    assert_eq!(errors, [true, true, false]);
}

/// A request failed for good: the place fails with its error, everything below
/// with it; a failed top fails the whole tree, which is then settled.
#[test]
fn failures_reach_everything_below() {
    let gone = Error::Http {
        method: "GET",
        url: "/rest/v1.0/folders/5".into(),
        status: 404,
        body: String::new(),
        retry_after_secs: None,
    };
    let mut s = Scheduler::new(planned(&[file("a/b/x"), file("y")]), Some(5));
    let step = s.next_step().unwrap();
    s.failed(&step, gone.clone());
    assert_eq!(drain(&mut s), []);
    assert!(s.settled());
    for at in [None, Some(0), Some(1)] {
        assert_eq!(s.target(at), Target::Failed(&gone), "{at:?}");
    }

    let mut s = Scheduler::new(planned(&[file("a/b/x"), file("c/y")]), None);
    drain(&mut s);
    s.listed(None, Listing::default());
    let steps = drain(&mut s);
    assert_eq!(steps, [create(0, None, "a"), create(2, None, "c")]);
    s.failed(&steps[0], gone.clone());
    s.created(2, 3);
    assert_eq!(drain(&mut s), []);
    assert_eq!(s.target(Some(1)), Target::Failed(&gone));
    assert_eq!(s.target(Some(2)), ready(&[], Some(3)));
    assert!(s.settled());
}

/// A file's create answered "name taken": its folder is listed again (also one
/// just made), and its files wait for that listing; a listing made outdated while
/// on its way is asked once more, its answer not used.
#[test]
fn folders_are_listed_again_on_request() {
    let mut s = Scheduler::new(planned(&[file("d/x")]), None);
    drain(&mut s);
    s.listed(None, Listing::default());
    drain(&mut s);
    s.created(0, 7);
    assert_eq!(s.target(Some(0)), ready(&[], Some(7)));
    s.relist(Some(0));
    assert_eq!(s.target(Some(0)), Target::Waiting);
    assert!(!s.settled());
    assert_eq!(drain(&mut s), [list(Some(0), Some(7))]);
    // Outdated while on its way: its answer is dropped, the folder listed again.
    s.relist(Some(0));
    s.listed(Some(0), Listing::default());
    assert_eq!(s.target(Some(0)), Target::Waiting);
    assert_eq!(drain(&mut s), [list(Some(0), Some(7))]);
    s.listed(Some(0), listing(&[], &[("x", 70)]));
    assert_eq!(s.target(Some(0)), ready(&[child("x", 70)], Some(7)));
    assert!(s.settled());
}

/// Nothing to place: settled at once, nothing asked.
#[test]
fn an_empty_tree_asks_nothing() {
    let mut s = Scheduler::new(Plan::default(), Some(1));
    assert!(s.settled());
    assert_eq!(drain(&mut s), []);
    assert_eq!(s.folders(), []);
}

/// A small random generator (xorshift64*), so each seed is one reproducible run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }
}

/// Procore's folders: (id, parent id, name).
struct Model {
    folders: Vec<(u64, Option<u64>, String)>,
    next_id: u64,
}

impl Model {
    fn find(&self, parent: Option<u64>, name: &str) -> Option<u64> {
        self.folders
            .iter()
            .find(|(_, p, n)| *p == parent && n == name)
            .map(|(id, _, _)| *id)
    }

    /// Creates the folder unless its name is taken there.
    fn create(&mut self, parent: Option<u64>, name: &str) -> Option<u64> {
        if self.find(parent, name).is_some() {
            return None;
        }
        self.next_id += 1;
        self.folders.push((self.next_id, parent, name.to_string()));
        Some(self.next_id)
    }

    /// The folders in `id`.
    fn listing(&self, id: u64) -> Listing {
        let folders = self
            .folders
            .iter()
            .filter(|(_, p, _)| *p == Some(id))
            .map(|(i, _, n)| child(n, *i))
            .collect();
        Listing {
            folders,
            files: vec![],
        }
    }

    fn path(&self, id: u64) -> String {
        let (_, parent, name) = self.folders.iter().find(|(i, _, _)| *i == id).unwrap();
        match parent {
            Some(parent) if *parent != 0 => format!("{}/{name}", self.path(*parent)),
            _ => name.clone(),
        }
    }
}

/// Many runs: requests answered in any order, some folders there before, another
/// client creating some while the run goes on. Each ends settled with every folder
/// of the plan at its path, none created twice or asked twice at once, each create
/// under a parent that exists.
#[test]
fn random_interleavings_never_duplicate_a_folder() {
    let entries = [
        file("a/b/c/1"),
        file("a/b/2"),
        file("a/d/3"),
        file("a/4"),
        dir("e/f/g"),
        file("h/5"),
        file("h/i/6"),
        file("7"),
    ];
    let the_plan = planned(&entries);
    let paths: Vec<String> = the_plan.folders.iter().map(|f| f.path.clone()).collect();
    let (mut names_taken, mut reused, mut made) = (0, 0, 0);
    for seed in 1..=3000u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        // The tree goes into the folder 1000, "top".
        let mut model = Model {
            folders: vec![(1000, None, "top".into())],
            next_id: 1000,
        };
        // Some folders there before the run (each with its parent).
        for path in &paths {
            if rng.below(3) == 0 {
                let mut parent = Some(1000);
                for name in path.split('/') {
                    parent = Some(
                        model
                            .find(parent, name)
                            .or_else(|| model.create(parent, name))
                            .unwrap(),
                    );
                }
            }
        }
        let mut s = Scheduler::new(the_plan.clone(), Some(1000));
        // Each request on its way, with the listing Procore made of it at once, when
        // it did (its answer then arrives late: outdated by what happened since).
        let mut in_flight: Vec<(Step, Option<Listing>)> = Vec::new();
        let mut created_by_us: Vec<usize> = Vec::new();
        for round in 0.. {
            assert!(round < 10_000, "seed {seed}: no end");
            // Take what the scheduler offers, sometimes not all of it yet (but one
            // at least when nothing is on its way).
            while in_flight.is_empty() || rng.below(4) != 0 {
                let Some(step) = s.next_step() else { break };
                assert!(
                    !in_flight.iter().any(|(s, _)| *s == step),
                    "seed {seed}: {step:?} asked twice at once"
                );
                if let Step::Create { parent_id, .. } = &step {
                    let parent = parent_id.unwrap();
                    assert!(
                        parent == 1000 || model.folders.iter().any(|(id, _, _)| *id == parent),
                        "seed {seed}: {step:?} under a parent not there"
                    );
                }
                let early = match step {
                    Step::List { id, .. } if rng.below(2) == 0 => Some(model.listing(id.unwrap())),
                    _ => None,
                };
                in_flight.push((step, early));
            }
            if in_flight.is_empty() {
                break;
            }
            // Another client creates one of the plan's folders now and then.
            if rng.below(5) == 0 {
                let path = &paths[rng.below(paths.len())];
                let (parent_path, name) = path.rsplit_once('/').unwrap_or(("", path));
                let mut parent = Some(1000);
                let mut there = true;
                for part in parent_path.split('/').filter(|p| !p.is_empty()) {
                    parent = model.find(parent, part);
                    there &= parent.is_some();
                }
                if there {
                    model.create(parent, name);
                }
            }
            // Answer one request on its way, any of them.
            let (step, early) = in_flight.remove(rng.below(in_flight.len()));
            match &step {
                Step::List { at, id } => {
                    s.listed(*at, early.unwrap_or_else(|| model.listing(id.unwrap())));
                }
                Step::Create {
                    folder,
                    parent_id,
                    name,
                } => match model.create(*parent_id, name) {
                    Some(id) => {
                        assert!(
                            !created_by_us.contains(folder),
                            "seed {seed}: folder {folder} created twice"
                        );
                        created_by_us.push(*folder);
                        s.created(*folder, id);
                    }
                    None => {
                        names_taken += 1;
                        s.name_taken(*folder, taken());
                    }
                },
            }
        }
        assert!(s.settled(), "seed {seed}");
        for (n, result) in s.folders().iter().enumerate() {
            let id = result
                .id
                .unwrap_or_else(|| panic!("seed {seed}: {result:?}"));
            assert_eq!(
                model.path(id),
                format!("top/{}", result.path),
                "seed {seed}"
            );
            assert_eq!(result.created, created_by_us.contains(&n), "seed {seed}");
            if result.created {
                made += 1;
            } else {
                reused += 1;
            }
        }
        // Procore holds each folder of the plan once.
        for path in &paths {
            let count = model
                .folders
                .iter()
                .filter(|(id, _, _)| model.path(*id) == format!("top/{path}"))
                .count();
            assert_eq!(count, 1, "seed {seed}: {path}");
        }
    }
    // The runs went through every case.
    assert!(
        names_taken > 500 && reused > 1000 && made > 1000,
        "{names_taken} {reused} {made}"
    );
}
