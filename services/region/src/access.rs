//! The access matrix of DOMAIN.md for the region subgraph, as pure functions of the caller and
//! the record. Resolvers and entity resolvers call these; nothing else decides who sees what.

use ggzhub_kit::token::scopes;
use ggzhub_kit::{ApiError, ApiResult, Caller, OrgKind};

use crate::domain::{OverviewStatus, SignalStatus};
use crate::entity::{care_offer, overview, patient_input, signal};

/// Every read needs `picture:read`.
pub fn read(c: &Caller) -> ApiResult<()> {
    c.require_read()
}

/// Regions and organisations are changed by the hub operator only (scope `admin`).
pub fn administer(c: &Caller) -> ApiResult<()> {
    c.require_kind(&[OrgKind::HubOperator], "change regions or organisations")?;
    c.require_scope(scopes::ADMIN)
}

/// Capacity detail: the offer's own provider, providers and insurers at the offer's regional
/// table, and the national table. (Inclusion criteria are wider since issue 21:
/// [`read_inclusion_criteria`].)
pub fn can_see_offer_detail(c: &Caller, offer: &care_offer::Model) -> bool {
    match c.kind {
        OrgKind::Provider => c.org.to_string() == offer.provider_id || c.is_participant(&offer.region_code),
        OrgKind::Insurer => c.is_participant(&offer.region_code),
        OrgKind::NationalTable => true,
        OrgKind::PatientOrganisation | OrgKind::Municipality | OrgKind::HubOperator => false,
    }
}

/// `FORBIDDEN` unless [`can_see_offer_detail`].
pub fn offer_detail(c: &Caller, offer: &care_offer::Model) -> ApiResult<()> {
    if can_see_offer_detail(c, offer) {
        Ok(())
    } else {
        Err(ApiError::forbidden("capacity detail is visible to the region's participants only"))
    }
}

/// Creating, changing and closing offers, and intake pauses: the providing organisation itself.
pub fn write_own_offer(c: &Caller, provider_id: &str) -> ApiResult<()> {
    c.require_kind(&[OrgKind::Provider], "change care offers")?;
    c.require_scope(scopes::OFFERS_WRITE)?;
    if c.org.to_string() != provider_id {
        return Err(ApiError::forbidden("a provider may change only its own care offers"));
    }
    Ok(())
}

/// Waiting times are public by law: everyone but the hub operator reads them.
pub fn read_waiting_times(c: &Caller) -> ApiResult<()> {
    read(c)?;
    if c.kind == OrgKind::HubOperator {
        return Err(ApiError::forbidden("the hub operator does not read waiting times"));
    }
    Ok(())
}

/// Providers report their own waiting times.
pub fn write_own_waiting_times(c: &Caller, provider_id: &str) -> ApiResult<()> {
    waiting_time_reporter(c)?;
    if c.org.to_string() != provider_id {
        return Err(ApiError::forbidden("a provider may report only its own waiting times"));
    }
    Ok(())
}

/// Reporting waiting times at all: providers with `offers:write` (whose reports must then each be
/// their own, [`write_own_waiting_times`]). Checked once for a whole batch of reports.
pub fn waiting_time_reporter(c: &Caller) -> ApiResult<()> {
    c.require_kind(&[OrgKind::Provider], "report waiting times")?;
    c.require_scope(scopes::OFFERS_WRITE)
}

/// Whether `c` may read `s` in full. `coordinating_insurer` is that of the signal's region;
/// `contracts_offer` says whether one of the caller's AGREED contracts valid this year covers the
/// signal's offer, as the contracting subgraph told us ([`crate::contracted`]; `false` when it was
/// not asked or could not be asked).
///
/// An insurer reads the signals of the regions it coordinates and those of the offers it
/// contracts. Changes (acknowledging, escalating) do not consult contracting and pass `false`:
/// only the coordinating insurer acknowledges, contracting grants reading only.
pub fn can_see_signal(
    c: &Caller,
    s: &signal::Model,
    coordinating_insurer: Option<&str>,
    contracts_offer: bool,
) -> bool {
    match c.kind {
        OrgKind::Provider => c.org.to_string() == s.provider_id,
        OrgKind::Insurer => coordinating_insurer == Some(c.org.to_string().as_str()) || contracts_offer,
        OrgKind::NationalTable => s.status == SignalStatus::Escalated.as_str(),
        OrgKind::PatientOrganisation | OrgKind::Municipality | OrgKind::HubOperator => false,
    }
}

