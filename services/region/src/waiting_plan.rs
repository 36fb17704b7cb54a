//! Waiting times as the Actieplan Wachttijden asks (issue 21 item 2): the hub's proposal of a
//! region's transfer lead, the quarterly hotspot report, and the per-request loaders of the
//! supplied unique counts, confirmed leads and intake outlooks. Every list and aggregate here is
//! loaded with a constant number of statements for all regions or offers of a request; the
//! figures are computed from the loaded report rows in plain functions (tested alone), because
//! what a caller sees of a count of people depends on who supplied it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use ggzhub_kit::batch::Batches;
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use ggzhub_kit::people::{PeopleCount, is_small_cell};

use crate::domain::{TREEKNORM_INTAKE_WEEKS, TREEKNORM_TOTAL_WEEKS, TREEKNORM_TREATMENT_WEEKS};
use crate::entity::{intake_outlook, region_waiting_count, transfer_lead, waiting_time};

/// Errors from loaders (shared between the fields that waited on one batch).
pub type LoadError = Arc<DbErr>;

/// Whether a wait exceeds any Treeknorm limit: 4 weeks to intake, 10 from intake to treatment,
/// 14 in total (the same rule as `WaitingTimeReport.exceedsTreeknorm`).
pub fn over_treeknorm(registration_weeks: f64, treatment_weeks: f64) -> bool {
    registration_weeks > TREEKNORM_INTAKE_WEEKS
        || treatment_weeks > TREEKNORM_TREATMENT_WEEKS
        || registration_weeks + treatment_weeks > TREEKNORM_TOTAL_WEEKS
}

/// The columns of a waiting-time report the proposal and the hotspot report use.
#[derive(Debug, Clone, PartialEq, sea_orm::FromQueryResult)]
pub struct ReportRow {
    /// Region.
    pub region_code: String,
    /// Reporting provider.
    pub provider_id: String,
    /// Location (town).
    pub location: String,
    /// Diagnosis group code.
    pub diagnosis_group: String,
    /// Month, `YYYY-MM`.
    pub month: String,
    /// Weeks from registration to intake.
    pub registration_weeks: f64,
    /// Weeks from intake to treatment.
    pub treatment_weeks: f64,
    /// People waiting.
    pub waiting_count: i32,
}

impl ReportRow {
    /// Registration to treatment, in weeks.
    pub fn total_weeks(&self) -> f64 {
        self.registration_weeks + self.treatment_weeks
    }

    /// Whether the report exceeds a Treeknorm limit.
    pub fn over(&self) -> bool {
        over_treeknorm(self.registration_weeks, self.treatment_weeks)
    }
}

fn report_rows() -> sea_orm::Select<waiting_time::Entity> {
    use waiting_time::Column as W;
    waiting_time::Entity::find().select_only().columns([
        W::RegionCode,
        W::ProviderId,
        W::Location,
        W::DiagnosisGroup,
        W::Month,
        W::RegistrationWeeks,
        W::TreatmentWeeks,
        W::WaitingCount,
    ])
}

/// A quarter, `YYYY-Qn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Quarter {
    /// Year.
    pub year: i32,
    /// 1 to 4.
    pub number: u32,
}

impl Quarter {
    /// Parses `YYYY-Qn` (2000–2100, n from 1 to 4).
    pub fn parse(text: &str) -> Option<Self> {
        let (year, q) = text.split_once("-Q")?;
        let year: i32 = year.parse().ok().filter(|y| (2000..=2100).contains(y) && year.len() == 4)?;
        let number: u32 = q.parse().ok().filter(|n| (1..=4).contains(n) && q.len() == 1)?;
        Some(Self { year, number })
    }

    /// Its three months, `YYYY-MM`.
    pub fn months(self) -> [String; 3] {
        let first = (self.number - 1) * 3 + 1;
        [0, 1, 2].map(|i| format!("{}-{:02}", self.year, first + i))
    }
}

impl std::fmt::Display for Quarter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-Q{}", self.year, self.number)
    }
}

/// The label of a sum of people that includes a small cell (1 to 9) supplied by someone else.
pub const SUPPRESSED_LABEL: &str = "suppressed (includes counts below 10)";

