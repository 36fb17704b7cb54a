//! The hub's register, as the gateway reads it: who the organisation behind a token is.
//!
//! A verified token asserts (issuer, identifier scheme, identifier) ([`crate::auth::oidc::Asserted`]).
//! The gateway resolves that through the register of the region subgraph and takes the
//! organisation's hub id, kind, regions and roles (`chair:<region>`) from there; the token's
//! scopes can only narrow what the kind may have ([`granted_scopes`]).
//!
//! **How the register is read.** An internal GraphQL query to the region subgraph,
//! `registerResolution(issuer, scheme, value)`, a field marked `@inaccessible` (so it is not in the
//! API schema clients see) that the region subgraph answers only to an internal token with the
//! scope `register:resolve`. The gateway signs that token itself (subject `ggzhub-gateway`); no
//! organisation's internal token carries the scope, because every caller's scopes are narrowed to
//! its kind's ([`ggzhub_kit::token::default_scopes`]), none of which holds it. The gateway
//! depends on no service crate: only on this query's shape.
//!
//! **Bound on staleness.** Answers are cached per (issuer, scheme, identifier) for
//! `[auth.register] cache_ttl_secs` (default 30 s, at most [`MAX_CACHE_TTL`] = 60 s): a change in
//! the register (a binding removed, a chair named) applies to new requests within that time.
//! Refusals (unknown identifier, identifier bound to another issuer) are cached the same way;
//! failures to read the register are not.
//!
//! **Fail closed.** An unknown identifier, an identifier the issuer is not bound to, or a register
//! that cannot be read refuses the request with HTTP 401 `UNAUTHENTICATED` and a message naming
//! which of the three it was — never which organisations exist.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use ggzhub_kit::token::{TokenRequest, scopes};
use ggzhub_kit::{OrgKind, TokenSigner};
use serde_json::{Value, json};
use uuid::Uuid;

/// Longest time a register answer is used.
pub const MAX_CACHE_TTL: Duration = Duration::from_secs(60);
/// Default time a register answer is used.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(30);
/// Most cached answers; beyond it expired answers are dropped, then all.
pub const MAX_CACHED: usize = 10_000;
/// Subject of the gateway's own internal tokens for the register.
pub const GATEWAY_SUBJECT: &str = "ggzhub-gateway";

/// The query the gateway sends (the region subgraph's `registerResolution`).
pub const RESOLUTION_QUERY: &str = "query Resolve($issuer: String!, $scheme: String!, $value: String!) { registerResolution(issuer: $issuer, scheme: $scheme, value: $value) { outcome organisationId kind regions roles } }";

/// Why the register did not vouch for a token's organisation. Messages are safe to show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegisterRefusal {
    #[error("its organisation identifier is not in the hub's register")]
    UnknownIdentifier,
    #[error("its organisation identifier is bound to another identity provider, not to this issuer")]
    OtherIssuer,
    #[error("the hub's register cannot be read now, so its organisation cannot be checked; try again later")]
    Unavailable,
}

/// An organisation as the register knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    /// Hub id.
    pub org: Uuid,
    /// Kind.
    pub kind: OrgKind,
    /// Regions whose tables it sits at.
    pub regions: Vec<String>,
    /// Roles, e.g. `chair:utrecht`.
    pub roles: Vec<String>,
}

/// One organisation of a register given as data ([`Register::fixed`]).
#[derive(Debug, Clone)]
pub struct FixedEntry {
    /// Its identifiers: (scheme, value).
    pub identifiers: Vec<(String, String)>,
    /// Issuers bound to it, with the scheme each asserts.
    pub bindings: Vec<(String, String)>,
    /// What the register says about it.
    pub organisation: Registered,
}

enum Source {
    Subgraph { url: String, client: reqwest::Client, signer: TokenSigner, audience: String },
    Fixed(Arc<RwLock<Vec<FixedEntry>>>),
    Unreadable,
}

type Key = (String, String, String);
type Answer = Result<Registered, RegisterRefusal>;

/// Resolves (issuer, scheme, identifier) to a hub organisation, with a bounded cache.
pub struct Register {
    source: Source,
    ttl: Duration,
    cache: Mutex<HashMap<Key, (Instant, Answer)>>,
}

impl std::fmt::Debug for Register {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = match &self.source {
            Source::Subgraph { url, .. } => url.as_str(),
            Source::Fixed(_) => "fixed",
            Source::Unreadable => "unreadable",
        };
        f.debug_struct("Register").field("source", &source).field("ttl", &self.ttl).finish_non_exhaustive()
    }
}

