//! The national-table subgraph's GraphQL schema (Apollo Federation v2 via async-graphql).

pub mod mutation;
pub mod picture;
pub mod query;
pub mod types;

use async_graphql::{EmptySubscription, Schema};
use ggzhub_kit::refs::RefChecker;
use sea_orm::DatabaseConnection;

/// The schema type.
pub type NationalTableSchema = Schema<query::Query, mutation::Mutation, EmptySubscription>;

/// Builds the schema with the database and the region subgraph's reference checker.
pub fn schema(db: DatabaseConnection, refs: RefChecker) -> NationalTableSchema {
    ggzhub_kit::graphql::subgraph_schema(query::Query, mutation::Mutation::default()).data(db).data(refs).finish()
}

/// The subgraph SDL as composition sees it (what `ggzhub schema export` writes).
pub fn sdl() -> String {
    ggzhub_kit::graphql::subgraph_sdl(query::Query, mutation::Mutation::default())
}

#[cfg(test)]
mod tests {
    #[test]
    fn checked_in_sdl_matches_the_code() {
        ggzhub_kit::graphql::assert_sdl_checked_in("national-table.graphql", &super::sdl());
    }

    #[test]
    fn sdl_declares_entities_and_extends_region_and_care_offer() {
        let sdl = super::sdl();
        for needle in [
            "type Escalation @key(fields: \"id\")",
            "type NationalKpi @key(fields: \"code\")",
            "type Region @key(fields: \"code\")",
            "type CareOffer @key(fields: \"id\")",
            "type Organisation @key(fields: \"id\", resolvable: false)",
            "supraRegionalCoverage",
            "supraRegionalListing",
        ] {
            assert!(sdl.contains(needle), "SDL lacks {needle}");
        }
    }
}
