//! The store of upload states: which keys are the library's, what pruning drops,
//! and that a store shared with the app's own data (a store over `localStorage`)
//! never has the app's keys read, written, deleted or pruned. Native.
#![cfg(not(target_arch = "wasm32"))]

use std::cell::RefCell;

use pollster::block_on;
use procore_upload::core::plan::MIB;
use procore_upload::core::state::{
    entries_to_drop, find, fingerprint, is_own_key, parse_state, prune, save, state_text,
    MemoryStore, Op, Store, UploadState, KEY_PREFIX, MAX_STORED_STATES,
};
use procore_upload::core::Error;

mod common;
use common::{identity, scope};

/// Stored entries: (key, text).
type Entries = Vec<(String, String)>;

const HOUR: u64 = 3_600_000;

/// A state of `version` stored under the library's prefix and `key`.
fn stored(key: &str, version: &str, created_ms: u64, updated_ms: u64) -> (String, String) {
    stored_whole(
        &format!("{KEY_PREFIX}{key}"),
        version,
        created_ms,
        updated_ms,
    )
}

/// A state of `version` stored under `key` as it is.
fn stored_whole(key: &str, version: &str, created_ms: u64, updated_ms: u64) -> (String, String) {
    let mut scope = scope();
    scope.api_version = version.into();
    let mut state = UploadState::new(scope, identity(10), 5 * MIB, true, created_ms);
    state.key = key.into();
    state.updated_ms = updated_ms;
    (key.into(), state_text(&state))
}

fn foreign(key: &str, text: &str) -> (String, String) {
    (key.into(), text.into())
}

fn own(key: &str) -> String {
    format!("{KEY_PREFIX}{key}")
}

/// The app's entries of a shared store: plain values, JSON, a key that merely
/// starts like the prefix, and a full state (expired) under a key of the app's.
fn apps_entries(now: u64) -> Entries {
    vec![
        foreign("theme", "dark"),
        foreign("app/session", "{\"user\":1}"),
        foreign("procore-upload", "not the prefix: no slash"),
        foreign("procore-upload-settings", "{\"format\":1}"),
        foreign("Procore-Upload/x", "case differs"),
        foreign("", "empty key"),
        stored_whole("my-copy-of-a-state", "v1.1", now - 30 * 24 * HOUR, 1),
    ]
}

#[test]
fn own_keys_are_those_under_the_prefix() {
    let table = [
        (
            "procore-upload/v1.1/7/42/10/1/application%2Fpdf/plan.pdf",
            true,
        ),
        ("procore-upload/", true),
        ("procore-upload/anything", true),
        ("procore-upload", false),
        ("procore-upload-settings", false),
        ("procore-upload\\v1.1", false),
        ("Procore-Upload/v1.1", false),
        (" procore-upload/v1.1", false),
        ("app/procore-upload/v1.1", false),
        ("theme", false),
        ("", false),
    ];
    for (key, expected) in table {
        assert_eq!(is_own_key(key), expected, "{key:?}");
    }
}

/// The keys the current release writes (fingerprints under `procore-upload/`, as
/// since states were first kept, 86ff151): unchanged, so the states already kept
/// by users stay readable without any migration.
#[test]
fn the_key_format_of_states_already_stored() {
    let mut anywhere = scope();
    anywhere.project_id = None;
    let mut undated = identity(10);
    undated.last_modified = None;
    undated.content_type = String::new();
    undated.name = "a/b.pdf".into();
    let table = [
        (
            fingerprint(&scope(), &identity(10)),
            "procore-upload/v1.1/7/42/10/1700000000000/application%2Fpdf/plan.pdf",
        ),
        (
            fingerprint(&anywhere, &undated),
            "procore-upload/v1.1/7/-/10/-//a/b.pdf",
        ),
    ];
    for (key, expected) in table {
        assert_eq!(key, expected);
        assert!(is_own_key(&key), "{key}");
    }
}

