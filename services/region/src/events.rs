//! Events of the region subgraph (issue 19): what its changes tell subscribers, written to the
//! outbox ([`ggzhub_kit::outbox`]) in the same transaction as the change, and the deadline
//! sweep that makes an unacknowledged signal overdue.
//!
//! Two subscription fields are fed, both scoped by region (`{"region": <code>}`):
//!
//! - `signalEvents` — payload `{"kind": RAISED|UPDATED|ACKNOWLEDGED|RESOLVED|ESCALATED|OVERDUE,
//!   "signalId": …}`; an `ESCALATED` event also carries what the national table needs to open an
//!   escalation without asking the region subgraph: `regionCode`, `category` (the offer's),
//!   `summary` (the signal's description) and `escalatedBy` (the chair's organisation id).
//! - `offerStatusChanges` — payload `{"offerId", "previousStatus" (null for a new offer),
//!   "status"}` whenever an offer's status changes (created, changed, closed).
//!
//! The payload names the record, not what a subscriber sees: the subscription resolvers
//! ([`crate::graphql::subscription`]) load the record again for each subscriber and apply the
//! access matrix then.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ggzhub_kit::OrgKind;
use ggzhub_kit::events::Audience;
use ggzhub_kit::outbox::{self, Outbox};
use ggzhub_kit::string_enum;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use serde_json::json;

use crate::domain::SignalStatus;
use crate::entity::{care_offer, signal};

/// The subscription field of continuity-signal events.
pub const SIGNAL_EVENTS: &str = "signalEvents";
/// The subscription field of offer status changes.
pub const OFFER_STATUS_CHANGES: &str = "offerStatusChanges";
/// The name events of this subgraph carry ([`ggzhub_kit::events::Event::subgraph`]).
pub const SUBGRAPH: &str = "region";
/// How often the deadline sweep runs by default.
pub const DEFAULT_SWEEP_EVERY: Duration = Duration::from_secs(30);
/// Signals made overdue per statement round of one sweep.
const SWEEP_BATCH: u64 = 100;

string_enum! {
    /// What happened to a continuity signal (vroegsignalering).
    SignalEventKind {
        /// Raised by its provider.
        Raised => "RAISED",
        /// Changed by its provider (severity, description, expected date).
        Updated => "UPDATED",
        /// Acknowledged by the region's coordinating insurer, with its response.
        Acknowledged => "ACKNOWLEDGED",
        /// Resolved by its provider.
        Resolved => "RESOLVED",
        /// Escalated to the national table by the region's chair.
        Escalated => "ESCALATED",
        /// Its acknowledgement deadline passed while it was still open (emitted once).
        Overdue => "OVERDUE",
    }
}

fn region_scope(region: &str) -> BTreeMap<String, String> {
    BTreeMap::from([("region".to_owned(), region.to_owned())])
}

/// Who may receive an event of `s` at most (the gateway asks the resolver only for them): its
/// provider, insurers (the coordinating one, and those contracting the offer: which ones is
/// contracting's to say, per subscriber), and the national table once it is escalated
/// (`crate::access::can_see_signal`).
fn signal_audience(s: &signal::Model, escalated: bool) -> Audience {
    let mut kinds = vec![OrgKind::Insurer.as_str().to_owned()];
    if escalated || s.status == SignalStatus::Escalated.as_str() {
        kinds.push(OrgKind::NationalTable.as_str().to_owned());
    }
    Audience { organisations: vec![s.provider_id.clone()], kinds }
}

/// Records a `signalEvents` event of `kind` for `s` on `conn` (the change's transaction).
pub async fn record_signal<C: ConnectionTrait>(
    conn: &C,
    kind: SignalEventKind,
    s: &signal::Model,
    occurred_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let payload = json!({"kind": kind.as_str(), "signalId": s.id});
    let audience = signal_audience(s, kind == SignalEventKind::Escalated);
    outbox::record_for(conn, SIGNAL_EVENTS, &region_scope(&s.region_code), Some(&audience), &payload, occurred_at).await
}

/// Records the `ESCALATED` event of `s`, with what the national table needs to open an
/// escalation: the region, the offer's category, the signal's description as summary and the
/// escalating organisation.
pub async fn record_escalation<C: ConnectionTrait>(
    conn: &C,
    s: &signal::Model,
    category: &str,
    escalated_by: &str,
    occurred_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let payload = json!({
        "kind": SignalEventKind::Escalated.as_str(),
        "signalId": s.id,
        "regionCode": s.region_code,
        "category": category,
        "summary": s.description,
        "escalatedBy": escalated_by,
    });
    let audience = signal_audience(s, true);
    outbox::record_for(conn, SIGNAL_EVENTS, &region_scope(&s.region_code), Some(&audience), &payload, occurred_at).await
}

