//! Rules that close leaks found in review: audit values stay with their owner, chairs see only
//! a summary of signals they may not read, every error carries a code, and references and dates
//! are checked.

use ggzhub_kit::testing::TestCaller;
use serde_json::{Value, json};

use crate::helpers::*;

const SIGNALS: &str = "query { continuitySignals(region: \"utrecht\") { nodes { id status regionCode description severity offer { id } } } }";

#[tokio::test]
async fn national_table_sees_which_fields_others_changed_but_not_the_values() {
    let app = TestApp::spawn().await;
    let update = "mutation($id: ID!) { updateCareOffer(id: $id, expectedVersion: 1, input: { capacity: { beds: 77 } }) { version } }";
    let resp = app.graphql(update).var("id", OFFER_A_CRISIS.to_string()).as_caller(&provider_a()).send().await;
    assert_eq!(resp.data()["updateCareOffer"]["version"], 2);

    let own = app.audit_log(&provider_a()).await;
    let mine = own.iter().find(|e| e["entityId"] == OFFER_A_CRISIS.to_string()).expect("own entry");
    assert_eq!(mine["change"]["capacity"]["beds"], 77, "the actor sees its own values");

    for reader in [national_table(), operator()] {
        let all = app.audit_log(&reader).await;
        let entry = all.iter().find(|e| e["entityId"] == OFFER_A_CRISIS.to_string()).expect("entry listed");
        assert_eq!(entry["change"], json!({ "fields": ["capacity"] }), "values are not shown to others");
        assert!(!entry.to_string().contains("77"));
    }
}

#[tokio::test]
async fn chair_lists_its_regions_signals_without_their_content() {
    let app = TestApp::spawn().await;
    let resp = app.graphql(SIGNALS).as_caller(&chair()).send().await;
    let nodes = resp.body["data"]["continuitySignals"]["nodes"].as_array().expect("listed").clone();
    assert!(!nodes.is_empty(), "{:#}", resp.body);
    for (i, n) in nodes.iter().enumerate() {
        assert_eq!(n["regionCode"], "utrecht");
        assert!(n["status"].is_string());
        for field in ["description", "severity", "offer"] {
            assert_eq!(n.get(field), Some(&Value::Null), "{field} hidden: {:#}", resp.body);
            let i = i.to_string();
            assert_eq!(
                resp.error_code_at(&["continuitySignals", "nodes", &i, field]).as_deref(),
                Some("FORBIDDEN"),
                "{:#}",
                resp.body
            );
        }
    }
    // Without the chair role the same provider lists nothing.
    let resp = app.graphql(SIGNALS).as_caller(&provider_c()).send().await;
    assert_eq!(resp.data()["continuitySignals"]["nodes"], json!([]));
}

#[tokio::test]
async fn escalating_chair_gets_only_a_summary_back() {
    let app = TestApp::spawn().await;
    let q = "mutation($id: ID!) { escalateContinuitySignal(id: $id, expectedVersion: 1) { id status description } }";
    let resp = app.graphql(q).var("id", SIGNAL_UTRECHT_OPEN.to_string()).as_caller(&chair()).send().await;
    assert_eq!(resp.body["data"]["escalateContinuitySignal"]["status"], "ESCALATED", "{:#}", resp.body);
    assert_eq!(resp.body["data"]["escalateContinuitySignal"]["description"], Value::Null);
    assert_eq!(resp.error_code_at(&["escalateContinuitySignal", "description"]).as_deref(), Some("FORBIDDEN"));
}

#[tokio::test]
async fn operator_without_signal_access_keeps_the_rest_of_the_region() {
    let app = TestApp::spawn().await;
    let resp = app
        .graphql("query { region(code: \"utrecht\") { code name signalCounts { open } } }")
        .as_caller(&operator())
        .send()
        .await;
    assert_eq!(resp.body["data"]["region"]["code"], "utrecht", "{:#}", resp.body);
    assert_eq!(resp.body["data"]["region"]["signalCounts"], Value::Null);
    assert_eq!(resp.error_code_at(&["region", "signalCounts"]).as_deref(), Some("FORBIDDEN"));
}

