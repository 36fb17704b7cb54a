//! `CareOffer.contractCoverage`: an aggregate for the region's providers and insurers and the
//! national table — how many insurers *other than the caller* contract the offer this year and
//! until which year continuity is secured, shown only with at least three of them behind it
//! (below that one band for 0, 1 and 2); the offer's own provider reads the figures of its own
//! contracts. Never an insurer id, money, volumes or KPIs. The attacks of issue 13: two insurers
//! at a table, an insurer joining as the third, polling across an agreement and a termination.

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
        "EPSILON".to_owned(),
        "3333333".to_owned(),
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
        .filter_map(|l| l.split_once(':').map(|(name, _)| name))
        .filter(|name| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()))
        .collect();
    assert_eq!(fields, ["year", "band", "otherInsurers", "continuitySecuredUntil"], "{body}");
    assert!(body.contains("band: CoverageBand!") && body.contains("otherInsurers: Int\n"), "{body}");
    assert!(sdl.contains("enum CoverageBand"), "{sdl}");
}

#[tokio::test]
async fn two_insurers_at_a_table_read_nothing_of_each_others_coverage() {
    let app = TestApp::spawn().await;
    // I2 contracts nothing, then I1 contracts the offer, then I3: I2 reads the same band each
    // time — 0, 1 and 2 other insurers are not told apart.
    let before = coverage(&app, &i2(), OFFER_P1_CRISIS).await;
    assert_eq!(before.data()["_entities"][0]["contractCoverage"], banded());
    app.agreed_with_p1(&i1(), &[OFFER_P1_CRISIS]).await;
    let one = coverage(&app, &i2(), OFFER_P1_CRISIS).await;
    assert_eq!(one.body, before.body, "one competitor's contract shows");
    app.agreed(&i3(), &p1(), terms_marked(&[OFFER_P1_CRISIS], "GAMMA", 1_111_111.0)).await;
    let two = coverage(&app, &i2(), OFFER_P1_CRISIS).await;
    assert_eq!(two.body, before.body, "two competitors' contracts show");
    assert_aggregate_only(&two.body);
    // Its own contract does not change what it reads either.
    app.agreed_with_p1(&i2(), &[OFFER_P1_CRISIS]).await;
    assert_eq!(coverage(&app, &i2(), OFFER_P1_CRISIS).await.body, before.body);
    // Nor, for a provider of another offer at the table or the national table, do two insurers.
    app.agreed_with_p1(&i2(), &[OFFER_P1_FACT]).await;
    for (who, caller) in [("I1", i1()), ("I4", i4()), ("national table", national_table())] {
        assert_eq!(coverage_ok(&app, &caller, OFFER_P1_FACT).await, banded(), "{who}");
    }
}

#[tokio::test]
async fn an_insurer_joining_as_the_third_reads_no_figure_of_the_other_two() {
    let app = TestApp::spawn().await;
    let y = this_year();
    // I1 until y+2 and I3 until y+4 (terms of their own), then I2 joins until y+1.
    app.agreed_with_p1(&i1(), &[OFFER_P1_CRISIS]).await;
    let t3 = with(terms_marked(&[OFFER_P1_CRISIS], "GAMMA", 1_111_111.0), "lastYear", json!(y + 4));
    app.agreed(&i3(), &p1(), t3).await;
    let t2 = with(terms_marked(&[OFFER_P1_CRISIS], "DELTA", 2_222_222.0), "lastYear", json!(y + 1));
    app.agreed(&i2(), &p1(), t2).await;
    // Three insurers contract it, but each of them sees only two others: no end year, no count.
    for (who, caller) in [("I1", i1()), ("I2", i2()), ("I3", i3())] {
        let resp = coverage(&app, &caller, OFFER_P1_CRISIS).await;
        assert_eq!(resp.data()["_entities"][0]["contractCoverage"], banded(), "{who}");
        assert_aggregate_only(&resp.body);
    }
    // Those who contract none of them see the three.
    for (who, caller) in [("I4", i4()), ("national table", national_table())] {
        assert_eq!(coverage_ok(&app, &caller, OFFER_P1_CRISIS).await, exact(3, Some(y + 4)), "{who}");
    }
    // With I4 as a fourth, each insurer's figures are those of the three others, never its own.
    let t4 = with(terms_marked(&[OFFER_P1_CRISIS], "EPSILON", 3_333_333.0), "lastYear", json!(y + 6));
    let t4 = with(t4, "kpis", json!([]));
    app.agreed(&i4(), &p1(), t4).await;
    for (who, caller, until) in [("I1", i1(), y + 6), ("I2", i2(), y + 6), ("I3", i3(), y + 6), ("I4", i4(), y + 4)] {
        assert_eq!(coverage_ok(&app, &caller, OFFER_P1_CRISIS).await, exact(3, Some(until)), "{who}");
    }
    assert_eq!(coverage_ok(&app, &national_table(), OFFER_P1_CRISIS).await, exact(4, Some(y + 6)));
}

