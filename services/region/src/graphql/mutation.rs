//! Mutation root: one mutation per W in the access matrix. Each checks the caller, validates its
//! input, compares `expectedVersion` (stale → `CONFLICT`) and writes an audit entry in the same
//! transaction as the change.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{NaiveDate, Utc};
use ggzhub_kit::{ApiError, ApiResult, Caller, GqlResultExt as _, OrgKind, audit};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, TransactionTrait,
};
use serde_json::json;

use super::types::*;
use crate::access;
use crate::domain::*;
use crate::entity::{
    care_form, care_offer, diagnosis_group, organisation, overview, patient_input, region, signal, waiting_time,
};
use crate::history;
use ggzhub_kit::validate::{self as v, MAX_DESCRIPTION, MAX_LONG_TEXT, MAX_NAME, MAX_SHORT_TEXT};

/// How long the coordinating insurer has to acknowledge a signal.
pub const ACKNOWLEDGEMENT_DAYS: i64 = 14;

/// The region subgraph's mutations.
pub struct Mutation;

/// Input for a new region (hub operator).
#[derive(InputObject)]
pub struct CreateRegionInput {
    /// Code, lowercase kebab-case.
    pub code: String,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: RegionKind,
    /// Neighbouring region codes (must exist).
    pub neighbours: Vec<String>,
    /// Coordinating insurer id (an `INSURER` organisation).
    pub coordinating_insurer_id: Option<ID>,
    /// The region's tile on the schematic map (free among regions of its kind).
    pub tile: Option<MapTileInput>,
}

/// A tile on the schematic map: row and column from 0 to 29.
#[derive(InputObject, Debug, Clone, Copy)]
pub struct MapTileInput {
    /// Row, 0 at the top.
    pub row: i32,
    /// Column, 0 at the left.
    pub column: i32,
}

/// The largest row or column a tile may have: room for any regional division of the country.
const MAX_TILE: i32 = 29;

/// Checks `tile` is on the map and not taken by another region of `kind`.
async fn free_tile<C: ConnectionTrait>(conn: &C, kind: &str, code: &str, tile: MapTileInput) -> ApiResult<()> {
    for (field, value) in [("tile.row", tile.row), ("tile.column", tile.column)] {
        if !(0..=MAX_TILE).contains(&value) {
            return Err(ApiError::bad_input(format!("{field} must be between 0 and {MAX_TILE}, got {value}")));
        }
    }
    let taken = region::Entity::find()
        .filter(region::Column::Kind.eq(kind))
        .filter(region::Column::MapRow.eq(tile.row))
        .filter(region::Column::MapColumn.eq(tile.column))
        .filter(region::Column::Code.ne(code))
        .one(conn)
        .await?;
    match taken {
        Some(other) => Err(ApiError::bad_input(format!(
            "tile (row {}, column {}) is taken by region {}",
            tile.row, tile.column, other.code
        ))),
        None => Ok(()),
    }
}

/// Changes to a region (hub operator); omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateRegionInput {
    /// Name.
    pub name: Option<String>,
    /// Neighbouring region codes.
    pub neighbours: Option<Vec<String>>,
    /// Coordinating insurer id.
    pub coordinating_insurer_id: Option<ID>,
    /// The region's tile on the schematic map (free among regions of its kind).
    pub tile: Option<MapTileInput>,
}

/// Input for a new organisation (hub operator).
#[derive(InputObject)]
pub struct CreateOrganisationInput {
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: OrgKind,
    /// KvK number (8 digits).
    pub kvk: Option<String>,
    /// URA (8 digits, providers).
    pub ura: Option<String>,
    /// AGB code (8 digits, providers).
    pub agb: Option<String>,
    /// UZOVI (4 digits, insurers).
    pub uzovi: Option<String>,
    /// Region codes it takes part in.
    pub regions: Vec<String>,
}

/// Changes to an organisation (hub operator).
#[derive(InputObject)]
pub struct UpdateOrganisationInput {
    /// Name.
    pub name: Option<String>,
    /// Region codes it takes part in.
    pub regions: Option<Vec<String>>,
}

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
    /// Status (default `SECURED`).
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
    /// Status (use `closeCareOffer` to close).
    pub status: Option<OfferStatus>,
    /// Supra-regional function.
    pub supra_regional: Option<bool>,
    /// Region codes served.
    pub regions_served: Option<Vec<String>>,
    /// Inclusion criteria.
    pub inclusion_criteria: Option<String>,
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

