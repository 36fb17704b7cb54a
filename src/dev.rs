//! `ggzhub dev`: the whole local hub in one process — every subgraph that exists, embedded
//! SQLite under the data directory, migrations, demo data, and ready-to-use demo tokens.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use ggzhub_kit::db::{DbConfig, connect};
use ggzhub_kit::refs::RefChecker;
use ggzhub_kit::server::HttpLimits;
use ggzhub_kit::token::{OrgTokenRequest, default_scopes};
use ggzhub_kit::{OrgKind, SigningKey};

use crate::cli::{Service, dev_issuer_key_path, dev_key_path, sqlite_url};

/// Options of `ggzhub dev`.
#[derive(Debug, Args)]
pub struct DevArgs {
    /// Directory for the SQLite files, the development signing key and demo-tokens.json.
    #[arg(long, env = "GGZHUB_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
    /// Interface to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port of the gateway (0 picks a free port).
    #[arg(long, default_value_t = 4000)]
    gateway_port: u16,
    /// Serve this supergraph file (watched for changes) instead of composing one at start from
    /// the subgraphs' SDL.
    #[arg(long)]
    supergraph: Option<PathBuf>,
    /// Port of the region subgraph (0 picks a free port).
    #[arg(long, default_value_t = 4001)]
    region_port: u16,
    /// Port of the national-table subgraph (0 picks a free port).
    #[arg(long, default_value_t = 4002)]
    national_table_port: u16,
    /// Port of the contracting subgraph (0 picks a free port).
    #[arg(long, default_value_t = 4003)]
    contracting_port: u16,
    /// Port of the development identity provider, an OpenID Connect provider for the demo
    /// organisations (0 picks a free port).
    #[arg(long, default_value_t = 4005)]
    issuer_port: u16,
    /// Lifetime of the tokens the development identity provider issues (sign-in and client
    /// credentials; no refresh tokens).
    #[arg(long, default_value = "1h", value_parser = crate::cli::parse_ttl)]
    idp_token_ttl: Duration,
    /// Lifetime of the printed demo tokens.
    #[arg(long, default_value = "12h", value_parser = crate::cli::parse_ttl)]
    token_ttl: Duration,
    /// Events between the subgraphs and the gateway: in this process by default.
    #[command(flatten)]
    events: crate::cli::EventsArgs,
    /// Failed webhook deliveries in a row after which a webhook is disabled.
    #[arg(long, env = "GGZHUB_DEV_WEBHOOK_MAX_ATTEMPTS", default_value_t = 8)]
    webhook_max_attempts: u32,
    /// Milliseconds before a failed webhook delivery is retried (doubled after each failure).
    #[arg(long, env = "GGZHUB_DEV_WEBHOOK_BACKOFF_MS", default_value_t = 1000)]
    webhook_backoff_ms: u64,
    /// Serve the metrics of the whole hub (`GET /metrics`, Prometheus text) on this address, e.g.
    /// 127.0.0.1:9464. Off by default; over OTLP they go whenever `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
    #[arg(long, env = "GGZHUB_DEV_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
    /// Let a browser app served from this origin call the gateway (CORS, `[cors]
    /// allowed_origins`), e.g. http://localhost:5173; repeatable. None by default.
    #[arg(long = "cors-origin")]
    cors_origins: Vec<String>,
}

async fn bind(host: IpAddr, port: u16, what: &str) -> anyhow::Result<tokio::net::TcpListener> {
    let addr = SocketAddr::new(host, port);
    tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding the {what} subgraph to {addr}"))
}

/// How long the development gateway uses a register answer: a change in the register applies to
/// new requests within this time.
pub const REGISTER_CACHE_TTL: Duration = Duration::from_secs(10);

