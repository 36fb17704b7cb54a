//! The test harness: the national-table subgraph on 127.0.0.1:0 with a database of its own
//! (SQLite in memory, or a fresh PostgreSQL schema when `DATABASE_URL` is set), beside a recording
//! stub of the region subgraph ([`ggzhub_kit::testing::stub`]) sharing its signing key. The
//! national table checks references (region codes, offer ids, organisation ids) with the stub over
//! HTTP, as it would with the real region subgraph; the stub knows [`region_fixture`] and records
//! what it was asked.
//!
//! The national-table database starts empty (the demo files are never read) and tests build what
//! they need through the API, or with the `insert_*` helpers where the API cannot be used (the
//! region subgraph is down) or would be slow.
//!
//! | persona            | kind                 | tables at | notes                                    |
//! |--------------------|----------------------|-----------|------------------------------------------|
//! | `provider_a`       | PROVIDER             | utrecht   | owns the utrecht offers                  |
//! | `chair`            | PROVIDER             | utrecht   | provider A with role `chair:utrecht`     |
//! | `insurer_x`        | INSURER              | utrecht   | coordinating insurer of utrecht          |
//! | `insurer_chair`    | INSURER              | utrecht   | insurer X with role `chair:utrecht`      |
//! | `provider_b`       | PROVIDER             | amsterdam | owns the amsterdam offer                 |
//! | `amsterdam_chair`  | PROVIDER             | amsterdam | provider B with role `chair:amsterdam`   |
//! | `insurer_y`        | INSURER              | amsterdam |                                          |
//! | `patient_org`      | PATIENT_ORGANISATION | utrecht   |                                          |
//! | `municipality`     | MUNICIPALITY         | utrecht   |                                          |
//! | `national_table`   | NATIONAL_TABLE       | –         | scope `national:write`                   |
//! | `operator`         | HUB_OPERATOR         | –         |                                          |

#![allow(dead_code)] // Not every test module uses every helper.

use std::sync::Arc;

use chrono::{NaiveDate, Utc};
use ggzhub_kit::OrgKind;
use ggzhub_kit::SigningKey;
use ggzhub_kit::events::{Delivered, Event, EventBus};
use ggzhub_kit::refs::RefChecker;
use ggzhub_kit::server::HttpLimits;
use ggzhub_kit::testing::stub::StubSubgraph;
use ggzhub_kit::testing::stub::region::{self, OfferFixture, RegionFixture};
use ggzhub_kit::testing::{GraphqlCall, GraphqlResponse, TestCaller, TestDb, TestServer, closed_url};
use ggzhub_national_table::entity::{escalation, listing, measure, network, transition};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait, PaginatorTrait};
use sea_orm_migration::MigratorTrait;
use serde_json::{Value, json};
use uuid::Uuid;

// Organisations (all known to the stub region subgraph).
pub const PROVIDER_A: Uuid = Uuid::from_u128(0xa1);
pub const PROVIDER_B: Uuid = Uuid::from_u128(0xb1);
pub const INSURER_X: Uuid = Uuid::from_u128(0x1a);
pub const INSURER_Y: Uuid = Uuid::from_u128(0x1b);
pub const PATIENT_ORG: Uuid = Uuid::from_u128(0x2a);
pub const MUNICIPALITY: Uuid = Uuid::from_u128(0x3a);
pub const NATIONAL_TABLE: Uuid = Uuid::from_u128(0x4a);
pub const OPERATOR: Uuid = Uuid::from_u128(0x5a);
/// An organisation id the stub region subgraph does not know.
pub const UNKNOWN_ORG: Uuid = Uuid::from_u128(0xdead_000a);

