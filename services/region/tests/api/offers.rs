//! Care offers: public fields for everyone; capacity and inclusion criteria for the offer's own
//! provider, the region's providers and insurers and the national table; changes by the offer's
//! own provider only.

use ggzhub_kit::testing::TestCaller;
use serde_json::{Value, json};

use crate::helpers::*;

const PUBLIC_FIELDS: &str = r#"query($id: ID!) { careOffer(id: $id) {
    id unitName location category status availability supraRegional regionsServed
    provider { id name } region { code } careForm { code category }
    intakePause { from until reason } } }"#;

const DETAIL: &str =
    r#"query($id: ID!) { careOffer(id: $id) { unitName capacity { beds places teams fte } inclusionCriteria } }"#;

const CREATE: &str = r#"mutation($input: CreateCareOfferInput!) { createCareOffer(input: $input) {
    id unitName status version provider { id } region { code } regionsServed capacity { beds teams } inclusionCriteria } }"#;
const UPDATE: &str = r#"mutation($id: ID!, $v: Int!, $input: UpdateCareOfferInput!) {
    updateCareOffer(id: $id, expectedVersion: $v, input: $input) { id unitName status version capacity { teams fte } } }"#;
const CLOSE: &str = "mutation($id: ID!, $v: Int!) { closeCareOffer(id: $id, expectedVersion: $v) { status version } }";
const SET_PAUSE: &str = r#"mutation($id: ID!, $v: Int!, $pause: IntakePauseInput!) {
    setIntakePause(offerId: $id, expectedVersion: $v, pause: $pause) { version intakePause { from until reason } } }"#;
const END_PAUSE: &str = "mutation($id: ID!, $v: Int!) { endIntakePause(offerId: $id, expectedVersion: $v) { version intakePause { from } } }";

fn new_offer() -> Value {
    json!({
        "regionCode": "utrecht", "category": "CLINICAL", "careForm": "CLINICAL_ADMISSION",
        "unitName": "Kliniek De Horst", "location": "Amersfoort", "availability": "TWENTY_FOUR_SEVEN",
        "capacity": {"beds": 24}, "regionsServed": ["amsterdam"], "inclusionCriteria": "Adults"
    })
}

async fn assert_detail_visible(app: &TestApp, caller: &TestCaller, offer: impl ToString) {
    let resp = app.graphql(DETAIL).var("id", offer.to_string()).as_caller(caller).send().await;
    let offer = &resp.data()["careOffer"];
    assert!(offer["capacity"].is_object(), "{:#}", resp.body);
    assert!(offer["inclusionCriteria"].is_string(), "{:#}", resp.body);
}

async fn assert_detail_forbidden(app: &TestApp, caller: &TestCaller, offer: impl ToString) {
    let resp = app.graphql(DETAIL).var("id", offer.to_string()).as_caller(caller).send().await;
    let data = &resp.body["data"]["careOffer"];
    assert!(data["unitName"].is_string(), "public fields stay readable: {:#}", resp.body);
    // Present as null (GraphQL spec §6.4.4), not left out.
    assert_eq!(data.get("capacity"), Some(&Value::Null), "{:#}", resp.body);
    assert_eq!(resp.error_code_at(&["careOffer", "capacity"]).as_deref(), Some("FORBIDDEN"), "{:#}", resp.body);
    // Inclusion criteria are public since issue 21 (only the hub operator reads no offer detail).
    if caller.kind == ggzhub_kit::OrgKind::HubOperator {
        assert_eq!(data.get("inclusionCriteria"), Some(&Value::Null), "{:#}", resp.body);
        assert_eq!(resp.error_code_at(&["careOffer", "inclusionCriteria"]).as_deref(), Some("FORBIDDEN"));
        assert_eq!(resp.error_codes().len(), 2, "{:#}", resp.body);
    } else {
        assert!(data["inclusionCriteria"].is_string(), "{:#}", resp.body);
        assert_eq!(resp.error_codes().len(), 1, "{:#}", resp.body);
    }
}

// ---- public fields -------------------------------------------------------------------------

