//! The national picture: every aggregate and trend compared with the same figure computed here
//! from the rows, over generated data (random statuses, capacities, pauses, dates and waiting
//! times from a seeded generator); access per the matrix; statements per request constant in
//! the number of regions and offers.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, Utc};
use ggzhub_region::entity::{care_offer, region, signal, waiting_time};
use ggzhub_region::history::{day, offer_history};
use ggzhub_region::seed_history::Rng;
use sea_orm::{ActiveModelTrait as _, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;
use ggzhub_kit::testing::TestCaller;

const STATUSES: [&str; 4] = ["SECURED", "UNDER_PRESSURE", "CLOSING", "CLOSED"];
const FORMS: [&str; 4] = ["CRISIS_SERVICE", "HIC", "FACT", "CLINICAL_ADMISSION"];
const GROUPS: [&str; 2] = ["DEPRESSION", "ANXIETY"];
const REGIONS: [&str; 3] = ["utrecht", "amsterdam", "groningen"];

/// Adds `n` offers with random status, capacity, pause and history, and `reports` waiting-time
/// reports with random months and weeks.
async fn generate(app: &TestApp, seed: u64, n: usize, reports: usize) {
    generate_in(app, seed, n, reports, &REGIONS).await;
}

/// As [`generate`], in `regions`.
async fn generate_in(app: &TestApp, seed: u64, n: usize, reports: usize, regions: &[&str]) {
    let db = &app.db.db;
    let pick = |rng: &mut Rng| regions[rng.below(regions.len() as u64) as usize];
    let mut rng = Rng::new(seed, "picture");
    let today = ggzhub_kit::calendar::today();
    let start = NaiveDate::from_ymd_opt(2025, 1, 1).expect("date");
    let span = (today - start).num_days() as u64;
    for i in 0..n {
        let provider = [PROVIDER_A, PROVIDER_B, PROVIDER_C][rng.below(3) as usize];
        let region = pick(&mut rng);
        let id = app.insert_offer(provider, region, FORMS[rng.below(4) as usize], &format!("Team {i}")).await;
        let mut offer = care_offer::Entity::find_by_id(id.clone()).one(db).await.expect("reads").expect("offer");
        let opt = |rng: &mut Rng, max: u64| (rng.below(4) > 0).then(|| rng.below(max) as i32);
        let mut active: care_offer::ActiveModel = offer.clone().into();
        offer.status = STATUSES[rng.below(4) as usize].to_owned();
        offer.beds = opt(&mut rng, 40);
        offer.places = opt(&mut rng, 30);
        offer.teams = opt(&mut rng, 5);
        offer.fte = (rng.below(4) > 0).then(|| rng.below(400) as f64 / 10.0);
        if rng.below(3) == 0 {
            let from = today + Duration::days(rng.below(60) as i64 - 40);
            offer.intake_pause_from = Some(from);
            offer.intake_pause_until = (rng.below(2) == 0).then(|| from + Duration::days(rng.below(60) as i64));
            offer.intake_pause_reason = Some("Personeelstekort".into());
        }
        active.status = Set(offer.status.clone());
        active.beds = Set(offer.beds);
        active.places = Set(offer.places);
        active.teams = Set(offer.teams);
        active.fte = Set(offer.fte);
        active.intake_pause_from = Set(offer.intake_pause_from);
        active.intake_pause_until = Set(offer.intake_pause_until);
        active.intake_pause_reason = Set(offer.intake_pause_reason.clone());
        active.update(db).await.expect("offer updates");
        // History: up to four earlier states on random days, then the current one.
        let mut days: Vec<u64> = (0..rng.below(5)).map(|_| rng.below(span)).collect();
        days.sort_unstable();
        days.dedup();
        let mut states: Vec<(NaiveDate, String)> = days
            .iter()
            .map(|d| (start + Duration::days(*d as i64), STATUSES[rng.below(3) as usize].to_owned()))
            .collect();
        let last = states.last().map_or(start, |(d, _)| *d) + Duration::days(1 + rng.below(20) as i64);
        states.push((last.min(today), offer.status.clone()));
        states.dedup_by(|b, a| a.0 == b.0);
        for (k, (from, status)) in states.iter().enumerate() {
            offer_history::ActiveModel {
                offer_id: Set(id.clone()),
                provider_id: Set(offer.provider_id.clone()),
                region_code: Set(region.to_owned()),
                category: Set(offer.category.clone()),
                status: Set(status.clone()),
                beds: Set(offer.beds),
                places: Set(offer.places),
                teams: Set(offer.teams),
                fte: Set(offer.fte),
                intake_pause_from: Set(None),
                intake_pause_until: Set(None),
                valid_from: Set(day(*from)),
                valid_to: Set(states.get(k + 1).map(|(d, _)| day(*d))),
                recorded_at: Set(Utc::now()),
                ..Default::default()
            }
            .insert(db)
            .await
            .expect("history inserts");
        }
    }
    for i in 0..reports {
        let provider = [PROVIDER_A, PROVIDER_B][rng.below(2) as usize];
        let month = format!("2026-{:02}", 1 + rng.below(4));
        let now = Utc::now();
        // Intakes and treatment starts: often not given, sometimes a small cell (1 to 9).
        let flow = |rng: &mut Rng| match rng.below(10) {
            0..=2 => None,
            3 => Some(1 + rng.below(9) as i32),
            4 => Some(0),
            _ => Some(10 + rng.below(60) as i32),
        };
        let (intakes, treatment_starts) = (flow(&mut rng), flow(&mut rng));
        waiting_time::ActiveModel {
            id: Set(Uuid::now_v7().to_string()),
            provider_id: Set(provider.to_string()),
            region_code: Set(pick(&mut rng).to_owned()),
            location: Set(format!("Locatie {i}")),
            diagnosis_group: Set(GROUPS[rng.below(2) as usize].to_owned()),
            month: Set(month),
            registration_weeks: Set(rng.below(100) as f64 / 10.0),
            treatment_weeks: Set(rng.below(160) as f64 / 10.0),
            waiting_count: Set(rng.below(200) as i32),
            intakes: Set(intakes),
            treatment_starts: Set(treatment_starts),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            created_by: Set(provider.to_string()),
            updated_by: Set(provider.to_string()),
        }
        .insert(db)
        .await
        .expect("report inserts");
    }
}

/// Quantile `q` of sorted `v`, interpolated (as PERCENTILE_CONT).
fn quantile(v: &[f64], q: f64) -> f64 {
    let pos = q * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

fn over(r: &waiting_time::Model) -> bool {
    r.registration_weeks > 4.0 || r.treatment_weeks > 10.0 || r.registration_weeks + r.treatment_weeks > 14.0
}

/// A sum of a count of people over `rows` as `caller` sees it (computed here, independently of
/// the service): `null` when no row gave it; exact when no row in it holds a count from 1 to 9
/// of another organisation's; else suppressed, whatever the total (never "fewer than 10").
fn people_sum(rows: &[&waiting_time::Model], count: fn(&waiting_time::Model) -> Option<i32>, caller: Uuid) -> Value {
    let given: Vec<(i32, &str)> = rows.iter().filter_map(|r| count(r).map(|n| (n, r.provider_id.as_str()))).collect();
    if given.is_empty() {
        return Value::Null;
    }
    let total: i32 = given.iter().map(|(n, _)| n).sum();
    let foreign_small = given.iter().any(|(n, p)| (1..10).contains(n) && *p != caller.to_string());
    if !foreign_small {
        json!({"exact": total, "fewerThan": null, "label": total.to_string()})
    } else {
        json!({"exact": null, "fewerThan": null, "label": "suppressed (includes counts below 10)"})
    }
}

/// Reports, over the norm, share, median and p90 of `rows`, and their intakes and treatment
/// starts as `caller` sees them.
fn figures(rows: &[&waiting_time::Model], caller: Uuid) -> Value {
    let mut totals: Vec<f64> = rows.iter().map(|r| r.registration_weeks + r.treatment_weeks).collect();
    totals.sort_by(f64::total_cmp);
    let over = rows.iter().filter(|r| over(r)).count();
    json!({
        "reports": rows.len(),
        "overTreeknorm": over,
        "shareOverTreeknorm": over as f64 / rows.len() as f64,
        "medianWeeks": quantile(&totals, 0.5),
        "p90Weeks": quantile(&totals, 0.9),
        "intakes": people_sum(rows, |r| r.intakes, caller),
        "treatmentStarts": people_sum(rows, |r| r.treatment_starts, caller),
    })
}

/// Compares JSON, numbers within 1e-9.
#[track_caller]
fn assert_close(what: &str, got: &Value, want: &Value) {
    fn close(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => {
                (x.as_f64().unwrap_or(f64::NAN) - y.as_f64().unwrap_or(f64::NAN)).abs() < 1e-9
            }
            (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| close(a, b)),
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| close(v, w)))
            }
            _ => a == b,
        }
    }
    assert!(close(got, want), "{what}:\n got  {got:#}\n want {want:#}");
}

