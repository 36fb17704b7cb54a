//! Waiting times as the Actieplan Wachttijden asks (issue 21 item 2): intakes and treatment starts
//! on the reports, a region's supplied unique count of people waiting, the transfer lead (proposed
//! by the hub, confirmed by the chair), the quarterly hotspot report and the intake outlook per
//! offer — access cells, bad input, stale versions, small cells, constant statement counts.

use ggzhub_kit::testing::TestCaller;
use serde_json::{Value, json};

use crate::helpers::*;

const REPORT: &str = r#"mutation($input: WaitingTimeInput!) { reportWaitingTime(input: $input) {
    id version intakes { exact fewerThan label } treatmentStarts { exact fewerThan label } } }"#;

const REPORTS: &str = r#"mutation($input: [WaitingTimeInput!]!) { reportWaitingTimes(input: $input) { id } }"#;

const CORRECT: &str = r#"mutation($id: ID!, $v: Int!, $input: WaitingTimeCorrection!) {
    correctWaitingTime(id: $id, expectedVersion: $v, input: $input) {
    version waitingCount { exact } intakes { exact } treatmentStarts { exact } } }"#;

const FLOWS: &str = r#"query { waitingTimes(region: "utrecht") { nodes { id
    intakes { exact fewerThan label } treatmentStarts { exact fewerThan label } } } }"#;

const SUPPLY: &str = r#"mutation($input: UniqueWaitingCountInput!) { supplyUniqueWaitingCount(input: $input) {
    id regionCode month peopleWaiting { exact fewerThan label } supplier { id } version } }"#;

const UNIQUE: &str = r#"query($m: String) { region(code: "utrecht") { uniquePeopleWaiting(month: $m) {
    month peopleWaiting { exact fewerThan label } supplier { id } version } } }"#;

const LEAD: &str = r#"query { region(code: "utrecht") { transferLead {
    proposed { providerId provider { name } month excess { exact fewerThan label } reportsOverNorm }
    confirmed { providerId confirmedBy { id } version } differsFromProposal } } }"#;

const CONFIRM: &str = r#"mutation($region: ID!, $provider: ID!, $v: Int) {
    confirmTransferLead(regionCode: $region, providerId: $provider, expectedVersion: $v) {
    proposed { providerId } confirmed { providerId confirmedBy { id } version } differsFromProposal } }"#;

const HOTSPOTS: &str = r#"query($q: String!) { region(code: "utrecht") { hotspotReport(quarter: $q) {
    regionCode quarter months reports
    diagnosisGroups { diagnosisGroup monthsOverNorm reportsOverNorm peopleWaitingOverNorm { exact fewerThan } worstTotalWeeks }
    locations { providerId location monthsOverNorm reportsOverNorm peopleWaitingOverNorm { exact fewerThan } worstTotalWeeks }
    worstWaits { providerId location diagnosisGroup month totalWeeks waitingCount { exact fewerThan } } } } }"#;

const OUTLOOK: &str = r#"query($id: ID!) { careOffer(id: $id) { intakeOutlook {
    intakePossibleNow expectedWaitWeeks source version } } }"#;

const SET_OUTLOOK: &str = r#"mutation($id: ID!, $v: Int, $input: IntakeOutlookInput!) {
    setIntakeOutlook(offerId: $id, expectedVersion: $v, input: $input) { id intakeOutlook {
    intakePossibleNow expectedWaitWeeks source version } } }"#;

fn report(provider: uuid::Uuid, month: &str, location: &str) -> Value {
    json!({
        "providerId": provider, "regionCode": "utrecht", "location": location, "diagnosisGroup": "DEPRESSION",
        "month": month, "registrationToIntakeWeeks": 5.0, "intakeToTreatmentWeeks": 10.5, "waitingCount": 12
    })
}

fn exact(n: i64) -> Value {
    json!({"exact": n, "fewerThan": null, "label": n.to_string()})
}

fn hidden() -> Value {
    json!({"exact": null, "fewerThan": 10, "label": "fewer than 10"})
}

fn others() -> Vec<(&'static str, TestCaller)> {
    all_personas().into_iter().filter(|(w, _)| *w != "hub operator").collect()
}

// ---- 1. Intakes and treatment starts -------------------------------------------------------

#[tokio::test]
async fn intakes_and_treatment_starts_are_optional_and_small_cells_are_hidden_from_all_but_the_reporter() {
    let app = TestApp::spawn().await;
    let mut input = report(PROVIDER_A, "2026-02", "Amersfoort");
    input["intakes"] = json!(30);
    input["treatmentStarts"] = json!(7);
    let resp = app.graphql(REPORT).var("input", &input).as_caller(&provider_a()).send().await;
    let r = &resp.data()["reportWaitingTime"];
    assert_eq!((&r["intakes"], &r["treatmentStarts"]), (&exact(30), &exact(7)), "the reporter sees its own figures");
    let id = r["id"].as_str().expect("id").to_owned();

    // Without them (existing partners): null, not 0.
    let resp = app
        .graphql(REPORT)
        .var("input", report(PROVIDER_A, "2026-03", "Amersfoort"))
        .as_caller(&provider_a())
        .send()
        .await;
    assert_eq!(resp.data()["reportWaitingTime"]["intakes"], Value::Null);

    for (who, caller) in others() {
        let resp = app.graphql(FLOWS).as_caller(&caller).send().await;
        let nodes = resp.data()["waitingTimes"]["nodes"].as_array().expect("nodes").clone();
        let of = |id: &str| nodes.iter().find(|n| n["id"] == id).cloned().unwrap_or_else(|| panic!("{who}: {id}"));
        let own = who == "provider A";
        let new = of(&id);
        assert_eq!(new["intakes"], exact(30), "{who}");
        assert_eq!(new["treatmentStarts"], if own { exact(7) } else { hidden() }, "{who}");
        // The fixture's report within the norm: 12 intakes, 5 treatment starts.
        let fixture = of(&WAIT_WITHIN_NORM.to_string());
        assert_eq!(fixture["treatmentStarts"], if own { exact(5) } else { hidden() }, "{who}");
        assert_eq!(of(&WAIT_EXCEEDING_NORM.to_string())["intakes"], Value::Null, "{who}");
    }
}

