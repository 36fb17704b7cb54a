//! Competition law: no insurer learns another insurer's contract terms — not even the
//! coordinating insurer of the region — through any path. A contract the caller is not a party to
//! is answered exactly like a contract that does not exist: by id, through `_entities`, through
//! aliases fanning out over many ids, nested under `Organisation`, in list filters and in the
//! errors of mutations. Coverage aggregates are tested in `coverage`.

use ggzhub_kit::testing::{GraphqlResponse, TestCaller};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

/// Insurers and providers that are not a party to a contract between I2 and P1: the coordinating
/// insurer of utrecht (I1), other insurers at the same table and elsewhere, the other provider.
fn outsiders() -> Vec<(&'static str, TestCaller)> {
    vec![
        ("coordinating insurer I1", i1()),
        ("insurer I3 at the same table", i3()),
        ("insurer I5 elsewhere", i5()),
        ("provider P2", p2()),
    ]
}

/// An agreed contract between I2 and P1 with the default (marked) terms, and a pending amendment
/// so that every term-bearing field has content; returns its id.
async fn i2_contract(app: &TestApp) -> String {
    let k = app.agreed(&i2(), &p1(), terms(&[OFFER_P1_CRISIS, OFFER_P1_FACT])).await;
    let amended = with(terms(&[OFFER_P1_CRISIS]), "lastYear", json!(this_year() + 3));
    let resp = app.propose_amendment(&i2(), &id_of(&k), version(&k), amended).await;
    assert!(resp.data()["proposeAmendment"]["pendingAmendment"].is_object());
    id_of(&k)
}

fn random_id() -> String {
    Uuid::now_v7().to_string()
}

#[tokio::test]
async fn contract_by_id_answers_outsiders_exactly_as_for_a_random_id() {
    let app = TestApp::spawn().await;
    let id = i2_contract(&app).await;
    assert_eq!(app.contract_as(&i2(), &id).await["id"], id.as_str(), "the party reads it");
    assert_eq!(app.contract_as(&p1(), &id).await["id"], id.as_str(), "the party reads it");
    let mut callers = outsiders();
    callers.extend(non_parties());
    for (who, caller) in callers {
        let known = app.graphql(CONTRACT).var("id", &id).as_caller(&caller).send().await;
        let random = app.graphql(CONTRACT).var("id", random_id()).as_caller(&caller).send().await;
        assert!(known.body["data"]["contract"].is_null(), "{who}: {:#}", known.body);
        assert_eq!(known.status, random.status, "{who}");
        assert_eq!(known.body, random.body, "{who}: a known id must look exactly like a random one");
        assert_no_terms(&known.body, I2);
    }
}

#[tokio::test]
async fn entities_answer_outsiders_for_a_known_id_exactly_as_for_a_guessed_one() {
    let app = TestApp::spawn().await;
    let id = i2_contract(&app).await;
    let query = format!(
        "query($r: [_Any!]!) {{ _entities(representations: $r) {{ ... on Contract {{ {CONTRACT_FIELDS} }} }} }}"
    );
    let mut callers = outsiders();
    callers.extend(non_parties());
    for (who, caller) in callers {
        let send = |rid: String| {
            let call = app.graphql(&query).var("r", json!([contract_rep(&rid)])).as_caller(&caller);
            async move { (call.send().await, rid) }
        };
        let (known, _) = send(id.clone()).await;
        assert_eq!(known.body["data"]["_entities"], json!([null]), "{who}: {:#}", known.body);
        assert_eq!(entity_error_codes(&known, None), ["NOT_FOUND"], "{who}: {:#}", known.body);
        assert_no_terms(&known.body, I2);
        for (guess, rid) in [send(random_id()).await, send(Uuid::new_v4().to_string()).await, send("k-1".into()).await]
        {
            assert_eq!(known.status, guess.status, "{who}");
            assert_eq!(known.body["data"], guess.body["data"], "{who}");
            assert_eq!(known.error_codes(), guess.error_codes(), "{who}");
            assert_eq!(message_shape(&known, &id), message_shape(&guess, &rid), "{who}");
            assert_eq!(known.body["errors"][0]["path"], guess.body["errors"][0]["path"], "{who}");
        }
    }
}

