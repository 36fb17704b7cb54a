//! Federation: `_entities` applies the same access rules as the direct queries (an escalation a
//! caller may not see is `null` + `NOT_FOUND`, exactly like a missing one, without blanking out
//! the rest of the batch); `Region` gains `escalations`, `supraRegionalCoverage` and
//! `uncoveredTargetGroups`, `CareOffer`
//! gains `supraRegionalListing`; `NationalKpi` resolves by code; `_service { sdl }` answers.

use serde_json::{Value, json};

use crate::helpers::*;

const ENTITIES: &str = r#"query($r: [_Any!]!) { _entities(representations: $r) {
    ... on Escalation { id status regionCode publicSummary problem }
    ... on Region { code escalations { id status } supraRegionalCoverage { offer { id } regionsServed } }
    ... on CareOffer { id supraRegionalListing { id hs8 } }
    ... on NationalKpi { code name targets { year } } } }"#;

fn escalation_rep(id: &str) -> Value {
    json!({"__typename": "Escalation", "id": id})
}

fn region_rep(code: &str) -> Value {
    json!({"__typename": "Region", "code": code})
}

fn offer_rep(id: impl ToString) -> Value {
    json!({"__typename": "CareOffer", "id": id.to_string()})
}

#[tokio::test]
async fn non_participant_gets_null_and_not_found_for_an_undecided_escalation() {
    let app = TestApp::spawn().await;
    let (id, _) = app.escalation_in_discussion().await;
    for (who, caller) in [
        ("provider B", provider_b()),
        ("insurer Y", insurer_y()),
        ("patient organisation", patient_org()),
        ("municipality", municipality()),
    ] {
        let resp = app.graphql(ENTITIES).var("r", json!([escalation_rep(&id)])).as_caller(&caller).send().await;
        assert_eq!(resp.body["data"]["_entities"], json!([null]), "{who}: {:#}", resp.body);
        assert_eq!(entity_error_codes(&resp, None), ["NOT_FOUND"], "{who}: {:#}", resp.body);
        assert!(!resp.body.to_string().contains("crisis beds"), "{who}: {:#}", resp.body);
    }
}

#[tokio::test]
async fn hidden_escalation_looks_exactly_like_a_missing_one() {
    let app = TestApp::spawn().await;
    let (id, _) = app.escalation_in_discussion().await;
    let missing = uuid::Uuid::now_v7().to_string();
    let message = |resp: &ggzhub_kit::testing::GraphqlResponse, id: &str| {
        resp.body["errors"][0]["message"].as_str().unwrap_or_default().replace(id, "<id>")
    };
    let hidden = app.graphql(ENTITIES).var("r", json!([escalation_rep(&id)])).as_caller(&provider_b()).send().await;
    let absent =
        app.graphql(ENTITIES).var("r", json!([escalation_rep(&missing)])).as_caller(&provider_b()).send().await;
    assert_eq!(hidden.body["data"], absent.body["data"]);
    assert_eq!(hidden.error_codes(), absent.error_codes());
    assert_eq!(message(&hidden, &id), message(&absent, &missing));
}

#[tokio::test]
async fn participants_and_national_table_resolve_an_undecided_escalation() {
    let app = TestApp::spawn().await;
    let (id, _) = app.escalation_in_discussion().await;
    for (who, caller) in
        [("provider A", provider_a()), ("insurer X", insurer_x()), ("national table", national_table())]
    {
        let resp = app.graphql(ENTITIES).var("r", json!([escalation_rep(&id)])).as_caller(&caller).send().await;
        assert_eq!(
            resp.data()["_entities"],
            json!([{"id": id, "status": "IN_DISCUSSION", "regionCode": "utrecht", "publicSummary": null, "problem": PROBLEM}]),
            "{who}"
        );
    }
}

#[tokio::test]
async fn decided_escalation_resolves_with_its_public_part_only() {
    let app = TestApp::spawn().await;
    let (id, _) = app.decided_escalation().await;
    let resp = app.graphql(ENTITIES).var("r", json!([escalation_rep(&id)])).as_caller(&patient_org()).send().await;
    let e = &resp.body["data"]["_entities"][0];
    assert_eq!(e["status"], "MEASURE_AGREED", "{:#}", resp.body);
    assert_eq!(e["publicSummary"], PUBLIC_SUMMARY);
    assert!(e["problem"].is_null());
    assert_eq!(entity_error_codes(&resp, Some("problem")), ["FORBIDDEN"], "{:#}", resp.body);
    assert!(!resp.body.to_string().contains("crisis beds"));
}

