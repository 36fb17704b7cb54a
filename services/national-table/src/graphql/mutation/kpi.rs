//! National KPIs: their definitions and targets, and the measurements recorded against them.

use async_graphql::{Context, InputObject, Object, Result};
use chrono::Utc;
use ggzhub_kit::validate::{self as v, MAX_LONG_TEXT, MAX_NAME};
use ggzhub_kit::write::{audit, begin, check_version, lost_race, new_id, update_guarded};
use ggzhub_kit::{ApiError, ApiResult, GqlResultExt as _};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use super::common::{Refs, refs};
use crate::access;
use crate::domain::*;
use crate::entity::{kpi, measurement};
use crate::graphql::types::*;

/// A KPI target for one year.
#[derive(InputObject)]
pub struct KpiTargetInput {
    /// Year (2025–2027).
    pub year: i32,
    /// Target value.
    pub value: f64,
}

/// A national KPI (national table).
#[derive(InputObject)]
pub struct KpiInput {
    /// Code: SCREAMING_SNAKE ASCII, ≤ 64 characters.
    pub code: String,
    /// Name.
    pub name: String,
    /// Definition.
    pub definition: String,
    /// Unit.
    pub unit: String,
    /// Which way is better.
    pub direction: KpiDirection,
    /// Targets per year (2025–2027).
    pub targets: Vec<KpiTargetInput>,
}

/// Changes to a KPI; omitted fields stay.
#[derive(InputObject)]
pub struct UpdateKpiInput {
    /// Name.
    pub name: Option<String>,
    /// Definition.
    pub definition: Option<String>,
    /// Unit.
    pub unit: Option<String>,
    /// Direction.
    pub direction: Option<KpiDirection>,
    /// Targets (replace all).
    pub targets: Option<Vec<KpiTargetInput>>,
}

/// Targets as stored: years 2025–2027, each once, finite values, sorted by year.
fn targets(input: &[KpiTargetInput]) -> ApiResult<Value> {
    let mut out: Vec<KpiTarget> = Vec::new();
    for t in input {
        if !KPI_YEARS.contains(&t.year) {
            return Err(ApiError::bad_input(format!("targets: year must be 2025–2027, got {}", t.year)));
        }
        if !t.value.is_finite() {
            return Err(ApiError::bad_input("targets: value must be a finite number"));
        }
        if out.iter().any(|o| o.year == t.year) {
            return Err(ApiError::bad_input(format!("targets: year {} is given twice", t.year)));
        }
        out.push(KpiTarget { year: t.year, value: t.value });
    }
    out.sort_by_key(|t| t.year);
    serde_json::to_value(out).map_err(ApiError::internal)
}

/// `BAD_USER_INPUT` unless `code` is SCREAMING_SNAKE ASCII of 2 to 64 characters.
fn kpi_code(code: &str) -> ApiResult<()> {
    let ok = (2..=64).contains(&code.len())
        && code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        && code.as_bytes()[0].is_ascii_uppercase();
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_input(format!("KPI code must be SCREAMING_SNAKE_CASE, got {}", v::shown(code))))
    }
}

/// KPI mutations: creating and changing a national KPI, recording its measurements.
#[derive(Default)]
pub struct KpiMutation;

#[Object]
impl KpiMutation {
    /// Creates a national KPI (national table).
    async fn create_national_kpi(&self, ctx: &Context<'_>, input: KpiInput) -> Result<NationalKpi> {
        let c = caller(ctx)?;
        async {
            access::national_write(c)?;
            kpi_code(&input.code)?;
            let name = v::text("name", &input.name, MAX_NAME)?;
            let definition = v::text("definition", &input.definition, MAX_LONG_TEXT)?;
            let unit = v::text("unit", &input.unit, 64)?;
            let targets = targets(&input.targets)?;
            let txn = begin(ctx).await?;
            if kpi::Entity::find_by_id(input.code.clone()).one(&txn).await?.is_some() {
                return Err(ApiError::conflict(format!("KPI {} already exists", input.code)));
            }
            let now = Utc::now();
            let model = kpi::ActiveModel {
                code: Set(input.code.clone()),
                name: Set(name),
                definition: Set(definition),
                unit: Set(unit),
                direction: Set(input.direction.as_str().to_owned()),
                targets: Set(targets),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                created_by: Set(c.org.to_string()),
                updated_by: Set(c.org.to_string()),
            }
            .insert(&txn)
            .await
            .map_err(|e| lost_race(e, || ApiError::conflict(format!("KPI {} already exists", input.code))))?;
            audit(&txn, c, "NationalKpi", &model.code, "create", json!({"name": model.name, "targets": model.targets}))
                .await?;
            txn.commit().await?;
            Ok(NationalKpi(model))
        }
        .await
        .gql()
    }

