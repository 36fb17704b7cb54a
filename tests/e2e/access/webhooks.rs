//! Webhooks (issue 19): organisations register a subscription and a URL through the gateway;
//! `ggzhub dev`'s gateway POSTs each answer there, signed as Standard Webhooks describes, only
//! with what the organisation may see; a target that keeps failing is disabled with the reason,
//! and re-enabled it receives what it missed. A receiver of the test's own plays the partners.
//!
//! Absence is checked as in `events.rs`: deliveries of one webhook come in stream order, so once
//! a later event (a marker) has arrived at a webhook, every earlier one for it has too.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};

use super::*;

const ESDOORN_EEMLAND: &str = "e6387785-4dda-5cce-aef9-57b67fd04f33";
const SIGNAL_HOOK: &str = r#"subscription { signalEvents(region: "utrecht") { kind signal { id status } } }"#;
const OFFER_HOOK: &str = r#"subscription { offerStatusChanges(region: "utrecht") { status offer { id } } }"#;
const REGISTER: &str =
    "mutation($input: RegisterWebhookInput!) { registerWebhook(input: $input) { secret webhook { id status url } } }";
const LIST: &str = "{ webhooks { id status disabledReason consecutiveFailures lastError lastEventId } }";
const ENABLE: &str = "mutation($id: ID!) { enableWebhook(id: $id) { id status consecutiveFailures } }";
const DELETE: &str = "mutation($id: ID!) { deleteWebhook(id: $id) }";
const RAISE: &str = r#"mutation($offer: ID!) {
    raiseContinuitySignal(input: { offerId: $offer, kind: STAFFING, severity: HIGH, description: "E2E: webhook" }) { id }
}"#;
const OFFER_VERSION: &str = "query($id: ID!) { careOffer(id: $id) { id version } }";
const SET_STATUS: &str = "mutation($id: ID!, $v: Int!) { \
    updateCareOffer(id: $id, expectedVersion: $v, input: { status: UNDER_PRESSURE }) { id version status } }";

/// How a receiver path answers.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Accept,
    Fail,
    Gone,
}

/// One POST the receiver got.
#[derive(Clone)]
struct Received {
    headers: HeaderMap,
    body: String,
    accepted: bool,
}

#[derive(Clone, Default)]
struct Receiver {
    modes: Arc<Mutex<HashMap<String, Mode>>>,
    received: Arc<Mutex<HashMap<String, Vec<Received>>>>,
}