#[allow(dead_code)]
fn category_of(form: &str) -> &'static str {
    match form {
        "CRISIS_SERVICE" | "HIC" => "ACUTE",
        "FACT" => "OUTREACH",
        _ => "CLINICAL",
    }
}

const PICTURE: &str = r#"query($month: String) { nationalPicture {
    asOf
    offerCounts { category status count }
    capacity { category beds places teams fte }
    activeIntakePauses { category count }
    signalCounts { open acknowledged escalated resolved overdue }
    waitingTimes(month: $month) { diagnosisGroup month reports overTreeknorm shareOverTreeknorm medianWeeks p90Weeks
        intakes { exact fewerThan label } treatmentStarts { exact fewerThan label } }
    regions { code offerCounts { category status count } capacity { category beds places teams fte }
        activeIntakePauses { category count } signalCounts { open overdue }
        waitingTimeFigures(month: $month) { diagnosisGroup month reports overTreeknorm shareOverTreeknorm medianWeeks p90Weeks
            intakes { exact fewerThan label } treatmentStarts { exact fewerThan label } } }
} }"#;

#[tokio::test]
async fn aggregates_equal_the_figures_computed_from_the_rows() {
    let app = TestApp::spawn().await;
    generate(&app, 14, 60, 120).await;
    let db = &app.db.db;
    let offers = care_offer::Entity::find().all(db).await.expect("offers");
    let reports = waiting_time::Entity::find().all(db).await.expect("reports");
    let signals = signal::Entity::find().all(db).await.expect("signals");
    let today = ggzhub_kit::calendar::today();
    let month = "2026-02";
    let resp = app.graphql(PICTURE).var("month", month).as_caller(&national_table()).send().await;
    assert!(resp.body["errors"].is_null(), "{:#}", resp.body);
    let picture = &resp.data()["nationalPicture"];

    // Expected figures for a scope (all offers, or one region's).
    let expect = |region: Option<&str>| {
        let in_scope = |r: &str| region.is_none_or(|x| x == r);
        let mut counts: BTreeMap<(String, String), i64> = BTreeMap::new();
        let mut capacity: BTreeMap<String, (i64, i64, i64, f64)> = BTreeMap::new();
        let mut pauses: BTreeMap<String, i64> = BTreeMap::new();
        for o in offers.iter().filter(|o| in_scope(&o.region_code)) {
            *counts.entry((o.category.clone(), o.status.clone())).or_default() += 1;
            if o.status != "CLOSED" {
                let c = capacity.entry(o.category.clone()).or_default();
                c.0 += i64::from(o.beds.unwrap_or(0));
                c.1 += i64::from(o.places.unwrap_or(0));
                c.2 += i64::from(o.teams.unwrap_or(0));
                c.3 += o.fte.unwrap_or(0.0);
                let paused =
                    o.intake_pause_from.is_some_and(|f| f <= today) && o.intake_pause_until.is_none_or(|u| u >= today);
                if paused {
                    *pauses.entry(o.category.clone()).or_default() += 1;
                }
            }
        }
        let mut by_group: BTreeMap<&str, Vec<&waiting_time::Model>> = BTreeMap::new();
        for r in reports.iter().filter(|r| r.month == month && in_scope(&r.region_code)) {
            by_group.entry(r.diagnosis_group.as_str()).or_default().push(r);
        }
        let waiting: Vec<Value> = by_group
            .iter()
            .map(|(g, rows)| {
                let mut f = figures(rows, NATIONAL_TABLE);
                f["diagnosisGroup"] = json!(g);
                f["month"] = json!(month);
                f
            })
            .collect();
        (
            counts.into_iter().map(|((c, s), n)| json!({"category": c, "status": s, "count": n})).collect::<Vec<_>>(),
            capacity
                .into_iter()
                .map(|(c, (b, p, t, f))| json!({"category": c, "beds": b, "places": p, "teams": t, "fte": f}))
                .collect::<Vec<_>>(),
            pauses.into_iter().map(|(c, n)| json!({"category": c, "count": n})).collect::<Vec<_>>(),
            waiting,
        )
    };
    let (counts, capacity, pauses, waiting) = expect(None);
    assert!(counts.len() >= 8 && !pauses.is_empty() && waiting.len() == 2, "generated data too thin");
    assert_close("national offer counts", &picture["offerCounts"], &json!(counts));
    assert_close("national capacity", &picture["capacity"], &json!(capacity));
    assert_close("national intake pauses", &picture["activeIntakePauses"], &json!(pauses));
    assert_close("national waiting times", &picture["waitingTimes"], &json!(waiting));
    let now = Utc::now();
    let open = signals.iter().filter(|s| s.status == "OPEN").count();
    let overdue = signals.iter().filter(|s| s.status == "OPEN" && s.acknowledgement_deadline < now).count();
    let status = |st: &str| signals.iter().filter(|s| s.status == st).count();
    assert_eq!(
        picture["signalCounts"],
        json!({"open": open, "acknowledged": status("ACKNOWLEDGED"), "escalated": status("ESCALATED"),
               "resolved": status("RESOLVED"), "overdue": overdue})
    );
    let regions = picture["regions"].as_array().expect("regions");
    assert_eq!(regions.len(), 3);
    for r in regions {
        let code = r["code"].as_str().expect("code");
        let (counts, capacity, pauses, waiting) = expect(Some(code));
        assert_close(&format!("{code} offer counts"), &r["offerCounts"], &json!(counts));
        assert_close(&format!("{code} capacity"), &r["capacity"], &json!(capacity));
        assert_close(&format!("{code} intake pauses"), &r["activeIntakePauses"], &json!(pauses));
        assert_close(&format!("{code} waiting times"), &r["waitingTimeFigures"], &json!(waiting));
        let open = signals.iter().filter(|s| s.region_code == code && s.status == "OPEN").count();
        assert_eq!(r["signalCounts"]["open"], json!(open), "{code}");
    }
    // Without a month: the latest month with reports.
    let resp =
        app.graphql("query { nationalPicture { waitingTimes { month } } }").as_caller(&patient_org()).send().await;
    let latest = reports.iter().map(|r| r.month.clone()).max().expect("reports");
    for f in resp.data()["nationalPicture"]["waitingTimes"].as_array().expect("figures") {
        assert_eq!(f["month"], json!(latest));
    }
}