impl Register {
    /// Reads the register from the region subgraph at `url` (its GraphQL endpoint), with internal
    /// tokens for `audience` (the subgraph's name) signed by `signer`. `ttl` is capped at
    /// [`MAX_CACHE_TTL`].
    pub fn subgraph(
        url: String,
        audience: &str,
        signer: TokenSigner,
        ttl: Duration,
        client: reqwest::Client,
    ) -> anyhow::Result<Self> {
        anyhow::ensure!(ttl <= MAX_CACHE_TTL, "the register cache TTL is at most {} s", MAX_CACHE_TTL.as_secs());
        Ok(Self::with(Source::Subgraph { url, client, signer, audience: audience.to_owned() }, ttl))
    }

    /// A register given as data (tests, embedding); [`Register::replace`] changes it.
    pub fn fixed(entries: Vec<FixedEntry>, ttl: Duration) -> Self {
        Self::with(Source::Fixed(Arc::new(RwLock::new(entries))), ttl.min(MAX_CACHE_TTL))
    }

    /// A register that can never be read (every token is refused as [`RegisterRefusal::Unavailable`]).
    pub fn unreadable() -> Self {
        Self::with(Source::Unreadable, Duration::ZERO)
    }

    fn with(source: Source, ttl: Duration) -> Self {
        Self { source, ttl, cache: Mutex::new(HashMap::new()) }
    }

    /// How long an answer is used.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Replaces the entries of a [`Register::fixed`] register (cached answers stay until they
    /// expire, as with the real register).
    pub fn replace(&self, entries: Vec<FixedEntry>) {
        if let Source::Fixed(fixed) = &self.source {
            *fixed.write().unwrap_or_else(std::sync::PoisonError::into_inner) = entries;
        }
    }

    /// Adds an organisation to a [`Register::fixed`] register.
    pub fn insert(&self, entry: FixedEntry) {
        if let Source::Fixed(fixed) = &self.source {
            fixed.write().unwrap_or_else(std::sync::PoisonError::into_inner).push(entry);
        }
    }

    /// What the register says about `identifier` of `scheme` asserted by `issuer`.
    pub async fn resolve(&self, issuer: &str, scheme: &str, identifier: &str) -> Answer {
        let key = (issuer.to_owned(), scheme.to_owned(), identifier.to_owned());
        if let Some((at, answer)) = self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&key)
            && at.elapsed() < self.ttl
        {
            return answer.clone();
        }
        let answer = self.lookup(issuer, scheme, identifier).await;
        if answer != Err(RegisterRefusal::Unavailable) && !self.ttl.is_zero() {
            let mut cache = self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if cache.len() >= MAX_CACHED {
                let ttl = self.ttl;
                cache.retain(|_, (at, _)| at.elapsed() < ttl);
                if cache.len() >= MAX_CACHED {
                    cache.clear();
                }
            }
            cache.insert(key, (Instant::now(), answer.clone()));
        }
        answer
    }

    async fn lookup(&self, issuer: &str, scheme: &str, identifier: &str) -> Answer {
        match &self.source {
            Source::Unreadable => Err(RegisterRefusal::Unavailable),
            Source::Fixed(entries) => {
                let entries = entries.read().unwrap_or_else(std::sync::PoisonError::into_inner);
                let entry = entries
                    .iter()
                    .find(|e| e.identifiers.iter().any(|(s, v)| s == scheme && v == identifier))
                    .ok_or(RegisterRefusal::UnknownIdentifier)?;
                if entry.bindings.iter().any(|(i, s)| i == issuer && s == scheme) {
                    Ok(entry.organisation.clone())
                } else {
                    Err(RegisterRefusal::OtherIssuer)
                }
            }
            Source::Subgraph { url, client, signer, audience } => {
                let token = signer.sign(&TokenRequest {
                    subject: GATEWAY_SUBJECT.into(),
                    audience: vec![audience.clone()],
                    org: Uuid::nil(),
                    org_kind: OrgKind::HubOperator,
                    regions: Vec::new(),
                    roles: Vec::new(),
                    scopes: vec![scopes::REGISTER_RESOLVE.to_owned()],
                    ttl: Duration::from_secs(60),
                });
                let body = json!({
                    "query": RESOLUTION_QUERY,
                    "variables": { "issuer": issuer, "scheme": scheme, "value": identifier },
                });
                let response = client.post(url).bearer_auth(token).json(&body).send().await.map_err(|e| {
                    tracing::warn!(%url, error = %ggzhub_kit::tls::error_chain(&e), "register unreadable");
                    RegisterRefusal::Unavailable
                })?;
                let status = response.status();
                let body: Value = response.json().await.map_err(|e| {
                    tracing::warn!(%url, %status, error = %e, "register answered without JSON");
                    RegisterRefusal::Unavailable
                })?;
                parse_resolution(&body).inspect_err(|_| {
                    tracing::warn!(%url, %status, errors = %body["errors"], "register answered without a resolution");
                })
            }
        }
    }
}

