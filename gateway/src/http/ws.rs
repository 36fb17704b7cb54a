//! GraphQL over WebSocket: the `graphql-transport-ws` protocol (graphql-ws, urql, Apollo Client's
//! `GraphQLWsLink`) on `GET /graphql` with `Sec-WebSocket-Protocol: graphql-transport-ws`.
//!
//! The client has `[subscriptions] connection_init_timeout_secs` to send `connection_init`; its
//! token comes in the payload (`{"Authorization": "Bearer …"}`, any case) or, failing that, in the
//! upgrade request's `Authorization` header; without one, public access applies when it is on.
//! Each `subscribe` goes through the same steps as an HTTP request (token, rate limit, trusted
//! documents, the engine's checks) and counts against the organisation's subscriptions; a query or
//! mutation sent over the socket gets one `next` and `complete`. To resume after a reconnect, a
//! client sends the last `extensions.eventId` it received as `extensions.lastEventId` in its
//! `subscribe`: the missed events come first.
//!
//! Protocol errors close the socket with the protocol's codes: 4400 (a message that is not the
//! protocol's), 4401 (`subscribe` before the acknowledgement), 4403 (`connection_init` refused),
//! 4408 (no `connection_init` in time), 4409 (an id already in use), 4429 (a second
//! `connection_init`), 1009 (a message over `max_client_message_bytes`). A connection idle for
//! `idle_timeout_secs` — no subscription running, or nothing heard from the client (no message,
//! no pong to the gateway's pings) — is closed with 1000 and the reason. Errors of one
//! subscription (a bad document, `SUBSCRIPTION_LIMIT`, …) are `error` messages for its id; the
//! connection stays.

use std::collections::HashMap;
use std::net::SocketAddr;

use apollo_compiler::executable::OperationType;
use apollo_compiler::response::JsonValue;
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::sync::mpsc;

use super::{AppState, MediaType, error_response};
use crate::context::{RequestContext, Transport};
use crate::error::{GatewayError, GraphqlError};
use crate::subscription::{FeedRequest, Message, Subscriber, feed};

pub const PROTOCOL: &str = "graphql-transport-ws";

/// Answers the upgrade, when the client speaks the protocol.
pub fn upgrade(state: AppState, peer: Option<SocketAddr>, headers: HeaderMap, upgrade: WebSocketUpgrade) -> Response {
    let offered = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim() == PROTOCOL);
    if !offered {
        return error_response(
            GatewayError::BadRequest,
            MediaType::Json,
            GatewayError::BadRequest.error(format!(
                "a WebSocket to /graphql speaks the {PROTOCOL} subprotocol: offer it in Sec-WebSocket-Protocol"
            )),
        );
    }
    let limit = state.options.subscriptions.options.max_client_message_bytes;
    upgrade
        .protocols([PROTOCOL])
        .max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| Connection::new(state, peer, headers).serve(socket))
        .into_response()
}

/// What a subscription's forwarder sends the connection.
enum Out {
    /// A protocol message to send.
    Text(String),
    /// The subscription with this id, started as this task number, is over.
    Done(String, u64),
}

struct Connection {
    state: AppState,
    peer: Option<SocketAddr>,
    headers: HeaderMap,
    /// The token the client gave in `connection_init` (or the upgrade request's).
    authorization: Option<HeaderValue>,
    acknowledged: bool,
    /// Running subscriptions by id, each with the number of its task (a `Done` of an earlier
    /// task under a reused id must not remove a later one).
    running: HashMap<String, (u64, tokio::task::JoinHandle<()>)>,
    tasks_started: u64,
    /// The connection's own answers to the client's messages (pong, ack, errors), sent by the
    /// loop itself: queued into the forwarders' bounded channel, which only this loop drains, a
    /// reply could wait forever for room.
    replies: std::collections::VecDeque<String>,
    out: mpsc::Sender<Out>,
    out_receiver: Option<mpsc::Receiver<Out>>,
}

