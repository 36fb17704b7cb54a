//! Deprecated fields in use, per organisation (issue 22): the operator reads in the gateway's
//! metrics which organisations still use a deprecated field or argument before removing it.
//! A test binary of its own: it installs the process's meter provider.

#[path = "gateway/support.rs"]
#[allow(unused_imports)]
mod support;

use std::sync::Arc;
use std::time::Duration;

use ggzhub_gateway::auth::identity::Identity;
use ggzhub_gateway::engine::{EngineOptions, Gateway};
use ggzhub_gateway::http::HttpOptions;
use ggzhub_kit::SigningKey;
use ggzhub_kit::server::HttpLimits;
use ggzhub_kit::token::OrgKind;
use serde_json::{Value, json};

use support::{Clock, mock, org_token, register_of, supergraph};

const OFFERS: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query {
  offers(first: Int, category: String @deprecated(reason: "Use kind.")): [Offer!]!
}
type Offer @key(fields: "id") {
  id: ID!
  beds: Int @deprecated(reason: "Use capacity. Removal on or after 2027-06-01.")
  capacity: Int
}
"#;
const ISSUER: &str = "https://idp.example";

#[tokio::test]
async fn each_organisation_using_a_deprecated_field_is_counted() {
    let metrics = ggzhub_kit::metrics::init("ggzhub-gateway-test").expect("metrics install");
    let subgraph = mock(
        "offers",
        OFFERS,
        &Clock::default(),
        Duration::ZERO,
        |_| json!({ "data": { "offers": [{ "id": "o1", "beds": 3, "capacity": 3, "__typename": "Offer" }] } }),
    )
    .await;
    let gateway = Gateway::new(EngineOptions::default());
    gateway.load_supergraph(&supergraph(&[&subgraph])).expect("loads");
    let key = SigningKey::generate();
    let (insurer, provider) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let authenticator =
        ggzhub_gateway::auth::oidc::Authenticator::with_keys(ISSUER, &["gateway"], &key.jwks(), 30).expect("keys");
    let identity = Identity {
        verifier: Some(Arc::new(authenticator)),
        register: Some(register_of(
            ISSUER,
            &[("10000001", insurer, OrgKind::Insurer, &[], &[]), ("10000002", provider, OrgKind::Provider, &[], &[])],
        )),
        signer: Some(SigningKey::generate().signer()),
        allow_anonymous: false,
    };
    let app = ggzhub_gateway::http::server::app(
        Arc::new(gateway),
        Arc::new(identity),
        HttpOptions::default(),
        HttpLimits::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/graphql", listener.local_addr().expect("addr"));
    tokio::spawn(ggzhub_gateway::http::server::serve(listener, app, std::future::pending()));
    let http = reqwest::Client::new();
    let ask = |ura: &'static str, query: &'static str| {
        let (http, url, token) =
            (http.clone(), url.clone(), org_token(&key, ISSUER, "gateway", ura, &["picture:read"]));
        async move {
            let body: Value = http
                .post(&url)
                .bearer_auth(token)
                .json(&json!({ "query": query }))
                .send()
                .await
                .expect("answers")
                .json()
                .await
                .expect("JSON");
            assert!(body.get("errors").is_none(), "{body}");
        }
    };
    // The insurer uses a deprecated field twice (through a fragment once) and an argument once;
    // the provider only current fields.
    ask("10000001", "{ offers { id beds } }").await;
    ask("10000001", r#"query Q { offers(category: "ACUTE") { ...F } } fragment F on Offer { beds }"#).await;
    ask("10000002", "{ offers(first: 1) { id capacity } }").await;

    metrics.refresh();
    let text = metrics.text();
    let series = |field: &str, org: uuid::Uuid, kind: &str| {
        format!(
            "ggzhub_graphql_deprecated_usage_total{{ggzhub_organisation_id=\"{org}\",ggzhub_organisation_kind=\"{kind}\",graphql_field_path=\"{field}\"}}"
        )
    };
    let value = |name: &str| -> Option<f64> {
        text.lines().find_map(|l| l.strip_prefix(name).and_then(|rest| rest.trim().parse().ok()))
    };
    assert_eq!(value(&series("Offer.beds", insurer, "INSURER")), Some(2.0), "{text}");
    assert_eq!(value(&series("Query.offers(category:)", insurer, "INSURER")), Some(1.0), "{text}");
    assert!(!text.contains(&provider.to_string()), "the provider uses nothing deprecated:\n{text}");
}
