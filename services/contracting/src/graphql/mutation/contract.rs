//! Contracts between an insurer and a provider: drafting, proposing, agreeing, returning and
//! terminating them, and amending agreed terms. A contract the caller is not a party to is
//! reported exactly like one that does not exist.

use std::collections::BTreeSet;

use async_graphql::{Context, ID, Object, Result};
use chrono::{Datelike as _, Utc};
use ggzhub_kit::validate::{self as v, MAX_LONG_TEXT, MAX_SHORT_TEXT};
use ggzhub_kit::write::{self, audit, begin, new_id};
use ggzhub_kit::{ApiError, ApiResult, Caller, GqlResultExt as _, OrgKind};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter,
};
use serde_json::{Value, json};

use crate::access;
use crate::domain::*;
use crate::entity::{contract, covered, history};
use crate::graphql::Owners;
use crate::graphql::types::*;

/// The owners' reference checkers from the schema's data.
fn owners<'a>(ctx: &'a Context<'_>) -> ApiResult<&'a Owners> {
    write::data::<Owners>(ctx)
}

/// Loads a contract the caller is a party to, or `NOT_FOUND` exactly as for a missing one. The
/// party condition is in the statement, so a contract of others is never loaded and costs what a
/// random id costs.
async fn load_party<C: ConnectionTrait>(conn: &C, c: &Caller, id: &ID) -> ApiResult<contract::Model> {
    let shown = id.to_string();
    let Ok(id) = v::id("id", id) else { return Err(access::no_such_contract(&shown)) };
    contract::Entity::find_by_id(id.clone())
        .filter(access::party_condition(c))
        .one(conn)
        .await?
        .ok_or_else(|| access::no_such_contract(&id))
}

/// The stored status; one we cannot read is our fault (`INTERNAL`).
fn status(k: &contract::Model) -> ApiResult<ContractStatus> {
    ContractStatus::parse(&k.status).ok_or_else(|| ApiError::internal(anyhow::anyhow!("stored status {}", k.status)))
}

/// The status if it is one of `allowed`; `BAD_USER_INPUT` naming them otherwise.
fn require_status(k: &contract::Model, allowed: &[ContractStatus], action: &str) -> ApiResult<ContractStatus> {
    let s = status(k)?;
    if allowed.contains(&s) {
        Ok(s)
    } else {
        let names: Vec<&str> = allowed.iter().map(|a| a.as_str()).collect();
        Err(ApiError::bad_input(format!("a {s} contract cannot be {action}; it must be {}", names.join(" or "))))
    }
}

/// `FORBIDDEN` unless the caller is of `kind`; `NOT_FOUND` unless it is a party to `k`.
fn require_role(c: &Caller, k: &contract::Model, kind: OrgKind, action: &str) -> ApiResult<()> {
    if c.kind == kind {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!("only the contract's {} may {action}", kind.as_str().to_lowercase())))
    }
    .and_then(|()| if access::is_party(c, k) { Ok(()) } else { Err(access::no_such_contract(&k.id)) })
}

