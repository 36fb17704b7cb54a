//! Database entities of the region subgraph (sea-orm). Enumerations are stored as their wire
//! names; ids as UUID strings; lists as JSON arrays.

/// Regions (IZA regions, care-office regions).
pub mod region {
    use sea_orm::entity::prelude::*;

    /// A region.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "regions")]
    pub struct Model {
        /// Region code (kebab-case).
        #[sea_orm(primary_key, auto_increment = false)]
        pub code: String,
        /// Display name.
        pub name: String,
        /// `IZA` or `CARE_OFFICE`.
        pub kind: String,
        /// Codes of neighbouring regions (JSON array).
        pub neighbours: Json,
        /// The coordinating insurer's organisation id.
        pub coordinating_insurer_id: Option<String>,
        /// Row of the region's tile on the schematic map (0 at the top).
        pub map_row: Option<i32>,
        /// Column of the region's tile on the schematic map (0 at the left).
        pub map_column: Option<i32>,
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

/// Organisations taking part in the hub.
pub mod organisation {
    use sea_orm::entity::prelude::*;

    /// An organisation.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "organisations")]
    pub struct Model {
        /// Hub id (UUID).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// Name.
        pub name: String,
        /// Kind (`PROVIDER`, `INSURER`, …).
        pub kind: String,
        /// Chamber of Commerce number.
        pub kvk: Option<String>,
        /// URA (providers).
        pub ura: Option<String>,
        /// AGB code (providers).
        pub agb: Option<String>,
        /// UZOVI code (insurers).
        pub uzovi: Option<String>,
        /// Region codes it takes part in (JSON array).
        pub regions: Json,
        /// Version.
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

/// Code list: care forms per category.
pub mod care_form {
    use sea_orm::entity::prelude::*;

    /// A care form.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "care_forms")]
    pub struct Model {
        /// Code, e.g. `CRISIS_SERVICE`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub code: String,
        /// Category it belongs to.
        pub category: String,
        /// Dutch name.
        pub name: String,
        /// Description.
        pub description: String,
        /// The region whose own form it is (issue 21); `None` for the national list.
        pub region_code: Option<String>,
        /// Why the region added it (regional forms only; no personal data).
        pub motivation: Option<String>,
        /// Version (regional forms change with `updateRegionalCareForm`).
        pub version: i32,
        /// Created at.
        pub created_at: ChronoDateTimeUtc,
        /// Updated at.
        pub updated_at: ChronoDateTimeUtc,
        /// Creating organisation (the region's chair; the hub operator for the national list).
        pub created_by: String,
        /// Last updating organisation.
        pub updated_by: String,
        /// When the region's chair retired it; retired forms are offered for no new offer.
        pub retired_at: Option<ChronoDateTimeUtc>,
        /// Why it was retired (no personal data).
        pub retirement_reason: Option<String>,
    }

    /// Relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Code list: diagnosis groups (hoofddiagnosegroepen).
pub mod diagnosis_group {
    use sea_orm::entity::prelude::*;

    /// A diagnosis group.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "diagnosis_groups")]
    pub struct Model {
        /// Code.
        #[sea_orm(primary_key, auto_increment = false)]
        pub code: String,
        /// Dutch name.
        pub name: String,
    }

    /// Relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Care offers: one unit of crucial care at department or team level.
pub mod care_offer {
    use sea_orm::entity::prelude::*;

    /// A care offer.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "care_offers")]
    pub struct Model {
        /// Id (UUID).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// Providing organisation.
        pub provider_id: String,
        /// Region the offer is located in.
        pub region_code: String,
        /// Category.
        pub category: String,
        /// Care form code.
        pub care_form: String,
        /// Department or team name.
        pub unit_name: String,
        /// Town.
        pub location: String,
        /// Beds.
        pub beds: Option<i32>,
        /// Places.
        pub places: Option<i32>,
        /// Teams.
        pub teams: Option<i32>,
        /// FTE.
        pub fte: Option<f64>,
        /// Availability.
        pub availability: String,
        /// Status.
        pub status: String,
        /// Whether it has a supra-regional function.
        pub supra_regional: bool,
        /// Regions served (JSON array).
        pub regions_served: Json,
        /// Inclusion criteria (no personal data).
        pub inclusion_criteria: Option<String>,
        /// Intake pause: first day.
        pub intake_pause_from: Option<ChronoDate>,
        /// Intake pause: last day, open-ended when absent.
        pub intake_pause_until: Option<ChronoDate>,
        /// Intake pause: reason.
        pub intake_pause_reason: Option<String>,
        /// Version.
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

/// Waiting-time reports (public by law).
pub mod waiting_time {
    use sea_orm::entity::prelude::*;