#[tokio::test]
async fn bad_intakes_are_refused_alone_and_by_index_in_a_batch() {
    let app = TestApp::spawn().await;
    let mut input = report(PROVIDER_A, "2026-02", "Amersfoort");
    input["intakes"] = json!(-1);
    let resp = app.graphql(REPORT).var("input", &input).as_caller(&provider_a()).send().await;
    assert_refused(&resp, "reportWaitingTime", "BAD_USER_INPUT");
    assert_eq!(resp.expect_error("BAD_USER_INPUT"), "intakes must be between 0 and 100000, got -1");

    let mut batch = vec![report(PROVIDER_A, "2026-02", "Amersfoort"), report(PROVIDER_A, "2026-02", "Zeist")];
    batch[0]["intakes"] = json!(40);
    batch[1]["treatmentStarts"] = json!(100_001);
    let resp = app.graphql(REPORTS).var("input", &batch).as_caller(&provider_a()).send().await;
    let items = resp.body["errors"][0]["extensions"]["items"].clone();
    assert_eq!(
        items,
        json!([{"index": 1, "field": "treatmentStarts", "code": "BAD_USER_INPUT",
                "reason": "treatmentStarts must be between 0 and 100000, got 100001"}]),
        "{:#}",
        resp.body
    );
    // Nothing stored: the same batch without the bad figure goes through.
    batch[1]["treatmentStarts"] = json!(100_000);
    let resp = app.graphql(REPORTS).var("input", &batch).as_caller(&provider_a()).send().await;
    assert_eq!(resp.data()["reportWaitingTimes"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn corrections_set_intakes_keep_them_when_left_out_and_refuse_stale_versions() {
    let app = TestApp::spawn().await;
    let figures = json!({"registrationToIntakeWeeks": 3.0, "intakeToTreatmentWeeks": 6.0, "waitingCount": 40});
    let mut with = figures.clone();
    with["intakes"] = json!(20);
    let resp = app
        .graphql(CORRECT)
        .var("id", WAIT_WITHIN_NORM.to_string())
        .var("v", 1)
        .var("input", &with)
        .as_caller(&provider_a())
        .send()
        .await;
    let r = &resp.data()["correctWaitingTime"];
    assert_eq!(
        (r["version"].clone(), r["intakes"]["exact"].clone(), r["treatmentStarts"]["exact"].clone()),
        (json!(2), json!(20), json!(5))
    );
    let resp = app
        .graphql(CORRECT)
        .var("id", WAIT_WITHIN_NORM.to_string())
        .var("v", 2)
        .var("input", &figures)
        .as_caller(&provider_a())
        .send()
        .await;
    assert_eq!(resp.data()["correctWaitingTime"]["intakes"]["exact"], 20, "left out: unchanged");
    let resp = app
        .graphql(CORRECT)
        .var("id", WAIT_WITHIN_NORM.to_string())
        .var("v", 2)
        .var("input", &with)
        .as_caller(&provider_a())
        .send()
        .await;
    assert_refused(&resp, "correctWaitingTime", "CONFLICT");
    let mut bad = figures.clone();
    bad["treatmentStarts"] = json!(-3);
    let resp = app
        .graphql(CORRECT)
        .var("id", WAIT_WITHIN_NORM.to_string())
        .var("v", 3)
        .var("input", &bad)
        .as_caller(&provider_a())
        .send()
        .await;
    assert_eq!(resp.expect_error("BAD_USER_INPUT"), "treatmentStarts must be between 0 and 100000, got -3");
}

// ---- 2. Unique count of people waiting per region ------------------------------------------

fn supply(region: &str, month: &str, people: i32, version: Option<i32>) -> Value {
    json!({"regionCode": region, "month": month, "peopleWaiting": people, "expectedVersion": version})
}

#[tokio::test]
async fn unique_counts_are_supplied_by_the_national_table_or_the_coordinating_insurer_only() {
    let app = TestApp::spawn().await;
    let resp =
        app.graphql(SUPPLY).var("input", supply("utrecht", "2026-01", 180, None)).as_caller(&insurer_x()).send().await;
    let r = &resp.data()["supplyUniqueWaitingCount"];
    assert_eq!(
        (r["peopleWaiting"].clone(), r["supplier"]["id"].clone(), r["version"].clone()),
        (exact(180), json!(INSURER_X.to_string()), json!(1))
    );
    let resp = app
        .graphql(SUPPLY)
        .var("input", supply("amsterdam", "2026-01", 90, None))
        .as_caller(&national_table())
        .send()
        .await;
    assert_eq!(resp.data()["supplyUniqueWaitingCount"]["supplier"]["id"], NATIONAL_TABLE.to_string());

    let refused = [
        ("insurer X outside its region", insurer_x(), "amsterdam"),
        ("insurer Y, not coordinating utrecht", insurer_y(), "utrecht"),
        ("provider A", provider_a(), "utrecht"),
        ("chair", chair(), "utrecht"),
        ("patient organisation", patient_org(), "utrecht"),
        ("municipality", municipality(), "utrecht"),
        ("hub operator", operator(), "utrecht"),
        ("national table without national:write", national_table().with_scopes(&["picture:read"]), "utrecht"),
    ];
    for (who, caller, region) in refused {
        let resp =
            app.graphql(SUPPLY).var("input", supply(region, "2026-02", 50, None)).as_caller(&caller).send().await;
        assert_refused(&resp, "supplyUniqueWaitingCount", "FORBIDDEN");
        assert!(!resp.expect_error("FORBIDDEN").is_empty(), "{who}");
    }
}

#[tokio::test]
async fn unique_counts_refuse_bad_input_and_stale_versions_and_are_audited() {
    let app = TestApp::spawn().await;
    for (input, message) in [
        (supply("utrecht", "2026-13", 10, None), "month must look like 2026-09, got \"2026-13\""),
        (supply("utrecht", "2026-01", -1, None), "peopleWaiting must be between 0 and 1000000, got -1"),
        (supply("nowhere", "2026-01", 10, None), "regionCode: unknown region code nowhere"),
        (supply("Not A Code", "2026-01", 10, None), "regionCode is not a valid region code: \"Not A Code\""),
    ] {
        let resp = app.graphql(SUPPLY).var("input", &input).as_caller(&national_table()).send().await;
        assert_refused(&resp, "supplyUniqueWaitingCount", "BAD_USER_INPUT");
        assert_eq!(resp.expect_error("BAD_USER_INPUT"), message);
    }
    let first =
        app.graphql(SUPPLY).var("input", supply("utrecht", "2026-01", 180, None)).as_caller(&insurer_x()).send().await;
    assert_eq!(first.data()["supplyUniqueWaitingCount"]["version"], 1);
    // A second supply that does not name the version it corrects.
    let resp = app
        .graphql(SUPPLY)
        .var("input", supply("utrecht", "2026-01", 170, None))
        .as_caller(&national_table())
        .send()
        .await;
    assert_refused(&resp, "supplyUniqueWaitingCount", "CONFLICT");
    // The correction names it and makes the corrector the supplier.
    let resp = app
        .graphql(SUPPLY)
        .var("input", supply("utrecht", "2026-01", 170, Some(1)))
        .as_caller(&national_table())
        .send()
        .await;
    let r = &resp.data()["supplyUniqueWaitingCount"];
    assert_eq!((r["version"].clone(), r["supplier"]["id"].clone()), (json!(2), json!(NATIONAL_TABLE.to_string())));
    let resp = app
        .graphql(SUPPLY)
        .var("input", supply("utrecht", "2026-01", 160, Some(1)))
        .as_caller(&insurer_x())
        .send()
        .await;
    assert_refused(&resp, "supplyUniqueWaitingCount", "CONFLICT");
    assert!(resp.expect_error("CONFLICT").contains("is at version 2, not 1"));
    let resp = app
        .graphql(SUPPLY)
        .var("input", supply("utrecht", "2026-02", 160, Some(1)))
        .as_caller(&insurer_x())
        .send()
        .await;
    assert_refused(&resp, "supplyUniqueWaitingCount", "CONFLICT");

    let log = app.audit_log(&national_table()).await;
    let actions: Vec<&str> =
        log.iter().filter(|e| e["entity"] == "UniqueWaitingCount").filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions.len(), 2, "{log:#?}");
    assert!(actions.contains(&"supply") && actions.contains(&"correct"));
}

#[tokio::test]
async fn unique_counts_are_read_by_all_but_the_operator_with_small_cells_for_the_supplier_only() {
    let app = TestApp::spawn().await;
    for (month, people) in [("2026-01", 7), ("2026-02", 240)] {
        app.graphql(SUPPLY)
            .var("input", supply("utrecht", month, people, None))
            .as_caller(&insurer_x())
            .send()
            .await
            .data();
    }
    for (who, caller) in others() {
        let resp = app.graphql(UNIQUE).as_caller(&caller).send().await;
        assert_eq!(resp.data()["region"]["uniquePeopleWaiting"]["month"], "2026-02", "{who}: the latest by default");
        assert_eq!(resp.data()["region"]["uniquePeopleWaiting"]["peopleWaiting"], exact(240), "{who}");
        let resp = app.graphql(UNIQUE).var("m", "2026-01").as_caller(&caller).send().await;
        let shown = &resp.data()["region"]["uniquePeopleWaiting"]["peopleWaiting"];
        assert_eq!(shown, &if who == "insurer X" { exact(7) } else { hidden() }, "{who}");
    }
    let resp = app.graphql(UNIQUE).var("m", "2025-01").as_caller(&patient_org()).send().await;
    assert_eq!(resp.data()["region"]["uniquePeopleWaiting"], Value::Null);
    let resp = app.graphql(UNIQUE).as_caller(&operator()).send().await;
    assert_eq!(resp.error_code_at(&["region", "uniquePeopleWaiting"]).as_deref(), Some("FORBIDDEN"));
}

// ---- 3. Transfer lead ------------------------------------------------------------------------

#[tokio::test]
async fn the_hub_proposes_the_provider_with_the_largest_treeknorm_excess_of_the_latest_month() {
    let app = TestApp::spawn().await;
    let resp = app.graphql(LEAD).as_caller(&patient_org()).send().await;
    // Fixture, 2026-01: provider A's report in Zeist exceeds the norm with 25 people waiting.
    assert_eq!(
        resp.data()["region"]["transferLead"],
        json!({"proposed": {"providerId": PROVIDER_A.to_string(), "provider": {"name": "GGZ Aanbieder A"},
               "month": "2026-01", "excess": exact(25), "reportsOverNorm": 1},
               "confirmed": null, "differsFromProposal": false})
    );
    // A later month with provider C over the norm (5 people: a small cell) takes over.
    let mut input = report(PROVIDER_C, "2026-02", "Amersfoort");
    input["waitingCount"] = json!(5);
    app.graphql(REPORT).var("input", &input).as_caller(&provider_c()).send().await.data();
    for (who, caller) in others() {
        let resp = app.graphql(LEAD).as_caller(&caller).send().await;
        let proposed = &resp.data()["region"]["transferLead"]["proposed"];
        assert_eq!(proposed["providerId"], PROVIDER_C.to_string(), "{who}");
        assert_eq!(proposed["month"], "2026-02", "{who}");
        let own = who == "provider C" || who == "chair";
        // A sum holding another's small cell is suppressed, not "fewer than 10" (whose threshold
        // a provider could move with its own reports).
        let suppressed = json!({"exact": null, "fewerThan": null, "label": "suppressed (includes counts below 10)"});
        assert_eq!(proposed["excess"], if own { exact(5) } else { suppressed }, "{who}");
    }
    let resp = app.graphql(LEAD).as_caller(&operator()).send().await;
    assert_eq!(resp.error_code_at(&["region", "transferLead"]).as_deref(), Some("FORBIDDEN"));
}

#[tokio::test]
async fn only_the_chair_confirms_the_transfer_lead() {
    let app = TestApp::spawn().await;
    for (who, caller) in all_personas().into_iter().filter(|(w, _)| *w != "chair") {
        let resp = app
            .graphql(CONFIRM)
            .var("region", "utrecht")
            .var("provider", PROVIDER_A.to_string())
            .as_caller(&caller)
            .send()
            .await;
        assert_eq!(
            resp.error_code_at(&["confirmTransferLead"]).as_deref(),
            Some("FORBIDDEN"),
            "{who}: {:#}",
            resp.body
        );
    }
    let chair_without_scope = chair().with_scopes(&["picture:read"]);
    let resp = app
        .graphql(CONFIRM)
        .var("region", "utrecht")
        .var("provider", PROVIDER_A.to_string())
        .as_caller(&chair_without_scope)
        .send()
        .await;
    assert_refused(&resp, "confirmTransferLead", "FORBIDDEN");
    // The chair of utrecht cannot confirm amsterdam's lead.
    let resp = app
        .graphql(CONFIRM)
        .var("region", "amsterdam")
        .var("provider", PROVIDER_B.to_string())
        .as_caller(&chair())
        .send()
        .await;
    assert_refused(&resp, "confirmTransferLead", "FORBIDDEN");
    let resp = app
        .graphql(CONFIRM)
        .var("region", "utrecht")
        .var("provider", PROVIDER_A.to_string())
        .as_caller(&chair())
        .send()
        .await;
    assert_eq!(
        resp.data()["confirmTransferLead"],
        json!({"proposed": {"providerId": PROVIDER_A.to_string()},
               "confirmed": {"providerId": PROVIDER_A.to_string(), "confirmedBy": {"id": PROVIDER_C.to_string()}, "version": 1},
               "differsFromProposal": false})
    );
    let log = app.audit_log(&chair()).await;
    assert!(
        log.iter().any(|e| e["entity"] == "TransferLead" && e["action"] == "confirm" && e["entityId"] == "utrecht")
    );
}

#[tokio::test]
async fn confirming_the_transfer_lead_refuses_bad_providers_and_stale_versions() {
    let app = TestApp::spawn().await;
    let confirm = |provider: String, v: Option<i32>| {
        app.graphql(CONFIRM).var("region", "utrecht").var("provider", provider).var("v", v).as_caller(&chair())
    };
    for (provider, message) in [
        (PROVIDER_B.to_string(), format!("providerId: {PROVIDER_B} is not a provider taking part in region utrecht")),
        (INSURER_X.to_string(), format!("providerId: {INSURER_X} is not a provider taking part in region utrecht")),
        (
            uuid::Uuid::from_u128(0xdead).to_string(),
            format!("providerId: no organisation with id {}", uuid::Uuid::from_u128(0xdead)),
        ),
        ("not-an-id".to_owned(), "providerId is not a valid id: \"not-an-id\"".to_owned()),
    ] {
        let resp = confirm(provider, None).send().await;
        assert_refused(&resp, "confirmTransferLead", "BAD_USER_INPUT");
        assert_eq!(resp.expect_error("BAD_USER_INPUT"), message);
    }
    // Another provider of the region than the proposal.
    let resp = confirm(PROVIDER_C.to_string(), None).send().await;
    assert_eq!(resp.data()["confirmTransferLead"]["differsFromProposal"], true);
    let resp = confirm(PROVIDER_A.to_string(), None).send().await;
    assert_refused(&resp, "confirmTransferLead", "CONFLICT");
    let resp = confirm(PROVIDER_A.to_string(), Some(1)).send().await;
    assert_eq!(resp.data()["confirmTransferLead"]["confirmed"]["version"], 2);
    let resp = confirm(PROVIDER_C.to_string(), Some(1)).send().await;
    assert_refused(&resp, "confirmTransferLead", "CONFLICT");
    assert!(resp.expect_error("CONFLICT").contains("is at version 2, not 1"));
}

// ---- 4. Hotspot report -----------------------------------------------------------------------

#[tokio::test]
async fn the_hotspot_report_shows_where_the_treeknorm_is_exceeded_most_in_a_quarter() {
    let app = TestApp::spawn().await;
    // Provider C: 2026-02 and 2026-03 over the norm at Amersfoort (DEPRESSION), 4 and 30 people.
    for (month, people) in [("2026-02", 4), ("2026-03", 30)] {
        let mut input = report(PROVIDER_C, month, "Amersfoort");
        input["waitingCount"] = json!(people);
        app.graphql(REPORT).var("input", &input).as_caller(&provider_c()).send().await.data();
    }
    // Outside the quarter: not counted.
    app.graphql(REPORT)
        .var("input", report(PROVIDER_C, "2026-04", "Amersfoort"))
        .as_caller(&provider_c())
        .send()
        .await
        .data();
    let resp = app.graphql(HOTSPOTS).var("q", "2026-Q1").as_caller(&patient_org()).send().await;
    let a = PROVIDER_A.to_string();
    let c = PROVIDER_C.to_string();
    assert_eq!(
        resp.data()["region"]["hotspotReport"],
        json!({
            "regionCode": "utrecht", "quarter": "2026-Q1", "months": ["2026-01", "2026-02", "2026-03"], "reports": 4,
            "diagnosisGroups": [
                {"diagnosisGroup": "DEPRESSION", "monthsOverNorm": 2, "reportsOverNorm": 2,
                 "peopleWaitingOverNorm": {"exact": 30, "fewerThan": null}, "worstTotalWeeks": 15.5},
                {"diagnosisGroup": "ANXIETY", "monthsOverNorm": 1, "reportsOverNorm": 1,
                 "peopleWaitingOverNorm": {"exact": 25, "fewerThan": null}, "worstTotalWeeks": 15.0}],
            "locations": [
                {"providerId": c, "location": "Amersfoort", "monthsOverNorm": 2, "reportsOverNorm": 2,
                 "peopleWaitingOverNorm": {"exact": 30, "fewerThan": null}, "worstTotalWeeks": 15.5},
                {"providerId": a, "location": "Zeist", "monthsOverNorm": 1, "reportsOverNorm": 1,
                 "peopleWaitingOverNorm": {"exact": 25, "fewerThan": null}, "worstTotalWeeks": 15.0}],
            "worstWaits": [
                {"providerId": c, "location": "Amersfoort", "diagnosisGroup": "DEPRESSION", "month": "2026-02",
                 "totalWeeks": 15.5, "waitingCount": {"exact": null, "fewerThan": 10}},
                {"providerId": c, "location": "Amersfoort", "diagnosisGroup": "DEPRESSION", "month": "2026-03",
                 "totalWeeks": 15.5, "waitingCount": {"exact": 30, "fewerThan": null}},
                {"providerId": a, "location": "Zeist", "diagnosisGroup": "ANXIETY", "month": "2026-01",
                 "totalWeeks": 15.0, "waitingCount": {"exact": 25, "fewerThan": null}}]
        })
    );
    // The reporter sees its own small cell.
    let resp = app.graphql(HOTSPOTS).var("q", "2026-Q1").as_caller(&provider_c()).send().await;
    assert_eq!(resp.data()["region"]["hotspotReport"]["worstWaits"][0]["waitingCount"]["exact"], 4);
    // Public: everyone but the operator.
    for (who, caller) in others() {
        let resp = app.graphql(HOTSPOTS).var("q", "2026-Q1").as_caller(&caller).send().await;
        assert_eq!(resp.data()["region"]["hotspotReport"]["reports"], 4, "{who}");
    }
    let resp = app.graphql(HOTSPOTS).var("q", "2026-Q1").as_caller(&operator()).send().await;
    assert_eq!(resp.error_code_at(&["region", "hotspotReport"]).as_deref(), Some("FORBIDDEN"));
    for bad in ["2026-Q5", "2026-1", "Q1-2026"] {
        let resp = app.graphql(HOTSPOTS).var("q", bad).as_caller(&patient_org()).send().await;
        assert_eq!(resp.expect_error("BAD_USER_INPUT"), format!("quarter must look like 2026-Q3, got \"{bad}\""));
    }
    let resp = app.graphql(HOTSPOTS).var("q", "2025-Q4").as_caller(&patient_org()).send().await;
    assert_eq!(resp.data()["region"]["hotspotReport"]["diagnosisGroups"], json!([]));
}

// ---- 5. Intake outlook -----------------------------------------------------------------------

fn outlook(possible: bool, weeks: Option<f64>) -> Value {
    json!({"intakePossibleNow": possible, "expectedWaitWeeks": weeks})
}

#[tokio::test]
async fn the_owning_provider_sets_the_intake_outlook_and_everyone_reads_it() {
    let app = TestApp::spawn().await;
    let crisis = OFFER_A_CRISIS.to_string();
    let resp = app.graphql(OUTLOOK).var("id", &crisis).as_caller(&patient_org()).send().await;
    assert_eq!(resp.data()["careOffer"]["intakeOutlook"], Value::Null, "never set");
    for (who, caller) in all_personas().into_iter().filter(|(w, _)| *w != "provider A") {
        let resp = app
            .graphql(SET_OUTLOOK)
            .var("id", &crisis)
            .var("input", outlook(true, Some(1.0)))
            .as_caller(&caller)
            .send()
            .await;
        assert_refused(&resp, "setIntakeOutlook", "FORBIDDEN");
        assert!(!who.is_empty());
    }
    let resp = app
        .graphql(SET_OUTLOOK)
        .var("id", &crisis)
        .var("input", outlook(true, Some(1.0)))
        .as_caller(&provider_a().with_scopes(&["picture:read"]))
        .send()
        .await;
    assert_refused(&resp, "setIntakeOutlook", "FORBIDDEN");
    let resp = app
        .graphql(SET_OUTLOOK)
        .var("id", &crisis)
        .var("input", outlook(true, Some(1.0)))
        .as_caller(&provider_a())
        .send()
        .await;
    let set = json!({"intakePossibleNow": true, "expectedWaitWeeks": 1.0, "source": "PROVIDER", "version": 1});
    assert_eq!(resp.data()["setIntakeOutlook"]["intakeOutlook"], set);
    for (who, caller) in all_personas() {
        let resp = app.graphql(OUTLOOK).var("id", &crisis).as_caller(&caller).send().await;
        assert_eq!(resp.data()["careOffer"]["intakeOutlook"], set, "{who}");
    }
    let log = app.audit_log(&provider_a()).await;
    assert!(log.iter().any(|e| e["entity"] == "CareOffer" && e["action"] == "set_intake_outlook"));
}

#[tokio::test]
async fn the_intake_outlook_refuses_bad_input_stale_versions_and_yields_to_an_intake_pause() {
    let app = TestApp::spawn().await;
    let set = |id: String, v: Option<i32>, input: Value| {
        app.graphql(SET_OUTLOOK).var("id", id).var("v", v).var("input", input).as_caller(&provider_a())
    };
    let crisis = OFFER_A_CRISIS.to_string();
    let resp = set(crisis.clone(), None, outlook(true, Some(-1.0))).send().await;
    assert_eq!(resp.expect_error("BAD_USER_INPUT"), "expectedWaitWeeks must be between 0 and 520 weeks, got -1");
    let resp = set(uuid::Uuid::from_u128(0xdead).to_string(), None, outlook(true, None)).send().await;
    assert_refused(&resp, "setIntakeOutlook", "NOT_FOUND");
    let resp = set(crisis.clone(), Some(1), outlook(true, None)).send().await;
    assert_refused(&resp, "setIntakeOutlook", "CONFLICT");
    set(crisis.clone(), None, outlook(true, None)).send().await.data();
    let resp = set(crisis.clone(), None, outlook(false, Some(6.0))).send().await;
    assert_refused(&resp, "setIntakeOutlook", "CONFLICT");
    let resp = set(crisis.clone(), Some(1), outlook(false, Some(6.0))).send().await;
    assert_eq!(resp.data()["setIntakeOutlook"]["intakeOutlook"]["version"], 2);
    let resp = set(crisis.clone(), Some(1), outlook(true, Some(0.0))).send().await;
    assert_refused(&resp, "setIntakeOutlook", "CONFLICT");

    // OFFER_A_FACT has an intake pause since 2026-01-01, open-ended: never "possible now".
    let fact = OFFER_A_FACT.to_string();
    let resp = app.graphql(OUTLOOK).var("id", &fact).as_caller(&patient_org()).send().await;
    assert_eq!(
        resp.data()["careOffer"]["intakeOutlook"],
        json!({"intakePossibleNow": false, "expectedWaitWeeks": null, "source": "INTAKE_PAUSE", "version": 0})
    );
    let resp = set(fact.clone(), None, outlook(true, Some(2.0))).send().await;
    assert_refused(&resp, "setIntakeOutlook", "FAILED_PRECONDITION");
    assert!(resp.expect_error("FAILED_PRECONDITION").contains("has an active intake pause"));
    let resp = set(fact.clone(), None, outlook(false, Some(12.0))).send().await;
    assert_eq!(
        resp.data()["setIntakeOutlook"]["intakeOutlook"],
        json!({"intakePossibleNow": false, "expectedWaitWeeks": 12.0, "source": "INTAKE_PAUSE", "version": 1})
    );
}

// ---- Statement counts ------------------------------------------------------------------------

const REGIONS_WITH_PLAN: &str = r#"query { regions(first: 50) { edges { node { code
    uniquePeopleWaiting { peopleWaiting { label } supplier { name } }
    transferLead { proposed { provider { name } excess { label } } confirmed { provider { name } confirmedBy { name } } }
    hotspotReport(quarter: "2026-Q1") { reports diagnosisGroups { diagnosisGroup } locations { location } worstWaits { totalWeeks } }
    offers(first: 50) { nodes { id intakeOutlook { intakePossibleNow source } } } } } } }"#;

