//! GraphQL types of the national-table subgraph, including the stubs of entities owned by the
//! region subgraph (`Region`, `CareOffer`, `Organisation`) that this subgraph extends or refers to.
//!
//! What patient organisations may read (the public picture) is tagged `@tag(name: "public")`,
//! from which the gateway derives its public contract schema: whole types when every field is
//! public (listings, expertise networks, KPI targets and measurements), single fields on entities
//! (`NationalKpi`, and the stubs this subgraph extends) and on `Escalation`, whose public part is
//! what a decided escalation shows everyone. The resolvers' own checks stay.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use ggzhub_kit::graphql::RecordMeta;
use ggzhub_kit::record_meta as meta;
use ggzhub_kit::{ApiError, Caller, GqlResultExt as _};

use crate::access::{self, EscalationView};
use crate::domain::*;
use crate::entity::{escalation, kpi, listing, measure, measurement, network, transition};
use crate::loader::{Loaders, RegionEscalationsKey};

pub(crate) fn caller<'a>(ctx: &'a Context<'_>) -> Result<&'a Caller> {
    ctx.data::<Caller>()
}

pub(crate) fn loaders<'a>(ctx: &'a Context<'_>) -> Result<&'a Loaders> {
    ctx.data::<Loaders>()
}

pub(crate) fn load_err(e: crate::loader::LoadError) -> async_graphql::Error {
    use async_graphql::ErrorExtensions as _;
    // A database that cannot be reached is DATABASE_UNAVAILABLE here too, as for direct queries.
    ApiError::from_shared_db(&e).extend()
}

pub(crate) fn json_strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

fn parse<T>(v: Option<T>, what: &str) -> Result<T> {
    v.ok_or_else(|| format!("invalid stored {what}").into())
}

/// A region (owned by the region subgraph); the national table adds its escalations and the
/// supra-regional offer that serves it.
pub struct RegionRef {
    /// Region code.
    pub code: String,
}

// Descriptions of shared types and key fields match the owning region subgraph's, so that
// composition has one description for each.
/// A region: an IZA region or zorgkantoorregio where providers, insurers and others meet.
#[Object(name = "Region")]
impl RegionRef {
    /// Region code (kebab-case), e.g. `utrecht`.
    #[graphql(tag = "public")]
    async fn code(&self) -> &str {
        &self.code
    }
    /// Escalations raised by this region, newest first: all of them for the region's
    /// participants and the national table, decided ones (public part) for everyone else.
    #[graphql(tag = "public")]
    async fn escalations(&self, ctx: &Context<'_>) -> Result<Vec<Escalation>> {
        let c = caller(ctx)?;
        access::read(c).gql()?;
        let full = match c.kind {
            ggzhub_kit::OrgKind::NationalTable => true,
            ggzhub_kit::OrgKind::Provider | ggzhub_kit::OrgKind::Insurer => c.is_participant(&self.code),
            _ => false,
        };
        let rows = loaders(ctx)?
            .region_escalations
            .load_one(RegionEscalationsKey { region: self.code.clone(), full })
            .await
            .map_err(load_err)?
            .unwrap_or_default();
        Ok(rows.into_iter().map(Escalation).collect())
    }
    /// Escalations raised by this region, counted per category and status (groups with at least
    /// one): all of them for the region's providers and insurers and the national table, decided
    /// ones (MEASURE_AGREED, RESOLVED, DECLINED) for everyone else. Every region of one request
    /// is counted in one statement.
    #[graphql(tag = "public")]
    async fn escalation_counts(&self, ctx: &Context<'_>) -> Result<Vec<super::picture::EscalationCount>> {
        let scope = crate::picture::EscalationScope::of(caller(ctx)?).gql()?;
        let rows = loaders(ctx)?
            .escalation_counts
            .load_one(RegionEscalationsKey { region: self.code.clone(), full: scope.full_in(&self.code) })
            .await
            .map_err(load_err)?
            .unwrap_or_default();
        Ok(super::picture::counts(&rows))
    }
    /// Target groups the national table knows (from expertise networks and the supra-regional
    /// list) that no listed supra-regional offer serves in this region.
    #[graphql(tag = "public")]
    async fn uncovered_target_groups(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        access::read(caller(ctx)?).gql()?;
        let l = loaders(ctx)?;
        let all = l.target_groups.load_one(crate::loader::AllTargetGroups).await.map_err(load_err)?.unwrap_or_default();
        let serving = l.coverage.load_one(self.code.clone()).await.map_err(load_err)?.unwrap_or_default();
        Ok(all.into_iter().filter(|g| !serving.iter().any(|s| &s.target_group == g)).collect())
    }
    /// Listed supra-regional offers that serve this region (including offers located elsewhere).
    #[graphql(tag = "public")]
    async fn supra_regional_coverage(&self, ctx: &Context<'_>) -> Result<Vec<SupraRegionalListing>> {
        access::read(caller(ctx)?).gql()?;
        let rows = loaders(ctx)?.coverage.load_one(self.code.clone()).await.map_err(load_err)?.unwrap_or_default();
        Ok(rows.into_iter().map(SupraRegionalListing).collect())
    }
}

