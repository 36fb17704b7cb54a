//! Planned offers (issue 21 item 4): the region's chair plans a new offer the region needs or
//! withdraws it; a provider of the region realises it into a care offer.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::Utc;
use ggzhub_kit::validate::{self as v, MAX_DESCRIPTION, MAX_NAME, MAX_SHORT_TEXT};
use ggzhub_kit::write::{audit, begin, check_version, new_id, update_guarded};
use ggzhub_kit::{ApiError, ApiResult, GqlResultExt as _, OrgKind};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait};
use serde_json::json;

use super::common::{committed, existing_regions, registered};
use super::offers::{CapacityInput, capacity, care_form_of};
use crate::access;
use crate::domain::*;
use crate::entity::{care_offer, organisation, overview, planned_offer};
use crate::events;
use crate::graphql::planning::PlannedOffer;
use crate::graphql::types::*;
use crate::history;

/// A new offer a region plans (its chair).
#[derive(InputObject)]
pub struct PlanCareOfferInput {
    /// The region (whose chair the caller is).
    pub region_code: String,
    /// Category.
    pub category: CareCategory,
    /// Care form code: a national form or the region's own, of the same category.
    pub care_form: String,
    /// Working name of the department or team (≤ 200 characters).
    pub unit_name: String,
    /// Intended town, if known (≤ 200 characters).
    pub location: Option<String>,
    /// The provider the region intends to realise it (a provider taking part in the region);
    /// omitted: any provider of the region may.
    pub intended_provider_id: Option<ID>,
    /// The region's overview it arises from, if any (an overview of the same region).
    pub overview_id: Option<ID>,
    /// Why the region needs it (no personal data, ≤ 2000 characters).
    pub motivation: String,
}

/// What the realising provider adds to a planned offer to make it a care offer.
#[derive(InputObject)]
pub struct RealisePlannedOfferInput {
    /// Department or team name (default: the planned working name).
    pub unit_name: Option<String>,
    /// Location (town; default: the planned location, required when none was planned).
    pub location: Option<String>,
    /// Capacity.
    pub capacity: Option<CapacityInput>,
    /// Availability.
    pub availability: Availability,
    /// Supra-regional function.
    pub supra_regional: Option<bool>,
    /// Inclusion criteria (no personal data, ≤ 500 characters).
    pub inclusion_criteria: Option<String>,
}

/// The planned offer with `id`, or `NOT_FOUND`.
async fn load_planned<C: ConnectionTrait>(conn: &C, id: &ID) -> ApiResult<planned_offer::Model> {
    let id = v::id("id", id)?;
    planned_offer::Entity::find_by_id(id.clone())
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no planned offer with id {id}")))
}

/// `FAILED_PRECONDITION` unless `p` is still `PLANNED` (a withdrawn or realised plan is done).
fn still_planned(p: &planned_offer::Model) -> ApiResult<()> {
    if p.status == PlannedOfferStatus::Planned.as_str() {
        Ok(())
    } else {
        Err(ApiError::failed_precondition(format!("planned offer {} is already {}", p.id, p.status)))
    }
}

/// Mutations of planned offers.
#[derive(Default)]
pub struct PlanningMutation;

