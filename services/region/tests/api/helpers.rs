//! The test harness: a region subgraph on 127.0.0.1:0 with a database of its own (SQLite in
//! memory, or a fresh PostgreSQL schema when `DATABASE_URL` is set), a small fixture inserted
//! directly, and one `TestCaller` per persona of the access matrix.
//!
//! The fixture never reads the demo files: every test knows exactly what the database holds.
//!
//! A note on "null + FORBIDDEN": async-graphql 7.2.1 leaves a field whose resolver failed out of
//! its object; `ggzhub_kit::graphql::fill_error_nulls` puts it back as `null` (GraphQL spec
//! §6.4.4). The offer tests assert the key is present; everywhere the error's code is checked at
//! the field's path as well.
//!
//! | persona            | kind                 | tables at | notes                                  |
//! |--------------------|----------------------|-----------|----------------------------------------|
//! | `provider_a`       | PROVIDER             | utrecht   | owns the two utrecht offers            |
//! | `provider_b`       | PROVIDER             | amsterdam | owns the amsterdam offer               |
//! | `provider_c`       | PROVIDER             | utrecht   | no offers; `chair()` is C as chair      |
//! | `insurer_x`        | INSURER              | utrecht   | coordinating insurer of utrecht         |
//! | `insurer_y`        | INSURER              | amsterdam | coordinating insurer of amsterdam       |
//! | `patient_org`      | PATIENT_ORGANISATION | utrecht   | has input on the published overview    |
//! | `patient_org_2`    | PATIENT_ORGANISATION | utrecht   | has input on the published overview    |
//! | `municipality`     | MUNICIPALITY         | utrecht   |                                        |
//! | `national_table`   | NATIONAL_TABLE       | –         |                                        |
//! | `operator`         | HUB_OPERATOR         | –         |                                        |

#![allow(dead_code)] // Not every test module uses every helper.

use std::sync::Arc;

use chrono::{Duration, NaiveDate, Utc};
use ggzhub_kit::OrgKind;
use ggzhub_kit::SigningKey;
use ggzhub_kit::events::{Delivered, EventBus};
use ggzhub_kit::server::HttpLimits;
use ggzhub_kit::testing::{GraphqlCall, GraphqlResponse, TestCaller, TestDb, TestServer};
use ggzhub_region::app::Events;
use ggzhub_region::entity::{
    care_form, care_offer, diagnosis_group, organisation, overview, patient_input, region, signal, waiting_time,
};
use ggzhub_region::migration::Migrator;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection};
use sea_orm_migration::MigratorTrait;
use serde_json::{Value, json};
use uuid::Uuid;

/// `ggzhub_kit::leaf::set_plain_path` switches the whole process, and `cargo test` runs a
/// binary's tests side by side (nextest runs each in a process of its own): a test that turns
/// the plain path off holds this lock for writing, and one whose statement count holds only on
/// the plain path (an offer's `region { code }` answered from its row) holds it for reading.
pub static PLAIN_PATH: std::sync::LazyLock<tokio::sync::RwLock<()>> =
    std::sync::LazyLock::new(|| tokio::sync::RwLock::new(()));

// Organisations.
pub const PROVIDER_A: Uuid = Uuid::from_u128(0xa1);
pub const PROVIDER_B: Uuid = Uuid::from_u128(0xb1);
pub const PROVIDER_C: Uuid = Uuid::from_u128(0xc1);
pub const INSURER_X: Uuid = Uuid::from_u128(0x1a);
pub const INSURER_Y: Uuid = Uuid::from_u128(0x1b);
pub const PATIENT_ORG: Uuid = Uuid::from_u128(0x2a);
pub const PATIENT_ORG_2: Uuid = Uuid::from_u128(0x2b);
pub const MUNICIPALITY: Uuid = Uuid::from_u128(0x3a);
pub const NATIONAL_TABLE: Uuid = Uuid::from_u128(0x4a);
pub const OPERATOR: Uuid = Uuid::from_u128(0x5a);

