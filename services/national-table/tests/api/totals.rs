//! `totalCount` on the national table's lists: the number of items over all pages, under the
//! list's filters and access rules (hidden escalations are not counted).

use ggzhub_kit::testing::{TestCaller, consistent_total as consistent};

use crate::helpers::*;

async fn walk(app: &TestApp, caller: &TestCaller, field: &str, args: &str) -> (Vec<i64>, usize) {
    ggzhub_kit::testing::walk_connection(&app.server, caller, field, args).await
}

#[tokio::test]
async fn escalation_counts_equal_what_the_caller_may_list() {
    let app = TestApp::spawn().await;
    for _ in 0..3 {
        app.raise().await;
    }
    app.decided_escalation().await;
    let nt = national_table();
    assert_eq!(consistent("national table", walk(&app, &nt, "escalations", "").await), 4);
    assert_eq!(consistent("submitted", walk(&app, &nt, "escalations", "status: SUBMITTED,").await), 3);
    assert_eq!(consistent("in amsterdam", walk(&app, &nt, "escalations", r#"region: "amsterdam","#).await), 0);
    // Outside the region only the decided escalation is visible, and only it is counted.
    for (who, caller) in [("amsterdam provider", provider_b()), ("insurer Y", insurer_y())] {
        let listed = app.listed_escalations(&caller).await.len() as i64;
        assert_eq!(listed, 1, "{who}");
        assert_eq!(consistent(who, walk(&app, &caller, "escalations", "").await), listed, "{who}");
    }
    assert_eq!(consistent("chair", walk(&app, &chair(), "escalations", "").await), 4);
}

#[tokio::test]
async fn listing_and_audit_counts_equal_the_nodes_over_all_pages() {
    let app = TestApp::spawn().await;
    app.create_listing(OFFER_A_HS8, &["utrecht", "amsterdam"], None).await;
    app.create_listing(OFFER_A_CRISIS, &["utrecht"], None).await;
    app.create_listing(OFFER_B_HIC, &["amsterdam"], None).await;
    let nt = national_table();
    assert_eq!(consistent("listings", walk(&app, &nt, "supraRegionalListings", "").await), 3);
    assert_eq!(
        consistent("listings in utrecht", walk(&app, &nt, "supraRegionalListings", r#"region: "utrecht","#).await),
        2
    );
    assert_eq!(
        consistent("listings in groningen", walk(&app, &nt, "supraRegionalListings", r#"region: "groningen","#).await),
        0
    );
    assert_eq!(consistent("audit", walk(&app, &nt, "nationalTableAuditLog", "").await), 3);
    // Others read only their own actions: the national table acted, provider A did not.
    assert_eq!(consistent("audit of A", walk(&app, &provider_a(), "nationalTableAuditLog", "").await), 0);
}
