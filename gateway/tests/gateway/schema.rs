//! The checked-in supergraph: composed from the checked-in subgraph SDLs, loadable, and planned
//! the same way as recorded (plan snapshots pin the planner's behaviour on our supergraph).

use std::path::PathBuf;

use ggzhub_gateway::supergraph::Supergraph;
use ggzhub_gateway::supergraph::compose::compose_hub;

fn schema_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../schema")
}

fn supergraph() -> Supergraph {
    let sdl = std::fs::read_to_string(schema_dir().join("supergraph.graphql")).expect("schema/supergraph.graphql");
    Supergraph::load(&sdl).expect("the checked-in supergraph loads")
}

#[test]
fn checked_in_supergraph_matches_the_subgraph_sdls() {
    let composed = compose_hub(&schema_dir()).expect("the hub's subgraphs compose");
    let checked_in = std::fs::read_to_string(schema_dir().join("supergraph.graphql")).expect("supergraph.graphql");
    assert!(composed == checked_in, "schema/supergraph.graphql is stale: run `cargo run -- schema compose`");
}

#[test]
fn supergraph_declares_the_three_subgraphs() {
    let supergraph = supergraph();
    let mut names: Vec<&str> = supergraph.subgraph_urls.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["contracting", "national-table", "region"]);
    assert_eq!(supergraph.subgraph_urls["region"], "http://127.0.0.1:4001/graphql");
    // The API schema hides federation internals.
    assert!(supergraph.api_schema.types.get("join__Graph").is_none());
    assert!(supergraph.api_schema.types.contains_key("CareOffer"));
}

fn plan(query: &str) -> String {
    let supergraph = supergraph();
    let plan = supergraph.planner.plan(query, None).expect("plans").expect("something to fetch");
    plan.to_string()
}

#[test]
fn plan_region_with_escalations_and_coverage() {
    insta::assert_snapshot!(plan(
        r#"{ region(code: "utrecht") { code escalations { id status } offers(first: 3) { nodes { id contractCoverage { otherInsurers } supraRegionalListing { id } } } } }"#
    ));
}

#[test]
fn plan_contract_with_provider_and_offer() {
    insta::assert_snapshot!(plan(
        r#"query C($id: ID!) { contract(id: $id) { id status provider { name } coveredOffers { unitName region { name } } } }"#
    ));
}

#[test]
fn plan_escalation_with_region_details() {
    insta::assert_snapshot!(plan(
        r#"{ escalations(first: 5) { nodes { id region { code name missingCategories } } } }"#
    ));
}

#[test]
fn plan_with_skip_and_include() {
    insta::assert_snapshot!(plan(
        r#"query Q($withCoverage: Boolean!) { regions(first: 2) { nodes { code offers(first: 1) { nodes { id contractCoverage @include(if: $withCoverage) { otherInsurers } } } } } }"#
    ));
}

#[test]
fn introspection_alone_needs_no_plan() {
    let supergraph = supergraph();
    assert!(supergraph.planner.plan("{ __schema { queryType { name } } __typename }", None).expect("plans").is_none());
}

/// Issue 18 (review of `@requires` on `contractCoverage`): an alias of the client's that takes
/// the name of a field the planner adds inside a conditional fragment (the offer's `region`, which
/// contracting's `@requires` reads) is not renamed by the planner, so the region subgraph would
/// answer the client's field under that name and the representation would carry the client's
/// value. The gateway refuses such a plan; the same aliases without the conflict plan as before.
#[test]
fn a_plan_with_one_response_key_for_two_fields_is_refused() {
    let supergraph = supergraph();
    for query in [
        r#"query Q($t: Boolean!) { region(code: "utrecht") { offers(first: 3) { nodes { region: intakePause { code: reason } contractCoverage @include(if: $t) { band } } } } }"#,
        r#"query Q($t: Boolean!) { region(code: "utrecht") { offers(first: 3) { nodes { provider: region { id: code } contractCoverage @skip(if: $t) { band } } } } }"#,
        r#"query Q($t: Boolean!) { region(code: "utrecht") { offers(first: 3) { nodes { id: unitName contractCoverage @include(if: $t) { band } } } } }"#,
        // Twice the same selection: the planner sends it as a named fragment (`...a`).
        r#"query Q($t: Boolean!) { region(code: "utrecht") {
            a: offers(first: 3) { nodes { region: intakePause { code: reason } contractCoverage @include(if: $t) { band } } }
            b: offers(first: 4) { nodes { region: intakePause { code: reason } contractCoverage @include(if: $t) { band } } } } }"#,
    ] {
        match supergraph.planner.plan(query, None) {
            Err(e @ ggzhub_gateway::plan::PlanError::Conflict { .. }) => {
                assert!(e.to_string().contains("choose another alias"), "{e}");
            }
            other => panic!("{query}: expected a conflict, got {other:?}"),
        }
    }
    for query in [
        // Unconditional: the planner renames its own field (and the executor renames it back).
        r#"{ region(code: "utrecht") { offers(first: 3) { nodes { region: intakePause { code: reason } contractCoverage { band } } } } }"#,
        // The same field under its own name, and aliases that collide with nothing.
        r#"query Q($t: Boolean!) { region(code: "utrecht") { offers(first: 3) { nodes { region { code } contractCoverage @include(if: $t) { band } } } } }"#,
        r#"query Q($t: Boolean!) { region(code: "utrecht") { offers(first: 3) { nodes { place: region { code } coverage: contractCoverage @include(if: $t) { band } } } } }"#,
        // The benchmark's shape: six connections with the same node selection (named fragments).
        r#"query Q($t: Boolean!) { region(code: "utrecht") {
            a: offers(category: ACUTE, first: 3) { nodes { id unitName provider { id name } contractCoverage @include(if: $t) { band } } }
            b: offers(category: CLINICAL, first: 3) { nodes { id unitName provider { id name } contractCoverage @include(if: $t) { band } } } } }"#,
    ] {
        assert!(supergraph.planner.plan(query, None).is_ok_and(|p| p.is_some()), "{query}");
    }
}
