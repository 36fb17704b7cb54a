//! The gateway engine: holds the current supergraph (swapped atomically on reload), caches what
//! does not depend on variables, and drives the pipeline for each request.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use apollo_compiler::ExecutableDocument;
use apollo_compiler::executable::OperationType;
use apollo_compiler::response::JsonValue;
use apollo_compiler::validation::Valid;
use arc_swap::ArcSwapOption;
use tracing::Instrument;

pub use crate::context::{GraphqlRequest, RequestContext, Transport};
use crate::error::{GatewayError, GraphqlError};
use crate::execute::{Executed, Executor, SubgraphHeaders};
use crate::pipeline::parse::ParserLimits;
use crate::pipeline::{RequestFailure, operation, parse, validate, variables};
use crate::plan::QueryPlan;
use crate::respond::Shaper;
use crate::subgraph::fetch::SubgraphClient;
use crate::supergraph::{Supergraph, SupergraphError};

/// Options of the engine (the HTTP layer has its own).
#[derive(Debug, Clone)]
pub struct EngineOptions {
    pub subgraph_timeout: Duration,
    pub parser_limits: ParserLimits,
    /// Whether clients may run `__schema` / `__type`.
    pub introspection: bool,
    /// Subgraph URLs that replace the supergraph's `@join__graph(url:)`.
    pub subgraph_urls: HashMap<String, String>,
    /// How many prepared operations (document, operation, plan) are cached.
    pub plan_cache_size: u64,
    /// Depth, aliases, root fields, directives and expanded selections per operation.
    pub operation_limits: crate::pipeline::limits::OperationLimits,
    /// Identical queries from the same caller in flight together share one execution.
    pub dedupe_requests: bool,
    /// Retries of subgraph queries, their budget, and the circuit breaker, per subgraph.
    pub resilience: crate::subgraph::resilience::ResilienceOptions,
    /// Refuse a whole operation that selects anything the caller may not see, instead of
    /// answering those selections with null and an error each.
    pub reject_unauthorized: bool,
    /// Which subgraph error messages and extensions reach clients.
    pub subgraph_errors: crate::error::SubgraphErrorPolicy,
    /// CA certificates trusted for `https://` subgraphs next to the OS trust store.
    pub subgraph_ca: ggzhub_kit::tls::ExtraCa,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            subgraph_timeout: Duration::from_secs(30),
            parser_limits: ParserLimits::default(),
            introspection: true,
            subgraph_urls: HashMap::new(),
            plan_cache_size: 1024,
            operation_limits: crate::pipeline::limits::OperationLimits::default(),
            dedupe_requests: true,
            resilience: crate::subgraph::resilience::ResilienceOptions::default(),
            reject_unauthorized: false,
            subgraph_errors: crate::error::SubgraphErrorPolicy::default(),
            subgraph_ca: ggzhub_kit::tls::ExtraCa::default(),
        }
    }
}

/// The response. `data` is absent (`None`) for request errors; otherwise it is the JSON the
/// shaper wrote (`null` when null propagated to the root).
#[derive(Debug, Clone)]
pub struct GraphqlResponse {
    pub errors: Vec<GraphqlError>,
    pub data: Option<Vec<u8>>,
    /// HTTP status for `application/graphql-response+json` (`application/json` always gets 200
    /// unless the request itself is unacceptable).
    pub status: u16,
}

impl GraphqlResponse {
    pub fn failure(failure: RequestFailure) -> Self {
        Self { errors: failure.errors, data: None, status: failure.status }
    }

    /// The response body: `{"errors": [...], "data": ...}`, each part only when present.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.data.as_ref().map_or(128, |d| d.len() + 64));
        out.push(b'{');
        if !self.errors.is_empty() {
            out.extend_from_slice(b"\"errors\":");
            // Serializing plain structs into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut out, &self.errors);
        }
        if let Some(data) = &self.data {
            if !self.errors.is_empty() {
                out.push(b',');
            }
            out.extend_from_slice(b"\"data\":");
            out.extend_from_slice(data);
        }
        out.push(b'}');
        out
    }
}

/// What a prepared operation holds: validated document, the chosen operation and its plan.
struct Prepared {
    document: Valid<ExecutableDocument>,
    operation_type: OperationType,
    plan: Option<QueryPlan>,
    has_introspection: bool,
    /// A list is sized by a variable: the cost is estimated per request, with the variables
    /// (otherwise it was checked once, here).
    cost_after_variables: bool,
    /// The deprecated fields and arguments it uses ([`crate::pipeline::deprecated`]).
    deprecated: Vec<String>,
}

