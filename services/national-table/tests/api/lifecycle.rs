//! The escalation lifecycle: SUBMITTED → IN_DISCUSSION → MEASURE_AGREED → RESOLVED, or DECLINED
//! with a reason; only the national table moves it, illegal moves are `BAD_USER_INPUT` and
//! change nothing, every move is recorded (from, to, by, at) in order.

use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn escalation_moves_from_submitted_to_resolved() {
    let app = TestApp::spawn().await;
    let id = app.raise().await;
    let v = app.transition_ok(&id, 1, json!({"to": "IN_DISCUSSION", "note": "On the agenda of 12 March"})).await;
    assert_eq!(v, 2);
    assert!(app.escalation(&id).await["decidedAt"].is_null(), "not decided while in discussion");
    let measure = app.add_measure(&id, "2027-06-30").await;
    assert_eq!(measure["status"], "PLANNED");
    let resp = app.transition(&id, v, json!({"to": "MEASURE_AGREED", "publicSummary": PUBLIC_SUMMARY})).await;
    let agreed = &resp.data()["transitionEscalation"];
    assert_eq!(agreed["status"], "MEASURE_AGREED");
    assert_eq!(agreed["version"], 3);
    assert_eq!(agreed["publicSummary"], PUBLIC_SUMMARY);
    let decided_at = agreed["decidedAt"].as_str().expect("decidedAt is set when decided").to_owned();
    let v = app.transition_ok(&id, 3, json!({"to": "RESOLVED"})).await;
    assert_eq!(v, 4);

    let e = app.escalation(&id).await;
    assert_eq!(e["status"], "RESOLVED");
    assert_eq!(e["decidedAt"], decided_at.as_str(), "resolving does not move the decision date");
    assert_eq!(e["publicSummary"], PUBLIC_SUMMARY, "the summary stays when none is given on RESOLVED");
    let moves: Vec<(String, String)> = e["transitions"]
        .as_array()
        .expect("transitions")
        .iter()
        .map(|t| (t["from"].as_str().unwrap_or("").to_owned(), t["to"].as_str().unwrap_or("").to_owned()))
        .collect();
    assert_eq!(
        moves,
        [("SUBMITTED", "IN_DISCUSSION"), ("IN_DISCUSSION", "MEASURE_AGREED"), ("MEASURE_AGREED", "RESOLVED")]
            .map(|(f, t)| (f.to_owned(), t.to_owned()))
    );
    let transitions = e["transitions"].as_array().expect("transitions");
    for t in transitions {
        assert_eq!(t["by"]["id"], NATIONAL_TABLE.to_string());
    }
    assert_eq!(transitions[0]["note"], "On the agenda of 12 March");
    let times: Vec<&str> = transitions.iter().map(|t| t["at"].as_str().expect("at")).collect();
    let parsed: Vec<chrono::DateTime<chrono::Utc>> = times.iter().map(|t| t.parse().expect("RFC 3339")).collect();
    assert!(parsed.windows(2).all(|w| w[0] <= w[1]), "transitions oldest first: {times:?}");
    assert_eq!(times[1], decided_at, "decidedAt is the time of the deciding move");
}

#[tokio::test]
async fn escalation_can_be_declined_from_submitted_with_a_reason() {
    let app = TestApp::spawn().await;
    let id = app.raise().await;
    let resp = app
        .transition(
            &id,
            1,
            json!({"to": "DECLINED", "publicSummary": "Not taken up.", "declineReason": DECLINE_REASON}),
        )
        .await;
    let e = &resp.data()["transitionEscalation"];
    assert_eq!(e["status"], "DECLINED");
    assert_eq!(e["declineReason"], DECLINE_REASON);
    assert!(e["decidedAt"].is_string());
    assert_eq!(e["transitions"].as_array().map(Vec::len), Some(1));
    assert_eq!(e["transitions"][0]["from"], "SUBMITTED");
    assert_eq!(e["transitions"][0]["to"], "DECLINED");
}

