//! The early-warning load: continuity signals raised through the gateway at a fixed rate,
//! delivered to many subscribers over SSE and WebSocket by two gateway replicas that read the
//! events from NATS JetStream; one replica is killed halfway and its clients resume on the other.
//!
//! Everything runs in this process on PostgreSQL with the demo data: the three subgraphs (region
//! and national-table with their outboxes and relays), a NATS server of the bench's own (or
//! `--nats-url`), and two gateway replicas, each on a runtime (and NATS connection) of its own,
//! so killing one (dropping its runtime) closes its connections as a dead process would.
//!
//! Measured: delivery latency from the commit (the event's `occurredAt`, written in the
//! transaction of the change) to the subscriber, events lost (an organisation allowed to read
//! a signal, subscribed to its region, that never received it), deliveries to organisations not
//! allowed (checked against the databases: the signal's provider, the region's coordinating
//! insurer, insurers with an agreed contract covering the offer this year), duplicates, and the
//! process's resident memory per 1,000 subscribers.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures_util::{SinkExt as _, StreamExt as _};
use ggzhub_kit::db::{DbConfig, connect};
use ggzhub_kit::events::EventBus;
use ggzhub_kit::refs::RefChecker;
use ggzhub_kit::server::HttpLimits;
use ggzhub_kit::token::{OrgTokenRequest, default_scopes};
use ggzhub_kit::{OrgKind, SigningKey};
use sea_orm::{ConnectionTrait as _, DatabaseConnection, DbBackend, Statement};
use sea_orm_migration::MigratorTrait as _;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite;

const ISSUER: &str = "https://idp.events-bench.ggzhub.invalid";
const SUBSCRIPTION: &str =
    "subscription($region: ID) { signalEvents(region: $region) { kind occurredAt signal { id regionCode } } }";
const RAISE: &str = r#"mutation($offer: ID!) { raiseContinuitySignal(input: { offerId: $offer, kind: STAFFING, severity: MEDIUM, description: "Bench: bezetting onder druk" }) { id } }"#;

#[derive(clap::Args)]
pub struct EventsArgs {
    /// PostgreSQL server (a database per subgraph is created on it).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
    pub pg_url: String,
    /// Prefix of the bench's databases (dropped and created again).
    #[arg(long, default_value = "ggzhub_ev")]
    pub db_prefix: String,
    /// NATS with JetStream; without it the bench starts a server of its own (`nats-server`).
    #[arg(long)]
    pub nats_url: Option<String>,
    /// Subscribers, spread over the organisations that read continuity signals, half over SSE
    /// and half over WebSocket, half on each replica.
    #[arg(long, default_value_t = 1000)]
    pub subscribers: usize,
    /// Signals raised per second.
    #[arg(long, default_value_t = 50)]
    pub rate: u32,
    /// Seconds of raising.
    #[arg(long, default_value_t = 30)]
    pub duration: u64,
    /// Kill the first replica after this many seconds (0: never).
    #[arg(long, default_value_t = 15)]
    pub kill_after: u64,
}

/// An organisation of the demo data.
#[derive(Clone, Debug)]
struct Org {
    id: String,
    kind: OrgKind,
    regions: Vec<String>,
}

/// One delivery for the breakdown: seconds since the first commit, over WebSocket, the replica
/// its subscriber started on, latency in ms.
type Sample = (f64, bool, usize, f64);

/// What one subscriber received: (signal id, kind) → arrival latency in ms.
#[derive(Default)]
struct Received {
    events: Vec<(String, String, f64)>,
    /// When each of `events` was committed (its `occurredAt`), for the breakdown by time.
    occurred: Vec<chrono::DateTime<chrono::Utc>>,
    /// Event ids received, to count duplicates.
    ids: Vec<u64>,
    reconnects: usize,
}

struct Subscriber {
    org: Org,
    region: Option<String>,
    received: Mutex<Received>,
    /// Over WebSocket (else SSE), and which replica it starts on: for the breakdown.
    websocket: bool,
    first: usize,
}