/// A sum of counts of people as shown to a caller. A small cell (1 to 9) would leak by
/// subtraction from an exact sum (an excess of 16 = 12 + 4 reveals the 4), so the sum is shown
/// exactly only when every cell in it is 0, 10 or more, or supplied by the caller:
/// `foreign_small_cell` says whether one is not. Then the sum is suppressed whatever its size:
/// `exact` and `fewerThan` `null`, label [`SUPPRESSED_LABEL`]. Not "fewer than 10" for a small
/// total: a provider that adds its own count to the same sum could move that label's threshold
/// and read another's small cell off it by trying.
pub fn sum_shown(total: i32, foreign_small_cell: bool) -> PeopleCount {
    if foreign_small_cell {
        PeopleCount { exact: None, fewer_than: None, label: SUPPRESSED_LABEL.to_owned() }
    } else {
        PeopleCount::shown(total, true)
    }
}

/// The hub's proposal of a region's transfer lead, as numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    /// The proposed provider.
    pub provider_id: String,
    /// The month it is computed over (the region's latest month with reports).
    pub month: String,
    /// People waiting at the provider's reports over the Treeknorm in that month.
    pub excess: i32,
    /// The provider's reports over the Treeknorm in that month.
    pub reports_over_norm: i32,
    /// Whether a report in `excess` has from 1 to 9 people waiting (a small cell of the
    /// provider's: the excess is then shown exactly only to the provider).
    pub small_cells: bool,
}

/// The proposal from the reports of one region's latest month: per provider, the people waiting
/// at its reports (locations × diagnosis groups) that exceed a Treeknorm limit; the largest sum
/// wins, a tie goes to the provider with more reports over the norm, then to the smallest
/// provider id. `None` when no report of that month exceeds the norm.
pub fn propose(latest_month_rows: &[ReportRow]) -> Option<Proposal> {
    let month = latest_month_rows.iter().map(|r| r.month.as_str()).max()?;
    let mut per_provider: BTreeMap<&str, (i64, i32)> = BTreeMap::new();
    let mut small: BTreeSet<&str> = BTreeSet::new();
    for r in latest_month_rows.iter().filter(|r| r.month == month && r.over()) {
        let e = per_provider.entry(&r.provider_id).or_default();
        e.0 += i64::from(r.waiting_count);
        e.1 += 1;
        if is_small_cell(r.waiting_count) {
            small.insert(&r.provider_id);
        }
    }
    // BTreeMap iterates by provider id: `max_by` keeps the last of equals, so compare the id
    // reversed to keep the smallest.
    let (provider, (excess, reports)) = per_provider
        .into_iter()
        .max_by(|a, b| (a.1.0, a.1.1, std::cmp::Reverse(a.0)).cmp(&(b.1.0, b.1.1, std::cmp::Reverse(b.0))))?;
    Some(Proposal {
        provider_id: provider.to_owned(),
        month: month.to_owned(),
        excess: i32::try_from(excess).unwrap_or(i32::MAX),
        reports_over_norm: reports,
        small_cells: small.contains(provider),
    })
}

/// One diagnosis group's or provider location's share of a quarter's excess.
#[derive(Debug, Clone, PartialEq)]
pub struct HotspotLine {
    /// Diagnosis group code (groups), or the provider id (locations).
    pub key: String,
    /// The location (locations only).
    pub location: Option<String>,
    /// Months of the quarter in which at least one report exceeded the Treeknorm.
    pub months_over_norm: i32,
    /// Reports over the Treeknorm in the quarter.
    pub reports_over_norm: i32,
    /// The largest number of people waiting at reports over the Treeknorm in one month of the
    /// quarter (people are not summed over months: the same person waits in several).
    pub peak_people_over_norm: i32,
    /// Providers that supplied a small cell (1 to 9 people) to `peak_people_over_norm`'s month:
    /// the peak is shown exactly only to a caller that is the only one of them (or when none).
    pub peak_small_suppliers: BTreeSet<String>,
    /// The longest total wait (registration to treatment) in weeks in the quarter.
    pub worst_total_weeks: f64,
}

/// A quarter's hotspots in one region, most exceeded first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Hotspots {
    /// Per diagnosis group with a report over the norm.
    pub groups: Vec<HotspotLine>,
    /// Per provider location with a report over the norm.
    pub locations: Vec<HotspotLine>,
    /// The reports with the longest total waits over the norm (at most [`WORST_WAITS`]).
    pub worst: Vec<ReportRow>,
    /// Reports in the quarter (over the norm or not).
    pub reports: i32,
}

