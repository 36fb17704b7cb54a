//! Waiting-time reports of the caller's own organisation: report and correct.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::Utc;
use ggzhub_kit::validate::{self as v, MAX_NAME};
use ggzhub_kit::write::{audit, begin, check_version, lost_race, new_id, update_guarded};
use ggzhub_kit::{ApiError, GqlResultExt as _, OrgKind};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use super::common::{existing_regions, registered};
use crate::access;
use crate::entity::{diagnosis_group, waiting_time};
use crate::graphql::types::*;
use crate::history;

/// A waiting-time report.
#[derive(InputObject)]
pub struct WaitingTimeInput {
    /// Reporting provider (must be the caller's organisation).
    pub provider_id: ID,
    /// Region of the location.
    pub region_code: String,
    /// Location (town).
    pub location: String,
    /// Diagnosis group code.
    pub diagnosis_group: String,
    /// Month, `YYYY-MM`.
    pub month: String,
    /// Weeks from registration to intake.
    pub registration_to_intake_weeks: f64,
    /// Weeks from intake to treatment.
    pub intake_to_treatment_weeks: f64,
    /// People waiting.
    pub waiting_count: i32,
}

/// Corrected figures of a waiting-time report.
#[derive(InputObject)]
pub struct WaitingTimeCorrection {
    /// Weeks from registration to intake.
    pub registration_to_intake_weeks: f64,
    /// Weeks from intake to treatment.
    pub intake_to_treatment_weeks: f64,
    /// People waiting.
    pub waiting_count: i32,
}

/// Mutations of waiting-time reports.
#[derive(Default)]
pub struct WaitingTimeMutation;

#[Object]
impl WaitingTimeMutation {
    /// Reports waiting times of the caller's own organisation for one location, diagnosis group
    /// and month. A second report for the same key is a `CONFLICT`: correct the existing one.
    async fn report_waiting_time(&self, ctx: &Context<'_>, input: WaitingTimeInput) -> Result<WaitingTimeReport> {
        let c = caller(ctx)?;
        async {
            let provider_id = v::id("providerId", &input.provider_id)?;
            access::write_own_waiting_times(c, &provider_id)?;
            v::region_code("regionCode", &input.region_code)?;
            let location = v::text("location", &input.location, MAX_NAME)?;
            v::month(&input.month)?;
            v::weeks("registrationToIntakeWeeks", input.registration_to_intake_weeks)?;
            v::weeks("intakeToTreatmentWeeks", input.intake_to_treatment_weeks)?;
            v::count("waitingCount", Some(input.waiting_count), 1_000_000)?;
            if !c.is_participant(&input.region_code) {
                return Err(ApiError::forbidden(format!("a provider reports waiting times only in regions it takes part in, not {}", input.region_code)));
            }
            let txn = begin(ctx).await?;
            registered(&txn, c, OrgKind::Provider).await?;
            existing_regions(&txn, "regionCode", std::slice::from_ref(&input.region_code)).await?;
            if diagnosis_group::Entity::find_by_id(input.diagnosis_group.clone()).one(&txn).await?.is_none() {
                return Err(ApiError::bad_input(format!("unknown diagnosis group {}", v::shown(&input.diagnosis_group))));
            }
            let exists = waiting_time::Entity::find()
                .filter(waiting_time::Column::ProviderId.eq(provider_id.clone()))
                .filter(waiting_time::Column::Location.eq(location.clone()))
                .filter(waiting_time::Column::DiagnosisGroup.eq(input.diagnosis_group.clone()))
                .filter(waiting_time::Column::Month.eq(input.month.clone()))
                .one(&txn)
                .await?;
            if let Some(e) = exists {
                return Err(ApiError::conflict(format!("a report for {}, {}, {} exists ({}): use correctWaitingTime", v::shown(&location), input.diagnosis_group, input.month, e.id)));
            }
            let now = Utc::now();
            let model = waiting_time::ActiveModel {
                id: Set(new_id()),
                provider_id: Set(provider_id),
                region_code: Set(input.region_code.clone()),
                location: Set(location),
                diagnosis_group: Set(input.diagnosis_group.clone()),
                month: Set(input.month.clone()),
                registration_weeks: Set(input.registration_to_intake_weeks),
                treatment_weeks: Set(input.intake_to_treatment_weeks),
                waiting_count: Set(input.waiting_count),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                created_by: Set(c.org.to_string()),
                updated_by: Set(c.org.to_string()),
            }
            .insert(&txn)
            .await
            .map_err(|e| {
                lost_race(e, || {
                    ApiError::conflict(format!(
                        "a report for {}, {}, {} exists: use correctWaitingTime",
                        v::shown(input.location.trim()),
                        input.diagnosis_group,
                        input.month
                    ))
                })
            })?;
            history::waiting_time_reported(&txn, &model).await?;
            audit(&txn, c, "WaitingTimeReport", &model.id, "create", json!({"month": model.month, "diagnosisGroup": model.diagnosis_group, "registrationWeeks": model.registration_weeks, "treatmentWeeks": model.treatment_weeks, "waitingCount": model.waiting_count})).await?;
            txn.commit().await?;
            Ok(WaitingTimeReport::from(model))
        }
        .await
        .gql()
    }

    /// Corrects the figures of one of the caller's own waiting-time reports.
    async fn correct_waiting_time(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        input: WaitingTimeCorrection,
    ) -> Result<WaitingTimeReport> {
        let c = caller(ctx)?;
        async {
            let id = v::id("id", &id)?;
            v::weeks("registrationToIntakeWeeks", input.registration_to_intake_weeks)?;
            v::weeks("intakeToTreatmentWeeks", input.intake_to_treatment_weeks)?;
            v::count("waitingCount", Some(input.waiting_count), 1_000_000)?;
            let txn = begin(ctx).await?;
            let current = waiting_time::Entity::find_by_id(id.clone()).one(&txn).await?.ok_or_else(|| ApiError::not_found(format!("no waiting-time report with id {id}")))?;
            access::write_own_waiting_times(c, &current.provider_id)?;
            check_version("waiting-time report", &id, current.version, expected_version)?;
            let active = waiting_time::ActiveModel {
                registration_weeks: Set(input.registration_to_intake_weeks),
                treatment_weeks: Set(input.intake_to_treatment_weeks),
                waiting_count: Set(input.waiting_count),
                version: Set(expected_version + 1),
                updated_at: Set(Utc::now()),
                updated_by: Set(c.org.to_string()),
                ..Default::default()
            };
            update_guarded(&txn, active, waiting_time::Column::Id, &id, waiting_time::Column::Version, expected_version).await?;
            audit(&txn, c, "WaitingTimeReport", &id, "correct", json!({"registrationWeeks": input.registration_to_intake_weeks, "treatmentWeeks": input.intake_to_treatment_weeks, "waitingCount": input.waiting_count})).await?;
            let model = waiting_time::Entity::find_by_id(id.clone()).one(&txn).await?.ok_or_else(|| ApiError::not_found(id.clone()))?;
            history::waiting_time_reported(&txn, &model).await?;
            txn.commit().await?;
            Ok(WaitingTimeReport::from(model))
        }
        .await
        .gql()
    }
}
