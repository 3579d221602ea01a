//! Checks of client and upload options that need no browser: each a pure function
//! with a table test, called by the facade before anything is sent.

use super::Error;

/// The longest wait a browser timer can hold: `setTimeout` keeps its delay in a
/// signed 32-bit integer and fires at once beyond it (a stall watchdog would spin,
/// idle workers would end at once).
pub const MAX_TIMER_MS: u64 = (1 << 31) - 1;

/// A duration option `name`, if given, within what a timer can hold.
pub fn checked_duration(name: &str, millis: Option<u64>) -> Result<Option<u64>, Error> {
    match millis {
        Some(ms) if ms > MAX_TIMER_MS => Err(Error::InvalidInput(format!(
            "options.{name} must be at most {MAX_TIMER_MS} ms (about 24.8 days, what a browser timer holds), got {ms}"
        ))),
        other => Ok(other),
    }
}

/// Whether `host` (as in a URL, IPv6 in brackets) is a loopback host, which browsers
/// treat as a secure context: `localhost` (and its subdomains), `127.0.0.0/8`, `[::1]`.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    let host = host.strip_suffix('.').unwrap_or(&host);
    if host == "localhost" || host.ends_with(".localhost") || host == "[::1]" {
        return true;
    }
    let octets: Vec<&str> = host.split('.').collect();
    octets.len() == 4
        && octets.first() == Some(&"127")
        && octets
            .iter()
            .all(|o| !o.is_empty() && o.len() <= 3 && o.parse::<u8>().is_ok())
}

/// The API base URL: `https:`, or `http:` only for a loopback host or when
/// `allow_insecure` says so (the bearer token would otherwise cross the network in
/// clear text). Anything else is [`Error::InvalidInput`], before a token is asked for.
pub fn checked_base_url(url: &str, allow_insecure: bool) -> Result<(), Error> {
    let refuse = |why: &str| {
        Err(Error::InvalidInput(format!(
            "options.baseUrl {} {why}",
            super::json::quote(url)
        )))
    };
    let lower = url.to_ascii_lowercase();
    let (rest, secure) = if let Some(rest) = lower.strip_prefix("https://") {
        (rest, true)
    } else if let Some(rest) = lower.strip_prefix("http://") {
        (rest, false)
    } else {
        return refuse("must be an https: URL such as \"https://api.procore.com\"");
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return refuse("must not carry credentials");
    }
    let host = if authority.starts_with('[') {
        authority
            .find(']')
            .and_then(|end| authority.get(..=end))
            .unwrap_or(authority)
    } else {
        authority.split(':').next().unwrap_or("")
    };
    if host.is_empty() {
        return refuse("has no host");
    }
    if secure || allow_insecure || is_loopback_host(host) {
        Ok(())
    } else {
        refuse("is http: the access token would travel in clear text; use https:, a loopback host, or allowInsecureBaseUrl: true")
    }
}

/// A key of an options object that the call does not know, and the known name it
/// is a case or underscore variant of, if any (`parentID`, `parent_id`: `parentId`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown<'a> {
    /// The key as the caller wrote it.
    pub key: &'a str,
    /// The known name it looks like.
    pub suggestion: Option<&'static str>,
}

