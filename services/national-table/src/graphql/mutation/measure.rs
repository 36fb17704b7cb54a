//! Measures: what the national table agreed on an escalation, and their progress.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{NaiveDate, Utc};
use ggzhub_kit::validate::{self as v, MAX_LONG_TEXT, MAX_NAME};
use ggzhub_kit::write::{audit, begin, check_version, new_id, update_guarded};
use ggzhub_kit::{ApiError, GqlResultExt as _};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::json;

use super::common::{Refs, committed, refs};
use super::escalation::load_escalation;
use crate::access;
use crate::domain::*;
use crate::entity::{escalation, measure};
use crate::events::{self, EscalationEventKind};
use crate::graphql::types::*;

/// A new measure on an escalation (national table).
#[derive(InputObject)]
pub struct MeasureInput {
    /// Title (≤ 200 characters).
    pub title: String,
    /// Description (no personal data, ≤ 8000 characters).
    pub description: String,
    /// Organisation that carries it out.
    pub owner_organisation_id: ID,
    /// Due date.
    pub due_date: NaiveDate,
}

/// Changes to a measure; omitted fields stay.
#[derive(InputObject)]
pub struct UpdateMeasureInput {
    /// Title.
    pub title: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Due date.
    pub due_date: Option<NaiveDate>,
    /// Progress.
    pub status: Option<MeasureStatus>,
}

/// Measure mutations: adding one to an escalation and changing it.
#[derive(Default)]
pub struct MeasureMutation;

#[Object]
impl MeasureMutation {
    /// Adds a measure to an escalation in discussion or with measures agreed (national table).
    /// The owner organisation is checked with the region subgraph.
    async fn add_measure(&self, ctx: &Context<'_>, escalation_id: ID, input: MeasureInput) -> Result<Measure> {
        let c = caller(ctx)?;
        async {
            access::national_write(c)?;
            let title = v::text("title", &input.title, MAX_NAME)?;
            let description = v::text("description", &input.description, MAX_LONG_TEXT)?;
            let owner = v::id("ownerOrganisationId", &input.owner_organisation_id)?;
            Refs { orgs: vec![owner.clone()], ..Refs::default() }.check(refs(ctx)?, c).await?;
            let txn = begin(ctx).await?;
            let e = load_escalation(&txn, c, &escalation_id).await?;
            if !matches!(
                EscalationStatus::parse(&e.status),
                Some(EscalationStatus::InDiscussion | EscalationStatus::MeasureAgreed)
            ) {
                return Err(ApiError::bad_input(format!(
                    "measures are added while IN_DISCUSSION or MEASURE_AGREED; this escalation is {}",
                    e.status
                )));
            }
            let now = Utc::now();
            let model = measure::ActiveModel {
                id: Set(new_id()),
                escalation_id: Set(e.id.clone()),
                title: Set(title),
                description: Set(description),
                owner_org_id: Set(owner),
                due_date: Set(input.due_date),
                status: Set(MeasureStatus::Planned.as_str().to_owned()),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                created_by: Set(c.org.to_string()),
                updated_by: Set(c.org.to_string()),
            }
            .insert(&txn)
            .await?;
            audit(
                &txn,
                c,
                "Measure",
                &model.id,
                "create",
                json!({"escalationId": e.id, "owner": model.owner_org_id, "dueDate": model.due_date}),
            )
            .await?;
            events::record(&txn, EscalationEventKind::Updated, &e, now).await?;
            txn.commit().await?;
            committed(ctx);
            Ok(Measure(model))
        }
        .await
        .gql()
    }

    /// Changes a measure (national table).
    async fn update_measure(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        input: UpdateMeasureInput,
    ) -> Result<Measure> {
        let c = caller(ctx)?;
        async {
            access::national_write(c)?;
            let id = v::id("id", &id)?;
            let txn = begin(ctx).await?;
            let current = measure::Entity::find_by_id(id.clone())
                .one(&txn)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("no measure with id {id}")))?;
            check_version("measure", &id, current.version, expected_version)?;
            let mut active = measure::ActiveModel {
                version: Set(expected_version + 1),
                updated_at: Set(Utc::now()),
                updated_by: Set(c.org.to_string()),
                ..Default::default()
            };
            let mut change = json!({});
            if let Some(t) = &input.title {
                let t = v::text("title", t, MAX_NAME)?;
                change["title"] = json!(t);
                active.title = Set(t);
            }
            if let Some(d) = &input.description {
                active.description = Set(v::text("description", d, MAX_LONG_TEXT)?);
                change["description"] = json!("(changed)");
            }
            if let Some(d) = input.due_date {
                change["dueDate"] = json!(d);
                active.due_date = Set(d);
            }
            if let Some(s) = input.status {
                change["status"] = json!(s.as_str());
                active.status = Set(s.as_str().to_owned());
            }
            update_guarded(&txn, active, measure::Column::Id, &id, measure::Column::Version, expected_version).await?;
            audit(&txn, c, "Measure", &id, "update", change).await?;
            let model = measure::Entity::find_by_id(id.clone())
                .one(&txn)
                .await?
                .ok_or_else(|| ApiError::not_found(id.clone()))?;
            // A measure is part of its escalation: its subscribers hear of the change.
            let e = escalation::Entity::find_by_id(model.escalation_id.clone())
                .one(&txn)
                .await?
                .ok_or_else(|| ApiError::not_found(model.escalation_id.clone()))?;
            events::record(&txn, EscalationEventKind::Updated, &e, Utc::now()).await?;
            txn.commit().await?;
            committed(ctx);
            Ok(Measure(model))
        }
        .await
        .gql()
    }
}
