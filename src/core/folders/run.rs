//! The runner of `uploadFolder`: a [`Plan`] into Procore Documents. Folders are
//! looked up and made as the [`Scheduler`] says, through the client's
//! [`ApiClient`] (its 429 hold, retries and `Idempotency-Token`s), while the files
//! upload, each as a [`Task`] (the client's sending turns, its store of states);
//! a file waits for its folder, then [`existing::decide`] says what it becomes,
//! and once its bytes are up it is attached in place (`POST files`) or as a new
//! version (`POST file_versions`).
//!
//! One file failing does not stop the others; a folder failing fails every file
//! below it. Dropping the run's future stops everything at once (what is in flight
//! is dropped). What the run put in place is kept in a tree record
//! ([`tree_fingerprint`]), so that a run with `resume` skips it, and each file's
//! task state is kept under a key of its path, so a half-sent file goes on.
//!
//! Generic over the same seams as [`super::super::task`]: no JS here.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use futures_util::future::{join, join_all, FutureExt, LocalBoxFuture};

use super::super::api::{ApiClient, IDEMPOTENCY_TOKEN};
use super::super::engine::{prepare, Phase, Progress, ProgressTracker, UploadOptions};
use super::super::hash::HashBackend;
use super::super::http::{Http, Method, Tokens};
use super::super::json::{quote, Json};
use super::super::runtime::{Shared, Wakeup};
use super::super::state::{stale_tree_records, tree_fingerprint, FileIdentity, Store, TreeEntry};
use super::super::task::{Env, ResumeFrom, Task};
use super::super::Error;
use super::existing::{self, FileAction, Listing, OnExisting};
use super::plan::{Plan, PlannedFile};
use super::report::{FileResult, FileStatus, TreeProgress, TreeResult, TreeTracker};
use super::scheduler::{Scheduler, Step, Target};

/// Folder calls (listings, creates) sent at once.
pub const FOLDER_CALLS: usize = 4;

/// The format of a tree record.
const RECORD_FORMAT: u64 = 1;

/// What the browser says of a file beyond its path and size.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileFacts {
    /// `File.lastModified`, when there is one.
    pub last_modified: Option<u64>,
    /// The type as picked (may be empty).
    pub content_type: String,
}

/// A tree to upload.
#[derive(Debug, Clone)]
pub struct TreeJob {
    /// The checked entries.
    pub plan: Plan,
    /// Per file of the plan, in its order.
    pub facts: Vec<FileFacts>,
    /// The upload options every file goes with (its scope says the company and
    /// the project; the file's own name, size and type replace `file`'s).
    pub options: UploadOptions,
    /// The folder the tree goes into; `None`: the Documents root.
    pub parent_id: Option<u64>,
    /// What becomes of a file whose name is taken.
    pub on_existing: OnExisting,
    /// Go on from what a run of the same entries put in place (`resume: "auto"`).
    pub resume: bool,
}

impl TreeJob {
    /// The key its record is kept under.
    pub fn record_key(&self) -> String {
        let scope = &self.options.scope;
        let mut entries = Vec::with_capacity(self.plan.folders.len() + self.plan.files.len());
        for folder in &self.plan.folders {
            entries.push(TreeEntry {
                path: &folder.path,
                size: None,
                last_modified: None,
            });
        }
        for (n, file) in self.plan.files.iter().enumerate() {
            entries.push(TreeEntry {
                path: &file.path,
                size: Some(file.size),
                last_modified: self.facts.get(n).and_then(|facts| facts.last_modified),
            });
        }
        tree_fingerprint(
            &super::super::engine::state_scope(scope),
            self.parent_id,
            &entries,
        )
    }
}

/// Where each file's progress goes: its path, its progress.
pub type FileReport = Box<dyn Fn(&str, &Progress)>;

/// Where a tree's progress goes.
pub struct TreeReports {
    /// The whole tree's, paced.
    pub tree: Box<dyn Fn(&TreeProgress)>,
    /// Each file's (its path, its progress).
    pub file: FileReport,
    /// Ms, for the speeds.
    pub clock: Box<dyn Fn() -> f64>,
}

