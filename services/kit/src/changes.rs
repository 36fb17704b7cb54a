//! The change feed (issue 22): every change a service commits, in commit order, so that a
//! partner syncing every minute misses nothing and reads nothing twice.
//!
//! [`record`] writes one row to `change_log` in the transaction of the change itself (the audit
//! log calls it for every audited change). A reader asks for the changes of one entity type after
//! a cursor, in the order `(txid, seq)`:
//!
//! - **PostgreSQL.** `seq` is taken when the row is inserted, not when its transaction commits,
//!   so a transaction that inserted seq 5 may commit after one that inserted seq 6; a reader that
//!   had passed 6 would never see 5. Each row therefore carries its transaction's id
//!   (`pg_current_xact_id()`), and a reader returns only rows of transactions older than the
//!   oldest one still running (`pg_snapshot_xmin(pg_current_snapshot())`): those have all
//!   committed or rolled back, and every transaction still to write gets a larger id. Ordered by
//!   `(txid, seq)` with that horizon, what a reader has passed never grows.
//! - **SQLite.** One writer at a time, holding the database from its first write to its commit:
//!   `seq` order is commit order. `txid` is 0.
//!
//! The first sync takes [`position`] before reading everything with the list queries, then asks
//! for changes after it (a change made during the full read may come once more: it is the same
//! record's newer state).

use base64::Engine as _;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, Value};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, boolean, pk_auto, string_len, timestamp_with_time_zone};

/// A position in the change feed: after the change `(txid, seq)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor {
    pub txid: i64,
    pub seq: i64,
}

impl Cursor {
    /// The opaque text a client keeps.
    pub fn encode(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("change:{}:{}", self.txid, self.seq))
    }

    /// Reads a cursor made by [`Cursor::encode`].
    pub fn decode(text: &str) -> Result<Self, String> {
        let bad = || format!("not a change cursor: {}", crate::validate::shown(text));
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text.trim()).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let mut parts = text.strip_prefix("change:").ok_or_else(bad)?.split(':');
        let (Some(txid), Some(seq), None) = (parts.next(), parts.next(), parts.next()) else { return Err(bad()) };
        let (txid, seq) = (txid.parse::<i64>().map_err(|_| bad())?, seq.parse::<i64>().map_err(|_| bad())?);
        if txid < 0 || seq < 0 {
            return Err(bad());
        }
        Ok(Self { txid, seq })
    }
}

/// One change of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Its place in the feed.
    pub cursor: Cursor,
    /// The changed record.
    pub entity_id: String,
    /// The record was deleted.
    pub removed: bool,
}

/// Records a change of `entity` `entity_id` on `conn` (pass the change's transaction).
pub async fn record<C: ConnectionTrait>(conn: &C, entity: &str, entity_id: &str, removed: bool) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    let txid = match backend {
        DbBackend::Postgres => "pg_current_xact_id()::text::bigint",
        _ => "0",
    };
    let sql = match backend {
        DbBackend::Postgres => {
            format!("INSERT INTO change_log (txid, entity, entity_id, removed, at) VALUES ({txid}, $1, $2, $3, $4)")
        }
        _ => format!("INSERT INTO change_log (txid, entity, entity_id, removed, at) VALUES ({txid}, ?, ?, ?, ?)"),
    };
    let values: Vec<Value> = vec![entity.into(), entity_id.into(), removed.into(), chrono::Utc::now().into()];
    conn.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await.map(|_| ())
}

/// Records a change of each of `entity_ids` in one statement (a batch change's; 4 bind
/// parameters each).
pub async fn record_many<C: ConnectionTrait>(
    conn: &C,
    entity: &str,
    entity_ids: &[String],
    removed: bool,
) -> Result<(), DbErr> {
    if entity_ids.is_empty() {
        return Ok(());
    }
    let backend = conn.get_database_backend();
    let now = chrono::Utc::now();
    let mut sql = String::from("INSERT INTO change_log (txid, entity, entity_id, removed, at) VALUES ");
    let mut values: Vec<Value> = Vec::with_capacity(entity_ids.len() * 4);
    for (i, id) in entity_ids.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        match backend {
            DbBackend::Postgres => {
                let n = i * 4;
                sql.push_str(&format!(
                    "(pg_current_xact_id()::text::bigint, ${}, ${}, ${}, ${})",
                    n + 1,
                    n + 2,
                    n + 3,
                    n + 4
                ));
            }
            _ => sql.push_str("(0, ?, ?, ?, ?)"),
        }
        values.extend([entity.into(), id.as_str().into(), removed.into(), now.into()]);
    }
    conn.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await.map(|_| ())
}

