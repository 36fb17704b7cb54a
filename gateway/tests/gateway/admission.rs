//! Admission control over HTTP (`[admission]`): past the slots and the queue a request is refused
//! at once with 503, Retry-After and OVERLOADED; queued requests are answered when a slot frees;
//! one organisation cannot take every slot; a mutation, once admitted, completes whatever happens
//! to its client; and the counters count.
//!
//! The subgraph `accounts` holds every request until the test opens its gate, so what is running,
//! queued or refused is decided by the test, not by timing. Waits are long (an hour) unless a test
//! is about them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::routing::post;
use ggzhub_gateway::admission::capacity::{Admission, AdmissionOptions, AdmissionStats};
use ggzhub_gateway::auth::identity::Identity;
use ggzhub_gateway::engine::{EngineOptions, Gateway};
use ggzhub_gateway::http::{BatchingOptions, HttpOptions};
use ggzhub_gateway::supergraph::compose::{SubgraphSdl, compose};
use ggzhub_kit::SigningKey;
use ggzhub_kit::server::HttpLimits;
use ggzhub_kit::token::OrgKind;
use serde_json::{Value, json};
use tokio::sync::{Semaphore, watch};
use uuid::Uuid;

use crate::support::{org_token, register_of};

const ACCOUNTS: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { users: [User!]! }
type Mutation { addUser(name: String!): User! }
type User @key(fields: "id") { id: ID! name: String! }
"#;

const REVIEWS: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { reviews: [Review!]! }
type Mutation { addReview(body: String!): Review! }
type Review { id: ID! body: String! }
"#;

const QUERY: &str = "{ users { id } }";
/// Two root fields on two subgraphs, run one after the other: `addReview` reaches `reviews` only
/// if the execution is still going once `accounts` has answered `addUser`.
const MUTATION: &str = r#"mutation { addUser(name: "Ann") { id } addReview(body: "fine") { id } }"#;

const ISSUER: &str = "https://idp.example";
const HOUR: Duration = Duration::from_secs(3600);

/// A subgraph that records each request and, when gated, answers only once the test lets it.
#[derive(Clone)]
struct Stub {
    url: String,
    gate: Option<Arc<Semaphore>>,
    received: Arc<Mutex<Vec<Value>>>,
    calls: watch::Sender<usize>,
}

async fn answer(State(stub): State<Stub>, Json(body): Json<Value>) -> Json<Value> {
    stub.received.lock().expect("lock").push(body.clone());
    stub.calls.send_modify(|calls| *calls += 1);
    if let Some(gate) = &stub.gate {
        gate.acquire().await.expect("the gate stays open").forget();
    }
    let query = body["query"].as_str().unwrap_or_default();
    let data = if query.contains("addUser") {
        json!({ "addUser": { "id": "u2" } })
    } else if query.contains("addReview") {
        json!({ "addReview": { "id": "r1" } })
    } else {
        json!({ "users": [{ "id": "u1" }] })
    };
    Json(json!({ "data": data }))
}

impl Stub {
    async fn start(gated: bool) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let stub = Stub {
            url: format!("http://{}/graphql", listener.local_addr().expect("addr")),
            gate: gated.then(|| Arc::new(Semaphore::new(0))),
            received: Arc::default(),
            calls: watch::Sender::new(0),
        };
        let app = axum::Router::new().route("/graphql", post(answer)).with_state(stub.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        stub
    }

    /// Lets every held and future request through.
    fn open(&self) {
        if let Some(gate) = &self.gate {
            gate.add_permits(Semaphore::MAX_PERMITS / 2);
        }
    }

    fn calls(&self) -> usize {
        *self.calls.borrow()
    }

    /// Waits until `count` requests have arrived.
    async fn until_called(&self, count: usize) {
        let mut calls = self.calls.subscribe();
        within("the subgraph calls", calls.wait_for(|calls| *calls >= count)).await.expect("the stub lives");
    }

    fn queries(&self) -> Vec<String> {
        self.received.lock().expect("lock").iter().map(|b| b["query"].as_str().unwrap_or_default().to_owned()).collect()
    }
}

/// Fails the test, rather than hanging it, when something the test waits for never happens.
async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), future).await.unwrap_or_else(|_| panic!("{what}: never happened"))
}

