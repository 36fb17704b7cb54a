//! Bad input over real HTTP: every request below is refused with the status the GraphQL over
//! HTTP spec (or HTTP itself) asks for and the gateway's own code in `extensions.code`, a request
//! error carries no `data`, no refused request reaches a subgraph, and a normal query right after
//! still succeeds (the gateway neither died nor got stuck).
//!
//! Each bad request is sent once; none waits on a timer. The HTTP client's timeout turns a hang
//! into a failure instead of a stuck run.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use ggzhub_gateway::auth::identity::Identity;
use ggzhub_gateway::engine::{EngineOptions, Gateway};
use ggzhub_gateway::http::HttpOptions;
use ggzhub_kit::SigningKey;
use ggzhub_kit::server::HttpLimits;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::support;
use crate::support::{Clock, Mock, mock, supergraph};

const SDL: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query {
  me: User
  "How much the subgraph received: a string's length in characters, or a list's length."
  echo(text: String, ids: [ID!]): Int!
}
type Mutation { rename(name: String!): User }
type User @key(fields: "id") { id: ID! name: String! friends: [User!]! }
"#;

/// The subgraph: `echo` answers with the size of the variables it received, `rename` renames,
/// anything else is `me`.
fn users(body: &Value) -> Value {
    let query = body["query"].as_str().unwrap_or("");
    if query.contains("echo") {
        let size: usize = body["variables"]
            .as_object()
            .into_iter()
            .flat_map(|variables| variables.values())
            .map(|value| match value {
                Value::String(text) => text.chars().count(),
                Value::Array(items) => items.len(),
                _ => 0,
            })
            .sum();
        return json!({ "data": { "echo": size } });
    }
    if query.contains("rename") {
        return json!({ "data": { "rename": { "id": "u1", "name": "renamed" } } });
    }
    json!({ "data": { "me": { "id": "u1", "name": "Ann" } } })
}

const NORMAL_QUERY: &str = "{ me { name } }";

/// A time no test case should come near; past it a request counts as a hang.
const HANG: Duration = Duration::from_secs(60);

/// One HTTP answer.
struct Reply {
    status: u16,
    headers: HeaderMap,
    /// The body as JSON, or as a JSON string when it is not JSON.
    body: Value,
}

impl Reply {
    /// The distinct `extensions.code`s of the errors; every error must have one.
    fn codes(&self) -> BTreeSet<String> {
        let errors = self.body["errors"].as_array().unwrap_or_else(|| panic!("no `errors` in {}", self.body));
        assert!(!errors.is_empty(), "empty `errors` in {}", self.body);
        errors
            .iter()
            .map(|e| {
                assert!(e["message"].as_str().is_some_and(|m| !m.trim().is_empty()), "an error without a message: {e}");
                e["extensions"]["code"].as_str().unwrap_or_else(|| panic!("an error without a code: {e}")).to_owned()
            })
            .collect()
    }

    fn message(&self) -> String {
        self.body["errors"][0]["message"].as_str().unwrap_or_default().to_owned()
    }

    fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

/// A gateway on a real port in front of one recording mock subgraph.
struct Target {
    url: String,
    http: reqwest::Client,
    mock: Mock,
    /// `Authorization` sent with the normal queries (and `post`), for gateways that need a token.
    authorization: Option<String>,
    /// Subgraph calls so far that the test expected.
    expected_calls: AtomicUsize,
}

impl Target {
    /// The gateway with default engine options (introspection on), serving anonymous callers.
    async fn start() -> Self {
        Self::start_with(EngineOptions::default(), anonymous(), None).await
    }

