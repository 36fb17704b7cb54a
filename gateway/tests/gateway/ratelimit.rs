//! Rate limiting per organisation, over HTTP: past its burst an organisation gets 429 with
//! Retry-After and RATE_LIMITED, other organisations are unaffected, anonymous callers share one
//! bucket, and once the wait is over requests succeed again.

use std::sync::Arc;
use std::time::Duration;

use ggzhub_gateway::admission::ratelimit::RateLimitOptions;
use ggzhub_gateway::auth::identity::Identity;
use ggzhub_gateway::engine::{EngineOptions, Gateway};
use ggzhub_gateway::http::HttpOptions;
use ggzhub_kit::SigningKey;
use ggzhub_kit::server::HttpLimits;
use ggzhub_kit::token::OrgKind;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{Clock, mock, org_token, register_of, supergraph};

const ACCOUNTS: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { users: [User!]! }
type User @key(fields: "id") { id: ID! name: String! }
"#;

const ISSUER: &str = "https://idp.example";
/// One token a second, three at once: the fourth request in a tight loop is refused, and the
/// wait is one second.
const LIMIT: RateLimitOptions = RateLimitOptions { per_second: 1, burst: 3 };

#[tokio::test]
async fn each_organisation_has_its_own_bucket_and_gets_429_with_retry_after_past_it() {
    let subgraph = mock(
        "accounts",
        ACCOUNTS,
        &Clock::default(),
        Duration::ZERO,
        |_| json!({ "data": { "users": [{ "id": "u1", "name": "Ann" }] } }),
    )
    .await;
    let gateway = Gateway::new(EngineOptions::default());
    gateway.load_supergraph(&supergraph(&[&subgraph])).expect("loads");
    let key = SigningKey::generate();
    let authenticator =
        ggzhub_gateway::auth::oidc::Authenticator::with_keys(ISSUER, &["gateway"], &key.jwks(), 30).expect("keys");
    let (org_a, org_b) = (Uuid::now_v7(), Uuid::now_v7());
    let identity = Identity {
        verifier: Some(Arc::new(authenticator)),
        register: Some(register_of(
            ISSUER,
            &[
                ("10000001", org_a, OrgKind::Provider, &["utrecht"], &[]),
                ("10000002", org_b, OrgKind::Provider, &["utrecht"], &[]),
            ],
        )),
        signer: Some(SigningKey::generate().signer()),
        allow_anonymous: true,
    };
    let options = HttpOptions { rate_limit: LIMIT, ..Default::default() };
    let app = ggzhub_gateway::http::server::app(Arc::new(gateway), Arc::new(identity), options, HttpLimits::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/graphql", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let token = |ura: &str| org_token(&key, ISSUER, "gateway", ura, &["picture:read"]);
    let (a, b) = (token("10000001"), token("10000002"));
    let http = reqwest::Client::new();
    // Plain JSON: a refusal keeps its HTTP status whatever the media type.
    let ask = |bearer: Option<&String>| {
        let mut request =
            http.post(&url).header("accept", "application/json").json(&json!({ "query": "{ users { id } }" }));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        request.send()
    };

    for i in 0..LIMIT.burst {
        assert_eq!(ask(Some(&a)).await.expect("send").status(), 200, "request {i} is within the burst");
    }
    let response = ask(Some(&a)).await.expect("send");
    assert_eq!(response.status(), 429, "the burst + 1st request");
    let retry_after: u64 = response.headers()["retry-after"].to_str().expect("ascii").parse().expect("whole seconds");
    assert_eq!(retry_after, 1);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    assert!(body.get("data").is_none());
    assert_eq!(subgraph.calls(), LIMIT.burst as usize, "the refused request reached no subgraph");

    // Another organisation, and the anonymous callers' shared bucket, are unaffected.
    for _ in 0..LIMIT.burst {
        assert_eq!(ask(Some(&b)).await.expect("send").status(), 200);
        assert_eq!(ask(None).await.expect("send").status(), 200);
    }
    assert_eq!(ask(None).await.expect("send").status(), 429, "anonymous callers share one bucket");
    assert_eq!(ask(Some(&a)).await.expect("send").status(), 429, "A is still over its limit");

    // After Retry-After, A is served again (one token a second: one request).
    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    assert_eq!(ask(Some(&a)).await.expect("send").status(), 200, "served again after waiting");
    assert_eq!(ask(Some(&a)).await.expect("send").status(), 429);
}

/// Redis of the machine (`REDIS_URL`, else 127.0.0.1:6379; CI runs it).
fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn shared(limit: RateLimitOptions, url: &str, prefix: &str) -> Arc<ggzhub_gateway::admission::shared::SharedRateLimit> {
    let redis = ggzhub_gateway::admission::shared::RedisOptions {
        url: url.to_owned(),
        timeout: Duration::from_millis(200),
        key_prefix: prefix.to_owned(),
    };
    Arc::new(ggzhub_gateway::admission::shared::SharedRateLimit::new(limit, redis).expect("a Redis URL"))
}

/// `n` gateway replicas with `limit`, each limiting through `limiter(i)`; their URLs and the
/// token of the one organisation.
async fn replicas(
    n: usize,
    limit: RateLimitOptions,
    limiter: impl Fn(usize) -> Option<Arc<ggzhub_gateway::admission::shared::SharedRateLimit>>,
) -> (Vec<String>, String) {
    let subgraph = mock(
        "accounts",
        ACCOUNTS,
        &Clock::default(),
        Duration::ZERO,
        |_| json!({ "data": { "users": [{ "id": "u1", "name": "Ann" }] } }),
    )
    .await;
    let key = SigningKey::generate();
    let org = Uuid::now_v7();
    let mut urls = Vec::new();
    for i in 0..n {
        let gateway = Gateway::new(EngineOptions::default());
        gateway.load_supergraph(&supergraph(&[&subgraph])).expect("loads");
        let authenticator =
            ggzhub_gateway::auth::oidc::Authenticator::with_keys(ISSUER, &["gateway"], &key.jwks(), 30).expect("keys");
        let identity = Identity {
            verifier: Some(Arc::new(authenticator)),
            register: Some(register_of(ISSUER, &[("10000001", org, OrgKind::Provider, &["utrecht"], &[])])),
            signer: Some(SigningKey::generate().signer()),
            allow_anonymous: false,
        };
        let options = HttpOptions { rate_limit: limit, shared_rate_limit: limiter(i), ..Default::default() };
        let app =
            ggzhub_gateway::http::server::app(Arc::new(gateway), Arc::new(identity), options, HttpLimits::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        urls.push(format!("http://{}/graphql", listener.local_addr().expect("addr")));
        tokio::spawn(async move { axum::serve(listener, app).await });
    }
    (urls, org_token(&key, ISSUER, "gateway", "10000001", &["picture:read"]))
}

/// One organisation sends as fast as it can, round robin over the replicas, for `duration`:
/// (accepted, refused with 429, elapsed).
async fn flood(urls: &[String], token: &str, duration: Duration) -> (usize, usize, Duration) {
    let http = reqwest::Client::new();
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    // Four clients per replica, so the organisation sends far more than its limit.
    for url in urls.iter().cycle().take(urls.len() * 4) {
        let (http, url, token) = (http.clone(), url.clone(), token.to_owned());
        tasks.push(tokio::spawn(async move {
            let (mut accepted, mut refused) = (0, 0);
            while started.elapsed() < duration {
                let response = http
                    .post(&url)
                    .bearer_auth(&token)
                    .header("accept", "application/json")
                    .json(&json!({ "query": "{ users { id } }" }))
                    .send()
                    .await
                    .expect("send");
                match response.status().as_u16() {
                    200 => accepted += 1,
                    429 => refused += 1,
                    other => panic!("unexpected status {other}"),
                }
            }
            (accepted, refused)
        }));
    }
    let (mut accepted, mut refused) = (0, 0);
    for task in tasks {
        let (a, r) = task.await.expect("a client");
        accepted += a;
        refused += r;
    }
    (accepted, refused, started.elapsed())
}

/// Issue 20: three replicas sharing the limit through Redis: the organisation's combined accepted
/// rate stays within its limit ± 10 % (after its burst), whichever replica each request reaches.
#[tokio::test]
async fn three_replicas_share_one_limit_through_redis() {
    let limit = RateLimitOptions { per_second: 40, burst: 10 };
    let prefix = format!("ggzhub-test:{}:", Uuid::now_v7());
    let url = redis_url();
    let (urls, token) = replicas(3, limit, |_| Some(shared(limit, &url, &prefix))).await;
    let (accepted, refused, elapsed) = flood(&urls, &token, Duration::from_secs(4)).await;
    let rate = (accepted as f64 - f64::from(limit.burst)) / elapsed.as_secs_f64();
    println!("accepted {accepted}, refused {refused} in {elapsed:?}: {rate:.1}/s after the burst (limit 40/s)");
    assert!(
        refused > accepted,
        "the organisation sent far more than its limit: {accepted} accepted, {refused} refused"
    );
    assert!((36.0..=44.0).contains(&rate), "combined accepted rate {rate:.1}/s is not within 40/s ± 10 %");
}

/// Without Redis (unreachable), each replica keeps serving with its own limit: the three accept
/// more than one limit's worth and at most three (+ 10 %), refuse the rest with 429, and no request
/// fails.
#[tokio::test]
async fn an_unreachable_redis_leaves_each_replica_its_own_limit() {
    let limit = RateLimitOptions { per_second: 20, burst: 5 };
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a port").port();
    let url = format!("redis://127.0.0.1:{port}");
    let limiters: Vec<_> = (0..3).map(|_| shared(limit, &url, "unused:")).collect();
    let stats: Vec<_> = limiters.iter().map(|l| l.stats()).collect();
    let (urls, token) = replicas(3, limit, |i| Some(limiters[i].clone())).await;
    let (accepted, refused, elapsed) = flood(&urls, &token, Duration::from_secs(3)).await;
    let rate = (accepted as f64 - 3.0 * f64::from(limit.burst)) / elapsed.as_secs_f64();
    println!("accepted {accepted}, refused {refused} in {elapsed:?}: {rate:.1}/s after the bursts (3 × 20/s)");
    assert!(refused > accepted, "the replicas still limit: {accepted} accepted, {refused} refused");
    assert!((30.0..=66.0).contains(&rate), "each replica limits on its own: {rate:.1}/s, expected up to 3 × 20/s");
    let local: u64 = stats.iter().map(|s| s.local.load(std::sync::atomic::Ordering::Relaxed)).sum();
    assert_eq!(local as usize, accepted + refused, "every request was counted locally");
}
