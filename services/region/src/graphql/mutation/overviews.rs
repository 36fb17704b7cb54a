//! Regional overviews (regiobeeld) and the patient organisations' input to them: create, change
//! and publish an overview; submit and change patient input.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::Utc;
use ggzhub_kit::validate::{self as v, MAX_LONG_TEXT};
use ggzhub_kit::write::{audit, begin, check_version, lost_race, new_id, update_guarded};
use ggzhub_kit::{ApiError, ApiResult, Caller, GqlResultExt as _, OrgKind};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::json;

use super::common::existing_regions;
use crate::access;
use crate::domain::*;
use crate::entity::{organisation, overview, patient_input, region};
use crate::graphql::types::*;

/// The four questions for one category.
#[derive(InputObject)]
pub struct CategoryAssessmentInput {
    /// Category.
    pub category: CareCategory,
    /// What crucial care the region has.
    pub what_we_have: String,
    /// Problems seen or foreseen.
    pub problems: String,
    /// What is missing.
    pub missing: String,
    /// Neighbouring region covering what is missing.
    pub covered_by_neighbour: Option<String>,
    /// Which offer has a supra-regional role.
    pub supra_regional_role: String,
}

/// Changes to an overview. Public parts change only while it is a draft.
#[derive(InputObject)]
pub struct UpdateOverviewInput {
    /// Public summary (≤ 8000 characters).
    pub public_summary: Option<String>,
    /// Confidential notes (no personal data, ≤ 8000 characters).
    pub confidential_notes: Option<String>,
    /// Assessments; each replaces the one of its category.
    pub assessments: Option<Vec<CategoryAssessmentInput>>,
}

/// An overview the caller may know of, or `NOT_FOUND`: one it may not read (a draft outside the
/// region's table) is reported exactly like a missing one.
async fn load_overview<C: ConnectionTrait>(conn: &C, c: &Caller, id: &ID) -> ApiResult<overview::Model> {
    let id = v::id("id", id)?;
    overview::Entity::find_by_id(id.clone())
        .one(conn)
        .await?
        .filter(|o| access::overview_visible(c, o))
        .ok_or_else(|| ApiError::not_found(format!("no regional overview with id {id}")))
}

fn assessments(
    input: Vec<CategoryAssessmentInput>,
    existing: &serde_json::Value,
    neighbours: &[String],
) -> ApiResult<serde_json::Value> {
    let mut list: Vec<CategoryAssessment> = serde_json::from_value(existing.clone())
        .map_err(|e| ApiError::internal(anyhow::anyhow!("stored assessments: {e}")))?;
    for a in input {
        if let Some(n) = &a.covered_by_neighbour {
            v::region_code("coveredByNeighbour", n)?;
            if !neighbours.contains(n) {
                return Err(ApiError::bad_input(format!("coveredByNeighbour: {n} is not a neighbour of this region")));
            }
        }
        let item = CategoryAssessment {
            category: a.category,
            what_we_have: v::optional_text("whatWeHave", &a.what_we_have, MAX_LONG_TEXT)?,
            problems: v::optional_text("problems", &a.problems, MAX_LONG_TEXT)?,
            missing: v::optional_text("missing", &a.missing, MAX_LONG_TEXT)?,
            covered_by_neighbour: a.covered_by_neighbour,
            supra_regional_role: v::optional_text("supraRegionalRole", &a.supra_regional_role, MAX_LONG_TEXT)?,
        };
        list.retain(|x| x.category != item.category);
        list.push(item);
    }
    list.sort_by_key(|a| a.category);
    serde_json::to_value(list).map_err(ApiError::internal)
}

/// Mutations of regional overviews and patient input.
#[derive(Default)]
pub struct OverviewMutation;

