//! Times in collateral and on the command line: RFC 3339 UTC timestamps and Unix seconds.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A time that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: \"{text}\" is not a time ({})", expected_forms(.text))]
pub struct TimeError {
    /// Which input.
    pub what: String,
    /// The text found.
    pub text: String,
}

/// The accepted forms, with a suggestion when `text` is a date without a time of day.
fn expected_forms(text: &str) -> String {
    let t = text.trim();
    let b = t.as_bytes();
    let is_date = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if is_date {
        format!(
            "a date alone is not a time: expected Unix seconds or RFC 3339 with a time of day \
             and a zone, e.g. {t}T00:00:00Z"
        )
    } else {
        "expected Unix seconds or RFC 3339 like 2025-07-19T10:01:17Z".into()
    }
}

/// Parses an RFC 3339 timestamp to Unix seconds, strictly by its grammar:
/// `YYYY-MM-DD`, then `T` (or `t`, or a space as RFC 3339 permits), `HH:MM:SS`, an optional
/// `.` with one or more digits (truncated), and `Z` (or `z`) or `±HH:MM`. Fields have exactly
/// these widths; the day must exist; hours are 00–23, minutes 00–59, seconds 00–60 (leap
/// second). Leading and trailing whitespace is ignored. Times before 1970 are refused.
pub fn parse_rfc3339(text: &str, what: &str) -> Result<u64, TimeError> {
    parse_strict(text.trim().as_bytes()).ok_or_else(|| TimeError {
        what: what.to_string(),
        text: text.to_string(),
    })
}

/// The byte offset of the seconds field (`YYYY-MM-DDTHH:MM:SS`); fixed, since every field
/// before it has a fixed width.
const SECONDS_AT: usize = 17;

/// The grammar of [`parse_rfc3339`] on trimmed input. `time`'s RFC 3339 reader enforces the
/// fixed widths, digit-only fractions, full offsets, real days and nothing trailing; two of its
/// liberties are narrowed here: it takes any byte as the date-time separator (we take `T`, `t`
/// or a space), and it takes second 60 only as the last second of a month in UTC (we take it
/// anywhere and count it as the next minute's first second, as before).
fn parse_strict(b: &[u8]) -> Option<u64> {
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let text = std::str::from_utf8(b).ok()?;
    let (parsed, leap) = if b.get(SECONDS_AT..SECONDS_AT + 2) == Some(b"60") {
        let mut owned = text.to_string();
        owned.replace_range(SECONDS_AT..SECONDS_AT + 2, "59");
        (OffsetDateTime::parse(&owned, &Rfc3339), 1)
    } else {
        (OffsetDateTime::parse(text, &Rfc3339), 0)
    };
    u64::try_from(parsed.ok()?.unix_timestamp() + leap).ok()
}

/// Parses `--at`-style input: Unix seconds, or an RFC 3339 timestamp.
pub fn parse_time(text: &str, what: &str) -> Result<u64, TimeError> {
    let t = text.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse().map_err(|_| TimeError {
            what: what.to_string(),
            text: text.to_string(),
        });
    }
    parse_rfc3339(t, what)
}

/// Formats Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_rfc3339(secs: u64) -> String {
    let Some(t) = i64::try_from(secs)
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
    else {
        return format_past_9999(secs);
    };
    let (y, m, d) = t.to_calendar_date();
    // Verdicts format a dozen times each; this skips the formatting machinery.
    let mut out = String::with_capacity(20);
    let mut put = |v: u32, width: u32, sep: char| {
        for p in (0..width).rev() {
            let digit = (v / 10u32.pow(p)) % 10;
            out.push(char::from(b'0' + digit as u8));
        }
        out.push(sep);
    };
    // `time` (without its large-dates feature) has years 0–9999 only after 1970.
    put(y.unsigned_abs(), 4, '-');
    put(u32::from(u8::from(m)), 2, '-');
    put(u32::from(d), 2, 'T');
    put(u32::from(t.hour()), 2, ':');
    put(u32::from(t.minute()), 2, ':');
    put(u32::from(t.second()), 2, 'Z');
    out
}