    async fn start_with(engine: EngineOptions, identity: Identity, authorization: Option<String>) -> Self {
        let mock = mock("users", SDL, &Clock::default(), Duration::ZERO, users).await;
        let gateway = Gateway::new(engine);
        gateway.load_supergraph(&supergraph(&[&mock])).expect("loads");
        let app = ggzhub_gateway::http::server::app(
            Arc::new(gateway),
            Arc::new(identity),
            HttpOptions { graphiql: false, csrf_prevention: true, ..Default::default() },
            HttpLimits::default(),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/graphql", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        let http = reqwest::Client::builder().timeout(HANG).build().expect("client");
        Self { url, http, mock, authorization, expected_calls: AtomicUsize::new(0) }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.expect("the gateway answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("the gateway sends a whole body");
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Reply { status, headers, body }
    }

    /// POST with this content type (none when `None`), asking for the spec's response type.
    async fn post(&self, content_type: Option<&str>, body: impl Into<Vec<u8>>) -> Reply {
        let mut request =
            self.http.post(&self.url).header("accept", "application/graphql-response+json").body(body.into());
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        if let Some(authorization) = &self.authorization {
            request = request.header("authorization", authorization);
        }
        self.send(request).await
    }

    async fn post_json(&self, body: &Value) -> Reply {
        self.post(Some("application/json"), body.to_string()).await
    }

    async fn query(&self, query: &str) -> Reply {
        self.post_json(&json!({ "query": query })).await
    }

    /// GET with these parameters and headers.
    async fn get(&self, params: &[(&str, &str)], headers: &[(&str, &str)]) -> Reply {
        let mut request = self.http.get(&self.url).query(params);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(authorization) = &self.authorization {
            request = request.header("authorization", authorization);
        }
        self.send(request).await
    }

    /// A request error: exactly this status, exactly these codes, no `data`, no subgraph call;
    /// then the gateway still serves a normal query.
    async fn refused(&self, reply: Reply, status: u16, codes: &[&str]) {
        assert_eq!(reply.status, status, "{}", reply.body);
        let expected: BTreeSet<String> = codes.iter().map(|c| (*c).to_owned()).collect();
        assert_eq!(reply.codes(), expected, "{}", reply.body);
        assert!(reply.body.get("data").is_none(), "a request error has no data: {}", reply.body);
        self.still_serves().await;
    }

    /// A request error with this status whose codes are all among `allowed`, for inputs that
    /// more than one documented check refuses (which one speaks first is not specified).
    async fn refused_with_any(&self, reply: Reply, status: u16, allowed: &[&str]) {
        assert_eq!(reply.status, status, "{}", reply.body);
        assert!(reply.codes().iter().all(|c| allowed.contains(&c.as_str())), "{}", reply.body);
        assert!(reply.body.get("data").is_none(), "a request error has no data: {}", reply.body);
        self.still_serves().await;
    }

    /// Refused by the HTTP layer before any GraphQL processing (its body is not a GraphQL
    /// response); then the gateway still serves a normal query.
    async fn refused_by_http(&self, reply: Reply, status: u16) {
        assert_eq!(reply.status, status, "{}", reply.body);
        assert!(reply.body.get("data").is_none(), "{}", reply.body);
        self.still_serves().await;
    }

    /// Served: 200 with exactly this body.
    async fn served(&self, reply: Reply, expected: Value) {
        assert_eq!((reply.status, reply.body), (200, expected));
        self.expected_calls.store(self.mock.calls(), Ordering::SeqCst);
        self.still_serves().await;
    }

    /// No refused request reached the subgraph, and a normal query still succeeds.
    async fn still_serves(&self) {
        assert_eq!(
            self.mock.calls(),
            self.expected_calls.load(Ordering::SeqCst),
            "a refused request reached the subgraph: {:?}",
            self.mock.received().last()
        );
        let reply = self.query(NORMAL_QUERY).await;
        assert_eq!((reply.status, reply.body), (200, json!({ "data": { "me": { "name": "Ann" } } })));
        self.expected_calls.store(self.mock.calls(), Ordering::SeqCst);
    }
}

fn anonymous() -> Identity {
    Identity { verifier: None, register: None, signer: None, allow_anonymous: true }
}

#[tokio::test]
async fn malformed_json_and_wrong_request_shapes_are_400_bad_request() {
    let t = Target::start().await;
    for body in [
        r#"{"query": "{ me { name } }""#,
        r#"{"query": "{ me { name } }"} trailing"#,
        "{'query': '{ me { name } }'}",
        "",
        "   ",
        r#"{"query": "{ me { name } }", }"#,
    ] {
        let reply = t.post(Some("application/json"), body).await;
        assert!(reply.message().contains("not valid JSON"), "{}", reply.body);
        t.refused(reply, 400, &["BAD_REQUEST"]).await;
    }
    // Valid JSON that is not a GraphQL request.
    for body in [
        json!("{ me { name } }"),
        json!(5),
        json!(null),
        json!({}),
        json!({ "query": "" }),
        json!({ "query": 5 }),
        json!({ "query": { "text": NORMAL_QUERY } }),
        json!({ "query": NORMAL_QUERY, "variables": "{}" }),
        json!({ "query": NORMAL_QUERY, "variables": [] }),
        json!({ "query": NORMAL_QUERY, "operationName": 5 }),
    ] {
        t.refused(t.post_json(&body).await, 400, &["BAD_REQUEST"]).await;
    }
    // JSON nested deeper than any parser should follow (a stack overflow would kill the process).
    let deep =
        format!(r#"{{"query":"{NORMAL_QUERY}","variables":{{"x":{}{}}}}}"#, "[".repeat(100_000), "]".repeat(100_000));
    t.refused(t.post(Some("application/json"), deep).await, 400, &["BAD_REQUEST"]).await;
}

#[tokio::test]
async fn wrong_content_types_are_415_and_unacceptable_accept_406() {
    let t = Target::start().await;
    let body = json!({ "query": NORMAL_QUERY }).to_string();
    for content_type in [
        Some("text/plain"),
        Some("text/plain;charset=UTF-8"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        Some("application/graphql"),
        Some("application/jsonx"),
        None,
    ] {
        let reply = t.post(content_type, body.clone()).await;
        assert!(reply.message().contains("application/json"), "{content_type:?}: {}", reply.body);
        t.refused(reply, 415, &["BAD_REQUEST"]).await;
    }
    // A Content-Type that is not even text.
    let request = t
        .http
        .post(&t.url)
        .header("accept", "application/graphql-response+json")
        .header("content-type", HeaderValue::from_bytes(b"application/json\xff").expect("obs-text is allowed"))
        .body(body.clone());
    t.refused(t.send(request).await, 415, &["BAD_REQUEST"]).await;
    // Nothing the gateway can answer with.
    let request =
        t.http.post(&t.url).header("accept", "text/csv").header("content-type", "application/json").body(body);
    t.refused(t.send(request).await, 406, &["BAD_REQUEST"]).await;
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let t = Target::start().await;
    // 10 MB of plain JSON, announced by Content-Length.
    let big = format!(r#"{{"query":"{NORMAL_QUERY}","variables":{{"x":"{}"}}}}"#, "a".repeat(10 * 1024 * 1024));
    t.refused_by_http(t.post(Some("application/json"), big.clone()).await, 413).await;
    // The same, streamed in chunks without a length: the gateway stops reading at its limit.
    let (status, _) = chunked_post(&t.url, big.as_bytes()).await;
    assert_eq!(status, 413);
    t.still_serves().await;
}

/// POSTs `body` with `Transfer-Encoding: chunked` on a raw connection; returns the status and the
/// response head. The body is written while the response is read: the gateway may answer (and
/// stop reading) before the end.
async fn chunked_post(url: &str, body: &[u8]) -> (u16, String) {
    let address = url.trim_start_matches("http://").split('/').next().expect("host").to_owned();
    let stream = tokio::net::TcpStream::connect(&address).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\n\
         accept: application/graphql-response+json\r\ntransfer-encoding: chunked\r\n\r\n"
    );
    let body = body.to_vec();
    let writing = tokio::spawn(async move {
        writer.write_all(head.as_bytes()).await?;
        for chunk in body.chunks(64 * 1024) {
            writer.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).await?;
            writer.write_all(chunk).await?;
            writer.write_all(b"\r\n").await?;
        }
        writer.write_all(b"0\r\n\r\n").await?;
        std::io::Result::Ok(writer)
    });
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    let head = tokio::time::timeout(HANG, async {
        loop {
            let n = reader.read(&mut buffer).await.expect("the gateway answers before closing");
            assert!(n > 0, "the connection closed without an answer: {}", String::from_utf8_lossy(&received));
            received.extend_from_slice(&buffer[..n]);
            if let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") {
                return String::from_utf8_lossy(&received[..end]).into_owned();
            }
        }
    })
    .await
    .expect("an answer in time");
    writing.abort();
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status line");
    (status, head)
}

#[tokio::test]
async fn invalid_utf8_is_400_bad_request() {
    let t = Target::start().await;
    let mut in_query = br#"{"query":"{ me { name } }"#.to_vec();
    in_query.extend_from_slice(b"\xc3\x28 \xed\xa0\x80\xff\"}");
    for body in [
        vec![0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d],
        in_query,
        // An escaped lone surrogate is not a Unicode scalar value either.
        br#"{"query":"{ me { name } } \ud800"}"#.to_vec(),
        // UTF-16 is not UTF-8.
        "{\"query\":\"{ me { name } }\"}".encode_utf16().flat_map(u16::to_le_bytes).collect(),
    ] {
        t.refused(t.post(Some("application/json"), body).await, 400, &["BAD_REQUEST"]).await;
    }
    // Valid UTF-8 that is not valid GraphQL: a NUL and other control characters in the document,
    // an escape of a lone surrogate, an escape past Unicode.
    for document in [r#"{ echo(text: "\uD800") }"#, r#"{ echo(text: "\u{110000}") }"#] {
        t.refused(t.query(document).await, 400, &["GRAPHQL_PARSE_FAILED"]).await;
    }
    t.refused(t.query("{ me { name } }\u{0}").await, 400, &["GRAPHQL_PARSE_FAILED"]).await;
    t.refused(t.query("{ me { na\u{7}me } }").await, 400, &["GRAPHQL_PARSE_FAILED"]).await;
}

#[tokio::test]
async fn batches_are_refused_with_400() {
    // Batching is not supported (yet): an array is refused as a whole.
    let t = Target::start().await;
    let batch: Vec<Value> = (0..1000).map(|_| json!({ "query": NORMAL_QUERY })).collect();
    let reply = t.post_json(&Value::Array(batch)).await;
    assert!(reply.message().contains("batch"), "{}", reply.body);
    t.refused(reply, 400, &["BAD_REQUEST"]).await;
    t.refused(t.post_json(&json!([])).await, 400, &["BAD_REQUEST"]).await;
}

#[tokio::test]
async fn deep_and_long_documents_stop_at_the_parser() {
    let t = Target::start().await;
    // 10,000 levels of selection sets (the parser follows 500).
    let deep = format!("{{ {}name{} }}", "me { ".repeat(10_000), " }".repeat(10_000));
    let reply = t.query(&deep).await;
    assert!(reply.message().contains("limit"), "{}", reply.body);
    t.refused(reply, 400, &["GRAPHQL_PARSE_FAILED"]).await;
    // Only opening braces.
    t.refused(t.query(&"{".repeat(10_000)).await, 400, &["GRAPHQL_PARSE_FAILED"]).await;
    // Nested list values and list types, within the token limit but past the recursion limit.
    let list = format!("{{ echo(ids: {}\"1\"{}) }}", "[".repeat(7_000), "]".repeat(7_000));
    t.refused(t.query(&list).await, 400, &["GRAPHQL_PARSE_FAILED"]).await;
    let object = format!("{{ echo(text: {}1{}) }}", "{a: ".repeat(3_000), "}".repeat(3_000));
    t.refused(t.query(&object).await, 400, &["GRAPHQL_PARSE_FAILED"]).await;
    let list_type = format!("query($x: {}ID{}) {{ echo(ids: $x) }}", "[".repeat(7_000), "]".repeat(7_000));
    t.refused(t.query(&list_type).await, 400, &["GRAPHQL_PARSE_FAILED"]).await;
    // 10,000 aliases: 30,000 tokens, twice the token limit.
    let aliases: String = (0..10_000).map(|i| format!("a{i}: __typename ")).collect();
    t.refused(t.query(&format!("{{ {aliases} }}")).await, 400, &["GRAPHQL_PARSE_FAILED"]).await;
}

#[tokio::test]
async fn operation_limits_refuse_what_the_parser_lets_through() {
    let t = Target::start().await;
    for levels in [30, 100] {
        let deep = format!("{{ me {{ {}name{} }} }}", "friends { ".repeat(levels), " }".repeat(levels));
        let reply = t.query(&deep).await;
        assert!(reply.message().contains(&format!("{} levels of nesting", levels + 2)), "{}", reply.body);
        t.refused(reply, 400, &["MAX_DEPTH_LIMIT"]).await;
    }
    // Just under the parser's recursion limit, where validation's own recursion guard (128
    // levels) may speak before the depth limit: deep enough to stress every recursive step.
    let deep = format!("{{ me {{ {}name{} }} }}", "friends { ".repeat(240), " }".repeat(240));
    t.refused_with_any(t.query(&deep).await, 400, &["GRAPHQL_VALIDATION_FAILED", "MAX_DEPTH_LIMIT"]).await;
    // 3,000 aliases on one object, 5,000 `__typename` at the root.
    let aliases: String = (0..3_000).map(|i| format!("a{i}:name ")).collect();
    t.refused(t.query(&format!("{{ me {{ {aliases} }} }}")).await, 400, &["MAX_ALIASES_LIMIT"]).await;
    let aliases: String = (0..3_000).map(|i| format!("a{i}:__typename ")).collect();
    t.refused(t.query(&format!("{{ {aliases} }}")).await, 400, &["MAX_ALIASES_LIMIT", "MAX_ROOT_FIELDS_LIMIT"]).await;
    t.refused(t.query(&format!("{{ {} }}", "__typename ".repeat(5_000))).await, 400, &["MAX_ROOT_FIELDS_LIMIT"]).await;
    // 5,000 repeated fields in one object: one more selection than allowed...
    t.refused(t.query(&format!("{{ me {{ {} }} }}", "name ".repeat(5_000))).await, 400, &["MAX_SELECTIONS_LIMIT"])
        .await;
    // ...and just within the limits, which is a valid query with a one-field answer.
    let repeated = t.query(&format!("{{ me {{ {} }} }}", "name ".repeat(4_900))).await;
    t.served(repeated, json!({ "data": { "me": { "name": "Ann" } } })).await;
}

#[tokio::test]
async fn directive_floods_are_refused() {
    let t = Target::start().await;
    // 10,000 directives on one field: past the token limit.
    t.refused(t.query(&format!("{{ me {} {{ name }} }}", "@a ".repeat(10_000))).await, 400, &["GRAPHQL_PARSE_FAILED"])
        .await;
    let distinct: String = (0..10_000).map(|i| format!("@a{i} ")).collect();
    t.refused(t.query(&format!("{{ me {distinct} {{ name }} }}")).await, 400, &["GRAPHQL_PARSE_FAILED"]).await;
    // Within the token limit: unknown directives, and a known one that is not repeatable.
    t.refused(
        t.query(&format!("{{ me {} {{ name }} }}", "@a ".repeat(1_000))).await,
        400,
        &["GRAPHQL_VALIDATION_FAILED"],
    )
    .await;
    let distinct: String = (0..3_000).map(|i| format!("@a{i} ")).collect();
    t.refused(t.query(&format!("{{ me {distinct} {{ name }} }}")).await, 400, &["GRAPHQL_VALIDATION_FAILED"]).await;
    t.refused(
        t.query(&format!("{{ me {} {{ name }} }}", "@include(if:true) ".repeat(1_000))).await,
        400,
        &["GRAPHQL_VALIDATION_FAILED"],
    )
    .await;
}

#[tokio::test]
async fn fragment_cycles_are_validation_errors() {
    let t = Target::start().await;
    for document in [
        "{ me { ...A } } fragment A on User { ...B } fragment B on User { ...A }".to_owned(),
        "{ me { ...A } } fragment A on User { name ...A }".to_owned(),
        "{ me { ...A } } fragment A on User { friends { ...A } }".to_owned(),
        "{ me { ...A } } fragment A on User { ... on User { ...A } }".to_owned(),
        // A cycle the operation does not even use.
        "{ me { name } } fragment A on User { ...B } fragment B on User { ...A }".to_owned(),
    ] {
        t.refused(t.query(&document).await, 400, &["GRAPHQL_VALIDATION_FAILED"]).await;
    }
    // A cycle through 1,000 fragments.
    let mut document = String::from("{ me { ...F0 } }\n");
    for i in 0..1_000 {
        document.push_str(&format!("fragment F{i} on User{{...F{}}}\n", (i + 1) % 1_000));
    }
    t.refused(t.query(&document).await, 400, &["GRAPHQL_VALIDATION_FAILED"]).await;
    // The same chain without the cycle: 90 fragments deep it is an ordinary query; 1,000 deep
    // it is past validation's recursion guard, refused rather than followed.
    let chain = |length: usize| {
        let mut document = String::from("{ me { ...F0 } }\n");
        for i in 0..length {
            document.push_str(&format!("fragment F{i} on User{{...F{}}}\n", i + 1));
        }
        document.push_str(&format!("fragment F{length} on User {{ name }}\n"));
        document
    };
    t.served(t.query(&chain(90)).await, json!({ "data": { "me": { "name": "Ann" } } })).await;
    t.refused(t.query(&chain(1_000)).await, 400, &["GRAPHQL_VALIDATION_FAILED"]).await;
}

#[tokio::test]
async fn exponential_fragment_fan_out_is_measured_not_expanded() {
    let t = Target::start().await;
    // F0 spreads F1 twice, F1 spreads F2 twice, ... 30 levels: 2^30 selections once expanded.
    let mut document = String::from("{ me { ...F0 } }\n");
    for i in 0..30 {
        document.push_str(&format!("fragment F{i} on User {{ ...F{} ...F{} }}\n", i + 1, i + 1));
    }
    document.push_str("fragment F30 on User { name }\n");
    t.refused(t.query(&document).await, 400, &["MAX_SELECTIONS_LIMIT"]).await;
    // The same under a field each level: 2^30 selections and 32 levels deep.
    let mut document = String::from("{ me { ...F0 } }\n");
    for i in 0..30 {
        document.push_str(&format!("fragment F{i} on User {{ friends {{ ...F{} ...F{} }} }}\n", i + 1, i + 1));
    }
    document.push_str("fragment F30 on User { name }\n");
    t.refused(t.query(&document).await, 400, &["MAX_DEPTH_LIMIT", "MAX_SELECTIONS_LIMIT"]).await;
    // Fan-out of aliases: each level doubles the aliased fields.
    let mut document = String::from("{ me { ...F0 } }\n");
    for i in 0..30 {
        document.push_str(&format!("fragment F{i} on User {{ a: name ...F{} ...F{} }}\n", i + 1, i + 1));
    }
    document.push_str("fragment F30 on User { name }\n");
    t.refused(t.query(&document).await, 400, &["MAX_ALIASES_LIMIT", "MAX_SELECTIONS_LIMIT"]).await;
}

/// `__schema { types { fields { type { ofType { ofType ... } } } } }`, `levels` of `ofType`.
fn of_type_chain(levels: usize) -> String {
    format!(
        "{{ __schema {{ types {{ fields {{ type {{ {}name{} }} }} }} }} }}",
        "ofType { ".repeat(levels),
        " }".repeat(levels)
    )
}

/// Lists of fields inside lists of fields: what the introspection depth check exists for.
const CIRCULAR_INTROSPECTION: &str =
    "{ __schema { types { fields { type { fields { type { fields { type { name } } } } } } } } }";

const CIRCULAR_INTROSPECTION_IN_FRAGMENTS: &str = "{ __schema { types { ...A } } }
fragment A on __Type { fields { type { ...B } } }
fragment B on __Type { fields { type { ...C } } }
fragment C on __Type { fields { type { name } } }";

const CIRCULAR_TYPE_INTROSPECTION: &str =
    r#"{ __type(name: "User") { fields { type { ofType { fields { type { ofType { fields { name } } } } } } } } }"#;

#[tokio::test]
async fn deep_introspection_is_refused_when_introspection_is_on() {
    let t = Target::start_with(EngineOptions { introspection: true, ..Default::default() }, anonymous(), None).await;
    let reply = t.query("{ __type(name: \"User\") { name } }").await;
    t.served(reply, json!({ "data": { "__type": { "name": "User" } } })).await;
    t.refused(t.query(&of_type_chain(50)).await, 400, &["MAX_DEPTH_LIMIT"]).await;
    for document in [CIRCULAR_INTROSPECTION, CIRCULAR_INTROSPECTION_IN_FRAGMENTS, CIRCULAR_TYPE_INTROSPECTION] {
        let reply = t.query(document).await;
        assert!(reply.message().contains("introspection depth"), "{}", reply.body);
        t.refused(reply, 400, &["GRAPHQL_VALIDATION_FAILED"]).await;
    }
}

#[tokio::test]
async fn introspection_is_refused_in_every_disguise_when_it_is_off() {
    let t = Target::start_with(EngineOptions { introspection: false, ..Default::default() }, anonymous(), None).await;
    for document in [
        "{ __schema { types { name } } }",
        "{ __type(name: \"User\") { name } }",
        "{ s: __schema { queryType { name } } }",
        "{ me { name } __schema { queryType { name } } }",
        "{ ... on Query { __schema { queryType { name } } } }",
        "{ ...Q } fragment Q on Query { __schema { queryType { name } } }",
        "query A { me { name } } query B { __schema { queryType { name } } }",
        CIRCULAR_INTROSPECTION,
        CIRCULAR_INTROSPECTION_IN_FRAGMENTS,
        CIRCULAR_TYPE_INTROSPECTION,
    ] {
        let operation = if document.starts_with("query A") { json!("B") } else { Value::Null };
        let reply = t.post_json(&json!({ "query": document, "operationName": operation })).await;
        t.refused(reply, 400, &["INTROSPECTION_DISABLED"]).await;
    }
    // Too deep for the operation limits as well: refused either way (which check speaks first
    // is not specified).
    t.refused_with_any(t.query(&of_type_chain(50)).await, 400, &["MAX_DEPTH_LIMIT", "INTROSPECTION_DISABLED"]).await;
    // `__typename` is not schema introspection.
    t.served(t.query("{ __typename }").await, json!({ "data": { "__typename": "Query" } })).await;
}

#[tokio::test]
async fn huge_variables_within_the_body_limit_arrive_intact() {
    let t = Target::start().await;
    let text = "é".repeat(450 * 1024);
    let reply =
        t.post_json(&json!({ "query": "query($t: String) { echo(text: $t) }", "variables": { "t": text } })).await;
    t.served(reply, json!({ "data": { "echo": 450 * 1024 } })).await;
    let ids: Vec<Value> = (0..100_000).map(|i| Value::from(i.to_string())).collect();
    let reply =
        t.post_json(&json!({ "query": "query($ids: [ID!]) { echo(ids: $ids) }", "variables": { "ids": ids } })).await;
    t.served(reply, json!({ "data": { "echo": 100_000 } })).await;
    // One bad element at the very end of 100,000.
    for bad in [json!({ "id": 1 }), Value::Null, json!(1.5), json!(["1"])] {
        let mut ids = ids.clone();
        ids.push(bad);
        let reply = t
            .post_json(&json!({ "query": "query($ids: [ID!]) { echo(ids: $ids) }", "variables": { "ids": ids } }))
            .await;
        t.refused(reply, 400, &["BAD_USER_INPUT"]).await;
    }
}

#[tokio::test]
async fn get_needs_a_preflight_header_and_never_runs_mutations() {
    let t = Target::start().await;
    let query = [("query", NORMAL_QUERY)];
    // A GET a browser could send cross-site without asking.
    for content_type in [None, Some("text/plain"), Some("application/x-www-form-urlencoded")] {
        let mut headers = vec![("accept", "application/graphql-response+json")];
        headers.extend(content_type.map(|c| ("content-type", c)));
        let reply = t.get(&query, &headers).await;
        assert!(reply.message().contains("preflight"), "{}", reply.body);
        t.refused(reply, 400, &["CSRF_PREVENTION"]).await;
    }
    let preflight = ("apollo-require-preflight", "true");
    let reply = t.get(&query, &[preflight]).await;
    t.served(reply, json!({ "data": { "me": { "name": "Ann" } } })).await;
    // Mutations over GET: 405 with `Allow`, whatever the response media type, and not run.
    let mutation = "mutation { rename(name: \"x\") { name } }";
    for accept in ["application/graphql-response+json", "application/json"] {
        let reply = t.get(&[("query", mutation)], &[preflight, ("accept", accept)]).await;
        assert_eq!(reply.header("allow"), "POST", "{accept}");
        t.refused(reply, 405, &["BAD_REQUEST"]).await;
    }
    let both = "query Q { me { name } } mutation M { rename(name: \"x\") { name } }";
    let reply = t.get(&[("query", both), ("operationName", "M")], &[preflight]).await;
    assert_eq!(reply.header("allow"), "POST");
    t.refused(reply, 405, &["BAD_REQUEST"]).await;
    let reply = t.get(&[("query", both), ("operationName", "Q")], &[preflight]).await;
    t.served(reply, json!({ "data": { "me": { "name": "Ann" } } })).await;
    // Over POST the mutation runs.
    let reply = t.query(mutation).await;
    t.served(reply, json!({ "data": { "rename": { "name": "renamed" } } })).await;
    // Bad GET parameters.
    let reply = t.get(&[("query", NORMAL_QUERY), ("variables", "{not json")], &[preflight]).await;
    t.refused(reply, 400, &["BAD_REQUEST"]).await;
    let reply = t.get(&[("query", NORMAL_QUERY), ("variables", "[]")], &[preflight]).await;
    t.refused(reply, 400, &["BAD_REQUEST"]).await;
    t.refused(t.get(&[], &[preflight]).await, 400, &["BAD_REQUEST"]).await;
    // Two queries in one GET is refused by the HTTP layer (its body is not a GraphQL response).
    t.refused_by_http(t.get(&[("query", NORMAL_QUERY), ("query", NORMAL_QUERY)], &[preflight]).await, 400).await;
}

// Caller tokens.

/// The identity provider the token gateway trusts, and the audience it accepts.
const ISSUER: &str = "https://idp.example";
const AUDIENCE: &str = "gateway";

/// A gateway that verifies caller tokens signed by `key` (and serves no anonymous callers), with
/// a valid token for the normal queries. The only place that knows how token verification is
/// configured: adapt this when that changes.
async fn token_target(key: &SigningKey) -> Target {
    let verifier = ggzhub_gateway::auth::oidc::Authenticator::with_keys(ISSUER, &[AUDIENCE], &key.jwks(), 30)
        .expect("a verifier for the key");
    let identity = Identity {
        verifier: Some(Arc::new(verifier)),
        register: Some(support::register_of(
            ISSUER,
            &[("12345678", uuid::Uuid::nil(), ggzhub_kit::OrgKind::Insurer, &[], &[])],
        )),
        signer: Some(SigningKey::generate().signer()),
        allow_anonymous: false,
    };
    let valid = format!("Bearer {}", sign(key, &claims(0)));
    Target::start_with(EngineOptions::default(), identity, Some(valid)).await
}

fn now() -> i64 {
    i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs()).expect("fits")
}

/// Claims of a caller token valid for five minutes from `shift` seconds from now.
fn claims(shift: i64) -> Value {
    let now = now() + shift;
    json!({
        "iss": ISSUER, "sub": "tester", "aud": AUDIENCE, "iat": now, "exp": now + 300, "jti": "j",
        "org_identifier_scheme": "URA", "org_identifier": "12345678", "scope": "picture:read",
    })
}

fn sign(key: &SigningKey, claims: &Value) -> String {
    key.signer_as(ISSUER).sign_claims(claims)
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A token with this header and these claims, and this signature.
fn forged(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!("{}.{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()), b64(signature))
}

#[tokio::test]
async fn bad_tokens_are_401_unauthenticated() {
    let key = SigningKey::generate();
    let t = token_target(&key).await;
    let kid = key.kid().to_owned();
    let public_raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(key.jwks()["keys"][0]["x"].as_str().expect("x"))
        .expect("base64url");
    let hmac = |secret: &[u8]| {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some(kid.clone());
        jsonwebtoken::encode(&header, &claims(0), &jsonwebtoken::EncodingKey::from_secret(secret)).expect("hmac signs")
    };
    let valid = sign(&key, &claims(0));
    let [valid_header, _, valid_signature]: [&str; 3] =
        valid.split('.').collect::<Vec<_>>().try_into().expect("three parts");
    let other = SigningKey::generate();
    let other_token = sign(&other, &claims(0));
    let other_signature = other_token.rsplit('.').next().expect("signature");
    // The payload of a valid token, re-pointed at another organisation without re-signing.
    let mut hub_operator = claims(0);
    hub_operator["org_identifier"] = json!("87654321");
    let mut wrong_audience = claims(0);
    wrong_audience["aud"] = json!("region");
    let mut wrong_issuer = claims(0);
    wrong_issuer["iss"] = json!("https://evil.example");
    let mut not_yet = claims(0);
    not_yet["nbf"] = json!(now() + 3_600);
    let eddsa = json!({ "alg": "EdDSA", "typ": "JWT", "kid": kid });

    let cases: Vec<(&str, Option<HeaderValue>)> = vec![
        ("missing", None),
        ("empty", Some(HeaderValue::from_static(""))),
        ("basic", Some(HeaderValue::from_static("Basic dXNlcjpwYXNz"))),
        ("no scheme", Some(HeaderValue::from_str(&valid).expect("header"))),
        ("bearer without a token", Some(HeaderValue::from_static("Bearer"))),
        ("bearer and spaces", Some(HeaderValue::from_static("Bearer    "))),
        ("not text", Some(HeaderValue::from_bytes(b"Bearer \xff\xfe").expect("obs-text"))),
        ("garbage", Some(HeaderValue::from_static("Bearer not.a.token"))),
        ("no dots", Some(HeaderValue::from_static("Bearer abcdef"))),
        ("only dots", Some(HeaderValue::from_static("Bearer .."))),
        ("bad base64", Some(HeaderValue::from_static("Bearer %%%.%%%.%%%"))),
        ("huge", Some(HeaderValue::from_str(&format!("Bearer {}", "a".repeat(64 * 1024))).expect("header"))),
        ("expired", bearer(&sign(&key, &claims(-3_600)))),
        ("issued in the future", bearer(&sign(&key, &claims(3_600)))),
        ("not valid yet", bearer(&sign(&key, &not_yet))),
        ("wrong audience", bearer(&sign(&key, &wrong_audience))),
        ("wrong issuer", bearer(&sign(&key, &wrong_issuer))),
        ("unknown key", bearer(&other_token)),
        (
            "another key's signature under our kid",
            bearer(&format!("{valid_header}.{}.{other_signature}", b64(claims(0).to_string().as_bytes()))),
        ),
        (
            "claims changed after signing",
            bearer(&format!("{valid_header}.{}.{valid_signature}", b64(hub_operator.to_string().as_bytes()))),
        ),
        ("signature stripped", bearer(&forged(&eddsa, &claims(0), b""))),
        ("alg none", bearer(&forged(&json!({ "alg": "none", "typ": "JWT" }), &claims(0), b""))),
        ("alg none with our kid", bearer(&forged(&json!({ "alg": "none", "kid": key.kid() }), &claims(0), b""))),
        ("alg None", bearer(&forged(&json!({ "alg": "None", "kid": key.kid() }), &claims(0), b""))),
        ("HS256 keyed with the public key", bearer(&hmac(&public_raw))),
        ("HS256 keyed with the public PEM", bearer(&hmac(key.public_pem().as_bytes()))),
    ];
    for (label, authorization) in cases {
        let mut request = t
            .http
            .post(&t.url)
            .header("accept", "application/graphql-response+json")
            .json(&json!({ "query": NORMAL_QUERY }));
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let reply = t.send(request).await;
        assert_eq!(reply.status, 401, "{label}: {}", reply.body);
        assert!(reply.header("www-authenticate").starts_with("Bearer"), "{label}: {:?}", reply.headers);
        if label == "expired" {
            assert!(reply.message().contains("expired"), "{}", reply.body);
        }
        t.refused(reply, 401, &["UNAUTHENTICATED"]).await;
    }
    // The same refusal with plain JSON, and over GET.
    let reply =
        t.send(t.http.post(&t.url).header("accept", "application/json").json(&json!({ "query": NORMAL_QUERY }))).await;
    assert!(reply.header("www-authenticate").starts_with("Bearer"));
    t.refused(reply, 401, &["UNAUTHENTICATED"]).await;
    let request = t.http.get(&t.url).query(&[("query", NORMAL_QUERY)]).header("apollo-require-preflight", "true");
    let reply = t.send(request.header("authorization", "Bearer not.a.token")).await;
    assert!(reply.header("www-authenticate").starts_with("Bearer"));
    t.refused(reply, 401, &["UNAUTHENTICATED"]).await;
}

fn bearer(token: &str) -> Option<HeaderValue> {
    Some(HeaderValue::from_str(&format!("Bearer {token}")).expect("a token is a header value"))
}

#[tokio::test]
async fn a_token_on_a_gateway_without_providers_is_401() {
    // Anonymous callers are served, but a token that cannot be checked is not ignored.
    let t = Target::start().await;
    let request = t.http.post(&t.url).header("authorization", "Bearer a.b.c").json(&json!({ "query": NORMAL_QUERY }));
    let reply = t.send(request).await;
    assert!(reply.header("www-authenticate").starts_with("Bearer"));
    t.refused(reply, 401, &["UNAUTHENTICATED"]).await;
}

#[tokio::test]
async fn every_string_escape_graphql_allows_reaches_the_subgraph() {
    // Valid escapes the planner's own parser does not know used to fail with 500.
    let t = Target::start().await;
    for document in [
        r#"{ echo(text: "smile \uD83D\uDE00") }"#,
        r#"{ echo(text: "smile \u{1F600}") }"#,
        "{ echo(text: \"smile \u{1F600}\") }",
    ] {
        let reply = t.query(document).await;
        let sent = t.mock.received().last().map(|body| body["query"].to_string()).unwrap_or_default();
        assert!(sent.contains('\u{1F600}'), "{document} reached the subgraph as {sent}: {}", reply.body);
        t.served(reply, json!({ "data": { "echo": 0 } })).await;
    }
}

#[tokio::test]
async fn error_floods_are_cut_short() {
    let t = Target::start().await;
    let max = ggzhub_gateway::pipeline::MAX_ERRORS;
    // One syntax error per character, and one unknown field per selection: a few KB of request
    // must not become megabytes of errors (nor a plan-cache entry of that size).
    for (document, code) in [
        ("%".repeat(14_000), "GRAPHQL_PARSE_FAILED"),
        (
            format!("{{ me {{ {} }} }}", (0..3_000).map(|i| format!("x{i} ")).collect::<String>()),
            "GRAPHQL_VALIDATION_FAILED",
        ),
    ] {
        let reply = t.query(&document).await;
        let errors = reply.body["errors"].as_array().map_or(0, Vec::len);
        assert_eq!(errors, max + 1, "{}", reply.body);
        let last = &reply.body["errors"][max]["message"];
        assert!(last.as_str().is_some_and(|m| m.starts_with("too many errors")), "{last}");
        t.refused(reply, 400, &[code]).await;
    }
}

#[tokio::test]
async fn unknown_operations_variables_and_numbers() {
    let t = Target::start().await;
    let two = "query A { me { name } } query B { me { name } }";
    t.refused(t.query(two).await, 400, &["OPERATION_NOT_FOUND"]).await;
    t.refused(t.post_json(&json!({ "query": two, "operationName": "C" })).await, 400, &["OPERATION_NOT_FOUND"]).await;
    t.refused(t.query("{ me { name } } { me { name } }").await, 400, &["GRAPHQL_VALIDATION_FAILED"]).await;
    t.refused(t.query("subscription { me { name } }").await, 400, &["GRAPHQL_VALIDATION_FAILED"]).await;
    let needs = "query($t: String!) { echo(text: $t) }";
    t.refused(t.post_json(&json!({ "query": needs })).await, 400, &["BAD_USER_INPUT"]).await;
    t.refused(t.post_json(&json!({ "query": needs, "variables": { "t": 5 } })).await, 400, &["BAD_USER_INPUT"]).await;
    // A number JSON cannot hold.
    let body = format!(r#"{{"query":"{needs}","variables":{{"t":1e400}}}}"#);
    t.refused(t.post(Some("application/json"), body).await, 400, &["BAD_REQUEST"]).await;
    // A document padded with a 1 MB comment is still an ordinary query.
    let padded = format!("{NORMAL_QUERY} #{}", "x".repeat(1_000_000));
    t.served(t.query(&padded).await, json!({ "data": { "me": { "name": "Ann" } } })).await;
}

#[tokio::test]
async fn integer_literals_beyond_64_bits_are_the_clients_input_not_a_500() {
    // ID accepts integer literals of any size; the planner's parser cannot hold one beyond 64
    // bits. That is the client's input to fix (BAD_USER_INPUT), never a 500.
    let t = Target::start().await;
    for query in
        ["{ echo(ids: [99999999999999999999]) }", "query($ids: [ID!] = [99999999999999999999]) { echo(ids: $ids) }"]
    {
        let reply = t.query(query).await;
        t.refused(reply, 400, &["BAD_USER_INPUT"]).await;
    }
}

#[tokio::test]
async fn misspelt_fields_get_no_suggestions_that_would_reveal_the_schema() {
    let t = Target::start().await;
    let reply = t.query("{ me { nam } }").await;
    // The real fields (`name`, `friends`) are never offered as suggestions.
    let text = reply.body.to_string();
    assert!(!text.contains("\\\"name\\\"") && !text.contains("friends"), "{text}");
    assert!(text.contains("Cannot query field"), "{text}");
    t.refused(reply, 400, &["GRAPHQL_VALIDATION_FAILED"]).await;
}
