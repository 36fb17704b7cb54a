//! Subgraph resilience against mock subgraphs that fail on purpose and count their calls:
//! queries are retried (only on failures that allow it), mutations never; the retry budget caps
//! retry storms; the circuit breaker opens, fails calls without touching the network, half-opens
//! after its open time and closes after a successful trial.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use ggzhub_gateway::config::SubgraphsConfig;
use ggzhub_gateway::engine::{EngineOptions, Gateway};
use ggzhub_gateway::subgraph::resilience::ResilienceOptions;
use ggzhub_gateway::supergraph::compose::{SubgraphSdl, compose};
use serde_json::{Value, json};

use crate::support::run;

const FLAKY: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { hello: String }
type Mutation { poke: String }
"#;

const STEADY: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { steady: String }
"#;

/// What the mock answers to one request.
enum Reply {
    /// An HTTP status with a plain-text body (what a proxy in front of a subgraph sends).
    Status(u16),
    /// HTTP 200 with this GraphQL response.
    Graphql(Value),
    /// HTTP 200 with this GraphQL response, after a delay.
    Slow(Duration, Value),
}

type Script = dyn Fn(usize) -> Reply + Send + Sync;

#[derive(Clone)]
struct MockState {
    calls: Arc<AtomicUsize>,
    script: Arc<Script>,
}

struct Flaky {
    url: String,
    calls: Arc<AtomicUsize>,
}

