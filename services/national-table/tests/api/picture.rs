//! The national table's part of the national picture (issue 14): escalation counts, overdue
//! measures and KPI progress, compared with the same figures computed here from generated rows
//! (seeded random regions, categories, statuses and due dates), per kind of organisation; and the
//! statements `Region.escalationCounts` runs for many regions.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, NaiveDate, Utc};
use ggzhub_kit::testing::TestCaller;
use ggzhub_national_table::entity::{escalation, kpi, measure, measurement};
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

/// A small deterministic generator (SplitMix64): the same data on every run and backend.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const REGIONS: [&str; 4] = ["utrecht", "amsterdam", "rotterdam", "limburg"];
const CATEGORIES: [&str; 6] = ["ACUTE", "OUTREACH", "CLINICAL", "SECURE", "SPECIALIST_MHC", "SPECIALIST_HOSPITAL"];
const STATUSES: [&str; 5] = ["SUBMITTED", "IN_DISCUSSION", "MEASURE_AGREED", "RESOLVED", "DECLINED"];
const MEASURE_STATUSES: [&str; 4] = ["PLANNED", "IN_PROGRESS", "DONE", "CANCELLED"];

fn decided(status: &str) -> bool {
    ["MEASURE_AGREED", "RESOLVED", "DECLINED"].contains(&status)
}

#[derive(Debug, Clone)]
struct Esc {
    id: String,
    region: String,
    category: String,
    status: String,
}

#[derive(Debug, Clone)]
struct Msr {
    id: String,
    escalation: usize,
    status: String,
    due: NaiveDate,
}

/// The generated rows, as inserted.
struct Generated {
    escalations: Vec<Esc>,
    measures: Vec<Msr>,
}

async fn insert_escalation(app: &TestApp, e: &Esc) {
    let now = Utc::now();
    escalation::ActiveModel {
        id: Set(e.id.clone()),
        region_code: Set(e.region.clone()),
        category: Set(e.category.clone()),
        target_group: Set("Adults with a psychiatric crisis".to_owned()),
        problem: Set(PROBLEM.to_owned()),
        region_tried: Set(REGION_TRIED.to_owned()),
        affected_offer_ids: Set(json!([])),
        urgency: Set("HIGH".to_owned()),
        status: Set(e.status.clone()),
        decline_reason: Set(None),
        public_summary: Set(decided(&e.status).then(|| PUBLIC_SUMMARY.to_owned())),
        raised_by: Set(PROVIDER_A.to_string()),
        raised_at: Set(now),
        decided_at: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        created_by: Set(PROVIDER_A.to_string()),
        updated_by: Set(PROVIDER_A.to_string()),
        signal_id: Set(None),
    }
    .insert(app.conn())
    .await
    .expect("escalation inserts");
}

