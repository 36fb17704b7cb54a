//! The gateway over HTTP: media types and status codes (GraphQL over HTTP), GET, health,
//! GraphiQL, caller tokens and the internal tokens subgraphs receive, and supergraph reloads.

use std::sync::Arc;
use std::time::Duration;

use ggzhub_gateway::auth::identity::Identity;
use ggzhub_gateway::engine::{EngineOptions, Gateway};
use ggzhub_gateway::http::HttpOptions;
use ggzhub_kit::SigningKey;
use ggzhub_kit::server::HttpLimits;
use ggzhub_kit::token::OrgKind;
use serde_json::{Value, json};

use crate::support::{Clock, mock, org_token, register_of, supergraph};

const ACCOUNTS: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { users: [User!]! }
type Mutation { addUser(name: String!): User! }
type User @key(fields: "id") { id: ID! name: String! }
"#;

fn accounts(body: &Value) -> Value {
    if body["query"].as_str().unwrap_or("").contains("addUser") {
        return json!({ "data": { "addUser": { "id": "new", "name": "x" } } });
    }
    json!({ "data": { "users": [{ "id": "u1", "name": "Ann" }] } })
}

async fn serve(gateway: Arc<Gateway>, identity: Identity) -> String {
    let app = ggzhub_gateway::http::server::app(
        gateway,
        Arc::new(identity),
        HttpOptions { graphiql: true, csrf_prevention: true, ..Default::default() },
        HttpLimits::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

fn anonymous() -> Identity {
    Identity { verifier: None, register: None, signer: None, allow_anonymous: true }
}

fn gateway_over(sdl: &str) -> Arc<Gateway> {
    let gateway = Gateway::new(EngineOptions::default());
    gateway.load_supergraph(sdl).expect("loads");
    Arc::new(gateway)
}

#[tokio::test]
async fn media_types_status_codes_get_and_health() {
    let mock = mock("accounts", ACCOUNTS, &Clock::default(), Duration::ZERO, accounts).await;
    let base = serve(gateway_over(&supergraph(&[&mock])), anonymous()).await;
    let url = format!("{base}/graphql");
    let http = reqwest::Client::new();
    let post = |accept: &'static str, content_type: &'static str, body: String| {
        http.post(&url).header("accept", accept).header("content-type", content_type).body(body).send()
    };
    let query = json!({ "query": "{ users { id } }" }).to_string();
    let invalid = json!({ "query": "{ users { nope } }" }).to_string();

    let response = post("application/graphql-response+json", "application/json", query.clone()).await.expect("send");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/graphql-response+json");
    assert_eq!(response.json::<Value>().await.expect("json"), json!({ "data": { "users": [{ "id": "u1" }] } }));

    // A request error: 400 with the new media type, 200 with plain JSON.
    let response = post("application/graphql-response+json", "application/json", invalid.clone()).await.expect("send");
    assert_eq!(response.status(), 400);
    let response = post("application/json", "application/json", invalid).await.expect("send");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value = response.json().await.expect("json");
    assert!(body.get("data").is_none() && body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED");

    for (content_type, body, status, fragment) in [
        ("text/plain", query.clone(), 415, "application/json"),
        ("application/json", "{not json".to_owned(), 400, "not valid JSON"),
        ("application/json", "[{\"query\":\"{ users { id } }\"}]".to_owned(), 400, "batched"),
        ("application/json", "{\"query\": 5}".to_owned(), 400, "must be a string"),
        ("application/json", "{\"query\":\"{ users { id } }\",\"variables\":[]}".to_owned(), 400, "must be an object"),
    ] {
        let response = post("application/json", content_type, body).await.expect("send");
        assert_eq!(response.status(), status, "{content_type}");
        let body: Value = response.json().await.expect("json");
        assert!(body["errors"][0]["message"].as_str().expect("message").contains(fragment), "{body}");
    }
    let response = post("text/csv", "application/json", query.clone()).await.expect("send");
    assert_eq!(response.status(), 406);

    // GET: queries only.
    let response = http.get(&url).query(&[("query", "{ users { name } }")]).send().await.expect("send");
    assert_eq!(response.status(), 400, "a GET without a preflight header could be forged cross-site");
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["errors"][0]["extensions"]["code"], "CSRF_PREVENTION");
    let response = http
        .get(&url)
        .header("apollo-require-preflight", "true")
        .query(&[("query", "{ users { name } }")])
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.expect("json"), json!({ "data": { "users": [{ "name": "Ann" }] } }));
    let response = http
        .get(&url)
        .header("accept", "application/graphql-response+json")
        .header("x-apollo-operation-name", "AddUser")
        .query(&[("query", "mutation { addUser(name: \"x\") { id } }")])
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
    assert_eq!(mock.calls(), 2, "the refused requests reached no subgraph");

    let page = http.get(&url).header("accept", "text/html").send().await.expect("send");
    assert!(page.text().await.expect("text").contains("GraphiQL"));
    assert_eq!(http.get(format!("{base}/health/live")).send().await.expect("send").status(), 200);
    assert_eq!(http.get(format!("{base}/health/ready")).send().await.expect("send").status(), 200);

    // A gateway without a supergraph is alive but not ready.
    let empty = serve(Arc::new(Gateway::new(EngineOptions::default())), anonymous()).await;
    assert_eq!(http.get(format!("{empty}/health/ready")).send().await.expect("send").status(), 503);
}

#[tokio::test]
async fn callers_need_a_valid_token_and_subgraphs_get_a_fresh_internal_token_for_their_audience() {
    let mock = mock("accounts", ACCOUNTS, &Clock::default(), Duration::ZERO, accounts).await;
    let caller_key = SigningKey::generate();
    let internal_key = SigningKey::generate();
    let authenticator = ggzhub_gateway::auth::oidc::Authenticator::with_keys(
        "https://idp.example",
        &["gateway"],
        &caller_key.jwks(),
        30,
    )
    .expect("keys load");
    let identity = Identity {
        verifier: Some(Arc::new(authenticator)),
        register: Some(register_of(
            "https://idp.example",
            &[("12345678", uuid::Uuid::nil(), OrgKind::Insurer, &["utrecht"], &[])],
        )),
        signer: Some(internal_key.signer()),
        allow_anonymous: false,
    };
    let base = serve(gateway_over(&supergraph(&[&mock])), identity).await;
    let url = format!("{base}/graphql");
    let token = |key: &SigningKey, audience: &str| {
        org_token(key, "https://idp.example", audience, "12345678", &["picture:read"])
    };
    let http = reqwest::Client::new();
    let query = json!({ "query": "{ users { id } }" });
    for (label, authorization) in [
        ("no token", None),
        ("not bearer", Some("Basic dXNlcjpwYXNz".to_owned())),
        ("garbage", Some("Bearer not.a.token".to_owned())),
        ("other key", Some(format!("Bearer {}", token(&internal_key, "gateway")))),
        ("other audience", Some(format!("Bearer {}", token(&caller_key, "accounts")))),
    ] {
        let mut request = http.post(&url).json(&query);
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let response = request.send().await.expect("send");
        assert_eq!(response.status(), 401, "{label}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{label}");
        assert!(body.get("data").is_none());
    }
    assert_eq!(mock.calls(), 0);

    let client_token = token(&caller_key, "gateway");
    let response = http
        .post(&url)
        .bearer_auth(&client_token)
        .header("x-org", "someone-else")
        .json(&query)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    let sent = mock.authorizations();
    let internal =
        sent[0].as_deref().and_then(|v| v.strip_prefix("Bearer ")).expect("a bearer token reached the subgraph");
    assert_ne!(internal, client_token, "the client's token is never forwarded");
    let claims =
        internal_key.verifier("accounts").verify(internal).expect("an internal token for the subgraph's audience");
    assert_eq!(claims.org, uuid::Uuid::nil());
    assert_eq!(claims.org_kind, OrgKind::Insurer);
    assert_eq!(claims.scope, "picture:read");
    assert!(claims.exp - claims.iat <= 60, "short-lived");
    assert!(caller_key.verifier("accounts").verify(internal).is_err(), "signed by the gateway's key only");

    // GraphQL clients' default GET requests with a token pass CSRF prevention: a page can set a
    // bearer token only after a CORS preflight. urql sends its queries as GET with only these two
    // headers; graphql-request and Apollo Client (with GET) add `content-type: application/json`.
    let urql_accept = "application/graphql-response+json, application/graphql+json, application/json,                        text/event-stream, multipart/mixed";
    let graphql_get = |extra: &[(&str, String)]| {
        let mut request = http.get(&url).query(&[("query", "{ users { id } }")]);
        for (name, value) in extra {
            request = request.header(*name, value);
        }
        request
    };
    let bearer = format!("Bearer {client_token}");
    for (client, headers) in [
        ("urql", vec![("accept", urql_accept.to_owned()), ("authorization", bearer.clone())]),
        (
            "graphql-request",
            vec![
                ("accept", "application/graphql-response+json, application/json".to_owned()),
                ("content-type", "application/json".to_owned()),
                ("authorization", bearer.clone()),
            ],
        ),
        ("lower-case scheme", vec![("authorization", format!("bearer {client_token}"))]),
    ] {
        let response = graphql_get(&headers).send().await.expect("send");
        assert_eq!(response.status(), 200, "{client}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["data"]["users"][0]["id"], "u1", "{client}: {body}");
    }
    // Still refused: what a cross-site page or form can send without asking, including credentials
    // a browser attaches by itself (Basic) and headers a proxy adds on the way.
    let calls = mock.calls();
    for (label, headers) in [
        ("nothing", vec![]),
        ("urql without a token", vec![("accept", urql_accept.to_owned())]),
        ("basic credentials", vec![("authorization", "Basic dXNlcjpwYXNz".to_owned())]),
        ("form content type", vec![("content-type", "application/x-www-form-urlencoded".to_owned())]),
        (
            "proxy headers",
            vec![
                ("x-forwarded-for", "192.0.2.1".to_owned()),
                ("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".to_owned()),
            ],
        ),
    ] {
        let response = graphql_get(&headers).send().await.expect("send");
        assert_eq!(response.status(), 400, "{label}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["errors"][0]["extensions"]["code"], "CSRF_PREVENTION", "{label}: {body}");
    }
    assert_eq!(mock.calls(), calls, "refused GET requests reach no subgraph");
}

#[tokio::test]
async fn a_changed_supergraph_is_swapped_in_and_a_broken_one_ignored() {
    const V2: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { users: [User!]! }
type Mutation { addUser(name: String!): User! }
type User @key(fields: "id") { id: ID! name: String! email: String }
"#;
    let clock = Clock::default();
    let v1 = mock("accounts", ACCOUNTS, &clock, Duration::ZERO, accounts).await;
    let v2 = mock(
        "accounts",
        V2,
        &clock,
        Duration::ZERO,
        |_| json!({ "data": { "users": [{ "email": "ann@example.org" }] } }),
    )
    .await;
    let dir = std::env::temp_dir().join(format!("ggzhub-reload-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("supergraph.graphql");
    std::fs::write(&path, supergraph(&[&v1])).expect("write");
    let gateway = gateway_over(&std::fs::read_to_string(&path).expect("read"));
    tokio::spawn(ggzhub_gateway::http::server::watch(gateway.clone(), path.clone(), Duration::from_millis(20)));
    let base = serve(gateway.clone(), anonymous()).await;
    let ask = || async {
        reqwest::Client::new()
            .post(format!("{base}/graphql"))
            .json(&json!({ "query": "{ users { email } }" }))
            .send()
            .await
            .expect("send")
            .json::<Value>()
            .await
            .expect("json")
    };
    assert_eq!(ask().await["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED");

    std::fs::write(&path, supergraph(&[&v2])).expect("write");
    let mut answer = Value::Null;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        answer = ask().await;
        if answer.get("data").is_some() {
            break;
        }
    }
    assert_eq!(answer, json!({ "data": { "users": [{ "email": "ann@example.org" }] } }));

    std::fs::write(&path, "type Query { this is not a supergraph").expect("write");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        ask().await,
        json!({ "data": { "users": [{ "email": "ann@example.org" }] } }),
        "the old one keeps serving"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn introspection_can_be_turned_off() {
    let mock = mock("accounts", ACCOUNTS, &Clock::default(), Duration::ZERO, accounts).await;
    let gateway = Gateway::new(EngineOptions { introspection: false, ..Default::default() });
    gateway.load_supergraph(&supergraph(&[&mock])).expect("loads");
    let base = serve(Arc::new(gateway), anonymous()).await;
    let ask = |query: &'static str| {
        reqwest::Client::new()
            .post(format!("{base}/graphql"))
            .header("accept", "application/graphql-response+json")
            .json(&json!({ "query": query }))
            .send()
    };
    let response = ask("{ __schema { types { name } } }").await.expect("send");
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["errors"][0]["extensions"]["code"], "INTROSPECTION_DISABLED");
    assert!(body.get("data").is_none());
    // __typename is not schema introspection.
    let body: Value = ask("{ __typename users { id } }").await.expect("send").json().await.expect("json");
    assert_eq!(body, json!({ "data": { "__typename": "Query", "users": [{ "id": "u1" }] } }));
}
