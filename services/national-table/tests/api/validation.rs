//! Bad input: oversize or empty texts, malformed ids and codes, years outside the KPI period,
//! paging out of range and duplicates are refused (`BAD_USER_INPUT`, `CONFLICT` for a
//! duplicate) and store nothing.

use ggzhub_kit::testing::{GraphqlResponse, TestCaller};
use ggzhub_national_table::entity::{escalation, kpi, listing, measure, network};
use serde_json::{Value, json};

use crate::helpers::*;

async fn send(app: &TestApp, caller: &TestCaller, query: &str, vars: Value) -> GraphqlResponse {
    let mut call = app.graphql(query).as_caller(caller);
    for (name, value) in vars.as_object().expect("variables are an object") {
        call = call.var(name, value);
    }
    call.send().await
}

/// Asserts each variant of `vars` is refused with `BAD_USER_INPUT` at `field`.
async fn assert_bad_inputs(app: &TestApp, caller: &TestCaller, query: &str, field: &str, cases: Vec<(&str, Value)>) {
    for (case, vars) in cases {
        let resp = send(app, caller, query, vars).await;
        assert_eq!(resp.error_code_at(&[field]).as_deref(), Some("BAD_USER_INPUT"), "{case}: {:#}", resp.body);
        assert!(resp.body["data"][field].is_null(), "{case}");
    }
}

fn long(n: usize) -> String {
    "x".repeat(n)
}

fn with(mut base: Value, key: &str, value: Value) -> Value {
    base[key] = value;
    base
}

#[tokio::test]
async fn bad_escalation_input_is_refused_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let base = raise_input("utrecht", &[OFFER_A_CRISIS]);
    let many: Vec<String> = (0..21).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let cases = vec![
        ("empty target group", with(base.clone(), "targetGroup", json!("   "))),
        ("target group of 201 characters", with(base.clone(), "targetGroup", json!(long(201)))),
        ("problem of 8001 characters", with(base.clone(), "problem", json!(long(8001)))),
        ("empty problem", with(base.clone(), "problem", json!(""))),
        ("empty regionTried", with(base.clone(), "regionTried", json!(""))),
        ("regionTried of 8001 characters", with(base.clone(), "regionTried", json!(long(8001)))),
        ("control character in problem", with(base.clone(), "problem", json!("line\u{7}bell"))),
        ("malformed region code", with(base.clone(), "regionCode", json!("Utrecht"))),
        ("malformed offer id", with(base.clone(), "affectedOfferIds", json!(["not-an-id"]))),
        ("21 affected offers", with(base.clone(), "affectedOfferIds", json!(many))),
    ];
    let cases = cases.into_iter().map(|(c, input)| (c, json!({ "input": input }))).collect();
    assert_bad_inputs(&app, &chair(), RAISE, "raiseEscalation", cases).await;
    // 8000 characters is the limit itself.
    let resp = send(&app, &chair(), RAISE, json!({"input": with(base, "problem", json!(long(8000)))})).await;
    assert_eq!(resp.data()["raiseEscalation"]["status"], "SUBMITTED");
    assert_eq!(app.count::<escalation::Entity>().await, 1);
}

#[tokio::test]
async fn bad_transition_input_is_refused() {
    let app = TestApp::spawn().await;
    let id = app.raise().await;
    let cases = vec![
        ("malformed id", json!({"id": "not-an-id", "v": 1, "input": {"to": "IN_DISCUSSION"}})),
        ("note of 501 characters", json!({"id": id, "v": 1, "input": {"to": "IN_DISCUSSION", "note": long(501)}})),
        (
            "public summary of 8001 characters",
            json!({"id": id, "v": 1, "input": {"to": "DECLINED", "publicSummary": long(8001), "declineReason": "r"}}),
        ),
        (
            "decline reason of 8001 characters",
            json!({"id": id, "v": 1, "input": {"to": "DECLINED", "publicSummary": "s", "declineReason": long(8001)}}),
        ),
    ];
    assert_bad_inputs(&app, &national_table(), TRANSITION, "transitionEscalation", cases).await;
    let e = app.escalation(&id).await;
    assert_eq!(e["status"], "SUBMITTED");
    assert_eq!(e["version"], 1);
}

