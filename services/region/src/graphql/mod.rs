//! The region subgraph's GraphQL schema (Apollo Federation v2 via async-graphql).

pub mod mutation;
pub mod picture;
pub mod query;
pub mod register;
pub mod types;

use async_graphql::{EmptySubscription, MergedObject, SDLExportOptions, Schema};
use sea_orm::DatabaseConnection;

/// Queries of the region subgraph: regions, organisations, care offers, overviews, waiting
/// times, continuity signals, the audit log and the register.
#[derive(MergedObject)]
#[graphql(name = "Query")]
pub struct QueryRoot(query::Query, register::RegisterQuery);

/// Mutations of the region subgraph; each is audited, and those changing a versioned record
/// name the version they expect.
#[derive(MergedObject)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(mutation::Mutation, register::RegisterMutation);

/// The schema type.
pub type RegionSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Deepest selection a subgraph accepts (the gateway enforces its own, tighter limits).
pub const MAX_DEPTH: usize = 15;
/// Most complex selection a subgraph accepts.
pub const MAX_COMPLEXITY: usize = 5_000;

/// Builds the schema with the database in its data.
pub fn schema(db: DatabaseConnection) -> RegionSchema {
    Schema::build(
        QueryRoot(query::Query, register::RegisterQuery),
        MutationRoot(mutation::Mutation::default(), register::RegisterMutation),
        EmptySubscription,
    )
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
    Schema::build(
        QueryRoot(query::Query, register::RegisterQuery),
        MutationRoot(mutation::Mutation::default(), register::RegisterMutation),
        EmptySubscription,
    )
    .enable_federation()
    .finish()
    .sdl_with_options(SDLExportOptions::new().federation().compose_directive())
}

#[cfg(test)]
mod tests {
    #[test]
    fn checked_in_sdl_matches_the_code() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/region.graphql");
        let checked_in = std::fs::read_to_string(&path).expect("schema/region.graphql exists");
        assert!(
            checked_in == super::sdl(),
            "schema/region.graphql is out of date: run `cargo run -- schema export` and commit the result"
        );
    }

    #[test]
    fn sdl_declares_the_federation_entities_and_a_query_root() {
        let sdl = super::sdl();
        for key in [
            "type Region @key(fields: \"code\")",
            "type Organisation @key(fields: \"id\")",
            "type CareOffer @key(fields: \"id\")",
            "type RegionalOverview @key(fields: \"id\")",
            "type Query",
        ] {
            assert!(sdl.contains(key), "SDL lacks {key}");
        }
    }
}
