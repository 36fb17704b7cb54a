//! Vocabulary shared by every subgraph: the six categories of crucial care, and the macro that
//! defines enums stored as their wire names.

/// Defines a GraphQL enum stored as its SCREAMING_SNAKE_CASE name.
#[macro_export]
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $wire:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, $crate::reexport::async_graphql::Enum, $crate::reexport::serde::Serialize, $crate::reexport::serde::Deserialize)]
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

crate::string_enum! {
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
