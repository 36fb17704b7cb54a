//! Closing a crucial offer as a process (issue 21 item 3): a region's notice period, announcing a
//! closure (status `CLOSING`, a planned date, a continuity signal of kind `CLOSURE`), withdrawing
//! it, and the causes recorded with `UNDER_PRESSURE` and `CLOSING`; and status updates of many
//! offers at once (issue 22 item 4). `closeCareOffer` (in `offers`) closes only an announced
//! closure whose date has come ([`closure_due`]).

use std::collections::{HashMap, HashSet};

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{Duration, NaiveDate, SubsecRound as _, Utc};
use ggzhub_kit::error::{ItemRefusal, items_refused};
use ggzhub_kit::token::scopes;
use ggzhub_kit::validate::{self as v, MAX_SHORT_TEXT};
use ggzhub_kit::write::{audit, audit_many, begin, check_version, new_id, update_guarded};
use ggzhub_kit::{ApiError, ApiResult, Caller, GqlResultExt as _, OrgKind};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::json;

use super::common::{committed, contractors_of_offer, load_offer, plausible_date};
use super::offers::commit_offer_change;
use crate::access;
use crate::closing::{self as store, MAX_CLOSURE_NOTICE_WEEKS, MAX_STATUS_UPDATES_PER_CALL};
use crate::domain::*;
use crate::entity::{care_offer, offer_status_note, region, region_closure_rule, signal};
use crate::events::{self, SignalEventKind};
use crate::graphql::closing::ClosureRules;
use crate::graphql::types::*;
use crate::history;

/// Why an offer's status changes to `UNDER_PRESSURE` or `CLOSING`.
#[derive(InputObject, Clone)]
pub struct StatusCauseInput {
    /// What causes it (the kinds of continuity signals).
    pub kind: SignalKind,
    /// Short explanation (no personal data, ≤ 500 characters).
    pub text: String,
}

/// One item of `updateOfferStatuses`.
#[derive(InputObject)]
pub struct OfferStatusUpdate {
    /// One of the caller's own care offers.
    pub id: ID,
    /// The version the caller read (stale → the item is refused with `CONFLICT`).
    pub expected_version: i32,
    /// `SECURED` or `UNDER_PRESSURE` (closing goes through `announceOfferClosure`).
    pub status: OfferStatus,
    /// Why: required with `UNDER_PRESSURE`, not given with `SECURED`.
    pub cause: Option<StatusCauseInput>,
}

/// A cause checked: kind and text as stored.
fn cause(field: &str, input: &StatusCauseInput) -> ApiResult<(String, String)> {
    let text = v::text(&format!("{field}.text"), &input.text, MAX_SHORT_TEXT)?;
    Ok((input.kind.as_str().to_owned(), text))
}

fn note(
    offer: &care_offer::Model,
    status: OfferStatus,
    cause: Option<(String, String)>,
    by: &Caller,
) -> offer_status_note::Model {
    let (cause_kind, cause_text) = cause.map_or((None, None), |(k, t)| (Some(k), Some(t)));
    offer_status_note::Model {
        offer_id: offer.id.clone(),
        region_code: offer.region_code.clone(),
        status: status.as_str().to_owned(),
        cause_kind,
        cause_text,
        planned_closing_date: None,
        announced_at: None,
        closure_signal_id: None,
        recorded_at: Utc::now().trunc_subsecs(6),
        recorded_by: by.org.to_string(),
    }
}

/// Checks the cause `updateCareOffer` was given (before its transaction).
pub(super) fn check_update_cause(input: Option<&StatusCauseInput>) -> ApiResult<Option<(String, String)>> {
    input.map(|c| cause("statusCause", c)).transpose()
}

