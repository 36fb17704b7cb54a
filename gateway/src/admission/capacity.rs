//! Admission control: a bounded number of requests in execution and a short bounded queue, with a
//! share per organisation. Beyond them a request is refused at once with HTTP 503, `Retry-After`
//! and `OVERLOADED`, so that an overload is answered with fast refusals instead of a collapse in
//! which every request waits and times out (issue #18).
//!
//! **Slots.** At most `max_in_flight` requests run in the engine at once ([`Permit`]: from after
//! the caller was admitted until its response is built). A request that finds a free slot, and
//! whose organisation is within its share, starts at once: one uncontended mutex lock and a map
//! update, nothing else on the path of a gateway under its limits.
//!
//! **Queue.** Up to `max_queued` requests wait for a slot; a full queue refuses at once. How long
//! a query may wait follows CoDel, as Facebook's servers apply it to request queues ("adaptive
//! LIFO" with a CoDel-controlled wait, Maurer & Nichols, "Fail at Scale", 2015):
//!
//! - normally a query may wait up to `max_wait` (100 ms): a burst (a dashboard opening ten panels,
//!   several people opening it at once) is absorbed rather than refused;
//! - once, for a whole `overload_interval` (100 ms), the queue has not been empty and no queued
//!   request got its slot within `overload_target` (5 ms; CoDel's test: the shortest wait over an
//!   interval above its target; a queue that is never empty but turns over quickly is no
//!   overload), the gateway is overloaded: a query then waits at most `overload_wait` (1 ms), queries already queued longer
//!   than that are refused at once, and a freed slot goes to the *newest* queued query (LIFO),
//!   whose client is the likeliest still to be waiting and which still meets its deadline; the
//!   oldest are the ones refused. Under sustained overload the answered requests keep their
//!   unloaded latency plus a few milliseconds, and the rest are refused within about
//!   `overload_wait`;
//! - the gateway stays overloaded while queries are refused for their wait (one within the last
//!   `overload_interval`). With short waits and LIFO the queue is often empty for an instant, and the
//!   newest query served quickly, even at twice the sustainable rate; the test above alone would
//!   drop back to 100 ms waits every few milliseconds, and the queries caught by each relapse
//!   would be refused only after up to 100 ms.
//!
//! A simulation (one slot per 30 ms request, 64 slots, Poisson arrivals; not a test) gave: at twice
//! the capacity 99.6 % of it served, every refusal after 5 ms, served requests waiting at most 4 ms;
//! at 0.8 times the capacity nothing refused. With 8 slots of 40 ms: 97.6 % of the capacity served
//! at twice it, 1.7 % refused at 0.8 times it (few slots make queues at lower load). Those were
//! 5 ms waits; `ggzhub-bench hub` at twice the hub's sustainable rate (4 slots, 8 queue places)
//! then measured refusals at p95 13.6 ms, and 1 ms waits did better on every count: refusals at
//! p95 8.0 ms, more answers (82.7 against 65.2 a second) and a lower p95 of the answered ones
//! (61.3 against 82.3 ms). A query that waited in a queue standing for 100 ms rarely got a slot
//! in its last milliseconds anyway, and its wait only delayed its refusal (infra/bench/README.md).
//! The test for overload keeps its own 5 ms target: with 1 ms there too, fifty connections from
//! one address at the gateway's capacity (a queue of a few milliseconds that always turns over)
//! counted as overload, and a third of their requests were refused.
//!
//! **Share per organisation.** One organisation (the verified organisation of the token; callers
//! without a token: their client address, as the public rate limit counts them) may hold at most
//! `org_share_percent` % of the slots and, separately, of the queue places. A flooding
//! organisation is refused at once past its share, and while it holds its share of the slots its
//! queued requests are passed over for other organisations' ([`AdmissionKey`]).
//!
//! **Mutations are never shed once admitted.** A queued mutation has no wait limit of its own (the
//! request as a whole is still bounded by `server.request_timeout_secs`) and is given a freed slot
//! before any query, in arrival order; the CoDel limits apply only to queries. A running mutation
//! holds its [`Permit`] on a task of its own (see `crate::http`), so it completes even when its
//! client goes away or the request timeout fires. A mutation may still be refused on arrival
//! (full queue, organisation share): then it has not started.
//!
//! The state is a small struct behind one mutex: tokio's `Semaphore`, and tower's `ConcurrencyLimit`
//! with `LoadShed`, give FIFO permits or a refusal when full, but not waits that depend on the
//! queue's recent history, shedding of requests already waiting, LIFO, shares per key or priority
//! for mutations. Nothing is held across an await; waiting is a oneshot channel per queued
//! request. [`AdmissionStats`] counts what happened (atomics, read without the lock) for metrics.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv6Addr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::http::HeaderValue;
use serde::Serialize;
use tokio::sync::oneshot;
use tokio::time::Instant;
use uuid::Uuid;

