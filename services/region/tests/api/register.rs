//! The register: the operator manages identifiers (format per scheme, one organisation per
//! (scheme, value)) and identity-provider bindings; the operator and the table's chair manage
//! table membership (one chair per table); every change is audited; the gateway's resolution
//! answers only its own scope; `me` says who the caller is.

use serde_json::json;

use crate::helpers::*;

const ADD: &str = r#"mutation($org: ID!, $scheme: Scheme!, $value: String!) {
    addOrganisationIdentifier(organisationId: $org, scheme: $scheme, value: $value) {
        organisationId identifiers { scheme value } identityProviders { issuer scheme } } }"#;
const REMOVE: &str = r#"mutation($org: ID!, $scheme: Scheme!, $value: String!) {
    removeOrganisationIdentifier(organisationId: $org, scheme: $scheme, value: $value) { identifiers { scheme value } } }"#;
const BIND: &str = r#"mutation($org: ID!, $issuer: String!, $scheme: Scheme!) {
    bindIdentityProvider(organisationId: $org, issuer: $issuer, scheme: $scheme) { identityProviders { issuer scheme } } }"#;
const UNBIND: &str = r#"mutation($org: ID!, $issuer: String!, $scheme: Scheme!) {
    unbindIdentityProvider(organisationId: $org, issuer: $issuer, scheme: $scheme) { identityProviders { issuer scheme } } }"#;
const SEAT: &str = r#"mutation($org: ID!, $region: String!, $role: TableRole!) {
    setTableMembership(organisationId: $org, region: $region, role: $role) { organisationId regionCode role } }"#;
const UNSEAT: &str = r#"mutation($org: ID!, $region: String!) {
    removeTableMembership(organisationId: $org, region: $region) { organisationId role } }"#;
const RESOLVE: &str = r#"query($issuer: String!, $scheme: String!, $value: String!) {
    registerResolution(issuer: $issuer, scheme: $scheme, value: $value) { outcome organisationId kind regions roles } }"#;
const ISSUER: &str = "https://sso.aanbieder-a.example/realms/zorg";

fn resolver() -> ggzhub_kit::testing::TestCaller {
    operator().with_scopes(&[ggzhub_kit::token::scopes::REGISTER_RESOLVE])
}

#[tokio::test]
async fn identifiers_are_checked_per_scheme_unique_and_only_the_operator_manages_them() {
    let app = TestApp::spawn().await;
    for (scheme, bad) in
        [("URA", "1234567"), ("AGB", "1234567a"), ("UZOVI", "12345"), ("KVK", "123456789"), ("OIN", "1234")]
    {
        let resp = app
            .graphql(ADD)
            .var("org", PROVIDER_A)
            .var("scheme", scheme)
            .var("value", bad)
            .as_caller(&operator())
            .send()
            .await;
        let message = resp.expect_error("BAD_USER_INPUT");
        assert!(message.contains(scheme), "{message}");
    }
    let resp = app
        .graphql(ADD)
        .var("org", PROVIDER_A)
        .var("scheme", "URA")
        .var("value", "90000001")
        .as_caller(&operator())
        .send()
        .await;
    assert_eq!(
        resp.data()["addOrganisationIdentifier"]["identifiers"],
        json!([{ "scheme": "URA", "value": "90000001" }])
    );
    let resp = app
        .graphql(ADD)
        .var("org", PROVIDER_A)
        .var("scheme", "OIN")
        .var("value", "00000099000000000001")
        .as_caller(&operator())
        .send()
        .await;
    assert_eq!(
        resp.data()["addOrganisationIdentifier"]["identifiers"].as_array().map(Vec::len),
        Some(2),
        "several per organisation"
    );
    // (scheme, value) belongs to one organisation.
    app.graphql(ADD)
        .var("org", PROVIDER_B)
        .var("scheme", "URA")
        .var("value", "90000001")
        .as_caller(&operator())
        .send()
        .await
        .expect_error("CONFLICT");
    // UZOVI numbers are insurers'.
    app.graphql(ADD)
        .var("org", PROVIDER_B)
        .var("scheme", "UZOVI")
        .var("value", "9001")
        .as_caller(&operator())
        .send()
        .await
        .expect_error("BAD_USER_INPUT");
    app.graphql(ADD)
        .var("org", "00000000-0000-0000-0000-0000000000ff")
        .var("scheme", "URA")
        .var("value", "90000002")
        .as_caller(&operator())
        .send()
        .await
        .expect_error("BAD_USER_INPUT");
    for (who, caller) in all_personas().into_iter().filter(|(w, _)| *w != "hub operator") {
        let resp = app
            .graphql(ADD)
            .var("org", PROVIDER_A)
            .var("scheme", "KVK")
            .var("value", "90000003")
            .as_caller(&caller)
            .send()
            .await;
        resp.expect_error("FORBIDDEN");
        let resp = app
            .graphql(BIND)
            .var("org", PROVIDER_A)
            .var("issuer", ISSUER)
            .var("scheme", "URA")
            .as_caller(&caller)
            .send()
            .await;
        assert!(resp.error_codes().contains(&"FORBIDDEN".to_owned()), "{who}");
    }
    let resp = app
        .graphql(REMOVE)
        .var("org", PROVIDER_A)
        .var("scheme", "OIN")
        .var("value", "00000099000000000001")
        .as_caller(&operator())
        .send()
        .await;
    assert_eq!(
        resp.data()["removeOrganisationIdentifier"]["identifiers"],
        json!([{ "scheme": "URA", "value": "90000001" }])
    );
    app.graphql(REMOVE)
        .var("org", PROVIDER_A)
        .var("scheme", "OIN")
        .var("value", "00000099000000000001")
        .as_caller(&operator())
        .send()
        .await
        .expect_error("NOT_FOUND");
    let log = app.audit_log(&operator()).await;
    let adds = log.iter().filter(|e| e["entity"] == "OrganisationIdentifier" && e["action"] == "add").count();
    assert_eq!(adds, 2, "{log:#?}");
    assert!(log.iter().any(|e| e["entity"] == "OrganisationIdentifier" && e["action"] == "remove"));
}