async fn statements(app: &TestApp) -> (usize, Value) {
    let before = app.statement_count();
    let resp = app.graphql(REGIONS_WITH_PLAN).as_caller(&national_table()).send().await;
    let data = resp.data().clone();
    (app.statement_count() - before, data)
}

async fn grow(app: &TestApp, tag: &str, n: usize) {
    let months = ["2026-01", "2026-02", "2026-03"];
    let reports: Vec<Value> = (0..n)
        .flat_map(|i| {
            months.iter().map(move |m| {
                let mut r = report(PROVIDER_A, m, &format!("Plaats {tag} {i}"));
                r["registrationToIntakeWeeks"] = json!(3.0 + i as f64);
                r
            })
        })
        .collect();
    app.graphql(REPORTS).var("input", &reports).as_caller(&provider_a()).send().await.data();
    for i in 0..n {
        let id = app.insert_offer(PROVIDER_A, "utrecht", "FACT", &format!("FACT {tag} {i}")).await;
        app.graphql(SET_OUTLOOK)
            .var("id", id)
            .var("input", outlook(i % 2 == 0, Some(2.0)))
            .as_caller(&provider_a())
            .send()
            .await
            .data();
    }
    for (region, supplier) in [("utrecht", insurer_x()), ("amsterdam", insurer_y())] {
        app.graphql(SUPPLY)
            .var("input", supply(region, &format!("2026-{:02}", 3 + n), 100 + n as i32, None))
            .as_caller(&supplier)
            .send()
            .await
            .data();
    }
}

