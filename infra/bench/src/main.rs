//! `ggzhub-bench`: the federation gateway benchmark (issue #7). Prints figures, asserts nothing.
//!
//! `ggzhub-bench run` starts the four benchmark subgraphs in this process, composes their
//! supergraph with our composer, then for each target — our gateway, Hive Router with its
//! incoming-request deduplication on and off (when `--hive-router` gives its binary), and the
//! products subgraph called directly with the largest single-subgraph query (the floor) — checks
//! the answer, warms up, loads it with `hey` (50 connections), and prints requests per second,
//! latency percentiles, errors, the target's peak RSS and subgraph requests per client query.
//!
//! `ggzhub-bench hub` is the hub's own scenario: the regional-overview query across the three
//! real subgraphs on PostgreSQL with a realistic volume, at a fixed request rate, with the SQL
//! statements each subgraph runs per request (see `hub.rs`).
//!
//! `ggzhub-bench picture` is the national picture on the same data: the whole picture and a
//! 24-month trend, one request at a time, with SQL statements per request at two volumes (see
//! `picture.rs`).

mod events;
mod hub;
mod hub_data;
mod picture;
mod subgraphs;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};
use serde_json::{Value, json};

// As the `ggzhub` binary: the in-process gateway and subgraphs allocate like in production.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The benchmark's query: users and top products with nested reviews, authors and products.
const QUERY: &str = r#"fragment User on User { id username name }
fragment Review on Review { id body }
fragment Product on Product { inStock name price shippingEstimate upc weight }
query TestQuery {
  users { ...User reviews { ...Review product { ...Product reviews { ...Review author { ...User reviews { ...Review product { ...Product } } } } } } }
  topProducts { ...Product reviews { ...Review author { ...User reviews { ...Review product { ...Product } } } } }
}"#;

/// The largest query one subgraph answers alone (for the floor: no gateway in between).
const DIRECT_QUERY: &str = "{ topProducts(first: 9) { upc name price weight } }";

#[derive(Parser)]
#[command(name = "ggzhub-bench", about = "Federation gateway benchmark")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve the four subgraphs until Ctrl-C (ports base..base+3).
    Subgraphs {
        #[arg(long, default_value_t = 4201)]
        base_port: u16,
    },
    /// Run the whole benchmark and print the table.
    Run(RunArgs),
    /// The hub's own scenario: the regional-overview query over the three subgraphs on
    /// PostgreSQL (31 regions × 40 providers × 30 offers) at a fixed rate, with SQL statements
    /// per request.
    Hub(hub::HubArgs),
    /// The national picture: the whole national picture (every aggregate, all 31 regions) and a
    /// 24-month national trend through the gateway on PostgreSQL at the hub scenario's volume,
    /// one request at a time, with p95 beside the targets and SQL statements per request at two
    /// data volumes.
    Picture(picture::PictureArgs),
    /// The early-warning load: continuity signals raised at a fixed rate through the gateway,
    /// delivered over SSE and WebSocket by two gateway replicas reading NATS JetStream, one
    /// replica killed halfway; delivery latency from commit, lost and unauthorized deliveries,
    /// memory per 1,000 subscribers.
    Events(events::EventsArgs),
}

#[derive(clap::Args)]
struct RunArgs {
    /// Seconds of measured load per target.
    #[arg(long, default_value_t = 60)]
    duration: u64,
    /// Seconds of unmeasured warm-up per target.
    #[arg(long, default_value_t = 15)]
    warmup: u64,
    /// Concurrent connections.
    #[arg(long, default_value_t = 50)]
    connections: u32,
    /// Our gateway's binary; default: the `ggzhub` built beside this benchmark (same profile:
    /// `target/production/` for the figures, `target/release/` otherwise).
    #[arg(long)]
    ggzhub: Option<PathBuf>,
    /// Hive Router's binary (`cargo install hive-router --version 0.2.19 --features graphiql`);
    /// left out when not given.
    #[arg(long)]
    hive_router: Option<PathBuf>,
    /// First port of the subgraphs.
    #[arg(long, default_value_t = 4201)]
    base_port: u16,
    /// Port of the gateway under test.
    #[arg(long, default_value_t = 4300)]
    gateway_port: u16,
    /// Working directory for the supergraph and configs.
    #[arg(long, default_value = "target/bench")]
    work_dir: PathBuf,
    /// Runtime worker threads of our gateway's process (`TOKIO_WORKER_THREADS`); default: one per
    /// core, as `ggzhub serve gateway` runs.
    #[arg(long)]
    gateway_workers: Option<usize>,
}

