//! Rate limiting per organisation: each verified organisation has its own token bucket (GCRA,
//! from the `governor` crate); a caller over its limit gets HTTP 429 with `Retry-After` and
//! `RATE_LIMITED`.
//!
//! The organisation is known only once the caller's token has been verified, inside the request
//! handler, so the limiter is called there rather than as a tower layer (tower_governor keys on
//! what a layer can see: the peer address or a header). Anonymous callers (only served with
//! `allow_anonymous`) share one bucket: behind a proxy or load balancer the peer address is the
//! proxy's, so keying them by address would not separate them anyway.
//!
//! The state is a sharded concurrent map (DashMap) of one atomic cell per organisation: a check
//! takes a shard's read lock and a compare-and-swap, never a global lock and nothing held across
//! an await. Entries are only created for organisations with a valid token, so the map is bounded
//! by the organisations the identity providers vouch for.

use std::num::NonZeroU32;
use std::time::Duration;

use axum::http::HeaderValue;
use governor::clock::Clock as _;
use governor::{DefaultKeyedRateLimiter, Quota};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{GatewayError, GraphqlError};

/// Requests per second and burst of every organisation; `per_second == 0` turns limiting off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimitOptions {
    /// Sustained requests per second per organisation; 0 turns rate limiting off.
    pub per_second: u32,
    /// Requests an organisation may make at once (the bucket's size); 0 means `per_second`.
    pub burst: u32,
}

impl RateLimitOptions {
    /// No limit.
    pub const OFF: Self = Self { per_second: 0, burst: 0 };

    fn quota(self) -> Option<Quota> {
        let per_second = NonZeroU32::new(self.per_second)?;
        let burst = NonZeroU32::new(self.burst).unwrap_or(per_second);
        Some(Quota::per_second(per_second).allow_burst(burst))
    }
}

/// A caller over its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    /// When the next request would be allowed.
    pub retry_after: Duration,
}

impl Limited {
    /// `Retry-After` in whole seconds, at least 1 (rounded up, so a client that waits it out
    /// is let through).
    pub fn retry_after_secs(&self) -> u64 {
        let secs = self.retry_after.as_secs() + u64::from(self.retry_after.subsec_nanos() > 0);
        secs.max(1)
    }

    pub fn retry_after_header(&self) -> HeaderValue {
        HeaderValue::from(self.retry_after_secs())
    }

    pub fn error(&self) -> GraphqlError {
        GatewayError::RateLimited
            .error(format!("too many requests from your organisation: retry after {} s", self.retry_after_secs()))
    }
}

/// The gateway's per-organisation limiter.
pub struct OrgRateLimiter {
    /// Keyed by organisation; `None` is the bucket anonymous callers share.
    limiter: Option<DefaultKeyedRateLimiter<Option<Uuid>>>,
}

impl std::fmt::Debug for OrgRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrgRateLimiter").field("enabled", &self.limiter.is_some()).finish()
    }
}

impl OrgRateLimiter {
    pub fn new(options: RateLimitOptions) -> Self {
        Self { limiter: options.quota().map(DefaultKeyedRateLimiter::keyed) }
    }

    /// Counts one request of `org` (`None`: anonymous); `Err` when it is over its limit.
    pub fn check(&self, org: Option<Uuid>) -> Result<(), Limited> {
        let Some(limiter) = &self.limiter else { return Ok(()) };
        limiter
            .check_key(&org)
            .map_err(|not_until| Limited { retry_after: not_until.wait_time_from(limiter.clock().now()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_refusals_per_organisation() {
        let limiter = OrgRateLimiter::new(RateLimitOptions { per_second: 1, burst: 3 });
        let (a, b) = (Some(Uuid::now_v7()), Some(Uuid::now_v7()));
        for _ in 0..3 {
            assert!(limiter.check(a).is_ok());
        }
        let limited = limiter.check(a).expect_err("over the burst");
        assert!(limited.retry_after <= Duration::from_secs(1));
        assert_eq!(limited.retry_after_secs(), 1);
        assert!(limiter.check(b).is_ok(), "another organisation has its own bucket");
        assert!(limiter.check(None).is_ok(), "so do anonymous callers");

        let off = OrgRateLimiter::new(RateLimitOptions::OFF);
        assert!((0..1000).all(|_| off.check(a).is_ok()));
    }

    #[test]
    fn retry_after_is_whole_seconds_rounded_up() {
        let secs = |ms| Limited { retry_after: Duration::from_millis(ms) }.retry_after_secs();
        assert_eq!(secs(0), 1);
        assert_eq!(secs(20), 1);
        assert_eq!(secs(1000), 1);
        assert_eq!(secs(1001), 2);
    }
}
