//! The register in GraphQL (see [`crate::register`]): the operator manages identifiers and
//! identity-provider bindings, the operator and a table's chair manage its members, the gateway
//! resolves tokens with `registerResolution` (`@inaccessible`: not in the API schema, and only
//! for the gateway's own scope `register:resolve`), and `me` says who the hub thinks the caller
//! is. Every change is audited in its own transaction.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use ggzhub_kit::token::scopes;
use ggzhub_kit::write::{begin, data};
use ggzhub_kit::{ApiError, ApiResult, Caller, GqlResultExt as _, OrgKind, audit};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;

use super::types::{Organisation, caller, load_err, loaders};
use crate::access;
use crate::entity::{organisation, region};
use crate::register::{
    Resolution, Scheme, TableRole, binding, check_issuer, identifier, insert_binding, insert_identifier,
    insert_membership, membership, sync_regions_column,
};

/// An external identifier of an organisation.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(tag = "public")]
pub struct OrganisationIdentifier {
    /// Scheme (URA, AGB, UZOVI, KVK, OIN).
    pub scheme: Scheme,
    /// Value (digits).
    pub value: String,
}

/// An identity provider bound to an organisation: its tokens may name the organisation by the
/// identifier of `scheme`.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(tag = "public")]
pub struct IdentityProviderBinding {
    /// The provider's issuer URL (`iss` of its tokens).
    pub issuer: String,
    /// The identifier scheme its tokens assert.
    pub scheme: Scheme,
}

/// A seat at a region's table (regionale tafel).
#[derive(SimpleObject, Debug, Clone)]
#[graphql(tag = "public")]
pub struct TableMembership {
    /// The organisation's hub id.
    pub organisation_id: ID,
    /// The region's code.
    pub region_code: String,
    /// Member or chair.
    pub role: TableRole,
}

/// An organisation's entry in the register.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(tag = "public")]
pub struct RegisterEntry {
    /// The organisation's hub id.
    pub organisation_id: ID,
    /// Its external identifiers.
    pub identifiers: Vec<OrganisationIdentifier>,
    /// The identity providers that may speak for it.
    pub identity_providers: Vec<IdentityProviderBinding>,
    /// The tables it sits at.
    pub tables: Vec<TableMembership>,
}

/// Outcome of resolving a token's identifier.
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(inaccessible)]
pub enum ResolutionOutcome {
    /// Registered and bound to the issuer.
    Resolved,
    /// No organisation has this identifier.
    UnknownIdentifier,
    /// The identifier is registered, but not bound to this issuer for this scheme.
    OtherIssuer,
}

/// What the register says about a token's (issuer, scheme, identifier): for the gateway only.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(inaccessible)]
pub struct RegisterResolution {
    /// The outcome.
    #[graphql(inaccessible)]
    pub outcome: ResolutionOutcome,
    /// The organisation's hub id (when resolved).
    pub organisation_id: Option<ID>,
    /// Its kind (when resolved).
    pub kind: Option<OrgKind>,
    /// Regions whose tables it sits at.
    pub regions: Vec<String>,
    /// `chair:<region>` for each table it chairs.
    pub roles: Vec<String>,
}

/// Who the hub thinks the caller is: the organisation the gateway resolved through the register,
/// the person (the token's subject) and what the register grants it.
pub struct Me(Caller);

/// Who the hub thinks the caller is, as the gateway vouched for it (the register's organisation,
/// kind, regions and roles; the token's subject; the granted scopes).
#[Object(tag = "public")]
impl Me {
    /// The caller's organisation.
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        let found = loaders(ctx)?.organisations.load_one(self.0.org.to_string()).await.map_err(load_err)?;
        Ok(found.map(Organisation))
    }
    /// The person (or system) acting for it: the subject of the caller's token.
    async fn person(&self) -> &str {
        &self.0.subject
    }
    /// The organisation's kind, from the register.
    async fn kind(&self) -> OrgKind {
        self.0.kind
    }
    /// Regions whose tables the organisation sits at, from the register.
    async fn regions(&self) -> Vec<String> {
        self.0.regions.iter().cloned().collect()
    }
    /// Roles from the register, e.g. `chair:utrecht`.
    async fn roles(&self) -> Vec<String> {
        self.0.roles.iter().cloned().collect()
    }
    /// Scopes granted: the token's, narrowed to what the organisation's kind may have.
    async fn scopes(&self) -> Vec<String> {
        self.0.scopes.iter().cloned().collect()
    }
}

