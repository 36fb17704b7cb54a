//! Subscriptions: events from the bus, resolved through federation for each subscriber.
//!
//! The subgraphs write their events to an outbox and publish them to the event bus
//! ([`ggzhub_kit::events`]): NATS JetStream, or an in-process log when the subgraphs run in this
//! process (`ggzhub dev`). Every gateway replica reads the whole stream. For each subscription
//! ([`feed`]) and each event for its root field and arguments, the gateway runs the
//! subscription's plan with the event ([`Gateway::run_event`]): the owning subgraph resolves the
//! root selection from the event *as this subscriber*, applying its access rules, and answers
//! nothing when the subscriber may not see it; fields of other subgraphs are fetched with
//! `_entities`, as for a query. So an event reaches exactly the organisations the owning
//! subgraph lets read it, checked per event and per subscriber.
//!
//! Nothing is dropped silently: each message carries the event's position in the stream (SSE
//! `id`, `extensions.eventId` elsewhere); a client that reconnects with its last position gets
//! what it missed, replayed from the stream, before new events; a client that reads more slowly
//! than events arrive is cut off with `SUBSCRIPTION_TOO_SLOW` once a whole buffer
//! ([`ggzhub_kit::events::LIVE_BUFFER`] events) is waiting, and resumes the same way. A
//! subscription ends with `UNAUTHENTICATED` when the caller's token expires.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ggzhub_kit::events::{BusError, Delivered, EventBus};
use ggzhub_kit::token::InternalClaims;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};

use crate::admission::capacity::AdmissionKey;
use crate::auth::identity::Identity;
use crate::engine::{Gateway, Subscription};
use crate::error::{GatewayError, GraphqlError};

/// `[subscriptions]` in gateway.toml.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SubscriptionOptions {
    /// Open subscriptions per organisation (anonymous callers: per client address) on this
    /// gateway replica; more: `SUBSCRIPTION_LIMIT`.
    pub max_per_organisation: usize,
    /// Subscriptions at once on one WebSocket connection.
    pub max_per_connection: usize,
    /// Largest answer to one event, in bytes; a larger one is replaced by
    /// `SUBSCRIPTION_MESSAGE_TOO_LARGE` (the subscription goes on).
    pub max_message_bytes: usize,
    /// Largest message a WebSocket client may send, in bytes (a `subscribe` with its query).
    pub max_client_message_bytes: usize,
    /// Seconds between keep-alive messages on an idle stream (SSE comment, multipart `{}`,
    /// WebSocket ping), so proxies do not close it and dead clients are noticed.
    pub keepalive_secs: u64,
    /// Seconds a WebSocket client has to send `connection_init`; then the connection is closed
    /// (4408).
    pub connection_init_timeout_secs: u64,
    /// Seconds after which a WebSocket is closed (1000, with the reason) when it has had no
    /// subscription running for that long, or when nothing was heard from the client for that
    /// long (no message, no answer to the gateway's pings: a peer that is gone). SSE and
    /// multipart streams are each one subscription; a gone client is noticed there when a
    /// keep-alive cannot be written.
    pub idle_timeout_secs: u64,
}

impl Default for SubscriptionOptions {
    fn default() -> Self {
        Self {
            max_per_organisation: 200,
            max_per_connection: 50,
            max_message_bytes: 256 * 1024,
            max_client_message_bytes: 64 * 1024,
            keepalive_secs: 15,
            connection_init_timeout_secs: 10,
            idle_timeout_secs: 60,
        }
    }
}

impl SubscriptionOptions {
    pub fn keepalive(&self) -> Duration {
        Duration::from_secs(self.keepalive_secs.clamp(1, MAX_TIMER_SECS))
    }

    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs.clamp(1, MAX_TIMER_SECS))
    }

    /// These options, or why they cannot be used: an idle timeout not above the keep-alive
    /// interval would close every client that only answers pings.
    pub fn checked(self) -> anyhow::Result<Self> {
        anyhow::ensure!(
            self.idle_timeout_secs > self.keepalive_secs,
            "[subscriptions] idle_timeout_secs ({}) must be above keepalive_secs ({}): a client that only answers the keep-alive pings would be closed as idle",
            self.idle_timeout_secs,
            self.keepalive_secs
        );
        anyhow::ensure!(
            self.idle_timeout_secs <= MAX_TIMER_SECS && self.keepalive_secs <= MAX_TIMER_SECS,
            "[subscriptions] idle_timeout_secs and keepalive_secs are at most {MAX_TIMER_SECS} (a week)"
        );
        Ok(self)
    }
}