#[tokio::test]
async fn statements_per_request_do_not_grow_with_regions_reports_offers_or_counts() {
    let app = TestApp::spawn().await;
    app.graphql(CONFIRM)
        .var("region", "utrecht")
        .var("provider", PROVIDER_A.to_string())
        .as_caller(&chair())
        .send()
        .await
        .data();
    grow(&app, "a", 2).await;
    let (small, data) = statements(&app).await;
    let utrecht = |d: &Value| {
        d["regions"]["edges"]
            .as_array()
            .and_then(|e| e.iter().find(|n| n["node"]["code"] == "utrecht"))
            .cloned()
            .expect("utrecht")
    };
    assert_eq!(utrecht(&data)["node"]["hotspotReport"]["reports"], 2 + 6);
    grow(&app, "b", 9).await;
    let (large, data) = statements(&app).await;
    let u = utrecht(&data);
    assert_eq!(u["node"]["hotspotReport"]["reports"], 2 + 6 + 27);
    assert_eq!(u["node"]["offers"]["nodes"].as_array().map(Vec::len), Some(2 + 2 + 9));
    assert_eq!(u["node"]["uniquePeopleWaiting"]["peopleWaiting"]["label"], "109");
    println!(
        "regions → unique counts, transfer leads, hotspots, offers → outlooks: {small} then {large} SQL statements"
    );
    assert_eq!(small, large, "statement count grew with the data ({small} → {large})");
}

