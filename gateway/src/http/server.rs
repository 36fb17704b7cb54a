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
    /// How client connections are served ([`ConnectionThreads`]).
    pub connection_threads: ConnectionThreads,
}

/// How client connections are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionThreads {
    /// On the process's runtime, whose worker threads share (steal) each other's tasks.
    Shared,
    /// On this many threads, each with a runtime of its own and a listening socket of its own on
    /// the same address (`SO_REUSEPORT`: the kernel spreads new connections over them). A
    /// connection, and every request on it with its subgraph calls (on the thread's own
    /// subgraph connections), stays on one thread. On the shared runtime one request on one
    /// connection woke the idle worker about three times (4.5 context switches per request
    /// against 2.2; issue 18's tenth round in `infra/bench/README.md`). The price: a connection
    /// cannot move to an idle core while its thread is busy with another.
    PerThread(std::num::NonZeroUsize),
}

impl ConnectionThreads {
    /// The most connection threads `[server] connection_threads` may ask for.
    pub const MAX: usize = 1024;

    /// `Some(0)`: the shared runtime; `Some(n)`: `n` threads; `None`: one thread per core.
    ///
    /// # Errors
    /// More than [`MAX`](Self::MAX) threads.
    pub fn from_config(threads: Option<usize>) -> anyhow::Result<Self> {
        let threads =
            threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from).min(Self::MAX));
        anyhow::ensure!(
            threads <= Self::MAX,
            "server.connection_threads is {threads}; at most {} (left out: one per core)",
            Self::MAX
        );
        Ok(std::num::NonZeroUsize::new(threads).map_or(Self::Shared, Self::PerThread))
    }
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
    let listeners = Listeners::bind(options.listen, options.connection_threads)
        .await
        .with_context(|| format!("binding {}", options.listen))?;
    tracing::info!(url = %format!("http://{}/graphql", listeners.local_addr()?), "gateway listening");
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
    listeners.serve(app, shutdown).await
}

/// The gateway's listening sockets: one on the shared runtime, or one per connection thread.
pub enum Listeners {
    Shared(tokio::net::TcpListener),
    PerThread(Vec<std::net::TcpListener>),
}

impl Listeners {
    /// Binds `address` (port 0: one the system picks) as `threads` asks. A port another socket
    /// listens on is refused, as with one listener.
    pub async fn bind(address: SocketAddr, threads: ConnectionThreads) -> std::io::Result<Self> {
        let ConnectionThreads::PerThread(threads) = threads else {
            return Ok(Self::Shared(tokio::net::TcpListener::bind(address).await?));
        };
        // A plain socket first: it cannot bind a port that another socket listens on (another
        // gateway's connection threads included), which a socket joining with SO_REUSEPORT could.
        // Its port (port 0: one the system picks) is the threads'; it is closed just before they
        // bind it.
        let address = std::net::TcpListener::bind(address)?.local_addr()?;
        let mut listeners = Vec::with_capacity(threads.get());
        for _ in 0..threads.get() {
            listeners.push(reuse_port_listener(address)?);
        }
        Ok(Self::PerThread(listeners))
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        match self {
            Self::Shared(listener) => listener.local_addr(),
            Self::PerThread(listeners) => listeners.first().map_or_else(
                || Err(std::io::Error::new(std::io::ErrorKind::NotFound, "no listening socket")),
                std::net::TcpListener::local_addr,
            ),
        }
    }

    /// Serves `app` on these sockets until `shutdown` ([`serve`] on the shared runtime, or a
    /// runtime per connection thread), then lets in-flight requests finish.
    pub async fn serve(
        self,
        app: axum::Router,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        match self {
            Self::Shared(listener) => Ok(serve(listener, app, shutdown).await?),
            Self::PerThread(listeners) => serve_on_threads(listeners, app, shutdown).await,
        }
    }
}

/// A non-blocking listening socket on `address` that this process's other connection threads
/// bind too (`SO_REUSEPORT`: the kernel spreads new connections over them by their addresses, so
/// no thread takes them all). `SO_REUSEADDR` and the backlog as tokio's `TcpListener::bind`.
fn reuse_port_listener(address: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let socket = socket2::Socket::new(socket2::Domain::for_address(address), socket2::Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&address.into())?;
    socket.listen(1024)?;
    Ok(socket.into())
}

