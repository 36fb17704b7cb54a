//! Follow-through of the early warning (issue 19): an `ESCALATED` continuity-signal event on the
//! bus opens exactly one escalation linked to the signal — also when delivered twice, across a
//! restart of the consumer, and never again for events before the stored position; a payload
//! that cannot become an escalation is skipped without holding back the ones after it.

use std::sync::Arc;

use ggzhub_kit::events::{Delivered, EventBus, LocalBus};
use ggzhub_kit::outbox::Outbox;
use ggzhub_national_table::entity::escalation;
use ggzhub_national_table::follow_through::{self, load_position, store_position};
use sea_orm::EntityTrait;
use serde_json::json;

use crate::helpers::*;

const SIGNAL_1: &str = "0190a3c4-0000-7000-8000-000000000001";
const SIGNAL_2: &str = "0190a3c4-0000-7000-8000-000000000002";
const SIGNAL_3: &str = "0190a3c4-0000-7000-8000-000000000003";

async fn wait_for_position(app: &TestApp, seq: u64) {
    wait_until(&format!("the consumer stored position {seq}"), || async {
        load_position(app.conn()).await.expect("position reads").is_some_and(|(s, _)| s >= seq)
    })
    .await;
}

#[tokio::test]
async fn an_escalated_signal_opens_one_linked_escalation_visible_from_both_sides() {
    let bus = LocalBus::new(100);
    let app = TestApp::spawn_with_bus(bus.clone()).await;
    bus.publish(&escalated_event("region:1", SIGNAL_1)).await.expect("published");
    wait_until("the escalation is opened", || async { !app.escalation_of_signal(SIGNAL_1).await.is_empty() }).await;

    let opened = &app.escalation_of_signal(SIGNAL_1).await[0];
    assert_eq!(opened.status, "SUBMITTED");
    assert_eq!(opened.raised_by, PROVIDER_A.to_string(), "the chair who escalated raises it");
    let resp = app
        .graphql(
            r#"query($id: ID!) { escalation(id: $id) {
                regionCode category status problem urgency raisedBy { id } signal { id } } }"#,
        )
        .var("id", &opened.id)
        .as_caller(&insurer_x())
        .send()
        .await;
    assert_eq!(
        resp.data()["escalation"],
        json!({
            "regionCode": "utrecht", "category": "ACUTE", "status": "SUBMITTED", "problem": SIGNAL_SUMMARY,
            "urgency": "HIGH", "raisedBy": {"id": PROVIDER_A.to_string()}, "signal": {"id": SIGNAL_1},
        })
    );
    // The other side: the signal's escalation, through federation.
    let resp = app
        .graphql(r#"query($r: [_Any!]!) { _entities(representations: $r) { ... on ContinuitySignal { id escalation { id status } } } }"#)
        .var("r", json!([{"__typename": "ContinuitySignal", "id": SIGNAL_1}]))
        .as_caller(&national_table())
        .send()
        .await;
    assert_eq!(
        resp.data()["_entities"],
        json!([{"id": SIGNAL_1, "escalation": {"id": opened.id, "status": "SUBMITTED"}}])
    );
    // Raised in the audit log, by the escalating organisation, and announced as OPENED.
    let audit = app.audit_entries().await;
    assert!(audit.iter().any(|a| a.entity_id == opened.id && a.action == "raise" && a.org == PROVIDER_A.to_string()));
    wait_until("the OPENED event is on the bus", || async {
        bus.replay(0).await.expect("replay").iter().any(|d| {
            d.event.subgraph == "national-table"
                && d.event.payload == json!({"kind": "OPENED", "escalationId": opened.id})
                && d.event.scope.get("region").map(String::as_str) == Some("utrecht")
        })
    })
    .await;
}

