//! Care use (national table) and IZA regions' overlaps (hub operator): `importCareUse` stores a
//! care-use file as `ggzhub import care-use` does ([`crate::care_use::import`]);
//! `setRegionOverlaps` sets which care-office regions an IZA region overlaps.

use std::collections::HashMap;

use async_graphql::{Context, ErrorExtensions as _, InputObject, Object, Result};
use chrono::Utc;
use ggzhub_kit::error::{ItemRefusal, items_refused};
use ggzhub_kit::validate as v;
use ggzhub_kit::write::{audit, begin, check_version, new_id, update_guarded};
use ggzhub_kit::{ApiError, GqlResultExt as _};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde_json::json;

use super::common::{committed, existing_regions};
use crate::access;
use crate::care_use::{ExpectedVersions, ImportError, LineError};
use crate::domain::RegionKind;
use crate::entity::{region, region_overlap};
use crate::graphql::care_use::CareUseImport;
use crate::graphql::types::*;

/// Largest CSV text `importCareUse` takes (about 20 000 lines).
pub const MAX_CSV_BYTES: usize = 2 * 1024 * 1024;

/// The version of one quarter a care-use import expects to replace.
#[derive(InputObject)]
pub struct CareUseExpectedVersion {
    /// Quarter, `YYYY-Qn` (one the file holds).
    pub period: String,
    /// The quarter's version as read from `careUseImports`; `0` when the caller has not imported
    /// it yet.
    pub version: i32,
}

/// Mutations of care use and region overlaps.
#[derive(Default)]
pub struct CareUseMutation;

/// The one error of a refused file: every refused line in `extensions.items` as `{index, field,
/// code, reason}` (`index`: the data line from 0, i.e. file line − 2; `field`: the CSV column;
/// `reason` starts with the file line), or, for a bad header, `BAD_USER_INPUT` naming every
/// problem of the header.
fn refused(text: &str, lines: Vec<LineError>) -> async_graphql::Error {
    let (header, rows): (Vec<LineError>, Vec<LineError>) = lines.into_iter().partition(|l| l.row.is_none());
    if !header.is_empty() {
        let reasons: Vec<String> = header.iter().map(ToString::to_string).collect();
        return ApiError::bad_input(format!("the care-use file was refused: {}", reasons.join("; "))).extend();
    }
    let items: Vec<ItemRefusal> = rows
        .into_iter()
        .map(|l| ItemRefusal {
            index: l.row.unwrap_or(0),
            field: l.column,
            error: ApiError::bad_input(format!("line {}: {}", l.line, l.reason)),
        })
        .collect();
    let total = text.lines().skip(1).filter(|l| !l.trim().is_empty()).count();
    items_refused("care-use lines", total, &items)
}

#[Object]
impl CareUseMutation {
    /// Imports demand and care-use figures supplied by a trusted source (Vektis-style), as CSV
    /// text in the format of `docs/care-use.md` (header `period,region,category,people_in_care,
    /// new_referrals,treated_in_region`; quarters `YYYY-Qn`; figures per care-office region; an
    /// empty `treated_in_region` is the region's own figure, another region a flow). The caller's
    /// organisation is stored as the supplier. All or nothing: when any line is refused nothing
    /// is stored and the error lists every refused line in `extensions.items` (`index` from 0
    /// over the data lines, `field` the column, `reason` starting with the file's line number).
    /// Importing a quarter again replaces the caller's figures of that quarter (a correction),
    /// audited as `replace`; each import moves the quarter's version (`careUseImports`) on by
    /// one. `expectedVersions` names, per quarter of the file, the version the caller read (`0`:
    /// not imported yet); a stale one gets `CONFLICT` and nothing is stored. Two imports of the
    /// same quarter at once: one is stored, the other gets `CONFLICT` and stores nothing. Who:
    /// the national table (scope `national:write`) or the hub operator (scope `admin`); anyone
    /// else `FORBIDDEN`.
    async fn import_care_use(
        &self,
        ctx: &Context<'_>,
        csv: String,
        expected_versions: Option<Vec<CareUseExpectedVersion>>,
    ) -> Result<CareUseImport> {
        let c = caller(ctx)?;
        access::import_care_use(c).gql()?;
        let mut expected = ExpectedVersions::new();
        for e in expected_versions.unwrap_or_default() {
            if expected.insert(e.period.clone(), e.version).is_some() {
                return Err(
                    ApiError::bad_input(format!("expectedVersions names {} twice", v::shown(&e.period))).extend()
                );
            }
        }
        if csv.len() > MAX_CSV_BYTES {
            return Err(ApiError::bad_input(format!(
                "csv is {} bytes; at most {MAX_CSV_BYTES} are taken per call: split the file by quarter",
                csv.len()
            ))
            .extend());
        }
        let txn = begin(ctx).await.gql()?;
        match crate::care_use::import(&txn, c, &c.org.to_string(), &csv, &expected).await {
            Ok(report) => {
                txn.commit().await.map_err(ApiError::from).gql()?;
                committed(ctx);
                Ok(report.into())
            }
            Err(e) => {
                txn.rollback().await.map_err(ApiError::from).gql()?;
                match e {
                    ImportError::Api(e) => Err(e.extend()),
                    ImportError::Lines(lines) => Err(refused(&csv, lines)),
                }
            }
        }
    }

