//! An upload's state as a value: what it takes to go on with a segmented upload
//! after a pause or a page reload (scope, file identity, plan, digests, upload id,
//! instructions, ETags). Serializable, so a [`Store`] can keep it; the engine starts
//! from one and reports each new one. No bytes of the file are ever kept.
//!
//! Stored and shown to JS as one text ([`state_text`]): what a UI needs in the open,
//! the rest in one opaque field, `internal`, that is checked when read back.

// Reads values from the network and from stores: no arithmetic that can overflow,
// underflow or divide by zero (checked or saturating operations only).
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use std::collections::HashMap;
use std::future::Future;

use super::hash::hash_bytes;
use super::json::Json;
use super::plan::{plan_segments, ApiVersion, SegmentPlan};
use super::protocol::{PartInstruction, SegmentDigest};
use super::Error;

/// Bumped when the stored layout changes; states of another format are ignored.
/// 2: what a UI needs in the open, the rest in `internal` ([`state_text`]).
pub const STATE_FORMAT: u32 = 2;
/// The first layout (every field in the open, snake case), as the releases before
/// format 2 stored states and gave them to JS: still read, as the current format.
pub const FORMAT_1: u32 = 1;
/// Hex digits of the check that starts `internal`.
const CHECK_LEN: usize = 16;
/// Every key a state is stored under starts with this (it is the start of every
/// fingerprint, as it has been since states were first kept). A store may hold the
/// app's own data beside the states (a store over `localStorage`): the library
/// reads, writes, deletes and prunes no key without this prefix.
pub const KEY_PREFIX: &str = "procore-upload/";
/// Most states a store keeps; the least recently updated go first.
pub const MAX_STORED_STATES: usize = 50;
/// v1 instructions must be used within an hour; this much before that they are
/// treated as expired, so that a resumed PUT does not start on an URL about to lapse.
pub const V1_INSTRUCTIONS_USABLE_MS: u64 = 55 * 60 * 1000;
const HOUR_MS: u64 = 60 * 60 * 1000;

/// A file as the browser identifies it: what a fingerprint is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileIdentity {
    /// Name as picked.
    pub name: String,
    /// Bytes.
    pub size: u64,
    /// `File.lastModified` (ms since 1970), when there is one.
    pub last_modified: Option<u64>,
    /// MIME type as picked (may be empty).
    pub content_type: String,
}

/// Where the upload goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateScope {
    /// `v1.0`, `v1.1` or `v2.1`.
    pub api_version: String,
    /// Company id.
    pub company_id: u64,
    /// Project id, for project-level uploads.
    pub project_id: Option<u64>,
}

/// Everything needed to go on with a segmented upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadState {
    /// [`STATE_FORMAT`] when written.
    pub format: u32,
    /// The fingerprint it is stored under.
    pub key: String,
    /// Where it goes.
    pub scope: StateScope,
    /// Which file.
    pub file: FileIdentity,
    /// Segment size of the plan (the last segment may be smaller).
    pub segment_size: u64,
    /// Whether MD5s are declared.
    pub md5: bool,
    /// Per segment, once hashed.
    pub digests: Option<Vec<SegmentDigest>>,
    /// v2.1: the whole file's SHA-256 (and MD5), once hashed.
    pub whole_sha256: Option<String>,
    /// v2.1: the whole file's MD5, when computed.
    pub whole_md5: Option<String>,
    /// The upload's id, once created.
    pub uuid: Option<String>,
    /// v1: the instructions of each part, once created (v2.1 asks again on resume).
    pub parts: Vec<PartInstruction>,
    /// Wall-clock ms when the instructions were received.
    pub instructions_at_ms: Option<u64>,
    /// Per segment: the ETag storage gave it, once stored.
    pub etags: Vec<Option<String>>,
    /// Wall-clock ms when the upload was first created at Procore (or the state
    /// made, before that).
    pub created_ms: u64,
    /// Wall-clock ms of the last change.
    pub updated_ms: u64,
    /// Where the upload was at the last change (`hashing`, `uploading`, …, as
    /// progress reports it).
    pub phase: String,
}

