//! Mutations of the Actieplan Wachttijden (issue 21 item 2): supplying a region's unique count of
//! people waiting, confirming a region's transfer lead, and setting an offer's intake outlook.
//! Each checks the caller, validates its input, compares `expectedVersion` (stale → `CONFLICT`;
//! leave it out only when nothing exists yet) and writes its audit entry in the same transaction.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{SubsecRound as _, Utc};
use ggzhub_kit::validate as v;
use ggzhub_kit::write::{audit, begin, check_version, lost_race, new_id, update_guarded};
use ggzhub_kit::{ApiError, ApiResult, GqlResultExt as _, OrgKind};
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel as _,
    PaginatorTrait as _, QueryFilter,
};
use serde_json::json;

use super::common::{committed, load_offer};
use crate::access;
use crate::domain::OfferStatus;
use crate::entity::{intake_outlook, organisation, region, region_overlap, region_waiting_count, transfer_lead};
use crate::graphql::types::{CareOffer, caller};
use crate::graphql::waiting_plan::{TransferLead, UniqueWaitingCount, pause_active, region_transfer_lead};

/// Most people a unique count may give for one region and month.
pub const MAX_UNIQUE_WAITING: i32 = 1_000_000;

/// A region's unique count of people waiting in one month.
#[derive(InputObject)]
pub struct UniqueWaitingCountInput {
    /// Region.
    pub region_code: String,
    /// Month, `YYYY-MM`.
    pub month: String,
    /// People waiting, each counted once however many providers they wait at (0–1000000).
    pub people_waiting: i32,
    /// The version of the count you correct; leave out when the region has none for this month.
    pub expected_version: Option<i32>,
}

/// What a provider tells referrers about intakes for one of its offers.
#[derive(InputObject)]
pub struct IntakeOutlookInput {
    /// Whether an intake is possible now (`true` is refused while an intake pause is active).
    pub intake_possible_now: bool,
    /// Expected wait until intake, in weeks (0–520); leave out when unknown.
    pub expected_wait_weeks: Option<f64>,
}

/// Mutations of the Actieplan Wachttijden.
#[derive(Default)]
pub struct WaitingPlanMutation;

async fn region_row<C: ConnectionTrait>(conn: &C, field: &str, code: &str) -> ApiResult<region::Model> {
    v::region_code(field, code)?;
    region::Entity::find_by_id(code.to_owned())
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::bad_input(format!("{field}: unknown region code {code}")))
}

/// `CONFLICT` unless `expected` matches what exists: nothing (`None`), or the stored version.
fn expect_version(what: &str, id: &str, current: Option<i32>, expected: Option<i32>) -> ApiResult<()> {
    match (current, expected) {
        (None, None) => Ok(()),
        (Some(current), Some(expected)) => check_version(what, id, current, expected),
        (Some(current), None) => Err(ApiError::conflict(format!(
            "{what} {id} exists at version {current}: pass expectedVersion to change it"
        ))),
        (None, Some(expected)) => Err(ApiError::conflict(format!(
            "{what} {id} does not exist yet, not at version {expected}: leave expectedVersion out to create it"
        ))),
    }
}

