//! An insurer reads the continuity signals of the offers it contracts (DOMAIN.md, access matrix,
//! "continuity signal": "R where it contracts that offer"), learned from the contracting subgraph
//! — here a mock that checks the internal token it is sent and answers `contracts` as told. It is
//! asked once per request, for insurers only, and when it is missing, down or answers nonsense the
//! insurer sees exactly what it saw without contracting (fail closed). Acknowledging stays the
//! coordinating insurer's.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use chrono::Datelike as _;
use ggzhub_kit::SigningKey;
use ggzhub_kit::testing::{TestCaller, TestServer};
use ggzhub_kit::token::InternalClaims;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

const SIGNALS: &str = r#"query($region: String) { continuitySignals(region: $region, first: 100) {
    nodes { id regionCode status kind severity description offer { id } } } }"#;
const TWICE: &str = r#"query { a: continuitySignals(first: 100) { nodes { id } }
    b: continuitySignals(region: "utrecht", first: 100) { nodes { id description } } }"#;
const ACKNOWLEDGE: &str = r#"mutation($id: ID!, $v: Int!) { acknowledgeContinuitySignal(id: $id, expectedVersion: $v) {
    id status } }"#;
const ESCALATE: &str =
    "mutation($id: ID!, $v: Int!) { escalateContinuitySignal(id: $id, expectedVersion: $v) { id version } }";

/// What the mock answers: HTTP status and body, given the verified claims and the request body.
type Answer = dyn Fn(&InternalClaims, &Value) -> (u16, Value) + Send + Sync;

/// A fixed answer, whatever the request.
type Canned = dyn Fn() -> (u16, Value) + Send + Sync;

/// A stand-in for the contracting subgraph.
struct MockContracting {
    server: TestServer,
    /// Every request it answered: the token's claims and the GraphQL request body.
    seen: Arc<Mutex<Vec<(InternalClaims, Value)>>>,
}

impl MockContracting {
    /// Serves `answer` behind a check of the internal token (audience `contracting`, signed by
    /// `key`); a request without a valid token gets HTTP 401 and is not recorded.
    async fn start(
        key: &Arc<SigningKey>,
        answer: impl Fn(&InternalClaims, &Value) -> (u16, Value) + Send + Sync + 'static,
    ) -> Self {
        let seen: Arc<Mutex<Vec<(InternalClaims, Value)>>> = Arc::default();
        let verifier = Arc::new(key.verifier("contracting"));
        let answer: Arc<Answer> = Arc::new(answer);
        let recorded = seen.clone();
        let app = Router::new().route(
            "/graphql",
            post(move |headers: HeaderMap, body: axum::Json<Value>| {
                let (verifier, answer, recorded) = (verifier.clone(), answer.clone(), recorded.clone());
                async move {
                    let token = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.strip_prefix("Bearer "))
                        .unwrap_or_default();
                    let Ok(claims) = verifier.verify(token) else {
                        return (StatusCode::UNAUTHORIZED, axum::Json(json!({ "errors": [{ "message": "no" }] })));
                    };
                    let (status, out) = answer(&claims, &body.0);
                    recorded.lock().expect("mock lock").push((claims, body.0));
                    (StatusCode::from_u16(status).expect("a valid status"), axum::Json(out))
                }
            }),
        );
        let server = TestServer::start(app, key.clone(), "contracting").await;
        Self { server, seen }
    }

    fn url(&self) -> String {
        self.server.url("/graphql")
    }

    fn requests(&self) -> usize {
        self.seen.lock().expect("mock lock").len()
    }
}

fn this_year() -> i64 {
    i64::from(chrono::Utc::now().year())
}

/// A contract as the `contracts` query returns it.
fn contract(status: &str, years: (i64, i64), provider: Uuid, offers: &[&str]) -> Value {
    json!({ "status": status, "firstYear": years.0, "lastYear": years.1, "provider": { "id": provider.to_string() },
        "terms": { "coveredOfferIds": offers } })
}

/// One page of `contracts`.
fn page(nodes: Vec<Value>, next: Option<&str>) -> (u16, Value) {
    (
        200,
        json!({ "data": { "contracts": { "pageInfo": { "hasNextPage": next.is_some(), "endCursor": next }, "nodes": nodes } } }),
    )
}

