//! The national table's part of the national picture (issue 14): escalations counted by region,
//! category and status, overdue measures, and KPI progress against the targets per year. Every
//! figure is computed in the database (`GROUP BY`, `COUNT`), never by loading rows into Rust; what
//! a caller may count follows the access matrix through [`EscalationScope`].

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use ggzhub_kit::{ApiError, ApiResult, Caller, OrgKind};
use sea_orm::sea_query::{Expr, Query as SqlQuery};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::domain::{EscalationStatus, KPI_YEARS, KpiDirection, MeasureStatus};
use crate::entity::{escalation, kpi, measure, measurement};

/// Today's date in the Netherlands, the one place "overdue" takes it from (a measure's due date
/// is a Dutch calendar date: [`ggzhub_kit::calendar`]).
pub fn today() -> NaiveDate {
    ggzhub_kit::calendar::today()
}

/// Which escalations a caller may count: the same ones it may list (`Query.escalations`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EscalationScope {
    /// Every escalation, whatever its status (the national table).
    All,
    /// Every escalation of these regions (where the caller sits at the table), and decided ones
    /// everywhere (providers and insurers).
    Participant(BTreeSet<String>),
    /// Decided escalations only: their public summary is public (patient organisations,
    /// municipalities, anonymous readers of the public picture).
    Decided,
}

impl EscalationScope {
    /// The scope of `c` (`FORBIDDEN` for the hub operator or without `picture:read`).
    pub fn of(c: &Caller) -> ApiResult<Self> {
        crate::access::read(c)?;
        Ok(match c.kind {
            OrgKind::NationalTable => Self::All,
            OrgKind::Provider | OrgKind::Insurer => Self::Participant(c.regions.clone()),
            _ => Self::Decided,
        })
    }

    /// Whether every escalation of `region` counts, undecided ones included.
    pub fn full_in(&self, region: &str) -> bool {
        match self {
            Self::All => true,
            Self::Participant(regions) => regions.contains(region),
            Self::Decided => false,
        }
    }

    /// The `WHERE` condition on `escalations` for this scope.
    pub fn condition(&self) -> Condition {
        let decided = escalation::Column::Status.is_in(EscalationStatus::DECIDED);
        match self {
            Self::All => Condition::all(),
            Self::Participant(regions) => {
                Condition::any().add(escalation::Column::RegionCode.is_in(regions.iter().cloned())).add(decided)
            }
            Self::Decided => Condition::all().add(decided),
        }
    }
}

/// Escalations of one region, category and status.
#[derive(Debug, Clone, PartialEq, Eq, sea_orm::FromQueryResult)]
pub struct EscalationCountRow {
    /// Raising region.
    pub region_code: String,
    /// Category (stored name).
    pub category: String,
    /// Status (stored name).
    pub status: String,
    /// How many.
    pub count: i64,
}

/// Escalations counted per region, category and status under `cond`, in one statement, ordered
/// by region, category and status; groups without escalations are absent.
pub async fn escalation_counts(db: &DatabaseConnection, cond: Condition) -> Result<Vec<EscalationCountRow>, DbErr> {
    escalation::Entity::find()
        .select_only()
        .column(escalation::Column::RegionCode)
        .column(escalation::Column::Category)
        .column(escalation::Column::Status)
        .column_as(Expr::cust("COUNT(*)"), "count")
        .filter(cond)
        .group_by(escalation::Column::RegionCode)
        .group_by(escalation::Column::Category)
        .group_by(escalation::Column::Status)
        .order_by_asc(escalation::Column::RegionCode)
        .order_by_asc(escalation::Column::Category)
        .order_by_asc(escalation::Column::Status)
        .into_model::<EscalationCountRow>()
        .all(db)
        .await
}

/// Measures still open (planned or in progress) whose due date lies before `today`, on the
/// escalations matching `escalations`.
fn overdue_condition(escalations: Condition, today: NaiveDate) -> Condition {
    let mut visible = SqlQuery::select();
    visible.column(escalation::Column::Id).from(escalation::Entity).cond_where(escalations);
    Condition::all()
        .add(measure::Column::Status.is_in([MeasureStatus::Planned.as_str(), MeasureStatus::InProgress.as_str()]))
        .add(measure::Column::DueDate.lt(today))
        .add(measure::Column::EscalationId.in_subquery(visible))
}

/// How many measures on the escalations in `scope` are overdue on `today` (one statement).
pub async fn overdue_measure_count(
    db: &DatabaseConnection,
    scope: &EscalationScope,
    today: NaiveDate,
) -> Result<i64, DbErr> {
    #[derive(sea_orm::FromQueryResult)]
    struct Count {
        count: i64,
    }
    let row = measure::Entity::find()
        .select_only()
        .column_as(Expr::cust("COUNT(*)"), "count")
        .filter(overdue_condition(scope.condition(), today))
        .into_model::<Count>()
        .one(db)
        .await?;
    Ok(row.map_or(0, |r| r.count))
}

/// Most overdue measures a list returns.
pub const MAX_OVERDUE_LISTED: u64 = 500;

/// Which overdue measures a caller may list: those of escalations whose measures it may read
/// (every escalation for the national table; the escalations of its own regions for providers
/// and insurers). `FORBIDDEN` for everyone else: measures are not part of the public summary.
pub fn measure_list_condition(c: &Caller) -> ApiResult<Condition> {
    crate::access::read(c)?;
    match c.kind {
        OrgKind::NationalTable => Ok(Condition::all()),
        OrgKind::Provider | OrgKind::Insurer => {
            Ok(Condition::all().add(escalation::Column::RegionCode.is_in(c.regions.iter().cloned())))
        }
        _ => Err(ApiError::forbidden(
            "measures are visible to the raising region's providers and insurers and the national table only",
        )),
    }
}

