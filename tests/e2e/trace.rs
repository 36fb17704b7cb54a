//! One trace from the client through the gateway and a subgraph down to the database: the
//! gateway's spans (parse, validate, plan, execute, subgraph fetch), the subgraph's request span
//! continuing the `traceparent` the gateway sent, and the SQL statements under it.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use ggzhub_gateway::auth::identity::Identity;
use ggzhub_gateway::engine::{EngineOptions, Gateway};
use ggzhub_gateway::http::HttpOptions;
use ggzhub_gateway::supergraph::compose::{SubgraphSdl, compose};
use ggzhub_kit::db::{DbConfig, connect};
use ggzhub_kit::server::HttpLimits;
use ggzhub_kit::token::{OrgTokenRequest, default_scopes};
use ggzhub_kit::{OrgKind, SigningKey};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use sea_orm_migration::MigratorTrait as _;
use serde_json::{Value, json};
use tracing_subscriber::layer::SubscriberExt as _;

use crate::support::serve;

/// The spans of this test binary, exported in memory by the process's global subscriber. Not a
/// thread's own (`set_default`): `cargo test` runs the binary's tests on threads of one process,
/// and tracing caches each callsite's interest for every thread, so a span first created on
/// another test's thread, where no subscriber listens, could stay switched off for a thread-local
/// one. Other tests' spans land here too; this test reads only its own trace's.
fn spans() -> &'static (SdkTracerProvider, InMemorySpanExporter) {
    static SPANS: OnceLock<(SdkTracerProvider, InMemorySpanExporter)> = OnceLock::new();
    SPANS.get_or_init(|| {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder().with_simple_exporter(exporter.clone()).build();
        let subscriber =
            tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber of this binary");
        (provider, exporter)
    })
}

#[tokio::test]
async fn one_trace_runs_from_the_gateway_to_the_database() {
    let (provider, exporter) = spans();

    let key = SigningKey::generate();
    let db = connect(&DbConfig::new("sqlite::memory:")).await.expect("db");
    ggzhub_region::migration::Migrator::up(&db, None).await.expect("migrations");
    ggzhub_region::seed::seed(&db, &ggzhub_region::seed::Source::Demo).await.expect("demo data");
    let region_url =
        serve(ggzhub_region::app::router(db, Arc::new(key.verifier(ggzhub_region::AUDIENCE)), HttpLimits::default()))
            .await;
    let supergraph = compose(&[SubgraphSdl {
        name: ggzhub_region::AUDIENCE.to_owned(),
        url: region_url,
        sdl: ggzhub_region::graphql::sdl(),
    }])
    .expect("composes");
    let gateway = Gateway::new(EngineOptions::default());
    gateway.load_supergraph(&supergraph).expect("loads");
    let issuer_key = SigningKey::generate();
    let authenticator = ggzhub_gateway::auth::oidc::Authenticator::with_keys(
        ggzhub_kit::token::DEV_ISSUER,
        &[ggzhub_gateway::auth::identity::GATEWAY_AUDIENCE],
        &issuer_key.jwks(),
        30,
    )
    .expect("keys load");
    // The register given as data: this test follows the query's trace, not the register's.
    let register = ggzhub_gateway::auth::register::Register::fixed(
        vec![ggzhub_gateway::auth::register::FixedEntry {
            identifiers: vec![("OIN".into(), "00000099000000000001".into())],
            bindings: vec![(ggzhub_kit::token::DEV_ISSUER.into(), "OIN".into())],
            organisation: ggzhub_gateway::auth::register::Registered {
                org: uuid::Uuid::nil(),
                kind: OrgKind::NationalTable,
                regions: vec![],
                roles: vec![],
            },
        }],
        Duration::from_secs(30),
    );
    let identity = Identity {
        verifier: Some(Arc::new(authenticator)),
        register: Some(Arc::new(register)),
        signer: Some(key.signer()),
        allow_anonymous: false,
    };
    let gateway_url = serve(ggzhub_gateway::http::server::app(
        Arc::new(gateway),
        Arc::new(identity),
        HttpOptions { graphiql: false, csrf_prevention: true, ..Default::default() },
        HttpLimits::default(),
    ))
    .await;

    let token = issuer_key.signer_as(ggzhub_kit::token::DEV_ISSUER).sign_org(&OrgTokenRequest {
        subject: "trace-test".into(),
        audience: vec![ggzhub_gateway::auth::identity::GATEWAY_AUDIENCE.to_owned()],
        scheme: "OIN".into(),
        identifier: "00000099000000000001".into(),
        scopes: default_scopes(OrgKind::NationalTable).iter().map(|s| (*s).to_owned()).collect(),
        name: None,
        ttl: Duration::from_secs(60),
    });
    let trace_id = "0af7651916cd43dd8448eb211c80319c";
    let response = reqwest::Client::new()
        .post(&gateway_url)
        .bearer_auth(token)
        .header("traceparent", format!("00-{trace_id}-b7ad6b7169203331-01"))
        .json(&json!({ "query": r#"{ region(code: "utrecht") { code name } }"# }))
        .send()
        .await
        .expect("gateway answers");
    let body: Value = response.json().await.expect("json");
    assert_eq!(body, json!({ "data": { "region": { "code": "utrecht", "name": "Utrecht" } } }));

    // The subgraph's request span ends when its response body is finished, which may be just
    // after the gateway has read it: give the server task a moment to close it.
    let mut spans = Vec::new();
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        provider.force_flush().expect("flush");
        spans = exporter.get_finished_spans().expect("spans");
        let subgraph_spans = spans
            .iter()
            .filter(|s| s.name == "http_request" && s.span_context.trace_id().to_string() == trace_id)
            .count();
        if subgraph_spans >= 2 {
            break;
        }
    }
    let in_trace: Vec<_> = spans.iter().filter(|s| s.span_context.trace_id().to_string() == trace_id).collect();
    let names: Vec<&str> = in_trace.iter().map(|s| s.name.as_ref()).collect();
    for expected in ["parse", "validate", "plan", "execute", "subgraph_fetch"] {
        assert!(names.contains(&expected), "gateway span {expected} in the trace: {names:?}");
    }
    let fetch = in_trace.iter().find(|s| s.name == "subgraph_fetch").expect("fetch span");
    let subgraph_request = in_trace
        .iter()
        .find(|s| s.name == "http_request" && s.parent_span_id == fetch.span_context.span_id())
        .expect("the subgraph's request span continues the gateway's fetch span");
    assert!(
        in_trace
            .iter()
            .any(|s| s.name.starts_with("sea_orm")
                && s.span_context.trace_id() == subgraph_request.span_context.trace_id()),
        "database statements are in the same trace: {names:?}"
    );
}