    /// A waiting-time report of one provider, location, diagnosis group and month.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "waiting_time_reports")]
    pub struct Model {
        /// Id (UUID).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// Reporting provider.
        pub provider_id: String,
        /// Region of the location.
        pub region_code: String,
        /// Location (town).
        pub location: String,
        /// Diagnosis group code.
        pub diagnosis_group: String,
        /// Month, `YYYY-MM`.
        pub month: String,
        /// Weeks from registration to intake.
        pub registration_weeks: f64,
        /// Weeks from intake to treatment.
        pub treatment_weeks: f64,
        /// Number of people waiting.
        pub waiting_count: i32,
        /// Intakes in the month (people); `None` when not reported.
        pub intakes: Option<i32>,
        /// Treatment starts in the month (people); `None` when not reported.
        pub treatment_starts: Option<i32>,
        /// Version.
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

/// Continuity signals (early warning).
pub mod signal {
    use sea_orm::entity::prelude::*;

    /// A continuity signal on one care offer.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "continuity_signals")]
    pub struct Model {
        /// Id (UUID).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The offer at risk.
        pub offer_id: String,
        /// The offer's provider (copied from the offer; offers never change provider).
        pub provider_id: String,
        /// The offer's region (copied from the offer; offers never change region).
        pub region_code: String,
        /// Kind.
        pub kind: String,
        /// Severity.
        pub severity: String,
        /// Description (no personal data).
        pub description: String,
        /// When the problem is expected to bite.
        pub expected_date: Option<ChronoDate>,
        /// Status.
        pub status: String,
        /// Raised at.
        pub raised_at: ChronoDateTimeUtc,
        /// The coordinating insurer must acknowledge before this moment.
        pub acknowledgement_deadline: ChronoDateTimeUtc,
        /// Acknowledged at.
        pub acknowledged_at: Option<ChronoDateTimeUtc>,
        /// Acknowledging organisation.
        pub acknowledged_by: Option<String>,
        /// The coordinating insurer's response, given when acknowledging (no personal data).
        pub response: Option<String>,
        /// When the signal's overdue event was recorded (once; see `crate::events::sweep_overdue`).
        pub overdue_emitted_at: Option<ChronoDateTimeUtc>,
        /// Version.
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

/// Regional overviews (regiobeeld).
pub mod overview {
    use sea_orm::entity::prelude::*;

    /// A region's overview for one year.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "regional_overviews")]
    pub struct Model {
        /// Id (UUID).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// Region.
        pub region_code: String,
        /// Year.
        pub year: i32,
        /// `DRAFT` or `PUBLISHED`.
        pub status: String,
        /// Public summary.
        pub public_summary: String,
        /// Confidential notes (participants and the national table only).
        pub confidential_notes: String,
        /// Per-category assessments (JSON array).
        pub assessments: Json,
        /// Published at.
        pub published_at: Option<ChronoDateTimeUtc>,
        /// Version.
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

/// Patient organisations' input on overviews.
pub mod patient_input {
    use sea_orm::entity::prelude::*;

    /// One contribution.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "patient_inputs")]
    pub struct Model {
        /// Id (UUID).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// Overview it is about.
        pub overview_id: String,
        /// Contributing patient organisation.
        pub organisation_id: String,
        /// The input (no personal data).
        pub text: String,
        /// Kept internal: not published with the overview (issue 21).
        pub internal: bool,
        /// Version.
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

/// Planned offers (issue 21): new care a region's table decided it needs, before it exists.
pub mod planned_offer {
    use sea_orm::entity::prelude::*;

