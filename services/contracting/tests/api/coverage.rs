//! `CareOffer.contractCoverage`: an aggregate for the region's providers and insurers and the
//! national table — how many insurers contract the offer this year and, only with at least three
//! insurers behind it, until which year continuity is secured. Never an insurer id, money,
//! volumes or KPIs.

use ggzhub_kit::testing::{GraphqlResponse, TestCaller};
use serde_json::{Value, json};

use crate::helpers::*;

async fn coverage(app: &TestApp, caller: &TestCaller, offer: uuid::Uuid) -> GraphqlResponse {
    app.graphql(COVERAGE).var("r", json!([offer_rep(offer)])).as_caller(caller).send().await
}

async fn coverage_ok(app: &TestApp, caller: &TestCaller, offer: uuid::Uuid) -> Value {
    let resp = coverage(app, caller, offer).await;
    resp.data()["_entities"][0]["contractCoverage"].clone()
}

/// Asserts nothing of any of the contracts (markers, amounts, insurer ids) is in `body`.
#[track_caller]
fn assert_aggregate_only(body: &Value) {
    let text = body.to_string();
    for secret in [
        MARKER.to_owned(),
        "7654321".to_owned(),
        "GAMMA".to_owned(),
        "DELTA".to_owned(),
        "1111111".to_owned(),
        "2222222".to_owned(),
        KPI.to_owned(),
        I1.to_string(),
        I2.to_string(),
        I3.to_string(),
        I4.to_string(),
        "volume".to_owned(),
    ] {
        assert!(!text.contains(&secret), "coverage reveals {secret}: {body:#}");
    }
}

#[tokio::test]
async fn coverage_type_in_the_sdl_has_only_the_aggregate_fields() {
    let app = TestApp::spawn().await;
    let resp = app.graphql("query { _service { sdl } }").as_caller(&i1()).send().await;
    let sdl = resp.data()["_service"]["sdl"].as_str().expect("sdl").to_owned();
    let start = sdl.find("type ContractCoverage").expect("ContractCoverage is defined");
    let body = &sdl[start..start + sdl[start..].find('}').expect("closing brace")];
    let fields: Vec<&str> = body
        .lines()
        .skip(1)
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('"') && l.contains(':'))
        .map(|l| l.split(':').next().expect("name").trim())
        .collect();
    assert_eq!(fields, ["year", "insurerCount", "continuitySecuredUntil"], "{body}");
    assert!(body.contains("insurerCount: Int!") && body.contains("continuitySecuredUntil: Int"), "{body}");
}

#[tokio::test]
async fn continuity_secured_until_shows_only_with_three_insurers_or_more() {
    let app = TestApp::spawn().await;
    let y = this_year();
    let nobody = coverage_ok(&app, &i4(), OFFER_P1_CRISIS).await;
    assert_eq!(nobody, json!({"year": y, "insurerCount": 0, "continuitySecuredUntil": null}));

    // I1 until y+2, I2 until y+4, I3 until y+1: each with terms of its own.
    let contracts = [
        (i1(), terms(&[OFFER_P1_CRISIS])),
        (i2(), with(terms_marked(&[OFFER_P1_CRISIS, OFFER_P1_FACT], "GAMMA", 1_111_111.0), "lastYear", json!(y + 4))),
        (i3(), with(terms_marked(&[OFFER_P1_CRISIS], "DELTA", 2_222_222.0), "lastYear", json!(y + 1))),
    ];
    let expected = [
        json!({"year": y, "insurerCount": 1, "continuitySecuredUntil": null}),
        json!({"year": y, "insurerCount": 2, "continuitySecuredUntil": null}),
        json!({"year": y, "insurerCount": 3, "continuitySecuredUntil": y + 4}),
    ];
    for ((insurer, t), want) in contracts.into_iter().zip(expected) {
        app.agreed(&insurer, &p1(), t).await;
        for (who, caller) in [("I4", i4()), ("I1", i1()), ("P1", p1()), ("national table", national_table())] {
            let resp = coverage(&app, &caller, OFFER_P1_CRISIS).await;
            assert_eq!(resp.data()["_entities"][0]["contractCoverage"], want, "{who}");
            assert_aggregate_only(&resp.body);
        }
    }
    // FACT is covered by I2 only: a count, never the end year.
    assert_eq!(
        coverage_ok(&app, &i1(), OFFER_P1_FACT).await,
        json!({"year": y, "insurerCount": 1, "continuitySecuredUntil": null})
    );
}

