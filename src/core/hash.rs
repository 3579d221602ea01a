//! SHA-256 and MD5 of the same bytes, computed in one pass over them.

use std::ops::Range;

use md5::Md5;
use sha2::{Digest, Sha256};

use super::source::ByteSource;
use super::Error;

/// Bytes read from the source per step when the caller does not say.
pub const DEFAULT_CHUNK_SIZE: usize = 4 * 1024 * 1024;
/// Largest read per step: bounds the one buffer the hasher keeps.
pub const MAX_CHUNK_SIZE: usize = 64 * 1024 * 1024;

/// The digests of one run of bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests {
    /// SHA-256, always computed (Procore requires it for every segment).
    pub sha256: [u8; 32],
    /// MD5, when asked for.
    pub md5: Option<[u8; 16]>,
}

impl Digests {
    /// SHA-256 as lowercase hex, the form Procore's API takes.
    pub fn sha256_hex(&self) -> String {
        to_hex(&self.sha256)
    }

    /// MD5 as lowercase hex, when computed.
    pub fn md5_hex(&self) -> Option<String> {
        self.md5.as_ref().map(|md5| to_hex(md5))
    }

    /// Digests from their hex forms (as a hashing worker sends them).
    pub fn from_hex(sha256: &str, md5: Option<&str>) -> Option<Self> {
        Some(Self {
            sha256: from_hex(sha256)?,
            md5: match md5 {
                Some(hex) => Some(from_hex(hex)?),
                None => None,
            },
        })
    }
}

/// `N` bytes from `2N` hex digits (either case).
fn from_hex<const N: usize>(hex: &str) -> Option<[u8; N]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 2 * N {
        return None;
    }
    let digit = |c: u8| {
        char::from(c)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let [high, low] = pair else { return None };
        *byte = digit(*high)? << 4 | digit(*low)?;
    }
    Some(out)
}

/// Feeds each byte once to SHA-256 and (optionally) MD5.
#[derive(Clone)]
pub struct MultiHasher {
    sha256: Sha256,
    md5: Option<Md5>,
}

impl MultiHasher {
    /// A hasher computing SHA-256, and MD5 too when `with_md5`.
    pub fn new(with_md5: bool) -> Self {
        Self {
            sha256: Sha256::new(),
            md5: with_md5.then(Md5::new),
        }
    }

    /// Hashes the next bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.sha256.update(data);
        if let Some(md5) = &mut self.md5 {
            md5.update(data);
        }
    }

    /// The digests of everything passed to [`MultiHasher::update`].
    pub fn finalize(self) -> Digests {
        Digests {
            sha256: self.sha256.finalize().into(),
            md5: self.md5.map(|md5| md5.finalize().into()),
        }
    }
}

/// Digests of an in-memory byte slice.
pub fn hash_bytes(data: &[u8], with_md5: bool) -> Digests {
    let mut hasher = MultiHasher::new(with_md5);
    hasher.update(data);
    hasher.finalize()
}

/// Whether an upload sends segment MD5s when its options do not say (`md5`): no.
/// Procore calls them optional (v1: "so that the storage provider can verify the data
/// integrity"; v2.1: "an optional MD5 check"); without them storage still checks each
/// PUT against the SHA-256 signed into its URL (and v2.1 the whole file's), and the
/// upload is 10-30 % faster (bench/RESULTS.md, issue 26).
pub const UPLOAD_MD5_DEFAULT: bool = false;

/// An upload's MD5 setting: what its options chose, else that of the kept state it
/// goes on from (its digests were made with it), else [`UPLOAD_MD5_DEFAULT`].
pub fn upload_md5(chosen: Option<bool>, kept: Option<bool>) -> bool {
    chosen.or(kept).unwrap_or(UPLOAD_MD5_DEFAULT)
}

