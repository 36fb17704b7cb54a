//! Subgraph resilience: retries held in check by a retry budget, and a circuit breaker, both kept
//! per subgraph.
//!
//! **Retries.** Only calls that cannot change anything are retried: subgraph operations that are
//! queries (root query fetches and `_entities` fetches, also those a mutation's plan makes after
//! its mutation fields ran). A mutation field's own fetch is sent exactly once. An attempt is
//! retried only when the subgraph could not be reached, did not answer in time, or answered HTTP
//! 502, 503 or 504; never when it answered, even with GraphQL errors. A call makes at most
//! `max_attempts` HTTP requests, with a short jittered backoff between them: before retry `n` it
//! waits a random time between half and all of `retry_backoff × 2^(n-1)` (capped at 64 ×).
//!
//! **Retry budget** (as in Finagle and Apollo Router). Every call deposits into its subgraph's
//! budget; every retry withdraws. Over the last `budget_window` the retries may be at most
//! `retry_percent` % of the calls, plus a reserve of `min_retries_per_sec × budget_window` so
//! that a quiet subgraph can still be retried. When a subgraph is down for everyone, retries
//! therefore add a bounded fraction of load instead of multiplying it. The window is ten slots
//! of atomic counters: no lock.
//!
//! **Circuit breaker.** After `failure_threshold` consecutive failed attempts (unreachable,
//! timeout, HTTP 5xx) a subgraph's circuit opens: for `open_for` every call to it fails at once
//! with `SUBGRAPH_UNAVAILABLE`, without touching the network. Then it is half-open: one call is
//! let through as a trial (the others still fail at once); if it succeeds the circuit closes, if
//! it fails it opens again. A subgraph that answers at all (even HTTP 4xx, or GraphQL errors)
//! counts as healthy. The state is one atomic word plus a failure counter: no lock.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::future::Future;
use std::hash::BuildHasher;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;

use crate::subgraph::response::{FetchFailure, SubgraphResponse};

/// The resilience settings, the same for every subgraph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResilienceOptions {
    /// HTTP requests one query call may make, the first included; 1 turns retries off.
    pub max_attempts: u32,
    /// Backoff before the first retry (jittered, doubling for each further retry).
    pub retry_backoff: Duration,
    /// Retries allowed on top of the calls of the window, in percent of those calls.
    pub retry_percent: u32,
    /// Retries per second of the window that are allowed whatever the traffic.
    pub min_retries_per_sec: u32,
    /// How far back the retry budget looks.
    pub budget_window: Duration,
    /// Consecutive failed attempts that open a subgraph's circuit; 0 turns the breaker off.
    pub failure_threshold: u32,
    /// How long an open circuit refuses calls before it lets a trial call through.
    pub open_for: Duration,
}

impl Default for ResilienceOptions {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            retry_backoff: Duration::from_millis(50),
            retry_percent: 20,
            min_retries_per_sec: 10,
            budget_window: Duration::from_secs(10),
            failure_threshold: 5,
            open_for: Duration::from_secs(10),
        }
    }
}

/// Where the breaker and the budget read the time: monotonic, from an arbitrary origin.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> Duration;
}

/// The real clock.
#[derive(Debug)]
pub struct MonotonicClock(Instant);

impl Default for MonotonicClock {
    fn default() -> Self {
        Self(Instant::now())
    }
}

impl Clock for MonotonicClock {
    fn now(&self) -> Duration {
        self.0.elapsed()
    }
}

/// A clock that moves only when told to (tests).
#[derive(Debug, Default)]
pub struct ManualClock(AtomicU64);

