//! Demand and care use (issue 21 item 1): counts of people per care-office region, category of
//! crucial care and quarter, supplied by a trusted source (a Vektis-style CSV file), and people
//! treated outside their own region as flows. One path reads, checks and stores a file for both
//! `ggzhub import care-use` and the `importCareUse` mutation: every line is checked, every
//! refusal is reported with its line number, and nothing is stored from a file with any error.
//!
//! The CSV format is documented in `docs/care-use.md`; `docs/examples/care-use.csv` is an
//! example the tests import.

pub mod loader;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{SubsecRound as _, Utc};
use ggzhub_kit::{ApiError, Caller, OrgKind};
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder as _, QuerySelect, TransactionTrait,
};
use serde_json::json;

use crate::domain::{CareCategory, RegionKind};
use crate::entity::{care_use_figure, care_use_flow, care_use_import, organisation, region};

/// The columns of a care-use file, in the documented order. `treated_in_region` may be left
/// out of the header (then the file holds no flows).
pub const COLUMNS: [&str; 6] = ["period", "region", "category", "people_in_care", "new_referrals", "treated_in_region"];

/// Most data lines one file (or one `importCareUse` call) may hold: 31 regions × 6 categories ×
/// 4 quarters, with flows, fits many times over.
pub const MAX_ROWS: usize = 20_000;

/// Largest count of people one figure may hold.
pub const MAX_COUNT: i32 = 10_000_000;

/// Figures per insert statement (10 bind parameters each: within SQLite's 32766).
const INSERT_CHUNK: usize = 1_000;

/// A refused line of a care-use file: its line number (1 is the header), the data row's index
/// (from 0, `None` for the header), the column it is about (if one) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// Line in the file, from 1 (the header).
    pub line: u64,
    /// Index of the data row, from 0; `None` for the header or the file as a whole.
    pub row: Option<usize>,
    /// The column the refusal is about, if it is about one.
    pub column: Option<&'static str>,
    /// Why, for the supplier to read.
    pub reason: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.column {
            Some(c) => write!(f, "line {}: {c}: {}", self.line, self.reason),
            None => write!(f, "line {}: {}", self.line, self.reason),
        }
    }
}

/// Why an import stored nothing: refused lines (all of them, in line order), or a refusal of the
/// call as a whole (the supplier, the database).
#[derive(Debug)]
pub enum ImportError {
    /// Lines of the file were refused.
    Lines(Vec<LineError>),
    /// The import as a whole was refused or failed.
    Api(ApiError),
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Lines(lines) => {
                write!(f, "{} error(s) in the care-use file, nothing was stored:", lines.len())?;
                for l in lines {
                    write!(f, "\n  {l}")?;
                }
                Ok(())
            }
            Self::Api(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ImportError {}

impl From<ApiError> for ImportError {
    fn from(e: ApiError) -> Self {
        Self::Api(e)
    }
}

impl From<sea_orm::DbErr> for ImportError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Api(e.into())
    }
}

/// One checked data line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Line in the file.
    pub line: u64,
    /// Index of the data row, from 0.
    pub index: usize,
    /// Quarter, `YYYY-Qn`.
    pub period: String,
    /// Care-office region where the people live.
    pub region: String,
    /// Category.
    pub category: CareCategory,
    /// People in care.
    pub people_in_care: i32,
    /// New referrals.
    pub new_referrals: i32,
    /// Region of treatment when it is not the own region (a flow); `None` for the region's totals.
    pub treated_in: Option<String>,
}

/// What an import stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportReport {
    /// Quarters the file held; the supplier's earlier figures of these quarters were replaced.
    pub periods: Vec<String>,
    /// Region figures stored.
    pub figures: usize,
    /// Flows stored.
    pub flows: usize,
    /// Earlier figures and flows of the same supplier and quarters that were replaced.
    pub replaced: u64,
    /// Each quarter's import as stored now, with its new version.
    pub quarters: Vec<care_use_import::Model>,
}

/// The version a (re)import expects per quarter it names: `0` for a quarter the supplier has not
/// imported yet, else the version it read (`careUseImports`); stale: `CONFLICT`. A quarter it
/// does not name is imported, or replaced, whatever its version.
pub type ExpectedVersions = BTreeMap<String, i32>;

/// Which way people move in a flow, seen from a region.
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[graphql(tag = "public")]
pub enum FlowDirection {
    /// People living in the region treated in another region.
    Outgoing,
    /// People living in another region treated in this region.
    Incoming,
}

/// Checks a quarter written `YYYY-Qn` (year 2000–2100, n 1–4).
pub fn is_period(value: &str) -> bool {
    let b = value.as_bytes();
    // ASCII first: the slices below are by byte, and a multi-byte character would split.
    value.is_ascii()
        && b.len() == 7
        && &value[4..6] == "-Q"
        && value[..4].parse::<u32>().is_ok_and(|y| (2000..=2100).contains(&y))
        && (b'1'..=b'4').contains(&b[6])
}

