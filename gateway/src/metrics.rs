//! The gateway's instruments (issue 20), recorded through the global meter that
//! [`ggzhub_kit::metrics::init`] installs (no-ops without it), read on the metrics listener
//! (`[metrics] listen`) as Prometheus text and exported over OTLP when configured.
//!
//! Names follow OpenTelemetry's HTTP semantic conventions where they apply
//! (`http.server.request.duration`, `http.server.active_requests`, `http.request.method`,
//! `http.response.status_code`); the hub's own are under `ggzhub.`.
//!
//! Instruments are created on first use, after the provider is installed at start-up.

use std::sync::LazyLock;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram, UpDownCounter};

use ggzhub_kit::metrics::DURATION_BUCKETS as BUCKETS;

pub struct Instruments {
    pub request_duration: Histogram<f64>,
    pub active_requests: UpDownCounter<i64>,
    pub refusals: Counter<u64>,
    pub subgraph_duration: Histogram<f64>,
    pub subgraph_attempts: Counter<u64>,
    pub plan_cache: Counter<u64>,
    pub rate_limit_local: Counter<u64>,
    pub deprecated_usage: Counter<u64>,
}

static INSTRUMENTS: LazyLock<Instruments> = LazyLock::new(|| {
    let meter = ggzhub_kit::metrics::meter();
    Instruments {
        // The gateway's requests carry the operation name, organisation kind and outcome.
        request_duration: ggzhub_kit::metrics::request_duration_histogram(),
        active_requests: ggzhub_kit::metrics::active_requests_counter(),
        refusals: meter
            .u64_counter("ggzhub.gateway.refusals")
            .with_description("Requests refused before or instead of execution, by error code (RATE_LIMITED, COST_LIMIT_EXCEEDED, OVERLOADED, …)")
            .build(),
        subgraph_duration: meter
            .f64_histogram("ggzhub.subgraph.request.duration")
            .with_unit("s")
            .with_description("Subgraph fetches (retries included), by subgraph and outcome")
            .with_boundaries(BUCKETS.to_vec())
            .build(),
        subgraph_attempts: meter
            .u64_counter("ggzhub.subgraph.attempts")
            .with_description("HTTP requests to subgraphs (first tries and retries), by subgraph and result")
            .build(),
        plan_cache: meter
            .u64_counter("ggzhub.query_plan.cache")
            .with_description("Operations prepared, by whether the query-plan cache held them (hit or miss)")
            .build(),
        rate_limit_local: meter
            .u64_counter("ggzhub.rate_limit.local_fallback")
            .with_description("Requests counted by the replica's own limiter because the shared one (Redis) could not be reached")
            .build(),
        deprecated_usage: meter
            .u64_counter("ggzhub.graphql.deprecated.usage")
            .with_description("Requests that use a deprecated field or argument, by field and organisation: whom to tell before removing it")
            .build(),
    }
});

/// The instruments.
pub fn instruments() -> &'static Instruments {
    &INSTRUMENTS
}

/// A request being handled: counted in `http.server.active_requests` until [`RequestMeter::finish`]
/// (or drop) records its duration.
pub struct RequestMeter {
    started: std::time::Instant,
    method: &'static str,
    done: bool,
}

impl RequestMeter {
    pub fn start(method: &'static str) -> Self {
        instruments().active_requests.add(1, &[KeyValue::new("http.request.method", method)]);
        Self { started: std::time::Instant::now(), method, done: false }
    }

    /// Records the request with its operation name (`None`: anonymous or unknown), the caller's
    /// organisation kind and the HTTP status.
    pub fn finish(mut self, operation: Option<&str>, org_kind: &str, status: u16) {
        self.done = true;
        instruments().active_requests.add(-1, &[KeyValue::new("http.request.method", self.method)]);
        let outcome = match status {
            200..=299 => "ok",
            400..=499 => "refused",
            _ => "failed",
        };
        instruments().request_duration.record(
            self.started.elapsed().as_secs_f64(),
            &[
                KeyValue::new("http.request.method", self.method),
                KeyValue::new("http.response.status_code", i64::from(status)),
                KeyValue::new("graphql.operation.name", operation_label(operation)),
                KeyValue::new("ggzhub.organisation.kind", org_kind.to_owned()),
                KeyValue::new("ggzhub.outcome", outcome),
            ],
        );
    }
}