/// How many of the worst waits a hotspot report lists.
pub const WORST_WAITS: usize = 5;

/// The hotspot report of one region's reports of one quarter (only rows of the quarter given).
pub fn hotspots(rows: &[ReportRow]) -> Hotspots {
    let over: Vec<&ReportRow> = rows.iter().filter(|r| r.over()).collect();
    let line = |key: String, location: Option<String>, of: &[&ReportRow]| {
        let mut per_month: BTreeMap<&str, (i32, BTreeSet<String>)> = BTreeMap::new();
        for r in of {
            let e = per_month.entry(&r.month).or_default();
            e.0 = e.0.saturating_add(r.waiting_count);
            if is_small_cell(r.waiting_count) {
                e.1.insert(r.provider_id.clone());
            }
        }
        // The peak month; of equal peaks the earliest.
        let (peak, suppliers) = per_month
            .values()
            .fold((0, BTreeSet::new()), |best, m| if m.0 > best.0 { (m.0, m.1.clone()) } else { best });
        HotspotLine {
            key,
            location,
            months_over_norm: i32::try_from(per_month.len()).unwrap_or(i32::MAX),
            reports_over_norm: i32::try_from(of.len()).unwrap_or(i32::MAX),
            peak_people_over_norm: peak,
            peak_small_suppliers: suppliers,
            worst_total_weeks: of.iter().map(|r| r.total_weeks()).fold(0.0, f64::max),
        }
    };
    let mut by_group: BTreeMap<&str, Vec<&ReportRow>> = BTreeMap::new();
    let mut by_location: BTreeMap<(&str, &str), Vec<&ReportRow>> = BTreeMap::new();
    for r in &over {
        by_group.entry(&r.diagnosis_group).or_default().push(r);
        by_location.entry((&r.provider_id, &r.location)).or_default().push(r);
    }
    let most_first = |a: &HotspotLine, b: &HotspotLine| {
        b.months_over_norm
            .cmp(&a.months_over_norm)
            .then(b.peak_people_over_norm.cmp(&a.peak_people_over_norm))
            .then(b.worst_total_weeks.total_cmp(&a.worst_total_weeks))
            .then(a.key.cmp(&b.key))
            .then(a.location.cmp(&b.location))
    };
    let mut groups: Vec<HotspotLine> = by_group.into_iter().map(|(g, of)| line(g.to_owned(), None, &of)).collect();
    groups.sort_by(most_first);
    let mut locations: Vec<HotspotLine> =
        by_location.into_iter().map(|((p, l), of)| line(p.to_owned(), Some(l.to_owned()), &of)).collect();
    locations.sort_by(most_first);
    let mut worst: Vec<ReportRow> = over.into_iter().cloned().collect();
    worst.sort_by(|a, b| {
        b.total_weeks()
            .total_cmp(&a.total_weeks())
            .then(a.month.cmp(&b.month))
            .then(a.provider_id.cmp(&b.provider_id))
            .then(a.location.cmp(&b.location))
            .then(a.diagnosis_group.cmp(&b.diagnosis_group))
    });
    worst.truncate(WORST_WAITS);
    Hotspots { groups, locations, worst, reports: i32::try_from(rows.len()).unwrap_or(i32::MAX) }
}

/// The report rows of each region's latest month with reports: two statements for all regions
/// (the latest months, then their rows).
pub struct LatestMonthRows {
    db: DatabaseConnection,
}

impl Loader<String> for LatestMonthRows {
    type Value = Vec<ReportRow>;
    type Error = LoadError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        use waiting_time::Column as W;
        let latest: HashMap<String, String> = waiting_time::Entity::find()
            .select_only()
            .column(W::RegionCode)
            .column_as(W::Month.max(), "month")
            .filter(W::RegionCode.is_in(keys.iter().cloned()))
            .group_by(W::RegionCode)
            .into_tuple::<(String, String)>()
            .all(&self.db)
            .await?
            .into_iter()
            .collect();
        let mut out: HashMap<String, Vec<ReportRow>> = keys.iter().map(|k| (k.clone(), Vec::new())).collect();
        if latest.is_empty() {
            return Ok(out);
        }
        // Rows of any region's latest month (a superset when regions' latest months differ),
        // matched exactly below.
        let months: BTreeSet<String> = latest.values().cloned().collect();
        let rows = report_rows()
            .filter(W::RegionCode.is_in(latest.keys().cloned()))
            .filter(W::Month.is_in(months))
            .into_model::<ReportRow>()
            .all(&self.db)
            .await?;
        for r in rows {
            if latest.get(&r.region_code) == Some(&r.month)
                && let Some(list) = out.get_mut(&r.region_code)
            {
                list.push(r);
            }
        }
        Ok(out)
    }
}

