//! Command-line interface: `dev`, `serve`, `migrate`, `seed`, `schema export`, `token issue`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use ggzhub_kit::db::{DbConfig, connect};
use ggzhub_kit::server::HttpLimits;
use ggzhub_kit::telemetry::LogFormat;
use ggzhub_kit::token::{TokenRequest, scopes};
use ggzhub_kit::{OrgKind, SigningKey, TokenVerifier};
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

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the whole local hub in one process with embedded SQLite and demo data.
    Dev(crate::dev::DevArgs),
    /// Run one service, as in production.
    Serve {
        #[command(subcommand)]
        service: Service,
    },
    /// Run database migrations of a service and exit.
    Migrate(DbArgs),
    /// Load seed data into an empty database and exit.
    Seed(SeedArgs),
    /// Schema files.
    Schema {
        #[command(subcommand)]
        command: SchemaCommand,
    },
    /// Development tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Debug, Subcommand)]
enum Service {
    /// The region subgraph.
    Region(ServeRegionArgs),
}

/// Where a service's database is.
#[derive(Debug, Args)]
pub struct DbArgs {
    /// Database URL: `sqlite://path?mode=rwc` or `postgres://…`. Falls back to `DATABASE_URL`,
    /// then to `sqlite://<data-dir>/region.db?mode=rwc`.
    #[arg(long, env = "REGION_DATABASE_URL")]
    database_url: Option<String>,
    /// Directory for SQLite files and the development signing key.
    #[arg(long, env = "GGZHUB_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
    /// Maximum pooled connections.
    #[arg(long, env = "GGZHUB_DB_MAX_CONNECTIONS", default_value_t = ggzhub_kit::db::DEFAULT_MAX_CONNECTIONS)]
    max_connections: u32,
}

impl DbArgs {
    fn config(&self) -> anyhow::Result<DbConfig> {
        let url = match (&self.database_url, std::env::var("DATABASE_URL").ok().filter(|s| !s.is_empty())) {
            (Some(u), _) => u.clone(),
            (None, Some(u)) => u,
            (None, None) => {
                std::fs::create_dir_all(&self.data_dir)
                    .with_context(|| format!("creating data directory {}", self.data_dir.display()))?;
                sqlite_url(&self.data_dir, "region")
            }
        };
        let mut cfg = DbConfig::new(url);
        cfg.max_connections = self.max_connections;
        Ok(cfg)
    }
}

/// The SQLite URL of `service` in `data_dir`.
pub fn sqlite_url(data_dir: &Path, service: &str) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join(format!("{service}.db")).display())
}

/// The development signing key's path in `data_dir`.
pub fn dev_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("dev-signing-key.pem")
}

#[derive(Debug, Args)]
struct ServeRegionArgs {
    /// Address to listen on.
    #[arg(long, env = "REGION_LISTEN", default_value = "127.0.0.1:4001")]
    listen: SocketAddr,
    #[command(flatten)]
    db: DbArgs,
    /// PEM file with the Ed25519 public key of the gateway's internal tokens. Without it, the
    /// development key in the data directory is used (created on first run).
    #[arg(long, env = "GGZHUB_TOKEN_PUBLIC_KEY")]
    token_public_key: Option<PathBuf>,
    /// Maximum request body in bytes.
    #[arg(long, env = "GGZHUB_BODY_LIMIT", default_value_t = ggzhub_kit::server::DEFAULT_BODY_LIMIT)]
    body_limit: usize,
    /// Do not run migrations at start.
    #[arg(long)]
    skip_migrations: bool,
}

#[derive(Debug, Args)]
struct SeedArgs {
    /// Load the built-in demo data (fictitious organisations).
    #[arg(long, conflicts_with = "from", required_unless_present = "from")]
    demo: bool,
    /// Load seed files (same names and shape as services/region/data/demo) from this directory.
    #[arg(long)]
    from: Option<PathBuf>,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Debug, Subcommand)]
