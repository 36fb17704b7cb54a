//! Calls to subgraphs: the pooled HTTP client ([`fetch`]), retries, retry budget and circuit
//! breaker around it ([`resilience`]), what a call gives back ([`response`]), and the W3C trace
//! context the calls carry ([`trace`]).

pub mod fetch;
pub mod resilience;
pub mod response;
pub mod trace;
