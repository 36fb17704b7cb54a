//! The closing process and regional actions (issue 21 item 3) below GraphQL: the default notice
//! period, per-request loaders of status notes, closure rules, announced closures and actions
//! (one statement per batch whatever the data size), and the batch writes of
//! `updateOfferStatuses` (a constant number of statements whatever the batch size).

use std::collections::{BTreeMap, HashMap};

use async_graphql::dataloader::{DataLoader, Loader};
use chrono::{DateTime, NaiveDate, Utc};
use ggzhub_kit::batch::Batches;
use sea_orm::sea_query::{Alias, Expr, ExprTrait as _, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, JoinType, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::domain::OfferStatus;
use crate::entity::{care_offer, offer_status_note, overview, region_closure_rule, regional_action};
use crate::history::{self, offer_history};
use crate::loader::LoadError;

/// The notice period of a region that agreed none: 13 weeks (a quarter) between announcing the
/// closure of a crucial offer and its planned closing date, so that the regional table meets on
/// it at least once before the offer closes.
pub const DEFAULT_CLOSURE_NOTICE_WEEKS: i32 = 13;
/// The longest notice period a region may agree (two years).
pub const MAX_CLOSURE_NOTICE_WEEKS: i32 = 104;
/// Most items one `updateOfferStatuses` call takes.
pub const MAX_STATUS_UPDATES_PER_CALL: usize = 500;

// A full batch's history insert stays within SQLite's 32766 bind parameters.
const _: () = assert!(MAX_STATUS_UPDATES_PER_CALL * 15 <= 32_766);

/// The loaders of the closing process and of regional actions, part of [`crate::loader::Loaders`].
pub struct ClosingLoaders {
    /// Status notes (cause, planned closing date) by offer id.
    pub notes: DataLoader<StatusNotes>,
    /// Closure rules by region code.
    pub rules: DataLoader<ClosureRules>,
    /// Announced closures (notes of CLOSING offers, with the offer) by region code.
    pub announced: DataLoader<AnnouncedClosures>,
    /// Every action of a region or an overview, with its overview.
    pub actions: DataLoader<Actions>,
}

impl ClosingLoaders {
    /// Fresh loaders for one request.
    pub fn new(db: &DatabaseConnection, batches: &Batches) -> Self {
        Self {
            notes: batches.loader(StatusNotes { db: db.clone() }),
            rules: batches.loader(ClosureRules { db: db.clone() }),
            announced: batches.loader(AnnouncedClosures { db: db.clone() }),
            actions: batches.loader(Actions { db: db.clone() }),
        }
    }
}

/// Status notes by offer id.
pub struct StatusNotes {
    db: DatabaseConnection,
}

impl Loader<String> for StatusNotes {
    type Value = offer_status_note::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let rows = offer_status_note::Entity::find()
            .filter(offer_status_note::Column::OfferId.is_in(keys.iter().cloned()))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|n| (n.offer_id.clone(), n)).collect())
    }
}

/// Closure rules by region code (absent: the default).
pub struct ClosureRules {
    db: DatabaseConnection,
}

impl Loader<String> for ClosureRules {
    type Value = region_closure_rule::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let rows = region_closure_rule::Entity::find()
            .filter(region_closure_rule::Column::RegionCode.is_in(keys.iter().cloned()))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|r| (r.region_code.clone(), r)).collect())
    }
}

/// The announced closures of regions: the offers located there that are `CLOSING` with a
/// planned date, each with its note, by planned date; for an IZA region also those located in the
/// care-office regions it overlaps, each once. Two statements for any number of regions.
pub struct AnnouncedClosures {
    db: DatabaseConnection,
}

