//! The store of upload states: which keys are the library's, what pruning drops,
//! and that a store shared with the app's own data (a store over `localStorage`)
//! never has the app's keys read, written, deleted or pruned. Native.
#![cfg(not(target_arch = "wasm32"))]

use std::cell::RefCell;

use pollster::block_on;
use procore_upload::core::plan::MIB;
use procore_upload::core::protocol::{PartInstruction, SegmentDigest};
use procore_upload::core::state::{
    entries_to_drop, find, fingerprint, is_own_key, parse_state, prune, read_state, save,
    stale_tree_records, state_text, tree_fingerprint, MemoryStore, Op, StateScope, Store,
    TreeEntry, UploadState, FORMAT_1, KEY_PREFIX, MAX_STORED_STATES, STATE_FORMAT, TREE_KEY_PREFIX,
};
use procore_upload::core::Error;
use serde_json::{json, Value};

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

/// A state as 380fc52 stored it (format 1; text and key written out, not made by
/// this build).
const KEY_380FC52: &str =
    "procore-upload/v2.1/7/42/12582912/1700000000000/application%2Fpdf/plan.pdf";
const STATE_380FC52: &str = concat!(
    r#"{"format":1,"key":"procore-upload/v2.1/7/42/12582912/1700000000000/application%2Fpdf/plan.pdf","#,
    r#""scope":{"api_version":"v2.1","company_id":7,"project_id":42},"#,
    r#""file":{"name":"plan.pdf","size":12582912,"last_modified":1700000000000,"content_type":"application/pdf"},"#,
    r#""segment_size":6291456,"md5":false,"#,
    r#""digests":[{"size":6291456,"sha256":"aa","md5":null},{"size":6291456,"sha256":"bb","md5":null}],"#,
    r#""whole_sha256":"cc","whole_md5":null,"uuid":"01J0","parts":[],"instructions_at_ms":1800000000000,"#,
    r#""etags":["\"e1\"",null],"created_ms":1800000000000,"updated_ms":1800000001000,"phase":"uploading"}"#
);

/// A state of format 1 in the store (as 380fc52 wrote it): found as a state of the
/// current format, every field as it was, and kept by pruning as it was stored.
#[test]
fn a_state_stored_by_the_current_release_is_found_and_kept() {
    let store = MemoryStore::default();
    block_on(store.run(Op::Put(KEY_380FC52, STATE_380FC52))).unwrap();
    let found = block_on(find(&store, KEY_380FC52, 1_800_000_002_000)).unwrap();
    assert_eq!(found.len(), 1, "found");
    let state = &found[0];
    assert_eq!(state.format, STATE_FORMAT, "read as the current format");
    assert_eq!(state.key, KEY_380FC52);
    assert_eq!(state.scope, {
        let mut scope = scope();
        scope.api_version = "v2.1".into();
        scope
    });
    assert_eq!(state.file, identity(12_582_912));
    assert_eq!((state.segment_size, state.md5), (6_291_456, false));
    assert_eq!(
        state.digests,
        Some(vec![
            SegmentDigest {
                size: 6_291_456,
                sha256: "aa".into(),
                md5: None
            },
            SegmentDigest {
                size: 6_291_456,
                sha256: "bb".into(),
                md5: None
            },
        ])
    );
    assert_eq!(
        (state.whole_sha256.as_deref(), state.whole_md5.as_deref()),
        (Some("cc"), None)
    );
    assert_eq!(state.uuid.as_deref(), Some("01J0"));
    assert_eq!(state.parts, Vec::<PartInstruction>::new());
    assert_eq!(state.instructions_at_ms, Some(1_800_000_000_000));
    assert_eq!(state.etags, vec![Some("\"e1\"".to_string()), None]);
    assert_eq!(
        (state.created_ms, state.updated_ms, state.phase.as_str()),
        (1_800_000_000_000, 1_800_000_001_000, "uploading")
    );
    assert_eq!(
        block_on(store.run(Op::List)).unwrap(),
        vec![(KEY_380FC52.to_string(), STATE_380FC52.to_string())],
        "kept as it was"
    );
    // Written again (its next save): format 2, read back the same.
    let text = state_text(state);
    assert!(!text.contains("\"format\":1"), "{text}");
    assert_eq!(parse_state(&text).as_ref(), Some(state));
}

/// The layout of format 1 is read only as format 1: a state in the open that says
/// another format (2 without its `internal`, say) is not one.
#[test]
fn the_open_layout_is_read_as_format_1_only() {
    let format_1: Value = serde_json::from_str(STATE_380FC52).unwrap();
    assert_eq!(format_1["format"], json!(FORMAT_1));
    for format in [0, 2, 3] {
        let mut other = format_1.clone();
        other["format"] = json!(format);
        assert_eq!(read_state(&other.to_string()), None, "format {format}");
    }
}

