//! Mutation root: one mutation per W in the access matrix, one module per aggregate. Each checks
//! the caller, validates its input, compares `expectedVersion` (stale → `CONFLICT`) and writes an
//! audit entry in the same transaction as the change ([`ggzhub_kit::write`]).

mod care_use;
mod common;
// Issue 21 item 3 and issue 22 item 4: the closing process, causes, bulk status updates.
mod closing;
mod offers;
mod organisations;
mod overviews;
mod regions;
mod signals;
mod waiting_plan;
mod waiting_times;
// Issue 21 item 3: regional actions.
mod actions;

use async_graphql::MergedObject;

pub use actions::{ActionMutation, CreateRegionalActionInput, UpdateRegionalActionInput};
pub use closing::{ClosingMutation, OfferStatusUpdate, StatusCauseInput};
// Issue 21 item 4: regional care forms and planned offers.
mod care_forms;
mod planned;

pub use care_forms::{AddRegionalCareFormInput, CareFormMutation, UpdateRegionalCareFormInput};
pub use care_use::{CareUseExpectedVersion, CareUseMutation};
pub use offers::{CapacityInput, CreateCareOfferInput, IntakePauseInput, OfferMutation, UpdateCareOfferInput};
pub use organisations::{CreateOrganisationInput, OrganisationMutation, UpdateOrganisationInput};
pub use overviews::{CategoryAssessmentInput, OverviewMutation, UpdateOverviewInput};
pub use planned::{PlanCareOfferInput, PlanningMutation, RealisePlannedOfferInput};
pub use regions::{CreateRegionInput, MapTileInput, RegionMutation, UpdateRegionInput};
pub use signals::{ACKNOWLEDGEMENT_DAYS, RaiseSignalInput, SignalMutation, UpdateSignalInput};
pub use waiting_plan::{IntakeOutlookInput, UniqueWaitingCountInput, WaitingPlanMutation};
pub use waiting_times::{WaitingTimeCorrection, WaitingTimeInput, WaitingTimeMutation};

/// The region subgraph's mutations; each names the version it expects and is audited.
///
/// The parts' order is the order of the fields in the SDL (`schema/region.graphql`): keep it.
#[derive(MergedObject, Default)]
// Not "Mutation": that is the name of the root this is merged into (`super::MutationRoot`).
#[graphql(name = "RegionMutations")]
pub struct Mutation(
    RegionMutation,
    OrganisationMutation,
    OfferMutation,
    WaitingTimeMutation,
    SignalMutation,
    OverviewMutation,
    ClosingMutation,
    ActionMutation,
    CareFormMutation,
    PlanningMutation,
    WaitingPlanMutation,
    CareUseMutation,
);