impl Receiver {
    async fn start() -> (Self, String) {
        let receiver = Self::default();
        let app = axum::Router::new().route("/{name}", axum::routing::post(receive)).with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let base = format!("http://{}", listener.local_addr().expect("an address"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, base)
    }

    fn set(&self, name: &str, mode: Mode) {
        self.modes.lock().expect("the receiver's lock").insert(name.to_owned(), mode);
    }

    fn all(&self, name: &str) -> Vec<Received> {
        self.received.lock().expect("the receiver's lock").get(name).cloned().unwrap_or_default()
    }

    /// The accepted deliveries' payloads.
    fn accepted(&self, name: &str) -> Vec<Value> {
        self.all(name)
            .into_iter()
            .filter(|r| r.accepted)
            .map(|r| serde_json::from_str(&r.body).expect("JSON"))
            .collect()
    }

    async fn wait(&self, what: &str, done: impl Fn(&Self) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while !done(self) {
            assert!(tokio::time::Instant::now() < deadline, "{what}: not within 60 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

async fn receive(State(r): State<Receiver>, Path(name): Path<String>, headers: HeaderMap, body: String) -> StatusCode {
    let mode = r.modes.lock().expect("the receiver's lock").get(&name).copied().unwrap_or(Mode::Accept);
    let status = match mode {
        Mode::Accept => StatusCode::NO_CONTENT,
        Mode::Fail => StatusCode::INTERNAL_SERVER_ERROR,
        Mode::Gone => StatusCode::GONE,
    };
    r.received.lock().expect("the receiver's lock").entry(name).or_default().push(Received {
        headers,
        body,
        accepted: mode == Mode::Accept,
    });
    status
}

/// The ids among `of` in a webhook's accepted signal deliveries, in order (the hub's deadline
/// sweep may send events of the demo's own signals too).
fn signal_ids(payloads: &[Value], of: &[&String]) -> Vec<String> {
    payloads
        .iter()
        .filter_map(|p| p["data"]["signalEvents"]["signal"]["id"].as_str())
        .filter(|id| of.iter().any(|o| o.as_str() == *id))
        .map(str::to_owned)
        .collect()
}

struct Registered {
    id: String,
    secret: String,
}

async fn register(hub: &Hub, who: &Org, url: &str, query: &str) -> Result<Registered, Value> {
    let body = hub.gql(who, REGISTER, json!({ "input": { "url": url, "query": query, "description": "e2e" } })).await;
    if !clean(&body) {
        return Err(body);
    }
    Ok(Registered {
        id: at(&body, "/registerWebhook/webhook/id").as_str().expect("an id").to_owned(),
        secret: at(&body, "/registerWebhook/secret").as_str().expect("a secret").to_owned(),
    })
}

async fn listed(hub: &Hub, who: &Org, id: &str) -> Value {
    let body = hub.gql(who, LIST, json!({})).await;
    assert!(clean(&body), "webhooks: {body}");
    list(&body, "/webhooks").iter().find(|w| w["id"] == id).cloned().unwrap_or(Value::Null)
}

async fn wait_listed(hub: &Hub, who: &Org, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let webhook = listed(hub, who, id).await;
        if done(&webhook) {
            return webhook;
        }
        assert!(tokio::time::Instant::now() < deadline, "{what}: not within 60 s; webhook: {webhook}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `examples/webhook_receiver.py`, running; stopped when dropped.
struct PythonReceiver {
    child: std::process::Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl PythonReceiver {
    fn start(port: u16, secret: &str) -> Self {
        use std::io::BufRead as _;
        let mut child = std::process::Command::new("python3")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/webhook_receiver.py"))
            .args(["--port", &port.to_string()])
            .env("WEBHOOK_SECRET", secret)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs examples/webhook_receiver.py");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().expect("its output");
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.lock().expect("the lines' lock").push(line);
            }
        });
        Self { child, lines }
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().expect("the lines' lock").clone()
    }

    async fn wait_for(&self, text: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while !self.lines().iter().any(|l| l.contains(text)) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the Python receiver printed no {text}: {:?}",
                self.lines()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for PythonReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Three attempts, 200 ms apart at first: a failing target is disabled within a second.
const FAST_RETRIES: [(&str, &str); 2] =
    [("GGZHUB_DEV_WEBHOOK_MAX_ATTEMPTS", "3"), ("GGZHUB_DEV_WEBHOOK_BACKOFF_MS", "200")];

#[tokio::test]
async fn webhooks_deliver_what_each_organisation_may_see() {
    webhooks(Hub { dev: DevHub::start_with(&FAST_RETRIES), http: reqwest::Client::new() }).await;
}

/// The same with the events on NATS JetStream (a server of the test's own).
#[tokio::test]
async fn webhooks_deliver_what_each_organisation_may_see_over_nats() {
    let nats = ggzhub_kit::events::testing::NatsServer::start().await;
    let url = nats.url();
    let env = [FAST_RETRIES[0], FAST_RETRIES[1], ("GGZHUB_NATS_URL", url.as_str())];
    webhooks(Hub { dev: DevHub::start_with(&env), http: reqwest::Client::new() }).await;
}

async fn webhooks(hub: Hub) {
    let cast = Cast::demo(&hub);
    let eemland = hub.mint(EEMLAND);
    let kempenpad = hub.mint(KEMPENPAD);
    let heidezicht = hub.mint(HEIDEZICHT);
    let (receiver, base) = Receiver::start().await;
    let mut cells = Cells::default();

    // Bad input is refused with a clear error.
    for (url, query, why) in [
        ("ftp://partner.example/hook", SIGNAL_HOOK, "a URL that is not http(s)"),
        ("https://user:pw@partner.example/hook", SIGNAL_HOOK, "a URL with credentials"),
        ("https://partner.example/hook", "{ regions { code } }", "a query instead of a subscription"),
        ("https://partner.example/hook", "subscription {", "an operation that does not parse"),
    ] {
        let refused = register(&hub, &cast.insurer, url, query).await.err().unwrap_or(Value::Null);
        cells.check(
            (SIGNALS, INSURER),
            refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT",
            &format!("registering {why} is refused with BAD_USER_INPUT"),
            &refused,
        );
    }

    // Polder coordinates utrecht; Heidezicht contracts Kromme Rijn's crisis service; Kempenpad sits
    // at the table without a contract for it (but its agreed contract covers Eemland's ward);
    // Eemland is another provider. The patient organisation registers the public offer events.
    let polder = register(&hub, &cast.insurer, &format!("{base}/polder"), SIGNAL_HOOK).await.expect("Polder registers");
    let kempen =
        register(&hub, &kempenpad, &format!("{base}/kempenpad"), SIGNAL_HOOK).await.expect("Kempenpad registers");
    let heide =
        register(&hub, &heidezicht, &format!("{base}/heidezicht"), SIGNAL_HOOK).await.expect("Heidezicht registers");
    let eem = register(&hub, &eemland, &format!("{base}/eemland"), SIGNAL_HOOK).await.expect("Eemland registers");
    let _patient = register(&hub, &cast.patient, &format!("{base}/patient"), OFFER_HOOK)
        .await
        .expect("the patient organisation registers");
    // The patient organisation's schema has no signalEvents: its webhook is disabled with the reason.
    let patient_signals =
        register(&hub, &cast.patient, &format!("{base}/patient-signals"), SIGNAL_HOOK).await.expect("registered");
    // Polder's second webhook goes to the Python example receiver, which verifies the signature
    // with the standard library only (not with the library the gateway signs with).
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    let python = register(&hub, &cast.insurer, &format!("http://127.0.0.1:{port}/hook"), SIGNAL_HOOK)
        .await
        .expect("Polder registers a second webhook");
    let example = PythonReceiver::start(port, &python.secret);
    receiver.set("heidezicht", Mode::Gone);
    receiver.set("eemland", Mode::Fail);

    // Another organisation neither sees nor deletes Polder's webhook.
    cells.check(
        (SIGNALS, INSURER),
        listed(&hub, &kempenpad, &polder.id).await.is_null(),
        "Kempenpad's webhooks do not include Polder's",
        &json!(null),
    );
    let body = hub.gql(&kempenpad, DELETE, json!({ "id": polder.id })).await;
    cells.check(
        (SIGNALS, INSURER),
        body["errors"][0]["extensions"]["code"] == "NOT_FOUND",
        "Kempenpad cannot delete Polder's webhook (NOT_FOUND)",
        &body,
    );

    // Kromme Rijn raises a signal on its crisis service; then Eemland one on its ward (the marker).
    let body = hub.gql(&cast.provider, RAISE, json!({ "offer": CRISIS_UTRECHT })).await;
    assert!(clean(&body), "raised: {body}");
    let signal = at(&body, "/raiseContinuitySignal/id").as_str().expect("an id").to_owned();
    let body = hub.gql(&eemland, RAISE, json!({ "offer": ESDOORN_EEMLAND })).await;
    assert!(clean(&body), "marker raised: {body}");
    let marker = at(&body, "/raiseContinuitySignal/id").as_str().expect("an id").to_owned();
    let ours = [&signal, &marker];

    // Polder receives both, signed with its secret; Kempenpad only the marker.
    receiver.wait("Polder's deliveries", |r| signal_ids(&r.accepted("polder"), &ours).contains(&marker)).await;
    receiver.wait("Kempenpad's deliveries", |r| signal_ids(&r.accepted("kempenpad"), &ours).contains(&marker)).await;
    cells.check(
        (SIGNALS, INSURER),
        signal_ids(&receiver.accepted("polder"), &ours) == [signal.clone(), marker.clone()],
        "the coordinating insurer's webhook receives the signal and the marker, in order",
        &json!(receiver.accepted("polder")),
    );
    cells.check(
        (SIGNALS, INSURER),
        signal_ids(&receiver.accepted("kempenpad"), &ours) == [marker.clone()],
        "an insurer not contracting the offer receives nothing of its signal",
        &json!(receiver.accepted("kempenpad")),
    );
    let verifier = standardwebhooks::Webhook::new(&polder.secret).expect("a Standard Webhooks secret");
    let wrong = standardwebhooks::Webhook::new(&kempen.secret).expect("a Standard Webhooks secret");
    for delivery in receiver.all("polder") {
        assert!(
            verifier.verify(delivery.body.as_bytes(), &delivery.headers).is_ok(),
            "a delivery to Polder is signed with Polder's secret: {:?} {}",
            delivery.headers,
            delivery.body
        );
        assert!(
            wrong.verify(delivery.body.as_bytes(), &delivery.headers).is_err(),
            "another secret does not verify it"
        );
        let payload: Value = serde_json::from_str(&delivery.body).expect("JSON");
        assert_eq!(payload["type"], "signalEvents");
        assert_eq!(payload["webhookId"], polder.id.as_str());
        assert!(payload["eventId"].as_str().is_some_and(|e| e.parse::<u64>().is_ok()), "{payload}");
    }

    example.wait_for(&marker).await;
    let printed = example.lines();
    cells.check(
        (SIGNALS, INSURER),
        printed.iter().any(|l| l.contains(signal.as_str()) && l.contains("\"verified\": true"))
            && printed.iter().any(|l| l.contains(marker.as_str())),
        "the Python example receiver verifies the signatures and prints the signal and the marker",
        &json!(printed),
    );

    // A target answering 410 Gone is disabled at once, with the reason.
    let gone =
        wait_listed(&hub, &heidezicht, &heide.id, "Heidezicht's webhook disabled", |w| w["status"] == "DISABLED").await;
    cells.check(
        (SIGNALS, INSURER),
        gone["disabledReason"].as_str().is_some_and(|r| r.contains("410")),
        "a webhook whose target answers 410 Gone is disabled, the reason visible to its organisation",
        &gone,
    );
    // A target failing three times in a row (this hub's max_attempts) is disabled, the same event
    // tried each time (the same webhook-id); re-enabled, it receives what it missed.
    let failing =
        wait_listed(&hub, &eemland, &eem.id, "Eemland's webhook disabled", |w| w["status"] == "DISABLED").await;
    cells.check(
        (SIGNALS, PROVIDER),
        failing["disabledReason"].as_str().is_some_and(|r| r.contains("3 times") && r.contains("500"))
            && failing["consecutiveFailures"].as_i64() >= Some(2),
        "a webhook failing max_attempts times in a row is disabled, with the last error as the reason",
        &failing,
    );
    let attempts = receiver.all("eemland");
    let ids: std::collections::BTreeSet<_> =
        attempts.iter().filter_map(|r| r.headers.get("webhook-id").and_then(|v| v.to_str().ok())).collect();
    assert!(
        attempts.len() == 3 && ids.len() == 1,
        "three attempts of one message: {} attempts, ids {ids:?}",
        attempts.len()
    );
    receiver.set("eemland", Mode::Accept);
    let body = hub.gql(&eemland, ENABLE, json!({ "id": eem.id })).await;
    assert!(clean(&body) && at(&body, "/enableWebhook/status") == "ENABLED", "enabled: {body}");
    receiver.wait("Eemland's missed delivery", |r| signal_ids(&r.accepted("eemland"), &ours).contains(&marker)).await;
    cells.check(
        (SIGNALS, PROVIDER),
        signal_ids(&receiver.accepted("eemland"), &ours) == [marker.clone()],
        "re-enabled, the provider's webhook receives the event it missed, and not the other provider's signal",
        &json!(receiver.accepted("eemland")),
    );

    // An operation the organisation's schema does not have disables the webhook, with the reason.
    let refused = wait_listed(
        &hub,
        &cast.patient,
        &patient_signals.id,
        "the patient organisation's signal webhook disabled",
        |w| w["status"] == "DISABLED",
    )
    .await;
    cells.check(
        (SIGNALS, PATIENT),
        refused["disabledReason"].as_str().is_some_and(|r| r.contains("signalEvents")),
        "a webhook for signals of a patient organisation is disabled: signalEvents is not in its schema",
        &refused,
    );
    // Offer status changes are public: the patient organisation's webhook receives one.
    let body = hub.gql(&cast.provider, OFFER_VERSION, json!({ "id": IHT_ZEIST })).await;
    let v = version(&body, "/careOffer/version");
    let body = hub.gql(&cast.provider, SET_STATUS, json!({ "id": IHT_ZEIST, "v": v })).await;
    assert!(clean(&body), "status changed: {body}");
    receiver
        .wait("the patient organisation's offer delivery", |r| {
            r.accepted("patient").iter().any(|p| p["data"]["offerStatusChanges"]["offer"]["id"] == IHT_ZEIST)
        })
        .await;
    cells.check(
        (OFFER_PUBLIC, PATIENT),
        receiver.accepted("patient").iter().any(|p| p["data"]["offerStatusChanges"]["status"] == "UNDER_PRESSURE"),
        "the patient organisation's webhook receives the public offer status change",
        &json!(receiver.accepted("patient")),
    );

    // Deleted, a webhook is gone from its organisation's list (and from the gateway's claims).
    let body = hub.gql(&cast.insurer, DELETE, json!({ "id": polder.id })).await;
    assert!(clean(&body), "deleted: {body}");
    cells.check(
        (SIGNALS, INSURER),
        listed(&hub, &cast.insurer, &polder.id).await.is_null(),
        "a deleted webhook is gone from its organisation's list",
        &body,
    );
    cells.finish();
}
