//! GraphQL clients' default requests, replayed byte for byte over a raw TCP connection as a
//! browser sends them for the library from a cross-origin page (after the CORS preflight that
//! their headers force): urql (@urql/core 6.0.3: GET with the query in the URL), Apollo Client
//! 3.14.1 and 4.3.8 (POST JSON) and graphql-request 7.4.0 (POST JSON), each with a bearer token.
//! Their headers are those of the libraries' sources (urql's `makeFetchOptions`, Apollo's
//! `fallbackHttpConfig` and, in 4, the `clientLibrary` extension of its ClientAwarenessLink,
//! graphql-request's `createFetcher`). Truly simple cross-site requests, which a page can make
//! a browser send without asking (a form POST, a plain GET, a GET with credentials the browser
//! attaches itself), are still refused and reach no subgraph.

use std::sync::Arc;
use std::time::Duration;

use ggzhub_gateway::auth::identity::Identity;
use ggzhub_gateway::engine::{EngineOptions, Gateway};
use ggzhub_gateway::http::HttpOptions;
use ggzhub_kit::SigningKey;
use ggzhub_kit::server::HttpLimits;
use ggzhub_kit::token::OrgKind;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::support::{Clock, Mock, mock, org_token, register_of, supergraph};

const ACCOUNTS: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { users: [User!]! }
type User @key(fields: "id") { id: ID! name: String! }
"#;
const ISSUER: &str = "https://idp.example";

/// What a browser adds to a cross-origin fetch from https://dashboard.example (Chromium).
const BROWSER: &str = "Connection: keep-alive\r\n\
sec-ch-ua-platform: \"Linux\"\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36\r\n\
sec-ch-ua: \"Chromium\";v=\"131\", \"Not_A Brand\";v=\"24\"\r\n\
sec-ch-ua-mobile: ?0\r\n\
Origin: https://dashboard.example\r\n\
Sec-Fetch-Site: cross-site\r\n\
Sec-Fetch-Mode: cors\r\n\
Sec-Fetch-Dest: empty\r\n\
Referer: https://dashboard.example/\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Accept-Language: nl-NL,nl;q=0.9,en-US;q=0.8,en;q=0.7\r\n";

struct Hub {
    addr: String,
    subgraph: Mock,
    token: String,
}

async fn hub() -> Hub {
    let subgraph = mock(
        "accounts",
        ACCOUNTS,
        &Clock::default(),
        Duration::ZERO,
        |_| json!({ "data": { "users": [{ "id": "u1", "name": "Ann", "__typename": "User" }] } }),
    )
    .await;
    let gateway = Gateway::new(EngineOptions::default());
    gateway.load_supergraph(&supergraph(&[&subgraph])).expect("loads");
    let caller_key = SigningKey::generate();
    let authenticator =
        ggzhub_gateway::auth::oidc::Authenticator::with_keys(ISSUER, &["gateway"], &caller_key.jwks(), 30)
            .expect("keys");
    let identity = Identity {
        verifier: Some(Arc::new(authenticator)),
        register: Some(register_of(ISSUER, &[("12345678", uuid::Uuid::now_v7(), OrgKind::Insurer, &[], &[])])),
        signer: Some(SigningKey::generate().signer()),
        allow_anonymous: false,
    };
    let options = HttpOptions { csrf_prevention: true, ..Default::default() };
    let app = ggzhub_gateway::http::server::app(Arc::new(gateway), Arc::new(identity), options, HttpLimits::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    tokio::spawn(ggzhub_gateway::http::server::serve(listener, app, std::future::pending()));
    let token = org_token(&caller_key, ISSUER, "gateway", "12345678", &["picture:read"]);
    Hub { addr, subgraph, token }
}

/// Sends `head` (request line and headers, each ending in CRLF, without the blank line) and
/// `body` as they are, and reads one response: status, headers (lowercased names) and body.
async fn exchange(addr: &str, head: &str, body: &str) -> (u16, Vec<(String, String)>, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut request = head.to_owned();
    if !body.is_empty() {
        request.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut received = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer))
            .await
            .expect("the gateway answers")
            .expect("read");
        received.extend_from_slice(&buffer[..n]);
        let text = String::from_utf8_lossy(&received).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let (head, rest) = (&text[..end], &text[end + 4..]);
            let mut lines = head.split("\r\n");
            let status: u16 =
                lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).expect("status line");
            let headers: Vec<(String, String)> = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
                .collect();
            let length: usize = headers
                .iter()
                .find(|(n, _)| n == "content-length")
                .and_then(|(_, v)| v.parse().ok())
                .expect("content-length");
            if rest.len() >= length {
                return (status, headers, rest[..length].to_owned());
            }
        }
        assert!(n > 0, "connection closed before a whole response: {:?}", String::from_utf8_lossy(&received));
    }
}

fn content_type(headers: &[(String, String)]) -> &str {
    headers.iter().find(|(n, _)| n == "content-type").map_or("", |(_, v)| v.as_str())
}