impl ManualClock {
    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(millis(by), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_millis(self.0.load(Ordering::SeqCst))
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// What one HTTP attempt gave: the HTTP status with the parsed answer, or why there is none.
pub type Attempt = Result<(u16, SubgraphResponse), FetchFailure>;

/// How an attempt looks to the breaker and to retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// The subgraph answered.
    Healthy,
    /// Unreachable, timed out or HTTP 5xx; `retryable` for all but 500, 501 and the like.
    Failed { retryable: bool },
}

fn verdict(attempt: &Attempt) -> Verdict {
    let status_verdict = |status: u16| match status {
        502..=504 => Verdict::Failed { retryable: true },
        500..=599 => Verdict::Failed { retryable: false },
        _ => Verdict::Healthy,
    };
    match attempt {
        Ok((status, _)) => status_verdict(*status),
        Err(FetchFailure::Timeout { .. } | FetchFailure::Unreachable { .. }) => Verdict::Failed { retryable: true },
        Err(FetchFailure::Status { status, .. }) => status_verdict(*status),
        Err(FetchFailure::Invalid { .. } | FetchFailure::UnknownService { .. } | FetchFailure::CircuitOpen { .. }) => {
            Verdict::Healthy
        }
    }
}

/// Whether a call may be retried at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// A query: retried on failures that allow it, within the budget.
    Allowed,
    /// A mutation: sent once.
    Never,
}

/// Retry budgets and circuit breakers of all subgraphs.
#[derive(Debug)]
pub struct Resilience {
    options: ResilienceOptions,
    clock: Arc<dyn Clock>,
    /// Per subgraph name; a subgraph not seen before is added (rare, copy on write), so calls
    /// only ever read it.
    subgraphs: ArcSwap<HashMap<String, Arc<SubgraphHealth>>>,
    jitter: RandomState,
    draws: AtomicU64,
}

#[derive(Debug)]
struct SubgraphHealth {
    budget: RetryBudget,
    breaker: Breaker,
}

impl Resilience {
    pub fn new(options: ResilienceOptions) -> Self {
        Self::with_clock(options, Arc::new(MonotonicClock::default()))
    }

    pub fn with_clock(options: ResilienceOptions, clock: Arc<dyn Clock>) -> Self {
        Self { options, clock, subgraphs: ArcSwap::default(), jitter: RandomState::new(), draws: AtomicU64::new(0) }
    }

    pub fn options(&self) -> &ResilienceOptions {
        &self.options
    }

    fn now(&self) -> u64 {
        millis(self.clock.now())
    }

    fn health(&self, service: &str) -> Arc<SubgraphHealth> {
        if let Some(health) = self.subgraphs.load().get(service) {
            return health.clone();
        }
        let fresh =
            Arc::new(SubgraphHealth { budget: RetryBudget::new(&self.options), breaker: Breaker::new(&self.options) });
        let before = self.subgraphs.rcu(|current| {
            if current.contains_key(service) {
                return current.clone();
            }
            let mut next = HashMap::clone(current);
            next.insert(service.to_owned(), fresh.clone());
            Arc::new(next)
        });
        // Another call may have added it first: theirs stays.
        before.get(service).cloned().unwrap_or(fresh)
    }

    /// Runs one subgraph call: `attempt` makes one HTTP request and is called again for each
    /// retry. Fails at once, without calling `attempt`, while the subgraph's circuit is open.
    pub async fn call<F, Fut>(
        &self,
        service: &str,
        retry: Retry,
        mut attempt: F,
    ) -> Result<SubgraphResponse, FetchFailure>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Attempt>,
    {
        let health = self.health(service);
        health.budget.deposit(self.now());
        let max_attempts = match retry {
            Retry::Allowed => self.options.max_attempts.max(1),
            Retry::Never => 1,
        };
        let mut made = 0;
        let mut last: Option<Attempt> = None;
        loop {
            let Some(permit) = health.breaker.admit(self.now()) else {
                // Opened while this call was retrying: its last real answer says more.
                return match last {
                    Some(attempt) => attempt.map(|(_, response)| response),
                    None => Err(FetchFailure::CircuitOpen { service: service.to_owned() }),
                };
            };
            made += 1;
            let outcome = attempt().await;
            let verdict = verdict(&outcome);
            match permit.record(verdict != Verdict::Healthy, self.now()) {
                Transition::Opened => {
                    tracing::warn!(subgraph = service, open_for = ?self.options.open_for, "circuit breaker opened");
                }
                Transition::Closed => tracing::info!(subgraph = service, "circuit breaker closed"),
                Transition::None => {}
            }
            let again = matches!(verdict, Verdict::Failed { retryable: true })
                && made < max_attempts
                && health.budget.try_withdraw(self.now());
            if !again {
                return outcome.map(|(_, response)| response);
            }
            let wait = self.backoff(made);
            tracing::debug!(subgraph = service, attempt = made, ?wait, "retrying subgraph call");
            tokio::time::sleep(wait).await;
            last = Some(outcome);
        }
    }