/// A state as 380fc52 stored it (text and key written out, not made by this
/// build): found, and kept by pruning.
#[test]
fn a_state_stored_by_the_current_release_is_found_and_kept() {
    let key = "procore-upload/v2.1/7/42/12582912/1700000000000/application%2Fpdf/plan.pdf";
    let text = concat!(
        r#"{"format":1,"key":"procore-upload/v2.1/7/42/12582912/1700000000000/application%2Fpdf/plan.pdf","#,
        r#""scope":{"api_version":"v2.1","company_id":7,"project_id":42},"#,
        r#""file":{"name":"plan.pdf","size":12582912,"last_modified":1700000000000,"content_type":"application/pdf"},"#,
        r#""segment_size":6291456,"md5":false,"#,
        r#""digests":[{"size":6291456,"sha256":"aa","md5":null},{"size":6291456,"sha256":"bb","md5":null}],"#,
        r#""whole_sha256":"cc","whole_md5":null,"uuid":"01J0","parts":[],"instructions_at_ms":1800000000000,"#,
        r#""etags":["\"e1\"",null],"created_ms":1800000000000,"updated_ms":1800000001000,"phase":"uploading"}"#
    );
    let store = MemoryStore::default();
    block_on(store.run(Op::Put(key, text))).unwrap();
    let found = block_on(find(&store, key, 1_800_000_002_000)).unwrap();
    assert_eq!(found.len(), 1, "found");
    assert_eq!(found[0].key, key);
    assert_eq!(found[0].etags, vec![Some("\"e1\"".to_string()), None]);
    assert_eq!(
        block_on(store.run(Op::List)).unwrap(),
        vec![(key.to_string(), text.to_string())],
        "kept as it was"
    );
}

#[test]
fn what_a_store_drops() {
    let now = 1_000 * HOUR;
    let table: Vec<(&str, Entries, usize, Vec<String>)> = vec![
        (
            "nothing to drop",
            vec![stored("a", "v1.1", now - HOUR, now)],
            10,
            vec![],
        ),
        (
            "v1 past a week",
            vec![
                stored("a", "v1.1", now - 7 * 24 * HOUR, now),
                stored("b", "v1.1", now - 7 * 24 * HOUR + 1, now),
            ],
            10,
            vec![own("a")],
        ),
        (
            "v2.1 past a day",
            vec![
                stored("a", "v2.1", now - 24 * HOUR, now),
                stored("b", "v2.1", now - 24 * HOUR + 1, now),
            ],
            10,
            vec![own("a")],
        ),
        (
            "not a state, under the prefix",
            vec![
                foreign(&own("x"), "{\"format\":1}"),
                foreign(&own("y"), "junk"),
            ],
            10,
            vec![own("x"), own("y")],
        ),
        (
            "the least recently updated beyond the bound",
            vec![
                stored("a", "v1.1", now, now - 3),
                stored("b", "v1.1", now, now - 1),
                stored("c", "v1.1", now, now - 2),
            ],
            1,
            vec![own("a"), own("c")],
        ),
        (
            "the app's entries, whatever they hold: none dropped",
            apps_entries(now),
            10,
            vec![],
        ),
        (
            "the app's entries do not count towards the bound",
            [
                apps_entries(now),
                vec![
                    stored("a", "v1.1", now, now - 2),
                    stored("b", "v1.1", now, now - 1),
                ],
            ]
            .concat(),
            2,
            vec![],
        ),
        (
            "beside the app's entries, only the library's expired and oldest",
            [
                apps_entries(now),
                vec![
                    stored("expired", "v2.1", now - 25 * HOUR, now),
                    stored("old", "v1.1", now, now - 9),
                    stored("new", "v1.1", now, now - 1),
                    foreign(&own("junk"), "]"),
                ],
            ]
            .concat(),
            1,
            vec![own("expired"), own("junk"), own("old")],
        ),
    ];
    for (what, entries, max, expected) in table {
        let mut dropped = entries_to_drop(&entries, now, max);
        dropped.sort();
        assert_eq!(dropped, expected, "{what}");
    }
}

/// An operation that reached the storage behind a store.
#[derive(Debug, Clone, PartialEq)]
enum Call {
    Get(String),
    Put(String),
    Delete(String),
    List,
}

/// A memory store that records the operations that reach it.
#[derive(Default)]
struct Recording {
    inner: MemoryStore,
    calls: RefCell<Vec<Call>>,
}

impl Store for Recording {
    async fn run<'a>(&'a self, op: Op<'a>) -> Result<Vec<(String, String)>, Error> {
        self.calls.borrow_mut().push(match op {
            Op::Get(key) => Call::Get(key.into()),
            Op::Put(key, _) => Call::Put(key.into()),
            Op::Delete(key) => Call::Delete(key.into()),
            Op::List => Call::List,
        });
        self.inner.run(op).await
    }
}

/// Puts `entries` in `store` as the app would: beside the library, not through it.
fn put_raw(store: &impl Store, entries: &Entries) {
    for (key, value) in entries {
        block_on(store.run(Op::Put(key, value))).unwrap();
    }
}

/// Every entry of `store`, the app's included, sorted.
fn everything(store: &impl Store) -> Entries {
    sorted(block_on(store.run(Op::List)).unwrap())
}

fn sorted(mut entries: Entries) -> Entries {
    entries.sort();
    entries
}