// Care offers.
/// Provider A, utrecht, ACUTE / CRISIS_SERVICE.
pub const OFFER_A_CRISIS: Uuid = Uuid::from_u128(0x0f_a1_01);
/// Provider A, utrecht, OUTREACH / FACT.
pub const OFFER_A_FACT: Uuid = Uuid::from_u128(0x0f_a1_02);
/// Provider A, utrecht, SPECIALIST_MHC / ZPM_SETTING_8: supra-regional, serves all three regions.
pub const OFFER_A_HS8: Uuid = Uuid::from_u128(0x0f_a1_08);
/// Provider B, amsterdam, ACUTE / HIC.
pub const OFFER_B_HIC: Uuid = Uuid::from_u128(0x0f_b1_01);
/// An offer id the stub region subgraph does not know.
pub const UNKNOWN_OFFER: Uuid = Uuid::from_u128(0xdead_000f);

pub fn provider_a() -> TestCaller {
    TestCaller::new(OrgKind::Provider, PROVIDER_A, &["utrecht"])
}
/// Provider A chairing the utrecht table.
pub fn chair() -> TestCaller {
    provider_a().with_role("chair:utrecht")
}
pub fn insurer_x() -> TestCaller {
    TestCaller::new(OrgKind::Insurer, INSURER_X, &["utrecht"])
}
/// Insurer X chairing the utrecht table.
pub fn insurer_chair() -> TestCaller {
    insurer_x().with_role("chair:utrecht")
}
pub fn provider_b() -> TestCaller {
    TestCaller::new(OrgKind::Provider, PROVIDER_B, &["amsterdam"])
}
/// Provider B chairing the amsterdam table.
pub fn amsterdam_chair() -> TestCaller {
    provider_b().with_role("chair:amsterdam")
}
pub fn insurer_y() -> TestCaller {
    TestCaller::new(OrgKind::Insurer, INSURER_Y, &["amsterdam"])
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

/// Everyone who reads the supra-regional list, networks and KPIs (everyone but the operator).
pub fn readers() -> Vec<(&'static str, TestCaller)> {
    vec![
        ("provider A", provider_a()),
        ("provider B", provider_b()),
        ("insurer X", insurer_x()),
        ("patient organisation", patient_org()),
        ("municipality", municipality()),
        ("national table", national_table()),
    ]
}

/// Everyone who may not write national-table data, chairs included.
pub fn non_national_writers() -> Vec<(&'static str, TestCaller)> {
    vec![
        ("chair (provider)", chair()),
        ("insurer chair", insurer_chair()),
        ("provider B", provider_b()),
        ("patient organisation", patient_org()),
        ("municipality", municipality()),
        ("hub operator", operator()),
        // The scope alone does not make a provider the national table...
        ("provider with national:write", provider_a().with_scopes(&["picture:read", "national:write"])),
        // ...and the national table needs the scope.
        ("national table without national:write", national_table().with_scopes(&["picture:read"])),
    ]
}

/// The national-table subgraph with a stub region subgraph beside it.
pub struct TestApp {
    /// The national-table service (dropped first).
    pub server: TestServer,
    /// The stub region subgraph the national table checks references with (`None`: it is down).
    pub region: Option<StubSubgraph>,
    /// The national-table database.
    pub db: TestDb,
}

impl TestApp {
    /// Starts a stub region subgraph knowing [`region_fixture`], then the national-table
    /// subgraph asking it.
    pub async fn spawn() -> Self {
        let key = Arc::new(SigningKey::generate());
        let region = region_fixture().start(key.clone()).await;
        let checker = RefChecker::new(region.url(), region::AUDIENCE, key.signer());
        let (server, db) = start_national_table(key, checker).await;
        Self { server, region: Some(region), db }
    }

    /// Like [`spawn`](Self::spawn), serving on the event `bus`: the outbox relay and the
    /// follow-through of escalated signals run ([`ggzhub_national_table::app::router_with_events`]).
    pub async fn spawn_with_bus(bus: Arc<dyn EventBus>) -> Self {
        let key = Arc::new(SigningKey::generate());
        let region = region_fixture().start(key.clone()).await;
        let checker = RefChecker::new(region.url(), region::AUDIENCE, key.signer());
        let db = TestDb::new().await;
        ggzhub_national_table::migration::Migrator::up(&db.db, None).await.expect("national-table migrations run");
        let app = ggzhub_national_table::app::router_with_events(
            db.db.clone(),
            Arc::new(key.verifier(ggzhub_national_table::AUDIENCE)),
            checker,
            HttpLimits::default(),
            bus,
        );
        let server = TestServer::start(app, key, ggzhub_national_table::AUDIENCE).await;
        Self { server, region: Some(region), db }
    }

    /// Resolves `query` (a subscription) for one delivered event as `caller`, as the gateway
    /// does: `extensions.ggzhubEvent` carries the event.
    pub async fn deliver(
        &self,
        caller: &TestCaller,
        query: &str,
        variables: Value,
        event: &Delivered,
    ) -> GraphqlResponse {
        let body = json!({
            "query": query,
            "variables": variables,
            "extensions": { ggzhub_kit::events::EVENT_EXTENSION: event },
        });
        let resp = self
            .server
            .client()
            .post(self.server.url("/graphql"))
            .bearer_auth(self.server.token(caller))
            .json(&body)
            .send()
            .await
            .expect("request reaches the test server");
        let status = resp.status().as_u16();
        GraphqlResponse { status, body: resp.json().await.expect("response is JSON") }
    }

    /// The outbox rows written so far, oldest first: `{field, scope, payload, published}`.
    pub async fn outbox(&self) -> Vec<Value> {
        use sea_orm::{FromQueryResult as _, JsonValue, Statement};
        let backend = self.conn().get_database_backend();
        // A text flag: SQLite's boolean expression would not decode into JSON.
        let sql = "SELECT field, scope, payload, CASE WHEN published_at IS NULL THEN 'no' ELSE 'yes' END AS published \
                   FROM outbox ORDER BY id";
        let rows = JsonValue::find_by_statement(Statement::from_string(backend, sql))
            .all(self.conn())
            .await
            .expect("outbox reads");
        rows.into_iter()
            .map(|r| {
                let text =
                    |k: &str| serde_json::from_str::<Value>(r[k].as_str().expect("stored as text")).expect("JSON");
                json!({
                    "field": r["field"],
                    "scope": text("scope"),
                    "payload": text("payload"),
                    "published": r["published"] == "yes",
                })
            })
            .collect()
    }

    /// The escalation opened for continuity signal `signal`, if any (read from the database).
    pub async fn escalation_of_signal(&self, signal: &str) -> Vec<escalation::Model> {
        use sea_orm::{ColumnTrait as _, QueryFilter as _};
        escalation::Entity::find()
            .filter(escalation::Column::SignalId.eq(signal))
            .all(self.conn())
            .await
            .expect("escalations read")
    }

    /// Starts the national-table subgraph only; its reference checker points at a closed port.
    pub async fn spawn_with_region_down() -> Self {
        let key = Arc::new(SigningKey::generate());
        let checker = RefChecker::new(closed_url(), region::AUDIENCE, key.signer());
        let (server, db) = start_national_table(key, checker).await;
        Self { server, region: None, db }
    }

    /// The stub region subgraph (panics when it is down).
    #[track_caller]
    pub fn region(&self) -> &StubSubgraph {
        self.region.as_ref().expect("the region subgraph runs")
    }

    /// Starts a GraphQL request to the national-table subgraph.
    pub fn graphql(&self, query: &str) -> GraphqlCall<'_> {
        self.server.graphql(query)
    }

    /// The national-table database connection.
    pub fn conn(&self) -> &DatabaseConnection {
        &self.db.db
    }

    /// SQL statements run on the national-table database so far.
    pub fn statement_count(&self) -> usize {
        self.db.statement_count()
    }

    /// Raises an escalation for utrecht as its chair (affecting `OFFER_A_CRISIS`); returns its id.
    pub async fn raise(&self) -> String {
        let resp = self
            .graphql(RAISE)
            .var("input", raise_input("utrecht", &[OFFER_A_CRISIS]))
            .as_caller(&chair())
            .send()
            .await;
        let e = &resp.data()["raiseEscalation"];
        assert_eq!(e["status"], "SUBMITTED");
        e["id"].as_str().expect("id").to_owned()
    }

    /// Moves an escalation as the national table.
    pub async fn transition(&self, id: &str, version: i64, input: Value) -> GraphqlResponse {
        self.graphql(TRANSITION)
            .var("id", id)
            .var("v", version)
            .var("input", input)
            .as_caller(&national_table())
            .send()
            .await
    }

    /// Moves an escalation as the national table, asserting success; returns the new version.
    pub async fn transition_ok(&self, id: &str, version: i64, input: Value) -> i64 {
        let resp = self.transition(id, version, input.clone()).await;
        let e = &resp.data()["transitionEscalation"];
        assert_eq!(e["status"], input["to"], "{:#}", resp.body);
        e["version"].as_i64().expect("version")
    }

    /// Adds a measure as the national table; returns it (`id`, `version`, …).
    pub async fn add_measure(&self, escalation: &str, due: &str) -> Value {
        let resp = self
            .graphql(ADD_MEASURE)
            .var("e", escalation)
            .var("input", measure_input(PROVIDER_A, due))
            .as_caller(&national_table())
            .send()
            .await;
        resp.data()["addMeasure"].clone()
    }

    /// A raised escalation taken into discussion: (id, version).
    pub async fn escalation_in_discussion(&self) -> (String, i64) {
        let id = self.raise().await;
        let v = self.transition_ok(&id, 1, json!({"to": "IN_DISCUSSION"})).await;
        (id, v)
    }

    /// An escalation with a measure agreed (decided): (id, version).
    pub async fn decided_escalation(&self) -> (String, i64) {
        let (id, v) = self.escalation_in_discussion().await;
        self.add_measure(&id, "2027-06-30").await;
        let v = self.transition_ok(&id, v, json!({"to": "MEASURE_AGREED", "publicSummary": PUBLIC_SUMMARY})).await;
        (id, v)
    }

    /// An escalation as the national table sees it (every field), or `null`.
    pub async fn escalation(&self, id: &str) -> Value {
        let resp = self.graphql(ESCALATION_FULL).var("id", id).as_caller(&national_table()).send().await;
        resp.data()["escalation"].clone()
    }

    /// Ids of the escalations `caller` finds in the `escalations` list.
    pub async fn listed_escalations(&self, caller: &TestCaller) -> Vec<String> {
        let resp = self.graphql("query { escalations(first: 100) { nodes { id } } }").as_caller(caller).send().await;
        ids(&resp.data()["escalations"]["nodes"])
    }

    /// Creates a supra-regional listing as the national table; returns it.
    pub async fn create_listing(&self, offer: Uuid, regions: &[&str], network: Option<&str>) -> Value {
        let resp = self
            .graphql(CREATE_LISTING)
            .var("input", listing_input(offer, regions, network))
            .as_caller(&national_table())
            .send()
            .await;
        resp.data()["createSupraRegionalListing"].clone()
    }

    /// Creates an expertise network (members: provider A and B) as the national table; returns it.
    pub async fn create_network(&self, name: &str) -> Value {
        let resp = self
            .graphql(CREATE_NETWORK)
            .var("input", network_input(name, &[PROVIDER_A, PROVIDER_B]))
            .as_caller(&national_table())
            .send()
            .await;
        resp.data()["createExpertiseNetwork"].clone()
    }

    /// Creates a national KPI as the national table; returns it.
    pub async fn create_kpi(&self, code: &str) -> Value {
        let resp = self.graphql(CREATE_KPI).var("input", kpi_input(code)).as_caller(&national_table()).send().await;
        resp.data()["createNationalKpi"].clone()
    }

    /// Rows in a national-table table.
    pub async fn count<E: EntityTrait>(&self) -> u64
    where
        E::Model: Sync,
    {
        E::find().count(self.conn()).await.expect("count runs")
    }

    /// Every audit entry written so far, oldest first (there is no audit query in this
    /// subgraph's schema: read the table directly).
    pub async fn audit_entries(&self) -> Vec<ggzhub_kit::audit::entry::Model> {
        use sea_orm::QueryOrder as _;
        ggzhub_kit::audit::entry::Entity::find()
            .order_by_asc(ggzhub_kit::audit::entry::Column::Id)
            .all(self.conn())
            .await
            .expect("audit log reads")
    }

    /// Inserts an escalation directly (bypassing the API and its reference checks).
    pub async fn insert_escalation(&self, region: &str, status: &str) -> String {
        let now = Utc::now();
        let id = Uuid::now_v7().to_string();
        escalation::ActiveModel {
            id: Set(id.clone()),
            region_code: Set(region.to_owned()),
            category: Set("ACUTE".to_owned()),
            target_group: Set("Adults with a psychiatric crisis".to_owned()),
            problem: Set(format!("{PROBLEM} ({region})")),
            region_tried: Set(REGION_TRIED.to_owned()),
            affected_offer_ids: Set(json!([])),
            urgency: Set("HIGH".to_owned()),
            status: Set(status.to_owned()),
            decline_reason: Set(None),
            public_summary: Set((status != "SUBMITTED" && status != "IN_DISCUSSION").then(|| PUBLIC_SUMMARY.to_owned())),
            raised_by: Set(PROVIDER_A.to_string()),
            raised_at: Set(now),
            decided_at: Set(None),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            created_by: Set(PROVIDER_A.to_string()),
            updated_by: Set(PROVIDER_A.to_string()),
            signal_id: Set(None),
        }
        .insert(self.conn())
        .await
        .expect("escalation inserts");
        id
    }

    /// Inserts a measure and a transition on an escalation directly.
    pub async fn insert_measure_and_transition(&self, escalation: &str) {
        let now = Utc::now();
        measure::ActiveModel {
            id: Set(Uuid::now_v7().to_string()),
            escalation_id: Set(escalation.to_owned()),
            title: Set("Extra crisis beds".to_owned()),
            description: Set("Two providers share a crisis bed pool.".to_owned()),
            owner_org_id: Set(PROVIDER_A.to_string()),
            due_date: Set(NaiveDate::from_ymd_opt(2027, 1, 31).expect("valid date")),
            status: Set("PLANNED".to_owned()),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            created_by: Set(NATIONAL_TABLE.to_string()),
            updated_by: Set(NATIONAL_TABLE.to_string()),
        }
        .insert(self.conn())
        .await
        .expect("measure inserts");
        transition::ActiveModel {
            id: Set(Uuid::now_v7().to_string()),
            escalation_id: Set(escalation.to_owned()),
            from_status: Set("SUBMITTED".to_owned()),
            to_status: Set("IN_DISCUSSION".to_owned()),
            by_org: Set(NATIONAL_TABLE.to_string()),
            by_subject: Set("test".to_owned()),
            at: Set(now),
            note: Set(String::new()),
        }
        .insert(self.conn())
        .await
        .expect("transition inserts");
    }

    /// Inserts an expertise network directly; returns its id.
    pub async fn insert_network(&self, name: &str) -> String {
        let now = Utc::now();
        let id = Uuid::now_v7().to_string();
        network::ActiveModel {
            id: Set(id.clone()),
            name: Set(name.to_owned()),
            target_group: Set("Eating disorders".to_owned()),
            member_org_ids: Set(json!([PROVIDER_A.to_string()])),
            consultation_contact: Set("Consultation desk of the network".to_owned()),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            created_by: Set(NATIONAL_TABLE.to_string()),
            updated_by: Set(NATIONAL_TABLE.to_string()),
        }
        .insert(self.conn())
        .await
        .expect("network inserts");
        id
    }

    /// Inserts a listing directly; returns its id.
    pub async fn insert_listing(&self, offer: &str, regions: &[&str], network: Option<&str>) -> String {
        let now = Utc::now();
        let id = Uuid::now_v7().to_string();
        listing::ActiveModel {
            id: Set(id.clone()),
            offer_id: Set(offer.to_owned()),
            target_group: Set("Adults with severe eating disorders".to_owned()),
            regions_served: Set(json!(regions)),
            hs8: Set(true),
            expertise_network_id: Set(network.map(str::to_owned)),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            created_by: Set(NATIONAL_TABLE.to_string()),
            updated_by: Set(NATIONAL_TABLE.to_string()),
        }
        .insert(self.conn())
        .await
        .expect("listing inserts");
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

async fn start_national_table(key: Arc<SigningKey>, checker: RefChecker) -> (TestServer, TestDb) {
    let db = TestDb::new().await;
    ggzhub_national_table::migration::Migrator::up(&db.db, None).await.expect("national-table migrations run");
    let app = ggzhub_national_table::app::router(
        db.db.clone(),
        Arc::new(key.verifier(ggzhub_national_table::AUDIENCE)),
        checker,
        HttpLimits::default(),
    );
    let server = TestServer::start(app, key, ggzhub_national_table::AUDIENCE).await;
    (server, db)
}

// Texts.
pub const PROBLEM: &str = "No crisis beds for adolescents within 50 km since the closure of a unit.";
pub const REGION_TRIED: &str = "Bed sharing with neighbouring regions; extra outreach capacity.";
pub const PUBLIC_SUMMARY: &str = "The national table agreed on a shared crisis bed pool for adolescents.";
pub const DECLINE_REASON: &str = "The region can solve this with its neighbours.";

// Operations.
pub const RAISE: &str = r#"mutation($input: RaiseEscalationInput!) { raiseEscalation(input: $input) {
    id regionCode status version urgency problem affectedOffers { id } raisedBy { id } decidedAt } }"#;