#[tokio::test]
async fn bad_measure_input_is_refused() {
    let app = TestApp::spawn().await;
    let (id, _) = app.escalation_in_discussion().await;
    let base = measure_input(PROVIDER_A, "2027-06-30");
    let cases = vec![
        ("malformed escalation id", json!({"e": "not-an-id", "input": base})),
        ("empty title", json!({"e": id, "input": with(base.clone(), "title", json!(""))})),
        ("title of 201 characters", json!({"e": id, "input": with(base.clone(), "title", json!(long(201)))})),
        ("empty description", json!({"e": id, "input": with(base.clone(), "description", json!(" "))})),
        (
            "description of 8001 characters",
            json!({"e": id, "input": with(base.clone(), "description", json!(long(8001)))}),
        ),
        ("malformed owner id", json!({"e": id, "input": with(base.clone(), "ownerOrganisationId", json!("org-a"))})),
    ];
    assert_bad_inputs(&app, &national_table(), ADD_MEASURE, "addMeasure", cases).await;
    assert_eq!(app.count::<measure::Entity>().await, 0);

    let m = app.add_measure(&id, "2027-06-30").await;
    let cases = vec![
        ("malformed id", json!({"id": "not-an-id", "v": 1, "input": {"status": "DONE"}})),
        ("empty title", json!({"id": m["id"], "v": 1, "input": {"title": ""}})),
        ("description of 8001 characters", json!({"id": m["id"], "v": 1, "input": {"description": long(8001)}})),
    ];
    assert_bad_inputs(&app, &national_table(), UPDATE_MEASURE, "updateMeasure", cases).await;
    let stored = &app.escalation(&id).await["measures"][0];
    assert_eq!(stored["title"], "Shared crisis bed pool");
    assert_eq!(stored["version"], 1);
}

#[tokio::test]
async fn bad_listing_input_is_refused() {
    let app = TestApp::spawn().await;
    let base = listing_input(OFFER_A_HS8, &["utrecht"], None);
    let too_many: Vec<String> = (0..51).map(|i| format!("region-{i}")).collect();
    let cases = vec![
        ("malformed offer id", with(base.clone(), "offerId", json!("offer-1"))),
        ("empty target group", with(base.clone(), "targetGroup", json!(""))),
        ("target group of 201 characters", with(base.clone(), "targetGroup", json!(long(201)))),
        ("no regions served", with(base.clone(), "regionsServed", json!([]))),
        ("malformed region code", with(base.clone(), "regionsServed", json!(["Not A Code"]))),
        ("51 regions served", with(base.clone(), "regionsServed", json!(too_many))),
        ("malformed network id", with(base.clone(), "expertiseNetworkId", json!("network-1"))),
    ];
    let cases = cases.into_iter().map(|(c, input)| (c, json!({ "input": input }))).collect();
    assert_bad_inputs(&app, &national_table(), CREATE_LISTING, "createSupraRegionalListing", cases).await;
    assert_eq!(app.count::<listing::Entity>().await, 0);

    let l = app.create_listing(OFFER_A_HS8, &["utrecht"], None).await;
    let cases = vec![
        ("malformed id", json!({"id": "not-an-id", "v": 1, "input": {"hs8": false}})),
        ("no regions served", json!({"id": l["id"], "v": 1, "input": {"regionsServed": []}})),
        ("empty target group", json!({"id": l["id"], "v": 1, "input": {"targetGroup": " "}})),
        (
            "unknown network",
            json!({"id": l["id"], "v": 1, "input": {"expertiseNetworkId": uuid::Uuid::now_v7().to_string()}}),
        ),
    ];
    assert_bad_inputs(&app, &national_table(), UPDATE_LISTING, "updateSupraRegionalListing", cases).await;
    let resp = send(&app, &national_table(), REMOVE_LISTING, json!({"id": "not-an-id", "v": 1})).await;
    assert_refused(&resp, "removeSupraRegionalListing", "BAD_USER_INPUT");
    let resp = app
        .graphql("query { supraRegionalListings { nodes { targetGroup regionsServed version } } }")
        .as_caller(&national_table())
        .send()
        .await;
    assert_eq!(
        resp.data()["supraRegionalListings"]["nodes"],
        json!([{"targetGroup": "Adults with severe eating disorders", "regionsServed": ["utrecht"], "version": 1}])
    );
}

