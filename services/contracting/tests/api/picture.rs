//! `Region.contractedNextYear` (issue 14): per region and category, the offers with an agreed
//! contract next year — compared with the figure computed here from generated rows (seeded random
//! insurers, providers, statuses and years), per kind of organisation; the competition-law rule
//! (one insurer's contract varied: an outsider's view does not move below three insurers); the
//! region and category recorded through the API; and one statement for all regions of a request.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, Utc};
use ggzhub_contracting::clock::Today;
use ggzhub_contracting::entity::{contract, covered, offer_place};
use ggzhub_kit::OrgKind;
use ggzhub_kit::testing::TestCaller;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

/// Contracting's today in these tests: next year is 2027.
const TODAY: (i32, u32, u32) = (2026, 6, 15);
const NEXT_YEAR: i32 = 2027;

fn today() -> Today {
    Today::Fixed(NaiveDate::from_ymd_opt(TODAY.0, TODAY.1, TODAY.2).expect("valid date"))
}

async fn spawn() -> TestApp {
    TestApp::spawn_at(true, true, today()).await
}

/// A small deterministic generator (SplitMix64): the same data on every run and backend.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }
}

const REGIONS: [&str; 3] = ["utrecht", "amsterdam", "limburg"];
const CATEGORIES: [&str; 6] = ["ACUTE", "OUTREACH", "CLINICAL", "SECURE", "SPECIALIST_MHC", "SPECIALIST_HOSPITAL"];
/// A provider at the utrecht table that is party to none of the contracts below.
const P3: Uuid = Uuid::from_u128(0xa3);
const I6: Uuid = Uuid::from_u128(0x1006);

fn p3() -> TestCaller {
    TestCaller::new(OrgKind::Provider, P3, &["utrecht"])
}

/// A contract as the test keeps it, to compute the expected figures.
#[derive(Debug, Clone)]
struct K {
    id: String,
    insurer: Uuid,
    provider: Uuid,
    status: &'static str,
    first: i32,
    last: i32,
    offers: Vec<String>,
}

/// An offer's place as the test keeps it.
#[derive(Debug, Clone)]
struct Place {
    region: String,
    category: String,
}

async fn insert_place(app: &TestApp, offer: &str, region: &str, category: &str) {
    offer_place::ActiveModel {
        offer_id: Set(offer.to_owned()),
        region_code: Set(region.to_owned()),
        category: Set(category.to_owned()),
    }
    .insert(app.conn())
    .await
    .expect("offer place inserts");
}

async fn insert(app: &TestApp, k: &K) {
    let now = Utc::now();
    let offers: Vec<Uuid> = k.offers.iter().map(|o| Uuid::parse_str(o).expect("uuid")).collect();
    contract::ActiveModel {
        id: Set(k.id.clone()),
        insurer_id: Set(k.insurer.to_string()),
        provider_id: Set(k.provider.to_string()),
        status: Set(k.status.to_owned()),
        first_year: Set(k.first),
        last_year: Set(k.last),
        terms: Set(terms(&offers)),
        terms_version: Set(1),
        pending_terms: Set(None),
        return_reason: Set(None),
        amendment_rejection: Set(None),
        termination_reason: Set(None),
        agreed_at: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        created_by: Set(k.insurer.to_string()),
        updated_by: Set(k.insurer.to_string()),
    }
    .insert(app.conn())
    .await
    .expect("contract inserts");
    for o in &k.offers {
        covered::ActiveModel {
            id: Set(Uuid::now_v7().to_string()),
            contract_id: Set(k.id.clone()),
            offer_id: Set(o.clone()),
        }
        .insert(app.conn())
        .await
        .expect("covered offer inserts");
    }
}

async fn remove(app: &TestApp, id: &str) {
    covered::Entity::delete_many().filter(covered::Column::ContractId.eq(id)).exec(app.conn()).await.expect("deletes");
    contract::Entity::delete_by_id(id.to_owned()).exec(app.conn()).await.expect("deletes");
}

