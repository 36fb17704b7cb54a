//! Regional overviews, chairs (publishing, raising escalations), patient input.

use super::*;

pub(super) const OVERVIEW_Q: &str = "query($r: String!, $y: Int!) { \
    regionalOverview(region: $r, year: $y) { id version status publicSummary assessments { category } } }";
pub(super) const OVERVIEW_NOTES: &str = "query($r: String!, $y: Int!) { \
    regionalOverview(region: $r, year: $y) { id version status publicSummary confidentialNotes } }";
const REGION_OVERVIEW: &str =
    r#"query($y: Int!) { region(code: "utrecht") { code overview(year: $y) { status publicSummary } } }"#;
pub(super) const UPDATE_NOTES: &str = "mutation($id: ID!, $v: Int!, $notes: String!) { \
    updateRegionalOverview(id: $id, expectedVersion: $v, input: { confidentialNotes: $notes }) { id version confidentialNotes } }";
const UPDATE_SUMMARY: &str = "mutation($id: ID!, $v: Int!, $summary: String!) { \
    updateRegionalOverview(id: $id, expectedVersion: $v, input: { publicSummary: $summary }) { id version publicSummary } }";
const CREATE_OVERVIEW: &str = "mutation($r: String!, $y: Int!) { \
    createRegionalOverview(regionCode: $r, year: $y) { id version status regionCode year } }";
const PUBLISH: &str =
    "mutation($id: ID!, $v: Int!) { publishRegionalOverview(id: $id, expectedVersion: $v) { id status publishedAt } }";
pub(super) const RAISE_ESCALATION: &str = r#"mutation($r: String!) {
    raiseEscalation(input: { regionCode: $r, category: SECURE, targetGroup: "E2E doelgroep",
        problem: "E2E: geen passend aanbod in de regio.", regionTried: "E2E: overleg met de buurregio's.", urgency: MEDIUM }) { id status regionCode }
}"#;
pub(super) const INPUTS_Q: &str = "query($r: String!, $y: Int!) { \
    regionalOverview(region: $r, year: $y) { id patientInputs { id version text organisation { id } } } }";
pub(super) const SUBMIT_INPUT: &str = r#"mutation($r: String!, $y: Int!) {
    submitPatientInput(regionCode: $r, year: $y, text: "E2E: cliënten missen een vast aanspreekpunt.") { id version text organisation { id } }
}"#;
const UPDATE_INPUT: &str = r#"mutation($id: ID!, $v: Int!, $text: String!) {
    updatePatientInput(id: $id, expectedVersion: $v, text: $text) { id version text }
}"#;

/// The demo's internal patient input on utrecht's 2026 overview (services/region/src/seed_planning.rs).
const DEMO_INTERNAL_INPUT: &str = "78712206-1052-5435-aabd-d8dba78dac9d";

