//! Organisations (hub operator): register an organisation and change its profile and regions.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::Utc;
use ggzhub_kit::validate::{self as v, MAX_NAME};
use ggzhub_kit::write::{audit, begin, check_version, new_id, update_guarded};
use ggzhub_kit::{ApiError, ApiResult, GqlResultExt as _, OrgKind};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::json;

use super::common::existing_regions;
use crate::access;
use crate::entity::organisation;
use crate::graphql::types::*;

/// Input for a new organisation (hub operator).
#[derive(InputObject)]
pub struct CreateOrganisationInput {
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: OrgKind,
    /// KvK number (8 digits).
    pub kvk: Option<String>,
    /// URA (8 digits, providers).
    pub ura: Option<String>,
    /// AGB code (8 digits, providers).
    pub agb: Option<String>,
    /// UZOVI (4 digits, insurers).
    pub uzovi: Option<String>,
    /// Region codes it takes part in.
    pub regions: Vec<String>,
}

/// Changes to an organisation (hub operator).
#[derive(InputObject)]
pub struct UpdateOrganisationInput {
    /// Name.
    pub name: Option<String>,
    /// Region codes it takes part in.
    pub regions: Option<Vec<String>>,
}

fn digits(field: &str, value: Option<String>, len: usize) -> ApiResult<Option<String>> {
    match value.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()) {
        Some(s) if s.len() == len && s.bytes().all(|b| b.is_ascii_digit()) => Ok(Some(s)),
        Some(s) => Err(ApiError::bad_input(format!("{field} must be {len} digits, got {}", v::shown(&s)))),
        None => Ok(None),
    }
}

/// Mutations of organisations.
#[derive(Default)]
pub struct OrganisationMutation;

#[Object]
impl OrganisationMutation {
    /// Registers an organisation (hub operator).
    async fn create_organisation(&self, ctx: &Context<'_>, input: CreateOrganisationInput) -> Result<Organisation> {
        let c = caller(ctx)?;
        access::administer(c).gql()?;
        async {
            let name = v::text("name", &input.name, MAX_NAME)?;
            let kvk = digits("kvk", input.kvk, 8)?;
            let ura = digits("ura", input.ura, 8)?;
            let agb = digits("agb", input.agb, 8)?;
            let uzovi = digits("uzovi", input.uzovi, 4)?;
            if uzovi.is_some() && input.kind != OrgKind::Insurer {
                return Err(ApiError::bad_input("only insurers have a UZOVI code"));
            }
            let txn = begin(ctx).await?;
            let regions = existing_regions(&txn, "regions", &input.regions).await?;
            let now = Utc::now();
            let model = organisation::ActiveModel {
                id: Set(new_id()),
                name: Set(name),
                kind: Set(input.kind.as_str().to_owned()),
                kvk: Set(kvk),
                ura: Set(ura),
                agb: Set(agb),
                uzovi: Set(uzovi),
                regions: Set(json!(regions)),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                created_by: Set(c.org.to_string()),
                updated_by: Set(c.org.to_string()),
            }
            .insert(&txn)
            .await?;
            // The register's table seats follow `regions` (see crate::register).
            crate::register::set_member_regions(&txn, &model.id, &regions, &c.org.to_string()).await?;
            audit(
                &txn,
                c,
                "Organisation",
                &model.id,
                "create",
                json!({"name": model.name, "kind": model.kind, "regions": model.regions}),
            )
            .await?;
            txn.commit().await?;
            Ok(Organisation(model.into()))
        }
        .await
        .gql()
    }

    /// Changes an organisation's profile (hub operator).
    async fn update_organisation(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        input: UpdateOrganisationInput,
    ) -> Result<Organisation> {
        let c = caller(ctx)?;
        access::administer(c).gql()?;
        async {
            let id = v::id("id", &id)?;
            let txn = begin(ctx).await?;
            let current = organisation::Entity::find_by_id(id.clone())
                .one(&txn)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("no organisation with id {id}")))?;
            check_version("organisation", &id, current.version, expected_version)?;
            let mut active = organisation::ActiveModel {
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
            if let Some(rs) = &input.regions {
                let rs = existing_regions(&txn, "regions", rs).await?;
                // The register's table seats follow `regions` (see crate::register).
                crate::register::set_member_regions(&txn, &id, &rs, &c.org.to_string()).await?;
                change["regions"] = json!(rs);
                active.regions = Set(json!(rs));
            }
            update_guarded(
                &txn,
                active,
                organisation::Column::Id,
                &id,
                organisation::Column::Version,
                expected_version,
            )
            .await?;
            audit(&txn, c, "Organisation", &id, "update", change).await?;
            let model = organisation::Entity::find_by_id(id.clone())
                .one(&txn)
                .await?
                .ok_or_else(|| ApiError::not_found(id.clone()))?;
            txn.commit().await?;
            Ok(Organisation(model.into()))
        }
        .await
        .gql()
    }
}