impl Drop for RequestMeter {
    fn drop(&mut self) {
        if !self.done {
            instruments().active_requests.add(-1, &[KeyValue::new("http.request.method", self.method)]);
        }
    }
}

/// The operation name as a label: names are chosen by clients, so only plain names of at most 64
/// characters are kept (others count as `other`), and none as `anonymous`.
fn operation_label(name: Option<&str>) -> String {
    match name {
        None | Some("") => "anonymous".into(),
        Some(name) if name.len() <= 64 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => name.into(),
        Some(_) => "other".into(),
    }
}

/// Records one subgraph fetch.
pub fn subgraph_fetch(subgraph: &str, elapsed: Duration, outcome: &'static str) {
    instruments().subgraph_duration.record(
        elapsed.as_secs_f64(),
        &[KeyValue::new("subgraph.name", subgraph.to_owned()), KeyValue::new("ggzhub.outcome", outcome)],
    );
}

/// Records one HTTP request to a subgraph.
pub fn subgraph_attempt(subgraph: &str, result: &'static str) {
    instruments()
        .subgraph_attempts
        .add(1, &[KeyValue::new("subgraph.name", subgraph.to_owned()), KeyValue::new("result", result)]);
}

/// Reports each subgraph's circuit breaker as `ggzhub.subgraph.circuit.state` (0 closed,
/// 1 half-open: the open time is over and a trial call decides, 2 open: calls fail at once), read
/// when metrics are collected, for as long as `resilience` lives.
pub fn observe_circuits(resilience: &std::sync::Arc<crate::subgraph::resilience::Resilience>) {
    use crate::subgraph::resilience::CircuitState;
    let resilience = std::sync::Arc::downgrade(resilience);
    // The registration lives as long as the meter provider; the handle need not be kept.
    let _gauge = ggzhub_kit::metrics::meter()
        .i64_observable_gauge("ggzhub.subgraph.circuit.state")
        .with_description("Circuit breaker of each subgraph: 0 closed, 1 half-open (a trial call decides), 2 open (calls fail at once)")
        .with_callback(move |observer| {
            let Some(resilience) = resilience.upgrade() else { return };
            for (subgraph, state) in resilience.circuits() {
                let value = match state {
                    CircuitState::Closed => 0,
                    CircuitState::HalfOpen => 1,
                    CircuitState::Open => 2,
                };
                observer.observe(value, &[KeyValue::new("subgraph.name", subgraph)]);
            }
        })
        .build();
}

/// Counts one request's use of each of `fields` (deprecated) by the caller's organisation (its
/// id and kind; `anonymous` without one).
pub fn deprecated_usage(fields: &[String], organisation: Option<(uuid::Uuid, ggzhub_kit::OrgKind)>) {
    let (org, kind) = match organisation {
        Some((org, kind)) => (org.to_string(), kind.as_str()),
        None => ("anonymous".to_owned(), "ANONYMOUS"),
    };
    for field in fields {
        instruments().deprecated_usage.add(
            1,
            &[
                KeyValue::new("graphql.field.path", field.clone()),
                KeyValue::new("ggzhub.organisation.id", org.clone()),
                KeyValue::new("ggzhub.organisation.kind", kind),
            ],
        );
    }
}

/// Counts a response without data by its (first) error code.
pub fn refused(code: &str) {
    instruments().refusals.add(1, &[KeyValue::new("error.code", code.to_owned())]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_are_bounded_labels() {
        assert_eq!(operation_label(Some("RegionPicture")), "RegionPicture");
        assert_eq!(operation_label(None), "anonymous");
        assert_eq!(operation_label(Some("a b")), "other");
        assert_eq!(operation_label(Some(&"x".repeat(65))), "other");
    }
}