/// Every method of a store on an app's key: nothing reaches the storage behind
/// but the one `list`, and the app's entries stay exactly as they were.
#[test]
fn a_store_never_passes_on_the_apps_keys() {
    let now = 1_000 * HOUR;
    for (key, value) in apps_entries(now) {
        let store = Recording::default();
        put_raw(&store.inner, &apps_entries(now));
        assert_eq!(block_on(store.get(&key)).unwrap(), None, "get {key:?}");
        let refused = block_on(store.put(&key, "{\"format\":1}"));
        assert!(
            matches!(&refused, Err(Error::Store { message, .. })
                if message.contains("must start with \"procore-upload/\"")),
            "put {key:?}: {refused:?}"
        );
        block_on(store.delete(&key)).unwrap();
        assert_eq!(block_on(store.list()).unwrap(), vec![], "list");
        assert_eq!(*store.calls.borrow(), vec![Call::List], "{key:?}");
        assert_eq!(
            block_on(store.inner.run(Op::Get(&key))).unwrap(),
            vec![(key.clone(), value)],
            "{key:?} untouched"
        );
        assert_eq!(everything(&store.inner), sorted(apps_entries(now)));
    }
}

#[test]
fn a_store_passes_on_its_own_keys() {
    let store = Recording::default();
    let key = own("v1.1/7/42/10/1/-/plan.pdf");
    put_raw(&store.inner, &vec![foreign("theme", "dark")]);
    block_on(store.put(&key, "text")).unwrap();
    assert_eq!(block_on(store.get(&key)).unwrap().as_deref(), Some("text"));
    assert_eq!(
        block_on(store.list()).unwrap(),
        vec![(key.clone(), "text".to_string())]
    );
    block_on(store.delete(&key)).unwrap();
    assert_eq!(block_on(store.get(&key)).unwrap(), None);
    assert_eq!(
        *store.calls.borrow(),
        vec![
            Call::Put(key.clone()),
            Call::Get(key.clone()),
            Call::List,
            Call::Delete(key.clone()),
            Call::Get(key.clone()),
        ]
    );
    assert_eq!(everything(&store.inner), vec![foreign("theme", "dark")]);
}

/// Saving, pruning and finding as an upload does, beside the app's data: the
/// library's states stay bounded and expire, the app's entries are all there.
#[test]
fn uploads_pruning_and_finding_leave_the_apps_entries() {
    let now = 1_800_000_000_000;
    let store = MemoryStore::default();
    put_raw(&store, &apps_entries(now));
    for i in 0..MAX_STORED_STATES + 5 {
        let mut state = UploadState::new(scope(), identity(i as u64 + 1), 5 * MIB, true, now);
        state.updated_ms = now + i as u64;
        block_on(save(&store, &state)).unwrap();
        block_on(prune(&store, state.updated_ms)).unwrap();
    }
    let newest = fingerprint(&scope(), &identity((MAX_STORED_STATES + 5) as u64));
    assert_eq!(
        block_on(find(&store, &newest, now + 1000)).unwrap().len(),
        1
    );
    assert_eq!(block_on(store.list()).unwrap().len(), MAX_STORED_STATES);
    // Nothing of the app's is found as a state, not even a state under its key.
    assert!(block_on(find(&store, "my-copy-of-a-state", now))
        .unwrap()
        .is_empty());
    let later = now + 8 * 24 * HOUR;
    assert!(block_on(find(&store, &newest, later)).unwrap().is_empty());
    assert_eq!(
        everything(&store),
        sorted(apps_entries(now)),
        "only the app's entries left, as they were"
    );
}

#[test]
fn a_store_stays_bounded_and_forgets_expired_states() {
    let store = MemoryStore::default();
    let now = 1_800_000_000_000;
    for i in 0..MAX_STORED_STATES + 5 {
        let mut state = UploadState::new(scope(), identity(i as u64 + 1), 5 * MIB, true, now);
        state.updated_ms = now + i as u64;
        block_on(save(&store, &state)).unwrap();
        block_on(prune(&store, state.updated_ms)).unwrap();
    }
    let entries = block_on(store.list()).unwrap();
    assert_eq!(entries.len(), MAX_STORED_STATES);
    let oldest = fingerprint(&scope(), &identity(1));
    assert!(
        entries.iter().all(|(key, _)| *key != oldest),
        "the oldest went first"
    );

    let newest = fingerprint(&scope(), &identity((MAX_STORED_STATES + 5) as u64));
    let found = block_on(find(&store, &newest, now + 1000)).unwrap();
    assert_eq!(found.len(), 1);
    assert!(parse_state(&entries[0].1).is_some());
    // Eight days on, every v1 state is past its week: found nowhere, and deleted.
    let later = now + 8 * 24 * HOUR;
    assert!(block_on(find(&store, &newest, later)).unwrap().is_empty());
    assert!(block_on(store.list()).unwrap().is_empty());
}
