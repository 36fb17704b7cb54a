//! Today's date, the one place contracting takes it from: "this year" of contract coverage and
//! "next year" of the regional contracting picture follow it, and tests fix it.

use chrono::{Datelike as _, NaiveDate};

/// Where today's date comes from (in the schema's data).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Today {
    /// The system clock, as a date in the Netherlands (Europe/Amsterdam: a contract year starts
    /// at Dutch midnight on 1 January, not at midnight UTC).
    #[default]
    System,
    /// A fixed date (tests).
    Fixed(NaiveDate),
}

impl Today {
    /// Today's date.
    pub fn date(self) -> NaiveDate {
        self.date_at(chrono::Utc::now())
    }

    /// Today's date if the system clock read `now`.
    pub fn date_at(self, now: chrono::DateTime<chrono::Utc>) -> NaiveDate {
        match self {
            Self::System => ggzhub_kit::calendar::today_in_netherlands(now),
            Self::Fixed(d) => d,
        }
    }

    /// The current calendar year.
    pub fn year(self) -> i32 {
        self.date().year()
    }

    /// The calendar year after today's.
    pub fn next_year(self) -> i32 {
        self.year() + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_clock_gives_the_dutch_date_and_so_the_dutch_year() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-31T23:30:00Z").expect("instant").to_utc();
        assert_eq!(Today::System.date_at(now), NaiveDate::from_ymd_opt(2027, 1, 1).expect("date"));
        assert_eq!(Today::System.date_at(now).year(), 2027);
        let fixed = NaiveDate::from_ymd_opt(2026, 5, 1).expect("date");
        assert_eq!(Today::Fixed(fixed).date_at(now), fixed);
    }
}
