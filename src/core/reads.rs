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
