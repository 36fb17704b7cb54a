//! `gateway.toml`: every option with its default, overridable by environment variables
//! `GGZHUB_GATEWAY__<SECTION>__<KEY>` (e.g. `GGZHUB_GATEWAY__SERVER__LISTEN=0.0.0.0:4000`) and
//! then by command-line flags. `gateway.toml` at the repository root documents each option.
//! [`options`] turns it into the options the gateway runs with.

pub mod options;

pub use options::{dev_issuer_key_path, dev_key_path};

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatewayConfig {
    pub server: ServerConfig,
    pub supergraph: SupergraphConfig,
    pub subgraphs: SubgraphsConfig,
    pub auth: AuthConfig,
    pub limits: LimitsConfig,
    pub trusted_documents: TrustedDocumentsConfig,
    pub rate_limit: RateLimitConfig,
    pub admission: AdmissionConfig,
    pub dashboard: DashboardConfig,
    pub public: crate::admission::public::PublicConfig,
    pub events: EventsConfig,
    pub subscriptions: crate::subscription::SubscriptionOptions,
    pub webhooks: crate::webhooks::WebhookOptions,
    pub metrics: MetricsConfig,
    pub cors: crate::http::cors::CorsConfig,
}

/// `[events]`: where the subgraphs' events come from (see [`crate::subscription`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventsConfig {
    /// NATS server with JetStream carrying the subgraphs' events (`nats://host:4222`); without
    /// it this gateway serves no subscriptions (unless it runs in one process with the
    /// subgraphs, `ggzhub dev`, which shares its in-process event log).
    pub nats_url: Option<String>,
}

impl EventsConfig {
    /// Connects to the bus, when one is configured.
    pub async fn bus(&self) -> anyhow::Result<Option<std::sync::Arc<dyn ggzhub_kit::events::EventBus>>> {
        match &self.nats_url {
            None => Ok(None),
            Some(url) => {
                let bus =
                    anyhow::Context::context(ggzhub_kit::events::NatsBus::connect(url).await, "[events] nats_url")?;
                tracing::info!(bus = %ggzhub_kit::events::EventBus::describe(bus.as_ref()), "subscriptions read events");
                Ok(Some(bus))
            }
        }
    }
}

/// `[metrics]`: where Prometheus reads the gateway's metrics (see [`crate::metrics`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Address of the metrics listener (`GET /metrics`), apart from the GraphQL port; `None`
    /// serves none (metrics are still exported over OTLP when configured).
    pub listen: Option<std::net::SocketAddr>,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self { listen: Some(std::net::SocketAddr::from(([127, 0, 0, 1], 9464))) }
    }
}

/// `[admission]`: requests in execution, the queue in front of them and the share per
/// organisation (see [`crate::admission::capacity`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdmissionConfig {
    /// Requests in execution at once; 0 turns admission control off.
    pub max_in_flight: usize,
    /// Requests waiting for a slot.
    pub max_queued: usize,
    /// The share of the slots and of the queue places one organisation may hold, in percent
    /// (0 or 100: no share).
    pub org_share_percent: u32,
    /// The longest a query waits for a slot, in milliseconds.
    pub max_wait_ms: u64,
    /// The longest a query waits while the gateway is overloaded, in milliseconds.
    pub overload_wait_ms: u64,
    /// The queue non-empty for `overload_interval_ms`, with no request getting its slot within
    /// this many milliseconds, makes the gateway overloaded.
    pub overload_target_ms: u64,
    /// See `overload_target_ms`, in milliseconds.
    pub overload_interval_ms: u64,
    /// `Retry-After` of a refusal, in seconds.
    pub retry_after_secs: u64,
}

