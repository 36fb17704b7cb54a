//! Demand and care use, and IZA regions (issue 21 items 1 and 6): the CSV import shared by
//! `ggzhub import care-use` and `importCareUse` (a good file stored, a bad file refused line by
//! line with nothing stored, a quarter replaced), the mutations' access cells, small cells per
//! caller, IZA regions answering for the care-office regions they overlap, and constant
//! statement counts for the new lists.

use chrono::Utc;
use ggzhub_kit::token::scopes;
use ggzhub_region::care_use::{ImportError, import_csv};
use ggzhub_region::entity::region;
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use serde_json::{Value, json};

use crate::helpers::*;

/// The example file of `docs/care-use.md`: 2026-Q3, groningen, friesland and drenthe, with a
/// small cell (groningen SPECIALIST_HOSPITAL 7 / 2) and two flows into groningen.
const EXAMPLE: &str = include_str!("../../../../docs/examples/care-use.csv");

/// Adds care-office regions (the fixture has only groningen).
async fn add_care_office_regions(app: &TestApp, codes: &[&str]) {
    let now = Utc::now();
    for code in codes {
        region::ActiveModel {
            code: Set((*code).to_owned()),
            name: Set(format!("Zorgkantoorregio {code}")),
            kind: Set("CARE_OFFICE".to_owned()),
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

async fn app_with_example_regions() -> TestApp {
    let app = TestApp::spawn().await;
    add_care_office_regions(&app, &["friesland", "drenthe"]).await;
    app
}

const NATIONAL_LIST: &str = r#"query($period: String, $region: String) {
    careUse(period: $period, region: $region, first: 100) { totalCount nodes {
        regionCode period category supplier { id } careOfficeRegions figuresLeftOut
        peopleInCare { exact fewerThan label } newReferrals { exact fewerThan label } } } }"#;

const REGION_CARE_USE: &str = r#"query($code: String!, $period: String) { region(code: $code) {
    code overlaps { code kind }
    careUse(period: $period) { regionCode category careOfficeRegions figuresLeftOut
        peopleInCare { exact fewerThan label } newReferrals { exact fewerThan } }
    incoming: careUseFlows(period: $period, direction: INCOMING) { fromRegionCode toRegionCode category
        peopleInCare { exact fewerThan } }
    outgoing: careUseFlows(period: $period, direction: OUTGOING) { fromRegionCode toRegionCode category
        peopleInCare { exact fewerThan } } } }"#;

const IMPORT: &str = r#"mutation($csv: String!) { importCareUse(csv: $csv) { periods figures flows replaced } }"#;

fn find<'a>(list: &'a Value, key: &str, value: &str, category: &str) -> &'a Value {
    list.as_array()
        .expect("list")
        .iter()
        .find(|n| n[key] == value && n["category"] == category)
        .unwrap_or_else(|| panic!("no {value} {category} in {list:#}"))
}

#[tokio::test]
async fn the_example_file_is_stored_with_its_supplier_and_read_back() {
    let app = app_with_example_regions().await;
    let report = import_csv(&app.db.db, &NATIONAL_TABLE.to_string(), EXAMPLE, &Default::default())
        .await
        .expect("example imports");
    assert_eq!((report.figures, report.flows, report.replaced), (7, 2, 0));
    assert_eq!(report.periods, ["2026-Q3"]);

    let resp = app.graphql(NATIONAL_LIST).var("period", "2026-Q3").as_caller(&national_table()).send().await;
    let list = &resp.data()["careUse"];
    assert_eq!(list["totalCount"], 7);
    let acute = find(&list["nodes"], "regionCode", "groningen", "ACUTE");
    assert_eq!(acute["peopleInCare"]["exact"], 1210);
    assert_eq!(acute["newReferrals"]["exact"], 318);
    assert_eq!(acute["supplier"]["id"], NATIONAL_TABLE.to_string());
    // The supplier sees its own small cell exactly.
    let small = find(&list["nodes"], "regionCode", "groningen", "SPECIALIST_HOSPITAL");
    assert_eq!(small["peopleInCare"]["exact"], 7);

    // The import is audited, by the supplier, one entry per quarter.
    let audit = app.audit_log(&national_table()).await;
    assert!(audit.iter().any(|e| e["entity"] == "CareUse" && e["action"] == "import"), "no import entry in {audit:#?}");
}