/// A care offer (owned by the region subgraph), with its national listing.
pub struct CareOfferRef {
    /// Offer id.
    pub id: String,
}

/// Aanbod: one unit of crucial care at department or team level of a provider.
#[Object(name = "CareOffer")]
impl CareOfferRef {
    /// Id.
    #[graphql(tag = "public")]
    async fn id(&self) -> ID {
        ID(self.id.clone())
    }
    /// Its listing as national crucial (supra-regional) offer, if listed.
    #[graphql(tag = "public")]
    async fn supra_regional_listing(&self, ctx: &Context<'_>) -> Result<Option<SupraRegionalListing>> {
        access::read(caller(ctx)?).gql()?;
        Ok(loaders(ctx)?.listing_by_offer.load_one(self.id.clone()).await.map_err(load_err)?.map(SupraRegionalListing))
    }
}

/// A continuity signal (owned by the region subgraph), with the escalation it led to.
pub struct ContinuitySignalRef {
    /// Signal id.
    pub id: String,
}

/// Vroegsignalering: a provider's early warning that a department's or team's continuity is at risk.
#[Object(name = "ContinuitySignal")]
impl ContinuitySignalRef {
    /// Id.
    async fn id(&self) -> ID {
        ID(self.id.clone())
    }
    /// The escalation at the national table that escalating this signal opened; `null` when it
    /// was not escalated (or the escalation is not yet opened), or when the caller may not see
    /// that escalation (the rules of `Query.escalation`).
    async fn escalation(&self, ctx: &Context<'_>) -> Result<Option<Escalation>> {
        let c = caller(ctx)?;
        access::read(c).gql()?;
        let row = loaders(ctx)?.escalation_by_signal.load_one(self.id.clone()).await.map_err(load_err)?;
        Ok(row.and_then(|e| visible(c, e)))
    }
}

/// An organisation taking part in the hub (provider, insurer, patient organisation, …).
#[derive(SimpleObject)]
#[graphql(name = "Organisation", unresolvable = "id")]
pub struct OrganisationRef {
    /// Hub id.
    #[graphql(tag = "public")]
    pub id: ID,
}

fn org(id: &str) -> OrganisationRef {
    OrganisationRef { id: ID(id.to_owned()) }
}

/// Knelpunt dat de regio niet oplost: a problem a region's chair took to the national table.
pub struct Escalation(pub escalation::Model);

impl Escalation {
    fn full(&self, ctx: &Context<'_>) -> Result<()> {
        access::require_full(caller(ctx)?, &self.0).gql()
    }
}

