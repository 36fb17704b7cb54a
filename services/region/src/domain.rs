//! The region subgraph's vocabulary: categories, statuses and kinds, stored as strings and
//! exposed as GraphQL enums.

/// Defines a GraphQL enum stored as its SCREAMING_SNAKE_CASE name.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $wire:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, async_graphql::Enum, serde::Serialize, serde::Deserialize)]
        #[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
        #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
        pub enum $name { $($(#[$vmeta])* $variant,)+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stored (and wire) name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire,)+ }
            }

            /// Parses a stored name.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($wire => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

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
    /// The six categories of crucial care (cruciale ggz).
    CareCategory {
        /// Acute care: crisis service, IHT, HIC, acute day treatment.
        Acute => "ACUTE",
        /// Outreach care: FACT, VIP, IHT teams for addiction care.
        Outreach => "OUTREACH",
        /// Clinical care: admission, MPU, PUK.
        Clinical => "CLINICAL",
        /// Secure care: secure beds level 2 and 3, KIB, LIZ, levensloopaanpak.
        Secure => "SECURE",
        /// Highly specialised care from mental-health institutions (Zpm setting 8).
        SpecialistMhc => "SPECIALIST_MHC",
        /// Highly specialised care from hospitals and UMCs.
        SpecialistHospital => "SPECIALIST_HOSPITAL",
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

/// Treeknorm: maximum weeks from registration to intake.
pub const TREEKNORM_INTAKE_WEEKS: f64 = 4.0;
/// Treeknorm: maximum weeks from intake to treatment.
pub const TREEKNORM_TREATMENT_WEEKS: f64 = 10.0;
/// Treeknorm: maximum weeks from registration to treatment.
pub const TREEKNORM_TOTAL_WEEKS: f64 = 14.0;

/// Pattern for region codes: lowercase ASCII kebab-case, 2–40 characters.
pub fn is_region_code(code: &str) -> bool {
    (2..=40).contains(&code.len())
        && code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !code.starts_with('-')
}

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

    #[test]
    fn region_codes_are_kebab_case() {
        assert!(is_region_code("apeldoorn-zutphen"));
        assert!(!is_region_code("Utrecht"));
        assert!(!is_region_code("-x"));
        assert!(!is_region_code("a"));
    }
}