/// A gateway with admission control `options`, in front of a gated `accounts` and an open
/// `reviews`, serving two organisations.
struct Hub {
    url: String,
    admission: Arc<Admission>,
    accounts: Stub,
    reviews: Stub,
    /// Tokens of organisations A and B.
    a: String,
    b: String,
    http: reqwest::Client,
}

/// What the gateway answered.
#[derive(Debug)]
struct Reply {
    status: u16,
    retry_after: Option<String>,
    body: Value,
}

impl Hub {
    async fn start(options: AdmissionOptions, limits: HttpLimits, batching: bool) -> Self {
        let (accounts, reviews) = (Stub::start(true).await, Stub::start(false).await);
        let subgraphs = [("accounts", ACCOUNTS, &accounts), ("reviews", REVIEWS, &reviews)]
            .map(|(name, sdl, stub)| SubgraphSdl { name: name.into(), url: stub.url.clone(), sdl: sdl.into() });
        let gateway = Gateway::new(EngineOptions::default());
        gateway.load_supergraph(&compose(&subgraphs).expect("composes")).expect("loads");
        let key = SigningKey::generate();
        let authenticator =
            ggzhub_gateway::auth::oidc::Authenticator::with_keys(ISSUER, &["gateway"], &key.jwks(), 30).expect("keys");
        let identity = Identity {
            verifier: Some(Arc::new(authenticator)),
            register: Some(register_of(
                ISSUER,
                &[
                    ("10000001", Uuid::now_v7(), OrgKind::Provider, &["utrecht"], &[]),
                    ("10000002", Uuid::now_v7(), OrgKind::Provider, &["utrecht"], &[]),
                ],
            )),
            signer: Some(SigningKey::generate().signer()),
            allow_anonymous: false,
        };
        let admission = Arc::new(Admission::new(options));
        let http = HttpOptions {
            admission: admission.clone(),
            batching: BatchingOptions { enabled: batching, max_size: 10 },
            ..HttpOptions::default()
        };
        let app = ggzhub_gateway::http::server::app(Arc::new(gateway), Arc::new(identity), http, limits);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/graphql", listener.local_addr().expect("addr"));
        tokio::spawn(ggzhub_gateway::http::server::serve(listener, app, std::future::pending()));
        let token = |ura: &str| org_token(&key, ISSUER, "gateway", ura, &["picture:read"]);
        Hub {
            url,
            admission,
            accounts,
            reviews,
            a: token("10000001"),
            b: token("10000002"),
            http: reqwest::Client::new(),
        }
    }

    /// Sends `body` with `token`, in the background.
    fn send(&self, token: &str, body: Value) -> tokio::task::JoinHandle<Reply> {
        let request = self.http.post(&self.url).header("accept", "application/json").bearer_auth(token).json(&body);
        tokio::spawn(async move {
            let response = request.send().await.expect("send");
            let status = response.status().as_u16();
            let retry_after = response.headers().get("retry-after").map(|v| v.to_str().expect("ascii").to_owned());
            // The request timeout's 408 has no body.
            let body = serde_json::from_slice(&response.bytes().await.expect("the body")).unwrap_or(Value::Null);
            Reply { status, retry_after, body }
        })
    }

    fn query(&self, token: &str) -> tokio::task::JoinHandle<Reply> {
        self.send(token, json!({ "query": QUERY }))
    }

    fn stats(&self) -> AdmissionStats {
        self.admission.stats()
    }

