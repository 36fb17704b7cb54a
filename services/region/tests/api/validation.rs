//! Bad input is refused with `BAD_USER_INPUT` naming the bad value, before anything is stored;
//! a document that does not fit the schema fails validation and executes nothing.

use serde_json::{Value, json};

use crate::helpers::*;

const CREATE_OFFER: &str = r#"mutation($input: CreateCareOfferInput!) { createCareOffer(input: $input) { id } }"#;
const UPDATE_OFFER: &str = r#"mutation($id: ID!, $v: Int!, $input: UpdateCareOfferInput!) {
    updateCareOffer(id: $id, expectedVersion: $v, input: $input) { version } }"#;
const RAISE: &str = r#"mutation($input: RaiseSignalInput!) { raiseContinuitySignal(input: $input) { id } }"#;
const REPORT: &str = r#"mutation($input: WaitingTimeInput!) { reportWaitingTime(input: $input) { id } }"#;

fn offer() -> Value {
    json!({
        "regionCode": "utrecht", "category": "ACUTE", "careForm": "HIC", "unitName": "HIC Utrecht",
        "location": "Utrecht", "availability": "TWENTY_FOUR_SEVEN", "capacity": {"beds": 10}
    })
}

fn report() -> Value {
    json!({
        "providerId": PROVIDER_A, "regionCode": "utrecht", "location": "Amersfoort", "diagnosisGroup": "DEPRESSION",
        "month": "2026-02", "registrationToIntakeWeeks": 3.0, "intakeToTreatmentWeeks": 5.0, "waitingCount": 12
    })
}

async fn offer_count(app: &TestApp) -> usize {
    let resp = app.graphql("query { careOffers(first: 100) { nodes { id } } }").as_caller(&operator()).send().await;
    resp.data()["careOffers"]["nodes"].as_array().map_or(0, Vec::len)
}

/// Sends `createCareOffer` with `change` applied to a valid input and expects `BAD_USER_INPUT`
/// with a message mentioning `mentions`.
async fn assert_offer_refused(app: &TestApp, change: Value, mentions: &str) {
    let mut input = offer();
    for (k, v) in change.as_object().expect("object") {
        input[k] = v.clone();
    }
    let resp = app.graphql(CREATE_OFFER).var("input", input).as_caller(&provider_a()).send().await;
    assert_refused(&resp, "createCareOffer", "BAD_USER_INPUT");
    let msg = resp.expect_error("BAD_USER_INPUT");
    assert!(msg.contains(mentions), "message {msg:?} should mention {mentions:?}");
}

#[tokio::test]
async fn valid_offer_input_is_accepted() {
    // The baseline every refusal below differs from in one field.
    let app = TestApp::spawn().await;
    let resp = app.graphql(CREATE_OFFER).var("input", offer()).as_caller(&provider_a()).send().await;
    assert!(resp.data()["createCareOffer"]["id"].is_string());
}