/// The changes of `entity` after `after`, at most `limit`, in feed order.
pub async fn since<C: ConnectionTrait>(
    conn: &C,
    entity: &str,
    after: Cursor,
    limit: u64,
) -> Result<Vec<Change>, DbErr> {
    let backend = conn.get_database_backend();
    let (sql, values): (&str, Vec<Value>) = match backend {
        DbBackend::Postgres => (
            "SELECT txid, seq::bigint AS seq, entity_id, removed FROM change_log \
             WHERE entity = $1 AND (txid > $2 OR (txid = $2 AND seq > $3)) \
             AND txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint \
             ORDER BY txid, seq LIMIT $4",
            vec![entity.into(), after.txid.into(), after.seq.into(), (limit as i64).into()],
        ),
        _ => (
            "SELECT txid, seq, entity_id, removed FROM change_log \
             WHERE entity = ? AND (txid > ? OR (txid = ? AND seq > ?)) ORDER BY txid, seq LIMIT ?",
            vec![entity.into(), after.txid.into(), after.txid.into(), after.seq.into(), (limit as i64).into()],
        ),
    };
    let rows = conn.query_all_raw(Statement::from_sql_and_values(backend, sql, values)).await?;
    rows.into_iter()
        .map(|row| {
            Ok(Change {
                cursor: Cursor { txid: row.try_get("", "txid")?, seq: row.try_get("", "seq")? },
                entity_id: row.try_get("", "entity_id")?,
                removed: row.try_get("", "removed")?,
            })
        })
        .collect()
}

/// The feed's position now: every change committed from now on comes after it.
pub async fn position<C: ConnectionTrait>(conn: &C) -> Result<Cursor, DbErr> {
    let backend = conn.get_database_backend();
    let sql = match backend {
        // Transactions older than the horizon are done; their changes are in a full read made
        // after this. Newer ones come after the cursor.
        DbBackend::Postgres => {
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint - 1 AS txid, 2147483647::bigint AS seq"
        }
        _ => "SELECT 0 AS txid, COALESCE(MAX(seq), 0) AS seq FROM change_log",
    };
    let row = conn
        .query_one_raw(Statement::from_string(backend, sql))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("the change feed's position".into()))?;
    Ok(Cursor { txid: row.try_get("", "txid")?, seq: row.try_get("", "seq")? })
}

/// Migration creating the `change_log` table; every service's migrator includes it.
pub struct CreateChangeLog;

impl MigrationName for CreateChangeLog {
    fn name(&self) -> &str {
        "m0900_create_change_log"
    }
}

// The trait's signature elides SchemaManager's lifetime; matching it needs the same elision.
#[allow(elided_lifetimes_in_paths)]
#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for CreateChangeLog {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("change_log")
                    .if_not_exists()
                    .col(pk_auto("seq"))
                    .col(big_integer("txid"))
                    .col(string_len("entity", 64))
                    .col(string_len("entity_id", 128))
                    .col(boolean("removed"))
                    .col(timestamp_with_time_zone("at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("change_log_feed_idx")
                    .table("change_log")
                    .col("entity")
                    .col("txid")
                    .col("seq")
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("change_log").to_owned()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_bad_ones_are_refused() {
        let cursor = Cursor { txid: 123_456, seq: 42 };
        assert_eq!(Cursor::decode(&cursor.encode()), Ok(cursor));
        for bad in ["", "nope", "Y2hhbmdlOjE=", "Y2hhbmdlOi0xOjI", "Y2hhbmdlOjE6Mjoz"] {
            assert!(Cursor::decode(bad).is_err(), "{bad}");
        }
        assert!(Cursor { txid: 1, seq: 9 } < Cursor { txid: 2, seq: 1 });
    }
}