enum SchemaCommand {
    /// Write each subgraph's SDL to `<dir>/<name>.graphql`.
    Export {
        /// Output directory.
        #[arg(long, default_value = "schema")]
        dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Sign a development token with the data directory's key and print it.
    Issue(TokenArgs),
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
    /// Organisation id. Kind and regions are read from the region database unless given.
    #[arg(long)]
    org: uuid::Uuid,
    /// Scopes (repeat or space-separate); default: the usual scopes of the organisation's kind.
    #[arg(long = "scope", num_args = 1..)]
    scopes: Vec<String>,
    /// Lifetime, e.g. `30m`, `8h`, `3600s`.
    #[arg(long, default_value = "8h", value_parser = parse_ttl)]
    ttl: Duration,
    /// Audience(s): the subgraphs the token is for.
    #[arg(long = "audience", default_values_t = vec![ggzhub_region::AUDIENCE.to_string()])]
    audiences: Vec<String>,
    /// Organisation kind (overrides the database).
    #[arg(long, value_parser = parse_kind)]
    kind: Option<OrgKind>,
    /// Region codes (override the database).
    #[arg(long = "region")]
    regions: Vec<String>,
    /// Roles, e.g. `chair:utrecht`.
    #[arg(long = "role")]
    roles: Vec<String>,
    /// Subject acting for the organisation.
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
    let (num, unit) = s.trim().split_at(s.trim().find(|c: char| !c.is_ascii_digit()).unwrap_or(s.trim().len()));
    let n: u64 = num.parse().map_err(|_| format!("invalid duration {s:?}: use e.g. 30m or 8h"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("invalid duration unit in {s:?}: use s, m, h or d")),
    };
    if secs == 0 || secs > 30 * 86_400 {
        return Err(format!("duration {s:?} must be between 1 second and 30 days"));
    }
    Ok(Duration::from_secs(secs))
}

/// Runs the parsed command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Dev(args) => {
            let _telemetry = ggzhub_kit::telemetry::init("ggzhub-dev", cli.log_format)?;
            crate::dev::run(args).await
        }
        Command::Serve { service: Service::Region(args) } => {
            let _telemetry = ggzhub_kit::telemetry::init(ggzhub_region::SERVICE_NAME, cli.log_format)?;
            serve_region(args).await
        }
        Command::Migrate(db) => {
            let _telemetry = ggzhub_kit::telemetry::init("ggzhub-migrate", cli.log_format)?;
            let db = connect(&db.config()?).await?;
            ggzhub_region::migration::Migrator::up(&db, None).await.context("running region migrations")?;
            tracing::info!("region migrations applied");
            Ok(())
        }
        Command::Seed(args) => {
            let _telemetry = ggzhub_kit::telemetry::init("ggzhub-seed", cli.log_format)?;
            let db = connect(&args.db.config()?).await?;
            ggzhub_region::migration::Migrator::up(&db, None).await.context("running region migrations")?;
            let source = match &args.from {
                Some(dir) => ggzhub_region::seed::Source::Dir(dir),
                None => ggzhub_region::seed::Source::Demo,
            };
            let report = ggzhub_region::seed::seed(&db, &source).await?;
            if report.loaded {
                println!(
                    "loaded {} regions, {} organisations, {} care offers, {} waiting-time reports, {} signals",
                    report.regions, report.organisations, report.offers, report.waiting_times, report.signals
                );
            } else {
                println!("the database already holds regions; nothing loaded");
            }
            Ok(())
        }
        Command::Schema { command: SchemaCommand::Export { dir } } => {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let path = dir.join("region.graphql");
            std::fs::write(&path, ggzhub_region::graphql::sdl())
                .with_context(|| format!("writing {}", path.display()))?;
            println!("wrote {}", path.display());
            Ok(())
        }
        Command::Token { command: TokenCommand::PublicKey { data_dir } } => {
            print!("{}", SigningKey::load_or_create(&dev_key_path(&data_dir))?.public_pem());
            Ok(())
        }
        Command::Token { command: TokenCommand::Issue(args) } => {
            let token = issue_token(args).await?;
            println!("{token}");
            Ok(())
        }
    }
}

async fn serve_region(args: ServeRegionArgs) -> anyhow::Result<()> {
    let cfg = args.db.config()?;
    tracing::info!(db = ?cfg, "connecting");
    let db = connect(&cfg).await?;
    if !args.skip_migrations {
        ggzhub_region::migration::Migrator::up(&db, None).await.context("running region migrations")?;
    }
    let verifier = match &args.token_public_key {
        Some(path) => {
            let pem = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            TokenVerifier::from_public_pem(&pem, ggzhub_region::AUDIENCE)
                .with_context(|| format!("{} does not hold an Ed25519 public key", path.display()))?
        }
        None => SigningKey::load_or_create(&dev_key_path(&args.db.data_dir))?.verifier(ggzhub_region::AUDIENCE),
    };
    let limits = HttpLimits { body_limit: args.body_limit, ..HttpLimits::default() };
    let app = ggzhub_region::app::router(db, Arc::new(verifier), limits);
    let listener =
        tokio::net::TcpListener::bind(args.listen).await.with_context(|| format!("binding {}", args.listen))?;
    tracing::info!(url = %format!("http://{}/graphql", listener.local_addr()?), "region subgraph listening");
    ggzhub_kit::server::serve(listener, app, ggzhub_kit::server::shutdown_signal()).await?;
    tracing::info!("region subgraph stopped");
    Ok(())
}

async fn issue_token(args: TokenArgs) -> anyhow::Result<String> {
    let key = SigningKey::load_or_create(&dev_key_path(&args.db.data_dir))?;
    let (kind, regions) = match (args.kind, args.regions.is_empty()) {
        (Some(kind), false) => (kind, args.regions.clone()),
        _ => {
            let db = connect(&args.db.config()?).await?;
            use sea_orm::EntityTrait as _;
            let org = ggzhub_region::entity::organisation::Entity::find_by_id(args.org.to_string())
                .one(&db)
                .await?
                .with_context(|| {
                    format!("organisation {} is not in the region database; pass --kind and --region", args.org)
                })?;
            let kind =
                args.kind.or_else(|| OrgKind::parse(&org.kind)).context("stored organisation kind is invalid")?;
            let stored: Vec<String> = serde_json::from_value(org.regions).unwrap_or_default();
            (kind, if args.regions.is_empty() { stored } else { args.regions.clone() })
        }
    };
    let scopes: Vec<String> = if args.scopes.is_empty() {
        ggzhub_kit::token::default_scopes(kind).iter().map(|s| (*s).to_owned()).collect()
    } else {
        args.scopes.iter().flat_map(|s| s.split_whitespace().map(str::to_owned)).collect()
    };
    if let Some(bad) = scopes.iter().find(|s| !scopes::ALL.contains(&s.as_str())) {
        anyhow::bail!("unknown scope {bad}; known scopes: {}", scopes::ALL.join(", "));
    }
    Ok(key.signer().sign(&TokenRequest {
        subject: args.subject,
        audience: args.audiences,
        org: args.org,
        org_kind: kind,
        regions,
        roles: args.roles,
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
    }
}
