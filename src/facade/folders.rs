//! Folder uploads (issue 23): `uploadFolder`'s entries and options in, its
//! result and progress out; the work is [`crate::core::folders::run::upload_tree`]'s.
//! Also what `entriesFromDataTransfer` and `uploadFolder` leave out.

use std::pin::pin;
use std::rc::Rc;

use futures_util::future::{select, Either};
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

use super::options::{read_call, Settings};
use super::progress_object;
use crate::core::engine::Progress;
use crate::core::folders::existing::OnExisting;
use crate::core::folders::plan::{plan, Entry, EntryKind, DEFAULT_IGNORE};
use crate::core::folders::report::{FileResult, FolderResult, TreeProgress, TreeResult};
use crate::core::folders::run::{upload_tree, FileFacts, TreeEnv, TreeJob, TreeReports};
use crate::core::source::ByteSource;
use crate::core::Error;
use crate::web::abort::AbortWatch;
use crate::web::blob::BlobSource;
use crate::web::error::to_js_error;
use crate::web::hashing::Hashing;
use crate::web::http::WebHttp;
use crate::web::js::{
    array, call_listener, call_listener2, describe, get_property, list_items, number, object_of,
    Options,
};
use crate::web::timer;

/// `options.ignore` as given: the names left out (`None`: the defaults).
pub(super) fn read_ignore(options: &Options<'_>) -> Result<Option<Vec<String>>, Error> {
    options.strings("ignore")
}

/// `ignoredNames(options)`, for `entriesFromDataTransfer` in `index.js`: checks its
/// options (`{ ignore? }`, any other key is INVALID_INPUT) and gives the names it
/// leaves out, the defaults when `ignore` is absent. The same list and rule as
/// `uploadFolder` ([`crate::core::folders::plan::is_ignored`]).
#[wasm_bindgen(js_name = ignoredNames, skip_typescript)]
pub fn ignored_names(options: JsValue) -> Result<JsValue, JsValue> {
    let read = || -> Result<Vec<String>, Error> {
        let options = Options::new(&options, "options")?;
        options.known(&["ignore"])?;
        Ok(read_ignore(&options)?
            .unwrap_or_else(|| DEFAULT_IGNORE.iter().map(|name| name.to_string()).collect()))
    };
    read()
        .map(|names| array(names.into_iter().map(JsValue::from)))
        .map_err(|error| to_js_error(&error))
}

/// The keys of `uploadFolder` options: its own, then `upload()`'s that apply to
/// every file (not `filename` and `contentType`: each file has its own).
const FOLDER_OPTIONS: &[&str] = &[
    "projectId",
    "parentId",
    "onExisting",
    "onProgress",
    "onFileProgress",
    "signal",
    "ignore",
    "resume",
    "apiVersion",
    "segmented",
    "segmentSize",
    "md5",
    "concurrency",
    "workers",
    "attachmentContentDisposition",
    "processingTimeoutMs",
    "chunkSize",
];

/// What `entries` must be, for the errors.
const ENTRIES: &str =
    "a FileList or an array of Files, { file, path } and { path, directory: true }";

/// The entries given: the core's, and the files they name (an entry's index is
/// its file's place in `sources`).
struct Given {
    entries: Vec<Entry>,
    sources: Vec<BlobSource>,
}

/// Reads `entries` (every item checked; the first bad one is INVALID_INPUT naming
/// its place). Paths are checked by the plan.
fn read_entries(raw: &JsValue) -> Result<Given, Error> {
    let items = list_items(raw).ok_or_else(|| {
        Error::InvalidInput(format!("entries must be {ENTRIES}, got {}", describe(raw)))
    })?;
    let mut given = Given {
        entries: Vec::with_capacity(items.len()),
        sources: Vec::with_capacity(items.len()),
    };
    for (n, item) in items.into_iter().enumerate() {
        let at = |error: Error| match error {
            Error::InvalidInput(message) => Error::InvalidInput(format!("entries[{n}]: {message}")),
            other => other,
        };
        let (path, source) = read_entry(&item).map_err(at)?;
        let kind = match source {
            Some(source) => {
                let kind = EntryKind::File {
                    size: source.size(),
                    index: given.sources.len(),
                };
                given.sources.push(source);
                kind
            }
            None => EntryKind::Directory,
        };
        given.entries.push(Entry { path, kind });
    }
    Ok(given)
}

/// One entry: its path, and its file unless it is a folder.
fn read_entry(item: &JsValue) -> Result<(String, Option<BlobSource>), Error> {
    if let Ok(source) = BlobSource::from_js(item.clone()) {
        // A File as a directory picker gives it; from another picker, its name.
        let relative = get_property(item, "webkitRelativePath")
            .as_string()
            .unwrap_or_default();
        let path = if relative.is_empty() {
            source.name()
        } else {
            relative
        };
        if path.is_empty() {
            return Err(Error::InvalidInput(
                "a Blob without a name: give it as { file, path }".into(),
            ));
        }
        return Ok((path, Some(source)));
    }
    if !item.is_object() {
        return Err(Error::InvalidInput(format!(
            "must be a File, {{ file, path }} or {{ path, directory: true }}, got {}",
            describe(item)
        )));
    }
    let entry = Options::new(item, "entry")?;
    entry.known(&["file", "path", "directory"])?;
    let path = entry
        .string("path")?
        .ok_or_else(|| Error::InvalidInput("entry.path (a string) is required".into()))?;
    match (entry.bool("directory")?, entry.get("file")?) {
        (Some(true), None) => Ok((path, None)),
        (Some(true), Some(_)) => Err(Error::InvalidInput(
            "a folder entry ({ path, directory: true }) has no file".into(),
        )),
        (_, Some(file)) => Ok((path, Some(BlobSource::from_js(file)?))),
        (_, None) => Err(Error::InvalidInput(
            "entry.file (a File) is required, or directory: true for a folder".into(),
        )),
    }
}

