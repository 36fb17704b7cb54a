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
        self.inner
            .plan_from_normalized_operation(&normalized.operation, PlannerOverrideContext::default(), &cancellation)
            .map(Some)
            .map_err(|e| PlanError::Plan(e.to_string()))
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
