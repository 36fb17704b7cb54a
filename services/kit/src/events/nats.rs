//! The event bus on NATS JetStream: one stream (`GGZHUB_EVENTS`, subjects `ggzhub.events.>`),
//! file storage, kept for [`RETENTION`]; duplicates (the same [`Event::id`] as `Nats-Msg-Id`)
//! dropped by the server within [`DUPLICATE_WINDOW`]. Each process reads the stream with one
//! ordered consumer from the moment it connects and fans the events out to its listeners, keeping
//! the last [`LIVE_BUFFER`] of them in memory; a replay within those is answered from memory
//! (a gateway replica that takes over hundreds of reconnecting clients at once does not ask the
//! server for each), an older one reads the stream from a sequence with a consumer of its own.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};
use futures_util::StreamExt as _;
use futures_util::future::BoxFuture;
use tokio::sync::broadcast;

use super::{BusError, Delivered, Event, EventBus, LIVE_BUFFER, MAX_REPLAY};

/// The stream's name.
pub const STREAM: &str = "GGZHUB_EVENTS";
/// How long events are kept for replay.
pub const RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);
/// Within this window a republished event (same id) is stored once.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(3600);
/// How long one step of a replay may wait for the server.
const REPLAY_STEP: Duration = Duration::from_secs(5);

pub struct NatsBus {
    context: jetstream::Context,
    /// The events handed on most recently, and from where they cover the stream.
    recent: Arc<std::sync::Mutex<Recent>>,
    /// The last position the reader handed on (or the stream's end when it connected).
    head: Arc<std::sync::atomic::AtomicU64>,
    live: broadcast::Sender<Arc<Delivered>>,
    url: String,
    reader: tokio::task::JoinHandle<()>,
}

/// The last events handed on: every stored event after `after` up to the head (unreadable ones
/// left out, as a replay from the server leaves them out).
struct Recent {
    after: u64,
    events: std::collections::VecDeque<Arc<Delivered>>,
}

impl Recent {
    fn push(&mut self, delivered: Arc<Delivered>) {
        if self.events.len() == LIVE_BUFFER
            && let Some(dropped) = self.events.pop_front()
        {
            self.after = dropped.seq;
        }
        self.events.push_back(delivered);
    }

    /// The events after `after`, if they are all here and there is at least one (at or past the
    /// last event handed on, the server says whether it stores more).
    fn after(&self, after: u64) -> Option<Vec<Arc<Delivered>>> {
        let last = self.events.back()?.seq;
        (after >= self.after && after < last).then(|| self.events.iter().filter(|d| d.seq > after).cloned().collect())
    }
}

