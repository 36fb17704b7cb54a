//! Trusted documents per organisation, over HTTP: enforce refuses what is not on the caller's
//! list (by text or by hash), admits what is (by text, or by hash alone), one organisation's list
//! does not admit another, log mode serves and off mode ignores, and a changed manifest file is
//! swapped in while a broken one is ignored.

use std::sync::Arc;
use std::time::Duration;

use ggzhub_gateway::admission::trusted::{Manifest, TrustedDocuments, TrustedMode, sha256_hex};
use ggzhub_gateway::auth::identity::Identity;
use ggzhub_gateway::engine::{EngineOptions, Gateway};
use ggzhub_gateway::http::HttpOptions;
use ggzhub_kit::SigningKey;
use ggzhub_kit::server::HttpLimits;
use ggzhub_kit::token::OrgKind;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{Clock, Mock, mock, org_token, register_of, supergraph};

const ACCOUNTS: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { users: [User!]! }
type User @key(fields: "id") { id: ID! name: String! }
"#;

const ISSUER: &str = "https://idp.example";
/// On every organisation's list.
const SHARED: &str = "{ users { name } }";
/// On organisation A's list only.
const ONLY_A: &str = "query Ids { users { id } }";
/// On nobody's list.
const UNLISTED: &str = "{ users { id name } }";

struct Hub {
    url: String,
    key: SigningKey,
    subgraph: Mock,
    register: Arc<ggzhub_gateway::auth::register::Register>,
    http: reqwest::Client,
}

impl Hub {
    async fn start(trusted: TrustedDocuments) -> Self {
        Self::start_shared(Arc::new(trusted)).await
    }

    async fn start_shared(trusted: Arc<TrustedDocuments>) -> Self {
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
        let key = SigningKey::generate();
        let authenticator =
            ggzhub_gateway::auth::oidc::Authenticator::with_keys(ISSUER, &["gateway"], &key.jwks(), 30).expect("keys");
        let register = register_of(ISSUER, &[]);
        let identity = Identity {
            verifier: Some(Arc::new(authenticator)),
            register: Some(register.clone()),
            signer: Some(SigningKey::generate().signer()),
            allow_anonymous: true,
        };
        let options = HttpOptions { trusted_documents: trusted, ..Default::default() };
        let app =
            ggzhub_gateway::http::server::app(Arc::new(gateway), Arc::new(identity), options, HttpLimits::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/graphql", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, key, subgraph, register, http: reqwest::Client::new() }
    }

    /// A token of organisation `org` (registered on first use, its identifier its id).
    fn token(&self, org: Uuid) -> String {
        let identifier = org.simple().to_string();
        self.register.insert(ggzhub_gateway::auth::register::FixedEntry {
            identifiers: vec![("URA".into(), identifier.clone())],
            bindings: vec![(ISSUER.into(), "URA".into())],
            organisation: ggzhub_gateway::auth::register::Registered {
                org,
                kind: OrgKind::Insurer,
                regions: vec!["utrecht".into()],
                roles: vec![],
            },
        });
        org_token(&self.key, ISSUER, "gateway", &identifier, &["picture:read"])
    }

    /// POSTs `body` as `org` (`None`: anonymous); status and JSON body.
    async fn post(&self, org: Option<Uuid>, body: Value) -> (u16, Value) {
        let mut request = self.http.post(&self.url).header("accept", "application/graphql-response+json").json(&body);
        if let Some(org) = org {
            request = request.bearer_auth(self.token(org));
        }
        let response = request.send().await.expect("send");
        (response.status().as_u16(), response.json().await.expect("json"))
    }
}

fn by_text(query: &str) -> Value {
    json!({ "query": query })
}

fn by_hash(hash: &str) -> Value {
    json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } })
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or("")
}

fn manifest_json(org_a: Uuid) -> String {
    json!({
        "*": { sha256_hex(SHARED): SHARED },
        org_a.to_string(): { sha256_hex(ONLY_A): ONLY_A },
    })
    .to_string()
}

fn manifest(org_a: Uuid) -> Manifest {
    Manifest::parse(&manifest_json(org_a)).expect("a valid manifest")
}

