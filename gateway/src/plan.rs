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
    /// The plan's subgraph operations are too large to check for such conflicts (far beyond what
    /// the gateway's limits let an operation reach in practice).
    #[error("the operation cannot be planned: its subgraph requests are too large to check ({0}); make it smaller")]
    TooLarge(&'static str),
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
        let document = match node {
            PlanNode::Fetch(fetch) => &fetch.operation.document,
            PlanNode::BatchFetch(fetch) => &fetch.operation.document,
            PlanNode::Subscription(s) => &s.primary.operation.document,
            PlanNode::Sequence(s) => return s.nodes.iter().try_for_each(|n| self.refuse_conflicts(n)),
            PlanNode::Parallel(p) => return p.nodes.iter().try_for_each(|n| self.refuse_conflicts(n)),
            PlanNode::Flatten(f) => return self.refuse_conflicts(&f.node),
            PlanNode::Condition(c) => {
                return c.if_clause.iter().chain(c.else_clause.iter()).try_for_each(|n| self.refuse_conflicts(n));
            }
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
        let mut check = ConflictCheck {
            supergraph: &self.inner.supergraph,
            fragments: document.fragments.iter().map(|f| (f.name.as_str(), f)).collect(),
            budget: CONFLICT_CHECK_BUDGET,
        };
        check.merged(&[(None, &document.operation.selection_set)])
    }
}

/// Most fields [`ConflictCheck`] looks at for one subgraph operation (each field once per object
/// type it may be read for); beyond it the plan is refused rather than checked at length.
const CONFLICT_CHECK_BUDGET: usize = 200_000;

/// A field of a subgraph operation with the type condition of the innermost fragment it is in
/// (`None`: directly in its selection set, so it applies to every object read there).
type Occurrence<'a> = (Option<&'a str>, &'a hive_router_query_planner::ast::selection_set::FieldSelection);

/// Looks for one response key standing for two different fields in a subgraph operation, through
/// inline fragments and the named fragments the planner makes of repeated selections.
struct ConflictCheck<'a> {
    supergraph: &'a SupergraphState,
    fragments: HashMap<&'a str, &'a hive_router_query_planner::ast::fragment::FragmentDefinition>,
    budget: usize,
}

impl<'a> ConflictCheck<'a> {
    /// The fields of `set` (read under `condition`) by response key, fragments flattened.
    fn collect(
        &mut self,
        set: &'a PlanSelectionSet,
        condition: Option<&'a str>,
        out: &mut HashMap<&'a str, Vec<Occurrence<'a>>>,
        depth: usize,
    ) -> Result<(), PlanError> {
        if depth > 64 {
            return Err(PlanError::TooLarge("fragments nested too deep"));
        }
        for item in &set.items {
            self.budget = self.budget.checked_sub(1).ok_or(PlanError::TooLarge("too many fields"))?;
            match item {
                SelectionItem::Field(field) => {
                    out.entry(field.alias.as_deref().unwrap_or(&field.name)).or_default().push((condition, field));
                }
                SelectionItem::InlineFragment(fragment) => {
                    self.collect(&fragment.selections, Some(&fragment.type_condition), out, depth + 1)?;
                }
                SelectionItem::FragmentSpread(name) => {
                    let fragment = self.fragments.get(name.as_str()).copied().ok_or_else(|| {
                        PlanError::Plan(format!("a subgraph operation spreads an unknown fragment {name}"))
                    })?;
                    self.collect(&fragment.selection_set, Some(&fragment.type_condition), out, depth + 1)?;
                }
            }
        }
        Ok(())
    }

    fn is_object(&self, name: &str) -> bool {
        matches!(self.supergraph.definitions.get(name), Some(SupergraphDefinition::Object(_)))
    }

    /// Checks the selection sets `sets` read from one object (each with the condition it is read
    /// under). Per response key, the fields that can apply to one object — those read for any
    /// object (no condition, or an interface or union: conservatively) together with those of
    /// one object type — must be one field with the same arguments; their sub-selections are
    /// then checked as one set, once per object type.
    fn merged(&mut self, sets: &[(Option<&'a str>, &'a PlanSelectionSet)]) -> Result<(), PlanError> {
        let mut by_key = HashMap::new();
        for (condition, set) in sets {
            self.collect(set, *condition, &mut by_key, 0)?;
        }
        for (key, found) in by_key {
            let (any_object, by_type): (Vec<Occurrence<'a>>, Vec<Occurrence<'a>>) =
                found.into_iter().partition(|(condition, _)| condition.is_none_or(|c| !self.is_object(c)));
            let mut classes: HashMap<&str, Vec<Occurrence<'a>>> = HashMap::new();
            for (condition, field) in by_type {
                if let Some(object_type) = condition {
                    classes.entry(object_type).or_default().push((condition, field));
                }
            }
            let groups: Vec<Vec<Occurrence<'a>>> = if classes.is_empty() {
                vec![any_object]
            } else {
                classes
                    .into_values()
                    .map(|mut class| {
                        class.extend(any_object.iter().copied());
                        class
                    })
                    .collect()
            };
            for group in groups {
                let Some((_, first)) = group.first() else { continue };
                if let Some((_, other)) =
                    group.iter().find(|(_, f)| f.name != first.name || f.arguments != first.arguments)
                {
                    return Err(PlanError::Conflict {
                        key: key.to_owned(),
                        first: first.name.clone(),
                        second: other.name.clone(),
                    });
                }
                let subsets: Vec<_> = group
                    .iter()
                    .filter(|(_, f)| !f.selections.items.is_empty())
                    .map(|(_, f)| (None, &f.selections))
                    .collect();
                if !subsets.is_empty() {
                    self.merged(&subsets)?;
                }
            }
        }
        Ok(())
    }
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
