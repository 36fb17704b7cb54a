//! Care offers (zorgaanbod) of the caller's own organisation: create, change, close, and set or
//! end an intake pause.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{NaiveDate, Utc};
use ggzhub_kit::validate::{self as v, MAX_NAME, MAX_SHORT_TEXT};
use ggzhub_kit::write::{audit, begin, check_version, new_id, update_guarded};
use ggzhub_kit::{ApiError, ApiResult, GqlResultExt as _, OrgKind};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseTransaction, EntityTrait};
use serde_json::json;

use super::common::{committed, existing_regions, load_offer, plausible_date, registered};
use crate::access;
use crate::domain::*;
use crate::entity::{care_form, care_offer};
use crate::events;
use crate::graphql::types::*;
use crate::history;

/// Capacity of an offer.
#[derive(InputObject, Default)]
pub struct CapacityInput {
    /// Beds (0–10000).
    pub beds: Option<i32>,
    /// Places (0–10000).
    pub places: Option<i32>,
    /// Teams (0–1000).
    pub teams: Option<i32>,
    /// FTE (0–10000).
    pub fte: Option<f64>,
}

/// Input for a new care offer of the caller's own organisation.
#[derive(InputObject)]
pub struct CreateCareOfferInput {
    /// Region code where the offer is located (one the provider takes part in).
    pub region_code: String,
    /// Category.
    pub category: CareCategory,
    /// Care form code (from `careForms`, of the same category).
    pub care_form: String,
    /// Department or team name.
    pub unit_name: String,
    /// Location (town).
    pub location: String,
    /// Capacity.
    pub capacity: Option<CapacityInput>,
    /// Availability.
    pub availability: Availability,
    /// Status (default `SECURED`; not `CLOSED`, not `PLANNED`).
    pub status: Option<OfferStatus>,
    /// Supra-regional function.
    pub supra_regional: Option<bool>,
    /// Region codes served (the own region is always included).
    pub regions_served: Option<Vec<String>>,
    /// Inclusion criteria (no personal data, ≤ 500 characters).
    pub inclusion_criteria: Option<String>,
}

/// Changes to a care offer; omitted fields stay as they are. Region and provider never change.
#[derive(InputObject)]
pub struct UpdateCareOfferInput {
    /// Care form code.
    pub care_form: Option<String>,
    /// Department or team name.
    pub unit_name: Option<String>,
    /// Location.
    pub location: Option<String>,
    /// Capacity (replaces the whole capacity).
    pub capacity: Option<CapacityInput>,
    /// Availability.
    pub availability: Option<Availability>,
    /// Status (use `closeCareOffer` to close; not `PLANNED`).
    pub status: Option<OfferStatus>,
    /// Supra-regional function.
    pub supra_regional: Option<bool>,
    /// Region codes served.
    pub regions_served: Option<Vec<String>>,
    /// Inclusion criteria.
    pub inclusion_criteria: Option<String>,
    /// Why the status changes to `UNDER_PRESSURE` or `CLOSING` (optional here: recorded as not
    /// given when omitted); alone it replaces the cause of the current status. Closing goes
    /// through `announceOfferClosure`.
    pub status_cause: Option<super::closing::StatusCauseInput>,
}

/// An intake pause (aanmeldpauze).
#[derive(InputObject)]
pub struct IntakePauseInput {
    /// First day.
    pub from: NaiveDate,
    /// Last day; open-ended when omitted.
    pub until: Option<NaiveDate>,
    /// Reason (no personal data, ≤ 500 characters).
    pub reason: String,
}

pub(super) fn capacity(input: &CapacityInput) -> ApiResult<()> {
    v::count("capacity.beds", input.beds, 10_000)?;
    v::count("capacity.places", input.places, 10_000)?;
    v::count("capacity.teams", input.teams, 1_000)?;
    if let Some(f) = input.fte
        && !(f.is_finite() && (0.0..=10_000.0).contains(&f))
    {
        return Err(ApiError::bad_input(format!("capacity.fte must be between 0 and 10000, got {f}")));
    }
    Ok(())
}