#[tokio::test]
async fn access_matrix_overviews_chairs_and_patient_input() {
    let hub = Hub::start();
    let cast = Cast::demo(&hub);
    let eemland = hub.mint(EEMLAND);
    let noorderlicht = hub.mint(NOORDERLICHT);
    let wadkust = hub.mint(WADKUST);
    let wad_en_veen = hub.mint(WAD_EN_VEEN);
    let mut cells = Cells::default();
    let utrecht_2026 = json!({ "r": "utrecht", "y": 2026 });
    let utrecht_2027 = json!({ "r": "utrecht", "y": 2027 });

    // (regional overview, published public part): every provider, insurer, patient organisation
    // and the national table; not the operator.
    let readers = [
        (PROVIDER, &cast.provider),
        (PROVIDER, &noorderlicht),
        (INSURER, &cast.insurer),
        (INSURER, &wadkust),
        (PATIENT, &cast.patient),
        (PATIENT, &wad_en_veen),
        (NATIONAL, &cast.national),
    ];
    for (column, who) in readers {
        let body = hub.gql(who, OVERVIEW_Q, utrecht_2026.clone()).await;
        cells.check(
            (OVERVIEW_PUBLIC, column),
            clean(&body)
                && at(&body, "/regionalOverview/status") == "PUBLISHED"
                && starts(&body, "/regionalOverview/publicSummary", "Regiobeeld cruciale ggz Utrecht 2026")
                && !list(&body, "/regionalOverview/assessments").is_empty(),
            "reads a published overview's summary and assessments",
            &body,
        );
    }
    let body = hub.gql(&cast.operator, OVERVIEW_Q, utrecht_2026.clone()).await;
    cells.check(
        (OVERVIEW_PUBLIC, OPERATOR),
        forbidden(&body, "/regionalOverview"),
        "the published overview is null + FORBIDDEN",
        &body,
    );
    let body = hub.gql(&cast.operator, REGION_OVERVIEW, json!({ "y": 2026 })).await;
    cells.check(
        (OVERVIEW_PUBLIC, OPERATOR),
        at(&body, "/region/code") == "utrecht" && forbidden(&body, "/region/overview"),
        "Region.overview is null + FORBIDDEN",
        &body,
    );

    // (regional overview, draft and confidential notes): RW for providers and insurers at the
    // region's table, R for the national table.
    let full_readers =
        [(PROVIDER, &cast.provider), (PROVIDER, &eemland), (INSURER, &cast.insurer), (NATIONAL, &cast.national)];
    for (column, who) in full_readers {
        let body = hub.gql(who, OVERVIEW_NOTES, utrecht_2027.clone()).await;
        cells.check(
            (OVERVIEW_DRAFT, column),
            clean(&body)
                && at(&body, "/regionalOverview/status") == "DRAFT"
                && starts(&body, "/regionalOverview/confidentialNotes", "Concept, niet delen"),
            "reads the draft with its confidential notes",
            &body,
        );
        let body = hub.gql(who, OVERVIEW_NOTES, utrecht_2026.clone()).await;
        cells.check(
            (OVERVIEW_DRAFT, column),
            clean(&body) && starts(&body, "/regionalOverview/confidentialNotes", "Vertrouwelijk"),
            "reads the published overview's confidential notes",
            &body,
        );
    }
    // A draft is answered exactly as a year without an overview (2031), so its existence shows
    // to no one who may not read it.
    // (Issue 21: a patient organisation at the utrecht table reads its drafts; one elsewhere
    // does not.)
    let no_draft = [(PROVIDER, &noorderlicht), (INSURER, &wadkust), (PATIENT, &wad_en_veen)];
    for (column, who) in no_draft {
        let missing = hub.gql(who, OVERVIEW_Q, json!({ "r": "utrecht", "y": 2031 })).await;
        let body = hub.gql(who, OVERVIEW_Q, utrecht_2027.clone()).await;
        cells.check(
            (OVERVIEW_DRAFT, column),
            body == missing && body == json!({ "data": { "regionalOverview": null } }),
            "the draft is null without an error, as a missing overview",
            &body,
        );
        let missing = hub.gql(who, REGION_OVERVIEW, json!({ "y": 2031 })).await;
        let body = hub.gql(who, REGION_OVERVIEW, json!({ "y": 2027 })).await;
        cells.check(
            (OVERVIEW_DRAFT, column),
            body == missing && at(&body, "/region/code") == "utrecht" && clean(&body),
            "Region.overview of the draft year is null without an error, as a missing one",
            &body,
        );
    }
    let body = hub.gql(&cast.patient, OVERVIEW_Q, utrecht_2027.clone()).await;
    cells.check(
        (OVERVIEW_DRAFT, PATIENT),
        clean(&body) && at(&body, "/regionalOverview/status") == "DRAFT",
        "a patient organisation at the table reads the draft (issue 21)",
        &body,
    );
    let body = hub.gql(&cast.patient, OVERVIEW_NOTES, utrecht_2027.clone()).await;
    cells.check(
        (OVERVIEW_DRAFT, PATIENT),
        (forbidden(&body, "/regionalOverview/confidentialNotes") || not_in_schema(&body, "confidentialNotes"))
            && !body.to_string().contains("Concept, niet delen"),
        "but not the draft's confidential notes",
        &body,
    );
    let body = hub.gql(&cast.operator, OVERVIEW_Q, utrecht_2027.clone()).await;
    cells.check(
        (OVERVIEW_DRAFT, OPERATOR),
        forbidden(&body, "/regionalOverview") && !body.to_string().contains("Concept"),
        "the operator reads no overview: null + FORBIDDEN",
        &body,
    );
    for (column, who) in [(PROVIDER, &noorderlicht), (INSURER, &wadkust), (PATIENT, &cast.patient)] {
        let body = hub.gql(who, OVERVIEW_NOTES, utrecht_2026.clone()).await;
        cells.check(
            (OVERVIEW_DRAFT, column),
            ((at(&body, "/regionalOverview/status") == "PUBLISHED"
                && forbidden(&body, "/regionalOverview/confidentialNotes"))
                || (column == PATIENT && not_in_schema(&body, "confidentialNotes")))
                && !body.to_string().contains("Vertrouwelijk"),
            "the published overview's confidential notes are null + FORBIDDEN",
            &body,
        );
    }
    let body = hub.gql(&cast.operator, OVERVIEW_NOTES, utrecht_2026.clone()).await;
    cells.check(
        (OVERVIEW_DRAFT, OPERATOR),
        forbidden(&body, "/regionalOverview") && !body.to_string().contains("Vertrouwelijk"),
        "the published overview with its notes is null + FORBIDDEN",
        &body,
    );
    // Writes.
    let draft = hub.gql(&cast.provider, OVERVIEW_NOTES, utrecht_2027.clone()).await;
    let draft_id = at(&draft, "/regionalOverview/id").as_str().unwrap_or(UNKNOWN_ID).to_owned();
    let v = version(&draft, "/regionalOverview/version");
    let refused_writers = [
        (PROVIDER, &noorderlicht),
        (INSURER, &wadkust),
        (PATIENT, &cast.patient),
        (NATIONAL, &cast.national),
        (OPERATOR, &cast.operator),
    ];
    for (column, who) in refused_writers {
        let body = hub.gql(who, UPDATE_NOTES, json!({ "id": draft_id, "v": v, "notes": "E2E: mag niet" })).await;
        cells.check(
            (OVERVIEW_DRAFT, column),
            refused_change_to(column, &body, "/updateRegionalOverview"),
            "may not change the draft (NOT_FOUND where it may not know the draft exists)",
            &body,
        );
        let body = hub.gql(who, CREATE_OVERVIEW, json!({ "r": "utrecht", "y": 2029 })).await;
        cells.check(
            (OVERVIEW_DRAFT, column),
            refused_to(column, &body, "/createRegionalOverview"),
            "may not start an overview",
            &body,
        );
    }
    let notes = "E2E: notitie van een aanbieder aan tafel";
    let body = hub.gql(&eemland, UPDATE_NOTES, json!({ "id": draft_id, "v": v, "notes": notes })).await;
    cells.check(
        (OVERVIEW_DRAFT, PROVIDER),
        clean(&body) && at(&body, "/updateRegionalOverview/confidentialNotes") == notes,
        "a provider at the table changes the draft's notes",
        &body,
    );
    let notes = "E2E: notitie van een verzekeraar aan tafel";
    let body = hub.gql(&cast.insurer, UPDATE_NOTES, json!({ "id": draft_id, "v": v + 1, "notes": notes })).await;
    cells.check(
        (OVERVIEW_DRAFT, INSURER),
        clean(&body) && at(&body, "/updateRegionalOverview/confidentialNotes") == notes,
        "an insurer at the table changes the draft's notes",
        &body,
    );
    let body = hub.gql(&cast.national, OVERVIEW_NOTES, utrecht_2027.clone()).await;
    cells.check(
        (OVERVIEW_DRAFT, NATIONAL),
        at(&body, "/regionalOverview/confidentialNotes") == notes && at(&body, "/regionalOverview/version") == v + 2,
        "only the two allowed changes were made",
        &body,
    );
    let body = hub.gql(&cast.provider, CREATE_OVERVIEW, json!({ "r": "utrecht", "y": 2028 })).await;
    cells.check(
        (OVERVIEW_DRAFT, PROVIDER),
        clean(&body) && at(&body, "/createRegionalOverview/status") == "DRAFT",
        "a provider at the table starts an overview",
        &body,
    );
    let body = hub.gql(&cast.insurer, CREATE_OVERVIEW, json!({ "r": "flevoland", "y": 2027 })).await;
    cells.check(
        (OVERVIEW_DRAFT, INSURER),
        clean(&body) && at(&body, "/createRegionalOverview/status") == "DRAFT",
        "an insurer at the table starts an overview",
        &body,
    );
    let flevoland = at(&body, "/createRegionalOverview/id").as_str().unwrap_or(UNKNOWN_ID).to_owned();

    // (publish a regional overview, raise an escalation): the region's chair only.
    let v = v + 2;
    let not_chairs = [
        (PROVIDER, &eemland, "a provider at the table that does not chair it"),
        (INSURER, &cast.insurer, "an insurer at the table that chairs another region"),
        (PATIENT, &cast.patient, "a patient organisation"),
        (NATIONAL, &cast.national, "the national table"),
        (OPERATOR, &cast.operator, "the hub operator"),
    ];
    for (column, who, whom) in not_chairs {
        let body = hub.gql(who, PUBLISH, json!({ "id": draft_id, "v": v })).await;
        cells.check(
            (CHAIR, column),
            refused_to(column, &body, "/publishRegionalOverview"),
            &format!("{whom} may not publish utrecht's overview"),
            &body,
        );
        let body = hub.gql(who, RAISE_ESCALATION, json!({ "r": "utrecht" })).await;
        cells.check(
            (CHAIR, column),
            refused_to(column, &body, "/raiseEscalation"),
            &format!("{whom} may not raise an escalation for utrecht"),
            &body,
        );
    }
    let body = hub.gql(&cast.provider, PUBLISH, json!({ "id": draft_id, "v": v })).await;
    cells.check(
        (CHAIR, PROVIDER),
        clean(&body) && at(&body, "/publishRegionalOverview/status") == "PUBLISHED",
        "the chair (a provider) publishes its region's overview",
        &body,
    );
    let body = hub.gql(&cast.provider, RAISE_ESCALATION, json!({ "r": "utrecht" })).await;
    cells.check(
        (CHAIR, PROVIDER),
        clean(&body) && at(&body, "/raiseEscalation/status") == "SUBMITTED",
        "the chair (a provider) raises an escalation for its region",
        &body,
    );
    let body = hub
        .gql(&cast.insurer, UPDATE_SUMMARY, json!({ "id": flevoland, "v": 1, "summary": "E2E: regiobeeld Flevoland" }))
        .await;
    cells.check((CHAIR, INSURER), clean(&body), "the chair of flevoland writes its summary", &body);
    let body = hub.gql(&cast.insurer, PUBLISH, json!({ "id": flevoland, "v": 2 })).await;
    cells.check(
        (CHAIR, INSURER),
        clean(&body) && at(&body, "/publishRegionalOverview/status") == "PUBLISHED",
        "the chair (an insurer) publishes its region's overview",
        &body,
    );
    let body = hub.gql(&cast.insurer, RAISE_ESCALATION, json!({ "r": "flevoland" })).await;
    cells.check(
        (CHAIR, INSURER),
        clean(&body) && at(&body, "/raiseEscalation/regionCode") == "flevoland",
        "the chair (an insurer) raises an escalation for its region",
        &body,
    );

    // (patient input on an overview): providers, insurers and the national table read it; a
    // patient organisation writes (and reads) its own, in its regions.
    for (column, who) in [(PROVIDER, &cast.provider), (INSURER, &cast.insurer), (NATIONAL, &cast.national)] {
        let body = hub.gql(who, INPUTS_Q, utrecht_2026.clone()).await;
        let inputs = list(&body, "/regionalOverview/patientInputs");
        cells.check(
            (PATIENT_INPUT, column),
            clean(&body) && inputs.iter().any(|i| i["organisation"]["id"] == STEMKRACHT && i["text"].is_string()),
            "reads the patient organisations' input",
            &body,
        );
    }
    let body = hub.gql(&cast.operator, INPUTS_Q, utrecht_2026.clone()).await;
    cells.check(
        (PATIENT_INPUT, OPERATOR),
        forbidden(&body, "/regionalOverview"),
        "the overview and its patient input are null + FORBIDDEN",
        &body,
    );
    let body = hub.gql(&cast.patient, SUBMIT_INPUT, utrecht_2026.clone()).await;
    cells.check(
        (PATIENT_INPUT, PATIENT),
        clean(&body) && at(&body, "/submitPatientInput/organisation/id") == STEMKRACHT,
        "submits input in a region it takes part in",
        &body,
    );
    let input = at(&body, "/submitPatientInput/id").as_str().unwrap_or(UNKNOWN_ID).to_owned();
    let text = "E2E: aangevuld perspectief.";
    let body = hub.gql(&cast.patient, UPDATE_INPUT, json!({ "id": input, "v": 1, "text": text })).await;
    cells.check(
        (PATIENT_INPUT, PATIENT),
        clean(&body) && at(&body, "/updatePatientInput/text") == text,
        "changes its own input",
        &body,
    );
    let body = hub.gql(&cast.patient, SUBMIT_INPUT, json!({ "r": "groningen", "y": 2026 })).await;
    cells.check(
        (PATIENT_INPUT, PATIENT),
        forbidden(&body, "/submitPatientInput"),
        "submits no input in a region it does not take part in",
        &body,
    );
    let body = hub.gql(&wad_en_veen, UPDATE_INPUT, json!({ "id": input, "v": 2, "text": "E2E: overschreven" })).await;
    cells.check(
        (PATIENT_INPUT, PATIENT),
        refused(&body, "/updatePatientInput", "NOT_FOUND"),
        "another patient organisation's input answers as a missing one",
        &body,
    );
    let body = hub.gql(&cast.patient, INPUTS_Q, utrecht_2026.clone()).await;
    let inputs = list(&body, "/regionalOverview/patientInputs");
    cells.check(
        (PATIENT_INPUT, PATIENT),
        clean(&body)
            && inputs.iter().any(|i| i["id"] == input.as_str() && i["text"] == text)
            && inputs.iter().any(|i| i["id"] == DEMO_INTERNAL_INPUT),
        "reads its own input (unchanged by the other organisation), its internal input too",
        &body,
    );
    // Issue 21: input is published with the overview unless marked internal; internal input
    // stays with the region's providers and insurers, the national table and its author.
    let body = hub.gql(&wad_en_veen, INPUTS_Q, utrecht_2026.clone()).await;
    let inputs = list(&body, "/regionalOverview/patientInputs");
    cells.check(
        (PATIENT_INPUT, PATIENT),
        clean(&body)
            && inputs.iter().any(|i| i["id"] == input.as_str())
            && inputs.iter().all(|i| i["id"] != DEMO_INTERNAL_INPUT),
        "another patient organisation reads the published input, not the internal one",
        &body,
    );
    for (column, who, sees) in [
        (PROVIDER, &cast.provider, true),
        (INSURER, &cast.insurer, true),
        (NATIONAL, &cast.national, true),
        (PROVIDER, &noorderlicht, false),
        (INSURER, &wadkust, false),
    ] {
        let body = hub.gql(who, INPUTS_Q, utrecht_2026.clone()).await;
        let inputs = list(&body, "/regionalOverview/patientInputs");
        cells.check(
            (PATIENT_INPUT, column),
            clean(&body) && inputs.iter().any(|i| i["id"] == DEMO_INTERNAL_INPUT) == sees,
            if sees { "reads internal input at its table" } else { "reads no internal input of another table" },
            &body,
        );
    }
    let body = hub.gql(&wad_en_veen, INPUTS_Q, json!({ "r": "groningen", "y": 2026 })).await;
    let inputs = list(&body, "/regionalOverview/patientInputs");
    cells.check(
        (PATIENT_INPUT, PATIENT),
        clean(&body) && !inputs.is_empty() && inputs.iter().all(|i| i["organisation"]["id"] == WAD_EN_VEEN),
        "a patient organisation reads its own input in its own region",
        &body,
    );
    let others =
        [(PROVIDER, &cast.provider), (INSURER, &cast.insurer), (NATIONAL, &cast.national), (OPERATOR, &cast.operator)];
    for (column, who) in others {
        let body = hub.gql(who, SUBMIT_INPUT, utrecht_2026.clone()).await;
        cells.check(
            (PATIENT_INPUT, column),
            forbidden(&body, "/submitPatientInput"),
            "may not submit patient input",
            &body,
        );
        let body = hub.gql(who, UPDATE_INPUT, json!({ "id": input, "v": 2, "text": "E2E: overschreven" })).await;
        cells.check(
            (PATIENT_INPUT, column),
            refused_change(&body, "/updatePatientInput"),
            "may not change patient input",
            &body,
        );
    }
    cells.finish();
}
