//! HTTP API tests of the contracting subgraph: one binary, one module per topic. Every test
//! spawns its own contracting service and database beside a real region subgraph and a real
//! national-table subgraph (`helpers::TestApp`) and talks to it only over HTTP.

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
mod totals;
mod uncovered;
mod validation;
