//! GraphQL object types of the region subgraph. Each wraps a database row; fields that the
//! access matrix restricts check the caller and answer `null` with a `FORBIDDEN` error.
//!
//! What patient organisations may read (the public picture) is tagged `@tag(name: "public")`,
//! from which the gateway derives its public contract schema: whole types when every field is
//! public, single fields on mixed types and on entities (`Region`, `Organisation`, `CareOffer`,
//! `RegionalOverview`), so that fields other subgraphs add to an entity are not public by
//! inheritance. The resolvers' own checks stay: a tag only says a field may be asked for.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::{ComplexObject, Context, ID, Object, Result, SimpleObject};
use ggzhub_kit::leaf::{Leaf, LeafFields, Nested};
use ggzhub_kit::{ApiError, Caller, GqlResultExt as _, OrgKind};

use crate::access::{self, OverviewView};
use crate::domain::*;
use crate::entity::{care_form, care_offer, organisation, overview, patient_input, region, signal, waiting_time};
use crate::loader::{Loaders, OfferOwner, OfferPageKey};
use ggzhub_kit::page::{Page, PublicConnection, TotalCount, connection};
use ggzhub_kit::people::PeopleCount;

use super::picture as pic;
use crate::picture::{CapacityTotal, CategoryCount, OfferCount, OfferTrendPoint, TrendInterval, WaitingTimeFigure};

pub(crate) fn caller<'a>(ctx: &'a Context<'_>) -> Result<&'a Caller> {
    ctx.data::<Caller>()
}

/// Where "now" comes from for calendar dates: the schema's clock (tests pin it), else the system's.
pub(crate) fn clock(ctx: &Context<'_>) -> ggzhub_kit::calendar::Clock {
    ctx.data_opt::<ggzhub_kit::calendar::Clock>().copied().unwrap_or_default()
}

pub(crate) fn loaders<'a>(ctx: &'a Context<'_>) -> Result<&'a Loaders> {
    ctx.data::<Loaders>()
}

pub(crate) fn load_err(e: crate::loader::LoadError) -> async_graphql::Error {
    use async_graphql::ErrorExtensions as _;
    // A database that cannot be reached is DATABASE_UNAVAILABLE here too, as for direct queries.
    ApiError::from_shared_db(&e).extend()
}

/// A stored value that does not parse: our fault, reported as INTERNAL.
pub(crate) fn stored(what: &str) -> async_graphql::Error {
    use async_graphql::ErrorExtensions as _;
    ApiError::internal(anyhow::anyhow!("invalid stored {what}")).extend()
}

fn json_strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

pub use ggzhub_kit::graphql::RecordMeta;

use ggzhub_kit::record_meta as meta;

/// A region: an IZA region or zorgkantoorregio where providers, insurers and others meet.
pub struct Region(pub Arc<region::Model>);

impl Region {
    /// The care-office regions this region answers for besides itself: for an IZA region those
    /// it overlaps (batched with the other regions of the request), for a care-office region
    /// none.
    async fn answers_for(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        if self.0.kind != RegionKind::Iza.as_str() {
            return Ok(Vec::new());
        }
        let found = loaders(ctx)?.care_use.overlaps.load_one(self.0.code.clone()).await.map_err(load_err)?;
        Ok(found.unwrap_or_default())
    }
}

/// A region's tile on a schematic map of the Netherlands: one square per region, laid out so that
/// a Dutch reader recognises the country (Groningen top right, Zeeland bottom left, Limburg bottom
/// right) and neighbours touch where the grid allows. Schematic, not geography: no boundaries,
/// no coordinates; IZA and care-office regions each form a map of their own.
#[derive(async_graphql::SimpleObject, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(tag = "public")]
pub struct MapTile {
    /// Row, 0 at the top.
    pub row: i32,
    /// Column, 0 at the left.
    pub column: i32,
}

