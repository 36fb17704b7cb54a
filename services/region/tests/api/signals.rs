//! Continuity signals (early warning): a provider sees its own, the region's coordinating
//! insurer sees and acknowledges them, the national table sees escalated ones, everyone else
//! (but the hub operator) sees counts per region only; the region's chair escalates.

use serde_json::json;

use crate::helpers::*;

const SIGNALS: &str = r#"query($region: String) { continuitySignals(region: $region, first: 100) {
    nodes { id regionCode status kind severity description offer { id } } } }"#;
const ACKNOWLEDGE: &str = r#"mutation($id: ID!, $v: Int!) { acknowledgeContinuitySignal(id: $id, expectedVersion: $v) {
    id status version acknowledgedBy acknowledgedAt } }"#;
const ESCALATE: &str =
    "mutation($id: ID!, $v: Int!) { escalateContinuitySignal(id: $id, expectedVersion: $v) { id status version } }";
const RAISE: &str = r#"mutation($input: RaiseSignalInput!) { raiseContinuitySignal(input: $input) {
    id status regionCode version overdue offer { id } } }"#;
const COUNTS: &str = r#"query { signalCounts(region: "utrecht") { open acknowledged escalated resolved overdue }
    region(code: "utrecht") { signalCounts { open acknowledged escalated resolved overdue } } }"#;

async fn visible_signals(app: &TestApp, caller: &ggzhub_kit::testing::TestCaller) -> Vec<String> {
    let resp = app.graphql(SIGNALS).as_caller(caller).send().await;
    ids(&resp.data()["continuitySignals"]["nodes"])
}

#[tokio::test]
async fn provider_sees_only_own_signals() {
    let app = TestApp::spawn().await;
    assert_eq!(visible_signals(&app, &provider_a()).await, id_list(&[SIGNAL_UTRECHT_OPEN, SIGNAL_UTRECHT_ESCALATED]));
    assert_eq!(visible_signals(&app, &provider_b()).await, id_list(&[SIGNAL_AMSTERDAM_OPEN]));
    assert_eq!(visible_signals(&app, &provider_c()).await, Vec::<String>::new());
}

#[tokio::test]
async fn coordinating_insurer_sees_signals_of_its_region() {
    let app = TestApp::spawn().await;
    assert_eq!(visible_signals(&app, &insurer_x()).await, id_list(&[SIGNAL_UTRECHT_OPEN, SIGNAL_UTRECHT_ESCALATED]));
}

#[tokio::test]
async fn non_coordinating_insurer_sees_none_of_the_regions_signals() {
    let app = TestApp::spawn().await;
    // Insurer Y coordinates amsterdam only: it sees that region's signal and nothing of utrecht.
    assert_eq!(visible_signals(&app, &insurer_y()).await, id_list(&[SIGNAL_AMSTERDAM_OPEN]));
    let resp = app.graphql(SIGNALS).var("region", "utrecht").as_caller(&insurer_y()).send().await;
    assert_eq!(resp.data()["continuitySignals"]["nodes"], json!([]));
    // Sitting at the utrecht table does not make an insurer coordinating.
    let at_the_table = ggzhub_kit::testing::TestCaller::new(ggzhub_kit::OrgKind::Insurer, INSURER_Y, &["utrecht"]);
    let resp = app.graphql(SIGNALS).var("region", "utrecht").as_caller(&at_the_table).send().await;
    assert_eq!(resp.data()["continuitySignals"]["nodes"], json!([]));
}

#[tokio::test]
async fn coordinating_insurer_acknowledges_signal() {
    let app = TestApp::spawn().await;
    let resp = app.graphql(ACKNOWLEDGE).var("id", SIGNAL_UTRECHT_OPEN).var("v", 1).as_caller(&insurer_x()).send().await;
    let s = &resp.data()["acknowledgeContinuitySignal"];
    assert_eq!(s["status"], "ACKNOWLEDGED");
    assert_eq!(s["version"], 2);
    assert_eq!(s["acknowledgedBy"], INSURER_X.to_string());
    assert!(s["acknowledgedAt"].is_string());
    let counts = app.graphql(COUNTS).as_caller(&patient_org()).send().await;
    assert_eq!(counts.data()["signalCounts"]["acknowledged"], 1);
    assert_eq!(counts.data()["signalCounts"]["open"], 0);
}

