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