/// Years past 9999 (from `--at` with a huge number, never from collateral), which `time` does
/// not represent: formatted as before, from the shared civil-calendar helper.
fn format_past_9999(secs: u64) -> String {
    let secs = i64::try_from(secs).unwrap_or(i64::MAX / 2);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = kss_types::civil::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The current time in Unix seconds (0 if the clock is before 1970).
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kss_types::civil::civil_from_days;

    #[test]
    fn known_timestamps() {
        // 2025-07-19T10:01:17Z is the phala pinned time 1752919277 (`testdata/SOURCES.md` §1).
        assert_eq!(
            parse_rfc3339("2025-07-19T10:01:17Z", "t"),
            Ok(1_752_919_277)
        );
        assert_eq!(parse_time("1752919277", "t"), Ok(1_752_919_277));
        assert_eq!(
            parse_rfc3339("2025-07-19T12:01:17.999+02:00", "t"),
            Ok(1_752_919_277)
        );
        assert_eq!(format_rfc3339(1_700_527_166), "2023-11-21T00:39:26Z");
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(253_402_300_799), "9999-12-31T23:59:59Z");
        assert_eq!(format_rfc3339(253_402_300_800), "10000-01-01T00:00:00Z");
        assert!(parse_time("yesterday", "t").is_err());
        assert!(parse_rfc3339("2025-13-01T00:00:00Z", "t").is_err());
    }

    proptest::proptest! {
        /// Any Unix time up to 9999-12-31 formats and parses back, through both parsers; any
        /// text is either a time or an error, never a panic.
        #[test]
        fn format_parse_round_trip(secs in 0u64..253_402_300_800, junk in ".{0,40}") {
            let text = format_rfc3339(secs);
            proptest::prop_assert_eq!(parse_rfc3339(&text, "t"), Ok(secs));
            proptest::prop_assert_eq!(parse_strict(text.as_bytes()), Some(secs));
            let _ = parse_rfc3339(&junk, "t");
            let _ = parse_time(&junk, "t");
        }
    }

    /// The grammar is enforced: fixed field widths, digits-only fractions, a complete offset,
    /// nothing after it. What RFC 3339 allows besides the canonical form is accepted.
    #[test]
    fn rfc3339_grammar_is_enforced() {
        for bad in [
            "2025-7-19T10:01:17Z",
            "2025-07-9T10:01:17Z",
            "02025-07-19T10:01:17Z",
            "2025-07-19T1:02:03Z",
            "2025-07-19T10:01:17.Z",
            "2025-07-19T10:01:17.abc+02:00",
            "2025-07-19T10:01:17+2:00",
            "2025-07-19T10:01:17+02:0",
            "2025-07-19T10:01:17+0200",
            "2025-07-19T10:01:17",
            "2025-07-19T10:01:17Zjunk",
            "2025-07-19X10:01:17Z",
            "2025-07-19T10:01Z",
            "+025-07-19T10:01:17Z",
            "2025-07-19T24:00:00Z",
            "2025-07-19T10:60:00Z",
            "2025-07-19T10:00:61Z",
        ] {
            assert!(parse_rfc3339(bad, "t").is_err(), "{bad}");
        }
        for (good, secs) in [
            ("2025-07-19T10:01:17Z", 1_752_919_277),
            ("2025-07-19t10:01:17z", 1_752_919_277),
            ("2025-07-19 10:01:17Z", 1_752_919_277),
            ("  2025-07-19T10:01:17Z\n", 1_752_919_277),
            ("2025-07-19T10:01:17.123456789Z", 1_752_919_277),
            ("2025-07-19T05:01:17-05:00", 1_752_919_277),
            ("2025-07-19T10:01:60Z", 1_752_919_320),
        ] {
            assert_eq!(parse_rfc3339(good, "t"), Ok(secs), "{good}");
        }
    }

    /// Days that do not exist are errors, not the next month's days; leap days are checked.
    #[test]
    fn impossible_days_are_errors() {
        for bad in [
            "2025-02-29T00:00:00Z",
            "2024-02-30T00:00:00Z",
            "2025-04-31T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2025-06-00T00:00:00Z",
            "2025-00-10T00:00:00Z",
        ] {
            assert!(parse_rfc3339(bad, "t").is_err(), "{bad}");
            assert_eq!(parse_strict(bad.as_bytes()), None, "{bad}");
            let lower = bad.replace('Z', "z");
            assert!(parse_rfc3339(&lower, "t").is_err(), "{lower}");
        }
        assert_eq!(
            parse_rfc3339("2024-02-29T00:00:00Z", "t"),
            Ok(1_709_164_800)
        );
        assert_eq!(
            parse_rfc3339("2000-02-29T00:00:00+00:00", "t"),
            Ok(951_782_400)
        );
    }

    #[test]
    fn huge_numbers_are_errors_not_overflows() {
        for bad in [
            "999999999999-01-01T00:00:00Z",
            "2025-01-01T00:00:00+999999999999999:00",
            "2025-01-01T99999999999999999:00:00Z",
            "10000-01-01T00:00:00Z",
            "2025-01-01T00:00:00+24:00",
        ] {
            assert!(parse_rfc3339(bad, "t").is_err(), "{bad}");
            assert!(parse_time(bad, "t").is_err(), "{bad}");
        }
    }

    #[test]
    fn parser_and_formatter_agree_with_the_general_format() {
        // Every ~1.1 days from 1970 to 2100, at a varying time of day.
        for secs in (0u64..4_102_444_800).step_by(97_213) {
            let text = format_rfc3339(secs);
            let (y, m, d) = civil_from_days((secs / 86_400) as i64);
            let rem = secs % 86_400;
            let general = format!(
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
                rem / 3600,
                rem % 3600 / 60,
                rem % 60
            );
            assert_eq!(text, general);
            assert_eq!(parse_strict(text.as_bytes()), Some(secs), "{text}");
            // Lower-case z is RFC 3339 too.
            let lower = text.replace('Z', "z");
            assert_eq!(parse_rfc3339(&lower, "t"), Ok(secs), "{lower}");
        }
        for bad in [
            "2025-13-01T00:00:00Z",
            "2025-00-01T00:00:00Z",
            "2025-01-32T00:00:00Z",
            "2025-01-01T24:00:00Z",
            "2025-01-01T00:60:00Z",
            "2025-01-01T00:00:61Z",
            "2025-0a-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
        ] {
            assert_eq!(parse_strict(bad.as_bytes()), None, "{bad}");
            assert!(parse_rfc3339(bad, "t").is_err(), "{bad}");
        }
    }
}
