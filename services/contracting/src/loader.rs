//! Per-request DataLoaders of the contracting subgraph.

use ggzhub_kit::batch::Batches;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use ggzhub_kit::Caller;
use ggzhub_kit::refs::RefChecker;
use sea_orm::sea_query::{Expr, ExprTrait as _, Query, QueryStatementBuilder as _};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, FromQueryResult as _, QueryFilter, QueryOrder};
use serde_json::json;

use crate::domain::ContractStatus;
use crate::entity::{contract, covered, history, offer_place};

/// Errors from loaders (shared between the fields that waited on one batch).
pub type LoadError = Arc<ggzhub_kit::ApiError>;

fn db_err(e: DbErr) -> LoadError {
    Arc::new(ggzhub_kit::ApiError::from(e))
}

/// All loaders of one request.
pub struct Loaders {
    /// The caller's own contracts by id (others' are never loaded).
    pub contracts: DataLoader<Contracts>,
    /// Superseded terms per contract.
    pub history: DataLoader<History>,
    /// Coverage per (offer id, year).
    pub coverage: DataLoader<Coverage>,
    /// Region and provider of an offer, asked of the region subgraph.
    pub offer_places: DataLoader<OfferPlaces>,
    /// Per region, the offers with an agreed contract next year (banded).
    pub contracted_next_year: DataLoader<ContractedNextYear>,
}

impl Loaders {
    /// Fresh loaders for one request of `caller`.
    pub fn new(
        db: &DatabaseConnection,
        batches: &Batches,
        region: RefChecker,
        caller: Caller,
        today: crate::clock::Today,
    ) -> Self {
        Self {
            contracted_next_year: batches.loader(ContractedNextYear {
                db: db.clone(),
                caller: caller.clone(),
                year: today.next_year(),
            }),
            contracts: batches.loader(Contracts { db: db.clone(), caller: caller.clone() }),
            history: batches.loader(History { db: db.clone() }),
            coverage: batches.loader(Coverage { db: db.clone() }),
            offer_places: batches.loader(OfferPlaces { region, caller }),
        }
    }
}

/// The caller's own contracts by id: the party condition is part of the statement, so a
/// contract of others costs exactly what a random id costs (see [`crate::access::party_condition`]).
pub struct Contracts {
    db: DatabaseConnection,
    caller: Caller,
}

impl Loader<String> for Contracts {
    type Value = contract::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let rows = contract::Entity::find()
            .filter(contract::Column::Id.is_in(keys.iter().cloned()))
            .filter(crate::access::party_condition(&self.caller))
            .all(&self.db)
            .await
            .map_err(db_err)?;
        Ok(rows.into_iter().map(|m| (m.id.clone(), m)).collect())
    }
}

/// Superseded terms per contract, oldest first.
pub struct History {
    db: DatabaseConnection,
}

impl Loader<String> for History {
    type Value = Vec<history::Model>;
    type Error = LoadError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let rows = history::Entity::find()
            .filter(history::Column::ContractId.is_in(keys.iter().cloned()))
            .order_by_asc(history::Column::TermsVersion)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        let mut out: HashMap<String, Vec<history::Model>> = keys.iter().map(|k| (k.clone(), vec![])).collect();
        for r in rows {
            out.entry(r.contract_id.clone()).or_default().push(r);
        }
        Ok(out)
    }
}

/// An agreed contract covering an offer in the year asked: its parties and last year (never
/// shown themselves; [`crate::access::shown_coverage`] decides what a caller sees of them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoveringContract {
    /// The insurer.
    pub insurer: String,
    /// The provider.
    pub provider: String,
    /// Last contract year.
    pub last_year: i32,
}

/// The agreed contracts covering one offer in one year.
#[derive(Debug, Clone, Default)]
pub struct OfferCoverage {
    /// The contracts, in no particular order.
    pub contracts: Vec<CoveringContract>,
    /// Where the offer is and whose it is, as contracting recorded it when a contract came to
    /// cover it (`offer_places`, checked with the region subgraph then; an offer's region and
    /// provider never change): `None` for an offer no agreed contract covers in any year, and
    /// for a covered offer whose place was never recorded (contracts older than `offer_places`,
    /// seeds without places).
    pub recorded: Option<OfferPlace>,
    /// Whether an agreed contract covers the offer in any year (whose figures a place given by
    /// someone else must then never decide).
    pub under_contract: bool,
}

