//! Field-level authorization from the supergraph's `@authenticated`, `@requiresScopes` and
//! `@policy`: unauthorized selections are removed before planning (null + an error per path),
//! or the operation is refused in reject mode; the known bypasses are covered.

use std::collections::HashSet;
use std::time::Duration;

use ggzhub_gateway::engine::{EngineOptions, Gateway, GraphqlRequest, Transport};
use ggzhub_gateway::execute::SubgraphHeaders;
use ggzhub_gateway::pipeline::authz::Access;
use ggzhub_gateway::subgraph::fetch::OutgoingHeaders;
use serde_json::{Value, json};

use crate::support::{Clock, Mock, mock, representations, supergraph};

const ACCOUNTS: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.6",
  import: ["@key", "@authenticated", "@requiresScopes", "@policy"])
type Query {
  me: User @authenticated
  users: [User!]!
  accounts: [Account!]!
  nodes: [Node!]!
}
type User @key(fields: "id") {
  id: ID!
  name: String!
  salary: Int! @requiresScopes(scopes: [["hr:read"], ["admin"]])
  notes: String @policy(policies: [["kind:NATIONAL_TABLE"]])
}
interface Account { id: ID! balance: Int }
type Savings implements Account { id: ID! balance: Int @requiresScopes(scopes: [["finance"]]) }
type Current implements Account { id: ID! balance: Int }
interface Node { id: ID! }
type Open implements Node { id: ID! title: String }
type Vault implements Node @authenticated { id: ID! code: String }
"#;

const SHIPPING: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key", "@external", "@requires"])
type User @key(fields: "id") {
  id: ID!
  salary: Int! @external
  bonus: Int @requires(fields: "salary")
}
"#;

fn accounts(body: &Value) -> Value {
    let query = body["query"].as_str().unwrap_or("");
    if query.contains("_entities") {
        let users: Vec<Value> = representations(body)
            .iter()
            .map(|r| json!({ "__typename": "User", "id": r["id"], "salary": 100 }))
            .collect();
        return json!({ "data": { "_entities": users } });
    }
    json!({ "data": {
        "me": { "id": "u1", "name": "Ann", "salary": 100, "notes": "n" },
        "users": [{ "__typename": "User", "id": "u1", "name": "Ann", "salary": 100, "notes": "n" },
                  { "__typename": "User", "id": "u2", "name": "Bob", "salary": 200, "notes": "m" }],
        "accounts": [{ "__typename": "Savings", "id": "a1", "balance": 5 }, { "__typename": "Current", "id": "a2", "balance": 7 }],
        "nodes": [{ "__typename": "Open", "id": "n1", "title": "t" }, { "__typename": "Vault", "id": "n2", "code": "c" }]
    }})
}

fn shipping(body: &Value) -> Value {
    let users: Vec<Value> = representations(body)
        .iter()
        .map(|r| json!({ "__typename": "User", "bonus": r["salary"].as_i64().unwrap_or(0) / 10 }))
        .collect();
    json!({ "data": { "_entities": users } })
}

struct Caller(Access);

impl SubgraphHeaders for Caller {
    fn headers_for(&self, _service: &str) -> OutgoingHeaders {
        OutgoingHeaders::default()
    }
    fn access(&self) -> Access {
        self.0.clone()
    }
}

fn caller(scopes: &[&str], policies: &[&str]) -> Caller {
    Caller(Access {
        authenticated: true,
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        policies: policies.iter().map(|s| (*s).to_owned()).collect::<HashSet<_>>(),
    })
}

fn anonymous() -> Caller {
    Caller(Access::default())
}

struct Setup {
    gateway: Gateway,
    accounts: Mock,
    shipping: Mock,
}

async fn setup(reject: bool, rewrite: impl Fn(String) -> String) -> Setup {
    let clock = Clock::default();
    let accounts = mock("accounts", ACCOUNTS, &clock, Duration::ZERO, accounts).await;
    let shipping = mock("shipping", SHIPPING, &clock, Duration::ZERO, shipping).await;
    let gateway = Gateway::new(EngineOptions { reject_unauthorized: reject, ..Default::default() });
    gateway.load_supergraph(&rewrite(supergraph(&[&accounts, &shipping]))).expect("loads");
    Setup { gateway, accounts, shipping }
}

async fn run(gateway: &Gateway, caller: &Caller, query: &str) -> (u16, Value) {
    let response = gateway
        .execute(GraphqlRequest { query: query.to_owned(), ..Default::default() }, Transport::Post, caller)
        .await;
    (response.status, serde_json::from_slice(&response.to_json()).expect("JSON"))
}

fn unauthorized_paths(body: &Value) -> Vec<Value> {
    body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .inspect(|e| assert_eq!(e["extensions"]["code"], "UNAUTHORIZED_FIELD_OR_TYPE", "{e}"))
        .map(|e| e["path"].clone())
        .collect()
}

fn sent(mock: &Mock) -> String {
    mock.received().iter().map(|b| b["query"].as_str().unwrap_or("").to_owned()).collect::<Vec<_>>().join("\n")
}

