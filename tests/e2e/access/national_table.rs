//! The national table: escalations and measures, supra-regional list, networks, KPIs.

use super::*;

pub(super) const ESCALATION_Q: &str = "query($id: ID!) { escalation(id: $id) { \
    id regionCode status raisedAt version publicSummary problem regionTried measures { id title } } }";
/// Only the public part of an escalation (region, category, target group, status, summary).
pub(super) const ESCALATION_PUBLIC: &str =
    "query($id: ID!) { escalation(id: $id) { id regionCode category targetGroup status publicSummary decidedAt } }";
const ESCALATION_LISTS: &str = r#"{ escalations(first: 100) { nodes { id status regionCode } } region(code: "utrecht") { escalations { id status } } }"#;
const TRANSITION: &str = r#"mutation($id: ID!, $v: Int!) {
    transitionEscalation(id: $id, expectedVersion: $v, input: { to: IN_DISCUSSION, note: "E2E: geagendeerd" }) { id status version }
}"#;
const ADD_MEASURE: &str = r#"mutation($id: ID!, $owner: ID!) {
    addMeasure(escalationId: $id, input: { title: "E2E maatregel", description: "E2E: afspraak over beveiligde bedden.",
        ownerOrganisationId: $owner, dueDate: "2027-06-30" }) { id title owner { id } }
}"#;
const NATIONAL_LISTS_Q: &str = "{
    supraRegionalListings(first: 100) { nodes { id version targetGroup hs8 offer { id } } }
    expertiseNetworks { id version name targetGroup consultationContact members { id } }
    nationalKpis { code version name targets { year value } }
}";
pub(super) const UPDATE_KPI: &str = "mutation($code: String!, $v: Int!, $name: String!) { \
    updateNationalKpi(code: $code, expectedVersion: $v, input: { name: $name }) { code version name } }";
const UPDATE_LISTING: &str = "mutation($id: ID!, $v: Int!, $group: String!) { \
    updateSupraRegionalListing(id: $id, expectedVersion: $v, input: { targetGroup: $group }) { id version targetGroup } }";
const UPDATE_NETWORK: &str = "mutation($id: ID!, $v: Int!, $input: NetworkInput!) { \
    updateExpertiseNetwork(id: $id, expectedVersion: $v, input: $input) { id version name } }";

fn decided(status: &Value) -> bool {
    ["MEASURE_AGREED", "RESOLVED", "DECLINED"].iter().any(|s| status == s)
}

