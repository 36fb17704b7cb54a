//! The audit log: every successful change leaves one entry in the same transaction; a refused
//! or failed change leaves none; each organisation reads its own actions, the national table
//! and the hub operator read all.

use serde_json::json;

use crate::helpers::*;

const UPDATE_OFFER: &str = r#"mutation($id: ID!, $v: Int!, $input: UpdateCareOfferInput!) {
    updateCareOffer(id: $id, expectedVersion: $v, input: $input) { version } }"#;
const REPORT: &str = r#"mutation($input: WaitingTimeInput!) { reportWaitingTime(input: $input) { id } }"#;

async fn provider_a_updates_and_provider_b_reports(app: &TestApp) {
    let resp = app
        .graphql(UPDATE_OFFER)
        .var("id", OFFER_A_CRISIS)
        .var("v", 1)
        .var("input", json!({"unitName": "Crisisdienst Utrecht"}))
        .as_caller(&provider_a())
        .send()
        .await;
    resp.data();
    let resp = app
        .graphql(REPORT)
        .var(
            "input",
            json!({"providerId": PROVIDER_B, "regionCode": "amsterdam", "location": "Amsterdam",
                   "diagnosisGroup": "ANXIETY", "month": "2026-02", "registrationToIntakeWeeks": 2.0,
                   "intakeToTreatmentWeeks": 4.0, "waitingCount": 7}),
        )
        .as_caller(&provider_b())
        .send()
        .await;
    resp.data();
}

#[tokio::test]
async fn audit_log_shows_a_caller_only_its_own_actions() {
    let app = TestApp::spawn().await;
    provider_a_updates_and_provider_b_reports(&app).await;

    let a = app.audit_log(&provider_a()).await;
    assert_eq!(a.len(), 1, "{a:#?}");
    assert_eq!(a[0]["organisationId"], PROVIDER_A.to_string());
    assert_eq!(a[0]["entity"], "CareOffer");
    assert_eq!(a[0]["entityId"], OFFER_A_CRISIS.to_string());
    assert_eq!(a[0]["action"], "update");
    assert_eq!(a[0]["change"], json!({"unitName": "Crisisdienst Utrecht"}));

    let b = app.audit_log(&provider_b()).await;
    assert_eq!(b.len(), 1, "{b:#?}");
    assert_eq!(b[0]["organisationId"], PROVIDER_B.to_string());
    assert_eq!(b[0]["entity"], "WaitingTimeReport");

    for caller in [insurer_x(), patient_org(), municipality()] {
        assert_eq!(app.audit_log(&caller).await, Vec::<serde_json::Value>::new());
    }
}

#[tokio::test]
async fn national_table_and_operator_read_the_whole_audit_log() {
    let app = TestApp::spawn().await;
    provider_a_updates_and_provider_b_reports(&app).await;
    for caller in [national_table(), operator()] {
        let log = app.audit_log(&caller).await;
        let mut orgs: Vec<&str> = log.iter().filter_map(|e| e["organisationId"].as_str()).collect();
        orgs.sort();
        let mut expected = vec![PROVIDER_A.to_string(), PROVIDER_B.to_string()];
        expected.sort();
        assert_eq!(orgs, expected);
    }
}

#[tokio::test]
async fn each_successful_mutation_writes_one_audit_entry() {
    let app = TestApp::spawn().await;
    app.closure_due(OFFER_A_FACT).await;
    let steps: Vec<(ggzhub_kit::testing::TestCaller, &str, serde_json::Value, &str, &str)> = vec![
        (
            provider_a(),
            "mutation($id: ID!) { closeCareOffer(id: $id, expectedVersion: 1) { id } }",
            json!({"id": OFFER_A_FACT}),
            "CareOffer",
            "close",
        ),
        (
            insurer_x(),
            "mutation($id: ID!) { acknowledgeContinuitySignal(id: $id, expectedVersion: 1) { id } }",
            json!({"id": SIGNAL_UTRECHT_OPEN}),
            "ContinuitySignal",
            "acknowledged",
        ),
        (
            chair(),
            "mutation($id: ID!) { publishRegionalOverview(id: $id, expectedVersion: 1) { id } }",
            json!({"id": OVERVIEW_DRAFT}),
            "RegionalOverview",
            "publish",
        ),
        (
            patient_org(),
            r#"mutation { submitPatientInput(regionCode: "utrecht", year: 2026, text: "Input") { id } }"#,
            json!({}),
            "PatientInput",
            "create",
        ),
        (
            operator(),
            r#"mutation { createRegion(input: {code: "zwolle", name: "Zwolle", kind: IZA, neighbours: []}) { code } }"#,
            json!({}),
            "Region",
            "create",
        ),
    ];
    for (caller, query, vars, entity, action) in steps {
        let before = app.audit_log(&caller).await.len();
        let mut call = app.graphql(query);
        for (k, v) in vars.as_object().expect("object") {
            call = call.var(k, v);
        }
        call.as_caller(&caller).send().await.data();
        let log = app.audit_log(&caller).await;
        assert_eq!(log.len(), before + 1, "{entity} {action}");
        assert_eq!(log[0]["entity"], entity);
        assert_eq!(log[0]["action"], action);
        assert_eq!(log[0]["organisationId"], caller.org.to_string());
    }
}

#[tokio::test]
async fn failed_mutations_write_no_audit_entry() {
    let app = TestApp::spawn().await;
    let before = app.audit_count().await;
    // Forbidden.
    let resp = app
        .graphql(UPDATE_OFFER)
        .var("id", OFFER_A_CRISIS)
        .var("v", 1)
        .var("input", json!({"unitName": "Not yours"}))
        .as_caller(&provider_b())
        .send()
        .await;
    assert_refused(&resp, "updateCareOffer", "FORBIDDEN");
    // Stale version.
    let resp = app
        .graphql(UPDATE_OFFER)
        .var("id", OFFER_A_CRISIS)
        .var("v", 7)
        .var("input", json!({"unitName": "Stale"}))
        .as_caller(&provider_a())
        .send()
        .await;
    assert_refused(&resp, "updateCareOffer", "CONFLICT");
    // Bad input found after the transaction began.
    let resp = app
        .graphql(UPDATE_OFFER)
        .var("id", OFFER_A_CRISIS)
        .var("v", 1)
        .var("input", json!({"careForm": "FACT"}))
        .as_caller(&provider_a())
        .send()
        .await;
    assert_refused(&resp, "updateCareOffer", "BAD_USER_INPUT");
    // Not found.
    let resp = app
        .graphql("mutation($id: ID!) { acknowledgeContinuitySignal(id: $id, expectedVersion: 1) { id } }")
        .var("id", SIGNAL_UTRECHT_OPEN)
        .as_caller(&insurer_y())
        .send()
        .await;
    assert_refused(&resp, "acknowledgeContinuitySignal", "NOT_FOUND");
    assert_eq!(app.audit_count().await, before);
    assert_eq!(app.offer(OFFER_A_CRISIS).await["version"], 1);
}
