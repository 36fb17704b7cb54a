//! Events: what a subgraph's change tells the hub, carried from the subgraph's outbox to every
//! gateway replica, which delivers them to subscribers.
//!
//! An [`Event`] is written by the owning subgraph in the same transaction as the change (its
//! outbox, [`crate::outbox`]) and published once committed to an [`EventBus`]: NATS JetStream
//! when a NATS URL is configured ([`NatsBus`]), otherwise an in-process log ([`LocalBus`]) for a
//! single process such as `ggzhub dev`. Both give every event a sequence number in one stream
//! ([`Delivered::seq`]), deliver new events to every listener ([`EventBus::live`]), and replay
//! what a reconnecting client missed ([`EventBus::replay`]). Publishing the same event twice
//! (same [`Event::id`]) stores it once: the relay may retry after a crash without doubling it.
//!
//! The gateway treats the event as opaque apart from the subscription field it feeds and the
//! argument values it matches; the owning subgraph resolves it again, for each subscriber, with
//! that subscriber's identity ([`EVENT_EXTENSION`]).

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// The request extension in which the gateway hands a subgraph the event to resolve a
/// subscription's selection for (`extensions.ggzhubEvent`). Only the gateway can send it: a
/// subgraph accepts requests with a gateway-signed token only.
pub const EVENT_EXTENSION: &str = "ggzhubEvent";

/// The answer's `extensions.ggzhubEvent` when the subgraph did not resolve the event for the
/// caller (not theirs to see, or outside the subscription's arguments): `{"data": null,
/// "extensions": {"ggzhubEvent": "skip"}}`. The gateway sends nothing then.
pub const EVENT_SKIPPED: &str = "skip";

/// How many events a listener may fall behind before it is cut off (and resumes by replay).
pub const LIVE_BUFFER: usize = 4096;

/// The most events one replay returns; a client further behind must read the picture again.
pub const MAX_REPLAY: usize = 10_000;

/// One change, as the owning subgraph records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// Unique and stable (`<subgraph>:<outbox id>`): the same event published twice is kept once.
    pub id: String,
    /// The subgraph that owns it and resolves it.
    pub subgraph: String,
    /// The subscription root field that delivers it (`signalEvents`, `offerStatusChanges`, …).
    pub field: String,
    /// Argument values a subscription must match to receive it, by argument name (a
    /// subscription that leaves the argument out matches every value), e.g. `{"region": "UTR"}`.
    #[serde(default)]
    pub scope: BTreeMap<String, String>,
    /// Who may receive it at most (`None`: anyone may). The owning subgraph still decides for
    /// each subscriber; the gateway asks it only for subscribers in the audience, so an event a
    /// few organisations may read costs a few calls, not one per subscriber.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Audience>,
    /// What the owning subgraph needs to resolve it again; opaque to everyone else.
    pub payload: serde_json::Value,
    pub occurred_at: DateTime<Utc>,
}

/// The organisations an event may reach at most: these by id, and any of these kinds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audience {
    /// Organisation ids.
    #[serde(default)]
    pub organisations: Vec<String>,
    /// Organisation kinds (`INSURER`, `NATIONAL_TABLE`, …) whose every organisation may be one.
    #[serde(default)]
    pub kinds: Vec<String>,
}

impl Audience {
    /// Whether an organisation `org` of kind `kind` may be among the receivers.
    pub fn admits(&self, org: &str, kind: &str) -> bool {
        self.organisations.iter().any(|o| o == org) || self.kinds.iter().any(|k| k == kind)
    }
}

impl Event {
    /// The NATS subject it is published on.
    pub fn subject(&self) -> String {
        format!("{SUBJECT_PREFIX}.{}.{}", subject_token(&self.subgraph), subject_token(&self.field))
    }

    /// Whether a subscription to `field` with these argument values receives it.
    pub fn matches(&self, field: &str, arguments: &BTreeMap<String, String>) -> bool {
        self.field == field
            && self.scope.iter().all(|(name, value)| arguments.get(name).is_none_or(|wanted| wanted == value))
    }
}

/// An event with its place in the stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivered {
    /// Position in the stream, from 1, increasing; what a client names to resume after it.
    pub seq: u64,
    pub event: Event,
}

