//! Webhooks in GraphQL (see [`crate::webhook`]): an organisation registers, lists, re-enables and
//! deletes its own; the gateway claims and reports them with `claimWebhooks` and `reportWebhook`
//! (`@inaccessible`, scope `webhooks:deliver`, which only the gateway's own token carries).
//!
//! Access: every organisation (not the anonymous public reader) manages only its own webhooks;
//! another organisation's webhook is NOT_FOUND, as a missing one. The secret is shown once, in
//! the answer to `registerWebhook`. A webhook acts for its organisation with at most the scopes
//! of the token that registered it, and receives only what a subscription of that organisation
//! would (the gateway runs the same operation, with the same rules, for each event).

use async_graphql::{Context, Enum, ID, InputObject, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use ggzhub_kit::token::scopes;
use ggzhub_kit::write::{begin, data, new_id};
use ggzhub_kit::{ApiError, ApiResult, Caller, GqlResultExt as _, audit};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel as _, PaginatorTrait as _,
    QueryFilter, QueryOrder, Set,
};
use serde_json::json;

use super::types::caller;
use crate::entity::organisation;
use crate::webhook::{self as hooks, WebhookStatus as Stored, stored as webhook};

/// Whether a webhook is delivered.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(tag = "public")]
pub enum WebhookStatus {
    /// Delivered.
    Enabled,
    /// Not delivered, for the reason in `disabledReason`; `enableWebhook` resumes it from where
    /// it stopped.
    Disabled,
}

/// A webhook of the caller's organisation: the subscription whose answers the hub POSTs to `url`.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(tag = "public")]
pub struct Webhook {
    /// Its id (also in every delivery's payload).
    pub id: ID,
    /// Where answers are POSTed.
    pub url: String,
    /// The organisation's own label.
    pub description: Option<String>,
    /// The subscription operation run for each event.
    pub query: String,
    /// Which operation of `query`.
    pub operation_name: Option<String>,
    /// Its variables.
    pub variables: Json<serde_json::Value>,
    /// Delivered or not.
    pub status: WebhookStatus,
    /// Why it was disabled (the last failure, after the gateway's number of attempts).
    pub disabled_reason: Option<String>,
    /// Failed attempts since the last accepted delivery.
    pub consecutive_failures: i32,
    /// The last failure.
    pub last_error: Option<String>,
    /// When delivery was last attempted.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// When the target last accepted an answer.
    pub last_delivered_at: Option<DateTime<Utc>>,
    /// The event stream position up to which every event was delivered or was not for the
    /// organisation (none yet: deliveries start from registration).
    pub last_event_id: Option<String>,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
}

impl From<webhook::Model> for Webhook {
    fn from(m: webhook::Model) -> Self {
        Self {
            id: ID(m.id),
            url: m.url,
            description: m.description,
            query: m.query,
            operation_name: m.operation_name,
            variables: Json(m.variables),
            status: if m.status == Stored::Enabled.as_str() { WebhookStatus::Enabled } else { WebhookStatus::Disabled },
            disabled_reason: m.disabled_reason,
            consecutive_failures: m.failures,
            last_error: m.last_error,
            last_attempt_at: m.last_attempt_at,
            last_delivered_at: m.last_delivered_at,
            last_event_id: m.cursor.map(|c| c.to_string()),
            created_at: m.created_at,
        }
    }
}

/// A new webhook and its signing secret (shown only here).
#[derive(SimpleObject, Debug, Clone)]
#[graphql(tag = "public")]
pub struct WebhookRegistration {
    /// The webhook.
    pub webhook: Webhook,
    /// The Standard Webhooks signing secret (`whsec_` + base64 key): verify each delivery's
    /// `webhook-signature` with it. Keep it secret; it is not shown again.
    pub secret: String,
}

/// A new webhook.
#[derive(InputObject, Debug, Clone)]
#[graphql(tag = "public")]
pub struct RegisterWebhookInput {
    /// Where to POST answers: an absolute https URL (plain http only where the hub's operator
    /// allows it, e.g. `ggzhub dev`).
    pub url: String,
    /// A subscription operation, as for a live subscription, e.g.
    /// `subscription { signalEvents(region: "utrecht") { kind signal { id severity } } }`.
    pub query: String,
    /// Which operation of `query`, when it holds several.
    pub operation_name: Option<String>,
    /// Its variables (a JSON object).
    pub variables: Option<Json<serde_json::Value>>,
    /// A label of your own (at most 200 characters).
    pub description: Option<String>,
}

/// A webhook as the gateway delivers it (`@inaccessible`).
#[derive(SimpleObject, Debug, Clone)]
#[graphql(inaccessible)]
pub struct WebhookClaim {
    /// The webhook's id.
    pub id: ID,
    /// Its organisation's hub id.
    pub organisation_id: ID,
    /// The organisation's kind (from the register).
    pub kind: ggzhub_kit::OrgKind,
    /// Regions whose tables it sits at.
    pub regions: Vec<String>,
    /// Its roles (`chair:<region>`).
    pub roles: Vec<String>,
    /// Who registered the webhook.
    pub subject: String,
    /// The scopes of the registering token.
    pub scopes: Vec<String>,
    /// The target.
    pub url: String,
    /// The operation.
    pub query: String,
    /// Which operation.
    pub operation_name: Option<String>,
    /// Its variables.
    pub variables: Json<serde_json::Value>,
    /// The signing secret.
    pub secret: String,
    /// Where delivery resumes (none: from the stream's end at the first claim).
    pub cursor: Option<String>,
    /// When it was registered (a first claim delivers the events after it).
    pub created_at: DateTime<Utc>,
    /// Failed attempts since the last success.
    pub failures: i32,
}

