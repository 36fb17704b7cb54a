//! Regional care forms (issue 21 item 4): a region's chair adds a care form to the national list
//! for the region itself, with a motivation, changes its name or motivation, and retires it.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::Utc;
use ggzhub_kit::validate::{self as v, MAX_DESCRIPTION, MAX_NAME};
use ggzhub_kit::write::{audit, begin, check_version, lost_race, update_guarded};
use ggzhub_kit::{ApiError, ApiResult, GqlResultExt as _};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
};
use serde_json::json;

use super::common::{committed, existing_regions};
use crate::access;
use crate::domain::*;
use crate::entity::{care_form, planned_offer};
use crate::graphql::types::*;

/// A care form a region adds for itself (the region's chair).
#[derive(InputObject)]
pub struct AddRegionalCareFormInput {
    /// The region (whose chair the caller is).
    pub region_code: String,
    /// Code, unique across the national and all regional forms: capitals, digits and `_`,
    /// 2–64 characters, e.g. `UTRECHT_ACUTE_YOUTH`.
    pub code: String,
    /// Category it belongs to.
    pub category: CareCategory,
    /// Dutch name (≤ 200 characters).
    pub name: String,
    /// Description (≤ 2000 characters; may be empty).
    pub description: Option<String>,
    /// Why the region needs this form beside the national list (no personal data, ≤ 2000
    /// characters).
    pub motivation: String,
}

/// A change of a regional care form (its region's chair); omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateRegionalCareFormInput {
    /// Code of the regional form.
    pub id: ID,
    /// The version the change applies to; a stale one gets `CONFLICT`.
    pub expected_version: i32,
    /// New Dutch name (≤ 200 characters).
    pub name: Option<String>,
    /// New motivation (no personal data, ≤ 2000 characters).
    pub motivation: Option<String>,
}

/// What the region-chair mutations of one regional form may act on: the form with code `id`
/// (`NOT_FOUND` when there is none), a region's own (the national list is the hub operator's:
/// `FORBIDDEN`), whose region the caller chairs (`FORBIDDEN`), at `expected` (`CONFLICT`).
async fn regional_form<C: ConnectionTrait>(
    conn: &C,
    c: &ggzhub_kit::Caller,
    id: &ID,
    expected: i32,
) -> ApiResult<care_form::Model> {
    // Kind and scope first: a caller who may never change forms learns nothing about which exist.
    access::could_change_care_forms(c)?;
    if id.len() > 64 {
        return Err(ApiError::bad_input(format!(
            "id is a care form code of at most 64 characters, got {}",
            v::shown(id)
        )));
    }
    let form = care_form::Entity::find_by_id(id.to_string())
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no care form {}", v::shown(id))))?;
    let Some(region) = form.region_code.as_deref() else {
        return Err(ApiError::forbidden(format!(
            "care form {} is on the national list, which only the hub operator changes",
            form.code
        )));
    };
    access::change_regional_care_form(c, region)?;
    check_version("care form", &form.code, form.version, expected)?;
    Ok(form)
}

/// Checks a care-form code: capitals, digits and `_`, starting with a capital, 2–64 characters.
fn form_code(code: &str) -> ApiResult<()> {
    let ok = (2..=64).contains(&code.len())
        && code.starts_with(|ch: char| ch.is_ascii_uppercase())
        && code.chars().all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit() || ch == '_');
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_input(format!(
            "code must be 2–64 capitals, digits or _ starting with a capital, got {}",
            v::shown(code)
        )))
    }
}

/// Mutations of regional care forms.
#[derive(Default)]
pub struct CareFormMutation;