#[derive(Deserialize)]
struct ClientMessage {
    #[serde(rename = "type")]
    kind: String,
    id: Option<String>,
    payload: Option<JsonValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SubscribePayload {
    query: Option<String>,
    operation_name: Option<String>,
    variables: Option<JsonValue>,
    extensions: Option<JsonValue>,
}

/// Sends `message`, unless the client takes nothing for `within`: `false` then, or when the
/// socket is gone.
async fn send_within(socket: &mut WebSocket, message: WsMessage, within: std::time::Duration) -> bool {
    matches!(tokio::time::timeout(within, socket.send(message)).await, Ok(Ok(())))
}

/// How long a closing connection waits for the client's Close.
const CLOSE_HANDSHAKE: std::time::Duration = std::time::Duration::from_secs(1);

/// How a connection ends: the close code and reason, or the client went away.
type Close = Option<(u16, String)>;

impl Connection {
    fn new(state: AppState, peer: Option<SocketAddr>, headers: HeaderMap) -> Self {
        let (out, out_receiver) = mpsc::channel(64);
        let authorization = headers.get(header::AUTHORIZATION).cloned();
        Self {
            state,
            peer,
            headers,
            authorization,
            acknowledged: false,
            running: HashMap::new(),
            tasks_started: 0,
            replies: std::collections::VecDeque::new(),
            out,
            out_receiver: Some(out_receiver),
        }
    }

    async fn serve(mut self, mut socket: WebSocket) {
        let options = self.state.options.subscriptions.options;
        let Some(mut out_receiver) = self.out_receiver.take() else { return };
        let init_deadline =
            tokio::time::sleep(std::time::Duration::from_secs(options.connection_init_timeout_secs.max(1)));
        tokio::pin!(init_deadline);
        let keepalive = options.keepalive();
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + keepalive, keepalive);
        let idle = options.idle_timeout();
        let mut heard = tokio::time::Instant::now();
        let mut unused_since = Some(heard);
        let idle_timer = tokio::time::sleep_until(heard + idle);
        tokio::pin!(idle_timer);
        // A send the client does not take within `idle` (its window full: a peer gone without
        // closing) ends the connection, as silence does.
        let close: Close = loop {
            let mut gone = false;
            while let Some(reply) = self.replies.pop_front() {
                if !send_within(&mut socket, WsMessage::Text(reply.into()), idle).await {
                    gone = true;
                    break;
                }
            }
            if gone {
                break None;
            }
            // Idle: no subscription for `idle`, or, while one runs, nothing from the client for
            // `idle`.
            let idle_at = unused_since.unwrap_or(heard) + idle;
            if idle_timer.deadline() != idle_at {
                idle_timer.as_mut().reset(idle_at);
            }
            tokio::select! {
                received = socket.recv() => {
                    heard = tokio::time::Instant::now();
                    match received {
                        None | Some(Ok(WsMessage::Close(_))) => break None,
                        Some(Err(error)) => {
                            let text = error.to_string();
                            if text.contains("too long") || text.contains("too big") || text.contains("Space limit") {
                                break Some((1009, format!("message larger than {} bytes", options.max_client_message_bytes)));
                            }
                            break None;
                        }
                        Some(Ok(WsMessage::Text(text))) => {
                            if let Err(close) = self.handle(text.as_str()).await {
                                break Some(close);
                            }
                        }
                        Some(Ok(WsMessage::Binary(_))) => break Some((4400, "messages are JSON text".into())),
                        // A pong (to the gateway's ping) or a ping: the client is there.
                        Some(Ok(_)) => {}
                    }
                }
                Some(out) = out_receiver.recv() => match out {
                    Out::Text(text) => {
                        if !send_within(&mut socket, WsMessage::Text(text.into()), idle).await {
                            break None;
                        }
                    }
                    Out::Done(id, task) => {
                        if self.running.get(&id).is_some_and(|(running, _)| *running == task) {
                            self.running.remove(&id);
                        }
                    }
                },
                () = &mut init_deadline, if !self.acknowledged => {
                    break Some((4408, "connection initialisation timeout".into()));
                }
                _ = ticker.tick() => {
                    if !send_within(&mut socket, WsMessage::Ping(Default::default()), idle).await {
                        break None;
                    }
                }
                () = &mut idle_timer => {
                    let secs = idle.as_secs();
                    break Some(if unused_since.is_some() {
                        (1000, format!("idle: no subscription for {secs} s"))
                    } else {
                        (1000, format!("idle: nothing heard from the client for {secs} s"))
                    });
                }
            }
            if self.running.is_empty() {
                unused_since.get_or_insert_with(tokio::time::Instant::now);
            } else {
                unused_since = None;
            }
        };
        for (_, (_, task)) in self.running.drain() {
            task.abort();
        }
        if let Some((code, reason)) = close {
            tracing::debug!(code, %reason, "closing a WebSocket");
            if send_within(
                &mut socket,
                WsMessage::Close(Some(CloseFrame { code, reason: reason.into() })),
                CLOSE_HANDSHAKE,
            )
            .await
            {
                // The closing handshake: the client's own Close, for a moment, before the TCP
                // connection goes. Closing at once would answer whatever the client still sends
                // (a pong to a ping it had not read yet) with a reset, and a reset makes the
                // client's system drop the unread close frame with its reason.
                let handshake = async {
                    while let Some(Ok(message)) = socket.recv().await {
                        if matches!(message, WsMessage::Close(_)) {
                            break;
                        }
                    }
                };
                let _ = tokio::time::timeout(CLOSE_HANDSHAKE, handshake).await;
            }
        }
    }

