//! Running the gateway: load the supergraph, watch it for changes, serve HTTP.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::serve::ListenerExt as _;
use ggzhub_kit::server::HttpLimits;

use crate::auth::identity::Identity;
use crate::engine::{EngineOptions, Gateway};
use crate::http::{AppState, HttpOptions};

pub struct ServeOptions {
    pub supergraph: PathBuf,
    pub listen: SocketAddr,
    /// How often the supergraph file is checked for changes; zero turns watching off.
    pub watch_interval: Duration,
    pub engine: EngineOptions,
    pub http: HttpOptions,
    pub limits: HttpLimits,
    pub identity: Identity,
    /// Webhook delivery ([`crate::webhooks`]): the register's webhook store and `[webhooks]`;
    /// `None` delivers none.
    pub webhooks: Option<(Arc<crate::webhooks::WebhookStore>, crate::webhooks::WebhookOptions)>,
    /// Where `GET /metrics` is served (`[metrics] listen`); `None`: nowhere.
    pub metrics_listen: Option<SocketAddr>,
}

/// Builds the gateway's HTTP application for an engine and identity.
pub fn app(gateway: Arc<Gateway>, identity: Arc<Identity>, http: HttpOptions, limits: HttpLimits) -> axum::Router {
    let cors = http.cors.clone();
    let routes = crate::http::router(AppState::new(gateway, identity, http));
    // The body limit counts decompressed bytes and refuses with a GraphQL error, so the gateway
    // brings its own instead of the shared one.
    let routes = crate::http::body_layers(routes, limits.body_limit);
    let app = ggzhub_kit::server::layers_without_body_limit(routes, limits);
    // Outermost: a preflight is answered before anything else looks at it, and every answer
    // (refusals and timeouts included) carries the CORS headers a browser needs to read it.
    match cors {
        Some(cors) => app.layer(cors),
        None => app,
    }
}

/// Loads the supergraph (refusing to start on a broken one), then serves until `shutdown`.
pub async fn run(
    options: ServeOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // Metrics first: instruments are created on first use and must find the provider.
    let metrics = ggzhub_kit::metrics::init("ggzhub-gateway")?;
    if let Some(addr) = options.metrics_listen {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding the metrics listener {addr}"))?;
        tracing::info!(metrics = %format!("http://{}/metrics", listener.local_addr()?), "metrics listener");
        metrics.serve(listener);
    }
    let gateway = Arc::new(Gateway::try_new(options.engine)?);
    crate::metrics::observe_circuits(gateway.resilience());
    let sdl = std::fs::read_to_string(&options.supergraph)
        .with_context(|| format!("reading the supergraph {}", options.supergraph.display()))?;
    gateway.load_supergraph(&sdl).with_context(|| format!("loading {}", options.supergraph.display()))?;
    tracing::info!(supergraph = %options.supergraph.display(), "supergraph loaded");
    if !options.watch_interval.is_zero() {
        tokio::spawn(watch(gateway.clone(), options.supergraph.clone(), options.watch_interval));
    }
    let listener =
        tokio::net::TcpListener::bind(options.listen).await.with_context(|| format!("binding {}", options.listen))?;
    tracing::info!(url = %format!("http://{}/graphql", listener.local_addr()?), "gateway listening");
    if let Some(verifier) = &options.identity.verifier {
        verifier.spawn_refresh();
    }
    options.http.trusted_documents.spawn_watch();
    let identity = Arc::new(options.identity);
    if let Some((store, webhooks)) = options.webhooks {
        match options.http.subscriptions.bus() {
            Ok(bus) => {
                crate::webhooks::spawn(crate::webhooks::Deliverer {
                    gateway: gateway.clone(),
                    identity: identity.clone(),
                    bus,
                    store,
                    trusted_documents: options.http.trusted_documents.clone(),
                    options: webhooks,
                })?;
            }
            Err(_) => tracing::info!("no event stream ([events] nats_url): this gateway delivers no webhooks"),
        }
    }
    let app = app(gateway, identity, options.http, options.limits);
    serve(listener, app, shutdown).await?;
    Ok(())
}

/// Serves the gateway's application until `shutdown`, recording each connection's peer address
/// (public access rate-limits per client address, [`crate::admission::public`]); then lets in-flight
/// requests finish. Accepted connections get `TCP_NODELAY` (axum leaves Nagle's algorithm on): an
/// answer written in more than one segment must not wait for the client's delayed ACK.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = listener.tap_io(|stream| {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY on an accepted connection");
        }
    });
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}

/// Polls the supergraph file; a changed file is loaded and swapped in atomically, a broken one
/// is logged and ignored (the current supergraph keeps serving).
pub async fn watch(gateway: Arc<Gateway>, path: PathBuf, interval: Duration) {
    crate::watch::poll_file(&path, interval, |path| {
        match std::fs::read_to_string(path) {
            Ok(sdl) if gateway.supergraph_sdl().as_deref() == Some(sdl.as_str()) => {}
            Ok(sdl) => match gateway.load_supergraph(&sdl) {
                Ok(()) => tracing::info!(supergraph = %path.display(), "new supergraph loaded"),
                Err(error) => {
                    tracing::error!(supergraph = %path.display(), %error, "new supergraph refused; the previous one keeps serving");
                }
            },
            Err(error) => tracing::warn!(supergraph = %path.display(), %error, "supergraph file unreadable"),
        }
        true
    })
    .await;
}

/// Asks a running subgraph for its SDL (`_service { sdl }`), for composing at start in
/// development. `bearer` is a token the subgraph accepts.
pub async fn fetch_subgraph_sdl(url: &str, bearer: Option<&str>) -> anyhow::Result<String> {
    let client = ggzhub_kit::tls::ExtraCa::default().client(|b| b.timeout(Duration::from_secs(10)))?;
    let mut request =
        client.post(url).header("content-type", "application/json").body(r#"{"query":"{ _service { sdl } }"}"#);
    if let Some(token) = bearer {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = request.send().await.with_context(|| format!("asking {url} for its SDL"))?;
    let status = response.status();
    let body: serde_json::Value =
        response.json().await.with_context(|| format!("{url} answered HTTP {status} without JSON"))?;
    body.pointer("/data/_service/sdl")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
        .with_context(|| format!("{url} answered HTTP {status} without `_service.sdl`: {body}"))
}
