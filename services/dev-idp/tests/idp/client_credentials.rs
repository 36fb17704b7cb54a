//! Client credentials for confidential (machine) clients.

use crate::support::*;

/// A form field, or Basic credentials (id, secret).
type Pair<'a> = (&'a str, &'a str);

#[tokio::test]
async fn a_confidential_client_gets_a_token_for_its_organisation_with_basic_or_post() {
    let idp = TestIdp::spawn().await;
    let secret = idp.secret("demo-9001");
    let (status, body) = idp
        .token(&[("grant_type", "client_credentials"), ("scope", "picture:read")], Some(("demo-9001", &secret)))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert!(body.get("id_token").is_none() && body.get("refresh_token").is_none());
    let claims = idp.verify(body["access_token"].as_str().expect("token"), "gateway").await;
    assert_eq!(claims["sub"], "demo-9001", "the client itself is the subject");
    assert_eq!(claims["client_id"], "demo-9001");
    assert_eq!(claims["org_identifier_scheme"], "UZOVI");
    assert_eq!(claims["org_identifier"], "9001");
    assert_eq!(claims["scope"], "picture:read");
    assert!(claims.get("name").is_none());

    let (status, body) = idp
        .token(
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "demo-90000001"),
                ("client_secret", &idp.secret("demo-90000001")),
            ],
            None,
        )
        .await;
    assert_eq!(status, 200, "client_secret_post: {body}");
    let claims = idp.verify(body["access_token"].as_str().expect("token"), "gateway").await;
    assert_eq!(claims["org_identifier"], "90000001");
    assert_eq!(claims["scope"], "");
}

#[tokio::test]
async fn a_wrong_secret_or_unknown_client_is_invalid_client() {
    let idp = TestIdp::spawn().await;
    let cases: [(&[Pair<'_>], Option<Pair<'_>>); 5] = [
        (&[("grant_type", "client_credentials")], Some(("demo-9001", "wrong"))),
        (&[("grant_type", "client_credentials"), ("client_id", "demo-9001"), ("client_secret", "wrong")], None),
        (&[("grant_type", "client_credentials"), ("client_id", "demo-9001")], None),
        (&[("grant_type", "client_credentials")], Some(("nobody", "secret"))),
        (&[("grant_type", "client_credentials")], None),
    ];
    for (form, basic) in cases {
        let (status, body) = idp.token(form, basic).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{form:?}: {body}");
    }
    // Another client's secret does not open this one.
    let (status, _) =
        idp.token(&[("grant_type", "client_credentials")], Some(("demo-9001", &idp.secret("demo-90000001")))).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn the_public_dashboard_client_may_not_use_client_credentials() {
    let idp = TestIdp::spawn().await;
    let (status, body) = idp.token(&[("grant_type", "client_credentials"), ("client_id", DASHBOARD)], None).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("unauthorized_client")), "{body}");
}

#[tokio::test]
async fn unknown_grants_scopes_and_mixed_authentication_are_refused() {
    let idp = TestIdp::spawn().await;
    let secret = idp.secret("demo-9001");
    let basic = Some(("demo-9001", secret.as_str()));
    let (status, body) = idp.token(&[("grant_type", "password")], basic).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("unsupported_grant_type")));
    let (status, body) = idp.token(&[("grant_type", "refresh_token"), ("refresh_token", "x")], basic).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("unsupported_grant_type")), "no refresh tokens");
    let (status, body) = idp.token(&[("grant_type", "client_credentials"), ("scope", "everything")], basic).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")));
    let (status, body) =
        idp.token(&[("grant_type", "client_credentials"), ("client_secret", secret.as_str())], basic).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "two methods at once");
}
