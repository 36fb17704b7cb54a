//! Follow-through of the early warning (issue 19): a continuity signal that a region's chair
//! escalates opens an escalation at the national table, linked to the signal.
//!
//! The region subgraph does not call this one (nor import its crate): it records an `ESCALATED`
//! event in its outbox, in the same transaction as the escalation, and this consumer reads the
//! event stream ([`EventBus`]) and opens the escalation. The consumer keeps its position (the
//! last event it processed) in the national-table database, in the same transaction as the
//! escalation it opens, so a restart resumes where it stopped: nothing is missed and nothing
//! before the position is processed again. Opening is idempotent besides: `signal_id` is unique,
//! so an event delivered twice (the relay retried, two replicas of this service read the same
//! stream, or a position was lost) opens one escalation.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use ggzhub_kit::events::{BusError, Delivered, EventBus};
use ggzhub_kit::outbox::Outbox;
use ggzhub_kit::validate::{self as v, MAX_LONG_TEXT};
use sea_orm::sea_query::{Alias, Expr, ExprTrait as _, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    FromQueryResult, QueryFilter, TransactionTrait,
};
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use crate::domain::{CareCategory, Urgency};
use crate::entity::escalation;
use crate::graphql::mutation::escalation::{NewEscalation, insert_submitted};

/// The table holding where each consumer of the event stream stands.
pub const POSITION_TABLE: &str = "event_positions";
/// This consumer's name in [`POSITION_TABLE`].
pub const CONSUMER: &str = "signal-escalations";
/// The subgraph and subscription field of continuity-signal events (owned by the region subgraph).
pub const SIGNAL_SUBGRAPH: &str = "region";
/// See [`SIGNAL_SUBGRAPH`].
pub const SIGNAL_EVENTS: &str = "signalEvents";
/// Target group of an escalation opened from a signal: a signal concerns a care offer, not a
/// target group; the national table narrows it down in discussion.
pub const SIGNAL_TARGET_GROUP: &str = "Not specified: escalated from a continuity signal";
/// What the region tried, for an escalation opened from a signal.
pub const SIGNAL_REGION_TRIED: &str = "Raised as a continuity signal (early warning) in the region; the region's \
     chair escalated it to the national table.";

/// Non-fatal events written per position update while only events of no interest pass by: the
/// position of those is kept in memory and stored at most every this many (or when the stream
/// goes quiet). Processing one of them again after a restart does nothing, so losing that part
/// of the position costs a little reading, never a double escalation.
const IGNORED_PER_WRITE: u32 = 100;
/// Longest wait between two attempts while the database or the bus fails.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Starts the consumer on `db`, reading `bus`; it runs until the runtime stops (or the task is
/// aborted). `outbox` is woken after each escalation it opens (their `OPENED` events).
pub fn spawn(db: DatabaseConnection, bus: Arc<dyn EventBus>, outbox: Outbox) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move { Consumer { db, bus, outbox, ignored: None, ignored_count: 0 }.run().await })
}

struct Consumer {
    db: DatabaseConnection,
    bus: Arc<dyn EventBus>,
    outbox: Outbox,
    /// The last event of no interest processed but whose position is not stored yet.
    ignored: Option<Arc<Delivered>>,
    ignored_count: u32,
}

/// What an event on the stream asks of the national table.
#[derive(Debug)]
enum Meaning {
    /// Nothing: another subgraph's event, another kind of signal event.
    Nothing,
    /// Open this escalation, as `escalatedBy`.
    Open(NewEscalation),
    /// An `ESCALATED` event that cannot become an escalation, and why.
    Invalid(String),
}

