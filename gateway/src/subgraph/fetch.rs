//! Calls to subgraphs over HTTP: one pooled keep-alive client for the gateway.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::{BoxFuture, FutureExt, Shared};

use apollo_compiler::response::serde_json_bytes::value::BytesSeed;
use apollo_compiler::response::{JsonMap, JsonValue};
use arc_swap::ArcSwap;
use bytes::Bytes;
use ggzhub_kit::tls::ExtraCa;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::execute::data::{Data, DataSeed};
use crate::subgraph::resilience::{Attempt, Resilience, ResilienceOptions, Retry};
use crate::subgraph::response::{FetchFailure, SubgraphResponse};

#[derive(Clone)]
pub struct SubgraphClient {
    /// The client of the process's shared runtime.
    http: reqwest::Client,
    /// This client's own clients on connection threads ([`on_connection_thread`]): a subgraph
    /// connection's task runs on the runtime that opened it, so a pool shared by the threads
    /// would hand each thread the others' connections (hops between threads on every call, and
    /// calls cut off when a thread's runtime ends first).
    per_thread: Arc<PerThreadClients>,
    timeout: Duration,
    inflight: Arc<Mutex<HashMap<InflightKey, SharedCall>>>,
    /// Retry budgets and circuit breakers, per subgraph.
    resilience: Arc<Resilience>,
    /// Subgraph URLs parsed once: reqwest parses a `&str` URL on every request (host parsing
    /// and IDNA included), 7 % of the gateway's instructions on a single-subgraph query.
    urls: Arc<ParsedUrls>,
}

impl std::fmt::Debug for SubgraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubgraphClient").field("timeout", &self.timeout).finish_non_exhaustive()
    }
}

/// Builds the HTTP clients of one [`SubgraphClient`] (the same options each time) and tells its
/// clients on connection threads apart from another `SubgraphClient`'s.
struct PerThreadClients {
    id: u64,
    build: Box<dyn Fn() -> anyhow::Result<reqwest::Client> + Send + Sync>,
}

thread_local! {
    /// Set on a connection thread for its whole life ([`on_connection_thread`]).
    static CONNECTION_THREAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// The clients of this connection thread, by [`PerThreadClients::id`] (one per gateway
    /// engine in the process: normally one).
    static THREAD_CLIENTS: std::cell::RefCell<Vec<(u64, reqwest::Client)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Marks the current thread as a connection thread (a runtime of its own,
/// [`crate::http::server::ConnectionThreads::PerThread`]): subgraph calls made on it use clients
/// of its own, whose connections its runtime drives.
pub fn on_connection_thread() {
    CONNECTION_THREAD.with(|flag| flag.set(true));
}

/// More distinct subgraph URLs than any supergraph has: past it the parsed URLs start afresh.
const MAX_PARSED_URLS: usize = 256;

/// Parsed URLs by their text; a URL not seen before is added (rare, copy on write), so calls
/// only ever read it.
#[derive(Debug, Default)]
struct ParsedUrls(ArcSwap<HashMap<String, reqwest::Url>>);

impl ParsedUrls {
    /// `url` parsed, or `None` when it does not parse (reqwest then reports the error as before).
    fn get(&self, url: &str) -> Option<reqwest::Url> {
        if let Some(parsed) = self.0.load().get(url) {
            return Some(parsed.clone());
        }
        let parsed = reqwest::Url::parse(url).ok()?;
        self.0.rcu(|current| {
            // Bounded: URLs come from supergraphs, and reloads may bring new ones.
            let mut next = if current.len() < MAX_PARSED_URLS { HashMap::clone(current) } else { HashMap::new() };
            next.insert(url.to_owned(), parsed.clone());
            next
        });
        Some(parsed)
    }
}

/// Identical calls: same subgraph URL, same body and same caller identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct InflightKey {
    url: String,
    body: Bytes,
    authorization: Option<HeaderValue>,
}

type SharedCall = Shared<BoxFuture<'static, Result<Arc<SubgraphResponse>, FetchFailure>>>;

/// Removes a call from the in-flight table when its first requester is done with it, even if
/// that requester is cancelled.
struct InflightGuard<'a> {
    table: &'a Mutex<HashMap<InflightKey, SharedCall>>,
    key: Option<InflightKey>,
}

