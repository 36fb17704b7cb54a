//! DEMO DATA for the Actieplan Wachttijden (issue 21 item 2), derived deterministically from the
//! demo records: monthly intakes and treatment starts per waiting-time report, a unique count of
//! people waiting per region for the last six months (supplied by the coordinating insurer, or
//! the national table where a region has none), a confirmed transfer lead in about half of the
//! regions (the hub's proposal), and an intake outlook on most open offers. The same records give
//! the same data; nothing here draws from the generators of [`crate::seed_history`], so their
//! output is unchanged.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel as _, QueryFilter,
    QueryOrder,
};

use crate::domain::OfferStatus;
use crate::entity::{
    care_offer, intake_outlook, organisation, region, region_waiting_count, transfer_lead, waiting_time,
};
use crate::seed_history::Rng;
use crate::waiting_plan::{ReportRow, propose};

/// The seed of the Actieplan demo data.
pub const PLAN_SEED: u64 = 0x6767_7a68_7562_2021;
/// Months (the latest ones) with a unique count per region.
pub const UNIQUE_COUNT_MONTHS: usize = 6;

/// A report's intakes and treatment starts in its month: about a third of the people waiting
/// have their intake, and most of those start treatment.
pub fn flows(provider_id: &str, location: &str, group: &str, month: &str, waiting: i32) -> (Option<i32>, Option<i32>) {
    let mut rng = Rng::new(PLAN_SEED, &format!("flows|{provider_id}|{location}|{group}|{month}"));
    let intakes = (f64::from(waiting) * (0.2 + rng.unit() * 0.25)).round() as i32;
    let starts = (f64::from(intakes) * (0.7 + rng.unit() * 0.3)).round() as i32;
    (Some(intakes.max(0)), Some(starts.max(0)))
}

/// A record id derived from `key` (a UUID with the version 4 layout, its bits from the demo
/// seed), so that two demo runs give the same ids.
pub fn demo_id(key: &str) -> String {
    let mut rng = Rng::new(PLAN_SEED, &format!("id|{key}"));
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&rng.next_u64().to_be_bytes());
    bytes[8..].copy_from_slice(&rng.next_u64().to_be_bytes());
    uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
}

