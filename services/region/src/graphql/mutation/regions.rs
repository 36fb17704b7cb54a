//! Regions (hub operator): create and change a region, its neighbours, coordinating insurer and
//! map tile.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::Utc;
use ggzhub_kit::validate::{self as v, MAX_NAME};
use ggzhub_kit::write::{audit, begin, check_version, lost_race, update_guarded};
use ggzhub_kit::{ApiError, ApiResult, GqlResultExt as _, OrgKind};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::json;

use super::common::existing_regions;
use crate::access;
use crate::domain::*;
use crate::entity::{organisation, region};
use crate::graphql::types::*;

/// Input for a new region (hub operator).
#[derive(InputObject)]
pub struct CreateRegionInput {
    /// Code, lowercase kebab-case.
    pub code: String,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: RegionKind,
    /// Neighbouring region codes (must exist).
    pub neighbours: Vec<String>,
    /// Coordinating insurer id (an `INSURER` organisation).
    pub coordinating_insurer_id: Option<ID>,
    /// The region's tile on the schematic map (free among regions of its kind).
    pub tile: Option<MapTileInput>,
}

/// A tile on the schematic map: row and column from 0 to 29.
#[derive(InputObject, Debug, Clone, Copy)]
pub struct MapTileInput {
    /// Row, 0 at the top.
    pub row: i32,
    /// Column, 0 at the left.
    pub column: i32,
}

/// The largest row or column a tile may have: room for any regional division of the country.
const MAX_TILE: i32 = 29;

/// Checks `tile` is on the map and not taken by another region of `kind`.
async fn free_tile<C: ConnectionTrait>(conn: &C, kind: &str, code: &str, tile: MapTileInput) -> ApiResult<()> {
    for (field, value) in [("tile.row", tile.row), ("tile.column", tile.column)] {
        if !(0..=MAX_TILE).contains(&value) {
            return Err(ApiError::bad_input(format!("{field} must be between 0 and {MAX_TILE}, got {value}")));
        }
    }
    let taken = region::Entity::find()
        .filter(region::Column::Kind.eq(kind))
        .filter(region::Column::MapRow.eq(tile.row))
        .filter(region::Column::MapColumn.eq(tile.column))
        .filter(region::Column::Code.ne(code))
        .one(conn)
        .await?;
    match taken {
        Some(other) => Err(ApiError::bad_input(format!(
            "tile (row {}, column {}) is taken by region {}",
            tile.row, tile.column, other.code
        ))),
        None => Ok(()),
    }
}

/// Changes to a region (hub operator); omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateRegionInput {
    /// Name.
    pub name: Option<String>,
    /// Neighbouring region codes.
    pub neighbours: Option<Vec<String>>,
    /// Coordinating insurer id.
    pub coordinating_insurer_id: Option<ID>,
    /// The region's tile on the schematic map (free among regions of its kind).
    pub tile: Option<MapTileInput>,
}

async fn insurer<C: ConnectionTrait>(conn: &C, id: &ID) -> ApiResult<String> {
    let id = v::id("coordinatingInsurerId", id)?;
    match organisation::Entity::find_by_id(id.clone()).one(conn).await? {
        Some(o) if o.kind == OrgKind::Insurer.as_str() => Ok(id),
        Some(_) => Err(ApiError::bad_input(format!("coordinatingInsurerId {id} is not an insurer"))),
        None => Err(ApiError::bad_input(format!("coordinatingInsurerId: unknown organisation {id}"))),
    }
}

/// Mutations of regions.
#[derive(Default)]
pub struct RegionMutation;

#[Object]
impl RegionMutation {
    /// Creates a region (hub operator).
    async fn create_region(&self, ctx: &Context<'_>, input: CreateRegionInput) -> Result<Region> {
        let c = caller(ctx)?;
        access::administer(c).gql()?;
        async {
            v::region_code("code", &input.code)?;
            let name = v::text("name", &input.name, MAX_NAME)?;
            let txn = begin(ctx).await?;
            if region::Entity::find_by_id(input.code.clone()).one(&txn).await?.is_some() {
                return Err(ApiError::bad_input(format!("region code {} is already in use", input.code)));
            }
            let neighbours = existing_regions(&txn, "neighbours", &input.neighbours).await?;
            let insurer_id = match &input.coordinating_insurer_id {
                Some(i) => Some(insurer(&txn, i).await?),
                None => None,
            };
            if let Some(tile) = input.tile {
                free_tile(&txn, input.kind.as_str(), &input.code, tile).await?;
            }
            let now = Utc::now();
            let model = region::ActiveModel {
                code: Set(input.code.clone()),
                name: Set(name),
                kind: Set(input.kind.as_str().to_owned()),
                neighbours: Set(json!(neighbours)),
                coordinating_insurer_id: Set(insurer_id),
                map_row: Set(input.tile.map(|t| t.row)),
                map_column: Set(input.tile.map(|t| t.column)),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                created_by: Set(c.org.to_string()),
                updated_by: Set(c.org.to_string()),
            }
            .insert(&txn)
            .await
            .map_err(|e| {
                lost_race(e, || {
                    ApiError::bad_input(format!("region code {} or its tile is already in use", input.code))
                })
            })?;
            audit(
                &txn,
                c,
                "Region",
                &model.code,
                "create",
                json!({"name": model.name, "kind": model.kind, "neighbours": model.neighbours,
                       "tile": input.tile.map(|t| json!({"row": t.row, "column": t.column}))}),
            )
            .await?;
            txn.commit().await?;
            Ok(Region(model.into()))
        }
        .await
        .gql()
    }

    /// Changes a region (hub operator).
    async fn update_region(
        &self,
        ctx: &Context<'_>,
        code: String,
        expected_version: i32,
        input: UpdateRegionInput,
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
            check_version("region", &code, current.version, expected_version)?;
            let mut active = region::ActiveModel {
                version: Set(expected_version + 1),
                updated_at: Set(Utc::now()),
                updated_by: Set(c.org.to_string()),
                ..Default::default()
            };
            let mut change = json!({});
            if let Some(n) = &input.name {
                let n = v::text("name", n, MAX_NAME)?;
                change["name"] = json!(n);
                active.name = Set(n);
            }
            if let Some(ns) = &input.neighbours {
                if ns.contains(&code) {
                    return Err(ApiError::bad_input("a region cannot be its own neighbour"));
                }
                let ns = existing_regions(&txn, "neighbours", ns).await?;
                change["neighbours"] = json!(ns);
                active.neighbours = Set(json!(ns));
            }
            if let Some(i) = &input.coordinating_insurer_id {
                let i = insurer(&txn, i).await?;
                change["coordinatingInsurerId"] = json!(i);
                active.coordinating_insurer_id = Set(Some(i));
            }
            if let Some(tile) = input.tile {
                free_tile(&txn, &current.kind, &code, tile).await?;
                change["tile"] = json!({"row": tile.row, "column": tile.column});
                active.map_row = Set(Some(tile.row));
                active.map_column = Set(Some(tile.column));
            }
            update_guarded(&txn, active, region::Column::Code, &code, region::Column::Version, expected_version)
                .await?;
            audit(&txn, c, "Region", &code, "update", change).await?;
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
