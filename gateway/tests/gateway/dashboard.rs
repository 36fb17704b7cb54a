//! The dashboard and GraphiQL over real HTTP, from the files built into the binary: `/` is
//! index.html with the Content-Security-Policy and security headers, hashed assets are cached as
//! immutable, the app's own routes fall back to index.html, the gateway's routes stay its own,
//! and the GraphiQL page references no other origin and only files the gateway serves.

use std::sync::Arc;
use std::time::Duration;

use ggzhub_gateway::auth::identity::Identity;
use ggzhub_gateway::engine::{EngineOptions, Gateway};
use ggzhub_gateway::http::HttpOptions;
use ggzhub_gateway::http::dashboard::{DashboardOptions, SignIn};
use ggzhub_kit::server::HttpLimits;
use serde_json::{Value, json};

use crate::support::{Clock, mock, supergraph};

const ACCOUNTS: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { users: [User!]! }
type User @key(fields: "id") { id: ID! name: String! }
"#;

const IDP: &str = "http://127.0.0.1:4005";

async fn serve(options: HttpOptions) -> String {
    let subgraph = mock(
        "accounts",
        ACCOUNTS,
        &Clock::default(),
        Duration::ZERO,
        |_| json!({ "data": { "users": [{ "id": "u1", "name": "Ann" }] } }),
    )
    .await;
    let gateway = Gateway::new(EngineOptions::default());
    gateway.load_supergraph(&supergraph(&[&subgraph])).expect("loads");
    std::mem::forget(subgraph);
    let identity = Identity { verifier: None, register: None, signer: None, allow_anonymous: true };
    let app = ggzhub_gateway::http::server::app(Arc::new(gateway), Arc::new(identity), options, HttpLimits::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(ggzhub_gateway::http::server::serve(listener, app, std::future::pending()));
    base
}

fn options() -> HttpOptions {
    HttpOptions {
        graphiql: true,
        dashboard: DashboardOptions {
            enabled: true,
            connect_origins: vec![IDP.into()],
            sign_in: Some(SignIn { issuer: IDP.into(), client_id: "ggzhub-dashboard".into() }),
        },
        ..Default::default()
    }
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_else(|| panic!("no {name} header"))
}

/// The values of `attribute="..."` in an HTML text.
fn attribute_values(html: &str, attribute: &str) -> Vec<String> {
    let needle = format!("{attribute}=\"");
    html.match_indices(&needle)
        .filter_map(|(at, _)| html[at + needle.len()..].split('"').next().map(str::to_owned))
        .collect()
}

fn assert_security_headers(response: &reqwest::Response) {
    assert_eq!(header(response, "x-content-type-options"), "nosniff");
    assert_eq!(header(response, "referrer-policy"), "no-referrer");
    assert_eq!(header(response, "x-frame-options"), "DENY");
    let csp = header(response, "content-security-policy");
    for directive in ["default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"] {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    assert!(!csp.contains("unsafe-eval"), "{csp}");
}

#[tokio::test]
async fn the_root_is_index_html_with_the_policy_and_revalidation() {
    let base = serve(options()).await;
    let http = reqwest::Client::new();
    let response = http.get(format!("{base}/")).send().await.expect("send");
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&response, "cache-control"), "no-cache");
    assert_security_headers(&response);
    let csp = header(&response, "content-security-policy");
    assert!(csp.contains(&format!("connect-src 'self' {IDP};")), "the identity provider may be reached: {csp}");
    assert!(!csp.contains("script-src 'self' 'unsafe-inline'"), "{csp}");
    let etag = header(&response, "etag").to_owned();
    let html = response.text().await.expect("text");
    assert!(html.to_ascii_lowercase().starts_with("<!doctype html>"), "{html}");

    // Revalidation: the same ETag answers 304 without a body; another one the page.
    let again = http.get(format!("{base}/")).header("if-none-match", &etag).send().await.expect("send");
    assert_eq!(again.status(), 304);
    assert_eq!(header(&again, "etag"), etag);
    assert!(again.bytes().await.expect("body").is_empty());
    let other = http.get(format!("{base}/")).header("if-none-match", "\"0000\"").send().await.expect("send");
    assert_eq!(other.status(), 200);

    // gzip for browsers that accept it (the test client does not decompress).
    let gzipped = http.get(format!("{base}/")).header("accept-encoding", "gzip, br").send().await.expect("send");
    assert_eq!(header(&gzipped, "content-encoding"), "gzip");
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(&gzipped.bytes().await.expect("body")[..]),
        &mut text,
    )
    .expect("gzip");
    assert_eq!(text, html);
}

#[tokio::test]
async fn hashed_assets_are_immutable_and_every_asset_of_index_html_is_served() {
    let base = serve(options()).await;
    let http = reqwest::Client::new();
    let html = http.get(format!("{base}/")).send().await.expect("send").text().await.expect("text");
    let assets: Vec<String> = attribute_values(&html, "src")
        .into_iter()
        .chain(attribute_values(&html, "href"))
        .filter(|path| path.starts_with("/assets/"))
        .collect();
    assert!(!assets.is_empty(), "index.html references hashed assets: {html}");
    for path in &assets {
        let response = http.get(format!("{base}{path}")).send().await.expect("send");
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(header(&response, "cache-control"), "public, max-age=31536000, immutable", "{path}");
        let content_type = header(&response, "content-type");
        let expected = match path.rsplit('.').next() {
            Some("js") => "text/javascript",
            Some("css") => "text/css",
            _ => "",
        };
        assert!(content_type.starts_with(expected), "{path}: {content_type}");
        assert_security_headers(&response);
    }
    let missing = http.get(format!("{base}/assets/missing-0123abcd.js")).send().await.expect("send");
    assert_eq!(missing.status(), 404, "a missing asset is not index.html");
}

