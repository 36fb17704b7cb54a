//! Which care offers an insurer contracts, learned from the contracting subgraph.
//!
//! DOMAIN.md: an insurer reads the continuity signals of its regions when it is their
//! coordinating insurer, and those of the offers it contracts. Contracts belong to the
//! contracting subgraph, so the region subgraph asks it — over GraphQL, with an internal token for
//! the contracting audience that carries the caller's own identity and read scopes only
//! (`picture:read contracts:read`, never a write scope, and only when the caller's own token
//! grants `contracts:read`) — for the caller's own AGREED contracts
//! and the offers they cover. Only contracts whose years include this year count. The answer is
//! asked at most once per request and kept in the request's data ([`ContractedOffersCache`]).
//!
//! Fail closed: when contracting is not configured, cannot be reached or answers anything
//! unexpected, the insurer is taken to contract nothing (and a warning is logged). It then sees
//! only what it saw without contracting — never an error for the whole query, never more.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use ggzhub_kit::refs::RefChecker;
use ggzhub_kit::token::scopes;
use ggzhub_kit::{ApiError, ApiResult, Caller, OrgKind};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use serde_json::json;
use tokio::sync::OnceCell;

use crate::entity::care_offer;

/// Pages of 100 contracts asked at most (5,000 contracts: far more than one insurer holds).
const MAX_PAGES: usize = 50;
/// Offers taken into account at most; beyond this the rest is left out (fewer signals, never more).
const MAX_OFFERS: usize = 10_000;

/// The caller's own agreed contracts with their years, provider and covered offers.
const CONTRACTS: &str = "query($after: String) { contracts(status: AGREED, first: 100, after: $after) { \
    pageInfo { hasNextPage endCursor } nodes { status firstYear lastYear provider { id } terms { coveredOfferIds } } } }";

/// Which insurers contract some offers (contracting's `@inaccessible` `signalContractors`), asked
/// with the region subgraph's own token: see [`ContractingClient::signal_contractors`].
const SIGNAL_CONTRACTORS: &str = "query($offers: [ID!]!, $year: Int!) { signalContractors(offerIds: $offers, year: $year) { \
    offerId insurerId providerId } }";

/// The subject of the region subgraph's own tokens (its calls as a hub component).
pub const REGION_SUBJECT: &str = "ggzhub-region";

/// Offers asked about in one `signalContractors` call (contracting's limit).
pub const SIGNAL_CONTRACTORS_BATCH: usize = 100;

/// Asks the contracting subgraph which offers the caller contracts.
#[derive(Clone, Debug)]
pub struct ContractingClient {
    owner: RefChecker,
}

/// Offers covered by a caller's agreed contracts, per provider (the contracts' other party).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContractedOffers {
    /// Provider id → offer ids.
    pub by_provider: BTreeMap<String, BTreeSet<String>>,
}

impl ContractedOffers {
    /// Whether no offer is contracted.
    pub fn is_empty(&self) -> bool {
        self.by_provider.values().all(BTreeSet::is_empty)
    }

    /// Number of (provider, offer) pairs.
    pub fn len(&self) -> usize {
        self.by_provider.values().map(BTreeSet::len).sum()
    }
}

impl ContractingClient {
    /// A client for the contracting subgraph behind `owner` (its `/graphql` URL, the contracting
    /// audience and the signer of internal tokens).
    pub fn new(owner: RefChecker) -> Self {
        Self { owner }
    }

    /// The contracting subgraph's URL.
    pub fn url(&self) -> &str {
        self.owner.url()
    }

    /// The offers covered by `caller`'s own AGREED contracts whose years include `year`. Any
    /// answer that is not a clean list of contracts is an error (the caller then contracts nothing).
    pub async fn contracted_offers(&self, caller: &Caller, year: i32) -> ApiResult<ContractedOffers> {
        let unexpected = |detail: String| {
            tracing::warn!(owner = %self.url(), %detail, "the contracting subgraph gave an unexpected answer");
            ApiError::SubgraphUnavailable("the contracting subgraph gave an unexpected answer".into())
        };
        // Only what the caller itself may read: an insurer integration without contracts:read
        // does not learn its contracts this way either.
        if !caller.has_scope(scopes::CONTRACTS_READ) {
            return Ok(ContractedOffers::default());
        }
        let read = [scopes::PICTURE_READ, scopes::CONTRACTS_READ];
        let mut out = ContractedOffers::default();
        let mut after: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let body = self.owner.query_with_scopes(caller, &read, CONTRACTS, json!({ "after": after })).await?;
            if let Some(errors) = body.get("errors") {
                return Err(unexpected(format!("errors: {errors}")));
            }
            let page = &body["data"]["contracts"];
            let nodes = page["nodes"].as_array().ok_or_else(|| unexpected("no contracts in the answer".into()))?;
            for n in nodes {
                // The query asks for AGREED contracts only; check again rather than trust it.
                let years = (n["firstYear"].as_i64(), n["lastYear"].as_i64());
                let (Some(first), Some(last)) = years else {
                    return Err(unexpected("a contract without years".into()));
                };
                if n["status"] != "AGREED" || !(first..=last).contains(&i64::from(year)) {
                    continue;
                }
                let provider =
                    n["provider"]["id"].as_str().ok_or_else(|| unexpected("a contract without provider".into()))?;
                let offers = n["terms"]["coveredOfferIds"]
                    .as_array()
                    .ok_or_else(|| unexpected("a contract without covered offers".into()))?;
                let entry = out.by_provider.entry(provider.to_owned()).or_default();
                entry.extend(offers.iter().filter_map(|o| o.as_str()).map(str::to_owned));
            }
            if out.len() > MAX_OFFERS {
                tracing::warn!(org = %caller.org, "more contracted offers than taken into account; the rest is left out");
                return Ok(out);
            }
            if page["pageInfo"]["hasNextPage"] != true {
                return Ok(out);
            }
            after = Some(
                page["pageInfo"]["endCursor"]
                    .as_str()
                    .ok_or_else(|| unexpected("a next page without a cursor".into()))?
                    .to_owned(),
            );
        }
        tracing::warn!(org = %caller.org, "more contracts than taken into account; the rest is left out");
        Ok(out)
    }
}

