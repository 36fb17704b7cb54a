//! Contracting: contract terms, contract coverage, guidelines.

use super::regions_and_offers::entities_query;
use super::*;

const CONTRACT_Q: &str = "query($id: ID!) { contract(id: $id) { id status insurer { id } provider { id } \
    firstYear lastYear terms { volumeAgreement guarantee { amountEur } kpis { kpiCode } } coveredOffers { id } } }";
const CONTRACTS_Q: &str =
    "{ contracts(first: 100) { nodes { id insurer { id } provider { id } terms { guarantee { amountEur } } } } }";
const ORG_CONTRACTS: &str = "query($id: ID!) { organisation(id: $id) { id name contracts { id insurer { id } } } }";
const CONTRACT_ALIASES: &str = "query($id: ID!) { a: contract(id: $id) { terms { notes } } b: contract(id: $id) { id terms { volumeAgreement } } }";
const TERMINATE: &str =
    "mutation($id: ID!) { terminateContract(id: $id, expectedVersion: 1, reason: \"E2E: mag niet\") { id status } }";
const COVERAGE_Q: &str = "query($id: ID!) { careOffer(id: $id) { id unitName \
    contractCoverage { year band otherInsurers continuitySecuredUntil } } }";
const COVERAGE_ALIASES: &str = "query($id: ID!) { careOffer(id: $id) { id \
    x: contractCoverage { otherInsurers } y: contractCoverage { continuitySecuredUntil } } }";
const GUIDELINES_Q: &str = "{ contractingGuidelines { id version year title } }";
pub(super) const CREATE_GUIDELINE: &str = r#"mutation($title: String!) {
    createContractingGuideline(year: 2028, title: $title, body: "E2E: spelregels voor 2028.") { id year title }
}"#;
const UPDATE_GUIDELINE: &str = r#"mutation($id: ID!, $v: Int!) {
    updateContractingGuideline(id: $id, expectedVersion: $v, title: "E2E: spelregels", body: "E2E: bijgewerkt.") { id version title }
}"#;

