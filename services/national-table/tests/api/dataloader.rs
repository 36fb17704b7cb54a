//! DataLoaders: the number of SQL statements a request runs on the national-table database does
//! not grow with the number of escalations or region representations it resolves (no N+1 over
//! measures, transitions, escalations per region, coverage, expertise networks or target groups).

use ggzhub_kit::OrgKind;
use ggzhub_kit::testing::TestCaller;
use serde_json::{Value, json};

use crate::helpers::*;

const NESTED: &str = r#"query { escalations(first: 100) { edges { node { id
    measures { id } transitions { to } } } } }"#;

const REGIONS: &str = r#"query($r: [_Any!]!) { _entities(representations: $r) { ... on Region { code
    escalations { id status }
    supraRegionalCoverage { id expertiseNetwork { name } }
    uncoveredTargetGroups } } }"#;

/// Statements the request ran, and its response.
async fn statements_for(app: &TestApp, caller: &TestCaller, query: &str, vars: Value) -> (usize, Value) {
    let before = app.statement_count();
    let mut call = app.graphql(query).as_caller(caller);
    for (name, value) in vars.as_object().expect("object") {
        call = call.var(name, value);
    }
    let resp = call.send().await;
    let data = resp.data().clone();
    (app.statement_count() - before, data)
}

async fn add_escalations(app: &TestApp, n: usize) {
    for _ in 0..n {
        let id = app.insert_escalation("utrecht", "IN_DISCUSSION").await;
        app.insert_measure_and_transition(&id).await;
    }
}

#[tokio::test]
async fn statements_for_escalations_with_measures_and_transitions_do_not_grow_with_n() {
    let app = TestApp::spawn().await;
    add_escalations(&app, 3).await;
    // A first request warms up the pool (PostgreSQL opens connections lazily).
    statements_for(&app, &national_table(), NESTED, json!({})).await;
    let (small, data) = statements_for(&app, &national_table(), NESTED, json!({})).await;
    assert_eq!(data["escalations"]["edges"].as_array().map(Vec::len), Some(3));
    add_escalations(&app, 6).await;
    let (large, data) = statements_for(&app, &national_table(), NESTED, json!({})).await;
    let edges = data["escalations"]["edges"].as_array().expect("edges");
    assert_eq!(edges.len(), 9);
    assert!(edges.iter().all(|e| e["node"]["measures"].as_array().map(Vec::len) == Some(1)));
    assert!(edges.iter().all(|e| e["node"]["transitions"] == json!([{"to": "IN_DISCUSSION"}])));
    println!("escalations → measures/transitions: {small} SQL statements for 3 escalations, {large} for 9");
    assert_eq!(small, large, "statement count grew with the number of escalations ({small} → {large})");
    // Escalations, measures, transitions: one statement each.
    assert!(large <= 3, "expected at most 3 statements, got {large}");
    // A participant's view (restricted fields checked per escalation) batches the same way.
    let (participant, _) = statements_for(&app, &provider_a(), NESTED, json!({})).await;
    println!("the same as a participant: {participant} SQL statements for 9");
    assert_eq!(participant, large);
}

/// Regions `region-1` … `region-n`, each with a decided and an undecided escalation and a listing
/// (fed by an expertise network of its own) that serves it.
async fn add_regions(app: &TestApp, from: usize, to: usize) {
    for i in from..=to {
        let code = format!("region-{i}");
        app.insert_escalation(&code, "IN_DISCUSSION").await;
        app.insert_escalation(&code, "MEASURE_AGREED").await;
        let network = app.insert_network(&format!("Netwerk {i}")).await;
        app.insert_listing(&uuid::Uuid::now_v7().to_string(), &[&code, "region-0"], Some(&network)).await;
    }
}

fn reps(n: usize) -> Value {
    json!((1..=n).map(|i| json!({"__typename": "Region", "code": format!("region-{i}")})).collect::<Vec<_>>())
}

