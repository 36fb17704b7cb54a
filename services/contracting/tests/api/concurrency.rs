//! Optimistic concurrency and the audit log: a change names the version it expects; a stale one
//! gets `CONFLICT` and changes nothing; of concurrent writers exactly one wins. Every successful
//! change, and only those, is audited in the same transaction — naming the action, never the
//! terms (read from the `audit_log` table; `audit.rs` tests what callers read of it).

use ggzhub_kit::testing::GraphqlResponse;
use serde_json::json;

use crate::helpers::*;

fn outcomes(responses: &[GraphqlResponse]) -> Vec<String> {
    let mut codes: Vec<String> =
        responses.iter().map(|r| r.error_codes().first().cloned().unwrap_or_else(|| "OK".to_owned())).collect();
    codes.sort();
    codes
}

#[tokio::test]
async fn stale_expected_version_gets_conflict_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let draft = app.create(&i1(), P1, terms(&[OFFER_P1_CRISIS])).await;
    let proposed = app.proposed(&i1(), P1, terms(&[OFFER_P1_FACT])).await;
    let agreed = app.agreed(&i1(), &p1(), terms(&[OFFER_P1_HIC])).await;
    let resp = app.propose_amendment(&i1(), &id_of(&agreed), version(&agreed), terms(&[OFFER_P1_CRISIS])).await;
    let amended = resp.data()["proposeAmendment"].clone();
    let other = app.agreed(&i1(), &p1(), terms(&[OFFER_P1_HIC])).await;
    let before = app.contract_rows().await;
    let audit_before = app.audit_entries().await.len();

    for stale in [0, 2, 99] {
        let resp = app.act(&i1(), "proposeContract", &id_of(&draft), stale).await;
        assert_refused(&resp, "proposeContract", "CONFLICT");
        let resp = app
            .graphql(UPDATE_DRAFT)
            .var("id", id_of(&draft))
            .var("v", stale)
            .var("t", terms(&[OFFER_P1_HIC]))
            .as_caller(&i1())
            .send()
            .await;
        assert_refused(&resp, "updateContractDraft", "CONFLICT");
    }
    for v in [version(&proposed) - 1, version(&proposed) + 1] {
        let resp = app.act(&p1(), "agreeContract", &id_of(&proposed), v).await;
        assert_refused(&resp, "agreeContract", "CONFLICT");
        let resp = app.act_with_reason(&p1(), "returnContract", &id_of(&proposed), v, "why").await;
        assert_refused(&resp, "returnContract", "CONFLICT");
    }
    for v in [version(&amended) - 1, version(&amended) + 1] {
        let resp = app.act(&p1(), "agreeAmendment", &id_of(&amended), v).await;
        assert_refused(&resp, "agreeAmendment", "CONFLICT");
        let resp = app.act_with_reason(&p1(), "rejectAmendment", &id_of(&amended), v, "why").await;
        assert_refused(&resp, "rejectAmendment", "CONFLICT");
        let resp = app.act_with_reason(&i1(), "terminateContract", &id_of(&amended), v, "why").await;
        assert_refused(&resp, "terminateContract", "CONFLICT");
    }
    for v in [version(&other) - 1, version(&other) + 1] {
        let resp = app.propose_amendment(&i1(), &id_of(&other), v, terms(&[OFFER_P1_FACT])).await;
        assert_refused(&resp, "proposeAmendment", "CONFLICT");
    }
    assert_eq!(app.contract_rows().await, before, "a stale change was applied");
    assert_eq!(app.audit_entries().await.len(), audit_before, "a stale change was audited");
}

#[tokio::test]
async fn each_change_bumps_the_version_by_one() {
    let app = TestApp::spawn().await;
    let k = app.create(&i1(), P1, terms(&[OFFER_P1_CRISIS])).await;
    let id = id_of(&k);
    let resp = app
        .graphql(UPDATE_DRAFT)
        .var("id", &id)
        .var("v", 1)
        .var("t", terms(&[OFFER_P1_FACT]))
        .as_caller(&i1())
        .send()
        .await;
    assert_eq!(resp.data()["updateContractDraft"]["version"], 2);
    assert_eq!(version(&app.act_ok(&i1(), "proposeContract", &id, 2).await), 3);
    assert_eq!(version(&app.act_ok(&p1(), "agreeContract", &id, 3).await), 4);
    let resp = app.propose_amendment(&i1(), &id, 4, terms(&[OFFER_P1_HIC])).await;
    assert_eq!(version(&resp.data()["proposeAmendment"]), 5);
    assert_eq!(version(&app.act_ok(&p1(), "agreeAmendment", &id, 5).await), 6);
}