/// A new continuity signal.
#[derive(InputObject)]
pub struct RaiseSignalInput {
    /// The provider's own offer at risk.
    pub offer_id: ID,
    /// What threatens continuity.
    pub kind: SignalKind,
    /// Severity.
    pub severity: Severity,
    /// Description (no personal data, ≤ 2000 characters).
    pub description: String,
    /// When the problem is expected to bite.
    pub expected_date: Option<NaiveDate>,
}

/// Changes to an open signal.
#[derive(InputObject)]
pub struct UpdateSignalInput {
    /// Severity.
    pub severity: Option<Severity>,
    /// Description.
    pub description: Option<String>,
    /// Expected date.
    pub expected_date: Option<NaiveDate>,
}

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

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

async fn begin(ctx: &Context<'_>) -> ApiResult<DatabaseTransaction> {
    let db = ctx.data::<DatabaseConnection>().map_err(|e| ApiError::internal(anyhow::anyhow!(e.message)))?;
    Ok(db.begin().await?)
}

fn check_version(what: &str, id: &str, current: i32, expected: i32) -> ApiResult<()> {
    if current == expected {
        Ok(())
    } else {
        Err(ApiError::conflict(format!(
            "{what} {id} is at version {current}, not {expected}: reload it and apply your change again"
        )))
    }
}

/// Writes `active` only if the stored version is still `expected` (guards against a concurrent
/// writer between our read and our write).
async fn update_guarded<E, A>(
    txn: &DatabaseTransaction,
    active: A,
    id_col: E::Column,
    id: &str,
    ver_col: E::Column,
    expected: i32,
) -> ApiResult<()>
where
    E: EntityTrait,
    A: ActiveModelTrait<Entity = E> + Send,
{
    // A unique value taken by another record in the meantime (a region's map tile) is the
    // caller's input clashing, not a fault of ours.
    let res = E::update_many().set(active).filter(id_col.eq(id)).filter(ver_col.eq(expected)).exec(txn).await.map_err(
        |e| lost_race(e, || ApiError::bad_input(format!("a value of {id} that must be unique was just taken"))),
    )?;
    if res.rows_affected == 0 {
        return Err(ApiError::conflict(format!(
            "{id} was changed concurrently: reload it and apply your change again"
        )));
    }
    Ok(())
}

async fn audit<C: ConnectionTrait>(
    conn: &C,
    c: &Caller,
    entity: &str,
    id: &str,
    action: &str,
    change: serde_json::Value,
) -> ApiResult<()> {
    Ok(audit::record(conn, c, entity, id, action, change).await?)
}

/// A unique index refused an insert: another request created the same record between our check
/// and our write. Reported as the check would have reported it, never as `INTERNAL`.
fn lost_race(err: sea_orm::DbErr, refusal: impl FnOnce() -> ApiError) -> ApiError {
    match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => refusal(),
        _ => ApiError::from(err),
    }
}

async fn existing_regions<C: ConnectionTrait>(conn: &C, field: &str, codes: &[String]) -> ApiResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for code in codes {
        v::region_code(field, code)?;
        if !out.contains(code) {
            out.push(code.clone());
        }
    }
    if out.len() > 50 {
        return Err(ApiError::bad_input(format!("{field} lists {} regions; at most 50 are allowed", out.len())));
    }
    let found = region::Entity::find().filter(region::Column::Code.is_in(out.clone())).all(conn).await?;
    if let Some(missing) = out.iter().find(|c| !found.iter().any(|r| &r.code == *c)) {
        return Err(ApiError::bad_input(format!("{field}: unknown region code {missing}")));
    }
    Ok(out)
}

async fn insurer<C: ConnectionTrait>(conn: &C, id: &ID) -> ApiResult<String> {
    let id = v::id("coordinatingInsurerId", id)?;
    match organisation::Entity::find_by_id(id.clone()).one(conn).await? {
        Some(o) if o.kind == OrgKind::Insurer.as_str() => Ok(id),
        Some(_) => Err(ApiError::bad_input(format!("coordinatingInsurerId {id} is not an insurer"))),
        None => Err(ApiError::bad_input(format!("coordinatingInsurerId: unknown organisation {id}"))),
    }
}