/// A cache entry: the request text it was made for (a hash match is checked against it) and the
/// outcome, success or request error.
struct Cached {
    query: String,
    operation_name: Option<String>,
    /// Prepared against the public contract schema.
    public: bool,
    outcome: Result<Prepared, RequestFailure>,
}

/// A supergraph with the caches built for it; replaced as a whole on reload.
struct Runtime {
    supergraph: Supergraph,
    prepared: moka::sync::Cache<u64, Arc<Cached>>,
    /// Plans of operations with unauthorized selections removed, by the filtered text.
    filtered: moka::sync::Cache<String, Arc<Result<Option<QueryPlan>, RequestFailure>>>,
}

/// An operation narrowed to what the caller may see: its plan and the errors for what was
/// removed.
struct Restricted {
    plan: Arc<Result<Option<QueryPlan>, RequestFailure>>,
    errors: Vec<GraphqlError>,
    paths: Vec<Vec<String>>,
    removed: std::collections::HashSet<(usize, usize)>,
}

/// What the engine made of one request before running it: the supergraph runtime it runs on, its
/// prepared (cached) operation and, when access rules narrowed it for this caller, the narrowed
/// plan. Passed along with the [`RequestContext`]; only references, so copying it is free.
#[derive(Clone, Copy)]
struct Planned<'a> {
    runtime: &'a Runtime,
    cached: &'a Cached,
    prepared: &'a Prepared,
    restricted: Option<&'a Restricted>,
}

/// What makes two requests identical for request deduplication.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct DedupeKey {
    query: String,
    operation_name: Option<String>,
    variables: String,
    identity: Option<String>,
}

type InflightTable = std::sync::Mutex<HashMap<DedupeKey, tokio::sync::watch::Receiver<Option<Arc<GraphqlResponse>>>>>;

/// Takes a request out of the in-flight table when its first requester is done or cancelled.
struct InflightRequest<'a> {
    table: &'a InflightTable,
    key: Option<DedupeKey>,
}

impl Drop for InflightRequest<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.table.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&key);
        }
    }
}

pub struct Gateway {
    inflight: InflightTable,
    runtime: ArcSwapOption<Runtime>,
    client: SubgraphClient,
    options: EngineOptions,
    hasher: std::collections::hash_map::RandomState,
}

impl Gateway {
    /// An engine without a supergraph yet.
    ///
    /// # Panics
    /// When the subgraph HTTP client cannot be built, which a validated `subgraph_ca` (see
    /// [`ggzhub_kit::tls::ExtraCa`]) rules out; [`try_new`](Self::try_new) returns the error instead.
    pub fn new(options: EngineOptions) -> Self {
        Self::try_new(options).expect("the subgraph HTTP client builds")
    }

    /// An engine without a supergraph yet, or why its subgraph HTTP client cannot be built.
    pub fn try_new(options: EngineOptions) -> anyhow::Result<Self> {
        let client = SubgraphClient::with_resilience(
            options.subgraph_timeout,
            options.resilience.clone(),
            &options.subgraph_ca,
        )?;
        Ok(Self {
            inflight: InflightTable::default(),
            runtime: ArcSwapOption::empty(),
            client,
            options,
            hasher: std::collections::hash_map::RandomState::new(),
        })
    }

    /// Loads a supergraph and, only if it is valid, makes it the one that serves.
    pub fn load_supergraph(&self, sdl: &str) -> Result<(), SupergraphError> {
        let mut supergraph = Supergraph::load(sdl)?;
        for (name, url) in &self.options.subgraph_urls {
            supergraph.subgraph_urls.insert(name.clone(), url.clone());
        }
        // Entries are weighed by their text, so that large documents cannot fill memory through
        // a cache bounded only by count: each started 4 KiB counts as one entry.
        let prepared = moka::sync::Cache::builder()
            .max_capacity(self.options.plan_cache_size)
            .weigher(|_, cached: &Arc<Cached>| entry_weight(cached.query.len()))
            .build();
        let filtered = moka::sync::Cache::builder()
            .max_capacity(self.options.plan_cache_size)
            .weigher(|text: &String, _| entry_weight(text.len()))
            .build();
        self.runtime.store(Some(Arc::new(Runtime { supergraph, prepared, filtered })));
        Ok(())
    }

