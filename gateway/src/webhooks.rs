//! Webhooks (issue 19): the gateway delivers the events an organisation may see to the URLs it
//! registered (the region subgraph's `registerWebhook`), for partner systems that cannot hold a
//! connection.
//!
//! A webhook is a subscription run by the gateway instead of a client: its operation is prepared
//! for the organisation exactly as a live subscription is (validation, limits, cost, access
//! rules, trusted documents), with the organisation's kind, tables and roles from the register
//! and at most the scopes of the token that registered it; for every event the owning subgraph
//! resolves it as that organisation, and only what it may see is sent.
//!
//! **Delivery.** Each answer is POSTed as JSON `{"type", "timestamp", "webhookId", "eventId",
//! "data", "errors"?}`, signed as the Standard Webhooks specification describes (`webhook-id`,
//! `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`
//! with the webhook's secret). A 2xx answer is success. Anything else (another status, a
//! redirect, a refused connection, a timeout) is retried, the same event, with exponential
//! backoff; after `max_attempts` failures in a row, or at once on `410 Gone`, the webhook is
//! disabled and the reason is what its organisation reads in `webhooks { disabledReason }`.
//!
//! **Nothing lost.** Events are read from the durable stream (the bus), from the webhook's
//! stored position (`cursor`): the position moves only past events that were delivered or that
//! were not for the organisation, so a failed event is retried, a gateway restart or a replica
//! taking over resumes where delivery stopped, and a re-enabled webhook resumes where it was
//! disabled. Delivery is at least once: a receiver deduplicates by `webhook-id` (the same on
//! every retry of an event).
//!
//! **Several replicas.** Each webhook is leased to one replica at a time (the region subgraph
//! keeps the lease); a replica renews its leases every `poll_interval_secs`, and one that dies
//! stops renewing, so another takes its webhooks over after `lease_secs`.
//!
//! **Targets.** Only `https` URLs, and only public addresses, unless `allow_http` /
//! `allow_private_targets` are set (`ggzhub dev` sets both): the host's addresses are checked
//! when the connection is made (a name resolving to a private, loopback or link-local address —
//! the subgraphs, a cloud metadata service — is refused), redirects are not followed and no
//! proxy from the environment is used.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ggzhub_kit::events::{BusError, Delivered, EventBus};
use ggzhub_kit::token::{InternalClaims, TokenRequest, scopes};
use ggzhub_kit::{OrgKind, TokenSigner};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::admission::trusted::TrustedDocuments;
use crate::auth::identity::Identity;
use crate::context::{GraphqlRequest, RequestContext, Transport};
use crate::engine::{Gateway, GraphqlResponse, Subscription};

/// Events read per page when a webhook catches up.
const CATCH_UP_PAGE: usize = 1000;

/// `[webhooks]` in `gateway.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookOptions {
    /// Whether this gateway delivers webhooks (it needs the event stream and the register).
    pub enabled: bool,
    /// How often the gateway claims webhooks and renews its leases.
    pub poll_interval_secs: u64,
    /// How long a lease lasts without renewal: how soon another replica takes over.
    pub lease_secs: u64,
    /// Failed attempts in a row after which a webhook is disabled.
    pub max_attempts: u32,
    /// Wait before the first retry; doubled after each failure.
    pub backoff_initial_ms: u64,
    /// Longest wait between retries.
    pub backoff_max_secs: u64,
    /// Time for a target to answer.
    pub timeout_secs: u64,
    /// Largest payload sent; a larger answer is replaced by an error payload.
    pub max_payload_bytes: usize,
    /// Deliver to plain `http` URLs (development only).
    pub allow_http: bool,
    /// Deliver to private, loopback and link-local addresses (development only).
    pub allow_private_targets: bool,
    /// How many events before the stream's end a webhook's first delivery looks back for events
    /// after its registration (those that arrived before the gateway first claimed it).
    pub first_lookback: u64,
}

impl Default for WebhookOptions {
    fn default() -> Self {
        Self {
            enabled: true,
            poll_interval_secs: 5,
            lease_secs: 30,
            max_attempts: 15,
            backoff_initial_ms: 1000,
            backoff_max_secs: 3600,
            timeout_secs: 10,
            max_payload_bytes: 256 * 1024,
            allow_http: false,
            allow_private_targets: false,
            first_lookback: 1000,
        }
    }
}