#[tokio::test]
async fn access_matrix_contracting() {
    let hub = Hub::start();
    let cast = Cast::demo(&hub);
    let eemland = hub.mint(EEMLAND);
    let noorderlicht = hub.mint(NOORDERLICHT);
    let wadkust = hub.mint(WADKUST);
    let mut cells = Cells::default();
    let missing = hub.gql(&cast.insurer, CONTRACT_Q, json!({ "id": UNKNOWN_ID })).await;
    assert_eq!(missing, json!({ "data": { "contract": null } }), "an unknown contract is null");

    // (contract terms): its two parties only; to anyone else a contract does not exist.
    let parties = [
        (INSURER, &cast.insurer, K_POLDER_KR, "the insurer"),
        (PROVIDER, &cast.provider, K_POLDER_KR, "the provider"),
        (INSURER, &wadkust, K_WADKUST_KR, "the insurer"),
    ];
    for (column, who, contract, party) in parties {
        let body = hub.gql(who, CONTRACT_Q, json!({ "id": contract })).await;
        cells.check(
            (CONTRACT_TERMS, column),
            clean(&body)
                && at(&body, "/contract/id") == contract
                && at(&body, "/contract/terms/guarantee/amountEur").is_number()
                && at(&body, "/contract/terms/volumeAgreement").is_string(),
            &format!("{party} reads its own contract's terms"),
            &body,
        );
    }
    let body = hub.gql(&cast.insurer, CONTRACT_Q, json!({ "id": K_POLDER_KR })).await;
    cells.check(
        (CONTRACT_TERMS, INSURER),
        at(&body, "/contract/terms/guarantee/amountEur").as_f64() == Some(3_800_000.0),
        "the terms are the stored ones",
        &body,
    );
    let strangers = [
        (INSURER, &cast.insurer, K_WADKUST_KR, "another insurer's contract with the same provider"),
        (INSURER, &cast.insurer, K_KEMPENPAD_EEMLAND, "a contract in the region it coordinates"),
        (INSURER, &wadkust, K_POLDER_KR, "another insurer's contract covering an offer it contracts too"),
        (PROVIDER, &cast.provider, K_KEMPENPAD_EEMLAND, "another provider's contract"),
        (PROVIDER, &eemland, K_POLDER_KR, "another provider's contract"),
    ];
    for (column, who, contract, whose) in strangers {
        let body = hub.gql(who, CONTRACT_Q, json!({ "id": contract })).await;
        cells.check(
            (CONTRACT_TERMS, column),
            body == missing,
            &format!("{whose} answers as a missing contract"),
            &body,
        );
    }
    let body = hub.gql(&cast.insurer, CONTRACTS_Q, json!({})).await;
    let nodes = list(&body, "/contracts/nodes");
    cells.check(
        (CONTRACT_TERMS, INSURER),
        clean(&body)
            && nodes.iter().any(|n| n["id"] == K_POLDER_KR)
            && nodes.iter().all(|n| n["insurer"]["id"] == POLDER),
        "lists only its own contracts",
        &body,
    );
    let body = hub.gql(&cast.provider, CONTRACTS_Q, json!({})).await;
    let mut listed = ids(&body, "/contracts/nodes");
    listed.sort();
    let mut own = vec![K_POLDER_KR, K_WADKUST_KR, K_HEIDEZICHT_KR, K_DUINRAND_KR];
    own.sort();
    cells.check(
        (CONTRACT_TERMS, PROVIDER),
        clean(&body)
            && listed == own
            && list(&body, "/contracts/nodes").iter().all(|n| n["provider"]["id"] == KROMME_RIJN),
        "lists exactly its own four contracts",
        &body,
    );
    let body = hub.gql(&wadkust, ORG_CONTRACTS, json!({ "id": KROMME_RIJN })).await;
    cells.check(
        (CONTRACT_TERMS, INSURER),
        clean(&body) && ids(&body, "/organisation/contracts") == [K_WADKUST_KR],
        "Organisation.contracts shows only the caller's own contracts with that provider",
        &body,
    );
    let body = hub.gql(&wadkust, CONTRACT_ALIASES, json!({ "id": K_POLDER_KR })).await;
    cells.check(
        (CONTRACT_TERMS, INSURER),
        body == json!({ "data": { "a": null, "b": null } }),
        "another insurer's contract under two aliases: null both times",
        &body,
    );
    let q = entities_query("Contract", K_POLDER_KR, "terms { volumeAgreement guarantee { amountEur } }");
    let body = hub.gql(&wadkust, &q, json!({})).await;
    cells.check(
        (CONTRACT_TERMS, INSURER),
        unknown_at_gateway(&body) && !body.to_string().contains("3800000"),
        "an _entities query for another insurer's contract is refused at the gateway",
        &body,
    );
    let body = hub.gql(&wadkust, TERMINATE, json!({ "id": K_POLDER_KR })).await;
    cells.check(
        (CONTRACT_TERMS, INSURER),
        refused(&body, "/terminateContract", "NOT_FOUND"),
        "may not terminate another insurer's contract (answers as a missing one)",
        &body,
    );
    let nobody = [(PATIENT, &cast.patient), (NATIONAL, &cast.national), (OPERATOR, &cast.operator)];
    for (column, who) in nobody {
        let body = hub.gql(who, CONTRACT_Q, json!({ "id": K_POLDER_KR })).await;
        cells.check((CONTRACT_TERMS, column), refused_to(column, &body, "/contract"), "contract(id) is refused", &body);
        let body = hub.gql(who, CONTRACTS_Q, json!({})).await;
        cells.check((CONTRACT_TERMS, column), refused_to(column, &body, "/contracts"), "contracts is refused", &body);
        let body = hub.gql(who, CONTRACT_ALIASES, json!({ "id": K_POLDER_KR })).await;
        cells.check(
            (CONTRACT_TERMS, column),
            (forbidden(&body, "/a") && forbidden(&body, "/b"))
                || (column == PATIENT && not_in_schema(&body, "contract")),
            "both aliases of contract(id) are refused",
            &body,
        );
        // `contracts` is a non-null list: its FORBIDDEN nulls the organisation.
        let body = hub.gql(who, ORG_CONTRACTS, json!({ "id": KROMME_RIJN })).await;
        cells.check(
            (CONTRACT_TERMS, column),
            (forbidden_entity_field(&body, "/organisation/contracts") && at(&body, "/organisation").is_null())
                || (column == PATIENT && not_in_schema(&body, "contracts")),
            "Organisation.contracts is refused (FORBIDDEN nulls the organisation: the list is non-null)",
            &body,
        );
        let body = hub.gql(who, &q, json!({})).await;
        cells.check(
            (CONTRACT_TERMS, column),
            unknown_at_gateway(&body) && !body.to_string().contains("3800000"),
            "an _entities query for a contract is refused at the gateway",
            &body,
        );
        let body = hub.gql(who, TERMINATE, json!({ "id": K_POLDER_KR })).await;
        cells.check(
            (CONTRACT_TERMS, column),
            refused_to(column, &body, "/terminateContract"),
            "may not terminate",
            &body,
        );
    }
    let body = hub.gql(&cast.insurer, CONTRACT_Q, json!({ "id": K_POLDER_KR })).await;
    cells.check(
        (CONTRACT_TERMS, INSURER),
        at(&body, "/contract/status") == "AGREED",
        "the contract is still agreed after the refused terminations",
        &body,
    );

    // (contract coverage per offer): an aggregate for the region's providers and insurers and
    // the national table, over the insurers other than the caller and only with at least three
    // of them behind it; the offer's own provider reads the figures of its own contracts.
    // The crisis service: Polder, Wadkust, Heidezicht and Duinrand contract it.
    let readers = [
        (PROVIDER, &cast.provider, 4, "its own offer"),
        (PROVIDER, &eemland, 4, "another provider's offer"),
        (INSURER, &cast.insurer, 3, "an offer it contracts with three others"),
        (NATIONAL, &cast.national, 4, "an offer"),
    ];
    for (column, who, n, what) in readers {
        let body = hub.gql(who, COVERAGE_Q, json!({ "id": CRISIS_UTRECHT })).await;
        cells.check(
            (COVERAGE, column),
            clean(&body)
                && at(&body, "/careOffer/contractCoverage/band") == "EXACT"
                && at(&body, "/careOffer/contractCoverage/otherInsurers") == n
                && at(&body, "/careOffer/contractCoverage/continuitySecuredUntil").is_i64(),
            &format!("reads the coverage of {what} ({n} insurers other than itself, secured until a year)"),
            &body,
        );
    }
    // HIC Zuid: Polder alone. Its provider reads its own contract; nobody else reads a thing.
    let body = hub.gql(&cast.provider, COVERAGE_Q, json!({ "id": HIC_ZUID })).await;
    cells.check(
        (COVERAGE, PROVIDER),
        clean(&body)
            && at(&body, "/careOffer/contractCoverage/otherInsurers") == 1
            && at(&body, "/careOffer/contractCoverage/continuitySecuredUntil") == 2028,
        "the offer's provider reads the figures of its own single contract",
        &body,
    );
    for (column, who) in [(PROVIDER, &eemland), (INSURER, &cast.insurer), (NATIONAL, &cast.national)] {
        let body = hub.gql(who, COVERAGE_Q, json!({ "id": HIC_ZUID })).await;
        cells.check(
            (COVERAGE, column),
            clean(&body)
                && at(&body, "/careOffer/contractCoverage/band") == "FEWER_THAN_THREE"
                && at(&body, "/careOffer/contractCoverage/otherInsurers").is_null()
                && at(&body, "/careOffer/contractCoverage/continuitySecuredUntil").is_null(),
            "a single insurer's coverage is one band for 0, 1 and 2: no count, no end year",
            &body,
        );
    }
    let refused_coverage = [
        (PROVIDER, &noorderlicht, "a provider from another region"),
        (INSURER, &wadkust, "an insurer from another region, even one contracting the offer"),
        (PATIENT, &cast.patient, "a patient organisation"),
        (OPERATOR, &cast.operator, "the hub operator"),
    ];
    for (column, who, whom) in refused_coverage {
        let body = hub.gql(who, COVERAGE_Q, json!({ "id": CRISIS_UTRECHT })).await;
        cells.check(
            (COVERAGE, column),
            (at(&body, "/careOffer/unitName") == "Crisisdienst Utrecht"
                && forbidden_entity_field(&body, "/careOffer/contractCoverage"))
                || (column == PATIENT && not_in_schema(&body, "contractCoverage")),
            &format!("coverage is null + FORBIDDEN for {whom}"),
            &body,
        );
        let body = hub.gql(who, COVERAGE_ALIASES, json!({ "id": CRISIS_UTRECHT })).await;
        cells.check(
            (COVERAGE, column),
            (at(&body, "/careOffer/id") == CRISIS_UTRECHT
                && forbidden_entity_field(&body, "/careOffer/x")
                && forbidden_entity_field(&body, "/careOffer/y")
                && errors(&body).iter().filter(|e| e["extensions"]["code"] == "FORBIDDEN").count() == 2)
                || (column == PATIENT && not_in_schema(&body, "contractCoverage")),
            &format!("both aliases of contractCoverage are null + FORBIDDEN for {whom}"),
            &body,
        );
    }

    // (contracting guidelines): R for all but the operator, RW for the national table.
    for (column, who) in
        [(PROVIDER, &cast.provider), (INSURER, &cast.insurer), (PATIENT, &cast.patient), (NATIONAL, &cast.national)]
    {
        let body = hub.gql(who, GUIDELINES_Q, json!({})).await;
        let years: Vec<i64> = list(&body, "/contractingGuidelines").iter().filter_map(|g| g["year"].as_i64()).collect();
        cells.check((GUIDELINES, column), clean(&body) && years == [2025, 2026, 2027], "reads the guidelines", &body);
    }
    let body = hub.gql(&cast.operator, GUIDELINES_Q, json!({})).await;
    cells.check((GUIDELINES, OPERATOR), forbidden(&body, "/contractingGuidelines"), "guidelines are FORBIDDEN", &body);
    let guidelines = hub.gql(&cast.national, GUIDELINES_Q, json!({})).await;
    let current = at(&guidelines, "/contractingGuidelines/1").clone();
    let others =
        [(PROVIDER, &cast.provider), (INSURER, &cast.insurer), (PATIENT, &cast.patient), (OPERATOR, &cast.operator)];
    for (column, who) in others {
        let body = hub.gql(who, CREATE_GUIDELINE, json!({ "title": "E2E: mag niet" })).await;
        cells.check(
            (GUIDELINES, column),
            refused_to(column, &body, "/createContractingGuideline"),
            "may not publish a guideline",
            &body,
        );
        let body = hub.gql(who, UPDATE_GUIDELINE, json!({ "id": current["id"], "v": current["version"] })).await;
        cells.check(
            (GUIDELINES, column),
            refused_to(column, &body, "/updateContractingGuideline"),
            "may not change a guideline",
            &body,
        );
    }
    let body = hub.gql(&cast.national, CREATE_GUIDELINE, json!({ "title": "E2E: spelregels 2028" })).await;
    cells.check(
        (GUIDELINES, NATIONAL),
        clean(&body) && at(&body, "/createContractingGuideline/year") == 2028,
        "publishes a guideline",
        &body,
    );
    let body = hub.gql(&cast.national, UPDATE_GUIDELINE, json!({ "id": current["id"], "v": current["version"] })).await;
    cells.check(
        (GUIDELINES, NATIONAL),
        clean(&body) && at(&body, "/updateContractingGuideline/title") == "E2E: spelregels",
        "changes a guideline (no refused attempt changed its version)",
        &body,
    );
    cells.finish();
}

