//! Continuity signals (early warnings): raise, change, acknowledge, resolve and escalate.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{NaiveDate, Utc};
use ggzhub_kit::validate::{self as v, MAX_DESCRIPTION, MAX_SHORT_TEXT};
use ggzhub_kit::write::{audit, begin, check_version, new_id, update_guarded};
use ggzhub_kit::{ApiError, ApiResult, Caller, GqlResultExt as _};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseTransaction, EntityTrait};
use serde_json::json;

use super::common::{committed, contractors_of_offer, contractors_of_signal, load_offer, plausible_date};
use crate::access;
use crate::domain::*;
use crate::entity::{care_offer, region, signal};
use crate::events::{self, SignalEventKind};
use crate::graphql::types::*;
use crate::history;

/// How long the coordinating insurer has to acknowledge a signal.
pub const ACKNOWLEDGEMENT_DAYS: i64 = 14;

/// A new continuity signal.
#[derive(InputObject)]
pub struct RaiseSignalInput {
    /// The provider's own offer at risk.
    pub offer_id: ID,
    /// What threatens continuity.
    pub kind: SignalKind,
    /// Severity.
    pub severity: Severity,
    /// Description (no personal data, ≤ 2000 characters).
    pub description: String,
    /// When the problem is expected to bite.
    pub expected_date: Option<NaiveDate>,
}

/// Changes to an open signal.
#[derive(InputObject)]
pub struct UpdateSignalInput {
    /// Severity.
    pub severity: Option<Severity>,
    /// Description.
    pub description: Option<String>,
    /// Expected date.
    pub expected_date: Option<NaiveDate>,
}

async fn coordinating_insurer<C: ConnectionTrait>(conn: &C, region_code: &str) -> ApiResult<Option<String>> {
    Ok(region::Entity::find_by_id(region_code.to_owned()).one(conn).await?.and_then(|r| r.coordinating_insurer_id))
}

/// A signal the caller may see in full, or `NOT_FOUND` — a signal you may not see is reported
/// exactly like one that does not exist.
async fn load_visible_signal<C: ConnectionTrait>(
    conn: &C,
    c: &Caller,
    id: &ID,
) -> ApiResult<(signal::Model, Option<String>)> {
    let id = v::id("id", id)?;
    let missing = || ApiError::not_found(format!("no continuity signal with id {id}"));
    let s = signal::Entity::find_by_id(id.clone()).one(conn).await?.ok_or_else(missing)?;
    let coordinating = coordinating_insurer(conn, &s.region_code).await?;
    // Changes do not consult contracting: an insurer that only contracts the offer is answered
    // as before (only the coordinating insurer acknowledges).
    if !access::can_see_signal(c, &s, coordinating.as_deref(), false) {
        return Err(missing());
    }
    Ok((s, coordinating))
}

/// Mutations of continuity signals.
#[derive(Default)]
pub struct SignalMutation;

