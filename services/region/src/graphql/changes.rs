//! Incremental sync (issue 22): offers, waiting-time reports, continuity signals and regional
//! overviews changed since a cursor, in commit order (`ggzhub_kit::changes`), each record once per
//! page with its state now, only what the caller may read. A closed offer comes as a tombstone
//! with its final state; a deleted record as a tombstone without one.
//!
//! Protocol: take `changeFeedPosition`, read everything with the list queries, then ask
//! `…Changes(since:)` with the position and afterwards with each answer's `next`, also when it
//! brought nothing. `hasMore` says more changes are ready now.

use std::collections::{BTreeSet, HashMap};

use async_graphql::{Context, ID, Object, OutputType, Result, SimpleObject};
use ggzhub_kit::changes::{self, Cursor};
use ggzhub_kit::{ApiError, GqlResultExt as _};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::types::*;
use crate::access;
use crate::domain::OfferStatus;
use crate::entity::{care_offer, overview, signal, waiting_time};

/// Changes read per page unless `first` says otherwise, and at most.
const DEFAULT_PAGE: i32 = 100;
const MAX_PAGE: i32 = 500;

/// One changed record.
#[derive(SimpleObject)]
#[graphql(
    concrete(name = "CareOfferChange", params(CareOffer)),
    concrete(name = "WaitingTimeReportChange", params(WaitingTimeReport)),
    concrete(name = "ContinuitySignalChange", params(ContinuitySignal)),
    concrete(name = "RegionalOverviewChange", params(RegionalOverview))
)]
pub struct Change<T: OutputType> {
    /// The record's id.
    #[graphql(tag = "public")]
    pub id: ID,
    /// The record is gone (deleted: `node` is null) or closed (a closed care offer: `node` holds
    /// its final state). Remove it from your copy.
    #[graphql(tag = "public")]
    pub tombstone: bool,
    /// The record as it is now.
    #[graphql(tag = "public")]
    pub node: Option<T>,
    /// This change's place in the feed.
    #[graphql(tag = "public")]
    pub cursor: String,
}

/// The changes of each synced type.
pub type CareOfferChange = Change<CareOffer>;
pub type WaitingTimeReportChange = Change<WaitingTimeReport>;
pub type ContinuitySignalChange = Change<ContinuitySignal>;
pub type RegionalOverviewChange = Change<RegionalOverview>;

/// A page of the change feed.
#[derive(SimpleObject)]
#[graphql(
    concrete(name = "CareOfferChanges", params(CareOfferChange)),
    concrete(name = "WaitingTimeReportChanges", params(WaitingTimeReportChange)),
    concrete(name = "ContinuitySignalChanges", params(ContinuitySignalChange)),
    concrete(name = "RegionalOverviewChanges", params(RegionalOverviewChange))
)]
pub struct Changes<C: OutputType> {
    /// The changed records, in the order of their last change in this page, each once.
    #[graphql(tag = "public")]
    pub changes: Vec<C>,
    /// Pass as `since` next time, also when `changes` is empty: the changes read are behind it
    /// (including those of records you may not read).
    #[graphql(tag = "public")]
    pub next: String,
    /// More changes are ready now: ask again at once with `next`.
    #[graphql(tag = "public")]
    pub has_more: bool,
}

/// Queries of the change feed.
#[derive(Default)]
pub struct ChangesQuery;

fn db<'a>(ctx: &'a Context<'_>) -> Result<&'a DatabaseConnection> {
    ctx.data::<DatabaseConnection>()
}

