//! Events (issue 19): each change writes its event to the outbox in its own transaction (none for
//! a refused change), the relay publishes them in order to the bus and marks them, a republished
//! row is kept once, the subscription fields resolve a delivered event for exactly the
//! organisations the access matrix lets see it, and a signal becomes overdue once.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use ggzhub_kit::events::{Delivered, Event, EventBus, LocalBus};
use ggzhub_kit::testing::TestCaller;
use sea_orm::{ConnectionTrait as _, Statement, TransactionTrait as _};
use serde_json::{Value, json};

use crate::helpers::*;

const RAISE: &str = r#"mutation($offer: ID!) { raiseContinuitySignal(input: {offerId: $offer, kind: STAFFING, severity: HIGH,
    description: "Two psychiatrists leave in March"}) { id version } }"#;
const UPDATE: &str = r#"mutation($id: ID!, $v: Int!) { updateContinuitySignal(id: $id, expectedVersion: $v,
    input: {severity: CRITICAL}) { id version } }"#;
const ACKNOWLEDGE: &str = r#"mutation($id: ID!, $v: Int!, $r: String) {
    acknowledgeContinuitySignal(id: $id, expectedVersion: $v, response: $r) { id status version response } }"#;
const RESOLVE: &str =
    "mutation($id: ID!, $v: Int!) { resolveContinuitySignal(id: $id, expectedVersion: $v) { id version } }";
const ESCALATE: &str =
    "mutation($id: ID!, $v: Int!) { escalateContinuitySignal(id: $id, expectedVersion: $v) { id version } }";
const UPDATE_OFFER: &str = r#"mutation($id: ID!, $v: Int!, $input: UpdateCareOfferInput!) {
    updateCareOffer(id: $id, expectedVersion: $v, input: $input) { id version status } }"#;
const CLOSE_OFFER: &str =
    "mutation($id: ID!, $v: Int!) { closeCareOffer(id: $id, expectedVersion: $v) { id version } }";
const CREATE_OFFER: &str = r#"mutation { createCareOffer(input: {regionCode: "utrecht", category: ACUTE, careForm: "HIC",
    unitName: "HIC Oost", location: "Utrecht", availability: TWENTY_FOUR_SEVEN, status: UNDER_PRESSURE}) { id } }"#;

const SIGNAL_EVENTS: &str = r#"subscription($region: ID) { signalEvents(region: $region) {
    kind occurredAt signal { id status regionCode description response offer { id } } } }"#;
const OFFER_STATUS: &str = r#"subscription($region: ID) { offerStatusChanges(region: $region) {
    occurredAt previousStatus status offer { id unitName status } } }"#;

/// The rows of `field` in the outbox.
fn of_field(rows: &[OutboxRow], field: &str) -> Vec<OutboxRow> {
    rows.iter().filter(|r| r.field == field).cloned().collect()
}

/// The `kind`s of the signal events in the outbox, in order.
fn signal_kinds(rows: &[OutboxRow]) -> Vec<String> {
    of_field(rows, "signalEvents").iter().map(|r| r.payload["kind"].as_str().unwrap_or_default().to_owned()).collect()
}

async fn raise(app: &TestApp, offer: impl ToString) -> String {
    let resp = app.graphql(RAISE).var("offer", offer.to_string()).as_caller(&provider_a()).send().await;
    resp.data()["raiseContinuitySignal"]["id"].as_str().expect("raised").to_owned()
}

