//! The runner of `uploadFolder` (issue 23) natively, against a small model of
//! Procore Documents (folders, files, versions, name-taken answers, `unique_name`,
//! `Idempotency-Token` replays) and of the v1.1 segmented upload protocol, at
//! project and company level. Faults are injected per request: an answer instead
//! of the work (429, 503), the work done and the answer lost, another client
//! taking the name first. Requests can be held, and the run polled by hand, for
//! the abort and resume cases.
#![cfg(not(target_arch = "wasm32"))]

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::{Context, Poll};

use procore_upload::core::engine::{Phase, UploadOptions};
use procore_upload::core::folders::existing::OnExisting;
use procore_upload::core::folders::plan::{plan, Entry, EntryKind};
use procore_upload::core::folders::report::{FileStatus, TreeProgress, TreeResult};
use procore_upload::core::folders::run::{upload_tree, FileFacts, TreeEnv, TreeJob, TreeReports};
use procore_upload::core::hash::{hash_bytes, InThread};
use procore_upload::core::http::{Body, Http, Method, Request, Response, Target};
use procore_upload::core::plan::{ApiVersion, Segmented, MIB};
use procore_upload::core::runtime::{Limits, Shared, Wakeup};
use procore_upload::core::state::{prune, MemoryStore, Op, Store, TREE_KEY_PREFIX};
use procore_upload::core::Error;
use serde_json::{json, Value};

mod common;
use common::{data, options, tokens, CountingTokens};

const SEGMENT: usize = 5 * MIB as usize;

// ---------------------------------------------------------------- the model

#[derive(Debug, Clone)]
struct MFolder {
    id: u64,
    level: String,
    parent: Option<u64>,
    name: String,
}

#[derive(Debug, Clone)]
struct MFile {
    id: u64,
    level: String,
    parent: Option<u64>,
    name: String,
    /// (version id, upload uuid)
    versions: Vec<(u64, String)>,
}

#[derive(Debug, Clone)]
struct MUpload {
    name: String,
    sha256: Vec<String>,
    etags: Vec<Option<String>>,
    complete: bool,
}

#[derive(Default)]
struct Model {
    next: u64,
    folders: Vec<MFolder>,
    files: Vec<MFile>,
    uploads: HashMap<String, MUpload>,
    /// POST answers by Idempotency-Token: a replay answers the same.
    replies: HashMap<String, (u16, String)>,
    /// File names whose storage PUTs fail.
    storage_fails: HashSet<String>,
}

fn answer(status: u16, body: Value) -> Response {
    Response {
        status,
        headers: Vec::new(),
        body: body.to_string(),
    }
}

fn body_json(request: &Request) -> Value {
    match &request.body {
        Body::Json(text) => serde_json::from_str(text).unwrap(),
        other => panic!("{} without JSON: {other:?}", request.url),
    }
}

fn taken_body() -> Value {
    json!({"errors": {"name": ["has already been taken"]}})
}

/// The level (`p42`, `c7`), the Documents path after the version, the query.
fn route(url: &str) -> (String, String, HashMap<String, String>) {
    let rest = url.strip_prefix("https://api.test").unwrap();
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let query: HashMap<String, String> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect();
    if let Some(rest) = path.strip_prefix("/rest/v1.0/companies/7/") {
        assert!(!query.contains_key("project_id"), "{url}");
        return ("c7".into(), rest.into(), query);
    }
    if let Some(rest) = path.strip_prefix("/rest/v1.0/") {
        assert_eq!(
            query.get("project_id").map(String::as_str),
            Some("42"),
            "{url}"
        );
        return ("p42".into(), rest.into(), query);
    }
    panic!("unexpected Documents URL {url}");
}

impl Model {
    fn id(&mut self) -> u64 {
        self.next += 1;
        1000 + self.next
    }

    fn folder_at(&self, level: &str, parent: Option<u64>, name: &str) -> Option<u64> {
        self.folders
            .iter()
            .find(|f| f.level == level && f.parent == parent && f.name == name)
            .map(|f| f.id)
    }

    fn file_at(&self, level: &str, parent: Option<u64>, name: &str) -> Option<usize> {
        self.files
            .iter()
            .position(|f| f.level == level && f.parent == parent && f.name == name)
    }

    fn add_folder(&mut self, level: &str, parent: Option<u64>, name: &str) -> u64 {
        let id = self.id();
        self.folders.push(MFolder {
            id,
            level: level.into(),
            parent,
            name: name.into(),
        });
        id
    }

    fn add_file(&mut self, level: &str, parent: Option<u64>, name: &str, uuid: &str) -> u64 {
        let (id, version) = (self.id(), self.id());
        self.files.push(MFile {
            id,
            level: level.into(),
            parent,
            name: name.into(),
            versions: vec![(version, uuid.into())],
        });
        id
    }

    /// Another client takes the name the request is about to create (unless it
    /// is taken already: Procore would refuse the other client too).
    fn race(&mut self, request: &Request) {
        let (level, what, _) = route(&request.url);
        let body = body_json(request);
        let item = &body[if what == "folders" { "folder" } else { "file" }];
        let (parent, name) = (item["parent_id"].as_u64(), item["name"].as_str().unwrap());
        if self.folder_at(&level, parent, name).is_some()
            || self.file_at(&level, parent, name).is_some()
        {
            return;
        }
        match what.as_str() {
            "folders" => {
                let f = &body["folder"];
                self.add_folder(&level, f["parent_id"].as_u64(), f["name"].as_str().unwrap());
            }
            "files" => {
                let f = &body["file"];
                self.add_file(
                    &level,
                    f["parent_id"].as_u64(),
                    f["name"].as_str().unwrap(),
                    "other-client",
                );
            }
            other => panic!("no race on {other}"),
        }
    }

    fn handle(&mut self, request: &Request) -> Response {
        if request.target == Target::Storage {
            return self.storage(request);
        }
        let token = request
            .headers
            .iter()
            .find(|(k, _)| k == "Idempotency-Token")
            .map(|(_, v)| v.clone());
        if request.method == Method::Post {
            let token = token.unwrap_or_else(|| panic!("POST without a token: {}", request.url));
            if let Some((status, body)) = self.replies.get(&token) {
                return Response {
                    status: *status,
                    headers: Vec::new(),
                    body: body.clone(),
                };
            }
            let response = self.api(request);
            self.replies
                .insert(token, (response.status, response.body.clone()));
            return response;
        }
        if request.method == Method::Get {
            assert!(token.is_none(), "a token on a GET");
        }
        self.api(request)
    }

    fn storage(&mut self, request: &Request) -> Response {
        assert_eq!(request.method, Method::Put);
        let rest = request.url.strip_prefix("https://storage.test/").unwrap();
        let (uuid, rest) = rest.split_once("/part/").unwrap();
        let index: usize = rest.split('?').next().unwrap().parse().unwrap();
        let upload = self.uploads.get_mut(uuid).expect("a known upload");
        if self.storage_fails.contains(&upload.name) {
            return answer(400, json!({"error": "bad request"}));
        }
        let etag = format!("e-{uuid}-{index}");
        upload.etags[index] = Some(etag.clone());
        Response {
            status: 200,
            headers: vec![("ETag".into(), format!("\"{etag}\""))],
            body: String::new(),
        }
    }

