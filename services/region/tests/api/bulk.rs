//! Bulk writes: `reportWaitingTimes` stores 1 to 500 waiting-time reports in one call, each
//! checked as `reportWaitingTime` checks one, all or nothing, with a history row and an audit
//! entry each, in a number of SQL statements that does not grow with the batch.

use std::time::Instant;

use serde_json::{Value, json};

use crate::helpers::*;

const BATCH: &str = r#"mutation($input: [WaitingTimeInput!]!) { reportWaitingTimes(input: $input) {
    id providerId regionCode location diagnosisGroup month registrationToIntakeWeeks intakeToTreatmentWeeks
    waitingCount { exact } version } }"#;

const SINGLE: &str = r#"mutation($input: WaitingTimeInput!) { reportWaitingTime(input: $input) { id } }"#;

/// Report `i` of a batch: provider A in utrecht, a location per two reports, DEPRESSION and
/// ANXIETY (the fixture's two groups) in turn, so that 500 reports have 500 keys.
fn report(i: usize, month: &str) -> Value {
    let group = ["DEPRESSION", "ANXIETY"][i % 2];
    json!({
        "providerId": PROVIDER_A, "regionCode": "utrecht", "location": format!("Locatie {:03}", i / 2),
        "diagnosisGroup": group, "month": month,
        "registrationToIntakeWeeks": 3.0, "intakeToTreatmentWeeks": 5.0 + (i % 7) as f64, "waitingCount": 10 + i
    })
}

fn batch(n: usize, month: &str) -> Vec<Value> {
    (0..n).map(|i| report(i, month)).collect()
}

/// Rows in `table`, read directly.
async fn rows(app: &TestApp, table: &str) -> i64 {
    use sea_orm::{ConnectionTrait as _, Statement};
    let db = &app.db.db;
    let sql = format!("SELECT COUNT(*) AS n FROM {table}");
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("the count runs")
        .expect("a count row");
    row.try_get::<i64>("", "n").expect("n")
}

/// Reports, their history rows and audit entries.
async fn stored(app: &TestApp) -> (i64, i64, i64) {
    (rows(app, "waiting_time_reports").await, rows(app, "waiting_time_history").await, rows(app, "audit_log").await)
}

