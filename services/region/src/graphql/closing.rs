//! GraphQL types of the closing process and of regional actions (issue 21 item 3): an offer's
//! status cause and planned closing date, a region's closure rules and announced closures, and
//! regional actions. The fields that `CareOffer`, `Region` and `RegionalOverview` show of them
//! call the functions here. Access rules: `schema/ACCESS.md`, "Regional actions and the closing
//! process".

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{NaiveDate, Utc};
use ggzhub_kit::page::{Page, PublicConnection, TotalCount, connection};
use ggzhub_kit::{GqlResultExt as _, string_enum};

use crate::access;
use crate::closing::{ActionScope, DEFAULT_CLOSURE_NOTICE_WEEKS, action_overdue, action_overdue_at};
use crate::domain::{OfferStatus, SignalKind};
use crate::entity::{care_offer, offer_status_note, overview, region_closure_rule, regional_action};
use crate::graphql::types::{
    CareOffer, Organisation, RecordMeta, RegionalOverview, caller, clock, load_err, loaders, stored,
};

string_enum! {
    /// Lifecycle of a regional action.
    ActionStatus {
        /// Agreed, not started.
        Open => "OPEN",
        /// Being worked on by its owner.
        InProgress => "IN_PROGRESS",
        /// Done.
        Done => "DONE",
        /// Cancelled (final).
        Cancelled => "CANCELLED",
    }
}

/// Why an offer is `UNDER_PRESSURE` or `CLOSING` (or closed): the cause its provider gave with
/// the status change. Visible where the offer's capacity detail is (its provider, the region's
/// participants, the national table).
#[derive(SimpleObject)]
pub struct StatusCause {
    /// The status the cause was given with.
    pub status: OfferStatus,
    /// Whether a cause was given (`false`: the status was set with `updateCareOffer` without
    /// one; `kind` and `text` are then `null`).
    pub given: bool,
    /// What causes it (the kinds of continuity signals).
    pub kind: Option<SignalKind>,
    /// Short explanation (no personal data, ≤ 500 characters).
    pub text: Option<String>,
    /// When it was recorded.
    pub recorded_at: chrono::DateTime<Utc>,
}

/// `CareOffer.statusCause`: the cause recorded with the offer's current status (`null` when
/// `SECURED` or when none was recorded); `FORBIDDEN` where the offer's detail is not visible.
pub async fn offer_status_cause(ctx: &Context<'_>, offer: &care_offer::Model) -> Result<Option<StatusCause>> {
    access::offer_detail(caller(ctx)?, offer).gql()?;
    if offer.status == OfferStatus::Secured.as_str() {
        return Ok(None);
    }
    let Some(note) = loaders(ctx)?.closing.notes.load_one(offer.id.clone()).await.map_err(load_err)? else {
        return Ok(None);
    };
    let applies = note.status == offer.status
        || (offer.status == OfferStatus::Closed.as_str() && note.status == OfferStatus::Closing.as_str());
    if !applies {
        return Ok(None);
    }
    Ok(Some(StatusCause {
        status: OfferStatus::parse(&note.status).ok_or_else(|| stored("status note"))?,
        given: note.cause_kind.is_some(),
        kind: note.cause_kind.as_deref().and_then(SignalKind::parse),
        text: note.cause_text.clone(),
        recorded_at: note.recorded_at,
    }))
}

/// `CareOffer.plannedClosingDate`: the announced closing date of a `CLOSING` offer (public, like
/// its status); `null` for other offers and for one set `CLOSING` without an announcement.
pub async fn offer_planned_closing_date(ctx: &Context<'_>, offer: &care_offer::Model) -> Result<Option<NaiveDate>> {
    if offer.status != OfferStatus::Closing.as_str() {
        return Ok(None);
    }
    let note = loaders(ctx)?.closing.notes.load_one(offer.id.clone()).await.map_err(load_err)?;
    Ok(note.filter(|n| n.status == offer.status).and_then(|n| n.planned_closing_date))
}

/// A region's agreed rules for closing crucial offers (spelregels): the notice period between
/// announcing a closure and its planned date. Public.
#[derive(SimpleObject)]
#[graphql(tag = "public")]
pub struct ClosureRules {
    /// Region code.
    pub region_code: String,
    /// Weeks between announcing a closure and its planned date, at least.
    pub notice_weeks: i32,
    /// Whether the region agreed none and the hub's default (13 weeks) applies.
    pub is_default: bool,
    /// Version for optimistic concurrency (0 while the default applies).
    pub version: i32,
}

impl ClosureRules {
    /// The rules of `region` as stored, or the default.
    pub fn of(region: &str, rule: Option<region_closure_rule::Model>) -> Self {
        match rule {
            Some(r) => {
                Self { region_code: r.region_code, notice_weeks: r.notice_weeks, is_default: false, version: r.version }
            }
            None => Self {
                region_code: region.to_owned(),
                notice_weeks: DEFAULT_CLOSURE_NOTICE_WEEKS,
                is_default: true,
                version: 0,
            },
        }
    }
}

/// `Region.closureRules`.
pub async fn region_closure_rules(ctx: &Context<'_>, region: &str) -> Result<ClosureRules> {
    access::read(caller(ctx)?).gql()?;
    let rule = loaders(ctx)?.closing.rules.load_one(region.to_owned()).await.map_err(load_err)?;
    Ok(ClosureRules::of(region, rule))
}