impl Consumer {
    async fn run(mut self) {
        // Listening before replaying: an event stored in between is in both, and the live copy
        // (its sequence already processed) is skipped; none falls between the two.
        let mut live = self.bus.live();
        let mut after = self.retry("reading the stored position", |c| Box::pin(c.start_position())).await;
        tracing::info!(after, bus = %self.bus.describe(), "following escalated continuity signals");
        let mut backoff = Duration::from_millis(100);
        'resume: loop {
            let mut gap_allowed = false;
            match self.bus.replay(after).await {
                Ok(missed) => {
                    backoff = Duration::from_millis(100);
                    for d in missed {
                        self.process(&d).await;
                        after = d.seq;
                    }
                    self.flush_ignored().await;
                }
                Err(BusError::Unavailable(error)) => {
                    tracing::warn!(%error, after, retry_in_ms = backoff.as_millis() as u64, "the event stream is unavailable; escalated signals wait");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue 'resume;
                }
                Err(error @ (BusError::Expired(_) | BusError::TooFarBehind(_))) => {
                    // Nothing can be read in between any more: continue from the next live event,
                    // and say so loudly, since escalated signals in the gap open no escalation.
                    tracing::error!(
                        %error,
                        after,
                        "ESCALATED SIGNALS MAY BE MISSED: the event stream no longer holds what followed the stored \
                         position; continuing with new events. Check the region's escalated continuity signals \
                         against the national table's escalations and raise the missing ones by hand."
                    );
                    gap_allowed = true;
                }
            }
            loop {
                match live.recv().await {
                    Ok(d) => {
                        if d.seq <= after {
                            continue;
                        }
                        if d.seq > after + 1 && !gap_allowed {
                            // Something in between was not seen live (an unreadable event is
                            // skipped by the stream as well): the stream says what.
                            continue 'resume;
                        }
                        gap_allowed = false;
                        self.process(&d).await;
                        after = d.seq;
                        if live.is_empty() {
                            self.flush_ignored().await;
                        }
                    }
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(
                            missed,
                            after,
                            "fell behind the live events; replaying from the stored position"
                        );
                        self.flush_ignored().await;
                        continue 'resume;
                    }
                    Err(RecvError::Closed) => {
                        tracing::info!("the event stream closed; no longer following escalated signals");
                        return;
                    }
                }
            }
        }
    }

    /// Runs `op` until it succeeds, waiting longer after each failure (the database is down).
    async fn retry<T>(
        &mut self,
        what: &str,
        mut op: impl for<'a> FnMut(&'a mut Self) -> async_graphql::futures_util::future::BoxFuture<'a, Result<T, DbErr>>,
    ) -> T {
        let mut backoff = Duration::from_millis(100);
        loop {
            match op(self).await {
                Ok(value) => return value,
                Err(error) => {
                    tracing::warn!(%error, retry_in_ms = backoff.as_millis() as u64, "{what} failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    /// The sequence to read after: the stored one, unless the stream is not the one it was
    /// stored for. The in-process log starts again at 1 when the process restarts while the
    /// database keeps the old position; reading after it would skip every new event up to it.
    /// The stored event id tells: the stream must still hold that id at that sequence.
    async fn start_position(&mut self) -> Result<u64, DbErr> {
        let Some((seq, event_id)) = load_position(&self.db).await? else { return Ok(0) };
        if seq == 0 {
            return Ok(0);
        }
        match self.bus.replay(seq - 1).await {
            Ok(events) if events.first().is_some_and(|d| d.seq == seq && d.event.id == event_id) => Ok(seq),
            Ok(_) => {
                tracing::warn!(
                    seq,
                    event_id,
                    "the event stream does not hold the last processed event (a new in-process log?): reading it \
                     from its start; escalations already opened are not opened again"
                );
                reset_position(&self.db).await?;
                Ok(0)
            }
            // Older than the stream keeps, or far behind: the stream is the same one; the
            // replay from the position reports it.
            Err(BusError::Expired(_) | BusError::TooFarBehind(_)) => Ok(seq),
            Err(BusError::Unavailable(error)) => {
                Err(DbErr::Custom(format!("the event stream is unavailable: {error}")))
            }
        }
    }

    /// Handles one event, retrying on database failures: an event is never skipped because the
    /// database was down.
    async fn process(&mut self, d: &Arc<Delivered>) {
        match interpret(d) {
            Meaning::Nothing => {
                self.ignored = Some(d.clone());
                self.ignored_count += 1;
                if self.ignored_count >= IGNORED_PER_WRITE {
                    self.flush_ignored().await;
                }
            }
            Meaning::Invalid(reason) => {
                // Skipped, with the position moving past it: the stream is ordered and an event
                // never changes, so a payload that cannot become an escalation now never will.
                // Stopping here would hold back every later escalation behind it for good (a
                // poison message); the error names the event, so an operator can raise that
                // escalation by hand.
                tracing::error!(
                    seq = d.seq,
                    event_id = d.event.id,
                    reason,
                    "an ESCALATED continuity-signal event cannot open an escalation; skipped"
                );
                let d = d.clone();
                self.retry("storing the event position", move |c| {
                    let d = d.clone();
                    Box::pin(async move { store_position(&c.db, &d).await })
                })
                .await;
                self.ignored = None;
                self.ignored_count = 0;
            }
            Meaning::Open(new) => {
                let new = Arc::new(new);
                let d = d.clone();
                let opened = self
                    .retry("opening the escalation of a continuity signal", move |c| {
                        let (d, new) = (d.clone(), new.clone());
                        Box::pin(async move { open(&c.db, &d, &new).await })
                    })
                    .await;
                if let Some(e) = opened {
                    tracing::info!(escalation = e.id, signal = ?e.signal_id, region = e.region_code, "escalation opened from a continuity signal");
                    self.outbox.committed();
                }
                self.ignored = None;
                self.ignored_count = 0;
            }
        }
    }

    async fn flush_ignored(&mut self) {
        if let Some(d) = self.ignored.take() {
            self.ignored_count = 0;
            self.retry("storing the event position", move |c| {
                let d = d.clone();
                Box::pin(async move { store_position(&c.db, &d).await })
            })
            .await;
        }
    }
}

/// Opens the escalation of `new` with its audit entry and `OPENED` event, storing the position of
/// `d`, in one transaction. `None` when the signal already has its escalation (the event came
/// again, or another replica was first).
async fn open(db: &DatabaseConnection, d: &Delivered, new: &NewEscalation) -> Result<Option<escalation::Model>, DbErr> {
    let txn = db.begin().await?;
    let exists = escalation::Entity::find()
        .filter(escalation::Column::SignalId.eq(new.signal_id.clone()))
        .one(&txn)
        .await?
        .is_some();
    if exists {
        store_position(&txn, d).await?;
        txn.commit().await?;
        return Ok(None);
    }
    let model = match insert_submitted(&txn, new.clone()).await {
        Ok(model) => model,
        // Another replica opened it between our look-up and our insert.
        Err(e) if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => {
            txn.rollback().await?;
            store_position(db, d).await?;
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    ggzhub_kit::audit::entry::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        at: Set(Utc::now()),
        org: Set(model.raised_by.clone()),
        subject: Set(format!("event {}", d.event.id)),
        entity: Set("Escalation".to_owned()),
        entity_id: Set(model.id.clone()),
        action: Set("raise".to_owned()),
        change: Set(json!({
            "regionCode": model.region_code,
            "category": model.category,
            "urgency": model.urgency,
            "signalId": model.signal_id,
        })),
    }
    .insert(&txn)
    .await?;
    ggzhub_kit::changes::record(&txn, "Escalation", &model.id, false).await?;
    store_position(&txn, d).await?;
    txn.commit().await?;
    Ok(Some(model))
}

/// What `d` asks of the national table. Only `ESCALATED` events of the region's
/// `signalEvents` matter; their payload is validated as `raiseEscalation` validates its input.
fn interpret(d: &Delivered) -> Meaning {
    let e = &d.event;
    if e.subgraph != SIGNAL_SUBGRAPH || e.field != SIGNAL_EVENTS || e.payload["kind"] != "ESCALATED" {
        return Meaning::Nothing;
    }
    match escalation_of(&e.payload, e.occurred_at) {
        Ok(new) => Meaning::Open(new),
        Err(reason) => Meaning::Invalid(reason),
    }
}

/// The escalation an `ESCALATED` payload opens: `signalId`, `regionCode`, `category`, `summary`
/// (the problem) and `escalatedBy` (the chair's organisation, who raises it) are required;
/// `severity` (the urgency, HIGH when absent), `offerId` (the affected offer) and `targetGroup`
/// are taken when present.
fn escalation_of(p: &Value, at: chrono::DateTime<Utc>) -> Result<NewEscalation, String> {
    let field = |name: &str| p[name].as_str().ok_or_else(|| format!("{name} is missing or not a string"));
    let optional = |name: &str| p.get(name).and_then(Value::as_str).filter(|s| !s.trim().is_empty());
    let signal_id = v::id("signalId", field("signalId")?).map_err(|e| e.to_string())?;
    let region_code = field("regionCode")?.to_owned();
    v::region_code("regionCode", &region_code).map_err(|e| e.to_string())?;
    let category = CareCategory::parse(field("category")?)
        .ok_or_else(|| format!("category is not a care category: {}", v::shown(field("category").unwrap_or(""))))?;
    let problem = v::text("summary", field("summary")?, MAX_LONG_TEXT).map_err(|e| e.to_string())?;
    let raised_by = v::id("escalatedBy", field("escalatedBy")?).map_err(|e| e.to_string())?;
    let urgency = match optional("severity") {
        None => Urgency::High,
        Some(s) => Urgency::parse(s).ok_or_else(|| format!("severity is not an urgency: {}", v::shown(s)))?,
    };
    let affected_offer_ids = match optional("offerId") {
        None => vec![],
        Some(id) => vec![v::id("offerId", id).map_err(|e| e.to_string())?],
    };
    let target_group = match optional("targetGroup") {
        None => SIGNAL_TARGET_GROUP.to_owned(),
        Some(t) => v::text("targetGroup", t, v::MAX_NAME).map_err(|e| e.to_string())?,
    };
    Ok(NewEscalation {
        region_code,
        category,
        target_group,
        problem,
        region_tried: SIGNAL_REGION_TRIED.to_owned(),
        affected_offer_ids,
        urgency,
        raised_by,
        raised_at: at,
        signal_id: Some(signal_id),
    })
}

#[derive(FromQueryResult)]
struct PositionRow {
    seq: i64,
    event_id: String,
}

/// The stored position: the last processed sequence and that event's id.
pub async fn load_position(db: &DatabaseConnection) -> Result<Option<(u64, String)>, DbErr> {
    let select = Query::select()
        .columns(["seq", "event_id"].map(Alias::new))
        .from(Alias::new(POSITION_TABLE))
        .and_where(Expr::col(Alias::new("consumer")).eq(CONSUMER))
        .to_owned();
    let row = PositionRow::find_by_statement(db.get_database_backend().build(&select)).one(db).await?;
    Ok(row.map(|r| (u64::try_from(r.seq).unwrap_or(0), r.event_id)))
}

/// Stores `d` as processed, on `conn` (the transaction of what it did). Only forward: a replica
/// that processed a later event keeps its position.
pub async fn store_position<C: ConnectionTrait>(conn: &C, d: &Delivered) -> Result<(), DbErr> {
    let seq = i64::try_from(d.seq).map_err(|_| DbErr::Custom(format!("sequence {} out of range", d.seq)))?;
    let table = Alias::new(POSITION_TABLE);
    let insert = Query::insert()
        .into_table(table.clone())
        .columns(["consumer", "seq", "event_id", "updated_at"].map(Alias::new))
        .values_panic([CONSUMER.into(), seq.into(), d.event.id.clone().into(), Utc::now().into()])
        .on_conflict(
            OnConflict::column(Alias::new("consumer"))
                .update_columns(["seq", "event_id", "updated_at"].map(Alias::new))
                .action_and_where(Expr::col((table, Alias::new("seq"))).lt(seq))
                .to_owned(),
        )
        .to_owned();
    conn.execute(&insert).await.map(|_| ())
}

/// Forgets the stored position (the stream is a new one).
async fn reset_position(db: &DatabaseConnection) -> Result<(), DbErr> {
    let delete = Query::delete()
        .from_table(Alias::new(POSITION_TABLE))
        .and_where(Expr::col(Alias::new("consumer")).eq(CONSUMER))
        .to_owned();
    db.execute(&delete).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ggzhub_kit::events::Event;

    fn delivered(payload: Value) -> Delivered {
        Delivered {
            seq: 1,
            event: Event {
                id: "region:1".into(),
                subgraph: SIGNAL_SUBGRAPH.into(),
                field: SIGNAL_EVENTS.into(),
                scope: Default::default(),
                audience: None,
                payload,
                occurred_at: Utc::now(),
            },
        }
    }

    fn escalated() -> Value {
        json!({
            "kind": "ESCALATED",
            "signalId": "0190a3c4-0000-7000-8000-000000000001",
            "regionCode": "utrecht",
            "category": "ACUTE",
            "summary": "The crisis team loses three of its five psychiatrists in March.",
            "escalatedBy": "00000000-0000-0000-0000-0000000000a1",
        })
    }

    #[test]
    fn an_escalated_signal_opens_a_submitted_escalation_raised_by_the_chair() {
        let Meaning::Open(new) = interpret(&delivered(escalated())) else { panic!("opens") };
        assert_eq!(new.region_code, "utrecht");
        assert_eq!(new.category, CareCategory::Acute);
        assert_eq!(new.urgency, Urgency::High);
        assert_eq!(new.raised_by, "00000000-0000-0000-0000-0000000000a1");
        assert_eq!(new.signal_id.as_deref(), Some("0190a3c4-0000-7000-8000-000000000001"));
        assert!(new.problem.starts_with("The crisis team"));
        let mut with_severity = escalated();
        with_severity["severity"] = json!("CRITICAL");
        with_severity["offerId"] = json!("00000000-0000-0000-0000-00000000f001");
        let Meaning::Open(new) = interpret(&delivered(with_severity)) else { panic!("opens") };
        assert_eq!(new.urgency, Urgency::Critical);
        assert_eq!(new.affected_offer_ids, vec!["00000000-0000-0000-0000-00000000f001".to_owned()]);
    }

    #[test]
    fn other_events_mean_nothing_and_bad_payloads_are_invalid() {
        let mut raised = escalated();
        raised["kind"] = json!("RAISED");
        assert!(matches!(interpret(&delivered(raised)), Meaning::Nothing));
        let mut other = delivered(escalated());
        other.event.subgraph = "national-table".into();
        assert!(matches!(interpret(&other), Meaning::Nothing));
        for (field, value) in [
            ("signalId", json!("not-a-uuid")),
            ("regionCode", json!("Utrecht City")),
            ("category", json!("DENTAL")),
            ("summary", json!("")),
            ("escalatedBy", json!(42)),
            ("severity", json!("URGENT")),
        ] {
            let mut bad = escalated();
            bad[field] = value;
            let Meaning::Invalid(reason) = interpret(&delivered(bad)) else { panic!("{field} is invalid") };
            assert!(reason.contains(field), "{reason} names {field}");
        }
    }
}