/// Whether `caller` is a party to `k` (its contracts are left out of what it is shown).
fn party(caller: &TestCaller, k: &K) -> bool {
    (caller.kind == OrgKind::Insurer && caller.org == k.insurer)
        || (caller.kind == OrgKind::Provider && caller.org == k.provider)
}

/// What `caller` should be shown of `region`, computed from the rows: per category the offers
/// with an AGREED contract running next year and the insurers behind them, over contracts the
/// caller is no party to; banded below three insurers.
fn expected(contracts: &[K], places: &BTreeMap<String, Place>, caller: &TestCaller, region: &str) -> Value {
    let mut cells: BTreeMap<&str, (BTreeSet<String>, BTreeSet<Uuid>)> = BTreeMap::new();
    for k in contracts {
        if k.status != "AGREED" || k.first > NEXT_YEAR || k.last < NEXT_YEAR || party(caller, k) {
            continue;
        }
        for o in &k.offers {
            let Some(p) = places.get(o) else { continue };
            if p.region == region {
                let cell = cells.entry(CATEGORIES.iter().find(|c| **c == p.category).expect("category")).or_default();
                cell.0.insert(o.clone());
                cell.1.insert(k.insurer);
            }
        }
    }
    json!(
        CATEGORIES
            .iter()
            .map(|c| match cells.get(c) {
                Some((offers, insurers)) if insurers.len() >= 3 => {
                    json!({ "category": c, "year": NEXT_YEAR, "band": "EXACT", "offersContracted": offers.len() })
                }
                _ => json!({ "category": c, "year": NEXT_YEAR, "band": "FEWER_THAN_THREE", "offersContracted": null }),
            })
            .collect::<Vec<_>>()
    )
}

const CONTRACTED: &str = r#"query($r: [_Any!]!) { _entities(representations: $r) { ... on Region { code
    contractedNextYear { category year band offersContracted } } } }"#;

fn region_reps(codes: &[&str]) -> Value {
    json!(codes.iter().map(|c| json!({ "__typename": "Region", "code": c })).collect::<Vec<_>>())
}

/// What `caller` is shown of `codes`: per region the figures, or the error code (async-graphql
/// leaves a refused field of an entity out and names no index in the error's path, so the
/// refusals are matched to the regions without figures by count; all must carry one code).
async fn seen(app: &TestApp, caller: &TestCaller, codes: &[&str]) -> Vec<Result<Value, String>> {
    let resp = app.graphql(CONTRACTED).var("r", region_reps(codes)).as_caller(caller).send().await;
    let entities = resp.body["data"]["_entities"].as_array().cloned().unwrap_or_default();
    assert_eq!(entities.len(), codes.len(), "{:#}", resp.body);
    let refusals = entity_error_codes(&resp, Some("contractedNextYear"));
    let missing = entities.iter().filter(|e| e["contractedNextYear"].is_null()).count();
    assert_eq!(refusals.len(), missing, "one refusal per region without figures: {:#}", resp.body);
    assert_eq!(resp.error_codes().len(), missing, "no other errors: {:#}", resp.body);
    let refused = refusals.first().cloned().unwrap_or_default();
    assert!(refusals.iter().all(|c| *c == refused), "{refusals:?}");
    entities
        .iter()
        .zip(codes)
        .map(|(e, code)| {
            assert_eq!(e["code"], *code);
            match &e["contractedNextYear"] {
                Value::Null => Err(refused.clone()),
                figures => Ok(figures.clone()),
            }
        })
        .collect()
}