const REQUIRES_ALIAS: &str = "query($id: ID!, $t: Boolean!) { careOffer(id: $id) { \
    region: intakePause { code: reason } contractCoverage @include(if: $t) { band otherInsurers } } }";
const COVERAGE_ONLY: &str =
    "query($id: ID!) { careOffer(id: $id) { contractCoverage { year band otherInsurers continuitySecuredUntil } } }";
pub(super) const CREATE_CONTRACT: &str =
    "mutation($p: ID!, $t: ContractTermsInput!) { createContract(providerId: $p, terms: $t) { id version } }";
const PROPOSE: &str = "mutation($id: ID!, $v: Int!) { proposeContract(id: $id, expectedVersion: $v) { id version } }";
const AGREE: &str =
    "mutation($id: ID!, $v: Int!) { agreeContract(id: $id, expectedVersion: $v) { id version status } }";
const TERMINATE_V: &str = "mutation($id: ID!, $v: Int!) { terminateContract(id: $id, expectedVersion: $v, \
    reason: \"E2E: einde\") { id version status } }";

/// An agreed contract of `insurer` with Kromme Rijn over `offer` until `last_year`: its id and
/// version.
async fn agreed_contract(hub: &Hub, insurer: &Org, provider: &Org, offer: &str, last_year: i64) -> (Value, Value) {
    let terms = json!({
        "firstYear": 2025, "lastYear": last_year, "coveredOfferIds": [offer], "kpis": [],
        "volumeAgreement": "E2E: volume", "guarantee": { "amountEur": 1234567.0, "description": "E2E: garantie" },
        "evaluationMoments": [], "notes": "E2E: notities"
    });
    let body = hub.gql(insurer, CREATE_CONTRACT, json!({ "p": KROMME_RIJN, "t": terms })).await;
    assert!(clean(&body), "the insurer drafts a contract: {body}");
    let k = at(&body, "/createContract").clone();
    let body = hub.gql(insurer, PROPOSE, json!({ "id": k["id"], "v": k["version"] })).await;
    assert!(clean(&body), "the insurer proposes it: {body}");
    let k = at(&body, "/proposeContract").clone();
    let body = hub.gql(provider, AGREE, json!({ "id": k["id"], "v": k["version"] })).await;
    assert!(clean(&body) && at(&body, "/agreeContract/status") == "AGREED", "the provider agrees: {body}");
    let k = at(&body, "/agreeContract");
    (k["id"].clone(), k["version"].clone())
}