/// Validates terms and checks their references with the owning subgraphs.
async fn checked_terms(ctx: &Context<'_>, c: &Caller, provider: &str, t: ContractTerms) -> ApiResult<ContractTerms> {
    if !(2020..=2100).contains(&t.first_year) || t.last_year < t.first_year || t.last_year - t.first_year > 10 {
        return Err(ApiError::bad_input(format!(
            "years {}–{} are not a contract period: 2020–2100, last year not before the first, at most 11 years",
            t.first_year, t.last_year
        )));
    }
    let years = t.first_year..=t.last_year;
    let offers: Vec<String> = {
        let mut seen = BTreeSet::new();
        t.covered_offer_ids
            .iter()
            .map(|o| v::id("coveredOfferIds", o))
            .collect::<ApiResult<Vec<_>>>()?
            .into_iter()
            .filter(|o| seen.insert(o.clone()))
            .collect()
    };
    if offers.is_empty() || offers.len() > 100 {
        return Err(ApiError::bad_input("coveredOfferIds must list 1 to 100 care offers"));
    }
    if t.kpis.len() > 20 {
        return Err(ApiError::bad_input("at most 20 KPIs per contract"));
    }
    let mut codes = BTreeSet::new();
    for k in &t.kpis {
        if !codes.insert(k.kpi_code.clone()) {
            return Err(ApiError::bad_input(format!("KPI {} is listed twice", k.kpi_code)));
        }
        let mut seen = BTreeSet::new();
        for y in &k.targets {
            if !years.contains(&y.year) || !y.value.is_finite() || !seen.insert(y.year) {
                return Err(ApiError::bad_input(format!(
                    "KPI {}: targets need distinct years within {}–{} and finite values",
                    k.kpi_code, t.first_year, t.last_year
                )));
            }
        }
    }
    if let Some(a) = t.guarantee.amount_eur
        && !(a.is_finite() && (0.0..=1e12).contains(&a))
    {
        return Err(ApiError::bad_input(format!("guarantee.amountEur must be between 0 and 1e12, got {a}")));
    }
    if t.evaluation_moments.len() > 20 || t.evaluation_moments.iter().any(|d| !years.contains(&d.year())) {
        return Err(ApiError::bad_input("evaluationMoments: at most 20 dates, each within the contract years"));
    }
    let terms = ContractTerms {
        first_year: t.first_year,
        last_year: t.last_year,
        covered_offer_ids: offers.clone(),
        volume_agreement: v::optional_text("volumeAgreement", &t.volume_agreement, MAX_SHORT_TEXT * 4)?,
        guarantee: Guarantee {
            amount_eur: t.guarantee.amount_eur,
            description: v::optional_text("guarantee.description", &t.guarantee.description, MAX_SHORT_TEXT * 4)?,
        },
        evaluation_moments: t.evaluation_moments,
        notes: v::optional_text("notes", &t.notes, MAX_LONG_TEXT)?,
        kpis: t.kpis,
    };
    // Offers must exist and be the provider's own; KPIs must be national KPIs.
    let o = owners(ctx)?;
    let reps = offers.iter().map(|id| json!({ "__typename": "CareOffer", "id": id })).collect();
    let found = o.region.resolve(c, reps, "... on CareOffer { id provider { id } region { code } category }").await?;
    let mut places = Vec::with_capacity(offers.len());
    for (id, f) in offers.iter().zip(found) {
        match f {
            None => return Err(ApiError::bad_input(format!("unknown care offer {id}"))),
            Some(f) if f["provider"]["id"] != provider => {
                return Err(ApiError::bad_input(format!("care offer {id} is not an offer of provider {provider}")));
            }
            Some(f) => match (f["region"]["code"].as_str(), f["category"].as_str()) {
                (Some(region), Some(category)) => places.push(crate::picture::OfferPlace {
                    offer: id.clone(),
                    region: region.to_owned(),
                    category: category.to_owned(),
                }),
                _ => {
                    return Err(ApiError::internal(anyhow::anyhow!(
                        "the region subgraph gave no place for offer {id}"
                    )));
                }
            },
        }
    }
    // Region and category never change for an offer: recorded once, before any contract that
    // covers the offer is written (a refused change leaves only these facts behind).
    let db = write::data::<DatabaseConnection>(ctx)?;
    crate::picture::record_places(db, &places).await?;
    let kpi_codes: Vec<String> = codes.into_iter().collect();
    let reps = kpi_codes.iter().map(|code| json!({ "__typename": "NationalKpi", "code": code })).collect();
    let found = o.national_table.resolve(c, reps, "... on NationalKpi { code }").await?;
    if let Some((code, _)) = kpi_codes.iter().zip(found).find(|(_, f)| f.is_none()) {
        return Err(ApiError::bad_input(format!("unknown national KPI {code}")));
    }
    Ok(terms)
}

/// Replaces the offers a contract covers (for coverage aggregates).
async fn set_covered(txn: &DatabaseTransaction, contract_id: &str, offers: &[String]) -> ApiResult<()> {
    covered::Entity::delete_many().filter(covered::Column::ContractId.eq(contract_id)).exec(txn).await?;
    for offer in offers {
        covered::ActiveModel {
            id: Set(new_id()),
            contract_id: Set(contract_id.to_owned()),
            offer_id: Set(offer.clone()),
        }
        .insert(txn)
        .await?;
    }
    Ok(())
}

