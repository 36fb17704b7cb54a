//! The per-organisation rate limit shared by every gateway replica, through Redis (issue 20):
//! with three replicas an organisation gets its limit once, not three times.
//!
//! **Algorithm.** The same GCRA as the local limiter ([`super::ratelimit`]), kept in Redis: one
//! key per organisation holding its *theoretical arrival time*, read and advanced by one Lua script
//! in a single round trip (atomic on the server, so concurrent replicas never both take the last
//! slot), on the server's clock (`TIME`), so replicas' clocks do not matter. A key expires once
//! its bucket is full again.
//!
//! **When Redis cannot be reached** (down, or slower than `redis_timeout_ms`), the gateway keeps
//! serving: that request is counted by the replica's local limiter instead (the same limit per
//! replica, so at most replicas × the limit in total), and the gateway says so — a warning in the
//! log (at most one per 10 s, with the number of requests counted locally since) and the counters
//! of [`SharedRateLimit::stats`]. After a failure Redis is left alone for [`PAUSE`] (requests do
//! not each wait for a dead server), then tried again; the connection manager reconnects by
//! itself. Refusing every request while Redis is down would
//! turn a cache outage into a hub outage; serving without any limit would let one organisation
//! flood the hub exactly then.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ratelimit::{Limited, OrgRateLimiter, RateLimitOptions};

/// `[rate_limit]`'s Redis settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedisOptions {
    /// The Redis server, e.g. `redis://127.0.0.1:6379` (`rediss://` for TLS).
    pub url: String,
    /// Longest wait for Redis before the request is counted locally.
    pub timeout: Duration,
    /// Prefix of the keys (one per organisation).
    pub key_prefix: String,
}

/// GCRA in one round trip. KEYS[1]: the organisation's key. ARGV[1]: the emission interval
/// (µs between two requests at the sustained rate); ARGV[2]: the burst. Returns 0 when the
/// request is allowed, else the µs to wait.
const GCRA: &str = r"
local now = redis.call('TIME')
local now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now_us then tat = now_us end
local early = tat - now_us - (burst - 1) * interval
if early > 0 then return math.ceil(early) end
local next_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', math.ceil((next_tat - now_us) / 1000) + 1000)
return 0
";

/// How long requests are counted locally after Redis failed, before it is tried again.
pub const PAUSE: Duration = Duration::from_secs(1);

/// What the shared limiter did, for logs, metrics and tests.
#[derive(Debug, Default)]
pub struct SharedStats {
    /// Requests counted in Redis.
    pub shared: AtomicU64,
    /// Requests counted locally because Redis could not be reached.
    pub local: AtomicU64,
}

/// The shared limiter, with the local one it falls back to.
pub struct SharedRateLimit {
    options: RateLimitOptions,
    redis: RedisOptions,
    connection: tokio::sync::OnceCell<redis::aio::ConnectionManager>,
    client: redis::Client,
    script: redis::Script,
    fallback: OrgRateLimiter,
    stats: Arc<SharedStats>,
    warned: std::sync::Mutex<Option<Instant>>,
    /// Until when Redis is left alone after a failure.
    paused_until: std::sync::Mutex<Option<Instant>>,
}

impl std::fmt::Debug for SharedRateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedRateLimit")
            .field("options", &self.options)
            .field("prefix", &self.redis.key_prefix)
            .finish()
    }
}

impl SharedRateLimit {
    /// A limiter of `options` kept in Redis at `redis.url`. Connects on first use; a URL that
    /// does not parse is an error now.
    pub fn new(options: RateLimitOptions, redis: RedisOptions) -> anyhow::Result<Self> {
        let client = redis::Client::open(redis.url.as_str())
            .map_err(|e| anyhow::anyhow!("[rate_limit] redis_url is not a Redis URL: {e}"))?;
        Ok(Self {
            options,
            redis,
            connection: tokio::sync::OnceCell::new(),
            client,
            script: redis::Script::new(GCRA),
            fallback: OrgRateLimiter::new(options),
            stats: Arc::new(SharedStats::default()),
            warned: std::sync::Mutex::new(None),
            paused_until: std::sync::Mutex::new(None),
        })
    }

    /// The counters.
    pub fn stats(&self) -> Arc<SharedStats> {
        self.stats.clone()
    }

    /// Counts one request of `org` (`None`: anonymous) across all replicas; `Err` when it is over
    /// its limit.
    pub async fn check(&self, org: Option<Uuid>) -> Result<(), Limited> {
        let Some(per_second) = std::num::NonZeroU32::new(self.options.per_second) else { return Ok(()) };
        let burst = if self.options.burst == 0 { per_second.get() } else { self.options.burst };
        let interval_us = 1_000_000f64 / f64::from(per_second.get());
        if self
            .paused_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_some_and(|until| Instant::now() < until)
        {
            return self.locally(org, "paused after a failure");
        }
        let key = format!("{}{}", self.redis.key_prefix, org.map_or_else(|| "anonymous".to_owned(), |o| o.to_string()));
        let answer = tokio::time::timeout(self.redis.timeout, async {
            let connection = self
                .connection
                .get_or_try_init(|| async {
                    let config = redis::aio::ConnectionManagerConfig::new()
                        .set_connection_timeout(Some(self.redis.timeout))
                        .set_response_timeout(Some(self.redis.timeout))
                        .set_number_of_retries(1);
                    redis::aio::ConnectionManager::new_with_config(self.client.clone(), config).await
                })
                .await?;
            let mut connection = connection.clone();
            self.script.key(&key).arg(interval_us).arg(burst).invoke_async::<i64>(&mut connection).await
        })
        .await;
        match answer {
            Ok(Ok(wait_us)) => {
                self.stats.shared.fetch_add(1, Ordering::Relaxed);
                if wait_us <= 0 {
                    Ok(())
                } else {
                    Err(Limited { retry_after: Duration::from_micros(u64::try_from(wait_us).unwrap_or(0)) })
                }
            }
            Ok(Err(error)) => self.failed(org, &error.to_string()),
            Err(_) => self.failed(org, &format!("no answer within {} ms", self.redis.timeout.as_millis())),
        }
    }

    fn failed(&self, org: Option<Uuid>, reason: &str) -> Result<(), Limited> {
        *self.paused_until.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Instant::now() + PAUSE);
        self.locally(org, reason)
    }

    fn locally(&self, org: Option<Uuid>, reason: &str) -> Result<(), Limited> {
        let local = self.stats.local.fetch_add(1, Ordering::Relaxed) + 1;
        crate::metrics::instruments().rate_limit_local.add(1, &[]);
        let mut warned = self.warned.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if warned.is_none_or(|at| at.elapsed() >= Duration::from_secs(10)) {
            *warned = Some(Instant::now());
            tracing::warn!(
                reason,
                counted_locally = local,
                "the shared rate limit (Redis) cannot be reached: this replica limits each organisation on its own until it can"
            );
        }
        self.fallback.check(org)
    }
}
