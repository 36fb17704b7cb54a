//! Mutations of the national-table subgraph. Each checks the caller, validates its input,
//! checks references to region-owned entities with their owner (never storing one unchecked),
//! compares `expectedVersion` and writes an audit entry in the same transaction.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{NaiveDate, Utc};
use ggzhub_kit::refs::RefChecker;
use ggzhub_kit::validate::{self as v, MAX_LONG_TEXT, MAX_NAME, MAX_SHORT_TEXT};
use ggzhub_kit::{ApiError, ApiResult, Caller, GqlResultExt as _, audit};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, TransactionTrait,
};
use serde_json::{Value, json};

use super::types::*;
use crate::access;
use crate::domain::*;
use crate::entity::{escalation, kpi, listing, measure, measurement, network, transition};

/// The national-table subgraph's mutations.
pub struct Mutation;

/// A new escalation (the region's chair).
#[derive(InputObject)]
pub struct RaiseEscalationInput {
    /// Raising region's code.
    pub region_code: String,
    /// Category of crucial care.
    pub category: CareCategory,
    /// Target group (≤ 200 characters).
    pub target_group: String,
    /// The problem the region could not solve (no personal data, ≤ 8000 characters).
    pub problem: String,
    /// What the region tried (≤ 8000 characters).
    pub region_tried: String,
    /// Affected care offers, located in the raising region (at most 20).
    pub affected_offer_ids: Option<Vec<ID>>,
    /// Urgency.
    pub urgency: Urgency,
}

/// A move along the escalation lifecycle (national table).
#[derive(InputObject)]
pub struct TransitionInput {
    /// Target status: from SUBMITTED to IN_DISCUSSION or DECLINED; from IN_DISCUSSION to
    /// MEASURE_AGREED (needs at least one measure) or DECLINED; from MEASURE_AGREED to RESOLVED.
    pub to: EscalationStatus,
    /// Note recorded with the move (no personal data, ≤ 500 characters).
    pub note: Option<String>,
    /// Public summary; required when deciding (MEASURE_AGREED, DECLINED), optional on RESOLVED.
    pub public_summary: Option<String>,
    /// Reason; required for DECLINED.
    pub decline_reason: Option<String>,
}

/// A new measure on an escalation (national table).
#[derive(InputObject)]
pub struct MeasureInput {
    /// Title (≤ 200 characters).
    pub title: String,
    /// Description (no personal data, ≤ 8000 characters).
    pub description: String,
    /// Organisation that carries it out.
    pub owner_organisation_id: ID,
    /// Due date.
    pub due_date: NaiveDate,
}

/// Changes to a measure; omitted fields stay.
#[derive(InputObject)]
pub struct UpdateMeasureInput {
    /// Title.
    pub title: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Due date.
    pub due_date: Option<NaiveDate>,
    /// Progress.
    pub status: Option<MeasureStatus>,
}

/// A listing on the supra-regional offer list (national table).
#[derive(InputObject)]
pub struct ListingInput {
    /// The listed care offer.
    pub offer_id: ID,
    /// Target group.
    pub target_group: String,
    /// Region codes it serves (at least one).
    pub regions_served: Vec<String>,
    /// On the HS-8 (Zpm setting 8) list.
    pub hs8: bool,
    /// Expertise network.
    pub expertise_network_id: Option<ID>,
}

/// Changes to a listing; omitted fields stay. The listed offer never changes.
#[derive(InputObject)]
pub struct UpdateListingInput {
    /// Target group.
    pub target_group: Option<String>,
    /// Region codes it serves.
    pub regions_served: Option<Vec<String>>,
    /// HS-8 flag.
    pub hs8: Option<bool>,
    /// Expertise network.
    pub expertise_network_id: Option<ID>,
}

