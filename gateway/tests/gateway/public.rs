//! Public access over real HTTP (`[auth] public_anonymous`): a caller without a token runs the
//! dashboard's operations against the public contract schema, nothing else, rate-limited per
//! client address; its subgraph calls carry the public reader's internal token. Off, such a
//! caller is refused with 401 as before.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use ggzhub_gateway::admission::public::{PublicAccess, parse_operations};
use ggzhub_gateway::admission::ratelimit::RateLimitOptions;
use ggzhub_gateway::admission::trusted::sha256_hex;
use ggzhub_gateway::auth::identity::Identity;
use ggzhub_gateway::engine::{EngineOptions, Gateway};
use ggzhub_gateway::http::HttpOptions;
use ggzhub_kit::SigningKey;
use ggzhub_kit::server::HttpLimits;
use ggzhub_kit::token::OrgKind;
use serde_json::{Value, json};

use crate::support::{Clock, Mock, mock, org_token, register_of, supergraph};

const REGIONS: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@tag"])
type Query {
  regions: [Region!]! @tag(name: "public")
  drafts: [Draft!]!
}
type Region @key(fields: "code") {
  code: ID! @tag(name: "public")
  name: String! @tag(name: "public")
  capacity: Int
}
type Draft { id: ID! notes: String }
"#;

/// The dashboard's operations in this test: one public, one that strays outside the contract.
const PUBLIC_REGIONS: &str = "query PublicRegions { regions { code name } }";
const DRAFTS: &str = "query Drafts { drafts { id } }";
const ISSUER: &str = "https://idp.example";

fn regions(_: &Value) -> Value {
    json!({ "data": {
        "regions": [{ "code": "utrecht", "name": "Utrecht", "capacity": 3 }],
        "drafts": [{ "id": "d1", "notes": "n" }]
    }})
}

struct Hub {
    url: String,
    subgraph: Mock,
    internal_key: SigningKey,
    caller_key: SigningKey,
}

async fn hub(public: Option<PublicAccess>) -> Hub {
    let subgraph = mock("regions", REGIONS, &Clock::default(), Duration::ZERO, regions).await;
    let gateway = Gateway::new(EngineOptions::default());
    gateway.load_supergraph(&supergraph(&[&subgraph])).expect("loads");
    let caller_key = SigningKey::generate();
    let internal_key = SigningKey::generate();
    let authenticator =
        ggzhub_gateway::auth::oidc::Authenticator::with_keys(ISSUER, &["gateway"], &caller_key.jwks(), 30)
            .expect("keys");
    let identity = Identity {
        verifier: Some(Arc::new(authenticator)),
        register: Some(register_of(ISSUER, &[("12345678", uuid::Uuid::now_v7(), OrgKind::Insurer, &[], &[])])),
        signer: Some(internal_key.signer()),
        allow_anonymous: false,
    };
    let options = HttpOptions { public: public.map(Arc::new), ..Default::default() };
    let app = ggzhub_gateway::http::server::app(Arc::new(gateway), Arc::new(identity), options, HttpLimits::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/graphql", listener.local_addr().expect("addr"));
    tokio::spawn(ggzhub_gateway::http::server::serve(listener, app, std::future::pending()));
    Hub { url, subgraph, internal_key, caller_key }
}

fn access(rate: RateLimitOptions, proxies: &[&str]) -> PublicAccess {
    let manifest = json!({ sha256_hex(PUBLIC_REGIONS): PUBLIC_REGIONS, sha256_hex(DRAFTS): DRAFTS }).to_string();
    PublicAccess::new(
        parse_operations(&manifest).expect("manifest"),
        rate,
        proxies.iter().map(|p| p.parse().expect("net")).collect(),
    )
}

const GENEROUS: RateLimitOptions = RateLimitOptions { per_second: 1000, burst: 1000 };

/// A client whose connections come from `address` (any of 127.0.0.0/8 reaches the hub).
fn client_from(address: &str) -> reqwest::Client {
    reqwest::Client::builder().local_address(address.parse::<IpAddr>().expect("ip")).build().expect("client")
}

async fn post(http: &reqwest::Client, url: &str, body: &Value) -> (u16, Value, reqwest::header::HeaderMap) {
    let response =
        http.post(url).header("accept", "application/graphql-response+json").json(body).send().await.expect("send");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, response.json().await.expect("json"), headers)
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or("")
}

