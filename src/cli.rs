//! Command-line interface: `dev`, `serve`, `migrate`, `seed`, `import care-use`, `schema export`, `token`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand, ValueEnum};
use ggzhub_kit::db::{DbConfig, connect};
use ggzhub_kit::refs::RefChecker;
use ggzhub_kit::server::HttpLimits;
use ggzhub_kit::telemetry::LogFormat;
use ggzhub_kit::token::{TokenRequest, scopes};
use ggzhub_kit::{OrgKind, SigningKey, TokenVerifier};
use sea_orm::DatabaseConnection;
use sea_orm_migration::MigratorTrait as _;

/// ggzhub: a GraphQL federation hub for crucial mental-health care (cruciale ggz).
#[derive(Debug, Parser)]
#[command(name = "ggzhub", version, about)]
pub struct Cli {
    /// Log format.
    #[arg(long, global = true, env = "GGZHUB_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

impl Cli {
    /// The worker threads `ggzhub serve <subgraph> --worker-threads` asks for; `None` for
    /// every other command (one per core, or tokio's `TOKIO_WORKER_THREADS`).
    pub fn worker_threads(&self) -> Option<usize> {
        match &self.command {
            Command::Serve { service: ServeCommand::Region(args) } => args.serve.worker_threads,
            Command::Serve { service: ServeCommand::NationalTable(args) } => args.serve.worker_threads,
            Command::Serve { service: ServeCommand::Contracting(args) } => args.serve.worker_threads,
            _ => None,
        }
        .map(usize::from)
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the whole local hub in one process with embedded SQLite and demo data.
    Dev(crate::dev::DevArgs),
    /// Run one service, as in production.
    Serve {
        #[command(subcommand)]
        service: ServeCommand,
    },
    /// Run a service's database migrations and exit.
    Migrate(MigrateArgs),
    /// Load seed data into a service's empty database and exit.
    Seed(SeedArgs),
    /// Import figures from a trusted source into the region database and exit.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Schema files.
    Schema {
        #[command(subcommand)]
        command: SchemaCommand,
    },
    /// Development tokens and keys.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

/// The subgraph services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Service {
    /// Regions, organisations, care offers, overviews, waiting times, signals.
    Region,
    /// Escalations, measures, the supra-regional list, expertise networks, national KPIs.
    NationalTable,
    /// Insurer–provider contracts, contracting guidelines, contract coverage.
    Contracting,
}

impl Service {
    /// Every service, in start order.
    pub const ALL: [Service; 3] = [Service::Region, Service::NationalTable, Service::Contracting];

    /// Name in file names, URLs and token audiences.
    pub fn name(self) -> &'static str {
        match self {
            Self::Region => ggzhub_region::AUDIENCE,
            Self::NationalTable => ggzhub_national_table::AUDIENCE,
            Self::Contracting => ggzhub_contracting::AUDIENCE,
        }
    }

    fn env_prefix(self) -> &'static str {
        match self {
            Self::Region => "REGION",
            Self::NationalTable => "NATIONAL_TABLE",
            Self::Contracting => "CONTRACTING",
        }
    }

    /// Runs the service's migrations.
    pub async fn migrate(self, db: &DatabaseConnection) -> anyhow::Result<()> {
        match self {
            Self::Region => ggzhub_region::migration::Migrator::up(db, None).await,
            Self::NationalTable => ggzhub_national_table::migration::Migrator::up(db, None).await,
            Self::Contracting => ggzhub_contracting::migration::Migrator::up(db, None).await,
        }
        .with_context(|| format!("running {} migrations", self.name()))
    }

    /// The service's SDL.
    pub fn sdl(self) -> String {
        match self {
            Self::Region => ggzhub_region::graphql::sdl(),
            Self::NationalTable => ggzhub_national_table::graphql::sdl(),
            Self::Contracting => ggzhub_contracting::graphql::sdl(),
        }
    }
}

/// Where a service's database is.
#[derive(Debug, Args)]
pub struct DbArgs {
    /// Database URL: `sqlite://path?mode=rwc` or `postgres://…`. Without it: the service's own
    /// variable (`REGION_DATABASE_URL`, `NATIONAL_TABLE_DATABASE_URL`), then `DATABASE_URL` (shared
    /// by all services: on PostgreSQL each then uses a schema named after it), then
    /// `sqlite://<data-dir>/<service>.db?mode=rwc`.
    #[arg(long)]
    database_url: Option<String>,
    /// Directory for SQLite files and the development signing key.
    #[arg(long, env = "GGZHUB_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
    /// Maximum pooled connections (PostgreSQL).
    #[arg(long, env = "GGZHUB_DB_MAX_CONNECTIONS", default_value_t = ggzhub_kit::db::DEFAULT_MAX_CONNECTIONS)]
    max_connections: u32,
}

