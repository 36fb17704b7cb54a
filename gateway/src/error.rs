//! GraphQL errors as the gateway returns them, and the one table of the codes it uses
//! ([`GatewayError`]: each code's `extensions.code`, message class and HTTP status).

use apollo_compiler::response::{JsonMap, JsonValue};
use axum::http::StatusCode;
use ggzhub_kit::ErrorCode;
use serde::Serialize;

/// Who may read the message of an error with a given code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageClass {
    /// Written for the client: it names what was wrong with the request.
    ClientSafe,
    /// About the gateway's own failure: the details belong in the logs; the client is told
    /// [`INTERNAL_MESSAGE`].
    Internal,
}

/// The message a client gets for an internal error.
pub const INTERNAL_MESSAGE: &str = "internal error";

/// The gateway's own error codes, in one table: each with the string it puts in
/// `extensions.code`, who may read its message, and the HTTP status of a request it ends
/// (`application/graphql-response+json`; see [`crate::http`] for `application/json`). Errors in a
/// response that still has `data` (a subgraph failing, a field the caller may not see) keep the
/// status of that response, 200. The codes the services share come from
/// [`ggzhub_kit::ErrorCode`] ([`GatewayError::kit`]), so their strings and statuses are the kit's.
///
/// Messages of [`MessageClass::ClientSafe`] codes are written for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GatewayError {
    // HTTP in.
    /// A malformed request (parameters, body, batch entry, query string): 400, `BAD_REQUEST`.
    BadRequest,
    /// An `Accept` header that offers neither response media type: 406, `BAD_REQUEST`.
    NotAcceptable,
    /// A POST body that is not `application/json`: 415, `BAD_REQUEST`.
    UnsupportedMediaType,
    /// A mutation sent with GET: 405, `BAD_REQUEST` (the answer names `Allow: POST`).
    MethodNotAllowed,
    /// A GET request a browser could send cross-site without a preflight: 400.
    CsrfPrevention,
    /// A body over `server.body_limit` (counted after decompression): 413.
    PayloadTooLarge,
    /// A `Content-Encoding` the gateway cannot decompress: 415.
    UnsupportedContentEncoding,
    /// More operations in one batch than `server.batching.max_size`: 400.
    BatchLimitExceeded,
    // Identity and admission.
    /// No valid token: the kit's `UNAUTHENTICATED`, 401.
    Unauthenticated,
    /// Over the rate limit of the caller's organisation or address: 429.
    RateLimited,
    /// Every execution slot taken and the queue full, a wait for a slot over, or the caller's
    /// organisation holding its share of them (`[admission]`): 503 with `Retry-After`.
    Overloaded,
    /// More subscriptions than `[subscriptions]` allows for the caller's organisation or on one
    /// WebSocket connection: 429.
    SubscriptionLimit,
    /// A subscription's client read its events too slowly and fell a whole buffer behind: its
    /// stream ends with this error and the client resumes from its last event id (503).
    SubscriptionTooSlow,
    /// No event stream (or it is unreachable), or a resumed subscription asked for events the
    /// stream no longer keeps: 503.
    EventsUnavailable,
    /// One event's answer is larger than `[subscriptions] max_message_bytes`: it is replaced by
    /// this error (413).
    SubscriptionMessageTooLarge,
    /// Only a hash was sent, and trusted documents are off: 400.
    PersistedQueryNotSupported,
    /// Only a hash was sent, and no registered document has it: 404.
    PersistedQueryNotFound,
    /// The hash sent is not the SHA-256 of the query sent: 400.
    PersistedQueryHashMismatch,
    /// The operation is not on the caller's trusted documents: 403.
    PersistedQueryNotInList,
    // The operation pipeline.
    /// The document does not parse: 400.
    ParseFailed,
    /// The document is not valid against the schema: 400.
    ValidationFailed,
    /// The operation to run cannot be picked from the document: 400.
    OperationNotFound,
    /// A bad value (variables, an unrepresentable literal): the kit's `BAD_USER_INPUT`, 400.
    BadUserInput,
    /// Introspection while `introspection` is off: 400.
    IntrospectionDisabled,
    /// Over `limits.max_depth`: 400.
    MaxDepthLimit,
    /// Over `limits.max_aliases`: 400.
    MaxAliasesLimit,
    /// Over `limits.max_root_fields`: 400.
    MaxRootFieldsLimit,
    /// Over `limits.max_directives`: 400.
    MaxDirectivesLimit,
    /// Over `limits.max_selections`: 400.
    MaxSelectionsLimit,
    /// The estimated cost is over `limits.max_cost`: 400.
    CostEstimatedTooExpensive,
    /// A selection the caller may not see: 403 when the whole operation is refused for it
    /// (reject mode), else an error beside `null` in the data.
    UnauthorizedFieldOrType,
    // Planning.
    /// The planner failed on a valid operation: 500.
    QueryPlanningFailed,
    /// No supergraph is loaded yet: 503.
    NotReady,
    // Execution and subgraph calls (errors beside data).
    /// A subgraph could not be reached or answered with an HTTP error: the kit's
    /// `SUBGRAPH_UNAVAILABLE`.
    SubgraphUnavailable,
    /// A subgraph answered something that is not a GraphQL response, or data of the wrong shape.
    SubgraphInvalidResponse,
    /// A subgraph's own error that carries no code.
    DownstreamServiceError,
    /// The gateway failed: the kit's `INTERNAL`, 500.
    Internal,
}

