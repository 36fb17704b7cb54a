//! The audit log.

use super::contracting::{CREATE_CONTRACT, CREATE_GUIDELINE};
use super::national_table::UPDATE_KPI;
use super::overviews::{OVERVIEW_NOTES, RAISE_ESCALATION, SUBMIT_INPUT, UPDATE_NOTES};
use super::regions_and_offers::{CREATE_REGION, OFFER_STATE, RENAME_OFFER};
use super::*;

const AUDIT_Q: &str = "{
    auditLog(first: 100) { nodes { organisationId entity entityId action change } }
    nationalTableAuditLog(first: 100) { nodes { organisationId entity entityId action change } }
}";
/// Without the recorded values: what the public contract schema offers a patient organisation.
const AUDIT_ENTRIES: &str = "{
    auditLog(first: 100) { nodes { organisationId entity entityId action } }
    nationalTableAuditLog(first: 100) { nodes { organisationId entity entityId action } }
}";

const CONTRACTING_AUDIT_Q: &str =
    "{ contractingAuditLog(first: 100) { nodes { organisationId entity entityId action change } } }";

fn by<'a>(body: &'a Value, log: &str, org: &str) -> Vec<&'a Value> {
    list(body, &format!("/{log}/nodes")).iter().filter(|e| e["organisationId"] == org).collect()
}

/// Another organisation's entry shows which fields changed, never their values.
fn redacted(entry: &Value) -> bool {
    entry["change"].as_object().is_some_and(|o| o.len() == 1 && o.get("fields").is_some_and(Value::is_array))
}

