//! Regions, organisations and code lists: everyone reads them; only the hub operator (scope
//! `admin`) changes regions and organisations.

use serde_json::json;

use crate::helpers::*;

const PICTURE: &str = r#"query {
    regions { nodes { code name kind neighbours { code } coordinatingInsurer { id } version } }
    region(code: "utrecht") { code name coordinatingInsurer { name } }
    organisations(first: 100) { nodes { id name kind regions { code } } }
    careForms { code category name }
    diagnosisGroups { code name }
}"#;

const CREATE_REGION: &str = r#"mutation($input: CreateRegionInput!) { createRegion(input: $input) {
    code name kind neighbours { code } coordinatingInsurer { id } version } }"#;
const UPDATE_REGION: &str = r#"mutation($code: String!, $v: Int!, $input: UpdateRegionInput!) {
    updateRegion(code: $code, expectedVersion: $v, input: $input) { code name version } }"#;
const CREATE_ORGANISATION: &str = r#"mutation($input: CreateOrganisationInput!) {
    createOrganisation(input: $input) { id name kind regions { code } version } }"#;

fn new_region() -> serde_json::Value {
    json!({"code": "zwolle", "name": "Zwolle", "kind": "IZA", "neighbours": ["groningen"], "coordinatingInsurerId": INSURER_X})
}

fn new_organisation() -> serde_json::Value {
    json!({"name": "GGZ Aanbieder D", "kind": "PROVIDER", "kvk": "12345678", "regions": ["groningen"]})
}

#[tokio::test]
async fn every_kind_of_organisation_reads_regions_organisations_and_code_lists() {
    let app = TestApp::spawn().await;
    for (who, caller) in all_personas() {
        let resp = app.graphql(PICTURE).as_caller(&caller).send().await;
        let data = resp.data();
        let codes: Vec<&str> =
            data["regions"]["nodes"].as_array().expect("regions").iter().filter_map(|r| r["code"].as_str()).collect();
        assert_eq!(codes, ["amsterdam", "groningen", "utrecht"], "{who}");
        assert_eq!(data["region"]["coordinatingInsurer"]["name"], "Zorgverzekeraar X", "{who}");
        assert_eq!(data["organisations"]["nodes"].as_array().map(Vec::len), Some(10), "{who}");
        assert_eq!(data["careForms"].as_array().map(Vec::len), Some(4), "{who}");
        assert_eq!(data["diagnosisGroups"].as_array().map(Vec::len), Some(2), "{who}");
    }
}

#[tokio::test]
async fn region_shows_neighbours_and_coordinating_insurer() {
    let app = TestApp::spawn().await;
    let resp = app
        .graphql(
            r#"query { region(code: "amsterdam") { name kind neighbours { code } coordinatingInsurer { id kind } } }"#,
        )
        .as_caller(&patient_org())
        .send()
        .await;
    assert_eq!(
        resp.data()["region"],
        json!({"name": "Amsterdam", "kind": "IZA", "neighbours": [{"code": "utrecht"}, {"code": "groningen"}],
               "coordinatingInsurer": {"id": INSURER_Y.to_string(), "kind": "INSURER"}})
    );
}

