//! The gateway against recording mock subgraphs: joins, keys, `@requires`, `@provides`,
//! conditions, aliases, null propagation, subgraph errors and failures, mutation order,
//! deduplication and introspection. Each test checks the response and what each subgraph got.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{Clock, dead_url, gateway, mock, representations, run};

const ACCOUNTS: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])
type Query { me: User users: [User!]! }
type Mutation { addUser(name: String!): User! }
type User @key(fields: "id") { id: ID! name: String! }
"#;

const REVIEWS: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@external", "@provides"])
type Mutation { addReview(body: String!): Review! }
type User @key(fields: "id") { id: ID! reviews: [Review!] }
type Review { id: ID! body: String! product: Product! author: User @provides(fields: "name") }
type User @key(fields: "id") { name: String! @external }
type Product @key(fields: "upc") { upc: String! }
"#;

const PRODUCTS: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { topProducts(first: Int = 2): [Product!]! }
type Product @key(fields: "upc") @key(fields: "sku pkg { id }") { upc: String! sku: String! pkg: Package! name: String! price: Int! weight: Int! }
type Package { id: ID! }
"#;

const INVENTORY: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@external", "@requires"])
type Product @key(fields: "upc") { upc: String! price: Int! @external weight: Int! @external shippingEstimate: Int! @requires(fields: "price weight") inStock: Boolean }
"#;

fn products_handler(body: &Value) -> Value {
    let all = [("p1", "Table", 100, 30), ("p2", "Chair", 20, 5), ("p3", "Lamp", 40, 2)];
    let product = |(upc, name, price, weight): (&str, &str, i64, i64)| {
        // `title` is the alias one test selects `name` under.
        json!({ "__typename": "Product", "upc": upc, "sku": format!("sku-{upc}"), "pkg": { "id": "pkg" }, "name": name, "title": name, "price": price, "weight": weight })
    };
    if body["query"].as_str().unwrap_or("").contains("_entities") {
        let entities: Vec<Value> = representations(body)
            .iter()
            .map(|r| all.iter().find(|p| p.0 == r["upc"]).map(|p| product(*p)).unwrap_or(Value::Null))
            .collect();
        return json!({ "data": { "_entities": entities } });
    }
    // Answer under every alias the gateway used for topProducts.
    let query = body["query"].as_str().unwrap_or("");
    let mut data = serde_json::Map::new();
    for (key, first) in aliases_of(query, "topProducts") {
        let list: Vec<Value> = all.iter().take(first.unwrap_or(2)).map(|p| product(*p)).collect();
        data.insert(key, Value::Array(list));
    }
    json!({ "data": data })
}

/// Response keys under which `field` is selected at the root of `query` (alias or name), with
/// its `first` argument when given inline.
fn aliases_of(query: &str, field: &str) -> Vec<(String, Option<usize>)> {
    let mut keys = Vec::new();
    for (at, _) in query.match_indices(field) {
        let before = query[..at].trim_end();
        let key = match before.strip_suffix(':') {
            Some(rest) => {
                let rest = rest.trim_end();
                let start = rest.rfind(|c: char| !(c.is_alphanumeric() || c == '_')).map_or(0, |i| i + 1);
                rest[start..].to_owned()
            }
            None => field.to_owned(),
        };
        let after = &query[at + field.len()..];
        let first = after
            .strip_prefix('(')
            .and_then(|args| args.split(')').next())
            .and_then(|args| args.split("first:").nth(1))
            .and_then(|n| n.trim().split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok());
        keys.push((key, first));
    }
    keys
}

fn inventory_handler(body: &Value) -> Value {
    let entities: Vec<Value> = representations(body)
        .iter()
        .map(|r| match (r["price"].as_i64(), r["weight"].as_i64()) {
            (Some(price), Some(weight)) => {
                json!({ "__typename": "Product", "shippingEstimate": price * weight / 10, "inStock": r["upc"] != "p2" })
            }
            _ => json!({ "__typename": "Product", "inStock": r["upc"] != "p2" }),
        })
        .collect();
    json!({ "data": { "_entities": entities } })
}