/// Issue 13's attacks on contract coverage, through the gateway: at a table of two insurers,
/// one reads nothing of the other's coverage, nor when the other's contract is agreed and
/// terminated; an insurer joining as the third reads no figure of the two before it.
#[tokio::test]
async fn contract_coverage_reveals_no_competitor() {
    let hub = Hub::start();
    let cast = Cast::demo(&hub);
    let kempenpad = hub.mint(KEMPENPAD);
    let mut cells = Cells::default();
    let banded = |body: &Value| {
        clean(body)
            && at(body, "/careOffer/contractCoverage/band") == "FEWER_THAN_THREE"
            && at(body, "/careOffer/contractCoverage/otherInsurers").is_null()
            && at(body, "/careOffer/contractCoverage/continuitySecuredUntil").is_null()
    };

    // Two insurers at the utrecht table: Polder alone contracts HIC Zuid, Kempenpad alone
    // Eemland's clinic.
    let body = hub.gql(&kempenpad, COVERAGE_ONLY, json!({ "id": HIC_ZUID })).await;
    cells.check((COVERAGE, INSURER), banded(&body), "Kempenpad reads nothing of Polder's coverage", &body);
    let polled = hub.gql(&kempenpad, COVERAGE_ONLY, json!({ "id": IHT_ZEIST })).await;
    cells.check((COVERAGE, INSURER), banded(&polled), "an offer no one contracts shows the same band", &polled);
    cells.check(
        (COVERAGE, INSURER),
        body == polled,
        "one competitor's contract and none answer the same bytes",
        &json!([body, polled]),
    );

    // Polling across Polder's agreement and termination.
    let (id, v) = agreed_contract(&hub, &cast.insurer, &cast.provider, IHT_ZEIST, 2027).await;
    let body = hub.gql(&kempenpad, COVERAGE_ONLY, json!({ "id": IHT_ZEIST })).await;
    cells.check((COVERAGE, INSURER), body == polled, "the competitor's agreement does not show", &body);
    let body = hub.gql(&cast.insurer, TERMINATE_V, json!({ "id": id, "v": v })).await;
    assert!(clean(&body) && at(&body, "/terminateContract/status") == "TERMINATED", "Polder terminates: {body}");
    let body = hub.gql(&kempenpad, COVERAGE_ONLY, json!({ "id": IHT_ZEIST })).await;
    cells.check((COVERAGE, INSURER), body == polled, "nor its termination", &body);

    // Wadkust (until 2027) and Heidezicht (until 2028) contract the offer, then Polder joins as
    // the third (until 2030): it reads nothing of the two before it; Kempenpad reads all three.
    let wadkust = hub.mint(WADKUST);
    let heidezicht = hub.mint(HEIDEZICHT);
    agreed_contract(&hub, &wadkust, &cast.provider, IHT_ZEIST, 2027).await;
    agreed_contract(&hub, &heidezicht, &cast.provider, IHT_ZEIST, 2028).await;
    agreed_contract(&hub, &cast.insurer, &cast.provider, IHT_ZEIST, 2030).await;
    let body = hub.gql(&cast.insurer, COVERAGE_ONLY, json!({ "id": IHT_ZEIST })).await;
    cells.check((COVERAGE, INSURER), banded(&body), "the third insurer reads no figure of the other two", &body);
    let body = hub.gql(&kempenpad, COVERAGE_ONLY, json!({ "id": IHT_ZEIST })).await;
    cells.check(
        (COVERAGE, INSURER),
        clean(&body)
            && at(&body, "/careOffer/contractCoverage/otherInsurers") == 3
            && at(&body, "/careOffer/contractCoverage/continuitySecuredUntil") == 2030,
        "an insurer contracting none of them reads the three",
        &body,
    );
    // `contractCoverage` reads the offer's region and provider through `@requires`: an alias
    // taking the name `region` in a conditional selection would have put the client's value in
    // the representation (the planner does not rename it there). The gateway refuses the plan.
    let body = hub.gql(&kempenpad, REQUIRES_ALIAS, json!({ "id": IHT_ZEIST, "t": true })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("choose another alias")), "{body}");
    assert!(at(&body, "/careOffer").is_null(), "nothing is answered: {body}");
    for (column, who) in [(NATIONAL, &cast.national), (PROVIDER, &cast.provider)] {
        let body = hub.gql(who, COVERAGE_ONLY, json!({ "id": IHT_ZEIST })).await;
        cells.check(
            (COVERAGE, column),
            clean(&body) && at(&body, "/careOffer/contractCoverage/otherInsurers") == 3,
            "reads the three",
            &body,
        );
    }
    cells.finish();
}
