//! Logs and traces: `tracing` with pretty or JSON output, plus OpenTelemetry spans exported over
//! OTLP/HTTP (protobuf) when `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`
//! is set (and not at all otherwise).
//!
//! Export runs as opentelemetry-otlp documents it for the SDK's thread-based batch processor:
//! the processor's own thread drives the blocking reqwest client, so no Tokio runtime is needed
//! (or touched) there. Requests never wait for it: a finished span goes into a bounded queue, or
//! is dropped and counted when the queue is full. Failed exports and dropped spans are logged at
//! most once per [`REPORT_INTERVAL`], with counts.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider, SpanData, SpanProcessor};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum LogFormat {
    /// Human-readable, for a terminal.
    #[default]
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

/// At most one log line per interval about failed exports and dropped spans.
pub const REPORT_INTERVAL: Duration = Duration::from_secs(60);
/// Spans waiting for export, unless `OTEL_BSP_MAX_QUEUE_SIZE` says otherwise (the SDK's default).
pub const DEFAULT_MAX_QUEUE: usize = 2048;
/// How long shutdown waits for the last spans to be exported.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);
/// Where the report lines are logged from; never turned into spans.
const REPORT_TARGET: &str = "ggzhub_kit::telemetry";

/// Keeps the exporter alive; exports pending spans when dropped.
#[must_use = "dropping the guard stops span export"]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            shutdown(provider);
        }
    }
}

/// Exports what is pending and stops the exporter. Runs on a thread of its own: the guard is
/// usually dropped inside `#[tokio::main]`, where blocking (and the blocking HTTP client) has no
/// place.
fn shutdown(provider: SdkTracerProvider) {
    let done = std::thread::Builder::new()
        .name("ggzhub-otel-shutdown".into())
        .spawn(move || provider.shutdown_with_timeout(SHUTDOWN_TIMEOUT))
        .map(|thread| thread.join());
    match done {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => {
            tracing::warn!(target: REPORT_TARGET, error = %e, "exporting the last OpenTelemetry spans failed")
        }
        Ok(Err(_)) => tracing::warn!(target: REPORT_TARGET, "OpenTelemetry shutdown panicked"),
        Err(e) => {
            tracing::warn!(target: REPORT_TARGET, error = %e, "could not start the OpenTelemetry shutdown thread")
        }
    }
}

/// Installs the global subscriber. `RUST_LOG` filters the logs (default `info`); exported spans
/// are those at `info` and above, whatever `RUST_LOG` says.
pub fn init(service_name: &str, format: LogFormat) -> anyhow::Result<TelemetryGuard> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Logs go to stderr so that stdout stays for what a command prints (URLs, tokens, SDL).
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let fmt = match format {
        LogFormat::Pretty => {
            tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_ansi(ansi).with_target(false).boxed()
        }
        LogFormat::Json => {
            tracing_subscriber::fmt::layer().with_writer(std::io::stderr).json().flatten_event(true).boxed()
        }
    };
    let provider = if otlp_configured(&env_var) {
        check_otlp_env(&env_var)?;
        Some(otlp_tracer_provider(service_name, None)?)
    } else {
        None
    };
    let otel = provider
        .as_ref()
        .map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer("ggzhub")).with_filter(span_filter()));
    tracing_subscriber::registry().with(fmt.with_filter(filter)).with(otel).try_init()?;
    Ok(TelemetryGuard { provider })
}