fn digits(field: &str, value: Option<String>, len: usize) -> ApiResult<Option<String>> {
    match value.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()) {
        Some(s) if s.len() == len && s.bytes().all(|b| b.is_ascii_digit()) => Ok(Some(s)),
        Some(s) => Err(ApiError::bad_input(format!("{field} must be {len} digits, got {}", v::shown(&s)))),
        None => Ok(None),
    }
}

fn capacity(input: &CapacityInput) -> ApiResult<()> {
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

async fn care_form_of<C: ConnectionTrait>(conn: &C, code: &str, category: &str) -> ApiResult<()> {
    match care_form::Entity::find_by_id(code.to_owned()).one(conn).await? {
        Some(f) if f.category == category => Ok(()),
        Some(f) => {
            Err(ApiError::bad_input(format!("care form {code} belongs to category {}, not {category}", f.category)))
        }
        None => Err(ApiError::bad_input(format!("unknown care form {}", v::shown(code)))),
    }
}

async fn load_offer<C: ConnectionTrait>(conn: &C, id: &ID) -> ApiResult<care_offer::Model> {
    let id = v::id("id", id)?;
    care_offer::Entity::find_by_id(id.clone())
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no care offer with id {id}")))
}

async fn coordinating_insurer<C: ConnectionTrait>(conn: &C, region_code: &str) -> ApiResult<Option<String>> {
    Ok(region::Entity::find_by_id(region_code.to_owned()).one(conn).await?.and_then(|r| r.coordinating_insurer_id))
}

/// A signal the caller may see in full, or `NOT_FOUND` — a signal you may not see is reported
/// exactly like one that does not exist.
async fn load_visible_signal<C: ConnectionTrait>(
    conn: &C,
    c: &Caller,
    id: &ID,
) -> ApiResult<(signal::Model, Option<String>)> {
    let id = v::id("id", id)?;
    let missing = || ApiError::not_found(format!("no continuity signal with id {id}"));
    let s = signal::Entity::find_by_id(id.clone()).one(conn).await?.ok_or_else(missing)?;
    let coordinating = coordinating_insurer(conn, &s.region_code).await?;
    // Changes do not consult contracting: an insurer that only contracts the offer is answered
    // as before (only the coordinating insurer acknowledges).
    if !access::can_see_signal(c, &s, coordinating.as_deref(), false) {
        return Err(missing());
    }
    Ok((s, coordinating))
}

/// Checks a date a caller gives lies in 2000–2100.
fn plausible_date(field: &str, d: NaiveDate) -> ApiResult<()> {
    use chrono::Datelike as _;
    if (2000..=2100).contains(&d.year()) {
        Ok(())
    } else {
        Err(ApiError::bad_input(format!("{field} must lie between 2000 and 2100, got {d}")))
    }
}

/// The caller's own organisation must be registered in the hub (as `kind`).
async fn registered<C: ConnectionTrait>(conn: &C, c: &Caller, kind: OrgKind) -> ApiResult<()> {
    match organisation::Entity::find_by_id(c.org.to_string()).one(conn).await? {
        Some(o) if o.kind == kind.as_str() => Ok(()),
        Some(o) => Err(ApiError::bad_input(format!(
            "organisation {} is registered as {}, not {}",
            c.org,
            o.kind,
            kind.as_str()
        ))),
        None => Err(ApiError::bad_input(format!("organisation {} is not registered in the hub", c.org))),
    }
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

/// Mutations of the region subgraph; each names the version it expects and is audited.
#[Object(name = "RegionMutation")]
impl Mutation {
    /// Creates a region (hub operator).
    async fn create_region(&self, ctx: &Context<'_>, input: CreateRegionInput) -> Result<Region> {
        let c = caller(ctx)?;
        access::administer(c).gql()?;
        async {
            v::region_code("code", &input.code)?;
            let name = v::text("name", &input.name, MAX_NAME)?;
            let txn = begin(ctx).await?;
            if region::Entity::find_by_id(input.code.clone()).one(&txn).await?.is_some() {
                return Err(ApiError::bad_input(format!("region code {} is already in use", input.code)));
            }
            let neighbours = existing_regions(&txn, "neighbours", &input.neighbours).await?;
            let insurer_id = match &input.coordinating_insurer_id {
                Some(i) => Some(insurer(&txn, i).await?),
                None => None,
            };
            if let Some(tile) = input.tile {
                free_tile(&txn, input.kind.as_str(), &input.code, tile).await?;
            }
            let now = Utc::now();
            let model = region::ActiveModel {
                code: Set(input.code.clone()),
                name: Set(name),
                kind: Set(input.kind.as_str().to_owned()),
                neighbours: Set(json!(neighbours)),
                coordinating_insurer_id: Set(insurer_id),
                map_row: Set(input.tile.map(|t| t.row)),
                map_column: Set(input.tile.map(|t| t.column)),
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
                    ApiError::bad_input(format!("region code {} or its tile is already in use", input.code))
                })
            })?;
            audit(
                &txn,
                c,
                "Region",
                &model.code,
                "create",
                json!({"name": model.name, "kind": model.kind, "neighbours": model.neighbours,
                       "tile": input.tile.map(|t| json!({"row": t.row, "column": t.column}))}),
            )
            .await?;
            txn.commit().await?;
            Ok(Region(model))
        }
        .await
        .gql()
    }

    /// Changes a region (hub operator).
    async fn update_region(
        &self,
        ctx: &Context<'_>,
        code: String,
        expected_version: i32,
        input: UpdateRegionInput,
    ) -> Result<Region> {
        let c = caller(ctx)?;
        access::administer(c).gql()?;
        async {
            v::region_code("code", &code)?;
            let txn = begin(ctx).await?;
            let current = region::Entity::find_by_id(code.clone())
                .one(&txn)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("no region with code {code}")))?;
            check_version("region", &code, current.version, expected_version)?;
            let mut active = region::ActiveModel {
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
            if let Some(ns) = &input.neighbours {
                if ns.contains(&code) {
                    return Err(ApiError::bad_input("a region cannot be its own neighbour"));
                }
                let ns = existing_regions(&txn, "neighbours", ns).await?;
                change["neighbours"] = json!(ns);
                active.neighbours = Set(json!(ns));
            }
            if let Some(i) = &input.coordinating_insurer_id {
                let i = insurer(&txn, i).await?;
                change["coordinatingInsurerId"] = json!(i);
                active.coordinating_insurer_id = Set(Some(i));
            }
            if let Some(tile) = input.tile {
                free_tile(&txn, &current.kind, &code, tile).await?;
                change["tile"] = json!({"row": tile.row, "column": tile.column});
                active.map_row = Set(Some(tile.row));
                active.map_column = Set(Some(tile.column));
            }
            update_guarded(&txn, active, region::Column::Code, &code, region::Column::Version, expected_version)
                .await?;
            audit(&txn, c, "Region", &code, "update", change).await?;
            let model = region::Entity::find_by_id(code.clone())
                .one(&txn)
                .await?
                .ok_or_else(|| ApiError::not_found(code.clone()))?;
            txn.commit().await?;
            Ok(Region(model))
        }
        .await
        .gql()
    }

    /// Registers an organisation (hub operator).
    async fn create_organisation(&self, ctx: &Context<'_>, input: CreateOrganisationInput) -> Result<Organisation> {
        let c = caller(ctx)?;
        access::administer(c).gql()?;
        async {
            let name = v::text("name", &input.name, MAX_NAME)?;
            let kvk = digits("kvk", input.kvk, 8)?;
            let ura = digits("ura", input.ura, 8)?;
            let agb = digits("agb", input.agb, 8)?;
            let uzovi = digits("uzovi", input.uzovi, 4)?;
            if uzovi.is_some() && input.kind != OrgKind::Insurer {
                return Err(ApiError::bad_input("only insurers have a UZOVI code"));
            }
            let txn = begin(ctx).await?;
            let regions = existing_regions(&txn, "regions", &input.regions).await?;
            let now = Utc::now();
            let model = organisation::ActiveModel {
                id: Set(new_id()),
                name: Set(name),
                kind: Set(input.kind.as_str().to_owned()),
                kvk: Set(kvk),
                ura: Set(ura),
                agb: Set(agb),
                uzovi: Set(uzovi),
                regions: Set(json!(regions)),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                created_by: Set(c.org.to_string()),
                updated_by: Set(c.org.to_string()),
            }
            .insert(&txn)
            .await?;
            // The register's table seats follow `regions` (see crate::register).
            crate::register::set_member_regions(&txn, &model.id, &regions, &c.org.to_string()).await?;
            audit(
                &txn,
                c,
                "Organisation",
                &model.id,
                "create",
                json!({"name": model.name, "kind": model.kind, "regions": model.regions}),
            )
            .await?;
            txn.commit().await?;
            Ok(Organisation(model))
        }
        .await
        .gql()
    }

    /// Changes an organisation's profile (hub operator).
    async fn update_organisation(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        input: UpdateOrganisationInput,
    ) -> Result<Organisation> {
        let c = caller(ctx)?;
        access::administer(c).gql()?;
        async {
            let id = v::id("id", &id)?;
            let txn = begin(ctx).await?;
            let current = organisation::Entity::find_by_id(id.clone())
                .one(&txn)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("no organisation with id {id}")))?;
            check_version("organisation", &id, current.version, expected_version)?;
            let mut active = organisation::ActiveModel {
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
            if let Some(rs) = &input.regions {
                let rs = existing_regions(&txn, "regions", rs).await?;
                // The register's table seats follow `regions` (see crate::register).
                crate::register::set_member_regions(&txn, &id, &rs, &c.org.to_string()).await?;
                change["regions"] = json!(rs);
                active.regions = Set(json!(rs));
            }
            update_guarded(
                &txn,
                active,
                organisation::Column::Id,
                &id,
                organisation::Column::Version,
                expected_version,
            )
            .await?;
            audit(&txn, c, "Organisation", &id, "update", change).await?;
            let model = organisation::Entity::find_by_id(id.clone())
                .one(&txn)
                .await?
                .ok_or_else(|| ApiError::not_found(id.clone()))?;
            txn.commit().await?;
            Ok(Organisation(model))
        }
        .await
        .gql()
    }

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
            care_form_of(&txn, &input.care_form, input.category.as_str()).await?;
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
            audit(&txn, c, "CareOffer", &model.id, "create", json!({"regionCode": model.region_code, "category": model.category, "careForm": model.care_form, "unitName": model.unit_name, "status": model.status})).await?;
            txn.commit().await?;
            Ok(CareOffer(model))
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
            if let Some(f) = &input.care_form {
                care_form_of(&txn, f, &current.category).await?;
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
                if current.status == OfferStatus::Closed.as_str() {
                    return Err(ApiError::bad_input("a closed offer cannot be reopened; create a new offer"));
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
            audit(&txn, c, "CareOffer", &current.id, "update", change).await?;
            let model = load_offer(&txn, &id).await?;
            history::offer_changed(&txn, &model).await?;
            txn.commit().await?;
            Ok(CareOffer(model))
        }
        .await
        .gql()
    }

    /// Closes one of the caller's own care offers (status `CLOSED`).
    async fn close_care_offer(&self, ctx: &Context<'_>, id: ID, expected_version: i32) -> Result<CareOffer> {
        let c = caller(ctx)?;
        async {
            let txn = begin(ctx).await?;
            let current = load_offer(&txn, &id).await?;
            access::write_own_offer(c, &current.provider_id)?;
            check_version("care offer", &current.id, current.version, expected_version)?;
            if current.status == OfferStatus::Closed.as_str() {
                return Err(ApiError::bad_input(format!("care offer {} is already closed", current.id)));
            }
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
            let model = load_offer(&txn, &id).await?;
            history::offer_changed(&txn, &model).await?;
            txn.commit().await?;
            Ok(CareOffer(model))
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
            let model = load_offer(&txn, &offer_id).await?;
            history::offer_changed(&txn, &model).await?;
            txn.commit().await?;
            Ok(CareOffer(model))
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
            let model = load_offer(&txn, &offer_id).await?;
            history::offer_changed(&txn, &model).await?;
            txn.commit().await?;
            Ok(CareOffer(model))
        }
        .await
        .gql()
    }

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

    /// Raises a continuity signal (early warning) on one of the caller's own offers. The
    /// region's coordinating insurer must acknowledge it within 14 days.
    async fn raise_continuity_signal(&self, ctx: &Context<'_>, input: RaiseSignalInput) -> Result<ContinuitySignal> {
        let c = caller(ctx)?;
        async {
            let description = v::text("description", &input.description, MAX_DESCRIPTION)?;
            if let Some(d) = input.expected_date {
                plausible_date("expectedDate", d)?;
            }
            let txn = begin(ctx).await?;
            let offer = load_offer(&txn, &input.offer_id).await?;
            access::write_own_signal(c, &offer.provider_id)?;
            if offer.status == OfferStatus::Closed.as_str() {
                return Err(ApiError::bad_input(format!(
                    "care offer {} is closed; a signal needs an offer that still runs",
                    offer.id
                )));
            }
            let now = Utc::now();
            let model = signal::ActiveModel {
                id: Set(new_id()),
                offer_id: Set(offer.id.clone()),
                provider_id: Set(offer.provider_id.clone()),
                region_code: Set(offer.region_code.clone()),
                kind: Set(input.kind.as_str().to_owned()),
                severity: Set(input.severity.as_str().to_owned()),
                description: Set(description),
                expected_date: Set(input.expected_date),
                status: Set(SignalStatus::Open.as_str().to_owned()),
                raised_at: Set(now),
                acknowledgement_deadline: Set(now + chrono::Duration::days(ACKNOWLEDGEMENT_DAYS)),
                acknowledged_at: Set(None),
                acknowledged_by: Set(None),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                created_by: Set(c.org.to_string()),
                updated_by: Set(c.org.to_string()),
            }
            .insert(&txn)
            .await?;
            history::signal_event(&txn, &model, &c.org.to_string()).await?;
            audit(
                &txn,
                c,
                "ContinuitySignal",
                &model.id,
                "raise",
                json!({"offerId": model.offer_id, "kind": model.kind, "severity": model.severity}),
            )
            .await?;
            txn.commit().await?;
            Ok(ContinuitySignal::full(model))
        }
        .await
        .gql()
    }

    /// Changes one of the caller's own signals that is not resolved.
    async fn update_continuity_signal(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        input: UpdateSignalInput,
    ) -> Result<ContinuitySignal> {
        let c = caller(ctx)?;
        async {
            let txn = begin(ctx).await?;
            let (current, _) = load_visible_signal(&txn, c, &id).await?;
            access::write_own_signal(c, &current.provider_id)?;
            check_version("continuity signal", &current.id, current.version, expected_version)?;
            if current.status == SignalStatus::Resolved.as_str() {
                return Err(ApiError::bad_input("a resolved signal cannot change; raise a new one"));
            }
            let mut active = signal::ActiveModel {
                version: Set(expected_version + 1),
                updated_at: Set(Utc::now()),
                updated_by: Set(c.org.to_string()),
                ..Default::default()
            };
            let mut change = json!({});
            if let Some(s) = input.severity {
                change["severity"] = json!(s.as_str());
                active.severity = Set(s.as_str().to_owned());
            }
            if let Some(d) = &input.description {
                let d = v::text("description", d, MAX_DESCRIPTION)?;
                change["description"] = json!("(changed)");
                active.description = Set(d);
            }
            if let Some(d) = input.expected_date {
                plausible_date("expectedDate", d)?;
                change["expectedDate"] = json!(d);
                active.expected_date = Set(Some(d));
            }
            update_guarded(&txn, active, signal::Column::Id, &current.id, signal::Column::Version, expected_version)
                .await?;
            audit(&txn, c, "ContinuitySignal", &current.id, "update", change).await?;
            let model = signal::Entity::find_by_id(current.id.clone())
                .one(&txn)
                .await?
                .ok_or_else(|| ApiError::not_found(current.id.clone()))?;
            txn.commit().await?;
            Ok(ContinuitySignal::full(model))
        }
        .await
        .gql()
    }

    /// Acknowledges a signal (the coordinating insurer of the signal's region).
    async fn acknowledge_continuity_signal(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
    ) -> Result<ContinuitySignal> {
        let c = caller(ctx)?;
        async {
            let txn = begin(ctx).await?;
            let (current, coordinating) = load_visible_signal(&txn, c, &id).await?;
            access::acknowledge_signal(c, coordinating.as_deref())?;
            check_version("continuity signal", &current.id, current.version, expected_version)?;
            if current.status != SignalStatus::Open.as_str() {
                return Err(ApiError::bad_input(format!(
                    "only OPEN signals can be acknowledged; this one is {}",
                    current.status
                )));
            }
            self::transition(txn, c, &current, expected_version, SignalStatus::Acknowledged, true).await
        }
        .await
        .gql()
    }

    /// Marks one of the caller's own signals resolved.
    async fn resolve_continuity_signal(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
    ) -> Result<ContinuitySignal> {
        let c = caller(ctx)?;
        async {
            let txn = begin(ctx).await?;
            let (current, _) = load_visible_signal(&txn, c, &id).await?;
            access::write_own_signal(c, &current.provider_id)?;
            check_version("continuity signal", &current.id, current.version, expected_version)?;
            if current.status == SignalStatus::Resolved.as_str() {
                return Err(ApiError::bad_input("the signal is already resolved"));
            }
            self::transition(txn, c, &current, expected_version, SignalStatus::Resolved, false).await
        }
        .await
        .gql()
    }

    /// Escalates a signal to the national table (the region's chair).
    async fn escalate_continuity_signal(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
    ) -> Result<ContinuitySignal> {
        let c = caller(ctx)?;
        async {
            let txn = begin(ctx).await?;
            let sid = v::id("id", &id)?;
            let missing = || ApiError::not_found(format!("no continuity signal with id {sid}"));
            let current = signal::Entity::find_by_id(sid.clone()).one(&txn).await?.ok_or_else(missing)?;
            let coordinating = coordinating_insurer(&txn, &current.region_code).await?;
            let sees = access::can_see_signal(c, &current, coordinating.as_deref(), false);
            // Chairs of other regions learn nothing about this one; the chair of the signal's
            // region escalates it and then sees only its id, region, status and dates.
            if !sees && !c.is_chair(&current.region_code) {
                return Err(missing());
            }
            access::escalate_signal(c, &current.region_code)?;
            check_version("continuity signal", &current.id, current.version, expected_version)?;
            if current.status == SignalStatus::Resolved.as_str() || current.status == SignalStatus::Escalated.as_str() {
                return Err(ApiError::bad_input(format!("a {} signal cannot be escalated", current.status)));
            }
            let mut escalated =
                self::transition(txn, c, &current, expected_version, SignalStatus::Escalated, false).await?;
            escalated.full = sees;
            Ok(escalated)
        }
        .await
        .gql()
    }

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
            Ok(RegionalOverview(model))
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
            Ok(RegionalOverview(model))
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
            Ok(RegionalOverview(model))
        }
        .await
        .gql()
    }

    /// Adds a patient organisation's input to a region's overview of a year (regions the
    /// organisation takes part in).
    #[graphql(tag = "public")]
    async fn submit_patient_input(
        &self,
        ctx: &Context<'_>,
        region_code: String,
        year: i32,
        text: String,
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
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                created_by: Set(c.org.to_string()),
                updated_by: Set(c.org.to_string()),
            }
            .insert(&txn)
            .await?;
            audit(&txn, c, "PatientInput", &model.id, "create", json!({"overviewId": o.id})).await?;
            txn.commit().await?;
            Ok(PatientInput(model))
        }
        .await
        .gql()
    }

    /// Changes the caller's own patient input.
    #[graphql(tag = "public")]
    async fn update_patient_input(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        text: String,
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
            let active = patient_input::ActiveModel {
                text: Set(text),
                version: Set(expected_version + 1),
                updated_at: Set(Utc::now()),
                updated_by: Set(c.org.to_string()),
                ..Default::default()
            };
            update_guarded(
                &txn,
                active,
                patient_input::Column::Id,
                &id,
                patient_input::Column::Version,
                expected_version,
            )
            .await?;
            audit(&txn, c, "PatientInput", &id, "update", json!({})).await?;
            let model = patient_input::Entity::find_by_id(id.clone()).one(&txn).await?.ok_or_else(missing)?;
            txn.commit().await?;
            Ok(PatientInput(model))
        }
        .await
        .gql()
    }
}

async fn transition(
    txn: DatabaseTransaction,
    c: &Caller,
    current: &signal::Model,
    expected_version: i32,
    to: SignalStatus,
    acknowledge: bool,
) -> ApiResult<ContinuitySignal> {
    let now = Utc::now();
    let mut active = signal::ActiveModel {
        status: Set(to.as_str().to_owned()),
        version: Set(expected_version + 1),
        updated_at: Set(now),
        updated_by: Set(c.org.to_string()),
        ..Default::default()
    };
    if acknowledge {
        active.acknowledged_at = Set(Some(now));
        active.acknowledged_by = Set(Some(c.org.to_string()));
    }
    update_guarded(&txn, active, signal::Column::Id, &current.id, signal::Column::Version, expected_version).await?;
    audit(
        &txn,
        c,
        "ContinuitySignal",
        &current.id,
        &to.as_str().to_lowercase(),
        json!({"from": current.status, "to": to.as_str()}),
    )
    .await?;
    let model = signal::Entity::find_by_id(current.id.clone())
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::not_found(current.id.clone()))?;
    history::signal_event(&txn, &model, &c.org.to_string()).await?;
    txn.commit().await?;
    Ok(ContinuitySignal::full(model))
}
