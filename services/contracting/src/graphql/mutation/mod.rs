//! Mutations of the contracting subgraph. Each checks the caller, validates its input, checks
//! references with their owners (offers and organisations with region, KPIs with national-table),
//! compares `expectedVersion` and writes an audit entry in the same transaction. A contract the
//! caller is not a party to is reported exactly like one that does not exist.
//!
//! One module per aggregate (contracts, guidelines); [`Mutation`] merges them into the schema's
//! root, in the order the SDL lists them.

pub mod contract;
pub mod guideline;

use async_graphql::MergedObject;

use contract::ContractMutation;
use guideline::GuidelineMutation;

/// Mutations of contracting; each names the version it expects and is audited. Audit entries
/// record the action, never the terms.
#[derive(MergedObject, Default)]
pub struct Mutation(ContractMutation, GuidelineMutation);
