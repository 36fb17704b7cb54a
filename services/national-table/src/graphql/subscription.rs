//! Subscription root: escalation changes, served through the gateway.
//!
//! The subgraph never holds a subscriber's connection. The gateway takes each event from the
//! bus and, for every subscriber whose subscription it matches, asks this subgraph to resolve the
//! subscriber's selection for that one event (`extensions.ggzhubEvent`, see
//! [`ggzhub_kit::graphql::execute`]). The resolver loads the escalation as it is now and applies
//! the access matrix of the escalation queries for that subscriber: one item when the subscriber
//! may see the escalation, none otherwise — answered `{"data": null}`, exactly as for an event of
//! another region, so a subscriber learns nothing of escalations it may not see.

use async_graphql::futures_util::stream;
use async_graphql::{Context, ID, Result, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use ggzhub_kit::events::Delivered;
use ggzhub_kit::{ApiError, GqlResultExt as _};

use super::types::{Escalation, caller, load_err, loaders};
use crate::access;
use crate::events::{ESCALATION_EVENTS, EscalationEventKind, SUBGRAPH};

/// What a subscription resolver yields for one delivered event: the event, or nothing.
pub type AtMostOne<T> = stream::Iter<std::option::IntoIter<T>>;

/// The national table's subscriptions, served through the gateway.
#[derive(Default)]
pub struct Subscription;

/// Something that happened to an escalation.
// Public (`@tag(name: "public")`): a decision reaches patient organisations, who see the
// escalation's public fields only (those tagged on `Escalation`).
#[derive(SimpleObject)]
#[graphql(tag = "public")]
pub struct EscalationEvent {
    /// What happened.
    pub kind: EscalationEventKind,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// The escalation as it is now (the caller's view of it).
    pub escalation: Escalation,
}

#[Subscription]
impl Subscription {
    /// Escalations raised, taken up, decided and resolved, in `region` (every region when left
    /// out). Each event reaches those who may read the escalation: the raising region's
    /// providers and insurers and the national table every event; everyone else but the hub
    /// operator the decision and the resolution (with the public part). Served by the gateway
    /// only.
    // Not tagged public: async-graphql 7.2.1 has no `tag` on subscription fields (the type is).
    async fn escalation_events(&self, ctx: &Context<'_>, region: Option<ID>) -> Result<AtMostOne<EscalationEvent>> {
        let Some(delivered) = ctx.data_opt::<Delivered>() else {
            return Err(ApiError::bad_input("subscriptions are served by the gateway")).gql();
        };
        if let Some(r) = &region {
            ggzhub_kit::validate::region_code("region", r).gql()?;
        }
        let item = escalation_event(ctx, delivered, region.as_ref().map(|r| r.as_str())).await?;
        Ok(stream::iter(item))
    }
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    kind: String,
    escalation_id: String,
}

/// The event for this caller, or `None` when it is not for them (another field or region, an
/// escalation they may not see).
async fn escalation_event(
    ctx: &Context<'_>,
    delivered: &Delivered,
    region: Option<&str>,
) -> Result<Option<EscalationEvent>> {
    let event = &delivered.event;
    if event.subgraph != SUBGRAPH || event.field != ESCALATION_EVENTS {
        return Ok(None);
    }
    if region.is_some_and(|r| event.scope.get("region").is_some_and(|s| s != r)) {
        return Ok(None);
    }
    let c = caller(ctx)?;
    if access::read(c).is_err() {
        return Ok(None);
    }
    // The payload is ours (written by this subgraph's outbox): one we cannot read is a fault.
    let payload: Payload = serde_json::from_value(event.payload.clone())
        .map_err(|e| ApiError::internal(anyhow::anyhow!("escalation event {}: {e}", event.id)))
        .gql()?;
    let kind = EscalationEventKind::parse(&payload.kind)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("escalation event {}: kind {}", event.id, payload.kind)))
        .gql()?;
    let row = loaders(ctx)?.escalations.load_one(payload.escalation_id).await.map_err(load_err)?;
    Ok(row
        .filter(|e| region.is_none_or(|r| e.region_code == r))
        .filter(|e| access::receives_escalation_event(access::escalation_view(c, e), kind))
        .map(|e| EscalationEvent { kind, occurred_at: event.occurred_at, escalation: Escalation(e) }))
}
