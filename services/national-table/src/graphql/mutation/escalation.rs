//! Escalations: what a region could not solve, raised by its chair and moved along its lifecycle
//! by the national table.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::Utc;
use ggzhub_kit::validate::{self as v, MAX_LONG_TEXT, MAX_NAME, MAX_SHORT_TEXT};
use ggzhub_kit::write::{audit, begin, check_version, new_id, update_guarded};
use ggzhub_kit::{ApiError, ApiResult, Caller, GqlResultExt as _};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::json;

use super::common::{Refs, committed, id_list, refs};
use crate::access;
use crate::domain::*;
use crate::entity::{escalation, measure, transition};
use crate::events::{self, EscalationEventKind};
use crate::graphql::types::*;

/// A new escalation (the region's chair).
#[derive(InputObject)]
pub struct RaiseEscalationInput {
    /// Raising region's code.
    pub region_code: String,
    /// Category of crucial care.
    pub category: CareCategory,
    /// Target group (≤ 200 characters).
    pub target_group: String,
    /// The problem the region could not solve (no personal data, ≤ 8000 characters).
    pub problem: String,
    /// What the region tried (≤ 8000 characters).
    pub region_tried: String,
    /// Affected care offers, located in the raising region (at most 20).
    pub affected_offer_ids: Option<Vec<ID>>,
    /// Urgency.
    pub urgency: Urgency,
}

/// A move along the escalation lifecycle (national table).
#[derive(InputObject)]
pub struct TransitionInput {
    /// Target status: from SUBMITTED to IN_DISCUSSION or DECLINED; from IN_DISCUSSION to
    /// MEASURE_AGREED (needs at least one measure) or DECLINED; from MEASURE_AGREED to RESOLVED.
    pub to: EscalationStatus,
    /// Note recorded with the move (no personal data, ≤ 500 characters).
    pub note: Option<String>,
    /// Public summary; required when deciding (MEASURE_AGREED, DECLINED), optional on RESOLVED.
    pub public_summary: Option<String>,
    /// Reason; required for DECLINED.
    pub decline_reason: Option<String>,
}

/// A new escalation, SUBMITTED, as its raiser gave it (validated and checked by the caller).
#[derive(Debug, Clone)]
pub(crate) struct NewEscalation {
    pub(crate) region_code: String,
    pub(crate) category: CareCategory,
    pub(crate) target_group: String,
    pub(crate) problem: String,
    pub(crate) region_tried: String,
    pub(crate) affected_offer_ids: Vec<String>,
    pub(crate) urgency: Urgency,
    /// The raising organisation.
    pub(crate) raised_by: String,
    pub(crate) raised_at: chrono::DateTime<Utc>,
    /// The continuity signal it follows from, if any.
    pub(crate) signal_id: Option<String>,
}

/// Stores `new` as a SUBMITTED escalation with its `OPENED` event, on `conn` (the caller's
/// transaction, which also writes the audit entry). Shared by `raiseEscalation` and the
/// follow-through of escalated continuity signals ([`crate::follow_through`]).
pub(crate) async fn insert_submitted<C: ConnectionTrait>(
    conn: &C,
    new: NewEscalation,
) -> Result<escalation::Model, sea_orm::DbErr> {
    let model = escalation::ActiveModel {
        // Random, not time-ordered like `new_id`: a decided escalation's id is public, and a
        // UUIDv7 would carry the raise time that `raisedAt` keeps from outsiders.
        id: Set(uuid::Uuid::new_v4().to_string()),
        region_code: Set(new.region_code),
        category: Set(new.category.as_str().to_owned()),
        target_group: Set(new.target_group),
        problem: Set(new.problem),
        region_tried: Set(new.region_tried),
        affected_offer_ids: Set(json!(new.affected_offer_ids)),
        urgency: Set(new.urgency.as_str().to_owned()),
        status: Set(EscalationStatus::Submitted.as_str().to_owned()),
        decline_reason: Set(None),
        public_summary: Set(None),
        raised_by: Set(new.raised_by.clone()),
        raised_at: Set(new.raised_at),
        decided_at: Set(None),
        version: Set(1),
        created_at: Set(new.raised_at),
        updated_at: Set(new.raised_at),
        created_by: Set(new.raised_by.clone()),
        updated_by: Set(new.raised_by),
        signal_id: Set(new.signal_id),
    }
    .insert(conn)
    .await?;
    events::record(conn, EscalationEventKind::Opened, &model, model.raised_at).await?;
    Ok(model)
}

/// The escalation `id` if the caller may see it; `NOT_FOUND` exactly as for a missing one otherwise.
pub(super) async fn load_escalation<C: ConnectionTrait>(conn: &C, c: &Caller, id: &ID) -> ApiResult<escalation::Model> {
    let id = v::id("id", id)?;
    let missing = || ApiError::not_found(format!("no escalation with id {id}"));
    let e = escalation::Entity::find_by_id(id.clone()).one(conn).await?.ok_or_else(missing)?;
    if access::escalation_view(c, &e) == access::EscalationView::None {
        return Err(missing());
    }
    Ok(e)
}

/// Escalation mutations: raising one and moving it along its lifecycle.
#[derive(Default)]
pub struct EscalationMutation;