/// Insurer Y (coordinating amsterdam only) contracts provider A's FACT offer in utrecht this year.
fn y_contracts_fact(claims: &InternalClaims, _: &Value) -> (u16, Value) {
    if claims.org != INSURER_Y {
        return page(vec![], None);
    }
    let fact = OFFER_A_FACT.to_string();
    page(vec![contract("AGREED", (this_year() - 1, this_year() + 1), PROVIDER_A, &[&fact])], None)
}

async fn visible(app: &TestApp, caller: &TestCaller, region: Option<&str>) -> Vec<String> {
    let resp = app.graphql(SIGNALS).var("region", region).as_caller(caller).send().await;
    ids(&resp.data()["continuitySignals"]["nodes"])
}

#[tokio::test]
async fn insurer_reads_signals_of_offers_it_contracts() {
    let key = Arc::new(SigningKey::generate());
    let mock = MockContracting::start(&key, y_contracts_fact).await;
    let app = TestApp::spawn_with_contracting(key, Some(mock.url())).await;

    let resp = app.graphql(SIGNALS).as_caller(&insurer_y()).send().await;
    let nodes = &resp.data()["continuitySignals"]["nodes"];
    // Its own region's signal as coordinating insurer, plus the one on the offer it contracts —
    // not the other utrecht signal (on an offer it does not contract).
    assert_eq!(ids(nodes), id_list(&[SIGNAL_UTRECHT_OPEN, SIGNAL_AMSTERDAM_OPEN]));
    let contracted =
        nodes.as_array().into_iter().flatten().find(|n| n["id"] == SIGNAL_UTRECHT_OPEN.to_string()).expect("listed");
    assert_eq!(contracted["offer"]["id"], OFFER_A_FACT.to_string(), "read in full: {contracted:#}");
    assert!(contracted["kind"].is_string() && contracted["description"].is_string(), "read in full: {contracted:#}");
    assert_eq!(visible(&app, &insurer_y(), Some("utrecht")).await, id_list(&[SIGNAL_UTRECHT_OPEN]));

    // The question carried the caller's identity and read scopes only, for contracting's audience.
    let seen = mock.seen.lock().expect("mock lock").clone();
    assert_eq!(seen.len(), 2, "one question per request");
    let (claims, body) = &seen[0];
    assert_eq!(claims.org, INSURER_Y);
    assert_eq!(claims.org_kind, ggzhub_kit::OrgKind::Insurer);
    assert_eq!(
        claims.scope.split_whitespace().collect::<BTreeSet<_>>(),
        BTreeSet::from(["picture:read", "contracts:read"]),
        "read scopes only"
    );
    assert!(claims.roles.is_empty(), "no roles are passed on: {claims:?}");
    assert!(
        body["query"].as_str().unwrap_or_default().contains("contracts(status: AGREED"),
        "asks for agreed contracts: {body}"
    );

    // Two signal lists in one request: contracting is asked once.
    let resp = app.graphql(TWICE).as_caller(&insurer_y()).send().await;
    assert_eq!(ids(&resp.data()["a"]["nodes"]), id_list(&[SIGNAL_UTRECHT_OPEN, SIGNAL_AMSTERDAM_OPEN]));
    assert_eq!(ids(&resp.data()["b"]["nodes"]), id_list(&[SIGNAL_UTRECHT_OPEN]));
    assert_eq!(mock.requests(), 3, "one question for the whole request");

    // The coordinating insurer of utrecht is unaffected (it contracts nothing here).
    assert_eq!(visible(&app, &insurer_x(), None).await, id_list(&[SIGNAL_UTRECHT_OPEN, SIGNAL_UTRECHT_ESCALATED]));
}

#[tokio::test]
async fn only_insurers_ask_contracting() {
    let key = Arc::new(SigningKey::generate());
    let mock = MockContracting::start(&key, y_contracts_fact).await;
    let app = TestApp::spawn_with_contracting(key, Some(mock.url())).await;
    for caller in [provider_a(), provider_b(), national_table()] {
        app.graphql(SIGNALS).as_caller(&caller).send().await.data();
    }
    // The chair lists its region's signals, the ones it may not read with FORBIDDEN fields.
    let resp = app.graphql(SIGNALS).as_caller(&chair()).send().await;
    assert_eq!(ids(&resp.body["data"]["continuitySignals"]["nodes"]).len(), 2);
    for caller in [patient_org(), municipality(), operator()] {
        app.graphql(SIGNALS).as_caller(&caller).send().await.expect_error("FORBIDDEN");
    }
    assert_eq!(mock.requests(), 0, "nobody but an insurer has contracts to ask about");
}