use crate::error::{GatewayError, GraphqlError};

// The defaults, in one place (gateway.toml shows them, `HttpOptions::default()` uses them). They are
// for a gateway in front of subgraphs on other machines, whose requests mostly wait on the network:
// a slot costs little memory, and the subgraphs behind the gateway (and their databases) saturate
// long before 64 concurrent requests do any harm to the gateway itself. To be tuned from
// `ggzhub-bench hub` (issue #18): on a machine that also runs the subgraphs, the number of requests
// that can usefully run at once is a small multiple of its cores.

/// Requests in execution at once.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 64;
/// Requests waiting for a slot: two rounds of slots, enough for a burst of dashboards opening at
/// once; at about 30 ms a request, 64 slots serve some 210 requests in `max_wait`, so a full queue
/// drains within the wait.
pub const DEFAULT_MAX_QUEUED: usize = 128;
/// The share of the slots, and of the queue places, one organisation (or client address) may hold:
/// half, so that one flooding caller leaves the other half to everyone else.
pub const DEFAULT_ORG_SHARE_PERCENT: u32 = 50;
/// The longest a query waits in a queue that is not overloaded: a few times a typical request's
/// own duration, so a burst is absorbed but nobody waits for long.
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_millis(100);
/// The longest a query waits once the gateway is overloaded (refusals stay under 10 ms). 5 ms
/// until 2026-12-06: see the module's doc for why 1.
pub const DEFAULT_OVERLOAD_WAIT: Duration = Duration::from_millis(1);
/// The wait that a queued request getting its slot within shows the queue turning over, not
/// standing (CoDel's target: 5 ms, as theirs).
pub const DEFAULT_OVERLOAD_TARGET: Duration = Duration::from_millis(5);
/// How long the queue must stay non-empty, with no request getting its slot within the overload
/// target, before the gateway counts as overloaded, and how long after its last refused wait it
/// stays so (CoDel's interval; theirs is 100 ms too).
pub const DEFAULT_OVERLOAD_INTERVAL: Duration = Duration::from_millis(100);
/// `Retry-After` of a refusal, in seconds: the smallest the header can say.
pub const DEFAULT_RETRY_AFTER_SECS: u64 = 1;

/// The limits of admission control (`[admission]` in gateway.toml).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdmissionOptions {
    /// Requests in execution at once; 0 turns admission control off (no limit, no queue).
    pub max_in_flight: usize,
    /// Requests waiting for a slot; 0: refused at once when every slot is taken.
    pub max_queued: usize,
    /// The share of the slots and of the queue places one organisation may hold, in percent;
    /// 0 or 100: no share (one organisation may take everything).
    pub org_share_percent: u32,
    /// The longest a query waits for a slot while the gateway is not overloaded.
    pub max_wait: Duration,
    /// The longest a query waits while the gateway is overloaded.
    pub overload_wait: Duration,
    /// The queue non-empty for `overload_interval`, with no request getting its slot within
    /// this target, makes the gateway overloaded (CoDel's target; see the module's doc).
    pub overload_target: Duration,
    /// See `overload_target`; also how long the gateway stays overloaded after its last refusal.
    pub overload_interval: Duration,
    /// `Retry-After` of a refusal, in whole seconds (at least 1 is sent).
    pub retry_after_secs: u64,
}

impl AdmissionOptions {
    /// No limit: every request runs at once (still counted).
    pub const OFF: Self = Self { max_in_flight: 0, max_queued: 0, ..Self::DEFAULT };

    const DEFAULT: Self = Self {
        max_in_flight: DEFAULT_MAX_IN_FLIGHT,
        max_queued: DEFAULT_MAX_QUEUED,
        org_share_percent: DEFAULT_ORG_SHARE_PERCENT,
        max_wait: DEFAULT_MAX_WAIT,
        overload_wait: DEFAULT_OVERLOAD_WAIT,
        overload_target: DEFAULT_OVERLOAD_TARGET,
        overload_interval: DEFAULT_OVERLOAD_INTERVAL,
        retry_after_secs: DEFAULT_RETRY_AFTER_SECS,
    };
}

