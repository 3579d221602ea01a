//! Property tests (proptest) of the core's pure decisions:
//!
//! - every reader of a Procore answer (`protocol::parse_*`) and of the headers of a
//!   429 (`Retry-After`, `X-Rate-Limit-Reset`, `Date`) returns a value or a typed
//!   error (or `None`) for any input, never panics (these tests run with overflow
//!   checks on), and when it accepts an answer, gives back exactly what the answer
//!   said (ids, URLs, as many parts as asked for, fields and headers in the order of
//!   the JSON text; for a date, the second it names, or `None` past `u64::MAX`);
//! - the segment planner cuts any file from 0 to 5 TB into contiguous segments within
//!   the version's limits, or refuses with `InvalidInput`, and `use_segments` decides
//!   as documented.
//!
//! Native only: proptest is not a wasm32 dev-dependency.
#![cfg(not(target_arch = "wasm32"))]

use std::fmt::Debug;

use procore_upload::core::json::Json;
use procore_upload::core::plan::{
    plan_segments, use_segments, ApiVersion, SegmentPlan, Segmented, AUTO_SEGMENTED_FROM,
    DEFAULT_SEGMENT_SIZE, MAX_FORM_UPLOAD, MAX_SEGMENTS, MIB,
};
use procore_upload::core::protocol::{
    parse_v1_form, parse_v1_segmented, parse_v1_status, parse_v2, FormInstructions,
    PartInstruction, PartsUpload, V2Upload,
};
use procore_upload::core::retry::{parse_http_date, parse_retry_after, rate_limit_wait_secs};
use procore_upload::core::state::{parse_state, read_state, state_text};
use procore_upload::core::Error;
use proptest::collection::SizeRange;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::test_runner::TestCaseError;
use serde_json::{Map, Value};

// ---------------------------------------------------------------------------------
// Generators: JSON values, answers, texts
// ---------------------------------------------------------------------------------

/// Every key the parsers look at (and `etag`, which answers may carry too).
const REAL_KEYS: &[&str] = &[
    "uuid",
    "url",
    "fields",
    "segments",
    "headers",
    "status",
    "data",
    "upload_id",
    "etag",
    "url_expires_at",
    "failure_reason",
];

/// Any JSON number: any `u64`/`i64`, any finite `f64`, and the extremes.
fn json_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        // Non-finite floats have no JSON form: `Value::from` makes them null.
        any::<f64>().prop_map(Value::from),
        select(vec![0u64, 1, u64::MAX, i64::MAX as u64]).prop_map(Value::from),
        select(vec![i64::MIN, -1]).prop_map(Value::from),
        select(vec![
            1e308,
            -1e308,
            f64::MIN_POSITIVE,
            5e-324,
            -0.0,
            0.5,
            1e20
        ])
        .prop_map(Value::from),
    ]
}

/// Strings: arbitrary ones, ones full of what JSON escapes (quotes, backslashes,
/// control characters, DEL, separators JSON leaves as they are), empty, URL-like,
/// the real key names, and HTTP dates (most of them out of range).
fn json_string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[\\\"\\\\/\\x00-\\x1f\\x7fa\\u{2028}\\u{2029}é😀]{0,12}",
        Just(String::new()),
        "https://[a-z]{1,10}\\.example/[a-z0-9/]{0,16}\\?X-Amz-Signature=[0-9a-f]{0,8}",
        select(REAL_KEYS).prop_map(String::from),
        http_date_text(),
    ]
}

/// A number as a header may carry it: small, near where a date stops fitting in a
/// `u64` (year 584,554,051,223), any `u64`, digits past `u64::MAX`, signed.
fn header_number() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => (0u64..=100).prop_map(|n| n.to_string()),
        1 => (584_554_051_220u64..=584_554_051_226).prop_map(|n| n.to_string()),
        1 => any::<u64>().prop_map(|n| n.to_string()),
        1 => select(vec![u64::MAX - 1, u64::MAX]).prop_map(|n| n.to_string()),
        1 => "[0-9]{20,24}",
        1 => "[+-]?[0-9]{1,3}",
    ]
}

/// A field of a date: mostly within `range` (written with two digits, as dates
/// are, or without), sometimes any header number.
fn date_field(range: std::ops::RangeInclusive<u64>) -> impl Strategy<Value = String> {
    prop_oneof![
        6 => range.prop_map(|n| format!("{n:02}")),
        1 => header_number(),
    ]
}

/// Texts shaped like an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), mostly with
/// fields in range and years of any size (to and past the last second a `u64`
/// holds), sometimes a field or a word off.
fn http_date_text() -> impl Strategy<Value = String> {
    let month = prop_oneof![
        12 => select(vec![
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ]),
        1 => select(vec!["jan", "Foo", ""]),
    ];
    let year = prop_oneof![
        2 => (1970u64..=10_000).prop_map(|n| n.to_string()),
        2 => (584_554_051_000u64..=584_554_051_300).prop_map(|n| n.to_string()),
        2 => header_number(),
        1 => (0u64..1970).prop_map(|n| n.to_string()),
    ];
    let zone = prop_oneof![12 => Just("GMT"), 1 => select(vec!["UTC", "gmt", "GMT x"])];
    (
        select(vec!["Sun,", "Mon,", "x"]),
        date_field(0..=32),
        month,
        year,
        (date_field(0..=24), date_field(0..=60), date_field(0..=61)),
        zone,
        select(vec![" ", "  ", "\t"]),
    )
        .prop_map(|(weekday, day, month, year, (h, m, s), zone, gap)| {
            format!("{weekday}{gap}{day} {month} {year} {h}:{m}:{s} {zone}")
        })
}

/// Object keys: arbitrary strings and the names the parsers look for.
fn json_key() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => select(REAL_KEYS).prop_map(String::from),
        1 => any::<String>(),
        1 => "[a-z_]{0,8}",
    ]
}

/// Any JSON value, nested up to 4 levels.
fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        json_number(),
        json_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((json_key(), inner), 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

/// A non-empty string, as ids and URLs must be.
fn non_empty() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9A-Z]{1,26}",
        any::<String>().prop_filter("non-empty", |text| !text.is_empty()),
    ]
}

fn storage_url() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "https://[a-z]{1,10}\\.example/[a-z0-9/]{0,16}\\?X-Amz-Signature=[0-9a-f]{0,8}",
        1 => non_empty(),
    ]
}