impl Drop for NatsBus {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

fn unavailable(error: impl std::fmt::Display) -> BusError {
    BusError::Unavailable(error.to_string())
}

impl NatsBus {
    /// Connects to `url` (e.g. `nats://127.0.0.1:4222`), makes sure the stream exists and starts
    /// reading it from its current end. The client reconnects by itself after a lost connection;
    /// publishing meanwhile fails (the outbox keeps the event and its relay retries).
    pub async fn connect(url: &str) -> Result<Arc<Self>, BusError> {
        let client = async_nats::ConnectOptions::new()
            .name("ggzhub")
            .retry_on_initial_connect()
            .connection_timeout(Duration::from_secs(5))
            .connect(url)
            .await
            .map_err(unavailable)?;
        let context = jetstream::new(client);
        let stream = tokio::time::timeout(
            Duration::from_secs(10),
            context.get_or_create_stream(stream::Config {
                name: STREAM.into(),
                subjects: vec![format!("{}.>", super::SUBJECT_PREFIX)],
                storage: stream::StorageType::File,
                max_age: RETENTION,
                duplicate_window: DUPLICATE_WINDOW,
                ..Default::default()
            }),
        )
        .await
        .map_err(|_| unavailable(format!("NATS at {url} did not answer within 10 s")))?
        .map_err(unavailable)?;
        let start = stream.get_info().await.map_err(unavailable)?.state.last_sequence;
        let (live, _) = broadcast::channel(LIVE_BUFFER);
        let head = Arc::new(std::sync::atomic::AtomicU64::new(start));
        let recent = Arc::new(std::sync::Mutex::new(Recent { after: start, events: Default::default() }));
        let reader = tokio::spawn(read_live(stream, start, live.clone(), head.clone(), recent.clone()));
        Ok(Arc::new(Self { context, recent, head, live, url: redact(url), reader }))
    }
}

/// Hands every event stored after `after` to `live`, for as long as the process runs; a failed
/// consumer is recreated from the last event handed on, so listeners see no gap.
async fn read_live(
    stream: stream::Stream,
    mut after: u64,
    live: broadcast::Sender<Arc<Delivered>>,
    head: Arc<std::sync::atomic::AtomicU64>,
    recent: Arc<std::sync::Mutex<Recent>>,
) {
    loop {
        match read_from(&stream, after, None, |delivered| {
            after = delivered.seq;
            let delivered = Arc::new(delivered);
            // Kept before it is sent: a listener that subscribed, then replays, finds it in one
            // of the two (and drops the copy by its position).
            recent.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(delivered.clone());
            head.store(after, std::sync::atomic::Ordering::Release);
            let _ = live.send(delivered);
            true
        })
        .await
        {
            Ok(()) => {}
            Err(error) => {
                tracing::warn!(%error, after, "reading the event stream failed; resuming in 1 s");
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Reads the stream from `after + 1` with an ordered consumer, calling `each` until it returns
/// false or, with `until`, the stream reaches that sequence.
async fn read_from(
    stream: &stream::Stream,
    after: u64,
    until: Option<u64>,
    mut each: impl FnMut(Delivered) -> bool,
) -> Result<(), BusError> {
    let consumer = stream
        .create_consumer(consumer::pull::OrderedConfig {
            deliver_policy: consumer::DeliverPolicy::ByStartSequence { start_sequence: after + 1 },
            ..Default::default()
        })
        .await
        .map_err(unavailable)?;
    let mut messages = consumer.messages().await.map_err(unavailable)?;
    loop {
        let next = match until {
            Some(_) => tokio::time::timeout(REPLAY_STEP, messages.next())
                .await
                .map_err(|_| unavailable("the event stream did not answer within 5 s"))?,
            None => messages.next().await,
        };
        let Some(message) = next else { return Ok(()) };
        let message = message.map_err(unavailable)?;
        let seq = message.info().map_err(unavailable)?.stream_sequence;
        match serde_json::from_slice::<Event>(&message.payload) {
            Ok(event) => {
                if !each(Delivered { seq, event }) {
                    return Ok(());
                }
            }
            Err(error) => tracing::error!(seq, %error, "an event in the stream is not readable; skipped"),
        }
        if until.is_some_and(|last| seq >= last) {
            return Ok(());
        }
    }
}

/// The URL without credentials, for logs.
fn redact(url: &str) -> String {
    match url.split_once('@') {
        Some((scheme_and_user, host)) => match scheme_and_user.split_once("://") {
            Some((scheme, _)) => format!("{scheme}://***@{host}"),
            None => format!("***@{host}"),
        },
        None => url.to_owned(),
    }
}

impl EventBus for NatsBus {
    fn publish<'a>(&'a self, event: &'a Event) -> BoxFuture<'a, Result<(), BusError>> {
        Box::pin(async move {
            let payload = serde_json::to_vec(event).map_err(unavailable)?;
            let publish =
                jetstream::message::PublishMessage::build().payload(payload.into()).message_id(event.id.as_str());
            let ack = self.context.send_publish(event.subject(), publish).await.map_err(unavailable)?;
            tokio::time::timeout(Duration::from_secs(10), ack)
                .await
                .map_err(|_| unavailable("NATS did not acknowledge the event within 10 s"))?
                .map_err(unavailable)?;
            Ok(())
        })
    }

    fn live(&self) -> broadcast::Receiver<Arc<Delivered>> {
        self.live.subscribe()
    }

    fn replay(&self, after: u64) -> BoxFuture<'_, Result<Vec<Arc<Delivered>>, BusError>> {
        Box::pin(async move {
            // Recent enough: from memory, up to the last event handed on (later ones reach a
            // listener live).
            if let Some(missed) = self.recent.lock().unwrap_or_else(std::sync::PoisonError::into_inner).after(after) {
                return Ok(missed);
            }
            let stream = self.context.get_stream(STREAM).await.map_err(unavailable)?;
            let state = stream.get_info().await.map_err(unavailable)?.state;
            if after >= state.last_sequence {
                return Ok(Vec::new());
            }
            if after + 1 < state.first_sequence {
                return Err(BusError::Expired(after));
            }
            if state.last_sequence - after > MAX_REPLAY as u64 {
                return Err(BusError::TooFarBehind(after));
            }
            let mut missed = Vec::new();
            read_from(&stream, after, Some(state.last_sequence), |delivered| {
                missed.push(Arc::new(delivered));
                true
            })
            .await?;
            Ok(missed)
        })
    }

    fn replay_page(&self, after: u64, limit: usize) -> BoxFuture<'_, Result<Vec<Arc<Delivered>>, BusError>> {
        Box::pin(async move {
            if let Some(mut missed) = self.recent.lock().unwrap_or_else(std::sync::PoisonError::into_inner).after(after)
            {
                missed.truncate(limit);
                return Ok(missed);
            }
            let stream = self.context.get_stream(STREAM).await.map_err(unavailable)?;
            let state = stream.get_info().await.map_err(unavailable)?.state;
            if after >= state.last_sequence || limit == 0 {
                return Ok(Vec::new());
            }
            if after + 1 < state.first_sequence {
                return Err(BusError::Expired(after));
            }
            let until = state.last_sequence.min(after.saturating_add(limit as u64));
            let mut page = Vec::new();
            read_from(&stream, after, Some(until), |delivered| {
                page.push(Arc::new(delivered));
                page.len() < limit
            })
            .await?;
            Ok(page)
        })
    }

    fn head(&self) -> u64 {
        self.head.load(std::sync::atomic::Ordering::Acquire)
    }

    fn describe(&self) -> String {
        format!("NATS JetStream at {} (stream {STREAM})", self.url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivered(seq: u64) -> Arc<Delivered> {
        Arc::new(Delivered {
            seq,
            event: Event {
                id: format!("t:{seq}"),
                subgraph: "t".into(),
                field: "f".into(),
                scope: Default::default(),
                audience: None,
                payload: serde_json::Value::Null,
                occurred_at: chrono::Utc::now(),
            },
        })
    }

    fn seqs(events: &[Arc<Delivered>]) -> Vec<u64> {
        events.iter().map(|d| d.seq).collect()
    }

    #[test]
    fn recent_events_answer_a_replay_only_when_they_cover_it() {
        let mut recent = Recent { after: 10, events: Default::default() };
        assert!(recent.after(10).is_none(), "nothing handed on yet: ask the server");
        for seq in 11..=15 {
            recent.push(delivered(seq));
        }
        assert_eq!(recent.after(12).map(|e| seqs(&e)), Some(vec![13, 14, 15]));
        assert_eq!(recent.after(10).map(|e| seqs(&e)), Some(vec![11, 12, 13, 14, 15]));
        assert!(recent.after(9).is_none(), "older than what is kept");
        assert!(recent.after(15).is_none(), "at the end: the server may hold more");
        for seq in 16..(16 + LIVE_BUFFER as u64) {
            recent.push(delivered(seq));
        }
        assert_eq!(recent.events.len(), LIVE_BUFFER);
        assert!(recent.after(14).is_none(), "dropped from memory");
        assert_eq!(recent.after(20).map(|e| e.len()), Some(LIVE_BUFFER - 5));
    }
}
