//! Contracting's part of the national picture (issue 14): per region and category, how many care
//! offers have at least one agreed contract for next year — counted in SQL (`GROUP BY`) over the
//! contracts the caller is no party to, and shown only when at least
//! [`crate::MIN_INSURERS_FOR_TERM_FIGURES`] insurers stand behind the figure
//! ([`crate::access::contracting_figure_shown`]).

use std::collections::HashMap;

use ggzhub_kit::Caller;
use ggzhub_kit::domain::CareCategory;
use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict, Query as SqlQuery};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, FromQueryResult};

use crate::access;
use crate::domain::{ContractStatus, CoverageBand};
use crate::entity::{contract, covered, offer_place};

/// Where a care offer lies, as the region subgraph tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferPlace {
    /// Care offer id.
    pub offer: String,
    /// Region code.
    pub region: String,
    /// Category (stored name).
    pub category: String,
}

/// Records the region and category of offers (already recorded ones are left as they are:
/// neither ever changes for an offer).
pub async fn record_places<C: ConnectionTrait>(db: &C, places: &[OfferPlace]) -> Result<(), DbErr> {
    if places.is_empty() {
        return Ok(());
    }
    let rows = places.iter().map(|p| offer_place::ActiveModel {
        offer_id: sea_orm::ActiveValue::Set(p.offer.clone()),
        region_code: sea_orm::ActiveValue::Set(p.region.clone()),
        category: sea_orm::ActiveValue::Set(p.category.clone()),
    });
    offer_place::Entity::insert_many(rows)
        .on_conflict(OnConflict::column(offer_place::Column::OfferId).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Agreed contracts for one region and category in the year asked, before banding.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct ContractedRow {
    /// Region code.
    pub region_code: String,
    /// Category (stored name).
    pub category: String,
    /// Offers with at least one such contract.
    pub offers: i64,
    /// Distinct insurers behind those contracts.
    pub insurers: i64,
}

/// Per region of `regions` and category: offers with at least one AGREED contract running in
/// `year`, and the distinct insurers behind them, over the contracts `c` is no party to. One
/// statement for all regions; groups without such contracts are absent.
///
/// The covered offers are selected once (`base`) and counted twice, each over its own `DISTINCT`
/// rows: PostgreSQL hashes those, where `COUNT(DISTINCT …)` per group sorts every group's text
/// ids (about five times slower at the benchmark's volume, `infra/bench/README.md`).
pub async fn contracted_in(
    db: &DatabaseConnection,
    c: &Caller,
    regions: &[String],
    year: i32,
) -> Result<Vec<ContractedRow>, DbErr> {
    let place = |col: offer_place::Column| Expr::col((offer_place::Entity, col));
    let mut q = SqlQuery::select();
    q.expr_as(place(offer_place::Column::RegionCode), "region_code")
        .expr_as(place(offer_place::Column::Category), "category")
        .expr_as(Expr::col((covered::Entity, covered::Column::OfferId)), "offer_id")
        .expr_as(Expr::col((contract::Entity, contract::Column::InsurerId)), "insurer_id")
        .from(covered::Entity)
        .inner_join(
            contract::Entity,
            Expr::col((contract::Entity, contract::Column::Id)).equals((covered::Entity, covered::Column::ContractId)),
        )
        .inner_join(
            offer_place::Entity,
            Expr::col((offer_place::Entity, offer_place::Column::OfferId))
                .equals((covered::Entity, covered::Column::OfferId)),
        )
        .cond_where(
            sea_orm::Condition::all()
                .add(contract::Column::Status.eq(ContractStatus::Agreed.as_str()))
                .add(contract::Column::FirstYear.lte(year))
                .add(contract::Column::LastYear.gte(year))
                .add(offer_place::Column::RegionCode.is_in(regions.iter().cloned()))
                .add(access::not_party_condition(c)),
        );
    let base = db.get_database_backend().build(&q);
    let sql = format!(
        "WITH base AS ({base}), \
         offers AS (SELECT region_code, category, COUNT(*) AS n FROM \
           (SELECT DISTINCT region_code, category, offer_id FROM base) o GROUP BY region_code, category), \
         insurers AS (SELECT region_code, category, COUNT(*) AS n FROM \
           (SELECT DISTINCT region_code, category, insurer_id FROM base) i GROUP BY region_code, category) \
         SELECT offers.region_code AS region_code, offers.category AS category, \
           CAST(offers.n AS BIGINT) AS offers, CAST(insurers.n AS BIGINT) AS insurers \
         FROM offers JOIN insurers ON insurers.region_code = offers.region_code AND insurers.category = offers.category",
        base = base.sql
    );
    let statement =
        sea_orm::Statement::from_sql_and_values(base.db_backend, sql, base.values.map(|v| v.0).unwrap_or_default());
    ContractedRow::find_by_statement(statement).all(db).await
}

/// What a caller is shown of one region and category.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShownContracting {
    /// Category.
    pub category: CareCategory,
    /// The year counted.
    pub year: i32,
    /// `EXACT` when at least three insurers stand behind the figure.
    pub band: CoverageBand,
    /// Offers with an agreed contract that year; `None` unless `band` is `EXACT`.
    pub offers_contracted: Option<i32>,
}

/// Every category of each region in `rows`' regions, banded: a row per category, in the order
/// of [`CareCategory::ALL`], also for categories without contracts (banded like 1 or 2).
pub fn shown(regions: &[String], rows: &[ContractedRow], year: i32) -> HashMap<String, Vec<ShownContracting>> {
    let mut out = HashMap::new();
    for region in regions {
        let figures = CareCategory::ALL
            .iter()
            .map(|&category| {
                let row = rows.iter().find(|r| &r.region_code == region && r.category == category.as_str());
                let (offers, insurers) = row.map_or((0, 0), |r| (r.offers, r.insurers));
                if access::contracting_figure_shown(insurers) {
                    ShownContracting {
                        category,
                        year,
                        band: CoverageBand::Exact,
                        offers_contracted: Some(i32::try_from(offers).unwrap_or(i32::MAX)),
                    }
                } else {
                    ShownContracting { category, year, band: CoverageBand::FewerThanThree, offers_contracted: None }
                }
            })
            .collect();
        out.insert(region.clone(), figures);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(region: &str, category: CareCategory, offers: i64, insurers: i64) -> ContractedRow {
        ContractedRow { region_code: region.into(), category: category.as_str().into(), offers, insurers }
    }

    #[test]
    fn a_figure_is_shown_only_with_three_insurers_behind_it() {
        let regions = vec!["utrecht".to_owned(), "limburg".to_owned()];
        let rows = vec![
            row("utrecht", CareCategory::Acute, 7, 3),
            row("utrecht", CareCategory::Clinical, 9, 2),
            row("limburg", CareCategory::Acute, 1, 1),
        ];
        let shown = shown(&regions, &rows, 2027);
        let utrecht = &shown["utrecht"];
        assert_eq!(utrecht.len(), CareCategory::ALL.len());
        assert_eq!(
            utrecht[0],
            ShownContracting {
                category: CareCategory::Acute,
                year: 2027,
                band: CoverageBand::Exact,
                offers_contracted: Some(7)
            }
        );
        for f in utrecht.iter().skip(1).chain(&shown["limburg"]) {
            assert_eq!((f.band, f.offers_contracted), (CoverageBand::FewerThanThree, None), "{f:?}");
        }
    }
}
