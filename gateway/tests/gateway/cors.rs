//! CORS for partners' browser apps (issue 22): with `[cors] allowed_origins` the gateway answers
//! preflights from those origins with what the hub needs (the token, JSON bodies, GraphQL
//! clients' headers) and marks its answers readable by them; an origin not listed gets no CORS
//! headers, so the browser keeps the answer from the page. Off, nothing is marked at all.

use std::sync::Arc;
use std::time::Duration;

use ggzhub_gateway::auth::identity::Identity;
use ggzhub_gateway::engine::{EngineOptions, Gateway};
use ggzhub_gateway::http::HttpOptions;
use ggzhub_gateway::http::cors::CorsConfig;
use ggzhub_kit::SigningKey;
use ggzhub_kit::server::HttpLimits;
use ggzhub_kit::token::OrgKind;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Clock, mock, org_token, register_of, supergraph};

const ACCOUNTS: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { users: [User!]! }
type User @key(fields: "id") { id: ID! name: String! }
"#;

const ISSUER: &str = "https://idp.example";
const PARTNER: &str = "https://planning.partner.example";

struct Hub {
    url: String,
    token: String,
    http: reqwest::Client,
}

async fn hub(cors: CorsConfig) -> Hub {
    let subgraph = mock(
        "accounts",
        ACCOUNTS,
        &Clock::default(),
        Duration::ZERO,
        |_| json!({ "data": { "users": [{ "id": "u1", "name": "Ann", "__typename": "User" }] } }),
    )
    .await;
    let gateway = Gateway::new(EngineOptions::default());
    gateway.load_supergraph(&supergraph(&[&subgraph])).expect("loads");
    let caller_key = SigningKey::generate();
    let authenticator =
        ggzhub_gateway::auth::oidc::Authenticator::with_keys(ISSUER, &["gateway"], &caller_key.jwks(), 30)
            .expect("keys");
    let identity = Identity {
        verifier: Some(Arc::new(authenticator)),
        register: Some(register_of(ISSUER, &[("12345678", uuid::Uuid::now_v7(), OrgKind::Insurer, &[], &[])])),
        signer: Some(SigningKey::generate().signer()),
        allow_anonymous: false,
    };
    let options = HttpOptions { cors: cors.layer().expect("valid [cors]"), ..Default::default() };
    let app = ggzhub_gateway::http::server::app(Arc::new(gateway), Arc::new(identity), options, HttpLimits::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/graphql", listener.local_addr().expect("addr"));
    tokio::spawn(ggzhub_gateway::http::server::serve(listener, app, std::future::pending()));
    let token = org_token(&caller_key, ISSUER, "gateway", "12345678", &["picture:read"]);
    Hub { url, token, http: reqwest::Client::new() }
}

fn partner_only() -> CorsConfig {
    CorsConfig { allowed_origins: vec![PARTNER.to_owned()], ..CorsConfig::default() }
}

impl Hub {
    /// A browser's preflight for a JSON POST with a bearer token from `origin`.
    async fn preflight(&self, origin: &str) -> reqwest::Response {
        self.http
            .request(Method::OPTIONS, &self.url)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization,content-type,apollo-require-preflight")
            .send()
            .await
            .expect("the gateway answers")
    }

    /// The request that follows the preflight.
    async fn post(&self, origin: &str) -> reqwest::Response {
        self.http
            .post(&self.url)
            .header("origin", origin)
            .bearer_auth(&self.token)
            .json(&json!({ "query": "{ users { name } }" }))
            .send()
            .await
            .expect("the gateway answers")
    }
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response.headers().get(name).map(|v| v.to_str().expect("text").to_owned())
}

#[tokio::test]
async fn an_allowed_origin_gets_its_preflight_answered_and_reads_the_answer() {
    let hub = hub(partner_only()).await;
    let preflight = hub.preflight(PARTNER).await;
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(header(&preflight, "access-control-allow-origin").as_deref(), Some(PARTNER));
    let methods = header(&preflight, "access-control-allow-methods").expect("methods").to_ascii_uppercase();
    assert!(methods.contains("POST") && methods.contains("GET"), "{methods}");
    let headers = header(&preflight, "access-control-allow-headers").expect("headers").to_ascii_lowercase();
    for needed in ["authorization", "content-type", "apollo-require-preflight", "last-event-id"] {
        assert!(headers.contains(needed), "{needed} allowed: {headers}");
    }
    assert_eq!(header(&preflight, "access-control-max-age").as_deref(), Some("600"));
    // Bearer tokens are not CORS credentials: none asked for, none allowed.
    assert_eq!(header(&preflight, "access-control-allow-credentials"), None);

    let answer = hub.post(PARTNER).await;
    assert_eq!(answer.status(), 200);
    assert_eq!(header(&answer, "access-control-allow-origin").as_deref(), Some(PARTNER));
    let exposed = header(&answer, "access-control-expose-headers").expect("exposed").to_ascii_lowercase();
    assert!(exposed.contains("retry-after") && exposed.contains("x-request-id"), "{exposed}");
    let vary = header(&answer, "vary").expect("vary").to_ascii_lowercase();
    assert!(vary.contains("origin"), "{vary}");
    let body: Value = answer.json().await.expect("JSON");
    assert_eq!(body["data"]["users"][0]["name"], "Ann", "{body}");
}

#[tokio::test]
async fn an_origin_not_listed_gets_no_cors_headers() {
    let hub = hub(partner_only()).await;
    for origin in ["https://evil.example", "http://planning.partner.example", "https://planning.partner.example:8443"] {
        let preflight = hub.preflight(origin).await;
        // Without Access-Control-Allow-Origin the browser fails the preflight (whatever else
        // the answer lists) and never sends the request.
        assert_eq!(header(&preflight, "access-control-allow-origin"), None, "{origin}");
        // The request itself is served (a browser would not send it; a script outside one can
        // anyway), but nothing in it lets a browser show it to that origin's page.
        let answer = hub.post(origin).await;
        assert_eq!(header(&answer, "access-control-allow-origin"), None, "{origin}");
    }
}

#[tokio::test]
async fn off_by_default_nothing_is_marked() {
    let hub = hub(CorsConfig::default()).await;
    let preflight = hub.preflight(PARTNER).await;
    assert_eq!(header(&preflight, "access-control-allow-origin"), None);
    let answer = hub.post(PARTNER).await;
    assert_eq!(header(&answer, "access-control-allow-origin"), None);
}

#[tokio::test]
async fn refusals_are_readable_by_an_allowed_origin() {
    let hub = hub(partner_only()).await;
    // Without a token: 401, and the partner's app can read why.
    let answer = hub
        .http
        .post(&hub.url)
        .header("origin", PARTNER)
        .json(&json!({ "query": "{ users { name } }" }))
        .send()
        .await
        .expect("answers");
    assert_eq!(answer.status(), 401);
    assert_eq!(header(&answer, "access-control-allow-origin").as_deref(), Some(PARTNER));
    let body: Value = answer.json().await.expect("JSON");
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{body}");
}

#[test]
fn the_configuration_refuses_a_wildcard_with_credentials() {
    let error = CorsConfig { allowed_origins: vec!["*".into()], allow_credentials: true, ..CorsConfig::default() }
        .layer()
        .expect_err("refused")
        .to_string();
    assert!(error.contains("allow_credentials"), "{error}");
}