#[tokio::test]
async fn unknown_region_code_is_bad_user_input() {
    let app = TestApp::spawn().await;
    // A provider whose token seats it at a region the hub does not know.
    let caller =
        ggzhub_kit::testing::TestCaller::new(ggzhub_kit::OrgKind::Provider, PROVIDER_A, &["utrecht", "atlantis"]);
    let mut input = offer();
    input["regionCode"] = json!("atlantis");
    let resp = app.graphql(CREATE_OFFER).var("input", input).as_caller(&caller).send().await;
    assert_refused(&resp, "createCareOffer", "BAD_USER_INPUT");
    assert!(resp.expect_error("BAD_USER_INPUT").contains("atlantis"));

    assert_offer_refused(&app, json!({"regionsServed": ["amsterdam", "atlantis"]}), "atlantis").await;

    let mut wait = report();
    wait["regionCode"] = json!("atlantis");
    let resp = app.graphql(REPORT).var("input", wait.clone()).as_caller(&caller).send().await;
    assert_refused(&resp, "reportWaitingTime", "BAD_USER_INPUT");
    // Without a seat at that region's table the report is refused before the region is looked up.
    let resp = app.graphql(REPORT).var("input", wait).as_caller(&provider_a()).send().await;
    assert_refused(&resp, "reportWaitingTime", "FORBIDDEN");

    let resp = app
        .graphql(r#"mutation { createRegion(input: {code: "zwolle", name: "Zwolle", kind: IZA, neighbours: ["atlantis"]}) { code } }"#)
        .as_caller(&operator())
        .send()
        .await;
    assert_refused(&resp, "createRegion", "BAD_USER_INPUT");
    assert_eq!(offer_count(&app).await, 3);
}

#[tokio::test]
async fn invalid_region_code_format_is_bad_user_input() {
    let app = TestApp::spawn().await;
    for code in ["Utrecht", "u", "-utrecht", "utrecht!", "a/b"] {
        let resp = app
            .graphql("query($c: String!) { region(code: $c) { code } }")
            .var("c", code)
            .as_caller(&provider_a())
            .send()
            .await;
        assert_refused(&resp, "region", "BAD_USER_INPUT");
        let resp = app
            .graphql("query($c: String!) { waitingTimes(region: $c) { nodes { id } } }")
            .var("c", code)
            .as_caller(&provider_a())
            .send()
            .await;
        assert_refused(&resp, "waitingTimes", "BAD_USER_INPUT");
    }
    assert_offer_refused(&app, json!({"regionCode": "Utrecht"}), "regionCode").await;
}

#[tokio::test]
async fn unknown_care_form_is_bad_user_input() {
    let app = TestApp::spawn().await;
    assert_offer_refused(&app, json!({"careForm": "TELEPORTATION"}), "TELEPORTATION").await;
    assert_eq!(offer_count(&app).await, 3);
}

#[tokio::test]
async fn care_form_of_another_category_is_bad_user_input() {
    let app = TestApp::spawn().await;
    assert_offer_refused(&app, json!({"category": "ACUTE", "careForm": "FACT"}), "FACT").await;
    let resp = app
        .graphql(UPDATE_OFFER)
        .var("id", OFFER_A_CRISIS)
        .var("v", 1)
        .var("input", json!({"careForm": "FACT"}))
        .as_caller(&provider_a())
        .send()
        .await;
    assert_refused(&resp, "updateCareOffer", "BAD_USER_INPUT");
    assert_eq!(app.offer(OFFER_A_CRISIS).await["careForm"]["code"], "CRISIS_SERVICE");
}

#[tokio::test]
async fn oversize_unit_name_is_bad_user_input() {
    let app = TestApp::spawn().await;
    assert_offer_refused(&app, json!({"unitName": "x".repeat(201)}), "unitName").await;
    assert_offer_refused(&app, json!({"unitName": "   "}), "unitName").await;
    let resp = app
        .graphql(UPDATE_OFFER)
        .var("id", OFFER_A_CRISIS)
        .var("v", 1)
        .var("input", json!({"unitName": "é".repeat(201)}))
        .as_caller(&provider_a())
        .send()
        .await;
    assert_refused(&resp, "updateCareOffer", "BAD_USER_INPUT");
    assert_eq!(offer_count(&app).await, 3);
    // Exactly at the limit is fine, also in multi-byte characters.
    let mut input = offer();
    input["unitName"] = json!("é".repeat(200));
    let resp = app.graphql(CREATE_OFFER).var("input", input).as_caller(&provider_a()).send().await;
    assert!(resp.data()["createCareOffer"]["id"].is_string());
}

#[tokio::test]
async fn oversize_description_is_bad_user_input() {
    let app = TestApp::spawn().await;
    let raise = |d: String| json!({"offerId": OFFER_A_CRISIS, "kind": "STAFFING", "severity": "LOW", "description": d});
    let resp = app.graphql(RAISE).var("input", raise("x".repeat(2001))).as_caller(&provider_a()).send().await;
    assert_refused(&resp, "raiseContinuitySignal", "BAD_USER_INPUT");
    assert!(resp.expect_error("BAD_USER_INPUT").contains("description"));
    let resp = app.graphql(RAISE).var("input", raise("x".repeat(2000))).as_caller(&provider_a()).send().await;
    assert!(resp.data()["raiseContinuitySignal"]["id"].is_string());
}

#[tokio::test]
async fn control_characters_in_text_are_bad_user_input() {
    let app = TestApp::spawn().await;
    assert_offer_refused(&app, json!({"unitName": "HIC\u{0}Utrecht"}), "unitName").await;
}

#[tokio::test]
async fn negative_capacity_is_bad_user_input() {
    let app = TestApp::spawn().await;
    assert_offer_refused(&app, json!({"capacity": {"beds": -1}}), "capacity.beds").await;
    assert_offer_refused(&app, json!({"capacity": {"teams": 1001}}), "capacity.teams").await;
    assert_offer_refused(&app, json!({"capacity": {"fte": -0.5}}), "capacity.fte").await;
    let resp = app
        .graphql(UPDATE_OFFER)
        .var("id", OFFER_A_CRISIS)
        .var("v", 1)
        .var("input", json!({"capacity": {"places": -3}}))
        .as_caller(&provider_a())
        .send()
        .await;
    assert_refused(&resp, "updateCareOffer", "BAD_USER_INPUT");
    assert_eq!(app.offer(OFFER_A_CRISIS).await["capacity"]["teams"], 2);
}

#[tokio::test]
async fn page_size_out_of_range_is_bad_user_input() {
    let app = TestApp::spawn().await;
    for first in [0, -1, 101] {
        for (query, field) in [
            ("query($f: Int) { regions(first: $f) { nodes { code } } }", "regions"),
            ("query($f: Int) { careOffers(first: $f) { nodes { id } } }", "careOffers"),
            ("query($f: Int) { auditLog(first: $f) { nodes { id } } }", "auditLog"),
        ] {
            let resp = app.graphql(query).var("f", first).as_caller(&provider_a()).send().await;
            assert_refused(&resp, field, "BAD_USER_INPUT");
        }
        let resp = app
            .graphql(r#"query($f: Int) { region(code: "utrecht") { offers(first: $f) { nodes { id } } } }"#)
            .var("f", first)
            .as_caller(&provider_a())
            .send()
            .await;
        assert_eq!(resp.error_code_at(&["region", "offers"]).as_deref(), Some("BAD_USER_INPUT"), "{:#}", resp.body);
    }
    let resp = app.graphql("query { careOffers(first: 100) { nodes { id } } }").as_caller(&provider_a()).send().await;
    assert_eq!(resp.data()["careOffers"]["nodes"].as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn bad_cursor_is_bad_user_input() {
    let app = TestApp::spawn().await;
    for cursor in ["!!not-base64!!", "", "%%%"] {
        let resp = app
            .graphql("query($a: String) { careOffers(after: $a) { nodes { id } } }")
            .var("a", cursor)
            .as_caller(&provider_a())
            .send()
            .await;
        assert_refused(&resp, "careOffers", "BAD_USER_INPUT");
    }
}

#[tokio::test]
async fn bad_month_is_bad_user_input() {
    let app = TestApp::spawn().await;
    for month in ["2026-13", "2026-00", "26-01", "2026/01", "1999-12"] {
        let resp = app
            .graphql(r#"query($m: String) { waitingTimes(region: "utrecht", month: $m) { nodes { id } } }"#)
            .var("m", month)
            .as_caller(&patient_org())
            .send()
            .await;
        assert_refused(&resp, "waitingTimes", "BAD_USER_INPUT");
        let mut input = report();
        input["month"] = json!(month);
        let resp = app.graphql(REPORT).var("input", input).as_caller(&provider_a()).send().await;
        assert_refused(&resp, "reportWaitingTime", "BAD_USER_INPUT");
    }
}

#[tokio::test]
async fn weeks_out_of_range_and_unknown_diagnosis_group_are_bad_user_input() {
    let app = TestApp::spawn().await;
    for (k, v) in [
        ("registrationToIntakeWeeks", json!(-1.0)),
        ("intakeToTreatmentWeeks", json!(521.0)),
        ("waitingCount", json!(-5)),
        ("diagnosisGroup", json!("NO_SUCH_GROUP")),
        ("location", json!("")),
    ] {
        let mut input = report();
        input[k] = v;
        let resp = app.graphql(REPORT).var("input", input).as_caller(&provider_a()).send().await;
        assert_refused(&resp, "reportWaitingTime", "BAD_USER_INPUT");
    }
}

#[tokio::test]
async fn invalid_id_format_is_bad_user_input() {
    let app = TestApp::spawn().await;
    let resp = app
        .graphql(UPDATE_OFFER)
        .var("id", "not-a-uuid")
        .var("v", 1)
        .var("input", json!({"unitName": "X"}))
        .as_caller(&provider_a())
        .send()
        .await;
    assert_refused(&resp, "updateCareOffer", "BAD_USER_INPUT");
    assert!(resp.expect_error("BAD_USER_INPUT").contains("not-a-uuid"));
    for (query, field) in [
        (r#"mutation { closeCareOffer(id: "x", expectedVersion: 1) { id } }"#, "closeCareOffer"),
        (
            r#"mutation { acknowledgeContinuitySignal(id: "x", expectedVersion: 1) { id } }"#,
            "acknowledgeContinuitySignal",
        ),
        (r#"mutation { publishRegionalOverview(id: "x", expectedVersion: 1) { id } }"#, "publishRegionalOverview"),
    ] {
        let caller = match field {
            "acknowledgeContinuitySignal" => insurer_x(),
            "publishRegionalOverview" => chair(),
            _ => provider_a(),
        };
        let resp = app.graphql(query).as_caller(&caller).send().await;
        assert_refused(&resp, field, "BAD_USER_INPUT");
    }
    let mut wait = report();
    wait["providerId"] = json!("provider-a");
    let resp = app.graphql(REPORT).var("input", wait).as_caller(&provider_a()).send().await;
    assert_refused(&resp, "reportWaitingTime", "BAD_USER_INPUT");
}

#[tokio::test]
async fn wrong_graphql_types_fail_validation_and_change_nothing() {
    let app = TestApp::spawn().await;
    let before = app.offer(OFFER_A_CRISIS).await;
    let audit_before = app.audit_count().await;
    // A string where an Int is expected, inline and as a variable; an unknown enum value; an
    // unknown input field; a missing required argument.
    let inline = [
        format!(
            r#"mutation {{ updateCareOffer(id: "{OFFER_A_CRISIS}", expectedVersion: "1", input: {{unitName: "X"}}) {{ version }} }}"#
        ),
        format!(
            r#"mutation {{ updateCareOffer(id: "{OFFER_A_CRISIS}", expectedVersion: 1, input: {{capacity: {{beds: "ten"}}}}) {{ version }} }}"#
        ),
        format!(
            r#"mutation {{ updateCareOffer(id: "{OFFER_A_CRISIS}", expectedVersion: 1, input: {{status: SHUT}}) {{ version }} }}"#
        ),
        format!(
            r#"mutation {{ updateCareOffer(id: "{OFFER_A_CRISIS}", expectedVersion: 1, input: {{providerId: "x"}}) {{ version }} }}"#
        ),
        format!(r#"mutation {{ updateCareOffer(id: "{OFFER_A_CRISIS}", input: {{unitName: "X"}}) {{ version }} }}"#),
        "query { careOffers(first: \"ten\") { nodes { id } } }".to_owned(),
        "query { careOffers { nodes { noSuchField } } }".to_owned(),
    ];
    for query in &inline {
        let resp = app.graphql(query).as_caller(&provider_a()).send().await;
        assert!(!resp.error_codes().is_empty(), "{query}: {:#}", resp.body);
        assert!(resp.body.get("data").is_none_or(Value::is_null), "{query}: {:#}", resp.body);
    }
    let resp = app
        .graphql(UPDATE_OFFER)
        .var("id", OFFER_A_CRISIS)
        .var("v", "1")
        .var("input", json!({"unitName": "X"}))
        .as_caller(&provider_a())
        .send()
        .await;
    assert!(!resp.error_codes().is_empty(), "{:#}", resp.body);
    assert!(resp.body.get("data").is_none_or(Value::is_null));
    assert_eq!(app.offer(OFFER_A_CRISIS).await, before);
    assert_eq!(app.audit_count().await, audit_before);
}

#[tokio::test]
async fn non_json_and_batched_requests_are_refused() {
    let app = TestApp::spawn().await;
    let token = app.server.token(&provider_a());
    let client = app.server.client();
    let url = app.server.url("/graphql");
    let resp =
        client.post(&url).bearer_auth(&token).body("query { regions { nodes { code } } }").send().await.expect("sent");
    assert_eq!(resp.status().as_u16(), 415);
    let resp = client
        .post(&url)
        .bearer_auth(&token)
        .json(&json!([{"query": "{ regions { nodes { code } } }"}, {"query": "{ regions { nodes { code } } }"}]))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status().as_u16(), 400);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
}
