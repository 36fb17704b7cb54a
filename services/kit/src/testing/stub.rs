//! A recording stub subgraph: answers GraphQL from fixtures and remembers every request, so a
//! subgraph's tests need no sibling service (and no dependency on its crate).
//!
//! Our subgraphs ask each other two kinds of question over HTTP, both with an internal token
//! carrying the caller's identity (see [`crate::refs::RefChecker`]):
//! - `_entities(representations: …)`, to check references and read a few public fields of
//!   another subgraph's entities;
//! - plain queries on a root field, e.g. contracting's `careOffers(region: …)` page walk.
//!
//! A [`StubSubgraph`] answers the first from entity fixtures ([`StubFixtures::entity`]: a
//! `__typename`, the names of its key fields and the whole object) and the second from root-field
//! fixtures ([`StubFixtures::field`]: the field's value as a function of its arguments). It
//! verifies the bearer token with the kit's [`TokenVerifier`](crate::TokenVerifier) for its
//! audience, exactly as a real subgraph's [`Caller`] extractor does (HTTP 401 `UNAUTHENTICATED`
//! otherwise), and records each request ([`StubRequest`]: query, variables, headers, the verified
//! caller or why the token was refused, the representations asked) so a test can assert what the
//! service under test asked, how often, and on whose behalf.
//!
//! What it deliberately does not do:
//! - **Selections are not applied.** An entity is answered with its whole fixture object, a root
//!   field with whatever its fixture returns; GraphQL clients read the fields they asked for and
//!   ignore the rest (our services index into the JSON by field name). Aliases of root fields are
//!   honoured; aliases inside a selection are not.
//! - **No access rules.** The stub answers every caller with a valid token alike; which scopes
//!   the token carried is in the recording, for tests to assert.
//! - **Root fields only.** Fragment spreads at the root of an operation are refused.
//!
//! An unknown representation is answered as our real subgraphs answer it: `null` in its place and
//! a `NOT_FOUND` error at `["_entities", index]` (the rest of the list is unaffected). A root field
//! without a fixture is `null` with an `INTERNAL` error naming it, so a test that forgot a fixture
//! fails loudly rather than quietly seeing "nothing there".
//!
//! ```no_run
//! # async fn example() {
//! use std::sync::Arc;
//! use ggzhub_kit::testing::stub::{StubFixtures, StubSubgraph};
//! use serde_json::json;
//!
//! let key = Arc::new(ggzhub_kit::SigningKey::generate());
//! let fixtures = StubFixtures::new()
//!     .entity("Region", &["code"], json!({ "code": "utrecht", "name": "Utrecht" }))
//!     .field("regions", |_args| json!({ "nodes": [{ "code": "utrecht" }] }));
//! let region = StubSubgraph::start(fixtures, key, "region").await;
//! // Point the service under test at `region.url()`; afterwards:
//! assert_eq!(region.entity_requests().len(), 1, "one round trip");
//! # }
//! ```

pub mod region;

use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::parser::types::{DocumentOperations, Field, OperationDefinition, OperationType, Selection};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Map, Value, json};

use super::{GraphqlCall, TestCaller, TestServer};
use crate::caller::{AuthRejection, Caller};
use crate::token::{SigningKey, TokenError, TokenVerifier};

/// Computes a root field's value from its arguments (a JSON object, variables substituted).
type FieldAnswer = dyn Fn(&Value) -> Value + Send + Sync;

/// One entity the stub knows.
#[derive(Debug, Clone)]
struct EntityFixture {
    typename: String,
    key: Vec<String>,
    object: Value,
}

impl EntityFixture {
    /// Whether `representation` names this entity: same `__typename`, and every key field equal.
    /// Other fields a representation carries (`@requires` data) do not take part.
    fn matches(&self, representation: &Value) -> bool {
        representation["__typename"] == self.typename.as_str()
            && self.key.iter().all(|k| representation.get(k).is_some_and(|v| *v == self.object[k]))
    }
}

/// What a [`StubSubgraph`] answers: entities by `__typename` and key, root fields by name.
#[derive(Clone, Default)]
pub struct StubFixtures {
    entities: Vec<EntityFixture>,
    fields: Vec<(String, Arc<FieldAnswer>)>,
}

