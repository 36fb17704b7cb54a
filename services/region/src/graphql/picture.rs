//! The national picture (issue 14) in GraphQL: `Query.nationalPicture` and the resolvers of the
//! aggregate fields on `Region`. Figures come from [`crate::picture`]; access per DOMAIN.md:
//! offer counts, intake pauses and waiting-time figures are public, signal counts go to
//! everyone but the hub operator, capacity totals to those who read capacity detail. An IZA
//! region answers with the care-office regions it overlaps (issue 21 item 6).

use async_graphql::{Context, Object, Result};
use chrono::{DateTime, Utc};
use ggzhub_kit::people::PeopleCount;
use ggzhub_kit::{ApiError, ApiResult, GqlResultExt as _};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use super::types::{Region, SignalCounts, caller, loaders};
use crate::access;
use crate::domain::{CareCategory, RegionKind};
use crate::entity::region;
use crate::picture::{
    self, CapacityTotal, CategoryCount, NATIONAL, OfferCount, OfferTrendPoint, Periods, TrendInterval, TrendKey,
    WaitingKey, WaitingTimeFigure, WaitingTimeTrendPoint,
};

fn db<'a>(ctx: &'a Context<'_>) -> Result<&'a DatabaseConnection> {
    ctx.data::<DatabaseConnection>()
}

fn month(field: &str, value: &str) -> ApiResult<i32> {
    ggzhub_kit::validate::month(value).map_err(|_| {
        ApiError::bad_input(format!("{field} must look like 2026-09, got {}", ggzhub_kit::validate::shown(value)))
    })?;
    picture::month_index(value).ok_or_else(|| ApiError::bad_input(format!("{field} is not a month")))
}

/// Validated trend periods.
pub(crate) fn periods(from: &str, to: &str, interval: TrendInterval) -> ApiResult<Periods> {
    let (f, t) = (month("from", from)?, month("to", to)?);
    if t < f {
        return Err(ApiError::bad_input(format!("to ({to}) is before from ({from})")));
    }
    if t - f >= picture::MAX_TREND_MONTHS {
        return Err(ApiError::bad_input(format!("a trend spans at most {} months", picture::MAX_TREND_MONTHS)));
    }
    Ok(Periods::new(f, t, interval))
}

fn region_filter(region: Option<&str>) -> ApiResult<()> {
    match region {
        Some(r) => ggzhub_kit::validate::region_code("region", r),
        None => Ok(()),
    }
}

fn internal(e: sea_orm::DbErr) -> async_graphql::Error {
    use async_graphql::ErrorExtensions as _;
    ApiError::from(e).extend()
}

fn national<T>(mut found: std::collections::HashMap<String, Vec<T>>) -> Vec<T> {
    found.remove(NATIONAL).unwrap_or_default()
}

/// The picture of crucial care in the whole country: counts of offers, capacity, intake
/// pauses, continuity signals and waiting times, and their history, computed in the database
/// when asked. Counts of offers and reports, never of people.
pub struct NationalPicture {
    /// When the picture was asked for.
    pub as_of: DateTime<Utc>,
}

/// The picture of crucial care in the whole country (landelijk beeld).
#[Object]
impl NationalPicture {
    /// When this picture was computed.
    #[graphql(tag = "public")]
    async fn as_of(&self) -> DateTime<Utc> {
        self.as_of
    }

    /// Care offers in the whole country per category and status (only combinations with
    /// offers).
    #[graphql(tag = "public")]
    async fn offer_counts(&self, ctx: &Context<'_>) -> Result<Vec<OfferCount>> {
        access::read(caller(ctx)?).gql()?;
        Ok(national(picture::offer_counts(db(ctx)?, None).await.map_err(internal)?))
    }

    /// Capacity of offers that are not closed, per category (national table only: capacity is
    /// offer detail; others get `null` with `FORBIDDEN` and read `Region.capacity` of their
    /// regions).
    async fn capacity(&self, ctx: &Context<'_>) -> Result<Option<Vec<CapacityTotal>>> {
        access::national_capacity(caller(ctx)?).gql()?;
        Ok(Some(national(picture::capacity(db(ctx)?, None).await.map_err(internal)?)))
    }

    /// Offers (not closed) with an intake pause (aanmeldpauze) active today, per category.
    #[graphql(tag = "public")]
    async fn active_intake_pauses(&self, ctx: &Context<'_>) -> Result<Vec<CategoryCount>> {
        access::read(caller(ctx)?).gql()?;
        let today = ggzhub_kit::calendar::today();
        Ok(national(picture::active_intake_pauses(db(ctx)?, None, today).await.map_err(internal)?))
    }

