//! Per-request DataLoaders of care use and IZA regions: figures, flows and overlaps of many
//! regions load in a constant number of statements (the overlaps of the regions asked for, the
//! latest quarter when one is not given, and the rows), whatever the number of regions or rows.

use std::collections::{BTreeSet, HashMap};

use async_graphql::dataloader::{DataLoader, Loader};
use ggzhub_kit::batch::Batches;
use sea_orm::Condition;
use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait as _, Query as SqlQuery, SelectStatement, UnionType};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::FlowDirection;
use crate::domain::CareCategory;
use crate::entity::{care_use_figure, care_use_flow, region_overlap};
use crate::loader::LoadError;

/// Offers listed under the regions `owners` (one derived table, column `owner_code`): each offer
/// located in one of them under that region, and each offer located in a care-office region
/// under every IZA region of `owners` that overlaps it. What `Region.offers` pages and counts
/// (crate::loader), so an IZA region lists the offers of the care-office regions it overlaps.
pub fn offers_by_owner(owners: &[String]) -> SelectStatement {
    let offers = || Alias::new("care_offers");
    let overlaps = || Alias::new("region_overlaps");
    let mut own = SqlQuery::select();
    own.column(Asterisk)
        .expr_as(Expr::col("region_code"), "owner_code")
        .from(offers())
        .and_where(Expr::col("region_code").is_in(owners.iter().cloned()));
    let mut via = SqlQuery::select();
    via.column((offers(), Asterisk))
        .expr_as(Expr::col((overlaps(), Alias::new("iza_code"))), "owner_code")
        .from(offers())
        .inner_join(
            overlaps(),
            Expr::col((overlaps(), Alias::new("care_office_code"))).equals((offers(), Alias::new("region_code"))),
        )
        .and_where(Expr::col((overlaps(), Alias::new("iza_code"))).is_in(owners.iter().cloned()));
    own.union(UnionType::All, via);
    own
}

/// The loaders of one request.
pub struct CareUseLoaders {
    /// Care-use figures per region (an IZA region: those of the care-office regions it overlaps).
    pub figures: DataLoader<Figures>,
    /// Flows into or out of a region.
    pub flows: DataLoader<Flows>,
    /// The regions of the other kind a region overlaps.
    pub overlaps: DataLoader<Overlaps>,
}

impl CareUseLoaders {
    /// Fresh loaders for one request.
    pub fn new(db: &DatabaseConnection, batches: &Batches) -> Self {
        Self {
            figures: batches.loader(Figures { db: db.clone() }),
            flows: batches.loader(Flows { db: db.clone() }),
            overlaps: batches.loader(Overlaps { db: db.clone() }),
        }
    }
}

/// The care-office regions each of `codes` overlaps, for those that are IZA regions with
/// overlaps (one statement). A code missing from the answer stands for itself.
pub(crate) async fn overlapped(
    db: &DatabaseConnection,
    codes: impl IntoIterator<Item = String>,
) -> Result<HashMap<String, Vec<String>>, sea_orm::DbErr> {
    let codes: BTreeSet<String> = codes.into_iter().collect();
    let rows = region_overlap::Entity::find()
        .filter(region_overlap::Column::IzaCode.is_in(codes))
        .order_by_asc(region_overlap::Column::CareOfficeCode)
        .all(db)
        .await?;
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for r in rows {
        out.entry(r.iza_code).or_default().push(r.care_office_code);
    }
    Ok(out)
}

/// The regions whose rows (offers, reports, notes) answer for `code`: the region itself and, for
/// an IZA region, the care-office regions it overlaps (`overlaps` from [`overlapped`]). Unlike
/// care-use figures, which only care-office regions have, these rows may also be stored under an
/// IZA region's own code.
pub(crate) fn answering(overlaps: &HashMap<String, Vec<String>>, code: &str) -> Vec<String> {
    let mut codes = vec![code.to_owned()];
    codes.extend(overlaps.get(code).into_iter().flatten().cloned());
    codes
}

/// The regions whose figures answer for `code`: the care-office regions it overlaps when it is
/// an IZA region with overlaps, else itself.
fn parts(overlaps: &HashMap<String, Vec<String>>, code: &str) -> (bool, Vec<String>) {
    match overlaps.get(code) {
        Some(p) => (true, p.clone()),
        None => (false, vec![code.to_owned()]),
    }
}

/// The latest quarter with care-use figures in the country (one statement).
pub async fn latest_period(db: &DatabaseConnection) -> Result<Option<String>, sea_orm::DbErr> {
    care_use_figure::Entity::find()
        .select_only()
        .column(care_use_figure::Column::Period)
        .order_by_desc(care_use_figure::Column::Period)
        .limit(1)
        .into_tuple::<String>()
        .one(db)
        .await
}

/// Figures of one region, optionally one quarter (default: the latest) and category.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FigureKey {
    /// Region code (either kind).
    pub region: String,
    /// Quarter; `None`: the latest quarter with figures in the country.
    pub period: Option<String>,
    /// Only this category.
    pub category: Option<CareCategory>,
}

/// The stored figures that answer for a region.
#[derive(Debug, Clone, Default)]
pub struct RegionFigures {
    /// Whether the region is an IZA region answered by the care-office regions it overlaps.
    pub summed: bool,
    /// The care-office regions whose figures these are.
    pub parts: Vec<String>,
    /// The figures, by period, category and supplier.
    pub rows: Vec<care_use_figure::Model>,
}

/// Loads [`FigureKey`]s: three statements at most for any number of keys.
pub struct Figures {
    db: DatabaseConnection,
}

impl Loader<FigureKey> for Figures {
    type Value = RegionFigures;
    type Error = LoadError;

