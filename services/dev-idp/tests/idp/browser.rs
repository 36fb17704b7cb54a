//! What a browser meets: the sign-in page and its CSRF protection, CORS for the dashboard's
//! origin only, and sign-out.

use crate::support::*;

#[tokio::test]
async fn the_sign_in_page_is_plain_dutch_html_under_a_strict_policy() {
    let idp = TestIdp::spawn().await;
    let response = idp.authorize(&[]).await;
    let csp = response.headers()["content-security-policy"].to_str().expect("ascii").to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("form-action 'self' http://127.0.0.1:4000"), "the redirect after the POST is allowed: {csp}");
    assert!(!csp.contains("script-src"), "{csp}");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let cookie = response.headers()["set-cookie"].to_str().expect("ascii").to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let html = response.text().await.expect("html");
    assert!(html.contains("<html lang=\"nl\">"));
    assert!(!html.contains("<script"), "no scripts at all");
    assert!(
        html.contains("<legend>GGZ Voorbeeldstad <span class=\"soort\">(Zorgaanbieder, URA 90000001)</span></legend>")
    );
    assert!(html.contains("<label for=\"persoon-0-0\">Anna de Vries</label>"));
    assert!(html.contains("id=\"persoon-0-0\" value=\"demo:90000001:1\""));
    assert!(html.contains("Bram &lt;Jansen&gt;"), "names are escaped");
    assert!(html.contains("<h2>Zorgaanbieders</h2>") && html.contains("<h2>Zorgverzekeraars</h2>"), "grouped by kind");
    assert!(html.contains(">Inloggen</button>"));
    let icon = idp.http.get(idp.url("/favicon.ico")).send().await.expect("favicon");
    assert_eq!(icon.status(), 204, "no 404 in the browser's console");
}

#[tokio::test]
async fn the_form_needs_its_csrf_token_and_cookie_and_answers_once() {
    let idp = TestIdp::spawn().await;
    let page = idp.open_page(&[]).await;
    let refused = |r: &reqwest::Response| r.status() == 400 && r.headers().get("location").is_none();
    let wrong_token = idp.choose(&page, ANNA, "not-the-token", None).await;
    assert!(refused(&wrong_token), "wrong CSRF token");
    let no_cookie = idp.choose(&page, ANNA, &page.csrf, Some("other=1")).await;
    assert!(refused(&no_cookie), "CSRF cookie missing");
    let other = idp.open_page(&[]).await;
    let swapped = idp.choose(&page, ANNA, &other.csrf, Some(&other.cookie)).await;
    assert!(refused(&swapped), "another request's token does not fit");

    let foreign = idp
        .http
        .post(idp.url("/authorize"))
        .header("origin", "https://evil.example")
        .header("cookie", &page.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            serde_urlencoded::to_string([
                ("request", &page.request),
                ("csrf", &page.csrf),
                ("person", &ANNA.to_owned()),
            ])
            .expect("form"),
        )
        .send()
        .await
        .expect("post");
    assert_eq!(foreign.status(), 403, "a form posted from another site");

    let nobody = idp.choose(&page, "demo:nobody", &page.csrf, None).await;
    assert_eq!(nobody.status(), 400, "an unknown person shows the page again");
    assert!(nobody.text().await.expect("html").contains("Kies eerst een persoon"));

    assert_eq!(idp.choose(&page, ANNA, &page.csrf, None).await.status(), 303, "the right token and cookie pass");
    assert!(refused(&idp.choose(&page, ANNA, &page.csrf, None).await), "the same page cannot be answered twice");
}

#[tokio::test]
async fn the_page_expires() {
    let idp = TestIdp::spawn().await;
    let page = idp.open_page(&[]).await;
    idp.let_pass(std::time::Duration::from_secs(601));
    assert_eq!(idp.choose(&page, ANNA, &page.csrf, None).await.status(), 400);
}

#[tokio::test]
async fn cancelling_returns_access_denied_with_the_state() {
    let idp = TestIdp::spawn().await;
    let page = idp.open_page(&[]).await;
    let form = [("request", page.request.as_str()), ("csrf", page.csrf.as_str()), ("action", "cancel")];
    let response = idp
        .http
        .post(idp.url("/authorize"))
        .header("cookie", &page.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(form).expect("form"))
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), 303);
    let params = query_of(&location(&response));
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["state"], "state-123");
}