#[tokio::test]
async fn every_kind_reads_public_offer_fields() {
    let app = TestApp::spawn().await;
    for (who, caller) in all_personas() {
        let resp = app.graphql(PUBLIC_FIELDS).var("id", OFFER_A_FACT).as_caller(&caller).send().await;
        assert_eq!(
            resp.data()["careOffer"],
            json!({
                "id": OFFER_A_FACT.to_string(), "unitName": "FACT-team Zeist", "location": "Zeist",
                "category": "OUTREACH", "status": "UNDER_PRESSURE", "availability": "OFFICE_HOURS",
                "supraRegional": false, "regionsServed": ["utrecht"],
                "provider": {"id": PROVIDER_A.to_string(), "name": "GGZ Aanbieder A"},
                "region": {"code": "utrecht"}, "careForm": {"code": "FACT", "category": "OUTREACH"},
                "intakePause": {"from": "2026-01-01", "until": null, "reason": "Staff shortage"}
            }),
            "{who}"
        );
    }
}

#[tokio::test]
async fn offers_filter_by_region_category_and_status() {
    let app = TestApp::spawn().await;
    let q = |args: &str| format!("query {{ careOffers({args}) {{ nodes {{ id }} }} }}");
    let cases: [(&str, Vec<String>); 4] = [
        (r#"region: "utrecht""#, id_list(&[OFFER_A_CRISIS, OFFER_A_FACT])),
        ("category: ACUTE", id_list(&[OFFER_A_CRISIS, OFFER_B_HIC])),
        ("status: UNDER_PRESSURE", id_list(&[OFFER_A_FACT])),
        (&format!(r#"providerId: "{PROVIDER_B}""#), id_list(&[OFFER_B_HIC])),
    ];
    for (args, expected) in cases {
        let resp = app.graphql(&q(args)).as_caller(&patient_org()).send().await;
        assert_eq!(ids(&resp.data()["careOffers"]["nodes"]), expected, "{args}");
    }
}

#[tokio::test]
async fn unknown_offer_is_null() {
    let app = TestApp::spawn().await;
    let resp =
        app.graphql(PUBLIC_FIELDS).var("id", uuid::Uuid::from_u128(0xdead)).as_caller(&provider_a()).send().await;
    assert!(resp.data()["careOffer"].is_null());
}

#[tokio::test]
async fn offers_page_with_cursor() {
    let app = TestApp::spawn().await;
    let q = r#"query($after: String) { careOffers(first: 2, after: $after) {
        pageInfo { hasNextPage endCursor } nodes { id } } }"#;
    let first = app.graphql(q).as_caller(&provider_a()).send().await;
    let page = &first.data()["careOffers"];
    assert_eq!(page["nodes"].as_array().map(Vec::len), Some(2));
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let cursor = page["pageInfo"]["endCursor"].as_str().expect("cursor").to_owned();
    let second = app.graphql(q).var("after", cursor).as_caller(&provider_a()).send().await;
    let page2 = &second.data()["careOffers"];
    assert_eq!(page2["nodes"].as_array().map(Vec::len), Some(1));
    assert_eq!(page2["pageInfo"]["hasNextPage"], false);
    let mut all = ids(&page["nodes"]);
    all.extend(ids(&page2["nodes"]));
    all.sort();
    assert_eq!(all, id_list(&[OFFER_A_CRISIS, OFFER_A_FACT, OFFER_B_HIC]));
}

// ---- capacity and inclusion criteria -------------------------------------------------------

#[tokio::test]
async fn provider_reads_capacity_of_own_offer() {
    let app = TestApp::spawn().await;
    let resp = app.graphql(DETAIL).var("id", OFFER_A_CRISIS).as_caller(&provider_a()).send().await;
    assert_eq!(
        resp.data()["careOffer"],
        json!({"unitName": "Crisisdienst Utrecht-Stad",
               "capacity": {"beds": null, "places": null, "teams": 2, "fte": 14.5},
               "inclusionCriteria": "Acute psychiatric crisis, 18 years and older"})
    );
}

#[tokio::test]
async fn provider_reads_capacity_of_own_offer_even_when_not_at_the_table() {
    let app = TestApp::spawn().await;
    let left_the_table = TestCaller::new(ggzhub_kit::OrgKind::Provider, PROVIDER_A, &[]);
    assert_detail_visible(&app, &left_the_table, OFFER_A_CRISIS).await;
}

#[tokio::test]
async fn participant_provider_reads_capacity_of_other_providers_offer() {
    let app = TestApp::spawn().await;
    assert_detail_visible(&app, &provider_c(), OFFER_A_CRISIS).await;
}

#[tokio::test]
async fn non_participant_provider_gets_forbidden_on_capacity() {
    let app = TestApp::spawn().await;
    assert_detail_forbidden(&app, &provider_b(), OFFER_A_CRISIS).await;
    assert_detail_forbidden(&app, &provider_a(), OFFER_B_HIC).await;
}

#[tokio::test]
async fn participant_insurer_reads_capacity() {
    let app = TestApp::spawn().await;
    assert_detail_visible(&app, &insurer_x(), OFFER_A_CRISIS).await;
    assert_detail_visible(&app, &insurer_y(), OFFER_B_HIC).await;
}

#[tokio::test]
async fn non_participant_insurer_gets_forbidden_on_capacity() {
    let app = TestApp::spawn().await;
    assert_detail_forbidden(&app, &insurer_y(), OFFER_A_CRISIS).await;
}

#[tokio::test]
async fn patient_org_gets_forbidden_on_capacity() {
    let app = TestApp::spawn().await;
    assert_detail_forbidden(&app, &patient_org(), OFFER_A_CRISIS).await;
}

#[tokio::test]
async fn municipality_gets_forbidden_on_capacity_even_at_the_table() {
    let app = TestApp::spawn().await;
    assert_detail_forbidden(&app, &municipality(), OFFER_A_CRISIS).await;
}

#[tokio::test]
async fn national_table_reads_capacity_everywhere() {
    let app = TestApp::spawn().await;
    assert_detail_visible(&app, &national_table(), OFFER_A_CRISIS).await;
    assert_detail_visible(&app, &national_table(), OFFER_B_HIC).await;
}

#[tokio::test]
async fn operator_gets_forbidden_on_capacity() {
    let app = TestApp::spawn().await;
    assert_detail_forbidden(&app, &operator(), OFFER_A_CRISIS).await;
}

#[tokio::test]
async fn patient_org_gets_forbidden_on_capacity_in_lists_too() {
    let app = TestApp::spawn().await;
    let resp = app
        .graphql(r#"query { region(code: "utrecht") { offers { nodes { unitName capacity { teams } } } } }"#)
        .as_caller(&patient_org())
        .send()
        .await;
    let nodes = resp.body["data"]["region"]["offers"]["nodes"].as_array().expect("nodes").clone();
    assert_eq!(nodes.len(), 2);
    for (i, node) in nodes.iter().enumerate() {
        assert!(node["unitName"].is_string());
        assert_eq!(node.get("capacity"), Some(&Value::Null), "capacity is present as null");
        let i = i.to_string();
        assert_eq!(
            resp.error_code_at(&["region", "offers", "nodes", &i, "capacity"]).as_deref(),
            Some("FORBIDDEN"),
            "{:#}",
            resp.body
        );
    }
}

// ---- create / update / close / intake pause ------------------------------------------------

#[tokio::test]
async fn provider_creates_offer_in_a_region_it_sits_at() {
    let app = TestApp::spawn().await;
    let resp = app.graphql(CREATE).var("input", new_offer()).as_caller(&provider_a()).send().await;
    let offer = &resp.data()["createCareOffer"];
    assert_eq!(offer["unitName"], "Kliniek De Horst");
    assert_eq!(offer["status"], "SECURED");
    assert_eq!(offer["version"], 1);
    assert_eq!(offer["provider"]["id"], PROVIDER_A.to_string());
    assert_eq!(offer["region"]["code"], "utrecht");
    assert_eq!(offer["regionsServed"], json!(["utrecht", "amsterdam"]));
    assert_eq!(offer["capacity"], json!({"beds": 24, "teams": null}));
    let stored = app.offer(offer["id"].as_str().expect("id")).await;
    assert_eq!(stored["unitName"], "Kliniek De Horst");
}

#[tokio::test]
async fn provider_cannot_create_offer_in_a_region_it_does_not_sit_at() {
    let app = TestApp::spawn().await;
    let mut input = new_offer();
    input["regionCode"] = json!("amsterdam");
    let resp = app.graphql(CREATE).var("input", input).as_caller(&provider_a()).send().await;
    assert_refused(&resp, "createCareOffer", "FORBIDDEN");
}

#[tokio::test]
async fn insurer_and_others_cannot_create_offers() {
    let app = TestApp::spawn().await;
    for caller in [insurer_x(), patient_org(), municipality(), national_table(), operator()] {
        let resp = app.graphql(CREATE).var("input", new_offer()).as_caller(&caller).send().await;
        assert_refused(&resp, "createCareOffer", "FORBIDDEN");
    }
    let resp =
        app.graphql(r#"query { careOffers(region: "utrecht") { nodes { id } } }"#).as_caller(&operator()).send().await;
    assert_eq!(resp.data()["careOffers"]["nodes"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn provider_updates_own_offer() {
    let app = TestApp::spawn().await;
    let resp = app
        .graphql(UPDATE)
        .var("id", OFFER_A_CRISIS)
        .var("v", 1)
        .var("input", json!({"unitName": "Crisisdienst Utrecht", "status": "UNDER_PRESSURE", "capacity": {"teams": 3, "fte": 18.0}}))
        .as_caller(&provider_a())
        .send()
        .await;
    assert_eq!(
        resp.data()["updateCareOffer"],
        json!({"id": OFFER_A_CRISIS.to_string(), "unitName": "Crisisdienst Utrecht", "status": "UNDER_PRESSURE",
               "version": 2, "capacity": {"teams": 3, "fte": 18.0}})
    );
}

#[tokio::test]
async fn other_provider_cannot_update_offer_and_it_stays_unchanged() {
    let app = TestApp::spawn().await;
    let before = app.offer(OFFER_A_CRISIS).await;
    for caller in [provider_b(), provider_c(), chair()] {
        let resp = app
            .graphql(UPDATE)
            .var("id", OFFER_A_CRISIS)
            .var("v", 1)
            .var("input", json!({"unitName": "Taken over", "capacity": {"teams": 0}}))
            .as_caller(&caller)
            .send()
            .await;
        assert_refused(&resp, "updateCareOffer", "FORBIDDEN");
    }
    assert_eq!(app.offer(OFFER_A_CRISIS).await, before);
}

#[tokio::test]
async fn insurer_cannot_update_offer() {
    let app = TestApp::spawn().await;
    let before = app.offer(OFFER_A_CRISIS).await;
    let resp = app
        .graphql(UPDATE)
        .var("id", OFFER_A_CRISIS)
        .var("v", 1)
        .var("input", json!({"status": "CLOSING"}))
        .as_caller(&insurer_x())
        .send()
        .await;
    assert_refused(&resp, "updateCareOffer", "FORBIDDEN");
    assert_eq!(app.offer(OFFER_A_CRISIS).await, before);
}

#[tokio::test]
async fn provider_closes_own_offer() {
    let app = TestApp::spawn().await;
    app.closure_due(OFFER_A_CRISIS).await;
    let resp = app.graphql(CLOSE).var("id", OFFER_A_CRISIS).var("v", 1).as_caller(&provider_a()).send().await;
    assert_eq!(resp.data()["closeCareOffer"], json!({"status": "CLOSED", "version": 2}));
    let again = app.graphql(CLOSE).var("id", OFFER_A_CRISIS).var("v", 2).as_caller(&provider_a()).send().await;
    assert_refused(&again, "closeCareOffer", "FAILED_PRECONDITION");
}

#[tokio::test]
async fn other_provider_and_insurer_cannot_close_offer() {
    let app = TestApp::spawn().await;
    let before = app.offer(OFFER_A_CRISIS).await;
    for caller in [provider_b(), insurer_x(), national_table()] {
        let resp = app.graphql(CLOSE).var("id", OFFER_A_CRISIS).var("v", 1).as_caller(&caller).send().await;
        assert_refused(&resp, "closeCareOffer", "FORBIDDEN");
    }
    assert_eq!(app.offer(OFFER_A_CRISIS).await, before);
}

#[tokio::test]
async fn provider_sets_and_ends_intake_pause_visible_to_everyone() {
    let app = TestApp::spawn().await;
    let pause = json!({"from": "2026-03-01", "until": "2026-04-30", "reason": "Renovation of the ward"});
    let resp = app
        .graphql(SET_PAUSE)
        .var("id", OFFER_A_CRISIS)
        .var("v", 1)
        .var("pause", pause)
        .as_caller(&provider_a())
        .send()
        .await;
    assert_eq!(
        resp.data()["setIntakePause"],
        json!({"version": 2, "intakePause": {"from": "2026-03-01", "until": "2026-04-30", "reason": "Renovation of the ward"}})
    );
    let public = app.graphql(PUBLIC_FIELDS).var("id", OFFER_A_CRISIS).as_caller(&patient_org()).send().await;
    assert_eq!(public.data()["careOffer"]["intakePause"]["reason"], "Renovation of the ward");

    let resp = app.graphql(END_PAUSE).var("id", OFFER_A_CRISIS).var("v", 2).as_caller(&provider_a()).send().await;
    assert_eq!(resp.data()["endIntakePause"], json!({"version": 3, "intakePause": null}));
}

#[tokio::test]
async fn other_provider_and_insurer_cannot_set_or_end_intake_pause() {
    let app = TestApp::spawn().await;
    let before_crisis = app.offer(OFFER_A_CRISIS).await;
    let before_fact = app.offer(OFFER_A_FACT).await;
    let pause = json!({"from": "2026-03-01", "reason": "Not yours"});
    for caller in [provider_b(), provider_c(), insurer_x(), patient_org()] {
        let resp = app
            .graphql(SET_PAUSE)
            .var("id", OFFER_A_CRISIS)
            .var("v", 1)
            .var("pause", pause.clone())
            .as_caller(&caller)
            .send()
            .await;
        assert_refused(&resp, "setIntakePause", "FORBIDDEN");
        let resp = app.graphql(END_PAUSE).var("id", OFFER_A_FACT).var("v", 1).as_caller(&caller).send().await;
        assert_refused(&resp, "endIntakePause", "FORBIDDEN");
    }
    assert_eq!(app.offer(OFFER_A_CRISIS).await, before_crisis);
    assert_eq!(app.offer(OFFER_A_FACT).await, before_fact);
}

#[tokio::test]
async fn intake_pause_ending_before_it_starts_is_bad_user_input() {
    let app = TestApp::spawn().await;
    let pause = json!({"from": "2026-03-01", "until": "2026-02-01", "reason": "Backwards"});
    let resp = app
        .graphql(SET_PAUSE)
        .var("id", OFFER_A_CRISIS)
        .var("v", 1)
        .var("pause", pause)
        .as_caller(&provider_a())
        .send()
        .await;
    assert_refused(&resp, "setIntakePause", "BAD_USER_INPUT");
    assert!(app.offer(OFFER_A_CRISIS).await["intakePause"].is_null());
}

#[tokio::test]
async fn changing_an_unknown_offer_is_not_found() {
    let app = TestApp::spawn().await;
    let resp =
        app.graphql(CLOSE).var("id", uuid::Uuid::from_u128(0xdead)).var("v", 1).as_caller(&provider_a()).send().await;
    assert_refused(&resp, "closeCareOffer", "NOT_FOUND");
}

/// Closing is a process (issue 21): an offer becomes CLOSING only by `announceOfferClosure`, so
/// neither a new offer nor `updateCareOffer` may set it, and the offer stays as it was.
#[tokio::test]
async fn closing_is_only_announced_never_set_directly() {
    let app = TestApp::spawn().await;
    let before = app.offer(OFFER_A_CRISIS).await;
    let resp = app
        .graphql(UPDATE)
        .var("id", OFFER_A_CRISIS)
        .var("v", 1)
        .var("input", json!({"status": "CLOSING"}))
        .as_caller(&provider_a())
        .send()
        .await;
    assert_refused(&resp, "updateCareOffer", "BAD_USER_INPUT");
    assert!(resp.body.to_string().contains("announceOfferClosure"), "{:#}", resp.body);
    assert_eq!(app.offer(OFFER_A_CRISIS).await, before);

    let mut input = new_offer();
    input["status"] = json!("CLOSING");
    let resp = app.graphql(CREATE).var("input", input).as_caller(&provider_a()).send().await;
    assert_refused(&resp, "createCareOffer", "BAD_USER_INPUT");
    assert!(resp.body.to_string().contains("announceOfferClosure"), "{:#}", resp.body);
}
