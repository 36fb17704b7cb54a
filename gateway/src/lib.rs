//! The ggzhub federation gateway: one GraphQL endpoint over all subgraphs (Apollo Federation v2).
//!
//! The modules follow a request on its way through the gateway:
//!
//! 1. [`http`] — GraphQL over HTTP in: media types, body limits, batching, CSRF prevention, the
//!    health endpoints and the dashboard ([`http::dashboard`]); [`http::server`] runs it all.
//! 2. [`auth`] — who is calling: tokens ([`auth::oidc`]), the register ([`auth::register`]), the
//!    resulting caller ([`auth::identity`]).
//! 3. [`admission`] — whether the request may run: rate limits ([`admission::ratelimit`]),
//!    trusted documents ([`admission::trusted`]), public access ([`admission::public`]), and
//!    last a slot in execution ([`admission::capacity`]: overload refused at once with 503).
//! 4. [`pipeline`] — the operation: parse, validate, pick the operation, coerce variables,
//!    limits, cost, authorization; [`engine`] drives the steps, passing one
//!    [`context::RequestContext`] along, and caches what does not depend on variables.
//! 5. [`supergraph`] and [`plan`] — the supergraph (composed by [`supergraph::compose`], with its
//!    public contract [`supergraph::contract`]) and the query plan for an operation.
//! 6. [`execute`] — runs the plan and merges the subgraphs' answers.
//! 7. [`respond`] — shapes the merged data into the client's selection.
//! 8. [`subgraph`] — the calls to subgraphs ([`subgraph::fetch`]) with retries and circuit breaker
//!    ([`subgraph::resilience`]).
//!
//! Beside the path: [`config`] (`gateway.toml` and its translation into the options of each
//! step), [`error`] (the gateway's errors and its one table of codes and statuses), [`json`]
//! (JSON reading and writing shared by execution and shaping) and [`watch`] (files polled for
//! changes).
// Request errors are the rare path and carry GraphQL error lists; boxing them buys nothing.
#![allow(clippy::result_large_err)]

pub mod admission;
pub mod auth;
pub mod config;
pub mod context;
pub mod engine;
pub mod error;
pub mod execute;
pub mod http;
pub mod json;
pub mod metrics;
pub mod pipeline;
pub mod plan;
pub mod respond;
pub mod subgraph;
pub mod subscription;
pub mod supergraph;
pub mod watch;
pub mod webhooks;
