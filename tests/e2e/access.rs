//! The access matrix of `../shared/DOMAIN.md` ("Access matrix"), cell by cell, end to end: the
//! real `ggzhub dev` binary with its demo data, every request sent to the **gateway** with a real
//! organisation token. The demo tokens cover one organisation per kind; cells that depend on
//! "own" or "where participant" also use tokens minted with `ggzhub token issue` for a second
//! provider, insurer and patient organisation.
//!
//! Each test function starts one hub and checks a few rows of the matrix. A cell is one or more
//! `check`s named (row, column). Every check of a function runs; the function fails at the end
//! and lists every cell that did not hold, so one access bug does not hide the others.
//!
//! What a refusal looks like is what the subgraphs answer: a field the caller may not see is
//! `null` with a `FORBIDDEN` error at its path; a record the caller may not know of (a contract
//! of others, an undecided escalation of another region, a signal of another provider) answers
//! exactly as a missing one (`null`, or `NOT_FOUND` for a change); lists leave hidden items out.
//! Two more forms come from the gateway: a patient organisation may be served the public contract
//! schema, where a field it may not see does not exist (the request fails validation naming it,
//! nothing is executed), and `_entities` is never part of the gateway's schema.

use std::process::Command;

use serde_json::{Value, json};

use super::DevHub;

// Organisations of the demo data (services/region/data/demo/organisations.json).

/// GGZ Kromme Rijn: the demo PROVIDER token; at the utrecht table, chair of utrecht.
const KROMME_RIJN: &str = "47ed3233-56c7-536b-aca1-44612422ab16";
/// Stichting Eemland Psychiatrie: another provider at the utrecht table, not its chair.
const EEMLAND: &str = "7c50861d-9493-580f-bb12-590e1d6c1336";
/// GGZ Noorderlicht: a provider at the groningen and friesland tables, not at utrecht's.
const NOORDERLICHT: &str = "4ae8c3d9-c6a5-538e-a014-049202abf0c1";
/// Zorgverzekeraar Polder: the demo INSURER token; at the utrecht table, coordinating insurer of
/// utrecht, flevoland and t-gooi, chair of flevoland.
const POLDER: &str = "982ac3d9-ff28-5ad1-ae5a-2eddea65a21f";
/// Zorgverzekeraar Wadkust: not at the utrecht table; coordinating insurer of groningen,
/// friesland and drenthe; contracts one utrecht offer of Kromme Rijn.
const WADKUST: &str = "fbd1611c-6952-5500-8923-41540cda7d11";
/// Zorgverzekeraar Kempenpad: the other insurer at the utrecht table (with Polder, the only two).
const KEMPENPAD: &str = "6d52dcd0-8ee9-56e0-b985-ca0785b056a9";
/// Zorgverzekeraar Heidezicht: not at the utrecht table; contracts the crisis service there.
const HEIDEZICHT: &str = "ae3149ae-a839-5769-9b43-d595eada214b";
/// Zorgverzekeraar Eikenhof: at the groningen table without coordinating it; its agreed contract
/// with Noorderlicht (2025–2027) covers the offer of [`SIGNAL_NOORDERLICHT`].
const EIKENHOF: &str = "0bb6165a-dd68-5d4d-9507-a0d579434bad";
/// Cliëntenplatform Stemkracht Midden: the demo PATIENT_ORGANISATION token; utrecht, flevoland,
/// t-gooi.
const STEMKRACHT: &str = "41e5be88-509b-51de-90a5-2dfd2e806caf";
/// Ervaringsraad Wad en Veen: a patient organisation of groningen, friesland and drenthe.
const WAD_EN_VEEN: &str = "877bde5d-38e1-5ff1-b6eb-4dcdb4131179";
/// Landelijke tafel cruciale ggz: the demo NATIONAL_TABLE token.
const LANDELIJKE_TAFEL: &str = "07a3f849-047d-5ed0-bd4c-6d00be40ea72";
/// ggzhub beheer: the demo HUB_OPERATOR token.
const BEHEER: &str = "1e122aa6-9e3f-587d-aa63-158d558482d7";

// Care offers.

/// Kromme Rijn's FACT team in utrecht: 210 places, 1 team, an intake pause from 2026-10-01.
const FACT_NIEUWEGEIN: &str = "0306763e-5e2a-5159-b643-832ce2998389";
/// Kromme Rijn's crisis service in utrecht, contracted this year by four insurers.
const CRISIS_UTRECHT: &str = "057890a9-ed6f-537e-93b9-dc4beb2cbff4";
/// Kromme Rijn's HIC in utrecht, contracted by one insurer (Polder).
const HIC_ZUID: &str = "0a24920b-e394-53e7-8a81-3db9829365e8";
/// Kromme Rijn's IHT team in utrecht, contracted by no one.
const IHT_ZEIST: &str = "38d07b55-f13f-5b4f-bdcd-7ea9df15f52d";
/// Eemland's FACT team in utrecht: under pressure, no intake pause.
const FACT_EEMLAND: &str = "95f6c49f-ff6f-5045-9bf3-2b438661ad1d";

// Continuity signals.

/// Kromme Rijn, utrecht, OPEN (staffing).
const SIGNAL_KR_FACT: &str = "2be0532c-b2b9-52d6-809f-21aec403da91";
/// Kromme Rijn, utrecht, OPEN.
const SIGNAL_KR_HIC: &str = "09280c37-4cf1-5ea5-896c-6e2baddebb7a";
/// Eemland, utrecht, OPEN (finance).
const SIGNAL_EEMLAND: &str = "2e763cda-9475-5ba1-ab40-662affa8a389";
/// zeeland, ESCALATED.
const SIGNAL_ZEELAND: &str = "7831c984-96dc-599b-ab9f-6d1ea5b2f708";
/// De Wadden GGZ, friesland, OPEN.
const SIGNAL_FRIESLAND: &str = "810af838-ca74-5b9b-82fe-a45e18496839";
/// Noorderlicht, groningen, ACKNOWLEDGED (housing); its offer is contracted by Eikenhof.
const SIGNAL_NOORDERLICHT: &str = "e1c014ca-ae2f-58e3-bc3c-2c8e9c780296";

// Escalations.

/// utrecht, SUBMITTED (undecided).
const ESC_UTRECHT_SUBMITTED: &str = "1f761bab-39ce-53b1-8fcb-f437a9401d1d";
/// utrecht, MEASURE_AGREED (decided, with measures).
const ESC_UTRECHT_AGREED: &str = "86d1d63f-7614-5af3-a08e-49a7f41375a0";
/// drenthe, DECLINED.
const ESC_DRENTHE_DECLINED: &str = "d37db8d8-6033-5245-bf85-1c9eed867702";
/// t-gooi, SUBMITTED.
const ESC_T_GOOI_SUBMITTED: &str = "4862d235-63f6-5e6f-8ee5-d7024ed36455";

// Contracts.

/// Polder × Kromme Rijn, AGREED 2025–2028, guarantee € 3,800,000.
const K_POLDER_KR: &str = "1e5266be-22c4-5707-89c2-fe7294765bb8";
/// Wadkust × Kromme Rijn, AGREED.
const K_WADKUST_KR: &str = "4b27fa85-115b-5e32-913e-6fb389debed5";
/// Heidezicht × Kromme Rijn, AGREED.
const K_HEIDEZICHT_KR: &str = "9127a215-4604-5fee-a067-74452ccf0dc5";
/// Duinrand × Kromme Rijn, AGREED.
const K_DUINRAND_KR: &str = "d16a6f83-eb4b-5bd5-9105-4466409dac20";
/// Kempenpad × Eemland (utrecht), AGREED.
const K_KEMPENPAD_EEMLAND: &str = "ed9fc6af-eb99-507d-b23a-c4550a023ad0";

/// An id nothing has.
const UNKNOWN_ID: &str = "00000000-0000-4000-8000-00000000e2e0";

// The matrix: rows and columns as DOMAIN.md names them.