impl Drop for InflightGuard<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.table.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&key);
        }
    }
}

/// Headers to send with one subgraph request.
#[derive(Debug, Default, Clone)]
pub struct OutgoingHeaders {
    pub authorization: Option<HeaderValue>,
    pub traceparent: Option<HeaderValue>,
}

impl SubgraphClient {
    pub fn new(timeout: Duration) -> anyhow::Result<Self> {
        Self::with_resilience(timeout, ResilienceOptions::default(), &ExtraCa::default())
    }

    /// A client whose `https://` subgraphs must have certificates the OS trust store or `ca`
    /// accepts.
    pub fn with_resilience(timeout: Duration, resilience: ResilienceOptions, ca: &ExtraCa) -> anyhow::Result<Self> {
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let ca = ca.clone();
        let build = move || {
            ca.client(|b| {
                b.pool_idle_timeout(Duration::from_secs(90))
                    .pool_max_idle_per_host(512)
                    .tcp_nodelay(true)
                    .connect_timeout(Duration::from_secs(5))
            })
        };
        let http = build()?;
        Ok(Self {
            http,
            per_thread: Arc::new(PerThreadClients {
                id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                build: Box::new(build),
            }),
            timeout,
            inflight: Arc::default(),
            resilience: Arc::new(Resilience::new(resilience)),
            urls: Arc::default(),
        })
    }

    /// The retry budgets and circuit breakers of this client.
    pub fn resilience(&self) -> &Arc<Resilience> {
        &self.resilience
    }

    /// Like [`call`](Self::call), but identical calls (same subgraph, body and identity) that are
    /// in flight at the same time share one HTTP request (and its retries). Only for queries: they
    /// do not change anything, so one answer serves every asker, and a failed attempt may be
    /// retried (see [`crate::subgraph::resilience`]).
    pub async fn call_shared(
        &self,
        service: &str,
        url: &str,
        body: Bytes,
        headers: &OutgoingHeaders,
    ) -> Result<Arc<SubgraphResponse>, FetchFailure> {
        let key = InflightKey { url: url.to_owned(), body: body.clone(), authorization: headers.authorization.clone() };
        let (call, _guard) = {
            let mut table = self.inflight.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            match table.get(&key) {
                Some(call) => (call.clone(), None),
                None => {
                    let client = self.clone();
                    let (service, url, headers) = (service.to_owned(), url.to_owned(), headers.clone());
                    let call = async move {
                        client.resilient(&service, &url, body, &headers, Retry::Allowed).await.map(Arc::new)
                    }
                    .boxed()
                    .shared();
                    table.insert(key.clone(), call.clone());
                    (call, Some(InflightGuard { table: &self.inflight, key: Some(key) }))
                }
            }
        };
        // Every asker reads the same parsed answer: nothing is copied here.
        call.await
    }

    /// One call that is sent at most once (mutations). The subgraph's circuit breaker still
    /// applies: while it is open the call fails at once.
    pub async fn call(
        &self,
        service: &str,
        url: &str,
        body: Bytes,
        headers: &OutgoingHeaders,
    ) -> Result<Arc<SubgraphResponse>, FetchFailure> {
        self.resilient(service, url, body, headers, Retry::Never).await.map(Arc::new)
    }

