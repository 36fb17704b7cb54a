//! Contracting guidelines (spelregels): read by providers, insurers, patient organisations,
//! municipalities and the national table; written only by the national table; the hub operator
//! neither reads nor writes them. One guideline per year.

use serde_json::json;

use crate::helpers::*;

async fn publish(app: &TestApp, year: i32) -> serde_json::Value {
    let resp = app
        .graphql(CREATE_GUIDELINE)
        .var("y", year)
        .var("t", format!("Spelregels contractering {year}"))
        .var("b", "Multi-year agreements for crucial care; evaluate twice a year.")
        .as_caller(&national_table())
        .send()
        .await;
    resp.data()["createContractingGuideline"].clone()
}

#[tokio::test]
async fn every_organisation_but_the_operator_reads_guidelines() {
    let app = TestApp::spawn().await;
    let g = publish(&app, 2027).await;
    assert_eq!((g["year"].as_i64(), g["version"].as_i64()), (Some(2027), Some(1)));
    for (who, caller) in [
        ("provider", p1()),
        ("insurer", i1()),
        ("insurer elsewhere", i5()),
        ("patient organisation", patient_org()),
        ("municipality", municipality()),
        ("national table", national_table()),
    ] {
        let resp = app.graphql(GUIDELINES).as_caller(&caller).send().await;
        assert_eq!(resp.data()["contractingGuidelines"], json!([g]), "{who}");
    }
    let resp = app.graphql(GUIDELINES).as_caller(&operator()).send().await;
    assert_refused(&resp, "contractingGuidelines", "FORBIDDEN");
    let resp = app.graphql(GUIDELINES).as_caller(&i1().with_scopes(&["contracts:read"])).send().await;
    assert_refused(&resp, "contractingGuidelines", "FORBIDDEN");
}

#[tokio::test]
async fn filters_guidelines_by_year() {
    let app = TestApp::spawn().await;
    publish(&app, 2026).await;
    publish(&app, 2027).await;
    let resp = app.graphql("query { contractingGuidelines(year: 2027) { year } }").as_caller(&p1()).send().await;
    assert_eq!(resp.data()["contractingGuidelines"], json!([{"year": 2027}]));
    let resp = app.graphql("query { contractingGuidelines { year } }").as_caller(&p1()).send().await;
    assert_eq!(resp.data()["contractingGuidelines"], json!([{"year": 2026}, {"year": 2027}]));
}

#[tokio::test]
async fn only_the_national_table_writes_guidelines() {
    let app = TestApp::spawn().await;
    let g = publish(&app, 2027).await;
    for (who, caller) in [
        ("provider", p1()),
        ("insurer", i1()),
        ("patient organisation", patient_org()),
        ("municipality", municipality()),
        ("hub operator", operator()),
        ("insurer with national:write", i1().with_scopes(&["picture:read", "national:write"])),
        ("national table without national:write", national_table().with_scopes(&["picture:read"])),
    ] {
        let resp =
            app.graphql(CREATE_GUIDELINE).var("y", 2028).var("t", "t").var("b", "b").as_caller(&caller).send().await;
        assert_refused(&resp, "createContractingGuideline", "FORBIDDEN");
        let resp = app
            .graphql(UPDATE_GUIDELINE)
            .var("id", &g["id"])
            .var("v", 1)
            .var("t", "Overwritten")
            .var("b", "b")
            .as_caller(&caller)
            .send()
            .await;
        assert_refused(&resp, "updateContractingGuideline", "FORBIDDEN");
        assert_eq!(resp.error_codes(), ["FORBIDDEN"], "{who}");
    }
    let resp = app.graphql(GUIDELINES).as_caller(&p1()).send().await;
    assert_eq!(resp.data()["contractingGuidelines"], json!([g]));
    assert_eq!(app.audit_entries().await.len(), 1);
}

#[tokio::test]
async fn national_table_updates_a_guideline_naming_its_version() {
    let app = TestApp::spawn().await;
    let g = publish(&app, 2027).await;
    let update = |v: i64, title: &'static str| {
        app.graphql(UPDATE_GUIDELINE)
            .var("id", &g["id"])
            .var("v", v)
            .var("t", title)
            .var("b", "Revised rules.")
            .as_caller(&national_table())
            .send()
    };
    let resp = update(1, "Spelregels 2027 (herzien)").await;
    let u = &resp.data()["updateContractingGuideline"];
    assert_eq!((u["version"].as_i64(), u["title"].as_str()), (Some(2), Some("Spelregels 2027 (herzien)")));
    for stale in [1, 3] {
        let resp = update(stale, "Lost update").await;
        assert_refused(&resp, "updateContractingGuideline", "CONFLICT");
    }
    let resp = app.graphql(GUIDELINES).as_caller(&national_table()).send().await;
    assert_eq!(resp.data()["contractingGuidelines"][0]["title"], "Spelregels 2027 (herzien)");
    let resp = app
        .graphql(UPDATE_GUIDELINE)
        .var("id", uuid::Uuid::now_v7().to_string())
        .var("v", 1)
        .var("t", "t")
        .var("b", "b")
        .as_caller(&national_table())
        .send()
        .await;
    assert_refused(&resp, "updateContractingGuideline", "NOT_FOUND");
    let actions: Vec<String> = app.audit_entries().await.into_iter().map(|e| e.action).collect();
    assert_eq!(actions, ["create", "update"]);
}

#[tokio::test]
async fn refuses_bad_guideline_input() {
    let app = TestApp::spawn().await;
    publish(&app, 2027).await;
    let long = "x".repeat(8001);
    for (year, title, body, code) in [
        (2019, "t", "b", "BAD_USER_INPUT"),
        (2101, "t", "b", "BAD_USER_INPUT"),
        (2028, "  ", "b", "BAD_USER_INPUT"),
        (2028, "t", "", "BAD_USER_INPUT"),
        (2028, "t", long.as_str(), "BAD_USER_INPUT"),
        (2027, "Second guideline of 2027", "b", "CONFLICT"),
    ] {
        let resp = app
            .graphql(CREATE_GUIDELINE)
            .var("y", year)
            .var("t", title)
            .var("b", body)
            .as_caller(&national_table())
            .send()
            .await;
        assert_refused(&resp, "createContractingGuideline", code);
    }
    let resp = app.graphql(GUIDELINES).as_caller(&national_table()).send().await;
    assert_eq!(resp.data()["contractingGuidelines"].as_array().map(Vec::len), Some(1));
    assert_eq!(app.audit_entries().await.len(), 1);
}
