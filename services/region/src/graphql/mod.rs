//! The region subgraph's GraphQL schema (Apollo Federation v2 via async-graphql).

pub mod mutation;
pub mod picture;
pub mod query;
pub mod register;
pub mod types;

use async_graphql::{EmptySubscription, MergedObject, Schema};
use ggzhub_kit::graphql::{subgraph_schema, subgraph_sdl};
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

/// Builds the schema with the database in its data.
pub fn schema(db: DatabaseConnection) -> RegionSchema {
    let (query, mutation) = roots();
    subgraph_schema(query, mutation).data(db).finish()
}

/// The subgraph SDL as composition sees it (what `ggzhub schema export` writes).
pub fn sdl() -> String {
    let (query, mutation) = roots();
    subgraph_sdl(query, mutation)
}

fn roots() -> (QueryRoot, MutationRoot) {
    (
        QueryRoot(query::Query, register::RegisterQuery),
        MutationRoot(mutation::Mutation::default(), register::RegisterMutation),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn checked_in_sdl_matches_the_code() {
        ggzhub_kit::graphql::assert_sdl_checked_in("region.graphql", &super::sdl());
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
