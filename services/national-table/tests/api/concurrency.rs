//! Optimistic concurrency and the audit log: a change names the version it expects; a stale one
//! gets `CONFLICT` and changes nothing, a current one bumps the version by exactly one; of
//! concurrent writers exactly one wins; every successful change, and only those, is audited in
//! the same transaction (read from the `audit_log` table: this subgraph has no audit query).

use ggzhub_kit::testing::GraphqlResponse;
use ggzhub_national_table::entity::{kpi, listing, measurement, transition};
use serde_json::{Value, json};

use crate::helpers::*;

/// Everything the national table can read, to compare before and after.
const EVERYTHING: &str = r#"query { escalations(first: 100) { nodes { id status version publicSummary
        transitions { from to } measures { id title status version } } }
    supraRegionalListings(first: 100) { nodes { id hs8 targetGroup regionsServed version } }
    expertiseNetworks { id name members { id } version }
    nationalKpis { code name targets { year value } version measurements { year regionCode value version } } }"#;

async fn everything(app: &TestApp) -> Value {
    app.graphql(EVERYTHING).as_caller(&national_table()).send().await.data().clone()
}

/// Codes of the responses, `OK` for a success.
fn outcomes(responses: &[GraphqlResponse]) -> Vec<String> {
    let mut codes: Vec<String> =
        responses.iter().map(|r| r.error_codes().first().cloned().unwrap_or_else(|| "OK".to_owned())).collect();
    codes.sort();
    codes
}

#[tokio::test]
async fn stale_expected_version_gets_conflict_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (id, v) = app.escalation_in_discussion().await;
    assert_eq!(v, 2);
    let m = app.add_measure(&id, "2027-06-30").await;
    let network = app.create_network("Netwerk Eetstoornissen").await;
    let l = app.create_listing(OFFER_A_HS8, &["utrecht"], None).await;
    app.create_kpi("REGIONS_WITH_OVERVIEW").await;
    let before = everything(&app).await;
    let audit_before = app.audit_entries().await.len();

    let cases: Vec<(&str, &str, Value, &[i64])> = vec![
        (
            TRANSITION,
            "transitionEscalation",
            json!({"id": id, "input": {"to": "DECLINED", "publicSummary": "s", "declineReason": "r"}}),
            &[0, 1, 3, 99],
        ),
        (UPDATE_MEASURE, "updateMeasure", json!({"id": m["id"], "input": {"status": "DONE"}}), &[0, 2, 99]),
        (UPDATE_LISTING, "updateSupraRegionalListing", json!({"id": l["id"], "input": {"hs8": false}}), &[0, 2, 99]),
        (REMOVE_LISTING, "removeSupraRegionalListing", json!({"id": l["id"]}), &[0, 2, 99]),
        (
            UPDATE_NETWORK,
            "updateExpertiseNetwork",
            json!({"id": network["id"], "input": network_input("Lost update", &[PROVIDER_A])}),
            &[0, 2, 99],
        ),
        (
            UPDATE_KPI,
            "updateNationalKpi",
            json!({"code": "REGIONS_WITH_OVERVIEW", "input": {"name": "Lost update"}}),
            &[0, 2, 99],
        ),
    ];
    for (query, field, vars, stale_versions) in cases {
        for stale in stale_versions {
            let mut call = app.graphql(query).var("v", stale).as_caller(&national_table());
            for (name, value) in vars.as_object().expect("object") {
                call = call.var(name, value);
            }
            let resp = call.send().await;
            assert_refused(&resp, field, "CONFLICT");
            assert!(resp.expect_error("CONFLICT").contains("reload"), "{field}: {:#}", resp.body);
        }
    }
    assert_eq!(everything(&app).await, before);
    assert_eq!(app.audit_entries().await.len(), audit_before);
}