#[tokio::test]
async fn each_change_writes_its_event_with_it_and_a_refused_change_writes_none() {
    let app = TestApp::spawn().await;
    assert!(app.outbox().await.is_empty(), "the fixture records no events");

    // Raised: one RAISED row scoped to the signal's region.
    let id = raise(&app, OFFER_A_CRISIS).await;
    let rows = app.outbox().await;
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(rows[0].field, "signalEvents");
    assert_eq!(rows[0].scope, json!({"region": "utrecht"}));
    assert_eq!(rows[0].payload, json!({"kind": "RAISED", "signalId": id}));
    assert!(!rows[0].published, "no relay runs without a bus");

    // Refused changes write nothing: another provider, a stale version, bad input, another insurer.
    let refused = [
        (provider_b(), UPDATE, json!({"id": id, "v": 1})),
        (provider_a(), UPDATE, json!({"id": id, "v": 7})),
        (insurer_x(), ACKNOWLEDGE, json!({"id": id, "v": 1, "r": ""})),
        (insurer_y(), ACKNOWLEDGE, json!({"id": id, "v": 1, "r": "We act"})),
        (provider_a(), ESCALATE, json!({"id": id, "v": 1})),
    ];
    for (who, query, vars) in refused {
        let resp = app.post_raw(&who, &json!({"query": query, "variables": vars})).await;
        assert!(!resp.error_codes().is_empty(), "refused: {:#}", resp.body);
    }
    assert_eq!(app.outbox().await.len(), 1, "refused changes record no event");

    // Changed, acknowledged (with the response), escalated, resolved.
    app.graphql(UPDATE).var("id", &id).var("v", 1).as_caller(&provider_a()).send().await.data();
    let resp = app
        .graphql(ACKNOWLEDGE)
        .var("id", &id)
        .var("v", 2)
        .var("r", "We meet the provider on Monday")
        .as_caller(&insurer_x())
        .send()
        .await;
    assert_eq!(resp.data()["acknowledgeContinuitySignal"]["response"], "We meet the provider on Monday");
    app.graphql(ESCALATE).var("id", &id).var("v", 3).as_caller(&chair()).send().await.data();
    app.graphql(RESOLVE).var("id", &id).var("v", 4).as_caller(&provider_a()).send().await.data();
    let rows = app.outbox().await;
    assert_eq!(signal_kinds(&rows), ["RAISED", "UPDATED", "ACKNOWLEDGED", "ESCALATED", "RESOLVED"]);
    assert!(rows.windows(2).all(|w| w[0].id < w[1].id), "rows in commit order");
    let escalated = &rows[3].payload;
    assert_eq!(
        *escalated,
        json!({
            "kind": "ESCALATED",
            "signalId": id,
            "regionCode": "utrecht",
            "category": "ACUTE",
            "summary": "Two psychiatrists leave in March",
            "escalatedBy": PROVIDER_C.to_string(),
        }),
        "what the national table opens an escalation from"
    );
}

#[tokio::test]
async fn offer_status_changes_are_recorded_only_when_the_status_changes() {
    let app = TestApp::spawn().await;
    let offer = OFFER_A_CRISIS.to_string();
    // No status change: no event.
    let resp = app
        .graphql(UPDATE_OFFER)
        .var("id", &offer)
        .var("v", 1)
        .var("input", json!({"unitName": "Crisisdienst Utrecht"}))
        .as_caller(&provider_a())
        .send()
        .await;
    resp.data();
    assert!(app.outbox().await.is_empty(), "a change without a new status records nothing");
    // Same status again: no event either.
    app.graphql(UPDATE_OFFER)
        .var("id", &offer)
        .var("v", 2)
        .var("input", json!({"status": "SECURED"}))
        .as_caller(&provider_a())
        .send()
        .await
        .data();
    assert!(app.outbox().await.is_empty(), "the same status records nothing");
    app.graphql(UPDATE_OFFER)
        .var("id", &offer)
        .var("v", 3)
        .var("input", json!({"status": "UNDER_PRESSURE"}))
        .as_caller(&provider_a())
        .send()
        .await
        .data();
    // Refused: provider B closing A's offer.
    let resp = app.graphql(CLOSE_OFFER).var("id", &offer).var("v", 4).as_caller(&provider_b()).send().await;
    assert_refused(&resp, "closeCareOffer", "FORBIDDEN");
    app.closure_due(&offer).await;
    app.graphql(CLOSE_OFFER).var("id", &offer).var("v", 4).as_caller(&provider_a()).send().await.data();
    let created = app.graphql(CREATE_OFFER).as_caller(&provider_a()).send().await;
    let new_id = created.data()["createCareOffer"]["id"].as_str().expect("created").to_owned();

    let rows = of_field(&app.outbox().await, "offerStatusChanges");
    let payloads: Vec<Value> = rows.iter().map(|r| r.payload.clone()).collect();
    assert_eq!(
        payloads,
        vec![
            json!({"offerId": offer, "previousStatus": "SECURED", "status": "UNDER_PRESSURE"}),
            // Made CLOSING directly (as an announced closure whose date has come), without an event.
            json!({"offerId": offer, "previousStatus": "CLOSING", "status": "CLOSED"}),
            json!({"offerId": new_id, "previousStatus": null, "status": "UNDER_PRESSURE"}),
        ]
    );
    assert!(rows.iter().all(|r| r.scope == json!({"region": "utrecht"})));
}

