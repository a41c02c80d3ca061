//! Invoice periods (calendar months) and the Indian financial year.
//!
//! Intervals of days are half-open, `[from, to)`, as in SPEC §2.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Months, NaiveDate};

/// A calendar month to invoice, `[first day, first day of the next month)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Period {
    start: NaiveDate,
}

impl Period {
    /// The month containing `year`-`month`-01.
    pub fn new(year: i32, month: u32) -> Option<Period> {
        NaiveDate::from_ymd_opt(year, month, 1).map(|start| Period { start })
    }

    /// First day of the period (`ps`).
    pub fn start(&self) -> NaiveDate {
        self.start
    }

    /// First day after the period (`pe`).
    pub fn end(&self) -> NaiveDate {
        self.start + Months::new(1)
    }

    /// Number of days in the period, `days(P)`.
    pub fn days(&self) -> u32 {
        days_between(self.start, self.end())
    }
}

impl FromStr for Period {
    type Err = String;

    /// Parses `YYYY-MM`. The refusals say what was typed wrong: a one-digit month
    /// gets the two-digit form to type instead, a month past 12 is named as such.
    fn from_str(s: &str) -> Result<Period, String> {
        let bad = || format!("period {s:?} is not a month written YYYY-MM (for example 2026-11)");
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || !digits(y) || !digits(m) || m.len() > 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) {
            return Err(format!(
                "period {s:?}: there is no month {m}; months are 01 to 12 (for example {y}-11)"
            ));
        }
        if m.len() == 1 {
            return Err(format!(
                "period {s:?}: write the month with two digits, {y}-{month:02}"
            ));
        }
        Period::new(year, month).ok_or_else(bad)
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.start.year(), self.start.month())
    }
}

/// Days in `[from, to)`, zero when `to <= from`.
pub fn days_between(from: NaiveDate, to: NaiveDate) -> u32 {
    u32::try_from((to - from).num_days()).unwrap_or(0)
}

/// The `k`-th monthly anniversary of `anchor`: the same day of the month, clamped to
/// the month's length but always anchored on the original day (Jan 31 → Feb 29 →
/// Mar 31 → Apr 30).
pub fn monthly_anniversary(anchor: NaiveDate, k: u32) -> Option<NaiveDate> {
    // chrono's month arithmetic clamps to the month's end and starts from the anchor
    // each time, so the original day is never lost.
    anchor.checked_add_months(Months::new(k))
}

/// The Indian financial year (April to March) of `date`, as `26-27`.
pub fn financial_year(date: NaiveDate) -> String {
    let first = if date.month() >= 4 {
        date.year()
    } else {
        date.year() - 1
    };
    format!(
        "{:02}-{:02}",
        first.rem_euclid(100),
        (first + 1).rem_euclid(100)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::from_str(s).unwrap()
    }

    #[test]
    fn periods_are_calendar_months() {
        let p: Period = "2026-11".parse().unwrap();
        assert_eq!(
            (p.start(), p.end(), p.days()),
            (date("2026-11-01"), date("2026-12-01"), 30)
        );
        assert_eq!("2028-02".parse::<Period>().unwrap().days(), 29);
        assert_eq!("2027-02".parse::<Period>().unwrap().days(), 28);
        assert_eq!(
            "2026-12".parse::<Period>().unwrap().end(),
            date("2027-01-01")
        );
        assert_eq!(p.to_string(), "2026-11");
        for bad in [
            "2026-13", "2026-1", "26-11", "2026/11", "", "2026-00", "abcd-ef",
        ] {
            assert!(bad.parse::<Period>().is_err(), "{bad}");
        }
    }

    #[test]
    fn period_refusals_say_what_to_type() {
        let err = |s: &str| s.parse::<Period>().unwrap_err();
        assert_eq!(
            err("2026-1"),
            "period \"2026-1\": write the month with two digits, 2026-01"
        );
        assert_eq!(
            err("2026-13"),
            "period \"2026-13\": there is no month 13; months are 01 to 12 (for example 2026-11)"
        );
        assert_eq!(
            err("2026-00"),
            "period \"2026-00\": there is no month 00; months are 01 to 12 (for example 2026-11)"
        );
        assert_eq!(
            err("2026-+1"),
            "period \"2026-+1\" is not a month written YYYY-MM (for example 2026-11)"
        );
    }

    #[test]
    fn anniversaries_clamp_but_keep_the_original_day() {
        let a = date("2028-01-31");
        let got: Vec<_> = (0..5).map(|k| monthly_anniversary(a, k).unwrap()).collect();
        assert_eq!(
            got,
            vec![
                date("2028-01-31"),
                date("2028-02-29"),
                date("2028-03-31"),
                date("2028-04-30"),
                date("2028-05-31")
            ]
        );
    }

    #[test]
    fn financial_year_turns_in_april() {
        assert_eq!(financial_year(date("2027-03-31")), "26-27");
        assert_eq!(financial_year(date("2027-04-01")), "27-28");
        assert_eq!(financial_year(date("2026-12-01")), "26-27");
        assert_eq!(financial_year(date("2099-06-01")), "99-00");
    }

    #[test]
    fn days_between_is_half_open_and_never_negative() {
        assert_eq!(days_between(date("2026-11-16"), date("2026-12-01")), 15);
        assert_eq!(days_between(date("2026-12-01"), date("2026-11-16")), 0);
    }
}