fn main() -> anyhow::Result<()> {
    // mimalloc's purge delay, as `ggzhub` starts (ggzhub_kit::allocator): the figures are the
    // deployed binary's.
    if let Err(error) = ggzhub_kit::allocator::restart_with_defaults() {
        eprintln!("warning: could not restart with {}: {error}", ggzhub_kit::allocator::PURGE_DELAY_VAR);
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?
        .block_on(dispatch())
}

async fn dispatch() -> anyhow::Result<()> {
    match Cli::parse().command {
        Cmd::Subgraphs { base_port } => {
            let (urls, _counters) = start_subgraphs(base_port).await?;
            std::fs::create_dir_all("target/bench")?;
            std::fs::write("target/bench/supergraph.graphql", SUPERGRAPH.get().context("composed")?)?;
            println!("supergraph  target/bench/supergraph.graphql");
            for (name, url) in urls {
                println!("{name:<10} {url}");
            }
            tokio::signal::ctrl_c().await?;
            Ok(())
        }
        Cmd::Run(args) => run(args).await,
        Cmd::Hub(args) => hub::run(args).await,
        Cmd::Picture(args) => picture::run(args).await,
        Cmd::Events(args) => events::run(args).await,
    }
}

type Counters = Vec<std::sync::Arc<std::sync::atomic::AtomicU64>>;

async fn start_subgraphs(base_port: u16) -> anyhow::Result<(Vec<(&'static str, String)>, Counters)> {
    let mut urls = Vec::new();
    let mut counters = Vec::new();
    let mut sdls = Vec::new();
    for (offset, subgraph) in (0u16..).zip(subgraphs::all()) {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], base_port + offset));
        let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
        let url = format!("http://{addr}/graphql");
        tokio::spawn(async move { axum::serve(listener, subgraph.router).await });
        urls.push((subgraph.name, url.clone()));
        counters.push(subgraph.requests);
        sdls.push(ggzhub_gateway::supergraph::compose::SubgraphSdl {
            name: subgraph.name.to_owned(),
            url,
            sdl: subgraph.sdl,
        });
    }
    SUPERGRAPH.set(ggzhub_gateway::supergraph::compose::compose(&sdls)?).ok();
    Ok((urls, counters))
}

static SUPERGRAPH: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Starts one target (a process, or nothing for the direct call).
type Starter = Box<dyn Fn() -> anyhow::Result<Target>>;

/// Our gateway's process. It inherits this process's `MIMALLOC_PURGE_DELAY` (set as `ggzhub`
/// sets it, `ggzhub_kit::allocator`), so a `--ggzhub` binary older than that setting runs with it too.
fn spawn_ggzhub(
    bin: &std::path::Path,
    port: u16,
    supergraph: &std::path::Path,
    dedupe: bool,
    workers: Option<usize>,
) -> anyhow::Result<Child> {
    let mut command = Command::new(bin);
    if let Some(workers) = workers {
        command.env("TOKIO_WORKER_THREADS", workers.to_string());
    }
    command
        .env("GGZHUB_GATEWAY__SERVER__DEDUPE_REQUESTS", dedupe.to_string())
        // One anonymous caller at full speed: the per-organisation rate limit would refuse it.
        .env("GGZHUB_GATEWAY__RATE_LIMIT__PER_ORG_PER_SECOND", "0")
        // The benchmark's query estimates at 23,315 (unsized lists of 10, nested five deep), over
        // the default limit of 10,000; Hive Router runs without demand control here too.
        .env("GGZHUB_GATEWAY__LIMITS__MAX_COST", "1000000")
        .args(["serve", "gateway", "--allow-anonymous", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--supergraph")
        .arg(supergraph)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))
}

