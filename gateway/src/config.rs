//! `gateway.toml`: every option with its default, overridable by environment variables
//! `GGZHUB_GATEWAY__<SECTION>__<KEY>` (e.g. `GGZHUB_GATEWAY__SERVER__LISTEN=0.0.0.0:4000`) and
//! then by command-line flags. `gateway.toml` at the repository root documents each option.

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
    /// Subgraph URLs that replace the supergraph's `@join__graph(url:)`, by subgraph name.
    pub urls: HashMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Serve callers without a token (subgraphs then get no token).
    pub allow_anonymous: bool,
    /// Allowed clock skew for `exp`, `nbf` and `iat`, in seconds.
    pub leeway_secs: u64,
    /// Trusted identity providers.
    pub issuers: Vec<crate::oidc::IssuerConfig>,
    /// PEM file with the Ed25519 private key that signs internal tokens for subgraphs.
    pub signing_key: Option<PathBuf>,
    /// Development only: trust the development identity provider's key in `data_dir` and sign
    /// internal tokens with the development internal key there (the keys of `ggzhub dev`).
    pub dev_key: bool,
    /// Directory of the development keys.
    pub data_dir: PathBuf,
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
}

impl LimitsConfig {
    pub fn operation_limits(&self) -> crate::limits::OperationLimits {
        crate::limits::OperationLimits {
            max_depth: self.max_depth,
            max_aliases: self.max_aliases,
            max_root_fields: self.max_root_fields,
            max_directives: self.max_directives,
            max_selections: self.max_selections,
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
        let resilience = crate::resilience::ResilienceOptions::default();
        Self {
            timeout_secs: 30,
            max_attempts: resilience.max_attempts,
            retry_backoff_ms: resilience.retry_backoff.as_millis() as u64,
            retry_percent: resilience.retry_percent,
            min_retries_per_sec: resilience.min_retries_per_sec,
            budget_window_secs: resilience.budget_window.as_secs(),
            failure_threshold: resilience.failure_threshold,
            open_secs: resilience.open_for.as_secs(),
            urls: HashMap::new(),
        }
    }
}

impl SubgraphsConfig {
    pub fn resilience(&self) -> crate::resilience::ResilienceOptions {
        crate::resilience::ResilienceOptions {
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
            leeway_secs: 30,
            issuers: Vec::new(),
            signing_key: None,
            dev_key: false,
            data_dir: PathBuf::from("data"),
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        let parser = crate::pipeline::parse::ParserLimits::default();
        let operation = crate::limits::OperationLimits::default();
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
