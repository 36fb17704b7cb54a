//! Query planning, behind our own interface.
//!
//! The planner is `hive-router-query-planner` (pinned). Everything else in the gateway sees only
//! this module: the plan node types are re-exported from here, so swapping the planner means
//! changing this file and the executor's match on node kinds, nothing else. Plan snapshot tests
//! (`tests/gateway/schema.rs`, the `plan_*` snapshots) pin its behaviour on our supergraph.

use std::collections::HashMap;
use std::time::Duration;

use graphql_tools::parser::query as query_ast;
use graphql_tools::parser::schema as sdl;
use graphql_tools::static_graphql::schema::{Definition, TypeDefinition};
use hive_router_query_planner::ast::normalization::normalize_operation;
use hive_router_query_planner::ast::selection_item::SelectionItem;
use hive_router_query_planner::graph::PlannerOverrideContext;
use hive_router_query_planner::planner::Planner as HivePlanner;
use hive_router_query_planner::state::supergraph_state::{SupergraphDefinition, SupergraphState};
use hive_router_query_planner::utils::cancellation::CancellationToken;

pub use hive_router_query_planner::ast::selection_item::SelectionItem as PlanSelectionItem;
pub use hive_router_query_planner::ast::selection_set::SelectionSet as PlanSelectionSet;
pub use hive_router_query_planner::planner::plan_nodes::{
    BatchFetchNode, FetchNode, FetchNodePathSegment, FetchRewrite, FlattenNode, FlattenNodePathSegment, PlanNode,
    QueryPlan,
};
pub use hive_router_query_planner::state::supergraph_state::OperationKind;

/// How long one plan may take before it is abandoned.
const PLANNING_BUDGET: Duration = Duration::from_secs(10);

pub struct Planner {
    inner: HivePlanner,
}

/// Why an operation could not be planned.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("the operation could not be parsed for planning: {0}")]
    Parse(String),
    #[error("the operation could not be normalized: {0}")]
    Normalize(String),
    #[error("no query plan could be built: {0}")]
    Plan(String),
    /// The plan would send a subgraph an operation in which one response key stands for two
    /// different fields: an alias of the client's operation collides with a field the planner
    /// added for another part of it (a key or `@requires` field in a conditional fragment, which
    /// the planner does not rename). Not sent: the subgraph would answer one of the two under
    /// the other's name, and a representation built from it would carry the client's value.
    #[error(
        "the operation cannot be planned: in a subgraph request the response key `{key}` would stand for both `{first}` and `{second}` (an alias of the operation collides with a field the gateway must fetch for another part of it); choose another alias"
    )]
    Conflict { key: String, first: String, second: String },
}

impl Planner {
    pub fn new(supergraph: &sdl::Document<'static, String>) -> Result<Self, String> {
        HivePlanner::new_from_supergraph(supergraph, Default::default())
            .map(|inner| Self { inner })
            .map_err(|e| e.to_string())
    }

    /// Subgraph name → URL from `@join__graph`.
    pub fn subgraph_urls(&self) -> HashMap<String, String> {
        self.inner.supergraph.subgraph_endpoint_map.clone().into_iter().collect()
    }

    /// The API (consumer) schema as SDL: `@inaccessible` elements pruned, federation internals
    /// stripped, and without the introspection types (clients' introspection is answered from
    /// apollo-compiler's built-ins).
    pub fn api_sdl(&self) -> String {
        let mut document = (*self.inner.consumer_schema.document).clone();
        document.definitions.retain(|definition| match definition {
            Definition::TypeDefinition(t) => {
                let name = type_name(t);
                !name.starts_with("__") && !matches!(name, "String" | "Int" | "Float" | "Boolean" | "ID")
            }
            Definition::DirectiveDefinition(d) => !is_builtin_directive(&d.name),
            _ => true,
        });
        for definition in &mut document.definitions {
            if let Definition::TypeDefinition(TypeDefinition::Object(object)) = definition {
                object.fields.retain(|f| !f.name.starts_with("__"));
            }
        }
        document.to_string()
    }

    /// Plans one operation of `query` (already validated against the API schema). Root
    /// introspection fields (`__schema`, `__type`, `__typename`) are left to the gateway; `None`
    /// means nothing is left to fetch from subgraphs.
    pub fn plan(&self, query: &str, operation_name: Option<&str>) -> Result<Option<QueryPlan>, PlanError> {
        let document = parse_for_planning(query)?;
        let mut normalized = normalize_operation(&self.inner.supergraph, &document, operation_name)
            .map_err(|e| PlanError::Normalize(e.to_string()))?;
        let root = &mut normalized.operation.selection_set.items;
        root.retain(|item| {
            !matches!(item, SelectionItem::Field(f) if matches!(f.name.as_str(), "__schema" | "__type" | "__typename"))
        });
        if root.is_empty() {
            return Ok(None);
        }
        let cancellation = CancellationToken::with_timeout(PLANNING_BUDGET);
        let plan = self
            .inner
            .plan_from_normalized_operation(&normalized.operation, PlannerOverrideContext::default(), &cancellation)
            .map_err(|e| PlanError::Plan(e.to_string()))?;
        if let Some(node) = &plan.node {
            self.refuse_conflicts(node)?;
        }
        Ok(Some(plan))
    }