/// A crucial offer announced to close: discussed at the regional table before its planned date.
/// Public (status and planned date are); the cause is the offer's `statusCause`.
pub struct AnnouncedClosure {
    note: offer_status_note::Model,
    offer: care_offer::Model,
}

/// A crucial offer announced to close: discussed at the regional table before its planned date.
#[Object(tag = "public")]
impl AnnouncedClosure {
    /// The offer (status `CLOSING`; its `statusCause` says why, where its detail is visible).
    async fn offer(&self) -> CareOffer {
        CareOffer::new(self.offer.clone())
    }
    /// Planned closing date.
    async fn planned_date(&self) -> Option<NaiveDate> {
        self.note.planned_closing_date
    }
    /// When the closure was announced.
    async fn announced_at(&self) -> Option<chrono::DateTime<Utc>> {
        self.note.announced_at
    }
}

/// `Region.announcedClosures` and `RegionalOverview.announcedClosures`: the region's offers
/// announced to close, soonest first.
pub async fn region_announced_closures(ctx: &Context<'_>, region: &str) -> Result<Vec<AnnouncedClosure>> {
    access::read(caller(ctx)?).gql()?;
    let rows = loaders(ctx)?.closing.announced.load_one(region.to_owned()).await.map_err(load_err)?;
    Ok(rows.unwrap_or_default().into_iter().map(|(note, offer)| AnnouncedClosure { note, offer }).collect())
}

/// A regional action or agreement arising from a regional overview: an owner organisation, a due
/// date and a status. Visible to whoever may read its overview.
pub struct RegionalAction {
    /// The stored action.
    pub model: regional_action::Model,
}

/// A regional action or agreement arising from a regional overview (regiobeeld): an owner
/// organisation, a due date and a status. Readable by whoever may read its overview: the region's
/// participants and the national table always, municipalities at the table also while a draft,
/// patient organisations and the public once the overview is published.
#[Object(tag = "public")]
impl RegionalAction {
    /// Id.
    async fn id(&self) -> ID {
        ID(self.model.id.clone())
    }
    /// Region code.
    async fn region_code(&self) -> &str {
        &self.model.region_code
    }
    /// The overview it arises from.
    async fn overview(&self, ctx: &Context<'_>) -> Result<Option<RegionalOverview>> {
        Ok(loaders(ctx)?
            .overviews
            .load_one(self.model.overview_id.clone())
            .await
            .map_err(load_err)?
            .map(RegionalOverview))
    }
    /// Title (no personal data).
    async fn title(&self) -> &str {
        &self.model.title
    }
    /// Description (no personal data).
    async fn description(&self) -> &str {
        &self.model.description
    }
    /// The organisation that owns it (a provider or insurer at the region's table).
    async fn owner(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        Ok(loaders(ctx)?.organisations.load_one(self.model.owner_id.clone()).await.map_err(load_err)?.map(Organisation))
    }
    /// Due date.
    async fn due_date(&self) -> NaiveDate {
        self.model.due_date
    }
    /// Status.
    async fn status(&self) -> Result<ActionStatus> {
        ActionStatus::parse(&self.model.status).ok_or_else(|| stored("action status"))
    }
    /// Past its due date and neither done nor cancelled. The due date is a Dutch calendar date:
    /// the action is overdue once the next day has begun in the Netherlands (Europe/Amsterdam).
    async fn overdue(&self, ctx: &Context<'_>) -> bool {
        action_overdue_at(&self.model, clock(ctx).now())
    }
    /// Version for optimistic concurrency.
    async fn version(&self) -> i32 {
        self.model.version
    }
    /// Record metadata.
    async fn meta(&self) -> RecordMeta {
        ggzhub_kit::record_meta!(self.model)
    }
}

/// A page of the actions of `scope` that the caller may read, with `status` and `overdue` as
/// given, in id order (oldest first); `null` with `FORBIDDEN` for the hub operator. One statement for every region's or overview's list in the
/// request.
pub async fn action_page(
    ctx: &Context<'_>,
    scope: ActionScope,
    status: Option<ActionStatus>,
    overdue: Option<bool>,
    first: Option<i32>,
    after: Option<String>,
) -> Result<Option<PublicConnection<RegionalAction>>> {
    let c = caller(ctx)?;
    access::read_overviews(c).gql()?;
    let page = Page::new(first, after).gql()?;
    let today = clock(ctx).today();
    let rows: Vec<regional_action::Model> = loaders(ctx)?
        .closing
        .actions
        .load_one(scope)
        .await
        .map_err(load_err)?
        .unwrap_or_default()
        .into_iter()
        .filter(|(a, o): &(regional_action::Model, overview::Model)| {
            access::can_see_action(c, o)
                && status.is_none_or(|s| a.status == s.as_str())
                && overdue.is_none_or(|d| action_overdue(a, today) == d)
        })
        .map(|(a, _)| a)
        .collect();
    let total = TotalCount::known(rows.len() as u64);
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|a| page.after.as_ref().is_none_or(|after| &a.id > after))
        .take(page.limit() as usize)
        .collect();
    Ok(Some(connection(&page, rows, total, |a| a.id.clone(), |model| RegionalAction { model })))
}