// ---- Demo data -------------------------------------------------------------------------------

/// What the demo generator adds for the Actieplan, without ids and times.
/// Unique counts (region, month, people, supplier, id), confirmed leads (region, provider,
/// confirmed by), outlooks (offer, possible now, weeks) and the reports with flows.
type DemoPlan = (
    Vec<(String, String, i32, String, String)>,
    Vec<(String, String, String)>,
    Vec<(String, bool, Option<f64>)>,
    usize,
);

async fn demo_plan(db: &sea_orm::DatabaseConnection) -> DemoPlan {
    use ggzhub_region::entity::{intake_outlook, region_waiting_count, transfer_lead, waiting_time};
    use sea_orm::EntityTrait as _;
    let mut counts: Vec<_> = region_waiting_count::Entity::find()
        .all(db)
        .await
        .expect("counts")
        .into_iter()
        .map(|c| (c.region_code, c.month, c.people_waiting, c.supplier_id, c.id))
        .collect();
    counts.sort();
    let mut leads: Vec<_> = transfer_lead::Entity::find()
        .all(db)
        .await
        .expect("leads")
        .into_iter()
        .map(|l| (l.region_code, l.provider_id, l.confirmed_by))
        .collect();
    leads.sort();
    let mut outlooks: Vec<_> = intake_outlook::Entity::find()
        .all(db)
        .await
        .expect("outlooks")
        .into_iter()
        .map(|o| (o.offer_id, o.intake_possible_now, o.expected_wait_weeks))
        .collect();
    outlooks.sort_by(|a, b| a.0.cmp(&b.0));
    let reports = waiting_time::Entity::find().all(db).await.expect("reports");
    let with_flows = reports.iter().filter(|r| r.intakes.is_some() && r.treatment_starts <= r.intakes).count();
    assert_eq!(with_flows, reports.len(), "every demo report has intakes and at most as many treatment starts");
    (counts, leads, outlooks, with_flows)
}