/// What `updateCareOffer` records besides the offer: with a new status `UNDER_PRESSURE` or
/// `CLOSING` its cause (optional there: recorded as not given), with `SECURED` no cause; a cause
/// alone replaces that of the current status. An announced closure changes only through
/// `withdrawOfferClosure`.
pub(super) async fn note_status_change<C: ConnectionTrait>(
    conn: &C,
    c: &Caller,
    current: &care_offer::Model,
    status: Option<OfferStatus>,
    cause: Option<(String, String)>,
) -> ApiResult<()> {
    let existing = offer_status_note::Entity::find_by_id(current.id.clone()).one(conn).await?;
    let announced = existing.as_ref().is_some_and(|n| n.planned_closing_date.is_some() && n.status == current.status);
    let changed = status.filter(|s| s.as_str() != current.status);
    if announced && changed.is_some() {
        return Err(ApiError::bad_input(format!(
            "the closure of care offer {} is announced: use withdrawOfferClosure to give it another status",
            current.id
        )));
    }
    let now_status = changed.or_else(|| OfferStatus::parse(&current.status)).unwrap_or(OfferStatus::Secured);
    if now_status != OfferStatus::UnderPressure && now_status != OfferStatus::Closing {
        if cause.is_some() {
            return Err(ApiError::bad_input(format!(
                "statusCause is recorded with UNDER_PRESSURE or CLOSING, not {}",
                now_status.as_str()
            )));
        }
        if changed.is_some() {
            store::replace_notes(conn, std::slice::from_ref(&current.id), Vec::new()).await?;
        }
        return Ok(());
    }
    if changed.is_none() && cause.is_none() {
        return Ok(());
    }
    let mut new = note(current, now_status, cause, c);
    if changed.is_none()
        && let Some(old) = existing.filter(|n| n.status == current.status)
    {
        // A new cause for the same status keeps the announcement.
        new.planned_closing_date = old.planned_closing_date;
        new.announced_at = old.announced_at;
        new.closure_signal_id = old.closure_signal_id;
    }
    store::replace_notes(conn, std::slice::from_ref(&current.id), vec![new]).await?;
    Ok(())
}

/// `closeCareOffer` closes only an offer whose closure was announced and whose planned date has
/// come: `BAD_USER_INPUT` naming the planned date otherwise.
pub(super) async fn closure_due<C: ConnectionTrait>(
    conn: &C,
    offer: &care_offer::Model,
    now: chrono::DateTime<Utc>,
) -> ApiResult<()> {
    let planned = offer_status_note::Entity::find_by_id(offer.id.clone())
        .one(conn)
        .await?
        .filter(|n| n.status == OfferStatus::Closing.as_str() && offer.status == OfferStatus::Closing.as_str())
        .and_then(|n| n.planned_closing_date);
    let today = ggzhub_kit::calendar::today_in_netherlands(now);
    match planned {
        None => Err(ApiError::failed_precondition(format!(
            "care offer {} has no announced closure: announce it with announceOfferClosure (the region's notice period applies), then close it on its planned date",
            offer.id
        ))),
        Some(d) if !store::closing_date_has_come(d, now) => Err(ApiError::failed_precondition(format!(
            "care offer {} is announced to close on {d}: it can be closed from that date, not before (today is {today} in the Netherlands)",
            offer.id
        ))),
        Some(_) => Ok(()),
    }
}

/// Mutations of the closing process and of offers' status in bulk.
#[derive(Default)]
pub struct ClosingMutation;

