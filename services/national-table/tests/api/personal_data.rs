//! The personal-data guard on every free-text input of the national table: BSNs, dates of birth,
//! e-mail addresses and phone numbers are refused with `BAD_USER_INPUT` naming the field and the
//! kind, never repeating the value; an expertise network's consultation contact may hold the
//! desk's phone number and e-mail address, but no BSN or date of birth.

use ggzhub_kit::testing::TestCaller;
use serde_json::{Value, json};

use crate::helpers::*;

const BSN: (&str, &str) = ("Patiënt met BSN 1234.56.782 wacht op een bed", "citizen service number (BSN)");
const BIRTH: (&str, &str) = ("Jongere geboren op 3 december 2009 zonder plek", "date of birth");
const EMAIL: (&str, &str) = ("Moeder bereikbaar via moeder.jansen@hotmail.com", "e-mail address");
const PHONE: (&str, &str) = ("Vader belt steeds vanaf +31 6 1234 5678", "phone number");

/// What the national table has stored, to show a refusal changed nothing.
async fn snapshot(app: &TestApp, escalation: &str) -> Value {
    let q = r#"query { supraRegionalListings(first: 100) { nodes { id targetGroup version } }
        expertiseNetworks { id name targetGroup consultationContact version }
        nationalKpis { code name definition unit version } }"#;
    let lists = app.graphql(q).as_caller(&national_table()).send().await.body;
    json!({"lists": lists, "escalation": app.escalation(escalation).await, "audit": app.audit_entries().await.len()})
}

#[tokio::test]
async fn every_free_text_input_refuses_personal_data_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let (escalation, version) = app.escalation_in_discussion().await;
    let measure = app.add_measure(&escalation, "2027-06-30").await;
    let measure = measure["id"].as_str().expect("measure id").to_owned();
    let network = app.create_network("Eetstoornissen").await["id"].as_str().expect("network id").to_owned();
    let listing = app.create_listing(OFFER_A_HS8, &["utrecht"], None).await["id"].as_str().expect("listing").to_owned();
    app.create_kpi("PD_GUARD").await;
    let raise = |field: &str| {
        let mut input = raise_input("utrecht", &[OFFER_A_CRISIS]);
        input[field] = json!("$t");
        input
    };
    let members = json!([PROVIDER_A.to_string()]);
    // (caller, root field, input field, query, variables with "$t" where the text goes)
    let sites: Vec<(TestCaller, &str, &str, String, Value)> = vec![
        (chair(), "raiseEscalation", "targetGroup", RAISE.to_owned(), json!({"input": raise("targetGroup")})),
        (chair(), "raiseEscalation", "problem", RAISE.to_owned(), json!({"input": raise("problem")})),
        (chair(), "raiseEscalation", "regionTried", RAISE.to_owned(), json!({"input": raise("regionTried")})),
        (
            national_table(),
            "transitionEscalation",
            "note",
            TRANSITION.to_owned(),
            json!({"id": escalation, "v": version, "input": {"to": "DECLINED", "note": "$t", "publicSummary": "Declined.", "declineReason": "Solved."}}),
        ),
        (
            national_table(),
            "transitionEscalation",
            "publicSummary",
            TRANSITION.to_owned(),
            json!({"id": escalation, "v": version, "input": {"to": "DECLINED", "publicSummary": "$t", "declineReason": "Solved."}}),
        ),
        (
            national_table(),
            "transitionEscalation",
            "declineReason",
            TRANSITION.to_owned(),
            json!({"id": escalation, "v": version, "input": {"to": "DECLINED", "publicSummary": "Declined.", "declineReason": "$t"}}),
        ),
        (
            national_table(),
            "addMeasure",
            "title",
            ADD_MEASURE.to_owned(),
            json!({"e": escalation, "input": {"title": "$t", "description": "Shared beds.", "ownerOrganisationId": PROVIDER_A.to_string(), "dueDate": "2027-06-30"}}),
        ),
        (
            national_table(),
            "addMeasure",
            "description",
            ADD_MEASURE.to_owned(),
            json!({"e": escalation, "input": {"title": "Beds", "description": "$t", "ownerOrganisationId": PROVIDER_A.to_string(), "dueDate": "2027-06-30"}}),
        ),
        (
            national_table(),
            "updateMeasure",
            "description",
            UPDATE_MEASURE.to_owned(),
            json!({"id": measure, "v": 1, "input": {"description": "$t"}}),
        ),
        (
            national_table(),
            "updateMeasure",
            "title",
            UPDATE_MEASURE.to_owned(),
            json!({"id": measure, "v": 1, "input": {"title": "$t"}}),
        ),
        (
            national_table(),
            "createSupraRegionalListing",
            "targetGroup",
            CREATE_LISTING.to_owned(),
            json!({"input": {"offerId": OFFER_B_HIC.to_string(), "targetGroup": "$t", "regionsServed": ["amsterdam"], "hs8": false}}),
        ),
        (
            national_table(),
            "updateSupraRegionalListing",
            "targetGroup",
            UPDATE_LISTING.to_owned(),
            json!({"id": listing, "v": 1, "input": {"targetGroup": "$t"}}),
        ),
        (
            national_table(),
            "createExpertiseNetwork",
            "name",
            CREATE_NETWORK.to_owned(),
            json!({"input": {"name": "$t", "targetGroup": "Psychose", "memberOrganisationIds": members, "consultationContact": "Desk"}}),
        ),
        (
            national_table(),
            "updateExpertiseNetwork",
            "targetGroup",
            UPDATE_NETWORK.to_owned(),
            json!({"id": network, "v": 1, "input": {"name": "Eetstoornissen", "targetGroup": "$t", "memberOrganisationIds": members, "consultationContact": "Desk"}}),
        ),
        (
            national_table(),
            "createNationalKpi",
            "definition",
            CREATE_KPI.to_owned(),
            json!({"input": {"code": "PD_OTHER", "name": "Name", "definition": "$t", "unit": "percent", "direction": "HIGHER_IS_BETTER", "targets": []}}),
        ),
        (
            national_table(),
            "updateNationalKpi",
            "name",
            UPDATE_KPI.to_owned(),
            json!({"code": "PD_GUARD", "v": 1, "input": {"name": "$t"}}),
        ),
    ];
    let before = snapshot(&app, &escalation).await;
    for (caller, root, field, query, vars) in &sites {
        for sample in [BSN, BIRTH, EMAIL, PHONE] {
            let vars: Value = serde_json::from_str(&vars.to_string().replace("$t", sample.0)).expect("json");
            let mut call = app.graphql(query);
            for (k, v) in vars.as_object().expect("object") {
                call = call.var(k, v.clone());
            }
            let resp = call.as_caller(caller).send().await;
            resp.expect_personal_data_refused(root, field, sample.0, sample.1);
        }
    }
    assert_eq!(snapshot(&app, &escalation).await, before);
}