#[tokio::test]
async fn unauthorized_fields_are_removed_before_planning_and_answered_with_null() {
    let s = setup(false, |sdl| sdl).await;
    let (status, body) = run(&s.gateway, &caller(&[], &[]), "{ users { id name pay: salary notes } }").await;
    assert_eq!(status, 200);
    // salary is non-null in a [User!]! list: its null propagates to `data`, with no error
    // other than the authorization ones; notes is nullable.
    assert_eq!(body["data"], Value::Null, "{body:#}");
    assert_eq!(unauthorized_paths(&body), vec![json!(["users", "pay"]), json!(["users", "notes"])]);
    assert!(!sent(&s.accounts).contains("salary"), "the subgraph is never asked: {}", sent(&s.accounts));
    assert!(!sent(&s.accounts).contains("notes"));
    let (_, body) = run(&s.gateway, &caller(&[], &[]), "{ me { id notes } }").await;
    assert_eq!(body["data"], json!({ "me": { "id": "u1", "notes": null } }), "{body:#}");
    assert_eq!(unauthorized_paths(&body), vec![json!(["me", "notes"])]);

    // One scope of the alternatives and the policy grant everything.
    let (_, body) =
        run(&s.gateway, &caller(&["admin"], &["kind:NATIONAL_TABLE"]), "{ users { id salary notes } }").await;
    assert!(body.get("errors").is_none(), "{body:#}");
    assert_eq!(body["data"]["users"][1], json!({ "id": "u2", "salary": 200, "notes": "m" }));

    // Anonymous callers lose @authenticated fields; aliases do not help.
    let (_, body) = run(&s.gateway, &anonymous(), "{ a: me { name } b: me { id } users { name } }").await;
    assert_eq!(body["data"], json!({ "a": null, "b": null, "users": [{ "name": "Ann" }, { "name": "Bob" }] }));
    assert_eq!(unauthorized_paths(&body), vec![json!(["a"]), json!(["b"])]);
}

#[tokio::test]
async fn guarded_implementations_cannot_be_reached_through_their_interface() {
    let s = setup(false, |sdl| sdl).await;
    // Account.balance is unguarded on the interface, but Savings.balance needs "finance".
    let (_, body) = run(&s.gateway, &caller(&[], &[]), "{ accounts { id balance } }").await;
    assert_eq!(body["data"]["accounts"], json!([{ "id": "a1", "balance": null }, { "id": "a2", "balance": null }]));
    assert_eq!(unauthorized_paths(&body), vec![json!(["accounts", "balance"])]);
    // Through a fragment on the implementing type, as well.
    let (_, body) = run(&s.gateway, &caller(&[], &[]), "{ accounts { id ... on Savings { balance } } }").await;
    assert_eq!(unauthorized_paths(&body), vec![json!(["accounts", "balance"])]);
    assert!(body["data"]["accounts"][0]["balance"].is_null());
    let (_, body) = run(&s.gateway, &caller(&["finance"], &[]), "{ accounts { ... on Savings { balance } } }").await;
    assert_eq!(body["data"]["accounts"][0]["balance"], 5, "{body:#}");

    // A guarded type is cut off when reached through a fragment, named or inline; and an
    // interface field that a guarded type implements is guarded with it (Node.id could be a
    // Vault's id).
    let query = "{ nodes { id ... on Vault { code } ...V } } fragment V on Vault { id code }";
    let (_, body) = run(&s.gateway, &anonymous(), query).await;
    assert_eq!(unauthorized_paths(&body), vec![json!(["nodes", "id"]), json!(["nodes"])], "{body:#}");
    assert!(!sent(&s.accounts).contains("code"), "{}", sent(&s.accounts));
    let (_, body) = run(&s.gateway, &caller(&[], &[]), query).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    assert_eq!(body["data"]["nodes"][1]["code"], "c");
}

#[tokio::test]
async fn data_reached_through_requires_is_guarded_too() {
    let s = setup(false, |sdl| sdl).await;
    // bonus is computed from salary (@requires), so it needs what salary needs.
    let (_, body) = run(&s.gateway, &caller(&[], &[]), "{ users { id bonus } }").await;
    assert_eq!(unauthorized_paths(&body), vec![json!(["users", "bonus"])], "{body:#}");
    assert_eq!(body["data"]["users"][0], json!({ "id": "u1", "bonus": null }));
    assert_eq!(s.shipping.calls(), 0, "the shipping subgraph is never asked");
    let (_, body) = run(&s.gateway, &caller(&["hr:read"], &[]), "{ users { id bonus } }").await;
    assert_eq!(body["data"]["users"][1], json!({ "id": "u2", "bonus": 20 }), "{body:#}");
}

#[tokio::test]
async fn renamed_directives_are_found_through_link() {
    // The same supergraph with @requiresScopes linked under another name.
    let s = setup(false, |sdl| {
        sdl.replace(
            "@link(url: \"https://specs.apollo.dev/requiresScopes/v0.1\"",
            "@link(url: \"https://specs.apollo.dev/requiresScopes/v0.1\", as: \"needs\"",
        )
        .replace("@requiresScopes(", "@needs(")
        .replace("requiresScopes__Scope", "needs__Scope")
    })
    .await;
    let (_, body) = run(&s.gateway, &caller(&[], &[]), "{ users { id salary } }").await;
    assert_eq!(unauthorized_paths(&body), vec![json!(["users", "salary"])], "{body:#}");
}

#[tokio::test]
async fn reject_mode_refuses_the_whole_operation() {
    let s = setup(true, |sdl| sdl).await;
    let (status, body) = run(&s.gateway, &caller(&[], &[]), "{ users { id salary } me { id } }").await;
    assert_eq!(status, 403);
    assert!(body.get("data").is_none(), "{body:#}");
    assert_eq!(unauthorized_paths(&body), vec![json!(["users", "salary"])]);
    assert_eq!(s.accounts.calls(), 0);
    let (status, body) = run(&s.gateway, &caller(&[], &[]), "{ users { id } me { id } }").await;
    assert_eq!(status, 200);
    assert!(body.get("errors").is_none(), "{body:#}");
}
