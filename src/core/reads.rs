//! How the file is read, and what a failed read of it leads to: pure rules, so that a
//! read the browser refused for want of room (worth one more try, another way) and a
//! file changed or gone (final at once) are told apart by a table test.
//!
//! Chromium keeps the bytes of a `Blob` built in the page (`new File([parts])`) in its
//! browser process, within a quota (500 MiB where its limits stay at their defaults,
//! as in the headless Chromium of the tests; 2 GiB, then disk, in desktop Chrome; no
//! disk in incognito). A slice that starts or ends inside one of such a Blob's byte
//! items (up to 10 MiB each) is built by copying those bytes into the same store, and
//! stays there until the garbage collector takes the slice's small JS object. Once
//! the store is full, a new slice cannot be built and its read fails ("TypeError:
//! network error", `NotReadableError`) although the file is intact; the file itself
//! still reads, since reading builds nothing. So: as few slices as possible (one per
//! run of consecutive ranges, none from byte 0), and after a slice's read fails, one
//! more read through the file itself.

use std::ops::Range;

/// How a read reaches the file's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadVia {
    /// A slice of the file, from the read's offset to the file's end: the browser may
    /// have to build a new blob for it.
    Slice,
    /// The file itself, from its first byte (skipping up to the offset): nothing new is
    /// built, so nothing can be refused for want of room.
    File,
}

/// How a stream of the file from `offset` is opened: the file itself from byte 0, a
/// slice from anywhere else.
pub fn read_via(offset: u64) -> ReadVia {
    if offset == 0 {
        ReadVia::File
    } else {
        ReadVia::Slice
    }
}

/// How far a stream reaches past a read's start where the engine's streams read
/// ahead with no bound ([`crate::core::browser::blob_streams_read_ahead`]): a read
/// shorter than this (a 1 MiB chunk) shares its stream with the next ones; a longer
/// one (every segment is ≥ 5 MB) gets a stream of its own, exactly its bytes.
pub const READ_AHEAD_SPAN: u64 = 4 * 1024 * 1024;

/// How a new stream for a read of `range` of a `size`-byte file is opened, and the
/// file offset where it ends.
///
/// After a slice's read was refused (`through_file`), every stream is of the file
/// itself, to its end ([`after_read_failure`]).
///
/// Where streams are read as the reader asks, one stream goes to the file's end (the
/// file itself from byte 0, see [`read_via`]). Where they read ahead with no bound
/// (`reads_ahead`), a stream to the file's end would pull the whole file into memory,
/// so it ends after the range or [`READ_AHEAD_SPAN`], whichever is further (a slice,
/// even from byte 0: such an engine copies no bytes for one); a file that ends before
/// that is read as anywhere else.
pub fn open_stream(
    range: &Range<u64>,
    size: u64,
    reads_ahead: bool,
    through_file: bool,
) -> (ReadVia, u64) {
    if through_file {
        return (ReadVia::File, size);
    }
    // Offsets are below 2^53 (a Blob's size): no sum overflows.
    let end = if reads_ahead {
        range.end.max(range.start + READ_AHEAD_SPAN).min(size)
    } else {
        size
    };
    if end < size {
        (ReadVia::Slice, end)
    } else {
        (read_via(range.start), size)
    }
}

/// How a read failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFailure {
    /// The browser refused or broke off the read (an exception or a rejected read:
    /// Chromium's "TypeError: network error" or `NotReadableError`, WebKit's
    /// `NotFoundError`).
    Refused,
    /// The bytes ended before the range did: the file shrank after it was picked.
    Short,
    /// The browser gave something a stream of bytes cannot give (more than asked, not
    /// bytes): nothing to retry.
    Malformed,
    /// The read was aborted.
    Aborted,
}

/// What follows a failed read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterReadFailure {
    /// Read the same range again, through the file itself ([`ReadVia::File`]).
    RetryThroughFile,
    /// The read fails (`FILE_READ`, or `ABORTED` for an abort).
    Fail,
}

/// Most attempts at one read, the first included: a refused slice is read once more
/// through the file itself, which needs no room in the store; when that fails too,
/// the file cannot be read at all.
pub const MAX_READ_ATTEMPTS: u32 = 2;