/// Loads the report rows of (region, quarter) keys: one statement for the regions' overlaps and
/// one per quarter asked for. An IZA region gets the rows of the care-office regions it overlaps
/// too, each row once.
pub struct QuarterRows {
    db: DatabaseConnection,
}

impl Loader<(String, Quarter)> for QuarterRows {
    type Value = Vec<ReportRow>;
    type Error = LoadError;

    async fn load(&self, keys: &[(String, Quarter)]) -> Result<HashMap<(String, Quarter), Self::Value>, Self::Error> {
        use waiting_time::Column as W;
        let overlaps = crate::care_use::loader::overlapped(&self.db, keys.iter().map(|(r, _)| r.clone())).await?;
        let mut by_quarter: HashMap<Quarter, BTreeSet<String>> = HashMap::new();
        for (region, quarter) in keys {
            by_quarter.entry(*quarter).or_default().extend(crate::care_use::loader::answering(&overlaps, region));
        }
        let mut out: HashMap<(String, Quarter), Vec<ReportRow>> =
            keys.iter().map(|k| (k.clone(), Vec::new())).collect();
        for (quarter, regions) in by_quarter {
            let rows = report_rows()
                .filter(W::RegionCode.is_in(regions))
                .filter(W::Month.is_in(quarter.months()))
                .order_by_asc(W::Id)
                .into_model::<ReportRow>()
                .all(&self.db)
                .await?;
            for (region, q) in keys.iter().filter(|(_, q)| *q == quarter) {
                let codes = crate::care_use::loader::answering(&overlaps, region);
                let mine = rows.iter().filter(|r| codes.contains(&r.region_code)).cloned();
                out.entry((region.clone(), *q)).or_default().extend(mine);
            }
        }
        Ok(out)
    }
}

/// Loads the supplied unique count of (region, month) keys, a month of `None` meaning the
/// region's latest month: one statement for all keys, matching only the rows asked for (the
/// months named, and each region's latest through a grouped subquery).
pub struct UniqueCounts {
    db: DatabaseConnection,
}

impl Loader<(String, Option<String>)> for UniqueCounts {
    type Value = region_waiting_count::Model;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[(String, Option<String>)],
    ) -> Result<HashMap<(String, Option<String>), Self::Value>, Self::Error> {
        use region_waiting_count::Column as C;
        use sea_orm::sea_query::{Expr, ExprTrait as _, Query};
        let mut wanted = Condition::any();
        let mut by_month: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        let mut latest: BTreeSet<&str> = BTreeSet::new();
        for (region, month) in keys {
            match month {
                Some(m) => {
                    by_month.entry(m).or_default().insert(region);
                }
                None => {
                    latest.insert(region);
                }
            }
        }
        for (month, regions) in &by_month {
            wanted = wanted.add(C::Month.eq(*month).and(C::RegionCode.is_in(regions.iter().copied())));
        }
        if !latest.is_empty() {
            let latest_months = Query::select()
                .column(C::RegionCode)
                .expr(Expr::col(C::Month).max())
                .from(region_waiting_count::Entity)
                .and_where(C::RegionCode.is_in(latest.iter().copied()))
                .group_by_col(C::RegionCode)
                .to_owned();
            wanted =
                wanted.add(Expr::tuple([Expr::col(C::RegionCode), Expr::col(C::Month)]).in_subquery(latest_months));
        }
        let rows = region_waiting_count::Entity::find().filter(wanted).all(&self.db).await?;
        let mut out = HashMap::new();
        for r in rows {
            let named = (r.region_code.clone(), Some(r.month.clone()));
            if keys.contains(&named) {
                out.insert(named, r.clone());
            }
            if latest.contains(r.region_code.as_str()) {
                // Only the latest month's row of such a region matched the subquery, unless the
                // same region was also asked for an older month by name.
                let key = (r.region_code.clone(), None);
                let newer = out.get(&key).is_some_and(|o: &region_waiting_count::Model| o.month > r.month);
                if !newer {
                    out.insert(key, r);
                }
            }
        }
        Ok(out)
    }
}

