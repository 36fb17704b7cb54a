//! The `/graphql` endpoint of a subgraph: JSON POST only, one operation per request, executed
//! with the verified [`Caller`] in the context.
//!
//! Written here rather than taken from async-graphql-axum because that handler accepts unbounded
//! batches, mutations over GET and multipart bodies; a subgraph needs none of them.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::batch::Batches;
use crate::caller::Caller;
use crate::error::{ErrorCode, graphql_error_body};

/// Deepest selection a subgraph accepts (the gateway enforces its own, tighter limits).
pub const MAX_DEPTH: usize = 15;
/// Most complex selection a subgraph accepts.
pub const MAX_COMPLEXITY: usize = 5_000;
/// Deepest nesting of input values a subgraph parses.
pub const MAX_RECURSIVE_DEPTH: usize = 32;

/// A subgraph's schema builder: Apollo Federation v2, the subgraph limits, no introspection (the
/// gateway composes from the checked-in SDL). Add the service's data and `finish()`.
pub fn subgraph_schema<Q, M>(
    query: Q,
    mutation: M,
) -> async_graphql::SchemaBuilder<Q, M, async_graphql::EmptySubscription>
where
    Q: async_graphql::ObjectType + 'static,
    M: async_graphql::ObjectType + 'static,
{
    subgraph_schema_with_subscriptions(query, mutation, async_graphql::EmptySubscription)
}

/// [`subgraph_schema`] with a subscription root. Its fields are never served as live streams by
/// the subgraph: the gateway delivers events from the bus and asks the subgraph to resolve each
/// one for each subscriber ([`crate::events::EVENT_EXTENSION`], see [`execute`]).
pub fn subgraph_schema_with_subscriptions<Q, M, S>(
    query: Q,
    mutation: M,
    subscription: S,
) -> async_graphql::SchemaBuilder<Q, M, S>
where
    Q: async_graphql::ObjectType + 'static,
    M: async_graphql::ObjectType + 'static,
    S: async_graphql::SubscriptionType + 'static,
{
    async_graphql::Schema::build(query, mutation, subscription)
        .enable_federation()
        // The subscription root in `_service { sdl }` too (what `ggzhub dev` composes from).
        .enable_subscription_in_federation()
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .limit_recursive_depth(MAX_RECURSIVE_DEPTH)
        .disable_introspection()
}

/// A subgraph's SDL as composition sees it (what `ggzhub schema export` writes).
pub fn subgraph_sdl<Q, M>(query: Q, mutation: M) -> String
where
    Q: async_graphql::ObjectType + 'static,
    M: async_graphql::ObjectType + 'static,
{
    subgraph_sdl_with_subscriptions(query, mutation, async_graphql::EmptySubscription)
}

/// [`subgraph_sdl`] of a subgraph with a subscription root.
pub fn subgraph_sdl_with_subscriptions<Q, M, S>(query: Q, mutation: M, subscription: S) -> String
where
    Q: async_graphql::ObjectType + 'static,
    M: async_graphql::ObjectType + 'static,
    S: async_graphql::SubscriptionType + 'static,
{
    // async-graphql leaves the subscription root out of a federation SDL unless told otherwise.
    async_graphql::Schema::build(query, mutation, subscription)
        .enable_federation()
        .enable_subscription_in_federation()
        .finish()
        .sdl_with_options(async_graphql::SDLExportOptions::new().federation().compose_directive())
}

/// `sdl` with the field printed as `field` (a whole line: name, arguments and type) tagged
/// `@tag(name: "public")`. async-graphql 7.2.1's `#[Subscription]` takes no `tag` attribute, so
/// a public subscription field is tagged here, in the printed SDL, for the gateway's public
/// contract.
///
/// # Panics
/// When the field is not printed exactly once as given (a changed signature or printer): the
/// public contract would silently lose it, so the subgraph's drift test fails instead.
pub fn tag_public_field(sdl: &str, field: &str) -> String {
    let line = format!("\t{field}\n");
    assert_eq!(sdl.matches(&line).count(), 1, "{field} is printed once, untagged");
    sdl.replace(&line, &format!("\t{field} @tag(name: \"public\")\n"))
}

