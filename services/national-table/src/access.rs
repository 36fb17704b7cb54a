//! The access matrix of DOMAIN.md for the national-table subgraph, as pure functions.

use ggzhub_kit::token::scopes;
use ggzhub_kit::{ApiError, ApiResult, Caller, OrgKind};

use crate::domain::EscalationStatus;
use crate::entity::escalation;
use crate::events::EscalationEventKind;

/// Reading anything needs `picture:read`; the hub operator reads nothing of the national table.
pub fn read(c: &Caller) -> ApiResult<()> {
    c.require_read()?;
    if c.kind == OrgKind::HubOperator {
        return Err(ApiError::forbidden("the hub operator does not read national-table data"));
    }
    Ok(())
}

/// Writes of the national table: kind `NATIONAL_TABLE` with scope `national:write`.
pub fn national_write(c: &Caller) -> ApiResult<()> {
    c.require_kind(&[OrgKind::NationalTable], "change national-table data")?;
    c.require_scope(scopes::NATIONAL_WRITE)
}

/// Raising an escalation: the chair (a provider or insurer) of the region.
pub fn raise_escalation(c: &Caller, region: &str) -> ApiResult<()> {
    c.require_kind(&[OrgKind::Provider, OrgKind::Insurer], "raise escalations")?;
    c.require_scope(scopes::OVERVIEW_WRITE)?;
    if !c.is_chair(region) {
        return Err(ApiError::forbidden(format!("only the chair of region {region} raises its escalations")));
    }
    Ok(())
}

/// How much of an escalation a caller sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EscalationView {
    /// Nothing (reported as not found).
    None,
    /// Region, category, target group, status and public summary, once decided.
    Public,
    /// Everything, measures and transitions included.
    Full,
}

/// Whether `status` (stored name) is decided.
pub fn decided(status: &str) -> bool {
    EscalationStatus::parse(status).is_some_and(EscalationStatus::is_decided)
}

/// What `c` sees of `e`: participants of the raising region and the national table everything;
/// everyone else (but the operator) the public part once the national table decided.
pub fn escalation_view(c: &Caller, e: &escalation::Model) -> EscalationView {
    match c.kind {
        OrgKind::NationalTable => EscalationView::Full,
        OrgKind::Provider | OrgKind::Insurer if c.is_participant(&e.region_code) => EscalationView::Full,
        OrgKind::HubOperator => EscalationView::None,
        _ if decided(&e.status) => EscalationView::Public,
        _ => EscalationView::None,
    }
}

/// Which escalations a list may show `c`: `None` = all, `Some(regions)` = full view in these
/// regions plus decided ones everywhere.
pub fn escalation_filter(c: &Caller) -> ApiResult<Option<Vec<String>>> {
    read(c)?;
    Ok(match c.kind {
        OrgKind::NationalTable => None,
        OrgKind::Provider | OrgKind::Insurer => Some(c.regions.iter().cloned().collect()),
        _ => Some(vec![]),
    })
}

/// Whether a caller with `view` of an escalation receives its event of `kind`: those who see it
/// all receive every event; those who see its public part only the events that change that part
/// (decided, resolved): a change of its measures after the decision is not theirs to learn of.
pub fn receives_escalation_event(view: EscalationView, kind: EscalationEventKind) -> bool {
    match view {
        EscalationView::Full => true,
        EscalationView::Public => matches!(kind, EscalationEventKind::Decided | EscalationEventKind::Closed),
        EscalationView::None => false,
    }
}

/// `FORBIDDEN` unless the caller sees the whole escalation.
pub fn require_full(c: &Caller, e: &escalation::Model) -> ApiResult<()> {
    if escalation_view(c, e) == EscalationView::Full {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "this part of an escalation is visible to the raising region's participants and the national table only",
        ))
    }
}

/// Audit log: everyone reads its own actions; the national table and the operator read all
/// (values of others' changes redacted by `AuditEntry::present`).
pub fn audit_scope(c: &Caller) -> ApiResult<Option<String>> {
    c.require_read()?;
    Ok(match c.kind {
        OrgKind::NationalTable | OrgKind::HubOperator => None,
        _ => Some(c.org.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use EscalationEventKind::*;

    #[test]
    fn public_viewers_hear_only_of_changes_to_the_public_part() {
        for kind in EscalationEventKind::ALL {
            assert!(receives_escalation_event(EscalationView::Full, *kind));
            assert!(!receives_escalation_event(EscalationView::None, *kind));
        }
        let public: Vec<_> = EscalationEventKind::ALL
            .iter()
            .filter(|k| receives_escalation_event(EscalationView::Public, **k))
            .collect();
        assert_eq!(public, [&Decided, &Closed]);
    }
}