#[tokio::test]
async fn an_event_delivered_twice_and_a_restart_open_nothing_twice() {
    let app = TestApp::spawn().await;
    let bus = LocalBus::new(100);
    let consumer = follow_through::spawn(app.conn().clone(), bus.clone(), Outbox::detached());
    // The same escalation published twice under two ids (the bus keeps one copy per id; a second
    // id stands for a redelivery the bus cannot recognise).
    bus.publish(&escalated_event("region:1", SIGNAL_1)).await.expect("published");
    bus.publish(&escalated_event("region:1-again", SIGNAL_1)).await.expect("published");
    wait_for_position(&app, 2).await;
    assert_eq!(app.escalation_of_signal(SIGNAL_1).await.len(), 1);
    assert_eq!(load_position(app.conn()).await.expect("reads"), Some((2, "region:1-again".to_owned())));

    consumer.abort();
    let _ = consumer.await;
    // Gone while stopped: must not come back, as its event lies before the stored position.
    escalation::Entity::delete_by_id(app.escalation_of_signal(SIGNAL_1).await[0].id.clone())
        .exec(app.conn())
        .await
        .expect("deleted");
    bus.publish(&escalated_event("region:2", SIGNAL_2)).await.expect("published while stopped");

    let _restarted = follow_through::spawn(app.conn().clone(), bus.clone(), Outbox::detached());
    wait_for_position(&app, 3).await;
    assert_eq!(app.escalation_of_signal(SIGNAL_2).await.len(), 1, "the event missed while stopped is processed");
    assert!(app.escalation_of_signal(SIGNAL_1).await.is_empty(), "events before the position are not processed again");
    bus.publish(&escalated_event("region:2-again", SIGNAL_2)).await.expect("published");
    bus.publish(&escalated_event("region:3", SIGNAL_3)).await.expect("published");
    wait_for_position(&app, 5).await;
    assert_eq!(app.escalation_of_signal(SIGNAL_2).await.len(), 1);
    assert_eq!(app.escalation_of_signal(SIGNAL_3).await.len(), 1);
    assert_eq!(app.count::<escalation::Entity>().await, 2);
}

#[tokio::test]
async fn events_before_the_stored_position_are_not_processed() {
    let app = TestApp::spawn().await;
    let bus = LocalBus::new(100);
    bus.publish(&escalated_event("region:1", SIGNAL_1)).await.expect("published");
    bus.publish(&escalated_event("region:2", SIGNAL_2)).await.expect("published");
    let second = bus.replay(1).await.expect("replay")[0].clone();
    store_position(app.conn(), &second).await.expect("position stored");
    bus.publish(&escalated_event("region:3", SIGNAL_3)).await.expect("published");

    let _consumer = follow_through::spawn(app.conn().clone(), bus.clone(), Outbox::detached());
    wait_for_position(&app, 3).await;
    assert!(app.escalation_of_signal(SIGNAL_1).await.is_empty());
    assert!(app.escalation_of_signal(SIGNAL_2).await.is_empty());
    assert_eq!(app.escalation_of_signal(SIGNAL_3).await.len(), 1);
}

#[tokio::test]
async fn a_new_in_process_stream_is_read_from_its_start() {
    // The database remembers position 7 of a stream that is gone (the process restarted with
    // the in-process log): the new stream's first events must not be skipped.
    let app = TestApp::spawn().await;
    let mut old = escalated_event("region:old-7", SIGNAL_3);
    old.payload = json!({"kind": "RAISED"});
    store_position(app.conn(), &Delivered { seq: 7, event: old }).await.expect("position stored");
    let bus = LocalBus::new(100);
    bus.publish(&escalated_event("region:1", SIGNAL_1)).await.expect("published");
    let _consumer = follow_through::spawn(app.conn().clone(), bus.clone(), Outbox::detached());
    wait_until("the new stream's escalation is opened", || async {
        !app.escalation_of_signal(SIGNAL_1).await.is_empty()
    })
    .await;
    bus.publish(&escalated_event("region:2", SIGNAL_2)).await.expect("published");
    wait_until("the next one too", || async { !app.escalation_of_signal(SIGNAL_2).await.is_empty() }).await;
    assert_eq!(load_position(app.conn()).await.expect("reads"), Some((2, "region:2".to_owned())));
}

