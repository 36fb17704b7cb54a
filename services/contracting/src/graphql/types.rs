//! GraphQL types of the contracting subgraph, and the stubs of entities other subgraphs own
//! (`CareOffer`, `Organisation` from region; `NationalKpi` from national-table).
//!
//! Of contracting only the guidelines are in the public picture (`@tag(name: "public")`, from
//! which the gateway derives its public contract schema): contracts, their terms and the
//! coverage aggregate are not.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use ggzhub_kit::graphql::RecordMeta;
use ggzhub_kit::leaf::{Leaf, LeafFields};
use ggzhub_kit::record_meta as meta;
use ggzhub_kit::{ApiError, Caller, GqlResultExt as _};

use crate::access;
use crate::domain::*;
use crate::entity::{contract, guideline, history};
use crate::loader::Loaders;

pub(crate) fn caller<'a>(ctx: &'a Context<'_>) -> Result<&'a Caller> {
    ctx.data::<Caller>()
}

pub(crate) fn loaders<'a>(ctx: &'a Context<'_>) -> Result<&'a Loaders> {
    ctx.data::<Loaders>()
}

pub(crate) fn load_err(e: crate::loader::LoadError) -> async_graphql::Error {
    use async_graphql::ErrorExtensions as _;
    match e.as_ref() {
        ApiError::SubgraphUnavailable(m) => ApiError::SubgraphUnavailable(m.clone()).extend(),
        ApiError::DatabaseUnavailable(cause) => ApiError::DatabaseUnavailable(anyhow::anyhow!("{cause:#}")).extend(),
        other => ApiError::internal(anyhow::anyhow!("{other}")).extend(),
    }
}

pub(crate) fn stored(what: &str) -> async_graphql::Error {
    use async_graphql::ErrorExtensions as _;
    ApiError::internal(anyhow::anyhow!("invalid stored {what}")).extend()
}

/// Today's date source of the schema.
pub(crate) fn today(ctx: &Context<'_>) -> crate::clock::Today {
    ctx.data::<crate::clock::Today>().copied().unwrap_or_default()
}

/// An organisation taking part in the hub (provider, insurer, patient organisation, …).
pub struct OrganisationRef {
    /// Hub id.
    pub id: String,
}

// Descriptions of shared types and key fields match the owning subgraph's.
/// An organisation taking part in the hub (provider, insurer, patient organisation, …).
#[Object(name = "Organisation")]
impl OrganisationRef {
    /// Hub id.
    async fn id(&self) -> ID {
        ID(self.id.clone())
    }
    /// Contracts between the caller's organisation and this one (all of the caller's own
    /// contracts when this is the caller's organisation). Never anyone else's.
    async fn contracts(&self, ctx: &Context<'_>, status: Option<ContractStatus>) -> Result<Vec<Contract>> {
        let c = caller(ctx)?;
        access::read_contracts(c).gql()?;
        let db = ctx.data::<sea_orm::DatabaseConnection>()?;
        let rows = crate::graphql::query::own_contracts(db, c, status, Some(&self.id)).await.gql()?;
        Ok(rows.into_iter().map(Contract).collect())
    }
}

/// Aanbod: one unit of crucial care at department or team level of a provider.
pub struct CareOfferRef {
    /// Id.
    pub id: String,
    /// The offer's region and provider when the gateway sent them with the representation (the
    /// `@requires` of `contractCoverage`, read from the region subgraph in the fetch that found
    /// the offer); `None` for offers this subgraph lists itself and for representations without
    /// them, which are asked of the region subgraph ([`crate::loader::OfferPlaces`]).
    pub place: Option<crate::loader::OfferPlace>,
    /// The offer's contract coverage (or why the caller gets none), worked out as its entity was
    /// found when the query asks for it (issue 18: the offer is then answered from its
    /// [`LeafFields`], or its resolver answers the error without working it out again); `None`
    /// otherwise.
    pub coverage: Option<Result<ContractCoverage>>,
}

impl CareOfferRef {
    /// An offer known by id only (its place is asked of the region subgraph when needed).
    pub fn by_id(id: String) -> Self {
        Self { id, place: None, coverage: None }
    }