const REGIONS: &str = "regions, organisation profiles, categories, code lists";
const OFFER_PUBLIC: &str = "care offer: public fields";
const OFFER_DETAIL: &str = "care offer: capacity detail, inclusion criteria";
const OFFER_WRITE: &str = "create / change / close a care offer, set an intake pause";
const WAITING: &str = "waiting-time reports";
const SIGNALS: &str = "continuity signal";
const OVERVIEW_PUBLIC: &str = "regional overview, published public part";
const OVERVIEW_DRAFT: &str = "regional overview, draft and confidential notes";
const CHAIR: &str = "publish a regional overview, raise an escalation";
const PATIENT_INPUT: &str = "patient input on an overview";
const ESCALATIONS: &str = "escalation and measures";
const NATIONAL_LISTS: &str = "supra-regional listing, expertise networks, national KPIs";
const CONTRACT_TERMS: &str = "contract terms";
const COVERAGE: &str = "contract coverage per offer";
const GUIDELINES: &str = "contracting guidelines";
const AUDIT: &str = "audit log";

const PROVIDER: &str = "provider";
const INSURER: &str = "insurer";
const PATIENT: &str = "patient org";
const NATIONAL: &str = "national table";
const OPERATOR: &str = "operator";

/// (row, column) of the access matrix.
type Cell = (&'static str, &'static str);

/// The checks of one test function: all run, failures are listed together at the end.
#[derive(Default)]
struct Cells {
    checked: usize,
    failed: Vec<String>,
}

impl Cells {
    /// One assertion of `cell`: `ok` must hold; `what` says what was expected.
    fn check(&mut self, (row, column): Cell, ok: bool, what: &str, body: &Value) {
        self.checked += 1;
        if !ok {
            self.failed.push(format!("({row}, {column}): {what}\n      response: {body}"));
        }
    }

    fn finish(self) {
        assert!(
            self.failed.is_empty(),
            "{} of {} access-matrix checks failed:\n  {}",
            self.failed.len(),
            self.checked,
            self.failed.join("\n  ")
        );
    }
}

/// An organisation acting through the gateway.
struct Org {
    id: &'static str,
    token: String,
}

/// A running `ggzhub dev`, spoken to through its gateway only.
struct Hub {
    dev: DevHub,
    http: reqwest::Client,
}

impl Hub {
    fn start() -> Self {
        Self { dev: DevHub::start(), http: reqwest::Client::new() }
    }

    /// The demo token of `kind`, checked to be for the organisation the cells assume.
    fn demo(&self, kind: &str, id: &'static str) -> Org {
        let (org, token) = self.dev.persona(kind);
        assert_eq!(org, id, "the demo {kind} token is for the organisation these tests assume");
        Org { id, token }
    }

    /// An organisation token from `ggzhub token issue` on the hub's data directory: kind and
    /// regions come from the region database, scopes are the kind's defaults, no roles.
    fn mint(&self, id: &'static str) -> Org {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ggzhub"));
        cmd.args(["token", "issue", "--org", id, "--ttl", "1h", "--data-dir"]).arg(&self.dev.data_dir);
        // This hub's SQLite region database, whatever the environment points at.
        for var in ["DATABASE_URL", "REGION_DATABASE_URL", "GGZHUB_DATA_DIR"] {
            cmd.env_remove(var);
        }
        let out = cmd.output().expect("ggzhub token issue runs");
        assert!(out.status.success(), "ggzhub token issue --org {id} failed: {}", String::from_utf8_lossy(&out.stderr));
        let token = String::from_utf8(out.stdout).expect("the token is UTF-8").trim().to_owned();
        assert_eq!(token.split('.').count(), 3, "ggzhub token issue prints a JWT, got {token:?}");
        Org { id, token }
    }

    /// One GraphQL request to the gateway.
    async fn gql(&self, who: &Org, query: &str, variables: Value) -> Value {
        let resp = self
            .http
            .post(&self.dev.gateway_url)
            .bearer_auth(&who.token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("the gateway answers");
        resp.json().await.expect("the gateway answers JSON")
    }
}

/// The demo organisation of each kind (municipalities are not a column of the matrix).
struct Cast {
    provider: Org,
    insurer: Org,
    patient: Org,
    national: Org,
    operator: Org,
}

impl Cast {
    fn demo(hub: &Hub) -> Self {
        Self {
            provider: hub.demo("PROVIDER", KROMME_RIJN),
            insurer: hub.demo("INSURER", POLDER),
            patient: hub.demo("PATIENT_ORGANISATION", STEMKRACHT),
            national: hub.demo("NATIONAL_TABLE", LANDELIJKE_TAFEL),
            operator: hub.demo("HUB_OPERATOR", BEHEER),
        }
    }

    fn all(&self) -> [(&'static str, &Org); 5] {
        [
            (PROVIDER, &self.provider),
            (INSURER, &self.insurer),
            (PATIENT, &self.patient),
            (NATIONAL, &self.national),
            (OPERATOR, &self.operator),
        ]
    }
}

// Reading responses.

/// The value at JSON pointer `pointer` below `data` (`null` when absent).
fn at<'a>(body: &'a Value, pointer: &str) -> &'a Value {
    body.get("data").and_then(|d| d.pointer(pointer)).unwrap_or(&Value::Null)
}

fn list<'a>(body: &'a Value, pointer: &str) -> &'a [Value] {
    at(body, pointer).as_array().map(Vec::as_slice).unwrap_or_default()
}

fn ids(body: &Value, pointer: &str) -> Vec<String> {
    list(body, pointer).iter().filter_map(|n| n["id"].as_str().map(str::to_owned)).collect()
}

fn errors(body: &Value) -> &[Value] {
    body.get("errors").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
}

/// No errors at all.
fn clean(body: &Value) -> bool {
    errors(body).is_empty()
}

/// An error's path as a JSON pointer.
fn error_pointer(error: &Value) -> String {
    error["path"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|step| match step {
            Value::String(s) => format!("/{s}"),
            other => format!("/{other}"),
        })
        .collect()
}

/// `null` at `pointer`, with an error of `code` at exactly that path.
fn refused(body: &Value, pointer: &str, code: &str) -> bool {
    at(body, pointer).is_null()
        && errors(body).iter().any(|e| e["extensions"]["code"] == code && error_pointer(e) == pointer)
}

/// `null` at `pointer` with a `FORBIDDEN` error there.
fn forbidden(body: &Value, pointer: &str) -> bool {
    refused(body, pointer, "FORBIDDEN")
}

/// `null` at `pointer` with a `FORBIDDEN` error for a field the gateway fetched from a second
/// subgraph through `_entities`. async-graphql reports errors inside `_entities` with the path
/// `["_entities", "<field>"]`, without the representation's index, so the gateway cannot place
/// them and drops the path: the error must be at `pointer` or have no path (never elsewhere).
fn forbidden_entity_field(body: &Value, pointer: &str) -> bool {
    at(body, pointer).is_null()
        && errors(body)
            .iter()
            .any(|e| e["extensions"]["code"] == "FORBIDDEN" && (e.get("path").is_none() || error_pointer(e) == pointer))
}

/// `null` at `pointer` with a `FORBIDDEN` or `NOT_FOUND` error there (changes to a record the
/// caller may not know of answer as for a missing one).
fn refused_change(body: &Value, pointer: &str) -> bool {
    refused(body, pointer, "FORBIDDEN") || refused(body, pointer, "NOT_FOUND")
}

/// The request named `field`, which the caller's schema at the gateway does not have: it fails
/// validation ("Cannot query field") and nothing is executed.
fn not_in_schema(body: &Value, field: &str) -> bool {
    let needle = format!("Cannot query field \"{field}\"");
    body.get("data").is_none_or(Value::is_null)
        && !errors(body).is_empty()
        && errors(body).iter().all(|e| e["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED")
        && errors(body).iter().any(|e| e["message"].as_str().is_some_and(|m| m.contains(&needle)))
}

/// The gateway does not know `_entities`: it is no field of the API schema (it is the subgraphs'
/// federation entry point), so the request fails validation and nothing is executed.
fn unknown_at_gateway(body: &Value) -> bool {
    not_in_schema(body, "_entities")
}

/// The field at `pointer` (named by its last step) is refused to `column`: `null` with a
/// `FORBIDDEN` error at its path. A patient organisation may instead be served the gateway's
/// public contract schema (the `@tag(name: "public")` part of the API), in which the field does
/// not exist at all: then the whole request fails validation naming it.
fn refused_to(column: &str, body: &Value, pointer: &str) -> bool {
    forbidden(body, pointer) || (column == PATIENT && not_in_schema(body, last_step(pointer)))
}

/// [`refused_change`], or for a patient organisation a mutation outside its public schema.
fn refused_change_to(column: &str, body: &Value, pointer: &str) -> bool {
    refused_change(body, pointer) || (column == PATIENT && not_in_schema(body, last_step(pointer)))
}

fn last_step(pointer: &str) -> &str {
    pointer.rsplit('/').next().unwrap_or(pointer)
}

fn starts(body: &Value, pointer: &str, prefix: &str) -> bool {
    at(body, pointer).as_str().is_some_and(|s| s.starts_with(prefix))
}

fn version(body: &Value, pointer: &str) -> i64 {
    at(body, pointer).as_i64().unwrap_or_else(|| panic!("a version at {pointer}: {body}"))
}

// ---------------------------------------------------------------------------------------------
// Regions and organisations; care offers: public fields, capacity detail, changes.
// ---------------------------------------------------------------------------------------------

const PICTURE: &str = r#"query($org: ID!) {
    regions(first: 100) { nodes { code } }
    region(code: "utrecht") { code name coordinatingInsurer { id } neighbours { code } }
    organisation(id: $org) { id name kind version regions { code } }
    careForms { code category }
    diagnosisGroups { code }
}"#;
const CREATE_REGION: &str = r#"mutation($code: String!) {
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
const OFFER_STATE: &str =
    "query($id: ID!) { careOffer(id: $id) { id version unitName status intakePause { from } capacity { places } } }";