/// A target that starts Hive Router with `config` and sends it `body`.
fn hive_router_plan(
    label: String,
    bin: &std::path::Path,
    dir: &std::path::Path,
    config: PathBuf,
    url: &str,
    body: String,
    connections: Option<u32>,
) -> (String, Starter) {
    let (bin, dir, url, label_for) = (bin.to_owned(), dir.to_owned(), url.to_owned(), label.clone());
    let start: Starter = Box::new(move || {
        let child = spawn_hive_router(&bin, &dir, &config)?;
        Ok(Target::new(&label_for, &url, &body, Some(child), connections))
    });
    (label, start)
}

fn spawn_hive_router(bin: &std::path::Path, dir: &std::path::Path, config: &std::path::Path) -> anyhow::Result<Child> {
    Command::new(bin)
        .current_dir(dir)
        // Hive Router with its own allocator settings, not the purge delay this process runs with.
        .env_remove(ggzhub_kit::allocator::PURGE_DELAY_VAR)
        .env("ROUTER_CONFIG_FILE_PATH", config)
        .env("HIVE_CONFIG_FILE_PATH", config)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))
}

struct Target {
    label: String,
    url: String,
    body: String,
    child: Option<Child>,
    /// Connections for this target when not `--connections`.
    connections: Option<u32>,
}