/// The longest keep-alive interval and idle timeout, in seconds (a week; far beyond any use, and
/// far from an `Instant` overflow).
const MAX_TIMER_SECS: u64 = 7 * 24 * 3600;

/// Shared answers kept at most (see [`Subscriptions`]).
const ANSWERS_KEPT: u64 = 20_000;

/// The subscriptions of this gateway replica: the bus they read and how many each organisation
/// holds.
pub struct Subscriptions {
    bus: Option<Arc<dyn EventBus>>,
    pub options: SubscriptionOptions,
    open: Mutex<HashMap<AdmissionKey, usize>>,
    /// Answers to one event for one kind of subscriber (the same operation, variables and
    /// identity as the subgraphs see it), shared by every subscriber of that kind: an
    /// organisation's twenty dashboards cost one execution per event, not twenty. Kept briefly.
    answers: SharedAnswers,
}

/// (event position, [`share_key`]) → the answer's body, `None` when the event is not for them.
type SharedAnswers = moka::future::Cache<(u64, Arc<str>), Arc<Option<Vec<u8>>>>;

impl std::fmt::Debug for Subscriptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscriptions")
            .field("bus", &self.bus.as_ref().map(|bus| bus.describe()))
            .field("options", &self.options)
            .finish()
    }
}

impl Default for Subscriptions {
    /// No bus: subscriptions are refused with `EVENTS_UNAVAILABLE`.
    fn default() -> Self {
        Self::new(None, SubscriptionOptions::default())
    }
}

impl Subscriptions {
    pub fn new(bus: Option<Arc<dyn EventBus>>, options: SubscriptionOptions) -> Self {
        let answers = moka::future::Cache::builder()
            .max_capacity(ANSWERS_KEPT)
            .time_to_live(std::time::Duration::from_secs(60))
            .build();
        Self { bus, options, open: Mutex::default(), answers }
    }

    /// The bus, or the error a subscriber gets without one.
    pub fn bus(&self) -> Result<Arc<dyn EventBus>, GraphqlError> {
        self.bus.clone().ok_or_else(|| {
            GatewayError::EventsUnavailable
                .error("this gateway has no event stream configured ([events] nats_url), so it serves no subscriptions")
        })
    }