/// A region: an IZA region or zorgkantoorregio where providers, insurers and others meet.
// (The type's description must be the same in every subgraph that defines Region, or composition
// differs from Apollo's; what an IZA region's picture answers is on `overlaps`.)
#[Object]
impl Region {
    /// Region code (kebab-case), e.g. `utrecht`.
    #[graphql(tag = "public")]
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Name.
    #[graphql(tag = "public")]
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// IZA region or care-office region.
    #[graphql(tag = "public")]
    async fn kind(&self) -> Result<RegionKind> {
        RegionKind::parse(&self.0.kind).ok_or_else(|| stored("region kind"))
    }
    /// The region's tile on the schematic map of the Netherlands; `null` when it has none.
    #[graphql(tag = "public")]
    async fn tile(&self) -> Option<MapTile> {
        Some(MapTile { row: self.0.map_row?, column: self.0.map_column? })
    }
    /// Neighbouring regions.
    #[graphql(tag = "public")]
    async fn neighbours(&self, ctx: &Context<'_>) -> Result<Vec<Region>> {
        let codes = json_strings(&self.0.neighbours);
        let found = loaders(ctx)?.regions.load_many(codes.iter().cloned()).await.map_err(load_err)?;
        Ok(codes.iter().filter_map(|c| found.get(c).cloned().map(Region)).collect())
    }
    /// The coordinating insurer (coördinerend zorgverzekeraar), who receives early warnings.
    #[graphql(tag = "public")]
    async fn coordinating_insurer(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        let Some(id) = &self.0.coordinating_insurer_id else { return Ok(None) };
        Ok(loaders(ctx)?.organisations.load_one(id.clone()).await.map_err(load_err)?.map(Organisation))
    }
    /// Care offers located in this region, by category and status; for an IZA region also those
    /// located in the care-office regions it overlaps (`overlaps`).
    #[graphql(tag = "public")]
    async fn offers(
        &self,
        ctx: &Context<'_>,
        category: Option<CareCategory>,
        status: Option<OfferStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<PublicConnection<Leaf<CareOffer>>> {
        access::read(caller(ctx)?).gql()?;
        let page = Page::new(first, after).gql()?;
        let overlapping = self.0.kind == RegionKind::Iza.as_str();
        offer_page(ctx, OfferOwner::Region(self.0.code.clone()), overlapping, category, status, page).await
    }
    /// The regional overview (regiobeeld) of a year; `null` when none exists or the caller may
    /// not read it (a draft outside the region's table).
    #[graphql(tag = "public")]
    async fn overview(&self, ctx: &Context<'_>, year: i32) -> Result<Option<RegionalOverview>> {
        let c = caller(ctx)?;
        access::read_overviews(c).gql()?;
        let found = loaders(ctx)?.overview_by_year.load_one((self.0.code.clone(), year)).await.map_err(load_err)?;
        Ok(found.filter(|o| access::overview_visible(c, o)).map(RegionalOverview))
    }
    /// Categories of crucial care for which this region has no available offer: none located
    /// here and no supra-regional offer serving it (closed offers do not count). An IZA region
    /// misses a category only when none of the care-office regions it overlaps has it either
    /// (the union). The national table's first question; `Region.supraRegionalCoverage`
    /// (national-table subgraph) says what listed national offer covers them.
    #[graphql(tag = "public")]
    async fn missing_categories(&self, ctx: &Context<'_>) -> Result<Vec<CareCategory>> {
        access::read(caller(ctx)?).gql()?;
        let present =
            loaders(ctx)?.categories.load_one(self.0.code.clone()).await.map_err(load_err)?.unwrap_or_default();
        Ok(CareCategory::ALL.iter().copied().filter(|c| !present.contains(c)).collect())
    }
    /// Continuity-signal counts (everyone but the hub operator; details are restricted); for an
    /// IZA region, of the signals in it and in the care-office regions it overlaps, each once.
    #[graphql(tag = "public")]
    async fn signal_counts(&self, ctx: &Context<'_>) -> Result<Option<SignalCounts>> {
        access::read_signal_counts(caller(ctx)?).gql()?;
        let counts = loaders(ctx)?.signal_counts.load_one(self.0.code.clone()).await.map_err(load_err)?;
        Ok(Some(SignalCounts::from(counts.unwrap_or_default())))
    }
    /// Care offers located in this region per category and status (only combinations with
    /// offers); for an IZA region also those located in the care-office regions it overlaps,
    /// each once.
    #[graphql(tag = "public")]
    async fn offer_counts(&self, ctx: &Context<'_>) -> Result<Vec<OfferCount>> {
        pic::region_offer_counts(ctx, &self.0.code).await
    }
    /// Capacity of this region's offers that are not closed, per category: for the region's
    /// participants and the national table; `null` with `FORBIDDEN` for others. An IZA region
    /// sums the offers of the care-office regions it overlaps too, and a provider or insurer reads
    /// it only when it takes part in the IZA region and in every one of those.
    async fn capacity(&self, ctx: &Context<'_>) -> Result<Option<Vec<CapacityTotal>>> {
        let overlapped = self.answers_for(ctx).await?;
        pic::region_capacity(ctx, &self.0.code, &overlapped).await
    }
    /// Offers (not closed) in this region with an intake pause active today, per category (an
    /// IZA region: with the care-office regions it overlaps).
    #[graphql(tag = "public")]
    async fn active_intake_pauses(&self, ctx: &Context<'_>) -> Result<Vec<CategoryCount>> {
        pic::region_intake_pauses(ctx, &self.0.code).await
    }
    /// Waiting times in this region per diagnosis group for `month` (default: the latest month
    /// with reports in the country) against the Treeknorm (an IZA region: over the reports of the
    /// care-office regions it overlaps too, each once); `null` with `FORBIDDEN` for the hub
    /// operator.
    #[graphql(tag = "public")]
    async fn waiting_time_figures(
        &self,
        ctx: &Context<'_>,
        month: Option<String>,
    ) -> Result<Option<Vec<WaitingTimeFigure>>> {
        pic::region_waiting(ctx, &self.0.code, month).await
    }
    /// This region's care offers per status at the end of each period (see
    /// `NationalPicture.offerTrend`); an IZA region counts the offers located in the care-office
    /// regions it overlaps too (by where each offer was located at the time).
    #[graphql(tag = "public")]
    async fn offer_trend(
        &self,
        ctx: &Context<'_>,
        from: String,
        to: String,
        #[graphql(default_with = "TrendInterval::Month")] interval: TrendInterval,
        category: Option<CareCategory>,
    ) -> Result<Vec<OfferTrendPoint>> {
        pic::region_offer_trend(ctx, &self.0.code, &from, &to, interval, category).await
    }
    /// Unieke wachtenden: the region's supplied count of people waiting in `month` (default: the
    /// latest month with a count), each person counted once; `null` when none was supplied.
    /// Everyone but the hub operator reads it; from 1 to 9 it is "fewer than 10" to all but the
    /// supplier. Supplied per region: an IZA region reads only a count supplied for itself, never
    /// a sum of its care-office regions' counts (a person waiting in two would count twice).
    #[graphql(tag = "public")]
    async fn unique_people_waiting(
        &self,
        ctx: &Context<'_>,
        month: Option<String>,
    ) -> Result<Option<super::waiting_plan::UniqueWaitingCount>> {
        super::waiting_plan::region_unique_waiting(ctx, &self.0.code, month).await
    }
    /// The region's lead provider for the transfer mechanism (overdrachtsmechanisme): the hub's
    /// proposal and the regional table's confirmation. Everyone but the hub operator reads it
    /// (`null` with `FORBIDDEN` for the operator). A lead is chosen per care-office region: an
    /// IZA region that overlaps care-office regions answers `null` (read `overlaps { transferLead
    /// }`); an IZA region without overlaps answers for itself.
    #[graphql(tag = "public")]
    async fn transfer_lead(&self, ctx: &Context<'_>) -> Result<Option<super::waiting_plan::TransferLead>> {
        access::read_waiting_times(caller(ctx)?).gql()?;
        if !self.answers_for(ctx).await?.is_empty() {
            return Ok(None);
        }
        super::waiting_plan::region_transfer_lead(ctx, &self.0.code).await.map(Some)
    }
    /// Where the Treeknorm was exceeded most in `quarter` (`YYYY-Qn`), from the waiting-time
    /// reports of its three months (an IZA region: with the reports of the care-office regions it
    /// overlaps, each once; people counts follow the same small-cell rules). Public (everyone but the hub operator: `null` with
    /// `FORBIDDEN`).
    #[graphql(tag = "public")]
    async fn hotspot_report(
        &self,
        ctx: &Context<'_>,
        quarter: String,
    ) -> Result<Option<super::waiting_plan::HotspotReport>> {
        super::waiting_plan::region_hotspot_report(ctx, &self.0.code, &quarter).await.map(Some)
    }
    /// The region's agreed rules for closing crucial offers (its notice period). Public.
    #[graphql(tag = "public")]
    async fn closure_rules(&self, ctx: &Context<'_>) -> Result<super::closing::ClosureRules> {
        super::closing::region_closure_rules(ctx, &self.0.code).await
    }
    /// Crucial offers of this region announced to close, soonest first (public, like status); an
    /// IZA region lists those of the care-office regions it overlaps too.
    #[graphql(tag = "public")]
    async fn announced_closures(&self, ctx: &Context<'_>) -> Result<Vec<super::closing::AnnouncedClosure>> {
        super::closing::region_announced_closures(ctx, &self.0.code).await
    }
    /// Regional actions and agreements of all this region's overviews that the caller may read
    /// (those of published overviews for everyone; of drafts for the table), by `status` and
    /// `overdue`.
    #[graphql(tag = "public")]
    async fn actions(
        &self,
        ctx: &Context<'_>,
        status: Option<super::closing::ActionStatus>,
        overdue: Option<bool>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Option<PublicConnection<super::closing::RegionalAction>>> {
        let scope = crate::closing::ActionScope::Region(self.0.code.clone());
        super::closing::action_page(ctx, scope, status, overdue, first, after).await
    }
    /// Version for optimistic concurrency.
    #[graphql(tag = "public")]
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Record metadata.
    #[graphql(tag = "public")]
    async fn meta(&self) -> RecordMeta {
        meta!(self.0)
    }
    /// The regions of the other kind this region overlaps: for an IZA region the care-office
    /// regions it overlaps, for a care-office region the IZA regions overlapping it (set by the
    /// hub operator with `setRegionOverlaps`). Public. The picture of an IZA region (offers,
    /// counts, capacity, intake pauses, signal counts, waiting times, trends, missing categories,
    /// hotspots, announced closures) answers for the region itself and the care-office regions
    /// it overlaps, each offer, report or signal once; an offer in a care-office region
    /// overlapped by two IZA regions counts in both. What a caller may read is the same as for a
    /// care-office region, never more than through the parts.
    #[graphql(tag = "public")]
    async fn overlaps(&self, ctx: &Context<'_>) -> Result<Vec<Region>> {
        super::care_use::region_overlaps(ctx, &self.0.code).await
    }
    /// Demand and care use (people in care, new referrals) per category in `period` (a quarter
    /// `YYYY-Qn`; default: the latest quarter with figures in the country), one figure per
    /// supplier; an IZA region sums the care-office regions it overlaps (see `CareUseFigure`).
    /// Public; counts from 1 to 9 are "fewer than 10" to everyone but the supplier.
    #[graphql(tag = "public")]
    async fn care_use(
        &self,
        ctx: &Context<'_>,
        period: Option<String>,
        category: Option<CareCategory>,
    ) -> Result<Vec<super::care_use::CareUseFigure>> {
        super::care_use::region_care_use(ctx, &self.0.code, period, category).await
    }
    /// People treated outside their own region: flows out of this region (`OUTGOING`, its people
    /// treated elsewhere) or into it (`INCOMING`) in `period` (default: the latest quarter with
    /// figures). An IZA region answers for the care-office regions it overlaps, without the flows
    /// between them. Public; small cells as in `careUse`.
    #[graphql(tag = "public")]
    async fn care_use_flows(
        &self,
        ctx: &Context<'_>,
        period: Option<String>,
        category: Option<CareCategory>,
        #[graphql(default_with = "crate::care_use::FlowDirection::Outgoing")] direction: crate::care_use::FlowDirection,
    ) -> Result<Vec<super::care_use::CareUseFlow>> {
        super::care_use::region_care_use_flows(ctx, &self.0.code, period, category, direction).await
    }
}

pub(crate) async fn offer_page(
    ctx: &Context<'_>,
    owner: OfferOwner,
    overlapping: bool,
    category: Option<CareCategory>,
    status: Option<OfferStatus>,
    page: Page,
) -> Result<PublicConnection<Leaf<CareOffer>>> {
    refuse_planned_filter(status)?;
    let counts = loaders(ctx)?.offer_counts.clone();
    let count_key = crate::loader::OfferCountKey { owner: owner.clone(), category, status };
    let total = TotalCount::new(move || {
        let (counts, key) = (counts.clone(), count_key.clone());
        Box::pin(async move {
            let n = counts.load_one(key).await.map_err(|e| ApiError::from_shared_db(&e))?;
            Ok(n.unwrap_or(0))
        })
    });
    let key = OfferPageKey { owner, overlapping, category, status, limit: page.limit(), after: page.after.clone() };
    let rows = loaders(ctx)?.offer_pages.load_one(key).await.map_err(load_err)?.unwrap_or_default();
    let related = OfferRelations::of_page(ctx, &rows).await?;
    Ok(connection(&page, rows, total, |m| m.id.clone(), |m| Leaf(CareOffer(m, related.clone()))))
}

/// `BAD_USER_INPUT` for the status filter `PLANNED`: no care offer has it (a planned offer is a
/// `PlannedOffer`), so the filter would silently return nothing.
pub(crate) fn refuse_planned_filter(status: Option<OfferStatus>) -> Result<()> {
    if status == Some(OfferStatus::Planned) {
        return Err(ApiError::bad_input(
            "no care offer has status PLANNED: planned offers are listed by plannedOffers",
        ))
        .gql();
    }
    Ok(())
}

/// Counts of continuity signals in a region.
#[derive(SimpleObject)]
#[graphql(tag = "public")]
pub struct SignalCounts {
    /// Open, not yet acknowledged.
    pub open: i64,
    /// Acknowledged by the coordinating insurer.
    pub acknowledged: i64,
    /// Escalated to the national table.
    pub escalated: i64,
    /// Resolved.
    pub resolved: i64,
    /// Open past the acknowledgement deadline.
    pub overdue: i64,
}

impl From<crate::loader::SignalCounts> for SignalCounts {
    fn from(c: crate::loader::SignalCounts) -> Self {
        Self {
            open: c.open,
            acknowledged: c.acknowledged,
            escalated: c.escalated,
            resolved: c.resolved,
            overdue: c.overdue,
        }
    }
}

/// An organisation taking part in the hub (provider, insurer, patient organisation, …).
pub struct Organisation(pub Arc<organisation::Model>);

/// An organisation taking part in the hub (provider, insurer, patient organisation, …).
#[Object]
impl Organisation {
    /// Hub id.
    #[graphql(tag = "public")]
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// Name.
    #[graphql(tag = "public")]
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Kind.
    #[graphql(tag = "public")]
    async fn kind(&self) -> Result<OrgKind> {
        OrgKind::parse(&self.0.kind).ok_or_else(|| stored("organisation kind"))
    }
    /// KvK number (Chamber of Commerce).
    #[graphql(tag = "public")]
    async fn kvk(&self) -> Option<&str> {
        self.0.kvk.as_deref()
    }
    /// URA (providers).
    #[graphql(tag = "public")]
    async fn ura(&self) -> Option<&str> {
        self.0.ura.as_deref()
    }
    /// AGB code (providers).
    #[graphql(tag = "public")]
    async fn agb(&self) -> Option<&str> {
        self.0.agb.as_deref()
    }
    /// UZOVI code (insurers).
    #[graphql(tag = "public")]
    async fn uzovi(&self) -> Option<&str> {
        self.0.uzovi.as_deref()
    }
    /// Regions whose tables it takes part in.
    #[graphql(tag = "public")]
    async fn regions(&self, ctx: &Context<'_>) -> Result<Vec<Region>> {
        let codes = json_strings(&self.0.regions);
        let found = loaders(ctx)?.regions.load_many(codes.iter().cloned()).await.map_err(load_err)?;
        Ok(codes.iter().filter_map(|c| found.get(c).cloned().map(Region)).collect())
    }
    /// The care offers this organisation provides.
    #[graphql(tag = "public")]
    async fn care_offers(
        &self,
        ctx: &Context<'_>,
        category: Option<CareCategory>,
        status: Option<OfferStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<PublicConnection<Leaf<CareOffer>>> {
        access::read(caller(ctx)?).gql()?;
        let page = Page::new(first, after).gql()?;
        offer_page(ctx, OfferOwner::Provider(self.0.id.clone()), false, category, status, page).await
    }
    /// Version for optimistic concurrency.
    #[graphql(tag = "public")]
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Record metadata.
    #[graphql(tag = "public")]
    async fn meta(&self) -> RecordMeta {
        meta!(self.0)
    }
}

/// Aanbod: one unit of crucial care at department or team level of a provider. With the
/// provider, care form and region of the page it was listed in, when the query asked for them
/// ([`OfferRelations`]).
pub struct CareOffer(pub Arc<care_offer::Model>, pub(crate) Option<Arc<OfferRelations>>);

impl CareOffer {
    /// An offer on its own (its related rows are loaded when asked for).
    pub fn new(model: impl Into<Arc<care_offer::Model>>) -> Self {
        Self(model.into(), None)
    }
}

/// The providers, care forms and regions of one page of offers, loaded with the page (issue 18):
/// a regional overview lists 180 offers, and three DataLoader calls per offer (each with its
/// key sets, result map and channel, then a clone of the row for every caller) cost more than
/// the statements they batch into. The page asks for the keys of all its rows at once — only
/// for the relations its selection names, so a page that does not ask runs no statement more —
/// and its offers answer from these maps (an offer's region from its own row when its code is
/// all the selection asks). The loads go through the same DataLoaders, so the six category pages
/// of a region still share one statement per loader.
#[derive(Default)]
pub struct OfferRelations {
    providers: Option<HashMap<String, Arc<organisation::Model>>>,
    care_forms: Option<HashMap<String, Arc<care_form::Model>>>,
    regions: Option<HashMap<String, Arc<region::Model>>>,
    /// The selection asks its offers' regions for their code (and `__typename`) only, what the
    /// gateway asks for contracting's `@requires`: answered from the offer's row, no region
    /// loaded (`regions` is then `None`).
    region_codes_only: bool,
}

impl OfferRelations {
    /// The relations of `rows` that the current field's selection (`nodes` or `edges.node` of
    /// a connection) asks for; `None` when it asks for none of them.
    pub(crate) async fn of_page(ctx: &Context<'_>, rows: &[Arc<care_offer::Model>]) -> Result<Option<Arc<Self>>> {
        let look = ctx.look_ahead();
        let asks = |field: &str| {
            look.field("nodes").field(field).exists() || look.field("edges").field("node").field(field).exists()
        };
        let (providers, care_forms, mut regions) = (asks("provider"), asks("careForm"), asks("region"));
        if rows.is_empty() || !(providers || care_forms || regions) {
            return Ok(None);
        }
        // An offer's region exists (a foreign key), so its code is all `region { code }` needs.
        let region_codes_only = regions && {
            let code_only = |look: async_graphql::Lookahead<'_>| {
                look.selection_fields()
                    .iter()
                    .all(|region| region.selection_set().all(|f| matches!(f.name(), "code" | "__typename")))
            };
            code_only(look.field("nodes").field("region"))
                && code_only(look.field("edges").field("node").field("region"))
        };
        regions &= !region_codes_only;
        let keys = |key: fn(&care_offer::Model) -> &String| -> Vec<String> {
            let distinct: std::collections::BTreeSet<&String> = rows.iter().map(|m| key(m)).collect();
            distinct.into_iter().cloned().collect()
        };
        let l = loaders(ctx)?;
        let (providers, care_forms, regions) = futures_util::try_join!(
            async {
                match providers {
                    true => l.organisations.load_many(keys(|m| &m.provider_id)).await.map(Some),
                    false => Ok(None),
                }
            },
            async {
                match care_forms {
                    true => l.care_forms.load_many(keys(|m| &m.care_form)).await.map(Some),
                    false => Ok(None),
                }
            },
            async {
                match regions {
                    true => l.regions.load_many(keys(|m| &m.region_code)).await.map(Some),
                    false => Ok(None),
                }
            },
        )
        .map_err(load_err)?;
        Ok(Some(Arc::new(Self { providers, care_forms, regions, region_codes_only })))
    }
}

/// A related row of an offer: from its page's [`OfferRelations`] when they hold that relation,
/// else from the request's DataLoader.
macro_rules! related {
    ($offer:expr, $ctx:expr, $relation:ident, $loader:ident, $key:expr) => {
        match $offer.1.as_ref().and_then(|r| r.$relation.as_ref()) {
            Some(found) => found.get($key).cloned(),
            None => loaders($ctx)?.$loader.load_one($key.clone()).await.map_err(load_err)?,
        }
    };
}

/// Capacity of a care offer (visible to the region's participants and the national table).
#[derive(SimpleObject)]
pub struct Capacity {
    /// Beds.
    pub beds: Option<i32>,
    /// Places.
    pub places: Option<i32>,
    /// Teams.
    pub teams: Option<i32>,
    /// Full-time equivalents.
    pub fte: Option<f64>,
}

/// A value of a plain field: `null` for `None`.
fn plain<T: Into<async_graphql::Value>>(value: Option<T>) -> async_graphql::Value {
    value.map_or(async_graphql::Value::Null, Into::into)
}

/// A date as the `NaiveDate` scalar gives it.
fn date_value(date: chrono::NaiveDate) -> async_graphql::Value {
    async_graphql::ScalarType::to_value(&date)
}

// The plain fields of the small objects an offer lists (issue 18: `ggzhub_kit::leaf`). Only
// fields that need no context and cannot fail; access to them is checked where the object is
// given out (`CareOffer.capacity`).
impl LeafFields for Capacity {
    fn leaf_field(&self, name: &str) -> Option<async_graphql::Value> {
        match name {
            "beds" => Some(plain(self.beds)),
            "places" => Some(plain(self.places)),
            "teams" => Some(plain(self.teams)),
            "fte" => Some(plain(self.fte)),
            _ => None,
        }
    }
}

impl LeafFields for IntakePause {
    fn leaf_field(&self, name: &str) -> Option<async_graphql::Value> {
        match name {
            "from" => Some(date_value(self.from)),
            "until" => Some(self.until.map_or(async_graphql::Value::Null, date_value)),
            "reason" => Some(self.reason.as_str().into()),
            _ => None,
        }
    }
}

impl LeafFields for Organisation {
    fn leaf_field(&self, name: &str) -> Option<async_graphql::Value> {
        let m = &self.0;
        match name {
            "id" => Some(m.id.as_str().into()),
            "name" => Some(m.name.as_str().into()),
            "kvk" => Some(plain(m.kvk.as_deref())),
            "ura" => Some(plain(m.ura.as_deref())),
            "agb" => Some(plain(m.agb.as_deref())),
            "uzovi" => Some(plain(m.uzovi.as_deref())),
            _ => None,
        }
    }
}

impl LeafFields for Region {
    fn leaf_field(&self, name: &str) -> Option<async_graphql::Value> {
        match name {
            "code" => Some(self.0.code.as_str().into()),
            "name" => Some(self.0.name.as_str().into()),
            _ => None,
        }
    }
}

impl LeafFields for CareForm {
    fn leaf_field(&self, name: &str) -> Option<async_graphql::Value> {
        match name {
            "code" => Some(self.0.code.as_str().into()),
            "name" => Some(self.0.name.as_str().into()),
            "description" => Some(self.0.description.as_str().into()),
            _ => None,
        }
    }
}

/// An offer's value of a stored enum: `None` (the resolver's error) for a value it does not know.
fn stored_enum<E: async_graphql::EnumType>(value: Option<E>) -> Option<async_graphql::Value> {
    value.map(async_graphql::resolver_utils::enum_value)
}

// An offer in a list (issue 18: 180 of them in a regional overview): its plain fields, and its
// small objects when its page loaded them ([`OfferRelations`]) or, for its region's code, when
// its page found that code is all asked (the offer's row holds it), and the caller may read them.
// Anything else (a missing related row, a refused capacity, a stored value the enum does not
// know) answers `None`, and the offer goes through its resolver, which answers the error.
impl LeafFields for CareOffer {
    fn leaf_field(&self, name: &str) -> Option<async_graphql::Value> {
        let m = &self.0;
        match name {
            "id" => Some(m.id.as_str().into()),
            "unitName" => Some(m.unit_name.as_str().into()),
            "location" => Some(m.location.as_str().into()),
            "supraRegional" => Some(m.supra_regional.into()),
            "version" => Some(m.version.into()),
            "category" => stored_enum(CareCategory::parse(&m.category)),
            "status" => stored_enum(OfferStatus::parse(&m.status)),
            "availability" => stored_enum(Availability::parse(&m.availability)),
            _ => None,
        }
    }

    fn leaf_object(&self, name: &str, nested: &Nested<'_, '_>) -> Option<async_graphql::Value> {
        let (m, related) = (&self.0, self.1.as_deref());
        match name {
            "provider" => nested.answer(&Organisation(related?.providers.as_ref()?.get(&m.provider_id)?.clone())),
            "careForm" => nested.answer(&CareForm(related?.care_forms.as_ref()?.get(&m.care_form)?.clone())),
            "region" => match &related?.regions {
                Some(regions) => nested.answer(&Region(regions.get(&m.region_code)?.clone())),
                None if related?.region_codes_only => nested
                    .answer_known(&<Region as async_graphql::OutputType>::type_name(), |field| {
                        (field == "code").then(|| m.region_code.as_str().into())
                    }),
                None => None,
            },
            "intakePause" => match m.intake_pause_from {
                None => Some(async_graphql::Value::Null),
                Some(from) => nested.answer(&IntakePause {
                    from,
                    until: m.intake_pause_until,
                    reason: m.intake_pause_reason.clone().unwrap_or_default(),
                }),
            },
            "capacity" => {
                access::offer_detail(nested.data::<Caller>()?, m).ok()?;
                nested.answer(&Capacity { beds: m.beds, places: m.places, teams: m.teams, fte: m.fte })
            }
            _ => None,
        }
    }
}

/// Aanmeldpauze: the provider temporarily takes no new registrations.
#[derive(SimpleObject)]
#[graphql(tag = "public")]
pub struct IntakePause {
    /// First day of the pause.
    pub from: chrono::NaiveDate,
    /// Last day; open-ended when `null`.
    pub until: Option<chrono::NaiveDate>,
    /// Reason (no personal data).
    pub reason: String,
}

/// Aanbod: one unit of crucial care at department or team level of a provider.
#[Object]
impl CareOffer {
    /// Id.
    #[graphql(tag = "public")]
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// The providing organisation.
    #[graphql(tag = "public")]
    async fn provider(&self, ctx: &Context<'_>) -> Result<Leaf<Organisation>> {
        related!(self, ctx, providers, organisations, &self.0.provider_id)
            .map(|o| Leaf(Organisation(o)))
            .ok_or_else(|| stored("provider reference"))
    }
    /// The region it is located in.
    #[graphql(tag = "public")]
    async fn region(&self, ctx: &Context<'_>) -> Result<Leaf<Region>> {
        related!(self, ctx, regions, regions, &self.0.region_code)
            .map(|r| Leaf(Region(r)))
            .ok_or_else(|| stored("region reference"))
    }
    /// Category of crucial care.
    #[graphql(tag = "public")]
    async fn category(&self) -> Result<CareCategory> {
        CareCategory::parse(&self.0.category).ok_or_else(|| stored("category"))
    }
    /// Care form (zorgvorm).
    #[graphql(tag = "public")]
    async fn care_form(&self, ctx: &Context<'_>) -> Result<Leaf<CareForm>> {
        related!(self, ctx, care_forms, care_forms, &self.0.care_form)
            .map(|f| Leaf(CareForm(f)))
            .ok_or_else(|| stored("care form reference"))
    }
    /// Department or team name.
    #[graphql(tag = "public")]
    async fn unit_name(&self) -> &str {
        &self.0.unit_name
    }
    /// Location (town).
    #[graphql(tag = "public")]
    async fn location(&self) -> &str {
        &self.0.location
    }
    /// When it is available.
    #[graphql(tag = "public")]
    async fn availability(&self) -> Result<Availability> {
        Availability::parse(&self.0.availability).ok_or_else(|| stored("availability"))
    }
    /// Continuity status.
    #[graphql(tag = "public")]
    async fn status(&self) -> Result<OfferStatus> {
        OfferStatus::parse(&self.0.status).ok_or_else(|| stored("status"))
    }
    /// Whether the offer has a supra-regional (bovenregionaal) function.
    #[graphql(tag = "public")]
    async fn supra_regional(&self) -> bool {
        self.0.supra_regional
    }
    /// Codes of the regions it serves (including its own).
    #[graphql(tag = "public")]
    async fn regions_served(&self) -> Vec<String> {
        json_strings(&self.0.regions_served)
    }
    /// Current intake pause, if any.
    #[graphql(tag = "public")]
    async fn intake_pause(&self) -> Option<Leaf<IntakePause>> {
        self.0.intake_pause_from.map(|from| {
            Leaf(IntakePause {
                from,
                until: self.0.intake_pause_until,
                reason: self.0.intake_pause_reason.clone().unwrap_or_default(),
            })
        })
    }
    /// Capacity detail (region participants and the national table only).
    async fn capacity(&self, ctx: &Context<'_>) -> Result<Option<Leaf<Capacity>>> {
        access::offer_detail(caller(ctx)?, &self.0).gql()?;
        Ok(Some(Leaf(Capacity { beds: self.0.beds, places: self.0.places, teams: self.0.teams, fte: self.0.fte })))
    }
    /// Inclusion criteria (no personal data): public since issue 21, as the remedy against
    /// exclusion — patient organisations, municipalities, the public and every provider as a
    /// referrer read them (not the hub operator: `null` with `FORBIDDEN`).
    #[graphql(tag = "public")]
    async fn inclusion_criteria(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        access::read_inclusion_criteria(caller(ctx)?).gql()?;
        Ok(self.0.inclusion_criteria.clone())
    }
    /// For referrers: whether an intake is possible now and the expected wait in weeks, as the
    /// provider set it (`setIntakeOutlook`); "not possible now" while an intake pause is active
    /// or the offer is closed. `null` when never set and nothing forces it. Public: referrers
    /// such as GPs are not in the hub.
    #[graphql(tag = "public")]
    async fn intake_outlook(&self, ctx: &Context<'_>) -> Result<Option<super::waiting_plan::IntakeOutlook>> {
        super::waiting_plan::offer_intake_outlook(ctx, &self.0).await
    }
    /// Why the offer is `UNDER_PRESSURE` or `CLOSING` (or closed): the cause given with the status
    /// change (region participants and the national table only, like capacity).
    async fn status_cause(&self, ctx: &Context<'_>) -> Result<Option<super::closing::StatusCause>> {
        super::closing::offer_status_cause(ctx, &self.0).await
    }
    /// Planned closing date of a `CLOSING` offer whose closure was announced (public, like
    /// status); `null` otherwise.
    #[graphql(tag = "public")]
    async fn planned_closing_date(&self, ctx: &Context<'_>) -> Result<Option<chrono::NaiveDate>> {
        super::closing::offer_planned_closing_date(ctx, &self.0).await
    }
    /// Version for optimistic concurrency.
    #[graphql(tag = "public")]
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Record metadata.
    #[graphql(tag = "public")]
    async fn meta(&self) -> RecordMeta {
        meta!(self.0)
    }
}

/// Zorgvorm: a form of care within a category (code list).
pub struct CareForm(pub Arc<care_form::Model>);

/// Zorgvorm: a form of care within a category (code list).
#[Object(tag = "public")]
impl CareForm {
    /// Code, e.g. `CRISIS_SERVICE`.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Category.
    async fn category(&self) -> Result<CareCategory> {
        CareCategory::parse(&self.0.category).ok_or_else(|| stored("category"))
    }
    /// Dutch name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Description.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// The region whose own form this is (added by its chair, issue 21); `null` for the forms
    /// of the national list. An offer in a region may use the national forms and its region's own.
    async fn region(&self, ctx: &Context<'_>) -> Result<Option<Region>> {
        let Some(code) = &self.0.region_code else { return Ok(None) };
        Ok(loaders(ctx)?.regions.load_one(code.clone()).await.map_err(load_err)?.map(Region))
    }
    /// Why the region added this form (regional forms only; no personal data); `null` for the
    /// national list.
    async fn motivation(&self) -> Option<&str> {
        self.0.motivation.as_deref()
    }
    /// Whether the region's chair retired this regional form: a retired form is offered for no
    /// new or changed offer; offers that already use it keep it.
    async fn retired(&self) -> bool {
        self.0.retired_at.is_some()
    }
    /// When the region's chair retired it; `null` while it is in use.
    async fn retired_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.retired_at
    }
    /// Why the region's chair retired it (no personal data); `null` while it is in use.
    async fn retirement_reason(&self) -> Option<&str> {
        self.0.retirement_reason.as_deref()
    }
    /// Version for optimistic concurrency (`updateRegionalCareForm`, `retireRegionalCareForm`).
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Record metadata: who added the form (the region's chair; the hub operator for the
    /// national list) and who changed it last, and when. Public, like the form.
    async fn meta(&self) -> RecordMeta {
        meta!(self.0)
    }
}

/// Hoofddiagnosegroep: a diagnosis group in which waiting times are published.
#[derive(SimpleObject)]
#[graphql(tag = "public")]
pub struct DiagnosisGroup {
    /// Code.
    pub code: String,
    /// Dutch name.
    pub name: String,
}

/// Wachttijden: a provider's waiting times at one location for one diagnosis group and month.
#[derive(SimpleObject)]
#[graphql(complex, tag = "public")]
pub struct WaitingTimeReport {
    /// Id.
    pub id: ID,
    /// Reporting provider id.
    pub provider_id: ID,
    /// Region of the location.
    pub region_code: String,
    /// Location (town).
    pub location: String,
    /// Diagnosis group code.
    pub diagnosis_group: String,
    /// Month, `YYYY-MM`.
    pub month: String,
    /// Weeks from registration to intake (aanmeldwachttijd).
    pub registration_to_intake_weeks: f64,
    /// Weeks from intake to treatment (behandelwachttijd).
    pub intake_to_treatment_weeks: f64,
    /// Version for optimistic concurrency.
    pub version: i32,
    #[graphql(skip)]
    pub model: waiting_time::Model,
}

impl From<waiting_time::Model> for WaitingTimeReport {
    fn from(m: waiting_time::Model) -> Self {
        Self {
            id: ID(m.id.clone()),
            provider_id: ID(m.provider_id.clone()),
            region_code: m.region_code.clone(),
            location: m.location.clone(),
            diagnosis_group: m.diagnosis_group.clone(),
            month: m.month.clone(),
            registration_to_intake_weeks: m.registration_weeks,
            intake_to_treatment_weeks: m.treatment_weeks,
            version: m.version,
            model: m,
        }
    }
}

#[ComplexObject]
impl WaitingTimeReport {
    /// Number of people waiting (a count, never names). From 1 to 9 it is shown as "fewer than
    /// 10" to everyone but the reporting provider, which sees its own exact figure.
    async fn waiting_count(&self, ctx: &Context<'_>) -> Result<PeopleCount> {
        let supplier = caller(ctx)?.org.to_string() == self.model.provider_id;
        Ok(PeopleCount::shown(self.model.waiting_count, supplier))
    }
    /// Intakes in the month (people; `null` when not reported). From 1 to 9 it is shown as
    /// "fewer than 10" to everyone but the reporting provider.
    async fn intakes(&self, ctx: &Context<'_>) -> Result<Option<PeopleCount>> {
        let supplier = caller(ctx)?.org.to_string() == self.model.provider_id;
        Ok(self.model.intakes.map(|n| PeopleCount::shown(n, supplier)))
    }
    /// Treatment starts in the month (people; `null` when not reported). From 1 to 9 it is shown
    /// as "fewer than 10" to everyone but the reporting provider.
    async fn treatment_starts(&self, ctx: &Context<'_>) -> Result<Option<PeopleCount>> {
        let supplier = caller(ctx)?.org.to_string() == self.model.provider_id;
        Ok(self.model.treatment_starts.map(|n| PeopleCount::shown(n, supplier)))
    }
    /// Registration to treatment, in weeks.
    async fn total_weeks(&self) -> f64 {
        self.registration_to_intake_weeks + self.intake_to_treatment_weeks
    }
    /// Registration to intake exceeds the Treeknorm of 4 weeks.
    async fn exceeds_intake_norm(&self) -> bool {
        self.registration_to_intake_weeks > TREEKNORM_INTAKE_WEEKS
    }
    /// Intake to treatment exceeds the Treeknorm of 10 weeks.
    async fn exceeds_treatment_norm(&self) -> bool {
        self.intake_to_treatment_weeks > TREEKNORM_TREATMENT_WEEKS
    }
    /// Registration to treatment exceeds the Treeknorm of 14 weeks.
    async fn exceeds_total_norm(&self) -> bool {
        self.registration_to_intake_weeks + self.intake_to_treatment_weeks > TREEKNORM_TOTAL_WEEKS
    }
    /// Whether any of the three Treeknorm limits is exceeded.
    async fn exceeds_treeknorm(&self) -> bool {
        self.registration_to_intake_weeks > TREEKNORM_INTAKE_WEEKS
            || self.intake_to_treatment_weeks > TREEKNORM_TREATMENT_WEEKS
            || self.registration_to_intake_weeks + self.intake_to_treatment_weeks > TREEKNORM_TOTAL_WEEKS
    }
    /// The reporting provider.
    async fn provider(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        Ok(loaders(ctx)?
            .organisations
            .load_one(self.model.provider_id.clone())
            .await
            .map_err(load_err)?
            .map(Organisation))
    }
    /// Record metadata.
    async fn meta(&self) -> RecordMeta {
        meta!(self.model)
    }
}

/// Vroegsignalering: a provider's early warning that a department's or team's continuity is at risk.
pub struct ContinuitySignal {
    /// The stored signal.
    pub model: signal::Model,
    /// Whether the caller sees it in full (its provider, the coordinating insurer, an insurer
    /// contracting the offer, the national table once escalated). A region's chair otherwise sees
    /// only id, region, status and dates.
    pub full: bool,
}

impl ContinuitySignal {
    /// A signal the caller sees in full.
    pub fn full(model: signal::Model) -> Self {
        Self { model, full: true }
    }

    fn detail(&self) -> Result<()> {
        if self.full {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "a signal's offer and content are visible to its provider, the coordinating insurer, insurers contracting the offer and, once escalated, the national table",
            ))
            .gql()
        }
    }
}