/// `BAD_USER_INPUT` unless `value` is a quarter `YYYY-Qn`.
pub fn period(field: &str, value: &str) -> ggzhub_kit::ApiResult<()> {
    if is_period(value) {
        Ok(())
    } else {
        Err(ApiError::bad_input(format!(
            "{field} must be a calendar quarter written YYYY-Qn, e.g. 2026-Q3, got {}",
            ggzhub_kit::validate::shown(value)
        )))
    }
}

/// The quarter `date` falls in, `YYYY-Qn` (of a Dutch date: [`ggzhub_kit::calendar`]).
pub fn quarter_of(date: chrono::NaiveDate) -> String {
    ggzhub_kit::calendar::quarter_of(date)
}

/// The quarter before `period` (a valid `YYYY-Qn`).
fn previous_quarter(period: &str) -> String {
    let year: i32 = period[..4].parse().unwrap_or(2000);
    let q: i32 = period[6..].parse().unwrap_or(1);
    if q == 1 { format!("{}-Q4", year - 1) } else { format!("{year}-Q{}", q - 1) }
}

fn count(value: &str) -> Result<i32, String> {
    match value.parse::<i64>() {
        Ok(n) if (0..=i64::from(MAX_COUNT)).contains(&n) => Ok(n as i32),
        Ok(n) if n < 0 => Err(format!("a count must not be negative, got {n}")),
        Ok(n) => Err(format!("a count must be at most {MAX_COUNT}, got {n}")),
        Err(_) if value.is_empty() => Err("empty; give a whole number of people (0 or more)".to_owned()),
        Err(_) => Err(format!("not a whole number of people (0 or more): {}", ggzhub_kit::validate::shown(value))),
    }
}

/// Reads and checks the shape of every line of a care-use file (no database): the header, each
/// line's period, region code shape, category and counts, and duplicates within the file. Every
/// refusal is returned, in line order; `Ok` only when there is none.
pub fn parse(text: &str) -> Result<Vec<Row>, Vec<LineError>> {
    let parsed = parse_all(text);
    if parsed.errors.is_empty() { Ok(parsed.rows) } else { Err(parsed.errors) }
}

/// A region a line names (a well-shaped code), to be checked against the database.
struct RegionRef {
    line: u64,
    row: usize,
    column: &'static str,
    code: String,
}

/// What [`parse_all`] found: the good rows, the refusals, and every region code any line names
/// (also on lines refused for another reason, so that all of a line's problems are reported).
struct Parsed {
    rows: Vec<Row>,
    errors: Vec<LineError>,
    refs: Vec<RegionRef>,
}