#[tokio::test]
async fn enforce_admits_only_the_callers_list_by_text_or_by_hash() {
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let hub = Hub::start(TrustedDocuments::new(TrustedMode::Enforce, manifest(a))).await;
    let ids = json!({ "data": { "users": [{ "id": "u1" }] } });
    let names = json!({ "data": { "users": [{ "name": "Ann" }] } });

    // Organisation A: its own document and the shared one, by text and by hash alone.
    assert_eq!(hub.post(Some(a), by_text(ONLY_A)).await, (200, ids.clone()));
    assert_eq!(hub.post(Some(a), by_hash(&sha256_hex(ONLY_A))).await, (200, ids.clone()));
    let upper = sha256_hex(ONLY_A).to_uppercase();
    assert_eq!(hub.post(Some(a), by_hash(&upper)).await, (200, ids.clone()), "hex in either case");
    assert_eq!(hub.post(Some(a), by_text(SHARED)).await, (200, names.clone()));
    // Text and its (matching) hash together, as Apollo clients send after a miss.
    let mut both = by_hash(&sha256_hex(ONLY_A));
    both["query"] = json!(ONLY_A);
    assert_eq!(hub.post(Some(a), both).await, (200, ids.clone()));
    // Operation name and variables still apply to a document sent by hash.
    let mut named = by_hash(&sha256_hex(ONLY_A));
    named["operationName"] = json!("Ids");
    assert_eq!(hub.post(Some(a), named).await, (200, ids.clone()));
    let served = hub.subgraph.calls();

    // Anything else is refused before it is parsed: even a broken document gets the same answer.
    for query in [UNLISTED, "{ users { nope } }", "{ this is not graphql"] {
        let (status, body) = hub.post(Some(a), by_text(query)).await;
        assert_eq!((status, code(&body)), (403, "PERSISTED_QUERY_NOT_IN_LIST"), "{query}: {body}");
        assert!(body.get("data").is_none());
    }

    // Organisation B: A's document is not on its list, by text or by hash; the shared one is.
    let (status, body) = hub.post(Some(b), by_text(ONLY_A)).await;
    assert_eq!((status, code(&body)), (403, "PERSISTED_QUERY_NOT_IN_LIST"));
    let message = body["errors"][0]["message"].as_str().expect("message");
    assert!(!message.contains(&sha256_hex(ONLY_A)) && !message.contains(&a.to_string()), "names nothing: {message}");
    let (status, body) = hub.post(Some(b), by_hash(&sha256_hex(ONLY_A))).await;
    assert_eq!((status, code(&body)), (404, "PERSISTED_QUERY_NOT_FOUND"), "{body}");
    assert!(!body.to_string().contains("users"), "another organisation's document is not revealed");
    assert_eq!(hub.post(Some(b), by_text(SHARED)).await, (200, names.clone()));

    // Anonymous callers have the shared list only.
    assert_eq!(hub.post(None, by_hash(&sha256_hex(SHARED))).await, (200, names));
    let (status, body) = hub.post(None, by_text(ONLY_A)).await;
    assert_eq!((status, code(&body)), (403, "PERSISTED_QUERY_NOT_IN_LIST"));

    // An unknown hash, a hash that does not match its query, a malformed extension.
    let (status, body) = hub.post(Some(a), by_hash(&sha256_hex(UNLISTED))).await;
    assert_eq!((status, code(&body)), (404, "PERSISTED_QUERY_NOT_FOUND"));
    let mut mismatch = by_hash(&sha256_hex(SHARED));
    mismatch["query"] = json!(ONLY_A);
    let (status, body) = hub.post(Some(a), mismatch).await;
    assert_eq!((status, code(&body)), (400, "PERSISTED_QUERY_HASH_MISMATCH"));
    let (status, body) =
        hub.post(Some(a), json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": "abc" } } })).await;
    assert_eq!((status, code(&body)), (400, "BAD_REQUEST"));
    let (status, body) = hub.post(Some(a), json!({})).await;
    assert_eq!((status, code(&body)), (400, "BAD_REQUEST"), "no query and no hash");

    // GET carries the extension as a JSON parameter.
    let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(ONLY_A) } }).to_string();
    let response = hub
        .http
        .get(&hub.url)
        .bearer_auth(hub.token(a))
        .header("apollo-require-preflight", "true")
        .query(&[("extensions", extensions.as_str())])
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.expect("json"), ids);

    assert_eq!(hub.subgraph.calls(), served + 3, "no refused request reached the subgraph");
}