#[tokio::test]
async fn app_routes_fall_back_to_index_html_and_gateway_routes_stay_the_gateways() {
    let base = serve(options()).await;
    let http = reqwest::Client::new();
    let index = http.get(format!("{base}/")).send().await.expect("send").text().await.expect("text");
    for route in ["/regio/utrecht", "/land", "/publiek/regio/groningen?categorie=ACUTE", "/index.html"] {
        let response = http.get(format!("{base}{route}")).send().await.expect("send");
        assert_eq!(response.status(), 200, "{route}");
        assert_eq!(header(&response, "content-type"), "text/html; charset=utf-8", "{route}");
        assert_security_headers(&response);
        assert_eq!(response.text().await.expect("text"), index, "{route}");
    }
    for path in ["/favicon-missing.png", "/graphql/extra", "/health/other", "/graphiql/missing.js"] {
        let response = http.get(format!("{base}{path}")).send().await.expect("send");
        assert_eq!(response.status(), 404, "{path}");
    }
    let posted = http.post(format!("{base}/regio/utrecht")).body("x").send().await.expect("send");
    assert_eq!(posted.status(), 405);

    // GraphQL and health are untouched.
    let response = http
        .get(format!("{base}/graphql"))
        .query(&[("query", "{ users { id name } }")])
        .header("graphql-require-preflight", "1")
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body, json!({ "data": { "users": [{ "id": "u1", "name": "Ann" }] } }));
    let response = http
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": "{ users { name } }" }))
        .send()
        .await
        .expect("send");
    assert_eq!(response.json::<Value>().await.expect("json")["data"]["users"][0]["name"], "Ann");
    assert_eq!(http.get(format!("{base}/health/live")).send().await.expect("send").text().await.expect("text"), "ok");
}

#[tokio::test]
async fn the_dashboard_can_be_turned_off() {
    let base =
        serve(HttpOptions { dashboard: DashboardOptions { enabled: false, ..Default::default() }, ..options() }).await;
    let http = reqwest::Client::new();
    for path in ["/", "/regio/utrecht", "/index.html"] {
        assert_eq!(http.get(format!("{base}{path}")).send().await.expect("send").status(), 404, "{path}");
    }
    let response =
        http.post(format!("{base}/graphql")).json(&json!({ "query": "{ users { id } }" })).send().await.expect("send");
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn graphiql_loads_only_the_hubs_own_files() {
    let base = serve(options()).await;
    let http = reqwest::Client::new();
    let page = http.get(format!("{base}/graphql")).header("accept", "text/html").send().await.expect("send");
    assert_eq!(page.status(), 200);
    assert!(header(&page, "content-type").starts_with("text/html"));
    assert_security_headers(&page);
    let csp = header(&page, "content-security-policy").to_owned();
    assert!(!csp.contains("http:") && !csp.contains("https:"), "no other origin is allowed: {csp}");
    let html = page.text().await.expect("text");
    assert!(html.contains("id=\"graphiql\""), "{html}");
    assert!(!html.contains("<script>"), "no inline script (the policy forbids it): {html}");

    let (inline, referenced): (Vec<String>, Vec<String>) = attribute_values(&html, "src")
        .into_iter()
        .chain(attribute_values(&html, "href"))
        .partition(|v| v.starts_with("data:"));
    // The icon is an empty inline one, so a browser asks the hub for no /favicon.ico.
    assert_eq!(inline, vec!["data:,".to_owned()]);
    assert_eq!(referenced.len(), 5, "{referenced:?}");
    for path in &referenced {
        assert!(path.starts_with('/') && !path.starts_with("//"), "{path} is on the hub's own origin");
        let response = http.get(format!("{base}{path}")).send().await.expect("send");
        assert_eq!(response.status(), 200, "{path}");
        let content_type = header(&response, "content-type");
        let expected = if path.ends_with(".css") { "text/css" } else { "text/javascript" };
        assert!(content_type.starts_with(expected), "{path}: {content_type}");
        let text = response.text().await.expect("text");
        assert!(text.len() > 100, "{path}");
        assert!(!text.contains("sourceMappingURL="), "{path} names no source map the hub does not serve");
    }
    for script in ["/graphiql/graphiql.min.js", "/graphiql/react.production.min.js", "/graphiql/init.js"] {
        assert!(referenced.iter().any(|p| p == script), "{script}: {referenced:?}");
    }

    // Without GraphiQL, neither the page nor its files are served.
    let base = serve(HttpOptions { graphiql: false, ..options() }).await;
    let response = http.get(format!("{base}/graphiql/graphiql.min.js")).send().await.expect("send");
    assert_eq!(response.status(), 404);
    let page = http.get(format!("{base}/graphql")).header("accept", "text/html").send().await.expect("send");
    assert_ne!(page.status(), 200);
}

#[tokio::test]
async fn the_sign_in_settings_come_from_the_configuration_not_the_build() {
    let http = reqwest::Client::new();
    let base = serve(options()).await;
    let response = http.get(format!("{base}/dashboard-config.json")).send().await.expect("send");
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-type"), "application/json");
    assert_eq!(header(&response, "cache-control"), "no-cache");
    assert_security_headers(&response);
    let config: Value = response.json().await.expect("json");
    assert_eq!(config, json!({ "issuer": IDP, "clientId": "ggzhub-dashboard", "graphqlPath": "/graphql" }));

    // No identity provider configured: no sign-in offered.
    let options = HttpOptions { dashboard: DashboardOptions { sign_in: None, ..options().dashboard }, ..options() };
    let base = serve(options).await;
    let config: Value =
        http.get(format!("{base}/dashboard-config.json")).send().await.expect("send").json().await.expect("json");
    assert_eq!(config, json!({ "graphqlPath": "/graphql" }));
}