/// Loads the confirmed transfer leads of regions (one statement).
pub struct ConfirmedLeads {
    db: DatabaseConnection,
}

impl Loader<String> for ConfirmedLeads {
    type Value = transfer_lead::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let rows = transfer_lead::Entity::find()
            .filter(transfer_lead::Column::RegionCode.is_in(keys.iter().cloned()))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|m| (m.region_code.clone(), m)).collect())
    }
}

/// Loads the intake outlooks of offers (one statement).
pub struct Outlooks {
    db: DatabaseConnection,
}

impl Loader<String> for Outlooks {
    type Value = intake_outlook::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let rows = intake_outlook::Entity::find()
            .filter(intake_outlook::Column::OfferId.is_in(keys.iter().cloned()))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|m| (m.offer_id.clone(), m)).collect())
    }
}

/// The Actieplan loaders of one request.
pub struct WaitingPlanLoaders {
    /// Report rows of each region's latest month (transfer-lead proposals).
    pub latest_rows: DataLoader<LatestMonthRows>,
    /// Report rows per (region, quarter) (hotspot reports).
    pub quarter_rows: DataLoader<QuarterRows>,
    /// Supplied unique count per (region, month; `None`: the latest).
    pub unique_counts: DataLoader<UniqueCounts>,
    /// Confirmed transfer leads per region.
    pub confirmed_leads: DataLoader<ConfirmedLeads>,
    /// Intake outlooks per offer.
    pub outlooks: DataLoader<Outlooks>,
}