#[tokio::test]
async fn aliases_fanning_out_over_many_ids_find_nothing_of_other_insurers() {
    let app = TestApp::spawn().await;
    let mut known = vec![i2_contract(&app).await];
    for offers in [[OFFER_P1_FACT], [OFFER_P1_HIC]] {
        known.push(app.agreed_with_p1(&i2(), &offers).await);
    }
    known.push(id_of(&app.create(&i2(), P1, terms(&[OFFER_P1_HIC])).await));
    let mut probe: Vec<String> = known.clone();
    probe.extend((probe.len()..20).map(|_| random_id()));
    let fields: Vec<String> = probe
        .iter()
        .enumerate()
        .map(|(i, id)| {
            format!(
                "a{i}: contract(id: \"{id}\") {{ id status terms {{ volumeAgreement guarantee {{ amountEur }} }} }}"
            )
        })
        .collect();
    let query = format!("query {{ {} }}", fields.join(" "));
    for (who, caller) in outsiders() {
        let resp = app.graphql(&query).as_caller(&caller).send().await;
        let data = resp.data();
        assert_eq!(data.as_object().map(|o| o.len()), Some(20), "{who}");
        assert!(data.as_object().expect("object").values().all(Value::is_null), "{who}: {data:#}");
        assert_no_terms(&resp.body, I2);
    }
    // The same request as the party finds exactly its own contracts.
    let resp = app.graphql(&query).as_caller(&i2()).send().await;
    let found: Vec<&Value> = resp.data().as_object().expect("object").values().filter(|v| !v.is_null()).collect();
    assert_eq!(found.len(), known.len());

    // And the same fan-out through `_entities`.
    let reps: Vec<Value> = probe.iter().map(contract_rep).collect();
    let q = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Contract { id terms { notes } } } }";
    for (who, caller) in outsiders() {
        let resp = app.graphql(q).var("r", &reps).as_caller(&caller).send().await;
        assert_eq!(resp.body["data"]["_entities"], json!(vec![Value::Null; 20]), "{who}: {:#}", resp.body);
        assert_eq!(entity_error_codes(&resp, None), vec!["NOT_FOUND"; 20], "{who}");
        assert_no_terms(&resp.body, I2);
    }
}

const ORG_CONTRACTS: &str = r#"query($r: [_Any!]!, $s: ContractStatus) { _entities(representations: $r) {
    ... on Organisation { id contracts(status: $s) { id insurer { id } provider { id } terms { volumeAgreement } } } } }"#;

async fn org_contracts(app: &TestApp, caller: &TestCaller, org: Uuid, status: Option<&str>) -> Vec<String> {
    let resp =
        app.graphql(ORG_CONTRACTS).var("r", json!([org_rep(org)])).var("s", status).as_caller(caller).send().await;
    ids(&resp.data()["_entities"][0]["contracts"])
}

