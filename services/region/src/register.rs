//! The hub's register (register van organisaties): who an organisation is to the outside world and
//! who may speak for it.
//!
//! - **Identifiers** (`organisation_identifiers`): an organisation's external identifiers — URA,
//!   AGB, UZOVI, KvK, OIN; several per organisation, each (scheme, value) belongs to one
//!   organisation only, values checked against the scheme's format.
//! - **Identity-provider bindings** (`identity_provider_bindings`): which identity provider
//!   (issuer URL) may speak for an organisation, and by which of its identifier schemes.
//! - **Table membership** (`table_memberships`): who sits at which region's table, as `MEMBER`
//!   or `CHAIR` (one chair per table). The `chair:<region>` role and the caller's regions come
//!   from here, never from a token. `organisations.regions` is kept equal to the regions of an
//!   organisation's memberships.
//!
//! The gateway resolves (issuer, scheme, value) with [`resolve`] (exposed to it as the
//! `@inaccessible` field `registerResolution`, see [`crate::graphql::register`]).

use std::collections::BTreeMap;

use anyhow::Context as _;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, TransactionTrait,
};

use crate::entity::organisation;

/// An organisation's external identifier.
pub mod identifier {
    use sea_orm::entity::prelude::*;

    /// One identifier.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "organisation_identifiers")]
    pub struct Model {
        /// Row id (UUID).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The organisation's hub id.
        pub organisation_id: String,
        /// `URA`, `AGB`, `UZOVI`, `KVK` or `OIN`.
        pub scheme: String,
        /// The value, digits only.
        pub value: String,
        /// When it was registered.
        pub created_at: ChronoDateTimeUtc,
        /// The registering organisation (the operator).
        pub created_by: String,
    }

    /// Relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// An identity provider bound to an organisation.
pub mod binding {
    use sea_orm::entity::prelude::*;

    /// One binding.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "identity_provider_bindings")]
    pub struct Model {
        /// Row id (UUID).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The organisation's hub id.
        pub organisation_id: String,
        /// The provider's issuer URL (`iss` of its tokens), exactly.
        pub issuer: String,
        /// The identifier scheme its tokens name the organisation by.
        pub scheme: String,
        /// When it was bound.
        pub created_at: ChronoDateTimeUtc,
        /// The binding organisation (the operator).
        pub created_by: String,
    }

    /// Relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A seat at a region's table.
pub mod membership {
    use sea_orm::entity::prelude::*;

    /// One membership.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "table_memberships")]
    pub struct Model {
        /// Row id (UUID).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The organisation's hub id.
        pub organisation_id: String,
        /// The region whose table it sits at.
        pub region_code: String,
        /// `MEMBER` or `CHAIR`.
        pub role: String,
        /// When it was last changed.
        pub updated_at: ChronoDateTimeUtc,
        /// Who last changed it (operator or the table's chair).
        pub updated_by: String,
    }

    /// Relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Identifier schemes of the register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, async_graphql::Enum)]
#[graphql(tag = "public")]
pub enum Scheme {
    /// UZI-register abonneenummer (zorgaanbieders): 8 digits.
    Ura,
    /// AGB-code (zorgaanbieders): 8 digits.
    Agb,
    /// UZOVI-nummer (zorgverzekeraars): 4 digits.
    Uzovi,
    /// KvK-nummer (Kamer van Koophandel): 8 digits.
    Kvk,
    /// Organisatie-identificatienummer (overheid): 20 digits.
    Oin,
}

impl Scheme {
    /// Every scheme.
    pub const ALL: [Scheme; 5] = [Self::Ura, Self::Agb, Self::Uzovi, Self::Kvk, Self::Oin];

    /// The wire name (`URA`, …), as stored and as tokens carry it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ura => "URA",
            Self::Agb => "AGB",
            Self::Uzovi => "UZOVI",
            Self::Kvk => "KVK",
            Self::Oin => "OIN",
        }
    }

    /// Parses a wire name (case-insensitive, so `ura` and `KvK` work in configuration).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// Number of digits a value of this scheme has.
    pub fn digits(self) -> usize {
        match self {
            Self::Ura | Self::Agb | Self::Kvk => 8,
            Self::Uzovi => 4,
            Self::Oin => 20,
        }
    }

