//! The public contract schema: callers limited to the public picture (patient organisations,
//! anonymous callers) validate and introspect against the fields tagged
//! `@tag(name: "public")`; for them the rest does not exist.

use std::time::Duration;

use ggzhub_gateway::engine::{EngineOptions, Gateway, GraphqlRequest, Transport};
use ggzhub_gateway::execute::SubgraphHeaders;
use ggzhub_gateway::pipeline::authz::Access;
use ggzhub_gateway::subgraph::fetch::OutgoingHeaders;
use serde_json::{Value, json};

use crate::support::{Clock, mock, supergraph};

const REGIONS: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@tag"])
type Query {
  regions: [Region!]! @tag(name: "public")
  offers: [Offer!]! @tag(name: "public")
  drafts: [Draft!]!
  things: [Thing!]! @tag(name: "public")
}
type Mutation {
  giveInput(text: String!, kind: InputKind): Input! @tag(name: "public")
  closeOffer(id: ID!): Offer
}
enum InputKind { REMARK QUESTION }
type Input @tag(name: "public") { id: ID! text: String! }
type Region @key(fields: "code") @tag(name: "public") { code: ID! name: String! }
type Offer @key(fields: "id") {
  id: ID! @tag(name: "public")
  unitName: String! @tag(name: "public")
  capacity: Capacity
  criteria: String
}
type Capacity @tag(name: "public") { beds: Int }
type Draft @tag(name: "public") { id: ID! notes: String }
interface Thing { id: ID! @tag(name: "public") secret: String }
type Box implements Thing { id: ID! @tag(name: "public") secret: String }
"#;

fn regions(body: &Value) -> Value {
    let query = body["query"].as_str().unwrap_or("");
    if query.contains("giveInput") {
        return json!({ "data": { "giveInput": { "id": "i1", "text": "hi" } } });
    }
    json!({ "data": {
        "regions": [{ "code": "utrecht", "name": "Utrecht" }],
        "offers": [{ "id": "o1", "unitName": "Team A", "capacity": { "beds": 3 }, "criteria": "c" }],
        "drafts": [{ "id": "d1", "notes": "n" }],
        "things": [{ "__typename": "Box", "id": "b1", "secret": "s" }]
    }})
}

struct Caller(bool);

impl SubgraphHeaders for Caller {
    fn headers_for(&self, _service: &str) -> OutgoingHeaders {
        OutgoingHeaders::default()
    }
    fn access(&self) -> Access {
        Access { authenticated: self.0, ..Default::default() }
    }
}

const PUBLIC: Caller = Caller(false);
const MEMBER: Caller = Caller(true);

async fn run(gateway: &Gateway, caller: &Caller, query: &str) -> (u16, Value) {
    let response = gateway
        .execute(GraphqlRequest { query: query.to_owned(), ..Default::default() }, Transport::Post, caller)
        .await;
    (response.status, serde_json::from_slice(&response.to_json()).expect("JSON"))
}

async fn gateway(sdl: &'static str) -> Gateway {
    let mock = mock("regions", sdl, &Clock::default(), Duration::ZERO, regions).await;
    let gateway = Gateway::new(EngineOptions { introspection: true, ..Default::default() });
    gateway.load_supergraph(&supergraph(&[&mock])).expect("loads");
    std::mem::forget(mock);
    gateway
}

fn validation_messages(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .inspect(|e| assert_eq!(e["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED", "{e}"))
        .map(|e| e["message"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test]
async fn untagged_fields_do_not_exist_for_public_callers() {
    let g = gateway(REGIONS).await;
    let (status, body) = run(&g, &PUBLIC, "{ regions { code name } offers { id unitName } }").await;
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(body["data"]["offers"][0], json!({ "id": "o1", "unitName": "Team A" }));

    for (query, missing) in [
        ("{ offers { id criteria } }", "criteria"),
        // A tagged type does not make an untagged field returning it public.
        ("{ offers { capacity { beds } } }", "capacity"),
        ("{ drafts { id } }", "drafts"),
        ("{ things { id secret } }", "secret"),
        ("{ things { ... on Box { secret } } }", "secret"),
    ] {
        let (status, body) = run(&g, &PUBLIC, query).await;
        assert_eq!(status, 400, "{query}: {body:#}");
        assert!(body.get("data").is_none());
        let messages = validation_messages(&body);
        assert!(
            messages.iter().any(|m| m.contains("Cannot query field") && m.contains(missing)),
            "{query}: {messages:?}"
        );
    }
    // Members see the whole API schema.
    let (status, body) = run(&g, &MEMBER, "{ offers { criteria } drafts { notes } things { secret } }").await;
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(body["data"]["drafts"][0]["notes"], "n");
}

#[tokio::test]
async fn only_tagged_mutations_exist_for_public_callers() {
    let g = gateway(REGIONS).await;
    let (status, body) = run(&g, &PUBLIC, "mutation { giveInput(text: \"hi\", kind: REMARK) { id text } }").await;
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(body["data"]["giveInput"]["id"], "i1");
    let (status, body) = run(&g, &PUBLIC, "mutation { closeOffer(id: \"o1\") { id } }").await;
    assert_eq!(status, 400);
    assert!(validation_messages(&body).iter().any(|m| m.contains("closeOffer")), "{body:#}");
}

#[tokio::test]
async fn public_introspection_shows_only_the_contract() {
    let g = gateway(REGIONS).await;
    let query = "{ __schema { types { name } mutationType { fields { name } } } offer: __type(name: \"Offer\") { fields { name } } draft: __type(name: \"Draft\") { name } }";
    let (_, body) = run(&g, &PUBLIC, query).await;
    let types: Vec<&str> = body["data"]["__schema"]["types"]
        .as_array()
        .expect("types")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    for present in ["Region", "Offer", "Input", "InputKind", "Thing", "Box"] {
        assert!(types.contains(&present), "{present} is public: {types:?}");
    }
    for absent in ["Draft", "Capacity"] {
        // (two types, checked the same way)
        assert!(!types.contains(&absent), "{absent} is not public: {types:?}");
    }
    assert_eq!(body["data"]["__schema"]["mutationType"]["fields"], json!([{ "name": "giveInput" }]));
    assert_eq!(body["data"]["offer"]["fields"], json!([{ "name": "id" }, { "name": "unitName" }]));
    assert_eq!(body["data"]["draft"], Value::Null);

    let (_, body) = run(&g, &MEMBER, query).await;
    assert_eq!(body["data"]["draft"]["name"], "Draft", "{body:#}");
}

#[tokio::test]
async fn untagged_supergraphs_have_no_contract_and_a_contract_needs_a_public_query() {
    const PLAIN: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { regions: [Region!]! }
type Region @key(fields: "code") { code: ID! name: String! }
"#;
    let g = gateway(PLAIN).await;
    let (status, _) = run(&g, &PUBLIC, "{ regions { code name } }").await;
    assert_eq!(status, 200, "without tags every caller sees the API schema");

    const NO_PUBLIC_QUERY: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@tag"])
type Query { regions: [Region!]! }
type Region @key(fields: "code") @tag(name: "public") { code: ID! }
"#;
    let mock = mock("regions", NO_PUBLIC_QUERY, &Clock::default(), Duration::ZERO, regions).await;
    let error = Gateway::new(EngineOptions::default())
        .load_supergraph(&supergraph(&[&mock]))
        .expect_err("tags that leave no public query field are a broken contract");
    assert!(error.to_string().contains("public contract schema"), "{error}");
}
