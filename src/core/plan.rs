//! How a file is cut into segments, and whether it is cut at all: pure decisions.

use std::ops::Range;

use super::Error;

/// One mebibyte.
pub const MIB: u64 = 1024 * 1024;
/// Segment size when the caller does not choose one (and the file is not so large
/// that 10,000 segments of it would not hold it).
pub const DEFAULT_SEGMENT_SIZE: u64 = 16 * MIB;
/// Most segments (parts) in one upload, in every API version (S3's limit).
pub const MAX_SEGMENTS: u64 = 10_000;
/// v1 `segmented: "auto"` cuts files of this size and more.
///
/// Below it a single form POST wins: it needs no hashing pass over the file and one
/// request instead of create + N PUTs + complete, and cutting would give at most two
/// default-size segments, so little parallelism to gain. From it up, segments bring
/// parallel PUTs and a failure costs one segment, not the whole file.
pub const AUTO_SEGMENTED_FROM: u64 = 2 * DEFAULT_SEGMENT_SIZE;
/// A browser form POST to S3 carries at most 5 GiB.
pub const MAX_FORM_UPLOAD: u64 = 5 * 1024 * MIB;

/// Which Procore upload API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    /// `/rest/v1.0/`.
    V10,
    /// `/rest/v1.1/` (requires `response_filename`).
    V11,
    /// `/rest/v2.1/` unified uploads.
    V21,
}

impl ApiVersion {
    /// From `"v1.0"`, `"v1.1"` or `"v2.1"`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        match text {
            "v1.0" => Ok(Self::V10),
            "v1.1" => Ok(Self::V11),
            "v2.1" => Ok(Self::V21),
            other => Err(Error::InvalidInput(format!(
                "apiVersion must be \"v1.0\", \"v1.1\" or \"v2.1\", got {}",
                super::json::quote(other)
            ))),
        }
    }

    /// The path segment, e.g. `"v1.1"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V10 => "v1.0",
            Self::V11 => "v1.1",
            Self::V21 => "v2.1",
        }
    }

    /// Segment limits of this version.
    pub fn limits(self) -> Limits {
        match self {
            // v1: "≥ 5 MB except the last, ≤ 5 GB"; storage is S3, whose parts are
            // 5 MiB at least, so 5 MiB it is.
            Self::V10 | Self::V11 => Limits {
                min_segment: 5 * MIB,
                max_segment: 5 * 1024 * MIB,
            },
            // v2.1: "> 5 MiB (5,242,881 B minimum) except the last, ≤ 100 MiB".
            Self::V21 => Limits {
                min_segment: 5 * MIB + 1,
                max_segment: 100 * MIB,
            },
        }
    }
}

/// Size limits of the segments of one API version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Smallest segment but the last.
    pub min_segment: u64,
    /// Largest segment.
    pub max_segment: u64,
}

/// `segmented` option: cut the file, don't, or decide by size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segmented {
    /// Always segments.
    Yes,
    /// One form POST (v1 only).
    No,
    /// v1: by size ([`AUTO_SEGMENTED_FROM`]); v2.1: always segments.
    Auto,
}

/// Decides whether an upload of `size` bytes is segmented.
pub fn use_segments(version: ApiVersion, mode: Segmented, size: u64) -> Result<bool, Error> {
    match (version, mode) {
        (ApiVersion::V21, Segmented::No) => Err(Error::InvalidInput(
            "v2.1 uploads are always segmented: segmented: false is not possible".into(),
        )),
        (ApiVersion::V21, _) | (_, Segmented::Yes) => Ok(true),
        (_, Segmented::No) if size > MAX_FORM_UPLOAD => Err(Error::InvalidInput(format!(
            "a non-segmented upload carries at most {MAX_FORM_UPLOAD} bytes; this file has {size}: use segmented: true or \"auto\""
        ))),
        (_, Segmented::No) => Ok(false),
        (_, Segmented::Auto) => Ok(size >= AUTO_SEGMENTED_FROM),
    }
}

/// The segments of a file: all `segment_size` bytes but the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentPlan {
    /// File size.
    pub size: u64,
    /// Size of every segment but the last.
    pub segment_size: u64,
}

impl SegmentPlan {
    /// Number of segments (an empty file has one, empty).
    pub fn count(&self) -> u64 {
        self.size.div_ceil(self.segment_size).max(1)
    }

    /// Byte range of segment `index`.
    pub fn range(&self, index: u64) -> Range<u64> {
        let start = index * self.segment_size;
        start..(start + self.segment_size).min(self.size)
    }

    /// Every segment's byte range, in order.
    pub fn ranges(&self) -> impl Iterator<Item = Range<u64>> + '_ {
        (0..self.count()).map(|index| self.range(index))
    }
}

