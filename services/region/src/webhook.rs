//! Webhooks (issue 19): partner systems that cannot hold a connection register a subscription
//! operation and a URL; the gateway runs the operation for every event as the organisation that
//! registered it and POSTs each answer there, signed as the Standard Webhooks specification
//! describes.
//!
//! The register of organisations lives in this subgraph, so the webhooks do too: an
//! organisation manages its own ([`crate::graphql::webhook`]); the gateway, with its own scope
//! `webhooks:deliver`, claims them for delivery ([`claim`]) and reports each outcome
//! ([`report`]). Delivery state is kept here so that any number of gateway replicas share it:
//!
//! - **Lease.** A webhook is delivered by one gateway replica at a time: the one that holds its
//!   lease (`lease_holder`, `lease_until`). A replica renews the leases it holds every few
//!   seconds; a replica that dies stops renewing, and another takes the webhook over when the
//!   lease runs out, from the stored position.
//! - **Position.** `cursor` is the position in the event stream up to which every event has been
//!   delivered or found not to be for the organisation; it only moves forward, and only for the
//!   lease holder. An event is retried until the target accepts it or the webhook is disabled,
//!   so nothing after the position is skipped.
//! - **Failures.** `failures` counts failed attempts since the last success. The gateway disables
//!   the webhook after its configured number of attempts, with the reason (`disabled_reason`)
//!   the organisation reads in `webhooks`; `enableWebhook` resumes it from where it stopped.

use chrono::{DateTime, Utc};
use ggzhub_kit::{ApiError, ApiResult};
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder as _};

/// Most webhooks one organisation may have.
pub const MAX_PER_ORGANISATION: usize = 10;
/// Longest URL accepted.
pub const MAX_URL_LEN: usize = 2048;
/// Longest operation text accepted.
pub const MAX_QUERY_LEN: usize = 10 * 1024;
/// Longest variables (as JSON text) accepted.
pub const MAX_VARIABLES_LEN: usize = 10 * 1024;
/// Longest description accepted.
pub const MAX_DESCRIPTION_LEN: usize = 200;
/// Longest error text stored.
pub const MAX_ERROR_LEN: usize = 500;
/// Longest lease a gateway may take.
pub const MAX_LEASE_SECS: i64 = 300;
/// Most webhooks claimed in one call.
pub const MAX_CLAIM: u64 = 1000;

/// The `webhooks` table.
pub mod stored {
    use sea_orm::entity::prelude::*;

    /// One webhook.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhooks")]
    pub struct Model {
        /// Row id (UUID).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The organisation it delivers to (and acts for).
        pub organisation_id: String,
        /// Who registered it (the token's subject).
        pub registered_by: String,
        /// The scopes of the token that registered it: deliveries act with no more.
        pub scopes: String,
        /// Where answers are POSTed.
        pub url: String,
        /// The organisation's own label.
        pub description: Option<String>,
        /// The subscription operation.
        pub query: String,
        /// Which operation of `query` (when it holds several).
        pub operation_name: Option<String>,
        /// Its variables (a JSON object).
        pub variables: Json,
        /// The signing secret (`whsec_…`).
        pub secret: String,
        /// `ENABLED` or `DISABLED`.
        pub status: String,
        /// Why it was disabled.
        pub disabled_reason: Option<String>,
        /// Failed attempts since the last success.
        pub failures: i32,
        /// The last failure.
        pub last_error: Option<String>,
        /// When delivery was last attempted.
        pub last_attempt_at: Option<ChronoDateTimeUtc>,
        /// When an answer was last accepted.
        pub last_delivered_at: Option<ChronoDateTimeUtc>,
        /// The stream position up to which everything is handled (none yet: from registration).
        pub cursor: Option<i64>,
        /// The gateway replica delivering it.
        pub lease_holder: Option<String>,
        /// Until when that replica holds it.
        pub lease_until: Option<ChronoDateTimeUtc>,
        /// When it was registered.
        pub created_at: ChronoDateTimeUtc,
        /// When it was last changed by its organisation.
        pub updated_at: ChronoDateTimeUtc,
    }