    /// Checks `value` has the scheme's format; the trimmed value, or why not.
    pub fn check(self, value: &str) -> Result<String, String> {
        let v = value.trim();
        if v.len() == self.digits() && v.bytes().all(|b| b.is_ascii_digit()) {
            Ok(v.to_owned())
        } else {
            Err(format!(
                "a {} identifier is {} digits, got {}",
                self.as_str(),
                self.digits(),
                ggzhub_kit::validate::shown(value)
            ))
        }
    }
}

/// Roles at a regional table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
#[graphql(tag = "public")]
pub enum TableRole {
    /// Sits at the table.
    Member,
    /// Chairs the table (publishes the regional overview, raises escalations, manages members).
    Chair,
}

impl TableRole {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "MEMBER",
            Self::Chair => "CHAIR",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "MEMBER" => Some(Self::Member),
            "CHAIR" => Some(Self::Chair),
            _ => None,
        }
    }
}

/// Longest issuer URL the register holds.
pub const MAX_ISSUER: usize = 500;

/// Checks an issuer URL: `https://…`, or `http://` on the loopback interface (development).
pub fn check_issuer(issuer: &str) -> Result<String, String> {
    let i = issuer.trim();
    let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
        .iter()
        .any(|p| i.strip_prefix(p).is_some_and(|rest| rest.is_empty() || rest.starts_with([':', '/'])));
    if i.len() > MAX_ISSUER {
        return Err(format!("an issuer URL has at most {MAX_ISSUER} characters"));
    }
    if !(i.starts_with("https://") && i.len() > "https://".len() || loopback) || i.chars().any(char::is_whitespace) {
        return Err(format!(
            "an issuer is an https:// URL (http:// only on the loopback interface), got {}",
            ggzhub_kit::validate::shown(issuer)
        ));
    }
    Ok(i.to_owned())
}

/// What the register says about (issuer, scheme, value).
#[derive(Debug, Clone, PartialEq)]
pub enum Resolution {
    /// The identifier is registered and the issuer is bound to its organisation for its scheme.
    Resolved {
        /// Hub id.
        organisation: String,
        /// Kind (wire name).
        kind: String,
        /// Regions whose tables it sits at, sorted.
        regions: Vec<String>,
        /// `chair:<region>` for each table it chairs, sorted.
        roles: Vec<String>,
    },
    /// No organisation has this identifier.
    UnknownIdentifier,
    /// The identifier is registered, but this issuer is not bound to speak for it by this scheme.
    OtherIssuer,
}

/// Resolves (issuer, scheme, value) through the register.
pub async fn resolve<C: ConnectionTrait>(
    conn: &C,
    issuer: &str,
    scheme: Scheme,
    value: &str,
) -> Result<Resolution, sea_orm::DbErr> {
    let Some(found) = identifier::Entity::find()
        .filter(identifier::Column::Scheme.eq(scheme.as_str()))
        .filter(identifier::Column::Value.eq(value))
        .one(conn)
        .await?
    else {
        return Ok(Resolution::UnknownIdentifier);
    };
    let bound = binding::Entity::find()
        .filter(binding::Column::OrganisationId.eq(&found.organisation_id))
        .filter(binding::Column::Issuer.eq(issuer))
        .filter(binding::Column::Scheme.eq(scheme.as_str()))
        .count(conn)
        .await?;
    if bound == 0 {
        return Ok(Resolution::OtherIssuer);
    }
    let Some(org) = organisation::Entity::find_by_id(found.organisation_id.clone()).one(conn).await? else {
        return Ok(Resolution::UnknownIdentifier);
    };
    let (regions, roles) = seats(conn, &org.id).await?;
    Ok(Resolution::Resolved { organisation: org.id, kind: org.kind, regions, roles })
}

/// An organisation's regions and `chair:<region>` roles, from its memberships, sorted.
pub async fn seats<C: ConnectionTrait>(conn: &C, org: &str) -> Result<(Vec<String>, Vec<String>), sea_orm::DbErr> {
    let rows = membership::Entity::find()
        .filter(membership::Column::OrganisationId.eq(org))
        .order_by_asc(membership::Column::RegionCode)
        .all(conn)
        .await?;
    let regions = rows.iter().map(|m| m.region_code.clone()).collect();
    let roles = rows.iter().filter(|m| m.role == TableRole::Chair.as_str()).map(|m| format!("chair:{}", m.region_code));
    Ok((regions, roles.collect()))
}