    async fn load(&self, keys: &[FigureKey]) -> Result<HashMap<FigureKey, RegionFigures>, LoadError> {
        let overlaps = overlapped(&self.db, keys.iter().map(|k| k.region.clone())).await?;
        let latest = if keys.iter().any(|k| k.period.is_none()) { latest_period(&self.db).await? } else { None };
        let period_of = |k: &FigureKey| k.period.clone().or_else(|| latest.clone());
        let mut regions: BTreeSet<String> = BTreeSet::new();
        for k in keys {
            regions.extend(parts(&overlaps, &k.region).1);
        }
        let periods: BTreeSet<String> = keys.iter().filter_map(period_of).collect();
        let rows = if periods.is_empty() {
            Vec::new()
        } else {
            care_use_figure::Entity::find()
                .filter(care_use_figure::Column::RegionCode.is_in(regions))
                .filter(care_use_figure::Column::Period.is_in(periods))
                .order_by_asc(care_use_figure::Column::Period)
                .order_by_asc(care_use_figure::Column::Category)
                .order_by_asc(care_use_figure::Column::RegionCode)
                .order_by_asc(care_use_figure::Column::SupplierId)
                .all(&self.db)
                .await?
        };
        let mut out = HashMap::new();
        for k in keys {
            let (summed, parts) = parts(&overlaps, &k.region);
            let period = period_of(k);
            let rows = rows
                .iter()
                .filter(|r| Some(&r.period) == period.as_ref())
                .filter(|r| k.category.is_none_or(|c| c.as_str() == r.category))
                .filter(|r| parts.contains(&r.region_code))
                .cloned()
                .collect();
            out.insert(k.clone(), RegionFigures { summed, parts, rows });
        }
        Ok(out)
    }
}

/// Flows into or out of one region.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FlowKey {
    /// Region code (either kind).
    pub region: String,
    /// Quarter; `None`: the latest quarter with figures in the country.
    pub period: Option<String>,
    /// Only this category.
    pub category: Option<CareCategory>,
    /// Out of the region (its people treated elsewhere) or into it.
    pub direction: FlowDirection,
}

/// Loads [`FlowKey`]s: three statements at most for any number of keys.
pub struct Flows {
    db: DatabaseConnection,
}

impl Loader<FlowKey> for Flows {
    type Value = Vec<care_use_flow::Model>;
    type Error = LoadError;

    async fn load(&self, keys: &[FlowKey]) -> Result<HashMap<FlowKey, Self::Value>, LoadError> {
        let overlaps = overlapped(&self.db, keys.iter().map(|k| k.region.clone())).await?;
        let latest = if keys.iter().any(|k| k.period.is_none()) { latest_period(&self.db).await? } else { None };
        let period_of = |k: &FlowKey| k.period.clone().or_else(|| latest.clone());
        let mut regions: BTreeSet<String> = BTreeSet::new();
        for k in keys {
            regions.extend(parts(&overlaps, &k.region).1);
        }
        let periods: BTreeSet<String> = keys.iter().filter_map(period_of).collect();
        let rows = if periods.is_empty() {
            Vec::new()
        } else {
            care_use_flow::Entity::find()
                .filter(
                    Condition::any()
                        .add(care_use_flow::Column::FromRegion.is_in(regions.clone()))
                        .add(care_use_flow::Column::ToRegion.is_in(regions)),
                )
                .filter(care_use_flow::Column::Period.is_in(periods))
                .order_by_asc(care_use_flow::Column::Period)
                .order_by_asc(care_use_flow::Column::Category)
                .order_by_asc(care_use_flow::Column::FromRegion)
                .order_by_asc(care_use_flow::Column::ToRegion)
                .order_by_asc(care_use_flow::Column::SupplierId)
                .all(&self.db)
                .await?
        };
        let mut out = HashMap::new();
        for k in keys {
            let (_, parts) = parts(&overlaps, &k.region);
            let period = period_of(k);
            // Flows between two parts of an IZA region stay inside it: neither in nor out.
            let list = rows
                .iter()
                .filter(|r| Some(&r.period) == period.as_ref())
                .filter(|r| k.category.is_none_or(|c| c.as_str() == r.category))
                .filter(|r| {
                    let (from, to) = (parts.contains(&r.from_region), parts.contains(&r.to_region));
                    match k.direction {
                        FlowDirection::Outgoing => from && !to,
                        FlowDirection::Incoming => to && !from,
                    }
                })
                .cloned()
                .collect();
            out.insert(k.clone(), list);
        }
        Ok(out)
    }
}

/// The regions of the other kind that a region overlaps (IZA ↔ care office), by code.
pub struct Overlaps {
    db: DatabaseConnection,
}

impl Loader<String> for Overlaps {
    type Value = Vec<String>;
    type Error = LoadError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Vec<String>>, LoadError> {
        let rows = region_overlap::Entity::find()
            .filter(
                Condition::any()
                    .add(region_overlap::Column::IzaCode.is_in(keys.iter().cloned()))
                    .add(region_overlap::Column::CareOfficeCode.is_in(keys.iter().cloned())),
            )
            .order_by_asc(region_overlap::Column::IzaCode)
            .order_by_asc(region_overlap::Column::CareOfficeCode)
            .all(&self.db)
            .await?;
        let mut out: HashMap<String, Vec<String>> = keys.iter().map(|k| (k.clone(), Vec::new())).collect();
        for r in rows {
            if let Some(v) = out.get_mut(&r.iza_code) {
                v.push(r.care_office_code.clone());
            }
            if let Some(v) = out.get_mut(&r.care_office_code) {
                v.push(r.iza_code);
            }
        }
        Ok(out)
    }
}
