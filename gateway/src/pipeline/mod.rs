//! The request pipeline, one module per step:
//! [`parse`] → [`validate`] → [`operation`] (pick the operation) → [`variables`] (coerce) →
//! planning ([`crate::plan`]) → execution ([`crate::execute`]) → shaping ([`crate::shape`]).
//! [`crate::gateway`] drives it and caches the steps that do not depend on variables.

pub mod operation;
pub mod parse;
pub mod validate;
pub mod variables;

/// A failed step that ends the request before execution (a GraphQL "request error": the
/// response has no `data`).
#[derive(Debug, Clone)]
pub struct RequestFailure {
    pub errors: Vec<crate::error::GraphqlError>,
    /// HTTP status for `application/graphql-response+json`.
    pub status: u16,
}

impl RequestFailure {
    pub fn new(status: u16, errors: Vec<crate::error::GraphqlError>) -> Self {
        Self { errors, status }
    }
}