async fn entry<C: ConnectionTrait>(conn: &C, org: &str) -> ApiResult<RegisterEntry> {
    let ids = identifier::Entity::find()
        .filter(identifier::Column::OrganisationId.eq(org))
        .order_by_asc(identifier::Column::Scheme)
        .order_by_asc(identifier::Column::Value)
        .all(conn)
        .await?;
    let bindings = binding::Entity::find()
        .filter(binding::Column::OrganisationId.eq(org))
        .order_by_asc(binding::Column::Issuer)
        .order_by_asc(binding::Column::Scheme)
        .all(conn)
        .await?;
    let seats = membership::Entity::find()
        .filter(membership::Column::OrganisationId.eq(org))
        .order_by_asc(membership::Column::RegionCode)
        .all(conn)
        .await?;
    Ok(RegisterEntry {
        organisation_id: ID(org.to_owned()),
        identifiers: ids
            .into_iter()
            .filter_map(|i| Scheme::parse(&i.scheme).map(|scheme| OrganisationIdentifier { scheme, value: i.value }))
            .collect(),
        identity_providers: bindings
            .into_iter()
            .filter_map(|b| Scheme::parse(&b.scheme).map(|scheme| IdentityProviderBinding { issuer: b.issuer, scheme }))
            .collect(),
        tables: seats.into_iter().filter_map(seat).collect(),
    })
}

fn seat(m: membership::Model) -> Option<TableMembership> {
    Some(TableMembership {
        organisation_id: ID(m.organisation_id),
        region_code: m.region_code,
        role: TableRole::parse(&m.role)?,
    })
}

/// Records a register change in the audit log, reads the organisation's entry as it now stands
/// and commits: the end of every register mutation.
async fn audited_entry(
    txn: sea_orm::DatabaseTransaction,
    c: &Caller,
    entity: &str,
    org: &str,
    action: &str,
    change: serde_json::Value,
) -> ApiResult<RegisterEntry> {
    audit::record(&txn, c, entity, org, action, change).await?;
    let out = entry(&txn, org).await?;
    txn.commit().await?;
    Ok(out)
}

async fn existing_org<C: ConnectionTrait>(conn: &C, id: &ID) -> ApiResult<organisation::Model> {
    let id = ggzhub_kit::validate::id("organisationId", id)?;
    organisation::Entity::find_by_id(id.clone())
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::bad_input(format!("no organisation with id {id}")))
}

async fn existing_region<C: ConnectionTrait>(conn: &C, code: &str) -> ApiResult<()> {
    ggzhub_kit::validate::region_code("region", code)?;
    region::Entity::find_by_id(code.to_owned())
        .one(conn)
        .await?
        .map(|_| ())
        .ok_or_else(|| ApiError::bad_input(format!("no region with code {code}")))
}

/// Table membership is managed by the operator and by the table's chair.
fn manage_table(c: &Caller, region: &str) -> ApiResult<()> {
    if c.kind == OrgKind::HubOperator && c.has_scope(scopes::ADMIN) {
        return Ok(());
    }
    if c.is_chair(region) && c.has_scope(scopes::OVERVIEW_WRITE) {
        return Ok(());
    }
    Err(ApiError::forbidden(format!("only the hub operator and the chair of {region} manage its table")))
}

/// Register queries.
#[derive(Default)]
pub struct RegisterQuery;

#[Object]
impl RegisterQuery {
    /// Who the hub thinks the caller is (organisation, person, kind, regions, roles, scopes).
    #[graphql(tag = "public")]
    async fn me(&self, ctx: &Context<'_>) -> Result<Me> {
        Ok(Me(caller(ctx)?.clone()))
    }