    /// Continuity signals in the whole country, counted per status (counts for everyone but the
    /// hub operator, who gets `null` with `FORBIDDEN`).
    #[graphql(tag = "public")]
    async fn signal_counts(&self, ctx: &Context<'_>) -> Result<Option<SignalCounts>> {
        access::read_signal_counts(caller(ctx)?).gql()?;
        let mut found = picture::signal_counts(db(ctx)?, None).await.map_err(internal)?;
        Ok(Some(SignalCounts::from(found.remove(NATIONAL).unwrap_or_default())))
    }

    /// Waiting times in the whole country per diagnosis group for `month` (`YYYY-MM`; default
    /// the latest month with reports), against the Treeknorm. Public by law; `null` with
    /// `FORBIDDEN` for the hub operator.
    #[graphql(tag = "public")]
    async fn waiting_times(&self, ctx: &Context<'_>, month: Option<String>) -> Result<Option<Vec<WaitingTimeFigure>>> {
        access::read_waiting_times(caller(ctx)?).gql()?;
        if let Some(m) = &month {
            ggzhub_kit::validate::month(m).gql()?;
        }
        Ok(Some(national(picture::waiting_figures(db(ctx)?, None, month.as_deref()).await.map_err(internal)?)))
    }

    /// Every region (optionally of one kind), ordered by code: ask the regions' own figures
    /// here, so that every subgraph resolves them in one batch. IZA regions answer with the
    /// care-office regions they overlap, so the two kinds cover the same offers: add figures up
    /// over one kind only (`kind: CARE_OFFICE` for national totals), never over both.
    #[graphql(tag = "public")]
    async fn regions(&self, ctx: &Context<'_>, kind: Option<RegionKind>) -> Result<Vec<Region>> {
        access::read(caller(ctx)?).gql()?;
        let mut q = region::Entity::find().order_by_asc(region::Column::Code);
        if let Some(k) = kind {
            q = q.filter(region::Column::Kind.eq(k.as_str()));
        }
        Ok(q.all(db(ctx)?).await.map_err(internal)?.into_iter().map(|m| Region(m.into())).collect())
    }

    /// Care offers per status at the end of each period from `from` to `to` (months
    /// `YYYY-MM`, at most 240 months apart), from the offers' history: nationally, or in one
    /// region (an IZA region: with the care-office regions it overlaps), or of one category.
    #[graphql(tag = "public")]
    async fn offer_trend(
        &self,
        ctx: &Context<'_>,
        from: String,
        to: String,
        #[graphql(default_with = "TrendInterval::Month")] interval: TrendInterval,
        category: Option<CareCategory>,
        region: Option<String>,
    ) -> Result<Vec<OfferTrendPoint>> {
        access::read(caller(ctx)?).gql()?;
        let periods = periods(&from, &to, interval).gql()?;
        region_filter(region.as_deref()).gql()?;
        let regions = region.map(|r| vec![r]);
        let found = picture::offer_trend(db(ctx)?, regions.as_deref(), periods, category).await.map_err(internal)?;
        Ok(found.into_values().next().unwrap_or_default())
    }

    /// Waiting times per period from `from` to `to` over all reports (of one region and/or
    /// diagnosis group if given; an IZA region with the care-office regions it overlaps);
    /// periods without reports are left out. `null` with
    /// `FORBIDDEN` for the hub operator.
    #[graphql(tag = "public")]
    async fn waiting_time_trend(
        &self,
        ctx: &Context<'_>,
        from: String,
        to: String,
        #[graphql(default_with = "TrendInterval::Month")] interval: TrendInterval,
        region: Option<String>,
        diagnosis_group: Option<String>,
    ) -> Result<Option<Vec<WaitingTimeTrendPoint>>> {
        access::read_waiting_times(caller(ctx)?).gql()?;
        let periods = periods(&from, &to, interval).gql()?;
        region_filter(region.as_deref()).gql()?;
        if let Some(g) = &diagnosis_group {
            ggzhub_kit::validate::text("diagnosisGroup", g, 64).gql()?;
        }
        let found = picture::waiting_trend(db(ctx)?, region.as_deref(), diagnosis_group.as_deref(), periods)
            .await
            .map_err(internal)?;
        Ok(Some(found))
    }
}

/// An intake or treatment-start sum of waiting-time figures as the caller may see it.
fn flow_shown(ctx: &Context<'_>, sum: Option<&picture::PeopleSum>) -> Result<Option<PeopleCount>> {
    let org = caller(ctx)?.org.to_string();
    Ok(sum.map(|s| s.shown(&org)))
}