async fn insert_measure(app: &TestApp, m: &Msr, escalation: &str) {
    let now = Utc::now();
    measure::ActiveModel {
        id: Set(m.id.clone()),
        escalation_id: Set(escalation.to_owned()),
        title: Set("Extra crisis beds".to_owned()),
        description: Set("Two providers share a crisis bed pool.".to_owned()),
        owner_org_id: Set(PROVIDER_A.to_string()),
        due_date: Set(m.due),
        status: Set(m.status.clone()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        created_by: Set(NATIONAL_TABLE.to_string()),
        updated_by: Set(NATIONAL_TABLE.to_string()),
    }
    .insert(app.conn())
    .await
    .expect("measure inserts");
}

/// `n` escalations with random region, category and status; each with 0–3 measures of random
/// status, due between 90 days ago and 90 days ahead (never yesterday, today or tomorrow, so a
/// test running over midnight counts the same).
async fn generate(app: &TestApp, seed: u64, n: usize) -> Generated {
    let mut rng = Rng::new(seed);
    let today = ggzhub_kit::calendar::today();
    let mut g = Generated { escalations: vec![], measures: vec![] };
    for i in 0..n {
        let e = Esc {
            id: Uuid::now_v7().to_string(),
            region: rng.pick(&REGIONS).to_string(),
            category: rng.pick(&CATEGORIES).to_string(),
            status: rng.pick(&STATUSES).to_string(),
        };
        insert_escalation(app, &e).await;
        for _ in 0..rng.below(4) {
            let mut offset = rng.below(181) as i64 - 90;
            if offset.abs() <= 1 {
                offset = 2 * offset.signum() + if offset == 0 { 2 } else { 0 };
            }
            let m = Msr {
                id: Uuid::now_v7().to_string(),
                escalation: i,
                status: rng.pick(&MEASURE_STATUSES).to_string(),
                due: today + Duration::days(offset),
            };
            insert_measure(app, &m, &e.id).await;
            g.measures.push(m);
        }
        g.escalations.push(e);
    }
    g
}

/// Which escalations a caller counts: all (national table), all in its regions and decided ones
/// elsewhere (providers, insurers), decided ones (everyone else).
fn counted(caller: &TestCaller, kind: &str, e: &Esc) -> bool {
    match kind {
        "national table" => true,
        "participant" => caller.regions.contains(&e.region) || decided(&e.status),
        _ => decided(&e.status),
    }
}

fn expected_counts(g: &Generated, caller: &TestCaller, kind: &str, region: Option<&str>) -> Vec<Value> {
    let mut counts: BTreeMap<(String, String, String), i64> = BTreeMap::new();
    for e in g.escalations.iter().filter(|e| counted(caller, kind, e)) {
        if region.is_none_or(|r| r == e.region) {
            *counts.entry((e.region.clone(), e.category.clone(), e.status.clone())).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .map(|((region, category, status), count)| {
            json!({ "region": region, "category": category, "status": status, "count": count })
        })
        .collect()
}

fn overdue(m: &Msr) -> bool {
    ["PLANNED", "IN_PROGRESS"].contains(&m.status.as_str()) && m.due < ggzhub_kit::calendar::today()
}

/// Rows sorted the way the test compares them (region, category, status).
fn sorted_counts(v: &Value) -> Vec<Value> {
    let mut rows = v.as_array().cloned().unwrap_or_default();
    rows.sort_by_key(|r| (r["region"].to_string(), r["category"].to_string(), r["status"].to_string()));
    rows
}

const PICTURE: &str = r#"query { nationalTablePicture {
    escalationCounts { region category status count } overdueMeasures } }"#;
const PICTURE_WITH_LIST: &str =
    r#"query { nationalTablePicture { overdueMeasures measuresOverdue { id dueDate overdue } } }"#;
const REGION_COUNTS: &str = r#"query($r: [_Any!]!) { _entities(representations: $r) { ... on Region { code
    escalationCounts { region category status count } } } }"#;

fn region_reps(codes: &[&str]) -> Value {
    json!(codes.iter().map(|c| json!({ "__typename": "Region", "code": c })).collect::<Vec<_>>())
}

fn callers() -> Vec<(&'static str, &'static str, TestCaller)> {
    vec![
        ("national table", "national table", national_table()),
        ("provider A (utrecht)", "participant", provider_a()),
        ("insurer Y (amsterdam)", "participant", insurer_y()),
        (
            "provider at two tables",
            "participant",
            TestCaller::new(ggzhub_kit::OrgKind::Provider, PROVIDER_B, &["rotterdam", "limburg"]),
        ),
        ("patient organisation", "public", patient_org()),
        ("municipality", "public", municipality()),
    ]
}

