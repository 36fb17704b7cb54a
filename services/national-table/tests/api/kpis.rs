//! National KPIs: read by every organisation but the hub operator; created, changed and
//! measured (nationally or per region) by the national table only.

use ggzhub_national_table::entity::{kpi, measurement};
use serde_json::json;

use crate::helpers::*;

const KPI: &str = r#"query($code: String!) { nationalKpi(code: $code) { code name unit direction targets { year value } version
    measurements { year regionCode value version } } }"#;
const KPIS: &str = "query { nationalKpis { code name } }";
const CODE: &str = "REGIONS_WITH_OVERVIEW";

#[tokio::test]
async fn national_table_creates_a_kpi_with_targets_up_to_2027() {
    let app = TestApp::spawn().await;
    let k = app.create_kpi(CODE).await;
    assert_eq!(k["code"], CODE);
    assert_eq!(k["direction"], "HIGHER_IS_BETTER");
    assert_eq!(
        k["targets"],
        json!([{"year": 2025, "value": 50.0}, {"year": 2026, "value": 80.0}, {"year": 2027, "value": 100.0}])
    );
    assert_eq!(k["version"], 1);
    for (who, caller) in readers() {
        let resp = app.graphql(KPIS).as_caller(&caller).send().await;
        assert_eq!(resp.data()["nationalKpis"], json!([{"code": CODE, "name": k["name"]}]), "{who}");
        let resp = app.graphql(KPI).var("code", CODE).as_caller(&caller).send().await;
        assert_eq!(resp.data()["nationalKpi"]["targets"], k["targets"], "{who}");
    }
}

#[tokio::test]
async fn targets_are_stored_in_year_order() {
    let app = TestApp::spawn().await;
    let mut input = kpi_input(CODE);
    input["targets"] = json!([{"year": 2027, "value": 3.0}, {"year": 2025, "value": 1.0}]);
    let resp = app.graphql(CREATE_KPI).var("input", input).as_caller(&national_table()).send().await;
    assert_eq!(
        resp.data()["createNationalKpi"]["targets"],
        json!([{"year": 2025, "value": 1.0}, {"year": 2027, "value": 3.0}])
    );
}

#[tokio::test]
async fn national_table_updates_a_kpi() {
    let app = TestApp::spawn().await;
    app.create_kpi(CODE).await;
    let resp = app
        .graphql(UPDATE_KPI)
        .var("code", CODE)
        .var("v", 1)
        .var("input", json!({"name": "Regions with a published overview", "targets": [{"year": 2027, "value": 90.0}]}))
        .as_caller(&national_table())
        .send()
        .await;
    assert_eq!(
        resp.data()["updateNationalKpi"],
        json!({"code": CODE, "name": "Regions with a published overview", "targets": [{"year": 2027, "value": 90.0}], "version": 2})
    );
}

#[tokio::test]
async fn national_table_records_and_replaces_measurements() {
    let app = TestApp::spawn().await;
    app.create_kpi(CODE).await;
    let record = |year: i32, region: Option<&str>, value: f64| {
        let call = app
            .graphql(RECORD_MEASUREMENT)
            .var("code", CODE)
            .var("year", year)
            .var("region", region)
            .var("value", value)
            .as_caller(&national_table());
        async move { call.send().await.data()["recordKpiMeasurement"].clone() }
    };
    assert_eq!(record(2025, None, 42.0).await, json!({"year": 2025, "regionCode": null, "value": 42.0, "version": 1}));
    assert_eq!(
        record(2025, Some("utrecht"), 100.0).await,
        json!({"year": 2025, "regionCode": "utrecht", "value": 100.0, "version": 1})
    );
    // Recording the same year and region again replaces the value.
    assert_eq!(record(2025, None, 45.0).await, json!({"year": 2025, "regionCode": null, "value": 45.0, "version": 2}));
    record(2026, Some("amsterdam"), 60.0).await;
    assert_eq!(app.count::<measurement::Entity>().await, 3);

    let measurements = |args: &'static str| {
        let call = app
            .graphql(&format!(
                r#"query {{ nationalKpi(code: "{CODE}") {{ measurements{args} {{ year regionCode value }} }} }}"#
            ))
            .as_caller(&patient_org());
        async move { call.send().await.data()["nationalKpi"]["measurements"].clone() }
    };
    assert_eq!(measurements("").await.as_array().map(Vec::len), Some(3));
    assert_eq!(measurements("(national: true)").await, json!([{"year": 2025, "regionCode": null, "value": 45.0}]));
    assert_eq!(
        measurements(r#"(region: "utrecht")"#).await,
        json!([{"year": 2025, "regionCode": "utrecht", "value": 100.0}])
    );
    assert_eq!(measurements("(year: 2026)").await, json!([{"year": 2026, "regionCode": "amsterdam", "value": 60.0}]));
    let actions: Vec<(String, String)> = app.audit_entries().await.into_iter().map(|e| (e.entity, e.action)).collect();
    assert_eq!(actions.iter().filter(|(e, a)| e == "KpiMeasurement" && a == "record").count(), 4);
}