#[Object]
impl SignalMutation {
    /// Raises a continuity signal (early warning) on one of the caller's own offers. The
    /// region's coordinating insurer must acknowledge it within 14 days.
    async fn raise_continuity_signal(&self, ctx: &Context<'_>, input: RaiseSignalInput) -> Result<ContinuitySignal> {
        let c = caller(ctx)?;
        async {
            let description = v::text("description", &input.description, MAX_DESCRIPTION)?;
            if let Some(d) = input.expected_date {
                plausible_date("expectedDate", d)?;
            }
            let contractors = contractors_of_offer(ctx, &input.offer_id).await?;
            let txn = begin(ctx).await?;
            let offer = load_offer(&txn, &input.offer_id).await?;
            access::write_own_signal(c, &offer.provider_id)?;
            if offer.status == OfferStatus::Closed.as_str() {
                return Err(ApiError::bad_input(format!(
                    "care offer {} is closed; a signal needs an offer that still runs",
                    offer.id
                )));
            }
            let now = Utc::now();
            let model = signal::ActiveModel {
                id: Set(new_id()),
                offer_id: Set(offer.id.clone()),
                provider_id: Set(offer.provider_id.clone()),
                region_code: Set(offer.region_code.clone()),
                kind: Set(input.kind.as_str().to_owned()),
                severity: Set(input.severity.as_str().to_owned()),
                description: Set(description),
                expected_date: Set(input.expected_date),
                status: Set(SignalStatus::Open.as_str().to_owned()),
                raised_at: Set(now),
                acknowledgement_deadline: Set(now + chrono::Duration::days(ACKNOWLEDGEMENT_DAYS)),
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
            history::signal_event(&txn, &model, &c.org.to_string()).await?;
            audit(
                &txn,
                c,
                "ContinuitySignal",
                &model.id,
                "raise",
                json!({"offerId": model.offer_id, "kind": model.kind, "severity": model.severity}),
            )
            .await?;
            events::record_signal(&txn, SignalEventKind::Raised, &model, &contractors, now).await?;
            txn.commit().await?;
            committed(ctx);
            Ok(ContinuitySignal::full(model))
        }
        .await
        .gql()
    }

    /// Changes one of the caller's own signals that is not resolved.
    async fn update_continuity_signal(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        input: UpdateSignalInput,
    ) -> Result<ContinuitySignal> {
        let c = caller(ctx)?;
        async {
            let contractors = contractors_of_signal(ctx, &id).await?;
            let txn = begin(ctx).await?;
            let (current, _) = load_visible_signal(&txn, c, &id).await?;
            access::write_own_signal(c, &current.provider_id)?;
            check_version("continuity signal", &current.id, current.version, expected_version)?;
            if current.status == SignalStatus::Resolved.as_str() {
                return Err(ApiError::bad_input("a resolved signal cannot change; raise a new one"));
            }
            let now = Utc::now();
            let mut active = signal::ActiveModel {
                version: Set(expected_version + 1),
                updated_at: Set(now),
                updated_by: Set(c.org.to_string()),
                ..Default::default()
            };
            let mut change = json!({});
            if let Some(s) = input.severity {
                change["severity"] = json!(s.as_str());
                active.severity = Set(s.as_str().to_owned());
            }
            if let Some(d) = &input.description {
                let d = v::text("description", d, MAX_DESCRIPTION)?;
                change["description"] = json!("(changed)");
                active.description = Set(d);
            }
            if let Some(d) = input.expected_date {
                plausible_date("expectedDate", d)?;
                change["expectedDate"] = json!(d);
                active.expected_date = Set(Some(d));
            }
            update_guarded(&txn, active, signal::Column::Id, &current.id, signal::Column::Version, expected_version)
                .await?;
            audit(&txn, c, "ContinuitySignal", &current.id, "update", change).await?;
            let model = signal::Entity::find_by_id(current.id.clone())
                .one(&txn)
                .await?
                .ok_or_else(|| ApiError::not_found(current.id.clone()))?;
            events::record_signal(&txn, SignalEventKind::Updated, &model, &contractors, now).await?;
            txn.commit().await?;
            committed(ctx);
            Ok(ContinuitySignal::full(model))
        }
        .await
        .gql()
    }

    /// Acknowledges a signal (the coordinating insurer of the signal's region), with the
    /// insurer's `response`: what it will do (no personal data, ≤ 500 characters), shown to
    /// everyone who reads the signal as `ContinuitySignal.response`.
    async fn acknowledge_continuity_signal(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        response: Option<String>,
    ) -> Result<ContinuitySignal> {
        let c = caller(ctx)?;
        async {
            let response = response.as_deref().map(|r| v::text("response", r, MAX_SHORT_TEXT)).transpose()?;
            let contractors = contractors_of_signal(ctx, &id).await?;
            let txn = begin(ctx).await?;
            let (current, coordinating) = load_visible_signal(&txn, c, &id).await?;
            access::acknowledge_signal(c, coordinating.as_deref())?;
            check_version("continuity signal", &current.id, current.version, expected_version)?;
            if current.status != SignalStatus::Open.as_str() {
                return Err(ApiError::bad_input(format!(
                    "only OPEN signals can be acknowledged; this one is {}",
                    current.status
                )));
            }
            let ack = Acknowledgement { response };
            let to = (SignalStatus::Acknowledged, Some(ack));
            self::transition(ctx, txn, c, &current, expected_version, to, &contractors).await
        }
        .await
        .gql()
    }

    /// Marks one of the caller's own signals resolved.
    async fn resolve_continuity_signal(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
    ) -> Result<ContinuitySignal> {
        let c = caller(ctx)?;
        async {
            let contractors = contractors_of_signal(ctx, &id).await?;
            let txn = begin(ctx).await?;
            let (current, _) = load_visible_signal(&txn, c, &id).await?;
            access::write_own_signal(c, &current.provider_id)?;
            check_version("continuity signal", &current.id, current.version, expected_version)?;
            if current.status == SignalStatus::Resolved.as_str() {
                return Err(ApiError::bad_input("the signal is already resolved"));
            }
            let to = (SignalStatus::Resolved, None);
            self::transition(ctx, txn, c, &current, expected_version, to, &contractors).await
        }
        .await
        .gql()
    }

    /// Escalates a signal to the national table (the region's chair).
    async fn escalate_continuity_signal(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
    ) -> Result<ContinuitySignal> {
        let c = caller(ctx)?;
        async {
            let contractors = contractors_of_signal(ctx, &id).await?;
            let txn = begin(ctx).await?;
            let sid = v::id("id", &id)?;
            let missing = || ApiError::not_found(format!("no continuity signal with id {sid}"));
            let current = signal::Entity::find_by_id(sid.clone()).one(&txn).await?.ok_or_else(missing)?;
            let coordinating = coordinating_insurer(&txn, &current.region_code).await?;
            let sees = access::can_see_signal(c, &current, coordinating.as_deref(), false);
            // Chairs of other regions learn nothing about this one; the chair of the signal's
            // region escalates it and then sees only its id, region, status and dates.
            if !sees && !c.is_chair(&current.region_code) {
                return Err(missing());
            }
            access::escalate_signal(c, &current.region_code)?;
            check_version("continuity signal", &current.id, current.version, expected_version)?;
            if current.status == SignalStatus::Resolved.as_str() || current.status == SignalStatus::Escalated.as_str() {
                return Err(ApiError::bad_input(format!("a {} signal cannot be escalated", current.status)));
            }
            let to = (SignalStatus::Escalated, None);
            let mut escalated = self::transition(ctx, txn, c, &current, expected_version, to, &contractors).await?;
            escalated.full = sees;
            Ok(escalated)
        }
        .await
        .gql()
    }
}

/// What acknowledging stores besides the status.
struct Acknowledgement {
    response: Option<String>,
}

/// Moves `current` to status `to` (acknowledging with `ack`), with its audit entry, history row
/// and event (addressed with `contractors`, learned before `txn` opened), and commits.
async fn transition(
    ctx: &Context<'_>,
    txn: DatabaseTransaction,
    c: &Caller,
    current: &signal::Model,
    expected_version: i32,
    (to, ack): (SignalStatus, Option<Acknowledgement>),
    contractors: &events::Contractors,
) -> ApiResult<ContinuitySignal> {
    let now = Utc::now();
    let mut active = signal::ActiveModel {
        status: Set(to.as_str().to_owned()),
        version: Set(expected_version + 1),
        updated_at: Set(now),
        updated_by: Set(c.org.to_string()),
        ..Default::default()
    };
    if let Some(ack) = ack {
        active.acknowledged_at = Set(Some(now));
        active.acknowledged_by = Set(Some(c.org.to_string()));
        active.response = Set(ack.response);
    }
    update_guarded(&txn, active, signal::Column::Id, &current.id, signal::Column::Version, expected_version).await?;
    audit(
        &txn,
        c,
        "ContinuitySignal",
        &current.id,
        &to.as_str().to_lowercase(),
        json!({"from": current.status, "to": to.as_str()}),
    )
    .await?;
    let model = signal::Entity::find_by_id(current.id.clone())
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::not_found(current.id.clone()))?;
    history::signal_event(&txn, &model, &c.org.to_string()).await?;
    match to {
        SignalStatus::Escalated => {
            // The offer's category goes with the escalation: the national table opens one
            // from the event alone.
            let category = care_offer::Entity::find_by_id(model.offer_id.clone())
                .one(&txn)
                .await?
                .map(|o| o.category)
                .unwrap_or_default();
            events::record_escalation(&txn, &model, &category, &c.org.to_string(), contractors, now).await?;
        }
        SignalStatus::Acknowledged => {
            events::record_signal(&txn, SignalEventKind::Acknowledged, &model, contractors, now).await?;
        }
        SignalStatus::Resolved => {
            events::record_signal(&txn, SignalEventKind::Resolved, &model, contractors, now).await?
        }
        SignalStatus::Open => {}
    }
    txn.commit().await?;
    committed(ctx);
    Ok(ContinuitySignal::full(model))
}