#[tokio::test]
async fn small_cells_are_fewer_than_10_to_everyone_but_the_supplier() {
    let app = app_with_example_regions().await;
    import_csv(&app.db.db, &NATIONAL_TABLE.to_string(), EXAMPLE, &Default::default()).await.expect("example imports");
    for (label, caller) in all_personas() {
        let resp = app.graphql(REGION_CARE_USE).var("code", "groningen").as_caller(&caller).send().await;
        let region = &resp.data()["region"];
        let small = find(&region["careUse"], "regionCode", "groningen", "SPECIALIST_HOSPITAL");
        let big = find(&region["careUse"], "regionCode", "groningen", "ACUTE");
        let friesland_secure = find(&region["incoming"], "fromRegionCode", "friesland", "SECURE");
        let drenthe_clinical = find(&region["incoming"], "fromRegionCode", "drenthe", "CLINICAL");
        assert_eq!(big["peopleInCare"]["exact"], 1210, "{label}");
        assert_eq!(drenthe_clinical["peopleInCare"]["exact"], 41, "{label}");
        if label == "national table" {
            assert_eq!(small["peopleInCare"]["exact"], 7, "{label}");
            assert_eq!(small["newReferrals"]["exact"], 2, "{label}");
            assert_eq!(friesland_secure["peopleInCare"]["exact"], 6, "{label}");
        } else {
            assert_eq!(
                small["peopleInCare"],
                json!({"exact": null, "fewerThan": 10, "label": "fewer than 10"}),
                "{label}"
            );
            assert_eq!(small["newReferrals"]["fewerThan"], 10, "{label}");
            assert_eq!(friesland_secure["peopleInCare"], json!({"exact": null, "fewerThan": 10}), "{label}");
        }
        assert_eq!(region["outgoing"], json!([]), "{label}: groningen sends nobody elsewhere");
    }
}

