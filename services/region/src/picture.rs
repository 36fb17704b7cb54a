//! The national picture's aggregates, computed in the database (`GROUP BY`, window functions
//! and a recursive CTE of periods; the same SQL runs on SQLite and PostgreSQL). Each function
//! answers nationally (`regions: None`, under the key [`NATIONAL`]) or for many regions at once
//! (one statement for all of them), so that per-region fields of a request batch into one
//! statement per aggregate ([`PictureLoaders`]). An IZA region's figures take in the rows of the
//! care-office regions it overlaps, in the same statement (see `scope`).

use ggzhub_kit::batch::Batches;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use async_graphql::SimpleObject;
use async_graphql::dataloader::{DataLoader, Loader};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, FromQueryResult, Statement, Value};

use crate::domain::{
    CareCategory, OfferStatus, TREEKNORM_INTAKE_WEEKS, TREEKNORM_TOTAL_WEEKS, TREEKNORM_TREATMENT_WEEKS,
};
use crate::loader::{LoadError, SignalCounts};

/// The key national figures are returned under.
pub const NATIONAL: &str = "*";

/// Longest trend a caller may ask for, in months (20 years).
pub const MAX_TREND_MONTHS: i32 = 240;

ggzhub_kit::string_enum! {
    /// Length of the periods of a trend.
    TrendInterval {
        /// Calendar months.
        Month => "MONTH",
        /// Calendar quarters (January, April, July, October).
        Quarter => "QUARTER",
        /// Calendar years.
        Year => "YEAR",
    }
}

impl TrendInterval {
    /// Months per period.
    pub fn months(self) -> i32 {
        match self {
            TrendInterval::Month => 1,
            TrendInterval::Quarter => 3,
            TrendInterval::Year => 12,
        }
    }
}

/// Number of care offers of one category with one status.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
#[graphql(tag = "public")]
pub struct OfferCount {
    /// Category of crucial care.
    pub category: CareCategory,
    /// Status (continuity) of the offers.
    pub status: OfferStatus,
    /// Number of care offers (offers, not people: shown as they are).
    pub count: i64,
}

/// Number of care offers of one category.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
#[graphql(tag = "public")]
pub struct CategoryCount {
    /// Category of crucial care.
    pub category: CareCategory,
    /// Number of care offers.
    pub count: i64,
}

/// Capacity of the care offers of one category that are not closed, summed (an offer without
/// a figure adds 0).
#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub struct CapacityTotal {
    /// Category of crucial care.
    pub category: CareCategory,
    /// Beds.
    pub beds: i64,
    /// Places.
    pub places: i64,
    /// Teams.
    pub teams: i64,
    /// Full-time equivalents (fte).
    pub fte: f64,
}

/// A sum of counts of people over waiting-time reports, before it is shown to a caller: the
/// total, and who supplied the reports in it with a small cell (from 1 to 9), as far as needed
/// to tell whether someone other than the caller did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PeopleSum {
    /// The sum.
    pub total: i64,
    /// How many providers supplied a report in the sum with a count from 1 to 9.
    pub small_cell_suppliers: i64,
    /// One of them (the smallest id); the only one when `small_cell_suppliers` is 1.
    pub small_cell_supplier: Option<String>,
}

impl PeopleSum {
    /// From a figures row's sum and small-cell columns; `None` when no report carried the count.
    fn of(total: Option<i64>, small_cell_suppliers: i64, small_cell_supplier: Option<String>) -> Option<Self> {
        total.map(|total| Self { total, small_cell_suppliers, small_cell_supplier })
    }

    /// The sum as shown to the organisation `caller_org`, by the rule of sums of people
    /// ([`crate::waiting_plan::sum_shown`]): exact when every report in it has 0 or 10 or more or
    /// was supplied by the caller; otherwise suppressed, whatever its size.
    pub fn shown(&self, caller_org: &str) -> ggzhub_kit::people::PeopleCount {
        let foreign_small_cell = self.small_cell_suppliers > 1
            || (self.small_cell_suppliers == 1 && self.small_cell_supplier.as_deref() != Some(caller_org));
        crate::waiting_plan::sum_shown(i32::try_from(self.total).unwrap_or(i32::MAX), foreign_small_cell)
    }
}

