//! Metrics (issue 20): OpenTelemetry instruments, read two ways — Prometheus's text format on a
//! listener of its own (never the public GraphQL port), and OTLP/HTTP when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`) is set.
//!
//! Code records through the global meter ([`meter`]); [`init`] installs the provider. Without
//! [`init`] (tests, tools) the instruments are no-ops.
//!
//! **Prometheus.** A periodic reader renders the cumulative values as Prometheus text every
//! [`RENDER_INTERVAL`] (and when [`Metrics::refresh`] is called); `GET /metrics` serves the last
//! rendering. Names follow OpenTelemetry's (`http.server.request.duration`, unit `s`) turned into
//! Prometheus's as its exporter does: dots become underscores, the unit a suffix
//! (`http_server_request_duration_seconds`), counters end in `_total`.
//!
//! Why our own rendering: the OpenTelemetry Prometheus exporter crate lags the SDK's versions;
//! the text format is small and stable, and rendering it here keeps one set of instruments for
//! both readers.

use std::fmt::Write as _;
use std::sync::{Arc, LazyLock, RwLock};
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram, UpDownCounter};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};

/// How often the Prometheus text is rendered.
pub const RENDER_INTERVAL: Duration = Duration::from_secs(5);

/// Latency buckets in seconds (1 ms to 10 s) of every duration histogram of the hub.
pub const DURATION_BUCKETS: [f64; 14] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The meter of the hub's instruments.
pub fn meter() -> opentelemetry::metrics::Meter {
    opentelemetry::global::meter("ggzhub")
}

/// `http.server.request.duration`, as every service records it: one definition, so that services
/// sharing a process (`ggzhub dev`) record into one instrument.
pub fn request_duration_histogram() -> Histogram<f64> {
    meter()
        .f64_histogram("http.server.request.duration")
        .with_unit("s")
        .with_description("Duration of HTTP server requests")
        .with_boundaries(DURATION_BUCKETS.to_vec())
        .build()
}

/// `http.server.active_requests`, as every service records it.
pub fn active_requests_counter() -> UpDownCounter<i64> {
    meter().i64_up_down_counter("http.server.active_requests").with_description("HTTP requests being handled").build()
}

/// A subgraph's own instruments (the gateway has its own in `ggzhub_gateway::metrics`). Every
/// series carries `ggzhub.service` (`region`, `national-table`, `contracting`), so that the
/// subgraphs of one process (`ggzhub dev`) stay apart.
pub struct ServiceInstruments {
    pub request_duration: Histogram<f64>,
    pub active_requests: UpDownCounter<i64>,
    /// GraphQL errors answered, by `error.code`.
    pub graphql_errors: Counter<u64>,
    /// SQL statements, by operation and outcome (`db.client.operation.duration`).
    pub db_duration: Histogram<f64>,
}

static SERVICE_INSTRUMENTS: LazyLock<ServiceInstruments> = LazyLock::new(|| {
    let meter = meter();
    ServiceInstruments {
        request_duration: request_duration_histogram(),
        active_requests: active_requests_counter(),
        graphql_errors: meter
            .u64_counter("ggzhub.graphql.errors")
            .with_description("GraphQL errors a subgraph answered, by error code (extensions.code)")
            .build(),
        db_duration: meter
            .f64_histogram("db.client.operation.duration")
            .with_unit("s")
            .with_description("Duration of SQL statements, by operation (SELECT, INSERT, …) and outcome")
            .with_boundaries(DURATION_BUCKETS.to_vec())
            .build(),
    }
});

/// The subgraphs' instruments (created on first use: after [`init`], or no-ops).
pub fn service_instruments() -> &'static ServiceInstruments {
    &SERVICE_INSTRUMENTS
}

/// Middleware of a subgraph's routes: `http.server.request.duration` and
/// `http.server.active_requests` by route, method and status. The route is one of the service's
/// own paths or `other`, so that probing random paths adds no series.
pub async fn track_request(
    axum::extract::State(service): axum::extract::State<&'static str>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let route: &'static str = match request.uri().path() {
        "/graphql" => "/graphql",
        "/health/live" => "/health/live",
        "/health/ready" => "/health/ready",
        _ => "other",
    };
    let method = match *request.method() {
        axum::http::Method::GET => "GET",
        axum::http::Method::POST => "POST",
        _ => "_OTHER",
    };
    let instruments = service_instruments();
    let active = [
        KeyValue::new("ggzhub.service", service),
        KeyValue::new("http.request.method", method),
        KeyValue::new("http.route", route),
    ];
    instruments.active_requests.add(1, &active);
    // Decremented on drop too: a request whose client went away is no longer in flight.
    let guard = ActiveGuard { counter: &instruments.active_requests, attributes: &active };
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    drop(guard);
    instruments.request_duration.record(
        started.elapsed().as_secs_f64(),
        &[
            KeyValue::new("ggzhub.service", service),
            KeyValue::new("http.request.method", method),
            KeyValue::new("http.route", route),
            KeyValue::new("http.response.status_code", i64::from(response.status().as_u16())),
        ],
    );
    response
}