/// `SELECT contract_id FROM contract_offers AS linked WHERE offer_id IN (offers)`.
fn linked_contracts(offers: &BTreeSet<&str>) -> sea_orm::sea_query::SelectStatement {
    let linked = sea_orm::sea_query::Alias::new("linked");
    Query::select()
        .column((linked.clone(), covered::Column::ContractId))
        .from_as(covered::Entity, linked.clone())
        .and_where(Expr::col((linked, covered::Column::OfferId)).is_in(offers.iter().copied()))
        .to_owned()
}

/// Coverage of many offers in one statement: the covered-offer links joined with their agreed
/// contracts and the place recorded for each offer.
pub struct Coverage {
    db: DatabaseConnection,
}

impl Loader<(String, i32)> for Coverage {
    /// Shared: each of a page's offers takes its own from the batch's answers (a copy per offer
    /// of the contracts and place cost more than reading them).
    type Value = Arc<OfferCoverage>;
    type Error = LoadError;

    async fn load(&self, keys: &[(String, i32)]) -> Result<HashMap<(String, i32), Self::Value>, Self::Error> {
        #[derive(Debug, sea_orm::FromQueryResult)]
        struct Link {
            offer_id: String,
            insurer_id: String,
            provider_id: String,
            first_year: i32,
            last_year: i32,
            region_code: Option<String>,
        }
        impl Link {
            /// A link from its row. On PostgreSQL by position (the columns selected below, in
            /// this order) and without sqlx's per-value type check: a regional overview's 180
            /// offers have about 480 links, and reading them by name through sea-orm cost about
            /// 5,000 instructions a row, 6 % of a hub request (issue 18). Elsewhere (SQLite)
            /// through sea-orm.
            fn decode(raw: &sea_orm::QueryResult) -> Result<Self, DbErr> {
                let Some(row) = raw.try_as_pg_row() else { return Self::from_query_result(raw, "") };
                use sea_orm::sqlx::Row as _;
                let decode = |e: sea_orm::sqlx::Error| DbErr::Custom(format!("coverage row: {e}"));
                Ok(Self {
                    offer_id: row.try_get_unchecked(0).map_err(decode)?,
                    insurer_id: row.try_get_unchecked(1).map_err(decode)?,
                    provider_id: row.try_get_unchecked(2).map_err(decode)?,
                    first_year: row.try_get_unchecked(3).map_err(decode)?,
                    last_year: row.try_get_unchecked(4).map_err(decode)?,
                    region_code: row.try_get_unchecked(5).map_err(decode)?,
                })
            }
        }
        let offers: BTreeSet<&str> = keys.iter().map(|(o, _)| o.as_str()).collect();
        let contract = |c: contract::Column| Expr::col((contract::Entity, c));
        // The recorded place of each link's offer, by its primary key (a subquery: PostgreSQL
        // planned a LEFT JOIN as a hash join over every recorded place, 3 ms more per request in
        // the hub benchmark; this costs about 0.5 ms).
        let mut recorded_region = Query::select();
        recorded_region
            .column((offer_place::Entity, offer_place::Column::RegionCode))
            .from(offer_place::Entity)
            .and_where(
                Expr::col((offer_place::Entity, offer_place::Column::OfferId))
                    .equals((covered::Entity, covered::Column::OfferId)),
            );
        let mut q = Query::select();
        q.expr_as(Expr::col((covered::Entity, covered::Column::OfferId)), "offer_id")
            .expr_as(contract(contract::Column::InsurerId), "insurer_id")
            .expr_as(contract(contract::Column::ProviderId), "provider_id")
            .expr_as(contract(contract::Column::FirstYear), "first_year")
            .expr_as(contract(contract::Column::LastYear), "last_year")
            .expr_as(Expr::SubQuery(None, Box::new(recorded_region.into_sub_query_statement())), "region_code")
            .from(covered::Entity)
            .inner_join(
                contract::Entity,
                Expr::col((contract::Entity, contract::Column::Id))
                    .equals((covered::Entity, covered::Column::ContractId)),
            )
            .and_where(Expr::col((covered::Entity, covered::Column::OfferId)).is_in(offers.iter().copied()))
            // The same condition once more, on the contracts: without it PostgreSQL hashed every
            // agreed contract of the hub (a sequential scan of the table, terms and all) to join a
            // few hundred links, 5.0 ms in EXPLAIN ANALYZE for a page of 180 offers; with it, it
            // looks the linked contracts up by primary key (2.2 ms). The answer is the same.
            .and_where(contract(contract::Column::Id).in_subquery(linked_contracts(&offers)))
            .and_where(contract(contract::Column::Status).eq(ContractStatus::Agreed.as_str()));
        let statement = self.db.get_database_backend().build(&q);
        let rows = sea_orm::ConnectionTrait::query_all_raw(&self.db, statement).await.map_err(db_err)?;
        let links = rows.iter().map(Link::decode).collect::<Result<Vec<_>, _>>().map_err(db_err)?;
        let mut by_offer: HashMap<&str, Vec<&Link>> = HashMap::new();
        for l in &links {
            by_offer.entry(l.offer_id.as_str()).or_default().push(l);
        }
        let mut out: HashMap<(String, i32), OfferCoverage> =
            keys.iter().map(|k| (k.clone(), Default::default())).collect();
        for ((offer, year), entry) in &mut out {
            // A covered offer's provider is every covering contract's (terms accept only the
            // provider's own offers).
            entry.under_contract = by_offer.contains_key(offer.as_str());
            entry.recorded = by_offer.get(offer.as_str()).and_then(|links| {
                let link = links.first()?;
                Some(OfferPlace { region: link.region_code.clone()?, provider: link.provider_id.clone() })
            });
            let running = by_offer
                .get(offer.as_str())
                .into_iter()
                .flatten()
                .filter(|l| l.first_year <= *year && *year <= l.last_year);
            entry.contracts.extend(running.map(|l| CoveringContract {
                insurer: l.insurer_id.clone(),
                provider: l.provider_id.clone(),
                last_year: l.last_year,
            }));
        }
        Ok(out.into_iter().map(|(key, coverage)| (key, Arc::new(coverage))).collect())
    }
}

