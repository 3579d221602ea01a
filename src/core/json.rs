//! JSON as the protocol needs it, without `serde_json`'s weight in the `.wasm`
//! (issue 13): a value whose objects keep their members in the order they came (v1
//! form fields are sent back in order) and whose numbers stay their own text (ids and
//! sizes pass through unrounded), a parser and a compact writer.

use std::fmt::{self, Write as _};

/// Arrays and objects nested deeper than this are refused rather than risking the
/// stack, as `serde_json` refuses them (its recursion limit of 128 lets 127 through).
const MAX_DEPTH: usize = 127;

/// A JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as its JSON text (RFC 8259's grammar, checked when parsed).
    Number(String),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object's members, in order.
    Object(Vec<(String, Json)>),
}

/// Why a text is not JSON: what was wrong, and at which byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// What was wrong.
    pub message: &'static str,
    /// Byte offset in the text.
    pub at: usize,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.message, self.at)
    }
}

impl Json {
    /// Parses a whole JSON text (whitespace around it allowed, nothing else).
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let mut parser = Parser {
            text,
            bytes: text.as_bytes(),
            at: 0,
        };
        parser.skip_whitespace();
        let value = parser.value(0)?;
        parser.skip_whitespace();
        if parser.at != parser.bytes.len() {
            return Err(parser.error("trailing characters"));
        }
        Ok(value)
    }

    /// An empty object.
    pub fn object() -> Self {
        Json::Object(Vec::new())
    }

    /// An object of these members, in this order.
    pub fn object_of<const N: usize>(members: [(&str, Json); N]) -> Self {
        Self::object_from(&mut members.into_iter())
    }

    /// An array of strings and `null`s.
    pub fn optional_strings(items: &[Option<String>]) -> Self {
        Json::Array(items.iter().map(|item| item.as_deref().into()).collect())
    }

    /// [`Self::object_of`] for any number of members: one copy in the package.
    fn object_from(members: &mut dyn Iterator<Item = (&str, Json)>) -> Self {
        let mut object = Vec::new();
        for (name, value) in members {
            object.push((name.to_string(), value));
        }
        Json::Object(object)
    }

    /// The member `key` of an object (the last one, when a name repeats).
    pub fn get(&self, key: &str) -> Option<&Json> {
        self.as_object()?
            .iter()
            .rev()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value)
    }

    /// Sets the member `key` of an object: in place when it exists (the last one, the
    /// one [`Json::get`] reads, when a name repeats), else at the end. Does nothing to
    /// anything but an object.
    pub fn insert(&mut self, key: &str, value: impl Into<Json>) {
        self.put(key, value.into());
    }

    /// [`Self::insert`] for a value made: one copy in the package.
    fn put(&mut self, key: &str, value: Json) {
        if let Json::Object(members) = self {
            match members.iter_mut().rev().find(|(name, _)| name == key) {
                Some((_, slot)) => *slot = value,
                None => members.push((key.to_string(), value)),
            }
        }
    }

    /// Takes the member `key` (every one, when a name repeats) out of an object,
    /// giving its value (the last one).
    pub fn remove(&mut self, key: &str) -> Option<Json> {
        let Json::Object(members) = self else {
            return None;
        };
        let mut taken = None;
        members.retain_mut(|(name, value)| {
            if name == key {
                taken = Some(std::mem::replace(value, Json::Null));
                false
            } else {
                true
            }
        });
        taken
    }

    /// The members of an object.
    pub fn as_object(&self) -> Option<&[(String, Json)]> {
        match self {
            Json::Object(members) => Some(members),
            _ => None,
        }
    }

    /// The items of an array.
    pub fn as_array(&self) -> Option<&[Json]> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    /// A string's text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(text) => Some(text),
            _ => None,
        }
    }

    /// A boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// A number written as a whole number without sign, fraction or exponent that
    /// fits a `u64` (as `serde_json` reads `as_u64`: `1.0` and `1e3` are not).
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Json::Number(text) if text.bytes().all(|b| b.is_ascii_digit()) => text.parse().ok(),
            _ => None,
        }
    }
}

