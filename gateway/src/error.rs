//! GraphQL errors as the gateway returns them, and the codes it uses.

use apollo_compiler::response::{JsonMap, JsonValue};
use serde::Serialize;

/// Codes the gateway itself puts in `extensions.code`.
pub mod code {
    pub const GRAPHQL_PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
    pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
    pub const OPERATION_NOT_FOUND: &str = "OPERATION_NOT_FOUND";
    pub const QUERY_PLANNING_FAILED: &str = "QUERY_PLANNING_FAILED";
    pub const SUBGRAPH_UNAVAILABLE: &str = "SUBGRAPH_UNAVAILABLE";
    pub const SUBGRAPH_INVALID_RESPONSE: &str = "SUBGRAPH_INVALID_RESPONSE";
    pub const DOWNSTREAM_SERVICE_ERROR: &str = "DOWNSTREAM_SERVICE_ERROR";
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const INTERNAL: &str = "INTERNAL";
    pub const NOT_READY: &str = "NOT_READY";
    pub const INTROSPECTION_DISABLED: &str = "INTROSPECTION_DISABLED";
    pub const CSRF_PREVENTION: &str = "CSRF_PREVENTION";
    /// The request body is over `server.body_limit` (counted after decompression): HTTP 413.
    pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
    /// A `Content-Encoding` the gateway cannot decompress: HTTP 415.
    pub const UNSUPPORTED_CONTENT_ENCODING: &str = "UNSUPPORTED_CONTENT_ENCODING";
    /// More operations in one batch than `server.batching.max_size`.
    pub const BATCH_LIMIT_EXCEEDED: &str = "BATCH_LIMIT_EXCEEDED";
    /// The operation's estimated cost is over `limits.max_cost`.
    pub const COST_ESTIMATED_TOO_EXPENSIVE: &str = "COST_ESTIMATED_TOO_EXPENSIVE";
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    pub const PERSISTED_QUERY_NOT_IN_LIST: &str = "PERSISTED_QUERY_NOT_IN_LIST";
    pub const PERSISTED_QUERY_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
    pub const PERSISTED_QUERY_HASH_MISMATCH: &str = "PERSISTED_QUERY_HASH_MISMATCH";
    pub const PERSISTED_QUERY_NOT_SUPPORTED: &str = "PERSISTED_QUERY_NOT_SUPPORTED";
}

/// One step of an error's `path`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum PathSegment {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct GraphqlError {
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<Location>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<Vec<PathSegment>>,
    #[serde(skip_serializing_if = "JsonMap::is_empty")]
    pub extensions: JsonMap,
    /// Written by a subgraph (not by the gateway): subject to redaction.
    #[serde(skip)]
    pub from_subgraph: bool,
}

/// Which subgraph error messages reach clients: those with a code in `exposed_codes` (the
/// codes our subgraphs use for messages written for callers); others become
/// [`REDACTED`] with their code kept. Extensions other than `code` and `serviceName` are
/// dropped unless `extensions` is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubgraphErrorPolicy {
    pub exposed_codes: Vec<String>,
    pub extensions: bool,
}

/// The message of a redacted subgraph error.
pub const REDACTED: &str = "Subgraph errors redacted";

impl Default for SubgraphErrorPolicy {
    fn default() -> Self {
        Self {
            exposed_codes: ["BAD_USER_INPUT", "FORBIDDEN", "NOT_FOUND", "CONFLICT", "UNAUTHENTICATED"]
                .into_iter()
                .map(str::to_owned)
                .collect(),
            extensions: false,
        }
    }
}

impl SubgraphErrorPolicy {
    /// Redacts what a subgraph wrote, as configured; the gateway's own errors are untouched.
    pub fn apply(&self, error: &mut GraphqlError) {
        if !error.from_subgraph {
            return;
        }
        let code = error.extensions.get("code").and_then(JsonValue::as_str).unwrap_or("").to_owned();
        if !self.exposed_codes.contains(&code) {
            error.message = REDACTED.to_owned();
        }
        if !self.extensions {
            error.extensions.retain(|key, _| key.as_str() == "code" || key.as_str() == "serviceName");
        }
    }
}

impl GraphqlError {
    pub fn new(message: impl Into<String>, code: &str) -> Self {
        let mut extensions = JsonMap::new();
        extensions.insert("code", JsonValue::from(code));
        Self { message: message.into(), locations: Vec::new(), path: None, extensions, from_subgraph: false }
    }

    #[must_use]
    pub fn with_path(mut self, path: Vec<PathSegment>) -> Self {
        self.path = Some(path);
        self
    }

    #[must_use]
    pub fn with_extension(mut self, key: &str, value: impl Into<JsonValue>) -> Self {
        self.extensions.insert(key.to_owned(), value.into());
        self
    }

    pub fn code(&self) -> Option<&str> {
        self.extensions.get("code").and_then(JsonValue::as_str)
    }

    /// Converts one of apollo-compiler's errors (validation, variable coercion), keeping its
    /// message and locations.
    pub fn from_compiler(error: apollo_compiler::response::GraphQLError, code: &str) -> Self {
        let mut converted = Self::new(error.message, code);
        converted.locations = error.locations.iter().map(|l| Location { line: l.line, column: l.column }).collect();
        converted
    }
}