/// The changes of `entity` after `since` (at most `first`), each record once at its last change.
async fn read(
    ctx: &Context<'_>,
    entity: &str,
    since: &str,
    first: Option<i32>,
) -> Result<(Vec<changes::Change>, Cursor, bool)> {
    let after = Cursor::decode(since).map_err(ApiError::bad_input).gql()?;
    let first = first.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&first) {
        return Err(ApiError::bad_input(format!("first must be between 1 and {MAX_PAGE}, not {first}"))).gql();
    }
    let read = changes::since(db(ctx)?, entity, after, first as u64).await.map_err(ApiError::from).gql()?;
    let has_more = read.len() == first as usize;
    let next = read.last().map_or(after, |c| c.cursor);
    // Each record once, where it last changed.
    let mut last: HashMap<&str, usize> = HashMap::new();
    for (i, change) in read.iter().enumerate() {
        last.insert(change.entity_id.as_str(), i);
    }
    let keep: BTreeSet<usize> = last.into_values().collect();
    let once = read.iter().enumerate().filter(|(i, _)| keep.contains(i)).map(|(_, c)| c.clone()).collect();
    Ok((once, next, has_more))
}

/// The page: each change with its record as `present` shows it (`None`: not for this caller,
/// left out), a tombstone when deleted or `closed`.
fn page<M, T: OutputType>(
    read: Vec<changes::Change>,
    next: Cursor,
    has_more: bool,
    mut found: HashMap<String, M>,
    closed: impl Fn(&M) -> bool,
    present: impl Fn(M) -> Option<T>,
) -> (Vec<Change<T>>, String, bool) {
    let mut out = Vec::with_capacity(read.len());
    for change in read {
        let id = ID(change.entity_id.clone());
        let cursor = change.cursor.encode();
        match found.remove(&change.entity_id) {
            Some(model) if !change.removed => {
                let tombstone = closed(&model);
                if let Some(node) = present(model) {
                    out.push(Change { id, tombstone, node: Some(node), cursor });
                }
            }
            // Deleted, or gone since (the feed never held it back): a tombstone without state.
            // Only the ids of records the caller could list reach here (see the callers).
            _ => out.push(Change { id, tombstone: true, node: None, cursor }),
        }
    }
    (out, next.encode(), has_more)
}

fn changes_of<T: OutputType>((changes, next, has_more): (Vec<Change<T>>, String, bool)) -> Changes<Change<T>>
where
    Change<T>: OutputType,
{
    Changes { changes, next, has_more }
}

fn ids(read: &[changes::Change]) -> Vec<String> {
    read.iter().map(|c| c.entity_id.clone()).collect()
}

#[Object]
impl ChangesQuery {
    /// The change feed's position now. Take it before reading everything with the list queries,
    /// then ask for changes `since` it: nothing committed after it is missed.
    #[graphql(tag = "public")]
    async fn change_feed_position(&self, ctx: &Context<'_>) -> Result<String> {
        access::read(caller(ctx)?).gql()?;
        Ok(changes::position(db(ctx)?).await.map_err(ApiError::from).gql()?.encode())
    }

    /// Care offers created, changed or closed since `since` (a cursor from `changeFeedPosition`
    /// or a previous page's `next`), at most `first` (1–500, default 100) changes per page.
    #[graphql(tag = "public")]
    async fn care_offer_changes(
        &self,
        ctx: &Context<'_>,
        since: String,
        first: Option<i32>,
    ) -> Result<Changes<Change<CareOffer>>> {
        access::read(caller(ctx)?).gql()?;
        let (read, next, has_more) = read(ctx, "CareOffer", &since, first).await?;
        let found = care_offer::Entity::find()
            .filter(care_offer::Column::Id.is_in(ids(&read)))
            .all(db(ctx)?)
            .await
            .map_err(ApiError::from)
            .gql()?;
        let found = found.into_iter().map(|m| (m.id.clone(), m)).collect();
        Ok(changes_of(page(
            read,
            next,
            has_more,
            found,
            |m| m.status == OfferStatus::Closed.as_str(),
            |m| Some(CareOffer::new(m)),
        )))
    }

