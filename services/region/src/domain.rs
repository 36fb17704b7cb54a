//! The region subgraph's vocabulary: categories, statuses and kinds, stored as strings and
//! exposed as GraphQL enums.

use ggzhub_kit::string_enum;

pub use ggzhub_kit::domain::CareCategory;

string_enum! {
    /// Kind of region: an IZA region or a zorgkantoorregio (care-office region).
    RegionKind {
        /// IZA-regio: a region of the Integraal Zorgakkoord.
        Iza => "IZA",
        /// Zorgkantoorregio: one of the Wlz purchasing regions.
        CareOffice => "CARE_OFFICE",
    }
}

string_enum! {
    /// How secure a care offer's continuity is.
    OfferStatus {
        /// Available and not at risk.
        Secured => "SECURED",
        /// Available but under pressure (staffing, finance, demand).
        UnderPressure => "UNDER_PRESSURE",
        /// Announced to close.
        Closing => "CLOSING",
        /// No longer available.
        Closed => "CLOSED",
        /// Planned: a new offer the region's table decided it needs, before it exists. It lives
        /// as a `PlannedOffer` (issue 21) until a provider realises it into a `CareOffer`; no
        /// `CareOffer` carries this status, it appears in `offerCounts` only, never as supply.
        Planned => "PLANNED",
    }
}

string_enum! {
    /// When a care offer is available.
    Availability {
        /// Around the clock (24/7).
        TwentyFourSeven => "TWENTY_FOUR_SEVEN",
        /// Office hours only.
        OfficeHours => "OFFICE_HOURS",
    }
}

string_enum! {
    /// What threatens continuity in an early-warning signal.
    SignalKind {
        /// Staff shortage.
        Staffing => "STAFFING",
        /// Financial problems.
        Finance => "FINANCE",
        /// Housing or building problems.
        Housing => "HOUSING",
        /// Planned closure.
        Closure => "CLOSURE",
        /// An intake pause (aanmeldpauze).
        IntakePause => "INTAKE_PAUSE",
        /// Anything else.
        Other => "OTHER",
    }
}

string_enum! {
    /// How serious a continuity signal is.
    Severity {
        /// Low.
        Low => "LOW",
        /// Medium.
        Medium => "MEDIUM",
        /// High.
        High => "HIGH",
        /// Critical: care stops soon without action.
        Critical => "CRITICAL",
    }
}

string_enum! {
    /// Lifecycle of a continuity signal.
    SignalStatus {
        /// Raised by the provider, not yet acknowledged.
        Open => "OPEN",
        /// Acknowledged by the region's coordinating insurer.
        Acknowledged => "ACKNOWLEDGED",
        /// Solved.
        Resolved => "RESOLVED",
        /// Taken to the national table by the region's chair.
        Escalated => "ESCALATED",
    }
}

string_enum! {
    /// Lifecycle of a regional overview (regiobeeld).
    OverviewStatus {
        /// Being written by the region's participants.
        Draft => "DRAFT",
        /// Published by the region's chair; the public part is readable by all.
        Published => "PUBLISHED",
    }
}

string_enum! {
    /// Lifecycle of a planned offer (issue 21).
    PlannedOfferStatus {
        /// Decided by the region's table, not yet realised.
        Planned => "PLANNED",
        /// A provider realised it: `PlannedOffer.realisedOffer` is the care offer.
        Realised => "REALISED",
        /// The region's chair withdrew it.
        Withdrawn => "WITHDRAWN",
    }
}

/// Treeknorm: maximum weeks from registration to intake.
pub const TREEKNORM_INTAKE_WEEKS: f64 = 4.0;
/// Treeknorm: maximum weeks from intake to treatment.
pub const TREEKNORM_TREATMENT_WEEKS: f64 = 10.0;
/// Treeknorm: maximum weeks from registration to treatment.
pub const TREEKNORM_TOTAL_WEEKS: f64 = 14.0;

pub use ggzhub_kit::validate::is_region_code;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_their_wire_names() {
        for c in CareCategory::ALL {
            assert_eq!(CareCategory::parse(c.as_str()), Some(*c));
        }
        assert_eq!(SignalStatus::parse("open"), None);
    }
}