#[tokio::test]
async fn contracts_that_do_not_count_open_nothing() {
    let key = Arc::new(SigningKey::generate());
    let mock = MockContracting::start(&key, |_, _| {
        let (fact, crisis) = (OFFER_A_FACT.to_string(), OFFER_A_CRISIS.to_string());
        let now = this_year();
        page(
            vec![
                // Not agreed (a misbehaving answer: the query asks for AGREED only).
                contract("TERMINATED", (now, now), PROVIDER_A, &[&fact]),
                contract("PROPOSED", (now, now), PROVIDER_A, &[&fact]),
                // Agreed, but not valid this year.
                contract("AGREED", (now - 3, now - 1), PROVIDER_A, &[&fact]),
                contract("AGREED", (now + 1, now + 2), PROVIDER_A, &[&fact]),
                // Agreed with provider B, naming provider A's offer: a contract never opens
                // another provider's offer.
                contract("AGREED", (now, now), PROVIDER_B, &[&crisis]),
                // An offer this subgraph does not know.
                contract("AGREED", (now, now), PROVIDER_A, &["00000000-0000-4000-8000-000000000bad"]),
            ],
            None,
        )
    })
    .await;
    let app = TestApp::spawn_with_contracting(key, Some(mock.url())).await;
    assert_eq!(visible(&app, &insurer_y(), None).await, id_list(&[SIGNAL_AMSTERDAM_OPEN]));
    assert_eq!(mock.requests(), 1);
}

#[tokio::test]
async fn pages_of_contracts_are_followed() {
    let key = Arc::new(SigningKey::generate());
    let mock = MockContracting::start(&key, |_, body| {
        let now = this_year();
        match body["variables"]["after"].as_str() {
            None => page(vec![contract("AGREED", (now, now), PROVIDER_B, &[&OFFER_B_HIC.to_string()])], Some("p2")),
            Some("p2") => page(vec![contract("AGREED", (now, now), PROVIDER_A, &[&OFFER_A_CRISIS.to_string()])], None),
            Some(other) => (400, json!({ "errors": [{ "message": format!("unknown cursor {other}") }] })),
        }
    })
    .await;
    let app = TestApp::spawn_with_contracting(key, Some(mock.url())).await;
    assert_eq!(visible(&app, &insurer_y(), None).await, id_list(&[SIGNAL_UTRECHT_ESCALATED, SIGNAL_AMSTERDAM_OPEN]));
    assert_eq!(mock.requests(), 2);
}

#[tokio::test]
async fn unreachable_or_failing_contracting_fails_closed() {
    // Nothing listens on a port just released.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("binds a free port");
        format!("http://{}/graphql", l.local_addr().expect("has an address"))
    };
    let fact = OFFER_A_FACT.to_string();
    let now = this_year();
    let covering = contract("AGREED", (now, now), PROVIDER_A, &[&fact]);
    let answers: Vec<(&str, Box<Canned>)> = vec![
        ("HTTP 500", Box::new(|| (500, json!({ "errors": [{ "message": "down" }] })))),
        ("errors", {
            let covering = covering.clone();
            Box::new(move || {
                let (_, mut body) = page(vec![covering.clone()], None);
                body["errors"] = json!([{ "message": "partly failed", "extensions": { "code": "INTERNAL" } }]);
                (200, body)
            })
        }),
        ("no data", Box::new(|| (200, json!({ "data": null })))),
        ("a page without cursor", {
            let covering = covering.clone();
            Box::new(move || {
                (
                    200,
                    json!({ "data": { "contracts": { "pageInfo": { "hasNextPage": true }, "nodes": [covering.clone()] } } }),
                )
            })
        }),
        ("not JSON", Box::new(|| (200, json!("<html>")))),
    ];
    let mut cases = vec![("unreachable", closed, None)];
    let key = Arc::new(SigningKey::generate());
    for (name, answer) in answers {
        let mock = MockContracting::start(&key, move |_, _| answer()).await;
        cases.push((name, mock.url(), Some(mock)));
    }
    for (name, url, _mock) in cases {
        let app = TestApp::spawn_with_contracting(key.clone(), Some(url)).await;
        // No error for the query, no extra signal: what it sees without contracting.
        let resp = app.graphql(SIGNALS).as_caller(&insurer_y()).send().await;
        assert_eq!(ids(&resp.data()["continuitySignals"]["nodes"]), id_list(&[SIGNAL_AMSTERDAM_OPEN]), "{name}");
        assert_eq!(
            visible(&app, &insurer_x(), None).await,
            id_list(&[SIGNAL_UTRECHT_OPEN, SIGNAL_UTRECHT_ESCALATED]),
            "{name}: the coordinating insurer is unaffected"
        );
    }
}