/// An expertise network (national table).
#[derive(InputObject)]
pub struct NetworkInput {
    /// Name.
    pub name: String,
    /// Target group.
    pub target_group: String,
    /// Member organisations.
    pub member_organisation_ids: Vec<ID>,
    /// Consultation contact: an organisation function, never a person (≤ 500 characters). The
    /// desk's phone number and e-mail address may be given; BSNs and dates of birth are refused.
    pub consultation_contact: String,
}

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

async fn begin(ctx: &Context<'_>) -> ApiResult<DatabaseTransaction> {
    let db = ctx.data::<DatabaseConnection>().map_err(|e| ApiError::internal(anyhow::anyhow!(e.message)))?;
    Ok(db.begin().await?)
}

fn refs<'a>(ctx: &'a Context<'_>) -> ApiResult<&'a RefChecker> {
    ctx.data::<RefChecker>().map_err(|e| ApiError::internal(anyhow::anyhow!(e.message)))
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
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
    let res = E::update_many().set(active).filter(id_col.eq(id)).filter(ver_col.eq(expected)).exec(txn).await?;
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
    change: Value,
) -> ApiResult<()> {
    Ok(audit::record(conn, c, entity, id, action, change).await?)
}

/// References to check with the region subgraph, answered in one round trip.
#[derive(Default)]
struct Refs {
    regions: Vec<String>,
    offers: Vec<String>,
    orgs: Vec<String>,
}

/// What the region subgraph answered.
struct Checked {
    /// Offer id → region code.
    offer_regions: std::collections::HashMap<String, String>,
}

impl Refs {
    /// Asks the owner; any unknown reference is `BAD_USER_INPUT` naming it.
    async fn check(self, checker: &RefChecker, c: &Caller) -> ApiResult<Checked> {
        let mut reps = Vec::new();
        for code in &self.regions {
            reps.push(json!({ "__typename": "Region", "code": code }));
        }
        for id in &self.offers {
            reps.push(json!({ "__typename": "CareOffer", "id": id }));
        }
        for id in &self.orgs {
            reps.push(json!({ "__typename": "Organisation", "id": id }));
        }
        let answers = checker
            .resolve(
                c,
                reps,
                "... on Region { code } ... on CareOffer { id region { code } } ... on Organisation { id }",
            )
            .await?;
        let mut answers = answers.into_iter();
        for code in &self.regions {
            if answers.next().flatten().is_none() {
                return Err(ApiError::bad_input(format!("unknown region code {code}")));
            }
        }
        let mut offer_regions = std::collections::HashMap::new();
        for id in &self.offers {
            match answers.next().flatten() {
                Some(o) => {
                    offer_regions.insert(id.clone(), o["region"]["code"].as_str().unwrap_or_default().to_owned());
                }
                None => return Err(ApiError::bad_input(format!("unknown care offer {id}"))),
            }
        }
        for id in &self.orgs {
            if answers.next().flatten().is_none() {
                return Err(ApiError::bad_input(format!("unknown organisation {id}")));
            }
        }
        Ok(Checked { offer_regions })
    }
}

fn region_list(field: &str, codes: &[String]) -> ApiResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for code in codes {
        v::region_code(field, code)?;
        if !out.contains(code) {
            out.push(code.clone());
        }
    }
    if out.is_empty() {
        return Err(ApiError::bad_input(format!("{field} must list at least one region")));
    }
    if out.len() > 50 {
        return Err(ApiError::bad_input(format!("{field} lists {} regions; at most 50 are allowed", out.len())));
    }
    Ok(out)
}

fn id_list(field: &str, ids: &[ID], max: usize) -> ApiResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        let id = v::id(field, id)?;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    if out.len() > max {
        return Err(ApiError::bad_input(format!("{field} lists {} ids; at most {max} are allowed", out.len())));
    }
    Ok(out)
}

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

