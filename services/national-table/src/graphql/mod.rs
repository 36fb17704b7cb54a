//! The national-table subgraph's GraphQL schema (Apollo Federation v2 via async-graphql).

pub mod mutation;
pub mod picture;
pub mod query;
pub mod types;

use async_graphql::{EmptySubscription, SDLExportOptions, Schema};
use ggzhub_kit::refs::RefChecker;
use sea_orm::DatabaseConnection;

/// The schema type.
pub type NationalTableSchema = Schema<query::Query, mutation::Mutation, EmptySubscription>;

/// Builds the schema with the database and the region subgraph's reference checker.
pub fn schema(db: DatabaseConnection, refs: RefChecker) -> NationalTableSchema {
    Schema::build(query::Query, mutation::Mutation::default(), EmptySubscription)
        .enable_federation()
        .limit_depth(15)
        .limit_complexity(5_000)
        .limit_recursive_depth(32)
        .disable_introspection()
        .data(db)
        .data(refs)
        .finish()
}

/// The subgraph SDL as composition sees it (what `ggzhub schema export` writes).
pub fn sdl() -> String {
    Schema::build(query::Query, mutation::Mutation::default(), EmptySubscription)
        .enable_federation()
        .finish()
        .sdl_with_options(SDLExportOptions::new().federation().compose_directive())
}

#[cfg(test)]
mod tests {
    #[test]
    fn checked_in_sdl_matches_the_code() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/national-table.graphql");
        let checked_in = std::fs::read_to_string(&path).expect("schema/national-table.graphql exists");
        assert!(
            checked_in == super::sdl(),
            "schema/national-table.graphql is out of date: run `cargo run -- schema export` and commit the result"
        );
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