    /// Waits until the counters satisfy `condition`.
    async fn until(&self, what: &str, condition: impl Fn(&AdmissionStats) -> bool) {
        within(what, async {
            while !condition(&self.stats()) {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
        .await;
    }
}

async fn reply(task: tokio::task::JoinHandle<Reply>) -> Reply {
    within("the answer", task).await.expect("the request task")
}

/// One slot, one queue place; no share per organisation; waits that never end in a test.
fn one_slot_one_place() -> AdmissionOptions {
    AdmissionOptions {
        max_in_flight: 1,
        max_queued: 1,
        org_share_percent: 0,
        max_wait: HOUR,
        overload_wait: HOUR,
        overload_target: HOUR,
        overload_interval: HOUR,
        retry_after_secs: 1,
    }
}

fn assert_overloaded(reply: &Reply, message: &str) {
    assert_eq!(reply.status, 503, "{reply:?}");
    assert_eq!(reply.retry_after.as_deref(), Some("1"), "{reply:?}");
    assert_eq!(reply.body["errors"][0]["extensions"]["code"], "OVERLOADED", "{reply:?}");
    assert_eq!(reply.body["errors"][0]["message"], message, "{reply:?}");
    assert!(reply.body.get("data").is_none(), "{reply:?}");
}

#[tokio::test]
async fn beyond_the_slots_and_the_queue_a_request_is_refused_at_once_with_503_and_retry_after() {
    let hub = Hub::start(one_slot_one_place(), HttpLimits::default(), false).await;
    let running = hub.query(&hub.a);
    hub.accounts.until_called(1).await;
    let queued = hub.query(&hub.b);
    hub.until("one request queued", |s| s.waiting == 1).await;

    // Answered while the subgraph still holds the running request: no waiting for a slot.
    let refused = reply(hub.query(&hub.b)).await;
    assert_overloaded(&refused, "the hub is busy: retry after 1 s");
    assert_eq!(hub.accounts.calls(), 1, "neither the queued nor the refused request reached the subgraph");
    let stats = hub.stats();
    assert_eq!((stats.in_execution, stats.waiting, stats.refused_queue_full), (1, 1, 1), "{stats:?}");

    hub.accounts.open();
    for task in [running, queued] {
        let answered = reply(task).await;
        assert_eq!(answered.status, 200, "{answered:?}");
        assert_eq!(answered.body, json!({ "data": { "users": [{ "id": "u1" }] } }));
    }
}

#[tokio::test]
async fn a_queued_request_is_answered_when_a_slot_frees_and_the_counters_count() {
    let hub = Hub::start(one_slot_one_place(), HttpLimits::default(), false).await;
    let running = hub.query(&hub.a);
    hub.accounts.until_called(1).await;
    let queued = hub.query(&hub.a);
    hub.until("one request queued", |s| s.waiting == 1).await;
    assert_overloaded(&reply(hub.query(&hub.b)).await, "the hub is busy: retry after 1 s");
    assert_eq!(
        hub.stats(),
        AdmissionStats {
            admitted: 1,
            queued: 1,
            refused_queue_full: 1,
            in_execution: 1,
            waiting: 1,
            ..Default::default()
        }
    );

    hub.accounts.open();
    assert_eq!(reply(running).await.status, 200);
    let answered = reply(queued).await;
    assert_eq!(answered.status, 200, "{answered:?}");
    assert_eq!(answered.body["data"]["users"][0]["id"], "u1");
    assert_eq!(hub.accounts.calls(), 2, "the queued request ran once it had the slot");
    hub.until("every slot free", |s| s.in_execution == 0).await;
    assert_eq!(
        hub.stats(),
        AdmissionStats { admitted: 2, queued: 1, refused_queue_full: 1, ..Default::default() },
        "admitted: the running and the queued request; nothing running or waiting any more"
    );
}

#[tokio::test]
async fn an_organisation_flooding_the_gateway_cannot_take_every_slot() {
    // Two slots and two queue places, half of each per organisation: one slot and one place.
    let options = AdmissionOptions { max_in_flight: 2, max_queued: 2, org_share_percent: 50, ..one_slot_one_place() };
    let hub = Hub::start(options, HttpLimits::default(), false).await;
    let a_running = hub.query(&hub.a);
    hub.accounts.until_called(1).await;
    // A slot is free, but A holds its share of the slots: its next request waits for A's slot.
    let a_queued = hub.query(&hub.a);
    hub.until("A's second request queued", |s| s.waiting == 1).await;
    assert_overloaded(&reply(hub.query(&hub.a)).await, "the hub is busy with your other requests: retry after 1 s");
    assert_eq!(hub.stats().refused_org_share, 1);

    // B still gets the free slot, ahead of A's queued request.
    let b_running = hub.query(&hub.b);
    hub.accounts.until_called(2).await;
    let stats = hub.stats();
    assert_eq!((stats.in_execution, stats.waiting), (2, 1), "{stats:?}");

    hub.accounts.open();
    for task in [a_running, a_queued, b_running] {
        assert_eq!(reply(task).await.status, 200);
    }
    assert_eq!(hub.accounts.calls(), 3);
}

#[tokio::test]
async fn a_queued_mutation_waits_for_its_slot_while_a_queued_query_is_refused_after_its_wait() {
    // Queries may not wait at all; the mutation waits as long as the request may take.
    let options = AdmissionOptions {
        max_queued: 4,
        max_wait: Duration::ZERO,
        overload_wait: Duration::ZERO,
        ..one_slot_one_place()
    };
    let hub = Hub::start(options, HttpLimits::default(), false).await;
    let running = hub.query(&hub.a);
    hub.accounts.until_called(1).await;
    let mutation = hub.send(&hub.b, json!({ "query": MUTATION }));
    hub.until("the mutation queued", |s| s.waiting == 1).await;
    assert_overloaded(&reply(hub.query(&hub.b)).await, "the hub is busy: retry after 1 s");
    let stats = hub.stats();
    assert_eq!((stats.refused_wait_expired, stats.waiting), (1, 1), "the mutation is still queued: {stats:?}");

    hub.accounts.open();
    assert_eq!(reply(running).await.status, 200);
    let done = reply(mutation).await;
    assert_eq!(done.status, 200, "{done:?}");
    assert_eq!(done.body, json!({ "data": { "addUser": { "id": "u2" }, "addReview": { "id": "r1" } } }));
}

#[tokio::test]
async fn an_admitted_mutation_completes_when_the_request_times_out() {
    // Long enough for the mutation to reach the subgraph first on a busy machine; the subgraph then
    // holds it until the timeout has fired, however long that takes.
    let limits = HttpLimits { request_timeout: Duration::from_secs(2), ..HttpLimits::default() };
    let hub = Hub::start(AdmissionOptions::default(), limits, false).await;
    let mutation = hub.send(&hub.a, json!({ "query": MUTATION }));
    hub.accounts.until_called(1).await;
    // The subgraph holds addUser until the request has timed out: the client has its 408, and the
    // handler that served it is gone.
    assert_eq!(reply(mutation).await.status, 408);
    assert_eq!(hub.reviews.calls(), 0);
    assert_eq!(hub.stats().in_execution, 1, "the mutation still holds its slot");

    hub.accounts.open();
    hub.reviews.until_called(1).await;
    assert!(hub.reviews.queries()[0].contains("addReview"), "{:?}", hub.reviews.queries());
    hub.until("the mutation's slot freed", |s| s.in_execution == 0).await;
}

#[tokio::test]
async fn an_admitted_mutation_completes_when_the_client_goes_away() {
    let hub = Hub::start(AdmissionOptions::default(), HttpLimits::default(), false).await;
    let mutation = hub.send(&hub.a, json!({ "query": MUTATION }));
    hub.accounts.until_called(1).await;
    // The client drops its connection while the subgraph holds addUser.
    mutation.abort();
    assert!(mutation.await.expect_err("aborted").is_cancelled());

    hub.accounts.open();
    hub.reviews.until_called(1).await;
    assert!(hub.reviews.queries()[0].contains("addReview"), "{:?}", hub.reviews.queries());
    hub.until("the mutation's slot freed", |s| s.in_execution == 0).await;
    assert_eq!(hub.stats().admitted, 1);
}

#[tokio::test]
async fn each_operation_of_a_batch_is_admitted_on_its_own() {
    let options = AdmissionOptions { max_queued: 0, ..one_slot_one_place() };
    let hub = Hub::start(options, HttpLimits::default(), true).await;
    let batch = hub.send(&hub.a, json!([{ "query": QUERY }, { "query": QUERY }]));
    hub.accounts.until_called(1).await;
    hub.until("the second operation refused", |s| s.refused_queue_full == 1).await;
    hub.accounts.open();
    let answered = reply(batch).await;
    assert_eq!(answered.status, 200, "mixed statuses: {answered:?}");
    let entries = answered.body.as_array().expect("an array");
    let codes: Vec<_> = entries.iter().map(|e| e["errors"][0]["extensions"]["code"].as_str()).collect();
    assert_eq!(codes.iter().filter(|c| **c == Some("OVERLOADED")).count(), 1, "{answered:?}");
    assert_eq!(entries.iter().filter(|e| e["data"]["users"].is_array()).count(), 1, "{answered:?}");
    assert_eq!(hub.accounts.calls(), 1);
}