    /// A planned offer.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "planned_offers")]
    pub struct Model {
        /// Id (UUID).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// Region that plans it.
        pub region_code: String,
        /// Category.
        pub category: String,
        /// Care form code (national, or the region's own).
        pub care_form: String,
        /// Working name of the department or team.
        pub unit_name: String,
        /// Intended town, if known.
        pub location: Option<String>,
        /// The provider the region intends to realise it, if chosen.
        pub intended_provider_id: Option<String>,
        /// The regional overview it arises from, if any.
        pub overview_id: Option<String>,
        /// Why the region needs it (no personal data).
        pub motivation: String,
        /// `PLANNED`, `REALISED` or `WITHDRAWN`.
        pub status: String,
        /// The care offer that realised it.
        pub realised_offer_id: Option<String>,
        /// Why the chair withdrew it (no personal data).
        pub withdrawal_reason: Option<String>,
        /// Version.
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

/// Actieplan Wachttijden (issue 21 item 2): a supplied unique count of people waiting per region
/// and month (each person counted once, however many providers they wait at).
pub mod region_waiting_count {
    use sea_orm::entity::prelude::*;

    /// One region's unique count of people waiting in one month.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "region_waiting_counts")]
    pub struct Model {
        /// Id (UUID).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// Region.
        pub region_code: String,
        /// Month, `YYYY-MM`.
        pub month: String,
        /// People waiting, each counted once.
        pub people_waiting: i32,
        /// The organisation that supplied (or last corrected) the count.
        pub supplier_id: String,
        /// Version.
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

/// Actieplan Wachttijden: the lead provider of a region's transfer mechanism
/// (overdrachtsmechanisme), as the regional table confirmed it.
pub mod transfer_lead {
    use sea_orm::entity::prelude::*;

    /// A region's confirmed transfer lead.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "transfer_leads")]
    pub struct Model {
        /// Region (one lead per region).
        #[sea_orm(primary_key, auto_increment = false)]
        pub region_code: String,
        /// The lead provider.
        pub provider_id: String,
        /// When the chair confirmed it.
        pub confirmed_at: ChronoDateTimeUtc,
        /// The confirming organisation (the region's chair).
        pub confirmed_by: String,
        /// Version.
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

/// Actieplan Wachttijden: per care offer, whether an intake is possible now and the expected
/// wait, for referrers.
pub mod intake_outlook {
    use sea_orm::entity::prelude::*;

    /// An offer's intake outlook as its provider set it.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "offer_intake_outlooks")]
    pub struct Model {
        /// The care offer (one outlook per offer).
        #[sea_orm(primary_key, auto_increment = false)]
        pub offer_id: String,
        /// Whether an intake is possible now, as the provider set it.
        pub intake_possible_now: bool,
        /// Expected wait until intake, in weeks.
        pub expected_wait_weeks: Option<f64>,
        /// Version.
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

/// Demand and care-use figures (issue 21): counts of people per care-office region, category
/// and quarter, as a trusted source supplied them.
pub mod care_use_figure {
    use sea_orm::entity::prelude::*;

    /// People in care and new referrals of one region, category and quarter, from one supplier.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "care_use_figures")]
    pub struct Model {
        /// Id (UUID v7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The organisation that supplied the figure (national table or hub operator).
        pub supplier_id: String,
        /// Quarter, `YYYY-Qn`.
        pub period: String,
        /// Care-office region where the people live.
        pub region_code: String,
        /// Category of crucial care.
        pub category: String,
        /// People in care during the quarter.
        pub people_in_care: i32,
        /// New referrals during the quarter.
        pub new_referrals: i32,
        /// When the figure was imported.
        pub imported_at: ChronoDateTimeUtc,
        /// Organisation of the caller (or CLI run) that imported it.
        pub imported_by: String,
    }

    /// Relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One supplier's import of one quarter of care use (issue 21 gaps): the version a re-import
/// names to replace it, and the lock two imports of the same quarter meet at.
pub mod care_use_import {
    use sea_orm::entity::prelude::*;

    /// The latest import of a quarter by a supplier.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "care_use_imports")]
    pub struct Model {
        /// The supplying organisation.
        #[sea_orm(primary_key, auto_increment = false)]
        pub supplier_id: String,
        /// Quarter, `YYYY-Qn`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub period: String,
        /// Region figures of the latest import.
        pub figures: i32,
        /// Flows of the latest import.
        pub flows: i32,
        /// Version: 1 for the first import, one more for each replacement.
        pub version: i32,
        /// First imported at.
        pub created_at: ChronoDateTimeUtc,
        /// Last (re)imported at.
        pub updated_at: ChronoDateTimeUtc,
        /// Organisation that first imported it.
        pub created_by: String,
        /// Organisation that last (re)imported it.
        pub updated_by: String,
    }