impl UploadState {
    /// A fresh state: nothing hashed, nothing created.
    pub fn new(
        scope: StateScope,
        file: FileIdentity,
        segment_size: u64,
        md5: bool,
        now_ms: u64,
    ) -> Self {
        Self {
            format: STATE_FORMAT,
            key: fingerprint(&scope, &file),
            scope,
            file,
            segment_size,
            md5,
            digests: None,
            whole_sha256: None,
            whole_md5: None,
            uuid: None,
            parts: Vec::new(),
            instructions_at_ms: None,
            etags: Vec::new(),
            created_ms: now_ms,
            updated_ms: now_ms,
            phase: "queued".into(),
        }
    }

    /// The segment plan this state was made with.
    pub fn plan(&self) -> Result<SegmentPlan, Error> {
        let version = ApiVersion::parse(&self.scope.api_version)?;
        plan_segments(self.file.size, version, Some(self.segment_size))
    }

    /// Records the instructions of a new (v1) create: every ETag forgotten, since a
    /// new create is a new multipart upload.
    pub fn created(&mut self, uuid: &str, parts: &[PartInstruction], now_ms: u64) {
        if self.uuid.is_none() {
            self.created_ms = now_ms;
        }
        self.uuid = Some(uuid.to_string());
        self.parts = parts.to_vec();
        self.instructions_at_ms = Some(now_ms);
        self.etags = vec![None; parts.len()];
        self.updated_ms = now_ms;
    }

    /// Segments without an ETag, in order.
    pub fn pending(&self) -> Vec<usize> {
        (0..self.etags.len())
            .filter(|&i| self.etags.get(i).is_some_and(Option::is_none))
            .collect()
    }

    /// Bytes of the segments already stored.
    pub fn bytes_stored(&self) -> u64 {
        match &self.digests {
            Some(digests) => digests
                .iter()
                .zip(&self.etags)
                .filter(|(_, etag)| etag.is_some())
                .map(|(d, _)| d.size)
                .sum(),
            None => 0,
        }
    }
}

/// The key a state is stored under: the file (name, size, lastModified, type) and
/// where it goes (company, project, API version). Two files alike in all of these
/// share a key; the content check on resume tells them apart.
pub fn fingerprint(scope: &StateScope, file: &FileIdentity) -> String {
    let project = scope.project_id.map_or("-".to_string(), |p| p.to_string());
    let modified = file
        .last_modified
        .map_or("-".to_string(), |m| m.to_string());
    // The name last: it may contain the separator.
    format!(
        "{KEY_PREFIX}{}/{}/{}/{}/{}/{}/{}",
        scope.api_version,
        scope.company_id,
        project,
        file.size,
        modified,
        file.content_type.replace('/', "%2F"),
        file.name
    )
}

/// Every key a tree record of `uploadFolder` is kept under starts with this (inside
/// [`KEY_PREFIX`]: the library's own). Such a record is no state: kept for a week
/// after its last change ([`stale_tree_records`]).
pub const TREE_KEY_PREFIX: &str = "procore-upload/tree/";

/// How long a tree record is kept after its last change.
pub const TREE_RECORD_MS: u64 = 7 * 24 * HOUR_MS;

/// An entry of a tree as its fingerprint takes it: its path, and for a file its
/// size and `lastModified`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeEntry<'a> {
    /// Its path in the tree.
    pub path: &'a str,
    /// A file's size; `None`: a folder.
    pub size: Option<u64>,
    /// A file's `File.lastModified`, when there is one.
    pub last_modified: Option<u64>,
}

