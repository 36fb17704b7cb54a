//! Regional actions and agreements (issue 21 item 3): created from a regional overview by the
//! region's participants, changed by their creator and the region's chair, their status by their
//! owner.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{NaiveDate, Utc};
use ggzhub_kit::validate::{self as v, MAX_DESCRIPTION, MAX_NAME};
use ggzhub_kit::write::{audit, begin, check_version, new_id, update_guarded};
use ggzhub_kit::{ApiError, ApiResult, Caller, GqlResultExt as _, OrgKind};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait};
use serde_json::json;

use super::common::{committed, plausible_date};
use crate::access::{self, ActionChange};
use crate::entity::{organisation, overview, regional_action};
use crate::graphql::closing::{ActionStatus, RegionalAction};
use crate::graphql::types::caller;

/// A new regional action.
#[derive(InputObject)]
pub struct CreateRegionalActionInput {
    /// The regional overview it arises from (a draft or published one of the caller's region).
    pub overview_id: ID,
    /// Title (no personal data, ≤ 200 characters).
    pub title: String,
    /// Description (no personal data, ≤ 2000 characters).
    pub description: String,
    /// The owning organisation: a provider or insurer taking part in the overview's region.
    pub owner_id: ID,
    /// Due date.
    pub due_date: NaiveDate,
}

/// Changes to a regional action; omitted fields stay as they are. Its owner may change only
/// `status`.
#[derive(InputObject)]
pub struct UpdateRegionalActionInput {
    /// Title (no personal data, ≤ 200 characters).
    pub title: Option<String>,
    /// Description (no personal data, ≤ 2000 characters).
    pub description: Option<String>,
    /// The owning organisation.
    pub owner_id: Option<ID>,
    /// Due date.
    pub due_date: Option<NaiveDate>,
    /// Status (`CANCELLED` is final).
    pub status: Option<ActionStatus>,
}

/// The overview `id` if the caller may know it exists, or `NOT_FOUND`.
async fn load_overview<C: ConnectionTrait>(conn: &C, c: &Caller, id: &ID) -> ApiResult<overview::Model> {
    let id = v::id("overviewId", id)?;
    let missing = || ApiError::not_found(format!("no regional overview with id {id}"));
    let o = overview::Entity::find_by_id(id.clone()).one(conn).await?.ok_or_else(missing)?;
    if !access::overview_visible(c, &o) {
        return Err(missing());
    }
    Ok(o)
}

/// The owner must be a provider or insurer taking part in `region`.
async fn check_owner<C: ConnectionTrait>(conn: &C, owner: &ID, region: &str) -> ApiResult<String> {
    let id = v::id("ownerId", owner)?;
    let org = organisation::Entity::find_by_id(id.clone())
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::bad_input(format!("ownerId: no organisation with id {id}")))?;
    let takes_part = org.regions.as_array().is_some_and(|rs| rs.iter().any(|r| r.as_str() == Some(region)));
    let kind_ok = org.kind == OrgKind::Provider.as_str() || org.kind == OrgKind::Insurer.as_str();
    if !takes_part || !kind_ok {
        return Err(ApiError::bad_input(format!(
            "ownerId: the owner of an action must be a provider or insurer taking part in region {region}; {} is not",
            org.name
        )));
    }
    Ok(id)
}

/// Mutations of regional actions.
#[derive(Default)]
pub struct ActionMutation;

#[Object]
impl ActionMutation {
    /// Records an action or agreement arising from a regional overview (status `OPEN`): providers
    /// and insurers at the overview's regional table.
    async fn create_regional_action(
        &self,
        ctx: &Context<'_>,
        input: CreateRegionalActionInput,
    ) -> Result<RegionalAction> {
        let c = caller(ctx)?;
        access::overview_writer(c).gql()?;
        async {
            let title = v::text("title", &input.title, MAX_NAME)?;
            let description = v::text("description", &input.description, MAX_DESCRIPTION)?;
            plausible_date("dueDate", input.due_date)?;
            let txn = begin(ctx).await?;
            let o = load_overview(&txn, c, &input.overview_id).await?;
            access::write_overview(c, &o.region_code)?;
            let owner = check_owner(&txn, &input.owner_id, &o.region_code).await?;
            let now = Utc::now();
            let model = regional_action::ActiveModel {
                id: Set(new_id()),
                region_code: Set(o.region_code.clone()),
                overview_id: Set(o.id.clone()),
                title: Set(title),
                description: Set(description),
                owner_id: Set(owner),
                due_date: Set(input.due_date),
                status: Set(ActionStatus::Open.as_str().to_owned()),
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
                "RegionalAction",
                &model.id,
                "create",
                json!({"overviewId": model.overview_id, "ownerId": model.owner_id, "dueDate": model.due_date}),
            )
            .await?;
            txn.commit().await?;
            committed(ctx);
            Ok(RegionalAction { model })
        }
        .await
        .gql()
    }

