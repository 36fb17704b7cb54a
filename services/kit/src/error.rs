//! The one map from error kinds to GraphQL `extensions.code` and HTTP status.
//!
//! Resolvers and stores return [`ApiError`]; its message is shown to the caller, except for
//! [`ApiError::Internal`], whose cause is logged and replaced by `"internal error"`.

use std::fmt;

/// The codes a client can see in `extensions.code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// No valid token, or a token for another audience.
    Unauthenticated,
    /// The caller is known but may not see or do this.
    Forbidden,
    /// The input is malformed, out of range or refers to something unknown.
    BadUserInput,
    /// The addressed record does not exist (or the caller may not know it exists).
    NotFound,
    /// The record changed since the caller read it (stale `expectedVersion`) or the change clashes.
    Conflict,
    /// The request is valid, but the record's state does not allow it (yet): closing an offer
    /// before its announced date, realising a withdrawn planned offer. Retrying the same request
    /// fails until the state changes; no reload helps.
    FailedPrecondition,
    /// Another subgraph this one must ask (to check a reference) could not be reached.
    SubgraphUnavailable,
    /// The subgraph's own database cannot be reached right now (restarting, overloaded, network):
    /// nothing was changed; try again shortly.
    DatabaseUnavailable,
    /// Something failed on our side; details are in the logs only.
    Internal,
}

impl ErrorCode {
    /// The string used in `extensions.code`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::NotFound => "NOT_FOUND",
            Self::Conflict => "CONFLICT",
            Self::FailedPrecondition => "FAILED_PRECONDITION",
            Self::SubgraphUnavailable => "SUBGRAPH_UNAVAILABLE",
            Self::DatabaseUnavailable => "DATABASE_UNAVAILABLE",
            Self::Internal => "INTERNAL",
        }
    }

    /// HTTP status for a response that fails as a whole with this code.
    pub fn http_status(self) -> axum::http::StatusCode {
        use axum::http::StatusCode;
        match self {
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::BadUserInput => StatusCode::BAD_REQUEST,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict => StatusCode::CONFLICT,
            // As Google's API design guide maps it: the client must change the state first.
            Self::FailedPrecondition => StatusCode::BAD_REQUEST,
            Self::SubgraphUnavailable | Self::DatabaseUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error a resolver can return. Every message except `Internal`'s is written for the client:
/// it names the bad value, never an internal cause.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// See [`ErrorCode::Unauthenticated`].
    #[error("{0}")]
    Unauthenticated(String),
    /// See [`ErrorCode::Forbidden`].
    #[error("{0}")]
    Forbidden(String),
    /// See [`ErrorCode::BadUserInput`].
    #[error("{0}")]
    BadUserInput(String),
    /// See [`ErrorCode::NotFound`].
    #[error("{0}")]
    NotFound(String),
    /// See [`ErrorCode::Conflict`].
    #[error("{0}")]
    Conflict(String),
    /// See [`ErrorCode::FailedPrecondition`].
    #[error("{0}")]
    FailedPrecondition(String),
    /// See [`ErrorCode::SubgraphUnavailable`].
    #[error("{0}")]
    SubgraphUnavailable(String),
    /// See [`ErrorCode::DatabaseUnavailable`]; the cause is logged.
    #[error("the database cannot be reached right now; nothing was changed, try again shortly")]
    DatabaseUnavailable(#[source] anyhow::Error),
    /// See [`ErrorCode::Internal`]; the source is logged, never returned.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    /// Shorthand for a `FORBIDDEN` error.
    pub fn forbidden(msg: impl Into<String>) -> Self {
        Self::Forbidden(msg.into())
    }
    /// Shorthand for a `BAD_USER_INPUT` error.
    pub fn bad_input(msg: impl Into<String>) -> Self {
        Self::BadUserInput(msg.into())
    }
    /// Shorthand for a `NOT_FOUND` error.
    pub fn not_found(msg: impl Into<String>) -> Self {
        Self::NotFound(msg.into())
    }
    /// Shorthand for a `CONFLICT` error.
    pub fn conflict(msg: impl Into<String>) -> Self {
        Self::Conflict(msg.into())
    }
    /// Shorthand for a `FAILED_PRECONDITION` error: the input is fine, the record's state does
    /// not allow the change (yet). The message says what must happen first.
    pub fn failed_precondition(msg: impl Into<String>) -> Self {
        Self::FailedPrecondition(msg.into())
    }
    /// Wraps an internal failure.
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        Self::Internal(err.into())
    }

    /// The client-visible code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::BadUserInput(_) => ErrorCode::BadUserInput,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::FailedPrecondition(_) => ErrorCode::FailedPrecondition,
            Self::SubgraphUnavailable(_) => ErrorCode::SubgraphUnavailable,
            Self::DatabaseUnavailable(_) => ErrorCode::DatabaseUnavailable,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }
}