#[tokio::test]
async fn bindings_decide_what_the_gateway_resolves() {
    let app = TestApp::spawn().await;
    app.graphql(ADD)
        .var("org", PROVIDER_A)
        .var("scheme", "URA")
        .var("value", "90000001")
        .as_caller(&operator())
        .send()
        .await;
    // A binding needs an identifier of its scheme, and an https (or loopback) issuer.
    app.graphql(BIND)
        .var("org", PROVIDER_A)
        .var("issuer", ISSUER)
        .var("scheme", "AGB")
        .as_caller(&operator())
        .send()
        .await
        .expect_error("BAD_USER_INPUT");
    app.graphql(BIND)
        .var("org", PROVIDER_A)
        .var("issuer", "http://idp.example")
        .var("scheme", "URA")
        .as_caller(&operator())
        .send()
        .await
        .expect_error("BAD_USER_INPUT");
    let resolve = |issuer: &'static str, value: &'static str| {
        app.graphql(RESOLVE).var("issuer", issuer).var("scheme", "URA").var("value", value).as_caller(&resolver())
    };
    assert_eq!(resolve(ISSUER, "90000001").send().await.data()["registerResolution"]["outcome"], "OTHER_ISSUER");
    assert_eq!(resolve(ISSUER, "90000009").send().await.data()["registerResolution"]["outcome"], "UNKNOWN_IDENTIFIER");
    let resp = app
        .graphql(BIND)
        .var("org", PROVIDER_A)
        .var("issuer", ISSUER)
        .var("scheme", "URA")
        .as_caller(&operator())
        .send()
        .await;
    assert_eq!(
        resp.data()["bindIdentityProvider"]["identityProviders"],
        json!([{ "issuer": ISSUER, "scheme": "URA" }])
    );
    app.graphql(BIND)
        .var("org", PROVIDER_A)
        .var("issuer", ISSUER)
        .var("scheme", "URA")
        .as_caller(&operator())
        .send()
        .await
        .expect_error("CONFLICT");
    // A chair seat in the register gives the role.
    app.graphql(SEAT)
        .var("org", PROVIDER_A)
        .var("region", "utrecht")
        .var("role", "CHAIR")
        .as_caller(&operator())
        .send()
        .await;
    let resp = resolve(ISSUER, "90000001").send().await;
    assert_eq!(
        resp.data()["registerResolution"],
        json!({ "outcome": "RESOLVED", "organisationId": PROVIDER_A.to_string(), "kind": "PROVIDER",
                "regions": ["utrecht"], "roles": ["chair:utrecht"] })
    );
    assert_eq!(
        resolve("https://other.example", "90000001").send().await.data()["registerResolution"]["outcome"],
        "OTHER_ISSUER"
    );
    // Only the gateway's own scope reads it; the operator's admin scope does not.
    for (who, caller) in all_personas() {
        let resp = app
            .graphql(RESOLVE)
            .var("issuer", ISSUER)
            .var("scheme", "URA")
            .var("value", "90000001")
            .as_caller(&caller)
            .send()
            .await;
        assert!(resp.error_codes().contains(&"FORBIDDEN".to_owned()), "{who}: {:#}", resp.body);
    }
    app.graphql(UNBIND)
        .var("org", PROVIDER_A)
        .var("issuer", ISSUER)
        .var("scheme", "URA")
        .as_caller(&operator())
        .send()
        .await;
    assert_eq!(resolve(ISSUER, "90000001").send().await.data()["registerResolution"]["outcome"], "OTHER_ISSUER");
    app.graphql(UNBIND)
        .var("org", PROVIDER_A)
        .var("issuer", ISSUER)
        .var("scheme", "URA")
        .as_caller(&operator())
        .send()
        .await
        .expect_error("NOT_FOUND");
    let log = app.audit_log(&operator()).await;
    for action in ["bind", "unbind"] {
        assert!(log.iter().any(|e| e["entity"] == "IdentityProviderBinding" && e["action"] == action), "{action}");
    }
}