    fn listing(&self, level: &str, at: Option<u64>) -> Value {
        let mut folders: Vec<Value> = self
            .folders
            .iter()
            .filter(|f| f.level == level && f.parent == at)
            .map(|f| json!({"id": f.id, "name": f.name, "is_deleted": false}))
            .collect();
        if at.is_none() {
            folders.push(json!({"id": 1, "name": "Recycle Bin", "is_recycle_bin": true}));
        }
        let files: Vec<Value> = self
            .files
            .iter()
            .filter(|f| f.level == level && f.parent == at)
            .map(|f| json!({"id": f.id, "name": f.name, "is_deleted": false}))
            .collect();
        json!({"id": at, "folders": folders, "files": files})
    }

    fn api(&mut self, request: &Request) -> Response {
        if request.url.contains("/uploads") {
            return self.uploads_api(request);
        }
        let (level, what, query) = route(&request.url);
        match (request.method, what.as_str()) {
            (Method::Get, "folders") => answer(200, self.listing(&level, None)),
            (Method::Get, path) if path.starts_with("folders/") => {
                let id: u64 = path["folders/".len()..].parse().unwrap();
                if !self.folders.iter().any(|f| f.id == id && f.level == level) {
                    return answer(404, json!({"error": "not found"}));
                }
                answer(200, self.listing(&level, Some(id)))
            }
            (Method::Post, "folders") => {
                let body = body_json(request);
                let f = &body["folder"];
                let parent = f["parent_id"].as_u64();
                let name = f["name"].as_str().unwrap();
                if parent.is_some_and(|p| !self.folders.iter().any(|f| f.id == p)) {
                    return answer(404, json!({"error": "no such parent"}));
                }
                if self.folder_at(&level, parent, name).is_some()
                    || self.file_at(&level, parent, name).is_some()
                {
                    return answer(422, taken_body());
                }
                let id = self.add_folder(&level, parent, name);
                answer(201, json!({"id": id, "name": name, "parent_id": parent}))
            }
            (Method::Post, "files") => {
                let body = body_json(request);
                let f = &body["file"];
                let parent = f["parent_id"].as_u64();
                let uuid = f["upload_uuid"].as_str().unwrap();
                assert!(self.uploads[uuid].complete, "attached before complete");
                let mut name = f["name"].as_str().unwrap().to_string();
                if self.file_at(&level, parent, &name).is_some() {
                    if f["unique_name"] != json!(true) {
                        return answer(422, taken_body());
                    }
                    let (stem, ext) = name.rsplit_once('.').unwrap_or((&name, ""));
                    let (stem, ext) = (stem.to_string(), ext.to_string());
                    let mut n = 1;
                    while self.file_at(&level, parent, &name).is_some() {
                        name = format!("{stem} ({n}).{ext}");
                        n += 1;
                    }
                }
                let id = self.add_file(&level, parent, &name, uuid);
                let version = self.files.last().unwrap().versions[0].0;
                answer(
                    201,
                    json!({"id": id, "name": name, "parent_id": parent,
                           "file_versions": [{"id": version}]}),
                )
            }
            (Method::Post, "file_versions") => {
                let body = body_json(request);
                let uuid = body["file_version"]["upload_uuid"].as_str().unwrap();
                assert!(self.uploads[uuid].complete, "attached before complete");
                let file_id: u64 = query["file_id"].parse().unwrap();
                let version = self.id();
                let Some(file) = self
                    .files
                    .iter_mut()
                    .find(|f| f.id == file_id && f.level == level)
                else {
                    return answer(404, json!({"error": "no such file"}));
                };
                file.versions.push((version, uuid.into()));
                answer(201, json!({"id": version, "file_id": file_id}))
            }
            other => panic!("unexpected {other:?} {}", request.url),
        }
    }

    fn uploads_api(&mut self, request: &Request) -> Response {
        match request.method {
            Method::Post => {
                let body = body_json(request);
                let uuid = format!("U{}", self.uploads.len() + 1);
                let name = body["response_filename"].as_str().unwrap().to_string();
                let segments = body["segments"].as_array().unwrap();
                let instructions: Vec<Value> = segments
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        json!({"size": s["size"], "sha256": s["sha256"],
                               "url": format!("https://storage.test/{uuid}/part/{i}?sig=x"),
                               "headers": {"x-amz-content-sha256": s["sha256"],
                                           "content-length": s["size"].to_string()}})
                    })
                    .collect();
                self.uploads.insert(
                    uuid.clone(),
                    MUpload {
                        name,
                        sha256: segments
                            .iter()
                            .map(|s| s["sha256"].as_str().unwrap().to_string())
                            .collect(),
                        etags: vec![None; segments.len()],
                        complete: false,
                    },
                );
                answer(
                    201,
                    json!({"uuid": uuid, "segments": instructions, "status": "ready"}),
                )
            }
            Method::Patch => {
                let uuid = request.url.rsplit('/').next().unwrap().to_string();
                let body = body_json(request);
                let upload = self.uploads.get_mut(&uuid).unwrap();
                let sent: Vec<Option<String>> = body["segments"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s["etag"].as_str().map(str::to_string))
                    .collect();
                assert_eq!(sent, upload.etags, "completed with the stored ETags");
                upload.complete = true;
                answer(200, json!({"uuid": uuid, "status": "complete"}))
            }
            other => panic!("unexpected {other:?} {}", request.url),
        }
    }

    /// Every folder (`path/`) and file (`path #versions`) of `level`, sorted.
    fn tree(&self, level: &str) -> Vec<String> {
        let path = |mut at: Option<u64>, name: &str| {
            let mut parts = vec![name.to_string()];
            while let Some(id) = at {
                let f = self.folders.iter().find(|f| f.id == id).unwrap();
                parts.push(f.name.clone());
                at = f.parent;
            }
            parts.reverse();
            parts.join("/")
        };
        let mut out: Vec<String> = self
            .folders
            .iter()
            .filter(|f| f.level == level)
            .map(|f| format!("{}/", path(f.parent, &f.name)))
            .collect();
        for f in self.files.iter().filter(|f| f.level == level) {
            out.push(format!("{} #{}", path(f.parent, &f.name), f.versions.len()));
        }
        out.sort();
        out
    }
}

// ------------------------------------------------------------ the transport

enum Fault {
    /// Answered so, without the work.
    Answer(u16, Vec<(String, String)>),
    /// The work done, the answer lost.
    Lost,
    /// Another client takes the name first.
    Race,
}

type FaultRule = Box<dyn FnMut(&Request) -> Option<Fault>>;
type HoldRule = Box<dyn Fn(&Request) -> bool>;

struct Procore {
    model: RefCell<Model>,
    log: RefCell<Vec<Request>>,
    fault: RefCell<FaultRule>,
    hold: RefCell<HoldRule>,
    wakeup: Wakeup,
    in_flight: Rc<Cell<usize>>,
    clock: Cell<f64>,
    /// Idempotency-Tokens made.
    tokens: Cell<u64>,
}