    pub fn is_ready(&self) -> bool {
        self.runtime.load().is_some()
    }

    /// The subgraphs' retry budgets and circuit breakers.
    pub fn resilience(&self) -> &Arc<crate::subgraph::resilience::Resilience> {
        self.client.resilience()
    }

    /// The current supergraph's SDL, if one is loaded.
    pub fn supergraph_sdl(&self) -> Option<Arc<str>> {
        self.runtime.load().as_ref().map(|r| r.supergraph.sdl.clone())
    }

    /// The type of the operation `request` would run, from parsing alone (no validation, no
    /// planning); `None` when it does not parse or does not name one operation. Batches use it
    /// to run mutations one after the other.
    pub fn operation_type(&self, request: &GraphqlRequest) -> Option<OperationType> {
        let document = parse::parse(&request.query, self.options.parser_limits).ok()?;
        let mut operations = document.definitions.iter().filter_map(|definition| match definition {
            apollo_compiler::ast::Definition::OperationDefinition(operation) => Some(operation),
            _ => None,
        });
        let operation = match request.operation_name.as_deref() {
            Some(name) => operations.find(|o| o.name.as_ref().is_some_and(|n| n == name))?,
            None => {
                let first = operations.next()?;
                if operations.next().is_some() {
                    return None;
                }
                first
            }
        };
        Some(operation.operation_type)
    }

    /// Runs `request`, as `caller`, arrived by `transport`: [`run`](Self::run) with the context
    /// made of them.
    pub async fn execute(
        &self,
        request: GraphqlRequest,
        transport: Transport,
        caller: &dyn SubgraphHeaders,
    ) -> GraphqlResponse {
        self.run(&RequestContext { request: &request, transport, caller }).await
    }

    /// Runs one request through the steps: prepare (parse, validate, pick the operation, limits,
    /// cost; cached), authorization, variables, plan, execution and shaping.
    pub async fn run(&self, ctx: &RequestContext<'_>) -> GraphqlResponse {
        let Some(runtime) = self.runtime.load_full() else {
            return GraphqlResponse::failure(RequestFailure::refuse(
                GatewayError::NotReady,
                "the gateway has no supergraph loaded yet",
            ));
        };
        let public = runtime.supergraph.public_schema.is_some() && ctx.caller.public_only();
        let cached = self.prepare(&runtime, ctx.request, public);
        let prepared = match &cached.outcome {
            Ok(prepared) => prepared,
            Err(failure) => return GraphqlResponse::failure(failure.clone()),
        };
        if !prepared.deprecated.is_empty() {
            crate::metrics::deprecated_usage(&prepared.deprecated, ctx.caller.organisation());
        }
        if ctx.transport == Transport::Get && prepared.operation_type != OperationType::Query {
            return GraphqlResponse::failure(RequestFailure::refuse(
                GatewayError::MethodNotAllowed,
                "only queries may be sent with GET; use POST",
            ));
        }
        if prepared.operation_type == OperationType::Subscription {
            return GraphqlResponse::failure(RequestFailure::refuse(
                GatewayError::BadRequest,
                "a subscription needs an event stream: send it with `Accept: text/event-stream` (GraphQL over SSE), `Accept: multipart/mixed;subscriptionSpec=\"1.0\"`, or over a WebSocket (graphql-transport-ws)",
            ));
        }
        let restricted = match self.restrict(ctx, &runtime, &cached, prepared) {
            Ok(restricted) => restricted,
            Err(failure) => return GraphqlResponse::failure(failure),
        };
        let planned = Planned { runtime: &runtime, cached: &cached, prepared, restricted: restricted.as_ref() };
        if self.options.dedupe_requests && prepared.operation_type == OperationType::Query {
            return self.execute_shared(ctx, planned).await;
        }
        self.run_prepared(ctx, planned).await
    }