/// Waiting times of one diagnosis group (hoofddiagnosegroep) in one month against the
/// Treeknorm: counts of reports, and the sums of the intakes and treatment starts the reports
/// gave. Weeks are a report's total wait (registration to intake plus intake to treatment);
/// median and p90 interpolate between reports, as `PERCENTILE_CONT` does.
#[derive(SimpleObject, Debug, Clone, PartialEq)]
#[graphql(tag = "public", complex)]
pub struct WaitingTimeFigure {
    /// Diagnosis group code.
    pub diagnosis_group: String,
    /// Month (`YYYY-MM`).
    pub month: String,
    /// Number of waiting-time reports (provider locations).
    pub reports: i64,
    /// Reports exceeding a Treeknorm (4 weeks to intake, 10 to treatment, 14 in total).
    pub over_treeknorm: i64,
    /// `overTreeknorm / reports`, from 0 to 1.
    pub share_over_treeknorm: f64,
    /// Median total wait in weeks.
    pub median_weeks: f64,
    /// 90th percentile of the total wait in weeks.
    pub p90_weeks: f64,
    /// Intakes of the reports that gave them (`None`: none did).
    #[graphql(skip)]
    pub intakes: Option<PeopleSum>,
    /// Treatment starts of the reports that gave them (`None`: none did).
    #[graphql(skip)]
    pub treatment_starts: Option<PeopleSum>,
}

/// Number of care offers with one status at the end of a period, from the offers' history.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
#[graphql(tag = "public")]
pub struct OfferTrendPoint {
    /// First month of the period (`YYYY-MM`); the count is at the end of the period (for the
    /// running period: now).
    pub period: String,
    /// The category asked for; `null` when all categories are counted together.
    pub category: Option<CareCategory>,
    /// Status.
    pub status: OfferStatus,
    /// Number of care offers.
    pub count: i64,
}

/// Waiting times of all reports for the months of one period (periods without reports are left
/// out). Weeks, intakes and treatment starts as in `WaitingTimeFigure`.
#[derive(SimpleObject, Debug, Clone, PartialEq)]
#[graphql(tag = "public", complex)]
pub struct WaitingTimeTrendPoint {
    /// First month of the period (`YYYY-MM`).
    pub period: String,
    /// Number of waiting-time reports.
    pub reports: i64,
    /// Reports exceeding a Treeknorm.
    pub over_treeknorm: i64,
    /// `overTreeknorm / reports`.
    pub share_over_treeknorm: f64,
    /// Median total wait in weeks.
    pub median_weeks: f64,
    /// 90th percentile of the total wait in weeks.
    pub p90_weeks: f64,
    /// Intakes of the period's reports that gave them (`None`: none did).
    #[graphql(skip)]
    pub intakes: Option<PeopleSum>,
    /// Treatment starts of the period's reports that gave them (`None`: none did).
    #[graphql(skip)]
    pub treatment_starts: Option<PeopleSum>,
}

/// A month `YYYY-MM` (validated) as a month number (`year * 12 + month - 1`).
pub fn month_index(month: &str) -> Option<i32> {
    let y: i32 = month.get(..4)?.parse().ok()?;
    let m: i32 = month.get(5..7)?.parse().ok()?;
    Some(y * 12 + m - 1)
}

/// A month number as `YYYY-MM`.
pub fn month_label(idx: i32) -> String {
    format!("{:04}-{:02}", idx / 12, idx % 12 + 1)
}

/// Trend periods: the first period starts at `from` rounded down to the interval (quarters
/// start in January, April, July and October), the last one contains `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Periods {
    /// First month number of the first period.
    pub first: i32,
    /// First month number of the last period.
    pub last: i32,
    /// Months per period.
    pub step: i32,
}

impl Periods {
    /// Periods from the months `from` to `to` (both validated `YYYY-MM`).
    pub fn new(from: i32, to: i32, interval: TrendInterval) -> Self {
        let step = interval.months();
        Self { first: from - from.rem_euclid(step), last: to - to.rem_euclid(step), step }
    }

    /// `WITH RECURSIVE periods(idx)`: one row per period (two bound values).
    fn cte(&self, values: &mut Vec<Value>) -> String {
        values.push(self.first.into());
        values.push(self.last.into());
        let step = self.step;
        format!(
            "periods(idx) AS (SELECT CAST(? AS INTEGER) UNION ALL SELECT idx + {step} FROM periods WHERE idx + {step} <= ?)"
        )
    }
}