impl std::fmt::Debug for StubFixtures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StubFixtures")
            .field("entities", &self.entities)
            .field("fields", &self.fields.iter().map(|(name, _)| name).collect::<Vec<_>>())
            .finish()
    }
}

impl StubFixtures {
    /// No fixtures: every representation is unknown, every root field missing.
    pub fn new() -> Self {
        Self::default()
    }

    /// An entity of `typename` identified by its `key` fields (their values are taken from
    /// `object`, which must hold them). `_entities` answers a representation with the same
    /// `__typename` and key values with `object`, its `__typename` added.
    ///
    /// # Panics
    /// When `object` is not a JSON object or lacks a key field: a broken fixture.
    pub fn entity(mut self, typename: &str, key: &[&str], object: Value) -> Self {
        let Value::Object(mut fields) = object else { panic!("the {typename} fixture must be a JSON object") };
        for k in key {
            assert!(fields.contains_key(*k), "the {typename} fixture lacks its key field {k}");
        }
        fields.insert("__typename".to_owned(), Value::String(typename.to_owned()));
        self.entities.push(EntityFixture {
            typename: typename.to_owned(),
            key: key.iter().map(|k| (*k).to_owned()).collect(),
            object: Value::Object(fields),
        });
        self
    }

    /// A root field (`regions`, `careOffers`, …) whose value `answer` computes from the field's
    /// arguments: a JSON object with variables substituted and absent arguments left out
    /// (`{"region": "utrecht", "first": 100, "after": null}` for
    /// `careOffers(region: $r, first: 100, after: $after)` with `$r = "utrecht"`, `$after` null).
    /// A later fixture for the same field replaces an earlier one.
    pub fn field(mut self, name: &str, answer: impl Fn(&Value) -> Value + Send + Sync + 'static) -> Self {
        self.fields.retain(|(n, _)| n != name);
        self.fields.push((name.to_owned(), Arc::new(answer)));
        self
    }

    /// The entity `representation` names, with its `__typename`, or `None` when unknown.
    pub fn resolve(&self, representation: &Value) -> Option<&Value> {
        self.entities.iter().find(|e| e.matches(representation)).map(|e| &e.object)
    }

    fn field_answer(&self, name: &str) -> Option<&Arc<FieldAnswer>> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, f)| f)
    }
}

/// How the bearer token of a recorded request fared with the stub's verifier.
#[derive(Debug, Clone, PartialEq)]
pub enum StubToken {
    /// A valid internal token for the stub's audience, vouching for this caller.
    Valid(Caller),
    /// No `Authorization: Bearer` header (answered with HTTP 401).
    Missing,
    /// A token was sent but refused, for this reason (answered with HTTP 401).
    Refused(String),
}

/// One request the stub received, in the order received.
#[derive(Debug, Clone)]
pub struct StubRequest {
    /// The GraphQL document.
    pub query: String,
    /// `variables` as sent (`null` when absent).
    pub variables: Value,
    /// `operationName`, when sent.
    pub operation_name: Option<String>,
    /// Every HTTP header of the request.
    pub headers: HeaderMap,
    /// The bearer token's verdict.
    pub token: StubToken,
    /// Names (not aliases) of the operation's root fields, in order; empty when the request was
    /// refused before the document was read (bad token, unparsable document).
    pub root_fields: Vec<String>,
    /// The representations `_entities` was asked for, variables substituted; empty when the
    /// operation has no `_entities` field.
    pub representations: Vec<Value>,
}

impl StubRequest {
    /// The caller its valid internal token vouched for, if the token was valid.
    pub fn caller(&self) -> Option<&Caller> {
        match &self.token {
            StubToken::Valid(c) => Some(c),
            _ => None,
        }
    }

    /// Whether the operation asked `_entities`.
    pub fn is_entities(&self) -> bool {
        self.root_fields.iter().any(|f| f == "_entities")
    }

    /// The `__typename`s of the representations, in order.
    pub fn typenames(&self) -> Vec<&str> {
        self.representations.iter().map(|r| r["__typename"].as_str().unwrap_or_default()).collect()
    }
}

#[derive(Clone)]
struct StubState {
    fixtures: Arc<StubFixtures>,
    verifier: Arc<TokenVerifier>,
    log: Arc<Mutex<Vec<StubRequest>>>,
}

