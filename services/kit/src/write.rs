//! The write path every mutation of every subgraph follows: open a transaction, give new records
//! a time-ordered id, compare the caller's `expectedVersion`, write only if nobody else did in the
//! meantime, report a lost race as the check would have, and record the audit entry in the same
//! transaction.

use async_graphql::Context;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter,
    TransactionTrait,
};

use crate::{ApiError, ApiResult, Caller, audit};

/// A transaction on the service's database (the [`DatabaseConnection`] in the schema's data).
pub async fn begin(ctx: &Context<'_>) -> ApiResult<DatabaseTransaction> {
    Ok(data::<DatabaseConnection>(ctx)?.begin().await?)
}

/// A value the service put in the schema's data; missing is our fault (`INTERNAL`), never the
/// caller's.
pub fn data<'a, T: std::any::Any + Send + Sync>(ctx: &'a Context<'_>) -> ApiResult<&'a T> {
    ctx.data::<T>().map_err(|e| ApiError::internal(anyhow::anyhow!(e.message)))
}

/// A new record's id: a UUID v7, so ids sort by creation time.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// `CONFLICT` unless the stored `current` version is the caller's `expected` one.
pub fn check_version(what: &str, id: &str, current: i32, expected: i32) -> ApiResult<()> {
    if current == expected {
        Ok(())
    } else {
        Err(ApiError::conflict(format!(
            "{what} {id} is at version {current}, not {expected}: reload it and apply your change again"
        )))
    }
}

/// Writes `active` only if the stored version is still `expected` (guards against a concurrent
/// writer between our read and our write): `CONFLICT` when it is not.
pub async fn update_guarded<E, A>(
    txn: &DatabaseTransaction,
    active: A,
    id_col: E::Column,
    id: &str,
    ver_col: E::Column,
    expected: i32,
) -> ApiResult<()>
where
    E: EntityTrait,
    A: ActiveModelTrait<Entity = E> + Send,
{
    // A unique value taken by another record in the meantime (a region's map tile) is the
    // caller's input clashing, not a fault of ours.
    let res = E::update_many().set(active).filter(id_col.eq(id)).filter(ver_col.eq(expected)).exec(txn).await.map_err(
        |e| lost_race(e, || ApiError::bad_input(format!("a value of {id} that must be unique was just taken"))),
    )?;
    if res.rows_affected == 0 {
        return Err(ApiError::conflict(format!(
            "{id} was changed concurrently: reload it and apply your change again"
        )));
    }
    Ok(())
}

/// A unique index refused a write: another request created the same record between our check
/// and our write. Reported as `refusal` (what the check would have said), never as `INTERNAL`.
pub fn lost_race(err: sea_orm::DbErr, refusal: impl FnOnce() -> ApiError) -> ApiError {
    match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => refusal(),
        _ => ApiError::from(err),
    }
}

/// Records the change's audit entry on `conn` (pass the change's transaction).
pub async fn audit<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    entity: &str,
    id: &str,
    action: &str,
    change: serde_json::Value,
) -> ApiResult<()> {
    Ok(audit::record(conn, caller, entity, id, action, change).await?)
}

/// Records the audit entries of a batch change on `conn` in one statement, each as [`audit`]
/// would (pass the change's transaction): for each `(id, change)` one entry of `entity` and
/// `action`.
pub async fn audit_many<C, I>(conn: &C, caller: &Caller, entity: &str, action: &str, changes: I) -> ApiResult<()>
where
    C: ConnectionTrait,
    I: IntoIterator<Item = (String, serde_json::Value)>,
{
    Ok(audit::record_many(conn, caller, entity, action, changes).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn a_stale_version_is_a_conflict_naming_both_versions() {
        assert!(check_version("offer", "o1", 3, 3).is_ok());
        let err = check_version("offer", "o1", 4, 3).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Conflict);
        assert!(err.to_string().contains("offer o1 is at version 4, not 3"), "{err}");
    }

    #[test]
    fn ids_sort_by_creation() {
        let a = new_id();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = new_id();
        assert!(a < b, "{a} < {b}");
    }

    #[test]
    fn only_a_unique_violation_is_a_lost_race() {
        let other = lost_race(sea_orm::DbErr::Custom("disk full".into()), || ApiError::bad_input("taken"));
        assert_eq!(other.code(), ErrorCode::Internal);
    }
}