pub const TRANSITION: &str = r#"mutation($id: ID!, $v: Int!, $input: TransitionInput!) {
    transitionEscalation(id: $id, expectedVersion: $v, input: $input) {
        id status version publicSummary declineReason decidedAt transitions { from to by { id } at note } } }"#;
pub const ADD_MEASURE: &str = r#"mutation($e: ID!, $input: MeasureInput!) { addMeasure(escalationId: $e, input: $input) {
    id escalationId title status dueDate overdue owner { id } version } }"#;
pub const UPDATE_MEASURE: &str = r#"mutation($id: ID!, $v: Int!, $input: UpdateMeasureInput!) {
    updateMeasure(id: $id, expectedVersion: $v, input: $input) { id title status dueDate overdue version } }"#;
pub const CREATE_LISTING: &str = r#"mutation($input: ListingInput!) { createSupraRegionalListing(input: $input) {
    id offer { id } targetGroup regionsServed hs8 expertiseNetwork { id name } version } }"#;
pub const UPDATE_LISTING: &str = r#"mutation($id: ID!, $v: Int!, $input: UpdateListingInput!) {
    updateSupraRegionalListing(id: $id, expectedVersion: $v, input: $input) {
        id targetGroup regionsServed hs8 expertiseNetwork { id } version } }"#;