/// Signal counts per region: everyone but the hub operator.
pub fn read_signal_counts(c: &Caller) -> ApiResult<()> {
    read(c)?;
    if c.kind == OrgKind::HubOperator {
        return Err(ApiError::forbidden("the hub operator does not read continuity signals"));
    }
    Ok(())
}

/// Raising and updating signals: the offer's own provider.
pub fn write_own_signal(c: &Caller, provider_id: &str) -> ApiResult<()> {
    c.require_kind(&[OrgKind::Provider], "raise or change continuity signals")?;
    c.require_scope(scopes::SIGNALS_WRITE)?;
    if c.org.to_string() != provider_id {
        return Err(ApiError::forbidden("a provider may raise signals only on its own care offers"));
    }
    Ok(())
}

/// Acknowledging: the coordinating insurer of the signal's region.
pub fn acknowledge_signal(c: &Caller, coordinating_insurer: Option<&str>) -> ApiResult<()> {
    c.require_kind(&[OrgKind::Insurer], "acknowledge continuity signals")?;
    c.require_scope(scopes::SIGNALS_WRITE)?;
    if coordinating_insurer != Some(c.org.to_string().as_str()) {
        return Err(ApiError::forbidden("only the region's coordinating insurer acknowledges its signals"));
    }
    Ok(())
}

/// Escalating a signal to the national table: the region's chair.
pub fn escalate_signal(c: &Caller, region: &str) -> ApiResult<()> {
    chair(c, region, "escalate continuity signals")
}

/// How much of an overview a caller sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum OverviewView {
    /// Nothing.
    None,
    /// The published public part (summary and assessments).
    Public,
    /// Drafts too, but no confidential notes (municipalities at the table).
    Draft,
    /// Everything, including confidential notes.
    Full,
}

/// What `c` sees of overview `o`.
pub fn overview_view(c: &Caller, o: &overview::Model) -> OverviewView {
    let published = o.status == OverviewStatus::Published.as_str();
    let participant = c.is_participant(&o.region_code);
    match c.kind {
        OrgKind::Provider | OrgKind::Insurer if participant => OverviewView::Full,
        OrgKind::NationalTable => OverviewView::Full,
        // Issue 21: patient organisations read the drafts of the regions they take part in, as
        // municipalities at the table do (the confidential notes stay with the participants).
        OrgKind::Municipality | OrgKind::PatientOrganisation if participant => OverviewView::Draft,
        OrgKind::HubOperator => OverviewView::None,
        _ if published => OverviewView::Public,
        _ => OverviewView::None,
    }
}

/// Whether `c` may know that `o` exists. An overview it may not read (a draft, for those who may
/// not read drafts) is answered exactly like a missing one, on every path: `null` from
/// `regionalOverview` and `Region.overview`, `NOT_FOUND` from `_entities` and the mutations.
pub fn overview_visible(c: &Caller, o: &overview::Model) -> bool {
    overview_view(c, o) >= OverviewView::Public
}

/// `FORBIDDEN` unless the caller sees at least `needed` of `o`.
pub fn require_overview(c: &Caller, o: &overview::Model, needed: OverviewView) -> ApiResult<()> {
    if overview_view(c, o) >= needed {
        Ok(())
    } else if needed == OverviewView::Full {
        Err(ApiError::forbidden(
            "confidential notes are visible to the region's participants and the national table only",
        ))
    } else {
        Err(ApiError::forbidden(
            "this regional overview is not published; drafts are visible to the region's participants",
        ))
    }
}

