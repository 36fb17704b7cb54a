//! Webhooks (issue 19): an organisation manages only its own; the secret is shown once; the
//! gateway's claim and report need its own scope; a lease is held by one gateway replica at a
//! time and the delivery position only moves forward, for the holder.

use serde_json::{Value, json};

use crate::helpers::*;

const REGISTER: &str = r#"mutation($url: String!, $query: String!) {
    registerWebhook(input: { url: $url, query: $query, variables: { region: "utrecht" } }) {
        secret webhook { id url status consecutiveFailures lastEventId } } }"#;
const LIST: &str = "{ webhooks { id url status disabledReason consecutiveFailures lastError lastEventId } }";
const ENABLE: &str = "mutation($id: ID!) { enableWebhook(id: $id) { id status consecutiveFailures disabledReason } }";
const DELETE: &str = "mutation($id: ID!) { deleteWebhook(id: $id) }";
const CLAIM: &str = "mutation($holder: String!) { claimWebhooks(holder: $holder, leaseSeconds: 30, limit: 100) { id organisationId kind regions roles scopes url secret cursor } }";
const REPORT: &str = "mutation($id: ID!, $holder: String!, $cursor: String, $delivered: Boolean!, $error: String, $disable: String) { reportWebhook(id: $id, holder: $holder, cursor: $cursor, delivered: $delivered, error: $error, disable: $disable) }";
const OP: &str = "subscription($region: ID) { signalEvents(region: $region) { kind } }";
const ADD_ID: &str = r#"mutation($org: ID!) { addOrganisationIdentifier(organisationId: $org, scheme: URA, value: "90000001") { organisationId } }"#;
const BIND: &str = r#"mutation($org: ID!) { bindIdentityProvider(organisationId: $org, issuer: "https://sso.provider-a.example", scheme: URA) { organisationId } }"#;
const UNBIND: &str = r#"mutation($org: ID!) { unbindIdentityProvider(organisationId: $org, issuer: "https://sso.provider-a.example", scheme: URA) { organisationId } }"#;

fn gateway() -> ggzhub_kit::testing::TestCaller {
    operator().with_scopes(&[ggzhub_kit::token::scopes::WEBHOOKS_DELIVER])
}

async fn register(app: &TestApp, who: &ggzhub_kit::testing::TestCaller, url: &str) -> (String, String) {
    let resp = app.graphql(REGISTER).var("url", url).var("query", OP).as_caller(who).send().await;
    let data = resp.data()["registerWebhook"].clone();
    assert_eq!(data["webhook"]["status"], "ENABLED", "{data}");
    (data["webhook"]["id"].as_str().expect("an id").to_owned(), data["secret"].as_str().expect("a secret").to_owned())
}

fn claimed(resp: &Value) -> Vec<String> {
    resp["claimWebhooks"].as_array().into_iter().flatten().filter_map(|c| c["id"].as_str().map(str::to_owned)).collect()
}

#[tokio::test]
async fn organisations_manage_only_their_own_webhooks() {
    let app = TestApp::spawn().await;
    let (id, secret) = register(&app, &insurer_x(), "https://inkoop.insurer-x.example/hooks").await;
    assert!(secret.starts_with("whsec_") && secret.len() > 40, "{secret}");

    // Listed for its organisation only, without the secret.
    let own = app.graphql(LIST).as_caller(&insurer_x()).send().await;
    assert_eq!(own.data()["webhooks"].as_array().map(Vec::len), Some(1));
    assert!(!own.data().to_string().contains(&secret), "the secret is shown only once");
    let other = app.graphql(LIST).as_caller(&insurer_y()).send().await;
    assert_eq!(other.data()["webhooks"], json!([]));
    for query in [ENABLE, DELETE] {
        let resp = app.graphql(query).var("id", &id).as_caller(&insurer_y()).send().await;
        resp.expect_error("NOT_FOUND");
    }
    // The anonymous public reader has none.
    let public_reader =
        ggzhub_kit::testing::TestCaller::new(ggzhub_kit::OrgKind::PatientOrganisation, uuid::Uuid::nil(), &[]);
    let resp = app.graphql(LIST).as_caller(&public_reader).send().await;
    resp.expect_error("FORBIDDEN");

    // Bad input, each with its reason.
    for (url, query, reason) in [
        ("http//nohost", OP, "not valid"),
        ("ftp://insurer-x.example/", OP, "https"),
        ("https://u:p@insurer-x.example/", OP, "credentials"),
        ("https://insurer-x.example/", "query { regions { code } }", "subscription"),
        ("https://insurer-x.example/", "subscription { a } subscription { b", "parse"),
    ] {
        let resp = app.graphql(REGISTER).var("url", url).var("query", query).as_caller(&insurer_x()).send().await;
        let message = resp.expect_error("BAD_USER_INPUT");
        assert!(message.contains(reason), "{url} / {query}: {message}");
    }
    // At most ten per organisation.
    for n in 1..10 {
        register(&app, &insurer_x(), &format!("https://inkoop.insurer-x.example/hooks/{n}")).await;
    }
    let resp = app
        .graphql(REGISTER)
        .var("url", "https://inkoop.insurer-x.example/hooks/11")
        .var("query", OP)
        .as_caller(&insurer_x())
        .send()
        .await;
    assert!(resp.expect_error("BAD_USER_INPUT").contains("at most 10"));

    // Deleted by its own organisation.
    let resp = app.graphql(DELETE).var("id", &id).as_caller(&insurer_x()).send().await;
    assert_eq!(resp.data()["deleteWebhook"], json!(id));
    let own = app.graphql(LIST).as_caller(&insurer_x()).send().await;
    assert!(!own.data().to_string().contains(&id));
}

