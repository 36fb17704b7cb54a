//! The test harness: the contracting subgraph on 127.0.0.1:0 with a database of its own (SQLite
//! in memory, or a fresh PostgreSQL schema when `DATABASE_URL` is set), beside recording stubs of
//! the region and national-table subgraphs ([`ggzhub_kit::testing::stub`]) sharing its signing
//! key. Contracting checks its references (providers, offers with region; KPIs with national-table)
//! with the stubs over HTTP, as it would with the real subgraphs; the stubs know
//! [`region_fixture`] and [`national_table_fixture`] and record what they were asked.
//!
//! The contracting database starts empty (the demo files are never read) and tests build
//! contracts through the API, or with [`TestApp::insert_contract`] where only volume matters
//! (DataLoader figures).
//!
//! | persona          | kind                 | tables at | notes                                      |
//! |------------------|----------------------|-----------|--------------------------------------------|
//! | `p1`             | PROVIDER             | utrecht   | owns the utrecht offers (one CLOSED)       |
//! | `p2`             | PROVIDER             | amsterdam | owns the amsterdam offer                   |
//! | `i1`             | INSURER              | utrecht   | coordinating insurer of utrecht            |
//! | `i2`, `i3`, `i4` | INSURER              | utrecht   |                                            |
//! | `i5`             | INSURER              | amsterdam | coordinating insurer of amsterdam          |
//! | `patient_org`    | PATIENT_ORGANISATION | utrecht   |                                            |
//! | `municipality`   | MUNICIPALITY         | utrecht   |                                            |
//! | `national_table` | NATIONAL_TABLE       | –         | scope `national:write`                     |
//! | `operator`       | HUB_OPERATOR         | –         |                                            |

#![allow(dead_code)] // Not every test module uses every helper.

use std::sync::Arc;

use chrono::{Datelike as _, Utc};
use ggzhub_contracting::entity::{contract, covered, history};
use ggzhub_contracting::graphql::Owners;
use ggzhub_kit::refs::RefChecker;
use ggzhub_kit::server::HttpLimits;
use ggzhub_kit::testing::stub::region::{self, OfferFixture, RegionFixture};
use ggzhub_kit::testing::stub::{StubFixtures, StubSubgraph};
use ggzhub_kit::testing::{GraphqlCall, GraphqlResponse, TestCaller, TestDb, TestServer, closed_url};
use ggzhub_kit::{OrgKind, SigningKey};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait, PaginatorTrait};
use sea_orm_migration::MigratorTrait;
use serde_json::{Value, json};
use uuid::Uuid;

// Organisations (all known to the stub region subgraph).
pub const P1: Uuid = Uuid::from_u128(0xa1);
pub const P2: Uuid = Uuid::from_u128(0xa2);
pub const I1: Uuid = Uuid::from_u128(0x1001);
pub const I2: Uuid = Uuid::from_u128(0x1002);
pub const I3: Uuid = Uuid::from_u128(0x1003);
pub const I4: Uuid = Uuid::from_u128(0x1004);
pub const I5: Uuid = Uuid::from_u128(0x1005);
pub const PATIENT_ORG: Uuid = Uuid::from_u128(0x2a);
pub const MUNICIPALITY: Uuid = Uuid::from_u128(0x3a);
pub const NATIONAL_TABLE: Uuid = Uuid::from_u128(0x4a);
pub const OPERATOR: Uuid = Uuid::from_u128(0x5a);
/// An organisation id the stub region subgraph does not know.
pub const UNKNOWN_ORG: Uuid = Uuid::from_u128(0xdead_000a);

// Care offers.
/// P1, utrecht, ACUTE / CRISIS_SERVICE.
pub const OFFER_P1_CRISIS: Uuid = Uuid::from_u128(0x0f_a1_01);
/// P1, utrecht, OUTREACH / FACT.
pub const OFFER_P1_FACT: Uuid = Uuid::from_u128(0x0f_a1_02);
/// P1, utrecht, ACUTE / HIC.
pub const OFFER_P1_HIC: Uuid = Uuid::from_u128(0x0f_a1_03);
/// P1, utrecht, OUTREACH / FACT, status CLOSED.
pub const OFFER_P1_CLOSED: Uuid = Uuid::from_u128(0x0f_a1_04);
/// P2, amsterdam, ACUTE / HIC.
pub const OFFER_P2_HIC: Uuid = Uuid::from_u128(0x0f_a2_01);
/// An offer id the stub region subgraph does not know.
pub const UNKNOWN_OFFER: Uuid = Uuid::from_u128(0xdead_000f);