#[tokio::test]
async fn escalation_can_be_declined_from_in_discussion_with_a_reason() {
    let app = TestApp::spawn().await;
    let (id, v) = app.escalation_in_discussion().await;
    let v = app
        .transition_ok(
            &id,
            v,
            json!({"to": "DECLINED", "publicSummary": "Not taken up.", "declineReason": DECLINE_REASON}),
        )
        .await;
    assert_eq!(v, 3);
    let e = app.escalation(&id).await;
    assert_eq!(e["declineReason"], DECLINE_REASON);
    assert!(e["decidedAt"].is_string());
    // Outsiders see that it was declined, and the summary, but not the reason.
    let resp = app.graphql(ESCALATION_FULL).var("id", &id).as_caller(&patient_org()).send().await;
    assert_eq!(resp.body["data"]["escalation"]["status"], "DECLINED");
    assert_eq!(resp.body["data"]["escalation"]["publicSummary"], "Not taken up.");
    assert_field_forbidden(&resp, &["escalation", "declineReason"]);
}

/// Asserts the move is refused with `BAD_USER_INPUT` and the escalation is left as it was.
async fn assert_illegal(app: &TestApp, id: &str, version: i64, input: Value) {
    let before = app.escalation(id).await;
    let audit_before = app.audit_entries().await.len();
    let resp = app.transition(id, version, input.clone()).await;
    assert_eq!(
        resp.error_code_at(&["transitionEscalation"]).as_deref(),
        Some("BAD_USER_INPUT"),
        "{input}: {:#}",
        resp.body
    );
    assert!(resp.body["data"]["transitionEscalation"].is_null());
    assert_eq!(app.escalation(id).await, before, "{input} changed the escalation");
    assert_eq!(app.audit_entries().await.len(), audit_before, "{input} wrote an audit entry");
}

#[tokio::test]
async fn illegal_moves_from_submitted_are_bad_user_input() {
    let app = TestApp::spawn().await;
    let id = app.raise().await;
    for to in ["RESOLVED", "MEASURE_AGREED", "SUBMITTED"] {
        assert_illegal(&app, &id, 1, json!({"to": to, "publicSummary": PUBLIC_SUMMARY})).await;
    }
}

#[tokio::test]
async fn resolved_escalation_moves_nowhere() {
    let app = TestApp::spawn().await;
    let (id, v) = app.decided_escalation().await;
    let v = app.transition_ok(&id, v, json!({"to": "RESOLVED"})).await;
    for to in ["SUBMITTED", "IN_DISCUSSION", "MEASURE_AGREED", "RESOLVED"] {
        assert_illegal(&app, &id, v, json!({"to": to, "publicSummary": PUBLIC_SUMMARY})).await;
    }
    assert_illegal(
        &app,
        &id,
        v,
        json!({"to": "DECLINED", "publicSummary": PUBLIC_SUMMARY, "declineReason": DECLINE_REASON}),
    )
    .await;
}

#[tokio::test]
async fn declined_escalation_cannot_be_reopened() {
    let app = TestApp::spawn().await;
    let id = app.raise().await;
    let v = app
        .transition_ok(
            &id,
            1,
            json!({"to": "DECLINED", "publicSummary": "Not taken up.", "declineReason": DECLINE_REASON}),
        )
        .await;
    for to in ["IN_DISCUSSION", "SUBMITTED", "MEASURE_AGREED", "RESOLVED"] {
        assert_illegal(&app, &id, v, json!({"to": to, "publicSummary": PUBLIC_SUMMARY})).await;
    }
}

#[tokio::test]
async fn measure_agreed_needs_a_measure() {
    let app = TestApp::spawn().await;
    let (id, v) = app.escalation_in_discussion().await;
    assert_illegal(&app, &id, v, json!({"to": "MEASURE_AGREED", "publicSummary": PUBLIC_SUMMARY})).await;
    app.add_measure(&id, "2027-06-30").await;
    app.transition_ok(&id, v, json!({"to": "MEASURE_AGREED", "publicSummary": PUBLIC_SUMMARY})).await;
}