    /// Relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// People treated outside their own region (issue 21): flows home region → region of treatment.
pub mod care_use_flow {
    use sea_orm::entity::prelude::*;

    /// People living in `from_region` treated in `to_region`, per category and quarter.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "care_use_flows")]
    pub struct Model {
        /// Id (UUID v7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The organisation that supplied the figure.
        pub supplier_id: String,
        /// Quarter, `YYYY-Qn`.
        pub period: String,
        /// Care-office region where the people live.
        pub from_region: String,
        /// Care-office region where they were treated.
        pub to_region: String,
        /// Category of crucial care.
        pub category: String,
        /// People in care.
        pub people_in_care: i32,
        /// New referrals.
        pub new_referrals: i32,
        /// When the figure was imported.
        pub imported_at: ChronoDateTimeUtc,
        /// Organisation of the caller (or CLI run) that imported it.
        pub imported_by: String,
    }

    /// Relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Which care-office regions an IZA region overlaps (issue 21, hub operator).
pub mod region_overlap {
    use sea_orm::entity::prelude::*;

    /// An IZA region overlapping a care-office region.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "region_overlaps")]
    pub struct Model {
        /// Id (UUID v7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The IZA region.
        pub iza_code: String,
        /// The care-office region it overlaps.
        pub care_office_code: String,
        /// Created at.
        pub created_at: ChronoDateTimeUtc,
        /// Creating organisation.
        pub created_by: String,
    }

    /// Relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Why an offer has its status (issue 21): the cause recorded with its last change to
/// `UNDER_PRESSURE` or `CLOSING`, and an announced closure's planned date. One row per offer,
/// replaced at every status change.
pub mod offer_status_note {
    use sea_orm::entity::prelude::*;

    /// The cause and closure plan of one offer's current status.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "care_offer_status_notes")]
    pub struct Model {
        /// The offer (one row per offer).
        #[sea_orm(primary_key, auto_increment = false)]
        pub offer_id: String,
        /// The offer's region (copied; offers never change region).
        pub region_code: String,
        /// The status this note belongs to.
        pub status: String,
        /// Cause kind (a `SignalKind` wire name); `None`: not given.
        pub cause_kind: Option<String>,
        /// Cause text (no personal data); `None`: not given.
        pub cause_text: Option<String>,
        /// Planned closing date of an announced closure.
        pub planned_closing_date: Option<ChronoDate>,
        /// When the closure was announced.
        pub announced_at: Option<ChronoDateTimeUtc>,
        /// The continuity signal raised with the announcement.
        pub closure_signal_id: Option<String>,
        /// When this note was recorded.
        pub recorded_at: ChronoDateTimeUtc,
        /// Recording organisation.
        pub recorded_by: String,
    }

    /// Relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A region's agreed rules for closing crucial offers (issue 21): the notice period.
pub mod region_closure_rule {
    use sea_orm::entity::prelude::*;

    /// One region's closure rules; absent: the default notice period.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "region_closure_rules")]
    pub struct Model {
        /// Region.
        #[sea_orm(primary_key, auto_increment = false)]
        pub region_code: String,
        /// Weeks between announcing a closure and its planned date, at least.
        pub notice_weeks: i32,
        /// Version.
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

/// Regional actions and agreements arising from a regional overview (issue 21).
pub mod regional_action {
    use sea_orm::entity::prelude::*;

    /// One action with an owner and a due date.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "regional_actions")]
    pub struct Model {
        /// Id (UUID v7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// Region (the overview's).
        pub region_code: String,
        /// The overview it arises from.
        pub overview_id: String,
        /// Title (no personal data).
        pub title: String,
        /// Description (no personal data).
        pub description: String,
        /// Owning organisation (a provider or insurer at the region's table).
        pub owner_id: String,
        /// Due date.
        pub due_date: ChronoDate,
        /// `OPEN`, `IN_PROGRESS`, `DONE` or `CANCELLED`.
        pub status: String,
        /// Version.
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