impl Default for AdmissionOptions {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Whom a request counts against for the share per organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdmissionKey {
    /// A caller with a token: its verified organisation.
    Organisation(Uuid),
    /// A caller without a token: its client address (IPv6 per /64), as public access counts it.
    Address(IpAddr),
    /// A caller without a token whose address is unknown (a server started without peer
    /// addresses): all such callers share one key.
    Unknown,
}

impl AdmissionKey {
    /// The key of a client address: IPv6 addresses count per /64, the block one subscriber gets.
    pub fn address(ip: IpAddr) -> Self {
        Self::Address(match ip.to_canonical() {
            IpAddr::V6(v6) => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(Ipv6Addr::from(segments))
            }
            v4 => v4,
        })
    }
}

impl std::fmt::Display for AdmissionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Organisation(org) => write!(f, "organisation {org}"),
            Self::Address(ip) => write!(f, "address {ip}"),
            Self::Unknown => f.write_str("unknown address"),
        }
    }
}

/// What a request will do, as far as shedding goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// A query (or anything that is not a mutation): may be refused while it waits.
    Query,
    /// A mutation: once queued it waits for its slot, and it runs to completion.
    Mutation,
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefusalReason {
    /// Every slot taken and the queue full.
    QueueFull,
    /// A query waited its longest (`max_wait`, or `overload_wait` while overloaded).
    WaitExpired,
    /// The caller's organisation (or address) holds its share of the queue places.
    OrganisationShare,
}

impl RefusalReason {
    /// A name for logs and metrics labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::QueueFull => "queue_full",
            Self::WaitExpired => "wait_expired",
            Self::OrganisationShare => "organisation_share",
        }
    }
}

/// A refused request: the reason and the `Retry-After` to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overloaded {
    pub reason: RefusalReason,
    /// Whole seconds, at least 1.
    pub retry_after_secs: u64,
}

impl Overloaded {
    pub fn retry_after_header(&self) -> HeaderValue {
        HeaderValue::from(self.retry_after_secs)
    }

    /// The client's error: `OVERLOADED`, 503. The share refusal says whose requests are too many
    /// (the caller's own), nothing about other callers.
    pub fn error(&self) -> GraphqlError {
        let secs = self.retry_after_secs;
        let message = match self.reason {
            RefusalReason::OrganisationShare => {
                format!("the hub is busy with your other requests: retry after {secs} s")
            }
            RefusalReason::QueueFull | RefusalReason::WaitExpired => format!("the hub is busy: retry after {secs} s"),
        };
        GatewayError::Overloaded.error(message)
    }
}

/// What admission control did since the gateway started, and what it holds now: plain numbers for
/// logs and metrics (`gauge` for the last two, counters for the rest).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AdmissionStats {
    /// Requests that got a slot, at once or after waiting.
    pub admitted: u64,
    /// Requests that had to wait for a slot, whatever became of them.
    pub queued: u64,
    /// Refused on arrival: every slot taken and the queue full.
    pub refused_queue_full: u64,
    /// Refused after waiting their longest (queries only).
    pub refused_wait_expired: u64,
    /// Refused on arrival: their organisation (or address) held its share of the queue.
    pub refused_org_share: u64,
    /// Left the queue before a slot or a refusal: the client went away or the request timed out.
    pub abandoned: u64,
    /// Requests in execution now.
    pub in_execution: u64,
    /// Requests waiting for a slot now.
    pub waiting: u64,
}

impl AdmissionStats {
    /// Every refusal, whatever its reason.
    pub fn refused(&self) -> u64 {
        self.refused_queue_full + self.refused_wait_expired + self.refused_org_share
    }
}