    async fn resilient(
        &self,
        service: &str,
        url: &str,
        body: Bytes,
        headers: &OutgoingHeaders,
        retry: Retry,
    ) -> Result<SubgraphResponse, FetchFailure> {
        let started = std::time::Instant::now();
        let result = self.resilience.call(service, retry, || self.attempt(service, url, body.clone(), headers)).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(FetchFailure::Timeout { .. }) => "timeout",
            Err(FetchFailure::Unreachable { .. }) => "unreachable",
            Err(FetchFailure::Status { .. }) => "status",
            Err(FetchFailure::Invalid { .. }) => "invalid",
            Err(FetchFailure::CircuitOpen { .. }) => "circuit_open",
            Err(_) => "other",
        };
        crate::metrics::subgraph_fetch(service, started.elapsed(), outcome);
        result
    }

    /// One HTTP request: the answer with its status, or why there is none.
    async fn attempt(&self, service: &str, url: &str, body: Bytes, headers: &OutgoingHeaders) -> Attempt {
        let attempt = self.attempt_once(service, url, body, headers).await;
        crate::metrics::subgraph_attempt(
            service,
            match &attempt {
                Ok((status, _)) if (200..300).contains(status) => "ok",
                Ok(_) => "status",
                Err(_) => "failed",
            },
        );
        attempt
    }

    /// The HTTP client for a call made on this thread: on a connection thread its own (built on
    /// first use, as the shared one was), elsewhere the shared one.
    fn http(&self) -> reqwest::Client {
        if !CONNECTION_THREAD.with(std::cell::Cell::get) {
            return self.http.clone();
        }
        let id = self.per_thread.id;
        THREAD_CLIENTS.with(|clients| {
            let mut clients = clients.borrow_mut();
            if let Some((_, client)) = clients.iter().find(|(owner, _)| *owner == id) {
                return client.clone();
            }
            // The options built the shared client already; should a build fail here after all,
            // the shared client serves this thread (as before connection threads), said once.
            let client = (self.per_thread.build)().unwrap_or_else(|error| {
                tracing::warn!(error = %error, "no subgraph client of this connection thread's own; using the shared one");
                self.http.clone()
            });
            clients.push((id, client.clone()));
            client
        })
    }

    async fn attempt_once(&self, service: &str, url: &str, body: Bytes, headers: &OutgoingHeaders) -> Attempt {
        let http = self.http();
        let request = match self.urls.get(url) {
            Some(parsed) => http.post(parsed),
            None => http.post(url),
        };
        let mut request = request
            .timeout(self.timeout)
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/graphql-response+json, application/json;q=0.9")
            .body(body);
        if let Some(value) = &headers.authorization {
            request = request.header(AUTHORIZATION, value.clone());
        }
        if let Some(value) = &headers.traceparent {
            request = request.header("traceparent", value.clone());
        }
        let response = request.send().await.map_err(|e| {
            // The whole chain: reqwest's own message leaves out e.g. an untrusted certificate.
            tracing::warn!(subgraph = service, error = %ggzhub_kit::tls::error_chain(&e), "subgraph request failed");
            if e.is_timeout() {
                FetchFailure::Timeout { service: service.to_owned() }
            } else {
                FetchFailure::Unreachable { service: service.to_owned() }
            }
        })?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| {
            if e.is_timeout() {
                FetchFailure::Timeout { service: service.to_owned() }
            } else {
                FetchFailure::Unreachable { service: service.to_owned() }
            }
        })?;
        match parse_response(bytes) {
            Some(parsed) if parsed.data.is_some() || !parsed.errors.is_empty() || parsed.event_skipped => {
                Ok((status.as_u16(), parsed))
            }
            _ if !status.is_success() => {
                Err(FetchFailure::Status { service: service.to_owned(), status: status.as_u16() })
            }
            _ => Err(FetchFailure::Invalid { service: service.to_owned() }),
        }
    }
}

