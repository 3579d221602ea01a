//! A `Blob` (or `File`) as the core's [`ByteSource`], and the checked reads every
//! hashing path shares.

use std::cell::RefCell;
use std::ops::Range;

use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, ReadableStreamByobReader, ReadableStreamDefaultReader};

use super::error::file_read_error;
use super::js::{current_engine, get_property};
use crate::core::browser::{blob_streams_read_ahead, detach_read_buffers};
use crate::core::reads::{after_read_failure, open_stream, AfterReadFailure, ReadFailure, ReadVia};
use crate::core::source::ByteSource;
use crate::core::Error;

/// Reads a browser `Blob` through one stream and one buffer reused from read to read
/// (see [`BlobReader`]), so only the range being read is ever in memory, never the
/// whole file, and no garbage piles up while a big file is read.
#[derive(Debug)]
pub struct BlobSource {
    raw: Blob,
    /// The reader of consecutive `read_at`s and its buffer, taken out while a read runs.
    reading: RefCell<Option<(BlobReader, Option<ArrayBuffer>)>>,
}

impl Clone for BlobSource {
    /// The same `Blob`, read by a reader of its own.
    fn clone(&self) -> Self {
        Self::from_raw(self.raw.clone())
    }
}

impl BlobSource {
    /// Wraps `value` when it is a `Blob` (a `File` is one); anything else is
    /// [`Error::InvalidInput`].
    pub fn from_js(value: JsValue) -> Result<Self, Error> {
        value
            .dyn_into::<Blob>()
            .map(Self::from_raw)
            .map_err(|value| {
                Error::InvalidInput(format!(
                    "expected a Blob or File, got {}",
                    super::js::describe(&value)
                ))
            })
    }

    /// Wraps a `Blob`.
    pub fn from_raw(raw: Blob) -> Self {
        Self {
            raw,
            reading: RefCell::new(None),
        }
    }

    /// Ends the reading of consecutive `read_at`s: its stream is cancelled and its
    /// buffer freed (the next `read_at` opens a new one).
    pub fn end_reading(&self) {
        self.reading.take();
    }

    /// The wrapped `Blob`.
    pub fn as_raw(&self) -> &Blob {
        &self.raw
    }

    /// The `File`'s name; empty for a plain `Blob`.
    pub fn name(&self) -> String {
        self.raw
            .dyn_ref::<web_sys::File>()
            .map(web_sys::File::name)
            .unwrap_or_default()
    }

    /// The `File`'s `lastModified` (ms since 1970); `None` for a plain `Blob`.
    pub fn last_modified(&self) -> Option<u64> {
        let modified = self.raw.dyn_ref::<web_sys::File>()?.last_modified();
        super::js::whole_number(&JsValue::from(modified))
    }

    /// The `Blob`'s MIME type as picked (empty when it has none).
    pub fn picked_type(&self) -> String {
        self.raw.type_()
    }

    /// The `Blob`'s MIME type, when it has one.
    pub fn content_type(&self) -> Option<String> {
        Some(self.raw.type_()).filter(|t| !t.is_empty())
    }
}

/// The size of `blob`: a whole number of bytes below 2^53 for every real `Blob`
/// (0 for anything else, which a read then finds short).
pub fn blob_size(blob: &Blob) -> u64 {
    super::js::whole_number(&blob.size().into()).unwrap_or(0)
}

/// `blob.slice(start, end)`, nothing read. Not always free: Chromium copies the bytes
/// of a Blob made in the page that the slice's ends cut into ([`crate::core::reads`]).
pub fn slice(blob: &Blob, range: &Range<u64>) -> Result<Blob, Error> {
    // Blob offsets are below 2^53: f64 holds them exactly.
    #[allow(clippy::cast_precision_loss)]
    let (start, end) = (range.start as f64, range.end as f64);
    blob.slice_with_f64_and_f64(start, end)
        .map_err(file_read_error)
}

