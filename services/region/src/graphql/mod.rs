//! The region subgraph's GraphQL schema (Apollo Federation v2 via async-graphql).

pub mod mutation;
pub mod query;
pub mod types;

use async_graphql::{EmptySubscription, SDLExportOptions, Schema};
use sea_orm::DatabaseConnection;

/// The schema type.
pub type RegionSchema = Schema<query::Query, mutation::Mutation, EmptySubscription>;

/// Deepest selection a subgraph accepts (the gateway enforces its own, tighter limits).
pub const MAX_DEPTH: usize = 15;
/// Most complex selection a subgraph accepts.
pub const MAX_COMPLEXITY: usize = 5_000;

/// Builds the schema with the database in its data.
pub fn schema(db: DatabaseConnection) -> RegionSchema {
    Schema::build(query::Query, mutation::Mutation, EmptySubscription)
        .enable_federation()
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .limit_recursive_depth(32)
        .disable_introspection()
        .data(db)
        .finish()
}

/// The subgraph SDL as composition sees it (what `ggzhub schema export` writes).
pub fn sdl() -> String {
    Schema::build(query::Query, mutation::Mutation, EmptySubscription)
        .enable_federation()
        .finish()
        .sdl_with_options(SDLExportOptions::new().federation().compose_directive())
}