#[tokio::test]
async fn polling_across_an_agreement_and_a_termination_shows_nothing() {
    let app = TestApp::spawn().await;
    let app_ref = &app;
    let poll = || async move { coverage(app_ref, &i2(), OFFER_P1_CRISIS).await.body };
    let first = poll().await;
    assert_eq!(first["data"]["_entities"][0]["contractCoverage"], banded());
    let k = app.proposed(&i1(), P1, terms(&[OFFER_P1_CRISIS])).await;
    assert_eq!(poll().await, first, "a proposal shows");
    let k = app.act_ok(&p1(), "agreeContract", &id_of(&k), version(&k)).await;
    assert_eq!(poll().await, first, "the agreement shows");
    for (who, caller) in [("I4", i4()), ("national table", national_table()), ("P2", p2())] {
        let resp = coverage(&app, &caller, OFFER_P1_CRISIS).await;
        if who == "P2" {
            // Another region's provider may not read it at all.
            assert_eq!(entity_error_codes(&resp, Some("contractCoverage")), ["FORBIDDEN"]);
        } else {
            assert_eq!(resp.data()["_entities"][0]["contractCoverage"], banded(), "{who}");
        }
    }
    let k = app.act_with_reason(&i1(), "terminateContract", &id_of(&k), version(&k), "merger").await;
    assert_eq!(k.data()["terminateContract"]["status"], "TERMINATED");
    assert_eq!(poll().await, first, "the termination shows");
}

#[tokio::test]
async fn the_offers_provider_reads_the_exact_figures_of_its_own_contracts() {
    let app = TestApp::spawn().await;
    let y = this_year();
    assert_eq!(coverage_ok(&app, &p1(), OFFER_P1_CRISIS).await, exact(0, None));
    app.agreed_with_p1(&i1(), &[OFFER_P1_CRISIS]).await;
    assert_eq!(coverage_ok(&app, &p1(), OFFER_P1_CRISIS).await, exact(1, Some(y + 2)));
    let t2 = with(terms_marked(&[OFFER_P1_CRISIS], "GAMMA", 1_111_111.0), "lastYear", json!(y + 4));
    app.agreed(&i2(), &p1(), t2).await;
    let resp = coverage(&app, &p1(), OFFER_P1_CRISIS).await;
    assert_eq!(resp.data()["_entities"][0]["contractCoverage"], exact(2, Some(y + 4)));
    assert_aggregate_only(&resp.body);
    // The same on async-graphql's usual path (the offer and its coverage above are answered
    // from their `LeafFields`), for a reader of the figures and for one refused.
    for caller in [p1(), p2()] {
        // Offers answered as a whole on the plain path (their coverage within them).
        let count = || ggzhub_kit::leaf::plain_answers("CareOffer").expect("tests are built with debug assertions");
        let before = count();
        let plain = coverage(&app, &caller, OFFER_P1_CRISIS).await;
        let answered = count() - before;
        ggzhub_kit::leaf::set_plain_path(false);
        let before = count();
        let usual = coverage(&app, &caller, OFFER_P1_CRISIS).await;
        assert_eq!(count(), before, "nothing on the plain path while it is off");
        ggzhub_kit::leaf::set_plain_path(true);
        assert_eq!(plain.body, usual.body);
        if caller.org == p1().org {
            assert!(answered >= 1, "the offer on the plain path");
        } else {
            assert_eq!(entity_error_codes(&plain, Some("contractCoverage")), ["FORBIDDEN"]);
        }
    }
    // What it reads is what its own contracts say.
    let own = app.listed(&p1(), Some("AGREED")).await;
    assert_eq!(own.len(), 2);
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
    assert_eq!(coverage_ok(&app, &p1(), OFFER_P1_CRISIS).await, exact(0, None));
}

