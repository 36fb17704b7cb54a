//! The region subgraph's GraphQL schema (Apollo Federation v2 via async-graphql).

pub mod care_use;
pub mod changes;
pub mod closing;
pub mod mutation;
pub mod picture;
pub mod planning;
pub mod query;
pub mod register;
pub mod subscription;
pub mod types;
pub mod waiting_plan;
pub mod webhook;

use async_graphql::{MergedObject, Schema};
use ggzhub_kit::graphql::{subgraph_schema_with_subscriptions, subgraph_sdl_with_subscriptions};
use ggzhub_kit::outbox::Outbox;
use sea_orm::DatabaseConnection;

pub use subscription::SubscriptionRoot;

/// Queries of the region subgraph: regions, organisations, care offers, overviews, waiting
/// times, continuity signals, the audit log and the register.
#[derive(MergedObject)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    query::Query,
    register::RegisterQuery,
    webhook::WebhookQuery,
    changes::ChangesQuery,
    planning::PlanningQuery,
    care_use::CareUseQuery,
);

/// Mutations of the region subgraph; each is audited, and those changing a versioned record
/// name the version they expect.
#[derive(MergedObject)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(mutation::Mutation, register::RegisterMutation, webhook::WebhookMutation);

/// The schema type.
pub type RegionSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Builds the schema with the database in its data and an outbox that is never relayed
/// ([`Outbox::detached`]): the changes' events are still written to the outbox table, and a
/// process that relays it (see [`crate::app::router_with_events`]) publishes them.
pub fn schema(db: DatabaseConnection) -> RegionSchema {
    schema_with_outbox(db, Outbox::detached())
}

/// Builds the schema with the database and the outbox whose relay mutations wake after a commit.
pub fn schema_with_outbox(db: DatabaseConnection, outbox: Outbox) -> RegionSchema {
    let (query, mutation) = roots();
    subgraph_schema_with_subscriptions(query, mutation, SubscriptionRoot).data(db).data(outbox).finish()
}

/// Like [`schema`], with the calendar's "now" taken from `clock` (tests pin the instant: the
/// closure notice period, closing on the planned date and overdue actions follow it).
pub fn schema_at(db: DatabaseConnection, clock: ggzhub_kit::calendar::Clock) -> RegionSchema {
    let (query, mutation) = roots();
    subgraph_schema_with_subscriptions(query, mutation, SubscriptionRoot)
        .data(db)
        .data(Outbox::detached())
        .data(clock)
        .finish()
}

/// The subgraph SDL as composition sees it (what `ggzhub schema export` writes), with the public
/// subscription field (`offerStatusChanges`: offers' status is public) tagged for the gateway's
/// public contract ([`ggzhub_kit::graphql::tag_public_field`]; its type `OfferStatusEvent` is
/// tagged in the code).
pub fn sdl() -> String {
    let (query, mutation) = roots();
    let sdl = subgraph_sdl_with_subscriptions(query, mutation, SubscriptionRoot);
    ggzhub_kit::graphql::tag_public_field(&sdl, "offerStatusChanges(region: ID): OfferStatusEvent!")
}

fn roots() -> (QueryRoot, MutationRoot) {
    (
        QueryRoot(
            query::Query,
            register::RegisterQuery,
            webhook::WebhookQuery,
            changes::ChangesQuery,
            planning::PlanningQuery,
            care_use::CareUseQuery,
        ),
        MutationRoot(mutation::Mutation::default(), register::RegisterMutation, webhook::WebhookMutation),
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
            "type Subscription",
            "\tsignalEvents(region: ID): SignalEvent!\n",
            "\tofferStatusChanges(region: ID): OfferStatusEvent! @tag(name: \"public\")\n",
            "type OfferStatusEvent @tag(name: \"public\")",
        ] {
            assert!(sdl.contains(key), "SDL lacks {key}");
        }
    }
}