#[tokio::test]
async fn access_matrix_national_table() {
    let hub = Hub::start();
    let cast = Cast::demo(&hub);
    let noorderlicht = hub.mint(NOORDERLICHT);
    let wadkust = hub.mint(WADKUST);
    let mut cells = Cells::default();
    let missing = hub.gql(&cast.patient, ESCALATION_PUBLIC, json!({ "id": UNKNOWN_ID })).await;
    assert_eq!(missing, json!({ "data": { "escalation": null } }), "an unknown escalation is null");

    // (escalation and measures): R for the raising region's providers and insurers, the public
    // summary once decided for everyone else (but the operator), RW for the national table.
    let participants = [(PROVIDER, &cast.provider), (INSURER, &cast.insurer), (NATIONAL, &cast.national)];
    for (column, who) in participants {
        let body = hub.gql(who, ESCALATION_Q, json!({ "id": ESC_UTRECHT_SUBMITTED })).await;
        cells.check(
            (ESCALATIONS, column),
            clean(&body)
                && at(&body, "/escalation/status") == "SUBMITTED"
                && at(&body, "/escalation/problem").is_string(),
            "reads an undecided escalation of its region in full",
            &body,
        );
        let body = hub.gql(who, ESCALATION_Q, json!({ "id": ESC_UTRECHT_AGREED })).await;
        cells.check(
            (ESCALATIONS, column),
            clean(&body) && list(&body, "/escalation/measures").len() == 4,
            "reads the agreed measures",
            &body,
        );
    }
    let body = hub.gql(&wadkust, ESCALATION_Q, json!({ "id": ESC_DRENTHE_DECLINED })).await;
    cells.check(
        (ESCALATIONS, INSURER),
        clean(&body) && at(&body, "/escalation/problem").is_string(),
        "an insurer reads in full the escalations of a region where it takes part (drenthe)",
        &body,
    );
    let outsiders = [
        (PROVIDER, &noorderlicht, "a provider from another region"),
        (INSURER, &wadkust, "an insurer from another region"),
        (PATIENT, &cast.patient, "a patient organisation, even of the raising region"),
    ];
    for (column, who, whom) in outsiders {
        let body = hub.gql(who, ESCALATION_PUBLIC, json!({ "id": ESC_UTRECHT_SUBMITTED })).await;
        cells.check(
            (ESCALATIONS, column),
            body == missing,
            &format!("an undecided escalation answers {whom} as a missing one"),
            &body,
        );
        let body = hub.gql(who, ESCALATION_PUBLIC, json!({ "id": ESC_UTRECHT_AGREED })).await;
        cells.check(
            (ESCALATIONS, column),
            clean(&body)
                && at(&body, "/escalation/status") == "MEASURE_AGREED"
                && at(&body, "/escalation/publicSummary").is_string(),
            &format!("{whom} reads a decided escalation's public summary"),
            &body,
        );
        let body = hub.gql(who, ESCALATION_Q, json!({ "id": ESC_UTRECHT_AGREED })).await;
        cells.check(
            (ESCALATIONS, column),
            (at(&body, "/escalation/status") == "MEASURE_AGREED"
                && ["raisedAt", "version", "problem", "regionTried", "measures"]
                    .iter()
                    .all(|f| forbidden(&body, &format!("/escalation/{f}"))))
                || (column == PATIENT
                    && ["raisedAt", "version", "problem", "regionTried", "measures"]
                        .iter()
                        .all(|f| not_in_schema(&body, f))),
            &format!("{whom} reads neither when it was raised, its version, the problem, what the region tried nor the measures"),
            &body,
        );
    }
    let body = hub.gql(&cast.patient, ESCALATION_LISTS, json!({})).await;
    let listed = list(&body, "/escalations/nodes");
    let in_region = list(&body, "/region/escalations");
    cells.check(
        (ESCALATIONS, PATIENT),
        clean(&body)
            && listed.iter().any(|e| e["id"] == ESC_UTRECHT_AGREED)
            && listed.iter().chain(in_region).all(|e| decided(&e["status"]))
            && !in_region.is_empty(),
        "lists decided escalations only",
        &body,
    );
    let body = hub.gql(&cast.provider, ESCALATION_LISTS, json!({})).await;
    let listed = ids(&body, "/escalations/nodes");
    cells.check(
        (ESCALATIONS, PROVIDER),
        clean(&body)
            && listed.iter().any(|id| id == ESC_UTRECHT_SUBMITTED)
            && !listed.iter().any(|id| id == ESC_T_GOOI_SUBMITTED)
            && ids(&body, "/region/escalations").iter().any(|id| id == ESC_UTRECHT_SUBMITTED),
        "lists its own region's undecided escalations, not another region's",
        &body,
    );
    let body = hub.gql(&cast.insurer, ESCALATION_LISTS, json!({})).await;
    let listed = ids(&body, "/escalations/nodes");
    cells.check(
        (ESCALATIONS, INSURER),
        clean(&body)
            && listed.iter().any(|id| id == ESC_T_GOOI_SUBMITTED)
            && !listed.iter().any(|id| id == "df18d1d6-e908-530a-989d-b52a8048760a"),
        "lists the undecided escalations of its regions (t-gooi), not of others (zeeland)",
        &body,
    );
    let body = hub.gql(&cast.national, ESCALATION_LISTS, json!({})).await;
    cells.check(
        (ESCALATIONS, NATIONAL),
        clean(&body) && list(&body, "/escalations/nodes").len() >= 6,
        "lists every escalation",
        &body,
    );
    let body = hub.gql(&cast.operator, ESCALATION_Q, json!({ "id": ESC_UTRECHT_AGREED })).await;
    cells.check((ESCALATIONS, OPERATOR), forbidden(&body, "/escalation"), "an escalation is FORBIDDEN", &body);
    let body = hub.gql(&cast.operator, "{ escalations(first: 10) { nodes { id } } }", json!({})).await;
    cells.check((ESCALATIONS, OPERATOR), forbidden(&body, "/escalations"), "the list is FORBIDDEN", &body);
    // W: the national table only.
    let t_gooi = hub.gql(&cast.national, ESCALATION_Q, json!({ "id": ESC_T_GOOI_SUBMITTED })).await;
    let v = version(&t_gooi, "/escalation/version");
    let others =
        [(PROVIDER, &cast.provider), (INSURER, &cast.insurer), (PATIENT, &cast.patient), (OPERATOR, &cast.operator)];
    for (column, who) in others {
        let body = hub.gql(who, TRANSITION, json!({ "id": ESC_T_GOOI_SUBMITTED, "v": v })).await;
        cells.check(
            (ESCALATIONS, column),
            refused_to(column, &body, "/transitionEscalation"),
            "may not move an escalation",
            &body,
        );
        let body = hub.gql(who, ADD_MEASURE, json!({ "id": ESC_UTRECHT_AGREED, "owner": KROMME_RIJN })).await;
        cells.check((ESCALATIONS, column), refused_to(column, &body, "/addMeasure"), "may not add a measure", &body);
    }
    let body = hub.gql(&cast.national, TRANSITION, json!({ "id": ESC_T_GOOI_SUBMITTED, "v": v })).await;
    cells.check(
        (ESCALATIONS, NATIONAL),
        clean(&body)
            && at(&body, "/transitionEscalation/status") == "IN_DISCUSSION"
            && at(&body, "/transitionEscalation/version") == v + 1,
        "moves an escalation (after every refused attempt it was still at its version)",
        &body,
    );
    let body = hub.gql(&cast.national, ADD_MEASURE, json!({ "id": ESC_T_GOOI_SUBMITTED, "owner": KROMME_RIJN })).await;
    cells.check(
        (ESCALATIONS, NATIONAL),
        clean(&body) && at(&body, "/addMeasure/owner/id") == KROMME_RIJN,
        "adds a measure",
        &body,
    );

    // (supra-regional listing, expertise networks, national KPIs): R for all but the operator,
    // RW for the national table.
    for (column, who) in
        [(PROVIDER, &cast.provider), (INSURER, &cast.insurer), (PATIENT, &cast.patient), (NATIONAL, &cast.national)]
    {
        let body = hub.gql(who, NATIONAL_LISTS_Q, json!({})).await;
        cells.check(
            (NATIONAL_LISTS, column),
            clean(&body)
                && list(&body, "/supraRegionalListings/nodes").len() == 24
                && list(&body, "/expertiseNetworks").len() == 5
                && list(&body, "/nationalKpis").len() == 5,
            "reads the supra-regional list (24), the expertise networks (5) and the national KPIs (5)",
            &body,
        );
    }
    for (query, field) in [
        ("{ supraRegionalListings(first: 10) { nodes { id } } }", "/supraRegionalListings"),
        ("{ expertiseNetworks { id } }", "/expertiseNetworks"),
        ("{ nationalKpis { code } }", "/nationalKpis"),
    ] {
        let body = hub.gql(&cast.operator, query, json!({})).await;
        cells.check((NATIONAL_LISTS, OPERATOR), forbidden(&body, field), &format!("{field} is FORBIDDEN"), &body);
    }
    let lists = hub.gql(&cast.national, NATIONAL_LISTS_Q, json!({})).await;
    let kpi = at(&lists, "/nationalKpis/0").clone();
    let listing = at(&lists, "/supraRegionalListings/nodes/0").clone();
    let network = at(&lists, "/expertiseNetworks/0").clone();
    let members: Vec<Value> = list(&lists, "/expertiseNetworks/0/members").iter().map(|m| m["id"].clone()).collect();
    let network_input = |name: &str| {
        json!({
            "name": name,
            "targetGroup": network["targetGroup"],
            "memberOrganisationIds": members,
            "consultationContact": network["consultationContact"],
        })
    };
    let others =
        [(PROVIDER, &cast.provider), (INSURER, &cast.insurer), (PATIENT, &cast.patient), (OPERATOR, &cast.operator)];
    for (column, who) in others {
        let body = hub
            .gql(who, UPDATE_KPI, json!({ "code": kpi["code"], "v": kpi["version"], "name": "E2E: mag niet" }))
            .await;
        cells.check(
            (NATIONAL_LISTS, column),
            refused_to(column, &body, "/updateNationalKpi"),
            "may not change a KPI",
            &body,
        );
        let body = hub
            .gql(who, UPDATE_LISTING, json!({ "id": listing["id"], "v": listing["version"], "group": "E2E: mag niet" }))
            .await;
        cells.check(
            (NATIONAL_LISTS, column),
            refused_to(column, &body, "/updateSupraRegionalListing"),
            "may not change a listing",
            &body,
        );
        let input = network_input("E2E: mag niet");
        let body =
            hub.gql(who, UPDATE_NETWORK, json!({ "id": network["id"], "v": network["version"], "input": input })).await;
        cells.check(
            (NATIONAL_LISTS, column),
            refused_to(column, &body, "/updateExpertiseNetwork"),
            "may not change an expertise network",
            &body,
        );
    }
    let body = hub
        .gql(&cast.national, UPDATE_KPI, json!({ "code": kpi["code"], "v": kpi["version"], "name": "E2E: KPI" }))
        .await;
    cells.check(
        (NATIONAL_LISTS, NATIONAL),
        clean(&body) && at(&body, "/updateNationalKpi/name") == "E2E: KPI",
        "changes a KPI",
        &body,
    );
    let body = hub
        .gql(
            &cast.national,
            UPDATE_LISTING,
            json!({ "id": listing["id"], "v": listing["version"], "group": "E2E: doelgroep" }),
        )
        .await;
    cells.check(
        (NATIONAL_LISTS, NATIONAL),
        clean(&body) && at(&body, "/updateSupraRegionalListing/targetGroup") == "E2E: doelgroep",
        "changes a listing",
        &body,
    );
    let input = network_input("E2E: netwerk");
    let body = hub
        .gql(&cast.national, UPDATE_NETWORK, json!({ "id": network["id"], "v": network["version"], "input": input }))
        .await;
    cells.check(
        (NATIONAL_LISTS, NATIONAL),
        clean(&body) && at(&body, "/updateExpertiseNetwork/name") == "E2E: netwerk",
        "changes an expertise network",
        &body,
    );
    cells.finish();
}