/// The drift test every subgraph runs: `schema/<file>` (checked in, composed into the
/// supergraph) must be exactly the SDL the code exports.
///
/// # Panics
/// When the file is missing or differs, naming the command that rewrites it.
pub fn assert_sdl_checked_in(file: &str, sdl: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema").join(file);
    let checked_in = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("schema/{file} cannot be read ({e})"));
    assert!(checked_in == sdl, "schema/{file} is out of date: run `cargo run -- schema export` and commit the result");
}

/// Who created and last changed a record, and when (shared by every subgraph, so `@shareable`).
#[derive(async_graphql::SimpleObject)]
// Public (`@tag(name: "public")`) as a type: whether it is shown is up to its record's `meta` field.
#[graphql(shareable, tag = "public")]
pub struct RecordMeta {
    /// Creation time.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Creating organisation id.
    pub created_by: async_graphql::ID,
    /// Last change time.
    pub updated_at: chrono::DateTime<chrono::Utc>,
    /// Last changing organisation id.
    pub updated_by: async_graphql::ID,
}

/// Builds a [`RecordMeta`] from any row with `created_at`, `created_by`, `updated_at`, `updated_by`.
#[macro_export]
macro_rules! record_meta {
    ($m:expr) => {
        $crate::graphql::RecordMeta {
            created_at: $m.created_at,
            created_by: $crate::reexport::async_graphql::ID($m.created_by.clone()),
            updated_at: $m.updated_at,
            updated_by: $crate::reexport::async_graphql::ID($m.updated_by.clone()),
        }
    };
}

/// Query texts longer than this are parsed on every request and never kept.
const PARSED_MAX_QUERY: usize = 32 * 1024;

/// The parsed document of `query` from a process-wide cache (parsed and kept on a miss), or
/// `None` when it is too long to keep or does not parse (async-graphql then parses it and answers
/// its error as usual). The gateway sends the same few query texts over and over (one per query
/// plan step), so most requests skip parsing; validation, which depends on the variables, still
/// runs every time, as do the depth and directive limits on the document.
fn parsed(query: &str) -> Option<async_graphql::parser::types::ExecutableDocument> {
    static PARSED: std::sync::LazyLock<moka::sync::Cache<String, async_graphql::parser::types::ExecutableDocument>> =
        std::sync::LazyLock::new(|| {
            moka::sync::Cache::builder()
                // Weighed by an estimate of what an entry holds (the text, a document a few times
                // its size, the cache's own bookkeeping): at most about 16 MiB in all.
                .weigher(|query: &String, _| u32::try_from(query.len() * 4 + 512).unwrap_or(u32::MAX))
                .max_capacity(16 * 1024 * 1024)
                .build()
        });
    if query.len() > PARSED_MAX_QUERY {
        return None;
    }
    if let Some(document) = PARSED.get(query) {
        return Some(document);
    }
    let document = async_graphql::parser::parse_query(query).ok()?;
    PARSED.insert(query.to_owned(), document.clone());
    Some(document)
}

