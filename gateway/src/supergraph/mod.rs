//! A loaded supergraph: the planner built from it, the API schema clients see, and the subgraphs'
//! URLs. Built once per supergraph version and shared read-only by every request.

pub mod compose;
pub mod contract;

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use apollo_compiler::Schema;
use apollo_compiler::collections::HashMap as CompilerHashMap;
use apollo_compiler::schema::Implementers;
use apollo_compiler::validation::Valid;
use apollo_compiler::{Name, parser::Parser};
use graphql_tools::parser::schema as sdl;

use crate::plan::Planner;

/// Why a supergraph could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SupergraphError {
    #[error("the supergraph is not valid GraphQL SDL: {0}")]
    Syntax(String),
    #[error("the supergraph is invalid: {0}")]
    Invalid(String),
    #[error("the query planner refused the supergraph: {0}")]
    Planner(String),
    #[error("the supergraph declares no subgraphs (no join__Graph values)")]
    NoSubgraphs,
}

pub struct Supergraph {
    /// The supergraph SDL as loaded.
    pub sdl: Arc<str>,
    /// The schema clients validate and introspect against (no federation internals, no
    /// `@inaccessible` elements).
    pub api_schema: Valid<Schema>,
    pub implementers: CompilerHashMap<Name, Implementers>,
    /// The public contract (fields tagged `@tag(name: "public")`) and its implementers, for
    /// callers who may see only the public picture; `None` when nothing is tagged.
    pub public_schema: Option<(Valid<Schema>, CompilerHashMap<Name, Implementers>)>,
    /// The whole supergraph, for type relations that the API schema hides (`@inaccessible`
    /// types still flow between subgraphs).
    pub full_schema: Valid<Schema>,
    pub planner: Planner,
    /// What `@authenticated`, `@requiresScopes` and `@policy` require, per field and type.
    pub access_rules: crate::pipeline::authz::AccessRules,
    /// Subgraph name → URL, as declared by `@join__graph(url:)`.
    pub subgraph_urls: HashMap<String, String>,
}

impl std::fmt::Debug for Supergraph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supergraph").field("subgraphs", &self.subgraph_urls).finish_non_exhaustive()
    }
}

impl Supergraph {
    pub fn load(sdl_text: &str) -> Result<Self, SupergraphError> {
        // apollo-compiler first: it reports errors with locations and never panics.
        let full_schema = Schema::builder()
            .adopt_orphan_extensions()
            .parse(sdl_text, "supergraph.graphql")
            .build()
            .and_then(|schema| schema.validate())
            .map_err(|e| SupergraphError::Invalid(e.errors.to_string()))?;
        let document =
            sdl::parse_schema::<String>(sdl_text).map_err(|e| SupergraphError::Syntax(e.to_string()))?.into_static();
        // The planner is a library we do not control; a panic on an odd supergraph must not take
        // the gateway down (the old supergraph keeps serving).
        let planner = std::panic::catch_unwind(AssertUnwindSafe(|| Planner::new(&document)))
            .map_err(|_| SupergraphError::Planner("the planner panicked".into()))?
            .map_err(SupergraphError::Planner)?;
        let subgraph_urls = planner.subgraph_urls();
        if subgraph_urls.is_empty() {
            return Err(SupergraphError::NoSubgraphs);
        }
        let api_sdl = planner.api_sdl();
        let api_schema = Parser::new()
            .parse_schema(&api_sdl, "api-schema.graphql")
            .map_err(|e| SupergraphError::Invalid(format!("API schema: {}", e.errors)))?
            .validate()
            .map_err(|e| SupergraphError::Invalid(format!("API schema: {}", e.errors)))?;
        let implementers = api_schema.implementers_map();
        let access_rules = crate::pipeline::authz::AccessRules::from_supergraph(&full_schema);
        let public_schema = crate::supergraph::contract::public_schema(&full_schema, &api_schema)
            .map_err(|e| SupergraphError::Invalid(format!("public contract schema: {e}")))?
            .map(|schema| {
                let implementers = schema.implementers_map();
                (schema, implementers)
            });
        Ok(Self {
            sdl: Arc::from(sdl_text),
            api_schema,
            implementers,
            public_schema,
            full_schema,
            planner,
            access_rules,
            subgraph_urls,
        })
    }

    /// Whether an object of type `object_type` matches the type condition `condition`.
    pub fn type_matches(&self, condition: &str, object_type: &str) -> bool {
        condition == object_type || self.full_schema.is_subtype(condition, object_type)
    }
}
