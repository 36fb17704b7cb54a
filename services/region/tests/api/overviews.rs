//! Regional overviews (regiobeeld) and patient input: the published public part is for
//! everyone, drafts and confidential notes for the region's participants and the national
//! table, municipalities at the table read drafts but not notes, only the chair publishes.

use ggzhub_kit::testing::TestCaller;
use serde_json::json;

use crate::helpers::*;

const PUBLIC_PART: &str = r#"query($year: Int!) { regionalOverview(region: "utrecht", year: $year) {
    id regionCode year status publicSummary assessments { category whatWeHave coveredByNeighbour } } }"#;
const WITH_NOTES: &str = r#"query($year: Int!) { regionalOverview(region: "utrecht", year: $year) { id status publicSummary confidentialNotes } }"#;
const UPDATE: &str = r#"mutation($id: ID!, $v: Int!, $input: UpdateOverviewInput!) {
    updateRegionalOverview(id: $id, expectedVersion: $v, input: $input) { id status version publicSummary confidentialNotes } }"#;
const PUBLISH: &str = r#"mutation($id: ID!, $v: Int!) { publishRegionalOverview(id: $id, expectedVersion: $v) {
    id status version publishedAt } }"#;
const SUBMIT_INPUT: &str = r#"mutation($region: String!, $year: Int!, $text: String!) {
    submitPatientInput(regionCode: $region, year: $year, text: $text) { id overviewId text version organisation { id } } }"#;
const INPUTS: &str = r#"query($year: Int!) { regionalOverview(region: "utrecht", year: $year) { patientInputs { id organisation { id } } } }"#;

async fn assert_reads_draft(app: &TestApp, caller: &TestCaller) {
    let resp = app.graphql(PUBLIC_PART).var("year", DRAFT_YEAR).as_caller(caller).send().await;
    let o = &resp.data()["regionalOverview"];
    assert_eq!(o["status"], "DRAFT");
    assert_eq!(o["publicSummary"], DRAFT_SUMMARY);
}