/// Runs the local hub until Ctrl-C or SIGTERM.
pub async fn run(args: DevArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.data_dir).with_context(|| format!("creating {}", args.data_dir.display()))?;
    // Two keys: the internal key signs what subgraphs accept (only from the gateway); the
    // identity provider's key signs organisation tokens (accepted by the gateway only).
    let key = SigningKey::load_or_create(&dev_key_path(&args.data_dir))?;
    let issuer_key = SigningKey::load_or_create(&dev_issuer_key_path(&args.data_dir))?;

    // Metrics before anything records: the subgraphs' series carry their service's name.
    let metrics = ggzhub_kit::metrics::init("ggzhub-dev")?;
    if let Some(addr) = args.metrics_listen {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding the metrics listener {addr} (--metrics-listen)"))?;
        tracing::info!(metrics = %format!("http://{}/metrics", listener.local_addr()?), "metrics listener");
        metrics.serve(listener);
    }

    // One event bus for the subgraphs' outboxes and the gateway's subscriptions.
    let bus = args.events.bus().await?;
    let mut region_db = connect(&DbConfig::new(sqlite_url(&args.data_dir, Service::Region.name()))).await?;
    ggzhub_kit::db::instrument(&mut region_db, Service::Region.name());
    Service::Region.migrate(&region_db).await?;
    let report = ggzhub_region::seed::seed(&region_db, &ggzhub_region::seed::Source::Demo).await?;
    if report.loaded {
        tracing::info!(regions = report.regions, offers = report.offers, "loaded region demo data (fictitious)");
    }
    let mut national_db = connect(&DbConfig::new(sqlite_url(&args.data_dir, Service::NationalTable.name()))).await?;
    ggzhub_kit::db::instrument(&mut national_db, Service::NationalTable.name());
    Service::NationalTable.migrate(&national_db).await?;
    if let Some(n) = ggzhub_national_table::seed::seed(&national_db, &ggzhub_national_table::seed::Source::Demo).await?
    {
        tracing::info!(escalations = n, "loaded national-table demo data (fictitious)");
    }

    let mut contracting_db = connect(&DbConfig::new(sqlite_url(&args.data_dir, Service::Contracting.name()))).await?;
    ggzhub_kit::db::instrument(&mut contracting_db, Service::Contracting.name());
    Service::Contracting.migrate(&contracting_db).await?;
    if let Some(n) = ggzhub_contracting::seed::seed(&contracting_db, &ggzhub_contracting::seed::Source::Demo).await? {
        tracing::info!(contracts = n, "loaded contracting demo data (fictitious)");
    }

    let region_listener = bind(args.host, args.region_port, "region").await?;
    let region_addr = region_listener.local_addr()?;
    let national_listener = bind(args.host, args.national_table_port, "national-table").await?;
    let national_addr = national_listener.local_addr()?;
    let contracting_listener = bind(args.host, args.contracting_port, "contracting").await?;
    let contracting_addr = contracting_listener.local_addr()?;
    let gateway_listener = bind(args.host, args.gateway_port, "gateway").await?;
    let gateway_addr = gateway_listener.local_addr()?;
    let issuer_listener = bind(args.host, args.issuer_port, "identity provider").await?;
    let issuer_addr = issuer_listener.local_addr()?;

    // The region subgraph asks contracting which offers an insurer contracts (to let it read
    // their continuity signals); contracting's listener is bound already, so its URL is known.
    let contracting = ggzhub_region::contracted::ContractingClient::new(RefChecker::new(
        format!("http://{contracting_addr}/graphql"),
        Service::Contracting.name(),
        key.signer(),
    ));
    // The development identity provider's issuer is its own address. The demo register binds the
    // demo organisations to it; when it moved (another --issuer-port or --host than last time),
    // the bindings move with it.
    let idp_issuer = format!("http://{}", loopback(issuer_addr));
    rebind_dev_issuer(&region_db, &args.data_dir, &idp_issuer).await?;
    let accounts = ggzhub_region::register::accounts_for_issuer(&region_db, &idp_issuer)
        .await?
        .into_iter()
        .map(|a| ggzhub_dev_idp::Account {
            organisation: a.organisation,
            kind: a.kind,
            scheme: a.scheme,
            identifier: a.identifier,
            persons: a
                .persons
                .into_iter()
                .map(|p| ggzhub_dev_idp::Person { subject: p.subject, name: p.name })
                .collect(),
        })
        .collect();
    let tokens = demo_tokens(&region_db, &issuer_key, &idp_issuer, args.token_ttl).await?;
    let region_app = ggzhub_region::app::router_with_events(
        region_db,
        Arc::new(key.verifier(Service::Region.name())),
        Some(contracting),
        ggzhub_region::app::Events::new(bus.clone()),
        HttpLimits::default(),
    );
    let refs = RefChecker::new(format!("http://{region_addr}/graphql"), Service::Region.name(), key.signer());
    let national_app = ggzhub_national_table::app::router_with_events(
        national_db,
        Arc::new(key.verifier(Service::NationalTable.name())),
        refs,
        HttpLimits::default(),
        bus.clone(),
    );

    let owners = ggzhub_contracting::graphql::Owners {
        region: RefChecker::new(format!("http://{region_addr}/graphql"), Service::Region.name(), key.signer()),
        national_table: RefChecker::new(
            format!("http://{national_addr}/graphql"),
            Service::NationalTable.name(),
            key.signer(),
        ),
    };
    let contracting_app = ggzhub_contracting::app::router(
        contracting_db,
        Arc::new(key.verifier(Service::Contracting.name())),
        owners,
        HttpLimits::default(),
    );

    let tokens_path = args.data_dir.join("demo-tokens.json");
    write_private(&tokens_path, serde_json::to_string_pretty(&tokens)?.as_bytes())
        .with_context(|| format!("writing {}", tokens_path.display()))?;

    // One shutdown signal stops every server; each drains its in-flight requests.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let idp = identity_provider(&args, &issuer_key, &idp_issuer, gateway_addr, accounts)?;
    let issuer = tokio::spawn(ggzhub_kit::server::serve(
        issuer_listener,
        ggzhub_kit::server::layers(idp.provider.router(), HttpLimits::default()),
        stopped(stop_rx.clone()),
    ));
    let jwks_url = format!("{}/.well-known/jwks.json", idp.provider.issuer());
    let region = tokio::spawn(ggzhub_kit::server::serve(region_listener, region_app, stopped(stop_rx.clone())));
    let national = tokio::spawn(ggzhub_kit::server::serve(national_listener, national_app, stopped(stop_rx.clone())));
    let contracting =
        tokio::spawn(ggzhub_kit::server::serve(contracting_listener, contracting_app, stopped(stop_rx.clone())));

    let subgraphs = [
        (Service::Region, region_addr),
        (Service::NationalTable, national_addr),
        (Service::Contracting, contracting_addr),
    ];
    let gateway = Arc::new(ggzhub_gateway::engine::Gateway::new(ggzhub_gateway::engine::EngineOptions {
        subgraph_urls: subgraphs
            .iter()
            .map(|(s, addr)| (s.name().to_owned(), format!("http://{addr}/graphql")))
            .collect(),
        ..Default::default()
    }));
    ggzhub_gateway::metrics::observe_circuits(gateway.resilience());
    match &args.supergraph {
        Some(path) => {
            let sdl = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            gateway.load_supergraph(&sdl).with_context(|| format!("loading {}", path.display()))?;
            tokio::spawn(ggzhub_gateway::http::server::watch(gateway.clone(), path.clone(), Duration::from_secs(2)));
        }
        None => {
            // The subgraphs' SDL as `ggzhub schema export` writes it (what production composes),
            // from the code running here: it holds what a subgraph's `_service { sdl }` cannot
            // (async-graphql prints no @tag on subscription fields).
            let sdls: Vec<_> = subgraphs
                .iter()
                .map(|(service, addr)| ggzhub_gateway::supergraph::compose::SubgraphSdl {
                    name: service.name().to_owned(),
                    url: format!("http://{addr}/graphql"),
                    sdl: match service {
                        Service::Region => ggzhub_region::graphql::sdl(),
                        Service::NationalTable => ggzhub_national_table::graphql::sdl(),
                        Service::Contracting => ggzhub_contracting::graphql::sdl(),
                    },
                })
                .collect();
            let supergraph =
                ggzhub_gateway::supergraph::compose::compose(&sdls).context("composing the subgraphs' SDL")?;
            gateway.load_supergraph(&supergraph).context("loading the composed supergraph")?;
        }
    }
    // The gateway trusts the development identity provider as it would any OIDC provider:
    // through its JWKS URL.
    let authenticator = ggzhub_gateway::auth::oidc::Authenticator::new(
        vec![ggzhub_gateway::auth::oidc::IssuerConfig {
            jwks_url: Some(jwks_url.clone()),
            ..ggzhub_gateway::auth::oidc::IssuerConfig::new(
                &idp_issuer,
                &[ggzhub_gateway::auth::identity::GATEWAY_AUDIENCE],
            )
        }],
        30,
    )
    .await?;
    let authenticator = Arc::new(authenticator);
    authenticator.spawn_refresh();
    // Organisations are resolved through the region subgraph's register, as in production.
    let register = ggzhub_gateway::auth::register::Register::subgraph(
        format!("http://{region_addr}/graphql"),
        Service::Region.name(),
        key.signer(),
        REGISTER_CACHE_TTL,
        ggzhub_kit::tls::ExtraCa::default().client(|b| b.timeout(Duration::from_secs(5)))?,
    )?;
    let identity = ggzhub_gateway::auth::identity::Identity {
        verifier: Some(authenticator),
        register: Some(Arc::new(register)),
        signer: Some(key.signer()),
        allow_anonymous: false,
    };
    let identity = Arc::new(identity);
    // Webhooks, delivered from the shared event log; in development to any address, over plain
    // http too (a receiver on localhost), with a claim every second.
    ggzhub_gateway::webhooks::spawn(ggzhub_gateway::webhooks::Deliverer {
        gateway: gateway.clone(),
        identity: identity.clone(),
        bus: bus.clone(),
        store: Arc::new(ggzhub_gateway::webhooks::WebhookStore::subgraph(
            format!("http://{region_addr}/graphql"),
            Service::Region.name(),
            key.signer(),
            ggzhub_kit::tls::ExtraCa::default().client(|b| b.timeout(Duration::from_secs(5)))?,
        )),
        trusted_documents: Default::default(),
        options: ggzhub_gateway::webhooks::WebhookOptions {
            poll_interval_secs: 1,
            max_attempts: args.webhook_max_attempts,
            backoff_initial_ms: args.webhook_backoff_ms,
            allow_http: true,
            allow_private_targets: true,
            ..Default::default()
        },
    })?;
    let gateway_app = ggzhub_gateway::http::server::app(
        gateway,
        identity,
        ggzhub_gateway::http::HttpOptions {
            graphiql: true,
            csrf_prevention: true,
            // Development: no trusted documents, and a rate limit that only a runaway loop meets.
            trusted_documents: Default::default(),
            rate_limit: ggzhub_gateway::admission::ratelimit::RateLimitOptions { per_second: 1000, burst: 2000 },
            shared_rate_limit: None,
            batching: Default::default(),
            // The dashboard signs in with the development identity provider.
            dashboard: ggzhub_gateway::http::dashboard::DashboardOptions {
                enabled: true,
                connect_origins: vec![idp_issuer.clone()],
                sign_in: Some(ggzhub_gateway::http::dashboard::SignIn {
                    issuer: idp_issuer.clone(),
                    client_id: ggzhub_dev_idp::DASHBOARD_CLIENT_ID.to_owned(),
                }),
            },
            // The public view: anonymous callers may run the dashboard's own operations, with a
            // per-address limit that browser tests loading many views from one address never meet.
            public: Some(Arc::new(
                ggzhub_gateway::admission::public::PublicConfig {
                    per_address_per_second: 100,
                    burst: 200,
                    ..Default::default()
                }
                .load()
                .context("the dashboard's operations (dashboard/operations.json)")?,
            )),
            // Admission control as gateway.toml's defaults have it.
            admission: Default::default(),
            subscriptions: Arc::new(ggzhub_gateway::subscription::Subscriptions::new(
                Some(bus.clone()),
                Default::default(),
            )),
            cors: ggzhub_gateway::http::cors::CorsConfig {
                allowed_origins: args.cors_origins.clone(),
                ..Default::default()
            }
            .layer()
            .context("--cors-origin")?,
        },
        HttpLimits::default(),
    );
    let gateway_task =
        tokio::spawn(ggzhub_gateway::http::server::serve(gateway_listener, gateway_app, stopped(stop_rx)));

    println!("\nggzhub dev hub (DEMO DATA: fictitious organisations)");
    println!("  dashboard                http://{gateway_addr}/");
    println!("  gateway                  http://{gateway_addr}/graphql");
    println!("                           (open it in a browser for GraphiQL)");
    println!("  region subgraph          http://{region_addr}/graphql");
    println!("  national-table subgraph  http://{national_addr}/graphql");
    println!("  contracting subgraph     http://{contracting_addr}/graphql");
    println!("  health                   http://<each>/health/ready");
    println!("  identity provider (dev)  {}/.well-known/openid-configuration", idp.provider.issuer());
    println!("    sign-in clients        {} (PKCE, public)", ggzhub_dev_idp::DASHBOARD_CLIENT_ID);
    println!("    machine clients        client credentials; secrets in {}", idp.clients_path.display());
    for ids in idp.machine_ids.chunks(4) {
        println!("                           {}", ids.join(", "));
    }
    println!(
        "\nDemo organisation tokens, for the gateway (subgraphs accept only the gateway's internal tokens; also in {}):",
        tokens_path.display()
    );
    for t in tokens.as_array().into_iter().flatten() {
        println!(
            "  {:<22} {} ({})\n    {}",
            t["kind"].as_str().unwrap_or(""),
            t["name"].as_str().unwrap_or(""),
            t["org"].as_str().unwrap_or(""),
            t["token"].as_str().unwrap_or("")
        );
    }
    println!("\nREADME.md has a first query to try.\n");

    ggzhub_kit::server::shutdown_signal().await;
    let _ = stop_tx.send(true);
    region.await.context("region server task")??;
    national.await.context("national-table server task")??;
    contracting.await.context("contracting server task")??;
    gateway_task.await.context("gateway server task")??;
    issuer.await.context("identity provider task")??;
    tracing::info!("dev hub stopped");
    Ok(())
}