#[tokio::test]
async fn a_bad_file_reports_every_line_and_stores_nothing() {
    let app = app_with_example_regions().await;
    let audit_before = app.audit_count().await;
    let bad = "period,region,category,people_in_care,new_referrals,treated_in_region\n\
               2026-Q3,groningen,ACUTE,1210,318,\n\
               2026-Q3,nowhere,ACUTE,10,1,\n\
               2026-13,groningen,CLINICAL,-4,x,\n\
               2026-Q3,groningen,ACUTE,99,9,\n\
               2026-Q3,utrecht,ACUTE,10,1,\n\
               2026-Q3,drenthe,ACUTE,10,1,drenthe\n\
               2026-Q3,drenthe,NEUROLOGY,10,1,\n\
               2026-Q3,drenthe,ACUTE,10\n";
    let err = import_csv(&app.db.db, &NATIONAL_TABLE.to_string(), bad, &Default::default()).await.expect_err("refused");
    let ImportError::Lines(lines) = &err else { panic!("expected refused lines, got {err}") };
    let seen: Vec<(u64, Option<&str>)> = lines.iter().map(|l| (l.line, l.column)).collect();
    assert_eq!(
        seen,
        [
            (3, Some("region")),
            (4, Some("period")),
            (4, Some("people_in_care")),
            (4, Some("new_referrals")),
            (5, None),
            (6, Some("region")),
            (7, Some("treated_in_region")),
            (8, Some("category")),
            (9, None),
        ],
        "{err}"
    );
    let text = err.to_string();
    for needle in [
        "line 3: region: unknown region nowhere",
        "line 4: period: not a calendar quarter",
        "line 4: people_in_care: a count must not be negative, got -4",
        "line 5: duplicate: line 2 already gives 2026-Q3, region groningen, ACUTE",
        "line 6: region: utrecht is an IZA region",
        "line 8: category: unknown category \"NEUROLOGY\"",
        "line 9: expected 6 fields as in the header, got 4",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    // Nothing stored, nothing audited.
    let resp = app.graphql(NATIONAL_LIST).as_caller(&national_table()).send().await;
    assert_eq!(resp.data()["careUse"]["totalCount"], 0);
    assert_eq!(app.audit_count().await, audit_before);

    // A header without a required column is refused as a whole.
    let err = import_csv(
        &app.db.db,
        &NATIONAL_TABLE.to_string(),
        "period,region,category,people_in_care\n",
        &Default::default(),
    )
    .await
    .expect_err("refused");
    assert!(err.to_string().contains("line 1: missing column new_referrals"), "{err}");

    // The supplier must be the national table or the hub operator.
    let err = import_csv(&app.db.db, &PROVIDER_A.to_string(), EXAMPLE, &Default::default()).await.expect_err("refused");
    assert!(
        err.to_string().contains("care-use figures are supplied by the national table or the hub operator"),
        "{err}"
    );
}

#[tokio::test]
async fn importing_a_quarter_again_replaces_the_suppliers_figures_of_that_quarter() {
    let app = app_with_example_regions().await;
    import_csv(&app.db.db, &NATIONAL_TABLE.to_string(), EXAMPLE, &Default::default()).await.expect("example imports");
    let other_quarter = "period,region,category,people_in_care,new_referrals\n2026-Q2,groningen,ACUTE,1100,300\n";
    import_csv(&app.db.db, &NATIONAL_TABLE.to_string(), other_quarter, &Default::default()).await.expect("Q2 imports");
    // The operator supplies figures of its own for the same quarter: they stay apart.
    import_csv(&app.db.db, &OPERATOR.to_string(), other_quarter.replace("Q2", "Q3").as_str(), &Default::default())
        .await
        .expect("ok");

    let correction = "period,region,category,people_in_care,new_referrals,treated_in_region\n\
                      2026-Q3,groningen,ACUTE,1250,320,\n";
    let report = import_csv(&app.db.db, &NATIONAL_TABLE.to_string(), correction, &Default::default())
        .await
        .expect("correction imports");
    assert_eq!((report.figures, report.flows, report.replaced), (1, 0, 9));

    let q3 = app.graphql(NATIONAL_LIST).var("period", "2026-Q3").as_caller(&national_table()).send().await;
    let nodes = q3.data()["careUse"]["nodes"].as_array().expect("nodes").clone();
    assert_eq!(nodes.len(), 2, "the correction and the operator's figure: {nodes:#?}");
    let mine = nodes.iter().find(|n| n["supplier"]["id"] == NATIONAL_TABLE.to_string()).expect("corrected");
    assert_eq!(mine["peopleInCare"]["exact"], 1250);
    let q2 = app.graphql(NATIONAL_LIST).var("period", "2026-Q2").as_caller(&national_table()).send().await;
    assert_eq!(q2.data()["careUse"]["totalCount"], 1, "another quarter is left as it was");
    let flows =
        app.graphql(r#"{ careUseFlows(period: "2026-Q3") { totalCount } }"#).as_caller(&national_table()).send().await;
    assert_eq!(flows.data()["careUseFlows"]["totalCount"], 0, "the quarter's flows were replaced too");
    let audit = app.audit_log(&national_table()).await;
    assert!(
        audit.iter().any(|e| e["entity"] == "CareUse"
            && e["action"] == "replace"
            && e["entityId"] == format!("2026-Q3/{NATIONAL_TABLE}")),
        "no replace entry in {audit:#?}"
    );
}

#[tokio::test]
async fn only_the_national_table_and_the_operator_import_care_use() {
    let app = app_with_example_regions().await;
    for (label, caller) in all_personas() {
        let resp = app.graphql(IMPORT).var("csv", EXAMPLE).as_caller(&caller).send().await;
        match label {
            "national table" | "hub operator" => {
                let stored = &resp.data()["importCareUse"];
                assert_eq!(stored["figures"], 7, "{label}");
                assert_eq!(stored["flows"], 2, "{label}");
                assert_eq!(stored["periods"], json!(["2026-Q3"]), "{label}");
            }
            _ => {
                assert_refused(&resp, "importCareUse", "FORBIDDEN");
                let msg = resp.expect_error("FORBIDDEN");
                assert!(msg.contains("imported by the national table"), "{label}: {msg}");
            }
        }
    }
    // The scope narrows: a national-table token without national:write, an operator's without admin.
    for caller in
        [national_table().with_scopes(&[scopes::PICTURE_READ]), operator().with_scopes(&[scopes::PICTURE_READ])]
    {
        let resp = app.graphql(IMPORT).var("csv", EXAMPLE).as_caller(&caller).send().await;
        assert_refused(&resp, "importCareUse", "FORBIDDEN");
    }
    // Each supplier's figures: 7 of the national table, 7 of the operator.
    let resp = app.graphql(NATIONAL_LIST).as_caller(&patient_org()).send().await;
    assert_eq!(resp.data()["careUse"]["totalCount"], 14);
    // Importing again is a correction, not a conflict.
    let again = app.graphql(IMPORT).var("csv", EXAMPLE).as_caller(&national_table()).send().await;
    assert_eq!(again.data()["importCareUse"]["replaced"], 9);
}

#[tokio::test]
async fn import_care_use_names_every_refused_line_in_extensions_items() {
    let app = app_with_example_regions().await;
    let bad = "period,region,category,people_in_care,new_referrals,treated_in_region\n\
               2026-Q3,groningen,ACUTE,1210,318,\n\
               2026-Q3,nowhere,ACUTE,10,1,\n\
               2026-Q9,groningen,CLINICAL,5,1,\n";
    let resp = app.graphql(IMPORT).var("csv", bad).as_caller(&national_table()).send().await;
    assert_refused(&resp, "importCareUse", "BAD_USER_INPUT");
    let msg = resp.expect_error("BAD_USER_INPUT");
    assert!(msg.starts_with("2 of 3 care-use lines refused, so none was stored"), "{msg}");
    let items = &resp.body["errors"][0]["extensions"]["items"];
    assert_eq!(items[0]["index"], 1);
    assert_eq!(items[0]["field"], "region");
    assert_eq!(items[0]["code"], "BAD_USER_INPUT");
    assert_eq!(items[0]["reason"], "line 3: unknown region nowhere");
    assert_eq!(items[1]["index"], 2);
    assert_eq!(items[1]["field"], "period");
    assert!(items[1]["reason"].as_str().expect("reason").starts_with("line 4: not a calendar quarter"), "{items:#}");
    let list = app.graphql(NATIONAL_LIST).as_caller(&national_table()).send().await;
    assert_eq!(list.data()["careUse"]["totalCount"], 0);

    let header = app.graphql(IMPORT).var("csv", "region,period\n").as_caller(&national_table()).send().await;
    let msg = header.expect_error("BAD_USER_INPUT");
    assert!(msg.contains("missing column category"), "{msg}");

    let bad_period = app.graphql(NATIONAL_LIST).var("period", "2026-09").as_caller(&patient_org()).send().await;
    let msg = bad_period.expect_error("BAD_USER_INPUT");
    assert!(msg.contains("calendar quarter written YYYY-Qn"), "{msg}");
}

const SET_OVERLAPS: &str = r#"mutation($code: String!, $v: Int!, $regions: [String!]!) {
    setRegionOverlaps(code: $code, expectedVersion: $v, careOfficeRegions: $regions) {
        code version overlaps { code } } }"#;

#[tokio::test]
async fn the_operator_sets_an_iza_regions_overlaps_and_both_sides_see_them() {
    let app = app_with_example_regions().await;
    for (label, caller) in all_personas() {
        if label == "hub operator" {
            continue;
        }
        let resp = app
            .graphql(SET_OVERLAPS)
            .var("code", "utrecht")
            .var("v", 1)
            .var("regions", ["groningen"])
            .as_caller(&caller)
            .send()
            .await;
        assert_refused(&resp, "setRegionOverlaps", "FORBIDDEN");
    }
    let resp = app
        .graphql(SET_OVERLAPS)
        .var("code", "utrecht")
        .var("v", 1)
        .var("regions", ["groningen", "drenthe"])
        .as_caller(&operator())
        .send()
        .await;
    let set = &resp.data()["setRegionOverlaps"];
    assert_eq!(set["version"], 2);
    assert_eq!(set["overlaps"], json!([{"code": "drenthe"}, {"code": "groningen"}]));

    // Stale version.
    let stale = app
        .graphql(SET_OVERLAPS)
        .var("code", "utrecht")
        .var("v", 1)
        .var("regions", ["groningen"])
        .as_caller(&operator())
        .send()
        .await;
    assert_refused(&stale, "setRegionOverlaps", "CONFLICT");
    assert!(stale.expect_error("CONFLICT").contains("region utrecht is at version 2, not 1"));

    // Bad input: an IZA region listed, overlaps set on a care-office region, an unknown region.
    for (code, regions, needle) in [
        ("utrecht", vec!["amsterdam"], "careOfficeRegions: amsterdam is not a care-office region"),
        ("groningen", vec!["drenthe"], "groningen is a CARE_OFFICE region: overlaps are set on the IZA region"),
        ("utrecht", vec!["atlantis"], "careOfficeRegions: unknown region code atlantis"),
    ] {
        let resp = app
            .graphql(SET_OVERLAPS)
            .var("code", code)
            .var("v", 2)
            .var("regions", regions)
            .as_caller(&operator())
            .send()
            .await;
        assert_refused(&resp, "setRegionOverlaps", "BAD_USER_INPUT");
        let msg = resp.expect_error("BAD_USER_INPUT");
        assert!(msg.contains(needle), "{msg}");
    }
    let missing = app
        .graphql(SET_OVERLAPS)
        .var("code", "atlantis")
        .var("v", 1)
        .var("regions", Vec::<String>::new())
        .as_caller(&operator())
        .send()
        .await;
    assert_refused(&missing, "setRegionOverlaps", "NOT_FOUND");

    // The care-office side sees the IZA region, as does every caller.
    let resp = app
        .graphql(r#"{ region(code: "groningen") { overlaps { code kind } } }"#)
        .as_caller(&patient_org())
        .send()
        .await;
    assert_eq!(resp.data()["region"]["overlaps"], json!([{"code": "utrecht", "kind": "IZA"}]));
    let audit = app.audit_log(&operator()).await;
    assert!(audit.iter().any(|e| e["entity"] == "Region" && e["action"] == "set-overlaps"), "{audit:#?}");
}

#[tokio::test]
async fn an_iza_region_answers_for_the_care_office_regions_it_overlaps() {
    let app = app_with_example_regions().await;
    let resp = app
        .graphql(SET_OVERLAPS)
        .var("code", "utrecht")
        .var("v", 1)
        .var("regions", ["groningen", "friesland", "drenthe"])
        .as_caller(&operator())
        .send()
        .await;
    resp.data();
    import_csv(&app.db.db, &NATIONAL_TABLE.to_string(), EXAMPLE, &Default::default()).await.expect("example imports");

    // Care use: summed over the parts; a part with a small cell is left out for all but the supplier.
    for (caller, supplier) in [(patient_org(), false), (national_table(), true)] {
        let resp = app.graphql(REGION_CARE_USE).var("code", "utrecht").as_caller(&caller).send().await;
        let r = &resp.data()["region"];
        let acute = find(&r["careUse"], "regionCode", "utrecht", "ACUTE");
        assert_eq!(acute["peopleInCare"]["exact"], 1210 + 980 + 640);
        assert_eq!(acute["careOfficeRegions"], json!(["drenthe", "friesland", "groningen"]));
        let secure = find(&r["careUse"], "regionCode", "utrecht", "SECURE");
        let hospital = find(&r["careUse"], "regionCode", "utrecht", "SPECIALIST_HOSPITAL");
        if supplier {
            assert_eq!(secure["peopleInCare"]["exact"], 12);
            assert_eq!(hospital["peopleInCare"]["exact"], 7);
            assert_eq!(secure["figuresLeftOut"], 0);
        } else {
            // drenthe SECURE has 4 new referrals: the figure is left out, and a sum of nothing
            // but left-out parts reads "suppressed", never 0 people.
            assert_eq!(secure["peopleInCare"]["exact"], Value::Null);
            assert_eq!(secure["peopleInCare"]["label"], "suppressed (includes counts below 10)");
            assert_eq!(secure["figuresLeftOut"], 1);
            assert_eq!(secure["careOfficeRegions"], json!([]));
            assert_eq!(hospital["figuresLeftOut"], 1);
        }
        // Both flows run between parts of the IZA region: neither in nor out.
        assert_eq!(r["incoming"], json!([]));
        assert_eq!(r["outgoing"], json!([]));
    }
    // The national list of one IZA region lists its care-office regions' figures.
    let resp = app.graphql(NATIONAL_LIST).var("region", "utrecht").as_caller(&insurer_y()).send().await;
    assert_eq!(resp.data()["careUse"]["totalCount"], 7);

    // Offers and waiting times asked for an IZA region include those of its care-office regions.
    app.insert_offer(PROVIDER_C, "groningen", "CLINICAL_ADMISSION", "Kliniek Groningen").await;
    let offers = app
        .graphql(r#"{ careOffers(region: "utrecht", first: 50) { totalCount nodes { region { code } } } }"#)
        .as_caller(&patient_org())
        .send()
        .await;
    let data = &offers.data()["careOffers"];
    assert_eq!(data["totalCount"], 3, "two located in utrecht and one in groningen: {data:#}");
    // The same through the region: its offers are paged and counted over the overlapped regions.
    let nested = app
        .graphql(
            r#"{ region(code: "utrecht") {
                all: offers(first: 2) { totalCount pageInfo { hasNextPage endCursor } nodes { id } }
                clinical: offers(category: CLINICAL, first: 10) { totalCount nodes { unitName region { code } } } }
              groningen: region(code: "groningen") { offers(first: 10) { totalCount } } }"#,
        )
        .as_caller(&patient_org())
        .send()
        .await;
    let data = nested.data();
    assert_eq!(data["region"]["all"]["totalCount"], 3, "{data:#}");
    assert_eq!(data["region"]["all"]["pageInfo"]["hasNextPage"], true, "{data:#}");
    assert_eq!(data["region"]["clinical"]["totalCount"], 1, "{data:#}");
    assert_eq!(data["region"]["clinical"]["nodes"][0]["region"]["code"], "groningen", "{data:#}");
    assert_eq!(data["groningen"]["offers"]["totalCount"], 1, "a care-office region lists its own: {data:#}");
    let waits = app
        .graphql(r#"{ waitingTimes(region: "utrecht", first: 50) { totalCount } }"#)
        .as_caller(&patient_org())
        .send()
        .await;
    assert_eq!(waits.data()["waitingTimes"]["totalCount"], 2);
}

/// The new lists, each asked on its own (as the dataloader tests do: one request per list).
const LISTS: [&str; 3] = [
    r#"{ regions(first: 100) { nodes { code overlaps { code name }
        careUse(period: "2026-Q3") { category supplier { name } region { name } peopleInCare { label } }
        careUseFlows(period: "2026-Q3", direction: INCOMING) { fromRegion { name } peopleInCare { label } }
        out: careUseFlows(direction: OUTGOING) { toRegion { name } } } } }"#,
    r#"{ careUse(first: 100) { totalCount nodes { region { name } supplier { name } peopleInCare { label } } } }"#,
    r#"{ careUseFlows(first: 100) { totalCount nodes { fromRegion { name } toRegion { name } } } }"#,
];