    /// The offer's coverage as `contractCoverage` shows it to the caller (see there).
    pub(crate) async fn coverage(&self, ctx: &Context<'_>) -> Result<ContractCoverage> {
        let c = caller(ctx)?;
        c.require_read().gql()?;
        let l = loaders(ctx)?;
        let year = today(ctx).year();
        let cov = l.coverage.load_one((self.id.clone(), year)).await.map_err(load_err)?.unwrap_or_default();
        // Who may read is decided by the offer's region and provider: contracting's own record
        // for an offer under contract (whatever a representation says), the region subgraph's
        // answer for one under contract without a record, the place the gateway sent
        // (`@requires`) only for an offer no agreed contract covers, else the region subgraph's
        // answer.
        let looked_up;
        let given = self.place.as_ref().filter(|_| !cov.under_contract);
        let place = match (&cov.recorded, given) {
            (Some(recorded), _) => recorded,
            (None, Some(given)) => given,
            (None, None) => {
                looked_up = l.offer_places.load_one(self.id.clone()).await.map_err(load_err)?;
                let Some(place) = &looked_up else {
                    use async_graphql::ErrorExtensions as _;
                    return Err(ApiError::not_found(format!("no care offer with id {}", self.id)).extend());
                };
                place
            }
        };
        access::read_coverage(c, &place.region).gql()?;
        Ok(match access::shown_coverage(c, &place.provider, &cov.contracts) {
            Some(shown) => ContractCoverage {
                year,
                band: CoverageBand::Exact,
                other_insurers: Some(shown.other_insurers),
                continuity_secured_until: shown.secured_until,
            },
            None => ContractCoverage {
                year,
                band: CoverageBand::FewerThanThree,
                other_insurers: None,
                continuity_secured_until: None,
            },
        })
    }
}

/// An `@external` field asked of this subgraph without the gateway having sent it: the region
/// subgraph resolves it (a planner never sends it here; answered as an internal error if one does).
fn external(field: &str) -> async_graphql::Error {
    ApiError::internal(anyhow::anyhow!("CareOffer.{field} is resolved by the region subgraph")).into()
}

/// Aanbod: one unit of crucial care at department or team level of a provider.
#[Object(name = "CareOffer")]
impl CareOfferRef {
    /// Id.
    async fn id(&self) -> ID {
        ID(self.id.clone())
    }
    // The region subgraph's fields, sent by the gateway for `contractCoverage`; their
    // descriptions match the owning subgraph's.
    /// The region it is located in.
    #[graphql(external)]
    async fn region(&self) -> Result<RegionRef> {
        self.place.as_ref().map(|p| RegionRef { code: p.region.clone() }).ok_or_else(|| external("region"))
    }
    /// The providing organisation.
    #[graphql(external)]
    async fn provider(&self) -> Result<OrganisationRef> {
        self.place.as_ref().map(|p| OrganisationRef { id: p.provider.clone() }).ok_or_else(|| external("provider"))
    }
    /// How many insurers contract this offer this year and until which year continuity is
    /// secured — never which insurer, never volumes, money or KPIs. For the region's providers
    /// and insurers and the national table. The figures count the insurers *other than the
    /// caller* and are shown only when at least three of them stand behind them; below that
    /// `band` is `FEWER_THAN_THREE`, the same for 0, 1 and 2, so that neither a two-insurer table
    /// nor an insurer joining as the third reveals a competitor's contract. The offer's own
    /// provider is shown the exact figures of its own contracts (it reads them in full anyway).
    /// Only the current year is counted: counts per future year would reveal when a contract ends.
    #[graphql(requires = "region { code } provider { id }")]
    async fn contract_coverage(&self, ctx: &Context<'_>) -> Result<Option<Leaf<ContractCoverage>>> {
        let coverage = match &self.coverage {
            Some(found) => found.clone()?,
            None => self.coverage(ctx).await?,
        };
        Ok(Some(Leaf(coverage)))
    }
}

/// An offer found as an entity, with its coverage (the `_entities` of a regional overview list
/// 180 of them): its id and its coverage when worked out, answered from these fields when the
/// selection on it is plain (`ggzhub_kit::leaf`).
impl LeafFields for CareOfferRef {
    fn leaf_field(&self, name: &str) -> Option<async_graphql::Value> {
        (name == "id").then(|| self.id.as_str().into())
    }

    fn leaf_object(&self, name: &str, nested: &ggzhub_kit::leaf::Nested<'_, '_>) -> Option<async_graphql::Value> {
        match name {
            "contractCoverage" => nested.answer(self.coverage.as_ref()?.as_ref().ok()?),
            _ => None,
        }
    }
}

/// A region: an IZA region or zorgkantoorregio where providers, insurers and others meet.
pub struct RegionRef {
    /// Region code.
    pub code: String,
}