#[tokio::test]
async fn measurement_for_an_unknown_kpi_is_refused() {
    let app = TestApp::spawn().await;
    let resp = app
        .graphql(RECORD_MEASUREMENT)
        .var("code", "NO_SUCH_KPI")
        .var("year", 2025)
        .var("value", 1.0)
        .as_caller(&national_table())
        .send()
        .await;
    assert_refused(&resp, "recordKpiMeasurement", "BAD_USER_INPUT");
    assert_eq!(app.count::<measurement::Entity>().await, 0);
}

#[tokio::test]
async fn only_the_national_table_writes_kpis_and_measurements() {
    let app = TestApp::spawn().await;
    app.create_kpi(CODE).await;
    for (who, caller) in non_national_writers() {
        let resp = app.graphql(CREATE_KPI).var("input", kpi_input("OTHER_KPI")).as_caller(&caller).send().await;
        assert_eq!(resp.error_code_at(&["createNationalKpi"]).as_deref(), Some("FORBIDDEN"), "{who}");
        let resp = app
            .graphql(UPDATE_KPI)
            .var("code", CODE)
            .var("v", 1)
            .var("input", json!({"name": "Hijacked"}))
            .as_caller(&caller)
            .send()
            .await;
        assert_eq!(resp.error_code_at(&["updateNationalKpi"]).as_deref(), Some("FORBIDDEN"), "{who}");
        let resp = app
            .graphql(RECORD_MEASUREMENT)
            .var("code", CODE)
            .var("year", 2025)
            .var("region", "utrecht")
            .var("value", 1.0)
            .as_caller(&caller)
            .send()
            .await;
        assert_eq!(resp.error_code_at(&["recordKpiMeasurement"]).as_deref(), Some("FORBIDDEN"), "{who}");
    }
    assert_eq!(app.count::<kpi::Entity>().await, 1);
    assert_eq!(app.count::<measurement::Entity>().await, 0);
    let resp = app.graphql(KPI).var("code", CODE).as_caller(&national_table()).send().await;
    assert_eq!(resp.data()["nationalKpi"]["name"], "Regions with a complete regional overview");
    assert_eq!(resp.data()["nationalKpi"]["version"], 1);
    assert_eq!(app.audit_entries().await.len(), 1);
}

#[tokio::test]
async fn operator_is_forbidden_to_read_kpis() {
    let app = TestApp::spawn().await;
    app.create_kpi(CODE).await;
    let resp = app.graphql(KPIS).as_caller(&operator()).send().await;
    assert_refused(&resp, "nationalKpis", "FORBIDDEN");
    let resp = app.graphql(KPI).var("code", CODE).as_caller(&operator()).send().await;
    assert_refused(&resp, "nationalKpi", "FORBIDDEN");
}

#[tokio::test]
async fn unknown_kpi_reads_as_null() {
    let app = TestApp::spawn().await;
    let resp = app.graphql(KPI).var("code", "NO_SUCH_KPI").as_caller(&provider_a()).send().await;
    assert!(resp.data()["nationalKpi"].is_null());
}