    /// Jittered backoff before the retry that follows attempt `made`: between half and all of
    /// `retry_backoff × 2^(made-1)`.
    fn backoff(&self, made: u32) -> Duration {
        let base = u64::try_from(self.options.retry_backoff.as_micros()).unwrap_or(u64::MAX);
        let full = base.saturating_mul(1 << made.saturating_sub(1).min(6));
        let half = full / 2;
        let draw = self.jitter.hash_one(self.draws.fetch_add(1, Ordering::Relaxed));
        Duration::from_micros(half + draw % (full - half + 1))
    }

    /// The breaker's state of every subgraph called so far.
    pub fn circuits(&self) -> Vec<(String, CircuitState)> {
        let now = self.now();
        self.subgraphs.load().iter().map(|(name, health)| (name.clone(), health.breaker.state(now))).collect()
    }

    /// The breaker's state of a subgraph, for tests and diagnostics.
    pub fn circuit(&self, service: &str) -> CircuitState {
        self.health(service).breaker.state(self.now())
    }
}

// ---------------------------------------------------------------------------------------------
// Retry budget

const SLOTS: usize = 10;

/// Calls and retries of the last window, in `SLOTS` time slots. Each slot is one atomic word:
/// the slot's number (time / slot length) in the high half, its count in the low half; a slot
/// whose number is older than the window counts as empty and is reset by the next write.
#[derive(Debug)]
struct RetryBudget {
    /// Retries allowed per 100 calls.
    percent: u64,
    /// Retries always allowed in a window, times 100.
    reserve: u64,
    slot_ms: u64,
    calls: SlotCounter,
    retries: SlotCounter,
}

impl RetryBudget {
    fn new(options: &ResilienceOptions) -> Self {
        let window_ms = millis(options.budget_window).max(1);
        let reserve = u64::from(options.min_retries_per_sec).saturating_mul(window_ms) / 10;
        Self {
            percent: u64::from(options.retry_percent),
            reserve,
            slot_ms: (window_ms / SLOTS as u64).max(1),
            calls: SlotCounter::default(),
            retries: SlotCounter::default(),
        }
    }

    fn slot(&self, now_ms: u64) -> u32 {
        // Wraps after 2^32 slots; ages are computed with wrapping arithmetic.
        (now_ms / self.slot_ms) as u32
    }

    fn deposit(&self, now_ms: u64) {
        self.calls.add(self.slot(now_ms));
    }

    /// Takes one retry from the budget if the window allows it.
    fn try_withdraw(&self, now_ms: u64) -> bool {
        let slot = self.slot(now_ms);
        let calls = self.calls.sum(slot);
        let retries = self.retries.sum(slot);
        let allowed = calls.saturating_mul(self.percent).saturating_add(self.reserve);
        if (retries + 1).saturating_mul(100) > allowed {
            return false;
        }
        self.retries.add(slot);
        true
    }
}

#[derive(Debug, Default)]
struct SlotCounter([AtomicU64; SLOTS]);