impl From<&str> for Json {
    fn from(text: &str) -> Self {
        Json::String(text.to_string())
    }
}

impl From<String> for Json {
    fn from(text: String) -> Self {
        Json::String(text)
    }
}

impl From<u64> for Json {
    fn from(n: u64) -> Self {
        Json::Number(n.to_string())
    }
}

impl From<u32> for Json {
    fn from(n: u32) -> Self {
        Json::Number(n.to_string())
    }
}

impl From<bool> for Json {
    fn from(b: bool) -> Self {
        Json::Bool(b)
    }
}

impl<T: Into<Json>> From<Option<T>> for Json {
    fn from(value: Option<T>) -> Self {
        value.map_or(Json::Null, Into::into)
    }
}

impl<T: Into<Json>> From<Vec<T>> for Json {
    fn from(items: Vec<T>) -> Self {
        Json::Array(items.into_iter().map(Into::into).collect())
    }
}

/// `text` as a JSON string literal: quoted, `"`, `\` and control characters escaped.
/// How error messages quote what they were given (where `{:?}` would pull Rust's
/// Unicode escaping tables into the `.wasm`).
pub fn quote(text: &str) -> String {
    Json::String(text.to_string()).to_string()
}

/// The compact text (no whitespace), as `serde_json::to_string` writes it.
impl fmt::Display for Json {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Json::Null => f.write_str("null"),
            Json::Bool(b) => f.write_str(if *b { "true" } else { "false" }),
            Json::Number(text) => f.write_str(text),
            Json::String(text) => write_string(f, text),
            Json::Array(items) => {
                f.write_char('[')?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    fmt::Display::fmt(item, f)?;
                }
                f.write_char(']')
            }
            Json::Object(members) => {
                f.write_char('{')?;
                for (i, (name, value)) in members.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    write_string(f, name)?;
                    f.write_char(':')?;
                    fmt::Display::fmt(value, f)?;
                }
                f.write_char('}')
            }
        }
    }
}

