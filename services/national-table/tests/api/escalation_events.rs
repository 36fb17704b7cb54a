//! Escalation events (issue 19): each change of an escalation writes its event to the outbox in
//! the same transaction (and none for a refused change), and the `escalationEvents`
//! subscription, resolved for one delivered event as the gateway asks, answers the event to the
//! organisations that may read the escalation and `{"data": null}` to everyone else.

use chrono::Utc;
use ggzhub_kit::events::{Delivered, Event};
use serde_json::{Value, json};

use crate::helpers::*;

const SUBSCRIBE: &str = r#"subscription($region: ID) { escalationEvents(region: $region) {
    kind occurredAt escalation { id regionCode status publicSummary } } }"#;

const SUBSCRIBE_FULL: &str = r#"subscription { escalationEvents { kind escalation { id problem urgency } } }"#;

/// The event the outbox relay publishes for an escalation of utrecht.
fn delivered(kind: &str, escalation: &str) -> Delivered {
    Delivered {
        seq: 42,
        event: Event {
            id: "national-table:1".into(),
            subgraph: "national-table".into(),
            field: "escalationEvents".into(),
            scope: [("region".to_owned(), "utrecht".to_owned())].into(),
            audience: None,
            payload: json!({"kind": kind, "escalationId": escalation}),
            occurred_at: Utc::now(),
        },
    }
}

fn payloads(rows: &[Value]) -> Vec<Value> {
    rows.iter().map(|r| r["payload"].clone()).collect()
}

#[tokio::test]
async fn every_escalation_change_writes_its_event_with_the_change() {
    let app = TestApp::spawn().await;
    let id = app.raise().await;
    let rows = app.outbox().await;
    assert_eq!(payloads(&rows), vec![json!({"kind": "OPENED", "escalationId": id})]);
    assert_eq!(rows[0]["field"], "escalationEvents");
    assert_eq!(rows[0]["scope"], json!({"region": "utrecht"}));
    assert_eq!(rows[0]["published"], false, "no relay runs without a bus: the row waits");

    // A refused change writes nothing: the event commits with its change or not at all.
    let refused = app.transition(&id, 1, json!({"to": "RESOLVED"})).await;
    assert_eq!(refused.error_codes(), vec!["BAD_USER_INPUT".to_owned()], "{:#}", refused.body);
    assert_eq!(app.outbox().await.len(), 1);

    let v = app.transition_ok(&id, 1, json!({"to": "IN_DISCUSSION"})).await;
    app.add_measure(&id, "2027-06-30").await;
    let v = app.transition_ok(&id, v, json!({"to": "MEASURE_AGREED", "publicSummary": PUBLIC_SUMMARY})).await;
    app.transition_ok(&id, v, json!({"to": "RESOLVED"})).await;
    let kinds: Vec<Value> = payloads(&app.outbox().await).iter().map(|p| p["kind"].clone()).collect();
    assert_eq!(kinds, vec![json!("OPENED"), json!("UPDATED"), json!("UPDATED"), json!("DECIDED"), json!("CLOSED")]);
}

#[tokio::test]
async fn a_change_and_its_event_reach_the_bus_once_committed() {
    let bus = ggzhub_kit::events::LocalBus::new(100);
    let app = TestApp::spawn_with_bus(bus.clone()).await;
    let id = app.raise().await;
    let decline = json!({"to": "DECLINED", "publicSummary": PUBLIC_SUMMARY, "declineReason": DECLINE_REASON});
    app.transition_ok(&id, 1, decline).await;
    wait_until("both events are published", || async {
        ggzhub_kit::events::EventBus::replay(bus.as_ref(), 0)
            .await
            .expect("replay")
            .iter()
            .filter(|d| d.event.subgraph == "national-table")
            .count()
            == 2
    })
    .await;
    let published: Vec<Value> = ggzhub_kit::events::EventBus::replay(bus.as_ref(), 0)
        .await
        .expect("replay")
        .iter()
        .map(|d| d.event.payload.clone())
        .collect();
    assert_eq!(
        published,
        vec![json!({"kind": "OPENED", "escalationId": id}), json!({"kind": "DECIDED", "escalationId": id})]
    );
    wait_until("the outbox rows are marked published", || async {
        app.outbox().await.iter().all(|r| r["published"] == true)
    })
    .await;
}

