//! Test helpers (feature `testing`): a fresh database per test, a service on 127.0.0.1:0,
//! tokens for any caller, a small GraphQL client, and recording stubs of sibling subgraphs
//! ([`stub`]).

pub mod stub;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sea_orm::DatabaseConnection;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::db::{DbConfig, connect, drop_schema};
use crate::token::{OrgKind, SigningKey, TokenRequest, default_scopes};

/// A database of its own for one test: SQLite in memory, or a fresh PostgreSQL schema when
/// `DATABASE_URL` is set (dropped again when the `TestDb` is dropped).
pub struct TestDb {
    /// The connection pool.
    pub db: DatabaseConnection,
    /// Number of SQL statements run so far on `db`.
    pub statements: Arc<AtomicUsize>,
    /// The statements run so far on `db`, in order, with their values inlined.
    pub statement_log: Arc<std::sync::Mutex<Vec<String>>>,
    cleanup: Option<(String, String)>,
}

impl TestDb {
    /// Creates the database (no tables yet).
    pub async fn new() -> Self {
        let (cfg, cleanup) = match std::env::var("DATABASE_URL") {
            Ok(url) if url.starts_with("postgres") => {
                let schema = format!("t_{}", Uuid::new_v4().simple());
                let mut cfg = DbConfig::new(url.clone());
                cfg.schema = Some(schema.clone());
                cfg.max_connections = 4;
                (cfg, Some((url, schema)))
            }
            _ => (DbConfig::new("sqlite::memory:"), None),
        };
        let mut db = connect(&cfg).await.expect("test database connects (is DATABASE_URL reachable?)");
        let statements = Arc::new(AtomicUsize::new(0));
        let counter = statements.clone();
        let statement_log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = statement_log.clone();
        db.set_metric_callback(move |info| {
            counter.fetch_add(1, Ordering::SeqCst);
            log.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(info.statement.to_string());
        });
        Self { db, statements, statement_log, cleanup }
    }

    /// Statements run so far.
    pub fn statement_count(&self) -> usize {
        self.statements.load(Ordering::SeqCst)
    }

    /// The statements run since the first `from` (values inlined), in order.
    pub fn statements_since(&self, from: usize) -> Vec<String> {
        let log = self.statement_log.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        log.get(from..).map(<[String]>::to_vec).unwrap_or_default()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((url, schema)) = self.cleanup.take() {
            // Drop runs inside the test's runtime: clean up on a thread with a runtime of its own.
            let handle = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime builds");
                rt.block_on(drop_schema(&url, &schema))
            });
            if let Ok(Err(e)) = handle.join() {
                eprintln!("could not drop test schema: {e:#}");
            }
        }
    }
}

/// A caller to sign tokens for.
#[derive(Debug, Clone)]
pub struct TestCaller {
    /// Organisation id.
    pub org: Uuid,
    /// Kind.
    pub kind: OrgKind,
    /// Regions.
    pub regions: Vec<String>,
    /// Roles.
    pub roles: Vec<String>,
    /// Scopes.
    pub scopes: Vec<String>,
}

impl TestCaller {
    /// A caller of `kind` for `org` sitting at `regions`, with the scopes its kind usually has.
    pub fn new(kind: OrgKind, org: Uuid, regions: &[&str]) -> Self {
        Self {
            org,
            kind,
            regions: regions.iter().map(|r| (*r).to_owned()).collect(),
            roles: vec![],
            scopes: default_scopes(kind).iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// Adds a role.
    pub fn with_role(mut self, role: &str) -> Self {
        self.roles.push(role.to_owned());
        self
    }

    /// Replaces the scopes.
    pub fn with_scopes(mut self, scopes: &[&str]) -> Self {
        self.scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
        self
    }
}

/// A running service under test.
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Key the service trusts.
    pub key: Arc<SigningKey>,
    /// The service's audience.
    pub audience: String,
    client: reqwest::Client,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestServer {
    /// Serves `app` on 127.0.0.1:0.
    pub async fn start(app: axum::Router, key: Arc<SigningKey>, audience: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds a free port");
        let addr = listener.local_addr().expect("has an address");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(crate::server::serve(listener, app, async move {
            let _ = rx.await;
        }));
        let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client builds");
        Self { addr, key, audience: audience.to_owned(), client, shutdown: Some(tx) }
    }

    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The HTTP client.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// A valid token for `caller`, for this service.
    pub fn token(&self, caller: &TestCaller) -> String {
        self.key.signer().sign(&TokenRequest {
            subject: format!("test-{}", caller.kind.as_str().to_lowercase()),
            audience: vec![self.audience.clone()],
            org: caller.org,
            org_kind: caller.kind,
            regions: caller.regions.clone(),
            roles: caller.roles.clone(),
            scopes: caller.scopes.clone(),
            ttl: Duration::from_secs(300),
        })
    }

    /// Starts a GraphQL request.
    pub fn graphql(&self, query: &str) -> GraphqlCall<'_> {
        GraphqlCall { server: self, query: query.to_owned(), variables: json!({}), token: None }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A `/graphql` URL on 127.0.0.1 where nothing listens (the port was free a moment ago): a
/// sibling subgraph that is down, so asking it fails with a refused connection.
pub fn closed_url() -> String {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds a free port");
        listener.local_addr().expect("has an address").port()
        // Dropped here: nothing listens on the port any more.
    };
    format!("http://127.0.0.1:{port}/graphql")
}

/// A GraphQL request being built.
pub struct GraphqlCall<'a> {
    server: &'a TestServer,
    query: String,
    variables: Value,
    token: Option<String>,
}

impl GraphqlCall<'_> {
    /// Sets one variable.
    pub fn var(mut self, name: &str, value: impl serde::Serialize) -> Self {
        self.variables[name] = serde_json::to_value(value).expect("variable serializes");
        self
    }