impl axum::extract::FromRef<StubState> for Arc<TokenVerifier> {
    fn from_ref(state: &StubState) -> Self {
        state.verifier.clone()
    }
}

/// A stub subgraph serving [`StubFixtures`] on 127.0.0.1:0 and recording every request; stops
/// when dropped (a service asking it afterwards gets a refused connection, as from a subgraph
/// that went down).
pub struct StubSubgraph {
    server: TestServer,
    log: Arc<Mutex<Vec<StubRequest>>>,
}

impl StubSubgraph {
    /// Serves `fixtures` at `/graphql`, trusting internal tokens of `key` for `audience` (the
    /// audience of the subgraph it stands in for, e.g. `"region"`).
    pub async fn start(fixtures: StubFixtures, key: Arc<SigningKey>, audience: &str) -> Self {
        let log = Arc::new(Mutex::new(Vec::new()));
        let state =
            StubState { fixtures: Arc::new(fixtures), verifier: Arc::new(key.verifier(audience)), log: log.clone() };
        let app = axum::Router::new().route("/graphql", post(handle)).with_state(state);
        let server = TestServer::start(app, key, audience).await;
        Self { server, log }
    }

    /// The GraphQL endpoint, e.g. `http://127.0.0.1:41234/graphql`: what the service under test
    /// is configured with.
    pub fn url(&self) -> String {
        self.server.url("/graphql")
    }

    /// The audience it accepts tokens for.
    pub fn audience(&self) -> &str {
        &self.server.audience
    }

    /// A valid token for `caller`, for the stub's audience.
    pub fn token(&self, caller: &TestCaller) -> String {
        self.server.token(caller)
    }

    /// Starts a GraphQL request to the stub itself (e.g. to show that a token is valid here).
    pub fn graphql(&self, query: &str) -> GraphqlCall<'_> {
        self.server.graphql(query)
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<StubRequest> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Requests received so far.
    pub fn request_count(&self) -> usize {
        self.log.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// The requests received since the first `from` (e.g. a [`request_count`](Self::request_count)
    /// taken before the request under test).
    pub fn requests_since(&self, from: usize) -> Vec<StubRequest> {
        let log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        log.get(from..).map(<[StubRequest]>::to_vec).unwrap_or_default()
    }

    /// The requests so far that asked `_entities`.
    pub fn entity_requests(&self) -> Vec<StubRequest> {
        self.requests().into_iter().filter(StubRequest::is_entities).collect()
    }
}

impl std::fmt::Debug for StubSubgraph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StubSubgraph").field("url", &self.url()).field("requests", &self.request_count()).finish()
    }
}

/// The body of a GraphQL POST.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    query: String,
    #[serde(default)]
    variables: Value,
    #[serde(default)]
    operation_name: Option<String>,
}

async fn handle(
    State(state): State<StubState>,
    caller: Result<Caller, AuthRejection>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Body>,
) -> Response {
    let (token, refusal) = match caller {
        Ok(c) => (StubToken::Valid(c), None),
        Err(AuthRejection(TokenError::Missing)) => (StubToken::Missing, Some(AuthRejection(TokenError::Missing))),
        Err(rejection) => (StubToken::Refused(rejection.0.to_string()), Some(rejection)),
    };
    let mut request = StubRequest {
        query: body.query,
        variables: body.variables,
        operation_name: body.operation_name,
        headers,
        token,
        root_fields: vec![],
        representations: vec![],
    };
    let response = match refusal {
        // Refused exactly as a real subgraph refuses it: 401, `UNAUTHENTICATED`, no data.
        Some(rejection) => rejection.into_response(),
        None => match answer(&state.fixtures, &mut request) {
            Ok(body) => axum::Json(body).into_response(),
            Err(message) => (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({ "errors": [{ "message": message, "extensions": { "code": "BAD_REQUEST" } }] })),
            )
                .into_response(),
        },
    };
    state.log.lock().unwrap_or_else(PoisonError::into_inner).push(request);
    response
}