#[tokio::test]
async fn measure_agreed_needs_a_public_summary() {
    let app = TestApp::spawn().await;
    let (id, v) = app.escalation_in_discussion().await;
    app.add_measure(&id, "2027-06-30").await;
    assert_illegal(&app, &id, v, json!({"to": "MEASURE_AGREED"})).await;
    assert_illegal(&app, &id, v, json!({"to": "MEASURE_AGREED", "publicSummary": "   "})).await;
}

#[tokio::test]
async fn declining_needs_a_reason_and_a_summary() {
    let app = TestApp::spawn().await;
    let (id, v) = app.escalation_in_discussion().await;
    assert_illegal(&app, &id, v, json!({"to": "DECLINED", "publicSummary": "Not taken up."})).await;
    assert_illegal(&app, &id, v, json!({"to": "DECLINED", "publicSummary": "Not taken up.", "declineReason": " "}))
        .await;
    assert_illegal(&app, &id, v, json!({"to": "DECLINED", "declineReason": DECLINE_REASON})).await;
    // A reason belongs to a decline only.
    app.add_measure(&id, "2027-06-30").await;
    assert_illegal(
        &app,
        &id,
        v,
        json!({"to": "MEASURE_AGREED", "publicSummary": PUBLIC_SUMMARY, "declineReason": DECLINE_REASON}),
    )
    .await;
}

#[tokio::test]
async fn only_the_national_table_moves_an_escalation() {
    let app = TestApp::spawn().await;
    let id = app.raise().await;
    for (who, caller) in non_national_writers() {
        let resp = app
            .graphql(TRANSITION)
            .var("id", &id)
            .var("v", 1)
            .var("input", json!({"to": "IN_DISCUSSION"}))
            .as_caller(&caller)
            .send()
            .await;
        assert_eq!(
            resp.error_code_at(&["transitionEscalation"]).as_deref(),
            Some("FORBIDDEN"),
            "{who}: {:#}",
            resp.body
        );
    }
    let e = app.escalation(&id).await;
    assert_eq!(e["status"], "SUBMITTED");
    assert_eq!(e["version"], 1);
    assert_eq!(e["transitions"], json!([]));
}

#[tokio::test]
async fn moving_an_unknown_escalation_is_not_found() {
    let app = TestApp::spawn().await;
    let resp = app.transition(&uuid::Uuid::now_v7().to_string(), 1, json!({"to": "IN_DISCUSSION"})).await;
    assert_refused(&resp, "transitionEscalation", "NOT_FOUND");
}

#[tokio::test]
async fn every_successful_move_is_audited() {
    let app = TestApp::spawn().await;
    let (id, v) = app.decided_escalation().await;
    app.transition_ok(&id, v, json!({"to": "RESOLVED"})).await;
    let entries = app.audit_entries().await;
    let actions: Vec<(&str, &str)> = entries.iter().map(|e| (e.entity.as_str(), e.action.as_str())).collect();
    assert_eq!(
        actions,
        [
            ("Escalation", "raise"),
            ("Escalation", "transition"),
            ("Measure", "create"),
            ("Escalation", "transition"),
            ("Escalation", "transition"),
        ]
    );
    let moves: Vec<&serde_json::Value> =
        entries.iter().filter(|e| e.action == "transition").map(|e| &e.change).collect();
    assert_eq!(moves[2], &json!({"from": "MEASURE_AGREED", "to": "RESOLVED"}));
    assert_eq!(entries[0].org, PROVIDER_A.to_string(), "the chair raised it");
    assert!(entries[1..].iter().all(|e| e.org == NATIONAL_TABLE.to_string()));
    assert!(entries.iter().filter(|e| e.entity == "Escalation").all(|e| e.entity_id == id));
}