/// The environment a tree runs in.
pub struct TreeEnv<'a, H, T, S: ?Sized, B> {
    /// Requests and waits.
    pub http: &'a H,
    /// The client's tokens, slots and 429 hold.
    pub shared: &'a Shared<T>,
    /// Where task states and the tree record are kept; `None`: not kept.
    pub store: Option<&'a S>,
    /// Told when the store fails (the upload goes on).
    pub on_store_error: &'a dyn Fn(&Error),
    /// The hashing of the caller's file `index` ([`super::plan::PlannedFile::index`]).
    pub hasher: &'a dyn Fn(usize) -> Result<B, Error>,
    /// The transport of the caller's file `index`, when its bytes are cut from a
    /// file of its own (the browser's: one `Blob` per `File`); `None`: `http`.
    /// A file's task sends all its requests through it.
    pub file_http: &'a dyn Fn(usize) -> Option<&'a H>,
}

/// A file in place, as the record keeps it.
#[derive(Debug, Clone)]
struct Placed {
    path: String,
    status: FileStatus,
    file_id: Option<u64>,
    version_id: Option<u64>,
    name: Option<String>,
    upload_uuid: Option<String>,
}

fn status_of(text: &str) -> Option<FileStatus> {
    [
        FileStatus::Created,
        FileStatus::Versioned,
        FileStatus::Renamed,
        FileStatus::Skipped,
    ]
    .into_iter()
    .find(|status| status.as_str() == text)
}

/// An attach call (`POST files` or `file_versions`) as sent: written to the
/// record before it goes, so that a run after a lost answer (or a reload while it
/// was on its way) sends the very same call again, with the same
/// `Idempotency-Token`, and Procore acts on it once.
#[derive(Debug, Clone)]
struct AttachCall {
    /// Path and query, after the base URL.
    call: String,
    /// The file a version is for; `None`: a file create.
    file_id: Option<u64>,
    body: String,
    token: String,
}

/// What a record says (nothing for a record unreadable or of another format).
#[derive(Default)]
struct Record {
    /// The files in place.
    placed: Vec<Placed>,
    /// The uploads made for files not attached yet (path, upload uuid).
    uploads: Vec<(String, String)>,
    /// The attach calls sent whose answer never came (path, call).
    attaching: Vec<(String, AttachCall)>,
}

fn read_record(text: &str) -> Record {
    let mut record = Record::default();
    let Ok(json) = Json::parse(text) else {
        return record;
    };
    if json.get("format").and_then(Json::as_u64) != Some(RECORD_FORMAT) {
        return record;
    }
    let members = |key: &str| json.get(key).and_then(Json::as_object).unwrap_or(&[]);
    for (path, uuid) in members("uploads") {
        if let Some(uuid) = uuid.as_str() {
            record.uploads.push((path.clone(), uuid.to_string()));
        }
    }
    for (path, call) in members("attaching") {
        let text = |key: &str| call.get(key).and_then(Json::as_str).map(str::to_string);
        if let (Some(target), Some(body), Some(token)) = (text("call"), text("body"), text("token"))
        {
            let file_id = call.get("fileId").and_then(Json::as_u64);
            let call = AttachCall {
                call: target,
                file_id,
                body,
                token,
            };
            record.attaching.push((path.clone(), call));
        }
    }
    for (path, file) in members("files") {
        let text = |key: &str| file.get(key).and_then(Json::as_str).map(str::to_string);
        let Some(status) = text("status").as_deref().and_then(status_of) else {
            continue;
        };
        record.placed.push(Placed {
            path: path.clone(),
            status,
            file_id: file.get("fileId").and_then(Json::as_u64),
            version_id: file.get("versionId").and_then(Json::as_u64),
            name: text("name"),
            upload_uuid: text("uploadUuid"),
        });
    }
    record
}

/// One run of a tree, shared by its folder workers, its files and its writer.
struct Run {
    job: TreeJob,
    scheduler: RefCell<Scheduler>,
    results: RefCell<Vec<Option<FileResult>>>,
    /// Files in place (from the record read, and placed by this run).
    placed: RefCell<Vec<Placed>>,
    /// Uploads done for files not attached yet (path, uuid): a resumed run
    /// attaches them without sending the bytes again.
    uploads: RefCell<Vec<(String, String)>>,
    /// Attach calls sent and not answered yet (path, call): kept in the record
    /// until their answer comes, so that a later run sends them again as they were.
    attaching: RefCell<Vec<(String, AttachCall)>>,
    tracker: Rc<RefCell<TreeTracker>>,
    reports: Rc<TreeReports>,
    files_left: Cell<usize>,
    steps_running: Cell<usize>,
    /// Changes made to the record, and how many of them the store has (written
    /// or failed): the record is written again while they differ, and an attach
    /// call waits until it is in the record.
    changed: Cell<u64>,
    written: Cell<u64>,
    ended: Cell<bool>,
    changes: Wakeup,
}