/// Keeps `organisations.regions` equal to the regions of the organisation's memberships.
pub async fn sync_regions_column<C: ConnectionTrait>(conn: &C, org: &str) -> Result<(), sea_orm::DbErr> {
    let (regions, _) = seats(conn, org).await?;
    organisation::Entity::update_many()
        .col_expr(organisation::Column::Regions, sea_orm::sea_query::Expr::value(serde_json::json!(regions)))
        .filter(organisation::Column::Id.eq(org))
        .exec(conn)
        .await?;
    Ok(())
}

/// Makes the organisation's memberships match `regions` (the `regions` of
/// createOrganisation/updateOrganisation): new regions join as `MEMBER`, regions left out are
/// left (a chair too), the rest keep their role.
pub async fn set_member_regions<C: ConnectionTrait>(
    conn: &C,
    org: &str,
    regions: &[String],
    by: &str,
) -> Result<(), sea_orm::DbErr> {
    let current = membership::Entity::find().filter(membership::Column::OrganisationId.eq(org)).all(conn).await?;
    for m in current.iter().filter(|m| !regions.contains(&m.region_code)) {
        membership::Entity::delete_by_id(m.id.clone()).exec(conn).await?;
    }
    for r in regions.iter().filter(|r| !current.iter().any(|m| &m.region_code == *r)) {
        insert_membership(conn, org, r, TableRole::Member, by).await?;
    }
    Ok(())
}

pub(crate) async fn insert_membership<C: ConnectionTrait>(
    conn: &C,
    org: &str,
    region: &str,
    role: TableRole,
    by: &str,
) -> Result<(), sea_orm::DbErr> {
    membership::ActiveModel {
        id: Set(ggzhub_kit::write::new_id()),
        organisation_id: Set(org.to_owned()),
        region_code: Set(region.to_owned()),
        role: Set(role.as_str().to_owned()),
        updated_at: Set(chrono::Utc::now()),
        updated_by: Set(by.to_owned()),
    }
    .insert(conn)
    .await
    .map(|_| ())
}

pub(crate) async fn insert_identifier<C: ConnectionTrait>(
    conn: &C,
    org: &str,
    scheme: Scheme,
    value: &str,
    by: &str,
) -> Result<(), sea_orm::DbErr> {
    identifier::ActiveModel {
        id: Set(ggzhub_kit::write::new_id()),
        organisation_id: Set(org.to_owned()),
        scheme: Set(scheme.as_str().to_owned()),
        value: Set(value.to_owned()),
        created_at: Set(chrono::Utc::now()),
        created_by: Set(by.to_owned()),
    }
    .insert(conn)
    .await
    .map(|_| ())
}

pub(crate) async fn insert_binding<C: ConnectionTrait>(
    conn: &C,
    org: &str,
    issuer: &str,
    scheme: Scheme,
    by: &str,
) -> Result<(), sea_orm::DbErr> {
    binding::ActiveModel {
        id: Set(ggzhub_kit::write::new_id()),
        organisation_id: Set(org.to_owned()),
        issuer: Set(issuer.to_owned()),
        scheme: Set(scheme.as_str().to_owned()),
        created_at: Set(chrono::Utc::now()),
        created_by: Set(by.to_owned()),
    }
    .insert(conn)
    .await
    .map(|_| ())
}

/// The identifiers of an organisation's legacy profile columns (`kvk`, `ura`, `agb`, `uzovi`).
pub fn profile_identifiers(org: &organisation::Model) -> Vec<(Scheme, String)> {
    [(Scheme::Kvk, &org.kvk), (Scheme::Ura, &org.ura), (Scheme::Agb, &org.agb), (Scheme::Uzovi, &org.uzovi)]
        .into_iter()
        .filter_map(|(s, v)| v.as_ref().and_then(|v| s.check(v).ok()).map(|v| (s, v)))
        .collect()
}

/// A fictitious OIN for a demo organisation that has no other identifier: `00000099` (a prefix
/// no real OIN has) and twelve digits from the organisation's position.
pub fn demo_oin(position: usize) -> String {
    format!("00000099{position:012}")
}

/// The scheme a demo organisation's identity provider asserts: URA for providers, UZOVI for
/// insurers, KvK for patient organisations, OIN for the rest.
fn demo_scheme(kind: ggzhub_kit::OrgKind) -> Scheme {
    use ggzhub_kit::OrgKind::*;
    match kind {
        Provider => Scheme::Ura,
        Insurer => Scheme::Uzovi,
        PatientOrganisation => Scheme::Kvk,
        Municipality | NationalTable | HubOperator => Scheme::Oin,
    }
}