#[tokio::test]
async fn a_token_contracting_does_not_trust_gets_nothing() {
    // The region subgraph signs with a key the contracting subgraph does not trust: 401, and the
    // insurer simply sees no contracted offer's signals.
    let mock = MockContracting::start(&Arc::new(SigningKey::generate()), y_contracts_fact).await;
    let app = TestApp::spawn_with_contracting(Arc::new(SigningKey::generate()), Some(mock.url())).await;
    assert_eq!(visible(&app, &insurer_y(), None).await, id_list(&[SIGNAL_AMSTERDAM_OPEN]));
    assert_eq!(mock.requests(), 0);
}

#[tokio::test]
async fn contracting_insurer_does_not_acknowledge() {
    let key = Arc::new(SigningKey::generate());
    let mock = MockContracting::start(&key, y_contracts_fact).await;
    let app = TestApp::spawn_with_contracting(key, Some(mock.url())).await;
    assert!(visible(&app, &insurer_y(), None).await.contains(&SIGNAL_UTRECHT_OPEN.to_string()));
    // Reading is granted by contracting; acknowledging stays the coordinating insurer's, and the
    // answer is the one it got before.
    let resp = app.graphql(ACKNOWLEDGE).var("id", SIGNAL_UTRECHT_OPEN).var("v", 1).as_caller(&insurer_y()).send().await;
    assert_refused(&resp, "acknowledgeContinuitySignal", "NOT_FOUND");
    assert_eq!(app.signal_as(&provider_a(), SIGNAL_UTRECHT_OPEN).await["status"], "OPEN");
    let resp = app.graphql(ACKNOWLEDGE).var("id", SIGNAL_UTRECHT_OPEN).var("v", 1).as_caller(&insurer_x()).send().await;
    assert_eq!(resp.data()["acknowledgeContinuitySignal"]["status"], "ACKNOWLEDGED");
}

