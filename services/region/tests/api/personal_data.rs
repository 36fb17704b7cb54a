//! The personal-data guard on every free-text input: text holding a BSN, a date of birth, an
//! e-mail address or a phone number is refused with `BAD_USER_INPUT` naming the field and the
//! kind, never repeating the value, and nothing is stored. Bad values are repeated only as a
//! short prefix.

use ggzhub_kit::testing::TestCaller;
use serde_json::{Value, json};

use crate::helpers::*;

/// Personal data as the hostile probe wrote it, with the kind the message must name.
const SAMPLES: [(&str, &str); 4] = [
    ("Mw. A. de Vries, BSN 123.456.782, wacht op opname", "citizen service number (BSN)"),
    ("Cliënt geboren 12-03-1985 wacht sinds maart", "date of birth"),
    ("Contact via a.devries@gmail.com voor overleg", "e-mail address"),
    ("Bereikbaar op 06-12345678, Dorpsstraat 1", "phone number"),
];

/// One free-text input: who sends which mutation, with `{}` where the text goes.
struct Site {
    caller: TestCaller,
    field: &'static str,
    root: &'static str,
    query: String,
}

fn site(caller: TestCaller, field: &'static str, root: &'static str, query: String) -> Site {
    Site { caller, field, root, query }
}

