//! The gateway resolves, never trusts (issue 15): a real region subgraph (SQLite, or PostgreSQL
//! with `DATABASE_URL`) holds the register, a gateway trusts three identity providers with three
//! claim layouts, and every caller is asked `me` through the gateway.
//!
//! Fixture (demo organisations; the bindings are added here, on top of the demo's to the
//! development issuer):
//! - issuer A (the development provider's layout: scheme in a claim) speaks for GGZ Kromme Rijn
//!   and Stichting Eemland Psychiatrie by URA;
//! - issuer B (Keycloak-shaped, fixed scheme UZOVI in `ggz.uzovi`) speaks for Zorgverzekeraar Polder;
//! - issuer C (Entra-shaped, fixed scheme KVK in `kvk`, scopes in `roles`) speaks for
//!   Cliëntenplatform Stemkracht Midden and Stichting Eemland Psychiatrie.

use std::sync::Arc;
use std::time::Duration;

use ggzhub_gateway::auth::identity::Identity;
use ggzhub_gateway::auth::oidc::{Authenticator, IssuerConfig};
use ggzhub_gateway::auth::register::Register;
use ggzhub_gateway::engine::{EngineOptions, Gateway};
use ggzhub_gateway::http::HttpOptions;
use ggzhub_gateway::supergraph::compose::{SubgraphSdl, compose};
use ggzhub_kit::server::HttpLimits;
use ggzhub_kit::testing::TestDb;
use ggzhub_kit::token::{TokenRequest, scopes};
use ggzhub_kit::{OrgKind, SigningKey};
use sea_orm_migration::MigratorTrait as _;
use serde_json::{Value, json};

use crate::support::{BEHEER, EEMLAND, KROMME_RIJN, POLDER, STEMKRACHT, serve};

const A: &str = "https://idp-a.example";
const B: &str = "https://sso.partner-b.example/realms/zorg";
const C: &str = "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0";

/// An organisation's identifiers: (scheme, value).
type Identifiers = &'static [(&'static str, &'static str)];

/// The fixture's organisations: id, kind, and their demo identifiers (scheme → value).
const ORGS: [(&str, &str, Identifiers); 4] = [
    (KROMME_RIJN, "PROVIDER", &[("URA", "15881399"), ("KVK", "73091141")]),
    (EEMLAND, "PROVIDER", &[("URA", "75364556"), ("KVK", "44729405")]),
    (POLDER, "INSURER", &[("UZOVI", "9001"), ("KVK", "28290920")]),
    (STEMKRACHT, "PATIENT_ORGANISATION", &[("KVK", "85098680")]),
];

const ME: &str = "{ me { organisation { id } person kind regions roles scopes } }";

struct Hub {
    _db: TestDb,
    region_url: String,
    gateway_url: String,
    internal: SigningKey,
    keys: [SigningKey; 3],
    http: reqwest::Client,
}

fn issuers(keys: &[SigningKey; 3]) -> Vec<(IssuerConfig, Value)> {
    let a = IssuerConfig::new(A, &["gateway"]);
    let b = IssuerConfig {
        organisation_claim: "ggz.uzovi".into(),
        identifier_scheme: Some("UZOVI".into()),
        subject_claim: "azp".into(),
        ..IssuerConfig::new(B, &["ggzhub"])
    };
    let c = IssuerConfig {
        organisation_claim: "kvk".into(),
        identifier_scheme: Some("KVK".into()),
        subject_claim: "azp".into(),
        scope_claim: "roles".into(),
        ..IssuerConfig::new(C, &["api://ggzhub"])
    };
    vec![(a, keys[0].jwks()), (b, keys[1].jwks()), (c, keys[2].jwks())]
}

