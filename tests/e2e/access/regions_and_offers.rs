//! Regions and organisations; care offers: public fields, capacity detail, changes.

use super::*;

const PICTURE: &str = r#"query($org: ID!) {
    regions(first: 100) { nodes { code } }
    region(code: "utrecht") { code name coordinatingInsurer { id } neighbours { code } }
    organisation(id: $org) { id name kind version regions { code } }
    careForms { code category }
    diagnosisGroups { code }
}"#;
pub(super) const CREATE_REGION: &str = r#"mutation($code: String!) {
    createRegion(input: { code: $code, name: "E2E proefregio", kind: IZA, neighbours: ["utrecht"] }) { code version }
}"#;
const REGION_EXISTS: &str = "query($code: String!) { region(code: $code) { code } }";
const RENAME_ORG: &str = "mutation($id: ID!, $v: Int!, $name: String!) { \
    updateOrganisation(id: $id, expectedVersion: $v, input: { name: $name }) { id name version } }";
const OFFER_PUBLIC_Q: &str = r#"query($id: ID!) {
    careOffer(id: $id) { id unitName provider { id name } region { code } category careForm { code } status
        supraRegional regionsServed intakePause { from until reason } version }
    careOffers(region: "utrecht", first: 100) { nodes { id category status } }
}"#;
const OFFER_DETAIL_Q: &str =
    "query($id: ID!) { careOffer(id: $id) { unitName capacity { places teams fte } inclusionCriteria } }";
/// The same guarded fields under several aliases, and the same offer twice at the root.
const OFFER_DETAIL_ALIASES: &str = "query($id: ID!) {
    careOffer(id: $id) { unitName a: capacity { places } b: capacity { teams } c: inclusionCriteria d: inclusionCriteria }
    first: careOffer(id: $id) { capacity { places } }
    second: careOffer(id: $id) { unitName capacity { fte } }
}";
pub(super) const OFFER_STATE: &str =
    "query($id: ID!) { careOffer(id: $id) { id version unitName status intakePause { from } capacity { places } } }";
const SET_CAPACITY: &str = "mutation($id: ID!, $v: Int!, $places: Int!) { \
    updateCareOffer(id: $id, expectedVersion: $v, input: { capacity: { places: $places, teams: 1, fte: 9.0 } }) { id version capacity { places } } }";
const CREATE_OFFER: &str = r#"mutation($region: String!) {
    createCareOffer(input: { regionCode: $region, category: ACUTE, careForm: "CRISIS_SERVICE", unitName: "E2E crisisteam",
        location: "Utrecht", availability: TWENTY_FOUR_SEVEN, capacity: { teams: 1 } }) { id version provider { id } region { code } status }
}"#;
pub(super) const RENAME_OFFER: &str = r#"mutation($id: ID!, $v: Int!) {
    updateCareOffer(id: $id, expectedVersion: $v, input: { unitName: "E2E hernoemd" }) { id version unitName }
}"#;
const SET_PAUSE: &str = r#"mutation($id: ID!, $v: Int!) {
    setIntakePause(offerId: $id, expectedVersion: $v, pause: { from: "2026-12-01", reason: "E2E: tijdelijk geen nieuwe aanmeldingen" }) { id version intakePause { from reason } }
}"#;
const CLOSE_OFFER: &str =
    "mutation($id: ID!, $v: Int!) { closeCareOffer(id: $id, expectedVersion: $v) { id version status } }";
/// Closing is a process (issue 21): announced with a planned date beyond the region's notice
/// period, closed from that date on.
const ANNOUNCE_CLOSURE: &str = r#"mutation($id: ID!, $v: Int!) {
    announceOfferClosure(id: $id, expectedVersion: $v, plannedDate: "2099-12-31", cause: { kind: FINANCE, text: "E2E: geen contract" }) { id version status plannedClosingDate }
}"#;

pub(super) fn entities_query(typename: &str, id: &str, selection: &str) -> String {
    format!(
        "query {{ _entities(representations: [{{ __typename: \"{typename}\", id: \"{id}\" }}]) {{ ... on {typename} {{ {selection} }} }} }}"
    )
}

