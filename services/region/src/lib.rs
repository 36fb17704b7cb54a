//! ggzhub-region: the region subgraph — regions, organisations, care offers, regional
//! overviews (regiobeeld), waiting times, continuity signals (early warning) and patient input.

pub mod access;
pub mod app;
pub mod care_use;
pub mod contracted;
pub mod domain;
pub mod entity;
pub mod events;
pub mod graphql;
pub mod history;
pub mod loader;
pub mod migration;
pub mod picture;
pub mod register;
pub mod seed;
pub mod seed_history;
pub mod seed_planning;
pub mod seed_waiting_plan;
pub mod waiting_plan;
pub mod webhook;
// Issue 21 item 3: the closing process and regional actions.
pub mod closing;
pub mod seed_closing;

/// The audience of internal tokens for this subgraph.
pub const AUDIENCE: &str = "region";
/// Service name in logs and traces.
pub const SERVICE_NAME: &str = "ggzhub-region";
