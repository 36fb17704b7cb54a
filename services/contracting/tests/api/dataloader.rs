//! DataLoaders: the number of SQL statements a request runs on the contracting database does not
//! grow with the number of contracts (history, contracts by id) or offers (coverage) it resolves.

use ggzhub_kit::testing::TestCaller;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

const NESTED: &str = "query { contracts(first: 100) { nodes { id history { termsVersion } } } }";
const CONTRACT_ENTITIES: &str =
    "query($r: [_Any!]!) { _entities(representations: $r) { ... on Contract { id history { termsVersion } } } }";

/// Statements the request ran, and its data.
async fn statements_for(app: &TestApp, caller: &TestCaller, query: &str, vars: Value) -> (usize, Value) {
    let before = app.statement_count();
    let mut call = app.graphql(query).as_caller(caller);
    for (name, value) in vars.as_object().expect("object") {
        call = call.var(name, value);
    }
    let resp = call.send().await;
    // Unknown contracts in a batch answer `null` + NOT_FOUND; every other error fails the test.
    assert!(resp.error_codes().iter().all(|c| c == "NOT_FOUND"), "{:#}", resp.body);
    (app.statement_count() - before, resp.body["data"].clone())
}

async fn add_contracts(app: &TestApp, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..n {
        ids.push(app.insert_contract(I1, P1, OFFER_P1_CRISIS, 2).await);
    }
    ids
}

#[tokio::test]
async fn statements_for_contracts_with_history_do_not_grow_with_n() {
    let app = TestApp::spawn().await;
    let mut ids = add_contracts(&app, 3).await;
    // Contracts of another insurer are in the database but never in I1's answer.
    app.insert_contract(I2, P1, OFFER_P1_CRISIS, 1).await;
    // A first request warms up the pool (PostgreSQL opens connections lazily).
    statements_for(&app, &i1(), NESTED, json!({})).await;
    let (small, data) = statements_for(&app, &i1(), NESTED, json!({})).await;
    assert_eq!(data["contracts"]["nodes"].as_array().map(Vec::len), Some(3));
    ids.extend(add_contracts(&app, 6).await);
    let (large, data) = statements_for(&app, &i1(), NESTED, json!({})).await;
    let nodes = data["contracts"]["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), 9);
    assert!(nodes.iter().all(|n| n["history"] == json!([{"termsVersion": 1}, {"termsVersion": 2}])), "{data:#}");
    println!("contracts → history: {small} SQL statements for 3 contracts, {large} for 9");
    assert_eq!(small, large, "statement count grew with the number of contracts ({small} → {large})");
    assert!(large <= 2, "contracts and history: expected at most 2 statements, got {large}");

    // The same through `_entities`, mixing in ids the caller may not see.
    let reps = |ids: &[String]| {
        let mut r: Vec<Value> = ids.iter().map(contract_rep).collect();
        r.push(contract_rep(Uuid::now_v7()));
        json!({ "r": r })
    };
    let (small, _) = statements_for(&app, &i1(), CONTRACT_ENTITIES, reps(&ids[..3])).await;
    let (large, data) = statements_for(&app, &i1(), CONTRACT_ENTITIES, reps(&ids)).await;
    assert_eq!(data["_entities"].as_array().map(|a| a.iter().filter(|e| !e.is_null()).count()), Some(9));
    println!("_entities(Contract) → history: {small} SQL statements for 3 (+1 unknown), {large} for 9 (+1 unknown)");
    assert_eq!(small, large, "statement count grew with the number of representations ({small} → {large})");
    assert!(large <= 2, "expected at most 2 statements, got {large}");
}

#[tokio::test]
async fn statements_for_coverage_do_not_grow_with_the_number_of_offers() {
    let app = TestApp::spawn().await;
    for insurer in [I1, I2, I3] {
        for offer in [OFFER_P1_CRISIS, OFFER_P1_FACT, OFFER_P1_HIC] {
            app.insert_contract(insurer, P1, offer, 0).await;
        }
    }
    let reps = |offers: &[Uuid]| json!({ "r": offers.iter().map(offer_rep).collect::<Vec<_>>() });
    statements_for(&app, &i4(), COVERAGE, reps(&[OFFER_P1_CRISIS])).await;
    let (one, _) = statements_for(&app, &i4(), COVERAGE, reps(&[OFFER_P1_CRISIS])).await;
    let asked_before = app.region().request_count();
    let (three, data) =
        statements_for(&app, &i4(), COVERAGE, reps(&[OFFER_P1_CRISIS, OFFER_P1_FACT, OFFER_P1_HIC])).await;
    // The offers' places come from the region subgraph in one round trip, on I4's behalf.
    let asked = app.region().requests_since(asked_before);
    assert_eq!(asked.len(), 1, "one request to the region subgraph for 3 offers: {asked:#?}");
    let mut asked_for: Vec<Value> = asked[0].representations.clone();
    asked_for.sort_by_key(|r| r["id"].to_string());
    assert_eq!(asked_for, [OFFER_P1_CRISIS, OFFER_P1_FACT, OFFER_P1_HIC].map(offer_rep));
    assert_eq!(asked[0].caller().map(|c| c.org), Some(I4));
    for e in data["_entities"].as_array().expect("entities") {
        assert_eq!(e["contractCoverage"]["otherInsurers"], 3, "{e}");
        assert_eq!(e["contractCoverage"]["continuitySecuredUntil"], this_year() + 2, "{e}");
    }
    println!("_entities(CareOffer) → contractCoverage: {one} SQL statements for 1 offer, {three} for 3");
    assert_eq!(one, three, "statement count grew with the number of offers ({one} → {three})");
    // The covered-offer links joined with their agreed contracts: one statement.
    assert_eq!(three, 1, "expected one statement, got {three}");
}
