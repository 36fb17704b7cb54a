//! The configuration's translation into the options the gateway runs with: the engine's, the HTTP
//! layer's and the caller identity (providers' keys, internal token signer, register).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use ggzhub_kit::SigningKey;
use ggzhub_kit::server::HttpLimits;

use super::GatewayConfig;
use crate::auth::identity::{GATEWAY_AUDIENCE, Identity};
use crate::auth::oidc::{Authenticator, IssuerConfig};
use crate::auth::register::Register;
use crate::engine::EngineOptions;
use crate::http::HttpOptions;
use crate::http::server::ServeOptions;
use crate::pipeline::parse::ParserLimits;
use crate::supergraph::Supergraph;

/// The development internal key's path in `data_dir`: it signs the internal tokens the
/// gateway (and a subgraph checking references) sends to subgraphs, which trust it with
/// `--dev-key`.
pub fn dev_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("dev-signing-key.pem")
}

/// The development identity provider's key in `data_dir`: it signs organisation tokens
/// (`ggzhub token issue`, the demo tokens), which only the gateway accepts.
pub fn dev_issuer_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("dev-issuer-key.pem")
}

impl GatewayConfig {
    /// Turns the configuration into the gateway's options (loading the providers' keys, and with
    /// `auth.dev_key` creating the development keys in `auth.data_dir`).
    pub async fn into_options(self) -> anyhow::Result<ServeOptions> {
        let config = self;
        let read = |path: &Path| std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()));
        let auth = &config.auth;
        let mut issuers = auth.issuers.clone();
        let signer = if auth.dev_key {
            if auth.signing_key.is_some() {
                anyhow::bail!("auth.dev_key cannot be combined with auth.signing_key");
            }
            let issuer_key = SigningKey::load_or_create(&dev_issuer_key_path(&auth.data_dir))?;
            let jwks_path = auth.data_dir.join("dev-jwks.json");
            std::fs::write(&jwks_path, serde_json::to_vec_pretty(&issuer_key.jwks())?)
                .with_context(|| format!("writing {}", jwks_path.display()))?;
            issuers.push(IssuerConfig {
                jwks_file: Some(jwks_path),
                ..IssuerConfig::new(ggzhub_kit::token::DEV_ISSUER, &[GATEWAY_AUDIENCE])
            });
            Some(SigningKey::load_or_create(&dev_key_path(&auth.data_dir))?.signer())
        } else {
            match &auth.signing_key {
                Some(path) => Some(SigningKey::from_pem(&read(path)?, &path.display().to_string())?.signer()),
                None => None,
            }
        };
        let verifier = if issuers.is_empty() {
            None
        } else {
            let authenticator = Authenticator::new(issuers, auth.leeway_secs).await?;
            Some(Arc::new(authenticator))
        };
        if verifier.is_none() && !auth.allow_anonymous && !auth.public_anonymous {
            anyhow::bail!("configure [[auth.issuers]] (or --dev-key) to verify callers, or allow anonymous callers");
        }
        if (verifier.is_some() || auth.public_anonymous) && signer.is_none() {
            anyhow::bail!("set auth.signing_key: subgraphs accept only the gateway's internal tokens");
        }
        let register = match (&verifier, &signer) {
            (Some(_), Some(signer)) => Some(Arc::new(config.register(signer.clone())?)),
            _ => None,
        };
        // Webhooks are kept beside the register (the region subgraph), and delivered only by a
        // gateway that verifies organisations.
        let webhooks = match (&register, &signer) {
            (Some(_), Some(signer)) if config.webhooks.enabled => {
                let (url, name, client) = config.register_endpoint()?;
                Some((
                    Arc::new(crate::webhooks::WebhookStore::subgraph(url, &name, signer.clone(), client)),
                    config.webhooks.clone(),
                ))
            }
            _ => None,
        };
        let public = if auth.public_anonymous {
            Some(Arc::new(config.public.load().context("public access ([public])")?))
        } else {
            None
        };
        Ok(ServeOptions {
            supergraph: config.supergraph.path.clone(),
            listen: config.server.listen,
            connection_threads: crate::http::server::ConnectionThreads::from_config(config.server.connection_threads)?,
            watch_interval: Duration::from_secs(config.supergraph.watch_interval_secs),
            engine: EngineOptions {
                subgraph_timeout: Duration::from_secs(config.subgraphs.timeout_secs.max(1)),
                parser_limits: ParserLimits {
                    max_tokens: config.limits.max_tokens,
                    max_recursion: config.limits.max_recursion,
                },
                introspection: config.limits.introspection,
                subgraph_urls: config.subgraphs.urls.clone(),
                plan_cache_size: config.limits.plan_cache_size,
                operation_limits: config.limits.operation_limits(),
                dedupe_requests: config.server.dedupe_requests,
                reject_unauthorized: config.auth.reject_unauthorized,
                subgraph_errors: config.subgraphs.error_policy(),
                resilience: config.subgraphs.resilience(),
                subgraph_ca: ggzhub_kit::tls::ExtraCa::load(config.subgraphs.ca_file.as_deref())
                    .context("[subgraphs] ca_file")?,
            },
            http: HttpOptions {
                graphiql: config.server.graphiql,
                csrf_prevention: config.server.csrf_prevention,
                trusted_documents: Arc::new(
                    config.trusted_documents.load().context("loading the trusted documents ([trusted_documents])")?,
                ),
                rate_limit: config.rate_limit.options(),
                shared_rate_limit: config.rate_limit.shared()?,
                batching: config.server.batching,
                dashboard: config.dashboard_options(),
                public,
                admission: Arc::new(crate::admission::capacity::Admission::new(config.admission.options()?)),
                subscriptions: Arc::new(crate::subscription::Subscriptions::new(
                    config.events.bus().await?,
                    config.subscriptions.checked()?,
                )),
                cors: config.cors.layer()?,
            },
            limits: HttpLimits {
                body_limit: config.server.body_limit,
                request_timeout: Duration::from_secs(config.server.request_timeout_secs.max(1)),
            },
            identity: Identity { verifier, register, signer, allow_anonymous: auth.allow_anonymous },
            webhooks,
            metrics_listen: config.metrics.listen,
        })
    }

    /// The register the gateway resolves organisations with (`[auth.register]`): the configured
    /// URL, else the register subgraph's URL from `[subgraphs] urls`, else from the supergraph file.
    fn register(&self, signer: ggzhub_kit::TokenSigner) -> anyhow::Result<Register> {
        let options = &self.auth.register;
        let (url, name, client) = self.register_endpoint()?;
        tracing::info!(%url, cache_ttl_secs = options.cache_ttl_secs, "organisations are resolved through the register");
        Register::subgraph(url, &name, signer, Duration::from_secs(options.cache_ttl_secs), client)
            .context("[auth.register]")
    }

    /// The register subgraph's URL, name and a client for it.
    fn register_endpoint(&self) -> anyhow::Result<(String, String, reqwest::Client)> {
        let options = &self.auth.register;
        let name = &options.subgraph;
        let url = match (&options.url, self.subgraphs.urls.get(name)) {
            (Some(url), _) | (None, Some(url)) => url.clone(),
            (None, None) => {
                let path = &self.supergraph.path;
                let sdl = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
                let supergraph = Supergraph::load(&sdl)
                    .with_context(|| format!("loading {} for the register's URL", path.display()))?;
                supergraph.subgraph_urls.get(name).cloned().with_context(|| {
                    format!("the supergraph has no subgraph {name} for [auth.register]; set [auth.register] url")
                })?
            }
        };
        let timeout = Duration::from_secs(options.timeout_secs.max(1));
        let client = ggzhub_kit::tls::ExtraCa::load(self.subgraphs.ca_file.as_deref())
            .context("[subgraphs] ca_file")?
            .client(|b| b.timeout(timeout))?;
        Ok((url, name.clone(), client))
    }
}
