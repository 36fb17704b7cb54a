//! References to other subgraphs' entities: the provider and the covered offers are checked with
//! the region subgraph, KPI codes with the national table. An unknown or wrong reference is
//! `BAD_USER_INPUT`; an owner that cannot be asked is `SUBGRAPH_UNAVAILABLE`. Either way nothing is
//! stored.

use ggzhub_contracting::entity::{contract, covered};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::*;

async fn assert_nothing_stored(app: &TestApp) {
    assert_eq!(app.count::<contract::Entity>().await, 0);
    assert_eq!(app.count::<covered::Entity>().await, 0);
    assert!(app.audit_entries().await.is_empty());
}

#[tokio::test]
async fn refuses_unknown_or_wrong_references_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let unknown_kpi = with(
        terms(&[OFFER_P1_CRISIS]),
        "kpis",
        json!([{"kpiCode": "NO_SUCH_KPI", "targets": [{"year": this_year(), "value": 1.0}]}]),
    );
    let cases: Vec<(&str, Uuid, serde_json::Value, &str)> = vec![
        ("unknown provider", UNKNOWN_ORG, terms(&[OFFER_P1_CRISIS]), "providerId"),
        ("an insurer as provider", I2, terms(&[OFFER_P1_CRISIS]), "providerId"),
        ("a patient organisation as provider", PATIENT_ORG, terms(&[OFFER_P1_CRISIS]), "providerId"),
        ("unknown offer", P1, terms(&[OFFER_P1_CRISIS, UNKNOWN_OFFER]), "unknown care offer"),
        ("offer of another provider", P1, terms(&[OFFER_P2_HIC]), "is not an offer of provider"),
        ("unknown KPI", P1, unknown_kpi, "unknown national KPI NO_SUCH_KPI"),
    ];
    for (what, provider, t, message) in cases {
        let resp = app.try_create(&i1(), provider, t).await;
        assert_refused(&resp, "createContract", "BAD_USER_INPUT");
        let msg = resp.expect_error("BAD_USER_INPUT");
        assert!(msg.contains(message), "{what}: {msg}");
    }
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn refuses_wrong_references_in_drafts_and_amendments_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let draft = app.create(&i1(), P1, terms(&[OFFER_P1_CRISIS])).await;
    let agreed = app.agreed(&i1(), &p1(), terms(&[OFFER_P1_FACT])).await;
    let before = app.contract_rows().await;
    for bad in [terms(&[UNKNOWN_OFFER]), terms(&[OFFER_P2_HIC])] {
        let resp =
            app.graphql(UPDATE_DRAFT).var("id", id_of(&draft)).var("v", 1).var("t", &bad).as_caller(&i1()).send().await;
        assert_refused(&resp, "updateContractDraft", "BAD_USER_INPUT");
        let resp = app.propose_amendment(&i1(), &id_of(&agreed), version(&agreed), bad).await;
        assert_refused(&resp, "proposeAmendment", "BAD_USER_INPUT");
    }
    assert_eq!(app.contract_rows().await, before);
}

#[tokio::test]
async fn owners_down_means_subgraph_unavailable_and_nothing_stored() {
    let app = TestApp::spawn_with_owners_down().await;
    let resp = app.try_create(&i1(), P1, terms(&[OFFER_P1_CRISIS])).await;
    assert_refused(&resp, "createContract", "SUBGRAPH_UNAVAILABLE");
    assert!(resp.expect_error("SUBGRAPH_UNAVAILABLE").contains("nothing was changed"));
    let resp = app.graphql("query { uncoveredOffers { id } }").as_caller(&i1()).send().await;
    assert_refused(&resp, "uncoveredOffers", "SUBGRAPH_UNAVAILABLE");
    // Reading own contracts needs no owner.
    assert_eq!(app.listed(&i1(), None).await, Vec::<String>::new());
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn national_table_down_refuses_contracts_with_kpis_only() {
    let app = TestApp::spawn_with(true, false).await;
    let resp = app.try_create(&i1(), P1, terms(&[OFFER_P1_CRISIS])).await;
    assert_refused(&resp, "createContract", "SUBGRAPH_UNAVAILABLE");
    assert_nothing_stored(&app).await;
    // Without KPIs there is nothing to ask the national table.
    app.create(&i1(), P1, with(terms(&[OFFER_P1_CRISIS]), "kpis", json!([]))).await;
}

#[tokio::test]
async fn region_down_refuses_amendments_and_keeps_the_terms() {
    // The region subgraph is up while the contract is made, then goes away.
    let mut app = TestApp::spawn().await;
    let agreed = app.agreed(&i1(), &p1(), terms(&[OFFER_P1_CRISIS])).await;
    drop(app.region.take());
    let before = app.contract_rows().await;
    let resp = app.propose_amendment(&i1(), &id_of(&agreed), version(&agreed), terms(&[OFFER_P1_FACT])).await;
    assert_refused(&resp, "proposeAmendment", "SUBGRAPH_UNAVAILABLE");
    assert_eq!(app.contract_rows().await, before);
}