pub const REMOVE_LISTING: &str =
    "mutation($id: ID!, $v: Int!) { removeSupraRegionalListing(id: $id, expectedVersion: $v) }";
pub const CREATE_NETWORK: &str = r#"mutation($input: NetworkInput!) { createExpertiseNetwork(input: $input) {
    id name targetGroup members { id } consultationContact version } }"#;
pub const UPDATE_NETWORK: &str = r#"mutation($id: ID!, $v: Int!, $input: NetworkInput!) {
    updateExpertiseNetwork(id: $id, expectedVersion: $v, input: $input) { id name members { id } version } }"#;
pub const CREATE_KPI: &str = r#"mutation($input: KpiInput!) { createNationalKpi(input: $input) {
    code name definition unit direction targets { year value } version } }"#;
pub const UPDATE_KPI: &str = r#"mutation($code: String!, $v: Int!, $input: UpdateKpiInput!) {
    updateNationalKpi(code: $code, expectedVersion: $v, input: $input) { code name targets { year value } version } }"#;
pub const RECORD_MEASUREMENT: &str = r#"mutation($code: String!, $year: Int!, $region: String, $value: Float!) {
    recordKpiMeasurement(code: $code, year: $year, regionCode: $region, value: $value) {
        year regionCode value version } }"#;

