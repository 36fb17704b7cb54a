//! Waiting-time reports of the caller's own organisation: report one, report many at once, and
//! correct.
//!
//! `reportWaitingTime` and `reportWaitingTimes` share one path ([`store`]): the same rules in the
//! same order for each report, then one statement per lookup and per insert whatever the number
//! of reports, all in one transaction.

use std::collections::{BTreeSet, HashMap, HashSet};

use async_graphql::{Context, ErrorExtensions as _, ID, InputObject, Object, Result};
use chrono::{SubsecRound as _, Utc};
use ggzhub_kit::error::{ItemRefusal, items_refused};
use ggzhub_kit::validate::{self as v, MAX_NAME};
use ggzhub_kit::write::{audit, audit_many, begin, check_version, lost_race, new_id, update_guarded};
use ggzhub_kit::{ApiError, Caller, GqlResultExt as _, OrgKind};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel as _, QueryFilter, QuerySelect,
};
use serde_json::json;

use super::common::registered;
use crate::access;
use crate::entity::{diagnosis_group, region, waiting_time};
use crate::graphql::types::*;
use crate::history;

/// Most reports one `reportWaitingTimes` call takes.
pub const MAX_REPORTS_PER_CALL: usize = 500;

/// Columns of a waiting-time report: bind parameters per report in the batch's insert.
const REPORT_COLUMNS: usize = 16;

// A full batch's largest statements stay within the bind parameters a statement may have:
// SQLite's 32766 (since 3.32; sqlx bundles 3.51) is the lower limit, PostgreSQL's is 65535.
const SQLITE_MAX_PARAMETERS: usize = 32_766;
const _: () = assert!(MAX_REPORTS_PER_CALL * REPORT_COLUMNS <= SQLITE_MAX_PARAMETERS);
const _: () = assert!(MAX_REPORTS_PER_CALL * history::WAITING_HISTORY_COLUMNS <= SQLITE_MAX_PARAMETERS);
const _: () = assert!(MAX_REPORTS_PER_CALL * ggzhub_kit::audit::COLUMNS <= SQLITE_MAX_PARAMETERS);

/// A waiting-time report.
#[derive(InputObject)]
pub struct WaitingTimeInput {
    /// Reporting provider (must be the caller's organisation).
    pub provider_id: ID,
    /// Region of the location.
    pub region_code: String,
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
    /// People waiting.
    pub waiting_count: i32,
    /// Intakes in the month (people, 0–100000; optional: leave out when not counted).
    pub intakes: Option<i32>,
    /// Treatment starts in the month (people, 0–100000; optional: leave out when not counted).
    pub treatment_starts: Option<i32>,
}

/// Corrected figures of a waiting-time report.
#[derive(InputObject)]
pub struct WaitingTimeCorrection {
    /// Weeks from registration to intake.
    pub registration_to_intake_weeks: f64,
    /// Weeks from intake to treatment.
    pub intake_to_treatment_weeks: f64,
    /// People waiting.
    pub waiting_count: i32,
    /// Intakes in the month (people, 0–100000); left as they are when absent.
    pub intakes: Option<i32>,
    /// Treatment starts in the month (people, 0–100000); left as they are when absent.
    pub treatment_starts: Option<i32>,
}

/// Most intakes or treatment starts one report may give for a month.
pub const MAX_MONTHLY_FLOW: i32 = 100_000;

/// Mutations of waiting-time reports.
#[derive(Default)]
pub struct WaitingTimeMutation;

