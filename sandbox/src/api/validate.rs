//! The rules Procore applies to create-upload requests, as pure functions.

/// 5 MiB: S3's smallest non-last multipart part, and v1's "5 MB" segment minimum
/// (Procore's storage is S3, which rejects smaller parts at completion).
pub const V1_MIN_SEGMENT: u64 = 5 * 1024 * 1024;
/// 5 GiB: S3's largest part, v1's "5 GB" segment maximum.
pub const V1_MAX_SEGMENT: u64 = 5 * 1024 * 1024 * 1024;
/// v2.1: non-last parts must be greater than 5 MiB.
pub const V2_MIN_PART: u64 = 5 * 1024 * 1024 + 1;
/// v2.1: 100 MiB per part at most.
pub const V2_MAX_PART: u64 = 100 * 1024 * 1024;
/// Parts per upload at most (both versions, as S3).
pub const MAX_SEGMENTS: usize = 10_000;

/// A segment as declared in a create request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredSegment {
    /// Bytes.
    pub size: u64,
    /// Lowercase hex SHA-256.
    pub sha256: String,
    /// Lowercase hex MD5.
    pub md5: Option<String>,
}

/// Size limits of one API version.
#[derive(Debug, Clone, Copy)]
pub struct SegmentRules {
    /// Smallest non-last segment.
    pub min: u64,
    /// Largest segment.
    pub max: u64,
}

/// v1.0/v1.1 segment rules.
pub const V1_RULES: SegmentRules = SegmentRules {
    min: V1_MIN_SEGMENT,
    max: V1_MAX_SEGMENT,
};
/// v2.1 part rules.
pub const V2_RULES: SegmentRules = SegmentRules {
    min: V2_MIN_PART,
    max: V2_MAX_PART,
};

/// Checks a segment list against `rules` and, when given, the total `size`.
pub fn check_segments(
    segments: &[DeclaredSegment],
    rules: SegmentRules,
    size: Option<u64>,
) -> Result<(), String> {
    if segments.is_empty() {
        return Err("segments must not be empty".into());
    }
    if segments.len() > MAX_SEGMENTS {
        return Err(format!(
            "at most {MAX_SEGMENTS} segments, got {}",
            segments.len()
        ));
    }
    let last = segments.len() - 1;
    for (index, segment) in segments.iter().enumerate() {
        if segment.size > rules.max {
            return Err(format!(
                "segments[{index}].size {} is above the maximum {}",
                segment.size, rules.max
            ));
        }
        if index < last && segment.size < rules.min {
            return Err(format!(
                "segments[{index}].size {} is below the minimum {} (only the last segment may be smaller)",
                segment.size, rules.min
            ));
        }
    }
    let total: u64 = segments.iter().map(|s| s.size).sum();
    match size {
        Some(size) if size != total => Err(format!(
            "segment sizes add up to {total}, not to size {size}"
        )),
        _ => Ok(()),
    }
}

/// A lowercase hex digest of `bytes` bytes, or why not.
pub fn hex_digest(value: &serde_json::Value, bytes: usize, what: &str) -> Result<String, String> {
    match value.as_str() {
        Some(text) if text.len() == bytes * 2 && text.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(text.to_ascii_lowercase())
        }
        _ => Err(format!("{what} must be {} hex characters", bytes * 2)),
    }
}

/// A non-negative integer, or why not.
pub fn whole_number(value: &serde_json::Value, what: &str) -> Result<u64, String> {
    value
        .as_u64()
        .ok_or_else(|| format!("{what} must be a non-negative integer"))
}

/// Parses `segments[]` (`size`, `sha256` required; `md5` optional).
pub fn parse_segments(value: &serde_json::Value) -> Result<Vec<DeclaredSegment>, String> {
    let items = value.as_array().ok_or("segments must be an array")?;
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let field = |name: &str| item.get(name).unwrap_or(&serde_json::Value::Null);
            let md5 = match field("md5") {
                serde_json::Value::Null => None,
                md5 => Some(hex_digest(md5, 16, &format!("segments[{index}].md5"))?),
            };
            Ok(DeclaredSegment {
                size: whole_number(field("size"), &format!("segments[{index}].size"))?,
                sha256: hex_digest(field("sha256"), 32, &format!("segments[{index}].sha256"))?,
                md5,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segments(sizes: &[u64]) -> Vec<DeclaredSegment> {
        sizes
            .iter()
            .map(|&size| DeclaredSegment {
                size,
                sha256: "0".repeat(64),
                md5: None,
            })
            .collect()
    }

    #[test]
    fn segment_rules_table() {
        const MIB: u64 = 1024 * 1024;
        let table: &[(SegmentRules, &[u64], Option<u64>, bool)] = &[
            (V1_RULES, &[0], None, true),
            (V1_RULES, &[5 * MIB, 1], None, true),
            (V1_RULES, &[5 * MIB - 1, 1], None, false),
            (V1_RULES, &[5 * MIB, 5 * MIB], Some(10 * MIB), true),
            (V1_RULES, &[5 * MIB, 5 * MIB], Some(10 * MIB + 1), false),
            (V1_RULES, &[V1_MAX_SEGMENT + 1], None, false),
            (V1_RULES, &[], None, false),
            (V2_RULES, &[5 * MIB, 1], None, false),
            (V2_RULES, &[5 * MIB + 1, 1], None, true),
            (V2_RULES, &[100 * MIB, 100 * MIB], None, true),
            (V2_RULES, &[100 * MIB + 1], None, false),
            (V2_RULES, &[7], Some(7), true),
        ];
        for (rules, sizes, size, ok) in table {
            let result = check_segments(&segments(sizes), *rules, *size);
            assert_eq!(result.is_ok(), *ok, "{sizes:?} total {size:?}: {result:?}");
        }
        let too_many = segments(&vec![5 * MIB + 1; MAX_SEGMENTS + 1]);
        assert!(check_segments(&too_many, V2_RULES, None).is_err());
    }

    #[test]
    fn digests_and_numbers() {
        use serde_json::json;
        assert_eq!(
            hex_digest(&json!("AB".repeat(16)), 16, "md5"),
            Ok("ab".repeat(16))
        );
        assert!(hex_digest(&json!("ab".repeat(15)), 16, "md5").is_err());
        assert!(hex_digest(&json!("zz".repeat(16)), 16, "md5").is_err());
        assert!(hex_digest(&json!(5), 16, "md5").is_err());
        assert_eq!(whole_number(&json!(5), "size"), Ok(5));
        assert!(whole_number(&json!(-5), "size").is_err());
        assert!(whole_number(&json!(1.5), "size").is_err());
        assert!(whole_number(&json!("5"), "size").is_err());
    }

    #[test]
    fn parses_segments() {
        use serde_json::json;
        let parsed =
            parse_segments(&json!([{"size": 3, "sha256": "a".repeat(64), "md5": "b".repeat(32)}]))
                .unwrap();
        assert_eq!(parsed[0].md5.as_deref(), Some(&*"b".repeat(32)));
        assert!(parse_segments(&json!([{"size": 3}]))
            .unwrap_err()
            .contains("segments[0].sha256"));
        assert!(parse_segments(&json!({})).is_err());
    }
}
