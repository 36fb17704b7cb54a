//! Query root and entity resolvers of the contracting subgraph.

use std::collections::BTreeSet;

use async_graphql::{Context, ID, Object, Result};
use ggzhub_kit::audit::AuditEntry;
use ggzhub_kit::leaf::Leaf;
use ggzhub_kit::page::{Connection, Page, PublicConnection, TotalCount, connection};
use ggzhub_kit::refs::RefChecker;
use ggzhub_kit::{ApiError, ApiResult, Caller, GqlResultExt as _, OrgKind};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;

use super::types::*;
use crate::access;
use crate::domain::ContractStatus;
use crate::entity::{contract, covered, guideline};

/// The contracting subgraph's queries.
pub struct Query;

fn db<'a>(ctx: &'a Context<'_>) -> Result<&'a DatabaseConnection> {
    ctx.data::<DatabaseConnection>()
}

fn api<T>(r: std::result::Result<T, sea_orm::DbErr>) -> Result<T> {
    r.map_err(ApiError::from).gql()
}

fn entity_or_null<T>(ctx: &Context<'_>, found: Result<T>) -> Option<T> {
    match found {
        Ok(entity) => Some(entity),
        Err(e) => {
            ctx.add_error(ctx.set_error_path(e.into_server_error(ctx.item.pos)));
            None
        }
    }
}

/// The caller's own contracts, optionally only those with `counterpart` (the other party) or,
/// when `counterpart` is the caller itself, all of them.
pub(crate) async fn own_contracts(
    db: &DatabaseConnection,
    c: &Caller,
    status: Option<ContractStatus>,
    counterpart: Option<&str>,
) -> ApiResult<Vec<contract::Model>> {
    let mut cond = access::party_condition(c);
    if let Some(s) = status {
        cond = cond.add(contract::Column::Status.eq(s.as_str()));
    }
    if let Some(other) = counterpart.filter(|o| **o != c.org.to_string()) {
        cond = cond.add(
            Condition::any().add(contract::Column::InsurerId.eq(other)).add(contract::Column::ProviderId.eq(other)),
        );
    }
    Ok(contract::Entity::find().filter(cond).order_by_asc(contract::Column::Id).limit(500).all(db).await?)
}

