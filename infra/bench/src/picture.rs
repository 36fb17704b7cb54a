//! `ggzhub-bench picture`: the national picture (issue 14 item 7). The whole national picture in
//! one request through the gateway — every national aggregate, every region with every regional
//! aggregate (region, national-table and contracting subgraphs) and the national table's picture —
//! and a 24-month national trend, against the three real subgraphs on PostgreSQL at the hub
//! scenario's volume (31 regions × 40 providers × 30 offers, 24 months of history), one request
//! at a time. Prints the latency beside the targets (p95 ≤ 150 ms and ≤ 200 ms) and the SQL
//! statements per request per subgraph at two data volumes; asserts nothing.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::{Value, json};

use crate::hub::{self, DataArgs, SERVICES, Setup, Snapshot, percentile};

/// Everything the national picture offers, in one request: the national aggregates, every
/// region with its own figures (region subgraph), escalation counts (national table) and next
/// year's contracting (contracting), and the national table's picture.
const PICTURE_QUERY: &str = r#"query NationalPicture($from: String!, $to: String!) {
  nationalPicture {
    asOf
    offerCounts { category status count }
    capacity { category beds places teams fte }
    activeIntakePauses { category count }
    signalCounts { open acknowledged escalated resolved overdue }
    waitingTimes { diagnosisGroup month reports overTreeknorm shareOverTreeknorm medianWeeks p90Weeks }
    waitingTimeTrend(from: $from, to: $to) { period reports overTreeknorm shareOverTreeknorm medianWeeks p90Weeks }
    offerTrend(from: $from, to: $to, interval: QUARTER) { period status count }
    regions {
      code name kind
      tile { row column }
      missingCategories
      offerCounts { category status count }
      capacity { category beds places teams fte }
      activeIntakePauses { category count }
      signalCounts { open acknowledged escalated resolved overdue }
      waitingTimeFigures { diagnosisGroup month reports overTreeknorm shareOverTreeknorm medianWeeks p90Weeks }
      offerTrend(from: $from, to: $to, interval: QUARTER) { period status count }
      escalationCounts { region category status count }
      contractedNextYear { category band offersContracted year }
    }
  }
  nationalTablePicture {
    escalationCounts { region category status count }
    overdueMeasures
    measuresOverdue { id }
    kpiProgress { kpi { code } year target value onTrack regionsMeasured }
  }
}"#;

/// The 24-month national trend: offers per status and waiting times, per month.
const TREND_QUERY: &str = r#"query NationalTrend($from: String!, $to: String!) {
  nationalPicture {
    offerTrend(from: $from, to: $to, interval: MONTH) { period status count }
    waitingTimeTrend(from: $from, to: $to, interval: MONTH) { period reports overTreeknorm shareOverTreeknorm medianWeeks p90Weeks }
  }
}"#;

/// Options of `ggzhub-bench picture`.
#[derive(clap::Args)]
pub struct PictureArgs {
    /// Measured requests of each query (one at a time).
    #[arg(long, default_value_t = 200)]
    requests: usize,
    /// Unmeasured requests of each query before them.
    #[arg(long, default_value_t = 20)]
    warmup: usize,
    /// Providers per region of the smaller data set whose statements per request are compared
    /// (its databases are `<prefix>_small_*`); 0 leaves the comparison out.
    #[arg(long, default_value_t = 4)]
    small_providers: usize,
    /// Care offers per provider of the smaller data set.
    #[arg(long, default_value_t = 6)]
    small_offers: usize,
    /// Requests of each query at the smaller volume (one at a time).
    #[arg(long, default_value_t = 20)]
    small_requests: usize,
    /// Print the SQL statements (and their time, slowest first) of one national-picture request
    /// and one trend request.
    #[arg(long)]
    show_sql: bool,
    #[command(flatten)]
    data: DataArgs,
}

/// Targets of issue 14 item 7 (p95, one request at a time).
const PICTURE_TARGET_MS: f64 = 150.0;
const TREND_TARGET_MS: f64 = 200.0;

/// What the requests of one query cost.
struct Measured {
    latencies_ms: Vec<f64>,
    per_request: Vec<Snapshot>,
    bytes: u64,
    /// CPU seconds of this process and of the machine's `postgres` processes over the measured
    /// requests.
    cpu: [f64; 2],
}

