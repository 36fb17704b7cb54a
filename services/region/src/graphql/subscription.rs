//! Subscription root: live early warning (vroegsignalering) and offer status per region.
//!
//! The subgraph never holds a subscriber's connection. The gateway takes each event from the
//! bus and, for every subscriber whose subscription it matches, asks this subgraph to resolve the
//! subscriber's selection for that one event (`extensions.ggzhubEvent`, see
//! [`ggzhub_kit::graphql::execute`]). The resolvers here load the record as it is now and apply
//! the access matrix for that subscriber: they yield one item when the subscriber may see it and
//! none otherwise — answered `{"data": null}`, exactly as for an event of another region, so a
//! subscriber learns nothing of signals it may not see.

use async_graphql::{Context, ID, Result, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use ggzhub_kit::events::Delivered;
use ggzhub_kit::{ApiError, ApiResult, Caller, GqlResultExt as _, OrgKind};
use sea_orm::{DatabaseConnection, EntityTrait};
use serde::Deserialize;

use super::types::{CareOffer, ContinuitySignal, caller};
use crate::access;
use crate::contracted::ContractedOffersCache;
use crate::domain::{OfferStatus, is_region_code};
use crate::entity::{care_offer, region, signal};
use crate::events::{OFFER_STATUS_CHANGES, SIGNAL_EVENTS, SUBGRAPH, SignalEventKind};

/// The region subgraph's subscriptions, served through the gateway.
#[derive(Default)]
pub struct SubscriptionRoot;

/// Something that happened to a continuity signal (vroegsignalering).
#[derive(SimpleObject)]
pub struct SignalEvent {
    /// What happened.
    pub kind: SignalEventKind,
    /// When it happened (for `OVERDUE`: the acknowledgement deadline).
    pub occurred_at: DateTime<Utc>,
    /// The signal as it is now.
    pub signal: ContinuitySignal,
}

/// A care offer's continuity status changed (or a new offer appeared).
#[derive(SimpleObject)]
#[graphql(tag = "public")]
pub struct OfferStatusEvent {
    /// When it changed.
    pub occurred_at: DateTime<Utc>,
    /// The status before the change; `null` for a new offer.
    pub previous_status: Option<OfferStatus>,
    /// The status the change set.
    pub status: OfferStatus,
    /// The offer as it is now.
    pub offer: CareOffer,
}

/// What a subscription field yields for one delivered event: the event for this subscriber, or
/// nothing.
pub type AtMostOne<T> = futures_util::stream::Iter<std::option::IntoIter<T>>;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignalPayload {
    kind: String,
    signal_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OfferPayload {
    offer_id: String,
    previous_status: Option<String>,
    status: String,
}

#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// Vroegsignalering, live: continuity signals raised, changed, acknowledged, resolved,
    /// escalated or overdue, in `region` (every region when left out). Each event reaches only
    /// those who may read the signal: its provider, the region's coordinating insurer, insurers
    /// contracting its offer, and, once escalated, the national table. An unknown region is
    /// `BAD_USER_INPUT`.
    async fn signal_events(&self, ctx: &Context<'_>, region: Option<ID>) -> Result<AtMostOne<SignalEvent>> {
        let (delivered, c, db) = prepare(ctx, region.as_ref().map(|r| r.as_str())).await?;
        let event = signal_event(ctx, c, db, delivered, region.as_ref().map(|r| r.as_str())).await.gql()?;
        Ok(futures_util::stream::iter(event))
    }

    /// Continuity status changes of care offers in `region` (every region when left out): a new
    /// offer, a change of status, a closure. Offers' status is public: every organisation
    /// receives them. An unknown region is `BAD_USER_INPUT`.
    async fn offer_status_changes(&self, ctx: &Context<'_>, region: Option<ID>) -> Result<AtMostOne<OfferStatusEvent>> {
        let (delivered, _, db) = prepare(ctx, region.as_ref().map(|r| r.as_str())).await?;
        let event = offer_status_event(db, delivered, region.as_ref().map(|r| r.as_str())).await.gql()?;
        Ok(futures_util::stream::iter(event))
    }
}

/// The event to resolve, the caller and the database; `BAD_USER_INPUT` without an event (a
/// subscription sent to the subgraph directly) or for an unknown region.
async fn prepare<'a>(
    ctx: &'a Context<'_>,
    region: Option<&str>,
) -> Result<(&'a Delivered, &'a Caller, &'a DatabaseConnection)> {
    let Some(delivered) = ctx.data_opt::<Delivered>() else {
        return Err(ApiError::bad_input("subscriptions are served by the gateway")).gql();
    };
    let c = caller(ctx)?;
    access::read(c).gql()?;
    let db = ctx.data::<DatabaseConnection>()?;
    if let Some(code) = region {
        known_region(db, code).await.gql()?;
    }
    Ok((delivered, c, db))
}

