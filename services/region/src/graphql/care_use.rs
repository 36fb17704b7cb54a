//! Demand and care use, and IZA regions' overlaps (issue 21 items 1 and 6): the national lists,
//! the figure types, and what `Region.careUse`, `Region.careUseFlows` and `Region.overlaps`
//! answer. Every count of people is a [`PeopleCount`]: 1 to 9 is "fewer than 10" to everyone
//! but the supplier. Aggregate counts are public (`@tag(name: "public")`); readers still need
//! `picture:read`.

use std::collections::BTreeMap;

use async_graphql::{Context, Object, Result};
use ggzhub_kit::page::{Page, PublicConnection, TotalCount, connection};
use ggzhub_kit::people::{PeopleCount, is_small_cell};
use ggzhub_kit::{ApiError, Caller, GqlResultExt as _};
use sea_orm::sea_query::{Expr, ExprTrait as _, Query as SqlQuery};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::types::{Organisation, Region, caller, load_err, loaders, stored};
use crate::access;
use crate::care_use::loader::{FigureKey, FlowKey};
use crate::care_use::{FlowDirection, period};
use crate::domain::CareCategory;
use crate::entity::{care_use_figure, care_use_flow, care_use_import, region_overlap};

/// Condition "`column` is `code`, or a care-office region the IZA region `code` overlaps": how a
/// query that takes a region answers for an IZA region (one subquery, no extra statement).
pub fn in_region_or_overlapped(column: impl ColumnTrait, code: &str) -> Condition {
    let mut overlapped = SqlQuery::select();
    overlapped
        .column(region_overlap::Column::CareOfficeCode)
        .from(region_overlap::Entity)
        .and_where(Expr::col(region_overlap::Column::IzaCode).eq(code));
    Condition::any().add(column.eq(code)).add(column.in_subquery(overlapped))
}

fn db<'a>(ctx: &'a Context<'_>) -> Result<&'a DatabaseConnection> {
    ctx.data::<DatabaseConnection>()
}

fn is_supplier(c: &Caller, supplier_id: &str) -> bool {
    c.org.to_string() == supplier_id
}

/// Demand and care use of a region, category and quarter, as a trusted source supplied it
/// (Vektis-style): people in care and new referrals. For a care-office region it is one stored
/// figure; for an IZA region the sum of the figures of the care-office regions it overlaps
/// (`careOfficeRegions`), an approximation where an IZA region covers part of a care-office
/// region. Counts from 1 to 9 are "fewer than 10" to everyone but the supplier; in an IZA sum a
/// care-office figure with such a small count is left out for everyone but the supplier
/// (`figuresLeftOut` says how many), so that no small count can be worked out by subtraction.
pub struct CareUseFigure {
    region_code: String,
    period: String,
    category: String,
    supplier_id: String,
    people_in_care: i32,
    new_referrals: i32,
    supplied_by_caller: bool,
    parts: Vec<String>,
    left_out: i32,
}

impl CareUseFigure {
    fn stored(c: &Caller, m: care_use_figure::Model) -> Self {
        Self {
            supplied_by_caller: is_supplier(c, &m.supplier_id),
            parts: vec![m.region_code.clone()],
            region_code: m.region_code,
            period: m.period,
            category: m.category,
            supplier_id: m.supplier_id,
            people_in_care: m.people_in_care,
            new_referrals: m.new_referrals,
            left_out: 0,
        }
    }
}

impl CareUseFigure {
    /// `count` as this caller sees it: an IZA sum made of left-out parts only is no 0 but unknown.
    fn shown(&self, count: i32) -> PeopleCount {
        if self.parts.is_empty() && self.left_out > 0 {
            PeopleCount { exact: None, fewer_than: None, label: crate::waiting_plan::SUPPRESSED_LABEL.to_owned() }
        } else {
            PeopleCount::shown(count, self.supplied_by_caller)
        }
    }
}

