//! Supra-regional listings: care offers on the national list of crucial (supra-regional) offer.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::Utc;
use ggzhub_kit::validate::{self as v, MAX_NAME};
use ggzhub_kit::write::{audit, begin, check_version, lost_race, new_id, update_guarded};
use ggzhub_kit::{ApiError, ApiResult, GqlResultExt as _};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::json;

use super::common::{Refs, refs};
use crate::access;
use crate::entity::{listing, network};
use crate::graphql::types::*;

/// A listing on the supra-regional offer list (national table).
#[derive(InputObject)]
pub struct ListingInput {
    /// The listed care offer.
    pub offer_id: ID,
    /// Target group.
    pub target_group: String,
    /// Region codes it serves (at least one).
    pub regions_served: Vec<String>,
    /// On the HS-8 (Zpm setting 8) list.
    pub hs8: bool,
    /// Expertise network.
    pub expertise_network_id: Option<ID>,
}

/// Changes to a listing; omitted fields stay. The listed offer never changes.
#[derive(InputObject)]
pub struct UpdateListingInput {
    /// Target group.
    pub target_group: Option<String>,
    /// Region codes it serves.
    pub regions_served: Option<Vec<String>>,
    /// HS-8 flag.
    pub hs8: Option<bool>,
    /// Expertise network.
    pub expertise_network_id: Option<ID>,
}

/// The region codes of `field`, each validated, without repeats; 1 to 50 of them.
fn region_list(field: &str, codes: &[String]) -> ApiResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for code in codes {
        v::region_code(field, code)?;
        if !out.contains(code) {
            out.push(code.clone());
        }
    }
    if out.is_empty() {
        return Err(ApiError::bad_input(format!("{field} must list at least one region")));
    }
    if out.len() > 50 {
        return Err(ApiError::bad_input(format!("{field} lists {} regions; at most 50 are allowed", out.len())));
    }
    Ok(out)
}

/// The expertise network `id` if it exists; `BAD_USER_INPUT` naming it otherwise.
async fn network_exists<C: ConnectionTrait>(conn: &C, id: &ID) -> ApiResult<String> {
    let id = v::id("expertiseNetworkId", id)?;
    match network::Entity::find_by_id(id.clone()).one(conn).await? {
        Some(_) => Ok(id),
        None => Err(ApiError::bad_input(format!("unknown expertise network {id}"))),
    }
}

/// Listing mutations: listing an offer, changing and removing its listing.
#[derive(Default)]
pub struct ListingMutation;

#[Object]
impl ListingMutation {
    /// Lists a care offer as national crucial (supra-regional) offer (national table). The offer
    /// and the regions served are checked with the region subgraph; an offer is listed once.
    async fn create_supra_regional_listing(
        &self,
        ctx: &Context<'_>,
        input: ListingInput,
    ) -> Result<SupraRegionalListing> {
        let c = caller(ctx)?;
        async {
            access::national_write(c)?;
            let offer = v::id("offerId", &input.offer_id)?;
            let target_group = v::text("targetGroup", &input.target_group, MAX_NAME)?;
            let regions = region_list("regionsServed", &input.regions_served)?;
            Refs { regions: regions.clone(), offers: vec![offer.clone()], orgs: vec![] }.check(refs(ctx)?, c).await?;
            let txn = begin(ctx).await?;
            let network = match &input.expertise_network_id {
                Some(n) => Some(network_exists(&txn, n).await?),
                None => None,
            };
            if let Some(l) =
                listing::Entity::find().filter(listing::Column::OfferId.eq(offer.clone())).one(&txn).await?
            {
                return Err(ApiError::conflict(format!("care offer {offer} is already listed ({})", l.id)));
            }
            let now = Utc::now();
            let model = listing::ActiveModel {
                id: Set(new_id()),
                offer_id: Set(offer.clone()),
                target_group: Set(target_group),
                regions_served: Set(json!(regions)),
                hs8: Set(input.hs8),
                expertise_network_id: Set(network),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                created_by: Set(c.org.to_string()),
                updated_by: Set(c.org.to_string()),
            }
            .insert(&txn)
            .await
            .map_err(|e| lost_race(e, || ApiError::conflict(format!("care offer {offer} is already listed"))))?;
            audit(
                &txn,
                c,
                "SupraRegionalListing",
                &model.id,
                "create",
                json!({"offerId": model.offer_id, "regionsServed": model.regions_served, "hs8": model.hs8}),
            )
            .await?;
            txn.commit().await?;
            Ok(SupraRegionalListing(model))
        }
        .await
        .gql()
    }