#[tokio::test]
async fn consultation_contact_may_hold_the_desks_phone_and_mail_but_no_bsn_or_birth_date() {
    let app = TestApp::spawn().await;
    let contact = "Consultatiedesk, 030-1234567 of 0800-1234, consult@expertisenetwerk.nl (kantooruren)";
    let mut input = network_input("Psychose", &[PROVIDER_A]);
    input["consultationContact"] = json!(contact);
    let resp = app.graphql(CREATE_NETWORK).var("input", input.clone()).as_caller(&national_table()).send().await;
    assert_eq!(resp.data()["createExpertiseNetwork"]["consultationContact"], contact);
    for sample in [BSN, BIRTH] {
        input["consultationContact"] = json!(sample.0);
        let resp = app.graphql(CREATE_NETWORK).var("input", input.clone()).as_caller(&national_table()).send().await;
        resp.expect_personal_data_refused("createExpertiseNetwork", "consultationContact", sample.0, sample.1);
    }
    // Anywhere else the same phone number is refused.
    input["consultationContact"] = json!("Desk");
    input["targetGroup"] = json!(contact);
    let resp = app.graphql(CREATE_NETWORK).var("input", input).as_caller(&national_table()).send().await;
    assert_refused(&resp, "createExpertiseNetwork", "BAD_USER_INPUT");
}

#[tokio::test]
async fn a_megabyte_bad_value_gives_a_short_message() {
    let app = TestApp::spawn().await;
    let huge = "X".repeat(1_000_000);
    let prefix = format!("{:?}…", "X".repeat(40));
    let resp = app
        .graphql(UPDATE_KPI)
        .var("code", &huge)
        .var("v", 1)
        .var("input", json!({"name": "n"}))
        .as_caller(&national_table())
        .send()
        .await;
    assert_refused(&resp, "updateNationalKpi", "BAD_USER_INPUT");
    let msg = resp.expect_error("BAD_USER_INPUT");
    assert!(msg.chars().count() < 140 && msg.ends_with(&prefix), "{msg:.200}");
    let resp = app.graphql(ESCALATION_PUBLIC).var("id", &huge).as_caller(&national_table()).send().await;
    assert!(resp.body.to_string().len() < 2_000, "{:.300}", resp.body.to_string());
    let resp = app
        .graphql(r#"query($r: [_Any!]!) { _entities(representations: $r) { ... on Escalation { id } } }"#)
        .var("r", json!([{"__typename": "Escalation", "id": huge}]))
        .as_caller(&national_table())
        .send()
        .await;
    let msg = resp.body["errors"][0]["message"].as_str().unwrap_or_default().to_owned();
    assert!(msg.chars().count() < 140 && msg.ends_with(&prefix), "{msg:.200}");
}