/// The national KPI the stub national-table subgraph knows.
pub const KPI: &str = "TREEKNORM_WITHIN_14_WEEKS";

// Markers in the terms of the contract under test: no other party may ever see them.
/// Guarantee amount of the default terms (a figure nothing else in a response contains).
pub const AMOUNT: f64 = 7_654_321.0;
/// Marker in volume, guarantee description and notes of the default terms.
pub const MARKER: &str = "ALPHA-SECRET";

pub fn p1() -> TestCaller {
    TestCaller::new(OrgKind::Provider, P1, &["utrecht"])
}
pub fn p2() -> TestCaller {
    TestCaller::new(OrgKind::Provider, P2, &["amsterdam"])
}
pub fn i1() -> TestCaller {
    TestCaller::new(OrgKind::Insurer, I1, &["utrecht"])
}
pub fn i2() -> TestCaller {
    TestCaller::new(OrgKind::Insurer, I2, &["utrecht"])
}
pub fn i3() -> TestCaller {
    TestCaller::new(OrgKind::Insurer, I3, &["utrecht"])
}
pub fn i4() -> TestCaller {
    TestCaller::new(OrgKind::Insurer, I4, &["utrecht"])
}
pub fn i5() -> TestCaller {
    TestCaller::new(OrgKind::Insurer, I5, &["amsterdam"])
}
pub fn patient_org() -> TestCaller {
    TestCaller::new(OrgKind::PatientOrganisation, PATIENT_ORG, &["utrecht"])
}
pub fn municipality() -> TestCaller {
    TestCaller::new(OrgKind::Municipality, MUNICIPALITY, &["utrecht"])
}
pub fn national_table() -> TestCaller {
    TestCaller::new(OrgKind::NationalTable, NATIONAL_TABLE, &[])
}
pub fn operator() -> TestCaller {
    TestCaller::new(OrgKind::HubOperator, OPERATOR, &[])
}

/// Organisations that are never a party to a contract and see nothing of contracts.
pub fn non_parties() -> Vec<(&'static str, TestCaller)> {
    vec![
        ("patient organisation", patient_org()),
        ("municipality", municipality()),
        ("national table", national_table()),
        ("hub operator", operator()),
    ]
}

/// The year contract coverage counts (the current one).
pub fn this_year() -> i32 {
    Utc::now().year()
}

/// The national-table subgraph's token audience (`ggzhub_national_table::AUDIENCE`, repeated:
/// no subgraph crate depends on another, not even for tests).
pub const NATIONAL_TABLE_AUDIENCE: &str = "national-table";

/// The contracting subgraph with stub region and national-table subgraphs beside it.
pub struct TestApp {
    /// The contracting service (dropped first).
    pub server: TestServer,
    /// The stub region subgraph (`None`: it is down).
    pub region: Option<StubSubgraph>,
    /// The stub national-table subgraph (`None`: it is down).
    pub national_table: Option<StubSubgraph>,
    /// The contracting database.
    pub db: TestDb,
}

impl TestApp {
    /// Starts the stub region and national-table subgraphs with their fixtures, then contracting.
    pub async fn spawn() -> Self {
        Self::spawn_with(true, true).await
    }

    /// Starts contracting only; both owners' URLs point at closed ports.
    pub async fn spawn_with_owners_down() -> Self {
        Self::spawn_with(false, false).await
    }

    /// Starts contracting with the region subgraph up and/or the national table up.
    pub async fn spawn_with(region_up: bool, national_table_up: bool) -> Self {
        Self::spawn_at(region_up, national_table_up, ggzhub_contracting::clock::Today::System).await
    }