async fn load_escalation<C: ConnectionTrait>(conn: &C, c: &Caller, id: &ID) -> ApiResult<escalation::Model> {
    let id = v::id("id", id)?;
    let missing = || ApiError::not_found(format!("no escalation with id {id}"));
    let e = escalation::Entity::find_by_id(id.clone()).one(conn).await?.ok_or_else(missing)?;
    if access::escalation_view(c, &e) == access::EscalationView::None {
        return Err(missing());
    }
    Ok(e)
}

async fn network_exists<C: ConnectionTrait>(conn: &C, id: &ID) -> ApiResult<String> {
    let id = v::id("expertiseNetworkId", id)?;
    match network::Entity::find_by_id(id.clone()).one(conn).await? {
        Some(_) => Ok(id),
        None => Err(ApiError::bad_input(format!("unknown expertise network {id}"))),
    }
}

/// Mutations of the national table; each names the version it expects and is audited.
#[Object(name = "Mutation")]
impl Mutation {
    /// Raises an escalation (the chair of the region). Region and affected offers are checked
    /// with the region subgraph; affected offers must be located in the raising region.
    async fn raise_escalation(&self, ctx: &Context<'_>, input: RaiseEscalationInput) -> Result<Escalation> {
        let c = caller(ctx)?;
        async {
            v::region_code("regionCode", &input.region_code)?;
            access::raise_escalation(c, &input.region_code)?;
            let target_group = v::text("targetGroup", &input.target_group, MAX_NAME)?;
            let problem = v::text("problem", &input.problem, MAX_LONG_TEXT)?;
            let region_tried = v::text("regionTried", &input.region_tried, MAX_LONG_TEXT)?;
            let offers = id_list("affectedOfferIds", input.affected_offer_ids.as_deref().unwrap_or_default(), 20)?;
            let checked = Refs { regions: vec![input.region_code.clone()], offers: offers.clone(), orgs: vec![] }
                .check(refs(ctx)?, c)
                .await?;
            if let Some((id, r)) = checked.offer_regions.iter().find(|(_, r)| **r != input.region_code) {
                return Err(ApiError::bad_input(format!(
                    "care offer {id} is located in {r}, not in {}",
                    input.region_code
                )));
            }
            let txn = begin(ctx).await?;
            let now = Utc::now();
            let model = escalation::ActiveModel {
                // Random, not time-ordered like `new_id`: a decided escalation's id is public, and a
                // UUIDv7 would carry the raise time that `raisedAt` keeps from outsiders.
                id: Set(uuid::Uuid::new_v4().to_string()),
                region_code: Set(input.region_code.clone()),
                category: Set(input.category.as_str().to_owned()),
                target_group: Set(target_group),
                problem: Set(problem),
                region_tried: Set(region_tried),
                affected_offer_ids: Set(json!(offers)),
                urgency: Set(input.urgency.as_str().to_owned()),
                status: Set(EscalationStatus::Submitted.as_str().to_owned()),
                decline_reason: Set(None),
                public_summary: Set(None),
                raised_by: Set(c.org.to_string()),
                raised_at: Set(now),
                decided_at: Set(None),
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
                "Escalation",
                &model.id,
                "raise",
                json!({"regionCode": model.region_code, "category": model.category, "urgency": model.urgency}),
            )
            .await?;
            txn.commit().await?;
            Ok(Escalation(model))
        }
        .await
        .gql()
    }

