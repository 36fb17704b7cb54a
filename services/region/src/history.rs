//! Dated history (not the audit log) of what the national picture draws over time: an offer's
//! status, capacity and intake pause, waiting-time reports and their corrections, and each
//! continuity signal's lifecycle. Every mutation that changes one of these calls a function here
//! with its own transaction, so the history and the record never disagree.
//!
//! Offer history holds one row per state of an offer, valid on the days `valid_from` up to but
//! not including `valid_to` (`NULL`: still valid). Days are `YYYY-MM-DD` strings, which sort
//! and compare alike on SQLite and PostgreSQL.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait as _, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use crate::entity::{care_offer, signal, waiting_time};

/// History of an offer's state (status, capacity, intake pause).
pub mod offer_history {
    use sea_orm::entity::prelude::*;

    /// One state of an offer, valid from `valid_from` (inclusive) to `valid_to` (exclusive).
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "care_offer_history")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i32,
        /// The offer.
        pub offer_id: String,
        /// Its provider.
        pub provider_id: String,
        /// Its region.
        pub region_code: String,
        /// Its category.
        pub category: String,
        /// Status in this period.
        pub status: String,
        /// Beds.
        pub beds: Option<i32>,
        /// Places.
        pub places: Option<i32>,
        /// Teams.
        pub teams: Option<i32>,
        /// FTE.
        pub fte: Option<f64>,
        /// Intake pause start, if one was set.
        pub intake_pause_from: Option<ChronoDate>,
        /// Intake pause end, if one was set and has an end.
        pub intake_pause_until: Option<ChronoDate>,
        /// First day of this state (`YYYY-MM-DD`).
        pub valid_from: String,
        /// First day of the next state; `None` while current.
        pub valid_to: Option<String>,
        /// When this row was written.
        pub recorded_at: ChronoDateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Every version of every waiting-time report: the first report and each correction.
pub mod waiting_history {
    use sea_orm::entity::prelude::*;

    /// One version of a report's figures; `superseded_at` is set when it was corrected.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "waiting_time_history")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i32,
        /// The report.
        pub report_id: String,
        /// Reporting provider.
        pub provider_id: String,
        /// Region.
        pub region_code: String,
        /// Diagnosis group.
        pub diagnosis_group: String,
        /// Month reported on (`YYYY-MM`).
        pub month: String,
        /// Registration to intake, weeks.
        pub registration_weeks: f64,
        /// Intake to treatment, weeks.
        pub treatment_weeks: f64,
        /// People waiting (a count of people; shown through `PeopleCount` only).
        pub waiting_count: i32,
        /// The report's version these figures had.
        pub version: i32,
        /// When these figures were recorded.
        pub recorded_at: ChronoDateTimeUtc,
        /// When they were corrected; `None` while current.
        pub superseded_at: Option<ChronoDateTimeUtc>,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A continuity signal's lifecycle: one row per event.
pub mod signal_history {
    use sea_orm::entity::prelude::*;