/// Knelpunt dat de regio niet oplost: a problem a region's chair took to the national table.
#[Object]
impl Escalation {
    /// Id.
    #[graphql(tag = "public")]
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// Code of the raising region.
    #[graphql(tag = "public")]
    async fn region_code(&self) -> &str {
        &self.0.region_code
    }
    /// The raising region.
    #[graphql(tag = "public")]
    async fn region(&self) -> RegionRef {
        RegionRef { code: self.0.region_code.clone() }
    }
    /// Category of crucial care.
    #[graphql(tag = "public")]
    async fn category(&self) -> Result<CareCategory> {
        parse(CareCategory::parse(&self.0.category), "category")
    }
    /// Target group.
    #[graphql(tag = "public")]
    async fn target_group(&self) -> &str {
        &self.0.target_group
    }
    /// Lifecycle status.
    #[graphql(tag = "public")]
    async fn status(&self) -> Result<EscalationStatus> {
        parse(EscalationStatus::parse(&self.0.status), "status")
    }
    /// Public summary of the national table's decision (set once decided).
    #[graphql(tag = "public")]
    async fn public_summary(&self) -> Option<&str> {
        self.0.public_summary.as_deref()
    }
    /// When it was raised (participants and national table).
    async fn raised_at(&self, ctx: &Context<'_>) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
        self.full(ctx)?;
        Ok(Some(self.0.raised_at))
    }
    /// When the national table decided.
    #[graphql(tag = "public")]
    async fn decided_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.decided_at
    }
    /// The problem the region could not solve (participants and national table; no personal data).
    async fn problem(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        self.full(ctx)?;
        Ok(Some(&self.0.problem))
    }
    /// What the region tried (participants and national table).
    async fn region_tried(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        self.full(ctx)?;
        Ok(Some(&self.0.region_tried))
    }
    /// Care offers affected (participants and national table).
    async fn affected_offers(&self, ctx: &Context<'_>) -> Result<Option<Vec<CareOfferRef>>> {
        self.full(ctx)?;
        Ok(Some(json_strings(&self.0.affected_offer_ids).into_iter().map(|id| CareOfferRef { id }).collect()))
    }
    /// Urgency (participants and national table).
    async fn urgency(&self, ctx: &Context<'_>) -> Result<Option<Urgency>> {
        self.full(ctx)?;
        Ok(Some(parse(Urgency::parse(&self.0.urgency), "urgency")?))
    }
    /// Why the national table declined it (participants and national table).
    async fn decline_reason(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        self.full(ctx)?;
        Ok(self.0.decline_reason.as_deref())
    }
    /// The organisation that raised it: the region's chair (participants and national table).
    async fn raised_by(&self, ctx: &Context<'_>) -> Result<Option<OrganisationRef>> {
        self.full(ctx)?;
        Ok(Some(org(&self.0.raised_by)))
    }
    /// The continuity signal (early warning) whose escalation opened it; `null` when the chair
    /// raised it by hand (participants and national table).
    async fn signal(&self, ctx: &Context<'_>) -> Result<Option<ContinuitySignalRef>> {
        self.full(ctx)?;
        Ok(self.0.signal_id.clone().map(|id| ContinuitySignalRef { id }))
    }
    /// Every move along the lifecycle, oldest first (participants and national table).
    async fn transitions(&self, ctx: &Context<'_>) -> Result<Option<Vec<EscalationTransition>>> {
        self.full(ctx)?;
        let rows = loaders(ctx)?.transitions.load_one(self.0.id.clone()).await.map_err(load_err)?.unwrap_or_default();
        Ok(Some(rows.into_iter().map(EscalationTransition).collect()))
    }
    /// Agreed measures (participants and national table).
    async fn measures(&self, ctx: &Context<'_>) -> Result<Option<Vec<Measure>>> {
        self.full(ctx)?;
        let rows = loaders(ctx)?.measures.load_one(self.0.id.clone()).await.map_err(load_err)?.unwrap_or_default();
        Ok(Some(rows.into_iter().map(Measure).collect()))
    }
    /// Version for optimistic concurrency (participants and national table).
    async fn version(&self, ctx: &Context<'_>) -> Result<Option<i32>> {
        self.full(ctx)?;
        Ok(Some(self.0.version))
    }
    /// Record metadata (participants and national table: `createdBy` names the raising
    /// organisation, which `raisedBy` keeps from everyone else).
    async fn meta(&self, ctx: &Context<'_>) -> Result<Option<RecordMeta>> {
        self.full(ctx)?;
        Ok(Some(meta!(self.0)))
    }
}

/// One recorded move of an escalation: who moved it, when, from and to which status.
pub struct EscalationTransition(pub transition::Model);