/// Spans at `info` and above become OpenTelemetry spans, except what the export path itself
/// logs or traces (its HTTP client, the SDK, the report lines): exporting must not feed itself.
fn span_filter() -> Targets {
    Targets::new()
        .with_default(LevelFilter::INFO)
        .with_target("opentelemetry", LevelFilter::OFF)
        .with_target("reqwest", LevelFilter::OFF)
        .with_target("hyper", LevelFilter::OFF)
        .with_target("h2", LevelFilter::OFF)
        .with_target(REPORT_TARGET, LevelFilter::OFF)
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Whether an OTLP endpoint is configured.
fn otlp_configured(env: &dyn Fn(&str) -> Option<String>) -> bool {
    env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").or_else(|| env("OTEL_EXPORTER_OTLP_ENDPOINT")).is_some()
}

/// Refuses settings this build cannot honour, rather than exporting nowhere.
fn check_otlp_env(env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<()> {
    for var in ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"] {
        if let Some(protocol) = env(var) {
            anyhow::ensure!(
                protocol.trim() == "http/protobuf",
                "{var}={protocol}: ggzhub exports traces over OTLP/HTTP with protobuf only (http/protobuf); \
                 point the endpoint at the collector's OTLP/HTTP port (usually 4318)"
            );
            break;
        }
    }
    for var in ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"] {
        if let Some(endpoint) = env(var) {
            let endpoint = endpoint.trim();
            anyhow::ensure!(
                endpoint.starts_with("http://") || endpoint.starts_with("https://"),
                "{var}={endpoint}: the OTLP/HTTP endpoint must be an http:// or https:// URL"
            );
            break;
        }
    }
    for var in [
        "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
        "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
        "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY",
        "OTEL_EXPORTER_OTLP_CLIENT_KEY",
    ] {
        anyhow::ensure!(
            env(var).is_none(),
            "{var} is set: ggzhub does not authenticate to the collector with a client certificate (mTLS)"
        );
    }
    Ok(())
}

/// A tracer provider that exports over OTLP/HTTP, tagged with `service.name` (`OTEL_SERVICE_NAME`
/// wins when set). `endpoint` is the full URL (`http://host:4318/v1/traces`); without it the
/// `OTEL_EXPORTER_OTLP_*` variables apply. Must be called at startup (it reads the environment).
pub fn otlp_tracer_provider(service_name: &str, endpoint: Option<&str>) -> anyhow::Result<SdkTracerProvider> {
    let exporter = otlp_exporter(endpoint, &env_var)?;
    let max_queue = env_var("OTEL_BSP_MAX_QUEUE_SIZE").and_then(|v| v.trim().parse().ok()).unwrap_or(DEFAULT_MAX_QUEUE);
    let name = env_var("OTEL_SERVICE_NAME").unwrap_or_else(|| service_name.to_owned());
    Ok(tracer_provider(&name, exporter, max_queue))
}