    /// Changes a national KPI (national table).
    async fn update_national_kpi(
        &self,
        ctx: &Context<'_>,
        code: String,
        expected_version: i32,
        input: UpdateKpiInput,
    ) -> Result<NationalKpi> {
        let c = caller(ctx)?;
        async {
            access::national_write(c)?;
            kpi_code(&code)?;
            let txn = begin(ctx).await?;
            let current = kpi::Entity::find_by_id(code.clone())
                .one(&txn)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("no national KPI {code}")))?;
            check_version("national KPI", &code, current.version, expected_version)?;
            let mut active = kpi::ActiveModel {
                version: Set(expected_version + 1),
                updated_at: Set(Utc::now()),
                updated_by: Set(c.org.to_string()),
                ..Default::default()
            };
            let mut change = json!({});
            if let Some(n) = &input.name {
                let n = v::text("name", n, MAX_NAME)?;
                change["name"] = json!(n);
                active.name = Set(n);
            }
            if let Some(d) = &input.definition {
                active.definition = Set(v::text("definition", d, MAX_LONG_TEXT)?);
                change["definition"] = json!("(changed)");
            }
            if let Some(u) = &input.unit {
                let u = v::text("unit", u, 64)?;
                change["unit"] = json!(u);
                active.unit = Set(u);
            }
            if let Some(d) = input.direction {
                change["direction"] = json!(d.as_str());
                active.direction = Set(d.as_str().to_owned());
            }
            if let Some(t) = &input.targets {
                let t = targets(t)?;
                change["targets"] = t.clone();
                active.targets = Set(t);
            }
            update_guarded(&txn, active, kpi::Column::Code, &code, kpi::Column::Version, expected_version).await?;
            audit(&txn, c, "NationalKpi", &code, "update", change).await?;
            let model = kpi::Entity::find_by_id(code.clone())
                .one(&txn)
                .await?
                .ok_or_else(|| ApiError::not_found(code.clone()))?;
            txn.commit().await?;
            Ok(NationalKpi(model))
        }
        .await
        .gql()
    }

    /// Records (or replaces) a KPI measurement for a year, nationally or for one region (national
    /// table). The region is checked with the region subgraph.
    async fn record_kpi_measurement(
        &self,
        ctx: &Context<'_>,
        code: String,
        year: i32,
        region_code: Option<String>,
        value: f64,
    ) -> Result<KpiMeasurement> {
        let c = caller(ctx)?;
        async {
            access::national_write(c)?;
            kpi_code(&code)?;
            v::year(year)?;
            if !value.is_finite() {
                return Err(ApiError::bad_input("value must be a finite number"));
            }
            if let Some(r) = &region_code {
                v::region_code("regionCode", r)?;
                Refs { regions: vec![r.clone()], ..Refs::default() }.check(refs(ctx)?, c).await?;
            }
            let txn = begin(ctx).await?;
            if kpi::Entity::find_by_id(code.clone()).one(&txn).await?.is_none() {
                return Err(ApiError::bad_input(format!("unknown national KPI {code}")));
            }
            let mut q = measurement::Entity::find()
                .filter(measurement::Column::KpiCode.eq(code.clone()))
                .filter(measurement::Column::Year.eq(year));
            q = match &region_code {
                Some(r) => q.filter(measurement::Column::RegionCode.eq(r.clone())),
                None => q.filter(measurement::Column::RegionCode.is_null()),
            };
            let now = Utc::now();
            let model = match q.one(&txn).await? {
                Some(existing) => {
                    let active = measurement::ActiveModel {
                        value: Set(value),
                        version: Set(existing.version + 1),
                        updated_at: Set(now),
                        updated_by: Set(c.org.to_string()),
                        ..Default::default()
                    };
                    update_guarded(
                        &txn,
                        active,
                        measurement::Column::Id,
                        &existing.id,
                        measurement::Column::Version,
                        existing.version,
                    )
                    .await?;
                    measurement::Entity::find_by_id(existing.id.clone())
                        .one(&txn)
                        .await?
                        .ok_or_else(|| ApiError::not_found(existing.id.clone()))?
                }
                None => measurement::ActiveModel {
                    id: Set(new_id()),
                    kpi_code: Set(code.clone()),
                    year: Set(year),
                    region_code: Set(region_code.clone()),
                    value: Set(value),
                    version: Set(1),
                    created_at: Set(now),
                    updated_at: Set(now),
                    created_by: Set(c.org.to_string()),
                    updated_by: Set(c.org.to_string()),
                }
                .insert(&txn)
                .await
                .map_err(|e| {
                    lost_race(e, || ApiError::conflict("the measurement was recorded concurrently; try again"))
                })?,
            };
            audit(
                &txn,
                c,
                "KpiMeasurement",
                &model.id,
                "record",
                json!({"kpi": code, "year": year, "region": region_code, "value": value}),
            )
            .await?;
            txn.commit().await?;
            Ok(KpiMeasurement(model))
        }
        .await
        .gql()
    }
}