impl Target {
    fn new(label: &str, url: &str, body: &str, child: Option<Child>, connections: Option<u32>) -> Self {
        Self { label: label.to_owned(), url: url.to_owned(), body: body.to_owned(), child, connections }
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[derive(Debug, Default)]
struct Figures {
    rps: f64,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    requests: u64,
    errors: u64,
}

async fn run(mut args: RunArgs) -> anyhow::Result<()> {
    ensure_hey()?;
    let ggzhub = match args.ggzhub.take() {
        Some(path) => path,
        None => sibling_ggzhub()?,
    };
    std::fs::create_dir_all(&args.work_dir)?;
    let work_dir = std::fs::canonicalize(&args.work_dir)?;
    let (urls, counters) = start_subgraphs(args.base_port).await?;
    let supergraph_path = work_dir.join("supergraph.graphql");
    std::fs::write(&supergraph_path, SUPERGRAPH.get().context("composed")?)?;
    let gateway_url = format!("http://127.0.0.1:{}/graphql", args.gateway_port);
    let body = json!({ "query": QUERY, "operationName": "TestQuery" }).to_string();
    let products_url = urls.iter().find(|(n, _)| *n == "products").map(|(_, u)| u.clone()).context("products")?;

    let mut plans: Vec<(String, Starter)> = Vec::new();
    for dedupe in [true, false] {
        let label = format!("ggzhub gateway (dedupe {})", if dedupe { "on" } else { "off" });
        let (bin, sg, url, body) = (ggzhub.clone(), supergraph_path.clone(), gateway_url.clone(), body.clone());
        let (port, workers) = (args.gateway_port, args.gateway_workers);
        let label_for = label.clone();
        plans.push((
            label,
            Box::new(move || {
                let child = spawn_ggzhub(&bin, port, &sg, dedupe, workers)?;
                Ok(Target::new(&label_for, &url, &body, Some(child), None))
            }),
        ));
    }
    if let Some(hive) = &args.hive_router {
        for dedupe in [true, false] {
            let label = format!("Hive Router 0.2.19 (dedupe {})", if dedupe { "on" } else { "off" });
            let config = work_dir.join(format!("router-dedupe-{dedupe}.yaml"));
            std::fs::write(
                &config,
                format!(
                    "supergraph:\n  source: file\n  path: {}\nhttp:\n  host: 127.0.0.1\n  port: {}\nlog:\n  level: warn\ntraffic_shaping:\n  router:\n    dedupe:\n      enabled: {dedupe}\n",
                    supergraph_path.display(),
                    args.gateway_port
                ),
            )?;
            plans.push(hive_router_plan(label, hive, &work_dir, config, &gateway_url, body.clone(), None));
        }
    }
    // The single-subgraph query, directly and through our gateway: with `--connections` (where
    // the gateway shares identical subgraph calls in flight together), then with one connection
    // (nothing to share: the gateway's own cost per request).
    for connections in [None, Some(1)] {
        let suffix = if connections.is_some() { ", 1 connection" } else { "" };
        let body = json!({ "query": DIRECT_QUERY }).to_string();
        let url = products_url.clone();
        let label = format!("products subgraph, direct (floor){suffix}");
        let label_for = label.clone();
        plans.push((label, Box::new(move || Ok(Target::new(&label_for, &url, &body, None, connections)))));
        let body = json!({ "query": DIRECT_QUERY }).to_string();
        let url = gateway_url.clone();
        let (bin, sg, port) = (ggzhub.clone(), supergraph_path.clone(), args.gateway_port);
        let workers = args.gateway_workers;
        let label = format!("ggzhub gateway, same query (overhead){suffix}");
        let label_for = label.clone();
        plans.push((
            label,
            Box::new(move || {
                let child = spawn_ggzhub(&bin, port, &sg, false, workers)?;
                Ok(Target::new(&label_for, &url, &body, Some(child), connections))
            }),
        ));
        // Hive Router on the same query, dedupe off (the reference for the gateway's own cost).
        if let Some(hive) = &args.hive_router {
            let body = json!({ "query": DIRECT_QUERY }).to_string();
            let config = work_dir.join("router-dedupe-false.yaml");
            let label = format!("Hive Router 0.2.19, same query (dedupe off){suffix}");
            plans.push(hive_router_plan(label, hive, &work_dir, config, &gateway_url, body, connections));
        }
    }

    println!(
        "benchmark: {} connections, {} s warm-up, {} s measured per target, hey on loopback",
        args.connections, args.warmup, args.duration
    );
    let mut reference: Option<Value> = None;
    let mut rows = Vec::new();
    for (label, start) in &plans {
        let mut target = start()?;
        wait_ready(&target).await.with_context(|| format!("{label} did not come up"))?;
        let answer = post(&target.url, &target.body).await?;
        if answer.get("errors").is_some() {
            bail!("{label} answered with errors: {answer}");
        }
        if target.body.contains("TestQuery") {
            match &reference {
                None => reference = Some(answer.clone()),
                Some(expected) if *expected != answer => {
                    println!("warning: {label} answered differently from the first target");
                }
                Some(_) => {}
            }
        }
        let connections = target.connections.unwrap_or(args.connections);
        hey(&target, args.warmup, connections)?;
        let before: u64 = counters.iter().map(|c| c.load(Ordering::Relaxed)).sum();
        let figures = hey(&target, args.duration, connections)?;
        let after: u64 = counters.iter().map(|c| c.load(Ordering::Relaxed)).sum();
        let rss_mb = target.child.as_ref().and_then(|c| peak_rss_mb(c.id()));
        let per_query = if figures.requests > 0 { (after - before) as f64 / figures.requests as f64 } else { 0.0 };
        println!(
            "{:<40} {:>8.0} rps  p50 {:>7.2} ms  p95 {:>7.2} ms  p99 {:>7.2} ms  errors {:>5}  peak RSS {:>7}  subgraph req/query {:.2}",
            target.label,
            figures.rps,
            figures.p50_ms,
            figures.p95_ms,
            figures.p99_ms,
            figures.errors,
            rss_mb.map_or("-".to_owned(), |m| format!("{m:.0} MB")),
            per_query
        );
        rows.push((target.label.clone(), figures));
        if let Some(child) = &mut target.child {
            let _ = child.kill();
            let _ = child.wait();
        }
        target.child = None;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Ratios: the machine is shared and noisy, so compare within this run.
    let find = |needle: &str| {
        rows.iter()
            .find(|(l, _)| l.as_str() == needle || l.contains(needle) && !l.ends_with("1 connection"))
            .map(|(_, f)| f)
    };
    if let (Some(ours), Some(hive_on)) = (find("ggzhub gateway (dedupe on)"), find("Router 0.2.19 (dedupe on)")) {
        println!(
            "ratio ours / Hive Router (dedupe on):  rps {:.2}×, p95 {:.2}×",
            ours.rps / hive_on.rps,
            ours.p95_ms / hive_on.p95_ms
        );
    }
    if let (Some(ours), Some(hive_off)) = (find("ggzhub gateway (dedupe off)"), find("Router 0.2.19 (dedupe off)")) {
        println!(
            "ratio ours / Hive Router (dedupe off): rps {:.2}×, p95 {:.2}×",
            ours.rps / hive_off.rps,
            ours.p95_ms / hive_off.p95_ms
        );
    }
    if let (Some(direct), Some(via)) = (find("direct (floor)"), find("same query (overhead)")) {
        println!(
            "gateway overhead on the single-subgraph query: p50 {:.2}× the direct call",
            via.p50_ms / direct.p50_ms
        );
    }
    if let (Some(direct), Some(via)) = (
        find("products subgraph, direct (floor), 1 connection"),
        find("ggzhub gateway, same query (overhead), 1 connection"),
    ) && direct.rps > 0.0
        && via.rps > 0.0
    {
        // With one connection each request waits for the previous one: 1/rps is the time per
        // request (hey reports latencies to 0.1 ms only).
        println!(
            "gateway overhead at 1 connection (nothing shared): {:.3} ms per request against {:.3} ms direct ({:.2}×)",
            1000.0 / via.rps,
            1000.0 / direct.rps,
            direct.rps / via.rps
        );
        if let Some(hive) = rows.iter().find(|(l, _)| l == "Hive Router 0.2.19, same query (dedupe off), 1 connection")
            && hive.1.rps > 0.0
        {
            println!(
                "Hive Router at 1 connection: {:.3} ms per request ({:.2}× the direct call)",
                1000.0 / hive.1.rps,
                direct.rps / hive.1.rps
            );
        }
    }
    Ok(())
}

/// The `ggzhub` binary in this benchmark's own directory: built with the same profile, so the
/// gateway process is measured as optimised as the in-process subgraphs.
fn sibling_ggzhub() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("locating ggzhub-bench")?;
    let path = exe.with_file_name("ggzhub");
    if !path.is_file() {
        bail!(
            "{} is missing: build it with the same profile as this benchmark (cargo build --profile production -p ggzhub -p ggzhub-bench), or pass --ggzhub",
            path.display()
        );
    }
    Ok(path)
}

fn ensure_hey() -> anyhow::Result<()> {
    if Command::new("hey").arg("-h").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok() {
        return Ok(());
    }
    println!("hey is missing; installing it from Debian's packages");
    let status = Command::new("apt-get").args(["install", "-y", "hey"]).status()?;
    if !status.success() {
        bail!("could not install hey (apt-get install -y hey)");
    }
    Ok(())
}

async fn post(url: &str, body: &str) -> anyhow::Result<Value> {
    let response = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await?;
    Ok(response.json().await?)
}

async fn wait_ready(target: &Target) -> anyhow::Result<()> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if let Ok(answer) = post(&target.url, &target.body).await
            && answer.get("data").is_some()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("no answer within 30 s")
}

/// Runs `hey` against the target and parses its summary.
fn hey(target: &Target, seconds: u64, connections: u32) -> anyhow::Result<Figures> {
    let output = Command::new("hey")
        .args(["-z", &format!("{seconds}s"), "-c", &connections.to_string(), "-m", "POST", "-T", "application/json"])
        .args(["-d", &target.body, &target.url])
        .output()
        .context("running hey")?;
    let text = String::from_utf8_lossy(&output.stdout);
    let mut figures = Figures::default();
    for line in text.lines().map(str::trim) {
        if let Some(v) = line.strip_prefix("Requests/sec:") {
            figures.rps = v.trim().parse().unwrap_or(0.0);
        }
        for (prefix, slot) in [("50% in ", 0), ("95% in ", 1), ("99% in ", 2)] {
            if let Some(v) = line.strip_prefix(prefix) {
                let ms = v.trim_end_matches(" secs").trim().parse::<f64>().unwrap_or(0.0) * 1000.0;
                match slot {
                    0 => figures.p50_ms = ms,
                    1 => figures.p95_ms = ms,
                    _ => figures.p99_ms = ms,
                }
            }
        }
        if let Some(rest) = line.strip_prefix('[')
            && let Some((code, count)) = rest.split_once(']')
        {
            let count: u64 = count.trim().trim_end_matches(" responses").trim().parse().unwrap_or(0);
            figures.requests += count;
            if code != "200" {
                figures.errors += count;
            }
        }
        if line.starts_with("Error distribution") {
            figures.errors += 1;
        }
    }
    Ok(figures)
}

/// Peak resident memory (VmHWM) of a process, in MB.
fn peak_rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