#[tokio::test]
async fn an_undecided_escalations_event_reaches_its_region_and_the_national_table_only() {
    let app = TestApp::spawn().await;
    let id = app.raise().await;
    let event = delivered("OPENED", &id);
    for (who, caller) in [
        ("provider A", provider_a()),
        ("insurer X", insurer_x()),
        ("chair", chair()),
        ("national table", national_table()),
    ] {
        let resp = app.deliver(&caller, SUBSCRIBE, json!({}), &event).await;
        assert_eq!(resp.status, 200, "{who}: {:#}", resp.body);
        let e = &resp.data()["escalationEvents"];
        assert_eq!(e["kind"], "OPENED", "{who}: {:#}", resp.body);
        assert_eq!(e["escalation"]["id"], json!(id), "{who}");
        assert_eq!(e["escalation"]["status"], "SUBMITTED", "{who}");
        assert!(e["occurredAt"].is_string(), "{who}");
    }
    let resp = app.deliver(&insurer_x(), SUBSCRIBE_FULL, json!({}), &event).await;
    assert_eq!(resp.data()["escalationEvents"]["escalation"]["problem"], PROBLEM, "participants see it all");
    for (who, caller) in [
        ("provider B", provider_b()),
        ("insurer Y", insurer_y()),
        ("patient organisation", patient_org()),
        ("municipality", municipality()),
        ("hub operator", operator()),
        ("provider A without picture:read", provider_a().with_scopes(&[])),
    ] {
        let resp = app.deliver(&caller, SUBSCRIBE, json!({}), &event).await;
        assert_eq!(resp.status, 200, "{who}: {:#}", resp.body);
        assert_eq!(
            resp.body,
            json!({"data": null, "extensions": {"ggzhubEvent": "skip"}}),
            "{who} does not receive it"
        );
    }
}

#[tokio::test]
async fn a_decision_reaches_everyone_but_the_operator_with_the_public_part() {
    let app = TestApp::spawn().await;
    let (id, _) = app.decided_escalation().await;
    let event = delivered("DECIDED", &id);
    for (who, caller) in [
        ("provider B", provider_b()),
        ("patient organisation", patient_org()),
        ("municipality", municipality()),
        ("insurer X", insurer_x()),
    ] {
        let resp = app.deliver(&caller, SUBSCRIBE, json!({"region": "utrecht"}), &event).await;
        let e = &resp.data()["escalationEvents"];
        assert_eq!(e["kind"], "DECIDED", "{who}: {:#}", resp.body);
        assert_eq!(e["escalation"]["publicSummary"], PUBLIC_SUMMARY, "{who}");
    }
    let resp = app.deliver(&patient_org(), SUBSCRIBE_FULL, json!({}), &event).await;
    assert_field_forbidden(&resp, &["escalationEvents", "escalation", "problem"]);
    // A later change of its measures is not theirs to learn of; the region's participants hear it.
    let updated = delivered("UPDATED", &id);
    for (who, caller) in [("provider B", provider_b()), ("patient organisation", patient_org())] {
        let resp = app.deliver(&caller, SUBSCRIBE, json!({}), &updated).await;
        assert_eq!(resp.body, json!({"data": null, "extensions": {"ggzhubEvent": "skip"}}), "{who}");
    }
    let resp = app.deliver(&provider_a(), SUBSCRIBE, json!({}), &updated).await;
    assert_eq!(resp.data()["escalationEvents"]["kind"], "UPDATED");
    let resp = app.deliver(&operator(), SUBSCRIBE, json!({}), &event).await;
    assert_eq!(resp.body, json!({"data": null, "extensions": {"ggzhubEvent": "skip"}}));
}

#[tokio::test]
async fn an_event_of_another_region_or_field_is_not_delivered() {
    let app = TestApp::spawn().await;
    let id = app.raise().await;
    let resp =
        app.deliver(&national_table(), SUBSCRIBE, json!({"region": "amsterdam"}), &delivered("OPENED", &id)).await;
    assert_eq!(resp.body, json!({"data": null, "extensions": {"ggzhubEvent": "skip"}}));
    let mut other = delivered("OPENED", &id);
    other.event.field = "signalEvents".into();
    other.event.subgraph = "region".into();
    let resp = app.deliver(&national_table(), SUBSCRIBE, json!({}), &other).await;
    assert_eq!(resp.body, json!({"data": null, "extensions": {"ggzhubEvent": "skip"}}));
    let resp = app
        .deliver(&national_table(), SUBSCRIBE, json!({}), &delivered("OPENED", &uuid::Uuid::new_v4().to_string()))
        .await;
    assert_eq!(
        resp.body,
        json!({"data": null, "extensions": {"ggzhubEvent": "skip"}}),
        "an unknown escalation is delivered to nobody"
    );
}

