//! The national table's vocabulary.

use ggzhub_kit::string_enum;

pub use ggzhub_kit::domain::CareCategory;

string_enum! {
    /// Lifecycle of an escalation: only the national table moves it along.
    EscalationStatus {
        /// Raised by the region's chair.
        Submitted => "SUBMITTED",
        /// Taken up by the national table.
        InDiscussion => "IN_DISCUSSION",
        /// Measures agreed.
        MeasureAgreed => "MEASURE_AGREED",
        /// Solved.
        Resolved => "RESOLVED",
        /// Not taken up, with a reason.
        Declined => "DECLINED",
    }
}

impl EscalationStatus {
    /// Whether the national table has decided (the public summary is then visible to all).
    pub fn is_decided(self) -> bool {
        matches!(self, Self::MeasureAgreed | Self::Resolved | Self::Declined)
    }

    /// The statuses reachable from this one.
    pub fn next(self) -> &'static [EscalationStatus] {
        match self {
            Self::Submitted => &[Self::InDiscussion, Self::Declined],
            Self::InDiscussion => &[Self::MeasureAgreed, Self::Declined],
            Self::MeasureAgreed => &[Self::Resolved],
            Self::Resolved | Self::Declined => &[],
        }
    }

    /// Stored names of the decided statuses.
    pub const DECIDED: [&'static str; 3] = ["MEASURE_AGREED", "RESOLVED", "DECLINED"];
}

string_enum! {
    /// How urgent an escalation is.
    Urgency {
        /// Low.
        Low => "LOW",
        /// Medium.
        Medium => "MEDIUM",
        /// High.
        High => "HIGH",
        /// Critical: care is lost without action.
        Critical => "CRITICAL",
    }
}

string_enum! {
    /// Progress of an agreed measure.
    MeasureStatus {
        /// Agreed, not started.
        Planned => "PLANNED",
        /// Under way.
        InProgress => "IN_PROGRESS",
        /// Done.
        Done => "DONE",
        /// Cancelled.
        Cancelled => "CANCELLED",
    }
}

string_enum! {
    /// Which way a KPI should move.
    KpiDirection {
        /// Higher values are better.
        HigherIsBetter => "HIGHER_IS_BETTER",
        /// Lower values are better.
        LowerIsBetter => "LOWER_IS_BETTER",
    }
}

/// First and last year national KPIs are agreed for (IZA runs to 2027).
pub const KPI_YEARS: std::ops::RangeInclusive<i32> = 2025..=2027;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_moves_only_forward() {
        use EscalationStatus::*;
        assert_eq!(Submitted.next(), &[InDiscussion, Declined]);
        assert!(Resolved.next().is_empty());
        assert!(!InDiscussion.is_decided());
        assert!(Declined.is_decided());
        for s in EscalationStatus::ALL {
            assert_eq!(s.is_decided(), EscalationStatus::DECIDED.contains(&s.as_str()));
        }
    }
}