/// One recorded move of an escalation: who moved it, when, from and to which status.
#[Object]
impl EscalationTransition {
    /// Status before.
    async fn from(&self) -> Result<EscalationStatus> {
        parse(EscalationStatus::parse(&self.0.from_status), "status")
    }
    /// Status after.
    async fn to(&self) -> Result<EscalationStatus> {
        parse(EscalationStatus::parse(&self.0.to_status), "status")
    }
    /// When.
    async fn at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.at
    }
    /// Organisation that moved it.
    async fn by(&self) -> OrganisationRef {
        org(&self.0.by_org)
    }
    /// Note (no personal data).
    async fn note(&self) -> &str {
        &self.0.note
    }
}

/// An agreed action on an escalation, with an owner organisation and a due date.
pub struct Measure(pub measure::Model);

/// An agreed action on an escalation, with an owner organisation and a due date.
#[Object]
impl Measure {
    /// Id.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// The escalation it belongs to.
    async fn escalation_id(&self) -> ID {
        ID(self.0.escalation_id.clone())
    }
    /// Title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// Description (no personal data).
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Organisation that carries it out.
    async fn owner(&self) -> OrganisationRef {
        org(&self.0.owner_org_id)
    }
    /// Due date.
    async fn due_date(&self) -> chrono::NaiveDate {
        self.0.due_date
    }
    /// Progress.
    async fn status(&self) -> Result<MeasureStatus> {
        parse(MeasureStatus::parse(&self.0.status), "status")
    }
    /// Past its due date and neither done nor cancelled.
    async fn overdue(&self) -> bool {
        let open =
            self.0.status == MeasureStatus::Planned.as_str() || self.0.status == MeasureStatus::InProgress.as_str();
        open && self.0.due_date < crate::picture::today()
    }
    /// Version for optimistic concurrency.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Record metadata.
    async fn meta(&self) -> RecordMeta {
        meta!(self.0)
    }
}

/// Bovenregionaal / landelijk cruciaal aanbod: a care offer listed as national crucial offer.
pub struct SupraRegionalListing(pub listing::Model);

/// Bovenregionaal / landelijk cruciaal aanbod: a care offer listed as national crucial offer.
#[Object(tag = "public")]
impl SupraRegionalListing {
    /// Id.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// The listed care offer.
    async fn offer(&self) -> CareOfferRef {
        CareOfferRef { id: self.0.offer_id.clone() }
    }
    /// Target group.
    async fn target_group(&self) -> &str {
        &self.0.target_group
    }
    /// Codes of the regions it serves.
    async fn regions_served(&self) -> Vec<String> {
        json_strings(&self.0.regions_served)
    }
    /// The regions it serves.
    async fn regions(&self) -> Vec<RegionRef> {
        json_strings(&self.0.regions_served).into_iter().map(|code| RegionRef { code }).collect()
    }
    /// On the HS-8 (Zpm setting 8) start list.
    async fn hs8(&self) -> bool {
        self.0.hs8
    }
    /// The expertise network feeding it.
    async fn expertise_network(&self, ctx: &Context<'_>) -> Result<Option<ExpertiseNetwork>> {
        let Some(id) = &self.0.expertise_network_id else { return Ok(None) };
        Ok(loaders(ctx)?.networks.load_one(id.clone()).await.map_err(load_err)?.map(ExpertiseNetwork))
    }
    /// Version for optimistic concurrency.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Record metadata.
    async fn meta(&self) -> RecordMeta {
        meta!(self.0)
    }
}

/// Expertisenetwerk: organisations around a target group that feed the national table and
/// offer consultation to the wider field.
pub struct ExpertiseNetwork(pub network::Model);

/// Expertisenetwerk: organisations around a target group that feed the national table and
/// offer consultation to the wider field.
#[Object(tag = "public")]
impl ExpertiseNetwork {
    /// Id.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// Name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Target group.
    async fn target_group(&self) -> &str {
        &self.0.target_group
    }
    /// Member organisations.
    async fn members(&self) -> Vec<OrganisationRef> {
        json_strings(&self.0.member_org_ids).iter().map(|id| org(id)).collect()
    }
    /// Consultation contact: an organisation function (a desk, its phone number or e-mail
    /// address), never a person's private data.
    async fn consultation_contact(&self) -> &str {
        &self.0.consultation_contact
    }
    /// Version for optimistic concurrency.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Record metadata.
    async fn meta(&self) -> RecordMeta {
        meta!(self.0)
    }
}