/// A valid `fields`/`headers` object: strings and numbers under arbitrary names.
fn string_map() -> impl Strategy<Value = Value> {
    let name = prop_oneof![
        any::<String>(),
        "[A-Za-z-]{1,16}",
        select(vec![
            "key",
            "policy",
            "Content-Type",
            "x-amz-signature",
            "Content-Length"
        ])
        .prop_map(String::from),
    ];
    let value = prop_oneof![json_string().prop_map(Value::String), json_number()];
    prop::collection::vec((name, value), 0..6)
        .prop_map(|members| Value::Object(members.into_iter().collect()))
}

/// One valid segment instruction (`url_expires_at` as v2.1 sends it).
fn valid_part(v2: bool) -> impl Strategy<Value = Value> {
    (storage_url(), string_map(), any::<u32>()).prop_map(move |(url, headers, expires)| {
        let mut part = Map::new();
        part.insert("url".into(), Value::String(url));
        if v2 {
            part.insert("url_expires_at".into(), Value::from(expires));
        }
        part.insert("headers".into(), headers);
        Value::Object(part)
    })
}

/// A valid v1 non-segmented create answer.
fn valid_v1_form() -> impl Strategy<Value = Value> {
    (non_empty(), storage_url(), string_map()).prop_map(|(uuid, url, fields)| {
        let mut answer = Map::new();
        answer.insert("uuid".into(), Value::String(uuid));
        answer.insert("url".into(), Value::String(url));
        answer.insert("fields".into(), fields);
        Value::Object(answer)
    })
}

/// A valid v1 segmented create answer with `count` segments.
fn valid_v1_segmented(count: impl Into<SizeRange>) -> impl Strategy<Value = Value> {
    (non_empty(), prop::collection::vec(valid_part(false), count)).prop_map(|(uuid, parts)| {
        let mut answer = Map::new();
        answer.insert("uuid".into(), Value::String(uuid));
        answer.insert("segments".into(), Value::Array(parts));
        Value::Object(answer)
    })
}

/// A valid v1 Show/Complete answer.
fn valid_v1_status() -> impl Strategy<Value = Value> {
    let status = prop_oneof![
        select(vec!["ready", "complete", "available"]).prop_map(String::from),
        non_empty(),
    ];
    (non_empty(), status).prop_map(|(uuid, status)| {
        let mut answer = Map::new();
        answer.insert("uuid".into(), Value::String(uuid));
        answer.insert("status".into(), Value::String(status));
        Value::Object(answer)
    })
}

/// A valid v2.1 answer with `count` segments, listed with probability `listed`.
fn valid_v2(count: impl Into<SizeRange>, listed: f64) -> impl Strategy<Value = Value> {
    let status = prop_oneof![
        select(vec![
            "ready",
            "receiving",
            "complete",
            "available",
            "failed"
        ])
        .prop_map(String::from),
        non_empty(),
    ];
    let segments = prop::option::weighted(listed, prop::collection::vec(valid_part(true), count));
    (
        non_empty(),
        status,
        prop::option::of(any::<String>()),
        segments,
    )
        .prop_map(|(upload_id, status, failure_reason, segments)| {
            let mut data = Map::new();
            data.insert("upload_id".into(), Value::String(upload_id));
            data.insert("status".into(), Value::String(status));
            if let Some(reason) = failure_reason {
                data.insert("failure_reason".into(), Value::String(reason));
            }
            if let Some(segments) = segments {
                data.insert("segments".into(), Value::Array(segments));
            }
            let mut answer = Map::new();
            answer.insert("data".into(), Value::Object(data));
            Value::Object(answer)
        })
}

/// A valid answer of any kind, as JSON text.
fn any_valid_answer_text() -> impl Strategy<Value = String> {
    prop_oneof![
        valid_v1_form(),
        valid_v1_segmented(0..4),
        valid_v1_status(),
        valid_v2(0..4, 0.5),
    ]
    .prop_map(|answer| answer.to_string())
}