/// Checks care form `code` exists, is of `category`, is a national form or `region`'s own
/// (issue 21), and is not retired.
pub(super) async fn care_form_of<C: ConnectionTrait>(
    conn: &C,
    code: &str,
    category: &str,
    region: &str,
) -> ApiResult<()> {
    match care_form::Entity::find_by_id(code.to_owned()).one(conn).await? {
        Some(f) if f.region_code.as_deref().is_some_and(|r| r != region) => Err(ApiError::bad_input(format!(
            "care form {code} is region {}'s own; an offer in region {region} may use the national forms and {region}'s own",
            f.region_code.as_deref().unwrap_or_default()
        ))),
        Some(f) if f.retired_at.is_some() => Err(ApiError::bad_input(format!(
            "care form {code} was retired by region {}'s chair and is offered for no new offer",
            f.region_code.as_deref().unwrap_or_default()
        ))),
        Some(f) if f.category == category => Ok(()),
        Some(f) => {
            Err(ApiError::bad_input(format!("care form {code} belongs to category {}, not {category}", f.category)))
        }
        None => Err(ApiError::bad_input(format!("unknown care form {}", v::shown(code)))),
    }
}

/// Why no care offer takes status `PLANNED` (issue 21).
pub(super) const PLANNED_BY_THE_REGION: &str =
    "PLANNED is for offers a region plans (planCareOffer by its chair), not a care offer's status";

/// Closing a crucial offer is a process (issue 21): CLOSING only through `announceOfferClosure`,
/// with a planned date, the region's notice period and a continuity signal.
pub(super) const CLOSING_BY_ANNOUNCEMENT: &str = "an offer becomes CLOSING only by announceOfferClosure \
     (a planned date at least the region's notice period away, with a cause and a continuity signal)";

/// Mutations of care offers.
#[derive(Default)]
pub struct OfferMutation;

