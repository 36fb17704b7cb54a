//! GraphQL over HTTP: POST with JSON, GET for queries, both response media types with the
//! spec's status codes, GraphiQL for browsers in development, and the health endpoints.

pub mod cors;
pub mod dashboard;
pub mod server;
pub mod stream;
pub mod ws;

use std::net::SocketAddr;
use std::sync::Arc;

use apollo_compiler::executable::OperationType;
use apollo_compiler::response::{JsonMap, JsonValue};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tracing::Instrument as _;

use crate::admission::capacity::{AdmissionKey, Work};
use crate::admission::public::PeerAddr;
use crate::auth::identity::{CallerHeaders, Identity};
use crate::context::{GraphqlRequest, RequestContext, Transport};
use crate::engine::{Gateway, GraphqlResponse};
use crate::error::{GatewayError, GraphqlError};

pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Serve GraphiQL to browsers on GET /graphql (development).
    pub graphiql: bool,
    /// Refuse requests a browser could send cross-site without a CORS preflight.
    pub csrf_prevention: bool,
    /// Which operations each organisation may run (off by default).
    pub trusted_documents: Arc<crate::admission::trusted::TrustedDocuments>,
    /// Requests per second and burst per organisation (off by default).
    pub rate_limit: crate::admission::ratelimit::RateLimitOptions,
    /// The same limit shared by every replica through Redis (`[rate_limit] redis_url`; `None`:
    /// each replica limits on its own, the default).
    pub shared_rate_limit: Option<Arc<crate::admission::shared::SharedRateLimit>>,
    /// Several operations in one POST (off by default).
    pub batching: BatchingOptions,
    /// The dashboard at `/` (on by default; see [`crate::http::dashboard`]).
    pub dashboard: crate::http::dashboard::DashboardOptions,
    /// Public access: callers without a token limited to the dashboard's operations and the
    /// public contract schema, rate-limited per address (`None`: off, the default; see
    /// [`crate::admission::public`]).
    pub public: Option<Arc<crate::admission::public::PublicAccess>>,
    /// Admission control: slots in execution, the queue, the share per organisation, and the
    /// counters of what it did (`[admission]`, on by default; see [`crate::admission::capacity`]).
    /// Shared with whoever holds a clone of the `Arc` (metrics, benchmarks, tests), which reads
    /// [`Admission::stats`](crate::admission::capacity::Admission::stats).
    pub admission: Arc<crate::admission::capacity::Admission>,
    /// Subscriptions: the event bus they read and their limits (`[events]`, `[subscriptions]`;
    /// without a bus they are refused with `EVENTS_UNAVAILABLE`).
    pub subscriptions: Arc<crate::subscription::Subscriptions>,
    /// CORS for partners' browser apps (`[cors]`; `None`: off, the default; see [`cors`]).
    pub cors: Option<tower_http::cors::CorsLayer>,
}

impl Default for HttpOptions {
    /// No GraphiQL, CSRF prevention on, trusted documents, rate limiting, public access and CORS
    /// off, the dashboard on, admission control with gateway.toml's defaults.
    fn default() -> Self {
        Self {
            graphiql: false,
            csrf_prevention: true,
            trusted_documents: Arc::default(),
            rate_limit: crate::admission::ratelimit::RateLimitOptions::OFF,
            shared_rate_limit: None,
            batching: BatchingOptions::default(),
            dashboard: crate::http::dashboard::DashboardOptions::default(),
            public: None,
            admission: Arc::default(),
            subscriptions: Arc::default(),
            cors: None,
        }
    }
}

/// Batching (`server.batching`): a JSON array of requests in one POST.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BatchingOptions {
    /// Accept batches; off, an array is refused with 400.
    pub enabled: bool,
    /// Most operations in one batch; more: 400, BATCH_LIMIT_EXCEEDED.
    pub max_size: usize,
}

impl Default for BatchingOptions {
    fn default() -> Self {
        Self { enabled: false, max_size: 10 }
    }
}

/// Headers a browser sends cross-site only after a CORS preflight; any of them (or a
/// non-simple content type, or a bearer token) shows the request is not a forged simple request.
const PREFLIGHT_HEADERS: [&str; 3] =
    ["apollo-require-preflight", "x-apollo-operation-name", "graphql-require-preflight"];