/// `text` cut at `at` (moved back to a character boundary).
fn cut(text: &str, at: Index) -> &str {
    let mut end = at.index(text.len() + 1);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Texts that are mostly not JSON, or JSON that is almost right.
fn arbitrary_text() -> impl Strategy<Value = String> {
    let tokens = select(vec![
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        " ",
        "\"uuid\"",
        "\"url\"",
        "\"fields\"",
        "\"segments\"",
        "\"headers\"",
        "\"status\"",
        "\"data\"",
        "\"upload_id\"",
        "\"\"",
        "\"x\"",
        "\"\\u0000\"",
        "\"\\ud800\"",
        "1",
        "-1",
        "0.5",
        "1e999",
        "-1e999",
        "18446744073709551616",
        "-9223372036854775809",
        "true",
        "null",
    ]);
    let nesting = (
        0usize..400,
        select(vec![
            ("[", "]"),
            ("{\"data\":", "}"),
            ("{\"fields\":", "}"),
            ("{\"segments\":[", "]}"),
        ]),
    )
        .prop_map(|(depth, (open, close))| {
            format!("{}{{}}{}", open.repeat(depth), close.repeat(depth))
        });
    prop_oneof![
        any::<String>(),
        // Header values: dates with any numbers, and bare numbers (boxed: inline,
        // they make this union's value tree overflow a test thread's stack).
        http_date_text().boxed(),
        header_number().boxed(),
        prop::collection::vec(any::<u8>(), 0..256)
            .prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
        "[-\\[\\]{}\":,0-9a-z_ .eE+\\\\]{0,64}",
        prop::collection::vec(tokens, 0..32).prop_map(|tokens| tokens.concat()),
        nesting,
        // A valid answer cut short.
        (any_valid_answer_text(), any::<Index>()).prop_map(|(text, at)| cut(&text, at).to_string()),
        // A valid answer with a token of junk spliced in.
        (
            any_valid_answer_text(),
            any::<Index>(),
            "[-\\[\\]{}\":,0-9a-z]{1,3}"
        )
            .prop_map(|(text, at, junk)| {
                let head = cut(&text, at);
                format!("{head}{junk}{}", &text[head.len()..])
            }),
    ]
}

// ---------------------------------------------------------------------------------
// Near-valid answers: one value of a valid answer replaced (or removed)
// ---------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

/// Every path in `value`, the root (empty path) first.
fn paths(value: &Value, prefix: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    out.push(prefix.clone());
    match value {
        Value::Object(map) => {
            for (key, member) in map {
                prefix.push(Step::Key(key.clone()));
                paths(member, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                prefix.push(Step::Index(index));
                paths(item, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn at_path<'a>(value: &'a mut Value, path: &[Step]) -> &'a mut Value {
    path.iter().fold(value, |value, step| match step {
        Step::Key(key) => &mut value[key.as_str()],
        Step::Index(index) => &mut value[*index],
    })
}

/// `valid` with the value at one of its paths (picked by `which`) replaced by
/// `replacement`, or removed when `replacement` is `None`; as JSON text.
fn mutate(mut valid: Value, which: Index, replacement: Option<Value>) -> String {
    let mut all = Vec::new();
    paths(&valid, &mut Vec::new(), &mut all);
    let path = which.get(&all);
    match (replacement, path.split_last()) {
        (Some(replacement), _) => *at_path(&mut valid, path) = replacement,
        (None, None) => return String::new(),
        (None, Some((last, parent))) => match (at_path(&mut valid, parent), last) {
            (Value::Object(map), Step::Key(key)) => {
                map.shift_remove(key.as_str());
            }
            (Value::Array(items), Step::Index(index)) => {
                items.remove(*index);
            }
            _ => unreachable!("a path leads through objects and arrays"),
        },
    }
    valid.to_string()
}

/// What replaces the picked value: any JSON value, a string, or nothing (removed).
fn replacement() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        4 => arb_json().prop_map(Some),
        // Often still valid: more accepted answers to check.
        2 => json_string().prop_map(|text| Some(Value::String(text))),
        1 => Just(None),
    ]
}

/// The segment count to expect: usually as many as the valid answer lists
/// (`None`), sometimes any other in 0..20.
///
/// (No `prop_flat_map` in these strategies: shrinking nested flat maps can take
/// minutes.)
fn other_count() -> impl Strategy<Value = Option<usize>> {
    prop_oneof![3 => Just(None), 1 => (0usize..20).prop_map(Some)]
}

/// How many segments `segments` lists (0 when it is not an array).
fn listed(segments: &Value) -> usize {
    segments.as_array().map_or(0, Vec::len)
}

// ---------------------------------------------------------------------------------
// Checks of what a parser returned
// ---------------------------------------------------------------------------------

/// `Ok`, or `Err(Error::Protocol)` with a message: nothing else.
fn ok_or_protocol<T: Debug>(result: &Result<T, Error>) -> Result<(), TestCaseError> {
    match result {
        Ok(_) => Ok(()),
        Err(Error::Protocol(message)) => {
            prop_assert!(!message.is_empty(), "a protocol error without a message");
            Ok(())
        }
        Err(other) => Err(TestCaseError::fail(format!(
            "not a protocol error: {other:?}"
        ))),
    }
}

/// The body an accepted answer came from, as JSON; `None` (nothing to compare) for
/// the one kind of text the package reads and serde_json does not: a number beyond
/// `f64` (`1e999`), valid JSON that the package keeps as its text.
fn accepted_json(body: &str) -> Result<Option<Value>, TestCaseError> {
    match serde_json::from_str(body) {
        Ok(value) => Ok(Some(value)),
        Err(error) if error.to_string().starts_with("number out of range") => Ok(None),
        Err(error) => Err(TestCaseError::fail(format!(
            "accepted a body that is not JSON: {error}"
        ))),
    }
}

/// Whether `pairs` are what a `fields`/`headers` object holds, in its order (the
/// text's: serde_json keeps the order with `preserve_order`). A string is taken as
/// it is; a number as its text, unaltered: the text must stand for the very number
/// serde_json read (`float_roundtrip`: read exactly) and be written in `body` as
/// that member's value, so `1.50` stays `1.50`.
fn same_pairs(body: &str, pairs: &[(String, String)], value: &Value) -> Result<(), TestCaseError> {
    let Value::Object(map) = value else {
        return Err(TestCaseError::fail(format!(
            "accepted fields/headers that are not an object: {value}"
        )));
    };
    prop_assert_eq!(pairs.len(), map.len(), "{:?} against {}", pairs, value);
    for ((name, text), (expected_name, expected)) in pairs.iter().zip(map) {
        prop_assert_eq!(name, expected_name);
        let same = match expected {
            Value::String(expected) => text == expected,
            Value::Number(number) => {
                (if let Some(n) = number.as_u64() {
                    text.parse::<u64>() == Ok(n)
                } else if let Some(n) = number.as_i64() {
                    text.parse::<i64>() == Ok(n)
                } else {
                    text.parse::<f64>().ok() == number.as_f64()
                }) && written_as_value(body, text)
            }
            other => {
                return Err(TestCaseError::fail(format!(
                    "accepted {name:?}: {other} as a field/header"
                )))
            }
        };
        prop_assert!(same, "{:?}: {:?} sent for {}", name, text, expected);
    }
    Ok(())
}

/// Whether `text` stands in `body` as a whole member value: after a `:`, before a
/// `,` or `}` (whitespace allowed around it).
fn written_as_value(body: &str, text: &str) -> bool {
    body.match_indices(text).any(|(at, _)| {
        let before = body[..at].trim_end();
        let after = body[at + text.len()..].trim_start();
        before.ends_with(':') && (after.starts_with(',') || after.starts_with('}'))
    })
}

fn check_parts(
    body: &str,
    parts: &[PartInstruction],
    segments: &Value,
) -> Result<(), TestCaseError> {
    let Value::Array(items) = segments else {
        return Err(TestCaseError::fail(format!(
            "accepted segments that are not an array: {segments}"
        )));
    };
    prop_assert_eq!(parts.len(), items.len());
    for (part, item) in parts.iter().zip(items) {
        prop_assert!(!part.url.is_empty(), "an empty segment URL");
        prop_assert_eq!(Some(part.url.as_str()), item["url"].as_str());
        same_pairs(body, &part.headers, &item["headers"])?;
    }
    Ok(())
}

fn check_form(body: &str, result: &Result<FormInstructions, Error>) -> Result<(), TestCaseError> {
    ok_or_protocol(result)?;
    let Ok(form) = result else { return Ok(()) };
    let Some(answer) = accepted_json(body)? else {
        return Ok(());
    };
    prop_assert!(!form.uuid.is_empty() && !form.url.is_empty(), "{form:?}");
    prop_assert_eq!(Some(form.uuid.as_str()), answer["uuid"].as_str());
    prop_assert_eq!(Some(form.url.as_str()), answer["url"].as_str());
    same_pairs(body, &form.fields, &answer["fields"])?;
    Ok(())
}

fn check_segmented(
    body: &str,
    expected: usize,
    result: &Result<PartsUpload, Error>,
) -> Result<(), TestCaseError> {
    ok_or_protocol(result)?;
    let Ok(upload) = result else { return Ok(()) };
    let Some(answer) = accepted_json(body)? else {
        return Ok(());
    };
    prop_assert!(!upload.uuid.is_empty());
    prop_assert_eq!(Some(upload.uuid.as_str()), answer["uuid"].as_str());
    prop_assert_eq!(
        upload.parts.len(),
        expected,
        "parts for {} segments",
        expected
    );
    check_parts(body, &upload.parts, &answer["segments"])
}

fn check_status(body: &str, result: &Result<String, Error>) -> Result<(), TestCaseError> {
    ok_or_protocol(result)?;
    let Ok(status) = result else { return Ok(()) };
    let Some(answer) = accepted_json(body)? else {
        return Ok(());
    };
    prop_assert!(!status.is_empty());
    prop_assert_eq!(Some(status.as_str()), answer["status"].as_str());
    Ok(())
}

fn check_v2(
    body: &str,
    expected: Option<usize>,
    result: &Result<V2Upload, Error>,
) -> Result<(), TestCaseError> {
    ok_or_protocol(result)?;
    let Ok(upload) = result else { return Ok(()) };
    let Some(answer) = accepted_json(body)? else {
        return Ok(());
    };
    let data = &answer["data"];
    prop_assert!(
        !upload.uuid.is_empty() && !upload.status.is_empty(),
        "{upload:?}"
    );
    prop_assert_eq!(Some(upload.uuid.as_str()), data["upload_id"].as_str());
    prop_assert_eq!(Some(upload.status.as_str()), data["status"].as_str());
    prop_assert_eq!(
        upload.failure_reason.as_deref(),
        data["failure_reason"].as_str()
    );
    if let Some(expected) = expected {
        prop_assert_eq!(
            upload.parts.len(),
            expected,
            "parts for {} segments",
            expected
        );
    }
    match data.get("segments") {
        None => prop_assert!(upload.parts.is_empty()),
        Some(segments) => check_parts(body, &upload.parts, segments)?,
    }
    Ok(())
}

/// `parse_retry_after` gives `Some(n)` only for a (trimmed) decimal number `n`, or
/// for an HTTP date (counted from the client's clock, here 0).
fn check_retry_after(text: &str) -> Result<(), TestCaseError> {
    if let Some(seconds) = parse_retry_after(Some(text), None, 0) {
        if let Some(at) = parse_http_date(text.trim()) {
            prop_assert_eq!(at, seconds);
            return Ok(());
        }
        let digits = text.trim();
        let digits = digits.strip_prefix('+').unwrap_or(digits);
        prop_assert!(
            !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit()),
            "{text:?} read as {seconds}"
        );
        prop_assert_eq!(digits.parse::<u64>().ok(), Some(seconds));
    }
    Ok(())
}

/// Days from 1970-01-01 to 1 January of `year` (≥ 1970), counted by the leap-year
/// rule (365 days a year, one more per leap year), not by `parse_http_date`'s algorithm.
fn days_before_year(year: u128) -> u128 {
    let leap_years_before = |y: u128| (y - 1) / 4 - (y - 1) / 100 + (y - 1) / 400;
    365 * (year - 1970) + leap_years_before(year) - leap_years_before(1970)
}

/// Unix seconds of `text` if it is an IMF-fixdate with fields in range, computed
/// in `u128` (so never overflowing); may exceed `u64::MAX`.
fn reference_http_date(text: &str) -> Option<u128> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    const DAYS_BEFORE_MONTH: [u128; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let words: Vec<&str> = text.split_whitespace().collect();
    let [_weekday, day, month, year, time, "GMT"] = words[..] else {
        return None;
    };
    let month = MONTHS.iter().position(|name| *name == month)?;
    let day: u128 = day.parse::<u64>().ok()?.into();
    let year: u128 = year.parse::<u64>().ok()?.into();
    let clock: Vec<u128> = time
        .split(':')
        .map(|part| part.parse::<u64>().ok().map(u128::from))
        .collect::<Option<_>>()?;
    let [hour, minute, second] = clock[..] else {
        return None;
    };
    if !(1..=31).contains(&day) || year < 1970 || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days =
        days_before_year(year) + DAYS_BEFORE_MONTH[month] + u128::from(leap && month >= 2) + day
            - 1;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

/// `parse_http_date` reads exactly the IMF-fixdates with fields in range whose
/// second fits in a `u64`, as that second; anything else is `None`.
fn check_http_date(text: &str) -> Result<(), TestCaseError> {
    let expected = reference_http_date(text).and_then(|seconds| u64::try_from(seconds).ok());
    prop_assert_eq!(parse_http_date(text), expected, "{:?}", text);
    Ok(())
}

/// `rate_limit_wait_secs` is `Retry-After` when readable, else the reset less the
/// answer's date (0 once past), else `None`.
fn check_rate_limit(
    retry_after: Option<&str>,
    reset: Option<&str>,
    date: Option<&str>,
) -> Result<(), TestCaseError> {
    let expected = parse_retry_after(retry_after, date, 0).or_else(|| {
        let reset = reset?.trim().parse::<u64>().ok()?;
        Some(reset.saturating_sub(parse_http_date(date?)?))
    });
    prop_assert_eq!(
        rate_limit_wait_secs(retry_after, reset, date, 0),
        expected,
        "{:?} {:?} {:?}",
        retry_after,
        reset,
        date
    );
    Ok(())
}

/// Runs every reader of a 429's headers on `text`, as each header in turn.
fn check_header_parsers(text: &str) -> Result<(), TestCaseError> {
    check_retry_after(text)?;
    check_http_date(text)?;
    let max = u64::MAX.to_string();
    for (retry_after, reset, date) in [
        (Some(text), Some(text), Some(text)),
        (None, Some(text), Some(text)),
        (None, Some(max.as_str()), Some(text)),
        (None, Some("0"), Some(text)),
        (None, Some(text), Some("Thu, 01 Jan 1970 00:16:40 GMT")),
    ] {
        check_rate_limit(retry_after, reset, date)?;
    }
    Ok(())
}

/// Runs every parser on `body` and checks what each returned.
fn check_all_parsers(
    body: &str,
    n: usize,
    v2_expected: Option<usize>,
) -> Result<(), TestCaseError> {
    check_form(body, &parse_v1_form(body))?;
    check_segmented(body, n, &parse_v1_segmented(body, n))?;
    check_status(body, &parse_v1_status(body, "Show Upload"))?;
    check_v2(body, v2_expected, &parse_v2(body, v2_expected))?;
    check_header_parsers(body)
}

/// Every string in `value`, keys included.
fn strings_in(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(text) => out.push(text.clone()),
        Value::Array(items) => items.iter().for_each(|item| strings_in(item, out)),
        Value::Object(map) => {
            for (key, member) in map {
                out.push(key.clone());
                strings_in(member, out);
            }
        }
        _ => {}
    }
}

/// `{"k1":v1,"k2":v2,…}` written by hand, in exactly this order.
fn object_text(pairs: &[(String, Value)]) -> String {
    let members: Vec<String> = pairs
        .iter()
        .map(|(name, value)| format!("{}:{value}", Value::String(name.clone())))
        .collect();
    format!("{{{}}}", members.join(","))
}

/// Pairs with distinct arbitrary names (in random order) and string or integer
/// values, with the text each value must be read as.
fn ordered_pairs() -> impl Strategy<Value = Vec<(String, Value, String)>> {
    let value = prop_oneof![
        any::<String>().prop_map(|text| (Value::String(text.clone()), text)),
        any::<i64>().prop_map(|number| (Value::from(number), number.to_string())),
        any::<u64>().prop_map(|number| (Value::from(number), number.to_string())),
    ];
    prop::collection::vec((any::<String>(), value), 0..8).prop_map(|pairs| {
        let mut seen = std::collections::HashSet::new();
        pairs
            .into_iter()
            .filter(|(name, _)| seen.insert(name.clone()))
            .map(|(name, (value, text))| (name, value, text))
            .collect()
    })
}

fn json_and_expected(pairs: &[(String, Value, String)]) -> (String, Vec<(String, String)>) {
    let json: Vec<(String, Value)> = pairs
        .iter()
        .map(|(name, value, _)| (name.clone(), value.clone()))
        .collect();
    let expected = pairs
        .iter()
        .map(|(name, _, text)| (name.clone(), text.clone()))
        .collect();
    (object_text(&json), expected)
}

// ---------------------------------------------------------------------------------
// Parser properties
// ---------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// Arbitrary text (any string, HTTP dates and numbers of any size, arbitrary
    /// bytes read lossily as UTF-8, JSON-ish token soup, nesting deeper than
    /// serde_json's recursion limit, valid answers cut short or with junk spliced in)
    /// never makes a parser panic: each returns a value that matches the text, or
    /// `Error::Protocol`; `parse_retry_after` reads only decimal seconds,
    /// `parse_http_date` only in-range dates, `rate_limit_wait_secs` as documented.
    #[test]
    fn parsers_survive_arbitrary_text(
        body in arbitrary_text(),
        n in 0usize..20,
        v2_expected in prop::option::of(0usize..20),
    ) {
        check_all_parsers(&body, n, v2_expected)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    /// Any JSON value (nested objects and arrays with real and arbitrary keys, huge,
    /// negative and fractional numbers, HTTP dates) never makes a parser panic: each
    /// returns a value that matches the JSON, or `Error::Protocol`; so do the header
    /// readers, given the JSON text or any string in it.
    #[test]
    fn parsers_survive_arbitrary_json(
        value in arb_json(),
        n in 0usize..20,
        v2_expected in prop::option::of(0usize..20),
    ) {
        check_all_parsers(&value.to_string(), n, v2_expected)?;
        let mut strings = Vec::new();
        strings_in(&value, &mut strings);
        for text in &strings {
            check_header_parsers(text)?;
        }
    }
}

/// Whether the package's value is serde_json's: the same structure, members in the
/// same order, numbers the same (the package keeps their text; it must stand for the
/// number serde_json read exactly).
fn same_json(ours: &Json, theirs: &Value) -> bool {
    match (ours, theirs) {
        (Json::Null, Value::Null) => true,
        (Json::Bool(a), Value::Bool(b)) => a == b,
        (Json::String(a), Value::String(b)) => a == b,
        (Json::Number(text), Value::Number(number)) => {
            if let Some(n) = number.as_u64() {
                text.parse::<u64>() == Ok(n)
            } else if let Some(n) = number.as_i64() {
                text.parse::<i64>() == Ok(n)
            } else {
                text.parse::<f64>().ok() == number.as_f64()
            }
        }
        (Json::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same_json(a, b))
        }
        // serde_json keeps one member per name (the last value, at the first place).
        (Json::Object(members), Value::Object(map)) => {
            let mut names: Vec<&str> = Vec::new();
            for (name, _) in members {
                if !names.contains(&name.as_str()) {
                    names.push(name);
                }
            }
            names.len() == map.len()
                && names.iter().zip(map).all(|(name, (their_name, value))| {
                    *name == their_name && ours.get(name).is_some_and(|v| same_json(v, value))
                })
        }
        _ => false,
    }
}

/// `core::json` against serde_json on `text`: both accept it and read the same
/// value, and the package's compact text reads back as that value too; or both
/// refuse it, but for a number beyond `f64`, which only the package reads.
fn check_json_text(text: &str) -> Result<(), TestCaseError> {
    let ours = Json::parse(text);
    match (serde_json::from_str::<Value>(text), &ours) {
        (Ok(theirs), Ok(ours)) => {
            prop_assert!(same_json(ours, &theirs), "{:?} read as {:?}", text, ours);
            let written = ours.to_string();
            let reread = serde_json::from_str::<Value>(&written);
            prop_assert!(
                reread.as_ref().is_ok_and(|reread| same_json(ours, reread)),
                "{:?} written as {:?}",
                text,
                written
            );
        }
        (Err(_), Err(_)) => {}
        (Err(error), Ok(_)) => prop_assert!(
            error.to_string().starts_with("number out of range"),
            "{:?} read, serde_json: {}",
            text,
            error
        ),
        (Ok(theirs), Err(error)) => {
            prop_assert!(
                false,
                "{:?} refused ({}), serde_json: {}",
                text,
                error,
                theirs
            )
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// `core::json` reads every text as serde_json does (arbitrary text, token soup,
    /// nesting past the depth limit, answers cut short or spliced, any JSON value)
    /// and writes what reads back the same.
    #[test]
    fn json_reads_and_writes_as_serde_json(text in arbitrary_text(), value in arb_json()) {
        check_json_text(&text)?;
        check_json_text(&value.to_string())?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// `parse_retry_after` reads `n` surrounded by whitespace as `n`, nothing as
    /// nothing, and never panics on any text.
    #[test]
    fn retry_after_reads_delta_seconds(
        seconds in any::<u64>(),
        before in "[ \t]{0,3}",
        after in "[ \t]{0,3}",
        text in any::<String>(),
    ) {
        let padded = format!("{before}{seconds}{after}");
        prop_assert_eq!(parse_retry_after(Some(&padded), None, 0), Some(seconds));
        prop_assert_eq!(parse_retry_after(None, None, 0), None);
        check_retry_after(&text)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// Any date-shaped text (numbers of any size in every field, up to and past the
    /// last second a `u64` holds) is read as exactly the second it names, or `None`
    /// when a field is out of range or the second does not fit: never a panic nor a
    /// wrapped value; and a 429's wait follows from it.
    #[test]
    fn http_dates_read_exactly_or_not_at_all(
        date in http_date_text(),
        reset in prop_oneof![header_number(), any::<String>()],
        retry_after in prop::option::of(header_number()),
    ) {
        check_http_date(&date)?;
        check_rate_limit(retry_after.as_deref(), Some(&reset), Some(&date))?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Valid answers of every kind are accepted and read exactly (a control for the
    /// near-valid tests below: their starting points really are valid).
    #[test]
    fn valid_answers_are_read_exactly(
        form in valid_v1_form(),
        segmented in valid_v1_segmented(0..20),
        status in valid_v1_status(),
        v2 in valid_v2(0..20, 0.5),
    ) {
        let n = listed(&segmented["segments"]);
        let m = v2["data"].get("segments").map(listed);

        let body = form.to_string();
        let result = parse_v1_form(&body);
        prop_assert!(result.is_ok(), "{:?}", result);
        check_form(&body, &result)?;

        let body = segmented.to_string();
        let result = parse_v1_segmented(&body, n);
        prop_assert!(result.is_ok(), "{:?}", result);
        check_segmented(&body, n, &result)?;

        let body = status.to_string();
        let result = parse_v1_status(&body, "Complete Upload");
        prop_assert!(result.is_ok(), "{:?}", result);
        check_status(&body, &result)?;

        let body = v2.to_string();
        for expected in [m, None] {
            let result = parse_v2(&body, expected);
            prop_assert!(result.is_ok(), "{:?}", result);
            check_v2(&body, expected, &result)?;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// A v1 form answer with one value replaced by any JSON value (or removed) is
    /// read exactly as it says, or refused with `Error::Protocol`.
    #[test]
    fn v1_form_near_valid(
        valid in valid_v1_form(),
        which in any::<Index>(),
        replacement in replacement(),
    ) {
        let body = mutate(valid, which, replacement);
        check_form(&body, &parse_v1_form(&body))?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// A v1 segmented answer with one value replaced (or removed), read for an
    /// arbitrary expected count `n`: exactly `n` parts as the answer says, or
    /// `Error::Protocol`.
    #[test]
    fn v1_segmented_near_valid(
        valid in valid_v1_segmented(0..20),
        other in other_count(),
        which in any::<Index>(),
        replacement in replacement(),
    ) {
        let n = other.unwrap_or(listed(&valid["segments"]));
        let body = mutate(valid, which, replacement);
        check_segmented(&body, n, &parse_v1_segmented(&body, n))?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// A v1 Show/Complete answer with one value replaced (or removed): its status as
    /// written, or `Error::Protocol`.
    #[test]
    fn v1_status_near_valid(
        valid in valid_v1_status(),
        which in any::<Index>(),
        replacement in replacement(),
        call in any::<String>(),
    ) {
        let body = mutate(valid, which, replacement);
        check_status(&body, &parse_v1_status(&body, &call))?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// A v2.1 answer with one value replaced (or removed), read with an arbitrary
    /// expected count (or none): exactly the expected number of parts, the id,
    /// status and failure reason as written, or `Error::Protocol`.
    #[test]
    fn v2_near_valid(
        valid in valid_v2(0..20, 0.75),
        other in other_count(),
        expect_count in any::<bool>(),
        which in any::<Index>(),
        replacement in replacement(),
    ) {
        let n = other.unwrap_or(listed(&valid["data"]["segments"]));
        let body = mutate(valid, which, replacement);
        let expected = expect_count.then_some(n);
        check_v2(&body, expected, &parse_v2(&body, expected))?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Form fields and segment headers come back in the order of the JSON text (not
    /// sorted, not hashed), numbers as their decimal text.
    #[test]
    fn fields_and_headers_keep_text_order(
        fields in ordered_pairs(),
        headers in prop::collection::vec(ordered_pairs(), 0..4),
    ) {
        let (fields_json, expected_fields) = json_and_expected(&fields);
        let body = format!(r#"{{"uuid":"U","url":"https://s3.example/b","fields":{fields_json}}}"#);
        let form = parse_v1_form(&body);
        prop_assert!(form.is_ok(), "{:?}", form);
        prop_assert_eq!(form.unwrap().fields, expected_fields);

        let (parts_json, expected_headers): (Vec<String>, Vec<Vec<(String, String)>>) = headers
            .iter()
            .map(|pairs| {
                let (json, expected) = json_and_expected(pairs);
                let part = format!(
                    r#"{{"url":"https://s3.example/p","url_expires_at":1,"headers":{json}}}"#
                );
                (part, expected)
            })
            .unzip();
        let parts_json = parts_json.join(",");
        let count = headers.len();

        let body = format!(r#"{{"uuid":"U","segments":[{parts_json}]}}"#);
        let upload = parse_v1_segmented(&body, count);
        prop_assert!(upload.is_ok(), "{:?}", upload);
        let got: Vec<_> = upload.unwrap().parts.into_iter().map(|part| part.headers).collect();
        prop_assert_eq!(&got, &expected_headers);

        let body = format!(
            r#"{{"data":{{"upload_id":"U","status":"ready","segments":[{parts_json}]}}}}"#
        );
        let upload = parse_v2(&body, Some(count));
        prop_assert!(upload.is_ok(), "{:?}", upload);
        let got: Vec<_> = upload.unwrap().parts.into_iter().map(|part| part.headers).collect();
        prop_assert_eq!(&got, &expected_headers);
    }
}

// ---------------------------------------------------------------------------------
// Segment planner properties
// ---------------------------------------------------------------------------------

const GIB: u64 = 1024 * MIB;
/// 5 TB, the largest file the planner properties consider.
const MAX_FILE: u64 = 5_000_000_000_000;
const VERSIONS: [ApiVersion; 3] = [ApiVersion::V10, ApiVersion::V11, ApiVersion::V21];

fn version() -> impl Strategy<Value = ApiVersion> {
    select(VERSIONS.to_vec())
}

/// Sizes where a decision changes: the limits of every version times 1 and times
/// MAX_SEGMENTS, the default segment size and where 10,000 of it stop fitting, the
/// form upload limit, the `auto` threshold.
fn boundaries() -> Vec<u64> {
    let mut sizes = vec![
        0,
        1,
        MIB,
        DEFAULT_SEGMENT_SIZE,
        DEFAULT_SEGMENT_SIZE * MAX_SEGMENTS,
        AUTO_SEGMENTED_FROM,
        MAX_FORM_UPLOAD,
        5 * GIB,
        MAX_FILE,
    ];
    for version in VERSIONS {
        let limits = version.limits();
        sizes.extend([
            limits.min_segment,
            limits.max_segment,
            limits.min_segment * MAX_SEGMENTS,
            limits.max_segment * MAX_SEGMENTS,
        ]);
    }
    sizes
}

/// File sizes from 0 to 5 TB: uniform over the range, and near the boundaries
/// (± 2), whole MiB ± 1, whole multiples of 10,000 MiB ± 1 (where the default
/// segment size grows by one MiB), and small files.
fn file_size() -> impl Strategy<Value = u64> {
    prop_oneof![
        2 => 0..=MAX_FILE,
        2 => (select(boundaries()), -2i64..=2)
            .prop_map(|(size, delta)| size.saturating_add_signed(delta).min(MAX_FILE)),
        1 => (0..=MAX_FILE / MIB, -1i64..=1)
            .prop_map(|(mib, delta)| (mib * MIB).saturating_add_signed(delta).min(MAX_FILE)),
        2 => (0..=MAX_FILE / (MIB * MAX_SEGMENTS), -1i64..=1).prop_map(|(k, delta)| {
            (k * MIB * MAX_SEGMENTS).saturating_add_signed(delta).min(MAX_FILE)
        }),
        1 => 0..=64 * MIB,
    ]
}

/// How the segment size is requested; [`Request::resolve`] gives the size for a
/// file and version (a strategy of its own would need `prop_flat_map`, whose
/// shrinking is slow).
#[derive(Debug, Clone, Copy)]
enum Request {
    /// None: the default.
    Default,
    /// Any `u64`.
    Any(u64),
    /// A size within the version's limits (this value modulo their span).
    Within(u64),
    /// 0, 1, the limits ± 1, DEFAULT_SEGMENT_SIZE or `u64::MAX` (by index).
    Edge(usize),
    /// The smallest size that keeps the file within 10,000 segments, ± 1.
    Fitting(i64),
}

fn request() -> impl Strategy<Value = Request> {
    prop_oneof![
        3 => Just(Request::Default),
        1 => any::<u64>().prop_map(Request::Any),
        2 => any::<u64>().prop_map(Request::Within),
        1 => (0usize..10).prop_map(Request::Edge),
        1 => (-1i64..=1).prop_map(Request::Fitting),
    ]
}

impl Request {
    fn resolve(self, size: u64, version: ApiVersion) -> Option<u64> {
        let limits = version.limits();
        match self {
            Request::Default => None,
            Request::Any(value) => Some(value),
            Request::Within(value) => {
                Some(limits.min_segment + value % (limits.max_segment - limits.min_segment + 1))
            }
            Request::Edge(index) => Some(
                [
                    0,
                    1,
                    limits.min_segment - 1,
                    limits.min_segment,
                    limits.min_segment + 1,
                    DEFAULT_SEGMENT_SIZE,
                    limits.max_segment - 1,
                    limits.max_segment,
                    limits.max_segment + 1,
                    u64::MAX,
                ][index],
            ),
            Request::Fitting(delta) => {
                Some(size.div_ceil(MAX_SEGMENTS).saturating_add_signed(delta))
            }
        }
    }
}

/// What a plan promises: contiguous ranges from 0 that sum to the size, 1 to 10,000
/// of them, all within the limits (all but the last exactly `segment_size` and at
/// least the minimum, the last non-empty unless the file is).
fn check_plan(plan: &SegmentPlan, size: u64, version: ApiVersion) -> Result<(), TestCaseError> {
    let limits = version.limits();
    prop_assert_eq!(plan.size, size);
    let count = plan.count();
    prop_assert!((1..=MAX_SEGMENTS).contains(&count), "{count} segments");
    prop_assert!(plan.segment_size <= limits.max_segment, "{plan:?}");
    let (mut next, mut total, mut seen) = (0u64, 0u64, 0u64);
    for range in plan.ranges() {
        prop_assert_eq!(range.start, next, "segment {} of {:?}", seen, plan);
        prop_assert!(range.end >= range.start, "segment {seen}: {range:?}");
        let length = range.end - range.start;
        prop_assert!(
            length <= limits.max_segment,
            "segment {seen}: {length} bytes"
        );
        if seen + 1 < count {
            prop_assert_eq!(length, plan.segment_size, "segment {} of {:?}", seen, plan);
            prop_assert!(
                length >= limits.min_segment,
                "segment {seen}: {length} bytes"
            );
        } else {
            prop_assert!(length > 0 || size == 0, "an empty last segment: {plan:?}");
        }
        next = range.end;
        total += length;
        seen += 1;
    }
    prop_assert_eq!(seen, count);
    prop_assert_eq!(next, size);
    prop_assert_eq!(total, size);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    /// For every version, any size up to 5 TB and any requested segment size (or
    /// none), `plan_segments` returns a plan that keeps its promises (see
    /// `check_plan`, and the requested size is used as is) or `InvalidInput` with a
    /// message, and it refuses exactly when it must: a requested size outside the
    /// limits or needing more than 10,000 segments; with the default, files over
    /// 10,000 × the largest segment (never up to 5 TB on v1, above 100 MiB × 10,000
    /// on v2.1).
    #[test]
    fn plan_segments_keeps_its_promises(
        size in file_size(),
        version in version(),
        request in request(),
    ) {
        let requested = request.resolve(size, version);
        let limits = version.limits();
        let result = plan_segments(size, version, requested);
        let must_succeed = match requested {
            Some(requested) => {
                (limits.min_segment..=limits.max_segment).contains(&requested)
                    && size.div_ceil(requested) <= MAX_SEGMENTS
            }
            None => match version {
                ApiVersion::V10 | ApiVersion::V11 => true,
                ApiVersion::V21 => size <= 100 * MIB * MAX_SEGMENTS,
            },
        };
        match &result {
            Ok(plan) => {
                prop_assert!(must_succeed, "{size} {version:?} {requested:?}: {plan:?}");
                check_plan(plan, size, version)?;
                if let Some(requested) = requested {
                    prop_assert_eq!(plan.segment_size, requested);
                }
            }
            Err(error) => {
                prop_assert!(
                    matches!(error, Error::InvalidInput(message) if !message.is_empty()),
                    "{size} {version:?} {requested:?}: {error:?}"
                );
                prop_assert!(!must_succeed, "{size} {version:?} {requested:?}: {error:?}");
            }
        }
    }

    /// The default segment size is the smallest whole number of MiB, at least
    /// DEFAULT_SEGMENT_SIZE, that keeps the file within 10,000 segments.
    #[test]
    fn default_segment_size_is_the_smallest_that_fits(
        size in file_size(),
        version in version(),
    ) {
        if let Ok(plan) = plan_segments(size, version, None) {
            let segment_size = plan.segment_size;
            prop_assert_eq!(segment_size % MIB, 0, "{:?}", plan);
            prop_assert!(segment_size >= DEFAULT_SEGMENT_SIZE, "{plan:?}");
            prop_assert!(plan.count() <= MAX_SEGMENTS, "{plan:?}");
            if segment_size > DEFAULT_SEGMENT_SIZE {
                prop_assert!(
                    size.div_ceil(segment_size - MIB) > MAX_SEGMENTS,
                    "{plan:?}: {} bytes segments would fit", segment_size - MIB
                );
            }
        }
    }

    /// `use_segments` never panics and decides as documented: v2.1 always segments
    /// (`No` is refused), v1 `Yes` segments, v1 `Auto` from AUTO_SEGMENTED_FROM, v1
    /// `No` posts a form up to MAX_FORM_UPLOAD and is refused above.
    #[test]
    fn use_segments_decides_as_documented(
        version in version(),
        mode in select(vec![Segmented::Yes, Segmented::No, Segmented::Auto]),
        size in prop_oneof![
            file_size(),
            any::<u64>(),
            (select(vec![AUTO_SEGMENTED_FROM, MAX_FORM_UPLOAD]), -2i64..=2)
                .prop_map(|(size, delta)| size.saturating_add_signed(delta)),
        ],
    ) {
        let got = use_segments(version, mode, size);
        let refused = matches!(&got, Err(Error::InvalidInput(message)) if !message.is_empty());
        match (version, mode) {
            (ApiVersion::V21, Segmented::No) => prop_assert!(refused, "{got:?}"),
            (ApiVersion::V21, _) | (_, Segmented::Yes) => prop_assert_eq!(got, Ok(true)),
            (_, Segmented::Auto) => prop_assert_eq!(got, Ok(size >= AUTO_SEGMENTED_FROM)),
            (_, Segmented::No) if size <= MAX_FORM_UPLOAD => prop_assert_eq!(got, Ok(false)),
            (_, Segmented::No) => prop_assert!(refused, "{got:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------
// Kept upload states: read back from a store or from the caller's JS
// ---------------------------------------------------------------------------------

/// A state as `start()` would keep it, with `parts` parts.
fn valid_state(parts: usize, v2: bool) -> Value {
    let digests: Vec<Value> = (0..parts)
        .map(|i| serde_json::json!({"size": 5_242_880 + i, "sha256": "a".repeat(64), "md5": if i % 2 == 0 { Value::Null } else { "b".repeat(32).into() }}))
        .collect();
    let etags: Vec<Value> = (0..parts)
        .map(|i| {
            if i % 3 == 0 {
                Value::Null
            } else {
                format!("e{i}").into()
            }
        })
        .collect();
    let instructions: Vec<Value> = if v2 {
        Vec::new()
    } else {
        (0..parts)
            .map(|i| serde_json::json!({"url": format!("https://s.test/{i}?sig=x"), "headers": [["x-amz-content-sha256", "a"], ["Content-MD5", "b"]]}))
            .collect()
    };
    serde_json::json!({
        "format": 1, "key": "procore-upload/v1.1/7/42/10/1/-/a.pdf",
        "scope": {"api_version": if v2 { "v2.1" } else { "v1.1" }, "company_id": 7, "project_id": if v2 { Value::Null } else { 42.into() }},
        "file": {"name": "a.pdf", "size": 10, "last_modified": 1, "content_type": "application/pdf"},
        "segment_size": 5_242_880, "md5": true, "digests": digests,
        "whole_sha256": if v2 { Value::from("c".repeat(64)) } else { Value::Null }, "whole_md5": null,
        "uuid": "U", "parts": instructions, "instructions_at_ms": 1_800_000_000_000u64,
        "etags": etags, "created_ms": 1_800_000_000_000u64, "updated_ms": 1_800_000_000_001u64,
        "phase": "uploading",
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Any text: a state or `None`, never a panic.
    #[test]
    fn any_text_is_a_state_or_none(text in arbitrary_text()) {
        let _ = parse_state(&text);
        let _ = read_state(&text);
    }

    /// A kept state with one value replaced or removed: refused (`None`), or read as a
    /// state that writes back to the same thing.
    #[test]
    fn near_valid_states_are_refused_or_read_faithfully(
        parts in 0usize..6,
        v2 in any::<bool>(),
        which in any::<Index>(),
        replacement in replacement(),
    ) {
        let valid = valid_state(parts, v2);
        let read = parse_state(&valid.to_string());
        prop_assert!(read.is_some(), "the valid state is read");
        // Inside a state written now, the layout of format 1 as serde_json wrote it,
        // byte for byte (after the check), with its new format number.
        let written: Value = serde_json::from_str(&state_text(&read.unwrap())).unwrap();
        let mut inner = valid.clone();
        inner["format"] = 2.into();
        prop_assert_eq!(&written["internal"].as_str().unwrap()[16..], inner.to_string());
        let text = mutate(valid, which, replacement);
        if let Some(state) = parse_state(&text) {
            prop_assert_eq!(parse_state(&state_text(&state)), Some(state));
        }
    }

    /// A state written now (format 2) with one value replaced or removed, in the
    /// open or inside `internal` (its check left as it was): refused, unless the
    /// text is the same.
    #[test]
    fn changed_states_are_refused(
        parts in 0usize..6,
        v2 in any::<bool>(),
        inside in any::<bool>(),
        which in any::<Index>(),
        replacement in replacement(),
    ) {
        let state = parse_state(&valid_state(parts, v2).to_string()).unwrap();
        let text = state_text(&state);
        let mut outer: Value = serde_json::from_str(&text).unwrap();
        let changed = if inside {
            let internal = outer["internal"].as_str().unwrap().to_string();
            let (check, inner) = internal.split_at(16);
            let changed = mutate(serde_json::from_str(inner).unwrap(), which, replacement);
            outer["internal"] = format!("{check}{changed}").into();
            outer.to_string()
        } else {
            mutate(outer, which, replacement)
        };
        let expected = (changed == text).then_some(state);
        prop_assert_eq!(read_state(&changed), expected);
    }
}
