//! HTTP wiring of the contracting subgraph.

use std::sync::Arc;

use crate::graphql::Owners;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRef, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use ggzhub_kit::server::HttpLimits;
use ggzhub_kit::{Caller, TokenVerifier};
use sea_orm::DatabaseConnection;

use crate::clock::Today;
use crate::graphql::{ContractingSchema, schema_at};
use crate::loader::Loaders;

/// Shared state of the HTTP handlers.
#[derive(Clone)]
pub struct AppState {
    /// The GraphQL schema.
    pub schema: ContractingSchema,
    /// The database.
    pub db: DatabaseConnection,
    /// Verifies the gateway's internal tokens.
    pub verifier: Arc<TokenVerifier>,
    /// Owners of referenced entities.
    pub owners: Owners,
    /// Where today's date comes from.
    pub today: Today,
}

impl FromRef<AppState> for Arc<TokenVerifier> {
    fn from_ref(s: &AppState) -> Self {
        s.verifier.clone()
    }
}

/// The service's router (migrations must have run). `owners` check references to entities the
/// region and national-table subgraphs own.
pub fn router(db: DatabaseConnection, verifier: Arc<TokenVerifier>, owners: Owners, limits: HttpLimits) -> Router {
    router_at(db, verifier, owners, limits, Today::System)
}

/// Like [`router`], with today's date taken from `today` (tests fix it).
pub fn router_at(
    db: DatabaseConnection,
    verifier: Arc<TokenVerifier>,
    owners: Owners,
    limits: HttpLimits,
    today: Today,
) -> Router {
    let state =
        AppState { schema: schema_at(db.clone(), owners.clone(), today), db: db.clone(), verifier, owners, today };
    let routes = Router::new().route("/graphql", post(graphql)).with_state(state);
    ggzhub_kit::server::wrap(crate::AUDIENCE, routes, db, limits)
}

async fn graphql(State(state): State<AppState>, caller: Caller, headers: HeaderMap, body: Bytes) -> Response {
    let asking = caller.clone();
    ggzhub_kit::graphql::execute(crate::AUDIENCE, &state.schema, caller, &headers, body, |req, batches| {
        req.data(Loaders::new(&state.db, batches, state.owners.region.clone(), asking, state.today))
    })
    .await
}
