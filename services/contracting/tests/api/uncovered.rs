//! `uncoveredOffers`: for an insurer, the (not closed) care offers in the regions it takes part in
//! that none of its own agreed contracts covers in a year (default: next year). Everyone else is
//! refused.
//!
//! Other insurers' contracts are deliberately left out (see
//! `another_insurers_agreed_contract_leaves_the_list_unchanged`): asking year by year whether
//! *any* agreed contract covers an offer would reveal the contract period of a single other
//! insurer — a term no insurer may learn (competition law).

use crate::helpers::*;

async fn uncovered(app: &TestApp, caller: &ggzhub_kit::testing::TestCaller, year: Option<i32>) -> Vec<String> {
    let resp = app
        .graphql("query($y: Int) { uncoveredOffers(year: $y) { id } }")
        .var("y", year)
        .as_caller(caller)
        .send()
        .await;
    ids(&resp.data()["uncoveredOffers"])
}

#[tokio::test]
async fn lists_open_offers_in_the_insurers_regions_only() {
    let app = TestApp::spawn().await;
    let utrecht = sorted(&[OFFER_P1_CRISIS, OFFER_P1_FACT, OFFER_P1_HIC]);
    assert_eq!(uncovered(&app, &i1(), None).await, utrecht, "the closed offer and amsterdam's are left out");
    assert_eq!(uncovered(&app, &i5(), None).await, sorted(&[OFFER_P2_HIC]));
    let both = ggzhub_kit::testing::TestCaller::new(ggzhub_kit::OrgKind::Insurer, I4, &["utrecht", "amsterdam"]);
    assert_eq!(
        uncovered(&app, &both, None).await,
        sorted(&[OFFER_P1_CRISIS, OFFER_P1_FACT, OFFER_P1_HIC, OFFER_P2_HIC])
    );
}

#[tokio::test]
async fn own_agreed_contract_covers_an_offer_in_its_years_only() {
    let app = TestApp::spawn().await;
    let y = this_year();
    app.agreed_with_p1(&i1(), &[OFFER_P1_CRISIS]).await;
    // Drafts and proposals do not cover anything.
    app.create(&i1(), P1, terms(&[OFFER_P1_FACT])).await;
    app.proposed(&i1(), P1, terms(&[OFFER_P1_HIC])).await;
    let rest = sorted(&[OFFER_P1_FACT, OFFER_P1_HIC]);
    assert_eq!(uncovered(&app, &i1(), None).await, rest, "next year is covered");
    assert_eq!(uncovered(&app, &i1(), Some(y + 2)).await, rest);
    assert_eq!(
        uncovered(&app, &i1(), Some(y + 3)).await,
        sorted(&[OFFER_P1_CRISIS, OFFER_P1_FACT, OFFER_P1_HIC]),
        "the contract ends the year before"
    );
}

#[tokio::test]
async fn terminated_contract_no_longer_covers() {
    let app = TestApp::spawn().await;
    let k = app.agreed(&i1(), &p1(), terms(&[OFFER_P1_CRISIS])).await;
    app.act_with_reason(&i1(), "terminateContract", &id_of(&k), version(&k), "ended").await.data();
    assert_eq!(uncovered(&app, &i1(), None).await, sorted(&[OFFER_P1_CRISIS, OFFER_P1_FACT, OFFER_P1_HIC]));
}

#[tokio::test]
async fn another_insurers_agreed_contract_leaves_the_list_unchanged() {
    // If I2's list dropped offers that I1 covers, I2 could ask year after year and read off the
    // last year of I1's contract: the list is the insurer's own purchasing view, the market-wide
    // picture is `contractCoverage` (a count for this year, an end year only with ≥ 3 insurers).
    let app = TestApp::spawn().await;
    let y = this_year();
    app.agreed_with_p1(&i1(), &[OFFER_P1_CRISIS]).await;
    let all = sorted(&[OFFER_P1_CRISIS, OFFER_P1_FACT, OFFER_P1_HIC]);
    for year in [y, y + 1, y + 2, y + 3] {
        assert_eq!(uncovered(&app, &i2(), Some(year)).await, all, "{year}");
    }
    assert_eq!(uncovered(&app, &i1(), Some(y + 1)).await, sorted(&[OFFER_P1_FACT, OFFER_P1_HIC]));
}

#[tokio::test]
async fn only_insurers_see_uncovered_offers() {
    let app = TestApp::spawn().await;
    for (who, caller) in [
        ("provider", p1()),
        ("patient organisation", patient_org()),
        ("municipality", municipality()),
        ("national table", national_table()),
        ("hub operator", operator()),
        ("insurer without picture:read", i1().with_scopes(&["contracts:read"])),
    ] {
        let resp = app.graphql("query { uncoveredOffers { id } }").as_caller(&caller).send().await;
        assert_refused(&resp, "uncoveredOffers", "FORBIDDEN");
        assert_eq!(resp.error_codes(), ["FORBIDDEN"], "{who}");
    }
}

#[tokio::test]
async fn refuses_a_year_out_of_range() {
    let app = TestApp::spawn().await;
    for year in [2019, 2101] {
        let resp = app
            .graphql("query($y: Int) { uncoveredOffers(year: $y) { id } }")
            .var("y", year)
            .as_caller(&i1())
            .send()
            .await;
        assert_refused(&resp, "uncoveredOffers", "BAD_USER_INPUT");
    }
}