impl WebhookOptions {
    /// The wait after `failures` failed attempts in a row.
    pub fn backoff(&self, failures: u32) -> Duration {
        let initial = Duration::from_millis(self.backoff_initial_ms.max(1));
        let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(20));
        initial.saturating_mul(factor).min(Duration::from_secs(self.backoff_max_secs.max(1)))
    }
}

/// The region subgraph's webhook store, as the gateway reads it (its `@inaccessible` fields
/// `claimWebhooks` and `reportWebhook`, for the gateway's own scope `webhooks:deliver`).
pub struct WebhookStore {
    url: String,
    audience: String,
    signer: TokenSigner,
    client: reqwest::Client,
}

const CLAIM: &str = "mutation Claim($holder: String!, $lease: Int!, $limit: Int!) { claimWebhooks(holder: $holder, leaseSeconds: $lease, limit: $limit) { id organisationId kind regions roles subject scopes url query operationName variables secret cursor createdAt failures } }";
const REPORT: &str = "mutation Report($id: ID!, $holder: String!, $cursor: String, $delivered: Boolean!, $error: String, $disable: String) { reportWebhook(id: $id, holder: $holder, cursor: $cursor, delivered: $delivered, error: $error, disable: $disable) }";

/// A webhook the gateway holds.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Claim {
    pub id: String,
    pub organisation_id: Uuid,
    pub kind: String,
    pub regions: Vec<String>,
    pub roles: Vec<String>,
    pub subject: String,
    pub scopes: Vec<String>,
    pub url: String,
    pub query: String,
    pub operation_name: Option<String>,
    pub variables: Value,
    pub secret: String,
    pub cursor: Option<String>,
    pub created_at: DateTime<Utc>,
    pub failures: u32,
}

/// What the gateway reports about a webhook it holds.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Everything up to this position is handled.
    pub cursor: Option<u64>,
    /// The target accepted an answer.
    pub delivered: bool,
    /// An attempt failed.
    pub error: Option<String>,
    /// Disable it, for this reason.
    pub disable: Option<String>,
}

impl WebhookStore {
    /// The store of the region subgraph at `url`, with internal tokens for `audience`.
    pub fn subgraph(url: String, audience: &str, signer: TokenSigner, client: reqwest::Client) -> Self {
        Self { url, audience: audience.to_owned(), signer, client }
    }

    async fn call(&self, query: &str, variables: Value) -> anyhow::Result<Value> {
        let token = self.signer.sign(&TokenRequest {
            subject: crate::auth::register::GATEWAY_SUBJECT.into(),
            audience: vec![self.audience.clone()],
            org: Uuid::nil(),
            org_kind: OrgKind::HubOperator,
            regions: Vec::new(),
            roles: Vec::new(),
            scopes: vec![scopes::WEBHOOKS_DELIVER.to_owned()],
            ttl: Duration::from_secs(60),
        });
        let response = self
            .client
            .post(&self.url)
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await?;
        let status = response.status();
        let body: Value = response.json().await?;
        if let Some(errors) = body.get("errors").filter(|e| e.as_array().is_some_and(|a| !a.is_empty())) {
            anyhow::bail!("the webhook store answered {status} with errors: {errors}");
        }
        Ok(body["data"].clone())
    }

    /// Takes or renews the leases of up to `limit` enabled webhooks for `holder`.
    pub async fn claim(&self, holder: &str, lease: Duration, limit: usize) -> anyhow::Result<Vec<Claim>> {
        let data =
            self.call(CLAIM, json!({ "holder": holder, "lease": lease.as_secs().max(1), "limit": limit })).await?;
        Ok(serde_json::from_value(data["claimWebhooks"].clone())?)
    }

    /// Reports on webhook `id`; false when `holder` no longer holds it.
    pub async fn report(&self, id: &str, holder: &str, report: Report) -> anyhow::Result<bool> {
        let data = self
            .call(
                REPORT,
                json!({
                    "id": id,
                    "holder": holder,
                    "cursor": report.cursor.map(|c| c.to_string()),
                    "delivered": report.delivered,
                    "error": report.error,
                    "disable": report.disable,
                }),
            )
            .await?;
        Ok(data["reportWebhook"].as_bool().unwrap_or(false))
    }
}

