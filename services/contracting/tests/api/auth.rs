//! Authentication and the access matrix for contracts: only a valid internal token for this
//! subgraph gets in (HTTP 401 otherwise, with no data); only insurers draft, propose and amend;
//! only the contract's provider agrees, returns and answers amendments; either party terminates;
//! patient organisations, municipalities, the national table and the hub operator see nothing of
//! contracts, whatever scopes their token carries.

use ggzhub_kit::token::{INTERNAL_ISSUER, TokenRequest};
use ggzhub_kit::{OrgKind, SigningKey};
use serde_json::json;

use crate::helpers::*;

const CONTRACTS: &str = "query { contracts { nodes { id terms { notes } } } }";

fn claims(aud: &str, exp: i64) -> serde_json::Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "iss": INTERNAL_ISSUER, "sub": "test", "aud": aud, "exp": exp, "iat": now - 3600, "jti": "j-1",
        "org": I1, "org_kind": "INSURER", "regions": ["utrecht"], "roles": [],
        "scope": "picture:read contracts:read contracts:write"
    })
}

#[tokio::test]
async fn refuses_requests_without_a_valid_token_and_shows_no_data() {
    let app = TestApp::spawn().await;
    let id = app.agreed_with_p1(&i1(), &[OFFER_P1_CRISIS]).await;
    let now = chrono::Utc::now().timestamp();
    let expired = app.server.key.signer().sign_claims(&claims("contracting", now - 120));
    let other_key = SigningKey::generate().signer().sign_claims(&claims("contracting", now + 300));
    let region = app.region.as_ref().expect("region subgraph runs");
    let for_region = region.token(&i1());
    let for_nt = app.national_table.as_ref().expect("national table runs").token(&i1());
    let cases: [(&str, Option<String>); 7] = [
        ("no token", None),
        ("malformed", Some("not-a-jwt".into())),
        ("expired", Some(expired)),
        ("signed by another key", Some(other_key)),
        ("for the region subgraph", Some(for_region.clone())),
        ("for the national table", Some(for_nt)),
        ("empty", Some(String::new())),
    ];
    for (what, token) in cases {
        for query in [CONTRACTS, CONTRACT] {
            let mut call = app.graphql(query).var("id", &id);
            if let Some(t) = &token {
                call = call.bearer(t.clone());
            }
            let resp = call.send().await;
            assert_unauthenticated(&resp);
            assert_no_terms(&resp.body, I1);
            assert!(!resp.body.to_string().contains(&id), "{what}: {:#}", resp.body);
        }
    }
    // The region token itself is valid where it belongs.
    let ok = region.graphql("query { regions { nodes { code } } }").bearer(for_region).send().await;
    assert!(ok.body["data"]["regions"].is_object(), "{:#}", ok.body);
}

#[tokio::test]
async fn mutation_without_a_valid_token_stores_nothing() {
    let app = TestApp::spawn().await;
    let expired = app.server.key.signer().sign_claims(&claims("contracting", chrono::Utc::now().timestamp() - 120));
    let wrong_aud = app.server.key.signer().sign(&TokenRequest {
        subject: "i1".into(),
        audience: vec!["region".into()],
        org: I1,
        org_kind: OrgKind::Insurer,
        regions: vec!["utrecht".into()],
        roles: vec![],
        scopes: vec!["picture:read".into(), "contracts:read".into(), "contracts:write".into()],
        ttl: std::time::Duration::from_secs(300),
    });
    for token in [None, Some(expired), Some(wrong_aud)] {
        let mut call = app.graphql(CREATE).var("p", P1.to_string()).var("t", terms(&[OFFER_P1_CRISIS]));
        if let Some(t) = token {
            call = call.bearer(t);
        }
        assert_unauthenticated(&call.send().await);
    }
    assert_eq!(app.count::<ggzhub_contracting::entity::contract::Entity>().await, 0);
    assert!(app.audit_entries().await.is_empty());
}