/// A state with something of everything: v1 instructions, digests with and without
/// MD5, one ETag of three.
fn full_state() -> UploadState {
    let mut state = UploadState::new(
        scope(),
        identity(12 * MIB),
        5 * MIB,
        true,
        1_800_000_000_000,
    );
    state.digests = Some(
        [5 * MIB, 5 * MIB, 2 * MIB]
            .iter()
            .enumerate()
            .map(|(i, &size)| SegmentDigest {
                size,
                sha256: format!("{i}").repeat(64),
                md5: (i != 1).then(|| "b".repeat(32)),
            })
            .collect(),
    );
    let parts: Vec<PartInstruction> = (0..3)
        .map(|i| PartInstruction {
            url: format!("https://storage.test/part/{i}?sig=\"x\"&a=1"),
            headers: vec![("x-amz-meta-name".into(), "plän \"1\"".into())],
        })
        .collect();
    state.created("U1", &parts, 1_800_000_000_500);
    state.etags[1] = Some("e1".into());
    state.updated_ms = 1_800_000_001_000;
    state.phase = "uploading".into();
    state
}

/// Format 2 as JS and the store get it: exactly what a UI needs in the open, in
/// camelCase, and everything else in `internal` (the whole state in format 1's
/// layout after a 16-digit check); read back as it was.
#[test]
fn a_state_is_stored_with_what_a_ui_needs_in_the_open() {
    let state = full_state();
    let text = state_text(&state);
    let value: Value = serde_json::from_str(&text).unwrap();
    let internal = value["internal"]
        .as_str()
        .expect("internal is a string")
        .to_string();
    assert_eq!(
        value,
        json!({
            "key": "procore-upload/v1.1/7/42/12582912/1700000000000/application%2Fpdf/plan.pdf",
            "name": "plan.pdf",
            "size": 12 * MIB,
            "lastModified": 1_700_000_000_000u64,
            "phase": "uploading",
            "bytesConfirmed": 5 * MIB,
            "updatedAt": 1_800_000_001_000u64,
            "scope": {"apiVersion": "v1.1", "companyId": 7, "projectId": 42},
            "internal": internal,
        })
    );
    let (check, inner) = internal.split_at(16);
    assert!(check.bytes().all(|b| b.is_ascii_hexdigit()), "{check}");
    let inner: Value = serde_json::from_str(inner).unwrap();
    assert_eq!(inner["format"], json!(STATE_FORMAT));
    assert_eq!(inner["etags"], json!([null, "e1", null]));
    assert_eq!(parse_state(&text), Some(state.clone()));
    // A company-level upload of a Blob: nulls in the open.
    let mut blob = UploadState::new(
        procore_upload::core::state::StateScope {
            project_id: None,
            ..scope()
        },
        procore_upload::core::state::FileIdentity {
            last_modified: None,
            ..identity(10)
        },
        5 * MIB,
        false,
        1,
    );
    blob.phase = "hashing".into();
    let value: Value = serde_json::from_str(&state_text(&blob)).unwrap();
    assert_eq!(value["lastModified"], Value::Null);
    assert_eq!(value["scope"]["projectId"], Value::Null);
    assert_eq!(value["bytesConfirmed"], json!(0));
    assert_eq!(parse_state(&state_text(&blob)), Some(blob));
}