/// Offers per status at the end of each period, from the history rows.
fn expected_trend(
    rows: &[offer_history::Model],
    first: i32,
    last: i32,
    step: i32,
    keep: impl Fn(&offer_history::Model) -> bool,
) -> Vec<Value> {
    let label = |i: i32| format!("{:04}-{:02}", i / 12, i % 12 + 1);
    let mut out = Vec::new();
    let mut idx = first;
    while idx <= last {
        let next = format!("{}-01", label(idx + step));
        let mut by_status: BTreeMap<&str, i64> = BTreeMap::new();
        for h in rows.iter().filter(|h| keep(h)) {
            if h.valid_from < next && h.valid_to.as_ref().is_none_or(|t| *t >= next) {
                *by_status.entry(h.status.as_str()).or_default() += 1;
            }
        }
        out.extend(by_status.into_iter().map(|(s, n)| json!({"period": label(idx), "status": s, "count": n})));
        idx += step;
    }
    out
}

fn strip_category(points: &Value) -> Value {
    json!(
        points
            .as_array()
            .expect("points")
            .iter()
            .map(|p| json!({"period": p["period"], "status": p["status"], "count": p["count"]}))
            .collect::<Vec<_>>()
    )
}

#[tokio::test]
async fn trends_equal_the_figures_computed_from_the_history() {
    let app = TestApp::spawn().await;
    generate(&app, 2024, 50, 80).await;
    let db = &app.db.db;
    let history = offer_history::Entity::find().all(db).await.expect("history");
    let reports = waiting_time::Entity::find().all(db).await.expect("reports");
    let ym = |y: i32, m: i32| y * 12 + m - 1;
    let query = r#"query($i: TrendInterval!, $c: CareCategory, $r: String, $g: String) { nationalPicture {
        all: offerTrend(from: "2025-02", to: "2026-11", interval: $i) { period category status count }
        one: offerTrend(from: "2025-02", to: "2026-11", interval: $i, category: $c, region: $r) { period category status count }
        waiting: waitingTimeTrend(from: "2025-11", to: "2026-05", interval: $i, region: $r, diagnosisGroup: $g) {
            period reports overTreeknorm shareOverTreeknorm medianWeeks p90Weeks
            intakes { exact fewerThan label } treatmentStarts { exact fewerThan label } }
        regions { code offerTrend(from: "2025-02", to: "2026-11", interval: $i, category: $c) { period status count } }
    } }"#;
    for (interval, step) in [("MONTH", 1), ("QUARTER", 3), ("YEAR", 12)] {
        let (first, last) = (ym(2025, 2) - ym(2025, 2) % step, ym(2026, 11) - ym(2026, 11) % step);
        let resp = app
            .graphql(query)
            .var("i", interval)
            .var("c", "ACUTE")
            .var("r", "utrecht")
            .var("g", "DEPRESSION")
            .as_caller(&patient_org())
            .send()
            .await;
        assert!(resp.body["errors"].is_null(), "{:#}", resp.body);
        let p = &resp.data()["nationalPicture"];
        let all = expected_trend(&history, first, last, step, |_| true);
        assert!(all.len() > 4, "{interval}: too few points");
        assert!(p["all"].as_array().expect("points").iter().all(|x| x["category"].is_null()));
        assert_close(&format!("{interval} national trend"), &strip_category(&p["all"]), &json!(all));
        let one = expected_trend(&history, first, last, step, |h| h.category == "ACUTE" && h.region_code == "utrecht");
        assert!(p["one"].as_array().expect("points").iter().all(|x| x["category"] == "ACUTE"));
        assert_close(&format!("{interval} utrecht ACUTE trend"), &strip_category(&p["one"]), &json!(one));
        for r in p["regions"].as_array().expect("regions") {
            let code = r["code"].as_str().expect("code").to_owned();
            let want = expected_trend(&history, first, last, step, |h| h.category == "ACUTE" && h.region_code == code);
            assert_close(&format!("{interval} {code} trend"), &r["offerTrend"], &json!(want));
        }
        // Waiting times per period: reports of the period's months, utrecht, DEPRESSION.
        let label = |i: i32| format!("{:04}-{:02}", i / 12, i % 12 + 1);
        let (wf, wl) = (ym(2025, 11) - ym(2025, 11) % step, ym(2026, 5) - ym(2026, 5) % step);
        let mut want = Vec::new();
        let mut idx = wf;
        while idx <= wl {
            let (from, to) = (label(idx), label(idx + step));
            let rows: Vec<&waiting_time::Model> = reports
                .iter()
                .filter(|r| {
                    r.month >= from && r.month < to && r.region_code == "utrecht" && r.diagnosis_group == "DEPRESSION"
                })
                .collect();
            if !rows.is_empty() {
                let mut f = figures(&rows, PATIENT_ORG);
                f["period"] = json!(from);
                want.push(f);
            }
            idx += step;
        }
        assert!(!want.is_empty());
        assert_close(&format!("{interval} waiting trend"), &p["waiting"], &json!(want));
    }
}

