//! Authentication: only a valid internal token for this subgraph gets in (401 otherwise), and
//! a token's scopes bound what it may do.

use base64::Engine as _;
use ggzhub_kit::SigningKey;
use ggzhub_kit::token::{INTERNAL_ISSUER, TokenRequest, scopes};
use serde_json::json;

use crate::helpers::*;

const REGIONS: &str = "query { regions { nodes { code } } }";

fn claims(aud: &str, exp: i64) -> serde_json::Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "iss": INTERNAL_ISSUER, "sub": "test", "aud": aud, "exp": exp, "iat": now - 3600, "jti": "j-1",
        "org": PROVIDER_A, "org_kind": "PROVIDER", "regions": ["utrecht"], "roles": [],
        "scope": "picture:read offers:write"
    })
}

#[tokio::test]
async fn rejects_request_without_token() {
    let app = TestApp::spawn().await;
    let resp = app.graphql(REGIONS).send().await;
    assert_unauthenticated(&resp);
}

#[tokio::test]
async fn rejects_malformed_token() {
    let app = TestApp::spawn().await;
    for token in ["not-a-jwt", "a.b.c", "eyJhbGciOiJFZERTQSJ9.e30.", "Bearer"] {
        let resp = app.graphql(REGIONS).bearer(token).send().await;
        assert_unauthenticated(&resp);
    }
}

#[tokio::test]
async fn rejects_token_signed_by_another_key() {
    let app = TestApp::spawn().await;
    let other = SigningKey::generate();
    let token = other.signer().sign_claims(&claims("region", chrono::Utc::now().timestamp() + 300));
    let resp = app.graphql(REGIONS).bearer(token).send().await;
    assert_unauthenticated(&resp);
}

#[tokio::test]
async fn rejects_expired_token_beyond_the_clock_leeway() {
    let app = TestApp::spawn().await;
    // LEEWAY_SECONDS is 30: two minutes ago is expired whatever the clock skew allowance.
    let token = app.server.key.signer().sign_claims(&claims("region", chrono::Utc::now().timestamp() - 120));
    let resp = app.graphql(REGIONS).bearer(token).send().await;
    assert_unauthenticated(&resp);
    assert!(resp.body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("expired")), "{:#}", resp.body);
}

#[tokio::test]
async fn accepts_token_expired_within_the_clock_leeway() {
    let app = TestApp::spawn().await;
    let token = app.server.key.signer().sign_claims(&claims("region", chrono::Utc::now().timestamp() - 5));
    let resp = app.graphql(REGIONS).bearer(token).send().await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.data()["regions"]["nodes"].as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn rejects_token_for_another_audience() {
    let app = TestApp::spawn().await;
    let token = app.server.key.signer().sign(&TokenRequest {
        subject: "test".into(),
        audience: vec!["contracting".into()],
        org: PROVIDER_A,
        org_kind: ggzhub_kit::OrgKind::Provider,
        regions: vec!["utrecht".into()],
        roles: vec![],
        scopes: vec![scopes::PICTURE_READ.into()],
        ttl: std::time::Duration::from_secs(300),
    });
    let resp = app.graphql(REGIONS).bearer(token).send().await;
    assert_unauthenticated(&resp);
}

#[tokio::test]
async fn rejects_token_from_another_issuer() {
    let app = TestApp::spawn().await;
    let mut c = claims("region", chrono::Utc::now().timestamp() + 300);
    c["iss"] = json!("someone-else");
    let resp = app.graphql(REGIONS).bearer(app.server.key.signer().sign_claims(&c)).send().await;
    assert_unauthenticated(&resp);
}

#[tokio::test]
async fn rejects_unsigned_alg_none_token() {
    let app = TestApp::spawn().await;
    let b64 = |v: serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let mut c = claims("region", chrono::Utc::now().timestamp() + 300);
    c["org_kind"] = json!("HUB_OPERATOR");
    c["scope"] = json!("picture:read admin");
    let kid = app.server.key.kid().to_owned();
    for header in [json!({"alg": "none", "typ": "JWT"}), json!({"alg": "none", "typ": "JWT", "kid": kid})] {
        let token = format!("{}.{}.", b64(header), b64(c.clone()));
        let resp = app.graphql(REGIONS).bearer(token).send().await;
        assert_unauthenticated(&resp);
    }
}

#[tokio::test]
async fn refused_mutation_changes_nothing() {
    let app = TestApp::spawn().await;
    let before = app.audit_count().await;
    let resp = app
        .graphql("mutation($id: ID!) { closeCareOffer(id: $id, expectedVersion: 1) { status } }")
        .var("id", OFFER_A_CRISIS)
        .bearer("garbage")
        .send()
        .await;
    assert_unauthenticated(&resp);
    assert_eq!(app.offer(OFFER_A_CRISIS).await["status"], "SECURED");
    assert_eq!(app.audit_count().await, before);
}

#[tokio::test]
async fn token_without_picture_read_gets_forbidden_on_reads() {
    let app = TestApp::spawn().await;
    let caller = provider_a().with_scopes(&[scopes::OFFERS_WRITE]);
    for query in [
        REGIONS,
        "query { organisations { nodes { id } } }",
        "query { careOffers { nodes { id } } }",
        "query { careForms { code } }",
        "query { waitingTimes(region: \"utrecht\") { nodes { id } } }",
        "query { continuitySignals { nodes { id } } }",
        "query { signalCounts(region: \"utrecht\") { open } }",
        "query { auditLog { nodes { id } } }",
    ] {
        let resp = app.graphql(query).as_caller(&caller).send().await;
        assert_eq!(resp.status, 200);
        assert_eq!(resp.error_codes().first().map(String::as_str), Some("FORBIDDEN"), "{query}: {:#}", resp.body);
        assert!(resp.body["data"].is_null(), "{query}: {:#}", resp.body);
    }
}

#[tokio::test]
async fn token_without_offers_write_cannot_change_offers() {
    let app = TestApp::spawn().await;
    let read_only = provider_a().with_scopes(&[scopes::PICTURE_READ]);
    let resp = app
        .graphql("mutation($id: ID!) { closeCareOffer(id: $id, expectedVersion: 1) { status } }")
        .var("id", OFFER_A_CRISIS)
        .as_caller(&read_only)
        .send()
        .await;
    assert_refused(&resp, "closeCareOffer", "FORBIDDEN");
    assert_eq!(app.offer(OFFER_A_CRISIS).await["status"], "SECURED");
}

#[tokio::test]
async fn operator_without_admin_scope_cannot_administer() {
    let app = TestApp::spawn().await;
    let resp = app
        .graphql(
            r#"mutation { createRegion(input: {code: "zwolle", name: "Zwolle", kind: IZA, neighbours: []}) { code } }"#,
        )
        .as_caller(&operator().with_scopes(&[scopes::PICTURE_READ]))
        .send()
        .await;
    assert_refused(&resp, "createRegion", "FORBIDDEN");
}