#[cfg(feature = "db")]
impl From<sea_orm::DbErr> for ApiError {
    /// A database that cannot be reached (no connection from the pool in time, a connection
    /// refused, reset or closed) is `DATABASE_UNAVAILABLE`, so that callers know to try again;
    /// any other database error is ours (`INTERNAL`).
    fn from(err: sea_orm::DbErr) -> Self {
        if is_unreachable(&err) { Self::DatabaseUnavailable(err.into()) } else { Self::Internal(err.into()) }
    }
}

#[cfg(feature = "db")]
impl ApiError {
    /// A database error shared by the callers of one batched load (`Arc<DbErr>`): as
    /// [`From<DbErr>`](#impl-From<DbErr>-for-ApiError) maps an owned one.
    pub fn from_shared_db(err: &sea_orm::DbErr) -> Self {
        if is_unreachable(err) {
            Self::DatabaseUnavailable(anyhow::anyhow!("{err}"))
        } else {
            Self::Internal(anyhow::anyhow!("{err}"))
        }
    }
}

/// Whether `err` says the database could not be reached (rather than refusing a statement).
#[cfg(feature = "db")]
pub fn is_unreachable(err: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr};
    match err {
        DbErr::ConnectionAcquire(_) => true,
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            match &**e {
                sqlx::Error::Io(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed
                | sqlx::Error::Tls(_) => true,
                // The server going away under a statement: SQLSTATE class 08 (connection
                // exception) and 57P01–57P03 (terminated by a shutdown, crash shutdown, cannot
                // connect now — PostgreSQL stopping or starting).
                sqlx::Error::Database(db) => db
                    .code()
                    .is_some_and(|code| code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03")),
                _ => false,
            }
        }
        DbErr::Conn(_) => true,
        _ => false,
    }
}

#[cfg(feature = "db")]
impl From<sea_orm::TransactionError<ApiError>> for ApiError {
    fn from(err: sea_orm::TransactionError<ApiError>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(api) => api,
        }
    }
}

#[cfg(feature = "graphql")]
impl async_graphql::ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        let code = self.code();
        match self {
            // Log the whole chain here; the client only ever sees "internal error".
            ApiError::Internal(cause) => tracing::error!(error = format!("{cause:#}"), "internal error in resolver"),
            ApiError::DatabaseUnavailable(cause) => {
                tracing::warn!(error = format!("{cause:#}"), "the database cannot be reached")
            }
            _ => {}
        }
        async_graphql::Error::new(self.to_string()).extend_with(|_, ext| ext.set("code", code.as_str()))
    }
}

/// The extension of a batch mutation's error that lists each refused item: `extensions.items`,
/// `[{index, field, code, reason}]` (see [`ItemRefusal`]). Its reasons are written for callers
/// like a message, so the gateway passes it on wherever it passes the message on.
pub const ITEMS_EXTENSION: &str = "items";

/// One refused item of a batch mutation (which stores all its items or none): its position in
/// the input list, the input field the refusal is about (`None`: the item as a whole, e.g. its
/// key is taken) and the refusal as the mutation for one item would have made it.
#[derive(Debug)]
pub struct ItemRefusal {
    /// Position in the input list, from 0.
    pub index: usize,
    /// The item's input field the refusal is about, if it is about one field.
    pub field: Option<&'static str>,
    /// The refusal; its message is the item's `reason`, its code the item's `code`.
    pub error: ApiError,
}

impl ItemRefusal {
    /// The code of a whole batch refused for `refused` (not empty): the items' code when they all
    /// share it (every item `FORBIDDEN`, say), `BAD_USER_INPUT` when they differ.
    pub fn batch_code(refused: &[ItemRefusal]) -> ErrorCode {
        let mut codes = refused.iter().map(|r| r.error.code());
        match codes.next() {
            Some(first) if codes.all(|c| c == first) => first,
            _ => ErrorCode::BadUserInput,
        }
    }

    /// The entry of this refusal in `extensions.items`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "index": self.index,
            "field": self.field,
            "code": self.error.code().as_str(),
            "reason": self.error.to_string(),
        })
    }
}

/// The one error of a batch mutation that stored nothing because `refused` (at least one, in
/// index order) of its `total` items of `what` were refused: code [`ItemRefusal::batch_code`],
/// `extensions.items` listing every refused item, and a message that counts them and names the
/// first.
#[cfg(feature = "graphql")]
pub fn items_refused(what: &str, total: usize, refused: &[ItemRefusal]) -> async_graphql::Error {
    use async_graphql::ErrorExtensions as _;
    let code = ItemRefusal::batch_code(refused);
    let first = refused.first().map_or_else(String::new, |r| match r.field {
        Some(field) => format!("; the first: item {} ({field}): {}", r.index, r.error),
        None => format!("; the first: item {}: {}", r.index, r.error),
    });
    let message = format!("{} of {total} {what} refused, so none was stored{first}", refused.len());
    let items = serde_json::Value::Array(refused.iter().map(ItemRefusal::to_json).collect());
    let items = async_graphql::Value::from_json(items).unwrap_or(async_graphql::Value::Null);
    async_graphql::Error::new(message).extend_with(|_, ext| {
        ext.set("code", code.as_str());
        ext.set(ITEMS_EXTENSION, items.clone());
    })
}

