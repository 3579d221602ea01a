//! The messages between the page and a hashing worker (`js/hash-worker.js`), built
//! and read in one place, both sides; nothing a worker sends is believed unchecked.
//!
//! - page → worker: `{type:"init", module}`, then `{type:"job", id, file, ranges, md5,
//!   chunkSize, whole}` (`ranges`: flat `[start, end, start, end, …]`);
//! - worker → page: `{type:"ready"}` once it has the wasm instantiated, then
//!   `{type:"progress", id, bytes}`, `{type:"done", id, segments:[[sha256, md5|null]…],
//!   whole:[sha256, md5|null]|null}` or `{type:"error", id, code, message, cause?}`.

use std::ops::Range;

use js_sys::{Array, Object};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Blob;

use crate::core::hash::{Digests, HashOptions};
use crate::core::workers::{Job, Slot};
use crate::core::Error;
use crate::web::error::js_cause;
use crate::web::js::{get_property as get, number, number_text, set_property as set, whole_number};

/// `{type:"init", module}`: the compiled wasm module a worker instantiates.
pub fn init_message(module: &JsValue) -> Object {
    let message = Object::new();
    set(&message, "type", &"init".into());
    set(&message, "module", module);
    message
}

/// `{type:"job", file, ranges, md5, chunkSize, whole}`: `job` of `file`, without its id
/// (the pool gives it one).
pub fn job_message(file: &Blob, job: &Job, options: HashOptions) -> Object {
    let message = Object::new();
    set(&message, "type", &"job".into());
    set(&message, "file", file);
    let flat: Array = job
        .ranges
        .iter()
        .flat_map(|r| [number(r.start), number(r.end)])
        .collect();
    set(&message, "ranges", &flat);
    // The whole-file digest is SHA-256 only (see `core::hash::hash_segments`).
    let md5 = options.md5 && job.slot != Slot::Whole;
    set(&message, "md5", &md5.into());
    set(&message, "chunkSize", &number(options.chunk_size as u64));
    set(&message, "whole", &job.whole.into());
    message
}

/// Gives a job message its `id` (the pool numbers the jobs it hands out).
pub fn set_job_id(message: &Object, id: u64) {
    set(message, "id", &number(id));
}

/// A message's `type`.
pub fn kind(message: &JsValue) -> Option<String> {
    get(message, "type").as_string()
}

/// The job a message names (`id`): a whole number, or `None`.
pub fn job_id(message: &JsValue) -> Option<u64> {
    whole_number(&get(message, "id"))
}

/// What a worker said about its job, checked against the job.
pub enum JobReply {
    /// `bytes` of the job read so far.
    Progress(u64),
    /// The digests of its ranges, and the whole file's when the job had it computed.
    Done(Vec<Digests>, Option<Digests>),
    /// The job failed in the worker: the worker's error, as the core's.
    Failed(Error),
}

/// Reads a worker's message about `job`: a byte count beyond the job, a digest count
/// other than its ranges', a malformed digest or an unknown type is [`Error::Worker`].
pub fn read_reply(message: &JsValue, job: &Job) -> Result<JobReply, Error> {
    match kind(message).as_deref() {
        Some("progress") => whole_number(&get(message, "bytes"))
            .filter(|&bytes| bytes <= job.size())
            .map(JobReply::Progress)
            .ok_or_else(|| Error::worker("a worker reported a bad byte count")),
        Some("done") => {
            let digests = read_digest_list(&get(message, "segments"))?;
            if digests.len() != job.ranges.len() {
                return Err(Error::worker(format!(
                    "a worker sent {} digests for {} ranges",
                    digests.len(),
                    job.ranges.len()
                )));
            }
            let whole = match job.whole {
                true => read_digest(&get(message, "whole"))?,
                false => None,
            };
            Ok(JobReply::Done(digests, whole))
        }
        Some("error") => {
            let text = get(message, "message").as_string().unwrap_or_default();
            // `message` is the JS error's whole message: the core's error would say
            // its own first words ("could not read the file: ") a second time.
            let strip = |bare: Error| {
                let prefix = bare.to_string();
                text.strip_prefix(&prefix).unwrap_or(&text).to_string()
            };
            let error = match get(message, "code").as_string().as_deref() {
                Some("ABORTED") => return Ok(JobReply::Failed(Error::Aborted)),
                Some("FILE_READ") => Error::file_read(strip(Error::file_read(""))),
                _ => Error::worker(strip(Error::worker(""))),
            };
            let cause = get(message, "cause");
            Ok(JobReply::Failed(if cause.is_undefined() {
                error
            } else {
                error.with_cause(js_cause(cause))
            }))
        }
        _ => Err(Error::worker("a worker sent an unknown message")),
    }
}