#[Object]
impl OverviewMutation {
    /// Starts the draft overview of a region for a year (participants).
    async fn create_regional_overview(
        &self,
        ctx: &Context<'_>,
        region_code: String,
        year: i32,
    ) -> Result<RegionalOverview> {
        let c = caller(ctx)?;
        async {
            v::region_code("regionCode", &region_code)?;
            v::year(year)?;
            access::write_overview(c, &region_code)?;
            let txn = begin(ctx).await?;
            existing_regions(&txn, "regionCode", std::slice::from_ref(&region_code)).await?;
            let exists = overview::Entity::find()
                .filter(overview::Column::RegionCode.eq(region_code.clone()))
                .filter(overview::Column::Year.eq(year))
                .one(&txn)
                .await?;
            if let Some(e) = exists {
                return Err(ApiError::conflict(format!(
                    "region {region_code} already has an overview for {year} ({})",
                    e.id
                )));
            }
            let now = Utc::now();
            let model = overview::ActiveModel {
                id: Set(new_id()),
                region_code: Set(region_code.clone()),
                year: Set(year),
                status: Set(OverviewStatus::Draft.as_str().to_owned()),
                public_summary: Set(String::new()),
                confidential_notes: Set(String::new()),
                assessments: Set(json!([])),
                published_at: Set(None),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                created_by: Set(c.org.to_string()),
                updated_by: Set(c.org.to_string()),
            }
            .insert(&txn)
            .await
            .map_err(|e| {
                lost_race(e, || ApiError::conflict(format!("region {region_code} already has an overview for {year}")))
            })?;
            audit(&txn, c, "RegionalOverview", &model.id, "create", json!({"regionCode": region_code, "year": year}))
                .await?;
            txn.commit().await?;
            Ok(RegionalOverview(model.into()))
        }
        .await
        .gql()
    }

    /// Changes an overview (participants). Public parts change only while it is a draft;
    /// confidential notes may change after publication.
    async fn update_regional_overview(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        input: UpdateOverviewInput,
    ) -> Result<RegionalOverview> {
        let c = caller(ctx)?;
        async {
            access::overview_writer(c)?;
            let txn = begin(ctx).await?;
            let current = load_overview(&txn, c, &id).await?;
            access::write_overview(c, &current.region_code)?;
            check_version("regional overview", &current.id, current.version, expected_version)?;
            let published = current.status == OverviewStatus::Published.as_str();
            if published && (input.public_summary.is_some() || input.assessments.is_some()) {
                return Err(ApiError::bad_input(
                    "a published overview's public part is final; only confidential notes can change",
                ));
            }
            let mut active = overview::ActiveModel {
                version: Set(expected_version + 1),
                updated_at: Set(Utc::now()),
                updated_by: Set(c.org.to_string()),
                ..Default::default()
            };
            let mut change = json!({});
            if let Some(s) = &input.public_summary {
                let s = v::optional_text("publicSummary", s, MAX_LONG_TEXT)?;
                change["publicSummary"] = json!(s);
                active.public_summary = Set(s);
            }
            if let Some(n) = &input.confidential_notes {
                let n = v::optional_text("confidentialNotes", n, MAX_LONG_TEXT)?;
                change["confidentialNotes"] = json!("(changed)");
                active.confidential_notes = Set(n);
            }
            if let Some(a) = input.assessments {
                let neighbours: Vec<String> = region::Entity::find_by_id(current.region_code.clone())
                    .one(&txn)
                    .await?
                    .and_then(|r| serde_json::from_value(r.neighbours).ok())
                    .unwrap_or_default();
                let a = assessments(a, &current.assessments, &neighbours)?;
                change["assessments"] = json!("(changed)");
                active.assessments = Set(a);
            }
            update_guarded(
                &txn,
                active,
                overview::Column::Id,
                &current.id,
                overview::Column::Version,
                expected_version,
            )
            .await?;
            audit(&txn, c, "RegionalOverview", &current.id, "update", change).await?;
            let model = load_overview(&txn, c, &id).await?;
            txn.commit().await?;
            Ok(RegionalOverview(model.into()))
        }
        .await
        .gql()
    }

    /// Publishes a draft overview (the region's chair).
    async fn publish_regional_overview(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
    ) -> Result<RegionalOverview> {
        let c = caller(ctx)?;
        async {
            access::overview_writer(c)?;
            let txn = begin(ctx).await?;
            let current = load_overview(&txn, c, &id).await?;
            access::publish_overview(c, &current.region_code)?;
            check_version("regional overview", &current.id, current.version, expected_version)?;
            if current.status == OverviewStatus::Published.as_str() {
                return Err(ApiError::bad_input("the overview is already published"));
            }
            if current.public_summary.trim().is_empty() {
                return Err(ApiError::bad_input("an overview needs a public summary before it is published"));
            }
            let now = Utc::now();
            let active = overview::ActiveModel {
                status: Set(OverviewStatus::Published.as_str().to_owned()),
                published_at: Set(Some(now)),
                version: Set(expected_version + 1),
                updated_at: Set(now),
                updated_by: Set(c.org.to_string()),
                ..Default::default()
            };
            update_guarded(
                &txn,
                active,
                overview::Column::Id,
                &current.id,
                overview::Column::Version,
                expected_version,
            )
            .await?;
            audit(&txn, c, "RegionalOverview", &current.id, "publish", json!({})).await?;
            let model = load_overview(&txn, c, &id).await?;
            txn.commit().await?;
            Ok(RegionalOverview(model.into()))
        }
        .await
        .gql()
    }