    /// Sets which care-office regions the IZA region `code` overlaps (hub operator), replacing
    /// the earlier list; an empty list removes them. Queries that take a region answer for an
    /// IZA region with the care-office regions it overlaps. Names the region's version it
    /// expects (stale: `CONFLICT`); each listed region must be an existing care-office region.
    /// An IZA region with overlaps has no transfer lead of its own (`Region.transferLead` is
    /// `null`): a lead confirmed while it had none stays stored, unused, and counts again if the
    /// overlaps are removed.
    async fn set_region_overlaps(
        &self,
        ctx: &Context<'_>,
        code: String,
        expected_version: i32,
        care_office_regions: Vec<String>,
    ) -> Result<Region> {
        let c = caller(ctx)?;
        access::administer(c).gql()?;
        async {
            v::region_code("code", &code)?;
            let txn = begin(ctx).await?;
            let current = region::Entity::find_by_id(code.clone())
                .one(&txn)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("no region with code {code}")))?;
            if current.kind != RegionKind::Iza.as_str() {
                return Err(ApiError::bad_input(format!(
                    "{code} is a {} region: overlaps are set on the IZA region",
                    current.kind
                )));
            }
            check_version("region", &code, current.version, expected_version)?;
            let codes = existing_regions(&txn, "careOfficeRegions", &care_office_regions).await?;
            let kinds: HashMap<String, String> = region::Entity::find()
                .select_only()
                .columns([region::Column::Code, region::Column::Kind])
                .filter(region::Column::Code.is_in(codes.clone()))
                .into_tuple::<(String, String)>()
                .all(&txn)
                .await?
                .into_iter()
                .collect();
            if let Some(other) = codes.iter().find(|c| kinds.get(*c).map(String::as_str) != Some("CARE_OFFICE")) {
                return Err(ApiError::bad_input(format!("careOfficeRegions: {other} is not a care-office region")));
            }
            let now = Utc::now();
            update_guarded(
                &txn,
                region::ActiveModel {
                    version: Set(expected_version + 1),
                    updated_at: Set(now),
                    updated_by: Set(c.org.to_string()),
                    ..Default::default()
                },
                region::Column::Code,
                &code,
                region::Column::Version,
                expected_version,
            )
            .await?;
            region_overlap::Entity::delete_many()
                .filter(region_overlap::Column::IzaCode.eq(code.clone()))
                .exec(&txn)
                .await?;
            if !codes.is_empty() {
                region_overlap::Entity::insert_many(codes.iter().map(|o| region_overlap::ActiveModel {
                    id: Set(new_id()),
                    iza_code: Set(code.clone()),
                    care_office_code: Set(o.clone()),
                    created_at: Set(now),
                    created_by: Set(c.org.to_string()),
                }))
                .exec_without_returning(&txn)
                .await?;
            }
            audit(&txn, c, "Region", &code, "set-overlaps", json!({"careOfficeRegions": codes})).await?;
            let model = region::Entity::find_by_id(code.clone())
                .one(&txn)
                .await?
                .ok_or_else(|| ApiError::not_found(code.clone()))?;
            txn.commit().await?;
            Ok(Region(model.into()))
        }
        .await
        .gql()
    }
}