#[Object]
impl ClosingMutation {
    /// Sets the region's notice period for closing crucial offers (0–104 weeks; the default while
    /// none is set is 13): the region's chair. `expectedVersion` is `ClosureRules.version` (0
    /// while the default applies).
    async fn set_closure_notice_weeks(
        &self,
        ctx: &Context<'_>,
        region_code: ID,
        weeks: i32,
        expected_version: i32,
    ) -> Result<ClosureRules> {
        let c = caller(ctx)?;
        async {
            v::region_code("regionCode", &region_code)?;
            access::set_closure_rules(c, &region_code)?;
            if !(0..=MAX_CLOSURE_NOTICE_WEEKS).contains(&weeks) {
                return Err(ApiError::bad_input(format!(
                    "weeks must be between 0 and {MAX_CLOSURE_NOTICE_WEEKS}, got {weeks}"
                )));
            }
            let txn = begin(ctx).await?;
            if region::Entity::find_by_id(region_code.to_string()).one(&txn).await?.is_none() {
                return Err(ApiError::not_found(format!("no region with code {}", region_code.as_str())));
            }
            let (_, rule) = store::notice_weeks(&txn, &region_code).await?;
            let now = Utc::now();
            match &rule {
                None => {
                    check_version("closure rules of region", &region_code, 0, expected_version)?;
                    region_closure_rule::ActiveModel {
                        region_code: Set(region_code.to_string()),
                        notice_weeks: Set(weeks),
                        version: Set(1),
                        created_at: Set(now),
                        updated_at: Set(now),
                        created_by: Set(c.org.to_string()),
                        updated_by: Set(c.org.to_string()),
                    }
                    .insert(&txn)
                    .await
                    .map_err(|e| {
                        ggzhub_kit::write::lost_race(e, || {
                            ApiError::conflict("the closure rules were set concurrently: reload them and try again")
                        })
                    })?;
                }
                Some(r) => {
                    check_version("closure rules of region", &region_code, r.version, expected_version)?;
                    let active = region_closure_rule::ActiveModel {
                        notice_weeks: Set(weeks),
                        version: Set(expected_version + 1),
                        updated_at: Set(now),
                        updated_by: Set(c.org.to_string()),
                        ..Default::default()
                    };
                    update_guarded(
                        &txn,
                        active,
                        region_closure_rule::Column::RegionCode,
                        &region_code,
                        region_closure_rule::Column::Version,
                        expected_version,
                    )
                    .await?;
                }
            }
            audit(&txn, c, "RegionClosureRules", &region_code, "set_notice_weeks", json!({"noticeWeeks": weeks}))
                .await?;
            let (_, stored) = store::notice_weeks(&txn, &region_code).await?;
            txn.commit().await?;
            Ok(ClosureRules::of(&region_code, stored))
        }
        .await
        .gql()
    }

