//! Which answers are retried, after how long, and which are fatal: pure decisions.

// Reads values from the network and from stores: no arithmetic that can overflow,
// underflow or divide by zero (checked or saturating operations only).
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use super::http::Target;

/// What an answer means for the request that got it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// 2xx.
    Success,
    /// Worth another attempt after a backoff (5xx, 408, a dropped connection).
    Retryable,
    /// 429: wait (`Retry-After` when given), then retry.
    RateLimited,
    /// 401 from the API: get a fresh token, then retry once.
    Unauthorized,
    /// Storage refused expired instructions: get fresh ones, then retry.
    Expired,
    /// Anything else: retrying would not help.
    Fatal,
}

/// Classifies an answer of `target`.
pub fn classify(target: Target, status: u16, body: &str) -> Class {
    match (target, status) {
        (_, 200..=299) => Class::Success,
        (_, 408 | 500 | 502 | 503 | 504) => Class::Retryable,
        (_, 429) => Class::RateLimited,
        (Target::Api, 401) => Class::Unauthorized,
        // S3 answers an expired presigned URL or policy 403 AccessDenied "Request has
        // expired" (Garage: 400 "... expired"); other 403s are refusals.
        (Target::Storage, 400 | 403) if body.to_ascii_lowercase().contains("expired") => {
            Class::Expired
        }
        _ => Class::Fatal,
    }
}

/// Attempts per API request, the first included.
pub const MAX_ATTEMPTS: u32 = 5;
/// Attempts per storage request, the first included: more than for the API, since a
/// storage request is safe to repeat and carries the bytes over the flaky link (site
/// Wi-Fi); with one request in five failing, ten attempts leave about one failed
/// request in ten million.
pub const STORAGE_ATTEMPTS: u32 = 10;
/// First backoff.
pub const BASE_DELAY_MS: u64 = 500;
/// Longest backoff, and longest `Retry-After` honoured.
pub const MAX_DELAY_MS: u64 = 60_000;

/// Milliseconds to wait before attempt `attempt + 1` (`attempt` counts from 1):
/// `Retry-After` when the server gave one, else exponential backoff with "equal
/// jitter" (half fixed, half random; `jitter` in `0.0..1.0`) so that clients that
/// failed together do not retry together.
pub fn backoff(attempt: u32, retry_after_secs: Option<u64>, jitter: f64) -> u64 {
    if let Some(seconds) = retry_after_secs {
        return seconds.saturating_mul(1000).min(MAX_DELAY_MS);
    }
    let exponential = BASE_DELAY_MS
        .saturating_mul(1u64 << attempt.saturating_sub(1).min(20))
        .min(MAX_DELAY_MS);
    let half = exponential / 2;
    half.saturating_add(scale(half, jitter))
}

/// Longest backoff between storage attempts when storage gave no `Retry-After`:
/// with ten attempts, a failing storage request gives up after 14 to 28 s of waits,
/// not minutes.
pub const STORAGE_MAX_DELAY_MS: u64 = 4000;

/// Milliseconds to wait before storage attempt `attempt + 1`: [`backoff`], capped at
/// [`STORAGE_MAX_DELAY_MS`] unless storage asked for longer with `Retry-After`.
pub fn storage_backoff(attempt: u32, retry_after_secs: Option<u64>, jitter: f64) -> u64 {
    let delay = backoff(attempt, retry_after_secs, jitter);
    match retry_after_secs {
        Some(_) => delay,
        None => delay.min(STORAGE_MAX_DELAY_MS),
    }
}

/// `value × fraction` for a fraction clamped to `0.0..=1.0` (NaN counts as 0), so the
/// result is never negative nor above `value`.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // bounds checked here
fn scale(value: u64, fraction: f64) -> u64 {
    let fraction = if fraction.is_nan() {
        0.0
    } else {
        fraction.clamp(0.0, 1.0)
    };
    ((value as f64 * fraction) as u64).min(value)
}