    /// Moves an escalation along its lifecycle (national table); illegal moves are
    /// `BAD_USER_INPUT`. Every move is recorded with who and when.
    async fn transition_escalation(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        input: TransitionInput,
    ) -> Result<Escalation> {
        let c = caller(ctx)?;
        async {
            access::national_write(c)?;
            let note = v::optional_text("note", input.note.as_deref().unwrap_or_default(), MAX_SHORT_TEXT)?;
            let summary =
                input.public_summary.as_deref().map(|s| v::text("publicSummary", s, MAX_LONG_TEXT)).transpose()?;
            let reason =
                input.decline_reason.as_deref().map(|s| v::text("declineReason", s, MAX_LONG_TEXT)).transpose()?;
            let txn = begin(ctx).await?;
            let current = load_escalation(&txn, c, &id).await?;
            check_version("escalation", &current.id, current.version, expected_version)?;
            let from = EscalationStatus::parse(&current.status)
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("stored status {}", current.status)))?;
            let to = input.to;
            if !from.next().contains(&to) {
                let allowed: Vec<&str> = from.next().iter().map(|s| s.as_str()).collect();
                return Err(ApiError::bad_input(format!(
                    "an escalation cannot move from {from} to {to}; allowed: {}",
                    if allowed.is_empty() { "none (final)".to_owned() } else { allowed.join(", ") }
                )));
            }
            if matches!(to, EscalationStatus::MeasureAgreed | EscalationStatus::Declined) && summary.is_none() {
                return Err(ApiError::bad_input(format!("publicSummary is required to move to {to}")));
            }
            if to == EscalationStatus::Declined && reason.is_none() {
                return Err(ApiError::bad_input("declineReason is required to decline"));
            }
            if to != EscalationStatus::Declined && reason.is_some() {
                return Err(ApiError::bad_input("declineReason is only for DECLINED"));
            }
            if to == EscalationStatus::MeasureAgreed
                && measure::Entity::find()
                    .filter(measure::Column::EscalationId.eq(current.id.clone()))
                    .one(&txn)
                    .await?
                    .is_none()
            {
                return Err(ApiError::bad_input("add at least one measure before moving to MEASURE_AGREED"));
            }
            let now = Utc::now();
            let mut active = escalation::ActiveModel {
                status: Set(to.as_str().to_owned()),
                version: Set(expected_version + 1),
                updated_at: Set(now),
                updated_by: Set(c.org.to_string()),
                ..Default::default()
            };
            if let Some(s) = &summary {
                active.public_summary = Set(Some(s.clone()));
            }
            if let Some(r) = &reason {
                active.decline_reason = Set(Some(r.clone()));
            }
            if to.is_decided() && !from.is_decided() {
                active.decided_at = Set(Some(now));
            }
            update_guarded(
                &txn,
                active,
                escalation::Column::Id,
                &current.id,
                escalation::Column::Version,
                expected_version,
            )
            .await?;
            transition::ActiveModel {
                id: Set(new_id()),
                escalation_id: Set(current.id.clone()),
                from_status: Set(from.as_str().to_owned()),
                to_status: Set(to.as_str().to_owned()),
                by_org: Set(c.org.to_string()),
                by_subject: Set(c.subject.clone()),
                at: Set(now),
                note: Set(note),
            }
            .insert(&txn)
            .await?;
            audit(&txn, c, "Escalation", &current.id, "transition", json!({"from": from.as_str(), "to": to.as_str()}))
                .await?;
            let model = escalation::Entity::find_by_id(current.id.clone())
                .one(&txn)
                .await?
                .ok_or_else(|| ApiError::not_found(current.id.clone()))?;
            txn.commit().await?;
            Ok(Escalation(model))
        }
        .await
        .gql()
    }

    /// Adds a measure to an escalation in discussion or with measures agreed (national table).
    /// The owner organisation is checked with the region subgraph.
    async fn add_measure(&self, ctx: &Context<'_>, escalation_id: ID, input: MeasureInput) -> Result<Measure> {
        let c = caller(ctx)?;
        async {
            access::national_write(c)?;
            let title = v::text("title", &input.title, MAX_NAME)?;
            let description = v::text("description", &input.description, MAX_LONG_TEXT)?;
            let owner = v::id("ownerOrganisationId", &input.owner_organisation_id)?;
            Refs { orgs: vec![owner.clone()], ..Refs::default() }.check(refs(ctx)?, c).await?;
            let txn = begin(ctx).await?;
            let e = load_escalation(&txn, c, &escalation_id).await?;
            if !matches!(
                EscalationStatus::parse(&e.status),
                Some(EscalationStatus::InDiscussion | EscalationStatus::MeasureAgreed)
            ) {
                return Err(ApiError::bad_input(format!(
                    "measures are added while IN_DISCUSSION or MEASURE_AGREED; this escalation is {}",
                    e.status
                )));
            }
            let now = Utc::now();
            let model = measure::ActiveModel {
                id: Set(new_id()),
                escalation_id: Set(e.id.clone()),
                title: Set(title),
                description: Set(description),
                owner_org_id: Set(owner),
                due_date: Set(input.due_date),
                status: Set(MeasureStatus::Planned.as_str().to_owned()),
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
                "Measure",
                &model.id,
                "create",
                json!({"escalationId": e.id, "owner": model.owner_org_id, "dueDate": model.due_date}),
            )
            .await?;
            txn.commit().await?;
            Ok(Measure(model))
        }
        .await
        .gql()
    }

    /// Changes a measure (national table).
    async fn update_measure(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        input: UpdateMeasureInput,
    ) -> Result<Measure> {
        let c = caller(ctx)?;
        async {
            access::national_write(c)?;
            let id = v::id("id", &id)?;
            let txn = begin(ctx).await?;
            let current = measure::Entity::find_by_id(id.clone())
                .one(&txn)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("no measure with id {id}")))?;
            check_version("measure", &id, current.version, expected_version)?;
            let mut active = measure::ActiveModel {
                version: Set(expected_version + 1),
                updated_at: Set(Utc::now()),
                updated_by: Set(c.org.to_string()),
                ..Default::default()
            };
            let mut change = json!({});
            if let Some(t) = &input.title {
                let t = v::text("title", t, MAX_NAME)?;
                change["title"] = json!(t);
                active.title = Set(t);
            }
            if let Some(d) = &input.description {
                active.description = Set(v::text("description", d, MAX_LONG_TEXT)?);
                change["description"] = json!("(changed)");
            }
            if let Some(d) = input.due_date {
                change["dueDate"] = json!(d);
                active.due_date = Set(d);
            }
            if let Some(s) = input.status {
                change["status"] = json!(s.as_str());
                active.status = Set(s.as_str().to_owned());
            }
            update_guarded(&txn, active, measure::Column::Id, &id, measure::Column::Version, expected_version).await?;
            audit(&txn, c, "Measure", &id, "update", change).await?;
            let model = measure::Entity::find_by_id(id.clone())
                .one(&txn)
                .await?
                .ok_or_else(|| ApiError::not_found(id.clone()))?;
            txn.commit().await?;
            Ok(Measure(model))
        }
        .await
        .gql()
    }

    /// Lists a care offer as national crucial (supra-regional) offer (national table). The offer
    /// and the regions served are checked with the region subgraph; an offer is listed once.
    async fn create_supra_regional_listing(
        &self,
        ctx: &Context<'_>,
        input: ListingInput,
    ) -> Result<SupraRegionalListing> {
        let c = caller(ctx)?;
        async {
            access::national_write(c)?;
            let offer = v::id("offerId", &input.offer_id)?;
            let target_group = v::text("targetGroup", &input.target_group, MAX_NAME)?;
            let regions = region_list("regionsServed", &input.regions_served)?;
            Refs { regions: regions.clone(), offers: vec![offer.clone()], orgs: vec![] }.check(refs(ctx)?, c).await?;
            let txn = begin(ctx).await?;
            let network = match &input.expertise_network_id {
                Some(n) => Some(network_exists(&txn, n).await?),
                None => None,
            };
            if let Some(l) =
                listing::Entity::find().filter(listing::Column::OfferId.eq(offer.clone())).one(&txn).await?
            {
                return Err(ApiError::conflict(format!("care offer {offer} is already listed ({})", l.id)));
            }
            let now = Utc::now();
            let model = listing::ActiveModel {
                id: Set(new_id()),
                offer_id: Set(offer.clone()),
                target_group: Set(target_group),
                regions_served: Set(json!(regions)),
                hs8: Set(input.hs8),
                expertise_network_id: Set(network),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                created_by: Set(c.org.to_string()),
                updated_by: Set(c.org.to_string()),
            }
            .insert(&txn)
            .await
            .map_err(|e| match e.sql_err() {
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
                    ApiError::conflict(format!("care offer {offer} is already listed"))
                }
                _ => ApiError::from(e),
            })?;
            audit(
                &txn,
                c,
                "SupraRegionalListing",
                &model.id,
                "create",
                json!({"offerId": model.offer_id, "regionsServed": model.regions_served, "hs8": model.hs8}),
            )
            .await?;
            txn.commit().await?;
            Ok(SupraRegionalListing(model))
        }
        .await
        .gql()
    }

    /// Changes a listing (national table).
    async fn update_supra_regional_listing(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        input: UpdateListingInput,
    ) -> Result<SupraRegionalListing> {
        let c = caller(ctx)?;
        async {
            access::national_write(c)?;
            let id = v::id("id", &id)?;
            let regions = input.regions_served.as_deref().map(|r| region_list("regionsServed", r)).transpose()?;
            if let Some(r) = &regions {
                Refs { regions: r.clone(), ..Refs::default() }.check(refs(ctx)?, c).await?;
            }
            let txn = begin(ctx).await?;
            let current = listing::Entity::find_by_id(id.clone())
                .one(&txn)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("no listing with id {id}")))?;
            check_version("listing", &id, current.version, expected_version)?;
            let mut active = listing::ActiveModel {
                version: Set(expected_version + 1),
                updated_at: Set(Utc::now()),
                updated_by: Set(c.org.to_string()),
                ..Default::default()
            };
            let mut change = json!({});
            if let Some(t) = &input.target_group {
                let t = v::text("targetGroup", t, MAX_NAME)?;
                change["targetGroup"] = json!(t);
                active.target_group = Set(t);
            }
            if let Some(r) = regions {
                change["regionsServed"] = json!(r);
                active.regions_served = Set(json!(r));
            }
            if let Some(h) = input.hs8 {
                change["hs8"] = json!(h);
                active.hs8 = Set(h);
            }
            if let Some(n) = &input.expertise_network_id {
                let n = network_exists(&txn, n).await?;
                change["expertiseNetworkId"] = json!(n);
                active.expertise_network_id = Set(Some(n));
            }
            update_guarded(&txn, active, listing::Column::Id, &id, listing::Column::Version, expected_version).await?;
            audit(&txn, c, "SupraRegionalListing", &id, "update", change).await?;
            let model = listing::Entity::find_by_id(id.clone())
                .one(&txn)
                .await?
                .ok_or_else(|| ApiError::not_found(id.clone()))?;
            txn.commit().await?;
            Ok(SupraRegionalListing(model))
        }
        .await
        .gql()
    }

    /// Removes a listing from the supra-regional list (national table). Returns its id.
    async fn remove_supra_regional_listing(&self, ctx: &Context<'_>, id: ID, expected_version: i32) -> Result<ID> {
        let c = caller(ctx)?;
        async {
            access::national_write(c)?;
            let id = v::id("id", &id)?;
            let txn = begin(ctx).await?;
            let current = listing::Entity::find_by_id(id.clone())
                .one(&txn)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("no listing with id {id}")))?;
            check_version("listing", &id, current.version, expected_version)?;
            let res = listing::Entity::delete_many()
                .filter(listing::Column::Id.eq(id.clone()))
                .filter(listing::Column::Version.eq(expected_version))
                .exec(&txn)
                .await?;
            if res.rows_affected == 0 {
                return Err(ApiError::conflict(format!("{id} was changed concurrently")));
            }
            audit(&txn, c, "SupraRegionalListing", &id, "remove", json!({"offerId": current.offer_id})).await?;
            txn.commit().await?;
            Ok(ID(id))
        }
        .await
        .gql()
    }

    /// Creates an expertise network (national table). Members are checked with the region subgraph.
    async fn create_expertise_network(&self, ctx: &Context<'_>, input: NetworkInput) -> Result<ExpertiseNetwork> {
        let c = caller(ctx)?;
        async {
            access::national_write(c)?;
            let name = v::text("name", &input.name, MAX_NAME)?;
            let target_group = v::text("targetGroup", &input.target_group, MAX_NAME)?;
            // An organisation's consultation desk: its phone number and e-mail address are meant
            // to be here, so only BSNs and dates of birth are refused.
            let contact = v::contact_text("consultationContact", &input.consultation_contact, MAX_SHORT_TEXT)?;
            let members = id_list("memberOrganisationIds", &input.member_organisation_ids, 100)?;
            Refs { orgs: members.clone(), ..Refs::default() }.check(refs(ctx)?, c).await?;
            let txn = begin(ctx).await?;
            let now = Utc::now();
            let model = network::ActiveModel {
                id: Set(new_id()),
                name: Set(name),
                target_group: Set(target_group),
                member_org_ids: Set(json!(members)),
                consultation_contact: Set(contact),
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
                "ExpertiseNetwork",
                &model.id,
                "create",
                json!({"name": model.name, "members": model.member_org_ids}),
            )
            .await?;
            txn.commit().await?;
            Ok(ExpertiseNetwork(model))
        }
        .await
        .gql()
    }

    /// Changes an expertise network (national table); the given fields replace the old ones.
    async fn update_expertise_network(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        input: NetworkInput,
    ) -> Result<ExpertiseNetwork> {
        let c = caller(ctx)?;
        async {
            access::national_write(c)?;
            let id = v::id("id", &id)?;
            let name = v::text("name", &input.name, MAX_NAME)?;
            let target_group = v::text("targetGroup", &input.target_group, MAX_NAME)?;
            // An organisation's consultation desk: its phone number and e-mail address are meant
            // to be here, so only BSNs and dates of birth are refused.
            let contact = v::contact_text("consultationContact", &input.consultation_contact, MAX_SHORT_TEXT)?;
            let members = id_list("memberOrganisationIds", &input.member_organisation_ids, 100)?;
            Refs { orgs: members.clone(), ..Refs::default() }.check(refs(ctx)?, c).await?;
            let txn = begin(ctx).await?;
            let current = network::Entity::find_by_id(id.clone())
                .one(&txn)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("no expertise network with id {id}")))?;
            check_version("expertise network", &id, current.version, expected_version)?;
            let active = network::ActiveModel {
                name: Set(name),
                target_group: Set(target_group),
                consultation_contact: Set(contact),
                member_org_ids: Set(json!(members)),
                version: Set(expected_version + 1),
                updated_at: Set(Utc::now()),
                updated_by: Set(c.org.to_string()),
                ..Default::default()
            };
            update_guarded(&txn, active, network::Column::Id, &id, network::Column::Version, expected_version).await?;
            audit(&txn, c, "ExpertiseNetwork", &id, "update", json!({"members": members})).await?;
            let model = network::Entity::find_by_id(id.clone())
                .one(&txn)
                .await?
                .ok_or_else(|| ApiError::not_found(id.clone()))?;
            txn.commit().await?;
            Ok(ExpertiseNetwork(model))
        }
        .await
        .gql()
    }

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
            .map_err(|e| match e.sql_err() {
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
                    ApiError::conflict(format!("KPI {} already exists", input.code))
                }
                _ => ApiError::from(e),
            })?;
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
                .map_err(|e| match e.sql_err() {
                    Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
                        ApiError::conflict("the measurement was recorded concurrently; try again")
                    }
                    _ => ApiError::from(e),
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