// Care offers.
/// Provider A, utrecht, ACUTE / CRISIS_SERVICE, 2 teams, 14.5 FTE, with inclusion criteria.
pub const OFFER_A_CRISIS: Uuid = Uuid::from_u128(0x0f_a1_01);
/// Provider A, utrecht, OUTREACH / FACT, under pressure, with an intake pause.
pub const OFFER_A_FACT: Uuid = Uuid::from_u128(0x0f_a1_02);
/// Provider B, amsterdam, ACUTE / HIC, 16 beds.
pub const OFFER_B_HIC: Uuid = Uuid::from_u128(0x0f_b1_01);

// Regional overviews.
/// Utrecht 2025, published.
pub const OVERVIEW_PUBLISHED: Uuid = Uuid::from_u128(0x0e_20_25);
/// Utrecht 2026, draft.
pub const OVERVIEW_DRAFT: Uuid = Uuid::from_u128(0x0e_20_26);
pub const PUBLISHED_YEAR: i32 = 2025;
pub const DRAFT_YEAR: i32 = 2026;
pub const PUBLISHED_SUMMARY: &str = "Utrecht has crisis care around the clock; outreach capacity is under pressure.";
pub const PUBLISHED_NOTES: &str = "Provider A considers merging two FACT teams in 2026.";
pub const DRAFT_SUMMARY: &str = "Draft: outreach care remains under pressure.";
pub const DRAFT_NOTES: &str = "Budget talks with provider A are pending.";

// Patient inputs on the published overview.
pub const INPUT_PATIENT_ORG: Uuid = Uuid::from_u128(0x0d_2a);
pub const INPUT_PATIENT_ORG_2: Uuid = Uuid::from_u128(0x0d_2b);

// Continuity signals.
/// On OFFER_A_FACT (utrecht): OPEN and past its acknowledgement deadline.
pub const SIGNAL_UTRECHT_OPEN: Uuid = Uuid::from_u128(0x05_01);
/// On OFFER_A_CRISIS (utrecht): ESCALATED.
pub const SIGNAL_UTRECHT_ESCALATED: Uuid = Uuid::from_u128(0x05_02);
/// On OFFER_B_HIC (amsterdam): OPEN.
pub const SIGNAL_AMSTERDAM_OPEN: Uuid = Uuid::from_u128(0x05_03);

// Waiting-time reports of provider A in utrecht, 2026-01.
/// Within the Treeknorm.
pub const WAIT_WITHIN_NORM: Uuid = Uuid::from_u128(0x07_01);
/// Exceeding the Treeknorm (6 weeks to intake).
pub const WAIT_EXCEEDING_NORM: Uuid = Uuid::from_u128(0x07_02);

