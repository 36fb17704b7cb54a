//! Escalations and the access matrix: only a region's chair (a provider or insurer) raises one;
//! the raising region's participants and the national table see all of it; everyone else (but
//! the operator) sees nothing until the national table decided, then the public part only.

use ggzhub_kit::testing::TestCaller;
use ggzhub_national_table::entity::escalation;
use serde_json::{Value, json};

use crate::helpers::*;

/// Fields only the raising region's participants and the national table may read.
/// What outsiders (municipalities, patient organisations, other regions) may not read of a decided
/// escalation: everything but its public part.
const RESTRICTED: [&str; 10] = [
    "raisedAt",
    "version",
    "problem",
    "regionTried",
    "affectedOffers",
    "urgency",
    "declineReason",
    "raisedBy",
    "transitions",
    "measures",
];

#[tokio::test]
async fn chair_of_the_region_raises_an_escalation() {
    let app = TestApp::spawn().await;
    for (who, chair) in [("provider chair", chair()), ("insurer chair", insurer_chair())] {
        let resp = app
            .graphql(RAISE)
            .var("input", raise_input("utrecht", &[OFFER_A_CRISIS, OFFER_A_FACT]))
            .as_caller(&chair)
            .send()
            .await;
        let e = &resp.data()["raiseEscalation"];
        assert_eq!(e["regionCode"], "utrecht", "{who}");
        assert_eq!(e["status"], "SUBMITTED", "{who}");
        assert_eq!(e["version"], 1, "{who}");
        assert_eq!(e["urgency"], "HIGH", "{who}");
        assert_eq!(e["problem"], PROBLEM, "{who}");
        assert_eq!(e["raisedBy"]["id"], chair.org.to_string(), "{who}");
        assert!(e["decidedAt"].is_null(), "{who}");
        assert_eq!(ids(&e["affectedOffers"]), sorted(&[&OFFER_A_CRISIS.to_string(), &OFFER_A_FACT.to_string()]));
    }
    assert_eq!(app.count::<escalation::Entity>().await, 2);
}

#[tokio::test]
async fn escalation_without_affected_offers_is_accepted() {
    let app = TestApp::spawn().await;
    let resp = app.graphql(RAISE).var("input", raise_input("utrecht", &[])).as_caller(&chair()).send().await;
    assert_eq!(resp.data()["raiseEscalation"]["affectedOffers"], json!([]));
}

async fn assert_raise_forbidden(app: &TestApp, who: &str, caller: &TestCaller, region: &str) {
    let offers = if region == "utrecht" { vec![OFFER_A_CRISIS] } else { vec![OFFER_B_HIC] };
    let resp = app.graphql(RAISE).var("input", raise_input(region, &offers)).as_caller(caller).send().await;
    assert_eq!(resp.error_code_at(&["raiseEscalation"]).as_deref(), Some("FORBIDDEN"), "{who}: {:#}", resp.body);
    assert!(resp.body["data"]["raiseEscalation"].is_null(), "{who}");
}

#[tokio::test]
async fn non_chair_participant_cannot_raise_an_escalation() {
    let app = TestApp::spawn().await;
    for (who, caller) in [("provider A", provider_a()), ("insurer X", insurer_x())] {
        assert_raise_forbidden(&app, who, &caller, "utrecht").await;
    }
    assert_eq!(app.count::<escalation::Entity>().await, 0);
    assert!(app.audit_entries().await.is_empty());
}

#[tokio::test]
async fn chair_of_another_region_cannot_raise_for_utrecht() {
    let app = TestApp::spawn().await;
    assert_raise_forbidden(&app, "amsterdam chair", &amsterdam_chair(), "utrecht").await;
    // Its own region is fine.
    let resp = app
        .graphql(RAISE)
        .var("input", raise_input("amsterdam", &[OFFER_B_HIC]))
        .as_caller(&amsterdam_chair())
        .send()
        .await;
    assert_eq!(resp.data()["raiseEscalation"]["regionCode"], "amsterdam");
    assert_eq!(app.count::<escalation::Entity>().await, 1);
}

#[tokio::test]
async fn only_providers_and_insurers_chairing_raise_escalations() {
    let app = TestApp::spawn().await;
    // Even with a chair role in the token, other kinds of organisation do not raise escalations.
    for (who, caller) in [
        ("national table", national_table()),
        ("national table with chair role", national_table().with_role("chair:utrecht")),
        ("patient organisation with chair role", patient_org().with_role("chair:utrecht")),
        ("municipality with chair role", municipality().with_role("chair:utrecht")),
        ("operator with chair role", operator().with_role("chair:utrecht")),
    ] {
        assert_raise_forbidden(&app, who, &caller, "utrecht").await;
    }
    // A chair whose token lacks overview:write does not either.
    assert_raise_forbidden(&app, "read-only chair", &chair().with_scopes(&["picture:read"]), "utrecht").await;
    assert_eq!(app.count::<escalation::Entity>().await, 0);
}

