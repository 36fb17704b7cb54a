//! Organisation tokens from any OpenID Connect identity provider.
//!
//! Each trusted provider (an [`IssuerConfig`]) names its `iss`, the audiences the gateway
//! accepts, where its signing keys come from (a JWKS URL, found through OIDC discovery when not
//! given, or a JWKS file) and which claims carry the organisation's identifier (and its scheme),
//! the person and the scopes. Who the organisation is — kind, regions, roles — comes from the
//! register ([`crate::auth::register`]), never from the token.
//!
//! Rules, all fail-closed:
//! - the algorithm comes from the key (its JWK `alg`, or its key type), never from the token
//!   header: `alg: none`, HMAC (`HS*`, e.g. HS256 signed with a public key) and a header naming
//!   another algorithm than the key's are refused; symmetric keys in a JWKS are ignored;
//! - a token names its key by `kid`; an unknown `kid` triggers one refresh of a URL source
//!   (at most once per [`REFRESH_COOLDOWN`]) and is refused if still unknown;
//! - `iss` must be a configured issuer, `aud` one of its audiences; `exp` is required, `nbf` and
//!   `iat` are checked, all with a small leeway;
//! - keys are cached; URL sources are refreshed periodically. When a provider cannot be reached
//!   the last good keys keep working; a provider never reached has no keys, so its tokens fail.
//!
//! Providers are fetched over HTTPS verified against the OS trust store, plus the issuer's
//! `ca_file` when it has one (a private PKI); see [`ggzhub_kit::tls`].

use std::path::PathBuf;
use std::str::FromStr as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use base64::Engine as _;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Longest token the gateway even tries to decode.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// An unknown `kid` refreshes a URL source at most this often.
pub const REFRESH_COOLDOWN: Duration = Duration::from_secs(10);

/// One trusted identity provider (`[[auth.issuers]]` in gateway.toml).
///
/// A provider's token names the organisation by an external identifier (URA, AGB, UZOVI, KvK,
/// OIN) and the person by a subject; the gateway resolves (issuer, scheme, identifier) through
/// the hub's register ([`crate::auth::register`]) and takes the organisation, its kind, regions and
/// roles from there, never from the token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerConfig {
    /// The `iss` claim its tokens carry, exactly (also the issuer the register binds).
    pub issuer: String,
    /// `aud` values accepted (a token needs one of them).
    pub audiences: Vec<String>,
    /// JWKS URL. When neither this nor `jwks_file` is set, it is read from
    /// `<issuer>/.well-known/openid-configuration` (`jwks_uri`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_url: Option<String>,
    /// A JWKS file instead of a URL (re-read every `refresh_secs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_file: Option<PathBuf>,
    /// PEM file with CA certificates trusted, next to the OS trust store, for this provider's
    /// discovery document and JWKS URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Seconds between refreshes of the keys.
    #[serde(default = "default_refresh_secs")]
    pub refresh_secs: u64,
    /// Claim holding the organisation's identifier (a claim name, or a dotted path).
    #[serde(default = "default_organisation_claim")]
    pub organisation_claim: String,
    /// The one identifier scheme this provider asserts (`URA`, `AGB`, `UZOVI`, `KVK`, `OIN`);
    /// set this or `identifier_scheme_claim`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier_scheme: Option<String>,
    /// Claim naming each token's identifier scheme; default `org_identifier_scheme` when
    /// `identifier_scheme` is not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier_scheme_claim: Option<String>,
    /// Claim holding the person (or, for client credentials, the client) acting for the
    /// organisation.
    #[serde(default = "default_subject_claim")]
    pub subject_claim: String,
    /// Claim holding scopes (space-separated string as in OAuth, or an array as Entra ID's
    /// `roles`). They can only narrow what the organisation's kind may have.
    #[serde(default = "default_scope_claim")]
    pub scope_claim: String,
}

fn default_refresh_secs() -> u64 {
    300
}

fn default_organisation_claim() -> String {
    ggzhub_kit::token::IDENTIFIER_CLAIM.into()
}

fn default_subject_claim() -> String {
    "sub".into()
}

fn default_scope_claim() -> String {
    "scope".into()
}

/// Identifier schemes the register knows.
pub const SCHEMES: [&str; 5] = ["URA", "AGB", "UZOVI", "KVK", "OIN"];

