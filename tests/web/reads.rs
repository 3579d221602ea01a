//! How the file is read (`web::blob::BlobReader`): consecutive ranges through one
//! stream, none of it a slice from byte 0; a slice whose read the browser refuses
//! (Chromium's blob store full: "TypeError: network error") is read once more
//! through the file itself, each byte given to the hashers once; a file that cannot
//! be read at all (changed or gone) fails at once.

use std::ops::Range;

use js_sys::{Function, Uint8Array};
use procore_upload::core::hash::{hash_bytes, Digests, HashOptions};
use procore_upload::core::Error;
use procore_upload::web::blob::BlobSource;
use procore_upload::web::hashing::hash_on_calling_thread;
use procore_upload::web::webcrypto;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::Blob;

use super::support::*;

/// How the file behaves when read.
#[derive(Clone, Copy, Debug)]
enum Behaves {
    /// Every read works.
    Intact,
    /// Its slices' streams give `n` bytes, then fail; the file's own stream works.
    SlicesRefused(u32),
    /// Its slices' streams and its own fail at once (a file changed or gone).
    Gone,
}

/// A `Blob` of `bytes` behaving as `behaves`, and the object counting the calls of
/// its `slice` and `stream` (`slices`, `streams`).
fn blob(bytes: &[u8], behaves: Behaves) -> (Blob, JsValue) {
    let (slices_fail_after, stream_fails) = match behaves {
        Behaves::Intact => (-1.0, false),
        Behaves::SlicesRefused(n) => (f64::from(n), false),
        Behaves::Gone => (0.0, true),
    };
    let make = Function::new_with_args(
        "bytes, failAfter, streamFails, counts",
        "const real = new Blob([bytes]);
         // Gives `failAfter` bytes of `data`, then fails as Chromium's stream of a slice
         // it could not build does. A byte stream where the engine has them.
         const broken = (data) => {
           let sent = failAfter === 0;
           const source = {
             pull(c) {
               if (!sent) { sent = true; c.enqueue(data.slice(0, failAfter)); return; }
               c.error(new TypeError('network error'));
             },
           };
           try { return new ReadableStream({ type: 'bytes', ...source }); }
           catch { return new ReadableStream(source); }
         };
         class Slice extends Blob {
           constructor(data) { super([data]); this.data = data; }
           stream() { return failAfter < 0 ? super.stream() : broken(this.data); }
         }
         class Picked extends Blob {
           slice(start, end) {
             counts.slices += 1;
             return new Slice(bytes.subarray(start, end));
           }
           stream() {
             counts.streams += 1;
             return streamFails ? broken(bytes) : super.stream();
           }
         }
         return new Picked([bytes]);",
    );
    let counts = object(&[("slices", 0.into()), ("streams", 0.into())]);
    let blob = make
        .call4(
            &JsValue::UNDEFINED,
            &Uint8Array::from(bytes),
            &JsValue::from(slices_fail_after),
            &stream_fails.into(),
            &counts,
        )
        .expect("make blob")
        .unchecked_into();
    (blob, counts)
}

fn count(counts: &JsValue, key: &str) -> f64 {
    get(counts, key).as_f64().expect("a count")
}

/// The digests `ranges` of `bytes` must get.
fn expected(bytes: &[u8], ranges: &[Range<u64>]) -> Vec<Digests> {
    ranges
        .iter()
        .map(|r| hash_bytes(&bytes[r.start as usize..r.end as usize], true))
        .collect()
}

/// Hashes `ranges` of `blob` both ways the library reads: a worker's WebCrypto path
/// (whole segments, MD5 from pieces of `chunk` bytes), and the calling thread's
/// (`chunk`-byte reads through `BlobSource`).
async fn hash_both_ways(
    blob: &Blob,
    ranges: &[Range<u64>],
    chunk: usize,
) -> [Result<Vec<Digests>, Error>; 2] {
    let subtle = webcrypto::subtle().expect("WebCrypto in a secure test page");
    let by_segments = webcrypto::hash_ranges(&subtle, blob, ranges, true, false, chunk, |_| {})
        .await
        .map(|(segments, _)| segments);
    let source = BlobSource::from_raw(blob.clone());
    let options = HashOptions::new(true, Some(chunk as u64)).expect("options");
    let by_reads = hash_on_calling_thread(&source, None, ranges, options, false, &|_| {})
        .await
        .map(|(segments, _)| segments);
    [by_segments, by_reads]
}

/// Hashes `ranges` of an intact `Blob` of `bytes` both ways, checking every digest;
/// gives how many slices and streams of the file both ways made together.
async fn hash_intact_both_ways(bytes: &[u8], ranges: &[Range<u64>], chunk: usize) -> (f64, f64) {
    let (file, counts) = blob(bytes, Behaves::Intact);
    for (way, result) in hash_both_ways(&file, ranges, chunk)
        .await
        .into_iter()
        .enumerate()
    {
        assert_eq!(
            result.expect("hashes"),
            expected(bytes, ranges),
            "{ranges:?}, chunk {chunk}, way {way}"
        );
    }
    (count(&counts, "slices"), count(&counts, "streams"))
}