/// `range` of `blob` read whole into a new buffer (`slice(a, b).arrayBuffer()`), or
/// [`Error::FileRead`] when the read failed or came back with another length than
/// `range` asks: a file changed on disk after it was picked gives a short read (what
/// the storage requests' readability check looks for).
pub async fn read_whole(blob: &Blob, range: &Range<u64>) -> Result<Uint8Array, Error> {
    let bytes = JsFuture::from(slice(blob, range)?.array_buffer())
        .await
        .map_err(file_read_error)?;
    let view = Uint8Array::new(&bytes);
    if u64::from(view.length()) != range.end - range.start {
        return Err(short_read(range, view.length()));
    }
    Ok(view)
}

/// Reads consecutive ranges of a `Blob` through one stream of it, into a buffer
/// reused from range to range (the caller's `spare`), so that reading a big file
/// takes no more memory than one range: a new `ArrayBuffer` per read (as
/// `arrayBuffer()` gives) is freed only when the garbage collector gets to it, and
/// hundreds of MiB of them piled up while a GiB was hashed.
///
/// One stream, not one slice per range: Chromium builds a slice of a Blob made in the
/// page by copying bytes into its blob store, where they stay until the slice is
/// garbage collected; one slice per segment filled the store and failed later reads
/// ([`crate::core::reads`]). A stream is opened where a read starts (the file itself
/// from byte 0, else a slice to the file's end) and read on by the next range that
/// starts where the last one ended. Where the engine's streams read ahead with no
/// bound (WebKit), a stream ends after the range or a few MiB ([`open_stream`]), so
/// that it never holds the rest of the file. When a slice's read fails, the range is read once
/// more through the file itself from its first byte ([`after_read_failure`]), and so
/// is every later range of this reader. Dropping the reader cancels its stream.
///
/// Where the stream is a byte stream (Chromium, Firefox), a BYOB reader fills the
/// buffer itself; elsewhere (WebKit) the stream's own chunks are copied into it.
#[derive(Debug)]
pub struct BlobReader {
    blob: Blob,
    open: Option<OpenStream>,
    /// A slice's read failed: every stream from now on is of the file itself.
    through_file: bool,
}

/// A stream of the file, open at `at`.
#[derive(Debug)]
struct OpenStream {
    reader: StreamReader,
    via: ReadVia,
    /// The file offset of the next byte the stream gives.
    at: u64,
    /// The file offset where the stream ends.
    end: u64,
    /// Bytes of a chunk beyond the last range read (chunked streams only).
    rest: Option<Uint8Array>,
}

#[derive(Debug)]
enum StreamReader {
    Byob(ReadableStreamByobReader),
    Chunks(ReadableStreamDefaultReader),
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        let cancelled = match &self.reader {
            StreamReader::Byob(reader) => reader.cancel(),
            StreamReader::Chunks(reader) => reader.cancel(),
        };
        // A stream that failed rejects its cancel: nothing to report, nobody waits.
        IGNORE.with(|ignore| drop(cancelled.catch(ignore)));
    }
}

thread_local! {
    static IGNORE: Closure<dyn FnMut(JsValue)> = Closure::new(|_: JsValue| {});
}

/// A failed attempt at a read: how it failed, and the error it fails with.
struct Failed {
    failure: ReadFailure,
    error: Error,
}

impl From<Error> for Failed {
    /// A failure of the browser's read: refused, or the caller's abort.
    fn from(error: Error) -> Self {
        let failure = match error {
            Error::Aborted => ReadFailure::Aborted,
            _ => ReadFailure::Refused,
        };
        Self { failure, error }
    }
}

fn malformed(message: &str) -> Failed {
    Failed {
        failure: ReadFailure::Malformed,
        error: Error::file_read(message),
    }
}

/// Largest read while skipping to a range through the file itself.
const SKIP_READ: u64 = 1024 * 1024;

impl BlobReader {
    /// Reads `blob`, nothing opened yet.
    pub fn new(blob: Blob) -> Self {
        Self {
            blob,
            open: None,
            through_file: false,
        }
    }