impl DbArgs {
    fn config(&self, service: Service) -> anyhow::Result<DbConfig> {
        let from_env = |name: String| std::env::var(name).ok().filter(|s| !s.trim().is_empty());
        let own = self.database_url.clone().or_else(|| from_env(format!("{}_DATABASE_URL", service.env_prefix())));
        let mut cfg = match (own, from_env("DATABASE_URL".into())) {
            (Some(url), _) => DbConfig::new(url),
            (None, Some(shared)) => {
                let mut cfg = DbConfig::new(shared);
                // Services sharing one PostgreSQL database keep apart: a schema each (their
                // tables, migration bookkeeping and audit logs never mix).
                if cfg.is_postgres() {
                    cfg.schema = Some(service.name().replace('-', "_"));
                }
                cfg
            }
            (None, None) => {
                std::fs::create_dir_all(&self.data_dir)
                    .with_context(|| format!("creating data directory {}", self.data_dir.display()))?;
                DbConfig::new(sqlite_url(&self.data_dir, service.name()))
            }
        };
        cfg.max_connections = self.max_connections;
        Ok(cfg)
    }
}

/// The SQLite URL of `service` in `data_dir`.
pub fn sqlite_url(data_dir: &Path, service: &str) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join(format!("{service}.db")).display())
}

// The development keys' paths, where the gateway's `--dev-key` looks for them.
pub use ggzhub_gateway::config::{dev_issuer_key_path, dev_key_path};

/// Where `ggzhub dev` records the issuer URL of its development identity provider (its address).
pub fn dev_issuer_record_path(data_dir: &Path) -> PathBuf {
    data_dir.join("dev-issuer.txt")
}

/// The development identity provider's issuer for `data_dir`: the one `ggzhub dev` last ran with
/// there, else [`ggzhub_kit::token::DEV_ISSUER`] (its default address).
pub fn dev_issuer(data_dir: &Path) -> anyhow::Result<String> {
    let record = dev_issuer_record_path(data_dir);
    match std::fs::read_to_string(&record) {
        Ok(text) if !text.trim().is_empty() => Ok(text.trim().to_owned()),
        Ok(_) => Ok(ggzhub_kit::token::DEV_ISSUER.to_owned()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ggzhub_kit::token::DEV_ISSUER.to_owned()),
        Err(e) => Err(e).with_context(|| format!("reading {}", record.display())),
    }
}

#[derive(Debug, Subcommand)]
enum ServeCommand {
    /// The region subgraph.
    Region(ServeRegionArgs),
    /// The national-table subgraph.
    NationalTable(ServeNationalTableArgs),
    /// The contracting subgraph.
    Contracting(ServeContractingArgs),
    /// The federation gateway: one GraphQL endpoint over all subgraphs.
    Gateway(ServeGatewayArgs),
}

#[derive(Debug, Args)]
pub struct ServeGatewayArgs {
    /// Configuration file (see gateway.toml for every option and its default). Without it,
    /// ./gateway.toml is read when present. Environment variables `GGZHUB_GATEWAY__<SECTION>__<KEY>`
    /// override the file; the flags below override both.
    #[arg(long, env = "GGZHUB_GATEWAY_CONFIG")]
    pub config: Option<PathBuf>,
    /// The supergraph (Apollo format) to serve; watched and reloaded when it changes.
    #[arg(long)]
    pub supergraph: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Serve requests without a token (as an anonymous caller; subgraphs get no token).
    #[arg(long)]
    pub allow_anonymous: bool,
    /// Public access: callers without a token get the public contract schema and only the
    /// dashboard's operations, rate-limited per address (`[auth] public_anonymous`, `[public]`).
    #[arg(long)]
    pub public_anonymous: bool,
    /// Development only: use the key in the data directory both to verify callers and to sign
    /// internal tokens (the key `ggzhub token issue` and `ggzhub dev` use).
    #[arg(long)]
    pub dev_key: bool,
    /// Directory of the development key.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Replace a subgraph's URL from the supergraph: `name=url`, repeatable.
    #[arg(long = "subgraph-url", value_parser = parse_subgraph_url)]
    pub subgraph_urls: Vec<(String, String)>,
    /// Address of the metrics listener (`GET /metrics`, Prometheus text; `[metrics] listen`,
    /// default 127.0.0.1:9464).
    #[arg(long)]
    pub metrics_listen: Option<SocketAddr>,
}

fn parse_subgraph_url(s: &str) -> Result<(String, String), String> {
    let (name, url) = s.split_once('=').ok_or_else(|| format!("{s:?} is not name=url"))?;
    if name.is_empty() || !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!("{s:?} is not name=http(s)://…"));
    }
    Ok((name.to_owned(), url.to_owned()))
}

impl ServeGatewayArgs {
    /// The configuration: file and environment, then these flags.
    pub fn config(&self) -> anyhow::Result<ggzhub_gateway::config::GatewayConfig> {
        let mut config = ggzhub_gateway::config::GatewayConfig::load(self.config.as_deref())
            .context("reading the gateway configuration")?;
        if let Some(path) = &self.supergraph {
            config.supergraph.path = path.clone();
        }
        if let Some(listen) = self.listen {
            config.server.listen = listen;
        }
        if self.allow_anonymous {
            config.auth.allow_anonymous = true;
        }
        if self.public_anonymous {
            config.auth.public_anonymous = true;
        }
        if self.dev_key {
            config.auth.dev_key = true;
        }
        if let Some(dir) = &self.data_dir {
            config.auth.data_dir = dir.clone();
        }
        config.subgraphs.urls.extend(self.subgraph_urls.iter().cloned());
        if let Some(listen) = self.metrics_listen {
            config.metrics.listen = Some(listen);
        }
        Ok(config)
    }