#[tokio::test]
async fn hidden_escalation_does_not_blank_out_the_rest_of_the_batch() {
    let app = TestApp::spawn().await;
    let (hidden, _) = app.escalation_in_discussion().await;
    let (decided, _) = app.decided_escalation().await;
    app.create_kpi("REGIONS_WITH_OVERVIEW").await;
    let reps = json!([
        escalation_rep(&decided),
        escalation_rep(&hidden),
        {"__typename": "NationalKpi", "code": "REGIONS_WITH_OVERVIEW"}
    ]);
    let query = r#"query($r: [_Any!]!) { _entities(representations: $r) {
        ... on Escalation { id status } ... on NationalKpi { code } } }"#;
    let resp = app.graphql(query).var("r", reps).as_caller(&provider_b()).send().await;
    assert_eq!(
        resp.body["data"]["_entities"],
        json!([{"id": decided, "status": "MEASURE_AGREED"}, null, {"code": "REGIONS_WITH_OVERVIEW"}]),
        "{:#}",
        resp.body
    );
    assert_eq!(entity_error_codes(&resp, None), ["NOT_FOUND"]);
}

#[tokio::test]
async fn operator_gets_null_and_forbidden_for_every_entity() {
    let app = TestApp::spawn().await;
    let (id, _) = app.decided_escalation().await;
    app.create_kpi("REGIONS_WITH_OVERVIEW").await;
    let reps = json!([
        escalation_rep(&id),
        region_rep("utrecht"),
        offer_rep(OFFER_A_HS8),
        {"__typename": "NationalKpi", "code": "REGIONS_WITH_OVERVIEW"}
    ]);
    let resp = app.graphql(ENTITIES).var("r", reps).as_caller(&operator()).send().await;
    assert_eq!(resp.body["data"]["_entities"], json!([null, null, null, null]), "{:#}", resp.body);
    assert_eq!(entity_error_codes(&resp, None), ["FORBIDDEN"; 4], "{:#}", resp.body);
}

#[tokio::test]
async fn region_shows_its_escalations_as_the_caller_may_see_them() {
    let app = TestApp::spawn().await;
    let (undecided, _) = app.escalation_in_discussion().await;
    let (decided, _) = app.decided_escalation().await;
    let resp = app
        .graphql(RAISE)
        .var("input", raise_input("amsterdam", &[OFFER_B_HIC]))
        .as_caller(&amsterdam_chair())
        .send()
        .await;
    let amsterdam = resp.data()["raiseEscalation"]["id"].as_str().expect("id").to_owned();
    let region_escalations = |caller: ggzhub_kit::testing::TestCaller| {
        let call = app
            .graphql(ENTITIES)
            .var("r", json!([region_rep("utrecht"), region_rep("amsterdam"), region_rep("groningen")]))
            .as_caller(&caller);
        async move {
            let resp = call.send().await;
            let entities = resp.data()["_entities"].as_array().expect("list").clone();
            entities.iter().map(|r| ids(&r["escalations"])).collect::<Vec<_>>()
        }
    };
    let none = Vec::<String>::new();
    assert_eq!(
        region_escalations(national_table()).await,
        [sorted(&[&undecided, &decided]), vec![amsterdam.clone()], none.clone()]
    );
    assert_eq!(region_escalations(provider_a()).await, [sorted(&[&undecided, &decided]), none.clone(), none.clone()]);
    assert_eq!(region_escalations(provider_b()).await, [vec![decided.clone()], vec![amsterdam], none.clone()]);
    assert_eq!(region_escalations(patient_org()).await, [vec![decided.clone()], none.clone(), none.clone()]);
    assert_eq!(region_escalations(municipality()).await, [vec![decided], none.clone(), none]);
}

#[tokio::test]
async fn region_escalations_are_newest_first() {
    let app = TestApp::spawn().await;
    let first = app.raise().await;
    let second = app.raise().await;
    let third = app.raise().await;
    let resp = app.graphql(ENTITIES).var("r", json!([region_rep("utrecht")])).as_caller(&insurer_x()).send().await;
    let order: Vec<&str> = resp.data()["_entities"][0]["escalations"]
        .as_array()
        .expect("list")
        .iter()
        .map(|e| e["id"].as_str().expect("id"))
        .collect();
    assert_eq!(order, [third.as_str(), second.as_str(), first.as_str()]);
}

#[tokio::test]
async fn region_coverage_includes_listed_offers_located_elsewhere() {
    let app = TestApp::spawn().await;
    // Located in utrecht, serving all three regions.
    app.create_listing(OFFER_A_HS8, &["utrecht", "amsterdam", "groningen"], None).await;
    // Located in amsterdam, serving utrecht as well.
    app.create_listing(OFFER_B_HIC, &["amsterdam", "utrecht"], None).await;
    let reps = json!([region_rep("utrecht"), region_rep("amsterdam"), region_rep("groningen"), region_rep("zeeland")]);
    for (who, caller) in readers() {
        let resp = app.graphql(ENTITIES).var("r", reps.clone()).as_caller(&caller).send().await;
        let coverage: Vec<Vec<String>> = resp.data()["_entities"]
            .as_array()
            .expect("list")
            .iter()
            .map(|r| {
                let mut offers: Vec<String> = r["supraRegionalCoverage"]
                    .as_array()
                    .expect("coverage")
                    .iter()
                    .map(|l| l["offer"]["id"].as_str().expect("offer id").to_owned())
                    .collect();
                offers.sort();
                offers
            })
            .collect();
        let (hs8, hic) = (OFFER_A_HS8.to_string(), OFFER_B_HIC.to_string());
        assert_eq!(coverage, [sorted(&[&hs8, &hic]), sorted(&[&hs8, &hic]), vec![hs8.clone()], vec![]], "{who}");
    }
}