#[tokio::test]
async fn bad_network_input_is_refused() {
    let app = TestApp::spawn().await;
    let base = network_input("Netwerk Psychose", &[PROVIDER_A]);
    let too_many: Vec<String> = (0..101).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let cases = vec![
        ("empty name", with(base.clone(), "name", json!(""))),
        ("name of 201 characters", with(base.clone(), "name", json!(long(201)))),
        ("empty target group", with(base.clone(), "targetGroup", json!(" "))),
        ("empty consultation contact", with(base.clone(), "consultationContact", json!(""))),
        ("consultation contact of 501 characters", with(base.clone(), "consultationContact", json!(long(501)))),
        ("malformed member id", with(base.clone(), "memberOrganisationIds", json!(["org-a"]))),
        ("101 members", with(base.clone(), "memberOrganisationIds", json!(too_many))),
    ];
    let cases = cases.into_iter().map(|(c, input)| (c, json!({ "input": input }))).collect();
    assert_bad_inputs(&app, &national_table(), CREATE_NETWORK, "createExpertiseNetwork", cases).await;
    assert_eq!(app.count::<network::Entity>().await, 0);
    let resp = send(&app, &national_table(), UPDATE_NETWORK, json!({"id": "not-an-id", "v": 1, "input": base})).await;
    assert_refused(&resp, "updateExpertiseNetwork", "BAD_USER_INPUT");
}

