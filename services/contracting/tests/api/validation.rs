//! Bad input: contract periods, KPI targets, guarantees, offer lists, text lengths, paging
//! arguments and reasons are checked before anything is stored or changed; every refusal is
//! `BAD_USER_INPUT` naming the bad value.

use ggzhub_contracting::entity::contract;
use serde_json::{Value, json};

use crate::helpers::*;

fn bad_terms() -> Vec<(&'static str, Value)> {
    let y = this_year();
    let t = || terms(&[OFFER_P1_CRISIS]);
    let kpi = |targets: Value| json!([{"kpiCode": KPI, "targets": targets}]);
    let many: Vec<String> = (0..101).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    vec![
        ("first year before 2020", with(t(), "firstYear", json!(2019))),
        ("last year after 2100", with(with(t(), "firstYear", json!(2099)), "lastYear", json!(2101))),
        ("last year before first", with(t(), "lastYear", json!(y - 1))),
        ("twelve years", with(with(t(), "kpis", json!([])), "lastYear", json!(y + 11))),
        ("KPI target before the contract", with(t(), "kpis", kpi(json!([{"year": y - 1, "value": 1.0}])))),
        ("KPI target after the contract", with(t(), "kpis", kpi(json!([{"year": y + 3, "value": 1.0}])))),
        (
            "KPI target year twice",
            with(t(), "kpis", kpi(json!([{"year": y, "value": 1.0}, {"year": y, "value": 2.0}]))),
        ),
        (
            "duplicate KPI",
            with(
                t(),
                "kpis",
                json!([{"kpiCode": KPI, "targets": []}, {"kpiCode": KPI, "targets": [{"year": y, "value": 1.0}]}]),
            ),
        ),
        ("negative guarantee", with(t(), "guarantee", json!({"amountEur": -1.0, "description": "d"}))),
        ("guarantee of 1e13", with(t(), "guarantee", json!({"amountEur": 1e13, "description": "d"}))),
        ("no offers", with(t(), "coveredOfferIds", json!([]))),
        ("101 offers", with(t(), "coveredOfferIds", json!(many))),
        ("offer id not a UUID", with(t(), "coveredOfferIds", json!(["offer-1"]))),
        ("oversize notes", with(t(), "notes", json!("x".repeat(8001)))),
        ("oversize volume", with(t(), "volumeAgreement", json!("x".repeat(2001)))),
        ("control characters in notes", with(t(), "notes", json!("a\u{0007}b"))),
        ("evaluation outside the contract", with(t(), "evaluationMoments", json!([format!("{}-01-01", y + 5)]))),
    ]
}

#[tokio::test]
async fn refuses_bad_terms_on_create_and_stores_nothing() {
    let app = TestApp::spawn().await;
    for (what, t) in bad_terms() {
        let resp = app.try_create(&i1(), P1, t).await;
        assert_refused(&resp, "createContract", "BAD_USER_INPUT");
        assert_eq!(resp.error_codes(), ["BAD_USER_INPUT"], "{what}: {:#}", resp.body);
    }
    let resp = app.try_create(&i1(), "not-a-uuid", terms(&[OFFER_P1_CRISIS])).await;
    assert_refused(&resp, "createContract", "BAD_USER_INPUT");
    assert_eq!(app.count::<contract::Entity>().await, 0);
    assert!(app.audit_entries().await.is_empty());
}