    /// One client message; `Err` closes the connection with that code and reason.
    async fn handle(&mut self, text: &str) -> Result<(), (u16, String)> {
        let message: ClientMessage = serde_json::from_str(text)
            .map_err(|_| (4400, "invalid message: not a graphql-transport-ws message".to_owned()))?;
        match message.kind.as_str() {
            "connection_init" => self.init(message.payload).await,
            "ping" => {
                self.replies.push_back(r#"{"type":"pong"}"#.into());
                Ok(())
            }
            "pong" => Ok(()),
            "subscribe" => {
                if !self.acknowledged {
                    return Err((4401, "Unauthorized: send connection_init first".into()));
                }
                let id = message.id.filter(|id| !id.is_empty()).ok_or((4400, "subscribe needs an id".to_owned()))?;
                if self.running.contains_key(&id) {
                    return Err((4409, format!("Subscriber for {id} already exists")));
                }
                let payload = message
                    .payload
                    .and_then(|p| serde_json::from_value::<SubscribePayload>(serde_json::to_value(p).ok()?).ok())
                    .ok_or((4400, "subscribe needs a payload with a query".to_owned()))?;
                self.subscribe(id, payload).await;
                Ok(())
            }
            "complete" => {
                if let Some((_, task)) = message.id.and_then(|id| self.running.remove(&id)) {
                    task.abort();
                }
                Ok(())
            }
            other => Err((4400, format!("invalid message type {other:?}"))),
        }
    }

    async fn init(&mut self, payload: Option<JsonValue>) -> Result<(), (u16, String)> {
        if self.acknowledged {
            return Err((4429, "Too many initialisation requests".into()));
        }
        if let Some(JsonValue::Object(payload)) = payload
            && let Some((_, value)) = payload.iter().find(|(k, _)| k.as_str().eq_ignore_ascii_case("authorization"))
        {
            let value = value.as_str().and_then(|v| HeaderValue::from_str(v).ok());
            self.authorization = Some(value.ok_or((4403, "Forbidden: Authorization must be a string".to_owned()))?);
        }
        // The token is checked now, so a bad one is refused before anything is subscribed (and
        // again with each subscribe, as each HTTP request is).
        if (self.authorization.is_some() || self.state.options.public.is_none())
            && let Err(error) = self.state.identity.authenticate(self.authorization.as_ref()).await
        {
            return Err((4403, format!("Forbidden: {error}")));
        }
        self.acknowledged = true;
        self.replies.push_back(r#"{"type":"connection_ack"}"#.into());
        Ok(())
    }

    /// Queues an `error` message for `id` (see `replies`).
    fn reply_error(&mut self, id: &str, errors: &[GraphqlError]) {
        let payload = serde_json::to_string(errors).unwrap_or_else(|_| "[]".into());
        self.replies.push_back(format!(r#"{{"id":{},"type":"error","payload":{payload}}}"#, json_string(id)));
    }

    async fn subscribe(&mut self, id: String, payload: SubscribePayload) {
        let options = self.state.options.subscriptions.options;
        if self.running.len() >= options.max_per_connection {
            let error = GatewayError::SubscriptionLimit.error(format!(
                "this connection has {} subscriptions running, the most allowed; complete one first",
                options.max_per_connection
            ));
            self.reply_error(&id, &[error]);
            return;
        }
        let persisted = match crate::admission::trusted::persisted_query_hash(payload.extensions.as_ref()) {
            Ok(hash) => hash,
            Err(error) => {
                self.reply_error(&id, &[error]);
                return;
            }
        };
        let resume = match payload.extensions.as_ref().and_then(|e| e.get("lastEventId")) {
            None | Some(JsonValue::Null) => None,
            Some(value) => match value.as_str().and_then(|v| v.parse::<u64>().ok()).or_else(|| value.as_u64()) {
                Some(seq) => Some(seq),
                None => {
                    let error = GatewayError::BadRequest
                        .error("extensions.lastEventId must be the eventId of an event this hub sent");
                    self.reply_error(&id, &[error]);
                    return;
                }
            },
        };
        let mut request = match super::to_request(
            payload.query.map(JsonValue::from),
            payload.operation_name.map(JsonValue::from),
            payload.variables,
            persisted.is_some(),
        ) {
            Ok(request) => request,
            Err(error) => {
                self.reply_error(&id, &[error]);
                return;
            }
        };
        let admitted = super::admit_caller(
            &self.state,
            self.peer,
            &self.headers,
            self.authorization.as_ref(),
            &mut request,
            persisted.as_deref(),
        )
        .await;
        let (key, caller) = match admitted {
            Ok(admitted) => admitted,
            Err(refused) => {
                self.reply_error(&id, &[refused.error]);
                return;
            }
        };
        let out = self.out.clone();
        let state = self.state.clone();
        let task_id = id.clone();
        self.tasks_started += 1;
        let number = self.tasks_started;
        let task = if state.gateway.operation_type(&request) == Some(OperationType::Subscription) {
            let headers = CallerOfRef(&caller).headers(&state);
            let context = RequestContext { request: &request, transport: Transport::Post, caller: &headers };
            let subscription = match state.gateway.subscribe(&context) {
                Ok(subscription) => subscription,
                Err(response) => {
                    self.reply_error(&id, &response.errors);
                    return;
                }
            };
            if let Err(response) = state.gateway.probe(&subscription, &headers).await {
                self.reply_error(&id, &response.errors);
                return;
            }
            drop(headers);
            let subscriptions = &state.options.subscriptions;
            let bus = match subscriptions.bus() {
                Ok(bus) => bus,
                Err(error) => {
                    self.reply_error(&id, &[error]);
                    return;
                }
            };
            let slot = match subscriptions.take(key) {
                Ok(slot) => slot,
                Err(error) => {
                    self.reply_error(&id, &[error]);
                    return;
                }
            };
            let mut receiver = feed(FeedRequest {
                gateway: state.gateway.clone(),
                identity: state.identity.clone(),
                bus,
                subscription,
                subscriber: Subscriber { claims: caller.claims, public: caller.public },
                resume_after: resume,
                max_message_bytes: subscriptions.options.max_message_bytes,
                slot,
            });
            tokio::spawn(async move {
                let quoted = json_string(&task_id);
                let mut ended_by_error = false;
                while let Some(message) = receiver.recv().await {
                    let text = match message {
                        Message::Next { body, .. } => {
                            format!(r#"{{"id":{quoted},"type":"next","payload":{}}}"#, String::from_utf8_lossy(&body))
                        }
                        Message::Final { error, .. } => {
                            ended_by_error = true;
                            let payload = serde_json::to_string(&[error]).unwrap_or_else(|_| "[]".into());
                            format!(r#"{{"id":{quoted},"type":"error","payload":{payload}}}"#)
                        }
                    };
                    if out.send(Out::Text(text)).await.is_err() {
                        return;
                    }
                }
                if !ended_by_error {
                    let _ = out.send(Out::Text(format!(r#"{{"id":{quoted},"type":"complete"}}"#))).await;
                }
                let _ = out.send(Out::Done(task_id, number)).await;
            })
        } else {
            // A query or mutation over the socket: one answer, then complete.
            tokio::spawn(async move {
                let quoted = json_string(&task_id);
                let headers = caller.headers(&state.identity, None);
                let response = state
                    .gateway
                    .run(&RequestContext { request: &request, transport: Transport::Post, caller: &headers })
                    .await;
                let text = if response.data.is_none() {
                    let payload = serde_json::to_string(&response.errors).unwrap_or_else(|_| "[]".into());
                    format!(r#"{{"id":{quoted},"type":"error","payload":{payload}}}"#)
                } else {
                    let body = response.to_json();
                    format!(r#"{{"id":{quoted},"type":"next","payload":{}}}"#, String::from_utf8_lossy(&body))
                };
                let ended_by_error = response.data.is_none();
                let _ = out.send(Out::Text(text)).await;
                if !ended_by_error {
                    let _ = out.send(Out::Text(format!(r#"{{"id":{quoted},"type":"complete"}}"#))).await;
                }
                let _ = out.send(Out::Done(task_id, number)).await;
            })
        };
        self.running.insert(id, (number, task));
    }
}

/// Borrowed caller headers for preparing a subscription before the caller moves into its feed.
struct CallerOfRef<'a>(&'a super::CallerOf);

impl CallerOfRef<'_> {
    fn headers<'s>(&self, state: &'s AppState) -> crate::auth::identity::CallerHeaders<'s> {
        if self.0.public {
            state.identity.for_public_caller(None)
        } else {
            state.identity.for_caller(self.0.claims.clone(), None)
        }
    }
}

fn json_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}