    /// The gateway's options from the configuration ([`GatewayConfig::into_options`]).
    ///
    /// [`GatewayConfig::into_options`]: ggzhub_gateway::config::GatewayConfig::into_options
    pub async fn options(&self) -> anyhow::Result<ggzhub_gateway::http::server::ServeOptions> {
        self.config()?.into_options().await
    }
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:4001 for region, :4002 for national-table).
    #[arg(long, env = "GGZHUB_LISTEN")]
    listen: Option<SocketAddr>,
    #[command(flatten)]
    db: DbArgs,
    /// PEM file with the Ed25519 public key of the gateway's internal tokens. Required unless
    /// `--dev-key` is given.
    #[arg(long, env = "GGZHUB_TOKEN_PUBLIC_KEY", required_unless_present = "dev_key")]
    token_public_key: Option<PathBuf>,
    /// Development only: trust the signing key in the data directory (created on first run),
    /// the one `ggzhub token issue` signs with.
    #[arg(long, conflicts_with = "token_public_key")]
    dev_key: bool,
    /// Maximum request body in bytes.
    #[arg(long, env = "GGZHUB_BODY_LIMIT", default_value_t = ggzhub_kit::server::DEFAULT_BODY_LIMIT)]
    body_limit: usize,
    /// Do not run migrations at start.
    #[arg(long)]
    skip_migrations: bool,
    /// PEM file with CA certificates trusted, next to the OS trust store, for the `https://`
    /// subgraphs this one asks (a private PKI).
    #[arg(long, env = "GGZHUB_CA_FILE")]
    ca_file: Option<PathBuf>,
    #[command(flatten)]
    events: EventsArgs,
    /// Address of the metrics listener (`GET /metrics`, Prometheus text), apart from the GraphQL
    /// port (default 127.0.0.1:9465 for region, :9466 for national-table, :9467 for contracting;
    /// the gateway's is :9464).
    #[arg(long, env = "GGZHUB_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
    /// Worker threads of this process's runtime, 1 to 1024 (default: one per core). With one, a
    /// request's tasks never hand over from one worker to another: in the hub benchmark the
    /// subgraphs took about a quarter less CPU per request (infra/bench/README.md, issue 18's
    /// eleventh round), but the process then uses one core, so run a replica per core to use
    /// more (infra/kubernetes runs the subgraphs with 1).
    #[arg(long, env = "GGZHUB_WORKER_THREADS", value_parser = clap::value_parser!(u16).range(1..=1024))]
    worker_threads: Option<u16>,
}

/// Where events (continuity signals, offer status, escalations) travel between the subgraphs'
/// outboxes and the gateways.
#[derive(Debug, Clone, clap::Args)]
pub struct EventsArgs {
    /// NATS server with JetStream (e.g. nats://127.0.0.1:4222) that carries events between
    /// processes and replicas. Without it, events stay inside this process: enough for
    /// `ggzhub dev`, not for services in separate processes.
    #[arg(long, env = "GGZHUB_NATS_URL")]
    pub nats_url: Option<String>,
}

impl EventsArgs {
    /// The bus: NATS JetStream when a URL is given, otherwise an in-process log.
    pub async fn bus(&self) -> anyhow::Result<Arc<dyn ggzhub_kit::events::EventBus>> {
        let bus: Arc<dyn ggzhub_kit::events::EventBus> = match &self.nats_url {
            Some(url) => ggzhub_kit::events::NatsBus::connect(url).await?,
            None => ggzhub_kit::events::LocalBus::new(LOCAL_EVENTS_KEPT),
        };
        tracing::info!(bus = %bus.describe(), "events");
        Ok(bus)
    }
}

/// Events the in-process log keeps for clients that reconnect.
const LOCAL_EVENTS_KEPT: usize = 50_000;

impl ServeArgs {
    fn extra_ca(&self) -> anyhow::Result<ggzhub_kit::tls::ExtraCa> {
        ggzhub_kit::tls::ExtraCa::load(self.ca_file.as_deref()).context("--ca-file")
    }
}

#[derive(Debug, Args)]
struct ServeRegionArgs {
    #[command(flatten)]
    serve: ServeArgs,
    /// The contracting subgraph's GraphQL endpoint, asked which care offers an insurer's agreed
    /// contracts cover so that it reads their continuity signals. Without it insurers read only
    /// the signals of the regions they coordinate; when it cannot be reached, likewise.
    #[arg(long, env = "CONTRACTING_URL")]
    contracting_url: Option<String>,
    /// PEM file with the Ed25519 private key that signs the (read-only) internal tokens of those
    /// questions. Required with `--contracting-url` unless `--dev-key` is given.
    #[arg(long, env = "GGZHUB_TOKEN_SIGNING_KEY")]
    token_signing_key: Option<PathBuf>,
    /// Seconds between two sweeps for continuity signals whose acknowledgement deadline passed
    /// (each becomes overdue, with its event, once — also with several replicas).
    #[arg(long, env = "GGZHUB_SIGNAL_DEADLINE_SWEEP_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    signal_deadline_sweep_secs: u64,
}

