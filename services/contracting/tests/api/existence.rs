//! The existence of a contract costs the same to ask about as a random id (issue 13): for every
//! lookup by id — `contract(id)`, `_entities` for `Contract`, every mutation naming a contract —
//! a contract of others runs exactly the statements a random id runs, carrying the party
//! condition (so the row is never loaded), and gets the same answer byte for byte once the id
//! asked about is replaced by a placeholder.

use ggzhub_kit::testing::TestCaller;
use serde_json::{Value, json};

use crate::helpers::*;

/// What one request did: the statements run (values inlined, the id asked about replaced) and
/// the answer (status and body, the same).
#[derive(Debug, PartialEq)]
struct Trace {
    statements: Vec<String>,
    status: u16,
    body: String,
}

async fn trace(app: &TestApp, caller: &TestCaller, query: &str, variables: Value, id: &str) -> Trace {
    let from = app.statement_count();
    let mut call = app.graphql(query).as_caller(caller);
    for (name, value) in variables.as_object().expect("variables").clone() {
        call = call.var(&name, value);
    }
    let resp = call.var("id", id).send().await;
    let statements = app.statements_since(from).into_iter().map(|s| s.replace(id, "<id>")).collect();
    Trace { statements, status: resp.status, body: resp.body.to_string().replace(id, "<id>") }
}

#[tokio::test]
async fn a_contract_of_others_costs_what_a_random_id_costs() {
    let app = TestApp::spawn().await;
    // A contract in every state a lookup could meet: agreed with a pending amendment, proposed,
    // draft.
    let agreed = app.agreed_with_p1(&i1(), &[OFFER_P1_CRISIS]).await;
    let k = app.contract_as(&i1(), &agreed).await;
    app.propose_amendment(&i1(), &agreed, version(&k), terms(&[OFFER_P1_HIC])).await.data();
    let proposed = id_of(&app.proposed(&i1(), P1, terms(&[OFFER_P1_FACT])).await);
    let draft = id_of(&app.create(&i1(), P1, terms(&[OFFER_P1_FACT])).await);
    let t = terms(&[OFFER_P1_CRISIS]);
    let with_reason = |field: &str| {
        format!(
            "mutation($id: ID!, $v: Int!, $r: String!) {{ {field}(id: $id, expectedVersion: $v, reason: $r) {{ id }} }}"
        )
    };
    let plain =
        |field: &str| format!("mutation($id: ID!, $v: Int!) {{ {field}(id: $id, expectedVersion: $v) {{ id }} }}");

    // (who asks, what, variables, a real contract of others for that question)
    let cases: Vec<(&str, TestCaller, String, Value, &str)> = vec![
        ("contract(id), insurer", i2(), "query($id: ID!) { contract(id: $id) { id terms { notes } } }".into(), json!({}), &agreed),
        ("contract(id), provider", p2(), "query($id: ID!) { contract(id: $id) { id } }".into(), json!({}), &agreed),
        (
            "_entities",
            i2(),
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Contract { id } } }".into(),
            json!({}),
            &agreed,
        ),
        (
            "updateContractDraft",
            i2(),
            "mutation($id: ID!, $t: ContractTermsInput!) { updateContractDraft(id: $id, expectedVersion: 1, terms: $t) { id } }".into(),
            json!({ "t": t }),
            &draft,
        ),
        ("proposeContract", i2(), plain("proposeContract"), json!({ "v": 1 }), &draft),
        ("agreeContract", p2(), plain("agreeContract"), json!({ "v": 2 }), &proposed),
        ("returnContract", p2(), with_reason("returnContract"), json!({ "v": 2, "r": "no" }), &proposed),
        ("terminateContract, insurer", i2(), with_reason("terminateContract"), json!({ "v": 3, "r": "no" }), &agreed),
        ("terminateContract, provider", p2(), with_reason("terminateContract"), json!({ "v": 3, "r": "no" }), &agreed),
        (
            "proposeAmendment",
            i2(),
            "mutation($id: ID!, $t: ContractTermsInput!) { proposeAmendment(id: $id, expectedVersion: 3, terms: $t) { id } }".into(),
            json!({ "t": t }),
            &agreed,
        ),
        ("agreeAmendment", p2(), plain("agreeAmendment"), json!({ "v": 4 }), &agreed),
        ("rejectAmendment", p2(), with_reason("rejectAmendment"), json!({ "v": 4, "r": "no" }), &agreed),
    ];
    let before = app.contract_rows().await;
    for (what, caller, query, variables, real) in cases {
        let random = uuid::Uuid::now_v7().to_string();
        let variables_for = |id: &str| {
            let mut v = variables.clone();
            if what == "_entities" {
                v["r"] = json!([contract_rep(id)]);
            }
            v
        };
        let foreign = trace(&app, &caller, &query, variables_for(real), real).await;
        let missing = trace(&app, &caller, &query, variables_for(&random), &random).await;
        assert_eq!(foreign, missing, "{what}: a contract of others is told apart from a random id");
        let lookups: Vec<&String> = foreign.statements.iter().filter(|s| s.contains("\"contracts\"")).collect();
        assert!(!lookups.is_empty(), "{what}: no contract lookup ran: {:#?}", foreign.statements);
        let party = if caller.kind == ggzhub_kit::OrgKind::Insurer { "insurer_id" } else { "provider_id" };
        for s in lookups {
            assert!(
                s.contains(&format!("\"{party}\" = '{}'", caller.org)),
                "{what}: a lookup without the party condition loads others' rows: {s}"
            );
        }
        assert!(foreign.body.contains("NOT_FOUND") || foreign.body.contains("null"), "{what}: {}", foreign.body);
        assert!(!foreign.body.contains(&I1.to_string()), "{what}: {}", foreign.body);
    }
    assert_eq!(app.contract_rows().await, before, "a refused change was applied");
}