#[tokio::test]
async fn contracted_next_year_matches_the_rows_for_every_kind_of_organisation() {
    let app = spawn().await;
    let mut rng = Rng(14);
    let mut places = BTreeMap::new();
    let offers: Vec<String> = (0..40).map(|_| Uuid::now_v7().to_string()).collect();
    for o in &offers {
        let p = Place { region: rng.pick(&REGIONS).to_owned(), category: rng.pick(&CATEGORIES[..3]).to_owned() };
        insert_place(&app, o, &p.region, &p.category).await;
        places.insert(o.clone(), p);
    }
    let insurers = [I1, I2, I3, I4, I5, I6];
    let providers = [P1, P2, P3];
    let mut contracts = vec![];
    for _ in 0..120 {
        let first = NEXT_YEAR - 2 + rng.below(4) as i32;
        let mut covered: Vec<String> = (0..1 + rng.below(3)).map(|_| rng.pick(&offers)).collect();
        covered.sort();
        covered.dedup();
        let k = K {
            id: Uuid::now_v7().to_string(),
            insurer: rng.pick(&insurers),
            provider: rng.pick(&providers),
            status: rng.pick(&["DRAFT", "PROPOSED", "AGREED", "AGREED", "AGREED", "TERMINATED"]),
            first,
            last: first + rng.below(3) as i32,
            offers: covered,
        };
        insert(&app, &k).await;
        contracts.push(k);
    }
    let participants: Vec<(&str, TestCaller)> = vec![
        ("national table", national_table()),
        ("insurer 1 (utrecht)", i1()),
        ("insurer 5 (amsterdam)", i5()),
        ("insurer 6 (utrecht, limburg)", TestCaller::new(OrgKind::Insurer, I6, &["utrecht", "limburg"])),
        ("provider 1 (utrecht)", p1()),
        ("provider 3 (utrecht)", p3()),
    ];
    let mut bands = BTreeSet::new();
    for (name, caller) in participants {
        let shown = seen(&app, &caller, &REGIONS).await;
        for (region, got) in REGIONS.iter().zip(shown) {
            let may = caller.kind == OrgKind::NationalTable || caller.regions.iter().any(|r| r == region);
            match got {
                Ok(figures) => {
                    assert!(may, "{name} may not see {region}");
                    assert_eq!(figures, expected(&contracts, &places, &caller, region), "{name}, {region}");
                    for f in figures.as_array().expect("list") {
                        bands.insert(f["band"].as_str().expect("band").to_owned());
                    }
                }
                Err(code) => {
                    assert!(!may, "{name} should see {region}, got {code}");
                    assert_eq!(code, "FORBIDDEN", "{name}, {region}");
                }
            }
        }
    }
    assert_eq!(bands.len(), 2, "the seed yields both exact and banded figures");
    for (name, caller) in
        [("patient organisation", patient_org()), ("municipality", municipality()), ("hub operator", operator())]
    {
        for got in seen(&app, &caller, &REGIONS).await {
            assert_eq!(got, Err("FORBIDDEN".to_owned()), "{name}");
        }
    }
}

/// One cell (utrecht, ACUTE) with six offers; contracts of provider P1.
struct Cell {
    app: TestApp,
    offers: Vec<String>,
    places: BTreeMap<String, Place>,
    contracts: Vec<K>,
}

impl Cell {
    async fn new() -> Self {
        let app = spawn().await;
        let mut places = BTreeMap::new();
        let offers: Vec<String> = (0..6).map(|_| Uuid::now_v7().to_string()).collect();
        for o in &offers {
            insert_place(&app, o, "utrecht", "ACUTE").await;
            places.insert(o.clone(), Place { region: "utrecht".into(), category: "ACUTE".into() });
        }
        Self { app, offers, places, contracts: vec![] }
    }

    async fn add(&mut self, insurer: Uuid, offers: &[usize], first: i32, last: i32) -> String {
        let k = K {
            id: Uuid::now_v7().to_string(),
            insurer,
            provider: P1,
            status: "AGREED",
            first,
            last,
            offers: offers.iter().map(|i| self.offers[*i].clone()).collect(),
        };
        insert(&self.app, &k).await;
        self.contracts.push(k.clone());
        k.id
    }