#[Object]
impl EscalationMutation {
    /// Raises an escalation (the chair of the region). Region and affected offers are checked
    /// with the region subgraph; affected offers must be located in the raising region.
    async fn raise_escalation(&self, ctx: &Context<'_>, input: RaiseEscalationInput) -> Result<Escalation> {
        let c = caller(ctx)?;
        async {
            v::region_code("regionCode", &input.region_code)?;
            access::raise_escalation(c, &input.region_code)?;
            let target_group = v::text("targetGroup", &input.target_group, MAX_NAME)?;
            let problem = v::text("problem", &input.problem, MAX_LONG_TEXT)?;
            let region_tried = v::text("regionTried", &input.region_tried, MAX_LONG_TEXT)?;
            let offers = id_list("affectedOfferIds", input.affected_offer_ids.as_deref().unwrap_or_default(), 20)?;
            let checked = Refs { regions: vec![input.region_code.clone()], offers: offers.clone(), orgs: vec![] }
                .check(refs(ctx)?, c)
                .await?;
            if let Some((id, r)) = checked.offer_regions.iter().find(|(_, r)| **r != input.region_code) {
                return Err(ApiError::bad_input(format!(
                    "care offer {id} is located in {r}, not in {}",
                    input.region_code
                )));
            }
            let txn = begin(ctx).await?;
            let new = NewEscalation {
                region_code: input.region_code.clone(),
                category: input.category,
                target_group,
                problem,
                region_tried,
                affected_offer_ids: offers,
                urgency: input.urgency,
                raised_by: c.org.to_string(),
                raised_at: Utc::now(),
                signal_id: None,
            };
            let model = insert_submitted(&txn, new).await?;
            audit(
                &txn,
                c,
                "Escalation",
                &model.id,
                "raise",
                json!({"regionCode": model.region_code, "category": model.category, "urgency": model.urgency}),
            )
            .await?;
            txn.commit().await?;
            committed(ctx);
            Ok(Escalation(model))
        }
        .await
        .gql()
    }

    /// Moves an escalation along its lifecycle (national table); illegal moves are
    /// `BAD_USER_INPUT`. Every move is recorded with who and when.
    async fn transition_escalation(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        input: TransitionInput,
    ) -> Result<Escalation> {
        let c = caller(ctx)?;
        async {
            access::national_write(c)?;
            let note = v::optional_text("note", input.note.as_deref().unwrap_or_default(), MAX_SHORT_TEXT)?;
            let summary =
                input.public_summary.as_deref().map(|s| v::text("publicSummary", s, MAX_LONG_TEXT)).transpose()?;
            let reason =
                input.decline_reason.as_deref().map(|s| v::text("declineReason", s, MAX_LONG_TEXT)).transpose()?;
            let txn = begin(ctx).await?;
            let current = load_escalation(&txn, c, &id).await?;
            check_version("escalation", &current.id, current.version, expected_version)?;
            let from = EscalationStatus::parse(&current.status)
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("stored status {}", current.status)))?;
            let to = input.to;
            if !from.next().contains(&to) {
                let allowed: Vec<&str> = from.next().iter().map(|s| s.as_str()).collect();
                return Err(ApiError::bad_input(format!(
                    "an escalation cannot move from {from} to {to}; allowed: {}",
                    if allowed.is_empty() { "none (final)".to_owned() } else { allowed.join(", ") }
                )));
            }
            if matches!(to, EscalationStatus::MeasureAgreed | EscalationStatus::Declined) && summary.is_none() {
                return Err(ApiError::bad_input(format!("publicSummary is required to move to {to}")));
            }
            if to == EscalationStatus::Declined && reason.is_none() {
                return Err(ApiError::bad_input("declineReason is required to decline"));
            }
            if to != EscalationStatus::Declined && reason.is_some() {
                return Err(ApiError::bad_input("declineReason is only for DECLINED"));
            }
            if to == EscalationStatus::MeasureAgreed
                && measure::Entity::find()
                    .filter(measure::Column::EscalationId.eq(current.id.clone()))
                    .one(&txn)
                    .await?
                    .is_none()
            {
                return Err(ApiError::bad_input("add at least one measure before moving to MEASURE_AGREED"));
            }
            let now = Utc::now();
            let mut active = escalation::ActiveModel {
                status: Set(to.as_str().to_owned()),
                version: Set(expected_version + 1),
                updated_at: Set(now),
                updated_by: Set(c.org.to_string()),
                ..Default::default()
            };
            if let Some(s) = &summary {
                active.public_summary = Set(Some(s.clone()));
            }
            if let Some(r) = &reason {
                active.decline_reason = Set(Some(r.clone()));
            }
            if to.is_decided() && !from.is_decided() {
                active.decided_at = Set(Some(now));
            }
            update_guarded(
                &txn,
                active,
                escalation::Column::Id,
                &current.id,
                escalation::Column::Version,
                expected_version,
            )
            .await?;
            transition::ActiveModel {
                id: Set(new_id()),
                escalation_id: Set(current.id.clone()),
                from_status: Set(from.as_str().to_owned()),
                to_status: Set(to.as_str().to_owned()),
                by_org: Set(c.org.to_string()),
                by_subject: Set(c.subject.clone()),
                at: Set(now),
                note: Set(note),
            }
            .insert(&txn)
            .await?;
            audit(&txn, c, "Escalation", &current.id, "transition", json!({"from": from.as_str(), "to": to.as_str()}))
                .await?;
            let model = escalation::Entity::find_by_id(current.id.clone())
                .one(&txn)
                .await?
                .ok_or_else(|| ApiError::not_found(current.id.clone()))?;
            events::record(&txn, EscalationEventKind::of_transition(from, to), &model, now).await?;
            txn.commit().await?;
            committed(ctx);
            Ok(Escalation(model))
        }
        .await
        .gql()
    }
}