    /// Reads `range` of the file into `spare` (a new buffer when it is missing or too
    /// small), which holds the buffer afterwards; the returned view is the range's
    /// bytes in it. [`Error::FileRead`] when the read failed or came back short: a
    /// file changed on disk after it was picked gives a short read or fails.
    ///
    /// With `pieces`, the bytes are also copied as they come into `staging` (wasm
    /// memory), at most its length at a time, each given to `each` while the browser
    /// already reads the next one; each byte once, whatever is read again.
    pub async fn read(
        &mut self,
        range: &Range<u64>,
        spare: &mut Option<ArrayBuffer>,
        mut pieces: Option<Pieces<'_>>,
    ) -> Result<Uint8Array, Error> {
        let length = u32::try_from(range.end - range.start)
            .map_err(|_| Error::file_read("a segment read whole must be below 4 GiB"))?;
        let mut buffer = spare
            .take()
            .filter(|buffer| buffer.byte_length() >= length)
            .unwrap_or_else(|| ArrayBuffer::new(length));
        // Bytes of the range given to `each` already, by an attempt that failed.
        let mut fed = 0;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let (via, result) = self
                .attempt(range.start, buffer, length, pieces.as_mut(), &mut fed)
                .await;
            let failed = match result {
                Ok((filled, got)) if got == length => {
                    *spare = Some(filled.clone());
                    return Ok(Uint8Array::new_with_byte_offset_and_length(
                        &filled, 0, length,
                    ));
                }
                Ok((_, got)) => Failed {
                    failure: ReadFailure::Short,
                    error: short_read(range, got),
                },
                Err(failed) => failed,
            };
            self.open = None;
            if after_read_failure(failed.failure, via, attempts) == AfterReadFailure::Fail {
                return Err(failed.error);
            }
            self.through_file = true;
            // A BYOB read that failed kept the buffer it was lent.
            buffer = ArrayBuffer::new(length);
        }
    }

    /// One attempt at `length` bytes from `start`: on the open stream where it stands
    /// there, else on a new one (a slice from `start` to the end, or the file itself
    /// read up to `start`, those bytes dropped). Gives how the file was reached, and
    /// the buffer with the count of bytes it got.
    async fn attempt(
        &mut self,
        start: u64,
        buffer: ArrayBuffer,
        length: u32,
        pieces: Option<&mut Pieces<'_>>,
        fed: &mut u32,
    ) -> (ReadVia, Result<(ArrayBuffer, u32), Failed>) {
        let range = start..start + u64::from(length);
        let open = match self
            .open
            .take()
            .filter(|open| open.at == start && range.end <= open.end)
        {
            Some(open) => open,
            None => {
                let (via, end) = open_stream(
                    &range,
                    blob_size(&self.blob),
                    blob_streams_read_ahead(current_engine()),
                    self.through_file,
                );
                match self.open_at(start, via, end).await {
                    Ok(open) => open,
                    Err(failed) => return (via, Err(failed)),
                }
            }
        };
        let open = self.open.insert(open);
        (open.via, open.fill(buffer, length, pieces, fed).await)
    }

    /// A new stream at `start` reaching to `end` (see [`Self::attempt`]).
    async fn open_at(&self, start: u64, via: ReadVia, end: u64) -> Result<OpenStream, Failed> {
        let stream = match via {
            ReadVia::File => self.blob.stream(),
            ReadVia::Slice => slice(&self.blob, &(start..end))?.stream(),
        };
        let reader = match ReadableStreamByobReader::new(&stream) {
            Ok(reader) => StreamReader::Byob(reader),
            Err(_) => StreamReader::Chunks(stream.get_reader().unchecked_into()),
        };
        let mut open = OpenStream {
            reader,
            via,
            at: if via == ReadVia::File { 0 } else { start },
            end,
            rest: None,
        };
        // Skipped through one buffer of at most 1 MiB (only after a refused slice).
        let mut scratch = None;
        while open.at < start {
            let want = u32::try_from((start - open.at).min(SKIP_READ)).unwrap_or(1);
            let buffer = scratch.take().unwrap_or_else(|| ArrayBuffer::new(want));
            let (buffer, got) = open.fill(buffer, want, None, &mut 0).await?;
            if got < want {
                return Err(Failed {
                    failure: ReadFailure::Short,
                    error: short_read(&(open.at..start), 0),
                });
            }
            scratch = Some(buffer);
        }
        Ok(open)
    }
}

