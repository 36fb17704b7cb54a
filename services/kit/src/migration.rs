//! What every service's migrations build their tables with: the record columns each versioned
//! table carries, foreign keys and indexes (unchanged on SQLite and PostgreSQL).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{integer, string_len, timestamp_with_time_zone};

/// Adds the columns every versioned record carries: `version` (optimistic locking), when it was
/// created and last changed, and by which organisation.
pub fn with_meta(table: &mut TableCreateStatement) -> &mut TableCreateStatement {
    table
        .col(integer("version"))
        .col(timestamp_with_time_zone("created_at"))
        .col(timestamp_with_time_zone("updated_at"))
        .col(string_len("created_by", 36))
        .col(string_len("updated_by", 36))
}

/// A foreign key `from_table.from → to_table.to` that refuses to delete a referenced row.
pub fn fk(
    name: &str,
    from_table: &'static str,
    from: &'static str,
    to_table: &'static str,
    to: &'static str,
) -> ForeignKeyCreateStatement {
    fk_on_delete(name, from_table, from, to_table, to, ForeignKeyAction::Restrict)
}

/// A foreign key `from_table.from → to_table.to` with the given action on delete.
pub fn fk_on_delete(
    name: &str,
    from_table: &'static str,
    from: &'static str,
    to_table: &'static str,
    to: &'static str,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create().name(name).from(from_table, from).to(to_table, to).on_delete(on_delete).to_owned()
}

/// Creates index `name` on `table(cols…)`, unique if asked.
pub async fn index(
    m: &SchemaManager<'_>,
    name: &str,
    table: &'static str,
    cols: &[&'static str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut idx = Index::create();
    idx.name(name).table(table);
    for c in cols {
        idx.col(*c);
    }
    if unique {
        idx.unique();
    }
    m.create_index(idx.to_owned()).await
}