#[tokio::test]
async fn non_coordinating_insurer_cannot_acknowledge_signal() {
    let app = TestApp::spawn().await;
    // A signal you may not see looks exactly like one that does not exist.
    let resp = app.graphql(ACKNOWLEDGE).var("id", SIGNAL_UTRECHT_OPEN).var("v", 1).as_caller(&insurer_y()).send().await;
    assert_refused(&resp, "acknowledgeContinuitySignal", "NOT_FOUND");
    let missing = app
        .graphql(ACKNOWLEDGE)
        .var("id", uuid::Uuid::from_u128(0xdead))
        .var("v", 1)
        .as_caller(&insurer_y())
        .send()
        .await;
    assert_refused(&missing, "acknowledgeContinuitySignal", "NOT_FOUND");
    let hidden_msg =
        resp.body["errors"][0]["message"].as_str().unwrap_or_default().replace(&SIGNAL_UTRECHT_OPEN.to_string(), "");
    let missing_msg = missing.body["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .replace(&uuid::Uuid::from_u128(0xdead).to_string(), "");
    assert_eq!(hidden_msg, missing_msg, "the two refusals must be indistinguishable");
    let s = app.signal_as(&provider_a(), SIGNAL_UTRECHT_OPEN).await;
    assert_eq!(s["status"], "OPEN");
    assert_eq!(s["version"], 1);
}

#[tokio::test]
async fn provider_cannot_acknowledge_own_signal() {
    let app = TestApp::spawn().await;
    let resp =
        app.graphql(ACKNOWLEDGE).var("id", SIGNAL_UTRECHT_OPEN).var("v", 1).as_caller(&provider_a()).send().await;
    assert_refused(&resp, "acknowledgeContinuitySignal", "FORBIDDEN");
    assert_eq!(app.signal_as(&provider_a(), SIGNAL_UTRECHT_OPEN).await["status"], "OPEN");
}

#[tokio::test]
async fn patient_org_gets_forbidden_on_signal_list() {
    let app = TestApp::spawn().await;
    for caller in [patient_org(), municipality(), operator()] {
        let resp = app.graphql(SIGNALS).as_caller(&caller).send().await;
        assert_refused(&resp, "continuitySignals", "FORBIDDEN");
    }
}

#[tokio::test]
async fn patient_org_reads_signal_counts() {
    let app = TestApp::spawn().await;
    let expected = json!({"open": 1, "acknowledged": 0, "escalated": 1, "resolved": 0, "overdue": 1});
    for caller in [patient_org(), municipality(), provider_b(), insurer_y(), national_table()] {
        let resp = app.graphql(COUNTS).as_caller(&caller).send().await;
        assert_eq!(resp.data()["signalCounts"], expected);
        assert_eq!(resp.data()["region"]["signalCounts"], expected);
    }
}

#[tokio::test]
async fn operator_gets_forbidden_on_signal_counts() {
    let app = TestApp::spawn().await;
    let resp = app.graphql(COUNTS).as_caller(&operator()).send().await;
    assert_refused(&resp, "signalCounts", "FORBIDDEN");
    assert_eq!(resp.error_code_at(&["region", "signalCounts"]).as_deref(), Some("FORBIDDEN"), "{:#}", resp.body);
}

#[tokio::test]
async fn national_table_sees_only_escalated_signals() {
    let app = TestApp::spawn().await;
    assert_eq!(visible_signals(&app, &national_table()).await, id_list(&[SIGNAL_UTRECHT_ESCALATED]));
}

#[tokio::test]
async fn chair_escalates_signal_to_the_national_table() {
    let app = TestApp::spawn().await;
    let resp = app.graphql(ESCALATE).var("id", SIGNAL_UTRECHT_OPEN).var("v", 1).as_caller(&chair()).send().await;
    assert_eq!(
        resp.data()["escalateContinuitySignal"],
        json!({"id": SIGNAL_UTRECHT_OPEN.to_string(), "status": "ESCALATED", "version": 2})
    );
    assert_eq!(
        visible_signals(&app, &national_table()).await,
        id_list(&[SIGNAL_UTRECHT_OPEN, SIGNAL_UTRECHT_ESCALATED])
    );
}

#[tokio::test]
async fn non_chair_cannot_escalate_signal() {
    let app = TestApp::spawn().await;
    let resp = app.graphql(ESCALATE).var("id", SIGNAL_UTRECHT_OPEN).var("v", 1).as_caller(&provider_a()).send().await;
    assert_refused(&resp, "escalateContinuitySignal", "FORBIDDEN");
    let resp = app.graphql(ESCALATE).var("id", SIGNAL_UTRECHT_OPEN).var("v", 1).as_caller(&insurer_x()).send().await;
    assert_refused(&resp, "escalateContinuitySignal", "FORBIDDEN");
    // The chair of utrecht does not chair amsterdam, and may not even see its signals.
    let resp = app.graphql(ESCALATE).var("id", SIGNAL_AMSTERDAM_OPEN).var("v", 1).as_caller(&chair()).send().await;
    assert_refused(&resp, "escalateContinuitySignal", "NOT_FOUND");
    assert_eq!(app.signal_as(&provider_a(), SIGNAL_UTRECHT_OPEN).await["status"], "OPEN");
    assert_eq!(app.signal_as(&provider_b(), SIGNAL_AMSTERDAM_OPEN).await["status"], "OPEN");
}

#[tokio::test]
async fn provider_raises_signal_that_the_coordinating_insurer_sees() {
    let app = TestApp::spawn().await;
    let input = json!({"offerId": OFFER_A_CRISIS, "kind": "CLOSURE", "severity": "HIGH",
                       "description": "The crisis team loses its building in June.", "expectedDate": "2026-06-01"});
    let resp = app.graphql(RAISE).var("input", input).as_caller(&provider_a()).send().await;
    let s = &resp.data()["raiseContinuitySignal"];
    assert_eq!(s["status"], "OPEN");
    assert_eq!(s["regionCode"], "utrecht");
    assert_eq!(s["version"], 1);
    assert_eq!(s["overdue"], false);
    assert_eq!(s["offer"]["id"], OFFER_A_CRISIS.to_string());
    let id = s["id"].as_str().expect("id").to_owned();
    assert!(visible_signals(&app, &insurer_x()).await.contains(&id));
    assert!(!visible_signals(&app, &insurer_y()).await.contains(&id));
    assert!(!visible_signals(&app, &national_table()).await.contains(&id));
}

#[tokio::test]
async fn provider_cannot_raise_signal_on_another_providers_offer() {
    let app = TestApp::spawn().await;
    let input = json!({"offerId": OFFER_A_CRISIS, "kind": "OTHER", "severity": "LOW", "description": "Not mine"});
    for caller in [provider_b(), insurer_x(), patient_org()] {
        let resp = app.graphql(RAISE).var("input", input.clone()).as_caller(&caller).send().await;
        assert_refused(&resp, "raiseContinuitySignal", "FORBIDDEN");
    }
    assert_eq!(visible_signals(&app, &provider_a()).await.len(), 2);
}

#[tokio::test]
async fn provider_resolves_own_signal_but_not_another_providers() {
    let app = TestApp::spawn().await;
    let q = "mutation($id: ID!, $v: Int!) { resolveContinuitySignal(id: $id, expectedVersion: $v) { status version } }";
    let resp = app.graphql(q).var("id", SIGNAL_UTRECHT_OPEN).var("v", 1).as_caller(&provider_b()).send().await;
    assert_refused(&resp, "resolveContinuitySignal", "NOT_FOUND");
    let resp = app.graphql(q).var("id", SIGNAL_UTRECHT_OPEN).var("v", 1).as_caller(&provider_a()).send().await;
    assert_eq!(resp.data()["resolveContinuitySignal"], json!({"status": "RESOLVED", "version": 2}));
}
