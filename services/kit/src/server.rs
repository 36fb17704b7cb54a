//! Server bootstrap shared by every service: health endpoints, request ids, body limit (and the
//! draining of refused bodies), tracing spans that continue an incoming W3C `traceparent`, and
//! graceful shutdown.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
#[cfg(feature = "db")]
use axum::extract::State;
use axum::http::{HeaderName, Request, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
#[cfg(feature = "db")]
use axum::routing::get;
use http_body::Body as _;
use http_body::{Frame, SizeHint};
use opentelemetry::propagation::TextMapPropagator as _;
#[cfg(feature = "db")]
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
/// Most bytes of a request body still unread when the answer is ready (a refusal such as 413 sent
/// before the body was read) that are read and thrown away before answering, so that a client
/// that sends its whole body before reading (most HTTP libraries) receives the answer instead of
/// a reset connection. A body announced longer than this is not read at all; its connection is
/// closed after the answer.
pub const DRAIN_LIMIT: u64 = 12 * 1024 * 1024;
/// Most time spent reading and discarding an unread body (see [`DRAIN_LIMIT`]).
pub const DRAIN_TIME: Duration = Duration::from_secs(5);
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

/// Wraps the routes of `service` (its name: `region`, …) with the health endpoints, the shared
/// layers and its request metrics ([`crate::metrics::track_request`], outermost: timeouts and
/// panics are counted with their status).
#[cfg(feature = "db")]
pub fn wrap(service: &'static str, routes: Router, db: DatabaseConnection, limits: HttpLimits) -> Router {
    let health =
        Router::new().route("/health/live", get(|| async { "ok" })).route("/health/ready", get(ready)).with_state(db);
    layers(routes.merge(health), limits)
        .layer(axum::middleware::from_fn_with_state(service, crate::metrics::track_request))
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
        .layer(axum::middleware::from_fn(drain_unread_body))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, limits.request_timeout))
        .layer(CatchPanicLayer::new())
        .layer(TraceLayer::new_for_http().make_span_with(make_span))
        .layer(SetSensitiveRequestHeadersLayer::new([axum::http::header::AUTHORIZATION]))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// Answers only after the rest of the request body has been read and discarded, up to
/// [`DRAIN_LIMIT`] bytes and [`DRAIN_TIME`]. Without this, a refusal made before the body was
/// read (413 from `Content-Length`, or once the limit is passed; 401 before the body is looked
/// at) is followed by closing the connection with unread bytes in it, which resets it: a client
/// still uploading gets a broken pipe and never the answer. Not for `Expect: 100-continue`
/// requests (the client sends nothing unless asked) nor bodies announced over the bound.
async fn drain_unread_body(request: axum::extract::Request, next: Next) -> Response {
    let headers = request.headers();
    let waits_for_continue =
        headers.get(header::EXPECT).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let announced =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    if waits_for_continue || announced.is_some_and(|n| n > DRAIN_LIMIT) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let shared = Arc::new(Mutex::new(Some(body)));
    let response = next.run(Request::from_parts(parts, Body::new(SharedBody(shared.clone())))).await;
    let rest = shared.lock().unwrap_or_else(PoisonError::into_inner).take();
    if let Some(rest) = rest {
        discard(rest).await;
    }
    response
}

/// Reads `body` to its end and drops what it reads, within the bounds of [`drain_unread_body`].
async fn discard(mut body: Body) {
    let mut left = DRAIN_LIMIT;
    let reading = async {
        while let Some(Ok(frame)) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
            let n = frame.data_ref().map_or(0, |d| d.len() as u64);
            let Some(rest) = left.checked_sub(n) else { return };
            left = rest;
        }
    };
    // Out of time: the connection is closed after the answer, as it would have been anyway.
    let _ = tokio::time::timeout(DRAIN_TIME, reading).await;
}

/// A request body the handler reads while [`drain_unread_body`] keeps hold of it, to read the
/// rest once the answer is ready. The lock is never contended: the handler is done by then.
struct SharedBody(Arc<Mutex<Option<Body>>>);

impl http_body::Body for SharedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        match self.0.lock().unwrap_or_else(PoisonError::into_inner).as_mut() {
            Some(body) => Pin::new(body).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).as_ref().is_none_or(http_body::Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(http_body::Body::size_hint)
            .unwrap_or_default()
    }
}

#[cfg(feature = "db")]
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
/// Accepted connections get `TCP_NODELAY`, as the gateway's do: axum leaves Nagle's algorithm
/// on, and an answer larger than one segment (a page of offers to the gateway) could otherwise
/// have its last segment held until the gateway's delayed ACK.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt as _;
    let listener = listener.tap_io(|stream| {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY on an accepted connection");
        }
    });
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

#[cfg(test)]
mod tests {
    use axum::routing::post;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;

    /// Writes `head` and `body` whole, then reads the whole answer (as most HTTP clients do).
    async fn upload_then_read(address: std::net::SocketAddr, head: String, body: &[u8]) -> String {
        let mut stream = tokio::net::TcpStream::connect(address).await.expect("connect");
        let exchange = async {
            stream.write_all(head.as_bytes()).await.expect("the head is written");
            stream.write_all(body).await.expect("the whole body is written (the server reads it)");
            let mut received = Vec::new();
            stream.read_to_end(&mut received).await.expect("the answer arrives before the connection closes");
            String::from_utf8_lossy(&received).into_owned()
        };
        tokio::time::timeout(Duration::from_secs(60), exchange).await.expect("an answer in time")
    }

    #[tokio::test]
    async fn a_client_that_uploads_before_reading_gets_the_413() {
        let routes = Router::new().route("/graphql", post(|body: Bytes| async move { body.len().to_string() }));
        let app = layers(routes, HttpLimits::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        let big = vec![b'a'; 10 * 1024 * 1024];

        let head =
            format!("POST /graphql HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: {}\r\n\r\n", big.len());
        let answer = upload_then_read(address, head, &big).await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

        // Chunked, without a length: refused once the limit is passed.
        let mut chunked = Vec::new();
        for chunk in big.chunks(64 * 1024) {
            chunked.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            chunked.extend_from_slice(chunk);
            chunked.extend_from_slice(b"\r\n");
        }
        chunked.extend_from_slice(b"0\r\n\r\n");
        let head = "POST /graphql HTTP/1.1\r\nhost: x\r\nconnection: close\r\ntransfer-encoding: chunked\r\n\r\n";
        let answer = upload_then_read(address, head.to_owned(), &chunked).await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

        // Within the limit, the handler reads it all and nothing is left to drain.
        let small = vec![b'a'; 1000];
        let head = format!(
            "POST /graphql HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
            small.len()
        );
        let answer = upload_then_read(address, head, &small).await;
        assert!(answer.starts_with("HTTP/1.1 200") && answer.ends_with("1000"), "{answer}");
    }
}
