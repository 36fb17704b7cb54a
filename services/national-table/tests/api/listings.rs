//! The supra-regional (national crucial) offer list: read by every organisation but the hub
//! operator, created, changed and removed by the national table only; an offer is listed once.

use ggzhub_national_table::entity::listing;
use serde_json::json;

use crate::helpers::*;

const LISTINGS: &str = r#"query($hs8: Boolean, $region: String) { supraRegionalListings(hs8: $hs8, region: $region, first: 100) {
    nodes { id offer { id } targetGroup regionsServed regions { code } hs8 expertiseNetwork { name } version } } }"#;
const LISTING: &str = r#"query($id: ID!) { supraRegionalListing(id: $id) { id offer { id } hs8 } }"#;

#[tokio::test]
async fn national_table_lists_an_offer_with_its_regions_and_network() {
    let app = TestApp::spawn().await;
    let network = app.create_network("Netwerk Eetstoornissen").await;
    let network_id = network["id"].as_str().expect("id");
    let l = app.create_listing(OFFER_A_HS8, &["utrecht", "amsterdam", "groningen"], Some(network_id)).await;
    assert_eq!(l["offer"]["id"], OFFER_A_HS8.to_string());
    assert_eq!(l["regionsServed"], json!(["utrecht", "amsterdam", "groningen"]));
    assert_eq!(l["hs8"], true);
    assert_eq!(l["expertiseNetwork"], json!({"id": network_id, "name": "Netwerk Eetstoornissen"}));
    assert_eq!(l["version"], 1);
    let listing_id = l["id"].as_str().expect("id");

    for (who, caller) in readers() {
        let resp = app.graphql(LISTINGS).as_caller(&caller).send().await;
        let nodes = &resp.data()["supraRegionalListings"]["nodes"];
        assert_eq!(ids(nodes), vec![listing_id.to_owned()], "{who}");
        assert_eq!(nodes[0]["expertiseNetwork"]["name"], "Netwerk Eetstoornissen", "{who}");
        assert_eq!(nodes[0]["regions"], json!([{"code": "utrecht"}, {"code": "amsterdam"}, {"code": "groningen"}]));
        let resp = app.graphql(LISTING).var("id", listing_id).as_caller(&caller).send().await;
        assert_eq!(resp.data()["supraRegionalListing"]["offer"]["id"], OFFER_A_HS8.to_string(), "{who}");
    }
}

#[tokio::test]
async fn duplicate_regions_served_are_stored_once() {
    let app = TestApp::spawn().await;
    let l = app.create_listing(OFFER_A_HS8, &["utrecht", "amsterdam", "utrecht"], None).await;
    assert_eq!(l["regionsServed"], json!(["utrecht", "amsterdam"]));
}

#[tokio::test]
async fn listings_filter_by_hs8_and_by_region_served() {
    let app = TestApp::spawn().await;
    let hs8 = app.create_listing(OFFER_A_HS8, &["utrecht", "groningen"], None).await;
    let mut input = listing_input(OFFER_B_HIC, &["amsterdam", "utrecht"], None);
    input["hs8"] = json!(false);
    let resp = app.graphql(CREATE_LISTING).var("input", input).as_caller(&national_table()).send().await;
    let hic = resp.data()["createSupraRegionalListing"].clone();
    let (hs8, hic) = (hs8["id"].as_str().expect("id").to_owned(), hic["id"].as_str().expect("id").to_owned());
    let list = |hs8: Option<bool>, region: Option<&str>| {
        let call = app.graphql(LISTINGS).var("hs8", hs8).var("region", region).as_caller(&patient_org());
        async move { ids(&call.send().await.data()["supraRegionalListings"]["nodes"]) }
    };
    assert_eq!(list(None, None).await, sorted(&[&hs8, &hic]));
    assert_eq!(list(Some(true), None).await, vec![hs8.clone()]);
    assert_eq!(list(Some(false), None).await, vec![hic.clone()]);
    assert_eq!(list(None, Some("utrecht")).await, sorted(&[&hs8, &hic]));
    assert_eq!(list(None, Some("groningen")).await, vec![hs8.clone()]);
    assert_eq!(list(None, Some("amsterdam")).await, vec![hic.clone()]);
    assert_eq!(list(Some(true), Some("amsterdam")).await, Vec::<String>::new());
}

#[tokio::test]
async fn national_table_updates_a_listing() {
    let app = TestApp::spawn().await;
    let l = app.create_listing(OFFER_A_HS8, &["utrecht"], None).await;
    let network = app.create_network("Netwerk Eetstoornissen").await;
    let resp = app
        .graphql(UPDATE_LISTING)
        .var("id", &l["id"])
        .var("v", 1)
        .var(
            "input",
            json!({"targetGroup": "Children with eating disorders", "regionsServed": ["groningen", "amsterdam"],
                   "hs8": false, "expertiseNetworkId": network["id"]}),
        )
        .as_caller(&national_table())
        .send()
        .await;
    assert_eq!(
        resp.data()["updateSupraRegionalListing"],
        json!({"id": l["id"], "targetGroup": "Children with eating disorders", "regionsServed": ["groningen", "amsterdam"],
               "hs8": false, "expertiseNetwork": {"id": network["id"]}, "version": 2})
    );
    // Omitted fields stay.
    let resp = app
        .graphql(UPDATE_LISTING)
        .var("id", &l["id"])
        .var("v", 2)
        .var("input", json!({"hs8": true}))
        .as_caller(&national_table())
        .send()
        .await;
    let u = &resp.data()["updateSupraRegionalListing"];
    assert_eq!(u["targetGroup"], "Children with eating disorders");
    assert_eq!(u["regionsServed"], json!(["groningen", "amsterdam"]));
    assert_eq!(u["hs8"], true);
    assert_eq!(u["version"], 3);
}

