//! `contractingAuditLog`: each organisation reads its own actions with their values; the national
//! table and the hub operator read everyone's actions on guidelines (others' values redacted) but
//! no one else's actions on contracts — who drafted, agreed or terminated which contract, and
//! when, are contract terms. No entry carries terms.

use ggzhub_kit::testing::{GraphqlResponse, TestCaller};
use serde_json::{Value, json};

use crate::helpers::*;

const AUDIT: &str = "query($after: String) { contractingAuditLog(first: 100, after: $after) {
    nodes { id organisationId entity entityId action change } pageInfo { hasNextPage endCursor } } }";

async fn audit(app: &TestApp, caller: &TestCaller) -> GraphqlResponse {
    app.graphql(AUDIT).as_caller(caller).send().await
}

async fn entries(app: &TestApp, caller: &TestCaller) -> Vec<Value> {
    let resp = audit(app, caller).await;
    resp.data()["contractingAuditLog"]["nodes"].as_array().expect("nodes").clone()
}

fn actions(entries: &[Value]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = entries
        .iter()
        .map(|e| {
            (e["entity"].as_str().unwrap_or_default().to_owned(), e["action"].as_str().unwrap_or_default().to_owned())
        })
        .collect();
    out.sort();
    out
}

/// A contract's whole life (drafted, proposed, agreed, amended, terminated) and a guideline.
async fn history(app: &TestApp) -> (String, String) {
    let k = app.agreed(&i1(), &p1(), terms(&[OFFER_P1_CRISIS])).await;
    let id = id_of(&k);
    let resp =
        app.propose_amendment(&i1(), &id, version(&k), terms_marked(&[OFFER_P1_HIC], "OMEGA", 4_444_444.0)).await;
    let k = resp.data()["proposeAmendment"].clone();
    let k = app.act_ok(&p1(), "agreeAmendment", &id, version(&k)).await;
    let resp = app.act_with_reason(&p1(), "terminateContract", &id, version(&k), "merger").await;
    assert_eq!(resp.data()["terminateContract"]["status"], "TERMINATED");
    let resp = app
        .graphql(CREATE_GUIDELINE)
        .var("y", this_year())
        .var("t", "Spelregels")
        .var("b", "Regels.")
        .as_caller(&national_table())
        .send()
        .await;
    let guideline = resp.data()["createContractingGuideline"]["id"].as_str().expect("id").to_owned();
    (id, guideline)
}

/// Asserts no terms of the history's contract are in `body`.
#[track_caller]
fn assert_no_terms_in(body: &Value) {
    let text = body.to_string();
    for secret in [MARKER, "7654321", "OMEGA", "4444444", KPI, "merger"] {
        assert!(!text.contains(secret), "the audit log reveals {secret}: {body:#}");
    }
}

#[tokio::test]
async fn parties_read_their_own_actions_on_a_contract_and_nothing_else() {
    let app = TestApp::spawn().await;
    let (id, _) = history(&app).await;
    let insurer = entries(&app, &i1()).await;
    assert_eq!(
        actions(&insurer),
        [("Contract", "create"), ("Contract", "propose"), ("Contract", "propose_amendment")]
            .map(|(e, a)| (e.to_owned(), a.to_owned()))
    );
    assert!(insurer.iter().all(|e| e["organisationId"] == I1.to_string() && e["entityId"] == id.as_str()));
    // Its own values: the moves, never the terms.
    assert!(insurer.iter().any(|e| e["change"] == json!({ "from": "DRAFT", "to": "PROPOSED" })), "{insurer:#?}");
    let provider = entries(&app, &p1()).await;
    assert_eq!(
        actions(&provider),
        [("Contract", "agree"), ("Contract", "agree_amendment"), ("Contract", "terminate")]
            .map(|(e, a)| (e.to_owned(), a.to_owned()))
    );
    assert!(provider.iter().all(|e| e["organisationId"] == P1.to_string()));
    for caller in [i1(), p1()] {
        assert_no_terms_in(&audit(&app, &caller).await.body);
    }
    // Another insurer at the table, another provider: nothing.
    for caller in [i2(), p2(), patient_org(), municipality()] {
        assert_eq!(entries(&app, &caller).await, Vec::<Value>::new(), "{caller:?}");
    }
}

#[tokio::test]
async fn the_national_table_and_the_operator_read_no_one_elses_actions_on_contracts() {
    let app = TestApp::spawn().await;
    let (id, guideline) = history(&app).await;
    let national = entries(&app, &national_table()).await;
    assert_eq!(national.len(), 1, "{national:#?}");
    assert_eq!(national[0]["entityId"], guideline.as_str());
    assert_eq!(national[0]["change"], json!({ "year": this_year() }), "its own entry carries its values");
    let operators = entries(&app, &operator()).await;
    assert_eq!(operators.len(), 1, "{operators:#?}");
    assert_eq!(
        (&operators[0]["entity"], &operators[0]["change"]),
        (&json!("ContractingGuideline"), &json!({ "fields": ["year"] })),
        "another organisation's entry names the fields, not the values"
    );
    for caller in [national_table(), operator()] {
        let body = audit(&app, &caller).await.body;
        for secret in [id.as_str(), &I1.to_string(), &P1.to_string()] {
            assert!(!body.to_string().contains(secret), "the audit log reveals {secret}: {body:#}");
        }
        assert_no_terms_in(&body);
    }
}

#[tokio::test]
async fn the_audit_log_needs_the_read_scope_and_pages() {
    let app = TestApp::spawn().await;
    history(&app).await;
    let resp = audit(&app, &i1().with_scopes(&["contracts:read"])).await;
    assert_refused(&resp, "contractingAuditLog", "FORBIDDEN");
    let resp = app
        .graphql("{ contractingAuditLog(first: 2) { nodes { id } pageInfo { hasNextPage endCursor } } }")
        .as_caller(&i1())
        .send()
        .await;
    let page = &resp.data()["contractingAuditLog"];
    assert_eq!(page["nodes"].as_array().map(Vec::len), Some(2));
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let rest = app.graphql(AUDIT).var("after", page["pageInfo"]["endCursor"].clone()).as_caller(&i1()).send().await;
    assert_eq!(rest.data()["contractingAuditLog"]["nodes"].as_array().map(Vec::len), Some(1));
}