#[tokio::test]
async fn organisation_contracts_show_only_the_callers_own() {
    let app = TestApp::spawn().await;
    let i2_k = i2_contract(&app).await;
    let i1_k = app.agreed(&i1(), &p1(), terms_marked(&[OFFER_P1_HIC], "BETA", 1.0)).await;
    let i1_k = id_of(&i1_k);
    let i1_draft = id_of(&app.create(&i1(), P1, terms_marked(&[OFFER_P1_HIC], "BETA", 1.0)).await);

    // I3 and I5 have no contract with P1; nested under P1 they see none of I1's or I2's.
    for (who, caller) in [("I3", i3()), ("I5", i5())] {
        let resp = app.graphql(ORG_CONTRACTS).var("r", json!([org_rep(P1)])).as_caller(&caller).send().await;
        assert_eq!(resp.data()["_entities"][0]["contracts"], json!([]), "{who}");
        assert_no_terms(&resp.body, I2);
    }
    // I1, the coordinating insurer, sees only its own contracts with P1, never I2's.
    assert_eq!(org_contracts(&app, &i1(), P1, None).await, sorted(&[&i1_k, &i1_draft]));
    assert_eq!(org_contracts(&app, &i1(), P1, Some("AGREED")).await, sorted(&[&i1_k]));
    let resp = app.graphql(ORG_CONTRACTS).var("r", json!([org_rep(P1)])).as_caller(&i1()).send().await;
    assert_no_terms(&resp.body, I2);
    // Under another insurer's organisation an insurer finds nothing (insurers never contract
    // each other).
    assert_eq!(org_contracts(&app, &i1(), I2, None).await, Vec::<String>::new());
    assert_eq!(org_contracts(&app, &i2(), I1, None).await, Vec::<String>::new());
    // Under its own organisation: all its own. The provider sees both insurers' contracts with
    // itself, and per insurer only that one's.
    assert_eq!(org_contracts(&app, &i2(), I2, None).await, sorted(&[&i2_k]));
    assert_eq!(org_contracts(&app, &p1(), P1, None).await, sorted(&[&i2_k, &i1_k, &i1_draft]));
    assert_eq!(org_contracts(&app, &p1(), I2, None).await, sorted(&[&i2_k]));
    // P2 under P1 or I2: nothing.
    assert_eq!(org_contracts(&app, &p2(), P1, None).await, Vec::<String>::new());
    assert_eq!(org_contracts(&app, &p2(), I2, None).await, Vec::<String>::new());
    // Organisations that see nothing of contracts are refused the field.
    for (who, caller) in non_parties() {
        let resp = app.graphql(ORG_CONTRACTS).var("r", json!([org_rep(P1)])).as_caller(&caller).send().await;
        assert_eq!(entity_error_codes(&resp, Some("contracts")), ["FORBIDDEN"], "{who}: {:#}", resp.body);
        assert_no_terms(&resp.body, I2);
    }
}

#[tokio::test]
async fn contract_lists_and_status_filters_show_only_own_contracts() {
    let app = TestApp::spawn().await;
    let i2_agreed = i2_contract(&app).await;
    let i2_draft = id_of(&app.create(&i2(), P1, terms(&[OFFER_P1_HIC])).await);
    let i1_agreed = app.agreed_with_p1(&i1(), &[OFFER_P1_CRISIS]).await;
    let i1_proposed = id_of(&app.proposed(&i1(), P1, terms(&[OFFER_P1_FACT])).await);
    let i3_agreed = app.agreed_with_p1(&i3(), &[OFFER_P1_CRISIS]).await;

    assert_eq!(app.listed(&i2(), Some("AGREED")).await, sorted(&[&i2_agreed]));
    assert_eq!(app.listed(&i2(), None).await, sorted(&[&i2_agreed, &i2_draft]));
    assert_eq!(app.listed(&i2(), Some("PROPOSED")).await, Vec::<String>::new());
    assert_eq!(app.listed(&i2(), Some("TERMINATED")).await, Vec::<String>::new());
    assert_eq!(app.listed(&i1(), None).await, sorted(&[&i1_agreed, &i1_proposed]));
    assert_eq!(app.listed(&i1(), Some("AGREED")).await, sorted(&[&i1_agreed]));
    assert_eq!(app.listed(&i3(), None).await, sorted(&[&i3_agreed]));
    assert_eq!(app.listed(&i4(), None).await, Vec::<String>::new());
    assert_eq!(app.listed(&i5(), Some("AGREED")).await, Vec::<String>::new());
    assert_eq!(app.listed(&p2(), None).await, Vec::<String>::new());
    assert_eq!(app.listed(&p1(), Some("AGREED")).await, sorted(&[&i2_agreed, &i1_agreed, &i3_agreed]));

    // Paging through the list as I1 never steps into another insurer's contracts.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let resp = app
            .graphql("query($a: String) { contracts(first: 1, after: $a) { pageInfo { hasNextPage endCursor } nodes { id insurer { id } } } }")
            .var("a", &after)
            .as_caller(&i1())
            .send()
            .await;
        let page = &resp.data()["contracts"];
        for n in page["nodes"].as_array().expect("nodes") {
            assert_eq!(n["insurer"]["id"], I1.to_string());
            seen.push(n["id"].as_str().expect("id").to_owned());
        }
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    seen.sort();
    assert_eq!(seen, sorted(&[&i1_agreed, &i1_proposed]));
}