#[tokio::test]
async fn the_operator_and_the_chair_manage_a_table_with_one_chair() {
    let app = TestApp::spawn().await;
    // Provider A may not seat anyone; the chair of utrecht (provider C) may, in utrecht only.
    app.graphql(SEAT)
        .var("org", PROVIDER_B)
        .var("region", "utrecht")
        .var("role", "MEMBER")
        .as_caller(&provider_a())
        .send()
        .await
        .expect_error("FORBIDDEN");
    app.graphql(SEAT)
        .var("org", PROVIDER_B)
        .var("region", "amsterdam")
        .var("role", "MEMBER")
        .as_caller(&chair())
        .send()
        .await
        .expect_error("FORBIDDEN");
    let resp = app
        .graphql(SEAT)
        .var("org", PROVIDER_B)
        .var("region", "utrecht")
        .var("role", "MEMBER")
        .as_caller(&chair())
        .send()
        .await;
    assert_eq!(
        resp.data()["setTableMembership"],
        json!([{ "organisationId": PROVIDER_B.to_string(), "regionCode": "utrecht", "role": "MEMBER" }])
    );
    // The organisation's regions follow its seats.
    let resp = app
        .graphql("query($id: ID!) { organisation(id: $id) { regions { code } } }")
        .var("id", PROVIDER_B)
        .as_caller(&operator())
        .send()
        .await;
    let codes: Vec<String> = resp.data()["organisation"]["regions"]
        .as_array()
        .expect("regions")
        .iter()
        .filter_map(|r| r["code"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(codes, ["utrecht"], "the fixture seats nobody; its one seat is utrecht now");
    // The operator names a chair, then another: one chair per table.
    app.graphql(SEAT)
        .var("org", PROVIDER_A)
        .var("region", "utrecht")
        .var("role", "CHAIR")
        .as_caller(&operator())
        .send()
        .await;
    let resp = app
        .graphql(SEAT)
        .var("org", PROVIDER_B)
        .var("region", "utrecht")
        .var("role", "CHAIR")
        .as_caller(&operator())
        .send()
        .await;
    let seats = resp.data()["setTableMembership"].as_array().expect("seats").clone();
    let chairs: Vec<&serde_json::Value> = seats.iter().filter(|s| s["role"] == "CHAIR").collect();
    assert_eq!(chairs.len(), 1, "{seats:#?}");
    assert_eq!(chairs[0]["organisationId"], PROVIDER_B.to_string());
    assert!(seats.iter().any(|s| s["organisationId"] == PROVIDER_A.to_string() && s["role"] == "MEMBER"));
    // Everyone reads who sits at the table.
    let resp = app
        .graphql(r#"{ tableMembers(region: "utrecht") { organisationId role } }"#)
        .as_caller(&patient_org())
        .send()
        .await;
    assert_eq!(resp.data()["tableMembers"].as_array().map(Vec::len), Some(2));
    app.graphql(r#"{ tableMembers(region: "nowhere") { role } }"#)
        .as_caller(&patient_org())
        .send()
        .await
        .expect_error("BAD_USER_INPUT");
    // Removing a seat; a second time there is none.
    let resp = app.graphql(UNSEAT).var("org", PROVIDER_A).var("region", "utrecht").as_caller(&chair()).send().await;
    assert_eq!(resp.data()["removeTableMembership"].as_array().map(Vec::len), Some(1));
    app.graphql(UNSEAT)
        .var("org", PROVIDER_A)
        .var("region", "utrecht")
        .as_caller(&operator())
        .send()
        .await
        .expect_error("NOT_FOUND");
    let log = app.audit_log(&operator()).await;
    let changes = log.iter().filter(|e| e["entity"] == "TableMembership").count();
    assert!(changes >= 5, "every seat change is audited: {log:#?}");
    assert!(
        log.iter().any(|e| e["entity"] == "TableMembership" && e["organisationId"] == PROVIDER_C.to_string()),
        "the chair's own changes carry its organisation"
    );
}

#[tokio::test]
async fn me_answers_who_the_gateway_vouched_for_and_entries_are_read_by_their_own() {
    let app = TestApp::spawn().await;
    let resp = app
        .graphql("{ me { organisation { id name } person kind regions roles scopes } }")
        .as_caller(&chair())
        .send()
        .await;
    let me = &resp.data()["me"];
    assert_eq!(me["organisation"]["id"], PROVIDER_C.to_string());
    assert_eq!(me["kind"], "PROVIDER");
    assert_eq!(me["regions"], json!(["utrecht"]));
    assert_eq!(me["roles"], json!(["chair:utrecht"]));
    assert!(me["person"].as_str().is_some_and(|p| !p.is_empty()));
    let entry = "query($id: ID!) { registerEntry(organisationId: $id) { organisationId identifiers { scheme } } }";
    app.graphql(entry).var("id", PROVIDER_A).as_caller(&provider_a()).send().await.data()["registerEntry"]["organisationId"].as_str().expect("own entry");
    app.graphql(entry).var("id", PROVIDER_A).as_caller(&provider_b()).send().await.expect_error("FORBIDDEN");
    assert!(
        app.graphql(entry).var("id", PROVIDER_A).as_caller(&operator()).send().await.data()["registerEntry"]
            .is_object()
    );
}