fn file_for(codes: &[String]) -> String {
    let mut text = String::from("period,region,category,people_in_care,new_referrals,treated_in_region\n");
    for (i, code) in codes.iter().enumerate() {
        for category in ["ACUTE", "OUTREACH", "CLINICAL", "SECURE"] {
            text.push_str(&format!("2026-Q3,{code},{category},{},{},\n", 100 + i, 5 + i));
        }
        let next = &codes[(i + 1) % codes.len()];
        text.push_str(&format!("2026-Q3,{code},SECURE,{},{},{next}\n", 3 + i, 1));
    }
    text
}

/// The statements of the national table's `careUseImports` list, and that it lists each quarter.
async fn imports_statements(app: &TestApp) -> usize {
    let before = app.statement_count();
    let listed = app.graphql(IMPORTS).as_caller(&national_table()).send().await;
    let count = app.statement_count() - before;
    assert!(listed.data()["careUseImports"].as_array().is_some_and(|a| !a.is_empty()), "{listed:?}");
    count
}

async fn statements_for(app: &TestApp) -> Vec<usize> {
    let mut counts = Vec::new();
    for query in LISTS {
        let before = app.statement_count();
        app.graphql(query).as_caller(&patient_org()).send().await.data();
        counts.push(app.statement_count() - before);
    }
    counts
}