/// Uploads the tree `job` says: every folder of the plan looked up or made, every
/// file uploaded and attached in place (or skipped, or failed). Resolves once all
/// is settled; dropped before, it stops everything (nothing more is sent; task
/// states and the record stay as last written).
pub async fn upload_tree<H: Http, T: Tokens, S: Store + ?Sized, B: HashBackend>(
    env: &TreeEnv<'_, H, T, S, B>,
    job: TreeJob,
    reports: TreeReports,
) -> TreeResult {
    let key = job.record_key();
    if let Some(store) = env.store {
        drop_stale_records(store, env.http.wall_clock_ms(), env.on_store_error).await;
    }
    let mut record = Record::default();
    if let (true, Some(store)) = (job.resume, env.store) {
        match store.get(&key).await {
            Ok(Some(text)) => record = read_record(&text),
            Ok(None) => {}
            Err(error) => (env.on_store_error)(&error),
        }
    }
    let count = job.plan.files.len();
    let tracker = Rc::new(RefCell::new(TreeTracker::new(&job.plan)));
    let run = Run {
        scheduler: RefCell::new(Scheduler::new(job.plan.clone(), job.parent_id)),
        results: RefCell::new(vec![None; count]),
        placed: RefCell::new(record.placed),
        uploads: RefCell::new(record.uploads),
        attaching: RefCell::new(record.attaching),
        tracker,
        reports: Rc::new(reports),
        files_left: Cell::new(count),
        steps_running: Cell::new(0),
        changed: Cell::new(0),
        written: Cell::new(0),
        ended: Cell::new(false),
        changes: Wakeup::default(),
        job,
    };
    let work = async {
        // The files and the folder workers in one list of boxed futures: one
        // `join_all` instance, not one per kind (measured: a smaller package).
        let mut all: Vec<LocalBoxFuture<'_, ()>> = Vec::with_capacity(count + FOLDER_CALLS);
        for n in 0..count {
            all.push(run.file(env, n).boxed_local());
        }
        for _ in 0..FOLDER_CALLS {
            all.push(run.folder_worker(env).boxed_local());
        }
        join_all(all).await;
        // The last word is where the tree stands, paced or not.
        let now = (run.reports.clock)();
        let held_back = run.tracker.borrow_mut().flush(now);
        if let Some(report) = held_back {
            (run.reports.tree)(&report);
        }
        run.ended.set(true);
        run.changes.wake_all();
    };
    join(work, run.write_record(env, &key)).await;
    run.finish()
}

/// Deletes the tree records of `store` left unchanged for a week (or unreadable).
async fn drop_stale_records<S: Store + ?Sized>(store: &S, now_ms: u64, on_error: &dyn Fn(&Error)) {
    let stale = match store.list().await {
        Ok(entries) => stale_tree_records(&entries, now_ms),
        Err(error) => return on_error(&error),
    };
    for key in stale {
        if let Err(error) = store.delete(&key).await {
            on_error(&error);
        }
    }
}

impl Run {
    /// The record is to be written again.
    fn mark_dirty(&self) {
        self.changed.set(self.changed.get() + 1);
        self.changes.wake_all();
    }

    /// File `n` of the plan.
    fn planned(&self, n: usize) -> Result<&PlannedFile, Error> {
        self.job
            .plan
            .files
            .get(n)
            .ok_or_else(|| Error::InvalidInput("no such file".into()))
    }