#[tokio::test]
async fn an_event_recorded_in_a_transaction_that_rolls_back_is_gone() {
    let app = TestApp::spawn().await;
    let db = &app.db.db;
    let scope = [("region".to_owned(), "utrecht".to_owned())].into();
    let txn = db.begin().await.expect("begins");
    ggzhub_kit::outbox::record(&txn, "signalEvents", &scope, &json!({"kind": "RAISED"}), Utc::now())
        .await
        .expect("records");
    txn.rollback().await.expect("rolls back");
    assert!(app.outbox().await.is_empty(), "rolled back with its change");
    let txn = db.begin().await.expect("begins");
    ggzhub_kit::outbox::record(&txn, "signalEvents", &scope, &json!({"kind": "RAISED"}), Utc::now())
        .await
        .expect("records");
    txn.commit().await.expect("commits");
    assert_eq!(app.outbox().await.len(), 1, "committed with its change");
}

/// Waits until the bus holds `n` events (or fails after 15 s).
pub async fn wait_for_events(bus: &LocalBus, n: usize) -> Vec<Arc<Delivered>> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let events = bus.replay(0).await.expect("replay");
        if events.len() >= n {
            return events;
        }
        assert!(tokio::time::Instant::now() < deadline, "only {} of {n} events arrived: {events:#?}", events.len());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until every outbox row is marked published.