#[tokio::test]
async fn requires_gets_the_external_fields_and_entities_join_across_subgraphs() {
    let clock = Clock::default();
    let products = mock("products", PRODUCTS, &clock, Duration::ZERO, products_handler).await;
    let inventory = mock("inventory", INVENTORY, &clock, Duration::ZERO, inventory_handler).await;
    let gw = gateway(&[&products, &inventory], Duration::from_secs(5), &[]);
    let (body, status) = run(&gw, "{ topProducts { name shippingEstimate inStock } }", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        r#"{"data":{"topProducts":[{"name":"Table","shippingEstimate":300,"inStock":true},{"name":"Chair","shippingEstimate":10,"inStock":false}]}}"#
    );
    assert_eq!(products.calls(), 1);
    let sent = inventory.received();
    assert_eq!(sent.len(), 1, "one _entities call for both products");
    assert_eq!(
        representations(&sent[0]),
        vec![
            json!({ "__typename": "Product", "upc": "p1", "price": 100, "weight": 30 }),
            json!({ "__typename": "Product", "upc": "p2", "price": 20, "weight": 5 }),
        ]
    );
}

#[tokio::test]
async fn aliases_and_arguments_shape_the_response_in_selection_order() {
    let clock = Clock::default();
    let products = mock("products", PRODUCTS, &clock, Duration::ZERO, products_handler).await;
    let inventory = mock("inventory", INVENTORY, &clock, Duration::ZERO, inventory_handler).await;
    let gw = gateway(&[&products, &inventory], Duration::from_secs(5), &[]);
    let (body, _) = run(
        &gw,
        "{ one: topProducts(first: 1) { title: name upc __typename } three: topProducts(first: 3) { upc } }",
        json!({}),
    )
    .await;
    assert_eq!(
        body,
        r#"{"data":{"one":[{"title":"Table","upc":"p1","__typename":"Product"}],"three":[{"upc":"p1"},{"upc":"p2"},{"upc":"p3"}]}}"#
    );
    assert_eq!(inventory.calls(), 0, "nothing asked of inventory");
    let query = products.received()[0]["query"].as_str().expect("query").to_owned();
    assert!(query.contains("first: 1") || query.contains("$"), "arguments are forwarded: {query}");
}