    /// One event in a signal's life.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "continuity_signal_history")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i32,
        /// The signal.
        pub signal_id: String,
        /// Its offer.
        pub offer_id: String,
        /// Its region.
        pub region_code: String,
        /// `RAISED`, `ACKNOWLEDGED`, `RESOLVED` or `ESCALATED`.
        pub event: String,
        /// The signal's status after the event.
        pub status: String,
        /// When it happened.
        pub at: ChronoDateTimeUtc,
        /// From when an unacknowledged signal is overdue (set on `RAISED`).
        pub overdue_at: Option<ChronoDateTimeUtc>,
        /// Organisation that acted.
        pub by_org: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A day as stored in offer history.
pub fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Records `offer`'s state as of today (the Dutch date): closes the open history row (if any) and
/// opens a new one. Call after every change to an offer (creation included), inside the change's
/// transaction.
pub async fn offer_changed<C: ConnectionTrait>(conn: &C, offer: &care_offer::Model) -> Result<(), DbErr> {
    offer_state_on(conn, offer, ggzhub_kit::calendar::today()).await
}

/// As [`offer_changed`], with the day of the change given (the demo generator writes past days).
pub async fn offer_state_on<C: ConnectionTrait>(
    conn: &C,
    offer: &care_offer::Model,
    on: NaiveDate,
) -> Result<(), DbErr> {
    let on = day(on);
    offer_history::Entity::update_many()
        .col_expr(offer_history::Column::ValidTo, Expr::value(on.clone()))
        .filter(offer_history::Column::OfferId.eq(offer.id.clone()))
        .filter(offer_history::Column::ValidTo.is_null())
        .exec(conn)
        .await?;
    offer_row(offer, on, None).insert(conn).await?;
    Ok(())
}

/// The history row of `offer`'s state, valid from `valid_from` up to `valid_to` (days as
/// [`day`] writes them; `None`: still valid).
pub fn offer_row(
    offer: &care_offer::Model,
    valid_from: String,
    valid_to: Option<String>,
) -> offer_history::ActiveModel {
    offer_history::ActiveModel {
        offer_id: Set(offer.id.clone()),
        provider_id: Set(offer.provider_id.clone()),
        region_code: Set(offer.region_code.clone()),
        category: Set(offer.category.clone()),
        status: Set(offer.status.clone()),
        beds: Set(offer.beds),
        places: Set(offer.places),
        teams: Set(offer.teams),
        fte: Set(offer.fte),
        intake_pause_from: Set(offer.intake_pause_from),
        intake_pause_until: Set(offer.intake_pause_until),
        valid_from: Set(valid_from),
        valid_to: Set(valid_to),
        recorded_at: Set(Utc::now()),
        ..Default::default()
    }
}

/// Records a waiting-time report's figures (a new report or a correction; the previous version,
/// if any, is marked superseded). Inside the change's transaction.
pub async fn waiting_time_reported<C: ConnectionTrait>(conn: &C, report: &waiting_time::Model) -> Result<(), DbErr> {
    let now = Utc::now();
    waiting_history::Entity::update_many()
        .col_expr(waiting_history::Column::SupersededAt, Expr::value(now))
        .filter(waiting_history::Column::ReportId.eq(report.id.clone()))
        .filter(waiting_history::Column::SupersededAt.is_null())
        .exec(conn)
        .await?;
    insert_waiting_history(conn, std::slice::from_ref(report), now).await
}

/// Columns of a waiting-time history row: bind parameters per report in the insert of
/// [`new_waiting_times_reported`].
pub const WAITING_HISTORY_COLUMNS: usize = 11;

/// Records the figures of reports just created, as [`waiting_time_reported`] records each (a new
/// report has no earlier version to supersede): one multi-row `INSERT` whatever their number,
/// [`WAITING_HISTORY_COLUMNS`] bind parameters per report. Inside the change's transaction.
pub async fn new_waiting_times_reported<C: ConnectionTrait>(
    conn: &C,
    reports: &[waiting_time::Model],
) -> Result<(), DbErr> {
    insert_waiting_history(conn, reports, Utc::now()).await
}

/// The current version of each of `reports`, recorded at `now`, in one statement.
async fn insert_waiting_history<C: ConnectionTrait>(
    conn: &C,
    reports: &[waiting_time::Model],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if reports.is_empty() {
        return Ok(());
    }
    let rows = reports.iter().map(|report| waiting_history::ActiveModel {
        report_id: Set(report.id.clone()),
        provider_id: Set(report.provider_id.clone()),
        region_code: Set(report.region_code.clone()),
        diagnosis_group: Set(report.diagnosis_group.clone()),
        month: Set(report.month.clone()),
        registration_weeks: Set(report.registration_weeks),
        treatment_weeks: Set(report.treatment_weeks),
        waiting_count: Set(report.waiting_count),
        version: Set(report.version),
        recorded_at: Set(now),
        superseded_at: Set(None),
        ..Default::default()
    });
    waiting_history::Entity::insert_many(rows).exec_without_returning(conn).await?;
    Ok(())
}

/// Records an event in `s`'s life (`s` as it is after the event): `RAISED` for a new signal
/// (with the moment it becomes overdue), otherwise the status it moved to.
pub async fn signal_event<C: ConnectionTrait>(conn: &C, s: &signal::Model, by_org: &str) -> Result<(), DbErr> {
    signal_event_at(conn, s, by_org, Utc::now()).await
}

/// As [`signal_event`], at a given moment (the demo generator writes past events).
pub async fn signal_event_at<C: ConnectionTrait>(
    conn: &C,
    s: &signal::Model,
    by_org: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let raised = signal_history::Entity::find()
        .filter(signal_history::Column::SignalId.eq(s.id.clone()))
        .one(conn)
        .await?
        .is_none();
    let event = if raised { "RAISED".to_owned() } else { s.status.clone() };
    signal_history::ActiveModel {
        signal_id: Set(s.id.clone()),
        offer_id: Set(s.offer_id.clone()),
        region_code: Set(s.region_code.clone()),
        event: Set(event),
        status: Set(s.status.clone()),
        at: Set(at),
        overdue_at: Set(raised.then_some(s.acknowledgement_deadline)),
        by_org: Set(by_org.to_owned()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}
