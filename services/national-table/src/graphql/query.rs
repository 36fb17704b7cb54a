//! Query root and entity resolvers of the national-table subgraph.

use async_graphql::{Context, ID, Object, Result};
use ggzhub_kit::page::{Page, PublicConnection, TotalCount, connection};
use ggzhub_kit::{ApiError, GqlResultExt as _};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::types::*;
use crate::access;
use crate::domain::*;
use crate::entity::{escalation, kpi, listing, network};

/// The national-table subgraph's queries.
pub struct Query;

fn db<'a>(ctx: &'a Context<'_>) -> Result<&'a DatabaseConnection> {
    ctx.data::<DatabaseConnection>()
}

fn api<T>(r: std::result::Result<T, sea_orm::DbErr>) -> Result<T> {
    r.map_err(ApiError::from).gql()
}

fn not_found(what: &str, id: &str) -> async_graphql::Error {
    use async_graphql::ErrorExtensions as _;
    ApiError::not_found(format!("no {what} with id {}", ggzhub_kit::validate::shown(id))).extend()
}

/// `_entities` answers per representation: a failure nulls that entity only.
fn entity_or_null<T>(ctx: &Context<'_>, found: Result<T>) -> Option<T> {
    match found {
        Ok(entity) => Some(entity),
        Err(e) => {
            ctx.add_error(ctx.set_error_path(e.into_server_error(ctx.item.pos)));
            None
        }
    }
}