#[tokio::test]
async fn an_insurer_contracting_the_offer_receives_its_signal_events() {
    let key = Arc::new(SigningKey::generate());
    let contractors = vec![(OFFER_A_FACT, INSURER_Y, PROVIDER_A)];
    let mock = MockContracting::start(&key, with_contractors(contractors, y_contracts_fact)).await;
    let bus = ggzhub_kit::events::LocalBus::new(100);
    let app = TestApp::spawn_with(key, Some(mock.url()), Some(bus.clone())).await;
    // The deadline sweep at start makes the fixture's FACT signal overdue: an event in utrecht
    // on the offer insurer Y contracts.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
    let overdue = loop {
        use ggzhub_kit::events::EventBus as _;
        if let Some(first) = bus.replay(0).await.expect("replay").first() {
            break (**first).clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "no event published");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(overdue.event.payload["kind"], "OVERDUE");
    assert_eq!(overdue.event.payload["signalId"], SIGNAL_UTRECHT_OPEN.to_string());
    // The sweep asked contracting who contracts the offer: addressed to Y by id, not every insurer.
    let audience = overdue.event.audience.clone().expect("an audience");
    assert_eq!(
        (audience.organisations, audience.kinds),
        (crate::events::sorted(&[PROVIDER_A, INSURER_X, INSURER_Y]), vec![])
    );
    let query = "subscription { signalEvents(region: \"utrecht\") { kind signal { id offer { id } } } }";
    let resp = app.deliver(&insurer_y(), query, json!({}), &overdue).await;
    assert_eq!(resp.data()["signalEvents"]["signal"]["offer"]["id"], OFFER_A_FACT.to_string());
    // Insurer X coordinates utrecht: it receives it without asking contracting.
    let before = mock.requests();
    let resp = app.deliver(&insurer_x(), query, json!({}), &overdue).await;
    assert_eq!(resp.data()["signalEvents"]["kind"], "OVERDUE");
    assert_eq!(mock.requests(), before, "the coordinating insurer is not asked about contracts");
    // The same event about the crisis offer, which Y does not contract: nothing for Y.
    let mut other = overdue.clone();
    other.event.payload["signalId"] = json!(SIGNAL_UTRECHT_ESCALATED.to_string());
    let resp = app.deliver(&insurer_y(), query, json!({}), &other).await;
    assert_eq!(resp.body, json!({"data": null, "extensions": {"ggzhubEvent": "skip"}}));
}

/// Answers contracting's `signalContractors` (the region subgraph's own question, when it writes
/// a signal event) with `entries` (offer, insurer, provider) for the offers asked about, and
/// every other question with `otherwise`.
fn with_contractors(
    entries: Vec<(Uuid, Uuid, Uuid)>,
    otherwise: impl Fn(&InternalClaims, &Value) -> (u16, Value) + Send + Sync + 'static,
) -> impl Fn(&InternalClaims, &Value) -> (u16, Value) + Send + Sync + 'static {
    move |claims, body| {
        if !body["query"].as_str().unwrap_or_default().contains("signalContractors") {
            return otherwise(claims, body);
        }
        let asked: Vec<&str> =
            body["variables"]["offers"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        let rows: Vec<Value> = entries
            .iter()
            .filter(|(offer, _, _)| asked.contains(&offer.to_string().as_str()))
            .map(|(offer, insurer, provider)| {
                json!({ "offerId": offer.to_string(), "insurerId": insurer.to_string(), "providerId": provider.to_string() })
            })
            .collect();
        (200, json!({ "data": { "signalContractors": rows } }))
    }
}

/// An insurer of no fixture region: contracts provider A's FACT offer, per contracting.
const INSURER_Z: Uuid = Uuid::from_u128(0x1c);

const RAISE: &str = r#"mutation($offer: ID!) { raiseContinuitySignal(input: {offerId: $offer, kind: STAFFING,
    severity: HIGH, description: "Twee psychiaters vertrekken"}) { id } }"#;

