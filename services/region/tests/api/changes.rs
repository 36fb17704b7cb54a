//! Incremental sync (issue 22): changes since a cursor, in commit order, each once, only what the
//! caller may read; closed offers as tombstones; concurrent writes during a sync are not missed.

use std::collections::{BTreeMap, BTreeSet};

use ggzhub_kit::changes::Cursor;
use ggzhub_kit::testing::TestCaller;
use serde_json::{Value, json};

use crate::helpers::*;

const POSITION: &str = "query { changeFeedPosition }";
const OFFER_CHANGES: &str = r#"query($since: String!, $first: Int) { careOfferChanges(since: $since, first: $first) {
    changes { id tombstone cursor node { id unitName status version } } next hasMore } }"#;
const SIGNAL_CHANGES: &str = r#"query($since: String!) { continuitySignalChanges(since: $since) {
    changes { id tombstone node { id status version } } next hasMore } }"#;
const OVERVIEW_CHANGES: &str = r#"query($since: String!) { regionalOverviewChanges(since: $since) {
    changes { id node { id year } } next hasMore } }"#;
const UPDATE_OFFER: &str = r#"mutation($id: ID!, $v: Int!, $input: UpdateCareOfferInput!) {
    updateCareOffer(id: $id, expectedVersion: $v, input: $input) { unitName version } }"#;
const CLOSE: &str = "mutation($id: ID!, $v: Int!) { closeCareOffer(id: $id, expectedVersion: $v) { status version } }";
const ACKNOWLEDGE: &str =
    "mutation($id: ID!, $v: Int!) { acknowledgeContinuitySignal(id: $id, expectedVersion: $v) { status version } }";

async fn position(app: &TestApp, caller: &TestCaller) -> String {
    let resp = app.graphql(POSITION).as_caller(caller).send().await;
    resp.data()["changeFeedPosition"].as_str().expect("a cursor").to_owned()
}

async fn page(app: &TestApp, query: &str, field: &str, since: &str, caller: &TestCaller) -> Value {
    let resp = app.graphql(query).var("since", since).as_caller(caller).send().await;
    resp.data()[field].clone()
}