    /// How many subscriptions `key` holds now.
    pub fn open(&self, key: AdmissionKey) -> usize {
        self.lock().get(&key).copied().unwrap_or(0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<AdmissionKey, usize>> {
        self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// One more subscription for `key`, released when the [`Slot`] is dropped; or
    /// `SUBSCRIPTION_LIMIT`.
    pub fn take(self: &Arc<Self>, key: AdmissionKey) -> Result<Slot, GraphqlError> {
        let mut open = self.lock();
        let count = open.entry(key).or_insert(0);
        if *count >= self.options.max_per_organisation {
            return Err(GatewayError::SubscriptionLimit.error(format!(
                "your organisation has {} subscriptions open on this gateway, the most allowed; close one first",
                self.options.max_per_organisation
            )));
        }
        *count += 1;
        Ok(Slot { subscriptions: self.clone(), key })
    }
}

/// One open subscription counted against its organisation.
pub struct Slot {
    subscriptions: Arc<Subscriptions>,
    key: AdmissionKey,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.subscriptions.lock();
        if let Some(count) = open.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// What a subscription sends its client.
#[derive(Debug)]
pub enum Message {
    /// The answer to one event (a GraphQL response), with the event's position in the stream.
    Next { seq: u64, body: Vec<u8> },
    /// The error that ends the subscription, with the position to resume after (also in the
    /// error's `extensions.lastEventId`) when the client can resume.
    Final { error: GraphqlError, resume: Option<u64> },
}

/// Who the subscriber is, for the subgraph calls made for each event.
#[derive(Clone)]
pub struct Subscriber {
    /// The caller's claims; `None` for an anonymous caller.
    pub claims: Option<InternalClaims>,
    /// An anonymous caller under public access (subgraphs get the public reader's token).
    pub public: bool,
}

/// Starts the feed of one subscription: a task reads the bus from now (after replaying the
/// events after `resume_after`, when given), runs the subscription for each event for it and
/// sends the answers, in stream order, to the returned receiver. Dropping the receiver stops the
/// task; the task ends after a [`Message::Final`]. The `slot` is held as long as the task runs.
pub fn feed(request: FeedRequest) -> mpsc::Receiver<Message> {
    let FeedRequest { gateway, identity, bus, subscription, subscriber, resume_after, max_message_bytes, slot } =
        request;
    // A few answers may wait for the client; behind them the bus's buffer fills up, and past it
    // the client is cut off as too slow.
    let (sender, receiver) = mpsc::channel(16);
    // Listening starts before the replay, so nothing published meanwhile is missed; what both
    // hold is sent once (positions only increase). The stream's end, taken before listening, is
    // where a subscriber that was given nothing yet resumes.
    let start = resume_after.unwrap_or_else(|| bus.head());
    let live = bus.live();
    let share = share_key(&subscription, &subscriber);
    let shared = slot.subscriptions.clone();
    let run = Feed { gateway, identity, subscription, subscriber, max_message_bytes, sender, shared, share };
    tokio::spawn(async move {
        let _slot = slot;
        run.run(bus, live, resume_after, start).await;
    });
    receiver
}

/// What [`feed`] needs.
pub struct FeedRequest {
    pub gateway: Arc<Gateway>,
    pub identity: Arc<Identity>,
    pub bus: Arc<dyn EventBus>,
    pub subscription: Subscription,
    pub subscriber: Subscriber,
    /// Replay the events after this position first (a client resuming).
    pub resume_after: Option<u64>,
    pub max_message_bytes: usize,
    pub slot: Slot,
}

struct Feed {
    gateway: Arc<Gateway>,
    identity: Arc<Identity>,
    subscription: Subscription,
    subscriber: Subscriber,
    max_message_bytes: usize,
    sender: mpsc::Sender<Message>,
    /// Where answers shared with subscribers of the same kind are kept.
    shared: Arc<Subscriptions>,
    /// What makes two subscribers' answers to one event the same ([`share_key`]).
    share: Arc<str>,
}

/// The operation, its variables and the identity the subgraphs see (subject, organisation,
/// kind, regions, roles, scopes: what the internal token carries, not the caller's own token):
/// two subscriptions with the same key get the same answer to every event.
fn share_key(subscription: &Subscription, subscriber: &Subscriber) -> Arc<str> {
    let identity = match (&subscriber.claims, subscriber.public) {
        (_, true) => "public".to_owned(),
        (None, false) => "anonymous".to_owned(),
        (Some(c), false) => {
            serde_json::to_string(&(&c.sub, c.org, c.org_kind.as_str(), &c.regions, &c.roles, &c.scope))
                .unwrap_or_default()
        }
    };
    format!(
        "{}\u{0}{}\u{0}{identity}",
        subscription.operation_key(),
        serde_json::to_string(subscription.variables()).unwrap_or_default()
    )
    .into()
}

impl Feed {
    async fn run(
        &self,
        bus: Arc<dyn EventBus>,
        mut live: broadcast::Receiver<Arc<Delivered>>,
        resume: Option<u64>,
        start: u64,
    ) {
        // The last position this subscriber has been given or passed over: where it resumes.
        let mut last = start;
        // Live events at or below it were replayed already.
        let mut replayed_to = 0;
        if let Some(after) = resume {
            replayed_to = after;
            match bus.replay(after).await {
                Ok(missed) => {
                    for delivered in missed {
                        if !self.deliver(&delivered).await {
                            return;
                        }
                        last = delivered.seq;
                        replayed_to = delivered.seq;
                    }
                }
                Err(error) => {
                    let message = match error {
                        BusError::Unavailable(_) => format!("the missed events cannot be read now ({error}); retry"),
                        _ => error.to_string(),
                    };
                    let error = GatewayError::EventsUnavailable.error(message);
                    let _ = self.sender.send(Message::Final { error, resume: None }).await;
                    return;
                }
            }
        }
        let expiry = self.expiry();
        tokio::pin!(expiry);
        loop {
            let delivered = tokio::select! {
                received = live.recv() => received,
                () = &mut expiry => {
                    let error = GatewayError::Unauthenticated.error(
                        "your token has expired: the subscription ends here; subscribe again with a new token and the last event id to miss nothing",
                    );
                    let _ = self.sender.send(Message::Final { error: resumable(error, last), resume: Some(last) }).await;
                    return;
                }
                () = self.sender.closed() => return,
            };
            match delivered {
                Ok(delivered) => {
                    if delivered.seq <= replayed_to {
                        continue;
                    }
                    last = delivered.seq;
                    if !self.deliver(&delivered).await {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(behind)) => {
                    tracing::info!(behind, last, "subscriber too slow: disconnected");
                    let error = GatewayError::SubscriptionTooSlow.error(format!(
                        "events arrived faster than they were read ({behind} behind): reconnect with the last event id ({last}) to receive the rest"
                    ));
                    let _ =
                        self.sender.send(Message::Final { error: resumable(error, last), resume: Some(last) }).await;
                    return;
                }
                Err(broadcast::error::RecvError::Closed) => {
                    let error = GatewayError::EventsUnavailable.error("the event stream closed: reconnect to resume");
                    let _ =
                        self.sender.send(Message::Final { error: resumable(error, last), resume: Some(last) }).await;
                    return;
                }
            }
        }
    }

    /// Resolves when the subscriber's token expires (never for anonymous callers).
    async fn expiry(&self) {
        match self.subscriber.claims.as_ref().map(|claims| claims.exp) {
            Some(exp) => {
                let left = exp - chrono::Utc::now().timestamp();
                tokio::time::sleep(Duration::from_secs(u64::try_from(left).unwrap_or(0))).await;
            }
            None => std::future::pending().await,
        }
    }

    /// Whether the subscriber is in the event's audience (the organisations the owning subgraph
    /// says may receive it at most): outside it, the subgraph is not even asked.
    fn in_audience(&self, delivered: &Delivered) -> bool {
        let Some(audience) = &delivered.event.audience else { return true };
        match &self.subscriber.claims {
            Some(claims) => audience.admits(&claims.org.to_string(), claims.org_kind.as_str()),
            // Anonymous callers read what patient organisations read that is public.
            None => audience.kinds.iter().any(|k| k == ggzhub_kit::OrgKind::PatientOrganisation.as_str()),
        }
    }

    /// Runs the subscription for one event and sends the answer when there is one; false when
    /// the client is gone.
    async fn deliver(&self, delivered: &Delivered) -> bool {
        if !delivered.event.matches(&self.subscription.field, &self.subscription.arguments)
            || !self.in_audience(delivered)
        {
            return true;
        }
        let answer = self
            .shared
            .answers
            .get_with((delivered.seq, self.share.clone()), async {
                let Ok(event) = serde_json::to_vec(delivered) else { return Arc::new(None) };
                let caller = if self.subscriber.public {
                    self.identity.for_public_caller(None)
                } else {
                    self.identity.for_caller(self.subscriber.claims.clone(), None)
                };
                let response = self.gateway.run_event(&self.subscription, &caller, &event).await;
                Arc::new(response.map(|r| r.to_json()))
            })
            .await;
        let Some(answer) = answer.as_ref() else { return true };
        let mut body = with_event_id(answer.clone(), delivered.seq);
        if body.len() > self.max_message_bytes {
            let error = GatewayError::SubscriptionMessageTooLarge.error(format!(
                "the answer to event {} is {} bytes, more than the {} allowed: select fewer fields",
                delivered.seq,
                body.len(),
                self.max_message_bytes
            ));
            let refused = crate::engine::GraphqlResponse { errors: vec![error], data: None, status: 413 };
            body = with_event_id(refused.to_json(), delivered.seq);
        }
        self.sender.send(Message::Next { seq: delivered.seq, body }).await.is_ok()
    }
}

/// `error` with `extensions.lastEventId`: where the client resumes.
fn resumable(error: GraphqlError, last: u64) -> GraphqlError {
    error.with_extension("lastEventId", last.to_string())
}

/// A response body with `"extensions": {"eventId": "<seq>"}` added: the position a client names
/// to resume (`Last-Event-ID` over SSE, `extensions.lastEventId` in a WebSocket `subscribe` or a
/// multipart request).
fn with_event_id(mut body: Vec<u8>, seq: u64) -> Vec<u8> {
    if body.last() == Some(&b'}') {
        body.pop();
        if body.len() > 1 {
            body.push(b',');
        }
        body.extend_from_slice(format!("\"extensions\":{{\"eventId\":\"{seq}\"}}}}").as_bytes());
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_timeout_not_above_the_keepalive_or_beyond_a_week_is_refused() {
        assert!(SubscriptionOptions::default().checked().is_ok());
        let equal = SubscriptionOptions { keepalive_secs: 60, idle_timeout_secs: 60, ..Default::default() };
        let error = equal.checked().expect_err("refused").to_string();
        assert!(error.contains("idle_timeout_secs (60) must be above keepalive_secs (60)"), "{error}");
        let huge = SubscriptionOptions { idle_timeout_secs: u64::MAX, ..Default::default() };
        assert!(huge.checked().is_err());
        assert_eq!(huge.idle_timeout(), Duration::from_secs(MAX_TIMER_SECS), "and never an overflow");
    }

    #[test]
    fn answers_carry_their_event_id() {
        assert_eq!(
            with_event_id(br#"{"data":{"a":1}}"#.to_vec(), 7),
            br#"{"data":{"a":1},"extensions":{"eventId":"7"}}"#
        );
        assert_eq!(with_event_id(b"{}".to_vec(), 8), br#"{"extensions":{"eventId":"8"}}"#);
    }
}
