//! HTTP API tests of the national-table subgraph: one binary, one module per topic. Every test
//! spawns its own national-table service and database beside a recording stub of the region
//! subgraph (`helpers::TestApp`; no other subgraph's crate is needed) and talks to it only over
//! HTTP (audit rows are read from the database: this subgraph has no audit query).

mod helpers;

mod audit_log;
mod auth;
mod changes;
mod concurrency;
mod dataloader;
mod entities;
mod escalation_events;
mod escalations;
mod follow_through;
mod kpis;
mod lifecycle;
mod listings;
mod measures;
mod networks;
mod personal_data;
mod picture;
mod references;
mod totals;
mod validation;