/// A string literal: `"` and `\` escaped, control characters as their short
/// escapes or `\u00XX`, everything else as it is.
fn write_string(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    f.write_char('"')?;
    let mut plain = 0;
    for (i, c) in text.char_indices() {
        let escape = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            '\u{8}' => "\\b",
            '\u{c}' => "\\f",
            c if c < ' ' => "",
            _ => continue,
        };
        f.write_str(text.get(plain..i).unwrap_or_default())?;
        if escape.is_empty() {
            write!(f, "\\u{:04x}", c as u32)?;
        } else {
            f.write_str(escape)?;
        }
        plain = i + c.len_utf8();
    }
    f.write_str(text.get(plain..).unwrap_or_default())?;
    f.write_char('"')
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    /// What is left to read.
    fn rest(&self) -> &[u8] {
        self.bytes.get(self.at..).unwrap_or_default()
    }

    /// The text from `start` to here; every caller stops at ASCII bytes, which are
    /// char boundaries.
    fn since(&self, start: usize) -> &str {
        self.text.get(start..self.at).unwrap_or_default()
    }

    fn error(&self, message: &'static str) -> ParseError {
        ParseError {
            message,
            at: self.at,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn literal(&mut self, word: &'static str, value: Json) -> Result<Json, ParseError> {
        if self.rest().starts_with(word.as_bytes()) {
            self.at += word.len();
            Ok(value)
        } else {
            Err(self.error("expected a value"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, ParseError> {
        match self.peek() {
            Some(b'n') => self.literal("null", Json::Null),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'"') => self.string().map(Json::String),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'[' | b'{') if depth >= MAX_DEPTH => Err(self.error("nested too deep")),
            Some(b'[') => self.array(depth + 1),
            Some(b'{') => self.object(depth + 1),
            Some(_) => Err(self.error("expected a value")),
            None => Err(self.error("unexpected end")),
        }
    }

    /// After `[`: items, then `]`.
    fn array(&mut self, depth: usize) -> Result<Json, ParseError> {
        self.sequence(b']', |parser| parser.value(depth))
            .map(Json::Array)
    }

    /// After `{`: members, then `}`.
    fn object(&mut self, depth: usize) -> Result<Json, ParseError> {
        self.sequence(b'}', |parser| {
            if parser.peek() != Some(b'"') {
                return Err(parser.error("expected a member name"));
            }
            let name = parser.string()?;
            parser.skip_whitespace();
            if parser.peek() != Some(b':') {
                return Err(parser.error("expected :"));
            }
            parser.at += 1;
            parser.skip_whitespace();
            Ok((name, parser.value(depth)?))
        })
        .map(Json::Object)
    }

    /// After an opening bracket: `item`s separated by commas, then `close`.
    fn sequence<T>(
        &mut self,
        close: u8,
        mut item: impl FnMut(&mut Self) -> Result<T, ParseError>,
    ) -> Result<Vec<T>, ParseError> {
        self.at += 1;
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(close) {
            self.at += 1;
            return Ok(items);
        }
        loop {
            self.skip_whitespace();
            items.push(item(self)?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(found) if found == close => {
                    self.at += 1;
                    return Ok(items);
                }
                _ if close == b']' => return Err(self.error("expected , or ]")),
                _ => return Err(self.error("expected , or }")),
            }
        }
    }

    /// A number's text, checked against RFC 8259's grammar.
    fn number(&mut self) -> Result<Json, ParseError> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek() {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.error("expected a digit")),
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error("expected a digit"));
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error("expected a digit"));
            }
            self.digits();
        }
        Ok(Json::Number(self.since(start).to_string()))
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
    }

    /// After `"`: the string's text up to the closing `"`, escapes resolved.
    fn string(&mut self) -> Result<String, ParseError> {
        self.at += 1;
        let mut out = String::new();
        loop {
            let run_start = self.at;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.at += 1;
            }
            out.push_str(self.since(run_start));
            match self.peek() {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.at += 1;
                    self.escape(&mut out)?;
                }
                Some(_) => return Err(self.error("control character in a string")),
                None => return Err(self.error("unterminated string")),
            }
        }
    }

    /// After `\`: one escape into `out`.
    fn escape(&mut self, out: &mut String) -> Result<(), ParseError> {
        let c = match self.peek() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                self.at += 1;
                let unit = self.hex4()?;
                let c = if (0xD800..0xDC00).contains(&unit) {
                    // A high surrogate needs its low half next.
                    if !self.rest().starts_with(b"\\u") {
                        return Err(self.error("lone surrogate"));
                    }
                    self.at += 2;
                    let low = self.hex4()?;
                    if !(0xDC00..0xE000).contains(&low) {
                        return Err(self.error("lone surrogate"));
                    }
                    char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                } else {
                    char::from_u32(unit)
                };
                out.push(c.ok_or_else(|| self.error("lone surrogate"))?);
                return Ok(());
            }
            _ => return Err(self.error("invalid escape")),
        };
        self.at += 1;
        out.push(c);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let digits = self
            .bytes
            .get(self.at..self.at + 4)
            .ok_or_else(|| self.error("unexpected end"))?;
        let mut unit = 0;
        for &d in digits {
            let value = (d as char)
                .to_digit(16)
                .ok_or_else(|| self.error("invalid \\u escape"))?;
            unit = unit * 16 + value;
        }
        self.at += 4;
        Ok(unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_writes_back_the_same_text() {
        let table = [
            "null",
            "true",
            "false",
            "0",
            "-0",
            "12345678901234567890123",
            "1.5e-7",
            "-2E+3",
            "\"\"",
            "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001é😀\"",
            "[]",
            "{}",
            "[1,[2,[3]],{\"a\":null}]",
            "{\"z\":1,\"a\":2,\"m\":{\"y\":[true,false]}}",
        ];
        for text in table {
            let value = Json::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(value.to_string(), text);
        }
    }

    #[test]
    fn resolves_escapes_and_whitespace() {
        let value = Json::parse(" { \"k\" : [ \"\\u00e9\\/\\ud83d\\ude00\" , 2 ] } \n").unwrap();
        assert_eq!(
            value,
            Json::Object(vec![(
                "k".into(),
                Json::Array(vec![Json::String("é/😀".into()), Json::Number("2".into())])
            )])
        );
        assert_eq!(value.to_string(), "{\"k\":[\"é/😀\",2]}");
    }

    #[test]
    fn refuses_what_is_not_json() {
        // (text, what is wrong)
        let table = [
            ("", "unexpected end"),
            ("nul", "expected a value"),
            ("01", "trailing characters"),
            ("1.", "expected a digit"),
            ("-", "expected a digit"),
            ("1e", "expected a digit"),
            (".5", "expected a value"),
            ("+1", "expected a value"),
            ("[1,]", "expected a value"),
            ("[1 2]", "expected , or ]"),
            ("{\"a\" 1}", "expected :"),
            ("{a:1}", "expected a member name"),
            ("{\"a\":1,}", "expected a member name"),
            ("\"abc", "unterminated string"),
            ("\"a\u{1}\"", "control character in a string"),
            ("\"\\x\"", "invalid escape"),
            ("\"\\u12g4\"", "invalid \\u escape"),
            ("\"\\ud800\"", "lone surrogate"),
            ("\"\\ud800\\u0041\"", "lone surrogate"),
            ("\"\\udc00\"", "lone surrogate"),
            ("{} {}", "trailing characters"),
            ("NaN", "expected a value"),
        ];
        for (text, message) in table {
            match Json::parse(text) {
                Err(error) => assert_eq!(error.message, message, "{text:?}"),
                Ok(value) => panic!("{text:?} parsed as {value:?}"),
            }
        }
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert_eq!(Json::parse(&deep).unwrap_err().message, "nested too deep");
        let deepest = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(Json::parse(&deepest).is_ok());
    }

    #[test]
    fn reads_members_and_numbers_as_serde_json_did() {
        let value = Json::parse(
            "{\"id\":42,\"big\":18446744073709551616,\"f\":1.0,\"e\":1e3,\"n\":-1,\"s\":\"x\",\"id\":43}",
        )
        .unwrap();
        // The last of a repeated name, as serde_json's map kept it.
        assert_eq!(value.get("id").and_then(Json::as_u64), Some(43));
        assert_eq!(value.get("big").and_then(Json::as_u64), None);
        assert_eq!(value.get("f").and_then(Json::as_u64), None);
        assert_eq!(value.get("e").and_then(Json::as_u64), None);
        assert_eq!(value.get("n").and_then(Json::as_u64), None);
        assert_eq!(value.get("s").and_then(Json::as_str), Some("x"));
        assert_eq!(value.get("missing"), None);
        assert_eq!(Json::Null.get("id"), None);
        // Setting and taking a repeated name act on what `get` reads.
        let mut value = value;
        value.insert("id", 44u64);
        assert_eq!(value.get("id").and_then(Json::as_u64), Some(44));
        assert_eq!(value.remove("id").as_ref().and_then(Json::as_u64), Some(44));
        assert_eq!(value.get("id"), None);
        assert_eq!(Json::Null.remove("id"), None);
    }

    #[test]
    fn builds_objects_in_order() {
        let mut body = Json::object();
        body.insert("size", 5u64);
        body.insert("name", "a\"b");
        body.insert("md5", None::<String>);
        body.insert("size", 6u64);
        body.insert("parts", vec![Some("e1".to_string()), None]);
        assert_eq!(
            body.to_string(),
            "{\"size\":6,\"name\":\"a\\\"b\",\"md5\":null,\"parts\":[\"e1\",null]}"
        );
        // Messages quote what they were given as JSON does.
        assert_eq!(quote("v3\"\n\u{1}"), "\"v3\\\"\\n\\u0001\"");
    }
}
