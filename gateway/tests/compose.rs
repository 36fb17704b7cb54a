//! Composition: errors name the subgraph, the field and the reason; federation v2 features
//! compose into a supergraph that apollo-compiler validates and the planner accepts.

use ggzhub_gateway::compose::{SubgraphSdl, compose};
use ggzhub_gateway::supergraph::Supergraph;

fn subgraph(name: &str, sdl: &str) -> SubgraphSdl {
    SubgraphSdl { name: name.to_owned(), url: format!("http://127.0.0.1:1/{name}"), sdl: sdl.to_owned() }
}

const LINK: &str = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable", "@external", "@requires", "@provides", "@override", "@inaccessible", "@tag", "@interfaceObject"])"#;

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
    let error = compose(&[a, b]).expect_err("Int! and String! do not merge").to_string();
    assert!(error.contains("Thing.size"), "names the field: {error}");
    assert!(error.contains("alpha") || error.contains("beta"), "names a subgraph: {error}");
}

#[test]
fn unreadable_sdl_names_the_subgraph() {
    let error = compose(&[subgraph("broken", "type Query { oops")]).expect_err("does not parse").to_string();
    assert!(error.contains("[broken]"), "{error}");
}

#[test]
fn federation_features_compose_into_a_valid_plannable_supergraph() {
    let products = subgraph(
        "products",
        &format!(
            "{LINK}
type Query {{ products: [Product!]! search: [Result!]! node(id: ID!): Node }}
interface Node {{ id: ID! }}
union Result = Product | Shelf
type Product implements Node @key(fields: \"id\") @key(fields: \"sku vendor {{ id }}\") {{ id: ID! sku: String! vendor: Vendor! name: String! price: Int! weight: Int! secret: String @inaccessible internal: String @tag(name: \"internal\") }}
type Vendor {{ id: ID! }}
type Shelf implements Node {{ id: ID! label: String! }}
type Media @key(fields: \"id\") @interfaceObject {{ id: ID! rating: Int }}"
        ),
    );
    let inventory = subgraph(
        "inventory",
        &format!(
            "{LINK}
type Product @key(fields: \"id\") {{ id: ID! price: Int! @external weight: Int! @external shipping: Int! @requires(fields: \"price weight\") stock: Int! @override(from: \"products\") }}
interface Media @key(fields: \"id\") {{ id: ID! title: String! }}
type Book implements Media @key(fields: \"id\") {{ id: ID! title: String! }}
type Query {{ media: [Media!]! }}"
        ),
    );
    let sdl = compose(&[products, inventory]).expect("composes");
    for expected in [
        "repeatable on OBJECT",
        "@link(url: \"https://specs.apollo.dev/join/v0.3\"",
        "link__Purpose",
        "@inaccessible",
        "@tag(name: \"internal\")",
    ] {
        assert!(sdl.contains(expected), "{expected} in\n{sdl}");
    }
    let supergraph = Supergraph::load(&sdl).expect("apollo-compiler validates it and the planner accepts it");
    assert!(supergraph.api_schema.types.contains_key("Product"));
    let product = supergraph.api_schema.get_object("Product").expect("Product");
    assert!(product.fields.contains_key("internal"), "@tag keeps a field public");
    assert!(!product.fields.contains_key("secret"), "@inaccessible removes a field from the API schema");
    let plan = supergraph
        .planner
        .plan("{ products { name shipping stock } media { id title ... on Book { rating } } }", None)
        .expect("plans")
        .expect("fetches");
    let text = plan.to_string();
    assert!(text.contains("inventory") && text.contains("products"), "{text}");
    assert!(text.contains("price") && text.contains("weight"), "@requires fields are fetched: {text}");
}