impl Loader<String> for AnnouncedClosures {
    type Value = Vec<(offer_status_note::Model, care_offer::Model)>;
    type Error = LoadError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let offer = offer_status_note::Entity::belongs_to(care_offer::Entity)
            .from(offer_status_note::Column::OfferId)
            .to(care_offer::Column::Id)
            .into();
        let overlaps = crate::care_use::loader::overlapped(&self.db, keys.iter().cloned()).await?;
        let answering: Vec<(&String, Vec<String>)> =
            keys.iter().map(|k| (k, crate::care_use::loader::answering(&overlaps, k))).collect();
        let all: std::collections::BTreeSet<String> =
            answering.iter().flat_map(|(_, codes)| codes.iter().cloned()).collect();
        let rows = offer_status_note::Entity::find()
            .select_also(care_offer::Entity)
            .join(JoinType::InnerJoin, offer)
            .filter(offer_status_note::Column::RegionCode.is_in(all))
            .filter(offer_status_note::Column::Status.eq(OfferStatus::Closing.as_str()))
            .filter(offer_status_note::Column::PlannedClosingDate.is_not_null())
            .filter(care_offer::Column::Status.eq(OfferStatus::Closing.as_str()))
            .all(&self.db)
            .await?;
        let rows: Vec<_> = rows.into_iter().filter_map(|(note, offer)| Some((note, offer?))).collect();
        let mut out: HashMap<String, Self::Value> = HashMap::new();
        for (key, codes) in answering {
            let mine = rows.iter().filter(|(note, _)| codes.contains(&note.region_code)).cloned();
            out.insert(key.clone(), mine.collect());
        }
        for list in out.values_mut() {
            list.sort_by(|a, b| {
                (a.0.planned_closing_date, &a.0.offer_id).cmp(&(b.0.planned_closing_date, &b.0.offer_id))
            });
        }
        Ok(out)
    }
}

/// Whose actions a list shows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ActionScope {
    /// Every action of a region (of all its overviews).
    Region(String),
    /// The actions arising from one overview.
    Overview(String),
}

/// Every action of regions or overviews, each with its overview (whose status and region decide
/// who sees the action), in id order: one statement per kind of scope. A region holds tens of
/// actions a year, so a list is paged and filtered after loading.
pub struct Actions {
    db: DatabaseConnection,
}

impl Loader<ActionScope> for Actions {
    type Value = Vec<(regional_action::Model, overview::Model)>;
    type Error = LoadError;

    async fn load(&self, keys: &[ActionScope]) -> Result<HashMap<ActionScope, Self::Value>, Self::Error> {
        let mut regions = Vec::new();
        let mut overviews = Vec::new();
        for k in keys {
            match k {
                ActionScope::Region(r) => regions.push(r.clone()),
                ActionScope::Overview(o) => overviews.push(o.clone()),
            }
        }
        let mut out: HashMap<ActionScope, Self::Value> = keys.iter().map(|k| (k.clone(), Vec::new())).collect();
        for (by_region, list) in [(true, regions), (false, overviews)] {
            if list.is_empty() {
                continue;
            }
            let of_overview = regional_action::Entity::belongs_to(overview::Entity)
                .from(regional_action::Column::OverviewId)
                .to(overview::Column::Id)
                .into();
            let column =
                if by_region { regional_action::Column::RegionCode } else { regional_action::Column::OverviewId };
            let rows = regional_action::Entity::find()
                .select_also(overview::Entity)
                .join(JoinType::InnerJoin, of_overview)
                .filter(column.is_in(list))
                .order_by_asc(regional_action::Column::Id)
                .all(&self.db)
                .await?;
            for (action, o) in rows {
                let Some(o) = o else { continue };
                let key = if by_region {
                    ActionScope::Region(action.region_code.clone())
                } else {
                    ActionScope::Overview(action.overview_id.clone())
                };
                if let Some(v) = out.get_mut(&key) {
                    v.push((action, o));
                }
            }
        }
        Ok(out)
    }
}

/// Whether action `a` is overdue on `today`: past its due date and neither done nor cancelled.
pub fn action_overdue(a: &regional_action::Model, today: NaiveDate) -> bool {
    a.due_date < today && (a.status == "OPEN" || a.status == "IN_PROGRESS")
}

/// Whether action `a` is overdue at the instant `now`: its due date is a Dutch calendar date, so
/// it has passed once the day after it has begun in the Netherlands (not in UTC).
pub fn action_overdue_at(a: &regional_action::Model, now: DateTime<Utc>) -> bool {
    action_overdue(a, ggzhub_kit::calendar::today_in_netherlands(now))
}