    /// Announces the closure of one of the caller's own crucial offers: status `CLOSING` with a
    /// planned date at least the region's notice period (`Region.closureRules`) from today, and
    /// its cause. In the same transaction a continuity signal of kind `CLOSURE` (severity `HIGH`)
    /// is raised on the offer, as `raiseContinuitySignal` would, so the region's coordinating
    /// insurer must acknowledge it and the regional table sees the closure
    /// (`Region.announcedClosures`). Close it with `closeCareOffer` from the planned date on, or
    /// withdraw it with `withdrawOfferClosure`. A closed offer, or one whose closure is already
    /// announced, gets `FAILED_PRECONDITION`; a date within the notice period `BAD_USER_INPUT`.
    async fn announce_offer_closure(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        planned_date: NaiveDate,
        cause: StatusCauseInput,
    ) -> Result<CareOffer> {
        let c = caller(ctx)?;
        async {
            let (kind, text) = self::cause("cause", &cause)?;
            plausible_date("plannedDate", planned_date)?;
            let contractors = contractors_of_offer(ctx, &id).await?;
            let txn = begin(ctx).await?;
            let current = load_offer(&txn, &id).await?;
            access::write_own_offer(c, &current.provider_id)?;
            check_version("care offer", &current.id, current.version, expected_version)?;
            if current.status == OfferStatus::Closed.as_str() {
                return Err(ApiError::failed_precondition(format!("care offer {} is already closed", current.id)));
            }
            let existing = offer_status_note::Entity::find_by_id(current.id.clone()).one(&txn).await?;
            if let Some(d) = existing
                .as_ref()
                .filter(|n| n.status == current.status && current.status == OfferStatus::Closing.as_str())
                .and_then(|n| n.planned_closing_date)
            {
                return Err(ApiError::failed_precondition(format!(
                    "the closure of care offer {} is already announced for {d}: withdraw it first to announce another date",
                    current.id
                )));
            }
            let (weeks, _) = store::notice_weeks(&txn, &current.region_code).await?;
            let now = Utc::now();
            let earliest = store::earliest_closing_date(clock(ctx).now(), weeks);
            if planned_date < earliest {
                return Err(ApiError::bad_input(format!(
                    "plannedDate {planned_date} is too soon: region {} agreed a notice period of {weeks} weeks, so the earliest closing date is {earliest}",
                    current.region_code
                )));
            }
            let active = care_offer::ActiveModel {
                status: Set(OfferStatus::Closing.as_str().to_owned()),
                version: Set(expected_version + 1),
                updated_at: Set(now),
                updated_by: Set(c.org.to_string()),
                ..Default::default()
            };
            update_guarded(&txn, active, care_offer::Column::Id, &current.id, care_offer::Column::Version, expected_version)
                .await?;
            let raised = signal::ActiveModel {
                id: Set(new_id()),
                offer_id: Set(current.id.clone()),
                provider_id: Set(current.provider_id.clone()),
                region_code: Set(current.region_code.clone()),
                kind: Set(SignalKind::Closure.as_str().to_owned()),
                severity: Set(Severity::High.as_str().to_owned()),
                // Only the date and the kind: the cause's text is read where capacity is (the region's
                // participants), while the signal also reaches insurers contracting the offer.
                description: Set(format!("Closure announced for {planned_date} ({kind}); the cause is on the offer")),
                expected_date: Set(Some(planned_date)),
                status: Set(SignalStatus::Open.as_str().to_owned()),
                raised_at: Set(now),
                acknowledgement_deadline: Set(now + Duration::days(super::ACKNOWLEDGEMENT_DAYS)),
                acknowledged_at: Set(None),
                acknowledged_by: Set(None),
                response: Set(None),
                overdue_emitted_at: Set(None),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                created_by: Set(c.org.to_string()),
                updated_by: Set(c.org.to_string()),
            }
            .insert(&txn)
            .await?;
            history::signal_event(&txn, &raised, &c.org.to_string()).await?;
            audit(
                &txn,
                c,
                "ContinuitySignal",
                &raised.id,
                "raise",
                json!({"offerId": raised.offer_id, "kind": raised.kind, "severity": raised.severity, "announcedClosure": true}),
            )
            .await?;
            events::record_signal(&txn, SignalEventKind::Raised, &raised, &contractors, now).await?;
            let mut n = note(&current, OfferStatus::Closing, Some((kind.clone(), text)), c);
            n.planned_closing_date = Some(planned_date);
            n.announced_at = Some(n.recorded_at);
            n.closure_signal_id = Some(raised.id.clone());
            store::replace_notes(&txn, std::slice::from_ref(&current.id), vec![n]).await?;
            audit(
                &txn,
                c,
                "CareOffer",
                &current.id,
                "announce_closure",
                json!({"status": "CLOSING", "plannedDate": planned_date, "causeKind": kind, "signalId": raised.id}),
            )
            .await?;
            commit_offer_change(ctx, txn, &current, &id).await
        }
        .await
        .gql()
    }

