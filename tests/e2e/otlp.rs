//! Traces leave the process: the real `ggzhub` binaries export their spans over OTLP/HTTP to a
//! receiver in this test, which decodes them with the `opentelemetry-proto` types.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use prost::Message as _;
use serde_json::{Value, json};

use crate::support::DevHub;

/// One received span, flattened.
#[derive(Debug, Clone)]
struct Span {
    service: String,
    name: String,
    trace_id: String,
    span_id: String,
    parent_id: String,
    attributes: HashMap<String, String>,
}

/// An OTLP/HTTP receiver on a random port.
struct Receiver {
    endpoint: String,
    spans: Arc<Mutex<Vec<Span>>>,
    /// Bytes of each OTLP metrics export received.
    metrics: Arc<Mutex<Vec<usize>>>,
}

impl Receiver {
    async fn start() -> Self {
        let (app, spans, metrics) = Self::app();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { endpoint, spans, metrics }
    }

    /// The receiver over HTTPS, with a certificate from `pki`'s CA.
    async fn start_https(pki: &ggzhub_kit::tls::testing::TestPki) -> Self {
        let (app, spans, metrics) = Self::app();
        Self { endpoint: pki.serve(app).await, spans, metrics }
    }

    #[allow(clippy::type_complexity)]
    fn app() -> (axum::Router, Arc<Mutex<Vec<Span>>>, Arc<Mutex<Vec<usize>>>) {
        let spans = Arc::new(Mutex::new(Vec::new()));
        let store = spans.clone();
        let metrics = Arc::new(Mutex::new(Vec::new()));
        let exports = metrics.clone();
        let app = axum::Router::new()
            .route(
                "/v1/metrics",
                axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| async move {
                    assert_eq!(
                        headers.get("content-type").and_then(|v| v.to_str().ok()),
                        Some("application/x-protobuf")
                    );
                    exports.lock().expect("lock").push(body.len());
                    ""
                }),
            )
            .route(
                "/v1/traces",
                axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| async move {
                    assert_eq!(
                        headers.get("content-type").and_then(|v| v.to_str().ok()),
                        Some("application/x-protobuf")
                    );
                    let request = ExportTraceServiceRequest::decode(body).expect("an OTLP protobuf export request");
                    store.lock().expect("lock").extend(flatten(request));
                    ""
                }),
            );
        (app, spans, metrics)
    }

    /// Waits (at most a minute) until the received spans satisfy `done`.
    async fn wait_for(&self, what: &str, done: impl Fn(&[Span]) -> bool) -> Vec<Span> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let spans = self.spans.lock().expect("lock").clone();
            if done(&spans) {
                return spans;
            }
            assert!(Instant::now() < deadline, "no {what} within a minute; received: {spans:#?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn text(value: Option<&opentelemetry_proto::tonic::common::v1::AnyValue>) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        Some(AnyValue::StringValue(s)) => s.clone(),
        Some(AnyValue::IntValue(i)) => i.to_string(),
        Some(AnyValue::BoolValue(b)) => b.to_string(),
        other => format!("{other:?}"),
    }
}

fn flatten(request: ExportTraceServiceRequest) -> Vec<Span> {
    let mut out = Vec::new();
    for resource_spans in request.resource_spans {
        let service = resource_spans
            .resource
            .iter()
            .flat_map(|r| &r.attributes)
            .find(|a| a.key == "service.name")
            .map(|a| text(a.value.as_ref()))
            .unwrap_or_default();
        for span in resource_spans.scope_spans.into_iter().flat_map(|s| s.spans) {
            out.push(Span {
                service: service.clone(),
                name: span.name,
                trace_id: hex(&span.trace_id),
                span_id: hex(&span.span_id),
                parent_id: hex(&span.parent_span_id),
                attributes: span.attributes.iter().map(|a| (a.key.clone(), text(a.value.as_ref()))).collect(),
            });
        }
    }
    out
}

/// A `ggzhub` process whose JSON log lines are kept.
struct Process {
    child: Child,
    logs: Arc<Mutex<Vec<String>>>,
}

