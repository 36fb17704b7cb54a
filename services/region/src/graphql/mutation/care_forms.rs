//! Regional care forms (issue 21 item 4): a region's chair adds a care form to the national list
//! for the region itself, with a motivation.

use async_graphql::{Context, InputObject, Object, Result};
use ggzhub_kit::GqlResultExt as _;
use ggzhub_kit::validate::{self as v, MAX_DESCRIPTION, MAX_NAME};
use ggzhub_kit::write::{audit, begin, lost_race};
use ggzhub_kit::{ApiError, ApiResult};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::json;

use super::common::{committed, existing_regions};
use crate::access;
use crate::domain::*;
use crate::entity::care_form;
use crate::graphql::types::*;

/// A care form a region adds for itself (the region's chair).
#[derive(InputObject)]
pub struct AddRegionalCareFormInput {
    /// The region (whose chair the caller is).
    pub region_code: String,
    /// Code, unique across the national and all regional forms: capitals, digits and `_`,
    /// 2–64 characters, e.g. `UTRECHT_ACUTE_YOUTH`.
    pub code: String,
    /// Category it belongs to.
    pub category: CareCategory,
    /// Dutch name (≤ 200 characters).
    pub name: String,
    /// Description (≤ 2000 characters; may be empty).
    pub description: Option<String>,
    /// Why the region needs this form beside the national list (no personal data, ≤ 2000
    /// characters).
    pub motivation: String,
}

/// Checks a care-form code: capitals, digits and `_`, starting with a capital, 2–64 characters.
fn form_code(code: &str) -> ApiResult<()> {
    let ok = (2..=64).contains(&code.len())
        && code.starts_with(|ch: char| ch.is_ascii_uppercase())
        && code.chars().all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit() || ch == '_');
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_input(format!(
            "code must be 2–64 capitals, digits or _ starting with a capital, got {}",
            v::shown(code)
        )))
    }
}

/// Mutations of regional care forms.
#[derive(Default)]
pub struct CareFormMutation;

#[Object]
impl CareFormMutation {
    /// Adds a care form to the national list for one region only (the region's chair; audited).
    /// Offers in that region may then use it; `careForms(region:)` lists it with its region and
    /// motivation, publicly like the national list.
    async fn add_regional_care_form(&self, ctx: &Context<'_>, input: AddRegionalCareFormInput) -> Result<CareForm> {
        let c = caller(ctx)?;
        async {
            v::region_code("regionCode", &input.region_code)?;
            access::add_regional_care_form(c, &input.region_code)?;
            form_code(&input.code)?;
            let name = v::text("name", &input.name, MAX_NAME)?;
            let description =
                v::optional_text("description", input.description.as_deref().unwrap_or(""), MAX_DESCRIPTION)?;
            let motivation = v::text("motivation", &input.motivation, MAX_DESCRIPTION)?;
            let txn = begin(ctx).await?;
            existing_regions(&txn, "regionCode", std::slice::from_ref(&input.region_code)).await?;
            let taken = || ApiError::bad_input(format!("care form code {} is already in use", input.code));
            if care_form::Entity::find_by_id(input.code.clone()).one(&txn).await?.is_some() {
                return Err(taken());
            }
            let model = care_form::ActiveModel {
                code: Set(input.code.clone()),
                category: Set(input.category.as_str().to_owned()),
                name: Set(name),
                description: Set(description),
                region_code: Set(Some(input.region_code.clone())),
                motivation: Set(Some(motivation)),
            }
            .insert(&txn)
            .await
            .map_err(|e| lost_race(e, taken))?;
            audit(
                &txn,
                c,
                "CareForm",
                &model.code,
                "create",
                json!({"regionCode": model.region_code, "category": model.category, "name": model.name,
                       "motivation": model.motivation}),
            )
            .await?;
            txn.commit().await?;
            committed(ctx);
            Ok(CareForm(model))
        }
        .await
        .gql()
    }
}