/// Runs the scenario and prints its figures.
pub async fn run(args: PictureArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.requests > 0, "--requests must be positive");
    let ttl = Duration::from_secs(6 * 3600);
    let data_dir = args.data.work_dir.join("data");
    anyhow::ensure!(
        args.data.gateway_threads.is_none(),
        "--gateway-threads is for `ggzhub-bench hub`; `picture` serves the gateway on its shared runtime"
    );
    let main =
        hub::setup(&args.data, &args.data.db_prefix, &data_dir, args.data.volume(), ttl, hub::GatewayServing::CURRENT)
            .await?;
    let vars = trend_range(main.today);
    println!(
        "trend range: {} to {} (24 months; the whole picture's trends by quarter, the trend query's by month)",
        vars["from"].as_str().unwrap_or(""),
        vars["to"].as_str().unwrap_or("")
    );

    let picture = body(PICTURE_QUERY, "NationalPicture", &vars);
    let trend = body(TREND_QUERY, "NationalTrend", &vars);
    let sample = main.client.graphql(&picture).await?;
    let summary = check_picture(&sample, &main).with_context(|| format!("checking the national picture: {sample}"))?;
    println!("sample national picture: {summary}");
    let sample = main.client.graphql(&trend).await?;
    let summary = check_trend(&sample).with_context(|| format!("checking the national trend: {sample}"))?;
    println!("sample national trend: {summary}");

    println!(
        "\none request at a time: {} warm-up requests, then {} measured, of each query (load average before: {})",
        args.warmup,
        args.requests,
        hub::load_average()
    );
    let big_picture = measure(&main, &picture, args.warmup, args.requests, Check::Picture).await?;
    let big_trend = measure(&main, &trend, args.warmup, args.requests, Check::Trend).await?;
    print_latency("national picture (everything, 31 regions)", &big_picture, PICTURE_TARGET_MS);
    print_latency("24-month national trend (offers + waiting times)", &big_trend, TREND_TARGET_MS);

    if args.show_sql {
        show_sql(&main, &picture, "national picture").await?;
        show_sql(&main, &trend, "24-month national trend").await?;
    }

    let mut rows = vec![(format!("{} offers", main.generated.offers), big_picture, big_trend)];
    if args.small_providers > 0 {
        let small = DataArgs { providers: args.small_providers, offers: args.small_offers, ..args.data.clone() };
        let prefix = format!("{}_small", args.data.db_prefix);
        println!("\nsmaller data set, for the statement counts:");
        let setup = hub::setup(
            &small,
            &prefix,
            &args.data.work_dir.join("data-small"),
            small.volume(),
            ttl,
            hub::GatewayServing::CURRENT,
        )
        .await?;
        let vars = trend_range(setup.today);
        let picture = body(PICTURE_QUERY, "NationalPicture", &vars);
        let trend = body(TREND_QUERY, "NationalTrend", &vars);
        let p = measure(&setup, &picture, 2, args.small_requests, Check::Picture).await?;
        let t = measure(&setup, &trend, 2, args.small_requests, Check::Trend).await?;
        print_latency("national picture, smaller data set", &p, PICTURE_TARGET_MS);
        print_latency("24-month national trend, smaller data set", &t, TREND_TARGET_MS);
        rows.push((format!("{} offers", setup.generated.offers), p, t));
    }

    println!("\nSQL statements per request (mean, and min–max when they differ), by data volume:");
    println!(
        "  {:<34} {:>14} {:>14} {:>16} {:>14} {:>8} {:>24}",
        "query", "volume", SERVICES[0], SERVICES[1], SERVICES[2], "total", "subgraph requests"
    );
    for (volume, p, t) in &rows {
        for (name, m) in [("national picture", p), ("24-month national trend", t)] {
            println!(
                "  {:<34} {:>14} {:>14} {:>16} {:>14} {:>8} {:>24}",
                name,
                volume,
                cell(&m.per_request, |s| s.statements[0]),
                cell(&m.per_request, |s| s.statements[1]),
                cell(&m.per_request, |s| s.statements[2]),
                cell(&m.per_request, |s| s.statements.iter().sum()),
                format!(
                    "{} + {} + {}",
                    cell(&m.per_request, |s| s.requests[0]),
                    cell(&m.per_request, |s| s.requests[1]),
                    cell(&m.per_request, |s| s.requests[2])
                ),
            );
        }
    }
    println!("  (subgraph requests: region + national-table + contracting)");
    Ok(())
}

/// The 24 months ending in the month of `today`.
fn trend_range(today: chrono::NaiveDate) -> Value {
    let from = ggzhub_region::seed_history::months_back(today, 23);
    json!({ "from": from.format("%Y-%m").to_string(), "to": today.format("%Y-%m").to_string() })
}

fn body(query: &str, operation: &str, variables: &Value) -> Value {
    json!({ "query": query, "operationName": operation, "variables": variables })
}

#[derive(Clone, Copy)]
enum Check {
    Picture,
    Trend,
}

