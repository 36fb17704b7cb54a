//! Recording mock subgraphs: small HTTP servers on 127.0.0.1:0 that answer GraphQL requests
//! with a function of the request and remember every request, so tests can assert what each
//! subgraph received.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::routing::post;
use ggzhub_gateway::engine::{EngineOptions, Gateway, GraphqlRequest, Transport};
use ggzhub_gateway::subgraph::fetch::OutgoingHeaders;
use ggzhub_gateway::supergraph::compose::{SubgraphSdl, compose};
use serde_json::Value;

type Handler = dyn Fn(&Value) -> Value + Send + Sync;

/// Order of requests across all mocks of a test.
#[derive(Clone, Default)]
pub struct Clock(Arc<AtomicUsize>);

#[derive(Clone)]
struct MockState {
    name: &'static str,
    handler: Arc<Handler>,
    delay: Duration,
    received: Arc<Mutex<Vec<(usize, Value)>>>,
    authorizations: Arc<Mutex<Vec<Option<String>>>>,
    clock: Clock,
}

pub struct Mock {
    pub name: &'static str,
    pub sdl: &'static str,
    pub url: String,
    received: Arc<Mutex<Vec<(usize, Value)>>>,
    authorizations: Arc<Mutex<Vec<Option<String>>>>,
}

impl Mock {
    /// The request bodies received, in order.
    pub fn received(&self) -> Vec<Value> {
        self.received.lock().expect("lock").iter().map(|(_, v)| v.clone()).collect()
    }

    /// When (on the test's clock) each request arrived.
    pub fn ticks(&self) -> Vec<usize> {
        self.received.lock().expect("lock").iter().map(|(t, _)| *t).collect()
    }

    /// The `Authorization` header of each request (or its absence).
    pub fn authorizations(&self) -> Vec<Option<String>> {
        self.authorizations.lock().expect("lock").clone()
    }

    pub fn calls(&self) -> usize {
        self.received.lock().expect("lock").len()
    }
}

async fn handle(
    State(state): State<MockState>,
    headers: axum::http::HeaderMap,
    Json(body): Json<Value>,
) -> Json<Value> {
    let tick = state.clock.0.fetch_add(1, Ordering::SeqCst);
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
    state.authorizations.lock().expect("lock").push(authorization);
    state.received.lock().expect("lock").push((tick, body.clone()));
    if !state.delay.is_zero() {
        tokio::time::sleep(state.delay).await;
    }
    let _ = state.name;
    Json((state.handler)(&body))
}

pub async fn mock(
    name: &'static str,
    sdl: &'static str,
    clock: &Clock,
    delay: Duration,
    handler: impl Fn(&Value) -> Value + Send + Sync + 'static,
) -> Mock {
    let received = Arc::new(Mutex::new(Vec::new()));
    let authorizations = Arc::new(Mutex::new(Vec::new()));
    let state = MockState {
        name,
        handler: Arc::new(handler),
        delay,
        received: received.clone(),
        authorizations: authorizations.clone(),
        clock: clock.clone(),
    };
    let app = axum::Router::new().route("/graphql", post(handle)).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/graphql", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    Mock { name, sdl, url, received, authorizations }
}

/// A URL where nothing listens.
pub async fn dead_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    format!("http://{addr}/graphql")
}

/// The supergraph of `mocks`, composed with our composer.
pub fn supergraph(mocks: &[&Mock]) -> String {
    let subgraphs: Vec<SubgraphSdl> = mocks
        .iter()
        .map(|m| SubgraphSdl { name: m.name.to_owned(), url: m.url.clone(), sdl: m.sdl.to_owned() })
        .collect();
    compose(&subgraphs).expect("the mock subgraphs compose")
}

/// A gateway over `mocks`, composed with our composer; `urls` replaces some subgraph URLs.
pub fn gateway(mocks: &[&Mock], timeout: Duration, urls: &[(&str, String)]) -> Gateway {
    let subgraphs: Vec<SubgraphSdl> = mocks
        .iter()
        .map(|m| SubgraphSdl { name: m.name.to_owned(), url: m.url.clone(), sdl: m.sdl.to_owned() })
        .collect();
    let supergraph = compose(&subgraphs).expect("the mock subgraphs compose");
    let gateway = Gateway::new(EngineOptions {
        subgraph_timeout: timeout,
        subgraph_urls: urls.iter().map(|(n, u)| ((*n).to_owned(), u.clone())).collect(),
        ..Default::default()
    });
    gateway.load_supergraph(&supergraph).expect("the composed supergraph loads");
    gateway
}