/// The refused items of a refused batch, after checking it is one error with `code` at
/// `reportWaitingTimes`.
#[track_caller]
fn refused_items(resp: &ggzhub_kit::testing::GraphqlResponse, code: &str) -> Vec<Value> {
    assert_refused(resp, "reportWaitingTimes", code);
    let errors = resp.body["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "one error for the whole batch: {:#}", resp.body);
    errors[0]["extensions"]["items"].as_array().cloned().unwrap_or_else(|| panic!("no items: {:#}", resp.body))
}

#[tokio::test]
async fn a_batch_is_stored_whole_with_a_history_row_and_an_audit_entry_each() {
    let app = TestApp::spawn().await;
    let before = stored(&app).await;
    let input = batch(5, "2026-02");
    let resp = app.graphql(BATCH).var("input", &input).as_caller(&provider_a()).send().await;
    let answer = resp.data()["reportWaitingTimes"].as_array().expect("a list").clone();
    assert_eq!(answer.len(), 5);
    for (got, sent) in answer.iter().zip(&input) {
        for field in ["providerId", "regionCode", "location", "diagnosisGroup", "month"] {
            assert_eq!(got[field], sent[field], "{field}, in the order sent");
        }
        assert_eq!(got["waitingCount"]["exact"], sent["waitingCount"], "the provider reads its own figure");
        assert_eq!(got["version"], 1);
    }
    assert_eq!(stored(&app).await, (before.0 + 5, before.1 + 5, before.2 + 5));
    // The reports read back as answered.
    let resp = app
        .graphql(r#"query { waitingTimes(region: "utrecht", month: "2026-02") { nodes { id } } }"#)
        .as_caller(&provider_a())
        .send()
        .await;
    let mut answered: Vec<String> = answer.iter().map(|r| r["id"].as_str().expect("id").to_owned()).collect();
    answered.sort();
    assert_eq!(ids(&resp.data()["waitingTimes"]["nodes"]), answered);
    let audited: Vec<Value> = app
        .audit_log(&provider_a())
        .await
        .into_iter()
        .filter(|e| e["entity"] == "WaitingTimeReport" && e["action"] == "create")
        .collect();
    assert_eq!(audited.len(), 5, "{audited:#?}");
}

#[tokio::test]
async fn a_batched_report_is_recorded_exactly_as_a_single_one() {
    let app = TestApp::spawn().await;
    let one = report(0, "2026-02");
    let resp = app.graphql(SINGLE).var("input", &one).as_caller(&provider_a()).send().await;
    let single_id = resp.data()["reportWaitingTime"]["id"].as_str().expect("id").to_owned();
    let mut other = one.clone();
    other["month"] = json!("2026-03");
    let resp = app.graphql(BATCH).var("input", json!([other])).as_caller(&provider_a()).send().await;
    let batch_id = resp.data()["reportWaitingTimes"][0]["id"].as_str().expect("id").to_owned();

    let log = app.audit_log(&provider_a()).await;
    let entry = |id: &str| {
        let mut e = log.iter().find(|e| e["entityId"] == id).unwrap_or_else(|| panic!("{id} audited")).clone();
        e["entityId"] = json!("<id>");
        e["change"]["month"] = json!("<month>");
        e
    };
    assert_eq!(entry(&single_id), entry(&batch_id));

    use sea_orm::{ConnectionTrait as _, Statement};
    let db = &app.db.db;
    let history = |id: String| {
        let sql = format!(
            "SELECT provider_id, region_code, diagnosis_group, registration_weeks, treatment_weeks, waiting_count, \
             version, superseded_at IS NULL AS current FROM waiting_time_history WHERE report_id = '{id}'"
        );
        async move {
            let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await.expect("reads");
            assert_eq!(rows.len(), 1, "one history row for {id}");
            let r = &rows[0];
            (
                r.try_get::<String>("", "provider_id").expect("provider"),
                r.try_get::<String>("", "region_code").expect("region"),
                r.try_get::<String>("", "diagnosis_group").expect("group"),
                r.try_get::<f64>("", "registration_weeks").expect("registration"),
                r.try_get::<f64>("", "treatment_weeks").expect("treatment"),
                r.try_get::<i32>("", "waiting_count").expect("count"),
                r.try_get::<i32>("", "version").expect("version"),
                r.try_get::<bool>("", "current").expect("current"),
            )
        }
    };
    assert_eq!(history(single_id).await, history(batch_id).await);
}

#[tokio::test]
async fn a_batch_with_two_bad_reports_is_refused_naming_both_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let before = stored(&app).await;
    let mut input = batch(5, "2026-02");
    input[1]["month"] = json!("2026-13");
    input[3]["registrationToIntakeWeeks"] = json!(-1.0);
    let resp = app.graphql(BATCH).var("input", &input).as_caller(&provider_a()).send().await;
    let items = refused_items(&resp, "BAD_USER_INPUT");
    assert_eq!(
        items,
        vec![
            json!({"index": 1, "field": "month", "code": "BAD_USER_INPUT",
                   "reason": "month must look like 2026-09, got \"2026-13\""}),
            json!({"index": 3, "field": "registrationToIntakeWeeks", "code": "BAD_USER_INPUT",
                   "reason": "registrationToIntakeWeeks must be between 0 and 520 weeks, got -1"}),
        ]
    );
    assert_eq!(
        resp.body["errors"][0]["message"],
        "2 of 5 waiting-time reports refused, so none was stored; the first: item 1 (month): month must look like \
         2026-09, got \"2026-13\""
    );
    assert_eq!(stored(&app).await, before, "nothing stored: reports, history, audit");
}

#[tokio::test]
async fn rules_that_need_the_database_are_checked_per_report_too() {
    let app = TestApp::spawn().await;
    let before = stored(&app).await;
    // A seat at atlantis's table, which the hub does not know.
    let caller =
        ggzhub_kit::testing::TestCaller::new(ggzhub_kit::OrgKind::Provider, PROVIDER_A, &["utrecht", "atlantis"]);
    let mut input = batch(4, "2026-02");
    input[0]["diagnosisGroup"] = json!("NO_SUCH_GROUP");
    input[2]["regionCode"] = json!("atlantis");
    let resp = app.graphql(BATCH).var("input", &input).as_caller(&caller).send().await;
    let items = refused_items(&resp, "BAD_USER_INPUT");
    assert_eq!(
        items,
        vec![
            json!({"index": 0, "field": "diagnosisGroup", "code": "BAD_USER_INPUT",
                   "reason": "unknown diagnosis group \"NO_SUCH_GROUP\""}),
            json!({"index": 2, "field": "regionCode", "code": "BAD_USER_INPUT",
                   "reason": "regionCode: unknown region code atlantis"}),
        ]
    );
    assert_eq!(stored(&app).await, before);
}

#[tokio::test]
async fn the_same_key_twice_in_a_batch_is_refused() {
    let app = TestApp::spawn().await;
    let before = stored(&app).await;
    let mut input = batch(4, "2026-02");
    // Item 3 is item 0's key; locations are compared as stored (trimmed).
    input[3] = input[0].clone();
    input[3]["location"] = json!("  Locatie 000 ");
    input[3]["waitingCount"] = json!(99);
    let resp = app.graphql(BATCH).var("input", &input).as_caller(&provider_a()).send().await;
    let items = refused_items(&resp, "BAD_USER_INPUT");
    assert_eq!(items.len(), 1, "{items:#?}");
    assert_eq!(items[0]["index"], 3);
    assert_eq!(items[0]["field"], Value::Null, "the report as a whole");
    assert_eq!(
        items[0]["reason"],
        "the same location, diagnosis group and month as item 0: one report per key and call"
    );
    assert_eq!(stored(&app).await, before);
}

#[tokio::test]
async fn a_batch_whose_refused_reports_all_conflict_is_a_conflict() {
    let app = TestApp::spawn().await;
    let before = stored(&app).await;
    // The fixture holds provider A's utrecht reports for Utrecht/DEPRESSION and Zeist/ANXIETY in 2026-01.
    let mut input = batch(3, "2026-01");
    input[1]["location"] = json!("Utrecht");
    input[1]["diagnosisGroup"] = json!("DEPRESSION");
    let resp = app.graphql(BATCH).var("input", &input).as_caller(&provider_a()).send().await;
    let items = refused_items(&resp, "CONFLICT");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["index"], 1);
    assert_eq!(items[0]["code"], "CONFLICT");
    let reason = items[0]["reason"].as_str().expect("reason");
    assert!(
        reason.starts_with("a report for \"Utrecht\", DEPRESSION, 2026-01 exists (")
            && reason.contains(&WAIT_WITHIN_NORM.to_string())
            && reason.ends_with("use correctWaitingTime"),
        "{reason}"
    );
    assert_eq!(stored(&app).await, before);
}

#[tokio::test]
async fn of_the_same_batch_sent_eight_times_at_once_one_is_stored_and_the_rest_conflict() {
    let app = TestApp::spawn().await;
    let responses = app.send_concurrently(&provider_a(), BATCH, json!({"input": batch(50, "2026-02")}), 8).await;
    let winners = responses.iter().filter(|r| r.body["data"]["reportWaitingTimes"].is_array()).count();
    let mut codes: Vec<String> = responses.iter().flat_map(|r| r.error_codes()).collect();
    codes.sort();
    assert_eq!(winners, 1, "{codes:?}");
    // Refused at the check (every report's key taken) or, having passed it, at the write (a lost
    // race): CONFLICT either way, never INTERNAL.
    assert_eq!(codes, vec!["CONFLICT".to_owned(); 7]);
    assert_eq!(stored(&app).await.0, 2 + 50);
}

#[tokio::test]
async fn another_providers_report_in_a_batch_is_refused_as_forbidden() {
    let app = TestApp::spawn().await;
    let before = stored(&app).await;
    let mut input = batch(5, "2026-02");
    input[2]["providerId"] = json!(PROVIDER_B);
    let resp = app.graphql(BATCH).var("input", &input).as_caller(&provider_a()).send().await;
    let items = refused_items(&resp, "FORBIDDEN");
    assert_eq!(
        items,
        vec![json!({"index": 2, "field": "providerId", "code": "FORBIDDEN",
                    "reason": "a provider may report only its own waiting times"})]
    );
    // A region the provider has no seat at is FORBIDDEN as well; with a bad month beside it the
    // batch is BAD_USER_INPUT, each report keeping its own code.
    input[2]["providerId"] = json!(PROVIDER_A);
    input[2]["regionCode"] = json!("amsterdam");
    input[4]["month"] = json!("2026-1");
    let resp = app.graphql(BATCH).var("input", &input).as_caller(&provider_a()).send().await;
    let items = refused_items(&resp, "BAD_USER_INPUT");
    let codes: Vec<(&Value, &Value, &Value)> = items.iter().map(|i| (&i["index"], &i["field"], &i["code"])).collect();
    assert_eq!(
        codes,
        vec![
            (&json!(2), &json!("regionCode"), &json!("FORBIDDEN")),
            (&json!(4), &json!("month"), &json!("BAD_USER_INPUT"))
        ]
    );
    assert_eq!(stored(&app).await, before);
}

#[tokio::test]
async fn only_providers_report_in_bulk() {
    let app = TestApp::spawn().await;
    for caller in [insurer_x(), patient_org(), municipality(), national_table(), operator()] {
        let mut input = batch(2, "2026-02");
        for r in &mut input {
            r["providerId"] = json!(caller.org);
        }
        let resp = app.graphql(BATCH).var("input", input).as_caller(&caller).send().await;
        assert_refused(&resp, "reportWaitingTimes", "FORBIDDEN");
        assert!(resp.body["errors"][0]["extensions"]["items"].is_null(), "refused as a whole: {:#}", resp.body);
    }
}

#[tokio::test]
async fn more_than_500_reports_or_none_are_refused_naming_the_limit() {
    let app = TestApp::spawn().await;
    let before = stored(&app).await;
    // 501 distinct keys: two months of 250 keys each, and one more.
    let mut input = batch(500, "2026-02");
    input.push(report(0, "2026-03"));
    for (sent, n) in [(input, 501), (Vec::new(), 0)] {
        let resp = app.graphql(BATCH).var("input", sent).as_caller(&provider_a()).send().await;
        assert_refused(&resp, "reportWaitingTimes", "BAD_USER_INPUT");
        assert_eq!(
            resp.expect_error("BAD_USER_INPUT"),
            format!("reportWaitingTimes takes 1 to 500 reports per call, got {n}: split larger batches")
        );
    }
    assert_eq!(stored(&app).await, before);
}

/// Statements run by one successful batch of `n` reports.
async fn statements_to_store(app: &TestApp, n: usize, month: &str) -> (usize, Vec<String>) {
    let input = batch(n, month);
    let before = app.statement_count();
    let resp = app.graphql(BATCH).var("input", input).as_caller(&provider_a()).send().await;
    let after = app.statement_count();
    assert_eq!(resp.data()["reportWaitingTimes"].as_array().map(Vec::len), Some(n), "{:#}", resp.body);
    let shown = app.db.statements_since(before).into_iter().map(|s| s.chars().take(100).collect()).collect();
    (after - before, shown)
}

#[tokio::test]
async fn the_statements_per_batch_do_not_grow_with_the_batch() {
    let app = TestApp::spawn().await;
    let (five, statements) = statements_to_store(&app, 5, "2026-02").await;
    let (five_hundred, _) = statements_to_store(&app, 500, "2026-03").await;
    println!("reportWaitingTimes: {five} SQL statements for 5 reports, {five_hundred} for 500:");
    for s in &statements {
        println!("  {s}");
    }
    assert_eq!(five, five_hundred, "the statements grew with the batch ({five} → {five_hundred})");
    // The caller's organisation, regions, diagnosis groups, stored keys; reports, history, audit
    // and the change feed's rows.
    assert!(five <= 8, "expected at most 8 statements, got {five}: {statements:#?}");
    assert_eq!(rows(&app, "waiting_time_reports").await, 2 + 5 + 500);
}

/// Figures, not a test (`--run-ignored only`, on PostgreSQL with `DATABASE_URL`): 560 reports
/// (40 locations × 14 diagnosis groups, one provider's month) stored with 560 `reportWaitingTime`
/// calls, then with `reportWaitingTimes` (two calls: 500 + 60), one after the other over HTTP
/// with the same token.
#[tokio::test]
#[ignore = "a benchmark: prints figures, asserts nothing about time"]
async fn bench_560_reports_in_bulk_against_one_call_each() {
    use ggzhub_region::entity::diagnosis_group;
    use sea_orm::{ActiveModelTrait as _, ActiveValue::Set};
    let app = TestApp::spawn().await;
    let groups: Vec<String> = (0..14).map(|g| format!("GROUP_{g:02}")).collect();
    for code in &groups {
        diagnosis_group::ActiveModel { code: Set(code.clone()), name: Set(code.clone()) }
            .insert(&app.db.db)
            .await
            .expect("group inserts");
    }
    let month_of = |month: &str| -> Vec<Value> {
        (0..560)
            .map(|i| {
                json!({
                    "providerId": PROVIDER_A, "regionCode": "utrecht", "location": format!("Locatie {:02}", i / 14),
                    "diagnosisGroup": groups[i % 14], "month": month, "registrationToIntakeWeeks": 3.0,
                    "intakeToTreatmentWeeks": 6.5, "waitingCount": 12
                })
            })
            .collect()
    };
    let token = app.server.token(&provider_a());
    let post = |body: Value| {
        let request = app.server.client().post(app.server.url("/graphql")).bearer_auth(&token).json(&body).send();
        async move {
            let resp = request.await.expect("reaches the service");
            let body: Value = resp.json().await.expect("JSON");
            assert!(body.get("errors").is_none(), "{body:#}");
        }
    };

    let singles = month_of("2026-03");
    let started = Instant::now();
    for r in &singles {
        post(json!({"query": SINGLE, "variables": {"input": r}})).await;
    }
    let one_each = started.elapsed();

    let bulk = month_of("2026-04");
    let started = Instant::now();
    for chunk in bulk.chunks(500) {
        post(json!({"query": "mutation($input: [WaitingTimeInput!]!) { reportWaitingTimes(input: $input) { id } }",
                    "variables": {"input": chunk}}))
        .await;
    }
    let in_bulk = started.elapsed();
    assert_eq!(rows(&app, "waiting_time_reports").await, 2 + 560 + 560);
    let backend =
        if std::env::var("DATABASE_URL").is_ok_and(|u| u.starts_with("postgres")) { "PostgreSQL" } else { "SQLite" };
    println!(
        "560 waiting-time reports on {backend}: {:.0} ms with 560 reportWaitingTime calls ({:.2} ms each), \
         {:.0} ms with 2 reportWaitingTimes calls (500 + 60): {:.1}× faster",
        one_each.as_secs_f64() * 1e3,
        one_each.as_secs_f64() * 1e3 / 560.0,
        in_bulk.as_secs_f64() * 1e3,
        one_each.as_secs_f64() / in_bulk.as_secs_f64()
    );
}