#[tokio::test]
async fn a_signal_event_is_addressed_to_its_provider_the_coordinating_and_the_contracting_insurers() {
    let key = Arc::new(SigningKey::generate());
    let now = this_year();
    let mock = MockContracting::start(
        &key,
        with_contractors(
            vec![
                (OFFER_A_FACT, INSURER_Y, PROVIDER_A),
                (OFFER_A_FACT, INSURER_Z, PROVIDER_A),
                // A contract of provider B naming provider A's offer opens nothing.
                (OFFER_A_FACT, INSURER_Z, PROVIDER_B),
                (OFFER_A_CRISIS, PROVIDER_C, PROVIDER_B),
            ],
            move |claims, _| {
                // Insurer Y's own contracts, for the subscription resolver.
                if claims.org != INSURER_Y {
                    return page(vec![], None);
                }
                page(vec![contract("AGREED", (now, now), PROVIDER_A, &[&OFFER_A_FACT.to_string()])], None)
            },
        ),
    )
    .await;
    let bus = ggzhub_kit::events::LocalBus::new(100);
    let app = TestApp::spawn_with(key, Some(mock.url()), Some(bus.clone())).await;
    let start = crate::events::wait_for_events(&bus, 1).await.len(); // the fixture's OVERDUE

    // A caller who may change no signal or offer makes the hub ask contracting nothing.
    let before = mock.requests();
    let refused = app.graphql(RAISE).var("offer", OFFER_A_FACT.to_string()).as_caller(&patient_org()).send().await;
    assert_refused(&refused, "raiseContinuitySignal", "FORBIDDEN");
    assert_eq!(mock.requests(), before, "no question for a caller about to be refused");

    // Raised on the FACT offer: provider A, insurer X (coordinating utrecht), insurers Y and Z
    // (contracting it); no kind, so no other insurer is even asked about.
    let before = mock.requests();
    let resp = app.graphql(RAISE).var("offer", OFFER_A_FACT.to_string()).as_caller(&provider_a()).send().await;
    let id = resp.data()["raiseContinuitySignal"]["id"].as_str().expect("raised").to_owned();
    let raised = crate::events::next_event(&bus, start, "signalEvents").await;
    let audience = raised.event.audience.clone().expect("an audience");
    assert_eq!(audience.organisations, crate::events::sorted(&[PROVIDER_A, INSURER_X, INSURER_Y, INSURER_Z]));
    assert!(audience.kinds.is_empty(), "{audience:?}");
    assert!(!audience.admits(&Uuid::from_u128(0x1d).to_string(), "INSURER"), "another insurer is not in it");
    assert!(!audience.admits(&PROVIDER_B.to_string(), "PROVIDER"));
    // Asked once, before the transaction, with the region subgraph's own token: no organisation,
    // only the service scope.
    assert_eq!(mock.requests(), before + 1, "one question for the change");
    let (claims, body) = mock.seen.lock().expect("mock lock").last().cloned().expect("asked");
    assert_eq!(
        (claims.org, claims.org_kind, claims.sub.as_str()),
        (Uuid::nil(), ggzhub_kit::OrgKind::HubOperator, "ggzhub-region")
    );
    assert_eq!(claims.scope, "signals:audience");
    assert!(claims.regions.is_empty() && claims.roles.is_empty());
    assert_eq!(body["variables"], json!({ "offers": [OFFER_A_FACT.to_string()], "year": now }));
    // Delivered to those who may read it: insurer Y through its contract (Z is no persona here).
    assert_eq!(crate::events::receivers(&app, &raised, None).await, ["provider A", "insurer X", "insurer Y"]);

    // Escalated by the chair: the same organisations, and now the national table.
    app.graphql(ESCALATE).var("id", &id).var("v", 1).as_caller(&chair()).send().await.data();
    let escalated = crate::events::next_event(&bus, start + 1, "signalEvents").await;
    assert_eq!(escalated.event.payload["kind"], "ESCALATED");
    let audience = escalated.event.audience.clone().expect("an audience");
    assert_eq!(audience.organisations, crate::events::sorted(&[PROVIDER_A, INSURER_X, INSURER_Y, INSURER_Z]));
    assert_eq!(audience.kinds, ["NATIONAL_TABLE"]);

    // Raised on the crisis offer, which no insurer contracts with provider A: provider A and
    // insurer X only.
    app.graphql(RAISE).var("offer", OFFER_A_CRISIS.to_string()).as_caller(&provider_a()).send().await.data();
    let crisis = crate::events::next_event(&bus, start + 2, "signalEvents").await;
    let audience = crisis.event.audience.clone().expect("an audience");
    assert_eq!((audience.organisations, audience.kinds), (crate::events::sorted(&[PROVIDER_A, INSURER_X]), vec![]));
}

#[tokio::test]
async fn unreachable_contracting_addresses_every_insurer_and_still_delivers_only_to_those_allowed() {
    // Nothing listens on a port just released.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("binds a free port");
        format!("http://{}/graphql", l.local_addr().expect("has an address"))
    };
    let key = Arc::new(SigningKey::generate());
    let failing = MockContracting::start(&key, |_, _| (500, json!({ "errors": [{ "message": "down" }] }))).await;
    for (name, url) in [("unreachable", closed), ("HTTP 500", failing.url())] {
        let bus = ggzhub_kit::events::LocalBus::new(100);
        let app = TestApp::spawn_with(key.clone(), Some(url), Some(bus.clone())).await;
        let start = crate::events::wait_for_events(&bus, 1).await.len();
        // The fixture's OVERDUE, swept at start, could not learn its contractors either.
        let overdue = crate::events::wait_for_events(&bus, 1).await[0].clone();
        let audience = overdue.event.audience.clone().expect("an audience");
        assert_eq!(
            (audience.organisations, audience.kinds),
            (crate::events::sorted(&[PROVIDER_A]), vec!["INSURER".into()]),
            "{name}"
        );

        let resp = app.graphql(RAISE).var("offer", OFFER_A_FACT.to_string()).as_caller(&provider_a()).send().await;
        resp.data();
        let raised = crate::events::next_event(&bus, start, "signalEvents").await;
        let audience = raised.event.audience.clone().expect("an audience");
        assert_eq!(audience.kinds, ["INSURER"], "{name}: every insurer may be one");
        assert_eq!(audience.organisations, crate::events::sorted(&[PROVIDER_A]), "{name}");
        // Still only those the access matrix lets read it: insurer Y (contracting unknown to the
        // resolver too) is not among them.
        assert_eq!(crate::events::receivers(&app, &raised, None).await, ["provider A", "insurer X"], "{name}");
    }
}