#[Object]
impl OfferMutation {
    /// Creates a care offer of the caller's own organisation.
    async fn create_care_offer(&self, ctx: &Context<'_>, input: CreateCareOfferInput) -> Result<CareOffer> {
        let c = caller(ctx)?;
        access::write_own_offer(c, &c.org.to_string()).gql()?;
        async {
            v::region_code("regionCode", &input.region_code)?;
            let unit_name = v::text("unitName", &input.unit_name, MAX_NAME)?;
            let location = v::text("location", &input.location, MAX_NAME)?;
            let criteria = input.inclusion_criteria.as_deref().map(|t| v::optional_text("inclusionCriteria", t, MAX_SHORT_TEXT)).transpose()?;
            let cap = input.capacity.unwrap_or_default();
            capacity(&cap)?;
            if input.status == Some(OfferStatus::Closed) {
                return Err(ApiError::bad_input("a new care offer cannot start CLOSED"));
            }
            if input.status == Some(OfferStatus::Planned) {
                return Err(ApiError::bad_input(PLANNED_BY_THE_REGION));
            }
            if input.status == Some(OfferStatus::Closing) {
                return Err(ApiError::bad_input(CLOSING_BY_ANNOUNCEMENT));
            }
            let txn = begin(ctx).await?;
            if !c.is_participant(&input.region_code) {
                return Err(ApiError::forbidden(format!("a provider creates offers only in regions it takes part in, not {}", input.region_code)));
            }
            registered(&txn, c, OrgKind::Provider).await?;
            let mut served = existing_regions(&txn, "regionCode", std::slice::from_ref(&input.region_code)).await?;
            for r in existing_regions(&txn, "regionsServed", &input.regions_served.unwrap_or_default()).await? {
                if !served.contains(&r) {
                    served.push(r);
                }
            }
            care_form_of(&txn, &input.care_form, input.category.as_str(), &input.region_code).await?;
            let now = Utc::now();
            let model = care_offer::ActiveModel {
                id: Set(new_id()),
                provider_id: Set(c.org.to_string()),
                region_code: Set(input.region_code.clone()),
                category: Set(input.category.as_str().to_owned()),
                care_form: Set(input.care_form.clone()),
                unit_name: Set(unit_name),
                location: Set(location),
                beds: Set(cap.beds),
                places: Set(cap.places),
                teams: Set(cap.teams),
                fte: Set(cap.fte),
                availability: Set(input.availability.as_str().to_owned()),
                status: Set(input.status.unwrap_or(OfferStatus::Secured).as_str().to_owned()),
                supra_regional: Set(input.supra_regional.unwrap_or(false)),
                regions_served: Set(json!(served)),
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
            history::offer_changed(&txn, &model).await?;
            events::record_offer_status(&txn, &model, None, now).await?;
            audit(&txn, c, "CareOffer", &model.id, "create", json!({"regionCode": model.region_code, "category": model.category, "careForm": model.care_form, "unitName": model.unit_name, "status": model.status})).await?;
            txn.commit().await?;
            committed(ctx);
            Ok(CareOffer::new(model))
        }
        .await
        .gql()
    }

    /// Changes one of the caller's own care offers.
    async fn update_care_offer(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        input: UpdateCareOfferInput,
    ) -> Result<CareOffer> {
        let c = caller(ctx)?;
        async {
            let status_cause = super::closing::check_update_cause(input.status_cause.as_ref())?;
            let txn = begin(ctx).await?;
            let current = load_offer(&txn, &id).await?;
            access::write_own_offer(c, &current.provider_id)?;
            check_version("care offer", &current.id, current.version, expected_version)?;
            if current.status == OfferStatus::Closed.as_str() {
                return Err(ApiError::bad_input("a closed offer cannot change; create a new offer"));
            }
            let mut active = care_offer::ActiveModel {
                version: Set(expected_version + 1),
                updated_at: Set(Utc::now()),
                updated_by: Set(c.org.to_string()),
                ..Default::default()
            };
            let mut change = json!({});
            // An offer keeps a form retired after it chose it: naming its own form again is no change.
            if let Some(f) = input.care_form.as_ref().filter(|f| **f != current.care_form) {
                care_form_of(&txn, f, &current.category, &current.region_code).await?;
                change["careForm"] = json!(f);
                active.care_form = Set(f.clone());
            }
            if let Some(n) = &input.unit_name {
                let n = v::text("unitName", n, MAX_NAME)?;
                change["unitName"] = json!(n);
                active.unit_name = Set(n);
            }
            if let Some(l) = &input.location {
                let l = v::text("location", l, MAX_NAME)?;
                change["location"] = json!(l);
                active.location = Set(l);
            }
            if let Some(cap) = &input.capacity {
                capacity(cap)?;
                change["capacity"] =
                    json!({"beds": cap.beds, "places": cap.places, "teams": cap.teams, "fte": cap.fte});
                active.beds = Set(cap.beds);
                active.places = Set(cap.places);
                active.teams = Set(cap.teams);
                active.fte = Set(cap.fte);
            }
            if let Some(a) = input.availability {
                change["availability"] = json!(a.as_str());
                active.availability = Set(a.as_str().to_owned());
            }
            if let Some(s) = input.status {
                if s == OfferStatus::Closed {
                    return Err(ApiError::bad_input("use closeCareOffer to close an offer"));
                }
                if s == OfferStatus::Planned {
                    return Err(ApiError::bad_input(PLANNED_BY_THE_REGION));
                }
                if current.status == OfferStatus::Closed.as_str() {
                    return Err(ApiError::bad_input("a closed offer cannot be reopened; create a new offer"));
                }
                if s == OfferStatus::Closing && current.status != OfferStatus::Closing.as_str() {
                    return Err(ApiError::bad_input(CLOSING_BY_ANNOUNCEMENT));
                }
                change["status"] = json!(s.as_str());
                active.status = Set(s.as_str().to_owned());
            }
            if let Some(s) = input.supra_regional {
                change["supraRegional"] = json!(s);
                active.supra_regional = Set(s);
            }
            if let Some(rs) = &input.regions_served {
                let mut served = vec![current.region_code.clone()];
                for r in existing_regions(&txn, "regionsServed", rs).await? {
                    if !served.contains(&r) {
                        served.push(r);
                    }
                }
                change["regionsServed"] = json!(served);
                active.regions_served = Set(json!(served));
            }
            if let Some(t) = &input.inclusion_criteria {
                let t = v::optional_text("inclusionCriteria", t, MAX_SHORT_TEXT)?;
                change["inclusionCriteria"] = json!("(changed)");
                active.inclusion_criteria = Set(Some(t));
            }
            update_guarded(
                &txn,
                active,
                care_offer::Column::Id,
                &current.id,
                care_offer::Column::Version,
                expected_version,
            )
            .await?;
            if let Some((kind, _)) = &status_cause {
                change["statusCause"] = json!(kind);
            }
            super::closing::note_status_change(&txn, c, &current, input.status, status_cause).await?;
            audit(&txn, c, "CareOffer", &current.id, "update", change).await?;
            commit_offer_change(ctx, txn, &current, &id).await
        }
        .await
        .gql()
    }

    /// Closes one of the caller's own care offers (status `CLOSED`) whose closure was announced
    /// (`announceOfferClosure`) once its planned date has come; before that date, or without an
    /// announcement, `FAILED_PRECONDITION` naming the planned date (the request is right, the
    /// offer's state does not allow it yet); an offer already closed, `FAILED_PRECONDITION` too.
    async fn close_care_offer(&self, ctx: &Context<'_>, id: ID, expected_version: i32) -> Result<CareOffer> {
        let c = caller(ctx)?;
        async {
            let txn = begin(ctx).await?;
            let current = load_offer(&txn, &id).await?;
            access::write_own_offer(c, &current.provider_id)?;
            check_version("care offer", &current.id, current.version, expected_version)?;
            if current.status == OfferStatus::Closed.as_str() {
                return Err(ApiError::failed_precondition(format!("care offer {} is already closed", current.id)));
            }
            super::closing::closure_due(&txn, &current, clock(ctx).now()).await?;
            let active = care_offer::ActiveModel {
                status: Set(OfferStatus::Closed.as_str().to_owned()),
                version: Set(expected_version + 1),
                updated_at: Set(Utc::now()),
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
            audit(&txn, c, "CareOffer", &current.id, "close", json!({"status": "CLOSED"})).await?;
            commit_offer_change(ctx, txn, &current, &id).await
        }
        .await
        .gql()
    }

    /// Sets an intake pause (aanmeldpauze) on one of the caller's own offers.
    async fn set_intake_pause(
        &self,
        ctx: &Context<'_>,
        offer_id: ID,
        expected_version: i32,
        pause: IntakePauseInput,
    ) -> Result<CareOffer> {
        let c = caller(ctx)?;
        async {
            let reason = v::text("reason", &pause.reason, MAX_SHORT_TEXT)?;
            plausible_date("from", pause.from)?;
            if let Some(u) = pause.until {
                plausible_date("until", u)?;
            }
            if let Some(u) = pause.until
                && u < pause.from
            {
                return Err(ApiError::bad_input(format!("until ({u}) is before from ({})", pause.from)));
            }
            let txn = begin(ctx).await?;
            let current = load_offer(&txn, &offer_id).await?;
            access::write_own_offer(c, &current.provider_id)?;
            check_version("care offer", &current.id, current.version, expected_version)?;
            if current.status == OfferStatus::Closed.as_str() {
                return Err(ApiError::bad_input("a closed offer takes no intake pause"));
            }
            let active = care_offer::ActiveModel {
                intake_pause_from: Set(Some(pause.from)),
                intake_pause_until: Set(pause.until),
                intake_pause_reason: Set(Some(reason.clone())),
                version: Set(expected_version + 1),
                updated_at: Set(Utc::now()),
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
            audit(
                &txn,
                c,
                "CareOffer",
                &current.id,
                "set_intake_pause",
                json!({"from": pause.from, "until": pause.until, "reason": reason}),
            )
            .await?;
            commit_offer_change(ctx, txn, &current, &offer_id).await
        }
        .await
        .gql()
    }

    /// Ends the intake pause of one of the caller's own offers.
    async fn end_intake_pause(&self, ctx: &Context<'_>, offer_id: ID, expected_version: i32) -> Result<CareOffer> {
        let c = caller(ctx)?;
        async {
            let txn = begin(ctx).await?;
            let current = load_offer(&txn, &offer_id).await?;
            access::write_own_offer(c, &current.provider_id)?;
            check_version("care offer", &current.id, current.version, expected_version)?;
            if current.intake_pause_from.is_none() {
                return Err(ApiError::bad_input(format!("care offer {} has no intake pause", current.id)));
            }
            let active = care_offer::ActiveModel {
                intake_pause_from: Set(None),
                intake_pause_until: Set(None),
                intake_pause_reason: Set(None),
                version: Set(expected_version + 1),
                updated_at: Set(Utc::now()),
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
            audit(&txn, c, "CareOffer", &current.id, "end_intake_pause", json!({})).await?;
            commit_offer_change(ctx, txn, &current, &offer_id).await
        }
        .await
        .gql()
    }
}

/// Ends a change of an existing offer: its history row from the stored state, its status event
/// when the status changed from `before`'s, then the commit.
pub(super) async fn commit_offer_change(
    ctx: &Context<'_>,
    txn: DatabaseTransaction,
    before: &care_offer::Model,
    id: &ID,
) -> ApiResult<CareOffer> {
    let model = load_offer(&txn, id).await?;
    history::offer_changed(&txn, &model).await?;
    events::record_offer_status(&txn, &model, Some(&before.status), model.updated_at).await?;
    txn.commit().await?;
    committed(ctx);
    Ok(CareOffer::new(model))
}