impl WaitingPlanLoaders {
    /// Fresh loaders for one request.
    pub fn new(db: &DatabaseConnection, batches: &Batches) -> Self {
        Self {
            latest_rows: batches.loader(LatestMonthRows { db: db.clone() }),
            quarter_rows: batches.loader(QuarterRows { db: db.clone() }),
            unique_counts: batches.loader(UniqueCounts { db: db.clone() }),
            confirmed_leads: batches.loader(ConfirmedLeads { db: db.clone() }),
            outlooks: batches.loader(Outlooks { db: db.clone() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(provider: &str, location: &str, group: &str, month: &str, reg: f64, treat: f64, n: i32) -> ReportRow {
        ReportRow {
            region_code: "utrecht".into(),
            provider_id: provider.into(),
            location: location.into(),
            diagnosis_group: group.into(),
            month: month.into(),
            registration_weeks: reg,
            treatment_weeks: treat,
            waiting_count: n,
        }
    }

    #[test]
    fn a_sum_with_someone_elses_small_cell_is_not_shown_exactly() {
        // 12 + 4 = 16 would reveal the 4 to anyone who knows the 12.
        let suppressed = sum_shown(16, true);
        assert_eq!(suppressed, PeopleCount { exact: None, fewer_than: None, label: SUPPRESSED_LABEL.into() });
        assert_eq!(sum_shown(16, false).exact, Some(16));
        assert_eq!(sum_shown(7, true), suppressed, "a small total with a foreign small cell is suppressed too");
        assert_eq!(sum_shown(0, false).exact, Some(0));
    }

    #[test]
    fn quarters_parse_strictly() {
        assert_eq!(
            Quarter::parse("2026-Q3").map(Quarter::months),
            Some(["2026-07".into(), "2026-08".into(), "2026-09".into()])
        );
        for bad in ["2026-Q5", "2026-Q0", "2026Q1", "26-Q1", "2026-Q1x", "1999-Q1", ""] {
            assert_eq!(Quarter::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_proposal_is_the_largest_excess_in_the_latest_month_with_ties_to_the_smallest_id() {
        let rows = [
            row("b", "Zeist", "ADHD", "2026-02", 6.0, 9.0, 30),
            row("a", "Utrecht", "ADHD", "2026-02", 5.0, 2.0, 20),
            row("a", "Utrecht", "ANXIETY", "2026-02", 1.0, 11.0, 10),
            row("c", "Utrecht", "ANXIETY", "2026-02", 1.0, 1.0, 500),
            row("c", "Utrecht", "ANXIETY", "2026-01", 9.0, 9.0, 900),
        ];
        let p = propose(&rows).expect("a proposal");
        assert_eq!((p.provider_id.as_str(), p.excess, p.reports_over_norm), ("a", 30, 2));
        assert_eq!(p.month, "2026-02");
        // a and b tie on people; a has two reports over the norm.
        let tie =
            [row("b", "Zeist", "ADHD", "2026-02", 6.0, 9.0, 30), row("a", "Utrecht", "ADHD", "2026-02", 6.0, 9.0, 30)];
        assert_eq!(propose(&tie).expect("proposal").provider_id, "a");
        assert_eq!(propose(&[row("a", "Utrecht", "ADHD", "2026-02", 1.0, 1.0, 30)]), None);
    }

    #[test]
    fn hotspots_rank_by_months_over_the_norm_then_peak_people() {
        let rows = [
            row("a", "Utrecht", "ADHD", "2026-01", 6.0, 9.0, 30),
            row("a", "Utrecht", "ADHD", "2026-02", 6.0, 9.0, 40),
            row("b", "Zeist", "ANXIETY", "2026-01", 6.0, 12.0, 100),
            row("b", "Zeist", "ADHD", "2026-02", 6.0, 9.0, 5),
            row("b", "Zeist", "DEPRESSION", "2026-02", 1.0, 1.0, 500),
        ];
        let h = hotspots(&rows);
        assert_eq!(h.reports, 5);
        let groups: Vec<(&str, i32, i32)> =
            h.groups.iter().map(|g| (g.key.as_str(), g.months_over_norm, g.peak_people_over_norm)).collect();
        assert_eq!(groups, [("ADHD", 2, 45), ("ANXIETY", 1, 100)]);
        // ADHD's peak month 2026-02: a's 40 and b's 5, a small cell of b's.
        assert_eq!(h.groups[0].peak_small_suppliers.iter().collect::<Vec<_>>(), ["b"]);
        assert!(h.locations.iter().all(|l| l.key != "a" || l.peak_small_suppliers.is_empty()));
        assert_eq!((h.locations[0].key.as_str(), h.locations[0].peak_people_over_norm), ("b", 100));
        assert_eq!(h.worst[0].total_weeks(), 18.0);
        assert_eq!(h.worst.len(), 4);
    }
    fn caller(kind: ggzhub_kit::OrgKind, org: u128, regions: &[&str], roles: &[&str]) -> ggzhub_kit::Caller {
        ggzhub_kit::Caller {
            org: uuid::Uuid::from_u128(org),
            kind,
            subject: "test".into(),
            regions: regions.iter().map(|r| (*r).to_owned()).collect(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            scopes: ggzhub_kit::token::default_scopes(kind).iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// The access predicates of the Actieplan parts (`crate::access`), cell by cell.
    #[test]
    fn unique_counts_come_from_the_national_table_or_the_coordinating_insurer_and_the_chair_confirms_the_lead() {
        use crate::access::{confirm_transfer_lead, supply_unique_waiting};
        use ggzhub_kit::OrgKind::*;
        let insurer = caller(Insurer, 0x1a, &["utrecht"], &[]);
        let coordinating = Some(uuid::Uuid::from_u128(0x1a).to_string());
        assert!(supply_unique_waiting(&insurer, "utrecht", coordinating.as_deref()).is_ok());
        assert!(supply_unique_waiting(&insurer, "utrecht", Some("someone-else")).is_err());
        assert!(supply_unique_waiting(&caller(NationalTable, 0x4a, &[], &[]), "utrecht", None).is_ok());
        for kind in [Provider, PatientOrganisation, Municipality, HubOperator] {
            let c = caller(kind, 0xa1, &["utrecht"], &["chair:utrecht"]);
            assert!(supply_unique_waiting(&c, "utrecht", coordinating.as_deref()).is_err(), "{kind:?}");
        }
        assert!(confirm_transfer_lead(&caller(Provider, 0xc1, &["utrecht"], &["chair:utrecht"]), "utrecht").is_ok());
        assert!(confirm_transfer_lead(&caller(Insurer, 0x1a, &["utrecht"], &["chair:utrecht"]), "utrecht").is_ok());
        assert!(confirm_transfer_lead(&caller(Provider, 0xc1, &["utrecht"], &["chair:utrecht"]), "amsterdam").is_err());
        assert!(confirm_transfer_lead(&caller(Provider, 0xa1, &["utrecht"], &[]), "utrecht").is_err());
        assert!(confirm_transfer_lead(&caller(NationalTable, 0x4a, &[], &["chair:utrecht"]), "utrecht").is_err());
    }
}
