//! Authentication: only a valid internal token for this subgraph gets in (HTTP 401 otherwise,
//! with no data), and a token's scopes bound what it may do.

use ggzhub_kit::SigningKey;
use ggzhub_kit::token::{INTERNAL_ISSUER, TokenRequest};
use serde_json::json;

use crate::helpers::*;

const KPIS: &str = "query { nationalKpis { code } }";

fn claims(aud: &str, exp: i64) -> serde_json::Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "iss": INTERNAL_ISSUER, "sub": "test", "aud": aud, "exp": exp, "iat": now - 3600, "jti": "j-1",
        "org": NATIONAL_TABLE, "org_kind": "NATIONAL_TABLE", "regions": [], "roles": [],
        "scope": "picture:read national:write"
    })
}

#[tokio::test]
async fn rejects_request_without_token() {
    let app = TestApp::spawn().await;
    let resp = app.graphql(KPIS).send().await;
    assert_unauthenticated(&resp);
}

#[tokio::test]
async fn rejects_malformed_token() {
    let app = TestApp::spawn().await;
    for token in ["not-a-jwt", "a.b.c", "eyJhbGciOiJFZERTQSJ9.e30."] {
        let resp = app.graphql(KPIS).bearer(token).send().await;
        assert_unauthenticated(&resp);
    }
}

#[tokio::test]
async fn rejects_expired_token() {
    let app = TestApp::spawn().await;
    // Two minutes ago is past the 30 s clock leeway.
    let token = app.server.key.signer().sign_claims(&claims("national-table", chrono::Utc::now().timestamp() - 120));
    let resp = app.graphql(KPIS).bearer(token).send().await;
    assert_unauthenticated(&resp);
    assert!(resp.body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("expired")), "{:#}", resp.body);
}

#[tokio::test]
async fn rejects_token_signed_by_another_key() {
    let app = TestApp::spawn().await;
    let other = SigningKey::generate();
    let token = other.signer().sign_claims(&claims("national-table", chrono::Utc::now().timestamp() + 300));
    let resp = app.graphql(KPIS).bearer(token).send().await;
    assert_unauthenticated(&resp);
}

#[tokio::test]
async fn rejects_token_for_the_region_subgraph() {
    let app = TestApp::spawn().await;
    // A token the region subgraph accepts (same key) is no good here.
    let region = app.region.as_ref().expect("region subgraph runs");
    let token = region.token(&national_table());
    let ok = region.graphql("query { regions { nodes { code } } }").bearer(token.clone()).send().await;
    assert!(ok.body["data"]["regions"].is_object(), "the token is valid for the region subgraph: {:#}", ok.body);
    let resp = app.graphql(KPIS).bearer(token).send().await;
    assert_unauthenticated(&resp);
    assert!(resp.body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("not issued")), "{:#}", resp.body);
}

#[tokio::test]
async fn rejects_mutation_without_valid_token_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let for_contracting = app.server.key.signer().sign(&TokenRequest {
        subject: "nt".into(),
        audience: vec!["contracting".into()],
        org: NATIONAL_TABLE,
        org_kind: ggzhub_kit::OrgKind::NationalTable,
        regions: vec![],
        roles: vec![],
        scopes: vec!["picture:read".into(), "national:write".into()],
        ttl: std::time::Duration::from_secs(300),
    });
    for token in [None, Some(for_contracting)] {
        let mut call = app.graphql(CREATE_KPI).var("input", kpi_input("REGIONS_WITH_OVERVIEW"));
        if let Some(t) = token {
            call = call.bearer(t);
        }
        assert_unauthenticated(&call.send().await);
    }
    assert_eq!(app.count::<ggzhub_national_table::entity::kpi::Entity>().await, 0);
    assert!(app.audit_entries().await.is_empty());
}

#[tokio::test]
async fn token_without_picture_read_reads_nothing() {
    let app = TestApp::spawn().await;
    let no_read = provider_a().with_scopes(&["offers:write"]);
    for (query, field) in [
        (KPIS, "nationalKpis"),
        ("query { escalations { nodes { id } } }", "escalations"),
        ("query { supraRegionalListings { nodes { id } } }", "supraRegionalListings"),
        ("query { expertiseNetworks { id } }", "expertiseNetworks"),
    ] {
        let resp = app.graphql(query).as_caller(&no_read).send().await;
        assert_refused(&resp, field, "FORBIDDEN");
    }
}