/// The development identity provider of `ggzhub dev`, and what to print about it.
struct DevIdentityProvider {
    provider: ggzhub_dev_idp::DevIdp,
    machine_ids: Vec<String>,
    clients_path: PathBuf,
}

/// Builds the development identity provider for `accounts`: the dashboard as a public client on
/// the gateway's origins, one confidential client per account (secrets written to `demo-clients.json`, never
/// printed).
fn identity_provider(
    args: &DevArgs,
    issuer_key: &SigningKey,
    issuer: &str,
    gateway_addr: SocketAddr,
    accounts: Vec<ggzhub_dev_idp::Account>,
) -> anyhow::Result<DevIdentityProvider> {
    let mut origins =
        vec![format!("http://{}", loopback(gateway_addr)), format!("http://localhost:{}", gateway_addr.port())];
    origins.dedup();
    let clients = ggzhub_dev_idp::demo_clients(&accounts, &origins);
    let clients_path = args.data_dir.join("demo-clients.json");
    let document = ggzhub_dev_idp::clients_document(issuer, &accounts, &clients);
    write_private(&clients_path, serde_json::to_string_pretty(&document)?.as_bytes())
        .with_context(|| format!("writing {}", clients_path.display()))?;
    let machine_ids = clients.iter().filter(|c| c.secret.is_some()).map(|c| c.id.clone()).collect();
    let mut settings = ggzhub_dev_idp::Settings::new(issuer);
    settings.token_ttl = args.idp_token_ttl;
    let provider = ggzhub_dev_idp::DevIdp::new(settings, issuer_key, accounts, clients)
        .context("configuring the development identity provider")?;
    Ok(DevIdentityProvider { provider, machine_ids, clients_path })
}