    /// Withdraws the announced closure of one of the caller's own offers: back to `status`
    /// (`SECURED`, or `UNDER_PRESSURE` with its `cause`); the closure's continuity signal is
    /// resolved if it is still open or acknowledged. An offer that is not `CLOSING` has no closure
    /// to withdraw: `FAILED_PRECONDITION`.
    async fn withdraw_offer_closure(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        status: OfferStatus,
        cause: Option<StatusCauseInput>,
    ) -> Result<CareOffer> {
        let c = caller(ctx)?;
        async {
            let cause = match (status, &cause) {
                (OfferStatus::UnderPressure, Some(given)) => Some(self::cause("cause", given)?),
                (OfferStatus::UnderPressure, None) => {
                    return Err(ApiError::bad_input("cause is required when the offer goes back to UNDER_PRESSURE"));
                }
                (OfferStatus::Secured, None) => None,
                (OfferStatus::Secured, Some(_)) => {
                    return Err(ApiError::bad_input("cause is given only with UNDER_PRESSURE, not SECURED"));
                }
                (other, _) => {
                    return Err(ApiError::bad_input(format!(
                        "status must be SECURED or UNDER_PRESSURE when a closure is withdrawn, not {}",
                        other.as_str()
                    )));
                }
            };
            let contractors = contractors_of_offer(ctx, &id).await?;
            let txn = begin(ctx).await?;
            let current = load_offer(&txn, &id).await?;
            access::write_own_offer(c, &current.provider_id)?;
            check_version("care offer", &current.id, current.version, expected_version)?;
            if current.status != OfferStatus::Closing.as_str() {
                return Err(ApiError::failed_precondition(format!(
                    "care offer {} is {}, not CLOSING: there is no closure to withdraw",
                    current.id, current.status
                )));
            }
            let existing = offer_status_note::Entity::find_by_id(current.id.clone()).one(&txn).await?;
            let now = Utc::now();
            let active = care_offer::ActiveModel {
                status: Set(status.as_str().to_owned()),
                version: Set(expected_version + 1),
                updated_at: Set(now),
                updated_by: Set(c.org.to_string()),
                ..Default::default()
            };
            update_guarded(
                &txn,
                active,
                care_offer::Column::Id,
                &current.id,
                care_offer::Column::Version,
                expected_version,
            )
            .await?;
            let notes =
                if status == OfferStatus::UnderPressure { vec![note(&current, status, cause, c)] } else { vec![] };
            store::replace_notes(&txn, std::slice::from_ref(&current.id), notes).await?;
            if let Some(sid) = existing.and_then(|n| n.closure_signal_id) {
                resolve_closure_signal(&txn, c, &sid, &contractors).await?;
            }
            audit(&txn, c, "CareOffer", &current.id, "withdraw_closure", json!({"status": status.as_str()})).await?;
            commit_offer_change(ctx, txn, &current, &id).await
        }
        .await
        .gql()
    }

    /// Sets the status of many of the caller's own offers at once (1 to 500 per call): `SECURED`,
    /// or `UNDER_PRESSURE` with its cause; `CLOSING` and `CLOSED` are refused per item (closing is
    /// a process: `announceOfferClosure`, `closeCareOffer`), as are offers that are closing or
    /// closed. Each item is checked as `updateCareOffer` would check it, and no offer may appear
    /// twice. All or nothing: when any item is refused none is stored, and the one error lists
    /// every refused item in `extensions.items` as `{index, field, code, reason}` (as
    /// `reportWaitingTimes` does). Each change is audited and emits its `offerStatusChanges`
    /// event, as a single change does. Returns the offers in the order given.
    async fn update_offer_statuses(&self, ctx: &Context<'_>, items: Vec<OfferStatusUpdate>) -> Result<Vec<CareOffer>> {
        let c = caller(ctx)?;
        c.require_kind(&[OrgKind::Provider], "change care offers").gql()?;
        c.require_scope(scopes::OFFERS_WRITE).gql()?;
        if items.is_empty() || items.len() > MAX_STATUS_UPDATES_PER_CALL {
            return Err(ApiError::bad_input(format!(
                "updateOfferStatuses takes 1 to {MAX_STATUS_UPDATES_PER_CALL} items per call, got {}: split larger batches",
                items.len()
            )))
            .gql();
        }
        match bulk(ctx, c, &items).await {
            Ok(offers) => Ok(offers.into_iter().map(CareOffer::new).collect()),
            Err(Bulk::Call(e)) => Err(e).gql(),
            Err(Bulk::Items(refused)) => Err(items_refused("offer status updates", items.len(), &refused)),
        }
    }
}