/// Whether a state kept with the MD5 setting `kept` fits an upload whose options
/// chose `chosen`: any state when they chose nothing (so that states kept before the
/// default changed still resume), else only one of the same setting.
pub fn kept_md5_fits(chosen: Option<bool>, kept: bool) -> bool {
    chosen.is_none_or(|chosen| chosen == kept)
}

/// How [`hash_source`] reads and what it computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashOptions {
    /// Compute MD5 besides SHA-256.
    pub md5: bool,
    /// Bytes per read; the size of the one buffer reused for every read.
    pub chunk_size: usize,
}

impl Default for HashOptions {
    fn default() -> Self {
        Self {
            md5: true,
            chunk_size: DEFAULT_CHUNK_SIZE,
        }
    }
}

impl HashOptions {
    /// Options with the given chunk size, checked by [`checked_chunk_size`].
    pub fn new(md5: bool, chunk_size: Option<u64>) -> Result<Self, Error> {
        Ok(Self {
            md5,
            chunk_size: checked_chunk_size(chunk_size)?,
        })
    }
}

/// A requested `chunkSize`, checked against `1..=MAX_CHUNK_SIZE`;
/// [`DEFAULT_CHUNK_SIZE`] when none was asked for.
pub fn checked_chunk_size(requested: Option<u64>) -> Result<usize, Error> {
    match requested {
        None => Ok(DEFAULT_CHUNK_SIZE),
        Some(size) if (1..=MAX_CHUNK_SIZE as u64).contains(&size) => {
            Ok(usize::try_from(size).unwrap_or(MAX_CHUNK_SIZE))
        }
        Some(size) => Err(Error::InvalidInput(format!(
            "chunkSize must be between 1 and {MAX_CHUNK_SIZE} bytes, got {size}"
        ))),
    }
}

/// Hashes every byte of `source`, reading `chunk_size` bytes at a time into one
/// reused buffer.
///
/// `progress` is called with the number of bytes hashed so far: once with 0 before
/// the first read and after every chunk. An error it returns (an abort, say) stops
/// the work and is returned.
pub async fn hash_source<S: ByteSource + ?Sized>(
    source: &S,
    options: HashOptions,
    mut progress: impl FnMut(u64) -> Result<(), Error>,
) -> Result<Digests, Error> {
    let whole = 0..source.size();
    let (mut segments, _) = hash_segments(source, &[whole], options, false, &mut progress).await?;
    segments
        .pop()
        .ok_or_else(|| Error::file_read("no digest was computed"))
}

/// Digests of consecutive byte ranges of `source`, and of all of it when `whole`,
/// in a single read of each byte (one reused buffer; reads never cross a range end).
///
/// `progress` as for [`hash_source`].
pub async fn hash_segments<S: ByteSource + ?Sized>(
    source: &S,
    ranges: &[Range<u64>],
    options: HashOptions,
    whole: bool,
    // `dyn`: one copy of this loop per source type, not one per caller's closure.
    progress: &mut dyn FnMut(u64) -> Result<(), Error>,
) -> Result<(Vec<Digests>, Option<Digests>), Error> {
    let largest = ranges.iter().map(|r| r.end - r.start).max().unwrap_or(0);
    // Never larger than a range: a small file gets a small buffer.
    let buffer_len =
        usize::try_from(largest).map_or(options.chunk_size, |l| l.min(options.chunk_size));
    let mut buffer = vec![0u8; buffer_len];
    // The whole file gets SHA-256 only: its MD5 is optional in v2.1 and adds
    // nothing the per-segment digests and the whole SHA-256 do not already check.
    let mut whole_hasher = whole.then(|| MultiHasher::new(false));
    let mut digests = Vec::with_capacity(ranges.len());
    let mut hashed = 0u64;
    progress(0)?;
    for range in ranges {
        let mut hasher = MultiHasher::new(options.md5);
        let mut offset = range.start;
        while offset < range.end {
            let room = buffer.len();
            let len = usize::try_from(range.end - offset).map_or(room, |r| r.min(room));
            // len ≤ buffer.len(): the whole chunk is there.
            let chunk = buffer.get_mut(..len).unwrap_or_default();
            source.read_at(offset, chunk).await?;
            hasher.update(chunk);
            if let Some(whole) = &mut whole_hasher {
                whole.update(chunk);
            }
            offset += len as u64;
            hashed += len as u64;
            progress(hashed)?;
        }
        digests.push(hasher.finalize());
    }
    Ok((digests, whole_hasher.map(MultiHasher::finalize)))
}