/// Whether `Authorization` carries a bearer token: a page can set it only after a preflight, and
/// a browser never attaches one on its own (what it does attach from its own store is Basic,
/// Digest or Negotiate, which are not counted). So GraphQL clients' default GET requests (urql's,
/// for one) pass as they are. Other headers outside the CORS-safelisted set are not counted,
/// although a page could not set them either: proxies in front of the gateway add their own
/// (`X-Forwarded-For`, `X-Request-Id`, `traceparent`) to every request, forged ones included.
fn carries_bearer_token(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::AUTHORIZATION)
        .iter()
        .any(|v| v.as_bytes().split(|b| *b == b' ').next().is_some_and(|scheme| scheme.eq_ignore_ascii_case(b"bearer")))
}

/// A "simple" request (CSRF risk): no content type or one of the three a form can send, no
/// preflight header and no bearer token.
fn is_simple_request(headers: &HeaderMap) -> bool {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
    let simple_type = match content_type.as_deref() {
        None | Some("") => true,
        Some(t) => matches!(t, "text/plain" | "application/x-www-form-urlencoded" | "multipart/form-data"),
    };
    simple_type && !PREFLIGHT_HEADERS.iter().any(|h| headers.contains_key(*h)) && !carries_bearer_token(headers)
}

#[derive(Clone)]
pub struct AppState {
    pub gateway: Arc<Gateway>,
    pub identity: Arc<Identity>,
    pub options: HttpOptions,
    /// Built from `options.rate_limit`; shared by the clones of this state.
    pub rate_limiter: Arc<crate::admission::ratelimit::OrgRateLimiter>,
}

impl AppState {
    pub fn new(gateway: Arc<Gateway>, identity: Arc<Identity>, options: HttpOptions) -> Self {
        let rate_limiter = Arc::new(crate::admission::ratelimit::OrgRateLimiter::new(options.rate_limit));
        Self { gateway, identity, options, rate_limiter }
    }
}

pub fn router(state: AppState) -> Router {
    let files = crate::http::dashboard::routes(&state.options.dashboard, state.options.graphiql);
    Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/health/live", get(|| async { "ok" }))
        .route("/health/ready", get(ready))
        .with_state(state)
        .merge(files)
}

async fn ready(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.gateway.is_ready() {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "no supergraph loaded")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MediaType {
    GraphqlResponseJson,
    Json,
}

/// Picks the response media type from `Accept`; `None` when nothing acceptable is offered.
fn negotiate(headers: &HeaderMap) -> Option<MediaType> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Some(MediaType::Json);
    };
    let mut best: Option<(MediaType, f32)> = None;
    for part in accept.split(',') {
        let mut pieces = part.split(';');
        let media = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
        let quality =
            pieces.filter_map(|p| p.trim().strip_prefix("q=")).find_map(|q| q.parse::<f32>().ok()).unwrap_or(1.0);
        let candidate = match media.as_str() {
            GRAPHQL_RESPONSE_JSON => MediaType::GraphqlResponseJson,
            "application/json" | "application/*" | "*/*" => MediaType::Json,
            _ => continue,
        };
        if quality > 0.0 && best.is_none_or(|(_, q)| quality > q) {
            best = Some((candidate, quality));
        }
    }
    best.map(|(media, _)| media)
}

/// A refusal of the request as a whole: `error`, at the status `kind` has in the gateway's error
/// table, whatever the media type.
fn error_response(kind: GatewayError, media: MediaType, error: GraphqlError) -> Response {
    let response = GraphqlResponse { errors: vec![error], data: None, status: kind.status().as_u16() };
    respond(media, response, true)
}

/// A refusal of the request as a whole with one error of `kind` ([`error_response`]).
fn refuse(kind: GatewayError, media: MediaType, message: impl Into<String>) -> Response {
    error_response(kind, media, kind.error(message))
}