/// `key` without case, `_` or `-`: what a misspelling by case or separator keeps.
fn folded(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for c in key.chars() {
        if c != '_' && c != '-' {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// The keys of `given` that are not in `known`, in order, each with the known name
/// it is a case or separator variant of.
pub fn unknown_keys<'a>(given: &[&'a str], known: &[&'static str]) -> Vec<Unknown<'a>> {
    let mut unknown = Vec::new();
    for &key in given {
        if known.contains(&key) {
            continue;
        }
        let wanted = folded(key);
        let mut suggestion = None;
        for &name in known {
            if folded(name) == wanted {
                suggestion = Some(name);
            }
        }
        unknown.push(Unknown { key, suggestion });
    }
    unknown
}

/// Refuses an options object (`what`, such as `options`) with a key not in `known`:
/// a misspelled option is [`Error::InvalidInput`] naming it (and the name it looks
/// like), not silently left unused or sent. `hint` follows when some key looks like
/// no known name.
pub fn check_keys(
    what: &str,
    given: &[&str],
    known: &[&'static str],
    hint: &str,
) -> Result<(), Error> {
    let unknown = unknown_keys(given, known);
    if unknown.is_empty() {
        return Ok(());
    }
    let mut message = String::new();
    let mut unlike = false;
    for (n, item) in unknown.iter().enumerate() {
        if n > 0 {
            message.push_str(", ");
        }
        message.push_str(what);
        message.push('.');
        message.push_str(item.key);
        match item.suggestion {
            Some(name) => {
                message.push_str(" (did you mean ");
                message.push_str(name);
                message.push_str("?)");
            }
            None => unlike = true,
        }
    }
    message.push_str(if unknown.len() == 1 {
        " is not a known option"
    } else {
        " are not known options"
    });
    if unlike && !hint.is_empty() {
        message.push_str("; ");
        message.push_str(hint);
    }
    Err(Error::InvalidInput(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each options object and what the key check says of it: `None` when every key
    /// is known, else the message of the INVALID_INPUT.
    #[test]
    fn unknown_keys_table() {
        const KNOWN: &[&str] = &["projectId", "parentId", "uploadUuid", "signal", "md5"];
        let table: &[(&[&str], &str, Option<&str>)] = &[
            (&[], "", None),
            (&["projectId", "signal"], "", None),
            (&["parentId", "md5", "uploadUuid", "projectId"], "hint", None),
            (
                &["parentID"],
                "",
                Some("options.parentID (did you mean parentId?) is not a known option"),
            ),
            (
                &["projectId", "parent_id"],
                "",
                Some("options.parent_id (did you mean parentId?) is not a known option"),
            ),
            (
                &["PROJECT-ID"],
                "",
                Some("options.PROJECT-ID (did you mean projectId?) is not a known option"),
            ),
            (
                &["MD5"],
                "",
                Some("options.MD5 (did you mean md5?) is not a known option"),
            ),
            (
                &["is_tracked"],
                "Procore's own fields go in procoreFields",
                Some("options.is_tracked is not a known option; Procore's own fields go in procoreFields"),
            ),
            // The hint only where some key looks like no known name.
            (
                &["parentID"],
                "Procore's own fields go in procoreFields",
                Some("options.parentID (did you mean parentId?) is not a known option"),
            ),
            (
                &["parentID", "projectId", "folder"],
                "",
                Some("options.parentID (did you mean parentId?), options.folder are not known options"),
            ),
            // Not a variant by case or separator: no suggestion.
            (&["parent"], "", Some("options.parent is not a known option")),
            (&["projectIds"], "", Some("options.projectIds is not a known option")),
            (&[""], "", Some("options. is not a known option")),
        ];
        for &(given, hint, expected) in table {
            let got = check_keys("options", given, KNOWN, hint);
            match (got, expected) {
                (Ok(()), None) => {}
                (Err(Error::InvalidInput(message)), Some(expected)) => {
                    assert_eq!(message, expected, "{given:?}");
                }
                (got, expected) => panic!("{given:?}: {got:?}, expected {expected:?}"),
            }
        }
        assert_eq!(
            unknown_keys(&["parentID", "signal", "x"], KNOWN),
            vec![
                Unknown {
                    key: "parentID",
                    suggestion: Some("parentId")
                },
                Unknown {
                    key: "x",
                    suggestion: None
                },
            ]
        );
    }

    #[test]
    fn durations_table() {
        let table: &[(Option<u64>, bool)] = &[
            (None, true),
            (Some(0), true),
            (Some(30_000), true),
            (Some(MAX_TIMER_MS), true),
            (Some(MAX_TIMER_MS + 1), false),
            (Some(3_000_000_000), false),
            (Some(u64::MAX), false),
        ];
        for &(ms, ok) in table {
            let got = checked_duration("stallTimeoutMs", ms);
            assert_eq!(got.is_ok(), ok, "{ms:?}: {got:?}");
            if let Err(error) = got {
                assert_eq!(error.code(), "INVALID_INPUT");
                assert!(error.to_string().contains("stallTimeoutMs"), "{error}");
            }
        }
    }

    #[test]
    fn base_url_table() {
        // (URL, allowInsecureBaseUrl, accepted)
        let table: &[(&str, bool, bool)] = &[
            ("https://api.procore.com", false, true),
            ("HTTPS://sandbox.procore.com/", false, true),
            ("http://127.0.0.1:8080", false, true),
            ("http://127.10.0.1", false, true),
            ("http://localhost:3000/", false, true),
            ("http://app.localhost", false, true),
            ("http://[::1]:9000", false, true),
            ("http://api.procore.com", false, false),
            ("http://10.0.0.5", false, false),
            ("http://127.0.0.1.evil.example", false, false),
            ("http://localhost.evil.example", false, false),
            ("http://user@127.0.0.1", false, false),
            ("http://[::2]", false, false),
            ("http://api.procore.com", true, true),
            ("ftp://api.procore.com", true, false),
            ("api.procore.com", false, false),
            ("https://", false, false),
            ("http://", true, false),
        ];
        for &(url, allow, accepted) in table {
            let got = checked_base_url(url, allow);
            assert_eq!(got.is_ok(), accepted, "{url} {allow}: {got:?}");
        }
    }
}