impl Default for AdmissionConfig {
    fn default() -> Self {
        let options = crate::admission::capacity::AdmissionOptions::default();
        let ms = |d: Duration| d.as_millis() as u64;
        Self {
            max_in_flight: options.max_in_flight,
            max_queued: options.max_queued,
            org_share_percent: options.org_share_percent,
            max_wait_ms: ms(options.max_wait),
            overload_wait_ms: ms(options.overload_wait),
            overload_target_ms: ms(options.overload_target),
            overload_interval_ms: ms(options.overload_interval),
            retry_after_secs: options.retry_after_secs,
        }
    }
}

impl AdmissionConfig {
    /// The options these settings describe, or why they cannot be used.
    pub fn options(&self) -> anyhow::Result<crate::admission::capacity::AdmissionOptions> {
        if self.org_share_percent > 100 {
            anyhow::bail!("[admission] org_share_percent is a percentage: at most 100, not {}", self.org_share_percent);
        }
        if self.retry_after_secs == 0 {
            anyhow::bail!("[admission] retry_after_secs must be at least 1");
        }
        Ok(crate::admission::capacity::AdmissionOptions {
            max_in_flight: self.max_in_flight,
            max_queued: self.max_queued,
            org_share_percent: self.org_share_percent,
            max_wait: Duration::from_millis(self.max_wait_ms),
            overload_wait: Duration::from_millis(self.overload_wait_ms),
            overload_target: Duration::from_millis(self.overload_target_ms),
            overload_interval: Duration::from_millis(self.overload_interval_ms),
            retry_after_secs: self.retry_after_secs,
        })
    }
}

/// `[dashboard]`: the national dashboard at `/` (see [`crate::http::dashboard`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DashboardConfig {
    /// Serve the dashboard built into the binary at `/`.
    pub enabled: bool,
    /// The OpenID Connect provider the dashboard signs in with; default the first
    /// `[[auth.issuers]]`, none when there is none (then the dashboard shows public views only).
    pub issuer: Option<String>,
    /// The dashboard's public client id at that provider.
    pub client_id: String,
}

impl Default for DashboardConfig {
    fn default() -> Self {
        Self { enabled: true, issuer: None, client_id: crate::http::dashboard::DEFAULT_CLIENT_ID.to_owned() }
    }
}