    /// Changes a listing (national table).
    async fn update_supra_regional_listing(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        input: UpdateListingInput,
    ) -> Result<SupraRegionalListing> {
        let c = caller(ctx)?;
        async {
            access::national_write(c)?;
            let id = v::id("id", &id)?;
            let regions = input.regions_served.as_deref().map(|r| region_list("regionsServed", r)).transpose()?;
            if let Some(r) = &regions {
                Refs { regions: r.clone(), ..Refs::default() }.check(refs(ctx)?, c).await?;
            }
            let txn = begin(ctx).await?;
            let current = listing::Entity::find_by_id(id.clone())
                .one(&txn)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("no listing with id {id}")))?;
            check_version("listing", &id, current.version, expected_version)?;
            let mut active = listing::ActiveModel {
                version: Set(expected_version + 1),
                updated_at: Set(Utc::now()),
                updated_by: Set(c.org.to_string()),
                ..Default::default()
            };
            let mut change = json!({});
            if let Some(t) = &input.target_group {
                let t = v::text("targetGroup", t, MAX_NAME)?;
                change["targetGroup"] = json!(t);
                active.target_group = Set(t);
            }
            if let Some(r) = regions {
                change["regionsServed"] = json!(r);
                active.regions_served = Set(json!(r));
            }
            if let Some(h) = input.hs8 {
                change["hs8"] = json!(h);
                active.hs8 = Set(h);
            }
            if let Some(n) = &input.expertise_network_id {
                let n = network_exists(&txn, n).await?;
                change["expertiseNetworkId"] = json!(n);
                active.expertise_network_id = Set(Some(n));
            }
            update_guarded(&txn, active, listing::Column::Id, &id, listing::Column::Version, expected_version).await?;
            audit(&txn, c, "SupraRegionalListing", &id, "update", change).await?;
            let model = listing::Entity::find_by_id(id.clone())
                .one(&txn)
                .await?
                .ok_or_else(|| ApiError::not_found(id.clone()))?;
            txn.commit().await?;
            Ok(SupraRegionalListing(model))
        }
        .await
        .gql()
    }

    /// Removes a listing from the supra-regional list (national table). Returns its id.
    async fn remove_supra_regional_listing(&self, ctx: &Context<'_>, id: ID, expected_version: i32) -> Result<ID> {
        let c = caller(ctx)?;
        async {
            access::national_write(c)?;
            let id = v::id("id", &id)?;
            let txn = begin(ctx).await?;
            let current = listing::Entity::find_by_id(id.clone())
                .one(&txn)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("no listing with id {id}")))?;
            check_version("listing", &id, current.version, expected_version)?;
            let res = listing::Entity::delete_many()
                .filter(listing::Column::Id.eq(id.clone()))
                .filter(listing::Column::Version.eq(expected_version))
                .exec(&txn)
                .await?;
            if res.rows_affected == 0 {
                return Err(ApiError::conflict(format!("{id} was changed concurrently")));
            }
            audit(&txn, c, "SupraRegionalListing", &id, "remove", json!({"offerId": current.offer_id})).await?;
            txn.commit().await?;
            Ok(ID(id))
        }
        .await
        .gql()
    }
}