fn parse_all(text: &str) -> Parsed {
    let mut refs: Vec<RegionRef> = Vec::new();
    let mut errors: Vec<LineError> = Vec::new();
    let header_error = |reason: String| LineError { line: 1, row: None, column: None, reason };
    let mut reader =
        csv::ReaderBuilder::new().has_headers(true).flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            let errors = vec![header_error(format!("the header cannot be read: {e}"))];
            return Parsed { rows: Vec::new(), errors, refs };
        }
    };
    if headers.iter().all(str::is_empty) {
        let errors = vec![header_error(format!("the file is empty; the header must be {}", COLUMNS.join(",")))];
        return Parsed { rows: Vec::new(), errors, refs };
    }
    // Where each known column is in this file.
    let mut at: HashMap<&'static str, usize> = HashMap::new();
    for (i, name) in headers.iter().enumerate() {
        match COLUMNS.iter().find(|c| c.eq_ignore_ascii_case(name)) {
            Some(c) if at.contains_key(c) => errors.push(header_error(format!("column {c} appears twice"))),
            Some(c) => {
                at.insert(c, i);
            }
            None => errors.push(header_error(format!(
                "unknown column {}; the columns are {}",
                ggzhub_kit::validate::shown(name),
                COLUMNS.join(",")
            ))),
        }
    }
    for c in &COLUMNS[..5] {
        if !at.contains_key(c) {
            errors.push(header_error(format!("missing column {c}; the header must be {}", COLUMNS.join(","))));
        }
    }
    if !errors.is_empty() {
        return Parsed { rows: Vec::new(), errors, refs };
    }

    let mut rows: Vec<Row> = Vec::new();
    // (period, region, category, treated_in) → first line with it.
    let mut first_with: HashMap<(String, String, CareCategory, Option<String>), u64> = HashMap::new();
    let mut record = csv::StringRecord::new();
    let mut index = 0usize;
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(line, csv::Position::line);
                errors.push(LineError { line, row: Some(index), column: None, reason: format!("unreadable: {e}") });
                index += 1;
                continue;
            }
        }
        let line = record.position().map_or(line, csv::Position::line);
        let row = Some(index);
        index += 1;
        if record.iter().all(str::is_empty) {
            // A blank line at the end of a file is no figure.
            continue;
        }
        if index > MAX_ROWS {
            errors.push(LineError {
                line,
                row,
                column: None,
                reason: format!("a file holds at most {MAX_ROWS} lines of figures: split it"),
            });
            break;
        }
        if record.len() != headers.len() {
            errors.push(LineError {
                line,
                row,
                column: None,
                reason: format!("expected {} fields as in the header, got {}", headers.len(), record.len()),
            });
            continue;
        }
        let field = |c: &str| at.get(c).and_then(|i| record.get(*i)).unwrap_or("");
        let before = errors.len();
        let mut refuse = |column: &'static str, reason: String| {
            errors.push(LineError { line, row, column: Some(column), reason });
        };
        let period_value = field("period");
        if !is_period(period_value) {
            refuse(
                "period",
                format!(
                    "not a calendar quarter written YYYY-Qn (e.g. 2026-Q3): {}",
                    ggzhub_kit::validate::shown(period_value)
                ),
            );
        }
        let region_value = field("region");
        if !ggzhub_kit::validate::is_region_code(region_value) {
            refuse("region", format!("not a region code: {}", ggzhub_kit::validate::shown(region_value)));
        } else {
            refs.push(RegionRef { line, row: index - 1, column: "region", code: region_value.to_owned() });
        }
        let category = CareCategory::parse(field("category"));
        if category.is_none() {
            refuse(
                "category",
                format!(
                    "unknown category {}; one of {}",
                    ggzhub_kit::validate::shown(field("category")),
                    CareCategory::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
                ),
            );
        }
        let people = count(field("people_in_care")).map_err(|r| refuse("people_in_care", r)).ok();
        let referrals = count(field("new_referrals")).map_err(|r| refuse("new_referrals", r)).ok();
        let treated_value = field("treated_in_region");
        let treated_in = if treated_value.is_empty() {
            None
        } else if !ggzhub_kit::validate::is_region_code(treated_value) {
            refuse("treated_in_region", format!("not a region code: {}", ggzhub_kit::validate::shown(treated_value)));
            None
        } else if treated_value == region_value {
            refuse(
                "treated_in_region",
                "the region itself: leave treated_in_region empty for the region's own figures".to_owned(),
            );
            None
        } else {
            refs.push(RegionRef { line, row: index - 1, column: "treated_in_region", code: treated_value.to_owned() });
            Some(treated_value.to_owned())
        };
        if errors.len() > before {
            continue;
        }
        let (Some(category), Some(people_in_care), Some(new_referrals)) = (category, people, referrals) else {
            continue;
        };
        let key = (period_value.to_owned(), region_value.to_owned(), category, treated_in.clone());
        if let Some(first) = first_with.get(&key) {
            let what = match &treated_in {
                Some(t) => format!("flow {region_value} → {t}"),
                None => format!("region {region_value}"),
            };
            errors.push(LineError {
                line,
                row,
                column: None,
                reason: format!("duplicate: line {first} already gives {period_value}, {what}, {}", category.as_str()),
            });
            continue;
        }
        first_with.insert(key, line);
        rows.push(Row {
            line,
            index: index - 1,
            period: period_value.to_owned(),
            region: region_value.to_owned(),
            category,
            people_in_care,
            new_referrals,
            treated_in,
        });
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(header_error("the file holds no figures, only a header".to_owned()));
    }
    Parsed { rows, errors, refs }
}

/// Checks the regions the lines name against the database (one statement): each must exist and
/// be a care-office region (figures are supplied per care-office region; the hub sums them for
/// IZA regions).
async fn check_regions<C: ConnectionTrait>(conn: &C, refs: &[RegionRef]) -> Result<Vec<LineError>, sea_orm::DbErr> {
    let codes: BTreeSet<&str> = refs.iter().map(|r| r.code.as_str()).collect();
    let kinds: HashMap<String, String> = region::Entity::find()
        .select_only()
        .columns([region::Column::Code, region::Column::Kind])
        .filter(region::Column::Code.is_in(codes))
        .into_tuple::<(String, String)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let mut errors = Vec::new();
    for r in refs {
        let code = &r.code;
        let reason = match kinds.get(code).map(String::as_str) {
            None => format!("unknown region {code}"),
            Some(k) if k == RegionKind::CareOffice.as_str() => continue,
            Some(_) => format!(
                "{code} is an IZA region: figures are supplied per care-office region, and the hub sums them for \
                 the IZA regions that overlap them"
            ),
        };
        errors.push(LineError { line: r.line, row: Some(r.row), column: Some(r.column), reason });
    }
    Ok(errors)
}