/// Computes the digests of byte ranges of the file being uploaded: on the calling
/// thread ([`InThread`]) or elsewhere (the web adapter's worker pool).
#[allow(async_fn_in_trait)] // Single-threaded (wasm): no Send bound wanted.
pub trait HashBackend {
    /// Size of the file.
    fn size(&self) -> u64;

    /// Digests of consecutive `ranges`, and of the whole file when `whole`;
    /// `progress` gets the bytes hashed so far (never decreasing).
    async fn hash(
        &self,
        ranges: &[Range<u64>],
        options: HashOptions,
        whole: bool,
        progress: &dyn Fn(u64),
    ) -> Result<(Vec<Digests>, Option<Digests>), Error>;
}

/// Hashing on the calling thread, one read of each byte, stopping between reads
/// once `cancelled` says so.
pub struct InThread<'a, S: ?Sized> {
    source: &'a S,
    cancelled: &'a dyn Fn() -> bool,
    max_chunk: usize,
}

impl<'a, S: ByteSource + ?Sized> InThread<'a, S> {
    /// Hashes `source`, never cancelled.
    pub fn new(source: &'a S) -> Self {
        Self {
            source,
            cancelled: &|| false,
            max_chunk: usize::MAX,
        }
    }

    /// Hashes `source` until `cancelled()` turns true ([`Error::Aborted`]).
    pub fn cancellable(source: &'a S, cancelled: &'a dyn Fn() -> bool) -> Self {
        Self {
            source,
            cancelled,
            max_chunk: usize::MAX,
        }
    }

    /// Reads at most `max_chunk` bytes at a time, whatever the options say: on a page's
    /// main thread each read and its hashing is one task, which must stay short.
    pub fn with_max_chunk(mut self, max_chunk: usize) -> Self {
        self.max_chunk = max_chunk.max(1);
        self
    }
}

impl<S: ByteSource + ?Sized> HashBackend for InThread<'_, S> {
    fn size(&self) -> u64 {
        self.source.size()
    }

    async fn hash(
        &self,
        ranges: &[Range<u64>],
        options: HashOptions,
        whole: bool,
        progress: &dyn Fn(u64),
    ) -> Result<(Vec<Digests>, Option<Digests>), Error> {
        let options = HashOptions {
            chunk_size: options.chunk_size.min(self.max_chunk),
            ..options
        };
        hash_segments(self.source, ranges, options, whole, &mut |hashed| {
            if (self.cancelled)() {
                return Err(Error::Aborted);
            }
            progress(hashed);
            Ok(())
        })
        .await
    }
}