#[tokio::test]
async fn statements_for_region_entities_do_not_grow_with_n() {
    let app = TestApp::spawn().await;
    add_regions(&app, 1, 9).await;
    // The national table sees every escalation; provider A sits at region-1 only, so it needs both
    // the full and the decided-only list; the patient organisation sees decided ones only.
    let participant = TestCaller::new(OrgKind::Provider, PROVIDER_A, &["region-1"]);
    for (who, caller, per_region) in [
        ("national table", national_table(), 2),
        ("provider at region-1", participant, 1),
        ("patient organisation", patient_org(), 1),
    ] {
        statements_for(&app, &caller, REGIONS, json!({"r": reps(1)})).await;
        let (small, data) = statements_for(&app, &caller, REGIONS, json!({"r": reps(3)})).await;
        let (large, data_3n) = statements_for(&app, &caller, REGIONS, json!({"r": reps(9)})).await;
        let entities = data_3n["_entities"].as_array().expect("entities");
        assert_eq!(data["_entities"].as_array().map(Vec::len), Some(3));
        assert_eq!(entities.len(), 9);
        for (i, r) in entities.iter().enumerate() {
            let expected = if i == 0 && who == "provider at region-1" { 2 } else { per_region };
            assert_eq!(r["escalations"].as_array().map(Vec::len), Some(expected), "{who}: {r}");
            assert_eq!(r["supraRegionalCoverage"][0]["expertiseNetwork"]["name"], format!("Netwerk {}", i + 1));
            assert_eq!(r["uncoveredTargetGroups"], json!(["Eating disorders"]), "{who}: {r}");
        }
        println!(
            "_entities(Region) → escalations + supraRegionalCoverage → expertiseNetwork + uncoveredTargetGroups \
             as {who}: \
             {small} SQL statements for 3 regions, {large} for 9"
        );
        assert_eq!(small, large, "{who}: statement count grew with the number of regions ({small} → {large})");
        // Escalations per region (once per visibility), listings for the coverage, networks by id,
        // the known target groups (networks, listings), and the listings once more: the loaders
        // keep no cache, and uncoveredTargetGroups asks for the coverage only after the target
        // groups arrived, in a batch of its own.
        assert!(large <= 7, "{who}: expected at most 7 statements, got {large}");
    }
}

/// A region's escalations and their measures, as the regional overview asks them, are one
/// statement, and the measures are those the escalations list shows (its own loader).
#[tokio::test]
async fn a_regions_escalations_come_with_their_measures_in_one_statement() {
    let app = TestApp::spawn().await;
    for _ in 0..3 {
        let id = app.insert_escalation("utrecht", "IN_DISCUSSION").await;
        app.insert_measure_and_transition(&id).await;
    }
    // One without measures.
    app.insert_escalation("utrecht", "MEASURE_AGREED").await;
    let query = r#"query($r: [_Any!]!) { _entities(representations: $r) { ... on Region { code
        escalations { id status measures { id title status dueDate } } } } }"#;
    let vars = json!({ "r": [{"__typename": "Region", "code": "utrecht"}] });
    statements_for(&app, &national_table(), query, vars.clone()).await;
    let (statements, data) = statements_for(&app, &national_table(), query, vars).await;
    assert_eq!(statements, 1, "escalations with their measures");
    let escalations = data["_entities"][0]["escalations"].as_array().expect("escalations").clone();
    assert_eq!(escalations.len(), 4);
    let with_measures = escalations.iter().filter(|e| e["measures"].as_array().map(Vec::len) == Some(1)).count();
    assert_eq!(with_measures, 3);
    let (_, listed) = statements_for(
        &app,
        &national_table(),
        r#"query { escalations(first: 100) { nodes { id measures { id title status dueDate } } } }"#,
        json!({}),
    )
    .await;
    for e in &escalations {
        let same = listed["escalations"]["nodes"].as_array().expect("nodes").iter().find(|n| n["id"] == e["id"]);
        assert_eq!(same.map(|n| &n["measures"]), Some(&e["measures"]), "{e}");
    }
}