async fn wait_all_published(app: &TestApp) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !app.outbox().await.iter().all(|r| r.published) {
        assert!(tokio::time::Instant::now() < deadline, "rows left unpublished: {:#?}", app.outbox().await);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_relay_publishes_in_order_marks_rows_and_a_republished_row_is_kept_once() {
    let bus = LocalBus::new(1000);
    let app = TestApp::spawn_with_events(bus.clone()).await;
    // The deadline sweep at start made the fixture's overdue signal overdue.
    let first = wait_for_events(&bus, 1).await;
    assert_eq!(first[0].event.payload, json!({"kind": "OVERDUE", "signalId": SIGNAL_UTRECHT_OPEN.to_string()}));

    let id = raise(&app, OFFER_A_CRISIS).await;
    app.graphql(UPDATE).var("id", &id).var("v", 1).as_caller(&provider_a()).send().await.data();
    app.closure_due(OFFER_B_HIC).await;
    app.graphql(CLOSE_OFFER)
        .var("id", OFFER_B_HIC.to_string())
        .var("v", 1)
        .as_caller(&provider_b())
        .send()
        .await
        .data();
    let events = wait_for_events(&bus, 4).await;
    wait_all_published(&app).await;
    let rows = app.outbox().await;
    assert_eq!(rows.len(), 4);
    // In outbox order, with ids `region:<row id>`, the stored field, scope and payload.
    for (row, delivered) in rows.iter().zip(&events) {
        let e = &delivered.event;
        assert_eq!(e.id, format!("region:{}", row.id));
        assert_eq!((e.subgraph.as_str(), e.field.as_str()), ("region", row.field.as_str()));
        assert_eq!(serde_json::to_value(&e.scope).expect("json"), row.scope);
        assert_eq!(e.payload, row.payload);
    }
    assert!(events.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(events[1].event.payload["kind"], "RAISED");
    assert_eq!(events[2].event.payload["kind"], "UPDATED");
    assert_eq!(events[3].event.scope["region"], "amsterdam");

    // A crash between publishing and marking: the rows are published again, the bus keeps each
    // event once (stable ids), and the rows are marked again.
    let db = &app.db.db;
    db.execute_raw(Statement::from_string(db.get_database_backend(), "UPDATE outbox SET published_at = NULL"))
        .await
        .expect("unmarks");
    app.graphql(RESOLVE).var("id", &id).var("v", 2).as_caller(&provider_a()).send().await.data();
    let events = wait_for_events(&bus, 5).await;
    wait_all_published(&app).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let again = bus.replay(0).await.expect("replay");
    assert_eq!(again.len(), 5, "republished rows are kept once: {again:#?}");
    assert_eq!(again[4].event.payload["kind"], "RESOLVED");
    assert_eq!(events.len(), 5);
}

/// The event the bus delivers for the next change, as the gateway would pass it on.
pub async fn next_event(bus: &LocalBus, after: usize, field: &str) -> Delivered {
    let events = wait_for_events(bus, after + 1).await;
    let found = events[after..].iter().find(|d| d.event.field == field).expect("an event of the field");
    (**found).clone()
}

/// Organisation ids as an audience lists them (sorted).
pub fn sorted(ids: &[uuid::Uuid]) -> Vec<String> {
    let mut out: Vec<String> = ids.iter().map(ToString::to_string).collect();
    out.sort();
    out
}

/// Who receives `delivered` through `signalEvents`: each persona's answer.
pub async fn receivers(app: &TestApp, delivered: &Delivered, region: Option<&str>) -> Vec<&'static str> {
    let mut out = Vec::new();
    for (label, caller) in all_personas() {
        let resp = app.deliver(&caller, SIGNAL_EVENTS, json!({"region": region}), delivered).await;
        assert_eq!(resp.status, 200, "{label}: {:#}", resp.body);
        assert!(resp.body.get("errors").is_none(), "{label}: no errors, only silence: {:#}", resp.body);
        let event = &resp.body["data"]["signalEvents"];
        if resp.body["data"].is_null() {
            assert_eq!(resp.body["extensions"]["ggzhubEvent"], "skip", "{label}: answered as skipped");
            continue;
        }
        assert!(event.is_object(), "{label}: {:#}", resp.body);
        // Whoever may read it is in the event's audience: the gateway asks only them.
        assert!(
            delivered.event.audience.as_ref().is_none_or(|a| a.admits(&caller.org.to_string(), caller.kind.as_str())),
            "{label} receives the event but is outside its audience {:?}",
            delivered.event.audience
        );
        out.push(label);
    }
    out
}

#[tokio::test]
async fn a_signal_event_reaches_exactly_those_who_may_read_the_signal() {
    let bus = LocalBus::new(1000);
    let app = TestApp::spawn_with_events(bus.clone()).await;
    wait_for_events(&bus, 1).await; // the fixture's OVERDUE

    let id = raise(&app, OFFER_A_CRISIS).await;
    let raised = next_event(&bus, 1, "signalEvents").await;
    assert_eq!(raised.event.payload["kind"], "RAISED");
    let audience = raised.event.audience.clone().expect("a signal event names its audience");
    // Without contracting configured nobody contracts: its provider and the coordinating insurer
    // by id, no kind (not every insurer, not the national table before escalation).
    assert!(audience.kinds.is_empty(), "{audience:?}");
    assert_eq!(audience.organisations, sorted(&[PROVIDER_A, INSURER_X]));
    // Its provider and the coordinating insurer of utrecht; not provider B or C, not the chair
    // of utrecht (it reads id, region and status in the list only), not insurer Y (neither
    // coordinating nor contracting), not the patient organisations, municipality or operator,
    // and not the national table before escalation.
    assert_eq!(receivers(&app, &raised, None).await, ["provider A", "insurer X"]);
    assert_eq!(receivers(&app, &raised, Some("utrecht")).await, ["provider A", "insurer X"]);
    assert!(receivers(&app, &raised, Some("amsterdam")).await.is_empty(), "another region's subscription");

    // What the provider receives: the event and the signal as it is now.
    let resp = app.deliver(&provider_a(), SIGNAL_EVENTS, json!({}), &raised).await;
    let event = &resp.data()["signalEvents"];
    assert_eq!(event["kind"], "RAISED");
    assert_eq!(event["signal"]["id"], id.as_str());
    assert_eq!(event["signal"]["offer"]["id"], OFFER_A_CRISIS.to_string());
    assert_eq!(event["signal"]["description"], "Two psychiatrists leave in March");
    assert_eq!(
        event["occurredAt"].as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()).map(|t| t.to_utc()),
        Some(raised.event.occurred_at)
    );

    // Escalated by the chair: now the national table receives it too.
    app.graphql(ESCALATE).var("id", &id).var("v", 1).as_caller(&chair()).send().await.data();
    let escalated = next_event(&bus, 2, "signalEvents").await;
    assert_eq!(escalated.event.payload["kind"], "ESCALATED");
    let audience = escalated.event.audience.clone().expect("an audience");
    assert_eq!(
        (audience.organisations, audience.kinds),
        (sorted(&[PROVIDER_A, INSURER_X]), vec!["NATIONAL_TABLE".into()])
    );
    assert_eq!(receivers(&app, &escalated, None).await, ["provider A", "insurer X", "national table"]);

    // Amsterdam's signal: provider B and insurer Y only.
    let resp = app
        .graphql(UPDATE)
        .var("id", SIGNAL_AMSTERDAM_OPEN.to_string())
        .var("v", 1)
        .as_caller(&provider_b())
        .send()
        .await;
    resp.data();
    let updated = next_event(&bus, 3, "signalEvents").await;
    assert_eq!(updated.event.scope["region"], "amsterdam");
    assert_eq!(
        updated.event.audience.as_ref().map(|a| a.organisations.clone()),
        Some(sorted(&[PROVIDER_B, INSURER_Y]))
    );
    assert_eq!(receivers(&app, &updated, None).await, ["provider B", "insurer Y"]);
    assert!(receivers(&app, &updated, Some("utrecht")).await.is_empty());
}