/// The supplier must be a registered national-table or hub-operator organisation.
async fn supplier_kind<C: ConnectionTrait>(conn: &C, supplier: &str) -> Result<OrgKind, ApiError> {
    let id = ggzhub_kit::validate::id("supplier", supplier)?;
    let org = organisation::Entity::find_by_id(id.clone())
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::bad_input(format!("supplier: unknown organisation {id}")))?;
    match OrgKind::parse(&org.kind) {
        Some(k @ (OrgKind::NationalTable | OrgKind::HubOperator)) => Ok(k),
        _ => Err(ApiError::bad_input(format!(
            "supplier {id} is a {} organisation; care-use figures are supplied by the national table or the hub \
             operator",
            org.kind
        ))),
    }
}

/// Checks `text` and stores its figures as supplied by `supplier`, on `conn` (pass a
/// transaction: all or nothing). The supplier's earlier figures and flows of the file's quarters
/// are replaced (a correction); one audit entry per quarter (entity `CareUse`, id
/// `<quarter>/<supplier>`, action `import` or `replace`) records who did it and how many figures.
/// Each quarter's version (`care_use_imports`) goes up by one; a quarter named in `expected` at
/// another version, or another import of the same quarter committed meanwhile, is `CONFLICT`.
pub async fn import<C: ConnectionTrait>(
    conn: &C,
    actor: &Caller,
    supplier: &str,
    text: &str,
    expected: &ExpectedVersions,
) -> Result<ImportReport, ImportError> {
    for (p, v) in expected {
        period("expectedVersions.period", p)?;
        if *v < 0 {
            return Err(ApiError::bad_input(format!(
                "expectedVersions: the version of {p} must be 0 (not imported yet) or more, got {v}"
            ))
            .into());
        }
    }
    supplier_kind(conn, supplier).await?;
    let Parsed { rows, mut errors, refs } = parse_all(text);
    if errors.iter().any(|e| e.row.is_none()) {
        // The header (or the file as a whole) is wrong: its lines cannot be read as figures.
        return Err(ImportError::Lines(errors));
    }
    errors.extend(check_regions(conn, &refs).await?);
    if !errors.is_empty() {
        // In line order; a line's own problems in the order of its columns.
        let order = |c: Option<&str>| c.and_then(|c| COLUMNS.iter().position(|k| *k == c)).unwrap_or(COLUMNS.len());
        errors.sort_by_key(|e| (e.line, order(e.column)));
        return Err(ImportError::Lines(errors));
    }
    if let Some(p) = expected.keys().find(|p| !rows.iter().any(|r| &r.period == *p)) {
        return Err(ApiError::bad_input(format!("expectedVersions names {p}, a quarter the file does not hold")).into());
    }
    store(conn, actor, supplier, &rows, expected).await
}

/// Figures and flows per quarter of `rows`.
fn per_period(rows: &[Row]) -> BTreeMap<&str, (usize, usize)> {
    let mut per_period: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for r in rows {
        let e = per_period.entry(r.period.as_str()).or_default();
        if r.treated_in.is_some() {
            e.1 += 1;
        } else {
            e.0 += 1;
        }
    }
    per_period
}

/// Claims each quarter of `counts` for this import before any figure is touched: inserts its
/// `care_use_imports` row at version 1, or moves the existing one on by one version if it is
/// still at the version read (and at the caller's expected one). Another import of the same
/// quarter meets this one at that row: on PostgreSQL the later writer waits for the earlier one
/// and then finds the row taken or its version moved on, and loses with `CONFLICT` — before it
/// has deleted or written a figure. Quarters are claimed in order, so two imports of several
/// quarters cannot deadlock. Returns the quarters the supplier had imported before.
async fn claim_quarters<C: ConnectionTrait>(
    conn: &C,
    supplier: &str,
    by: &str,
    now: chrono::DateTime<Utc>,
    counts: &BTreeMap<&str, (usize, usize)>,
    expected: &ExpectedVersions,
) -> Result<BTreeSet<String>, ImportError> {
    let existing: HashMap<String, i32> = care_use_import::Entity::find()
        .select_only()
        .columns([care_use_import::Column::Period, care_use_import::Column::Version])
        .filter(care_use_import::Column::SupplierId.eq(supplier))
        .filter(care_use_import::Column::Period.is_in(counts.keys().copied()))
        .into_tuple::<(String, i32)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let raced = |p: &str| {
        ApiError::conflict(format!(
            "quarter {p} of supplier {supplier} was imported by another request just now: read careUseImports and \
             import again (with its version in expectedVersions to replace it)"
        ))
    };
    let n = |count: usize| i32::try_from(count).unwrap_or(i32::MAX);
    for (p, (figures, flows)) in counts {
        let quarter = format!("{p}/{supplier}");
        let current = existing.get(*p).copied().unwrap_or(0);
        if let Some(e) = expected.get(*p) {
            ggzhub_kit::write::check_version("care-use quarter", &quarter, current, *e)?;
        }
        if current == 0 {
            care_use_import::ActiveModel {
                supplier_id: Set(supplier.to_owned()),
                period: Set((*p).to_owned()),
                figures: Set(n(*figures)),
                flows: Set(n(*flows)),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                created_by: Set(by.to_owned()),
                updated_by: Set(by.to_owned()),
            }
            .insert(conn)
            .await
            .map_err(|e| ggzhub_kit::write::lost_race(e, || raced(p)))?;
        } else {
            let moved = care_use_import::Entity::update_many()
                .set(care_use_import::ActiveModel {
                    figures: Set(n(*figures)),
                    flows: Set(n(*flows)),
                    version: Set(current + 1),
                    updated_at: Set(now),
                    updated_by: Set(by.to_owned()),
                    ..Default::default()
                })
                .filter(care_use_import::Column::SupplierId.eq(supplier))
                .filter(care_use_import::Column::Period.eq(*p))
                .filter(care_use_import::Column::Version.eq(current))
                .exec(conn)
                .await?;
            if moved.rows_affected == 0 {
                return Err(raced(p).into());
            }
        }
    }
    Ok(existing.into_keys().collect())
}