/// Executes one GraphQL request body for `caller` against `schema` of `service` (its name, for
/// the error metrics). `decorate` adds per-request data (such as DataLoaders made with the
/// request's [`Batches`], whose loads run inside the execution with every key of one pass in one
/// batch) to the request.
pub async fn execute<E: async_graphql::Executor>(
    service: &'static str,
    schema: &E,
    caller: Caller,
    headers: &HeaderMap,
    body: Bytes,
    decorate: impl FnOnce(async_graphql::Request, &Batches) -> async_graphql::Request,
) -> Response {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json")));
    if !is_json {
        return bad_request(StatusCode::UNSUPPORTED_MEDIA_TYPE, "content-type must be application/json");
    }
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return bad_request(StatusCode::BAD_REQUEST, "batched requests are not supported");
    }
    // Straight into the request (no intermediate `serde_json::Value`: the gateway's `_entities`
    // calls carry every representation in the variables, and a second copy of them cost time).
    // UTF-8 checked once for the whole body (reading from bytes, serde_json checks each string on
    // its own: the 180 representations of an `_entities` call make hundreds of short strings);
    // a body that is not UTF-8 is read from bytes for serde_json's error message.
    let read = match std::str::from_utf8(&body) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(&body),
    };
    let mut request: async_graphql::Request = match read {
        Ok(r) => r,
        Err(e) if e.classify() == serde_json::error::Category::Data => {
            return bad_request(StatusCode::BAD_REQUEST, &cut_message(&format!("not a GraphQL request: {e}")));
        }
        Err(e) => {
            return bad_request(StatusCode::BAD_REQUEST, &cut_message(&format!("request body is not valid JSON: {e}")));
        }
    };
    let event = match request.extensions.remove(crate::events::EVENT_EXTENSION).map(delivered_event) {
        None => None,
        Some(Ok(event)) => Some(event),
        Some(Err(e)) => {
            return bad_request(
                StatusCode::BAD_REQUEST,
                &cut_message(&format!("extensions.{}: {e}", crate::events::EVENT_EXTENSION)),
            );
        }
    };
    if let Some(document) = parsed(&request.query) {
        request.set_parsed_query(document);
    }
    let span = tracing::info_span!("graphql", operation = request.operation_name.as_deref().unwrap_or(""));
    let batches = Batches::default();
    let request = decorate(request.data(caller), &batches);
    let mut response = match event {
        None => tracing::Instrument::instrument(batches.drive(schema.execute(request)), span).await,
        // A subscription resolved for one delivered event: its resolver finds the event in the
        // context and yields at most one item. No item means this caller does not receive the
        // event (not theirs to see, or another region): answered as `{"data": null,
        // "extensions": {"ggzhubEvent": "skip"}}` (`events::EVENT_SKIPPED`), and the gateway
        // sends nothing.
        Some(event) => {
            let mut stream = schema.execute_stream(request.data(event), None);
            let first = futures_util::StreamExt::next(&mut stream);
            tracing::Instrument::instrument(batches.drive(first), span).await.unwrap_or_else(|| {
                async_graphql::Response::new(async_graphql::Value::Null)
                    .extension(crate::events::EVENT_EXTENSION, async_graphql::Value::from(crate::events::EVENT_SKIPPED))
            })
        }
    };
    fill_error_nulls(&mut response.data, &response.errors);
    ensure_codes(&mut response.errors);
    crate::metrics::graphql_errors(service, response.errors.iter().filter_map(error_code));
    let mut http = axum::Json(response).into_response();
    http.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    http
}

/// async-graphql leaves a field whose resolver failed out of its object; the GraphQL spec wants
/// it present as `null`, with the error pointing at it. For each error path, the first key missing
/// along the path is set to `null` (a failed nested field nulls its nearest missing parent).
pub fn fill_error_nulls(data: &mut async_graphql::Value, errors: &[async_graphql::ServerError]) {
    use async_graphql::{PathSegment, Value};
    for err in errors {
        let mut node = &mut *data;
        for seg in &err.path {
            node = match (node, seg) {
                (Value::Object(map), PathSegment::Field(name)) => {
                    let key = async_graphql::Name::new(name);
                    if !map.contains_key(&key) {
                        map.insert(key, Value::Null);
                        break;
                    }
                    map.get_mut(name.as_str()).expect("present: checked above")
                }
                (Value::List(items), PathSegment::Index(i)) if *i < items.len() => &mut items[*i],
                _ => break,
            };
        }
    }
}

/// Longest error message a subgraph answers. Our own messages cut the values they repeat
/// (`validate::shown`); this also bounds what the GraphQL library repeats of a bad variable.
pub const MAX_MESSAGE_CHARS: usize = 300;

/// `message` cut after [`MAX_MESSAGE_CHARS`] characters, with "…".
pub fn cut_message(message: &str) -> String {
    let mut chars = message.chars();
    let head: String = chars.by_ref().take(MAX_MESSAGE_CHARS).collect();
    if chars.next().is_some() { format!("{head}…") } else { head }
}