/// Reading overviews: everyone but the hub operator, which is refused whether or not the
/// overview exists.
pub fn read_overviews(c: &Caller) -> ApiResult<()> {
    read(c)?;
    if c.kind == OrgKind::HubOperator {
        return Err(ApiError::forbidden("the hub operator does not read regional overviews"));
    }
    Ok(())
}

/// Changing an overview at all: providers and insurers with `overview:write`. Checked before the
/// overview is looked up, so that other callers are refused alike for existing and missing ones.
pub fn overview_writer(c: &Caller) -> ApiResult<()> {
    c.require_kind(&[OrgKind::Provider, OrgKind::Insurer], "write regional overviews")?;
    c.require_scope(scopes::OVERVIEW_WRITE)
}

/// Writing drafts and confidential notes: providers and insurers at the region's table.
pub fn write_overview(c: &Caller, region: &str) -> ApiResult<()> {
    overview_writer(c)?;
    if !c.is_participant(region) {
        return Err(ApiError::forbidden(format!("only participants of region {region} write its overview")));
    }
    Ok(())
}

/// Publishing: the region's chair (a provider or insurer).
pub fn publish_overview(c: &Caller, region: &str) -> ApiResult<()> {
    chair(c, region, "publish regional overviews")
}

fn chair(c: &Caller, region: &str, what: &str) -> ApiResult<()> {
    c.require_kind(&[OrgKind::Provider, OrgKind::Insurer], what)?;
    c.require_scope(scopes::OVERVIEW_WRITE)?;
    if !c.is_chair(region) {
        return Err(ApiError::forbidden(format!("only the chair of region {region} may {what}")));
    }
    Ok(())
}

/// Whether `c` reads patient input `i` on overview `o` (which it may already see). Input is
/// published with the overview unless its author marked it internal (issue 21): internal input
/// stays with those who read the confidential notes (providers and insurers at the table, the
/// national table) and its author; everyone who sees the overview reads the rest.
pub fn can_see_patient_input(c: &Caller, o: &overview::Model, i: &patient_input::Model) -> bool {
    let view = overview_view(c, o);
    view >= OverviewView::Public
        && (!i.internal || view == OverviewView::Full || c.org.to_string() == i.organisation_id)
}

/// Patient organisations write input on overviews of regions they take part in.
pub fn write_patient_input(c: &Caller, region: &str) -> ApiResult<()> {
    c.require_kind(&[OrgKind::PatientOrganisation], "submit patient input")?;
    c.require_scope(scopes::INPUT_WRITE)?;
    if !c.is_participant(region) {
        return Err(ApiError::forbidden(format!(
            "patient input is given only in regions you take part in, not {region}"
        )));
    }
    Ok(())
}

/// Audit log: everyone reads its own actions; the national table and the operator read all.
pub fn audit_scope(c: &Caller) -> ApiResult<Option<String>> {
    read(c)?;
    Ok(match c.kind {
        OrgKind::NationalTable | OrgKind::HubOperator => None,
        _ => Some(c.org.to_string()),
    })
}

/// Capacity totals of one region (the national picture): capacity is offer detail, so the
/// region's participants (providers and insurers at its table) and the national table. An IZA
/// region's totals also sum the offers of the care-office regions it overlaps (`overlapped`), so
/// a provider or insurer reads them only when it takes part in the IZA region and in every one
/// of those: no more capacity detail through an IZA region than through its parts.
pub fn region_capacity(c: &Caller, region: &str, overlapped: &[String]) -> ApiResult<()> {
    read(c)?;
    let everywhere = c.is_participant(region) && overlapped.iter().all(|r| c.is_participant(r));
    match c.kind {
        OrgKind::Provider | OrgKind::Insurer if everywhere => Ok(()),
        OrgKind::NationalTable => Ok(()),
        _ => Err(ApiError::forbidden(
            "capacity totals of a region are visible to its participants and the national table only \
             (of an IZA region: to those taking part in it and in every care-office region it overlaps)",
        )),
    }
}