/// Serializes a GraphQL response. `http_level` marks refusals that keep their status whatever
/// the media type (405, 415, 401...); of the engine's, a GET mutation's and a gateway without a
/// supergraph keep theirs too.
fn respond(media: MediaType, response: GraphqlResponse, http_level: bool) -> Response {
    if response.data.is_none()
        && let Some(code) = response.errors.first().and_then(GraphqlError::code)
    {
        crate::metrics::refused(code);
    }
    let keeps_status = |status: u16| {
        [GatewayError::MethodNotAllowed, GatewayError::NotReady].iter().any(|kind| kind.status().as_u16() == status)
    };
    let status = match media {
        MediaType::GraphqlResponseJson => response.status,
        MediaType::Json if http_level || keeps_status(response.status) => response.status,
        MediaType::Json => 200,
    };
    let body = response.to_json();
    let content_type = match media {
        MediaType::GraphqlResponseJson => GRAPHQL_RESPONSE_JSON,
        MediaType::Json => "application/json",
    };
    let mut http = (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body).into_response();
    http.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if status == GatewayError::MethodNotAllowed.status().as_u16() {
        http.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
    }
    http
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBody {
    query: Option<JsonValue>,
    operation_name: Option<JsonValue>,
    variables: Option<JsonValue>,
    extensions: Option<JsonValue>,
}

/// Checks the shape of a request's parameters (GraphQL over HTTP, "Request Parameters"). A
/// request that names a persisted query (`persisted`) may leave out the query: it then gets an
/// empty one, which [`run`] replaces by the registered text.
fn to_request(
    query: Option<JsonValue>,
    operation_name: Option<JsonValue>,
    variables: Option<JsonValue>,
    persisted: bool,
) -> Result<GraphqlRequest, GraphqlError> {
    let bad = |message: &str| GatewayError::BadRequest.error(message);
    let query = match query {
        Some(JsonValue::String(q)) if !q.as_str().trim().is_empty() => q.as_str().to_owned(),
        None | Some(JsonValue::Null) if persisted => String::new(),
        Some(JsonValue::String(_)) | None | Some(JsonValue::Null) => return Err(bad("the request has no query")),
        Some(_) => return Err(bad("`query` must be a string")),
    };
    let operation_name = match operation_name {
        None | Some(JsonValue::Null) => None,
        Some(JsonValue::String(name)) => Some(name.as_str().to_owned()),
        Some(_) => return Err(bad("`operationName` must be a string")),
    };
    let variables = match variables {
        None | Some(JsonValue::Null) => JsonMap::new(),
        Some(JsonValue::Object(map)) => map,
        Some(_) => return Err(bad("`variables` must be an object")),
    };
    Ok(GraphqlRequest { query, operation_name, variables })
}

async fn graphql_post(
    State(state): State<AppState>,
    PeerAddr(peer): PeerAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let stream = stream::stream_media(&headers);
    let Some(media) = negotiate(&headers).or(stream.map(|_| MediaType::Json)) else {
        return refuse(
            GatewayError::NotAcceptable,
            MediaType::Json,
            "accept application/graphql-response+json or application/json (or, for subscriptions, text/event-stream or multipart/mixed;subscriptionSpec=\"1.0\")",
        );
    };
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if essence != "application/json" && essence != GRAPHQL_RESPONSE_JSON {
        return refuse(GatewayError::UnsupportedMediaType, media, "send the request as application/json");
    }
    let raw: RawBody = match serde_json::from_slice::<JsonValue>(&body) {
        Ok(JsonValue::Object(map)) => match serde_json::from_value(serde_json::to_value(&map).unwrap_or_default()) {
            Ok(raw) => raw,
            Err(_) => {
                return refuse(GatewayError::BadRequest, media, "the request body is not a GraphQL request");
            }
        },
        Ok(JsonValue::Array(items)) => {
            let incoming =
                Incoming { state: &state, peer, headers: &headers, transport: Transport::Post, media, stream: None };
            return run_batch(incoming, items).await;
        }
        Ok(_) => {
            return refuse(GatewayError::BadRequest, media, "the request body must be a JSON object");
        }
        Err(e) => {
            return refuse(GatewayError::BadRequest, media, format!("the request body is not valid JSON: {e}"));
        }
    };
    let persisted = match crate::admission::trusted::persisted_query_hash(raw.extensions.as_ref()) {
        Ok(hash) => hash,
        Err(error) => return error_response(GatewayError::BadRequest, media, error),
    };
    let request = match to_request(raw.query, raw.operation_name, raw.variables, persisted.is_some()) {
        Ok(request) => request,
        Err(error) => return error_response(GatewayError::BadRequest, media, error),
    };
    run(
        Incoming { state: &state, peer, headers: &headers, transport: Transport::Post, media, stream },
        request,
        persisted,
    )
    .await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetParams {
    query: Option<String>,
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

async fn graphql_get(
    State(state): State<AppState>,
    PeerAddr(peer): PeerAddr,
    headers: HeaderMap,
    upgrade: Result<axum::extract::ws::WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
    Query(params): Query<GetParams>,
) -> Response {
    if let Ok(upgrade) = upgrade {
        return ws::upgrade(state, peer, headers, upgrade);
    }
    let wants_html = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/html"));
    if params.query.is_none() && wants_html && state.options.graphiql {
        return crate::http::dashboard::graphiql_page();
    }
    let stream = stream::stream_media(&headers);
    let Some(media) = negotiate(&headers).or(stream.map(|_| MediaType::Json)) else {
        return refuse(
            GatewayError::NotAcceptable,
            MediaType::Json,
            "accept application/graphql-response+json or application/json (or, for subscriptions, text/event-stream or multipart/mixed;subscriptionSpec=\"1.0\")",
        );
    };
    let variables = match params.variables.as_deref() {
        None | Some("") => None,
        Some(text) => match serde_json::from_str::<JsonValue>(text) {
            Ok(value) => Some(value),
            Err(_) => {
                return refuse(GatewayError::BadRequest, media, "`variables` is not valid JSON");
            }
        },
    };
    let persisted = match params.extensions.as_deref().map(serde_json::from_str::<JsonValue>) {
        None => None,
        Some(Ok(extensions)) => match crate::admission::trusted::persisted_query_hash(Some(&extensions)) {
            Ok(hash) => hash,
            Err(error) => return error_response(GatewayError::BadRequest, media, error),
        },
        Some(Err(_)) => {
            return refuse(GatewayError::BadRequest, media, "`extensions` is not valid JSON");
        }
    };
    let request = match to_request(
        params.query.map(JsonValue::from),
        params.operation_name.map(JsonValue::from),
        variables,
        persisted.is_some(),
    ) {
        Ok(request) => request,
        Err(error) => return error_response(GatewayError::BadRequest, media, error),
    };
    // A subscription changes nothing, so a forged one gains an attacker nothing; and a browser's
    // EventSource can send neither a token nor a preflight header.
    let subscription = stream.is_some() && state.gateway.operation_type(&request) == Some(OperationType::Subscription);
    if state.options.csrf_prevention && !subscription && is_simple_request(&headers) {
        return refuse(
            GatewayError::CsrfPrevention,
            media,
            "a GET request needs a bearer token or a preflight header (apollo-require-preflight, x-apollo-operation-name or graphql-require-preflight) so that it cannot be forged cross-site",
        );
    }
    run(
        Incoming { state: &state, peer, headers: &headers, transport: Transport::Get, media, stream },
        request,
        persisted,
    )
    .await
}

/// How a request arrived over HTTP: what the steps before the engine (token, rate limit, trusted
/// documents) read, and the media type its answer is written in. Only references and copy types.
#[derive(Clone, Copy)]
struct Incoming<'a> {
    state: &'a AppState,
    /// The connection's peer address (public access limits per address).
    peer: Option<SocketAddr>,
    headers: &'a HeaderMap,
    transport: Transport,
    media: MediaType,
    /// The event-stream protocol `Accept` offers: a subscription is answered with it.
    stream: Option<stream::StreamMedia>,
}

/// One request after its parameters were read: the caller is authenticated, rate-limited and
/// held to trusted documents ([`admit_caller`]), given a slot in execution ([`admit_and_run`]),
/// then the engine runs it with a [`RequestContext`].
async fn run(incoming: Incoming<'_>, mut request: GraphqlRequest, persisted: Option<String>) -> Response {
    let Incoming { state, peer, headers, media, .. } = incoming;
    let meter = crate::metrics::RequestMeter::start(match incoming.transport {
        Transport::Post => "POST",
        Transport::Get => "GET",
    });
    let operation = request.operation_name.clone();
    let authorization = headers.get(header::AUTHORIZATION);
    let (response, kind) =
        match admit_caller(state, peer, headers, authorization, &mut request, persisted.as_deref()).await {
            Ok((key, caller)) => {
                let kind = caller.kind_label();
                (admit_and_run(incoming, request, key, caller).await, kind)
            }
            Err(refused) => (refused.into_response(media), "unknown"),
        };
    meter.finish(operation.as_deref(), kind, response.status().as_u16());
    response
}

/// Why [`admit_caller`] refused a request.
pub(crate) struct Refused {
    pub kind: GatewayError,
    pub error: GraphqlError,
    /// `Retry-After` of a rate limit.
    pub retry_after: Option<HeaderValue>,
}

impl Refused {
    fn new(kind: GatewayError, error: GraphqlError) -> Self {
        Self { kind, error, retry_after: None }
    }

    fn into_response(self, media: MediaType) -> Response {
        let mut response = error_response(self.kind, media, self.error);
        if self.kind == GatewayError::Unauthenticated {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(retry_after) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, retry_after);
        }
        response
    }
}

/// The steps before the engine: the caller's token (`authorization`; without one, public access
/// when it is on), the rate limit of its organisation (or address), and trusted documents (a
/// request that sent only a hash gets the registered text). Returns whom the request counts
/// against in admission control and whom it runs as.
pub(crate) async fn admit_caller(
    state: &AppState,
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
    authorization: Option<&HeaderValue>,
    request: &mut GraphqlRequest,
    persisted: Option<&str>,
) -> Result<(AdmissionKey, CallerOf), Refused> {
    if let Some(public) = state.options.public.as_ref().filter(|_| authorization.is_none()) {
        return admit_public(public, peer, headers, request, persisted);
    }
    let claims = match state.identity.authenticate(authorization).await {
        Ok(claims) => claims,
        Err(error) => {
            tracing::info!(reason = %error, "caller refused");
            return Err(Refused::new(
                GatewayError::Unauthenticated,
                GatewayError::Unauthenticated.error(error.to_string()),
            ));
        }
    };
    if let Some(claims) = &claims {
        tracing::Span::current().record("org", tracing::field::display(claims.org));
    }
    // Per organisation (anonymous callers share one bucket), before any work on the operation.
    let org = claims.as_ref().map(|claims| claims.org);
    let limited = match &state.options.shared_rate_limit {
        Some(shared) => shared.check(org).await,
        None => state.rate_limiter.check(org),
    };
    if let Err(limited) = limited {
        tracing::debug!(org = ?org, retry_after_secs = limited.retry_after_secs(), "rate limited");
        return Err(Refused {
            kind: GatewayError::RateLimited,
            error: limited.error(),
            retry_after: Some(limited.retry_after_header()),
        });
    }
    // Trusted documents, before the operation is parsed; a request that sent only a hash gets
    // the registered text.
    let query = (!request.query.is_empty()).then_some(request.query.as_str());
    match state.options.trusted_documents.admit(org, query, persisted) {
        Ok(None) => {}
        Ok(Some(text)) => request.query = text.to_string(),
        Err(refusal) => return Err(Refused::new(refusal.kind, refusal.error)),
    }
    // Callers with a token count against their organisation's share; anonymous ones against
    // their address, as public access counts them.
    let key = match org {
        Some(org) => AdmissionKey::Organisation(org),
        None => {
            let address = match &state.options.public {
                Some(public) => public.client_address(peer, headers),
                None => peer.map(|peer| peer.ip()),
            };
            address.map_or(AdmissionKey::Unknown, AdmissionKey::address)
        }
    };
    Ok((key, CallerOf { claims, public: false }))
}

/// Whom the engine runs a request as: the caller's token claims (none for an anonymous caller),
/// or the public under public access.
pub(crate) struct CallerOf {
    pub claims: Option<ggzhub_kit::token::InternalClaims>,
    pub public: bool,
}

impl CallerOf {
    /// The caller's organisation kind as a metric label (`public`, `anonymous` without a token).
    pub fn kind_label(&self) -> &'static str {
        match (&self.claims, self.public) {
            (Some(claims), _) => claims.org_kind.as_str(),
            (None, true) => "public",
            (None, false) => "anonymous",
        }
    }

    pub fn headers(self, identity: &Identity, traceparent: Option<HeaderValue>) -> CallerHeaders<'_> {
        if self.public {
            identity.for_public_caller(traceparent)
        } else {
            identity.for_caller(self.claims, traceparent)
        }
    }
}