#[tokio::test]
async fn history_is_written_by_every_mutation_that_changes_it() {
    let app = TestApp::spawn().await;
    let db = &app.db.db;
    let create = r#"mutation { createCareOffer(input: { regionCode: "utrecht", category: ACUTE, careForm: "HIC",
        unitName: "HIC Noord", location: "Utrecht", availability: TWENTY_FOUR_SEVEN, capacity: { beds: 8 } }) { id version } }"#;
    let resp = app.graphql(create).as_caller(&provider_a()).send().await;
    let id = resp.data()["createCareOffer"]["id"].as_str().expect("id").to_owned();
    let steps = [
        r#"mutation($id: ID!) { updateCareOffer(id: $id, expectedVersion: 1, input: { status: UNDER_PRESSURE, capacity: { beds: 6 } }) { version } }"#,
        r#"mutation($id: ID!) { setIntakePause(offerId: $id, expectedVersion: 2, pause: { from: "2026-01-05", reason: "Vacatures" }) { version } }"#,
        r#"mutation($id: ID!) { endIntakePause(offerId: $id, expectedVersion: 3) { version } }"#,
        r#"mutation($id: ID!) { closeCareOffer(id: $id, expectedVersion: 4) { version } }"#,
    ];
    for s in steps {
        if s.contains("closeCareOffer") {
            // Closing needs an announced closure whose date has come (issue 21).
            app.closure_due(&id).await;
        }
        let resp = app.graphql(s).var("id", id.clone()).as_caller(&provider_a()).send().await;
        assert!(resp.body["errors"].is_null(), "{s}: {:#}", resp.body);
    }
    let rows = offer_history::Entity::find()
        .filter(offer_history::Column::OfferId.eq(id.clone()))
        .order_by_asc(offer_history::Column::Id)
        .all(db)
        .await
        .expect("history");
    let states: Vec<(&str, Option<i32>, bool)> =
        rows.iter().map(|h| (h.status.as_str(), h.beds, h.intake_pause_from.is_some())).collect();
    assert_eq!(
        states,
        vec![
            ("SECURED", Some(8), false),
            ("UNDER_PRESSURE", Some(6), false),
            ("UNDER_PRESSURE", Some(6), true),
            ("UNDER_PRESSURE", Some(6), false),
            ("CLOSED", Some(6), false)
        ]
    );
    assert_eq!(rows.iter().filter(|h| h.valid_to.is_none()).count(), 1, "one current state");
    assert!(rows.last().is_some_and(|h| h.valid_to.is_none()));
    // Signals: raise, acknowledge, escalate.
    let raise = r#"mutation($o: ID!) { raiseContinuitySignal(input: { offerId: $o, kind: STAFFING, severity: HIGH,
        description: "Drie vacatures" }) { id } }"#;
    let resp = app.graphql(raise).var("o", OFFER_A_CRISIS.to_string()).as_caller(&provider_a()).send().await;
    let sid = resp.data()["raiseContinuitySignal"]["id"].as_str().expect("id").to_owned();
    let ack = "mutation($id: ID!) { acknowledgeContinuitySignal(id: $id, expectedVersion: 1) { status } }";
    app.graphql(ack).var("id", sid.clone()).as_caller(&insurer_x()).send().await.data();
    let resolve = "mutation($id: ID!) { resolveContinuitySignal(id: $id, expectedVersion: 2) { status } }";
    app.graphql(resolve).var("id", sid.clone()).as_caller(&provider_a()).send().await.data();
    use ggzhub_region::history::signal_history;
    let events: Vec<(String, bool)> = signal_history::Entity::find()
        .filter(signal_history::Column::SignalId.eq(sid))
        .order_by_asc(signal_history::Column::Id)
        .all(db)
        .await
        .expect("events")
        .into_iter()
        .map(|e| (e.event, e.overdue_at.is_some()))
        .collect();
    assert_eq!(events, vec![("RAISED".into(), true), ("ACKNOWLEDGED".into(), false), ("RESOLVED".into(), false)]);
    // Waiting times: a report and its correction are both kept.
    let report = r#"mutation($p: ID!) { reportWaitingTime(input: { providerId: $p, regionCode: "utrecht", location: "Zeist", diagnosisGroup: "ANXIETY",
        month: "2026-03", registrationToIntakeWeeks: 3, intakeToTreatmentWeeks: 6, waitingCount: 40 }) { id } }"#;
    let resp = app.graphql(report).var("p", PROVIDER_A.to_string()).as_caller(&provider_a()).send().await;
    let rid = resp.data()["reportWaitingTime"]["id"].as_str().expect("id").to_owned();
    let correct = r#"mutation($id: ID!) { correctWaitingTime(id: $id, expectedVersion: 1, input: {
        registrationToIntakeWeeks: 5, intakeToTreatmentWeeks: 6, waitingCount: 41 }) { version } }"#;
    let resp = app.graphql(correct).var("id", rid.clone()).as_caller(&provider_a()).send().await;
    assert!(resp.body["errors"].is_null(), "{:#}", resp.body);
    use ggzhub_region::history::waiting_history;
    let versions: Vec<(i32, f64, bool)> = waiting_history::Entity::find()
        .filter(waiting_history::Column::ReportId.eq(rid))
        .order_by_asc(waiting_history::Column::Id)
        .all(db)
        .await
        .expect("versions")
        .into_iter()
        .map(|v| (v.version, v.registration_weeks, v.superseded_at.is_some()))
        .collect();
    assert_eq!(versions, vec![(1, 3.0, true), (2, 5.0, false)]);
}

#[tokio::test]
async fn each_kind_of_organisation_gets_what_the_matrix_says() {
    let app = TestApp::spawn().await;
    let query = r#"query { nationalPicture { offerCounts { count } capacity { beds } activeIntakePauses { count }
        signalCounts { open } waitingTimes(month: "2026-01") { reports }
        regions { code capacity { beds } offerCounts { count } waitingTimeFigures(month: "2026-01") { reports } } } }"#;
    // (caller, national capacity, regions whose capacity it reads, reads waiting times and signal counts)
    let cases: Vec<(&str, ggzhub_kit::testing::TestCaller, bool, Vec<&str>, bool)> = vec![
        ("provider at utrecht", provider_a(), false, vec!["utrecht"], true),
        ("provider at amsterdam", provider_b(), false, vec!["amsterdam"], true),
        ("insurer at utrecht", insurer_x(), false, vec!["utrecht"], true),
        ("patient organisation", patient_org(), false, vec![], true),
        ("municipality", municipality(), false, vec![], true),
        ("national table", national_table(), true, vec!["amsterdam", "groningen", "utrecht"], true),
        ("hub operator", operator(), false, vec![], false),
    ];
    for (who, caller, national_capacity, regions, reads_waiting) in cases {
        let resp = app.graphql(query).as_caller(&caller).send().await;
        let p = &resp.body["data"]["nationalPicture"];
        assert!(p["offerCounts"].as_array().is_some_and(|a| !a.is_empty()), "{who}: {:#}", resp.body);
        assert!(p["activeIntakePauses"].is_array(), "{who}");
        if national_capacity {
            assert!(p["capacity"].is_array(), "{who}: {:#}", resp.body);
        } else {
            assert!(p["capacity"].is_null(), "{who}");
            assert_eq!(resp.error_code_at(&["nationalPicture", "capacity"]), Some("FORBIDDEN".into()), "{who}");
        }
        if reads_waiting {
            let reports: i64 =
                p["waitingTimes"].as_array().expect("figures").iter().filter_map(|f| f["reports"].as_i64()).sum();
            assert_eq!(reports, 2, "{who}");
            assert!(p["signalCounts"]["open"].is_number(), "{who}");
        } else {
            assert!(p["waitingTimes"].is_null() && p["signalCounts"].is_null(), "{who}");
        }
        for (i, r) in p["regions"].as_array().expect("regions").iter().enumerate() {
            let code = r["code"].as_str().expect("code");
            assert!(r["offerCounts"].is_array(), "{who} {code}");
            if regions.contains(&code) {
                assert!(r["capacity"].is_array(), "{who} reads {code}'s capacity: {:#}", resp.body);
            } else {
                assert!(r["capacity"].is_null(), "{who} reads no capacity of {code}");
                let path = ["nationalPicture".to_owned(), "regions".to_owned(), i.to_string(), "capacity".to_owned()];
                let path: Vec<&str> = path.iter().map(String::as_str).collect();
                assert_eq!(resp.error_code_at(&path), Some("FORBIDDEN".into()), "{who} {code}");
            }
        }
    }
    // The public contract: counts, pauses, signal counts and waiting figures are tagged public,
    // capacity is not.
    let sdl = ggzhub_region::graphql::sdl();
    for public in [
        "offerCounts: [OfferCount!]! @tag(name: \"public\")",
        "activeIntakePauses: [CategoryCount!]! @tag(name: \"public\")",
        "nationalPicture: NationalPicture! @tag(name: \"public\")",
        "type WaitingTimeFigure @tag(name: \"public\")",
        "type OfferCount @tag(name: \"public\")",
    ] {
        assert!(sdl.contains(public), "SDL lacks {public}");
    }
    assert!(sdl.contains("capacity: [CapacityTotal!]\n") || sdl.contains("capacity: [CapacityTotal!]\r\n"));
    assert!(!sdl.contains("capacity: [CapacityTotal!] @tag"), "capacity totals are not public");
    assert!(!sdl.contains("type CapacityTotal @tag"), "capacity totals are not public");
}

