//! The request as the engine's steps share it: one [`RequestContext`] per request, built by the
//! HTTP layer (or a test) once the caller is known and admitted, and passed by reference from
//! step to step instead of the request, its transport and its caller one by one.

use apollo_compiler::response::JsonMap;

use crate::execute::SubgraphHeaders;

/// One GraphQL request as received.
#[derive(Debug, Clone, Default)]
pub struct GraphqlRequest {
    pub query: String,
    pub operation_name: Option<String>,
    pub variables: JsonMap,
}

/// How the request arrived, for the rules that depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Post,
    /// GET: queries only.
    Get,
}

/// One request on its way through the steps. Only references and a copy type: building and
/// passing it allocates nothing.
#[derive(Clone, Copy)]
pub struct RequestContext<'a> {
    /// The request (with the registered text in `query` when only a persisted hash was sent).
    pub request: &'a GraphqlRequest,
    /// How it arrived: GET requests may only query.
    pub transport: Transport,
    /// Who is calling: what the access rules see ([`SubgraphHeaders::access`]), who shares an
    /// execution ([`SubgraphHeaders::identity`]) and the headers of its subgraph calls.
    pub caller: &'a dyn SubgraphHeaders,
}