/// A gateway replica on a runtime of its own; dropping the runtime kills it.
struct Replica {
    url: String,
    runtime: Option<tokio::runtime::Runtime>,
}

pub async fn run(args: EventsArgs) -> anyhow::Result<()> {
    // NATS.
    let own_nats = match &args.nats_url {
        Some(_) => None,
        None => Some(ggzhub_kit::events::testing::NatsServer::start().await),
    };
    let nats_url = args.nats_url.clone().unwrap_or_else(|| own_nats.as_ref().map(|n| n.url()).unwrap_or_default());

    // Databases with the demo data.
    let urls = crate::hub::prepare_databases(&args.pg_url, &args.db_prefix, true).await?;
    let mut dbs = Vec::new();
    for url in &urls {
        let mut cfg = DbConfig::new(url.clone());
        cfg.max_connections = 10;
        dbs.push(connect(&cfg).await?);
    }
    let [region_db, national_db, contracting_db]: [DatabaseConnection; 3] =
        dbs.try_into().map_err(|_| anyhow::anyhow!("three databases"))?;
    ggzhub_region::migration::Migrator::up(&region_db, None).await.context("region migrations")?;
    ggzhub_national_table::migration::Migrator::up(&national_db, None).await?;
    ggzhub_contracting::migration::Migrator::up(&contracting_db, None).await?;
    ggzhub_region::seed::seed(&region_db, &ggzhub_region::seed::Source::Demo).await?;
    ggzhub_national_table::seed::seed(&national_db, &ggzhub_national_table::seed::Source::Demo).await?;
    ggzhub_contracting::seed::seed(&contracting_db, &ggzhub_contracting::seed::Source::Demo).await?;
    let orgs = organisations(&region_db).await?;
    let offers = offers(&region_db).await?;
    let coordinating = coordinating_insurers(&region_db).await?;
    let contracted = contracted_offers(&contracting_db).await?;

    // Subgraphs in this process, their outboxes relayed to NATS.
    let subgraph_bus: Arc<dyn EventBus> = ggzhub_kit::events::NatsBus::connect(&nats_url).await?;
    let key = SigningKey::generate();
    let issuer_key = SigningKey::generate();
    let requests: [Arc<AtomicU64>; 3] = Default::default();
    let subgraph_urls =
        start_subgraphs(&key, region_db.clone(), national_db, contracting_db, subgraph_bus, &requests).await?;
    let supergraph = compose(&subgraph_urls)?;

    // Two replicas.
    let mut replicas = Vec::new();
    for _ in 0..2 {
        replicas.push(start_replica(&supergraph, &subgraph_urls, &key, &issuer_key, &orgs, &nats_url).await?);
    }
    let tokens: HashMap<String, String> = orgs.iter().map(|o| (o.id.clone(), token(&issuer_key, o))).collect();

    // Subscribers: organisations that read continuity signals.
    let readers: Vec<&Org> = orgs
        .iter()
        .filter(|o| matches!(o.kind, OrgKind::Provider | OrgKind::Insurer | OrgKind::NationalTable))
        .collect();
    anyhow::ensure!(!readers.is_empty(), "no organisations that read signals");
    let rss_before = rss_mb();
    let ready = Arc::new(AtomicUsize::new(0));
    let mut subscribers = Vec::new();
    let urls: Vec<String> = replicas.iter().map(|r| r.url.clone()).collect();
    for i in 0..args.subscribers {
        let org = readers[i % readers.len()].clone();
        // Every other subscriber of an organisation follows one of its regions; the rest all.
        let region = if (i / readers.len()).is_multiple_of(2) || org.regions.is_empty() {
            None
        } else {
            Some(org.regions[(i / readers.len() / 2) % org.regions.len()].clone())
        };
        let websocket = i % 2 == 1;
        let first = (i / 2) % 2;
        let subscriber = Arc::new(Subscriber { org, region, received: Mutex::default(), websocket, first });
        subscribers.push(subscriber.clone());
        let token = tokens[&subscriber.org.id].clone();
        let (urls, ready) = (urls.clone(), ready.clone());
        tokio::spawn(async move { subscribe(subscriber, token, urls, first, websocket, ready).await });
    }
    let started = Instant::now();
    while ready.load(Ordering::Relaxed) < args.subscribers {
        anyhow::ensure!(started.elapsed() < Duration::from_secs(120), "subscribers not ready after 120 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rss_after = rss_mb();
    println!(
        "events: {} subscribers ready in {:.1} s ({} organisations; SSE and WebSocket, two replicas); process RSS {:.0} → {:.0} MB",
        args.subscribers,
        started.elapsed().as_secs_f64(),
        readers.len(),
        rss_before,
        rss_after
    );

    // Raise signals at the rate, as the offers' providers; kill a replica halfway.
    let requests_before = requests.each_ref().map(|c| c.load(Ordering::Relaxed));
    let http = reqwest::Client::new();
    let mut raised: Vec<(String, String)> = Vec::new(); // (signal id, offer id)
    let total = args.rate as u64 * args.duration;
    let interval = Duration::from_secs_f64(1.0 / f64::from(args.rate.max(1)));
    let mut ticker = tokio::time::interval(interval);
    let run_started = Instant::now();
    let mut killed = false;
    let mut pending = Vec::new();
    for n in 0..total {
        ticker.tick().await;
        if !killed && args.kill_after > 0 && run_started.elapsed() >= Duration::from_secs(args.kill_after) {
            if let Some(runtime) = replicas[0].runtime.take() {
                runtime.shutdown_background();
            }
            killed = true;
            println!("events: replica 1 killed after {:.1} s", run_started.elapsed().as_secs_f64());
        }
        let (offer, provider) = &offers[usize::try_from(n).unwrap_or(0) % offers.len()];
        let request = http
            .post(&replicas[1].url)
            .bearer_auth(&tokens[provider])
            .json(&json!({ "query": RAISE, "variables": { "offer": offer } }));
        let offer = offer.clone();
        pending.push(tokio::spawn(async move {
            let answer: Value = request.send().await.ok()?.json().await.ok()?;
            Some((answer["data"]["raiseContinuitySignal"]["id"].as_str()?.to_owned(), offer))
        }));
    }
    for p in pending {
        if let Ok(Some(done)) = p.await {
            raised.push(done);
        }
    }
    let raise_secs = run_started.elapsed().as_secs_f64();
    // Let the last events arrive.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let served: [u64; 3] = std::array::from_fn(|i| requests[i].load(Ordering::Relaxed) - requests_before[i]);

    // Who should have received what.
    let offer_region: HashMap<String, (String, String)> =
        offers_full(&offers, &region_db).await?.into_iter().map(|(o, r, p)| (o, (r, p))).collect();
    let raised_ids: HashMap<&str, &str> = raised.iter().map(|(s, o)| (s.as_str(), o.as_str())).collect();
    let (mut expected, mut delivered, mut lost, mut unauthorized, mut duplicates, mut reconnects) = (0, 0, 0, 0, 0, 0);
    let mut latencies = Vec::new();
    // (seconds since the first commit, SSE or WebSocket, first replica) → latencies.
    let mut breakdown: Vec<Sample> = Vec::new();
    // The run's first commit: of the signals raised in it (a subscriber also receives older events,
    // such as the overdue events of the demo's signals, dated at their deadline days ago).
    let first_commit = subscribers
        .iter()
        .filter_map(|s| {
            let r = s.received.lock().ok()?;
            r.events
                .iter()
                .zip(&r.occurred)
                .filter(|((id, kind, _), _)| kind == "RAISED" && raised_ids.contains_key(id.as_str()))
                .map(|(_, at)| *at)
                .min()
        })
        .min();
    for s in &subscribers {
        let received = s.received.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
        reconnects += received.reconnects;
        let unique: HashSet<u64> = received.ids.iter().copied().collect();
        duplicates += received.ids.len() - unique.len();
        let got: HashSet<&str> =
            received.events.iter().filter(|(_, kind, _)| kind == "RAISED").map(|(id, _, _)| id.as_str()).collect();
        for (n, (id, kind, latency)) in received.events.iter().enumerate() {
            if kind != "RAISED" || !raised_ids.contains_key(id.as_str()) {
                continue;
            }
            delivered += 1;
            latencies.push(*latency);
            if let (Some(at), Some(start)) = (received.occurred.get(n), first_commit) {
                let secs = (*at - start).num_milliseconds() as f64 / 1000.0;
                breakdown.push((secs, s.websocket, s.first, *latency));
            }
            let offer = raised_ids[id.as_str()];
            if !allowed(&s.org, offer, &offer_region, &coordinating, &contracted) {
                unauthorized += 1;
            }
        }
        for (id, offer) in &raised_ids {
            let Some((region, _)) = offer_region.get(*offer) else { continue };
            let in_scope = s.region.as_deref().is_none_or(|r| r == region);
            if in_scope && allowed(&s.org, offer, &offer_region, &coordinating, &contracted) {
                expected += 1;
                if !got.contains(id) {
                    lost += 1;
                }
            }
        }
    }
    latencies.sort_by(f64::total_cmp);
    // What one event costs the subgraphs (deterministic, unlike the latency): every request they
    // served from the first raise until the last event had 5 s to arrive, per signal raised —
    // the raise itself (one region request and what it asks), each replica's executions of the
    // subscription for the subscribers in the event's audience, and contracting's answers to the
    // region subgraph (one per insurer execution that is no coordinating insurer's, one per raise
    // for the audience).
    let per_event = |n: u64| n as f64 / raised.len().max(1) as f64;
    println!(
        "events: region requests per event {:.2}, contracting requests per event {:.2}, national-table requests per event {:.2} ({} + {} + {} over {} signals; one region request per event is the raise itself)",
        per_event(served[0]),
        per_event(served[2]),
        per_event(served[1]),
        served[0],
        served[2],
        served[1],
        raised.len()
    );
    println!(
        "events: {} signals raised in {:.1} s ({:.1}/s; {} asked); {} deliveries expected, {} delivered",
        raised.len(),
        raise_secs,
        raised.len() as f64 / raise_secs,
        total,
        expected,
        delivered
    );
    println!(
        "events: delivery latency from commit p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms (goal p95 <= 100 ms)",
        crate::hub::percentile(&latencies, 50.0),
        crate::hub::percentile(&latencies, 95.0),
        crate::hub::percentile(&latencies, 99.0),
        latencies.last().copied().unwrap_or(0.0)
    );
    // Where the latency comes from: by 5-second window of the commit, by transport and by the
    // replica a subscriber started on.
    let p95_of = |pick: &dyn Fn(&Sample) -> bool| {
        let mut l: Vec<f64> = breakdown.iter().filter(|b| pick(b)).map(|b| b.3).collect();
        l.sort_by(f64::total_cmp);
        (l.len(), crate::hub::percentile(&l, 95.0))
    };
    let windows: Vec<String> = (0..7)
        .map(|w| {
            let (n, p95) = p95_of(&|b| b.0 >= f64::from(w) * 5.0 && b.0 < f64::from(w + 1) * 5.0);
            format!("{}-{} s: {p95:.0} ms ({n})", w * 5, (w + 1) * 5)
        })
        .collect();
    println!("events: p95 by commit time: {}", windows.join(", "));
    let (sse_n, sse) = p95_of(&|b| !b.1);
    let (ws_n, ws) = p95_of(&|b| b.1);
    let (r0_n, r0) = p95_of(&|b| b.2 == 0);
    let (r1_n, r1) = p95_of(&|b| b.2 == 1);
    println!(
        "events: p95 over SSE {sse:.1} ms ({sse_n}), over WebSocket {ws:.1} ms ({ws_n}); started on replica 0 {r0:.1} ms ({r0_n}), on replica 1 {r1:.1} ms ({r1_n})"
    );
    println!(
        "events: lost {lost} (goal 0), delivered to an organisation not allowed {unauthorized} (goal 0), duplicates {duplicates}, reconnects after the kill {reconnects}"
    );
    println!(
        "events: process RSS per 1,000 subscribers {:.0} MB (subscribers' clients included: an upper bound for the gateways)",
        (rss_after - rss_before) * 1000.0 / args.subscribers as f64
    );
    drop(replicas);
    Ok(())
}

/// Whether `org` may read a signal on `offer` (DOMAIN.md's access matrix, from the databases).
fn allowed(
    org: &Org,
    offer: &str,
    offer_region: &HashMap<String, (String, String)>,
    coordinating: &HashMap<String, String>,
    contracted: &HashSet<(String, String)>,
) -> bool {
    let Some((region, provider)) = offer_region.get(offer) else { return false };
    match org.kind {
        OrgKind::Provider => org.id == *provider,
        OrgKind::Insurer => {
            coordinating.get(region).is_some_and(|c| *c == org.id)
                || contracted.contains(&(org.id.clone(), offer.to_owned()))
        }
        _ => false,
    }
}

async fn subscribe(
    subscriber: Arc<Subscriber>,
    token: String,
    urls: Vec<String>,
    first: usize,
    websocket: bool,
    ready: Arc<AtomicUsize>,
) {
    let mut last: Option<u64> = None;
    let mut announced = false;
    for attempt in 0..10 {
        let url = &urls[(first + attempt) % urls.len()];
        if attempt > 0
            && let Ok(mut r) = subscriber.received.lock()
        {
            r.reconnects += 1;
        }
        let result = if websocket {
            over_websocket(&subscriber, &token, url, &mut last, &ready, &mut announced).await
        } else {
            over_sse(&subscriber, &token, url, &mut last, &ready, &mut announced).await
        };
        if result.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn variables(subscriber: &Subscriber) -> Value {
    json!({ "region": subscriber.region })
}

/// Records one answer: its event id, and for a signal event its latency from `occurredAt`.
fn record(subscriber: &Subscriber, payload: &Value, last: &mut Option<u64>) {
    let id = payload["extensions"]["eventId"].as_str().and_then(|v| v.parse::<u64>().ok());
    let event = &payload["data"]["signalEvents"];
    let occurred = event["occurredAt"].as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
    if let (Some(id), Some(occurred)) = (id, occurred) {
        let latency =
            (chrono::Utc::now() - occurred.with_timezone(&chrono::Utc)).num_microseconds().unwrap_or(0) as f64 / 1000.0;
        if let Ok(mut r) = subscriber.received.lock() {
            r.ids.push(id);
            r.occurred.push(occurred.with_timezone(&chrono::Utc));
            r.events.push((
                event["signal"]["id"].as_str().unwrap_or_default().to_owned(),
                event["kind"].as_str().unwrap_or_default().to_owned(),
                latency,
            ));
        }
        *last = Some(id);
    }
}

async fn over_sse(
    subscriber: &Subscriber,
    token: &str,
    url: &str,
    last: &mut Option<u64>,
    ready: &AtomicUsize,
    announced: &mut bool,
) -> anyhow::Result<()> {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("accept", "text/event-stream")
        .bearer_auth(token)
        .json(&json!({ "query": SUBSCRIPTION, "variables": variables(subscriber) }));
    if let Some(id) = last {
        request = request.header("last-event-id", id.to_string());
    }
    let mut response = request.send().await?;
    anyhow::ensure!(response.status() == 200, "SSE refused: {}", response.status());
    let mut buffer = String::new();
    loop {
        let Some(chunk) = response.chunk().await? else { anyhow::bail!("the stream ended") };
        if !*announced {
            *announced = true;
            ready.fetch_add(1, Ordering::Relaxed);
        }
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            if let Some(data) = block.lines().find_map(|l| l.strip_prefix("data: "))
                && let Ok(payload) = serde_json::from_str::<Value>(data)
            {
                record(subscriber, &payload, last);
            }
            if block.contains("event: complete") {
                anyhow::bail!("completed");
            }
        }
    }
}

async fn over_websocket(
    subscriber: &Subscriber,
    token: &str,
    url: &str,
    last: &mut Option<u64>,
    ready: &AtomicUsize,
    announced: &mut bool,
) -> anyhow::Result<()> {
    let mut request = tungstenite::client::IntoClientRequest::into_client_request(url.replace("http://", "ws://"))?;
    request.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } });
    socket.send(tungstenite::Message::text(init.to_string())).await?;
    let mut extensions = BTreeMap::new();
    if let Some(id) = last {
        extensions.insert("lastEventId", id.to_string());
    }
    loop {
        let Some(message) = socket.next().await else { anyhow::bail!("closed") };
        let tungstenite::Message::Text(text) = message? else { continue };
        let message: Value = serde_json::from_str(&text)?;
        match message["type"].as_str() {
            Some("connection_ack") => {
                let subscribe = json!({ "id": "1", "type": "subscribe", "payload": {
                    "query": SUBSCRIPTION, "variables": variables(subscriber), "extensions": extensions } });
                socket.send(tungstenite::Message::text(subscribe.to_string())).await?;
                if !*announced {
                    *announced = true;
                    ready.fetch_add(1, Ordering::Relaxed);
                }
            }
            Some("next") => record(subscriber, &message["payload"], last),
            Some("ping") => socket.send(tungstenite::Message::text(r#"{"type":"pong"}"#)).await?,
            Some("error" | "complete") => anyhow::bail!("ended: {message}"),
            _ => {}
        }
    }
}

fn token(issuer_key: &SigningKey, org: &Org) -> String {
    issuer_key.signer_as(ISSUER).sign_org(&OrgTokenRequest {
        subject: "ggzhub-bench".into(),
        audience: vec![ggzhub_gateway::auth::identity::GATEWAY_AUDIENCE.to_owned()],
        scheme: "OIN".into(),
        identifier: org.id.clone(),
        scopes: default_scopes(org.kind).iter().map(|s| (*s).to_owned()).collect(),
        name: None,
        ttl: Duration::from_secs(3600),
    })
}

async fn rows(db: &DatabaseConnection, sql: &str) -> anyhow::Result<Vec<sea_orm::QueryResult>> {
    Ok(db.query_all_raw(Statement::from_string(DbBackend::Postgres, sql.to_owned())).await?)
}

async fn organisations(db: &DatabaseConnection) -> anyhow::Result<Vec<Org>> {
    let mut out = Vec::new();
    for row in rows(db, "SELECT id, kind, regions::text AS regions FROM organisations ORDER BY id").await? {
        let kind: String = row.try_get("", "kind")?;
        let Some(kind) = OrgKind::parse(&kind) else { continue };
        let regions: String = row.try_get("", "regions")?;
        out.push(Org { id: row.try_get("", "id")?, kind, regions: serde_json::from_str(&regions).unwrap_or_default() });
    }
    Ok(out)
}

/// Open offers and their providers, to raise signals on.
async fn offers(db: &DatabaseConnection) -> anyhow::Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for row in rows(db, "SELECT id, provider_id FROM care_offers WHERE status <> 'CLOSED' ORDER BY id").await? {
        out.push((row.try_get("", "id")?, row.try_get("", "provider_id")?));
    }
    anyhow::ensure!(!out.is_empty(), "no open offers");
    Ok(out)
}

async fn offers_full(
    offers: &[(String, String)],
    db: &DatabaseConnection,
) -> anyhow::Result<Vec<(String, String, String)>> {
    let wanted: HashSet<&str> = offers.iter().map(|(o, _)| o.as_str()).collect();
    let mut out = Vec::new();
    for row in rows(db, "SELECT id, region_code, provider_id FROM care_offers").await? {
        let id: String = row.try_get("", "id")?;
        if wanted.contains(id.as_str()) {
            out.push((id, row.try_get("", "region_code")?, row.try_get("", "provider_id")?));
        }
    }
    Ok(out)
}

async fn coordinating_insurers(db: &DatabaseConnection) -> anyhow::Result<HashMap<String, String>> {
    let mut out = HashMap::new();
    for row in
        rows(db, "SELECT code, coordinating_insurer_id FROM regions WHERE coordinating_insurer_id IS NOT NULL").await?
    {
        out.insert(row.try_get("", "code")?, row.try_get("", "coordinating_insurer_id")?);
    }
    Ok(out)
}

/// (insurer, offer) for every offer an agreed contract covers this year.
async fn contracted_offers(db: &DatabaseConnection) -> anyhow::Result<HashSet<(String, String)>> {
    // The contract year as contracting counts it: the Dutch calendar year.
    let year = ggzhub_kit::calendar::year_in_netherlands(chrono::Utc::now());
    let sql = format!(
        "SELECT c.insurer_id, o.offer_id FROM contracts c JOIN contract_offers o ON o.contract_id = c.id \
         WHERE c.status = 'AGREED' AND c.first_year <= {year} AND c.last_year >= {year}"
    );
    let mut out = HashSet::new();
    for row in rows(db, &sql).await? {
        out.insert((row.try_get("", "insurer_id")?, row.try_get("", "offer_id")?));
    }
    Ok(out)
}

async fn listen() -> anyhow::Result<(tokio::net::TcpListener, String)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/graphql", listener.local_addr()?);
    Ok((listener, url))
}

