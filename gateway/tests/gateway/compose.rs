//! Composition: the hub's subgraphs and small federation v2 fixtures compose into supergraphs that
//! apollo-compiler validates and the query planner accepts and plans across subgraphs; the output
//! is deterministic; errors name the subgraph, the field and the reason.
//!
//! Each fixture in `tests/fixtures/compose/<case>/` holds subgraph SDLs (`<subgraph>.graphql`) and
//! the supergraph we compose from them (`supergraph.graphql`, checked here byte for byte and
//! compared with `@apollo/composition`'s by `scripts/check-composition.sh`). After a deliberate
//! change, rewrite the checked-in supergraphs (these and `schema/supergraph.graphql`) with
//! `UPDATE_SUPERGRAPHS=1 cargo test -p ggzhub-gateway --test gateway compose::`.

use std::path::{Path, PathBuf};

use apollo_compiler::Schema;
use ggzhub_gateway::supergraph::compose::{SubgraphSdl, compose};
use hive_router_query_planner::ast::normalization::normalize_operation;
use hive_router_query_planner::graph::PlannerOverrideContext;
use hive_router_query_planner::planner::Planner;
use hive_router_query_planner::utils::cancellation::CancellationToken;
use hive_router_query_planner::utils::parsing::{parse_operation, parse_schema};

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn subgraph(name: &str, sdl: &str) -> SubgraphSdl {
    SubgraphSdl { name: name.to_owned(), url: format!("http://127.0.0.1:1/{name}"), sdl: sdl.to_owned() }
}

/// Validates `sdl` with apollo-compiler and builds the planner from it; both must accept it.
fn load(sdl: &str) -> Planner {
    if let Err(e) = Schema::parse_and_validate(sdl, "supergraph.graphql") {
        panic!("apollo-compiler rejects the supergraph:\n{}\n{sdl}", e.errors);
    }
    Planner::new_from_supergraph(&parse_schema(sdl), Default::default())
        .unwrap_or_else(|e| panic!("the planner rejects the supergraph: {e}\n{sdl}"))
}

/// The query plan for `query`, as text.
fn plan(planner: &Planner, query: &str) -> String {
    let document = parse_operation(query);
    let normalized = normalize_operation(&planner.supergraph, &document, None).expect("normalizes");
    let cancellation = CancellationToken::new();
    planner
        .plan_from_normalized_operation(&normalized.operation, PlannerOverrideContext::default(), &cancellation)
        .unwrap_or_else(|e| panic!("no plan for {query}: {e}"))
        .to_string()
}

fn assert_fetches_from(plan: &str, subgraphs: &[&str]) {
    for subgraph in subgraphs {
        assert!(plan.contains(&format!("(service: \"{subgraph}\")")), "no fetch from {subgraph}:\n{plan}");
    }
}

/// The subgraphs of fixture `case`, in file-name order, each at `http://127.0.0.1:1/<name>`.
fn fixture_subgraphs(dir: &Path) -> Vec<SubgraphSdl> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("fixture directory")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "graphql") && !path.ends_with("supergraph.graphql"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| {
            let name = path.file_stem().and_then(|s| s.to_str()).expect("UTF-8 file name");
            subgraph(name, &std::fs::read_to_string(path).expect("subgraph SDL"))
        })
        .collect()
}

/// Composes fixture `case`, checks the result against its checked-in `supergraph.graphql` and
/// loads it.
fn compose_fixture(case: &str) -> (String, Planner) {
    let dir = manifest_dir().join("tests/fixtures/compose").join(case);
    let sdl = compose(&fixture_subgraphs(&dir)).unwrap_or_else(|e| panic!("{case} does not compose: {e}"));
    let checked_in = dir.join("supergraph.graphql");
    if std::env::var_os("UPDATE_SUPERGRAPHS").is_some() {
        std::fs::write(&checked_in, &sdl).expect("writing the supergraph");
    }
    let expected = std::fs::read_to_string(&checked_in).unwrap_or_default();
    assert!(
        sdl == expected,
        "{} is stale: rerun with UPDATE_SUPERGRAPHS=1 and check it with scripts/check-composition.sh\n{sdl}",
        checked_in.display()
    );
    let planner = load(&sdl);
    (sdl, planner)
}