    /// Waiting-time reports made or corrected since `since` (see `careOfferChanges`).
    #[graphql(tag = "public")]
    async fn waiting_time_report_changes(
        &self,
        ctx: &Context<'_>,
        since: String,
        first: Option<i32>,
    ) -> Result<Changes<Change<WaitingTimeReport>>> {
        access::read_waiting_times(caller(ctx)?).gql()?;
        let (read, next, has_more) = read(ctx, "WaitingTimeReport", &since, first).await?;
        let found = waiting_time::Entity::find()
            .filter(waiting_time::Column::Id.is_in(ids(&read)))
            .all(db(ctx)?)
            .await
            .map_err(ApiError::from)
            .gql()?;
        let found = found.into_iter().map(|m| (m.id.clone(), m)).collect();
        Ok(changes_of(page(read, next, has_more, found, |_| false, |m| Some(WaitingTimeReport::from(m)))))
    }

    /// Regional overviews created, changed or published since `since` (see `careOfferChanges`):
    /// drafts only for the region's table, as `regionalOverview` shows them.
    #[graphql(tag = "public")]
    async fn regional_overview_changes(
        &self,
        ctx: &Context<'_>,
        since: String,
        first: Option<i32>,
    ) -> Result<Changes<Change<RegionalOverview>>> {
        let c = caller(ctx)?;
        access::read_overviews(c).gql()?;
        let (read, next, has_more) = read(ctx, "RegionalOverview", &since, first).await?;
        let found = overview::Entity::find()
            .filter(overview::Column::Id.is_in(ids(&read)))
            .all(db(ctx)?)
            .await
            .map_err(ApiError::from)
            .gql()?;
        // A draft the caller may not read is left out, as if it did not exist (overviews are
        // never deleted, so no tombstone names one either).
        let found = found.into_iter().map(|m| (m.id.clone(), m)).collect();
        let read = keep_existing(read, &found);
        Ok(changes_of(page(
            read,
            next,
            has_more,
            found,
            |_| false,
            |m| access::overview_visible(c, &m).then_some(RegionalOverview(m.into())),
        )))
    }

    /// Continuity signals raised, acknowledged, resolved, escalated or made overdue since
    /// `since` (see `careOfferChanges`): only those `continuitySignals` lists for the caller.
    async fn continuity_signal_changes(
        &self,
        ctx: &Context<'_>,
        since: String,
        first: Option<i32>,
    ) -> Result<Changes<Change<ContinuitySignal>>> {
        let c = caller(ctx)?;
        access::read(c).gql()?;
        let (visible, contracted) = super::query::visible_signals(ctx, c).await?;
        let (read, next, has_more) = read(ctx, "ContinuitySignal", &since, first).await?;
        let db = db(ctx)?;
        let found = signal::Entity::find()
            .filter(signal::Column::Id.is_in(ids(&read)))
            .filter(visible)
            .all(db)
            .await
            .map_err(ApiError::from)
            .gql()?;
        let codes: Vec<String> = found.iter().map(|m| m.region_code.clone()).collect();
        let regions = loaders(ctx)?.regions.load_many(codes).await.map_err(load_err)?;
        let found: HashMap<String, signal::Model> = found.into_iter().map(|m| (m.id.clone(), m)).collect();
        // Signals are never deleted: one not found is one this caller may not list.
        let read = keep_existing(read, &found);
        Ok(changes_of(page(
            read,
            next,
            has_more,
            found,
            |_| false,
            |m| {
                let coordinating = regions.get(&m.region_code).and_then(|r| r.coordinating_insurer_id.as_deref());
                let full = access::can_see_signal(c, &m, coordinating, contracted.contains(&m.offer_id));
                Some(ContinuitySignal { model: m, full })
            },
        )))
    }
}

/// The changes whose record was found (for entities that are never deleted: a record not found
/// is one the caller may not read).
fn keep_existing<M>(read: Vec<changes::Change>, found: &HashMap<String, M>) -> Vec<changes::Change> {
    read.into_iter().filter(|c| found.contains_key(&c.entity_id)).collect()
}