/// Turns an [`ApiResult`] into a GraphQL result carrying `extensions.code`.
#[cfg(feature = "graphql")]
pub trait GqlResultExt<T> {
    /// Maps the error through [`async_graphql::ErrorExtensions::extend`].
    fn gql(self) -> async_graphql::Result<T>;
}

#[cfg(feature = "graphql")]
impl<T> GqlResultExt<T> for ApiResult<T> {
    fn gql(self) -> async_graphql::Result<T> {
        use async_graphql::ErrorExtensions as _;
        self.map_err(|e| e.extend())
    }
}

/// A GraphQL-shaped error body for failures outside the executor (authentication, bad HTTP).
pub fn graphql_error_body(message: &str, code: ErrorCode) -> serde_json::Value {
    serde_json::json!({ "errors": [ { "message": message, "extensions": { "code": code.as_str() } } ] })
}

/// Result alias for resolvers and stores.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(all(test, feature = "graphql"))]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_never_show_their_cause() {
        use async_graphql::ErrorExtensions as _;
        let err = ApiError::internal(anyhow::anyhow!("password=hunter2 in DSN")).extend();
        assert_eq!(err.message, "internal error");
        let ext = serde_json::to_value(err.extensions.expect("has extensions")).expect("extensions serialize");
        assert_eq!(ext["code"], "INTERNAL");
    }

    #[test]
    fn a_refused_batch_lists_every_item_and_names_the_first() {
        let refused = [
            ItemRefusal { index: 1, field: Some("month"), error: ApiError::bad_input("month must look like 2026-09") },
            ItemRefusal { index: 4, field: None, error: ApiError::conflict("a report for that key exists") },
        ];
        let err = items_refused("reports", 5, &refused);
        assert_eq!(
            err.message,
            "2 of 5 reports refused, so none was stored; the first: item 1 (month): month must look like 2026-09"
        );
        let ext = serde_json::to_value(err.extensions.expect("has extensions")).expect("extensions serialize");
        assert_eq!(ext["code"], "BAD_USER_INPUT", "mixed codes");
        assert_eq!(
            ext["items"],
            serde_json::json!([
                {"index": 1, "field": "month", "code": "BAD_USER_INPUT", "reason": "month must look like 2026-09"},
                {"index": 4, "field": null, "code": "CONFLICT", "reason": "a report for that key exists"},
            ])
        );
        let forbidden = [
            ItemRefusal { index: 0, field: Some("providerId"), error: ApiError::forbidden("not yours") },
            ItemRefusal { index: 2, field: Some("regionCode"), error: ApiError::forbidden("not your region") },
        ];
        assert_eq!(ItemRefusal::batch_code(&forbidden), ErrorCode::Forbidden, "one code shared by all");
    }

    #[test]
    fn user_errors_keep_their_message_and_code() {
        use async_graphql::ErrorExtensions as _;
        let err = ApiError::bad_input("unknown region code xx").extend();
        assert_eq!(err.message, "unknown region code xx");
        let ext = serde_json::to_value(err.extensions.expect("has extensions")).expect("extensions serialize");
        assert_eq!(ext["code"], "BAD_USER_INPUT");
    }

    #[test]
    fn a_state_that_does_not_allow_the_change_yet_is_failed_precondition() {
        use async_graphql::ErrorExtensions as _;
        let err = ApiError::failed_precondition("care offer o1 is announced to close on 2027-03-01");
        assert_eq!(err.code(), ErrorCode::FailedPrecondition);
        assert_eq!(err.code().http_status(), axum::http::StatusCode::BAD_REQUEST);
        let err = err.extend();
        assert_eq!(err.message, "care offer o1 is announced to close on 2027-03-01", "written for the caller");
        let ext = serde_json::to_value(err.extensions.expect("has extensions")).expect("extensions serialize");
        assert_eq!(ext["code"], "FAILED_PRECONDITION");
    }
}

#[cfg(all(test, feature = "db"))]
mod db_tests {
    use super::*;

    #[test]
    fn an_unreachable_database_is_database_unavailable_and_other_failures_are_internal() {
        use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr};
        use std::sync::Arc;
        for unreachable in [
            DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
            DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
            DbErr::Query(RuntimeErr::SqlxError(Arc::new(sqlx::Error::PoolTimedOut))),
            DbErr::Exec(RuntimeErr::SqlxError(Arc::new(sqlx::Error::Io(std::io::Error::from(
                std::io::ErrorKind::ConnectionReset,
            ))))),
        ] {
            let error = ApiError::from(unreachable);
            assert_eq!(error.code(), ErrorCode::DatabaseUnavailable);
            assert_eq!(error.code().http_status(), axum::http::StatusCode::SERVICE_UNAVAILABLE);
            assert!(error.to_string().contains("try again"), "{error}");
        }
        for ours in
            [DbErr::Query(RuntimeErr::SqlxError(Arc::new(sqlx::Error::RowNotFound))), DbErr::Custom("a bug".into())]
        {
            assert_eq!(ApiError::from(ours).code(), ErrorCode::Internal);
        }
    }
}