/// `?` placeholders as the backend wants them.
fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = match backend {
        DbBackend::Postgres => {
            let mut out = String::with_capacity(sql.len() + 16);
            let mut n = 0;
            for ch in sql.chars() {
                if ch == '?' {
                    n += 1;
                    out.push_str(&format!("${n}"));
                } else {
                    out.push(ch);
                }
            }
            out
        }
        _ => sql.to_owned(),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// Nationally or for some regions: the key column, its `GROUP BY`/`PARTITION BY` prefix and
/// the `FROM` item the rows come from.
struct Scope {
    key: String,
    group: String,
    from: String,
}

/// The rows of `table` (a table name or a parenthesised subquery with a `region_code` column) as
/// `alias`: nationally all of them under the key [`NATIONAL`]; for some regions each row under
/// its own region if asked for, and under every IZA region asked for that overlaps its region
/// (issue 21: an IZA region answers for the care-office regions it overlaps). The key is then
/// `alias.owner_code`. A row reaches an IZA region once however it is reached: the overlaps are
/// unique per (IZA region, care-office region), and a row has one region.
fn scope(table: &str, alias: &str, regions: Option<&[String]>, values: &mut Vec<Value>) -> Scope {
    match regions {
        None => Scope { key: format!("'{NATIONAL}'"), group: String::new(), from: format!("{table} {alias}") },
        Some(codes) => {
            let marks = if codes.is_empty() { "NULL".to_owned() } else { vec!["?"; codes.len()].join(", ") };
            values.extend(codes.iter().map(|c| Value::from(c.clone())));
            values.extend(codes.iter().map(|c| Value::from(c.clone())));
            Scope {
                key: format!("{alias}.owner_code"),
                group: format!("{alias}.owner_code, "),
                from: format!(
                    "(SELECT x.*, x.region_code AS owner_code FROM {table} x WHERE x.region_code IN ({marks}) \
                     UNION ALL SELECT x.*, ov.iza_code AS owner_code FROM {table} x \
                     JOIN region_overlaps ov ON ov.care_office_code = x.region_code WHERE ov.iza_code IN ({marks})) {alias}"
                ),
            }
        }
    }
}

async fn rows<T: FromQueryResult, C: ConnectionTrait>(
    conn: &C,
    sql: &str,
    values: Vec<Value>,
) -> Result<Vec<T>, DbErr> {
    T::find_by_statement(statement(conn.get_database_backend(), sql, values)).all(conn).await
}

fn category(s: &str) -> Result<CareCategory, DbErr> {
    CareCategory::parse(s).ok_or_else(|| DbErr::Custom(format!("invalid stored category {s}")))
}

fn status(s: &str) -> Result<OfferStatus, DbErr> {
    OfferStatus::parse(s).ok_or_else(|| DbErr::Custom(format!("invalid stored status {s}")))
}

/// Care offers per (category, status), nationally or per region, and the planned offers not yet
/// realised or withdrawn as status `PLANNED` (issue 21: planned, never existing supply).
pub async fn offer_counts<C: ConnectionTrait>(
    conn: &C,
    regions: Option<&[String]>,
) -> Result<HashMap<String, Vec<OfferCount>>, DbErr> {
    #[derive(FromQueryResult)]
    struct Row {
        scope: String,
        category: String,
        status: String,
        n: i64,
    }
    let mut values = Vec::new();
    // Planned offers (issue 21) count as status PLANNED, beside the care offers' statuses.
    let offers = "(SELECT region_code, category, status FROM care_offers UNION ALL \
                  SELECT region_code, category, 'PLANNED' AS status FROM planned_offers WHERE status = 'PLANNED')";
    let s = scope(offers, "o", regions, &mut values);
    let sql = format!(
        "SELECT {key} AS scope, o.category AS category, o.status AS status, COUNT(*) AS n FROM {from} \
         GROUP BY {group}o.category, o.status ORDER BY o.category, o.status",
        key = s.key,
        from = s.from,
        group = s.group
    );
    let mut out: HashMap<String, Vec<OfferCount>> = HashMap::new();
    for r in rows::<Row, _>(conn, &sql, values).await? {
        out.entry(r.scope).or_default().push(OfferCount {
            category: category(&r.category)?,
            status: status(&r.status)?,
            count: r.n,
        });
    }
    Ok(out)
}

/// Capacity of offers that are not closed, per category, nationally or per region.
pub async fn capacity<C: ConnectionTrait>(
    conn: &C,
    regions: Option<&[String]>,
) -> Result<HashMap<String, Vec<CapacityTotal>>, DbErr> {
    #[derive(FromQueryResult)]
    struct Row {
        scope: String,
        category: String,
        beds: i64,
        places: i64,
        teams: i64,
        fte: f64,
    }
    let mut values = Vec::new();
    let s = scope("care_offers", "o", regions, &mut values);
    values.push(Value::from(OfferStatus::Closed.as_str()));
    let sql = format!(
        "SELECT {key} AS scope, o.category AS category, COALESCE(SUM(o.beds), 0) AS beds, \
         COALESCE(SUM(o.places), 0) AS places, COALESCE(SUM(o.teams), 0) AS teams, \
         CAST(COALESCE(SUM(o.fte), 0) AS DOUBLE PRECISION) AS fte \
         FROM {from} WHERE o.status <> ? GROUP BY {group}o.category ORDER BY o.category",
        key = s.key,
        from = s.from,
        group = s.group
    );
    let mut out: HashMap<String, Vec<CapacityTotal>> = HashMap::new();
    for r in rows::<Row, _>(conn, &sql, values).await? {
        out.entry(r.scope).or_default().push(CapacityTotal {
            category: category(&r.category)?,
            beds: r.beds,
            places: r.places,
            teams: r.teams,
            fte: r.fte,
        });
    }
    Ok(out)
}

/// Offers (not closed) with an intake pause active on `today`, per category.
pub async fn active_intake_pauses<C: ConnectionTrait>(
    conn: &C,
    regions: Option<&[String]>,
    today: NaiveDate,
) -> Result<HashMap<String, Vec<CategoryCount>>, DbErr> {
    #[derive(FromQueryResult)]
    struct Row {
        scope: String,
        category: String,
        n: i64,
    }
    let mut values = Vec::new();
    let s = scope("care_offers", "o", regions, &mut values);
    values.extend([Value::from(OfferStatus::Closed.as_str()), Value::from(today), Value::from(today)]);
    let sql = format!(
        "SELECT {key} AS scope, o.category AS category, COUNT(*) AS n FROM {from} WHERE o.status <> ? \
         AND o.intake_pause_from IS NOT NULL AND o.intake_pause_from <= ? \
         AND (o.intake_pause_until IS NULL OR o.intake_pause_until >= ?) \
         GROUP BY {group}o.category ORDER BY o.category",
        key = s.key,
        from = s.from,
        group = s.group
    );
    let mut out: HashMap<String, Vec<CategoryCount>> = HashMap::new();
    for r in rows::<Row, _>(conn, &sql, values).await? {
        out.entry(r.scope).or_default().push(CategoryCount { category: category(&r.category)?, count: r.n });
    }
    Ok(out)
}

/// Continuity signals per status (and open ones past their acknowledgement deadline), nationally
/// or per region.
pub async fn signal_counts<C: ConnectionTrait>(
    conn: &C,
    regions: Option<&[String]>,
) -> Result<HashMap<String, SignalCounts>, DbErr> {
    signal_counts_at(conn, regions, Utc::now()).await
}

/// As [`signal_counts`], overdue as of `now`.
pub async fn signal_counts_at<C: ConnectionTrait>(
    conn: &C,
    regions: Option<&[String]>,
    now: DateTime<Utc>,
) -> Result<HashMap<String, SignalCounts>, DbErr> {
    #[derive(FromQueryResult)]
    struct Row {
        scope: String,
        open: i64,
        acknowledged: i64,
        escalated: i64,
        resolved: i64,
        overdue: i64,
    }
    let mut values = vec![Value::from(now)];
    let s = scope("continuity_signals", "s", regions, &mut values);
    let sql = format!(
        "SELECT {key} AS scope, \
         COALESCE(SUM(CASE WHEN status = 'OPEN' THEN 1 ELSE 0 END), 0) AS open, \
         COALESCE(SUM(CASE WHEN status = 'ACKNOWLEDGED' THEN 1 ELSE 0 END), 0) AS acknowledged, \
         COALESCE(SUM(CASE WHEN status = 'ESCALATED' THEN 1 ELSE 0 END), 0) AS escalated, \
         COALESCE(SUM(CASE WHEN status = 'RESOLVED' THEN 1 ELSE 0 END), 0) AS resolved, \
         COALESCE(SUM(CASE WHEN status = 'OPEN' AND acknowledgement_deadline < ? THEN 1 ELSE 0 END), 0) AS overdue \
         FROM {from}{group_by}",
        key = s.key,
        from = s.from,
        group_by = if s.group.is_empty() { String::new() } else { format!(" GROUP BY {}", s.key) }
    );
    let mut out = HashMap::new();
    for r in rows::<Row, _>(conn, &sql, values).await? {
        out.insert(
            r.scope,
            SignalCounts {
                open: r.open,
                acknowledged: r.acknowledged,
                escalated: r.escalated,
                resolved: r.resolved,
                overdue: r.overdue,
            },
        );
    }
    Ok(out)
}

/// "Exceeds a Treeknorm" for a waiting-time report row (alias `r`).
fn over_sql() -> String {
    format!(
        "r.registration_weeks > {TREEKNORM_INTAKE_WEEKS:.1} OR r.treatment_weeks > {TREEKNORM_TREATMENT_WEEKS:.1} \
         OR r.registration_weeks + r.treatment_weeks > {TREEKNORM_TOTAL_WEEKS:.1}"
    )
}

/// The `k/d` quantile of `total` within a partition whose rows are numbered `rn` (1-based, in
/// order of `total`) out of `n`, linearly interpolated (as `PERCENTILE_CONT`).
fn quantile_sql(k: i32, d: i32) -> String {
    let base = format!("((n - 1) * {k})");
    format!(
        "CAST(SUM(CASE WHEN rn = 1 + {base} / {d} THEN total * (1.0 - CAST({base} % {d} AS DOUBLE PRECISION) / {d}) \
         WHEN rn = 2 + {base} / {d} AND {base} % {d} > 0 THEN total * CAST({base} % {d} AS DOUBLE PRECISION) / {d} \
         ELSE 0 END) AS DOUBLE PRECISION)"
    )
}

/// Figures shared by [`waiting_figures`] and [`waiting_trend`], over rows with the columns
/// `total`, `over_norm`, `rn`, `n`, `provider_id`, `intakes` and `treatment_starts`.
fn figure_columns() -> String {
    format!(
        "COUNT(*) AS reports, SUM(over_norm) AS over_treeknorm, \
         CAST(SUM(over_norm) AS DOUBLE PRECISION) / COUNT(*) AS share, {} AS median_weeks, {} AS p90_weeks, {}, {}",
        quantile_sql(1, 2),
        quantile_sql(9, 10),
        people_sum_sql("intakes"),
        people_sum_sql("treatment_starts"),
    )
}

/// A sum of a count of people over reports (`NULL` when no report gave it), with the number of
/// providers that gave a small cell (1 to 9) in it and the smallest of their ids: enough to tell
/// any caller whether the sum holds someone else's small cell ([`PeopleSum::shown`]).
fn people_sum_sql(column: &str) -> String {
    let small = format!(
        "CASE WHEN {column} BETWEEN 1 AND {} THEN provider_id END",
        ggzhub_kit::people::SMALL_CELL_THRESHOLD - 1
    );
    format!(
        "CAST(SUM({column}) AS BIGINT) AS {column}, COUNT(DISTINCT {small}) AS {column}_small_suppliers, \
         MIN({small}) AS {column}_small_supplier"
    )
}

/// Waiting-time figures per diagnosis group for `month` (default: the latest month with any
/// report), nationally or per region.
pub async fn waiting_figures<C: ConnectionTrait>(
    conn: &C,
    regions: Option<&[String]>,
    month: Option<&str>,
) -> Result<HashMap<String, Vec<WaitingTimeFigure>>, DbErr> {
    #[derive(FromQueryResult)]
    struct Row {
        scope: String,
        diagnosis_group: String,
        month: String,
        reports: i64,
        over_treeknorm: i64,
        share: f64,
        median_weeks: f64,
        p90_weeks: f64,
        intakes: Option<i64>,
        intakes_small_suppliers: i64,
        intakes_small_supplier: Option<String>,
        treatment_starts: Option<i64>,
        treatment_starts_small_suppliers: i64,
        treatment_starts_small_supplier: Option<String>,
    }
    let mut values = Vec::new();
    let s = scope("waiting_time_reports", "r", regions, &mut values);
    let month_sql = match month {
        Some(m) => {
            values.push(Value::from(m.to_owned()));
            "?".to_owned()
        }
        None => "(SELECT MAX(month) FROM waiting_time_reports)".to_owned(),
    };
    let sql = format!(
        "WITH w AS (SELECT {key} AS scope, r.diagnosis_group AS diagnosis_group, r.month AS month, \
         r.registration_weeks + r.treatment_weeks AS total, CASE WHEN {over} THEN 1 ELSE 0 END AS over_norm, \
         r.provider_id AS provider_id, r.intakes AS intakes, r.treatment_starts AS treatment_starts, \
         ROW_NUMBER() OVER (PARTITION BY {group}r.diagnosis_group ORDER BY r.registration_weeks + r.treatment_weeks) AS rn, \
         COUNT(*) OVER (PARTITION BY {group}r.diagnosis_group) AS n \
         FROM {from} WHERE r.month = {month_sql}) \
         SELECT scope, diagnosis_group, month, {figures} FROM w GROUP BY scope, diagnosis_group, month \
         ORDER BY diagnosis_group",
        key = s.key,
        over = over_sql(),
        group = s.group,
        from = s.from,
        figures = figure_columns(),
    );
    let mut out: HashMap<String, Vec<WaitingTimeFigure>> = HashMap::new();
    for r in rows::<Row, _>(conn, &sql, values).await? {
        out.entry(r.scope).or_default().push(WaitingTimeFigure {
            diagnosis_group: r.diagnosis_group,
            month: r.month,
            reports: r.reports,
            over_treeknorm: r.over_treeknorm,
            share_over_treeknorm: r.share,
            median_weeks: r.median_weeks,
            p90_weeks: r.p90_weeks,
            intakes: PeopleSum::of(r.intakes, r.intakes_small_suppliers, r.intakes_small_supplier),
            treatment_starts: PeopleSum::of(
                r.treatment_starts,
                r.treatment_starts_small_suppliers,
                r.treatment_starts_small_supplier,
            ),
        });
    }
    Ok(out)
}

/// The month number (`year * 12 + month - 1`) of a `YYYY-MM…` text column, in SQL.
fn month_sql(column: &str) -> String {
    format!("(CAST(SUBSTR({column}, 1, 4) AS INTEGER) * 12 + CAST(SUBSTR({column}, 6, 2) AS INTEGER) - 1)")
}

/// Offers per status at the end of each period, from the offers' history, nationally or per
/// region, optionally of one category.
///
/// A history row is valid on the days `valid_from` up to `valid_to`, so it counts at the end of
/// a period exactly when it started in the period's last month or before and did not end by
/// then: per status, the number of rows started by month `m` minus those ended by `m`. The rows
/// are summed per (status, month) once, and each period adds up the months up to its last (one
/// pass over the history, however many periods).
pub async fn offer_trend<C: ConnectionTrait>(
    conn: &C,
    regions: Option<&[String]>,
    periods: Periods,
    only: Option<CareCategory>,
) -> Result<HashMap<String, Vec<OfferTrendPoint>>, DbErr> {
    #[derive(FromQueryResult)]
    struct Row {
        scope: String,
        idx: i32,
        status: String,
        n: i64,
    }
    let mut values = Vec::new();
    let cte = periods.cte(&mut values);
    let mut branch = |column: &str, sign: &str, extra: &str| {
        let s = scope("care_offer_history", "h", regions, &mut values);
        let mut category_filter = String::new();
        if let Some(c) = only {
            category_filter = " AND h.category = ?".to_owned();
            values.push(Value::from(c.as_str()));
        }
        let month = month_sql(column);
        format!(
            "SELECT {key} AS scope, h.status AS status, {month} AS m, {sign}COUNT(*) AS d \
             FROM {from} WHERE 1 = 1{extra}{category_filter} GROUP BY {group}h.status, {month}",
            key = s.key,
            from = s.from,
            group = s.group,
        )
    };
    let started = branch("h.valid_from", "", "");
    let ended = branch("h.valid_to", "-", " AND h.valid_to IS NOT NULL");
    let sql = format!(
        "WITH RECURSIVE {cte}, deltas AS ({started} UNION ALL {ended}) \
         SELECT p.scope AS scope, CAST(b.idx AS INTEGER) AS idx, p.status AS status, CAST(SUM(p.d) AS BIGINT) AS n \
         FROM periods b JOIN deltas p ON p.m <= b.idx + {last} \
         GROUP BY p.scope, b.idx, p.status HAVING SUM(p.d) > 0 ORDER BY b.idx, p.status",
        last = periods.step - 1,
    );
    let mut out: HashMap<String, Vec<OfferTrendPoint>> = HashMap::new();
    for r in rows::<Row, _>(conn, &sql, values).await? {
        out.entry(r.scope).or_default().push(OfferTrendPoint {
            period: month_label(r.idx),
            category: only,
            status: status(&r.status)?,
            count: r.n,
        });
    }
    Ok(out)
}

/// Waiting-time figures per period over all diagnosis groups (or one), nationally or in one
/// region: each report falls in the period of its month (computed, no join).
pub async fn waiting_trend<C: ConnectionTrait>(
    conn: &C,
    region: Option<&str>,
    diagnosis_group: Option<&str>,
    periods: Periods,
) -> Result<Vec<WaitingTimeTrendPoint>, DbErr> {
    #[derive(FromQueryResult)]
    struct Row {
        idx: i32,
        reports: i64,
        over_treeknorm: i64,
        share: f64,
        median_weeks: f64,
        p90_weeks: f64,
        intakes: Option<i64>,
        intakes_small_suppliers: i64,
        intakes_small_supplier: Option<String>,
        treatment_starts: Option<i64>,
        treatment_starts_small_suppliers: i64,
        treatment_starts_small_supplier: Option<String>,
    }
    let (first, step) = (periods.first, periods.step);
    let mut values = vec![Value::from(month_label(first)), Value::from(month_label(periods.last + step))];
    let mut filter = String::new();
    if let Some(r) = region {
        // An IZA region: also the reports of the care-office regions it overlaps.
        filter.push_str(
            " AND (r.region_code = ? OR r.region_code IN \
             (SELECT care_office_code FROM region_overlaps WHERE iza_code = ?))",
        );
        values.push(Value::from(r.to_owned()));
        values.push(Value::from(r.to_owned()));
    }
    if let Some(g) = diagnosis_group {
        filter.push_str(" AND r.diagnosis_group = ?");
        values.push(Value::from(g.to_owned()));
    }
    let sql = format!(
        "WITH x AS (SELECT {first} + (({month} - {first}) / {step}) * {step} AS idx, \
         r.registration_weeks + r.treatment_weeks AS total, CASE WHEN {over} THEN 1 ELSE 0 END AS over_norm, \
         r.provider_id AS provider_id, r.intakes AS intakes, r.treatment_starts AS treatment_starts \
         FROM waiting_time_reports r WHERE r.month >= ? AND r.month < ?{filter}), \
         w AS (SELECT idx, total, over_norm, provider_id, intakes, treatment_starts, ROW_NUMBER() OVER (PARTITION BY idx ORDER BY total) AS rn, \
         COUNT(*) OVER (PARTITION BY idx) AS n FROM x) \
         SELECT CAST(idx AS INTEGER) AS idx, {figures} FROM w GROUP BY idx ORDER BY idx",
        month = month_sql("r.month"),
        over = over_sql(),
        figures = figure_columns(),
    );
    Ok(rows::<Row, _>(conn, &sql, values)
        .await?
        .into_iter()
        .map(|r| WaitingTimeTrendPoint {
            period: month_label(r.idx),
            reports: r.reports,
            over_treeknorm: r.over_treeknorm,
            share_over_treeknorm: r.share,
            median_weeks: r.median_weeks,
            p90_weeks: r.p90_weeks,
            intakes: PeopleSum::of(r.intakes, r.intakes_small_suppliers, r.intakes_small_supplier),
            treatment_starts: PeopleSum::of(
                r.treatment_starts,
                r.treatment_starts_small_suppliers,
                r.treatment_starts_small_supplier,
            ),
        })
        .collect())
}

type Batch<T> = Pin<Box<dyn Future<Output = Result<HashMap<String, Vec<T>>, DbErr>> + Send>>;

/// A per-region aggregate: all keys of a request in one statement.
pub struct PerRegion<T> {
    db: DatabaseConnection,
    run: fn(DatabaseConnection, Vec<String>) -> Batch<T>,
}

impl<T: Clone + Send + Sync + 'static> Loader<String> for PerRegion<T> {
    type Value = Vec<T>;
    type Error = LoadError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Vec<T>>, LoadError> {
        let mut out = (self.run)(self.db.clone(), keys.to_vec()).await?;
        for k in keys {
            out.entry(k.clone()).or_default();
        }
        Ok(out)
    }
}

