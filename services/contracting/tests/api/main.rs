//! HTTP API tests of the contracting subgraph: one binary, one module per topic. Every test
//! spawns its own contracting service and database beside recording stubs of the region and
//! national-table subgraphs (`helpers::TestApp`; no other subgraph's crate is needed) and talks to
//! it only over HTTP.

mod helpers;

mod amendments;
mod audit;
mod auth;
mod concurrency;
mod confidentiality;
mod coverage;
mod dataloader;
mod entities;
mod existence;
mod guidelines;
mod lifecycle;
mod personal_data;
mod picture;
mod references;
mod signal_contractors;
mod totals;
mod uncovered;
mod validation;