    fn api<'a, H, T>(&'a self, http: &'a H, shared: &'a Shared<T>) -> ApiClient<'a, H, T> {
        let scope = &self.job.options.scope;
        ApiClient {
            http,
            shared,
            base_url: &scope.base_url,
            company_id: scope.company_id,
        }
    }

    /// The Documents path of `what` (`folders`, `folders/{id}`, `files`,
    /// `file_versions`), at project or company level, with `file_id` when given.
    fn path(&self, what: &str, file_id: Option<u64>) -> String {
        let scope = &self.job.options.scope;
        let mut path = match scope.project_id {
            Some(project) => format!("/rest/v1.0/{what}?project_id={project}"),
            None => format!("/rest/v1.0/companies/{}/{what}", scope.company_id),
        };
        if let Some(file_id) = file_id {
            path.push(if scope.project_id.is_some() { '&' } else { '?' });
            path.push_str(&format!("file_id={file_id}"));
        }
        path
    }

    /// Sends the scheduler's steps, one at a time, until nothing is left to send
    /// or wait for.
    async fn folder_worker<H: Http, T: Tokens, S: Store + ?Sized, B>(
        &self,
        env: &TreeEnv<'_, H, T, S, B>,
    ) {
        loop {
            let next = RefCell::new(None);
            self.changes
                .until(&|| {
                    if let Some(step) = self.scheduler.borrow_mut().next_step() {
                        *next.borrow_mut() = Some(step);
                        return true;
                    }
                    self.files_left.get() == 0 && self.steps_running.get() == 0
                })
                .await;
            let Some(step) = next.take() else {
                return;
            };
            self.steps_running.set(self.steps_running.get() + 1);
            let outcome = self.folder_step(env, &step).await;
            self.steps_running.set(self.steps_running.get() - 1);
            {
                let mut scheduler = self.scheduler.borrow_mut();
                match (&step, outcome) {
                    (Step::List { at, .. }, Ok(Answer::Listed(listing))) => {
                        scheduler.listed(*at, listing)
                    }
                    (Step::Create { folder, .. }, Ok(Answer::Created(id))) => {
                        scheduler.created(*folder, id);
                        self.mark_dirty();
                    }
                    (Step::Create { folder, .. }, Ok(Answer::Taken(answer))) => {
                        scheduler.name_taken(*folder, answer)
                    }
                    (_, Ok(_)) => {}
                    (_, Err(error)) => scheduler.failed(&step, error),
                }
            }
            self.changes.wake_all();
        }
    }

    async fn folder_step<H: Http, T: Tokens, S: Store + ?Sized, B>(
        &self,
        env: &TreeEnv<'_, H, T, S, B>,
        step: &Step,
    ) -> Result<Answer, Error> {
        let api = self.api(env.http, env.shared);
        match step {
            Step::List { id, .. } => {
                let what = match id {
                    Some(id) => format!("folders/{id}"),
                    None => "folders".to_string(),
                };
                let url = api.url(&self.path(&what, None));
                let response = api.call(Method::Get, &url, None, &[]).await?;
                Ok(Answer::Listed(Listing::parse(&json_of(&response.body)?)?))
            }
            Step::Create {
                parent_id, name, ..
            } => {
                let mut folder = Json::object_of([("name", Json::from(name.as_str()))]);
                if let Some(parent_id) = parent_id {
                    folder.insert("parent_id", *parent_id);
                }
                let body = Json::object_of([("folder", folder)]).to_string();
                let url = api.url(&self.path("folders", None));
                match api.call(Method::Post, &url, Some(body), &[]).await {
                    Ok(response) => Ok(Answer::Created(id_of(
                        &json_of(&response.body)?,
                        "a folder",
                    )?)),
                    Err(error) if is_name_taken(&error) => Ok(Answer::Taken(error)),
                    Err(error) => Err(error),
                }
            }
        }
    }

    /// File `n` of the plan, from its folder's turn to its end.
    async fn file<H: Http, T: Tokens, S: Store + ?Sized, B: HashBackend>(
        &self,
        env: &TreeEnv<'_, H, T, S, B>,
        n: usize,
    ) {
        let Some(planned) = self.job.plan.files.get(n) else {
            return;
        };
        let path = planned.path.clone();
        let recorded = self
            .placed
            .borrow()
            .iter()
            .find(|placed| placed.path == path)
            .cloned();
        let last = Rc::new(Cell::new(None));
        let from_record = recorded.is_some();
        let result = match recorded {
            Some(placed) => FileResult {
                path: placed.path,
                status: placed.status,
                upload_uuid: placed.upload_uuid,
                file_id: placed.file_id,
                version_id: placed.version_id,
                name: placed.name,
                error: None,
            },
            None => {
                let mut uuid = self
                    .uploads
                    .borrow()
                    .iter()
                    .find(|(done, _)| *done == path)
                    .map(|(_, uuid)| uuid.clone());
                match self.place(env, n, &mut uuid, &last).await {
                    Ok(result) => result,
                    Err(error) => FileResult {
                        path: path.clone(),
                        status: FileStatus::Failed,
                        upload_uuid: uuid,
                        file_id: None,
                        version_id: None,
                        name: None,
                        error: Some(error),
                    },
                }
            }
        };
        let ok = result.status != FileStatus::Failed;
        if ok {
            let size = planned.size;
            let segments = last.get().map_or(1, |p: Progress| p.segments_total);
            let done = Progress {
                phase: Phase::Done,
                bytes_hashed: size,
                bytes_uploaded: size,
                total_bytes: size,
                segments_done: segments,
                segments_total: segments,
                bytes_per_second: None,
                eta_seconds: Some(0),
            };
            (self.reports.file)(&path, &done);
        }
        if ok && !from_record {
            self.placed.borrow_mut().push(Placed {
                path,
                status: result.status,
                file_id: result.file_id,
                version_id: result.version_id,
                name: result.name.clone(),
                upload_uuid: result.upload_uuid.clone(),
            });
            self.mark_dirty();
        }
        if let Some(slot) = self.results.borrow_mut().get_mut(n) {
            *slot = Some(result);
        }
        let now = (self.reports.clock)();
        let report = self.tracker.borrow_mut().settled(n, ok, now);
        if let Some(report) = report {
            (self.reports.tree)(&report);
        }
        self.files_left.set(self.files_left.get() - 1);
        self.changes.wake_all();
    }

    /// Waits for file `n`'s folder, decides, uploads and attaches it; `uuid` gets
    /// its upload once made, `last` its last progress. An attach call an earlier
    /// run sent without hearing its answer is sent again first, as it was.
    async fn place<H: Http, T: Tokens, S: Store + ?Sized, B: HashBackend>(
        &self,
        env: &TreeEnv<'_, H, T, S, B>,
        n: usize,
        uuid: &mut Option<String>,
        last: &Rc<Cell<Option<Progress>>>,
    ) -> Result<FileResult, Error> {
        let planned = self.planned(n)?;
        let name = planned.name();
        let mut taken: Option<Error> = None;
        let unanswered = self.attach_call_of(&planned.path);
        if let (Some(upload), Some(call)) = (uuid.clone(), unanswered) {
            match self.attach(env, planned, &upload, call).await {
                // The name went to someone else meanwhile: decide again below.
                Err(error) if is_name_taken(&error) => {
                    taken = Some(self.look_again(planned, error))
                }
                outcome => return outcome,
            }
        }
        loop {
            self.changes
                .until(&|| {
                    !matches!(
                        self.scheduler.borrow().target(planned.folder),
                        Target::Waiting
                    )
                })
                .await;
            let (parent_id, action) = match self.scheduler.borrow().target(planned.folder) {
                Target::Failed(error) => return Err(error.clone()),
                Target::Waiting => continue,
                Target::Ready { parent_id, files } => (
                    parent_id,
                    existing::decide(files, name, self.job.on_existing, taken.is_some()),
                ),
            };
            let (what, file_id, (key, mut body)) = match action {
                FileAction::Skip { file_id } => {
                    let mut result = self.result_for(planned, FileStatus::Skipped);
                    result.file_id = Some(file_id);
                    return Ok(result);
                }
                FileAction::Fail { file_id: None } => {
                    return Err(taken.unwrap_or_else(|| taken_error(&planned.path)))
                }
                FileAction::Fail { file_id: Some(_) } => return Err(taken_error(&planned.path)),
                FileAction::Create { unique_name } => {
                    let mut file = Json::object_of([("name", Json::from(name))]);
                    if let Some(parent_id) = parent_id {
                        file.insert("parent_id", parent_id);
                    }
                    file.insert("unique_name", unique_name);
                    ("files", None, ("file", file))
                }
                FileAction::NewVersion { file_id } => (
                    "file_versions",
                    Some(file_id),
                    ("file_version", Json::object()),
                ),
            };
            let upload = match uuid.clone() {
                Some(upload) => upload,
                None => {
                    // Boxed: the task's state machine stays out of the file's
                    // (measured: a smaller package).
                    let made = self.upload_bytes(env, n, last).boxed_local().await?;
                    *uuid = Some(made.clone());
                    self.uploads
                        .borrow_mut()
                        .push((planned.path.clone(), made.clone()));
                    self.mark_dirty();
                    made
                }
            };
            body.insert("upload_uuid", upload.as_str());
            let call = AttachCall {
                call: self.path(what, file_id),
                file_id,
                body: Json::object_of([(key, body)]).to_string(),
                token: env.http.random_token(),
            };
            match self.attach(env, planned, &upload, call).await {
                Err(error)
                    if file_id.is_none()
                        && taken.is_none()
                        && self.job.on_existing != OnExisting::Rename
                        && is_name_taken(&error) =>
                {
                    // Someone made it meanwhile: look again, decide again.
                    taken = Some(self.look_again(planned, error));
                }
                outcome => return outcome,
            }
        }
    }

    /// `planned`'s folder is listed again (its name was taken meanwhile, as `error`
    /// says), and the folder workers are woken to do it; gives `error` back.
    fn look_again(&self, planned: &PlannedFile, error: Error) -> Error {
        self.scheduler.borrow_mut().relist(planned.folder);
        self.changes.wake_all();
        error
    }

    /// The attach call an earlier run sent for `path` without hearing its answer.
    fn attach_call_of(&self, path: &str) -> Option<AttachCall> {
        let attaching = self.attaching.borrow();
        let found = attaching.iter().find(|(at, _)| at == path);
        found.map(|(_, call)| call.clone())
    }

    /// File `planned` with `status`, nothing known of it yet.
    fn result_for(&self, planned: &PlannedFile, status: FileStatus) -> FileResult {
        FileResult {
            path: planned.path.clone(),
            status,
            upload_uuid: None,
            file_id: None,
            version_id: None,
            name: Some(planned.name().to_string()),
            error: None,
        }
    }

    /// Sends `call` (attaching `upload` to `planned`'s place) once the record
    /// holds it, and reads the answer. The call stays in the record while its
    /// answer may yet have been acted on ([`may_have_acted`]); a refusal drops it,
    /// and drops the upload too unless the refusal is "name taken" (the upload
    /// goes elsewhere then).
    async fn attach<H: Http, T: Tokens, S: Store + ?Sized, B>(
        &self,
        env: &TreeEnv<'_, H, T, S, B>,
        planned: &PlannedFile,
        upload: &str,
        call: AttachCall,
    ) -> Result<FileResult, Error> {
        let path = planned.path.as_str();
        self.set_attach_call(path, Some(call.clone()));
        if env.store.is_some() {
            let mine = self.changed.get();
            self.changes.until(&|| self.written.get() >= mine).await;
        }
        let api = self.api(env.http, env.shared);
        let url = api.url(&call.call);
        let token = [(IDEMPOTENCY_TOKEN.to_string(), call.token.clone())];
        let answered = api.call(Method::Post, &url, Some(call.body), &token).await;
        let answer = match answered.and_then(|response| json_of(&response.body)) {
            Ok(answer) => answer,
            Err(error) if may_have_acted(&error) => return Err(error),
            Err(error) => {
                self.set_attach_call(path, None);
                if !is_name_taken(&error) {
                    // Not attachable: a later run sends the bytes again.
                    self.uploads.borrow_mut().retain(|(done, _)| done != path);
                }
                return Err(error);
            }
        };
        self.set_attach_call(path, None);
        let mut result = self.result_for(planned, FileStatus::Versioned);
        result.upload_uuid = Some(upload.to_string());
        match call.file_id {
            Some(file_id) => {
                result.file_id = Some(file_id);
                result.version_id = Some(id_of(&answer, "a file version")?);
            }
            None => {
                let name = planned.name();
                result.file_id = Some(id_of(&answer, "a file")?);
                let named = answer.get("name").and_then(Json::as_str).unwrap_or(name);
                result.status = FileStatus::of_create(name, named);
                result.name = Some(named.to_string());
                result.version_id = version_of(&answer);
            }
        }
        Ok(result)
    }

    /// Keeps `call` as `path`'s attach call on its way (`None`: none).
    fn set_attach_call(&self, path: &str, call: Option<AttachCall>) {
        let mut attaching = self.attaching.borrow_mut();
        attaching.retain(|(at, _)| at != path);
        attaching.extend(call.map(|call| (path.to_string(), call)));
        drop(attaching);
        self.mark_dirty();
    }

    /// Sends file `n`'s bytes as a task: its upload's uuid.
    async fn upload_bytes<H: Http, T: Tokens, S: Store + ?Sized, B: HashBackend>(
        &self,
        env: &TreeEnv<'_, H, T, S, B>,
        n: usize,
        last: &Rc<Cell<Option<Progress>>>,
    ) -> Result<String, Error> {
        let planned = self.planned(n)?;
        let facts = self.job.facts.get(n).cloned().unwrap_or_default();
        let hasher = (env.hasher)(planned.index)?;
        let mut options = self.job.options.clone();
        options.file.name = planned.name().to_string();
        options.file.size = planned.size;
        options.file.content_type =
            (!facts.content_type.is_empty()).then(|| facts.content_type.clone());
        let prepared = prepare(&options, hasher.size())?;
        // The path, not the name: two files alike in two folders keep two states.
        let identity = FileIdentity {
            name: planned.path.clone(),
            size: planned.size,
            last_modified: facts.last_modified,
            content_type: facts.content_type,
        };
        let (reports, tracker, path, seen) = (
            self.reports.clone(),
            self.tracker.clone(),
            planned.path.clone(),
            last.clone(),
        );
        let emit = move |progress: &Progress| {
            // Done once attached, not once uploaded.
            let mut progress = *progress;
            if progress.phase == Phase::Done {
                progress.phase = Phase::Attaching;
            }
            seen.set(Some(progress));
            (reports.file)(&path, &progress);
            let report = tracker.borrow_mut().file(n, &progress, (reports.clock)());
            if let Some(report) = report {
                (reports.tree)(&report);
            }
        };
        let clock = self.reports.clone();
        let progress = ProgressTracker::new(
            planned.size,
            prepared.segments_total(),
            Box::new(emit),
            Box::new(move || (clock.clock)()),
        );
        let resume = if self.job.resume {
            ResumeFrom::Auto
        } else {
            ResumeFrom::Nothing
        };
        let now = env.http.wall_clock_ms();
        let task = Task::new(options, prepared, identity, progress, resume, None, now);
        let task_env = Env {
            http: (env.file_http)(planned.index).unwrap_or(env.http),
            shared: env.shared,
            hasher: &hasher,
            store: env.store.filter(|_| keeps_task_state(planned.size)),
            on_store_error: env.on_store_error,
        };
        let outcome = RefCell::new(None);
        task.run(&task_env, |ended| *outcome.borrow_mut() = Some(ended))
            .await;
        match outcome.take() {
            Some(Ok(finished)) => Ok(finished.upload.uuid),
            Some(Err(failure)) => Err(failure.error),
            None => Err(Error::Aborted),
        }
    }

    /// Writes the record as it changes (the latest only); at the end, deletes it
    /// when every folder and file is in place.
    async fn write_record<H: Http, T, S: Store + ?Sized, B>(
        &self,
        env: &TreeEnv<'_, H, T, S, B>,
        key: &str,
    ) {
        let Some(store) = env.store else {
            return;
        };
        let unwritten = || self.changed.get() != self.written.get();
        loop {
            self.changes
                .until(&|| unwritten() || self.ended.get())
                .await;
            if !unwritten() {
                break;
            }
            let (text, holding) = (
                self.record_text(env.http.wall_clock_ms()),
                self.changed.get(),
            );
            if let Err(error) = store.put(key, &text).await {
                (env.on_store_error)(&error);
            }
            self.written.set(holding);
            self.changes.wake_all();
        }
        let all_placed = self.results.borrow().iter().all(|result| {
            result
                .as_ref()
                .is_some_and(|r| r.status != FileStatus::Failed)
        }) && self
            .scheduler
            .borrow()
            .folders()
            .iter()
            .all(|folder| folder.error.is_none());
        if all_placed {
            if let Err(error) = store.delete(key).await {
                (env.on_store_error)(&error);
            }
        }
    }

    fn record_text(&self, now_ms: u64) -> String {
        let mut folders = Json::object();
        for folder in self.scheduler.borrow().folders() {
            if let Some(id) = folder.id {
                folders.insert(&folder.path, id);
            }
        }
        let mut files = Json::object();
        for placed in self.placed.borrow().iter() {
            let mut file = Json::object_of([("status", Json::from(placed.status.as_str()))]);
            let numbers = [("fileId", placed.file_id), ("versionId", placed.version_id)];
            for (key, value) in numbers {
                if let Some(value) = value {
                    file.insert(key, value);
                }
            }
            let texts = [("name", &placed.name), ("uploadUuid", &placed.upload_uuid)];
            for (key, value) in texts {
                if let Some(value) = value {
                    file.insert(key, value.as_str());
                }
            }
            files.insert(&placed.path, file);
        }
        let mut uploads = Json::object();
        for (path, uuid) in self.uploads.borrow().iter() {
            if files.get(path).is_none() {
                uploads.insert(path, uuid.as_str());
            }
        }
        let mut attaching = Json::object();
        for (path, call) in self.attaching.borrow().iter() {
            let mut kept = Json::object_of([
                ("call", Json::from(call.call.as_str())),
                ("body", Json::from(call.body.as_str())),
                ("token", Json::from(call.token.as_str())),
            ]);
            if let Some(file_id) = call.file_id {
                kept.insert("fileId", file_id);
            }
            attaching.insert(path, kept);
        }
        Json::object_of([
            ("updatedMs", Json::from(now_ms)),
            ("format", Json::from(RECORD_FORMAT)),
            ("folders", folders),
            ("files", files),
            ("uploads", uploads),
            ("attaching", attaching),
        ])
        .to_string()
    }

    fn finish(self) -> TreeResult {
        let mut files = Vec::with_capacity(self.job.plan.files.len());
        let results = self.results.into_inner();
        for (planned, result) in self.job.plan.files.iter().zip(results) {
            files.push(result.unwrap_or_else(|| FileResult {
                path: planned.path.clone(),
                status: FileStatus::Failed,
                upload_uuid: None,
                file_id: None,
                version_id: None,
                name: None,
                error: Some(Error::Aborted),
            }));
        }
        TreeResult {
            folders: self.scheduler.into_inner().folders(),
            files,
        }
    }
}

