//! DataLoaders: the number of SQL statements a request runs does not grow with the number of
//! offers it returns (no N+1 over offers, providers, regions or care forms).

use crate::helpers::*;

const NESTED: &str = r#"query { regions(first: 50) { edges { node { code
    offers(first: 50) { edges { node { unitName provider { name } region { name } careForm { name } } } } } } } }"#;

async fn statements_for(app: &TestApp, query: &str) -> (usize, usize) {
    let before = app.statement_count();
    let resp = app.graphql(query).as_caller(&national_table()).send().await;
    let after = app.statement_count();
    let offers: usize = resp.data()["regions"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|r| r["node"]["offers"]["edges"].as_array().map_or(0, Vec::len))
        .sum();
    (after - before, offers)
}

async fn add_offers(app: &TestApp, per_region: usize, tag: &str) {
    for i in 0..per_region {
        app.insert_offer(PROVIDER_A, "utrecht", "FACT", &format!("FACT {tag} {i}")).await;
        app.insert_offer(PROVIDER_B, "amsterdam", "HIC", &format!("HIC {tag} {i}")).await;
        app.insert_offer(PROVIDER_C, "groningen", "CLINICAL_ADMISSION", &format!("Kliniek {tag} {i}")).await;
    }
}

#[tokio::test]
async fn statements_per_request_do_not_grow_with_the_number_of_offers() {
    let app = TestApp::spawn().await;
    // N = 3 fixture offers + 3 per region = 12 offers.
    add_offers(&app, 3, "a").await;
    let (small, n) = statements_for(&app, NESTED).await;
    assert_eq!(n, 12);
    // 3N = 36 offers.
    add_offers(&app, 8, "b").await;
    let (large, n3) = statements_for(&app, NESTED).await;
    assert_eq!(n3, 36);
    println!("regions → offers → provider/region/careForm: {small} SQL statements for {n} offers, {large} for {n3}");
    assert_eq!(small, large, "statement count grew with the number of offers ({small} → {large})");
    // Regions, offer pages, organisations, regions (of offers), care forms: one statement each.
    assert!(large <= 5, "expected at most 5 statements, got {large}");
}

async fn statements_for_list(app: &TestApp, query: &str) -> usize {
    let before = app.statement_count();
    app.graphql(query).as_caller(&provider_a()).send().await.data();
    app.statement_count() - before
}

#[tokio::test]
async fn nested_offers_of_organisations_are_batched_too() {
    let app = TestApp::spawn().await;
    let query = r#"query { organisations(first: 50) { nodes { name
        careOffers(first: 50) { nodes { unitName careForm { name } region { neighbours { code } } } } } } }"#;
    let small = statements_for_list(&app, query).await;
    add_offers(&app, 10, "c").await;
    let large = statements_for_list(&app, query).await;
    println!("organisations → careOffers → careForm/region/neighbours: {small} then {large} SQL statements");
    assert_eq!(small, large);
}