/// Adds the unique counts, transfer leads and intake outlooks (the reports' flows are set when
/// they are inserted). Run after the demo history, so every month has its reports. `chairs` are
/// the demo register's (region, chairing organisation): a transfer lead is confirmed by its
/// region's chair, so only regions with one get a confirmed lead.
pub async fn generate<C: ConnectionTrait>(
    conn: &C,
    chairs: &[(String, String)],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let regions = region::Entity::find().order_by_asc(region::Column::Code).all(conn).await?;
    let national = organisation::Entity::find()
        .filter(organisation::Column::Kind.eq(ggzhub_kit::OrgKind::NationalTable.as_str()))
        .order_by_asc(organisation::Column::Id)
        .one(conn)
        .await?;
    let reports = waiting_time::Entity::find().order_by_asc(waiting_time::Column::Id).all(conn).await?;
    let mut per_region: HashMap<&str, BTreeMap<&str, Vec<&waiting_time::Model>>> = HashMap::new();
    for r in &reports {
        per_region.entry(&r.region_code).or_default().entry(&r.month).or_default().push(r);
    }
    let mut counts = Vec::new();
    let mut leads = Vec::new();
    for reg in &regions {
        let Some(months) = per_region.get(reg.code.as_str()) else { continue };
        let supplier = reg.coordinating_insurer_id.clone().or_else(|| national.as_ref().map(|o| o.id.clone()));
        if let Some(supplier) = supplier {
            for (month, rows) in months.iter().rev().take(UNIQUE_COUNT_MONTHS) {
                let mut rng = Rng::new(PLAN_SEED, &format!("unique|{}|{month}", reg.code));
                let sum: i64 = rows.iter().map(|r| i64::from(r.waiting_count)).sum();
                // People waiting at several providers are counted once: 75–90% of the sum.
                let unique = (sum as f64 * (0.75 + rng.unit() * 0.15)).round() as i32;
                counts.push(region_waiting_count::Model {
                    id: demo_id(&format!("unique|{}|{month}", reg.code)),
                    region_code: reg.code.clone(),
                    month: (*month).to_owned(),
                    people_waiting: unique,
                    supplier_id: supplier.clone(),
                    version: 1,
                    created_at: now,
                    updated_at: now,
                    created_by: supplier.clone(),
                    updated_by: supplier.clone(),
                });
            }
        }
        let mut rng = Rng::new(PLAN_SEED, &format!("lead|{}", reg.code));
        let chair = chairs.iter().find(|(r, _)| *r == reg.code).map(|(_, o)| o.clone());
        let (Some(chair), true) = (chair, rng.below(2) == 0) else { continue };
        let latest: Vec<ReportRow> =
            months.values().next_back().map(|rows| rows.iter().map(|r| report_row(r)).collect()).unwrap_or_default();
        if let Some(p) = propose(&latest) {
            leads.push(transfer_lead::Model {
                region_code: reg.code.clone(),
                provider_id: p.provider_id,
                confirmed_at: now,
                confirmed_by: chair.clone(),
                version: 1,
                created_at: now,
                updated_at: now,
                created_by: chair.clone(),
                updated_by: chair,
            });
        }
    }
    for chunk in counts.chunks(200) {
        region_waiting_count::Entity::insert_many(chunk.iter().cloned().map(|m| m.into_active_model().reset_all()))
            .exec(conn)
            .await?;
    }
    for chunk in leads.chunks(200) {
        transfer_lead::Entity::insert_many(chunk.iter().cloned().map(|m| m.into_active_model().reset_all()))
            .exec(conn)
            .await?;
    }
    let offers = care_offer::Entity::find().order_by_asc(care_offer::Column::Id).all(conn).await?;
    let today = ggzhub_kit::calendar::today_in_netherlands(now);
    let mut outlooks = Vec::new();
    for o in offers.iter().filter(|o| o.status != OfferStatus::Closed.as_str()) {
        let mut rng = Rng::new(PLAN_SEED, &format!("outlook|{}", o.id));
        if rng.below(10) >= 7 {
            continue;
        }
        let paused = crate::graphql::waiting_plan::pause_active(o, today);
        let possible = !paused && o.status == OfferStatus::Secured.as_str() && rng.unit() < 0.7;
        let weeks = if possible { rng.below(3) as f64 } else { 3.0 + rng.below(10) as f64 };
        outlooks.push(intake_outlook::Model {
            offer_id: o.id.clone(),
            intake_possible_now: possible,
            expected_wait_weeks: Some(weeks),
            version: 1,
            created_at: now,
            updated_at: now,
            created_by: o.provider_id.clone(),
            updated_by: o.provider_id.clone(),
        });
    }
    for chunk in outlooks.chunks(200) {
        intake_outlook::Entity::insert_many(chunk.iter().cloned().map(|m| m.into_active_model().reset_all()))
            .exec(conn)
            .await?;
    }
    Ok(())
}

fn report_row(r: &waiting_time::Model) -> ReportRow {
    ReportRow {
        region_code: r.region_code.clone(),
        provider_id: r.provider_id.clone(),
        location: r.location.clone(),
        diagnosis_group: r.diagnosis_group.clone(),
        month: r.month.clone(),
        registration_weeks: r.registration_weeks,
        treatment_weeks: r.treatment_weeks,
        waiting_count: r.waiting_count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_ids_are_stable_valid_and_distinct() {
        let a = demo_id("unique|utrecht|2026-07");
        assert_eq!(a, demo_id("unique|utrecht|2026-07"));
        assert_ne!(a, demo_id("unique|utrecht|2026-08"));
        assert_eq!(ggzhub_kit::validate::id("id", &a).ok(), Some(a));
    }

    #[test]
    fn flows_are_deterministic_and_plausible() {
        let a = flows("p", "Utrecht", "ADHD", "2026-07", 110);
        assert_eq!(a, flows("p", "Utrecht", "ADHD", "2026-07", 110));
        let (Some(i), Some(s)) = a else { panic!("flows") };
        assert!((22..=50).contains(&i) && s <= i, "{i} {s}");
    }
}