    /// Adds a patient organisation's input to a region's overview of a year (regions the
    /// organisation takes part in). The input is published with the overview unless `internal`
    /// (default `false`): internal input is read only by the region's providers and insurers,
    /// the national table and the author.
    #[graphql(tag = "public")]
    async fn submit_patient_input(
        &self,
        ctx: &Context<'_>,
        region_code: String,
        year: i32,
        text: String,
        internal: Option<bool>,
    ) -> Result<PatientInput> {
        let c = caller(ctx)?;
        async {
            v::region_code("regionCode", &region_code)?;
            v::year(year)?;
            access::write_patient_input(c, &region_code)?;
            let text = v::text("text", &text, MAX_LONG_TEXT)?;
            let txn = begin(ctx).await?;
            let o = overview::Entity::find()
                .filter(overview::Column::RegionCode.eq(region_code.clone()))
                .filter(overview::Column::Year.eq(year))
                .one(&txn)
                .await?
                .ok_or_else(|| ApiError::bad_input(format!("region {region_code} has no overview for {year}")))?;
            if organisation::Entity::find_by_id(c.org.to_string()).one(&txn).await?.is_none() {
                return Err(ApiError::bad_input(format!("organisation {} is not registered in the hub", c.org)));
            }
            let now = Utc::now();
            let model = patient_input::ActiveModel {
                id: Set(new_id()),
                overview_id: Set(o.id.clone()),
                organisation_id: Set(c.org.to_string()),
                text: Set(text),
                internal: Set(internal.unwrap_or(false)),
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
                "PatientInput",
                &model.id,
                "create",
                json!({"overviewId": o.id, "internal": model.internal}),
            )
            .await?;
            // The change feed serves patient input nested in its overview: the overview changed.
            ggzhub_kit::changes::record(&txn, "RegionalOverview", &o.id, false).await?;
            txn.commit().await?;
            Ok(PatientInput(model))
        }
        .await
        .gql()
    }

    /// Changes the caller's own patient input; `internal` given changes whether it is kept
    /// internal (omitted: unchanged).
    #[graphql(tag = "public")]
    async fn update_patient_input(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        text: String,
        internal: Option<bool>,
    ) -> Result<PatientInput> {
        let c = caller(ctx)?;
        async {
            let id = v::id("id", &id)?;
            c.require_kind(&[OrgKind::PatientOrganisation], "change patient input")?;
            c.require_scope(ggzhub_kit::token::scopes::INPUT_WRITE)?;
            let text = v::text("text", &text, MAX_LONG_TEXT)?;
            let txn = begin(ctx).await?;
            let missing = || ApiError::not_found(format!("no patient input with id {id}"));
            let current = patient_input::Entity::find_by_id(id.clone()).one(&txn).await?.ok_or_else(missing)?;
            if current.organisation_id != c.org.to_string() {
                return Err(missing());
            }
            check_version("patient input", &id, current.version, expected_version)?;
            let mut active = patient_input::ActiveModel {
                text: Set(text),
                version: Set(expected_version + 1),
                updated_at: Set(Utc::now()),
                updated_by: Set(c.org.to_string()),
                ..Default::default()
            };
            if let Some(i) = internal {
                active.internal = Set(i);
            }
            update_guarded(
                &txn,
                active,
                patient_input::Column::Id,
                &id,
                patient_input::Column::Version,
                expected_version,
            )
            .await?;
            audit(&txn, c, "PatientInput", &id, "update", json!({"internal": internal})).await?;
            // The change feed serves patient input nested in its overview: the overview changed.
            ggzhub_kit::changes::record(&txn, "RegionalOverview", &current.overview_id, false).await?;
            let model = patient_input::Entity::find_by_id(id.clone()).one(&txn).await?.ok_or_else(missing)?;
            txn.commit().await?;
            Ok(PatientInput(model))
        }
        .await
        .gql()
    }
}