/// Sends `body` `warmup` times unmeasured, then `n` times measured, one at a time; checks every
/// answer and fails on the first wrong one.
async fn measure(setup: &Setup, body: &Value, warmup: usize, n: usize, check: Check) -> anyhow::Result<Measured> {
    let verify = |answer: &Value| match check {
        Check::Picture => check_picture(answer, setup).map(drop),
        Check::Trend => check_trend(answer).map(drop),
    };
    for i in 0..warmup {
        let answer = setup.client.graphql(body).await.with_context(|| format!("warm-up request {i}"))?;
        verify(&answer).with_context(|| format!("warm-up answer {i}"))?;
    }
    let mut m =
        Measured { latencies_ms: Vec::with_capacity(n), per_request: Vec::with_capacity(n), bytes: 0, cpu: [0.0; 2] };
    let cpu_before = hub::cpu_seconds();
    for i in 0..n {
        let before = setup.counters.snapshot();
        let started = Instant::now();
        let answer = setup.client.graphql(body).await.with_context(|| format!("request {i}"))?;
        m.latencies_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        m.per_request.push(setup.counters.snapshot() - before);
        verify(&answer).with_context(|| format!("answer {i}"))?;
        m.bytes = answer["_bytes"].as_u64().unwrap_or(0);
    }
    let cpu_after = hub::cpu_seconds();
    m.cpu = [cpu_after[0] - cpu_before[0], cpu_after[1] - cpu_before[1]];
    Ok(m)
}

fn print_latency(name: &str, m: &Measured, target_ms: f64) {
    let p95 = percentile(&m.latencies_ms, 95.0);
    println!(
        "\n{name}: {} requests, {} bytes per answer\n  latency p50 {:.1} ms, p95 {p95:.1} ms (target ≤ {target_ms:.0} ms: {}), p99 {:.1} ms, max {:.1} ms",
        m.latencies_ms.len(),
        m.bytes,
        percentile(&m.latencies_ms, 50.0),
        if p95 <= target_ms { "met" } else { "NOT met" },
        percentile(&m.latencies_ms, 99.0),
        percentile(&m.latencies_ms, 100.0),
    );
    let n = m.per_request.len().max(1) as f64;
    let sql_ms = |i: usize| m.per_request.iter().map(|s| s.sql_micros[i]).sum::<u64>() as f64 / n / 1000.0;
    println!(
        "  per request: SQL statements {} {}, {} {}, {} {}; SQL time {:.1} + {:.1} + {:.1} ms; subgraph requests {} + {} + {}",
        SERVICES[0],
        cell(&m.per_request, |s| s.statements[0]),
        SERVICES[1],
        cell(&m.per_request, |s| s.statements[1]),
        SERVICES[2],
        cell(&m.per_request, |s| s.statements[2]),
        sql_ms(0),
        sql_ms(1),
        sql_ms(2),
        cell(&m.per_request, |s| s.requests[0]),
        cell(&m.per_request, |s| s.requests[1]),
        cell(&m.per_request, |s| s.requests[2]),
    );
    println!(
        "  CPU per request: this process (gateway, subgraphs, client) {:.1} ms, PostgreSQL {:.1} ms (machine: {} cores, shared)",
        m.cpu[0] * 1000.0 / n,
        m.cpu[1] * 1000.0 / n,
        hub::cores()
    );
}

/// Mean of a per-request figure, with its range when it varies.
fn cell(per_request: &[Snapshot], pick: impl Fn(&Snapshot) -> u64) -> String {
    let values: Vec<u64> = per_request.iter().map(pick).collect();
    let (min, max) = (values.iter().min().copied().unwrap_or(0), values.iter().max().copied().unwrap_or(0));
    let mean = values.iter().sum::<u64>() as f64 / values.len().max(1) as f64;
    if min == max { format!("{min}") } else { format!("{mean:.1} ({min}–{max})") }
}

/// Lists the statements of one request, slowest first.
async fn show_sql(setup: &Setup, body: &Value, name: &str) -> anyhow::Result<()> {
    if let Ok(mut guard) = setup.counters.captured.lock() {
        *guard = Some(Vec::new());
    }
    setup.client.graphql(body).await?;
    let mut captured = setup.counters.captured.lock().ok().and_then(|mut g| g.take()).unwrap_or_default();
    captured.sort_by_key(|c| std::cmp::Reverse(c.1));
    println!("\nSQL of one {name} request, slowest first:");
    for (i, took, sql) in captured {
        let sql: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
        let shown: String = sql.chars().take(160).collect();
        let more = if sql.chars().count() > 160 { "…" } else { "" };
        println!("  {:<15} {:>7.2} ms  {shown}{more}", SERVICES[i], took.as_secs_f64() * 1000.0);
    }
    Ok(())
}

fn non_empty<'a>(v: &'a Value, what: &str) -> anyhow::Result<&'a Vec<Value>> {
    let list = v.as_array().with_context(|| format!("{what}: not a list"))?;
    anyhow::ensure!(!list.is_empty(), "{what}: empty");
    Ok(list)
}

fn sum_counts(list: &[Value]) -> i64 {
    list.iter().map(|c| c["count"].as_i64().unwrap_or(0)).sum()
}