/// Every mutation that addresses a contract, as `(field, needs reason, needs terms)`.
const ADDRESSING: [(&str, bool, bool); 9] = [
    ("proposeContract", false, false),
    ("agreeContract", false, false),
    ("returnContract", true, false),
    ("terminateContract", true, false),
    ("agreeAmendment", false, false),
    ("rejectAmendment", true, false),
    ("proposeAmendment", false, true),
    ("updateContractDraft", false, true),
    ("createContract", false, false),
];

async fn address(app: &TestApp, caller: &TestCaller, field: &str, id: &str, v: i64) -> GraphqlResponse {
    let (_, reason, with_terms) = ADDRESSING.iter().find(|(f, _, _)| *f == field).copied().expect("known field");
    if with_terms {
        let q = format!(
            "mutation($id: ID!, $v: Int!, $t: ContractTermsInput!) {{ {field}(id: $id, expectedVersion: $v, terms: $t) {{ id }} }}"
        );
        let t = terms_marked(&[OFFER_P1_CRISIS], "PROBE", 5.0);
        app.graphql(&q).var("id", id).var("v", v).var("t", t).as_caller(caller).send().await
    } else if reason {
        app.act_with_reason(caller, field, id, v, "probing").await
    } else {
        app.act(caller, field, id, v).await
    }
}

#[tokio::test]
async fn mutations_on_another_insurers_contract_fail_exactly_like_a_random_id() {
    let app = TestApp::spawn().await;
    let agreed = i2_contract(&app).await;
    let draft = id_of(&app.create(&i2(), P1, terms(&[OFFER_P1_HIC])).await);
    let proposed = id_of(&app.proposed(&i2(), P1, terms(&[OFFER_P1_FACT])).await);
    let before = app.contract_rows().await;
    let audit_before = app.audit_entries().await.len();

    let insurers = [("coordinating insurer I1", i1()), ("insurer I3", i3()), ("insurer I5", i5())];
    let providers = [("provider P2", p2())];
    for (who, caller) in insurers.iter().chain(providers.iter()) {
        for (field, _, _) in ADDRESSING.iter().filter(|(f, _, _)| *f != "createContract") {
            for target in [&agreed, &draft, &proposed] {
                // The right version, a stale one, and one from the future: never CONFLICT, which
                // would confirm the contract exists.
                for v in [1, 4, 99] {
                    let random = random_id();
                    let known = address(&app, caller, field, target, v).await;
                    let missing = address(&app, caller, field, &random, v).await;
                    assert!(known.body["data"][*field].is_null(), "{who} {field}: {:#}", known.body);
                    assert_eq!(known.status, missing.status, "{who} {field}");
                    assert_eq!(known.error_codes(), missing.error_codes(), "{who} {field}: {:#}", known.body);
                    assert_eq!(message_shape(&known, target), message_shape(&missing, &random), "{who} {field}");
                    assert_no_terms(&known.body, I2);
                    let expected = if caller.kind == ggzhub_kit::OrgKind::Provider
                        && matches!(*field, "proposeAmendment" | "updateContractDraft")
                    {
                        // Only insurers amend or edit drafts: refused before any contract is looked up.
                        "FORBIDDEN"
                    } else {
                        "NOT_FOUND"
                    };
                    assert_eq!(known.error_codes(), [expected], "{who} {field} v{v}: {:#}", known.body);
                }
            }
        }
    }
    assert_eq!(app.contract_rows().await, before, "an outsider changed a contract");
    assert_eq!(app.audit_entries().await.len(), audit_before);
}

#[tokio::test]
async fn error_messages_never_carry_another_insurers_id_or_terms() {
    let app = TestApp::spawn().await;
    let id = i2_contract(&app).await;
    let mut bodies: Vec<Value> = Vec::new();
    for (_, caller) in outsiders().into_iter().chain(non_parties()) {
        bodies.push(app.graphql(CONTRACT).var("id", &id).as_caller(&caller).send().await.body);
        for (field, _, _) in ADDRESSING.iter().filter(|(f, _, _)| *f != "createContract") {
            bodies.push(address(&app, &caller, field, &id, 3).await.body);
        }
        // Drafting over the same offer as I2 says nothing about I2's contract.
        bodies.push(app.try_create(&caller, P1, terms_marked(&[OFFER_P1_CRISIS], "PROBE", 5.0)).await.body);
    }
    for body in &bodies {
        assert_no_terms(body, I2);
    }
}