#[tokio::test]
async fn access_matrix_audit_log() {
    let hub = Hub::start();
    let cast = Cast::demo(&hub);
    let mut cells = Cells::default();

    // One audited action of each organisation, in the region and national-table subgraphs.
    let state = hub.gql(&cast.provider, OFFER_STATE, json!({ "id": FACT_NIEUWEGEIN })).await;
    let v = version(&state, "/careOffer/version");
    let body = hub.gql(&cast.provider, RENAME_OFFER, json!({ "id": FACT_NIEUWEGEIN, "v": v })).await;
    assert!(clean(&body), "the provider renames its offer: {body}");
    let body = hub.gql(&cast.provider, RAISE_ESCALATION, json!({ "r": "utrecht" })).await;
    assert!(clean(&body), "the provider (chair) raises an escalation: {body}");
    let draft = hub.gql(&cast.insurer, OVERVIEW_NOTES, json!({ "r": "utrecht", "y": 2027 })).await;
    let body = hub
        .gql(
            &cast.insurer,
            UPDATE_NOTES,
            json!({ "id": at(&draft, "/regionalOverview/id"), "v": at(&draft, "/regionalOverview/version"), "notes": "E2E: audit" }),
        )
        .await;
    assert!(clean(&body), "the insurer changes the draft's notes: {body}");
    let body = hub.gql(&cast.patient, SUBMIT_INPUT, json!({ "r": "utrecht", "y": 2026 })).await;
    assert!(clean(&body), "the patient organisation submits input: {body}");
    let kpis = hub.gql(&cast.national, "{ nationalKpis { code version } }", json!({})).await;
    let body = hub
        .gql(
            &cast.national,
            UPDATE_KPI,
            json!({ "code": at(&kpis, "/nationalKpis/0/code"), "v": at(&kpis, "/nationalKpis/0/version"), "name": "E2E: audit" }),
        )
        .await;
    assert!(clean(&body), "the national table changes a KPI: {body}");
    let body = hub.gql(&cast.operator, CREATE_REGION, json!({ "code": "proef-audit" })).await;
    assert!(clean(&body), "the operator creates a region: {body}");

    // (audit log): providers, insurers and patient organisations read their own actions in both
    // logs (providers and insurers with their values; a patient organisation may be served the
    // public schema, which lists entries without them).
    let own = [
        (PROVIDER, &cast.provider, "CareOffer", "auditLog", AUDIT_Q),
        (PROVIDER, &cast.provider, "Escalation", "nationalTableAuditLog", AUDIT_Q),
        (INSURER, &cast.insurer, "RegionalOverview", "auditLog", AUDIT_Q),
        (PATIENT, &cast.patient, "PatientInput", "auditLog", AUDIT_ENTRIES),
    ];
    for (column, who, entity, log, query) in own {
        let body = hub.gql(who, query, json!({})).await;
        let mine = by(&body, log, who.id);
        cells.check(
            (AUDIT, column),
            clean(&body) && mine.iter().any(|e| e["entity"] == entity && (e.get("change").is_none() || !redacted(e))),
            &format!("reads its own {entity} entry in {log} (with its values when it asks for them)"),
            &body,
        );
        let all_own = ["auditLog", "nationalTableAuditLog"]
            .iter()
            .all(|log| list(&body, &format!("/{log}/nodes")).iter().all(|e| e["organisationId"] == who.id));
        cells.check((AUDIT, column), all_own, "reads no other organisation's actions", &body);
    }
    let body = hub.gql(&cast.provider, AUDIT_Q, json!({})).await;
    cells.check(
        (AUDIT, PROVIDER),
        by(&body, "auditLog", KROMME_RIJN).iter().any(|e| e["change"]["unitName"] == "E2E hernoemd"),
        "its own entry carries the changed value",
        &body,
    );
    // The national table and the operator read everyone's actions, others' values redacted.
    for (column, who) in [(NATIONAL, &cast.national), (OPERATOR, &cast.operator)] {
        let body = hub.gql(who, AUDIT_Q, json!({})).await;
        let region_orgs = [KROMME_RIJN, POLDER, STEMKRACHT];
        cells.check(
            (AUDIT, column),
            clean(&body) && region_orgs.iter().all(|org| !by(&body, "auditLog", org).is_empty()),
            "reads the provider's, insurer's and patient organisation's actions in the region log",
            &body,
        );
        cells.check(
            (AUDIT, column),
            by(&body, "auditLog", KROMME_RIJN)
                .iter()
                .any(|e| e["entity"] == "CareOffer" && e["change"] == json!({ "fields": ["unitName"] })),
            "another organisation's change shows the changed fields, not the values",
            &body,
        );
        let others = region_orgs.iter().chain([&LANDELIJKE_TAFEL, &BEHEER]).filter(|org| **org != who.id);
        let mut others_redacted = true;
        for org in others {
            for log in ["auditLog", "nationalTableAuditLog"] {
                others_redacted &= by(&body, log, org).iter().all(|e| redacted(e));
            }
        }
        cells.check((AUDIT, column), others_redacted, "every other organisation's entry is redacted", &body);
        cells.check(
            (AUDIT, column),
            by(&body, "nationalTableAuditLog", KROMME_RIJN).iter().any(|e| e["entity"] == "Escalation")
                && !by(&body, "nationalTableAuditLog", LANDELIJKE_TAFEL).is_empty(),
            "reads the national-table log: the chair's escalation and the national table's KPI change",
            &body,
        );
    }
    let body = hub.gql(&cast.national, AUDIT_Q, json!({})).await;
    cells.check(
        (AUDIT, NATIONAL),
        by(&body, "nationalTableAuditLog", LANDELIJKE_TAFEL).iter().any(|e| e["change"]["name"] == "E2E: audit"),
        "its own entry carries the changed value",
        &body,
    );

    // The contracting log: a contract's entries are read only by the organisation that acted
    // (who contracts with whom, and when, are terms); the national table and the operator read
    // the guideline entries.
    let terms = json!({
        "firstYear": 2027, "lastYear": 2028, "coveredOfferIds": [IHT_ZEIST], "kpis": [],
        "volumeAgreement": "E2E: volume", "guarantee": { "amountEur": 1234567.0, "description": "E2E: garantie" },
        "evaluationMoments": [], "notes": "E2E: notities"
    });
    let body = hub.gql(&cast.insurer, CREATE_CONTRACT, json!({ "p": KROMME_RIJN, "t": terms })).await;
    assert!(clean(&body), "the insurer drafts a contract: {body}");
    let contract = at(&body, "/createContract/id").as_str().expect("an id").to_owned();
    let body = hub.gql(&cast.national, CREATE_GUIDELINE, json!({ "title": "E2E: audit" })).await;
    assert!(clean(&body), "the national table publishes a guideline: {body}");
    let body = hub.gql(&cast.insurer, CONTRACTING_AUDIT_Q, json!({})).await;
    cells.check(
        (AUDIT, INSURER),
        clean(&body)
            && list(&body, "/contractingAuditLog/nodes").iter().any(|e| {
                e["entity"] == "Contract" && e["entityId"] == contract.as_str() && e["change"]["status"] == "DRAFT"
            })
            && list(&body, "/contractingAuditLog/nodes").iter().all(|e| e["organisationId"] == POLDER),
        "reads its own contract entry with its values, and no one else's",
        &body,
    );
    let body = hub.gql(&cast.provider, CONTRACTING_AUDIT_Q, json!({})).await;
    cells.check(
        (AUDIT, PROVIDER),
        clean(&body) && !body.to_string().contains(&contract),
        "the other party reads nothing of the insurer's action",
        &body,
    );
    for (column, who) in [(NATIONAL, &cast.national), (OPERATOR, &cast.operator)] {
        let body = hub.gql(who, CONTRACTING_AUDIT_Q, json!({})).await;
        let entries = list(&body, "/contractingAuditLog/nodes");
        cells.check(
            (AUDIT, column),
            clean(&body)
                && entries.iter().any(|e| e["entity"] == "ContractingGuideline")
                && entries.iter().all(|e| e["entity"] != "Contract")
                && !body.to_string().contains(&contract)
                && !body.to_string().contains("1234567"),
            "reads the guideline entries and none of a contract",
            &body,
        );
    }
    cells.finish();
}