#[tokio::test]
async fn participants_and_national_table_see_the_whole_escalation() {
    let app = TestApp::spawn().await;
    let (id, _) = app.escalation_in_discussion().await;
    app.add_measure(&id, "2027-06-30").await;
    for (who, caller) in [
        ("chair", chair()),
        ("provider A", provider_a()),
        ("insurer X", insurer_x()),
        ("national table", national_table()),
    ] {
        let resp = app.graphql(ESCALATION_FULL).var("id", &id).as_caller(&caller).send().await;
        let e = &resp.data()["escalation"];
        assert_eq!(e["id"], id.as_str(), "{who}");
        assert_eq!(e["problem"], PROBLEM, "{who}");
        assert_eq!(e["regionTried"], REGION_TRIED, "{who}");
        assert_eq!(e["urgency"], "HIGH", "{who}");
        assert_eq!(e["raisedBy"]["id"], PROVIDER_A.to_string(), "{who}");
        assert_eq!(e["affectedOffers"], json!([{"id": OFFER_A_CRISIS.to_string()}]), "{who}");
        assert_eq!(e["transitions"].as_array().map(Vec::len), Some(1), "{who}");
        assert_eq!(e["measures"].as_array().map(Vec::len), Some(1), "{who}");
        assert_eq!(app.listed_escalations(&caller).await, vec![id.clone()], "{who}");
    }
}

