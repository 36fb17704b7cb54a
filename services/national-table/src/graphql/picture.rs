//! GraphQL types of the national table's part of the national picture (issue 14).

use async_graphql::{Context, Object, Result, SimpleObject};
use ggzhub_kit::GqlResultExt as _;
use sea_orm::DatabaseConnection;

use super::types::{Measure, NationalKpi, caller};
use crate::domain::{CareCategory, EscalationStatus};
use crate::picture::{self, EscalationCountRow, EscalationScope, KpiProgressRow};

/// Escalations (knelpunten) of one region, category and status.
#[derive(SimpleObject, Debug, Clone, PartialEq)]
#[graphql(tag = "public")]
pub struct EscalationCount {
    /// Status.
    pub status: EscalationStatus,
    /// Category of crucial care.
    pub category: CareCategory,
    /// Code of the raising region.
    pub region: String,
    /// How many escalations (more than zero: groups without escalations are left out).
    pub count: i32,
}

impl EscalationCount {
    /// The count of a database row (`None` for a stored value the schema does not know).
    pub(crate) fn from_row(r: &EscalationCountRow) -> Option<Self> {
        Some(Self {
            status: EscalationStatus::parse(&r.status)?,
            category: CareCategory::parse(&r.category)?,
            region: r.region_code.clone(),
            count: i32::try_from(r.count).unwrap_or(i32::MAX),
        })
    }
}

/// Counts the caller may see, converted from rows.
pub(crate) fn counts(rows: &[EscalationCountRow]) -> Vec<EscalationCount> {
    rows.iter().filter_map(EscalationCount::from_row).collect()
}

/// A national KPI's progress in one year: the national figure against the agreed target.
pub struct KpiProgress(pub KpiProgressRow);

/// A national KPI's progress in one year: the national figure against the agreed target.
#[Object(tag = "public")]
impl KpiProgress {
    /// The KPI.
    async fn kpi(&self) -> NationalKpi {
        NationalKpi(self.0.kpi.clone())
    }
    /// Year (2025–2027, the years of the IZA, and earlier years with a target or measurement).
    async fn year(&self) -> i32 {
        self.0.year
    }
    /// The target agreed for the year; `null` when none is set.
    async fn target(&self) -> Option<f64> {
        self.0.target
    }
    /// The national figure measured for the year; `null` until the national table records it.
    async fn value(&self) -> Option<f64> {
        self.0.value
    }
    /// Whether the national figure meets the target, in the KPI's direction (at least the
    /// target when higher is better, at most when lower is better); `null` without both.
    async fn on_track(&self) -> Option<bool> {
        self.0.on_track()
    }
    /// How many regions have a measurement for the year.
    async fn regions_measured(&self) -> i32 {
        i32::try_from(self.0.regions_measured).unwrap_or(i32::MAX)
    }
}

/// The national table's part of the national picture (landelijk beeld): escalations by region,
/// category and status, overdue measures and progress on the national KPIs. Computed when asked.
pub struct NationalTablePicture;

/// The national table's part of the national picture (landelijk beeld): escalations by region,
/// category and status, overdue measures and progress on the national KPIs. Computed when asked.
#[Object]
impl NationalTablePicture {
    /// Escalations counted per raising region, category and status (groups with at least one).
    /// Counted are the escalations the caller may list: the national table counts all of them;
    /// providers and insurers all of the regions where they sit at the table and the decided
    /// ones (MEASURE_AGREED, RESOLVED, DECLINED) elsewhere; patient organisations,
    /// municipalities and the public only decided ones, whose public summary is public.
    #[graphql(tag = "public")]
    async fn escalation_counts(&self, ctx: &Context<'_>) -> Result<Vec<EscalationCount>> {
        let scope = EscalationScope::of(caller(ctx)?).gql()?;
        let db = ctx.data::<DatabaseConnection>()?;
        let rows = picture::escalation_counts(db, scope.condition()).await.map_err(ggzhub_kit::ApiError::from).gql()?;
        Ok(counts(&rows))
    }
    /// Agreed measures past their due date and neither done nor cancelled, counted over the same
    /// escalations as `escalationCounts` (so decided escalations only, for patient organisations,
    /// municipalities and the public).
    #[graphql(tag = "public")]
    async fn overdue_measures(&self, ctx: &Context<'_>) -> Result<i32> {
        let scope = EscalationScope::of(caller(ctx)?).gql()?;
        let db = ctx.data::<DatabaseConnection>()?;
        let n = picture::overdue_measure_count(db, &scope, picture::today())
            .await
            .map_err(ggzhub_kit::ApiError::from)
            .gql()?;
        Ok(i32::try_from(n).unwrap_or(i32::MAX))
    }
    /// The overdue measures themselves, longest overdue first (at most 500), for those who read
    /// measures: the national table (all) and providers and insurers (those on escalations of the
    /// regions where they sit at the table). `null` and `FORBIDDEN` for everyone else: measures
    /// are not part of an escalation's public summary.
    async fn measures_overdue(&self, ctx: &Context<'_>) -> Result<Option<Vec<Measure>>> {
        let cond = picture::measure_list_condition(caller(ctx)?).gql()?;
        let db = ctx.data::<DatabaseConnection>()?;
        let rows =
            picture::overdue_measures(db, cond, picture::today()).await.map_err(ggzhub_kit::ApiError::from).gql()?;
        Ok(Some(rows.into_iter().map(Measure).collect()))
    }
    /// Progress of every national KPI per year up to 2027: the national figure against the
    /// target, ordered by KPI code and year. Public, like the KPIs themselves.
    #[graphql(tag = "public")]
    async fn kpi_progress(&self, ctx: &Context<'_>) -> Result<Vec<KpiProgress>> {
        crate::access::read(caller(ctx)?).gql()?;
        let db = ctx.data::<DatabaseConnection>()?;
        let rows = picture::kpi_progress(db).await.map_err(ggzhub_kit::ApiError::from).gql()?;
        Ok(rows.into_iter().map(KpiProgress).collect())
    }
}