#[tokio::test]
async fn an_offer_status_change_reaches_every_organisation_of_the_region_subscription() {
    let bus = LocalBus::new(1000);
    let app = TestApp::spawn_with_events(bus.clone()).await;
    wait_for_events(&bus, 1).await; // the fixture's OVERDUE
    app.closure_due(OFFER_A_FACT).await;
    app.graphql(CLOSE_OFFER)
        .var("id", OFFER_A_FACT.to_string())
        .var("v", 1)
        .as_caller(&provider_a())
        .send()
        .await
        .data();
    let closed = next_event(&bus, 1, "offerStatusChanges").await;
    for (label, caller) in all_personas() {
        let resp = app.deliver(&caller, OFFER_STATUS, json!({"region": "utrecht"}), &closed).await;
        let event = &resp.data()["offerStatusChanges"];
        assert_eq!(event["previousStatus"], "CLOSING", "{label}: {:#}", resp.body);
        assert_eq!(event["status"], "CLOSED", "{label}");
        assert_eq!(event["offer"]["id"], OFFER_A_FACT.to_string(), "{label}");
        assert_eq!(event["offer"]["status"], "CLOSED", "{label}");
        let other = app.deliver(&caller, OFFER_STATUS, json!({"region": "amsterdam"}), &closed).await;
        assert_eq!(
            other.body,
            json!({"data": null, "extensions": {"ggzhubEvent": "skip"}}),
            "{label}: another region's subscription"
        );
    }
    // A signal event is not an offer status change.
    let mut wrong = closed.clone();
    wrong.event.field = "signalEvents".into();
    let resp = app.deliver(&provider_a(), OFFER_STATUS, json!({}), &wrong).await;
    assert_eq!(resp.body, json!({"data": null, "extensions": {"ggzhubEvent": "skip"}}));
}