/// The OTLP/HTTP exporter with our own blocking reqwest client ([`otlp_client`]).
fn otlp_exporter(
    endpoint: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<opentelemetry_otlp::SpanExporter> {
    use opentelemetry_otlp::{WithExportConfig as _, WithHttpConfig as _};
    let (client, timeout) = otlp_client("TRACES", env)?;
    let mut builder =
        opentelemetry_otlp::SpanExporter::builder().with_http().with_http_client(client).with_timeout(timeout);
    if let Some(endpoint) = endpoint {
        builder = builder.with_endpoint(endpoint);
    }
    Ok(builder.build()?)
}

/// The blocking reqwest client of the OTLP exporter of `signal` (`TRACES`, `METRICS`): it trusts
/// the OS store plus the CA file in `OTEL_EXPORTER_OTLP_<signal>_CERTIFICATE` /
/// `OTEL_EXPORTER_OTLP_CERTIFICATE`, and times out after `OTEL_EXPORTER_OTLP_<signal>_TIMEOUT` /
/// `OTEL_EXPORTER_OTLP_TIMEOUT` ms (10 s); with that timeout.
fn otlp_client(
    signal: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<(reqwest::blocking::Client, Duration)> {
    let first = |name: &str| {
        env(&format!("OTEL_EXPORTER_OTLP_{signal}_{name}")).or_else(|| env(&format!("OTEL_EXPORTER_OTLP_{name}")))
    };
    let certificate = first("CERTIFICATE");
    let ca = crate::tls::ExtraCa::load(certificate.as_deref().map(std::path::Path::new))
        .context("OTEL_EXPORTER_OTLP_CERTIFICATE")?;
    let timeout = first("TIMEOUT")
        .and_then(|ms| ms.trim().parse().ok())
        .map_or(opentelemetry_otlp::OTEL_EXPORTER_OTLP_TIMEOUT_DEFAULT, Duration::from_millis);
    // A blocking client starts a runtime of its own: build it off any Tokio runtime thread.
    let client = std::thread::Builder::new()
        .name("ggzhub-otel-client".into())
        .spawn(move || ca.blocking_client(|b| b.timeout(timeout)))?
        .join()
        .map_err(|_| anyhow::anyhow!("building the OTLP HTTP client panicked"))??;
    Ok((client, timeout))
}

/// The OTLP/HTTP metric exporter, when `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` or
/// `OTEL_EXPORTER_OTLP_ENDPOINT` is set (the exporter reads the endpoint and headers from the
/// environment; the client as for traces, [`otlp_client`]).
pub fn otlp_metric_exporter() -> anyhow::Result<Option<opentelemetry_otlp::MetricExporter>> {
    use opentelemetry_otlp::{WithExportConfig as _, WithHttpConfig as _};
    if env_var("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT").or_else(|| env_var("OTEL_EXPORTER_OTLP_ENDPOINT")).is_none() {
        return Ok(None);
    }
    let (client, timeout) = otlp_client("METRICS", &env_var)?;
    Ok(Some(
        opentelemetry_otlp::MetricExporter::builder()
            .with_http()
            .with_http_client(client)
            .with_timeout(timeout)
            .build()?,
    ))
}

/// A tracer provider exporting in batches to `exporter` from the SDK's own thread, tagged with
/// `service.name`, holding at most `max_queue` spans for export (more are dropped and counted).
pub fn tracer_provider(
    service_name: &str,
    exporter: impl opentelemetry_sdk::trace::SpanExporter + 'static,
    max_queue: usize,
) -> SdkTracerProvider {
    let resource = opentelemetry_sdk::Resource::builder().with_service_name(service_name.to_owned()).build();
    SdkTracerProvider::builder()
        .with_span_processor(BoundedExport::new(exporter, max_queue))
        .with_resource(resource)
        .build()
}

/// The SDK's batch processor behind a queue bound this module counts, so that dropped spans can
/// be reported (the SDK only counts them for its shutdown log).
#[derive(Debug)]
pub struct BoundedExport {
    inner: BatchSpanProcessor,
    health: std::sync::Arc<ExportHealth>,
}

impl BoundedExport {
    /// A batch processor over `exporter` holding at most `max_queue` spans.
    pub fn new(exporter: impl opentelemetry_sdk::trace::SpanExporter + 'static, max_queue: usize) -> Self {
        let max_queue = max_queue.max(1);
        let health = std::sync::Arc::new(ExportHealth::new(max_queue));
        let exporter = ReportingExporter { inner: exporter, health: health.clone() };
        // The SDK's queue is as large as ours, and ours counts a span until the exporter has
        // taken it, so the SDK's queue is never the one that overflows.
        let config = BatchConfigBuilder::default().with_max_queue_size(max_queue).build();
        let inner = BatchSpanProcessor::builder(exporter).with_batch_config(config).build();
        Self { inner, health }
    }

    /// Failure and drop counts, shared with the exporter.
    pub fn health(&self) -> std::sync::Arc<ExportHealth> {
        self.health.clone()
    }
}

impl SpanProcessor for BoundedExport {
    fn on_start(&self, span: &mut opentelemetry_sdk::trace::Span, cx: &opentelemetry::Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        // Never waits: a full queue drops the span.
        if self.health.queued.fetch_add(1, Ordering::AcqRel) >= self.health.max_queue {
            self.health.queued.fetch_sub(1, Ordering::AcqRel);
            self.health.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.inner.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let result = self.inner.shutdown_with_timeout(timeout);
        self.health.report(Instant::now(), true);
        result
    }

    fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
        self.inner.set_resource(resource);
    }
}

/// Counts what export loses, for one log line per [`REPORT_INTERVAL`].
#[derive(Debug)]
pub struct ExportHealth {
    max_queue: usize,
    /// Spans accepted and not yet handed to the exporter.
    queued: AtomicUsize,
    /// Spans dropped because the queue was full, since the last report.
    dropped: AtomicU64,
    tally: Mutex<Tally>,
}

#[derive(Debug, Default)]
struct Tally {
    failed_exports: u64,
    spans_lost: u64,
    last_error: Option<String>,
    last_report: Option<Instant>,
}

/// One report line's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportReport {
    /// Exports that failed since the last report.
    pub failed_exports: u64,
    /// Spans in those exports.
    pub spans_lost: u64,
    /// Spans dropped because the queue was full.
    pub spans_dropped: u64,
    /// The latest export error.
    pub last_error: Option<String>,
}

impl ExportHealth {
    fn new(max_queue: usize) -> Self {
        Self { max_queue, queued: AtomicUsize::new(0), dropped: AtomicU64::new(0), tally: Mutex::new(Tally::default()) }
    }

    /// Spans dropped since the last report.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    fn failed(&self, spans: usize, error: String) {
        let mut tally = self.tally.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        tally.failed_exports += 1;
        tally.spans_lost += spans as u64;
        tally.last_error = Some(error);
    }

    /// What was lost since the last report, when there is something and the last report is at
    /// least [`REPORT_INTERVAL`] old (or `force`); taking it starts a new interval.
    pub fn take_report(&self, now: Instant, force: bool) -> Option<ExportReport> {
        let mut tally = self.tally.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let due = force || tally.last_report.is_none_or(|last| now.saturating_duration_since(last) >= REPORT_INTERVAL);
        if !due || (tally.failed_exports == 0 && self.dropped.load(Ordering::Relaxed) == 0) {
            return None;
        }
        tally.last_report = Some(now);
        Some(ExportReport {
            failed_exports: std::mem::take(&mut tally.failed_exports),
            spans_lost: std::mem::take(&mut tally.spans_lost),
            spans_dropped: self.dropped.swap(0, Ordering::Relaxed),
            last_error: tally.last_error.take(),
        })
    }

    /// Logs the report, if one is due.
    fn report(&self, now: Instant, force: bool) {
        if let Some(r) = self.take_report(now, force) {
            tracing::warn!(
                target: REPORT_TARGET,
                failed_exports = r.failed_exports,
                spans_lost = r.spans_lost,
                spans_dropped = r.spans_dropped,
                last_error = r.last_error.as_deref().unwrap_or(""),
                "OpenTelemetry spans were lost (counts since the last such line, at most one a minute)"
            );
        }
    }
}