#[tokio::test]
async fn drafts_proposals_terminated_and_other_years_do_not_count() {
    let app = TestApp::spawn().await;
    let y = this_year();
    app.create(&i1(), P1, terms(&[OFFER_P1_CRISIS])).await;
    app.proposed(&i2(), P1, terms(&[OFFER_P1_CRISIS])).await;
    let k = app.agreed(&i3(), &p1(), terms(&[OFFER_P1_CRISIS])).await;
    app.act_with_reason(&i3(), "terminateContract", &id_of(&k), version(&k), "merger").await.data();
    // Agreed, but only from next year on.
    let later = with(with(terms(&[OFFER_P1_CRISIS]), "firstYear", json!(y + 1)), "lastYear", json!(y + 3));
    let later = with(later, "kpis", json!([]));
    app.agreed(&i4(), &p1(), later).await;
    assert_eq!(
        coverage_ok(&app, &i1(), OFFER_P1_CRISIS).await,
        json!({"year": y, "insurerCount": 0, "continuitySecuredUntil": null})
    );
}

#[tokio::test]
async fn two_contracts_of_one_insurer_count_once() {
    let app = TestApp::spawn().await;
    app.agreed_with_p1(&i1(), &[OFFER_P1_CRISIS]).await;
    app.agreed_with_p1(&i1(), &[OFFER_P1_CRISIS, OFFER_P1_HIC]).await;
    app.agreed_with_p1(&i2(), &[OFFER_P1_CRISIS]).await;
    let c = coverage_ok(&app, &i3(), OFFER_P1_CRISIS).await;
    assert_eq!(c["insurerCount"], 2);
    assert!(c["continuitySecuredUntil"].is_null(), "two insurers are not enough: {c}");
}

#[tokio::test]
async fn coverage_is_for_region_participants_and_the_national_table_only() {
    let app = TestApp::spawn().await;
    for insurer in [i1(), i2(), i3()] {
        app.agreed_with_p1(&insurer, &[OFFER_P1_CRISIS]).await;
    }
    for (who, caller) in [("P1", p1()), ("I1", i1()), ("I2", i2()), ("I4", i4()), ("national table", national_table())]
    {
        let c = coverage_ok(&app, &caller, OFFER_P1_CRISIS).await;
        assert_eq!(c["insurerCount"], 3, "{who}");
    }
    for (who, caller) in [
        ("patient organisation", patient_org()),
        ("municipality", municipality()),
        ("hub operator", operator()),
        ("insurer I5 (amsterdam)", i5()),
        ("provider P2 (amsterdam)", p2()),
    ] {
        let resp = coverage(&app, &caller, OFFER_P1_CRISIS).await;
        assert_eq!(entity_error_codes(&resp, Some("contractCoverage")), ["FORBIDDEN"], "{who}: {:#}", resp.body);
        assert!(resp.body["data"]["_entities"][0]["contractCoverage"].is_null(), "{who}: {:#}", resp.body);
        assert_aggregate_only(&resp.body);
    }
    // I5 and P2 do see the coverage of the amsterdam offer.
    for caller in [i5(), p2()] {
        assert_eq!(coverage_ok(&app, &caller, OFFER_P2_HIC).await["insurerCount"], 0);
    }
}

#[tokio::test]
async fn coverage_of_an_unknown_offer_is_not_found() {
    let app = TestApp::spawn().await;
    let resp = coverage(&app, &i1(), UNKNOWN_OFFER).await;
    assert_eq!(entity_error_codes(&resp, Some("contractCoverage")), ["NOT_FOUND"], "{:#}", resp.body);
}

#[tokio::test]
async fn coverage_needs_the_region_subgraph() {
    let app = TestApp::spawn_with_owners_down().await;
    let resp = coverage(&app, &i1(), OFFER_P1_CRISIS).await;
    assert_eq!(entity_error_codes(&resp, Some("contractCoverage")), ["SUBGRAPH_UNAVAILABLE"], "{:#}", resp.body);
}