#[tokio::test]
async fn region_shows_target_groups_no_listed_offer_serves_it() {
    let app = TestApp::spawn().await;
    // Known target groups: the network's ("Eating disorders") and the listing's.
    app.create_network("Netwerk Eetstoornissen").await;
    app.create_listing(OFFER_A_HS8, &["utrecht", "amsterdam"], None).await;
    let query =
        r#"query($r: [_Any!]!) { _entities(representations: $r) { ... on Region { code uncoveredTargetGroups } } }"#;
    let reps = json!([region_rep("utrecht"), region_rep("groningen")]);
    for (who, caller) in readers() {
        let resp = app.graphql(query).var("r", reps.clone()).as_caller(&caller).send().await;
        assert_eq!(
            resp.data()["_entities"],
            json!([
                {"code": "utrecht", "uncoveredTargetGroups": ["Eating disorders"]},
                {"code": "groningen", "uncoveredTargetGroups": ["Adults with severe eating disorders", "Eating disorders"]}
            ]),
            "{who}"
        );
    }
    let resp = app.graphql(query).var("r", reps).as_caller(&operator()).send().await;
    assert_eq!(resp.body["data"]["_entities"], json!([null, null]), "{:#}", resp.body);
    assert_eq!(entity_error_codes(&resp, None), ["FORBIDDEN", "FORBIDDEN"]);
}

#[tokio::test]
async fn care_offer_shows_its_listing() {
    let app = TestApp::spawn().await;
    let l = app.create_listing(OFFER_A_HS8, &["utrecht", "amsterdam"], None).await;
    let reps = json!([offer_rep(OFFER_A_HS8), offer_rep(OFFER_A_CRISIS)]);
    for (who, caller) in readers() {
        let resp = app.graphql(ENTITIES).var("r", reps.clone()).as_caller(&caller).send().await;
        assert_eq!(
            resp.data()["_entities"],
            json!([
                {"id": OFFER_A_HS8.to_string(), "supraRegionalListing": {"id": l["id"], "hs8": true}},
                {"id": OFFER_A_CRISIS.to_string(), "supraRegionalListing": null}
            ]),
            "{who}"
        );
    }
}

#[tokio::test]
async fn national_kpi_resolves_by_code() {
    let app = TestApp::spawn().await;
    let k = app.create_kpi("REGIONS_WITH_OVERVIEW").await;
    let reps = json!([
        {"__typename": "NationalKpi", "code": "REGIONS_WITH_OVERVIEW"},
        {"__typename": "NationalKpi", "code": "NO_SUCH_KPI"}
    ]);
    let resp = app.graphql(ENTITIES).var("r", reps).as_caller(&patient_org()).send().await;
    assert_eq!(
        resp.body["data"]["_entities"],
        json!([{"code": "REGIONS_WITH_OVERVIEW", "name": k["name"], "targets": [{"year": 2025}, {"year": 2026}, {"year": 2027}]}, null]),
        "{:#}",
        resp.body
    );
    assert_eq!(entity_error_codes(&resp, None), ["NOT_FOUND"]);
}

#[tokio::test]
async fn malformed_region_representation_is_null_and_bad_user_input() {
    let app = TestApp::spawn().await;
    let resp = app
        .graphql(ENTITIES)
        .var("r", json!([region_rep("Not A Code"), region_rep("utrecht")]))
        .as_caller(&national_table())
        .send()
        .await;
    assert!(resp.body["data"]["_entities"][0].is_null(), "{:#}", resp.body);
    assert_eq!(resp.body["data"]["_entities"][1]["code"], "utrecht");
    assert_eq!(entity_error_codes(&resp, None), ["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn service_sdl_declares_the_entities() {
    let app = TestApp::spawn().await;
    let resp = app.graphql("query { _service { sdl } }").as_caller(&provider_a()).send().await;
    let sdl = resp.data()["_service"]["sdl"].as_str().expect("sdl").to_owned();
    for needle in [
        "type Escalation @key(fields: \"id\")",
        "type NationalKpi @key(fields: \"code\")",
        "type Region @key(fields: \"code\")",
        "type CareOffer @key(fields: \"id\")",
        "supraRegionalCoverage",
        "supraRegionalListing",
        "raiseEscalation",
    ] {
        assert!(sdl.contains(needle), "SDL lacks {needle}");
    }
}