/// National capacity totals cover every region, so only the national table reads them (a
/// provider or insurer is a participant of some regions, not all).
pub fn national_capacity(c: &Caller) -> ApiResult<()> {
    read(c)?;
    if c.kind == OrgKind::NationalTable {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "national capacity totals are visible to the national table only; participants read their regions' totals",
        ))
    }
}

/// Inclusion criteria of care offers (issue 21): the remedy against exclusion, so public —
/// patient organisations, municipalities and the public read them, and every provider as a
/// referrer, as do insurers and the national table. Only the hub operator, which reads no offer
/// detail, is refused.
pub fn read_inclusion_criteria(c: &Caller) -> ApiResult<()> {
    read(c)?;
    if c.kind == OrgKind::HubOperator {
        return Err(ApiError::forbidden("the hub operator does not read inclusion criteria"));
    }
    Ok(())
}

/// Adding a care form to the national list for one region (issue 21): the region's chair.
pub fn add_regional_care_form(c: &Caller, region: &str) -> ApiResult<()> {
    chair(c, region, "add care forms for the region")
}

/// Changing or retiring one of a region's own care forms (issue 21): the region's chair.
pub fn change_regional_care_form(c: &Caller, region: &str) -> ApiResult<()> {
    chair(c, region, "change or retire the region's care forms")
}

/// Whether `c` could chair any region (a provider or insurer with `overview:write`): checked
/// before a care form is looked up, so that no other caller learns which forms exist.
pub fn could_change_care_forms(c: &Caller) -> ApiResult<()> {
    c.require_kind(&[OrgKind::Provider, OrgKind::Insurer], "change or retire the region's care forms")?;
    c.require_scope(scopes::OVERVIEW_WRITE)
}

/// Planning a new offer for a region, or withdrawing one (issue 21): the region's chair.
pub fn plan_offer(c: &Caller, region: &str) -> ApiResult<()> {
    chair(c, region, "plan or withdraw offers for the region")
}

/// Realising a planned offer (issue 21): a provider with `offers:write` taking part in the
/// region, and the intended provider when the region named one.
pub fn realise_planned_offer(c: &Caller, region: &str, intended_provider: Option<&str>) -> ApiResult<()> {
    c.require_kind(&[OrgKind::Provider], "realise planned offers")?;
    c.require_scope(scopes::OFFERS_WRITE)?;
    if !c.is_participant(region) {
        return Err(ApiError::forbidden(format!(
            "a provider realises planned offers only in regions it takes part in, not {region}"
        )));
    }
    if let Some(p) = intended_provider
        && p != c.org.to_string()
    {
        return Err(ApiError::forbidden("the region intends another provider to realise this planned offer"));
    }
    Ok(())
}

/// Supplying a region's unique count of people waiting at all: the national table (scope
/// `national:write`) or an insurer (scope `overview:write`; which region, [`supply_unique_waiting`]
/// decides). Checked before the region is looked up, so others are refused alike for every region.
pub fn unique_waiting_supplier(c: &Caller) -> ApiResult<()> {
    c.require_kind(&[OrgKind::NationalTable, OrgKind::Insurer], "supply unique counts of people waiting")?;
    match c.kind {
        OrgKind::NationalTable => c.require_scope(scopes::NATIONAL_WRITE),
        _ => c.require_scope(scopes::OVERVIEW_WRITE),
    }
}

/// A region's unique count of people waiting (Actieplan Wachttijden): a trusted source only — the
/// national table for any region, or the region's coordinating insurer for its own region (it
/// holds its insured's waiting lists). Providers cannot: each sees only its own waiting list.
pub fn supply_unique_waiting(c: &Caller, region: &str, coordinating_insurer: Option<&str>) -> ApiResult<()> {
    unique_waiting_supplier(c)?;
    if c.kind == OrgKind::Insurer && coordinating_insurer != Some(c.org.to_string().as_str()) {
        return Err(ApiError::forbidden(format!(
            "only the coordinating insurer of region {region} or the national table supplies its unique count of people waiting"
        )));
    }
    Ok(())
}

