//! `signalContractors` (issue 19): the region subgraph asks which insurers contract a care offer,
//! to address a continuity-signal event to them. Which offers an insurer covers is a contract term
//! (competition law): only the region subgraph's own token, with the service scope
//! `signals:audience`, is answered; every organisation is refused whatever scopes it holds.

use ggzhub_kit::OrgKind;
use ggzhub_kit::testing::TestCaller;
use ggzhub_kit::token::scopes;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

const CONTRACTORS: &str =
    "query($o: [ID!]!, $y: Int!) { signalContractors(offerIds: $o, year: $y) { offerId insurerId providerId } }";

/// The region subgraph as it asks: no organisation, only the service scope.
fn region_service() -> TestCaller {
    TestCaller::new(OrgKind::HubOperator, Uuid::nil(), &[]).with_scopes(&[scopes::SIGNALS_AUDIENCE])
}

/// (offer, insurer, provider) triples of an answer, sorted.
fn triples(rows: &Value) -> Vec<(String, String, String)> {
    let mut out: Vec<_> = rows
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
            (s("offerId"), s("insurerId"), s("providerId"))
        })
        .collect();
    out.sort();
    out
}

fn triple(offer: Uuid, insurer: Uuid, provider: Uuid) -> (String, String, String) {
    (offer.to_string(), insurer.to_string(), provider.to_string())
}

async fn ask(app: &TestApp, caller: &TestCaller, offers: &[Uuid], year: i32) -> ggzhub_kit::testing::GraphqlResponse {
    let offers: Vec<String> = offers.iter().map(Uuid::to_string).collect();
    app.graphql(CONTRACTORS).var("o", offers).var("y", year).as_caller(caller).send().await
}

#[tokio::test]
async fn the_region_subgraph_learns_the_insurers_of_agreed_contracts_valid_that_year() {
    let app = TestApp::spawn().await;
    let y = this_year();
    app.agreed_with_p1(&i1(), &[OFFER_P1_CRISIS, OFFER_P1_FACT]).await;
    app.agreed_with_p1(&i2(), &[OFFER_P1_FACT]).await;
    // Not agreed, or terminated: they contract nothing.
    app.proposed(&i3(), P1, terms(&[OFFER_P1_FACT])).await;
    let ended = app.agreed(&i4(), &p1(), terms(&[OFFER_P1_FACT])).await;
    let resp =
        app.act_with_reason(&p1(), "terminateContract", &id_of(&ended), version(&ended), "the unit closes").await;
    assert_eq!(resp.data()["terminateContract"]["status"], "TERMINATED");

    let resp = ask(&app, &region_service(), &[OFFER_P1_FACT, OFFER_P1_CRISIS, OFFER_P1_HIC], y).await;
    assert_eq!(
        triples(&resp.data()["signalContractors"]),
        vec![triple(OFFER_P1_CRISIS, I1, P1), triple(OFFER_P1_FACT, I1, P1), triple(OFFER_P1_FACT, I2, P1)]
    );
    // Valid years only: the contracts run from this year to two years on.
    let resp = ask(&app, &region_service(), &[OFFER_P1_FACT], y + 2).await;
    assert_eq!(triples(&resp.data()["signalContractors"]).len(), 2);
    let resp = ask(&app, &region_service(), &[OFFER_P1_FACT], y + 3).await;
    assert_eq!(resp.data()["signalContractors"], json!([]));
    let resp = ask(&app, &region_service(), &[], y).await;
    assert_eq!(resp.data()["signalContractors"], json!([]));

    // At most 100 offers at once.
    let many: Vec<Uuid> = (0..101).map(|n| Uuid::from_u128(0xf000 + n)).collect();
    ask(&app, &region_service(), &many, y).await.expect_error("BAD_USER_INPUT");
}

#[tokio::test]
async fn no_organisation_learns_which_insurers_contract_an_offer() {
    let app = TestApp::spawn().await;
    app.agreed_with_p1(&i1(), &[OFFER_P1_FACT]).await;
    let every_scope: Vec<&str> = scopes::ALL.to_vec();
    for caller in [p1(), p2(), i1(), i2(), national_table(), operator(), patient_org(), municipality()] {
        for caller in [caller.clone(), caller.with_scopes(&every_scope)] {
            let resp = ask(&app, &caller, &[OFFER_P1_FACT], this_year()).await;
            resp.expect_error("FORBIDDEN");
            assert!(resp.body["data"].is_null(), "{:?}: nothing answered: {:#}", caller.kind, resp.body);
        }
    }
    // The service scope with an organisation's other scopes is the service scope: a token an
    // organisation could hold never carries it (the gateway narrows to the kind's scopes).
    let resp =
        ask(&app, &i2().with_scopes(&[scopes::CONTRACTS_READ, scopes::PICTURE_READ]), &[OFFER_P1_FACT], this_year())
            .await;
    resp.expect_error("FORBIDDEN");
}