#[tokio::test]
async fn escalation_counts_match_the_rows_for_every_kind_of_organisation() {
    let app = TestApp::spawn().await;
    let g = generate(&app, 14, 60).await;
    assert!(g.escalations.iter().any(|e| !decided(&e.status)) && g.escalations.iter().any(|e| decided(&e.status)));
    for (name, kind, caller) in callers() {
        let resp = app.graphql(PICTURE).as_caller(&caller).send().await;
        let picture = &resp.data()["nationalTablePicture"];
        assert_eq!(
            sorted_counts(&picture["escalationCounts"]),
            expected_counts(&g, &caller, kind, None),
            "national escalation counts for {name}"
        );
        let expected_overdue =
            g.measures.iter().filter(|m| counted(&caller, kind, &g.escalations[m.escalation]) && overdue(m)).count();
        assert_eq!(picture["overdueMeasures"], json!(expected_overdue), "overdue measures for {name}");

        // Per region, every region of the request in one batch.
        let resp = app.graphql(REGION_COUNTS).var("r", region_reps(&REGIONS)).as_caller(&caller).send().await;
        let entities = resp.data()["_entities"].as_array().expect("entities").clone();
        assert_eq!(entities.len(), REGIONS.len());
        for (region, entity) in REGIONS.iter().zip(entities) {
            assert_eq!(entity["code"], *region);
            assert_eq!(
                sorted_counts(&entity["escalationCounts"]),
                expected_counts(&g, &caller, kind, Some(region)),
                "{region} escalation counts for {name}"
            );
        }
    }
    // The national table counts every generated escalation.
    let all: i64 = expected_counts(&g, &national_table(), "national table", None)
        .iter()
        .map(|r| r["count"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(all, 60);
}

#[tokio::test]
async fn overdue_measures_are_listed_only_to_those_who_read_measures() {
    let app = TestApp::spawn().await;
    let g = generate(&app, 2027, 40).await;
    for (name, kind, caller) in callers() {
        let resp = app.graphql(PICTURE_WITH_LIST).as_caller(&caller).send().await;
        match kind {
            "public" => {
                assert_eq!(
                    resp.error_code_at(&["nationalTablePicture", "measuresOverdue"]).as_deref(),
                    Some("FORBIDDEN"),
                    "{name}: {:#}",
                    resp.body
                );
                assert!(resp.body["data"]["nationalTablePicture"]["measuresOverdue"].is_null());
                assert!(
                    resp.body["data"]["nationalTablePicture"]["overdueMeasures"].is_number(),
                    "{name}: the count stays"
                );
            }
            _ => {
                let listed: BTreeSet<String> = resp.data()["nationalTablePicture"]["measuresOverdue"]
                    .as_array()
                    .expect("a list")
                    .iter()
                    .map(|m| {
                        assert_eq!(m["overdue"], true, "{name}: every listed measure is overdue");
                        m["id"].as_str().expect("id").to_owned()
                    })
                    .collect();
                let expected: BTreeSet<String> = g
                    .measures
                    .iter()
                    .filter(|m| overdue(m))
                    .filter(|m| {
                        kind == "national table" || caller.regions.contains(&g.escalations[m.escalation].region)
                    })
                    .map(|m| m.id.clone())
                    .collect();
                assert!(!expected.is_empty() || kind != "national table", "the seed yields overdue measures");
                assert_eq!(listed, expected, "overdue measures listed to {name}");
                // Longest overdue first.
                let dates: Vec<String> = resp.data()["nationalTablePicture"]["measuresOverdue"]
                    .as_array()
                    .expect("a list")
                    .iter()
                    .map(|m| m["dueDate"].as_str().expect("date").to_owned())
                    .collect();
                let mut in_order = dates.clone();
                in_order.sort();
                assert_eq!(dates, in_order, "{name}: ordered by due date");
            }
        }
    }
}

#[tokio::test]
async fn the_hub_operator_and_readers_without_scope_see_no_picture() {
    let app = TestApp::spawn().await;
    generate(&app, 1, 5).await;
    let resp = app.graphql(PICTURE).as_caller(&operator()).send().await;
    assert_eq!(resp.error_code_at(&["nationalTablePicture"]).as_deref(), Some("FORBIDDEN"), "{:#}", resp.body);
    let resp = app.graphql(REGION_COUNTS).var("r", region_reps(&["utrecht"])).as_caller(&operator()).send().await;
    assert!(resp.error_codes().contains(&"FORBIDDEN".to_owned()), "{:#}", resp.body);
    let no_scope = national_table().with_scopes(&[]);
    let resp = app.graphql(PICTURE).as_caller(&no_scope).send().await;
    assert_eq!(resp.error_code_at(&["nationalTablePicture"]).as_deref(), Some("FORBIDDEN"), "{:#}", resp.body);
}

#[tokio::test]
async fn region_escalation_counts_take_one_statement_for_any_number_of_regions() {
    let app = TestApp::spawn().await;
    generate(&app, 7, 30).await;
    let run = |codes: Vec<String>| {
        let app = &app;
        async move {
            let codes: Vec<&str> = codes.iter().map(String::as_str).collect();
            let before = app.statement_count();
            let resp =
                app.graphql(REGION_COUNTS).var("r", region_reps(&codes)).as_caller(&national_table()).send().await;
            assert_eq!(resp.data()["_entities"].as_array().map(Vec::len), Some(codes.len()));
            let ran = app.db.statements_since(before);
            assert!(ran.iter().all(|s| !s.contains("escalations") || s.contains("GROUP BY")), "{ran:#?}");
            ran.iter().filter(|s| s.contains("escalations")).count()
        }
    };
    let few: Vec<String> = REGIONS[..2].iter().map(|s| s.to_string()).collect();
    let many: Vec<String> =
        (0..31).map(|i| format!("region-{i}")).chain(REGIONS.iter().map(|s| s.to_string())).collect();
    run(few.clone()).await; // warms up the pool (PostgreSQL opens connections lazily)
    let (small, large) = (run(few).await, run(many).await);
    println!("Region.escalationCounts: {small} SQL statements for 2 regions, {large} for 35");
    // (PostgreSQL may add a `SET search_path` for a connection it opens; it reads no table.)
    assert_eq!(small, 1, "one statement for the whole batch");
    assert_eq!(large, 1, "one statement for the whole batch");
}

async fn insert_kpi(app: &TestApp, code: &str, direction: &str, targets: &[(i32, f64)]) {
    let now = Utc::now();
    kpi::ActiveModel {
        code: Set(code.to_owned()),
        name: Set(format!("KPI {code}")),
        definition: Set("A test KPI.".to_owned()),
        unit: Set("percent".to_owned()),
        direction: Set(direction.to_owned()),
        targets: Set(json!(targets.iter().map(|(y, v)| json!({ "year": y, "value": v })).collect::<Vec<_>>())),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        created_by: Set(NATIONAL_TABLE.to_string()),
        updated_by: Set(NATIONAL_TABLE.to_string()),
    }
    .insert(app.conn())
    .await
    .expect("KPI inserts");
}

async fn insert_measurement(app: &TestApp, code: &str, year: i32, region: Option<&str>, value: f64) {
    let now = Utc::now();
    measurement::ActiveModel {
        id: Set(Uuid::now_v7().to_string()),
        kpi_code: Set(code.to_owned()),
        year: Set(year),
        region_code: Set(region.map(str::to_owned)),
        value: Set(value),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        created_by: Set(NATIONAL_TABLE.to_string()),
        updated_by: Set(NATIONAL_TABLE.to_string()),
    }
    .insert(app.conn())
    .await
    .expect("measurement inserts");
}

const KPI_PROGRESS: &str =
    r#"query { nationalTablePicture { kpiProgress { kpi { code } year target value onTrack regionsMeasured } } }"#;

#[tokio::test]
async fn kpi_progress_matches_targets_and_measurements_per_year_up_to_2027() {
    let app = TestApp::spawn().await;
    let mut rng = Rng::new(11);
    // (code, direction, targets, national values, regional measurements per year)
    let mut expected: Vec<Value> = vec![];
    for (code, direction) in
        [("A_HIGHER", "HIGHER_IS_BETTER"), ("B_LOWER", "LOWER_IS_BETTER"), ("C_EMPTY", "HIGHER_IS_BETTER")]
    {
        let targets: Vec<(i32, f64)> = if code == "C_EMPTY" {
            vec![]
        } else {
            let mut t = vec![];
            for y in 2024..=2028 {
                if rng.below(4) > 0 {
                    t.push((y, (rng.below(100) as f64) / 2.0));
                }
            }
            t
        };
        insert_kpi(&app, code, direction, &targets).await;
        let mut national: BTreeMap<i32, f64> = BTreeMap::new();
        let mut regional: BTreeMap<i32, i64> = BTreeMap::new();
        if code != "C_EMPTY" {
            for year in 2023..=2028 {
                if rng.below(3) > 0 {
                    let v = (rng.below(100) as f64) / 2.0;
                    insert_measurement(&app, code, year, None, v).await;
                    national.insert(year, v);
                }
                for region in REGIONS {
                    if rng.below(2) == 0 {
                        insert_measurement(&app, code, year, Some(region), (rng.below(100) as f64) / 2.0).await;
                        *regional.entry(year).or_default() += 1;
                    }
                }
            }
        }
        let targets: BTreeMap<i32, f64> = targets.into_iter().collect();
        let years: BTreeSet<i32> = (2025..=2027)
            .chain(targets.keys().copied())
            .chain(national.keys().copied())
            .chain(regional.keys().copied())
            .filter(|y| *y <= 2027)
            .collect();
        for year in years {
            let (t, v) = (targets.get(&year).copied(), national.get(&year).copied());
            let on_track = match (t, v) {
                (Some(t), Some(v)) => json!(if direction == "HIGHER_IS_BETTER" { v >= t } else { v <= t }),
                _ => Value::Null,
            };
            expected.push(json!({
                "kpi": { "code": code }, "year": year, "target": t, "value": v, "onTrack": on_track,
                "regionsMeasured": regional.get(&year).copied().unwrap_or(0),
            }));
        }
    }
    assert!(expected.iter().any(|r| r["onTrack"] == true) && expected.iter().any(|r| r["onTrack"] == false));
    for (name, caller) in readers() {
        let resp = app.graphql(KPI_PROGRESS).as_caller(&caller).send().await;
        assert_eq!(resp.data()["nationalTablePicture"]["kpiProgress"], json!(expected), "KPI progress for {name}");
    }
    // The empty KPI still reports the three IZA years, without figures.
    let empty: Vec<&Value> = expected.iter().filter(|r| r["kpi"]["code"] == "C_EMPTY").collect();
    assert_eq!(empty.len(), 3);
}

#[tokio::test]
async fn the_whole_picture_takes_the_same_statements_however_much_data() {
    let app = TestApp::spawn().await;
    const WHOLE: &str = r#"query { nationalTablePicture {
        escalationCounts { region category status count } overdueMeasures measuresOverdue { id }
        kpiProgress { kpi { code } year target value onTrack } } }"#;
    let run = || async {
        let before = app.statement_count();
        let resp = app.graphql(WHOLE).as_caller(&national_table()).send().await;
        let picture = resp.data()["nationalTablePicture"].clone();
        (app.db.statements_since(before), picture)
    };
    insert_kpi(&app, "K1", "HIGHER_IS_BETTER", &[(2026, 50.0)]).await;
    generate(&app, 3, 5).await;
    run().await; // warms up the pool (PostgreSQL opens connections lazily)
    let (small, _) = run().await;
    generate(&app, 4, 40).await;
    for (i, code) in ["K2", "K3", "K4"].iter().enumerate() {
        insert_kpi(&app, code, "LOWER_IS_BETTER", &[(2027, i as f64)]).await;
        insert_measurement(&app, code, 2027, None, 1.0).await;
    }
    let (large, picture) = run().await;
    assert_eq!(picture["kpiProgress"].as_array().map(Vec::len), Some(4 * 3));
    let reading = |s: &[String]| s.iter().filter(|s| s.contains("SELECT")).count();
    println!("nationalTablePicture: {} SQL statements for 5 escalations, {} for 45", reading(&small), reading(&large));
    assert_eq!(reading(&small), reading(&large), "{large:#?}");
    // Escalation counts, overdue count, overdue list, KPIs, measurements grouped.
    assert_eq!(reading(&large), 5, "{large:#?}");
    assert!(
        large.iter().filter(|s| s.contains("escalations")).all(|s| s.contains("GROUP BY") || s.contains("measures"))
    );
}