#[tokio::test]
async fn the_demo_generator_fills_the_actieplan_parts_deterministically() {
    use ggzhub_region::seed::{Source, seed};
    use sea_orm_migration::MigratorTrait as _;
    let mut seen = Vec::new();
    for _ in 0..2 {
        let db = ggzhub_kit::testing::TestDb::new().await;
        ggzhub_region::migration::Migrator::up(&db.db, None).await.expect("migrations run");
        assert!(seed(&db.db, &Source::Demo).await.expect("demo seeds").loaded);
        seen.push(demo_plan(&db.db).await);
    }
    let (counts, leads, outlooks, reports) = &seen[0];
    let regions: std::collections::BTreeSet<&str> = counts.iter().map(|c| c.0.as_str()).collect();
    assert!(regions.len() >= 10, "unique counts in the regions with reports: {regions:?}");
    assert_eq!(counts.len(), regions.len() * 6, "the last six months of each");
    assert!(!leads.is_empty() && leads.len() < 31, "a confirmed lead in some regions: {}", leads.len());
    assert!(outlooks.iter().any(|o| o.1) && outlooks.iter().any(|o| !o.1), "outlooks both ways");
    assert!(*reports > 0);
    assert_eq!(seen[0], seen[1], "the same demo data twice, ids included");
    // A lead is confirmed by its region's chair, as `confirmTransferLead` requires.
    let orgs = ggzhub_region::seed::organisations(&Source::Demo).expect("demo organisations");
    for (region, _, confirmed_by) in leads {
        let chair = orgs.iter().find(|o| o.demo_roles.contains(&format!("chair:{region}"))).expect("a chair");
        assert_eq!(confirmed_by, &chair.id, "{region}");
    }
}