#[Object]
impl WaitingTimeMutation {
    /// Reports waiting times of the caller's own organisation for one location, diagnosis group
    /// and month. A second report for the same key is a `CONFLICT`: correct the existing one.
    async fn report_waiting_time(&self, ctx: &Context<'_>, input: WaitingTimeInput) -> Result<WaitingTimeReport> {
        let c = caller(ctx)?;
        match store(ctx, c, std::slice::from_ref(&input)).await {
            Ok(stored) => stored
                .into_iter()
                .next()
                .map(WaitingTimeReport::from)
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("one report in, none stored")).extend()),
            Err(Refused::Call(e)) => Err(e.extend()),
            // One report: its refusal is the answer, exactly as it reads in a batch's `items`.
            Err(Refused::Items(items)) => Err(items.into_iter().next().map_or_else(
                || ApiError::internal(anyhow::anyhow!("a refused report without a refusal")).extend(),
                |r| r.error.extend(),
            )),
        }
    }

    /// Reports many waiting times of the caller's own organisation at once (1 to 500 per call),
    /// each checked exactly as `reportWaitingTime` checks one, and no two for the same location,
    /// diagnosis group and month. All or nothing: when any report is refused none is stored, and
    /// the one error lists every refused report in `extensions.items` as `{index, field, code,
    /// reason}` (`index` from 0 in `input`; `field` null when the report as a whole is refused).
    /// Its `extensions.code` is the reports' code when they all share one (`FORBIDDEN`,
    /// `CONFLICT`), `BAD_USER_INPUT` otherwise. Returns the stored reports in the order given.
    async fn report_waiting_times(
        &self,
        ctx: &Context<'_>,
        input: Vec<WaitingTimeInput>,
    ) -> Result<Vec<WaitingTimeReport>> {
        let c = caller(ctx)?;
        access::waiting_time_reporter(c).gql()?;
        if input.is_empty() || input.len() > MAX_REPORTS_PER_CALL {
            return Err(ApiError::bad_input(format!(
                "reportWaitingTimes takes 1 to {MAX_REPORTS_PER_CALL} reports per call, got {}: split larger batches",
                input.len()
            ))
            .extend());
        }
        match store(ctx, c, &input).await {
            Ok(stored) => Ok(stored.into_iter().map(WaitingTimeReport::from).collect()),
            Err(Refused::Call(e)) => Err(e.extend()),
            Err(Refused::Items(items)) => Err(items_refused("waiting-time reports", input.len(), &items)),
        }
    }

    /// Corrects the figures of one of the caller's own waiting-time reports.
    async fn correct_waiting_time(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        input: WaitingTimeCorrection,
    ) -> Result<WaitingTimeReport> {
        let c = caller(ctx)?;
        async {
            let id = v::id("id", &id)?;
            v::weeks("registrationToIntakeWeeks", input.registration_to_intake_weeks)?;
            v::weeks("intakeToTreatmentWeeks", input.intake_to_treatment_weeks)?;
            v::count("waitingCount", Some(input.waiting_count), 1_000_000)?;
            v::count("intakes", input.intakes, MAX_MONTHLY_FLOW)?;
            v::count("treatmentStarts", input.treatment_starts, MAX_MONTHLY_FLOW)?;
            let txn = begin(ctx).await?;
            let current = waiting_time::Entity::find_by_id(id.clone()).one(&txn).await?.ok_or_else(|| ApiError::not_found(format!("no waiting-time report with id {id}")))?;
            access::write_own_waiting_times(c, &current.provider_id)?;
            check_version("waiting-time report", &id, current.version, expected_version)?;
            let active = waiting_time::ActiveModel {
                registration_weeks: Set(input.registration_to_intake_weeks),
                treatment_weeks: Set(input.intake_to_treatment_weeks),
                waiting_count: Set(input.waiting_count),
                intakes: input.intakes.map_or(sea_orm::ActiveValue::NotSet, |n| Set(Some(n))),
                treatment_starts: input.treatment_starts.map_or(sea_orm::ActiveValue::NotSet, |n| Set(Some(n))),
                version: Set(expected_version + 1),
                updated_at: Set(Utc::now()),
                updated_by: Set(c.org.to_string()),
                ..Default::default()
            };
            update_guarded(&txn, active, waiting_time::Column::Id, &id, waiting_time::Column::Version, expected_version).await?;
            audit(&txn, c, "WaitingTimeReport", &id, "correct", json!({"registrationWeeks": input.registration_to_intake_weeks, "treatmentWeeks": input.intake_to_treatment_weeks, "waitingCount": input.waiting_count, "intakes": input.intakes, "treatmentStarts": input.treatment_starts})).await?;
            let model = waiting_time::Entity::find_by_id(id.clone()).one(&txn).await?.ok_or_else(|| ApiError::not_found(id.clone()))?;
            history::waiting_time_reported(&txn, &model).await?;
            txn.commit().await?;
            Ok(WaitingTimeReport::from(model))
        }
        .await
        .gql()
    }
}

/// Why [`store`] stored nothing: the call as a whole, or some of its reports (in index order).
enum Refused {
    Call(ApiError),
    Items(Vec<ItemRefusal>),
}

impl From<ApiError> for Refused {
    fn from(e: ApiError) -> Self {
        Self::Call(e)
    }
}

impl From<sea_orm::DbErr> for Refused {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Call(e.into())
    }
}

/// A report that passed the checks that need no database: its provider id and location as
/// they are stored.
struct Checked {
    provider_id: String,
    location: String,
}

