//! Runs a query plan: fetches from subgraphs and merges their answers into one data tree.
//!
//! The tree is kept per request behind a mutex that is held only while reading representations
//! out of it or merging an answer into it, never across a subgraph call. Shaping the tree into
//! the client's selection is [`crate::respond`]'s job.

pub mod data;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use apollo_compiler::response::{JsonMap, JsonValue};
use bytes::Bytes;
use futures_util::future::{BoxFuture, FutureExt, join_all};
use tracing::Instrument;

use crate::error::{GatewayError, GraphqlError, PathSegment};
use crate::json;
use crate::plan::{
    BatchFetchNode, FetchNode, FetchNodePathSegment, FetchRewrite, FlattenNodePathSegment, OperationKind, PlanNode,
    PlanSelectionItem, PlanSelectionSet, QueryPlan,
};
use crate::subgraph::fetch::{OutgoingHeaders, SubgraphClient};
use crate::subgraph::response::SubgraphResponse;
use crate::supergraph::Supergraph;
use data::Data;

/// Supplies the headers for each subgraph call (identity, trace context).
pub trait SubgraphHeaders: Send + Sync {
    fn headers_for(&self, service: &str) -> OutgoingHeaders;

    /// Who the caller is, for sharing identical requests; `None` is anonymous.
    fn identity(&self) -> Option<String> {
        None
    }

    /// What the caller brings to the supergraph's access-control directives.
    fn access(&self) -> crate::pipeline::authz::Access {
        crate::pipeline::authz::Access::default()
    }

    /// Whether the caller sees only the public contract schema (when the supergraph has one).
    fn public_only(&self) -> bool {
        !self.access().authenticated
    }

    /// The caller's organisation and its kind, for metrics; `None` is anonymous.
    fn organisation(&self) -> Option<(uuid::Uuid, ggzhub_kit::OrgKind)> {
        None
    }
}

impl SubgraphHeaders for OutgoingHeaders {
    fn headers_for(&self, _service: &str) -> OutgoingHeaders {
        self.clone()
    }
}

/// The merged data of all fetches and the errors collected on the way.
#[derive(Debug, Default)]
pub struct Executed {
    pub data: Data,
    pub errors: Vec<GraphqlError>,
    /// A subscription's event that the owning subgraph did not resolve for this caller (not
    /// theirs to see, or outside the subscription's arguments): nothing is sent.
    pub skipped: bool,
}

struct State {
    data: Data,
    errors: Vec<GraphqlError>,
}

pub struct Executor<'a> {
    supergraph: &'a Supergraph,
    client: &'a SubgraphClient,
    variables: &'a JsonMap,
    headers: &'a dyn SubgraphHeaders,
    state: Mutex<State>,
    /// The event a subscription's plan runs for: the serialized `Delivered` the owning subgraph
    /// resolves the subscription's root selection from.
    event: Option<&'a [u8]>,
    skipped: std::sync::atomic::AtomicBool,
}