#[Object]
impl CareFormMutation {
    /// Adds a care form to the national list for one region only (the region's chair; audited).
    /// Offers in that region may then use it; `careForms(region:)` lists it with its region and
    /// motivation, publicly like the national list.
    async fn add_regional_care_form(&self, ctx: &Context<'_>, input: AddRegionalCareFormInput) -> Result<CareForm> {
        let c = caller(ctx)?;
        async {
            v::region_code("regionCode", &input.region_code)?;
            access::add_regional_care_form(c, &input.region_code)?;
            form_code(&input.code)?;
            let name = v::text("name", &input.name, MAX_NAME)?;
            let description =
                v::optional_text("description", input.description.as_deref().unwrap_or(""), MAX_DESCRIPTION)?;
            let motivation = v::text("motivation", &input.motivation, MAX_DESCRIPTION)?;
            let txn = begin(ctx).await?;
            existing_regions(&txn, "regionCode", std::slice::from_ref(&input.region_code)).await?;
            let taken = || ApiError::bad_input(format!("care form code {} is already in use", input.code));
            if care_form::Entity::find_by_id(input.code.clone()).one(&txn).await?.is_some() {
                return Err(taken());
            }
            let now = Utc::now();
            let model = care_form::ActiveModel {
                code: Set(input.code.clone()),
                category: Set(input.category.as_str().to_owned()),
                name: Set(name),
                description: Set(description),
                region_code: Set(Some(input.region_code.clone())),
                motivation: Set(Some(motivation)),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                created_by: Set(c.org.to_string()),
                updated_by: Set(c.org.to_string()),
                retired_at: Set(None),
                retirement_reason: Set(None),
            }
            .insert(&txn)
            .await
            .map_err(|e| lost_race(e, taken))?;
            audit(
                &txn,
                c,
                "CareForm",
                &model.code,
                "create",
                json!({"regionCode": model.region_code, "category": model.category, "name": model.name,
                       "motivation": model.motivation}),
            )
            .await?;
            txn.commit().await?;
            committed(ctx);
            Ok(CareForm(model.into()))
        }
        .await
        .gql()
    }
    /// Changes a regional care form's name or motivation (the chair of its region; audited).
    /// A stale `expectedVersion` gets `CONFLICT`; a form of the national list cannot be changed
    /// here (`FORBIDDEN`). A retired form may still be corrected.
    async fn update_regional_care_form(
        &self,
        ctx: &Context<'_>,
        input: UpdateRegionalCareFormInput,
    ) -> Result<CareForm> {
        let c = caller(ctx)?;
        async {
            let name = input.name.as_deref().map(|n| v::text("name", n, MAX_NAME)).transpose()?;
            let motivation =
                input.motivation.as_deref().map(|m| v::text("motivation", m, MAX_DESCRIPTION)).transpose()?;
            if name.is_none() && motivation.is_none() {
                return Err(ApiError::bad_input("give name or motivation to change"));
            }
            let txn = begin(ctx).await?;
            let current = regional_form(&txn, c, &input.id, input.expected_version).await?;
            let mut active = care_form::ActiveModel {
                version: Set(input.expected_version + 1),
                updated_at: Set(Utc::now()),
                updated_by: Set(c.org.to_string()),
                ..Default::default()
            };
            let mut change = json!({});
            if let Some(n) = name {
                change["name"] = json!(n);
                active.name = Set(n);
            }
            if let Some(m) = motivation {
                change["motivation"] = json!(m);
                active.motivation = Set(Some(m));
            }
            update_guarded(
                &txn,
                active,
                care_form::Column::Code,
                &current.code,
                care_form::Column::Version,
                input.expected_version,
            )
            .await?;
            audit(&txn, c, "CareForm", &current.code, "update", change).await?;
            let model = load_form(&txn, &current.code).await?;
            txn.commit().await?;
            committed(ctx);
            Ok(CareForm(model.into()))
        }
        .await
        .gql()
    }

    /// Retires a regional care form (the chair of its region; audited): it is offered for no new
    /// offer any more (`createCareOffer`, `planCareOffer`, `realisePlannedOffer` and an
    /// `updateCareOffer` that switches to it answer `BAD_USER_INPUT` naming it), while offers
    /// that use it keep it and still show it;
    /// `careForms(region:)` lists it only with `includeRetired: true`. A stale `expectedVersion`
    /// gets `CONFLICT`; retiring a retired form, or one that `PLANNED` offers still use (withdraw
    /// or realise them first), is `FAILED_PRECONDITION`.
    async fn retire_regional_care_form(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        reason: String,
    ) -> Result<CareForm> {
        let c = caller(ctx)?;
        async {
            let reason = v::text("reason", &reason, MAX_DESCRIPTION)?;
            let txn = begin(ctx).await?;
            let current = regional_form(&txn, c, &id, expected_version).await?;
            if let Some(at) = current.retired_at {
                return Err(ApiError::failed_precondition(format!(
                    "care form {} was already retired at {at}",
                    current.code
                )));
            }
            // A plan the region decided on with this form could no longer be realised (a retired
            // form is offered for no new offer): the chair withdraws or a provider realises it first.
            let plans: Vec<String> = planned_offer::Entity::find()
                .select_only()
                .column(planned_offer::Column::Id)
                .filter(planned_offer::Column::CareForm.eq(current.code.clone()))
                .filter(planned_offer::Column::Status.eq(PlannedOfferStatus::Planned.as_str()))
                .limit(10)
                .into_tuple()
                .all(&txn)
                .await?;
            if !plans.is_empty() {
                return Err(ApiError::failed_precondition(format!(
                    "care form {} is used by planned offers ({}): withdraw them (withdrawPlannedOffer) or have them realised before retiring the form",
                    current.code,
                    plans.join(", ")
                )));
            }
            let now = Utc::now();
            let active = care_form::ActiveModel {
                retired_at: Set(Some(now)),
                retirement_reason: Set(Some(reason.clone())),
                version: Set(expected_version + 1),
                updated_at: Set(now),
                updated_by: Set(c.org.to_string()),
                ..Default::default()
            };
            update_guarded(
                &txn,
                active,
                care_form::Column::Code,
                &current.code,
                care_form::Column::Version,
                expected_version,
            )
            .await?;
            audit(&txn, c, "CareForm", &current.code, "retire", json!({"reason": reason})).await?;
            let model = load_form(&txn, &current.code).await?;
            txn.commit().await?;
            committed(ctx);
            Ok(CareForm(model.into()))
        }
        .await
        .gql()
    }
}

/// The care form with `code` (just written in this transaction).
async fn load_form<C: ConnectionTrait>(conn: &C, code: &str) -> ApiResult<care_form::Model> {
    care_form::Entity::find_by_id(code.to_owned())
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no care form {code}")))
}