// ---- review fix: small cells must not leak from sums by subtraction ---------------------------

fn suppressed() -> Value {
    json!({"exact": null, "fewerThan": null, "label": "suppressed (includes counts below 10)"})
}

async fn report_count(app: &TestApp, caller: &TestCaller, provider: uuid::Uuid, month: &str, location: &str, n: i64) {
    let mut input = report(provider, month, location);
    input["waitingCount"] = json!(n);
    app.graphql(REPORT).var("input", &input).as_caller(caller).send().await.data();
}

#[tokio::test]
async fn a_transfer_lead_excess_with_a_small_cell_is_exact_only_to_the_provider() {
    let app = TestApp::spawn().await;
    // Provider C, 2026-02: 12 + 4 people over the norm. An exact 16 would reveal the 4 to
    // everyone who reads the public report of 12.
    report_count(&app, &provider_c(), PROVIDER_C, "2026-02", "Amersfoort", 12).await;
    report_count(&app, &provider_c(), PROVIDER_C, "2026-02", "Zeist", 4).await;
    for (who, caller) in others() {
        let resp = app.graphql(LEAD).as_caller(&caller).send().await;
        let proposed = &resp.data()["region"]["transferLead"]["proposed"];
        // The proposal itself still rests on the true excess.
        assert_eq!(proposed["providerId"], PROVIDER_C.to_string(), "{who}");
        assert_eq!(proposed["reportsOverNorm"], 2, "{who}");
        let own = who == "provider C" || who == "chair";
        assert_eq!(proposed["excess"], if own { exact(16) } else { suppressed() }, "{who}");
    }
}