#[derive(Debug, Args)]
struct ServeNationalTableArgs {
    #[command(flatten)]
    serve: ServeArgs,
    /// The region subgraph's GraphQL endpoint, asked to check region codes, offer ids and
    /// organisation ids before they are stored.
    #[arg(long, env = "REGION_URL", default_value = "http://127.0.0.1:4001/graphql")]
    region_url: String,
    /// PEM file with the Ed25519 private key that signs the (read-only) internal tokens of those
    /// checks. Required unless `--dev-key` is given.
    #[arg(long, env = "GGZHUB_TOKEN_SIGNING_KEY", required_unless_present = "dev_key")]
    token_signing_key: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ServeContractingArgs {
    #[command(flatten)]
    serve: ServeArgs,
    /// The region subgraph's GraphQL endpoint (offers and organisations are checked there).
    #[arg(long, env = "REGION_URL", default_value = "http://127.0.0.1:4001/graphql")]
    region_url: String,
    /// The national-table subgraph's GraphQL endpoint (national KPIs are checked there).
    #[arg(long, env = "NATIONAL_TABLE_URL", default_value = "http://127.0.0.1:4002/graphql")]
    national_table_url: String,
    /// PEM file with the Ed25519 private key that signs the (read-only) internal tokens of those
    /// checks. Required unless `--dev-key` is given.
    #[arg(long, env = "GGZHUB_TOKEN_SIGNING_KEY", required_unless_present = "dev_key")]
    token_signing_key: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct MigrateArgs {
    /// Which service's database.
    #[arg(value_enum, default_value_t = Service::Region)]
    service: Service,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Debug, Args)]
struct SeedArgs {
    /// Which service's database.
    #[arg(value_enum, default_value_t = Service::Region)]
    service: Service,
    /// Load the built-in demo data (fictitious organisations).
    #[arg(long, conflicts_with = "from", required_unless_present = "from")]
    demo: bool,
    /// Load seed files of the same names and shape as the service's data/demo directory.
    #[arg(long)]
    from: Option<PathBuf>,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// Import demand and care-use figures (people in care, new referrals, people treated outside
    /// their own region) per care-office region, category and quarter from a CSV file in the
    /// format of docs/care-use.md. Every line is checked; a file with any error stores nothing
    /// and the command exits non-zero listing each line number and reason. Importing a quarter
    /// again replaces the supplier's figures of that quarter (audited) and moves its version on;
    /// `--expected-version 2026-Q3=2` replaces it only if it is still at version 2 (`=0`: only
    /// if it was not imported yet).
    CareUse(CareUseImportArgs),
}

#[derive(Debug, Args)]
struct CareUseImportArgs {
    /// The CSV file (header `period,region,category,people_in_care,new_referrals,treated_in_region`).
    #[arg(long)]
    from: PathBuf,
    /// Hub id of the organisation that supplied the figures: an existing NATIONAL_TABLE or
    /// HUB_OPERATOR organisation. It is stored with each figure (a supplier sees its own counts
    /// from 1 to 9 exactly; everyone else "fewer than 10") and named in the audit log.
    #[arg(long)]
    supplier: String,
    /// `QUARTER=VERSION` (repeatable): the version of the supplier's import of that quarter this
    /// file replaces, as the last import printed it; `0` for a quarter not imported yet. A stale
    /// version, or another import of the quarter meanwhile, stores nothing and exits non-zero.
    #[arg(long = "expected-version", value_name = "QUARTER=VERSION", value_parser = expected_version)]
    expected_versions: Vec<(String, i32)>,
    #[command(flatten)]
    db: DbArgs,
}

/// Parses `--expected-version QUARTER=VERSION`.
fn expected_version(arg: &str) -> Result<(String, i32), String> {
    let (quarter, version) = arg.split_once('=').ok_or_else(|| format!("expected QUARTER=VERSION, got {arg:?}"))?;
    ggzhub_region::care_use::period("--expected-version", quarter).map_err(|e| e.to_string())?;
    let version = version.parse::<i32>().map_err(|_| format!("version must be a whole number, got {version:?}"))?;
    Ok((quarter.to_owned(), version))
}

#[derive(Debug, Subcommand)]
enum SchemaCommand {
    /// Write each subgraph's SDL to `<dir>/<name>.graphql`.
    Export {
        /// Output directory.
        #[arg(long, default_value = "schema")]
        dir: PathBuf,
    },
    /// Compose `<dir>/<subgraph>.graphql` into the supergraph `<dir>/supergraph.graphql`.
    Compose {
        /// Directory of the subgraph SDLs and the supergraph.
        #[arg(long, default_value = "schema")]
        dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Sign an organisation token as the development identity provider (for the gateway), or
    /// with --internal an internal token for a subgraph, and print it.
    Issue(Box<TokenArgs>),
    /// Print the development identity provider's JWKS (what `ggzhub dev` publishes).
    Jwks {
        /// Directory holding dev-issuer-key.pem (created when missing).
        #[arg(long, env = "GGZHUB_DATA_DIR", default_value = "data")]
        data_dir: PathBuf,
    },
    /// Print the public key (SPKI PEM) of the data directory's signing key, for
    /// `serve … --token-public-key`.
    PublicKey {
        /// Directory holding dev-signing-key.pem (created when missing).
        #[arg(long, env = "GGZHUB_DATA_DIR", default_value = "data")]
        data_dir: PathBuf,
    },
}

#[derive(Debug, Args)]
struct TokenArgs {
    /// Organisation id: the token names it by the identifier its binding to the development
    /// identity provider asserts (read from the region database's register).
    #[arg(long, required_unless_present = "identifier", conflicts_with = "identifier")]
    org: Option<uuid::Uuid>,
    /// The organisation's identifier as `SCHEME:VALUE` (e.g. `URA:15881399`), instead of --org.
    /// Not with --internal.
    #[arg(long, conflicts_with = "internal")]
    identifier: Option<String>,
    /// Scopes (repeat or space-separate); default none named, which the gateway reads as "all
    /// the organisation's kind may have".
    #[arg(long = "scope", num_args = 1..)]
    scopes: Vec<String>,
    /// Lifetime, e.g. `30m`, `8h`, `3600s`.
    #[arg(long, default_value = "8h", value_parser = parse_ttl)]
    ttl: Duration,
    /// Issue an internal token (signed with the development internal key, as the gateway
    /// signs them) for calling subgraphs directly while debugging. Without it the token is an
    /// organisation token from the development identity provider, accepted by the gateway only.
    #[arg(long)]
    internal: bool,
    /// Audience(s): with --internal, the subgraphs the token is for (default: every subgraph);
    /// otherwise default `gateway`.
    #[arg(long = "audience")]
    audiences: Vec<String>,
    /// With --internal: organisation kind (overrides the database).
    #[arg(long, value_parser = parse_kind, requires = "internal")]
    kind: Option<OrgKind>,
    /// With --internal: region codes (override the register).
    #[arg(long = "region", requires = "internal")]
    regions: Vec<String>,
    /// With --internal: roles, e.g. `chair:utrecht` (override the register).
    #[arg(long = "role", requires = "internal")]
    roles: Vec<String>,
    /// Subject: the person acting for the organisation.
    #[arg(long, default_value = "dev-user")]
    subject: String,
    #[command(flatten)]
    db: DbArgs,
}

fn parse_kind(s: &str) -> Result<OrgKind, String> {
    OrgKind::parse(&s.to_ascii_uppercase()).ok_or_else(|| format!("unknown organisation kind {s}"))
}

/// Parses `90`, `90s`, `30m`, `8h`, `2d` (at most 30 days).
pub fn parse_ttl(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = num.parse().map_err(|_| format!("invalid duration {s:?}: use e.g. 30m or 8h"))?;
    let secs = match unit {
        "" | "s" => Some(n),
        "m" => n.checked_mul(60),
        "h" => n.checked_mul(3600),
        "d" => n.checked_mul(86_400),
        _ => return Err(format!("invalid duration unit in {s:?}: use s, m, h or d")),
    };
    match secs {
        Some(secs) if secs > 0 && secs <= 30 * 86_400 => Ok(Duration::from_secs(secs)),
        _ => Err(format!("duration {s:?} must be between 1 second and 30 days")),
    }
}

/// Runs the parsed command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Dev(args) => {
            let _telemetry = ggzhub_kit::telemetry::init("ggzhub-dev", cli.log_format)?;
            crate::dev::run(args).await
        }
        Command::Serve { service: ServeCommand::Region(args) } => {
            let _telemetry = ggzhub_kit::telemetry::init(ggzhub_region::SERVICE_NAME, cli.log_format)?;
            let contracting = match &args.contracting_url {
                Some(url) => {
                    if args.token_signing_key.is_none() && !args.serve.dev_key {
                        anyhow::bail!("--contracting-url needs --token-signing-key (or --dev-key)");
                    }
                    let signer = signing_key(args.token_signing_key.as_deref(), &args.serve.db.data_dir)?;
                    tracing::info!(contracting = %url, "insurers' contracted offers are asked of the contracting subgraph");
                    let owner = RefChecker::with_ca(
                        url.clone(),
                        ggzhub_contracting::AUDIENCE,
                        signer.signer(),
                        &args.serve.extra_ca()?,
                    )?;
                    Some(ggzhub_region::contracted::ContractingClient::new(owner))
                }
                None => {
                    tracing::info!(
                        "no --contracting-url: insurers read only the continuity signals of the regions they coordinate"
                    );
                    None
                }
            };
            let _metrics = serve_metrics(Service::Region, &args.serve, 9465).await?;
            let (db, verifier, listener) = prepare(Service::Region, &args.serve, 4001).await?;
            let events = ggzhub_region::app::Events {
                bus: args.serve.events.bus().await?,
                sweep_every: Duration::from_secs(args.signal_deadline_sweep_secs),
            };
            let app = ggzhub_region::app::router_with_events(db, verifier, contracting, events, limits(&args.serve));
            run_server(Service::Region, listener, app).await
        }
        Command::Serve { service: ServeCommand::NationalTable(args) } => {
            let _telemetry = ggzhub_kit::telemetry::init(ggzhub_national_table::SERVICE_NAME, cli.log_format)?;
            let _metrics = serve_metrics(Service::NationalTable, &args.serve, 9466).await?;
            let (db, verifier, listener) = prepare(Service::NationalTable, &args.serve, 4002).await?;
            let signer = signing_key(args.token_signing_key.as_deref(), &args.serve.db.data_dir)?;
            tracing::info!(region = %args.region_url, "references are checked with the region subgraph");
            let ca = args.serve.extra_ca()?;
            let refs = RefChecker::with_ca(args.region_url.clone(), ggzhub_region::AUDIENCE, signer.signer(), &ca)?;
            let bus = args.serve.events.bus().await?;
            let app = ggzhub_national_table::app::router_with_events(db, verifier, refs, limits(&args.serve), bus);
            run_server(Service::NationalTable, listener, app).await
        }
        Command::Serve { service: ServeCommand::Contracting(args) } => {
            let _telemetry = ggzhub_kit::telemetry::init(ggzhub_contracting::SERVICE_NAME, cli.log_format)?;
            let _metrics = serve_metrics(Service::Contracting, &args.serve, 9467).await?;
            let (db, verifier, listener) = prepare(Service::Contracting, &args.serve, 4003).await?;
            let signer = signing_key(args.token_signing_key.as_deref(), &args.serve.db.data_dir)?;
            let ca = args.serve.extra_ca()?;
            let owners = ggzhub_contracting::graphql::Owners {
                region: RefChecker::with_ca(args.region_url.clone(), ggzhub_region::AUDIENCE, signer.signer(), &ca)?,
                national_table: RefChecker::with_ca(
                    args.national_table_url.clone(),
                    ggzhub_national_table::AUDIENCE,
                    signer.signer(),
                    &ca,
                )?,
            };
            let app = ggzhub_contracting::app::router(db, verifier, owners, limits(&args.serve));
            run_server(Service::Contracting, listener, app).await
        }
        Command::Serve { service: ServeCommand::Gateway(args) } => {
            let _telemetry = ggzhub_kit::telemetry::init("ggzhub-gateway", cli.log_format)?;
            ggzhub_gateway::http::server::run(args.options().await?, ggzhub_kit::server::shutdown_signal()).await
        }
        Command::Migrate(args) => {
            let _telemetry = ggzhub_kit::telemetry::init("ggzhub-migrate", cli.log_format)?;
            let db = connect(&args.db.config(args.service)?).await?;
            args.service.migrate(&db).await?;
            tracing::info!(service = args.service.name(), "migrations applied");
            Ok(())
        }
        Command::Seed(args) => {
            let _telemetry = ggzhub_kit::telemetry::init("ggzhub-seed", cli.log_format)?;
            let db = connect(&args.db.config(args.service)?).await?;
            args.service.migrate(&db).await?;
            seed(args.service, &db, args.from.as_deref()).await
        }
        Command::Import { command: ImportCommand::CareUse(args) } => {
            let _telemetry = ggzhub_kit::telemetry::init("ggzhub-import", cli.log_format)?;
            let text =
                std::fs::read_to_string(&args.from).with_context(|| format!("reading {}", args.from.display()))?;
            let db = connect(&args.db.config(Service::Region)?).await?;
            Service::Region.migrate(&db).await?;
            let mut expected = ggzhub_region::care_use::ExpectedVersions::new();
            for (quarter, version) in args.expected_versions {
                anyhow::ensure!(
                    expected.insert(quarter.clone(), version).is_none(),
                    "--expected-version names {quarter} twice"
                );
            }
            let report = ggzhub_region::care_use::import_csv(&db, &args.supplier, &text, &expected)
                .await
                .with_context(|| format!("importing {}", args.from.display()))?;
            println!(
                "imported {} region figures and {} flows for {} (replaced {} earlier figures)",
                report.figures,
                report.flows,
                report.periods.join(", "),
                report.replaced
            );
            for q in &report.quarters {
                println!("{} is now at version {}", q.period, q.version);
            }
            Ok(())
        }
        Command::Schema { command: SchemaCommand::Export { dir } } => {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            for service in Service::ALL {
                let path = dir.join(format!("{}.graphql", service.name()));
                std::fs::write(&path, service.sdl()).with_context(|| format!("writing {}", path.display()))?;
                println!("wrote {}", path.display());
            }
            Ok(())
        }
        Command::Schema { command: SchemaCommand::Compose { dir } } => {
            let supergraph = ggzhub_gateway::supergraph::compose::compose_hub(&dir)?;
            let path = dir.join("supergraph.graphql");
            std::fs::write(&path, supergraph).with_context(|| format!("writing {}", path.display()))?;
            println!("wrote {}", path.display());
            Ok(())
        }
        Command::Token { command: TokenCommand::PublicKey { data_dir } } => {
            print!("{}", SigningKey::load_or_create(&dev_key_path(&data_dir))?.public_pem());
            Ok(())
        }
        Command::Token { command: TokenCommand::Jwks { data_dir } } => {
            let key = SigningKey::load_or_create(&dev_issuer_key_path(&data_dir))?;
            println!("{}", serde_json::to_string_pretty(&key.jwks())?);
            Ok(())
        }
        Command::Token { command: TokenCommand::Issue(args) } => {
            let token = issue_token(*args).await?;
            println!("{token}");
            Ok(())
        }
    }
}