    /// Like [`spawn_with`](Self::spawn_with), with contracting's today taken from `today`.
    pub async fn spawn_at(region_up: bool, national_table_up: bool, today: ggzhub_contracting::clock::Today) -> Self {
        let key = Arc::new(SigningKey::generate());
        let region = if region_up { Some(region_fixture().start(key.clone()).await) } else { None };
        let national_table = if national_table_up {
            Some(StubSubgraph::start(national_table_fixture(), key.clone(), NATIONAL_TABLE_AUDIENCE).await)
        } else {
            None
        };
        let url = |stub: &Option<StubSubgraph>| stub.as_ref().map_or_else(closed_url, StubSubgraph::url);

        let db = TestDb::new().await;
        ggzhub_contracting::migration::Migrator::up(&db.db, None).await.expect("contracting migrations run");
        let owners = Owners {
            region: RefChecker::new(url(&region), region::AUDIENCE, key.signer()),
            national_table: RefChecker::new(url(&national_table), NATIONAL_TABLE_AUDIENCE, key.signer()),
        };
        let app = ggzhub_contracting::app::router_at(
            db.db.clone(),
            Arc::new(key.verifier(ggzhub_contracting::AUDIENCE)),
            owners,
            HttpLimits::default(),
            today,
        );
        let server = TestServer::start(app, key, ggzhub_contracting::AUDIENCE).await;
        Self { server, region, national_table, db }
    }

    /// The stub region subgraph (panics when it is down).
    #[track_caller]
    pub fn region(&self) -> &StubSubgraph {
        self.region.as_ref().expect("the region subgraph runs")
    }