#[async_graphql::ComplexObject]
impl WaitingTimeFigure {
    /// Aanmeldingen in zorg genomen: intakes in the month, summed over the reports of the group
    /// that gave them (a report's `intakes`); `null` when no report gave them (not 0). A sum of
    /// counts of people: exact only when every report in it has 0 or 10 or more intakes or was
    /// supplied by the caller; otherwise suppressed, whatever its size (`exact` and `fewerThan`
    /// `null`, label "suppressed (includes counts below 10)").
    async fn intakes(&self, ctx: &Context<'_>) -> Result<Option<PeopleCount>> {
        flow_shown(ctx, self.intakes.as_ref())
    }

    /// Starts of treatment in the month, summed over the reports of the group that gave them (a
    /// report's `treatmentStarts`); `null` when no report gave them (not 0). Shown by the same
    /// rule as `intakes`.
    async fn treatment_starts(&self, ctx: &Context<'_>) -> Result<Option<PeopleCount>> {
        flow_shown(ctx, self.treatment_starts.as_ref())
    }
}

#[async_graphql::ComplexObject]
impl WaitingTimeTrendPoint {
    /// Intakes in the period's months, summed over the reports that gave them (intakes are a
    /// monthly flow, so months add up); `null` when no report in the period gave them (not 0). A
    /// sum of counts of people: exact only when every report in it has 0 or 10 or more intakes or
    /// was supplied by the caller; otherwise suppressed, whatever its size (`exact` and `fewerThan`
    /// `null`, label "suppressed (includes counts below 10)").
    async fn intakes(&self, ctx: &Context<'_>) -> Result<Option<PeopleCount>> {
        flow_shown(ctx, self.intakes.as_ref())
    }

    /// Starts of treatment in the period's months, summed over the reports that gave them;
    /// `null` when no report in the period gave them (not 0). Shown by the same rule as
    /// `intakes`.
    async fn treatment_starts(&self, ctx: &Context<'_>) -> Result<Option<PeopleCount>> {
        flow_shown(ctx, self.treatment_starts.as_ref())
    }
}

/// `Query.nationalPicture`.
pub(crate) fn national_picture(ctx: &Context<'_>) -> Result<NationalPicture> {
    access::read(caller(ctx)?).gql()?;
    Ok(NationalPicture { as_of: Utc::now() })
}

fn load<T>(r: std::result::Result<Option<T>, crate::loader::LoadError>) -> Result<Option<T>> {
    use async_graphql::ErrorExtensions as _;
    r.map_err(|e| picture::load_error(e).extend())
}

/// `Region.offerCounts`.
pub(crate) async fn region_offer_counts(ctx: &Context<'_>, code: &str) -> Result<Vec<OfferCount>> {
    access::read(caller(ctx)?).gql()?;
    Ok(load(loaders(ctx)?.picture.offer_counts.load_one(code.to_owned()).await)?.unwrap_or_default())
}

/// `Region.capacity`; `overlapped`: the care-office regions an IZA region answers for.
pub(crate) async fn region_capacity(
    ctx: &Context<'_>,
    code: &str,
    overlapped: &[String],
) -> Result<Option<Vec<CapacityTotal>>> {
    access::region_capacity(caller(ctx)?, code, overlapped).gql()?;
    Ok(Some(load(loaders(ctx)?.picture.capacity.load_one(code.to_owned()).await)?.unwrap_or_default()))
}

/// `Region.activeIntakePauses`.
pub(crate) async fn region_intake_pauses(ctx: &Context<'_>, code: &str) -> Result<Vec<CategoryCount>> {
    access::read(caller(ctx)?).gql()?;
    Ok(load(loaders(ctx)?.picture.intake_pauses.load_one(code.to_owned()).await)?.unwrap_or_default())
}

/// `Region.waitingTimeFigures`.
pub(crate) async fn region_waiting(
    ctx: &Context<'_>,
    code: &str,
    month: Option<String>,
) -> Result<Option<Vec<WaitingTimeFigure>>> {
    access::read_waiting_times(caller(ctx)?).gql()?;
    if let Some(m) = &month {
        ggzhub_kit::validate::month(m).gql()?;
    }
    let key = WaitingKey { region: code.to_owned(), month };
    Ok(Some(load(loaders(ctx)?.picture.waiting.load_one(key).await)?.unwrap_or_default()))
}

/// `Region.offerTrend`.
pub(crate) async fn region_offer_trend(
    ctx: &Context<'_>,
    code: &str,
    from: &str,
    to: &str,
    interval: TrendInterval,
    category: Option<CareCategory>,
) -> Result<Vec<OfferTrendPoint>> {
    access::read(caller(ctx)?).gql()?;
    let periods = periods(from, to, interval).gql()?;
    let key = TrendKey { region: code.to_owned(), periods, category };
    Ok(load(loaders(ctx)?.picture.trends.load_one(key).await)?.unwrap_or_default())
}