async fn seed(service: Service, db: &DatabaseConnection, from: Option<&Path>) -> anyhow::Result<()> {
    match service {
        Service::Region => {
            let source = from.map_or(ggzhub_region::seed::Source::Demo, ggzhub_region::seed::Source::Dir);
            let report = ggzhub_region::seed::seed(db, &source).await?;
            if report.loaded {
                println!(
                    "loaded {} regions, {} organisations, {} care offers, {} waiting-time reports, {} signals",
                    report.regions, report.organisations, report.offers, report.waiting_times, report.signals
                );
            } else {
                println!("the region database already holds regions; nothing loaded");
            }
        }
        Service::NationalTable => {
            let source =
                from.map_or(ggzhub_national_table::seed::Source::Demo, ggzhub_national_table::seed::Source::Dir);
            match ggzhub_national_table::seed::seed(db, &source).await? {
                Some(n) => println!("loaded {n} escalations with the supra-regional list, networks and KPIs"),
                None => println!("the national-table database already holds data; nothing loaded"),
            }
        }
        Service::Contracting => {
            let source = from.map_or(ggzhub_contracting::seed::Source::Demo, ggzhub_contracting::seed::Source::Dir);
            match ggzhub_contracting::seed::seed(db, &source).await? {
                Some(n) => println!("loaded {n} contracts and the contracting guidelines"),
                None => println!("the contracting database already holds data; nothing loaded"),
            }
        }
    }
    Ok(())
}