/// Resolves the closure's signal `id` (when open or acknowledged), with its audit entry, history
/// row and event (addressed with `contractors` of its offer, learned before the transaction).
async fn resolve_closure_signal<C: ConnectionTrait>(
    conn: &C,
    c: &Caller,
    id: &str,
    contractors: &events::Contractors,
) -> ApiResult<()> {
    let Some(s) = signal::Entity::find_by_id(id.to_owned()).one(conn).await? else { return Ok(()) };
    if s.status != SignalStatus::Open.as_str() && s.status != SignalStatus::Acknowledged.as_str() {
        return Ok(());
    }
    let now = Utc::now();
    let res = signal::Entity::update_many()
        .col_expr(signal::Column::Status, sea_orm::sea_query::Expr::value(SignalStatus::Resolved.as_str()))
        .col_expr(signal::Column::Version, sea_orm::sea_query::Expr::value(s.version + 1))
        .col_expr(signal::Column::UpdatedAt, sea_orm::sea_query::Expr::value(now))
        .col_expr(signal::Column::UpdatedBy, sea_orm::sea_query::Expr::value(c.org.to_string()))
        .filter(signal::Column::Id.eq(s.id.clone()))
        .filter(signal::Column::Version.eq(s.version))
        .exec(conn)
        .await?;
    if res.rows_affected == 0 {
        return Err(ApiError::conflict(format!("continuity signal {id} was changed concurrently: try again")));
    }
    let model = signal::Entity::find_by_id(id.to_owned()).one(conn).await?.ok_or_else(|| ApiError::not_found(id))?;
    history::signal_event(conn, &model, &c.org.to_string()).await?;
    audit(
        conn,
        c,
        "ContinuitySignal",
        id,
        "resolved",
        json!({"from": s.status, "to": "RESOLVED", "closureWithdrawn": true}),
    )
    .await?;
    events::record_signal(conn, SignalEventKind::Resolved, &model, contractors, now).await?;
    Ok(())
}

enum Bulk {
    Call(ApiError),
    Items(Vec<ItemRefusal>),
}

impl From<ApiError> for Bulk {
    fn from(e: ApiError) -> Self {
        Self::Call(e)
    }
}

impl From<sea_orm::DbErr> for Bulk {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Call(e.into())
    }
}

/// An item that passed the checks needing no database.
struct Checked {
    id: String,
    expected_version: i32,
    status: OfferStatus,
    cause: Option<(String, String)>,
}

fn check_item(item: &OfferStatusUpdate) -> Result<Checked, (Option<&'static str>, ApiError)> {
    let id = v::id("id", &item.id).map_err(|e| (Some("id"), e))?;
    let cause = match (item.status, &item.cause) {
        (OfferStatus::Closing, _) => {
            return Err((
                Some("status"),
                ApiError::bad_input(
                    "CLOSING is set by announceOfferClosure, with a planned date and the region's notice period",
                ),
            ));
        }
        (OfferStatus::Closed, _) => {
            return Err((
                Some("status"),
                ApiError::bad_input("CLOSED is set by closeCareOffer once an announced closure's date has come"),
            ));
        }
        (OfferStatus::UnderPressure, None) => {
            return Err((Some("cause"), ApiError::bad_input("cause is required with UNDER_PRESSURE")));
        }
        (OfferStatus::UnderPressure, Some(given)) => Some(cause("cause", given).map_err(|e| (Some("cause"), e))?),
        (OfferStatus::Secured, Some(_)) => {
            return Err((Some("cause"), ApiError::bad_input("cause is given only with UNDER_PRESSURE, not SECURED")));
        }
        (OfferStatus::Secured, None) => None,
        // Statuses added later (e.g. for planned offers) are not set here either.
        #[allow(unreachable_patterns)]
        (other, _) => {
            return Err((
                Some("status"),
                ApiError::bad_input(format!(
                    "{} is not set by updateOfferStatuses: only SECURED and UNDER_PRESSURE are",
                    other.as_str()
                )),
            ));
        }
    };
    Ok(Checked { id, expected_version: item.expected_version, status: item.status, cause })
}