    async fn drop_contract(&mut self, id: &str) {
        remove(&self.app, id).await;
        self.contracts.retain(|k| k.id != id);
    }

    /// Insurers other than `caller` (and not contracting with it) behind the utrecht ACUTE figure.
    fn behind(&self, caller: &TestCaller) -> usize {
        self.contracts
            .iter()
            .filter(|k| k.status == "AGREED" && k.first <= NEXT_YEAR && NEXT_YEAR <= k.last && !party(caller, k))
            .map(|k| k.insurer)
            .collect::<BTreeSet<_>>()
            .len()
    }

    /// The utrecht ACUTE figure `caller` is shown, checked against the rows.
    async fn acute(&self, caller: &TestCaller) -> Value {
        let got = seen(&self.app, caller, &["utrecht"]).await.remove(0).expect("visible");
        assert_eq!(got, expected(&self.contracts, &self.places, caller, "utrecht"));
        got[0].clone()
    }
}

fn banded() -> Value {
    json!({ "category": "ACUTE", "year": NEXT_YEAR, "band": "FEWER_THAN_THREE", "offersContracted": null })
}

#[tokio::test]
async fn a_two_insurer_table_and_an_insurer_joining_as_the_third_reveal_nothing() {
    let mut cell = Cell::new().await;
    let outsider = i4();
    // Two insurers: everyone is shown the one band, whatever the contracts.
    cell.add(I1, &[0, 1], NEXT_YEAR - 1, NEXT_YEAR + 1).await;
    cell.add(I2, &[2], NEXT_YEAR, NEXT_YEAR).await;
    for caller in [outsider.clone(), p3(), national_table(), i1(), i2(), p1()] {
        assert_eq!(cell.acute(&caller).await, banded(), "{caller:?}");
    }
    // Insurer 3 joins as the third: it (and each of the first two) sees two others, banded;
    // only a reader with three insurers behind the figure sees it.
    let joined = cell.add(I3, &[3], NEXT_YEAR, NEXT_YEAR + 2).await;
    for caller in [i1(), i2(), i3(), p1()] {
        assert!(cell.behind(&caller) < 3);
        assert_eq!(cell.acute(&caller).await, banded(), "{caller:?}");
    }
    for caller in [outsider.clone(), p3(), national_table()] {
        assert_eq!(cell.behind(&caller), 3);
        assert_eq!(cell.acute(&caller).await["offersContracted"], json!(4), "{caller:?}");
    }
    // Insurer 3's own contract never moves what it sees: it may change its dates or leave.
    let before = cell.acute(&i3()).await;
    cell.drop_contract(&joined).await;
    assert_eq!(cell.acute(&i3()).await, before);
    cell.add(I3, &[3, 4, 5], NEXT_YEAR - 2, NEXT_YEAR - 1).await;
    assert_eq!(cell.acute(&i3()).await, before);
}