/// A refusal of one report: the input field it is about (`None`: the report as a whole).
type Refusal = (Option<&'static str>, ApiError);

fn at(field: &'static str) -> impl Fn(ApiError) -> Refusal {
    move |e| (Some(field), e)
}

/// The checks of one report that need no database, in `reportWaitingTime`'s order: the provider
/// is the caller's own organisation, then the input's shape, then the caller's seat at the
/// region's table.
fn check(c: &Caller, input: &WaitingTimeInput) -> Result<Checked, Refusal> {
    let provider_id = v::id("providerId", &input.provider_id).map_err(at("providerId"))?;
    access::write_own_waiting_times(c, &provider_id).map_err(at("providerId"))?;
    v::region_code("regionCode", &input.region_code).map_err(at("regionCode"))?;
    let location = v::text("location", &input.location, MAX_NAME).map_err(at("location"))?;
    v::month(&input.month).map_err(at("month"))?;
    v::weeks("registrationToIntakeWeeks", input.registration_to_intake_weeks)
        .map_err(at("registrationToIntakeWeeks"))?;
    v::weeks("intakeToTreatmentWeeks", input.intake_to_treatment_weeks).map_err(at("intakeToTreatmentWeeks"))?;
    v::count("waitingCount", Some(input.waiting_count), 1_000_000).map_err(at("waitingCount"))?;
    v::count("intakes", input.intakes, MAX_MONTHLY_FLOW).map_err(at("intakes"))?;
    v::count("treatmentStarts", input.treatment_starts, MAX_MONTHLY_FLOW).map_err(at("treatmentStarts"))?;
    if !c.is_participant(&input.region_code) {
        return Err((
            Some("regionCode"),
            ApiError::forbidden(format!(
                "a provider reports waiting times only in regions it takes part in, not {}",
                input.region_code
            )),
        ));
    }
    Ok(Checked { provider_id, location })
}

/// What makes a report unique (the `wait_key_uq` index): provider, location, diagnosis group,
/// month.
type Key = (String, String, String, String);

/// A report's key as stored, also for a report refused on its shape (so that a later report
/// with the same key is named a duplicate of it all the same).
fn key(input: &WaitingTimeInput) -> Key {
    (
        v::id("providerId", &input.provider_id).unwrap_or_else(|_| input.provider_id.to_string()),
        input.location.trim().to_owned(),
        input.diagnosis_group.clone(),
        input.month.clone(),
    )
}

/// Checks and stores `inputs` (at least one), all or none, with a history row and an audit entry
/// each, in one transaction. The statements are the same whatever the number of reports: the
/// caller's organisation, the regions, the diagnosis groups and the reports already stored for
/// these keys are one lookup each; the reports, their history rows and their audit entries one
/// insert each.
async fn store(
    ctx: &Context<'_>,
    c: &Caller,
    inputs: &[WaitingTimeInput],
) -> Result<Vec<waiting_time::Model>, Refused> {
    let mut refused: Vec<ItemRefusal> = Vec::new();
    let mut checked: Vec<(usize, Checked)> = Vec::new();
    for (index, input) in inputs.iter().enumerate() {
        match check(c, input) {
            Ok(ok) => checked.push((index, ok)),
            Err((field, error)) => refused.push(ItemRefusal { index, field, error }),
        }
    }
    if checked.is_empty() {
        return Err(Refused::Items(refused));
    }

    let txn = begin(ctx).await?;
    registered(&txn, c, OrgKind::Provider).await?;
    let of_checked = |f: fn(&WaitingTimeInput) -> &str| -> BTreeSet<String> {
        checked.iter().map(|(i, _)| f(&inputs[*i]).to_owned()).collect()
    };
    let regions: HashSet<String> = region::Entity::find()
        .select_only()
        .column(region::Column::Code)
        .filter(region::Column::Code.is_in(of_checked(|i| &i.region_code)))
        .into_tuple()
        .all(&txn)
        .await?
        .into_iter()
        .collect();
    let groups: HashSet<String> = diagnosis_group::Entity::find()
        .select_only()
        .column(diagnosis_group::Column::Code)
        .filter(diagnosis_group::Column::Code.is_in(of_checked(|i| &i.diagnosis_group)))
        .into_tuple()
        .all(&txn)
        .await?
        .into_iter()
        .collect();
    // Every checked report is the caller's own. One query for all keys: the caller's reports at
    // these locations, for these groups, in these months (a superset when the batch spans several
    // months or groups unevenly), matched exactly below. Row values (`(a, b) IN ((…), …)`) would
    // be exact, but SQLite accepts only a subquery on the right of a row-value IN.
    let stored: HashMap<(String, String, String), String> = waiting_time::Entity::find()
        .select_only()
        .columns([
            waiting_time::Column::Location,
            waiting_time::Column::DiagnosisGroup,
            waiting_time::Column::Month,
            waiting_time::Column::Id,
        ])
        .filter(waiting_time::Column::ProviderId.eq(c.org.to_string()))
        .filter(
            waiting_time::Column::Location
                .is_in(checked.iter().map(|(_, ok)| ok.location.clone()).collect::<BTreeSet<_>>()),
        )
        .filter(waiting_time::Column::DiagnosisGroup.is_in(of_checked(|i| &i.diagnosis_group)))
        .filter(waiting_time::Column::Month.is_in(of_checked(|i| &i.month)))
        .into_tuple::<(String, String, String, String)>()
        .all(&txn)
        .await?
        .into_iter()
        .map(|(location, group, month, id)| ((location, group, month), id))
        .collect();
    let mut first_with: HashMap<Key, usize> = HashMap::new();
    let earlier: Vec<Option<usize>> = inputs
        .iter()
        .enumerate()
        .map(|(index, input)| match first_with.entry(key(input)) {
            std::collections::hash_map::Entry::Occupied(first) => Some(*first.get()),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(index);
                None
            }
        })
        .collect();
    for (index, ok) in &checked {
        let input = &inputs[*index];
        let refusal: Option<Refusal> = if !regions.contains(&input.region_code) {
            Some((
                Some("regionCode"),
                ApiError::bad_input(format!("regionCode: unknown region code {}", input.region_code)),
            ))
        } else if !groups.contains(&input.diagnosis_group) {
            Some((
                Some("diagnosisGroup"),
                ApiError::bad_input(format!("unknown diagnosis group {}", v::shown(&input.diagnosis_group))),
            ))
        } else if let Some(id) = stored.get(&(ok.location.clone(), input.diagnosis_group.clone(), input.month.clone()))
        {
            Some((
                None,
                ApiError::conflict(format!(
                    "a report for {}, {}, {} exists ({id}): use correctWaitingTime",
                    v::shown(&ok.location),
                    input.diagnosis_group,
                    input.month
                )),
            ))
        } else {
            earlier[*index].map(|first| {
                (
                    None,
                    ApiError::bad_input(format!(
                        "the same location, diagnosis group and month as item {first}: one report per key and call"
                    )),
                )
            })
        };
        if let Some((field, error)) = refusal {
            refused.push(ItemRefusal { index: *index, field, error });
        }
    }
    if !refused.is_empty() {
        refused.sort_by_key(|r| r.index);
        // Dropping the transaction rolls it back; it wrote nothing.
        return Err(Refused::Items(refused));
    }

    // As the database keeps it (microseconds), so the answer equals what a later read returns.
    let now = Utc::now().trunc_subsecs(6);
    let reports: Vec<waiting_time::Model> = checked
        .into_iter()
        .map(|(index, ok)| {
            let input = &inputs[index];
            waiting_time::Model {
                id: new_id(),
                provider_id: ok.provider_id,
                region_code: input.region_code.clone(),
                location: ok.location,
                diagnosis_group: input.diagnosis_group.clone(),
                month: input.month.clone(),
                registration_weeks: input.registration_to_intake_weeks,
                treatment_weeks: input.intake_to_treatment_weeks,
                waiting_count: input.waiting_count,
                intakes: input.intakes,
                treatment_starts: input.treatment_starts,
                version: 1,
                created_at: now,
                updated_at: now,
                created_by: c.org.to_string(),
                updated_by: c.org.to_string(),
            }
        })
        .collect();
    waiting_time::Entity::insert_many(reports.iter().map(|r| r.clone().into_active_model().reset_all()))
        .exec_without_returning(&txn)
        .await
        .map_err(|e| {
            lost_race(e, || match reports.as_slice() {
                [one] => ApiError::conflict(format!(
                    "a report for {}, {}, {} exists: use correctWaitingTime",
                    v::shown(&one.location),
                    one.diagnosis_group,
                    one.month
                )),
                _ => ApiError::conflict(
                    "another request stored a report for one of these keys meanwhile, so none was stored: \
                     send the call again to learn which",
                ),
            })
        })?;
    history::new_waiting_times_reported(&txn, &reports).await?;
    audit_many(
        &txn,
        c,
        "WaitingTimeReport",
        "create",
        reports.iter().map(|m| {
            (
                m.id.clone(),
                json!({"month": m.month, "diagnosisGroup": m.diagnosis_group, "registrationWeeks": m.registration_weeks, "treatmentWeeks": m.treatment_weeks, "waitingCount": m.waiting_count, "intakes": m.intakes, "treatmentStarts": m.treatment_starts}),
            )
        }),
    )
    .await?;
    txn.commit().await?;
    Ok(reports)
}

#[cfg(test)]
mod tests {
    use sea_orm::Iterable as _;

    use super::*;

    #[test]
    fn the_parameter_counts_match_the_tables() {
        assert_eq!(waiting_time::Column::iter().count(), REPORT_COLUMNS);
        // The history row's own id is generated by the database.
        assert_eq!(history::waiting_history::Column::iter().count() - 1, history::WAITING_HISTORY_COLUMNS);
        assert_eq!(ggzhub_kit::audit::entry::Column::iter().count(), ggzhub_kit::audit::COLUMNS);
    }
}