/// The operation `request` runs, its root fields answered from `fixtures`; fills in the
/// request's `root_fields` and `representations`. `Err`: a document the stub cannot run.
fn answer(fixtures: &StubFixtures, request: &mut StubRequest) -> Result<Value, String> {
    let doc = async_graphql::parser::parse_query(&request.query).map_err(|e| format!("stub subgraph: {e}"))?;
    let op = operation(&doc.operations, request.operation_name.as_deref())?;
    let variables = request.variables.as_object().cloned().unwrap_or_default();
    let mut data = Map::new();
    let mut errors = Vec::new();
    for item in &op.selection_set.node.items {
        let Selection::Field(field) = &item.node else {
            return Err("stub subgraph: only fields are supported at the root of an operation".into());
        };
        let field = &field.node;
        let name = field.name.node.as_str();
        let response_key = field.alias.as_ref().map_or(name, |a| a.node.as_str()).to_owned();
        let args = arguments(field, &variables)?;
        request.root_fields.push(name.to_owned());
        let value = if name == "__typename" {
            json!(if op.ty == OperationType::Mutation { "Mutation" } else { "Query" })
        } else if name == "_entities" {
            let representations = match args.get("representations") {
                Some(Value::Array(list)) => list.clone(),
                _ => return Err("stub subgraph: _entities needs a list of representations".into()),
            };
            let mut entities = Vec::with_capacity(representations.len());
            for (i, representation) in representations.iter().enumerate() {
                match fixtures.resolve(representation) {
                    Some(entity) => entities.push(entity.clone()),
                    None => {
                        entities.push(Value::Null);
                        let typename = representation["__typename"].as_str().unwrap_or("entity");
                        errors.push(json!({
                            "message": format!("no {typename} with this key"),
                            "path": [response_key, i],
                            "extensions": { "code": "NOT_FOUND" },
                        }));
                    }
                }
            }
            request.representations.extend(representations);
            Value::Array(entities)
        } else if let Some(f) = fixtures.field_answer(name) {
            f(&Value::Object(args))
        } else {
            errors.push(json!({
                "message": format!("the stub subgraph has no fixture for the root field {name}"),
                "path": [response_key],
                "extensions": { "code": "INTERNAL" },
            }));
            Value::Null
        };
        data.insert(response_key, value);
    }
    let mut body = json!({ "data": data });
    if !errors.is_empty() {
        body["errors"] = Value::Array(errors);
    }
    Ok(body)
}

/// The operation to run: the only one, or the one named `name`.
fn operation<'a>(operations: &'a DocumentOperations, name: Option<&str>) -> Result<&'a OperationDefinition, String> {
    match (operations, name) {
        (DocumentOperations::Single(op), _) => Ok(&op.node),
        (DocumentOperations::Multiple(ops), Some(name)) => {
            ops.get(name).map(|op| &op.node).ok_or_else(|| format!("stub subgraph: no operation named {name}"))
        }
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            Ok(&ops.values().next().expect("one operation").node)
        }
        (DocumentOperations::Multiple(_), None) => Err("stub subgraph: several operations and no operationName".into()),
    }
}

