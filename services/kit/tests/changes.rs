//! The change feed's order (issue 22): a reader never passes a change whose transaction has not
//! committed yet, so nothing committed later is missed. On PostgreSQL (`DATABASE_URL`) with two
//! transactions open at once; on SQLite, whose one writer commits in `seq` order, sequentially.

use ggzhub_kit::changes::{self, CreateChangeLog, Cursor};
use ggzhub_kit::db::{DbConfig, connect, drop_schema};
use sea_orm::{DatabaseConnection, DbBackend, TransactionTrait as _};
use sea_orm_migration::{MigrationTrait as _, SchemaManager};

async fn database() -> (DatabaseConnection, Option<(String, String)>) {
    let (cfg, cleanup) = match std::env::var("DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => {
            let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
            let mut cfg = DbConfig::new(url.clone());
            cfg.schema = Some(schema.clone());
            cfg.max_connections = 4;
            (cfg, Some((url, schema)))
        }
        _ => (DbConfig::new("sqlite::memory:"), None),
    };
    let db = connect(&cfg).await.expect("the database connects");
    CreateChangeLog.up(&SchemaManager::new(&db)).await.expect("the change log is created");
    (db, cleanup)
}

fn ids(read: &[changes::Change]) -> Vec<&str> {
    read.iter().map(|c| c.entity_id.as_str()).collect()
}

const START: Cursor = Cursor { txid: 0, seq: 0 };

#[tokio::test]
async fn a_change_committed_later_is_never_passed() {
    let (db, cleanup) = database().await;
    if db.get_database_backend() == DbBackend::Postgres {
        // `early` writes first and commits last; `late` writes second and commits first.
        let early = db.begin().await.expect("a transaction");
        changes::record(&early, "Offer", "early", false).await.expect("recorded");
        let late = db.begin().await.expect("a transaction");
        changes::record(&late, "Offer", "late", false).await.expect("recorded");
        late.commit().await.expect("committed");
        // `late` is committed but comes after `early`, which is not: the reader waits for both.
        assert_eq!(ids(&changes::since(&db, "Offer", START, 10).await.expect("read")), Vec::<&str>::new());
        early.commit().await.expect("committed");
        let read = changes::since(&db, "Offer", START, 10).await.expect("read");
        assert_eq!(ids(&read), ["early", "late"]);
        // A rolled-back change never appears, and does not hold the feed back once gone.
        let gone = db.begin().await.expect("a transaction");
        changes::record(&gone, "Offer", "gone", false).await.expect("recorded");
        gone.rollback().await.expect("rolled back");
        let after = read.last().expect("two").cursor;
        changes::record(&db, "Offer", "next", true).await.expect("recorded");
        let read = changes::since(&db, "Offer", after, 10).await.expect("read");
        assert_eq!(ids(&read), ["next"]);
        assert!(read[0].removed);
    } else {
        // One writer at a time: commit order is seq order.
        for id in ["first", "second"] {
            let txn = db.begin().await.expect("a transaction");
            changes::record(&txn, "Offer", id, false).await.expect("recorded");
            txn.commit().await.expect("committed");
        }
        assert_eq!(ids(&changes::since(&db, "Offer", START, 10).await.expect("read")), ["first", "second"]);
    }
    // The position: what is committed is behind it, what comes next after it; other entities'
    // changes are not in this one's feed.
    let position = changes::position(&db).await.expect("the position");
    assert_eq!(ids(&changes::since(&db, "Offer", position, 10).await.expect("read")), Vec::<&str>::new());
    changes::record(&db, "Signal", "s1", false).await.expect("recorded");
    changes::record(&db, "Offer", "o9", false).await.expect("recorded");
    assert_eq!(ids(&changes::since(&db, "Offer", position, 10).await.expect("read")), ["o9"]);
    // Pages: `limit` at a time, in order.
    let first = changes::since(&db, "Offer", START, 1).await.expect("read");
    assert_eq!(first.len(), 1);
    let rest = changes::since(&db, "Offer", first[0].cursor, 10).await.expect("read");
    assert!(rest.iter().all(|c| c.cursor > first[0].cursor));
    if let Some((url, schema)) = cleanup {
        drop_schema(&url, &schema).await.expect("dropped");
    }
}
