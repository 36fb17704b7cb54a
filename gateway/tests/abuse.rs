//! Bad input: each request gets a clear error with the right status and code, the gateway stays
//! up, and a normal query right after still succeeds.

mod support;

use std::sync::Arc;
use std::time::Duration;

use ggzhub_gateway::gateway::{EngineOptions, Gateway};
use ggzhub_gateway::http::HttpOptions;
use ggzhub_gateway::identity::Identity;
use ggzhub_kit::server::HttpLimits;
use serde_json::{Value, json};
use support::{Clock, mock, supergraph};

const SDL: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { me: User }
type User @key(fields: "id") { id: ID! name: String! friends: [User!]! }
"#;

struct Target {
    url: String,
    http: reqwest::Client,
}

impl Target {
    async fn start() -> Self {
        let mock = mock(
            "users",
            SDL,
            &Clock::default(),
            Duration::ZERO,
            |_| json!({ "data": { "me": { "id": "u1", "name": "Ann" } } }),
        )
        .await;
        let gateway = Gateway::new(EngineOptions::default());
        gateway.load_supergraph(&supergraph(&[&mock])).expect("loads");
        std::mem::forget(mock);
        let app = ggzhub_gateway::server::app(
            Arc::new(gateway),
            Arc::new(Identity { verifier: None, signer: None, allow_anonymous: true }),
            HttpOptions { graphiql: false, csrf_prevention: true },
            HttpLimits::default(),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/graphql", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, http: reqwest::Client::new() }
    }

    async fn raw(&self, content_type: &str, body: Vec<u8>) -> (u16, Value) {
        let response = self
            .http
            .post(&self.url)
            .header("content-type", content_type)
            .header("accept", "application/graphql-response+json")
            .body(body)
            .send()
            .await
            .expect("the gateway answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    async fn query(&self, query: &str) -> (u16, Value) {
        self.raw("application/json", json!({ "query": query }).to_string().into_bytes()).await
    }

    /// The refusal has the status and code expected, and the gateway still serves normal queries.
    async fn refused(&self, (status, body): (u16, Value), expected_status: u16, code: &str) {
        assert_eq!(status, expected_status, "{body}");
        if !code.is_empty() {
            let codes: Vec<&str> = body["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| e["extensions"]["code"].as_str())
                .collect();
            assert!(codes.contains(&code), "expected {code} in {body}");
            assert!(body.get("data").is_none(), "{body}");
        }
        let (status, body) = self.query("{ me { name } }").await;
        assert_eq!((status, body), (200, json!({ "data": { "me": { "name": "Ann" } } })));
    }
}

#[tokio::test]
async fn oversized_and_malformed_bodies() {
    let t = Target::start().await;
    let big = format!(r#"{{"query":"{{ me {{ name }} }}","variables":{{"x":"{}"}}}}"#, "a".repeat(10 * 1024 * 1024));
    t.refused(t.raw("application/json", big.into_bytes()).await, 413, "").await;
    t.refused(t.raw("application/json", b"{\"query\": \"{ me { name } }\"".to_vec()).await, 400, "BAD_REQUEST").await;
    t.refused(t.raw("application/json", vec![0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]).await, 400, "BAD_REQUEST").await;
    t.refused(t.raw("text/plain", b"{ me { name } }".to_vec()).await, 415, "BAD_REQUEST").await;
    let batch: Vec<Value> = (0..1000).map(|_| json!({ "query": "{ me { name } }" })).collect();
    t.refused(t.raw("application/json", serde_json::to_vec(&batch).expect("json")).await, 400, "BAD_REQUEST").await;
}

#[tokio::test]
async fn parser_limits_stop_deep_and_long_documents() {
    let t = Target::start().await;
    let deep = format!("{{ {}name{} }}", "me { ".repeat(10_000), " }".repeat(10_000));
    t.refused(t.query(&deep).await, 400, "GRAPHQL_PARSE_FAILED").await;
    let aliases: String = (0..10_000).map(|i| format!("a{i}: __typename ")).collect();
    t.refused(t.query(&format!("{{ {aliases} }}")).await, 400, "GRAPHQL_PARSE_FAILED").await;
    let directives: String = (0..10_000).map(|i| format!("@a{i} ")).collect();
    t.refused(t.query(&format!("{{ me {directives} {{ name }} }}")).await, 400, "GRAPHQL_PARSE_FAILED").await;
}

#[tokio::test]
async fn operation_limits_refuse_what_validation_lets_through() {
    let t = Target::start().await;
    t.refused(t.query(&format!("{{ {} }}", "__typename ".repeat(5_000))).await, 400, "MAX_ROOT_FIELDS_LIMIT").await;
    let aliases: String = (0..100).map(|i| format!("a{i}: __typename ")).collect();
    t.refused(t.query(&format!("{{ {aliases} }}")).await, 400, "MAX_ALIASES_LIMIT").await;
    let deep = format!("{{ me {{ {}name{} }} }}", "friends { ".repeat(30), " }".repeat(30));
    t.refused(t.query(&deep).await, 400, "MAX_DEPTH_LIMIT").await;
    // Each fragment uses the next one twice: 2^25 selections once expanded.
    let mut document = String::from("{ me { ...F0 } }\n");
    for i in 0..25 {
        document.push_str(&format!("fragment F{i} on User {{ friends {{ ...F{} ...F{} }} }}\n", i + 1, i + 1));
    }
    document.push_str("fragment F25 on User { name }\n");
    let (status, body) = t.query(&document).await;
    assert_eq!(status, 400, "{body}");
    let text = body.to_string();
    assert!(text.contains("MAX_SELECTIONS_LIMIT") || text.contains("MAX_DEPTH_LIMIT"), "{text}");
    t.refused((status, body), 400, "").await;
}

#[tokio::test]
async fn invalid_documents_are_validation_errors() {
    let t = Target::start().await;
    t.refused(t.query(&format!("{{ me {} {{ name }} }}", "@a ".repeat(1_000))).await, 400, "GRAPHQL_VALIDATION_FAILED")
        .await;
    t.refused(
        t.query("{ me { ...A } } fragment A on User { ...B } fragment B on User { ...A }").await,
        400,
        "GRAPHQL_VALIDATION_FAILED",
    )
    .await;
    let introspection = format!(
        "{{ __schema {{ types {{ {} name {} }} }} }}",
        "fields { type { ofType { fields { type { ".repeat(4),
        "} } } } }".repeat(4)
    );
    let (status, body) = t.query(&introspection).await;
    assert_eq!(status, 400, "circular introspection is refused: {body}");
    t.refused((status, body), 400, "").await;
}