/// Every field of an escalation, public and restricted.
pub const ESCALATION_FULL: &str = r#"query($id: ID!) { escalation(id: $id) {
    id regionCode region { code } category targetGroup status publicSummary raisedAt decidedAt version
    problem regionTried affectedOffers { id } urgency declineReason raisedBy { id }
    transitions { from to by { id } at note }
    measures { id title status dueDate overdue owner { id } version } } }"#;

/// The public fields of an escalation.
pub const ESCALATION_PUBLIC: &str = r#"query($id: ID!) { escalation(id: $id) {
    id regionCode category targetGroup status publicSummary decidedAt } }"#;

/// Input for `raiseEscalation`.
pub fn raise_input(region: &str, offers: &[Uuid]) -> Value {
    json!({
        "regionCode": region,
        "category": "ACUTE",
        "targetGroup": "Adolescents in acute crisis",
        "problem": PROBLEM,
        "regionTried": REGION_TRIED,
        "affectedOfferIds": offers.iter().map(Uuid::to_string).collect::<Vec<_>>(),
        "urgency": "HIGH",
    })
}

/// Input for `addMeasure`.
pub fn measure_input(owner: Uuid, due: &str) -> Value {
    json!({
        "title": "Shared crisis bed pool",
        "description": "Providers in utrecht and amsterdam share four crisis beds for adolescents.",
        "ownerOrganisationId": owner.to_string(),
        "dueDate": due,
    })
}