/// `[sha256, md5|null]` → digests; `null` → `None`.
fn read_digest(value: &JsValue) -> Result<Option<Digests>, Error> {
    if value.is_null() || value.is_undefined() {
        return Ok(None);
    }
    let pair: &Array = value
        .dyn_ref()
        .ok_or_else(|| Error::worker("a worker sent a malformed digest"))?;
    let sha256 = pair.get(0).as_string().unwrap_or_default();
    let md5 = pair.get(1).as_string();
    Digests::from_hex(&sha256, md5.as_deref())
        .map(Some)
        .ok_or_else(|| Error::worker("a worker sent a malformed digest"))
}

fn read_digest_list(value: &JsValue) -> Result<Vec<Digests>, Error> {
    let list: &Array = value
        .dyn_ref()
        .ok_or_else(|| Error::worker("a worker sent no digests"))?;
    // A loop, not a collect into Result: one GenericShunt less in the package.
    let mut digests = Vec::new();
    for item in list.iter() {
        digests.push(
            read_digest(&item)?.ok_or_else(|| Error::worker("a worker sent an empty digest"))?,
        );
    }
    Ok(digests)
}

/// Digests as the worker sends them: `[sha256, md5|null]`.
pub fn digest_to_js(digests: &Digests) -> JsValue {
    let pair = Array::new();
    pair.push(&digests.sha256_hex().into());
    pair.push(&digests.md5_hex().map_or(JsValue::NULL, JsValue::from));
    pair.into()
}

/// The worker's answer to a job (what `hashJob` resolves to):
/// `{ segments: [[sha256, md5|null]…], whole: [sha256, md5|null] | null }`.
pub fn done_reply(segments: &[Digests], whole: Option<&Digests>) -> JsValue {
    let result = Object::new();
    let list: Array = segments.iter().map(digest_to_js).collect();
    set(&result, "segments", &list);
    set(&result, "whole", &whole.map_or(JsValue::NULL, digest_to_js));
    result.into()
}

/// The byte ranges of a job, from the flat `[start, end, start, end, …]` a worker
/// is sent: whole numbers, in order, each within the file. Anything else is
/// [`Error::InvalidInput`] and nothing is read.
pub fn job_ranges(flat: &[f64], size: u64) -> Result<Vec<Range<u64>>, Error> {
    if flat.len() % 2 != 0 {
        return Err(Error::InvalidInput(format!(
            "ranges must be [start, end] pairs, got {} numbers",
            flat.len()
        )));
    }
    let offset = |n: f64| {
        whole_number(&JsValue::from(n)).ok_or_else(|| {
            Error::InvalidInput(format!(
                "range offsets must be whole numbers, got {}",
                number_text(n)
            ))
        })
    };
    // A loop, not a collect into `Result`: no `GenericShunt` iterator in the package.
    let mut ranges = Vec::with_capacity(flat.len() / 2);
    for pair in flat.chunks_exact(2) {
        let [start, end] = pair else {
            return Err(Error::InvalidInput("ranges must be pairs".into()));
        };
        let (start, end) = (offset(*start)?, offset(*end)?);
        if start > end || end > size {
            return Err(Error::InvalidInput(format!(
                "range {start}..{end} is not within the file's {size} bytes"
            )));
        }
        ranges.push(start..end);
    }
    Ok(ranges)
}