/// The three subgraphs, wired as `ggzhub dev` wires them, with their outboxes relayed to `bus`.
async fn start_subgraphs(
    key: &SigningKey,
    region_db: DatabaseConnection,
    national_db: DatabaseConnection,
    contracting_db: DatabaseConnection,
    bus: Arc<dyn EventBus>,
    requests: &[Arc<AtomicU64>; 3],
) -> anyhow::Result<[String; 3]> {
    let (region_listener, region_url) = listen().await?;
    let (national_listener, national_url) = listen().await?;
    let (contracting_listener, contracting_url) = listen().await?;
    let limits = HttpLimits::default();
    let contracting_client = ggzhub_region::contracted::ContractingClient::new(RefChecker::new(
        contracting_url.clone(),
        ggzhub_contracting::AUDIENCE,
        key.signer(),
    ));
    let region_app = ggzhub_region::app::router_with_events(
        region_db,
        Arc::new(key.verifier(ggzhub_region::AUDIENCE)),
        Some(contracting_client),
        ggzhub_region::app::Events::new(bus.clone()),
        limits,
    );
    let national_app = ggzhub_national_table::app::router_with_events(
        national_db,
        Arc::new(key.verifier(ggzhub_national_table::AUDIENCE)),
        RefChecker::new(region_url.clone(), ggzhub_region::AUDIENCE, key.signer()),
        limits,
        bus,
    );
    let owners = ggzhub_contracting::graphql::Owners {
        region: RefChecker::new(region_url.clone(), ggzhub_region::AUDIENCE, key.signer()),
        national_table: RefChecker::new(national_url.clone(), ggzhub_national_table::AUDIENCE, key.signer()),
    };
    let contracting_app = ggzhub_contracting::app::router(
        contracting_db,
        Arc::new(key.verifier(ggzhub_contracting::AUDIENCE)),
        owners,
        limits,
    );
    // Each subgraph's requests counted (indexed like `crate::hub::SERVICES`).
    let counted = |app: axum::Router, i: usize| {
        app.layer(axum::middleware::from_fn_with_state(requests[i].clone(), crate::hub::count_request))
    };
    for (listener, app) in [
        (region_listener, counted(region_app, 0)),
        (national_listener, counted(national_app, 1)),
        (contracting_listener, counted(contracting_app, 2)),
    ] {
        tokio::spawn(async move { axum::serve(listener, app).await });
    }
    Ok([region_url, national_url, contracting_url])
}