/// The key a tree's record is kept under: where it goes (company, project, the
/// folder it goes into) and every entry's path, size and `lastModified`, so that
/// the same entries dropped again find it and any other tree does not. Beside
/// [`fingerprint`]: one place for the keys of what is kept.
pub fn tree_fingerprint(
    scope: &StateScope,
    parent_id: Option<u64>,
    entries: &[TreeEntry<'_>],
) -> String {
    let text = |n: Option<u64>| n.map_or("-".to_string(), |n| n.to_string());
    let mut listed = String::new();
    for entry in entries {
        // Paths hold no control characters (the plan refuses them): \u{1} and a
        // line end cannot be part of one.
        listed.push_str(entry.path);
        listed.push('\u{1}');
        listed.push_str(&text(entry.size));
        listed.push('\u{1}');
        listed.push_str(&text(entry.last_modified));
        listed.push('\n');
    }
    let digest = hash_bytes(listed.as_bytes(), false).sha256_hex();
    format!(
        "{TREE_KEY_PREFIX}{}/{}/{}/{}",
        scope.company_id,
        text(scope.project_id),
        text(parent_id),
        digest
    )
}

/// The tree records of `entries` (the store's) to delete at `now_ms`: those
/// unreadable or unchanged for [`TREE_RECORD_MS`] (their `updatedMs`). Called by
/// `uploadFolder`, the only one that makes them: the pruning of states leaves
/// them alone ([`entries_to_drop`]).
pub fn stale_tree_records(entries: &[(String, String)], now_ms: u64) -> Vec<String> {
    let mut stale = Vec::new();
    for (key, text) in entries {
        let fresh = Json::parse(text)
            .ok()
            .and_then(|record| record.get("updatedMs").and_then(Json::as_u64))
            .is_some_and(|at| now_ms.saturating_sub(at) < TREE_RECORD_MS);
        if key.starts_with(TREE_KEY_PREFIX) && !fresh {
            stale.push(key.clone());
        }
    }
    stale
}

/// Whether `key` is one of the library's: under [`KEY_PREFIX`]. Any other key of a
/// store is the app's, never read, written, deleted or pruned.
pub fn is_own_key(key: &str) -> bool {
    key.starts_with(KEY_PREFIX)
}

/// Whether v1 instructions received at `received_ms` can still be used at `now_ms`.
pub fn v1_instructions_usable(received_ms: u64, now_ms: u64) -> bool {
    now_ms.saturating_sub(received_ms) < V1_INSTRUCTIONS_USABLE_MS
}

/// How long after creation an upload can still be completed and attached: a week
/// for v1, 24 hours for v2.1.
pub fn association_deadline_ms(api_version: &str) -> u64 {
    if api_version == ApiVersion::V21.as_str() {
        24 * HOUR_MS
    } else {
        7 * 24 * HOUR_MS
    }
}

/// Reads a stored state; `None` for anything that is not a state of this format
/// (another format, a foreign entry, corrupt text, a changed state).
pub fn parse_state(text: &str) -> Option<UploadState> {
    read_state(text).filter(|state| state.format == STATE_FORMAT)
}

/// Reads a state as [`state_text`] writes it, or as format 1 did (read as the
/// current format); `None` for text that is not one, or a state changed since it
/// was written. A state of another format inside `internal` keeps its number (the
/// engine refuses it with a reason).
pub fn read_state(text: &str) -> Option<UploadState> {
    let value = Json::parse(text).ok()?;
    // Format 2 on: the whole state inside `internal`; format 1: in the open.
    let inner = match value.get("internal") {
        Some(internal) => Some(Json::parse(internal.as_str()?.get(CHECK_LEN..)?).ok()?),
        None => None,
    };
    let mut state = state_from_json(inner.as_ref().unwrap_or(&value))?;
    match inner {
        // Everything as this state writes it, `internal` and its check included: a
        // field changed by hand, in the open or inside, is a mismatch.
        Some(_) => same(&state_json(&state), &value).then_some(state),
        None if state.format == FORMAT_1 => {
            state.format = STATE_FORMAT;
            Some(state)
        }
        None => None,
    }
}

/// The state as stored and as JS gets it (format 2): JSON with what a UI needs,
/// in camelCase (`key`, the file's `name`, `size` and `lastModified`, `phase`,
/// `bytesConfirmed`, `updatedAt`, `scope`), and `internal`: the whole state in the
/// layout of format 1 (its own `format` inside), after the start of its SHA-256, so
/// that a state changed by hand is told from one this library wrote (a check, not
/// a secret).
pub fn state_text(state: &UploadState) -> String {
    state_json(state).to_string()
}

fn state_json(state: &UploadState) -> Json {
    let inner = inner_json(state).to_string();
    let mut internal = hash_bytes(inner.as_bytes(), false).sha256_hex();
    internal.truncate(CHECK_LEN);
    internal.push_str(&inner);
    Json::object_of([
        ("key", state.key.as_str().into()),
        ("name", state.file.name.as_str().into()),
        ("size", state.file.size.into()),
        ("lastModified", state.file.last_modified.into()),
        ("phase", state.phase.as_str().into()),
        ("bytesConfirmed", state.bytes_stored().into()),
        ("updatedAt", state.updated_ms.into()),
        (
            "scope",
            Json::object_of([
                ("apiVersion", state.scope.api_version.as_str().into()),
                ("companyId", state.scope.company_id.into()),
                ("projectId", state.scope.project_id.into()),
            ]),
        ),
        ("internal", internal.into()),
    ])
}

/// Whether two JSON values are the same, objects whatever the order of their keys
/// (a state may come back through a store that orders them its own way).
fn same(a: &Json, b: &Json) -> bool {
    match (a.as_object(), b.as_object()) {
        (Some(a), Some(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(key, value)| b.iter().any(|(k, v)| k == key && same(value, v)))
        }
        // Scalars (no arrays in the open): as written, with no comparison code of
        // their own.
        _ => a.to_string() == b.to_string(),
    }
}

// Written by hand over `Json` rather than derived: derived typed (de)serializers
// cost the browser download tens of KB. The layout of format 1, as it stored states.
fn inner_json(state: &UploadState) -> Json {
    let digests = state.digests.as_ref().map(|digests| {
        digests
            .iter()
            .map(|d| {
                Json::object_of([
                    ("size", d.size.into()),
                    ("sha256", d.sha256.as_str().into()),
                    ("md5", d.md5.as_deref().into()),
                ])
            })
            .collect::<Vec<Json>>()
    });
    let parts: Vec<Json> = state
        .parts
        .iter()
        .map(|p| {
            let headers = p
                .headers
                .iter()
                .map(|(name, value)| Json::Array(vec![name.as_str().into(), value.as_str().into()]))
                .collect::<Vec<Json>>();
            Json::object_of([
                ("url", p.url.as_str().into()),
                ("headers", Json::Array(headers)),
            ])
        })
        .collect();
    Json::object_of([
        ("format", state.format.into()),
        ("key", state.key.as_str().into()),
        (
            "scope",
            Json::object_of([
                ("api_version", state.scope.api_version.as_str().into()),
                ("company_id", state.scope.company_id.into()),
                ("project_id", state.scope.project_id.into()),
            ]),
        ),
        (
            "file",
            Json::object_of([
                ("name", state.file.name.as_str().into()),
                ("size", state.file.size.into()),
                ("last_modified", state.file.last_modified.into()),
                ("content_type", state.file.content_type.as_str().into()),
            ]),
        ),
        ("segment_size", state.segment_size.into()),
        ("md5", state.md5.into()),
        ("digests", digests.map_or(Json::Null, Json::Array)),
        ("whole_sha256", state.whole_sha256.as_deref().into()),
        ("whole_md5", state.whole_md5.as_deref().into()),
        ("uuid", state.uuid.as_deref().into()),
        ("parts", Json::Array(parts)),
        ("instructions_at_ms", state.instructions_at_ms.into()),
        ("etags", Json::optional_strings(&state.etags)),
        ("created_ms", state.created_ms.into()),
        ("updated_ms", state.updated_ms.into()),
        ("phase", state.phase.as_str().into()),
    ])
}

/// Every field present and of its type (optional ones may be `null`), or `None`.
/// (`get` finds nothing in what is not an object: no separate check for objects.)
fn state_from_json(state: &Json) -> Option<UploadState> {
    let scope = state.get("scope")?;
    let file = state.get("file")?;
    // Loops, not collects into an Option: less code in the package.
    let digests = match state.get("digests")? {
        Json::Null => None,
        list => {
            let list = list.as_array()?;
            let mut digests = Vec::with_capacity(list.len());
            for d in list {
                digests.push(SegmentDigest {
                    size: number(d, "size")?,
                    sha256: text(d, "sha256")?,
                    md5: optional(d, "md5", Json::as_str)?.map(str::to_string),
                });
            }
            Some(digests)
        }
    };
    let list = state.get("parts")?.as_array()?;
    let mut parts = Vec::with_capacity(list.len());
    for p in list {
        let pairs = p.get("headers")?.as_array()?;
        let mut headers = Vec::with_capacity(pairs.len());
        for pair in pairs {
            let [name, value] = pair.as_array()? else {
                return None;
            };
            headers.push((name.as_str()?.to_string(), value.as_str()?.to_string()));
        }
        parts.push(PartInstruction {
            url: text(p, "url")?,
            headers,
        });
    }
    let list = state.get("etags")?.as_array()?;
    let mut etags = Vec::with_capacity(list.len());
    for etag in list {
        etags.push(match etag {
            Json::Null => None,
            Json::String(etag) => Some(etag.clone()),
            _ => return None,
        });
    }
    Some(UploadState {
        format: u32::try_from(number(state, "format")?).ok()?,
        key: text(state, "key")?,
        scope: StateScope {
            api_version: text(scope, "api_version")?,
            company_id: number(scope, "company_id")?,
            project_id: optional(scope, "project_id", Json::as_u64)?,
        },
        file: FileIdentity {
            name: text(file, "name")?,
            size: number(file, "size")?,
            last_modified: optional(file, "last_modified", Json::as_u64)?,
            content_type: text(file, "content_type")?,
        },
        segment_size: number(state, "segment_size")?,
        md5: state.get("md5")?.as_bool()?,
        digests,
        whole_sha256: optional(state, "whole_sha256", Json::as_str)?.map(str::to_string),
        whole_md5: optional(state, "whole_md5", Json::as_str)?.map(str::to_string),
        uuid: optional(state, "uuid", Json::as_str)?.map(str::to_string),
        parts,
        instructions_at_ms: optional(state, "instructions_at_ms", Json::as_u64)?,
        etags,
        created_ms: number(state, "created_ms")?,
        updated_ms: number(state, "updated_ms")?,
        phase: text(state, "phase")?,
    })
}

fn number(object: &Json, key: &str) -> Option<u64> {
    object.get(key)?.as_u64()
}

fn text(object: &Json, key: &str) -> Option<String> {
    object.get(key)?.as_str().map(str::to_string)
}

/// `Some(None)` for `null`, `Some(Some(v))` for a value of the type, `None` otherwise
/// (also when missing).
fn optional<'v, T>(
    object: &'v Json,
    key: &str,
    read: impl Fn(&'v Json) -> Option<T>,
) -> Option<Option<T>> {
    match object.get(key)? {
        Json::Null => Some(None),
        value => read(value).map(Some),
    }
}

/// Which stored entries to delete at `now_ms`. Only the library's own keys
/// ([`is_own_key`]) are considered, whatever they hold; of those: entries that are
/// not states of this format (corrupt text), states past their association
/// deadline, and beyond `max` the least recently updated. Tree records
/// ([`TREE_KEY_PREFIX`]) are no states: left alone, and not counted towards `max`
/// (`uploadFolder` drops them: [`stale_tree_records`]).
pub fn entries_to_drop(entries: &[(String, String)], now_ms: u64, max: usize) -> Vec<String> {
    let mut drop = Vec::new();
    let mut kept: Vec<(u64, &str)> = Vec::new();
    for (key, text) in entries.iter().filter(|(key, _)| is_own_key(key)) {
        if key.starts_with(TREE_KEY_PREFIX) {
            continue;
        }
        match parse_state(text) {
            Some(state)
                if now_ms.saturating_sub(state.created_ms)
                    < association_deadline_ms(&state.scope.api_version) =>
            {
                kept.push((state.updated_ms, key));
            }
            _ => drop.push(key.clone()),
        }
    }
    // The oldest first, one at a time: few are over the limit (one more is kept per
    // upload), and no sort gets compiled into the wasm for this alone.
    while kept.len() > max {
        let Some(oldest) = kept
            .iter()
            .enumerate()
            .min_by_key(|&(_, entry)| entry)
            .map(|(index, _)| index)
        else {
            break;
        };
        drop.push(kept.swap_remove(oldest).1.to_string());
    }
    drop
}

/// One operation on the storage behind a [`Store`], on any key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op<'a> {
    /// The entry under a key, if there is one.
    Get(&'a str),
    /// Stores a text under a key.
    Put(&'a str, &'a str),
    /// Deletes a key (no error when absent).
    Delete(&'a str),
    /// Every entry.
    List,
}

/// Key-value storage of states (tus-js-client's `UrlStorage`): IndexedDB in the
/// browser, memory in tests, or what the integrator plugs in.
///
/// An implementation provides [`Store::run`], on any key of its storage, which may
/// hold the app's data too; the library calls only the other methods, which never
/// pass on a key outside [`KEY_PREFIX`] ([`is_own_key`]): `get` finds nothing under
/// one, `delete` leaves it alone, `put` refuses it with [`Error::Store`] (a state
/// whose `key` was changed by hand), `list` leaves those entries out. So every
/// store is narrowed to the library's keys, whatever the code path.
#[allow(async_fn_in_trait)] // Single-threaded (wasm): no Send bound wanted.
pub trait Store {
    /// Runs `op`: `Get` gives the entry found (none or one), `List` every entry,
    /// `Put` and `Delete` nothing.
    fn run<'a>(
        &'a self,
        op: Op<'a>,
    ) -> impl Future<Output = Result<Vec<(String, String)>, Error>> + 'a;

    /// The text stored under `key` (none under a key not the library's).
    async fn get(&self, key: &str) -> Result<Option<String>, Error> {
        if !is_own_key(key) {
            return Ok(None);
        }
        Ok(self.run(Op::Get(key)).await?.pop().map(|(_, text)| text))
    }

    /// Stores `value` under `key` (refused for a key not the library's).
    async fn put(&self, key: &str, value: &str) -> Result<(), Error> {
        if !is_own_key(key) {
            // Not `{:?}`: str's Debug costs the wasm 0.5 KB gzip (measured).
            return Err(Error::store(format!(
                "a state's key must start with \"{KEY_PREFIX}\"; \"{key}\" is left alone"
            )));
        }
        self.run(Op::Put(key, value)).await.map(drop)
    }

    /// Deletes `key` (no error when absent; nothing done for a key not the
    /// library's).
    async fn delete(&self, key: &str) -> Result<(), Error> {
        if !is_own_key(key) {
            return Ok(());
        }
        self.run(Op::Delete(key)).await.map(drop)
    }

    /// Every entry of the library's.
    async fn list(&self) -> Result<Vec<(String, String)>, Error> {
        let mut entries = self.run(Op::List).await?;
        entries.retain(|(key, _)| is_own_key(key));
        Ok(entries)
    }
}

/// A store in memory.
#[derive(Debug, Default)]
pub struct MemoryStore {
    entries: std::cell::RefCell<HashMap<String, String>>,
}

impl Store for MemoryStore {
    async fn run<'a>(&'a self, op: Op<'a>) -> Result<Vec<(String, String)>, Error> {
        let mut entries = self.entries.borrow_mut();
        Ok(match op {
            Op::Get(key) => entries
                .get(key)
                .map(|text| (key.to_string(), text.clone()))
                .into_iter()
                .collect(),
            Op::Put(key, value) => {
                entries.insert(key.to_string(), value.to_string());
                Vec::new()
            }
            Op::Delete(key) => {
                entries.remove(key);
                Vec::new()
            }
            Op::List => entries
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        })
    }
}

/// Puts `state` in `store`.
pub async fn save<S: Store + ?Sized>(store: &S, state: &UploadState) -> Result<(), Error> {
    store.put(&state.key, &state_text(state)).await
}

/// Deletes what [`entries_to_drop`] says at `now_ms`, so that the store stays bounded.
/// Once per upload is enough (each adds one key); it reads every entry.
pub async fn prune<S: Store + ?Sized>(store: &S, now_ms: u64) -> Result<(), Error> {
    let entries = store.list().await?;
    for key in entries_to_drop(&entries, now_ms, MAX_STORED_STATES) {
        store.delete(&key).await?;
    }
    Ok(())
}

/// The stored states for `key` still usable at `now_ms` (expired ones are deleted).
pub async fn find<S: Store + ?Sized>(
    store: &S,
    key: &str,
    now_ms: u64,
) -> Result<Vec<UploadState>, Error> {
    prune(store, now_ms).await?;
    Ok(store
        .get(key)
        .await?
        .and_then(|text| parse_state(&text))
        .into_iter()
        .collect())
}
