//! Organisation tokens from OIDC identity providers: JWKS from a URL (discovered or given, with
//! rotation and refresh on an unknown `kid`) or a file, algorithm from the key, issuer, audience
//! and time checks, and which claims name the organisation (by identifier), its scheme, the
//! person and the scopes. What the register makes of them: the root package's `tests/e2e/register.rs`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::get;
use base64::Engine as _;
use ggzhub_gateway::auth::oidc::{Authenticator, IssuerConfig, TokenRefusal};
use ggzhub_kit::SigningKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

/// The organisation's URA in the tokens.
const ORG: &str = "12345678";

fn claims(iss: &str, aud: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "iss": iss, "aud": aud, "sub": "alice", "exp": now + 300, "iat": now, "jti": "j1",
        "org_identifier_scheme": "URA", "org_identifier": ORG, "scope": "picture:read contracts:read",
        // Claims a token may carry but the gateway never believes: the register says who it is.
        "org": "5b0e8f2c-1d3a-4c5e-9f70-2a4b6c8d0e1f", "org_kind": "HUB_OPERATOR", "roles": ["chair:utrecht"]
    })
}

fn sign(key: &SigningKey, claims: &Value) -> String {
    key.signer().sign_claims(claims)
}

fn issuer(issuer: &str) -> IssuerConfig {
    IssuerConfig::new(issuer, &["gateway"])
}

/// A mock identity provider: serves whatever JWKS is current and counts the fetches.
struct Idp {
    base: String,
    jwks: Arc<Mutex<Value>>,
    fetches: Arc<AtomicUsize>,
}

async fn idp(jwks: Value) -> Idp {
    let current = Arc::new(Mutex::new(jwks));
    let fetches = Arc::new(AtomicUsize::new(0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (served, counted, issuer) = (current.clone(), fetches.clone(), base.clone());
    let app = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(move || {
                let issuer = issuer.clone();
                async move { axum::Json(json!({ "issuer": issuer, "jwks_uri": format!("{issuer}/keys") })) }
            }),
        )
        .route(
            "/keys",
            get(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                let jwks = served.lock().expect("lock").clone();
                async move { axum::Json(jwks) }
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await });
    Idp { base, jwks: current, fetches }
}

#[tokio::test]
async fn discovered_jwks_url_is_used_and_a_rotated_key_is_fetched_once() {
    let first = SigningKey::generate();
    let provider = idp(first.jwks()).await;
    let auth = Authenticator::new(vec![issuer(&provider.base)], 30).await.expect("starts");
    assert_eq!(provider.fetches.load(Ordering::SeqCst), 1, "keys loaded at start through discovery");

    let claims_ok = claims(&provider.base, "gateway");
    let caller = auth.verify(&sign(&first, &claims_ok)).await.expect("valid token");
    assert_eq!((caller.scheme.as_str(), caller.identifier.as_str()), ("URA", ORG));
    assert_eq!(caller.subject, "alice");
    assert_eq!(caller.issuer, provider.base);
    assert_eq!(caller.scopes, vec!["picture:read".to_owned(), "contracts:read".to_owned()]);

    // The provider rotates its key: the unknown kid triggers one refresh.
    let second = SigningKey::generate();
    *provider.jwks.lock().expect("lock") = second.jwks();
    auth.verify(&sign(&second, &claims_ok)).await.expect("the rotated key is fetched");
    assert_eq!(provider.fetches.load(Ordering::SeqCst), 2);

    // A token naming yet another key is refused, and does not make the gateway hammer the
    // provider: refreshes on unknown keys are rate limited.
    let stranger = SigningKey::generate();
    for _ in 0..5 {
        assert_eq!(auth.verify(&sign(&stranger, &claims_ok)).await, Err(TokenRefusal::UnknownKey));
    }
    assert_eq!(provider.fetches.load(Ordering::SeqCst), 2);
    // The old key is gone with the rotation: its token, verified and cached above, is refused.
    assert_eq!(auth.verify(&sign(&first, &claims_ok)).await, Err(TokenRefusal::UnknownKey));
}

#[tokio::test]
async fn an_unreachable_provider_fails_closed() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead = format!("http://{}/keys", listener.local_addr().expect("addr"));
    drop(listener);
    let mut config = issuer("https://idp.example");
    config.jwks_url = Some(dead);
    let auth = Authenticator::new(vec![config], 30).await.expect("starts; the provider may come up later");
    let key = SigningKey::generate();
    let token = sign(&key, &claims("https://idp.example", "gateway"));
    assert_eq!(auth.verify(&token).await, Err(TokenRefusal::KeysUnavailable));
}