const SET_CAPACITY: &str = "mutation($id: ID!, $v: Int!, $places: Int!) { \
    updateCareOffer(id: $id, expectedVersion: $v, input: { capacity: { places: $places, teams: 1, fte: 9.0 } }) { id version capacity { places } } }";
const CREATE_OFFER: &str = r#"mutation($region: String!) {
    createCareOffer(input: { regionCode: $region, category: ACUTE, careForm: "CRISIS_SERVICE", unitName: "E2E crisisteam",
        location: "Utrecht", availability: TWENTY_FOUR_SEVEN, capacity: { teams: 1 } }) { id version provider { id } region { code } status }
}"#;
const RENAME_OFFER: &str = r#"mutation($id: ID!, $v: Int!) {
    updateCareOffer(id: $id, expectedVersion: $v, input: { unitName: "E2E hernoemd" }) { id version unitName }
}"#;
const SET_PAUSE: &str = r#"mutation($id: ID!, $v: Int!) {
    setIntakePause(offerId: $id, expectedVersion: $v, pause: { from: "2026-12-01", reason: "E2E: tijdelijk geen nieuwe aanmeldingen" }) { id version intakePause { from reason } }
}"#;
const CLOSE_OFFER: &str =
    "mutation($id: ID!, $v: Int!) { closeCareOffer(id: $id, expectedVersion: $v) { id version status } }";

fn entities_query(typename: &str, id: &str, selection: &str) -> String {
    format!(
        "query {{ _entities(representations: [{{ __typename: \"{typename}\", id: \"{id}\" }}]) {{ ... on {typename} {{ {selection} }} }} }}"
    )
}

#[tokio::test]
async fn access_matrix_regions_and_care_offers() {
    let hub = Hub::start();
    let cast = Cast::demo(&hub);
    let eemland = hub.mint(EEMLAND);
    let noorderlicht = hub.mint(NOORDERLICHT);
    let wadkust = hub.mint(WADKUST);
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
    // insurers and the national table read them; nobody else.
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
    let refused_detail: [(&str, &Org, &str); 4] = [
        (PROVIDER, &noorderlicht, "a provider from another region"),
        (INSURER, &wadkust, "an insurer from another region"),
        (PATIENT, &cast.patient, "a patient organisation, even in the offer's region"),
        (OPERATOR, &cast.operator, "the hub operator"),
    ];
    for (column, who, whom) in refused_detail {
        let body = hub.gql(who, OFFER_DETAIL_Q, json!({ "id": FACT_NIEUWEGEIN })).await;
        cells.check(
            (OFFER_DETAIL, column),
            (at(&body, "/careOffer/unitName") == "FACT-team Nieuwegein Oost"
                && forbidden(&body, "/careOffer/capacity")
                && forbidden(&body, "/careOffer/inclusionCriteria"))
                || (column == PATIENT && not_in_schema(&body, "capacity") && not_in_schema(&body, "inclusionCriteria")),
            &format!("capacity and inclusion criteria are null + FORBIDDEN for {whom}"),
            &body,
        );
        // Asking again under other names does not help.
        let body = hub.gql(who, OFFER_DETAIL_ALIASES, json!({ "id": FACT_NIEUWEGEIN })).await;
        let every_alias =
            ["/careOffer/a", "/careOffer/b", "/careOffer/c", "/careOffer/d", "/first/capacity", "/second/capacity"]
                .into_iter()
                .all(|p| forbidden(&body, p));
        cells.check(
            (OFFER_DETAIL, column),
            (every_alias && at(&body, "/second/unitName") == "FACT-team Nieuwegein Oost")
                || (column == PATIENT && not_in_schema(&body, "capacity") && not_in_schema(&body, "inclusionCriteria")),
            &format!("every alias of capacity / inclusionCriteria is null + FORBIDDEN for {whom}"),
            &body,
        );
        cells.check(
            (OFFER_DETAIL, column),
            !body.to_string().contains("210") && !body.to_string().contains("Mensen met een EPA"),
            &format!("no capacity figure or criterion appears anywhere in the answer to {whom}"),
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
    let body = hub.gql(&cast.provider, CLOSE_OFFER, json!({ "id": new_offer, "v": 3 })).await;
    cells.check(
        (OFFER_WRITE, PROVIDER),
        clean(&body) && at(&body, "/closeCareOffer/status") == "CLOSED",
        "closes its own offer",
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

// ---------------------------------------------------------------------------------------------
// Waiting times and continuity signals.
// ---------------------------------------------------------------------------------------------

const WAITING_Q: &str = r#"query {
    waitingTimes(region: "utrecht", month: "2026-07", diagnosisGroup: "AUTISM") {
        nodes { id version providerId location waitingCount { exact fewerThan label } exceedsTreeknorm }
    }
}"#;
// A month before the demo history (24 months up to today), so the report is new.
const REPORT_WAITING: &str = r#"mutation($provider: ID!) {
    reportWaitingTime(input: { providerId: $provider, regionCode: "utrecht", location: "Utrecht", diagnosisGroup: "ADHD",
        month: "2023-11", registrationToIntakeWeeks: 3.5, intakeToTreatmentWeeks: 6.0, waitingCount: 42 }) { id providerId waitingCount { exact } }
}"#;
const CORRECT_WAITING: &str = "mutation($id: ID!, $v: Int!) { correctWaitingTime(id: $id, expectedVersion: $v, \
    input: { registrationToIntakeWeeks: 1.0, intakeToTreatmentWeeks: 1.0, waitingCount: 1 }) { id waitingCount { exact fewerThan label } } }";
const REGION_COUNTS: &str =
    r#"{ region(code: "utrecht") { code signalCounts { open acknowledged escalated resolved overdue } } }"#;
const ROOT_COUNTS: &str = r#"{ signalCounts(region: "utrecht") { open acknowledged escalated resolved } }"#;
const SIGNALS_Q: &str =
    "{ continuitySignals(first: 100) { nodes { id regionCode status kind severity description offer { id } } } }";
const RAISE_SIGNAL: &str = r#"mutation($offer: ID!) {
    raiseContinuitySignal(input: { offerId: $offer, kind: STAFFING, severity: MEDIUM, description: "E2E: vacatures in het team" }) { id status version kind }
}"#;
const UPDATE_SIGNAL: &str = "mutation($id: ID!, $v: Int!) { \
    updateContinuitySignal(id: $id, expectedVersion: $v, input: { severity: HIGH }) { id version severity } }";
const ACK_SIGNAL: &str = "mutation($id: ID!, $v: Int!) { \
    acknowledgeContinuitySignal(id: $id, expectedVersion: $v) { id status acknowledgedBy } }";
const ESCALATE_SIGNAL: &str =
    "mutation($id: ID!, $v: Int!) { escalateContinuitySignal(id: $id, expectedVersion: $v) { id status } }";

/// The signal `id` in a `continuitySignals` answer.
fn signal<'a>(body: &'a Value, id: &str) -> Option<&'a Value> {
    list(body, "/continuitySignals/nodes").iter().find(|n| n["id"] == id)
}