/// Parses without copying strings: they stay slices of the response buffer. `data` is read
/// straight into the executor's form ([`DataSeed`]: no hashed index per object); `errors` and
/// `extensions` into JSON values. `None` when the body is not one JSON object.
fn parse_response(bytes: Bytes) -> Option<SubgraphResponse> {
    // UTF-8 checked once for the whole body: reading from bytes, serde_json checks each string on
    // its own, which cost 8 % of the gateway's instructions on the hub's regional overview (issue
    // 18; 180 offers make thousands of short strings). A body with bytes that are not UTF-8
    // (after the object, or in a member that is skipped) is read from bytes as before. What
    // follows the object is not read (as `JsonValue::from_bytes` did before).
    let body = match std::str::from_utf8(&bytes) {
        Ok(text) => ResponseSeed(&bytes).deserialize(&mut serde_json::Deserializer::from_str(text)),
        Err(_) => ResponseSeed(&bytes).deserialize(&mut serde_json::Deserializer::from_slice(&bytes)),
    }
    .ok()?;
    let data = body.data.filter(|data| !data.is_null());
    let errors = match body.errors {
        Some(JsonValue::Array(errors)) => errors
            .into_iter()
            .map(|e| match e {
                JsonValue::Object(map) => map,
                other => {
                    let mut map = JsonMap::new();
                    map.insert("message", JsonValue::from(other.as_str().unwrap_or("subgraph error").to_owned()));
                    map
                }
            })
            .collect(),
        _ => Vec::new(),
    };
    let event_skipped = matches!(
        body.extensions.as_ref().and_then(|e| e.get(ggzhub_kit::events::EVENT_EXTENSION)),
        Some(JsonValue::String(marker)) if marker.as_str() == ggzhub_kit::events::EVENT_SKIPPED
    );
    Some(SubgraphResponse { data, errors, event_skipped })
}

/// The members of a GraphQL response body; a member given twice counts with its last value.
#[derive(Default)]
struct ResponseBody {
    data: Option<Data>,
    errors: Option<JsonValue>,
    extensions: Option<JsonValue>,
}

struct ResponseSeed<'b>(&'b Bytes);

impl<'de> DeserializeSeed<'de> for ResponseSeed<'_> {
    type Value = ResponseBody;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<ResponseBody, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ResponseSeed<'_> {
    type Value = ResponseBody;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a GraphQL response object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ResponseBody, A::Error> {
        let mut body = ResponseBody::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "data" => body.data = Some(map.next_value_seed(DataSeed(self.0))?),
                "errors" => body.errors = Some(map.next_value_seed(BytesSeed::new(self.0))?),
                "extensions" => body.extensions = Some(map.next_value_seed(BytesSeed::new(self.0))?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_read_from_text_or_from_bytes_alike() {
        let answer = r#"{"data":{"offer":{"name":"Crisisdienst \"Oost\" é","beds":4}},"errors":[{"message":"ö"}]}"#;
        let parsed = parse_response(Bytes::from(answer)).expect("an answer");
        assert_eq!(
            parsed.data.expect("data").to_json(),
            serde_json::from_str::<JsonValue>(r#"{"offer":{"name":"Crisisdienst \"Oost\" é","beds":4}}"#)
                .expect("json")
        );
        assert_eq!(parsed.errors[0].get("message").and_then(JsonValue::as_str), Some("ö"));
        // Bytes that are not UTF-8 after the object, or in a member that is skipped: read from
        // bytes, as before the body was checked whole.
        let mut trailing = br#"{"data":{"a":"b"}}"#.to_vec();
        trailing.extend_from_slice(&[b' ', 0xff]);
        assert_eq!(
            parse_response(Bytes::from(trailing)).and_then(|r| r.data).map(|d| d.to_json()),
            Some(serde_json::json!({"a": "b"}).into())
        );
        let skipped = Bytes::from([&br#"{"other":""#[..], &[0xff], br#"","data":{"a":1}}"#].concat());
        assert!(parse_response(skipped).is_some_and(|r| r.data.is_some()));
        // Not UTF-8 in a string that is read: no answer.
        let broken = Bytes::from([&br#"{"data":{"a":""#[..], &[0xff], br#""}}"#].concat());
        assert!(parse_response(broken).is_none());
    }
}
