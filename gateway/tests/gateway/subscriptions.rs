//! Subscriptions through the gateway, over SSE, multipart HTTP and WebSocket, fed from an
//! in-process event bus.
//!
//! The subgraph `signals` owns the subscription field; it resolves an event (sent to it in
//! `extensions.ggzhubEvent`) only for the organisations the event's payload names in `audience`,
//! as a real subgraph applies its access rules, and answers "skip" to the others. The
//! subgraph `people` contributes `Signal.owner` through `_entities`. So the tests see: which
//! organisation receives which event, that the selection is completed across subgraphs, the
//! wire format of each protocol, resuming after a reconnect, and the refusals.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::http::HeaderMap;
use axum::routing::post;
use base64::Engine as _;
use futures_util::{SinkExt as _, StreamExt as _};
use ggzhub_gateway::auth::identity::Identity;
use ggzhub_gateway::engine::{EngineOptions, Gateway};
use ggzhub_gateway::http::HttpOptions;
use ggzhub_gateway::subscription::{SubscriptionOptions, Subscriptions};
use ggzhub_gateway::supergraph::compose::{SubgraphSdl, compose};
use ggzhub_kit::SigningKey;
use ggzhub_kit::events::{Event, EventBus, LocalBus};
use ggzhub_kit::server::HttpLimits;
use ggzhub_kit::token::OrgKind;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite;
use uuid::Uuid;

use crate::support::{org_token, register_of};

const SIGNALS: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { signal(id: ID!): Signal }
type Subscription { signalEvents(region: ID): SignalEvent! }
type SignalEvent { kind: String! signal: Signal! }
type Signal @key(fields: "id") { id: ID! title: String! }
"#;

const PEOPLE: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { people: [String!]! }
type Signal @key(fields: "id") { id: ID! owner: String! }
"#;

const SUBSCRIPTION: &str = r#"subscription { signalEvents(region: "UTR") { kind signal { id title owner } } }"#;
const ISSUER: &str = "https://idp.example";

/// The organisation of the internal token the gateway sent (read, not verified: a test stub).
fn caller_org(headers: &HeaderMap) -> String {
    let token = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let payload = token.trim_start_matches("Bearer ").split('.').nth(1).unwrap_or_default();
    let claims: Value = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(Value::Null);
    claims["org"].as_str().unwrap_or_default().to_owned()
}

/// (organisation, signal id) of every event the `signals` stub was asked to resolve, in every
/// test of this binary (tests use signal ids of their own).
static ASKED: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());

async fn signals(headers: HeaderMap, Json(body): Json<Value>) -> Json<Value> {
    let Some(delivered) = body["extensions"]["ggzhubEvent"].as_object() else {
        return Json(json!({ "errors": [{ "message": "subscriptions are served by the gateway" }] }));
    };
    // An unknown region is refused, as the region subgraph refuses one (also for the probe the
    // gateway sends when the subscription starts).
    if body["query"].as_str().is_some_and(|q| q.contains("NOWHERE")) {
        return Json(
            json!({ "data": null, "errors": [{ "message": "unknown region code NOWHERE", "path": ["signalEvents"], "extensions": { "code": "BAD_USER_INPUT" } }] }),
        );
    }
    let payload = &delivered["event"]["payload"];
    let org = caller_org(&headers);
    let signal = payload["signalId"].as_str().unwrap_or_default().to_owned();
    ASKED.lock().expect("lock").push((org.clone(), signal));
    if !payload["audience"].as_array().is_some_and(|a| a.iter().any(|o| o == org.as_str())) {
        return Json(json!({ "data": null, "extensions": { "ggzhubEvent": "skip" } }));
    }
    let id = payload["signalId"].clone();
    Json(json!({ "data": { "signalEvents": {
        "kind": payload["kind"],
        "signal": { "__typename": "Signal", "id": id, "title": payload["title"] }
    } } }))
}

async fn people(Json(body): Json<Value>) -> Json<Value> {
    let entities: Vec<Value> = crate::support::representations(&body)
        .iter()
        .map(|r| json!({ "__typename": "Signal", "owner": format!("owner of {}", r["id"].as_str().unwrap_or("?")) }))
        .collect();
    Json(json!({ "data": { "_entities": entities } }))
}