pub fn provider_a() -> TestCaller {
    TestCaller::new(OrgKind::Provider, PROVIDER_A, &["utrecht"])
}
pub fn provider_b() -> TestCaller {
    TestCaller::new(OrgKind::Provider, PROVIDER_B, &["amsterdam"])
}
pub fn provider_c() -> TestCaller {
    TestCaller::new(OrgKind::Provider, PROVIDER_C, &["utrecht"])
}
/// Provider C chairing the utrecht table (it owns no offer and raised no signal).
pub fn chair() -> TestCaller {
    provider_c().with_role("chair:utrecht")
}
pub fn insurer_x() -> TestCaller {
    TestCaller::new(OrgKind::Insurer, INSURER_X, &["utrecht"])
}
pub fn insurer_y() -> TestCaller {
    TestCaller::new(OrgKind::Insurer, INSURER_Y, &["amsterdam"])
}
pub fn patient_org() -> TestCaller {
    TestCaller::new(OrgKind::PatientOrganisation, PATIENT_ORG, &["utrecht"])
}
pub fn patient_org_2() -> TestCaller {
    TestCaller::new(OrgKind::PatientOrganisation, PATIENT_ORG_2, &["utrecht"])
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

/// Every persona with a label for assertion messages.
pub fn all_personas() -> Vec<(&'static str, TestCaller)> {
    vec![
        ("provider A", provider_a()),
        ("provider B", provider_b()),
        ("provider C", provider_c()),
        ("chair", chair()),
        ("insurer X", insurer_x()),
        ("insurer Y", insurer_y()),
        ("patient organisation", patient_org()),
        ("patient organisation 2", patient_org_2()),
        ("municipality", municipality()),
        ("national table", national_table()),
        ("hub operator", operator()),
    ]
}

/// A running region subgraph with its own database and fixture.
pub struct TestApp {
    /// The service (dropped first: shuts the server down).
    pub server: TestServer,
    /// The database (dropped last: a PostgreSQL schema is dropped with it).
    pub db: TestDb,
}

impl TestApp {
    /// Creates the database, runs the migrations, inserts the fixture and starts the service.
    pub async fn spawn() -> Self {
        Self::spawn_with_contracting(Arc::new(SigningKey::generate()), None).await
    }

    /// Like [`spawn`](Self::spawn), trusting `key` and, with `contracting_url`, asking the
    /// contracting subgraph there (audience `contracting`, tokens signed with `key`) which offers
    /// an insurer contracts.
    pub async fn spawn_with_contracting(key: Arc<SigningKey>, contracting_url: Option<String>) -> Self {
        Self::spawn_with(key, contracting_url, None).await
    }

    /// Like [`spawn`](Self::spawn), with events: the outbox relay publishes to `bus` and the
    /// deadline sweep runs at start (and then hourly, i.e. not again during a test).
    pub async fn spawn_with_events(bus: Arc<dyn EventBus>) -> Self {
        Self::spawn_with(Arc::new(SigningKey::generate()), None, Some(bus)).await
    }

    /// Like [`spawn`](Self::spawn), with the calendar's "now" pinned by `clock`.
    pub async fn spawn_at(clock: ggzhub_kit::calendar::Clock) -> Self {
        let key = Arc::new(SigningKey::generate());
        let db = TestDb::new().await;
        Migrator::up(&db.db, None).await.expect("migrations run");
        insert_fixture(&db.db).await;
        let verifier = Arc::new(key.verifier(ggzhub_region::AUDIENCE));
        let app = ggzhub_region::app::router_at(db.db.clone(), verifier, HttpLimits::default(), clock);
        let server = TestServer::start(app, key, ggzhub_region::AUDIENCE).await;
        Self { server, db }
    }

    /// The general form: contracting asked at `contracting_url`, events published to `bus`.
    pub async fn spawn_with(
        key: Arc<SigningKey>,
        contracting_url: Option<String>,
        bus: Option<Arc<dyn EventBus>>,
    ) -> Self {
        let db = TestDb::new().await;
        Migrator::up(&db.db, None).await.expect("migrations run");
        insert_fixture(&db.db).await;
        let contracting = contracting_url.map(|url| {
            ggzhub_region::contracted::ContractingClient::new(ggzhub_kit::refs::RefChecker::new(
                url,
                "contracting",
                key.signer(),
            ))
        });
        let verifier = Arc::new(key.verifier(ggzhub_region::AUDIENCE));
        let app = match bus {
            None => {
                ggzhub_region::app::router_with_contracting(db.db.clone(), verifier, contracting, HttpLimits::default())
            }
            Some(bus) => ggzhub_region::app::router_with_events(
                db.db.clone(),
                verifier,
                contracting,
                Events { bus, sweep_every: std::time::Duration::from_secs(3600) },
                HttpLimits::default(),
            ),
        };
        let server = TestServer::start(app, key, ggzhub_region::AUDIENCE).await;
        Self { server, db }
    }

    /// Starts a GraphQL request (shorthand for `self.server.graphql`).
    pub fn graphql(&self, query: &str) -> GraphqlCall<'_> {
        self.server.graphql(query)
    }

    /// SQL statements run on the database so far.
    pub fn statement_count(&self) -> usize {
        self.db.statement_count()
    }

    /// A care offer as the national table sees it (every field readable), or `null`.
    pub async fn offer(&self, id: impl ToString) -> Value {
        let resp = self.graphql(OFFER_AS_SEEN).var("id", id.to_string()).as_caller(&national_table()).send().await;
        resp.data()["careOffer"].clone()
    }

    /// A continuity signal as its provider sees it, or `null`.
    pub async fn signal_as(&self, caller: &TestCaller, id: impl ToString) -> Value {
        let resp = self
            .graphql("query { continuitySignals(first: 100) { nodes { id status version acknowledgedBy } } }")
            .as_caller(caller)
            .send()
            .await;
        let id = id.to_string();
        resp.data()["continuitySignals"]["nodes"]
            .as_array()
            .and_then(|nodes| nodes.iter().find(|n| n["id"] == id.as_str()))
            .cloned()
            .unwrap_or(Value::Null)
    }

    /// A regional overview as the national table sees it (drafts and notes too).
    pub async fn overview(&self, id: impl ToString) -> Value {
        let resp = self
            .graphql(
                r#"query($r: [_Any!]!) { _entities(representations: $r) {
                    ... on RegionalOverview { id status version publicSummary confidentialNotes publishedAt } } }"#,
            )
            .var("r", json!([{ "__typename": "RegionalOverview", "id": id.to_string() }]))
            .as_caller(&national_table())
            .send()
            .await;
        resp.data()["_entities"][0].clone()
    }

    /// The audit entries `caller` may read, newest first.
    pub async fn audit_log(&self, caller: &TestCaller) -> Vec<Value> {
        let resp = self
            .graphql("query { auditLog(first: 100) { nodes { organisationId entity entityId action change } } }")
            .as_caller(caller)
            .send()
            .await;
        resp.data()["auditLog"]["nodes"].as_array().cloned().unwrap_or_default()
    }

    /// Number of audit entries in the whole log (as the national table reads it).
    pub async fn audit_count(&self) -> usize {
        self.audit_log(&national_table()).await.len()
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

    /// Sends `query` as the gateway does to resolve a subscription for one event: with
    /// `extensions.ggzhubEvent` = `delivered`, as `caller`.
    pub async fn deliver(
        &self,
        caller: &TestCaller,
        query: &str,
        variables: Value,
        delivered: &Delivered,
    ) -> GraphqlResponse {
        let body = json!({
            "query": query,
            "variables": variables,
            "extensions": { "ggzhubEvent": serde_json::to_value(delivered).expect("an event serializes") },
        });
        self.post_raw(caller, &body).await
    }

    /// POSTs `body` to `/graphql` as `caller`.
    pub async fn post_raw(&self, caller: &TestCaller, body: &Value) -> GraphqlResponse {
        let resp = self
            .server
            .client()
            .post(self.server.url("/graphql"))
            .bearer_auth(self.server.token(caller))
            .json(body)
            .send()
            .await
            .expect("request reaches the test server");
        let status = resp.status().as_u16();
        GraphqlResponse { status, body: resp.json().await.expect("response is JSON") }
    }

    /// The outbox rows, in id order.
    pub async fn outbox(&self) -> Vec<OutboxRow> {
        use sea_orm::{ConnectionTrait as _, Statement};
        let db = &self.db.db;
        let rows = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT id, field, scope, payload, published_at FROM outbox ORDER BY id",
            ))
            .await
            .expect("the outbox reads");
        rows.iter()
            .map(|r| OutboxRow {
                id: r.try_get("", "id").expect("id"),
                field: r.try_get("", "field").expect("field"),
                scope: serde_json::from_str(&r.try_get::<String>("", "scope").expect("scope")).expect("scope is JSON"),
                payload: serde_json::from_str(&r.try_get::<String>("", "payload").expect("payload"))
                    .expect("payload is JSON"),
                published: r
                    .try_get::<Option<chrono::DateTime<Utc>>>("", "published_at")
                    .expect("published_at")
                    .is_some(),
            })
            .collect()
    }

    /// Inserts one more care offer directly (bypassing the API), returning its id.
    pub async fn insert_offer(&self, provider: Uuid, region: &str, form: &str, unit_name: &str) -> String {
        let category = match form {
            "CRISIS_SERVICE" | "HIC" => "ACUTE",
            "FACT" => "OUTREACH",
            _ => "CLINICAL",
        };
        let id = Uuid::now_v7().to_string();
        offer_row(&id, provider, region, category, form, unit_name).insert(&self.db.db).await.expect("offer inserts");
        id
    }
}