fn signing_key(path: Option<&Path>, data_dir: &Path) -> anyhow::Result<SigningKey> {
    Ok(match path {
        Some(path) => {
            let pem = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            SigningKey::from_pem(&pem, &path.display().to_string())?
        }
        None => SigningKey::load_or_create(&dev_key_path(data_dir))?,
    })
}

fn limits(args: &ServeArgs) -> HttpLimits {
    HttpLimits { body_limit: args.body_limit, ..HttpLimits::default() }
}

/// Installs the metrics of `service` and serves them on their own listener (issue 20): before
/// anything records, so that every instrument finds the provider.
async fn serve_metrics(
    service: Service,
    args: &ServeArgs,
    default_port: u16,
) -> anyhow::Result<ggzhub_kit::metrics::Metrics> {
    let metrics = ggzhub_kit::metrics::init(match service {
        Service::Region => ggzhub_region::SERVICE_NAME,
        Service::NationalTable => ggzhub_national_table::SERVICE_NAME,
        Service::Contracting => ggzhub_contracting::SERVICE_NAME,
    })?;
    let listen = args.metrics_listen.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], default_port)));
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding the metrics listener {listen} (--metrics-listen)"))?;
    tracing::info!(metrics = %format!("http://{}/metrics", listener.local_addr()?), service = service.name(), "metrics listener");
    metrics.serve(listener);
    Ok(metrics)
}

