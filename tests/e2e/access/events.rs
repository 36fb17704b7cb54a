//! The access matrix for live events (issue 19): who receives a continuity signal's events and an
//! offer's status change, end to end through `ggzhub dev` (the in-process event log), each
//! organisation subscribed over SSE at the gateway with its own token; and the follow-through:
//! the insurer's response on the acknowledgement, an escalated signal opening an escalation at the
//! national table, linked both ways.
//!
//! Absence is checked without waiting on a clock: a subscriber's events arrive in stream order,
//! so once a later event it does receive (a marker) has arrived, every earlier one it was going to
//! receive has too.

use std::time::Duration;

use super::*;

/// Eemland's ward De Esdoorn in utrecht, covered by Kempenpad's agreed contract (2026–2028).
const ESDOORN_EEMLAND: &str = "e6387785-4dda-5cce-aef9-57b67fd04f33";

const SIGNAL_EVENTS: &str =
    r#"subscription { signalEvents(region: "utrecht") { kind occurredAt signal { id status response } } }"#;
const OFFER_EVENTS: &str =
    r#"subscription { offerStatusChanges(region: "utrecht") { previousStatus status offer { id } } }"#;
const ESCALATION_EVENTS: &str =
    r#"subscription { escalationEvents(region: "utrecht") { kind escalation { id signal { id } } } }"#;
const RAISE: &str = r#"mutation($offer: ID!) {
    raiseContinuitySignal(input: { offerId: $offer, kind: STAFFING, severity: HIGH, description: "E2E: het crisisteam onderbezet" }) { id version }
}"#;
const ACK: &str = "mutation($id: ID!, $v: Int!, $response: String) { \
    acknowledgeContinuitySignal(id: $id, expectedVersion: $v, response: $response) { id version status response } }";
const ESCALATE: &str =
    "mutation($id: ID!, $v: Int!) { escalateContinuitySignal(id: $id, expectedVersion: $v) { id version status } }";
const OFFER_VERSION: &str = "query($id: ID!) { careOffer(id: $id) { id version status } }";
const SET_STATUS: &str = "mutation($id: ID!, $v: Int!) { \
    updateCareOffer(id: $id, expectedVersion: $v, input: { status: UNDER_PRESSURE }) { id version status } }";
const ESCALATION_OF_SIGNAL: &str =
    "{ continuitySignals(region: \"utrecht\", first: 100) { nodes { id status escalation { id signal { id } } } } }";

/// One subscriber's SSE stream and what it has received so far.
struct Stream {
    response: reqwest::Response,
    text: String,
}

impl Stream {
    async fn open(hub: &Hub, who: &Org, query: &str) -> Result<Self, (u16, Value)> {
        let response = hub
            .http
            .post(&hub.dev.gateway_url)
            .header("accept", "text/event-stream")
            .bearer_auth(&who.token)
            .json(&json!({ "query": query }))
            .send()
            .await
            .expect("the gateway answers");
        if response.status() != 200 {
            let status = response.status().as_u16();
            return Err((status, response.json().await.unwrap_or(Value::Null)));
        }
        let mut stream = Self { response, text: String::new() };
        // The stream is running once its first chunk (an SSE comment) has come.
        stream.read_until(|s| !s.text.is_empty()).await;
        Ok(stream)
    }

    /// The `data` of every `next` event so far.
    fn events(&self) -> Vec<Value> {
        self.text
            .split("\n\n")
            .filter(|block| block.contains("event: next"))
            .filter_map(|block| block.lines().find_map(|l| l.strip_prefix("data: ")))
            .map(|data| serde_json::from_str(data).expect("JSON"))
            .collect()
    }

    async fn read_until(&mut self, done: impl Fn(&Self) -> bool) {
        let read = async {
            while !done(self) {
                match self.response.chunk().await.expect("a chunk") {
                    Some(chunk) => self.text.push_str(&String::from_utf8_lossy(&chunk)),
                    None => break,
                }
            }
        };
        // Generous: a missing event fails the test here, with what did arrive.
        if tokio::time::timeout(Duration::from_secs(60), read).await.is_err() {
            panic!("an expected event did not arrive; received so far:\n{}", self.text);
        }
    }

