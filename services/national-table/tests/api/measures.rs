//! Measures: agreed actions on an escalation, added and changed by the national table only,
//! with an owner organisation known to the region subgraph; an open measure past its due date
//! is flagged overdue.

use ggzhub_national_table::entity::measure;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn national_table_adds_a_measure_to_an_escalation_in_discussion() {
    let app = TestApp::spawn().await;
    let (id, _) = app.escalation_in_discussion().await;
    let m = app.add_measure(&id, "2027-06-30").await;
    assert_eq!(m["escalationId"], id.as_str());
    assert_eq!(m["title"], "Shared crisis bed pool");
    assert_eq!(m["status"], "PLANNED");
    assert_eq!(m["dueDate"], "2027-06-30");
    assert_eq!(m["overdue"], false);
    assert_eq!(m["owner"]["id"], PROVIDER_A.to_string());
    assert_eq!(m["version"], 1);
    let e = app.escalation(&id).await;
    assert_eq!(
        e["measures"],
        json!([{
            "id": m["id"], "title": "Shared crisis bed pool", "status": "PLANNED", "dueDate": "2027-06-30",
            "overdue": false, "owner": {"id": PROVIDER_A.to_string()}, "version": 1
        }])
    );
}

#[tokio::test]
async fn measures_are_added_while_in_discussion_or_agreed_only() {
    let app = TestApp::spawn().await;
    let submitted = app.raise().await;
    let resp = app
        .graphql(ADD_MEASURE)
        .var("e", &submitted)
        .var("input", measure_input(PROVIDER_A, "2027-06-30"))
        .as_caller(&national_table())
        .send()
        .await;
    assert_refused(&resp, "addMeasure", "BAD_USER_INPUT");
    // Nor on a declined one.
    let declined = app.raise().await;
    app.transition_ok(
        &declined,
        1,
        json!({"to": "DECLINED", "publicSummary": "Not taken up.", "declineReason": DECLINE_REASON}),
    )
    .await;
    let resp = app
        .graphql(ADD_MEASURE)
        .var("e", &declined)
        .var("input", measure_input(PROVIDER_A, "2027-06-30"))
        .as_caller(&national_table())
        .send()
        .await;
    assert_refused(&resp, "addMeasure", "BAD_USER_INPUT");
    // While MEASURE_AGREED a further measure may be added.
    let (agreed, _) = app.decided_escalation().await;
    app.add_measure(&agreed, "2027-12-31").await;
    assert_eq!(app.escalation(&agreed).await["measures"].as_array().map(Vec::len), Some(2));
    assert_eq!(app.count::<measure::Entity>().await, 2);
}

#[tokio::test]
async fn open_measure_past_its_due_date_is_overdue() {
    let app = TestApp::spawn().await;
    let (id, _) = app.escalation_in_discussion().await;
    let m = app.add_measure(&id, "2024-01-31").await;
    assert_eq!(m["overdue"], true, "planned and past due");
    let resp = app
        .graphql(UPDATE_MEASURE)
        .var("id", &m["id"])
        .var("v", 1)
        .var("input", json!({"status": "IN_PROGRESS"}))
        .as_caller(&national_table())
        .send()
        .await;
    let updated = &resp.data()["updateMeasure"];
    assert_eq!(updated["status"], "IN_PROGRESS");
    assert_eq!(updated["overdue"], true);
    assert_eq!(updated["version"], 2);
    assert_eq!(app.escalation(&id).await["measures"][0]["overdue"], true);
    // Done is never overdue.
    let resp = app
        .graphql(UPDATE_MEASURE)
        .var("id", &m["id"])
        .var("v", 2)
        .var("input", json!({"status": "DONE"}))
        .as_caller(&national_table())
        .send()
        .await;
    assert_eq!(resp.data()["updateMeasure"]["overdue"], false);
    // A measure due in the future is not overdue.
    let future = app.add_measure(&id, "2099-01-01").await;
    assert_eq!(future["overdue"], false);
}

#[tokio::test]
async fn national_table_updates_a_measure() {
    let app = TestApp::spawn().await;
    let (id, _) = app.escalation_in_discussion().await;
    let m = app.add_measure(&id, "2027-06-30").await;
    let resp = app
        .graphql(UPDATE_MEASURE)
        .var("id", &m["id"])
        .var("v", 1)
        .var("input", json!({"title": "Shared crisis bed pool (extended)", "dueDate": "2027-09-30"}))
        .as_caller(&national_table())
        .send()
        .await;
    let u = &resp.data()["updateMeasure"];
    assert_eq!(u["title"], "Shared crisis bed pool (extended)");
    assert_eq!(u["dueDate"], "2027-09-30");
    assert_eq!(u["status"], "PLANNED", "omitted fields stay");
    assert_eq!(u["version"], 2);
}

#[tokio::test]
async fn only_the_national_table_adds_or_changes_measures() {
    let app = TestApp::spawn().await;
    let (id, _) = app.escalation_in_discussion().await;
    let m = app.add_measure(&id, "2027-06-30").await;
    let audit_before = app.audit_entries().await.len();
    for (who, caller) in non_national_writers() {
        let resp = app
            .graphql(ADD_MEASURE)
            .var("e", &id)
            .var("input", measure_input(PROVIDER_A, "2027-06-30"))
            .as_caller(&caller)
            .send()
            .await;
        assert_eq!(resp.error_code_at(&["addMeasure"]).as_deref(), Some("FORBIDDEN"), "{who}: {:#}", resp.body);
        let resp = app
            .graphql(UPDATE_MEASURE)
            .var("id", &m["id"])
            .var("v", 1)
            .var("input", json!({"status": "DONE"}))
            .as_caller(&caller)
            .send()
            .await;
        assert_eq!(resp.error_code_at(&["updateMeasure"]).as_deref(), Some("FORBIDDEN"), "{who}: {:#}", resp.body);
    }
    assert_eq!(app.count::<measure::Entity>().await, 1);
    let stored = &app.escalation(&id).await["measures"][0];
    assert_eq!(stored["status"], "PLANNED");
    assert_eq!(stored["version"], 1);
    assert_eq!(app.audit_entries().await.len(), audit_before);
}

#[tokio::test]
async fn participants_read_measures_outsiders_do_not() {
    let app = TestApp::spawn().await;
    let (id, _) = app.decided_escalation().await;
    // `id` is selected too: when every selected field of an object fails, async-graphql 7.2.1
    // returns the object itself as null (resolver_utils::container), which hides the field's null.
    let query = r#"query($id: ID!) { escalation(id: $id) { id measures { title overdue } } }"#;
    for caller in [provider_a(), insurer_x(), national_table()] {
        let resp = app.graphql(query).var("id", &id).as_caller(&caller).send().await;
        assert_eq!(
            resp.data()["escalation"]["measures"],
            json!([{"title": "Shared crisis bed pool", "overdue": false}])
        );
    }
    for caller in [patient_org(), municipality(), provider_b()] {
        let resp = app.graphql(query).var("id", &id).as_caller(&caller).send().await;
        assert_field_forbidden(&resp, &["escalation", "measures"]);
        assert!(!resp.body.to_string().contains("Shared crisis bed pool"), "{:#}", resp.body);
    }
}

#[tokio::test]
async fn updating_an_unknown_measure_is_not_found() {
    let app = TestApp::spawn().await;
    let resp = app
        .graphql(UPDATE_MEASURE)
        .var("id", uuid::Uuid::now_v7())
        .var("v", 1)
        .var("input", json!({"status": "DONE"}))
        .as_caller(&national_table())
        .send()
        .await;
    assert_refused(&resp, "updateMeasure", "NOT_FOUND");
}