impl<'a> Executor<'a> {
    pub fn new(
        supergraph: &'a Supergraph,
        client: &'a SubgraphClient,
        variables: &'a JsonMap,
        headers: &'a dyn SubgraphHeaders,
    ) -> Self {
        Self {
            supergraph,
            client,
            variables,
            headers,
            state: Mutex::new(State { data: Data::object(), errors: Vec::new() }),
            event: None,
            skipped: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Runs a subscription's plan for one event (`event`: the serialized
    /// [`ggzhub_kit::events::Delivered`]) instead of a query's.
    pub fn for_event(mut self, event: &'a [u8]) -> Self {
        self.event = Some(event);
        self
    }

    pub async fn run(self, plan: &QueryPlan) -> Executed {
        if let Some(node) = &plan.node {
            self.node(node).await;
        }
        let skipped = self.skipped.load(std::sync::atomic::Ordering::Relaxed);
        let state = self.state.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
        Executed { data: state.data, errors: state.errors, skipped }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn node<'n>(&'n self, node: &'n PlanNode) -> BoxFuture<'n, ()> {
        async move {
            match node {
                PlanNode::Fetch(fetch) => {
                    if fetch.requires.is_some() {
                        self.entity_fetch(&[], fetch).await;
                    } else {
                        self.root_fetch(fetch).await;
                    }
                }
                PlanNode::Flatten(flatten) => match flatten.node.as_ref() {
                    PlanNode::Fetch(fetch) => self.entity_fetch(flatten.path.as_slice(), fetch).await,
                    other => self.node(other).await,
                },
                PlanNode::Sequence(sequence) => {
                    for child in &sequence.nodes {
                        self.node(child).await;
                    }
                }
                PlanNode::Parallel(parallel) => {
                    join_all(parallel.nodes.iter().map(|child| self.node(child))).await;
                }
                PlanNode::Condition(condition) => {
                    let value = matches!(self.variables.get(condition.condition.as_str()), Some(JsonValue::Bool(true)));
                    let branch = if value { &condition.if_clause } else { &condition.else_clause };
                    if let Some(branch) = branch {
                        self.node(branch).await;
                    }
                }
                PlanNode::Defer(defer) => {
                    // No incremental delivery: deferred parts are fetched and returned together.
                    if let Some(primary) = &defer.primary.node {
                        self.node(primary).await;
                    }
                    for deferred in &defer.deferred {
                        if let Some(node) = &deferred.node {
                            self.node(node).await;
                        }
                    }
                }
                PlanNode::BatchFetch(batch) => self.batch_fetch(batch).await,
                PlanNode::Subscription(subscription) => match self.event {
                    Some(event) => self.event_fetch(&subscription.primary, event).await,
                    None => self.lock().errors.push(GraphqlError::new(
                        "a subscription runs only for an event",
                        GatewayError::QueryPlanningFailed,
                    )),
                },
            }
        }
        .boxed()
    }

    fn fetch_variables(&self, usages: Option<&BTreeSet<String>>) -> JsonMap {
        let mut variables = JsonMap::new();
        if let Some(usages) = usages {
            for name in usages {
                if let Some(value) = self.variables.get(name.as_str()) {
                    variables.insert(name.clone(), value.clone());
                }
            }
        }
        variables
    }

    async fn send(&self, service: &str, body: Bytes, shareable: bool) -> Result<Arc<SubgraphResponse>, GraphqlError> {
        let Some(url) = self.supergraph.subgraph_urls.get(service) else {
            return Err(GraphqlError::new(
                format!("subgraph '{service}' is not in the supergraph"),
                GatewayError::Internal,
            ));
        };
        let span = tracing::info_span!("subgraph_fetch", subgraph = service);
        let mut headers = self.headers.headers_for(service);
        if let Some(traceparent) = span.in_scope(crate::subgraph::trace::current_traceparent) {
            headers.traceparent = Some(traceparent);
        }
        let call = async {
            if shareable {
                self.client.call_shared(service, url, body, &headers).await
            } else {
                self.client.call(service, url, body, &headers).await
            }
        };
        call.instrument(span).await.map_err(|failure| {
            GraphqlError::new(failure.to_string(), failure.code()).with_extension("serviceName", service)
        })
    }

    async fn root_fetch(&self, fetch: &FetchNode) {
        let variables = self.fetch_variables(fetch.variable_usages.as_ref());
        let is_query = !matches!(fetch.operation_kind, Some(OperationKind::Mutation));
        let body = build_body(&fetch.operation.document_str, &variables, &[]);
        let result = self.send(&fetch.service_name, body, is_query).await;
        self.merge_root(fetch, result);
    }

    /// Merges a root fetch's answer (or its failure) into the data.
    fn merge_root(&self, fetch: &FetchNode, result: Result<Arc<SubgraphResponse>, GraphqlError>) {
        let mut state = self.lock();
        match result {
            // The fields this fetch was to answer are null: the error names each of them (the
            // spec's `path`), so a client tells "unknown now" from a real null.
            Err(error) => {
                let keys = root_response_keys(&fetch.operation.document.operation.selection_set);
                if keys.is_empty() {
                    state.errors.push(error);
                } else {
                    for key in keys {
                        state.errors.push(error.clone().with_path(vec![PathSegment::Key(key)]));
                    }
                }
            }
            Ok(response) => {
                let service = fetch.service_name.as_str();
                for error in &response.errors {
                    state.errors.push(subgraph_error(error.clone(), service, |path| Some(path.to_vec())));
                }
                // Moved in when this request alone holds the answer; copied when identical calls
                // in flight together share it.
                let data = match Arc::try_unwrap(response) {
                    Ok(response) => response.data,
                    Err(shared) => shared.data.clone(),
                };
                if let Some(data) = data {
                    match fetch.output_rewrites.as_deref() {
                        // Rare (the planner's renames of conflicting fields): through JsonValue.
                        Some(rewrites) if !rewrites.is_empty() => {
                            let mut data = data.to_json();
                            for rewrite in rewrites {
                                apply_rewrite(self.supergraph, &mut data, rewrite);
                            }
                            data::merge(&mut state.data, Data::from_json(&data));
                        }
                        _ => data::merge(&mut state.data, data),
                    }
                }
            }
        }
    }

    /// A subscription's root fetch for one event: the owning subgraph resolves the root
    /// selection from the event (`extensions.ggzhubEvent`) as this caller. An answer marked
    /// skipped means the caller does not receive the event.
    async fn event_fetch(&self, fetch: &FetchNode, event: &[u8]) {
        let variables = self.fetch_variables(fetch.variable_usages.as_ref());
        let body = build_body(&fetch.operation.document_str, &variables, &[]);
        let body = with_extension(&body, ggzhub_kit::events::EVENT_EXTENSION, event);
        let result = self.send(&fetch.service_name, body, true).await;
        if let Ok(response) = &result
            && response.event_skipped
        {
            self.skipped.store(true, std::sync::atomic::Ordering::Relaxed);
            return;
        }
        self.merge_root(fetch, result);
    }

    async fn entity_fetch(&self, path: &[FlattenNodePathSegment], fetch: &FetchNode) {
        let Some(requires) = &fetch.requires else { return };
        let job = EntityJob {
            alias: "_entities",
            variable: "representations",
            paths: vec![path],
            requires,
            input_rewrites: fetch.input_rewrites.as_deref(),
            output_rewrites: fetch.output_rewrites.as_deref(),
        };
        let variables = self.fetch_variables(fetch.variable_usages.as_ref());
        self.entity_jobs(&fetch.service_name, &fetch.operation.document_str, variables, &[job]).await;
    }

    async fn batch_fetch(&self, batch: &BatchFetchNode) {
        let jobs: Vec<EntityJob<'_>> = batch
            .entity_batch
            .aliases
            .iter()
            .map(|alias| EntityJob {
                alias: &alias.alias,
                variable: &alias.representations_variable_name,
                paths: alias.merge_paths.iter().map(|p| p.as_slice()).collect(),
                requires: &alias.requires,
                input_rewrites: alias.input_rewrites.as_deref(),
                output_rewrites: alias.output_rewrites.as_deref(),
            })
            .collect();
        let variables = self.fetch_variables(batch.variable_usages.as_ref());
        self.entity_jobs(&batch.service_name, &batch.operation.document_str, variables, &jobs).await;
    }

    /// Runs one subgraph call that resolves entities for one or more `_entities` selections
    /// (`jobs`): writes each selection's representations from the data, sends them, merges the
    /// answers back and re-paths the errors.
    async fn entity_jobs(&self, service: &str, query: &str, variables: JsonMap, jobs: &[EntityJob<'_>]) {
        // 1. Representations per variable, deduplicated; several aliases may share a variable.
        // Each is written as JSON once: the written bytes both deduplicate it and go into the
        // request body.
        let mut built: Vec<Built<'_>> = Vec::new();
        {
            let state = self.lock();
            let mut scratch = Vec::new();
            for job in jobs {
                if built.iter().any(|b| b.variable == job.variable) {
                    continue;
                }
                let mut positions = Vec::new();
                for path in &job.paths {
                    collect_positions(self.supergraph, &state.data, path, &mut Vec::new(), &mut positions);
                }
                let mut json = vec![b'['];
                let mut seen: apollo_compiler::collections::HashMap<Box<[u8]>, usize> = Default::default();
                let mut targets = Vec::with_capacity(positions.len());
                for position in positions {
                    let Some(Data::Object(entity)) = value_at(&state.data, &position) else { continue };
                    if !write_representation(self.supergraph, entity, job, &mut scratch) {
                        continue;
                    }
                    let index = match seen.get(scratch.as_slice()) {
                        Some(index) => *index,
                        None => {
                            let index = seen.len();
                            if index > 0 {
                                json.push(b',');
                            }
                            json.extend_from_slice(&scratch);
                            seen.insert(scratch.as_slice().into(), index);
                            index
                        }
                    };
                    targets.push((position, index));
                }
                json.push(b']');
                built.push(Built { variable: job.variable, targets, json });
            }
        }
        if built.iter().all(|b| b.targets.is_empty()) {
            return;
        }
        // 2. One subgraph call.
        let representations: Vec<(&str, &[u8])> = built.iter().map(|b| (b.variable, b.json.as_slice())).collect();
        let body = build_body(query, &variables, &representations);
        let result = self.send(service, body, true).await;
        let targets_of = |variable: &str| built.iter().find(|b| b.variable == variable).map(|b| &b.targets);
        // 3. Merge each answer into every entity it stands for.
        let mut state = self.lock();
        let response = match result {
            Ok(response) => response,
            Err(error) => {
                let mut paths: Vec<&Position<'_>> = built.iter().flat_map(|b| &b.targets).map(|(p, _)| p).collect();
                paths.dedup();
                // One error per entity whose fields are missing, at its path (the first
                // MAX_ENTITY_ERRORS; the rest are counted in one more error without a path).
                for path in paths.iter().take(MAX_ENTITY_ERRORS) {
                    state.errors.push(error.clone().with_path(response_path(path)));
                }
                if paths.len() > MAX_ENTITY_ERRORS {
                    let rest = paths.len() - MAX_ENTITY_ERRORS;
                    let mut more = error;
                    more.message = format!("{} (and {rest} more entities)", more.message);
                    state.errors.push(more);
                }
                return;
            }
        };
        for error in &response.errors {
            let converted = subgraph_error(error.clone(), service, |path| match path {
                [PathSegment::Key(alias), PathSegment::Index(index), rest @ ..] => {
                    let job = jobs.iter().find(|j| j.alias == alias)?;
                    let (position, _) = targets_of(job.variable)?.iter().find(|(_, i)| i == index)?;
                    let mut full = response_path(position);
                    full.extend_from_slice(rest);
                    Some(full)
                }
                // Some subgraphs (async-graphql) leave the entity index out; when the fetch
                // stood for one entity only, the error can still be placed.
                [PathSegment::Key(alias), rest @ ..] if !matches!(rest.first(), Some(PathSegment::Index(_))) => {
                    let job = jobs.iter().find(|j| j.alias == alias)?;
                    let mut positions = targets_of(job.variable)?.iter().map(|(p, _)| p);
                    let first = positions.next()?;
                    if positions.any(|p| p != first) {
                        return None;
                    }
                    let mut full = response_path(first);
                    full.extend_from_slice(rest);
                    Some(full)
                }
                _ => None,
            });
            state.errors.push(converted);
        }
        let Some(Data::Object(data)) = &response.data else { return };
        for job in jobs {
            let Some(Data::List(entities)) = data::get(data, job.alias) else { continue };
            let rewritten: Vec<Data>;
            let entities = match job.output_rewrites {
                // Rare (the planner's renames of conflicting fields): through JsonValue.
                Some(rewrites) if !rewrites.is_empty() => {
                    rewritten = entities
                        .iter()
                        .map(|entity| {
                            let mut entity = entity.to_json();
                            for rewrite in rewrites {
                                apply_rewrite(self.supergraph, &mut entity, rewrite);
                            }
                            Data::from_json(&entity)
                        })
                        .collect();
                    &rewritten
                }
                _ => entities,
            };
            let Some(targets) = targets_of(job.variable) else { continue };
            for (position, index) in targets {
                let Some(entity) = entities.get(*index) else { continue };
                if !entity.is_object() {
                    continue;
                }
                if let Some(target) = value_at_mut(&mut state.data, position) {
                    // An answer may stand for several entities, and be shared with other requests.
                    data::merge(target, entity.clone());
                }
            }
        }
    }
}

/// A step to an entity in the merged data: a key (borrowed from the plan) or a list index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step<'p> {
    Key(&'p str),
    Index(usize),
}

/// The concrete position of one entity in the data.
type Position<'p> = Vec<Step<'p>>;

/// Most errors one failed entity fetch adds, one per entity; the rest are counted in one more.
const MAX_ENTITY_ERRORS: usize = 100;

/// The response keys of a root fetch's top-level fields (`__typename` aside), through inline
/// fragments at the root.
fn root_response_keys(set: &PlanSelectionSet) -> Vec<String> {
    let mut keys = Vec::new();
    for item in &set.items {
        match item {
            PlanSelectionItem::Field(field) if field.name != "__typename" => {
                let key = field.alias.clone().unwrap_or_else(|| field.name.clone());
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
            PlanSelectionItem::InlineFragment(inline) => {
                for key in root_response_keys(&inline.selections) {
                    if !keys.contains(&key) {
                        keys.push(key);
                    }
                }
            }
            _ => {}
        }
    }
    keys
}

fn response_path(position: &[Step<'_>]) -> Vec<PathSegment> {
    position
        .iter()
        .map(|step| match step {
            Step::Key(key) => PathSegment::Key((*key).to_owned()),
            Step::Index(index) => PathSegment::Index(*index),
        })
        .collect()
}

/// The representations of one variable: where each entity is, with the index of its
/// representation in `json` (a JSON array).
struct Built<'p> {
    variable: &'p str,
    targets: Vec<(Position<'p>, usize)>,
    json: Vec<u8>,
}

/// One `_entities` selection of a subgraph call.
struct EntityJob<'p> {
    /// Response key of the `_entities` field.
    alias: &'p str,
    /// Variable that carries its representations.
    variable: &'p str,
    /// Where in the data its entities are.
    paths: Vec<&'p [FlattenNodePathSegment]>,
    requires: &'p PlanSelectionSet,
    input_rewrites: Option<&'p [FetchRewrite]>,
    output_rewrites: Option<&'p [FetchRewrite]>,
}

/// The subgraph request body: the query, the fetch's variables, and representation variables
/// that are already JSON (`[(name, json)]`; they replace a variable of the same name).
fn build_body(query: &str, variables: &JsonMap, representations: &[(&str, &[u8])]) -> Bytes {
    let size = query.len() + representations.iter().map(|(_, json)| json.len() + 32).sum::<usize>() + 64;
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(b"{\"query\":");
    // Writing to a Vec cannot fail, and JSON values always serialize.
    let _ = serde_json::to_writer(&mut out, query);
    let mut first = true;
    let mut separator = |out: &mut Vec<u8>| {
        out.extend_from_slice(if first { b",\"variables\":{" } else { b"," });
        first = false;
    };
    for (name, value) in variables.iter() {
        if representations.iter().any(|(variable, _)| *variable == name.as_str()) {
            continue;
        }
        separator(&mut out);
        let _ = serde_json::to_writer(&mut out, name.as_str());
        out.push(b':');
        let _ = serde_json::to_writer(&mut out, value);
    }
    for (name, json) in representations {
        separator(&mut out);
        let _ = serde_json::to_writer(&mut out, name);
        out.push(b':');
        out.extend_from_slice(json);
    }
    if !first {
        out.push(b'}');
    }
    out.push(b'}');
    Bytes::from(out)
}

/// `body` (a JSON object) with `"extensions": {name: json}` added.
fn with_extension(body: &[u8], name: &str, json: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(body.len() + name.len() + json.len() + 24);
    out.extend_from_slice(body.strip_suffix(b"}").unwrap_or(body));
    out.extend_from_slice(b",\"extensions\":{");
    let _ = serde_json::to_writer(&mut out, name);
    out.push(b':');
    out.extend_from_slice(json);
    out.extend_from_slice(b"}}");
    Bytes::from(out)
}

/// Converts a subgraph's error to ours: keeps message, code and other extensions, adds
/// `serviceName`, and re-paths it with `repath` (which may drop the path).
fn subgraph_error(
    mut error: JsonMap,
    service: &str,
    repath: impl Fn(&[PathSegment]) -> Option<Vec<PathSegment>>,
) -> GraphqlError {
    let message = error
        .remove("message")
        .and_then(|m| m.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("subgraph '{service}' returned an error without a message"));
    let mut extensions = match error.remove("extensions") {
        Some(JsonValue::Object(extensions)) => extensions,
        _ => JsonMap::new(),
    };
    if !extensions.get("code").is_some_and(JsonValue::is_string) {
        extensions.insert("code", JsonValue::from(GatewayError::DownstreamServiceError.code()));
    }
    extensions.insert("serviceName", JsonValue::from(service.to_owned()));
    let path = match error.remove("path") {
        Some(JsonValue::Array(segments)) => {
            let segments: Vec<PathSegment> = segments
                .into_iter()
                .filter_map(|s| match s {
                    JsonValue::String(k) => Some(PathSegment::Key(k.as_str().to_owned())),
                    JsonValue::Number(n) => n.as_u64().map(|i| PathSegment::Index(i as usize)),
                    _ => None,
                })
                .collect();
            repath(&segments)
        }
        _ => None,
    };
    let locations = Vec::new();
    GraphqlError { message, locations, path, extensions, from_subgraph: true }
}

/// Finds the concrete positions (object keys and list indexes) that a flatten path reaches.
fn collect_positions<'p>(
    supergraph: &Supergraph,
    value: &Data,
    path: &'p [FlattenNodePathSegment],
    current: &mut Vec<Step<'p>>,
    out: &mut Vec<Position<'p>>,
) {
    match (value, path.split_first()) {
        (Data::List(items), first) if !matches!(first, Some((FlattenNodePathSegment::List, _))) => {
            for (index, item) in items.iter().enumerate() {
                current.push(Step::Index(index));
                collect_positions(supergraph, item, path, current, out);
                current.pop();
            }
        }
        (Data::Object(_), None) => out.push(current.clone()),
        (_, None) => {}
        (Data::List(items), Some((FlattenNodePathSegment::List, rest))) => {
            for (index, item) in items.iter().enumerate() {
                current.push(Step::Index(index));
                collect_positions(supergraph, item, rest, current, out);
                current.pop();
            }
        }
        (Data::Object(object), Some((FlattenNodePathSegment::Field(key), rest))) => {
            if let Some(child) = data::get(object, key) {
                current.push(Step::Key(key));
                collect_positions(supergraph, child, rest, current, out);
                current.pop();
            }
        }
        (Data::Object(object), Some((FlattenNodePathSegment::TypeCondition(types), rest))) => {
            let matches = match data::get(object, "__typename").and_then(Data::as_str) {
                Some(typename) => types.iter().any(|t| supergraph.type_matches(t, typename)),
                None => true,
            };
            if matches {
                collect_positions(supergraph, value, rest, current, out);
            }
        }
        _ => {}
    }
}

fn value_at<'v>(value: &'v Data, path: &[Step<'_>]) -> Option<&'v Data> {
    path.iter().try_fold(value, |value, step| match (value, step) {
        (Data::Object(object), Step::Key(key)) => data::get(object, key),
        (Data::List(items), Step::Index(index)) => items.get(*index),
        _ => None,
    })
}

fn value_at_mut<'v>(value: &'v mut Data, path: &[Step<'_>]) -> Option<&'v mut Data> {
    path.iter().try_fold(value, |value, step| match (value, step) {
        (Data::Object(object), Step::Key(key)) => data::get_mut(object, key),
        (Data::List(items), Step::Index(index)) => items.get_mut(*index),
        _ => None,
    })
}

/// Writes one entity's representation as JSON into `out` (emptied first): its data projected
/// onto the fetch's `requires` selection, with the fetch's input rewrites applied. `false` when a
/// required field is absent (an earlier fetch could not provide it) or nothing is selected: such
/// an entity cannot be resolved and is not sent.
fn write_representation(
    supergraph: &Supergraph,
    entity: &data::Object,
    job: &EntityJob<'_>,
    out: &mut Vec<u8>,
) -> bool {
    out.clear();
    if job.input_rewrites.is_none_or(<[_]>::is_empty) {
        // Straight from the data to JSON, without building the representation as a value.
        let mut keys = Vec::new();
        out.push(b'{');
        match write_fields(supergraph, entity, job.requires, out, &mut keys) {
            Ok(()) => {
                out.push(b'}');
                return !keys.is_empty();
            }
            Err(Unwritable::Missing) => return false,
            // A key selected twice must be merged: build the value below.
            Err(Unwritable::Repeated) => out.clear(),
        }
    }
    let Some(mut representation) = project_requires(supergraph, entity, job.requires) else { return false };
    for rewrite in job.input_rewrites.unwrap_or_default() {
        apply_rewrite(supergraph, &mut representation, rewrite);
    }
    serde_json::to_writer(&mut *out, &representation).is_ok()
}

/// Why a projection could not be written directly.
enum Unwritable {
    /// A selected field is not in the data.
    Missing,
    /// A response key is selected more than once (its values must be merged).
    Repeated,
}

/// Writes the fields of `selection` found in `source` as JSON object members (the caller writes
/// the braces); `keys` collects the keys written at this level. The same projection as
/// [`project_into`].
fn write_fields<'s>(
    supergraph: &Supergraph,
    source: &data::Object,
    selection: &'s PlanSelectionSet,
    out: &mut Vec<u8>,
    keys: &mut Vec<&'s str>,
) -> Result<(), Unwritable> {
    for item in &selection.items {
        match item {
            PlanSelectionItem::Field(field) => {
                let key = field.alias.as_deref().unwrap_or(&field.name);
                let value = data::get(source, &field.name).ok_or(Unwritable::Missing)?;
                if keys.contains(&key) {
                    return Err(Unwritable::Repeated);
                }
                if !keys.is_empty() {
                    out.push(b',');
                }
                keys.push(key);
                // The key the subgraph expects: a field name or the planner's alias.
                json::write_str(out, key);
                out.push(b':');
                if field.selections.items.is_empty() {
                    value.write(out);
                } else {
                    write_projected(supergraph, value, &field.selections, out)?;
                }
            }
            PlanSelectionItem::InlineFragment(fragment) => {
                let applies = match data::get(source, "__typename").and_then(Data::as_str) {
                    Some(typename) => supergraph.type_matches(&fragment.type_condition, typename),
                    None => true,
                };
                if applies {
                    write_fields(supergraph, source, &fragment.selections, out, keys)?;
                }
            }
            PlanSelectionItem::FragmentSpread(_) => {}
        }
    }
    Ok(())
}

fn write_projected(
    supergraph: &Supergraph,
    value: &Data,
    selection: &PlanSelectionSet,
    out: &mut Vec<u8>,
) -> Result<(), Unwritable> {
    match value {
        Data::Object(object) => {
            out.push(b'{');
            write_fields(supergraph, object, selection, out, &mut Vec::new())?;
            out.push(b'}');
        }
        Data::List(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_projected(supergraph, item, selection, out)?;
            }
            out.push(b']');
        }
        other => other.write(out),
    }
    Ok(())
}

/// The representation of one entity: its data projected onto the fetch's `requires` selection.
/// `None` when a required field is absent (an earlier fetch could not provide it): such an
/// entity cannot be resolved and is not sent.
fn project_requires(supergraph: &Supergraph, entity: &data::Object, requires: &PlanSelectionSet) -> Option<JsonValue> {
    let mut out = JsonMap::new();
    project_into(supergraph, entity, requires, &mut out)?;
    if out.is_empty() { None } else { Some(JsonValue::Object(out)) }
}

fn project_into(
    supergraph: &Supergraph,
    source: &data::Object,
    selection: &PlanSelectionSet,
    out: &mut JsonMap,
) -> Option<()> {
    for item in &selection.items {
        match item {
            PlanSelectionItem::Field(field) => {
                // In a `requires` selection the name is the key in the fetched data and the alias
                // the key the subgraph expects (the planner aliases conflicting fetches).
                let key = field.alias.as_deref().unwrap_or(&field.name);
                let value = data::get(source, &field.name)?;
                let projected = if field.selections.items.is_empty() {
                    value.to_json()
                } else {
                    project_value(supergraph, value, &field.selections)?
                };
                match out.get_mut(key) {
                    Some(existing) => deep_merge(existing, projected),
                    None => {
                        out.insert(key.to_owned(), projected);
                    }
                }
            }
            PlanSelectionItem::InlineFragment(fragment) => {
                let applies = match data::get(source, "__typename").and_then(Data::as_str) {
                    Some(typename) => supergraph.type_matches(&fragment.type_condition, typename),
                    None => true,
                };
                if applies {
                    project_into(supergraph, source, &fragment.selections, out)?;
                }
            }
            PlanSelectionItem::FragmentSpread(_) => {}
        }
    }
    Some(())
}

fn project_value(supergraph: &Supergraph, value: &Data, selection: &PlanSelectionSet) -> Option<JsonValue> {
    Some(match value {
        Data::Object(object) => {
            let mut out = JsonMap::new();
            project_into(supergraph, object, selection, &mut out)?;
            JsonValue::Object(out)
        }
        Data::List(items) => JsonValue::Array(
            items.iter().map(|item| project_value(supergraph, item, selection)).collect::<Option<Vec<_>>>()?,
        ),
        other => other.to_json(),
    })
}

/// Applies one of the planner's rewrites (rename a key, set a value) along its path.
fn apply_rewrite(supergraph: &Supergraph, value: &mut JsonValue, rewrite: &FetchRewrite) {
    match rewrite {
        FetchRewrite::ValueSetter(setter) => {
            rewrite_path(supergraph, value, &setter.path, &|target: &mut JsonValue| {
                *target = JsonValue::from(setter.set_value_to.clone());
            });
        }
        FetchRewrite::KeyRenamer(renamer) => {
            let Some((FetchNodePathSegment::Key(last), parent)) = renamer.path.split_last() else { return };
            rewrite_path(supergraph, value, parent, &|target: &mut JsonValue| {
                if let JsonValue::Object(object) = target
                    && let Some(moved) = object.remove(last.as_str())
                {
                    object.insert(renamer.rename_key_to.clone(), moved);
                }
            });
        }
    }
}

fn rewrite_path(
    supergraph: &Supergraph,
    value: &mut JsonValue,
    path: &[FetchNodePathSegment],
    action: &dyn Fn(&mut JsonValue),
) {
    if let JsonValue::Array(items) = value {
        for item in items {
            rewrite_path(supergraph, item, path, action);
        }
        return;
    }
    let Some((first, rest)) = path.split_first() else {
        action(value);
        return;
    };
    let JsonValue::Object(object) = value else { return };
    match first {
        FetchNodePathSegment::TypenameEquals(types) => {
            let matches = match json::get(object, "__typename").and_then(JsonValue::as_str) {
                Some(typename) => types.iter().any(|t| supergraph.type_matches(t, typename)),
                None => true,
            };
            if matches {
                rewrite_path(supergraph, value, rest, action);
            }
        }
        FetchNodePathSegment::Key(key) => {
            if let Some(child) = object.get_mut(key.as_str()) {
                if rest.is_empty() {
                    action(child);
                } else {
                    rewrite_path(supergraph, child, rest, action);
                }
            }
        }
    }
}

/// Merges `source` into `target`: objects key by key, lists item by item, other values replace.
/// A `null` never overwrites data already fetched.
fn deep_merge(target: &mut JsonValue, source: JsonValue) {
    match (target, source) {
        (JsonValue::Object(target), JsonValue::Object(source)) => {
            for (key, value) in source {
                match target.get_mut(&key) {
                    Some(existing) => deep_merge(existing, value),
                    None => {
                        target.insert(key, value);
                    }
                }
            }
        }
        (JsonValue::Array(target), JsonValue::Array(source)) if target.len() == source.len() => {
            for (existing, value) in target.iter_mut().zip(source) {
                deep_merge(existing, value);
            }
        }
        (target, JsonValue::Null) if !target.is_null() => {}
        (target, source) => *target = source,
    }
}
