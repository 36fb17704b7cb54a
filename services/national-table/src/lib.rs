//! ggzhub-national-table: the national-table subgraph — escalations from regions and the
//! measures agreed on them, the supra-regional offer list, expertise networks and national KPIs.

pub mod access;
pub mod app;
pub mod domain;
pub mod entity;
pub mod events;
pub mod follow_through;
pub mod graphql;
pub mod loader;
pub mod migration;
pub mod picture;
pub mod seed;

/// The audience of internal tokens for this subgraph.
pub const AUDIENCE: &str = "national-table";
/// Service name in logs and traces.
pub const SERVICE_NAME: &str = "ggzhub-national-table";
