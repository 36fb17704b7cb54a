//! HTTPS with a private CA: an identity provider (discovery and JWKS) and a subgraph served over
//! TLS with a certificate from a CA generated here, which no OS trust store holds. With the CA
//! configured (`ca_file`) they are trusted; without it the gateway fails closed, with an error
//! that names the certificate.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::routing::{get, post};
use ggzhub_gateway::auth::oidc::{Authenticator, IssuerConfig, TokenRefusal};
use ggzhub_gateway::engine::{EngineOptions, Gateway};
use ggzhub_gateway::supergraph::compose::{SubgraphSdl, compose};
use ggzhub_kit::SigningKey;
use ggzhub_kit::tls::testing::TestPki;
use serde_json::{Value, json};

use crate::support;

/// The organisation's URA in the tokens.
const ORG: &str = "12345678";

/// An OIDC provider over HTTPS: discovery at `<base>/.well-known/openid-configuration`, keys at
/// `<base>/keys`. Returns its base URL, which is also its issuer.
async fn https_idp(pki: &TestPki, key: &SigningKey) -> String {
    let base = Arc::new(OnceLock::<String>::new());
    let (issuer, jwks) = (base.clone(), key.jwks());
    let app = axum::Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(move || {
                let issuer = issuer.get().cloned().unwrap_or_default();
                async move { axum::Json(json!({ "issuer": issuer, "jwks_uri": format!("{issuer}/keys") })) }
            }),
        )
        .route("/keys", get(move || std::future::ready(axum::Json(jwks.clone()))));
    let url = pki.serve(app).await;
    base.set(url.clone()).expect("set once");
    url
}

fn issuer(base: &str, ca_file: Option<std::path::PathBuf>) -> IssuerConfig {
    IssuerConfig { ca_file, ..IssuerConfig::new(base, &["gateway"]) }
}

fn token(key: &SigningKey, iss: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    key.signer().sign_claims(&json!({
        "iss": iss, "aud": "gateway", "sub": "alice", "exp": now + 300, "iat": now,
        "org_identifier_scheme": "URA", "org_identifier": ORG, "scope": "picture:read"
    }))
}

#[tokio::test]
async fn an_https_provider_is_trusted_through_its_ca_file_and_its_tokens_verify() {
    let pki = TestPki::new();
    let key = SigningKey::generate();
    let base = https_idp(&pki, &key).await;
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");
    // Discovery and JWKS both over https, trusted through the issuer's ca_file.
    let auth = Authenticator::new(vec![issuer(&base, Some(pki.ca_file.clone()))], 30).await.expect("starts");
    let caller = auth.verify(&token(&key, &base)).await.expect("the token verifies");
    assert_eq!(caller.identifier, ORG);
    assert_eq!(caller.issuer, base);
}

#[tokio::test(flavor = "current_thread")]
async fn without_its_ca_an_https_provider_fails_closed_and_the_log_says_why() {
    let pki = TestPki::new();
    let key = SigningKey::generate();
    let base = https_idp(&pki, &key).await;
    // The gateway's log lines on this thread (the test runs on one thread).
    let logs = support::logs::capture();

    let auth =
        Authenticator::new(vec![issuer(&base, None)], 30).await.expect("starts; the provider may be fixed later");
    assert_eq!(auth.verify(&token(&key, &base)).await, Err(TokenRefusal::KeysUnavailable));
    let logged = logs.text();
    assert!(logged.contains("JWKS not loaded"), "{logged}");
    assert!(logged.contains(&format!("{base}/.well-known/openid-configuration")), "{logged}");
    assert!(logged.contains("invalid peer certificate"), "the cause is named: {logged}");

    // Another CA does not help either.
    let other = TestPki::new();
    let auth = Authenticator::new(vec![issuer(&base, Some(other.ca_file.clone()))], 30).await.expect("starts");
    assert_eq!(auth.verify(&token(&key, &base)).await, Err(TokenRefusal::KeysUnavailable));
}

#[tokio::test]
async fn a_ca_file_that_cannot_be_used_stops_the_start() {
    let dir = std::env::temp_dir().join(format!("ggzhub-tls-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let not_pem = dir.join("ca.pem");
    std::fs::write(&not_pem, "not a certificate").expect("write");
    for (path, says) in [(dir.join("missing.pem"), "missing.pem"), (not_pem, "holds no PEM CERTIFICATE")] {
        let error = Authenticator::new(vec![issuer("https://idp.example", Some(path))], 30)
            .await
            .expect_err("a broken ca_file is a configuration error");
        let error = format!("{error:#}");
        assert!(error.contains("issuer https://idp.example") && error.contains(says), "{error}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

const HELLO: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { hello: String }
"#;

fn gateway_over(url: &str, subgraph_ca: ggzhub_kit::tls::ExtraCa) -> Gateway {
    let sdl =
        compose(&[SubgraphSdl { name: "hello".into(), url: url.to_owned(), sdl: HELLO.into() }]).expect("composes");
    let options = EngineOptions { subgraph_timeout: Duration::from_secs(10), subgraph_ca, ..Default::default() };
    let gateway = Gateway::try_new(options).expect("the subgraph client builds");
    gateway.load_supergraph(&sdl).expect("loads");
    gateway
}

#[tokio::test]
async fn the_gateway_calls_an_https_subgraph_whose_ca_is_configured() {
    let pki = TestPki::new();
    let app =
        axum::Router::new().route("/graphql", post(|| async { axum::Json(json!({ "data": { "hello": "hi" } })) }));
    let url = format!("{}/graphql", pki.serve(app).await);

    let trusting = gateway_over(&url, pki.extra_ca());
    let (body, status) = support::run(&trusting, "{ hello }", json!({})).await;
    assert_eq!((status, support::json(&body)), (200, json!({ "data": { "hello": "hi" } })));

    // Without the CA the subgraph's certificate is refused: its part of the answer is null.
    let plain = gateway_over(&url, ggzhub_kit::tls::ExtraCa::default());
    let (body, _) = support::run(&plain, "{ hello }", json!({})).await;
    let body = support::json(&body);
    assert_eq!(body["data"]["hello"], Value::Null, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "SUBGRAPH_UNAVAILABLE", "{body}");
}