    /// Applies the supergraph's access-control directives for this caller: `None` when the
    /// operation may run as prepared, a narrowed plan otherwise, or the refusal in reject mode.
    fn restrict(
        &self,
        ctx: &RequestContext<'_>,
        runtime: &Runtime,
        cached: &Cached,
        prepared: &Prepared,
    ) -> Result<Option<Restricted>, RequestFailure> {
        let rules = &runtime.supergraph.access_rules;
        if rules.is_empty() {
            return Ok(None);
        }
        let op = operation::pick(&prepared.document, cached.operation_name.as_deref())?;
        let verdict = rules.check(&prepared.document, op, &ctx.caller.access());
        if verdict.is_clean() {
            return Ok(None);
        }
        if self.options.reject_unauthorized {
            return Err(RequestFailure::new(GatewayError::UnauthorizedFieldOrType, verdict.errors()));
        }
        let plan = match verdict.filtered(&prepared.document) {
            None => Arc::new(Ok(None)),
            Some(text) => match runtime.filtered.get(&text) {
                Some(plan) => plan,
                None => {
                    let operation_name = op.name.as_ref().map(|n| n.to_string());
                    let plan = Arc::new(plan_operation(&runtime.supergraph, &text, operation_name.as_deref()));
                    runtime.filtered.insert(text, plan.clone());
                    plan
                }
            },
        };
        Ok(Some(Restricted { plan, errors: verdict.errors(), paths: verdict.paths, removed: verdict.removed }))
    }

    /// Identical queries from the same caller that are in flight together share one execution:
    /// the first runs it, the others wait for its response. If the first is cancelled, the
    /// others run their own.
    async fn execute_shared(&self, ctx: &RequestContext<'_>, planned: Planned<'_>) -> GraphqlResponse {
        let request = ctx.request;
        let key = DedupeKey {
            query: request.query.clone(),
            operation_name: request.operation_name.clone(),
            variables: serde_json::to_string(&request.variables).unwrap_or_default(),
            identity: ctx.caller.identity(),
        };
        // The lock is held only inside this block, never across an await.
        let waiting = {
            let mut inflight = self.inflight.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(receiver) = inflight.get(&key) {
                Ok(receiver.clone())
            } else {
                let (sender, receiver) = tokio::sync::watch::channel(None);
                inflight.insert(key.clone(), receiver);
                Err(sender)
            }
        };
        let waiting = match waiting {
            Ok(receiver) => Some(receiver),
            Err(sender) => {
                let _guard = InflightRequest { table: &self.inflight, key: Some(key) };
                let response = Arc::new(self.run_prepared(ctx, planned).await);
                let _ = sender.send(Some(response.clone()));
                return Arc::try_unwrap(response).unwrap_or_else(|shared| (*shared).clone());
            }
        };
        if let Some(mut receiver) = waiting
            && let Ok(answer) = receiver.wait_for(Option::is_some).await
            && let Some(response) = answer.as_ref()
        {
            return (**response).clone();
        }
        // The first requester went away before answering: run it here.
        self.run_prepared(ctx, planned).await
    }

    async fn run_prepared(&self, ctx: &RequestContext<'_>, planned: Planned<'_>) -> GraphqlResponse {
        let Planned { runtime, cached, prepared, .. } = planned;
        let supergraph = &runtime.supergraph;
        let Ok(op) = operation::pick(&prepared.document, cached.operation_name.as_deref()) else {
            return GraphqlResponse::failure(RequestFailure::new(
                GatewayError::Internal,
                vec![GatewayError::internal()],
            ));
        };
        let variables = match variables::coerce(&supergraph.api_schema, &prepared.document, op, &ctx.request.variables)
        {
            Ok(variables) => variables,
            Err(failure) => return GraphqlResponse::failure(failure),
        };
        if prepared.cost_after_variables
            && let Err(failure) = crate::pipeline::cost::check(
                &supergraph.full_schema,
                &prepared.document,
                op,
                &self.options.operation_limits,
                Some(&variables),
            )
        {
            return GraphqlResponse::failure(failure);
        }
        let introspection = if prepared.has_introspection {
            let (schema, implementers) = match &supergraph.public_schema {
                Some((contract, implementers)) if cached.public => (contract, implementers),
                _ => (&supergraph.api_schema, &supergraph.implementers),
            };
            match apollo_compiler::introspection::partial_execute(
                schema,
                implementers,
                &prepared.document,
                op,
                &variables,
            ) {
                Ok(response) => response.data,
                Err(error) => {
                    return GraphqlResponse::failure(RequestFailure::new(
                        GatewayError::BadUserInput,
                        vec![GraphqlError::from_compiler(
                            error.to_graphql_error(&prepared.document.sources),
                            GatewayError::BadUserInput,
                        )],
                    ));
                }
            }
        } else {
            None
        };
        self.execute_and_shape(planned, op, &variables, introspection.as_ref(), ctx.caller, None)
            .await
            .unwrap_or_else(|| GraphqlResponse { errors: Vec::new(), data: None, status: 200 })
    }

