//! The national table's audit log: own actions with values; the national table and the operator
//! see everyone's, with only the names of the fields others changed.

use serde_json::json;

use crate::helpers::*;

const LOG: &str = "query { nationalTableAuditLog(first: 50) { nodes { organisationId entity action change } } }";

#[tokio::test]
async fn each_reads_its_own_actions_and_the_national_table_reads_all_without_values() {
    let app = TestApp::spawn().await;
    app.raise().await;

    let own = app.graphql(LOG).as_caller(&chair()).send().await;
    let nodes = own.data()["nationalTableAuditLog"]["nodes"].as_array().expect("nodes").clone();
    assert_eq!(nodes.len(), 1, "{:#}", own.body);
    assert_eq!(nodes[0]["entity"], "Escalation");
    assert_eq!(nodes[0]["change"]["regionCode"], "utrecht", "the actor sees its own values");

    for reader in [national_table(), operator()] {
        let all = app.graphql(LOG).as_caller(&reader).send().await;
        let nodes = all.data()["nationalTableAuditLog"]["nodes"].as_array().expect("nodes").clone();
        let raised = nodes.iter().find(|n| n["action"] == "raise").expect("the raise is listed");
        assert_eq!(raised["change"], json!({ "fields": ["category", "regionCode", "urgency"] }));
    }

    let others = app.graphql(LOG).as_caller(&provider_b()).send().await;
    assert_eq!(others.data()["nationalTableAuditLog"]["nodes"], json!([]), "nobody else's actions");
}
