//! Municipalities (not a column of the matrix: "Municipalities read what patient organisations
//! read, plus draft overviews of regions where they sit at the table"), and what the hub never
//! holds: personal data in free text, echoed bad values.

use super::national_table::{ESCALATION_PUBLIC, ESCALATION_Q};
use super::overviews::{INPUTS_Q, OVERVIEW_NOTES, OVERVIEW_Q};
use super::*;

/// Gemeente Utrecht: at the utrecht table.
const GEMEENTE_UTRECHT: &str = "48df57a5-eb29-5725-95a6-76350a7e3cfe";
/// Gemeente Groningen: not at the utrecht table.
const GEMEENTE_GRONINGEN: &str = "16f689be-e6d1-5f12-b636-fd0177404757";
const MUNICIPALITY: &str = "municipality";
const NEVER_HELD: &str = "what the hub never holds";

#[tokio::test]
async fn municipalities_and_personal_data() {
    let hub = Hub::start();
    let cast = Cast::demo(&hub);
    let at_table = hub.mint(GEMEENTE_UTRECHT);
    let elsewhere = hub.mint(GEMEENTE_GRONINGEN);
    let mut cells = Cells::default();
    let utrecht_2027 = json!({ "r": "utrecht", "y": 2027 });

    // Drafts: the municipality at the table reads the draft, not its confidential notes; one
    // elsewhere gets what a missing overview answers.
    let body = hub.gql(&at_table, OVERVIEW_Q, utrecht_2027.clone()).await;
    cells.check(
        (OVERVIEW_DRAFT, MUNICIPALITY),
        clean(&body) && at(&body, "/regionalOverview/status") == "DRAFT",
        "a municipality at the table reads the draft",
        &body,
    );
    let body = hub.gql(&at_table, OVERVIEW_NOTES, utrecht_2027.clone()).await;
    cells.check(
        (OVERVIEW_DRAFT, MUNICIPALITY),
        forbidden(&body, "/regionalOverview/confidentialNotes") && !body.to_string().contains("Concept, niet delen"),
        "but not its confidential notes",
        &body,
    );
    let missing = hub.gql(&elsewhere, OVERVIEW_Q, json!({ "r": "utrecht", "y": 2031 })).await;
    let body = hub.gql(&elsewhere, OVERVIEW_Q, utrecht_2027.clone()).await;
    cells.check(
        (OVERVIEW_DRAFT, MUNICIPALITY),
        body == missing && body == json!({ "data": { "regionalOverview": null } }),
        "a municipality elsewhere gets null without an error, as for a missing overview",
        &body,
    );

    // Decided escalations: the public part only, as for a patient organisation.
    let body = hub.gql(&at_table, ESCALATION_Q, json!({ "id": ESC_UTRECHT_AGREED })).await;
    cells.check(
        (ESCALATIONS, MUNICIPALITY),
        at(&body, "/escalation/status") == "MEASURE_AGREED"
            && at(&body, "/escalation/publicSummary").is_string()
            && ["raisedAt", "version", "problem", "regionTried", "measures"]
                .iter()
                .all(|f| forbidden(&body, &format!("/escalation/{f}"))),
        "reads a decided escalation's public part, not when it was raised nor its version",
        &body,
    );
    let body = hub.gql(&at_table, ESCALATION_PUBLIC, json!({ "id": ESC_UTRECHT_SUBMITTED })).await;
    cells.check(
        (ESCALATIONS, MUNICIPALITY),
        body == json!({ "data": { "escalation": null } }),
        "an undecided escalation answers as a missing one",
        &body,
    );

    // Personal data in free text is refused through the gateway, naming the field and the kind,
    // never the value.
    let guarded = |body: &Value, pointer: &str, field: &str, kind: &str, value: &str| {
        refused(body, pointer, "BAD_USER_INPUT")
            && errors(body).iter().any(|e| {
                e["message"].as_str().is_some_and(|m| {
                    m.starts_with(&format!("{field} seems to contain personal data")) && m.contains(kind)
                })
            })
            && !body.to_string().contains(value)
    };
    let raise = r#"mutation($offer: ID!, $d: String!) { raiseContinuitySignal(input: { offerId: $offer, kind: STAFFING,
        severity: HIGH, description: $d }) { id } }"#;
    let samples = [
        ("BSN 111.222.333", "citizen service number (BSN)", "111.222.333"),
        ("geboren 12-03-1985", "date of birth", "12-03-1985"),
        ("mail p.devries@ziggo.nl", "e-mail address", "ziggo"),
        ("bel +31 6 1234 5678", "phone number", "1234 5678"),
    ];
    for (text, kind, value) in samples {
        let body = hub
            .gql(&cast.provider, raise, json!({ "offer": CRISIS_UTRECHT, "d": format!("E2E: cliënt, {text}") }))
            .await;
        cells.check(
            (NEVER_HELD, PROVIDER),
            guarded(&body, "/raiseContinuitySignal", "description", kind, value),
            "a signal description with personal data is refused",
            &body,
        );
    }
    let input = r#"mutation($t: String!) { submitPatientInput(regionCode: "utrecht", year: 2026, text: $t) { id } }"#;
    let body = hub.gql(&cast.patient, input, json!({ "t": "Mw. Jansen, BSN 111222333, wacht al maanden" })).await;
    cells.check(
        (NEVER_HELD, PATIENT),
        guarded(&body, "/submitPatientInput", "text", "citizen service number (BSN)", "111222333"),
        "patient input with a BSN is refused",
        &body,
    );
    let body = hub.gql(&cast.patient, INPUTS_Q, json!({ "r": "utrecht", "y": 2026 })).await;
    cells.check(
        (NEVER_HELD, PATIENT),
        clean(&body) && !body.to_string().contains("111222333"),
        "and nothing of it is stored",
        &body,
    );

    // A 1 MB bad value comes back as a short prefix.
    let huge = "x".repeat(1_000_000);
    let body = hub.gql(&cast.provider, "query($c: String!) { region(code: $c) { code } }", json!({ "c": huge })).await;
    let short = errors(&body).iter().all(|e| e["message"].as_str().is_some_and(|m| m.chars().count() < 200));
    cells.check(
        (NEVER_HELD, PROVIDER),
        refused(&body, "/region", "BAD_USER_INPUT") && short && body.to_string().len() < 2_000,
        "a megabyte region code is answered with a short message",
        &json!({ "length": body.to_string().len(), "start": body.to_string().chars().take(300).collect::<String>() }),
    );
    cells.finish();
}