/// Confirming a region's transfer lead (overdrachtsmechanisme): the regional table, i.e. its chair.
pub fn confirm_transfer_lead(c: &Caller, region: &str) -> ApiResult<()> {
    chair(c, region, "confirm the transfer lead")
}

/// Care-use figures (issue 21) are imported by the national table (scope `national:write`) or
/// the hub operator (scope `admin`), stored with the importing organisation as their supplier.
pub fn import_care_use(c: &Caller) -> ApiResult<()> {
    match c.kind {
        OrgKind::NationalTable => c.require_scope(scopes::NATIONAL_WRITE),
        OrgKind::HubOperator => c.require_scope(scopes::ADMIN),
        _ => Err(ApiError::forbidden(
            "care-use figures are imported by the national table (scope national:write) or the hub operator (scope admin)",
        )),
    }
}

/// Setting a region's closure rules (its notice period): the region's chair.
pub fn set_closure_rules(c: &Caller, region: &str) -> ApiResult<()> {
    chair(c, region, "set the region's closure rules")
}

/// Who reads a regional action: whoever may read the overview it arises from (participants and
/// the national table always, municipalities at the table drafts too, patient organisations, other
/// organisations and the public once the overview is published; never the hub operator).
pub fn can_see_action(c: &Caller, o: &overview::Model) -> bool {
    overview_visible(c, o)
}

/// Who changes a regional action, and how much of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionChange {
    /// Every field (the region's chair, and the organisation that created the action).
    All,
    /// Its status only (the owner organisation).
    StatusOnly,
}

/// What `c` may change of an action of `region` created by `created_by` and owned by `owner`:
/// `FORBIDDEN` for anyone but the region's chair, the creator (still at the table) and the owner.
pub fn change_action(c: &Caller, region: &str, created_by: &str, owner: &str) -> ApiResult<ActionChange> {
    overview_writer(c)?;
    let me = c.org.to_string();
    if c.is_chair(region) || (me == created_by && c.is_participant(region)) {
        Ok(ActionChange::All)
    } else if me == owner {
        Ok(ActionChange::StatusOnly)
    } else {
        Err(ApiError::forbidden(format!(
            "a regional action of {region} is changed by the region's chair and the organisation that created it; its owner changes its status"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(kind: OrgKind, regions: &[&str]) -> Caller {
        Caller {
            org: uuid::Uuid::from_u128(0x1a),
            kind,
            subject: "test".into(),
            regions: regions.iter().map(|r| (*r).to_owned()).collect(),
            roles: Default::default(),
            scopes: ggzhub_kit::token::default_scopes(kind).iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// An IZA region's capacity sums its care-office regions' offers: only those taking part in
    /// the IZA region and all of them read it (issue 21 item 6).
    #[test]
    fn iza_capacity_needs_every_overlapped_region() {
        let parts = ["groningen".to_owned(), "drenthe".to_owned()];
        for kind in [OrgKind::Provider, OrgKind::Insurer] {
            assert!(
                region_capacity(&caller(kind, &["iza-noord", "groningen", "drenthe"]), "iza-noord", &parts).is_ok()
            );
            assert!(region_capacity(&caller(kind, &["iza-noord", "groningen"]), "iza-noord", &parts).is_err());
            assert!(region_capacity(&caller(kind, &["groningen", "drenthe"]), "iza-noord", &parts).is_err());
            assert!(region_capacity(&caller(kind, &["groningen"]), "groningen", &[]).is_ok());
        }
        assert!(region_capacity(&caller(OrgKind::NationalTable, &[]), "iza-noord", &parts).is_ok());
        for kind in [OrgKind::PatientOrganisation, OrgKind::Municipality, OrgKind::HubOperator] {
            let all = caller(kind, &["iza-noord", "groningen", "drenthe"]);
            assert!(region_capacity(&all, "iza-noord", &parts).is_err(), "{kind:?}");
        }
    }
}
