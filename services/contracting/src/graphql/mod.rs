//! The contracting subgraph's GraphQL schema (Apollo Federation v2 via async-graphql).

pub mod mutation;
pub mod query;
pub mod types;

use async_graphql::{EmptySubscription, SDLExportOptions, Schema};
use ggzhub_kit::refs::RefChecker;
use sea_orm::DatabaseConnection;

use crate::clock::Today;

/// The schema type.
pub type ContractingSchema = Schema<query::Query, mutation::Mutation, EmptySubscription>;

/// The subgraphs that own what contracts refer to.
#[derive(Clone)]
pub struct Owners {
    /// Region subgraph: care offers, organisations.
    pub region: RefChecker,
    /// National-table subgraph: national KPIs.
    pub national_table: RefChecker,
}

/// Builds the schema with the database and the owners' reference checkers.
pub fn schema(db: DatabaseConnection, owners: Owners) -> ContractingSchema {
    schema_at(db, owners, Today::System)
}

/// Like [`schema`], with today's date taken from `today`.
pub fn schema_at(db: DatabaseConnection, owners: Owners, today: Today) -> ContractingSchema {
    Schema::build(query::Query, mutation::Mutation::default(), EmptySubscription)
        .enable_federation()
        .limit_depth(15)
        .limit_complexity(5_000)
        .limit_recursive_depth(32)
        .disable_introspection()
        .data(db)
        .data(owners.region.clone())
        .data(owners)
        .data(today)
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
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/contracting.graphql");
        let checked_in = std::fs::read_to_string(&path).expect("schema/contracting.graphql exists");
        assert!(
            checked_in == super::sdl(),
            "schema/contracting.graphql is out of date: run `cargo run -- schema export` and commit the result"
        );
    }

    #[test]
    fn coverage_types_carry_no_terms() {
        let sdl = super::sdl();
        for ty in ["type ContractCoverage", "type CategoryContracting"] {
            let start = sdl.find(ty).unwrap_or_else(|| panic!("{ty} is defined"));
            let body = &sdl[start..start + sdl[start..].find('}').expect("closing brace")];
            for forbidden in
                ["volume", "amount", "guarantee", "kpi", "insurer:", "insurerId", "provider:", "offers:", "notes"]
            {
                assert!(!body.to_lowercase().contains(&forbidden.to_lowercase()), "{ty} must not carry {forbidden}");
            }
        }
    }
}