/// Every error carries `extensions.code`. Errors of the request itself (parse, validation,
/// variable coercion: no path) are the client's: `BAD_USER_INPUT`, message kept. A resolver error
/// without a code is ours: logged, and answered as `INTERNAL` with "internal error". Every
/// message is cut to [`MAX_MESSAGE_CHARS`].
pub fn ensure_codes(errors: &mut [async_graphql::ServerError]) {
    for err in errors {
        if err.message.len() > MAX_MESSAGE_CHARS {
            err.message = cut_message(&err.message);
        }
        let has_code = err.extensions.as_ref().is_some_and(|e| e.get("code").is_some());
        if has_code {
            continue;
        }
        let code = if err.path.is_empty() {
            ErrorCode::BadUserInput
        } else {
            tracing::error!(message = %err.message, path = ?err.path, "resolver error without a code");
            err.message = "internal error".to_owned();
            ErrorCode::Internal
        };
        err.extensions.get_or_insert_with(Default::default).set("code", code.as_str());
    }
}

/// The `extensions.code` of `error` (every answered error has one: [`ensure_codes`]).
fn error_code(error: &async_graphql::ServerError) -> Option<&str> {
    match error.extensions.as_ref()?.get("code")? {
        async_graphql::Value::String(code) => Some(code),
        async_graphql::Value::Enum(code) => Some(code.as_str()),
        _ => None,
    }
}

/// The event of a subscription request, as the gateway sends it.
fn delivered_event(value: async_graphql::Value) -> Result<crate::events::Delivered, String> {
    let json = value.into_json().map_err(|e| e.to_string())?;
    serde_json::from_value(json).map_err(|e| e.to_string())
}

fn bad_request(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(graphql_error_body(message, ErrorCode::BadUserInput))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::{PathSegment, ServerError, Value};

    fn err(path: Vec<PathSegment>) -> ServerError {
        let mut e = ServerError::new("denied", None);
        e.path = path;
        e
    }

    #[test]
    fn errors_without_a_code_get_one_and_internal_messages_are_hidden() {
        let mut errors = vec![
            ServerError::new("Unknown field \"x\" on type \"Query\".", None),
            err(vec![PathSegment::Field("region".into())]),
        ];
        ensure_codes(&mut errors);
        let code = |e: &ServerError| e.extensions.as_ref().and_then(|x| x.get("code")).cloned();
        assert_eq!(code(&errors[0]), Some(async_graphql::Value::from("BAD_USER_INPUT")));
        assert!(errors[0].message.contains("Unknown field"));
        assert_eq!(code(&errors[1]), Some(async_graphql::Value::from("INTERNAL")));
        assert_eq!(errors[1].message, "internal error");
    }

    #[test]
    fn long_messages_are_cut() {
        let value = "x".repeat(1_000_000);
        let mut errors = vec![ServerError::new(format!("Invalid value for argument \"kind\": \"{value}\""), None)];
        ensure_codes(&mut errors);
        assert_eq!(errors[0].message.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(errors[0].message.ends_with('…'));
        assert_eq!(cut_message("short"), "short");
    }

    #[test]
    fn failed_fields_become_null_instead_of_missing() {
        let mut data = Value::from_json(serde_json::json!({
            "offers": [{ "unitName": "a" }, { "unitName": "b", "capacity": { "beds": 1 } }]
        }))
        .expect("valid");
        let errors = vec![
            err(vec![
                PathSegment::Field("offers".into()),
                PathSegment::Index(0),
                PathSegment::Field("capacity".into()),
            ]),
            err(vec![PathSegment::Field("region".into()), PathSegment::Field("name".into())]),
        ];
        fill_error_nulls(&mut data, &errors);
        assert_eq!(
            data.into_json().expect("json"),
            serde_json::json!({
                "offers": [{ "unitName": "a", "capacity": null }, { "unitName": "b", "capacity": { "beds": 1 } }],
                "region": null
            })
        );
    }
}

#[cfg(test)]
mod parsed_tests {
    use super::*;

    #[test]
    fn documents_are_kept_per_query_text_and_bad_or_long_ones_are_left_to_async_graphql() {
        let query = "query Kept($id: ID!) { careOffer(id: $id) { id name } }";
        let first = parsed(query).expect("parses");
        let again = parsed(query).expect("kept");
        assert_eq!(format!("{:?}", first.operations), format!("{:?}", again.operations));
        assert!(parsed("query { careOffer(").is_none(), "a syntax error is async-graphql's to answer");
        let long = format!("query {{ {} }}", "a ".repeat(PARSED_MAX_QUERY));
        assert!(parsed(&long).is_none(), "too long to keep");
    }
}
