//! Database entities of the national-table subgraph (sea-orm). Enumerations are stored as their
//! wire names; ids as UUID strings; lists as JSON.

/// An escalation from a region to the national table.
pub mod escalation {
    use sea_orm::entity::prelude::*;

    /// An escalation from a region to the national table.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "escalations")]
    pub struct Model {
        /// Id (UUID).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// Raising region.
        pub region_code: String,
        /// Category of crucial care.
        pub category: String,
        /// Target group.
        pub target_group: String,
        /// The problem the region could not solve (no personal data).
        pub problem: String,
        /// What the region tried.
        pub region_tried: String,
        /// Affected care offers (JSON array of ids).
        pub affected_offer_ids: Json,
        /// Urgency.
        pub urgency: String,
        /// Lifecycle status.
        pub status: String,
        /// Why it was declined.
        pub decline_reason: Option<String>,
        /// Public summary once decided.
        pub public_summary: Option<String>,
        /// Raising organisation (the chair).
        pub raised_by: String,
        /// When it was raised.
        pub raised_at: ChronoDateTimeUtc,
        /// When the national table decided.
        pub decided_at: Option<ChronoDateTimeUtc>,
        /// Optimistic-concurrency version.
        pub version: i32,
        /// Created at.
        pub created_at: ChronoDateTimeUtc,
        /// Updated at.
        pub updated_at: ChronoDateTimeUtc,
        /// Creating organisation.
        pub created_by: String,
        /// Last updating organisation.
        pub updated_by: String,
        /// The continuity signal (owned by the region subgraph) whose escalation opened it; none
        /// for escalations the chair raised by hand. Unique.
        pub signal_id: Option<String>,
    }

    /// Relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One recorded move of an escalation along its lifecycle.
pub mod transition {
    use sea_orm::entity::prelude::*;

    /// One recorded move of an escalation along its lifecycle.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "escalation_transitions")]
    pub struct Model {
        /// Id (UUID v7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The escalation.
        pub escalation_id: String,
        /// Status before.
        pub from_status: String,
        /// Status after.
        pub to_status: String,
        /// Organisation that moved it.
        pub by_org: String,
        /// Subject acting for it.
        pub by_subject: String,
        /// When.
        pub at: ChronoDateTimeUtc,
        /// Note (no personal data).
        pub note: String,
    }

    /// Relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// An agreed action on an escalation.
pub mod measure {
    use sea_orm::entity::prelude::*;

    /// An agreed action on an escalation.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "measures")]
    pub struct Model {
        /// Id (UUID).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The escalation.
        pub escalation_id: String,
        /// Title.
        pub title: String,
        /// Description (no personal data).
        pub description: String,
        /// Organisation that carries it out.
        pub owner_org_id: String,
        /// Due date.
        pub due_date: ChronoDate,
        /// Progress.
        pub status: String,
        /// Optimistic-concurrency version.
        pub version: i32,
        /// Created at.
        pub created_at: ChronoDateTimeUtc,
        /// Updated at.
        pub updated_at: ChronoDateTimeUtc,
        /// Creating organisation.
        pub created_by: String,
        /// Last updating organisation.
        pub updated_by: String,
    }

    /// Relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A care offer listed as national crucial (supra-regional) offer.
pub mod listing {
    use sea_orm::entity::prelude::*;

    /// A care offer listed as national crucial (supra-regional) offer.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "supra_regional_listings")]
    pub struct Model {
        /// Id (UUID).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The listed care offer (owned by the region subgraph).
        pub offer_id: String,
        /// Target group.
        pub target_group: String,
        /// Region codes served (JSON array).
        pub regions_served: Json,
        /// On the HS-8 (Zpm setting 8) list.
        pub hs8: bool,
        /// Expertise network.
        pub expertise_network_id: Option<String>,
        /// Optimistic-concurrency version.
        pub version: i32,
        /// Created at.
        pub created_at: ChronoDateTimeUtc,
        /// Updated at.
        pub updated_at: ChronoDateTimeUtc,
        /// Creating organisation.
        pub created_by: String,
        /// Last updating organisation.
        pub updated_by: String,
    }

    /// Relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// An expertise network around a target group.
pub mod network {
    use sea_orm::entity::prelude::*;

    /// An expertise network around a target group.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "expertise_networks")]
    pub struct Model {
        /// Id (UUID).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// Name.
        pub name: String,
        /// Target group.
        pub target_group: String,
        /// Member organisation ids (JSON array).
        pub member_org_ids: Json,
        /// Consultation contact: an organisation function, never a person.
        pub consultation_contact: String,
        /// Optimistic-concurrency version.
        pub version: i32,
        /// Created at.
        pub created_at: ChronoDateTimeUtc,
        /// Updated at.
        pub updated_at: ChronoDateTimeUtc,
        /// Creating organisation.
        pub created_by: String,
        /// Last updating organisation.
        pub updated_by: String,
    }

    /// Relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A national KPI agreed with the parties.
pub mod kpi {
    use sea_orm::entity::prelude::*;

    /// A national KPI agreed with the parties.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "national_kpis")]
    pub struct Model {
        /// Code.
        #[sea_orm(primary_key, auto_increment = false)]
        pub code: String,
        /// Name.
        pub name: String,
        /// Definition.
        pub definition: String,
        /// Unit.
        pub unit: String,
        /// Which way is better.
        pub direction: String,
        /// Targets per year (JSON object year → value).
        pub targets: Json,
        /// Optimistic-concurrency version.
        pub version: i32,
        /// Created at.
        pub created_at: ChronoDateTimeUtc,
        /// Updated at.
        pub updated_at: ChronoDateTimeUtc,
        /// Creating organisation.
        pub created_by: String,
        /// Last updating organisation.
        pub updated_by: String,
    }

    /// Relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A KPI measurement for a year, nationally or for one region.
pub mod measurement {
    use sea_orm::entity::prelude::*;

    /// A KPI measurement for a year, nationally or for one region.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "kpi_measurements")]
    pub struct Model {
        /// Id (UUID).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// KPI.
        pub kpi_code: String,
        /// Year.
        pub year: i32,
        /// Region, or none for the national figure.
        pub region_code: Option<String>,
        /// Measured value.
        pub value: f64,
        /// Optimistic-concurrency version.
        pub version: i32,
        /// Created at.
        pub created_at: ChronoDateTimeUtc,
        /// Updated at.
        pub updated_at: ChronoDateTimeUtc,
        /// Creating organisation.
        pub created_by: String,
        /// Last updating organisation.
        pub updated_by: String,
    }

    /// Relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
