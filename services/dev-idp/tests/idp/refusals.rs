//! What the provider refuses in the Authorization Code flow, and how: an error page where the
//! redirect URI cannot be trusted, an error redirect where it can, `invalid_grant` at the token
//! endpoint.

use std::time::Duration;

use crate::support::*;

/// The response is an error page: no redirect anywhere.
async fn assert_error_page(response: reqwest::Response) {
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none(), "no redirect");
    let html = response.text().await.expect("html");
    assert!(html.contains("Inloggen lukt niet"), "{html}");
}

/// The response redirects to the callback with `error` and no code.
fn assert_error_redirect(response: &reqwest::Response, error: &str) -> std::collections::HashMap<String, String> {
    assert_eq!(response.status(), 303);
    let location = location(response);
    assert!(location.starts_with(&format!("{CALLBACK}?")), "{location}");
    let params = query_of(&location);
    assert_eq!(params.get("error").map(String::as_str), Some(error), "{location}");
    assert!(!params.contains_key("code"));
    params
}

#[tokio::test]
async fn unregistered_redirect_uris_get_an_error_page_never_a_redirect() {
    let idp = TestIdp::spawn().await;
    for uri in [
        "https://evil.example/auth/callback",
        "http://127.0.0.1:4000/auth/callback/",
        "http://127.0.0.1:4000/auth/callback?next=https://evil.example",
        "http://127.0.0.1:4000/auth/callbackx",
        "HTTP://127.0.0.1:4000/auth/callback",
        "http://127.0.0.1:4001/auth/callback",
    ] {
        assert_error_page(idp.authorize(&[("redirect_uri", Some(uri))]).await).await;
    }
    assert_error_page(idp.authorize(&[("redirect_uri", None)]).await).await;
    // The other registered URI works.
    assert_eq!(idp.authorize(&[("redirect_uri", Some("http://localhost:4000/auth/callback"))]).await.status(), 200);
}

#[tokio::test]
async fn unknown_or_missing_client_gets_an_error_page() {
    let idp = TestIdp::spawn().await;
    assert_error_page(idp.authorize(&[("client_id", Some("someone-else"))]).await).await;
    assert_error_page(idp.authorize(&[("client_id", None)]).await).await;
    // A machine client has no redirect URIs, so it cannot use the page either.
    assert_error_page(idp.authorize(&[("client_id", Some("demo-90000001"))]).await).await;
}

#[tokio::test]
async fn missing_state_is_refused() {
    let idp = TestIdp::spawn().await;
    let response = idp.authorize(&[("state", None)]).await;
    let params = assert_error_redirect(&response, "invalid_request");
    assert!(params["error_description"].contains("state"));
    assert!(!params.contains_key("state"));
    let response = idp.authorize(&[("state", Some(""))]).await;
    assert_error_redirect(&response, "invalid_request");
}

#[tokio::test]
async fn plain_or_missing_pkce_is_refused() {
    let idp = TestIdp::spawn().await;
    let verifier_as_challenge = VERIFIER;
    for change in [
        vec![("code_challenge_method", Some("plain")), ("code_challenge", Some(verifier_as_challenge))],
        vec![("code_challenge_method", None)],
        vec![("code_challenge", None)],
        vec![("code_challenge", None), ("code_challenge_method", None)],
        vec![("code_challenge", Some("too-short"))],
    ] {
        let response = idp.authorize(&change).await;
        let params = assert_error_redirect(&response, "invalid_request");
        assert_eq!(params["state"], "state-123", "the error carries the state back");
    }
}

#[tokio::test]
async fn only_response_type_code_and_known_scopes_with_openid() {
    let idp = TestIdp::spawn().await;
    for (response_type, error) in
        [("token", "unsupported_response_type"), ("code id_token", "unsupported_response_type")]
    {
        let response = idp.authorize(&[("response_type", Some(response_type))]).await;
        assert_error_redirect(&response, error);
    }
    assert_error_redirect(&idp.authorize(&[("scope", Some("openid everything"))]).await, "invalid_scope");
    assert_error_redirect(&idp.authorize(&[("scope", Some("profile"))]).await, "invalid_scope");
    assert_error_redirect(&idp.authorize(&[("prompt", Some("none"))]).await, "login_required");
}

#[tokio::test]
async fn a_repeated_parameter_is_refused() {
    let idp = TestIdp::spawn().await;
    let url = idp.url(&format!(
        "/authorize?response_type=code&client_id={DASHBOARD}&redirect_uri={}&redirect_uri=https%3A%2F%2Fevil.example%2F&state=s&scope=openid&code_challenge={}&code_challenge_method=S256",
        url_encode(CALLBACK),
        s256(VERIFIER)
    ));
    assert_error_page(idp.http.get(url).send().await.expect("request")).await;
}

fn url_encode(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)]).expect("encodes").trim_start_matches("x=").to_owned()
}

#[tokio::test]
async fn wrong_verifier_is_invalid_grant_and_uses_up_the_code() {
    let idp = TestIdp::spawn().await;
    let params = idp.code_for_anna().await;
    let (status, body) = idp.exchange(&params["code"], "another-verifier-of-enough-length-0123456789-xyz").await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    let (status, body) = idp.exchange(&params["code"], VERIFIER).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "a code is presented once: {body}");
}

#[tokio::test]
async fn a_code_works_once() {
    let idp = TestIdp::spawn().await;
    let params = idp.code_for_anna().await;
    assert_eq!(idp.exchange(&params["code"], VERIFIER).await.0, 200);
    let (status, body) = idp.exchange(&params["code"], VERIFIER).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
}

#[tokio::test]
async fn a_code_expires_after_sixty_seconds() {
    let idp = TestIdp::spawn().await;
    let params = idp.code_for_anna().await;
    idp.let_pass(Duration::from_secs(59));
    let fresh = idp.code_for_anna().await;
    idp.let_pass(Duration::from_secs(2));
    let (status, body) = idp.exchange(&params["code"], VERIFIER).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "expired: {body}");
    assert_eq!(idp.exchange(&fresh["code"], VERIFIER).await.0, 200, "a 2 s old code still works");
}

#[tokio::test]
async fn a_code_is_bound_to_its_redirect_uri_and_client() {
    let idp = TestIdp::spawn().await;
    let params = idp.code_for_anna().await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", params["code"].as_str()),
        ("redirect_uri", "http://localhost:4000/auth/callback"),
        ("code_verifier", VERIFIER),
        ("client_id", DASHBOARD),
    ];
    let (status, body) = idp.token(&form, None).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");

    let params = idp.code_for_anna().await;
    let secret = idp.secret("demo-9001");
    let form = [
        ("grant_type", "authorization_code"),
        ("code", params["code"].as_str()),
        ("redirect_uri", CALLBACK),
        ("code_verifier", VERIFIER),
    ];
    let (status, body) = idp.token(&form, Some(("demo-9001", &secret))).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "another client: {body}");
}

#[tokio::test]
async fn an_unknown_code_or_missing_verifier_is_refused() {
    let idp = TestIdp::spawn().await;
    let (status, body) = idp.exchange("made-up", VERIFIER).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
    let params = idp.code_for_anna().await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", params["code"].as_str()),
        ("redirect_uri", CALLBACK),
        ("client_id", DASHBOARD),
    ];
    let (status, body) = idp.token(&form, None).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")));
}
