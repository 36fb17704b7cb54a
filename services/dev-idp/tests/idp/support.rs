//! A provider on a random port with a movable clock, and the steps of a browser and a client.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use ggzhub_dev_idp::{Account, Client, DevIdp, ManualClock, Person, Settings, demo_clients};
use ggzhub_kit::SigningKey;

pub const DASHBOARD: &str = "ggzhub-dashboard";
pub const CALLBACK: &str = "http://127.0.0.1:4000/auth/callback";
pub const DASHBOARD_ORIGIN: &str = "http://127.0.0.1:4000";
pub const ANNA: &str = "demo:90000001:1";
pub const VERIFIER: &str = "a-verifier-of-enough-length-0123456789-abcdefghij";

pub fn accounts() -> Vec<Account> {
    vec![
        Account {
            organisation: "GGZ Voorbeeldstad".into(),
            kind: "PROVIDER".into(),
            scheme: "URA".into(),
            identifier: "90000001".into(),
            persons: vec![
                Person { subject: ANNA.into(), name: "Anna de Vries".into() },
                Person { subject: "demo:90000001:2".into(), name: "Bram <Jansen>".into() },
            ],
        },
        Account {
            organisation: "Zorgverzekeraar Voorbeeld".into(),
            kind: "INSURER".into(),
            scheme: "UZOVI".into(),
            identifier: "9001".into(),
            persons: vec![Person { subject: "demo:9001:1".into(), name: "Chris Bakker".into() }],
        },
    ]
}

pub struct TestIdp {
    pub base: String,
    pub http: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub key: SigningKey,
    pub clients: Vec<Client>,
}

impl TestIdp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// A provider whose settings `tune` may change (the issuer is set to its address).
    pub async fn spawn_with(tune: impl FnOnce(&mut Settings)) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let clock = Arc::new(ManualClock::new());
        let mut settings = Settings::new(&base);
        settings.clock = clock.clone();
        tune(&mut settings);
        let key = SigningKey::generate();
        let origins = vec![DASHBOARD_ORIGIN.to_owned(), "http://localhost:4000".to_owned()];
        let clients = demo_clients(&accounts(), &origins);
        let idp = DevIdp::new(settings, &key, accounts(), clients.clone()).expect("valid configuration");
        tokio::spawn(async move { axum::serve(listener, idp.router()).await });
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        Self { base, http, clock, key, clients }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The secret of the confidential client `id`.
    pub fn secret(&self, id: &str) -> String {
        self.clients.iter().find(|c| c.id == id).and_then(|c| c.secret.clone()).expect("confidential client")
    }

    /// `GET /authorize` with the dashboard's usual parameters, `change` applied (a `None` value
    /// removes the parameter).
    pub async fn authorize(&self, change: &[(&str, Option<&str>)]) -> reqwest::Response {
        let challenge = s256(VERIFIER);
        let mut params: Vec<(String, String)> = [
            ("response_type", "code"),
            ("client_id", DASHBOARD),
            ("redirect_uri", CALLBACK),
            ("scope", "openid profile"),
            ("state", "state-123"),
            ("nonce", "nonce-456"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        for (name, value) in change {
            params.retain(|(k, _)| k != name);
            if let Some(value) = value {
                params.push(((*name).to_owned(), (*value).to_owned()));
            }
        }
        let query = serde_urlencoded::to_string(&params).expect("encodes");
        self.http.get(self.url(&format!("/authorize?{query}"))).send().await.expect("authorize request")
    }

    /// Opens the sign-in page and returns what its form needs.
    pub async fn open_page(&self, change: &[(&str, Option<&str>)]) -> Page {
        let response = self.authorize(change).await;
        assert_eq!(response.status(), 200, "the sign-in page opens");
        let cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .expect("a CSRF cookie")
            .to_owned();
        let html = response.text().await.expect("html");
        Page { request: hidden(&html, "request"), csrf: hidden(&html, "csrf"), cookie }
    }

    /// Posts the page's form choosing `person`; `cookie` overrides the page's cookie.
    pub async fn choose(&self, page: &Page, person: &str, csrf: &str, cookie: Option<&str>) -> reqwest::Response {
        let form = [("request", page.request.as_str()), ("csrf", csrf), ("person", person), ("action", "sign_in")];
        self.http
            .post(self.url("/authorize"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", cookie.unwrap_or(&page.cookie))
            .body(serde_urlencoded::to_string(form).expect("encodes"))
            .send()
            .await
            .expect("consent request")
    }

    /// Signs Anna in through the page and returns the redirect's query parameters.
    pub async fn code_for_anna(&self) -> HashMap<String, String> {
        let page = self.open_page(&[]).await;
        let response = self.choose(&page, ANNA, &page.csrf, None).await;
        assert_eq!(response.status(), 303);
        let location = location(&response);
        assert!(location.starts_with(&format!("{CALLBACK}?")), "back to the registered callback: {location}");
        query_of(&location)
    }

    /// `POST /token` with `form`, optionally with Basic credentials.
    pub async fn token(&self, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> (u16, serde_json::Value) {
        let mut request = self
            .http
            .post(self.url("/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(form).expect("encodes"));
        if let Some((id, secret)) = basic {
            let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
            request = request.header("authorization", format!("Basic {encoded}"));
        }
        let response = request.send().await.expect("token request");
        let status = response.status().as_u16();
        (status, response.json().await.expect("token endpoints answer JSON"))
    }

    /// Exchanges `code` as the dashboard would.
    pub async fn exchange(&self, code: &str, verifier: &str) -> (u16, serde_json::Value) {
        self.token(
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", CALLBACK),
                ("code_verifier", verifier),
                ("client_id", DASHBOARD),
            ],
            None,
        )
        .await
    }

    /// Verifies `token`'s signature against the provider's published JWKS, its issuer and
    /// audience, and returns its claims.
    pub async fn verify(&self, token: &str, audience: &str) -> serde_json::Value {
        let jwks: jsonwebtoken::jwk::JwkSet =
            self.http.get(self.url("/.well-known/jwks.json")).send().await.expect("jwks").json().await.expect("json");
        let header = jsonwebtoken::decode_header(token).expect("a JWT");
        assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
        let kid = header.kid.expect("a kid");
        let jwk = jwks.find(&kid).expect("the kid is published");
        let key = jsonwebtoken::DecodingKey::from_jwk(jwk).expect("an Ed25519 key");
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
        validation.set_audience(&[audience]);
        validation.set_issuer(&[&self.base]);
        jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation).expect("signature and claims verify").claims
    }

    pub fn let_pass(&self, by: Duration) {
        self.clock.advance(by);
    }
}

/// The sign-in page as a browser holds it.
pub struct Page {
    pub request: String,
    pub csrf: String,
    pub cookie: String,
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).expect("hidden field") + marker.len();
    html[start..].split('"').next().expect("value").to_owned()
}

pub fn s256(verifier: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
}

pub fn location(response: &reqwest::Response) -> String {
    response.headers().get("location").and_then(|v| v.to_str().ok()).expect("a Location header").to_owned()
}

pub fn query_of(uri: &str) -> HashMap<String, String> {
    url::Url::parse(uri).expect("absolute").query_pairs().into_owned().collect()
}