/// Writes `active` if the stored version is still `expected`; returns the new row.
async fn save(
    txn: &DatabaseTransaction,
    mut active: contract::ActiveModel,
    c: &Caller,
    k: &contract::Model,
    expected: i32,
) -> ApiResult<contract::Model> {
    active.version = Set(expected + 1);
    active.updated_at = Set(Utc::now());
    active.updated_by = Set(c.org.to_string());
    let res = contract::Entity::update_many()
        .set(active)
        .filter(contract::Column::Id.eq(k.id.clone()))
        .filter(contract::Column::Version.eq(expected))
        .exec(txn)
        .await?;
    if res.rows_affected == 0 {
        return Err(ApiError::conflict(format!("contract {} was changed concurrently: reload it", k.id)));
    }
    contract::Entity::find_by_id(k.id.clone()).one(txn).await?.ok_or_else(|| access::no_such_contract(&k.id))
}

/// Terms as stored.
fn terms_json(t: &ContractTerms) -> ApiResult<Value> {
    serde_json::to_value(t).map_err(ApiError::internal)
}

/// A reason given for a move (no personal data, ≤ 8000 characters).
fn reason(field: &str, r: &str) -> ApiResult<String> {
    v::text(field, r, MAX_LONG_TEXT)
}

/// Contract mutations: the contract lifecycle and amendments of agreed terms.
#[derive(Default)]
pub struct ContractMutation;

#[Object]
impl ContractMutation {
    /// Drafts a contract with a provider (insurer).
    async fn create_contract(&self, ctx: &Context<'_>, provider_id: ID, terms: ContractTerms) -> Result<Contract> {
        let c = caller(ctx)?;
        async {
            access::write_as_insurer(c)?;
            let provider = v::id("providerId", &provider_id)?;
            let o = owners(ctx)?;
            let found = o
                .region
                .resolve(
                    c,
                    vec![json!({ "__typename": "Organisation", "id": provider })],
                    "... on Organisation { id kind }",
                )
                .await?;
            if !matches!(found.first(), Some(Some(f)) if f["kind"] == "PROVIDER") {
                return Err(ApiError::bad_input(format!("providerId {provider} is not a provider known to the hub")));
            }
            let terms = checked_terms(ctx, c, &provider, terms).await?;
            let txn = begin(ctx).await?;
            let now = Utc::now();
            let model = contract::ActiveModel {
                id: Set(new_id()),
                insurer_id: Set(c.org.to_string()),
                provider_id: Set(provider),
                status: Set(ContractStatus::Draft.as_str().to_owned()),
                first_year: Set(terms.first_year),
                last_year: Set(terms.last_year),
                terms: Set(terms_json(&terms)?),
                terms_version: Set(1),
                pending_terms: Set(None),
                return_reason: Set(None),
                amendment_rejection: Set(None),
                termination_reason: Set(None),
                agreed_at: Set(None),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                created_by: Set(c.org.to_string()),
                updated_by: Set(c.org.to_string()),
            }
            .insert(&txn)
            .await?;
            set_covered(&txn, &model.id, &terms.covered_offer_ids).await?;
            audit(&txn, c, "Contract", &model.id, "create", json!({ "status": "DRAFT" })).await?;
            txn.commit().await?;
            Ok(Contract(model))
        }
        .await
        .gql()
    }

    /// Changes the terms of a draft (insurer).
    async fn update_contract_draft(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        terms: ContractTerms,
    ) -> Result<Contract> {
        let c = caller(ctx)?;
        async {
            access::write_as_insurer(c)?;
            let db = write::data::<DatabaseConnection>(ctx)?;
            let k = load_party(db, c, &id).await?;
            require_role(c, &k, OrgKind::Insurer, "change a draft")?;
            write::check_version("contract", &k.id, k.version, expected_version)?;
            require_status(&k, &[ContractStatus::Draft], "edited as a draft")?;
            let terms = checked_terms(ctx, c, &k.provider_id, terms).await?;
            let txn = begin(ctx).await?;
            let k = load_party(&txn, c, &id).await?;
            write::check_version("contract", &k.id, k.version, expected_version)?;
            require_status(&k, &[ContractStatus::Draft], "edited as a draft")?;
            let active = contract::ActiveModel {
                first_year: Set(terms.first_year),
                last_year: Set(terms.last_year),
                terms: Set(terms_json(&terms)?),
                ..Default::default()
            };
            let model = save(&txn, active, c, &k, expected_version).await?;
            set_covered(&txn, &k.id, &terms.covered_offer_ids).await?;
            audit(&txn, c, "Contract", &k.id, "update_draft", json!({})).await?;
            txn.commit().await?;
            Ok(Contract(model))
        }
        .await
        .gql()
    }