impl GatewayConfig {
    /// The dashboard's options: its `connect-src` names the origins of the configured identity
    /// providers (issuer, discovery and JWKS URLs), so the dashboard can sign in with them.
    pub fn dashboard_options(&self) -> crate::http::dashboard::DashboardOptions {
        let mut origins: Vec<String> = Vec::new();
        let sign_in_issuer =
            self.dashboard.issuer.clone().or_else(|| self.auth.issuers.first().map(|i| i.issuer.clone()));
        for issuer in &self.auth.issuers {
            let urls = [Some(issuer.issuer.as_str()), issuer.jwks_url.as_deref()];
            for origin in urls.into_iter().flatten().filter_map(crate::http::dashboard::origin_of) {
                if !origins.contains(&origin) {
                    origins.push(origin);
                }
            }
        }
        if let Some(origin) = sign_in_issuer.as_deref().and_then(crate::http::dashboard::origin_of)
            && !origins.contains(&origin)
        {
            origins.push(origin);
        }
        crate::http::dashboard::DashboardOptions {
            enabled: self.dashboard.enabled,
            connect_origins: origins,
            sign_in: sign_in_issuer
                .map(|issuer| crate::http::dashboard::SignIn { issuer, client_id: self.dashboard.client_id.clone() }),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address the gateway listens on.
    pub listen: SocketAddr,
    /// Maximum request body in bytes.
    pub body_limit: usize,
    /// Time one client request may take, in seconds.
    pub request_timeout_secs: u64,
    /// Serve GraphiQL to browsers on GET /graphql.
    pub graphiql: bool,
    /// Identical queries from the same caller in flight together share one execution.
    pub dedupe_requests: bool,
    /// Refuse GET requests without a preflight header (they could be forged cross-site).
    pub csrf_prevention: bool,
    /// Several operations in one request (a JSON array): off by default.
    pub batching: crate::http::BatchingOptions,
    /// Threads that serve client connections, each with a runtime of its own (a connection stays
    /// on its thread); absent: one per core; 0: the process's shared runtime
    /// ([`crate::http::server::ConnectionThreads`]).
    pub connection_threads: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SupergraphConfig {
    /// The supergraph file (Apollo format).
    pub path: PathBuf,
    /// Seconds between checks of the file for changes; 0 turns watching off.
    pub watch_interval_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SubgraphsConfig {
    /// Time one subgraph call may take, in seconds.
    pub timeout_secs: u64,
    /// HTTP requests one subgraph query may make, the first included (mutations: always 1);
    /// 1 turns retries off.
    pub max_attempts: u32,
    /// Backoff before the first retry, in milliseconds (jittered, doubling per retry).
    pub retry_backoff_ms: u64,
    /// Retries may add this percentage on top of a subgraph's calls of the budget window.
    pub retry_percent: u32,
    /// Retries per second of the budget window allowed whatever the traffic.
    pub min_retries_per_sec: u32,
    /// How far back the retry budget looks, in seconds.
    pub budget_window_secs: u64,
    /// Consecutive failures that open a subgraph's circuit breaker; 0 turns it off.
    pub failure_threshold: u32,
    /// Seconds an open circuit refuses calls before it lets one trial call through.
    pub open_secs: u64,
    /// Codes whose subgraph error messages reach clients; others are redacted (code kept).
    pub expose_error_codes: Vec<String>,
    /// Pass subgraph error extensions other than `code` (and `serviceName`) to clients.
    pub expose_error_extensions: bool,
    /// Subgraph URLs that replace the supergraph's `@join__graph(url:)`, by subgraph name.
    pub urls: HashMap<String, String>,
    /// PEM file with CA certificates trusted for `https://` subgraphs, next to the OS trust store.
    pub ca_file: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Serve callers without a token (subgraphs then get no token).
    pub allow_anonymous: bool,
    /// Public access: callers without a token get the public contract schema and only the
    /// dashboard's operations, rate-limited per address (`[public]`; see [`crate::admission::public`]).
    pub public_anonymous: bool,
    /// Allowed clock skew for `exp`, `nbf` and `iat`, in seconds.
    pub leeway_secs: u64,
    /// Refuse a whole operation that selects a field or type the caller may not see
    /// (`@authenticated`, `@requiresScopes`, `@policy`), instead of nulling those selections.
    pub reject_unauthorized: bool,
    /// Trusted identity providers.
    pub issuers: Vec<crate::auth::oidc::IssuerConfig>,
    /// Where the organisations behind tokens are resolved (see [`crate::auth::register`]).
    pub register: RegisterConfig,
    /// PEM file with the Ed25519 private key that signs internal tokens for subgraphs.
    pub signing_key: Option<PathBuf>,
    /// Development only: trust the development identity provider's key in `data_dir` and sign
    /// internal tokens with the development internal key there (the keys of `ggzhub dev`).
    pub dev_key: bool,
    /// Directory of the development keys.
    pub data_dir: PathBuf,
}

/// The hub's register (`[auth.register]`): read from the region subgraph with the gateway's own
/// internal token (see [`crate::auth::register`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegisterConfig {
    /// The subgraph that holds the register.
    pub subgraph: String,
    /// Its GraphQL URL; default: `[subgraphs] urls.<subgraph>`, then the supergraph's
    /// `@join__graph(url:)` of that subgraph.
    pub url: Option<String>,
    /// Seconds an answer of the register is used: a change in the register applies within this
    /// time. At most 60.
    pub cache_ttl_secs: u64,
    /// Time one question to the register may take, in seconds.
    pub timeout_secs: u64,
}

impl Default for RegisterConfig {
    fn default() -> Self {
        Self {
            subgraph: "region".into(),
            url: None,
            cache_ttl_secs: crate::auth::register::DEFAULT_CACHE_TTL.as_secs(),
            timeout_secs: 5,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Most lexical tokens in one GraphQL document.
    pub max_tokens: usize,
    /// Deepest nesting the parser follows.
    pub max_recursion: usize,
    /// Answer `__schema` / `__type`.
    pub introspection: bool,
    /// Prepared operations (validated document and plan) kept per supergraph.
    pub plan_cache_size: u64,
    /// Deepest field nesting.
    pub max_depth: u64,
    /// Aliased fields, counted after fragment expansion.
    pub max_aliases: u64,
    /// Fields at the root of an operation.
    pub max_root_fields: u64,
    /// Directives on one field, fragment spread or inline fragment.
    pub max_directives: u64,
    /// Field selections once every fragment is expanded.
    pub max_selections: u64,
    /// Largest estimated operation cost (`@cost`/`@listSize`, IBM defaults).
    pub max_cost: u64,
    /// List size assumed by the cost estimate when nothing in the operation or schema says it.
    pub default_list_size: u64,
}

/// Trusted documents per organisation (see [`crate::admission::trusted`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrustedDocumentsConfig {
    /// `off`, `log` (serve and log operations not on the caller's list) or `enforce` (refuse them).
    pub mode: crate::admission::trusted::TrustedMode,
    /// The JSON manifest `{"<organisation id or *>": {"<sha256>": "<query text>"}}`; absent: empty.
    pub manifest: Option<PathBuf>,
    /// Seconds between checks of the manifest for changes; 0 loads it at start only.
    pub watch_interval_secs: u64,
}

impl TrustedDocumentsConfig {
    /// Loads the manifest (when the mode is not `off`).
    pub fn load(&self) -> anyhow::Result<crate::admission::trusted::TrustedDocuments> {
        crate::admission::trusted::TrustedDocuments::load(
            self.mode,
            self.manifest.as_deref(),
            Duration::from_secs(self.watch_interval_secs),
        )
    }
}

impl Default for TrustedDocumentsConfig {
    fn default() -> Self {
        Self { mode: crate::admission::trusted::TrustedMode::Off, manifest: None, watch_interval_secs: 2 }
    }
}

/// Rate limiting per organisation (see [`crate::admission::ratelimit`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Sustained requests per second per organisation; 0 turns rate limiting off.
    pub per_org_per_second: u32,
    /// Requests an organisation may make at once; 0 means `per_org_per_second`.
    pub burst: u32,
    /// Redis shared by the replicas (`redis://host:6379`); without it each replica limits on its
    /// own.
    pub redis_url: Option<String>,
    /// Milliseconds to wait for Redis before a request is counted locally.
    pub redis_timeout_ms: u64,
    /// Prefix of the limiter's keys in Redis.
    pub redis_key_prefix: String,
}

impl RateLimitConfig {
    pub fn options(&self) -> crate::admission::ratelimit::RateLimitOptions {
        crate::admission::ratelimit::RateLimitOptions { per_second: self.per_org_per_second, burst: self.burst }
    }

    /// The limiter shared through Redis, when `redis_url` is set.
    pub fn shared(&self) -> anyhow::Result<Option<std::sync::Arc<crate::admission::shared::SharedRateLimit>>> {
        let Some(url) = &self.redis_url else { return Ok(None) };
        let redis = crate::admission::shared::RedisOptions {
            url: url.clone(),
            timeout: std::time::Duration::from_millis(self.redis_timeout_ms.max(1)),
            key_prefix: self.redis_key_prefix.clone(),
        };
        Ok(Some(std::sync::Arc::new(crate::admission::shared::SharedRateLimit::new(self.options(), redis)?)))
    }
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            per_org_per_second: 50,
            burst: 100,
            redis_url: None,
            redis_timeout_ms: 50,
            redis_key_prefix: "ggzhub:ratelimit:".into(),
        }
    }
}

impl LimitsConfig {
    pub fn operation_limits(&self) -> crate::pipeline::limits::OperationLimits {
        crate::pipeline::limits::OperationLimits {
            max_depth: self.max_depth,
            max_aliases: self.max_aliases,
            max_root_fields: self.max_root_fields,
            max_directives: self.max_directives,
            max_selections: self.max_selections,
            max_cost: self.max_cost,
            default_list_size: self.default_list_size,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 4000)),
            body_limit: ggzhub_kit::server::DEFAULT_BODY_LIMIT,
            request_timeout_secs: 30,
            graphiql: false,
            dedupe_requests: true,
            csrf_prevention: true,
            batching: crate::http::BatchingOptions::default(),
            connection_threads: None,
        }
    }
}