    /// Runs the plan (for `event`, a subscription's) and shapes the answer; `None` when the
    /// event is not for this caller.
    async fn execute_and_shape(
        &self,
        planned: Planned<'_>,
        op: &apollo_compiler::executable::Operation,
        variables: &apollo_compiler::response::JsonMap,
        introspection: Option<&apollo_compiler::response::JsonMap>,
        caller: &dyn SubgraphHeaders,
        event: Option<&[u8]>,
    ) -> Option<GraphqlResponse> {
        let Planned { runtime, prepared, restricted, .. } = planned;
        let supergraph = &runtime.supergraph;
        let plan = match restricted {
            None => prepared.plan.as_ref(),
            Some(restricted) => match restricted.plan.as_ref() {
                Ok(plan) => plan.as_ref(),
                Err(failure) => return Some(GraphqlResponse::failure(failure.clone())),
            },
        };
        let executed = match plan {
            Some(plan) => {
                let executor = Executor::new(supergraph, &self.client, variables, caller);
                let executor = match event {
                    Some(event) => executor.for_event(event),
                    None => executor,
                };
                executor.run(plan).instrument(tracing::info_span!("execute")).await
            }
            None => Executed::default(),
        };
        if executed.skipped {
            return None;
        }
        let mut shaper = Shaper::new(&supergraph.api_schema, &prepared.document, variables, &executed.errors);
        if let Some(restricted) = restricted {
            shaper.unauthorized = restricted.paths.clone();
            shaper.removed = restricted.removed.clone();
        }
        let data = shaper.shape_operation(op, &executed.data, introspection);
        let mut errors = restricted.map(|r| r.errors.clone()).unwrap_or_default();
        errors.extend(executed.errors.into_iter().map(|mut error| {
            self.options.subgraph_errors.apply(&mut error);
            error
        }));
        errors.append(&mut shaper.errors);
        Some(GraphqlResponse { errors, data: Some(data), status: 200 })
    }

    /// Prepares a subscription for `ctx`'s caller: parsed, validated, limited, authorized and
    /// planned as a query is, its variables coerced; then [`Gateway::run_event`] runs it for each
    /// event. A request error (or an operation that is not a subscription) is the response to
    /// send instead.
    pub fn subscribe(&self, ctx: &RequestContext<'_>) -> Result<Subscription, GraphqlResponse> {
        let Some(runtime) = self.runtime.load_full() else {
            return Err(GraphqlResponse::failure(RequestFailure::refuse(
                GatewayError::NotReady,
                "the gateway has no supergraph loaded yet",
            )));
        };
        let public = runtime.supergraph.public_schema.is_some() && ctx.caller.public_only();
        let cached = self.prepare(&runtime, ctx.request, public);
        let prepared = cached.outcome.as_ref().map_err(|failure| GraphqlResponse::failure(failure.clone()))?;
        if !prepared.deprecated.is_empty() {
            crate::metrics::deprecated_usage(&prepared.deprecated, ctx.caller.organisation());
        }
        if prepared.operation_type != OperationType::Subscription {
            return Err(GraphqlResponse::failure(RequestFailure::refuse(
                GatewayError::BadRequest,
                "only subscriptions are served as an event stream; send queries and mutations as plain POST requests",
            )));
        }
        let restricted = self.restrict(ctx, &runtime, &cached, prepared).map_err(GraphqlResponse::failure)?;
        let op =
            operation::pick(&prepared.document, cached.operation_name.as_deref()).map_err(GraphqlResponse::failure)?;
        let variables =
            variables::coerce(&runtime.supergraph.api_schema, &prepared.document, op, &ctx.request.variables)
                .map_err(GraphqlResponse::failure)?;
        if prepared.cost_after_variables {
            crate::pipeline::cost::check(
                &runtime.supergraph.full_schema,
                &prepared.document,
                op,
                &self.options.operation_limits,
                Some(&variables),
            )
            .map_err(GraphqlResponse::failure)?;
        }
        let mut root = op.root_fields(&prepared.document);
        let (Some(field), None) = (root.next(), root.next()) else {
            return Err(GraphqlResponse::failure(RequestFailure::refuse(
                GatewayError::BadRequest,
                "a subscription selects exactly one root field",
            )));
        };
        let arguments = field
            .arguments
            .iter()
            .filter_map(|argument| {
                let value = match argument.value.as_ref() {
                    apollo_compiler::ast::Value::Variable(name) => variables.get(name.as_str()).cloned()?,
                    apollo_compiler::ast::Value::String(text) => JsonValue::from(text.as_str()),
                    apollo_compiler::ast::Value::Enum(name) => JsonValue::from(name.as_str()),
                    _ => return None,
                };
                value.as_str().map(|text| (argument.name.to_string(), text.to_owned()))
            })
            .collect();
        let field = field.name.to_string();
        Ok(Subscription { runtime, cached: cached.clone(), restricted, variables, field, arguments })
    }

