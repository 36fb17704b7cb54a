//! Append-only audit log: who (organisation, subject), what (entity, id, change) and when.
//!
//! [`record`] takes the transaction of the change itself, so a change and its audit entry are
//! committed together or not at all.

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{json, string, string_len, timestamp_with_time_zone};

use crate::caller::Caller;

/// The audit entry entity (`audit_log` table).
pub mod entry {
    use sea_orm::entity::prelude::*;

    /// One audit entry.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_log")]
    pub struct Model {
        /// Entry id (UUID v7, so ids sort by time).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// When the change was made.
        pub at: ChronoDateTimeUtc,
        /// Acting organisation.
        pub org: String,
        /// Subject acting for it.
        pub subject: String,
        /// Entity type, e.g. `CareOffer`.
        pub entity: String,
        /// Id of the changed record.
        pub entity_id: String,
        /// What happened, e.g. `create`, `update`, `publish`.
        pub action: String,
        /// The change (new values; never personal data).
        pub change: Json,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Writes one audit entry on `conn` (pass the change's transaction).
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    entity: &str,
    entity_id: &str,
    action: &str,
    change: serde_json::Value,
) -> Result<(), sea_orm::DbErr> {
    row(caller, entity, entity_id, action, change).insert(conn).await?;
    // Every audited change is in the change feed too; a deletion is a tombstone there.
    crate::changes::record(conn, entity, entity_id, is_removal(action)).await
}

/// Whether an audited `action` removes its record (a tombstone in the change feed).
fn is_removal(action: &str) -> bool {
    matches!(action, "delete" | "remove")
}

/// Columns of an audit entry: bind parameters per entry in [`record_many`]'s one statement.
pub const COLUMNS: usize = 8;

/// Writes the audit entries of a batch change on `conn` in one statement (pass the change's
/// transaction): for each `(entity_id, change)` the entry [`record`] would write with `entity`
/// and `action`. [`COLUMNS`] bind parameters per entry: keep batches within the database's limit
/// (PostgreSQL 65535, SQLite 32766).
pub async fn record_many<C, I>(
    conn: &C,
    caller: &Caller,
    entity: &str,
    action: &str,
    changes: I,
) -> Result<(), sea_orm::DbErr>
where
    C: ConnectionTrait,
    I: IntoIterator<Item = (String, serde_json::Value)>,
{
    let (ids, rows): (Vec<String>, Vec<entry::ActiveModel>) =
        changes.into_iter().map(|(id, change)| (id.clone(), row(caller, entity, &id, action, change))).unzip();
    if rows.is_empty() {
        return Ok(());
    }
    entry::Entity::insert_many(rows).exec_without_returning(conn).await?;
    crate::changes::record_many(conn, entity, &ids, is_removal(action)).await
}

/// One audit entry, stamped now with a new time-ordered id.
fn row(caller: &Caller, entity: &str, entity_id: &str, action: &str, change: serde_json::Value) -> entry::ActiveModel {
    entry::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        at: Set(chrono::Utc::now()),
        org: Set(caller.org.to_string()),
        subject: Set(caller.subject.clone()),
        entity: Set(entity.to_owned()),
        entity_id: Set(entity_id.to_owned()),
        action: Set(action.to_owned()),
        change: Set(change),
    }
}

/// One audit-log entry as a caller sees it (shared by every subgraph, so `@shareable`).
#[derive(async_graphql::SimpleObject)]
// Every field but `change` is in the public contract schema (`@tag(name: "public")`): a patient
// organisation lists its own entries there, without the recorded values.
#[graphql(shareable)]
pub struct AuditEntry {
    /// Id.
    #[graphql(tag = "public")]
    pub id: async_graphql::ID,
    /// When.
    #[graphql(tag = "public")]
    pub at: chrono::DateTime<chrono::Utc>,
    /// Acting organisation.
    #[graphql(tag = "public")]
    pub organisation_id: async_graphql::ID,
    /// Subject acting for it.
    #[graphql(tag = "public")]
    pub subject: String,
    /// Entity type.
    #[graphql(tag = "public")]
    pub entity: String,
    /// Entity id.
    #[graphql(tag = "public")]
    pub entity_id: String,
    /// Action.
    #[graphql(tag = "public")]
    pub action: String,
    /// The change: its values for the acting organisation itself; for anyone else only
    /// `{"fields": [...]}`, the names of the fields that changed.
    pub change: async_graphql::Json<serde_json::Value>,
}

impl AuditEntry {
    /// Presents `m` to the organisation `reader`: other organisations' values are redacted,
    /// since the readers of everyone's log (national table, operator) may not read those values.
    pub fn present(m: entry::Model, reader: &str) -> Self {
        let change = if m.org == reader {
            m.change
        } else {
            // Sorted: the order of a JSON object's keys depends on serde_json features.
            let mut fields: Vec<String> = m.change.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
            fields.sort_unstable();
            serde_json::json!({ "fields": fields })
        };
        Self {
            id: async_graphql::ID(m.id),
            at: m.at,
            organisation_id: async_graphql::ID(m.org),
            subject: m.subject,
            entity: m.entity,
            entity_id: m.entity_id,
            action: m.action,
            change: async_graphql::Json(change),
        }
    }
}

/// A page of the audit log, newest first: only `org`'s entries, or everyone's when `None`.
/// Fetches [`crate::page::Page::limit`] rows (one more than the page).
pub async fn page<C: ConnectionTrait>(
    conn: &C,
    org: Option<String>,
    page: &crate::page::Page,
) -> Result<Vec<entry::Model>, sea_orm::DbErr> {
    let mut filter = sea_orm::Condition::all();
    if let Some(org) = org {
        filter = filter.add(entry::Column::Org.eq(org));
    }
    page_where(conn, filter, page).await
}

/// Counts the whole list [`page`] pages through (for `totalCount`, run only when asked).
pub fn total(db: &sea_orm::DatabaseConnection, org: Option<String>) -> crate::page::TotalCount {
    let mut filter = sea_orm::Condition::all();
    if let Some(org) = org {
        filter = filter.add(entry::Column::Org.eq(org));
    }
    total_where(db, filter)
}

/// Counts the whole list [`page_where`] pages through with `filter`.
pub fn total_where(db: &sea_orm::DatabaseConnection, filter: sea_orm::Condition) -> crate::page::TotalCount {
    crate::page::TotalCount::of(db, entry::Entity::find().filter(filter))
}

/// A page of the audit entries matching `filter`, newest first (as [`page`]).
pub async fn page_where<C: ConnectionTrait>(
    conn: &C,
    filter: sea_orm::Condition,
    page: &crate::page::Page,
) -> Result<Vec<entry::Model>, sea_orm::DbErr> {
    let mut q = entry::Entity::find().order_by_desc(entry::Column::Id).limit(page.limit()).filter(filter);
    // Ids are UUID v7: descending id is newest first, and the cursor continues below it.
    if let Some(a) = &page.after {
        q = q.filter(entry::Column::Id.lt(a.clone()));
    }
    q.all(conn).await
}

/// Migration creating the `audit_log` table; every service's migrator includes it.
pub struct CreateAuditLog;

impl MigrationName for CreateAuditLog {
    fn name(&self) -> &str {
        "m0000_create_audit_log"
    }
}

// The trait's signature elides SchemaManager's lifetime; matching it needs the same elision.
#[allow(elided_lifetimes_in_paths)]
#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for CreateAuditLog {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("audit_log")
                    .if_not_exists()
                    .col(string_len("id", 36).primary_key())
                    .col(timestamp_with_time_zone("at"))
                    .col(string_len("org", 36))
                    .col(string("subject"))
                    .col(string_len("entity", 64))
                    .col(string_len("entity_id", 128))
                    .col(string_len("action", 64))
                    .col(json("change"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("audit_log_org_idx")
                    .table("audit_log")
                    .col("org")
                    .col("id")
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("audit_log").to_owned()).await
    }
}
