//! Waiting times: public by law (everyone but the hub operator reads them); a provider reports
//! only its own. A waiting count from 1 to 9 is shown as "fewer than 10" to everyone but the
//! reporting provider.

use serde_json::{Value, json};

use crate::helpers::*;

const WAITING_TIMES: &str = r#"query($only: Boolean) { waitingTimes(region: "utrecht", exceedingTreeknormOnly: $only) {
    nodes { id providerId location diagnosisGroup month registrationToIntakeWeeks intakeToTreatmentWeeks
            totalWeeks waitingCount { exact fewerThan label } exceedsIntakeNorm exceedsTreatmentNorm exceedsTotalNorm exceedsTreeknorm } } }"#;

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
            "intakeToTreatmentWeeks": 9.0, "totalWeeks": 15.0, "waitingCount": {"exact": 25, "fewerThan": null, "label": "25"}, "exceedsIntakeNorm": true,
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

const CORRECT: &str = r#"mutation($id: ID!, $v: Int!, $n: Int!) { correctWaitingTime(id: $id, expectedVersion: $v,
    input: {registrationToIntakeWeeks: 2.0, intakeToTreatmentWeeks: 5.0, waitingCount: $n}) {
    version waitingCount { exact fewerThan label } } }"#;

/// The waiting count of `id` as `caller` reads it through `waitingTimes`.
async fn count_seen(app: &TestApp, caller: &ggzhub_kit::testing::TestCaller, id: uuid::Uuid) -> Value {
    let q = r#"query { waitingTimes(region: "utrecht") { nodes { id waitingCount { exact fewerThan label } } } }"#;
    let resp = app.graphql(q).as_caller(caller).send().await;
    let nodes = resp.data()["waitingTimes"]["nodes"].as_array().expect("nodes").clone();
    nodes.into_iter().find(|n| n["id"] == id.to_string()).expect("report listed")["waitingCount"].clone()
}

#[tokio::test]
async fn small_waiting_counts_are_fewer_than_ten_for_all_but_the_reporting_provider() {
    let app = TestApp::spawn().await;
    let hidden = json!({"exact": null, "fewerThan": 10, "label": "fewer than 10"});
    for (n, version) in [(1, 1), (9, 2)] {
        let resp = app
            .graphql(CORRECT)
            .var("id", WAIT_EXCEEDING_NORM)
            .var("v", version)
            .var("n", n)
            .as_caller(&provider_a())
            .send()
            .await;
        // The provider that supplied the figure sees it exactly, also in the mutation's answer.
        assert_eq!(
            resp.data()["correctWaitingTime"]["waitingCount"],
            json!({"exact": n, "fewerThan": null, "label": n.to_string()})
        );
        assert_eq!(count_seen(&app, &provider_a(), WAIT_EXCEEDING_NORM).await["exact"], n);
        for (who, caller) in all_personas().into_iter().filter(|(w, _)| *w != "hub operator") {
            if caller.org == PROVIDER_A {
                continue;
            }
            assert_eq!(count_seen(&app, &caller, WAIT_EXCEEDING_NORM).await, hidden, "{who} sees {n} hidden");
        }
    }
    // 0 and 10 or more are shown as they are.
    for (n, version) in [(0, 3), (10, 4)] {
        app.graphql(CORRECT)
            .var("id", WAIT_EXCEEDING_NORM)
            .var("v", version)
            .var("n", n)
            .as_caller(&provider_a())
            .send()
            .await;
        assert_eq!(
            count_seen(&app, &patient_org(), WAIT_EXCEEDING_NORM).await,
            json!({"exact": n, "fewerThan": null, "label": n.to_string()})
        );
    }
}

#[tokio::test]
async fn no_read_path_reveals_a_small_waiting_count() {
    let app = TestApp::spawn().await;
    app.graphql(CORRECT).var("id", WAIT_EXCEEDING_NORM).var("v", 1).var("n", 3).as_caller(&provider_a()).send().await;
    // Every filter of waitingTimes, as an insurer elsewhere reads it: the figure never shows,
    // and nothing filters or sorts on it.
    let q = r#"query($m: String, $g: String, $only: Boolean) { waitingTimes(region: "utrecht", month: $m,
        diagnosisGroup: $g, exceedingTreeknormOnly: $only) { nodes { id waitingCount { exact fewerThan label } } } }"#;
    for (m, g, only) in [(None, None, None), (Some("2026-01"), Some("ANXIETY"), Some(false)), (None, None, Some(false))]
    {
        let resp = app.graphql(q).var("m", m).var("g", g).var("only", only).as_caller(&insurer_y()).send().await;
        let body = resp.body.to_string();
        assert!(body.contains(&WAIT_EXCEEDING_NORM.to_string()), "{body}");
        assert!(!body.contains(r#""exact":3"#), "{body}");
    }
    // The audit log shows others only which fields changed, never the figure.
    let resp = app
        .graphql(r#"query { auditLog(first: 50) { nodes { entity change } } }"#)
        .as_caller(&national_table())
        .send()
        .await;
    let body = resp.body.to_string();
    assert!(body.contains("WaitingTimeReport"), "{body}");
    assert!(!body.contains(r#""waitingCount":3"#) && !body.contains(r#"waitingCount\":3"#), "{body}");
}