#[tokio::test]
async fn trend_arguments_are_validated() {
    let app = TestApp::spawn().await;
    for (from, to) in [("2026-13", "2026-12"), ("2026-05", "2026-01"), ("2000-01", "2026-01"), ("x", "2026-01")] {
        let q = format!(r#"query {{ nationalPicture {{ offerTrend(from: "{from}", to: "{to}") {{ count }} }} }}"#);
        let resp = app.graphql(&q).as_caller(&national_table()).send().await;
        assert_eq!(resp.error_codes(), vec!["BAD_USER_INPUT".to_owned()], "{from}..{to}: {:#}", resp.body);
    }
}

/// Adds `n` regions with `offers` offers each (directly).
async fn add_regions(app: &TestApp, from: usize, n: usize, offers: usize) {
    let now = Utc::now();
    for i in from..from + n {
        let code = format!("extra-{i}");
        region::ActiveModel {
            code: Set(code.clone()),
            name: Set(format!("Regio {i}")),
            kind: Set("IZA".into()),
            neighbours: Set(json!([])),
            coordinating_insurer_id: Set(None),
            map_row: Set(None),
            map_column: Set(None),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            created_by: Set(OPERATOR.to_string()),
            updated_by: Set(OPERATOR.to_string()),
        }
        .insert(&app.db.db)
        .await
        .expect("region inserts");
        for k in 0..offers {
            app.insert_offer(PROVIDER_A, &code, FORMS[k % 4], &format!("Team {k}")).await;
        }
    }
}

/// Statements of `query` (the fewest of three runs: on a loaded machine a loader's batch may
/// split over two rounds when a chained field's first load answers early) and its regions.
async fn picture_statements(app: &TestApp, query: &str) -> (usize, usize) {
    let mut fewest = usize::MAX;
    let mut regions = 0;
    for _ in 0..3 {
        let before = app.statement_count();
        let resp = app.graphql(query).as_caller(&national_table()).send().await;
        assert!(resp.body["errors"].is_null(), "{:#}", resp.body);
        regions = resp.data()["nationalPicture"]["regions"].as_array().map_or(0, Vec::len);
        fewest = fewest.min(app.statement_count() - before);
    }
    (fewest, regions)
}

#[tokio::test]
async fn statements_of_the_national_picture_do_not_grow_with_regions_or_offers() {
    let app = TestApp::spawn().await;
    let query = r#"query { nationalPicture {
        offerCounts { count } capacity { beds } activeIntakePauses { count } signalCounts { open overdue }
        waitingTimes { reports medianWeeks intakes { exact label } treatmentStarts { exact label } }
        offerTrend(from: "2025-01", to: "2026-12") { count }
        waitingTimeTrend(from: "2025-01", to: "2026-12") { reports intakes { exact } treatmentStarts { exact } }
        regions { code tile { row } missingCategories offerCounts { count } capacity { beds }
            activeIntakePauses { count } signalCounts { open overdue }
            waitingTimeFigures { reports intakes { exact label } treatmentStarts { label } }
            offerTrend(from: "2025-01", to: "2026-12", interval: QUARTER) { count }
            hotspotReport(quarter: "2026-Q1") { reports } announcedClosures { offer { id } }
            transferLead { proposed { providerId } }
            offers(first: 5) { totalCount } } } }"#;
    add_regions(&app, 0, 2, 2).await;
    // IZA regions answering for care-office regions (issue 21 item 6) batch as well.
    add_overlaps(&app, "extra-0", &["groningen"]).await;
    // Some reports already, so that the transfer leads' loader reads the same statements twice.
    generate(&app, 3, 3, 5).await;
    let (small, r1) = picture_statements(&app, query).await;
    add_regions(&app, 2, 10, 6).await;
    let more = ["co-0", "co-1", "co-2", "co-3"];
    add_care_office_regions(&app, &more).await;
    for (i, code) in more.iter().enumerate() {
        for k in 0..3 {
            app.insert_offer(PROVIDER_B, code, FORMS[(i + k) % 4], &format!("Team {code} {k}")).await;
        }
    }
    for i in 2..12 {
        add_overlaps(&app, &format!("extra-{i}"), &["groningen", more[i % 4], more[(i + 1) % 4]]).await;
    }
    generate(&app, 7, 20, 30).await;
    let (large, r2) = picture_statements(&app, query).await;
    println!("national picture: {small} SQL statements for {r1} regions, {large} for {r2} regions and more offers");
    assert_eq!((r1, r2), (5, 19));
    assert!(large <= small, "statements grew with regions/offers/overlaps ({small} → {large})");
    // 7 national figures, the regions, one statement per per-region aggregate (the transfer
    // lead's two), and the IZA regions' overlaps once per loader that answers for them
    // (missing categories, hotspots, announced closures, capacity and transfer lead).
    assert!(large <= 31, "expected at most 31 statements, got {large}");
}

/// Adds care-office regions (no offers).
async fn add_care_office_regions(app: &TestApp, codes: &[&str]) {
    let now = Utc::now();
    for code in codes {
        region::ActiveModel {
            code: Set((*code).to_owned()),
            name: Set(format!("Zorgkantoorregio {code}")),
            kind: Set("CARE_OFFICE".into()),
            neighbours: Set(json!([])),
            coordinating_insurer_id: Set(None),
            map_row: Set(None),
            map_column: Set(None),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            created_by: Set(OPERATOR.to_string()),
            updated_by: Set(OPERATOR.to_string()),
        }
        .insert(&app.db.db)
        .await
        .expect("region inserts");
    }
}

