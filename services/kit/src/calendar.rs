//! Dutch calendar dates: the day, month, quarter and year of an instant in Europe/Amsterdam.
//!
//! Timestamps stay UTC everywhere; a calendar date (a due date, a planned closing date, the day
//! an offer's history records, an insurer's contract year) is a Dutch organisation's date. Between 22:00 (summer) or
//! 23:00 (winter) UTC and midnight UTC the UTC date is a day behind the Dutch one, and on New
//! Year's Eve a quarter and a year behind. Every function takes `now` so that tests can pin the
//! instant; the time-zone rules (CET/CEST and their switches) come from the IANA database in
//! `chrono-tz`, not from a hand-written rule.

use chrono::{DateTime, Datelike as _, NaiveDate, TimeZone as _, Utc};
use chrono_tz::Tz;

/// The hub's time zone for calendar dates.
pub const NETHERLANDS: Tz = chrono_tz::Europe::Amsterdam;

/// The date in the Netherlands at the instant `now`.
pub fn today_in_netherlands(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&NETHERLANDS).date_naive()
}

/// The date in the Netherlands now (the system clock).
pub fn today() -> NaiveDate {
    today_in_netherlands(Utc::now())
}

/// Where a service takes "now" from for calendar dates (in its schema's data): the system clock,
/// or a fixed instant (tests pin New Year's Eve or a DST switch). The region subgraph reads it for
/// closing dates and regional actions; the day recorded in an offer's history and whether an
/// intake pause is active still read the system clock ([`today`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Clock {
    /// The system clock.
    #[default]
    System,
    /// A fixed instant (tests).
    Fixed(DateTime<Utc>),
}

impl Clock {
    /// The instant now.
    pub fn now(self) -> DateTime<Utc> {
        match self {
            Self::System => Utc::now(),
            Self::Fixed(t) => t,
        }
    }

    /// Today in the Netherlands.
    pub fn today(self) -> NaiveDate {
        today_in_netherlands(self.now())
    }
}

/// The month of `date`, `YYYY-MM`.
pub fn month_of(date: NaiveDate) -> String {
    format!("{:04}-{:02}", date.year(), date.month())
}

/// The calendar quarter of `date`, `YYYY-Qn`.
pub fn quarter_of(date: NaiveDate) -> String {
    format!("{}-Q{}", date.year(), date.month0() / 3 + 1)
}

/// The Dutch month at the instant `now`, `YYYY-MM`.
pub fn month_in_netherlands(now: DateTime<Utc>) -> String {
    month_of(today_in_netherlands(now))
}

/// The Dutch calendar quarter at the instant `now`, `YYYY-Qn`.
pub fn quarter_in_netherlands(now: DateTime<Utc>) -> String {
    quarter_of(today_in_netherlands(now))
}

/// The Dutch calendar year at the instant `now`.
pub fn year_in_netherlands(now: DateTime<Utc>) -> i32 {
    today_in_netherlands(now).year()
}

/// The instant the Dutch day `date` begins (midnight in Amsterdam, in UTC). Midnight exists on
/// every Dutch day (the clocks change at 02:00 and 03:00), so this is always one instant.
pub fn start_of_day(date: NaiveDate) -> DateTime<Utc> {
    NETHERLANDS
        .from_local_datetime(&date.and_time(chrono::NaiveTime::MIN))
        .earliest()
        .map_or_else(|| date.and_time(chrono::NaiveTime::MIN).and_utc(), |t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("an instant").with_timezone(&Utc)
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a date")
    }

    #[test]
    fn new_years_eve_after_23_utc_is_already_the_new_year_quarter_and_month() {
        let now = at("2026-12-31T23:30:00Z");
        assert_eq!(now.date_naive(), date(2026, 12, 31), "UTC is still in the old year");
        assert_eq!(today_in_netherlands(now), date(2027, 1, 1));
        assert_eq!(month_in_netherlands(now), "2027-01");
        assert_eq!(quarter_in_netherlands(now), "2027-Q1");
        assert_eq!(year_in_netherlands(now), 2027);
        // A minute before Dutch midnight it is still the old year.
        assert_eq!(today_in_netherlands(at("2026-12-31T22:59:00Z")), date(2026, 12, 31));
    }

    #[test]
    fn summer_time_moves_the_dutch_midnight_to_22_utc() {
        // CEST (UTC+2): 22:30 UTC on 30 June is 00:30 on 1 July, a new quarter.
        assert_eq!(today_in_netherlands(at("2026-06-30T21:59:00Z")), date(2026, 6, 30));
        assert_eq!(quarter_in_netherlands(at("2026-06-30T22:30:00Z")), "2026-Q3");
        // CET (UTC+1) in winter: 22:30 UTC is still the same day.
        assert_eq!(today_in_netherlands(at("2026-01-31T22:30:00Z")), date(2026, 1, 31));
    }

    #[test]
    fn the_dst_switches_of_2026_follow_the_tz_database() {
        // Summer time starts on Sunday 29 March 2026 at 01:00 UTC.
        assert_eq!(today_in_netherlands(at("2026-03-28T22:30:00Z")), date(2026, 3, 28), "CET: 23:30");
        assert_eq!(today_in_netherlands(at("2026-03-28T23:30:00Z")), date(2026, 3, 29), "CET: 00:30");
        assert_eq!(today_in_netherlands(at("2026-03-29T22:30:00Z")), date(2026, 3, 30), "CEST: 00:30");
        // Summer time ends on Sunday 25 October 2026 at 01:00 UTC.
        assert_eq!(today_in_netherlands(at("2026-10-24T22:30:00Z")), date(2026, 10, 25), "CEST: 00:30");
        assert_eq!(today_in_netherlands(at("2026-10-25T22:30:00Z")), date(2026, 10, 25), "CET: 23:30");
        assert_eq!(start_of_day(date(2026, 3, 29)), at("2026-03-28T23:00:00Z"));
        assert_eq!(start_of_day(date(2026, 3, 30)), at("2026-03-29T22:00:00Z"));
        assert_eq!(start_of_day(date(2026, 10, 26)), at("2026-10-25T23:00:00Z"));
    }

    #[test]
    fn months_and_quarters_are_written_as_the_api_writes_them() {
        assert_eq!(month_of(date(2026, 9, 30)), "2026-09");
        assert_eq!(quarter_of(date(2026, 9, 30)), "2026-Q3");
        assert_eq!(quarter_of(date(2026, 10, 1)), "2026-Q4");
        assert_eq!(quarter_of(date(2027, 3, 31)), "2027-Q1");
    }
}