/// Queries of the national table: escalations, the supra-regional list, expertise networks and
/// national KPIs.
#[Object(name = "Query")]
impl Query {
    /// One escalation; `null` when it does not exist or is not visible to the caller.
    #[graphql(tag = "public")]
    async fn escalation(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Escalation>> {
        let c = caller(ctx)?;
        access::read(c).gql()?;
        let row = loaders(ctx)?.escalations.load_one(id.0).await.map_err(load_err)?;
        Ok(row.and_then(|e| visible(c, e)))
    }

    /// Escalations the caller may see, by id: the raising region's participants and the national
    /// table see them all, everyone else sees decided ones (their public part).
    #[graphql(tag = "public")]
    async fn escalations(
        &self,
        ctx: &Context<'_>,
        region: Option<String>,
        status: Option<EscalationStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<PublicConnection<Escalation>> {
        let c = caller(ctx)?;
        let full_regions = access::escalation_filter(c).gql()?;
        let page = Page::new(first, after).gql()?;
        let mut cond = Condition::all();
        if let Some(regions) = full_regions {
            cond = cond.add(
                Condition::any()
                    .add(escalation::Column::RegionCode.is_in(regions))
                    .add(escalation::Column::Status.is_in(EscalationStatus::DECIDED)),
            );
        }
        if let Some(r) = region {
            ggzhub_kit::validate::region_code("region", &r).gql()?;
            cond = cond.add(escalation::Column::RegionCode.eq(r));
        }
        if let Some(s) = status {
            cond = cond.add(escalation::Column::Status.eq(s.as_str()));
        }
        let total = TotalCount::of(db(ctx)?, escalation::Entity::find().filter(cond.clone()));
        if let Some(a) = &page.after {
            cond = cond.add(escalation::Column::Id.gt(a.clone()));
        }
        let rows = api(escalation::Entity::find()
            .filter(cond)
            .order_by_asc(escalation::Column::Id)
            .limit(page.limit())
            .all(db(ctx)?)
            .await)?;
        Ok(connection(&page, rows, total, |m| m.id.clone(), Escalation))
    }

    /// The escalation feed's position now (issue 22): take it before reading everything with
    /// `escalations`, then ask `escalationChanges(since:)` with it, and afterwards with each
    /// answer's `next`: nothing committed after it is missed. (Positions of this feed are not
    /// those of `changeFeedPosition`, which the region subgraph keeps.)
    #[graphql(tag = "public")]
    async fn escalation_feed_position(&self, ctx: &Context<'_>) -> Result<String> {
        access::read(caller(ctx)?).gql()?;
        Ok(api(ggzhub_kit::changes::position(db(ctx)?).await)?.encode())
    }

    /// Escalations raised or moved along since `since`, in commit order, each once per page with
    /// its state now, only those `escalations` shows the caller; at most `first` (1–500, default
    /// 100) changes per page.
    #[graphql(tag = "public")]
    async fn escalation_changes(
        &self,
        ctx: &Context<'_>,
        since: String,
        first: Option<i32>,
    ) -> Result<EscalationChanges> {
        let c = caller(ctx)?;
        access::escalation_filter(c).gql()?;
        let after = ggzhub_kit::changes::Cursor::decode(&since).map_err(ApiError::bad_input).gql()?;
        let first = first.unwrap_or(100);
        if !(1..=500).contains(&first) {
            return Err(ApiError::bad_input(format!("first must be between 1 and 500, not {first}"))).gql();
        }
        let read = api(ggzhub_kit::changes::since(db(ctx)?, "Escalation", after, first as u64).await)?;
        let has_more = read.len() == first as usize;
        let next = read.last().map_or(after, |c| c.cursor).encode();
        let ids: Vec<String> = read.iter().map(|c| c.entity_id.clone()).collect();
        let mut found: std::collections::HashMap<String, escalation::Model> =
            api(escalation::Entity::find().filter(escalation::Column::Id.is_in(ids)).all(db(ctx)?).await)?
                .into_iter()
                .map(|m| (m.id.clone(), m))
                .collect();
        // Each escalation once, at its last change in the page; escalations are never deleted,
        // and one the caller may not see is left out as if it did not exist.
        let mut last = std::collections::HashMap::new();
        for (i, change) in read.iter().enumerate() {
            last.insert(change.entity_id.clone(), i);
        }
        let mut changes = Vec::new();
        for (i, change) in read.into_iter().enumerate() {
            if last.get(&change.entity_id) != Some(&i) {
                continue;
            }
            if let Some(node) = found.remove(&change.entity_id).and_then(|m| visible(c, m)) {
                changes.push(EscalationChange { id: ID(change.entity_id), node, cursor: change.cursor.encode() });
            }
        }
        Ok(EscalationChanges { changes, next, has_more })
    }

    /// The supra-regional (national crucial) offer list, optionally only HS-8 offers or those
    /// serving one region.
    #[graphql(tag = "public")]
    async fn supra_regional_listings(
        &self,
        ctx: &Context<'_>,
        hs8: Option<bool>,
        region: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<PublicConnection<SupraRegionalListing>> {
        access::read(caller(ctx)?).gql()?;
        let page = Page::new(first, after).gql()?;
        let mut q = listing::Entity::find().order_by_asc(listing::Column::Id);
        if let Some(h) = hs8 {
            q = q.filter(listing::Column::Hs8.eq(h));
        }
        if let Some(code) = region {
            ggzhub_kit::validate::region_code("region", &code).gql()?;
            q = q.filter(ggzhub_kit::page::json_list_contains("regions_served", &code));
        }
        let total = TotalCount::of(db(ctx)?, q.clone());
        if let Some(a) = &page.after {
            q = q.filter(listing::Column::Id.gt(a.clone()));
        }
        let rows = api(q.limit(page.limit()).all(db(ctx)?).await)?;
        Ok(connection(&page, rows, total, |m| m.id.clone(), SupraRegionalListing))
    }

    /// One listing.
    #[graphql(tag = "public")]
    async fn supra_regional_listing(&self, ctx: &Context<'_>, id: ID) -> Result<Option<SupraRegionalListing>> {
        access::read(caller(ctx)?).gql()?;
        Ok(loaders(ctx)?.listings.load_one(id.0).await.map_err(load_err)?.map(SupraRegionalListing))
    }

    /// Expertise networks.
    #[graphql(tag = "public")]
    async fn expertise_networks(&self, ctx: &Context<'_>) -> Result<Vec<ExpertiseNetwork>> {
        access::read(caller(ctx)?).gql()?;
        Ok(api(network::Entity::find().order_by_asc(network::Column::Name).all(db(ctx)?).await)?
            .into_iter()
            .map(ExpertiseNetwork)
            .collect())
    }

    /// One expertise network.
    #[graphql(tag = "public")]
    async fn expertise_network(&self, ctx: &Context<'_>, id: ID) -> Result<Option<ExpertiseNetwork>> {
        access::read(caller(ctx)?).gql()?;
        Ok(loaders(ctx)?.networks.load_one(id.0).await.map_err(load_err)?.map(ExpertiseNetwork))
    }

    /// National KPIs.
    #[graphql(tag = "public")]
    async fn national_kpis(&self, ctx: &Context<'_>) -> Result<Vec<NationalKpi>> {
        access::read(caller(ctx)?).gql()?;
        Ok(api(kpi::Entity::find().order_by_asc(kpi::Column::Code).all(db(ctx)?).await)?
            .into_iter()
            .map(NationalKpi)
            .collect())
    }

    /// One national KPI.
    #[graphql(tag = "public")]
    async fn national_kpi(&self, ctx: &Context<'_>, code: String) -> Result<Option<NationalKpi>> {
        access::read(caller(ctx)?).gql()?;
        Ok(loaders(ctx)?.kpis.load_one(code).await.map_err(load_err)?.map(NationalKpi))
    }

    /// The national table's part of the national picture: escalation counts, overdue measures
    /// and KPI progress, each counted over what the caller may see (see its fields).
    #[graphql(tag = "public")]
    async fn national_table_picture(&self, ctx: &Context<'_>) -> Result<super::picture::NationalTablePicture> {
        access::read(caller(ctx)?).gql()?;
        Ok(super::picture::NationalTablePicture)
    }

    /// The national table's audit log, newest first: the caller's own actions with their
    /// values; the national table and the hub operator see everyone's, with only the names of the
    /// fields others changed.
    #[graphql(tag = "public")]
    async fn national_table_audit_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<PublicConnection<ggzhub_kit::audit::AuditEntry>> {
        let c = caller(ctx)?;
        let only = access::audit_scope(c).gql()?;
        let page = Page::new(first, after).gql()?;
        let total = ggzhub_kit::audit::total(db(ctx)?, only.clone());
        let rows = api(ggzhub_kit::audit::page(db(ctx)?, only, &page).await)?;
        let reader = c.org.to_string();
        Ok(connection(&page, rows, total, |m| m.id.clone(), |m| ggzhub_kit::audit::AuditEntry::present(m, &reader)))
    }

    /// Federation: the national table's fields of a `Region`.
    #[graphql(entity)]
    async fn find_region_by_code(&self, ctx: &Context<'_>, code: String) -> Result<Option<RegionRef>> {
        let found = async {
            access::read(caller(ctx)?).gql()?;
            ggzhub_kit::validate::region_code("code", &code).gql()?;
            Ok(RegionRef { code: code.clone() })
        };
        Ok(entity_or_null(ctx, found.await))
    }

    /// Federation: the national table's fields of a `CareOffer`.
    #[graphql(entity)]
    async fn find_care_offer_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<CareOfferRef>> {
        let found = async {
            access::read(caller(ctx)?).gql()?;
            Ok(CareOfferRef { id: id.0.clone() })
        };
        Ok(entity_or_null(ctx, found.await))
    }

    /// Federation: the national table's fields of a `ContinuitySignal` (its escalation).
    #[graphql(entity)]
    async fn find_continuity_signal_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<ContinuitySignalRef>> {
        let found = async {
            access::read(caller(ctx)?).gql()?;
            let id = ggzhub_kit::validate::id("id", &id).gql()?;
            Ok(ContinuitySignalRef { id })
        };
        Ok(entity_or_null(ctx, found.await))
    }

    /// Federation: an `Escalation` by id (hidden ones are reported like missing ones).
    #[graphql(entity)]
    async fn find_escalation_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Escalation>> {
        let found = async {
            let c = caller(ctx)?;
            access::read(c).gql()?;
            let row = loaders(ctx)?.escalations.load_one(id.0.clone()).await.map_err(load_err)?;
            row.and_then(|e| visible(c, e)).ok_or_else(|| not_found("escalation", &id))
        };
        Ok(entity_or_null(ctx, found.await))
    }

    /// Federation: a `NationalKpi` by code.
    #[graphql(entity)]
    async fn find_national_kpi_by_code(&self, ctx: &Context<'_>, code: String) -> Result<Option<NationalKpi>> {
        let found = async {
            access::read(caller(ctx)?).gql()?;
            loaders(ctx)?
                .kpis
                .load_one(code.clone())
                .await
                .map_err(load_err)?
                .map(NationalKpi)
                .ok_or_else(|| not_found("national KPI", &code))
        };
        Ok(entity_or_null(ctx, found.await))
    }
}