/// Demand and care use of a region, category and quarter (see the type's rules).
#[Object(tag = "public")]
impl CareUseFigure {
    /// The region (a care-office region, or the IZA region the figure was summed for).
    async fn region_code(&self) -> &str {
        &self.region_code
    }
    /// The region.
    async fn region(&self, ctx: &Context<'_>) -> Result<Option<Region>> {
        Ok(loaders(ctx)?.regions.load_one(self.region_code.clone()).await.map_err(load_err)?.map(Region))
    }
    /// Calendar quarter, `YYYY-Qn` (e.g. `2026-Q3`).
    async fn period(&self) -> &str {
        &self.period
    }
    /// Category of crucial care.
    async fn category(&self) -> Result<CareCategory> {
        CareCategory::parse(&self.category).ok_or_else(|| stored("category"))
    }
    /// The organisation that supplied the figures (the national table or the hub operator).
    async fn supplier(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        Ok(loaders(ctx)?.organisations.load_one(self.supplier_id.clone()).await.map_err(load_err)?.map(Organisation))
    }
    /// People living in the region who were in care during the quarter.
    /// An IZA region's sum whose every part was left out reads "suppressed" (`exact` `null`),
    /// never 0.
    async fn people_in_care(&self) -> PeopleCount {
        self.shown(self.people_in_care)
    }
    /// New referrals (aanmeldingen) of people living in the region during the quarter; as
    /// `peopleInCare` for an IZA region's sum whose every part was left out.
    async fn new_referrals(&self) -> PeopleCount {
        self.shown(self.new_referrals)
    }
    /// The care-office regions whose figures these are (for an IZA region: those it overlaps and
    /// that have a figure).
    async fn care_office_regions(&self) -> &[String] {
        &self.parts
    }
    /// Care-office figures left out of an IZA region's sum because they hold a count from 1 to
    /// 9 (0 for the supplier and for a care-office region's own figure).
    async fn figures_left_out(&self) -> i32 {
        self.left_out
    }
}

/// People living in one care-office region treated in another, per category and quarter, as a
/// trusted source supplied it. Counts from 1 to 9 are "fewer than 10" to everyone but the
/// supplier.
pub struct CareUseFlow {
    model: care_use_flow::Model,
    supplied_by_caller: bool,
}

/// People living in one region treated in another (see the type's rules).
#[Object(tag = "public")]
impl CareUseFlow {
    /// Calendar quarter, `YYYY-Qn`.
    async fn period(&self) -> &str {
        &self.model.period
    }
    /// Category of crucial care.
    async fn category(&self) -> Result<CareCategory> {
        CareCategory::parse(&self.model.category).ok_or_else(|| stored("category"))
    }
    /// Care-office region where the people live.
    #[graphql(name = "fromRegionCode")]
    async fn home_region_code(&self) -> &str {
        &self.model.from_region
    }
    /// Care-office region where they were treated.
    async fn to_region_code(&self) -> &str {
        &self.model.to_region
    }
    /// Region where the people live.
    #[graphql(name = "fromRegion")]
    async fn home_region(&self, ctx: &Context<'_>) -> Result<Option<Region>> {
        Ok(loaders(ctx)?.regions.load_one(self.model.from_region.clone()).await.map_err(load_err)?.map(Region))
    }
    /// Region where they were treated.
    async fn to_region(&self, ctx: &Context<'_>) -> Result<Option<Region>> {
        Ok(loaders(ctx)?.regions.load_one(self.model.to_region.clone()).await.map_err(load_err)?.map(Region))
    }
    /// The organisation that supplied the figures.
    async fn supplier(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        Ok(loaders(ctx)?
            .organisations
            .load_one(self.model.supplier_id.clone())
            .await
            .map_err(load_err)?
            .map(Organisation))
    }
    /// People in care.
    async fn people_in_care(&self) -> PeopleCount {
        PeopleCount::shown(self.model.people_in_care, self.supplied_by_caller)
    }
    /// New referrals.
    async fn new_referrals(&self) -> PeopleCount {
        PeopleCount::shown(self.model.new_referrals, self.supplied_by_caller)
    }
}

/// `Region.careUse`: the region's figures of `period` (default: the latest quarter with figures
/// in the country), optionally one category; an IZA region sums its care-office regions'.
pub(crate) async fn region_care_use(
    ctx: &Context<'_>,
    code: &str,
    period_arg: Option<String>,
    category: Option<CareCategory>,
) -> Result<Vec<CareUseFigure>> {
    let c = caller(ctx)?;
    access::read(c).gql()?;
    if let Some(p) = &period_arg {
        period("period", p).gql()?;
    }
    let key = FigureKey { region: code.to_owned(), period: period_arg, category };
    let found = loaders(ctx)?.care_use.figures.load_one(key).await.map_err(load_err)?.unwrap_or_default();
    if !found.summed {
        return Ok(found.rows.into_iter().map(|m| CareUseFigure::stored(c, m)).collect());
    }
    // An IZA region: one figure per quarter, category and supplier, summed over its parts.
    let mut sums: BTreeMap<(String, String, String), CareUseFigure> = BTreeMap::new();
    for m in found.rows {
        let supplier = is_supplier(c, &m.supplier_id);
        let figure = sums.entry((m.period.clone(), m.category.clone(), m.supplier_id.clone())).or_insert_with(|| {
            CareUseFigure {
                region_code: code.to_owned(),
                period: m.period.clone(),
                category: m.category.clone(),
                supplier_id: m.supplier_id.clone(),
                people_in_care: 0,
                new_referrals: 0,
                supplied_by_caller: supplier,
                parts: Vec::new(),
                left_out: 0,
            }
        });
        if !supplier && (is_small_cell(m.people_in_care) || is_small_cell(m.new_referrals)) {
            figure.left_out += 1;
            continue;
        }
        figure.people_in_care = figure.people_in_care.saturating_add(m.people_in_care);
        figure.new_referrals = figure.new_referrals.saturating_add(m.new_referrals);
        figure.parts.push(m.region_code);
    }
    Ok(sums.into_values().collect())
}

