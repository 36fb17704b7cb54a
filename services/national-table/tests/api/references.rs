//! References to entities the region subgraph owns (region codes, offer ids, organisation ids)
//! are checked with it when the change is made: an unknown one is `BAD_USER_INPUT`; when the
//! region subgraph cannot be asked, the change is `SUBGRAPH_UNAVAILABLE` and nothing is stored.

use ggzhub_national_table::entity::{escalation, kpi, listing, measure, measurement, network};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn raising_for_an_unknown_region_is_bad_user_input() {
    let app = TestApp::spawn().await;
    // The token may claim any chair; the region subgraph decides whether the region exists.
    let chair_of_nowhere = provider_a().with_role("chair:atlantis");
    let resp = app.graphql(RAISE).var("input", raise_input("atlantis", &[])).as_caller(&chair_of_nowhere).send().await;
    assert_refused(&resp, "raiseEscalation", "BAD_USER_INPUT");
    assert!(resp.expect_error("BAD_USER_INPUT").contains("atlantis"));
    assert_eq!(app.count::<escalation::Entity>().await, 0);
}

#[tokio::test]
async fn unknown_affected_offer_is_bad_user_input() {
    let app = TestApp::spawn().await;
    let resp = app
        .graphql(RAISE)
        .var("input", raise_input("utrecht", &[OFFER_A_CRISIS, UNKNOWN_OFFER]))
        .as_caller(&chair())
        .send()
        .await;
    assert_refused(&resp, "raiseEscalation", "BAD_USER_INPUT");
    assert!(resp.expect_error("BAD_USER_INPUT").contains(&UNKNOWN_OFFER.to_string()));
    assert_eq!(app.count::<escalation::Entity>().await, 0);
    // The region and both offers were asked in one round trip, on the chair's behalf, read-only.
    let asked = app.region().requests();
    assert_eq!(asked.len(), 1, "one request to the region subgraph: {asked:#?}");
    assert_eq!(
        asked[0].representations,
        [
            json!({"__typename": "Region", "code": "utrecht"}),
            json!({"__typename": "CareOffer", "id": OFFER_A_CRISIS.to_string()}),
            json!({"__typename": "CareOffer", "id": UNKNOWN_OFFER.to_string()}),
        ]
    );
    let on_behalf_of = asked[0].caller().expect("a valid internal token for the region subgraph");
    assert_eq!((on_behalf_of.org, on_behalf_of.kind), (PROVIDER_A, ggzhub_kit::OrgKind::Provider));
    assert_eq!(on_behalf_of.scopes.iter().collect::<Vec<_>>(), ["picture:read"]);
}

#[tokio::test]
async fn affected_offer_located_in_another_region_is_bad_user_input() {
    let app = TestApp::spawn().await;
    let resp = app
        .graphql(RAISE)
        .var("input", raise_input("utrecht", &[OFFER_A_CRISIS, OFFER_B_HIC]))
        .as_caller(&chair())
        .send()
        .await;
    assert_refused(&resp, "raiseEscalation", "BAD_USER_INPUT");
    let message = resp.expect_error("BAD_USER_INPUT");
    assert!(message.contains(&OFFER_B_HIC.to_string()) && message.contains("amsterdam"), "{message}");
    assert_eq!(app.count::<escalation::Entity>().await, 0);
}

#[tokio::test]
async fn unknown_measure_owner_is_bad_user_input() {
    let app = TestApp::spawn().await;
    let (id, _) = app.escalation_in_discussion().await;
    let resp = app
        .graphql(ADD_MEASURE)
        .var("e", &id)
        .var("input", measure_input(UNKNOWN_ORG, "2027-06-30"))
        .as_caller(&national_table())
        .send()
        .await;
    assert_refused(&resp, "addMeasure", "BAD_USER_INPUT");
    assert!(resp.expect_error("BAD_USER_INPUT").contains(&UNKNOWN_ORG.to_string()));
    assert_eq!(app.count::<measure::Entity>().await, 0);
}

#[tokio::test]
async fn listing_an_unknown_offer_is_bad_user_input() {
    let app = TestApp::spawn().await;
    let resp = app
        .graphql(CREATE_LISTING)
        .var("input", listing_input(UNKNOWN_OFFER, &["utrecht"], None))
        .as_caller(&national_table())
        .send()
        .await;
    assert_refused(&resp, "createSupraRegionalListing", "BAD_USER_INPUT");
    assert!(resp.expect_error("BAD_USER_INPUT").contains(&UNKNOWN_OFFER.to_string()));
    assert_eq!(app.count::<listing::Entity>().await, 0);
}