    /// Proposes a draft to the provider (insurer).
    async fn propose_contract(&self, ctx: &Context<'_>, id: ID, expected_version: i32) -> Result<Contract> {
        self.transition(ctx, id, expected_version, Move::Propose).await
    }

    /// Agrees to a proposed contract (provider).
    async fn agree_contract(&self, ctx: &Context<'_>, id: ID, expected_version: i32) -> Result<Contract> {
        self.transition(ctx, id, expected_version, Move::Agree).await
    }

    /// Sends a proposed contract back to the insurer with a reason (provider); it becomes a draft.
    async fn return_contract(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        reason: String,
    ) -> Result<Contract> {
        self.transition(ctx, id, expected_version, Move::Return(reason)).await
    }

    /// Terminates an agreed contract with a reason (either party).
    async fn terminate_contract(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        reason: String,
    ) -> Result<Contract> {
        self.transition(ctx, id, expected_version, Move::Terminate(reason)).await
    }

    /// Proposes new terms for an agreed contract (insurer); the provider agrees or rejects them.
    async fn propose_amendment(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        terms: ContractTerms,
    ) -> Result<Contract> {
        let c = caller(ctx)?;
        async {
            access::write_as_insurer(c)?;
            let db = write::data::<DatabaseConnection>(ctx)?;
            let k = load_party(db, c, &id).await?;
            require_role(c, &k, OrgKind::Insurer, "propose amendments")?;
            let terms = checked_terms(ctx, c, &k.provider_id, terms).await?;
            let txn = begin(ctx).await?;
            let k = load_party(&txn, c, &id).await?;
            write::check_version("contract", &k.id, k.version, expected_version)?;
            require_status(&k, &[ContractStatus::Agreed], "amended")?;
            if k.pending_terms.is_some() {
                return Err(ApiError::bad_input(
                    "an amendment is already pending; the provider agrees or rejects it first",
                ));
            }
            let active = contract::ActiveModel {
                pending_terms: Set(Some(terms_json(&terms)?)),
                amendment_rejection: Set(None),
                ..Default::default()
            };
            let model = save(&txn, active, c, &k, expected_version).await?;
            audit(&txn, c, "Contract", &k.id, "propose_amendment", json!({})).await?;
            txn.commit().await?;
            Ok(Contract(model))
        }
        .await
        .gql()
    }

    /// Agrees to the pending amendment (provider): its terms become current, the old ones are
    /// kept in the history.
    async fn agree_amendment(&self, ctx: &Context<'_>, id: ID, expected_version: i32) -> Result<Contract> {
        let c = caller(ctx)?;
        async {
            access::write_as_party(c)?;
            let txn = begin(ctx).await?;
            let k = load_party(&txn, c, &id).await?;
            require_role(c, &k, OrgKind::Provider, "agree to amendments")?;
            write::check_version("contract", &k.id, k.version, expected_version)?;
            require_status(&k, &[ContractStatus::Agreed], "amended")?;
            let Some(pending) = k.pending_terms.clone() else {
                return Err(ApiError::bad_input("no amendment is pending"));
            };
            let terms: ContractTerms = serde_json::from_value(pending.clone()).map_err(ApiError::internal)?;
            let now = Utc::now();
            history::ActiveModel {
                id: Set(new_id()),
                contract_id: Set(k.id.clone()),
                terms_version: Set(k.terms_version),
                terms: Set(k.terms.clone()),
                replaced_at: Set(now),
                replaced_by: Set(c.org.to_string()),
            }
            .insert(&txn)
            .await?;
            let active = contract::ActiveModel {
                terms: Set(pending),
                pending_terms: Set(None),
                first_year: Set(terms.first_year),
                last_year: Set(terms.last_year),
                terms_version: Set(k.terms_version + 1),
                ..Default::default()
            };
            let model = save(&txn, active, c, &k, expected_version).await?;
            set_covered(&txn, &k.id, &terms.covered_offer_ids).await?;
            audit(&txn, c, "Contract", &k.id, "agree_amendment", json!({ "termsVersion": k.terms_version + 1 }))
                .await?;
            txn.commit().await?;
            Ok(Contract(model))
        }
        .await
        .gql()
    }