#[Object]
impl WaitingPlanMutation {
    /// Supplies (or corrects) a region's unique count of people waiting in one month: each person
    /// counted once however many providers they wait at. Supplied by the national table (scope
    /// `national:write`, from a national source) or by the region's coordinating insurer (scope
    /// `overview:write`); everyone else is refused with `FORBIDDEN`. A correction names the
    /// version it corrects (`expectedVersion`; stale → `CONFLICT`) and makes the corrector the
    /// supplier. Audited.
    async fn supply_unique_waiting_count(
        &self,
        ctx: &Context<'_>,
        input: UniqueWaitingCountInput,
    ) -> Result<UniqueWaitingCount> {
        let c = caller(ctx)?;
        async {
            access::unique_waiting_supplier(c)?;
            v::region_code("regionCode", &input.region_code)?;
            v::month(&input.month)?;
            v::count("peopleWaiting", Some(input.people_waiting), MAX_UNIQUE_WAITING)?;
            let txn = begin(ctx).await?;
            let r = region_row(&txn, "regionCode", &input.region_code).await?;
            access::supply_unique_waiting(c, &r.code, r.coordinating_insurer_id.as_deref())?;
            let current = region_waiting_count::Entity::find()
                .filter(region_waiting_count::Column::RegionCode.eq(r.code.clone()))
                .filter(region_waiting_count::Column::Month.eq(input.month.clone()))
                .one(&txn)
                .await?;
            let what = format!("the unique waiting count of {} for", r.code);
            expect_version(&what, &input.month, current.as_ref().map(|m| m.version), input.expected_version)?;
            let now = Utc::now().trunc_subsecs(6);
            let id = match &current {
                None => {
                    let id = new_id();
                    region_waiting_count::Model {
                        id: id.clone(),
                        region_code: r.code.clone(),
                        month: input.month.clone(),
                        people_waiting: input.people_waiting,
                        supplier_id: c.org.to_string(),
                        version: 1,
                        created_at: now,
                        updated_at: now,
                        created_by: c.org.to_string(),
                        updated_by: c.org.to_string(),
                    }
                    .into_active_model()
                    .reset_all()
                    .insert(&txn)
                    .await
                    .map_err(|e| {
                        lost_race(e, || {
                            ApiError::conflict(format!(
                                "{what} {} was supplied meanwhile: reload it and pass expectedVersion",
                                input.month
                            ))
                        })
                    })?;
                    id
                }
                Some(m) => {
                    let expected = m.version;
                    let active = region_waiting_count::ActiveModel {
                        people_waiting: Set(input.people_waiting),
                        supplier_id: Set(c.org.to_string()),
                        version: Set(expected + 1),
                        updated_at: Set(now),
                        updated_by: Set(c.org.to_string()),
                        ..Default::default()
                    };
                    update_guarded(
                        &txn,
                        active,
                        region_waiting_count::Column::Id,
                        &m.id,
                        region_waiting_count::Column::Version,
                        expected,
                    )
                    .await?;
                    m.id.clone()
                }
            };
            let action = if current.is_some() { "correct" } else { "supply" };
            audit(
                &txn,
                c,
                "UniqueWaitingCount",
                &id,
                action,
                json!({"regionCode": r.code, "month": input.month, "peopleWaiting": input.people_waiting}),
            )
            .await?;
            let model = region_waiting_count::Entity::find_by_id(id.clone())
                .one(&txn)
                .await?
                .ok_or_else(|| ApiError::not_found(id.clone()))?;
            txn.commit().await?;
            committed(ctx);
            Ok(UniqueWaitingCount(model))
        }
        .await
        .gql()
    }

    /// Confirms the region's lead provider for the transfer mechanism (overdrachtsmechanisme): the
    /// region's chair only (scope `overview:write`), with the hub's proposal
    /// (`Region.transferLead.proposed`) or another provider taking part in the region. The first
    /// confirmation leaves `expectedVersion` out; a later one names the confirmed lead's version
    /// (stale → `CONFLICT`). A lead is chosen per care-office region: an IZA region that overlaps
    /// care-office regions is refused (`BAD_USER_INPUT`). Audited.
    async fn confirm_transfer_lead(
        &self,
        ctx: &Context<'_>,
        region_code: ID,
        provider_id: ID,
        expected_version: Option<i32>,
    ) -> Result<TransferLead> {
        let c = caller(ctx)?;
        async {
            v::region_code("regionCode", &region_code)?;
            access::confirm_transfer_lead(c, &region_code)?;
            let provider = v::id("providerId", &provider_id)?;
            let txn = begin(ctx).await?;
            let r = region_row(&txn, "regionCode", &region_code).await?;
            // A lead is chosen per care-office region: an IZA region answered through the
            // care-office regions it overlaps shows none (`Region.transferLead` is null).
            let overlapped = region_overlap::Entity::find()
                .filter(region_overlap::Column::IzaCode.eq(r.code.clone()))
                .count(&txn)
                .await?;
            if overlapped > 0 {
                return Err(ApiError::bad_input(format!(
                    "regionCode: {} is an IZA region that overlaps care-office regions: confirm the transfer lead \
                     of each care-office region",
                    r.code
                )));
            }
            let org = organisation::Entity::find_by_id(provider.clone())
                .one(&txn)
                .await?
                .ok_or_else(|| ApiError::bad_input(format!("providerId: no organisation with id {provider}")))?;
            let takes_part = org.regions.as_array().is_some_and(|a| a.iter().any(|x| x.as_str() == Some(&r.code)));
            if org.kind != OrgKind::Provider.as_str() || !takes_part {
                return Err(ApiError::bad_input(format!(
                    "providerId: {provider} is not a provider taking part in region {}",
                    r.code
                )));
            }
            let current = transfer_lead::Entity::find_by_id(r.code.clone()).one(&txn).await?;
            let what = "the transfer lead of region";
            expect_version(what, &r.code, current.as_ref().map(|m| m.version), expected_version)?;
            let now = Utc::now().trunc_subsecs(6);
            match &current {
                None => {
                    transfer_lead::Model {
                        region_code: r.code.clone(),
                        provider_id: provider.clone(),
                        confirmed_at: now,
                        confirmed_by: c.org.to_string(),
                        version: 1,
                        created_at: now,
                        updated_at: now,
                        created_by: c.org.to_string(),
                        updated_by: c.org.to_string(),
                    }
                    .into_active_model()
                    .reset_all()
                    .insert(&txn)
                    .await
                    .map_err(|e| {
                        lost_race(e, || {
                            ApiError::conflict(format!(
                                "{what} {} was confirmed meanwhile: reload it and pass expectedVersion",
                                r.code
                            ))
                        })
                    })?;
                }
                Some(m) => {
                    let active = transfer_lead::ActiveModel {
                        provider_id: Set(provider.clone()),
                        confirmed_at: Set(now),
                        confirmed_by: Set(c.org.to_string()),
                        version: Set(m.version + 1),
                        updated_at: Set(now),
                        updated_by: Set(c.org.to_string()),
                        ..Default::default()
                    };
                    update_guarded(
                        &txn,
                        active,
                        transfer_lead::Column::RegionCode,
                        &r.code,
                        transfer_lead::Column::Version,
                        m.version,
                    )
                    .await?;
                }
            }
            audit(&txn, c, "TransferLead", &r.code, "confirm", json!({"providerId": provider})).await?;
            txn.commit().await?;
            committed(ctx);
            Ok(())
        }
        .await
        .gql()?;
        region_transfer_lead(ctx, &region_code).await
    }