#[tokio::test]
async fn a_hotspot_line_with_someone_elses_small_cell_is_suppressed() {
    let app = TestApp::spawn().await;
    // 2026-Q2, DEPRESSION: provider A 40 people over the norm, provider C 5 (a small cell).
    report_count(&app, &provider_a(), PROVIDER_A, "2026-04", "Amersfoort", 40).await;
    report_count(&app, &provider_c(), PROVIDER_C, "2026-04", "Amersfoort", 5).await;
    let (a, c) = (PROVIDER_A.to_string(), PROVIDER_C.to_string());
    for (who, caller) in others() {
        let resp = app.graphql(HOTSPOTS).var("q", "2026-Q2").as_caller(&caller).send().await;
        let report = &resp.data()["region"]["hotspotReport"];
        let group = &report["diagnosisGroups"][0];
        assert_eq!(group["diagnosisGroup"], "DEPRESSION", "{who}");
        // 45 = 40 + 5 would reveal C's 5 to everyone but C; C's own small cell is the only one
        // in it (A's 40 is shown anyway), so C sees the sum.
        let c_itself = who == "provider C" || who == "chair";
        let expected =
            if c_itself { json!({"exact": 45, "fewerThan": null}) } else { json!({"exact": null, "fewerThan": null}) };
        assert_eq!(group["peopleWaitingOverNorm"], expected, "{who}");
        let location = |provider: &str| {
            report["locations"]
                .as_array()
                .expect("locations")
                .iter()
                .find(|l| l["providerId"] == provider)
                .unwrap_or_else(|| panic!("{who}: {provider}"))["peopleWaitingOverNorm"]
                .clone()
        };
        // A location's line has only its provider's cells: each sees its own exactly.
        assert_eq!(location(&a), json!({"exact": 40, "fewerThan": null}), "{who}");
        // Others: suppressed like every sum holding another's small cell (not "fewer than 10").
        let own_c =
            if c_itself { json!({"exact": 5, "fewerThan": null}) } else { json!({"exact": null, "fewerThan": null}) };
        assert_eq!(location(&c), own_c, "{who}");
    }
    let query = r#"query { region(code: "utrecht") { hotspotReport(quarter: "2026-Q2") {
        diagnosisGroups { peopleWaitingOverNorm { label } } } } }"#;
    let resp = app.graphql(query).as_caller(&patient_org()).send().await;
    assert_eq!(
        resp.data()["region"]["hotspotReport"]["diagnosisGroups"][0]["peopleWaitingOverNorm"]["label"],
        "suppressed (includes counts below 10)"
    );
}

#[tokio::test]
async fn unique_counts_of_named_and_latest_months_load_together_in_one_statement() {
    let app = TestApp::spawn().await;
    for (region, month, people, supplier) in [
        ("utrecht", "2026-01", 110, insurer_x()),
        ("utrecht", "2026-02", 120, insurer_x()),
        ("utrecht", "2026-03", 130, insurer_x()),
        ("amsterdam", "2026-01", 210, insurer_y()),
    ] {
        app.graphql(SUPPLY).var("input", supply(region, month, people, None)).as_caller(&supplier).send().await.data();
    }
    let query = r#"query { u: region(code: "utrecht") {
        latest: uniquePeopleWaiting { month peopleWaiting { exact } }
        feb: uniquePeopleWaiting(month: "2026-02") { month peopleWaiting { exact } }
        none: uniquePeopleWaiting(month: "2025-12") { month } }
      a: region(code: "amsterdam") { latest: uniquePeopleWaiting { month peopleWaiting { exact } }
        jan: uniquePeopleWaiting(month: "2026-01") { month } } }"#;
    let resp = app.graphql(query).as_caller(&national_table()).send().await;
    assert_eq!(
        resp.data().clone(),
        json!({
            "u": {"latest": {"month": "2026-03", "peopleWaiting": {"exact": 130}},
                  "feb": {"month": "2026-02", "peopleWaiting": {"exact": 120}}, "none": null},
            "a": {"latest": {"month": "2026-01", "peopleWaiting": {"exact": 210}}, "jan": {"month": "2026-01"}}
        })
    );
}