struct InFlight(Rc<Cell<usize>>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

impl Procore {
    fn new() -> Self {
        Self {
            model: RefCell::new(Model::default()),
            log: RefCell::new(Vec::new()),
            fault: RefCell::new(Box::new(|_| None)),
            hold: RefCell::new(Box::new(|_| false)),
            wakeup: Wakeup::default(),
            in_flight: Rc::new(Cell::new(0)),
            clock: Cell::new(0.0),
            tokens: Cell::new(0),
        }
    }

    fn faults(&self, rule: impl FnMut(&Request) -> Option<Fault> + 'static) {
        *self.fault.borrow_mut() = Box::new(rule);
    }

    fn hold(&self, rule: impl Fn(&Request) -> bool + 'static) {
        *self.hold.borrow_mut() = Box::new(rule);
        self.wakeup.wake_all();
    }

    fn release(&self) {
        self.hold(|_| false);
    }

    /// Requests sent of `method` whose URL holds `part`.
    fn sent(&self, method: Method, part: &str) -> usize {
        self.log
            .borrow()
            .iter()
            .filter(|r| r.method == method && r.url.contains(part))
            .count()
    }

    fn clear_log(&self) {
        self.log.borrow_mut().clear();
    }
}

impl Http for Procore {
    async fn send(&self, request: Request, progress: &dyn Fn(u64)) -> Result<Response, Error> {
        self.log.borrow_mut().push(request.clone());
        self.in_flight.set(self.in_flight.get() + 1);
        let _guard = InFlight(self.in_flight.clone());
        self.wakeup.until(&|| !(self.hold.borrow())(&request)).await;
        let fault = (self.fault.borrow_mut())(&request);
        let response = match fault {
            Some(Fault::Answer(status, headers)) => Response {
                status,
                headers,
                body: "{}".into(),
            },
            Some(Fault::Lost) => {
                self.model.borrow_mut().handle(&request);
                return Err(Error::Network {
                    method: request.method.as_str(),
                    url: request.url.clone(),
                    message: "connection reset".into(),
                    cause: None,
                });
            }
            Some(Fault::Race) => {
                self.model.borrow_mut().race(&request);
                self.model.borrow_mut().handle(&request)
            }
            None => self.model.borrow_mut().handle(&request),
        };
        if let Body::Bytes(range) = &request.body {
            progress(range.end - range.start);
        }
        Ok(response)
    }

    async fn sleep(&self, millis: u64) -> Result<(), Error> {
        self.clock.set(self.clock.get() + millis as f64);
        Ok(())
    }

    fn now_ms(&self) -> f64 {
        self.clock.get()
    }

    fn wall_clock_ms(&self) -> u64 {
        1_800_000_000_000 + self.clock.get() as u64
    }

    fn random_token(&self) -> String {
        self.tokens.set(self.tokens.get() + 1);
        format!("tok-{}", self.tokens.get())
    }
}

// ----------------------------------------------------------------- fixtures

/// A tree: its entries (files with their bytes, folders).
struct Tree {
    entries: Vec<Entry>,
    bytes: Vec<Vec<u8>>,
}

fn tree(files: &[(&str, usize)], dirs: &[&str]) -> Tree {
    let mut entries = Vec::new();
    let mut bytes = Vec::new();
    for (n, &(path, size)) in files.iter().enumerate() {
        entries.push(Entry {
            path: path.into(),
            kind: EntryKind::File {
                size: size as u64,
                index: n,
            },
        });
        let mut content = data(size);
        // Each file its own bytes.
        for (i, b) in content.iter_mut().enumerate().take(8) {
            *b = b.wrapping_add(n as u8).wrapping_add(i as u8);
        }
        bytes.push(content);
    }
    for dir in dirs {
        entries.push(Entry {
            path: dir.to_string(),
            kind: EntryKind::Directory,
        });
    }
    Tree { entries, bytes }
}

/// The usual test tree: nested folders, two empty ones, a file at the top.
fn usual() -> Tree {
    tree(
        &[
            ("plans/A/a1.pdf", 10),
            ("plans/A/a2.pdf", 20),
            ("plans/B/b1.pdf", 30),
            ("photos/day 1/p.jpg", 40),
            ("top.txt", 5),
        ],
        &["plans/empty", "plans/B/deeper/deepest"],
    )
}

fn upload_options(project: Option<u64>) -> UploadOptions {
    let mut options = options(ApiVersion::V11, project, 0, Segmented::Yes);
    options.segment_size = Some(SEGMENT as u64);
    options
}

fn level(project: Option<u64>) -> &'static str {
    if project.is_some() {
        "p42"
    } else {
        "c7"
    }
}

fn job(t: &Tree, project: Option<u64>, on_existing: OnExisting, resume: bool) -> TreeJob {
    let plan = plan(&t.entries, None).unwrap();
    let facts = plan
        .files
        .iter()
        .map(|_| FileFacts {
            last_modified: Some(1_700_000_000_000),
            content_type: "application/pdf".into(),
        })
        .collect();
    TreeJob {
        plan,
        facts,
        options: upload_options(project),
        parent_id: None,
        on_existing,
        resume,
    }
}

#[derive(Default)]
struct Seen {
    tree: RefCell<Vec<TreeProgress>>,
    files: RefCell<Vec<(String, Phase)>>,
}

fn reports(seen: &Rc<Seen>) -> TreeReports {
    let (a, b) = (seen.clone(), seen.clone());
    TreeReports {
        tree: Box::new(move |p| a.tree.borrow_mut().push(*p)),
        file: Box::new(move |path, p| b.files.borrow_mut().push((path.to_string(), p.phase))),
        clock: Box::new(|| 0.0),
    }
}

fn limits() -> Limits {
    Limits {
        stall_timeout_ms: 0,
        ..Limits::default()
    }
}

/// The run's future for `t`, handed to `with`.
fn start<'a, S: Store>(
    http: &'a Procore,
    shared: &'a Shared<CountingTokens>,
    store: &'a S,
    hasher: &'a dyn Fn(usize) -> Result<InThread<'a, [u8]>, Error>,
    job: TreeJob,
    seen: &Rc<Seen>,
) -> impl Future<Output = TreeResult> + 'a {
    let reports = reports(seen);
    async move {
        let env = TreeEnv {
            http,
            shared,
            store: Some(store),
            on_store_error: &|error| panic!("store: {error}"),
            hasher,
            file_http: &|_| None,
        };
        upload_tree(&env, job, reports).await
    }
}

/// Runs `job` of `t` to its end.
fn run(http: &Procore, store: &MemoryStore, t: &Tree, job: TreeJob) -> (TreeResult, Rc<Seen>) {
    let shared = Shared::new(tokens(), limits());
    let hasher = |i: usize| Ok(InThread::new(t.bytes[i].as_slice()));
    let seen = Rc::new(Seen::default());
    let result = pollster::block_on(start(http, &shared, store, &hasher, job, &seen));
    (result, seen)
}

/// Runs `job` of `t` until it waits on held requests, then drops it (a reload,
/// `close()`); how many requests were in flight then.
fn run_until_held<S: Store>(http: &Procore, store: &S, t: &Tree, job: TreeJob) -> usize {
    let shared = Shared::new(tokens(), limits());
    let hasher = |i: usize| Ok(InThread::new(t.bytes[i].as_slice()));
    let seen = Rc::new(Seen::default());
    let mut running = pin!(start(http, &shared, store, &hasher, job, &seen));
    assert!(settle(running.as_mut()).is_pending());
    http.in_flight.get()
}

/// Polls `future` until it is done or makes no more progress.
fn settle<F: Future + ?Sized>(mut future: Pin<&mut F>) -> Poll<F::Output> {
    let waker = futures_util::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    for _ in 0..2000 {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return Poll::Ready(output);
        }
    }
    Poll::Pending
}

fn statuses(result: &TreeResult) -> Vec<(String, FileStatus)> {
    result
        .files
        .iter()
        .map(|f| (f.path.clone(), f.status))
        .collect()
}

fn all(result: &TreeResult, status: FileStatus) -> bool {
    result
        .files
        .iter()
        .all(|f| f.status == status && f.error.is_none())
}

