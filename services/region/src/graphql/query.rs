//! Query root and federation entity resolvers. Every resolver checks the caller first.

use async_graphql::{Context, ID, Object, Result};
use ggzhub_kit::{ApiError, GqlResultExt as _, OrgKind};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::types::*;
use crate::access;
use crate::contracted::ContractedOffersCache;
use crate::domain::*;
use crate::entity::{care_form, care_offer, diagnosis_group, organisation, region, signal, waiting_time};
use ggzhub_kit::leaf::Leaf;
use ggzhub_kit::page::{Connection, Page, PublicConnection, TotalCount, connection};
use sea_orm::sea_query::ExprTrait as _;

/// The region subgraph's queries.
pub struct Query;

fn db<'a>(ctx: &'a Context<'_>) -> Result<&'a DatabaseConnection> {
    ctx.data::<DatabaseConnection>()
}

fn api<T>(r: std::result::Result<T, sea_orm::DbErr>) -> Result<T> {
    r.map_err(ApiError::from).gql()
}

fn check_region_code(code: &str) -> Result<()> {
    if is_region_code(code) {
        Ok(())
    } else {
        Err(ApiError::bad_input(format!("invalid region code {}", ggzhub_kit::validate::shown(code)))).gql()
    }
}

/// Which continuity signals `c` may list (see `Query::continuity_signals`), and the offers it
/// contracts (an insurer's; asked of the contracting subgraph once per request).
pub(crate) async fn visible_signals(
    ctx: &Context<'_>,
    c: &ggzhub_kit::Caller,
) -> Result<(Condition, std::sync::Arc<std::collections::BTreeSet<String>>)> {
    let db = db(ctx)?;
    let chaired: Vec<String> = c.roles.iter().filter_map(|r| r.strip_prefix("chair:")).map(str::to_owned).collect();
    let mut visible = Condition::any();
    // Offers the calling insurer contracts: asked of the contracting subgraph (once per
    // request, empty when it cannot be asked) — anyone else contracts nothing.
    let mut contracted: std::sync::Arc<std::collections::BTreeSet<String>> = Default::default();
    match c.kind {
        OrgKind::Provider => visible = visible.add(signal::Column::ProviderId.eq(c.org.to_string())),
        OrgKind::Insurer => {
            let coordinated: Vec<String> = api(region::Entity::find()
                .filter(region::Column::CoordinatingInsurerId.eq(c.org.to_string()))
                .all(db)
                .await)?
            .into_iter()
            .map(|r| r.code)
            .collect();
            visible = visible.add(signal::Column::RegionCode.is_in(coordinated));
            if let Some(cache) = ctx.data_opt::<ContractedOffersCache>() {
                contracted = cache.offer_ids(db, c).await.gql()?;
            }
            if !contracted.is_empty() {
                visible = visible.add(signal::Column::OfferId.is_in(contracted.iter().cloned()));
            }
        }
        OrgKind::NationalTable => visible = visible.add(signal::Column::Status.eq(SignalStatus::Escalated.as_str())),
        _ => {
            return Err(ApiError::forbidden(
                    "continuity signals are visible to their provider, the coordinating insurer, insurers contracting the offer and (once escalated) the national table; others see counts per region",
                ))
                .gql();
        }
    }
    if matches!(c.kind, OrgKind::Provider | OrgKind::Insurer) && !chaired.is_empty() {
        visible = visible.add(signal::Column::RegionCode.is_in(chaired));
    }
    Ok((visible, contracted))
}