    /// Relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

ggzhub_kit::string_enum! {
    /// Whether a webhook is delivered.
    WebhookStatus {
        /// Delivered.
        Enabled => "ENABLED",
        /// Not delivered (see its reason); `enableWebhook` resumes it where it stopped.
        Disabled => "DISABLED",
    }
}

/// Checks a target URL: absolute `https` (or `http`, which the gateway delivers to only when its
/// configuration allows plain HTTP, e.g. `ggzhub dev`), with a host, without credentials or a
/// fragment. Whether the host may be reached is the gateway's decision at delivery (private and
/// loopback addresses are refused unless configured).
pub fn check_url(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    if raw.len() > MAX_URL_LEN {
        return Err(format!("the URL is longer than {MAX_URL_LEN} characters"));
    }
    let url = url::Url::parse(raw).map_err(|e| format!("the URL is not valid: {e}"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(format!("the URL must use https (not {})", url.scheme()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL names no host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("the URL may not carry credentials; authenticate the hub by the signature".into());
    }
    if url.fragment().is_some() {
        return Err("the URL may not have a fragment".into());
    }
    Ok(url.to_string())
}

/// Checks the operation: one subscription (the named one, when `operation_name` is given) of at
/// most [`MAX_QUERY_LEN`] characters. Whether its fields exist is the gateway's check when it
/// delivers (a webhook whose operation the gateway refuses is disabled with the gateway's reason).
pub fn check_operation(query: &str, operation_name: Option<&str>) -> Result<(), String> {
    if query.len() > MAX_QUERY_LEN {
        return Err(format!("the operation is longer than {MAX_QUERY_LEN} characters"));
    }
    let document =
        async_graphql::parser::parse_query(query).map_err(|e| format!("the operation does not parse: {e}"))?;
    use async_graphql::parser::types::{DocumentOperations, OperationType};
    let ty = match (&document.operations, operation_name) {
        (DocumentOperations::Single(op), None) => op.node.ty,
        (DocumentOperations::Single(_), Some(name)) => {
            return Err(format!("the document holds one unnamed operation, not `{name}`"));
        }
        (DocumentOperations::Multiple(ops), Some(name)) => {
            ops.get(name).ok_or_else(|| format!("the document holds no operation `{name}`"))?.node.ty
        }
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| op.node.ty).unwrap_or(OperationType::Query)
        }
        (DocumentOperations::Multiple(_), None) => {
            return Err("the document holds several operations: name one in operationName".into());
        }
    };
    if ty != OperationType::Subscription {
        return Err("a webhook delivers a subscription: the operation must be `subscription { … }`".into());
    }
    Ok(())
}

/// Checks the variables: a JSON object of at most [`MAX_VARIABLES_LEN`] characters.
pub fn check_variables(variables: &serde_json::Value) -> Result<(), String> {
    if !variables.is_object() {
        return Err("variables must be a JSON object".into());
    }
    if variables.to_string().len() > MAX_VARIABLES_LEN {
        return Err(format!("the variables are longer than {MAX_VARIABLES_LEN} characters"));
    }
    Ok(())
}

/// A new signing secret: `whsec_` and the base64 of 32 random bytes (two version-4 UUIDs, from
/// uuid's `fast-rng`: rand's thread-local ChaCha generator, seeded from the operating system;
/// 244 random bits).
pub fn new_secret() -> String {
    use base64::Engine as _;
    let mut key = Vec::with_capacity(32);
    key.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    key.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(key))
}

/// Renews the leases `holder` holds and takes those of enabled webhooks that are free or expired,
/// until `lease_secs` from now, up to `limit` held in all, and returns everything it holds. One
/// statement renews; one conditional update per webhook takes: two replicas claiming at once
/// never both get one.
pub async fn claim<C: ConnectionTrait>(
    conn: &C,
    holder: &str,
    lease_secs: i64,
    limit: u64,
) -> ApiResult<Vec<stored::Model>> {
    if holder.is_empty() || holder.len() > 200 {
        return Err(ApiError::bad_input("the holder is 1 to 200 characters"));
    }
    if !(1..=MAX_LEASE_SECS).contains(&lease_secs) {
        return Err(ApiError::bad_input(format!("the lease is 1 to {MAX_LEASE_SECS} seconds")));
    }
    let now = Utc::now();
    let until = now + chrono::Duration::seconds(lease_secs);
    let takeable = || {
        Condition::any()
            .add(stored::Column::LeaseHolder.is_null())
            .add(stored::Column::LeaseUntil.lt(now))
            .add(stored::Column::LeaseHolder.eq(holder))
    };
    use sea_orm::{PaginatorTrait as _, QuerySelect as _};
    let limit = Ord::min(limit, MAX_CLAIM);
    // Renew what `holder` holds in one statement, then take free or expired ones one by one
    // (a conditional update each: two replicas never both get one), up to `limit` held in all.
    stored::Entity::update_many()
        .col_expr(stored::Column::LeaseUntil, Expr::value(until))
        .filter(webhook_enabled())
        .filter(stored::Column::LeaseHolder.eq(holder))
        .exec(conn)
        .await?;
    let held = stored::Entity::find()
        .filter(webhook_enabled())
        .filter(stored::Column::LeaseHolder.eq(holder))
        .count(conn)
        .await?;
    let free = stored::Entity::find()
        .filter(webhook_enabled())
        .filter(Condition::any().add(stored::Column::LeaseHolder.is_null()).add(stored::Column::LeaseUntil.lt(now)))
        .limit(limit.saturating_sub(held))
        .all(conn)
        .await?;
    for candidate in free {
        stored::Entity::update_many()
            .col_expr(stored::Column::LeaseHolder, Expr::value(holder))
            .col_expr(stored::Column::LeaseUntil, Expr::value(until))
            .filter(stored::Column::Id.eq(&candidate.id))
            .filter(webhook_enabled())
            .filter(takeable())
            .exec(conn)
            .await?;
    }
    // Everything held (a smaller limit than before never strands a held webhook undelivered).
    Ok(stored::Entity::find()
        .filter(webhook_enabled())
        .filter(stored::Column::LeaseHolder.eq(holder))
        .order_by_asc(stored::Column::Id)
        .all(conn)
        .await?)
}

fn webhook_enabled() -> Condition {
    Condition::all().add(stored::Column::Status.eq(WebhookStatus::Enabled.as_str()))
}

/// What the gateway reports after handling events of a webhook.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Everything up to this position is handled.
    pub cursor: Option<i64>,
    /// An answer was accepted by the target (resets the failures).
    pub delivered: bool,
    /// An attempt failed, with this error.
    pub error: Option<String>,
    /// Disable the webhook, for this reason.
    pub disable: Option<String>,
}