/// Whether admission control may shed `request` while it waits: every operation but a mutation.
/// Only a document with the word `mutation` in it can hold one, so only those are parsed here, a
/// second time (the engine's parse is cached per document, this one is not): a query's path
/// gets one substring search, and mutations are rare.
fn work_of(gateway: &Gateway, request: &GraphqlRequest) -> Work {
    if request.query.contains("mutation") && gateway.operation_type(request) == Some(OperationType::Mutation) {
        Work::Mutation
    } else {
        Work::Query
    }
}

/// The last step before the engine: a slot in execution ([`crate::admission::capacity`]), or
/// 503 `OVERLOADED` with `Retry-After` at once; then the engine runs the request.
///
/// A query runs in this handler: when the client goes away or `server.request_timeout_secs`
/// fires, the handler's future is dropped, the query's execution with it, and its slot is free
/// again. A mutation runs on a task of its own that holds its slot: once it has started it
/// completes (every subgraph call of its plan is made) whatever happens to the client, and only
/// its answer is lost. The task inherits the request's span, so its logs and traces stay the
/// request's.
async fn admit_and_run(
    incoming: Incoming<'_>,
    request: GraphqlRequest,
    key: AdmissionKey,
    caller: CallerOf,
) -> Response {
    let Incoming { state, media, transport, .. } = incoming;
    if let Some(protocol) = incoming.stream
        && state.gateway.operation_type(&request) == Some(OperationType::Subscription)
    {
        return subscribe(incoming, request, key, caller, protocol).await;
    }
    let work = work_of(&state.gateway, &request);
    let permit = match state.options.admission.admit(key, work).await {
        Ok(permit) => permit,
        Err(overloaded) => {
            tracing::debug!(%key, reason = overloaded.reason.as_str(), ?work, "overloaded: request refused");
            let mut response = error_response(GatewayError::Overloaded, media, overloaded.error());
            response.headers_mut().insert(header::RETRY_AFTER, overloaded.retry_after_header());
            return response;
        }
    };
    let traceparent = crate::subgraph::trace::current_traceparent();
    let response = match work {
        Work::Query => {
            let caller = caller.headers(&state.identity, traceparent);
            let response = state.gateway.run(&RequestContext { request: &request, transport, caller: &caller }).await;
            drop(permit);
            response
        }
        Work::Mutation => {
            let (gateway, identity) = (state.gateway.clone(), state.identity.clone());
            let execution = async move {
                let caller = caller.headers(&identity, traceparent);
                let response = gateway.run(&RequestContext { request: &request, transport, caller: &caller }).await;
                drop(permit);
                response
            };
            match tokio::spawn(execution.instrument(tracing::Span::current())).await {
                Ok(response) => response,
                Err(error) => {
                    tracing::error!(%error, "the execution of a mutation failed");
                    GraphqlResponse {
                        errors: vec![GatewayError::internal()],
                        data: None,
                        status: GatewayError::Internal.status().as_u16(),
                    }
                }
            }
        }
    };
    respond(media, response, false)
}

