//! What a subgraph call gives back: the parsed answer or why there is none. Shared by the client
//! ([`super::fetch`]) and the retries and circuit breaker around it ([`super::resilience`]).

use apollo_compiler::response::JsonMap;

use crate::execute::data::Data;

/// What a subgraph answered, parsed.
#[derive(Debug, Clone)]
pub struct SubgraphResponse {
    /// `data`, unless absent or `null`.
    pub data: Option<Data>,
    pub errors: Vec<JsonMap>,
    /// The subgraph did not resolve a subscription's event for this caller
    /// (`extensions.ggzhubEvent: "skip"`, see `ggzhub_kit::graphql::execute`).
    pub event_skipped: bool,
}

/// Why a subgraph call produced no GraphQL response.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FetchFailure {
    #[error("subgraph '{service}' is not in the supergraph")]
    UnknownService { service: String },
    #[error("subgraph '{service}' did not answer in time")]
    Timeout { service: String },
    #[error("subgraph '{service}' could not be reached")]
    Unreachable { service: String },
    #[error("subgraph '{service}' answered HTTP {status}")]
    Status { service: String, status: u16 },
    #[error("subgraph '{service}' sent a response that is not GraphQL JSON")]
    Invalid { service: String },
    #[error("subgraph '{service}' is unavailable: its circuit breaker is open after repeated failures")]
    CircuitOpen { service: String },
}

impl FetchFailure {
    /// The error code a client sees for this failure.
    pub fn code(&self) -> crate::error::GatewayError {
        match self {
            Self::Invalid { .. } => crate::error::GatewayError::SubgraphInvalidResponse,
            _ => crate::error::GatewayError::SubgraphUnavailable,
        }
    }
}