/// Waiting-time figures of a region for a month (`None`: the latest).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WaitingKey {
    /// Region code.
    pub region: String,
    /// Month asked for.
    pub month: Option<String>,
}

/// Loads [`WaitingKey`]s: one statement per month asked for.
pub struct WaitingPerRegion {
    db: DatabaseConnection,
}

impl Loader<WaitingKey> for WaitingPerRegion {
    type Value = Vec<WaitingTimeFigure>;
    type Error = LoadError;

    async fn load(&self, keys: &[WaitingKey]) -> Result<HashMap<WaitingKey, Self::Value>, LoadError> {
        let mut by_month: HashMap<Option<String>, Vec<String>> = HashMap::new();
        for k in keys {
            by_month.entry(k.month.clone()).or_default().push(k.region.clone());
        }
        let mut out = HashMap::new();
        for (month, regions) in by_month {
            let mut found = waiting_figures(&self.db, Some(&regions), month.as_deref()).await?;
            for region in regions {
                let figures = found.remove(&region).unwrap_or_default();
                out.insert(WaitingKey { region, month: month.clone() }, figures);
            }
        }
        Ok(out)
    }
}

/// An offer trend of a region.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TrendKey {
    /// Region code.
    pub region: String,
    /// Periods.
    pub periods: Periods,
    /// Only this category.
    pub category: Option<CareCategory>,
}