#[tokio::test]
async fn non_participant_provider_gets_null_for_an_undecided_escalation() {
    let app = TestApp::spawn().await;
    let (id, _) = app.escalation_in_discussion().await;
    for (who, caller) in
        [("provider B", provider_b()), ("insurer Y", insurer_y()), ("amsterdam chair", amsterdam_chair())]
    {
        let resp = app.graphql(ESCALATION_FULL).var("id", &id).as_caller(&caller).send().await;
        // Exactly like an escalation that does not exist: null, no error, nothing of it in the body.
        assert_eq!(resp.data()["escalation"], Value::Null, "{who}");
        assert!(!resp.body.to_string().contains("crisis beds"), "{who}: {:#}", resp.body);
        assert!(app.listed_escalations(&caller).await.is_empty(), "{who}");
        let filtered = app
            .graphql(r#"query { escalations(region: "utrecht", status: IN_DISCUSSION) { nodes { id } } }"#)
            .as_caller(&caller)
            .send()
            .await;
        assert_eq!(filtered.data()["escalations"]["nodes"], json!([]), "{who}");
    }
    let missing = app.graphql(ESCALATION_FULL).var("id", uuid::Uuid::now_v7()).as_caller(&provider_b()).send().await;
    assert_eq!(missing.data()["escalation"], Value::Null);
}

#[tokio::test]
async fn undecided_escalation_is_invisible_to_patient_org_and_municipality() {
    let app = TestApp::spawn().await;
    let submitted = app.raise().await;
    let (in_discussion, _) = app.escalation_in_discussion().await;
    for (who, caller) in [("patient organisation", patient_org()), ("municipality", municipality())] {
        for id in [&submitted, &in_discussion] {
            let resp = app.graphql(ESCALATION_PUBLIC).var("id", id).as_caller(&caller).send().await;
            assert_eq!(resp.data()["escalation"], Value::Null, "{who}");
        }
        assert!(app.listed_escalations(&caller).await.is_empty(), "{who}");
    }
}

#[tokio::test]
async fn decided_escalation_shows_only_public_fields_to_outsiders() {
    let app = TestApp::spawn().await;
    let (id, _) = app.decided_escalation().await;
    // The public id carries no time: a UUIDv7 would give away the raise time hidden below.
    assert_eq!(uuid::Uuid::parse_str(&id).expect("a UUID").get_version_num(), 4, "{id}");
    for (who, caller) in [
        ("patient organisation", patient_org()),
        ("municipality", municipality()),
        ("provider B", provider_b()),
        ("insurer Y", insurer_y()),
    ] {
        let resp = app.graphql(ESCALATION_FULL).var("id", &id).as_caller(&caller).send().await;
        let e = &resp.body["data"]["escalation"];
        assert_eq!(e["id"], id.as_str(), "{who}: {:#}", resp.body);
        assert_eq!(e["regionCode"], "utrecht", "{who}");
        assert_eq!(e["category"], "ACUTE", "{who}");
        assert_eq!(e["targetGroup"], "Adolescents in acute crisis", "{who}");
        assert_eq!(e["status"], "MEASURE_AGREED", "{who}");
        assert_eq!(e["publicSummary"], PUBLIC_SUMMARY, "{who}");
        assert!(e["decidedAt"].is_string(), "{who}");
        for field in RESTRICTED {
            assert_field_forbidden(&resp, &["escalation", field]);
        }
        assert_eq!(resp.error_codes().len(), RESTRICTED.len(), "{who}: one FORBIDDEN per restricted field");
        let body = resp.body.to_string();
        assert!(!body.contains("crisis beds") && !body.contains("Bed sharing"), "{who}: {body}");
        assert_eq!(app.listed_escalations(&caller).await, vec![id.clone()], "{who}");
    }
}

#[tokio::test]
async fn decided_escalation_does_not_reveal_who_raised_it_through_meta() {
    let app = TestApp::spawn().await;
    let (id, _) = app.decided_escalation().await;
    let query = r#"query($id: ID!) { escalation(id: $id) { id raisedBy { id } meta { createdBy updatedBy } } }"#;
    let resp = app.graphql(query).var("id", &id).as_caller(&patient_org()).send().await;
    assert_field_forbidden(&resp, &["escalation", "raisedBy"]);
    assert_field_forbidden(&resp, &["escalation", "meta"]);
    assert!(
        !resp.body.to_string().contains(&PROVIDER_A.to_string()),
        "the raising organisation leaks: {:#}",
        resp.body
    );
    // Participants still see the record metadata.
    let resp = app.graphql(query).var("id", &id).as_caller(&insurer_x()).send().await;
    assert_eq!(resp.data()["escalation"]["meta"]["createdBy"], PROVIDER_A.to_string());
    assert_eq!(resp.data()["escalation"]["meta"]["updatedBy"], NATIONAL_TABLE.to_string());
}

#[tokio::test]
async fn operator_is_forbidden_to_read_escalations() {
    let app = TestApp::spawn().await;
    let (id, _) = app.decided_escalation().await;
    let resp = app.graphql(ESCALATION_PUBLIC).var("id", &id).as_caller(&operator()).send().await;
    assert_refused(&resp, "escalation", "FORBIDDEN");
    let resp = app.graphql("query { escalations { nodes { id } } }").as_caller(&operator()).send().await;
    assert_refused(&resp, "escalations", "FORBIDDEN");
}

#[tokio::test]
async fn escalations_list_filters_by_region_and_status() {
    let app = TestApp::spawn().await;
    let utrecht = app.raise().await;
    let resp = app
        .graphql(RAISE)
        .var("input", raise_input("amsterdam", &[OFFER_B_HIC]))
        .as_caller(&amsterdam_chair())
        .send()
        .await;
    let amsterdam = resp.data()["raiseEscalation"]["id"].as_str().expect("id").to_owned();
    let query = r#"query($region: String, $status: EscalationStatus) {
        escalations(region: $region, status: $status, first: 100) { nodes { id } } }"#;
    let list = |region: Option<&str>, status: Option<&str>| {
        let call = app.graphql(query).var("region", region).var("status", status).as_caller(&national_table());
        async move { ids(&call.send().await.data()["escalations"]["nodes"]) }
    };
    assert_eq!(list(None, None).await, sorted(&[&utrecht, &amsterdam]));
    assert_eq!(list(Some("amsterdam"), None).await, vec![amsterdam.clone()]);
    assert_eq!(list(Some("utrecht"), Some("SUBMITTED")).await, vec![utrecht.clone()]);
    assert!(list(None, Some("RESOLVED")).await.is_empty());
    // Participants of each region see their own undecided escalation only.
    assert_eq!(app.listed_escalations(&provider_a()).await, vec![utrecht]);
    assert_eq!(app.listed_escalations(&provider_b()).await, vec![amsterdam]);
}

#[tokio::test]
async fn escalations_are_paged_with_cursors() {
    let app = TestApp::spawn().await;
    let mut all = Vec::new();
    for _ in 0..5 {
        all.push(app.raise().await);
    }
    all.sort();
    let query = r#"query($after: String) { escalations(first: 2, after: $after) {
        nodes { id } pageInfo { hasNextPage endCursor } } }"#;
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let resp = app.graphql(query).var("after", &after).as_caller(&national_table()).send().await;
        let page = &resp.data()["escalations"];
        let nodes = page["nodes"].as_array().expect("nodes");
        assert!(nodes.len() <= 2);
        seen.extend(nodes.iter().map(|n| n["id"].as_str().expect("id").to_owned()));
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, all, "every escalation exactly once, in id order");
}