/// `Region.careUseFlows`: flows out of or into the region (for an IZA region: of the
/// care-office regions it overlaps, without the flows between them).
pub(crate) async fn region_care_use_flows(
    ctx: &Context<'_>,
    code: &str,
    period_arg: Option<String>,
    category: Option<CareCategory>,
    direction: FlowDirection,
) -> Result<Vec<CareUseFlow>> {
    let c = caller(ctx)?;
    access::read(c).gql()?;
    if let Some(p) = &period_arg {
        period("period", p).gql()?;
    }
    let key = FlowKey { region: code.to_owned(), period: period_arg, category, direction };
    let rows = loaders(ctx)?.care_use.flows.load_one(key).await.map_err(load_err)?.unwrap_or_default();
    Ok(rows.into_iter().map(|m| CareUseFlow { supplied_by_caller: is_supplier(c, &m.supplier_id), model: m }).collect())
}

/// `Region.overlaps`: the regions of the other kind it overlaps.
pub(crate) async fn region_overlaps(ctx: &Context<'_>, code: &str) -> Result<Vec<Region>> {
    access::read(caller(ctx)?).gql()?;
    let codes = loaders(ctx)?.care_use.overlaps.load_one(code.to_owned()).await.map_err(load_err)?.unwrap_or_default();
    let found = loaders(ctx)?.regions.load_many(codes.iter().cloned()).await.map_err(load_err)?;
    Ok(codes.iter().filter_map(|c| found.get(c).cloned().map(Region)).collect())
}

/// Queries of care use.
#[derive(Default)]
pub struct CareUseQuery;

#[Object]
impl CareUseQuery {
    /// The caller's own imports of care use (the national table or the hub operator as supplier),
    /// one per quarter with its version, optionally of one quarter, oldest quarter first. A
    /// re-import names this version in `importCareUse(expectedVersions:)` to replace exactly what
    /// was read. Who: those who import (`importCareUse`); anyone else `FORBIDDEN`.
    async fn care_use_imports(&self, ctx: &Context<'_>, period: Option<String>) -> Result<Vec<CareUseQuarterImport>> {
        let c = caller(ctx)?;
        access::import_care_use(c).gql()?;
        let mut q = care_use_import::Entity::find()
            .filter(care_use_import::Column::SupplierId.eq(c.org.to_string()))
            .order_by_asc(care_use_import::Column::Period);
        if let Some(p) = period {
            crate::care_use::period("period", &p).gql()?;
            q = q.filter(care_use_import::Column::Period.eq(p));
        }
        let rows = q.all(db(ctx)?).await.map_err(ApiError::from).gql()?;
        Ok(rows.into_iter().map(CareUseQuarterImport).collect())
    }