#[tokio::test]
async fn national_table_removes_a_listing() {
    let app = TestApp::spawn().await;
    let l = app.create_listing(OFFER_A_HS8, &["utrecht"], None).await;
    let resp = app.graphql(REMOVE_LISTING).var("id", &l["id"]).var("v", 1).as_caller(&national_table()).send().await;
    assert_eq!(resp.data()["removeSupraRegionalListing"], l["id"]);
    assert_eq!(app.count::<listing::Entity>().await, 0);
    let resp = app.graphql(LISTING).var("id", &l["id"]).as_caller(&provider_a()).send().await;
    assert!(resp.data()["supraRegionalListing"].is_null());
    // Gone is gone; and the offer may be listed again.
    let resp = app.graphql(REMOVE_LISTING).var("id", &l["id"]).var("v", 1).as_caller(&national_table()).send().await;
    assert_refused(&resp, "removeSupraRegionalListing", "NOT_FOUND");
    app.create_listing(OFFER_A_HS8, &["utrecht"], None).await;
    let actions: Vec<String> = app.audit_entries().await.into_iter().map(|e| e.action).collect();
    assert_eq!(actions, ["create", "remove", "create"]);
}

#[tokio::test]
async fn only_the_national_table_writes_the_list() {
    let app = TestApp::spawn().await;
    let l = app.create_listing(OFFER_A_HS8, &["utrecht"], None).await;
    let audit_before = app.audit_entries().await.len();
    for (who, caller) in non_national_writers() {
        let resp = app
            .graphql(CREATE_LISTING)
            .var("input", listing_input(OFFER_B_HIC, &["amsterdam"], None))
            .as_caller(&caller)
            .send()
            .await;
        assert_eq!(resp.error_code_at(&["createSupraRegionalListing"]).as_deref(), Some("FORBIDDEN"), "{who}");
        let resp = app
            .graphql(UPDATE_LISTING)
            .var("id", &l["id"])
            .var("v", 1)
            .var("input", json!({"hs8": false}))
            .as_caller(&caller)
            .send()
            .await;
        assert_eq!(resp.error_code_at(&["updateSupraRegionalListing"]).as_deref(), Some("FORBIDDEN"), "{who}");
        let resp = app.graphql(REMOVE_LISTING).var("id", &l["id"]).var("v", 1).as_caller(&caller).send().await;
        assert_eq!(resp.error_code_at(&["removeSupraRegionalListing"]).as_deref(), Some("FORBIDDEN"), "{who}");
    }
    let resp = app.graphql(LISTINGS).as_caller(&national_table()).send().await;
    let nodes = &resp.data()["supraRegionalListings"]["nodes"];
    assert_eq!(ids(nodes), vec![l["id"].as_str().expect("id").to_owned()]);
    assert_eq!(nodes[0]["hs8"], true);
    assert_eq!(nodes[0]["version"], 1);
    assert_eq!(app.audit_entries().await.len(), audit_before);
}

#[tokio::test]
async fn operator_is_forbidden_to_read_the_list() {
    let app = TestApp::spawn().await;
    let l = app.create_listing(OFFER_A_HS8, &["utrecht"], None).await;
    let resp = app.graphql(LISTINGS).as_caller(&operator()).send().await;
    assert_refused(&resp, "supraRegionalListings", "FORBIDDEN");
    let resp = app.graphql(LISTING).var("id", &l["id"]).as_caller(&operator()).send().await;
    assert_refused(&resp, "supraRegionalListing", "FORBIDDEN");
}

#[tokio::test]
async fn an_offer_is_listed_once() {
    let app = TestApp::spawn().await;
    app.create_listing(OFFER_A_HS8, &["utrecht"], None).await;
    let resp = app
        .graphql(CREATE_LISTING)
        .var("input", listing_input(OFFER_A_HS8, &["amsterdam"], None))
        .as_caller(&national_table())
        .send()
        .await;
    assert_refused(&resp, "createSupraRegionalListing", "CONFLICT");
    assert_eq!(app.count::<listing::Entity>().await, 1);
}

#[tokio::test]
async fn listing_with_an_unknown_expertise_network_is_refused() {
    let app = TestApp::spawn().await;
    let unknown = uuid::Uuid::now_v7().to_string();
    let resp = app
        .graphql(CREATE_LISTING)
        .var("input", listing_input(OFFER_A_HS8, &["utrecht"], Some(&unknown)))
        .as_caller(&national_table())
        .send()
        .await;
    assert_refused(&resp, "createSupraRegionalListing", "BAD_USER_INPUT");
    assert_eq!(app.count::<listing::Entity>().await, 0);
}