/// A subscription over SSE or multipart HTTP ([`stream`]): prepared like a query (the engine's
/// checks, per caller), counted against the caller's organisation, then fed from the event bus
/// ([`crate::subscription`]). It takes no execution slot: it waits for events, and each event's
/// execution is bounded by the subscriptions per organisation.
async fn subscribe(
    incoming: Incoming<'_>,
    request: GraphqlRequest,
    key: AdmissionKey,
    caller: CallerOf,
    protocol: stream::StreamMedia,
) -> Response {
    let Incoming { state, media, transport, headers, .. } = incoming;
    let subscriptions = &state.options.subscriptions;
    let resume = match stream::last_event_id(headers) {
        Ok(resume) => resume,
        Err(error) => return error_response(GatewayError::BadRequest, media, error),
    };
    let bus = match subscriptions.bus() {
        Ok(bus) => bus,
        Err(error) => return error_response(GatewayError::EventsUnavailable, media, error),
    };
    let subscriber = crate::subscription::Subscriber { claims: caller.claims.clone(), public: caller.public };
    let headers = caller.headers(&state.identity, None);
    let subscription = match state.gateway.subscribe(&RequestContext { request: &request, transport, caller: &headers })
    {
        Ok(subscription) => subscription,
        Err(response) => return respond(media, response, true),
    };
    if let Err(response) = state.gateway.probe(&subscription, &headers).await {
        return respond(media, response, true);
    }
    drop(headers);
    let slot = match subscriptions.take(key) {
        Ok(slot) => slot,
        Err(error) => return error_response(GatewayError::SubscriptionLimit, media, error),
    };
    let receiver = crate::subscription::feed(crate::subscription::FeedRequest {
        gateway: state.gateway.clone(),
        identity: state.identity.clone(),
        bus,
        subscription,
        subscriber,
        resume_after: resume,
        max_message_bytes: subscriptions.options.max_message_bytes,
        slot,
    });
    stream::respond(protocol, receiver, subscriptions.options.keepalive())
}