    /// An organisation's register entry: identifiers, bound identity providers, tables. The hub
    /// operator reads every entry, an organisation its own.
    #[graphql(tag = "public")]
    async fn register_entry(&self, ctx: &Context<'_>, organisation_id: ID) -> Result<RegisterEntry> {
        let c = caller(ctx)?;
        async {
            access::read(c)?;
            let id = ggzhub_kit::validate::id("organisationId", &organisation_id)?;
            let operator = c.kind == OrgKind::HubOperator && c.has_scope(scopes::ADMIN);
            if !operator && c.org.to_string() != id {
                return Err(ApiError::forbidden("an organisation reads only its own register entry"));
            }
            let conn = data::<DatabaseConnection>(ctx)?;
            existing_org(conn, &organisation_id).await?;
            entry(conn, &id).await
        }
        .await
        .gql()
    }

    /// Who sits at a region's table, and who chairs it (public, like organisation profiles).
    #[graphql(tag = "public")]
    async fn table_members(&self, ctx: &Context<'_>, region: String) -> Result<Vec<TableMembership>> {
        let c = caller(ctx)?;
        async {
            access::read(c)?;
            let conn = data::<DatabaseConnection>(ctx)?;
            existing_region(conn, &region).await?;
            let rows = membership::Entity::find()
                .filter(membership::Column::RegionCode.eq(&region))
                .order_by_asc(membership::Column::OrganisationId)
                .all(conn)
                .await?;
            Ok(rows.into_iter().filter_map(seat).collect())
        }
        .await
        .gql()
    }

    /// The gateway's lookup of a token's organisation (`@inaccessible`; scope `register:resolve`,
    /// which only the gateway's own internal token carries).
    #[graphql(inaccessible)]
    async fn register_resolution(
        &self,
        ctx: &Context<'_>,
        issuer: String,
        scheme: String,
        value: String,
    ) -> Result<RegisterResolution> {
        let c = caller(ctx)?;
        async {
            c.require_scope(scopes::REGISTER_RESOLVE)?;
            let unknown = RegisterResolution {
                outcome: ResolutionOutcome::UnknownIdentifier,
                organisation_id: None,
                kind: None,
                regions: Vec::new(),
                roles: Vec::new(),
            };
            // A scheme or value of the wrong shape is simply not in the register.
            let Some(scheme) = Scheme::parse(&scheme) else { return Ok(unknown) };
            let Ok(value) = scheme.check(&value) else { return Ok(unknown) };
            Ok(match crate::register::resolve(data::<DatabaseConnection>(ctx)?, &issuer, scheme, &value).await? {
                Resolution::Resolved { organisation, kind, regions, roles } => RegisterResolution {
                    outcome: ResolutionOutcome::Resolved,
                    organisation_id: Some(ID(organisation)),
                    kind: Some(
                        OrgKind::parse(&kind).ok_or_else(|| ApiError::internal(anyhow::anyhow!("stored kind")))?,
                    ),
                    regions,
                    roles,
                },
                Resolution::UnknownIdentifier => unknown,
                Resolution::OtherIssuer => RegisterResolution { outcome: ResolutionOutcome::OtherIssuer, ..unknown },
            })
        }
        .await
        .gql()
    }
}

/// Register mutations.
#[derive(Default)]
pub struct RegisterMutation;

#[Object]
impl RegisterMutation {
    /// Registers an external identifier of an organisation (hub operator). A (scheme, value)
    /// belongs to one organisation; UZOVI numbers only to insurers.
    async fn add_organisation_identifier(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
        scheme: Scheme,
        value: String,
    ) -> Result<RegisterEntry> {
        let c = caller(ctx)?;
        async {
            access::administer(c)?;
            let value = scheme.check(&value).map_err(ApiError::bad_input)?;
            let txn = begin(ctx).await?;
            let org = existing_org(&txn, &organisation_id).await?;
            if scheme == Scheme::Uzovi && org.kind != OrgKind::Insurer.as_str() {
                return Err(ApiError::bad_input("only insurers have a UZOVI number"));
            }
            let taken = identifier::Entity::find()
                .filter(identifier::Column::Scheme.eq(scheme.as_str()))
                .filter(identifier::Column::Value.eq(&value))
                .one(&txn)
                .await?;
            if taken.is_some() {
                return Err(ApiError::conflict(format!("{} {value} is already registered", scheme.as_str())));
            }
            insert_identifier(&txn, &org.id, scheme, &value, &c.org.to_string()).await?;
            audited_entry(
                txn,
                c,
                "OrganisationIdentifier",
                &org.id,
                "add",
                json!({"scheme": scheme.as_str(), "value": value}),
            )
            .await
        }
        .await
        .gql()
    }