struct ActiveGuard<'a> {
    counter: &'a UpDownCounter<i64>,
    attributes: &'a [KeyValue],
}

impl Drop for ActiveGuard<'_> {
    fn drop(&mut self) {
        self.counter.add(-1, self.attributes);
    }
}

/// Counts the errors of one GraphQL answer of `service`, by code.
pub fn graphql_errors<'a>(service: &'static str, codes: impl IntoIterator<Item = &'a str>) {
    let counter = &service_instruments().graphql_errors;
    for code in codes {
        counter.add(1, &[KeyValue::new("ggzhub.service", service), KeyValue::new("error.code", code.to_owned())]);
    }
}

/// The installed provider and the latest Prometheus text.
#[derive(Clone)]
pub struct Metrics {
    provider: SdkMeterProvider,
    text: Arc<RwLock<String>>,
}

impl Metrics {
    /// Renders now (all readers export; tests and a scrape that wants the latest values).
    pub fn refresh(&self) {
        if let Err(error) = self.provider.force_flush() {
            tracing::debug!(%error, "metrics refresh failed");
        }
    }

    /// The latest Prometheus text.
    pub fn text(&self) -> String {
        self.text.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// `GET /metrics` (Prometheus text format 0.0.4).
    pub fn router(&self) -> axum::Router {
        let text = self.text.clone();
        axum::Router::new().route(
            "/metrics",
            axum::routing::get(move || {
                let text = text.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
                async move { ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text) }
            }),
        )
    }

    /// Serves [`Metrics::router`] on `listener` until the runtime stops.
    pub fn serve(&self, listener: tokio::net::TcpListener) {
        let app = self.router();
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "the metrics listener stopped");
            }
        });
    }
}

/// Installs the global meter provider of `service_name`: the Prometheus rendering, and OTLP export
/// when its environment is set. Call once, inside or outside a runtime.
pub fn init(service_name: &str) -> anyhow::Result<Metrics> {
    let text = Arc::new(RwLock::new(String::new()));
    let name = std::env::var("OTEL_SERVICE_NAME")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| service_name.to_owned());
    let resource = opentelemetry_sdk::Resource::builder().with_service_name(name).build();
    let prometheus =
        PeriodicReader::builder(PrometheusText { text: text.clone() }).with_interval(RENDER_INTERVAL).build();
    let mut builder = SdkMeterProvider::builder().with_resource(resource).with_reader(prometheus);
    if let Some(exporter) = crate::telemetry::otlp_metric_exporter()? {
        builder = builder.with_reader(PeriodicReader::builder(exporter).build());
    }
    let provider = builder.build();
    opentelemetry::global::set_meter_provider(provider.clone());
    Ok(Metrics { provider, text })
}

/// The exporter that renders Prometheus text.
#[derive(Debug)]
struct PrometheusText {
    text: Arc<RwLock<String>>,
}

impl PushMetricExporter for PrometheusText {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let rendered = render(metrics);
        *self.text.write().unwrap_or_else(std::sync::PoisonError::into_inner) = rendered;
        Ok(())
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }

    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

/// A Prometheus metric name from an OpenTelemetry name and unit.
fn prometheus_name(name: &str, unit: &str) -> String {
    let mut out: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == ':' { c } else { '_' }).collect();
    let suffix = match unit {
        "s" => "seconds",
        "ms" => "milliseconds",
        "By" => "bytes",
        "1" | "" => "",
        unit if unit.starts_with('{') => "",
        unit => unit,
    };
    if !suffix.is_empty() && !out.ends_with(suffix) {
        out.push('_');
        out.push_str(suffix);
    }
    out
}

fn labels<'a>(attributes: impl Iterator<Item = &'a KeyValue>, extra: Option<(&str, String)>) -> String {
    let mut parts: Vec<String> = attributes
        .map(|kv| {
            let key: String =
                kv.key.as_str().chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
            format!("{key}=\"{}\"", escape(&kv.value.to_string()))
        })
        .collect();
    // The SDK keeps the order attributes were first given in; sorted, one series always reads
    // the same.
    parts.sort_unstable();
    if let Some((key, value)) = extra {
        parts.push(format!("{key}=\"{value}\""));
    }
    if parts.is_empty() { String::new() } else { format!("{{{}}}", parts.join(",")) }
}

fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn number(value: f64) -> String {
    if value.is_infinite() { if value > 0.0 { "+Inf".into() } else { "-Inf".into() } } else { format!("{value}") }
}