#[derive(Debug, Default)]
struct Counters {
    admitted: AtomicU64,
    queued: AtomicU64,
    refused_queue_full: AtomicU64,
    refused_wait_expired: AtomicU64,
    refused_org_share: AtomicU64,
    abandoned: AtomicU64,
    in_execution: AtomicU64,
    waiting: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// What one key holds.
#[derive(Debug, Clone, Copy, Default)]
struct Load {
    running: usize,
    queued: usize,
}

/// The answer a queued request waits for: its slot, or why it was refused while waiting.
type Outcome = Result<(), RefusalReason>;

struct Waiter {
    id: u64,
    key: AdmissionKey,
    work: Work,
    since: Instant,
    answer: oneshot::Sender<Outcome>,
}

struct State {
    running: usize,
    queue: VecDeque<Waiter>,
    /// Keys with a request running or queued (bounded by slots + queue places).
    loads: HashMap<AdmissionKey, Load>,
    next_id: u64,
    /// The last time the queue was empty (a push onto an empty queue counts) or a queued request
    /// got its slot within `overload_target`.
    last_good: Instant,
    /// The last time a query was refused for its wait.
    last_shed: Option<Instant>,
}

impl State {
    fn load(&self, key: &AdmissionKey) -> Load {
        self.loads.get(key).copied().unwrap_or_default()
    }

    fn change(&mut self, key: AdmissionKey, change: impl FnOnce(&mut Load)) {
        let load = self.loads.entry(key).or_default();
        change(load);
        if load.running == 0 && load.queued == 0 {
            self.loads.remove(&key);
        }
    }

    fn remove_waiter(&mut self, index: usize, now: Instant) -> Option<Waiter> {
        let waiter = self.queue.remove(index)?;
        self.change(waiter.key, |load| load.queued -= 1);
        if self.queue.is_empty() {
            self.last_good = now;
        }
        Some(waiter)
    }
}

/// The result of a request's arrival, before any waiting.
enum Arrival {
    Run,
    Refused(RefusalReason),
    Queued { id: u64, answer: oneshot::Receiver<Outcome>, deadline: Option<Instant> },
}

/// Admission control of one gateway; shared by its requests ([`Admission::admit`]).
pub struct Admission {
    options: AdmissionOptions,
    /// Slots (`usize::MAX` when off).
    slots: usize,
    /// Slots one key may hold.
    slot_share: usize,
    /// Queue places one key may hold.
    queue_share: usize,
    state: Mutex<State>,
    counters: Counters,
}

impl std::fmt::Debug for Admission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admission").field("options", &self.options).field("stats", &self.stats()).finish()
    }
}

impl Default for Admission {
    fn default() -> Self {
        Self::new(AdmissionOptions::default())
    }
}

/// `percent` % of `places`, rounded up, at least 1; all of them for 0 or 100 %.
fn share(places: usize, percent: u32) -> usize {
    if percent == 0 || percent >= 100 || places == 0 || places == usize::MAX {
        return places;
    }
    places.saturating_mul(percent as usize).div_ceil(100).max(1)
}

impl Admission {
    pub fn new(options: AdmissionOptions) -> Self {
        let (slots, queued) = match options.max_in_flight {
            0 => (usize::MAX, 0),
            slots => (slots, options.max_queued),
        };
        Self {
            options,
            slots,
            slot_share: share(slots, options.org_share_percent),
            queue_share: share(queued, options.org_share_percent),
            state: Mutex::new(State {
                running: 0,
                queue: VecDeque::new(),
                loads: HashMap::new(),
                next_id: 0,
                last_good: Instant::now(),
                last_shed: None,
            }),
            counters: Counters::default(),
        }
    }

    pub fn options(&self) -> AdmissionOptions {
        self.options
    }

    /// What happened so far, and what is running and waiting now.
    pub fn stats(&self) -> AdmissionStats {
        let c = &self.counters;
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        AdmissionStats {
            admitted: read(&c.admitted),
            queued: read(&c.queued),
            refused_queue_full: read(&c.refused_queue_full),
            refused_wait_expired: read(&c.refused_wait_expired),
            refused_org_share: read(&c.refused_org_share),
            abandoned: read(&c.abandoned),
            in_execution: read(&c.in_execution),
            waiting: read(&c.waiting),
        }
    }

