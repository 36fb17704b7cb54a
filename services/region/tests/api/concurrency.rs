//! Optimistic concurrency: a change names the version it expects; a stale one gets `CONFLICT`
//! and changes nothing, a current one bumps the version by exactly one.

use ggzhub_kit::testing::TestCaller;
use serde_json::json;

use crate::helpers::*;

const UPDATE_OFFER: &str = r#"mutation($id: ID!, $v: Int!, $input: UpdateCareOfferInput!) {
    updateCareOffer(id: $id, expectedVersion: $v, input: $input) { unitName version } }"#;

#[tokio::test]
async fn stale_expected_version_gets_conflict_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let before = app.offer(OFFER_A_CRISIS).await;
    let audit_before = app.audit_count().await;
    for stale in [0, 2, 99] {
        let resp = app
            .graphql(UPDATE_OFFER)
            .var("id", OFFER_A_CRISIS)
            .var("v", stale)
            .var("input", json!({"unitName": "Lost update"}))
            .as_caller(&provider_a())
            .send()
            .await;
        assert_refused(&resp, "updateCareOffer", "CONFLICT");
    }
    assert_eq!(app.offer(OFFER_A_CRISIS).await, before);
    assert_eq!(app.audit_count().await, audit_before);
}

#[tokio::test]
async fn correct_version_increments_version_by_one() {
    let app = TestApp::spawn().await;
    for (expected, name) in [(1, "First"), (2, "Second"), (3, "Third")] {
        let resp = app
            .graphql(UPDATE_OFFER)
            .var("id", OFFER_A_CRISIS)
            .var("v", expected)
            .var("input", json!({"unitName": name}))
            .as_caller(&provider_a())
            .send()
            .await;
        assert_eq!(resp.data()["updateCareOffer"], json!({"unitName": name, "version": expected + 1}));
    }
    // The first writer's version is now stale.
    let resp = app
        .graphql(UPDATE_OFFER)
        .var("id", OFFER_A_CRISIS)
        .var("v", 1)
        .var("input", json!({"unitName": "Late"}))
        .as_caller(&provider_a())
        .send()
        .await;
    assert_refused(&resp, "updateCareOffer", "CONFLICT");
    assert_eq!(app.offer(OFFER_A_CRISIS).await["unitName"], "Third");
    assert_eq!(app.audit_log(&provider_a()).await.len(), 3);
}

#[tokio::test]
async fn updated_by_and_updated_at_follow_the_change() {
    let app = TestApp::spawn().await;
    let resp = app
        .graphql(
            r#"mutation($id: ID!) { setIntakePause(offerId: $id, expectedVersion: 1, pause: {from: "2026-05-01", reason: "Summer"}) {
                meta { createdBy updatedBy createdAt updatedAt } } }"#,
        )
        .var("id", OFFER_A_CRISIS)
        .as_caller(&provider_a())
        .send()
        .await;
    let meta = &resp.data()["setIntakePause"]["meta"];
    assert_eq!(meta["updatedBy"], PROVIDER_A.to_string());
    assert!(meta["updatedAt"].as_str() >= meta["createdAt"].as_str());
}

#[tokio::test]
async fn stale_versions_conflict_on_every_kind_of_record() {
    let app = TestApp::spawn().await;
    let cases = [
        (
            operator(),
            r#"mutation { updateRegion(code: "utrecht", expectedVersion: 5, input: {name: "X"}) { version } }"#,
            "updateRegion",
        ),
        (
            operator(),
            &format!(
                r#"mutation {{ updateOrganisation(id: "{PROVIDER_A}", expectedVersion: 5, input: {{name: "X"}}) {{ version }} }}"#
            ),
            "updateOrganisation",
        ),
        (
            insurer_x(),
            &format!(
                r#"mutation {{ acknowledgeContinuitySignal(id: "{SIGNAL_UTRECHT_OPEN}", expectedVersion: 5) {{ version }} }}"#
            ),
            "acknowledgeContinuitySignal",
        ),
        (
            chair(),
            &format!(
                r#"mutation {{ publishRegionalOverview(id: "{OVERVIEW_DRAFT}", expectedVersion: 5) {{ version }} }}"#
            ),
            "publishRegionalOverview",
        ),
        (
            provider_a(),
            &format!(
                r#"mutation {{ correctWaitingTime(id: "{WAIT_WITHIN_NORM}", expectedVersion: 5,
                input: {{registrationToIntakeWeeks: 1, intakeToTreatmentWeeks: 1, waitingCount: 1}}) {{ version }} }}"#
            ),
            "correctWaitingTime",
        ),
        (
            patient_org(),
            &format!(
                r#"mutation {{ updatePatientInput(id: "{INPUT_PATIENT_ORG}", expectedVersion: 5, text: "X") {{ version }} }}"#
            ),
            "updatePatientInput",
        ),
    ];
    let before = app.audit_count().await;
    for (caller, query, field) in cases {
        let resp = app.graphql(query).as_caller(&caller).send().await;
        assert_refused(&resp, field, "CONFLICT");
    }
    assert_eq!(app.audit_count().await, before);
    assert_eq!(app.overview(OVERVIEW_DRAFT).await["status"], "DRAFT");
}

/// Sends the same creating mutation `n` times at once; exactly one must win and every loser
/// must read `CONFLICT` or `BAD_USER_INPUT` (never `INTERNAL`, e.g. from a unique index).
async fn assert_one_winner(app: &TestApp, caller: &TestCaller, query: &str, field: &str, loser_code: &str) {
    let responses = app.send_concurrently(caller, query, json!({}), 8).await;
    let winners = responses.iter().filter(|r| r.body["data"][field].is_object()).count();
    let mut codes: Vec<String> = responses.iter().flat_map(|r| r.error_codes()).collect();
    codes.sort();
    assert_eq!(winners, 1, "{field}: {codes:?}");
    assert_eq!(codes, vec![loser_code.to_owned(); 7], "{field}: a lost race must not surface as INTERNAL");
}

#[tokio::test]
async fn concurrent_duplicate_waiting_time_reports_conflict_instead_of_failing_internally() {
    let app = TestApp::spawn().await;
    let query = format!(
        r#"mutation {{ reportWaitingTime(input: {{providerId: "{PROVIDER_A}", regionCode: "utrecht", location: "Amersfoort",
            diagnosisGroup: "DEPRESSION", month: "2026-03", registrationToIntakeWeeks: 3, intakeToTreatmentWeeks: 5,
            waitingCount: 12}}) {{ id }} }}"#
    );
    assert_one_winner(&app, &provider_a(), &query, "reportWaitingTime", "CONFLICT").await;
}

#[tokio::test]
async fn concurrent_duplicate_overviews_conflict_instead_of_failing_internally() {
    let app = TestApp::spawn().await;
    let query = r#"mutation { createRegionalOverview(regionCode: "utrecht", year: 2027) { id } }"#;
    assert_one_winner(&app, &provider_a(), query, "createRegionalOverview", "CONFLICT").await;
}

#[tokio::test]
async fn concurrent_duplicate_regions_are_bad_user_input_instead_of_failing_internally() {
    let app = TestApp::spawn().await;
    let query =
        r#"mutation { createRegion(input: {code: "zwolle", name: "Zwolle", kind: IZA, neighbours: []}) { code } }"#;
    assert_one_winner(&app, &operator(), query, "createRegion", "BAD_USER_INPUT").await;
}