/// The names of the connection threads, followed by `-` and their number.
pub const CONNECTION_THREAD_NAME: &str = "gateway-conn";

/// Serves `app` on one thread per listener, each thread with a runtime of its own, until
/// `shutdown`; then each lets its in-flight requests finish. A thread that stops early (its
/// runtime cannot start, or accepting fails) stops the others and is reported. No thread's
/// runtime ends before every thread is done serving: a call one thread shares with another (the
/// same subgraph query in flight, [`crate::subgraph::fetch::SubgraphClient::call_shared`]) is
/// driven by the runtime that started it.
async fn serve_on_threads(
    listeners: Vec<std::net::TcpListener>,
    app: axum::Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let (release, released) = tokio::sync::watch::channel(false);
    let mut threads = futures_util::stream::FuturesUnordered::new();
    let mut handles = Vec::new();
    for (index, listener) in listeners.into_iter().enumerate() {
        let (app, mut stopping, mut released) = (app.clone(), stopping.clone(), released.clone());
        let (done, finished) = tokio::sync::oneshot::channel::<std::io::Result<()>>();
        let name = format!("{CONNECTION_THREAD_NAME}-{index}");
        let handle = std::thread::Builder::new()
            .name(name.clone())
            .spawn(move || {
                crate::subgraph::fetch::on_connection_thread();
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .thread_name(name)
                    // Name lookups of new subgraph connections, mostly.
                    .max_blocking_threads(64)
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        let _ = done.send(Err(error));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let served = async {
                        let listener = tokio::net::TcpListener::from_std(listener)?;
                        serve(listener, app, async move {
                            // A dropped sender (the gateway is going away) stops too.
                            let _ = stopping.wait_for(|stop| *stop).await;
                        })
                        .await
                    }
                    .await;
                    let _ = done.send(served);
                    // Until every thread is done (or the gateway is gone).
                    let _ = released.wait_for(|release| *release).await;
                });
                // Tasks still running (a subscription's feed) are dropped; blocking ones get a
                // moment.
                runtime.shutdown_timeout(Duration::from_secs(5));
            })
            .context("starting a connection thread")?;
        threads.push(finished);
        handles.push(handle);
    }
    drop(stopping);
    let outcome = |ended: Result<std::io::Result<()>, tokio::sync::oneshot::error::RecvError>| match ended {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(anyhow::Error::new(error).context("a connection thread failed")),
        Err(_) => Err(anyhow::anyhow!("a connection thread ended without an answer (panic)")),
    };
    let mut shutdown = std::pin::pin!(shutdown);
    let early = tokio::select! {
        () = &mut shutdown => None,
        ended = futures_util::StreamExt::next(&mut threads) => ended,
    };
    let _ = stop.send(true);
    let mut result = match early {
        None => Ok(()),
        Some(ended) => outcome(ended).and_then(|()| Err(anyhow::anyhow!("a connection thread stopped serving"))),
    };
    while let Some(ended) = futures_util::StreamExt::next(&mut threads).await {
        match (outcome(ended), &result) {
            (Err(error), Ok(())) => result = Err(error),
            (Err(error), Err(_)) => tracing::warn!(error = format!("{error:#}"), "a connection thread failed too"),
            (Ok(()), _) => {}
        }
    }
    let _ = release.send(true);
    // Each thread ends its runtime (at most 5 s for blocking tasks) before the gateway returns.
    let joined = tokio::task::spawn_blocking(move || handles.into_iter().all(|handle| handle.join().is_ok())).await;
    if !matches!(joined, Ok(true)) && result.is_ok() {
        result = Err(anyhow::anyhow!("a connection thread panicked while ending its runtime"));
    }
    result
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// An application that answers with the name of the thread that served it, after `delay_ms`
    /// (a query parameter) if given, having said on `started` that it waits.
    fn thread_names(started: tokio::sync::mpsc::UnboundedSender<()>) -> axum::Router {
        axum::Router::new().route(
            "/",
            axum::routing::get(move |query: axum::extract::Query<HashMap<String, u64>>| async move {
                if let Some(delay) = query.get("delay_ms") {
                    let _ = started.send(());
                    tokio::time::sleep(Duration::from_millis(*delay)).await;
                }
                std::thread::current().name().unwrap_or("unnamed").to_owned()
            }),
        )
    }

    async fn two_threads() -> (Vec<std::net::TcpListener>, SocketAddr) {
        let threads = ConnectionThreads::from_config(Some(2)).expect("two threads");
        let Listeners::PerThread(listeners) =
            Listeners::bind("127.0.0.1:0".parse().expect("address"), threads).await.expect("binds")
        else {
            panic!("per-thread listeners were asked for");
        };
        assert_eq!(listeners.len(), 2);
        let address = listeners[0].local_addr().expect("address");
        (listeners, address)
    }

    /// A client with one connection of its own.
    fn one_connection() -> reqwest::Client {
        reqwest::Client::builder().pool_max_idle_per_host(1).build().expect("client")
    }

    async fn thread_of(client: &reqwest::Client, url: &str) -> String {
        let answer = client.get(url).send().await.expect("answered");
        assert!(answer.status().is_success());
        answer.text().await.expect("text")
    }

    #[test]
    fn the_number_of_threads_comes_from_the_configuration() {
        assert_eq!(ConnectionThreads::from_config(Some(0)).expect("valid"), ConnectionThreads::Shared);
        assert!(matches!(
            ConnectionThreads::from_config(Some(3)).expect("valid"),
            ConnectionThreads::PerThread(n) if n.get() == 3
        ));
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        assert!(matches!(
            ConnectionThreads::from_config(None).expect("valid"),
            ConnectionThreads::PerThread(n) if n.get() == cores
        ));
        let error = ConnectionThreads::from_config(Some(5000)).expect_err("too many");
        assert!(error.to_string().contains("connection_threads"), "{error}");
    }

    #[tokio::test]
    async fn connections_are_spread_over_the_threads_and_each_stays_on_its_own() {
        let (listeners, address) = two_threads().await;
        let (started, _starts) = tokio::sync::mpsc::unbounded_channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(serve_on_threads(listeners, thread_names(started), async move {
            let _ = stopped.await;
        }));
        let url = format!("http://{address}/");
        // 32 connections open together, three requests each: the kernel spreads connections by
        // their addresses, so all 32 on one thread has a chance of 2^-31.
        let clients: Vec<reqwest::Client> = (0..32).map(|_| one_connection()).collect();
        let firsts = futures_util::future::join_all(clients.iter().map(|client| thread_of(client, &url))).await;
        let mut seen = std::collections::HashSet::new();
        for (client, first) in clients.iter().zip(&firsts) {
            for _ in 0..2 {
                assert_eq!(&thread_of(client, &url).await, first, "a connection's requests all on one thread");
            }
            seen.insert(first.clone());
        }
        assert_eq!(
            seen,
            std::collections::HashSet::from([
                format!("{CONNECTION_THREAD_NAME}-0"),
                format!("{CONNECTION_THREAD_NAME}-1")
            ]),
            "connections reach both threads, and only them"
        );
        stop.send(()).expect("serving");
        served.await.expect("joins").expect("stops cleanly");
        assert!(tokio::net::TcpStream::connect(address).await.is_err(), "nothing listens after the shutdown");
    }

    #[tokio::test]
    async fn a_request_in_flight_at_shutdown_is_answered() {
        let (listeners, address) = two_threads().await;
        let (started, mut starts) = tokio::sync::mpsc::unbounded_channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(serve_on_threads(listeners, thread_names(started), async move {
            let _ = stopped.await;
        }));
        let slow = tokio::spawn(reqwest::get(format!("http://{address}/?delay_ms=300")));
        starts.recv().await.expect("the request started");
        stop.send(()).expect("serving");
        let answer = slow.await.expect("joins").expect("answered after the shutdown began");
        assert!(answer.status().is_success());
        assert!(answer.text().await.expect("text").starts_with(CONNECTION_THREAD_NAME));
        served.await.expect("joins").expect("stops cleanly");
    }

    #[tokio::test]
    async fn a_port_another_socket_listens_on_is_refused_at_start() {
        let threads = ConnectionThreads::from_config(Some(2)).expect("two threads");
        let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
        assert!(Listeners::bind(taken.local_addr().expect("address"), threads).await.is_err());
        // A second gateway on the port of a first one's connection threads: refused too.
        let (first, address) = two_threads().await;
        assert!(Listeners::bind(address, threads).await.is_err());
        drop(first);
    }
}