/// Where a care offer is and whose it is (public fields of the region subgraph).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferPlace {
    /// Region code.
    pub region: String,
    /// Providing organisation.
    pub provider: String,
}

/// The region and provider of each care offer, asked of the region subgraph in one round trip
/// (the caller's identity goes along, with the read scope only).
pub struct OfferPlaces {
    region: RefChecker,
    caller: Caller,
}

impl Loader<String> for OfferPlaces {
    type Value = OfferPlace;
    type Error = LoadError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let reps = keys.iter().map(|id| json!({ "__typename": "CareOffer", "id": id })).collect();
        let found = self
            .region
            .resolve(&self.caller, reps, "... on CareOffer { id region { code } provider { id } }")
            .await
            .map_err(Arc::new)?;
        Ok(keys
            .iter()
            .zip(found)
            .filter_map(|(id, e)| {
                let e = e?;
                let place = OfferPlace {
                    region: e["region"]["code"].as_str()?.to_owned(),
                    provider: e["provider"]["id"].as_str()?.to_owned(),
                };
                Some((id.clone(), place))
            })
            .collect())
    }
}

/// The regional contracting picture of every region of one request in one statement: per
/// category, offers with an agreed contract next year, over the contracts the caller is no party
/// to, banded ([`crate::picture::shown`]).
pub struct ContractedNextYear {
    db: DatabaseConnection,
    caller: Caller,
    year: i32,
}

impl Loader<String> for ContractedNextYear {
    type Value = Vec<crate::picture::ShownContracting>;
    type Error = LoadError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let rows = crate::picture::contracted_in(&self.db, &self.caller, keys, self.year).await.map_err(db_err)?;
        Ok(crate::picture::shown(keys, &rows, self.year))
    }
}