/// Plans the segments of a `size`-byte file for `version`, with the caller's
/// `requested` segment size or the default, which grows for files so large that
/// 10,000 default segments would not hold them.
pub fn plan_segments(
    size: u64,
    version: ApiVersion,
    requested: Option<u64>,
) -> Result<SegmentPlan, Error> {
    let limits = version.limits();
    let segment_size = match requested {
        Some(requested) => {
            if !(limits.min_segment..=limits.max_segment).contains(&requested) {
                return Err(Error::InvalidInput(format!(
                    "segmentSize must be between {} and {} bytes for {}, got {requested}",
                    limits.min_segment,
                    limits.max_segment,
                    version.as_str()
                )));
            }
            requested
        }
        None => {
            // The smallest whole number of MiB that keeps within 10,000 segments.
            let needed = size.div_ceil(MAX_SEGMENTS).div_ceil(MIB) * MIB;
            needed.max(DEFAULT_SEGMENT_SIZE).max(limits.min_segment)
        }
    };
    let plan = SegmentPlan { size, segment_size };
    if plan.count() > MAX_SEGMENTS || segment_size > limits.max_segment {
        let smallest = size.div_ceil(MAX_SEGMENTS);
        return Err(Error::InvalidInput(format!(
            "a file of {size} bytes needs {} segments of {segment_size} bytes; {} allows at most {MAX_SEGMENTS} segments of at most {} bytes{}",
            plan.count(),
            version.as_str(),
            limits.max_segment,
            if smallest <= limits.max_segment {
                format!(": choose a segmentSize of at least {smallest}")
            } else {
                String::new()
            }
        )));
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_versions() {
        for text in ["v1.0", "v1.1", "v2.1"] {
            assert_eq!(ApiVersion::parse(text).unwrap().as_str(), text);
        }
        assert!(matches!(
            ApiVersion::parse("v2"),
            Err(Error::InvalidInput(_))
        ));
    }

    #[test]
    fn plans_table() {
        use ApiVersion::*;
        const GIB: u64 = 1024 * MIB;
        // (size, version, requested) -> Some((segment_size, count)), or None: refused
        type Row = (u64, ApiVersion, Option<u64>, Option<(u64, u64)>);
        let table: &[Row] = &[
            (0, V10, None, Some((16 * MIB, 1))),
            (1, V10, None, Some((16 * MIB, 1))),
            (16 * MIB, V10, None, Some((16 * MIB, 1))),
            (16 * MIB + 1, V10, None, Some((16 * MIB, 2))),
            (5 * MIB, V10, Some(5 * MIB), Some((5 * MIB, 1))),
            (5 * MIB + 1, V10, Some(5 * MIB), Some((5 * MIB, 2))),
            (10 * MIB, V10, Some(5 * MIB - 1), None),
            (10 * MIB, V21, Some(5 * MIB), None),
            (10 * MIB, V21, Some(5 * MIB + 1), Some((5 * MIB + 1, 2))),
            (10 * MIB, V21, Some(100 * MIB + 1), None),
            (10 * MIB, V10, Some(5 * GIB), Some((5 * GIB, 1))),
            (10 * MIB, V10, Some(5 * GIB + 1), None),
            // 10,000 segments of 16 MiB hold 156.25 GiB; 200 GiB needs 21 MiB segments.
            (200 * GIB, V10, None, Some((21 * MIB, 9753))),
            (200 * GIB, V21, None, Some((21 * MIB, 9753))),
            // v2.1 tops out at 10,000 × 100 MiB.
            (10_000 * 100 * MIB, V21, None, Some((100 * MIB, 10_000))),
            (10_000 * 100 * MIB + 1, V21, None, None),
            // A requested size that would need more than 10,000 segments.
            (50 * GIB + 1, V10, Some(5 * MIB), None),
            (
                10_000 * 5 * MIB,
                V10,
                Some(5 * MIB),
                Some((5 * MIB, 10_000)),
            ),
        ];
        for &(size, version, requested, expected) in table {
            let got = plan_segments(size, version, requested);
            match expected {
                Some((segment_size, count)) => {
                    let plan =
                        got.unwrap_or_else(|e| panic!("{size} {version:?} {requested:?}: {e}"));
                    assert_eq!(
                        (plan.segment_size, plan.count()),
                        (segment_size, count),
                        "{size} {version:?}"
                    );
                }
                None => assert!(
                    matches!(got, Err(Error::InvalidInput(_))),
                    "{size} {version:?} {requested:?}: {got:?}"
                ),
            }
        }
    }

    #[test]
    fn too_many_segments_says_what_to_choose() {
        let error = plan_segments(50 * 1024 * MIB + 1, ApiVersion::V10, Some(5 * MIB)).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("choose a segmentSize of at least 5368710"),
            "{error}"
        );
    }

    #[test]
    fn ranges_cover_the_file_once() {
        for (size, segment_size) in [(0, 5), (1, 5), (10, 5), (11, 5), (14, 5)] {
            let plan = SegmentPlan { size, segment_size };
            let ranges: Vec<_> = plan.ranges().collect();
            assert_eq!(ranges.first().unwrap().start, 0);
            assert_eq!(ranges.last().unwrap().end, size);
            assert!(ranges.windows(2).all(|w| w[0].end == w[1].start));
            assert!(ranges[..ranges.len() - 1]
                .iter()
                .all(|r| r.end - r.start == segment_size));
        }
    }

    #[test]
    fn segmented_decision_table() {
        use ApiVersion::*;
        use Segmented::*;
        let table: &[(ApiVersion, Segmented, u64, Option<bool>)] = &[
            (V10, Auto, 0, Some(false)),
            (V10, Auto, AUTO_SEGMENTED_FROM - 1, Some(false)),
            (V11, Auto, AUTO_SEGMENTED_FROM, Some(true)),
            (V10, Yes, 0, Some(true)),
            (V10, No, MAX_FORM_UPLOAD, Some(false)),
            (V10, No, MAX_FORM_UPLOAD + 1, None),
            (V21, Auto, 0, Some(true)),
            (V21, Yes, 1, Some(true)),
            (V21, No, 1, None),
        ];
        for &(version, mode, size, expected) in table {
            let got = use_segments(version, mode, size).ok();
            assert_eq!(got, expected, "{version:?} {mode:?} {size}");
        }
    }
}
