//! Expertise networks: organisations sharing expertise on a target group, with a consultation desk.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::Utc;
use ggzhub_kit::validate::{self as v, MAX_NAME, MAX_SHORT_TEXT};
use ggzhub_kit::write::{audit, begin, check_version, new_id, update_guarded};
use ggzhub_kit::{ApiError, GqlResultExt as _};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::json;

use super::common::{Refs, id_list, refs};
use crate::access;
use crate::entity::network;
use crate::graphql::types::*;

/// An expertise network (national table).
#[derive(InputObject)]
pub struct NetworkInput {
    /// Name.
    pub name: String,
    /// Target group.
    pub target_group: String,
    /// Member organisations.
    pub member_organisation_ids: Vec<ID>,
    /// Consultation contact: an organisation function, never a person (≤ 500 characters). The
    /// desk's phone number and e-mail address may be given; BSNs and dates of birth are refused.
    pub consultation_contact: String,
}

/// Expertise network mutations: creating and changing a network.
#[derive(Default)]
pub struct NetworkMutation;

#[Object]
impl NetworkMutation {
    /// Creates an expertise network (national table). Members are checked with the region subgraph.
    async fn create_expertise_network(&self, ctx: &Context<'_>, input: NetworkInput) -> Result<ExpertiseNetwork> {
        let c = caller(ctx)?;
        async {
            access::national_write(c)?;
            let name = v::text("name", &input.name, MAX_NAME)?;
            let target_group = v::text("targetGroup", &input.target_group, MAX_NAME)?;
            // An organisation's consultation desk: its phone number and e-mail address are meant
            // to be here, so only BSNs and dates of birth are refused.
            let contact = v::contact_text("consultationContact", &input.consultation_contact, MAX_SHORT_TEXT)?;
            let members = id_list("memberOrganisationIds", &input.member_organisation_ids, 100)?;
            Refs { orgs: members.clone(), ..Refs::default() }.check(refs(ctx)?, c).await?;
            let txn = begin(ctx).await?;
            let now = Utc::now();
            let model = network::ActiveModel {
                id: Set(new_id()),
                name: Set(name),
                target_group: Set(target_group),
                member_org_ids: Set(json!(members)),
                consultation_contact: Set(contact),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                created_by: Set(c.org.to_string()),
                updated_by: Set(c.org.to_string()),
            }
            .insert(&txn)
            .await?;
            audit(
                &txn,
                c,
                "ExpertiseNetwork",
                &model.id,
                "create",
                json!({"name": model.name, "members": model.member_org_ids}),
            )
            .await?;
            txn.commit().await?;
            Ok(ExpertiseNetwork(model))
        }
        .await
        .gql()
    }

    /// Changes an expertise network (national table); the given fields replace the old ones.
    async fn update_expertise_network(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        input: NetworkInput,
    ) -> Result<ExpertiseNetwork> {
        let c = caller(ctx)?;
        async {
            access::national_write(c)?;
            let id = v::id("id", &id)?;
            let name = v::text("name", &input.name, MAX_NAME)?;
            let target_group = v::text("targetGroup", &input.target_group, MAX_NAME)?;
            // An organisation's consultation desk: its phone number and e-mail address are meant
            // to be here, so only BSNs and dates of birth are refused.
            let contact = v::contact_text("consultationContact", &input.consultation_contact, MAX_SHORT_TEXT)?;
            let members = id_list("memberOrganisationIds", &input.member_organisation_ids, 100)?;
            Refs { orgs: members.clone(), ..Refs::default() }.check(refs(ctx)?, c).await?;
            let txn = begin(ctx).await?;
            let current = network::Entity::find_by_id(id.clone())
                .one(&txn)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("no expertise network with id {id}")))?;
            check_version("expertise network", &id, current.version, expected_version)?;
            let active = network::ActiveModel {
                name: Set(name),
                target_group: Set(target_group),
                consultation_contact: Set(contact),
                member_org_ids: Set(json!(members)),
                version: Set(expected_version + 1),
                updated_at: Set(Utc::now()),
                updated_by: Set(c.org.to_string()),
                ..Default::default()
            };
            update_guarded(&txn, active, network::Column::Id, &id, network::Column::Version, expected_version).await?;
            audit(&txn, c, "ExpertiseNetwork", &id, "update", json!({"members": members})).await?;
            let model = network::Entity::find_by_id(id.clone())
                .one(&txn)
                .await?
                .ok_or_else(|| ApiError::not_found(id.clone()))?;
            txn.commit().await?;
            Ok(ExpertiseNetwork(model))
        }
        .await
        .gql()
    }
}