/// Vroegsignalering: a provider's early warning that a department's or team's continuity is at risk.
#[Object]
impl ContinuitySignal {
    /// Id.
    async fn id(&self) -> ID {
        ID(self.model.id.clone())
    }
    /// The care offer at risk (full viewers only).
    async fn offer(&self, ctx: &Context<'_>) -> Result<Option<CareOffer>> {
        self.detail()?;
        Ok(loaders(ctx)?.offers.load_one(self.model.offer_id.clone()).await.map_err(load_err)?.map(CareOffer::new))
    }
    /// Region code of the offer.
    async fn region_code(&self) -> &str {
        &self.model.region_code
    }
    /// What threatens continuity (full viewers only).
    async fn kind(&self) -> Result<Option<SignalKind>> {
        self.detail()?;
        Ok(Some(SignalKind::parse(&self.model.kind).ok_or_else(|| stored("kind"))?))
    }
    /// How serious it is (full viewers only).
    async fn severity(&self) -> Result<Option<Severity>> {
        self.detail()?;
        Ok(Some(Severity::parse(&self.model.severity).ok_or_else(|| stored("severity"))?))
    }
    /// Description (full viewers only; no personal data).
    async fn description(&self) -> Result<Option<&str>> {
        self.detail()?;
        Ok(Some(&self.model.description))
    }
    /// When the problem is expected to bite (full viewers only).
    async fn expected_date(&self) -> Result<Option<chrono::NaiveDate>> {
        self.detail()?;
        Ok(self.model.expected_date)
    }
    /// Status.
    async fn status(&self) -> Result<SignalStatus> {
        SignalStatus::parse(&self.model.status).ok_or_else(|| stored("status"))
    }
    /// When it was raised.
    async fn raised_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.model.raised_at
    }
    /// The coordinating insurer must acknowledge before this moment.
    async fn acknowledgement_deadline(&self) -> chrono::DateTime<chrono::Utc> {
        self.model.acknowledgement_deadline
    }
    /// Still open after the acknowledgement deadline.
    async fn overdue(&self) -> bool {
        self.model.status == SignalStatus::Open.as_str() && self.model.acknowledgement_deadline < chrono::Utc::now()
    }
    /// When it was acknowledged.
    async fn acknowledged_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.model.acknowledged_at
    }
    /// Acknowledging organisation id (full viewers only).
    async fn acknowledged_by(&self) -> Result<Option<ID>> {
        self.detail()?;
        Ok(self.model.acknowledged_by.clone().map(ID))
    }
    /// The coordinating insurer's response, given when it acknowledged the signal (full viewers
    /// only; no personal data). `null` until acknowledged.
    async fn response(&self) -> Result<Option<&str>> {
        self.detail()?;
        Ok(self.model.response.as_deref())
    }
    /// Version for optimistic concurrency.
    async fn version(&self) -> i32 {
        self.model.version
    }
    /// Record metadata (full viewers only).
    async fn meta(&self) -> Result<Option<RecordMeta>> {
        self.detail()?;
        Ok(Some(meta!(self.model)))
    }
}