/// One row of the outbox table.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub id: i64,
    pub field: String,
    pub scope: Value,
    pub payload: Value,
    pub published: bool,
}

/// Everything a care offer shows, public and restricted.
pub const OFFER_AS_SEEN: &str = r#"query($id: ID!) { careOffer(id: $id) {
    id unitName location status availability supraRegional regionsServed version
    provider { id } region { code } category careForm { code }
    intakePause { from until reason }
    capacity { beds places teams fte } inclusionCriteria } }"#;

/// Asserts the request failed as a whole with 401 `UNAUTHENTICATED` and carries no data.
#[track_caller]
pub fn assert_unauthenticated(resp: &GraphqlResponse) {
    assert_eq!(resp.status, 401, "expected HTTP 401, got {} {:#}", resp.status, resp.body);
    assert_eq!(resp.error_codes(), vec!["UNAUTHENTICATED".to_owned()], "{:#}", resp.body);
    assert!(resp.body.get("data").is_none_or(Value::is_null), "a refused request carries no data: {:#}", resp.body);
}

/// Asserts the operation failed with `code` and its root field is `null` (or data is absent).
#[track_caller]
pub fn assert_refused(resp: &GraphqlResponse, field: &str, code: &str) {
    assert_eq!(resp.error_code_at(&[field]), Some(code.to_owned()), "expected {code} at {field}: {:#}", resp.body);
    assert!(resp.body["data"][field].is_null(), "{field} must be null when refused: {:#}", resp.body);
}