async fn serve_stub(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/graphql", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

struct Hub {
    url: String,
    bus: Arc<dyn EventBus>,
    key: SigningKey,
    /// Organisations A and B (hub ids).
    a: Uuid,
    b: Uuid,
    /// The stub subgraphs' URLs.
    subgraphs: [String; 2],
    http: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
}

impl Hub {
    async fn start(options: SubscriptionOptions, with_bus: bool) -> Self {
        Self::on_bus(options, with_bus, LocalBus::new(10_000)).await
    }

    /// A gateway on `bus`, in front of new stub subgraphs, with new organisations.
    async fn on_bus(options: SubscriptionOptions, with_bus: bool, bus: Arc<dyn EventBus>) -> Self {
        let signals_url = serve_stub(axum::Router::new().route("/graphql", post(signals))).await;
        let people_url = serve_stub(axum::Router::new().route("/graphql", post(people))).await;
        let key = SigningKey::generate();
        Self::serve(options, with_bus, bus, key, (Uuid::now_v7(), Uuid::now_v7()), [signals_url, people_url]).await
    }

    /// Another gateway replica: the same subgraphs, organisations, token issuer and bus.
    async fn replica(&self) -> Self {
        let key = SigningKey::from_pem(&self.key.to_pem(), "test").expect("the same key");
        Self::serve(
            SubscriptionOptions::default(),
            true,
            self.bus.clone(),
            key,
            (self.a, self.b),
            self.subgraphs.clone(),
        )
        .await
    }

    async fn serve(
        options: SubscriptionOptions,
        with_bus: bool,
        bus: Arc<dyn EventBus>,
        key: SigningKey,
        (a, b): (Uuid, Uuid),
        subgraphs: [String; 2],
    ) -> Self {
        let sdls = [("signals", SIGNALS, &subgraphs[0]), ("people", PEOPLE, &subgraphs[1])]
            .map(|(name, sdl, url)| SubgraphSdl { name: name.into(), url: url.clone(), sdl: sdl.into() });
        let gateway = Gateway::new(EngineOptions::default());
        gateway.load_supergraph(&compose(&sdls).expect("composes")).expect("loads");
        let authenticator =
            ggzhub_gateway::auth::oidc::Authenticator::with_keys(ISSUER, &["gateway"], &key.jwks(), 30).expect("keys");
        let identity = Identity {
            verifier: Some(Arc::new(authenticator)),
            register: Some(register_of(
                ISSUER,
                &[("10000001", a, OrgKind::Insurer, &["UTR"], &[]), ("10000002", b, OrgKind::Provider, &["UTR"], &[])],
            )),
            signer: Some(SigningKey::generate().signer()),
            allow_anonymous: false,
        };
        let http = HttpOptions {
            subscriptions: Arc::new(Subscriptions::new(with_bus.then(|| bus.clone()), options)),
            ..HttpOptions::default()
        };
        let app = ggzhub_gateway::http::server::app(Arc::new(gateway), Arc::new(identity), http, HttpLimits::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/graphql", listener.local_addr().expect("addr"));
        let server = tokio::spawn(async move {
            let _ = ggzhub_gateway::http::server::serve(listener, app, std::future::pending()).await;
        });
        Hub { url, bus, key, a, b, subgraphs, http: reqwest::Client::new(), server }
    }

    fn token(&self, ura: &str) -> String {
        org_token(&self.key, ISSUER, "gateway", ura, &["picture:read"])
    }

    /// Publishes a signal event for `region`, readable by `audience`; returns its position.
    async fn publish(&self, id: &str, region: &str, audience: &[Uuid]) -> u64 {
        let event = Event {
            id: format!("signals:{id}"),
            subgraph: "signals".into(),
            field: "signalEvents".into(),
            scope: BTreeMap::from([("region".into(), region.into())]),
            audience: None,
            payload: json!({
                "kind": "RAISED", "signalId": id, "title": format!("signal {id}"),
                "audience": audience.iter().map(Uuid::to_string).collect::<Vec<_>>(),
            }),
            occurred_at: chrono::Utc::now(),
        };
        let mut live = self.bus.live();
        self.bus.publish(&event).await.expect("published");
        live.recv().await.expect("stored").seq
    }

    /// Opens a subscription stream with `accept`.
    async fn open(&self, token: &str, accept: &str, last_event_id: Option<u64>) -> reqwest::Response {
        let mut request = self
            .http
            .post(&self.url)
            .header("accept", accept)
            .bearer_auth(token)
            .json(&json!({ "query": SUBSCRIPTION }));
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id.to_string());
        }
        request.send().await.expect("sent")
    }
}

/// Reads a streaming body until `done` says the text so far is complete.
struct Reader {
    response: reqwest::Response,
    text: String,
}

impl Reader {
    fn new(response: reqwest::Response) -> Self {
        Self { response, text: String::new() }
    }