impl OpenStream {
    /// Reads up to `length` bytes into `buffer` (fewer only at the stream's end);
    /// gives the buffer and the count.
    async fn fill(
        &mut self,
        buffer: ArrayBuffer,
        length: u32,
        pieces: Option<&mut Pieces<'_>>,
        fed: &mut u32,
    ) -> Result<(ArrayBuffer, u32), Failed> {
        let (buffer, got) = match &self.reader {
            StreamReader::Byob(reader) => read_byob(reader, buffer, length, pieces, fed).await?,
            StreamReader::Chunks(reader) => {
                read_chunks(reader, &mut self.rest, buffer, length, pieces, fed).await?
            }
        };
        self.at += u64::from(got);
        Ok((buffer, got))
    }
}

/// Detaches the buffer of a read's bytes once they are copied out, where the
/// engine frees it sooner that way ([`detach_read_buffers`]: WebKit). Only a view that
/// spans its whole buffer: a buffer shared with other views is left alone.
pub fn release_read(bytes: &Uint8Array) {
    let buffer = bytes.buffer();
    if bytes.byte_offset() != 0 || bytes.byte_length() != buffer.byte_length() {
        return;
    }
    if !detach_read_buffers(current_engine()) {
        return;
    }
    if let Ok(transfer) = get_property(&buffer, "transfer").dyn_into::<js_sys::Function>() {
        let _ = transfer.call1(&buffer, &0.into());
    }
}

/// What [`BlobReader::read`] does with each piece as it comes in.
pub struct Pieces<'a> {
    /// Where each piece is copied (wasm memory); its length caps a piece's.
    pub staging: &'a mut [u8],
    /// Called with each piece's copy, while the next piece is being read.
    pub each: &'a mut dyn FnMut(&[u8]),
}

impl Pieces<'_> {
    /// The largest piece to ask for: the staging buffer's length (at least 1).
    fn most(&self) -> u32 {
        u32::try_from(self.staging.len()).unwrap_or(u32::MAX).max(1)
    }

    /// Copies into `staging` the first bytes of `bytes` (at range offset `at`) that
    /// `each` has not had (those past `fed`), as many as it holds; moves `fed` past
    /// them and gives their count, for [`Self::give`].
    fn stage(&mut self, bytes: &Uint8Array, at: u32, fed: &mut u32) -> usize {
        let from = (*fed).max(at);
        let count = (at + bytes.length()).saturating_sub(from).min(self.most());
        let Some(copy) = self.staging.get_mut(..count as usize) else {
            return 0;
        };
        bytes.subarray(from - at, from - at + count).copy_to(copy);
        *fed = from + count;
        count as usize
    }

    /// Gives `each` the `count` bytes [`Self::stage`] copied.
    fn give(&mut self, count: usize) {
        if let Some(copy) = self.staging.get(..count) {
            (self.each)(copy);
        }
    }
}

fn short_read(range: &Range<u64>, got: u32) -> Error {
    Error::file_read(format!(
        "expected {} bytes at offset {}, got {got}: the file changed while it was read",
        range.end - range.start,
        range.start
    ))
}

/// `{ done, value }` of a stream read; `None` once the stream is done.
async fn next_chunk(read: js_sys::Promise) -> Result<Option<Uint8Array>, Failed> {
    let result = JsFuture::from(read).await.map_err(file_read_error)?;
    let value = get_property(&result, "value");
    if get_property(&result, "done").is_truthy() {
        return Ok(None);
    }
    // Not `instanceof`: Firefox hands the page chunks made in another realm.
    if ArrayBuffer::is_view(&value) {
        Ok(Some(value.unchecked_into()))
    } else {
        Err(malformed(&format!(
            "the file's stream gave {} instead of bytes",
            super::js::describe(&value)
        )))
    }
}