#[tokio::test]
async fn cors_answers_the_dashboard_origin_only() {
    let idp = TestIdp::spawn().await;
    for path in ["/.well-known/openid-configuration", "/.well-known/jwks.json"] {
        let ok = idp.http.get(idp.url(path)).header("origin", DASHBOARD_ORIGIN).send().await.expect("get");
        assert_eq!(ok.headers()["access-control-allow-origin"], DASHBOARD_ORIGIN, "{path}");
        let other = idp.http.get(idp.url(path)).header("origin", "https://evil.example").send().await.expect("get");
        assert!(other.headers().get("access-control-allow-origin").is_none(), "{path}");
    }
    let preflight = |origin: &'static str| {
        idp.http
            .request(reqwest::Method::OPTIONS, idp.url("/token"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let ok = preflight("http://localhost:4000").await.expect("preflight");
    assert_eq!(ok.status(), 204);
    assert_eq!(ok.headers()["access-control-allow-origin"], "http://localhost:4000");
    assert!(ok.headers()["access-control-allow-methods"].to_str().expect("ascii").contains("POST"));
    let refused = preflight("https://evil.example").await.expect("preflight");
    assert_eq!(refused.status(), 403);
    assert!(refused.headers().get("access-control-allow-origin").is_none());

    // The code exchange itself, as the browser sends it.
    let params = idp.code_for_anna().await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", params["code"].as_str()),
        ("redirect_uri", CALLBACK),
        ("code_verifier", VERIFIER),
        ("client_id", DASHBOARD),
    ];
    let response = idp
        .http
        .post(idp.url("/token"))
        .header("origin", DASHBOARD_ORIGIN)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(form).expect("form"))
        .send()
        .await
        .expect("token");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["access-control-allow-origin"], DASHBOARD_ORIGIN);
    assert_eq!(response.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn sign_out_returns_only_to_a_registered_uri() {
    let idp = TestIdp::spawn().await;
    let params = idp.code_for_anna().await;
    let (_, body) = idp.exchange(&params["code"], VERIFIER).await;
    let id_token = body["id_token"].as_str().expect("id token").to_owned();
    let end = |query: Vec<(&str, &str)>| {
        let query = serde_urlencoded::to_string(query).expect("query");
        idp.http.get(idp.url(&format!("/end-session?{query}"))).send()
    };

    let by_hint = end(vec![
        ("id_token_hint", &id_token),
        ("post_logout_redirect_uri", "http://127.0.0.1:4000/"),
        ("state", "bye"),
    ])
    .await
    .expect("end session");
    assert_eq!(by_hint.status(), 303);
    assert_eq!(location(&by_hint), "http://127.0.0.1:4000/?state=bye");

    let by_client = end(vec![("client_id", DASHBOARD), ("post_logout_redirect_uri", "http://localhost:4000/")])
        .await
        .expect("end session");
    assert_eq!(location(&by_client), "http://localhost:4000/");

    for query in [
        vec![("client_id", DASHBOARD), ("post_logout_redirect_uri", "https://evil.example/")],
        vec![("post_logout_redirect_uri", "http://127.0.0.1:4000/")],
        vec![("id_token_hint", "not-a-token"), ("post_logout_redirect_uri", "http://127.0.0.1:4000/")],
        vec![
            ("id_token_hint", &id_token),
            ("client_id", "demo-9001"),
            ("post_logout_redirect_uri", "http://127.0.0.1:4000/"),
        ],
    ] {
        let refused = end(query.clone()).await.expect("end session");
        assert_eq!(refused.status(), 400, "{query:?}");
        assert!(refused.headers().get("location").is_none(), "{query:?}");
    }

    // An expired ID token still identifies the client at sign-out.
    let expired = idp.key.signer_as(&idp.base).sign_claims(&serde_json::json!({
        "iss": idp.base, "sub": ANNA, "aud": DASHBOARD, "iat": 1_000, "exp": 4_600,
    }));
    let late = end(vec![("id_token_hint", &expired), ("post_logout_redirect_uri", "http://127.0.0.1:4000/")])
        .await
        .expect("end session");
    assert_eq!(location(&late), "http://127.0.0.1:4000/");
    let plain = end(vec![("id_token_hint", &id_token)]).await.expect("end session");
    assert_eq!(plain.status(), 200);
    assert!(plain.text().await.expect("html").contains("U bent uitgelogd"));
}