/// An address as a local URL names it: an unspecified host (`0.0.0.0`) becomes `127.0.0.1`.
fn loopback(addr: SocketAddr) -> SocketAddr {
    let ip = if addr.ip().is_unspecified() { IpAddr::from([127, 0, 0, 1]) } else { addr.ip() };
    SocketAddr::new(ip, addr.port())
}

/// Moves the demo register's bindings to the development identity provider's issuer `issuer`
/// when it is not where they are (recorded in `dev-issuer.txt` of the data directory; the
/// register is seeded for [`ggzhub_kit::token::DEV_ISSUER`], the default address). Bindings to other issuers are
/// left alone.
async fn rebind_dev_issuer(db: &sea_orm::DatabaseConnection, data_dir: &Path, issuer: &str) -> anyhow::Result<()> {
    let record = crate::cli::dev_issuer_record_path(data_dir);
    let previous = crate::cli::dev_issuer(data_dir)?;
    if previous != issuer {
        let moved = ggzhub_region::register::move_bindings(db, &previous, issuer).await?;
        tracing::info!(from = %previous, to = %issuer, moved, "demo register bound to the development identity provider's address");
    }
    std::fs::write(&record, format!("{issuer}\n")).with_context(|| format!("writing {}", record.display()))?;
    Ok(())
}