#[Object]
impl PlanningMutation {
    /// Plans a new offer the region decided it needs (the region's chair; audited). It counts as
    /// `PLANNED` in the region's `offerCounts`, never as existing supply.
    async fn plan_care_offer(&self, ctx: &Context<'_>, input: PlanCareOfferInput) -> Result<PlannedOffer> {
        let c = caller(ctx)?;
        async {
            v::region_code("regionCode", &input.region_code)?;
            access::plan_offer(c, &input.region_code)?;
            let unit_name = v::text("unitName", &input.unit_name, MAX_NAME)?;
            let location = input.location.as_deref().map(|l| v::text("location", l, MAX_NAME)).transpose()?;
            let motivation = v::text("motivation", &input.motivation, MAX_DESCRIPTION)?;
            let provider_id =
                input.intended_provider_id.as_ref().map(|p| v::id("intendedProviderId", p)).transpose()?;
            let overview_id = input.overview_id.as_ref().map(|o| v::id("overviewId", o)).transpose()?;
            let txn = begin(ctx).await?;
            existing_regions(&txn, "regionCode", std::slice::from_ref(&input.region_code)).await?;
            care_form_of(&txn, &input.care_form, input.category.as_str(), &input.region_code).await?;
            if let Some(p) = &provider_id {
                match organisation::Entity::find_by_id(p.clone()).one(&txn).await? {
                    Some(o) if o.kind != OrgKind::Provider.as_str() => {
                        return Err(ApiError::bad_input(format!("intendedProviderId {p} is not a provider")));
                    }
                    Some(o)
                        if !o
                            .regions
                            .as_array()
                            .is_some_and(|rs| rs.iter().any(|r| r == &json!(input.region_code))) =>
                    {
                        return Err(ApiError::bad_input(format!(
                            "intendedProviderId {p} does not take part in region {}",
                            input.region_code
                        )));
                    }
                    Some(_) => {}
                    None => return Err(ApiError::bad_input(format!("intendedProviderId: unknown organisation {p}"))),
                }
            }
            if let Some(o) = &overview_id {
                match overview::Entity::find_by_id(o.clone()).one(&txn).await? {
                    Some(found) if found.region_code == input.region_code => {}
                    Some(_) => {
                        return Err(ApiError::bad_input(format!(
                            "overviewId {o} is not an overview of region {}",
                            input.region_code
                        )));
                    }
                    None => return Err(ApiError::bad_input(format!("overviewId: unknown regional overview {o}"))),
                }
            }
            let now = Utc::now();
            let model = planned_offer::ActiveModel {
                id: Set(new_id()),
                region_code: Set(input.region_code.clone()),
                category: Set(input.category.as_str().to_owned()),
                care_form: Set(input.care_form.clone()),
                unit_name: Set(unit_name),
                location: Set(location),
                intended_provider_id: Set(provider_id),
                overview_id: Set(overview_id),
                motivation: Set(motivation),
                status: Set(PlannedOfferStatus::Planned.as_str().to_owned()),
                realised_offer_id: Set(None),
                withdrawal_reason: Set(None),
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
                "PlannedOffer",
                &model.id,
                "plan",
                json!({"regionCode": model.region_code, "category": model.category, "careForm": model.care_form,
                       "unitName": model.unit_name, "intendedProviderId": model.intended_provider_id,
                       "overviewId": model.overview_id, "motivation": model.motivation}),
            )
            .await?;
            txn.commit().await?;
            committed(ctx);
            Ok(PlannedOffer(model))
        }
        .await
        .gql()
    }