    /// Starts a GraphQL request to the contracting subgraph.
    pub fn graphql(&self, query: &str) -> GraphqlCall<'_> {
        self.server.graphql(query)
    }

    /// The contracting database connection.
    pub fn conn(&self) -> &DatabaseConnection {
        &self.db.db
    }

    /// SQL statements run on the contracting database so far.
    pub fn statement_count(&self) -> usize {
        self.db.statement_count()
    }

    /// The statements run on the contracting database since the first `from`, values inlined.
    pub fn statements_since(&self, from: usize) -> Vec<String> {
        self.db.statements_since(from)
    }

    /// Drafts a contract as `insurer` with `provider` (any outcome).
    pub async fn try_create(&self, insurer: &TestCaller, provider: impl ToString, terms: Value) -> GraphqlResponse {
        self.graphql(CREATE).var("p", provider.to_string()).var("t", terms).as_caller(insurer).send().await
    }

    /// Drafts a contract, asserting success; returns it.
    pub async fn create(&self, insurer: &TestCaller, provider: Uuid, terms: Value) -> Value {
        let resp = self.try_create(insurer, provider, terms).await;
        let k = resp.data()["createContract"].clone();
        assert_eq!(k["status"], "DRAFT", "{:#}", resp.body);
        k
    }

    /// Runs a lifecycle mutation without a reason (`proposeContract`, `agreeContract`,
    /// `agreeAmendment`).
    pub async fn act(&self, caller: &TestCaller, field: &str, id: &str, version: i64) -> GraphqlResponse {
        let q =
            format!("mutation($id: ID!, $v: Int!) {{ {field}(id: $id, expectedVersion: $v) {{ {CONTRACT_FIELDS} }} }}");
        self.graphql(&q).var("id", id).var("v", version).as_caller(caller).send().await
    }

    /// Runs a lifecycle mutation with a reason (`returnContract`, `terminateContract`,
    /// `rejectAmendment`).
    pub async fn act_with_reason(
        &self,
        caller: &TestCaller,
        field: &str,
        id: &str,
        version: i64,
        reason: &str,
    ) -> GraphqlResponse {
        let q = format!(
            "mutation($id: ID!, $v: Int!, $r: String!) {{ {field}(id: $id, expectedVersion: $v, reason: $r) {{ {CONTRACT_FIELDS} }} }}"
        );
        self.graphql(&q).var("id", id).var("v", version).var("r", reason).as_caller(caller).send().await
    }

    /// Proposes an amendment (any outcome).
    pub async fn propose_amendment(
        &self,
        caller: &TestCaller,
        id: &str,
        version: i64,
        terms: Value,
    ) -> GraphqlResponse {
        self.graphql(PROPOSE_AMENDMENT).var("id", id).var("v", version).var("t", terms).as_caller(caller).send().await
    }

    /// Runs `field` and asserts success; returns the contract it answered.
    pub async fn act_ok(&self, caller: &TestCaller, field: &str, id: &str, version: i64) -> Value {
        let resp = self.act(caller, field, id, version).await;
        resp.data()[field].clone()
    }

    /// A proposed contract of `insurer` with `provider` covering `offers`; returns it.
    pub async fn proposed(&self, insurer: &TestCaller, provider: Uuid, terms: Value) -> Value {
        let k = self.create(insurer, provider, terms).await;
        let id = k["id"].as_str().expect("id");
        let k = self.act_ok(insurer, "proposeContract", id, version(&k)).await;
        assert_eq!(k["status"], "PROPOSED");
        k
    }

    /// An agreed contract (insurer drafts and proposes, provider agrees); returns it.
    pub async fn agreed(&self, insurer: &TestCaller, provider: &TestCaller, terms: Value) -> Value {
        let k = self.proposed(insurer, provider.org, terms).await;
        let k = self.act_ok(provider, "agreeContract", k["id"].as_str().expect("id"), version(&k)).await;
        assert_eq!(k["status"], "AGREED");
        k
    }

    /// An agreed contract of `insurer` with P1 over `offers` (default terms); returns its id.
    pub async fn agreed_with_p1(&self, insurer: &TestCaller, offers: &[Uuid]) -> String {
        let k = self.agreed(insurer, &p1(), terms(offers)).await;
        k["id"].as_str().expect("id").to_owned()
    }

    /// The contract as `caller` sees it through `contract(id)` (every field), or `null`.
    pub async fn contract_as(&self, caller: &TestCaller, id: &str) -> Value {
        let resp = self.graphql(CONTRACT).var("id", id).as_caller(caller).send().await;
        resp.data()["contract"].clone()
    }

    /// Ids of the contracts `caller` finds in `contracts` (optionally with `status`).
    pub async fn listed(&self, caller: &TestCaller, status: Option<&str>) -> Vec<String> {
        let resp = self
            .graphql("query($s: ContractStatus) { contracts(status: $s, first: 100) { nodes { id } } }")
            .var("s", status)
            .as_caller(caller)
            .send()
            .await;
        ids(&resp.data()["contracts"]["nodes"])
    }

    /// Rows in a contracting table.
    pub async fn count<E: EntityTrait>(&self) -> u64
    where
        E::Model: Sync,
    {
        E::find().count(self.conn()).await.expect("count runs")
    }

    /// Every stored contract row (to compare before and after a refused change).
    pub async fn contract_rows(&self) -> Vec<contract::Model> {
        use sea_orm::QueryOrder as _;
        contract::Entity::find().order_by_asc(contract::Column::Id).all(self.conn()).await.expect("contracts read")
    }

    /// Every audit entry written so far, oldest first (read from the table: contracting has no
    /// audit query).
    pub async fn audit_entries(&self) -> Vec<ggzhub_kit::audit::entry::Model> {
        use sea_orm::QueryOrder as _;
        ggzhub_kit::audit::entry::Entity::find()
            .order_by_asc(ggzhub_kit::audit::entry::Column::Id)
            .all(self.conn())
            .await
            .expect("audit log reads")
    }

    /// Inserts an AGREED contract of `insurer` with `provider` directly, with `history` superseded
    /// term versions (for DataLoader figures, where only volume matters); returns its id.
    pub async fn insert_contract(&self, insurer: Uuid, provider: Uuid, offer: Uuid, history_rows: i32) -> String {
        let now = Utc::now();
        let id = Uuid::now_v7().to_string();
        let t = terms(&[offer]);
        contract::ActiveModel {
            id: Set(id.clone()),
            insurer_id: Set(insurer.to_string()),
            provider_id: Set(provider.to_string()),
            status: Set("AGREED".to_owned()),
            first_year: Set(this_year()),
            last_year: Set(this_year() + 2),
            terms: Set(t.clone()),
            terms_version: Set(history_rows + 1),
            pending_terms: Set(None),
            return_reason: Set(None),
            amendment_rejection: Set(None),
            termination_reason: Set(None),
            agreed_at: Set(Some(now)),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            created_by: Set(insurer.to_string()),
            updated_by: Set(provider.to_string()),
        }
        .insert(self.conn())
        .await
        .expect("contract inserts");
        covered::ActiveModel {
            id: Set(Uuid::now_v7().to_string()),
            contract_id: Set(id.clone()),
            offer_id: Set(offer.to_string()),
        }
        .insert(self.conn())
        .await
        .expect("covered offer inserts");
        for v in 1..=history_rows {
            history::ActiveModel {
                id: Set(Uuid::now_v7().to_string()),
                contract_id: Set(id.clone()),
                terms_version: Set(v),
                terms: Set(t.clone()),
                replaced_at: Set(now),
                replaced_by: Set(provider.to_string()),
            }
            .insert(self.conn())
            .await
            .expect("history inserts");
        }
        id
    }

    /// Sends the same request `n` times at once (each on its own task), as `caller`.
    pub async fn send_concurrently(
        &self,
        caller: &TestCaller,
        query: &str,
        variables: Value,
        n: usize,
    ) -> Vec<GraphqlResponse> {
        let body = json!({ "query": query, "variables": variables });
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..n {
            let request = self
                .server
                .client()
                .post(self.server.url("/graphql"))
                .bearer_auth(self.server.token(caller))
                .json(&body);
            set.spawn(async move {
                let resp = request.send().await.expect("request reaches the test server");
                let status = resp.status().as_u16();
                GraphqlResponse { status, body: resp.json().await.expect("response is JSON") }
            });
        }
        set.join_all().await
    }
}