    /// Rejects the pending amendment with a reason (provider); the current terms stay.
    async fn reject_amendment(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        reason: String,
    ) -> Result<Contract> {
        let c = caller(ctx)?;
        async {
            access::write_as_party(c)?;
            let why = self::reason("reason", &reason)?;
            let txn = begin(ctx).await?;
            let k = load_party(&txn, c, &id).await?;
            require_role(c, &k, OrgKind::Provider, "reject amendments")?;
            write::check_version("contract", &k.id, k.version, expected_version)?;
            if k.pending_terms.is_none() {
                return Err(ApiError::bad_input("no amendment is pending"));
            }
            let active = contract::ActiveModel {
                pending_terms: Set(None),
                amendment_rejection: Set(Some(why)),
                ..Default::default()
            };
            let model = save(&txn, active, c, &k, expected_version).await?;
            audit(&txn, c, "Contract", &k.id, "reject_amendment", json!({})).await?;
            txn.commit().await?;
            Ok(Contract(model))
        }
        .await
        .gql()
    }
}

/// A move along the contract lifecycle.
enum Move {
    Propose,
    Agree,
    Return(String),
    Terminate(String),
}

impl ContractMutation {
    /// Makes the move `mv` on contract `id`: checks the role, the version and the status.
    async fn transition(&self, ctx: &Context<'_>, id: ID, expected_version: i32, mv: Move) -> Result<Contract> {
        let c = caller(ctx)?;
        async {
            access::write_as_party(c)?;
            let txn = begin(ctx).await?;
            let k = load_party(&txn, c, &id).await?;
            match &mv {
                Move::Propose => require_role(c, &k, OrgKind::Insurer, "propose it")?,
                Move::Agree => require_role(c, &k, OrgKind::Provider, "agree to it")?,
                Move::Return(_) => require_role(c, &k, OrgKind::Provider, "send it back")?,
                Move::Terminate(_) => {}
            }
            let why = match &mv {
                Move::Return(r) | Move::Terminate(r) => Some(reason("reason", r)?),
                Move::Propose | Move::Agree => None,
            };
            // A stale version is a CONFLICT whatever state the contract moved on to: the caller
            // acted on an outdated view (and of concurrent writers, the losers learn exactly that).
            write::check_version("contract", &k.id, k.version, expected_version)?;
            let (active, action) = match &mv {
                Move::Propose => {
                    require_status(&k, &[ContractStatus::Draft], "proposed")?;
                    (
                        contract::ActiveModel {
                            status: Set(ContractStatus::Proposed.as_str().to_owned()),
                            ..Default::default()
                        },
                        "propose",
                    )
                }
                Move::Agree => {
                    require_status(&k, &[ContractStatus::Proposed], "agreed")?;
                    let active = contract::ActiveModel {
                        status: Set(ContractStatus::Agreed.as_str().to_owned()),
                        agreed_at: Set(Some(Utc::now())),
                        return_reason: Set(None),
                        ..Default::default()
                    };
                    (active, "agree")
                }
                Move::Return(_) => {
                    require_status(&k, &[ContractStatus::Proposed], "sent back")?;
                    let active = contract::ActiveModel {
                        status: Set(ContractStatus::Draft.as_str().to_owned()),
                        return_reason: Set(why),
                        ..Default::default()
                    };
                    (active, "return")
                }
                Move::Terminate(_) => {
                    require_status(&k, &[ContractStatus::Agreed], "terminated")?;
                    let active = contract::ActiveModel {
                        status: Set(ContractStatus::Terminated.as_str().to_owned()),
                        termination_reason: Set(why),
                        pending_terms: Set(None),
                        ..Default::default()
                    };
                    (active, "terminate")
                }
            };
            let model = save(&txn, active, c, &k, expected_version).await?;
            audit(&txn, c, "Contract", &k.id, action, json!({ "from": k.status, "to": model.status })).await?;
            txn.commit().await?;
            Ok(Contract(model))
        }
        .await
        .gql()
    }
}