fn hub_subgraphs() -> Vec<SubgraphSdl> {
    [
        ("region", "http://127.0.0.1:4001/graphql"),
        ("national-table", "http://127.0.0.1:4002/graphql"),
        ("contracting", "http://127.0.0.1:4003/graphql"),
    ]
    .into_iter()
    .map(|(name, url)| SubgraphSdl {
        name: name.to_owned(),
        url: url.to_owned(),
        sdl: std::fs::read_to_string(manifest_dir().join(format!("../schema/{name}.graphql"))).expect("subgraph SDL"),
    })
    .collect()
}

#[test]
fn hub_subgraphs_compose_into_an_apollo_format_supergraph() {
    let sdl = compose(&hub_subgraphs()).expect("the hub's subgraphs compose");
    let head = sdl.lines().next().unwrap_or_default();
    assert!(
        head.starts_with(
            r#"schema @link(url: "https://specs.apollo.dev/link/v1.0") @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)"#
        ),
        "{head}"
    );
    for expected in [
        r#"REGION @join__graph(name: "region", url: "http://127.0.0.1:4001/graphql")"#,
        r#"NATIONAL_TABLE @join__graph(name: "national-table", url: "http://127.0.0.1:4002/graphql")"#,
        r#"CONTRACTING @join__graph(name: "contracting", url: "http://127.0.0.1:4003/graphql")"#,
        "directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR",
        "directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION",
        "directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA",
        "scalar link__Import",
        "enum link__Purpose {",
        "type Query @join__type(graph: REGION) @join__type(graph: NATIONAL_TABLE) @join__type(graph: CONTRACTING) {",
        "type Mutation @join__type(graph: REGION) @join__type(graph: NATIONAL_TABLE) @join__type(graph: CONTRACTING) {",
        "Region code (kebab-case), e.g. `utrecht`.",
    ] {
        assert!(sdl.contains(expected), "missing {expected}");
    }
    assert!(!sdl.contains("join__owner"), "Grafbase's own directive is dropped");
}

#[test]
fn hub_supergraph_plans_a_query_joining_all_three_subgraphs() {
    let planner = load(&compose(&hub_subgraphs()).expect("composes"));
    let plan = plan(
        &planner,
        "{ regions(first: 2) { nodes { code name escalations { id status } offers(first: 1) { nodes { id contractCoverage { otherInsurers } } } } } }",
    );
    assert_fetches_from(&plan, &["region", "national-table", "contracting"]);
    assert!(plan.contains("... on Region"), "Region is resolved as an entity: {plan}");
}

#[test]
fn same_subgraphs_compose_to_byte_identical_output() {
    let first = compose(&hub_subgraphs()).expect("composes");
    for _ in 0..3 {
        assert!(compose(&hub_subgraphs()).expect("composes") == first, "composition is not deterministic");
    }
    let path = manifest_dir().join("../schema/supergraph.graphql");
    if std::env::var_os("UPDATE_SUPERGRAPHS").is_some() {
        std::fs::write(&path, &first).expect("writing schema/supergraph.graphql");
    }
    let checked_in = std::fs::read_to_string(&path).expect("schema/supergraph.graphql");
    assert!(first == checked_in, "schema/supergraph.graphql is stale: run `ggzhub schema compose`");
}