#[tokio::test]
async fn current_version_increments_the_version_by_one() {
    let app = TestApp::spawn().await;
    app.create_kpi("REGIONS_WITH_OVERVIEW").await;
    for (expected, name) in [(1, "First"), (2, "Second"), (3, "Third")] {
        let resp = app
            .graphql(UPDATE_KPI)
            .var("code", "REGIONS_WITH_OVERVIEW")
            .var("v", expected)
            .var("input", json!({"name": name}))
            .as_caller(&national_table())
            .send()
            .await;
        assert_eq!(resp.data()["updateNationalKpi"]["version"], expected + 1);
        assert_eq!(resp.data()["updateNationalKpi"]["name"], name);
    }
    // The first writer's version is now stale.
    let resp = app
        .graphql(UPDATE_KPI)
        .var("code", "REGIONS_WITH_OVERVIEW")
        .var("v", 1)
        .var("input", json!({"name": "Late"}))
        .as_caller(&national_table())
        .send()
        .await;
    assert_refused(&resp, "updateNationalKpi", "CONFLICT");
    let resp = app
        .graphql(r#"query { nationalKpi(code: "REGIONS_WITH_OVERVIEW") { name version } }"#)
        .as_caller(&national_table())
        .send()
        .await;
    assert_eq!(resp.data()["nationalKpi"], json!({"name": "Third", "version": 4}));
}

#[tokio::test]
async fn updated_by_and_version_follow_a_transition() {
    let app = TestApp::spawn().await;
    let id = app.raise().await;
    app.transition_ok(&id, 1, json!({"to": "IN_DISCUSSION"})).await;
    let resp = app
        .graphql(
            r#"query($id: ID!) { escalation(id: $id) { version meta { createdBy updatedBy createdAt updatedAt } } }"#,
        )
        .var("id", &id)
        .as_caller(&national_table())
        .send()
        .await;
    let e = &resp.data()["escalation"];
    assert_eq!(e["version"], 2);
    assert_eq!(e["meta"]["createdBy"], PROVIDER_A.to_string());
    assert_eq!(e["meta"]["updatedBy"], NATIONAL_TABLE.to_string());
    let created: chrono::DateTime<chrono::Utc> =
        e["meta"]["createdAt"].as_str().expect("createdAt").parse().expect("time");
    let updated: chrono::DateTime<chrono::Utc> =
        e["meta"]["updatedAt"].as_str().expect("updatedAt").parse().expect("time");
    assert!(updated >= created);
}

#[tokio::test]
async fn of_concurrent_transitions_with_the_same_version_exactly_one_wins() {
    let app = TestApp::spawn().await;
    let id = app.raise().await;
    let responses = app
        .send_concurrently(
            &national_table(),
            TRANSITION,
            json!({"id": id, "v": 1, "input": {"to": "IN_DISCUSSION"}}),
            8,
        )
        .await;
    let mut expected = vec!["CONFLICT".to_owned(); 7];
    expected.push("OK".to_owned());
    assert_eq!(outcomes(&responses), expected, "{responses:#?}");
    let e = app.escalation(&id).await;
    assert_eq!(e["version"], 2);
    assert_eq!(e["transitions"].as_array().map(Vec::len), Some(1));
    assert_eq!(app.count::<transition::Entity>().await, 1);
    assert_eq!(app.audit_entries().await.iter().filter(|a| a.action == "transition").count(), 1);
}

#[tokio::test]
async fn concurrent_listings_of_the_same_offer_list_it_once() {
    let app = TestApp::spawn().await;
    let responses = app
        .send_concurrently(
            &national_table(),
            CREATE_LISTING,
            json!({"input": listing_input(OFFER_A_HS8, &["utrecht"], None)}),
            6,
        )
        .await;
    let mut expected = vec!["CONFLICT".to_owned(); 5];
    expected.push("OK".to_owned());
    assert_eq!(outcomes(&responses), expected, "{responses:#?}");
    assert_eq!(app.count::<listing::Entity>().await, 1);
    assert_eq!(app.audit_entries().await.len(), 1);
}

#[tokio::test]
async fn concurrent_creation_of_the_same_kpi_creates_it_once() {
    let app = TestApp::spawn().await;
    let responses = app
        .send_concurrently(&national_table(), CREATE_KPI, json!({"input": kpi_input("REGIONS_WITH_OVERVIEW")}), 6)
        .await;
    let mut expected = vec!["CONFLICT".to_owned(); 5];
    expected.push("OK".to_owned());
    assert_eq!(outcomes(&responses), expected, "{responses:#?}");
    assert_eq!(app.count::<kpi::Entity>().await, 1);
    assert_eq!(app.audit_entries().await.len(), 1);
}

#[tokio::test]
async fn concurrent_recordings_of_the_national_figure_keep_one_measurement() {
    let app = TestApp::spawn().await;
    app.create_kpi("REGIONS_WITH_OVERVIEW").await;
    let responses = app
        .send_concurrently(
            &national_table(),
            RECORD_MEASUREMENT,
            json!({"code": "REGIONS_WITH_OVERVIEW", "year": 2025, "region": null, "value": 42.0}),
            6,
        )
        .await;
    // Each recording either replaces the value or is told to try again; never a second figure.
    for r in &responses {
        assert!(r.error_codes().iter().all(|c| c == "CONFLICT"), "{:#}", r.body);
    }
    assert!(responses.iter().any(|r| r.error_codes().is_empty()), "{responses:#?}");
    assert_eq!(app.count::<measurement::Entity>().await, 1, "one national figure per KPI and year");
    let resp = app
        .graphql(
            r#"query { nationalKpi(code: "REGIONS_WITH_OVERVIEW") { measurements(national: true) { year value } } }"#,
        )
        .as_caller(&provider_a())
        .send()
        .await;
    assert_eq!(resp.data()["nationalKpi"]["measurements"], json!([{"year": 2025, "value": 42.0}]));
}

#[tokio::test]
async fn audit_entries_are_written_for_successful_changes_only() {
    let app = TestApp::spawn().await;
    // Successful changes.
    let (id, v) = app.escalation_in_discussion().await;
    let m = app.add_measure(&id, "2027-06-30").await;
    app.transition_ok(&id, v, json!({"to": "MEASURE_AGREED", "publicSummary": PUBLIC_SUMMARY})).await;
    let n = app.create_network("Netwerk Eetstoornissen").await;
    let l = app.create_listing(OFFER_A_HS8, &["utrecht"], Some(n["id"].as_str().expect("id"))).await;
    app.create_kpi("REGIONS_WITH_OVERVIEW").await;
    // Refused changes: forbidden, bad input, unknown reference, stale version, illegal move.
    app.graphql(RAISE)
        .var("input", raise_input("utrecht", &[]))
        .as_caller(&provider_a())
        .send()
        .await
        .expect_error("FORBIDDEN");
    app.graphql(RAISE)
        .var("input", raise_input("utrecht", &[UNKNOWN_OFFER]))
        .as_caller(&chair())
        .send()
        .await
        .expect_error("BAD_USER_INPUT");
    app.transition(&id, 1, json!({"to": "RESOLVED"})).await.expect_error("CONFLICT");
    app.transition(&id, 3, json!({"to": "IN_DISCUSSION"})).await.expect_error("BAD_USER_INPUT");
    app.graphql(UPDATE_LISTING)
        .var("id", &l["id"])
        .var("v", 5)
        .var("input", json!({"hs8": false}))
        .as_caller(&national_table())
        .send()
        .await
        .expect_error("CONFLICT");
    app.graphql(CREATE_KPI)
        .var("input", kpi_input("REGIONS_WITH_OVERVIEW"))
        .as_caller(&national_table())
        .send()
        .await
        .expect_error("CONFLICT");
    app.graphql(CREATE_KPI)
        .var("input", kpi_input("OTHER"))
        .as_caller(&patient_org())
        .send()
        .await
        .expect_error("FORBIDDEN");

    let entries = app.audit_entries().await;
    let seen: Vec<(&str, &str, &str)> =
        entries.iter().map(|e| (e.entity.as_str(), e.entity_id.as_str(), e.action.as_str())).collect();
    assert_eq!(
        seen,
        [
            ("Escalation", id.as_str(), "raise"),
            ("Escalation", id.as_str(), "transition"),
            ("Measure", m["id"].as_str().expect("id"), "create"),
            ("Escalation", id.as_str(), "transition"),
            ("ExpertiseNetwork", n["id"].as_str().expect("id"), "create"),
            ("SupraRegionalListing", l["id"].as_str().expect("id"), "create"),
            ("NationalKpi", "REGIONS_WITH_OVERVIEW", "create"),
        ]
    );
    assert_eq!(entries[0].org, PROVIDER_A.to_string());
    assert_eq!(entries[0].subject, "test-provider");
    assert!(entries[1..].iter().all(|e| e.org == NATIONAL_TABLE.to_string() && e.subject == "test-national_table"));
    assert!(entries.windows(2).all(|w| w[0].at <= w[1].at), "entries in time order");
    // The audit log records what changed, never the free text of an escalation.
    assert_eq!(entries[0].change, json!({"regionCode": "utrecht", "category": "ACUTE", "urgency": "HIGH"}));
    assert!(!entries.iter().any(|e| e.change.to_string().contains("crisis beds")));
}