fn sites() -> Vec<Site> {
    let offer = OFFER_A_CRISIS;
    let signal = SIGNAL_UTRECHT_OPEN;
    let draft = OVERVIEW_DRAFT;
    let input = INPUT_PATIENT_ORG;
    vec![
        site(provider_a(), "description", "raiseContinuitySignal", format!(
            r#"mutation($t: String!) {{ raiseContinuitySignal(input: {{offerId: "{offer}", kind: STAFFING, severity: HIGH, description: $t}}) {{ id }} }}"#)),
        site(provider_a(), "description", "updateContinuitySignal", format!(
            r#"mutation($t: String) {{ updateContinuitySignal(id: "{signal}", expectedVersion: 1, input: {{description: $t}}) {{ id }} }}"#)),
        site(insurer_x(), "response", "acknowledgeContinuitySignal", format!(
            r#"mutation($t: String) {{ acknowledgeContinuitySignal(id: "{signal}", expectedVersion: 1, response: $t) {{ id }} }}"#)),
        site(patient_org(), "text", "submitPatientInput",
            r#"mutation($t: String!) { submitPatientInput(regionCode: "utrecht", year: 2025, text: $t) { id } }"#.to_owned()),
        site(patient_org(), "text", "updatePatientInput", format!(
            r#"mutation($t: String!) {{ updatePatientInput(id: "{input}", expectedVersion: 1, text: $t) {{ id }} }}"#)),
        site(provider_a(), "publicSummary", "updateRegionalOverview", format!(
            r#"mutation($t: String) {{ updateRegionalOverview(id: "{draft}", expectedVersion: 1, input: {{publicSummary: $t}}) {{ id }} }}"#)),
        site(provider_a(), "confidentialNotes", "updateRegionalOverview", format!(
            r#"mutation($t: String) {{ updateRegionalOverview(id: "{draft}", expectedVersion: 1, input: {{confidentialNotes: $t}}) {{ id }} }}"#)),
        site(provider_a(), "problems", "updateRegionalOverview", format!(
            r#"mutation($t: String!) {{ updateRegionalOverview(id: "{draft}", expectedVersion: 1, input: {{assessments: [{{category: ACUTE, whatWeHave: "", problems: $t, missing: "", supraRegionalRole: ""}}]}}) {{ id }} }}"#)),
        site(provider_a(), "whatWeHave", "updateRegionalOverview", format!(
            r#"mutation($t: String!) {{ updateRegionalOverview(id: "{draft}", expectedVersion: 1, input: {{assessments: [{{category: ACUTE, whatWeHave: $t, problems: "", missing: "", supraRegionalRole: ""}}]}}) {{ id }} }}"#)),
        site(provider_a(), "missing", "updateRegionalOverview", format!(
            r#"mutation($t: String!) {{ updateRegionalOverview(id: "{draft}", expectedVersion: 1, input: {{assessments: [{{category: ACUTE, whatWeHave: "", problems: "", missing: $t, supraRegionalRole: ""}}]}}) {{ id }} }}"#)),
        site(provider_a(), "supraRegionalRole", "updateRegionalOverview", format!(
            r#"mutation($t: String!) {{ updateRegionalOverview(id: "{draft}", expectedVersion: 1, input: {{assessments: [{{category: ACUTE, whatWeHave: "", problems: "", missing: "", supraRegionalRole: $t}}]}}) {{ id }} }}"#)),
        site(provider_a(), "inclusionCriteria", "createCareOffer",
            r#"mutation($t: String) { createCareOffer(input: {regionCode: "utrecht", category: ACUTE, careForm: "HIC", unitName: "HIC", location: "Utrecht", availability: TWENTY_FOUR_SEVEN, inclusionCriteria: $t}) { id } }"#.to_owned()),
        site(provider_a(), "unitName", "createCareOffer",
            r#"mutation($t: String!) { createCareOffer(input: {regionCode: "utrecht", category: ACUTE, careForm: "HIC", unitName: $t, location: "Utrecht", availability: TWENTY_FOUR_SEVEN}) { id } }"#.to_owned()),
        site(provider_a(), "inclusionCriteria", "updateCareOffer", format!(
            r#"mutation($t: String) {{ updateCareOffer(id: "{offer}", expectedVersion: 1, input: {{inclusionCriteria: $t}}) {{ id }} }}"#)),
        site(provider_a(), "location", "updateCareOffer", format!(
            r#"mutation($t: String) {{ updateCareOffer(id: "{offer}", expectedVersion: 1, input: {{location: $t}}) {{ id }} }}"#)),
        site(provider_a(), "reason", "setIntakePause", format!(
            r#"mutation($t: String!) {{ setIntakePause(offerId: "{offer}", expectedVersion: 1, pause: {{from: "2026-03-01", reason: $t}}) {{ id }} }}"#)),
        site(provider_a(), "location", "reportWaitingTime", format!(
            r#"mutation($t: String!) {{ reportWaitingTime(input: {{providerId: "{PROVIDER_A}", regionCode: "utrecht", location: $t, diagnosisGroup: "DEPRESSION", month: "2026-02", registrationToIntakeWeeks: 1, intakeToTreatmentWeeks: 1, waitingCount: 12}}) {{ id }} }}"#)),
        site(operator(), "name", "createOrganisation",
            r#"mutation($t: String!) { createOrganisation(input: {name: $t, kind: PROVIDER, regions: ["utrecht"]}) { id } }"#.to_owned()),
        site(operator(), "name", "updateRegion",
            r#"mutation($t: String) { updateRegion(code: "utrecht", expectedVersion: 1, input: {name: $t}) { code } }"#.to_owned()),
    ]
}

/// Everything a caller could read back of the stored picture, to show nothing changed.
async fn snapshot(app: &TestApp) -> Value {
    let q = r#"query { careOffers(first: 100) { nodes { id version unitName location inclusionCriteria intakePause { reason } } }
        waitingTimes(region: "utrecht") { nodes { id location } }
        regionalOverview(region: "utrecht", year: 2026) { version publicSummary confidentialNotes assessments { problems } }
        organisations(first: 100) { nodes { id name } } region(code: "utrecht") { name version } }"#;
    let offers = app.graphql(q).as_caller(&national_table()).send().await.body;
    let signal = app.signal_as(&provider_a(), SIGNAL_UTRECHT_OPEN).await;
    json!({"picture": offers, "signal": signal, "audit": app.audit_count().await})
}

#[tokio::test]
async fn every_free_text_input_refuses_personal_data_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let before = snapshot(&app).await;
    for site in sites() {
        for (sample, kind) in SAMPLES {
            let resp = app.graphql(&site.query).var("t", sample).as_caller(&site.caller).send().await;
            resp.expect_personal_data_refused(site.root, site.field, sample, kind);
        }
    }
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn organisational_text_with_numbers_and_dates_is_accepted() {
    let app = TestApp::spawn().await;
    let text = "Per 1 april 2027 sluit de HIC (12 bedden, 3,5 fte vacant); KvK 30124359, AGB 12345678, \
                wachttijd 9 weken, open 08.00-17.00 uur, 24/7 crisisdienst, postcode 3511 AB.";
    let q = format!(
        r#"mutation($t: String!) {{ raiseContinuitySignal(input: {{offerId: "{OFFER_A_CRISIS}", kind: STAFFING, severity: HIGH, description: $t}}) {{ description }} }}"#
    );
    let resp = app.graphql(&q).var("t", text).as_caller(&provider_a()).send().await;
    assert_eq!(resp.data()["raiseContinuitySignal"]["description"], text);
}

#[tokio::test]
async fn a_megabyte_bad_value_gives_a_short_message() {
    let app = TestApp::spawn().await;
    let huge = "x".repeat(1_000_000);
    let prefix = format!("{:?}…", "x".repeat(40));
    let cases = [
        ("query($v: String!) { region(code: $v) { code } }", "region", provider_a()),
        ("query($v: String!) { waitingTimes(region: $v) { nodes { id } } }", "waitingTimes", provider_a()),
        (
            r#"query($v: String) { waitingTimes(region: "utrecht", month: $v) { nodes { id } } }"#,
            "waitingTimes",
            provider_a(),
        ),
        ("mutation($v: ID!) { closeCareOffer(id: $v, expectedVersion: 1) { id } }", "closeCareOffer", provider_a()),
        (
            r#"mutation($v: String!) { createCareOffer(input: {regionCode: "utrecht", category: ACUTE, careForm: $v, unitName: "HIC", location: "Utrecht", availability: TWENTY_FOUR_SEVEN}) { id } }"#,
            "createCareOffer",
            provider_a(),
        ),
        (
            r#"mutation($v: String!) { reportWaitingTime(input: {providerId: "00000000-0000-0000-0000-0000000000a1", regionCode: "utrecht", location: "Utrecht", diagnosisGroup: $v, month: "2026-02", registrationToIntakeWeeks: 1, intakeToTreatmentWeeks: 1, waitingCount: 12}) { id } }"#,
            "reportWaitingTime",
            provider_a(),
        ),
        (
            r#"mutation($v: String) { createOrganisation(input: {name: "X", kind: PROVIDER, kvk: $v, regions: []}) { id } }"#,
            "createOrganisation",
            operator(),
        ),
    ];
    for (query, root, caller) in cases {
        let resp = app.graphql(query).var("v", &huge).as_caller(&caller).send().await;
        assert_refused(&resp, root, "BAD_USER_INPUT");
        let msg = resp.expect_error("BAD_USER_INPUT");
        assert!(msg.chars().count() < 140, "{root}: {} characters", msg.chars().count());
        assert!(msg.ends_with(&prefix), "{root}: {msg}");
    }
    // Through `_entities`, a megabyte key comes back cut as well.
    let resp = app
        .graphql(r#"query($r: [_Any!]!) { _entities(representations: $r) { ... on CareOffer { id } } }"#)
        .var("r", json!([{"__typename": "CareOffer", "id": huge}]))
        .as_caller(&provider_a())
        .send()
        .await;
    let msg = resp.body["errors"][0]["message"].as_str().unwrap_or_default().to_owned();
    assert!(msg.chars().count() < 140 && msg.ends_with(&prefix), "{msg:.200}");
    // A bad enum value repeated by the GraphQL library itself is cut too.
    let resp = app
        .graphql("query($k: RegionKind) { regions(kind: $k) { nodes { code } } }")
        .var("k", &huge)
        .as_caller(&provider_a())
        .send()
        .await;
    let msg = resp.body["errors"][0]["message"].as_str().unwrap_or_default().to_owned();
    assert!(!msg.is_empty() && msg.chars().count() <= ggzhub_kit::graphql::MAX_MESSAGE_CHARS + 1, "{msg:.400}");
}