#[tokio::test]
async fn care_use_lists_load_with_a_constant_number_of_statements() {
    let app = TestApp::spawn().await;
    let few: Vec<String> = (0..3).map(|i| format!("co-{i:02}")).collect();
    let refs: Vec<&str> = few.iter().map(String::as_str).collect();
    add_care_office_regions(&app, &refs).await;
    let resp = app
        .graphql(SET_OVERLAPS)
        .var("code", "utrecht")
        .var("v", 1)
        .var("regions", &few)
        .as_caller(&operator())
        .send()
        .await;
    resp.data();
    import_csv(&app.db.db, &NATIONAL_TABLE.to_string(), &file_for(&few), &Default::default()).await.expect("imports");
    let small = statements_for(&app).await;
    let imports_small = imports_statements(&app).await;

    let more: Vec<String> = (3..12).map(|i| format!("co-{i:02}")).collect();
    let refs: Vec<&str> = more.iter().map(String::as_str).collect();
    add_care_office_regions(&app, &refs).await;
    let all: Vec<String> = few.iter().chain(&more).cloned().collect();
    let resp = app
        .graphql(SET_OVERLAPS)
        .var("code", "amsterdam")
        .var("v", 1)
        .var("regions", &more)
        .as_caller(&operator())
        .send()
        .await;
    resp.data();
    import_csv(&app.db.db, &NATIONAL_TABLE.to_string(), &file_for(&all), &Default::default()).await.expect("imports");
    let large = statements_for(&app).await;
    // The supplier's own imports, one quarter listed and then five.
    for quarter in ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"] {
        let file = file_for(&all).replace("2026-Q3", quarter);
        import_csv(&app.db.db, &NATIONAL_TABLE.to_string(), &file, &Default::default()).await.expect("imports");
    }
    let imports_large = imports_statements(&app).await;
    assert_eq!(imports_small, imports_large, "careUseImports: statements grew with the quarters imported");
    println!(
        "regions → overlaps, careUse, careUseFlows; careUse; careUseFlows: {small:?} then {large:?} SQL statements"
    );
    // The regions list's loaders (overlaps, figures, flows, then the regions and suppliers they
    // name) may share a batch or not depending on which statement answers first, so its count
    // can differ by one between runs; it never depends on the data: at most 11 for any number of
    // regions and figures. The national lists are exact.
    assert!(small[0] <= 11 && large[0] <= 11, "regions list: {small:?} → {large:?}");
    assert_eq!(small[1..], large[1..], "statement count grew with the number of figures ({small:?} → {large:?})");
}