impl Process {
    /// Starts `ggzhub <args>` exporting to `endpoint`; returns it with the URL it logs as
    /// listening on.
    fn start(args: &[String], dir: &Path, endpoint: &str) -> (Self, String) {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ggzhub"));
        command.arg("--log-format").arg("json").args(args).current_dir(dir);
        for var in ["DATABASE_URL", "REGION_DATABASE_URL", "NATIONAL_TABLE_DATABASE_URL", "CONTRACTING_DATABASE_URL"] {
            command.env_remove(var);
        }
        for (var, _) in std::env::vars().filter(|(k, _)| k.starts_with("OTEL_") || k.starts_with("GGZHUB_")) {
            command.env_remove(var);
        }
        let mut child = command
            .env("RUST_LOG", "info")
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
            // Export every 200 ms instead of every 5 s; metrics every second instead of every minute.
            .env("OTEL_BSP_SCHEDULE_DELAY", "200")
            .env("OTEL_METRIC_EXPORT_INTERVAL", "1000")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ggzhub starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let keep = logs.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(event) = serde_json::from_str::<Value>(&line)
                    && event["message"].as_str().is_some_and(|m| m.ends_with("listening"))
                    && let Some(url) = event["url"].as_str()
                {
                    let _ = tx.send(url.to_owned());
                }
                keep.lock().expect("lock").push(line);
            }
        });
        let process = Self { child, logs };
        let url = rx.recv_timeout(Duration::from_secs(120)).unwrap_or_else(|_| {
            panic!("ggzhub {args:?} logs the URL it listens on: {:#?}", process.logs.lock().expect("lock"))
        });
        (process, url)
    }

    /// SIGTERM, then the exit status and the log.
    fn stop(mut self) -> (std::process::ExitStatus, Vec<String>) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait works") {
                // The reader thread ends with the pipe; give it the last lines.
                std::thread::sleep(Duration::from_millis(100));
                return (status, self.logs.lock().expect("lock").clone());
            }
            assert!(Instant::now() < deadline, "ggzhub did not stop within 30 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// The demo national table's token from `ggzhub token issue`: named by the identifier its binding
/// to the development identity provider asserts, read from the region database's register.
fn organisation_token(data_dir: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_ggzhub"))
        .args([
            "token",
            "issue",
            "--org",
            "07a3f849-047d-5ed0-bd4c-6d00be40ea72",
            "--subject",
            "otlp-test",
            "--data-dir",
        ])
        .arg(data_dir)
        .env_remove("DATABASE_URL")
        .env_remove("REGION_DATABASE_URL")
        .output()
        .expect("ggzhub token issue runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8").trim().to_owned()
}

/// Region data from one subgraph, escalations from another.
const TWO_SUBGRAPHS: &str = r#"{ region(code: "zeeland") { name escalations { status } } }"#;

async fn query(gateway_url: &str, token: &str, traceparent: &str) -> Value {
    reqwest::Client::new()
        .post(gateway_url)
        .bearer_auth(token)
        .header("traceparent", traceparent)
        .json(&json!({ "query": TWO_SUBGRAPHS }))
        .send()
        .await
        .expect("the gateway answers")
        .json()
        .await
        .expect("JSON")
}

#[tokio::test]
async fn one_request_through_the_gateway_and_two_subgraph_processes_is_one_exported_trace() {
    let receiver = Receiver::start().await;
    let dir = std::env::temp_dir().join(format!("ggzhub-otlp-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("data dir");
    let data_dir = dir.to_str().expect("utf-8 path");
    let seeded = Command::new(env!("CARGO_BIN_EXE_ggzhub"))
        .args(["seed", "region", "--demo", "--data-dir", data_dir])
        .env_remove("DATABASE_URL")
        .env_remove("REGION_DATABASE_URL")
        .stdout(Stdio::null())
        .status()
        .expect("seed runs");
    assert!(seeded.success());

    // One process each, started in turn (the first creates the development keys).
    let endpoint = receiver.endpoint.as_str();
    let common = ["--listen", "127.0.0.1:0", "--dev-key", "--data-dir", data_dir];
    let args = |first: &[&str]| -> Vec<String> { first.iter().chain(&common).map(|s| (*s).to_owned()).collect() };
    let free_address = || {
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a port").port();
        format!("127.0.0.1:{port}")
    };
    let (region_metrics, national_metrics) = (free_address(), free_address());
    let (region, region_url) =
        Process::start(&args(&["serve", "region", "--metrics-listen", &region_metrics]), &dir, endpoint);
    let (national, national_url) = Process::start(
        &args(&["serve", "national-table", "--region-url", &region_url, "--metrics-listen", &national_metrics]),
        &dir,
        endpoint,
    );
    let contracting_metrics = free_address();
    let (contracting, contracting_url) = Process::start(
        &args(&[
            "serve",
            "contracting",
            "--region-url",
            &region_url,
            "--national-table-url",
            &national_url,
            "--metrics-listen",
            &contracting_metrics,
        ]),
        &dir,
        endpoint,
    );
    let supergraph = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/supergraph.graphql");
    let metrics_listen = free_address();
    let (gateway, gateway_url) = Process::start(
        &args(&[
            "serve",
            "gateway",
            "--metrics-listen",
            &metrics_listen,
            "--supergraph",
            supergraph.to_str().expect("utf-8 path"),
            "--subgraph-url",
            &format!("region={region_url}"),
            "--subgraph-url",
            &format!("national-table={national_url}"),
        ]),
        &dir,
        endpoint,
    );

    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let client_span = "00f067aa0ba902b7";
    let body = query(&gateway_url, &organisation_token(&dir), &format!("00-{trace_id}-{client_span}-01")).await;
    assert_eq!(body["data"]["region"]["name"], "Zeeland", "{body:#}");
    assert!(body["data"]["region"]["escalations"].is_array(), "{body:#}");
    assert!(body.get("errors").is_none(), "{body:#}");

    // Each subgraph's request span, under the gateway's fetch span for that subgraph.
    let served = |spans: &[Span], service: &str, subgraph: &str| {
        spans.iter().any(|s| {
            s.service == service
                && s.name == "http_request"
                && spans.iter().any(|f| {
                    f.name == "subgraph_fetch"
                        && f.span_id == s.parent_id
                        && f.attributes.get("subgraph").map(String::as_str) == Some(subgraph)
                })
        })
    };
    let spans = receiver
        .wait_for("subgraph request spans under the gateway's fetch spans", |spans| {
            served(spans, "ggzhub-region", "region") && served(spans, "ggzhub-national-table", "national-table")
        })
        .await;

    let in_trace: Vec<&Span> = spans.iter().filter(|s| s.trace_id == trace_id).collect();
    let gateway_request = in_trace
        .iter()
        .find(|s| s.service == "ggzhub-gateway" && s.name == "http_request")
        .expect("the gateway's request span is in the caller's trace");
    assert_eq!(gateway_request.parent_id, client_span, "the incoming traceparent is continued");
    for (service, subgraph) in [("ggzhub-region", "region"), ("ggzhub-national-table", "national-table")] {
        let fetch = in_trace
            .iter()
            .find(|s| s.name == "subgraph_fetch" && s.attributes.get("subgraph").map(String::as_str) == Some(subgraph))
            .unwrap_or_else(|| panic!("the gateway's fetch span for {subgraph} is in the trace: {in_trace:#?}"));
        assert_eq!(fetch.service, "ggzhub-gateway");
        let request = in_trace
            .iter()
            .find(|s| s.service == service && s.name == "http_request")
            .unwrap_or_else(|| panic!("{service}'s request span is in the caller's trace: {in_trace:#?}"));
        assert_eq!(request.parent_id, fetch.span_id, "{service}'s request continues the gateway's fetch span");
    }
    // Every span of the three processes for this request is in the one trace: each subgraph
    // request span's descendants share its trace id.
    let services: std::collections::BTreeSet<&str> = in_trace.iter().map(|s| s.service.as_str()).collect();
    assert_eq!(services.into_iter().collect::<Vec<_>>(), ["ggzhub-gateway", "ggzhub-national-table", "ggzhub-region"]);
    for span in spans.iter().filter(|s| in_trace.iter().any(|t| t.span_id == s.parent_id)) {
        assert_eq!(span.trace_id, trace_id, "a child of a span in the trace is in the trace: {span:#?}");
    }

    // Issue 20: each service's metrics, on its own listener as Prometheus text, and over OTLP.
    let http = reqwest::Client::new();
    let refused = http.post(&gateway_url).json(&serde_json::json!({ "query": "{ regions { code } }" })).send().await;
    assert_eq!(refused.expect("the gateway answers").status(), 401, "without a token");
    // A resolver error in the region subgraph, counted there by its code.
    let bad: Value = http
        .post(&gateway_url)
        .bearer_auth(organisation_token(&dir))
        .json(&json!({ "query": r#"{ region(code: "no such region!") { name } }"# }))
        .send()
        .await
        .expect("the gateway answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(bad["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{bad:#}");
    let deadline = Instant::now() + Duration::from_secs(60);
    let scrape = |address: String, wanted: Vec<&'static str>| {
        let http = http.clone();
        async move {
            loop {
                let text = http
                    .get(format!("http://{address}/metrics"))
                    .send()
                    .await
                    .expect("the metrics listener answers")
                    .text()
                    .await
                    .expect("text");
                if wanted.iter().all(|w| text.contains(w)) {
                    break text;
                }
                assert!(
                    Instant::now() < deadline,
                    "{address}: metrics missing one of {wanted:?} within a minute:\n{text}"
                );
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    };
    // Contracting: its readiness probe (a statement on its database) is a request it counts.
    let ready = http.get(contracting_url.replace("/graphql", "/health/ready")).send().await.expect("answers");
    assert_eq!(ready.status(), 200);
    let text = scrape(
        contracting_metrics,
        vec![
            "http_server_request_duration_seconds_count{ggzhub_service=\"contracting\",http_request_method=\"GET\",http_response_status_code=\"200\",http_route=\"/health/ready\"}",
            "db_client_operation_duration_seconds_count{db_operation_name=\"SELECT\",db_system_name=\"sqlite\",ggzhub_service=\"contracting\"}",
            "db_client_connection_max{db_client_connection_pool_name=\"contracting\"} 1",
        ],
    )
    .await;
    assert!(!text.contains("ggzhub_service=\"region\""), "contracting reports only itself:\n{text}");
    for (address, service) in [(region_metrics, "region"), (national_metrics, "national-table")] {
        let wanted: Vec<&'static str> = match service {
            "region" => vec![
                "http_server_request_duration_seconds_count{ggzhub_service=\"region\",http_request_method=\"POST\",http_response_status_code=\"200\",http_route=\"/graphql\"}",
                "ggzhub_graphql_errors_total{error_code=\"BAD_USER_INPUT\",ggzhub_service=\"region\"} 1",
                "db_client_operation_duration_seconds_count{db_operation_name=\"SELECT\",db_system_name=\"sqlite\",ggzhub_service=\"region\"}",
                "db_client_connection_count{db_client_connection_pool_name=\"region\",db_client_connection_state=\"used\"}",
                "db_client_connection_max{db_client_connection_pool_name=\"region\"} 1",
                "# TYPE http_server_active_requests gauge",
            ],
            _ => vec![
                "http_server_request_duration_seconds_count{ggzhub_service=\"national-table\",http_request_method=\"POST\",http_response_status_code=\"200\",http_route=\"/graphql\"}",
                "db_client_operation_duration_seconds_count{db_operation_name=\"SELECT\",db_system_name=\"sqlite\",ggzhub_service=\"national-table\"}",
                "db_client_connection_max{db_client_connection_pool_name=\"national-table\"} 1",
            ],
        };
        let text = scrape(address, wanted).await;
        // One process, one service: no other service's series.
        let other = if service == "region" { "national-table" } else { "region" };
        assert!(!text.contains(&format!("ggzhub_service=\"{other}\"")), "{service} reports only itself:\n{text}");
    }
    let text = scrape(
        metrics_listen,
        vec![
            "http_server_request_duration_seconds_count{",
            "ggzhub_organisation_kind=\"NATIONAL_TABLE\"",
            "ggzhub_subgraph_request_duration_seconds_count{",
            "subgraph_name=\"national-table\"",
            "ggzhub_gateway_refusals_total{error_code=\"UNAUTHENTICATED\"} 1",
            "ggzhub_query_plan_cache_total{",
            "# TYPE http_server_active_requests gauge",
            "ggzhub_subgraph_circuit_state{subgraph_name=\"region\"} 0",
        ],
    )
    .await;
    assert!(text.contains("ggzhub_outcome=\"ok\""), "{text}");
    let on_graphql_port = http.get(gateway_url.replace("/graphql", "/metrics")).send().await.expect("answers");
    let page = on_graphql_port.text().await.expect("text");
    assert!(!page.contains("http_server_request_duration"), "metrics are not on the GraphQL port: {page}");
    while receiver.metrics.lock().expect("lock").is_empty() {
        assert!(Instant::now() < deadline, "no OTLP metrics export within a minute");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    for process in [gateway, contracting, national, region] {
        // Off the runtime thread: the receiver keeps answering the exports of processes still
        // running (and the last ones of the one stopping).
        let (status, logs) = tokio::task::spawn_blocking(move || process.stop()).await.expect("stopped");
        assert!(status.success(), "clean exit on SIGTERM: {status}; {logs:#?}");
        assert!(
            !logs.iter().any(|l| l.contains("panicked") || l.contains("spans were lost")),
            "no panic, nothing lost: {logs:#?}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_dev_hub_exports_its_spans_as_one_service() {
    let receiver = Receiver::start().await;
    // RUST_LOG=warn (DevHub's) silences the logs, not the spans.
    let hub =
        DevHub::start_with(&[("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.endpoint), ("OTEL_BSP_SCHEDULE_DELAY", "200")]);
    let (_, token) = hub.persona("NATIONAL_TABLE");
    let trace_id = "0af7651916cd43dd8448eb211c80319c";
    let body = query(&hub.gateway_url, &token, &format!("00-{trace_id}-b7ad6b7169203331-01")).await;
    assert_eq!(body["data"]["region"]["name"], "Zeeland", "{body:#}");

    let under_fetch = |spans: &[Span], subgraph: &str| {
        spans.iter().any(|s| {
            s.name == "http_request"
                && s.trace_id == trace_id
                && spans.iter().any(|f| {
                    f.name == "subgraph_fetch"
                        && f.span_id == s.parent_id
                        && f.attributes.get("subgraph").map(String::as_str) == Some(subgraph)
                })
        })
    };
    let spans = receiver
        .wait_for("the dev hub's subgraph request spans", |spans| {
            under_fetch(spans, "region") && under_fetch(spans, "national-table")
        })
        .await;
    let services: std::collections::BTreeSet<&str> =
        spans.iter().filter(|s| s.trace_id == trace_id).map(|s| s.service.as_str()).collect();
    assert_eq!(services.into_iter().collect::<Vec<_>>(), ["ggzhub-dev"]);
    let status = hub.stop();
    assert!(status.success(), "ggzhub dev exits cleanly on SIGTERM: {status}");
}

// A collector behind TLS with a private CA. Its CA given in OTEL_EXPORTER_OTLP_CERTIFICATE, on
// a machine whose OS trust store is empty (SSL_CERT_FILE names no file, SSL_CERT_DIR none): the
// hub still starts and serves over plain HTTP, and its spans reach the collector. Its CA in the
// OS trust store (here through SSL_CERT_FILE) and no certificate variable: likewise.
#[tokio::test]
async fn the_dev_hub_exports_over_https_trusting_the_collectors_ca() {
    let pki = ggzhub_kit::tls::testing::TestPki::new();
    let receiver = Receiver::start_https(&pki).await;
    assert!(receiver.endpoint.starts_with("https://"));
    let ca_file = pki.ca_file.to_str().expect("utf-8 path");
    let given: &[(&str, &str)] = &[
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", ca_file),
        ("SSL_CERT_FILE", "/nonexistent/ggzhub-empty-os-trust-store.pem"),
        ("SSL_CERT_DIR", ""),
    ];
    let in_os_store: &[(&str, &str)] = &[("SSL_CERT_FILE", ca_file), ("SSL_CERT_DIR", "")];
    for (trust, trace_id) in
        [(given, "5b8efff798038103d269b633813fc60c"), (in_os_store, "6c9f0008a9149214e37ac744924fd71d")]
    {
        let mut env =
            vec![("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint.as_str()), ("OTEL_BSP_SCHEDULE_DELAY", "200")];
        env.extend_from_slice(trust);
        let hub = DevHub::start_with(&env);
        let (_, token) = hub.persona("NATIONAL_TABLE");
        let body = query(&hub.gateway_url, &token, &format!("00-{trace_id}-eee19b7ec3c1b174-01")).await;
        assert_eq!(body["data"]["region"]["name"], "Zeeland", "{body:#}");
        receiver
            .wait_for("the request's spans over https", |spans| {
                spans.iter().any(|s| s.trace_id == trace_id && s.name == "subgraph_fetch" && s.service == "ggzhub-dev")
            })
            .await;
        let status = hub.stop();
        assert!(status.success(), "ggzhub dev exits cleanly on SIGTERM: {status}");
    }
}