/// Whole milliseconds from `start` to `now` on the transport's clock; 0 when the
/// clock gave something odd (NaN, or going back).
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // bounds checked here
pub fn elapsed_ms(start: f64, now: f64) -> u64 {
    let elapsed = now - start;
    if elapsed.is_finite() && elapsed > 0.0 {
        elapsed.min(u64::MAX as f64) as u64
    } else {
        0
    }
}

/// `Retry-After` in seconds: the delta form (`120`), or the HTTP-date form counted
/// from the answer's own `Date` (so that a client clock that is off does not matter),
/// else from `now_secs` (the client's wall clock: CORS may hide `Date`). A date in
/// the past is 0. `None` when absent or unreadable.
pub fn parse_retry_after(value: Option<&str>, date: Option<&str>, now_secs: u64) -> Option<u64> {
    let value = value?.trim();
    if let Ok(seconds) = value.parse() {
        return Some(seconds);
    }
    let at = parse_http_date(value)?;
    let now = date.and_then(parse_http_date).unwrap_or(now_secs);
    Some(at.saturating_sub(now))
}

/// Seconds an answer asks to wait (a 429, or a 503 from Procore's rate limiter or
/// storage): `Retry-After` when readable ([`parse_retry_after`]), else Procore's
/// `X-Rate-Limit-Reset` (Unix seconds) less the answer's own `Date`. `None` when
/// neither can be read (the caller then backs off exponentially). The caller caps
/// the wait ([`backoff`]).
pub fn rate_limit_wait_secs(
    retry_after: Option<&str>,
    reset: Option<&str>,
    date: Option<&str>,
    now_secs: u64,
) -> Option<u64> {
    if let Some(seconds) = parse_retry_after(retry_after, date, now_secs) {
        return Some(seconds);
    }
    let reset: u64 = reset?.trim().parse().ok()?;
    let now = parse_http_date(date?)?;
    Some(reset.saturating_sub(now))
}