/// A period with a multi-byte character is refused as bad input, not a panic (the check slices
/// by byte).
#[tokio::test]
async fn a_period_with_a_multibyte_character_is_bad_input() {
    let app = app_with_example_regions().await;
    for period in ["202€3", "2€26-Q1"] {
        let resp = app.graphql(NATIONAL_LIST).var("period", period).as_caller(&provider_a()).send().await;
        assert_eq!(resp.error_codes(), vec!["BAD_USER_INPUT".to_owned()], "{period}: {:#}", resp.body);
    }
}

// ---- versions of care-use quarters (issue 21 gaps) ------------------------------------------

const IMPORT_VERSIONED: &str = r#"mutation($csv: String!, $expected: [CareUseExpectedVersion!]) {
    importCareUse(csv: $csv, expectedVersions: $expected) {
    periods figures flows replaced quarters { period version figures flows meta { createdBy updatedBy } } } }"#;
const IMPORTS: &str = r#"query($period: String) { careUseImports(period: $period) { period version figures flows } }"#;

/// Another file for 2026-Q3: two figures, no flows (the example has seven and two).
const OTHER_Q3: &str = "period,region,category,people_in_care,new_referrals\n\
                        2026-Q3,groningen,ACUTE,1500,400\n2026-Q3,friesland,ACUTE,900,200\n";

fn expect_q3(version: i64) -> Value {
    json!([{"period": "2026-Q3", "version": version}])
}