#[tokio::test]
async fn of_concurrent_writers_exactly_one_wins() {
    let app = TestApp::spawn().await;
    let k = app.agreed(&i1(), &p1(), terms(&[OFFER_P1_CRISIS])).await;
    let q = "mutation($id: ID!, $v: Int!, $r: String!) { terminateContract(id: $id, expectedVersion: $v, reason: $r) { version } }";
    let vars = json!({"id": id_of(&k), "v": version(&k), "r": "merger"});
    let responses = app.send_concurrently(&p1(), q, vars, 6).await;
    assert_eq!(outcomes(&responses), ["CONFLICT", "CONFLICT", "CONFLICT", "CONFLICT", "CONFLICT", "OK"]);
    let terminations = app.audit_entries().await.into_iter().filter(|e| e.action == "terminate").count();
    assert_eq!(terminations, 1);
    // A stale version is a CONFLICT even though the contract has moved on to another state.
    let resp = app.act_with_reason(&i1(), "terminateContract", &id_of(&k), version(&k), "again").await;
    assert_refused(&resp, "terminateContract", "CONFLICT");

    let k = app.proposed(&i1(), P1, terms(&[OFFER_P1_FACT])).await;
    let q = "mutation($id: ID!, $v: Int!) { agreeContract(id: $id, expectedVersion: $v) { version } }";
    let responses = app.send_concurrently(&p1(), q, json!({"id": id_of(&k), "v": version(&k)}), 6).await;
    assert_eq!(outcomes(&responses), ["CONFLICT", "CONFLICT", "CONFLICT", "CONFLICT", "CONFLICT", "OK"]);
    assert_eq!(app.contract_as(&p1(), &id_of(&k)).await["version"], version(&k) + 1);
}

#[tokio::test]
async fn successful_changes_and_only_those_are_audited_without_terms() {
    let app = TestApp::spawn().await;
    let k = app.create(&i1(), P1, terms(&[OFFER_P1_CRISIS])).await;
    let id = id_of(&k);
    let resp = app
        .graphql(UPDATE_DRAFT)
        .var("id", &id)
        .var("v", 1)
        .var("t", terms(&[OFFER_P1_FACT]))
        .as_caller(&i1())
        .send()
        .await;
    resp.data();
    app.act_ok(&i1(), "proposeContract", &id, 2).await;
    app.act_with_reason(&p1(), "returnContract", &id, 3, "Volume too low for the night shift").await.data();
    app.act_ok(&i1(), "proposeContract", &id, 4).await;
    app.act_ok(&p1(), "agreeContract", &id, 5).await;
    app.propose_amendment(&i1(), &id, 6, terms(&[OFFER_P1_HIC])).await.data();
    app.act_with_reason(&p1(), "rejectAmendment", &id, 7, "No").await.data();
    app.propose_amendment(&i1(), &id, 8, terms_marked(&[OFFER_P1_HIC], "AMENDED", 42_424_242.0)).await.data();
    app.act_ok(&p1(), "agreeAmendment", &id, 9).await;
    app.act_with_reason(&i1(), "terminateContract", &id, 10, "The unit merges").await.data();
    // Refused changes (stale, illegal, outsider, bad input) are not audited.
    app.act(&i1(), "proposeContract", &id, 3).await.expect_error("CONFLICT");
    app.act(&p1(), "agreeContract", &id, 11).await.expect_error("BAD_USER_INPUT");
    app.act_with_reason(&i2(), "terminateContract", &id, 11, "x").await.expect_error("NOT_FOUND");
    app.try_create(&i1(), P1, with(terms(&[OFFER_P1_CRISIS]), "firstYear", json!(2019)))
        .await
        .expect_error("BAD_USER_INPUT");

    let entries = app.audit_entries().await;
    let actions: Vec<(&str, String)> = entries.iter().map(|e| (e.action.as_str(), e.org.clone())).collect();
    let (i, p) = (I1.to_string(), P1.to_string());
    assert_eq!(
        actions,
        [
            ("create", i.clone()),
            ("update_draft", i.clone()),
            ("propose", i.clone()),
            ("return", p.clone()),
            ("propose", i.clone()),
            ("agree", p.clone()),
            ("propose_amendment", i.clone()),
            ("reject_amendment", p.clone()),
            ("propose_amendment", i.clone()),
            ("agree_amendment", p.clone()),
            ("terminate", i.clone()),
        ]
    );
    for e in &entries {
        assert_eq!((e.entity.as_str(), e.entity_id.as_str()), ("Contract", id.as_str()));
        let change = e.change.to_string();
        for secret in
            [MARKER, "AMENDED", "7654321", "42424242", "volume", "amountEur", "guarantee", "notes", KPI, "kpis"]
        {
            assert!(
                !change.to_lowercase().contains(&secret.to_lowercase()),
                "audit entry {} carries {secret}: {change}",
                e.action
            );
        }
    }
}