#[tokio::test]
async fn anonymous_callers_run_the_dashboards_public_operations_only() {
    let hub = hub(Some(access(GENEROUS, &[]))).await;
    let http = reqwest::Client::new();

    // A dashboard operation, as text and as a persisted-query hash alone.
    let (status, body, _) = post(&http, &hub.url, &json!({ "query": PUBLIC_REGIONS })).await;
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(body, json!({ "data": { "regions": [{ "code": "utrecht", "name": "Utrecht" }] } }));
    let persisted =
        json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(PUBLIC_REGIONS) } } });
    let (status, body, _) = post(&http, &hub.url, &persisted).await;
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(body["data"]["regions"][0]["code"], "utrecht");
    // GET with a preflight header (a bearer token there is not).
    let response = http
        .get(&hub.url)
        .query(&[("query", PUBLIC_REGIONS)])
        .header("graphql-require-preflight", "1")
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    let calls = hub.subgraph.calls();
    assert_eq!(calls, 3);

    // The subgraph got the public reader's internal token, for its own audience.
    for authorization in hub.subgraph.authorizations() {
        let token = authorization.as_deref().and_then(|a| a.strip_prefix("Bearer ")).expect("a bearer token");
        let claims = hub.internal_key.verifier("regions").verify(token).expect("the gateway's internal token");
        assert_eq!(claims.sub, "public");
        assert_eq!(claims.org, uuid::Uuid::nil());
        assert_eq!(claims.org_kind, OrgKind::PatientOrganisation);
        assert_eq!(claims.scope, "picture:read");
        assert!(claims.regions.is_empty() && claims.roles.is_empty());
    }

    // Anything else: refused before it is parsed, nothing reaches the subgraph.
    let (status, body, _) = post(&http, &hub.url, &json!({ "query": "{ regions { code } }" })).await;
    assert_eq!((status, code(&body)), (403, "PERSISTED_QUERY_NOT_IN_LIST"), "{body:#}");
    assert!(body["errors"][0]["message"].as_str().unwrap_or("").contains("without a token"), "{body:#}");
    let unknown = json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": sha256_hex("{ regions { code } }") } } });
    let (status, body, _) = post(&http, &hub.url, &unknown).await;
    assert_eq!((status, code(&body)), (404, "PERSISTED_QUERY_NOT_FOUND"), "{body:#}");
    // A simple GET (no preflight header, no token) is still refused as a possible forgery.
    let response = http.get(&hub.url).query(&[("query", PUBLIC_REGIONS)]).send().await.expect("send");
    assert_eq!(response.status(), 400);
    assert_eq!(code(&response.json().await.expect("json")), "CSRF_PREVENTION");

    // A manifest operation outside the public contract schema does not validate.
    let (status, body, _) = post(&http, &hub.url, &json!({ "query": DRAFTS })).await;
    assert_eq!((status, code(&body)), (400, "GRAPHQL_VALIDATION_FAILED"), "{body:#}");
    assert!(body["errors"][0]["message"].as_str().unwrap_or("").contains("drafts"), "{body:#}");
    assert_eq!(hub.subgraph.calls(), calls, "no refused operation reached the subgraph");

    // Callers with a token are not held to the dashboard's list, and see the whole schema.
    let token = org_token(&hub.caller_key, ISSUER, "gateway", "12345678", &["picture:read"]);
    let response = http
        .post(&hub.url)
        .bearer_auth(&token)
        .json(&json!({ "query": "{ drafts { id notes } regions { capacity } }" }))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["data"]["drafts"][0]["notes"], "n", "{body:#}");
    // A bad token is refused, never downgraded to public.
    let response = http
        .post(&hub.url)
        .bearer_auth("not.a.token")
        .json(&json!({ "query": PUBLIC_REGIONS }))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn each_client_address_has_its_own_bucket_and_gets_429_with_retry_after() {
    let limit = RateLimitOptions { per_second: 1, burst: 3 };
    let hub = hub(Some(access(limit, &["127.0.0.3/32"]))).await;
    let query = json!({ "query": PUBLIC_REGIONS });
    let first = client_from("127.0.0.1");
    for i in 0..limit.burst {
        let (status, body, _) = post(&first, &hub.url, &query).await;
        assert_eq!(status, 200, "request {i}: {body:#}");
    }
    let (status, body, headers) = post(&first, &hub.url, &query).await;
    assert_eq!((status, code(&body)), (429, "RATE_LIMITED"), "{body:#}");
    let retry_after: u64 = headers["retry-after"].to_str().expect("ascii").parse().expect("seconds");
    assert_eq!(retry_after, 1);
    assert!(body.get("data").is_none());
    assert_eq!(hub.subgraph.calls(), limit.burst as usize, "the refused request reached no subgraph");

    // Another address has its own bucket; X-Forwarded-For from an untrusted peer changes nothing.
    let second = client_from("127.0.0.2");
    for _ in 0..limit.burst {
        assert_eq!(post(&second, &hub.url, &query).await.0, 200);
    }
    let spoofed =
        second.post(&hub.url).header("x-forwarded-for", "198.51.100.7").json(&query).send().await.expect("send");
    assert_eq!(spoofed.status(), 429, "a client cannot pick its own address");

    // Behind the trusted proxy (127.0.0.3), each forwarded client counts on its own.
    let proxy = client_from("127.0.0.3");
    for client in ["198.51.100.7", "198.51.100.8"] {
        for _ in 0..limit.burst {
            let response =
                proxy.post(&hub.url).header("x-forwarded-for", client).json(&query).send().await.expect("send");
            assert_eq!(response.status(), 200, "{client}");
        }
        let response = proxy.post(&hub.url).header("x-forwarded-for", client).json(&query).send().await.expect("send");
        assert_eq!(response.status(), 429, "{client}");
    }

    // Once the wait is over, the first address is served again.
    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    assert_eq!(post(&first, &hub.url, &query).await.0, 200);
}

#[tokio::test]
async fn without_public_access_anonymous_callers_get_401() {
    let hub = hub(None).await;
    let http = reqwest::Client::new();
    let (status, body, headers) = post(&http, &hub.url, &json!({ "query": PUBLIC_REGIONS })).await;
    assert_eq!((status, code(&body)), (401, "UNAUTHENTICATED"), "{body:#}");
    assert_eq!(headers["www-authenticate"], "Bearer");
    assert_eq!(hub.subgraph.calls(), 0);
}