/// Read in full: offer, kind, severity and description present.
fn full_signal(body: &Value, id: &str) -> bool {
    signal(body, id).is_some_and(|n| {
        n["kind"].is_string()
            && n["severity"].is_string()
            && n["description"].is_string()
            && n["offer"]["id"].is_string()
    })
}

fn counts(body: &Value, pointer: &str, open: i64, acknowledged: i64, escalated: i64) -> bool {
    let c = at(body, pointer);
    c["open"] == open && c["acknowledged"] == acknowledged && c["escalated"] == escalated
}

#[tokio::test]
async fn access_matrix_waiting_times_and_continuity_signals() {
    let hub = Hub::start();
    let cast = Cast::demo(&hub);
    let eemland = hub.mint(EEMLAND);
    let noorderlicht = hub.mint(NOORDERLICHT);
    let wadkust = hub.mint(WADKUST);
    let eikenhof = hub.mint(EIKENHOF);
    let mut cells = Cells::default();

    // (waiting-time reports): public by law — every provider, insurer, patient organisation and
    // the national table read them; the operator does not.
    let readers = [
        (PROVIDER, &cast.provider),
        (PROVIDER, &noorderlicht),
        (INSURER, &cast.insurer),
        (INSURER, &wadkust),
        (PATIENT, &cast.patient),
        (NATIONAL, &cast.national),
    ];
    for (column, who) in readers {
        let body = hub.gql(who, WAITING_Q, json!({})).await;
        let nodes = list(&body, "/waitingTimes/nodes");
        cells.check(
            (WAITING, column),
            clean(&body) && nodes.iter().any(|n| n["providerId"] == EEMLAND && n["waitingCount"]["exact"].is_i64()),
            "reads the region's waiting times, other providers' included",
            &body,
        );
    }
    let body = hub.gql(&cast.operator, WAITING_Q, json!({})).await;
    cells.check((WAITING, OPERATOR), forbidden(&body, "/waitingTimes"), "waiting times are null + FORBIDDEN", &body);
    // W own.
    let body = hub.gql(&cast.provider, REPORT_WAITING, json!({ "provider": KROMME_RIJN })).await;
    cells.check(
        (WAITING, PROVIDER),
        clean(&body) && at(&body, "/reportWaitingTime/providerId") == KROMME_RIJN,
        "reports its own waiting times",
        &body,
    );
    let body = hub.gql(&cast.provider, REPORT_WAITING, json!({ "provider": EEMLAND })).await;
    cells.check(
        (WAITING, PROVIDER),
        forbidden(&body, "/reportWaitingTime"),
        "may not report another provider's waiting times",
        &body,
    );
    let before = hub.gql(&eemland, WAITING_Q, json!({})).await;
    let report = list(&before, "/waitingTimes/nodes").iter().find(|n| n["providerId"] == EEMLAND).cloned();
    let report = report.unwrap_or_else(|| panic!("Eemland reported AUTISM waiting times for 2026-07: {before}"));
    let body = hub.gql(&cast.provider, CORRECT_WAITING, json!({ "id": report["id"], "v": report["version"] })).await;
    cells.check(
        (WAITING, PROVIDER),
        forbidden(&body, "/correctWaitingTime"),
        "may not correct another provider's report",
        &body,
    );
    let after = hub.gql(&eemland, WAITING_Q, json!({})).await;
    let unchanged = list(&after, "/waitingTimes/nodes").iter().any(|n| n["id"] == report["id"] && n == &report);
    cells.check((WAITING, PROVIDER), unchanged, "the other provider's report is unchanged", &after);
    let body = hub.gql(&eemland, CORRECT_WAITING, json!({ "id": report["id"], "v": report["version"] })).await;
    cells.check(
        (WAITING, PROVIDER),
        clean(&body) && at(&body, "/correctWaitingTime/waitingCount/exact") == 1,
        "a provider corrects its own report, and sees its own small count exactly",
        &body,
    );
    // A count of 1 to 9 is "fewer than 10" for everyone but the provider that reported it.
    let small = |body: &Value| {
        list(body, "/waitingTimes/nodes").iter().find(|n| n["id"] == report["id"]).map(|n| n["waitingCount"].clone())
    };
    let body = hub.gql(&eemland, WAITING_Q, json!({})).await;
    cells.check(
        (WAITING, PROVIDER),
        small(&body) == Some(json!({ "exact": 1, "fewerThan": null, "label": "1" })),
        "the reporting provider reads its exact small count",
        &body,
    );
    for (column, who) in readers {
        let body = hub.gql(who, WAITING_Q, json!({})).await;
        cells.check(
            (WAITING, column),
            small(&body) == Some(json!({ "exact": null, "fewerThan": 10, "label": "fewer than 10" }))
                && !body.to_string().contains(r#""exact":1,"#),
            "reads another provider's count of 1 as fewer than 10",
            &body,
        );
    }
    let others =
        [(INSURER, &cast.insurer), (PATIENT, &cast.patient), (NATIONAL, &cast.national), (OPERATOR, &cast.operator)];
    for (column, who) in others {
        for provider in [KROMME_RIJN, who.id] {
            let body = hub.gql(who, REPORT_WAITING, json!({ "provider": provider })).await;
            cells.check(
                (WAITING, column),
                refused_to(column, &body, "/reportWaitingTime"),
                "may not report waiting times",
                &body,
            );
        }
    }

    // (continuity signal): counts per region for everyone but the operator.
    // utrecht holds three OPEN signals: two of Kromme Rijn, one of Eemland.
    for (column, who) in
        [(PROVIDER, &cast.provider), (INSURER, &cast.insurer), (PATIENT, &cast.patient), (NATIONAL, &cast.national)]
    {
        let body = hub.gql(who, REGION_COUNTS, json!({})).await;
        cells.check(
            (SIGNALS, column),
            clean(&body) && counts(&body, "/region/signalCounts", 3, 0, 0),
            "reads the region's signal counts",
            &body,
        );
        let body = hub.gql(who, ROOT_COUNTS, json!({})).await;
        cells.check(
            (SIGNALS, column),
            clean(&body) && counts(&body, "/signalCounts", 3, 0, 0),
            "reads signalCounts(region)",
            &body,
        );
    }
    let body = hub.gql(&cast.operator, REGION_COUNTS, json!({})).await;
    cells.check(
        (SIGNALS, OPERATOR),
        at(&body, "/region/code") == "utrecht" && forbidden(&body, "/region/signalCounts"),
        "Region.signalCounts is null + FORBIDDEN",
        &body,
    );
    let body = hub.gql(&cast.operator, ROOT_COUNTS, json!({})).await;
    cells.check((SIGNALS, OPERATOR), forbidden(&body, "/signalCounts"), "signalCounts is null + FORBIDDEN", &body);

    // Details. A provider: its own signals in full.
    let body = hub.gql(&eemland, SIGNALS_Q, json!({})).await;
    cells.check(
        (SIGNALS, PROVIDER),
        clean(&body)
            && ids(&body, "/continuitySignals/nodes") == [SIGNAL_EEMLAND]
            && full_signal(&body, SIGNAL_EEMLAND),
        "a provider lists exactly its own signals, in full",
        &body,
    );
    // The chair of utrecht lists its region's signals, but reads only its own in full.
    let body = hub.gql(&cast.provider, SIGNALS_Q, json!({})).await;
    let nodes = list(&body, "/continuitySignals/nodes");
    let others_hidden =
        nodes.iter().enumerate().filter(|(_, n)| n["id"] != SIGNAL_KR_FACT && n["id"] != SIGNAL_KR_HIC).all(
            |(i, n)| {
                n["kind"].is_null()
                    && n["description"].is_null()
                    && forbidden(&body, &format!("/continuitySignals/nodes/{i}/description"))
            },
        );
    cells.check(
        (SIGNALS, PROVIDER),
        full_signal(&body, SIGNAL_KR_FACT)
            && full_signal(&body, SIGNAL_KR_HIC)
            && others_hidden
            && nodes.iter().all(|n| n["regionCode"] == "utrecht"),
        "a provider reads its own signals in full and no other provider's content",
        &body,
    );
    // The coordinating insurer: every signal of its regions, in full.
    let body = hub.gql(&cast.insurer, SIGNALS_Q, json!({})).await;
    let mut seen = ids(&body, "/continuitySignals/nodes");
    seen.sort();
    let mut utrecht = vec![SIGNAL_KR_FACT, SIGNAL_KR_HIC, SIGNAL_EEMLAND];
    utrecht.sort();
    cells.check(
        (SIGNALS, INSURER),
        clean(&body) && seen == utrecht && utrecht.iter().all(|id| full_signal(&body, id)),
        "the coordinating insurer reads exactly its regions' signals, in full",
        &body,
    );
    let body = hub.gql(&wadkust, SIGNALS_Q, json!({})).await;
    let seen = ids(&body, "/continuitySignals/nodes");
    cells.check(
        (SIGNALS, INSURER),
        clean(&body)
            && full_signal(&body, SIGNAL_FRIESLAND)
            && full_signal(&body, SIGNAL_NOORDERLICHT)
            && !seen.iter().any(|id| utrecht.contains(&id.as_str())),
        "another region's coordinating insurer reads its own regions' signals and none of utrecht's",
        &body,
    );
    // An insurer reads the signals on offers it contracts (Eikenhof contracts Noorderlicht's
    // offer; the coordinating insurer of groningen is Wadkust).
    let body = hub.gql(&eikenhof, SIGNALS_Q, json!({})).await;
    cells.check(
        (SIGNALS, INSURER),
        full_signal(&body, SIGNAL_NOORDERLICHT),
        "an insurer reads (in full) the signal on an offer it contracts",
        &body,
    );
    cells.check(
        (SIGNALS, INSURER),
        signal(&body, SIGNAL_FRIESLAND).is_none() && signal(&body, SIGNAL_KR_FACT).is_none(),
        "an insurer does not read signals it neither coordinates nor contracts",
        &body,
    );
    // The national table: escalated signals only; patient organisations and the operator none.
    let body = hub.gql(&cast.national, SIGNALS_Q, json!({})).await;
    cells.check(
        (SIGNALS, NATIONAL),
        clean(&body)
            && ids(&body, "/continuitySignals/nodes") == [SIGNAL_ZEELAND]
            && full_signal(&body, SIGNAL_ZEELAND),
        "the national table reads exactly the escalated signals, in full",
        &body,
    );
    for (column, who) in [(PATIENT, &cast.patient), (OPERATOR, &cast.operator)] {
        let body = hub.gql(who, SIGNALS_Q, json!({})).await;
        cells.check(
            (SIGNALS, column),
            refused_to(column, &body, "/continuitySignals"),
            "signal details are refused",
            &body,
        );
    }

    // W own (provider), acknowledge (coordinating insurer).
    let body = hub.gql(&eemland, RAISE_SIGNAL, json!({ "offer": FACT_EEMLAND })).await;
    cells.check(
        (SIGNALS, PROVIDER),
        clean(&body) && at(&body, "/raiseContinuitySignal/status") == "OPEN",
        "raises a signal on its own offer",
        &body,
    );
    let raised = at(&body, "/raiseContinuitySignal/id").as_str().unwrap_or(UNKNOWN_ID).to_owned();
    let body = hub.gql(&eemland, UPDATE_SIGNAL, json!({ "id": raised, "v": 1 })).await;
    cells.check(
        (SIGNALS, PROVIDER),
        clean(&body) && at(&body, "/updateContinuitySignal/severity") == "HIGH",
        "changes its own signal",
        &body,
    );
    let body = hub.gql(&eemland, RAISE_SIGNAL, json!({ "offer": FACT_NIEUWEGEIN })).await;
    cells.check(
        (SIGNALS, PROVIDER),
        forbidden(&body, "/raiseContinuitySignal"),
        "may not raise a signal on another provider's offer",
        &body,
    );
    let body = hub.gql(&eemland, UPDATE_SIGNAL, json!({ "id": SIGNAL_KR_FACT, "v": 1 })).await;
    cells.check(
        (SIGNALS, PROVIDER),
        refused(&body, "/updateContinuitySignal", "NOT_FOUND"),
        "another provider's signal answers as a missing one",
        &body,
    );
    let body = hub.gql(&wadkust, ACK_SIGNAL, json!({ "id": SIGNAL_KR_HIC, "v": 1 })).await;
    cells.check(
        (SIGNALS, INSURER),
        refused(&body, "/acknowledgeContinuitySignal", "NOT_FOUND"),
        "an insurer that does not coordinate the region may not acknowledge",
        &body,
    );
    let body = hub.gql(&eikenhof, ACK_SIGNAL, json!({ "id": SIGNAL_FRIESLAND, "v": 1 })).await;
    cells.check(
        (SIGNALS, INSURER),
        refused_change(&body, "/acknowledgeContinuitySignal"),
        "an insurer at the table that does not coordinate it may not acknowledge",
        &body,
    );
    let body = hub.gql(&cast.insurer, RAISE_SIGNAL, json!({ "offer": FACT_NIEUWEGEIN })).await;
    cells.check((SIGNALS, INSURER), forbidden(&body, "/raiseContinuitySignal"), "insurers raise no signals", &body);
    let body = hub.gql(&cast.insurer, ACK_SIGNAL, json!({ "id": SIGNAL_EEMLAND, "v": 1 })).await;
    cells.check(
        (SIGNALS, INSURER),
        clean(&body)
            && at(&body, "/acknowledgeContinuitySignal/status") == "ACKNOWLEDGED"
            && at(&body, "/acknowledgeContinuitySignal/acknowledgedBy") == POLDER,
        "the coordinating insurer acknowledges a signal of its region",
        &body,
    );
    for (column, who) in [(PATIENT, &cast.patient), (NATIONAL, &cast.national), (OPERATOR, &cast.operator)] {
        let body = hub.gql(who, RAISE_SIGNAL, json!({ "offer": FACT_NIEUWEGEIN })).await;
        cells.check(
            (SIGNALS, column),
            refused_to(column, &body, "/raiseContinuitySignal"),
            "may not raise a signal",
            &body,
        );
        let body = hub.gql(who, ACK_SIGNAL, json!({ "id": SIGNAL_KR_HIC, "v": 1 })).await;
        cells.check(
            (SIGNALS, column),
            refused_change_to(column, &body, "/acknowledgeContinuitySignal"),
            "may not acknowledge a signal",
            &body,
        );
    }
    // Once the chair escalates a signal, the national table reads it.
    let body = hub.gql(&cast.provider, ESCALATE_SIGNAL, json!({ "id": SIGNAL_KR_FACT, "v": 1 })).await;
    cells.check(
        (SIGNALS, PROVIDER),
        clean(&body) && at(&body, "/escalateContinuitySignal/status") == "ESCALATED",
        "the region's chair escalates a signal",
        &body,
    );
    let body = hub.gql(&cast.national, SIGNALS_Q, json!({})).await;
    cells.check(
        (SIGNALS, NATIONAL),
        full_signal(&body, SIGNAL_KR_FACT) && signal(&body, SIGNAL_KR_HIC).is_none(),
        "the national table reads a signal once escalated, and still no open one",
        &body,
    );
    // Counts follow: open 3 + 1 raised − 1 acknowledged − 1 escalated.
    for (column, who) in [(PATIENT, &cast.patient), (NATIONAL, &cast.national)] {
        let body = hub.gql(who, REGION_COUNTS, json!({})).await;
        cells.check(
            (SIGNALS, column),
            clean(&body) && counts(&body, "/region/signalCounts", 2, 1, 1),
            "counts stay readable and follow the changes",
            &body,
        );
    }
    cells.finish();
}

// ---------------------------------------------------------------------------------------------
// Regional overviews, chairs (publishing, raising escalations), patient input.
// ---------------------------------------------------------------------------------------------

const OVERVIEW_Q: &str = "query($r: String!, $y: Int!) { \
    regionalOverview(region: $r, year: $y) { id version status publicSummary assessments { category } } }";
const OVERVIEW_NOTES: &str = "query($r: String!, $y: Int!) { \
    regionalOverview(region: $r, year: $y) { id version status publicSummary confidentialNotes } }";
const REGION_OVERVIEW: &str =
    r#"query($y: Int!) { region(code: "utrecht") { code overview(year: $y) { status publicSummary } } }"#;
const UPDATE_NOTES: &str = "mutation($id: ID!, $v: Int!, $notes: String!) { \
    updateRegionalOverview(id: $id, expectedVersion: $v, input: { confidentialNotes: $notes }) { id version confidentialNotes } }";
const UPDATE_SUMMARY: &str = "mutation($id: ID!, $v: Int!, $summary: String!) { \
    updateRegionalOverview(id: $id, expectedVersion: $v, input: { publicSummary: $summary }) { id version publicSummary } }";
const CREATE_OVERVIEW: &str = "mutation($r: String!, $y: Int!) { \
    createRegionalOverview(regionCode: $r, year: $y) { id version status regionCode year } }";
const PUBLISH: &str =
    "mutation($id: ID!, $v: Int!) { publishRegionalOverview(id: $id, expectedVersion: $v) { id status publishedAt } }";
const RAISE_ESCALATION: &str = r#"mutation($r: String!) {
    raiseEscalation(input: { regionCode: $r, category: SECURE, targetGroup: "E2E doelgroep",
        problem: "E2E: geen passend aanbod in de regio.", regionTried: "E2E: overleg met de buurregio's.", urgency: MEDIUM }) { id status regionCode }
}"#;
const INPUTS_Q: &str = "query($r: String!, $y: Int!) { \
    regionalOverview(region: $r, year: $y) { id patientInputs { id version text organisation { id } } } }";