/// Queries of contracting: own contracts, guidelines, and the insurer's uncovered offers.
#[Object(name = "Query")]
impl Query {
    /// One of the caller's own contracts; `null` when it does not exist or is not the caller's
    /// (the two cases are indistinguishable, in answer and in cost: a contract of others is never
    /// loaded).
    async fn contract(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Contract>> {
        let c = caller(ctx)?;
        access::read_contracts(c).gql()?;
        let row = loaders(ctx)?.contracts.load_one(id.0).await.map_err(load_err)?;
        Ok(row.filter(|k| access::is_party(c, k)).map(Contract))
    }

    /// The caller's own contracts (as insurer or provider).
    async fn contracts(
        &self,
        ctx: &Context<'_>,
        status: Option<ContractStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<Contract>> {
        let c = caller(ctx)?;
        access::read_contracts(c).gql()?;
        let page = Page::new(first, after).gql()?;
        let mut cond = access::party_condition(c);
        if let Some(s) = status {
            cond = cond.add(contract::Column::Status.eq(s.as_str()));
        }
        let total = TotalCount::of(db(ctx)?, contract::Entity::find().filter(cond.clone()));
        if let Some(a) = &page.after {
            cond = cond.add(contract::Column::Id.gt(a.clone()));
        }
        let rows = api(contract::Entity::find()
            .filter(cond)
            .order_by_asc(contract::Column::Id)
            .limit(page.limit())
            .all(db(ctx)?)
            .await)?;
        Ok(connection(&page, rows, total, |m| m.id.clone(), Contract))
    }

    /// Contracting guidelines (spelregels), optionally of one year.
    #[graphql(tag = "public")]
    async fn contracting_guidelines(&self, ctx: &Context<'_>, year: Option<i32>) -> Result<Vec<ContractingGuideline>> {
        access::read_guidelines(caller(ctx)?).gql()?;
        let mut q = guideline::Entity::find().order_by_asc(guideline::Column::Year);
        if let Some(y) = year {
            q = q.filter(guideline::Column::Year.eq(y));
        }
        Ok(api(q.all(db(ctx)?).await)?.into_iter().map(ContractingGuideline).collect())
    }

    /// For an insurer: the care offers in the regions it takes part in that none of its own agreed
    /// contracts covers in `year` (default: next year). Closed offers are left out. Other
    /// insurers' contracts are deliberately not consulted: whether they cover an offer in a given
    /// year would reveal their contract periods (competition law); `contractCoverage` gives the
    /// count of other insurers, where at least three stand behind it.
    async fn uncovered_offers(&self, ctx: &Context<'_>, year: Option<i32>) -> Result<Vec<CareOfferRef>> {
        let c = caller(ctx)?;
        c.require_kind(&[OrgKind::Insurer], "see uncovered offers").gql()?;
        c.require_read().gql()?;
        let year = year.unwrap_or_else(|| today(ctx).next_year());
        ggzhub_kit::validate::year(year).gql()?;
        let region = ctx.data::<RefChecker>()?;
        let mut offers: Vec<String> = Vec::new();
        for code in c.regions.iter().take(50) {
            offers.extend(region_offers(region, c, code).await.gql()?);
        }
        let covered = covered_in(db(ctx)?, &c.org.to_string(), &offers, year).await.gql()?;
        Ok(offers.into_iter().filter(|o| !covered.contains(o)).map(CareOfferRef::by_id).collect())
    }

    /// For the region subgraph only (`@inaccessible`; scope `signals:audience`, which only a hub
    /// component's own token carries): the insurers whose AGREED contract valid in `year` covers
    /// one of `offerIds` (at most 100), with the contract's provider, one entry per (offer,
    /// insurer, provider). The region subgraph addresses a continuity-signal event to them when
    /// it writes the event. Which insurer covers which offer is a contract term of that insurer:
    /// no organisation may ask this, whatever its kind or scopes (`FORBIDDEN`).
    #[graphql(inaccessible)]
    async fn signal_contractors(
        &self,
        ctx: &Context<'_>,
        offer_ids: Vec<ID>,
        year: i32,
    ) -> Result<Vec<SignalContractor>> {
        let c = caller(ctx)?;
        access::ask_signal_contractors(c).gql()?;
        ggzhub_kit::validate::year(year).gql()?;
        if offer_ids.len() > MAX_SIGNAL_OFFERS {
            return Err(ApiError::bad_input(format!(
                "at most {MAX_SIGNAL_OFFERS} offer ids at once, not {}",
                offer_ids.len()
            )))
            .gql();
        }
        let offers: BTreeSet<String> = offer_ids.into_iter().map(|id| id.0).collect();
        api(contractors(db(ctx)?, &offers, year).await)
    }

    /// Audit log of contracting, newest first: the caller's own actions with their values; the
    /// national table and the hub operator also read everyone else's actions on guidelines, with
    /// only the names of the fields that changed. Actions on a contract are read only by the
    /// organisation that took them: who drafted, agreed or terminated which contract, and when,
    /// are contract terms.
    #[graphql(tag = "public")]
    async fn contracting_audit_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<PublicConnection<AuditEntry>> {
        let c = caller(ctx)?;
        let filter = access::audit_filter(c).gql()?;
        let page = Page::new(first, after).gql()?;
        let total = ggzhub_kit::audit::total_where(db(ctx)?, filter.clone());
        let rows = api(ggzhub_kit::audit::page_where(db(ctx)?, filter, &page).await)?;
        let reader = c.org.to_string();
        Ok(connection(&page, rows, total, |m| m.id.clone(), |m| AuditEntry::present(m, &reader)))
    }

    /// Federation: a `Contract` by id — only for its two parties; to anyone else it is reported
    /// exactly like a contract that does not exist (and costs the same: it is never loaded).
    #[graphql(entity)]
    async fn find_contract_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Contract>> {
        let found = async {
            let c = caller(ctx)?;
            let hidden = || {
                use async_graphql::ErrorExtensions as _;
                access::no_such_contract(&id).extend()
            };
            if access::read_contracts(c).is_err() {
                return Err(hidden());
            }
            let row = loaders(ctx)?.contracts.load_one(id.0.clone()).await.map_err(load_err)?;
            row.filter(|k| access::is_party(c, k)).map(Contract).ok_or_else(hidden)
        };
        Ok(entity_or_null(ctx, found.await))
    }

    /// Federation: contracting's fields of a `CareOffer`. The gateway sends the offer's
    /// `region { code }` and `provider { id }` along for `contractCoverage` (`@requires`): the
    /// region subgraph's answer in the fetch the gateway planned, so that contracting need not
    /// ask the region subgraph again. Callers are the hub's own components (internal tokens);
    /// partners cannot send `_entities` through the gateway (it is not in the API schema), and
    /// the gateway refuses a plan in which a client's alias would take the place of one of these
    /// fields (`ggzhub_gateway::plan::PlanError::Conflict`). Still, the place given decides
    /// only for an offer no agreed contract covers: for one under contract, contracting's own
    /// record (or the region subgraph's answer) does (`contractCoverage`). A representation
    /// without a usable place is looked up as before.
    #[graphql(entity)]
    async fn find_care_offer_by_id(
        &self,
        ctx: &Context<'_>,
        #[graphql(key)] id: ID,
        region: Option<async_graphql::Any>,
        provider: Option<async_graphql::Any>,
    ) -> Result<Option<Leaf<CareOfferRef>>> {
        let found = async {
            caller(ctx)?.require_read().gql()?;
            let place = required_place(region.as_ref(), provider.as_ref());
            let mut offer = CareOfferRef { id: id.0.clone(), place, coverage: None };
            // Worked out here when asked for, so that the offer answers from its plain fields
            // (issue 18); an error is kept for `contractCoverage`'s resolver to answer.
            if ctx.look_ahead().field("contractCoverage").exists() {
                offer.coverage = Some(offer.coverage(ctx).await);
            }
            Ok(Leaf(offer))
        };
        Ok(entity_or_null(ctx, found.await))
    }

    /// Federation: contracting's fields of a `Region`.
    #[graphql(entity)]
    async fn find_region_by_code(&self, ctx: &Context<'_>, code: String) -> Result<Option<RegionRef>> {
        let found = async {
            caller(ctx)?.require_read().gql()?;
            ggzhub_kit::validate::region_code("code", &code).gql()?;
            Ok(RegionRef { code: code.clone() })
        };
        Ok(entity_or_null(ctx, found.await))
    }

    /// Federation: contracting's fields of an `Organisation`.
    #[graphql(entity)]
    async fn find_organisation_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<OrganisationRef>> {
        let found = async {
            caller(ctx)?.require_read().gql()?;
            Ok(OrganisationRef { id: id.0.clone() })
        };
        Ok(entity_or_null(ctx, found.await))
    }
}

/// The place an entity representation carries (`region: {code}` of a region code's shape,
/// `provider: {id}` a UUID, normalised as the caller's organisation id is), or `None` when either
/// is missing or malformed (then looked up).
fn required_place(
    region: Option<&async_graphql::Any>,
    provider: Option<&async_graphql::Any>,
) -> Option<crate::loader::OfferPlace> {
    let field = |v: Option<&async_graphql::Any>, name: &str| match v.map(|a| &a.0) {
        Some(async_graphql::Value::Object(o)) => match o.get(name) {
            Some(async_graphql::Value::String(s)) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    };
    let region = field(region, "code").filter(|c| ggzhub_kit::validate::region_code("code", c).is_ok())?;
    let provider = field(provider, "id").and_then(|p| ggzhub_kit::validate::id("provider.id", &p).ok())?;
    Some(crate::loader::OfferPlace { region, provider })
}

/// Ids of the non-closed offers located in `code`, asked of the region subgraph page by page.
async fn region_offers(region: &RefChecker, c: &Caller, code: &str) -> ApiResult<Vec<String>> {
    const Q: &str = "query($r: String!, $after: String) { careOffers(region: $r, first: 100, after: $after) { pageInfo { hasNextPage endCursor } nodes { id status } } }";
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    // A region holds at most a few thousand offers: 100 pages is a generous bound.
    for _ in 0..100 {
        let body = region.query(c, Q, json!({ "r": code, "after": after })).await?;
        if body.get("errors").is_some() {
            return Err(ApiError::SubgraphUnavailable("the region subgraph refused the offer list".into()));
        }
        let page = &body["data"]["careOffers"];
        for n in page["nodes"].as_array().into_iter().flatten() {
            if n["status"] != "CLOSED"
                && let Some(id) = n["id"].as_str()
            {
                out.push(id.to_owned());
            }
        }
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    Ok(out)
}

/// The offers among `offers` that an agreed contract of `insurer` covers in `year`.
async fn covered_in(
    db: &DatabaseConnection,
    insurer: &str,
    offers: &[String],
    year: i32,
) -> ApiResult<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for chunk in offers.chunks(500) {
        let links = covered::Entity::find().filter(covered::Column::OfferId.is_in(chunk.to_vec())).all(db).await?;
        let ids: BTreeSet<String> = links.iter().map(|l| l.contract_id.clone()).collect();
        let agreed: BTreeSet<String> = contract::Entity::find()
            .filter(contract::Column::Id.is_in(ids))
            .filter(contract::Column::Status.eq(ContractStatus::Agreed.as_str()))
            .filter(contract::Column::InsurerId.eq(insurer))
            .filter(contract::Column::FirstYear.lte(year))
            .filter(contract::Column::LastYear.gte(year))
            .all(db)
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect();
        out.extend(links.into_iter().filter(|l| agreed.contains(&l.contract_id)).map(|l| l.offer_id));
    }
    Ok(out)
}

/// Offer ids one `signalContractors` call takes at most (the region subgraph's overdue sweep
/// asks for up to 100 signals at once).
pub const MAX_SIGNAL_OFFERS: usize = 100;

/// Every (offer, insurer, provider) of an AGREED contract valid in `year` covering one of
/// `offers`: two statements, whatever the number of offers or contracts.
async fn contractors(
    db: &DatabaseConnection,
    offers: &BTreeSet<String>,
    year: i32,
) -> Result<Vec<SignalContractor>, sea_orm::DbErr> {
    if offers.is_empty() {
        return Ok(Vec::new());
    }
    let links = covered::Entity::find().filter(covered::Column::OfferId.is_in(offers.iter().cloned())).all(db).await?;
    let ids: BTreeSet<String> = links.iter().map(|l| l.contract_id.clone()).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let agreed: std::collections::BTreeMap<String, (String, String)> = contract::Entity::find()
        .filter(contract::Column::Id.is_in(ids))
        .filter(contract::Column::Status.eq(ContractStatus::Agreed.as_str()))
        .filter(contract::Column::FirstYear.lte(year))
        .filter(contract::Column::LastYear.gte(year))
        .all(db)
        .await?
        .into_iter()
        .map(|k| (k.id, (k.insurer_id, k.provider_id)))
        .collect();
    let found: BTreeSet<(String, String, String)> = links
        .into_iter()
        .filter_map(|l| agreed.get(&l.contract_id).map(|(i, p)| (l.offer_id, i.clone(), p.clone())))
        .collect();
    Ok(found
        .into_iter()
        .map(|(offer, insurer, provider)| SignalContractor {
            offer_id: ID(offer),
            insurer_id: ID(insurer),
            provider_id: ID(provider),
        })
        .collect())
}
