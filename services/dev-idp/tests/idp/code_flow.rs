//! Discovery and the whole Authorization Code flow with PKCE.

use crate::support::*;

#[tokio::test]
async fn discovery_document_names_the_endpoints_and_offers_only_code_with_s256() {
    let idp = TestIdp::spawn().await;
    let doc: serde_json::Value = idp
        .http
        .get(idp.url("/.well-known/openid-configuration"))
        .send()
        .await
        .expect("discovery")
        .json()
        .await
        .expect("json");
    assert_eq!(doc["issuer"], idp.base);
    assert_eq!(doc["authorization_endpoint"], idp.url("/authorize"));
    assert_eq!(doc["token_endpoint"], idp.url("/token"));
    assert_eq!(doc["jwks_uri"], idp.url("/.well-known/jwks.json"));
    assert_eq!(doc["end_session_endpoint"], idp.url("/end-session"));
    assert_eq!(doc["userinfo_endpoint"], idp.url("/userinfo"));
    assert_eq!(doc["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(doc["grant_types_supported"], serde_json::json!(["authorization_code", "client_credentials"]));
    assert_eq!(doc["code_challenge_methods_supported"], serde_json::json!(["S256"]));
    assert_eq!(doc["id_token_signing_alg_values_supported"], serde_json::json!(["EdDSA"]));
    assert_eq!(doc["subject_types_supported"], serde_json::json!(["public"]));
    let auth_methods = doc["token_endpoint_auth_methods_supported"].as_array().expect("list");
    for method in ["client_secret_basic", "client_secret_post", "none"] {
        assert!(auth_methods.iter().any(|m| m == method), "{method} is advertised");
    }
    let scopes = doc["scopes_supported"].as_array().expect("list");
    for scope in ["openid", "profile", "picture:read"] {
        assert!(scopes.iter().any(|s| s == scope), "{scope} is advertised");
    }
}

#[tokio::test]
async fn jwks_publishes_the_development_issuer_key_under_its_kid() {
    let idp = TestIdp::spawn().await;
    let jwks: serde_json::Value =
        idp.http.get(idp.url("/.well-known/jwks.json")).send().await.expect("jwks").json().await.expect("json");
    assert_eq!(jwks, idp.key.jwks());
    assert_eq!(jwks["keys"][0]["kid"], idp.key.kid());
}

#[tokio::test]
async fn pkce_flow_signs_a_demo_person_in_with_state_nonce_and_verifiable_tokens() {
    let idp = TestIdp::spawn().await;
    let params = idp.code_for_anna().await;
    assert_eq!(params["state"], "state-123", "state comes back unchanged");
    assert_eq!(params["iss"], idp.base, "the response names its issuer (RFC 9207)");
    let (status, body) = idp.exchange(&params["code"], VERIFIER).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600, "tokens live one hour by default");
    assert!(body.get("refresh_token").is_none(), "no refresh tokens");

    let access = idp.verify(body["access_token"].as_str().expect("access token"), "gateway").await;
    assert_eq!(access["sub"], ANNA);
    assert_eq!(access["org_identifier_scheme"], "URA");
    assert_eq!(access["org_identifier"], "90000001");
    assert_eq!(access["name"], "Anna de Vries");
    assert_eq!(access["client_id"], DASHBOARD);
    assert_eq!(access["azp"], DASHBOARD);
    assert_eq!(access["scope"], "", "openid and profile do not narrow the hub scopes");
    assert!(access["jti"].as_str().is_some_and(|j| !j.is_empty()));
    assert_eq!(access["exp"].as_i64().expect("exp") - access["iat"].as_i64().expect("iat"), 3600);
    for absent in ["org", "org_kind", "regions", "roles", "nonce"] {
        assert!(access.get(absent).is_none(), "the access token carries no {absent}");
    }

    let id = idp.verify(body["id_token"].as_str().expect("id token"), DASHBOARD).await;
    assert_eq!(id["aud"], DASHBOARD);
    assert_eq!(id["sub"], ANNA);
    assert_eq!(id["nonce"], "nonce-456", "the nonce of the request is in the ID token");
    assert_eq!(id["org_name"], "GGZ Voorbeeldstad");
    assert!(id["auth_time"].as_i64().is_some());
}

#[tokio::test]
async fn hub_scopes_asked_for_narrow_the_access_token() {
    let idp = TestIdp::spawn().await;
    let page = idp.open_page(&[("scope", Some("openid picture:read"))]).await;
    let response = idp.choose(&page, ANNA, &page.csrf, None).await;
    let params = query_of(&location(&response));
    let (status, body) = idp.exchange(&params["code"], VERIFIER).await;
    assert_eq!(status, 200, "{body}");
    let access = idp.verify(body["access_token"].as_str().expect("access token"), "gateway").await;
    assert_eq!(access["scope"], "picture:read");
}

#[tokio::test]
async fn token_lifetime_is_configurable() {
    let idp = TestIdp::spawn_with(|s| s.token_ttl = std::time::Duration::from_secs(300)).await;
    let params = idp.code_for_anna().await;
    let (_, body) = idp.exchange(&params["code"], VERIFIER).await;
    assert_eq!(body["expires_in"], 300);
    let id = idp.verify(body["id_token"].as_str().expect("id token"), DASHBOARD).await;
    assert_eq!(id["exp"].as_i64().expect("exp") - id["iat"].as_i64().expect("iat"), 300);
}

#[tokio::test]
async fn userinfo_answers_for_a_valid_access_token_only() {
    let idp = TestIdp::spawn().await;
    let params = idp.code_for_anna().await;
    let (_, body) = idp.exchange(&params["code"], VERIFIER).await;
    let userinfo = |token: Option<String>| {
        let mut request = idp.http.get(idp.url("/userinfo"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    let access = body["access_token"].as_str().expect("access token").to_owned();
    let response = userinfo(Some(access.clone())).await.expect("userinfo");
    assert_eq!(response.status(), 200);
    let info: serde_json::Value = response.json().await.expect("json");
    assert_eq!(info["sub"], ANNA);
    assert_eq!(info["name"], "Anna de Vries");
    assert_eq!(info["org_identifier"], "90000001");
    assert_eq!(info["org_name"], "GGZ Voorbeeldstad");

    let id_token = body["id_token"].as_str().expect("id token").to_owned();
    for token in [None, Some("not-a-token".to_owned()), Some(id_token)] {
        let response = userinfo(token).await.expect("userinfo");
        assert_eq!(response.status(), 401);
        assert!(response.headers()["www-authenticate"].to_str().expect("ascii").starts_with("Bearer"));
    }
    idp.let_pass(std::time::Duration::from_secs(3601));
    assert_eq!(userinfo(Some(access)).await.expect("userinfo").status(), 401, "expired");
}

#[tokio::test]
async fn an_authorization_request_may_come_as_a_form_post() {
    let idp = TestIdp::spawn().await;
    let challenge = s256(VERIFIER);
    let form = [
        ("response_type", "code"),
        ("client_id", DASHBOARD),
        ("redirect_uri", CALLBACK),
        ("scope", "openid"),
        ("state", "posted"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let post = |form: Vec<(&'static str, String)>| {
        idp.http
            .post(idp.url("/authorize"))
            .header("origin", DASHBOARD_ORIGIN)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(form).expect("form"))
            .send()
    };
    let owned = |f: &[(&'static str, &str)]| f.iter().map(|(k, v)| (*k, (*v).to_owned())).collect::<Vec<_>>();
    let page = post(owned(&form)).await.expect("post");
    assert_eq!(page.status(), 200);
    assert!(page.text().await.expect("html").contains("name=\"csrf\""));
    let mut plain = owned(&form);
    plain.retain(|(k, _)| *k != "code_challenge_method");
    let refused = post(plain).await.expect("post");
    assert_eq!(refused.status(), 303);
    assert_eq!(query_of(&location(&refused))["error"], "invalid_request");
}