/// Adds an IZA region overlapping `parts`.
async fn add_iza_region(app: &TestApp, code: &str, parts: &[&str]) {
    let now = Utc::now();
    region::ActiveModel {
        code: Set(code.to_owned()),
        name: Set(format!("IZA-regio {code}")),
        kind: Set("IZA".into()),
        neighbours: Set(json!([])),
        coordinating_insurer_id: Set(None),
        map_row: Set(None),
        map_column: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        created_by: Set(OPERATOR.to_string()),
        updated_by: Set(OPERATOR.to_string()),
    }
    .insert(&app.db.db)
    .await
    .expect("region inserts");
    add_overlaps(app, code, parts).await;
}

/// Lets the IZA region `code` overlap `parts` (directly, as `setRegionOverlaps` stores it).
async fn add_overlaps(app: &TestApp, code: &str, parts: &[&str]) {
    use ggzhub_region::entity::region_overlap;
    let now = Utc::now();
    for part in parts {
        region_overlap::ActiveModel {
            id: Set(Uuid::now_v7().to_string()),
            iza_code: Set(code.to_owned()),
            care_office_code: Set((*part).to_owned()),
            created_at: Set(now),
            created_by: Set(OPERATOR.to_string()),
        }
        .insert(&app.db.db)
        .await
        .expect("overlap inserts");
    }
}

/// A continuity signal on `offer` with `status`, raised `days_ago`.
async fn add_signal(app: &TestApp, offer: &care_offer::Model, status: &str, days_ago: i64) {
    let raised = Utc::now() - Duration::days(days_ago);
    signal::ActiveModel {
        id: Set(Uuid::now_v7().to_string()),
        offer_id: Set(offer.id.clone()),
        provider_id: Set(offer.provider_id.clone()),
        region_code: Set(offer.region_code.clone()),
        kind: Set("STAFFING".into()),
        severity: Set("HIGH".into()),
        description: Set("Personeelstekort".into()),
        expected_date: Set(None),
        status: Set(status.to_owned()),
        raised_at: Set(raised),
        acknowledgement_deadline: Set(raised + Duration::days(14)),
        acknowledged_at: Set(None),
        acknowledged_by: Set(None),
        response: Set(None),
        overdue_emitted_at: Set(None),
        version: Set(1),
        created_at: Set(raised),
        updated_at: Set(raised),
        created_by: Set(offer.provider_id.clone()),
        updated_by: Set(offer.provider_id.clone()),
    }
    .insert(&app.db.db)
    .await
    .expect("signal inserts");
}

/// Every picture field of a region keyed on its code (issue 21 item 6).
const REGION_PICTURE: &str = r#"fragment P on Region {
    offerCounts { category status count } capacity { category beds places teams fte }
    activeIntakePauses { category count } signalCounts { open acknowledged escalated resolved overdue }
    waitingTimeFigures(month: "2026-02") { diagnosisGroup reports overTreeknorm medianWeeks p90Weeks }
    offerTrend(from: "2025-01", to: "2026-12", interval: QUARTER) { period status count }
    missingCategories
    hotspotReport(quarter: "2026-Q1") { reports diagnosisGroups { diagnosisGroup reportsOverNorm }
        locations { providerId location reportsOverNorm } worstWaits { totalWeeks } }
    announcedClosures { offer { id } }
    transferLead { proposed { providerId } }
    offers(first: 1) { totalCount } }
query { a: region(code: "groningen") { ...P } b: region(code: "drenthe") { ...P }
    iza: region(code: "iza-noord") { ...P } oost: region(code: "iza-oost") { ...P } }"#;

/// Rows of a list field as a map from the `key` fields to the `value` fields.
fn by_key(list: &Value, key: &[&str], value: &[&str]) -> BTreeMap<String, Vec<f64>> {
    let mut out = BTreeMap::new();
    for row in list.as_array().into_iter().flatten() {
        let k = key.iter().map(|f| row[*f].to_string()).collect::<Vec<_>>().join("/");
        let v: Vec<f64> = value.iter().map(|f| row[*f].as_f64().expect("number")).collect();
        assert!(out.insert(k, v).is_none(), "one row per key in {list:#}");
    }
    out
}

/// The sum of two keyed lists.
fn summed(a: BTreeMap<String, Vec<f64>>, b: BTreeMap<String, Vec<f64>>) -> BTreeMap<String, Vec<f64>> {
    let mut out = a;
    for (k, v) in b {
        let e = out.entry(k).or_insert_with(|| vec![0.0; v.len()]);
        for (x, y) in e.iter_mut().zip(v) {
            *x += y;
        }
    }
    out
}

#[track_caller]
fn assert_sums(what: &str, got: BTreeMap<String, Vec<f64>>, want: BTreeMap<String, Vec<f64>>) {
    let close = got.len() == want.len()
        && got.iter().zip(&want).all(|((k, v), (l, w))| k == l && v.iter().zip(w).all(|(x, y)| (x - y).abs() < 1e-9));
    assert!(close, "{what}:\n got  {got:?}\n want {want:?}");
}

fn strings(v: &Value, field: &str) -> std::collections::BTreeSet<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|x| if field.is_empty() { x.to_string() } else { x[field].to_string() })
        .collect()
}

