//! HTTP wiring of the region subgraph: `/graphql` behind the internal-token check, plus the
//! kit's health endpoints and layers.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRef, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use ggzhub_kit::events::EventBus;
use ggzhub_kit::outbox::Outbox;
use ggzhub_kit::server::HttpLimits;
use ggzhub_kit::{Caller, TokenVerifier};
use sea_orm::DatabaseConnection;

use crate::contracted::{ContractedOffersCache, ContractingClient};
use crate::graphql::{RegionSchema, schema, schema_with_outbox};
use crate::loader::Loaders;

/// Shared state of the HTTP handlers.
#[derive(Clone)]
pub struct AppState {
    /// The GraphQL schema.
    pub schema: RegionSchema,
    /// The database.
    pub db: DatabaseConnection,
    /// Verifies the gateway's internal tokens.
    pub verifier: Arc<TokenVerifier>,
    /// Asks the contracting subgraph which offers an insurer contracts (`None`: not configured,
    /// insurers then read only the signals of the regions they coordinate).
    pub contracting: Option<ContractingClient>,
}

impl FromRef<AppState> for Arc<TokenVerifier> {
    fn from_ref(s: &AppState) -> Self {
        s.verifier.clone()
    }
}

/// The service's router (migrations must have run), without the contracting subgraph: insurers
/// read the signals of the regions they coordinate only.
pub fn router(db: DatabaseConnection, verifier: Arc<TokenVerifier>, limits: HttpLimits) -> Router {
    router_with_contracting(db, verifier, None, limits)
}

/// The service's router (migrations must have run). With `contracting`, an insurer also reads
/// the continuity signals of the offers its agreed contracts cover (see [`crate::contracted`]).
///
/// Without an event bus: changes still write their events to the outbox table, but nothing in
/// this process publishes them (a process serving [`router_with_events`] on the same database
/// would), and no deadline sweep runs.
pub fn router_with_contracting(
    db: DatabaseConnection,
    verifier: Arc<TokenVerifier>,
    contracting: Option<ContractingClient>,
    limits: HttpLimits,
) -> Router {
    router_with_schema(schema(db.clone()), db, verifier, contracting, limits)
}

/// Like [`router`], with the calendar's "now" taken from `clock` (tests pin the instant).
pub fn router_at(
    db: DatabaseConnection,
    verifier: Arc<TokenVerifier>,
    limits: HttpLimits,
    clock: ggzhub_kit::calendar::Clock,
) -> Router {
    router_with_schema(crate::graphql::schema_at(db.clone(), clock), db, verifier, None, limits)
}

/// How the region subgraph takes part in events (issue 19).
#[derive(Clone)]
pub struct Events {
    /// Where the outbox relay publishes this subgraph's events.
    pub bus: Arc<dyn EventBus>,
    /// How often the deadline sweep looks for signals that became overdue
    /// ([`crate::events::sweep_overdue`]).
    pub sweep_every: Duration,
}

impl Events {
    /// Events published to `bus`, deadlines swept every 30 seconds.
    pub fn new(bus: Arc<dyn EventBus>) -> Self {
        Self { bus, sweep_every: crate::events::DEFAULT_SWEEP_EVERY }
    }
}

/// The service's router with events: starts the outbox relay of this subgraph to `events.bus`
/// and the deadline sweep (both run until the runtime stops), and wakes the relay after each
/// committed change. Must be called inside a Tokio runtime. Several replicas may serve the same
/// database: the bus keeps an event once, and a signal becomes overdue once.
pub fn router_with_events(
    db: DatabaseConnection,
    verifier: Arc<TokenVerifier>,
    contracting: Option<ContractingClient>,
    events: Events,
    limits: HttpLimits,
) -> Router {
    let outbox = start_events_with(&db, &events, contracting.clone());
    router_with_schema(schema_with_outbox(db.clone(), outbox), db, verifier, contracting, limits)
}

/// Starts the outbox relay to `events.bus` and the deadline sweep on `db`, without contracting
/// (overdue events are addressed to the provider and the coordinating insurer only); the
/// returned outbox wakes the relay. (For a process that builds its router itself.)
pub fn start_events(db: &DatabaseConnection, events: &Events) -> Outbox {
    start_events_with(db, events, None)
}

/// [`start_events`], the sweep asking `contracting` which insurers contract the overdue
/// signals' offers (what [`router_with_events`] does).
pub fn start_events_with(db: &DatabaseConnection, events: &Events, contracting: Option<ContractingClient>) -> Outbox {
    let outbox = ggzhub_kit::outbox::spawn_relay(db.clone(), events.bus.clone(), crate::events::SUBGRAPH);
    crate::events::spawn_deadline_sweeper(db.clone(), contracting, outbox.clone(), events.sweep_every);
    outbox
}

fn router_with_schema(
    schema: RegionSchema,
    db: DatabaseConnection,
    verifier: Arc<TokenVerifier>,
    contracting: Option<ContractingClient>,
    limits: HttpLimits,
) -> Router {
    let state = AppState { schema, db: db.clone(), verifier, contracting };
    let routes = Router::new().route("/graphql", post(graphql)).with_state(state);
    ggzhub_kit::server::wrap(crate::AUDIENCE, routes, db, limits)
}

async fn graphql(State(state): State<AppState>, caller: Caller, headers: HeaderMap, body: Bytes) -> Response {
    let contracted = ContractedOffersCache::new(state.contracting.clone());
    ggzhub_kit::graphql::execute(crate::AUDIENCE, &state.schema, caller, &headers, body, |req, batches| {
        req.data(Loaders::new(&state.db, batches)).data(contracted)
    })
    .await
}
