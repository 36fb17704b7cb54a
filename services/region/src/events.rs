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
//! access matrix then. A signal event also names its *audience*, the organisations that may read
//! it at most ([`signal_audience`]), so that the gateway runs the subscription only for them:
//! the insurers contracting the offer are asked of the contracting subgraph before the change's
//! transaction opens ([`Contractors`]).

use std::collections::{BTreeMap, BTreeSet};
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

use crate::contracted::ContractingClient;
use crate::domain::SignalStatus;
use crate::entity::{care_offer, region, signal};

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

/// Who contracts the offers of signals, learned from the contracting subgraph **before** a
/// change's transaction opens (no network call while a transaction holds locks), for the
/// audience the change's events are addressed to.
///
/// The audience is a pre-filter: the gateway asks the subscription resolver only for
/// subscribers in it, and the resolver still checks each of them against the access matrix with
/// what contracting says at delivery time. So a narrow audience can only leave out, never let
/// in: an insurer whose contract ends after the event was written is refused by the resolver;
/// one whose contract is agreed after it was written does not receive that event (it reads the
/// signal with `continuitySignals`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contractors {
    /// Offer id → the insurers of AGREED contracts valid this year covering it (with the offer's
    /// own provider); `None` when contracting could not be asked.
    known: Option<BTreeMap<String, BTreeSet<String>>>,
}

impl Contractors {
    /// Contracting could not be asked: every insurer may contract the offers (the wide
    /// audience, as before issue 19's load work).
    pub fn unknown() -> Self {
        Self { known: None }
    }

    /// Nobody contracts anything: contracting is not configured, so insurers read only the
    /// signals of the regions they coordinate (see [`crate::contracted`]).
    pub fn none() -> Self {
        Self { known: Some(BTreeMap::new()) }
    }

    /// Asks `client` (none: [`Self::none`]) which insurers contract each of `offers` (offer id →
    /// its provider id) this year; [`Self::unknown`] when it cannot answer (logged).
    pub async fn learn(client: Option<&ContractingClient>, offers: &BTreeMap<String, String>) -> Self {
        let Some(client) = client else { return Self::none() };
        if offers.is_empty() {
            return Self::none();
        }
        use chrono::Datelike as _;
        match client.signal_contractors(offers, Utc::now().year()).await {
            Ok(known) => Self { known: Some(known) },
            Err(error) => {
                tracing::warn!(
                    owner = %client.url(), %error,
                    "could not learn which insurers contract the offers; their signal events go to every insurer"
                );
                Self::unknown()
            }
        }
    }

    /// [`Self::learn`] for the offer `offer_id` of this subgraph's database; [`Self::unknown`]
    /// (nothing asked) when the offer cannot be read: the change then fails in its transaction,
    /// or, should the offer appear meanwhile, its event goes to every insurer.
    pub async fn for_offer(db: &DatabaseConnection, client: Option<&ContractingClient>, offer_id: &str) -> Self {
        match care_offer::Entity::find_by_id(offer_id.to_owned()).one(db).await {
            Ok(Some(offer)) => Self::learn(client, &BTreeMap::from([(offer.id, offer.provider_id)])).await,
            _ if client.is_none() => Self::none(),
            _ => Self::unknown(),
        }
    }

    /// [`Self::for_offer`] for the offer of signal `signal_id`.
    pub async fn for_signal(db: &DatabaseConnection, client: Option<&ContractingClient>, signal_id: &str) -> Self {
        match signal::Entity::find_by_id(signal_id.to_owned()).one(db).await {
            Ok(Some(s)) => Self::learn(client, &BTreeMap::from([(s.offer_id, s.provider_id)])).await,
            _ if client.is_none() => Self::none(),
            _ => Self::unknown(),
        }
    }

    /// The insurers contracting `offer`; `None` when unknown.
    fn of(&self, offer: &str) -> Option<BTreeSet<String>> {
        self.known.as_ref().map(|k| k.get(offer).cloned().unwrap_or_default())
    }
}

/// Who may receive an event of `s` at most (the gateway asks the resolver only for them,
/// `crate::access::can_see_signal` decides): its provider, the region's coordinating insurer,
/// the insurers contracting the offer — every insurer when those are unknown — and the national
/// table once it is escalated.
pub fn signal_audience(
    s: &signal::Model,
    coordinating: Option<&str>,
    contractors: &Contractors,
    escalated: bool,
) -> Audience {
    let mut organisations = vec![s.provider_id.clone()];
    let mut kinds = Vec::new();
    match contractors.of(&s.offer_id) {
        Some(insurers) => {
            organisations.extend(coordinating.map(str::to_owned));
            organisations.extend(insurers);
        }
        None => kinds.push(OrgKind::Insurer.as_str().to_owned()),
    }
    organisations.sort();
    organisations.dedup();
    if escalated || s.status == SignalStatus::Escalated.as_str() {
        kinds.push(OrgKind::NationalTable.as_str().to_owned());
    }
    Audience { organisations, kinds }
}

async fn coordinating_insurer<C: ConnectionTrait>(conn: &C, region_code: &str) -> Result<Option<String>, DbErr> {
    Ok(region::Entity::find_by_id(region_code.to_owned()).one(conn).await?.and_then(|r| r.coordinating_insurer_id))
}

/// Records a `signalEvents` event of `kind` for `s` on `conn` (the change's transaction),
/// addressed to its provider, the region's coordinating insurer (read on `conn`) and
/// `contractors` (learned before the transaction).
pub async fn record_signal<C: ConnectionTrait>(
    conn: &C,
    kind: SignalEventKind,
    s: &signal::Model,
    contractors: &Contractors,
    occurred_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let payload = json!({"kind": kind.as_str(), "signalId": s.id});
    let coordinating = coordinating_insurer(conn, &s.region_code).await?;
    let audience = signal_audience(s, coordinating.as_deref(), contractors, kind == SignalEventKind::Escalated);
    outbox::record_for(conn, SIGNAL_EVENTS, &region_scope(&s.region_code), Some(&audience), &payload, occurred_at).await
}

/// Records the `ESCALATED` event of `s`, with what the national table needs to open an
/// escalation: the region, the offer's category, the signal's description as summary and the
/// escalating organisation. Addressed as [`record_signal`] addresses, plus the national table.
pub async fn record_escalation<C: ConnectionTrait>(
    conn: &C,
    s: &signal::Model,
    category: &str,
    escalated_by: &str,
    contractors: &Contractors,
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
    let coordinating = coordinating_insurer(conn, &s.region_code).await?;
    let audience = signal_audience(s, coordinating.as_deref(), contractors, true);
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
///
/// Who contracts the due signals' offers is asked of `contracting` once per batch, before the
/// batch's transactions (see [`Contractors`]).
pub async fn sweep_overdue(db: &DatabaseConnection, contracting: Option<&ContractingClient>) -> Result<usize, DbErr> {
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
        let offers = due.iter().map(|s| (s.offer_id.clone(), s.provider_id.clone())).collect();
        let contractors = Contractors::learn(contracting, &offers).await;
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
                record_signal(&txn, SignalEventKind::Overdue, &s, &contractors, s.acknowledgement_deadline).await?;
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
pub fn spawn_deadline_sweeper(
    db: DatabaseConnection,
    contracting: Option<ContractingClient>,
    outbox: Outbox,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every.max(Duration::from_millis(10)));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match sweep_overdue(&db, contracting.as_ref()).await {
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
