//! Calendar dates as the policy counts them (policy.md §0).

use chrono::{Datelike, Days, Months, NaiveDate};

pub type Date = NaiveDate;

/// Strict ISO 8601 calendar date `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = &s[r];
        if part.bytes().all(|c| c.is_ascii_digit()) { part.parse().ok() } else { None }
    };
    NaiveDate::from_ymd_opt(digits(0..4)? as i32, digits(5..7)?, digits(8..10)?)
}

/// `YYYY-MM-DD` (years 0–9999; chrono's formatter for any other).
pub fn format_date(d: Date) -> String {
    date_str(d, &mut [0; 10]).into_owned()
}

/// [`format_date`], written into `buf` (no allocation) for the years 0–9999.
pub fn date_str(d: Date, buf: &mut [u8; 10]) -> std::borrow::Cow<'_, str> {
    match date_text(d, buf) {
        Some(t) => std::borrow::Cow::Borrowed(t),
        None => std::borrow::Cow::Owned(d.format("%Y-%m-%d").to_string()),
    }
}

fn date_text(d: Date, buf: &mut [u8; 10]) -> Option<&str> {
    let (y, m, day) = (d.year(), d.month(), d.day());
    if !(0..=9999).contains(&y) {
        return None;
    }
    let y = y as u32;
    *buf = [
        b'0' + (y / 1000) as u8,
        b'0' + (y / 100 % 10) as u8,
        b'0' + (y / 10 % 10) as u8,
        b'0' + (y % 10) as u8,
        b'-',
        b'0' + (m / 10) as u8,
        b'0' + (m % 10) as u8,
        b'-',
        b'0' + (day / 10) as u8,
        b'0' + (day % 10) as u8,
    ];
    Some(crate::json::ascii_str(buf))
}

/// Whole years from `birth` to `on`. A 29 February birthday is reached on 1 March in a
/// non-leap year, because (2, 28) < (2, 29) <= (3, 1).
pub fn age_on(birth: Date, on: Date) -> i64 {
    let mut years = (on.year() - birth.year()) as i64;
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    years
}

/// `n` calendar months before `d`, the day clamped to the end of the month
/// (2025-08-31 minus 6 months is 2025-02-28).
pub fn months_before(d: Date, n: u32) -> Option<Date> {
    d.checked_sub_months(Months::new(n))
}

pub fn days_before(d: Date, n: u64) -> Option<Date> {
    d.checked_sub_days(Days::new(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_date_matches_chrono() {
        let mut d = NaiveDate::from_ymd_opt(1, 1, 1).unwrap();
        let end = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap();
        while d < end {
            assert_eq!(format_date(d), d.format("%Y-%m-%d").to_string());
            d = d.checked_add_days(Days::new(97)).unwrap_or(end);
        }
        for d in [end, NaiveDate::from_ymd_opt(-5, 3, 1).unwrap(), NaiveDate::from_ymd_opt(10000, 1, 1).unwrap()] {
            assert_eq!(format_date(d), d.format("%Y-%m-%d").to_string());
        }
    }

    fn d(s: &str) -> Date {
        parse_date(s).unwrap()
    }

    #[test]
    fn leap_day_birthday() {
        assert_eq!(age_on(d("2008-02-29"), d("2026-02-28")), 17);
        assert_eq!(age_on(d("2008-02-29"), d("2026-03-01")), 18);
        assert_eq!(age_on(d("2008-02-29"), d("2028-02-29")), 20);
    }

    #[test]
    fn months_clamp_to_month_end() {
        assert_eq!(months_before(d("2025-08-31"), 6), Some(d("2025-02-28")));
        assert_eq!(months_before(d("2024-08-31"), 6), Some(d("2024-02-29")));
        assert_eq!(days_before(d("2025-03-01"), 90), Some(d("2024-12-01")));
    }

    #[test]
    fn strict_format() {
        assert!(parse_date("2025-3-1").is_none());
        assert!(parse_date("2025-02-30").is_none());
        assert!(parse_date("2025-02-28T00").is_none());
        assert!(parse_date("+025-02-28").is_none());
    }
}
