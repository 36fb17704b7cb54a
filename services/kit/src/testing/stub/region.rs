//! The region subgraph as a stub: regions, organisations and care offers given as data, answered
//! in the shape the region subgraph answers them (`schema/region.graphql`), for the subgraphs that
//! check references with it (national-table, contracting). The shape is written here once; each
//! service's tests list their own data.
//!
//! What is answered:
//! - `_entities` for `Region` (key `code`), `Organisation` (key `id`) and `CareOffer` (key `id`),
//!   each with its scalar fields and its references as `{ code }` / `{ id }` objects
//!   (`CareOffer.provider { id }`, `CareOffer.region { code }`, `Organisation.regions { code }`,
//!   `Region.coordinatingInsurer { id }`, `Region.neighbours { code }`);
//! - the root fields `regions(kind, first, after)` and `careOffers(region, providerId, category,
//!   status, supraRegional, first, after)` as connections (`totalCount`, `pageInfo { hasNextPage
//!   endCursor }`, `nodes`, `edges { cursor node }`), in key order, `first` 20 by default; a
//!   cursor is the last key of the previous page.
//!
//! Care forms are a field of the offer (`careForm { code category }`), not entities of their own.

use std::sync::Arc;

use serde_json::{Value, json};
use uuid::Uuid;

use super::{StubFixtures, StubSubgraph};
use crate::token::{OrgKind, SigningKey};

/// The region subgraph's token audience (`ggzhub_region::AUDIENCE`, repeated here: no subgraph
/// crate depends on another, not even for tests).
pub const AUDIENCE: &str = "region";

/// Regions, organisations and care offers the stub region subgraph knows.
#[derive(Debug, Clone, Default)]
pub struct RegionFixture {
    regions: Vec<Value>,
    organisations: Vec<Value>,
    offers: Vec<Value>,
}

/// A care offer of a [`RegionFixture`]: SECURED and serving its own region unless told otherwise.
#[derive(Debug, Clone)]
pub struct OfferFixture {
    id: Uuid,
    provider: Uuid,
    region: String,
    category: String,
    care_form: String,
    unit_name: String,
    status: String,
    regions_served: Vec<String>,
}

impl OfferFixture {
    /// Offer `id` of `provider`, located in `region`, of `category` (`ACUTE`, …) and `care_form`
    /// (`CRISIS_SERVICE`, …), run by the unit `unit_name`.
    pub fn new(id: Uuid, provider: Uuid, region: &str, category: &str, care_form: &str, unit_name: &str) -> Self {
        Self {
            id,
            provider,
            region: region.to_owned(),
            category: category.to_owned(),
            care_form: care_form.to_owned(),
            unit_name: unit_name.to_owned(),
            status: "SECURED".to_owned(),
            regions_served: vec![region.to_owned()],
        }
    }

    /// With continuity status `status` (`UNDER_PRESSURE`, `CLOSED`, …).
    pub fn status(mut self, status: &str) -> Self {
        self.status = status.to_owned();
        self
    }

    /// Serving `regions` (its own included); more than one makes it supra-regional.
    pub fn serving(mut self, regions: &[&str]) -> Self {
        self.regions_served = regions.iter().map(|r| (*r).to_owned()).collect();
        self
    }

    fn to_json(&self) -> Value {
        json!({
            "id": self.id.to_string(),
            "provider": { "id": self.provider.to_string() },
            "region": { "code": self.region },
            "category": self.category,
            "careForm": { "code": self.care_form, "category": self.category },
            "unitName": self.unit_name,
            "location": "Utrecht",
            "availability": "TWENTY_FOUR_SEVEN",
            "status": self.status,
            "supraRegional": self.regions_served.len() > 1,
            "regionsServed": self.regions_served,
        })
    }
}

impl RegionFixture {
    /// Knows nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Region `code` called `name`, of `kind` (`IZA` or `CARE_OFFICE`), next to `neighbours`,
    /// with its coordinating insurer.
    pub fn region(
        mut self,
        code: &str,
        name: &str,
        kind: &str,
        neighbours: &[&str],
        coordinating_insurer: Option<Uuid>,
    ) -> Self {
        self.regions.push(json!({
            "code": code,
            "name": name,
            "kind": kind,
            "neighbours": neighbours.iter().map(|n| json!({ "code": n })).collect::<Vec<_>>(),
            "coordinatingInsurer": coordinating_insurer.map(|id| json!({ "id": id.to_string() })),
        }));
        self
    }

    /// Organisation `id` called `name`, of `kind`, at the tables of `regions`.
    pub fn organisation(mut self, id: Uuid, name: &str, kind: OrgKind, regions: &[&str]) -> Self {
        self.organisations.push(json!({
            "id": id.to_string(),
            "name": name,
            "kind": kind.as_str(),
            "regions": regions.iter().map(|r| json!({ "code": r })).collect::<Vec<_>>(),
        }));
        self
    }

    /// A care offer.
    pub fn offer(mut self, offer: OfferFixture) -> Self {
        self.offers.push(offer.to_json());
        self
    }

    /// The stub's fixtures: the entities and the `regions` and `careOffers` root fields.
    pub fn fixtures(&self) -> StubFixtures {
        let mut fixtures = StubFixtures::new();
        for r in &self.regions {
            fixtures = fixtures.entity("Region", &["code"], r.clone());
        }
        for o in &self.organisations {
            fixtures = fixtures.entity("Organisation", &["id"], o.clone());
        }
        for o in &self.offers {
            fixtures = fixtures.entity("CareOffer", &["id"], o.clone());
        }
        let regions = self.regions.clone();
        let offers = self.offers.clone();
        fixtures
            .field("regions", move |args| {
                let found = regions.iter().filter(|r| args["kind"].is_null() || r["kind"] == args["kind"]);
                connection(found.cloned().collect(), "code", args)
            })
            .field("careOffers", move |args| {
                let wanted = |o: &&Value| {
                    [
                        (&args["region"], &o["region"]["code"]),
                        (&args["providerId"], &o["provider"]["id"]),
                        (&args["category"], &o["category"]),
                        (&args["status"], &o["status"]),
                        (&args["supraRegional"], &o["supraRegional"]),
                    ]
                    .iter()
                    .all(|(asked, has)| asked.is_null() || asked == has)
                };
                connection(offers.iter().filter(wanted).cloned().collect(), "id", args)
            })
    }

    /// Starts the stub region subgraph, trusting internal tokens of `key` for [`AUDIENCE`].
    pub async fn start(&self, key: Arc<SigningKey>) -> StubSubgraph {
        StubSubgraph::start(self.fixtures(), key, AUDIENCE).await
    }
}

/// One page of `items` ordered by `key`, after the `after` cursor (a key), `first` long.
fn connection(mut items: Vec<Value>, key: &str, args: &Value) -> Value {
    let id = |v: &Value| v[key].as_str().unwrap_or_default().to_owned();
    items.sort_by_key(id);
    let total = items.len();
    let first = args["first"].as_u64().map_or(20, |n| n as usize);
    let after = args["after"].as_str();
    let rest: Vec<Value> = items.into_iter().filter(|v| after.is_none_or(|a| id(v).as_str() > a)).collect();
    let has_next = rest.len() > first;
    let page: Vec<Value> = rest.into_iter().take(first).collect();
    json!({
        "totalCount": total,
        "pageInfo": { "hasNextPage": has_next, "endCursor": page.last().map(id) },
        "edges": page.iter().map(|n| json!({ "cursor": id(n), "node": n })).collect::<Vec<_>>(),
        "nodes": page,
    })
}