/// Input for `createSupraRegionalListing`.
pub fn listing_input(offer: Uuid, regions: &[&str], network: Option<&str>) -> Value {
    json!({
        "offerId": offer.to_string(),
        "targetGroup": "Adults with severe eating disorders",
        "regionsServed": regions,
        "hs8": true,
        "expertiseNetworkId": network,
    })
}

/// Input for `createExpertiseNetwork`.
pub fn network_input(name: &str, members: &[Uuid]) -> Value {
    json!({
        "name": name,
        "targetGroup": "Eating disorders",
        "memberOrganisationIds": members.iter().map(Uuid::to_string).collect::<Vec<_>>(),
        "consultationContact": "Consultation desk of the network (office hours)",
    })
}

/// Input for `createNationalKpi`.
pub fn kpi_input(code: &str) -> Value {
    json!({
        "code": code,
        "name": "Regions with a complete regional overview",
        "definition": "Share of IZA regions that published a regional overview for the year.",
        "unit": "percent",
        "direction": "HIGHER_IS_BETTER",
        "targets": [{"year": 2025, "value": 50.0}, {"year": 2026, "value": 80.0}, {"year": 2027, "value": 100.0}],
    })
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

/// Asserts `field` at `path` is present as `null` with `FORBIDDEN` at that path.
#[track_caller]
pub fn assert_field_forbidden(resp: &GraphqlResponse, path: &[&str]) {
    assert_eq!(
        resp.error_code_at(path),
        Some("FORBIDDEN".to_owned()),
        "expected FORBIDDEN at {path:?}: {:#}",
        resp.body
    );
    let mut node = &resp.body["data"];
    for seg in path {
        node = match seg.parse::<usize>() {
            Ok(i) => &node[i],
            Err(_) => {
                assert!(node.get(*seg).is_some(), "{seg} must be present (as null) in {path:?}: {:#}", resp.body);
                &node[*seg]
            }
        };
    }
    assert!(node.is_null(), "{path:?} must be null: {:#}", resp.body);
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
pub fn sorted(ids: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ids.iter().map(|s| (*s).to_owned()).collect();
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

/// What the stub region subgraph knows: the organisations of the personas above, utrecht,
/// amsterdam and groningen, and four care offers. `UNKNOWN_ORG`, `UNKNOWN_OFFER` and any other
/// region code (`atlantis`) are unknown to it.
pub fn region_fixture() -> RegionFixture {
    let orgs: [(Uuid, &str, OrgKind, &[&str]); 8] = [
        (PROVIDER_A, "GGZ Aanbieder A", OrgKind::Provider, &["utrecht"]),
        (PROVIDER_B, "GGZ Aanbieder B", OrgKind::Provider, &["amsterdam"]),
        (INSURER_X, "Zorgverzekeraar X", OrgKind::Insurer, &["utrecht"]),
        (INSURER_Y, "Zorgverzekeraar Y", OrgKind::Insurer, &["amsterdam"]),
        (PATIENT_ORG, "Patiëntenplatform Utrecht", OrgKind::PatientOrganisation, &["utrecht"]),
        (MUNICIPALITY, "Gemeente Utrecht", OrgKind::Municipality, &["utrecht"]),
        (NATIONAL_TABLE, "Landelijke tafel cruciale ggz", OrgKind::NationalTable, &[]),
        (OPERATOR, "ggzhub beheer", OrgKind::HubOperator, &[]),
    ];
    let fixture = orgs
        .into_iter()
        .fold(RegionFixture::new(), |f, (id, name, kind, regions)| f.organisation(id, name, kind, regions));
    fixture
        .region("utrecht", "Utrecht", "IZA", &["amsterdam"], Some(INSURER_X))
        .region("amsterdam", "Amsterdam", "IZA", &["utrecht", "groningen"], Some(INSURER_Y))
        .region("groningen", "Groningen", "CARE_OFFICE", &["amsterdam"], None)
        .offer(OfferFixture::new(
            OFFER_A_CRISIS,
            PROVIDER_A,
            "utrecht",
            "ACUTE",
            "CRISIS_SERVICE",
            "Crisisdienst Utrecht-Stad",
        ))
        .offer(OfferFixture::new(OFFER_A_FACT, PROVIDER_A, "utrecht", "OUTREACH", "FACT", "FACT-team Zeist"))
        .offer(
            OfferFixture::new(
                OFFER_A_HS8,
                PROVIDER_A,
                "utrecht",
                "SPECIALIST_MHC",
                "ZPM_SETTING_8",
                "Centrum Eetstoornissen",
            )
            .serving(&["utrecht", "amsterdam", "groningen"]),
        )
        .offer(OfferFixture::new(OFFER_B_HIC, PROVIDER_B, "amsterdam", "ACUTE", "HIC", "HIC Amsterdam-West"))
}

/// An `ESCALATED` continuity-signal event as the region subgraph records it, for `signal` in
/// utrecht, escalated by its chair (provider A); `id` is the event id (`region:<outbox id>`).
pub fn escalated_event(id: &str, signal: &str) -> Event {
    Event {
        id: id.to_owned(),
        subgraph: "region".to_owned(),
        field: "signalEvents".to_owned(),
        scope: [("region".to_owned(), "utrecht".to_owned())].into(),
        audience: None,
        payload: json!({
            "kind": "ESCALATED",
            "signalId": signal,
            "regionCode": "utrecht",
            "category": "ACUTE",
            "summary": SIGNAL_SUMMARY,
            "escalatedBy": PROVIDER_A.to_string(),
        }),
        occurred_at: Utc::now(),
    }
}

/// The description of the escalated signals in [`escalated_event`].
pub const SIGNAL_SUMMARY: &str = "The crisis team loses three of its five psychiatrists in March.";

/// Waits (up to 10 s) until `done` holds, checking every 20 ms; panics naming `what` otherwise.
pub async fn wait_until<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !done().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