async fn store<C: ConnectionTrait>(
    conn: &C,
    actor: &Caller,
    supplier: &str,
    rows: &[Row],
    expected: &ExpectedVersions,
) -> Result<ImportReport, ImportError> {
    let periods: BTreeSet<String> = rows.iter().map(|r| r.period.clone()).collect();
    let counts = per_period(rows);
    // As the database keeps it (microseconds).
    let now = Utc::now().trunc_subsecs(6);
    let by = actor.org.to_string();
    let had = claim_quarters(conn, supplier, &by, now, &counts, expected).await?;
    let replaced_figures = care_use_figure::Entity::delete_many()
        .filter(care_use_figure::Column::SupplierId.eq(supplier))
        .filter(care_use_figure::Column::Period.is_in(periods.clone()))
        .exec(conn)
        .await?
        .rows_affected;
    let replaced_flows = care_use_flow::Entity::delete_many()
        .filter(care_use_flow::Column::SupplierId.eq(supplier))
        .filter(care_use_flow::Column::Period.is_in(periods.clone()))
        .exec(conn)
        .await?
        .rows_affected;
    // A figure of the quarter written by another import despite the claim (a unique key taken)
    // is a lost race too, never INTERNAL.
    let raced =
        || ApiError::conflict(format!("care use of supplier {supplier} was imported by another request just now"));
    let (flows, figures): (Vec<&Row>, Vec<&Row>) = rows.iter().partition(|r| r.treated_in.is_some());
    for chunk in figures.chunks(INSERT_CHUNK) {
        care_use_figure::Entity::insert_many(chunk.iter().map(|r| care_use_figure::ActiveModel {
            id: Set(ggzhub_kit::write::new_id()),
            supplier_id: Set(supplier.to_owned()),
            period: Set(r.period.clone()),
            region_code: Set(r.region.clone()),
            category: Set(r.category.as_str().to_owned()),
            people_in_care: Set(r.people_in_care),
            new_referrals: Set(r.new_referrals),
            imported_at: Set(now),
            imported_by: Set(by.clone()),
        }))
        .exec_without_returning(conn)
        .await
        .map_err(|e| ggzhub_kit::write::lost_race(e, raced))?;
    }
    for chunk in flows.chunks(INSERT_CHUNK) {
        care_use_flow::Entity::insert_many(chunk.iter().map(|r| care_use_flow::ActiveModel {
            id: Set(ggzhub_kit::write::new_id()),
            supplier_id: Set(supplier.to_owned()),
            period: Set(r.period.clone()),
            from_region: Set(r.region.clone()),
            to_region: Set(r.treated_in.clone().unwrap_or_default()),
            category: Set(r.category.as_str().to_owned()),
            people_in_care: Set(r.people_in_care),
            new_referrals: Set(r.new_referrals),
            imported_at: Set(now),
            imported_by: Set(by.clone()),
        }))
        .exec_without_returning(conn)
        .await?;
    }
    for (p, (n_figures, n_flows)) in &counts {
        let action = if had.contains(*p) { "replace" } else { "import" };
        ggzhub_kit::audit::record(
            conn,
            actor,
            "CareUse",
            &format!("{p}/{supplier}"),
            action,
            json!({"period": p, "supplier": supplier, "figures": n_figures, "flows": n_flows}),
        )
        .await?;
    }
    let quarters = care_use_import::Entity::find()
        .filter(care_use_import::Column::SupplierId.eq(supplier))
        .filter(care_use_import::Column::Period.is_in(periods.clone()))
        .order_by_asc(care_use_import::Column::Period)
        .all(conn)
        .await?;
    Ok(ImportReport {
        periods: periods.into_iter().collect(),
        figures: figures.len(),
        flows: flows.len(),
        replaced: replaced_figures + replaced_flows,
        quarters,
    })
}