    /// A slot for one request of `key`: at once, after a wait, or a refusal. Dropping the future
    /// while it waits gives up its queue place (or, if a slot was handed to it meanwhile, the slot).
    pub async fn admit(self: &Arc<Self>, key: AdmissionKey, work: Work) -> Result<Permit, Overloaded> {
        let (id, answer, deadline) = match self.arrive(key, work, Instant::now()) {
            Arrival::Run => return Ok(Permit { admission: self.clone(), key }),
            Arrival::Refused(reason) => return Err(self.refusal(reason)),
            Arrival::Queued { id, answer, deadline } => (id, answer, deadline),
        };
        let mut queued = Queued { admission: self, id, key, answer, settled: false };
        let outcome = match deadline {
            None => (&mut queued.answer).await.unwrap_or(Err(RefusalReason::WaitExpired)),
            Some(deadline) => match tokio::time::timeout_at(deadline, &mut queued.answer).await {
                Ok(answer) => answer.unwrap_or(Err(RefusalReason::WaitExpired)),
                // Still queued: refused now. Gone from the queue: the answer was sent before the
                // lock was taken here, and is read instead.
                Err(_) if self.expire(id, Instant::now()) => Err(RefusalReason::WaitExpired),
                Err(_) => queued.answer.try_recv().unwrap_or(Err(RefusalReason::WaitExpired)),
            },
        };
        queued.settled = true;
        match outcome {
            Ok(()) => Ok(Permit { admission: self.clone(), key }),
            Err(reason) => Err(self.refusal(reason)),
        }
    }

    fn refusal(&self, reason: RefusalReason) -> Overloaded {
        Overloaded { reason, retry_after_secs: self.options.retry_after_secs.max(1) }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; should it, the counts are still whole numbers.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the gateway is overloaded at `now` (see the module's doc).
    fn overloaded(&self, state: &State, now: Instant) -> bool {
        let interval = self.options.overload_interval;
        let standing = !state.queue.is_empty() && now.saturating_duration_since(state.last_good) >= interval;
        let shedding = state.last_shed.is_some_and(|shed| now.saturating_duration_since(shed) < interval);
        standing || shedding
    }

    /// A request arrives: it runs, is refused, or is queued with the deadline of its wait.
    fn arrive(&self, key: AdmissionKey, work: Work, now: Instant) -> Arrival {
        let mut state = self.lock();
        // A free slot means no queued request may take it (see `grant`), so a newcomer that may
        // passes nobody.
        if state.running < self.slots && state.load(&key).running < self.slot_share {
            state.running += 1;
            state.change(key, |load| load.running += 1);
            bump(&self.counters.admitted);
            self.publish(&state);
            return Arrival::Run;
        }
        let overloaded = self.overloaded(&state, now);
        if overloaded {
            self.shed_expired(&mut state, now);
        }
        let refused = if state.queue.len() >= self.options.max_queued {
            Some(RefusalReason::QueueFull)
        } else if state.load(&key).queued >= self.queue_share {
            Some(RefusalReason::OrganisationShare)
        } else {
            None
        };
        if let Some(reason) = refused {
            bump(match reason {
                RefusalReason::OrganisationShare => &self.counters.refused_org_share,
                _ => &self.counters.refused_queue_full,
            });
            self.publish(&state);
            return Arrival::Refused(reason);
        }
        if state.queue.is_empty() {
            state.last_good = now;
        }
        // A wait too long to be told as an instant is no limit (the request timeout still is).
        let deadline = match work {
            Work::Mutation => None,
            Work::Query if overloaded => now.checked_add(self.options.overload_wait),
            Work::Query => now.checked_add(self.options.max_wait),
        };
        let (sender, answer) = oneshot::channel();
        let id = state.next_id;
        state.next_id += 1;
        state.queue.push_back(Waiter { id, key, work, since: now, answer: sender });
        state.change(key, |load| load.queued += 1);
        bump(&self.counters.queued);
        self.publish(&state);
        Arrival::Queued { id, answer, deadline }
    }

    /// A running request of `key` is done: its slot goes to a queued request, if one may have it.
    fn release(&self, key: AdmissionKey, now: Instant) {
        let mut state = self.lock();
        state.running -= 1;
        state.change(key, |load| load.running -= 1);
        self.grant(&mut state, now);
        self.publish(&state);
    }

    /// Hands free slots to queued requests: mutations first (in arrival order), then queries,
    /// the oldest first, or the newest while overloaded; never to a request whose key holds its
    /// share of the slots. Keeps the invariant `arrive` relies on: after this, a free slot has no
    /// queued request that could take it.
    fn grant(&self, state: &mut State, now: Instant) {
        let overloaded = self.overloaded(state, now);
        if overloaded {
            self.shed_expired(state, now);
        }
        while state.running < self.slots {
            let may_run = |waiter: &Waiter| state.load(&waiter.key).running < self.slot_share;
            let mutation = state.queue.iter().position(|w| w.work == Work::Mutation && may_run(w));
            let picked = match mutation {
                Some(index) => Some(index),
                None if overloaded => state.queue.iter().rposition(may_run),
                None => state.queue.iter().position(may_run),
            };
            let Some(waiter) = picked.and_then(|index| state.remove_waiter(index, now)) else { break };
            if now.saturating_duration_since(waiter.since) < self.options.overload_target {
                state.last_good = now;
            }
            // A waiter's receiver lives until it has taken itself out of the queue (`Queued`),
            // so the send cannot fail; if it did, the slot simply stays free.
            if waiter.answer.send(Ok(())).is_ok() {
                state.running += 1;
                state.change(waiter.key, |load| load.running += 1);
                bump(&self.counters.admitted);
            }
        }
    }

    /// While overloaded: refuses the queries that have waited longer than `overload_wait`.
    fn shed_expired(&self, state: &mut State, now: Instant) {
        let mut index = 0;
        while index < state.queue.len() {
            let waiter = &state.queue[index];
            let expired = now.saturating_duration_since(waiter.since) >= self.options.overload_wait;
            if waiter.work == Work::Query && expired {
                if let Some(waiter) = state.remove_waiter(index, now) {
                    let _ = waiter.answer.send(Err(RefusalReason::WaitExpired));
                }
                state.last_shed = Some(now);
                bump(&self.counters.refused_wait_expired);
            } else {
                index += 1;
            }
        }
    }

    /// A queued query's wait is over: `true` when it was still queued (and is now refused),
    /// `false` when it had been answered already.
    fn expire(&self, id: u64, now: Instant) -> bool {
        let mut state = self.lock();
        let Some(index) = state.queue.iter().position(|w| w.id == id) else { return false };
        state.remove_waiter(index, now);
        state.last_shed = Some(now);
        bump(&self.counters.refused_wait_expired);
        self.publish(&state);
        true
    }

    /// A queued request gave up (its future was dropped): `true` when it was still queued.
    fn abandon(&self, id: u64, now: Instant) -> bool {
        let mut state = self.lock();
        let Some(index) = state.queue.iter().position(|w| w.id == id) else { return false };
        state.remove_waiter(index, now);
        bump(&self.counters.abandoned);
        self.publish(&state);
        true
    }

    fn publish(&self, state: &State) {
        self.counters.in_execution.store(state.running as u64, Ordering::Relaxed);
        self.counters.waiting.store(state.queue.len() as u64, Ordering::Relaxed);
    }
}

/// A slot in execution; dropping it frees the slot for the next request.
#[must_use = "the slot is freed when the permit is dropped"]
pub struct Permit {
    admission: Arc<Admission>,
    key: AdmissionKey,
}

impl std::fmt::Debug for Permit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Permit").field("key", &self.key).finish()
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.admission.release(self.key, Instant::now());
    }
}