    /// Runs `subscription` for one event as `caller`: the response to send, or `None` when the
    /// event is not for this caller (the owning subgraph did not resolve it for them).
    pub async fn run_event(
        &self,
        subscription: &Subscription,
        caller: &dyn SubgraphHeaders,
        event: &[u8],
    ) -> Option<GraphqlResponse> {
        let cached = &subscription.cached;
        let prepared = cached.outcome.as_ref().ok()?;
        let op = operation::pick(&prepared.document, cached.operation_name.as_deref()).ok()?;
        let planned =
            Planned { runtime: &subscription.runtime, cached, prepared, restricted: subscription.restricted.as_ref() };
        self.execute_and_shape(planned, op, &subscription.variables, None, caller, Some(event)).await
    }
}

impl Gateway {
    /// Asks the subgraph that owns `subscription`'s root field to check it for `caller` before
    /// any event comes: the subscription is run once for a probe (an event of no subgraph,
    /// position 0), which the owner's resolver validates (arguments, the caller's scopes) and
    /// then skips. Its errors, if any, are the refusal (an unknown region is refused now, not
    /// at the first event).
    pub async fn probe(
        &self,
        subscription: &Subscription,
        caller: &dyn SubgraphHeaders,
    ) -> Result<(), GraphqlResponse> {
        let probe = ggzhub_kit::events::Delivered {
            seq: 0,
            event: ggzhub_kit::events::Event {
                id: "probe".into(),
                subgraph: String::new(),
                field: subscription.field.clone(),
                scope: std::collections::BTreeMap::new(),
                audience: None,
                payload: serde_json::Value::Null,
                occurred_at: chrono::Utc::now(),
            },
        };
        let event = serde_json::to_vec(&probe).unwrap_or_default();
        match self.run_event(subscription, caller, &event).await {
            Some(response) if !response.errors.is_empty() => {
                let status = if response.errors.iter().any(|e| e.code() == Some("FORBIDDEN")) { 403 } else { 400 };
                Err(GraphqlResponse { errors: response.errors, data: None, status })
            }
            _ => Ok(()),
        }
    }
}

impl Subscription {
    /// The operation's text and name: what makes two subscriptions run the same operation.
    pub fn operation_key(&self) -> String {
        format!("{}\u{0}{}", self.cached.query, self.cached.operation_name.as_deref().unwrap_or(""))
    }

    /// The coerced variables.
    pub fn variables(&self) -> &apollo_compiler::response::JsonMap {
        &self.variables
    }
}

/// A prepared subscription of one caller (see [`Gateway::subscribe`]).
pub struct Subscription {
    runtime: Arc<Runtime>,
    cached: Arc<Cached>,
    restricted: Option<Restricted>,
    variables: Valid<apollo_compiler::response::JsonMap>,
    /// The root field (its name in the schema, not an alias): which events it receives.
    pub field: String,
    /// The root field's arguments with a string or enum value: an event scoped to other values
    /// is not for it ([`ggzhub_kit::events::Event::matches`]).
    pub arguments: std::collections::BTreeMap<String, String>,
}