impl ContractingClient {
    /// For continuity-signal events: the insurers whose AGREED contract valid in `year` covers
    /// each offer of `offers` (offer id → its provider id), as the contracting subgraph says when
    /// asked with the region subgraph's own token (service scope `signals:audience`, no
    /// organisation). A contract counts only for its own provider's offer, as in [`verified`].
    /// Every offer asked about is in the answer (with no insurers when none contracts it). Any
    /// answer that is not a clean list is an error: the caller then falls back to every insurer.
    pub async fn signal_contractors(
        &self,
        offers: &BTreeMap<String, String>,
        year: i32,
    ) -> ApiResult<BTreeMap<String, BTreeSet<String>>> {
        let unexpected = |detail: String| {
            tracing::warn!(owner = %self.url(), %detail, "the contracting subgraph gave an unexpected answer");
            ApiError::SubgraphUnavailable("the contracting subgraph gave an unexpected answer".into())
        };
        let mut out: BTreeMap<String, BTreeSet<String>> = offers.keys().map(|o| (o.clone(), BTreeSet::new())).collect();
        let ids: Vec<&String> = offers.keys().collect();
        for chunk in ids.chunks(SIGNAL_CONTRACTORS_BATCH) {
            let variables = json!({ "offers": chunk, "year": year });
            let body = self
                .owner
                .query_as_service(REGION_SUBJECT, scopes::SIGNALS_AUDIENCE, SIGNAL_CONTRACTORS, variables)
                .await?;
            if let Some(errors) = body.get("errors") {
                return Err(unexpected(format!("errors: {errors}")));
            }
            let rows = body["data"]["signalContractors"]
                .as_array()
                .ok_or_else(|| unexpected("no signalContractors in the answer".into()))?;
            for row in rows {
                let field =
                    |name: &str| row[name].as_str().ok_or_else(|| unexpected(format!("an entry without {name}")));
                let (offer, insurer, provider) = (field("offerId")?, field("insurerId")?, field("providerId")?);
                if offers.get(offer).is_some_and(|p| p == provider)
                    && let Some(insurers) = out.get_mut(offer)
                {
                    insurers.insert(insurer.to_owned());
                }
            }
        }
        Ok(out)
    }
}

/// Per request: the ids of the care offers the calling insurer contracts this year, asked of the
/// contracting subgraph at most once.
pub struct ContractedOffersCache {
    client: Option<ContractingClient>,
    offers: OnceCell<Arc<BTreeSet<String>>>,
}

impl ContractedOffersCache {
    /// A cache for one request; `client` is `None` when contracting is not configured.
    pub fn new(client: Option<ContractingClient>) -> Self {
        Self { client, offers: OnceCell::new() }
    }

    /// The contracting client, when contracting is configured.
    pub fn client(&self) -> Option<&ContractingClient> {
        self.client.as_ref()
    }

    /// For an insurer: the ids of the offers in this subgraph that one of its AGREED contracts
    /// valid this year covers, and whose provider is that contract's provider. Empty for every
    /// other caller (nothing is asked), and — fail closed — when contracting is not configured or
    /// could not be asked. Errors only when this subgraph's own database fails.
    pub async fn offer_ids(&self, db: &DatabaseConnection, caller: &Caller) -> ApiResult<Arc<BTreeSet<String>>> {
        if caller.kind != OrgKind::Insurer {
            return Ok(Arc::default());
        }
        let Some(client) = &self.client else { return Ok(Arc::default()) };
        self.offers
            .get_or_try_init(|| async {
                // The contract year is the Dutch calendar year (contracting's "this year" too).
                let year = ggzhub_kit::calendar::year_in_netherlands(chrono::Utc::now());
                let contracted = match client.contracted_offers(caller, year).await {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::warn!(
                            org = %caller.org, owner = %client.url(), error = %e,
                            "could not learn the insurer's contracted offers; showing only the signals it sees without them"
                        );
                        return Ok(Arc::default());
                    }
                };
                Ok(Arc::new(verified(db, &contracted).await?))
            })
            .await
            .cloned()
    }
}

/// The offers of `contracted` that exist here with the provider their contract names: a contract
/// never opens another provider's offer to an insurer.
async fn verified(db: &DatabaseConnection, contracted: &ContractedOffers) -> ApiResult<BTreeSet<String>> {
    let all: Vec<String> =
        contracted.by_provider.values().flatten().cloned().collect::<BTreeSet<_>>().into_iter().collect();
    let mut out = BTreeSet::new();
    for chunk in all.chunks(1000) {
        let rows: Vec<(String, String)> = care_offer::Entity::find()
            .select_only()
            .column(care_offer::Column::Id)
            .column(care_offer::Column::ProviderId)
            .filter(care_offer::Column::Id.is_in(chunk.to_vec()))
            .into_tuple()
            .all(db)
            .await?;
        out.extend(
            rows.into_iter()
                .filter(|(offer, provider)| contracted.by_provider.get(provider).is_some_and(|o| o.contains(offer)))
                .map(|(offer, _)| offer),
        );
    }
    Ok(out)
}