/// Unix seconds of an HTTP date in its one current form (IMF-fixdate,
/// `Sun, 06 Nov 1994 08:49:37 GMT`); `None` for anything else.
pub fn parse_http_date(text: &str) -> Option<u64> {
    let mut words = text.split_whitespace();
    let (_weekday, day, month, year, time, zone) = (
        words.next()?,
        words.next()?,
        words.next()?,
        words.next()?,
        words.next()?,
        words.next()?,
    );
    if zone != "GMT" || words.next().is_some() {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = (1u64..).zip(MONTHS).find(|(_, name)| *name == month)?.0;
    let day: u64 = day.parse().ok()?;
    let year: u64 = year.parse().ok()?;
    let mut clock = time.split(':').map(|part| part.parse::<u64>().ok());
    let (hour, minute, second) = (clock.next()??, clock.next()??, clock.next()??);
    if clock.next().is_some()
        || !(1..=31).contains(&day)
        || year < 1970
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    // Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
    // algorithm), every step checked: a year of up to 20 digits would overflow a
    // u64 (a panic with overflow checks, a wrong wait without), and a date whose
    // second does not fit is no date (`None`), like any other unreadable one.
    let (y, m) = if month <= 2 {
        (year.checked_sub(1)?, month.checked_add(9)?)
    } else {
        (year, month.checked_sub(3)?)
    };
    let era = y / 400;
    let year_of_era = y % 400;
    let day_of_year = 153u64
        .checked_mul(m)?
        .checked_add(2)?
        .checked_div(5)?
        .checked_add(day)?
        .checked_sub(1)?;
    let day_of_era = year_of_era
        .checked_mul(365)?
        .checked_add(year_of_era / 4)?
        .checked_sub(year_of_era / 100)?
        .checked_add(day_of_year)?;
    let days = era
        .checked_mul(146_097)?
        .checked_add(day_of_era)?
        .checked_sub(719_468)?;
    days.checked_mul(86_400)?
        .checked_add(hour.checked_mul(3600)?)?
        .checked_add(minute.checked_mul(60)?)?
        .checked_add(second)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_table() {
        use Class::*;
        use Target::*;
        let table: &[(Target, u16, &str, Class)] = &[
            (Api, 200, "", Success),
            (Api, 201, "", Success),
            (Storage, 204, "", Success),
            (Api, 500, "", Retryable),
            (Storage, 503, "<Code>SlowDown</Code>", Retryable),
            (Storage, 408, "", Retryable),
            (Api, 429, "", RateLimited),
            (Storage, 429, "", RateLimited),
            (Api, 401, "", Unauthorized),
            (Storage, 401, "", Fatal),
            (
                Storage,
                403,
                "<Message>Request has expired</Message>",
                Expired,
            ),
            (
                Storage,
                400,
                "<Message>Presigned URL expired</Message>",
                Expired,
            ),
            (Storage, 403, "<Code>SignatureDoesNotMatch</Code>", Fatal),
            (Api, 403, "expired", Fatal),
            (Api, 404, "", Fatal),
            (Api, 422, "", Fatal),
            (Storage, 400, "<Code>BadDigest</Code>", Fatal),
        ];
        for &(target, status, body, expected) in table {
            assert_eq!(
                classify(target, status, body),
                expected,
                "{target:?} {status} {body}"
            );
        }
    }

    #[test]
    fn backoff_table() {
        // (attempt, retry_after, jitter) -> ms
        let table: &[(u32, Option<u64>, f64, u64)] = &[
            (1, None, 0.0, 250),
            (1, None, 1.0, 500),
            (2, None, 0.0, 500),
            (3, None, 0.5, 1500),
            (10, None, 1.0, MAX_DELAY_MS),
            (40, None, 0.0, MAX_DELAY_MS / 2),
            (1, Some(3), 0.9, 3000),
            (1, Some(0), 0.9, 0),
            (1, Some(3600), 0.0, MAX_DELAY_MS),
            (1, None, 7.0, 500),
            (1, None, -3.0, 250),
            (1, None, f64::NAN, 250),
        ];
        for &(attempt, retry_after, jitter, expected) in table {
            assert_eq!(
                backoff(attempt, retry_after, jitter),
                expected,
                "{attempt} {retry_after:?} {jitter}"
            );
        }
    }

    /// Odd clocks (NaN, going back, infinite) give 0, never a wrapped or huge wait.
    #[test]
    fn elapsed_table() {
        let table: &[(f64, f64, u64)] = &[
            (0.0, 1500.7, 1500),
            (10.0, 5.0, 0),
            (0.0, f64::NAN, 0),
            (f64::NAN, 5.0, 0),
            (0.0, f64::INFINITY, 0),
            (1e3, 1e3, 0),
        ];
        for &(start, now, expected) in table {
            assert_eq!(elapsed_ms(start, now), expected, "{start} → {now}");
        }
    }

    #[test]
    fn retry_after_values() {
        let date = Some("Thu, 01 Jan 1970 00:16:40 GMT"); // 1000 s
                                                          // (Retry-After, Date, client clock) → seconds
        type Case<'a> = (Option<&'a str>, Option<&'a str>, u64, Option<u64>);
        let table: &[Case] = &[
            (Some(" 7 "), None, 0, Some(7)),
            (Some("7"), date, 5000, Some(7)),
            // The HTTP-date form, counted from the answer's Date …
            (Some("Thu, 01 Jan 1970 00:17:10 GMT"), date, 5000, Some(30)),
            // … or from the client's clock when Date is hidden or unreadable.
            (Some("Thu, 01 Jan 1970 00:17:10 GMT"), None, 1020, Some(10)),
            (
                Some("Thu, 01 Jan 1970 00:17:10 GMT"),
                Some("yesterday"),
                1020,
                Some(10),
            ),
            // A date already past: go now.
            (Some("Thu, 01 Jan 1970 00:16:00 GMT"), date, 0, Some(0)),
            (
                Some("Wed, 21 Oct 2015 07:28:00 GMT"),
                None,
                1_445_412_470,
                Some(10),
            ),
            (Some("soon"), date, 0, None),
            (None, date, 0, None),
        ];
        for &(value, date, now, expected) in table {
            assert_eq!(
                parse_retry_after(value, date, now),
                expected,
                "{value:?} {date:?} {now}"
            );
        }
    }

    #[test]
    fn storage_backoff_table() {
        // (attempt, Retry-After, jitter) → ms
        let table: &[(u32, Option<u64>, f64, u64)] = &[
            (1, None, 0.0, 250),
            (1, None, 1.0, 500),
            (4, None, 1.0, 4000),
            (5, None, 0.0, 4000),
            (9, None, 1.0, 4000),
            (9, Some(10), 0.0, 10_000),
        ];
        for &(attempt, retry_after, jitter, expected) in table {
            assert_eq!(
                storage_backoff(attempt, retry_after, jitter),
                expected,
                "{attempt} {retry_after:?} {jitter}"
            );
        }
    }

    /// What a 429 says to wait, from each combination of headers.
    #[test]
    fn rate_limit_wait_table() {
        let date = Some("Thu, 01 Jan 1970 00:16:40 GMT"); // 1000 s
        /// Retry-After, X-Rate-Limit-Reset, Date → seconds.
        type Case<'a> = (
            Option<&'a str>,
            Option<&'a str>,
            Option<&'a str>,
            Option<u64>,
        );
        let table: &[Case] = &[
            (Some("7"), Some("1030"), date, Some(7)),
            (None, Some("1030"), date, Some(30)),
            (None, Some("990"), date, Some(0)),
            (None, Some("1030"), None, None),
            (None, None, date, None),
            (Some("soon"), Some("x"), date, None),
            // Huge values: read when they fit in a u64, else absent; never a panic
            // (a debug build panics on overflow) nor a wrapped wait.
            (Some("18446744073709551615"), None, None, Some(u64::MAX)),
            (Some("18446744073709551616"), Some("1030"), date, Some(30)),
            (
                None,
                Some("18446744073709551615"),
                date,
                Some(u64::MAX - 1000),
            ),
            (None, Some("18446744073709551616"), date, None),
            (
                None,
                Some("1030"),
                Some("Sun, 06 Nov 18446744073709551615 08:49:37 GMT"),
                None,
            ),
            (
                None,
                Some("1030"),
                Some("Sun, 06 Nov 600000000000 08:49:37 GMT"),
                None,
            ),
            (
                None,
                Some("1030"),
                Some("Sun, 10 Nov 584554051223 00:00:00 GMT"),
                None,
            ),
            (
                None,
                Some("1030"),
                Some("Sun, 09 Nov 584554051223 07:00:16 GMT"),
                None,
            ),
            // The last second a u64 holds.
            (
                None,
                Some("18446744073709551615"),
                Some("Sun, 09 Nov 584554051223 07:00:15 GMT"),
                Some(0),
            ),
            (
                None,
                Some("1030"),
                Some("Sun, 06 Nov 1994 18446744073709551615:49:37 GMT"),
                None,
            ),
            (
                None,
                Some("1030"),
                Some("Sun, 18446744073709551615 Nov 1994 08:49:37 GMT"),
                None,
            ),
        ];
        for (retry_after, reset, date, expected) in table {
            assert_eq!(
                rate_limit_wait_secs(*retry_after, *reset, *date, 0),
                *expected,
                "{retry_after:?} {reset:?} {date:?}"
            );
        }
    }

    #[test]
    fn http_dates() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            parse_http_date("Mon, 23 Nov 2026 10:00:00 GMT"),
            Some(1_795_428_000)
        );
        assert_eq!(
            parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT"),
            Some(253_402_300_799)
        );
        // The last second a u64 holds.
        assert_eq!(
            parse_http_date("Sun, 09 Nov 584554051223 07:00:15 GMT"),
            Some(u64::MAX)
        );
        for bad in [
            "Sun, 06 Nov 1994 08:49:37 PST",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 18446744073709551615 08:49:37 GMT",
            "Sun, 06 Nov 18446744073709551616 08:49:37 GMT",
            "Sun, 10 Nov 584554051223 00:00:00 GMT",
            "Sun, 09 Nov 584554051223 07:00:16 GMT",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
    }
}