impl Flaky {
    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

async fn answer(State(state): State<MockState>) -> Response {
    let n = state.calls.fetch_add(1, Ordering::SeqCst);
    match (state.script)(n) {
        Reply::Status(status) => {
            (StatusCode::from_u16(status).expect("status"), "subgraph unavailable").into_response()
        }
        Reply::Graphql(body) => axum::Json(body).into_response(),
        Reply::Slow(delay, body) => {
            tokio::time::sleep(delay).await;
            axum::Json(body).into_response()
        }
    }
}

/// A subgraph whose `n`-th request (from 0) gets `script(n)`.
async fn flaky(script: impl Fn(usize) -> Reply + Send + Sync + 'static) -> Flaky {
    let calls = Arc::new(AtomicUsize::new(0));
    let state = MockState { calls: calls.clone(), script: Arc::new(script) };
    let app = axum::Router::new().route("/graphql", post(answer)).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/graphql", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    Flaky { url, calls }
}

fn hello() -> Reply {
    Reply::Graphql(json!({ "data": { "hello": "hi" } }))
}

fn poked() -> Reply {
    Reply::Graphql(json!({ "data": { "poke": "poked" } }))
}

/// Quick retries for tests; everything else as configured by default.
fn quick() -> ResilienceOptions {
    ResilienceOptions { retry_backoff: Duration::from_millis(1), ..ResilienceOptions::default() }
}

fn gateway(mock: &Flaky, timeout: Duration, resilience: ResilienceOptions) -> Gateway {
    gateway_over(&[("flaky", mock, FLAKY)], timeout, resilience)
}

fn gateway_over(subgraphs: &[(&str, &Flaky, &str)], timeout: Duration, resilience: ResilienceOptions) -> Gateway {
    let subgraphs: Vec<SubgraphSdl> = subgraphs
        .iter()
        .map(|(name, mock, sdl)| SubgraphSdl { name: (*name).into(), url: mock.url.clone(), sdl: (*sdl).into() })
        .collect();
    let sdl = compose(&subgraphs).expect("the mock subgraphs compose");
    let gateway = Gateway::new(EngineOptions { subgraph_timeout: timeout, resilience, ..Default::default() });
    gateway.load_supergraph(&sdl).expect("the supergraph loads");
    gateway
}

async fn query(gateway: &Gateway, text: &str) -> Value {
    let (body, status) = run(gateway, text, json!({})).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("JSON")
}

/// The single error of a response that failed at the subgraph.
fn unavailable(response: &Value) -> String {
    let errors = response["errors"].as_array().unwrap_or_else(|| panic!("errors expected: {response}"));
    assert_eq!(errors.len(), 1, "{response}");
    assert_eq!(errors[0]["extensions"]["code"], "SUBGRAPH_UNAVAILABLE", "{response}");
    assert_eq!(errors[0]["extensions"]["serviceName"], "flaky", "{response}");
    errors[0]["message"].as_str().expect("message").to_owned()
}

#[test]
fn the_configured_defaults_are_the_engine_defaults() {
    assert_eq!(SubgraphsConfig::default().resilience(), ResilienceOptions::default());
    assert_eq!(EngineOptions::default().resilience, ResilienceOptions::default());
}

#[tokio::test]
async fn a_failing_query_is_retried_until_it_succeeds() {
    let mock = flaky(|n| match n {
        0 => Reply::Status(503),
        1 => Reply::Status(502),
        _ => hello(),
    })
    .await;
    let gw = gateway(&mock, Duration::from_secs(5), quick());
    let response = query(&gw, "{ hello }").await;
    assert_eq!(response, json!({ "data": { "hello": "hi" } }));
    assert_eq!(mock.calls(), 3, "two retries (max_attempts = 3)");

    // A timeout is retried too.
    let mock = flaky(|n| if n == 0 { Reply::Slow(Duration::from_secs(2), json!({})) } else { hello() }).await;
    let gw = gateway(&mock, Duration::from_millis(300), quick());
    let response = query(&gw, "{ hello }").await;
    assert_eq!(response, json!({ "data": { "hello": "hi" } }));
    assert_eq!(mock.calls(), 2);
}

#[tokio::test]
async fn retries_stop_at_max_attempts() {
    let mock = flaky(|_| Reply::Status(504)).await;
    let gw = gateway(&mock, Duration::from_secs(5), ResilienceOptions { max_attempts: 2, ..quick() });
    let response = query(&gw, "{ hello }").await;
    assert_eq!(response["data"], json!({ "hello": null }));
    assert!(unavailable(&response).contains("HTTP 504"), "{response}");
    assert_eq!(mock.calls(), 2);
}

#[tokio::test]
async fn graphql_errors_and_other_statuses_are_not_retried() {
    let mock = flaky(|_| Reply::Graphql(json!({ "data": { "hello": null }, "errors": [{ "message": "boom" }] }))).await;
    let gw = gateway(&mock, Duration::from_secs(5), quick());
    let response = query(&gw, "{ hello }").await;
    // Redacted by default: the code says what it was, the message stays in the subgraph.
    assert_eq!(response["errors"][0]["message"], "Subgraph errors redacted", "{response}");
    assert_eq!(response["errors"][0]["extensions"]["code"], "DOWNSTREAM_SERVICE_ERROR");
    assert_eq!(mock.calls(), 1, "a GraphQL error in a 200 is an answer");

    for status in [500, 400] {
        let mock = flaky(move |_| Reply::Status(status)).await;
        let gw = gateway(&mock, Duration::from_secs(5), quick());
        let response = query(&gw, "{ hello }").await;
        assert!(response["errors"].is_array(), "{response}");
        assert_eq!(mock.calls(), 1, "HTTP {status} is not retried");
    }
}

#[tokio::test]
async fn a_mutation_is_never_retried() {
    let mock = flaky(|n| if n == 0 { Reply::Status(503) } else { poked() }).await;
    let gw = gateway(&mock, Duration::from_secs(5), quick());
    let response = query(&gw, "mutation { poke }").await;
    assert_eq!(response["data"], json!({ "poke": null }));
    assert!(unavailable(&response).contains("HTTP 503"), "{response}");
    assert_eq!(mock.calls(), 1, "exactly one call");
    // Nor after a timeout, where it may have been applied.
    let mock = flaky(|n| if n == 0 { Reply::Slow(Duration::from_secs(2), json!({})) } else { poked() }).await;
    let gw = gateway(&mock, Duration::from_millis(300), quick());
    let response = query(&gw, "mutation { poke }").await;
    assert!(unavailable(&response).contains("did not answer in time"), "{response}");
    assert_eq!(mock.calls(), 1);
}

#[tokio::test]
async fn the_retry_budget_stops_retry_storms() {
    let mock = flaky(|_| Reply::Status(503)).await;
    // 20 % of the calls, plus 1 retry/s × 10 s; the breaker off so that every call goes out.
    let options = ResilienceOptions {
        max_attempts: 3,
        retry_backoff: Duration::ZERO,
        retry_percent: 20,
        min_retries_per_sec: 1,
        budget_window: Duration::from_secs(10),
        failure_threshold: 0,
        ..ResilienceOptions::default()
    };
    let gw = gateway(&mock, Duration::from_secs(5), options);
    let requests = 50;
    for _ in 0..requests {
        let response = query(&gw, "{ hello }").await;
        unavailable(&response);
    }
    let calls = mock.calls();
    let ceiling = requests + requests * 20 / 100 + 10;
    assert!(calls <= ceiling, "{calls} calls for {requests} requests: more than {ceiling}");
    assert!(calls > requests, "the budget allowed some retries: {calls}");
    assert!(calls < requests * 3, "without a budget it would be {}", requests * 3);
}

#[tokio::test]
async fn the_breaker_opens_fails_fast_half_opens_and_closes() {
    let down = Arc::new(AtomicBool::new(true));
    let mock = {
        let down = down.clone();
        flaky(move |_| if down.load(Ordering::SeqCst) { Reply::Status(503) } else { hello() }).await
    };
    let open_for = Duration::from_millis(600);
    let options = ResilienceOptions { max_attempts: 1, failure_threshold: 3, open_for, ..quick() };
    let gw = gateway(&mock, Duration::from_secs(5), options);

    for n in 1..=3 {
        let response = query(&gw, "{ hello }").await;
        assert!(unavailable(&response).contains("HTTP 503"), "{response}");
        assert_eq!(mock.calls(), n);
    }
    // Open: no request is made, and the error says why.
    let started = std::time::Instant::now();
    let response = query(&gw, "{ hello }").await;
    assert!(started.elapsed() < open_for, "answered at once");
    assert!(unavailable(&response).contains("circuit breaker is open"), "{response}");
    assert_eq!(response["data"], json!({ "hello": null }));
    let response = query(&gw, "mutation { poke }").await;
    assert!(unavailable(&response).contains("circuit breaker is open"), "mutations too: {response}");
    assert_eq!(mock.calls(), 3, "no network request while open");

    // Half-open after open_for: one trial, which fails and re-opens the circuit.
    tokio::time::sleep(open_for + Duration::from_millis(50)).await;
    let response = query(&gw, "{ hello }").await;
    assert!(unavailable(&response).contains("HTTP 503"), "{response}");
    assert_eq!(mock.calls(), 4, "the trial call");
    let response = query(&gw, "{ hello }").await;
    assert!(unavailable(&response).contains("circuit breaker is open"), "re-opened: {response}");
    assert_eq!(mock.calls(), 4);

    // The subgraph recovers: the next trial succeeds and closes the circuit.
    down.store(false, Ordering::SeqCst);
    tokio::time::sleep(open_for + Duration::from_millis(50)).await;
    assert_eq!(query(&gw, "{ hello }").await, json!({ "data": { "hello": "hi" } }));
    assert_eq!(mock.calls(), 5);
    assert_eq!(query(&gw, "{ hello }").await, json!({ "data": { "hello": "hi" } }));
    assert_eq!(query(&gw, "mutation { poke }").await["errors"], Value::Null);
    assert_eq!(mock.calls(), 7, "closed: every call goes out");
}

#[tokio::test]
async fn retries_count_towards_the_breaker_which_is_kept_per_subgraph() {
    let mock = flaky(|_| Reply::Status(503)).await;
    let steady = flaky(|_| Reply::Graphql(json!({ "data": { "steady": "ok" } }))).await;
    // Two queries of three attempts each would be six consecutive failures; five open it.
    let options = ResilienceOptions { failure_threshold: 5, open_for: Duration::from_secs(60), ..quick() };
    let gw = gateway_over(&[("flaky", &mock, FLAKY), ("steady", &steady, STEADY)], Duration::from_secs(5), options);
    unavailable(&query(&gw, "{ hello }").await);
    assert_eq!(mock.calls(), 3);
    let response = query(&gw, "{ hello }").await;
    assert!(unavailable(&response).contains("HTTP 503"), "opened during the retries: {response}");
    assert_eq!(mock.calls(), 5, "the fifth failure opened it; no sixth attempt");
    // The other subgraph is not affected.
    let response = query(&gw, "{ hello steady }").await;
    assert!(unavailable(&response).contains("circuit breaker is open"), "{response}");
    assert_eq!(response["data"], json!({ "hello": null, "steady": "ok" }));
    assert_eq!(mock.calls(), 5);
    assert_eq!(steady.calls(), 1);
}