impl Gateway {
    fn prepare(&self, runtime: &Runtime, request: &GraphqlRequest, public: bool) -> Arc<Cached> {
        let key = {
            let mut hasher = self.hasher.build_hasher();
            request.query.hash(&mut hasher);
            request.operation_name.hash(&mut hasher);
            public.hash(&mut hasher);
            hasher.finish()
        };
        if let Some(cached) = runtime.prepared.get(&key)
            && cached.query == request.query
            && cached.operation_name == request.operation_name
            && cached.public == public
        {
            crate::metrics::instruments().plan_cache.add(1, &[opentelemetry::KeyValue::new("result", "hit")]);
            return cached;
        }
        crate::metrics::instruments().plan_cache.add(1, &[opentelemetry::KeyValue::new("result", "miss")]);
        let cached = Arc::new(Cached {
            query: request.query.clone(),
            operation_name: request.operation_name.clone(),
            public,
            outcome: self.prepare_uncached(&runtime.supergraph, request, public),
        });
        runtime.prepared.insert(key, cached.clone());
        cached
    }

    fn prepare_uncached(
        &self,
        supergraph: &Supergraph,
        request: &GraphqlRequest,
        public: bool,
    ) -> Result<Prepared, RequestFailure> {
        let ast = tracing::info_span!("parse").in_scope(|| parse::parse(&request.query, self.options.parser_limits))?;
        // Callers limited to the public picture validate against the contract: other fields do
        // not exist for them.
        let schema = match &supergraph.public_schema {
            Some((contract, _)) if public => contract,
            _ => &supergraph.api_schema,
        };
        let document = tracing::info_span!("validate").in_scope(|| validate::validate(schema, ast))?;
        let op = operation::pick(&document, request.operation_name.as_deref())?;
        crate::pipeline::limits::check(&document, op, &self.options.operation_limits)?;
        let cost_after_variables =
            crate::pipeline::cost::check(&supergraph.full_schema, &document, op, &self.options.operation_limits, None)?;
        let operation_type = op.operation_type;
        let has_introspection = op.root_fields(&document).any(|f| matches!(f.name.as_str(), "__schema" | "__type"));
        if has_introspection {
            if !self.options.introspection {
                return Err(RequestFailure::refuse(
                    GatewayError::IntrospectionDisabled,
                    "introspection is disabled on this gateway",
                ));
            }
            apollo_compiler::introspection::check_max_depth(&document, op).map_err(|e| {
                RequestFailure::new(
                    GatewayError::ValidationFailed,
                    vec![GraphqlError::from_compiler(
                        e.to_graphql_error(&document.sources),
                        GatewayError::ValidationFailed,
                    )],
                )
            })?;
        }
        let operation_name = op.name.as_ref().map(|n| n.to_string());
        let plan = plan_operation(supergraph, &request.query, operation_name.as_deref())?;
        if let Some(plan) = &plan {
            tracing::debug!(%plan, "query plan");
        }
        let deprecated = crate::pipeline::deprecated::used(&document, op);
        Ok(Prepared { document, operation_type, plan, has_introspection, cost_after_variables, deprecated })
    }
}

/// Plans `query`. The planner is a library we do not control: a panic while planning one
/// operation becomes that operation's error, not a dropped connection.
fn plan_operation(
    supergraph: &Supergraph,
    query: &str,
    operation_name: Option<&str>,
) -> Result<Option<QueryPlan>, RequestFailure> {
    tracing::info_span!("plan")
        .in_scope(|| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| supergraph.planner.plan(query, operation_name)))
                .unwrap_or_else(|_| Err(crate::plan::PlanError::Plan("the planner failed on this operation".into())))
        })
        .map_err(|e| match e {
            // The document passed our validation, so what the planner's parser refuses is a
            // literal it cannot represent (e.g. an integer beyond 64 bits in an ID argument):
            // the client's input, not our failure.
            crate::plan::PlanError::Parse(_) => RequestFailure::refuse(
                GatewayError::BadUserInput,
                "the operation holds a value the gateway cannot represent (for example an integer literal beyond 64 bits); pass it as a string or a variable",
            ),
            // A planner limitation the client can avoid (another alias), not our failure.
            e @ (crate::plan::PlanError::Conflict { .. } | crate::plan::PlanError::TooLarge(_)) => {
                RequestFailure::refuse(GatewayError::BadUserInput, e.to_string())
            }
            e => {
                tracing::warn!(error = %e, "query planning failed");
                RequestFailure::refuse(GatewayError::QueryPlanningFailed, e.to_string())
            }
        })
}

/// A cache entry's weight: one per started 4 KiB of document text.
fn entry_weight(text_len: usize) -> u32 {
    u32::try_from(text_len / 4096 + 1).unwrap_or(u32::MAX)
}