/// `ggzhub import care-use`: imports the CSV `text` as supplied by organisation `supplier` (a
/// national-table or hub-operator organisation) in one transaction. The audit log names the
/// supplier as the organisation that acted, with subject `ggzhub import care-use`.
/// `expected` as [`import`] takes it.
pub async fn import_csv(
    db: &DatabaseConnection,
    supplier: &str,
    text: &str,
    expected: &ExpectedVersions,
) -> Result<ImportReport, ImportError> {
    let txn = db.begin().await?;
    let imported = async {
        let kind = supplier_kind(&txn, supplier).await?;
        let org = uuid::Uuid::parse_str(supplier).map_err(|_| ApiError::bad_input("supplier is not a valid id"))?;
        let actor = Caller {
            org,
            kind,
            subject: "ggzhub import care-use".to_owned(),
            regions: Default::default(),
            roles: Default::default(),
            scopes: Default::default(),
        };
        import(&txn, &actor, supplier, text, expected).await
    }
    .await;
    match imported {
        Ok(report) => {
            txn.commit().await?;
            Ok(report)
        }
        Err(e) => {
            // Rolled back here rather than on drop, so the connection is free at once.
            txn.rollback().await?;
            Err(e)
        }
    }
}

/// The IZA regions of the demo data: code, name and the care-office regions each overlaps
/// (DEMO DATA: a plausible, not the official, division; 36 regions, every care-office region
/// overlapped by at least one).
pub const DEMO_IZA_REGIONS: &[(&str, &str, &[&str])] = &[
    ("iza-groningen", "IZA Groningen", &["groningen"]),
    ("iza-friesland", "IZA Friesland", &["friesland"]),
    ("iza-drenthe", "IZA Drenthe", &["drenthe"]),
    ("iza-ijssel-vecht", "IZA IJssel-Vecht", &["zwolle"]),
    ("iza-twente", "IZA Twente", &["twente"]),
    ("iza-noord-veluwe", "IZA Noord-Veluwe", &["apeldoorn-zutphen", "zwolle"]),
    ("iza-achterhoek", "IZA Achterhoek", &["apeldoorn-zutphen", "arnhem"]),
    ("iza-midden-ijssel", "IZA Midden-IJssel", &["midden-ijssel"]),
    ("iza-centraal-gelderland", "IZA Centraal Gelderland", &["arnhem"]),
    ("iza-rivierenland", "IZA Rivierenland", &["nijmegen", "arnhem", "waardenland"]),
    ("iza-rijk-van-nijmegen", "IZA Rijk van Nijmegen", &["nijmegen"]),
    ("iza-utrecht-stad", "IZA Utrecht Stad", &["utrecht"]),
    ("iza-utrecht-west", "IZA Utrecht West", &["utrecht"]),
    ("iza-eemland", "IZA Eemland", &["utrecht", "t-gooi"]),
    ("iza-flevoland", "IZA Flevoland", &["flevoland"]),
    ("iza-gooi-en-vechtstreek", "IZA Gooi en Vechtstreek", &["t-gooi"]),
    ("iza-noord-holland-noord", "IZA Noord-Holland Noord", &["noord-holland-noord"]),
    ("iza-kennemerland", "IZA Kennemerland", &["kennemerland"]),
    ("iza-zaanstreek-waterland", "IZA Zaanstreek-Waterland", &["zaanstreek-waterland"]),
    ("iza-amsterdam", "IZA Amsterdam", &["amsterdam"]),
    ("iza-amstelland", "IZA Amstelland en de Meerlanden", &["amstelland-en-de-meerlanden"]),
    ("iza-holland-rijnland", "IZA Holland Rijnland", &["zuid-holland-noord"]),
    ("iza-haaglanden", "IZA Haaglanden", &["haaglanden", "westland-schieland-delfland"]),
    ("iza-delft-westland-oostland", "IZA Delft Westland Oostland", &["westland-schieland-delfland"]),
    ("iza-midden-holland", "IZA Midden-Holland", &["midden-holland"]),
    ("iza-rotterdam", "IZA Rotterdam", &["rotterdam"]),
    ("iza-zuid-hollandse-eilanden", "IZA Zuid-Hollandse Eilanden", &["zuid-hollandse-eilanden"]),
    ("iza-drechtsteden", "IZA Drechtsteden", &["waardenland", "zuid-hollandse-eilanden"]),
    ("iza-zeeland", "IZA Zeeland", &["zeeland"]),
    ("iza-west-brabant", "IZA West-Brabant", &["west-brabant"]),
    ("iza-hart-van-brabant", "IZA Hart van Brabant", &["midden-brabant"]),
    ("iza-noordoost-brabant", "IZA Noordoost-Brabant", &["noordoost-brabant"]),
    ("iza-zuidoost-brabant", "IZA Zuidoost-Brabant", &["zuidoost-brabant"]),
    ("iza-noord-limburg", "IZA Noord-Limburg", &["noord-en-midden-limburg"]),
    ("iza-midden-limburg", "IZA Midden-Limburg", &["noord-en-midden-limburg"]),
    ("iza-zuid-limburg", "IZA Zuid-Limburg", &["zuid-limburg"]),
];

