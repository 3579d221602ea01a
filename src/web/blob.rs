//! A `Blob` (or `File`) as the core's [`ByteSource`], and the checked reads every
//! hashing path shares.

use std::cell::RefCell;
use std::ops::Range;

use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, ReadableStreamByobReader, ReadableStreamDefaultReader};

use super::error::file_read_error;
use super::js::{current_engine, get_property};
use crate::core::browser::detach_read_buffers;
use crate::core::source::ByteSource;
use crate::core::Error;

/// Reads a browser `Blob` in slices through one buffer reused from read to read (see
/// [`read_segment`]), so only the slice being read is ever in memory, never the whole
/// file, and no garbage piles up while a big file is read.
#[derive(Debug, Clone)]
pub struct BlobSource {
    raw: Blob,
    spare: RefCell<Option<ArrayBuffer>>,
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
            spare: RefCell::new(None),
        }
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

/// `blob.slice(start, end)`: a view of the bytes, nothing copied or read.
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

/// Reads `range` of `blob` into a buffer that is reused from segment to segment, so
/// that reading a big file takes no more memory than one segment: a new
/// `ArrayBuffer` per read (as `arrayBuffer()` gives) is freed only when the garbage
/// collector gets to it, and hundreds of MiB of them piled up while a GiB was hashed.
///
/// With `pieces`, the bytes come through the slice's stream in pieces of at most
/// its `staging.len()`; each piece is copied into `staging` (wasm memory) and given
/// to its `each` while the browser already reads the next one. `spare` is the
/// buffer to fill (a new one when it is missing or too small) and holds the filled
/// buffer afterwards; the returned view is the segment's bytes in it.
///
/// Where the stream is a byte stream (Chromium, Firefox), a BYOB reader fills the
/// buffer itself; elsewhere (WebKit) the stream's own chunks are copied into it.
pub async fn read_segment(
    blob: &Blob,
    range: &Range<u64>,
    spare: &mut Option<ArrayBuffer>,
    pieces: Option<Pieces<'_>>,
) -> Result<Uint8Array, Error> {
    let length = u32::try_from(range.end - range.start)
        .map_err(|_| Error::file_read("a segment read whole must be below 4 GiB"))?;
    let buffer = spare
        .take()
        .filter(|buffer| buffer.byte_length() >= length)
        .unwrap_or_else(|| ArrayBuffer::new(length));
    let stream = slice(blob, range)?.stream();
    let (buffer, filled) = match ReadableStreamByobReader::new(&stream) {
        Ok(reader) => read_byob(&reader, buffer, length, pieces).await?,
        Err(_) => {
            let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
            read_chunks(&reader, buffer, length, pieces).await?
        }
    };
    *spare = Some(buffer.clone());
    if filled != length {
        return Err(short_read(range, filled));
    }
    Ok(Uint8Array::new_with_byte_offset_and_length(
        &buffer, 0, length,
    ))
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

/// What [`read_segment`] does with each piece as it comes in.
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
}

fn short_read(range: &Range<u64>, got: u32) -> Error {
    Error::file_read(format!(
        "expected {} bytes at offset {}, got {got}: the file changed while it was read",
        range.end - range.start,
        range.start
    ))
}

/// `{ done, value }` of a stream read; `None` once the stream is done.
async fn next_chunk(read: js_sys::Promise) -> Result<Option<Uint8Array>, Error> {
    let result = JsFuture::from(read).await.map_err(file_read_error)?;
    let value = get_property(&result, "value");
    if get_property(&result, "done").is_truthy() {
        return Ok(None);
    }
    // Not `instanceof`: Firefox hands the page chunks made in another realm.
    if ArrayBuffer::is_view(&value) {
        Ok(Some(value.unchecked_into()))
    } else {
        Err(Error::file_read(format!(
            "the file's stream gave {} instead of bytes",
            super::js::describe(&value)
        )))
    }
}

/// Fills `buffer` through a BYOB reader; each read hands the buffer back (moved, not
/// copied), the next read is asked for before the piece's `each` runs. Returns the
/// buffer and how many bytes it holds.
async fn read_byob(
    reader: &ReadableStreamByobReader,
    mut buffer: ArrayBuffer,
    length: u32,
    mut pieces: Option<Pieces<'_>>,
) -> Result<(ArrayBuffer, u32), Error> {
    let most = pieces.as_ref().map_or(u32::MAX, Pieces::most);
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
        let copy = match pieces.as_mut() {
            Some(pieces) => {
                let Some(copy) = pieces.staging.get_mut(..size as usize) else {
                    return Err(Error::file_read(
                        "the file's stream gave more than was asked",
                    ));
                };
                piece.copy_to(copy);
                Some((copy, &mut pieces.each))
            }
            None => None,
        };
        buffer = piece.buffer();
        filled += size;
        if filled < length {
            pending = Some(ask(&buffer, filled));
        }
        if let Some((copy, each)) = copy {
            each(copy);
        }
    }
    let _ = reader.cancel();
    Ok((buffer, filled))
}

/// Copies the stream's own chunks into `buffer` (engines without BYOB readers for a
/// `Blob`'s stream); the next chunk is asked for before the pieces' `each` runs.
async fn read_chunks(
    reader: &ReadableStreamDefaultReader,
    buffer: ArrayBuffer,
    length: u32,
    mut pieces: Option<Pieces<'_>>,
) -> Result<(ArrayBuffer, u32), Error> {
    let target = Uint8Array::new(&buffer);
    let mut filled = 0u32;
    let mut pending = Some(reader.read());
    while let Some(read) = pending.take() {
        let Some(chunk) = next_chunk(read).await? else {
            break;
        };
        let size = chunk.length();
        if size > length - filled {
            return Err(Error::file_read(
                "the file's stream gave more bytes than the slice holds",
            ));
        }
        target.set(&chunk, filled);
        pending = Some(reader.read());
        if let Some(pieces) = pieces.as_mut() {
            let most = pieces.most();
            let mut at = 0;
            while at < size {
                let piece = (size - at).min(most);
                let Some(copy) = pieces.staging.get_mut(..piece as usize) else {
                    break;
                };
                chunk.subarray(at, at + piece).copy_to(copy);
                (pieces.each)(copy);
                at += piece;
            }
        }
        release_read(&chunk);
        filled += size;
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
        let mut spare = self.spare.take();
        let view = read_segment(&self.raw, &range, &mut spare, None).await;
        self.spare.replace(spare);
        // Same length, checked by read_segment: copy_to cannot panic.
        view?.copy_to(buf);
        Ok(())
    }
}