/// Lowercase hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    let mut hex = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        for nibble in [byte >> 4, byte & 0xf] {
            // A nibble is below 16: always a digit.
            hex.extend(char::from_digit(u32::from(nibble), 16));
        }
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_uploads_md5_setting_is_chosen_else_kept_else_off() {
        // (chosen by the options, kept state's setting, used, a kept state fits)
        let table = [
            (None, None, false, None),
            (None, Some(true), true, Some(true)),
            (None, Some(false), false, Some(true)),
            (Some(true), None, true, None),
            (Some(true), Some(true), true, Some(true)),
            (Some(true), Some(false), true, Some(false)),
            (Some(false), Some(true), false, Some(false)),
            (Some(false), Some(false), false, Some(true)),
        ];
        for (chosen, kept, used, fits) in table {
            assert_eq!(upload_md5(chosen, kept), used, "{chosen:?} {kept:?}");
            assert_eq!(
                kept.map(|kept| kept_md5_fits(chosen, kept)),
                fits,
                "{chosen:?} {kept:?}"
            );
        }
    }

    use crate::core::test_vectors::{
        lcg_bytes, LCG_LEN, LCG_MD5, LCG_SHA256, MILLION_A, SHORT as VECTORS,
    };

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        pollster::block_on(future)
    }

    fn hash_in_chunks(data: &[u8], chunk_size: usize) -> (Digests, Vec<u64>) {
        let mut seen = Vec::new();
        let options = HashOptions {
            md5: true,
            chunk_size,
        };
        let digests = block_on(hash_source(data, options, |n| {
            seen.push(n);
            Ok(())
        }))
        .expect("hashing an in-memory slice cannot fail");
        (digests, seen)
    }

    #[test]
    fn known_answers_in_one_update() {
        for (input, sha256, md5) in VECTORS {
            let digests = hash_bytes(input, true);
            assert_eq!(digests.sha256_hex(), *sha256, "sha256 of {input:?}");
            assert_eq!(digests.md5_hex().as_deref(), Some(*md5), "md5 of {input:?}");
        }
    }

    #[test]
    fn known_answers_across_every_chunk_size() {
        for (input, sha256, md5) in VECTORS {
            for chunk_size in 1..=input.len().max(1) + 1 {
                let (digests, _) = hash_in_chunks(input, chunk_size);
                assert_eq!(
                    digests.sha256_hex(),
                    *sha256,
                    "{input:?} in chunks of {chunk_size}"
                );
                assert_eq!(
                    digests.md5_hex().as_deref(),
                    Some(*md5),
                    "{input:?} in chunks of {chunk_size}"
                );
            }
        }
    }

    #[test]
    fn million_a_across_block_and_chunk_boundaries() {
        let (byte, len, sha256, md5) = MILLION_A;
        let data = vec![byte; len];
        // 64 is the SHA-256/MD5 block; the odd sizes make reads straddle blocks.
        for chunk_size in [63, 64, 65, 4096, 65_537, 999_999, len, DEFAULT_CHUNK_SIZE] {
            let (digests, _) = hash_in_chunks(&data, chunk_size);
            assert_eq!(digests.sha256_hex(), sha256, "chunks of {chunk_size}");
            assert_eq!(
                digests.md5_hex().as_deref(),
                Some(md5),
                "chunks of {chunk_size}"
            );
        }
    }

    #[test]
    fn nine_mib_plus_one_in_large_reads() {
        let data = lcg_bytes(LCG_LEN);
        for chunk_size in [(1 << 20) + 1, DEFAULT_CHUNK_SIZE, LCG_LEN, MAX_CHUNK_SIZE] {
            let (digests, _) = hash_in_chunks(&data, chunk_size);
            assert_eq!(digests.sha256_hex(), LCG_SHA256, "chunks of {chunk_size}");
            assert_eq!(
                digests.md5_hex().as_deref(),
                Some(LCG_MD5),
                "chunks of {chunk_size}"
            );
        }
    }

    #[test]
    fn segments_and_whole_in_one_pass() {
        let data = lcg_bytes(1000);
        let ranges = [0..300, 300..600, 600..1000];
        for chunk_size in [1, 64, 250, 4096] {
            let options = HashOptions {
                md5: true,
                chunk_size,
            };
            let mut reads = 0;
            let (segments, whole) = block_on(hash_segments(
                &data[..],
                &ranges,
                options,
                true,
                &mut |_| {
                    reads += 1;
                    Ok(())
                },
            ))
            .unwrap();
            for (digest, range) in segments.iter().zip(&ranges) {
                let start = range.start as usize;
                let end = range.end as usize;
                assert_eq!(
                    *digest,
                    hash_bytes(&data[start..end], true),
                    "chunks of {chunk_size}"
                );
            }
            // The whole file: SHA-256 only, whatever the segments get.
            assert_eq!(whole, Some(hash_bytes(&data, false)));
            let per_range: usize = ranges
                .iter()
                .map(|r| ((r.end - r.start) as usize).div_ceil(chunk_size))
                .sum();
            assert_eq!(reads, 1 + per_range, "reads never cross a range end");
        }
        let (segments, whole) = block_on(hash_segments(
            &data[..0],
            &[Range { start: 0, end: 0 }],
            HashOptions::default(),
            false,
            &mut |_| Ok(()),
        ))
        .unwrap();
        assert_eq!(segments, [hash_bytes(b"", true)]);
        assert_eq!(whole, None);
    }

    #[test]
    fn md5_off_computes_sha256_only() {
        let digests = hash_bytes(b"abc", false);
        assert_eq!(digests.md5, None);
        assert_eq!(digests.sha256_hex(), VECTORS[1].1);
    }

    #[test]
    fn progress_starts_at_zero_rises_by_chunks_and_ends_at_size() {
        let data = vec![7u8; 10];
        let (_, seen) = hash_in_chunks(&data, 4);
        assert_eq!(seen, [0, 4, 8, 10]);
        let (_, seen) = hash_in_chunks(&[], 4);
        assert_eq!(seen, [0]);
    }

    #[test]
    fn an_error_from_progress_stops_the_reads() {
        let data = [0u8; 100];
        let mut calls = 0;
        let options = HashOptions {
            md5: true,
            chunk_size: 10,
        };
        let result = block_on(hash_source(&data[..], options, |hashed| {
            calls += 1;
            if hashed >= 30 {
                Err(Error::Aborted)
            } else {
                Ok(())
            }
        }));
        assert_eq!(result, Err(Error::Aborted));
        assert_eq!(calls, 4, "0, 10, 20, 30 and then no more reads");
    }

    #[test]
    fn a_source_shorter_than_its_size_is_a_read_error() {
        struct Truncated;
        impl ByteSource for Truncated {
            fn size(&self) -> u64 {
                10
            }
            async fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), Error> {
                b"12345"[..].read_at(offset, buf).await
            }
        }
        let result = block_on(hash_source(&Truncated, HashOptions::default(), |_| Ok(())));
        assert!(matches!(result, Err(Error::FileRead { .. })), "{result:?}");
    }

    #[test]
    fn chunk_size_limits() {
        let table: &[(Option<u64>, Result<usize, ()>)] = &[
            (None, Ok(DEFAULT_CHUNK_SIZE)),
            (Some(1), Ok(1)),
            (Some(MAX_CHUNK_SIZE as u64), Ok(MAX_CHUNK_SIZE)),
            (Some(0), Err(())),
            (Some(MAX_CHUNK_SIZE as u64 + 1), Err(())),
            (Some(u64::MAX), Err(())),
        ];
        for (requested, expected) in table {
            let got = HashOptions::new(true, *requested).map(|o| o.chunk_size);
            match (got, expected) {
                (Ok(got), Ok(want)) => assert_eq!(got, *want, "{requested:?}"),
                (Err(Error::InvalidInput(_)), Err(())) => {}
                (got, want) => panic!("{requested:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn digests_round_trip_through_hex() {
        let digests = hash_bytes(b"abc", true);
        let back = Digests::from_hex(&digests.sha256_hex(), digests.md5_hex().as_deref());
        assert_eq!(back, Some(digests.clone()));
        let upper = digests.sha256_hex().to_uppercase();
        assert_eq!(
            Digests::from_hex(&upper, None).map(|d| d.sha256),
            Some(digests.sha256)
        );
        assert_eq!(Digests::from_hex("abc", None), None);
        assert_eq!(Digests::from_hex(&"zz".repeat(32), None), None);
        assert_eq!(Digests::from_hex(&digests.sha256_hex(), Some("00")), None);
    }

    #[test]
    fn hex_is_lowercase_and_padded() {
        assert_eq!(to_hex(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
        assert_eq!(to_hex(&[]), "");
    }
}