/// What a format-2 text becomes when changed by hand: refused (`None`), in the open
/// or inside `internal`; only the order of keys may change (a store may reorder).
#[test]
fn a_changed_state_is_not_read() {
    let state = full_state();
    let text = state_text(&state);
    let valid: Value = serde_json::from_str(&text).unwrap();
    let internal = valid["internal"].as_str().unwrap().to_string();
    let (check, inner) = internal.split_at(16);
    let inside = |change: &dyn Fn(&mut Value)| {
        let mut inner: Value = serde_json::from_str(inner).unwrap();
        change(&mut inner);
        let mut value = valid.clone();
        value["internal"] = format!("{check}{inner}").into();
        value
    };
    type Change = Box<dyn Fn(&mut Value)>;
    let open = |change: Change| {
        let mut value = valid.clone();
        change(&mut value);
        value
    };
    let table: Vec<(&str, Value)> = vec![
        ("size", open(Box::new(|v| v["size"] = json!(1)))),
        (
            "bytesConfirmed",
            open(Box::new(|v| v["bytesConfirmed"] = json!(12 * MIB))),
        ),
        (
            "phase",
            open(Box::new(|v| v["phase"] = json!("completing"))),
        ),
        (
            "key",
            open(Box::new(|v| v["key"] = json!("procore-upload/other"))),
        ),
        (
            "scope.companyId",
            open(Box::new(|v| v["scope"]["companyId"] = json!(8))),
        ),
        (
            "a key removed",
            open(Box::new(|v| {
                v.as_object_mut().unwrap().shift_remove("updatedAt");
            })),
        ),
        (
            "a key added",
            open(Box::new(|v| v["etags"] = json!(["e0", "e1", "e2"]))),
        ),
        (
            "a key added to the scope",
            open(Box::new(|v| v["scope"]["extra"] = json!(1))),
        ),
        (
            "the check",
            open(Box::new(|v| {
                v["internal"] =
                    format!("0000000000000000{}", &v["internal"].as_str().unwrap()[16..]).into()
            })),
        ),
        (
            "internal without its check",
            open(Box::new(|v| {
                v["internal"] = v["internal"].as_str().unwrap()[16..].into()
            })),
        ),
        (
            "internal not a string",
            open(Box::new(|v| v["internal"] = json!({"format": 2}))),
        ),
        (
            "an ETag inside",
            inside(&|i| i["etags"][0] = json!("forged")),
        ),
        (
            "a part's URL inside",
            inside(&|i| i["parts"][0]["url"] = json!("https://evil.test/")),
        ),
        ("the size inside and out", {
            let mut value = inside(&|i| i["file"]["size"] = json!(1));
            value["size"] = json!(1);
            value
        }),
        ("the format inside", inside(&|i| i["format"] = json!(3))),
    ];
    for (what, changed) in table {
        assert_ne!(changed, valid, "{what}: changed");
        assert_eq!(read_state(&changed.to_string()), None, "{what}");
    }
    // Keys in another order, in the open and in the scope: the same state.
    let mut reordered = serde_json::Map::new();
    for (key, value) in valid.as_object().unwrap().iter().rev() {
        let value = match value.as_object() {
            Some(scope) => Value::Object(
                scope
                    .iter()
                    .rev()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            None => value.clone(),
        };
        reordered.insert(key.clone(), value);
    }
    let reordered = Value::Object(reordered).to_string();
    assert_ne!(reordered, text);
    assert_eq!(read_state(&reordered), Some(state));
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

/// A tree record's key (`uploadFolder`): the same entries to the same place give
/// the same key; another path, size, lastModified, folder, project or company
/// another; it is one of the library's keys.
#[test]
fn tree_keys_tell_trees_apart() {
    let entry = |path, size, modified| TreeEntry {
        path,
        size,
        last_modified: modified,
    };
    let base = [
        entry("plans", None, None),
        entry("plans/a.pdf", Some(3), Some(1)),
    ];
    let key = |scope: &StateScope, parent, entries: &[TreeEntry]| {
        tree_fingerprint(scope, parent, entries)
    };
    let here = key(&scope(), Some(5), &base);
    assert!(
        here.starts_with(TREE_KEY_PREFIX) && is_own_key(&here),
        "{here}"
    );
    assert!(here.starts_with("procore-upload/tree/7/42/5/"), "{here}");
    assert_eq!(here, key(&scope(), Some(5), &base.clone()));
    let company = StateScope {
        project_id: None,
        ..scope()
    };
    let other_company = StateScope {
        company_id: 8,
        ..scope()
    };
    let others = [
        key(&scope(), None, &base),
        key(&scope(), Some(6), &base),
        key(&company, Some(5), &base),
        key(&other_company, Some(5), &base),
        key(
            &scope(),
            Some(5),
            &[base[0], entry("plans/b.pdf", Some(3), Some(1))],
        ),
        key(
            &scope(),
            Some(5),
            &[base[0], entry("plans/a.pdf", Some(4), Some(1))],
        ),
        key(
            &scope(),
            Some(5),
            &[base[0], entry("plans/a.pdf", Some(3), Some(2))],
        ),
        key(
            &scope(),
            Some(5),
            &[base[0], entry("plans/a.pdf", Some(3), None)],
        ),
        key(&scope(), Some(5), &base[1..]),
        key(
            &scope(),
            Some(5),
            &[entry("plans", None, None), entry("plans/a.pdf", None, None)],
        ),
    ];
    let mut all: Vec<&String> = others.iter().collect();
    all.push(&here);
    all.sort();
    all.dedup();
    assert_eq!(all.len(), others.len() + 1, "{others:#?}");
}

/// Tree records are no states: pruning leaves them alone and does not count
/// them; `uploadFolder` drops those unchanged for a week, and unreadable ones.
#[test]
fn tree_records_are_kept_a_week() {
    let now = 1_800_000_000_000u64;
    let record = |name: &str, updated: u64| {
        (
            format!("{TREE_KEY_PREFIX}{name}"),
            format!(r#"{{"updatedMs":{updated},"format":1,"folders":{{}},"files":{{}}}}"#),
        )
    };
    let week = 7 * 24 * HOUR;
    let entries = vec![
        record("fresh", now - 1),
        record("almost", now - week + 1),
        record("stale", now - week),
        (format!("{TREE_KEY_PREFIX}junk"), "]".to_string()),
        stored("a", "v1.1", now, now - 2),
        stored("b", "v1.1", now, now - 1),
        // Not a tree's key: not a tree record, whatever it holds.
        (own("x"), record("x", now - week).1),
    ];
    assert_eq!(entries_to_drop(&entries[..6], now, 2), Vec::<String>::new());
    assert_eq!(entries_to_drop(&entries[..6], now, 1), [own("a")]);
    let mut stale = stale_tree_records(&entries, now);
    stale.sort();
    assert_eq!(
        stale,
        [
            format!("{TREE_KEY_PREFIX}junk"),
            format!("{TREE_KEY_PREFIX}stale")
        ]
    );
}