/// The usual tree as the model should hold it, each file with `versions`.
fn usual_in_model(versions: usize) -> Vec<String> {
    let mut expected: Vec<String> = [
        "photos/",
        "photos/day 1/",
        "plans/",
        "plans/A/",
        "plans/B/",
        "plans/B/deeper/",
        "plans/B/deeper/deepest/",
        "plans/empty/",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for file in [
        "plans/A/a1.pdf",
        "plans/A/a2.pdf",
        "plans/B/b1.pdf",
        "photos/day 1/p.jpg",
        "top.txt",
    ] {
        expected.push(format!("{file} #{versions}"));
    }
    expected.sort();
    expected
}

/// Every file of `result` went up with its own bytes: its upload's segment
/// digests are those of the file.
fn bytes_checked(http: &Procore, t: &Tree, result: &TreeResult) {
    let model = http.model.borrow();
    let plan = plan(&t.entries, None).unwrap();
    for (file, planned) in result.files.iter().zip(&plan.files) {
        let Some(uuid) = &file.upload_uuid else {
            continue;
        };
        let bytes = &t.bytes[planned.index];
        let expected: Vec<String> = bytes
            .chunks(SEGMENT)
            .map(|c| hash_bytes(c, true).sha256_hex())
            .collect();
        let expected = if expected.is_empty() {
            vec![hash_bytes(&[], true).sha256_hex()]
        } else {
            expected
        };
        assert_eq!(model.uploads[uuid].sha256, expected, "{}", file.path);
        assert!(model.uploads[uuid].complete, "{}", file.path);
    }
}

// -------------------------------------------------------------------- tests

/// A nested tree with empty folders, at project and company level: every folder
/// created once, parents first (the model refuses a create under a parent it does
/// not have), every file attached in its folder with its own bytes; progress ends
/// with every file done.
#[test]
fn a_nested_tree_arrives_as_the_same_tree() {
    for project in [Some(42), None] {
        let http = Procore::new();
        let store = MemoryStore::default();
        // Records of other trees: one a week old (dropped), one of yesterday (kept).
        let now = http.wall_clock_ms();
        let record = |updated: u64| format!(r#"{{"updatedMs":{updated},"format":1}}"#);
        let week = 7 * 24 * 3_600_000;
        let (stale, fresh) = ("procore-upload/tree/x/old", "procore-upload/tree/x/new");
        pollster::block_on(store.put(stale, &record(now - week))).unwrap();
        pollster::block_on(store.put(fresh, &record(now - week / 7))).unwrap();
        let t = usual();
        let (result, seen) = run(
            &http,
            &store,
            &t,
            job(&t, project, OnExisting::Version, false),
        );
        assert!(all(&result, FileStatus::Created), "{result:#?}");
        assert_eq!(http.model.borrow().tree(level(project)), usual_in_model(1));
        assert_eq!(http.sent(Method::Post, "/folders"), 8, "each folder once");
        assert!(result.folders.iter().all(|f| f.created && f.id.is_some()));
        let folder_paths: Vec<&str> = result.folders.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            folder_paths,
            [
                "plans",
                "plans/A",
                "plans/B",
                "photos",
                "photos/day 1",
                "plans/empty",
                "plans/B/deeper",
                "plans/B/deeper/deepest"
            ]
        );
        // Only the top was listed: what this run made holds nothing.
        assert_eq!(http.sent(Method::Get, "/folders"), 1);
        for file in &result.files {
            assert_eq!(file.name.as_deref(), file.path.rsplit('/').next());
            assert!(
                file.file_id.is_some() && file.version_id.is_some(),
                "{file:?}"
            );
        }
        bytes_checked(&http, &t, &result);
        let last = *seen.tree.borrow().last().unwrap();
        assert_eq!(
            (last.files_done, last.files_failed, last.files_total),
            (5, 0, 5)
        );
        assert_eq!(last.bytes.phase, Phase::Done);
        assert_eq!(last.bytes.bytes_uploaded, 105);
        let files = seen.files.borrow();
        for file in &result.files {
            let phases: Vec<Phase> = files
                .iter()
                .filter(|(p, _)| *p == file.path)
                .map(|(_, phase)| *phase)
                .collect();
            assert_eq!(phases.last(), Some(&Phase::Done), "{}", file.path);
            assert_eq!(
                phases.iter().filter(|p| **p == Phase::Done).count(),
                1,
                "done once attached, not before: {}",
                file.path
            );
        }
        let left: Vec<String> = pollster::block_on(store.list())
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(
            left,
            [fresh],
            "all in place: no record of this tree, no state, no stale record"
        );
    }
}

/// A second run of the same tree: every file a new version of itself, no folder
/// created; "rename": new files renamed by Procore; "skip": nothing uploaded;
/// "error": every file fails with NAME_TAKEN, nothing uploaded.
#[test]
fn a_second_run_does_what_on_existing_says() {
    type Check = fn(&Procore, &TreeResult);
    let table: [(OnExisting, Check); 4] = [
        (OnExisting::Version, |http, result| {
            assert!(all(result, FileStatus::Versioned), "{result:#?}");
            assert_eq!(http.model.borrow().tree("p42"), usual_in_model(2));
            assert_eq!(http.sent(Method::Post, "/file_versions?"), 5);
            assert_eq!(http.sent(Method::Post, "/files?"), 0);
            for file in &result.files {
                let model = http.model.borrow();
                let kept = model
                    .files
                    .iter()
                    .find(|f| Some(f.id) == file.file_id)
                    .unwrap();
                assert_eq!(kept.versions[1].0, file.version_id.unwrap());
                assert_eq!(Some(&kept.versions[1].1), file.upload_uuid.as_ref());
            }
        }),
        (OnExisting::Rename, |http, result| {
            assert!(all(result, FileStatus::Renamed), "{result:#?}");
            let names: Vec<&str> = result
                .files
                .iter()
                .map(|f| f.name.as_deref().unwrap())
                .collect();
            assert_eq!(
                names,
                [
                    "a1 (1).pdf",
                    "a2 (1).pdf",
                    "b1 (1).pdf",
                    "p (1).jpg",
                    "top (1).txt"
                ]
            );
            let log = http.log.borrow();
            let creates: Vec<Value> = log
                .iter()
                .filter(|r| r.method == Method::Post && r.url.contains("/files?"))
                .map(|r| body_json(r)["file"]["unique_name"].clone())
                .collect();
            assert_eq!(creates, vec![json!(true); 5]);
            assert_eq!(http.model.borrow().files.len(), 10);
        }),
        (OnExisting::Skip, |http, result| {
            assert!(all(result, FileStatus::Skipped), "{result:#?}");
            assert!(result
                .files
                .iter()
                .all(|f| f.file_id.is_some() && f.upload_uuid.is_none()));
            assert_eq!(http.sent(Method::Post, "/uploads"), 0, "no bytes sent");
            assert_eq!(http.sent(Method::Put, ""), 0);
            assert_eq!(http.model.borrow().tree("p42"), usual_in_model(1));
        }),
        (OnExisting::Error, |http, result| {
            for file in &result.files {
                assert_eq!(file.status, FileStatus::Failed);
                let error = file.error.as_ref().unwrap();
                assert_eq!(error.code(), "NAME_TAKEN", "{error}");
                assert!(error.to_string().contains(&file.path), "{error}");
            }
            assert_eq!(http.sent(Method::Post, "/uploads"), 0, "no bytes sent");
            assert_eq!(http.model.borrow().tree("p42"), usual_in_model(1));
        }),
    ];
    for (policy, check) in table {
        let http = Procore::new();
        let store = MemoryStore::default();
        let t = usual();
        let (first, _) = run(
            &http,
            &store,
            &t,
            job(&t, Some(42), OnExisting::Version, false),
        );
        assert!(all(&first, FileStatus::Created));
        http.clear_log();
        let (second, _) = run(&http, &store, &t, job(&t, Some(42), policy, false));
        assert_eq!(
            http.sent(Method::Post, "/folders"),
            0,
            "{policy:?}: no folder created"
        );
        assert!(second.folders.iter().all(|f| !f.created && f.id.is_some()));
        let ids = |r: &TreeResult| r.folders.iter().map(|f| f.id).collect::<Vec<_>>();
        assert_eq!(ids(&first), ids(&second), "the same folders");
        check(&http, &second);
    }
}

/// Folders already there are reused, the others created under them.
#[test]
fn folders_already_there_are_reused() {
    let http = Procore::new();
    {
        let mut model = http.model.borrow_mut();
        let plans = model.add_folder("p42", None, "plans");
        model.add_folder("p42", Some(plans), "A");
        model.add_folder("p42", None, "unrelated");
    }
    let store = MemoryStore::default();
    let t = usual();
    let (result, _) = run(
        &http,
        &store,
        &t,
        job(&t, Some(42), OnExisting::Version, false),
    );
    assert!(all(&result, FileStatus::Created), "{result:#?}");
    let created: Vec<(&str, bool)> = result
        .folders
        .iter()
        .map(|f| (f.path.as_str(), f.created))
        .collect();
    assert_eq!(
        created,
        [
            ("plans", false),
            ("plans/A", false),
            ("plans/B", true),
            ("photos", true),
            ("photos/day 1", true),
            ("plans/empty", true),
            ("plans/B/deeper", true),
            ("plans/B/deeper/deepest", true)
        ]
    );
    let mut expected = usual_in_model(1);
    expected.push("unrelated/".into());
    expected.sort();
    assert_eq!(http.model.borrow().tree("p42"), expected);
    assert_eq!(http.sent(Method::Post, "/folders"), 6);
}

/// Another client makes a folder while this run creates it (422): the parent is
/// listed again and the folder reused. Another makes a file of the same name
/// while this run attaches it (422): the folder is listed again and the file
/// becomes a new version of it.
#[test]
fn creates_racing_another_client_reuse_and_version() {
    let http = Procore::new();
    let (mut folders, mut files) = (0, 0);
    http.faults(move |r| {
        if r.method != Method::Post {
            return None;
        }
        if r.url.contains("/folders?") {
            folders += 1;
            return (folders == 1).then_some(Fault::Race);
        }
        if r.url.contains("/files?") {
            files += 1;
            return (files == 1).then_some(Fault::Race);
        }
        None
    });
    let store = MemoryStore::default();
    let t = usual();
    let (result, _) = run(
        &http,
        &store,
        &t,
        job(&t, Some(42), OnExisting::Version, false),
    );
    let raced = &result.folders[0];
    assert_eq!((raced.path.as_str(), raced.created), ("plans", false));
    assert!(result.folders[1..].iter().all(|f| f.created));
    let versioned: Vec<&str> = result
        .files
        .iter()
        .filter(|f| f.status == FileStatus::Versioned)
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(versioned.len(), 1, "{result:#?}");
    assert_eq!(
        result
            .files
            .iter()
            .filter(|f| f.status == FileStatus::Created)
            .count(),
        4
    );
    // One folder and one file per name; the raced file with the other client's
    // version and this run's.
    let mut expected = usual_in_model(1);
    let racer = expected
        .iter_mut()
        .find(|e| e.starts_with(versioned[0]))
        .unwrap();
    *racer = format!("{} #2", versioned[0]);
    assert_eq!(http.model.borrow().tree("p42"), expected);
    // The folder's create and the file's create, each answered once "taken".
    assert_eq!(http.sent(Method::Post, "/folders?"), 8);
    assert_eq!(http.sent(Method::Post, "/files?"), 5);
    assert_eq!(
        http.sent(Method::Post, "/uploads"),
        5,
        "the raced file's bytes sent once"
    );
}

/// 429 and 503 on folder listings and creates, file creates and versions, and
/// answers lost after the work was done (replays with the same
/// Idempotency-Token answer the same): all retried, nothing made twice.
#[test]
fn faults_on_documents_calls_are_retried_without_duplicates() {
    for lost in [false, true] {
        let http = Procore::new();
        let store = MemoryStore::default();
        let t = usual();
        let (first, _) = run(
            &http,
            &store,
            &t,
            job(&t, Some(42), OnExisting::Version, false),
        );
        assert!(all(&first, FileStatus::Created));
        // Twice over: a tree made afresh at company level, and versions of the
        // project tree.
        for project in [None, Some(42)] {
            let mut seen: HashSet<String> = HashSet::new();
            let mut n = 0;
            http.faults(move |r| {
                if r.target == Target::Storage || r.url.contains("/uploads") {
                    return None;
                }
                n += 1;
                if lost {
                    let token = r
                        .headers
                        .iter()
                        .find(|(k, _)| k == "Idempotency-Token")
                        .map(|(_, v)| v.clone())?;
                    return seen.insert(token).then_some(Fault::Lost);
                }
                match n % 3 {
                    0 => Some(Fault::Answer(429, vec![("Retry-After".into(), "1".into())])),
                    1 => Some(Fault::Answer(503, Vec::new())),
                    _ => None,
                }
            });
            http.clear_log();
            let (result, _) = run(
                &http,
                &store,
                &t,
                job(&t, project, OnExisting::Version, false),
            );
            let expected = if project.is_some() {
                FileStatus::Versioned
            } else {
                FileStatus::Created
            };
            assert!(all(&result, expected), "lost {lost}: {result:#?}");
            let versions = if project.is_some() { 2 } else { 1 };
            assert_eq!(
                http.model.borrow().tree(level(project)),
                usual_in_model(versions),
                "lost {lost}"
            );
            let retried = http.log.borrow().len();
            assert!(retried > 20, "faults were met: {retried} requests");
            http.faults(|_| None);
        }
    }
}

/// One file's storage refuses its bytes: that file fails with the storage's
/// answer, the others are in place.
#[test]
fn one_file_failing_leaves_the_others_in_place() {
    let http = Procore::new();
    http.model
        .borrow_mut()
        .storage_fails
        .insert("a2.pdf".into());
    let store = MemoryStore::default();
    let t = usual();
    let seen;
    let result;
    (result, seen) = run(
        &http,
        &store,
        &t,
        job(&t, Some(42), OnExisting::Version, false),
    );
    for file in &result.files {
        if file.path == "plans/A/a2.pdf" {
            assert_eq!(file.status, FileStatus::Failed);
            let error = file.error.as_ref().unwrap();
            assert_eq!(error.http().map(|(status, _)| status), Some(400), "{error}");
        } else {
            assert_eq!(file.status, FileStatus::Created, "{file:?}");
        }
    }
    let expected: Vec<String> = usual_in_model(1)
        .into_iter()
        .filter(|e| !e.starts_with("plans/A/a2.pdf"))
        .collect();
    assert_eq!(http.model.borrow().tree("p42"), expected);
    let last = *seen.tree.borrow().last().unwrap();
    assert_eq!((last.files_done, last.files_failed), (4, 1));
    // Kept for a resume: the record of what is in place.
    let keys: Vec<String> = pollster::block_on(store.list())
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert!(
        keys.iter().any(|k| k.starts_with("procore-upload/tree/")),
        "{keys:?}"
    );
    // Pruning keeps the record as written.
    pollster::block_on(prune(&store, http.wall_clock_ms())).unwrap();
    let kept = pollster::block_on(store.list()).unwrap();
    assert!(
        kept.iter()
            .any(|(k, _)| k.starts_with("procore-upload/tree/")),
        "{kept:?}"
    );
}

/// A folder that cannot be made fails every file below it; the rest arrive.
#[test]
fn a_folder_failing_fails_what_is_below_it() {
    let http = Procore::new();
    http.faults(|r| {
        let body = match &r.body {
            Body::Json(text) => text.clone(),
            _ => String::new(),
        };
        (r.method == Method::Post && r.url.contains("/folders?") && body.contains("\"B\""))
            .then(|| Fault::Answer(403, Vec::new()))
    });
    let store = MemoryStore::default();
    let t = usual();
    let (result, _) = run(
        &http,
        &store,
        &t,
        job(&t, Some(42), OnExisting::Version, false),
    );
    let failed: Vec<&str> = result
        .folders
        .iter()
        .filter(|f| f.error.is_some())
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(
        failed,
        ["plans/B", "plans/B/deeper", "plans/B/deeper/deepest"]
    );
    for folder in result.folders.iter().filter(|f| f.error.is_some()) {
        let error = folder.error.as_ref().unwrap();
        assert_eq!(error.http().map(|(status, _)| status), Some(403), "{error}");
    }
    let b1 = result
        .files
        .iter()
        .find(|f| f.path == "plans/B/b1.pdf")
        .unwrap();
    assert_eq!(
        b1.error.as_ref().and_then(|e| e.http()).map(|(s, _)| s),
        Some(403)
    );
    let got = statuses(&result);
    for (path, status) in &got {
        let below = path.starts_with("plans/B/");
        assert_eq!(
            *status,
            if below {
                FileStatus::Failed
            } else {
                FileStatus::Created
            },
            "{path}"
        );
    }
    assert_eq!(
        http.sent(Method::Post, "/uploads"),
        4,
        "nothing sent for b1"
    );
}

/// Dropping the run mid-way stops everything at once: nothing left in flight,
/// no request after it.
#[test]
fn dropping_the_run_stops_everything() {
    let http = Procore::new();
    // Every storage PUT waits: the uploads are under way.
    http.hold(|r| r.method == Method::Put);
    let store = MemoryStore::default();
    let t = usual();
    let shared = Shared::new(tokens(), limits());
    let hasher = |i: usize| Ok(InThread::new(t.bytes[i].as_slice()));
    let seen = Rc::new(Seen::default());
    {
        let mut running = pin!(start(
            &http,
            &shared,
            &store,
            &hasher,
            job(&t, Some(42), OnExisting::Version, false),
            &seen
        ));
        assert!(settle(running.as_mut()).is_pending());
        assert!(http.in_flight.get() >= 1, "PUTs held");
        assert!(http.sent(Method::Put, "") >= 1);
    }
    assert_eq!(http.in_flight.get(), 0, "everything dropped");
    let sent = http.log.borrow().len();
    http.release();
    assert_eq!(http.log.borrow().len(), sent, "no request after the drop");
    assert_eq!(http.sent(Method::Post, "/files?"), 0);
}

/// An interrupted run goes on with `resume`: files it placed are not sent again
/// (reported with their recorded status), a half-sent file sends only its
/// missing parts, a file whose upload was made and not sent sends it on that
/// upload. Task states are kept under keys of the files' paths.
#[test]
fn a_resumed_run_skips_what_is_in_place_and_sends_what_is_missing() {
    let http = Procore::new();
    let store = MemoryStore::default();
    let big = 2 * SEGMENT + 10;
    let t = tree(
        &[
            ("a/small.txt", 10),
            ("a/big.bin", big),
            ("b/small.txt", 10),
            ("b/late.txt", 7),
        ],
        &[],
    );
    // The first run: big.bin's second part and late.txt's bytes wait; the small
    // files get placed; then the run is dropped (a reload, close()).
    http.hold(|r| r.method == Method::Put && (r.url.contains("/part/1") || r.url.contains("U4/")));
    assert_eq!(
        run_until_held(
            &http,
            &store,
            &t,
            job(&t, Some(42), OnExisting::Version, true)
        ),
        2,
        "big.bin's part 1 and late.txt held"
    );
    let kept: Vec<String> = pollster::block_on(store.list())
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    // late.txt, smaller than KEEP_STATE_FROM, keeps no state: it is sent again.
    assert_eq!(
        kept.len(),
        2,
        "the tree record and big.bin's task state: {kept:?}"
    );
    assert!(kept.iter().any(|k| k.ends_with("/a/big.bin")), "{kept:?}");
    let uploads = http.model.borrow().uploads.clone();
    assert_eq!(uploads["U4"].name, "late.txt", "the upload held whole");
    assert_eq!(
        http.model.borrow().tree("p42"),
        ["a/", "a/small.txt #1", "b/", "b/small.txt #1"]
    );
    let big_uuid = uploads
        .iter()
        .find(|(_, u)| u.name == "big.bin")
        .map(|(k, _)| k.clone())
        .unwrap();
    // The parts storage has not got: what the resumed run must send.
    let missing: Vec<String> = uploads[&big_uuid]
        .etags
        .iter()
        .enumerate()
        .filter(|(_, etag)| etag.is_none())
        .map(|(i, _)| format!("https://storage.test/{big_uuid}/part/{i}"))
        .collect();
    assert!(!missing.is_empty() && missing.len() < 3, "{missing:?}");
    http.release();
    http.clear_log();

    let (result, _) = run(
        &http,
        &store,
        &t,
        job(&t, Some(42), OnExisting::Version, true),
    );
    assert_eq!(
        statuses(&result),
        [
            ("a/small.txt".to_string(), FileStatus::Created),
            ("a/big.bin".to_string(), FileStatus::Created),
            ("b/small.txt".to_string(), FileStatus::Created),
            ("b/late.txt".to_string(), FileStatus::Created),
        ],
        "{result:#?}"
    );
    assert_eq!(
        http.model.borrow().tree("p42"),
        [
            "a/",
            "a/big.bin #1",
            "a/small.txt #1",
            "b/",
            "b/late.txt #1",
            "b/small.txt #1"
        ]
    );
    let puts: Vec<String> = http
        .log
        .borrow()
        .iter()
        .filter(|r| r.method == Method::Put)
        .map(|r| r.url.split('?').next().unwrap().to_string())
        .collect();
    // big.bin: only its missing parts, on its first upload; late.txt whole, on a
    // new upload.
    let big_puts: Vec<String> = puts
        .iter()
        .filter(|u| u.contains(&format!("/{big_uuid}/")))
        .cloned()
        .collect();
    assert_eq!(big_puts, missing, "{puts:?}");
    assert_eq!(
        puts.iter().filter(|u| u.contains("/U4/")).count(),
        0,
        "late.txt's held upload left: {puts:?}"
    );
    assert_eq!(puts.len(), big_puts.len() + 1, "{puts:?}");
    assert_eq!(
        http.sent(Method::Post, "/uploads"),
        1,
        "late.txt's upload made again, big.bin's not"
    );
    assert_eq!(
        http.sent(Method::Post, "/files?"),
        2,
        "big.bin and late.txt attached"
    );
    bytes_checked(&http, &t, &result);
    assert!(
        pollster::block_on(store.list()).unwrap().is_empty(),
        "all in place: nothing kept"
    );
}

/// Without `resume`, what is there is decided by onExisting, whatever a record
/// says.
#[test]
fn without_resume_on_existing_decides() {
    let http = Procore::new();
    http.model
        .borrow_mut()
        .storage_fails
        .insert("a2.pdf".into());
    let store = MemoryStore::default();
    let t = usual();
    let (first, _) = run(
        &http,
        &store,
        &t,
        job(&t, Some(42), OnExisting::Version, false),
    );
    assert_eq!(first.files[1].status, FileStatus::Failed);
    http.model.borrow_mut().storage_fails.clear();
    let (second, _) = run(
        &http,
        &store,
        &t,
        job(&t, Some(42), OnExisting::Version, false),
    );
    let got = statuses(&second);
    for (path, status) in got {
        let expected = if path == "plans/A/a2.pdf" {
            FileStatus::Created
        } else {
            FileStatus::Versioned
        };
        assert_eq!(status, expected, "{path}");
    }
}

/// Sixty files in twenty folders, every folder call and Documents create under a
/// mix of faults (lost answers, 429, 503, another client taking a folder's or a
/// file's name first), many files waiting on the same folders at once: every
/// folder once, every file once (a raced one with the other client's version and
/// this run's), every file's bytes its own.
#[test]
fn many_files_under_mixed_faults_make_nothing_twice() {
    let mut files = Vec::new();
    for n in 0..60 {
        let path = match n % 4 {
            0 => format!("d{}/f{n}.txt", n % 5),
            1 => format!("d{}/s{}/f{n}.txt", n % 5, n % 3),
            2 => format!("d{}/s{}/t/f{n}.txt", n % 5, n % 3),
            _ => format!("f{n}.txt"),
        };
        files.push((path, 3 + n));
    }
    let borrowed: Vec<(&str, usize)> = files.iter().map(|(p, s)| (p.as_str(), *s)).collect();
    let t = tree(&borrowed, &["d0/empty", "e/f/g"]);
    let http = Procore::new();
    let (mut n, mut folders, mut creates) = (0, 0, 0);
    let mut seen: HashSet<String> = HashSet::new();
    http.faults(move |r| {
        if r.target == Target::Storage || r.url.contains("/uploads") {
            return None;
        }
        n += 1;
        if r.method == Method::Post && r.url.contains("/folders?") {
            folders += 1;
            if folders % 5 == 2 {
                return Some(Fault::Race);
            }
        }
        if r.method == Method::Post && r.url.contains("/files?") {
            creates += 1;
            if creates % 9 == 4 {
                return Some(Fault::Race);
            }
        }
        match n % 7 {
            0 if r.method == Method::Post => {
                let token = r
                    .headers
                    .iter()
                    .find(|(k, _)| k == "Idempotency-Token")
                    .map(|(_, v)| v.clone())?;
                seen.insert(token).then_some(Fault::Lost)
            }
            2 => Some(Fault::Answer(503, Vec::new())),
            4 => Some(Fault::Answer(429, vec![("Retry-After".into(), "2".into())])),
            _ => None,
        }
    });
    let store = MemoryStore::default();
    let job = job(&t, Some(42), OnExisting::Version, false);
    let folder_count = job.plan.folders.len();
    let (result, seen) = run(&http, &store, &t, job);
    let model_tree = http.model.borrow().tree("p42");
    let mut unique = model_tree.clone();
    unique.dedup();
    assert_eq!(unique, model_tree, "nothing twice");
    let (model_folders, model_files): (Vec<&String>, Vec<&String>) =
        model_tree.iter().partition(|e| e.ends_with('/'));
    assert_eq!(model_folders.len(), folder_count);
    assert_eq!(model_files.len(), 60);
    assert!(result
        .folders
        .iter()
        .all(|f| f.id.is_some() && f.error.is_none()));
    let mut versioned = 0;
    for file in &result.files {
        let versions = if file.status == FileStatus::Versioned {
            versioned += 1;
            2
        } else {
            assert_eq!(file.status, FileStatus::Created, "{file:?}");
            1
        };
        assert!(
            model_tree.contains(&format!("{} #{versions}", file.path)),
            "{file:?}"
        );
    }
    assert!(versioned > 0, "a file create was raced");
    assert!(
        result.folders.iter().any(|f| !f.created),
        "a folder create was raced"
    );
    bytes_checked(&http, &t, &result);
    let last = *seen.tree.borrow().last().unwrap();
    assert_eq!((last.files_done, last.files_total), (60, 60));
}

/// A file whose bytes were all sent but which was not attached when the run
/// stopped is attached by the resumed run on that same upload, its bytes not
/// sent again; an upload that cannot be attached is forgotten, so the next run
/// sends the bytes again.
#[test]
fn a_resumed_run_attaches_an_upload_already_made() {
    let http = Procore::new();
    let store = MemoryStore::default();
    let t = tree(&[("a/x.txt", 10), ("a/y.txt", 12)], &[]);
    http.hold(|r| attaches(r, "y.txt"));
    assert_eq!(
        run_until_held(
            &http,
            &store,
            &t,
            job(&t, Some(42), OnExisting::Version, true)
        ),
        1,
        "y.txt's attach held"
    );
    let y_upload = http
        .model
        .borrow()
        .uploads
        .iter()
        .find(|(_, u)| u.name == "y.txt")
        .map(|(k, u)| (k.clone(), u.complete))
        .unwrap();
    assert!(y_upload.1, "y.txt's bytes are all up");
    http.release();
    http.clear_log();
    // The second run: y.txt's attach refused once (a 400), then a third run.
    let mut refused = false;
    http.faults(move |r| {
        (attaches(r, "y.txt") && !std::mem::replace(&mut refused, true))
            .then(|| Fault::Answer(400, Vec::new()))
    });
    let (second, _) = run(
        &http,
        &store,
        &t,
        job(&t, Some(42), OnExisting::Version, true),
    );
    assert_eq!(
        second.files[0].status,
        FileStatus::Created,
        "x.txt from the record"
    );
    assert_eq!(second.files[1].status, FileStatus::Failed);
    assert_eq!(
        second.files[1].upload_uuid.as_deref(),
        Some(y_upload.0.as_str())
    );
    assert_eq!(
        http.sent(Method::Post, "/uploads"),
        0,
        "y.txt's upload reused"
    );
    assert_eq!(http.sent(Method::Put, ""), 0, "no bytes sent");
    assert_eq!(http.sent(Method::Post, "/files?"), 1);
    http.clear_log();
    let (third, _) = run(
        &http,
        &store,
        &t,
        job(&t, Some(42), OnExisting::Version, true),
    );
    assert_eq!(
        statuses(&third)[1],
        ("a/y.txt".to_string(), FileStatus::Created)
    );
    assert_ne!(
        third.files[1].upload_uuid.as_deref(),
        Some(y_upload.0.as_str())
    );
    assert_eq!(
        http.sent(Method::Post, "/uploads"),
        1,
        "y.txt's bytes sent again"
    );
    assert_eq!(http.sent(Method::Post, "/files?"), 1);
    assert_eq!(
        http.model.borrow().tree("p42"),
        ["a/", "a/x.txt #1", "a/y.txt #1"]
    );
    assert!(pollster::block_on(store.list()).unwrap().is_empty());
}

/// Whether `r` is the attach call (`POST files`) of the file named `name`.
fn attaches(r: &Request, name: &str) -> bool {
    r.method == Method::Post
        && r.url.contains("/files?")
        && matches!(&r.body, Body::Json(text) if text.contains(&format!("\"{name}\"")))
}

fn token_of(r: &Request) -> Option<String> {
    r.headers
        .iter()
        .find(|(k, _)| k == "Idempotency-Token")
        .map(|(_, v)| v.clone())
}

#[test]
fn an_attach_whose_answers_were_all_lost_is_sent_again_as_it_was() {
    let http = Procore::new();
    let store = MemoryStore::default();
    let t = tree(&[("a/x.txt", 10), ("a/y.txt", 12)], &[]);
    // Every answer to y.txt's create is lost (Procore made the file each time it
    // could): the retries run out and y.txt fails.
    http.faults(|r| attaches(r, "y.txt").then_some(Fault::Lost));
    let (first, _) = run(
        &http,
        &store,
        &t,
        job(&t, Some(42), OnExisting::Version, true),
    );
    assert_eq!(first.files[1].status, FileStatus::Failed);
    let sent_first: Vec<Option<String>> = http
        .log
        .borrow()
        .iter()
        .filter(|r| attaches(r, "y.txt"))
        .map(token_of)
        .collect();
    assert!(sent_first.len() > 1, "retried: {sent_first:?}");
    http.faults(|_| None);
    http.clear_log();
    // The next run sends that very call again (same token, same body): Procore
    // answers what it did then, and nothing is made twice.
    let (second, _) = run(
        &http,
        &store,
        &t,
        job(&t, Some(42), OnExisting::Version, true),
    );
    assert_eq!(
        statuses(&second)[1],
        ("a/y.txt".to_string(), FileStatus::Created)
    );
    let sent_second: Vec<Option<String>> = http
        .log
        .borrow()
        .iter()
        .filter(|r| attaches(r, "y.txt"))
        .map(token_of)
        .collect();
    assert_eq!(sent_second, sent_first[..1]);
    assert_eq!(
        http.sent(Method::Post, "/uploads"),
        0,
        "no bytes sent again"
    );
    assert_eq!(http.sent(Method::Post, "/file_versions"), 0);
    assert_eq!(
        http.model.borrow().tree("p42"),
        ["a/", "a/x.txt #1", "a/y.txt #1"]
    );
    assert!(pollster::block_on(store.list()).unwrap().is_empty());
}

#[test]
fn an_attach_on_its_way_when_the_page_went_is_sent_again_as_it_was() {
    let http = Procore::new();
    let store = MemoryStore::default();
    let t = tree(&[("a/x.txt", 10), ("a/y.txt", 12)], &[]);
    http.hold(|r| attaches(r, "y.txt"));
    assert_eq!(
        run_until_held(
            &http,
            &store,
            &t,
            job(&t, Some(42), OnExisting::Version, true)
        ),
        1,
        "y.txt's attach on its way"
    );
    // The page went; Procore got the call and made the file all the same.
    let held = http
        .log
        .borrow()
        .iter()
        .find(|r| attaches(r, "y.txt"))
        .cloned()
        .unwrap();
    http.model.borrow_mut().handle(&held);
    http.release();
    http.clear_log();
    let (second, _) = run(
        &http,
        &store,
        &t,
        job(&t, Some(42), OnExisting::Rename, true),
    );
    assert_eq!(
        statuses(&second)[1],
        ("a/y.txt".to_string(), FileStatus::Created)
    );
    let again: Vec<Request> = http
        .log
        .borrow()
        .iter()
        .filter(|r| attaches(r, "y.txt"))
        .cloned()
        .collect();
    assert_eq!(again.len(), 1);
    assert_eq!(token_of(&again[0]), token_of(&held));
    assert_eq!(again[0].body, held.body);
    assert_eq!(
        http.model.borrow().tree("p42"),
        ["a/", "a/x.txt #1", "a/y.txt #1"],
        "no renamed copy, no second version"
    );
}

/// A store whose tree record writes wait while `held` (a slow IndexedDB).
#[derive(Default)]
struct SlowRecords {
    inner: MemoryStore,
    held: Cell<bool>,
    wakeup: Wakeup,
}

impl Store for SlowRecords {
    async fn run<'a>(&'a self, op: Op<'a>) -> Result<Vec<(String, String)>, Error> {
        if matches!(op, Op::Put(key, _) if key.starts_with(TREE_KEY_PREFIX)) {
            self.wakeup.until(&|| !self.held.get()).await;
        }
        self.inner.run(op).await
    }
}