/// Issue 21 item 6: an IZA region's picture is the union of the care-office regions it overlaps
/// (each offer, report and signal once, an offer in a region overlapped by two IZA regions in
/// both), and a caller reads no more through it than through the parts.
#[tokio::test]
async fn an_iza_regions_picture_is_the_union_of_the_care_office_regions_it_overlaps() {
    let app = TestApp::spawn().await;
    add_care_office_regions(&app, &["drenthe"]).await;
    add_iza_region(&app, "iza-noord", &["groningen", "drenthe"]).await;
    add_iza_region(&app, "iza-oost", &["drenthe"]).await;
    // utrecht's offers are noise: not part of either IZA region.
    generate_in(&app, 21, 60, 120, &["groningen", "drenthe", "utrecht"]).await;
    let db = &app.db.db;
    let offers = care_offer::Entity::find().order_by_asc(care_offer::Column::Id).all(db).await.expect("offers");
    let mut announced = 0;
    let in_parts = |code: &str| code == "groningen" || code == "drenthe";
    for (i, o) in offers.iter().filter(|o| in_parts(&o.region_code)).enumerate() {
        add_signal(&app, o, ["OPEN", "ACKNOWLEDGED", "ESCALATED", "RESOLVED"][i % 4], [3, 30][i % 2]).await;
        if i % 7 == 0 && o.status != "CLOSED" {
            app.closure_due(&o.id).await;
            announced += 1;
        }
    }
    assert!(announced >= 2, "closures in the parts");

    let resp = app.graphql(REGION_PICTURE).as_caller(&national_table()).send().await;
    assert!(resp.body["errors"].is_null(), "{:#}", resp.body);
    let data = resp.data();
    let (a, b, iza, oost) = (&data["a"], &data["b"], &data["iza"], &data["oost"]);
    let sum = |field: &str, key: &[&str], value: &[&str]| {
        summed(by_key(&a[field], key, value), by_key(&b[field], key, value))
    };
    let got = |r: &Value, field: &str, key: &[&str], value: &[&str]| by_key(&r[field], key, value);
    for (field, key, value) in [
        ("offerCounts", &["category", "status"][..], &["count"][..]),
        ("capacity", &["category"], &["beds", "places", "teams", "fte"]),
        ("activeIntakePauses", &["category"], &["count"]),
        ("offerTrend", &["period", "status"], &["count"]),
    ] {
        let want = sum(field, key, value);
        assert!(!want.is_empty(), "{field}: the parts have figures");
        assert_sums(field, got(iza, field, key, value), want);
        // drenthe's offers count in both IZA regions that overlap it.
        assert_sums(field, got(oost, field, key, value), got(b, field, key, value));
    }
    let signal_fields = ["open", "acknowledged", "escalated", "resolved", "overdue"];
    for f in signal_fields {
        let want = a["signalCounts"][f].as_i64().expect("count") + b["signalCounts"][f].as_i64().expect("count");
        assert_eq!(iza["signalCounts"][f].as_i64(), Some(want), "signalCounts.{f}");
        assert_eq!(oost["signalCounts"][f], b["signalCounts"][f], "signalCounts.{f}");
    }
    let total = |r: &Value| r["offers"]["totalCount"].as_i64().expect("count");
    assert_eq!(total(iza), total(a) + total(b));
    assert_eq!(total(iza) as usize, offers.iter().filter(|o| in_parts(&o.region_code)).count());

    // Waiting times: the figures of the parts' reports together (medians computed over them).
    let reports = waiting_time::Entity::find().all(db).await.expect("reports");
    let mut by_group: BTreeMap<&str, Vec<&waiting_time::Model>> = BTreeMap::new();
    for r in reports.iter().filter(|r| r.month == "2026-02" && in_parts(&r.region_code)) {
        by_group.entry(r.diagnosis_group.as_str()).or_default().push(r);
    }
    let want: Vec<Value> = by_group
        .iter()
        .map(|(g, rows)| {
            let f = figures(rows, NATIONAL_TABLE);
            json!({"diagnosisGroup": g, "reports": f["reports"], "overTreeknorm": f["overTreeknorm"],
                   "medianWeeks": f["medianWeeks"], "p90Weeks": f["p90Weeks"]})
        })
        .collect();
    assert!(!want.is_empty(), "reports in the parts");
    assert_close("waitingTimeFigures", &iza["waitingTimeFigures"], &json!(want));

    // Missing: only what every part misses (a part with the category covers it).
    let missing = |r: &Value| strings(&r["missingCategories"], "");
    let both: std::collections::BTreeSet<String> = missing(a).intersection(&missing(b)).cloned().collect();
    assert_eq!(missing(iza), both);
    assert!(missing(iza).contains("\"SECURE\""), "no secure offer anywhere: {}", iza["missingCategories"]);

    // Hotspots: the quarter's reports of both parts, each once.
    let h = |r: &Value, f: &str| r["hotspotReport"][f].clone();
    assert_eq!(
        h(iza, "reports").as_i64(),
        Some(h(a, "reports").as_i64().expect("n") + h(b, "reports").as_i64().expect("n"))
    );
    let groups = |r: &Value| by_key(&r["hotspotReport"]["diagnosisGroups"], &["diagnosisGroup"], &["reportsOverNorm"]);
    assert_sums("hotspot groups", groups(iza), summed(groups(a), groups(b)));
    let locations = |r: &Value| strings(&r["hotspotReport"]["locations"], "location");
    assert_eq!(locations(iza), locations(a).union(&locations(b)).cloned().collect());
    assert!(!locations(iza).is_empty(), "reports over the norm in the quarter");

    // Announced closures: those of both parts, soonest first, each once.
    let closures = |r: &Value| strings(&r["announcedClosures"], "offer");
    assert_eq!(iza["announcedClosures"].as_array().map(Vec::len), Some(announced));
    assert_eq!(closures(iza), closures(a).union(&closures(b)).cloned().collect());

    // The transfer lead is a care-office region's: null for an IZA region with overlaps.
    assert!(a["transferLead"].is_object(), "{a:#}");
    assert_eq!(iza["transferLead"], Value::Null);
    assert_eq!(oost["transferLead"], Value::Null);
    let chair = TestCaller::new(ggzhub_kit::OrgKind::Provider, PROVIDER_B, &["iza-noord"]).with_role("chair:iza-noord");
    let resp = app
        .graphql("mutation($p: ID!) { confirmTransferLead(regionCode: \"iza-noord\", providerId: $p) { confirmed { version } } }")
        .var("p", PROVIDER_B.to_string())
        .as_caller(&chair)
        .send()
        .await;
    assert_refused(&resp, "confirmTransferLead", "BAD_USER_INPUT");
    assert!(resp.expect_error("BAD_USER_INPUT").contains("confirm the transfer lead of each care-office region"));

    // No caller reads more through the IZA region than through its parts.
    let participant_of = |regions: &[&str]| TestCaller::new(ggzhub_kit::OrgKind::Provider, PROVIDER_B, regions);
    let mut callers = all_personas();
    callers.push(("provider at groningen", participant_of(&["groningen"])));
    callers.push(("provider at both parts", participant_of(&["groningen", "drenthe"])));
    callers.push(("provider at iza-noord and groningen", participant_of(&["iza-noord", "groningen"])));
    let everywhere = ("provider at iza-noord and both parts", participant_of(&["iza-noord", "groningen", "drenthe"]));
    callers.push(everywhere.clone());
    let fields = [
        "offerCounts",
        "capacity",
        "activeIntakePauses",
        "signalCounts",
        "waitingTimeFigures",
        "offerTrend",
        "missingCategories",
        "hotspotReport",
        "announcedClosures",
        "offers",
    ];
    for (label, caller) in &callers {
        let resp = app.graphql(REGION_PICTURE).as_caller(caller).send().await;
        for field in fields {
            let refused = |alias: &str| resp.error_code_at(&[alias, field]);
            if let Some(code) = refused("a").or_else(|| refused("b")) {
                assert_eq!(refused("iza"), Some(code.clone()), "{label}: {field} refused in a part, so in iza-noord");
            }
            if refused("iza").is_none() {
                assert!(!resp.body["data"]["iza"][field].is_null(), "{label}: {field}: {:#}", resp.body);
            }
        }
    }
    // Capacity: only a participant of the IZA region and every part reads its sum.
    for (caller, readable) in [(&callers[callers.len() - 2].1, false), (&everywhere.1, true)] {
        let resp = app.graphql(REGION_PICTURE).as_caller(caller).send().await;
        let code = resp.error_code_at(&["iza", "capacity"]);
        assert_eq!(code.is_none(), readable, "{:#}", resp.body["errors"]);
        if !readable {
            assert_eq!(code.as_deref(), Some("FORBIDDEN"));
        }
    }
}