/// Prometheus text of `metrics`.
pub fn render(metrics: &ResourceMetrics) -> String {
    let mut out = String::new();
    for scope in metrics.scope_metrics() {
        for metric in scope.metrics() {
            let base = prometheus_name(metric.name(), metric.unit());
            match metric.data() {
                AggregatedMetrics::F64(data) => render_data(&mut out, &base, metric.description(), data, |v| *v),
                AggregatedMetrics::U64(data) => render_data(&mut out, &base, metric.description(), data, |v| *v as f64),
                AggregatedMetrics::I64(data) => render_data(&mut out, &base, metric.description(), data, |v| *v as f64),
            }
        }
    }
    out
}

fn render_data<T: Copy>(out: &mut String, base: &str, help: &str, data: &MetricData<T>, as_f64: impl Fn(&T) -> f64) {
    let help = escape(help);
    match data {
        MetricData::Sum(sum) => {
            let (name, kind) =
                if sum.is_monotonic() { (format!("{base}_total"), "counter") } else { (base.to_owned(), "gauge") };
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for point in sum.data_points() {
                let _ = writeln!(out, "{name}{} {}", labels(point.attributes(), None), number(as_f64(&point.value())));
            }
        }
        MetricData::Gauge(gauge) => {
            let _ = writeln!(out, "# HELP {base} {help}\n# TYPE {base} gauge");
            for point in gauge.data_points() {
                let _ = writeln!(out, "{base}{} {}", labels(point.attributes(), None), number(as_f64(&point.value())));
            }
        }
        MetricData::Histogram(histogram) => {
            let _ = writeln!(out, "# HELP {base} {help}\n# TYPE {base} histogram");
            for point in histogram.data_points() {
                let mut cumulative = 0u64;
                let bounds: Vec<f64> = point.bounds().collect();
                for (i, count) in point.bucket_counts().enumerate() {
                    cumulative += count;
                    let le = bounds.get(i).copied().unwrap_or(f64::INFINITY);
                    let _ = writeln!(
                        out,
                        "{base}_bucket{} {cumulative}",
                        labels(point.attributes(), Some(("le", number(le))))
                    );
                }
                let attrs = labels(point.attributes(), None);
                let _ = writeln!(out, "{base}_sum{attrs} {}", number(as_f64(&point.sum())));
                let _ = writeln!(out, "{base}_count{attrs} {}", point.count());
            }
        }
        MetricData::ExponentialHistogram(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_prometheus_conventions() {
        assert_eq!(prometheus_name("http.server.request.duration", "s"), "http_server_request_duration_seconds");
        assert_eq!(prometheus_name("ggzhub.rate_limit.refusals", "{request}"), "ggzhub_rate_limit_refusals");
        assert_eq!(prometheus_name("db.pool.size", "1"), "db_pool_size");
    }

    #[tokio::test]
    async fn instruments_render_as_prometheus_text() {
        let text = Arc::new(RwLock::new(String::new()));
        let provider = SdkMeterProvider::builder()
            .with_reader(PeriodicReader::builder(PrometheusText { text: text.clone() }).build())
            .build();
        use opentelemetry::metrics::MeterProvider as _;
        let meter = provider.meter("test");
        let counter = meter.u64_counter("ggzhub.refusals").with_description("Refused \"requests\"").build();
        counter.add(2, &[KeyValue::new("code", "RATE_LIMITED")]);
        counter.add(1, &[KeyValue::new("code", "RATE_LIMITED")]);
        let histogram =
            meter.f64_histogram("http.server.request.duration").with_unit("s").with_boundaries(vec![0.1, 1.0]).build();
        histogram.record(0.05, &[KeyValue::new("http.request.method", "POST")]);
        histogram.record(0.5, &[KeyValue::new("http.request.method", "POST")]);
        let gauge = meter.i64_up_down_counter("ggzhub.in_flight").build();
        gauge.add(3, &[]);
        gauge.add(-1, &[]);
        provider.force_flush().expect("flushed");
        let text = text.read().expect("text").clone();
        for line in [
            "# HELP ggzhub_refusals_total Refused \\\"requests\\\"",
            "# TYPE ggzhub_refusals_total counter",
            "ggzhub_refusals_total{code=\"RATE_LIMITED\"} 3",
            "# TYPE http_server_request_duration_seconds histogram",
            "http_server_request_duration_seconds_bucket{http_request_method=\"POST\",le=\"0.1\"} 1",
            "http_server_request_duration_seconds_bucket{http_request_method=\"POST\",le=\"1\"} 2",
            "http_server_request_duration_seconds_bucket{http_request_method=\"POST\",le=\"+Inf\"} 2",
            "http_server_request_duration_seconds_sum{http_request_method=\"POST\"} 0.55",
            "http_server_request_duration_seconds_count{http_request_method=\"POST\"} 2",
            "# TYPE ggzhub_in_flight gauge",
            "ggzhub_in_flight 2",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in:\n{text}");
        }
    }
}