#[tokio::test]
async fn accepts_the_edges_of_the_valid_ranges() {
    let app = TestApp::spawn().await;
    let y = this_year();
    let eleven_years = with(with(terms(&[OFFER_P1_CRISIS]), "lastYear", json!(y + 10)), "kpis", json!([]));
    let k = app.create(&i1(), P1, eleven_years).await;
    assert_eq!(k["lastYear"], y + 10);
    let zero = with(terms(&[OFFER_P1_CRISIS]), "guarantee", json!({"amountEur": 0.0, "description": ""}));
    app.create(&i1(), P1, zero).await;
    let max = with(terms(&[OFFER_P1_CRISIS]), "guarantee", json!({"amountEur": 1e12, "description": "max"}));
    app.create(&i1(), P1, max).await;
    let none = with(terms(&[OFFER_P1_CRISIS]), "guarantee", json!({"amountEur": null, "description": "in kind"}));
    app.create(&i1(), P1, none).await;
    // The same offer twice counts once.
    let twice = terms(&[OFFER_P1_CRISIS, OFFER_P1_CRISIS]);
    let k = app.create(&i1(), P1, twice).await;
    assert_eq!(k["terms"]["coveredOfferIds"], json!([OFFER_P1_CRISIS.to_string()]));
}

#[tokio::test]
async fn refuses_bad_terms_in_drafts_and_amendments_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let draft = app.create(&i1(), P1, terms(&[OFFER_P1_CRISIS])).await;
    let agreed = app.agreed(&i1(), &p1(), terms(&[OFFER_P1_FACT])).await;
    let before = app.contract_rows().await;
    for (what, t) in bad_terms() {
        let resp =
            app.graphql(UPDATE_DRAFT).var("id", id_of(&draft)).var("v", 1).var("t", &t).as_caller(&i1()).send().await;
        assert_eq!(resp.error_codes(), ["BAD_USER_INPUT"], "draft, {what}: {:#}", resp.body);
        let resp = app.propose_amendment(&i1(), &id_of(&agreed), version(&agreed), t).await;
        assert_eq!(resp.error_codes(), ["BAD_USER_INPUT"], "amendment, {what}: {:#}", resp.body);
    }
    assert_eq!(app.contract_rows().await, before);
}

#[tokio::test]
async fn refuses_empty_or_oversize_reasons() {
    let app = TestApp::spawn().await;
    let proposed = app.proposed(&i1(), P1, terms(&[OFFER_P1_CRISIS])).await;
    let agreed = app.agreed(&i1(), &p1(), terms(&[OFFER_P1_FACT])).await;
    let resp = app.propose_amendment(&i1(), &id_of(&agreed), version(&agreed), terms(&[OFFER_P1_HIC])).await;
    let amended = resp.data()["proposeAmendment"].clone();
    let before = app.contract_rows().await;
    let long = "x".repeat(8001);
    for reason in ["", "   ", long.as_str()] {
        for (caller, field, k) in [
            (p1(), "returnContract", &proposed),
            (i1(), "terminateContract", &amended),
            (p1(), "terminateContract", &amended),
            (p1(), "rejectAmendment", &amended),
        ] {
            let resp = app.act_with_reason(&caller, field, &id_of(k), version(k), reason).await;
            assert_refused(&resp, field, "BAD_USER_INPUT");
        }
    }
    assert_eq!(app.contract_rows().await, before);
}

#[tokio::test]
async fn refuses_bad_paging_arguments() {
    let app = TestApp::spawn().await;
    for args in ["first: 0", "first: 101", "first: -1", r#"after: "!!not-a-cursor""#, r#"after: """#] {
        let resp =
            app.graphql(&format!("query {{ contracts({args}) {{ nodes {{ id }} }} }}")).as_caller(&i1()).send().await;
        assert_refused(&resp, "contracts", "BAD_USER_INPUT");
    }
    let resp = app.graphql("query { contracts(first: 100) { nodes { id } } }").as_caller(&i1()).send().await;
    assert_eq!(resp.data()["contracts"]["nodes"], json!([]));
}

#[tokio::test]
async fn refuses_a_malformed_request() {
    let app = TestApp::spawn().await;
    let resp = app.graphql("query { contracts(status: SIGNED) { nodes { id } } }").as_caller(&i1()).send().await;
    assert_eq!(resp.error_codes(), ["BAD_USER_INPUT"], "{:#}", resp.body);
    let resp = app.graphql("query { contract { id } }").as_caller(&i1()).send().await;
    assert_eq!(resp.error_codes(), ["BAD_USER_INPUT"], "{:#}", resp.body);
}