    async fn until(&mut self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let read = async {
            while !done(&self.text) {
                match self.response.chunk().await.expect("a chunk") {
                    Some(chunk) => self.text.push_str(&String::from_utf8_lossy(&chunk)),
                    None => break,
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(20), read).await.unwrap_or_else(|_| panic!("{what}: never came"));
        self.text.clone()
    }

    /// The SSE `next` events read so far: (id, data).
    fn sse_events(&self) -> Vec<(Option<u64>, Value)> {
        self.text
            .split("\n\n")
            .filter(|block| block.contains("event: next"))
            .map(|block| {
                let id = block.lines().find_map(|l| l.strip_prefix("id: ")).and_then(|id| id.parse().ok());
                let data = block.lines().find_map(|l| l.strip_prefix("data: ")).unwrap_or("null");
                (id, serde_json::from_str(data).expect("JSON data"))
            })
            .collect()
    }
}

fn count(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

#[tokio::test]
async fn over_sse_each_organisation_receives_only_its_events_completed_across_subgraphs() {
    let hub = Hub::start(SubscriptionOptions::default(), true).await;
    let (token_a, token_b) = (hub.token("10000001"), hub.token("10000002"));
    let response_a = hub.open(&token_a, "text/event-stream", None).await;
    assert_eq!(response_a.status(), 200);
    assert_eq!(response_a.headers()["content-type"], "text/event-stream");
    let response_b = hub.open(&token_b, "text/event-stream", None).await;
    let (mut a, mut b) = (Reader::new(response_a), Reader::new(response_b));
    // Both streams are open (the first chunk is sent at once) before anything is published.
    a.until("A's stream opening", |t| t.starts_with(":")).await;
    b.until("B's stream opening", |t| t.starts_with(":")).await;

    let only_a = hub.publish("s1", "UTR", &[hub.a]).await;
    let other_region = hub.publish("s2", "AMS", &[hub.a, hub.b]).await;
    let both = hub.publish("s3", "UTR", &[hub.a, hub.b]).await;
    assert!(only_a < other_region && other_region < both);

    a.until("A's two events", |t| count(t, "event: next") >= 2).await;
    let events = a.sse_events();
    assert_eq!(events.iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![Some(only_a), Some(both)]);
    assert_eq!(
        events[0].1,
        json!({
            "data": { "signalEvents": { "kind": "RAISED", "signal": { "id": "s1", "title": "signal s1", "owner": "owner of s1" } } },
            "extensions": { "eventId": only_a.to_string() }
        })
    );
    b.until("B's event", |t| count(t, "event: next") >= 1).await;
    let events = b.sse_events();
    assert_eq!(events.len(), 1, "B receives only the event it may read: {events:?}");
    assert_eq!(events[0].0, Some(both));
    assert_eq!(events[0].1["data"]["signalEvents"]["signal"]["id"], "s3");

    // A reconnects after its first event: the second comes from the replay, before new ones.
    let resumed = hub.open(&token_a, "text/event-stream", Some(only_a)).await;
    let mut resumed = Reader::new(resumed);
    resumed.until("the missed event", |t| count(t, "event: next") >= 1).await;
    assert_eq!(resumed.sse_events()[0].0, Some(both));
    let later = hub.publish("s4", "UTR", &[hub.a]).await;
    resumed.until("the next event", |t| count(t, "event: next") >= 2).await;
    assert_eq!(resumed.sse_events().iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![Some(both), Some(later)]);
}

#[tokio::test]
async fn over_multipart_events_come_as_payload_parts() {
    let hub = Hub::start(SubscriptionOptions::default(), true).await;
    let response =
        hub.open(&hub.token("10000002"), "multipart/mixed;subscriptionSpec=\"1.0\", application/json", None).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "multipart/mixed;boundary=\"graphql\";subscriptionSpec=\"1.0\"");
    let mut reader = Reader::new(response);
    reader.until("the opening part", |t| t.contains("{}\r\n--graphql")).await;
    hub.publish("s1", "UTR", &[hub.a]).await;
    let seq = hub.publish("s2", "UTR", &[hub.b]).await;
    let text = reader.until("the payload part", |t| t.contains("\"payload\"")).await;
    assert!(text.starts_with("\r\n--graphql\r\ncontent-type: application/json\r\n\r\n{}\r\n--graphql"), "{text:?}");
    let part = text.split("\r\n--graphql").find(|p| p.contains("payload")).expect("a payload part");
    let body: Value = serde_json::from_str(part.split("\r\n\r\n").nth(1).expect("a body")).expect("JSON");
    assert_eq!(body["payload"]["data"]["signalEvents"]["signal"]["owner"], "owner of s2");
    assert_eq!(body["payload"]["extensions"]["eventId"], seq.to_string());
    assert!(!text.contains("s1"), "the event B may not read is not sent: {text:?}");
}

#[tokio::test]
async fn refusals_are_clear_graphql_errors() {
    let hub = Hub::start(SubscriptionOptions { max_per_organisation: 1, ..Default::default() }, true).await;
    let token = hub.token("10000001");
    // A subscription as a plain POST.
    let plain = hub
        .http
        .post(&hub.url)
        .header("accept", "application/json")
        .bearer_auth(&token)
        .json(&json!({ "query": SUBSCRIPTION }))
        .send()
        .await
        .expect("sent");
    let body: Value = plain.json().await.expect("JSON");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST");
    assert!(body["errors"][0]["message"].as_str().expect("message").contains("text/event-stream"), "{body}");
    // An unknown subscription field.
    let unknown = hub
        .http
        .post(&hub.url)
        .header("accept", "text/event-stream")
        .bearer_auth(&token)
        .json(&json!({ "query": "subscription { nothingHere }" }))
        .send()
        .await
        .expect("sent");
    assert_eq!(unknown.status(), 400);
    let body: Value = unknown.json().await.expect("JSON");
    assert_eq!(body["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED");
    // An argument the owning subgraph refuses: refused when subscribing, not at the first event.
    let nowhere = hub
        .http
        .post(&hub.url)
        .header("accept", "text/event-stream")
        .bearer_auth(&token)
        .json(&json!({ "query": r#"subscription { signalEvents(region: "NOWHERE") { kind } }"# }))
        .send()
        .await
        .expect("sent");
    assert_eq!(nowhere.status(), 400);
    let body: Value = nowhere.json().await.expect("JSON");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    // No token.
    let anonymous = hub
        .http
        .post(&hub.url)
        .header("accept", "text/event-stream")
        .json(&json!({ "query": SUBSCRIPTION }))
        .send()
        .await
        .expect("sent");
    assert_eq!(anonymous.status(), 401);
    // A bad Last-Event-ID.
    let bad = hub
        .http
        .post(&hub.url)
        .header("accept", "text/event-stream")
        .header("last-event-id", "yesterday")
        .bearer_auth(&token)
        .json(&json!({ "query": SUBSCRIPTION }))
        .send()
        .await
        .expect("sent");
    assert_eq!(bad.status(), 400);
    // One subscription per organisation here: the second is refused while the first is open.
    let first = hub.open(&token, "text/event-stream", None).await;
    assert_eq!(first.status(), 200);
    let second = hub.open(&token, "text/event-stream", None).await;
    assert_eq!(second.status(), 429);
    let body: Value = second.json().await.expect("JSON");
    assert_eq!(body["errors"][0]["extensions"]["code"], "SUBSCRIPTION_LIMIT");
    // Another organisation is not affected.
    assert_eq!(hub.open(&hub.token("10000002"), "text/event-stream", None).await.status(), 200);
    // Closing the first frees its place.
    drop(first);
    let mut reopened = 0;
    for _ in 0..50 {
        if hub.open(&token, "text/event-stream", None).await.status() == 200 {
            reopened += 1;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(reopened, 1, "a closed subscription frees its place");

    // Without an event bus.
    let without = Hub::start(SubscriptionOptions::default(), false).await;
    let response = without.open(&without.token("10000001"), "text/event-stream", None).await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["errors"][0]["extensions"]["code"], "EVENTS_UNAVAILABLE");
}

#[tokio::test]
async fn a_subscription_ends_when_its_token_expires() {
    let hub = Hub::start(SubscriptionOptions::default(), true).await;
    let token = hub.key.signer_as(ISSUER).sign_org(&ggzhub_kit::token::OrgTokenRequest {
        subject: "tester".into(),
        audience: vec!["gateway".into()],
        scheme: "URA".into(),
        identifier: "10000001".into(),
        scopes: vec!["picture:read".into()],
        name: None,
        ttl: Duration::from_secs(2),
    });
    let mut reader = Reader::new(hub.open(&token, "text/event-stream", None).await);
    let text = reader.until("the end of the stream", |t| t.contains("event: complete")).await;
    let events = reader.sse_events();
    assert_eq!(events.len(), 1, "{text}");
    assert_eq!(events[0].1["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    assert!(events[0].1["errors"][0]["message"].as_str().expect("message").contains("expired"));
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn socket(hub: &Hub) -> Socket {
    let url = hub.url.replace("http://", "ws://");
    let mut request = tungstenite::client::IntoClientRequest::into_client_request(url).expect("request");
    request.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse().expect("header"));
    let (socket, response) = tokio_tungstenite::connect_async(request).await.expect("upgraded");
    assert_eq!(response.headers()["sec-websocket-protocol"], "graphql-transport-ws");
    socket
}

async fn send(socket: &mut Socket, message: Value) {
    socket.send(tungstenite::Message::text(message.to_string())).await.expect("sent");
}

/// The next protocol message, or the close frame's code.
async fn receive(socket: &mut Socket) -> Result<Value, u16> {
    let next = async {
        loop {
            match socket.next().await {
                Some(Ok(tungstenite::Message::Text(text))) => return Ok(serde_json::from_str(&text).expect("JSON")),
                Some(Ok(tungstenite::Message::Close(frame))) => {
                    return Err(frame.map_or(1005, |f| u16::from(f.code)));
                }
                Some(Ok(_)) => continue,
                None | Some(Err(_)) => return Err(1006),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), next).await.expect("a message in time")
}

#[tokio::test]
async fn over_websocket_the_protocol_is_graphql_transport_ws() {
    let hub = Hub::start(SubscriptionOptions::default(), true).await;
    let mut ws = socket(&hub).await;
    send(&mut ws, json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {}", hub.token("10000001")) } })).await;
    assert_eq!(receive(&mut ws).await, Ok(json!({ "type": "connection_ack" })));
    send(&mut ws, json!({ "type": "ping" })).await;
    assert_eq!(receive(&mut ws).await, Ok(json!({ "type": "pong" })));
    send(&mut ws, json!({ "id": "1", "type": "subscribe", "payload": { "query": SUBSCRIPTION } })).await;
    // A bad document is an error for its id; the connection stays.
    send(&mut ws, json!({ "id": "2", "type": "subscribe", "payload": { "query": "subscription { nothingHere }" } }))
        .await;
    let error = receive(&mut ws).await.expect("an error message");
    assert_eq!((error["id"].as_str(), error["type"].as_str()), (Some("2"), Some("error")));
    assert_eq!(error["payload"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED");
    hub.publish("s1", "UTR", &[hub.b]).await;
    let seq = hub.publish("s2", "UTR", &[hub.a]).await;
    let next = receive(&mut ws).await.expect("the event");
    assert_eq!(next["id"], "1");
    assert_eq!(next["type"], "next");
    assert_eq!(next["payload"]["data"]["signalEvents"]["signal"]["id"], "s2", "s1 is not A's to read");
    assert_eq!(next["payload"]["extensions"]["eventId"], seq.to_string());
    // A query over the socket: one answer, then complete.
    send(&mut ws, json!({ "id": "3", "type": "subscribe", "payload": { "query": "{ people }" } })).await;
    // Resuming on a new subscription id from the first event: s2 again, from the stream.
    send(&mut ws, json!({ "id": "4", "type": "subscribe", "payload": { "query": SUBSCRIPTION, "extensions": { "lastEventId": (seq - 1).to_string() } } })).await;
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let message = receive(&mut ws).await.expect("a message");
        seen.push((
            message["id"].as_str().unwrap_or_default().to_owned(),
            message["type"].as_str().unwrap_or_default().to_owned(),
        ));
        if message["id"] == "4" {
            assert_eq!(message["payload"]["data"]["signalEvents"]["signal"]["id"], "s2");
        }
    }
    seen.sort();
    assert_eq!(seen, [("3".into(), "complete".into()), ("3".into(), "next".into()), ("4".into(), "next".into())]);
    // The client ends a subscription; reusing a running id closes the socket (4409).
    send(&mut ws, json!({ "id": "1", "type": "complete" })).await;
    send(&mut ws, json!({ "id": "4", "type": "subscribe", "payload": { "query": SUBSCRIPTION } })).await;
    assert_eq!(receive(&mut ws).await, Err(4409));
}

#[tokio::test]
async fn websocket_protocol_errors_close_with_the_protocols_codes() {
    let hub = Hub::start(
        SubscriptionOptions { connection_init_timeout_secs: 3, max_client_message_bytes: 4096, ..Default::default() },
        true,
    )
    .await;
    // Subscribing before connection_init.
    let mut ws = socket(&hub).await;
    send(&mut ws, json!({ "id": "1", "type": "subscribe", "payload": { "query": SUBSCRIPTION } })).await;
    assert_eq!(receive(&mut ws).await, Err(4401));
    // Not a protocol message.
    let mut ws = socket(&hub).await;
    ws.send(tungstenite::Message::text("hello")).await.expect("sent");
    assert_eq!(receive(&mut ws).await, Err(4400));
    // A bad token.
    let mut ws = socket(&hub).await;
    send(&mut ws, json!({ "type": "connection_init", "payload": { "authorization": "Bearer nonsense" } })).await;
    assert_eq!(receive(&mut ws).await, Err(4403));
    // Two connection_init.
    let mut ws = socket(&hub).await;
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {}", hub.token("10000001")) } });
    send(&mut ws, init.clone()).await;
    assert_eq!(receive(&mut ws).await, Ok(json!({ "type": "connection_ack" })));
    send(&mut ws, init).await;
    assert_eq!(receive(&mut ws).await, Err(4429));
    // Nothing sent within the initialisation timeout.
    let mut ws = socket(&hub).await;
    assert_eq!(receive(&mut ws).await, Err(4408));
    // An oversize message.
    let mut ws = socket(&hub).await;
    let _ = ws.send(tungstenite::Message::text("x".repeat(10_000))).await;
    assert_eq!(receive(&mut ws).await, Err(1009));
    // No subprotocol offered: refused before the upgrade.
    let url = hub.url.replace("http://", "ws://");
    let refused = tokio_tungstenite::connect_async(url).await;
    assert!(refused.is_err(), "an upgrade without graphql-transport-ws is refused");
}

/// The close frame's code and reason, after any other messages (which are returned with it).
async fn closed(socket: &mut Socket) -> (u16, String, Vec<Value>) {
    let mut before = Vec::new();
    let next = async {
        loop {
            match socket.next().await {
                Some(Ok(tungstenite::Message::Text(text))) => before.push(serde_json::from_str(&text).expect("JSON")),
                Some(Ok(tungstenite::Message::Close(Some(frame)))) => {
                    return (u16::from(frame.code), frame.reason.to_string());
                }
                Some(Ok(tungstenite::Message::Close(None))) => return (1005, String::new()),
                Some(Ok(_)) => continue,
                None => return (1006, String::new()),
                Some(Err(e)) => return (1006, e.to_string()),
            }
        }
    };
    let (code, reason) = tokio::time::timeout(Duration::from_secs(20), next).await.expect("closed in time");
    (code, reason, before)
}

/// A client's WebSocket text frame (clients mask theirs; RFC 6455 section 5.3).
fn masked_text(text: &str) -> Vec<u8> {
    let (payload, mask) = (text.as_bytes(), [0x12u8, 0x34, 0x56, 0x78]);
    let mut frame = vec![0x81];
    match payload.len() {
        n if n < 126 => frame.push(0x80 | n as u8),
        n => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&u16::try_from(n).expect("a short message").to_be_bytes());
        }
    }
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

/// The server's frames in `bytes` (unmasked): opcode and payload each.
fn server_frames(mut bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut frames = Vec::new();
    while bytes.len() >= 2 {
        let (opcode, short) = (bytes[0] & 0x0f, usize::from(bytes[1] & 0x7f));
        let (len, start) = match short {
            126 => (usize::from(u16::from_be_bytes([bytes[2], bytes[3]])), 4),
            127 => (usize::try_from(u64::from_be_bytes(bytes[2..10].try_into().expect("8 bytes"))).expect("len"), 10),
            n => (n, 2),
        };
        frames.push((opcode, bytes[start..start + len].to_vec()));
        bytes = &bytes[start + len..];
    }
    frames
}

#[tokio::test]
async fn an_idle_websocket_is_closed_with_the_reason_and_a_live_one_is_not() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let options = SubscriptionOptions { keepalive_secs: 1, idle_timeout_secs: 4, ..Default::default() };
    let hub = Hub::start(options, true).await;
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {}", hub.token("10000001")) } });

    // Acknowledged, but nothing subscribed: closed once idle.
    let mut ws = socket(&hub).await;
    send(&mut ws, init.clone()).await;
    assert_eq!(receive(&mut ws).await, Ok(json!({ "type": "connection_ack" })));
    let (code, reason, _) = closed(&mut ws).await;
    assert_eq!((code, reason.as_str()), (1000, "idle: no subscription for 4 s"));

    // A subscription running, the client answering the gateway's pings (this client answers
    // while it reads): still open past the idle time, and the event arrives.
    let mut ws = socket(&hub).await;
    send(&mut ws, init.clone()).await;
    assert_eq!(receive(&mut ws).await, Ok(json!({ "type": "connection_ack" })));
    send(&mut ws, json!({ "id": "1", "type": "subscribe", "payload": { "query": SUBSCRIPTION } })).await;
    let pings_only = async {
        loop {
            match ws.next().await {
                Some(Ok(tungstenite::Message::Ping(_))) => continue,
                other => return other,
            }
        }
    };
    let quiet = tokio::time::timeout(Duration::from_secs(6), pings_only).await;
    assert!(quiet.is_err(), "nothing but pings in 6 s: {quiet:?}");
    hub.publish("s1", "UTR", &[hub.a]).await;
    let next = receive(&mut ws).await.expect("the event");
    assert_eq!(next["payload"]["data"]["signalEvents"]["signal"]["id"], "s1");
    // The client ends its subscription: the socket is idle from then on.
    send(&mut ws, json!({ "id": "1", "type": "complete" })).await;
    let (code, reason, _) = closed(&mut ws).await;
    assert_eq!((code, reason.as_str()), (1000, "idle: no subscription for 4 s"));

    // A client that answers no ping (gone, or hung) is closed although its subscription runs. This
    // one speaks the protocol over a bare TCP socket: it sends its frames and never a pong.
    let mut tcp = tokio::net::TcpStream::connect(hub.url.trim_start_matches("http://").trim_end_matches("/graphql"))
        .await
        .expect("connected");
    let upgrade = "GET /graphql HTTP/1.1\r\nhost: gateway\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\
        sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\
        sec-websocket-protocol: graphql-transport-ws\r\n\r\n";
    tcp.write_all(upgrade.as_bytes()).await.expect("upgrade sent");
    tcp.write_all(&masked_text(&init.to_string())).await.expect("init sent");
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": SUBSCRIPTION } });
    tcp.write_all(&masked_text(&subscribe.to_string())).await.expect("subscribe sent");
    let mut received = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), tcp.read_to_end(&mut received))
        .await
        .expect("the gateway ends the connection in time")
        .expect("read");
    let head = received.windows(4).position(|w| w == b"\r\n\r\n").expect("the upgrade's answer") + 4;
    let frames = server_frames(&received[head..]);
    assert!(frames.iter().any(|(opcode, _)| *opcode == 0x9), "pinged meanwhile: {frames:?}");
    let (opcode, close) = frames.last().expect("a close frame");
    assert_eq!(*opcode, 0x8, "the last frame closes: {frames:?}");
    assert_eq!(u16::from_be_bytes([close[0], close[1]]), 1000);
    assert_eq!(String::from_utf8_lossy(&close[2..]), "idle: nothing heard from the client for 4 s");
}

#[tokio::test]
async fn a_client_of_a_stopped_replica_resumes_on_another_from_nats_and_misses_nothing() {
    let nats = ggzhub_kit::events::testing::NatsServer::start().await;
    let bus: Arc<dyn EventBus> = ggzhub_kit::events::NatsBus::connect(&nats.url()).await.expect("NATS");
    let first = Hub::on_bus(SubscriptionOptions::default(), true, bus).await;
    let second = first.replica().await;
    let token = first.token("10000001");

    let mut reader = Reader::new(first.open(&token, "text/event-stream", None).await);
    reader.until("the stream opening", |t| t.starts_with(':')).await;
    let seen = first.publish("s1", "UTR", &[first.a]).await;
    reader.until("the first event", |t| count(t, "event: next") >= 1).await;
    assert_eq!(reader.sse_events()[0].0, Some(seen));

    // The first replica goes away with its client's connection; events go on meanwhile.
    first.server.abort();
    drop(reader);
    let missed = [first.publish("s2", "UTR", &[first.a]).await, first.publish("s3", "UTR", &[first.a]).await];
    first.publish("s4", "UTR", &[first.b]).await;

    // The client reconnects to the other replica with its last event id.
    let mut resumed = Reader::new(second.open(&token, "text/event-stream", Some(seen)).await);
    resumed.until("the missed events", |t| count(t, "event: next") >= 2).await;
    let after = second.publish("s5", "UTR", &[first.a]).await;
    resumed.until("the new event", |t| count(t, "event: next") >= 3).await;
    let ids: Vec<_> = resumed.sse_events().iter().map(|(id, _)| id.expect("an id")).collect();
    assert_eq!(ids, [missed[0], missed[1], after], "nothing missed, nothing twice, nothing of B's");
}

#[tokio::test]
async fn a_client_too_slow_for_the_buffer_is_cut_off_with_a_reason_and_resumes_without_loss() {
    // Listeners of this bus may fall 64 events behind.
    const BUFFER: usize = 64;
    let bus: Arc<dyn EventBus> = LocalBus::with_live_buffer(10_000, BUFFER);
    let hub = Hub::on_bus(SubscriptionOptions::default(), true, bus).await;
    let token = hub.token("10000001");
    let mut reader = Reader::new(hub.open(&token, "text/event-stream", None).await);
    reader.until("the stream opening", |t| t.starts_with(':')).await;
    // More events arrive at once than the bus buffers for a listener (this test's runtime has
    // one thread: the subscription runs only once they are all published).
    let total = BUFFER * 3;
    let mut last = 0;
    for n in 0..total {
        let event = Event {
            id: format!("signals:bulk-{n}"),
            subgraph: "signals".into(),
            field: "signalEvents".into(),
            scope: BTreeMap::from([("region".into(), "UTR".into())]),
            audience: None,
            payload: json!({ "kind": "RAISED", "signalId": format!("b{n}"), "title": "t", "audience": [hub.a.to_string()] }),
            occurred_at: chrono::Utc::now(),
        };
        hub.bus.publish(&event).await.expect("published");
        last = n;
    }
    let text = reader.until("the end of the stream", |t| t.contains("event: complete")).await;
    let events = reader.sse_events();
    let (final_id, final_body) = events.last().expect("a final message").clone();
    assert_eq!(final_body["errors"][0]["extensions"]["code"], "SUBSCRIPTION_TOO_SLOW", "{}", &text[text.len() - 300..]);
    let delivered: Vec<u64> =
        events.iter().filter(|(_, body)| body.get("data").is_some()).filter_map(|(id, _)| *id).collect();
    assert!(delivered.len() < total, "cut off before the end");
    assert!(delivered.windows(2).all(|w| w[1] == w[0] + 1), "what was sent before the cut has no gaps");
    // The final message names where to resume: after the last event sent (or, when none was,
    // where the subscription started), as the SSE id an EventSource sends back by itself.
    let resume_from = final_id.expect("the final message's id");
    assert_eq!(final_body["errors"][0]["extensions"]["lastEventId"], resume_from.to_string());
    assert_eq!(delivered.last().copied().unwrap_or(0), resume_from);
    let mut resumed = Reader::new(hub.open(&token, "text/event-stream", Some(resume_from)).await);
    let expected = total - delivered.len();
    resumed.until("the rest", |t| count(t, "event: next") >= expected).await;
    let rest: Vec<u64> = resumed.sse_events().iter().filter_map(|(id, _)| *id).collect();
    assert_eq!(rest.len(), expected);
    assert_eq!(rest.first().copied(), Some(resume_from + 1));
    assert_eq!(rest.last().copied(), Some(u64::try_from(last).expect("small") + 1));
}

#[tokio::test]
async fn the_owning_subgraph_is_asked_only_for_subscribers_in_the_events_audience() {
    let hub = Hub::start(SubscriptionOptions::default(), true).await;
    let (mut a, mut b) = (
        Reader::new(hub.open(&hub.token("10000001"), "text/event-stream", None).await),
        Reader::new(hub.open(&hub.token("10000002"), "text/event-stream", None).await),
    );
    a.until("A's stream opening", |t| t.starts_with(':')).await;
    b.until("B's stream opening", |t| t.starts_with(':')).await;
    // The subgraph would resolve it for both; the event's audience names A (by id) only.
    let id = format!("aud-{}", Uuid::now_v7());
    let mut event = Event {
        id: format!("signals:{id}"),
        subgraph: "signals".into(),
        field: "signalEvents".into(),
        scope: BTreeMap::from([("region".into(), "UTR".into())]),
        audience: Some(ggzhub_kit::events::Audience { organisations: vec![hub.a.to_string()], kinds: Vec::new() }),
        payload: json!({ "kind": "RAISED", "signalId": id, "title": "t", "audience": [hub.a.to_string(), hub.b.to_string()] }),
        occurred_at: chrono::Utc::now(),
    };
    hub.bus.publish(&event).await.expect("published");
    // Then one for B's kind (PROVIDER), to know B's subscription has seen the first.
    let marker = format!("aud-{}", Uuid::now_v7());
    event.id = format!("signals:{marker}");
    event.audience = Some(ggzhub_kit::events::Audience { organisations: Vec::new(), kinds: vec!["PROVIDER".into()] });
    event.payload["signalId"] = json!(marker);
    hub.bus.publish(&event).await.expect("published");
    a.until("A's event", |t| count(t, "event: next") >= 1).await;
    b.until("B's marker", |t| count(t, "event: next") >= 1).await;
    assert_eq!(a.sse_events()[0].1["data"]["signalEvents"]["signal"]["id"], id.as_str());
    assert_eq!(b.sse_events()[0].1["data"]["signalEvents"]["signal"]["id"], marker.as_str());
    let asked: Vec<_> = ASKED.lock().expect("lock").iter().filter(|(_, s)| *s == id).map(|(o, _)| o.clone()).collect();
    assert_eq!(asked, [hub.a.to_string()], "the subgraph was asked for A only");
    let asked: Vec<_> =
        ASKED.lock().expect("lock").iter().filter(|(_, s)| *s == marker).map(|(o, _)| o.clone()).collect();
    assert_eq!(asked, [hub.b.to_string()], "A (an insurer) is not of the marker's audience kind");
}

#[tokio::test]
async fn sse_over_get_a_flood_of_subscribes_and_oversize_answers() {
    let hub =
        Hub::start(SubscriptionOptions { max_per_connection: 3, max_message_bytes: 120, ..Default::default() }, true)
            .await;
    let token = hub.token("10000001");
    // SSE over GET, as EventSource sends it (no preflight header; the token here is a bearer).
    let response = hub
        .http
        .get(&hub.url)
        .header("accept", "text/event-stream")
        .bearer_auth(&token)
        .query(&[("query", SUBSCRIPTION)])
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    let mut reader = Reader::new(response);
    reader.until("the stream opening", |t| t.starts_with(':')).await;
    // An answer over max_message_bytes is replaced by an error; the subscription goes on.
    let seq = hub.publish("big", "UTR", &[hub.a]).await;
    reader.until("the replaced answer", |t| count(t, "event: next") >= 1).await;
    let (id, body) = reader.sse_events()[0].clone();
    assert_eq!(id, Some(seq));
    assert_eq!(body["errors"][0]["extensions"]["code"], "SUBSCRIPTION_MESSAGE_TOO_LARGE");
    assert!(body.get("data").is_none_or(Value::is_null));

    // A flood of subscribes on one socket: three run, the rest get SUBSCRIPTION_LIMIT each, and
    // the connection stays usable.
    let mut ws = socket(&hub).await;
    send(&mut ws, json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } }))
        .await;
    assert_eq!(receive(&mut ws).await, Ok(json!({ "type": "connection_ack" })));
    for n in 0..50 {
        send(&mut ws, json!({ "id": n.to_string(), "type": "subscribe", "payload": { "query": SUBSCRIPTION } })).await;
    }
    let mut limited = 0;
    while limited < 47 {
        let message = receive(&mut ws).await.expect("an error message");
        assert_eq!(message["type"], "error", "{message}");
        assert_eq!(message["payload"][0]["extensions"]["code"], "SUBSCRIPTION_LIMIT");
        limited += 1;
    }
    send(&mut ws, json!({ "type": "ping" })).await;
    assert_eq!(receive(&mut ws).await, Ok(json!({ "type": "pong" })));
}

#[tokio::test]
async fn subscribers_with_the_same_operation_and_identity_share_one_execution_per_event() {
    let hub = Hub::start(SubscriptionOptions::default(), true).await;
    let token = hub.token("10000001");
    let mut readers = Vec::new();
    for _ in 0..3 {
        let mut reader = Reader::new(hub.open(&token, "text/event-stream", None).await);
        reader.until("the stream opening", |t| t.starts_with(':')).await;
        readers.push(reader);
    }
    let id = format!("shared-{}", Uuid::now_v7());
    hub.publish(&id, "UTR", &[hub.a]).await;
    for reader in &mut readers {
        reader.until("the event", |t| count(t, "event: next") >= 1).await;
        assert_eq!(reader.sse_events()[0].1["data"]["signalEvents"]["signal"]["id"], id.as_str());
    }
    let asked = ASKED.lock().expect("lock").iter().filter(|(_, s)| *s == id).count();
    assert_eq!(asked, 1, "three subscribers of one organisation, one execution");
}