fn signals_total(v: &Value) -> i64 {
    ["open", "acknowledged", "escalated", "resolved"].iter().map(|k| v[k].as_i64().unwrap_or(0)).sum()
}

/// Checks the whole picture: every national aggregate present and non-empty, every region
/// there with its own figures, the national table's picture.
fn check_picture(answer: &Value, setup: &Setup) -> anyhow::Result<String> {
    let g = &setup.generated;
    let p = &answer["data"]["nationalPicture"];
    anyhow::ensure!(p["asOf"].is_string(), "no asOf");
    let offers = sum_counts(non_empty(&p["offerCounts"], "offerCounts")?);
    anyhow::ensure!(offers as usize == g.offers, "offerCounts count {offers} offers, {} were loaded", g.offers);
    non_empty(&p["capacity"], "capacity")?;
    non_empty(&p["activeIntakePauses"], "activeIntakePauses")?;
    let signals = signals_total(&p["signalCounts"]);
    anyhow::ensure!(signals as usize == g.signals, "signalCounts count {signals} signals, {} were loaded", g.signals);
    non_empty(&p["waitingTimes"], "waitingTimes")?;
    let waiting = non_empty(&p["waitingTimeTrend"], "waitingTimeTrend")?.len();
    let trend = non_empty(&p["offerTrend"], "offerTrend")?.len();
    let regions = p["regions"].as_array().context("no regions")?;
    anyhow::ensure!(
        regions.len() == g.region_codes.len(),
        "{} regions in the answer, {} loaded",
        regions.len(),
        g.region_codes.len()
    );
    let (mut escalations, mut contracted) = (0, 0);
    for r in regions {
        let code = r["code"].as_str().context("a region without code")?;
        anyhow::ensure!(g.region_codes.iter().any(|c| c == code), "unknown region {code}");
        anyhow::ensure!(r["missingCategories"].is_array(), "{code}: no missingCategories");
        non_empty(&r["offerCounts"], &format!("{code}: offerCounts"))?;
        non_empty(&r["capacity"], &format!("{code}: capacity"))?;
        anyhow::ensure!(r["activeIntakePauses"].is_array(), "{code}: no activeIntakePauses");
        anyhow::ensure!(r["signalCounts"].is_object(), "{code}: no signalCounts");
        non_empty(&r["waitingTimeFigures"], &format!("{code}: waitingTimeFigures"))?;
        non_empty(&r["offerTrend"], &format!("{code}: offerTrend"))?;
        escalations += sum_counts(non_empty(&r["escalationCounts"], &format!("{code}: escalationCounts"))?);
        contracted +=
            r["contractedNextYear"].as_array().with_context(|| format!("{code}: no contractedNextYear"))?.len();
    }
    let t = &answer["data"]["nationalTablePicture"];
    let national_escalations = sum_counts(non_empty(&t["escalationCounts"], "nationalTablePicture.escalationCounts")?);
    anyhow::ensure!(
        national_escalations as usize == g.escalations && escalations as usize == g.escalations,
        "escalations counted {national_escalations} nationally and {escalations} over the regions, {} loaded",
        g.escalations
    );
    anyhow::ensure!(t["overdueMeasures"].is_i64(), "no overdueMeasures");
    anyhow::ensure!(t["measuresOverdue"].is_array(), "no measuresOverdue");
    let kpis = non_empty(&t["kpiProgress"], "kpiProgress")?.len();
    Ok(format!(
        "{offers} offers, {signals} signals, {waiting} waiting-time periods, {trend} offer-trend points, {} regions ({escalations} escalations, {contracted} contracting rows), {kpis} KPI progress rows, {} overdue measures, {} bytes",
        regions.len(),
        t["overdueMeasures"],
        answer["_bytes"]
    ))
}

/// Checks the trend: 24 months of waiting times and offer counts.
fn check_trend(answer: &Value) -> anyhow::Result<String> {
    let p = &answer["data"]["nationalPicture"];
    let waiting = non_empty(&p["waitingTimeTrend"], "waitingTimeTrend")?;
    anyhow::ensure!(waiting.len() == 24, "waitingTimeTrend has {} months, not 24", waiting.len());
    let offers = non_empty(&p["offerTrend"], "offerTrend")?;
    let mut periods: Vec<&str> = offers.iter().filter_map(|o| o["period"].as_str()).collect();
    periods.dedup();
    anyhow::ensure!(periods.len() == 24, "offerTrend has {} months, not 24", periods.len());
    let reports: i64 = waiting.iter().map(|w| w["reports"].as_i64().unwrap_or(0)).sum();
    Ok(format!(
        "{} waiting-time months ({reports} reports), {} offer-trend points over {} months, {} bytes",
        waiting.len(),
        offers.len(),
        periods.len(),
        answer["_bytes"]
    ))
}