    /// Realises a planned offer as a care offer of the caller's own organisation, status
    /// `SECURED` (a provider taking part in the region; the intended provider when the region
    /// named one). The planned offer becomes `REALISED` and links the new offer. A plan already
    /// realised or withdrawn: `FAILED_PRECONDITION`.
    async fn realise_planned_offer(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        input: RealisePlannedOfferInput,
    ) -> Result<PlannedOffer> {
        let c = caller(ctx)?;
        async {
            c.require_kind(&[OrgKind::Provider], "realise planned offers")?;
            let cap = input.capacity.unwrap_or_default();
            capacity(&cap)?;
            let criteria = input
                .inclusion_criteria
                .as_deref()
                .map(|t| v::optional_text("inclusionCriteria", t, MAX_SHORT_TEXT))
                .transpose()?;
            let txn = begin(ctx).await?;
            let current = load_planned(&txn, &id).await?;
            access::realise_planned_offer(c, &current.region_code, current.intended_provider_id.as_deref())?;
            check_version("planned offer", &current.id, current.version, expected_version)?;
            still_planned(&current)?;
            registered(&txn, c, OrgKind::Provider).await?;
            // A form the region's chair retired since the plan is offered for no new offer.
            care_form_of(&txn, &current.care_form, &current.category, &current.region_code).await?;
            let unit_name = v::text("unitName", input.unit_name.as_deref().unwrap_or(&current.unit_name), MAX_NAME)?;
            let location = match (input.location.as_deref(), current.location.as_deref()) {
                (Some(l), _) | (None, Some(l)) => v::text("location", l, MAX_NAME)?,
                (None, None) => return Err(ApiError::bad_input("location must be given: none was planned")),
            };
            let now = Utc::now();
            let offer = care_offer::ActiveModel {
                id: Set(new_id()),
                provider_id: Set(c.org.to_string()),
                region_code: Set(current.region_code.clone()),
                category: Set(current.category.clone()),
                care_form: Set(current.care_form.clone()),
                unit_name: Set(unit_name),
                location: Set(location),
                beds: Set(cap.beds),
                places: Set(cap.places),
                teams: Set(cap.teams),
                fte: Set(cap.fte),
                availability: Set(input.availability.as_str().to_owned()),
                status: Set(OfferStatus::Secured.as_str().to_owned()),
                supra_regional: Set(input.supra_regional.unwrap_or(false)),
                regions_served: Set(json!([current.region_code])),
                inclusion_criteria: Set(criteria),
                intake_pause_from: Set(None),
                intake_pause_until: Set(None),
                intake_pause_reason: Set(None),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                created_by: Set(c.org.to_string()),
                updated_by: Set(c.org.to_string()),
            }
            .insert(&txn)
            .await?;
            history::offer_changed(&txn, &offer).await?;
            events::record_offer_status(&txn, &offer, None, now).await?;
            audit(
                &txn,
                c,
                "CareOffer",
                &offer.id,
                "create",
                json!({"regionCode": offer.region_code, "category": offer.category, "careForm": offer.care_form,
                       "unitName": offer.unit_name, "status": offer.status, "plannedOfferId": current.id}),
            )
            .await?;
            let active = planned_offer::ActiveModel {
                status: Set(PlannedOfferStatus::Realised.as_str().to_owned()),
                realised_offer_id: Set(Some(offer.id.clone())),
                version: Set(expected_version + 1),
                updated_at: Set(now),
                updated_by: Set(c.org.to_string()),
                ..Default::default()
            };
            update_guarded(
                &txn,
                active,
                planned_offer::Column::Id,
                &current.id,
                planned_offer::Column::Version,
                expected_version,
            )
            .await?;
            audit(&txn, c, "PlannedOffer", &current.id, "realise", json!({"careOfferId": offer.id})).await?;
            let model = load_planned(&txn, &id).await?;
            txn.commit().await?;
            committed(ctx);
            Ok(PlannedOffer(model))
        }
        .await
        .gql()
    }

    /// Withdraws a planned offer the region no longer pursues (the region's chair; audited). A
    /// plan already realised or withdrawn: `FAILED_PRECONDITION`.
    async fn withdraw_planned_offer(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        reason: String,
    ) -> Result<PlannedOffer> {
        let c = caller(ctx)?;
        async {
            c.require_kind(&[OrgKind::Provider, OrgKind::Insurer], "plan or withdraw offers for the region")?;
            let reason = v::text("reason", &reason, MAX_DESCRIPTION)?;
            let txn = begin(ctx).await?;
            let current = load_planned(&txn, &id).await?;
            access::plan_offer(c, &current.region_code)?;
            check_version("planned offer", &current.id, current.version, expected_version)?;
            still_planned(&current)?;
            let active = planned_offer::ActiveModel {
                status: Set(PlannedOfferStatus::Withdrawn.as_str().to_owned()),
                withdrawal_reason: Set(Some(reason.clone())),
                version: Set(expected_version + 1),
                updated_at: Set(Utc::now()),
                updated_by: Set(c.org.to_string()),
                ..Default::default()
            };
            update_guarded(
                &txn,
                active,
                planned_offer::Column::Id,
                &current.id,
                planned_offer::Column::Version,
                expected_version,
            )
            .await?;
            audit(&txn, c, "PlannedOffer", &current.id, "withdraw", json!({"reason": reason})).await?;
            let model = load_planned(&txn, &id).await?;
            txn.commit().await?;
            committed(ctx);
            Ok(PlannedOffer(model))
        }
        .await
        .gql()
    }
}