/// The version of a contract in a response.
pub fn version(k: &Value) -> i64 {
    k["version"].as_i64().expect("version")
}

/// The id of a contract in a response.
pub fn id_of(k: &Value) -> String {
    k["id"].as_str().expect("id").to_owned()
}

/// Terms over `offers` marked with `marker` (in volume, guarantee description and notes) and a
/// guarantee of `amount`: years this year to two years on, one KPI.
pub fn terms_marked(offers: &[Uuid], marker: &str, amount: f64) -> Value {
    let y = this_year();
    json!({
        "firstYear": y,
        "lastYear": y + 2,
        "coveredOfferIds": offers.iter().map(Uuid::to_string).collect::<Vec<_>>(),
        "kpis": [{"kpiCode": KPI, "targets": [{"year": y, "value": 80.0}, {"year": y + 1, "value": 90.0}]}],
        "volumeAgreement": format!("{marker} volume: 120 treatment trajectories a year"),
        "guarantee": {"amountEur": amount, "description": format!("{marker} guarantee: availability fee")},
        "evaluationMoments": [format!("{}-06-30", y + 1)],
        "notes": format!("{marker} notes: evaluated with the regional table"),
    })
}

/// The default terms (marked with [`MARKER`] and [`AMOUNT`]) over `offers`.
pub fn terms(offers: &[Uuid]) -> Value {
    terms_marked(offers, MARKER, AMOUNT)
}

/// `terms` with `key` replaced by `value`.
pub fn with(mut terms: Value, key: &str, value: Value) -> Value {
    terms[key] = value;
    terms
}

/// Every field of a contract, terms included.
pub const CONTRACT_FIELDS: &str = r#"id status version termsVersion firstYear lastYear
    insurer { id } provider { id } returnReason amendmentRejection terminationReason agreedAt
    terms { firstYear lastYear coveredOfferIds kpis { kpiCode targets { year value } } volumeAgreement
        guarantee { amountEur description } evaluationMoments notes }
    pendingAmendment { firstYear lastYear volumeAgreement guarantee { amountEur description } notes }
    history { termsVersion terms { volumeAgreement guarantee { amountEur } notes } replacedAt }
    coveredOffers { id } kpis { kpi { code } targets { year value } }
    meta { createdBy updatedBy }"#;

pub const CREATE: &str = r#"mutation($p: ID!, $t: ContractTermsInput!) { createContract(providerId: $p, terms: $t) {
    id status version termsVersion firstYear lastYear insurer { id } provider { id }
    terms { coveredOfferIds volumeAgreement guarantee { amountEur } } } }"#;
pub const UPDATE_DRAFT: &str = r#"mutation($id: ID!, $v: Int!, $t: ContractTermsInput!) {
    updateContractDraft(id: $id, expectedVersion: $v, terms: $t) { id status version terms { volumeAgreement notes } } }"#;
pub const PROPOSE_AMENDMENT: &str = r#"mutation($id: ID!, $v: Int!, $t: ContractTermsInput!) {
    proposeAmendment(id: $id, expectedVersion: $v, terms: $t) { id status version termsVersion
        pendingAmendment { lastYear volumeAgreement guarantee { amountEur } } } }"#;

