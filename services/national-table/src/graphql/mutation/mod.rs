//! Mutations of the national-table subgraph. Each checks the caller, validates its input,
//! checks references to region-owned entities with their owner (never storing one unchecked),
//! compares `expectedVersion` and writes an audit entry in the same transaction.
//!
//! One module per aggregate, holding its mutations and their input types; [`Mutation`] merges
//! them into the schema's root, in the order the SDL lists them.

mod common;
pub mod escalation;
pub mod kpi;
pub mod listing;
pub mod measure;
pub mod network;

use async_graphql::MergedObject;

use escalation::EscalationMutation;
use kpi::KpiMutation;
use listing::ListingMutation;
use measure::MeasureMutation;
use network::NetworkMutation;

/// Mutations of the national table; each names the version it expects and is audited.
#[derive(MergedObject, Default)]
pub struct Mutation(EscalationMutation, MeasureMutation, ListingMutation, NetworkMutation, KpiMutation);