/// The overdue measures on escalations matching `escalations`, longest overdue first (at most
/// [`MAX_OVERDUE_LISTED`]).
pub async fn overdue_measures(
    db: &DatabaseConnection,
    escalations: Condition,
    today: NaiveDate,
) -> Result<Vec<measure::Model>, DbErr> {
    measure::Entity::find()
        .filter(overdue_condition(escalations, today))
        .order_by_asc(measure::Column::DueDate)
        .order_by_asc(measure::Column::Id)
        .limit(MAX_OVERDUE_LISTED)
        .all(db)
        .await
}

/// Last year KPI progress is reported for (the IZA runs to 2027).
pub const LAST_KPI_YEAR: i32 = *KPI_YEARS.end();

/// A national KPI's progress in one year.
#[derive(Debug, Clone, PartialEq)]
pub struct KpiProgressRow {
    /// The KPI.
    pub kpi: kpi::Model,
    /// Year.
    pub year: i32,
    /// The agreed target for the year, if any.
    pub target: Option<f64>,
    /// The national figure measured for the year, if recorded.
    pub value: Option<f64>,
    /// Regions with a measurement that year.
    pub regions_measured: i64,
}

impl KpiProgressRow {
    /// Whether the national figure meets the target in the KPI's direction; `None` without
    /// both.
    pub fn on_track(&self) -> Option<bool> {
        let (target, value) = (self.target?, self.value?);
        Some(match KpiDirection::parse(&self.kpi.direction)? {
            KpiDirection::HigherIsBetter => value >= target,
            KpiDirection::LowerIsBetter => value <= target,
        })
    }
}

/// Progress of every national KPI per year, for the years of the IZA (2025–2027) and any earlier
/// year with a target or a measurement, up to 2027: ordered by KPI code and year. Two
/// statements: the KPIs (their targets are a short JSON list each) and the measurements grouped
/// by KPI and year (`GROUP BY`: the national figure and the number of regions measured).
pub async fn kpi_progress(db: &DatabaseConnection) -> Result<Vec<KpiProgressRow>, DbErr> {
    #[derive(sea_orm::FromQueryResult)]
    struct Measured {
        kpi_code: String,
        year: i32,
        national: Option<f64>,
        regions: i64,
    }
    let kpis = kpi::Entity::find().order_by_asc(kpi::Column::Code).all(db).await?;
    let measured = measurement::Entity::find()
        .select_only()
        .column(measurement::Column::KpiCode)
        .column(measurement::Column::Year)
        .column_as(Expr::cust("MAX(CASE WHEN region_code IS NULL THEN value END)"), "national")
        .column_as(Expr::cust("COUNT(region_code)"), "regions")
        .filter(measurement::Column::Year.lte(LAST_KPI_YEAR))
        .group_by(measurement::Column::KpiCode)
        .group_by(measurement::Column::Year)
        .into_model::<Measured>()
        .all(db)
        .await?;
    let mut by_kpi: BTreeMap<String, BTreeMap<i32, (Option<f64>, i64)>> = BTreeMap::new();
    for m in measured {
        by_kpi.entry(m.kpi_code).or_default().insert(m.year, (m.national, m.regions));
    }
    let mut out = Vec::new();
    for k in kpis {
        let targets: BTreeMap<i32, f64> = k
            .targets
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| Some((i32::try_from(t["year"].as_i64()?).ok()?, t["value"].as_f64()?)))
            .collect();
        let measured = by_kpi.remove(&k.code).unwrap_or_default();
        let years: BTreeSet<i32> = KPI_YEARS
            .chain(targets.keys().copied())
            .chain(measured.keys().copied())
            .filter(|y| *y <= LAST_KPI_YEAR)
            .collect();
        for year in years {
            let (value, regions_measured) = measured.get(&year).copied().unwrap_or((None, 0));
            out.push(KpiProgressRow {
                kpi: k.clone(),
                year,
                target: targets.get(&year).copied(),
                value,
                regions_measured,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(direction: KpiDirection, target: Option<f64>, value: Option<f64>) -> KpiProgressRow {
        let now = chrono::Utc::now();
        KpiProgressRow {
            kpi: kpi::Model {
                code: "K".into(),
                name: "K".into(),
                definition: String::new(),
                unit: "%".into(),
                direction: direction.as_str().into(),
                targets: serde_json::json!([]),
                version: 1,
                created_at: now,
                updated_at: now,
                created_by: String::new(),
                updated_by: String::new(),
            },
            year: 2026,
            target,
            value,
            regions_measured: 0,
        }
    }

    #[test]
    fn on_track_follows_the_direction_and_needs_target_and_value() {
        use KpiDirection::*;
        assert_eq!(row(HigherIsBetter, Some(80.0), Some(80.0)).on_track(), Some(true));
        assert_eq!(row(HigherIsBetter, Some(80.0), Some(79.9)).on_track(), Some(false));
        assert_eq!(row(LowerIsBetter, Some(10.0), Some(9.0)).on_track(), Some(true));
        assert_eq!(row(LowerIsBetter, Some(10.0), Some(11.0)).on_track(), Some(false));
        assert_eq!(row(LowerIsBetter, None, Some(11.0)).on_track(), None);
        assert_eq!(row(HigherIsBetter, Some(1.0), None).on_track(), None);
    }
}