/// A caller without a token under public access ([`crate::admission::public`]): rate-limited per client
/// address, held to the dashboard's operations, then run with the public contract schema and the
/// public reader's internal tokens.
fn admit_public(
    public: &crate::admission::public::PublicAccess,
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
    request: &mut GraphqlRequest,
    persisted: Option<&str>,
) -> Result<(AdmissionKey, CallerOf), Refused> {
    let address = public.client_address(peer, headers);
    if let Err(limited) = public.check(address) {
        tracing::debug!(address = ?address, retry_after_secs = limited.retry_after_secs(), "public caller rate limited");
        let message = format!("too many requests from your address: retry after {} s", limited.retry_after_secs());
        return Err(Refused {
            kind: GatewayError::RateLimited,
            error: GatewayError::RateLimited.error(message),
            retry_after: Some(limited.retry_after_header()),
        });
    }
    let query = (!request.query.is_empty()).then_some(request.query.as_str());
    match public.operations.admit(None, query, persisted) {
        Ok(None) => {}
        Ok(Some(text)) => request.query = text.to_string(),
        Err(mut refusal) => {
            // The same codes as trusted documents; the message speaks to a caller without a token.
            match refusal.kind {
                GatewayError::PersistedQueryNotFound => {
                    refusal.error.message = "no operation of the dashboard has this hash: without a token only the dashboard's operations are served".into();
                }
                GatewayError::PersistedQueryNotInList => {
                    refusal.error.message =
                        "without a token only the dashboard's operations are served: sign in to send other operations"
                            .into();
                }
                _ => {}
            }
            return Err(Refused::new(refusal.kind, refusal.error));
        }
    }
    let key = address.map_or(AdmissionKey::Unknown, AdmissionKey::address);
    Ok((key, CallerOf { claims: None, public: true }))
}

