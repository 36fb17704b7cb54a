//! GraphQL over HTTP: POST with JSON, GET for queries, both response media types with the
//! spec's status codes, GraphiQL for browsers in development, and the health endpoints.

use std::sync::Arc;

use apollo_compiler::response::{JsonMap, JsonValue};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::error::{GraphqlError, code};
use crate::gateway::{Gateway, GraphqlRequest, GraphqlResponse, Transport};
use crate::identity::Identity;

pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Serve GraphiQL to browsers on GET /graphql (development).
    pub graphiql: bool,
    /// Refuse requests a browser could send cross-site without a CORS preflight.
    pub csrf_prevention: bool,
}

/// Headers a browser sends cross-site only after a CORS preflight; any of them (or a
/// non-simple content type) shows the request is not a forged simple request.
const PREFLIGHT_HEADERS: [&str; 3] =
    ["apollo-require-preflight", "x-apollo-operation-name", "graphql-require-preflight"];

/// A "simple" request (CSRF risk): no content type or one of the three a form can send, and no
/// preflight header.
fn is_simple_request(headers: &HeaderMap) -> bool {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
    let simple_type = match content_type.as_deref() {
        None | Some("") => true,
        Some(t) => matches!(t, "text/plain" | "application/x-www-form-urlencoded" | "multipart/form-data"),
    };
    simple_type && !PREFLIGHT_HEADERS.iter().any(|h| headers.contains_key(*h))
}

#[derive(Clone)]
pub struct AppState {
    pub gateway: Arc<Gateway>,
    pub identity: Arc<Identity>,
    pub options: HttpOptions,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/health/live", get(|| async { "ok" }))
        .route("/health/ready", get(ready))
        .with_state(state)
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

fn error_response(status: StatusCode, media: MediaType, error: GraphqlError) -> Response {
    let response = GraphqlResponse { errors: vec![error], data: None, status: status.as_u16() };
    respond(media, response, true)
}

/// Serializes a GraphQL response. `http_level` marks refusals that keep their status whatever
/// the media type (405, 415, 401...).
fn respond(media: MediaType, response: GraphqlResponse, http_level: bool) -> Response {
    let status = match media {
        MediaType::GraphqlResponseJson => response.status,
        MediaType::Json if http_level || matches!(response.status, 405 | 503) => response.status,
        MediaType::Json => 200,
    };
    let body = response.to_json();
    let content_type = match media {
        MediaType::GraphqlResponseJson => GRAPHQL_RESPONSE_JSON,
        MediaType::Json => "application/json",
    };
    let mut http = (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body).into_response();
    http.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if status == 405 {
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
}

/// Checks the shape of a request's parameters (GraphQL over HTTP, "Request Parameters").
fn to_request(
    query: Option<JsonValue>,
    operation_name: Option<JsonValue>,
    variables: Option<JsonValue>,
) -> Result<GraphqlRequest, GraphqlError> {
    let bad = |message: &str| GraphqlError::new(message, code::BAD_REQUEST);
    let query = match query {
        Some(JsonValue::String(q)) if !q.as_str().trim().is_empty() => q.as_str().to_owned(),
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

async fn graphql_post(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(media) = negotiate(&headers) else {
        return error_response(
            StatusCode::NOT_ACCEPTABLE,
            MediaType::Json,
            GraphqlError::new("accept application/graphql-response+json or application/json", code::BAD_REQUEST),
        );
    };
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if essence != "application/json" && essence != GRAPHQL_RESPONSE_JSON {
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            media,
            GraphqlError::new("send the request as application/json", code::BAD_REQUEST),
        );
    }
    let raw: RawBody = match serde_json::from_slice::<JsonValue>(&body) {
        Ok(JsonValue::Object(map)) => match serde_json::from_value(serde_json::to_value(&map).unwrap_or_default()) {
            Ok(raw) => raw,
            Err(_) => {
                return error_response(
                    StatusCode::BAD_REQUEST,
                    media,
                    GraphqlError::new("the request body is not a GraphQL request", code::BAD_REQUEST),
                );
            }
        },
        Ok(JsonValue::Array(_)) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                media,
                GraphqlError::new("batched requests are not supported", code::BAD_REQUEST),
            );
        }
        Ok(_) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                media,
                GraphqlError::new("the request body must be a JSON object", code::BAD_REQUEST),
            );
        }
        Err(e) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                media,
                GraphqlError::new(format!("the request body is not valid JSON: {e}"), code::BAD_REQUEST),
            );
        }
    };
    let request = match to_request(raw.query, raw.operation_name, raw.variables) {
        Ok(request) => request,
        Err(error) => return error_response(StatusCode::BAD_REQUEST, media, error),
    };
    run(&state, &headers, request, Transport::Post, media).await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetParams {
    query: Option<String>,
    operation_name: Option<String>,
    variables: Option<String>,
}