#[tokio::test]
async fn a_jwks_file_is_a_source_and_must_exist() {
    let key = SigningKey::generate();
    let dir = std::env::temp_dir().join(format!("ggzhub-jwks-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("jwks.json");
    std::fs::write(&path, key.jwks().to_string()).expect("write");
    let mut config = issuer("https://idp.example");
    config.jwks_file = Some(path.clone());
    let auth = Authenticator::new(vec![config.clone()], 30).await.expect("starts");
    auth.verify(&sign(&key, &claims("https://idp.example", "gateway"))).await.expect("valid");

    config.jwks_file = Some(dir.join("missing.json"));
    let error = Authenticator::new(vec![config], 30).await.expect_err("a missing file is a configuration error");
    assert!(error.to_string().contains("missing.json"), "{error}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A token is verified once and then taken from the cache of verified tokens (issue 18), but
/// only while it has not expired and its key is still the issuer's: the rotation above refuses a
/// cached token of the withdrawn key; here a cached token that expires is refused.
#[tokio::test]
async fn a_verified_token_is_refused_once_it_expires() {
    let key = SigningKey::generate();
    let auth = Authenticator::with_keys("https://idp.example", &["gateway"], &key.jwks(), 0).expect("keys");
    let exp = chrono::Utc::now().timestamp() + 1;
    let mut body = claims("https://idp.example", "gateway");
    body["exp"] = json!(exp);
    let token = sign(&key, &body);
    for _ in 0..3 {
        let caller = auth.verify(&token).await.expect("valid until it expires");
        assert_eq!((caller.identifier.as_str(), caller.exp), (ORG, exp));
    }
    while chrono::Utc::now().timestamp() <= exp {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    for _ in 0..2 {
        assert_eq!(auth.verify(&token).await.map(|_| ()), Err(TokenRefusal::Expired));
    }
}

fn b64(value: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}

#[tokio::test]
async fn the_algorithm_comes_from_the_key_never_from_the_header() {
    let key = SigningKey::generate();
    let jwks = key.jwks();
    let kid = jwks["keys"][0]["kid"].as_str().expect("kid").to_owned();
    let auth = Authenticator::with_keys("https://idp.example", &["gateway"], &jwks, 30).expect("keys");
    let body = claims("https://idp.example", "gateway");

    // alg: none, with and without a kid.
    for header in [json!({ "alg": "none", "typ": "JWT" }), json!({ "alg": "none", "kid": kid })] {
        let token = format!("{}.{}.", b64(&header), b64(&body));
        assert!(auth.verify(&token).await.is_err(), "alg none refused: {header}");
    }
    // HS256 "signed" with the public key (raw bytes, and the JWKS text) as the shared secret.
    let public_raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(jwks["keys"][0]["x"].as_str().expect("x"))
        .expect("raw key");
    for secret in [public_raw, jwks.to_string().into_bytes()] {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(kid.clone());
        let token = jsonwebtoken::encode(&header, &body, &EncodingKey::from_secret(&secret)).expect("signs");
        assert_eq!(auth.verify(&token).await, Err(TokenRefusal::WrongAlgorithm));
    }
    // An EC key claiming the Ed25519 key's kid.
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let ec = aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &rng,
    )
    .expect("EC key");
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.clone());
    let token = jsonwebtoken::encode(&header, &body, &EncodingKey::from_ec_der(ec.as_ref())).expect("signs");
    assert_eq!(auth.verify(&token).await, Err(TokenRefusal::WrongAlgorithm));
    // A right-algorithm token with a tampered payload.
    let good = sign(&key, &body);
    let mut parts: Vec<&str> = good.split('.').collect();
    let mut tampered = body.clone();
    tampered["org_identifier"] = json!("87654321");
    let tampered = b64(&tampered);
    parts[1] = &tampered;
    assert_eq!(auth.verify(&parts.join(".")).await, Err(TokenRefusal::BadSignature));
    // Garbage.
    assert_eq!(auth.verify("not.a.token").await, Err(TokenRefusal::Malformed));
    assert_eq!(auth.verify(&"a".repeat(20_000)).await, Err(TokenRefusal::TooLarge));
}

#[tokio::test]
async fn ec_keys_from_a_jwks_verify_es256_tokens() {
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let ec = aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &rng,
    )
    .expect("EC key");
    let encoding = EncodingKey::from_ec_der(ec.as_ref());
    let mut jwk =
        serde_json::to_value(jsonwebtoken::jwk::Jwk::from_encoding_key(&encoding, Algorithm::ES256).expect("jwk"))
            .expect("json");
    jwk["kid"] = json!("ec-1");
    let auth =
        Authenticator::with_keys("https://idp.example", &["gateway"], &json!({ "keys": [jwk] }), 30).expect("keys");
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("ec-1".into());
    let token = jsonwebtoken::encode(&header, &claims("https://idp.example", "gateway"), &encoding).expect("signs");
    assert_eq!(auth.verify(&token).await.expect("valid").identifier, ORG);
}

#[tokio::test]
async fn issuer_audience_and_time_are_checked_with_a_small_leeway() {
    let key = SigningKey::generate();
    let auth = Authenticator::with_keys("https://idp.example", &["gateway"], &key.jwks(), 30).expect("keys");
    let now = chrono::Utc::now().timestamp();
    let with = |change: &dyn Fn(&mut Value)| {
        let mut body = claims("https://idp.example", "gateway");
        change(&mut body);
        sign(&key, &body)
    };
    let cases: Vec<(&str, String, Result<(), TokenRefusal>)> = vec![
        ("other issuer", with(&|c| c["iss"] = json!("https://evil.example")), Err(TokenRefusal::UnknownIssuer)),
        ("other audience", with(&|c| c["aud"] = json!("region")), Err(TokenRefusal::WrongAudience)),
        ("audience list", with(&|c| c["aud"] = json!(["x", "gateway"])), Ok(())),
        ("expired", with(&|c| c["exp"] = json!(now - 120)), Err(TokenRefusal::Expired)),
        ("expired within the leeway", with(&|c| c["exp"] = json!(now - 10)), Ok(())),
        ("not before in the future", with(&|c| c["nbf"] = json!(now + 120)), Err(TokenRefusal::NotYetValid)),
        ("not before within the leeway", with(&|c| c["nbf"] = json!(now + 10)), Ok(())),
        ("issued in the future", with(&|c| c["iat"] = json!(now + 3600)), Err(TokenRefusal::NotYetValid)),
        (
            "no expiry",
            with(&|c| {
                c.as_object_mut().expect("object").remove("exp");
            }),
            Err(TokenRefusal::MissingClaim("the exp claim".into())),
        ),
        (
            "no organisation identifier",
            with(&|c| {
                c.as_object_mut().expect("object").remove("org_identifier");
            }),
            Err(TokenRefusal::MissingClaim("the organisation identifier claim org_identifier".into())),
        ),
        (
            "no identifier scheme",
            with(&|c| {
                c.as_object_mut().expect("object").remove("org_identifier_scheme");
            }),
            Err(TokenRefusal::MissingClaim("the identifier scheme claim org_identifier_scheme".into())),
        ),
        (
            "unknown scheme",
            with(&|c| c["org_identifier_scheme"] = json!("BSN")),
            Err(TokenRefusal::BadClaim("identifier scheme is not one of URA, AGB, UZOVI, KVK, OIN".into())),
        ),
        (
            "no subject",
            with(&|c| {
                c.as_object_mut().expect("object").remove("sub");
            }),
            Err(TokenRefusal::MissingClaim("the subject claim sub".into())),
        ),
        ("a lower-case scheme", with(&|c| c["org_identifier_scheme"] = json!("ura")), Ok(())),
    ];
    for (label, token, expected) in cases {
        assert_eq!(auth.verify(&token).await.map(|_| ()), expected, "{label}");
    }
}

#[tokio::test]
async fn claims_are_read_from_keycloak_and_entra_shaped_client_credentials_tokens() {
    let key = SigningKey::generate();
    let jwks_path = std::env::temp_dir().join(format!("ggzhub-jwks-{}.json", uuid::Uuid::new_v4().simple()));
    std::fs::write(&jwks_path, key.jwks().to_string()).expect("write");
    // The README's two examples, as configuration.
    let keycloak = IssuerConfig {
        jwks_file: Some(jwks_path.clone()),
        organisation_claim: "ggz.ura".into(),
        identifier_scheme: Some("URA".into()),
        subject_claim: "azp".into(),
        ..IssuerConfig::new("https://sso.example.nl/realms/ggz", &["ggzhub"])
    };
    let entra = IssuerConfig {
        jwks_file: Some(jwks_path.clone()),
        organisation_claim: "kvk".into(),
        identifier_scheme: Some("KVK".into()),
        subject_claim: "azp".into(),
        scope_claim: "roles".into(),
        ..IssuerConfig::new(
            "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0",
            &["api://ggzhub"],
        )
    };
    let auth = Authenticator::new(vec![keycloak, entra], 30).await.expect("starts");
    let now = chrono::Utc::now().timestamp();
    let kc = sign(&key, &keycloak_client_credentials(now));
    let caller = auth.verify(&kc).await.expect("a Keycloak-shaped token is read");
    assert_eq!(caller.subject, "partner-planning");
    assert_eq!((caller.scheme.as_str(), caller.identifier.as_str()), ("URA", "90000017"));
    assert_eq!(caller.scopes, vec!["profile", "email", "picture:read"]);

    let ms = sign(&key, &entra_client_credentials(now));
    let caller = auth.verify(&ms).await.expect("an Entra-shaped token is read");
    assert_eq!(caller.subject, "6e0b5c7e-0000-4000-8000-00000000c11e");
    assert_eq!((caller.scheme.as_str(), caller.identifier.as_str()), ("KVK", "90000042"));
    assert_eq!(caller.scopes, vec!["picture:read"]);

    // The Keycloak token is not valid for the Entra issuer's audience.
    let mut swapped = keycloak_client_credentials(now);
    swapped["iss"] = json!("https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0");
    assert_eq!(auth.verify(&sign(&key, &swapped)).await, Err(TokenRefusal::WrongAudience));
    // Claims the provider does not configure are never read: an Entra token without `kvk` is
    // refused whatever else it says.
    let mut bare = entra_client_credentials(now);
    bare.as_object_mut().expect("object").remove("kvk");
    bare["org_identifier"] = json!("90000042");
    assert_eq!(
        auth.verify(&sign(&key, &bare)).await,
        Err(TokenRefusal::MissingClaim("the organisation identifier claim kvk".into()))
    );
    let _ = std::fs::remove_file(&jwks_path);
}

/// A Keycloak client-credentials token (README): the service account of client
/// `partner-planning`, the organisation's URA from a hardcoded-claim mapper as `ggz.ura`.
fn keycloak_client_credentials(now: i64) -> Value {
    json!({
        "exp": now + 300, "iat": now, "jti": "3f1c", "iss": "https://sso.example.nl/realms/ggz",
        "aud": ["account", "ggzhub"], "sub": "0d5b6f0e-5b1f-4d55-8b4e-0a4c57f1b2aa", "typ": "Bearer",
        "azp": "partner-planning", "scope": "profile email picture:read", "clientId": "partner-planning",
        "preferred_username": "service-account-partner-planning",
        "realm_access": { "roles": ["chair:utrecht", "default-roles-ggz"] },
        "ggz": { "ura": "90000017" }
    })
}

/// An Entra ID (v2) client-credentials token (README): app roles in `roles`, the client in
/// `azp`, the organisation's KvK number from a claims-mapping policy as `kvk`.
fn entra_client_credentials(now: i64) -> Value {
    json!({
        "aud": "api://ggzhub", "iss": "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0",
        "iat": now, "nbf": now, "exp": now + 300, "azp": "6e0b5c7e-0000-4000-8000-00000000c11e", "azpacr": "1",
        "oid": "a3c0ffee-0000-4000-8000-000000000001", "sub": "a3c0ffee-0000-4000-8000-000000000001",
        "tid": "11111111-2222-3333-4444-555555555555", "roles": ["picture:read"], "ver": "2.0",
        "kvk": "90000042"
    })
}

#[tokio::test]
async fn rsa_keys_from_a_jwks_verify_rs256_and_refuse_other_algorithms() {
    use aws_lc_rs::encoding::AsDer as _;
    let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).expect("RSA key");
    let der = pair.as_der().expect("PKCS#8");
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(der.as_ref())
    );
    let encoding = EncodingKey::from_rsa_pem(pem.as_bytes()).expect("PEM");
    let mut jwk =
        serde_json::to_value(jsonwebtoken::jwk::Jwk::from_encoding_key(&encoding, Algorithm::RS256).expect("jwk"))
            .expect("json");
    jwk["kid"] = json!("rsa-1");
    // Without `alg` in the JWK, an RSA key means RS256.
    jwk.as_object_mut().expect("object").remove("alg");
    let auth =
        Authenticator::with_keys("https://idp.example", &["gateway"], &json!({ "keys": [jwk] }), 30).expect("keys");
    let body = claims("https://idp.example", "gateway");
    let sign_with = |alg: Algorithm| {
        let mut header = Header::new(alg);
        header.kid = Some("rsa-1".into());
        jsonwebtoken::encode(&header, &body, &encoding).expect("signs")
    };
    assert_eq!(auth.verify(&sign_with(Algorithm::RS256)).await.expect("valid").identifier, ORG);
    for other in [Algorithm::RS512, Algorithm::PS256] {
        assert_eq!(auth.verify(&sign_with(other)).await, Err(TokenRefusal::WrongAlgorithm), "{other:?}");
    }
}