// Descriptions of shared types and key fields match the owning region subgraph's.
/// A region: an IZA region or zorgkantoorregio where providers, insurers and others meet.
#[Object(name = "Region")]
impl RegionRef {
    /// Region code (kebab-case), e.g. `utrecht`.
    #[graphql(tag = "public")]
    async fn code(&self) -> &str {
        &self.code
    }
    /// Contractering volgend jaar: per category of crucial care, how many of this region's care
    /// offers have at least one agreed (AGREED) contract running in the calendar year after today
    /// — never which insurer, provider or offer, never terms. Competition law (mededinging, the
    /// ACM's rule that no insurer may learn a competitor's contract terms) decides what is shown:
    /// the figure is computed over the contracts the caller is no party to (an insurer's own
    /// contracts, and a provider's own, are left out; the national table's figure covers all) and
    /// shown (`band` EXACT, `offersContracted` set) only when at least three distinct insurers
    /// stand behind it in that region and category. Below that `band` is FEWER_THAN_THREE and
    /// `offersContracted` is `null`, the same for 0, 1 and 2 insurers, so that neither a table of
    /// two insurers nor an insurer joining as the third learns anything of a competitor's
    /// contracts. For the providers and insurers at this region's table and the national table;
    /// `null` and FORBIDDEN for everyone else (patient organisations, municipalities, the public).
    /// Every region of one request is counted in one statement.
    async fn contracted_next_year(&self, ctx: &Context<'_>) -> Result<Option<Vec<CategoryContracting>>> {
        let c = caller(ctx)?;
        access::read_coverage(c, &self.code).map_err(|_| {
            ApiError::forbidden(
                "the regional contracting picture is visible to the region's providers and insurers and the national table",
            )
        }).gql()?;
        let rows = loaders(ctx)?.contracted_next_year.load_one(self.code.clone()).await.map_err(load_err)?;
        Ok(Some(rows.unwrap_or_default().into_iter().map(CategoryContracting::from).collect()))
    }
}

/// Contracting of one category of crucial care in a region for one year: how many offers have
/// an agreed contract, shown only when at least three insurers (other than the caller) stand
/// behind the figure.
#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub struct CategoryContracting {
    /// Category of crucial care.
    pub category: ggzhub_kit::domain::CareCategory,
    /// The year counted: the calendar year after today.
    pub year: i32,
    /// EXACT when at least three insurers other than the caller stand behind the figure;
    /// FEWER_THAN_THREE (0, 1 or 2, told apart by nothing) otherwise.
    pub band: CoverageBand,
    /// Care offers of the region in this category with at least one agreed contract of those
    /// insurers running in `year`; `null` unless `band` is EXACT.
    pub offers_contracted: Option<i32>,
}

impl From<crate::picture::ShownContracting> for CategoryContracting {
    fn from(s: crate::picture::ShownContracting) -> Self {
        Self { category: s.category, year: s.year, band: s.band, offers_contracted: s.offers_contracted }
    }
}

/// A national KPI agreed with the parties, with targets per year up to 2027.
#[derive(SimpleObject)]
#[graphql(name = "NationalKpi", unresolvable = "code")]
pub struct NationalKpiRef {
    /// Code.
    pub code: String,
}

/// Contract coverage of a care offer: an aggregate that never names an insurer. Its figures
/// count the insurers other than the caller and are shown only when at least three stand behind
/// them (`band` says which); the offer's own provider reads the exact figures of its own
/// contracts.
#[derive(SimpleObject, Clone)]
pub struct ContractCoverage {
    /// The year counted (the current one).
    pub year: i32,
    /// Whether the figures are shown (`EXACT`) or banded (`FEWER_THAN_THREE`: 0, 1 or 2 insurers
    /// other than the caller, told apart by nothing).
    pub band: CoverageBand,
    /// Insurers other than the caller with an agreed contract covering the offer that year;
    /// `null` when `band` is `FEWER_THAN_THREE`.
    pub other_insurers: Option<i32>,
    /// Last year up to which an agreed contract of those insurers secures the offer; `null` when
    /// `band` is `FEWER_THAN_THREE` or no contract covers it.
    pub continuity_secured_until: Option<i32>,
}

/// Plain fields, answered without async-graphql's per-field machinery (`ggzhub_kit::leaf`, issue
/// 18: a regional overview's 180 offers each have one). Who may read them is decided where the
/// coverage is given out (`CareOffer.contractCoverage`).
impl LeafFields for ContractCoverage {
    fn leaf_field(&self, name: &str) -> Option<async_graphql::Value> {
        let number = |n: Option<i32>| n.map_or(async_graphql::Value::Null, Into::into);
        match name {
            "year" => Some(self.year.into()),
            "band" => Some(async_graphql::resolver_utils::enum_value(self.band)),
            "otherInsurers" => Some(number(self.other_insurers)),
            "continuitySecuredUntil" => Some(number(self.continuity_secured_until)),
            _ => None,
        }
    }
}

/// A KPI agreed in a contract, with the national KPI it is tied to.
pub struct ContractKpiView(pub ContractKpi);