/// Reads the subgraph's answer to [`RESOLUTION_QUERY`].
fn parse_resolution(body: &Value) -> Answer {
    let r = body.pointer("/data/registerResolution").filter(|r| r.is_object()).ok_or(RegisterRefusal::Unavailable)?;
    match r["outcome"].as_str() {
        Some("RESOLVED") => {
            let org = r["organisationId"].as_str().and_then(|s| s.parse().ok()).ok_or(RegisterRefusal::Unavailable)?;
            let kind = r["kind"].as_str().and_then(OrgKind::parse).ok_or(RegisterRefusal::Unavailable)?;
            let strings = |v: &Value| -> Vec<String> {
                v.as_array().into_iter().flatten().filter_map(|s| s.as_str().map(str::to_owned)).collect()
            };
            Ok(Registered { org, kind, regions: strings(&r["regions"]), roles: strings(&r["roles"]) })
        }
        Some("UNKNOWN_IDENTIFIER") => Err(RegisterRefusal::UnknownIdentifier),
        Some("OTHER_ISSUER") => Err(RegisterRefusal::OtherIssuer),
        _ => Err(RegisterRefusal::Unavailable),
    }
}

/// The scopes a caller gets: the hub scopes its token names, kept only where the organisation's
/// kind may have them; a token that names no hub scope (e.g. only `openid profile`) gets all of
/// its kind's.
pub fn granted_scopes(kind: OrgKind, token_scopes: &[String]) -> Vec<String> {
    let allowed = ggzhub_kit::token::default_scopes(kind);
    let named: Vec<&str> =
        token_scopes.iter().map(String::as_str).filter(|s| scopes::ALL.contains(s)).collect::<Vec<_>>();
    if named.is_empty() {
        return allowed.iter().map(|s| (*s).to_owned()).collect();
    }
    allowed.iter().filter(|s| named.contains(s)).map(|s| (*s).to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_only_narrow() {
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        assert_eq!(granted_scopes(OrgKind::Municipality, &s(&["admin", "picture:read"])), s(&["picture:read"]));
        assert_eq!(granted_scopes(OrgKind::Provider, &s(&["admin"])), Vec::<String>::new());
        assert_eq!(granted_scopes(OrgKind::HubOperator, &s(&["openid", "profile"])), s(&["picture:read", "admin"]));
        assert_eq!(granted_scopes(OrgKind::HubOperator, &s(&[])), s(&["picture:read", "admin"]));
        assert!(!granted_scopes(OrgKind::HubOperator, &s(&["register:resolve"])).contains(&"register:resolve".into()));
        for kind in OrgKind::ALL {
            assert!(
                !granted_scopes(kind, &s(&[scopes::REGISTER_RESOLVE])).iter().any(|x| x == scopes::REGISTER_RESOLVE)
            );
        }
    }

    #[test]
    fn answers_parse_and_anything_else_is_unavailable() {
        let ok = json!({"data": {"registerResolution": {"outcome": "RESOLVED", "organisationId": Uuid::nil(),
            "kind": "INSURER", "regions": ["utrecht"], "roles": ["chair:utrecht"]}}});
        let r = parse_resolution(&ok).expect("resolved");
        assert_eq!(
            (r.kind, r.regions, r.roles),
            (OrgKind::Insurer, vec!["utrecht".into()], vec!["chair:utrecht".into()])
        );
        let other = json!({"data": {"registerResolution": {"outcome": "OTHER_ISSUER"}}});
        assert_eq!(parse_resolution(&other), Err(RegisterRefusal::OtherIssuer));
        let forbidden = json!({"data": null, "errors": [{"message": "no", "extensions": {"code": "FORBIDDEN"}}]});
        assert_eq!(parse_resolution(&forbidden), Err(RegisterRefusal::Unavailable));
    }
}