async fn prepare(
    service: Service,
    args: &ServeArgs,
    default_port: u16,
) -> anyhow::Result<(DatabaseConnection, Arc<TokenVerifier>, tokio::net::TcpListener)> {
    let cfg = args.db.config(service)?;
    tracing::info!(db = ?cfg, service = service.name(), "connecting");
    let mut db = connect(&cfg).await?;
    ggzhub_kit::db::instrument(&mut db, service.name());
    if !args.skip_migrations {
        service.migrate(&db).await?;
    }
    let verifier = match &args.token_public_key {
        Some(path) => {
            let pem = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            TokenVerifier::from_public_pem(&pem, service.name())
                .with_context(|| format!("{} does not hold an Ed25519 public key", path.display()))?
        }
        None => SigningKey::load_or_create(&dev_key_path(&args.db.data_dir))?.verifier(service.name()),
    };
    let listen = args.listen.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], default_port)));
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding {listen}"))?;
    Ok((db, Arc::new(verifier), listener))
}

async fn run_server(service: Service, listener: tokio::net::TcpListener, app: axum::Router) -> anyhow::Result<()> {
    tracing::info!(url = %format!("http://{}/graphql", listener.local_addr()?), service = service.name(), "listening");
    ggzhub_kit::server::serve(listener, app, ggzhub_kit::server::shutdown_signal()).await?;
    tracing::info!(service = service.name(), "stopped");
    Ok(())
}