impl IssuerConfig {
    /// A provider with the development provider's claims (`org_identifier_scheme`,
    /// `org_identifier`, `sub`, `scope`) and no key source yet.
    pub fn new(issuer: &str, audiences: &[&str]) -> Self {
        Self {
            issuer: issuer.to_owned(),
            audiences: audiences.iter().map(|a| (*a).to_owned()).collect(),
            jwks_url: None,
            jwks_file: None,
            ca_file: None,
            refresh_secs: default_refresh_secs(),
            organisation_claim: default_organisation_claim(),
            identifier_scheme: None,
            identifier_scheme_claim: None,
            subject_claim: default_subject_claim(),
            scope_claim: default_scope_claim(),
        }
    }

    /// Checks the claim settings (at start).
    pub fn check_claims(&self) -> anyhow::Result<()> {
        let name = &self.issuer;
        if let Some(scheme) = &self.identifier_scheme {
            anyhow::ensure!(
                self.identifier_scheme_claim.is_none(),
                "issuer {name}: set identifier_scheme or identifier_scheme_claim, not both"
            );
            anyhow::ensure!(
                SCHEMES.iter().any(|s| s.eq_ignore_ascii_case(scheme)),
                "issuer {name}: identifier_scheme {scheme:?} is not one of {}",
                SCHEMES.join(", ")
            );
        }
        for (what, claim) in [("organisation_claim", &self.organisation_claim), ("subject_claim", &self.subject_claim)]
        {
            anyhow::ensure!(!claim.trim().is_empty(), "issuer {name}: {what} is empty");
        }
        Ok(())
    }
}

/// What a verified token asserts: who issued it, which organisation identifier and which person.
/// The organisation itself comes from the register ([`crate::auth::register`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asserted {
    /// The issuer (exactly as configured).
    pub issuer: String,
    /// The first configured audience (the internal token's audiences are the subgraphs).
    pub audience: String,
    /// Identifier scheme, upper case (`URA`, …).
    pub scheme: String,
    /// The organisation's identifier in that scheme.
    pub identifier: String,
    /// The person or client acting for the organisation.
    pub subject: String,
    /// Scopes the token names (all of them; the gateway keeps the hub's).
    pub scopes: Vec<String>,
    /// Expiry (seconds since the epoch).
    pub exp: i64,
    /// Issued at.
    pub iat: i64,
    /// Token id.
    pub jti: String,
}

/// Why a token was refused. The message is safe to show the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefusal {
    #[error("the token is too large")]
    TooLarge,
    #[error("the token is not a JWT")]
    Malformed,
    #[error("the token's issuer is not trusted")]
    UnknownIssuer,
    #[error("the token is signed with an unknown key")]
    UnknownKey,
    #[error("the token's issuer cannot be checked now: its signing keys could not be loaded")]
    KeysUnavailable,
    #[error("the token's algorithm does not match its key")]
    WrongAlgorithm,
    #[error("the token's signature is invalid")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token is not issued for this gateway")]
    WrongAudience,
    #[error("the token lacks {0}")]
    MissingClaim(String),
    #[error("the token's {0}")]
    BadClaim(String),
}

/// A verification key from a JWKS, with the one algorithm it may be used with.
struct VerifyKey {
    kid: Option<String>,
    algorithm: Algorithm,
    key: DecodingKey,
}

