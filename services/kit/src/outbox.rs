//! The outbox: events written in the same database transaction as the change they report, and a
//! relay that publishes them to the [`EventBus`] once committed.
//!
//! A change and its event commit together or not at all, so no event is lost when the process
//! dies between the two, and none is sent for a change that was rolled back. The relay publishes
//! rows in id order and marks each one published only after the bus has stored it; when the bus
//! is unreachable (NATS down) the rows wait and the relay retries with backoff, so events raised
//! meanwhile are delivered when it returns. A crash between publishing and marking publishes the
//! row again, which the bus stores once (the event id is `<subgraph>:<row id>`). Several replicas
//! of one subgraph may relay the same table for the same reason.
//!
//! Published rows are kept as long as the stream keeps events ([`KEEP_PUBLISHED`], the JetStream
//! stream's retention) for inspection, then the relay deletes them ([`prune`], at most once an
//! hour per relay), so the table does not grow without end.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait as _, Order, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, FromQueryResult};
use sea_orm_migration::prelude::{SchemaManager, Table};
use sea_orm_migration::schema::{
    big_pk_auto, string_len, text, text_null, timestamp_with_time_zone, timestamp_with_time_zone_null,
};
use tokio::sync::Notify;

use crate::events::{Audience, Event, EventBus};

const TABLE: &str = "outbox";
/// Rows published per round.
const BATCH: u64 = 100;
/// Longest wait between two attempts while the bus is down.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A relay looks for rows at least this often, also without being told (another replica's rows).
const POLL: Duration = Duration::from_secs(2);
/// How long a published row is kept: as long as the stream keeps the event.
pub const KEEP_PUBLISHED: Duration = Duration::from_secs(7 * 24 * 3600);
/// How often a relay prunes.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Deletes the rows published before `before`; returns how many.
pub async fn prune(db: &DatabaseConnection, before: DateTime<Utc>) -> Result<u64, DbErr> {
    let delete = Query::delete()
        .from_table(Alias::new(TABLE))
        .and_where(Expr::col(Alias::new("published_at")).is_not_null())
        .and_where(Expr::col(Alias::new("published_at")).lt(before))
        .to_owned();
    Ok(db.execute(&delete).await?.rows_affected())
}

/// Creates the outbox table (for a service's migration).
pub async fn create_table(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(Alias::new(TABLE))
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(string_len("field", 64))
                .col(text("scope"))
                .col(text("payload"))
                .col(text_null("audience"))
                .col(timestamp_with_time_zone("occurred_at"))
                .col(timestamp_with_time_zone_null("published_at"))
                .to_owned(),
        )
        .await?;
    crate::migration::index(manager, "ix_outbox_unpublished", TABLE, &["published_at", "id"], false).await
}

/// Records an event for subscription field `field`, matching `scope` (argument name → value),
/// with the `payload` the subgraph needs to resolve it again; any organisation may receive it
/// (the subgraph decides per subscriber). Call it on the transaction that makes the change, then
/// [`Outbox::committed`] after the commit.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    field: &str,
    scope: &BTreeMap<String, String>,
    payload: &serde_json::Value,
    occurred_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    record_for(conn, field, scope, None, payload, occurred_at).await
}

/// [`record`] for an event only `audience` may receive at most (see [`Audience`]).
pub async fn record_for<C: ConnectionTrait>(
    conn: &C,
    field: &str,
    scope: &BTreeMap<String, String>,
    audience: Option<&Audience>,
    payload: &serde_json::Value,
    occurred_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let audience = audience.map(|a| serde_json::to_string(a).unwrap_or_default());
    let insert = Query::insert()
        .into_table(Alias::new(TABLE))
        .columns(["field", "scope", "audience", "payload", "occurred_at"].map(Alias::new))
        .values_panic([
            field.into(),
            serde_json::to_string(scope).unwrap_or_default().into(),
            audience.into(),
            payload.to_string().into(),
            occurred_at.into(),
        ])
        .to_owned();
    conn.execute(&insert).await.map(|_| ())
}

#[derive(FromQueryResult)]
struct Row {
    id: i64,
    field: String,
    scope: String,
    audience: Option<String>,
    payload: String,
    occurred_at: DateTime<Utc>,
}

/// Wakes the relay after a commit that recorded events; cheap to clone.
#[derive(Clone)]
pub struct Outbox {
    notify: Arc<Notify>,
}

impl Outbox {
    /// Tells the relay that new rows are committed (it also looks every two seconds).
    pub fn committed(&self) {
        self.notify.notify_one();
    }

    /// An outbox whose relay never runs (for code paths tested without events).
    pub fn detached() -> Self {
        Self { notify: Arc::new(Notify::new()) }
    }
}

