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

use crate::support::{BEHEER, DevHub, EEMLAND, KROMME_RIJN, POLDER, STEMKRACHT};

// Organisations of the demo data (services/region/data/demo/organisations.json); those other
// modules act as too are in `crate::support`.

/// GGZ Noorderlicht: a provider at the groningen and friesland tables, not at utrecht's.
const NOORDERLICHT: &str = "4ae8c3d9-c6a5-538e-a014-049202abf0c1";
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
/// Ervaringsraad Wad en Veen: a patient organisation of groningen, friesland and drenthe.
const WAD_EN_VEEN: &str = "877bde5d-38e1-5ff1-b6eb-4dcdb4131179";
/// Landelijke tafel cruciale ggz: the demo NATIONAL_TABLE token.
const LANDELIJKE_TAFEL: &str = "07a3f849-047d-5ed0-bd4c-6d00be40ea72";

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
/// The CLOSURE signal of the demo's one announced closure, in 't Gooi (issue 21,
/// `services/region/src/seed_closing.rs`); the utrecht insurer coordinates 't Gooi too.
const SIGNAL_DEMO_CLOSURE: &str = "0c105ed0-0000-0000-0000-000000000001";

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

mod audit_log;
mod contracting;
mod events;
mod municipalities;
mod national_table;
mod overviews;
mod regions_and_offers;
mod waiting_times_and_signals;
mod webhooks;