impl SlotCounter {
    fn add(&self, slot: u32) {
        let cell = &self.0[slot as usize % SLOTS];
        let mut current = cell.load(Ordering::Relaxed);
        loop {
            let next = if (current >> 32) as u32 == slot {
                if current & u64::from(u32::MAX) == u64::from(u32::MAX) {
                    return;
                }
                current + 1
            } else {
                (u64::from(slot) << 32) | 1
            };
            match cell.compare_exchange_weak(current, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return,
                Err(actual) => current = actual,
            }
        }
    }

    fn sum(&self, slot: u32) -> u64 {
        self.0
            .iter()
            .map(|cell| cell.load(Ordering::Relaxed))
            .filter(|value| (slot.wrapping_sub((value >> 32) as u32) as usize) < SLOTS)
            .map(|value| value & u64::from(u32::MAX))
            .sum()
    }
}

// ---------------------------------------------------------------------------------------------
// Circuit breaker

/// A subgraph's circuit as seen from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CircuitState {
    Closed,
    /// Refusing calls.
    Open,
    /// The open time is over: the next call is the trial (or the trial is in flight).
    HalfOpen,
}

const CLOSED: u64 = 0;
const OPEN: u64 = 1;
const HALF_OPEN: u64 = 2;

/// The state word: the phase in the low two bits, above them the time (ms) it was entered.
fn pack(phase: u64, since_ms: u64) -> u64 {
    (since_ms << 2) | phase
}

fn unpack(word: u64) -> (u64, u64) {
    (word & 3, word >> 2)
}

#[derive(Debug)]
struct Breaker {
    /// 0: the breaker is off.
    threshold: u32,
    open_ms: u64,
    state: AtomicU64,
    /// Consecutive failures while closed.
    failures: AtomicU32,
}

/// What recording an outcome did to the circuit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transition {
    None,
    Opened,
    Closed,
}

impl Breaker {
    fn new(options: &ResilienceOptions) -> Self {
        Self {
            threshold: options.failure_threshold,
            open_ms: millis(options.open_for),
            state: AtomicU64::new(CLOSED),
            failures: AtomicU32::new(0),
        }
    }

    /// Lets a call through, or `None` while the circuit is open (or half-open with its trial
    /// in flight).
    fn admit(&self, now_ms: u64) -> Option<Permit<'_>> {
        if self.threshold == 0 {
            return Some(Permit { breaker: self, trial: None });
        }
        let word = self.state.load(Ordering::Acquire);
        match unpack(word) {
            (CLOSED, _) => Some(Permit { breaker: self, trial: None }),
            (OPEN, since) if now_ms.saturating_sub(since) >= self.open_ms => {
                let trial = pack(HALF_OPEN, now_ms.max(since + self.open_ms));
                self.state
                    .compare_exchange(word, trial, Ordering::AcqRel, Ordering::Acquire)
                    .ok()
                    .map(|_| Permit { breaker: self, trial: Some(trial) })
            }
            _ => None,
        }
    }

    fn state(&self, now_ms: u64) -> CircuitState {
        match unpack(self.state.load(Ordering::Acquire)) {
            (CLOSED, _) => CircuitState::Closed,
            (OPEN, since) if now_ms.saturating_sub(since) < self.open_ms => CircuitState::Open,
            _ => CircuitState::HalfOpen,
        }
    }

    fn record_normal(&self, failed: bool, now_ms: u64) -> Transition {
        if self.threshold == 0 {
            return Transition::None;
        }
        if !failed {
            if self.failures.load(Ordering::Relaxed) != 0 {
                self.failures.store(0, Ordering::Relaxed);
            }
            return Transition::None;
        }
        let failures = self.failures.fetch_add(1, Ordering::AcqRel).saturating_add(1);
        if failures >= self.threshold
            && self.state.compare_exchange(CLOSED, pack(OPEN, now_ms), Ordering::AcqRel, Ordering::Acquire).is_ok()
        {
            self.failures.store(0, Ordering::Release);
            return Transition::Opened;
        }
        Transition::None
    }

    fn record_trial(&self, trial: u64, failed: bool, now_ms: u64) -> Transition {
        let (next, transition) = if failed {
            (pack(OPEN, now_ms), Transition::Opened)
        } else {
            self.failures.store(0, Ordering::Release);
            (CLOSED, Transition::Closed)
        };
        match self.state.compare_exchange(trial, next, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => transition,
            Err(_) => Transition::None,
        }
    }

    /// A trial that ended without an outcome (its caller went away): back to open, with the
    /// open time already over, so that the next call is the trial.
    fn abandon_trial(&self, trial: u64) {
        let (_, since) = unpack(trial);
        let reopened = pack(OPEN, since.saturating_sub(self.open_ms));
        let _ = self.state.compare_exchange(trial, reopened, Ordering::AcqRel, Ordering::Acquire);
    }
}

