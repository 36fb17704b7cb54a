//! Incremental sync of escalations (issue 22): changes since a cursor, each once, only what the
//! caller may see (a patient organisation only decided escalations).

use ggzhub_kit::testing::TestCaller;
use serde_json::{Value, json};

use crate::helpers::*;

const POSITION: &str = "query { escalationFeedPosition }";
const CHANGES: &str = r#"query($since: String!) { escalationChanges(since: $since) {
    changes { id cursor node { id status } } next hasMore } }"#;

/// The page after `since` once the feed has passed a change (on PostgreSQL the feed holds
/// changes back while any older transaction of the cluster runs, other tests' too).
async fn changes(app: &TestApp, since: &str, caller: &TestCaller) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let resp = app.graphql(CHANGES).var("since", since).as_caller(caller).send().await;
        let page = resp.data()["escalationChanges"].clone();
        if page["next"] != since {
            return page;
        }
        assert!(std::time::Instant::now() < deadline, "the feed did not pass a change within 30 s: {page}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

fn statuses(page: &Value) -> Vec<(String, String)> {
    page["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| (c["id"].as_str().expect("id").to_owned(), c["node"]["status"].as_str().expect("status").to_owned()))
        .collect()
}

#[tokio::test]
async fn escalation_changes_each_once_and_only_what_the_caller_may_see() {
    let app = TestApp::spawn().await;
    let resp = app.graphql(POSITION).as_caller(&national_table()).send().await;
    let since = resp.data()["escalationFeedPosition"].as_str().expect("a cursor").to_owned();

    let (id, _) = app.decided_escalation().await;
    // Raised, taken into discussion and decided: one change, with its state now.
    let table = changes(&app, &since, &national_table()).await;
    assert_eq!(statuses(&table), [(id.clone(), "MEASURE_AGREED".to_owned())]);
    // A patient organisation sees the decided escalation (its public part).
    assert_eq!(statuses(&changes(&app, &since, &patient_org()).await), [(id.clone(), "MEASURE_AGREED".to_owned())]);

    // A submitted one is the raising region's and the national table's, not the public's.
    let next = table["next"].as_str().expect("next").to_owned();
    let raised = app.raise().await;
    assert_eq!(statuses(&changes(&app, &next, &national_table()).await), [(raised, "SUBMITTED".to_owned())]);
    // The cursor passes what the caller may not see (`changes` waits until it has).
    let public = changes(&app, &next, &patient_org()).await;
    assert_eq!(public["changes"], json!([]), "{public}");

    let resp = app.graphql(CHANGES).var("since", "nope").as_caller(&national_table()).send().await;
    assert_eq!(resp.error_code_at(&["escalationChanges"]), Some("BAD_USER_INPUT".to_owned()), "{:#}", resp.body);
}