/// The gateway's handling of request bodies, innermost first: `body_limit` counts the bytes the
/// handler reads (axum's own 2 MB default is replaced by it), after a gzip or deflate body is
/// decompressed, which happens while it is read, so a zip bomb stops at the limit instead of
/// being inflated whole; any other Content-Encoding is refused with 415; and the plain-text
/// refusals of these layers become GraphQL errors ([`refusals_as_graphql_errors`]). The unread
/// rest of a refused body is read and discarded before the answer goes out, by the shared layers
/// around these (`ggzhub_kit::server::DRAIN_LIMIT`). The four are one stack added with one
/// `Router::layer`: axum boxes and clones a route's service per request for every `layer` call,
/// a cost each request paid four times here.
pub fn body_layers(routes: Router, body_limit: usize) -> Router {
    routes.layer(
        tower::ServiceBuilder::new()
            .layer(axum::middleware::from_fn_with_state(body_limit, refusals_as_graphql_errors))
            .layer(RequestDecompressionLayer::new().gzip(true).deflate(true).no_br().no_zstd())
            .layer(RequestBodyLimitLayer::new(body_limit))
            .layer(DefaultBodyLimit::disable()),
    )
}

/// Turns the plain-text refusals made before the handler runs into GraphQL errors in the
/// negotiated media type, keeping their status and headers: 413 (the body is over the limit,
/// PAYLOAD_TOO_LARGE), 415 (a Content-Encoding that cannot be decompressed,
/// UNSUPPORTED_CONTENT_ENCODING) and 400 (a body that cannot be read, such as a corrupt gzip
/// stream, or a malformed query string: BAD_REQUEST). The handler's own answers are JSON already
/// and pass as they are.
async fn refusals_as_graphql_errors(
    State(body_limit): State<usize>,
    request: axum::extract::Request,
    next: Next,
) -> Response {
    let media = negotiate(request.headers()).unwrap_or(MediaType::Json);
    let response = next.run(request).await;
    let status = response.status();
    if !matches!(status, StatusCode::BAD_REQUEST | StatusCode::PAYLOAD_TOO_LARGE | StatusCode::UNSUPPORTED_MEDIA_TYPE) {
        return response;
    }
    let is_json = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| {
        let t = t.trim_start().to_ascii_lowercase();
        t.starts_with("application/json") || t.starts_with(GRAPHQL_RESPONSE_JSON)
    });
    if is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    // The kinds keep the layers' statuses: 413, 415 and 400.
    let (kind, message) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => (
            GatewayError::PayloadTooLarge,
            format!("the request body is larger than {body_limit} bytes (counted after decompression)"),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            let accepted = parts.headers.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("");
            (
                GatewayError::UnsupportedContentEncoding,
                format!("unsupported Content-Encoding: send the body uncompressed or encoded with one of: {accepted}"),
            )
        }
        _ => {
            // axum's rejection text, e.g. "Failed to buffer the request body: ..." for a corrupt
            // gzip stream.
            let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
            let text = String::from_utf8_lossy(&text);
            let text = if text.trim().is_empty() { "malformed request" } else { text.trim() };
            (GatewayError::BadRequest, format!("the request could not be read: {text}"))
        }
    };
    let mut refused = refuse(kind, media, message);
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            refused.headers_mut().append(name.clone(), value.clone());
        }
    }
    refused
}