/// A KPI agreed in a contract, with the national KPI it is tied to.
#[Object(name = "ContractKpiAgreement")]
impl ContractKpiView {
    /// The national KPI.
    async fn kpi(&self) -> NationalKpiRef {
        NationalKpiRef { code: self.0.kpi_code.clone() }
    }
    /// Targets per contract year.
    async fn targets(&self) -> &[YearTarget] {
        &self.0.targets
    }
}

fn terms_of(v: &serde_json::Value) -> Result<ContractTerms> {
    serde_json::from_value(v.clone()).map_err(|_| stored("contract terms"))
}

/// Contract: an agreement between one insurer and one provider. Only its two parties can read
/// it; to anyone else it does not exist.
pub struct Contract(pub contract::Model);

/// Contract: an agreement between one insurer and one provider. Only its two parties can read
/// it; to anyone else it does not exist.
#[Object]
impl Contract {
    /// Id.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// The insurer.
    async fn insurer(&self) -> OrganisationRef {
        OrganisationRef { id: self.0.insurer_id.clone() }
    }
    /// The provider.
    async fn provider(&self) -> OrganisationRef {
        OrganisationRef { id: self.0.provider_id.clone() }
    }
    /// Lifecycle status.
    async fn status(&self) -> Result<ContractStatus> {
        ContractStatus::parse(&self.0.status).ok_or_else(|| stored("status"))
    }
    /// The current terms.
    async fn terms(&self) -> Result<ContractTerms> {
        terms_of(&self.0.terms)
    }
    /// First year of the current terms.
    async fn first_year(&self) -> i32 {
        self.0.first_year
    }
    /// Last year of the current terms.
    async fn last_year(&self) -> i32 {
        self.0.last_year
    }
    /// The care offers covered.
    async fn covered_offers(&self) -> Result<Vec<CareOfferRef>> {
        Ok(terms_of(&self.0.terms)?.covered_offer_ids.into_iter().map(CareOfferRef::by_id).collect())
    }
    /// The KPIs agreed, tied to national KPIs.
    async fn kpis(&self) -> Result<Vec<ContractKpiView>> {
        Ok(terms_of(&self.0.terms)?.kpis.into_iter().map(ContractKpiView).collect())
    }
    /// Version of the terms: 1, then one more per agreed amendment.
    async fn terms_version(&self) -> i32 {
        self.0.terms_version
    }
    /// An amendment the insurer proposed, awaiting the provider.
    async fn pending_amendment(&self) -> Result<Option<ContractTerms>> {
        self.0.pending_terms.as_ref().map(terms_of).transpose()
    }
    /// Why the provider sent the last proposal back.
    async fn return_reason(&self) -> Option<&str> {
        self.0.return_reason.as_deref()
    }
    /// Why the provider rejected the last amendment.
    async fn amendment_rejection(&self) -> Option<&str> {
        self.0.amendment_rejection.as_deref()
    }
    /// Why it was terminated.
    async fn termination_reason(&self) -> Option<&str> {
        self.0.termination_reason.as_deref()
    }
    /// When it was first agreed.
    async fn agreed_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.agreed_at
    }
    /// Earlier versions of the terms, replaced by agreed amendments (oldest first).
    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<ContractTermsVersion>> {
        let rows = loaders(ctx)?.history.load_one(self.0.id.clone()).await.map_err(load_err)?.unwrap_or_default();
        Ok(rows.into_iter().map(ContractTermsVersion).collect())
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

/// A superseded version of a contract's terms.
pub struct ContractTermsVersion(pub history::Model);

/// A superseded version of a contract's terms.
#[Object]
impl ContractTermsVersion {
    /// Version of these terms.
    async fn terms_version(&self) -> i32 {
        self.0.terms_version
    }
    /// The terms.
    async fn terms(&self) -> Result<ContractTerms> {
        terms_of(&self.0.terms)
    }
    /// When an amendment replaced them.
    async fn replaced_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.replaced_at
    }
}

/// Spelregels en handvatten: the shared rules for contracting crucial care in a year.
pub struct ContractingGuideline(pub guideline::Model);

/// Spelregels en handvatten: the shared rules for contracting crucial care in a year.
#[Object(tag = "public")]
impl ContractingGuideline {
    /// Id.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// Year.
    async fn year(&self) -> i32 {
        self.0.year
    }
    /// Title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// The rules.
    async fn body(&self) -> &str {
        &self.0.body
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

/// An insurer contracting a care offer this year, for the region subgraph's signal events only
/// (`@inaccessible`, see `Query.signalContractors`).
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
#[graphql(inaccessible)]
pub struct SignalContractor {
    /// The covered care offer.
    pub offer_id: ID,
    /// The insurer of the AGREED contract covering it.
    pub insurer_id: ID,
    /// The provider of that contract (the region subgraph keeps only the offer's own provider).
    pub provider_id: ID,
}