/// A field's arguments as a JSON object, variables taken from `variables` (an absent variable
/// is `null`; an absent argument is left out).
fn arguments(field: &Field, variables: &Map<String, Value>) -> Result<Map<String, Value>, String> {
    let mut args = Map::new();
    for (name, value) in &field.arguments {
        let constant = value.node.clone().into_const_with(|var| {
            let given = variables.get(var.as_str()).cloned().unwrap_or(Value::Null);
            async_graphql::Value::from_json(given).map_err(|e| format!("stub subgraph: variable ${var}: {e}"))
        })?;
        let json = constant.into_json().map_err(|e| format!("stub subgraph: argument {}: {e}", name.node))?;
        args.insert(name.node.to_string(), json);
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::region::{OfferFixture, RegionFixture};
    use super::*;
    use crate::refs::RefChecker;
    use crate::token::OrgKind;

    const PROVIDER: Uuid = Uuid::from_u128(0xa1);
    const OFFER: Uuid = Uuid::from_u128(0x0f_a1_01);
    const CLOSED: Uuid = Uuid::from_u128(0x0f_a1_02);
    const ELSEWHERE: Uuid = Uuid::from_u128(0x0f_b1_01);

    fn region() -> RegionFixture {
        RegionFixture::new()
            .region("utrecht", "Utrecht", "IZA", &["amsterdam"], None)
            .region("amsterdam", "Amsterdam", "IZA", &["utrecht"], None)
            .organisation(PROVIDER, "GGZ Aanbieder A", OrgKind::Provider, &["utrecht"])
            .offer(OfferFixture::new(OFFER, PROVIDER, "utrecht", "ACUTE", "CRISIS_SERVICE", "Crisisdienst"))
            .offer(OfferFixture::new(CLOSED, PROVIDER, "utrecht", "OUTREACH", "FACT", "FACT-team").status("CLOSED"))
            .offer(OfferFixture::new(ELSEWHERE, PROVIDER, "amsterdam", "ACUTE", "HIC", "HIC").serving(&["amsterdam"]))
    }

    fn caller() -> Caller {
        Caller {
            org: Uuid::from_u128(0x4a),
            kind: OrgKind::NationalTable,
            subject: "tester".into(),
            regions: Default::default(),
            roles: Default::default(),
            scopes: ["picture:read", "national:write"].iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[tokio::test]
    async fn answers_entities_from_fixtures_in_order_and_records_who_asked() {
        let key = Arc::new(SigningKey::generate());
        let stub = region().start(key.clone()).await;
        let checker = RefChecker::new(stub.url(), super::region::AUDIENCE, key.signer());
        let reps = vec![
            json!({ "__typename": "Region", "code": "utrecht" }),
            json!({ "__typename": "Region", "code": "atlantis" }),
            json!({ "__typename": "CareOffer", "id": OFFER.to_string() }),
            // The right key under another type is no match.
            json!({ "__typename": "Organisation", "id": OFFER.to_string() }),
            json!({ "__typename": "Organisation", "id": PROVIDER.to_string() }),
        ];
        let found = checker
            .resolve(&caller(), reps.clone(), "... on Region { code } ... on CareOffer { id region { code } }")
            .await
            .expect("the stub answers; NOT_FOUND errors are per entity");
        let found: Vec<Value> = found.into_iter().map(|e| e.unwrap_or(Value::Null)).collect();
        assert_eq!(found[0]["__typename"], "Region");
        assert_eq!(found[0]["code"], "utrecht");
        assert_eq!(found[1], Value::Null, "an unknown region is null");
        assert_eq!(found[2]["region"]["code"], "utrecht");
        assert_eq!(found[2]["provider"]["id"], PROVIDER.to_string());
        assert_eq!(found[3], Value::Null);
        assert_eq!(found[4]["kind"], "PROVIDER");

        let asked = stub.requests();
        assert_eq!(asked.len(), 1, "one round trip");
        assert!(asked[0].is_entities());
        assert_eq!(asked[0].representations, reps);
        assert_eq!(asked[0].typenames(), ["Region", "Region", "CareOffer", "Organisation", "Organisation"]);
        // RefChecker sends the caller's identity with the read scope only.
        let who = asked[0].caller().expect("a valid internal token for the region audience");
        assert_eq!((who.org, who.kind, who.subject.as_str()), (caller().org, OrgKind::NationalTable, "tester"));
        assert_eq!(who.scopes.iter().collect::<Vec<_>>(), ["picture:read"]);
        assert!(asked[0].headers.contains_key("authorization"));
    }

    #[tokio::test]
    async fn unknown_representations_are_null_with_not_found_at_their_index() {
        let key = Arc::new(SigningKey::generate());
        let stub = region().start(key.clone()).await;
        let resp = stub
            .graphql("query($r: [_Any!]!) { found: _entities(representations: $r) { __typename } }")
            .var(
                "r",
                json!([{ "__typename": "Region", "code": "atlantis" }, { "__typename": "Region", "code": "utrecht" }]),
            )
            .as_caller(&TestCaller::new(OrgKind::Provider, PROVIDER, &["utrecht"]))
            .send()
            .await;
        assert_eq!(resp.status, 200);
        assert_eq!(resp.body["data"]["found"][0], Value::Null);
        assert_eq!(resp.body["data"]["found"][1]["code"], "utrecht", "the alias is the response key");
        assert_eq!(resp.error_code_at(&["found", "0"]).as_deref(), Some("NOT_FOUND"), "{:#}", resp.body);
        assert_eq!(resp.error_codes(), ["NOT_FOUND"]);
    }

    #[tokio::test]
    async fn answers_root_fields_from_their_arguments_and_pages() {
        let key = Arc::new(SigningKey::generate());
        let stub = region().start(key.clone()).await;
        let checker = RefChecker::new(stub.url(), super::region::AUDIENCE, key.signer());
        const Q: &str = "query($r: String!, $after: String) { careOffers(region: $r, first: 1, after: $after) {
            totalCount pageInfo { hasNextPage endCursor } nodes { id status } } }";
        let first = checker.query(&caller(), Q, json!({ "r": "utrecht" })).await.expect("answers");
        let page = &first["data"]["careOffers"];
        assert_eq!(page["totalCount"], 2, "{first:#}");
        assert_eq!(page["nodes"][0]["id"], OFFER.to_string());
        assert_eq!(page["pageInfo"]["hasNextPage"], true);
        let after = page["pageInfo"]["endCursor"].clone();
        let second = checker.query(&caller(), Q, json!({ "r": "utrecht", "after": after })).await.expect("answers");
        let page = &second["data"]["careOffers"];
        assert_eq!(page["nodes"].as_array().map(Vec::len), Some(1));
        assert_eq!(
            (&page["nodes"][0]["id"], &page["nodes"][0]["status"]),
            (&json!(CLOSED.to_string()), &json!("CLOSED"))
        );
        assert_eq!(page["pageInfo"]["hasNextPage"], false);

        let recorded = stub.requests();
        assert_eq!(recorded.len(), 2);
        assert_eq!(recorded[1].root_fields, ["careOffers"]);
        assert_eq!(recorded[1].variables["after"], after);
        assert!(!recorded[1].is_entities() && recorded[1].representations.is_empty());

        // A root field without a fixture is an error naming it, not an empty answer.
        let body = checker.query(&caller(), "{ regionalOverviews { id } }", json!({})).await.expect("answers");
        assert_eq!(body["data"]["regionalOverviews"], Value::Null);
        assert_eq!(body["errors"][0]["extensions"]["code"], "INTERNAL", "{body:#}");
        assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("regionalOverviews")));
    }

    #[tokio::test]
    async fn refuses_a_missing_or_foreign_token_as_a_subgraph_does_and_records_it() {
        let key = Arc::new(SigningKey::generate());
        let stub = region().start(key.clone()).await;
        let provider = TestCaller::new(OrgKind::Provider, PROVIDER, &["utrecht"]);
        let for_national_table = TestServer::start(axum::Router::new(), key.clone(), "national-table").await;
        let cases = [
            (None, StubToken::Missing),
            (Some(for_national_table.token(&provider)), StubToken::Refused("token not issued for this service".into())),
            (
                Some(SigningKey::generate().signer().sign(&crate::token::TokenRequest {
                    subject: "x".into(),
                    audience: vec!["region".into()],
                    org: PROVIDER,
                    org_kind: OrgKind::Provider,
                    regions: vec![],
                    roles: vec![],
                    scopes: vec!["picture:read".into()],
                    ttl: std::time::Duration::from_secs(60),
                })),
                StubToken::Refused("invalid token".into()),
            ),
        ];
        for (token, verdict) in cases {
            let mut call = stub.graphql("{ regions { nodes { code } } }");
            if let Some(t) = token {
                call = call.bearer(t);
            }
            let resp = call.send().await;
            assert_eq!(resp.status, 401, "{verdict:?}: {:#}", resp.body);
            assert_eq!(resp.error_codes(), ["UNAUTHENTICATED"]);
            assert!(resp.body.get("data").is_none_or(Value::is_null), "{:#}", resp.body);
            let last = stub.requests().pop().expect("recorded");
            assert_eq!(last.token, verdict);
            assert!(last.root_fields.is_empty(), "a refused request is not read");
        }
        // The stub's own token is valid.
        let ok = stub.graphql("{ regions { nodes { code } } }").as_caller(&provider).send().await;
        let codes: Vec<&str> =
            ok.data()["regions"]["nodes"].as_array().into_iter().flatten().filter_map(|n| n["code"].as_str()).collect();
        assert_eq!(codes, ["amsterdam", "utrecht"]);
        assert_eq!(stub.request_count(), 4);
        assert_eq!(stub.requests_since(3)[0].caller().map(|c| c.org), Some(PROVIDER));
    }
}