/// One admitted attempt; its outcome must be recorded, or dropping it gives a trial back.
struct Permit<'b> {
    breaker: &'b Breaker,
    /// The half-open state word this permit is the trial of.
    trial: Option<u64>,
}

impl Permit<'_> {
    fn record(mut self, failed: bool, now_ms: u64) -> Transition {
        match self.trial.take() {
            Some(trial) => self.breaker.record_trial(trial, failed, now_ms),
            None => self.breaker.record_normal(failed, now_ms),
        }
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if let Some(trial) = self.trial.take() {
            self.breaker.abandon_trial(trial);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    fn options() -> ResilienceOptions {
        ResilienceOptions {
            max_attempts: 3,
            retry_backoff: Duration::from_millis(1),
            retry_percent: 20,
            min_retries_per_sec: 1,
            budget_window: Duration::from_secs(10),
            failure_threshold: 3,
            open_for: Duration::from_secs(5),
        }
    }

    fn ok(status: u16) -> Attempt {
        Ok((status, SubgraphResponse { data: None, errors: Vec::new(), event_skipped: false }))
    }

    fn unreachable() -> Attempt {
        Err(FetchFailure::Unreachable { service: "s".into() })
    }

    #[test]
    fn verdicts_retry_only_unreachable_timeouts_and_gateway_statuses() {
        let status = |status| Err(FetchFailure::Status { service: "s".into(), status });
        let retryable = Verdict::Failed { retryable: true };
        assert_eq!(verdict(&unreachable()), retryable);
        assert_eq!(verdict(&Err(FetchFailure::Timeout { service: "s".into() })), retryable);
        for code in [502, 503, 504] {
            assert_eq!(verdict(&status(code)), retryable);
            assert_eq!(verdict(&ok(code)), retryable, "a GraphQL body does not change a 50x");
        }
        assert_eq!(verdict(&status(500)), Verdict::Failed { retryable: false });
        assert_eq!(verdict(&ok(200)), Verdict::Healthy, "GraphQL errors in a 200 are an answer");
        assert_eq!(verdict(&status(401)), Verdict::Healthy);
        assert_eq!(verdict(&Err(FetchFailure::Invalid { service: "s".into() })), Verdict::Healthy);
    }

    #[test]
    fn the_budget_allows_the_reserve_plus_a_percentage_of_calls() {
        // 1 retry/s over 10 s: a reserve of 10 retries; plus 20 % of the calls.
        let budget = RetryBudget::new(&options());
        let mut granted = 0;
        for _ in 0..100 {
            budget.deposit(0);
            if budget.try_withdraw(0) {
                granted += 1;
            }
        }
        assert_eq!(granted, 30, "10 reserve + 20 % of 100 calls");
        assert!(!budget.try_withdraw(0));
        // Five more calls earn one more retry.
        for _ in 0..5 {
            budget.deposit(500);
        }
        assert!(budget.try_withdraw(500));
        assert!(!budget.try_withdraw(500));
    }

    #[test]
    fn the_budget_forgets_what_left_the_window() {
        let budget = RetryBudget::new(&options());
        for _ in 0..10 {
            assert!(budget.try_withdraw(0), "the reserve needs no calls");
        }
        assert!(!budget.try_withdraw(0));
        assert!(!budget.try_withdraw(9_999), "still inside the window");
        assert!(budget.try_withdraw(10_000), "the first slot left the window");
        // Long after, the window is empty again.
        for _ in 0..10 {
            assert!(budget.try_withdraw(1_000_000));
        }
        assert!(!budget.try_withdraw(1_000_000));
    }

    #[test]
    fn without_a_reserve_retries_follow_the_calls() {
        let budget = RetryBudget::new(&ResilienceOptions { min_retries_per_sec: 0, ..options() });
        for _ in 0..4 {
            budget.deposit(0);
        }
        assert!(!budget.try_withdraw(0), "4 calls × 20 % is less than one retry");
        budget.deposit(0);
        assert!(budget.try_withdraw(0));
        assert!(!budget.try_withdraw(0));
    }

    #[test]
    fn the_breaker_opens_after_consecutive_failures_only() {
        let breaker = Breaker::new(&options());
        let fail = |now| breaker.admit(now).expect("admitted").record(true, now);
        let succeed = |now| breaker.admit(now).expect("admitted").record(false, now);
        assert_eq!(fail(0), Transition::None);
        assert_eq!(fail(0), Transition::None);
        assert_eq!(succeed(0), Transition::None, "a success resets the count");
        assert_eq!(fail(0), Transition::None);
        assert_eq!(fail(0), Transition::None);
        assert_eq!(fail(100), Transition::Opened);
        assert_eq!(breaker.state(100), CircuitState::Open);
        assert!(breaker.admit(101).is_none());
        assert!(breaker.admit(5_099).is_none(), "open for 5 s");
    }

    #[test]
    fn the_breaker_half_opens_for_one_trial_which_closes_or_reopens_it() {
        let breaker = Breaker::new(&options());
        for _ in 0..3 {
            breaker.admit(0).expect("admitted").record(true, 0);
        }
        assert_eq!(breaker.state(4_999), CircuitState::Open);
        assert_eq!(breaker.state(5_000), CircuitState::HalfOpen);
        // One trial; meanwhile everyone else is refused.
        let trial = breaker.admit(5_000).expect("the trial");
        assert!(breaker.admit(5_001).is_none());
        assert_eq!(trial.record(true, 5_010), Transition::Opened, "a failed trial re-opens");
        assert!(breaker.admit(10_009).is_none(), "for a full open time again");
        let trial = breaker.admit(10_010).expect("the next trial");
        assert_eq!(trial.record(false, 10_020), Transition::Closed);
        assert_eq!(breaker.state(10_020), CircuitState::Closed);
        // Closed with a fresh count.
        breaker.admit(10_030).expect("closed").record(true, 10_030);
        breaker.admit(10_030).expect("closed").record(true, 10_030);
        assert_eq!(breaker.state(10_030), CircuitState::Closed);
    }

    #[test]
    fn an_abandoned_trial_hands_over_to_the_next_call() {
        let breaker = Breaker::new(&options());
        for _ in 0..3 {
            breaker.admit(0).expect("admitted").record(true, 0);
        }
        drop(breaker.admit(6_000).expect("the trial"));
        let trial = breaker.admit(6_001).expect("a new trial at once");
        assert_eq!(trial.record(false, 6_002), Transition::Closed);
    }

    #[test]
    fn a_zero_threshold_turns_the_breaker_off() {
        let breaker = Breaker::new(&ResilienceOptions { failure_threshold: 0, ..options() });
        for _ in 0..100 {
            breaker.admit(0).expect("always admitted").record(true, 0);
        }
        assert_eq!(breaker.state(0), CircuitState::Closed);
    }

    #[test]
    fn backoff_is_jittered_within_half_and_all_of_the_doubled_base() {
        let resilience = Resilience::new(ResilienceOptions { retry_backoff: Duration::from_millis(40), ..options() });
        for made in 1..=3u32 {
            let full = Duration::from_millis(40 * (1 << (made - 1)));
            let waits: Vec<Duration> = (0..50).map(|_| resilience.backoff(made)).collect();
            assert!(waits.iter().all(|w| *w >= full / 2 && *w <= full), "{made}: {waits:?}");
            assert!(waits.iter().any(|w| *w != waits[0]), "jittered");
        }
        assert_eq!(
            Resilience::new(ResilienceOptions { retry_backoff: Duration::ZERO, ..options() }).backoff(2),
            Duration::ZERO
        );
    }

    /// Runs `call` against a script of attempt outcomes; returns the result and the attempts made.
    async fn run(
        resilience: &Resilience,
        retry: Retry,
        script: &[fn() -> Attempt],
    ) -> (Result<SubgraphResponse, FetchFailure>, usize) {
        let made = AtomicUsize::new(0);
        let result = resilience
            .call("s", retry, || {
                let n = made.fetch_add(1, Ordering::SeqCst);
                let outcome = script.get(n).map_or_else(|| ok(200), |f| f());
                async move { outcome }
            })
            .await;
        (result, made.load(Ordering::SeqCst))
    }

    #[tokio::test]
    async fn queries_are_retried_mutations_are_not() {
        let clock = Arc::new(ManualClock::default());
        let resilience = Resilience::with_clock(ResilienceOptions { failure_threshold: 0, ..options() }, clock);
        let (result, made) = run(&resilience, Retry::Allowed, &[unreachable, unreachable]).await;
        assert!(result.is_ok());
        assert_eq!(made, 3);
        let (result, made) = run(&resilience, Retry::Allowed, &[unreachable, unreachable, unreachable]).await;
        assert!(matches!(result, Err(FetchFailure::Unreachable { .. })));
        assert_eq!(made, 3, "max_attempts");
        let (result, made) = run(&resilience, Retry::Never, &[unreachable]).await;
        assert!(matches!(result, Err(FetchFailure::Unreachable { .. })));
        assert_eq!(made, 1);
        let (result, made) = run(&resilience, Retry::Allowed, &[|| ok(500)]).await;
        assert!(result.is_ok(), "a 500 with a GraphQL body is passed on");
        assert_eq!(made, 1, "500 is not retried");
    }

    #[tokio::test]
    async fn an_open_circuit_fails_calls_without_attempting() {
        let clock = Arc::new(ManualClock::default());
        let resilience = Resilience::with_clock(ResilienceOptions { max_attempts: 1, ..options() }, clock.clone());
        for _ in 0..3 {
            let (result, _) = run(&resilience, Retry::Allowed, &[unreachable]).await;
            assert!(result.is_err());
        }
        assert_eq!(resilience.circuit("s"), CircuitState::Open);
        let (result, made) = run(&resilience, Retry::Allowed, &[]).await;
        assert!(matches!(result, Err(FetchFailure::CircuitOpen { .. })), "{result:?}");
        assert_eq!(made, 0);
        clock.advance(Duration::from_secs(5));
        assert_eq!(resilience.circuit("s"), CircuitState::HalfOpen);
        let (result, made) = run(&resilience, Retry::Allowed, &[]).await;
        assert!(result.is_ok());
        assert_eq!(made, 1);
        assert_eq!(resilience.circuit("s"), CircuitState::Closed);
        assert_eq!(resilience.circuit("other"), CircuitState::Closed, "per subgraph");
    }

    #[tokio::test]
    async fn a_circuit_that_opens_during_retries_returns_the_last_failure() {
        let clock = Arc::new(ManualClock::default());
        let resilience = Resilience::with_clock(ResilienceOptions { failure_threshold: 2, ..options() }, clock);
        let (result, made) = run(&resilience, Retry::Allowed, &[unreachable, unreachable, unreachable]).await;
        assert!(matches!(result, Err(FetchFailure::Unreachable { .. })), "{result:?}");
        assert_eq!(made, 2);
    }
}
