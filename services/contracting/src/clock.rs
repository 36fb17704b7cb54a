//! Today's date, the one place contracting takes it from: "this year" of contract coverage and
//! "next year" of the regional contracting picture follow it, and tests fix it.

use chrono::{Datelike as _, NaiveDate};

/// Where today's date comes from (in the schema's data).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Today {
    /// The system clock (UTC).
    #[default]
    System,
    /// A fixed date (tests).
    Fixed(NaiveDate),
}

impl Today {
    /// Today's date.
    pub fn date(self) -> NaiveDate {
        match self {
            Self::System => chrono::Utc::now().date_naive(),
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