/// What the delivery tasks share.
pub struct Deliverer {
    pub gateway: Arc<Gateway>,
    pub identity: Arc<Identity>,
    pub bus: Arc<dyn EventBus>,
    pub store: Arc<WebhookStore>,
    pub trusted_documents: Arc<TrustedDocuments>,
    pub options: WebhookOptions,
}

/// Starts delivering: claims webhooks every `poll_interval_secs` and runs one task per webhook
/// held, until the runtime stops. Returns this replica's holder name.
pub fn spawn(deliverer: Deliverer) -> anyhow::Result<String> {
    let holder = format!("gateway-{}", Uuid::new_v4());
    let http = target_client(&deliverer.options)?;
    let shared = Arc::new(Shared { deliverer, holder: holder.clone(), http });
    tokio::spawn(claim_loop(shared));
    Ok(holder)
}

struct Shared {
    deliverer: Deliverer,
    holder: String,
    http: reqwest::Client,
}

async fn claim_loop(shared: Arc<Shared>) {
    let options = &shared.deliverer.options;
    let poll = Duration::from_secs(options.poll_interval_secs.max(1));
    let lease = Duration::from_secs(options.lease_secs.max(options.poll_interval_secs * 2).max(2));
    let mut running: HashMap<String, (Claim, tokio::task::JoinHandle<()>)> = HashMap::new();
    tracing::info!(holder = %shared.holder, "delivering webhooks");
    let mut supergraph = shared.deliverer.gateway.supergraph_sdl();
    loop {
        // A new supergraph (another schema, other access rules): every webhook is prepared again.
        let current = shared.deliverer.gateway.supergraph_sdl();
        let changed = match (&supergraph, &current) {
            (Some(a), Some(b)) => !Arc::ptr_eq(a, b),
            (None, None) => false,
            _ => true,
        };
        if changed {
            for (_, (_, task)) in running.drain() {
                task.abort();
            }
            supergraph = current;
        }
        match shared.deliverer.store.claim(&shared.holder, lease, 1000).await {
            Ok(claims) => {
                // A webhook no longer held (deleted, disabled, taken over) or changed stops; a
                // finished task (it stopped on an error) starts again.
                running.retain(|id, (held, task)| {
                    let keep = !task.is_finished() && claims.iter().any(|c| &c.id == id && same_delivery(c, held));
                    if !keep {
                        task.abort();
                    }
                    keep
                });
                for claim in claims {
                    if !running.contains_key(&claim.id) {
                        let task = tokio::spawn(deliver(shared.clone(), claim.clone()));
                        running.insert(claim.id.clone(), (claim, task));
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "claiming webhooks failed; retrying"),
        }
        tokio::time::sleep(poll).await;
    }
}

/// Whether two claims of a webhook deliver the same way (else its task restarts).
fn same_delivery(a: &Claim, b: &Claim) -> bool {
    (&a.url, &a.query, &a.operation_name, &a.variables, &a.secret, &a.kind, &a.regions, &a.roles, &a.scopes)
        == (&b.url, &b.query, &b.operation_name, &b.variables, &b.secret, &b.kind, &b.regions, &b.roles, &b.scopes)
}

/// The claims the webhook's operation runs with: its organisation as the register has it, with
/// at most the registering token's scopes.
fn claims_of(claim: &Claim, kind: OrgKind) -> InternalClaims {
    let now = Utc::now().timestamp();
    InternalClaims {
        iss: ggzhub_kit::token::INTERNAL_ISSUER.to_owned(),
        sub: format!("webhook:{}", claim.id),
        aud: ggzhub_kit::token::Audience::One(crate::auth::identity::GATEWAY_AUDIENCE.to_owned()),
        exp: now + 3600,
        iat: now,
        jti: Uuid::new_v4().to_string(),
        org: claim.organisation_id,
        org_kind: kind,
        regions: claim.regions.clone(),
        roles: claim.roles.clone(),
        // Only what the registering token held and the kind may hold: an empty list grants
        // nothing (unlike a token naming no hub scope, which gets its kind's).
        scope: ggzhub_kit::token::default_scopes(kind)
            .iter()
            .filter(|s| claim.scopes.iter().any(|c| c == *s))
            .copied()
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// The codes that say the operation itself is refused for this organisation (disable the
/// webhook): anything else (a subgraph down, a token-signing blip, the hub overloaded) passes.
const LASTING: [&str; 18] = [
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "OPERATION_NOT_FOUND",
    "BAD_REQUEST",
    "BAD_USER_INPUT",
    "FORBIDDEN",
    "UNAUTHORIZED_FIELD_OR_TYPE",
    "INTROSPECTION_DISABLED",
    "MAX_DEPTH_LIMIT",
    "MAX_ALIASES_LIMIT",
    "MAX_ROOT_FIELDS_LIMIT",
    "MAX_DIRECTIVES_LIMIT",
    "MAX_SELECTIONS_LIMIT",
    "COST_ESTIMATED_TOO_EXPENSIVE",
    "QUERY_PLANNING_FAILED",
    "PERSISTED_QUERY_NOT_IN_LIST",
    "PERSISTED_QUERY_NOT_FOUND",
    "NOT_FOUND",
];

/// Whether a refusal of the operation is the operation's fault (disable the webhook) rather
/// than a passing state of the hub (try again later).
fn lasting(response: &GraphqlResponse) -> bool {
    !response.errors.is_empty() && response.errors.iter().all(|e| e.code().is_some_and(|c| LASTING.contains(&c)))
}

/// Whether an answer to an event holds an error of a passing state of the hub (a subgraph down
/// or its circuit open): not sent, the event is resolved again later.
fn transient(response: &GraphqlResponse) -> bool {
    response.errors.iter().any(|e| {
        matches!(
            e.code(),
            Some(
                "SUBGRAPH_UNAVAILABLE"
                    | "SUBGRAPH_INVALID_RESPONSE"
                    | "DOWNSTREAM_SERVICE_ERROR"
                    | "NOT_READY"
                    | "OVERLOADED"
                    | "INTERNAL"
                    | "UNAUTHENTICATED"
            )
        )
    })
}

fn messages(response: &GraphqlResponse) -> String {
    response.errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("; ")
}

/// Delivers one webhook until it is disabled, its lease is lost or the task is stopped.
async fn deliver(shared: Arc<Shared>, claim: Claim) {
    let d = &shared.deliverer;
    let disable = |reason: String| {
        let shared = shared.clone();
        let id = claim.id.clone();
        async move {
            tracing::info!(webhook = %id, %reason, "webhook disabled");
            if let Err(error) = shared
                .deliverer
                .store
                .report(&id, &shared.holder, Report { disable: Some(reason), ..Report::default() })
                .await
            {
                tracing::warn!(webhook = %id, %error, "could not record that the webhook is disabled");
            }
        }
    };
    let Some(kind) = OrgKind::parse(&claim.kind) else { return };
    let claims = claims_of(&claim, kind);
    let caller = d.identity.for_caller(Some(claims.clone()), None);
    let variables = serde_json::from_value(claim.variables.clone()).unwrap_or_default();
    let request =
        GraphqlRequest { query: claim.query.clone(), operation_name: claim.operation_name.clone(), variables };
    if let Err(refusal) = d.trusted_documents.admit(Some(claim.organisation_id), Some(&request.query), None) {
        disable(format!("the operation is refused: {}", refusal.error.message)).await;
        return;
    }
    let context = RequestContext { request: &request, transport: Transport::Post, caller: &caller };
    // Prepared as a subscription, then checked by the owning subgraph (the probe).
    let prepared = match d.gateway.subscribe(&context) {
        Ok(subscription) => d.gateway.probe(&subscription, &caller).await.map(|()| subscription),
        Err(response) => Err(response),
    };
    let subscription = match prepared {
        Ok(subscription) => subscription,
        Err(response) if lasting(&response) => {
            disable(format!("the operation is refused: {}", messages(&response))).await;
            return;
        }
        Err(response) => {
            tracing::info!(webhook = %claim.id, errors = %messages(&response), "webhook not started yet");
            return;
        }
    };
    let mut run = Run {
        shared: shared.clone(),
        claim: &claim,
        claims: &claims,
        subscription: &subscription,
        failures: claim.failures,
        signer: match standardwebhooks::Webhook::new(&claim.secret) {
            Ok(signer) => signer,
            Err(error) => {
                disable(format!("its secret is unusable ({error}): register it again")).await;
                return;
            }
        },
        handled: 0,
        reported: 0,
        after_created: None,
    };
    // Listening starts before the catch-up read, so nothing published meanwhile is missed.
    let live = d.bus.live();
    let head = d.bus.head();
    let start = match claim.cursor.as_deref().and_then(|c| c.parse::<u64>().ok()) {
        // A position beyond the stream's end belongs to an earlier in-process log (`ggzhub dev`
        // restarted): start from the end.
        Some(cursor) if cursor <= head => cursor,
        Some(_) => head,
        None => {
            run.after_created = Some(claim.created_at);
            head.saturating_sub(d.options.first_lookback)
        }
    };
    run.handled = start;
    run.reported = claim.cursor.as_deref().and_then(|c| c.parse().ok()).unwrap_or(0);
    match run.stream(live).await {
        Stop::Disable(reason) => disable(reason).await,
        Stop::Quiet => {}
    }
}

enum Stop {
    /// Disable the webhook with this reason.
    Disable(String),
    /// Stop without a change (lease lost, stream unreadable now: the next claim restarts it).
    Quiet,
}

struct Run<'a> {
    shared: Arc<Shared>,
    claim: &'a Claim,
    claims: &'a InternalClaims,
    subscription: &'a Subscription,
    signer: standardwebhooks::Webhook,
    /// Failed attempts in a row.
    failures: u32,
    /// Every event up to here is handled.
    handled: u64,
    /// The position last reported.
    reported: u64,
    /// A first delivery: events that occurred before the registration are not for it.
    after_created: Option<DateTime<Utc>>,
}

impl Run<'_> {
    async fn stream(&mut self, mut live: broadcast::Receiver<Arc<Delivered>>) -> Stop {
        let bus = self.shared.deliverer.bus.clone();
        let mut flush = tokio::time::interval(Duration::from_secs(2));
        flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut catch_up = true;
        let mut first = self.after_created.is_some();
        loop {
            if catch_up {
                catch_up = false;
                match self.catch_up(bus.as_ref()).await {
                    Ok(Ok(())) => {}
                    Ok(Err(stop)) => return stop,
                    Err(BusError::Unavailable(error)) => {
                        tracing::warn!(webhook = %self.claim.id, %error, "the event stream cannot be read now; retrying at the next claim");
                        return Stop::Quiet;
                    }
                    // A first delivery looking back further than the stream keeps: from its end.
                    Err(BusError::Expired(_) | BusError::TooFarBehind(_)) if first => {
                        self.handled = bus.head();
                    }
                    Err(error) => {
                        return Stop::Disable(format!(
                            "the events after position {} can no longer be read ({error}); delete the webhook and register it again",
                            self.handled
                        ));
                    }
                }
                // Only the first catch-up of a new webhook skips what occurred before it.
                first = false;
                self.after_created = None;
            }
            tokio::select! {
                received = live.recv() => match received {
                    Ok(delivered) => {
                        if delivered.seq > self.handled
                            && let Err(stop) = self.handle(&delivered).await
                        {
                            return stop;
                        }
                    }
                    // Behind the live buffer: read the rest from the stream.
                    Err(broadcast::error::RecvError::Lagged(_)) => catch_up = true,
                    Err(broadcast::error::RecvError::Closed) => return Stop::Quiet,
                },
                _ = flush.tick() => {
                    if self.handled > self.reported && !self.report(Report { cursor: Some(self.handled), ..Report::default() }).await {
                        return Stop::Quiet;
                    }
                }
            }
        }
    }

    /// Reads the stream after the handled position in pages (as far behind as the stream keeps,
    /// unlike a client's replay) and handles each event.
    async fn catch_up(&mut self, bus: &dyn EventBus) -> Result<Result<(), Stop>, BusError> {
        loop {
            let page = bus.replay_page(self.handled, CATCH_UP_PAGE).await?;
            let full = page.len() >= CATCH_UP_PAGE;
            for delivered in page {
                if let Err(stop) = self.handle(&delivered).await {
                    return Ok(Err(stop));
                }
            }
            if !full {
                return Ok(Ok(()));
            }
        }
    }

    /// Reports; false when the lease is lost (or the store cannot be reached: the task stops and
    /// the next claim restarts it from the stored position).
    async fn report(&mut self, report: Report) -> bool {
        let cursor = report.cursor;
        match self.shared.deliverer.store.report(&self.claim.id, &self.shared.holder, report).await {
            Ok(true) => {
                if let Some(cursor) = cursor {
                    self.reported = self.reported.max(cursor);
                }
                true
            }
            Ok(false) => {
                tracing::info!(webhook = %self.claim.id, "webhook no longer held by this gateway");
                false
            }
            Err(error) => {
                tracing::warn!(webhook = %self.claim.id, %error, "reporting a webhook's delivery failed");
                false
            }
        }
    }

    /// Handles one event: delivers the answer when there is one for the organisation, retrying
    /// until the target accepts it or the webhook is disabled.
    async fn handle(&mut self, delivered: &Delivered) -> Result<(), Stop> {
        if delivered.seq <= self.handled {
            return Ok(());
        }
        let for_it = self.after_created.is_none_or(|created| delivered.event.occurred_at >= created)
            && delivered.event.matches(&self.subscription.field, &self.subscription.arguments)
            && delivered
                .event
                .audience
                .as_ref()
                .is_none_or(|a| a.admits(&self.claims.org.to_string(), self.claims.org_kind.as_str()));
        let answer = if for_it { self.resolve(delivered).await? } else { None };
        if let Some(answer) = answer {
            let body = self.payload(delivered, &answer);
            let message_id = format!("{}_{}", self.claim.id, delivered.event.id);
            loop {
                match self.attempt(&message_id, &body).await {
                    Ok(()) => {
                        self.failures = 0;
                        self.handled = delivered.seq;
                        if !self
                            .report(Report { cursor: Some(delivered.seq), delivered: true, ..Report::default() })
                            .await
                        {
                            return Err(Stop::Quiet);
                        }
                        return Ok(());
                    }
                    Err(Failure::Gone) => {
                        return Err(Stop::Disable("the target answered 410 Gone: it wants no more deliveries".into()));
                    }
                    Err(Failure::Refused(reason)) => {
                        return Err(Stop::Disable(format!("{reason}; register an allowed URL")));
                    }
                    Err(Failure::Retry(error)) => {
                        self.failures += 1;
                        let max = self.shared.deliverer.options.max_attempts.max(1);
                        tracing::info!(webhook = %self.claim.id, event = delivered.seq, failures = self.failures, %error, "webhook delivery failed");
                        if self.failures >= max {
                            return Err(Stop::Disable(format!(
                                "delivery failed {} times in a row (last: {error}); fix the target and enable the webhook again: it resumes from event {}",
                                self.failures, self.handled
                            )));
                        }
                        if !self.report(Report { error: Some(error), ..Report::default() }).await {
                            return Err(Stop::Quiet);
                        }
                        tokio::time::sleep(self.shared.deliverer.options.backoff(self.failures)).await;
                    }
                }
            }
        }
        self.handled = delivered.seq;
        Ok(())
    }

    /// Runs the subscription for one event as the organisation; while the hub cannot resolve it
    /// (a subgraph down, its circuit open), waits with backoff and tries again: such an answer is
    /// never sent, and the position does not move past the event.
    async fn resolve(&mut self, delivered: &Delivered) -> Result<Option<GraphqlResponse>, Stop> {
        let event = serde_json::to_vec(delivered).unwrap_or_default();
        let mut tries = 0u32;
        loop {
            let d = &self.shared.deliverer;
            let caller = d.identity.for_caller(Some(self.claims.clone()), None);
            let answer = d.gateway.run_event(self.subscription, &caller, &event).await;
            match answer {
                Some(answer) if transient(&answer) => {
                    tries += 1;
                    let error = format!("event {} cannot be resolved now: {}", delivered.seq, messages(&answer));
                    tracing::info!(webhook = %self.claim.id, %error, "webhook event waits for the hub");
                    if tries == 1 && !self.report(Report { error: Some(error), ..Report::default() }).await {
                        return Err(Stop::Quiet);
                    }
                    tokio::time::sleep(self.shared.deliverer.options.backoff(tries.min(8))).await;
                }
                answer => return Ok(answer),
            }
        }
    }

    /// The JSON POSTed for one answer.
    fn payload(&self, delivered: &Delivered, answer: &GraphqlResponse) -> Vec<u8> {
        let response: Value = serde_json::from_slice(&answer.to_json()).unwrap_or(Value::Null);
        let mut payload = json!({
            "type": self.subscription.field,
            "timestamp": delivered.event.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "webhookId": self.claim.id,
            "eventId": delivered.seq.to_string(),
            "data": response.get("data").cloned().unwrap_or(Value::Null),
        });
        if let Some(errors) = response.get("errors") {
            payload["errors"] = errors.clone();
        }
        let body = serde_json::to_vec(&payload).unwrap_or_default();
        let max = self.shared.deliverer.options.max_payload_bytes;
        if body.len() <= max {
            return body;
        }
        serde_json::to_vec(&json!({
            "type": self.subscription.field,
            "timestamp": payload["timestamp"],
            "webhookId": self.claim.id,
            "eventId": delivered.seq.to_string(),
            "data": null,
            "errors": [{
                "message": format!("the answer to this event is {} bytes, more than the {max} allowed: select fewer fields", body.len()),
                "extensions": { "code": "SUBSCRIPTION_MESSAGE_TOO_LARGE" },
            }],
        }))
        .unwrap_or_default()
    }

    /// One signed POST.
    async fn attempt(&self, message_id: &str, body: &[u8]) -> Result<(), Failure> {
        let options = &self.shared.deliverer.options;
        let url =
            reqwest::Url::parse(&self.claim.url).map_err(|e| Failure::Retry(format!("the URL is not valid: {e}")))?;
        check_target(&url, options).map_err(Failure::Refused)?;
        let timestamp = Utc::now().timestamp();
        let signature = self
            .signer
            .sign(message_id, timestamp, body)
            .map_err(|e| Failure::Retry(format!("the payload cannot be signed: {e}")))?;
        let response = self
            .shared
            .http
            .post(url)
            .header("content-type", "application/json")
            .header(standardwebhooks::HEADER_WEBHOOK_ID, message_id)
            .header(standardwebhooks::HEADER_WEBHOOK_TIMESTAMP, timestamp.to_string())
            .header(standardwebhooks::HEADER_WEBHOOK_SIGNATURE, signature)
            .body(body.to_vec())
            .send()
            .await
            .map_err(|e| {
                Failure::Retry(if e.is_timeout() {
                    format!("the target did not answer within {} s", options.timeout_secs)
                } else {
                    format!("the target could not be reached: {}", ggzhub_kit::tls::error_chain(&e))
                })
            })?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else if status == reqwest::StatusCode::GONE {
            Err(Failure::Gone)
        } else if status.is_redirection() {
            Err(Failure::Retry(format!(
                "the target answered {status} (redirects are not followed: register the final URL)"
            )))
        } else {
            Err(Failure::Retry(format!("the target answered {status}")))
        }
    }
}

enum Failure {
    /// 410 Gone: disable at once.
    Gone,
    /// A URL this gateway may not deliver to: disable at once.
    Refused(String),
    /// Anything else: retry.
    Retry(String),
}

/// Refuses a URL this gateway may not deliver to: plain http unless allowed, an address literal
/// that is not public unless allowed. (Names are checked when resolved, [`PublicOnly`].)
fn check_target(url: &reqwest::Url, options: &WebhookOptions) -> Result<(), String> {
    match url.scheme() {
        "https" => {}
        "http" if options.allow_http => {}
        scheme => return Err(format!("the hub delivers only to https URLs, not {scheme}")),
    }
    if !options.allow_private_targets {
        let host = url.host_str().unwrap_or_default();
        let ip = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().ok();
        if let Some(ip) = ip
            && !is_public(ip)
        {
            return Err(format!("the target address {ip} is not a public address"));
        }
    }
    Ok(())
}

/// Whether `ip` is a public unicast address (not loopback, private, link-local, shared,
/// unspecified, multicast, documentation or reserved).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0)
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let segments = v6.segments();
            let first = segments[0];
            // Addresses that embed or reach IPv4 ones (IPv4-compatible ::a.b.c.d, NAT64
            // 64:ff9b::/96 and 64:ff9b:1::/48, 6to4 2002::/16, Teredo 2001::/32) and the old
            // site-local fec0::/10: not public.
            if segments[..6] == [0; 6]
                || (first == 0x64 && segments[1] == 0xff9b)
                || first == 0x2002
                || (first == 0x2001 && segments[1] == 0)
                || (first & 0xffc0) == 0xfec0
            {
                return false;
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

/// A resolver that keeps only public addresses (so a name cannot lead the hub to its own
/// network), failing when none is left.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            // One message whether the name is unknown or resolves only to addresses of the hub's
            // own network: the answer tells nothing about internal names.
            let public: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map(|found| found.filter(|a| is_public(a.ip())).collect())
                .unwrap_or_default();
            if public.is_empty() {
                return Err(format!("no public address found for {host}").into());
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The client for targets: no redirects, no proxy, the timeout, and (unless private targets are
/// allowed) the public-only resolver.
fn target_client(options: &WebhookOptions) -> anyhow::Result<reqwest::Client> {
    let public_only = !options.allow_private_targets;
    let timeout = Duration::from_secs(options.timeout_secs.max(1));
    // The OS trust store, as for every outgoing call (a machine without one gets a warning and
    // delivers to no https target, rather than a gateway that does not start).
    ggzhub_kit::tls::ExtraCa::default().client(|builder| {
        let builder = builder
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(timeout)
            .user_agent(concat!("ggzhub-webhooks/", env!("CARGO_PKG_VERSION")));
        if public_only { builder.dns_resolver(Arc::new(PublicOnly)) } else { builder }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_targets() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "224.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private} taken as public");
        }
        for public in ["93.184.216.34", "2a00:1450:4001:80b::200e", "8.8.8.8"] {
            assert!(is_public(public.parse().unwrap()), "{public} taken as private");
        }
    }

    #[test]
    fn targets_follow_the_options() {
        let strict = WebhookOptions::default();
        let url = |u: &str| reqwest::Url::parse(u).unwrap();
        assert!(check_target(&url("https://partner.example/hook"), &strict).is_ok());
        assert!(check_target(&url("http://partner.example/hook"), &strict).is_err());
        assert!(check_target(&url("https://127.0.0.1/hook"), &strict).is_err());
        assert!(check_target(&url("https://[::1]/hook"), &strict).is_err());
        let dev = WebhookOptions { allow_http: true, allow_private_targets: true, ..WebhookOptions::default() };
        assert!(check_target(&url("http://127.0.0.1:9/hook"), &dev).is_ok());
    }

    fn claim(scopes: &[&str]) -> Claim {
        Claim {
            id: "w".into(),
            organisation_id: Uuid::nil(),
            kind: "MUNICIPALITY".into(),
            regions: vec![],
            roles: vec![],
            subject: "s".into(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            url: "https://partner.example/".into(),
            query: "subscription { a }".into(),
            operation_name: None,
            variables: Value::Null,
            secret: "whsec_AAAA".into(),
            cursor: None,
            created_at: Utc::now(),
            failures: 0,
        }
    }

    #[test]
    fn a_webhook_never_gets_more_scopes_than_the_token_that_registered_it() {
        assert_eq!(claims_of(&claim(&[]), OrgKind::Municipality).scope, "", "none stays none");
        assert_eq!(claims_of(&claim(&["signals:write"]), OrgKind::Municipality).scope, "", "not the kind's");
        assert_eq!(claims_of(&claim(&["picture:read", "admin"]), OrgKind::Municipality).scope, "picture:read");
    }

    #[test]
    fn only_the_operations_own_faults_disable_a_webhook() {
        let response = |codes: &[&str]| GraphqlResponse {
            errors: codes
                .iter()
                .map(|c| {
                    crate::error::GraphqlError::new("x", crate::error::GatewayError::BadRequest)
                        .with_extension("code", *c)
                })
                .collect(),
            data: None,
            status: 400,
        };
        assert!(lasting(&response(&["GRAPHQL_VALIDATION_FAILED"])));
        assert!(lasting(&response(&["FORBIDDEN"])));
        assert!(!lasting(&response(&["SUBGRAPH_UNAVAILABLE"])));
        assert!(!lasting(&response(&["FORBIDDEN", "UNAUTHENTICATED"])));
        assert!(transient(&response(&["SUBGRAPH_UNAVAILABLE"])));
        assert!(!transient(&response(&["FORBIDDEN"])));
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let options = WebhookOptions { backoff_initial_ms: 100, backoff_max_secs: 1, ..WebhookOptions::default() };
        assert_eq!(options.backoff(1), Duration::from_millis(100));
        assert_eq!(options.backoff(2), Duration::from_millis(200));
        assert_eq!(options.backoff(4), Duration::from_millis(800));
        assert_eq!(options.backoff(5), Duration::from_secs(1));
        assert_eq!(options.backoff(60), Duration::from_secs(1));
    }

    #[tokio::test]
    async fn names_resolving_to_private_addresses_are_refused() {
        use reqwest::dns::Resolve as _;
        let resolved = PublicOnly.resolve("localhost".parse().unwrap()).await;
        assert!(resolved.is_err());
    }
}
