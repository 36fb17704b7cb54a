//! Federation: `_entities` applies the same access rules as the direct queries (nothing leaks
//! through a representation); an unknown (`NOT_FOUND`) or hidden (`FORBIDDEN`, or `NOT_FOUND` for a
//! draft overview, whose existence is not shown) entity is `null` on its own without blanking out
//! the rest of the batch; `_service { sdl }` answers.

use serde_json::{Value, json};

use crate::helpers::*;

const ENTITIES: &str = r#"query($r: [_Any!]!) { _entities(representations: $r) {
    ... on CareOffer { id unitName capacity { beds } }
    ... on RegionalOverview { id confidentialNotes }
    ... on Region { code name }
    ... on Organisation { id name } } }"#;

fn offer_rep(id: impl ToString) -> Value {
    json!({"__typename": "CareOffer", "id": id.to_string()})
}

fn overview_rep(id: impl ToString) -> Value {
    json!({"__typename": "RegionalOverview", "id": id.to_string()})
}

/// Codes of the errors on `_entities` itself or on `field` of an entity.
///
/// async-graphql 7.2.1 resolves all representations in the `_entities` field's own context, so
/// error paths carry no list index (`["_entities", "capacity"]`, not `["_entities", 0,
/// "capacity"]`); both shapes are accepted, anything else is not.
fn entity_error_codes(resp: &ggzhub_kit::testing::GraphqlResponse, field: Option<&str>) -> Vec<String> {
    resp.body["errors"]
        .as_array()
        .map(|errs| {
            errs.iter()
                .filter(|e| {
                    let path: Vec<String> = e["path"]
                        .as_array()
                        .map(|p| p.iter().map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned)).collect())
                        .unwrap_or_default();
                    let rest: Vec<&str> = match path.first().map(String::as_str) {
                        Some("_entities") => path[1..]
                            .iter()
                            .map(String::as_str)
                            .skip_while(|s| s.chars().all(|c| c.is_ascii_digit()))
                            .collect(),
                        _ => return false,
                    };
                    rest == field.into_iter().collect::<Vec<_>>()
                })
                .filter_map(|e| e["extensions"]["code"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn patient_org_gets_capacity_null_and_forbidden_through_entities() {
    let app = TestApp::spawn().await;
    let resp = app.graphql(ENTITIES).var("r", json!([offer_rep(OFFER_B_HIC)])).as_caller(&patient_org()).send().await;
    let entity = &resp.body["data"]["_entities"][0];
    assert_eq!(entity["unitName"], "HIC Amsterdam-West");
    assert!(entity["capacity"].is_null(), "{:#}", resp.body);
    assert_eq!(entity_error_codes(&resp, Some("capacity")), ["FORBIDDEN"], "{:#}", resp.body);
    assert!(!resp.body.to_string().contains("\"beds\""), "no capacity figure leaks: {:#}", resp.body);
}

#[tokio::test]
async fn participant_reads_capacity_through_entities() {
    let app = TestApp::spawn().await;
    let resp = app.graphql(ENTITIES).var("r", json!([offer_rep(OFFER_B_HIC)])).as_caller(&insurer_y()).send().await;
    assert_eq!(
        resp.data()["_entities"],
        json!([{"id": OFFER_B_HIC.to_string(), "unitName": "HIC Amsterdam-West", "capacity": {"beds": 16}}])
    );
}

#[tokio::test]
async fn draft_overview_through_entities_answers_like_a_missing_one_for_non_participants() {
    let app = TestApp::spawn().await;
    let missing = uuid::Uuid::from_u128(0x0e_99_99);
    // A patient organisation elsewhere (one at the utrecht table reads its drafts, issue 21).
    let patient_org_elsewhere =
        ggzhub_kit::testing::TestCaller::new(ggzhub_kit::OrgKind::PatientOrganisation, PATIENT_ORG, &["amsterdam"]);
    for caller in [insurer_y(), patient_org_elsewhere, provider_b()] {
        let resp =
            app.graphql(ENTITIES).var("r", json!([overview_rep(OVERVIEW_DRAFT)])).as_caller(&caller).send().await;
        assert_eq!(resp.body["data"]["_entities"], json!([null]), "no part of a draft leaks: {:#}", resp.body);
        assert_eq!(entity_error_codes(&resp, None), ["NOT_FOUND"], "{:#}", resp.body);
        assert!(!resp.body.to_string().contains(DRAFT_NOTES));
        // Exactly what a missing overview answers, but for its id.
        let other = app.graphql(ENTITIES).var("r", json!([overview_rep(missing)])).as_caller(&caller).send().await;
        let hidden = resp.body.to_string().replace(&OVERVIEW_DRAFT.to_string(), "ID");
        assert_eq!(hidden, other.body.to_string().replace(&missing.to_string(), "ID"));
    }
    // The hub operator reads no overviews at all, existing or not.
    for id in [OVERVIEW_DRAFT, missing] {
        let resp = app.graphql(ENTITIES).var("r", json!([overview_rep(id)])).as_caller(&operator()).send().await;
        assert_eq!(entity_error_codes(&resp, None), ["FORBIDDEN"], "{:#}", resp.body);
    }
}

#[tokio::test]
async fn hidden_draft_does_not_blank_out_the_rest_of_the_batch() {
    let app = TestApp::spawn().await;
    let reps = json!([overview_rep(OVERVIEW_PUBLISHED), overview_rep(OVERVIEW_DRAFT), offer_rep(OFFER_A_FACT)]);
    let resp = app.graphql(ENTITIES).var("r", reps).as_caller(&insurer_y()).send().await;
    let entities = &resp.body["data"]["_entities"];
    assert_eq!(entities[0]["id"], OVERVIEW_PUBLISHED.to_string(), "{:#}", resp.body);
    assert!(entities[1].is_null(), "{:#}", resp.body);
    assert_eq!(entities[2]["unitName"], "FACT-team Zeist", "{:#}", resp.body);
    assert_eq!(entity_error_codes(&resp, None), ["NOT_FOUND"], "{:#}", resp.body);
    assert!(!resp.body.to_string().contains(DRAFT_NOTES) && !resp.body.to_string().contains(DRAFT_SUMMARY));
}

#[tokio::test]
async fn participant_reads_draft_overview_through_entities() {
    let app = TestApp::spawn().await;
    let resp =
        app.graphql(ENTITIES).var("r", json!([overview_rep(OVERVIEW_DRAFT)])).as_caller(&insurer_x()).send().await;
    assert_eq!(resp.data()["_entities"], json!([{"id": OVERVIEW_DRAFT.to_string(), "confidentialNotes": DRAFT_NOTES}]));
}

#[tokio::test]
async fn patient_org_gets_confidential_notes_null_through_entities() {
    let app = TestApp::spawn().await;
    let resp = app
        .graphql(ENTITIES)
        .var("r", json!([overview_rep(OVERVIEW_PUBLISHED)]))
        .as_caller(&patient_org())
        .send()
        .await;
    assert_eq!(resp.body["data"]["_entities"][0]["id"], OVERVIEW_PUBLISHED.to_string());
    assert!(resp.body["data"]["_entities"][0]["confidentialNotes"].is_null());
    assert_eq!(entity_error_codes(&resp, Some("confidentialNotes")), ["FORBIDDEN"], "{:#}", resp.body);
    assert!(!resp.body.to_string().contains(PUBLISHED_NOTES));
}

#[tokio::test]
async fn unknown_entity_is_not_found() {
    let app = TestApp::spawn().await;
    let unknown = uuid::Uuid::from_u128(0xdead);
    let reps = json!([
        offer_rep(unknown),
        overview_rep(unknown),
        {"__typename": "Region", "code": "atlantis"},
        {"__typename": "Organisation", "id": unknown.to_string()},
        offer_rep(OFFER_A_CRISIS)
    ]);
    let resp = app.graphql(ENTITIES).var("r", reps).as_caller(&national_table()).send().await;
    // Each unknown key is null with its own NOT_FOUND; the known entity still resolves.
    assert_eq!(entity_error_codes(&resp, None), ["NOT_FOUND"; 4], "{:#}", resp.body);
    let entities = &resp.body["data"]["_entities"];
    assert_eq!(entities.as_array().map(Vec::len), Some(5), "{:#}", resp.body);
    for i in 0..4 {
        assert!(entities[i].is_null(), "{i}: {:#}", resp.body);
    }
    assert_eq!(entities[4]["unitName"], "Crisisdienst Utrecht-Stad");
}

#[tokio::test]
async fn regions_and_organisations_resolve_through_entities() {
    let app = TestApp::spawn().await;
    let reps = json!([{"__typename": "Region", "code": "groningen"}, {"__typename": "Organisation", "id": PROVIDER_B}]);
    let resp = app.graphql(ENTITIES).var("r", reps).as_caller(&municipality()).send().await;
    assert_eq!(
        resp.data()["_entities"],
        json!([{"code": "groningen", "name": "Groningen"}, {"id": PROVIDER_B.to_string(), "name": "GGZ Aanbieder B"}])
    );
}

#[tokio::test]
async fn entities_need_a_valid_token_and_picture_read() {
    let app = TestApp::spawn().await;
    let resp = app.graphql(ENTITIES).var("r", json!([offer_rep(OFFER_A_CRISIS)])).send().await;
    assert_unauthenticated(&resp);
    let no_read = provider_a().with_scopes(&[ggzhub_kit::token::scopes::OFFERS_WRITE]);
    let resp = app.graphql(ENTITIES).var("r", json!([offer_rep(OFFER_A_CRISIS)])).as_caller(&no_read).send().await;
    assert_eq!(entity_error_codes(&resp, None), ["FORBIDDEN"], "{:#}", resp.body);
    assert_eq!(resp.body["data"]["_entities"], json!([null]));
}

#[tokio::test]
async fn service_sdl_answers() {
    let app = TestApp::spawn().await;
    let resp = app.graphql("query { _service { sdl } }").as_caller(&provider_a()).send().await;
    let sdl = resp.data()["_service"]["sdl"].as_str().expect("sdl is a string");
    for key in [
        "type CareOffer @key(fields: \"id\")",
        "type Region @key(fields: \"code\")",
        "type RegionalOverview @key(fields: \"id\")",
        "type Organisation @key(fields: \"id\")",
        "signalEvents(region: ID): SignalEvent!",
    ] {
        assert!(sdl.contains(key), "SDL lacks {key}");
    }
}

#[tokio::test]
async fn introspection_is_disabled() {
    let app = TestApp::spawn().await;
    let resp = app.graphql("query { __schema { types { name } } }").as_caller(&provider_a()).send().await;
    // async-graphql answers a disabled `__schema` with null rather than an error.
    assert_eq!(resp.body["data"], serde_json::json!({"__schema": null}), "{:#}", resp.body);
}

/// `ContinuitySignal` by id (the national table's `Escalation.signal`): seen as
/// `continuitySignals` shows it — in full by its provider and the coordinating insurer, with id
/// and status only by the region's chair, and not at all (null, `NOT_FOUND`, exactly like a
/// missing one) by anyone else.
#[tokio::test]
async fn continuity_signals_through_entities_follow_the_signal_rules() {
    let app = TestApp::spawn().await;
    let query = r#"query($r: [_Any!]!) { _entities(representations: $r) {
        ... on ContinuitySignal { id status description } } }"#;
    let rep = json!([{"__typename": "ContinuitySignal", "id": SIGNAL_UTRECHT_OPEN.to_string()}]);
    for (label, caller) in [("provider A", provider_a()), ("insurer X", insurer_x())] {
        let resp = app.graphql(query).var("r", rep.clone()).as_caller(&caller).send().await;
        let entity = &resp.body["data"]["_entities"][0];
        assert_eq!(entity["id"], SIGNAL_UTRECHT_OPEN.to_string(), "{label}: {:#}", resp.body);
        assert!(entity["description"].is_string(), "{label} reads it in full: {:#}", resp.body);
    }
    let resp = app.graphql(query).var("r", rep.clone()).as_caller(&chair()).send().await;
    let entity = &resp.body["data"]["_entities"][0];
    assert_eq!(entity["status"], "OPEN", "the chair sees id and status: {:#}", resp.body);
    assert!(entity["description"].is_null(), "not the description: {:#}", resp.body);
    for (label, caller) in [
        ("provider B", provider_b()),
        ("insurer Y", insurer_y()),
        ("patient organisation", patient_org()),
        ("national table before escalation", national_table()),
    ] {
        let resp = app.graphql(query).var("r", rep.clone()).as_caller(&caller).send().await;
        assert!(resp.body["data"]["_entities"][0].is_null(), "{label}: {:#}", resp.body);
        assert_eq!(entity_error_codes(&resp, None), ["NOT_FOUND"], "{label}: exactly like a missing signal");
    }
}
