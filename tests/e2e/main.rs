//! End-to-end tests of the root package `ggzhub`: one test binary, one module per topic. Most
//! start the real `ggzhub dev` binary on random ports, with its demo data and demo tokens, and
//! exercise it only over HTTP (`support::DevHub`); `register` and `trace` run the region
//! subgraph and the gateway in process, on their own database.
//!
//! `cargo test` runs these tests on threads of one process (nextest gives each its own): a test
//! sets no process-wide state of its own. The one process-wide piece is `trace`'s tracing
//! subscriber, the binary's global one.

mod support;

mod access;
mod allocator;
mod care_use_cli;
mod dev_hub;
mod dev_idp;
mod otlp;
mod register;
mod trace;
