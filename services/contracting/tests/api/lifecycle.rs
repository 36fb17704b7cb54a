//! The contract lifecycle: the insurer drafts and proposes, the provider agrees or sends it back
//! with a reason, either party terminates an agreed contract with a reason; every other move is
//! refused and changes nothing.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn insurer_drafts_and_proposes_and_provider_agrees() {
    let app = TestApp::spawn().await;
    let k = app.create(&i1(), P1, terms(&[OFFER_P1_CRISIS, OFFER_P1_FACT])).await;
    let id = id_of(&k);
    assert_eq!(k["version"], 1);
    assert_eq!(k["termsVersion"], 1);
    assert_eq!(k["insurer"]["id"], I1.to_string());
    assert_eq!(k["provider"]["id"], P1.to_string());
    assert_eq!(k["firstYear"], this_year());
    assert_eq!(k["lastYear"], this_year() + 2);
    assert_eq!(k["terms"]["coveredOfferIds"], json!([OFFER_P1_CRISIS.to_string(), OFFER_P1_FACT.to_string()]));

    let k = app.act_ok(&i1(), "proposeContract", &id, 1).await;
    assert_eq!((k["status"].as_str(), version(&k)), (Some("PROPOSED"), 2));
    assert!(k["agreedAt"].is_null());
    let k = app.act_ok(&p1(), "agreeContract", &id, 2).await;
    assert_eq!((k["status"].as_str(), version(&k)), (Some("AGREED"), 3));
    assert!(k["agreedAt"].is_string(), "{k:#}");
    assert_eq!(k["meta"]["createdBy"], I1.to_string());
    assert_eq!(k["meta"]["updatedBy"], P1.to_string());

    // Both parties read the same contract, terms included.
    let as_insurer = app.contract_as(&i1(), &id).await;
    let as_provider = app.contract_as(&p1(), &id).await;
    assert_eq!(as_insurer, as_provider);
    assert_eq!(as_insurer["terms"]["guarantee"]["amountEur"], AMOUNT);
    assert_eq!(
        as_insurer["kpis"],
        json!([{"kpi": {"code": KPI}, "targets": [
        {"year": this_year(), "value": 80.0}, {"year": this_year() + 1, "value": 90.0}]}])
    );
    assert_eq!(as_insurer["history"], json!([]));
}

#[tokio::test]
async fn provider_returns_a_proposal_with_a_reason_both_parties_read() {
    let app = TestApp::spawn().await;
    let k = app.proposed(&i1(), P1, terms(&[OFFER_P1_CRISIS])).await;
    let id = id_of(&k);
    let reason = "The guarantee does not cover the night shifts.";
    let resp = app.act_with_reason(&p1(), "returnContract", &id, version(&k), reason).await;
    let k = &resp.data()["returnContract"];
    assert_eq!(k["status"], "DRAFT");
    assert_eq!(k["version"], 3);
    for caller in [i1(), p1()] {
        assert_eq!(app.contract_as(&caller, &id).await["returnReason"], reason);
    }

    // The insurer reworks the draft and proposes again; the agreement clears the old reason.
    let reworked = with(terms(&[OFFER_P1_CRISIS]), "notes", json!("Night shifts included."));
    let resp = app.graphql(UPDATE_DRAFT).var("id", &id).var("v", 3).var("t", reworked).as_caller(&i1()).send().await;
    assert_eq!(resp.data()["updateContractDraft"]["terms"]["notes"], "Night shifts included.");
    let k = app.act_ok(&i1(), "proposeContract", &id, 4).await;
    let k = app.act_ok(&p1(), "agreeContract", &id, version(&k)).await;
    assert_eq!(k["status"], "AGREED");
    assert!(k["returnReason"].is_null(), "{k:#}");
}

#[tokio::test]
async fn either_party_terminates_an_agreed_contract_with_a_reason() {
    let app = TestApp::spawn().await;
    for (who, terminator) in [("insurer", i1()), ("provider", p1())] {
        let k = app.agreed(&i1(), &p1(), terms(&[OFFER_P1_CRISIS])).await;
        let id = id_of(&k);
        let reason = format!("Terminated by the {who}: the unit merges with another team.");
        let resp = app.act_with_reason(&terminator, "terminateContract", &id, version(&k), &reason).await;
        let t = &resp.data()["terminateContract"];
        assert_eq!(t["status"], "TERMINATED", "{who}");
        assert_eq!(t["version"], version(&k) + 1);
        for caller in [i1(), p1()] {
            let seen = app.contract_as(&caller, &id).await;
            assert_eq!(seen["terminationReason"], reason.as_str(), "{who}");
            assert_eq!(seen["status"], "TERMINATED");
        }
    }
}