#[tokio::test]
async fn log_mode_serves_unlisted_operations_and_off_mode_ignores_the_manifest() {
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let hub = Hub::start(TrustedDocuments::new(TrustedMode::Log, manifest(a))).await;
    let ids = json!({ "data": { "users": [{ "id": "u1" }] } });
    assert_eq!(hub.post(Some(b), by_text(ONLY_A)).await, (200, ids.clone()), "not on B's list, but served");
    assert_eq!(hub.post(Some(a), by_text(UNLISTED)).await.0, 200);
    assert_eq!(hub.post(Some(a), by_hash(&sha256_hex(ONLY_A))).await, (200, ids.clone()));
    // A hash alone still has to be on the caller's list: there is no text to run otherwise.
    let (status, body) = hub.post(Some(b), by_hash(&sha256_hex(ONLY_A))).await;
    assert_eq!((status, code(&body)), (404, "PERSISTED_QUERY_NOT_FOUND"));

    let off = Hub::start(TrustedDocuments::off()).await;
    assert_eq!(off.post(Some(b), by_text(UNLISTED)).await.0, 200);
    let (status, body) = off.post(Some(a), by_hash(&sha256_hex(ONLY_A))).await;
    assert_eq!((status, code(&body)), (400, "PERSISTED_QUERY_NOT_SUPPORTED"));
}

#[tokio::test]
async fn a_changed_manifest_is_swapped_in_and_a_broken_one_ignored() {
    let a = Uuid::now_v7();
    let dir = std::env::temp_dir().join(format!("ggzhub-trusted-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("trusted-documents.json");
    std::fs::write(&path, manifest_json(a)).expect("write");

    // A broken manifest is refused at start.
    let broken = dir.join("broken.json");
    std::fs::write(&broken, json!({ "*": { sha256_hex(SHARED): UNLISTED } }).to_string()).expect("write");
    let error = TrustedDocuments::load(TrustedMode::Enforce, Some(&broken), Duration::ZERO).expect_err("refused");
    assert!(format!("{error:#}").contains("not the SHA-256"), "{error:#}");
    // Off never reads it.
    assert!(TrustedDocuments::load(TrustedMode::Off, Some(&dir.join("absent.json")), Duration::ZERO).is_ok());

    let trusted =
        Arc::new(TrustedDocuments::load(TrustedMode::Enforce, Some(&path), Duration::from_millis(20)).expect("loads"));
    trusted.spawn_watch();
    let hub = Hub::start_shared(trusted.clone()).await;
    assert_eq!(hub.post(Some(a), by_text(UNLISTED)).await.0, 403);

    let mut lists: Value = serde_json::from_str(&manifest_json(a)).expect("json");
    lists[a.to_string()][sha256_hex(UNLISTED)] = json!(UNLISTED);
    std::fs::write(&path, lists.to_string()).expect("write");
    let mut status = 0;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        status = hub.post(Some(a), by_text(UNLISTED)).await.0;
        if status == 200 {
            break;
        }
    }
    assert_eq!(status, 200, "the new manifest is in force");
    assert_eq!(trusted.manifest().len(), 3);

    std::fs::write(&path, "{ not json").expect("write");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(hub.post(Some(a), by_text(UNLISTED)).await.0, 200, "the previous manifest stays in force");
    assert_eq!(trusted.manifest().len(), 3);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_sections_parse_from_gateway_toml() {
    let dir = std::env::temp_dir().join(format!("ggzhub-trusted-config-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("gateway.toml");
    std::fs::write(
        &file,
        "[trusted_documents]\nmode = \"enforce\"\nmanifest = \"trusted-documents.json\"\nwatch_interval_secs = 0\n\
         [rate_limit]\nper_org_per_second = 5\nburst = 0\n",
    )
    .expect("write");
    let config = ggzhub_gateway::config::GatewayConfig::load(Some(&file)).expect("loads");
    assert_eq!(config.trusted_documents.mode, TrustedMode::Enforce);
    assert_eq!(config.trusted_documents.manifest.as_deref(), Some(std::path::Path::new("trusted-documents.json")));
    assert_eq!(
        config.rate_limit.options(),
        ggzhub_gateway::admission::ratelimit::RateLimitOptions { per_second: 5, burst: 0 }
    );
    std::fs::write(&file, "[trusted_documents]\nmode = \"strict\"\n").expect("write");
    assert!(ggzhub_gateway::config::GatewayConfig::load(Some(&file)).is_err(), "off, log or enforce only");
    let defaults = ggzhub_gateway::config::GatewayConfig::default();
    assert_eq!(defaults.trusted_documents.mode, TrustedMode::Off);
    assert_eq!((defaults.rate_limit.per_org_per_second, defaults.rate_limit.burst), (50, 100));
    let _ = std::fs::remove_dir_all(dir);
}