    /// Demand and care use in the country: the stored figure of each care-office region,
    /// category and quarter (`YYYY-Qn`), optionally of one quarter, category or region (an IZA
    /// region: the care-office regions it overlaps, each with its own figure). Public: counts
    /// from 1 to 9 are "fewer than 10" to everyone but the supplier.
    #[graphql(tag = "public")]
    async fn care_use(
        &self,
        ctx: &Context<'_>,
        period: Option<String>,
        category: Option<CareCategory>,
        region: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<PublicConnection<CareUseFigure>> {
        let c = caller(ctx)?;
        access::read(c).gql()?;
        let page = Page::new(first, after).gql()?;
        let mut cond = Condition::all();
        if let Some(p) = period {
            crate::care_use::period("period", &p).gql()?;
            cond = cond.add(care_use_figure::Column::Period.eq(p));
        }
        if let Some(k) = category {
            cond = cond.add(care_use_figure::Column::Category.eq(k.as_str()));
        }
        if let Some(r) = region {
            ggzhub_kit::validate::region_code("region", &r).gql()?;
            cond = cond.add(in_region_or_overlapped(care_use_figure::Column::RegionCode, &r));
        }
        let db = db(ctx)?;
        let total = TotalCount::of(db, care_use_figure::Entity::find().filter(cond.clone()));
        if let Some(a) = &page.after {
            cond = cond.add(care_use_figure::Column::Id.gt(a.clone()));
        }
        let rows = care_use_figure::Entity::find()
            .filter(cond)
            .order_by_asc(care_use_figure::Column::Id)
            .limit(page.limit())
            .all(db)
            .await
            .map_err(ApiError::from)
            .gql()?;
        Ok(connection(&page, rows, total, |m| m.id.clone(), |m| CareUseFigure::stored(c, m)))
    }

    /// People treated outside their own region in the country: every stored flow, optionally of
    /// one quarter, category or region (flows from or to it; an IZA region: from or to the
    /// care-office regions it overlaps). Public, small cells as in `careUse`.
    #[graphql(tag = "public")]
    async fn care_use_flows(
        &self,
        ctx: &Context<'_>,
        period: Option<String>,
        category: Option<CareCategory>,
        region: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<PublicConnection<CareUseFlow>> {
        let c = caller(ctx)?;
        access::read(c).gql()?;
        let page = Page::new(first, after).gql()?;
        let mut cond = Condition::all();
        if let Some(p) = period {
            crate::care_use::period("period", &p).gql()?;
            cond = cond.add(care_use_flow::Column::Period.eq(p));
        }
        if let Some(k) = category {
            cond = cond.add(care_use_flow::Column::Category.eq(k.as_str()));
        }
        if let Some(r) = region {
            ggzhub_kit::validate::region_code("region", &r).gql()?;
            cond = cond.add(
                Condition::any()
                    .add(in_region_or_overlapped(care_use_flow::Column::FromRegion, &r))
                    .add(in_region_or_overlapped(care_use_flow::Column::ToRegion, &r)),
            );
        }
        let db = db(ctx)?;
        let total = TotalCount::of(db, care_use_flow::Entity::find().filter(cond.clone()));
        if let Some(a) = &page.after {
            cond = cond.add(care_use_flow::Column::Id.gt(a.clone()));
        }
        let rows = care_use_flow::Entity::find()
            .filter(cond)
            .order_by_asc(care_use_flow::Column::Id)
            .limit(page.limit())
            .all(db)
            .await
            .map_err(ApiError::from)
            .gql()?;
        Ok(connection(
            &page,
            rows,
            total,
            |m| m.id.clone(),
            |m| CareUseFlow { supplied_by_caller: is_supplier(c, &m.supplier_id), model: m },
        ))
    }
}

/// What `importCareUse` stored.
#[derive(async_graphql::SimpleObject)]
pub struct CareUseImport {
    /// The quarters in the file; the caller's earlier figures of these quarters were replaced.
    pub periods: Vec<String>,
    /// Region figures stored.
    pub figures: i32,
    /// Flows stored.
    pub flows: i32,
    /// Earlier figures and flows of the caller for these quarters that were replaced.
    pub replaced: i32,
    /// Each quarter's import as stored now, with its new version.
    pub quarters: Vec<CareUseQuarterImport>,
}

/// A supplier's import of one quarter of care use: its version (1 for the first import, one more
/// for each replacement) and who imported it when. Read by the supplier only
/// (`careUseImports`, `importCareUse`).
pub struct CareUseQuarterImport(pub care_use_import::Model);

/// A supplier's import of one quarter of care use.
#[Object]
impl CareUseQuarterImport {
    /// Quarter, `YYYY-Qn`.
    async fn period(&self) -> &str {
        &self.0.period
    }
    /// Version: name it in `importCareUse(expectedVersions:)` to replace this import.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Region figures of the latest import.
    async fn figures(&self) -> i32 {
        self.0.figures
    }
    /// Flows of the latest import.
    async fn flows(&self) -> i32 {
        self.0.flows
    }
    /// Who first imported the quarter and who last replaced it, and when.
    async fn meta(&self) -> super::types::RecordMeta {
        ggzhub_kit::record_meta!(self.0)
    }
}

impl From<crate::care_use::ImportReport> for CareUseImport {
    fn from(r: crate::care_use::ImportReport) -> Self {
        Self {
            periods: r.periods,
            figures: i32::try_from(r.figures).unwrap_or(i32::MAX),
            flows: i32::try_from(r.flows).unwrap_or(i32::MAX),
            replaced: i32::try_from(r.replaced).unwrap_or(i32::MAX),
            quarters: r.quarters.into_iter().map(CareUseQuarterImport).collect(),
        }
    }
}