/// A draft the caller may not read answers exactly like a year without an overview: `null`,
/// no error, on both paths.
async fn assert_draft_hidden(app: &TestApp, caller: &TestCaller) {
    let via_region = |year: i32| {
        format!(r#"query {{ region(code: "utrecht") {{ name overview(year: {year}) {{ publicSummary }} }} }}"#)
    };
    for year in [DRAFT_YEAR, 2030] {
        let resp = app.graphql(PUBLIC_PART).var("year", year).as_caller(caller).send().await;
        assert_eq!(resp.body, json!({"data": {"regionalOverview": null}}), "{year}");
        let resp = app.graphql(&via_region(year)).as_caller(caller).send().await;
        assert_eq!(resp.body, json!({"data": {"region": {"name": "Utrecht", "overview": null}}}), "{year}");
    }
}

async fn overview_state(app: &TestApp, id: uuid::Uuid) -> serde_json::Value {
    app.overview(id).await
}

// ---- reading -------------------------------------------------------------------------------

#[tokio::test]
async fn published_public_part_is_readable_by_all_but_the_operator() {
    let app = TestApp::spawn().await;
    for (who, caller) in all_personas().into_iter().filter(|(w, _)| *w != "hub operator") {
        let resp = app.graphql(PUBLIC_PART).var("year", PUBLISHED_YEAR).as_caller(&caller).send().await;
        assert_eq!(
            resp.data()["regionalOverview"],
            json!({"id": OVERVIEW_PUBLISHED.to_string(), "regionCode": "utrecht", "year": PUBLISHED_YEAR,
                   "status": "PUBLISHED", "publicSummary": PUBLISHED_SUMMARY,
                   "assessments": [{"category": "ACUTE", "whatWeHave": "A crisis service around the clock.",
                                    "coveredByNeighbour": "amsterdam"}]}),
            "{who}"
        );
    }
    // The operator reads no overviews, whether one exists or not.
    for year in [PUBLISHED_YEAR, DRAFT_YEAR, 2030] {
        let resp = app.graphql(PUBLIC_PART).var("year", year).as_caller(&operator()).send().await;
        assert_refused(&resp, "regionalOverview", "FORBIDDEN");
    }
}

#[tokio::test]
async fn missing_overview_is_null() {
    let app = TestApp::spawn().await;
    let resp = app.graphql(PUBLIC_PART).var("year", 2030).as_caller(&provider_a()).send().await;
    assert!(resp.data()["regionalOverview"].is_null());
}

#[tokio::test]
async fn patient_org_at_the_table_reads_draft_but_not_confidential_notes() {
    // Issue 21: patient organisations read the drafts of the regions they take part in.
    let app = TestApp::spawn().await;
    assert_reads_draft(&app, &patient_org()).await;
    let resp = app.graphql(WITH_NOTES).var("year", DRAFT_YEAR).as_caller(&patient_org()).send().await;
    assert!(resp.body["data"]["regionalOverview"]["confidentialNotes"].is_null());
    assert_eq!(resp.error_code_at(&["regionalOverview", "confidentialNotes"]).as_deref(), Some("FORBIDDEN"));
}

#[tokio::test]
async fn draft_is_hidden_from_patient_org_elsewhere() {
    let app = TestApp::spawn().await;
    let elsewhere = TestCaller::new(ggzhub_kit::OrgKind::PatientOrganisation, PATIENT_ORG, &["amsterdam"]);
    assert_draft_hidden(&app, &elsewhere).await;
}

#[tokio::test]
async fn draft_is_hidden_from_non_participants() {
    let app = TestApp::spawn().await;
    assert_draft_hidden(&app, &insurer_y()).await;
    assert_draft_hidden(&app, &provider_b()).await;
}

#[tokio::test]
async fn participants_and_national_table_read_draft_with_confidential_notes() {
    let app = TestApp::spawn().await;
    for caller in [provider_a(), provider_c(), insurer_x(), national_table()] {
        assert_reads_draft(&app, &caller).await;
        let resp = app.graphql(WITH_NOTES).var("year", DRAFT_YEAR).as_caller(&caller).send().await;
        assert_eq!(resp.data()["regionalOverview"]["confidentialNotes"], DRAFT_NOTES);
    }
}

#[tokio::test]
async fn municipality_at_the_table_reads_draft_but_not_confidential_notes() {
    let app = TestApp::spawn().await;
    assert_reads_draft(&app, &municipality()).await;
    let resp = app.graphql(WITH_NOTES).var("year", DRAFT_YEAR).as_caller(&municipality()).send().await;
    assert_eq!(resp.body["data"]["regionalOverview"]["publicSummary"], DRAFT_SUMMARY);
    assert!(resp.body["data"]["regionalOverview"]["confidentialNotes"].is_null());
    assert_eq!(resp.error_code_at(&["regionalOverview", "confidentialNotes"]).as_deref(), Some("FORBIDDEN"));
}

#[tokio::test]
async fn municipality_elsewhere_cannot_read_draft() {
    let app = TestApp::spawn().await;
    let elsewhere = TestCaller::new(ggzhub_kit::OrgKind::Municipality, MUNICIPALITY, &["amsterdam"]);
    assert_draft_hidden(&app, &elsewhere).await;
}

#[tokio::test]
async fn patient_org_gets_forbidden_on_confidential_notes_of_published_overview() {
    let app = TestApp::spawn().await;
    for caller in [patient_org(), municipality(), insurer_y()] {
        let resp = app.graphql(WITH_NOTES).var("year", PUBLISHED_YEAR).as_caller(&caller).send().await;
        let o = &resp.body["data"]["regionalOverview"];
        assert_eq!(o["publicSummary"], PUBLISHED_SUMMARY);
        assert!(o["confidentialNotes"].is_null(), "{:#}", resp.body);
        assert_eq!(resp.error_code_at(&["regionalOverview", "confidentialNotes"]).as_deref(), Some("FORBIDDEN"));
    }
}

// ---- writing and publishing ----------------------------------------------------------------

#[tokio::test]
async fn participant_writes_draft() {
    let app = TestApp::spawn().await;
    let resp = app
        .graphql(UPDATE)
        .var("id", OVERVIEW_DRAFT)
        .var("v", 1)
        .var("input", json!({"publicSummary": "Outreach care is short of staff.", "confidentialNotes": "Talks in March.",
                             "assessments": [{"category": "OUTREACH", "whatWeHave": "Three FACT teams.",
                                              "problems": "Vacancies.", "missing": "Evening cover.", "supraRegionalRole": ""}]}))
        .as_caller(&insurer_x())
        .send()
        .await;
    assert_eq!(
        resp.data()["updateRegionalOverview"],
        json!({"id": OVERVIEW_DRAFT.to_string(), "status": "DRAFT", "version": 2,
               "publicSummary": "Outreach care is short of staff.", "confidentialNotes": "Talks in March."})
    );
}

#[tokio::test]
async fn non_participant_cannot_write_draft() {
    let app = TestApp::spawn().await;
    let before = overview_state(&app, OVERVIEW_DRAFT).await;
    let missing = uuid::Uuid::from_u128(0x0e_99_99);
    let update = |id: uuid::Uuid, caller: &TestCaller| {
        app.graphql(UPDATE)
            .var("id", id)
            .var("v", 1)
            .var("input", json!({"publicSummary": "Rewritten", "confidentialNotes": "Leaked"}))
            .as_caller(caller)
            .send()
    };
    // Providers and insurers elsewhere: the draft is unknown to them, as a missing id is.
    for caller in [insurer_y(), provider_b()] {
        let resp = update(OVERVIEW_DRAFT, &caller).await;
        assert_refused(&resp, "updateRegionalOverview", "NOT_FOUND");
        let other = update(missing, &caller).await;
        assert_eq!(
            resp.body.to_string().replace(&OVERVIEW_DRAFT.to_string(), "ID"),
            other.body.to_string().replace(&missing.to_string(), "ID")
        );
    }
    // Kinds that never write overviews are refused before anything is looked up.
    for caller in [municipality(), patient_org(), national_table(), operator()] {
        for id in [OVERVIEW_DRAFT, missing] {
            assert_refused(&update(id, &caller).await, "updateRegionalOverview", "FORBIDDEN");
        }
    }
    assert_eq!(overview_state(&app, OVERVIEW_DRAFT).await, before);
}

#[tokio::test]
async fn participant_starts_draft_for_a_new_year() {
    let app = TestApp::spawn().await;
    let q = r#"mutation($r: String!, $y: Int!) { createRegionalOverview(regionCode: $r, year: $y) { regionCode year status version } }"#;
    let resp = app.graphql(q).var("r", "utrecht").var("y", 2027).as_caller(&provider_a()).send().await;
    assert_eq!(
        resp.data()["createRegionalOverview"],
        json!({"regionCode": "utrecht", "year": 2027, "status": "DRAFT", "version": 1})
    );
    let resp = app.graphql(q).var("r", "utrecht").var("y", 2028).as_caller(&insurer_y()).send().await;
    assert_refused(&resp, "createRegionalOverview", "FORBIDDEN");
    let resp = app.graphql(q).var("r", "utrecht").var("y", DRAFT_YEAR).as_caller(&provider_a()).send().await;
    assert_refused(&resp, "createRegionalOverview", "CONFLICT");
}

#[tokio::test]
async fn only_chair_publishes() {
    let app = TestApp::spawn().await;
    for caller in [provider_a(), insurer_x(), municipality(), national_table(), patient_org()] {
        let resp = app.graphql(PUBLISH).var("id", OVERVIEW_DRAFT).var("v", 1).as_caller(&caller).send().await;
        assert_refused(&resp, "publishRegionalOverview", "FORBIDDEN");
    }
    // Another region's chair does not know utrecht's draft exists.
    let amsterdam_chair = provider_b().with_role("chair:amsterdam");
    let resp = app.graphql(PUBLISH).var("id", OVERVIEW_DRAFT).var("v", 1).as_caller(&amsterdam_chair).send().await;
    assert_refused(&resp, "publishRegionalOverview", "NOT_FOUND");
    assert_eq!(overview_state(&app, OVERVIEW_DRAFT).await["status"], "DRAFT");

    let resp = app.graphql(PUBLISH).var("id", OVERVIEW_DRAFT).var("v", 1).as_caller(&chair()).send().await;
    let o = &resp.data()["publishRegionalOverview"];
    assert_eq!(o["status"], "PUBLISHED");
    assert_eq!(o["version"], 2);
    assert!(o["publishedAt"].is_string());
    // Now the public part is for everyone.
    let resp = app.graphql(PUBLIC_PART).var("year", DRAFT_YEAR).as_caller(&patient_org()).send().await;
    assert_eq!(resp.data()["regionalOverview"]["publicSummary"], DRAFT_SUMMARY);
}

#[tokio::test]
async fn published_public_part_is_final_but_notes_may_change() {
    let app = TestApp::spawn().await;
    let resp = app
        .graphql(UPDATE)
        .var("id", OVERVIEW_PUBLISHED)
        .var("v", 1)
        .var("input", json!({"publicSummary": "Rewritten history"}))
        .as_caller(&provider_a())
        .send()
        .await;
    assert_refused(&resp, "updateRegionalOverview", "BAD_USER_INPUT");
    let resp = app
        .graphql(UPDATE)
        .var("id", OVERVIEW_PUBLISHED)
        .var("v", 1)
        .var("input", json!({"confidentialNotes": "Follow-up agreed."}))
        .as_caller(&provider_a())
        .send()
        .await;
    let o = &resp.data()["updateRegionalOverview"];
    assert_eq!(o["publicSummary"], PUBLISHED_SUMMARY);
    assert_eq!(o["confidentialNotes"], "Follow-up agreed.");
}

// ---- patient input -------------------------------------------------------------------------

#[tokio::test]
async fn patient_org_submits_input_in_its_region() {
    let app = TestApp::spawn().await;
    let resp = app
        .graphql(SUBMIT_INPUT)
        .var("region", "utrecht")
        .var("year", DRAFT_YEAR)
        .var("text", "Crisis care should include peer support.")
        .as_caller(&patient_org())
        .send()
        .await;
    let input = &resp.data()["submitPatientInput"];
    assert_eq!(input["overviewId"], OVERVIEW_DRAFT.to_string());
    assert_eq!(input["organisation"]["id"], PATIENT_ORG.to_string());
    assert_eq!(input["version"], 1);
    let resp = app.graphql(INPUTS).var("year", DRAFT_YEAR).as_caller(&provider_a()).send().await;
    assert_eq!(
        ids(&resp.data()["regionalOverview"]["patientInputs"]),
        vec![input["id"].as_str().expect("id").to_owned()]
    );
}

#[tokio::test]
async fn patient_org_cannot_submit_input_outside_its_region() {
    let app = TestApp::spawn().await;
    let resp = app
        .graphql(SUBMIT_INPUT)
        .var("region", "amsterdam")
        .var("year", PUBLISHED_YEAR)
        .var("text", "Not my region")
        .as_caller(&patient_org())
        .send()
        .await;
    assert_refused(&resp, "submitPatientInput", "FORBIDDEN");
}

#[tokio::test]
async fn provider_cannot_submit_patient_input() {
    let app = TestApp::spawn().await;
    for caller in [provider_a(), insurer_x(), municipality(), national_table()] {
        let resp = app
            .graphql(SUBMIT_INPUT)
            .var("region", "utrecht")
            .var("year", PUBLISHED_YEAR)
            .var("text", "Speaking for patients")
            .as_caller(&caller)
            .send()
            .await;
        assert_refused(&resp, "submitPatientInput", "FORBIDDEN");
    }
    let resp = app.graphql(INPUTS).var("year", PUBLISHED_YEAR).as_caller(&national_table()).send().await;
    assert_eq!(resp.data()["regionalOverview"]["patientInputs"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn providers_insurers_and_national_table_read_all_patient_inputs() {
    let app = TestApp::spawn().await;
    for caller in [provider_a(), insurer_x(), national_table()] {
        let resp = app.graphql(INPUTS).var("year", PUBLISHED_YEAR).as_caller(&caller).send().await;
        assert_eq!(
            ids(&resp.data()["regionalOverview"]["patientInputs"]),
            id_list(&[INPUT_PATIENT_ORG, INPUT_PATIENT_ORG_2])
        );
    }
}

#[tokio::test]
async fn patient_orgs_read_the_published_input_of_others_too() {
    // Issue 21: input not marked internal is published with the overview (see forms.rs for
    // internal input).
    let app = TestApp::spawn().await;
    for caller in [patient_org(), patient_org_2()] {
        let resp = app.graphql(INPUTS).var("year", PUBLISHED_YEAR).as_caller(&caller).send().await;
        assert_eq!(
            ids(&resp.data()["regionalOverview"]["patientInputs"]),
            id_list(&[INPUT_PATIENT_ORG, INPUT_PATIENT_ORG_2])
        );
    }
}

#[tokio::test]
async fn patient_org_cannot_change_another_organisations_input() {
    let app = TestApp::spawn().await;
    let q = r#"mutation($id: ID!) { updatePatientInput(id: $id, expectedVersion: 1, text: "Overwritten") { text version } }"#;
    let resp = app.graphql(q).var("id", INPUT_PATIENT_ORG_2).as_caller(&patient_org()).send().await;
    assert_refused(&resp, "updatePatientInput", "NOT_FOUND");
    let resp = app.graphql(q).var("id", INPUT_PATIENT_ORG).as_caller(&patient_org()).send().await;
    assert_eq!(resp.data()["updatePatientInput"], json!({"text": "Overwritten", "version": 2}));
}