    /// Removes an external identifier of an organisation (hub operator).
    async fn remove_organisation_identifier(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
        scheme: Scheme,
        value: String,
    ) -> Result<RegisterEntry> {
        let c = caller(ctx)?;
        async {
            access::administer(c)?;
            let value = scheme.check(&value).map_err(ApiError::bad_input)?;
            let txn = begin(ctx).await?;
            let org = existing_org(&txn, &organisation_id).await?;
            let removed = identifier::Entity::delete_many()
                .filter(identifier::Column::OrganisationId.eq(&org.id))
                .filter(identifier::Column::Scheme.eq(scheme.as_str()))
                .filter(identifier::Column::Value.eq(&value))
                .exec(&txn)
                .await?;
            if removed.rows_affected == 0 {
                return Err(ApiError::not_found(format!("the organisation has no {} {value}", scheme.as_str())));
            }
            audited_entry(
                txn,
                c,
                "OrganisationIdentifier",
                &org.id,
                "remove",
                json!({"scheme": scheme.as_str(), "value": value}),
            )
            .await
        }
        .await
        .gql()
    }

    /// Binds an identity provider to an organisation (hub operator): tokens of `issuer` may then
    /// name the organisation by its `scheme` identifier. The organisation must have one.
    async fn bind_identity_provider(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
        issuer: String,
        scheme: Scheme,
    ) -> Result<RegisterEntry> {
        let c = caller(ctx)?;
        async {
            access::administer(c)?;
            let issuer = check_issuer(&issuer).map_err(ApiError::bad_input)?;
            let txn = begin(ctx).await?;
            let org = existing_org(&txn, &organisation_id).await?;
            let has = identifier::Entity::find()
                .filter(identifier::Column::OrganisationId.eq(&org.id))
                .filter(identifier::Column::Scheme.eq(scheme.as_str()))
                .one(&txn)
                .await?;
            if has.is_none() {
                return Err(ApiError::bad_input(format!(
                    "register a {} identifier of the organisation before binding a provider that asserts it",
                    scheme.as_str()
                )));
            }
            let bound = binding::Entity::find()
                .filter(binding::Column::OrganisationId.eq(&org.id))
                .filter(binding::Column::Issuer.eq(&issuer))
                .filter(binding::Column::Scheme.eq(scheme.as_str()))
                .one(&txn)
                .await?;
            if bound.is_some() {
                return Err(ApiError::conflict("this identity provider is already bound for this scheme"));
            }
            insert_binding(&txn, &org.id, &issuer, scheme, &c.org.to_string()).await?;
            audited_entry(
                txn,
                c,
                "IdentityProviderBinding",
                &org.id,
                "bind",
                json!({"issuer": issuer, "scheme": scheme.as_str()}),
            )
            .await
        }
        .await
        .gql()
    }

    /// Unbinds an identity provider from an organisation (hub operator): its tokens for the
    /// organisation are refused once the gateway's cache has expired.
    async fn unbind_identity_provider(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
        issuer: String,
        scheme: Scheme,
    ) -> Result<RegisterEntry> {
        let c = caller(ctx)?;
        async {
            access::administer(c)?;
            let txn = begin(ctx).await?;
            let org = existing_org(&txn, &organisation_id).await?;
            let removed = binding::Entity::delete_many()
                .filter(binding::Column::OrganisationId.eq(&org.id))
                .filter(binding::Column::Issuer.eq(issuer.trim()))
                .filter(binding::Column::Scheme.eq(scheme.as_str()))
                .exec(&txn)
                .await?;
            if removed.rows_affected == 0 {
                return Err(ApiError::not_found("no such binding"));
            }
            audited_entry(
                txn,
                c,
                "IdentityProviderBinding",
                &org.id,
                "unbind",
                json!({"issuer": issuer.trim(), "scheme": scheme.as_str()}),
            )
            .await
        }
        .await
        .gql()
    }