/// Turns a JWK into a verification key; `None` (with the reason) for keys we do not use.
fn verify_key(jwk: &Jwk) -> Result<VerifyKey, String> {
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return Err("an encryption key".into());
    }
    let declared = match jwk.common.key_algorithm {
        Some(alg) => {
            Some(Algorithm::from_str(&alg.to_string()).map_err(|_| format!("unsupported key algorithm {alg:?}"))?)
        }
        None => None,
    };
    let (family_default, family): (Algorithm, &[Algorithm]) = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => (
            Algorithm::RS256,
            &[
                Algorithm::RS256,
                Algorithm::RS384,
                Algorithm::RS512,
                Algorithm::PS256,
                Algorithm::PS384,
                Algorithm::PS512,
            ],
        ),
        AlgorithmParameters::EllipticCurve(params) => match params.curve {
            EllipticCurve::P256 => (Algorithm::ES256, &[Algorithm::ES256]),
            EllipticCurve::P384 => (Algorithm::ES384, &[Algorithm::ES384]),
            _ => return Err("an unsupported elliptic curve".into()),
        },
        AlgorithmParameters::OctetKeyPair(params) if params.curve == EllipticCurve::Ed25519 => {
            (Algorithm::EdDSA, &[Algorithm::EdDSA])
        }
        AlgorithmParameters::OctetKeyPair(_) => return Err("an unsupported OKP curve".into()),
        // A shared secret published in a JWKS would let anyone sign: never trusted.
        AlgorithmParameters::OctetKey(_) => return Err("a symmetric key".into()),
        _ => return Err("an unknown key type".into()),
    };
    let algorithm = declared.unwrap_or(family_default);
    if !family.contains(&algorithm) {
        return Err(format!("alg {algorithm:?} does not fit its key type"));
    }
    let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("unusable key material ({e})"))?;
    Ok(VerifyKey { kid: jwk.common.key_id.clone(), algorithm, key })
}

/// Parses a JWKS document, skipping (and logging) keys that cannot be used.
fn parse_jwks(text: &str, source: &str) -> Result<Vec<VerifyKey>, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| format!("{source} is not JSON: {e}"))?;
    let keys = doc.get("keys").and_then(Value::as_array).ok_or_else(|| format!("{source} has no `keys` array"))?;
    let mut out = Vec::new();
    for (i, raw) in keys.iter().enumerate() {
        let parsed = serde_json::from_value::<Jwk>(raw.clone())
            .map_err(|e| format!("not a JWK ({e})"))
            .and_then(|jwk| verify_key(&jwk));
        match parsed {
            Ok(key) => out.push(key),
            Err(reason) => tracing::warn!(%source, key = i, %reason, "JWKS key ignored"),
        }
    }
    Ok(out)
}

/// A provider's state: configuration, current keys and refresh bookkeeping.
struct Issuer {
    config: IssuerConfig,
    keys: ArcSwap<Vec<VerifyKey>>,
    /// When an unknown key last triggered a refresh (at most one per [`REFRESH_COOLDOWN`]).
    refreshed: std::sync::Mutex<Option<Instant>>,
    /// One refresh at a time.
    refreshing: tokio::sync::Mutex<()>,
    /// The JWKS URL found through discovery.
    discovered: std::sync::Mutex<Option<String>>,
    /// Keys given at construction: never refreshed.
    fixed: bool,
    /// The client for its URLs (`None`: keys from a file or given at construction).
    http: Option<reqwest::Client>,
}

impl Issuer {
    /// The key `kid` names in the key set `keys` (one of this issuer's).
    fn find(keys: &[VerifyKey], kid: Option<&str>) -> Option<(Algorithm, DecodingKey)> {
        let key = match kid {
            Some(kid) => keys.iter().find(|k| k.kid.as_deref() == Some(kid)),
            // Without a kid only an unambiguous set is usable.
            None if keys.len() == 1 => keys.first(),
            None => None,
        }?;
        Some((key.algorithm, key.key.clone()))
    }
}

/// Verifies organisation tokens from the configured providers.
pub struct Authenticator {
    issuers: Vec<Arc<Issuer>>,
    leeway: u64,
    /// Tokens verified lately, by their exact text (issue 18: a partner sends the same token
    /// with every request until it expires, and checking its signature cost 1.5 % of a hub
    /// request's instructions). Only successes are kept; see [`Authenticator::verify`].
    verified: moka::sync::Cache<String, Arc<Verified>>,
}

/// A token that passed verification.
struct Verified {
    asserted: Asserted,
    /// Its issuer (index into `issuers`) and that issuer's key set it was verified against.
    issuer: usize,
    keys: Arc<Vec<VerifyKey>>,
}

impl Verified {
    /// About the bytes an entry holds: its token's text and its claims' strings, and 256 for the
    /// rest.
    fn weight(&self, token: &str) -> u32 {
        let a = &self.asserted;
        let strings = [&a.issuer, &a.audience, &a.scheme, &a.identifier, &a.subject, &a.jti].map(|s| s.len());
        let bytes =
            token.len() + strings.iter().sum::<usize>() + a.scopes.iter().map(|s| s.len() + 24).sum::<usize>() + 256;
        u32::try_from(bytes).unwrap_or(u32::MAX)
    }
}