#[tokio::test]
async fn varying_one_insurers_contract_moves_nothing_an_outsider_sees_below_three_insurers() {
    let mut cell = Cell::new().await;
    let observers = [("outsider insurer 4", i4()), ("provider 3", p3()), ("national table", national_table())];
    let mut rng = Rng(2027);
    // A background of insurers 2 and 3 (and, half of the time, 5) with contracts; insurer 1's
    // contract is then varied: added, its dates changed, its offers changed, removed.
    for round in 0..6 {
        for k in cell.contracts.clone() {
            cell.drop_contract(&k.id).await;
        }
        cell.add(I2, &[rng.below(6)], NEXT_YEAR - 1, NEXT_YEAR + rng.below(2) as i32).await;
        cell.add(I3, &[rng.below(6)], NEXT_YEAR, NEXT_YEAR).await;
        if round % 2 == 1 {
            cell.add(I5, &[rng.below(6)], NEXT_YEAR - rng.below(2) as i32, NEXT_YEAR + 1).await;
        }
        let mut before = Vec::new();
        for (_, o) in &observers {
            before.push(cell.acute(o).await);
        }
        // Vary insurer 1's one contract through several shapes.
        let shapes: [(&[usize], i32, i32); 4] = [
            (&[0], NEXT_YEAR, NEXT_YEAR),
            (&[0, 1, 2, 3, 4, 5], NEXT_YEAR - 2, NEXT_YEAR + 3),
            (&[5], NEXT_YEAR + 1, NEXT_YEAR + 2),    // not running next year
            (&[1, 2], NEXT_YEAR - 3, NEXT_YEAR - 1), // ended before next year
        ];
        for (offers, first, last) in shapes {
            let id = cell.add(I1, offers, first, last).await;
            for (name, o) in &observers {
                let shown = cell.acute(o).await;
                if cell.behind(o) < 3 {
                    assert_eq!(shown, banded(), "{name} with fewer than three insurers behind the figure");
                } else {
                    assert_eq!(shown["band"], "EXACT", "{name}");
                }
            }
            cell.drop_contract(&id).await;
        }
        // Without insurer 1's contract the view is what it was before any variation.
        let mut after = Vec::new();
        for (_, o) in &observers {
            after.push(cell.acute(o).await);
        }
        assert_eq!(after, before, "round {round}");
        // What insurer 1 sees does not depend on its own contract at all.
        let base = cell.acute(&i1()).await;
        let id = cell.add(I1, &[0, 1, 2], NEXT_YEAR, NEXT_YEAR + 1).await;
        assert_eq!(cell.acute(&i1()).await, base, "round {round}: insurer 1's own contract is left out");
        cell.drop_contract(&id).await;
    }
}

#[tokio::test]
async fn offers_of_contracts_made_through_the_api_are_counted_in_their_region_and_category() {
    // The API's terms run from this year to two years on; next year is inside them.
    let jan_first = NaiveDate::from_ymd_opt(this_year(), 1, 1).expect("valid date");
    let app = TestApp::spawn_at(true, true, Today::Fixed(jan_first)).await;
    for insurer in [i1(), i2(), i3()] {
        app.agreed_with_p1(&insurer, &[OFFER_P1_CRISIS, OFFER_P1_FACT]).await;
    }
    app.agreed_with_p1(&i4(), &[OFFER_P1_HIC]).await;
    // The region subgraph's region and category of each offer were recorded with the terms.
    let recorded: BTreeMap<String, (String, String)> = offer_place::Entity::find()
        .all(app.conn())
        .await
        .expect("reads")
        .into_iter()
        .map(|p| (p.offer_id, (p.region_code, p.category)))
        .collect();
    let place = |region: &str, category: &str| (region.to_owned(), category.to_owned());
    assert_eq!(recorded.len(), 3);
    assert_eq!(recorded[&OFFER_P1_CRISIS.to_string()], place("utrecht", "ACUTE"));
    assert_eq!(recorded[&OFFER_P1_FACT.to_string()], place("utrecht", "OUTREACH"));
    assert_eq!(recorded[&OFFER_P1_HIC.to_string()], place("utrecht", "ACUTE"));
    let figures = |caller: TestCaller| {
        let app = &app;
        async move {
            let shown = seen(app, &caller, &["utrecht"]).await.remove(0).expect("visible");
            let year = shown[0]["year"].clone();
            assert_eq!(year, json!(this_year() + 1));
            shown
                .as_array()
                .expect("list")
                .iter()
                .filter(|f| ["ACUTE", "OUTREACH"].contains(&f["category"].as_str().expect("category")))
                .map(|f| f["offersContracted"].clone())
                .collect::<Vec<_>>()
        }
    };
    // ACUTE: the crisis service (insurers 1–3) and HIC (insurer 4); OUTREACH: FACT (insurers 1–3).
    assert_eq!(figures(national_table()).await, vec![json!(2), json!(1)]);
    // Insurer 4 without its own HIC contract: three others behind each.
    assert_eq!(figures(i4()).await, vec![json!(1), json!(1)]);
    // Insurer 1: ACUTE has insurers 2, 3 and 4 behind it; OUTREACH only 2 and 3.
    assert_eq!(figures(i1()).await, vec![json!(2), Value::Null]);
    // Provider 1 is party to every contract: nothing is left to count.
    assert_eq!(figures(p1()).await, vec![Value::Null, Value::Null]);
}