#[test]
fn compound_and_unresolvable_keys_join_entities_across_subgraphs() {
    let (sdl, planner) = compose_fixture("entities");
    assert!(sdl.contains(r#"@join__type(graph: REVIEWS, key: "id", resolvable: false)"#), "{sdl}");
    assert!(sdl.contains(r#"@join__type(graph: INVENTORY, key: "sku vendor { id }")"#), "{sdl}");
    // Every subgraph has a Query root in Apollo's model, even one that declares no query field.
    assert!(
        sdl.contains(
            "type Query @join__type(graph: INVENTORY) @join__type(graph: PRODUCTS) @join__type(graph: REVIEWS) {"
        ),
        "{sdl}"
    );
    assert!(sdl.contains("type Mutation @join__type(graph: REVIEWS) {"), "{sdl}");
    let plan = plan(&planner, "{ reviews { body product { name inStock } } }");
    assert_fetches_from(&plan, &["reviews", "products", "inventory"]);
}

#[test]
fn provided_fields_are_read_from_the_providing_subgraph() {
    let (sdl, planner) = compose_fixture("shareable-provides");
    assert!(sdl.contains(r#"@join__field(graph: REVIEWS, provides: "name")"#), "{sdl}");
    let plan = plan(&planner, "{ latestReviews { body author { name } } }");
    assert_fetches_from(&plan, &["reviews"]);
    assert!(!plan.contains("service: \"accounts\""), "name comes with the review: {plan}");
    let plan = self::plan(&planner, "{ latestReviews { author { email address { country } } } }");
    assert_fetches_from(&plan, &["reviews", "accounts"]);
}

#[test]
fn required_fields_are_fetched_first_and_overridden_fields_move() {
    let (sdl, planner) = compose_fixture("requires-override");
    assert!(sdl.contains(r#"@join__field(graph: SHIPPING, requires: "weight size")"#), "{sdl}");
    assert!(sdl.contains(r#"@join__field(graph: SHIPPING, override: "products")"#), "{sdl}");
    let plan = plan(&planner, "{ products { name shippingEstimate price } }");
    assert_fetches_from(&plan, &["products", "shipping"]);
    assert!(plan.contains("weight") && plan.contains("size"), "@requires fields are fetched: {plan}");
}

#[test]
fn progressive_override_links_join_v0_4() {
    let (sdl, planner) = compose_fixture("progressive-override");
    for expected in [
        r#"@link(url: "https://specs.apollo.dev/join/v0.4", for: EXECUTION)"#,
        "usedOverridden: Boolean, overrideLabel: String) repeatable on FIELD_DEFINITION",
        r#"@join__field(graph: PRICING, override: "products", overrideLabel: "percent(50)")"#,
    ] {
        assert!(sdl.contains(expected), "{expected} in\n{sdl}");
    }
    let plan = plan(&planner, "{ products { name price } }");
    assert_fetches_from(&plan, &["products"]);
}

#[test]
fn interface_objects_add_fields_to_every_implementation() {
    let (sdl, planner) = compose_fixture("interface-object");
    assert!(sdl.contains(r#"@join__type(graph: RATINGS, key: "id", isInterfaceObject: true)"#), "{sdl}");
    let plan = plan(&planner, "{ media { title rating ... on Book { pages } } }");
    assert_fetches_from(&plan, &["media", "ratings"]);
    let plan = self::plan(&planner, "{ topRated { rating title } }");
    assert_fetches_from(&plan, &["ratings", "media"]);
}

#[test]
fn interfaces_and_unions_merge_across_subgraphs() {
    let (sdl, planner) = compose_fixture("abstract-types");
    for expected in [
        "@join__unionMember(graph: ARTICLES, member: \"Article\")",
        "@join__unionMember(graph: VIDEOS, member: \"Video\")",
        "@join__implements(graph: VIDEOS, interface: \"Node\")",
        "union Result",
    ] {
        assert!(sdl.contains(expected), "{expected} in\n{sdl}");
    }
    let plan = plan(&planner, r#"{ search(text: "x") { ... on Article { title views } } }"#);
    assert_fetches_from(&plan, &["articles", "videos"]);
}

#[test]
fn enums_and_input_objects_merge_like_apollo() {
    let (sdl, planner) = compose_fixture("enums-inputs");
    // Output-only enums keep every subgraph's values, input-only ones the common values, and input
    // objects the common fields.
    assert!(sdl.contains("YELLOW @join__enumValue(graph: SWATCHES)"), "{sdl}");
    assert!(!sdl.contains("  XL") && !sdl.contains("  L @join"), "{sdl}");
    assert!(!sdl.contains("onlyNew"), "{sdl}");
    let plan = plan(&planner, "{ swatches(filter: { size: M }) { color paint { color glossy } } }");
    assert_fetches_from(&plan, &["swatches", "paints"]);
}

#[test]
fn inaccessible_and_tag_are_kept_with_their_links() {
    let (sdl, planner) = compose_fixture("inaccessible-tag");
    for expected in [
        r#"@link(url: "https://specs.apollo.dev/inaccessible/v0.2", for: SECURITY)"#,
        r#"@link(url: "https://specs.apollo.dev/tag/v0.3")"#,
        "directive @inaccessible on",
        "directive @tag(name: String!) repeatable on",
        "email: String! @inaccessible",
        "BANNED @inaccessible",
        "style: String @inaccessible",
        "type Secret @inaccessible",
        r#"@tag(name: "score")"#,
        r#"@tag(name: "i18n")"#,
    ] {
        assert!(sdl.contains(expected), "{expected} in\n{sdl}");
    }
    let api = &planner.consumer_schema.document.to_string();
    assert!(!api.contains("email") && !api.contains("Secret") && !api.contains("BANNED"), "{api}");
    let plan = plan(&planner, "{ users { name karma } }");
    assert_fetches_from(&plan, &["users", "karma"]);
}

#[test]
fn access_control_directives_get_their_definitions_and_links() {
    let (sdl, planner) = compose_fixture("security");
    for expected in [
        r#"@link(url: "https://specs.apollo.dev/authenticated/v0.1", for: SECURITY)"#,
        r#"@link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY)"#,
        r#"@link(url: "https://specs.apollo.dev/policy/v0.1", for: SECURITY)"#,
        "orders: [Order!]! @authenticated @join__field(graph: ORDERS)",
        r#"@requiresScopes(scopes: [["read:users"]])"#,
        r#"@policy(policies: [["hr"]])"#,
    ] {
        assert!(sdl.contains(expected), "{expected} in\n{sdl}");
    }
    let plan = plan(&planner, "{ me { name orders { total } } }");
    assert_fetches_from(&plan, &["accounts", "orders"]);
}

#[test]
fn inaccessible_link_is_left_out_when_nothing_is_inaccessible() {
    let (sdl, _) = compose_fixture("requires-override");
    assert!(!sdl.contains("inaccessible"), "{sdl}");
    assert!(!sdl.contains("specs.apollo.dev/tag"), "{sdl}");
}

const LINK: &str =
    r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])"#;

#[test]
fn conflicting_field_types_are_reported_with_subgraph_and_field() {
    let a = subgraph(
        "alpha",
        &format!(
            "{LINK}\ntype Query {{ thing: Thing }}\ntype Thing @key(fields: \"id\") {{ id: ID! size: Int! @shareable }}"
        ),
    );
    let b =
        subgraph("beta", &format!("{LINK}\ntype Thing @key(fields: \"id\") {{ id: ID! size: String! @shareable }}"));
    let error = compose(&[a, b]).expect_err("Int! and String! do not merge");
    let message = error.to_string();
    assert!(message.contains("Thing.size"), "names the field: {message}");
    assert!(message.contains("alpha") && message.contains("beta"), "names the subgraphs: {message}");
    assert_eq!(message.lines().count(), 1 + error.errors.len(), "one error per line: {message}");
}

#[test]
fn every_composition_error_is_listed() {
    let a = subgraph(
        "alpha",
        &format!("{LINK}\ntype Query {{ a: Thing b: Other }}\ntype Thing {{ id: ID! }}\ntype Other {{ n: Int }}"),
    );
    let b = subgraph("beta", &format!("{LINK}\ntype Thing {{ id: ID! }}\ntype Other {{ n: Int }}"));
    let error = compose(&[a, b]).expect_err("unshareable fields defined twice");
    let message = error.to_string();
    assert!(error.errors.len() >= 2, "{message}");
    assert!(message.contains("Thing.id") && message.contains("Other.n"), "{message}");
}

#[test]
fn unreadable_sdl_names_the_subgraph() {
    let error = compose(&[subgraph("broken", "type Query { oops")]).expect_err("does not parse").to_string();
    assert!(error.contains("[broken]"), "{error}");
}