/// Fills `length` bytes of `buffer` through a BYOB reader; each read hands the buffer
/// back (moved, not copied), the next read is asked for before the piece goes to
/// `pieces`. Returns the buffer and how many bytes it holds (fewer at the stream's end).
async fn read_byob(
    reader: &ReadableStreamByobReader,
    mut buffer: ArrayBuffer,
    length: u32,
    mut pieces: Option<&mut Pieces<'_>>,
    fed: &mut u32,
) -> Result<(ArrayBuffer, u32), Failed> {
    let most = pieces.as_ref().map_or(u32::MAX, |pieces| pieces.most());
    let ask = |buffer: &ArrayBuffer, filled: u32| {
        let view = Uint8Array::new_with_byte_offset_and_length(
            buffer,
            filled,
            (length - filled).min(most),
        );
        reader.read_with_array_buffer_view(&view)
    };
    let mut filled = 0;
    let mut pending = (length > 0).then(|| ask(&buffer, 0));
    while let Some(read) = pending.take() {
        let Some(piece) = next_chunk(read).await? else {
            break;
        };
        let size = piece.length();
        if size > (length - filled).min(most) {
            return Err(malformed("the file's stream gave more than was asked"));
        }
        // Copied out before the buffer goes to the next read (a piece fits `staging`).
        let staged = pieces.as_mut().map(|p| p.stage(&piece, filled, fed));
        buffer = piece.buffer();
        filled += size;
        if filled < length {
            pending = Some(ask(&buffer, filled));
        }
        if let (Some(pieces), Some(count)) = (pieces.as_mut(), staged) {
            pieces.give(count);
        }
    }
    Ok((buffer, filled))
}

/// Copies the stream's own chunks into `buffer` (engines without BYOB readers for a
/// `Blob`'s stream), starting with what the last read left in `rest`, keeping there
/// what a chunk gives beyond `length`; the next chunk is asked for before the pieces
/// go to `pieces`.
async fn read_chunks(
    reader: &ReadableStreamDefaultReader,
    rest: &mut Option<Uint8Array>,
    buffer: ArrayBuffer,
    length: u32,
    mut pieces: Option<&mut Pieces<'_>>,
    fed: &mut u32,
) -> Result<(ArrayBuffer, u32), Failed> {
    let target = Uint8Array::new(&buffer);
    let mut filled = 0u32;
    let mut pending = None;
    while filled < length {
        let chunk = match rest.take() {
            Some(chunk) => chunk,
            None => match next_chunk(pending.take().unwrap_or_else(|| reader.read())).await? {
                Some(chunk) => chunk,
                None => break,
            },
        };
        let size = chunk.length();
        let take = size.min(length - filled);
        target.set(&chunk.subarray(0, take), filled);
        if take < size {
            *rest = Some(chunk.subarray(take, size));
        } else if filled + take < length {
            pending = Some(reader.read());
        }
        if let Some(pieces) = pieces.as_mut() {
            let view = target.subarray(filled, filled + take);
            loop {
                let count = pieces.stage(&view, filled, fed);
                if count == 0 {
                    break;
                }
                pieces.give(count);
            }
        }
        if take == size {
            release_read(&chunk);
        }
        filled += take;
    }
    Ok((buffer, filled))
}

impl ByteSource for BlobSource {
    fn size(&self) -> u64 {
        blob_size(&self.raw)
    }

    async fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), Error> {
        let range = offset..offset + buf.len() as u64;
        // Taken out while the read runs: reads of one source do not overlap.
        let (mut reader, mut spare) = self
            .reading
            .take()
            .unwrap_or_else(|| (BlobReader::new(self.raw.clone()), None));
        let view = reader.read(&range, &mut spare, None).await;
        self.reading.replace(Some((reader, spare)));
        // Same length, checked by the read: copy_to cannot panic.
        view?.copy_to(buf);
        Ok(())
    }
}
