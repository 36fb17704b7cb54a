//! Public (anonymous) access for the dashboard's *Publiek* view: with `[auth] public_anonymous`
//! on, a request without an `Authorization` header is served as the public, with three limits:
//!
//! - it sees only the public contract schema (fields tagged `@tag(name: "public")`, see
//!   [`crate::supergraph::contract`]), as patient organisations do;
//! - it may run only the dashboard's own operations: the manifest `dashboard/operations.json`,
//!   built into the binary (or another file, `[public] operations`), enforced as trusted documents
//!   are ([`crate::admission::trusted`]): a query not on it is refused with 403 PERSISTED_QUERY_NOT_IN_LIST,
//!   an unknown hash with 404 PERSISTED_QUERY_NOT_FOUND;
//! - it is rate-limited per client address ([`AddressRateLimiter`]): the peer address of the
//!   connection, or, only when that peer is one of `[public] trusted_proxies`, the address the
//!   proxies recorded in `X-Forwarded-For`.
//!
//! Subgraphs accept only the gateway's internal tokens, so a public caller's subgraph calls carry
//! one too: subject [`crate::auth::identity::PUBLIC_SUBJECT`], the nil organisation, kind PATIENT_ORGANISATION (whose
//! reading rights are the public's, DOMAIN.md) and the scope `picture:read` only, no regions or
//! roles; it can write nothing.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use anyhow::Context as _;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use governor::clock::Clock as _;
use governor::{DefaultKeyedRateLimiter, Quota};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::admission::ratelimit::Limited;
use crate::admission::trusted::{Manifest, TrustedDocuments, TrustedMode};

/// The dashboard's operations, which anonymous callers are limited to in public mode: a JSON
/// object from SHA-256 (hex) of each document's exact text to that text.
pub const DASHBOARD_OPERATIONS: &str = include_str!("../../../dashboard/operations.json");

/// `[public]`: the manifest, rate limit and proxies of public access.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PublicConfig {
    /// The operations public callers may run; absent: the dashboard's, built into the binary.
    pub operations: Option<std::path::PathBuf>,
    /// Sustained requests per second per client address; 0 turns the limit off.
    pub per_address_per_second: u32,
    /// Requests a client address may make at once; 0 means `per_address_per_second`.
    pub burst: u32,
    /// Proxies (addresses or CIDR ranges) whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<String>,
}

impl Default for PublicConfig {
    fn default() -> Self {
        Self { operations: None, per_address_per_second: 10, burst: 60, trusted_proxies: Vec::new() }
    }
}

impl PublicConfig {
    /// The public access these options describe (the manifest read and verified).
    pub fn load(&self) -> anyhow::Result<PublicAccess> {
        let manifest = match &self.operations {
            Some(path) => {
                let json = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
                parse_operations(&json).with_context(|| format!("loading {}", path.display()))?
            }
            None => parse_operations(DASHBOARD_OPERATIONS)
                .context("the dashboard's operations built into the gateway (dashboard/operations.json)")?,
        };
        let proxies = self
            .trusted_proxies
            .iter()
            .map(|proxy| {
                proxy
                    .parse::<IpNet>()
                    .or_else(|_| proxy.parse::<IpAddr>().map(IpNet::from))
                    .with_context(|| format!("[public] trusted_proxies: {proxy:?} is not an address or CIDR range"))
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(PublicAccess::new(
            manifest,
            crate::admission::ratelimit::RateLimitOptions {
                per_second: self.per_address_per_second,
                burst: self.burst,
            },
            proxies,
        ))
    }
}

/// Reads an operations manifest: `{"<sha256>": "<text>"}` (GraphQL Code Generator's
/// persisted-documents file), or the trusted-documents form `{"*": {"<sha256>": "<text>"}}`.
/// Each hash is checked against its text.
pub fn parse_operations(json: &str) -> anyhow::Result<Manifest> {
    let value: serde_json::Value = serde_json::from_str(json).context("the operations manifest is not JSON")?;
    let object = value.as_object().context("the operations manifest is a JSON object {\"<sha256>\": \"<text>\"}")?;
    if object.values().all(serde_json::Value::is_string) {
        Manifest::parse(&serde_json::json!({ crate::admission::trusted::EVERYONE: object }).to_string())
    } else {
        Manifest::parse(json)
    }
}

/// Public access of a running gateway.
#[derive(Debug)]
pub struct PublicAccess {
    /// The operations public callers may run (enforced).
    pub operations: Arc<TrustedDocuments>,
    limiter: AddressRateLimiter,
    trusted_proxies: Vec<IpNet>,
}

impl PublicAccess {
    pub fn new(
        operations: Manifest,
        rate_limit: crate::admission::ratelimit::RateLimitOptions,
        trusted_proxies: Vec<IpNet>,
    ) -> Self {
        Self {
            operations: Arc::new(TrustedDocuments::new(TrustedMode::Enforce, operations)),
            limiter: AddressRateLimiter::new(rate_limit),
            trusted_proxies,
        }
    }

    /// The client's address: the connection's peer, or, when that peer is a trusted proxy, the
    /// right-most address in `X-Forwarded-For` that is not one (each proxy appends the address it
    /// was reached from, so the ones left of the first untrusted hop could be forged by the
    /// client). `None` when the server was started without peer addresses.
    pub fn client_address(&self, peer: Option<SocketAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer?.ip().to_canonical();
        if !self.is_trusted(peer) {
            return Some(peer);
        }
        let forwarded: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|part| part.trim().parse::<IpAddr>().map(|ip| ip.to_canonical()))
            .collect::<Result<_, _>>()
            .unwrap_or_default();
        Some(forwarded.into_iter().rev().find(|ip| !self.is_trusted(*ip)).unwrap_or(peer))
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|net| net.contains(&ip))
    }