#[tokio::test]
async fn an_invalid_payload_is_skipped_and_does_not_hold_back_later_escalations() {
    let app = TestApp::spawn().await;
    let bus: Arc<LocalBus> = LocalBus::new(100);
    let _consumer = follow_through::spawn(app.conn().clone(), bus.clone(), Outbox::detached());
    let mut bad = escalated_event("region:1", SIGNAL_1);
    bad.payload["category"] = json!("DENTAL");
    bus.publish(&bad).await.expect("published");
    let mut other_kind = escalated_event("region:2", SIGNAL_2);
    other_kind.payload["kind"] = json!("ACKNOWLEDGED");
    bus.publish(&other_kind).await.expect("published");
    bus.publish(&escalated_event("region:3", SIGNAL_3)).await.expect("published");
    wait_for_position(&app, 3).await;
    assert!(app.escalation_of_signal(SIGNAL_1).await.is_empty(), "an unknown category opens nothing");
    assert!(app.escalation_of_signal(SIGNAL_2).await.is_empty(), "only ESCALATED events open escalations");
    assert_eq!(app.escalation_of_signal(SIGNAL_3).await.len(), 1);
    assert_eq!(app.count::<escalation::Entity>().await, 1);
}

#[tokio::test]
async fn a_consumer_that_falls_behind_the_live_events_replays_what_it_missed() {
    let app = TestApp::spawn().await;
    let bus = LocalBus::new(20_000);
    let _consumer = follow_through::spawn(app.conn().clone(), bus.clone(), Outbox::detached());
    let mut quiet = escalated_event("region:0", SIGNAL_3);
    quiet.payload["kind"] = json!("RAISED");
    bus.publish(&quiet).await.expect("published");
    wait_for_position(&app, 1).await;
    // Published without yielding to the consumer (one test thread): more than its live buffer
    // holds, with the escalation first, so only a replay finds it.
    bus.publish(&escalated_event("region:1", SIGNAL_1)).await.expect("published");
    let flood = ggzhub_kit::events::LIVE_BUFFER + 500;
    for i in 0..flood {
        let mut e = quiet.clone();
        e.id = format!("region:flood-{i}");
        bus.publish(&e).await.expect("published");
    }
    let last = 2 + flood as u64;
    wait_for_position(&app, last).await;
    assert_eq!(app.escalation_of_signal(SIGNAL_1).await.len(), 1, "the escalation dropped from the live buffer");
}

#[tokio::test]
async fn two_replicas_reading_the_same_stream_open_each_escalation_once() {
    let app = TestApp::spawn().await;
    let bus = LocalBus::new(1_000);
    let _first = follow_through::spawn(app.conn().clone(), bus.clone(), Outbox::detached());
    let _second = follow_through::spawn(app.conn().clone(), bus.clone(), Outbox::detached());
    let signals: Vec<String> = (0..20).map(|i| format!("0190a3c4-0000-7000-8000-0000000010{i:02}")).collect();
    for (i, signal) in signals.iter().enumerate() {
        bus.publish(&escalated_event(&format!("region:{i}"), signal)).await.expect("published");
        bus.publish(&escalated_event(&format!("region:{i}-again"), signal)).await.expect("published");
    }
    wait_for_position(&app, 40).await;
    wait_until("every signal has its escalation", || async {
        app.count::<escalation::Entity>().await == signals.len() as u64
    })
    .await;
    // Both replicas are done: nothing more is opened.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    for signal in &signals {
        assert_eq!(app.escalation_of_signal(signal).await.len(), 1, "{signal}");
    }
    assert_eq!(app.count::<escalation::Entity>().await, signals.len() as u64);
}
