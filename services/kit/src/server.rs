//! Server bootstrap shared by every service: health endpoints, request ids, body limit,
//! tracing spans that continue an incoming W3C `traceparent`, and graceful shutdown.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderName, Request, StatusCode};
use axum::routing::get;
use opentelemetry::propagation::TextMapPropagator as _;
use sea_orm::DatabaseConnection;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// Default request body limit (1 MiB); GraphQL documents for the subgraphs are far smaller.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;
/// Default time a request may take before it is answered with 408.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The request id header, set when absent and echoed in the response.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Limits every service applies.
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    /// Maximum request body in bytes.
    pub body_limit: usize,
    /// Maximum time per request.
    pub request_timeout: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self { body_limit: DEFAULT_BODY_LIMIT, request_timeout: DEFAULT_REQUEST_TIMEOUT }
    }
}

/// Wraps a service's routes with the health endpoints and the shared layers.
pub fn wrap(routes: Router, db: DatabaseConnection, limits: HttpLimits) -> Router {
    let health =
        Router::new().route("/health/live", get(|| async { "ok" })).route("/health/ready", get(ready)).with_state(db);
    layers(routes.merge(health), limits)
}

/// The shared layers alone (body limit, timeout, panic catching, trace spans, request ids), for
/// services whose health endpoints are their own.
pub fn layers(routes: Router, limits: HttpLimits) -> Router {
    layers_without_body_limit(routes.layer(RequestBodyLimitLayer::new(limits.body_limit)), limits)
}

/// The shared layers except the body limit, for a service that limits bodies itself (the
/// gateway counts them after decompression and refuses with a GraphQL error). `routes` then sits
/// where the body limit would be: inside the timeout, panic catching, trace span and request id.
pub fn layers_without_body_limit(routes: Router, limits: HttpLimits) -> Router {
    routes
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, limits.request_timeout))
        .layer(CatchPanicLayer::new())
        .layer(TraceLayer::new_for_http().make_span_with(make_span))
        .layer(SetSensitiveRequestHeadersLayer::new([axum::http::header::AUTHORIZATION]))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

async fn ready(State(db): State<DatabaseConnection>) -> (StatusCode, &'static str) {
    if crate::db::ping(&db).await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    }
}

/// The span for one HTTP request; continues the caller's trace when a `traceparent` is sent.
pub fn make_span(req: &Request<Body>) -> tracing::Span {
    let request_id = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
    let span = tracing::info_span!(
        "http_request",
        method = %req.method(),
        path = %req.uri().path(),
        request_id = %request_id,
        org = tracing::field::Empty,
    );
    let propagator = opentelemetry_sdk::propagation::TraceContextPropagator::new();
    let parent = propagator.extract(&opentelemetry_http::HeaderExtractor(req.headers()));
    // Fails only when no OpenTelemetry layer is installed; then there is nothing to continue.
    let _ = span.set_parent(parent);
    span
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown requested; draining in-flight requests");
}