    /// Sets whether an intake is possible now for one of the caller's own care offers and the
    /// expected wait in weeks, for referrers (public on `CareOffer.intakeOutlook`). The offer's
    /// provider only (scope `offers:write`). `intakePossibleNow: true` is refused while an intake
    /// pause is active, and a closed offer takes no outlook (both `FAILED_PRECONDITION`). The first outlook leaves
    /// `expectedVersion` out; a change names the outlook's version (`intakeOutlook.version`;
    /// stale → `CONFLICT`). Audited.
    async fn set_intake_outlook(
        &self,
        ctx: &Context<'_>,
        offer_id: ID,
        expected_version: Option<i32>,
        input: IntakeOutlookInput,
    ) -> Result<CareOffer> {
        let c = caller(ctx)?;
        async {
            if let Some(w) = input.expected_wait_weeks {
                v::weeks("expectedWaitWeeks", w)?;
            }
            let txn = begin(ctx).await?;
            let offer = load_offer(&txn, &offer_id).await?;
            access::write_own_offer(c, &offer.provider_id)?;
            if offer.status == OfferStatus::Closed.as_str() {
                return Err(ApiError::failed_precondition(format!("care offer {} is closed: it takes no intakes", offer.id)));
            }
            if input.intake_possible_now && pause_active(&offer, ggzhub_kit::calendar::today()) {
                return Err(ApiError::failed_precondition(format!(
                    "intakePossibleNow: care offer {} has an active intake pause; end the pause first",
                    offer.id
                )));
            }
            let current = intake_outlook::Entity::find_by_id(offer.id.clone()).one(&txn).await?;
            expect_version(
                "the intake outlook of care offer",
                &offer.id,
                current.as_ref().map(|m| m.version),
                expected_version,
            )?;
            let now = Utc::now().trunc_subsecs(6);
            match &current {
                None => {
                    intake_outlook::Model {
                        offer_id: offer.id.clone(),
                        intake_possible_now: input.intake_possible_now,
                        expected_wait_weeks: input.expected_wait_weeks,
                        version: 1,
                        created_at: now,
                        updated_at: now,
                        created_by: c.org.to_string(),
                        updated_by: c.org.to_string(),
                    }
                    .into_active_model()
                    .reset_all()
                    .insert(&txn)
                    .await
                    .map_err(|e| {
                        lost_race(e, || {
                            ApiError::conflict(format!(
                                "the intake outlook of care offer {} was set meanwhile: reload it and pass expectedVersion",
                                offer.id
                            ))
                        })
                    })?;
                }
                Some(m) => {
                    let active = intake_outlook::ActiveModel {
                        intake_possible_now: Set(input.intake_possible_now),
                        expected_wait_weeks: Set(input.expected_wait_weeks),
                        version: Set(m.version + 1),
                        updated_at: Set(now),
                        updated_by: Set(c.org.to_string()),
                        ..Default::default()
                    };
                    update_guarded(
                        &txn,
                        active,
                        intake_outlook::Column::OfferId,
                        &offer.id,
                        intake_outlook::Column::Version,
                        m.version,
                    )
                    .await?;
                }
            }
            audit(
                &txn,
                c,
                // On the offer: partners following care offers in the change feed see the outlook change.
                "CareOffer",
                &offer.id,
                "set_intake_outlook",
                json!({"intakePossibleNow": input.intake_possible_now, "expectedWaitWeeks": input.expected_wait_weeks}),
            )
            .await?;
            txn.commit().await?;
            committed(ctx);
            Ok(CareOffer::new(offer))
        }
        .await
        .gql()
    }
}
