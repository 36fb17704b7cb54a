//! Integration tests of the gateway: one test binary, one module per topic. Most tests start the
//! gateway on `127.0.0.1:0` in front of recording mock subgraphs (`support`) and talk to it over
//! HTTP; `compose` and `schema` check composition and the checked-in supergraph.
//!
//! `cargo test` runs these tests on threads of one process (nextest gives each its own): a test
//! sets no process-wide state of its own. The one process-wide piece, the tracing subscriber that
//! lets a test read the log lines of its own thread, is `support::logs`.

mod support;

mod abuse;
mod admission;
mod authorization;
mod clients;
mod compose;
mod config;
mod contract;
mod cors;
mod dashboard;
mod federation;
mod http;
mod limits;
mod public;
mod ratelimit;
mod resilience;
mod schema;
mod subscriptions;
mod tls;
mod tokens;
mod trusted;