/// Inserts one waiting-time report with the given intakes and treatment starts.
async fn report_flows(
    app: &TestApp,
    provider: Uuid,
    region: &str,
    group: &str,
    month: &str,
    intakes: Option<i32>,
    treatment_starts: Option<i32>,
) {
    let now = Utc::now();
    waiting_time::ActiveModel {
        id: Set(Uuid::now_v7().to_string()),
        provider_id: Set(provider.to_string()),
        region_code: Set(region.to_owned()),
        location: Set(format!("Locatie {}", Uuid::now_v7())),
        diagnosis_group: Set(group.to_owned()),
        month: Set(month.to_owned()),
        registration_weeks: Set(3.0),
        treatment_weeks: Set(5.0),
        waiting_count: Set(40),
        intakes: Set(intakes),
        treatment_starts: Set(treatment_starts),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        created_by: Set(provider.to_string()),
        updated_by: Set(provider.to_string()),
    }
    .insert(&app.db.db)
    .await
    .expect("report inserts");
}

fn exact(n: i32) -> Value {
    json!({"exact": n, "fewerThan": null, "label": n.to_string()})
}

fn suppressed() -> Value {
    json!({"exact": null, "fewerThan": null, "label": "suppressed (includes counts below 10)"})
}

#[tokio::test]
async fn intakes_and_treatment_starts_are_summed_and_a_foreign_small_cell_is_never_given_away() {
    let app = TestApp::spawn().await;
    // 2024-03, utrecht: DEPRESSION 12 + 20 intakes (no small cell), starts only from A (10).
    report_flows(&app, PROVIDER_A, "utrecht", "DEPRESSION", "2024-03", Some(12), Some(10)).await;
    report_flows(&app, PROVIDER_B, "utrecht", "DEPRESSION", "2024-03", Some(20), None).await;
    // ANXIETY: A's small cell of 4 beside B's 15 (19: exact only to A); nobody gave starts.
    report_flows(&app, PROVIDER_A, "utrecht", "ANXIETY", "2024-03", Some(4), None).await;
    report_flows(&app, PROVIDER_B, "utrecht", "ANXIETY", "2024-03", Some(15), None).await;
    // amsterdam: DEPRESSION 3 (A) + 2 (B) intakes, 0 starts; ANXIETY gave none at all.
    report_flows(&app, PROVIDER_A, "amsterdam", "DEPRESSION", "2024-03", Some(3), Some(0)).await;
    report_flows(&app, PROVIDER_B, "amsterdam", "DEPRESSION", "2024-03", Some(2), Some(0)).await;
    report_flows(&app, PROVIDER_B, "amsterdam", "ANXIETY", "2024-03", None, None).await;
    // 2024-02, utrecht DEPRESSION: B's 30 intakes and 9 starts (a small cell of B's).
    report_flows(&app, PROVIDER_B, "utrecht", "DEPRESSION", "2024-02", Some(30), Some(9)).await;

    let query = r#"query { nationalPicture {
        waitingTimes(month: "2024-03") { diagnosisGroup intakes { exact fewerThan label } treatmentStarts { exact fewerThan label } }
        trend: waitingTimeTrend(from: "2024-01", to: "2024-06", interval: QUARTER, region: "utrecht") {
            period reports intakes { exact fewerThan label } treatmentStarts { exact fewerThan label } }
        monthly: waitingTimeTrend(from: "2024-02", to: "2024-03", region: "utrecht", diagnosisGroup: "DEPRESSION") {
            period intakes { exact fewerThan label } treatmentStarts { exact fewerThan label } }
        regions { code waitingTimeFigures(month: "2024-03") {
            diagnosisGroup intakes { exact fewerThan label } treatmentStarts { exact fewerThan label } } }
    } }"#;
    let flows = |v: &Value| -> BTreeMap<String, (Value, Value)> {
        v.as_array()
            .expect("figures")
            .iter()
            .map(|f| {
                (
                    f["diagnosisGroup"].as_str().expect("group").to_owned(),
                    (f["intakes"].clone(), f["treatmentStarts"].clone()),
                )
            })
            .collect()
    };
    for (who, caller, anxiety_intakes, trend_starts) in [
        ("provider A (supplied the 4)", provider_a(), exact(19), suppressed()),
        ("provider B (supplied the 9)", provider_b(), suppressed(), exact(19)),
        ("national table", national_table(), suppressed(), suppressed()),
        ("patient organisation", patient_org(), suppressed(), suppressed()),
    ] {
        let resp = app.graphql(query).as_caller(&caller).send().await;
        assert!(resp.body["errors"].is_null(), "{who}: {:#}", resp.body);
        let p = &resp.data()["nationalPicture"];
        let national = flows(&p["waitingTimes"]);
        // 12 + 20 + 3 + 2: A's 3 and B's 2 are small cells, someone else's for every caller.
        assert_eq!(national["DEPRESSION"], (suppressed(), exact(10)), "{who}");
        assert_eq!(national["ANXIETY"], (anxiety_intakes.clone(), Value::Null), "{who}: no report gave starts");
        let regions: BTreeMap<&str, &Value> =
            p["regions"].as_array().expect("regions").iter().map(|r| (r["code"].as_str().expect("code"), r)).collect();
        let utrecht = flows(&regions["utrecht"]["waitingTimeFigures"]);
        assert_eq!(utrecht["DEPRESSION"], (exact(32), exact(10)), "{who}");
        assert_eq!(utrecht["ANXIETY"], national["ANXIETY"], "{who}");
        let amsterdam = flows(&regions["amsterdam"]["waitingTimeFigures"]);
        assert_eq!(
            amsterdam["DEPRESSION"],
            (suppressed(), exact(0)),
            "{who}: 5 holds someone else's small cell (not 'fewer than 10')"
        );
        assert_eq!(amsterdam["ANXIETY"], (Value::Null, Value::Null), "{who}: null, not 0");
        assert!(flows(&regions["groningen"]["waitingTimeFigures"]).is_empty(), "{who}");
        // Q1 2024 in utrecht: intakes 12 + 20 + 4 + 15 + 30 = 81, starts 10 + 9 = 19.
        let trend = p["trend"].as_array().expect("trend");
        assert_eq!(trend.len(), 1, "{who}: periods without reports are left out");
        assert_eq!((&trend[0]["period"], &trend[0]["reports"]), (&json!("2024-01"), &json!(5)));
        let q1_intakes = if who.starts_with("provider A") { exact(81) } else { suppressed() };
        assert_eq!(trend[0]["intakes"], q1_intakes, "{who}");
        assert_eq!(trend[0]["treatmentStarts"], trend_starts, "{who}");
        let monthly: Vec<(&Value, &Value, &Value)> = p["monthly"]
            .as_array()
            .expect("monthly")
            .iter()
            .map(|m| (&m["period"], &m["intakes"], &m["treatmentStarts"]))
            .collect();
        let feb_starts = if who.starts_with("provider B") { exact(9) } else { suppressed() };
        assert_eq!(
            monthly,
            [(&json!("2024-02"), &exact(30), &feb_starts), (&json!("2024-03"), &exact(32), &exact(10))],
            "{who}"
        );
    }
}