#[tokio::test]
async fn access_matrix_regions_and_organisations() {
    let hub = Hub::start();
    let cast = Cast::demo(&hub);
    let mut cells = Cells::default();

    // (regions, organisation profiles, categories, code lists): everyone reads.
    for (column, who) in cast.all() {
        let body = hub.gql(who, PICTURE, json!({ "org": KROMME_RIJN })).await;
        let codes: Vec<&str> = list(&body, "/regions/nodes").iter().filter_map(|n| n["code"].as_str()).collect();
        cells.check(
            (REGIONS, column),
            clean(&body) && codes.len() >= 31 && codes.contains(&"utrecht") && codes.contains(&"zeeland"),
            "reads all regions",
            &body,
        );
        cells.check(
            (REGIONS, column),
            at(&body, "/region/coordinatingInsurer/id") == POLDER
                && !list(&body, "/region/neighbours").is_empty()
                && at(&body, "/organisation/name") == "GGZ Kromme Rijn"
                && at(&body, "/organisation/kind") == "PROVIDER",
            "reads a region and an organisation profile",
            &body,
        );
        let forms = list(&body, "/careForms");
        cells.check(
            (REGIONS, column),
            forms.iter().any(|f| f["code"] == "CRISIS_SERVICE" && f["category"] == "ACUTE")
                && list(&body, "/diagnosisGroups").len() == 14,
            "reads the care forms and the 14 diagnosis groups",
            &body,
        );
    }
    // …and only the operator writes them.
    let refusals =
        [(PROVIDER, &cast.provider), (INSURER, &cast.insurer), (PATIENT, &cast.patient), (NATIONAL, &cast.national)];
    for (column, who) in refusals {
        let code = format!("proef-{}", column.replace(' ', "-"));
        let body = hub.gql(who, CREATE_REGION, json!({ "code": code })).await;
        cells.check((REGIONS, column), refused_to(column, &body, "/createRegion"), "may not create a region", &body);
        let after = hub.gql(&cast.operator, REGION_EXISTS, json!({ "code": code })).await;
        cells.check(
            (REGIONS, column),
            clean(&after) && at(&after, "/region").is_null(),
            "no region was created",
            &after,
        );
        // Not even its own organisation profile.
        let own = hub.gql(who, PICTURE, json!({ "org": who.id })).await;
        let v = version(&own, "/organisation/version");
        let body = hub.gql(who, RENAME_ORG, json!({ "id": who.id, "v": v, "name": "E2E hernoemd" })).await;
        cells.check(
            (REGIONS, column),
            refused_to(column, &body, "/updateOrganisation"),
            "may not change an organisation profile, not even its own",
            &body,
        );
    }
    let body = hub.gql(&cast.operator, CREATE_REGION, json!({ "code": "proef-beheer" })).await;
    cells.check(
        (REGIONS, OPERATOR),
        clean(&body) && at(&body, "/createRegion/code") == "proef-beheer",
        "creates a region",
        &body,
    );
    let profile = hub.gql(&cast.operator, PICTURE, json!({ "org": EEMLAND })).await;
    let v = version(&profile, "/organisation/version");
    let name = "Stichting Eemland Psychiatrie (E2E)";
    let body = hub.gql(&cast.operator, RENAME_ORG, json!({ "id": EEMLAND, "v": v, "name": name })).await;
    cells.check(
        (REGIONS, OPERATOR),
        clean(&body) && at(&body, "/updateOrganisation/name") == name,
        "changes an organisation profile",
        &body,
    );

    cells.finish();
}