/// One token per organisation kind, for the first demo organisation of that kind: signed by the
/// development identity provider (`issuer`), naming the organisation by the identifier the
/// register binds to it. The file also says what the register holds for it (regions, roles).
async fn demo_tokens(
    db: &sea_orm::DatabaseConnection,
    issuer_key: &SigningKey,
    issuer: &str,
    ttl: Duration,
) -> anyhow::Result<serde_json::Value> {
    let orgs = ggzhub_region::seed::organisations(&ggzhub_region::seed::Source::Demo)?;
    let signer = issuer_key.signer_as(issuer);
    let mut out = Vec::new();
    for kind in OrgKind::ALL {
        let Some(org) = orgs.iter().find(|o| o.kind == kind) else { continue };
        let Some((scheme, identifier)) = ggzhub_region::register::identifier_for(db, &org.id, issuer).await? else {
            tracing::warn!(org = %org.id, "demo organisation not bound to the development issuer; no token");
            continue;
        };
        let (regions, roles) = ggzhub_region::register::seats(db, &org.id).await?;
        let token = signer.sign_org(&OrgTokenRequest {
            subject: format!("demo:{identifier}:1"),
            audience: vec![ggzhub_gateway::auth::identity::GATEWAY_AUDIENCE.to_owned()],
            scheme: scheme.as_str().to_owned(),
            identifier: identifier.clone(),
            scopes: Vec::new(),
            name: Some(format!("Demo-medewerker 1 ({})", org.name)),
            ttl,
        });
        out.push(serde_json::json!({
            "kind": kind.as_str(), "org": org.id, "name": org.name, "scheme": scheme.as_str(),
            "identifier": identifier, "regions": regions, "roles": roles,
            "scopes": default_scopes(kind), "token": token,
        }));
    }
    Ok(serde_json::Value::Array(out))
}

/// Writes a file only its owner can read (the tokens are bearer credentials).
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut file = opts.open(path)?;
    // `mode` applies only to a new file: tighten one left by an earlier run too.
    #[cfg(unix)]
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    file.write_all(bytes)
}