/// The page after `since` once the feed has passed a change: on PostgreSQL the feed holds back
/// changes while any older transaction of the cluster runs (other tests' too), so a change just
/// committed may take a moment to come.
async fn settled(app: &TestApp, query: &str, field: &str, since: &str, caller: &TestCaller) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let page = page(app, query, field, since, caller).await;
        if page["next"] != since {
            return page;
        }
        assert!(std::time::Instant::now() < deadline, "the feed did not pass the change within 30 s: {page}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Like [`settled`], until `done` holds for the page from `since`: on PostgreSQL the feed may
/// pass the first of several changes while a later one is still held back by another test's
/// transaction. Fails with the last page after 30 s.
async fn settled_until(
    app: &TestApp,
    query: &str,
    field: &str,
    since: &str,
    caller: &TestCaller,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let page = page(app, query, field, since, caller).await;
        if done(&page) {
            return page;
        }
        assert!(std::time::Instant::now() < deadline, "the feed did not reach the expected page within 30 s: {page}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn update_offer(app: &TestApp, id: impl ToString, version: i64, name: &str) {
    let resp = app
        .graphql(UPDATE_OFFER)
        .var("id", id.to_string())
        .var("v", version)
        .var("input", json!({"unitName": name}))
        .as_caller(&provider_a())
        .send()
        .await;
    assert_eq!(resp.data()["updateCareOffer"]["version"], version + 1);
}

#[tokio::test]
async fn changes_after_the_position_each_once_with_their_state_now() {
    let app = TestApp::spawn().await;
    let since = position(&app, &insurer_x()).await;
    let empty = page(&app, OFFER_CHANGES, "careOfferChanges", &since, &insurer_x()).await;
    assert_eq!(empty["changes"], json!([]));
    assert_eq!(empty["hasMore"], false);
    assert_eq!(empty["next"], since, "nothing read: the cursor stays");

    update_offer(&app, OFFER_A_CRISIS, 1, "Crisisdienst 1").await;
    update_offer(&app, OFFER_A_FACT, 1, "FACT 1").await;
    update_offer(&app, OFFER_A_CRISIS, 2, "Crisisdienst 2").await;
    // Once the feed has passed all three changes (the crisis offer's last change is the latest).
    let passed_all =
        |p: &Value| p["changes"].as_array().and_then(|c| c.last()).is_some_and(|c| c["node"]["version"] == 3);
    let changes = settled_until(&app, OFFER_CHANGES, "careOfferChanges", &since, &insurer_x(), passed_all).await;
    let got: Vec<(String, String)> = changes["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| (c["id"].as_str().expect("id").to_owned(), c["node"]["unitName"].as_str().expect("name").to_owned()))
        .collect();
    // In the order of each record's last change, each once, as it is now.
    assert_eq!(
        got,
        [(OFFER_A_FACT.to_string(), "FACT 1".to_owned()), (OFFER_A_CRISIS.to_string(), "Crisisdienst 2".to_owned())]
    );
    // From `next` on: nothing until the next change.
    let next = changes["next"].as_str().expect("next");
    assert_eq!(page(&app, OFFER_CHANGES, "careOfferChanges", next, &insurer_x()).await["changes"], json!([]));
    update_offer(&app, OFFER_A_FACT, 2, "FACT 2").await;
    let later = settled(&app, OFFER_CHANGES, "careOfferChanges", next, &insurer_x()).await;
    assert_eq!(later["changes"].as_array().expect("changes").len(), 1);
    assert_eq!(later["changes"][0]["node"]["unitName"], "FACT 2");
    // Offers are public: a patient organisation syncs them too.
    let public = settled(&app, OFFER_CHANGES, "careOfferChanges", &since, &patient_org()).await;
    assert_eq!(public["changes"].as_array().expect("changes").len(), 2);
}

#[tokio::test]
async fn a_closed_offer_is_a_tombstone_with_its_final_state() {
    let app = TestApp::spawn().await;
    app.closure_due(OFFER_A_FACT).await;
    let since = position(&app, &insurer_x()).await;
    let resp = app.graphql(CLOSE).var("id", OFFER_A_FACT).var("v", 1).as_caller(&provider_a()).send().await;
    assert_eq!(resp.data()["closeCareOffer"]["status"], "CLOSED");
    let changes = settled(&app, OFFER_CHANGES, "careOfferChanges", &since, &insurer_x()).await;
    assert_eq!(changes["changes"][0]["id"], OFFER_A_FACT.to_string());
    assert_eq!(changes["changes"][0]["tombstone"], true);
    assert_eq!(changes["changes"][0]["node"]["status"], "CLOSED");
}

#[tokio::test]
async fn signal_changes_reach_only_those_who_may_read_the_signal() {
    let app = TestApp::spawn().await;
    let since = position(&app, &insurer_x()).await;
    let resp = app.graphql(ACKNOWLEDGE).var("id", SIGNAL_UTRECHT_OPEN).var("v", 1).as_caller(&insurer_x()).send().await;
    assert_eq!(resp.data()["acknowledgeContinuitySignal"]["status"], "ACKNOWLEDGED");
    // The coordinating insurer and the signal's provider see the change.
    for caller in [insurer_x(), provider_a()] {
        let changes = settled(&app, SIGNAL_CHANGES, "continuitySignalChanges", &since, &caller).await;
        assert_eq!(changes["changes"][0]["id"], SIGNAL_UTRECHT_OPEN.to_string());
        assert_eq!(changes["changes"][0]["node"]["status"], "ACKNOWLEDGED");
    }
    // Another region's insurer and provider get nothing, not even the id; the cursor moves on.
    for caller in [insurer_y(), provider_b()] {
        let changes = settled(&app, SIGNAL_CHANGES, "continuitySignalChanges", &since, &caller).await;
        assert_eq!(changes["changes"], json!([]), "{changes}");
    }
    // A patient organisation may not read signals at all.
    let resp = app.graphql(SIGNAL_CHANGES).var("since", &since).as_caller(&patient_org()).send().await;
    assert_refused(&resp, "continuitySignalChanges", "FORBIDDEN");
}

#[tokio::test]
async fn a_draft_overview_changes_only_for_its_table() {
    let app = TestApp::spawn().await;
    let since = position(&app, &chair()).await;
    let resp = app
        .graphql(r#"mutation($id: ID!) { updateRegionalOverview(id: $id, expectedVersion: 1, input: {publicSummary: "Concept: bijgewerkt."}) { id } }"#)
        .var("id", OVERVIEW_DRAFT)
        .as_caller(&chair())
        .send()
        .await;
    assert_eq!(resp.data()["updateRegionalOverview"]["id"], OVERVIEW_DRAFT.to_string());
    let table = settled(&app, OVERVIEW_CHANGES, "regionalOverviewChanges", &since, &chair()).await;
    assert_eq!(table["changes"][0]["id"], OVERVIEW_DRAFT.to_string());
    let outside = settled(&app, OVERVIEW_CHANGES, "regionalOverviewChanges", &since, &insurer_y()).await;
    assert_eq!(outside["changes"], json!([]), "{outside}");
}

#[tokio::test]
async fn bad_cursors_and_page_sizes_are_refused() {
    let app = TestApp::spawn().await;
    let since = position(&app, &insurer_x()).await;
    for bad in ["", "nope", "Y2hhbmdlOi0xOjI"] {
        let resp = app.graphql(OFFER_CHANGES).var("since", bad).as_caller(&insurer_x()).send().await;
        assert_refused(&resp, "careOfferChanges", "BAD_USER_INPUT");
    }
    for first in [0, 501] {
        let resp =
            app.graphql(OFFER_CHANGES).var("since", &since).var("first", first).as_caller(&insurer_x()).send().await;
        assert_refused(&resp, "careOfferChanges", "BAD_USER_INPUT");
    }
}

/// Two writers change two offers over and over while a partner syncs every few milliseconds in
/// pages of 3: every change is behind the cursor exactly once (no cursor comes back, they only
/// grow), and the partner's copy ends equal to the database.
#[tokio::test]
async fn a_sync_during_concurrent_writes_misses_nothing_and_reads_nothing_twice() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    const ROUNDS: i64 = 15;
    let mut since = position(&app, &insurer_x()).await;
    let writers: Vec<_> = [OFFER_A_CRISIS, OFFER_A_FACT]
        .into_iter()
        .map(|offer| {
            let app = app.clone();
            tokio::spawn(async move {
                for round in 1..=ROUNDS {
                    update_offer(&app, offer, round, &format!("{offer} {round}")).await;
                }
            })
        })
        .collect();
    let mut copy: BTreeMap<String, Value> = BTreeMap::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut last = Cursor::decode(&since).expect("a cursor");
    let mut done = false;
    let mut deadline: Option<std::time::Instant> = None;
    loop {
        let resp = app.graphql(OFFER_CHANGES).var("since", &since).var("first", 3).as_caller(&insurer_x()).send().await;
        let changes = resp.data()["careOfferChanges"].clone();
        for change in changes["changes"].as_array().expect("changes") {
            let cursor = change["cursor"].as_str().expect("cursor").to_owned();
            assert!(seen.insert(cursor.clone()), "a change came twice: {change}");
            let decoded = Cursor::decode(&cursor).expect("a cursor");
            assert!(decoded > last, "cursors only grow: {decoded:?} after {last:?}");
            last = decoded;
            copy.insert(change["id"].as_str().expect("id").to_owned(), change["node"].clone());
        }
        since = changes["next"].as_str().expect("next").to_owned();
        // Done when the writers are and the copy holds both offers' last version (on
        // PostgreSQL the feed may hold changes back for a moment; it never drops them).
        let current = [OFFER_A_CRISIS, OFFER_A_FACT]
            .iter()
            .all(|offer| copy.get(&offer.to_string()).is_some_and(|node| node["version"] == ROUNDS + 1));
        if done && current && changes["hasMore"] == false {
            break;
        }
        if !done && writers.iter().all(tokio::task::JoinHandle::is_finished) {
            done = true;
            deadline = Some(std::time::Instant::now() + std::time::Duration::from_secs(60));
        }
        assert!(
            deadline.is_none_or(|d| std::time::Instant::now() < d),
            "the sync did not catch up within 60 s: {copy:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    for writer in writers {
        writer.await.expect("the writer finished");
    }
    for offer in [OFFER_A_CRISIS, OFFER_A_FACT] {
        let now = app.offer(offer).await;
        let synced = &copy[&offer.to_string()];
        assert_eq!(synced["version"], now["version"], "{offer}: the copy is current");
        assert_eq!(synced["unitName"], now["unitName"]);
        assert_eq!(now["version"], ROUNDS + 1);
    }
}