impl Hub {
    /// The region subgraph with the demo data and the fixture's bindings, and a gateway whose
    /// register answers are used for `ttl` (`register_url` replaces the region subgraph's URL
    /// for the register, e.g. with one where nothing listens).
    async fn start(ttl: Duration, register_url: Option<String>) -> Self {
        let db = TestDb::new().await;
        ggzhub_region::migration::Migrator::up(&db.db, None).await.expect("migrations");
        ggzhub_region::seed::seed(&db.db, &ggzhub_region::seed::Source::Demo).await.expect("demo data");
        let internal = SigningKey::generate();
        let region_url = serve(ggzhub_region::app::router(
            db.db.clone(),
            Arc::new(internal.verifier(ggzhub_region::AUDIENCE)),
            HttpLimits::default(),
        ))
        .await;
        let supergraph = compose(&[SubgraphSdl {
            name: ggzhub_region::AUDIENCE.to_owned(),
            url: region_url.clone(),
            sdl: ggzhub_region::graphql::sdl(),
        }])
        .expect("composes");
        let gateway = Gateway::new(EngineOptions::default());
        gateway.load_supergraph(&supergraph).expect("loads");
        let keys = [SigningKey::generate(), SigningKey::generate(), SigningKey::generate()];
        let authenticator = Authenticator::with_issuer_keys(issuers(&keys), 30).expect("keys load");
        let register = Register::subgraph(
            register_url.unwrap_or_else(|| region_url.clone()),
            ggzhub_region::AUDIENCE,
            internal.signer(),
            ttl,
            reqwest::Client::new(),
        )
        .expect("register");
        let identity = Identity {
            verifier: Some(Arc::new(authenticator)),
            register: Some(Arc::new(register)),
            signer: Some(internal.signer()),
            allow_anonymous: false,
        };
        let gateway_url = serve(ggzhub_gateway::http::server::app(
            Arc::new(gateway),
            Arc::new(identity),
            HttpOptions { graphiql: false, csrf_prevention: true, ..Default::default() },
            HttpLimits::default(),
        ))
        .await;
        let hub = Self { _db: db, region_url, gateway_url, internal, keys, http: reqwest::Client::new() };
        for (org, issuer, scheme) in [
            (KROMME_RIJN, A, "URA"),
            (EEMLAND, A, "URA"),
            (POLDER, B, "UZOVI"),
            (STEMKRACHT, C, "KVK"),
            (EEMLAND, C, "KVK"),
        ] {
            hub.operator(BIND, json!({ "org": org, "issuer": issuer, "scheme": scheme })).await;
        }
        hub
    }

    /// A mutation on the region subgraph as the hub operator (an internal token, as the gateway
    /// would send); panics on errors.
    async fn operator(&self, query: &str, variables: Value) -> Value {
        let token = self.internal.signer().sign(&TokenRequest {
            subject: "beheerder".into(),
            audience: vec![ggzhub_region::AUDIENCE.into()],
            org: BEHEER.parse().expect("uuid"),
            org_kind: OrgKind::HubOperator,
            regions: vec![],
            roles: vec![],
            scopes: vec![scopes::PICTURE_READ.into(), scopes::ADMIN.into()],
            ttl: Duration::from_secs(60),
        });
        let body = self.post(&self.region_url, &token, query, variables).await.1;
        assert!(body.get("errors").is_none(), "{body:#}");
        body
    }

    async fn post(&self, url: &str, token: &str, query: &str, variables: Value) -> (u16, Value) {
        let response = self
            .http
            .post(url)
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("answers");
        (response.status().as_u16(), response.json().await.expect("JSON"))
    }

    /// `me` through the gateway with `token`.
    async fn me(&self, token: &str) -> (u16, Value) {
        self.post(&self.gateway_url, token, ME, json!({})).await
    }

    /// A token of issuer `i` (0, 1, 2 = A, B, C) in its claim layout naming the organisation by
    /// `value` (of `scheme`, which only A's layout carries), with `extra` claims.
    fn token(&self, i: usize, scheme: &str, value: &str, extra: Value) -> String {
        let now = i64::try_from(
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs(),
        )
        .expect("fits");
        let mut claims = match i {
            0 => json!({ "iss": A, "aud": "gateway", "sub": "demo:person:1", "scope": "",
                         "org_identifier_scheme": scheme, "org_identifier": value }),
            1 => json!({ "iss": B, "aud": ["account", "ggzhub"], "sub": "0d5b6f0e", "azp": "planning-systeem",
                         "scope": "profile email", "ggz": { "uzovi": value } }),
            _ => json!({ "iss": C, "aud": "api://ggzhub", "sub": "a3c0ffee", "azp": "6e0b5c7e-app",
                         "tid": "11111111-2222-3333-4444-555555555555", "kvk": value }),
        };
        claims["iat"] = json!(now);
        claims["exp"] = json!(now + 300);
        claims["jti"] = json!(uuid::Uuid::new_v4().to_string());
        for (k, v) in extra.as_object().into_iter().flatten() {
            claims[k] = v.clone();
        }
        let issuer = [A, B, C][i];
        self.keys[i].signer_as(issuer).sign_claims(&claims)
    }
}