/// Starts the relay of `subgraph`'s outbox on `db` to `bus`; it runs until the runtime stops.
pub fn spawn_relay(db: DatabaseConnection, bus: Arc<dyn EventBus>, subgraph: &str) -> Outbox {
    let notify = Arc::new(Notify::new());
    let outbox = Outbox { notify: notify.clone() };
    let subgraph = subgraph.to_owned();
    tokio::spawn(async move {
        let mut backoff = Duration::from_millis(100);
        let mut pruned_at: Option<std::time::Instant> = None;
        loop {
            if pruned_at.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
                pruned_at = Some(std::time::Instant::now());
                let before = Utc::now() - chrono::Duration::from_std(KEEP_PUBLISHED).unwrap_or_default();
                match prune(&db, before).await {
                    Ok(0) => {}
                    Ok(deleted) => tracing::info!(subgraph, deleted, "pruned published outbox rows"),
                    Err(error) => tracing::warn!(subgraph, %error, "pruning the outbox failed; trying again later"),
                }
            }
            match relay_once(&db, bus.as_ref(), &subgraph).await {
                Ok(published) => {
                    backoff = Duration::from_millis(100);
                    if published < BATCH {
                        let _ = tokio::time::timeout(POLL, notify.notified()).await;
                    }
                }
                Err(error) => {
                    tracing::warn!(subgraph, %error, retry_in_ms = backoff.as_millis() as u64, "publishing events failed; they stay in the outbox");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    });
    outbox
}

/// Publishes up to [`BATCH`] unpublished rows in order; how many it published.
async fn relay_once(db: &DatabaseConnection, bus: &dyn EventBus, subgraph: &str) -> anyhow::Result<u64> {
    let select = Query::select()
        .columns(["id", "field", "scope", "audience", "payload", "occurred_at"].map(Alias::new))
        .from(Alias::new(TABLE))
        .and_where(Expr::col(Alias::new("published_at")).is_null())
        .order_by(Alias::new("id"), Order::Asc)
        .limit(BATCH)
        .to_owned();
    let rows = Row::find_by_statement(db.get_database_backend().build(&select)).all(db).await?;
    let mut published = 0;
    for row in rows {
        let event = Event {
            id: format!("{subgraph}:{}", row.id),
            subgraph: subgraph.to_owned(),
            field: row.field,
            scope: serde_json::from_str(&row.scope)?,
            audience: row.audience.as_deref().map(serde_json::from_str).transpose()?,
            payload: serde_json::from_str(&row.payload)?,
            occurred_at: row.occurred_at,
        };
        bus.publish(&event).await?;
        let mark = Query::update()
            .table(Alias::new(TABLE))
            .value(Alias::new("published_at"), Utc::now())
            .and_where(Expr::col(Alias::new("id")).eq(row.id))
            .to_owned();
        db.execute(&mark).await?;
        published += 1;
    }
    Ok(published)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sea_orm::TransactionTrait as _;

    use super::*;
    use crate::events::testing::NatsServer;
    use crate::events::{Delivered, LocalBus, NatsBus};
    use crate::testing::TestDb;

    async fn outbox_db() -> TestDb {
        let test = TestDb::new().await;
        create_table(&SchemaManager::new(&test.db)).await.expect("the table");
        test
    }

    fn scope(region: &str) -> BTreeMap<String, String> {
        BTreeMap::from([("region".to_owned(), region.to_owned())])
    }

    async fn next(live: &mut tokio::sync::broadcast::Receiver<Arc<Delivered>>) -> Arc<Delivered> {
        tokio::time::timeout(Duration::from_secs(90), live.recv())
            .await
            .expect("an event in time")
            .expect("the bus is open")
    }

    async fn unpublished(db: &DatabaseConnection) -> usize {
        let select = Query::select()
            .column(Alias::new("id"))
            .from(Alias::new(TABLE))
            .and_where(Expr::col(Alias::new("published_at")).is_null())
            .to_owned();
        db.query_all(&select).await.expect("rows").len()
    }

    #[tokio::test]
    async fn committed_events_are_published_in_order_and_rolled_back_ones_never() {
        let test = outbox_db().await;
        let bus = LocalBus::new(100);
        let mut live = bus.live();
        let txn = test.db.begin().await.expect("txn");
        record(&txn, "signalEvents", &scope("UTR"), &serde_json::json!({"kind": "RAISED"}), Utc::now())
            .await
            .expect("1");
        record(&txn, "signalEvents", &scope("AMS"), &serde_json::json!({"kind": "ACKNOWLEDGED"}), Utc::now())
            .await
            .expect("2");
        txn.commit().await.expect("commit");
        let txn = test.db.begin().await.expect("txn");
        record(&txn, "signalEvents", &scope("UTR"), &serde_json::json!({"kind": "LOST"}), Utc::now()).await.expect("3");
        txn.rollback().await.expect("rollback");

        let outbox = spawn_relay(test.db.clone(), bus.clone(), "region");
        outbox.committed();
        let (first, second) = (next(&mut live).await, next(&mut live).await);
        assert_eq!((first.seq, first.event.id.as_str()), (1, "region:1"));
        assert_eq!(first.event.scope, scope("UTR"));
        assert_eq!(first.event.payload["kind"], "RAISED");
        assert_eq!((second.seq, second.event.payload["kind"].as_str()), (2, Some("ACKNOWLEDGED")));
        // Marked once stored; the rolled-back row never existed.
        for _ in 0..100 {
            if unpublished(&test.db).await == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(unpublished(&test.db).await, 0);
        assert!(bus.replay(2).await.expect("replay").is_empty(), "nothing else was published");
    }

    #[tokio::test]
    async fn published_rows_are_pruned_after_the_streams_retention_and_unpublished_never() {
        let test = outbox_db().await;
        for n in 0..3 {
            record(&test.db, "signalEvents", &scope("UTR"), &serde_json::json!({ "n": n }), Utc::now())
                .await
                .expect("recorded");
        }
        let old = Utc::now() - chrono::Duration::days(8);
        let recent = Utc::now() - chrono::Duration::days(1);
        for (id, at) in [(1, old), (2, recent)] {
            let mark = Query::update()
                .table(Alias::new(TABLE))
                .value(Alias::new("published_at"), at)
                .and_where(Expr::col(Alias::new("id")).eq(id))
                .to_owned();
            test.db.execute(&mark).await.expect("marked");
        }
        let before = Utc::now() - chrono::Duration::from_std(KEEP_PUBLISHED).expect("a duration");
        assert_eq!(prune(&test.db, before).await.expect("pruned"), 1);
        let select = Query::select()
            .column(Alias::new("id"))
            .from(Alias::new(TABLE))
            .order_by(Alias::new("id"), Order::Asc)
            .to_owned();
        let ids: Vec<i64> = test
            .db
            .query_all(&select)
            .await
            .expect("rows")
            .iter()
            .map(|r| r.try_get::<i64>("", "id").expect("an id"))
            .collect();
        assert_eq!(ids, [2, 3], "the recent published row and the unpublished one stay");
    }

    #[tokio::test]
    async fn an_event_recorded_while_nats_is_down_is_delivered_when_it_returns() {
        let mut nats = NatsServer::start().await;
        let bus = NatsBus::connect(&nats.url()).await.expect("connected");
        let mut live = bus.live();
        let test = outbox_db().await;
        let outbox = spawn_relay(test.db.clone(), bus.clone(), "region");
        record(&test.db, "signalEvents", &scope("UTR"), &serde_json::json!({"n": 1}), Utc::now()).await.expect("1");
        outbox.committed();
        assert_eq!(next(&mut live).await.event.payload["n"], 1);

        nats.stop();
        record(&test.db, "signalEvents", &scope("UTR"), &serde_json::json!({"n": 2}), Utc::now()).await.expect("2");
        outbox.committed();
        // The relay cannot publish: the row waits in the outbox.
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(unpublished(&test.db).await, 1);

        nats.resume().await;
        let delivered = next(&mut live).await;
        assert_eq!((delivered.seq, &delivered.event.payload["n"]), (2, &serde_json::json!(2)));
        // Both are in the stream, once each, for clients that resume.
        let all = bus.replay(0).await.expect("replay");
        assert_eq!(all.iter().map(|d| d.event.id.as_str()).collect::<Vec<_>>(), ["region:1", "region:2"]);
    }

    #[tokio::test]
    async fn publishing_an_event_twice_stores_it_once_on_nats() {
        let nats = NatsServer::start().await;
        let bus = NatsBus::connect(&nats.url()).await.expect("connected");
        let event = crate::events::Event {
            id: "region:7".into(),
            subgraph: "region".into(),
            field: "signalEvents".into(),
            scope: scope("UTR"),
            audience: Some(Audience { organisations: vec!["p1".into()], kinds: Vec::new() }),
            payload: serde_json::json!({}),
            occurred_at: Utc::now(),
        };
        bus.publish(&event).await.expect("first");
        bus.publish(&event).await.expect("again");
        let stored = bus.replay(0).await.expect("replay");
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].event, event);
        assert!(matches!(bus.replay(0).await, Ok(v) if v.len() == 1));
        assert!(bus.replay(1).await.expect("after the last").is_empty());
    }
}
