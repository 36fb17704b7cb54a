//! Checks the mutations of several aggregates share: region codes that exist, a care offer by id,
//! a plausible date, the caller's organisation registered in the hub.

use async_graphql::{Context, ID};
use chrono::NaiveDate;
use ggzhub_kit::validate as v;
use ggzhub_kit::write::data;
use ggzhub_kit::{ApiError, ApiResult, Caller, OrgKind};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::contracted::{ContractedOffersCache, ContractingClient};
use crate::entity::{care_offer, organisation, region};
use crate::events::Contractors;

/// `codes` without duplicates (at most 50), each an existing region; `BAD_USER_INPUT` naming
/// `field` otherwise.
pub(super) async fn existing_regions<C: ConnectionTrait>(
    conn: &C,
    field: &str,
    codes: &[String],
) -> ApiResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for code in codes {
        v::region_code(field, code)?;
        if !out.contains(code) {
            out.push(code.clone());
        }
    }
    if out.len() > 50 {
        return Err(ApiError::bad_input(format!("{field} lists {} regions; at most 50 are allowed", out.len())));
    }
    let found = region::Entity::find().filter(region::Column::Code.is_in(out.clone())).all(conn).await?;
    if let Some(missing) = out.iter().find(|c| !found.iter().any(|r| &r.code == *c)) {
        return Err(ApiError::bad_input(format!("{field}: unknown region code {missing}")));
    }
    Ok(out)
}

/// The care offer with `id`, or `NOT_FOUND`.
pub(super) async fn load_offer<C: ConnectionTrait>(conn: &C, id: &ID) -> ApiResult<care_offer::Model> {
    let id = v::id("id", id)?;
    care_offer::Entity::find_by_id(id.clone())
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no care offer with id {id}")))
}

/// Checks a date a caller gives lies in 2000–2100.
pub(super) fn plausible_date(field: &str, d: NaiveDate) -> ApiResult<()> {
    use chrono::Datelike as _;
    if (2000..=2100).contains(&d.year()) {
        Ok(())
    } else {
        Err(ApiError::bad_input(format!("{field} must lie between 2000 and 2100, got {d}")))
    }
}

/// The caller's own organisation must be registered in the hub (as `kind`).
pub(super) async fn registered<C: ConnectionTrait>(conn: &C, c: &Caller, kind: OrgKind) -> ApiResult<()> {
    match organisation::Entity::find_by_id(c.org.to_string()).one(conn).await? {
        Some(o) if o.kind == kind.as_str() => Ok(()),
        Some(o) => Err(ApiError::bad_input(format!(
            "organisation {} is registered as {}, not {}",
            c.org,
            o.kind,
            kind.as_str()
        ))),
        None => Err(ApiError::bad_input(format!("organisation {} is not registered in the hub", c.org))),
    }
}

/// Tells the outbox relay that a commit recorded events (nothing when the schema has no outbox).
pub(super) fn committed(ctx: &Context<'_>) {
    if let Some(outbox) = ctx.data_opt::<ggzhub_kit::outbox::Outbox>() {
        outbox.committed();
    }
}

fn contracting<'a>(ctx: &'a Context<'_>) -> Option<&'a ContractingClient> {
    ctx.data_opt::<ContractedOffersCache>().and_then(ContractedOffersCache::client)
}

/// Whether the caller could make a change that records signal events at all (a provider or
/// insurer with a write scope for offers, signals or overviews): only then is contracting asked.
/// Anyone else is refused by the mutation's own check, so its audience never matters, and a
/// caller about to be refused makes the hub ask contracting nothing.
fn may_record_signal_events(ctx: &Context<'_>) -> bool {
    use ggzhub_kit::token::scopes;
    let Some(c) = ctx.data_opt::<Caller>() else { return false };
    matches!(c.kind, OrgKind::Provider | OrgKind::Insurer)
        && [scopes::OFFERS_WRITE, scopes::SIGNALS_WRITE, scopes::OVERVIEW_WRITE].iter().any(|s| c.has_scope(s))
}

/// Before a change's transaction: which insurers contract care offer `id`, for the audience of
/// the signal events the change records (see [`Contractors`]).
pub(super) async fn contractors_of_offer(ctx: &Context<'_>, id: &ID) -> ApiResult<Contractors> {
    if !may_record_signal_events(ctx) {
        return Ok(Contractors::unknown());
    }
    let Ok(id) = v::id("id", id) else { return Ok(Contractors::unknown()) };
    let db = data::<DatabaseConnection>(ctx)?;
    Ok(Contractors::for_offer(db, contracting(ctx), &id).await)
}

/// [`contractors_of_offer`] for the offer of continuity signal `id`.
pub(super) async fn contractors_of_signal(ctx: &Context<'_>, id: &ID) -> ApiResult<Contractors> {
    if !may_record_signal_events(ctx) {
        return Ok(Contractors::unknown());
    }
    let Ok(id) = v::id("id", id) else { return Ok(Contractors::unknown()) };
    let db = data::<DatabaseConnection>(ctx)?;
    Ok(Contractors::for_signal(db, contracting(ctx), &id).await)
}
