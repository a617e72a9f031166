//! Proleptic Gregorian calendar arithmetic, shared by the SIGSTRUCT DATE field (BCD dates) and
//! the RFC 3339 times of DCAP collateral. Pure integer math (Howard Hinnant's algorithms).

/// Whether `year` is a leap year.
pub const fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days in `month` (1–12) of `year`; 0 for a month outside 1–12.
pub const fn days_in_month(year: i64, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Whether (`year`, `month`, `day`) names a real day.
pub const fn is_valid_date(year: i64, month: u8, day: u8) -> bool {
    day >= 1 && day <= days_in_month(year, month)
}

/// Days from 1970-01-01 to the civil date (`year`, `month`, `day`); negative before 1970.
/// The date is not checked (see [`is_valid_date`]); keep `year` within ±10^12 to stay far from
/// overflow.
pub const fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    let (m, d) = (month as i64, day as i64);
    let y = if m <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date (year, month, day) of a day count since 1970-01-01.
pub const fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = yoe + era * 400 + (month <= 2) as i64;
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        assert_eq!(days_from_civil(2000, 2, 29), 11_016);
        assert_eq!(days_from_civil(2016, 1, 9), 16_809);
        assert_eq!(civil_from_days(11_017), (2000, 3, 1));
        assert_eq!(civil_from_days(-719_468), (0, 3, 1));
    }

    /// Walking day by day from 1900 to 2100 with `days_in_month` gives the same dates as
    /// `civil_from_days`, and `days_from_civil` inverts it.
    #[test]
    fn day_by_day_walk_agrees() {
        let (mut y, mut m, mut d) = (1900i64, 1u8, 1u8);
        let mut n = days_from_civil(1900, 1, 1);
        while y < 2100 {
            assert_eq!(civil_from_days(n), (y, m, d));
            assert_eq!(days_from_civil(y, m, d), n);
            assert!(is_valid_date(y, m, d));
            n += 1;
            d += 1;
            if d > days_in_month(y, m) {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }

    #[test]
    fn invalid_dates() {
        assert!(!is_valid_date(2023, 2, 29));
        assert!(is_valid_date(2024, 2, 29));
        assert!(!is_valid_date(1900, 2, 29));
        assert!(is_valid_date(2000, 2, 29));
        assert!(!is_valid_date(2024, 4, 31));
        assert!(!is_valid_date(2024, 13, 1));
        assert!(!is_valid_date(2024, 0, 1));
        assert!(!is_valid_date(2024, 1, 0));
    }
}