/// Webhook queries.
#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// The caller's organisation's webhooks, oldest first, with their delivery state.
    #[graphql(tag = "public")]
    async fn webhooks(&self, ctx: &Context<'_>) -> Result<Vec<Webhook>> {
        let c = caller(ctx)?;
        async {
            let org = organisation_of(c)?;
            let rows = webhook::Entity::find()
                .filter(webhook::Column::OrganisationId.eq(org))
                .order_by_asc(webhook::Column::CreatedAt)
                .order_by_asc(webhook::Column::Id)
                .all(data::<DatabaseConnection>(ctx)?)
                .await?;
            Ok(rows.into_iter().map(Webhook::from).collect())
        }
        .await
        .gql()
    }
}

/// Webhook mutations.
#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Registers a webhook of the caller's organisation (at most 10): the hub runs `query` for
    /// every event as the organisation, with the scopes of this request's token, and POSTs each
    /// answer to `url`, signed (Standard Webhooks). Events that occur after the registration are
    /// delivered, in order; a failed delivery is retried with backoff, and after repeated failure
    /// the webhook is disabled with the reason in `disabledReason`.
    #[graphql(tag = "public")]
    async fn register_webhook(&self, ctx: &Context<'_>, input: RegisterWebhookInput) -> Result<WebhookRegistration> {
        let c = caller(ctx)?;
        async {
            let org = organisation_of(c)?;
            let url = hooks::check_url(&input.url).map_err(ApiError::bad_input)?;
            let operation_name = input.operation_name.filter(|n| !n.is_empty());
            hooks::check_operation(&input.query, operation_name.as_deref()).map_err(ApiError::bad_input)?;
            let variables = input.variables.map_or_else(|| json!({}), |v| v.0);
            hooks::check_variables(&variables).map_err(ApiError::bad_input)?;
            let description = input.description.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty());
            if description.as_ref().is_some_and(|d| d.chars().count() > hooks::MAX_DESCRIPTION_LEN) {
                return Err(ApiError::bad_input(format!(
                    "the description is longer than {} characters",
                    hooks::MAX_DESCRIPTION_LEN
                )));
            }
            let txn = begin(ctx).await?;
            let count = webhook::Entity::find().filter(webhook::Column::OrganisationId.eq(&org)).count(&txn).await?;
            if count >= hooks::MAX_PER_ORGANISATION as u64 {
                return Err(ApiError::bad_input(format!(
                    "an organisation has at most {} webhooks; delete one first",
                    hooks::MAX_PER_ORGANISATION
                )));
            }
            let now = Utc::now();
            let secret = hooks::new_secret();
            let mut scopes: Vec<&str> = c.scopes.iter().map(String::as_str).collect();
            scopes.sort_unstable();
            let row = webhook::ActiveModel {
                id: Set(new_id()),
                organisation_id: Set(org.clone()),
                registered_by: Set(c.subject.clone()),
                scopes: Set(scopes.join(" ")),
                url: Set(url),
                description: Set(description),
                query: Set(input.query),
                operation_name: Set(operation_name),
                variables: Set(variables),
                secret: Set(secret.clone()),
                status: Set(Stored::Enabled.as_str().to_owned()),
                disabled_reason: Set(None),
                failures: Set(0),
                last_error: Set(None),
                last_attempt_at: Set(None),
                last_delivered_at: Set(None),
                cursor: Set(None),
                lease_holder: Set(None),
                lease_until: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await?;
            // The secret is not audited.
            audit::record(&txn, c, "Webhook", &row.id, "register", json!({"url": row.url, "query": row.query})).await?;
            txn.commit().await?;
            Ok(WebhookRegistration { webhook: row.into(), secret })
        }
        .await
        .gql()
    }

    /// Re-enables a disabled webhook of the caller's organisation: delivery resumes from where it
    /// stopped (nothing after its `lastEventId` is skipped, as long as the event stream keeps the
    /// events: 7 days), its failures reset.
    #[graphql(tag = "public")]
    async fn enable_webhook(&self, ctx: &Context<'_>, id: ID) -> Result<Webhook> {
        let c = caller(ctx)?;
        async {
            let txn = begin(ctx).await?;
            let row = own(&txn, c, &id).await?;
            let mut active = row.into_active_model();
            active.status = Set(Stored::Enabled.as_str().to_owned());
            active.disabled_reason = Set(None);
            active.failures = Set(0);
            active.updated_at = Set(Utc::now());
            let row = active.update(&txn).await?;
            audit::record(&txn, c, "Webhook", &row.id, "enable", json!({})).await?;
            txn.commit().await?;
            Ok(row.into())
        }
        .await
        .gql()
    }

    /// Deletes a webhook of the caller's organisation; nothing more is delivered to it.
    #[graphql(tag = "public")]
    async fn delete_webhook(&self, ctx: &Context<'_>, id: ID) -> Result<ID> {
        let c = caller(ctx)?;
        async {
            let txn = begin(ctx).await?;
            let row = own(&txn, c, &id).await?;
            webhook::Entity::delete_by_id(row.id.clone()).exec(&txn).await?;
            audit::record(&txn, c, "Webhook", &row.id, "delete", json!({"url": row.url})).await?;
            txn.commit().await?;
            Ok(ID(row.id))
        }
        .await
        .gql()
    }

    /// The gateway takes (or renews) the lease of enabled webhooks for `leaseSeconds`
    /// (`@inaccessible`; scope `webhooks:deliver`).
    #[graphql(inaccessible)]
    async fn claim_webhooks(
        &self,
        ctx: &Context<'_>,
        holder: String,
        lease_seconds: i32,
        limit: i32,
    ) -> Result<Vec<WebhookClaim>> {
        let c = caller(ctx)?;
        async {
            c.require_scope(scopes::WEBHOOKS_DELIVER)?;
            let conn = data::<DatabaseConnection>(ctx)?;
            let limit = u64::try_from(limit).map_err(|_| ApiError::bad_input("the limit is 0 or more"))?;
            let claimed = hooks::claim(conn, &holder, i64::from(lease_seconds), limit).await?;
            let mut out = Vec::with_capacity(claimed.len());
            for m in claimed {
                let Some(org) = organisation::Entity::find_by_id(m.organisation_id.clone()).one(conn).await? else {
                    continue;
                };
                // An organisation no identity provider may speak for any more (the operator
                // unbound them) has withdrawn access: its webhooks stop too.
                let bound = crate::register::binding::Entity::find()
                    .filter(crate::register::binding::Column::OrganisationId.eq(&org.id))
                    .count(conn)
                    .await?;
                if bound == 0 {
                    let reason = "the organisation has no identity provider bound in the register any more: its webhooks stop with its access";
                    hooks::report(
                        conn,
                        &m.id,
                        &holder,
                        hooks::Report { disable: Some(reason.into()), ..hooks::Report::default() },
                    )
                    .await?;
                    continue;
                }
                let Some(kind) = ggzhub_kit::OrgKind::parse(&org.kind) else { continue };
                let (regions, roles) = crate::register::seats(conn, &org.id).await?;
                out.push(WebhookClaim {
                    id: ID(m.id),
                    organisation_id: ID(m.organisation_id),
                    kind,
                    regions,
                    roles,
                    subject: m.registered_by,
                    scopes: m.scopes.split_whitespace().map(str::to_owned).collect(),
                    url: m.url,
                    query: m.query,
                    operation_name: m.operation_name,
                    variables: Json(m.variables),
                    secret: m.secret,
                    cursor: m.cursor.map(|c| c.to_string()),
                    created_at: m.created_at,
                    failures: m.failures,
                });
            }
            Ok(out)
        }
        .await
        .gql()
    }

    /// The gateway reports on a webhook it holds (`@inaccessible`; scope `webhooks:deliver`):
    /// handled up to `cursor`, an accepted delivery, a failed attempt (`error`), or `disable`
    /// with a reason. False when it no longer holds the webhook.
    #[graphql(inaccessible)]
    #[allow(clippy::too_many_arguments)]
    async fn report_webhook(
        &self,
        ctx: &Context<'_>,
        id: ID,
        holder: String,
        cursor: Option<String>,
        delivered: bool,
        error: Option<String>,
        disable: Option<String>,
    ) -> Result<bool> {
        let c = caller(ctx)?;
        async {
            c.require_scope(scopes::WEBHOOKS_DELIVER)?;
            let cursor = cursor
                .map(|c| c.parse::<i64>().map_err(|_| ApiError::bad_input("the cursor is a stream position")))
                .transpose()?;
            hooks::report(
                data::<DatabaseConnection>(ctx)?,
                &id,
                &holder,
                hooks::Report { cursor, delivered, error, disable },
            )
            .await
        }
        .await
        .gql()
    }
}

/// The caller's organisation id; the anonymous public reader has no webhooks.
fn organisation_of(c: &Caller) -> ApiResult<String> {
    if c.org.is_nil() {
        return Err(ApiError::forbidden("webhooks belong to an organisation: sign in with your organisation's token"));
    }
    Ok(c.org.to_string())
}

/// Webhook `id` of the caller's organisation; another organisation's is NOT_FOUND, as a missing one.
async fn own<C: sea_orm::ConnectionTrait>(conn: &C, c: &Caller, id: &ID) -> ApiResult<webhook::Model> {
    let org = organisation_of(c)?;
    webhook::Entity::find_by_id(id.to_string())
        .filter(webhook::Column::OrganisationId.eq(org))
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no webhook {} of your organisation", id.as_str())))
}
