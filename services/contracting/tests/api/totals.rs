//! `totalCount` on contracting's lists: the number of the caller's own contracts (the party
//! condition applies to the count as to the rows: another insurer's contracts are never
//! counted) and of the audit entries it may read.

use ggzhub_kit::testing::{TestCaller, consistent_total as consistent};

use crate::helpers::*;

async fn walk(app: &TestApp, caller: &TestCaller, field: &str, args: &str) -> (Vec<i64>, usize) {
    ggzhub_kit::testing::walk_connection(&app.server, caller, field, args).await
}

#[tokio::test]
async fn contract_counts_are_the_callers_own_contracts_only() {
    let app = TestApp::spawn().await;
    for _ in 0..3 {
        app.create(&i1(), P1, terms(&[OFFER_P1_CRISIS])).await;
    }
    app.agreed_with_p1(&i2(), &[OFFER_P1_FACT]).await;
    app.proposed(&i2(), P2, terms(&[OFFER_P2_HIC])).await;
    assert_eq!(consistent("I1", walk(&app, &i1(), "contracts", "").await), 3);
    assert_eq!(consistent("I2", walk(&app, &i2(), "contracts", "").await), 2);
    assert_eq!(consistent("I2 agreed", walk(&app, &i2(), "contracts", "status: AGREED,").await), 1);
    // Drafts are the insurer's own until proposed: P1 counts only the one it was proposed.
    assert_eq!(consistent("P1", walk(&app, &p1(), "contracts", "").await), app.listed(&p1(), None).await.len() as i64);
    assert_eq!(consistent("I3", walk(&app, &i3(), "contracts", "").await), 0);
    // The audit log: each insurer counts its own actions, never the other's.
    let own = consistent("audit of I1", walk(&app, &i1(), "contractingAuditLog", "").await);
    assert_eq!(own, 3);
    assert_eq!(consistent("audit of I3", walk(&app, &i3(), "contractingAuditLog", "").await), 0);
}
