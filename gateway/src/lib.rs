//! The ggzhub federation gateway: one GraphQL endpoint over all subgraphs (Apollo Federation v2).
// Request errors are the rare path and carry GraphQL error lists; boxing them buys nothing.
#![allow(clippy::result_large_err)]

pub mod authz;
pub mod compose;
pub mod config;
pub mod contract;
pub mod cost;
pub mod dashboard;
pub mod data;
pub mod error;
pub mod execute;
pub mod fetch;
pub mod gateway;
pub mod http;
pub mod identity;
pub mod json;
pub mod limits;
pub mod oidc;
pub mod pipeline;
pub mod plan;
pub mod public;
pub mod ratelimit;
pub mod register;
pub mod resilience;
pub mod server;
pub mod shape;
pub mod supergraph;
pub mod trace;
pub mod trusted;