async fn issue_token(args: TokenArgs) -> anyhow::Result<String> {
    let scopes: Vec<String> = args.scopes.iter().flat_map(|s| s.split_whitespace().map(str::to_owned)).collect();
    if let Some(bad) = scopes.iter().find(|s| !scopes::ALL.contains(&s.as_str())) {
        anyhow::bail!("unknown scope {bad}; known scopes: {}", scopes::ALL.join(", "));
    }
    if !args.internal {
        // An organisation token names the organisation as its identity provider would: by an
        // identifier the register binds to the development provider.
        let issuer = dev_issuer(&args.db.data_dir)?;
        let (scheme, identifier) = match (&args.identifier, args.org) {
            (Some(given), _) => {
                let (scheme, value) =
                    given.split_once(':').context("--identifier is SCHEME:VALUE, e.g. URA:15881399")?;
                let scheme = ggzhub_region::register::Scheme::parse(scheme)
                    .with_context(|| format!("unknown identifier scheme {scheme}; use URA, AGB, UZOVI, KVK or OIN"))?;
                let value = scheme.check(value).map_err(|e| anyhow::anyhow!(e))?;
                (scheme.as_str().to_owned(), value)
            }
            (None, Some(org)) => {
                let db = connect(&args.db.config(Service::Region)?).await?;
                let (scheme, value) = ggzhub_region::register::identifier_for(&db, &org.to_string(), &issuer)
                    .await?
                    .with_context(|| {
                        format!(
                            "organisation {org} has no identifier bound to the development identity provider ({issuer}) in the register"
                        )
                    })?;
                (scheme.as_str().to_owned(), value)
            }
            (None, None) => anyhow::bail!("pass --org or --identifier"),
        };
        let signer = SigningKey::load_or_create(&dev_issuer_key_path(&args.db.data_dir))?.signer_as(&issuer);
        let audience = if args.audiences.is_empty() {
            vec![ggzhub_gateway::auth::identity::GATEWAY_AUDIENCE.to_owned()]
        } else {
            args.audiences
        };
        return Ok(signer.sign_org(&ggzhub_kit::token::OrgTokenRequest {
            subject: args.subject,
            audience,
            scheme,
            identifier,
            scopes,
            name: None,
            ttl: args.ttl,
        }));
    }
    // An internal token, as the gateway would mint it after resolving the organisation.
    let org = args.org.context("--internal needs --org")?;
    let signer = SigningKey::load_or_create(&dev_key_path(&args.db.data_dir))?.signer();
    let (kind, regions, roles) = match (args.kind, args.regions.is_empty()) {
        (Some(kind), false) => (kind, args.regions.clone(), args.roles.clone()),
        _ => {
            let db = connect(&args.db.config(Service::Region)?).await?;
            use sea_orm::EntityTrait as _;
            let stored =
                ggzhub_region::entity::organisation::Entity::find_by_id(org.to_string()).one(&db).await?.with_context(
                    || format!("organisation {org} is not in the region database; pass --kind and --region"),
                )?;
            let kind =
                args.kind.or_else(|| OrgKind::parse(&stored.kind)).context("stored organisation kind is invalid")?;
            let (seats, chairs) = ggzhub_region::register::seats(&db, &stored.id).await?;
            let regions = if args.regions.is_empty() { seats } else { args.regions.clone() };
            let roles = if args.roles.is_empty() { chairs } else { args.roles.clone() };
            (kind, regions, roles)
        }
    };
    let scopes = if scopes.is_empty() {
        ggzhub_kit::token::default_scopes(kind).iter().map(|s| (*s).to_owned()).collect()
    } else {
        scopes
    };
    let audience = if args.audiences.is_empty() {
        Service::ALL.iter().map(|s| s.name().to_owned()).collect()
    } else {
        args.audiences
    };
    Ok(signer.sign(&TokenRequest {
        subject: args.subject,
        audience,
        org,
        org_kind: kind,
        regions,
        roles,
        scopes,
        ttl: args.ttl,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ttls() {
        assert_eq!(parse_ttl("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_ttl("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_ttl("8h"), Ok(Duration::from_secs(28_800)));
        assert!(parse_ttl("0").is_err());
        assert!(parse_ttl("5y").is_err());
        assert!(parse_ttl("31d").is_err());
        assert!(parse_ttl("99999999999999999999d").is_err());
    }

    #[test]
    fn a_subgraph_takes_its_worker_threads_from_the_flag_within_bounds() {
        let parse = |extra: &[&str]| {
            let mut args = vec!["ggzhub", "serve", "contracting", "--dev-key"];
            args.extend_from_slice(extra);
            Cli::try_parse_from(args)
        };
        assert_eq!(parse(&[]).expect("parses").worker_threads(), None, "one per core unless asked");
        assert_eq!(parse(&["--worker-threads", "1"]).expect("parses").worker_threads(), Some(1));
        assert_eq!(parse(&["--worker-threads", "1024"]).expect("parses").worker_threads(), Some(1024));
        for bad in ["0", "1025", "-1", "many"] {
            let error = parse(&[&format!("--worker-threads={bad}")]).expect_err(bad).to_string();
            assert!(error.contains("--worker-threads"), "{bad}: {error}");
        }
        let gateway = Cli::try_parse_from(["ggzhub", "serve", "gateway"]).expect("parses");
        assert_eq!(gateway.worker_threads(), None, "the gateway has its own threads ([server] connection_threads)");
    }
}