fn compose(urls: &[String; 3]) -> anyhow::Result<String> {
    let sdls = vec![
        ggzhub_gateway::supergraph::compose::SubgraphSdl {
            name: ggzhub_region::AUDIENCE.to_owned(),
            url: urls[0].clone(),
            sdl: ggzhub_region::graphql::sdl(),
        },
        ggzhub_gateway::supergraph::compose::SubgraphSdl {
            name: ggzhub_national_table::AUDIENCE.to_owned(),
            url: urls[1].clone(),
            sdl: ggzhub_national_table::graphql::sdl(),
        },
        ggzhub_gateway::supergraph::compose::SubgraphSdl {
            name: ggzhub_contracting::AUDIENCE.to_owned(),
            url: urls[2].clone(),
            sdl: ggzhub_contracting::graphql::sdl(),
        },
    ];
    ggzhub_gateway::supergraph::compose::compose(&sdls).context("composing the subgraphs' SDL")
}

/// A gateway replica on a runtime of its own (two worker threads), with its own NATS connection;
/// set up on that runtime, so everything it serves runs there.
async fn start_replica(
    supergraph: &str,
    subgraph_urls: &[String; 3],
    key: &SigningKey,
    issuer_key: &SigningKey,
    orgs: &[Org],
    nats_url: &str,
) -> anyhow::Result<Replica> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let names = [ggzhub_region::AUDIENCE, ggzhub_national_table::AUDIENCE, ggzhub_contracting::AUDIENCE];
    let gateway = ggzhub_gateway::engine::Gateway::new(ggzhub_gateway::engine::EngineOptions {
        subgraph_urls: names.iter().zip(subgraph_urls).map(|(n, u)| ((*n).to_owned(), u.clone())).collect(),
        ..Default::default()
    });
    gateway.load_supergraph(supergraph).context("loading the supergraph")?;
    let authenticator = ggzhub_gateway::auth::oidc::Authenticator::with_keys(
        ISSUER,
        &[ggzhub_gateway::auth::identity::GATEWAY_AUDIENCE],
        &issuer_key.jwks(),
        30,
    )?;
    // The register as data: every organisation, by its id as an OIN.
    let entries = orgs
        .iter()
        .filter_map(|o| {
            Some(ggzhub_gateway::auth::register::FixedEntry {
                identifiers: vec![("OIN".into(), o.id.clone())],
                bindings: vec![(ISSUER.into(), "OIN".into())],
                organisation: ggzhub_gateway::auth::register::Registered {
                    org: o.id.parse().ok()?,
                    kind: o.kind,
                    regions: o.regions.clone(),
                    roles: Vec::new(),
                },
            })
        })
        .collect();
    let register =
        ggzhub_gateway::auth::register::Register::fixed(entries, ggzhub_gateway::auth::register::DEFAULT_CACHE_TTL);
    let identity = ggzhub_gateway::auth::identity::Identity {
        verifier: Some(Arc::new(authenticator)),
        register: Some(Arc::new(register)),
        signer: Some(key.signer()),
        allow_anonymous: false,
    };
    let nats_url = nats_url.to_owned();
    let url = runtime.spawn(async move {
        let bus: Arc<dyn EventBus> = ggzhub_kit::events::NatsBus::connect(&nats_url).await?;
        let subscriptions = ggzhub_gateway::subscription::Subscriptions::new(
            Some(bus),
            ggzhub_gateway::subscription::SubscriptionOptions { max_per_organisation: 10_000, ..Default::default() },
        );
        let app = ggzhub_gateway::http::server::app(
            Arc::new(gateway),
            Arc::new(identity),
            ggzhub_gateway::http::HttpOptions {
                subscriptions: Arc::new(subscriptions),
                rate_limit: ggzhub_gateway::admission::ratelimit::RateLimitOptions::OFF,
                ..Default::default()
            },
            HttpLimits::default(),
        );
        let (listener, url) = listen().await?;
        tokio::spawn(async move { axum::serve(listener, app).await });
        anyhow::Ok(url)
    });
    let url = url.await??;
    Ok(Replica { url, runtime: Some(runtime) })
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// The process's resident memory in MB.
fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next().and_then(|kb| kb.parse::<f64>().ok()))
        })
        .map_or(0.0, |kb| kb / 1024.0)
}