    /// Changes a regional action: every field by the region's chair and by the organisation that
    /// created it (while at the table), only `status` by its owner. A cancelled action is final
    /// (`FAILED_PRECONDITION`).
    async fn update_regional_action(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        input: UpdateRegionalActionInput,
    ) -> Result<RegionalAction> {
        let c = caller(ctx)?;
        access::overview_writer(c).gql()?;
        async {
            let aid = v::id("id", &id)?;
            let missing = || ApiError::not_found(format!("no regional action with id {aid}"));
            let txn = begin(ctx).await?;
            let current = regional_action::Entity::find_by_id(aid.clone()).one(&txn).await?.ok_or_else(missing)?;
            let o = overview::Entity::find_by_id(current.overview_id.clone()).one(&txn).await?.ok_or_else(missing)?;
            if !access::can_see_action(c, &o) {
                return Err(missing());
            }
            let may = access::change_action(c, &current.region_code, &current.created_by, &current.owner_id)?;
            let other_fields = input.title.is_some()
                || input.description.is_some()
                || input.owner_id.is_some()
                || input.due_date.is_some();
            if may == ActionChange::StatusOnly && other_fields {
                return Err(ApiError::forbidden(
                    "the owner of a regional action changes only its status; the chair and its creator change the rest",
                ));
            }
            check_version("regional action", &current.id, current.version, expected_version)?;
            // Bad input is bad whatever the state: check the texts before the state.
            if let Some(t) = &input.title {
                v::text("title", t, MAX_NAME)?;
            }
            if let Some(d) = &input.description {
                v::text("description", d, MAX_DESCRIPTION)?;
            }
            if current.status == ActionStatus::Cancelled.as_str() {
                return Err(ApiError::failed_precondition("a cancelled action cannot change; record a new one"));
            }
            let mut active = regional_action::ActiveModel {
                version: Set(expected_version + 1),
                updated_at: Set(Utc::now()),
                updated_by: Set(c.org.to_string()),
                ..Default::default()
            };
            let mut change = json!({});
            if let Some(t) = &input.title {
                let t = v::text("title", t, MAX_NAME)?;
                change["title"] = json!("(changed)");
                active.title = Set(t);
            }
            if let Some(d) = &input.description {
                let d = v::text("description", d, MAX_DESCRIPTION)?;
                change["description"] = json!("(changed)");
                active.description = Set(d);
            }
            if let Some(owner) = &input.owner_id {
                let owner = check_owner(&txn, owner, &current.region_code).await?;
                change["ownerId"] = json!(owner);
                active.owner_id = Set(owner);
            }
            if let Some(d) = input.due_date {
                plausible_date("dueDate", d)?;
                change["dueDate"] = json!(d);
                active.due_date = Set(d);
            }
            if let Some(s) = input.status {
                change["status"] = json!(s.as_str());
                active.status = Set(s.as_str().to_owned());
            }
            update_guarded(
                &txn,
                active,
                regional_action::Column::Id,
                &current.id,
                regional_action::Column::Version,
                expected_version,
            )
            .await?;
            audit(&txn, c, "RegionalAction", &current.id, "update", change).await?;
            let model = regional_action::Entity::find_by_id(current.id.clone()).one(&txn).await?.ok_or_else(missing)?;
            txn.commit().await?;
            committed(ctx);
            Ok(RegionalAction { model })
        }
        .await
        .gql()
    }
}