/// Runs a query and returns the serialized response (key order preserved) and its status.
pub async fn run(gateway: &Gateway, query: &str, variables: Value) -> (String, u16) {
    let variables = match serde_json::from_value(variables) {
        Ok(v) => v,
        Err(e) => panic!("variables: {e}"),
    };
    let response = gateway
        .execute(
            GraphqlRequest { query: query.to_owned(), operation_name: None, variables },
            Transport::Post,
            &OutgoingHeaders::default(),
        )
        .await;
    let status = response.status;
    (String::from_utf8(response.to_json()).expect("UTF-8"), status)
}

pub fn json(text: &str) -> Value {
    serde_json::from_str(text).expect("JSON")
}

/// The `representations` a request carried.
pub fn representations(body: &Value) -> Vec<Value> {
    body["variables"]["representations"].as_array().cloned().unwrap_or_default()
}

/// One organisation of a test register: URA, hub id, kind, regions, roles.
pub type TestOrg<'a> = (&'a str, uuid::Uuid, ggzhub_kit::OrgKind, &'a [&'a str], &'a [&'a str]);

/// A register given as data: each organisation `(URA identifier, id, kind, regions, roles)`,
/// bound to `issuer` for URA.
pub fn register_of(issuer: &str, orgs: &[TestOrg<'_>]) -> std::sync::Arc<ggzhub_gateway::auth::register::Register> {
    let strings = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let entries = orgs
        .iter()
        .map(|(ura, org, kind, regions, roles)| ggzhub_gateway::auth::register::FixedEntry {
            identifiers: vec![("URA".into(), (*ura).to_owned())],
            bindings: vec![(issuer.to_owned(), "URA".into())],
            organisation: ggzhub_gateway::auth::register::Registered {
                org: *org,
                kind: *kind,
                regions: strings(regions),
                roles: strings(roles),
            },
        })
        .collect();
    std::sync::Arc::new(ggzhub_gateway::auth::register::Register::fixed(entries, Duration::from_secs(30)))
}

/// An organisation token of `issuer` naming the organisation by URA `ura`.
pub fn org_token(key: &ggzhub_kit::SigningKey, issuer: &str, audience: &str, ura: &str, scopes: &[&str]) -> String {
    key.signer_as(issuer).sign_org(&ggzhub_kit::token::OrgTokenRequest {
        subject: "tester".into(),
        audience: vec![audience.to_owned()],
        scheme: "URA".into(),
        identifier: ura.to_owned(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        name: None,
        ttl: Duration::from_secs(300),
    })
}

/// The log lines of one thread, written by the binary's global subscriber.
///
/// A test's own subscriber (`tracing::subscriber::set_default`) is not enough once the tests
/// share a process (`cargo test`): tracing caches each callsite's interest for all threads, so
/// a log line first reached on another test's thread, where no subscriber listens, may stay
/// switched off for the test's subscriber too. The one global subscriber (installed on first
/// use) formats every line at INFO and above and hands it to the thread's capture, if any.
pub mod logs {
    use std::cell::RefCell;
    use std::io::Write;
    use std::sync::{Arc, Mutex, OnceLock};

    thread_local! {
        static CAPTURE: RefCell<Option<Arc<Mutex<Vec<u8>>>>> = const { RefCell::new(None) };
    }

    /// Captures the log lines written on this thread until it is dropped (the test must run
    /// the code it watches on its own thread: `#[tokio::test(flavor = "current_thread")]`).
    pub struct Capture(Arc<Mutex<Vec<u8>>>);

    impl Capture {
        /// What was logged on this thread so far.
        pub fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().expect("lock")).into_owned()
        }
    }

    impl Drop for Capture {
        fn drop(&mut self) {
            CAPTURE.with(|c| c.borrow_mut().take());
        }
    }

    /// Starts capturing this thread's log lines.
    pub fn capture() -> Capture {
        static GLOBAL: OnceLock<()> = OnceLock::new();
        GLOBAL.get_or_init(|| {
            let subscriber = tracing_subscriber::fmt().with_writer(|| ThreadWriter).with_ansi(false).finish();
            tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber of this binary");
        });
        let buffer = Arc::new(Mutex::new(Vec::new()));
        CAPTURE.with(|c| *c.borrow_mut() = Some(buffer.clone()));
        Capture(buffer)
    }

    /// Writes to the current thread's capture, or nowhere.
    struct ThreadWriter;

    impl Write for ThreadWriter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            CAPTURE.with(|c| {
                if let Some(buffer) = c.borrow().as_ref() {
                    buffer.lock().expect("lock").extend_from_slice(buf);
                }
            });
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
}