async fn known_region(db: &DatabaseConnection, code: &str) -> ApiResult<()> {
    if !is_region_code(code) {
        return Err(ApiError::bad_input(format!("invalid region code {}", ggzhub_kit::validate::shown(code))));
    }
    if region::Entity::find_by_id(code.to_owned()).one(db).await?.is_none() {
        return Err(ApiError::bad_input(format!("unknown region code {code}")));
    }
    Ok(())
}

/// Whether `delivered` feeds `field` of this subgraph in `region` (any region when `None`).
fn feeds(delivered: &Delivered, field: &str, region: Option<&str>) -> bool {
    let e = &delivered.event;
    e.subgraph == SUBGRAPH
        && e.field == field
        && region.is_none_or(|r| e.scope.get("region").map(String::as_str) == Some(r))
}

fn bad_payload(e: serde_json::Error) -> ApiError {
    ApiError::internal(anyhow::anyhow!("an event payload of this subgraph does not parse: {e}"))
}

async fn signal_event(
    ctx: &Context<'_>,
    c: &Caller,
    db: &DatabaseConnection,
    delivered: &Delivered,
    region: Option<&str>,
) -> ApiResult<Option<SignalEvent>> {
    if !feeds(delivered, SIGNAL_EVENTS, region) {
        return Ok(None);
    }
    let payload: SignalPayload = serde_json::from_value(delivered.event.payload.clone()).map_err(bad_payload)?;
    let kind = SignalEventKind::parse(&payload.kind)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("unknown signal event kind {}", payload.kind)))?;
    let Some(s) = signal::Entity::find_by_id(payload.signal_id).one(db).await? else { return Ok(None) };
    if !sees_in_full(ctx, c, db, &s).await? {
        return Ok(None);
    }
    Ok(Some(SignalEvent { kind, occurred_at: delivered.event.occurred_at, signal: ContinuitySignal::full(s) }))
}

/// Whether `c` reads signal `s` in full (`access::can_see_signal`): its provider, the region's
/// coordinating insurer, an insurer contracting the offer, the national table once escalated.
/// Contracting is asked only of an insurer that does not already see the signal as the region's
/// coordinating insurer (as `continuitySignals` does, once per request).
pub(super) async fn sees_in_full(
    ctx: &Context<'_>,
    c: &Caller,
    db: &DatabaseConnection,
    s: &signal::Model,
) -> ApiResult<bool> {
    let coordinating =
        region::Entity::find_by_id(s.region_code.clone()).one(db).await?.and_then(|r| r.coordinating_insurer_id);
    let contracts = if c.kind == OrgKind::Insurer && coordinating.as_deref() != Some(c.org.to_string().as_str()) {
        match ctx.data_opt::<ContractedOffersCache>() {
            Some(cache) => cache.offer_ids(db, c).await?.contains(&s.offer_id),
            None => false,
        }
    } else {
        false
    };
    Ok(access::can_see_signal(c, s, coordinating.as_deref(), contracts))
}

async fn offer_status_event(
    db: &DatabaseConnection,
    delivered: &Delivered,
    region: Option<&str>,
) -> ApiResult<Option<OfferStatusEvent>> {
    if !feeds(delivered, OFFER_STATUS_CHANGES, region) {
        return Ok(None);
    }
    let payload: OfferPayload = serde_json::from_value(delivered.event.payload.clone()).map_err(bad_payload)?;
    let parse =
        |s: &str| OfferStatus::parse(s).ok_or_else(|| ApiError::internal(anyhow::anyhow!("unknown offer status {s}")));
    let status = parse(&payload.status)?;
    let previous_status = payload.previous_status.as_deref().map(parse).transpose()?;
    let Some(offer) = care_offer::Entity::find_by_id(payload.offer_id).one(db).await? else { return Ok(None) };
    Ok(Some(OfferStatusEvent {
        occurred_at: delivered.event.occurred_at,
        previous_status,
        status,
        offer: CareOffer::new(offer),
    }))
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt as _;

    use super::*;

    #[tokio::test]
    async fn a_subscription_without_a_delivered_event_is_refused() {
        let schema = crate::graphql::schema(DatabaseConnection::default());
        let caller = Caller {
            org: uuid::Uuid::from_u128(1),
            kind: OrgKind::Insurer,
            subject: "test".into(),
            regions: Default::default(),
            roles: Default::default(),
            scopes: [ggzhub_kit::token::scopes::PICTURE_READ.to_owned()].into(),
        };
        for query in ["subscription { signalEvents { kind } }", "subscription { offerStatusChanges { status } }"] {
            let request = async_graphql::Request::new(query).data(caller.clone());
            let first = schema.execute_stream(request).next().await.expect("one answer");
            let error = first.errors.first().expect("an error");
            assert_eq!(error.message, "subscriptions are served by the gateway");
            let code = error.extensions.as_ref().and_then(|e| e.get("code")).cloned();
            assert_eq!(code, Some(async_graphql::Value::from("BAD_USER_INPUT")));
        }
    }
}