#[tokio::test]
async fn include_and_skip_with_variables_decide_whether_a_subgraph_is_called() {
    let clock = Clock::default();
    let products = mock("products", PRODUCTS, &clock, Duration::ZERO, products_handler).await;
    let inventory = mock("inventory", INVENTORY, &clock, Duration::ZERO, inventory_handler).await;
    let gw = gateway(&[&products, &inventory], Duration::from_secs(5), &[]);
    let query = "query Q($stock: Boolean!) { topProducts { upc inStock @include(if: $stock) name @skip(if: $stock) } }";
    let (body, _) = run(&gw, query, json!({ "stock": false })).await;
    assert_eq!(body, r#"{"data":{"topProducts":[{"upc":"p1","name":"Table"},{"upc":"p2","name":"Chair"}]}}"#);
    assert_eq!(inventory.calls(), 0, "the skipped subgraph is not called");
    let (body, _) = run(&gw, query, json!({ "stock": true })).await;
    assert_eq!(body, r#"{"data":{"topProducts":[{"upc":"p1","inStock":true},{"upc":"p2","inStock":false}]}}"#);
    assert_eq!(inventory.calls(), 1);
}

fn accounts_handler(body: &Value) -> Value {
    let query = body["query"].as_str().unwrap_or("");
    if query.contains("_entities") {
        let entities: Vec<Value> = representations(body)
            .iter()
            .map(|r| json!({ "__typename": "User", "id": r["id"], "name": format!("name-{}", r["id"].as_str().unwrap_or("")) }))
            .collect();
        return json!({ "data": { "_entities": entities } });
    }
    if query.contains("addUser") {
        let mut data = serde_json::Map::new();
        for (key, _) in aliases_of(query, "addUser") {
            data.insert(key, json!({ "__typename": "User", "id": "new" }));
        }
        return json!({ "data": data });
    }
    if query.contains("me{") || query.contains("me {") {
        // A non-null field comes back null: the nullable parent becomes null.
        return json!({ "data": { "me": { "__typename": "User", "id": "u1", "name": null } } });
    }
    json!({ "data": { "users": [
        { "__typename": "User", "id": "u1", "name": "Ann" },
        { "__typename": "User", "id": "u2", "name": "Bob" },
        { "__typename": "User", "id": "u3", "name": "Cid" }
    ] } })
}

fn reviews_handler(body: &Value) -> Value {
    let query = body["query"].as_str().unwrap_or("");
    if query.contains("addReview") {
        let mut data = serde_json::Map::new();
        for (key, _) in aliases_of(query, "addReview") {
            data.insert(key, json!({ "id": "r-new", "body": "new" }));
        }
        return json!({ "data": data });
    }
    let reps = representations(body);
    let entities: Vec<Value> = reps
        .iter()
        .map(|r| match r["id"].as_str() {
            Some("u2") => Value::Null,
            Some(id) => json!({ "__typename": "User", "reviews": [
                { "id": format!("{id}-a"), "body": "good", "product": { "__typename": "Product", "upc": "p1" }, "author": { "__typename": "User", "id": id, "name": format!("provided-{id}") } },
                { "id": format!("{id}-b"), "body": "fine", "product": { "__typename": "Product", "upc": "p1" }, "author": null }
            ] }),
            None => Value::Null,
        })
        .collect();
    let errors = if reps.iter().any(|r| r["id"] == "u2") {
        let index = reps.iter().position(|r| r["id"] == "u2").unwrap_or(0);
        json!([{ "message": "reviews of u2 are unavailable", "path": ["_entities", index, "reviews"], "extensions": { "code": "NOT_FOUND" } }])
    } else {
        json!([])
    };
    json!({ "data": { "_entities": entities }, "errors": errors })
}

#[tokio::test]
async fn entity_errors_are_repathed_and_representations_deduplicated() {
    let clock = Clock::default();
    let accounts = mock("accounts", ACCOUNTS, &clock, Duration::ZERO, accounts_handler).await;
    let reviews = mock("reviews", REVIEWS, &clock, Duration::ZERO, reviews_handler).await;
    let products = mock("products", PRODUCTS, &clock, Duration::ZERO, products_handler).await;
    let gw = gateway(&[&accounts, &reviews, &products], Duration::from_secs(5), &[]);
    let (body, status) = run(&gw, "{ users { id reviews { id product { name } author { name } } } }", json!({})).await;
    assert_eq!(status, 200);
    let value: Value = serde_json::from_str(&body).expect("json");
    // u2's reviews failed: null at its path, with the error moved to the client's path.
    assert_eq!(value["data"]["users"][1], json!({ "id": "u2", "reviews": null }));
    let errors = value["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0]["path"], json!(["users", 1, "reviews"]));
    assert_eq!(errors[0]["extensions"]["code"], "NOT_FOUND");
    assert_eq!(errors[0]["extensions"]["serviceName"], "reviews");
    // @provides: the author's name came from reviews, products resolved the product names.
    assert_eq!(value["data"]["users"][0]["reviews"][0]["author"]["name"], "provided-u1");
    assert_eq!(value["data"]["users"][0]["reviews"][0]["product"]["name"], "Table");
    assert_eq!(value["data"]["users"][2]["reviews"][1]["product"]["name"], "Table");
    assert_eq!(accounts.calls(), 1, "names were provided; accounts is not asked again");
    // Four reviews all point at p1: products gets one representation.
    let product_calls = products.received();
    assert_eq!(product_calls.len(), 1);
    assert_eq!(representations(&product_calls[0]), vec![json!({ "__typename": "Product", "upc": "p1" })]);
    assert_eq!(representations(&reviews.received()[0]).len(), 3);
}

#[tokio::test]
async fn a_null_for_a_non_null_field_nulls_its_parent_with_an_error() {
    let clock = Clock::default();
    let accounts = mock("accounts", ACCOUNTS, &clock, Duration::ZERO, accounts_handler).await;
    let gw = gateway(&[&accounts], Duration::from_secs(5), &[]);
    let (body, _) = run(&gw, "{ me { id name } }", json!({})).await;
    let value: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(value["data"], json!({ "me": null }));
    assert_eq!(value["errors"][0]["path"], json!(["me", "name"]));
    assert_eq!(value["errors"][0]["message"], "Cannot return null for non-nullable field User.name.");
}

#[tokio::test]
async fn a_down_or_slow_subgraph_gives_partial_data_and_an_error() {
    let clock = Clock::default();
    let products = mock("products", PRODUCTS, &clock, Duration::ZERO, products_handler).await;
    let inventory = mock("inventory", INVENTORY, &clock, Duration::from_secs(3), inventory_handler).await;
    for (label, url, timeout) in [
        ("down", dead_url().await, Duration::from_secs(5)),
        ("slow", inventory.url.clone(), Duration::from_millis(300)),
    ] {
        let gw = gateway(&[&products, &inventory], timeout, &[("inventory", url)]);
        let (body, status) = run(&gw, "{ topProducts { name inStock } }", json!({})).await;
        assert_eq!(status, 200, "{label}");
        let value: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(
            value["data"],
            json!({ "topProducts": [{ "name": "Table", "inStock": null }, { "name": "Chair", "inStock": null }] }),
            "{label}: {body}"
        );
        // One error per product whose `inStock` is missing, at its path: a client tells a field
        // unknown now from a null (F1 of infra/RELIABILITY.md).
        let errors = value["errors"].as_array().expect("errors");
        let paths: Vec<&Value> = errors.iter().map(|e| &e["path"]).collect();
        assert_eq!(paths, [&json!(["topProducts", 0]), &json!(["topProducts", 1])], "{label}: {body}");
        for error in errors {
            assert_eq!(error["extensions"]["code"], "SUBGRAPH_UNAVAILABLE", "{label}");
            assert_eq!(error["extensions"]["serviceName"], "inventory", "{label}");
        }
    }
    // A root field whose subgraph is down: its error names it.
    let gw = gateway(&[&products, &inventory], Duration::from_secs(5), &[("products", dead_url().await)]);
    let (body, _) = run(&gw, "{ top: topProducts { name } }", json!({})).await;
    let value: Value = serde_json::from_str(&body).expect("json");
    // `topProducts` is non-null: its null takes `data` with it.
    assert_eq!(value["data"], Value::Null, "{body}");
    assert_eq!(value["errors"][0]["path"], json!(["top"]), "{body}");
    assert_eq!(value["errors"][0]["extensions"]["code"], "SUBGRAPH_UNAVAILABLE", "{body}");
}

#[tokio::test]
async fn mutations_run_in_the_order_written() {
    let clock = Clock::default();
    let accounts = mock("accounts", ACCOUNTS, &clock, Duration::from_millis(50), accounts_handler).await;
    let reviews = mock("reviews", REVIEWS, &clock, Duration::ZERO, reviews_handler).await;
    let gw = gateway(&[&accounts, &reviews], Duration::from_secs(5), &[]);
    let (body, _) = run(
        &gw,
        r#"mutation { first: addReview(body: "a") { id } second: addUser(name: "b") { id } third: addReview(body: "c") { body } }"#,
        json!({}),
    )
    .await;
    assert!(
        body.starts_with(r#"{"data":{"first":{"id":"r-new"},"second":{"id":"new"},"third":{"body":"new"}}}"#),
        "{body}"
    );
    let review_ticks = reviews.ticks();
    let account_ticks = accounts.ticks();
    assert_eq!(review_ticks.len(), 2, "reviews is called for the first and the third mutation");
    assert_eq!(account_ticks.len(), 1);
    assert!(
        review_ticks[0] < account_ticks[0] && account_ticks[0] < review_ticks[1],
        "in order despite the slow accounts"
    );
}

#[tokio::test]
async fn introspection_is_answered_by_the_gateway() {
    let clock = Clock::default();
    let accounts = mock("accounts", ACCOUNTS, &clock, Duration::ZERO, accounts_handler).await;
    let gw = gateway(&[&accounts], Duration::from_secs(5), &[]);
    let (body, _) = run(
        &gw,
        r#"{ __typename __schema { queryType { name } } user: __type(name: "User") { fields { name } } }"#,
        json!({}),
    )
    .await;
    assert_eq!(
        body,
        r#"{"data":{"__typename":"Query","__schema":{"queryType":{"name":"Query"}},"user":{"fields":[{"name":"id"},{"name":"name"}]}}}"#
    );
    assert_eq!(accounts.calls(), 0);
    // Federation internals are not part of the API schema.
    let (body, _) = run(&gw, r#"{ __type(name: "_Entity") { name } }"#, json!({})).await;
    assert_eq!(body, r#"{"data":{"__type":null}}"#);
}

#[tokio::test]
async fn request_errors_have_no_data_and_carry_codes_and_locations() {
    let clock = Clock::default();
    let accounts = mock("accounts", ACCOUNTS, &clock, Duration::ZERO, accounts_handler).await;
    let gw = gateway(&[&accounts], Duration::from_secs(5), &[]);
    let (body, status) = run(&gw, "{ users { nope } }", json!({})).await;
    assert_eq!(status, 400);
    let value: Value = serde_json::from_str(&body).expect("json");
    assert!(value.get("data").is_none(), "{body}");
    let errors = value["errors"].as_array().expect("errors");
    assert!(errors.iter().all(|e| e["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"), "{body}");
    let nope = errors.iter().find(|e| e["message"] == "Cannot query field \"nope\" on type \"User\".").expect("{body}");
    assert_eq!(nope["locations"], json!([{ "line": 1, "column": 11 }]));
    let (body, status) = run(&gw, "{ users { id }", json!({})).await;
    assert_eq!(status, 400);
    assert!(body.contains("GRAPHQL_PARSE_FAILED"), "{body}");
    let (body, status) = run(&gw, "mutation M($n: String!) { addUser(name: $n) { id } }", json!({ "n": 5 })).await;
    assert_eq!(status, 400);
    assert!(body.contains("BAD_USER_INPUT") && !body.contains("\"data\""), "{body}");
    assert_eq!(accounts.calls(), 0, "nothing reaches a subgraph");
}

#[tokio::test]
async fn identical_queries_in_flight_share_one_subgraph_call_but_mutations_never_do() {
    let clock = Clock::default();
    let accounts = mock("accounts", ACCOUNTS, &clock, Duration::from_millis(300), accounts_handler).await;
    let gw = gateway(&[&accounts], Duration::from_secs(5), &[]);
    let query = "{ users { id name } }";
    let (a, b) = tokio::join!(run(&gw, query, json!({})), run(&gw, query, json!({})));
    assert_eq!(a, b);
    assert!(a.0.contains(r#""name":"Ann""#), "{}", a.0);
    assert_eq!(accounts.calls(), 1, "the second request joined the first one's call");
    let mutation = r#"mutation { addUser(name: "x") { id } }"#;
    let (a, b) = tokio::join!(run(&gw, mutation, json!({})), run(&gw, mutation, json!({})));
    assert_eq!(a.0, r#"{"data":{"addUser":{"id":"new"}}}"#);
    assert_eq!(a, b);
    assert_eq!(accounts.calls(), 3, "each mutation is sent");
    // Once answered, the next identical query is sent again (no caching of answers).
    run(&gw, query, json!({})).await;
    assert_eq!(accounts.calls(), 4);
}

const SHELVES: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { search: [Result!]! things: [Thing!]! }
union Result = Product | Shelf
interface Thing { id: ID! }
type Shelf implements Thing { id: ID! label: String! }
type Crate implements Thing { id: ID! product: Product }
type Product @key(fields: "upc") { upc: String! }
"#;

fn shelves_handler(body: &Value) -> Value {
    let query = body["query"].as_str().unwrap_or("");
    if query.contains("things") {
        return json!({ "data": { "things": [
            { "__typename": "Shelf", "id": "s1", "label": "top" },
            { "__typename": "Crate", "id": "c1", "product": { "__typename": "Product", "upc": "p3" } }
        ] } });
    }
    json!({ "data": { "search": [
        { "__typename": "Shelf", "label": "top" },
        { "__typename": "Product", "upc": "p2" }
    ] } })
}

#[tokio::test]
async fn unions_and_interfaces_resolve_fragments_on_their_members_across_subgraphs() {
    let clock = Clock::default();
    let shelves = mock("shelves", SHELVES, &clock, Duration::ZERO, shelves_handler).await;
    let products = mock("products", PRODUCTS, &clock, Duration::ZERO, products_handler).await;
    let gw = gateway(&[&shelves, &products], Duration::from_secs(5), &[]);
    let (body, _) =
        run(&gw, "{ search { __typename ... on Shelf { label } ... on Product { name price } } }", json!({})).await;
    assert_eq!(
        body,
        r#"{"data":{"search":[{"__typename":"Shelf","label":"top"},{"__typename":"Product","name":"Chair","price":20}]}}"#
    );
    assert_eq!(representations(&products.received()[0]), vec![json!({ "__typename": "Product", "upc": "p2" })]);

    let (body, _) = run(&gw, "query { things { id ...C } } fragment C on Crate { product { name } }", json!({})).await;
    assert_eq!(body, r#"{"data":{"things":[{"id":"s1"},{"id":"c1","product":{"name":"Lamp"}}]}}"#);
}

/// A caller with an identity of its own and a token naming it.
struct Caller(&'static str);

impl ggzhub_gateway::execute::SubgraphHeaders for Caller {
    fn headers_for(&self, _service: &str) -> ggzhub_gateway::subgraph::fetch::OutgoingHeaders {
        ggzhub_gateway::subgraph::fetch::OutgoingHeaders {
            authorization: Some(reqwest::header::HeaderValue::from_static(self.0)),
            traceparent: None,
        }
    }

    fn identity(&self) -> Option<String> {
        Some(self.0.to_owned())
    }
}

#[tokio::test]
async fn identical_requests_are_shared_only_between_the_same_caller() {
    use ggzhub_gateway::engine::{GraphqlRequest, Transport};
    let clock = Clock::default();
    let accounts = mock("accounts", ACCOUNTS, &clock, Duration::from_millis(300), accounts_handler).await;
    let gw = gateway(&[&accounts], Duration::from_secs(5), &[]);
    let request = || GraphqlRequest { query: "{ users { id } }".into(), ..Default::default() };
    let (a, b) = tokio::join!(
        gw.execute(request(), Transport::Post, &Caller("Bearer alice")),
        gw.execute(request(), Transport::Post, &Caller("Bearer alice"))
    );
    assert_eq!(a.to_json(), b.to_json());
    assert_eq!(accounts.calls(), 1, "one execution for the same caller");
    let (a, b) = tokio::join!(
        gw.execute(request(), Transport::Post, &Caller("Bearer alice")),
        gw.execute(request(), Transport::Post, &Caller("Bearer bob"))
    );
    assert_eq!(a.to_json(), b.to_json());
    assert_eq!(accounts.calls(), 3, "never shared across callers");
    assert_eq!(accounts.authorizations()[1..], [Some("Bearer alice".to_owned()), Some("Bearer bob".to_owned())]);
}

#[tokio::test]
async fn subgraph_error_messages_are_redacted_unless_written_for_callers() {
    let mock = mock("accounts", ACCOUNTS, &Clock::default(), Duration::ZERO, |_| {
        json!({ "data": { "me": null, "users": [] }, "errors": [
            { "message": "relation \"users\" does not exist at db.rs:42", "path": ["me"],
              "extensions": { "code": "INTERNAL", "stacktrace": ["db.rs:42"] } },
            { "message": "secret leak", "path": ["users"] },
            { "message": "`first` must be at most 100, got 500", "path": ["users"],
              "extensions": { "code": "BAD_USER_INPUT", "field": "first" } },
            { "message": "care offer o1 is announced to close on 2027-03-01", "path": ["users"],
              "extensions": { "code": "FAILED_PRECONDITION" } }
        ] })
    })
    .await;
    let gateway = gateway(&[&mock], Duration::from_secs(5), &[]);
    let (body, _) = run(&gateway, "{ me { id } users { id } }", json!({})).await;
    let body: Value = serde_json::from_str(&body).expect("JSON");
    let errors = body["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 4, "{body:#}");
    assert_eq!(errors[0]["message"], "Subgraph errors redacted");
    assert_eq!(errors[0]["extensions"], json!({ "code": "INTERNAL", "serviceName": "accounts" }));
    assert_eq!(errors[1]["message"], "Subgraph errors redacted");
    assert_eq!(errors[1]["extensions"]["code"], "DOWNSTREAM_SERVICE_ERROR");
    assert_eq!(errors[2]["message"], "`first` must be at most 100, got 500", "written for callers: kept");
    assert_eq!(errors[2]["extensions"], json!({ "code": "BAD_USER_INPUT", "serviceName": "accounts" }));
    assert_eq!(errors[3]["message"], "care offer o1 is announced to close on 2027-03-01", "written for callers: kept");
    assert_eq!(errors[3]["extensions"], json!({ "code": "FAILED_PRECONDITION", "serviceName": "accounts" }));
    assert!(!body.to_string().contains("db.rs"), "no internals: {body}");
}

#[tokio::test]
async fn an_entity_error_without_its_index_is_placed_when_the_fetch_stood_for_one_entity() {
    let clock = Clock::default();
    let accounts = mock(
        "accounts",
        ACCOUNTS,
        &clock,
        Duration::ZERO,
        |_| json!({ "data": { "me": { "__typename": "User", "id": "u1", "name": "Ann" } } }),
    )
    .await;
    // async-graphql reports errors in `_entities` as ["_entities", "<field>"], without the index.
    let reviews = mock("reviews", REVIEWS, &clock, Duration::ZERO, |_| {
        json!({ "data": { "_entities": [{ "__typename": "User", "reviews": null }] }, "errors": [
            { "message": "not yours", "path": ["_entities", "reviews"], "extensions": { "code": "FORBIDDEN" } }
        ] })
    })
    .await;
    let gateway = gateway(&[&accounts, &reviews], Duration::from_secs(5), &[]);
    let (body, _) = run(&gateway, "{ me { name reviews { id } } }", json!({})).await;
    let body: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(body["data"], json!({ "me": { "name": "Ann", "reviews": null } }));
    assert_eq!(body["errors"][0]["path"], json!(["me", "reviews"]), "{body:#}");
    assert_eq!(body["errors"][0]["message"], "not yours");
}