/// `contract(id)` with every field.
pub const CONTRACT: &str = r#"query($id: ID!) { contract(id: $id) { id status version termsVersion firstYear lastYear
    insurer { id } provider { id } returnReason amendmentRejection terminationReason agreedAt
    terms { firstYear lastYear coveredOfferIds kpis { kpiCode targets { year value } } volumeAgreement
        guarantee { amountEur description } evaluationMoments notes }
    pendingAmendment { firstYear lastYear volumeAgreement guarantee { amountEur description } notes }
    history { termsVersion terms { volumeAgreement guarantee { amountEur } notes } replacedAt }
    coveredOffers { id } kpis { kpi { code } targets { year value } }
    meta { createdBy updatedBy } } }"#;

pub const GUIDELINES: &str = "query { contractingGuidelines { id year title body version } }";
pub const CREATE_GUIDELINE: &str = r#"mutation($y: Int!, $t: String!, $b: String!) {
    createContractingGuideline(year: $y, title: $t, body: $b) { id year title body version } }"#;
pub const UPDATE_GUIDELINE: &str = r#"mutation($id: ID!, $v: Int!, $t: String!, $b: String!) {
    updateContractingGuideline(id: $id, expectedVersion: $v, title: $t, body: $b) { id year title body version } }"#;

pub const COVERAGE: &str = r#"query($r: [_Any!]!) { _entities(representations: $r) {
    ... on CareOffer { id contractCoverage { year band otherInsurers continuitySecuredUntil } } } }"#;

/// The coverage an offer shows when fewer than three insurers other than the caller contract it.
pub fn banded() -> Value {
    json!({"year": this_year(), "band": "FEWER_THAN_THREE", "otherInsurers": null, "continuitySecuredUntil": null})
}

/// The coverage an offer shows with its figures.
pub fn exact(other_insurers: i64, secured_until: Option<i32>) -> Value {
    json!({"year": this_year(), "band": "EXACT", "otherInsurers": other_insurers, "continuitySecuredUntil": secured_until})
}

/// A `CareOffer` representation.
pub fn offer_rep(id: impl ToString) -> Value {
    json!({"__typename": "CareOffer", "id": id.to_string()})
}

/// A `Contract` representation.
pub fn contract_rep(id: impl ToString) -> Value {
    json!({"__typename": "Contract", "id": id.to_string()})
}

/// An `Organisation` representation.
pub fn org_rep(id: impl ToString) -> Value {
    json!({"__typename": "Organisation", "id": id.to_string()})
}

/// Asserts the request failed as a whole with 401 `UNAUTHENTICATED` and carries no data.
#[track_caller]
pub fn assert_unauthenticated(resp: &GraphqlResponse) {
    assert_eq!(resp.status, 401, "expected HTTP 401, got {} {:#}", resp.status, resp.body);
    assert_eq!(resp.error_codes(), vec!["UNAUTHENTICATED".to_owned()], "{:#}", resp.body);
    assert!(resp.body.get("data").is_none_or(Value::is_null), "a refused request carries no data: {:#}", resp.body);
}

/// Asserts the operation failed with `code` at its root field, which is `null`.
#[track_caller]
pub fn assert_refused(resp: &GraphqlResponse, field: &str, code: &str) {
    assert_eq!(resp.error_code_at(&[field]), Some(code.to_owned()), "expected {code} at {field}: {:#}", resp.body);
    assert!(resp.body["data"][field].is_null(), "{field} must be null when refused: {:#}", resp.body);
}

/// Asserts nothing of the default terms (or the insurer `insurer`) appears anywhere in `body`.
#[track_caller]
pub fn assert_no_terms(body: &Value, insurer: Uuid) {
    let text = body.to_string();
    for secret in [MARKER.to_owned(), "7654321".to_owned(), insurer.to_string()] {
        assert!(!text.contains(&secret), "the response reveals {secret}: {body:#}");
    }
}

/// The first error message with `id` replaced by `<id>` (to compare message shapes).
pub fn message_shape(resp: &GraphqlResponse, id: &str) -> String {
    resp.body["errors"][0]["message"].as_str().unwrap_or_default().replace(id, "<id>")
}