/// Counts failed exports; never retries or panics (the OTLP exporter has its own retries within
/// its timeout).
#[derive(Debug)]
struct ReportingExporter<E> {
    inner: E,
    health: std::sync::Arc<ExportHealth>,
}

impl<E: opentelemetry_sdk::trace::SpanExporter> opentelemetry_sdk::trace::SpanExporter for ReportingExporter<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let spans = batch.len();
        // Every span here was counted in `on_end`.
        self.health.queued.fetch_sub(spans, Ordering::AcqRel);
        let result = self.inner.export(batch).await;
        if let Err(e) = &result {
            self.health.failed(spans, e.to_string());
        }
        self.health.report(Instant::now(), false);
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
        self.inner.set_resource(resource);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;

    use opentelemetry::trace::{Span as _, Tracer as _};

    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        let vars: HashMap<&str, &str> = vars.iter().copied().collect();
        move |name| vars.get(name).map(|v| (*v).to_owned())
    }

    #[test]
    fn otlp_is_on_only_when_an_endpoint_is_set() {
        assert!(!otlp_configured(&env(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")])));
        assert!(otlp_configured(&env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")])));
        assert!(otlp_configured(&env(&[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c:4318/v1/traces")])));
    }

    #[test]
    fn settings_this_build_cannot_honour_are_refused() {
        let endpoint = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318");
        assert!(check_otlp_env(&env(&[endpoint])).is_ok());
        assert!(check_otlp_env(&env(&[endpoint, ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")])).is_ok());
        let grpc = check_otlp_env(&env(&[endpoint, ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")])).unwrap_err();
        assert!(grpc.to_string().contains("OTLP/HTTP with protobuf only"), "{grpc}");
        assert!(check_otlp_env(&env(&[endpoint, ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json")])).is_err());
        // The traces variable wins over the general one, as in the exporter.
        let traces_first =
            [("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf"), ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")];
        assert!(check_otlp_env(&env(&traces_first)).is_ok());
        assert!(check_otlp_env(&env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4318")])).is_ok());
        let scheme = check_otlp_env(&env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318")])).unwrap_err();
        assert!(scheme.to_string().contains("http:// or https://"), "{scheme}");
        let mtls = [endpoint, ("OTEL_EXPORTER_OTLP_CLIENT_KEY", "/etc/key.pem")];
        let mtls = check_otlp_env(&env(&mtls)).unwrap_err();
        assert!(mtls.to_string().contains("client certificate"), "{mtls}");
    }

    #[test]
    fn the_export_path_never_becomes_spans() {
        use tracing::Level;
        let filter = span_filter();
        for target in ["ggzhub_kit::server", "ggzhub_gateway::execute", "sea_orm::driver"] {
            assert!(filter.would_enable(target, &Level::INFO), "{target}");
        }
        assert!(!filter.would_enable("ggzhub_gateway::execute", &Level::DEBUG), "info and above only");
        for target in
            [REPORT_TARGET, "opentelemetry_sdk", "opentelemetry_otlp", "reqwest::blocking", "hyper_util", "h2"]
        {
            assert!(!filter.would_enable(target, &Level::ERROR), "{target}");
        }
    }

    #[test]
    fn export_failures_are_reported_at_most_once_per_interval() {
        let health = ExportHealth::new(10);
        let t0 = Instant::now();
        assert_eq!(health.take_report(t0, false), None, "nothing lost, nothing to say");
        health.failed(3, "connection refused".into());
        assert_eq!(
            health.take_report(t0, false),
            Some(ExportReport {
                failed_exports: 1,
                spans_lost: 3,
                spans_dropped: 0,
                last_error: Some("connection refused".into())
            }),
            "the first failure is reported at once"
        );
        health.failed(2, "connection refused".into());
        health.dropped.fetch_add(7, Ordering::Relaxed);
        health.failed(4, "timed out".into());
        assert_eq!(health.take_report(t0 + Duration::from_secs(30), false), None, "within the interval: counted only");
        assert_eq!(
            health.take_report(t0 + REPORT_INTERVAL, false),
            Some(ExportReport {
                failed_exports: 2,
                spans_lost: 6,
                spans_dropped: 7,
                last_error: Some("timed out".into())
            })
        );
        assert_eq!(health.take_report(t0 + 3 * REPORT_INTERVAL, false), None, "counts start again");
        health.failed(1, "refused".into());
        assert!(health.take_report(t0 + REPORT_INTERVAL, true).is_some(), "shutdown reports what is left");
    }

    /// Blocks every export until the test lets go, like a collector that does not answer.
    #[derive(Debug)]
    struct StuckExporter {
        gate: Mutex<std::sync::mpsc::Receiver<()>>,
        received: Arc<AtomicUsize>,
    }

    impl opentelemetry_sdk::trace::SpanExporter for StuckExporter {
        async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
            let _ = self.gate.lock().expect("gate").recv();
            self.received.fetch_add(batch.len(), Ordering::SeqCst);
            Ok(())
        }
    }

    #[test]
    fn a_full_queue_drops_spans_without_waiting_and_counts_them() {
        let (release, gate) = std::sync::mpsc::channel();
        let received = Arc::new(AtomicUsize::new(0));
        let processor = BoundedExport::new(StuckExporter { gate: Mutex::new(gate), received: received.clone() }, 8);
        let health = processor.health();
        let provider = SdkTracerProvider::builder().with_span_processor(processor).build();
        let tracer = provider.tracer("test");
        for _ in 0..100 {
            tracer.start("request").end();
        }
        // At most 8 spans wait in the queue and at most 8 (one batch) sit in the stuck exporter.
        let dropped = health.dropped() as usize;
        assert!((84..=92).contains(&dropped), "dropped {dropped}");
        drop(release);
        provider.shutdown().expect("shutdown exports the queue");
        assert_eq!(received.load(Ordering::SeqCst) + dropped, 100, "every span is exported or counted as dropped");
    }

    /// The content type and size of each request received.
    type Seen = Arc<Mutex<Vec<(String, usize)>>>;

    /// Records the OTLP/HTTP requests it receives.
    async fn receiver() -> (String, Seen) {
        let (app, seen) = receiver_app();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/v1/traces", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        (url, seen)
    }

    fn receiver_app() -> (axum::Router, Seen) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        let app = axum::Router::new().route(
            "/v1/traces",
            axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| async move {
                let kind = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                record.lock().expect("lock").push((kind, body.len()));
                ""
            }),
        );
        (app, seen)
    }

    // A collector behind TLS with a private CA: trusted through OTEL_EXPORTER_OTLP_CERTIFICATE,
    // refused (and counted) without it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn spans_reach_an_https_receiver_whose_ca_is_given() {
        let pki = crate::tls::testing::TestPki::new();
        let (app, seen) = receiver_app();
        let url = format!("{}/v1/traces", pki.serve(app).await);
        let ca_file = pki.ca_file.display().to_string();
        let exporter =
            otlp_exporter(Some(&url), &env(&[("OTEL_EXPORTER_OTLP_CERTIFICATE", &ca_file)])).expect("exporter builds");
        let provider = tracer_provider("kit-test", exporter, 16);
        provider.tracer("test").start("request").end();
        let flushed = provider.clone();
        tokio::task::spawn_blocking(move || flushed.force_flush()).await.expect("joins").expect("export succeeds");
        assert_eq!(seen.lock().expect("lock").len(), 1);
        drop(TelemetryGuard { provider: Some(provider) });

        let untrusted = otlp_exporter(Some(&url), &env(&[])).expect("exporter builds");
        let provider = tracer_provider("kit-test", untrusted, 16);
        provider.tracer("test").start("request").end();
        let flushed = provider.clone();
        let result = tokio::task::spawn_blocking(move || flushed.force_flush()).await.expect("joins");
        assert!(result.is_err(), "the test CA is in no OS trust store");
        assert_eq!(seen.lock().expect("lock").len(), 1, "nothing more arrived");
        drop(TelemetryGuard { provider: Some(provider) });

        let missing = otlp_exporter(Some(&url), &env(&[("OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/ca.pem")]));
        let missing = missing.expect_err("a missing CA file stops the start");
        assert!(format!("{missing:#}").contains("/nonexistent/ca.pem"), "{missing:#}");
    }

    // The exporter is built, used and shut down from inside a Tokio runtime, as in `ggzhub`.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn spans_reach_an_otlp_http_receiver_from_inside_a_tokio_runtime() {
        let (url, seen) = receiver().await;
        let provider = otlp_tracer_provider("kit-test", Some(&url)).expect("exporter builds");
        provider.tracer("test").start("request").end();
        let flushed = provider.clone();
        tokio::task::spawn_blocking(move || flushed.force_flush()).await.expect("joins").expect("export succeeds");
        let requests = seen.lock().expect("lock").clone();
        assert_eq!(requests.len(), 1, "{requests:?}");
        assert_eq!(requests[0].0, "application/x-protobuf");
        assert!(requests[0].1 > 0);
        // Dropping the guard inside the runtime must neither panic nor hang.
        provider.tracer("test").start("last").end();
        drop(TelemetryGuard { provider: Some(provider) });
        assert_eq!(seen.lock().expect("lock").len(), 2, "shutdown exports the last span");
    }

    // A collector that is down: exports fail and are counted, nothing panics, shutdown returns.
    #[tokio::test(flavor = "current_thread")]
    async fn an_unreachable_collector_is_counted_not_fatal() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/v1/traces", listener.local_addr().expect("addr"));
        drop(listener);
        use opentelemetry_otlp::WithExportConfig as _;
        let exporter =
            opentelemetry_otlp::SpanExporter::builder().with_http().with_endpoint(url).build().expect("builds");
        let processor = BoundedExport::new(exporter, 16);
        let health = processor.health();
        let provider = SdkTracerProvider::builder().with_span_processor(processor).build();
        let tracer = provider.tracer("test");
        // The first failure is logged at once; the second is only counted until the next line.
        for _ in 0..2 {
            tracer.start("request").end();
            assert!(provider.force_flush().is_err(), "nothing listens there");
        }
        let report = health.take_report(Instant::now(), true).expect("the second failure is counted");
        assert_eq!((report.failed_exports, report.spans_lost, report.spans_dropped), (1, 1, 0));
        assert!(report.last_error.as_deref().is_some_and(|e| e.contains("network error")), "{report:?}");
        drop(TelemetryGuard { provider: Some(provider) });
    }
}
