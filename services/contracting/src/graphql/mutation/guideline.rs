//! Contracting guidelines (spelregels): the national table's rules for a year's contracting.

use async_graphql::{Context, ID, Object, Result};
use chrono::Utc;
use ggzhub_kit::validate::{self as v, MAX_LONG_TEXT, MAX_NAME};
use ggzhub_kit::write::{audit, begin, lost_race, new_id};
use ggzhub_kit::{ApiError, GqlResultExt as _};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::access;
use crate::entity::guideline;
use crate::graphql::types::*;

/// Guideline mutations: publishing a year's guideline and changing it.
#[derive(Default)]
pub struct GuidelineMutation;

#[Object]
impl GuidelineMutation {
    /// Publishes the contracting guideline (spelregels) of a year (national table).
    async fn create_contracting_guideline(
        &self,
        ctx: &Context<'_>,
        year: i32,
        title: String,
        body: String,
    ) -> Result<ContractingGuideline> {
        let c = caller(ctx)?;
        async {
            access::write_guidelines(c)?;
            v::year(year)?;
            let title = v::text("title", &title, MAX_NAME)?;
            let body = v::text("body", &body, MAX_LONG_TEXT)?;
            let txn = begin(ctx).await?;
            if guideline::Entity::find().filter(guideline::Column::Year.eq(year)).one(&txn).await?.is_some() {
                return Err(ApiError::conflict(format!("the guideline of {year} exists; update it instead")));
            }
            let now = Utc::now();
            let model = guideline::ActiveModel {
                id: Set(new_id()),
                year: Set(year),
                title: Set(title),
                body: Set(body),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                created_by: Set(c.org.to_string()),
                updated_by: Set(c.org.to_string()),
            }
            .insert(&txn)
            .await
            .map_err(|e| lost_race(e, || ApiError::conflict(format!("the guideline of {year} exists"))))?;
            audit(&txn, c, "ContractingGuideline", &model.id, "create", json!({ "year": year })).await?;
            txn.commit().await?;
            Ok(ContractingGuideline(model))
        }
        .await
        .gql()
    }

    /// Changes a contracting guideline (national table).
    async fn update_contracting_guideline(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        title: String,
        body: String,
    ) -> Result<ContractingGuideline> {
        let c = caller(ctx)?;
        async {
            access::write_guidelines(c)?;
            let id = v::id("id", &id)?;
            let title = v::text("title", &title, MAX_NAME)?;
            let body = v::text("body", &body, MAX_LONG_TEXT)?;
            let txn = begin(ctx).await?;
            let current = guideline::Entity::find_by_id(id.clone())
                .one(&txn)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("no guideline with id {id}")))?;
            if current.version != expected_version {
                return Err(ApiError::conflict(format!(
                    "guideline {id} is at version {}, not {expected_version}",
                    current.version
                )));
            }
            let res = guideline::Entity::update_many()
                .set(guideline::ActiveModel {
                    title: Set(title),
                    body: Set(body),
                    version: Set(expected_version + 1),
                    updated_at: Set(Utc::now()),
                    updated_by: Set(c.org.to_string()),
                    ..Default::default()
                })
                .filter(guideline::Column::Id.eq(id.clone()))
                .filter(guideline::Column::Version.eq(expected_version))
                .exec(&txn)
                .await?;
            if res.rows_affected == 0 {
                return Err(ApiError::conflict(format!("guideline {id} was changed concurrently")));
            }
            audit(&txn, c, "ContractingGuideline", &id, "update", json!({ "fields": ["title", "body"] })).await?;
            let model = guideline::Entity::find_by_id(id.clone())
                .one(&txn)
                .await?
                .ok_or_else(|| ApiError::not_found(id.clone()))?;
            txn.commit().await?;
            Ok(ContractingGuideline(model))
        }
        .await
        .gql()
    }
}