#[tokio::test]
async fn bad_subscription_requests_get_bad_user_input() {
    let app = TestApp::spawn().await;
    let id = app.raise().await;
    // Over plain POST, without an event: subscriptions are the gateway's.
    let resp = app.graphql(SUBSCRIBE).as_caller(&national_table()).send().await;
    assert_eq!(resp.error_codes(), vec!["BAD_USER_INPUT".to_owned()], "{:#}", resp.body);
    // A malformed region argument.
    let resp =
        app.deliver(&national_table(), SUBSCRIBE, json!({"region": "Not A Region"}), &delivered("OPENED", &id)).await;
    assert_eq!(resp.error_codes(), vec!["BAD_USER_INPUT".to_owned()], "{:#}", resp.body);
    assert!(resp.body["errors"][0]["message"].as_str().unwrap_or_default().contains("region"), "{:#}", resp.body);
    // An unknown subscription field.
    let resp = app
        .deliver(&national_table(), "subscription { signalEvents { kind } }", json!({}), &delivered("OPENED", &id))
        .await;
    assert_eq!(resp.error_codes(), vec!["BAD_USER_INPUT".to_owned()], "{:#}", resp.body);
    // An event that is not one.
    let resp = app
        .server
        .client()
        .post(app.server.url("/graphql"))
        .bearer_auth(app.server.token(&national_table()))
        .json(&json!({"query": SUBSCRIBE, "extensions": {"ggzhubEvent": {"seq": "first"}}}))
        .send()
        .await
        .expect("reaches the server");
    assert_eq!(resp.status().as_u16(), 400);
    let body: Value = resp.json().await.expect("JSON");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body:#}");
}

#[tokio::test]
async fn a_signals_escalation_is_answered_by_the_national_table_as_the_access_matrix_says() {
    let app = TestApp::spawn().await;
    let signal = "0190a3c4-0000-7000-8000-0000000000aa";
    let id = app.insert_escalation("utrecht", "IN_DISCUSSION").await;
    {
        use sea_orm::{ActiveModelTrait as _, ActiveValue::Set};
        ggzhub_national_table::entity::escalation::ActiveModel {
            id: Set(id.clone()),
            signal_id: Set(Some(signal.to_owned())),
            ..Default::default()
        }
        .update(app.conn())
        .await
        .expect("linked");
    }
    const SIGNAL_ENTITIES: &str = r#"query($r: [_Any!]!) { _entities(representations: $r) {
        ... on ContinuitySignal { id escalation { id status } } } }"#;
    let rep = |id: &str| json!({"__typename": "ContinuitySignal", "id": id});
    let unlinked = "0190a3c4-0000-7000-8000-0000000000bb";
    for (who, caller) in [("insurer X", insurer_x()), ("national table", national_table())] {
        let resp =
            app.graphql(SIGNAL_ENTITIES).var("r", json!([rep(signal), rep(unlinked)])).as_caller(&caller).send().await;
        assert_eq!(
            resp.data()["_entities"],
            json!([{"id": signal, "escalation": {"id": id, "status": "IN_DISCUSSION"}}, {"id": unlinked, "escalation": null}]),
            "{who}"
        );
    }
    for (who, caller) in [("provider B", provider_b()), ("patient organisation", patient_org())] {
        let resp = app.graphql(SIGNAL_ENTITIES).var("r", json!([rep(signal)])).as_caller(&caller).send().await;
        assert_eq!(
            resp.data()["_entities"],
            json!([{"id": signal, "escalation": null}]),
            "{who} sees no undecided escalation"
        );
        assert!(resp.body.get("errors").is_none(), "{who}: {:#}", resp.body);
    }
    let resp = app.graphql(SIGNAL_ENTITIES).var("r", json!([rep(signal)])).as_caller(&operator()).send().await;
    assert_eq!(resp.body["data"]["_entities"], json!([null]));
    assert_eq!(entity_error_codes(&resp, None), ["FORBIDDEN"], "{:#}", resp.body);
    let resp =
        app.graphql(SIGNAL_ENTITIES).var("r", json!([rep("not-an-id")])).as_caller(&national_table()).send().await;
    assert_eq!(resp.body["data"]["_entities"], json!([null]));
    assert_eq!(entity_error_codes(&resp, None), ["BAD_USER_INPUT"], "{:#}", resp.body);
    // Escalation.signal is for the region's participants and the national table.
    let resp = app
        .graphql("query($id: ID!) { escalation(id: $id) { signal { id } } }")
        .var("id", &id)
        .as_caller(&insurer_x())
        .send()
        .await;
    assert_eq!(resp.data()["escalation"]["signal"], json!({"id": signal}));
}