    /// [`PlanError::Conflict`] when any fetch of `node` asks one response key for two different
    /// fields (GraphQL's "fields in set can merge", which a subgraph need not check).
    fn refuse_conflicts(&self, node: &PlanNode) -> Result<(), PlanError> {
        let selections = match node {
            PlanNode::Fetch(fetch) => &fetch.operation.document.operation.selection_set,
            PlanNode::BatchFetch(fetch) => &fetch.operation.document.operation.selection_set,
            PlanNode::Sequence(s) => return s.nodes.iter().try_for_each(|n| self.refuse_conflicts(n)),
            PlanNode::Parallel(p) => return p.nodes.iter().try_for_each(|n| self.refuse_conflicts(n)),
            PlanNode::Flatten(f) => return self.refuse_conflicts(&f.node),
            PlanNode::Condition(c) => {
                return c.if_clause.iter().chain(c.else_clause.iter()).try_for_each(|n| self.refuse_conflicts(n));
            }
            PlanNode::Subscription(s) => &s.primary.operation.document.operation.selection_set,
            PlanNode::Defer(d) => {
                return d
                    .primary
                    .node
                    .iter()
                    .map(AsRef::as_ref)
                    .chain(d.deferred.iter().filter_map(|x| x.node.as_deref()))
                    .try_for_each(|n| self.refuse_conflicts(n));
            }
        };
        conflict_in(&self.inner.supergraph, &[selections])
    }
}

/// A field of a selection set with the type condition of the innermost inline fragment it is
/// in (`None`: directly in the set, so it applies to every object the set is read from).
type Occurrence<'a> = (Option<&'a str>, &'a hive_router_query_planner::ast::selection_set::FieldSelection);

fn occurrences<'a>(
    set: &'a PlanSelectionSet,
    condition: Option<&'a str>,
    out: &mut HashMap<&'a str, Vec<Occurrence<'a>>>,
) {
    for item in &set.items {
        match item {
            SelectionItem::Field(field) => {
                out.entry(field.alias.as_deref().unwrap_or(&field.name)).or_default().push((condition, field));
            }
            SelectionItem::InlineFragment(fragment) => {
                occurrences(&fragment.selections, Some(&fragment.type_condition), out);
            }
            // The planner inlines fragments; a spread left over has nothing to compare here.
            SelectionItem::FragmentSpread(_) => {}
        }
    }
}

/// Whether one object can match both conditions: always when either is the set's own type or
/// abstract (an interface or union), never for two different object types.
fn may_overlap(supergraph: &SupergraphState, a: Option<&str>, b: Option<&str>) -> bool {
    let (Some(a), Some(b)) = (a, b) else { return true };
    let is_object = |name: &str| matches!(supergraph.definitions.get(name), Some(SupergraphDefinition::Object(_)));
    a == b || !is_object(a) || !is_object(b)
}

/// The first response key of the merged `sets` (one object's selections) that stands for two
/// different fields (another name or other arguments), looking into the sub-selections of the
/// fields that share a key.
fn conflict_in(supergraph: &SupergraphState, sets: &[&PlanSelectionSet]) -> Result<(), PlanError> {
    let mut by_key = HashMap::new();
    for set in sets {
        occurrences(set, None, &mut by_key);
    }
    for (key, found) in &by_key {
        for (i, (condition_a, a)) in found.iter().enumerate() {
            for (condition_b, b) in &found[i + 1..] {
                if !may_overlap(supergraph, *condition_a, *condition_b) {
                    continue;
                }
                if a.name != b.name || a.arguments != b.arguments {
                    return Err(PlanError::Conflict {
                        key: (*key).to_owned(),
                        first: a.name.clone(),
                        second: b.name.clone(),
                    });
                }
                if !a.selections.items.is_empty() || !b.selections.items.is_empty() {
                    conflict_in(supergraph, &[&a.selections, &b.selections])?;
                }
            }
            if found.len() == 1 && !a.selections.items.is_empty() {
                conflict_in(supergraph, &[&a.selections])?;
            }
        }
    }
    Ok(())
}

/// Parses an operation with the planner's parser. That parser predates parts of GraphQL's string
/// syntax (`\u{1F600}` and surrogate-pair `\uD83D\uDE00` escapes), so a document it refuses is
/// parsed once more as apollo-compiler (which has validated it) prints it: the same document with
/// every escape resolved and no comments.
fn parse_for_planning(query: &str) -> Result<query_ast::Document<'static, String>, PlanError> {
    let refused = match query_ast::parse_query::<String>(query) {
        Ok(document) => return Ok(document.into_static()),
        Err(error) => PlanError::Parse(error.to_string()),
    };
    let Ok(document) = apollo_compiler::ast::Document::parse(query, "operation.graphql") else {
        return Err(refused);
    };
    let printed = document.serialize().no_indent().to_string();
    query_ast::parse_query::<String>(&printed).map(|d| d.into_static()).map_err(|_| refused)
}

fn type_name(definition: &TypeDefinition) -> &str {
    match definition {
        TypeDefinition::Scalar(t) => &t.name,
        TypeDefinition::Object(t) => &t.name,
        TypeDefinition::Interface(t) => &t.name,
        TypeDefinition::Union(t) => &t.name,
        TypeDefinition::Enum(t) => &t.name,
        TypeDefinition::InputObject(t) => &t.name,
    }
}

fn is_builtin_directive(name: &str) -> bool {
    matches!(name, "skip" | "include" | "deprecated" | "specifiedBy" | "oneOf")
}