const BIND: &str = "mutation($org: ID!, $issuer: String!, $scheme: Scheme!) { bindIdentityProvider(organisationId: $org, issuer: $issuer, scheme: $scheme) { organisationId } }";
const UNBIND: &str = "mutation($org: ID!, $issuer: String!, $scheme: Scheme!) { unbindIdentityProvider(organisationId: $org, issuer: $issuer, scheme: $scheme) { organisationId } }";

fn refusal(body: &Value) -> String {
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{body:#}");
    body["errors"][0]["message"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn every_issuer_speaks_only_for_the_organisations_bound_to_it() {
    let hub = Hub::start(Duration::from_secs(30), None).await;
    let bound = [(0, KROMME_RIJN), (0, EEMLAND), (1, POLDER), (2, STEMKRACHT), (2, EEMLAND)];
    let fixed = [None, Some("UZOVI"), Some("KVK")];
    let mut accepted = Vec::new();
    for (i, scheme) in fixed.iter().enumerate() {
        for (org, kind, ids) in ORGS {
            // The identifier this issuer's layout would carry: its fixed scheme's, else the first.
            let (scheme, value) = match scheme {
                Some(s) => (*s, ids.iter().find(|(k, _)| k == s).map_or("00000000", |(_, v)| *v)),
                None => ids[0],
            };
            let (status, body) = hub.me(&hub.token(i, scheme, value, json!({}))).await;
            if bound.contains(&(i, org)) {
                assert_eq!(status, 200, "issuer {i} for {org}: {body:#}");
                assert_eq!(body["data"]["me"]["organisation"]["id"], org, "{body:#}");
                assert_eq!(body["data"]["me"]["kind"], kind);
                accepted.push((i, org));
            } else {
                assert_eq!(status, 401, "issuer {i} must not speak for {org}: {body:#}");
                let message = refusal(&body);
                assert!(
                    message.contains("bound to another identity provider")
                        || message.contains("not in the hub's register"),
                    "{message}"
                );
                assert!(!message.contains(org) && !message.contains(value), "names no organisation: {message}");
            }
        }
    }
    assert_eq!(accepted.len(), bound.len());
    // Issuer A names Polder by its UZOVI number: registered, but not bound to A.
    let (_, body) = hub.me(&hub.token(0, "UZOVI", "9001", json!({}))).await;
    assert!(refusal(&body).contains("bound to another identity provider, not to this issuer"), "{body:#}");
    // An identifier nobody has.
    let (_, body) = hub.me(&hub.token(0, "URA", "99999999", json!({}))).await;
    assert!(refusal(&body).contains("not in the hub's register"), "{body:#}");
    // The person is the token's subject (issuer A: `sub`; B and C, client credentials: `azp`).
    let (_, body) = hub.me(&hub.token(1, "UZOVI", "9001", json!({}))).await;
    assert_eq!(body["data"]["me"]["person"], "planning-systeem");
}

#[tokio::test]
async fn kind_regions_and_roles_come_from_the_register_never_from_the_token() {
    let hub = Hub::start(Duration::from_secs(30), None).await;
    // Eemland's token claims to be the operator, at the amsterdam table, chair of utrecht, with
    // every scope: it gets what the register says, and its kind's scopes at most.
    let lies = json!({
        "org": BEHEER, "org_kind": "HUB_OPERATOR", "kind": "HUB_OPERATOR", "regions": ["amsterdam"],
        "roles": ["chair:utrecht"], "realm_access": { "roles": ["chair:utrecht"] },
        "scope": "picture:read admin offers:write register:resolve"
    });
    let (status, body) = hub.me(&hub.token(0, "URA", "75364556", lies)).await;
    assert_eq!(status, 200, "{body:#}");
    let me = &body["data"]["me"];
    assert_eq!(me["organisation"]["id"], EEMLAND);
    assert_eq!(me["kind"], "PROVIDER");
    assert_eq!(me["regions"], json!(["utrecht"]));
    assert_eq!(me["roles"], json!([]), "a chair role claimed without register membership has no effect");
    assert_eq!(me["scopes"], json!(["offers:write", "picture:read"]), "scopes only narrow the kind's");
    // …so the claimed chair cannot manage the utrecht table.
    let token = hub.token(0, "URA", "75364556", json!({ "roles": ["chair:utrecht"] }));
    let (_, body) = hub
        .post(
            &hub.gateway_url,
            &token,
            "mutation { setTableMembership(organisationId: \"7c50861d-9493-580f-bb12-590e1d6c1336\", region: \"utrecht\", role: CHAIR) { organisationId } }",
            json!({}),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body:#}");
    // Kromme Rijn chairs utrecht in the register: its token says nothing about it.
    let (_, body) = hub.me(&hub.token(0, "URA", "15881399", json!({}))).await;
    assert_eq!(body["data"]["me"]["roles"], json!(["chair:utrecht"]), "{body:#}");
    // Scopes named by a client-credentials token (Entra app roles) narrow.
    let (_, body) = hub.me(&hub.token(2, "KVK", "85098680", json!({ "roles": ["picture:read"] }))).await;
    assert_eq!(body["data"]["me"]["scopes"], json!(["picture:read"]), "{body:#}");

    // The register is not in the API schema, and a subgraph answers it to the gateway only.
    let query = r#"{ registerResolution(issuer: "x", scheme: "URA", value: "15881399") { organisationId } }"#;
    let (_, body) = hub.post(&hub.gateway_url, &hub.token(0, "URA", "15881399", json!({})), query, json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED", "{body:#}");
    let operator = hub.internal.signer().sign(&TokenRequest {
        subject: "beheerder".into(),
        audience: vec![ggzhub_region::AUDIENCE.into()],
        org: BEHEER.parse().expect("uuid"),
        org_kind: OrgKind::HubOperator,
        regions: vec![],
        roles: vec![],
        scopes: ggzhub_kit::token::default_scopes(OrgKind::HubOperator).iter().map(|s| (*s).to_owned()).collect(),
        ttl: Duration::from_secs(60),
    });
    let (_, body) = hub.post(&hub.region_url, &operator, query, json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body:#}");
}

#[tokio::test]
async fn a_register_change_applies_within_the_cache_bound() {
    let ttl = Duration::from_millis(800);
    let hub = Hub::start(ttl, None).await;
    let eemland_a = hub.token(0, "URA", "75364556", json!({}));
    let (status, body) = hub.me(&eemland_a).await;
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(body["data"]["me"]["roles"], json!([]));

    // The operator unbinds issuer A from Eemland and makes Eemland chair of utrecht.
    hub.operator(UNBIND, json!({ "org": EEMLAND, "issuer": A, "scheme": "URA" })).await;
    hub.operator(
        "mutation { setTableMembership(organisationId: \"7c50861d-9493-580f-bb12-590e1d6c1336\", region: \"utrecht\", role: CHAIR) { organisationId role } }",
        json!({}),
    )
    .await;
    // Within the bound the cached answer may still serve; after it, the register's.
    tokio::time::sleep(ttl + Duration::from_millis(200)).await;
    let (status, body) = hub.me(&eemland_a).await;
    assert_eq!(status, 401, "{body:#}");
    assert!(refusal(&body).contains("bound to another identity provider"));
    let (_, body) = hub.me(&hub.token(2, "KVK", "44729405", json!({}))).await;
    assert_eq!(body["data"]["me"]["roles"], json!(["chair:utrecht"]), "Eemland chairs utrecht now: {body:#}");
    let (_, body) = hub.me(&hub.token(0, "URA", "15881399", json!({}))).await;
    assert_eq!(body["data"]["me"]["roles"], json!([]), "the previous chair is a member now: {body:#}");
    assert_eq!(body["data"]["me"]["regions"], json!(["utrecht"]));

    // Both changes are in the audit log, with the operator and its person.
    let log = hub
        .operator("{ auditLog(first: 50) { edges { node { entity action organisationId subject } } } }", json!({}))
        .await;
    let entries: Vec<(String, String, String)> = log["data"]["auditLog"]["edges"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            let n = &e["node"];
            (
                n["entity"].as_str().unwrap_or_default().to_owned(),
                n["action"].as_str().unwrap_or_default().to_owned(),
                n["subject"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    for (entity, action) in [("IdentityProviderBinding", "unbind"), ("TableMembership", "set")] {
        assert!(
            entries.iter().any(|(e, a, s)| e == entity && a == action && s == "beheerder"),
            "{entity} {action} audited: {entries:?}"
        );
    }
}

#[tokio::test]
async fn an_unreadable_register_refuses_with_401() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead = format!("http://{}/graphql", listener.local_addr().expect("addr"));
    drop(listener);
    let hub = Hub::start(Duration::from_secs(30), Some(dead)).await;
    let (status, body) = hub.me(&hub.token(0, "URA", "15881399", json!({}))).await;
    assert_eq!(status, 401, "{body:#}");
    assert!(refusal(&body).contains("register cannot be read"), "{body:#}");
}