/// The four questions of the regional test for one category.
#[derive(Debug, Clone, SimpleObject, serde::Serialize, serde::Deserialize)]
#[graphql(tag = "public")]
#[serde(rename_all = "camelCase")]
pub struct CategoryAssessment {
    /// Category.
    pub category: CareCategory,
    /// What crucial care the region has.
    pub what_we_have: String,
    /// Problems the region sees or foresees.
    pub problems: String,
    /// What is missing.
    pub missing: String,
    /// Code of a neighbouring region that covers what is missing, if any.
    pub covered_by_neighbour: Option<String>,
    /// Which offer has a supra-regional role.
    pub supra_regional_role: String,
}

/// Regiobeeld: a region's picture for one year of what crucial care exists, is under pressure
/// and is missing.
pub struct RegionalOverview(pub Arc<overview::Model>);

/// Regiobeeld: a region's picture for one year of what crucial care exists, is under pressure
/// and is missing.
#[Object]
impl RegionalOverview {
    /// Id.
    #[graphql(tag = "public")]
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// The region.
    #[graphql(tag = "public")]
    async fn region(&self, ctx: &Context<'_>) -> Result<Option<Region>> {
        Ok(loaders(ctx)?.regions.load_one(self.0.region_code.clone()).await.map_err(load_err)?.map(Region))
    }
    /// Region code.
    #[graphql(tag = "public")]
    async fn region_code(&self) -> &str {
        &self.0.region_code
    }
    /// Year.
    #[graphql(tag = "public")]
    async fn year(&self) -> i32 {
        self.0.year
    }
    /// Draft or published.
    #[graphql(tag = "public")]
    async fn status(&self) -> Result<OverviewStatus> {
        OverviewStatus::parse(&self.0.status).ok_or_else(|| stored("status"))
    }
    /// Public summary.
    #[graphql(tag = "public")]
    async fn public_summary(&self) -> &str {
        &self.0.public_summary
    }
    /// The regional test per category.
    #[graphql(tag = "public")]
    async fn assessments(&self) -> Result<Vec<CategoryAssessment>> {
        serde_json::from_value(self.0.assessments.clone()).map_err(|_| stored("assessments"))
    }
    /// Confidential notes (the region's participants and the national table only; no personal data).
    async fn confidential_notes(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        access::require_overview(caller(ctx)?, &self.0, OverviewView::Full).gql()?;
        Ok(Some(self.0.confidential_notes.clone()))
    }
    /// Patient organisations' input, published with the overview: everyone who reads the
    /// overview reads the input not marked internal; internal input only the region's providers
    /// and insurers, the national table and its author read (issue 21).
    #[graphql(tag = "public")]
    async fn patient_inputs(&self, ctx: &Context<'_>) -> Result<Option<Vec<PatientInput>>> {
        let c = caller(ctx)?;
        access::read(c).gql()?;
        let rows =
            loaders(ctx)?.patient_inputs.load_one(self.0.id.clone()).await.map_err(load_err)?.unwrap_or_default();
        Ok(Some(rows.into_iter().filter(|r| access::can_see_patient_input(c, &self.0, r)).map(PatientInput).collect()))
    }
    /// When it was published.
    #[graphql(tag = "public")]
    async fn published_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.published_at
    }
    /// Actions and agreements arising from this overview, by `status` and `overdue` (readable by
    /// whoever reads the overview).
    #[graphql(tag = "public")]
    async fn actions(
        &self,
        ctx: &Context<'_>,
        status: Option<super::closing::ActionStatus>,
        overdue: Option<bool>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Option<PublicConnection<super::closing::RegionalAction>>> {
        let scope = crate::closing::ActionScope::Overview(self.0.id.clone());
        super::closing::action_page(ctx, scope, status, overdue, first, after).await
    }
    /// The region's crucial offers announced to close, soonest first: on the table's agenda.
    #[graphql(tag = "public")]
    async fn announced_closures(&self, ctx: &Context<'_>) -> Result<Vec<super::closing::AnnouncedClosure>> {
        super::closing::region_announced_closures(ctx, &self.0.region_code).await
    }
    /// Version for optimistic concurrency.
    #[graphql(tag = "public")]
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Record metadata.
    #[graphql(tag = "public")]
    async fn meta(&self) -> RecordMeta {
        meta!(self.0)
    }
}

/// A patient organisation's contribution to a regional overview.
pub struct PatientInput(pub patient_input::Model);

/// A patient organisation's contribution to a regional overview.
#[Object(tag = "public")]
impl PatientInput {
    /// Id.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// Overview id.
    async fn overview_id(&self) -> ID {
        ID(self.0.overview_id.clone())
    }
    /// Contributing organisation.
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        Ok(loaders(ctx)?
            .organisations
            .load_one(self.0.organisation_id.clone())
            .await
            .map_err(load_err)?
            .map(Organisation))
    }
    /// The input (no personal data).
    async fn text(&self) -> &str {
        &self.0.text
    }
    /// Kept internal by its author: not published with the overview, read only by the region's
    /// providers and insurers, the national table and the author (issue 21).
    async fn internal(&self) -> bool {
        self.0.internal
    }
    /// Version for optimistic concurrency.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Record metadata.
    async fn meta(&self) -> RecordMeta {
        meta!(self.0)
    }
}

pub use ggzhub_kit::audit::AuditEntry;