impl GatewayError {
    /// Every code, in the table's order.
    pub const ALL: [Self; 37] = [
        Self::BadRequest,
        Self::NotAcceptable,
        Self::UnsupportedMediaType,
        Self::MethodNotAllowed,
        Self::CsrfPrevention,
        Self::PayloadTooLarge,
        Self::UnsupportedContentEncoding,
        Self::BatchLimitExceeded,
        Self::Unauthenticated,
        Self::RateLimited,
        Self::Overloaded,
        Self::SubscriptionLimit,
        Self::SubscriptionTooSlow,
        Self::EventsUnavailable,
        Self::SubscriptionMessageTooLarge,
        Self::PersistedQueryNotSupported,
        Self::PersistedQueryNotFound,
        Self::PersistedQueryHashMismatch,
        Self::PersistedQueryNotInList,
        Self::ParseFailed,
        Self::ValidationFailed,
        Self::OperationNotFound,
        Self::BadUserInput,
        Self::IntrospectionDisabled,
        Self::MaxDepthLimit,
        Self::MaxAliasesLimit,
        Self::MaxRootFieldsLimit,
        Self::MaxDirectivesLimit,
        Self::MaxSelectionsLimit,
        Self::CostEstimatedTooExpensive,
        Self::UnauthorizedFieldOrType,
        Self::QueryPlanningFailed,
        Self::NotReady,
        Self::SubgraphUnavailable,
        Self::SubgraphInvalidResponse,
        Self::DownstreamServiceError,
        Self::Internal,
    ];

    /// The kit's code this one is, for the codes the gateway shares with the services.
    pub fn kit(self) -> Option<ErrorCode> {
        match self {
            Self::Unauthenticated => Some(ErrorCode::Unauthenticated),
            Self::BadUserInput => Some(ErrorCode::BadUserInput),
            Self::SubgraphUnavailable => Some(ErrorCode::SubgraphUnavailable),
            Self::Internal => Some(ErrorCode::Internal),
            _ => None,
        }
    }