#[tokio::test]
async fn contracted_next_year_takes_one_statement_for_any_number_of_regions() {
    let app = spawn().await;
    for (i, region) in REGIONS.iter().enumerate() {
        let offer = Uuid::now_v7().to_string();
        insert_place(&app, &offer, region, "ACUTE").await;
        for insurer in [I1, I2, I3] {
            let k = K {
                id: Uuid::now_v7().to_string(),
                insurer,
                provider: P1,
                status: "AGREED",
                first: NEXT_YEAR,
                last: NEXT_YEAR + i as i32,
                offers: vec![offer.clone()],
            };
            insert(&app, &k).await;
        }
    }
    let run = |codes: Vec<String>| {
        let app = &app;
        async move {
            let codes: Vec<&str> = codes.iter().map(String::as_str).collect();
            let before = app.statement_count();
            let shown = seen(app, &national_table(), &codes).await;
            assert!(shown.iter().all(Result::is_ok));
            let ran = app.statements_since(before);
            ran.iter().filter(|s| s.contains("contract")).count()
        }
    };
    let few: Vec<String> = REGIONS[..2].iter().map(|s| s.to_string()).collect();
    let many: Vec<String> =
        (0..32).map(|i| format!("region-{i}")).chain(REGIONS.iter().map(|s| s.to_string())).collect();
    run(few.clone()).await; // warms up the pool (PostgreSQL opens connections lazily)
    let (small, large) = (run(few).await, run(many).await);
    println!("Region.contractedNextYear: {small} SQL statements for 2 regions, {large} for 35");
    assert_eq!((small, large), (1, 1), "one statement for the whole batch");

    // The same with every core busy: the batch does not depend on how fast the machine runs.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let hogs: Vec<_> = (0..4)
        .map(|_| {
            let stop = std::sync::Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut x = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                }
            })
        })
        .collect();
    let many: Vec<String> =
        (0..32).map(|i| format!("region-{i}")).chain(REGIONS.iter().map(|s| s.to_string())).collect();
    let busy = run(many).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for hog in hogs {
        hog.join().expect("hog thread ends");
    }
    assert_eq!(busy, 1, "one statement for the whole batch on a busy machine");
}

#[tokio::test]
async fn the_demo_seed_places_its_covered_offers() {
    let app = spawn().await;
    let loaded = ggzhub_contracting::seed::seed(app.conn(), &ggzhub_contracting::seed::Source::Demo)
        .await
        .expect("the demo seeds")
        .expect("into an empty database");
    assert!(loaded > 0);
    let places = offer_place::Entity::find().all(app.conn()).await.expect("reads");
    let covered: BTreeSet<String> =
        covered::Entity::find().all(app.conn()).await.expect("reads").into_iter().map(|c| c.offer_id).collect();
    assert_eq!(
        places.iter().map(|p| p.offer_id.clone()).collect::<BTreeSet<_>>(),
        covered,
        "every covered offer placed"
    );
    // The demo's shared utrecht crisis offer has four insurers agreed for 2027.
    let shown = seen(&app, &national_table(), &["utrecht"]).await.remove(0).expect("visible");
    assert_eq!(shown[0]["category"], "ACUTE");
    assert_eq!(shown[0]["band"], "EXACT", "{shown:#}");
    assert!(shown[0]["offersContracted"].as_i64().is_some_and(|n| n >= 1), "{shown:#}");
}
