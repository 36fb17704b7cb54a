//! The contracting subgraph's GraphQL schema (Apollo Federation v2 via async-graphql).

pub mod mutation;
pub mod query;
pub mod types;

use async_graphql::{EmptySubscription, Schema};
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
    ggzhub_kit::graphql::subgraph_schema(query::Query, mutation::Mutation::default())
        .data(db)
        .data(owners.region.clone())
        .data(owners)
        .data(today)
        .finish()
}

/// The subgraph SDL as composition sees it (what `ggzhub schema export` writes).
pub fn sdl() -> String {
    ggzhub_kit::graphql::subgraph_sdl(query::Query, mutation::Mutation::default())
}

#[cfg(test)]
mod tests {
    #[test]
    fn checked_in_sdl_matches_the_code() {
        ggzhub_kit::graphql::assert_sdl_checked_in("contracting.graphql", &super::sdl());
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