/// Bytes of verified tokens kept (each weighs [`Verified::weight`]).
const VERIFIED_CACHE_BYTES: u64 = 16 * 1024 * 1024;
/// How long a verified token is kept at most (its expiry is checked on every use).
const VERIFIED_CACHE_TTL: Duration = Duration::from_secs(600);

fn verified_cache() -> moka::sync::Cache<String, Arc<Verified>> {
    moka::sync::Cache::builder()
        .max_capacity(VERIFIED_CACHE_BYTES)
        .weigher(|token: &String, verified: &Arc<Verified>| verified.weight(token))
        .time_to_live(VERIFIED_CACHE_TTL)
        .build()
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let issuers: Vec<&str> = self.issuers.iter().map(|i| i.config.issuer.as_str()).collect();
        f.debug_struct("Authenticator").field("issuers", &issuers).finish_non_exhaustive()
    }
}

impl Authenticator {
    /// Builds the verifier and loads every provider's keys once. A JWKS file or CA file that
    /// cannot be read is an error (a configuration mistake); a URL that cannot be reached (or
    /// whose certificate is not trusted) is logged and retried (its tokens are refused until it
    /// answers).
    pub async fn new(issuers: Vec<IssuerConfig>, leeway_secs: u64) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        let configure = |b: reqwest::ClientBuilder| b.timeout(Duration::from_secs(10));
        let mut shared: Option<reqwest::Client> = None;
        let mut built = Vec::with_capacity(issuers.len());
        for config in issuers {
            let name = &config.issuer;
            anyhow::ensure!(!name.is_empty(), "an [[auth.issuers]] entry has an empty `issuer`");
            anyhow::ensure!(!config.audiences.is_empty(), "issuer {name} lists no `audiences`");
            config.check_claims()?;
            anyhow::ensure!(
                !(config.jwks_url.is_some() && config.jwks_file.is_some()),
                "issuer {name}: set jwks_url or jwks_file, not both"
            );
            anyhow::ensure!(
                !(config.ca_file.is_some() && config.jwks_file.is_some()),
                "issuer {name}: ca_file is for fetching keys over https, not with jwks_file"
            );
            let http = match (&config.jwks_file, &config.ca_file) {
                (Some(_), _) => None,
                (None, Some(path)) => {
                    let ca = ggzhub_kit::tls::ExtraCa::load(Some(path)).with_context(|| format!("issuer {name}"))?;
                    Some(ca.client(configure).with_context(|| format!("issuer {name}"))?)
                }
                (None, None) => match &shared {
                    Some(client) => Some(client.clone()),
                    None => {
                        let client = ggzhub_kit::tls::ExtraCa::default().client(configure)?;
                        shared = Some(client.clone());
                        Some(client)
                    }
                },
            };
            built.push(Arc::new(Issuer {
                config,
                keys: ArcSwap::from_pointee(Vec::new()),
                refreshed: std::sync::Mutex::new(None),
                refreshing: tokio::sync::Mutex::new(()),
                discovered: std::sync::Mutex::new(None),
                fixed: false,
                http,
            }));
        }
        let me = Self { issuers: built, leeway: leeway_secs, verified: verified_cache() };
        for issuer in &me.issuers {
            if let Err(error) = me.refresh(issuer).await {
                if issuer.config.jwks_file.is_some() {
                    anyhow::bail!("issuer {}: {error}", issuer.config.issuer);
                }
                tracing::error!(issuer = %issuer.config.issuer, %error, "JWKS not loaded; its tokens are refused until it is");
            }
        }
        Ok(me)
    }

    /// A verifier trusting one provider whose keys are given here (tests, and the development
    /// issuer when its key is at hand), with the development provider's claims. Nothing is
    /// refreshed.
    pub fn with_keys(issuer: &str, audiences: &[&str], jwks: &Value, leeway_secs: u64) -> anyhow::Result<Self> {
        Self::with_issuer_keys(vec![(IssuerConfig::new(issuer, audiences), jwks.clone())], leeway_secs)
    }

    /// A verifier trusting the given providers with the keys given here. Nothing is refreshed.
    pub fn with_issuer_keys(issuers: Vec<(IssuerConfig, Value)>, leeway_secs: u64) -> anyhow::Result<Self> {
        let mut built = Vec::with_capacity(issuers.len());
        for (config, jwks) in issuers {
            config.check_claims()?;
            let keys = parse_jwks(&jwks.to_string(), "the given JWKS").map_err(|e| anyhow::anyhow!(e))?;
            anyhow::ensure!(!keys.is_empty(), "the given JWKS holds no usable signing key");
            built.push(Arc::new(Issuer {
                config,
                keys: ArcSwap::from_pointee(keys),
                refreshed: std::sync::Mutex::new(None),
                refreshing: tokio::sync::Mutex::new(()),
                discovered: std::sync::Mutex::new(None),
                fixed: true,
                http: None,
            }));
        }
        Ok(Self { issuers: built, leeway: leeway_secs, verified: verified_cache() })
    }

    /// Keeps every provider's keys fresh: call once, on the runtime that serves.
    pub fn spawn_refresh(self: &Arc<Self>) {
        for issuer in self.issuers.iter().filter(|i| !i.fixed) {
            let me = Arc::downgrade(self);
            let issuer = issuer.clone();
            let every = Duration::from_secs(issuer.config.refresh_secs.max(1));
            tokio::spawn(async move {
                let mut ticker = tokio::time::interval(every);
                ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                ticker.tick().await;
                loop {
                    ticker.tick().await;
                    let Some(me) = me.upgrade() else { return };
                    if let Err(error) = me.refresh(&issuer).await {
                        tracing::warn!(issuer = %issuer.config.issuer, %error, "JWKS refresh failed; keeping the last good keys");
                    }
                }
            });
        }
    }

    /// Loads the provider's keys now. The previous keys stay when this fails.
    async fn refresh(&self, issuer: &Issuer) -> Result<(), String> {
        let _one = issuer.refreshing.lock().await;
        let (text, source) = match (&issuer.config.jwks_file, &issuer.config.jwks_url) {
            (Some(path), _) => {
                let shown = path.display().to_string();
                let text = tokio::fs::read_to_string(path).await.map_err(|e| format!("reading {shown}: {e}"))?;
                (text, shown)
            }
            (None, Some(url)) => (Self::get(issuer, url).await?, url.clone()),
            (None, None) => {
                let url = Self::discover(issuer).await?;
                (Self::get(issuer, &url).await?, url)
            }
        };
        let keys = parse_jwks(&text, &source)?;
        if keys.is_empty() {
            return Err(format!("{source} holds no usable signing key"));
        }
        tracing::info!(issuer = %issuer.config.issuer, keys = keys.len(), "JWKS loaded");
        issuer.keys.store(Arc::new(keys));
        Ok(())
    }

    async fn discover(issuer: &Issuer) -> Result<String, String> {
        if let Some(url) = issuer.discovered.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone() {
            return Ok(url);
        }
        let url = format!("{}/.well-known/openid-configuration", issuer.config.issuer.trim_end_matches('/'));
        let doc: Value =
            serde_json::from_str(&Self::get(issuer, &url).await?).map_err(|e| format!("{url} is not JSON: {e}"))?;
        let jwks =
            doc.get("jwks_uri").and_then(Value::as_str).ok_or_else(|| format!("{url} names no jwks_uri"))?.to_owned();
        *issuer.discovered.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(jwks.clone());
        Ok(jwks)
    }

    async fn get(issuer: &Issuer, url: &str) -> Result<String, String> {
        use ggzhub_kit::tls::error_chain;
        let http = issuer.http.as_ref().ok_or_else(|| format!("{url}: this issuer's keys are not fetched"))?;
        // The chain names the cause, e.g. "invalid peer certificate: UnknownIssuer".
        let response = http.get(url).send().await.map_err(|e| format!("fetching {url}: {}", error_chain(&e)))?;
        if !response.status().is_success() {
            return Err(format!("{url} answered HTTP {}", response.status()));
        }
        response.text().await.map_err(|e| format!("reading {url}: {}", error_chain(&e)))
    }

    /// Verifies `token` and reads what it asserts (organisation identifier, subject, scopes).
    ///
    /// A token verified before is taken from the cache of verified tokens while it has not
    /// expired (the same leeway) and its issuer's key set is the one it was verified against:
    /// every refresh stores a new key set (a key withdrawn, say, or the same keys again every
    /// `refresh_secs`), which sends every cached token of that issuer through verification
    /// again. Its other time checks (`nbf`, `iat`) only ever pass later, never
    /// fail, once passed. A refused token is not cached: it is checked each time.
    pub async fn verify(&self, token: &str) -> Result<Asserted, TokenRefusal> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenRefusal::TooLarge);
        }
        if let Some(hit) = self.verified.get(token) {
            let current = self.issuers[hit.issuer].keys.load();
            let unexpired = hit.asserted.exp >= chrono::Utc::now().timestamp() - self.leeway as i64;
            if unexpired && Arc::ptr_eq(&current, &hit.keys) {
                return Ok(hit.asserted.clone());
            }
            self.verified.invalidate(token);
        }
        let (asserted, issuer, keys) = self.verify_anew(token).await?;
        self.verified.insert(token.to_owned(), Arc::new(Verified { asserted: asserted.clone(), issuer, keys }));
        Ok(asserted)
    }

    /// [`Authenticator::verify`] without the cache: the claims, the issuer's index and the key
    /// set verified against.
    async fn verify_anew(&self, token: &str) -> Result<(Asserted, usize, Arc<Vec<VerifyKey>>), TokenRefusal> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenRefusal::Malformed)?;
        // The issuer is read before verification only to pick whose keys to verify with.
        let iss = unverified_issuer(token).ok_or(TokenRefusal::Malformed)?;
        let (index, issuer) =
            self.issuers.iter().enumerate().find(|(_, i)| i.config.issuer == iss).ok_or(TokenRefusal::UnknownIssuer)?;
        let kid = header.kid.as_deref();
        // The key set the token is verified against (a refresh may replace it meanwhile).
        let mut keys = issuer.keys.load_full();
        let found = match Issuer::find(&keys, kid) {
            Some(found) => Some(found),
            None if self.may_refresh(issuer) => {
                if let Err(error) = self.refresh(issuer).await {
                    tracing::warn!(issuer = %issuer.config.issuer, %error, "JWKS refresh for an unknown key failed");
                }
                keys = issuer.keys.load_full();
                Issuer::find(&keys, kid)
            }
            None => None,
        };
        let (algorithm, key) = found.ok_or_else(|| {
            // Never loaded (unreachable, untrusted certificate): say so rather than blame the token.
            if issuer.keys.load().is_empty() { TokenRefusal::KeysUnavailable } else { TokenRefusal::UnknownKey }
        })?;
        if header.alg != algorithm {
            return Err(TokenRefusal::WrongAlgorithm);
        }
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[&issuer.config.issuer]);
        validation.set_audience(&issuer.config.audiences);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.validate_nbf = true;
        validation.leeway = self.leeway;
        let data = jsonwebtoken::decode::<Value>(token, &key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            match e.kind() {
                ErrorKind::ExpiredSignature => TokenRefusal::Expired,
                ErrorKind::ImmatureSignature => TokenRefusal::NotYetValid,
                ErrorKind::InvalidAudience => TokenRefusal::WrongAudience,
                ErrorKind::InvalidIssuer => TokenRefusal::UnknownIssuer,
                ErrorKind::MissingRequiredClaim(claim) => TokenRefusal::MissingClaim(format!("the {claim} claim")),
                ErrorKind::InvalidAlgorithm => TokenRefusal::WrongAlgorithm,
                _ => TokenRefusal::BadSignature,
            }
        })?;
        let claims = data.claims;
        let now = chrono::Utc::now().timestamp();
        if claims.get("iat").and_then(Value::as_i64).is_some_and(|iat| iat > now + self.leeway as i64) {
            return Err(TokenRefusal::NotYetValid);
        }
        Ok((asserted(&claims, &issuer.config)?, index, keys))
    }

    /// Whether an unknown key may trigger a refresh now (URL sources, once per cooldown).
    fn may_refresh(&self, issuer: &Issuer) -> bool {
        if issuer.fixed || issuer.config.jwks_file.is_some() {
            return false;
        }
        let mut last = issuer.refreshed.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match *last {
            Some(at) if at.elapsed() < REFRESH_COOLDOWN => false,
            _ => {
                *last = Some(Instant::now());
                true
            }
        }
    }
}