const SUBMIT_INPUT: &str = r#"mutation($r: String!, $y: Int!) {
    submitPatientInput(regionCode: $r, year: $y, text: "E2E: cliënten missen een vast aanspreekpunt.") { id version text organisation { id } }
}"#;
const UPDATE_INPUT: &str = r#"mutation($id: ID!, $v: Int!, $text: String!) {
    updatePatientInput(id: $id, expectedVersion: $v, text: $text) { id version text }
}"#;

#[tokio::test]
async fn access_matrix_overviews_chairs_and_patient_input() {
    let hub = Hub::start();
    let cast = Cast::demo(&hub);
    let eemland = hub.mint(EEMLAND);
    let noorderlicht = hub.mint(NOORDERLICHT);
    let wadkust = hub.mint(WADKUST);
    let wad_en_veen = hub.mint(WAD_EN_VEEN);
    let mut cells = Cells::default();
    let utrecht_2026 = json!({ "r": "utrecht", "y": 2026 });
    let utrecht_2027 = json!({ "r": "utrecht", "y": 2027 });

    // (regional overview, published public part): every provider, insurer, patient organisation
    // and the national table; not the operator.
    let readers = [
        (PROVIDER, &cast.provider),
        (PROVIDER, &noorderlicht),
        (INSURER, &cast.insurer),
        (INSURER, &wadkust),
        (PATIENT, &cast.patient),
        (PATIENT, &wad_en_veen),
        (NATIONAL, &cast.national),
    ];
    for (column, who) in readers {
        let body = hub.gql(who, OVERVIEW_Q, utrecht_2026.clone()).await;
        cells.check(
            (OVERVIEW_PUBLIC, column),
            clean(&body)
                && at(&body, "/regionalOverview/status") == "PUBLISHED"
                && starts(&body, "/regionalOverview/publicSummary", "Regiobeeld cruciale ggz Utrecht 2026")
                && !list(&body, "/regionalOverview/assessments").is_empty(),
            "reads a published overview's summary and assessments",
            &body,
        );
    }
    let body = hub.gql(&cast.operator, OVERVIEW_Q, utrecht_2026.clone()).await;
    cells.check(
        (OVERVIEW_PUBLIC, OPERATOR),
        forbidden(&body, "/regionalOverview"),
        "the published overview is null + FORBIDDEN",
        &body,
    );
    let body = hub.gql(&cast.operator, REGION_OVERVIEW, json!({ "y": 2026 })).await;
    cells.check(
        (OVERVIEW_PUBLIC, OPERATOR),
        at(&body, "/region/code") == "utrecht" && forbidden(&body, "/region/overview"),
        "Region.overview is null + FORBIDDEN",
        &body,
    );

    // (regional overview, draft and confidential notes): RW for providers and insurers at the
    // region's table, R for the national table.
    let full_readers =
        [(PROVIDER, &cast.provider), (PROVIDER, &eemland), (INSURER, &cast.insurer), (NATIONAL, &cast.national)];
    for (column, who) in full_readers {
        let body = hub.gql(who, OVERVIEW_NOTES, utrecht_2027.clone()).await;
        cells.check(
            (OVERVIEW_DRAFT, column),
            clean(&body)
                && at(&body, "/regionalOverview/status") == "DRAFT"
                && starts(&body, "/regionalOverview/confidentialNotes", "Concept, niet delen"),
            "reads the draft with its confidential notes",
            &body,
        );
        let body = hub.gql(who, OVERVIEW_NOTES, utrecht_2026.clone()).await;
        cells.check(
            (OVERVIEW_DRAFT, column),
            clean(&body) && starts(&body, "/regionalOverview/confidentialNotes", "Vertrouwelijk"),
            "reads the published overview's confidential notes",
            &body,
        );
    }
    // A draft is answered exactly as a year without an overview (2031), so its existence shows
    // to no one who may not read it.
    let no_draft = [(PROVIDER, &noorderlicht), (INSURER, &wadkust), (PATIENT, &cast.patient)];
    for (column, who) in no_draft {
        let missing = hub.gql(who, OVERVIEW_Q, json!({ "r": "utrecht", "y": 2031 })).await;
        let body = hub.gql(who, OVERVIEW_Q, utrecht_2027.clone()).await;
        cells.check(
            (OVERVIEW_DRAFT, column),
            body == missing && body == json!({ "data": { "regionalOverview": null } }),
            "the draft is null without an error, as a missing overview",
            &body,
        );
        let missing = hub.gql(who, REGION_OVERVIEW, json!({ "y": 2031 })).await;
        let body = hub.gql(who, REGION_OVERVIEW, json!({ "y": 2027 })).await;
        cells.check(
            (OVERVIEW_DRAFT, column),
            body == missing && at(&body, "/region/code") == "utrecht" && clean(&body),
            "Region.overview of the draft year is null without an error, as a missing one",
            &body,
        );
    }
    let body = hub.gql(&cast.operator, OVERVIEW_Q, utrecht_2027.clone()).await;
    cells.check(
        (OVERVIEW_DRAFT, OPERATOR),
        forbidden(&body, "/regionalOverview") && !body.to_string().contains("Concept"),
        "the operator reads no overview: null + FORBIDDEN",
        &body,
    );
    for (column, who) in [(PROVIDER, &noorderlicht), (INSURER, &wadkust), (PATIENT, &cast.patient)] {
        let body = hub.gql(who, OVERVIEW_NOTES, utrecht_2026.clone()).await;
        cells.check(
            (OVERVIEW_DRAFT, column),
            ((at(&body, "/regionalOverview/status") == "PUBLISHED"
                && forbidden(&body, "/regionalOverview/confidentialNotes"))
                || (column == PATIENT && not_in_schema(&body, "confidentialNotes")))
                && !body.to_string().contains("Vertrouwelijk"),
            "the published overview's confidential notes are null + FORBIDDEN",
            &body,
        );
    }
    let body = hub.gql(&cast.operator, OVERVIEW_NOTES, utrecht_2026.clone()).await;
    cells.check(
        (OVERVIEW_DRAFT, OPERATOR),
        forbidden(&body, "/regionalOverview") && !body.to_string().contains("Vertrouwelijk"),
        "the published overview with its notes is null + FORBIDDEN",
        &body,
    );
    // Writes.
    let draft = hub.gql(&cast.provider, OVERVIEW_NOTES, utrecht_2027.clone()).await;
    let draft_id = at(&draft, "/regionalOverview/id").as_str().unwrap_or(UNKNOWN_ID).to_owned();
    let v = version(&draft, "/regionalOverview/version");
    let refused_writers = [
        (PROVIDER, &noorderlicht),
        (INSURER, &wadkust),
        (PATIENT, &cast.patient),
        (NATIONAL, &cast.national),
        (OPERATOR, &cast.operator),
    ];
    for (column, who) in refused_writers {
        let body = hub.gql(who, UPDATE_NOTES, json!({ "id": draft_id, "v": v, "notes": "E2E: mag niet" })).await;
        cells.check(
            (OVERVIEW_DRAFT, column),
            refused_change_to(column, &body, "/updateRegionalOverview"),
            "may not change the draft (NOT_FOUND where it may not know the draft exists)",
            &body,
        );
        let body = hub.gql(who, CREATE_OVERVIEW, json!({ "r": "utrecht", "y": 2029 })).await;
        cells.check(
            (OVERVIEW_DRAFT, column),
            refused_to(column, &body, "/createRegionalOverview"),
            "may not start an overview",
            &body,
        );
    }
    let notes = "E2E: notitie van een aanbieder aan tafel";
    let body = hub.gql(&eemland, UPDATE_NOTES, json!({ "id": draft_id, "v": v, "notes": notes })).await;
    cells.check(
        (OVERVIEW_DRAFT, PROVIDER),
        clean(&body) && at(&body, "/updateRegionalOverview/confidentialNotes") == notes,
        "a provider at the table changes the draft's notes",
        &body,
    );
    let notes = "E2E: notitie van een verzekeraar aan tafel";
    let body = hub.gql(&cast.insurer, UPDATE_NOTES, json!({ "id": draft_id, "v": v + 1, "notes": notes })).await;
    cells.check(
        (OVERVIEW_DRAFT, INSURER),
        clean(&body) && at(&body, "/updateRegionalOverview/confidentialNotes") == notes,
        "an insurer at the table changes the draft's notes",
        &body,
    );
    let body = hub.gql(&cast.national, OVERVIEW_NOTES, utrecht_2027.clone()).await;
    cells.check(
        (OVERVIEW_DRAFT, NATIONAL),
        at(&body, "/regionalOverview/confidentialNotes") == notes && at(&body, "/regionalOverview/version") == v + 2,
        "only the two allowed changes were made",
        &body,
    );
    let body = hub.gql(&cast.provider, CREATE_OVERVIEW, json!({ "r": "utrecht", "y": 2028 })).await;
    cells.check(
        (OVERVIEW_DRAFT, PROVIDER),
        clean(&body) && at(&body, "/createRegionalOverview/status") == "DRAFT",
        "a provider at the table starts an overview",
        &body,
    );
    let body = hub.gql(&cast.insurer, CREATE_OVERVIEW, json!({ "r": "flevoland", "y": 2027 })).await;
    cells.check(
        (OVERVIEW_DRAFT, INSURER),
        clean(&body) && at(&body, "/createRegionalOverview/status") == "DRAFT",
        "an insurer at the table starts an overview",
        &body,
    );
    let flevoland = at(&body, "/createRegionalOverview/id").as_str().unwrap_or(UNKNOWN_ID).to_owned();

    // (publish a regional overview, raise an escalation): the region's chair only.
    let v = v + 2;
    let not_chairs = [
        (PROVIDER, &eemland, "a provider at the table that does not chair it"),
        (INSURER, &cast.insurer, "an insurer at the table that chairs another region"),
        (PATIENT, &cast.patient, "a patient organisation"),
        (NATIONAL, &cast.national, "the national table"),
        (OPERATOR, &cast.operator, "the hub operator"),
    ];
    for (column, who, whom) in not_chairs {
        let body = hub.gql(who, PUBLISH, json!({ "id": draft_id, "v": v })).await;
        cells.check(
            (CHAIR, column),
            refused_to(column, &body, "/publishRegionalOverview"),
            &format!("{whom} may not publish utrecht's overview"),
            &body,
        );
        let body = hub.gql(who, RAISE_ESCALATION, json!({ "r": "utrecht" })).await;
        cells.check(
            (CHAIR, column),
            refused_to(column, &body, "/raiseEscalation"),
            &format!("{whom} may not raise an escalation for utrecht"),
            &body,
        );
    }
    let body = hub.gql(&cast.provider, PUBLISH, json!({ "id": draft_id, "v": v })).await;
    cells.check(
        (CHAIR, PROVIDER),
        clean(&body) && at(&body, "/publishRegionalOverview/status") == "PUBLISHED",
        "the chair (a provider) publishes its region's overview",
        &body,
    );
    let body = hub.gql(&cast.provider, RAISE_ESCALATION, json!({ "r": "utrecht" })).await;
    cells.check(
        (CHAIR, PROVIDER),
        clean(&body) && at(&body, "/raiseEscalation/status") == "SUBMITTED",
        "the chair (a provider) raises an escalation for its region",
        &body,
    );
    let body = hub
        .gql(&cast.insurer, UPDATE_SUMMARY, json!({ "id": flevoland, "v": 1, "summary": "E2E: regiobeeld Flevoland" }))
        .await;
    cells.check((CHAIR, INSURER), clean(&body), "the chair of flevoland writes its summary", &body);
    let body = hub.gql(&cast.insurer, PUBLISH, json!({ "id": flevoland, "v": 2 })).await;
    cells.check(
        (CHAIR, INSURER),
        clean(&body) && at(&body, "/publishRegionalOverview/status") == "PUBLISHED",
        "the chair (an insurer) publishes its region's overview",
        &body,
    );
    let body = hub.gql(&cast.insurer, RAISE_ESCALATION, json!({ "r": "flevoland" })).await;
    cells.check(
        (CHAIR, INSURER),
        clean(&body) && at(&body, "/raiseEscalation/regionCode") == "flevoland",
        "the chair (an insurer) raises an escalation for its region",
        &body,
    );

    // (patient input on an overview): providers, insurers and the national table read it; a
    // patient organisation writes (and reads) its own, in its regions.
    for (column, who) in [(PROVIDER, &cast.provider), (INSURER, &cast.insurer), (NATIONAL, &cast.national)] {
        let body = hub.gql(who, INPUTS_Q, utrecht_2026.clone()).await;
        let inputs = list(&body, "/regionalOverview/patientInputs");
        cells.check(
            (PATIENT_INPUT, column),
            clean(&body) && inputs.iter().any(|i| i["organisation"]["id"] == STEMKRACHT && i["text"].is_string()),
            "reads the patient organisations' input",
            &body,
        );
    }
    let body = hub.gql(&cast.operator, INPUTS_Q, utrecht_2026.clone()).await;
    cells.check(
        (PATIENT_INPUT, OPERATOR),
        forbidden(&body, "/regionalOverview"),
        "the overview and its patient input are null + FORBIDDEN",
        &body,
    );
    let body = hub.gql(&cast.patient, SUBMIT_INPUT, utrecht_2026.clone()).await;
    cells.check(
        (PATIENT_INPUT, PATIENT),
        clean(&body) && at(&body, "/submitPatientInput/organisation/id") == STEMKRACHT,
        "submits input in a region it takes part in",
        &body,
    );
    let input = at(&body, "/submitPatientInput/id").as_str().unwrap_or(UNKNOWN_ID).to_owned();
    let text = "E2E: aangevuld perspectief.";
    let body = hub.gql(&cast.patient, UPDATE_INPUT, json!({ "id": input, "v": 1, "text": text })).await;
    cells.check(
        (PATIENT_INPUT, PATIENT),
        clean(&body) && at(&body, "/updatePatientInput/text") == text,
        "changes its own input",
        &body,
    );
    let body = hub.gql(&cast.patient, SUBMIT_INPUT, json!({ "r": "groningen", "y": 2026 })).await;
    cells.check(
        (PATIENT_INPUT, PATIENT),
        forbidden(&body, "/submitPatientInput"),
        "submits no input in a region it does not take part in",
        &body,
    );
    let body = hub.gql(&wad_en_veen, UPDATE_INPUT, json!({ "id": input, "v": 2, "text": "E2E: overschreven" })).await;
    cells.check(
        (PATIENT_INPUT, PATIENT),
        refused(&body, "/updatePatientInput", "NOT_FOUND"),
        "another patient organisation's input answers as a missing one",
        &body,
    );
    let body = hub.gql(&cast.patient, INPUTS_Q, utrecht_2026.clone()).await;
    let inputs = list(&body, "/regionalOverview/patientInputs");
    cells.check(
        (PATIENT_INPUT, PATIENT),
        clean(&body)
            && inputs.iter().any(|i| i["id"] == input.as_str() && i["text"] == text)
            && inputs.iter().all(|i| i["organisation"]["id"] == STEMKRACHT),
        "reads its own input (unchanged by the other organisation), and only its own",
        &body,
    );
    let body = hub.gql(&wad_en_veen, INPUTS_Q, utrecht_2026.clone()).await;
    cells.check(
        (PATIENT_INPUT, PATIENT),
        clean(&body) && list(&body, "/regionalOverview/patientInputs").is_empty(),
        "another patient organisation reads none of it",
        &body,
    );
    let body = hub.gql(&wad_en_veen, INPUTS_Q, json!({ "r": "groningen", "y": 2026 })).await;
    let inputs = list(&body, "/regionalOverview/patientInputs");
    cells.check(
        (PATIENT_INPUT, PATIENT),
        clean(&body) && !inputs.is_empty() && inputs.iter().all(|i| i["organisation"]["id"] == WAD_EN_VEEN),
        "a patient organisation reads its own input in its own region",
        &body,
    );
    let others =
        [(PROVIDER, &cast.provider), (INSURER, &cast.insurer), (NATIONAL, &cast.national), (OPERATOR, &cast.operator)];
    for (column, who) in others {
        let body = hub.gql(who, SUBMIT_INPUT, utrecht_2026.clone()).await;
        cells.check(
            (PATIENT_INPUT, column),
            forbidden(&body, "/submitPatientInput"),
            "may not submit patient input",
            &body,
        );
        let body = hub.gql(who, UPDATE_INPUT, json!({ "id": input, "v": 2, "text": "E2E: overschreven" })).await;
        cells.check(
            (PATIENT_INPUT, column),
            refused_change(&body, "/updatePatientInput"),
            "may not change patient input",
            &body,
        );
    }
    cells.finish();
}