impl Default for SupergraphConfig {
    fn default() -> Self {
        Self { path: PathBuf::from("schema/supergraph.graphql"), watch_interval_secs: 2 }
    }
}

impl Default for SubgraphsConfig {
    fn default() -> Self {
        let resilience = crate::subgraph::resilience::ResilienceOptions::default();
        Self {
            timeout_secs: 30,
            max_attempts: resilience.max_attempts,
            retry_backoff_ms: resilience.retry_backoff.as_millis() as u64,
            retry_percent: resilience.retry_percent,
            min_retries_per_sec: resilience.min_retries_per_sec,
            budget_window_secs: resilience.budget_window.as_secs(),
            failure_threshold: resilience.failure_threshold,
            open_secs: resilience.open_for.as_secs(),
            expose_error_codes: crate::error::SubgraphErrorPolicy::default().exposed_codes,
            expose_error_extensions: false,
            urls: HashMap::new(),
            ca_file: None,
        }
    }
}

impl SubgraphsConfig {
    pub fn error_policy(&self) -> crate::error::SubgraphErrorPolicy {
        crate::error::SubgraphErrorPolicy {
            exposed_codes: self.expose_error_codes.clone(),
            extensions: self.expose_error_extensions,
        }
    }

    pub fn resilience(&self) -> crate::subgraph::resilience::ResilienceOptions {
        crate::subgraph::resilience::ResilienceOptions {
            max_attempts: self.max_attempts.max(1),
            retry_backoff: Duration::from_millis(self.retry_backoff_ms),
            retry_percent: self.retry_percent,
            min_retries_per_sec: self.min_retries_per_sec,
            budget_window: Duration::from_secs(self.budget_window_secs.max(1)),
            failure_threshold: self.failure_threshold,
            open_for: Duration::from_secs(self.open_secs),
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            allow_anonymous: false,
            public_anonymous: false,
            leeway_secs: 30,
            reject_unauthorized: false,
            issuers: Vec::new(),
            register: RegisterConfig::default(),
            signing_key: None,
            dev_key: false,
            data_dir: PathBuf::from("data"),
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        let parser = crate::pipeline::parse::ParserLimits::default();
        let operation = crate::pipeline::limits::OperationLimits::default();
        Self {
            max_tokens: parser.max_tokens,
            max_recursion: parser.max_recursion,
            introspection: false,
            plan_cache_size: 1024,
            max_depth: operation.max_depth,
            max_aliases: operation.max_aliases,
            max_root_fields: operation.max_root_fields,
            max_directives: operation.max_directives,
            max_selections: operation.max_selections,
            max_cost: operation.max_cost,
            default_list_size: operation.default_list_size,
        }
    }
}

/// Prefix of the environment overrides.
pub const ENV_PREFIX: &str = "GGZHUB_GATEWAY__";

impl GatewayConfig {
    /// Defaults, then `file` (which must exist when given explicitly; `gateway.toml` in the
    /// working directory is read when present), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, figment::Error> {
        let mut figment = Figment::from(Serialized::defaults(GatewayConfig::default()));
        match file {
            Some(path) => {
                if !path.exists() {
                    return Err(figment::Error::from(format!("config file {} does not exist", path.display())));
                }
                figment = figment.merge(Toml::file_exact(path));
            }
            None => figment = figment.merge(Toml::file("gateway.toml")),
        }
        figment.merge(Env::prefixed(ENV_PREFIX).split("__").lowercase(true)).extract()
    }
}