    /// Counts one request from `address`; `Err` when that address is over its limit.
    pub fn check(&self, address: Option<IpAddr>) -> Result<(), Limited> {
        self.limiter.check(address)
    }
}

/// The peer address of the connection, when the server records it
/// (`into_make_service_with_connect_info`, as [`crate::http::server::serve`] does).
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub Option<SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for PeerAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0)))
    }
}

/// Addresses kept before idle ones are forgotten.
const MAX_TRACKED: usize = 100_000;

/// A token bucket per client address (GCRA, `governor`, as [`crate::admission::ratelimit`]); IPv6 clients
/// are counted per /64, the block one subscriber gets. An unknown address shares one bucket.
pub struct AddressRateLimiter {
    limiter: Option<DefaultKeyedRateLimiter<Option<IpAddr>>>,
}

impl std::fmt::Debug for AddressRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AddressRateLimiter").field("enabled", &self.limiter.is_some()).finish()
    }
}

impl AddressRateLimiter {
    pub fn new(options: crate::admission::ratelimit::RateLimitOptions) -> Self {
        let quota = NonZeroU32::new(options.per_second).map(|per_second| {
            Quota::per_second(per_second).allow_burst(NonZeroU32::new(options.burst).unwrap_or(per_second))
        });
        Self { limiter: quota.map(DefaultKeyedRateLimiter::keyed) }
    }

    pub fn check(&self, address: Option<IpAddr>) -> Result<(), Limited> {
        let Some(limiter) = &self.limiter else { return Ok(()) };
        let key = address.map(|ip| match ip {
            IpAddr::V6(v6) => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(Ipv6Addr::from(segments))
            }
            v4 => v4,
        });
        let result = limiter
            .check_key(&key)
            .map_err(|not_until| Limited { retry_after: not_until.wait_time_from(limiter.clock().now()) });
        if limiter.len() > MAX_TRACKED {
            limiter.retain_recent();
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::trusted::sha256_hex;

    fn access(proxies: &[&str]) -> PublicAccess {
        PublicAccess::new(
            Manifest::default(),
            crate::admission::ratelimit::RateLimitOptions { per_second: 1, burst: 2 },
            proxies.iter().map(|p| p.parse().expect("net")).collect(),
        )
    }

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", value.parse().expect("header"));
        headers
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let peer: SocketAddr = "10.0.0.5:5000".parse().expect("addr");
        let none = access(&[]);
        assert_eq!(none.client_address(Some(peer), &forwarded("203.0.113.9")), Some(peer.ip()));
        let proxied = access(&["10.0.0.0/8"]);
        assert_eq!(
            proxied.client_address(Some(peer), &forwarded("203.0.113.9")),
            Some("203.0.113.9".parse().expect("ip"))
        );
        // The client wrote the first entry itself; the proxy appended the real one.
        assert_eq!(
            proxied.client_address(Some(peer), &forwarded("1.2.3.4, 203.0.113.9, 10.0.0.7")),
            Some("203.0.113.9".parse().expect("ip"))
        );
        assert_eq!(proxied.client_address(Some(peer), &forwarded("not-an-ip")), Some(peer.ip()));
        assert_eq!(proxied.client_address(Some(peer), &HeaderMap::new()), Some(peer.ip()));
        assert_eq!(proxied.client_address(None, &HeaderMap::new()), None);
        let mapped: SocketAddr = "[::ffff:10.0.0.5]:1".parse().expect("addr");
        assert_eq!(
            proxied.client_address(Some(mapped), &forwarded("203.0.113.9")),
            Some("203.0.113.9".parse().expect("ip"))
        );
    }

    #[test]
    fn addresses_have_their_own_buckets_and_ipv6_counts_per_64() {
        let limiter =
            AddressRateLimiter::new(crate::admission::ratelimit::RateLimitOptions { per_second: 1, burst: 2 });
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        let b: IpAddr = "192.0.2.2".parse().expect("ip");
        assert!(limiter.check(Some(a)).is_ok() && limiter.check(Some(a)).is_ok());
        assert!(limiter.check(Some(a)).is_err());
        assert!(limiter.check(Some(b)).is_ok());
        let v6 = |s: &str| Some(s.parse::<IpAddr>().expect("ip"));
        assert!(limiter.check(v6("2001:db8::1")).is_ok() && limiter.check(v6("2001:db8::2")).is_ok());
        assert!(limiter.check(v6("2001:db8::ffff:3")).is_err(), "same /64");
        assert!(limiter.check(v6("2001:db8:0:1::1")).is_ok(), "another /64");
    }

    #[test]
    fn operations_manifests_in_both_forms() {
        let text = "query PublicRegions { regions { code } }";
        let flat = serde_json::json!({ sha256_hex(text): text }).to_string();
        assert_eq!(parse_operations(&flat).expect("flat").len(), 1);
        let nested = serde_json::json!({ "*": { sha256_hex(text): text } }).to_string();
        assert_eq!(parse_operations(&nested).expect("nested").len(), 1);
        assert!(parse_operations("{}").expect("empty").is_empty());
        let wrong = serde_json::json!({ sha256_hex("{ x }"): text }).to_string();
        assert!(parse_operations(&wrong).is_err());
        assert!(parse_operations("[]").is_err());
        assert!(PublicConfig::default().load().is_ok(), "the built-in manifest loads");
        let proxies =
            PublicConfig { trusted_proxies: vec!["10.0.0.1".into(), "fd00::/8".into()], ..Default::default() };
        assert_eq!(proxies.load().expect("proxies").trusted_proxies.len(), 2);
        let bad = PublicConfig { trusted_proxies: vec!["proxy.local".into()], ..Default::default() };
        assert!(bad.load().is_err());
    }
}