#[test]
fn an_attach_call_waits_until_the_record_holds_it() {
    let http = Procore::new();
    let store = SlowRecords::default();
    store.held.set(true);
    let t = tree(&[("a/x.txt", 10)], &[]);
    let shared = Shared::new(tokens(), limits());
    let hasher = |i: usize| Ok(InThread::new(t.bytes[i].as_slice()));
    let seen = Rc::new(Seen::default());
    let job = job(&t, Some(42), OnExisting::Version, true);
    let mut running = pin!(start(&http, &shared, &store, &hasher, job, &seen));
    assert!(settle(running.as_mut()).is_pending());
    assert_eq!(http.sent(Method::Put, ""), 1, "x.txt's bytes are up");
    assert_eq!(
        http.sent(Method::Post, "/files?"),
        0,
        "not sent before it is kept"
    );
    store.held.set(false);
    store.wakeup.wake_all();
    let Poll::Ready(result) = settle(running.as_mut()) else {
        panic!("the run ends once the record is written");
    };
    assert_eq!(
        statuses(&result)[0],
        ("a/x.txt".to_string(), FileStatus::Created)
    );
    assert_eq!(http.sent(Method::Post, "/files?"), 1);
}

#[test]
fn a_replayed_create_whose_name_was_taken_meanwhile_is_decided_again() {
    let http = Procore::new();
    let store = MemoryStore::default();
    let t = tree(&[("a/y.txt", 12)], &[]);
    http.hold(|r| attaches(r, "y.txt"));
    assert_eq!(
        run_until_held(
            &http,
            &store,
            &t,
            job(&t, Some(42), OnExisting::Version, true)
        ),
        1,
        "y.txt's attach on its way"
    );
    // The call never reached Procore; another client made a/y.txt meanwhile.
    http.release();
    {
        let mut model = http.model.borrow_mut();
        let a = model.folder_at("p42", None, "a").unwrap();
        model.add_file("p42", Some(a), "y.txt", "other-client");
    }
    http.clear_log();
    let shared = Shared::new(tokens(), limits());
    let hasher = |i: usize| Ok(InThread::new(t.bytes[i].as_slice()));
    let seen = Rc::new(Seen::default());
    let job = job(&t, Some(42), OnExisting::Version, true);
    let mut running = pin!(start(&http, &shared, &store, &hasher, job, &seen));
    let Poll::Ready(result) = settle(running.as_mut()) else {
        panic!("the run waits for a listing nobody was woken to send");
    };
    assert_eq!(
        statuses(&result),
        [("a/y.txt".to_string(), FileStatus::Versioned)]
    );
    assert_eq!(http.sent(Method::Post, "/files?"), 1, "the replay, refused");
    assert_eq!(http.sent(Method::Post, "/file_versions"), 1);
    assert_eq!(http.model.borrow().tree("p42"), ["a/", "a/y.txt #2"]);
}