#[tokio::test]
async fn only_the_gateway_claims_and_a_lease_has_one_holder() {
    let app = TestApp::spawn().await;
    // Provider A's tokens come from its own identity provider (bound in the register).
    for query in [ADD_ID, BIND] {
        let resp = app.graphql(query).var("org", PROVIDER_A).as_caller(&operator()).send().await;
        assert!(resp.data().is_object(), "{query}");
    }
    let (id, secret) = register(&app, &provider_a(), "https://planning.provider-a.example/hooks").await;

    // Organisations (the operator included) cannot claim: the secret is the gateway's to read.
    for who in [provider_a(), insurer_x(), operator()] {
        let resp = app.graphql(CLAIM).var("holder", "intruder").as_caller(&who).send().await;
        resp.expect_error("FORBIDDEN");
        let resp = app
            .graphql(REPORT)
            .var("id", &id)
            .var("holder", "intruder")
            .var("delivered", true)
            .as_caller(&who)
            .send()
            .await;
        resp.expect_error("FORBIDDEN");
    }

    // One replica claims it, with the organisation as the register has it; another gets nothing
    // while the lease runs; the holder renews it.
    let first = app.graphql(CLAIM).var("holder", "replica-1").as_caller(&gateway()).send().await;
    assert_eq!(claimed(first.data()), vec![id.clone()]);
    let claim = &first.data()["claimWebhooks"][0];
    assert_eq!(claim["secret"], secret.as_str());
    assert_eq!(claim["organisationId"], PROVIDER_A.to_string());
    assert_eq!(claim["kind"], "PROVIDER");
    assert!(claim["scopes"].as_array().is_some_and(|s| !s.is_empty()), "{claim}");
    let second = app.graphql(CLAIM).var("holder", "replica-2").as_caller(&gateway()).send().await;
    assert!(claimed(second.data()).is_empty(), "{}", second.data());
    let renewed = app.graphql(CLAIM).var("holder", "replica-1").as_caller(&gateway()).send().await;
    assert_eq!(claimed(renewed.data()), vec![id.clone()]);

    // Only the holder reports; the position only moves forward.
    let report = |holder: &'static str, cursor: Option<&'static str>, error: Option<&'static str>| {
        app.graphql(REPORT)
            .var("id", &id)
            .var("holder", holder)
            .var("cursor", cursor)
            .var("delivered", error.is_none())
            .var("error", error)
            .as_caller(&gateway())
    };
    assert_eq!(report("replica-2", Some("9"), None).send().await.data()["reportWebhook"], json!(false));
    assert_eq!(report("replica-1", Some("7"), None).send().await.data()["reportWebhook"], json!(true));
    assert_eq!(report("replica-1", Some("5"), None).send().await.data()["reportWebhook"], json!(true));
    assert_eq!(
        report("replica-1", None, Some("the target answered 503")).send().await.data()["reportWebhook"],
        json!(true)
    );
    let listed = app.graphql(LIST).as_caller(&provider_a()).send().await;
    let webhook = &listed.data()["webhooks"][0];
    assert_eq!(webhook["lastEventId"], "7", "{webhook}");
    assert_eq!(webhook["consecutiveFailures"], 1);
    assert_eq!(webhook["lastError"], "the target answered 503");
    let bad = report("replica-1", Some("-1"), None).send().await;
    bad.expect_error("BAD_USER_INPUT");

    // Disabled by the holder, with the reason: not claimed any more, until its organisation
    // enables it again (failures reset, position kept).
    let disabled = app
        .graphql(REPORT)
        .var("id", &id)
        .var("holder", "replica-1")
        .var("delivered", false)
        .var("error", "the target answered 500")
        .var("disable", "delivery failed 8 times in a row")
        .as_caller(&gateway())
        .send()
        .await;
    assert_eq!(disabled.data()["reportWebhook"], json!(true));
    let listed = app.graphql(LIST).as_caller(&provider_a()).send().await;
    assert_eq!(listed.data()["webhooks"][0]["status"], "DISABLED");
    assert_eq!(listed.data()["webhooks"][0]["disabledReason"], "delivery failed 8 times in a row");
    let none = app.graphql(CLAIM).var("holder", "replica-2").as_caller(&gateway()).send().await;
    assert!(claimed(none.data()).is_empty());
    let enabled = app.graphql(ENABLE).var("id", &id).as_caller(&provider_a()).send().await;
    assert_eq!(enabled.data()["enableWebhook"]["status"], "ENABLED");
    assert_eq!(enabled.data()["enableWebhook"]["consecutiveFailures"], 0);
    let taken = app.graphql(CLAIM).var("holder", "replica-2").as_caller(&gateway()).send().await;
    assert_eq!(claimed(taken.data()), vec![id.clone()], "the disabled webhook's lease was released");
    assert_eq!(taken.data()["claimWebhooks"][0]["cursor"], "7");

    // Access withdrawn: once no identity provider may speak for Provider A, its webhooks stop,
    // disabled with the reason.
    let resp = app.graphql(UNBIND).var("org", PROVIDER_A).as_caller(&operator()).send().await;
    assert!(resp.data().is_object());
    let none = app.graphql(CLAIM).var("holder", "replica-2").as_caller(&gateway()).send().await;
    assert!(claimed(none.data()).is_empty(), "{}", none.data());
    let listed = app.graphql(LIST).as_caller(&provider_a()).send().await;
    assert_eq!(listed.data()["webhooks"][0]["status"], "DISABLED");
    assert!(
        listed.data()["webhooks"][0]["disabledReason"].as_str().is_some_and(|r| r.contains("identity provider")),
        "{}",
        listed.data()
    );
}