#[tokio::test]
async fn subscriptions_without_an_event_or_with_bad_arguments_are_refused() {
    let app = TestApp::spawn().await;
    // Sent to the subgraph directly (no event): not served here (the gateway serves
    // subscriptions; the resolvers refuse too, should a request without an event reach them).
    for query in [SIGNAL_EVENTS, OFFER_STATUS] {
        let resp = app.post_raw(&provider_a(), &json!({"query": query})).await;
        let msg = resp.expect_error("BAD_USER_INPUT");
        assert!(msg.contains("not supported"), "{msg}");
        assert!(resp.body["data"].is_null(), "{:#}", resp.body);
    }
    let event = Delivered {
        seq: 1,
        event: Event {
            id: "region:1".into(),
            subgraph: "region".into(),
            field: "signalEvents".into(),
            scope: [("region".to_owned(), "utrecht".to_owned())].into(),
            audience: None,
            payload: json!({"kind": "RAISED", "signalId": SIGNAL_UTRECHT_OPEN.to_string()}),
            occurred_at: Utc::now(),
        },
    };
    // Unknown and malformed regions.
    for region in ["atlantis", "Not A Code!"] {
        for query in [SIGNAL_EVENTS, OFFER_STATUS] {
            let resp = app.deliver(&insurer_x(), query, json!({"region": region}), &event).await;
            let msg = resp.expect_error("BAD_USER_INPUT");
            assert!(msg.contains("region code"), "{msg}");
        }
    }
    // The fixture signal, delivered as an event, for its region's coordinating insurer.
    let resp = app.deliver(&insurer_x(), SIGNAL_EVENTS, json!({"region": "utrecht"}), &event).await;
    assert_eq!(resp.data()["signalEvents"]["signal"]["id"], SIGNAL_UTRECHT_OPEN.to_string());
    // An event that is not a `Delivered`: refused by the subgraph's endpoint.
    let body = json!({"query": SIGNAL_EVENTS, "extensions": {"ggzhubEvent": {"seq": "one"}}});
    let resp = app.post_raw(&insurer_x(), &body).await;
    assert_eq!(resp.status, 400, "{:#}", resp.body);
    resp.expect_error("BAD_USER_INPUT");
    // A caller without picture:read is refused, not silently skipped.
    let reader_less = TestCaller::new(ggzhub_kit::OrgKind::Insurer, INSURER_X, &["utrecht"]).with_scopes(&[]);
    let resp = app.deliver(&reader_less, SIGNAL_EVENTS, json!({}), &event).await;
    resp.expect_error("FORBIDDEN");
}

#[tokio::test]
async fn a_signal_becomes_overdue_once_however_many_sweeps_race() {
    let app = TestApp::spawn().await;
    let db = app.db.db.clone();
    let sweeps: Vec<_> = (0..4)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move { ggzhub_region::events::sweep_overdue(&db, None).await.expect("sweeps") })
        })
        .collect();
    let mut made = 0;
    for s in sweeps {
        made += s.await.expect("joins");
    }
    assert_eq!(made, 1, "one signal is past its deadline and open");
    assert_eq!(ggzhub_region::events::sweep_overdue(&db, None).await.expect("sweeps"), 0, "and only once");
    let rows = app.outbox().await;
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(rows[0].payload, json!({"kind": "OVERDUE", "signalId": SIGNAL_UTRECHT_OPEN.to_string()}));

    // Not a change by an organisation: the version stays, `overdue` keeps its meaning, and the
    // coordinating insurer acknowledges with the version it read.
    let signal = app.signal_as(&insurer_x(), SIGNAL_UTRECHT_OPEN).await;
    assert_eq!(signal["version"], 1);
    let q = "query { continuitySignals(region: \"utrecht\", status: OPEN) { nodes { id overdue } } }";
    let resp = app.graphql(q).as_caller(&insurer_x()).send().await;
    assert_eq!(resp.data()["continuitySignals"]["nodes"][0]["overdue"], true);
    let resp = app
        .graphql(ACKNOWLEDGE)
        .var("id", SIGNAL_UTRECHT_OPEN.to_string())
        .var("v", 1)
        .var("r", "Late, but on it")
        .as_caller(&insurer_x())
        .send()
        .await;
    assert_eq!(resp.data()["acknowledgeContinuitySignal"]["status"], "ACKNOWLEDGED");

    // A signal acknowledged before its deadline passes never becomes overdue.
    let fresh = raise(&app, OFFER_A_CRISIS).await;
    app.graphql(ACKNOWLEDGE).var("id", &fresh).var("v", 1).as_caller(&insurer_x()).send().await.data();
    let backend = db.get_database_backend();
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        match backend {
            sea_orm::DatabaseBackend::Postgres => {
                "UPDATE continuity_signals SET acknowledgement_deadline = raised_at WHERE id = $1"
            }
            _ => "UPDATE continuity_signals SET acknowledgement_deadline = raised_at WHERE id = ?",
        },
        [fresh.clone().into()],
    ))
    .await
    .expect("moves the deadline into the past");
    assert_eq!(ggzhub_region::events::sweep_overdue(&db, None).await.expect("sweeps"), 0);
    assert_eq!(signal_kinds(&app.outbox().await), ["OVERDUE", "ACKNOWLEDGED", "RAISED", "ACKNOWLEDGED"]);
}