#[tokio::test]
async fn two_contracts_of_one_insurer_count_once() {
    let app = TestApp::spawn().await;
    app.agreed_with_p1(&i1(), &[OFFER_P1_CRISIS]).await;
    app.agreed_with_p1(&i1(), &[OFFER_P1_CRISIS, OFFER_P1_HIC]).await;
    app.agreed_with_p1(&i2(), &[OFFER_P1_CRISIS]).await;
    assert_eq!(coverage_ok(&app, &p1(), OFFER_P1_CRISIS).await["otherInsurers"], 2);
    assert_eq!(coverage_ok(&app, &i3(), OFFER_P1_CRISIS).await, banded(), "two insurers are not enough");
    app.agreed_with_p1(&i3(), &[OFFER_P1_CRISIS]).await;
    assert_eq!(coverage_ok(&app, &i4(), OFFER_P1_CRISIS).await, exact(3, Some(this_year() + 2)));
}

#[tokio::test]
async fn coverage_is_for_region_participants_and_the_national_table_only() {
    let app = TestApp::spawn().await;
    for insurer in [i1(), i2(), i3()] {
        app.agreed_with_p1(&insurer, &[OFFER_P1_CRISIS]).await;
    }
    for (who, caller, want) in [
        ("P1", p1(), exact(3, Some(this_year() + 2))),
        ("I1", i1(), banded()),
        ("I4", i4(), exact(3, Some(this_year() + 2))),
        ("national table", national_table(), exact(3, Some(this_year() + 2))),
    ] {
        assert_eq!(coverage_ok(&app, &caller, OFFER_P1_CRISIS).await, want, "{who}");
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
    // P2 reads its own amsterdam offer exactly; I5 reads it banded.
    assert_eq!(coverage_ok(&app, &p2(), OFFER_P2_HIC).await, exact(0, None));
    assert_eq!(coverage_ok(&app, &i5(), OFFER_P2_HIC).await, banded());
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

/// The representation as the gateway sends it for `contractCoverage`'s `@requires`: the offer's
/// region and provider, read from the region subgraph in the fetch that found the offer.
fn placed_rep(offer: uuid::Uuid, region: &str, provider: uuid::Uuid) -> Value {
    json!({"__typename": "CareOffer", "id": offer.to_string(), "region": {"code": region}, "provider": {"id": provider.to_string()}})
}

/// Issue 18: with the place in the representation (`@requires(fields: "region { code } provider
/// { id }")`), contracting answers without asking the region subgraph, and the access rules apply
/// to that place for an offer no contract covers; for an offer under contract, contracting's own
/// record of its place decides, whatever the representation says.
#[tokio::test]
async fn coverage_with_the_place_the_gateway_sends_asks_the_region_subgraph_nothing() {
    let app = TestApp::spawn().await;
    for insurer in [i1(), i2(), i3()] {
        app.agreed_with_p1(&insurer, &[OFFER_P1_CRISIS]).await;
    }
    let asked_before = app.region().request_count();
    let ask = |caller: TestCaller, rep: Value| {
        let app = &app;
        async move { app.graphql(COVERAGE).var("r", json!([rep])).as_caller(&caller).send().await }
    };
    let placed = placed_rep(OFFER_P1_CRISIS, "utrecht", P1);
    for (who, caller, want) in [
        ("P1", p1(), exact(3, Some(this_year() + 2))),
        ("I1", i1(), banded()),
        ("I4", i4(), exact(3, Some(this_year() + 2))),
        ("national table", national_table(), exact(3, Some(this_year() + 2))),
    ] {
        let resp = ask(caller, placed.clone()).await;
        assert_eq!(resp.data()["_entities"][0]["contractCoverage"], want, "{who}: {:#}", resp.body);
    }
    for (who, caller) in
        [("insurer I5 (amsterdam)", i5()), ("provider P2 (amsterdam)", p2()), ("hub operator", operator())]
    {
        let resp = ask(caller, placed.clone()).await;
        assert_eq!(entity_error_codes(&resp, Some("contractCoverage")), ["FORBIDDEN"], "{who}: {:#}", resp.body);
        assert_aggregate_only(&resp.body);
    }
    // The offer under contract said to be in amsterdam and P2's: contracting's record (utrecht,
    // P1) decides, so I5 still may not read it, I1 still reads the band and P2 no figure.
    let misplaced = placed_rep(OFFER_P1_CRISIS, "amsterdam", P2);
    let resp = ask(i5(), misplaced.clone()).await;
    assert_eq!(entity_error_codes(&resp, Some("contractCoverage")), ["FORBIDDEN"], "{:#}", resp.body);
    assert_eq!(ask(i1(), misplaced.clone()).await.data()["_entities"][0]["contractCoverage"], banded());
    let resp = ask(p2(), misplaced).await;
    assert_eq!(entity_error_codes(&resp, Some("contractCoverage")), ["FORBIDDEN"], "{:#}", resp.body);
    // An offer no contract covers: the place given decides (its provider reads its exact zero).
    let uncovered = placed_rep(OFFER_P1_FACT, "utrecht", P1);
    assert_eq!(ask(p1(), uncovered.clone()).await.data()["_entities"][0]["contractCoverage"], exact(0, None));
    assert_eq!(ask(i1(), uncovered).await.data()["_entities"][0]["contractCoverage"], banded());
    assert_eq!(app.region().request_count(), asked_before, "the region subgraph was asked nothing");
    // Without a place, an offer no contract covers is looked up: one request.
    assert_eq!(coverage_ok(&app, &i4(), OFFER_P1_FACT).await, banded());
    assert_eq!(app.region().request_count(), asked_before + 1);
}

/// A representation whose place is missing or malformed is looked up in the region subgraph as
/// before (here unreachable: `SUBGRAPH_UNAVAILABLE`), never taken as given.
#[tokio::test]
async fn a_representation_without_a_usable_place_is_looked_up() {
    let app = TestApp::spawn_with_owners_down().await;
    for rep in [
        offer_rep(OFFER_P1_CRISIS),
        json!({"__typename": "CareOffer", "id": OFFER_P1_CRISIS.to_string(), "region": {"code": "utrecht"}}),
        json!({"__typename": "CareOffer", "id": OFFER_P1_CRISIS.to_string(), "region": {"code": "Not A Region!"}, "provider": {"id": P1.to_string()}}),
        json!({"__typename": "CareOffer", "id": OFFER_P1_CRISIS.to_string(), "region": "utrecht", "provider": {"id": P1.to_string()}}),
        json!({"__typename": "CareOffer", "id": OFFER_P1_CRISIS.to_string(), "region": {"code": "utrecht"}, "provider": {"id": 7}}),
        json!({"__typename": "CareOffer", "id": OFFER_P1_CRISIS.to_string(), "region": {"code": "utrecht"}, "provider": {"id": "not-a-uuid"}}),
    ] {
        let resp = app.graphql(COVERAGE).var("r", json!([rep])).as_caller(&i1()).send().await;
        assert_eq!(
            entity_error_codes(&resp, Some("contractCoverage")),
            ["SUBGRAPH_UNAVAILABLE"],
            "{rep}: {:#}",
            resp.body
        );
    }
}

/// A covered offer whose place contracting never recorded (contracts older than `offer_places`,
/// a seed without places) is looked up in the region subgraph: a place in the representation
/// never decides who reads the figures of an offer under contract.
#[tokio::test]
async fn a_covered_offer_without_a_recorded_place_is_looked_up_whatever_the_representation_says() {
    use sea_orm::EntityTrait as _;
    let app = TestApp::spawn().await;
    for insurer in [i1(), i2(), i3()] {
        app.agreed_with_p1(&insurer, &[OFFER_P1_CRISIS]).await;
    }
    let removed =
        ggzhub_contracting::entity::offer_place::Entity::delete_many().exec(&app.db.db).await.expect("delete");
    assert!(removed.rows_affected >= 1, "the offer's place was recorded");
    let asked_before = app.region().request_count();
    let misplaced = json!([placed_rep(OFFER_P1_CRISIS, "amsterdam", P2)]);
    let resp = app.graphql(COVERAGE).var("r", misplaced.clone()).as_caller(&i5()).send().await;
    assert_eq!(entity_error_codes(&resp, Some("contractCoverage")), ["FORBIDDEN"], "{:#}", resp.body);
    assert_aggregate_only(&resp.body);
    assert_eq!(app.region().request_count(), asked_before + 1, "looked up in the region subgraph");
    let resp = app.graphql(COVERAGE).var("r", misplaced).as_caller(&i4()).send().await;
    assert_eq!(resp.data()["_entities"][0]["contractCoverage"], exact(3, Some(this_year() + 2)));
}