    /// The string in `extensions.code`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Unauthenticated => ErrorCode::Unauthenticated.as_str(),
            Self::BadUserInput => ErrorCode::BadUserInput.as_str(),
            Self::SubgraphUnavailable => ErrorCode::SubgraphUnavailable.as_str(),
            Self::Internal => ErrorCode::Internal.as_str(),
            Self::BadRequest | Self::NotAcceptable | Self::UnsupportedMediaType | Self::MethodNotAllowed => {
                "BAD_REQUEST"
            }
            Self::CsrfPrevention => "CSRF_PREVENTION",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::UnsupportedContentEncoding => "UNSUPPORTED_CONTENT_ENCODING",
            Self::BatchLimitExceeded => "BATCH_LIMIT_EXCEEDED",
            Self::RateLimited => "RATE_LIMITED",
            Self::Overloaded => "OVERLOADED",
            Self::SubscriptionLimit => "SUBSCRIPTION_LIMIT",
            Self::SubscriptionTooSlow => "SUBSCRIPTION_TOO_SLOW",
            Self::EventsUnavailable => "EVENTS_UNAVAILABLE",
            Self::SubscriptionMessageTooLarge => "SUBSCRIPTION_MESSAGE_TOO_LARGE",
            Self::PersistedQueryNotSupported => "PERSISTED_QUERY_NOT_SUPPORTED",
            Self::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            Self::PersistedQueryHashMismatch => "PERSISTED_QUERY_HASH_MISMATCH",
            Self::PersistedQueryNotInList => "PERSISTED_QUERY_NOT_IN_LIST",
            Self::ParseFailed => "GRAPHQL_PARSE_FAILED",
            Self::ValidationFailed => "GRAPHQL_VALIDATION_FAILED",
            Self::OperationNotFound => "OPERATION_NOT_FOUND",
            Self::IntrospectionDisabled => "INTROSPECTION_DISABLED",
            Self::MaxDepthLimit => "MAX_DEPTH_LIMIT",
            Self::MaxAliasesLimit => "MAX_ALIASES_LIMIT",
            Self::MaxRootFieldsLimit => "MAX_ROOT_FIELDS_LIMIT",
            Self::MaxDirectivesLimit => "MAX_DIRECTIVES_LIMIT",
            Self::MaxSelectionsLimit => "MAX_SELECTIONS_LIMIT",
            Self::CostEstimatedTooExpensive => "COST_ESTIMATED_TOO_EXPENSIVE",
            Self::UnauthorizedFieldOrType => "UNAUTHORIZED_FIELD_OR_TYPE",
            Self::QueryPlanningFailed => "QUERY_PLANNING_FAILED",
            Self::NotReady => "NOT_READY",
            Self::SubgraphInvalidResponse => "SUBGRAPH_INVALID_RESPONSE",
            Self::DownstreamServiceError => "DOWNSTREAM_SERVICE_ERROR",
        }
    }

    /// The HTTP status of a request this error ends.
    pub fn status(self) -> StatusCode {
        if let Some(kit) = self.kit() {
            return kit.http_status();
        }
        match self {
            Self::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            Self::UnsupportedMediaType | Self::UnsupportedContentEncoding => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RateLimited | Self::SubscriptionLimit => StatusCode::TOO_MANY_REQUESTS,
            Self::SubscriptionMessageTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::PersistedQueryNotFound => StatusCode::NOT_FOUND,
            Self::PersistedQueryNotInList | Self::UnauthorizedFieldOrType => StatusCode::FORBIDDEN,
            Self::QueryPlanningFailed => StatusCode::INTERNAL_SERVER_ERROR,
            Self::NotReady | Self::Overloaded | Self::SubscriptionTooSlow | Self::EventsUnavailable => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::SubgraphInvalidResponse | Self::DownstreamServiceError => StatusCode::BAD_GATEWAY,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// Who may read the message of an error with this code.
    pub fn class(self) -> MessageClass {
        match self {
            Self::Internal => MessageClass::Internal,
            _ => MessageClass::ClientSafe,
        }
    }

    /// A GraphQL error with this code.
    pub fn error(self, message: impl Into<String>) -> GraphqlError {
        GraphqlError::new(message, self)
    }

    /// The error a client gets for an internal failure: [`INTERNAL_MESSAGE`], code `INTERNAL`.
    pub fn internal() -> GraphqlError {
        Self::Internal.error(INTERNAL_MESSAGE)
    }
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
/// dropped unless `extensions` is set, except a batch mutation's list of refused items
/// (`extensions.items`, [`ggzhub_kit::error::ITEMS_EXTENSION`]): its reasons are messages
/// written for callers, so it stays wherever the message stays.
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
            exposed_codes: [
                ErrorCode::BadUserInput,
                ErrorCode::Forbidden,
                ErrorCode::NotFound,
                ErrorCode::Conflict,
                ErrorCode::FailedPrecondition,
                ErrorCode::Unauthenticated,
                ErrorCode::DatabaseUnavailable,
            ]
            .into_iter()
            .map(|code| code.as_str().to_owned())
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
        let exposed = self.exposed_codes.contains(&code);
        if !exposed {
            error.message = REDACTED.to_owned();
        }
        if !self.extensions {
            error.extensions.retain(|key, _| {
                key.as_str() == "code"
                    || key.as_str() == "serviceName"
                    || (exposed && key.as_str() == ggzhub_kit::error::ITEMS_EXTENSION)
            });
        }
    }
}