// ---------------------------------------------------------------------------------------------
// The national table: escalations and measures, supra-regional list, networks, KPIs.
// ---------------------------------------------------------------------------------------------

const ESCALATION_Q: &str = "query($id: ID!) { escalation(id: $id) { \
    id regionCode status raisedAt version publicSummary problem regionTried measures { id title } } }";
/// Only the public part of an escalation (region, category, target group, status, summary).
const ESCALATION_PUBLIC: &str =
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
const UPDATE_KPI: &str = "mutation($code: String!, $v: Int!, $name: String!) { \
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

// ---------------------------------------------------------------------------------------------
// Contracting: contract terms, contract coverage, guidelines.
// ---------------------------------------------------------------------------------------------

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
const CREATE_GUIDELINE: &str = r#"mutation($title: String!) {
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

const COVERAGE_ONLY: &str =
    "query($id: ID!) { careOffer(id: $id) { contractCoverage { year band otherInsurers continuitySecuredUntil } } }";
const CREATE_CONTRACT: &str =
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

// ---------------------------------------------------------------------------------------------
// The audit log.
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Municipalities (not a column of the matrix: "Municipalities read what patient organisations
// read, plus draft overviews of regions where they sit at the table"), and what the hub never
// holds: personal data in free text, echoed bad values.
// ---------------------------------------------------------------------------------------------

/// Gemeente Utrecht: at the utrecht table.
const GEMEENTE_UTRECHT: &str = "48df57a5-eb29-5725-95a6-76350a7e3cfe";
/// Gemeente Groningen: not at the utrecht table.
const GEMEENTE_GRONINGEN: &str = "16f689be-e6d1-5f12-b636-fd0177404757";
const MUNICIPALITY: &str = "municipality";
const NEVER_HELD: &str = "what the hub never holds";

#[tokio::test]
async fn municipalities_and_personal_data() {
    let hub = Hub::start();
    let cast = Cast::demo(&hub);
    let at_table = hub.mint(GEMEENTE_UTRECHT);
    let elsewhere = hub.mint(GEMEENTE_GRONINGEN);
    let mut cells = Cells::default();
    let utrecht_2027 = json!({ "r": "utrecht", "y": 2027 });

    // Drafts: the municipality at the table reads the draft, not its confidential notes; one
    // elsewhere gets what a missing overview answers.
    let body = hub.gql(&at_table, OVERVIEW_Q, utrecht_2027.clone()).await;
    cells.check(
        (OVERVIEW_DRAFT, MUNICIPALITY),
        clean(&body) && at(&body, "/regionalOverview/status") == "DRAFT",
        "a municipality at the table reads the draft",
        &body,
    );
    let body = hub.gql(&at_table, OVERVIEW_NOTES, utrecht_2027.clone()).await;
    cells.check(
        (OVERVIEW_DRAFT, MUNICIPALITY),
        forbidden(&body, "/regionalOverview/confidentialNotes") && !body.to_string().contains("Concept, niet delen"),
        "but not its confidential notes",
        &body,
    );
    let missing = hub.gql(&elsewhere, OVERVIEW_Q, json!({ "r": "utrecht", "y": 2031 })).await;
    let body = hub.gql(&elsewhere, OVERVIEW_Q, utrecht_2027.clone()).await;
    cells.check(
        (OVERVIEW_DRAFT, MUNICIPALITY),
        body == missing && body == json!({ "data": { "regionalOverview": null } }),
        "a municipality elsewhere gets null without an error, as for a missing overview",
        &body,
    );

    // Decided escalations: the public part only, as for a patient organisation.
    let body = hub.gql(&at_table, ESCALATION_Q, json!({ "id": ESC_UTRECHT_AGREED })).await;
    cells.check(
        (ESCALATIONS, MUNICIPALITY),
        at(&body, "/escalation/status") == "MEASURE_AGREED"
            && at(&body, "/escalation/publicSummary").is_string()
            && ["raisedAt", "version", "problem", "regionTried", "measures"]
                .iter()
                .all(|f| forbidden(&body, &format!("/escalation/{f}"))),
        "reads a decided escalation's public part, not when it was raised nor its version",
        &body,
    );
    let body = hub.gql(&at_table, ESCALATION_PUBLIC, json!({ "id": ESC_UTRECHT_SUBMITTED })).await;
    cells.check(
        (ESCALATIONS, MUNICIPALITY),
        body == json!({ "data": { "escalation": null } }),
        "an undecided escalation answers as a missing one",
        &body,
    );

    // Personal data in free text is refused through the gateway, naming the field and the kind,
    // never the value.
    let guarded = |body: &Value, pointer: &str, field: &str, kind: &str, value: &str| {
        refused(body, pointer, "BAD_USER_INPUT")
            && errors(body).iter().any(|e| {
                e["message"].as_str().is_some_and(|m| {
                    m.starts_with(&format!("{field} seems to contain personal data")) && m.contains(kind)
                })
            })
            && !body.to_string().contains(value)
    };
    let raise = r#"mutation($offer: ID!, $d: String!) { raiseContinuitySignal(input: { offerId: $offer, kind: STAFFING,
        severity: HIGH, description: $d }) { id } }"#;
    let samples = [
        ("BSN 111.222.333", "citizen service number (BSN)", "111.222.333"),
        ("geboren 12-03-1985", "date of birth", "12-03-1985"),
        ("mail p.devries@ziggo.nl", "e-mail address", "ziggo"),
        ("bel +31 6 1234 5678", "phone number", "1234 5678"),
    ];
    for (text, kind, value) in samples {
        let body = hub
            .gql(&cast.provider, raise, json!({ "offer": CRISIS_UTRECHT, "d": format!("E2E: cliënt, {text}") }))
            .await;
        cells.check(
            (NEVER_HELD, PROVIDER),
            guarded(&body, "/raiseContinuitySignal", "description", kind, value),
            "a signal description with personal data is refused",
            &body,
        );
    }
    let input = r#"mutation($t: String!) { submitPatientInput(regionCode: "utrecht", year: 2026, text: $t) { id } }"#;
    let body = hub.gql(&cast.patient, input, json!({ "t": "Mw. Jansen, BSN 111222333, wacht al maanden" })).await;
    cells.check(
        (NEVER_HELD, PATIENT),
        guarded(&body, "/submitPatientInput", "text", "citizen service number (BSN)", "111222333"),
        "patient input with a BSN is refused",
        &body,
    );
    let body = hub.gql(&cast.patient, INPUTS_Q, json!({ "r": "utrecht", "y": 2026 })).await;
    cells.check(
        (NEVER_HELD, PATIENT),
        clean(&body) && !body.to_string().contains("111222333"),
        "and nothing of it is stored",
        &body,
    );

    // A 1 MB bad value comes back as a short prefix.
    let huge = "x".repeat(1_000_000);
    let body = hub.gql(&cast.provider, "query($c: String!) { region(code: $c) { code } }", json!({ "c": huge })).await;
    let short = errors(&body).iter().all(|e| e["message"].as_str().is_some_and(|m| m.chars().count() < 200));
    cells.check(
        (NEVER_HELD, PROVIDER),
        refused(&body, "/region", "BAD_USER_INPUT") && short && body.to_string().len() < 2_000,
        "a megabyte region code is answered with a short message",
        &json!({ "length": body.to_string().len(), "start": body.to_string().chars().take(300).collect::<String>() }),
    );
    cells.finish();
}
