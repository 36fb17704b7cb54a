//! Events of the national-table subgraph (issue 19): what an escalation's changes tell
//! subscribers, written to the outbox ([`ggzhub_kit::outbox`]) in the same transaction as the
//! change, scoped by the raising region (`{"region": <code>}`), payload
//! `{"kind": OPENED|UPDATED|DECIDED|CLOSED, "escalationId": …}`.
//!
//! The payload names the escalation, not what a subscriber sees: the subscription resolver
//! ([`crate::graphql::subscription`]) loads it again for each subscriber and applies the access
//! matrix then.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use ggzhub_kit::outbox;
use ggzhub_kit::string_enum;
use sea_orm::{ConnectionTrait, DbErr};
use serde_json::json;

use crate::domain::EscalationStatus;
use crate::entity::escalation;

/// The name events of this subgraph carry ([`ggzhub_kit::events::Event::subgraph`]).
pub const SUBGRAPH: &str = "national-table";
/// The subscription field of escalation events.
pub const ESCALATION_EVENTS: &str = "escalationEvents";

string_enum! {
    /// What happened to an escalation.
    EscalationEventKind {
        /// Raised: by the region's chair, or opened from an escalated continuity signal (SUBMITTED).
        Opened => "OPENED",
        /// Changed without a decision: taken into discussion, or a measure added or changed.
        Updated => "UPDATED",
        /// Decided by the national table (MEASURE_AGREED or DECLINED): its public summary is
        /// now visible to everyone.
        Decided => "DECIDED",
        /// Resolved after its measures (RESOLVED).
        Closed => "CLOSED",
    }
}

impl EscalationEventKind {
    /// The event of a move along the lifecycle from `from` to `to`.
    pub fn of_transition(from: EscalationStatus, to: EscalationStatus) -> Self {
        match to {
            EscalationStatus::Resolved => Self::Closed,
            _ if to.is_decided() && !from.is_decided() => Self::Decided,
            _ => Self::Updated,
        }
    }
}

/// Records an `escalationEvents` event of `kind` for `e` on `conn` (the change's transaction);
/// call [`ggzhub_kit::outbox::Outbox::committed`] after the commit.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    kind: EscalationEventKind,
    e: &escalation::Model,
    occurred_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let scope = BTreeMap::from([("region".to_owned(), e.region_code.clone())]);
    let payload = json!({"kind": kind.as_str(), "escalationId": e.id});
    outbox::record(conn, ESCALATION_EVENTS, &scope, &payload, occurred_at).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use EscalationStatus::*;

    #[test]
    fn each_move_tells_what_changed_for_subscribers() {
        assert_eq!(EscalationEventKind::of_transition(Submitted, InDiscussion), EscalationEventKind::Updated);
        assert_eq!(EscalationEventKind::of_transition(Submitted, Declined), EscalationEventKind::Decided);
        assert_eq!(EscalationEventKind::of_transition(InDiscussion, MeasureAgreed), EscalationEventKind::Decided);
        assert_eq!(EscalationEventKind::of_transition(InDiscussion, Declined), EscalationEventKind::Decided);
        assert_eq!(EscalationEventKind::of_transition(MeasureAgreed, Resolved), EscalationEventKind::Closed);
    }
}
