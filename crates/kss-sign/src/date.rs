//! The SIGSTRUCT DATE field: a calendar date stored as BCD `0xYYYYMMDD`.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// A date as stored in SIGSTRUCT.DATE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BcdDate {
    /// Year, 0..=9999.
    pub year: u16,
    /// Month, 1..=12.
    pub month: u8,
    /// Day of the month, 1..=31 (checked against the month).
    pub day: u8,
}

/// A DATE that is not a valid calendar date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DateError {
    /// Text not in `YYYYMMDD` (or `YYYY-MM-DD`) form.
    #[error("date '{text}' is not of the form YYYYMMDD (e.g. 20160109) or YYYY-MM-DD")]
    Syntax {
        /// The text given.
        text: String,
    },
    /// A BCD value with a nibble above 9.
    #[error("DATE {value:#010x} is not BCD (every hex digit must be 0-9, e.g. 0x20160109)")]
    NotBcd {
        /// The raw value.
        value: u32,
    },
    /// Month or day out of range.
    #[error("date {year:04}-{month:02}-{day:02} does not exist")]
    NoSuchDay {
        /// Year.
        year: u16,
        /// Month.
        month: u8,
        /// Day.
        day: u8,
    },
}

impl BcdDate {
    /// A checked date.
    pub fn new(year: u16, month: u8, day: u8) -> Result<Self, DateError> {
        if year > 9999 || !kss_types::civil::is_valid_date(i64::from(year), month, day) {
            return Err(DateError::NoSuchDay { year, month, day });
        }
        Ok(Self { year, month, day })
    }

    /// Decodes a BCD `0xYYYYMMDD` value.
    pub fn from_bcd(value: u32) -> Result<Self, DateError> {
        let mut digits = [0u8; 8];
        for (i, d) in digits.iter_mut().enumerate() {
            let nibble = ((value >> (28 - 4 * i)) & 0xF) as u8;
            if nibble > 9 {
                return Err(DateError::NotBcd { value });
            }
            *d = nibble;
        }
        let [y0, y1, y2, y3, m0, m1, d0, d1] = digits.map(u16::from);
        Self::new(
            y0 * 1000 + y1 * 100 + y2 * 10 + y3,
            (m0 * 10 + m1) as u8,
            (d0 * 10 + d1) as u8,
        )
    }

    /// Encodes as BCD `0xYYYYMMDD`.
    pub fn to_bcd(self) -> u32 {
        let digits = [
            self.year / 1000,
            self.year / 100 % 10,
            self.year / 10 % 10,
            self.year % 10,
            u16::from(self.month / 10),
            u16::from(self.month % 10),
            u16::from(self.day / 10),
            u16::from(self.day % 10),
        ];
        digits
            .iter()
            .fold(0u32, |acc, &d| (acc << 4) | u32::from(d))
    }

    /// Parses `YYYYMMDD` or `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Result<Self, DateError> {
        let syntax = || DateError::Syntax {
            text: text.to_string(),
        };
        let compact: String = match text.trim() {
            t if t.len() == 10
                && t.as_bytes().get(4) == Some(&b'-')
                && t.as_bytes().get(7) == Some(&b'-') =>
            {
                t.replace('-', "")
            }
            t => t.to_string(),
        };
        if compact.len() != 8 || !compact.bytes().all(|b| b.is_ascii_digit()) {
            return Err(syntax());
        }
        let num = |r: std::ops::Range<usize>| compact.get(r).and_then(|s| s.parse::<u16>().ok());
        match (num(0..4), num(4..6), num(6..8)) {
            (Some(y), Some(m), Some(d)) => Self::new(y, m as u8, d as u8),
            _ => Err(syntax()),
        }
    }

    /// Today's date in UTC, from the system clock.
    pub fn today() -> Self {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Self::from_unix_days((secs / 86_400) as i64)
    }

    /// The civil date of a day count since 1970-01-01 (proleptic Gregorian calendar).
    pub fn from_unix_days(days: i64) -> Self {
        let (year, month, day) = kss_types::civil::civil_from_days(days);
        Self {
            year: year.clamp(0, 9999) as u16,
            month,
            day,
        }
    }
}

impl fmt::Display for BcdDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Today's date (UTC) as BCD `0xYYYYMMDD`, the sign tool's default DATE.
pub fn today_bcd() -> u32 {
    BcdDate::today().to_bcd()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bcd_round_trip() {
        let d = BcdDate::from_bcd(0x2016_0109).unwrap();
        assert_eq!(d, BcdDate::new(2016, 1, 9).unwrap());
        assert_eq!(d.to_bcd(), 0x2016_0109);
        assert_eq!(d.to_string(), "2016-01-09");
        assert_eq!(BcdDate::parse("20160109").unwrap(), d);
        assert_eq!(BcdDate::parse("2016-01-09").unwrap(), d);
    }

    #[test]
    fn rejects_bad_dates() {
        assert!(matches!(
            BcdDate::from_bcd(0x2016_010A),
            Err(DateError::NotBcd { .. })
        ));
        assert!(BcdDate::from_bcd(0x2015_0229).is_err());
        assert!(BcdDate::from_bcd(0x2016_0229).is_ok());
        assert!(BcdDate::from_bcd(0x2016_1301).is_err());
        assert!(BcdDate::parse("2016019").is_err());
        assert!(BcdDate::parse("2016-0109").is_err());
        assert!(BcdDate::parse("+2016010").is_err());
    }

    #[test]
    fn civil_dates() {
        assert_eq!(BcdDate::from_unix_days(0).to_string(), "1970-01-01");
        // 2016-01-09 is day 16809; 2000-02-29 is day 11016.
        assert_eq!(BcdDate::from_unix_days(16_809).to_bcd(), 0x2016_0109);
        assert_eq!(BcdDate::from_unix_days(11_016).to_string(), "2000-02-29");
        assert_eq!(BcdDate::from_unix_days(11_017).to_string(), "2000-03-01");
    }
}
