//! `totalCount` on every connection: the number of items over all pages, under the list's
//! filters and access rules, counted in the database only when asked for.

use ggzhub_kit::testing::{TestCaller, consistent_total as consistent};

use crate::helpers::*;

async fn walk(app: &TestApp, caller: &TestCaller, field: &str, args: &str) -> (Vec<i64>, usize) {
    ggzhub_kit::testing::walk_connection(&app.server, caller, field, args).await
}

#[tokio::test]
async fn total_count_equals_the_nodes_over_all_pages_of_every_list() {
    let app = TestApp::spawn().await;
    for i in 0..3 {
        app.insert_offer(PROVIDER_A, "utrecht", "FACT", &format!("FACT extra {i}")).await;
    }
    let nt = national_table();
    assert_eq!(consistent("regions", walk(&app, &nt, "regions", "").await), 3);
    assert_eq!(consistent("IZA regions", walk(&app, &nt, "regions", "kind: IZA,").await), 2);
    let orgs = consistent("organisations", walk(&app, &nt, "organisations", "").await);
    assert_eq!(orgs, 10);
    // Membership of a region is a JSON list; the count filters it alike.
    let in_utrecht =
        consistent("organisations in utrecht", walk(&app, &nt, "organisations", r#"region: "utrecht","#).await);
    assert_eq!(in_utrecht, 6);
    assert_eq!(consistent("offers", walk(&app, &nt, "careOffers", "").await), 6);
    assert_eq!(consistent("outreach offers", walk(&app, &nt, "careOffers", "category: OUTREACH,").await), 4);
    assert_eq!(consistent("amsterdam offers", walk(&app, &nt, "careOffers", r#"region: "amsterdam","#).await), 1);
    assert_eq!(consistent("waiting times", walk(&app, &nt, "waitingTimes", r#"region: "utrecht","#).await), 2);
    assert_eq!(
        consistent(
            "waiting times over the norm",
            walk(&app, &nt, "waitingTimes", r#"region: "utrecht", exceedingTreeknormOnly: true,"#).await
        ),
        1
    );
    let audit = consistent("audit log", walk(&app, &nt, "auditLog", "").await);
    assert_eq!(audit, app.audit_count().await as i64);
}

#[tokio::test]
async fn counts_of_access_filtered_lists_do_not_reveal_hidden_rows() {
    let app = TestApp::spawn().await;
    // Three signals exist; each caller's count is what it may see, never the three.
    assert_eq!(consistent("signals of A", walk(&app, &provider_a(), "continuitySignals", "").await), 2);
    assert_eq!(consistent("signals of B", walk(&app, &provider_b(), "continuitySignals", "").await), 1);
    assert_eq!(consistent("signals of C", walk(&app, &provider_c(), "continuitySignals", "").await), 0);
    assert_eq!(consistent("signals of Y", walk(&app, &insurer_y(), "continuitySignals", "").await), 1);
    // The national table sees escalated signals only.
    assert_eq!(
        consistent("signals of the national table", walk(&app, &national_table(), "continuitySignals", "").await),
        1
    );
    // The audit log: one's own actions only.
    let resp = app
        .graphql(
            r#"mutation($offer: ID!) { raiseContinuitySignal(input: { offerId: $offer,
            kind: STAFFING, severity: LOW, description: "Twee vacatures open" }) { id } }"#,
        )
        .var("offer", OFFER_B_HIC.to_string())
        .as_caller(&provider_b())
        .send()
        .await;
    assert!(resp.data()["raiseContinuitySignal"]["id"].is_string(), "{:#}", resp.body);
    assert_eq!(consistent("audit of A", walk(&app, &provider_a(), "auditLog", "").await), 0);
    assert_eq!(consistent("audit of B", walk(&app, &provider_b(), "auditLog", "").await), 1);
    assert_eq!(consistent("signals of B", walk(&app, &provider_b(), "continuitySignals", "").await), 2);
}

#[tokio::test]
async fn nested_offer_lists_count_per_owner_in_one_statement() {
    let app = TestApp::spawn().await;
    for i in 0..5 {
        app.insert_offer(PROVIDER_B, "amsterdam", "HIC", &format!("HIC {i}")).await;
    }
    let query = r#"query { regions(first: 10) { nodes { code offers(first: 1) { totalCount nodes { id } } } } }"#;
    let before = app.statement_count();
    let resp = app.graphql(query).as_caller(&national_table()).send().await;
    let with_totals = app.statement_count() - before;
    let totals: Vec<(String, i64)> = resp.data()["regions"]["nodes"]
        .as_array()
        .expect("regions")
        .iter()
        .map(|r| (r["code"].as_str().unwrap_or_default().to_owned(), r["offers"]["totalCount"].as_i64().unwrap_or(-1)))
        .collect();
    assert_eq!(totals, vec![("amsterdam".into(), 6), ("groningen".into(), 0), ("utrecht".into(), 2)]);
    // Without totalCount no count runs at all.
    let before = app.statement_count();
    app.graphql(&query.replace("totalCount ", "")).as_caller(&national_table()).send().await.data();
    let without = app.statement_count() - before;
    assert_eq!(with_totals, without + 1, "one COUNT … GROUP BY for every region's offers");
}