fn unverified_issuer(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    value.get("iss")?.as_str().map(str::to_owned)
}

/// A claim by name, or by dotted path when no claim has that exact name.
fn claim<'a>(claims: &'a Value, name: &str) -> Option<&'a Value> {
    if let Some(value) = claims.get(name) {
        return Some(value);
    }
    let mut current = claims;
    for part in name.split('.') {
        current = current.get(part)?;
    }
    Some(current)
}

/// A list claim: an array of strings or one space-separated string.
fn list(claims: &Value, name: &str) -> Result<Vec<String>, TokenRefusal> {
    match claim(claims, name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(s.split_whitespace().map(str::to_owned).collect()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| TokenRefusal::BadClaim(format!("{name} claim must hold strings"))),
        Some(_) => Err(TokenRefusal::BadClaim(format!("{name} claim must be a string or a list of strings"))),
    }
}

fn asserted(claims: &Value, issuer: &IssuerConfig) -> Result<Asserted, TokenRefusal> {
    let text = |name: &str| claim(claims, name).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
    let subject = text(&issuer.subject_claim)
        .ok_or_else(|| TokenRefusal::MissingClaim(format!("the subject claim {}", issuer.subject_claim)))?;
    let identifier = text(&issuer.organisation_claim).ok_or_else(|| {
        TokenRefusal::MissingClaim(format!("the organisation identifier claim {}", issuer.organisation_claim))
    })?;
    let scheme = match (&issuer.identifier_scheme, &issuer.identifier_scheme_claim) {
        (Some(fixed), _) => fixed.as_str(),
        (None, claim_name) => {
            let name = claim_name.as_deref().unwrap_or(ggzhub_kit::token::SCHEME_CLAIM);
            text(name).ok_or_else(|| TokenRefusal::MissingClaim(format!("the identifier scheme claim {name}")))?
        }
    };
    let scheme = SCHEMES
        .iter()
        .find(|s| s.eq_ignore_ascii_case(scheme))
        .ok_or_else(|| TokenRefusal::BadClaim("identifier scheme is not one of URA, AGB, UZOVI, KVK, OIN".into()))?;
    if identifier.len() > 64 || subject.len() > 255 {
        return Err(TokenRefusal::BadClaim("organisation identifier or subject is too long".into()));
    }
    let number = |name: &str| claims.get(name).and_then(Value::as_i64).unwrap_or_default();
    Ok(Asserted {
        issuer: issuer.issuer.clone(),
        audience: issuer.audiences.first().cloned().unwrap_or_default(),
        scheme: (*scheme).to_owned(),
        identifier: identifier.to_owned(),
        subject: subject.to_owned(),
        scopes: list(claims, &issuer.scope_claim)?,
        exp: number("exp"),
        iat: number("iat"),
        jti: claims.get("jti").and_then(Value::as_str).unwrap_or_default().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_are_found_by_name_then_by_path() {
        let claims = serde_json::json!({
            "https://ggzhub.nl/org": "x", "realm_access": { "roles": ["a", "b"] }, "scp": "r w"
        });
        assert_eq!(claim(&claims, "https://ggzhub.nl/org"), Some(&Value::from("x")));
        assert_eq!(list(&claims, "realm_access.roles").unwrap(), vec!["a", "b"]);
        assert_eq!(list(&claims, "scp").unwrap(), vec!["r", "w"]);
        assert_eq!(list(&claims, "absent").unwrap(), Vec::<String>::new());
        assert!(list(&serde_json::json!({"r": 1}), "r").is_err());
    }

    #[test]
    fn symmetric_and_mismatched_keys_are_not_trusted() {
        let hs: Jwk = serde_json::from_value(serde_json::json!({"kty": "oct", "k": "c2VjcmV0", "kid": "s"})).unwrap();
        assert!(verify_key(&hs).is_err());
        let ed: Jwk = serde_json::from_value(serde_json::json!({
            "kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "alg": "RS256"
        }))
        .unwrap();
        assert!(verify_key(&ed).is_err(), "an Ed25519 key declared as RS256 is refused");
        let enc: Jwk = serde_json::from_value(serde_json::json!({
            "kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "use": "enc"
        }))
        .unwrap();
        assert!(verify_key(&enc).is_err());
    }
}
