//! HTTP API tests of the region subgraph: one binary, one module per topic. Every test spawns
//! its own service and database (`helpers::TestApp`) and talks to it only over HTTP.

mod helpers;

mod admin;
mod audit;
mod auth;
mod bulk;
mod care_use;
mod changes;
mod concurrency;
mod contracted;
mod dataloader;
mod demo_history;
mod entities;
mod events;
mod forms;
mod hardening;
mod offers;
mod overviews;
mod personal_data;
mod picture;
mod register;
mod signals;
mod totals;
mod validation;
mod waiting_plan;
mod waiting_times;
mod webhooks;
// Issue 21 item 3, issue 22 item 4.
mod closing;