/// The sorted `id`s in a list of nodes.
pub fn ids(nodes: &Value) -> Vec<String> {
    let mut ids: Vec<String> = nodes
        .as_array()
        .map(|a| a.iter().filter_map(|n| n["id"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    ids.sort();
    ids
}

/// Sorted id strings.
pub fn sorted<S: ToString>(ids: &[S]) -> Vec<String> {
    let mut v: Vec<String> = ids.iter().map(ToString::to_string).collect();
    v.sort();
    v
}

/// Codes of the errors on `_entities` itself (`field: None`) or on `field` of an entity.
///
/// async-graphql 7.2.1 resolves all representations in the `_entities` field's own context, so
/// error paths may carry no list index; both shapes are accepted.
pub fn entity_error_codes(resp: &GraphqlResponse, field: Option<&str>) -> Vec<String> {
    resp.body["errors"]
        .as_array()
        .map(|errs| {
            errs.iter()
                .filter(|e| {
                    let path: Vec<String> = e["path"]
                        .as_array()
                        .map(|p| p.iter().map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned)).collect())
                        .unwrap_or_default();
                    let rest: Vec<&str> = match path.first().map(String::as_str) {
                        Some("_entities") => path[1..]
                            .iter()
                            .map(String::as_str)
                            .skip_while(|s| s.chars().all(|c| c.is_ascii_digit()))
                            .collect(),
                        _ => return false,
                    };
                    rest == field.into_iter().collect::<Vec<_>>()
                })
                .filter_map(|e| e["extensions"]["code"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// What the stub national-table subgraph knows: the national KPI [`KPI`] (any other code is
/// unknown to it).
pub fn national_table_fixture() -> StubFixtures {
    StubFixtures::new().entity(
        "NationalKpi",
        &["code"],
        json!({
            "code": KPI,
            "name": "Patients treated within the Treeknorm",
            "definition": "Share of patients whose total wait stays within 14 weeks.",
            "unit": "percent",
            "direction": "HIGHER_IS_BETTER",
        }),
    )
}

/// What the stub region subgraph knows: the organisations of the personas above, utrecht and
/// amsterdam, and five care offers (one of them CLOSED). `UNKNOWN_ORG`, `UNKNOWN_OFFER` and any
/// other region code are unknown to it.
pub fn region_fixture() -> RegionFixture {
    let orgs: [(Uuid, &str, OrgKind, &[&str]); 11] = [
        (P1, "GGZ Aanbieder 1", OrgKind::Provider, &["utrecht"]),
        (P2, "GGZ Aanbieder 2", OrgKind::Provider, &["amsterdam"]),
        (I1, "Zorgverzekeraar 1", OrgKind::Insurer, &["utrecht"]),
        (I2, "Zorgverzekeraar 2", OrgKind::Insurer, &["utrecht"]),
        (I3, "Zorgverzekeraar 3", OrgKind::Insurer, &["utrecht"]),
        (I4, "Zorgverzekeraar 4", OrgKind::Insurer, &["utrecht"]),
        (I5, "Zorgverzekeraar 5", OrgKind::Insurer, &["amsterdam"]),
        (PATIENT_ORG, "Patiëntenplatform Utrecht", OrgKind::PatientOrganisation, &["utrecht"]),
        (MUNICIPALITY, "Gemeente Utrecht", OrgKind::Municipality, &["utrecht"]),
        (NATIONAL_TABLE, "Landelijke tafel cruciale ggz", OrgKind::NationalTable, &[]),
        (OPERATOR, "ggzhub beheer", OrgKind::HubOperator, &[]),
    ];
    let fixture = orgs
        .into_iter()
        .fold(RegionFixture::new(), |f, (id, name, kind, regions)| f.organisation(id, name, kind, regions));
    fixture
        .region("utrecht", "Utrecht", "IZA", &["amsterdam"], Some(I1))
        .region("amsterdam", "Amsterdam", "IZA", &["utrecht"], Some(I5))
        .offer(OfferFixture::new(
            OFFER_P1_CRISIS,
            P1,
            "utrecht",
            "ACUTE",
            "CRISIS_SERVICE",
            "Crisisdienst Utrecht-Stad",
        ))
        .offer(
            OfferFixture::new(OFFER_P1_FACT, P1, "utrecht", "OUTREACH", "FACT", "FACT-team Zeist")
                .status("UNDER_PRESSURE"),
        )
        .offer(OfferFixture::new(OFFER_P1_HIC, P1, "utrecht", "ACUTE", "HIC", "HIC Utrecht"))
        .offer(
            OfferFixture::new(OFFER_P1_CLOSED, P1, "utrecht", "OUTREACH", "FACT", "FACT-team Houten").status("CLOSED"),
        )
        .offer(OfferFixture::new(OFFER_P2_HIC, P2, "amsterdam", "ACUTE", "HIC", "HIC Amsterdam-West"))
}
