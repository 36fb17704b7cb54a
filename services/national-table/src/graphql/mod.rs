//! The national-table subgraph's GraphQL schema (Apollo Federation v2 via async-graphql).

pub mod mutation;
pub mod picture;
pub mod query;
pub mod subscription;
pub mod types;

use async_graphql::Schema;
use ggzhub_kit::outbox::Outbox;
use ggzhub_kit::refs::RefChecker;
use sea_orm::DatabaseConnection;

/// The schema type.
pub type NationalTableSchema = Schema<query::Query, mutation::Mutation, subscription::Subscription>;

/// Builds the schema with the database and the region subgraph's reference checker. Events of
/// changes are recorded in the outbox; no relay is woken (see [`schema_with_outbox`]).
pub fn schema(db: DatabaseConnection, refs: RefChecker) -> NationalTableSchema {
    schema_with_outbox(db, refs, Outbox::detached())
}

/// [`schema`] whose mutations wake `outbox`'s relay after committing events.
pub fn schema_with_outbox(db: DatabaseConnection, refs: RefChecker, outbox: Outbox) -> NationalTableSchema {
    ggzhub_kit::graphql::subgraph_schema_with_subscriptions(
        query::Query,
        mutation::Mutation::default(),
        subscription::Subscription,
    )
    .data(db)
    .data(refs)
    .data(outbox)
    .finish()
}

/// The subgraph SDL as composition sees it (what `ggzhub schema export` writes).
pub fn sdl() -> String {
    let sdl = ggzhub_kit::graphql::subgraph_sdl_with_subscriptions(
        query::Query,
        mutation::Mutation::default(),
        subscription::Subscription,
    );
    // Decided escalations are public: patient organisations receive their DECIDED and CLOSED
    // events (`access::receives_escalation_event`).
    ggzhub_kit::graphql::tag_public_field(&sdl, "escalationEvents(region: ID): EscalationEvent!")
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
            "type ContinuitySignal @key(fields: \"id\")",
            "escalationEvents(region: ID): EscalationEvent!",
            "type Organisation @key(fields: \"id\", resolvable: false)",
            "supraRegionalCoverage",
            "supraRegionalListing",
        ] {
            assert!(sdl.contains(needle), "SDL lacks {needle}");
        }
    }
}