/// A batch (`server.batching`): each entry is handled as a request of its own ([`run`]: token,
/// rate limit, trusted documents, a slot of admission control, then the engine with its limits
/// and cost), and the answer is the array of their bodies in order. Queries next to each other
/// run concurrently; a mutation (or an entry whose operation type cannot be told before it runs)
/// waits for everything before it and runs alone, so mutations run one after the other, in order.
/// Admission control counts operations, not HTTP requests: a batch of ten concurrent queries
/// takes ten slots (or is refused in part, each refused entry with its own `OVERLOADED` error), as
/// ten single requests would. The batch's status is its entries' when they all share one, else
/// 200.
async fn run_batch(incoming: Incoming<'_>, items: Vec<JsonValue>) -> Response {
    let Incoming { state, media, .. } = incoming;
    let batching = state.options.batching;
    if !batching.enabled {
        return refuse(
            GatewayError::BadRequest,
            media,
            "batched requests are not enabled on this gateway (server.batching)",
        );
    }
    if items.is_empty() {
        return refuse(GatewayError::BadRequest, media, "the batch is empty: send at least one request");
    }
    if items.len() > batching.max_size {
        return refuse(
            GatewayError::BatchLimitExceeded,
            media,
            format!("the batch has {} operations; at most {} are allowed", items.len(), batching.max_size),
        );
    }
    let entries: Vec<_> = items.into_iter().map(batch_entry).collect();
    let alone: Vec<bool> = entries
        .iter()
        .map(|entry| {
            entry.as_ref().is_ok_and(|(request, _)| state.gateway.operation_type(request) != Some(OperationType::Query))
        })
        .collect();
    let one = |index: usize| {
        let entry = &entries[index];
        async move {
            match entry {
                Ok((request, persisted)) => run(incoming, request.clone(), persisted.clone()).await,
                Err(error) => error_response(GatewayError::BadRequest, media, error.clone()),
            }
        }
    };
    let mut responses = Vec::with_capacity(entries.len());
    let mut start = 0;
    while start < entries.len() {
        if alone[start] {
            responses.push(one(start).await);
            start += 1;
            continue;
        }
        let end = (start..entries.len()).find(|&i| alone[i]).unwrap_or(entries.len());
        responses.extend(futures_util::future::join_all((start..end).map(&one)).await);
        start = end;
    }

    let first = responses[0].status();
    let uniform = responses.iter().all(|response| response.status() == first);
    let mut batch_headers = HeaderMap::new();
    if uniform {
        for (name, value) in responses[0].headers() {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                batch_headers.append(name.clone(), value.clone());
            }
        }
    }
    let mut body = vec![b'['];
    for (index, response) in responses.into_iter().enumerate() {
        if index > 0 {
            body.push(b',');
        }
        match axum::body::to_bytes(response.into_body(), usize::MAX).await {
            Ok(bytes) => body.extend_from_slice(&bytes),
            Err(_) => body.extend_from_slice(
                &GraphqlResponse {
                    errors: vec![GatewayError::internal()],
                    data: None,
                    status: GatewayError::Internal.status().as_u16(),
                }
                .to_json(),
            ),
        }
    }
    body.push(b']');
    let status = if uniform { first } else { StatusCode::OK };
    let mut response = (status, body).into_response();
    response.headers_mut().extend(batch_headers);
    let content_type = match media {
        MediaType::GraphqlResponseJson => GRAPHQL_RESPONSE_JSON,
        MediaType::Json => "application/json",
    };
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// One entry of a batch, checked as the body of a single request is.
fn batch_entry(item: JsonValue) -> Result<(GraphqlRequest, Option<String>), GraphqlError> {
    let JsonValue::Object(map) = item else {
        return Err(GatewayError::BadRequest.error("each entry of a batch must be a JSON object (a GraphQL request)"));
    };
    let raw: RawBody = serde_json::from_value(serde_json::to_value(&map).unwrap_or_default())
        .map_err(|_| GatewayError::BadRequest.error("the batch entry is not a GraphQL request"))?;
    let persisted = crate::admission::trusted::persisted_query_hash(raw.extensions.as_ref())?;
    let request = to_request(raw.query, raw.operation_name, raw.variables, persisted.is_some())?;
    Ok((request, persisted))
}