/// The national table's stored 2026-Q3: (figures, flows, groningen ACUTE people in care).
async fn stored_q3(app: &TestApp) -> (i64, i64, i64) {
    let figures = app.graphql(NATIONAL_LIST).var("period", "2026-Q3").as_caller(&national_table()).send().await;
    let nodes = &figures.data()["careUse"]["nodes"];
    let flows =
        app.graphql(r#"{ careUseFlows(period: "2026-Q3") { totalCount } }"#).as_caller(&national_table()).send().await;
    (
        figures.data()["careUse"]["totalCount"].as_i64().expect("count"),
        flows.data()["careUseFlows"]["totalCount"].as_i64().expect("count"),
        find(nodes, "regionCode", "groningen", "ACUTE")["peopleInCare"]["exact"].as_i64().expect("exact"),
    )
}

#[tokio::test]
async fn a_reimport_names_the_quarters_version_and_a_stale_one_conflicts() {
    let app = app_with_example_regions().await;
    let nt = national_table();
    let first =
        app.graphql(IMPORT_VERSIONED).var("csv", EXAMPLE).var("expected", expect_q3(0)).as_caller(&nt).send().await;
    assert_eq!(
        first.data()["importCareUse"]["quarters"],
        json!([{"period": "2026-Q3", "version": 1, "figures": 7, "flows": 2,
                "meta": {"createdBy": NATIONAL_TABLE.to_string(), "updatedBy": NATIONAL_TABLE.to_string()}}])
    );
    let listed = app.graphql(IMPORTS).as_caller(&nt).send().await;
    assert_eq!(listed.data()["careUseImports"], json!([{"period": "2026-Q3", "version": 1, "figures": 7, "flows": 2}]));
    let audit_before = app.audit_count().await;

    // "Not imported yet" and a stale version both conflict, and store nothing.
    for stale in [0, 2] {
        let resp = app
            .graphql(IMPORT_VERSIONED)
            .var("csv", OTHER_Q3)
            .var("expected", expect_q3(stale))
            .as_caller(&nt)
            .send()
            .await;
        let msg = resp.expect_error("CONFLICT");
        assert!(
            msg.contains(&format!("care-use quarter 2026-Q3/{NATIONAL_TABLE} is at version 1, not {stale}")),
            "{msg}"
        );
        assert_eq!(stored_q3(&app).await, (7, 2, 1210));
    }
    assert_eq!(app.audit_count().await, audit_before);

    // The version read replaces it.
    let resp =
        app.graphql(IMPORT_VERSIONED).var("csv", OTHER_Q3).var("expected", expect_q3(1)).as_caller(&nt).send().await;
    let report = &resp.data()["importCareUse"];
    assert_eq!(report["replaced"], 9);
    assert_eq!(report["quarters"][0]["version"], 2);
    assert_eq!(stored_q3(&app).await, (2, 0, 1500));
    // Without expectedVersions a re-import replaces as before, and moves the version on too.
    let resp = app.graphql(IMPORT_VERSIONED).var("csv", EXAMPLE).as_caller(&nt).send().await;
    assert_eq!(resp.data()["importCareUse"]["quarters"][0]["version"], 3);
    assert_eq!(stored_q3(&app).await, (7, 2, 1210));
    let listed = app.graphql(IMPORTS).var("period", "2026-Q3").as_caller(&nt).send().await;
    assert_eq!(listed.data()["careUseImports"][0]["version"], 3);
    let actions: Vec<_> = app
        .audit_log(&nt)
        .await
        .into_iter()
        .filter(|e| e["entity"] == "CareUse")
        .map(|e| e["action"].as_str().expect("action").to_owned())
        .collect();
    assert_eq!(actions.iter().filter(|a| *a == "replace").count(), 2, "{actions:?}");

    // Bad expected versions.
    for (expected, reason) in [
        (
            json!([{"period": "2026-Q2", "version": 1}]),
            "expectedVersions names 2026-Q2, a quarter the file does not hold",
        ),
        (json!([{"period": "2026-Q9", "version": 1}]), "expectedVersions.period must be a calendar quarter"),
        (json!([{"period": "2026-Q3", "version": -1}]), "must be 0 (not imported yet) or more"),
        (json!([{"period": "2026-Q3", "version": 3}, {"period": "2026-Q3", "version": 3}]), "names \"2026-Q3\" twice"),
    ] {
        let resp =
            app.graphql(IMPORT_VERSIONED).var("csv", EXAMPLE).var("expected", expected).as_caller(&nt).send().await;
        let msg = resp.expect_error("BAD_USER_INPUT");
        assert!(msg.contains(reason), "{msg} should contain {reason}");
    }
    assert_eq!(app.graphql(IMPORTS).as_caller(&nt).send().await.data()["careUseImports"][0]["version"], 3);

    // The imports are the supplier's own: the operator has none, others may not ask.
    let theirs = app.graphql(IMPORTS).as_caller(&operator()).send().await;
    assert_eq!(theirs.data()["careUseImports"], json!([]));
    for (who, caller) in all_personas().into_iter().filter(|(w, _)| !matches!(*w, "national table" | "hub operator")) {
        let resp = app.graphql(IMPORTS).as_caller(&caller).send().await;
        assert!(!resp.expect_error("FORBIDDEN").is_empty(), "{who}");
    }
}

/// Sends `a` and `b` as `importCareUse` at once; returns each one's error code ("" when stored).
async fn import_at_once(app: &TestApp, a: (&str, Option<i64>), b: (&str, Option<i64>)) -> [String; 2] {
    let call = |(csv, expected): (&str, Option<i64>)| {
        let mut call = app.graphql(IMPORT_VERSIONED).var("csv", csv).as_caller(&national_table());
        if let Some(v) = expected {
            call = call.var("expected", expect_q3(v));
        }
        call.send()
    };
    let (ra, rb) = tokio::join!(call(a), call(b));
    [ra, rb].map(|r| {
        let codes = r.error_codes();
        assert!(codes.len() <= 1, "{codes:?}");
        codes.first().cloned().unwrap_or_default()
    })
}

#[tokio::test]
async fn two_imports_of_the_same_quarter_at_once_one_is_stored_the_other_conflicts() {
    let app = app_with_example_regions().await;
    let files = |outcome: &[String; 2]| -> (i64, i64, i64) {
        // What the one stored file holds: the example (7 figures, 2 flows) or the other (2, 0).
        if outcome[0].is_empty() { (7, 2, 1210) } else { (2, 0, 1500) }
    };
    // Two first imports, each expecting none yet: one wins, one conflicts, nothing mixed.
    let outcome = import_at_once(&app, (EXAMPLE, Some(0)), (OTHER_Q3, Some(0))).await;
    let mut sorted = outcome.clone();
    sorted.sort();
    assert_eq!(sorted, ["", "CONFLICT"]);
    assert_eq!(stored_q3(&app).await, files(&outcome));
    assert_eq!(
        app.graphql(IMPORTS).as_caller(&national_table()).send().await.data()["careUseImports"][0]["version"],
        1
    );

    // Two replacements of version 1 at once: the same.
    let outcome = import_at_once(&app, (EXAMPLE, Some(1)), (OTHER_Q3, Some(1))).await;
    let mut sorted = outcome.clone();
    sorted.sort();
    assert_eq!(sorted, ["", "CONFLICT"]);
    assert_eq!(stored_q3(&app).await, files(&outcome));
    assert_eq!(
        app.graphql(IMPORTS).as_caller(&national_table()).send().await.data()["careUseImports"][0]["version"],
        2
    );

    // Without versions: each is stored or loses with CONFLICT (never INTERNAL), and the quarter
    // holds exactly one file's figures, at one version per stored import.
    let outcome = import_at_once(&app, (EXAMPLE, None), (OTHER_Q3, None)).await;
    assert!(outcome.iter().all(|c| c.is_empty() || c == "CONFLICT"), "{outcome:?}");
    let stored = outcome.iter().filter(|c| c.is_empty()).count() as i64;
    assert!(stored >= 1, "{outcome:?}");
    assert!([(7, 2, 1210), (2, 0, 1500)].contains(&stored_q3(&app).await));
    assert_eq!(
        app.graphql(IMPORTS).as_caller(&national_table()).send().await.data()["careUseImports"][0]["version"],
        2 + stored
    );
    let imports =
        app.audit_log(&national_table()).await.into_iter().filter(|e| e["entity"] == "CareUse").count() as i64;
    assert_eq!(imports, 2 + stored, "one audit entry per stored import");
}

#[tokio::test]
async fn quarters_imported_before_versions_get_version_one_on_upgrade() {
    use ggzhub_region::entity::care_use_import;
    use ggzhub_region::migration::Migrator;
    use sea_orm::EntityTrait as _;
    use sea_orm_migration::MigratorTrait as _;
    let app = app_with_example_regions().await;
    import_csv(&app.db.db, &NATIONAL_TABLE.to_string(), EXAMPLE, &Default::default()).await.expect("imports");
    // Back to before the imports table, as a database of today's release is.
    let steps = Migrator::migrations()
        .iter()
        .rev()
        .position(|m| m.name() == "m2026_12_06_care_use_imports")
        .expect("the imports migration is in the list")
        + 1;
    Migrator::down(&app.db.db, Some(steps as u32)).await.expect("rolls back");
    Migrator::up(&app.db.db, None).await.expect("runs again");
    let rows = care_use_import::Entity::find().all(&app.db.db).await.expect("imports");
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(
        (row.period.as_str(), row.version, row.figures, row.flows, row.created_by.as_str()),
        ("2026-Q3", 1, 7, 2, NATIONAL_TABLE.to_string().as_str())
    );
    // And the next import replaces it at version 2.
    let report = import_csv(&app.db.db, &NATIONAL_TABLE.to_string(), OTHER_Q3, &[("2026-Q3".to_owned(), 1)].into())
        .await
        .expect("replaces");
    assert_eq!(report.quarters[0].version, 2);
}