async fn graphql_get(State(state): State<AppState>, headers: HeaderMap, Query(params): Query<GetParams>) -> Response {
    let wants_html = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/html"));
    if params.query.is_none() && wants_html && state.options.graphiql {
        return Html(GRAPHIQL).into_response();
    }
    let Some(media) = negotiate(&headers) else {
        return error_response(
            StatusCode::NOT_ACCEPTABLE,
            MediaType::Json,
            GraphqlError::new("accept application/graphql-response+json or application/json", code::BAD_REQUEST),
        );
    };
    if state.options.csrf_prevention && is_simple_request(&headers) {
        return error_response(
            StatusCode::BAD_REQUEST,
            media,
            GraphqlError::new(
                "a GET request needs a preflight header (apollo-require-preflight, x-apollo-operation-name or graphql-require-preflight) so that it cannot be forged cross-site",
                code::CSRF_PREVENTION,
            ),
        );
    }
    let variables = match params.variables.as_deref() {
        None | Some("") => None,
        Some(text) => match serde_json::from_str::<JsonValue>(text) {
            Ok(value) => Some(value),
            Err(_) => {
                return error_response(
                    StatusCode::BAD_REQUEST,
                    media,
                    GraphqlError::new("`variables` is not valid JSON", code::BAD_REQUEST),
                );
            }
        },
    };
    let request =
        match to_request(params.query.map(JsonValue::from), params.operation_name.map(JsonValue::from), variables) {
            Ok(request) => request,
            Err(error) => return error_response(StatusCode::BAD_REQUEST, media, error),
        };
    run(&state, &headers, request, Transport::Get, media).await
}

async fn run(
    state: &AppState,
    headers: &HeaderMap,
    request: GraphqlRequest,
    transport: Transport,
    media: MediaType,
) -> Response {
    let claims = match state.identity.authenticate(headers.get(header::AUTHORIZATION)).await {
        Ok(claims) => claims,
        Err(error) => {
            tracing::info!(reason = %error, "caller refused");
            let mut response = error_response(
                StatusCode::UNAUTHORIZED,
                media,
                GraphqlError::new(error.to_string(), code::UNAUTHENTICATED),
            );
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return response;
        }
    };
    if let Some(claims) = &claims {
        tracing::Span::current().record("org", tracing::field::display(claims.org));
    }
    let traceparent = crate::trace::current_traceparent();
    let caller = state.identity.for_caller(claims, traceparent);
    let response = state.gateway.execute(request, transport, &caller).await;
    respond(media, response, false)
}

const GRAPHIQL: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>ggzhub GraphiQL</title>
  <link rel="stylesheet" href="https://unpkg.com/graphiql@3/graphiql.min.css">
</head>
<body style="margin:0">
  <div id="graphiql" style="height:100vh"></div>
  <script crossorigin src="https://unpkg.com/react@18/umd/react.production.min.js"></script>
  <script crossorigin src="https://unpkg.com/react-dom@18/umd/react-dom.production.min.js"></script>
  <script crossorigin src="https://unpkg.com/graphiql@3/graphiql.min.js"></script>
  <script>
    const fetcher = GraphiQL.createFetcher({ url: window.location.pathname });
    ReactDOM.createRoot(document.getElementById('graphiql')).render(
      React.createElement(GraphiQL, { fetcher, defaultHeaders: '{"Authorization": "Bearer <token from data/demo-tokens.json>"}' })
    );
  </script>
</body>
</html>
"#;