/// Loads [`TrendKey`]s: one statement per (periods, category) asked for.
pub struct TrendPerRegion {
    db: DatabaseConnection,
}

impl Loader<TrendKey> for TrendPerRegion {
    type Value = Vec<OfferTrendPoint>;
    type Error = LoadError;

    async fn load(&self, keys: &[TrendKey]) -> Result<HashMap<TrendKey, Self::Value>, LoadError> {
        let mut groups: HashMap<(Periods, Option<CareCategory>), Vec<String>> = HashMap::new();
        for k in keys {
            groups.entry((k.periods, k.category)).or_default().push(k.region.clone());
        }
        let mut out = HashMap::new();
        for ((periods, category), regions) in groups {
            let mut found = offer_trend(&self.db, Some(&regions), periods, category).await?;
            for region in regions {
                let points = found.remove(&region).unwrap_or_default();
                out.insert(TrendKey { region, periods, category }, points);
            }
        }
        Ok(out)
    }
}

/// The per-region aggregate loaders of one request.
pub struct PictureLoaders {
    /// Offers per (category, status).
    pub offer_counts: DataLoader<PerRegion<OfferCount>>,
    /// Capacity per category.
    pub capacity: DataLoader<PerRegion<CapacityTotal>>,
    /// Active intake pauses per category.
    pub intake_pauses: DataLoader<PerRegion<CategoryCount>>,
    /// Waiting-time figures.
    pub waiting: DataLoader<WaitingPerRegion>,
    /// Offer trends.
    pub trends: DataLoader<TrendPerRegion>,
}

impl PictureLoaders {
    /// Fresh loaders for one request.
    pub fn new(db: &DatabaseConnection, batches: &Batches) -> Self {
        Self {
            offer_counts: batches.loader(PerRegion {
                db: db.clone(),
                run: |db, keys| Box::pin(async move { offer_counts(&db, Some(&keys)).await }),
            }),
            capacity: batches.loader(PerRegion {
                db: db.clone(),
                run: |db, keys| Box::pin(async move { capacity(&db, Some(&keys)).await }),
            }),
            intake_pauses: batches.loader(PerRegion {
                db: db.clone(),
                run: |db, keys| {
                    Box::pin(async move { active_intake_pauses(&db, Some(&keys), ggzhub_kit::calendar::today()).await })
                },
            }),
            waiting: batches.loader(WaitingPerRegion { db: db.clone() }),
            trends: batches.loader(TrendPerRegion { db: db.clone() }),
        }
    }
}

/// Shared by the GraphQL layer: loader errors as `INTERNAL` (`DATABASE_UNAVAILABLE` when the
/// database cannot be reached).
pub fn load_error(e: Arc<DbErr>) -> ggzhub_kit::ApiError {
    ggzhub_kit::ApiError::from_shared_db(&e)
}