#[tokio::test]
async fn unknown_region_is_null() {
    let app = TestApp::spawn().await;
    let resp = app.graphql(r#"query { region(code: "atlantis") { code } }"#).as_caller(&provider_a()).send().await;
    assert!(resp.data()["region"].is_null());
}

#[tokio::test]
async fn organisations_filter_by_kind_and_region() {
    let app = TestApp::spawn().await;
    let resp = app
        .graphql(r#"query { organisations(kind: PROVIDER, region: "utrecht") { nodes { id } } }"#)
        .as_caller(&municipality())
        .send()
        .await;
    assert_eq!(ids(&resp.data()["organisations"]["nodes"]), id_list(&[PROVIDER_A, PROVIDER_C]));
}

#[tokio::test]
async fn operator_creates_region() {
    let app = TestApp::spawn().await;
    let resp = app.graphql(CREATE_REGION).var("input", new_region()).as_caller(&operator()).send().await;
    assert_eq!(
        resp.data()["createRegion"],
        json!({"code": "zwolle", "name": "Zwolle", "kind": "IZA", "neighbours": [{"code": "groningen"}],
               "coordinatingInsurer": {"id": INSURER_X.to_string()}, "version": 1})
    );
    let read = app.graphql(r#"query { region(code: "zwolle") { name } }"#).as_caller(&patient_org()).send().await;
    assert_eq!(read.data()["region"]["name"], "Zwolle");
}

#[tokio::test]
async fn only_operator_creates_regions() {
    let app = TestApp::spawn().await;
    for (who, caller) in all_personas().into_iter().filter(|(w, _)| *w != "hub operator") {
        let resp = app.graphql(CREATE_REGION).var("input", new_region()).as_caller(&caller).send().await;
        assert_eq!(resp.error_code_at(&["createRegion"]).as_deref(), Some("FORBIDDEN"), "{who}: {:#}", resp.body);
    }
    let read = app.graphql(r#"query { region(code: "zwolle") { name } }"#).as_caller(&operator()).send().await;
    assert!(read.data()["region"].is_null(), "no region was created");
}

#[tokio::test]
async fn operator_updates_region_and_version_increments() {
    let app = TestApp::spawn().await;
    let resp = app
        .graphql(UPDATE_REGION)
        .var("code", "groningen")
        .var("v", 1)
        .var("input", json!({"name": "Groningen en Drenthe", "coordinatingInsurerId": INSURER_Y}))
        .as_caller(&operator())
        .send()
        .await;
    assert_eq!(resp.data()["updateRegion"], json!({"code": "groningen", "name": "Groningen en Drenthe", "version": 2}));
}

#[tokio::test]
async fn provider_cannot_update_region() {
    let app = TestApp::spawn().await;
    let resp = app
        .graphql(UPDATE_REGION)
        .var("code", "utrecht")
        .var("v", 1)
        .var("input", json!({"name": "Hijacked"}))
        .as_caller(&provider_a())
        .send()
        .await;
    assert_refused(&resp, "updateRegion", "FORBIDDEN");
    let read = app.graphql(r#"query { region(code: "utrecht") { name version } }"#).as_caller(&operator()).send().await;
    assert_eq!(read.data()["region"], json!({"name": "Utrecht", "version": 1}));
}

#[tokio::test]
async fn operator_creates_organisation() {
    let app = TestApp::spawn().await;
    let resp = app.graphql(CREATE_ORGANISATION).var("input", new_organisation()).as_caller(&operator()).send().await;
    let org = &resp.data()["createOrganisation"];
    assert_eq!(org["name"], "GGZ Aanbieder D");
    assert_eq!(org["kind"], "PROVIDER");
    assert_eq!(org["regions"], json!([{"code": "groningen"}]));
    assert_eq!(org["version"], 1);
    let id = org["id"].as_str().expect("id");
    let read = app
        .graphql("query($id: ID!) { organisation(id: $id) { name } }")
        .var("id", id)
        .as_caller(&insurer_y())
        .send()
        .await;
    assert_eq!(read.data()["organisation"]["name"], "GGZ Aanbieder D");
}

#[tokio::test]
async fn provider_cannot_create_organisation() {
    let app = TestApp::spawn().await;
    for caller in [provider_a(), insurer_x(), national_table(), patient_org()] {
        let resp = app.graphql(CREATE_ORGANISATION).var("input", new_organisation()).as_caller(&caller).send().await;
        assert_refused(&resp, "createOrganisation", "FORBIDDEN");
    }
    let read = app.graphql("query { organisations(first: 100) { nodes { id } } }").as_caller(&operator()).send().await;
    assert_eq!(read.data()["organisations"]["nodes"].as_array().map(Vec::len), Some(10));
}

#[tokio::test]
async fn provider_cannot_update_organisation() {
    let app = TestApp::spawn().await;
    let resp = app
        .graphql(
            "mutation($id: ID!) { updateOrganisation(id: $id, expectedVersion: 1, input: {name: \"Renamed\"}) { name } }",
        )
        .var("id", PROVIDER_A)
        .as_caller(&provider_a())
        .send()
        .await;
    assert_refused(&resp, "updateOrganisation", "FORBIDDEN");
}

#[tokio::test]
async fn coordinating_insurer_must_be_an_insurer() {
    let app = TestApp::spawn().await;
    let mut input = new_region();
    input["coordinatingInsurerId"] = json!(PROVIDER_A);
    let resp = app.graphql(CREATE_REGION).var("input", input).as_caller(&operator()).send().await;
    assert_refused(&resp, "createRegion", "BAD_USER_INPUT");
}

#[tokio::test]
async fn region_code_already_in_use_is_bad_user_input() {
    let app = TestApp::spawn().await;
    let mut input = new_region();
    input["code"] = json!("utrecht");
    let resp = app.graphql(CREATE_REGION).var("input", input).as_caller(&operator()).send().await;
    assert_refused(&resp, "createRegion", "BAD_USER_INPUT");
}

const REGION_TILE: &str = r#"query($code: String!) { region(code: $code) { tile { row column } } }"#;

#[tokio::test]
async fn operator_places_regions_on_the_tile_map_one_per_tile_and_kind() {
    let app = TestApp::spawn().await;
    let mut input = new_region();
    input["tile"] = json!({"row": 1, "column": 4});
    let resp = app.graphql(CREATE_REGION).var("input", input).as_caller(&operator()).send().await;
    assert_eq!(resp.data()["createRegion"]["code"], "zwolle", "{:#}", resp.body);
    let read = app.graphql(REGION_TILE).var("code", "zwolle").as_caller(&patient_org()).send().await;
    assert_eq!(read.data()["region"]["tile"], json!({"row": 1, "column": 4}), "public: {:#}", read.body);
    let read = app.graphql(REGION_TILE).var("code", "utrecht").as_caller(&patient_org()).send().await;
    assert!(read.data()["region"]["tile"].is_null(), "no tile yet: {:#}", read.body);

    // Another IZA region may not take zwolle's tile; utrecht moves to a free one.
    let taken = json!({"tile": {"row": 1, "column": 4}});
    let resp = app.graphql(UPDATE_REGION).var("code", "utrecht").var("v", 1).var("input", taken.clone());
    let resp = resp.as_caller(&operator()).send().await;
    assert_refused(&resp, "updateRegion", "BAD_USER_INPUT");
    assert!(resp.body["errors"][0]["message"].as_str().expect("message").contains("zwolle"), "{:#}", resp.body);
    // A care-office region has a map of its own: the same tile is free there.
    let resp = app.graphql(UPDATE_REGION).var("code", "groningen").var("v", 1).var("input", taken);
    assert_eq!(resp.as_caller(&operator()).send().await.data()["updateRegion"]["version"], 2);
    let free = json!({"tile": {"row": 3, "column": 3}});
    let resp = app.graphql(UPDATE_REGION).var("code", "utrecht").var("v", 1).var("input", free);
    assert_eq!(resp.as_caller(&operator()).send().await.data()["updateRegion"]["version"], 2);
    let read = app.graphql(REGION_TILE).var("code", "utrecht").as_caller(&provider_a()).send().await;
    assert_eq!(read.data()["region"]["tile"], json!({"row": 3, "column": 3}));

    // Off the map, and not the operator.
    for tile in [json!({"row": -1, "column": 0}), json!({"row": 0, "column": 30})] {
        let resp = app.graphql(UPDATE_REGION).var("code", "amsterdam").var("v", 1).var("input", json!({"tile": tile}));
        assert_refused(&resp.as_caller(&operator()).send().await, "updateRegion", "BAD_USER_INPUT");
    }
    let resp = app.graphql(UPDATE_REGION).var("code", "amsterdam").var("v", 1);
    let resp = resp.var("input", json!({"tile": {"row": 5, "column": 5}})).as_caller(&provider_a()).send().await;
    assert_refused(&resp, "updateRegion", "FORBIDDEN");
}