/// What a folder call answered.
enum Answer {
    Listed(Listing),
    Created(u64),
    /// "Name taken" (422).
    Taken(Error),
}

/// Whether `error` is Procore's "name taken" answer to a create (422).
fn is_name_taken(error: &Error) -> bool {
    matches!(error, Error::Http { status: 422, .. })
}

/// Files from this size on keep their task state in the store while they upload.
/// A smaller file is sent again whole after a reload, at less cost than keeping its
/// state: four or more store calls per file, each an IndexedDB transaction that
/// waits for every other (a 200-file v2.1 tree took 20.2 s with the states kept,
/// 9.0 s with an in-memory store: bench/RESULTS.md). The tree record still keeps
/// its upload once made, and its place once attached.
pub const KEEP_STATE_FROM: u64 = 5 * 1024 * 1024;

/// Whether a file of `size` bytes keeps its task state (see [`KEEP_STATE_FROM`]).
fn keeps_task_state(size: u64) -> bool {
    size >= KEEP_STATE_FROM
}

/// Whether a call that ended in `error` may still have been acted on (no answer,
/// a server error, an answer not read): a later run sends it again, with its
/// token, rather than taking it as refused.
fn may_have_acted(error: &Error) -> bool {
    match error {
        Error::Network { .. }
        | Error::Timeout(_)
        | Error::Protocol(_)
        | Error::RateLimited { .. } => true,
        Error::Http { status, .. } => matches!(status, 408 | 409) || *status >= 500,
        _ => false,
    }
}

