//! Planned offers (issue 21 item 4): new crucial care a region's table decided it needs, before
//! any provider offers it. A planned offer is its own type, not a `CareOffer` without a provider,
//! so `CareOffer.provider` stays non-null and supply counts stay supply: the region's chair plans
//! one (optionally naming the intended provider and the overview it arises from), a provider
//! realises it into a `CareOffer` (status `SECURED`), or the chair withdraws it. Planned offers
//! that are still `PLANNED` appear in `offerCounts` with status `PLANNED`, never as existing
//! supply (`missingCategories`, capacity and the other statuses' counts do not see them).

use async_graphql::{Context, ID, Object, Result};
use ggzhub_kit::GqlResultExt as _;
use ggzhub_kit::page::{Page, PublicConnection, TotalCount, connection};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::types::*;
use crate::access;
use crate::domain::*;
use crate::entity::planned_offer;

/// A new offer a region's table decided it needs (status `PLANNED`), until a provider realises
/// it into a care offer (`REALISED`) or the region's chair withdraws it (`WITHDRAWN`). Public,
/// like the regional picture; the overview it arises from shows only to those who may read that
/// overview.
pub struct PlannedOffer(pub planned_offer::Model);

/// A new offer a region's table decided it needs (status `PLANNED`), until a provider realises
/// it into a care offer (`REALISED`) or the region's chair withdraws it (`WITHDRAWN`). Public,
/// like the regional picture; the overview it arises from shows only to those who may read that
/// overview.
#[Object(tag = "public")]
impl PlannedOffer {
    /// Id.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// The region that plans it.
    async fn region(&self, ctx: &Context<'_>) -> Result<Region> {
        loaders(ctx)?
            .regions
            .load_one(self.0.region_code.clone())
            .await
            .map_err(load_err)?
            .map(Region)
            .ok_or_else(|| stored("region reference"))
    }
    /// Region code.
    async fn region_code(&self) -> &str {
        &self.0.region_code
    }
    /// Category of crucial care.
    async fn category(&self) -> Result<CareCategory> {
        CareCategory::parse(&self.0.category).ok_or_else(|| stored("category"))
    }
    /// Care form: a national one or the region's own.
    async fn care_form(&self, ctx: &Context<'_>) -> Result<CareForm> {
        loaders(ctx)?
            .care_forms
            .load_one(self.0.care_form.clone())
            .await
            .map_err(load_err)?
            .map(CareForm)
            .ok_or_else(|| stored("care form reference"))
    }
    /// Working name of the department or team.
    async fn unit_name(&self) -> &str {
        &self.0.unit_name
    }
    /// Intended town, if known.
    async fn location(&self) -> Option<&str> {
        self.0.location.as_deref()
    }
    /// The provider the region intends to realise it; `null` when any provider of the region
    /// may.
    async fn intended_provider(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        let Some(id) = &self.0.intended_provider_id else { return Ok(None) };
        Ok(loaders(ctx)?.organisations.load_one(id.clone()).await.map_err(load_err)?.map(Organisation))
    }
    /// The regional overview it arises from; `null` when none, or when the caller may not read
    /// that overview (a draft outside the region's table).
    async fn overview(&self, ctx: &Context<'_>) -> Result<Option<RegionalOverview>> {
        let Some(id) = &self.0.overview_id else { return Ok(None) };
        let c = caller(ctx)?;
        if access::read_overviews(c).is_err() {
            return Ok(None);
        }
        let found = loaders(ctx)?.overviews.load_one(id.clone()).await.map_err(load_err)?;
        Ok(found.filter(|o| access::overview_visible(c, o)).map(RegionalOverview))
    }
    /// Why the region needs it (no personal data).
    async fn motivation(&self) -> &str {
        &self.0.motivation
    }
    /// `PLANNED`, `REALISED` or `WITHDRAWN`.
    async fn status(&self) -> Result<PlannedOfferStatus> {
        PlannedOfferStatus::parse(&self.0.status).ok_or_else(|| stored("planned offer status"))
    }
    /// The care offer that realised it (status `REALISED`).
    async fn realised_offer(&self, ctx: &Context<'_>) -> Result<Option<CareOffer>> {
        let Some(id) = &self.0.realised_offer_id else { return Ok(None) };
        Ok(loaders(ctx)?.offers.load_one(id.clone()).await.map_err(load_err)?.map(CareOffer::new))
    }
    /// Why the chair withdrew it (status `WITHDRAWN`; no personal data).
    async fn withdrawal_reason(&self) -> Option<&str> {
        self.0.withdrawal_reason.as_deref()
    }
    /// Version for optimistic concurrency.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Record metadata.
    async fn meta(&self) -> RecordMeta {
        ggzhub_kit::record_meta!(self.0)
    }
}

/// Queries of planned offers.
pub struct PlanningQuery;

#[Object]
impl PlanningQuery {
    /// Planned offers, optionally of one region, category or status, ordered by id. Public, like
    /// the regional picture (everyone who reads the picture).
    #[graphql(tag = "public")]
    async fn planned_offers(
        &self,
        ctx: &Context<'_>,
        region: Option<String>,
        category: Option<CareCategory>,
        status: Option<PlannedOfferStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<PublicConnection<PlannedOffer>> {
        access::read(caller(ctx)?).gql()?;
        let page = Page::new(first, after).gql()?;
        let db = ctx.data::<DatabaseConnection>()?;
        let mut q = planned_offer::Entity::find().order_by_asc(planned_offer::Column::Id);
        if let Some(r) = region {
            ggzhub_kit::validate::region_code("region", &r).gql()?;
            q = q.filter(planned_offer::Column::RegionCode.eq(r));
        }
        if let Some(c) = category {
            q = q.filter(planned_offer::Column::Category.eq(c.as_str()));
        }
        if let Some(s) = status {
            q = q.filter(planned_offer::Column::Status.eq(s.as_str()));
        }
        let total = TotalCount::of(db, q.clone());
        if let Some(a) = &page.after {
            q = q.filter(planned_offer::Column::Id.gt(a.clone()));
        }
        let rows = q.limit(page.limit()).all(db).await.map_err(ggzhub_kit::ApiError::from).gql()?;
        Ok(connection(&page, rows, total, |m| m.id.clone(), PlannedOffer))
    }

    /// One planned offer by id (any spelling of the UUID, as the mutations take it); `null` when
    /// unknown, `BAD_USER_INPUT` when not an id.
    #[graphql(tag = "public")]
    async fn planned_offer(&self, ctx: &Context<'_>, id: ID) -> Result<Option<PlannedOffer>> {
        access::read(caller(ctx)?).gql()?;
        let id = ggzhub_kit::validate::id("id", &id).gql()?;
        let db = ctx.data::<DatabaseConnection>()?;
        let found = planned_offer::Entity::find_by_id(id).one(db).await.map_err(ggzhub_kit::ApiError::from).gql()?;
        Ok(found.map(PlannedOffer))
    }
}