/// A KPI target for one year.
#[derive(SimpleObject, serde::Serialize, serde::Deserialize, Clone, Debug)]
#[graphql(tag = "public")]
pub struct KpiTarget {
    /// Year.
    pub year: i32,
    /// Target value.
    pub value: f64,
}

/// A measured KPI value for a year, nationally or for one region.
pub struct KpiMeasurement(pub measurement::Model);

/// A measured KPI value for a year, nationally or for one region.
#[Object(tag = "public")]
impl KpiMeasurement {
    /// Year.
    async fn year(&self) -> i32 {
        self.0.year
    }
    /// Region code, or `null` for the national figure.
    async fn region_code(&self) -> Option<&str> {
        self.0.region_code.as_deref()
    }
    /// The region, or `null` for the national figure.
    async fn region(&self) -> Option<RegionRef> {
        self.0.region_code.clone().map(|code| RegionRef { code })
    }
    /// Measured value.
    async fn value(&self) -> f64 {
        self.0.value
    }
    /// Version for optimistic concurrency.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// A national KPI agreed with the parties, with targets per year up to 2027.
pub struct NationalKpi(pub kpi::Model);

/// A national KPI agreed with the parties, with targets per year up to 2027.
#[Object]
impl NationalKpi {
    /// Code.
    #[graphql(tag = "public")]
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Name.
    #[graphql(tag = "public")]
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Definition.
    #[graphql(tag = "public")]
    async fn definition(&self) -> &str {
        &self.0.definition
    }
    /// Unit.
    #[graphql(tag = "public")]
    async fn unit(&self) -> &str {
        &self.0.unit
    }
    /// Which way is better.
    #[graphql(tag = "public")]
    async fn direction(&self) -> Result<KpiDirection> {
        parse(KpiDirection::parse(&self.0.direction), "direction")
    }
    /// Targets per year.
    #[graphql(tag = "public")]
    async fn targets(&self) -> Result<Vec<KpiTarget>> {
        Ok(serde_json::from_value(self.0.targets.clone())?)
    }
    /// Measurements, optionally of one year and/or one region (`national: true` for the national
    /// figures only).
    #[graphql(tag = "public")]
    async fn measurements(
        &self,
        ctx: &Context<'_>,
        year: Option<i32>,
        region: Option<String>,
        national: Option<bool>,
    ) -> Result<Vec<KpiMeasurement>> {
        let rows =
            loaders(ctx)?.measurements.load_one(self.0.code.clone()).await.map_err(load_err)?.unwrap_or_default();
        Ok(rows
            .into_iter()
            .filter(|m| year.is_none_or(|y| m.year == y))
            .filter(|m| region.as_ref().is_none_or(|r| m.region_code.as_ref() == Some(r)))
            .filter(|m| national != Some(true) || m.region_code.is_none())
            .map(KpiMeasurement)
            .collect())
    }
    /// Version for optimistic concurrency.
    #[graphql(tag = "public")]
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Record metadata.
    #[graphql(tag = "public")]
    async fn meta(&self) -> RecordMeta {
        meta!(self.0)
    }
}

/// What a caller may see of an escalation; a hidden one is reported exactly like a missing one.
pub(crate) fn visible(c: &Caller, e: escalation::Model) -> Option<Escalation> {
    (access::escalation_view(c, &e) != EscalationView::None).then_some(Escalation(e))
}

/// One changed escalation (issue 22's incremental sync).
#[derive(async_graphql::SimpleObject)]
pub struct EscalationChange {
    /// The escalation's id.
    #[graphql(tag = "public")]
    pub id: async_graphql::ID,
    /// The escalation as it is now (as `escalation(id:)` shows it to the caller).
    #[graphql(tag = "public")]
    pub node: Escalation,
    /// This change's place in the feed.
    #[graphql(tag = "public")]
    pub cursor: String,
}

/// A page of the escalation feed.
#[derive(async_graphql::SimpleObject)]
pub struct EscalationChanges {
    /// The changed escalations, in the order of their last change in this page, each once.
    #[graphql(tag = "public")]
    pub changes: Vec<EscalationChange>,
    /// Pass as `since` next time, also when `changes` is empty.
    #[graphql(tag = "public")]
    pub next: String,
    /// More changes are ready now: ask again at once with `next`.
    #[graphql(tag = "public")]
    pub has_more: bool,
}