/// Why the bus could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("the event stream is unavailable: {0}")]
    Unavailable(String),
    #[error("more than {MAX_REPLAY} events were missed since {0}; read the current picture again")]
    TooFarBehind(u64),
    #[error("event {0} is no longer kept in the stream; read the current picture again")]
    Expired(u64),
}

/// Where events go once committed, and where gateways read them.
pub trait EventBus: Send + Sync + 'static {
    /// Stores `event` in the stream (once, whatever the number of calls with its id) and hands it
    /// to live listeners. Returns once the stream has it.
    fn publish<'a>(&'a self, event: &'a Event) -> BoxFuture<'a, Result<(), BusError>>;

    /// Every event stored from now on, in order. A listener that falls [`LIVE_BUFFER`] events
    /// behind gets `RecvError::Lagged` and must resume by [`replay`](Self::replay).
    fn live(&self) -> broadcast::Receiver<Arc<Delivered>>;

    /// The events after `after`, in order, up to the last one stored when called.
    fn replay(&self, after: u64) -> BoxFuture<'_, Result<Vec<Arc<Delivered>>, BusError>>;

    /// At most `limit` events after `after`, in order: a consumer that catches up page by page,
    /// however far behind, as long as the stream still keeps the events (no [`MAX_REPLAY`]).
    fn replay_page(&self, after: u64, limit: usize) -> BoxFuture<'_, Result<Vec<Arc<Delivered>>, BusError>>;

    /// The position of the last event this process knows the stream holds (0: none yet). A new
    /// listener that takes it before [`live`](Self::live) misses nothing after it.
    fn head(&self) -> u64;

    /// Which bus this is, for logs.
    fn describe(&self) -> String;
}

const SUBJECT_PREFIX: &str = "ggzhub.events";