/// Quarters of demo care-use figures: the four before the quarter of `today`.
pub const DEMO_QUARTERS: usize = 4;

/// A deterministic number from `parts` (FNV-1a), for demo figures.
fn demo_hash(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// Demo people in care per category for a region of average size (per quarter).
fn demo_base(category: CareCategory) -> u64 {
    match category {
        CareCategory::Acute => 900,
        CareCategory::Outreach => 1400,
        CareCategory::Clinical => 350,
        CareCategory::Secure => 60,
        CareCategory::SpecialistMhc => 120,
        CareCategory::SpecialistHospital => 14,
    }
}

use crate::seed_waiting_plan::demo_id;

/// Adds the demo IZA regions with their overlaps (those whose care-office regions all exist)
/// and four quarters of care-use figures and flows for the care-office regions in `regions`
/// (code, neighbours), supplied by `supplier` (the demo national table). Deterministic given
/// `today`: the same date gives the same figures, and the rows' ids derive from what they hold.
/// DEMO DATA, not real figures.
pub async fn seed_demo<C: ConnectionTrait>(
    conn: &C,
    regions: &[(String, Vec<String>)],
    supplier: &str,
    operator: &str,
    today: chrono::NaiveDate,
) -> Result<(), sea_orm::DbErr> {
    let now = Utc::now();
    let known: BTreeSet<&str> = regions.iter().map(|(c, _)| c.as_str()).collect();
    let iza: Vec<&(&str, &str, &[&str])> =
        DEMO_IZA_REGIONS.iter().filter(|(_, _, overlaps)| overlaps.iter().all(|o| known.contains(o))).collect();
    if !iza.is_empty() {
        region::Entity::insert_many(iza.iter().map(|(code, name, _)| region::ActiveModel {
            code: Set((*code).to_owned()),
            name: Set((*name).to_owned()),
            kind: Set(RegionKind::Iza.as_str().to_owned()),
            neighbours: Set(json!([])),
            coordinating_insurer_id: Set(None),
            map_row: Set(None),
            map_column: Set(None),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            created_by: Set(operator.to_owned()),
            updated_by: Set(operator.to_owned()),
        }))
        .exec_without_returning(conn)
        .await?;
        crate::entity::region_overlap::Entity::insert_many(iza.iter().flat_map(|(code, _, overlaps)| {
            overlaps.iter().map(move |o| crate::entity::region_overlap::ActiveModel {
                id: Set(demo_id(&format!("overlap|{code}|{o}"))),
                iza_code: Set((*code).to_owned()),
                care_office_code: Set((*o).to_owned()),
                created_at: Set(now),
                created_by: Set(operator.to_owned()),
            })
        }))
        .exec_without_returning(conn)
        .await?;
    }
    if regions.is_empty() {
        return Ok(());
    }
    let mut quarters = Vec::new();
    let mut q = quarter_of(today);
    for _ in 0..DEMO_QUARTERS {
        q = previous_quarter(&q);
        quarters.push(q.clone());
    }
    quarters.reverse();
    let mut figures = Vec::new();
    let mut flows = Vec::new();
    for period in &quarters {
        for (code, neighbours) in regions {
            // A region's size: 0.6 to 1.6 times the average, fixed per region.
            let size = 60 + demo_hash(&[code]) % 101;
            for category in CareCategory::ALL {
                let noise = 90 + demo_hash(&[period, code, category.as_str()]) % 21;
                let people = (demo_base(*category) * size / 100 * noise / 100) as i32;
                let referrals = people * (20 + (demo_hash(&[code, category.as_str()]) % 15) as i32) / 100;
                figures.push((period.clone(), code.clone(), *category, people, referrals));
                // People treated in a neighbouring region: more for the supra-regional categories.
                let share = match category {
                    CareCategory::Acute | CareCategory::Outreach => 2,
                    CareCategory::Clinical => 6,
                    _ => 18,
                };
                for n in neighbours.iter().filter(|n| known.contains(n.as_str())).take(2) {
                    let h = demo_hash(&[period, code, n, category.as_str()]);
                    let moved = people * share / 100 * (50 + (h % 51) as i32) / 100;
                    if moved > 0 {
                        flows.push((period.clone(), code.clone(), n.clone(), *category, moved, moved / 4));
                    }
                }
            }
        }
    }
    for chunk in figures.chunks(INSERT_CHUNK) {
        care_use_figure::Entity::insert_many(chunk.iter().map(|(period, code, category, people, referrals)| {
            care_use_figure::ActiveModel {
                id: Set(demo_id(&format!("care-use|{period}|{code}|{}", category.as_str()))),
                supplier_id: Set(supplier.to_owned()),
                period: Set(period.clone()),
                region_code: Set(code.clone()),
                category: Set(category.as_str().to_owned()),
                people_in_care: Set(*people),
                new_referrals: Set(*referrals),
                imported_at: Set(now),
                imported_by: Set(supplier.to_owned()),
            }
        }))
        .exec_without_returning(conn)
        .await?;
    }
    for chunk in flows.chunks(INSERT_CHUNK) {
        care_use_flow::Entity::insert_many(chunk.iter().map(|(period, from, to, category, people, referrals)| {
            care_use_flow::ActiveModel {
                id: Set(demo_id(&format!("care-use-flow|{period}|{from}|{to}|{}", category.as_str()))),
                supplier_id: Set(supplier.to_owned()),
                period: Set(period.clone()),
                from_region: Set(from.clone()),
                to_region: Set(to.clone()),
                category: Set(category.as_str().to_owned()),
                people_in_care: Set(*people),
                new_referrals: Set(*referrals),
                imported_at: Set(now),
                imported_by: Set(supplier.to_owned()),
            }
        }))
        .exec_without_returning(conn)
        .await?;
    }
    // Each quarter's import at version 1, as an import of the demo file would leave it.
    care_use_import::Entity::insert_many(quarters.iter().map(|period| {
        let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
        care_use_import::ActiveModel {
            supplier_id: Set(supplier.to_owned()),
            period: Set(period.clone()),
            figures: Set(count(figures.iter().filter(|f| &f.0 == period).count())),
            flows: Set(count(flows.iter().filter(|f| &f.0 == period).count())),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            created_by: Set(supplier.to_owned()),
            updated_by: Set(supplier.to_owned()),
        }
    }))
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarters_are_yyyy_qn() {
        for ok in ["2026-Q1", "2026-Q4", "2000-Q2"] {
            assert!(is_period(ok), "{ok}");
        }
        for bad in ["2026-Q5", "2026-Q0", "2026-3", "2026Q3", "1999-Q1", "2026-q3", "2026-Q3 ", "", "202€3", "2€26-Q1"]
        {
            assert!(!is_period(bad), "{bad}");
        }
        assert_eq!(quarter_of(chrono::NaiveDate::from_ymd_opt(2026, 12, 6).expect("date")), "2026-Q4");
        assert_eq!(previous_quarter("2026-Q1"), "2025-Q4");
        assert_eq!(previous_quarter("2026-Q3"), "2026-Q2");
    }

    #[test]
    fn every_bad_line_is_reported_with_its_number() {
        let text = "period,region,category,people_in_care,new_referrals,treated_in_region\n\
                    2026-Q3,utrecht,ACUTE,120,30,\n\
                    2026-13,utrecht,ACUTE,-1,x,\n\
                    2026-Q3,utrecht,ACUTE,5,1,\n\
                    2026-Q3,utrecht,ACUTE,5,1,utrecht\n\
                    2026-Q3,utrecht,NOPE,5,1\n\
                    2026-Q3,utrecht,SECURE,5,1,amsterdam\n";
        let errors = parse(text).expect_err("refused");
        let lines: Vec<(u64, Option<&str>)> = errors.iter().map(|e| (e.line, e.column)).collect();
        assert_eq!(
            lines,
            [
                (3, Some("period")),
                (3, Some("people_in_care")),
                (3, Some("new_referrals")),
                (4, None),
                (5, Some("treated_in_region")),
                (6, None)
            ],
            "{errors:#?}"
        );
        assert!(errors[3].reason.contains("duplicate: line 2"), "{}", errors[3].reason);
    }

    #[test]
    fn a_header_without_a_column_is_refused() {
        let errors = parse("period,region,category,people_in_care\n2026-Q3,utrecht,ACUTE,1\n").expect_err("refused");
        assert_eq!(errors.len(), 1);
        assert!(errors[0].reason.contains("missing column new_referrals"), "{errors:?}");
        let rows = parse("period,region,category,people_in_care,new_referrals\n2026-Q3,utrecht,ACUTE,12,3\n")
            .expect("treated_in_region may be left out");
        assert_eq!(rows[0].treated_in, None);
    }

    #[test]
    fn the_demo_iza_regions_overlap_every_care_office_region() {
        let regions: serde_json::Value =
            serde_json::from_str(include_str!("../../data/demo/regions.json")).expect("demo regions parse");
        let codes: BTreeSet<&str> =
            regions["items"].as_array().expect("items").iter().filter_map(|r| r["code"].as_str()).collect();
        let overlapped: BTreeSet<&str> = DEMO_IZA_REGIONS.iter().flat_map(|(_, _, o)| o.iter().copied()).collect();
        assert_eq!(overlapped, codes);
        assert!(DEMO_IZA_REGIONS.iter().all(|(c, _, _)| ggzhub_kit::validate::is_region_code(c)));
    }
}
