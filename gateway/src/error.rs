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
}

impl GraphqlError {
    pub fn new(message: impl Into<String>, code: &str) -> Self {
        let mut extensions = JsonMap::new();
        extensions.insert("code", JsonValue::from(code));
        Self { message: message.into(), locations: Vec::new(), path: None, extensions }
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