#[tokio::test]
async fn only_insurers_with_contracts_write_draft_contracts() {
    let app = TestApp::spawn().await;
    let mut refused = vec![
        ("provider P1", p1()),
        ("insurer without contracts:write", i1().with_scopes(&["picture:read", "contracts:read"])),
        (
            "patient organisation with contract scopes",
            patient_org().with_scopes(&["picture:read", "contracts:read", "contracts:write"]),
        ),
        (
            "national table with contract scopes",
            national_table().with_scopes(&["picture:read", "national:write", "contracts:write"]),
        ),
    ];
    refused.extend(non_parties());
    for (who, caller) in refused {
        let resp = app.try_create(&caller, P1, terms(&[OFFER_P1_CRISIS])).await;
        assert_refused(&resp, "createContract", "FORBIDDEN");
        assert_eq!(resp.error_codes(), ["FORBIDDEN"], "{who}");
    }
    assert_eq!(app.count::<ggzhub_contracting::entity::contract::Entity>().await, 0);
    assert!(app.audit_entries().await.is_empty());
    for insurer in [i1(), i2(), i5()] {
        app.create(&insurer, P1, terms(&[OFFER_P1_CRISIS])).await;
    }
}

#[tokio::test]
async fn organisations_that_are_never_a_party_see_nothing_of_contracts() {
    let app = TestApp::spawn().await;
    let id = app.agreed_with_p1(&i1(), &[OFFER_P1_CRISIS]).await;
    let mut callers = non_parties();
    callers.push((
        "patient organisation with contracts:read",
        patient_org().with_scopes(&["picture:read", "contracts:read"]),
    ));
    callers.push(("municipality with contracts:read", municipality().with_scopes(&["picture:read", "contracts:read"])));
    callers.push((
        "national table with contracts:read",
        national_table().with_scopes(&["picture:read", "contracts:read"]),
    ));
    callers.push(("insurer without contracts:read", i1().with_scopes(&["picture:read", "contracts:write"])));
    callers.push(("provider without contracts:read", p1().with_scopes(&["picture:read", "offers:write"])));
    for (who, caller) in callers {
        let resp = app.graphql(CONTRACTS).as_caller(&caller).send().await;
        assert_refused(&resp, "contracts", "FORBIDDEN");
        let resp = app.graphql(CONTRACT).var("id", &id).as_caller(&caller).send().await;
        assert!(resp.body["data"]["contract"].is_null(), "{who}: {:#}", resp.body);
        assert_no_terms(&resp.body, I1);
        let resp = app.graphql("query { uncoveredOffers { id } }").as_caller(&caller).send().await;
        if caller.kind != OrgKind::Insurer {
            assert_refused(&resp, "uncoveredOffers", "FORBIDDEN");
        }
    }
}

#[tokio::test]
async fn only_the_contracts_parties_change_it_and_each_only_in_its_role() {
    let app = TestApp::spawn().await;
    let k = app.proposed(&i1(), P1, terms(&[OFFER_P1_CRISIS])).await;
    let id = id_of(&k);
    let before = app.contract_rows().await;
    // Organisations that are never a party: refused by kind, whatever the contract.
    for (who, caller) in non_parties() {
        for field in ["proposeContract", "agreeContract", "agreeAmendment"] {
            let resp = app.act(&caller, field, &id, version(&k)).await;
            assert_refused(&resp, field, "FORBIDDEN");
            assert_eq!(resp.error_codes(), ["FORBIDDEN"], "{who} {field}");
            assert_no_terms(&resp.body, I1);
        }
        for field in ["returnContract", "terminateContract", "rejectAmendment"] {
            let resp = app.act_with_reason(&caller, field, &id, version(&k), "because").await;
            assert_refused(&resp, field, "FORBIDDEN");
        }
    }
    // A party without contracts:write.
    let read_only = p1().with_scopes(&["picture:read", "contracts:read"]);
    let resp = app.act(&read_only, "agreeContract", &id, version(&k)).await;
    assert_refused(&resp, "agreeContract", "FORBIDDEN");
    assert_eq!(app.contract_rows().await, before);
    // The provider, in its role, may.
    let agreed = app.act_ok(&p1(), "agreeContract", &id, version(&k)).await;
    assert_eq!(agreed["status"], "AGREED");
}
