//! An incoming W3C `traceparent` continues the caller's trace in the service's spans.

use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use ggzhub_kit::db::{DbConfig, connect};
use ggzhub_kit::server::{HttpLimits, wrap};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use tower::ServiceExt as _;
use tracing_subscriber::layer::SubscriberExt as _;

/// The spans of this test binary, exported in memory by the process's global subscriber. Not a
/// thread's own (`set_default`): `cargo test` runs a binary's tests on threads of one process, and
/// tracing caches each callsite's interest for every thread, so a span first created on another
/// test's thread, where no subscriber listens, stayed switched off for a thread-local one.
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
async fn incoming_traceparent_continues_the_trace() {
    let (provider, exporter) = spans();

    let db = connect(&DbConfig::new("sqlite::memory:")).await.expect("db");
    let app = wrap("test", Router::new().route("/ping", get(|| async { "pong" })), db, HttpLimits::default());
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let parent_id = "00f067aa0ba902b7";
    let resp = app
        .oneshot(
            Request::get("/ping")
                .header("traceparent", format!("00-{trace_id}-{parent_id}-01"))
                .body(Body::empty())
                .expect("request builds"),
        )
        .await
        .expect("request runs");
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().contains_key("x-request-id"), "a request id is set and echoed");
    // The request span ends when the response body is finished.
    let body = axum::body::to_bytes(resp.into_body(), 1024).await.expect("body");
    assert_eq!(&body[..], b"pong");

    provider.force_flush().expect("flush");
    let spans = exporter.get_finished_spans().expect("spans");
    // Other tests of this binary export their request spans here too: find this one's by its trace.
    let span = spans
        .iter()
        .find(|s| s.name == "http_request" && s.span_context.trace_id().to_string() == trace_id)
        .unwrap_or_else(|| panic!("an http_request span in trace {trace_id} was exported: {spans:#?}"));
    assert_eq!(span.parent_span_id.to_string(), parent_id);
}

#[tokio::test]
async fn health_endpoints_answer_and_ready_checks_the_database() {
    let db = connect(&DbConfig::new("sqlite::memory:")).await.expect("db");
    let app = wrap("test", Router::new(), db.clone(), HttpLimits::default());
    let live = app.clone().oneshot(Request::get("/health/live").body(Body::empty()).expect("req")).await.expect("runs");
    assert_eq!(live.status(), 200);
    let ready =
        app.clone().oneshot(Request::get("/health/ready").body(Body::empty()).expect("req")).await.expect("runs");
    assert_eq!(ready.status(), 200);
    db.close().await.expect("closes");
    let ready = app.oneshot(Request::get("/health/ready").body(Body::empty()).expect("req")).await.expect("runs");
    assert_eq!(ready.status(), 503, "ready fails once the database is gone");
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let db = connect(&DbConfig::new("sqlite::memory:")).await.expect("db");
    let app = wrap(
        "test",
        Router::new()
            .route("/echo", axum::routing::post(|body: axum::body::Bytes| async move { body.len().to_string() })),
        db,
        HttpLimits { body_limit: 16, ..HttpLimits::default() },
    );
    let resp = app.oneshot(Request::post("/echo").body(Body::from(vec![b'x'; 17])).expect("req")).await.expect("runs");
    assert_eq!(resp.status(), 413);
}