/// The error of a file whose name is taken, under `onExisting: "error"`.
fn taken_error(path: &str) -> Error {
    Error::NameTaken(format!(
        "{} is taken in its folder (onExisting: \"error\")",
        quote(path)
    ))
}

fn json_of(body: &str) -> Result<Json, Error> {
    Json::parse(body).map_err(|_| Error::Protocol("a Documents answer that is not JSON".into()))
}

fn id_of(answer: &Json, what: &str) -> Result<u64, Error> {
    answer
        .get("id")
        .and_then(Json::as_u64)
        .ok_or_else(|| Error::Protocol(format!("{what} without an integer id")))
}

/// The id of a created file's version: `current_version`, else the last of
/// `file_versions`.
fn version_of(file: &Json) -> Option<u64> {
    if let Some(id) = file.get("current_version").and_then(|v| v.get("id")) {
        return id.as_u64();
    }
    let versions = file.get("file_versions").and_then(Json::as_array)?;
    versions.last()?.get("id").and_then(Json::as_u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(status: u16) -> Error {
        Error::Http {
            method: "POST",
            url: "https://api/rest/v1.0/files".into(),
            status,
            body: String::new(),
            retry_after_secs: None,
        }
    }

    #[test]
    fn keeps_task_state_table() {
        let table = [
            (0, false),
            (200_000, false),
            (KEEP_STATE_FROM - 1, false),
            (KEEP_STATE_FROM, true),
            (1 << 40, true),
        ];
        for (size, expected) in table {
            assert_eq!(keeps_task_state(size), expected, "{size}");
        }
    }

    /// Which failed attach calls a later run sends again (they may have made the
    /// file) and which it takes as refused.
    #[test]
    fn may_have_acted_table() {
        let network = Error::Network {
            method: "POST",
            url: "u".into(),
            message: "reset".into(),
            cause: None,
        };
        let table = [
            (network, true),
            (Error::Timeout("stalled".into()), true),
            (Error::Protocol("a file without an integer id".into()), true),
            (http(500), true),
            (http(502), true),
            (http(503), true),
            (http(408), true),
            (http(409), true),
            (http(400), false),
            (http(403), false),
            (http(404), false),
            (http(422), false),
            (Error::InvalidInput("x".into()), false),
            (Error::Aborted, false),
        ];
        for (error, expected) in table {
            assert_eq!(may_have_acted(&error), expected, "{error}");
        }
    }
}
