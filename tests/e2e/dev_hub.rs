//! `ggzhub dev` as a whole: its demo data and tokens, subgraphs that accept only the gateway's
//! internal tokens, one query joining the three subgraphs, the dashboard and GraphiQL from the
//! hub itself, and the body limit for a client that uploads before reading.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::DevHub;

const OWN_OFFERS: &str =
    "query($id: ID!) { organisation(id: $id) { careOffers(first: 5) { edges { node { id version unitName } } } } }";
const OTHER_OFFERS: &str =
    "{ careOffers(category: ACUTE, first: 50) { edges { node { id version provider { id } } } } }";
const UPDATE: &str = "mutation($id: ID!, $v: Int!) { updateCareOffer(id: $id, expectedVersion: $v, input: { unitName: \"E2E-team\" }) { id version unitName } }";
const OFFER_DETAIL: &str =
    "query($id: ID!) { careOffer(id: $id) { unitName status capacity { beds places } inclusionCriteria } }";

#[tokio::test]
async fn dev_hub_serves_demo_data_and_enforces_the_access_matrix() {
    let hub = DevHub::start();
    let (provider_org, provider) = hub.persona("PROVIDER");
    let (_, patient_org) = hub.persona("PATIENT_ORGANISATION");

    // The provider changes its own offer.
    let own = hub.gql(&provider, OWN_OFFERS, json!({ "id": provider_org })).await;
    let offer = &own["data"]["organisation"]["careOffers"]["edges"][0]["node"];
    let offer_id = offer["id"].as_str().expect("the demo provider has offers").to_owned();
    let updated = hub.gql(&provider, UPDATE, json!({ "id": offer_id, "v": offer["version"] })).await;
    assert_eq!(updated["data"]["updateCareOffer"]["unitName"], "E2E-team", "{updated:#}");
    assert_eq!(updated["data"]["updateCareOffer"]["version"], offer["version"].as_i64().expect("int") + 1);

    // …and cannot change another provider's.
    let all = hub.gql(&provider, OTHER_OFFERS, json!({})).await;
    let other = all["data"]["careOffers"]["edges"]
        .as_array()
        .expect("offers")
        .iter()
        .map(|e| &e["node"])
        .find(|n| n["provider"]["id"] != provider_org.as_str())
        .expect("an offer of another provider")
        .clone();
    let refused = hub.gql(&provider, UPDATE, json!({ "id": other["id"], "v": other["version"] })).await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "FORBIDDEN", "{refused:#}");
    assert!(refused["data"].is_null() || refused["data"]["updateCareOffer"].is_null());

    // A patient organisation reads public fields (inclusion criteria too since issue 21) and gets
    // FORBIDDEN on confidential ones.
    let detail = hub.gql(&patient_org, OFFER_DETAIL, json!({ "id": offer_id })).await;
    assert_eq!(detail["data"]["careOffer"]["unitName"], "E2E-team");
    assert!(detail["data"]["careOffer"]["inclusionCriteria"].is_string(), "{detail:#}");
    assert!(detail["data"]["careOffer"]["capacity"].is_null());
    let codes: Vec<&str> = detail["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["extensions"]["code"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(codes, ["FORBIDDEN"], "{detail:#}");

    // The public schema draws the country: every demo care-office region on its own tile of the
    // map (the demo IZA regions have no tiles).
    let map = hub
        .gql(
            &patient_org,
            "{ regions(kind: CARE_OFFICE, first: 100) { nodes { code tile { row column } } } }",
            json!({}),
        )
        .await;
    let regions = map["data"]["regions"]["nodes"].as_array().expect("regions").clone();
    assert_eq!(regions.len(), 31, "{map:#}");
    let tiles: std::collections::HashSet<String> = regions.iter().map(|r| r["tile"].to_string()).collect();
    assert_eq!(tiles.len(), 31, "one tile per region: {map:#}");
    assert!(regions.iter().all(|r| r["tile"]["row"].is_i64()), "{map:#}");

    let status = hub.stop();
    assert!(status.success(), "ggzhub dev exits cleanly on SIGTERM: {status}");
}

#[tokio::test]
async fn subgraphs_accept_only_the_gateways_internal_tokens() {
    let hub = DevHub::start();
    let (_, operator) = hub.persona("HUB_OPERATOR");
    let query = json!({ "query": "{ regions { edges { node { code } } } }" });
    let http = reqwest::Client::new();
    let internal = hub.internal_token(&operator);
    let other_key = ggzhub_kit::SigningKey::generate();
    let forged = other_key.signer().sign(&ggzhub_kit::token::TokenRequest {
        subject: "forger".into(),
        audience: vec!["region".into()],
        org: uuid::Uuid::nil(),
        org_kind: ggzhub_kit::OrgKind::HubOperator,
        regions: vec![],
        roles: vec![],
        scopes: vec!["picture:read".into()],
        ttl: Duration::from_secs(300),
    });
    let internal_key = ggzhub_kit::SigningKey::load_or_create(&hub.data_dir.join("dev-signing-key.pem")).expect("key");
    let expired = internal_key.signer().sign_claims(&json!({
        "iss": "ggzhub", "sub": "late", "aud": "region", "exp": 1_000_000, "iat": 999_000, "jti": "x",
        "org": uuid::Uuid::nil(), "org_kind": "HUB_OPERATOR", "scope": "picture:read"
    }));
    for (label, token) in [
        ("no token", None),
        ("the organisation token the gateway accepts", Some(operator.clone())),
        ("an internal token signed with another key", Some(forged)),
        ("an expired internal token", Some(expired)),
    ] {
        let mut request = http.post(&hub.url).json(&query);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let resp = request.send().await.expect("request reaches the region subgraph");
        assert_eq!(resp.status(), 401, "{label}");
        let body: Value = resp.json().await.expect("JSON");
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{label}: {body:#}");
        assert!(body.get("data").is_none_or(Value::is_null), "{label}: no data");
    }
    // The gateway accepts the organisation token; the region subgraph the internal one.
    let direct = http.post(&hub.url).bearer_auth(internal).json(&query).send().await.expect("send");
    assert_eq!(direct.status(), 200);
    let through = http.post(&hub.gateway_url).bearer_auth(&operator).json(&query).send().await.expect("send");
    assert_eq!(through.status(), 200);
    let body: Value = through.json().await.expect("JSON");
    assert!(body["data"]["regions"]["edges"].as_array().is_some_and(|e| !e.is_empty()), "{body:#}");
    // …and, without a token, serves only the dashboard's public operations (public access is on
    // in `ggzhub dev`): this one is refused before it reaches a subgraph.
    let none = http.post(&hub.gateway_url).json(&query).send().await.expect("send");
    assert_eq!(none.status(), 403);
    let body: Value = none.json().await.expect("JSON");
    assert_eq!(body["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_IN_LIST", "{body:#}");
}

const RAISE: &str = "mutation($offers: [ID!]) { raiseEscalation(input: { regionCode: \"utrecht\", category: SECURE, \
    targetGroup: \"Mensen met ernstige psychiatrische problematiek en veiligheidsrisico's\", \
    problem: \"Geen beveiligde bedden niveau 3 in de regio.\", regionTried: \"Overleg met buurregio's.\", \
    affectedOfferIds: $offers, urgency: HIGH }) { id status regionCode affectedOffers { id } } }";

#[tokio::test]
async fn national_table_checks_references_with_the_region_subgraph() {
    let hub = DevHub::start();
    // The demo provider chairs the utrecht table.
    let (provider_org, chair) = hub.persona("PROVIDER");
    let own = hub.gql(&chair, OWN_OFFERS, json!({ "id": provider_org })).await;
    let offer_id = own["data"]["organisation"]["careOffers"]["edges"][0]["node"]["id"].clone();

    let raised = hub.gql_at(&hub.national_url, &chair, RAISE, json!({ "offers": [offer_id] })).await;
    assert_eq!(raised["data"]["raiseEscalation"]["status"], "SUBMITTED", "{raised:#}");
    assert_eq!(raised["data"]["raiseEscalation"]["affectedOffers"][0]["id"], offer_id);

    let unknown = hub
        .gql_at(&hub.national_url, &chair, RAISE, json!({ "offers": ["00000000-0000-4000-8000-000000000001"] }))
        .await;
    assert_eq!(unknown["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{unknown:#}");

    // A patient organisation does not see the undecided escalation.
    let (_, patient_org) = hub.persona("PATIENT_ORGANISATION");
    let id = raised["data"]["raiseEscalation"]["id"].clone();
    let seen = hub
        .gql_at(&hub.national_url, &patient_org, "query($id: ID!) { escalation(id: $id) { id } }", json!({ "id": id }))
        .await;
    assert_eq!(seen["data"]["escalation"], Value::Null, "{seen:#}");
}

#[tokio::test]
async fn contracts_are_read_only_by_their_parties() {
    let hub = DevHub::start();
    let (insurer_org, insurer) = hub.persona("INSURER");
    let (provider_org, provider) = hub.persona("PROVIDER");
    let q = "{ contracts(status: AGREED) { nodes { id insurer { id } provider { id } terms { guarantee { amountEur } } } } }";
    let own = hub.gql_at(&hub.contracting_url, &insurer, q, json!({})).await;
    let nodes = own["data"]["contracts"]["nodes"].as_array().expect("a list").clone();
    assert!(!nodes.is_empty(), "the demo insurer has agreed contracts: {own:#}");
    assert!(nodes.iter().all(|n| n["insurer"]["id"] == insurer_org.as_str()));
    let with_provider =
        nodes.iter().find(|n| n["provider"]["id"] == provider_org.as_str()).expect("one with the demo provider");

    // The provider reads the same contract; a patient organisation sees nothing of contracts.
    let by_id = "query($id: ID!) { contract(id: $id) { id } }";
    let seen = hub.gql_at(&hub.contracting_url, &provider, by_id, json!({ "id": with_provider["id"] })).await;
    assert_eq!(seen["data"]["contract"]["id"], with_provider["id"], "{seen:#}");
    let (_, patient_org) = hub.persona("PATIENT_ORGANISATION");
    let refused = hub.gql_at(&hub.contracting_url, &patient_org, q, json!({})).await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "FORBIDDEN", "{refused:#}");
}

#[tokio::test]
async fn one_query_through_the_gateway_joins_all_three_subgraphs() {
    let hub = DevHub::start();
    let (_, insurer) = hub.persona("INSURER");
    let query = r#"query Utrecht($code: String!) {
        region(code: $code) {
            code
            name
            escalations { id status }
            offers(first: 5, category: ACUTE) {
                nodes {
                    id
                    category
                    provider { name }
                    coverage: contractCoverage { band otherInsurers }
                    supraRegionalListing { id }
                }
            }
        }
    }"#;
    let body = hub.gql_at(&hub.gateway_url, &insurer, query, json!({ "code": "utrecht" })).await;
    assert!(body.get("errors").is_none(), "no errors: {body}");
    let region = &body["data"]["region"];
    assert_eq!(region["code"], "utrecht");
    // From the national-table subgraph.
    assert!(!region["escalations"].as_array().expect("escalations").is_empty(), "{body}");
    let offers = region["offers"]["nodes"].as_array().expect("offers");
    assert!(!offers.is_empty(), "{body}");
    for offer in offers {
        assert_eq!(offer["category"], "ACUTE");
        // From the region subgraph (nested entity), the contracting subgraph (alias) and the
        // national-table subgraph (nullable listing).
        assert!(offer["provider"]["name"].is_string(), "{offer}");
        assert!(offer["coverage"]["band"].is_string(), "{offer}");
        assert!(offer.as_object().expect("object").contains_key("supraRegionalListing"), "{offer}");
    }
    // The demo data has one acute Utrecht offer contracted by four insurers: the demo insurer
    // is one of them and reads the other three.
    assert!(offers.iter().any(|o| o["coverage"]["otherInsurers"] == 3), "{body}");

    // No token: `ggzhub dev` serves the public only the dashboard's own operations, so any other
    // query is refused at the gateway, with no data.
    let response = reqwest::Client::new()
        .post(&hub.gateway_url)
        .json(&json!({ "query": "{ regions { code } }" }))
        .send()
        .await
        .expect("gateway answers");
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_IN_LIST");
    assert!(body.get("data").is_none());
    assert!(hub.stop().success());
}

#[tokio::test]
async fn the_dashboard_and_graphiql_come_from_the_hub_itself() {
    let hub = DevHub::start();
    let base = hub.gateway_url.trim_end_matches("/graphql").to_owned();
    let http = reqwest::Client::new();
    for path in ["/", "/regio/utrecht"] {
        let response = http.get(format!("{base}{path}")).send().await.expect("send");
        assert_eq!(response.status(), 200, "{path}");
        let csp = response.headers()["content-security-policy"].to_str().expect("ascii").to_owned();
        // The dashboard may reach the development identity provider, and nothing else.
        let connect = csp.split(';').find(|d| d.trim().starts_with("connect-src")).expect("connect-src").trim();
        assert!(connect.starts_with("connect-src 'self' http://127.0.0.1:"), "{csp}");
        assert_eq!(connect.split(' ').count(), 3, "{csp}");
        assert!(response.text().await.expect("html").to_ascii_lowercase().starts_with("<!doctype html>"));
    }
    let page = http.get(&hub.gateway_url).header("accept", "text/html").send().await.expect("send");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(!html.contains("http://") && !html.contains("https://"), "GraphiQL loads nothing from elsewhere: {html}");
    for script in
        ["graphiql.min.js", "graphiql.min.css", "react.production.min.js", "react-dom.production.min.js", "init.js"]
    {
        assert!(html.contains(&format!("/graphiql/{script}")), "{script}");
        let response = http.get(format!("{base}/graphiql/{script}")).send().await.expect("send");
        assert_eq!(response.status(), 200, "{script}");
    }
    assert!(hub.stop().success());
}

/// Writes a POST with a 10 MB body whole, then reads the whole answer, as most HTTP clients do:
/// the status line and the body of the answer.
async fn upload_then_read(url: &str, token: &str) -> (String, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let address = url.trim_start_matches("http://").split('/').next().expect("host").to_owned();
    let body = format!(r#"{{"query":"{{ regions {{ code }} }}","variables":{{"x":"{}"}}}}"#, "a".repeat(10 << 20));
    let head = format!(
        "POST /graphql HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\n\
         authorization: Bearer {token}\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(&address).await.expect("connect");
    let exchange = async {
        stream.write_all(head.as_bytes()).await.expect("the head is written");
        stream.write_all(body.as_bytes()).await.expect("the whole body is written (the server reads it)");
        let mut received = Vec::new();
        stream.read_to_end(&mut received).await.expect("the answer arrives before the connection closes");
        String::from_utf8_lossy(&received).into_owned()
    };
    let answer = tokio::time::timeout(Duration::from_secs(60), exchange).await.expect("an answer in time");
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or_else(|| panic!("a whole answer: {answer}"));
    (head.lines().next().unwrap_or_default().to_owned(), body.to_owned())
}

#[tokio::test]
async fn a_client_that_uploads_before_reading_gets_the_413() {
    let hub = DevHub::start();
    let (_, provider) = hub.persona("PROVIDER");
    let (status, body) = upload_then_read(&hub.gateway_url, &provider).await;
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
    let body: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("a JSON answer: {body}"));
    assert_eq!(body["errors"][0]["extensions"]["code"], "PAYLOAD_TOO_LARGE", "{body}");
    // The subgraphs limit their bodies too, and answer the same way.
    let (status, _) = upload_then_read(&hub.contracting_url, "not-a-token").await;
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
    assert!(hub.stop().success());
}
