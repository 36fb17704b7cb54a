//! What the Actieplan Wachttijden adds to the picture (issue 21 item 2): a region's supplied
//! unique count of people waiting, its transfer lead (proposed by the hub, confirmed by the
//! regional table), its quarterly hotspot report, and per care offer whether an intake is possible
//! now. The access rules are in each field's description and in `schema/ACCESS.md`.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use ggzhub_kit::people::PeopleCount;
use ggzhub_kit::{ApiError, GqlResultExt as _};

use super::types::{Organisation, caller, load_err, loaders};
use crate::access;
use crate::domain::OfferStatus;
use crate::entity::{care_offer, intake_outlook, region_waiting_count, transfer_lead};
use crate::waiting_plan::{self as plan, HotspotLine, Quarter, ReportRow};

use ggzhub_kit::graphql::RecordMeta;
use ggzhub_kit::record_meta as meta;

async fn organisation(ctx: &Context<'_>, id: &str) -> Result<Option<Organisation>> {
    Ok(loaders(ctx)?.organisations.load_one(id.to_owned()).await.map_err(load_err)?.map(Organisation))
}

/// Unieke wachtenden: a region's count of people waiting in one month, each person counted once
/// however many providers they wait at, supplied by a trusted source (the national table or the
/// region's coordinating insurer).
pub struct UniqueWaitingCount(pub region_waiting_count::Model);

/// Unieke wachtenden: a region's count of people waiting in one month, each person counted once
/// however many providers they wait at, supplied by a trusted source (the national table or the
/// region's coordinating insurer).
#[Object(tag = "public")]
impl UniqueWaitingCount {
    /// Id.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// Region code.
    async fn region_code(&self) -> &str {
        &self.0.region_code
    }
    /// Month, `YYYY-MM`.
    async fn month(&self) -> &str {
        &self.0.month
    }
    /// People waiting, each counted once. From 1 to 9 it is shown as "fewer than 10" to everyone
    /// but the supplier.
    async fn people_waiting(&self, ctx: &Context<'_>) -> Result<PeopleCount> {
        let supplier = caller(ctx)?.org.to_string() == self.0.supplier_id;
        Ok(PeopleCount::shown(self.0.people_waiting, supplier))
    }
    /// The organisation that supplied the count (or last corrected it).
    async fn supplier(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        organisation(ctx, &self.0.supplier_id).await
    }
    /// When it was supplied or last corrected.
    async fn supplied_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Version for optimistic concurrency (`expectedVersion` of a correction).
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Record metadata.
    async fn meta(&self) -> RecordMeta {
        meta!(self.0)
    }
}

/// `Region.uniquePeopleWaiting`.
pub(crate) async fn region_unique_waiting(
    ctx: &Context<'_>,
    code: &str,
    month: Option<String>,
) -> Result<Option<UniqueWaitingCount>> {
    access::read_waiting_times(caller(ctx)?).gql()?;
    if let Some(m) = &month {
        ggzhub_kit::validate::month(m).gql()?;
    }
    let found = loaders(ctx)?.waiting_plan.unique_counts.load_one((code.to_owned(), month)).await.map_err(load_err)?;
    Ok(found.map(UniqueWaitingCount))
}

/// The hub's proposal for a region's transfer lead.
pub struct TransferLeadProposal {
    proposal: plan::Proposal,
}

/// The hub's proposal for a region's transfer lead: the provider with the largest Treeknorm excess
/// in the region's latest month with waiting-time reports. The excess of a provider is the sum of
/// the people waiting at its reports (location × diagnosis group) in that month whose wait exceeds
/// a Treeknorm limit (more than 4 weeks to intake, 10 from intake to treatment or 14 in total). A
/// tie goes to the provider with more reports over the norm, then to the smallest provider id.
#[Object(tag = "public")]
impl TransferLeadProposal {
    /// The proposed provider.
    async fn provider(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        organisation(ctx, &self.proposal.provider_id).await
    }
    /// The proposed provider's id.
    async fn provider_id(&self) -> ID {
        ID(self.proposal.provider_id.clone())
    }
    /// The month the excess is computed over (`YYYY-MM`).
    async fn month(&self) -> &str {
        &self.proposal.month
    }
    /// People waiting at the provider's reports over the Treeknorm in that month. Exact to the
    /// provider itself; to everyone else exact only when no report in it has from 1 to 9 people
    /// waiting (a small cell would leak by subtraction): otherwise suppressed, whatever its size
    /// (`exact` and `fewerThan` `null`, label "suppressed (includes counts below 10)"). The
    /// proposal is still made on the true excess.
    async fn excess(&self, ctx: &Context<'_>) -> Result<PeopleCount> {
        let supplier = caller(ctx)?.org.to_string() == self.proposal.provider_id;
        Ok(plan::sum_shown(self.proposal.excess, self.proposal.small_cells && !supplier))
    }
    /// The provider's reports over the Treeknorm in that month (reports, not people).
    async fn reports_over_norm(&self) -> i32 {
        self.proposal.reports_over_norm
    }
}