impl GraphqlError {
    /// An error of the gateway's own, with `code` in `extensions.code`.
    pub fn new(message: impl Into<String>, code: GatewayError) -> Self {
        let mut extensions = JsonMap::new();
        extensions.insert("code", JsonValue::from(code.code()));
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
    pub fn from_compiler(error: apollo_compiler::response::GraphQLError, code: GatewayError) -> Self {
        let mut converted = Self::new(error.message, code);
        converted.locations = error.locations.iter().map(|l| Location { line: l.line, column: l.column }).collect();
        converted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_mutations_refused_items_pass_where_its_message_passes() {
        let error = |code: &str| GraphqlError {
            message: "2 of 5 waiting-time reports refused".to_owned(),
            locations: Vec::new(),
            path: None,
            extensions: serde_json::from_value(serde_json::json!({
                "code": code, "items": [{"index": 1, "field": "month", "code": code, "reason": "bad month"}],
                "stacktrace": ["db.rs:42"]
            }))
            .expect("a JSON object"),
            from_subgraph: true,
        };
        let policy = SubgraphErrorPolicy::default();
        let mut exposed = error("BAD_USER_INPUT");
        policy.apply(&mut exposed);
        assert_eq!(exposed.message, "2 of 5 waiting-time reports refused");
        assert_eq!(
            serde_json::to_value(&exposed.extensions).expect("serializes"),
            serde_json::json!({"code": "BAD_USER_INPUT",
                "items": [{"index": 1, "field": "month", "code": "BAD_USER_INPUT", "reason": "bad month"}]})
        );
        let mut redacted = error("INTERNAL");
        policy.apply(&mut redacted);
        assert_eq!(redacted.message, REDACTED);
        assert_eq!(
            serde_json::to_value(&redacted.extensions).expect("serializes"),
            serde_json::json!({"code": "INTERNAL"})
        );
    }

    /// The table as clients see it: code string and status of every entry. A change here is a
    /// change of the gateway's API.
    #[test]
    fn every_code_has_its_string_and_status() {
        let table: Vec<(GatewayError, &str, u16)> =
            GatewayError::ALL.iter().map(|e| (*e, e.code(), e.status().as_u16())).collect();
        let expected = [
            (GatewayError::BadRequest, "BAD_REQUEST", 400),
            (GatewayError::NotAcceptable, "BAD_REQUEST", 406),
            (GatewayError::UnsupportedMediaType, "BAD_REQUEST", 415),
            (GatewayError::MethodNotAllowed, "BAD_REQUEST", 405),
            (GatewayError::CsrfPrevention, "CSRF_PREVENTION", 400),
            (GatewayError::PayloadTooLarge, "PAYLOAD_TOO_LARGE", 413),
            (GatewayError::UnsupportedContentEncoding, "UNSUPPORTED_CONTENT_ENCODING", 415),
            (GatewayError::BatchLimitExceeded, "BATCH_LIMIT_EXCEEDED", 400),
            (GatewayError::Unauthenticated, "UNAUTHENTICATED", 401),
            (GatewayError::RateLimited, "RATE_LIMITED", 429),
            (GatewayError::Overloaded, "OVERLOADED", 503),
            (GatewayError::SubscriptionLimit, "SUBSCRIPTION_LIMIT", 429),
            (GatewayError::SubscriptionTooSlow, "SUBSCRIPTION_TOO_SLOW", 503),
            (GatewayError::EventsUnavailable, "EVENTS_UNAVAILABLE", 503),
            (GatewayError::SubscriptionMessageTooLarge, "SUBSCRIPTION_MESSAGE_TOO_LARGE", 413),
            (GatewayError::PersistedQueryNotSupported, "PERSISTED_QUERY_NOT_SUPPORTED", 400),
            (GatewayError::PersistedQueryNotFound, "PERSISTED_QUERY_NOT_FOUND", 404),
            (GatewayError::PersistedQueryHashMismatch, "PERSISTED_QUERY_HASH_MISMATCH", 400),
            (GatewayError::PersistedQueryNotInList, "PERSISTED_QUERY_NOT_IN_LIST", 403),
            (GatewayError::ParseFailed, "GRAPHQL_PARSE_FAILED", 400),
            (GatewayError::ValidationFailed, "GRAPHQL_VALIDATION_FAILED", 400),
            (GatewayError::OperationNotFound, "OPERATION_NOT_FOUND", 400),
            (GatewayError::BadUserInput, "BAD_USER_INPUT", 400),
            (GatewayError::IntrospectionDisabled, "INTROSPECTION_DISABLED", 400),
            (GatewayError::MaxDepthLimit, "MAX_DEPTH_LIMIT", 400),
            (GatewayError::MaxAliasesLimit, "MAX_ALIASES_LIMIT", 400),
            (GatewayError::MaxRootFieldsLimit, "MAX_ROOT_FIELDS_LIMIT", 400),
            (GatewayError::MaxDirectivesLimit, "MAX_DIRECTIVES_LIMIT", 400),
            (GatewayError::MaxSelectionsLimit, "MAX_SELECTIONS_LIMIT", 400),
            (GatewayError::CostEstimatedTooExpensive, "COST_ESTIMATED_TOO_EXPENSIVE", 400),
            (GatewayError::UnauthorizedFieldOrType, "UNAUTHORIZED_FIELD_OR_TYPE", 403),
            (GatewayError::QueryPlanningFailed, "QUERY_PLANNING_FAILED", 500),
            (GatewayError::NotReady, "NOT_READY", 503),
            (GatewayError::SubgraphUnavailable, "SUBGRAPH_UNAVAILABLE", 503),
            (GatewayError::SubgraphInvalidResponse, "SUBGRAPH_INVALID_RESPONSE", 502),
            (GatewayError::DownstreamServiceError, "DOWNSTREAM_SERVICE_ERROR", 502),
            (GatewayError::Internal, "INTERNAL", 500),
        ];
        assert_eq!(table, expected);
    }

    /// The subgraph codes whose messages are written for callers: a change here changes what
    /// partners read.
    #[test]
    fn subgraph_messages_written_for_callers_pass_by_default() {
        let policy = SubgraphErrorPolicy::default();
        assert_eq!(
            policy.exposed_codes,
            [
                "BAD_USER_INPUT",
                "FORBIDDEN",
                "NOT_FOUND",
                "CONFLICT",
                "FAILED_PRECONDITION",
                "UNAUTHENTICATED",
                "DATABASE_UNAVAILABLE"
            ]
        );
        let mut error = GraphqlError {
            message: "care offer o1 is announced to close on 2027-03-01".to_owned(),
            locations: Vec::new(),
            path: None,
            extensions: serde_json::from_value(serde_json::json!({"code": "FAILED_PRECONDITION"})).expect("object"),
            from_subgraph: true,
        };
        policy.apply(&mut error);
        assert_eq!(error.message, "care offer o1 is announced to close on 2027-03-01");
    }

    #[test]
    fn kit_codes_are_the_kits() {
        for error in GatewayError::ALL {
            if let Some(kit) = error.kit() {
                assert_eq!(error.code(), kit.as_str(), "{error:?}");
                assert_eq!(error.status(), kit.http_status(), "{error:?}");
            }
        }
        let shared: Vec<_> = GatewayError::ALL.iter().filter_map(|e| e.kit()).collect();
        assert_eq!(
            shared,
            [ErrorCode::Unauthenticated, ErrorCode::BadUserInput, ErrorCode::SubgraphUnavailable, ErrorCode::Internal]
        );
    }

    #[test]
    fn only_internal_errors_hide_their_message() {
        for error in GatewayError::ALL {
            let expected =
                if error == GatewayError::Internal { MessageClass::Internal } else { MessageClass::ClientSafe };
            assert_eq!(error.class(), expected, "{error:?}");
        }
        let internal = GatewayError::internal();
        assert_eq!((internal.message.as_str(), internal.code()), (INTERNAL_MESSAGE, Some("INTERNAL")));
    }
}