/// Checks and stores the items, all or none, in one transaction with a constant number of
/// statements: one lookup of the offers, one guarded update, one reload, two for the history,
/// two for the causes, one for the events and two for the audit entries (and change log).
async fn bulk(ctx: &Context<'_>, c: &Caller, items: &[OfferStatusUpdate]) -> Result<Vec<care_offer::Model>, Bulk> {
    let mut refused: Vec<ItemRefusal> = Vec::new();
    let mut checked: Vec<(usize, Checked)> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (index, item) in items.iter().enumerate() {
        match check_item(item) {
            Ok(ok) => {
                if let Some(first) = seen.get(&ok.id) {
                    refused.push(ItemRefusal {
                        index,
                        field: Some("id"),
                        error: ApiError::bad_input(format!(
                            "the same offer as item {first}: one update per offer and call"
                        )),
                    });
                } else {
                    seen.insert(ok.id.clone(), index);
                    checked.push((index, ok));
                }
            }
            Err((field, error)) => refused.push(ItemRefusal { index, field, error }),
        }
    }
    if checked.is_empty() {
        return Err(Bulk::Items(refused));
    }
    let txn = begin(ctx).await?;
    let ids: HashSet<String> = checked.iter().map(|(_, ok)| ok.id.clone()).collect();
    let current: HashMap<String, care_offer::Model> = care_offer::Entity::find()
        .filter(care_offer::Column::Id.is_in(ids.iter().cloned()))
        .all(&txn)
        .await?
        .into_iter()
        .map(|o| (o.id.clone(), o))
        .collect();
    for (index, ok) in &checked {
        let refusal = match current.get(&ok.id) {
            None => Some((Some("id"), ApiError::not_found(format!("no care offer with id {}", ok.id)))),
            Some(o) => access::write_own_offer(c, &o.provider_id)
                .and_then(|()| check_version("care offer", &o.id, o.version, ok.expected_version))
                .and_then(|()| {
                    if o.status == OfferStatus::Closed.as_str() {
                        Err(ApiError::bad_input(format!("care offer {} is closed; create a new offer", o.id)))
                    } else if o.status == OfferStatus::Closing.as_str() {
                        Err(ApiError::bad_input(format!(
                            "care offer {} is closing: withdraw the closure with withdrawOfferClosure",
                            o.id
                        )))
                    } else {
                        Ok(())
                    }
                })
                .err()
                .map(|e| (None, e)),
        };
        if let Some((field, error)) = refusal {
            refused.push(ItemRefusal { index: *index, field, error });
        }
    }
    if !refused.is_empty() {
        refused.sort_by_key(|r| r.index);
        return Err(Bulk::Items(refused));
    }
    let now = Utc::now();
    let changes: Vec<(String, i32, OfferStatus)> =
        checked.iter().map(|(_, ok)| (ok.id.clone(), ok.expected_version, ok.status)).collect();
    let changed = store::set_statuses(&txn, &changes, &c.org.to_string(), now).await?;
    if changed != changes.len() as u64 {
        return Err(Bulk::Call(ApiError::conflict(
            "another request changed one of these offers meanwhile, so none was changed: send the call again to learn which",
        )));
    }
    let stored: HashMap<String, care_offer::Model> = care_offer::Entity::find()
        .filter(care_offer::Column::Id.is_in(ids.iter().cloned()))
        .all(&txn)
        .await?
        .into_iter()
        .map(|o| (o.id.clone(), o))
        .collect();
    let in_order: Vec<care_offer::Model> = checked.iter().filter_map(|(_, ok)| stored.get(&ok.id).cloned()).collect();
    store::offers_changed(&txn, &in_order).await?;
    let notes: Vec<offer_status_note::Model> = checked
        .iter()
        .filter(|(_, ok)| ok.status == OfferStatus::UnderPressure)
        .filter_map(|(_, ok)| stored.get(&ok.id).map(|o| note(o, ok.status, ok.cause.clone(), c)))
        .collect();
    let all_ids: Vec<String> = checked.iter().map(|(_, ok)| ok.id.clone()).collect();
    store::replace_notes(&txn, &all_ids, notes).await?;
    let events: Vec<(&care_offer::Model, String)> =
        in_order.iter().filter_map(|o| current.get(&o.id).map(|before| (o, before.status.clone()))).collect();
    store::record_status_events(&txn, &events, now).await?;
    audit_many(
        &txn,
        c,
        "CareOffer",
        "update_status",
        checked.iter().map(|(_, ok)| {
            let (kind, _) = ok.cause.clone().unzip();
            (ok.id.clone(), json!({"status": ok.status.as_str(), "causeKind": kind}))
        }),
    )
    .await?;
    txn.commit().await?;
    committed(ctx);
    Ok(in_order)
}