#[tokio::test]
async fn unknown_region_served_is_bad_user_input() {
    let app = TestApp::spawn().await;
    let resp = app
        .graphql(CREATE_LISTING)
        .var("input", listing_input(OFFER_A_HS8, &["utrecht", "atlantis"], None))
        .as_caller(&national_table())
        .send()
        .await;
    assert_refused(&resp, "createSupraRegionalListing", "BAD_USER_INPUT");
    assert!(resp.expect_error("BAD_USER_INPUT").contains("atlantis"));
    assert_eq!(app.count::<listing::Entity>().await, 0);
    // Also when changing the regions of an existing listing.
    let l = app.create_listing(OFFER_A_HS8, &["utrecht"], None).await;
    let resp = app
        .graphql(UPDATE_LISTING)
        .var("id", &l["id"])
        .var("v", 1)
        .var("input", json!({"regionsServed": ["atlantis"]}))
        .as_caller(&national_table())
        .send()
        .await;
    assert_refused(&resp, "updateSupraRegionalListing", "BAD_USER_INPUT");
    let resp = app
        .graphql("query { supraRegionalListings { nodes { regionsServed version } } }")
        .as_caller(&national_table())
        .send()
        .await;
    assert_eq!(resp.data()["supraRegionalListings"]["nodes"], json!([{"regionsServed": ["utrecht"], "version": 1}]));
}

#[tokio::test]
async fn unknown_network_member_is_bad_user_input() {
    let app = TestApp::spawn().await;
    let resp = app
        .graphql(CREATE_NETWORK)
        .var("input", network_input("Netwerk Psychose", &[PROVIDER_A, UNKNOWN_ORG]))
        .as_caller(&national_table())
        .send()
        .await;
    assert_refused(&resp, "createExpertiseNetwork", "BAD_USER_INPUT");
    assert!(resp.expect_error("BAD_USER_INPUT").contains(&UNKNOWN_ORG.to_string()));
    assert_eq!(app.count::<network::Entity>().await, 0);
    let n = app.create_network("Netwerk Psychose").await;
    let resp = app
        .graphql(UPDATE_NETWORK)
        .var("id", &n["id"])
        .var("v", 1)
        .var("input", network_input("Netwerk Psychose", &[UNKNOWN_ORG]))
        .as_caller(&national_table())
        .send()
        .await;
    assert_refused(&resp, "updateExpertiseNetwork", "BAD_USER_INPUT");
    let resp =
        app.graphql("query { expertiseNetworks { members { id } version } }").as_caller(&national_table()).send().await;
    assert_eq!(
        resp.data()["expertiseNetworks"],
        json!([{"members": [{"id": PROVIDER_A.to_string()}, {"id": PROVIDER_B.to_string()}], "version": 1}])
    );
}

#[tokio::test]
async fn measurement_for_an_unknown_region_is_bad_user_input() {
    let app = TestApp::spawn().await;
    app.create_kpi("REGIONS_WITH_OVERVIEW").await;
    let resp = app
        .graphql(RECORD_MEASUREMENT)
        .var("code", "REGIONS_WITH_OVERVIEW")
        .var("year", 2025)
        .var("region", "atlantis")
        .var("value", 1.0)
        .as_caller(&national_table())
        .send()
        .await;
    assert_refused(&resp, "recordKpiMeasurement", "BAD_USER_INPUT");
    assert_eq!(app.count::<measurement::Entity>().await, 0);
}

/// Asserts `SUBGRAPH_UNAVAILABLE` at `field` with a message saying nothing changed.
#[track_caller]
fn assert_unavailable(resp: &ggzhub_kit::testing::GraphqlResponse, field: &str) {
    assert_refused(resp, field, "SUBGRAPH_UNAVAILABLE");
    let message = resp.expect_error("SUBGRAPH_UNAVAILABLE");
    assert!(message.contains("region") && message.contains("nothing was changed"), "{message}");
}