/// The transfer lead as the regional table confirmed it.
pub struct ConfirmedTransferLead(pub transfer_lead::Model);

/// The transfer lead as the regional table confirmed it (the region's chair).
#[Object(tag = "public")]
impl ConfirmedTransferLead {
    /// The confirmed lead provider.
    async fn provider(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        organisation(ctx, &self.0.provider_id).await
    }
    /// The confirmed lead provider's id.
    async fn provider_id(&self) -> ID {
        ID(self.0.provider_id.clone())
    }
    /// When it was confirmed.
    async fn confirmed_at(&self) -> DateTime<Utc> {
        self.0.confirmed_at
    }
    /// The confirming organisation (the region's chair).
    async fn confirmed_by(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        organisation(ctx, &self.0.confirmed_by).await
    }
    /// Version for optimistic concurrency (`expectedVersion` of the next confirmation).
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// Regionale coördinatie van wachtenden: the region's lead provider for the transfer mechanism
/// (overdrachtsmechanisme), proposed by the hub and confirmed by the regional table.
pub struct TransferLead {
    proposed: Option<plan::Proposal>,
    confirmed: Option<transfer_lead::Model>,
}

/// Regionale coördinatie van wachtenden: the region's lead provider for the transfer mechanism
/// (overdrachtsmechanisme), proposed by the hub and confirmed by the regional table.
#[Object(tag = "public")]
impl TransferLead {
    /// The hub's proposal; `null` when no report of the region's latest month exceeds the
    /// Treeknorm.
    async fn proposed(&self) -> Option<TransferLeadProposal> {
        self.proposed.clone().map(|proposal| TransferLeadProposal { proposal })
    }
    /// The lead the region's chair confirmed (`confirmTransferLead`); `null` until then.
    async fn confirmed(&self) -> Option<ConfirmedTransferLead> {
        self.confirmed.clone().map(ConfirmedTransferLead)
    }
    /// Whether the confirmed lead differs from the proposal (a reason to look again).
    async fn differs_from_proposal(&self) -> bool {
        match (&self.proposed, &self.confirmed) {
            (Some(p), Some(c)) => p.provider_id != c.provider_id,
            _ => false,
        }
    }
}

/// `Region.transferLead`.
pub(crate) async fn region_transfer_lead(ctx: &Context<'_>, code: &str) -> Result<TransferLead> {
    access::read_waiting_times(caller(ctx)?).gql()?;
    let l = &loaders(ctx)?.waiting_plan;
    // One after the other: the regions of a list still share each loader's batch.
    let rows = l.latest_rows.load_one(code.to_owned()).await.map_err(load_err)?;
    let confirmed = l.confirmed_leads.load_one(code.to_owned()).await.map_err(load_err)?;
    Ok(TransferLead { proposed: plan::propose(&rows.unwrap_or_default()), confirmed })
}

/// A diagnosis group's share of a quarter's Treeknorm excess.
#[derive(SimpleObject)]
#[graphql(tag = "public")]
pub struct DiagnosisGroupHotspot {
    /// Diagnosis group code.
    pub diagnosis_group: String,
    /// Months of the quarter in which at least one report of the group exceeded the Treeknorm.
    pub months_over_norm: i32,
    /// Reports (provider location × month) of the group over the Treeknorm.
    pub reports_over_norm: i32,
    /// People waiting at the group's reports over the Treeknorm in the quarter's worst month (not
    /// summed over months: the same people wait in several). A sum over reports: exact only when
    /// every report in it has 0 or 10 or more people waiting or is the caller's own; otherwise
    /// suppressed, whatever its size (`exact` and `fewerThan` `null`, label "suppressed (includes
    /// counts below 10)").
    pub people_waiting_over_norm: PeopleCount,
    /// The longest total wait (registration to treatment) over the Treeknorm, in weeks.
    pub worst_total_weeks: f64,
}

/// A provider location's share of a quarter's Treeknorm excess.
#[derive(SimpleObject)]
#[graphql(tag = "public")]
pub struct LocationHotspot {
    /// The provider.
    pub provider_id: ID,
    /// Location (town).
    pub location: String,
    /// Months of the quarter in which at least one report at the location exceeded the Treeknorm.
    pub months_over_norm: i32,
    /// Reports (diagnosis group × month) at the location over the Treeknorm.
    pub reports_over_norm: i32,
    /// People waiting at the location's reports over the Treeknorm in the quarter's worst month.
    /// Exact to the provider itself; to others exact only when no report in it has from 1 to 9
    /// people waiting, otherwise suppressed, whatever its size (`exact` and `fewerThan` `null`,
    /// label "suppressed (includes counts below 10)").
    pub people_waiting_over_norm: PeopleCount,
    /// The longest total wait over the Treeknorm at the location, in weeks.
    pub worst_total_weeks: f64,
}

/// One of a quarter's longest waits over the Treeknorm.
#[derive(SimpleObject)]
#[graphql(tag = "public")]
pub struct WorstWait {
    /// The provider.
    pub provider_id: ID,
    /// Location (town).
    pub location: String,
    /// Diagnosis group code.
    pub diagnosis_group: String,
    /// Month, `YYYY-MM`.
    pub month: String,
    /// Weeks from registration to intake.
    pub registration_to_intake_weeks: f64,
    /// Weeks from intake to treatment.
    pub intake_to_treatment_weeks: f64,
    /// Registration to treatment, in weeks.
    pub total_weeks: f64,
    /// People waiting. From 1 to 9 it is "fewer than 10" to all but the reporting provider.
    pub waiting_count: PeopleCount,
}

/// Knelpuntenrapportage: where a region exceeded the Treeknorm most in one quarter, computed from
/// the waiting-time reports of the quarter's three months. Public, like the reports.
#[derive(SimpleObject)]
#[graphql(tag = "public")]
pub struct HotspotReport {
    /// Region code.
    pub region_code: String,
    /// The quarter, `YYYY-Qn`.
    pub quarter: String,
    /// Its months, `YYYY-MM`.
    pub months: Vec<String>,
    /// Waiting-time reports in the quarter (over the norm or not).
    pub reports: i32,
    /// Diagnosis groups with a report over the Treeknorm, most exceeded first (more months over
    /// the norm, then more people, then the longer worst wait, then by code).
    pub diagnosis_groups: Vec<DiagnosisGroupHotspot>,
    /// Provider locations with a report over the Treeknorm, most exceeded first (same order).
    pub locations: Vec<LocationHotspot>,
    /// The five longest total waits over the Treeknorm, longest first.
    pub worst_waits: Vec<WorstWait>,
}

/// A hotspot line's peak as shown to `caller_org`: exact unless a report in it with from 1 to 9
/// people waiting was supplied by another organisation.
fn peak(line: &HotspotLine, caller_org: &str) -> PeopleCount {
    let foreign_small_cell = line.peak_small_suppliers.iter().any(|p| p != caller_org);
    plan::sum_shown(line.peak_people_over_norm, foreign_small_cell)
}

/// `Region.hotspotReport`.
pub(crate) async fn region_hotspot_report(ctx: &Context<'_>, code: &str, quarter: &str) -> Result<HotspotReport> {
    let c = caller(ctx)?;
    access::read_waiting_times(c).gql()?;
    let q = Quarter::parse(quarter).ok_or_else(|| {
        ApiError::bad_input(format!("quarter must look like 2026-Q3, got {}", ggzhub_kit::validate::shown(quarter)))
    });
    let q = q.gql()?;
    let rows: Vec<ReportRow> = loaders(ctx)?
        .waiting_plan
        .quarter_rows
        .load_one((code.to_owned(), q))
        .await
        .map_err(load_err)?
        .unwrap_or_default();
    let h = plan::hotspots(&rows);
    let org = c.org.to_string();
    Ok(HotspotReport {
        region_code: code.to_owned(),
        quarter: q.to_string(),
        months: q.months().to_vec(),
        reports: h.reports,
        diagnosis_groups: h
            .groups
            .iter()
            .map(|g| DiagnosisGroupHotspot {
                diagnosis_group: g.key.clone(),
                months_over_norm: g.months_over_norm,
                reports_over_norm: g.reports_over_norm,
                people_waiting_over_norm: peak(g, &org),
                worst_total_weeks: g.worst_total_weeks,
            })
            .collect(),
        locations: h
            .locations
            .iter()
            .map(|l| LocationHotspot {
                provider_id: ID(l.key.clone()),
                location: l.location.clone().unwrap_or_default(),
                months_over_norm: l.months_over_norm,
                reports_over_norm: l.reports_over_norm,
                people_waiting_over_norm: peak(l, &org),
                worst_total_weeks: l.worst_total_weeks,
            })
            .collect(),
        worst_waits: h
            .worst
            .into_iter()
            .map(|r| WorstWait {
                provider_id: ID(r.provider_id.clone()),
                location: r.location.clone(),
                diagnosis_group: r.diagnosis_group.clone(),
                month: r.month.clone(),
                registration_to_intake_weeks: r.registration_weeks,
                intake_to_treatment_weeks: r.treatment_weeks,
                total_weeks: r.total_weeks(),
                waiting_count: PeopleCount::shown(r.waiting_count, r.provider_id == org),
            })
            .collect(),
    })
}

/// Why an intake is or is not possible now.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(tag = "public")]
pub enum IntakeOutlookSource {
    /// As the provider set it (`setIntakeOutlook`).
    Provider,
    /// Not possible: an intake pause (aanmeldpauze) is active today, whatever the provider set.
    IntakePause,
    /// Not possible: the offer is closed.
    Closed,
}

/// For referrers (GPs, other providers, crisis services): whether an intake is possible now and
/// the expected wait in weeks. Public: referrers need not be in the hub.
#[derive(SimpleObject)]
#[graphql(tag = "public")]
pub struct IntakeOutlook {
    /// Whether an intake is possible now; always `false` while an intake pause is active or the
    /// offer is closed.
    pub intake_possible_now: bool,
    /// Expected wait until intake, in weeks, as the provider set it (`null`: not given).
    pub expected_wait_weeks: Option<f64>,
    /// Why `intakePossibleNow` reads as it does.
    pub source: IntakeOutlookSource,
    /// When the provider last set it (`null`: never set, only forced by a pause or closure).
    pub set_at: Option<DateTime<Utc>>,
    /// Version of the outlook (`expectedVersion` of `setIntakeOutlook`; 0 when never set).
    pub version: i32,
}

/// Whether `offer`'s intake pause is active on `today` (a Dutch date: the pause's dates are).
pub fn pause_active(offer: &care_offer::Model, today: chrono::NaiveDate) -> bool {
    offer.intake_pause_from.is_some_and(|from| from <= today && offer.intake_pause_until.is_none_or(|u| today <= u))
}

/// The outlook as shown: the provider's, forced to "not possible now" by a closure or a pause.
pub fn shown_outlook(offer: &care_offer::Model, set: Option<&intake_outlook::Model>) -> Option<IntakeOutlook> {
    let forced = if offer.status == OfferStatus::Closed.as_str() {
        Some(IntakeOutlookSource::Closed)
    } else if pause_active(offer, ggzhub_kit::calendar::today()) {
        Some(IntakeOutlookSource::IntakePause)
    } else {
        None
    };
    if set.is_none() && forced.is_none() {
        return None;
    }
    Some(IntakeOutlook {
        intake_possible_now: forced.is_none() && set.is_some_and(|s| s.intake_possible_now),
        expected_wait_weeks: set.and_then(|s| s.expected_wait_weeks),
        source: forced.unwrap_or(IntakeOutlookSource::Provider),
        set_at: set.map(|s| s.updated_at),
        version: set.map_or(0, |s| s.version),
    })
}

/// `CareOffer.intakeOutlook`.
pub(crate) async fn offer_intake_outlook(
    ctx: &Context<'_>,
    offer: &care_offer::Model,
) -> Result<Option<IntakeOutlook>> {
    access::read(caller(ctx)?).gql()?;
    let set = loaders(ctx)?.waiting_plan.outlooks.load_one(offer.id.clone()).await.map_err(load_err)?;
    Ok(shown_outlook(offer, set.as_ref()))
}
