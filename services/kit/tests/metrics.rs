//! A subgraph's metrics (issue 20): its requests by route and status, its SQL statements by
//! operation and outcome, its database pool, and GraphQL errors by code, read as Prometheus text.
//! On PostgreSQL when `DATABASE_URL` is set, else on SQLite.

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::routing::post;
use ggzhub_kit::db::{DbConfig, connect, drop_schema};
use ggzhub_kit::server::{HttpLimits, wrap};
use sea_orm::{ConnectionTrait as _, Statement, TransactionTrait as _};
use tower::ServiceExt as _;

#[tokio::test]
async fn a_service_reports_its_requests_statements_pool_and_errors() {
    // The process's global provider: this is the binary's only test.
    let metrics = ggzhub_kit::metrics::init("ggzhub-test").expect("metrics install");
    let (cfg, cleanup) = match std::env::var("DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => {
            let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
            let mut cfg = DbConfig::new(url.clone());
            cfg.schema = Some(schema.clone());
            cfg.max_connections = 4;
            (cfg, Some((url, schema)))
        }
        _ => (DbConfig::new("sqlite::memory:"), None),
    };
    let (system, max) = if cleanup.is_some() { ("postgresql", 4) } else { ("sqlite", 1) };
    let mut db = connect(&cfg).await.expect("the database connects");
    ggzhub_kit::db::instrument(&mut db, "region");

    // Prepared statements, as the services run them (sea-orm does not measure unprepared ones:
    // migrations and session settings).
    let backend = db.get_database_backend();
    for sql in ["SELECT 1", "SELECT 2"] {
        db.query_one_raw(Statement::from_string(backend, sql)).await.expect("a statement");
    }
    db.query_one_raw(Statement::from_string(backend, "SELECT * FROM no_such_table")).await.expect_err("a failing one");

    let app =
        wrap("region", Router::new().route("/graphql", post(|| async { "{}" })), db.clone(), HttpLimits::default());
    for path in ["/graphql", "/graphql", "/no/such/path"] {
        let request = Request::post(path).body(Body::from("{}")).expect("a request");
        app.clone().oneshot(request).await.expect("an answer");
    }
    ggzhub_kit::metrics::graphql_errors("region", ["FORBIDDEN", "FORBIDDEN", "INTERNAL"]);

    // One connection taken by a transaction: used.
    let transaction = db.begin().await.expect("a transaction");
    metrics.refresh();
    let text = metrics.text();
    transaction.commit().await.expect("committed");
    if let Some((url, schema)) = cleanup {
        drop_schema(&url, &schema).await.expect("the test schema is dropped");
    }

    let statements = |operation: &str, failed: bool| {
        let error = if failed { ",error_type=\"_OTHER\"" } else { "" };
        format!(
            "db_client_operation_duration_seconds_count{{db_operation_name=\"{operation}\",db_system_name=\"{system}\"{error},ggzhub_service=\"region\"}}"
        )
    };
    let value = |series: &str| -> f64 {
        let line = text
            .lines()
            .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
            .unwrap_or_else(|| panic!("no series {series} in:\n{text}"));
        line[series.len()..].trim().parse().expect("a number")
    };
    assert!(value(&statements("SELECT", false)) >= 2.0, "{text}");
    assert_eq!(value(&statements("SELECT", true)), 1.0, "{text}");
    let requests = |route: &str, status: u16| {
        format!(
            "http_server_request_duration_seconds_count{{ggzhub_service=\"region\",http_request_method=\"POST\",http_response_status_code=\"{status}\",http_route=\"{route}\"}}"
        )
    };
    assert_eq!(value(&requests("/graphql", 200)), 2.0, "{text}");
    // A path the service does not have is one series, whatever the path.
    assert_eq!(value(&requests("other", 404)), 1.0, "{text}");
    assert_eq!(
        value(
            "http_server_active_requests{ggzhub_service=\"region\",http_request_method=\"POST\",http_route=\"/graphql\"}"
        ),
        0.0
    );
    assert_eq!(value("ggzhub_graphql_errors_total{error_code=\"FORBIDDEN\",ggzhub_service=\"region\"}"), 2.0);
    assert_eq!(value("ggzhub_graphql_errors_total{error_code=\"INTERNAL\",ggzhub_service=\"region\"}"), 1.0);
    assert_eq!(value("db_client_connection_max{db_client_connection_pool_name=\"region\"}"), f64::from(max));
    // The transaction holds one; the pool may still be handing back the connection of the
    // failed statement (PostgreSQL), so at least one and at most the pool.
    let used = value(
        "db_client_connection_count{db_client_connection_pool_name=\"region\",db_client_connection_state=\"used\"}",
    );
    assert!((1.0..=f64::from(max)).contains(&used), "{used} used:\n{text}");
    assert!(text.contains("# TYPE db_client_operation_duration_seconds histogram"), "{text}");
}
