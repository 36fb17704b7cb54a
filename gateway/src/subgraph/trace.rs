//! W3C trace context for subgraph calls.

use opentelemetry::propagation::TextMapPropagator as _;
use reqwest::header::HeaderValue;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// The `traceparent` of the current span, when tracing to OpenTelemetry is active.
pub fn current_traceparent() -> Option<HeaderValue> {
    let context = tracing::Span::current().context();
    let mut carrier = std::collections::HashMap::new();
    opentelemetry_sdk::propagation::TraceContextPropagator::new().inject_context(&context, &mut carrier);
    carrier.get("traceparent").and_then(|v| HeaderValue::from_str(v).ok())
}
