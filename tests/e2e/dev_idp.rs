//! `ggzhub dev`'s development identity provider: discovery on its issuer, the dashboard registered
//! on the gateway's origin, and client credentials for the demo clients of `demo-clients.json`.

use serde_json::Value;

use crate::support::DevHub;

#[tokio::test]
async fn dev_hub_serves_an_openid_provider_with_the_demo_clients() {
    let hub = DevHub::start();
    let path = hub.data_dir.join("demo-clients.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).expect("demo-clients.json is written").permissions().mode();
        assert_eq!(mode & 0o077, 0, "the secrets are readable by their owner only");
    }
    let clients: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("readable")).expect("demo-clients.json is JSON");
    let issuer = clients["issuer"].as_str().expect("issuer").to_owned();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");

    let discovery: Value = http
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await
        .expect("discovery")
        .json()
        .await
        .expect("json");
    assert_eq!(discovery["issuer"], issuer.as_str());
    assert_eq!(discovery["code_challenge_methods_supported"], serde_json::json!(["S256"]));

    // The dashboard is registered on the gateway's own origin.
    let origin = hub.gateway_url.trim_end_matches("/graphql");
    let authorize = format!(
        "{issuer}/authorize?response_type=code&client_id=ggzhub-dashboard&scope=openid&state=s\
         &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&redirect_uri={origin}/auth/callback"
    );
    assert_eq!(http.get(&authorize).send().await.expect("authorize").status(), 200);

    let machine = clients["clients"]
        .as_array()
        .expect("clients")
        .iter()
        .find(|c| c["client_secret"].is_string())
        .expect("a confidential demo client");
    let id = machine["client_id"].as_str().expect("id");
    let secret = machine["client_secret"].as_str().expect("secret");
    let token: Value = http
        .post(format!("{issuer}/token"))
        .basic_auth(id, Some(secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let access = token["access_token"].as_str().expect("an access token for the demo client");
    use base64::Engine as _;
    let payload = access.split('.').nth(1).expect("a JWT");
    let claims: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("base64url"))
            .expect("claims");
    assert_eq!(claims["iss"], issuer.as_str());
    assert_eq!(claims["aud"], "gateway");
    assert_eq!(claims["sub"], id);
    assert_eq!(claims["org_identifier"], machine["org_identifier"]);

    // The partner system calls the hub with it: the gateway resolves the identifier through the
    // register and answers `me` with the register's organisation and the client as the person.
    let me: Value = http
        .post(&hub.gateway_url)
        .bearer_auth(access)
        .json(&serde_json::json!({ "query": "{ me { organisation { name } person kind regions } }" }))
        .send()
        .await
        .expect("graphql")
        .json()
        .await
        .expect("json");
    assert_eq!(me.get("errors"), None, "{me:#}");
    assert_eq!(me["data"]["me"]["person"], id, "{me:#}");
    assert_eq!(me["data"]["me"]["organisation"]["name"], machine["organisation"], "{me:#}");
    // A token the provider did not sign is refused.
    let forged = format!("{}.{}.{}", access.split('.').next().unwrap_or(""), payload, "AAAA");
    let refused = http
        .post(&hub.gateway_url)
        .bearer_auth(forged)
        .json(&serde_json::json!({ "query": "{ me { person } }" }))
        .send()
        .await
        .expect("graphql");
    assert_eq!(refused.status(), 401);
    let status = hub.stop();
    assert!(status.success(), "ggzhub dev exits cleanly on SIGTERM: {status}");
}