/// Applies `report` to webhook `id` if `holder` still holds its lease: false when it does not
/// (the webhook was taken over, disabled or deleted), and the holder stops delivering it.
pub async fn report<C: ConnectionTrait>(conn: &C, id: &str, holder: &str, report: Report) -> ApiResult<bool> {
    let now: DateTime<Utc> = Utc::now();
    let held = || {
        Condition::all()
            .add(stored::Column::Id.eq(id))
            .add(stored::Column::LeaseHolder.eq(holder))
            .add(stored::Column::Status.eq(WebhookStatus::Enabled.as_str()))
    };
    if let Some(cursor) = report.cursor {
        if cursor < 0 {
            return Err(ApiError::bad_input("the cursor is a stream position (0 or more)"));
        }
        // Only forward.
        stored::Entity::update_many()
            .col_expr(stored::Column::Cursor, Expr::value(cursor))
            .filter(held())
            .filter(Condition::any().add(stored::Column::Cursor.is_null()).add(stored::Column::Cursor.lt(cursor)))
            .exec(conn)
            .await?;
    }
    // Setting the holder again keeps the statement valid when there is nothing else to set; its
    // row count tells whether the lease is held.
    let mut update = stored::Entity::update_many().filter(held());
    if report.delivered {
        update = update
            .col_expr(stored::Column::Failures, Expr::value(0))
            .col_expr(stored::Column::LastDeliveredAt, Expr::value(now))
            .col_expr(stored::Column::LastAttemptAt, Expr::value(now));
    } else if let Some(error) = &report.error {
        update = update
            .col_expr(stored::Column::Failures, Expr::col(stored::Column::Failures).add(1))
            .col_expr(stored::Column::LastError, Expr::value(truncate(error)))
            .col_expr(stored::Column::LastAttemptAt, Expr::value(now));
    }
    update = match &report.disable {
        Some(reason) => update
            .col_expr(stored::Column::Status, Expr::value(WebhookStatus::Disabled.as_str()))
            .col_expr(stored::Column::DisabledReason, Expr::value(truncate(reason)))
            .col_expr(stored::Column::LeaseHolder, Expr::value(Option::<String>::None))
            .col_expr(stored::Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None)),
        None => update.col_expr(stored::Column::LeaseHolder, Expr::value(holder)),
    };
    Ok(update.exec(conn).await?.rows_affected == 1)
}

fn truncate(text: &str) -> String {
    match text.char_indices().nth(MAX_ERROR_LEN) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_absolute_http_without_credentials() {
        assert_eq!(check_url(" https://partner.example/hook ").unwrap(), "https://partner.example/hook");
        assert!(check_url("http://localhost:8080/x").is_ok());
        for bad in [
            "",
            "partner.example/hook",
            "ftp://partner.example/",
            "https://user:pw@partner.example/",
            "https://partner.example/#x",
            "file:///etc/passwd",
        ] {
            assert!(check_url(bad).is_err(), "{bad} accepted");
        }
        assert!(check_url(&format!("https://partner.example/{}", "a".repeat(MAX_URL_LEN))).is_err());
    }

    #[test]
    fn only_a_subscription_is_an_operation() {
        assert!(check_operation("subscription { signalEvents(region: \"utrecht\") { kind } }", None).is_ok());
        assert!(check_operation("subscription S { a } query Q { b }", Some("S")).is_ok());
        assert!(check_operation("subscription S { a } query Q { b }", Some("Q")).is_err());
        assert!(check_operation("subscription S { a } query Q { b }", None).is_err());
        assert!(check_operation("query { a }", None).is_err());
        assert!(check_operation("subscription {", None).is_err());
        assert!(check_operation("subscription { a }", Some("X")).is_err());
    }

    #[test]
    fn variables_are_an_object() {
        assert!(check_variables(&serde_json::json!({"region": "utrecht"})).is_ok());
        assert!(check_variables(&serde_json::json!([1])).is_err());
        assert!(check_variables(&serde_json::json!({"x": "a".repeat(MAX_VARIABLES_LEN)})).is_err());
    }

    #[test]
    fn secrets_are_32_random_bytes() {
        use base64::Engine as _;
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        let key = base64::engine::general_purpose::STANDARD.decode(a.strip_prefix("whsec_").unwrap()).unwrap();
        assert_eq!(key.len(), 32);
    }
}