/// `application/x-www-form-urlencoded` as URLSearchParams writes it (space as `+`).
fn form_encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => out.push(byte as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[tokio::test]
async fn urql_default_get_with_a_bearer_token_is_served() {
    let hub = hub().await;
    // @urql/core 6: a query goes as GET when the URL stays under 2048 characters
    // (preferGetMethod "within-url-limit"); query, operationName and variables in the URL; no
    // Content-Type (no body); its Accept; the app's Authorization from fetchOptions.
    let query = "query Users { users { id name } }";
    let head = format!(
        "GET /graphql?query={}&operationName=Users&variables=%7B%7D HTTP/1.1\r\n\
         Host: {}\r\n{BROWSER}\
         authorization: Bearer {}\r\n\
         accept: application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed\r\n",
        form_encode(query),
        hub.addr,
        hub.token
    );
    let (status, headers, body) = exchange(&hub.addr, &head, "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(content_type(&headers), "application/graphql-response+json");
    let body: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(body, json!({ "data": { "users": [{ "id": "u1", "name": "Ann" }] } }));
    assert_eq!(hub.subgraph.calls(), 1);
}

#[tokio::test]
async fn apollo_client_3_and_4_default_posts_are_served() {
    let hub = hub().await;
    // Apollo Client adds __typename to every selection set (InMemoryCache) and prints the
    // document with graphql-js's printer.
    let query = "query Users {\n  users {\n    id\n    name\n    __typename\n  }\n}";
    // 3.14: accept */*, content-type application/json, body { operationName, variables, query }.
    let v3 = json!({ "operationName": "Users", "variables": {}, "query": query }).to_string();
    // 4.3: a GraphQL-over-HTTP accept, and the clientLibrary extension in the body.
    let v4 = json!({
        "operationName": "Users",
        "variables": {},
        "extensions": { "clientLibrary": { "name": "@apollo/client", "version": "4.3.8" } },
        "query": query
    })
    .to_string();
    for (label, accept, body, media) in [
        ("Apollo Client 3", "*/*", v3, "application/json"),
        (
            "Apollo Client 4",
            "application/graphql-response+json,application/json;q=0.9",
            v4,
            "application/graphql-response+json",
        ),
    ] {
        let head = format!(
            "POST /graphql HTTP/1.1\r\nHost: {}\r\n{BROWSER}\
             accept: {accept}\r\n\
             authorization: Bearer {}\r\n\
             content-type: application/json\r\n",
            hub.addr, hub.token
        );
        let (status, headers, answer) = exchange(&hub.addr, &head, &body).await;
        assert_eq!(status, 200, "{label}: {answer}");
        assert_eq!(content_type(&headers), media, "{label}");
        let answer: Value = serde_json::from_str(&answer).expect("json");
        assert_eq!(answer["data"]["users"][0], json!({ "id": "u1", "name": "Ann", "__typename": "User" }), "{label}");
    }
    assert_eq!(hub.subgraph.calls(), 2);
}

#[tokio::test]
async fn graphql_request_default_post_is_served() {
    let hub = hub().await;
    // graphql-request 7: POST, its Accept, Content-Type application/json, body
    // { query, variables, operationName } (JSON.stringify drops undefined variables).
    let body = json!({ "query": "query Users { users { id name } }", "operationName": "Users" }).to_string();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: {}\r\n{BROWSER}\
         authorization: Bearer {}\r\n\
         Accept: application/graphql-response+json, application/json\r\n\
         Content-Type: application/json\r\n",
        hub.addr, hub.token
    );
    let (status, headers, answer) = exchange(&hub.addr, &head, &body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(content_type(&headers), "application/graphql-response+json");
    assert_eq!(serde_json::from_str::<Value>(&answer).expect("json")["data"]["users"][0]["name"], "Ann");
}

#[tokio::test]
async fn simple_cross_site_requests_are_still_refused() {
    let hub = hub().await;
    let query = "{ users { id name } }";
    let get = |extra: &str| {
        format!(
            "GET /graphql?query={} HTTP/1.1\r\nHost: {}\r\n{BROWSER}accept: */*\r\n{extra}",
            form_encode(query),
            hub.addr
        )
    };
    // A plain GET (an <img> or a link), and one with what a browser attaches by itself: a
    // cookie, Basic credentials it remembered.
    for (label, head) in [
        ("plain GET", get("")),
        ("GET with a cookie", get("Cookie: session=abc\r\n")),
        ("GET with Basic credentials", get("Authorization: Basic dXNlcjpwYXNz\r\n")),
        (
            "GET with a proxy's headers",
            get(
                "X-Forwarded-For: 203.0.113.9\r\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n",
            ),
        ),
    ] {
        let (status, _, body) = exchange(&hub.addr, &head, "").await;
        assert_eq!(status, 400, "{label}: {body}");
        let body: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(body["errors"][0]["extensions"]["code"], "CSRF_PREVENTION", "{label}");
    }
    // Form POSTs: urlencoded, multipart, and text/plain carrying JSON (the classic trick).
    for (label, content_type, body) in [
        ("urlencoded form", "application/x-www-form-urlencoded", format!("query={}", form_encode(query))),
        (
            "multipart form",
            "multipart/form-data; boundary=----x",
            format!("------x\r\nContent-Disposition: form-data; name=\"query\"\r\n\r\n{query}\r\n------x--\r\n"),
        ),
        ("text/plain JSON", "text/plain;charset=UTF-8", json!({ "query": query }).to_string()),
    ] {
        let head = format!(
            "POST /graphql HTTP/1.1\r\nHost: {}\r\n{BROWSER}\
             Content-Type: {content_type}\r\n\
             Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
             Cookie: session=abc\r\n",
            hub.addr
        );
        let (status, _, answer) = exchange(&hub.addr, &head, &body).await;
        assert_eq!(status, 415, "{label}: {answer}");
    }
    assert_eq!(hub.subgraph.calls(), 0, "no forged request reached a subgraph");
}