#[tokio::test]
async fn bad_kpi_input_is_refused() {
    let app = TestApp::spawn().await;
    let base = kpi_input("REGIONS_WITH_OVERVIEW");
    let cases = vec![
        ("kebab-case code", with(base.clone(), "code", json!("regions-with-overview"))),
        ("lower-case code", with(base.clone(), "code", json!("regions_with_overview"))),
        ("code starting with a digit", with(base.clone(), "code", json!("1ST_KPI"))),
        ("one-letter code", with(base.clone(), "code", json!("K"))),
        ("code of 65 characters", with(base.clone(), "code", json!("K".repeat(65)))),
        ("target for 2024", with(base.clone(), "targets", json!([{"year": 2024, "value": 10.0}]))),
        ("target for 2028", with(base.clone(), "targets", json!([{"year": 2028, "value": 10.0}]))),
        (
            "two targets for 2026",
            with(base.clone(), "targets", json!([{"year": 2026, "value": 10.0}, {"year": 2026, "value": 20.0}])),
        ),
        ("empty name", with(base.clone(), "name", json!(""))),
        ("empty definition", with(base.clone(), "definition", json!(" "))),
        ("definition of 8001 characters", with(base.clone(), "definition", json!(long(8001)))),
        ("unit of 65 characters", with(base.clone(), "unit", json!(long(65)))),
    ];
    let cases = cases.into_iter().map(|(c, input)| (c, json!({ "input": input }))).collect();
    assert_bad_inputs(&app, &national_table(), CREATE_KPI, "createNationalKpi", cases).await;
    assert_eq!(app.count::<kpi::Entity>().await, 0);

    app.create_kpi("REGIONS_WITH_OVERVIEW").await;
    let cases = vec![
        ("malformed code", json!({"code": "bad-code", "v": 1, "input": {"name": "x"}})),
        (
            "target for 2024",
            json!({"code": "REGIONS_WITH_OVERVIEW", "v": 1, "input": {"targets": [{"year": 2024, "value": 1.0}]}}),
        ),
        (
            "two targets for 2027",
            json!({"code": "REGIONS_WITH_OVERVIEW", "v": 1,
                   "input": {"targets": [{"year": 2027, "value": 1.0}, {"year": 2027, "value": 2.0}]}}),
        ),
        ("empty name", json!({"code": "REGIONS_WITH_OVERVIEW", "v": 1, "input": {"name": ""}})),
    ];
    assert_bad_inputs(&app, &national_table(), UPDATE_KPI, "updateNationalKpi", cases).await;
    let resp = app
        .graphql(r#"query { nationalKpi(code: "REGIONS_WITH_OVERVIEW") { name targets { year } version } }"#)
        .as_caller(&national_table())
        .send()
        .await;
    assert_eq!(
        resp.data()["nationalKpi"],
        json!({"name": "Regions with a complete regional overview",
               "targets": [{"year": 2025}, {"year": 2026}, {"year": 2027}], "version": 1})
    );

    let cases = vec![
        ("malformed code", json!({"code": "bad", "year": 2025, "value": 1.0})),
        ("year 1999", json!({"code": "REGIONS_WITH_OVERVIEW", "year": 1999, "value": 1.0})),
        ("malformed region", json!({"code": "REGIONS_WITH_OVERVIEW", "year": 2025, "region": "Utrecht", "value": 1.0})),
    ];
    assert_bad_inputs(&app, &national_table(), RECORD_MEASUREMENT, "recordKpiMeasurement", cases).await;
}

#[tokio::test]
async fn duplicate_kpi_code_is_a_conflict() {
    let app = TestApp::spawn().await;
    app.create_kpi("REGIONS_WITH_OVERVIEW").await;
    let mut input = kpi_input("REGIONS_WITH_OVERVIEW");
    input["name"] = json!("Another name");
    let resp = app.graphql(CREATE_KPI).var("input", input).as_caller(&national_table()).send().await;
    assert_refused(&resp, "createNationalKpi", "CONFLICT");
    assert_eq!(app.count::<kpi::Entity>().await, 1);
    let resp = app
        .graphql(r#"query { nationalKpi(code: "REGIONS_WITH_OVERVIEW") { name } }"#)
        .as_caller(&national_table())
        .send()
        .await;
    assert_eq!(resp.data()["nationalKpi"]["name"], "Regions with a complete regional overview");
}

#[tokio::test]
async fn paging_out_of_range_and_bad_cursors_are_refused() {
    let app = TestApp::spawn().await;
    app.raise().await;
    for list in ["escalations", "supraRegionalListings"] {
        for bad in ["first: 0", "first: 101", "first: -1", r#"after: "!!""#, r#"after: "Zm9v!""#, r#"after: """#] {
            let query = format!("query {{ {list}({bad}) {{ nodes {{ id }} }} }}");
            let resp = app.graphql(&query).as_caller(&national_table()).send().await;
            assert_eq!(
                resp.error_code_at(&[list]).as_deref(),
                Some("BAD_USER_INPUT"),
                "{list}({bad}): {:#}",
                resp.body
            );
        }
        for good in ["first: 1", "first: 100"] {
            let query = format!("query {{ {list}({good}) {{ nodes {{ id }} }} }}");
            app.graphql(&query).as_caller(&national_table()).send().await.data();
        }
    }
    for query in [
        r#"query { escalations(region: "Not A Code") { nodes { id } } }"#,
        r#"query { supraRegionalListings(region: "Not A Code") { nodes { id } } }"#,
    ] {
        let resp = app.graphql(query).as_caller(&national_table()).send().await;
        resp.expect_error("BAD_USER_INPUT");
    }
}
