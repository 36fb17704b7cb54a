//! Federation: `_entities` resolves a `Contract` for its two parties only (anyone else gets
//! `null` + `NOT_FOUND`, exactly like a missing contract, without blanking out the rest of the
//! batch); `CareOffer` and `Organisation` resolve as stubs carrying contracting's fields;
//! `_service { sdl }` answers with the keys.

use serde_json::json;

use crate::helpers::*;

const ENTITIES: &str = r#"query($r: [_Any!]!) { _entities(representations: $r) {
    ... on Contract { id status insurer { id } provider { id } terms { guarantee { amountEur } } }
    ... on CareOffer { id }
    ... on Organisation { id } } }"#;

#[tokio::test]
async fn both_parties_resolve_a_contract_through_entities() {
    let app = TestApp::spawn().await;
    let id = app.agreed_with_p1(&i1(), &[OFFER_P1_CRISIS]).await;
    for caller in [i1(), p1()] {
        let resp = app.graphql(ENTITIES).var("r", json!([contract_rep(&id)])).as_caller(&caller).send().await;
        assert_eq!(
            resp.data()["_entities"],
            json!([{"id": id, "status": "AGREED", "insurer": {"id": I1.to_string()},
                "provider": {"id": P1.to_string()}, "terms": {"guarantee": {"amountEur": AMOUNT}}}])
        );
    }
}

#[tokio::test]
async fn a_hidden_contract_in_a_batch_is_null_without_blanking_the_rest() {
    let app = TestApp::spawn().await;
    let own = app.agreed_with_p1(&i2(), &[OFFER_P1_CRISIS]).await;
    let other = app.agreed_with_p1(&i1(), &[OFFER_P1_CRISIS]).await;
    let random = uuid::Uuid::now_v7().to_string();
    let reps = json!([
        contract_rep(&own),
        contract_rep(&other),
        contract_rep(&random),
        offer_rep(OFFER_P1_CRISIS),
        org_rep(P1)
    ]);
    let resp = app.graphql(ENTITIES).var("r", reps).as_caller(&i2()).send().await;
    let list = resp.body["data"]["_entities"].as_array().expect("entities").clone();
    assert_eq!(list.len(), 5);
    assert_eq!(list[0]["id"], own.as_str());
    assert!(list[1].is_null() && list[2].is_null(), "{:#}", resp.body);
    assert_eq!(list[3], json!({"id": OFFER_P1_CRISIS.to_string()}));
    assert_eq!(list[4], json!({"id": P1.to_string()}));
    assert_eq!(entity_error_codes(&resp, None), ["NOT_FOUND", "NOT_FOUND"], "{:#}", resp.body);
    let messages: Vec<String> = resp.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["message"].as_str().unwrap_or_default().replace(&other, "<id>").replace(&random, "<id>"))
        .collect();
    assert_eq!(messages[0], messages[1]);
    assert!(!resp.body.to_string().contains(&I1.to_string()), "{:#}", resp.body);
}

#[tokio::test]
async fn non_parties_get_null_and_not_found_for_any_contract() {
    let app = TestApp::spawn().await;
    let id = app.agreed_with_p1(&i1(), &[OFFER_P1_CRISIS]).await;
    for (who, caller) in non_parties() {
        let resp = app.graphql(ENTITIES).var("r", json!([contract_rep(&id)])).as_caller(&caller).send().await;
        assert_eq!(resp.body["data"]["_entities"], json!([null]), "{who}: {:#}", resp.body);
        assert_eq!(entity_error_codes(&resp, None), ["NOT_FOUND"], "{who}: {:#}", resp.body);
        assert_no_terms(&resp.body, I1);
    }
}

#[tokio::test]
async fn stubs_need_the_read_scope() {
    let app = TestApp::spawn().await;
    let no_read = p1().with_scopes(&["contracts:read"]);
    let resp = app
        .graphql(ENTITIES)
        .var("r", json!([offer_rep(OFFER_P1_CRISIS), org_rep(P1)]))
        .as_caller(&no_read)
        .send()
        .await;
    assert_eq!(resp.body["data"]["_entities"], json!([null, null]), "{:#}", resp.body);
    assert_eq!(entity_error_codes(&resp, None), ["FORBIDDEN", "FORBIDDEN"]);
}

#[tokio::test]
async fn service_sdl_declares_the_keys() {
    let app = TestApp::spawn().await;
    let resp = app.graphql("query { _service { sdl } }").as_caller(&patient_org()).send().await;
    let sdl = resp.data()["_service"]["sdl"].as_str().expect("sdl");
    for key in [
        r#"type Contract @key(fields: "id")"#,
        r#"type CareOffer @key(fields: "id")"#,
        r#"type Organisation @key(fields: "id")"#,
    ] {
        assert!(sdl.contains(key), "missing {key}");
    }
}