/// `client.uploadFolder(entries, options)`: everything checked here, before
/// anything is sent; the promise of the tree's result, boxed here: the export
/// hands it on as it is (measured: a smaller package than boxing it there).
pub(super) fn upload_folder(
    settings: &Rc<Settings>,
    entries: &JsValue,
    raw: &JsValue,
) -> Result<super::Work, Error> {
    let options = Options::new(raw, "options")?;
    options.known(FOLDER_OPTIONS)?;
    let given = read_entries(entries)?;
    let ignore = read_ignore(&options)?;
    let plan = plan(&given.entries, ignore.as_deref())?;
    let call = read_call(settings, None, raw)?;
    let on_existing = match options.string("onExisting")? {
        Some(text) => OnExisting::parse(&text)?,
        None => OnExisting::default(),
    };
    let resume = match options.get("resume")? {
        None => false,
        Some(value) if value.as_string().as_deref() == Some("auto") => true,
        Some(value) => return Err(options.invalid("resume", "\"auto\"", &value)),
    };
    let on_progress = options.function("onProgress")?;
    let on_file_progress = options.function("onFileProgress")?;
    let mut facts = Vec::with_capacity(plan.files.len());
    for file in &plan.files {
        let source = given.sources.get(file.index);
        facts.push(FileFacts {
            last_modified: source.and_then(BlobSource::last_modified),
            content_type: source.map(BlobSource::picked_type).unwrap_or_default(),
        });
    }
    let job = TreeJob {
        plan,
        facts,
        options: call.options,
        parent_id: options.positive_id("parentId")?,
        on_existing,
        resume,
    };
    let reports = TreeReports {
        tree: Box::new(move |progress: &TreeProgress| {
            if let Some(callback) = &on_progress {
                call_listener(callback, "onProgress", &tree_progress(progress));
            }
        }),
        file: Box::new(move |path: &str, progress: &Progress| {
            if let Some(callback) = &on_file_progress {
                let value = progress_object(progress, &[]);
                call_listener2(callback, "onFileProgress", &path.into(), &value);
            }
        }),
        clock: Box::new(timer::now_ms),
    };
    let watch = settings.watch(call.signal.as_ref())?;
    let settings = settings.clone();
    let (workers, sources) = (call.workers, given.sources);
    Ok(Box::pin(async move {
        let stop: AbortSignal = watch.signal();
        let mut fired = AbortWatch::new(Some(&stop))?;
        let http = WebHttp::without_file(Some(stop.clone()));
        // A loop, not a collect: no iterator code of its own (measured).
        let mut file_https = Vec::with_capacity(sources.len());
        for source in &sources {
            file_https.push(WebHttp::new(source.as_raw().clone(), Some(stop.clone())));
        }
        let hasher = |index: usize| {
            let source = sources
                .get(index)
                .ok_or_else(|| Error::InvalidInput("no such file".into()))?;
            Ok::<_, Error>(Hashing::choose(
                settings.pool.as_ref(),
                workers,
                source,
                Some(stop.clone()),
            ))
        };
        let env = TreeEnv {
            http: &http,
            shared: &settings.shared,
            store: settings.store.as_deref(),
            on_store_error: &|error| settings.store_failed(error),
            hasher: &hasher,
            file_http: &|index| file_https.get(index),
        };
        // Aborted: the run's future is dropped, which stops everything at once.
        let result = match select(pin!(upload_tree(&env, job, reports)), pin!(fired.fired())).await
        {
            // A run that wound down within the poll that aborted it (its files
            // woken and settled at once) is an abort all the same.
            Either::Left(_) if watch.is_aborted() => return Err(Error::Aborted),
            Either::Left((result, _)) => result,
            Either::Right(_) => return Err(Error::Aborted),
        };
        drop(watch);
        Ok(tree_result(result))
    }))
}

/// `TreeProgress` as JS gets it: the files' counts, then the usual fields.
fn tree_progress(progress: &TreeProgress) -> JsValue {
    progress_object(
        &progress.bytes,
        &[
            ("filesDone", Some(number(progress.files_done))),
            ("filesFailed", Some(number(progress.files_failed))),
            ("filesTotal", Some(number(progress.files_total))),
        ],
    )
}

/// What `uploadFolder` resolves to: `{ folders, files }`.
fn tree_result(result: TreeResult) -> JsValue {
    let folders = result.folders.iter().map(folder_result);
    let files = result.files.iter().map(file_result);
    object_of(&[
        ("folders", Some(array(folders))),
        ("files", Some(array(files))),
    ])
}

fn or_null(value: Option<JsValue>) -> Option<JsValue> {
    Some(value.unwrap_or(JsValue::NULL))
}

fn folder_result(folder: &FolderResult) -> JsValue {
    object_of(&[
        ("path", Some(folder.path.as_str().into())),
        ("id", or_null(folder.id.map(number))),
        ("created", Some(folder.created.into())),
    ])
}

fn file_result(file: &FileResult) -> JsValue {
    object_of(&[
        ("path", Some(file.path.as_str().into())),
        ("status", Some(file.status.as_str().into())),
        (
            "uploadUuid",
            or_null(file.upload_uuid.as_deref().map(JsValue::from)),
        ),
        ("fileId", or_null(file.file_id.map(number))),
        ("versionId", or_null(file.version_id.map(number))),
        ("name", or_null(file.name.as_deref().map(JsValue::from))),
        ("error", or_null(file.error.as_ref().map(to_js_error))),
    ])
}
