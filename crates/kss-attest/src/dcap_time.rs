//! Times in collateral and on the command line: RFC 3339 UTC timestamps and Unix seconds.

use kss_types::civil::{civil_from_days, days_from_civil, is_valid_date};

/// A time that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: \"{text}\" is not a time (expected Unix seconds or RFC 3339 like 2025-07-19T10:01:17Z)")]
pub struct TimeError {
    /// Which input.
    pub what: String,
    /// The text found.
    pub text: String,
}

/// Days since 1970-01-01 of a checked date (`None` for e.g. February 30th); the year must be
/// within 0–9999.
fn checked_days(y: i64, m: i64, d: i64) -> Option<i64> {
    let (m, d) = (u8::try_from(m).ok()?, u8::try_from(d).ok()?);
    ((0..=9999).contains(&y) && is_valid_date(y, m, d)).then(|| days_from_civil(y, m, d))
}

/// Reads exactly `n` ASCII digits at `*at`, advancing past them.
fn digits(b: &[u8], at: &mut usize, n: usize) -> Option<i64> {
    let ds = b.get(*at..*at + n)?;
    *at += n;
    ds.iter().try_fold(0i64, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
    })
}

/// Consumes `c` at `*at` if it is one of `options`.
fn one_of(b: &[u8], at: &mut usize, options: &[u8]) -> Option<u8> {
    let c = *b.get(*at)?;
    options.contains(&c).then(|| {
        *at += 1;
        c
    })
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

fn parse_strict(b: &[u8]) -> Option<u64> {
    let at = &mut 0;
    let y = digits(b, at, 4)?;
    one_of(b, at, b"-")?;
    let mo = digits(b, at, 2)?;
    one_of(b, at, b"-")?;
    let d = digits(b, at, 2)?;
    let days = checked_days(y, mo, d)?;
    one_of(b, at, b"Tt ")?;
    let h = digits(b, at, 2)?;
    one_of(b, at, b":")?;
    let mi = digits(b, at, 2)?;
    one_of(b, at, b":")?;
    let s = digits(b, at, 2)?;
    if h > 23 || mi > 59 || s > 60 {
        return None;
    }
    if one_of(b, at, b".").is_some() {
        digits(b, at, 1)?;
        while b.get(*at).is_some_and(u8::is_ascii_digit) {
            *at += 1;
        }
    }
    let offset = match one_of(b, at, b"Zz+-")? {
        b'Z' | b'z' => 0,
        sign => {
            let oh = digits(b, at, 2)?;
            one_of(b, at, b":")?;
            let om = digits(b, at, 2)?;
            if oh > 23 || om > 59 {
                return None;
            }
            (if sign == b'-' { -1 } else { 1 }) * (oh * 3600 + om * 60)
        }
    };
    if *at != b.len() {
        return None;
    }
    u64::try_from(days * 86_400 + h * 3600 + mi * 60 + s - offset).ok()
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
    let secs = i64::try_from(secs).unwrap_or(i64::MAX / 2);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        return format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        );
    }
    // Verdicts format a dozen times each; this skips the formatting machinery.
    let mut out = String::with_capacity(20);
    let mut put = |v: i64, width: u32, sep: Option<char>| {
        for p in (0..width).rev() {
            let digit = (v / 10i64.pow(p)) % 10;
            out.push(char::from(b'0' + digit as u8));
        }
        if let Some(c) = sep {
            out.push(c);
        }
    };
    put(y, 4, Some('-'));
    put(i64::from(m), 2, Some('-'));
    put(i64::from(d), 2, Some('T'));
    put(rem / 3600, 2, Some(':'));
    put(rem % 3600 / 60, 2, Some(':'));
    put(rem % 60, 2, Some('Z'));
    out
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
