//! HTTP wiring of the region subgraph: `/graphql` behind the internal-token check, plus the
//! kit's health endpoints and layers.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRef, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use ggzhub_kit::server::HttpLimits;
use ggzhub_kit::{Caller, TokenVerifier};
use sea_orm::DatabaseConnection;

use crate::contracted::{ContractedOffersCache, ContractingClient};
use crate::graphql::{RegionSchema, schema};
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
pub fn router_with_contracting(
    db: DatabaseConnection,
    verifier: Arc<TokenVerifier>,
    contracting: Option<ContractingClient>,
    limits: HttpLimits,
) -> Router {
    let state = AppState { schema: schema(db.clone()), db: db.clone(), verifier, contracting };
    let routes = Router::new().route("/graphql", post(graphql)).with_state(state);
    ggzhub_kit::server::wrap(routes, db, limits)
}

async fn graphql(State(state): State<AppState>, caller: Caller, headers: HeaderMap, body: Bytes) -> Response {
    let contracted = ContractedOffersCache::new(state.contracting.clone());
    ggzhub_kit::graphql::execute(&state.schema, caller, &headers, body, |req, batches| {
        req.data(Loaders::new(&state.db, batches)).data(contracted)
    })
    .await
}