/// A subject token: dots and wildcards would change the subject's shape.
fn subject_token(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

/// The in-process bus: one process (`ggzhub dev`, tests) where the subgraphs and the gateway
/// share memory. Keeps the last `retain` events for replay; a restart starts a new stream, so a
/// client resuming across a restart is told its position is no longer kept
/// ([`BusError::Expired`]) — durable replay needs NATS.
pub struct LocalBus {
    state: Mutex<LocalState>,
    live: broadcast::Sender<Arc<Delivered>>,
    retain: usize,
}

struct LocalState {
    next: u64,
    events: VecDeque<Arc<Delivered>>,
    ids: HashSet<String>,
}

impl LocalBus {
    pub fn new(retain: usize) -> Arc<Self> {
        Self::with_live_buffer(retain, LIVE_BUFFER)
    }

    /// A bus whose listeners may fall `live_buffer` events behind (instead of [`LIVE_BUFFER`]).
    pub fn with_live_buffer(retain: usize, live_buffer: usize) -> Arc<Self> {
        let (live, _) = broadcast::channel(live_buffer.max(1));
        Arc::new(Self {
            state: Mutex::new(LocalState { next: 1, events: VecDeque::new(), ids: HashSet::new() }),
            live,
            retain: retain.max(1),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LocalState> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl EventBus for LocalBus {
    fn publish<'a>(&'a self, event: &'a Event) -> BoxFuture<'a, Result<(), BusError>> {
        Box::pin(async move {
            let mut state = self.lock();
            if !state.ids.insert(event.id.clone()) {
                return Ok(());
            }
            let delivered = Arc::new(Delivered { seq: state.next, event: event.clone() });
            state.next += 1;
            state.events.push_back(delivered.clone());
            while state.events.len() > self.retain {
                if let Some(old) = state.events.pop_front() {
                    state.ids.remove(&old.event.id);
                }
            }
            // Sent under the lock, so live listeners see the stream's order.
            let _ = self.live.send(delivered);
            Ok(())
        })
    }

    fn live(&self) -> broadcast::Receiver<Arc<Delivered>> {
        self.live.subscribe()
    }

    fn replay(&self, after: u64) -> BoxFuture<'_, Result<Vec<Arc<Delivered>>, BusError>> {
        Box::pin(async move {
            let state = self.lock();
            let last = state.next - 1;
            if after >= last {
                return Ok(Vec::new());
            }
            let first_kept = state.events.front().map_or(state.next, |d| d.seq);
            if after + 1 < first_kept {
                return Err(BusError::Expired(after));
            }
            if last - after > MAX_REPLAY as u64 {
                return Err(BusError::TooFarBehind(after));
            }
            Ok(state.events.iter().filter(|d| d.seq > after).cloned().collect())
        })
    }

    fn replay_page(&self, after: u64, limit: usize) -> BoxFuture<'_, Result<Vec<Arc<Delivered>>, BusError>> {
        Box::pin(async move {
            let state = self.lock();
            let first_kept = state.events.front().map_or(state.next, |d| d.seq);
            if after + 1 < first_kept && after < state.next - 1 {
                return Err(BusError::Expired(after));
            }
            Ok(state.events.iter().filter(|d| d.seq > after).take(limit).cloned().collect())
        })
    }

    fn head(&self) -> u64 {
        self.lock().next - 1
    }

    fn describe(&self) -> String {
        format!("in-process event log (last {} events)", self.retain)
    }
}

pub use nats::NatsBus;

mod nats;
/// A NATS server of a test's own (feature `testing`).
#[cfg(any(test, feature = "testing"))]
pub mod testing;

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_page_reads_past_the_replay_limit_and_stops_at_its_size() {
        let bus = LocalBus::new(MAX_REPLAY + 100);
        for n in 0..(MAX_REPLAY + 50) {
            let event = Event {
                id: format!("t:{n}"),
                subgraph: "t".into(),
                field: "f".into(),
                scope: BTreeMap::new(),
                audience: None,
                payload: serde_json::Value::Null,
                occurred_at: chrono::Utc::now(),
            };
            bus.publish(&event).await.expect("published");
        }
        assert!(matches!(bus.replay(0).await, Err(BusError::TooFarBehind(0))));
        let page = bus.replay_page(0, 1000).await.expect("a page");
        assert_eq!((page.len(), page[0].seq, page[999].seq), (1000, 1, 1000));
        let last = bus.replay_page((MAX_REPLAY + 40) as u64, 1000).await.expect("the last page");
        assert_eq!(last.len(), 10);
        assert!(bus.replay_page((MAX_REPLAY + 50) as u64, 1000).await.expect("nothing").is_empty());
    }

    fn event(id: &str, region: &str) -> Event {
        Event {
            id: id.into(),
            subgraph: "region".into(),
            field: "signalEvents".into(),
            scope: BTreeMap::from([("region".into(), region.into())]),
            audience: None,
            payload: serde_json::json!({"kind": "RAISED"}),
            occurred_at: Utc::now(),
        }
    }

    #[test]
    fn an_event_matches_its_field_and_the_arguments_given() {
        let e = event("region:1", "UTR");
        assert!(e.matches("signalEvents", &BTreeMap::new()));
        assert!(e.matches("signalEvents", &BTreeMap::from([("region".into(), "UTR".into())])));
        assert!(!e.matches("signalEvents", &BTreeMap::from([("region".into(), "AMS".into())])));
        assert!(!e.matches("offerStatusChanges", &BTreeMap::new()));
        assert_eq!(e.subject(), "ggzhub.events.region.signalEvents");
        let audience = Audience { organisations: vec!["p1".into()], kinds: vec!["INSURER".into()] };
        assert!(audience.admits("p1", "PROVIDER"));
        assert!(audience.admits("i9", "INSURER"));
        assert!(!audience.admits("p2", "PROVIDER"));
    }

    #[tokio::test]
    async fn the_local_bus_keeps_an_event_once_and_replays_what_was_missed() {
        let bus = LocalBus::new(3);
        let mut live = bus.live();
        for id in ["region:1", "region:2", "region:1"] {
            bus.publish(&event(id, "UTR")).await.expect("published");
        }
        assert_eq!(live.recv().await.expect("first").seq, 1);
        assert_eq!(live.recv().await.expect("second").event.id, "region:2");
        assert!(live.try_recv().is_err(), "the repeated id is not delivered again");
        let missed = bus.replay(1).await.expect("replay");
        assert_eq!(missed.iter().map(|d| d.seq).collect::<Vec<_>>(), vec![2]);
        for id in ["region:3", "region:4", "region:5"] {
            bus.publish(&event(id, "UTR")).await.expect("published");
        }
        assert!(matches!(bus.replay(0).await, Err(BusError::Expired(0))));
        assert_eq!(bus.replay(2).await.expect("kept").len(), 3);
        assert!(bus.replay(5).await.expect("nothing new").is_empty());
    }
}