/// The earliest planned closing date an announcement made at `now` may name: today in the
/// Netherlands plus the region's notice period.
pub fn earliest_closing_date(now: DateTime<Utc>, notice_weeks: i32) -> NaiveDate {
    ggzhub_kit::calendar::today_in_netherlands(now) + chrono::Duration::weeks(i64::from(notice_weeks))
}

/// Whether a closure planned for `planned` may be carried out at `now`: from the start of that
/// day in the Netherlands on.
pub fn closing_date_has_come(planned: NaiveDate, now: DateTime<Utc>) -> bool {
    planned <= ggzhub_kit::calendar::today_in_netherlands(now)
}

/// A region's notice period in weeks: its agreed rule, or the default.
pub async fn notice_weeks<C: ConnectionTrait>(
    conn: &C,
    region: &str,
) -> Result<(i32, Option<region_closure_rule::Model>), DbErr> {
    let rule = region_closure_rule::Entity::find_by_id(region.to_owned()).one(conn).await?;
    Ok((rule.as_ref().map_or(DEFAULT_CLOSURE_NOTICE_WEEKS, |r| r.notice_weeks), rule))
}

/// Replaces the status notes of `offer_ids` by `notes` (two statements whatever their number).
pub async fn replace_notes<C: ConnectionTrait>(
    conn: &C,
    offer_ids: &[String],
    notes: Vec<offer_status_note::Model>,
) -> Result<(), DbErr> {
    use sea_orm::IntoActiveModel as _;
    if !offer_ids.is_empty() {
        offer_status_note::Entity::delete_many()
            .filter(offer_status_note::Column::OfferId.is_in(offer_ids.iter().cloned()))
            .exec(conn)
            .await?;
    }
    // In chunks: the demo seed at the benchmark's volume records thousands of notes at once, more
    // bind parameters than one statement may carry (65,535 on PostgreSQL).
    for chunk in notes.chunks(500) {
        offer_status_note::Entity::insert_many(chunk.iter().cloned().map(|n| n.into_active_model()))
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// Sets each offer of `changes` (id, expected version, new status) to its status with its version
/// raised by one, in one statement guarded by every expected version: the number of rows it
/// changed (fewer than `changes` when another request changed one meanwhile).
pub async fn set_statuses<C: ConnectionTrait>(
    conn: &C,
    changes: &[(String, i32, OfferStatus)],
    by: &str,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let Some(((first_id, first_version, first_status), rest)) = changes.split_first() else { return Ok(0) };
    let mut status = Expr::case(Expr::col(Alias::new("id")).eq(first_id.clone()), first_status.as_str());
    let mut version = Expr::case(Expr::col(Alias::new("id")).eq(first_id.clone()), *first_version);
    for (id, v, s) in rest {
        status = status.case(Expr::col(Alias::new("id")).eq(id.clone()), s.as_str());
        version = version.case(Expr::col(Alias::new("id")).eq(id.clone()), *v);
    }
    let update = Query::update()
        .table(Alias::new("care_offers"))
        .value(Alias::new("status"), status)
        .value(Alias::new("version"), Expr::col(Alias::new("version")).add(1))
        .value(Alias::new("updated_at"), now)
        .value(Alias::new("updated_by"), by)
        .and_where(Expr::col(Alias::new("id")).is_in(changes.iter().map(|(id, _, _)| id.clone())))
        .and_where(Expr::col(Alias::new("version")).eq(version))
        .to_owned();
    Ok(conn.execute(&update).await?.rows_affected())
}

/// Records the new state of every offer in `offers` in the offer history, as
/// [`history::offer_changed`] does for one: two statements whatever their number.
pub async fn offers_changed<C: ConnectionTrait>(conn: &C, offers: &[care_offer::Model]) -> Result<(), DbErr> {
    if offers.is_empty() {
        return Ok(());
    }
    let on = history::day(ggzhub_kit::calendar::today());
    offer_history::Entity::update_many()
        .col_expr(offer_history::Column::ValidTo, Expr::value(on.clone()))
        .filter(offer_history::Column::OfferId.is_in(offers.iter().map(|o| o.id.clone())))
        .filter(offer_history::Column::ValidTo.is_null())
        .exec(conn)
        .await?;
    offer_history::Entity::insert_many(offers.iter().map(|o| history::offer_row(o, on.clone(), None)))
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Records the `offerStatusChanges` events of a batch (offer, previous status) whose status
/// changed, as [`crate::events::record_offer_status`] does for one: one statement.
pub async fn record_status_events<C: ConnectionTrait>(
    conn: &C,
    changed: &[(&care_offer::Model, String)],
    occurred_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let changed: Vec<_> = changed.iter().filter(|(o, previous)| o.status != *previous).collect();
    if changed.is_empty() {
        return Ok(());
    }
    let mut insert = Query::insert();
    insert
        .into_table(Alias::new("outbox"))
        .columns(["field", "scope", "audience", "payload", "occurred_at"].map(Alias::new));
    for (offer, previous) in changed {
        let scope = BTreeMap::from([("region".to_owned(), offer.region_code.clone())]);
        let payload = serde_json::json!({"offerId": offer.id, "previousStatus": previous, "status": offer.status});
        insert.values_panic([
            crate::events::OFFER_STATUS_CHANGES.into(),
            serde_json::to_string(&scope).unwrap_or_default().into(),
            Option::<String>::None.into(),
            payload.to_string().into(),
            occurred_at.into(),
        ]);
    }
    conn.execute(&insert).await.map(|_| ())
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

    fn action(due: NaiveDate, status: &str) -> regional_action::Model {
        let t = at("2026-11-01T10:00:00Z");
        regional_action::Model {
            id: "a-1".into(),
            region_code: "utrecht".into(),
            overview_id: "ov-1".into(),
            title: "t".into(),
            description: "d".into(),
            owner_id: "o".into(),
            due_date: due,
            status: status.into(),
            version: 1,
            created_at: t,
            updated_at: t,
            created_by: "o".into(),
            updated_by: "o".into(),
        }
    }

    #[test]
    fn the_notice_period_counts_from_the_dutch_date() {
        // 23:30 UTC on New Year's Eve is already 1 January 2027 in the Netherlands: 4 weeks on
        // is 29 January, not the 28th that the UTC date would give.
        let now = at("2026-12-31T23:30:00Z");
        assert_eq!(earliest_closing_date(now, 4), date(2027, 1, 29));
        assert_eq!(earliest_closing_date(at("2026-12-31T22:59:00Z"), 4), date(2027, 1, 28));
        // Summer time: 22:15 UTC on 30 June is 1 July.
        assert_eq!(earliest_closing_date(at("2026-06-30T22:15:00Z"), 13), date(2026, 9, 30));
        assert_eq!(earliest_closing_date(at("2026-06-30T21:45:00Z"), 13), date(2026, 9, 29));
    }

    #[test]
    fn a_closure_is_due_from_dutch_midnight_of_its_planned_date() {
        let planned = date(2027, 1, 1);
        assert!(!closing_date_has_come(planned, at("2026-12-31T22:59:00Z")));
        assert!(closing_date_has_come(planned, at("2026-12-31T23:00:00Z")));
        // On the day summer time starts (29 March 2026), Dutch midnight was 23:00 UTC the day before.
        assert!(closing_date_has_come(date(2026, 3, 29), at("2026-03-28T23:00:00Z")));
        assert!(!closing_date_has_come(date(2026, 3, 30), at("2026-03-29T21:59:00Z")));
        assert!(closing_date_has_come(date(2026, 3, 30), at("2026-03-29T22:00:00Z")));
    }

    #[test]
    fn an_action_is_overdue_once_the_dutch_day_after_its_due_date_has_begun() {
        let open = action(date(2026, 10, 25), "OPEN");
        // Summer time ends on 25 October 2026 at 01:00 UTC: Dutch midnight of the 26th is 23:00 UTC.
        assert!(!action_overdue_at(&open, at("2026-10-25T22:30:00Z")));
        assert!(action_overdue_at(&open, at("2026-10-25T23:00:00Z")));
        assert!(!action_overdue_at(&action(date(2026, 10, 25), "DONE"), at("2026-10-27T12:00:00Z")));
        let new_year = action(date(2026, 12, 31), "IN_PROGRESS");
        assert!(action_overdue_at(&new_year, at("2026-12-31T23:30:00Z")));
        assert!(!action_overdue_at(&new_year, at("2026-12-31T22:30:00Z")));
    }
}