#[tokio::test]
async fn illegal_transitions_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let draft = app.create(&i1(), P1, terms(&[OFFER_P1_CRISIS])).await;
    let proposed = app.proposed(&i1(), P1, terms(&[OFFER_P1_FACT])).await;
    let agreed = app.agreed(&i1(), &p1(), terms(&[OFFER_P1_HIC])).await;
    let terminated = app.agreed(&i1(), &p1(), terms(&[OFFER_P1_HIC])).await;
    let terminated = app
        .act_with_reason(&i1(), "terminateContract", &id_of(&terminated), version(&terminated), "ended")
        .await
        .data()["terminateContract"]
        .clone();
    let before = app.contract_rows().await;
    let audit_before = app.audit_entries().await.len();

    // (what, caller, field, contract, reason, expected code)
    let cases = [
        ("agree a draft", p1(), "agreeContract", &draft, None, "BAD_USER_INPUT"),
        ("return a draft", p1(), "returnContract", &draft, Some("why"), "BAD_USER_INPUT"),
        ("terminate a draft", i1(), "terminateContract", &draft, Some("why"), "BAD_USER_INPUT"),
        ("provider proposes", p1(), "proposeContract", &draft, None, "FORBIDDEN"),
        ("propose a proposed contract", i1(), "proposeContract", &proposed, None, "BAD_USER_INPUT"),
        ("insurer agrees", i1(), "agreeContract", &proposed, None, "FORBIDDEN"),
        ("insurer returns", i1(), "returnContract", &proposed, Some("why"), "FORBIDDEN"),
        ("terminate a proposed contract", p1(), "terminateContract", &proposed, Some("why"), "BAD_USER_INPUT"),
        ("propose an agreed contract", i1(), "proposeContract", &agreed, None, "BAD_USER_INPUT"),
        ("agree an agreed contract", p1(), "agreeContract", &agreed, None, "BAD_USER_INPUT"),
        ("return an agreed contract", p1(), "returnContract", &agreed, Some("why"), "BAD_USER_INPUT"),
        ("agree an amendment with none pending", p1(), "agreeAmendment", &agreed, None, "BAD_USER_INPUT"),
        ("reject an amendment with none pending", p1(), "rejectAmendment", &agreed, Some("why"), "BAD_USER_INPUT"),
        ("insurer agrees an amendment", i1(), "agreeAmendment", &agreed, None, "FORBIDDEN"),
        ("terminate twice", i1(), "terminateContract", &terminated, Some("again"), "BAD_USER_INPUT"),
        ("agree a terminated contract", p1(), "agreeContract", &terminated, None, "BAD_USER_INPUT"),
        ("propose a terminated contract", i1(), "proposeContract", &terminated, None, "BAD_USER_INPUT"),
    ];
    for (what, caller, field, k, reason, code) in cases {
        let resp = match reason {
            Some(r) => app.act_with_reason(&caller, field, &id_of(k), version(k), r).await,
            None => app.act(&caller, field, &id_of(k), version(k)).await,
        };
        assert_eq!(resp.error_code_at(&[field]), Some(code.to_owned()), "{what}: {:#}", resp.body);
        assert!(resp.body["data"][field].is_null(), "{what}: {:#}", resp.body);
    }
    // Draft edits and amendments in the wrong state or by the wrong party.
    let t = terms(&[OFFER_P1_CRISIS]);
    for (what, caller, k, code) in [
        ("provider edits a draft", p1(), &draft, "FORBIDDEN"),
        ("edit a proposed contract", i1(), &proposed, "BAD_USER_INPUT"),
        ("edit an agreed contract", i1(), &agreed, "BAD_USER_INPUT"),
    ] {
        let resp = app
            .graphql(UPDATE_DRAFT)
            .var("id", id_of(k))
            .var("v", version(k))
            .var("t", &t)
            .as_caller(&caller)
            .send()
            .await;
        assert_refused(&resp, "updateContractDraft", code);
        assert_eq!(resp.error_codes(), [code], "{what}");
    }
    for (what, caller, k, code) in [
        ("provider proposes an amendment", p1(), &agreed, "FORBIDDEN"),
        ("amend a draft", i1(), &draft, "BAD_USER_INPUT"),
        ("amend a proposed contract", i1(), &proposed, "BAD_USER_INPUT"),
        ("amend a terminated contract", i1(), &terminated, "BAD_USER_INPUT"),
    ] {
        let resp = app.propose_amendment(&caller, &id_of(k), version(k), t.clone()).await;
        assert_refused(&resp, "proposeAmendment", code);
        assert_eq!(resp.error_codes(), [code], "{what}");
    }
    assert_eq!(app.contract_rows().await, before, "a refused move changed a contract");
    assert_eq!(app.audit_entries().await.len(), audit_before, "a refused move was audited");
}