/// Records an `offerStatusChanges` event when `previous` (`None` for a new offer) differs from
/// the offer's status now; nothing otherwise.
pub async fn record_offer_status<C: ConnectionTrait>(
    conn: &C,
    offer: &care_offer::Model,
    previous: Option<&str>,
    occurred_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    if previous == Some(offer.status.as_str()) {
        return Ok(());
    }
    let payload = json!({"offerId": offer.id, "previousStatus": previous, "status": offer.status});
    outbox::record(conn, OFFER_STATUS_CHANGES, &region_scope(&offer.region_code), &payload, occurred_at).await
}

/// Makes every OPEN signal whose acknowledgement deadline has passed overdue, recording its
/// `OVERDUE` event; returns how many it made overdue (call [`Outbox::committed`] when > 0).
///
/// Exactly once, also with several replicas sweeping at the same time and across restarts: each
/// signal is claimed by one conditional statement,
/// `UPDATE continuity_signals SET overdue_emitted_at = now WHERE id = ? AND overdue_emitted_at
/// IS NULL AND status = 'OPEN' AND acknowledgement_deadline < now`, in one transaction with its
/// outbox row, and the event is recorded only when that statement changed the row. The mark and
/// the event commit together or not at all, so a crash leaves the signal unmarked (swept again)
/// and never marked without its event. On PostgreSQL a second replica's UPDATE of the same row
/// waits for the first transaction's row lock and then re-checks its WHERE clause against the
/// committed row (READ COMMITTED), finds it marked and changes nothing; an acknowledgement that
/// commits first makes the status check fail likewise. SQLite has one writer at a time, so the
/// second statement sees the first's commit.
///
/// The mark is not a change by an organisation: the signal's version and `updated_*` stay, so an
/// insurer acknowledging with the version it read is not refused because the deadline passed.
/// `ContinuitySignal.overdue` keeps its meaning (OPEN and past the deadline), whether or not the
/// sweep has run yet.
pub async fn sweep_overdue(db: &DatabaseConnection) -> Result<usize, DbErr> {
    let mut emitted = 0;
    loop {
        let now = Utc::now();
        let due = signal::Entity::find()
            .filter(signal::Column::Status.eq(SignalStatus::Open.as_str()))
            .filter(signal::Column::AcknowledgementDeadline.lt(now))
            .filter(signal::Column::OverdueEmittedAt.is_null())
            .order_by_asc(signal::Column::AcknowledgementDeadline)
            .order_by_asc(signal::Column::Id)
            .limit(SWEEP_BATCH)
            .all(db)
            .await?;
        let found = due.len() as u64;
        for s in due {
            let txn = db.begin().await?;
            let claimed = signal::Entity::update_many()
                .col_expr(signal::Column::OverdueEmittedAt, Expr::value(now))
                .filter(signal::Column::Id.eq(s.id.clone()))
                .filter(signal::Column::OverdueEmittedAt.is_null())
                .filter(signal::Column::Status.eq(SignalStatus::Open.as_str()))
                .filter(signal::Column::AcknowledgementDeadline.lt(now))
                .exec(&txn)
                .await?;
            if claimed.rows_affected == 1 {
                record_signal(&txn, SignalEventKind::Overdue, &s, s.acknowledgement_deadline).await?;
                ggzhub_kit::changes::record(&txn, "ContinuitySignal", &s.id, false).await?;
                emitted += 1;
            }
            txn.commit().await?;
        }
        if found < SWEEP_BATCH {
            return Ok(emitted);
        }
    }
}

/// Runs [`sweep_overdue`] now and then every `every`, waking `outbox`'s relay after a sweep that
/// recorded events; runs until the runtime stops. A failed sweep is logged and retried at the
/// next tick (nothing is marked without its event, so nothing is lost).
pub fn spawn_deadline_sweeper(db: DatabaseConnection, outbox: Outbox, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every.max(Duration::from_millis(10)));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match sweep_overdue(&db).await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::info!(signals = n, "continuity signals became overdue");
                    outbox.committed();
                }
                Err(error) => tracing::warn!(%error, "the deadline sweep failed; it runs again at the next tick"),
            }
        }
    })
}