/// Consecutive ranges are read through one stream: from byte 0 the file's own, no
/// slice at all; from further on one slice, to the file's end.
#[wasm_bindgen_test]
async fn consecutive_ranges_share_one_stream_and_none_from_byte_0_is_a_slice() {
    let bytes = pseudo_random_bytes(3000, 11);
    let cases: [(Vec<Range<u64>>, f64, f64); 2] = [
        (vec![0..1000, 1000..2000, 2000..3000], 0.0, 1.0),
        (vec![1000..2000, 2000..2500, 2500..3000], 1.0, 0.0),
    ];
    for (ranges, slices, streams) in cases {
        for chunk in [64, 1 << 20] {
            // Both ways together.
            let made = hash_intact_both_ways(&bytes, &ranges, chunk).await;
            assert_eq!(
                made,
                (2.0 * slices, 2.0 * streams),
                "{ranges:?}, chunk {chunk}"
            );
        }
    }
}

/// Where the engine's streams read ahead with no bound (WebKit), a big file is not
/// read through one stream to its end, which would hold the rest of the file in
/// memory: a stream ends after a read or 4 MiB (`core::reads::open_stream`); elsewhere
/// it is one stream of the file, as above. 10 MiB in 1 MiB reads and in 5 MiB ones.
#[wasm_bindgen_test]
async fn where_streams_read_ahead_a_big_files_streams_are_bounded() {
    const MIB: u64 = 1024 * 1024;
    let bytes = pseudo_random_bytes(10 * MIB as usize, 3);
    // WebKit's streams read ahead with no bound (`core::browser::blob_streams_read_ahead`).
    let ahead = is_webkit();
    let by_mib: Vec<Range<u64>> = (0..10).map(|i| i * MIB..(i + 1) * MIB).collect();
    // (ranges, slices of both ways together when reading ahead). The calling thread
    // reads 1 MiB at a time whatever the ranges: 0..4, 4..8, 8..10 MiB both times; the
    // WebCrypto way reads a range whole: the same for 1 MiB ranges, 0..5 and 5..10 for
    // 5 MiB ones.
    let cases: [(Vec<Range<u64>>, f64); 2] = [
        (by_mib, 3.0 + 3.0),
        (vec![0..5 * MIB, 5 * MIB..10 * MIB], 3.0 + 2.0),
    ];
    for (ranges, bounded) in cases {
        let made = hash_intact_both_ways(&bytes, &ranges, MIB as usize).await;
        let want = if ahead { (bounded, 0.0) } else { (0.0, 2.0) };
        assert_eq!(made, want, "{} reads: (slices, streams)", ranges.len());
    }
}

/// A slice whose read fails, at once or after some bytes, is read once more through
/// the file itself, up to the range and on: the digests are right (each byte hashed
/// once), and the later ranges take no new slice.
#[wasm_bindgen_test]
async fn a_refused_slice_is_read_once_more_through_the_file() {
    let bytes = pseudo_random_bytes(3000, 5);
    let ranges: Vec<Range<u64>> = vec![1000..2000, 2000..2900, 2900..3000];
    for fail_after in [0, 100, 999] {
        for chunk in [64, 1 << 20] {
            let (file, counts) = blob(&bytes, Behaves::SlicesRefused(fail_after));
            for (way, result) in hash_both_ways(&file, &ranges, chunk)
                .await
                .into_iter()
                .enumerate()
            {
                assert_eq!(
                    result.expect("hashes through the file"),
                    expected(&bytes, &ranges),
                    "after {fail_after} bytes, chunk {chunk}, way {way}"
                );
            }
            assert_eq!(count(&counts, "slices"), 2.0, "one slice each way");
            assert_eq!(
                count(&counts, "streams"),
                2.0,
                "one read through the file each way"
            );
        }
    }
}

/// A file that cannot be read through a slice nor through itself (changed or gone)
/// is FILE_READ after that one more read: never a third, never a digest.
#[wasm_bindgen_test]
async fn a_file_that_cannot_be_read_at_all_fails_at_once() {
    let bytes = pseudo_random_bytes(3000, 9);
    for ranges in [vec![0..1000, 1000..3000], vec![1000..2000, 2000..3000]] {
        let (file, counts) = blob(&bytes, Behaves::Gone);
        for (way, result) in hash_both_ways(&file, &ranges, 64)
            .await
            .into_iter()
            .enumerate()
        {
            match result {
                Err(Error::FileRead { message, .. }) => {
                    assert!(message.contains("network error"), "way {way}: {message}")
                }
                other => panic!("{ranges:?}, way {way}: {other:?}"),
            }
        }
        let slices = if ranges[0].start == 0 { 0.0 } else { 2.0 };
        assert_eq!(count(&counts, "slices"), slices, "{ranges:?}");
        assert_eq!(
            count(&counts, "streams"),
            2.0,
            "{ranges:?}: one read of the file each way"
        );
    }
}