#[tokio::test]
async fn the_acknowledgement_carries_the_insurers_response_to_those_who_read_the_signal() {
    let app = TestApp::spawn().await;
    let id = SIGNAL_UTRECHT_OPEN.to_string();
    let long = "x".repeat(501);
    let resp = app.graphql(ACKNOWLEDGE).var("id", &id).var("v", 1).var("r", &long).as_caller(&insurer_x()).send().await;
    assert_refused(&resp, "acknowledgeContinuitySignal", "BAD_USER_INPUT");
    let resp = app
        .graphql(ACKNOWLEDGE)
        .var("id", &id)
        .var("v", 1)
        .var("r", "  Extra crisis beds from the neighbouring region this month  ")
        .as_caller(&insurer_x())
        .send()
        .await;
    assert_eq!(
        resp.data()["acknowledgeContinuitySignal"]["response"],
        "Extra crisis beds from the neighbouring region this month"
    );
    let q = "query { continuitySignals(region: \"utrecht\", first: 100) { nodes { id response } } }";
    for who in [provider_a(), insurer_x()] {
        let resp = app.graphql(q).as_caller(&who).send().await;
        let node = resp.data()["continuitySignals"]["nodes"]
            .as_array()
            .and_then(|n| n.iter().find(|n| n["id"] == id.as_str()).cloned())
            .expect("listed");
        assert_eq!(node["response"], "Extra crisis beds from the neighbouring region this month");
    }
    // The chair lists the signal without its content: the response is withheld.
    let resp = app.graphql(q).as_caller(&chair()).send().await;
    let nodes = resp.body["data"]["continuitySignals"]["nodes"].as_array().cloned().unwrap_or_default();
    let i = nodes.iter().position(|n| n["id"] == id.as_str()).expect("listed for the chair");
    assert!(nodes[i]["response"].is_null());
    assert_eq!(
        resp.error_code_at(&["continuitySignals", "nodes", &i.to_string(), "response"]).as_deref(),
        Some("FORBIDDEN")
    );
}

#[tokio::test]
async fn replicas_on_one_database_publish_each_event_once_and_one_overdue() {
    let bus = LocalBus::new(1000);
    let app = TestApp::spawn_with_events(bus.clone()).await;
    // Two more replicas of the region subgraph on the same database: each relays the outbox and
    // sweeps deadlines at start, racing the first.
    let events = ggzhub_region::app::Events { bus: bus.clone(), sweep_every: Duration::from_secs(3600) };
    let replicas =
        [ggzhub_region::app::start_events(&app.db.db, &events), ggzhub_region::app::start_events(&app.db.db, &events)];
    let id = raise(&app, OFFER_A_CRISIS).await;
    for outbox in &replicas {
        outbox.committed();
    }
    app.graphql(UPDATE).var("id", &id).var("v", 1).as_caller(&provider_a()).send().await.data();
    for outbox in &replicas {
        outbox.committed();
    }
    wait_for_events(&bus, 3).await;
    wait_all_published(&app).await;
    // Give the other relays the time to publish their copies too.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let events = bus.replay(0).await.expect("replay");
    // The sweeps may run before or after the raise; the changes keep their order.
    let kinds: Vec<&str> = events.iter().map(|d| d.event.payload["kind"].as_str().unwrap_or_default()).collect();
    let changes: Vec<&str> = kinds.iter().copied().filter(|k| *k != "OVERDUE").collect();
    assert_eq!(changes, ["RAISED", "UPDATED"], "each event once, in order: {events:#?}");
    assert_eq!(kinds.iter().filter(|k| **k == "OVERDUE").count(), 1, "one overdue event: {events:#?}");
    let mut rows = signal_kinds(&app.outbox().await);
    rows.sort();
    assert_eq!(rows, ["OVERDUE", "RAISED", "UPDATED"], "one OVERDUE row");
}
