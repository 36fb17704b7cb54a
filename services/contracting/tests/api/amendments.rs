//! Amendments: the insurer proposes new terms for an agreed contract, the provider agrees (the
//! terms version goes up, the old terms are kept in the history) or rejects them with a reason
//! (the terms stay). One amendment at a time.

use serde_json::json;

use crate::helpers::*;

/// New terms: one more year, other volume and guarantee, only the crisis service.
fn amended() -> serde_json::Value {
    let t = terms_marked(&[OFFER_P1_CRISIS], "AMENDED", 999.0);
    with(t, "lastYear", json!(this_year() + 3))
}

#[tokio::test]
async fn agreed_amendment_becomes_the_terms_and_keeps_version_one_in_the_history() {
    let app = TestApp::spawn().await;
    let k = app.agreed(&i1(), &p1(), terms(&[OFFER_P1_CRISIS, OFFER_P1_FACT])).await;
    let id = id_of(&k);
    let resp = app.propose_amendment(&i1(), &id, version(&k), amended()).await;
    let p = &resp.data()["proposeAmendment"];
    assert_eq!((p["status"].as_str(), p["termsVersion"].as_i64()), (Some("AGREED"), Some(1)));
    assert_eq!(p["pendingAmendment"]["lastYear"], this_year() + 3);
    // Both parties see the pending amendment; the current terms are unchanged.
    for caller in [i1(), p1()] {
        let seen = app.contract_as(&caller, &id).await;
        assert_eq!(seen["pendingAmendment"]["guarantee"]["amountEur"], 999.0);
        assert_eq!(seen["terms"]["guarantee"]["amountEur"], AMOUNT);
        assert_eq!(seen["lastYear"], this_year() + 2);
    }

    let a = app.act_ok(&p1(), "agreeAmendment", &id, version(p)).await;
    assert_eq!(a["termsVersion"], 2);
    assert_eq!(a["status"], "AGREED");
    assert!(a["pendingAmendment"].is_null());
    assert_eq!(a["lastYear"], this_year() + 3);
    assert_eq!(a["terms"]["guarantee"]["amountEur"], 999.0);
    assert_eq!(a["terms"]["coveredOfferIds"], json!([OFFER_P1_CRISIS.to_string()]));
    assert_eq!(a["history"].as_array().map(Vec::len), Some(1));
    assert_eq!(a["history"][0]["termsVersion"], 1);
    assert_eq!(a["history"][0]["terms"]["guarantee"]["amountEur"], AMOUNT);
    assert!(a["history"][0]["terms"]["volumeAgreement"].as_str().is_some_and(|v| v.starts_with(MARKER)));
    assert_eq!(app.contract_as(&i1(), &id).await, app.contract_as(&p1(), &id).await);

    // Coverage follows the new terms: FACT is no longer covered (as its provider reads it).
    let resp = app.graphql(COVERAGE).var("r", json!([offer_rep(OFFER_P1_FACT)])).as_caller(&p1()).send().await;
    assert_eq!(resp.data()["_entities"][0]["contractCoverage"], exact(0, None));

    // A second amendment adds a second history entry.
    let resp = app.propose_amendment(&i1(), &id, version(&a), terms(&[OFFER_P1_HIC])).await;
    let v = version(&resp.data()["proposeAmendment"]);
    let a = app.act_ok(&p1(), "agreeAmendment", &id, v).await;
    assert_eq!(a["termsVersion"], 3);
    let versions: Vec<i64> =
        a["history"].as_array().expect("history").iter().filter_map(|h| h["termsVersion"].as_i64()).collect();
    assert_eq!(versions, [1, 2]);
}

#[tokio::test]
async fn rejected_amendment_keeps_the_terms_and_records_the_rejection() {
    let app = TestApp::spawn().await;
    let k = app.agreed(&i1(), &p1(), terms(&[OFFER_P1_CRISIS])).await;
    let id = id_of(&k);
    let resp = app.propose_amendment(&i1(), &id, version(&k), amended()).await;
    let v = version(&resp.data()["proposeAmendment"]);
    let reason = "The lower guarantee does not cover the crisis beds.";
    let resp = app.act_with_reason(&p1(), "rejectAmendment", &id, v, reason).await;
    let r = &resp.data()["rejectAmendment"];
    assert_eq!(r["termsVersion"], 1);
    assert!(r["pendingAmendment"].is_null());
    assert_eq!(r["terms"]["guarantee"]["amountEur"], AMOUNT);
    assert_eq!(r["history"], json!([]));
    for caller in [i1(), p1()] {
        assert_eq!(app.contract_as(&caller, &id).await["amendmentRejection"], reason);
    }
    // A new proposal clears the old rejection.
    let resp = app.propose_amendment(&i1(), &id, version(r), amended()).await;
    resp.data();
    assert!(app.contract_as(&p1(), &id).await["amendmentRejection"].is_null());
}

#[tokio::test]
async fn a_second_pending_amendment_is_refused() {
    let app = TestApp::spawn().await;
    let k = app.agreed(&i1(), &p1(), terms(&[OFFER_P1_CRISIS])).await;
    let id = id_of(&k);
    let resp = app.propose_amendment(&i1(), &id, version(&k), amended()).await;
    let v = version(&resp.data()["proposeAmendment"]);
    let before = app.contract_rows().await;
    let resp = app.propose_amendment(&i1(), &id, v, terms(&[OFFER_P1_HIC])).await;
    assert_refused(&resp, "proposeAmendment", "BAD_USER_INPUT");
    assert_eq!(app.contract_rows().await, before);
    assert_eq!(app.contract_as(&p1(), &id).await["pendingAmendment"]["guarantee"]["amountEur"], 999.0);
}

#[tokio::test]
async fn only_the_provider_answers_an_amendment_and_only_the_insurer_proposes_one() {
    let app = TestApp::spawn().await;
    let k = app.agreed(&i1(), &p1(), terms(&[OFFER_P1_CRISIS])).await;
    let id = id_of(&k);
    let resp = app.propose_amendment(&p1(), &id, version(&k), amended()).await;
    assert_refused(&resp, "proposeAmendment", "FORBIDDEN");
    let resp = app.propose_amendment(&i1(), &id, version(&k), amended()).await;
    let v = version(&resp.data()["proposeAmendment"]);
    let before = app.contract_rows().await;
    let resp = app.act(&i1(), "agreeAmendment", &id, v).await;
    assert_refused(&resp, "agreeAmendment", "FORBIDDEN");
    let resp = app.act_with_reason(&i1(), "rejectAmendment", &id, v, "no").await;
    assert_refused(&resp, "rejectAmendment", "FORBIDDEN");
    assert_eq!(app.contract_rows().await, before);
}

#[tokio::test]
async fn terminating_drops_a_pending_amendment() {
    let app = TestApp::spawn().await;
    let k = app.agreed(&i1(), &p1(), terms(&[OFFER_P1_CRISIS])).await;
    let id = id_of(&k);
    let resp = app.propose_amendment(&i1(), &id, version(&k), amended()).await;
    let v = version(&resp.data()["proposeAmendment"]);
    let resp = app.act_with_reason(&p1(), "terminateContract", &id, v, "the unit closes").await;
    let t = &resp.data()["terminateContract"];
    assert_eq!(t["status"], "TERMINATED");
    assert!(t["pendingAmendment"].is_null());
    let resp = app.act(&p1(), "agreeAmendment", &id, version(t)).await;
    assert_refused(&resp, "agreeAmendment", "BAD_USER_INPUT");
}