#[tokio::test]
async fn access_matrix_care_offers() {
    let hub = Hub::start();
    let cast = Cast::demo(&hub);
    let eemland = hub.mint(EEMLAND);
    let noorderlicht = hub.mint(NOORDERLICHT);
    let wadkust = hub.mint(WADKUST);
    let mut cells = Cells::default();
    // (care offer: public fields): everyone reads provider, category, form, region, status,
    // supra-regional flag and intake pause.
    for (column, who) in cast.all() {
        let body = hub.gql(who, OFFER_PUBLIC_Q, json!({ "id": FACT_NIEUWEGEIN })).await;
        cells.check(
            (OFFER_PUBLIC, column),
            clean(&body)
                && at(&body, "/careOffer/provider/id") == KROMME_RIJN
                && at(&body, "/careOffer/region/code") == "utrecht"
                && at(&body, "/careOffer/category") == "OUTREACH"
                && at(&body, "/careOffer/careForm/code") == "FACT"
                && at(&body, "/careOffer/status").is_string()
                && at(&body, "/careOffer/supraRegional").is_boolean()
                && at(&body, "/careOffer/intakePause/from") == "2026-10-01",
            "reads the public fields of an offer, intake pause included",
            &body,
        );
        cells.check(
            (OFFER_PUBLIC, column),
            ids(&body, "/careOffers/nodes").iter().any(|id| id == FACT_NIEUWEGEIN),
            "lists the region's offers",
            &body,
        );
    }

    // (care offer: capacity detail, inclusion criteria): the offer's region's providers and
    // insurers and the national table read the capacity; nobody else. Inclusion criteria are
    // public since issue 21 (schema/ACCESS.md): every provider as a referrer, insurers, patient
    // organisations and the public read them; only the hub operator is refused.
    let sees_detail = |body: &Value| {
        clean(body)
            && at(body, "/careOffer/capacity/places") == 210
            && at(body, "/careOffer/capacity/teams") == 1
            && starts(body, "/careOffer/inclusionCriteria", "Mensen met een EPA")
    };
    let allowed: [(&str, &Org, &str); 4] = [
        (PROVIDER, &cast.provider, "the providing organisation reads its own offer's detail"),
        (PROVIDER, &eemland, "another provider at the offer's table reads the detail"),
        (INSURER, &cast.insurer, "an insurer at the offer's table reads the detail"),
        (NATIONAL, &cast.national, "the national table reads the detail"),
    ];
    for (column, who, what) in allowed {
        let body = hub.gql(who, OFFER_DETAIL_Q, json!({ "id": FACT_NIEUWEGEIN })).await;
        cells.check((OFFER_DETAIL, column), sees_detail(&body), what, &body);
    }
    let criteria_q = "query($id: ID!) { careOffer(id: $id) { unitName inclusionCriteria } }";
    for (column, who, whom) in [
        (PROVIDER, &noorderlicht, "a provider from another region (a referrer)"),
        (INSURER, &wadkust, "an insurer from another region"),
        (PATIENT, &cast.patient, "a patient organisation"),
    ] {
        let body = hub.gql(who, criteria_q, json!({ "id": FACT_NIEUWEGEIN })).await;
        cells.check(
            (OFFER_DETAIL, column),
            clean(&body) && starts(&body, "/careOffer/inclusionCriteria", "Mensen met een EPA"),
            &format!("inclusion criteria are public: {whom} reads them"),
            &body,
        );
    }
    let refused_detail: [(&str, &Org, &str); 4] = [
        (PROVIDER, &noorderlicht, "a provider from another region"),
        (INSURER, &wadkust, "an insurer from another region"),
        (PATIENT, &cast.patient, "a patient organisation, even in the offer's region"),
        (OPERATOR, &cast.operator, "the hub operator"),
    ];
    for (column, who, whom) in refused_detail {
        let operator = column == OPERATOR;
        let body = hub.gql(who, OFFER_DETAIL_Q, json!({ "id": FACT_NIEUWEGEIN })).await;
        cells.check(
            (OFFER_DETAIL, column),
            (at(&body, "/careOffer/unitName") == "FACT-team Nieuwegein Oost"
                && forbidden(&body, "/careOffer/capacity")
                && (if operator {
                    forbidden(&body, "/careOffer/inclusionCriteria")
                } else {
                    starts(&body, "/careOffer/inclusionCriteria", "Mensen met een EPA")
                }))
                || (column == PATIENT && not_in_schema(&body, "capacity")),
            &format!("capacity is null + FORBIDDEN for {whom} (inclusion criteria too for the operator only)"),
            &body,
        );
        // Asking again under other names does not help.
        let body = hub.gql(who, OFFER_DETAIL_ALIASES, json!({ "id": FACT_NIEUWEGEIN })).await;
        let refused_aliases: &[&str] = if operator {
            &["/careOffer/a", "/careOffer/b", "/careOffer/c", "/careOffer/d", "/first/capacity", "/second/capacity"]
        } else {
            &["/careOffer/a", "/careOffer/b", "/first/capacity", "/second/capacity"]
        };
        let every_alias = refused_aliases.iter().all(|p| forbidden(&body, p));
        cells.check(
            (OFFER_DETAIL, column),
            (every_alias && at(&body, "/second/unitName") == "FACT-team Nieuwegein Oost")
                || (column == PATIENT && not_in_schema(&body, "capacity")),
            &format!("every alias of capacity (and for the operator inclusionCriteria) is null + FORBIDDEN for {whom}"),
            &body,
        );
        cells.check(
            (OFFER_DETAIL, column),
            !body.to_string().contains("210") && (!operator || !body.to_string().contains("Mensen met een EPA")),
            &format!("no capacity figure (nor, for the operator, criterion) appears anywhere in the answer to {whom}"),
            &body,
        );
    }
    // `_entities` is the subgraphs' federation entry point, not part of the gateway's API.
    for (column, who) in [(PATIENT, &cast.patient), (OPERATOR, &cast.operator)] {
        let q = entities_query("CareOffer", FACT_NIEUWEGEIN, "capacity { places } inclusionCriteria");
        let body = hub.gql(who, &q, json!({})).await;
        cells.check(
            (OFFER_DETAIL, column),
            unknown_at_gateway(&body) && !body.to_string().contains("Mensen met een EPA"),
            "an _entities query to the gateway is refused as an unknown field, nothing executed",
            &body,
        );
    }
    // W own: the provider changes its own offer's capacity; another provider at the table may not.
    let state = hub.gql(&cast.provider, OFFER_STATE, json!({ "id": FACT_NIEUWEGEIN })).await;
    let v = version(&state, "/careOffer/version");
    let body = hub.gql(&eemland, SET_CAPACITY, json!({ "id": FACT_NIEUWEGEIN, "v": v, "places": 999 })).await;
    cells.check(
        (OFFER_DETAIL, PROVIDER),
        forbidden(&body, "/updateCareOffer"),
        "another provider may not change the capacity",
        &body,
    );
    let body = hub.gql(&cast.provider, SET_CAPACITY, json!({ "id": FACT_NIEUWEGEIN, "v": v, "places": 230 })).await;
    cells.check(
        (OFFER_DETAIL, PROVIDER),
        clean(&body) && at(&body, "/updateCareOffer/capacity/places") == 230,
        "the provider changes its own offer's capacity",
        &body,
    );

    // (create / change / close a care offer, set an intake pause): the provider, its own only.
    let body = hub.gql(&cast.provider, CREATE_OFFER, json!({ "region": "utrecht" })).await;
    cells.check(
        (OFFER_WRITE, PROVIDER),
        clean(&body) && at(&body, "/createCareOffer/provider/id") == KROMME_RIJN,
        "creates an offer of its own",
        &body,
    );
    let new_offer = at(&body, "/createCareOffer/id").as_str().unwrap_or(UNKNOWN_ID).to_owned();
    let body = hub.gql(&cast.provider, RENAME_OFFER, json!({ "id": new_offer, "v": 1 })).await;
    cells.check(
        (OFFER_WRITE, PROVIDER),
        clean(&body) && at(&body, "/updateCareOffer/unitName") == "E2E hernoemd",
        "changes its own offer",
        &body,
    );
    let body = hub.gql(&cast.provider, SET_PAUSE, json!({ "id": new_offer, "v": 2 })).await;
    cells.check(
        (OFFER_WRITE, PROVIDER),
        clean(&body) && at(&body, "/setIntakePause/intakePause/from") == "2026-12-01",
        "sets an intake pause on its own offer",
        &body,
    );
    let body = hub.gql(&cast.provider, ANNOUNCE_CLOSURE, json!({ "id": new_offer, "v": 3 })).await;
    cells.check(
        (OFFER_WRITE, PROVIDER),
        clean(&body)
            && at(&body, "/announceOfferClosure/status") == "CLOSING"
            && at(&body, "/announceOfferClosure/plannedClosingDate") == "2099-12-31",
        "announces the closure of its own offer",
        &body,
    );
    let body = hub.gql(&cast.provider, CLOSE_OFFER, json!({ "id": new_offer, "v": 4 })).await;
    cells.check(
        (OFFER_WRITE, PROVIDER),
        refused(&body, "/closeCareOffer", "FAILED_PRECONDITION"),
        "closes its own offer only from the announced date",
        &body,
    );
    let body = hub.gql(&cast.provider, CREATE_OFFER, json!({ "region": "groningen" })).await;
    cells.check(
        (OFFER_WRITE, PROVIDER),
        forbidden(&body, "/createCareOffer"),
        "creates no offer in a region it does not take part in",
        &body,
    );
    let other = hub.gql(&eemland, OFFER_STATE, json!({ "id": FACT_EEMLAND })).await;
    let v = version(&other, "/careOffer/version");
    for (mutation, field) in
        [(RENAME_OFFER, "/updateCareOffer"), (SET_PAUSE, "/setIntakePause"), (CLOSE_OFFER, "/closeCareOffer")]
    {
        let body = hub.gql(&cast.provider, mutation, json!({ "id": FACT_EEMLAND, "v": v })).await;
        cells.check(
            (OFFER_WRITE, PROVIDER),
            forbidden(&body, field),
            &format!("{field} on another provider's offer is FORBIDDEN"),
            &body,
        );
    }
    let after = hub.gql(&eemland, OFFER_STATE, json!({ "id": FACT_EEMLAND })).await;
    cells.check(
        (OFFER_WRITE, PROVIDER),
        at(&after, "/careOffer/version") == v
            && at(&after, "/careOffer/status") == "UNDER_PRESSURE"
            && at(&after, "/careOffer/intakePause").is_null(),
        "the other provider's offer is unchanged",
        &after,
    );
    let state = hub.gql(&cast.provider, OFFER_STATE, json!({ "id": CRISIS_UTRECHT })).await;
    let v = version(&state, "/careOffer/version");
    let others =
        [(INSURER, &cast.insurer), (PATIENT, &cast.patient), (NATIONAL, &cast.national), (OPERATOR, &cast.operator)];
    for (column, who) in others {
        let body = hub.gql(who, CREATE_OFFER, json!({ "region": "utrecht" })).await;
        cells.check(
            (OFFER_WRITE, column),
            refused_to(column, &body, "/createCareOffer"),
            "may not create an offer",
            &body,
        );
        for (mutation, field) in
            [(RENAME_OFFER, "/updateCareOffer"), (SET_PAUSE, "/setIntakePause"), (CLOSE_OFFER, "/closeCareOffer")]
        {
            let body = hub.gql(who, mutation, json!({ "id": CRISIS_UTRECHT, "v": v })).await;
            cells.check((OFFER_WRITE, column), refused_to(column, &body, field), &format!("{field} is refused"), &body);
        }
        let after = hub.gql(&cast.provider, OFFER_STATE, json!({ "id": CRISIS_UTRECHT })).await;
        cells.check(
            (OFFER_WRITE, column),
            at(&after, "/careOffer/version") == v
                && at(&after, "/careOffer/unitName") == "Crisisdienst Utrecht"
                && at(&after, "/careOffer/status") == "SECURED"
                && at(&after, "/careOffer/intakePause").is_null(),
            "the offer is unchanged after the refused changes",
            &after,
        );
    }
    cells.finish();
}
