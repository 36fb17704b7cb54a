//! HTTP wiring of the national-table subgraph.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRef, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use ggzhub_kit::refs::RefChecker;
use ggzhub_kit::server::HttpLimits;
use ggzhub_kit::{Caller, TokenVerifier};
use sea_orm::DatabaseConnection;

use crate::graphql::{NationalTableSchema, schema, schema_with_outbox};
use crate::loader::Loaders;

/// Shared state of the HTTP handlers.
#[derive(Clone)]
pub struct AppState {
    /// The GraphQL schema.
    pub schema: NationalTableSchema,
    /// The database.
    pub db: DatabaseConnection,
    /// Verifies the gateway's internal tokens.
    pub verifier: Arc<TokenVerifier>,
}

impl FromRef<AppState> for Arc<TokenVerifier> {
    fn from_ref(s: &AppState) -> Self {
        s.verifier.clone()
    }
}

/// The service's router (migrations must have run). `region` checks references to entities the
/// region subgraph owns.
///
/// Without a bus, escalation events are recorded in the outbox but wait there (no relay runs)
/// and escalated continuity signals open no escalation: use [`router_with_events`] to serve.
pub fn router(db: DatabaseConnection, verifier: Arc<TokenVerifier>, region: RefChecker, limits: HttpLimits) -> Router {
    routes(db.clone(), verifier, schema(db, region), limits)
}

/// [`router`] on the event `bus`: starts the relay of this subgraph's outbox to the bus (its
/// escalation events) and the consumer that opens an escalation for every continuity signal
/// escalated in a region ([`crate::follow_through`]). Call it inside the Tokio runtime.
pub fn router_with_events(
    db: DatabaseConnection,
    verifier: Arc<TokenVerifier>,
    region: RefChecker,
    limits: HttpLimits,
    bus: Arc<dyn ggzhub_kit::events::EventBus>,
) -> Router {
    let outbox = ggzhub_kit::outbox::spawn_relay(db.clone(), bus.clone(), crate::events::SUBGRAPH);
    crate::follow_through::spawn(db.clone(), bus, outbox.clone());
    routes(db.clone(), verifier, schema_with_outbox(db, region, outbox), limits)
}

fn routes(
    db: DatabaseConnection,
    verifier: Arc<TokenVerifier>,
    schema: NationalTableSchema,
    limits: HttpLimits,
) -> Router {
    let state = AppState { schema, db: db.clone(), verifier };
    let routes = Router::new().route("/graphql", post(graphql)).with_state(state);
    ggzhub_kit::server::wrap(crate::AUDIENCE, routes, db, limits)
}

async fn graphql(State(state): State<AppState>, caller: Caller, headers: HeaderMap, body: Bytes) -> Response {
    ggzhub_kit::graphql::execute(crate::AUDIENCE, &state.schema, caller, &headers, body, |req, batches| {
        req.data(Loaders::new(&state.db, batches))
    })
    .await
}