    /// The signal events for `signal`, as (kind, data).
    fn signal_events(&self, signal: &str) -> Vec<(String, Value)> {
        self.events()
            .into_iter()
            .filter(|e| e["data"]["signalEvents"]["signal"]["id"] == signal)
            .map(|e| (e["data"]["signalEvents"]["kind"].as_str().unwrap_or_default().to_owned(), e))
            .collect()
    }

    fn has_signal(&self, signal: &str) -> bool {
        !self.signal_events(signal).is_empty()
    }
}

fn kinds(events: &[(String, Value)]) -> Vec<&str> {
    events.iter().map(|(k, _)| k.as_str()).collect()
}

#[tokio::test]
async fn access_matrix_live_events() {
    live_events(Hub::start()).await;
}

/// The same with the events on NATS JetStream (a server of the test's own) instead of the
/// in-process log.
#[tokio::test]
async fn access_matrix_live_events_over_nats() {
    let nats = ggzhub_kit::events::testing::NatsServer::start().await;
    let hub = Hub { dev: DevHub::start_with(&[("GGZHUB_NATS_URL", &nats.url())]), http: reqwest::Client::new() };
    live_events(hub).await;
}

async fn live_events(hub: Hub) {
    let cast = Cast::demo(&hub);
    let eemland = hub.mint(EEMLAND);
    let kempenpad = hub.mint(KEMPENPAD);
    let heidezicht = hub.mint(HEIDEZICHT);
    let mut cells = Cells::default();

    // Everyone subscribes to utrecht's signal events; the patient organisation is served the
    // public contract schema, where signalEvents does not exist (it reads counts only).
    let mut streams = Vec::new();
    for (name, who) in [
        ("Kromme Rijn (provider of the offer, chair)", &cast.provider),
        ("Eemland (another provider)", &eemland),
        ("Polder (coordinating insurer)", &cast.insurer),
        ("Heidezicht (contracts the offer)", &heidezicht),
        ("Kempenpad (insurer at the table, not contracting)", &kempenpad),
        ("the national table", &cast.national),
        ("the operator", &cast.operator),
    ] {
        let stream = Stream::open(&hub, who, SIGNAL_EVENTS).await.unwrap_or_else(|e| panic!("{name}: {e:?}"));
        streams.push((name, stream));
    }
    let refused = Stream::open(&hub, &cast.patient, SIGNAL_EVENTS).await.err().unwrap_or((200, Value::Null));
    cells.check(
        (SIGNALS, PATIENT),
        refused.0 == 400 && refused.1["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED",
        "signalEvents is not in the public schema a patient organisation is served",
        &refused.1,
    );
    // An unknown region is refused when subscribing (the region subgraph checks the subscription
    // before any event), not at the first event.
    let atlantis = SIGNAL_EVENTS.replace("utrecht", "atlantis");
    let refused = Stream::open(&hub, &cast.insurer, &atlantis).await.err().unwrap_or((200, Value::Null));
    cells.check(
        (SIGNALS, INSURER),
        refused.0 == 400 && refused.1["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT",
        "a subscription to an unknown region is refused with BAD_USER_INPUT",
        &refused.1,
    );
    let mut offers_patient = Stream::open(&hub, &cast.patient, OFFER_EVENTS).await.expect("public offer events");
    let mut offers_kempenpad = Stream::open(&hub, &kempenpad, OFFER_EVENTS).await.expect("offer events");
    let mut escalations = Stream::open(&hub, &cast.national, ESCALATION_EVENTS).await.expect("escalation events");

    // Kromme Rijn raises a signal on its crisis service; Polder acknowledges it with a response;
    // Kromme Rijn, utrecht's chair, escalates it.
    let body = hub.gql(&cast.provider, RAISE, json!({ "offer": CRISIS_UTRECHT })).await;
    assert!(clean(&body), "raised: {body}");
    let signal = at(&body, "/raiseContinuitySignal/id").as_str().expect("an id").to_owned();
    let response = "We zoeken samen met de buurregio capaciteit voor het crisisteam";
    let body = hub.gql(&cast.insurer, ACK, json!({ "id": signal, "v": 1, "response": response })).await;
    assert!(clean(&body), "acknowledged: {body}");
    let v = version(&body, "/acknowledgeContinuitySignal/version");
    let body = hub.gql(&cast.provider, ESCALATE, json!({ "id": signal, "v": v })).await;
    assert!(clean(&body), "escalated: {body}");
    // The marker: Eemland raises a signal on its ward De Esdoorn (Polder coordinates utrecht and
    // Kempenpad's agreed contract covers the ward: they receive it too).
    let body = hub.gql(&eemland, RAISE, json!({ "offer": ESDOORN_EEMLAND })).await;
    assert!(clean(&body), "marker raised: {body}");
    let marker = at(&body, "/raiseContinuitySignal/id").as_str().expect("an id").to_owned();

    let full = ["RAISED", "ACKNOWLEDGED", "ESCALATED"];
    for (name, stream) in &mut streams {
        let column = if name.contains("provider") || name.contains("Eemland") {
            PROVIDER
        } else if name.contains("national") {
            NATIONAL
        } else if name.contains("operator") {
            OPERATOR
        } else {
            INSURER
        };
        let expected: &[&str] = match *name {
            n if n.starts_with("Kromme Rijn") || n.starts_with("Polder") || n.starts_with("Heidezicht") => &full,
            n if n.starts_with("the national table") => &["ESCALATED"],
            _ => &[],
        };
        let gets_marker = name.starts_with("Eemland") || name.starts_with("Polder") || name.starts_with("Kempenpad");
        let wanted = expected.len();
        let signal_id = signal.clone();
        let marker_id = marker.clone();
        if gets_marker {
            stream.read_until(|s| s.has_signal(&marker_id)).await;
        } else if wanted > 0 {
            stream.read_until(|s| s.signal_events(&signal_id).len() >= wanted).await;
        }
        let got = stream.signal_events(&signal);
        cells.check(
            (SIGNALS, column),
            kinds(&got) == expected,
            &format!("{name} receives {expected:?} of the signal, in order"),
            &json!(stream.events()),
        );
        if let Some((_, ack)) = got.iter().find(|(k, _)| k == "ACKNOWLEDGED") {
            cells.check(
                (SIGNALS, column),
                ack["data"]["signalEvents"]["signal"]["response"] == response,
                &format!("{name} reads the insurer's response on the acknowledgement"),
                ack,
            );
        }
    }

    // The follow-through: an escalation at the national table, linked both ways.
    escalations.read_until(|s| !s.events().is_empty()).await;
    let opened = &escalations.events()[0];
    cells.check(
        (ESCALATIONS, NATIONAL),
        opened["data"]["escalationEvents"]["escalation"]["signal"]["id"] == signal.as_str(),
        "the national table receives the escalation opened from the signal",
        opened,
    );
    let body = hub.gql(&cast.national, ESCALATION_OF_SIGNAL, json!({})).await;
    let node = list(&body, "/continuitySignals/nodes").iter().find(|n| n["id"] == signal.as_str()).cloned();
    cells.check(
        (ESCALATIONS, NATIONAL),
        node.as_ref().is_some_and(|n| {
            n["status"] == "ESCALATED"
                && n["escalation"]["id"] == opened["data"]["escalationEvents"]["escalation"]["id"]
                && n["escalation"]["signal"]["id"] == signal.as_str()
        }),
        "the escalated signal links to its escalation, and the escalation back to the signal",
        &body,
    );

    // An offer's status change is public: the patient organisation and an insurer receive it.
    let body = hub.gql(&cast.provider, OFFER_VERSION, json!({ "id": IHT_ZEIST })).await;
    let v = version(&body, "/careOffer/version");
    let body = hub.gql(&cast.provider, SET_STATUS, json!({ "id": IHT_ZEIST, "v": v })).await;
    assert!(clean(&body), "status changed: {body}");
    for (column, stream) in [(PATIENT, &mut offers_patient), (INSURER, &mut offers_kempenpad)] {
        stream
            .read_until(|s| s.events().iter().any(|e| e["data"]["offerStatusChanges"]["offer"]["id"] == IHT_ZEIST))
            .await;
        let event = stream
            .events()
            .into_iter()
            .find(|e| e["data"]["offerStatusChanges"]["offer"]["id"] == IHT_ZEIST)
            .unwrap_or_default();
        cells.check(
            (OFFER_PUBLIC, column),
            event["data"]["offerStatusChanges"]["status"] == "UNDER_PRESSURE",
            "receives the offer's status change",
            &event,
        );
    }
    cells.finish();
}