    /// Seats an organisation at a region's table, or changes its role (hub operator, or the
    /// table's chair). A table has one chair: naming a new chair makes the previous one a member.
    async fn set_table_membership(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
        region: String,
        role: TableRole,
    ) -> Result<Vec<TableMembership>> {
        let c = caller(ctx)?;
        async {
            manage_table(c, &region)?;
            let txn = begin(ctx).await?;
            existing_region(&txn, &region).await?;
            let org = existing_org(&txn, &organisation_id).await?;
            let by = c.org.to_string();
            if role == TableRole::Chair {
                let previous = membership::Entity::find()
                    .filter(membership::Column::RegionCode.eq(&region))
                    .filter(membership::Column::Role.eq(TableRole::Chair.as_str()))
                    .filter(membership::Column::OrganisationId.ne(&org.id))
                    .all(&txn)
                    .await?;
                for p in previous {
                    set_role(&txn, &p.id, TableRole::Member, &by).await?;
                    audit::record(
                        &txn,
                        c,
                        "TableMembership",
                        &p.organisation_id,
                        "set",
                        json!({"region": region, "role": "MEMBER"}),
                    )
                    .await?;
                }
            }
            let current = membership::Entity::find()
                .filter(membership::Column::RegionCode.eq(&region))
                .filter(membership::Column::OrganisationId.eq(&org.id))
                .one(&txn)
                .await?;
            match current {
                Some(m) => set_role(&txn, &m.id, role, &by).await?,
                None => insert_membership(&txn, &org.id, &region, role, &by).await?,
            }
            sync_regions_column(&txn, &org.id).await?;
            audit::record(&txn, c, "TableMembership", &org.id, "set", json!({"region": region, "role": role.as_str()}))
                .await?;
            let rows = membership::Entity::find()
                .filter(membership::Column::RegionCode.eq(&region))
                .order_by_asc(membership::Column::OrganisationId)
                .all(&txn)
                .await?;
            txn.commit().await?;
            Ok(rows.into_iter().filter_map(seat).collect())
        }
        .await
        .gql()
    }

    /// Removes an organisation from a region's table (hub operator, or the table's chair).
    async fn remove_table_membership(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
        region: String,
    ) -> Result<Vec<TableMembership>> {
        let c = caller(ctx)?;
        async {
            manage_table(c, &region)?;
            let txn = begin(ctx).await?;
            existing_region(&txn, &region).await?;
            let org = existing_org(&txn, &organisation_id).await?;
            let removed = membership::Entity::delete_many()
                .filter(membership::Column::RegionCode.eq(&region))
                .filter(membership::Column::OrganisationId.eq(&org.id))
                .exec(&txn)
                .await?;
            if removed.rows_affected == 0 {
                return Err(ApiError::not_found(format!("the organisation does not sit at the table of {region}")));
            }
            sync_regions_column(&txn, &org.id).await?;
            audit::record(&txn, c, "TableMembership", &org.id, "remove", json!({"region": region})).await?;
            let rows = membership::Entity::find()
                .filter(membership::Column::RegionCode.eq(&region))
                .order_by_asc(membership::Column::OrganisationId)
                .all(&txn)
                .await?;
            txn.commit().await?;
            Ok(rows.into_iter().filter_map(seat).collect())
        }
        .await
        .gql()
    }
}

async fn set_role<C: ConnectionTrait>(conn: &C, id: &str, role: TableRole, by: &str) -> ApiResult<()> {
    use sea_orm::sea_query::Expr;
    membership::Entity::update_many()
        .col_expr(membership::Column::Role, Expr::value(role.as_str()))
        .col_expr(membership::Column::UpdatedAt, Expr::value(chrono::Utc::now()))
        .col_expr(membership::Column::UpdatedBy, Expr::value(by))
        .filter(membership::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}