#[tokio::test]
async fn graphql_validation_errors_carry_bad_user_input() {
    let app = TestApp::spawn().await;
    for q in ["query { region(code: \"utrecht\") { nonsense } }", "query { region(code: 5) { code } }", "query {"] {
        let resp = app.graphql(q).as_caller(&provider_a()).send().await;
        let codes = resp.error_codes();
        assert!(!codes.is_empty(), "{q}");
        assert!(codes.iter().all(|c| c == "BAD_USER_INPUT"), "{q}: {:#}", resp.body);
    }
}

#[tokio::test]
async fn unregistered_provider_cannot_create_offers() {
    let app = TestApp::spawn().await;
    let ghost = TestCaller::new(ggzhub_kit::OrgKind::Provider, uuid::Uuid::from_u128(0xdead), &["utrecht"]);
    let q = r#"mutation { createCareOffer(input: { regionCode: "utrecht", category: ACUTE, careForm: "CRISIS_SERVICE",
        unitName: "Ghost team", location: "Utrecht", availability: OFFICE_HOURS }) { id } }"#;
    let resp = app.graphql(q).as_caller(&ghost).send().await;
    assert_refused(&resp, "createCareOffer", "BAD_USER_INPUT");
    assert!(resp.expect_error("BAD_USER_INPUT").contains("not registered"));
}

#[tokio::test]
async fn covered_by_neighbour_must_be_a_neighbour() {
    let app = TestApp::spawn().await;
    let q = r#"mutation($id: ID!, $n: String!) { updateRegionalOverview(id: $id, expectedVersion: 1, input: {
        assessments: [{ category: SECURE, whatWeHave: "", problems: "", missing: "Secure beds", coveredByNeighbour: $n, supraRegionalRole: "" }] }) { version } }"#;
    let resp = app
        .graphql(q)
        .var("id", OVERVIEW_DRAFT.to_string())
        .var("n", "groningen")
        .as_caller(&provider_a())
        .send()
        .await;
    assert_refused(&resp, "updateRegionalOverview", "BAD_USER_INPUT");
    assert!(resp.expect_error("BAD_USER_INPUT").contains("not a neighbour"));
}

#[tokio::test]
async fn no_signal_on_a_closed_offer_and_no_edits_after_closing() {
    let app = TestApp::spawn().await;
    let close = "mutation($id: ID!) { closeCareOffer(id: $id, expectedVersion: 1) { status version } }";
    app.closure_due(OFFER_A_CRISIS).await;
    let resp = app.graphql(close).var("id", OFFER_A_CRISIS.to_string()).as_caller(&provider_a()).send().await;
    assert_eq!(resp.data()["closeCareOffer"]["status"], "CLOSED");
    let raise = r#"mutation($id: ID!) { raiseContinuitySignal(input: { offerId: $id, kind: STAFFING, severity: HIGH, description: "Te weinig personeel" }) { id } }"#;
    let resp = app.graphql(raise).var("id", OFFER_A_CRISIS.to_string()).as_caller(&provider_a()).send().await;
    assert_refused(&resp, "raiseContinuitySignal", "BAD_USER_INPUT");
    let edit =
        "mutation($id: ID!) { updateCareOffer(id: $id, expectedVersion: 2, input: { unitName: \"Renamed\" }) { id } }";
    let resp = app.graphql(edit).var("id", OFFER_A_CRISIS.to_string()).as_caller(&provider_a()).send().await;
    assert_refused(&resp, "updateCareOffer", "BAD_USER_INPUT");
}

#[tokio::test]
async fn implausible_dates_are_bad_user_input() {
    let app = TestApp::spawn().await;
    let q = r#"mutation($id: ID!) { setIntakePause(offerId: $id, expectedVersion: 1, pause: { from: "0001-01-01", reason: "x" }) { id } }"#;
    let resp = app.graphql(q).var("id", OFFER_A_FACT.to_string()).as_caller(&provider_a()).send().await;
    assert_refused(&resp, "setIntakePause", "BAD_USER_INPUT");
}