/// Queries of the region subgraph: regions, organisations, care offers, overviews, waiting
/// times, continuity signals and the audit log.
#[Object(name = "RegionQuery")]
impl Query {
    /// All regions, ordered by code.
    #[graphql(tag = "public")]
    async fn regions(
        &self,
        ctx: &Context<'_>,
        kind: Option<RegionKind>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<PublicConnection<Region>> {
        access::read(caller(ctx)?).gql()?;
        let page = Page::new(first, after).gql()?;
        let mut q = region::Entity::find().order_by_asc(region::Column::Code);
        if let Some(k) = kind {
            q = q.filter(region::Column::Kind.eq(k.as_str()));
        }
        let total = TotalCount::of(db(ctx)?, q.clone());
        if let Some(a) = &page.after {
            q = q.filter(region::Column::Code.gt(a.clone()));
        }
        let rows = api(q.limit(page.limit()).all(db(ctx)?).await)?;
        Ok(connection(&page, rows, total, |m| m.code.clone(), |m| Region(m.into())))
    }

    /// One region by code; `null` when unknown.
    #[graphql(tag = "public")]
    async fn region(&self, ctx: &Context<'_>, code: String) -> Result<Option<Region>> {
        access::read(caller(ctx)?).gql()?;
        check_region_code(&code)?;
        Ok(loaders(ctx)?.regions.load_one(code).await.map_err(load_err)?.map(Region))
    }

    /// Organisations, optionally of one kind or taking part in one region.
    #[graphql(tag = "public")]
    async fn organisations(
        &self,
        ctx: &Context<'_>,
        kind: Option<OrgKind>,
        region: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<PublicConnection<Organisation>> {
        access::read(caller(ctx)?).gql()?;
        let page = Page::new(first, after).gql()?;
        let mut q = organisation::Entity::find().order_by_asc(organisation::Column::Id);
        if let Some(k) = kind {
            q = q.filter(organisation::Column::Kind.eq(k.as_str()));
        }
        if let Some(code) = region {
            check_region_code(&code)?;
            // Region membership is a JSON list of codes.
            q = q.filter(ggzhub_kit::page::json_list_contains("regions", &code));
        }
        let total = TotalCount::of(db(ctx)?, q.clone());
        if let Some(a) = &page.after {
            q = q.filter(organisation::Column::Id.gt(a.clone()));
        }
        let rows = api(q.limit(page.limit()).all(db(ctx)?).await)?;
        Ok(connection(&page, rows, total, |m| m.id.clone(), |m| Organisation(m.into())))
    }

    /// One organisation by id; `null` when unknown.
    #[graphql(tag = "public")]
    async fn organisation(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Organisation>> {
        access::read(caller(ctx)?).gql()?;
        Ok(loaders(ctx)?.organisations.load_one(id.0).await.map_err(load_err)?.map(Organisation))
    }

    /// One care offer by id; `null` when unknown.
    #[graphql(tag = "public")]
    async fn care_offer(&self, ctx: &Context<'_>, id: ID) -> Result<Option<CareOffer>> {
        access::read(caller(ctx)?).gql()?;
        Ok(loaders(ctx)?.offers.load_one(id.0).await.map_err(load_err)?.map(CareOffer::new))
    }

    /// Care offers filtered by region, provider, category and status; an IZA `region` also
    /// lists the offers located in the care-office regions it overlaps.
    #[allow(clippy::too_many_arguments)]
    #[graphql(tag = "public")]
    async fn care_offers(
        &self,
        ctx: &Context<'_>,
        region: Option<String>,
        provider_id: Option<ID>,
        category: Option<CareCategory>,
        status: Option<OfferStatus>,
        supra_regional: Option<bool>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<PublicConnection<Leaf<CareOffer>>> {
        access::read(caller(ctx)?).gql()?;
        refuse_planned_filter(status)?;
        let page = Page::new(first, after).gql()?;
        let mut cond = Condition::all();
        if let Some(r) = region {
            check_region_code(&r)?;
            // An IZA region: also the offers located in the care-office regions it overlaps.
            cond = cond.add(super::care_use::in_region_or_overlapped(care_offer::Column::RegionCode, &r));
        }
        if let Some(p) = provider_id {
            cond = cond.add(care_offer::Column::ProviderId.eq(p.0));
        }
        if let Some(c) = category {
            cond = cond.add(care_offer::Column::Category.eq(c.as_str()));
        }
        if let Some(s) = status {
            cond = cond.add(care_offer::Column::Status.eq(s.as_str()));
        }
        if let Some(s) = supra_regional {
            cond = cond.add(care_offer::Column::SupraRegional.eq(s));
        }
        let total = TotalCount::of(db(ctx)?, care_offer::Entity::find().filter(cond.clone()));
        if let Some(a) = &page.after {
            cond = cond.add(care_offer::Column::Id.gt(a.clone()));
        }
        let rows: Vec<std::sync::Arc<care_offer::Model>> = api(care_offer::Entity::find()
            .filter(cond)
            .order_by_asc(care_offer::Column::Id)
            .limit(page.limit())
            .all(db(ctx)?)
            .await)?
        .into_iter()
        .map(std::sync::Arc::new)
        .collect();
        let related = super::types::OfferRelations::of_page(ctx, &rows).await?;
        Ok(connection(&page, rows, total, |m| m.id.clone(), |m| Leaf(CareOffer(m, related.clone()))))
    }

    /// The care forms (code list), optionally of one category: the national list, plus, when
    /// `region` is given, that region's own forms (added by its chair with a motivation) — the
    /// forms an offer in that region may use. Forms the region's chair retired are left out
    /// unless `includeRetired` is true (offers that use one still show it as their form).
    #[graphql(tag = "public")]
    async fn care_forms(
        &self,
        ctx: &Context<'_>,
        category: Option<CareCategory>,
        region: Option<String>,
        include_retired: Option<bool>,
    ) -> Result<Vec<CareForm>> {
        access::read(caller(ctx)?).gql()?;
        let mut q = care_form::Entity::find().order_by_asc(care_form::Column::Code);
        if let Some(c) = category {
            q = q.filter(care_form::Column::Category.eq(c.as_str()));
        }
        let mut whose = Condition::any().add(care_form::Column::RegionCode.is_null());
        if let Some(r) = region {
            check_region_code(&r)?;
            whose = whose.add(care_form::Column::RegionCode.eq(r));
        }
        q = q.filter(whose);
        if include_retired != Some(true) {
            q = q.filter(care_form::Column::RetiredAt.is_null());
        }
        Ok(api(q.all(db(ctx)?).await)?.into_iter().map(|m| CareForm(m.into())).collect())
    }

    /// The diagnosis groups (hoofddiagnosegroepen) in which waiting times are published.
    #[graphql(tag = "public")]
    async fn diagnosis_groups(&self, ctx: &Context<'_>) -> Result<Vec<DiagnosisGroup>> {
        access::read(caller(ctx)?).gql()?;
        let rows =
            api(diagnosis_group::Entity::find().order_by_asc(diagnosis_group::Column::Code).all(db(ctx)?).await)?;
        Ok(rows.into_iter().map(|m| DiagnosisGroup { code: m.code, name: m.name }).collect())
    }

    /// A region's overview for a year; `null` when none exists or the caller may not read it (a
    /// draft outside the region's table): a hidden draft looks exactly like a missing overview.
    #[graphql(tag = "public")]
    async fn regional_overview(
        &self,
        ctx: &Context<'_>,
        region: String,
        year: i32,
    ) -> Result<Option<RegionalOverview>> {
        let c = caller(ctx)?;
        access::read_overviews(c).gql()?;
        check_region_code(&region)?;
        let found = loaders(ctx)?.overview_by_year.load_one((region, year)).await.map_err(load_err)?;
        Ok(found.filter(|o| access::overview_visible(c, o)).map(RegionalOverview))
    }

    /// Waiting times in a region, optionally for one month or diagnosis group, or only those
    /// exceeding the Treeknorm; an IZA `region` also lists the reports of the care-office regions
    /// it overlaps.
    #[allow(clippy::too_many_arguments)]
    #[graphql(tag = "public")]
    async fn waiting_times(
        &self,
        ctx: &Context<'_>,
        region: String,
        month: Option<String>,
        diagnosis_group: Option<String>,
        exceeding_treeknorm_only: Option<bool>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<PublicConnection<WaitingTimeReport>> {
        access::read_waiting_times(caller(ctx)?).gql()?;
        check_region_code(&region)?;
        let page = Page::new(first, after).gql()?;
        // An IZA region: also the reports of the care-office regions it overlaps.
        let mut cond =
            Condition::all().add(super::care_use::in_region_or_overlapped(waiting_time::Column::RegionCode, &region));
        if let Some(m) = month {
            ggzhub_kit::validate::month(&m).gql()?;
            cond = cond.add(waiting_time::Column::Month.eq(m));
        }
        if let Some(g) = diagnosis_group {
            cond = cond.add(waiting_time::Column::DiagnosisGroup.eq(g));
        }
        if exceeding_treeknorm_only == Some(true) {
            cond = cond.add(
                Condition::any()
                    .add(waiting_time::Column::RegistrationWeeks.gt(TREEKNORM_INTAKE_WEEKS))
                    .add(waiting_time::Column::TreatmentWeeks.gt(TREEKNORM_TREATMENT_WEEKS))
                    .add(
                        sea_orm::sea_query::Expr::col(waiting_time::Column::RegistrationWeeks)
                            .add(sea_orm::sea_query::Expr::col(waiting_time::Column::TreatmentWeeks))
                            .gt(TREEKNORM_TOTAL_WEEKS),
                    ),
            );
        }
        let total = TotalCount::of(db(ctx)?, waiting_time::Entity::find().filter(cond.clone()));
        if let Some(a) = &page.after {
            cond = cond.add(waiting_time::Column::Id.gt(a.clone()));
        }
        let rows = api(waiting_time::Entity::find()
            .filter(cond)
            .order_by_asc(waiting_time::Column::Id)
            .limit(page.limit())
            .all(db(ctx)?)
            .await)?;
        Ok(connection(&page, rows, total, |m| m.id.clone(), WaitingTimeReport::from))
    }

    /// Continuity signals the caller may read: a provider its own, an insurer those of the
    /// regions it coordinates and of the offers it contracts (an agreed contract valid this
    /// year), the national table escalated ones. A region's chair also lists its
    /// region's signals, seeing only id, region, status and dates of the ones it may not read in
    /// full. Others see counts only (`Region.signalCounts`).
    async fn continuity_signals(
        &self,
        ctx: &Context<'_>,
        region: Option<String>,
        status: Option<SignalStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<ContinuitySignal>> {
        let c = caller(ctx)?;
        access::read(c).gql()?;
        let page = Page::new(first, after).gql()?;
        let db = db(ctx)?;
        let (visible, contracted) = visible_signals(ctx, c).await?;
        let mut cond = Condition::all().add(visible);
        if let Some(r) = region {
            check_region_code(&r)?;
            cond = cond.add(signal::Column::RegionCode.eq(r));
        }
        if let Some(s) = status {
            cond = cond.add(signal::Column::Status.eq(s.as_str()));
        }
        let total = TotalCount::of(db, signal::Entity::find().filter(cond.clone()));
        if let Some(a) = &page.after {
            cond = cond.add(signal::Column::Id.gt(a.clone()));
        }
        let rows = api(signal::Entity::find()
            .filter(cond)
            .order_by_asc(signal::Column::Id)
            .limit(page.limit())
            .all(db)
            .await)?;
        // Who sees which row in full depends on the region's coordinating insurer (one batched
        // load) and, for an insurer, on the offers it contracts.
        let codes: Vec<String> = rows.iter().map(|r| r.region_code.clone()).collect();
        let regions = loaders(ctx)?.regions.load_many(codes).await.map_err(load_err)?;
        Ok(connection(
            &page,
            rows,
            total,
            |m| m.id.clone(),
            |m| {
                let coordinating = regions.get(&m.region_code).and_then(|r| r.coordinating_insurer_id.as_deref());
                let full = access::can_see_signal(c, &m, coordinating, contracted.contains(&m.offer_id));
                ContinuitySignal { model: m, full }
            },
        ))
    }

    /// Signal counts of one region (everyone but the hub operator).
    #[graphql(tag = "public")]
    async fn signal_counts(&self, ctx: &Context<'_>, region: String) -> Result<SignalCounts> {
        access::read_signal_counts(caller(ctx)?).gql()?;
        check_region_code(&region)?;
        let counts = loaders(ctx)?.signal_counts.load_one(region).await.map_err(load_err)?;
        Ok(SignalCounts::from(counts.unwrap_or_default()))
    }

    /// Audit log, newest first: the caller's own actions with their values; the national table
    /// and the hub operator also see everyone else's actions, with only the names of the fields
    /// that changed.
    #[graphql(tag = "public")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<PublicConnection<AuditEntry>> {
        let c = caller(ctx)?;
        let only = access::audit_scope(c).gql()?;
        let page = Page::new(first, after).gql()?;
        let total = ggzhub_kit::audit::total(db(ctx)?, only.clone());
        let rows = api(ggzhub_kit::audit::page(db(ctx)?, only, &page).await)?;
        let reader = c.org.to_string();
        Ok(connection(&page, rows, total, |m| m.id.clone(), |m| AuditEntry::present(m, &reader)))
    }

    /// The national picture (landelijk beeld): totals, capacity, intake pauses, signal counts,
    /// waiting times and trends of the whole country, and every region with its own figures.
    #[graphql(tag = "public")]
    async fn national_picture(&self, ctx: &Context<'_>) -> Result<super::picture::NationalPicture> {
        super::picture::national_picture(ctx)
    }

    /// Federation: resolve a `Region` by code.
    #[graphql(entity)]
    async fn find_region_by_code(&self, ctx: &Context<'_>, code: String) -> Result<Option<Region>> {
        let found = async {
            access::read(caller(ctx)?).gql()?;
            loaders(ctx)?
                .regions
                .load_one(code.clone())
                .await
                .map_err(load_err)?
                .map(Region)
                .ok_or_else(|| not_found("region", &code))
        };
        Ok(entity_or_null(ctx, found.await))
    }

    /// Federation: resolve an `Organisation` by id.
    #[graphql(entity)]
    async fn find_organisation_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Organisation>> {
        let found = async {
            access::read(caller(ctx)?).gql()?;
            loaders(ctx)?
                .organisations
                .load_one(id.0.clone())
                .await
                .map_err(load_err)?
                .map(Organisation)
                .ok_or_else(|| not_found("organisation", &id))
        };
        Ok(entity_or_null(ctx, found.await))
    }

    /// Federation: resolve a `CareOffer` by id.
    #[graphql(entity)]
    async fn find_care_offer_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<CareOffer>> {
        let found = async {
            access::read(caller(ctx)?).gql()?;
            loaders(ctx)?
                .offers
                .load_one(id.0.clone())
                .await
                .map_err(load_err)?
                .map(CareOffer::new)
                .ok_or_else(|| not_found("care offer", &id))
        };
        Ok(entity_or_null(ctx, found.await))
    }

    /// Federation: resolve a `ContinuitySignal` by id (the national table links its escalations
    /// to signals). Seen as `continuitySignals` shows it: in full by those who may read it, with
    /// id, region, status and dates only by a chair of its region; one the caller may not read is
    /// reported exactly like a missing one (`NOT_FOUND`).
    #[graphql(entity)]
    async fn find_continuity_signal_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<ContinuitySignal>> {
        let found = async {
            let c = caller(ctx)?;
            access::read(c).gql()?;
            let db = db(ctx)?;
            let s = api(signal::Entity::find_by_id(id.0.clone()).one(db).await)?
                .ok_or_else(|| not_found("continuity signal", &id))?;
            if super::subscription::sees_in_full(ctx, c, db, &s).await.gql()? {
                return Ok(ContinuitySignal::full(s));
            }
            let chairs = c.roles.iter().any(|r| r.strip_prefix("chair:") == Some(s.region_code.as_str()));
            if matches!(c.kind, OrgKind::Provider | OrgKind::Insurer) && chairs {
                return Ok(ContinuitySignal { model: s, full: false });
            }
            Err(not_found("continuity signal", &id))
        };
        Ok(entity_or_null(ctx, found.await))
    }

    /// Federation: resolve a `RegionalOverview` by id; one the caller may not read (a draft
    /// outside the region's table) is reported exactly like a missing one (`NOT_FOUND`).
    #[graphql(entity)]
    async fn find_regional_overview_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<RegionalOverview>> {
        let found = async {
            let c = caller(ctx)?;
            access::read_overviews(c).gql()?;
            let o = loaders(ctx)?
                .overviews
                .load_one(id.0.clone())
                .await
                .map_err(load_err)?
                .filter(|o| access::overview_visible(c, o))
                .ok_or_else(|| not_found("regional overview", &id))?;
            Ok(RegionalOverview(o))
        };
        Ok(entity_or_null(ctx, found.await))
    }
}

/// Federation: an entity that is unknown or hidden from the caller resolves to `null` with its
/// error beside it. Returning the error instead would fail the whole `_entities` batch
/// (async-graphql joins the representations with `try_join_all`, and `_entities` is non-null),
/// so one deleted offer or one draft overview would blank out every other entity in the batch.
fn entity_or_null<T>(ctx: &Context<'_>, found: Result<T>) -> Option<T> {
    match found {
        Ok(entity) => Some(entity),
        Err(e) => {
            ctx.add_error(ctx.set_error_path(e.into_server_error(ctx.item.pos)));
            None
        }
    }
}

fn not_found(what: &str, id: &str) -> async_graphql::Error {
    use async_graphql::ErrorExtensions as _;
    ApiError::not_found(format!("no {what} with id {}", ggzhub_kit::validate::shown(id))).extend()
}
