//! The demo generator's history: 24 months ending in the current month, deterministic, and
//! ending in exactly the current state of every offer.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Datelike as _;
use ggzhub_kit::testing::TestDb;
use ggzhub_region::entity::{care_offer, waiting_time};
use ggzhub_region::history::{offer_history, signal_history, waiting_history};
use ggzhub_region::migration::Migrator;
use ggzhub_region::seed::{Source, seed};
use sea_orm::{EntityTrait, PaginatorTrait as _};
use sea_orm_migration::MigratorTrait;

async fn seeded() -> TestDb {
    let db = TestDb::new().await;
    Migrator::up(&db.db, None).await.expect("migrations run");
    let report = seed(&db.db, &Source::Demo).await.expect("demo seeds");
    assert!(report.loaded);
    db
}

/// (offer, first day, status) of every history row.
async fn states(db: &TestDb) -> BTreeSet<(String, String, String)> {
    offer_history::Entity::find()
        .all(&db.db)
        .await
        .expect("history")
        .into_iter()
        .map(|h| (h.offer_id, h.valid_from, h.status))
        .collect()
}

#[tokio::test]
async fn demo_history_spans_24_months_and_ends_in_the_current_state() {
    let db = seeded().await;
    let today = ggzhub_kit::calendar::today();
    let start = format!("{}", ggzhub_region::seed_history::months_back(today, 23).format("%Y-%m-%d"));
    let offers = care_offer::Entity::find().all(&db.db).await.expect("offers");
    let history = offer_history::Entity::find().all(&db.db).await.expect("history");
    let mut current: BTreeMap<&str, Vec<&offer_history::Model>> = BTreeMap::new();
    for h in &history {
        assert!(h.valid_from >= start, "history starts {start}: {h:?}");
        if h.valid_to.is_none() {
            current.entry(h.offer_id.as_str()).or_default().push(h);
        }
    }
    assert!(history.len() > offers.len(), "offers changed over time");
    assert!(history.iter().any(|h| h.valid_from == start));
    for o in &offers {
        let now = current.get(o.id.as_str()).unwrap_or_else(|| panic!("offer {} has no current history row", o.id));
        assert_eq!(now.len(), 1, "one current state of {}", o.id);
        let h = now[0];
        assert_eq!(
            (&h.status, h.beds, h.places, h.teams, h.fte, h.intake_pause_from, h.intake_pause_until),
            (&o.status, o.beds, o.places, o.teams, o.fte, o.intake_pause_from, o.intake_pause_until),
            "the history of {} ends in its current state",
            o.id
        );
    }
    // Monthly waiting reports for 24 months, the current month included, each with history.
    let reports = waiting_time::Entity::find().all(&db.db).await.expect("reports");
    let months: BTreeSet<&str> = reports.iter().map(|r| r.month.as_str()).collect();
    assert_eq!(months.len(), 24, "{months:?}");
    let this_month = format!("{}-{:02}", today.year(), today.month());
    assert_eq!(months.last().copied(), Some(this_month.as_str()));
    assert_eq!(waiting_history::Entity::find().count(&db.db).await.expect("count"), reports.len() as u64);
    assert!(signal_history::Entity::find().count(&db.db).await.expect("count") > 0);
    // Deterministic: a second database gets the same states.
    let again = seeded().await;
    assert_eq!(states(&db).await, states(&again).await);
}