/// Fills the register of a demo (or `--from`) data set, when it holds no binding yet: every
/// organisation's profile identifiers (plus a fictitious OIN for municipalities, the national
/// table and the operator), a binding of its main scheme to `issuer` (the development identity
/// provider), a `MEMBER` seat at each of its regions' tables and the chairs of `chairs`
/// (organisation id → region codes). Returns whether anything was written.
pub async fn seed_register(
    db: &DatabaseConnection,
    orgs: &[crate::seed::OrganisationRow],
    issuer: &str,
) -> anyhow::Result<bool> {
    if binding::Entity::find().count(db).await? > 0 {
        return Ok(false);
    }
    let by = orgs
        .iter()
        .find(|o| o.kind == ggzhub_kit::OrgKind::HubOperator)
        .map(|o| o.id.clone())
        .unwrap_or_else(|| uuid::Uuid::nil().to_string());
    let txn = db.begin().await?;
    let existing: Vec<identifier::Model> = identifier::Entity::find().all(&txn).await?;
    let seated: Vec<membership::Model> = membership::Entity::find().all(&txn).await?;
    for (position, row) in orgs.iter().enumerate() {
        let Some(stored) = organisation::Entity::find_by_id(row.id.clone()).one(&txn).await? else { continue };
        let mut ids = profile_identifiers(&stored);
        let main = demo_scheme(row.kind);
        if main == Scheme::Oin {
            ids.push((Scheme::Oin, demo_oin(position + 1)));
        }
        for (scheme, value) in &ids {
            if !existing.iter().any(|e| e.scheme == scheme.as_str() && &e.value == value) {
                insert_identifier(&txn, &row.id, *scheme, value, &by)
                    .await
                    .with_context(|| format!("identifier {} {value} of {}", scheme.as_str(), row.name))?;
            }
        }
        let scheme = if ids.iter().any(|(s, _)| *s == main) {
            main
        } else {
            match ids.first() {
                Some((s, _)) => *s,
                None => continue,
            }
        };
        insert_binding(&txn, &row.id, issuer, scheme, &by).await?;
        let chairs: Vec<&str> = row.demo_roles.iter().filter_map(|r| r.strip_prefix("chair:")).collect();
        for region in &row.regions {
            if seated.iter().any(|m| m.organisation_id == row.id && &m.region_code == region) {
                continue;
            }
            let role = if chairs.contains(&region.as_str()) { TableRole::Chair } else { TableRole::Member };
            insert_membership(&txn, &row.id, region, role, &by).await?;
        }
        for region in chairs {
            membership::Entity::update_many()
                .col_expr(membership::Column::Role, sea_orm::sea_query::Expr::value(TableRole::Chair.as_str()))
                .filter(membership::Column::OrganisationId.eq(&row.id))
                .filter(membership::Column::RegionCode.eq(region))
                .exec(&txn)
                .await?;
        }
    }
    txn.commit().await?;
    Ok(true)
}

/// A demo organisation as the development identity provider offers it (the contract with the
/// provider's crate: plain data, same field names).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Account {
    /// Display name.
    pub organisation: String,
    /// Kind (`PROVIDER`, `INSURER`, …).
    pub kind: String,
    /// The identifier scheme the provider asserts for it.
    pub scheme: String,
    /// Its identifier in that scheme.
    pub identifier: String,
    /// People who may sign in for it.
    pub persons: Vec<Person>,
}

/// A (fictitious) person acting for a demo organisation.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Person {
    /// The token's `sub`: `demo:<identifier>:<n>`.
    pub subject: String,
    /// Display name.
    pub name: String,
}

/// Persons generated per organisation by [`accounts_for_issuer`].
pub const PERSONS_PER_ORGANISATION: usize = 2;