#[tokio::test]
async fn with_the_region_subgraph_down_references_are_never_stored_unchecked() {
    let app = TestApp::spawn_with_region_down().await;
    let in_discussion = app.insert_escalation("utrecht", "IN_DISCUSSION").await;
    let listing_id = app.insert_listing(&OFFER_A_HS8.to_string(), &["utrecht"], None).await;
    let network_id = app.insert_network("Netwerk Eetstoornissen").await;
    app.create_kpi("REGIONS_WITH_OVERVIEW").await;
    let audit_before = app.audit_entries().await.len();

    let resp =
        app.graphql(RAISE).var("input", raise_input("utrecht", &[OFFER_A_CRISIS])).as_caller(&chair()).send().await;
    assert_unavailable(&resp, "raiseEscalation");
    // Even without affected offers: the region code itself must be checked.
    let resp = app.graphql(RAISE).var("input", raise_input("utrecht", &[])).as_caller(&chair()).send().await;
    assert_unavailable(&resp, "raiseEscalation");
    let resp = app
        .graphql(ADD_MEASURE)
        .var("e", &in_discussion)
        .var("input", measure_input(PROVIDER_A, "2027-06-30"))
        .as_caller(&national_table())
        .send()
        .await;
    assert_unavailable(&resp, "addMeasure");
    let resp = app
        .graphql(CREATE_LISTING)
        .var("input", listing_input(OFFER_B_HIC, &["amsterdam"], None))
        .as_caller(&national_table())
        .send()
        .await;
    assert_unavailable(&resp, "createSupraRegionalListing");
    let resp = app
        .graphql(UPDATE_LISTING)
        .var("id", &listing_id)
        .var("v", 1)
        .var("input", json!({"regionsServed": ["amsterdam"]}))
        .as_caller(&national_table())
        .send()
        .await;
    assert_unavailable(&resp, "updateSupraRegionalListing");
    let resp = app
        .graphql(CREATE_NETWORK)
        .var("input", network_input("Netwerk Psychose", &[PROVIDER_A]))
        .as_caller(&national_table())
        .send()
        .await;
    assert_unavailable(&resp, "createExpertiseNetwork");
    let resp = app
        .graphql(UPDATE_NETWORK)
        .var("id", &network_id)
        .var("v", 1)
        .var("input", network_input("Netwerk Eetstoornissen", &[PROVIDER_B]))
        .as_caller(&national_table())
        .send()
        .await;
    assert_unavailable(&resp, "updateExpertiseNetwork");
    let resp = app
        .graphql(RECORD_MEASUREMENT)
        .var("code", "REGIONS_WITH_OVERVIEW")
        .var("year", 2025)
        .var("region", "utrecht")
        .var("value", 1.0)
        .as_caller(&national_table())
        .send()
        .await;
    assert_unavailable(&resp, "recordKpiMeasurement");

    // Nothing was stored: the lists read exactly as before.
    let resp = app
        .graphql(
            r#"query { escalations(first: 100) { nodes { id measures { id } } }
                supraRegionalListings { nodes { id regionsServed version } }
                expertiseNetworks { id members { id } version }
                nationalKpi(code: "REGIONS_WITH_OVERVIEW") { measurements { value } } }"#,
        )
        .as_caller(&national_table())
        .send()
        .await;
    let data = resp.data();
    assert_eq!(data["escalations"]["nodes"], json!([{"id": in_discussion, "measures": []}]));
    assert_eq!(
        data["supraRegionalListings"]["nodes"],
        json!([{"id": listing_id, "regionsServed": ["utrecht"], "version": 1}])
    );
    assert_eq!(
        data["expertiseNetworks"],
        json!([{"id": network_id, "members": [{"id": PROVIDER_A.to_string()}], "version": 1}])
    );
    assert_eq!(data["nationalKpi"]["measurements"], json!([]));
    assert_eq!(app.count::<escalation::Entity>().await, 1);
    assert_eq!(app.count::<measure::Entity>().await, 0);
    assert_eq!(app.count::<listing::Entity>().await, 1);
    assert_eq!(app.count::<network::Entity>().await, 1);
    assert_eq!(app.count::<measurement::Entity>().await, 0);
    assert_eq!(app.audit_entries().await.len(), audit_before);
}

#[tokio::test]
async fn with_the_region_subgraph_down_changes_without_references_still_work() {
    let app = TestApp::spawn_with_region_down().await;
    let id = app.insert_escalation("utrecht", "SUBMITTED").await;
    let listing_id = app.insert_listing(&OFFER_A_HS8.to_string(), &["utrecht"], None).await;
    app.transition_ok(&id, 1, json!({"to": "IN_DISCUSSION"})).await;
    app.create_kpi("REGIONS_WITH_OVERVIEW").await;
    assert_eq!(app.count::<kpi::Entity>().await, 1);
    let resp = app
        .graphql(RECORD_MEASUREMENT)
        .var("code", "REGIONS_WITH_OVERVIEW")
        .var("year", 2025)
        .var("value", 40.0)
        .as_caller(&national_table())
        .send()
        .await;
    assert_eq!(resp.data()["recordKpiMeasurement"]["value"], 40.0);
    let resp = app
        .graphql(UPDATE_LISTING)
        .var("id", &listing_id)
        .var("v", 1)
        .var("input", json!({"hs8": false}))
        .as_caller(&national_table())
        .send()
        .await;
    assert_eq!(resp.data()["updateSupraRegionalListing"]["hs8"], false);
}
