//! Waiting times: public by law (everyone but the hub operator reads them); a provider reports
//! only its own.

use serde_json::{Value, json};

use crate::helpers::*;

const WAITING_TIMES: &str = r#"query($only: Boolean) { waitingTimes(region: "utrecht", exceedingTreeknormOnly: $only) {
    nodes { id providerId location diagnosisGroup month registrationToIntakeWeeks intakeToTreatmentWeeks
            totalWeeks waitingCount exceedsIntakeNorm exceedsTreatmentNorm exceedsTotalNorm exceedsTreeknorm } } }"#;

const REPORT: &str = r#"mutation($input: WaitingTimeInput!) { reportWaitingTime(input: $input) {
    id providerId regionCode month totalWeeks exceedsTreeknorm exceedsTotalNorm version } }"#;

fn report(provider: uuid::Uuid) -> Value {
    json!({
        "providerId": provider, "regionCode": "utrecht", "location": "Amersfoort", "diagnosisGroup": "DEPRESSION",
        "month": "2026-02", "registrationToIntakeWeeks": 4.0, "intakeToTreatmentWeeks": 10.5, "waitingCount": 12
    })
}

async fn report_count(app: &TestApp) -> usize {
    let resp = app.graphql(WAITING_TIMES).as_caller(&national_table()).send().await;
    resp.data()["waitingTimes"]["nodes"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn waiting_times_are_readable_by_all_but_the_operator() {
    let app = TestApp::spawn().await;
    for (who, caller) in all_personas().into_iter().filter(|(w, _)| *w != "hub operator") {
        let resp = app.graphql(WAITING_TIMES).as_caller(&caller).send().await;
        assert_eq!(
            ids(&resp.data()["waitingTimes"]["nodes"]),
            id_list(&[WAIT_WITHIN_NORM, WAIT_EXCEEDING_NORM]),
            "{who}"
        );
    }
    let resp = app.graphql(WAITING_TIMES).as_caller(&operator()).send().await;
    assert_refused(&resp, "waitingTimes", "FORBIDDEN");
}

#[tokio::test]
async fn treeknorm_exceedance_is_computed() {
    let app = TestApp::spawn().await;
    let resp = app.graphql(WAITING_TIMES).var("only", true).as_caller(&patient_org()).send().await;
    let nodes = resp.data()["waitingTimes"]["nodes"].as_array().expect("nodes").clone();
    assert_eq!(nodes.len(), 1, "only the report over the norm");
    assert_eq!(
        nodes[0],
        json!({
            "id": WAIT_EXCEEDING_NORM.to_string(), "providerId": PROVIDER_A.to_string(), "location": "Zeist",
            "diagnosisGroup": "ANXIETY", "month": "2026-01", "registrationToIntakeWeeks": 6.0,
            "intakeToTreatmentWeeks": 9.0, "totalWeeks": 15.0, "waitingCount": 25, "exceedsIntakeNorm": true,
            "exceedsTreatmentNorm": false, "exceedsTotalNorm": true, "exceedsTreeknorm": true
        })
    );
}

#[tokio::test]
async fn waiting_times_filter_by_month_and_diagnosis_group() {
    let app = TestApp::spawn().await;
    let q = r#"query($m: String, $g: String) { waitingTimes(region: "utrecht", month: $m, diagnosisGroup: $g) { nodes { id } } }"#;
    let resp = app.graphql(q).var("m", "2026-01").var("g", "DEPRESSION").as_caller(&insurer_y()).send().await;
    assert_eq!(ids(&resp.data()["waitingTimes"]["nodes"]), id_list(&[WAIT_WITHIN_NORM]));
    let resp = app.graphql(q).var("m", "2025-12").as_caller(&insurer_y()).send().await;
    assert_eq!(resp.data()["waitingTimes"]["nodes"], json!([]));
}

#[tokio::test]
async fn provider_reports_own_waiting_times() {
    let app = TestApp::spawn().await;
    let resp = app.graphql(REPORT).var("input", report(PROVIDER_A)).as_caller(&provider_a()).send().await;
    let r = &resp.data()["reportWaitingTime"];
    assert_eq!(r["providerId"], PROVIDER_A.to_string());
    assert_eq!(r["regionCode"], "utrecht");
    assert_eq!(r["month"], "2026-02");
    assert_eq!(r["totalWeeks"], 14.5);
    assert_eq!(r["exceedsTotalNorm"], true);
    assert_eq!(r["exceedsTreeknorm"], true);
    assert_eq!(r["version"], 1);
    assert_eq!(report_count(&app).await, 3);
}

#[tokio::test]
async fn provider_cannot_report_waiting_times_of_another_provider() {
    let app = TestApp::spawn().await;
    let resp = app.graphql(REPORT).var("input", report(PROVIDER_A)).as_caller(&provider_b()).send().await;
    assert_refused(&resp, "reportWaitingTime", "FORBIDDEN");
    assert_eq!(report_count(&app).await, 2);
}

#[tokio::test]
async fn only_providers_report_waiting_times() {
    let app = TestApp::spawn().await;
    for caller in [insurer_x(), patient_org(), municipality(), national_table(), operator()] {
        let own = report(caller.org);
        let resp = app.graphql(REPORT).var("input", own).as_caller(&caller).send().await;
        assert_refused(&resp, "reportWaitingTime", "FORBIDDEN");
    }
    assert_eq!(report_count(&app).await, 2);
}

#[tokio::test]
async fn second_report_for_the_same_month_is_a_conflict() {
    let app = TestApp::spawn().await;
    let mut input = report(PROVIDER_A);
    input["location"] = json!("Utrecht");
    input["month"] = json!("2026-01");
    let resp = app.graphql(REPORT).var("input", input).as_caller(&provider_a()).send().await;
    assert_refused(&resp, "reportWaitingTime", "CONFLICT");
    assert_eq!(report_count(&app).await, 2);
}

#[tokio::test]
async fn provider_corrects_own_report_but_not_another_providers() {
    let app = TestApp::spawn().await;
    let q = r#"mutation($id: ID!, $v: Int!) { correctWaitingTime(id: $id, expectedVersion: $v,
        input: {registrationToIntakeWeeks: 2.0, intakeToTreatmentWeeks: 5.0, waitingCount: 30}) { version totalWeeks } }"#;
    let resp = app.graphql(q).var("id", WAIT_EXCEEDING_NORM).var("v", 1).as_caller(&provider_b()).send().await;
    assert_refused(&resp, "correctWaitingTime", "FORBIDDEN");
    let resp = app.graphql(q).var("id", WAIT_EXCEEDING_NORM).var("v", 1).as_caller(&provider_a()).send().await;
    assert_eq!(resp.data()["correctWaitingTime"], json!({"version": 2, "totalWeeks": 7.0}));
}
