//! Expertise networks: read by every organisation but the hub operator, created and changed by
//! the national table only, with member organisations known to the region subgraph.

use ggzhub_national_table::entity::network;
use serde_json::json;

use crate::helpers::*;

const NETWORKS: &str = "query { expertiseNetworks { id name targetGroup members { id } consultationContact version } }";
const NETWORK: &str = r#"query($id: ID!) { expertiseNetwork(id: $id) { id name members { id } } }"#;

#[tokio::test]
async fn national_table_creates_an_expertise_network() {
    let app = TestApp::spawn().await;
    let n = app.create_network("Netwerk Eetstoornissen").await;
    assert_eq!(n["name"], "Netwerk Eetstoornissen");
    assert_eq!(n["targetGroup"], "Eating disorders");
    assert_eq!(n["members"], json!([{"id": PROVIDER_A.to_string()}, {"id": PROVIDER_B.to_string()}]));
    assert_eq!(n["consultationContact"], "Consultation desk of the network (office hours)");
    assert_eq!(n["version"], 1);
    for (who, caller) in readers() {
        let resp = app.graphql(NETWORKS).as_caller(&caller).send().await;
        assert_eq!(resp.data()["expertiseNetworks"], json!([n]), "{who}");
        let resp = app.graphql(NETWORK).var("id", &n["id"]).as_caller(&caller).send().await;
        assert_eq!(resp.data()["expertiseNetwork"]["name"], "Netwerk Eetstoornissen", "{who}");
    }
}

#[tokio::test]
async fn national_table_updates_an_expertise_network() {
    let app = TestApp::spawn().await;
    let n = app.create_network("Netwerk Eetstoornissen").await;
    let resp = app
        .graphql(UPDATE_NETWORK)
        .var("id", &n["id"])
        .var("v", 1)
        .var("input", network_input("Netwerk Eetstoornissen Noord", &[PROVIDER_B, INSURER_Y]))
        .as_caller(&national_table())
        .send()
        .await;
    assert_eq!(
        resp.data()["updateExpertiseNetwork"],
        json!({"id": n["id"], "name": "Netwerk Eetstoornissen Noord",
               "members": [{"id": PROVIDER_B.to_string()}, {"id": INSURER_Y.to_string()}], "version": 2})
    );
}

#[tokio::test]
async fn only_the_national_table_writes_expertise_networks() {
    let app = TestApp::spawn().await;
    let n = app.create_network("Netwerk Eetstoornissen").await;
    for (who, caller) in non_national_writers() {
        let resp = app
            .graphql(CREATE_NETWORK)
            .var("input", network_input("Netwerk Psychose", &[PROVIDER_A]))
            .as_caller(&caller)
            .send()
            .await;
        assert_eq!(resp.error_code_at(&["createExpertiseNetwork"]).as_deref(), Some("FORBIDDEN"), "{who}");
        let resp = app
            .graphql(UPDATE_NETWORK)
            .var("id", &n["id"])
            .var("v", 1)
            .var("input", network_input("Hijacked", &[PROVIDER_A]))
            .as_caller(&caller)
            .send()
            .await;
        assert_eq!(resp.error_code_at(&["updateExpertiseNetwork"]).as_deref(), Some("FORBIDDEN"), "{who}");
    }
    assert_eq!(app.count::<network::Entity>().await, 1);
    let resp = app.graphql(NETWORKS).as_caller(&national_table()).send().await;
    assert_eq!(resp.data()["expertiseNetworks"], json!([n]));
    assert_eq!(app.audit_entries().await.len(), 1);
}

#[tokio::test]
async fn operator_is_forbidden_to_read_expertise_networks() {
    let app = TestApp::spawn().await;
    let n = app.create_network("Netwerk Eetstoornissen").await;
    let resp = app.graphql(NETWORKS).as_caller(&operator()).send().await;
    assert_refused(&resp, "expertiseNetworks", "FORBIDDEN");
    let resp = app.graphql(NETWORK).var("id", &n["id"]).as_caller(&operator()).send().await;
    assert_refused(&resp, "expertiseNetwork", "FORBIDDEN");
}

#[tokio::test]
async fn updating_an_unknown_network_is_not_found() {
    let app = TestApp::spawn().await;
    let resp = app
        .graphql(UPDATE_NETWORK)
        .var("id", uuid::Uuid::now_v7())
        .var("v", 1)
        .var("input", network_input("Netwerk", &[PROVIDER_A]))
        .as_caller(&national_table())
        .send()
        .await;
    assert_refused(&resp, "updateExpertiseNetwork", "NOT_FOUND");
}