/// The set of `id`s in a connection's `nodes`.
pub fn ids(nodes: &Value) -> Vec<String> {
    let mut ids: Vec<String> = nodes
        .as_array()
        .map(|a| a.iter().filter_map(|n| n["id"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    ids.sort();
    ids
}

/// Sorted id strings.
pub fn id_list(ids: &[Uuid]) -> Vec<String> {
    let mut v: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    v.sort();
    v
}

async fn insert_fixture(db: &DatabaseConnection) {
    let orgs: [(Uuid, &str, OrgKind, &[&str]); 10] = [
        (PROVIDER_A, "GGZ Aanbieder A", OrgKind::Provider, &["utrecht"]),
        (PROVIDER_B, "GGZ Aanbieder B", OrgKind::Provider, &["amsterdam"]),
        (PROVIDER_C, "GGZ Aanbieder C", OrgKind::Provider, &["utrecht"]),
        (INSURER_X, "Zorgverzekeraar X", OrgKind::Insurer, &["utrecht"]),
        (INSURER_Y, "Zorgverzekeraar Y", OrgKind::Insurer, &["amsterdam"]),
        (PATIENT_ORG, "Patiëntenplatform Utrecht", OrgKind::PatientOrganisation, &["utrecht"]),
        (PATIENT_ORG_2, "Cliëntenraad Utrecht", OrgKind::PatientOrganisation, &["utrecht"]),
        (MUNICIPALITY, "Gemeente Utrecht", OrgKind::Municipality, &["utrecht"]),
        (NATIONAL_TABLE, "Landelijke tafel cruciale ggz", OrgKind::NationalTable, &[]),
        (OPERATOR, "ggzhub beheer", OrgKind::HubOperator, &[]),
    ];
    let now = Utc::now();
    for (i, (id, name, kind, regions)) in orgs.into_iter().enumerate() {
        let digits = format!("{:08}", 10_000_000 + i);
        organisation::ActiveModel {
            id: Set(id.to_string()),
            name: Set(name.to_owned()),
            kind: Set(kind.as_str().to_owned()),
            kvk: Set(Some(digits.clone())),
            ura: Set((kind == OrgKind::Provider).then(|| digits.clone())),
            agb: Set((kind == OrgKind::Provider).then(|| digits.clone())),
            uzovi: Set((kind == OrgKind::Insurer).then(|| format!("{:04}", 3000 + i))),
            regions: Set(json!(regions)),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            created_by: Set(OPERATOR.to_string()),
            updated_by: Set(OPERATOR.to_string()),
        }
        .insert(db)
        .await
        .expect("organisation inserts");
    }

    /// Code, name, kind, neighbours, coordinating insurer.
    type RegionRow = (&'static str, &'static str, &'static str, &'static [&'static str], Option<Uuid>);
    let regions: [RegionRow; 3] = [
        ("utrecht", "Utrecht", "IZA", &["amsterdam"], Some(INSURER_X)),
        ("amsterdam", "Amsterdam", "IZA", &["utrecht", "groningen"], Some(INSURER_Y)),
        ("groningen", "Groningen", "CARE_OFFICE", &["amsterdam"], None),
    ];
    for (code, name, kind, neighbours, insurer) in regions {
        region::ActiveModel {
            code: Set(code.to_owned()),
            name: Set(name.to_owned()),
            kind: Set(kind.to_owned()),
            neighbours: Set(json!(neighbours)),
            coordinating_insurer_id: Set(insurer.map(|u| u.to_string())),
            map_row: Set(None),
            map_column: Set(None),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            created_by: Set(OPERATOR.to_string()),
            updated_by: Set(OPERATOR.to_string()),
        }
        .insert(db)
        .await
        .expect("region inserts");
    }

    for (code, category, name) in [
        ("CRISIS_SERVICE", "ACUTE", "Crisisdienst"),
        ("HIC", "ACUTE", "High Intensive Care"),
        ("FACT", "OUTREACH", "Flexible ACT"),
        ("CLINICAL_ADMISSION", "CLINICAL", "Opname in een ggz-instelling"),
    ] {
        care_form::ActiveModel {
            code: Set(code.to_owned()),
            category: Set(category.to_owned()),
            name: Set(name.to_owned()),
            description: Set(format!("{name} (test fixture)")),
            region_code: Set(None),
            motivation: Set(None),
            version: Set(1),
            created_at: Set(chrono::Utc::now()),
            updated_at: Set(chrono::Utc::now()),
            created_by: Set(OPERATOR.to_string()),
            updated_by: Set(OPERATOR.to_string()),
            retired_at: Set(None),
            retirement_reason: Set(None),
        }
        .insert(db)
        .await
        .expect("care form inserts");
    }
    for (code, name) in [("DEPRESSION", "Depressieve stemmingsstoornissen"), ("ANXIETY", "Angststoornissen")] {
        diagnosis_group::ActiveModel { code: Set(code.to_owned()), name: Set(name.to_owned()) }
            .insert(db)
            .await
            .expect("diagnosis group inserts");
    }

    let mut crisis = offer_row(
        &OFFER_A_CRISIS.to_string(),
        PROVIDER_A,
        "utrecht",
        "ACUTE",
        "CRISIS_SERVICE",
        "Crisisdienst Utrecht-Stad",
    );
    crisis.teams = Set(Some(2));
    crisis.fte = Set(Some(14.5));
    crisis.inclusion_criteria = Set(Some("Acute psychiatric crisis, 18 years and older".to_owned()));
    crisis.insert(db).await.expect("offer inserts");
    let mut fact = offer_row(&OFFER_A_FACT.to_string(), PROVIDER_A, "utrecht", "OUTREACH", "FACT", "FACT-team Zeist");
    fact.location = Set("Zeist".to_owned());
    fact.teams = Set(Some(1));
    fact.fte = Set(Some(9.0));
    fact.availability = Set("OFFICE_HOURS".to_owned());
    fact.status = Set("UNDER_PRESSURE".to_owned());
    fact.intake_pause_from = Set(Some(NaiveDate::from_ymd_opt(2026, 1, 1).expect("valid date")));
    fact.intake_pause_reason = Set(Some("Staff shortage".to_owned()));
    fact.insert(db).await.expect("offer inserts");
    let mut hic = offer_row(&OFFER_B_HIC.to_string(), PROVIDER_B, "amsterdam", "ACUTE", "HIC", "HIC Amsterdam-West");
    hic.location = Set("Amsterdam".to_owned());
    hic.beds = Set(Some(16));
    hic.inclusion_criteria = Set(Some("High-intensive care, 18 years and older".to_owned()));
    hic.insert(db).await.expect("offer inserts");

    let assessments = json!([{
        "category": "ACUTE",
        "whatWeHave": "A crisis service around the clock.",
        "problems": "Staff shortage in outreach teams.",
        "missing": "Acute day treatment.",
        "coveredByNeighbour": "amsterdam",
        "supraRegionalRole": "None."
    }]);
    for (id, year, status, summary, notes) in [
        (OVERVIEW_PUBLISHED, PUBLISHED_YEAR, "PUBLISHED", PUBLISHED_SUMMARY, PUBLISHED_NOTES),
        (OVERVIEW_DRAFT, DRAFT_YEAR, "DRAFT", DRAFT_SUMMARY, DRAFT_NOTES),
    ] {
        overview::ActiveModel {
            id: Set(id.to_string()),
            region_code: Set("utrecht".to_owned()),
            year: Set(year),
            status: Set(status.to_owned()),
            public_summary: Set(summary.to_owned()),
            confidential_notes: Set(notes.to_owned()),
            assessments: Set(assessments.clone()),
            published_at: Set((status == "PUBLISHED").then_some(now)),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            created_by: Set(PROVIDER_A.to_string()),
            updated_by: Set(PROVIDER_A.to_string()),
        }
        .insert(db)
        .await
        .expect("overview inserts");
    }
    for (id, org, text) in [
        (INPUT_PATIENT_ORG, PATIENT_ORG, "Crisis care must stay reachable by phone around the clock."),
        (INPUT_PATIENT_ORG_2, PATIENT_ORG_2, "Clients miss outreach care in the evening."),
    ] {
        patient_input::ActiveModel {
            id: Set(id.to_string()),
            overview_id: Set(OVERVIEW_PUBLISHED.to_string()),
            organisation_id: Set(org.to_string()),
            text: Set(text.to_owned()),
            internal: Set(false),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            created_by: Set(org.to_string()),
            updated_by: Set(org.to_string()),
        }
        .insert(db)
        .await
        .expect("patient input inserts");
    }

    for (id, offer, provider, region, kind, severity, status, raised_days_ago) in [
        (SIGNAL_UTRECHT_OPEN, OFFER_A_FACT, PROVIDER_A, "utrecht", "STAFFING", "HIGH", "OPEN", 20),
        (SIGNAL_UTRECHT_ESCALATED, OFFER_A_CRISIS, PROVIDER_A, "utrecht", "FINANCE", "CRITICAL", "ESCALATED", 40),
        (SIGNAL_AMSTERDAM_OPEN, OFFER_B_HIC, PROVIDER_B, "amsterdam", "HOUSING", "MEDIUM", "OPEN", 1),
    ] {
        let raised = now - Duration::days(raised_days_ago);
        signal::ActiveModel {
            id: Set(id.to_string()),
            offer_id: Set(offer.to_string()),
            provider_id: Set(provider.to_string()),
            region_code: Set(region.to_owned()),
            kind: Set(kind.to_owned()),
            severity: Set(severity.to_owned()),
            description: Set(format!("{kind} puts the continuity of this unit at risk")),
            expected_date: Set(None),
            status: Set(status.to_owned()),
            raised_at: Set(raised),
            acknowledgement_deadline: Set(raised + Duration::days(14)),
            acknowledged_at: Set(None),
            acknowledged_by: Set(None),
            response: Set(None),
            overdue_emitted_at: Set(None),
            version: Set(1),
            created_at: Set(raised),
            updated_at: Set(raised),
            created_by: Set(provider.to_string()),
            updated_by: Set(provider.to_string()),
        }
        .insert(db)
        .await
        .expect("signal inserts");
    }

    for (id, location, group, registration, treatment, count) in [
        (WAIT_WITHIN_NORM, "Utrecht", "DEPRESSION", 3.0, 6.0, 40),
        (WAIT_EXCEEDING_NORM, "Zeist", "ANXIETY", 6.0, 9.0, 25),
    ] {
        waiting_time::ActiveModel {
            id: Set(id.to_string()),
            provider_id: Set(PROVIDER_A.to_string()),
            region_code: Set("utrecht".to_owned()),
            location: Set(location.to_owned()),
            diagnosis_group: Set(group.to_owned()),
            month: Set("2026-01".to_owned()),
            registration_weeks: Set(registration),
            treatment_weeks: Set(treatment),
            waiting_count: Set(count),
            // Intakes and treatment starts on the report within the norm only (5: a small cell).
            intakes: Set((id == WAIT_WITHIN_NORM).then_some(12)),
            treatment_starts: Set((id == WAIT_WITHIN_NORM).then_some(5)),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            created_by: Set(PROVIDER_A.to_string()),
            updated_by: Set(PROVIDER_A.to_string()),
        }
        .insert(db)
        .await
        .expect("waiting time inserts");
    }
}

/// An offer row with defaults (24/7, SECURED, no capacity, no criteria, no pause).
fn offer_row(
    id: &str,
    provider: Uuid,
    region: &str,
    category: &str,
    form: &str,
    unit_name: &str,
) -> care_offer::ActiveModel {
    let now = Utc::now();
    care_offer::ActiveModel {
        id: Set(id.to_owned()),
        provider_id: Set(provider.to_string()),
        region_code: Set(region.to_owned()),
        category: Set(category.to_owned()),
        care_form: Set(form.to_owned()),
        unit_name: Set(unit_name.to_owned()),
        location: Set("Utrecht".to_owned()),
        beds: Set(None),
        places: Set(None),
        teams: Set(None),
        fte: Set(None),
        availability: Set("TWENTY_FOUR_SEVEN".to_owned()),
        status: Set("SECURED".to_owned()),
        supra_regional: Set(false),
        regions_served: Set(json!([region])),
        inclusion_criteria: Set(None),
        intake_pause_from: Set(None),
        intake_pause_until: Set(None),
        intake_pause_reason: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        created_by: Set(provider.to_string()),
        updated_by: Set(provider.to_string()),
    }
}

// Issue 21 item 3: the closing process.
impl TestApp {
    /// Makes `offer`'s closure announced and due today, directly in the database (bypassing the
    /// region's notice period): status `CLOSING` with today as planned date, version unchanged,
    /// so that `closeCareOffer` with the version read before closes it.
    pub async fn closure_due(&self, offer: impl ToString) {
        self.closure_planned(offer, ggzhub_kit::calendar::today()).await;
    }

    /// Makes `offer`'s closure announced for `date`, directly in the database (bypassing the
    /// region's notice period), version unchanged.
    pub async fn closure_planned(&self, offer: impl ToString, date: chrono::NaiveDate) {
        use ggzhub_region::entity::offer_status_note;
        use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, sea_query::Expr};
        let id = offer.to_string();
        let db = &self.db.db;
        let row = care_offer::Entity::find_by_id(id.clone()).one(db).await.expect("offer reads").expect("offer exists");
        care_offer::Entity::update_many()
            .col_expr(care_offer::Column::Status, Expr::value("CLOSING"))
            .filter(care_offer::Column::Id.eq(id.clone()))
            .exec(db)
            .await
            .expect("offer updates");
        offer_status_note::Entity::delete_by_id(id.clone()).exec(db).await.expect("note deletes");
        offer_status_note::ActiveModel {
            offer_id: Set(id),
            region_code: Set(row.region_code),
            status: Set("CLOSING".into()),
            cause_kind: Set(Some("FINANCE".into())),
            cause_text: Set(Some("Geen contract voor volgend jaar".into())),
            planned_closing_date: Set(Some(date)),
            announced_at: Set(Some(Utc::now())),
            closure_signal_id: Set(None),
            recorded_at: Set(Utc::now()),
            recorded_by: Set(row.provider_id),
        }
        .insert(db)
        .await
        .expect("note inserts");
    }
}