/// A request in the queue; dropped before it was settled (its client went away, the request
/// timed out), it leaves the queue, or gives back the slot it was handed meanwhile.
struct Queued<'a> {
    admission: &'a Arc<Admission>,
    id: u64,
    key: AdmissionKey,
    answer: oneshot::Receiver<Outcome>,
    settled: bool,
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        if self.settled || self.admission.abandon(self.id, Instant::now()) {
            return;
        }
        if let Ok(Ok(())) = self.answer.try_recv() {
            self.admission.release(self.key, Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt as _;

    use super::*;

    const A: AdmissionKey = AdmissionKey::Organisation(Uuid::from_u128(1));
    const B: AdmissionKey = AdmissionKey::Organisation(Uuid::from_u128(2));

    fn admission(max_in_flight: usize, max_queued: usize, org_share_percent: u32) -> Admission {
        Admission::new(AdmissionOptions {
            max_in_flight,
            max_queued,
            org_share_percent,
            max_wait: Duration::from_millis(100),
            overload_wait: Duration::from_millis(5),
            overload_target: Duration::from_millis(5),
            overload_interval: Duration::from_millis(100),
            retry_after_secs: 1,
        })
    }

    fn queued(arrival: Arrival) -> (u64, oneshot::Receiver<Outcome>, Option<Instant>) {
        match arrival {
            Arrival::Queued { id, answer, deadline } => (id, answer, deadline),
            Arrival::Run => panic!("ran instead of waiting"),
            Arrival::Refused(reason) => panic!("refused ({reason:?}) instead of waiting"),
        }
    }

    fn refused(arrival: Arrival) -> RefusalReason {
        match arrival {
            Arrival::Refused(reason) => reason,
            _ => panic!("not refused"),
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn slots_then_queue_then_refusal_and_a_freed_slot_goes_to_the_oldest() {
        let admission = admission(2, 2, 0);
        let t = Instant::now();
        assert!(matches!(admission.arrive(A, Work::Query, t), Arrival::Run));
        assert!(matches!(admission.arrive(B, Work::Query, t), Arrival::Run));
        let (_, mut first, deadline) = queued(admission.arrive(A, Work::Query, t));
        assert_eq!(deadline, Some(t + ms(100)), "not overloaded: the long wait");
        let (_, mut second, _) = queued(admission.arrive(B, Work::Query, t + ms(1)));
        assert_eq!(refused(admission.arrive(A, Work::Query, t + ms(2))), RefusalReason::QueueFull);
        assert_eq!(refused(admission.arrive(B, Work::Mutation, t + ms(2))), RefusalReason::QueueFull);

        admission.release(A, t + ms(3));
        assert_eq!(first.try_recv(), Ok(Ok(())), "FIFO while not overloaded");
        assert!(second.try_recv().is_err(), "still waiting");
        let stats = admission.stats();
        assert_eq!(
            stats,
            AdmissionStats {
                admitted: 3,
                queued: 2,
                refused_queue_full: 2,
                in_execution: 2,
                waiting: 1,
                ..Default::default()
            }
        );
        assert_eq!(stats.refused(), 2);
    }

    #[test]
    fn an_organisation_holds_at_most_its_share_of_slots_and_queue_places() {
        // Half of 4 slots and of 2 queue places: 2 slots and 1 place per organisation.
        let admission = admission(4, 2, 50);
        let t = Instant::now();
        assert!(matches!(admission.arrive(A, Work::Query, t), Arrival::Run));
        assert!(matches!(admission.arrive(A, Work::Query, t), Arrival::Run));
        // Slots are free, but A holds its share of them: it waits for its own.
        let (_, mut a_waiting, _) = queued(admission.arrive(A, Work::Query, t));
        assert_eq!(refused(admission.arrive(A, Work::Query, t)), RefusalReason::OrganisationShare);
        // B is not held up by A.
        assert!(matches!(admission.arrive(B, Work::Query, t), Arrival::Run));
        assert!(matches!(admission.arrive(B, Work::Query, t), Arrival::Run));
        let (_, mut b_waiting, _) = queued(admission.arrive(B, Work::Query, t + ms(1)));
        // A slot of B's frees: A's waiter, first in the queue, may not take it; B's may.
        admission.release(B, t + ms(2));
        assert!(a_waiting.try_recv().is_err());
        assert_eq!(b_waiting.try_recv(), Ok(Ok(())));
        admission.release(A, t + ms(3));
        assert_eq!(a_waiting.try_recv(), Ok(Ok(())));
        assert_eq!(admission.stats().refused_org_share, 1);
        assert_eq!(share(64, 50), 32);
        assert_eq!(share(3, 10), 1, "at least one");
        assert_eq!(share(128, 100), 128);
    }

    #[test]
    fn overloaded_queries_wait_briefly_the_newest_is_served_and_mutations_are_never_shed() {
        let admission = admission(1, 10, 0);
        let t = Instant::now();
        assert!(matches!(admission.arrive(A, Work::Query, t), Arrival::Run));
        let (_, mut old, _) = queued(admission.arrive(A, Work::Query, t));
        let (_, mut mutation, deadline) = queued(admission.arrive(A, Work::Mutation, t));
        assert_eq!(deadline, None, "a queued mutation waits for its slot");
        // The queue has not been empty, nor anyone served from it, for a whole interval: overloaded.
        let (_, mut short, deadline) = queued(admission.arrive(B, Work::Query, t + ms(100)));
        assert_eq!(deadline, Some(t + ms(105)), "the short wait");
        assert_eq!(old.try_recv(), Ok(Err(RefusalReason::WaitExpired)), "waited past the short wait: shed");
        assert!(mutation.try_recv().is_err(), "the mutation is not shed");
        let (_, mut newest, _) = queued(admission.arrive(B, Work::Query, t + ms(101)));

        // The freed slot goes to the mutation first, then to the newest query.
        admission.release(A, t + ms(102));
        assert_eq!(mutation.try_recv(), Ok(Ok(())));
        admission.release(A, t + ms(103));
        assert_eq!(newest.try_recv(), Ok(Ok(())), "LIFO while overloaded");
        assert!(short.try_recv().is_err());
        // Released after its 5 ms: shed, not served.
        admission.release(B, t + ms(107));
        assert_eq!(short.try_recv(), Ok(Err(RefusalReason::WaitExpired)));
        let stats = admission.stats();
        assert_eq!((stats.refused_wait_expired, stats.in_execution, stats.waiting), (2, 0, 0));

        // Within an interval of the last refusal it is still overloaded, then no longer.
        assert!(matches!(admission.arrive(A, Work::Query, t + ms(150)), Arrival::Run));
        let (_, mut waiting, deadline) = queued(admission.arrive(A, Work::Query, t + ms(150)));
        assert_eq!(deadline, Some(t + ms(155)));
        admission.release(A, t + ms(151));
        assert_eq!(waiting.try_recv(), Ok(Ok(())));
        let (_, _, deadline) = queued(admission.arrive(B, Work::Query, t + ms(300)));
        assert_eq!(deadline, Some(t + ms(400)), "an interval after the last refusal: the long wait again");
    }

    /// A queue that always holds someone but serves each within the target (a closed-loop
    /// client at capacity) is no overload, even when those waits exceed the wait allowed while
    /// overloaded; one that serves nobody within the target for an interval is.
    #[test]
    fn a_queue_turning_over_within_the_target_is_no_overload_even_past_the_short_wait() {
        let admission = Admission::new(AdmissionOptions {
            overload_wait: ms(1),
            overload_target: ms(5),
            ..admission(1, 10, 0).options()
        });
        let t = Instant::now();
        assert!(matches!(admission.arrive(A, Work::Query, t), Arrival::Run));
        let (_, mut waiting, _) = queued(admission.arrive(A, Work::Query, t));
        // Every 3 ms the slot frees, the one waiting (3 ms: past 1, within 5) gets it, and a new
        // request queues: the queue is never empty, for much longer than an interval.
        for step in 1..=100u64 {
            let now = t + ms(3 * step);
            let (_, next, deadline) = queued(admission.arrive(A, Work::Query, now - ms(1)));
            assert_eq!(deadline, Some(now - ms(1) + ms(100)), "step {step}: not overloaded, the long wait");
            admission.release(A, now);
            assert_eq!(waiting.try_recv(), Ok(Ok(())), "step {step}: served");
            waiting = next;
        }
        assert_eq!(admission.stats().refused_wait_expired, 0);
        // Now nobody is served for an interval: overloaded, and the short wait applies.
        let now = t + ms(300 + 100);
        let (_, _, deadline) = queued(admission.arrive(B, Work::Query, now));
        assert_eq!(deadline, Some(now + ms(1)), "overloaded: the short wait");
    }

    #[tokio::test]
    async fn a_waiter_that_gives_up_leaves_the_queue_and_a_permit_frees_its_slot() {
        let admission = Arc::new(admission(1, 1, 0));
        let permit = admission.admit(A, Work::Query).await.expect("a free slot");
        let mut waiting = Box::pin(admission.admit(B, Work::Mutation));
        assert!((&mut waiting).now_or_never().is_none(), "waits");
        assert_eq!(admission.stats().waiting, 1);
        drop(waiting);
        assert_eq!((admission.stats().waiting, admission.stats().abandoned), (0, 1));

        let mut next = Box::pin(admission.admit(B, Work::Mutation));
        assert!((&mut next).now_or_never().is_none(), "waits");
        drop(permit);
        let second = next.await.expect("the freed slot");
        assert_eq!(admission.stats().in_execution, 1);
        drop(second);
        assert_eq!(admission.stats().in_execution, 0);

        let off = Arc::new(Admission::new(AdmissionOptions::OFF));
        let permits: Vec<_> = futures_util::future::join_all((0..1000).map(|_| off.admit(A, Work::Query))).await;
        assert!(permits.iter().all(Result::is_ok));
        assert_eq!(off.stats().in_execution, 1000);
    }

    #[test]
    fn addresses_are_keyed_as_the_public_rate_limit_counts_them() {
        let key = |s: &str| AdmissionKey::address(s.parse().expect("ip"));
        assert_eq!(key("2001:db8::1"), key("2001:db8::ffff:2"), "one /64");
        assert_ne!(key("2001:db8::1"), key("2001:db8:0:1::1"));
        assert_eq!(key("::ffff:192.0.2.1"), key("192.0.2.1"), "IPv4-mapped is IPv4");
        assert_ne!(key("192.0.2.1"), key("192.0.2.2"));
    }
}