/// The rule for a read of a range that failed on its `attempts`-th attempt (from 1),
/// made `via` a slice or the file itself.
///
/// Only a refused slice is read again: a file changed or gone after it was picked
/// fails through the file itself too (Chromium's snapshot check, WebKit's
/// `NotFoundError`), so it still fails at once, after one more read of its first
/// bytes; a short read means the file changed; an abort is the caller's.
pub fn after_read_failure(failure: ReadFailure, via: ReadVia, attempts: u32) -> AfterReadFailure {
    match (failure, via) {
        (ReadFailure::Refused, ReadVia::Slice) if attempts < MAX_READ_ATTEMPTS => {
            AfterReadFailure::RetryThroughFile
        }
        _ => AfterReadFailure::Fail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_reaches_the_files_end_unless_the_engine_reads_ahead() {
        const MIB: u64 = 1024 * 1024;
        use ReadVia::*;
        // (range, file size, reads ahead, opened via, stream's end)
        let table = [
            // Read as asked: one stream to the end, the file itself from byte 0.
            (0..MIB, 512 * MIB, false, File, 512 * MIB),
            (MIB..2 * MIB, 512 * MIB, false, Slice, 512 * MIB),
            (8 * MIB..16 * MIB, 512 * MIB, false, Slice, 512 * MIB),
            // Read ahead: small reads share a span, from byte 0 too (a slice).
            (0..MIB, 512 * MIB, true, Slice, READ_AHEAD_SPAN),
            (MIB..2 * MIB, 512 * MIB, true, Slice, MIB + READ_AHEAD_SPAN),
            // A segment longer than the span: exactly its bytes.
            (0..8 * MIB, 512 * MIB, true, Slice, 8 * MIB),
            (8 * MIB..16 * MIB, 512 * MIB, true, Slice, 16 * MIB),
            // Near the end, or a small file: as if nothing read ahead.
            (510 * MIB..511 * MIB, 512 * MIB, true, Slice, 512 * MIB),
            (0..1000, 3000, true, File, 3000),
            (1000..2000, 3000, true, Slice, 3000),
            (504 * MIB..512 * MIB, 512 * MIB, true, Slice, 512 * MIB),
            // The largest offsets a Blob has (below 2^53).
            (
                (1 << 53) - 2..(1 << 53) - 1,
                (1 << 53) - 1,
                true,
                Slice,
                (1 << 53) - 1,
            ),
        ];
        for (range, size, ahead, via, end) in table {
            assert_eq!(
                open_stream(&range, size, ahead, false),
                (via, end),
                "{range:?} of {size}, reads ahead {ahead}"
            );
            // After a refused slice: the file itself, to its end, whatever the engine.
            assert_eq!(
                open_stream(&range, size, ahead, true),
                (File, size),
                "{range:?} of {size} through the file, reads ahead {ahead}"
            );
        }
    }

    #[test]
    fn a_refused_slice_is_read_once_more_through_the_file_anything_else_fails_at_once() {
        use AfterReadFailure::*;
        use ReadFailure::*;
        use ReadVia::*;
        let table = [
            // Chromium's store full: the slice could not be built; the file can be read.
            (Refused, Slice, 1, RetryThroughFile),
            // Bounded: a refused slice on a later attempt (never made today) fails.
            (Refused, Slice, MAX_READ_ATTEMPTS, Fail),
            (Refused, Slice, MAX_READ_ATTEMPTS + 1, Fail),
            // The file itself refused (changed or gone on disk, a Blob broken at
            // birth): no other way to read it.
            (Refused, File, 1, Fail),
            (Refused, File, 2, Fail),
            // The file shrank: changed after it was picked, however it was read.
            (Short, Slice, 1, Fail),
            (Short, File, 1, Fail),
            (Malformed, Slice, 1, Fail),
            (Malformed, File, 1, Fail),
            // The caller's abort is never retried.
            (Aborted, Slice, 1, Fail),
            (Aborted, File, 1, Fail),
        ];
        for (failure, via, attempts, expected) in table {
            assert_eq!(
                after_read_failure(failure, via, attempts),
                expected,
                "{failure:?} via {via:?} on attempt {attempts}"
            );
        }
    }

    #[test]
    fn a_read_from_the_first_byte_needs_no_slice() {
        let table = [
            (0, ReadVia::File),
            (1, ReadVia::Slice),
            (16 * 1024 * 1024, ReadVia::Slice),
            (u64::MAX, ReadVia::Slice),
        ];
        for (offset, via) in table {
            assert_eq!(read_via(offset), via, "offset {offset}");
        }
    }
}