    /// Sends as `caller`.
    pub fn as_caller(mut self, caller: &TestCaller) -> Self {
        self.token = Some(self.server.token(caller));
        self
    }

    /// Sends with this raw bearer token.
    pub fn bearer(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Sends the request; returns the HTTP status and JSON body.
    pub async fn send(self) -> GraphqlResponse {
        let mut req = self
            .server
            .client
            .post(self.server.url("/graphql"))
            .json(&json!({ "query": self.query, "variables": self.variables }));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("request reaches the test server");
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.expect("response is JSON");
        GraphqlResponse { status, body }
    }
}

/// A GraphQL response.
#[derive(Debug, Clone)]
pub struct GraphqlResponse {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: Value,
}

impl GraphqlResponse {
    /// `data`, asserting there were no errors.
    #[track_caller]
    pub fn data(&self) -> &Value {
        assert!(self.body.get("errors").is_none(), "unexpected errors: {:#}", self.body);
        &self.body["data"]
    }

    /// The `extensions.code`s of all errors, in order.
    pub fn error_codes(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errs| errs.iter().map(|e| e["extensions"]["code"].as_str().unwrap_or("<none>").to_owned()).collect())
            .unwrap_or_default()
    }

    /// The code of the first error at `path` (e.g. `["careOffer", "capacity"]`).
    pub fn error_code_at(&self, path: &[&str]) -> Option<String> {
        let errs = self.body["errors"].as_array()?;
        errs.iter()
            .find(|e| {
                e["path"].as_array().is_some_and(|p| {
                    let names: Vec<String> =
                        p.iter().map(|x| x.as_str().map(str::to_owned).unwrap_or_else(|| x.to_string())).collect();
                    names.iter().map(String::as_str).eq(path.iter().copied())
                })
            })
            .and_then(|e| e["extensions"]["code"].as_str().map(str::to_owned))
    }

    /// Asserts the personal-data guard refused `sample` (holding data of `kind`) sent as `field`
    /// of the mutation `root`: `BAD_USER_INPUT` at `root`, which is `null`, a message naming the
    /// field and the kind, and not one word of the value repeated anywhere in the answer.
    #[track_caller]
    pub fn expect_personal_data_refused(&self, root: &str, field: &str, sample: &str, kind: &str) {
        assert_eq!(self.error_code_at(&[root]).as_deref(), Some("BAD_USER_INPUT"), "{root}: {:#}", self.body);
        assert!(self.body["data"][root].is_null(), "{root} must be null when refused: {:#}", self.body);
        let msg = self.expect_error("BAD_USER_INPUT");
        assert!(msg.starts_with(&format!("{field} seems to contain personal data")), "{root}: {msg}");
        assert!(msg.contains(kind), "{root}: {msg} should name {kind}");
        for word in sample.split_whitespace().filter(|w| w.len() > 3) {
            assert!(!self.body.to_string().contains(word), "{root}: {word:?} echoed in {:#}", self.body);
        }
    }

    /// Asserts exactly one error with `code` and returns its message.
    #[track_caller]
    pub fn expect_error(&self, code: &str) -> String {
        let codes = self.error_codes();
        assert!(codes.iter().any(|c| c == code), "expected {code}, got {:#}", self.body);
        self.body["errors"]
            .as_array()
            .and_then(|e| e.iter().find(|e| e["extensions"]["code"] == code))
            .and_then(|e| e["message"].as_str())
            .unwrap_or_default()
            .to_owned()
    }
}

/// Pages through `field` (a root connection taking `first`/`after` plus `args`) two items at a
/// time as `caller`: the `totalCount` of every page and the number of nodes over all pages.
pub async fn walk_connection(server: &TestServer, caller: &TestCaller, field: &str, args: &str) -> (Vec<i64>, usize) {
    let query = format!(
        "query($after: String) {{ {field}({args} first: 2, after: $after) {{ totalCount pageInfo {{ hasNextPage endCursor }} nodes {{ __typename }} }} }}"
    );
    let (mut totals, mut nodes, mut after) = (Vec::new(), 0, Value::Null);
    loop {
        let resp = server.graphql(&query).var("after", after.clone()).as_caller(caller).send().await;
        let page = &resp.data()[field];
        totals.push(page["totalCount"].as_i64().unwrap_or_else(|| panic!("totalCount of {field}: {:#}", resp.body)));
        nodes += page["nodes"].as_array().map_or(0, Vec::len);
        if page["pageInfo"]["hasNextPage"] != json!(true) {
            return (totals, nodes);
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

/// Checks a [`walk_connection`]: every page says the same `totalCount`, and it equals the nodes
/// over all pages. Returns the count.
#[track_caller]
pub fn consistent_total(what: &str, (totals, nodes): (Vec<i64>, usize)) -> i64 {
    assert!(totals.windows(2).all(|w| w[0] == w[1]), "{what}: totalCount differs between pages: {totals:?}");
    assert_eq!(totals[0], nodes as i64, "{what}: totalCount {} but {nodes} nodes over all pages", totals[0]);
    totals[0]
}