/// The organisations `issuer` may speak for, from the register: one account per binding (the
/// bound scheme's identifier), with [`PERSONS_PER_ORGANISATION`] generated persons each, in
/// name order. `ggzhub dev` hands these to the development identity provider.
pub async fn accounts_for_issuer<C: ConnectionTrait>(conn: &C, issuer: &str) -> anyhow::Result<Vec<Account>> {
    let bindings = binding::Entity::find().filter(binding::Column::Issuer.eq(issuer)).all(conn).await?;
    let ids: Vec<String> = bindings.iter().map(|b| b.organisation_id.clone()).collect();
    let orgs: BTreeMap<String, organisation::Model> = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(ids.clone()))
        .all(conn)
        .await?
        .into_iter()
        .map(|o| (o.id.clone(), o))
        .collect();
    let identifiers =
        identifier::Entity::find().filter(identifier::Column::OrganisationId.is_in(ids)).all(conn).await?;
    let mut out = Vec::new();
    for b in &bindings {
        let Some(org) = orgs.get(&b.organisation_id) else { continue };
        let Some(id) = identifiers.iter().find(|i| i.organisation_id == b.organisation_id && i.scheme == b.scheme)
        else {
            continue;
        };
        let persons = (1..=PERSONS_PER_ORGANISATION)
            .map(|n| Person {
                subject: format!("demo:{}:{n}", id.value),
                name: format!("Demo-medewerker {n} ({})", org.name),
            })
            .collect();
        out.push(Account {
            organisation: org.name.clone(),
            kind: org.kind.clone(),
            scheme: b.scheme.clone(),
            identifier: id.value.clone(),
            persons,
        });
    }
    out.sort_by(|a, b| a.organisation.cmp(&b.organisation).then(a.scheme.cmp(&b.scheme)));
    Ok(out)
}

/// Moves every binding of issuer `from` to issuer `to` (for `ggzhub dev`, whose development
/// identity provider's issuer is its address); a binding `to` already has for the same
/// organisation and scheme is kept once. Returns how many bindings moved.
pub async fn move_bindings(db: &DatabaseConnection, from: &str, to: &str) -> anyhow::Result<usize> {
    let to = check_issuer(to).map_err(anyhow::Error::msg)?;
    let txn = db.begin().await?;
    let moving = binding::Entity::find().filter(binding::Column::Issuer.eq(from)).all(&txn).await?;
    for b in &moving {
        binding::Entity::delete_many()
            .filter(binding::Column::Issuer.eq(&to))
            .filter(binding::Column::OrganisationId.eq(&b.organisation_id))
            .filter(binding::Column::Scheme.eq(&b.scheme))
            .exec(&txn)
            .await?;
    }
    binding::Entity::update_many()
        .col_expr(binding::Column::Issuer, sea_orm::sea_query::Expr::value(to.clone()))
        .filter(binding::Column::Issuer.eq(from))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(moving.len())
}

/// The identifier `issuer` names organisation `org` by (its bound scheme), for tokens
/// (`ggzhub token issue`, the demo tokens).
pub async fn identifier_for<C: ConnectionTrait>(
    conn: &C,
    org: &str,
    issuer: &str,
) -> Result<Option<(Scheme, String)>, sea_orm::DbErr> {
    let bindings = binding::Entity::find()
        .filter(binding::Column::OrganisationId.eq(org))
        .filter(binding::Column::Issuer.eq(issuer))
        .all(conn)
        .await?;
    for b in bindings {
        let found = identifier::Entity::find()
            .filter(identifier::Column::OrganisationId.eq(org))
            .filter(identifier::Column::Scheme.eq(&b.scheme))
            .one(conn)
            .await?;
        if let (Some(found), Some(scheme)) = (found, Scheme::parse(&b.scheme)) {
            return Ok(Some((scheme, found.value)));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_check_their_formats() {
        assert_eq!(Scheme::Ura.check(" 12345678 "), Ok("12345678".into()));
        assert!(Scheme::Ura.check("1234567").is_err());
        assert!(Scheme::Agb.check("1234567a").is_err());
        assert!(Scheme::Uzovi.check("12345").is_err());
        assert_eq!(Scheme::Uzovi.check("9001"), Ok("9001".into()));
        assert!(Scheme::Kvk.check("123456789").is_err());
        assert_eq!(Scheme::Oin.check(&demo_oin(7)), Ok("00000099000000000007".into()));
        assert!(Scheme::Oin.check("0000009900000000007").is_err());
        assert_eq!(Scheme::parse("kvk"), Some(Scheme::Kvk));
        assert_eq!(Scheme::parse("BSN"), None);
    }

    #[test]
    fn issuers_are_https_or_loopback() {
        assert!(check_issuer("https://login.example.nl/realms/ggz").is_ok());
        assert!(check_issuer("http://127.0.0.1:4005").is_ok());
        assert!(check_issuer("http://localhost").is_ok());
        assert!(check_issuer("http://idp.example.nl").is_err());
        assert!(check_issuer("http://127.0.0.1.evil.example").is_err());
        assert!(check_issuer("https://").is_err());
        assert!(check_issuer("ftp://x").is_err());
    }
}
