//! The operation pipeline, one module per step, in the order [`crate::engine`] runs them:
//! [`parse`] → [`validate`] (against the API schema, or the public contract) → [`operation`]
//! (pick the operation) → [`limits`] → [`cost`] → planning ([`crate::plan`]), all cached per
//! document; then per request [`authz`] (the caller's access rules, narrowing the plan when
//! needed) → [`variables`] (coerce; the cost again when list sizes depend on them) → execution
//! ([`crate::execute`]) → shaping ([`crate::respond`]). The steps share one
//! [`crate::context::RequestContext`]. A step that ends the request returns a [`RequestFailure`],
//! whose status is its kind's in the gateway's error table ([`GatewayError`]).

use crate::error::GatewayError;

pub mod authz;
pub mod cost;
pub mod deprecated;
pub mod limits;
pub mod operation;
pub mod parse;
pub mod validate;
pub mod variables;

/// A failed step that ends the request before execution (a GraphQL "request error": the
/// response has no `data`).
#[derive(Debug, Clone)]
pub struct RequestFailure {
    pub errors: Vec<crate::error::GraphqlError>,
    /// HTTP status for `application/graphql-response+json`: the status of `kind` in the gateway's
    /// error table.
    pub status: u16,
}

impl RequestFailure {
    /// The request ends with `errors`, at the status `kind` has in the gateway's error table.
    pub fn new(kind: GatewayError, errors: Vec<crate::error::GraphqlError>) -> Self {
        Self { errors, status: kind.status().as_u16() }
    }

    /// The request ends with one error of `kind`.
    pub fn refuse(kind: GatewayError, message: impl Into<String>) -> Self {
        Self::new(kind, vec![kind.error(message)])
    }
}

/// Most errors a parse or validation failure reports. A garbage document yields about one error
/// per character (up to the token limit): reporting, and caching, all of them turned a 14 KB
/// request into a 2 MB response and a 12 MB plan-cache entry. graphql-js stops at 100 too.
pub const MAX_ERRORS: usize = 100;

/// The first [`MAX_ERRORS`] of `total` errors, then one saying how many were left out.
fn capped(
    first: impl Iterator<Item = crate::error::GraphqlError>,
    total: usize,
    code: GatewayError,
) -> Vec<crate::error::GraphqlError> {
    let mut errors: Vec<_> = first.take(MAX_ERRORS).collect();
    if total > errors.len() {
        errors.push(crate::error::GraphqlError::new(
            format!("too many errors: {total} in all, only the first {} are reported", errors.len()),
            code,
        ));
    }
    errors
}
