//! DEMO DATA: 24 months of plausible history for the demo records, ending in the current
//! month, so that the national picture's trends have something to draw. Deterministic: the same
//! records, seed and month give the same history. Each offer's history ends in exactly its
//! current state (status, capacity, intake pause); waiting times get a monthly report for every
//! (provider, location, diagnosis group) of the demo files in each month they do not cover;
//! signals get their lifecycle events.

use std::collections::HashSet;

use chrono::{Datelike as _, Duration, NaiveDate};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};

use crate::domain::{OfferStatus, SignalStatus};
use crate::entity::{care_offer, signal, waiting_time};
use crate::history::{day, offer_history, signal_history, waiting_history};

/// The seed of the demo history.
pub const DEMO_SEED: u64 = 0x6767_7a68_7562_2014;
/// Months of history.
pub const MONTHS: i32 = 24;

/// SplitMix64: a small deterministic generator (no cryptographic use).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` and a record's key, so that records do not share a sequence.
    pub fn new(seed: u64, key: &str) -> Self {
        let mut h = seed;
        for b in key.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        Self(h)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// First day of the month `months` before the month of `today`.
pub fn months_back(today: NaiveDate, months: i32) -> NaiveDate {
    let idx = today.year() * 12 + today.month0() as i32 - months;
    NaiveDate::from_ymd_opt(idx / 12, (idx % 12) as u32 + 1, 1).unwrap_or(today)
}

fn earlier_status(rng: &mut Rng) -> OfferStatus {
    match rng.below(10) {
        0..=5 => OfferStatus::Secured,
        6..=8 => OfferStatus::UnderPressure,
        _ => OfferStatus::Closing,
    }
}

fn scaled(v: Option<i32>, f: f64) -> Option<i32> {
    v.map(|n| ((f64::from(n) * f).round() as i32).max(0))
}

/// The states an offer went through, oldest first: (first day, state). The last state is the
/// offer as it is now.
pub fn offer_states(offer: &care_offer::Model, seed: u64, today: NaiveDate) -> Vec<(NaiveDate, care_offer::Model)> {
    let mut rng = Rng::new(seed, &offer.id);
    let start = months_back(today, MONTHS - 1);
    let span = (today - start).num_days().max(1);
    let changes = rng.below(4) as usize;
    let mut days: Vec<i64> = (0..changes).map(|_| 1 + rng.below(span as u64) as i64).collect();
    days.sort_unstable();
    days.dedup();
    let mut states = Vec::with_capacity(days.len() + 1);
    let mut first = start;
    for d in &days {
        let mut s = offer.clone();
        s.status = earlier_status(&mut rng).as_str().to_owned();
        let f = 0.8 + rng.unit() * 0.4;
        (s.beds, s.places, s.teams) = (scaled(offer.beds, f), scaled(offer.places, f), scaled(offer.teams, f));
        s.fte = offer.fte.map(|x| (x * f * 10.0).round() / 10.0);
        // An earlier intake pause of a few weeks, over by the next change.
        let next = start + Duration::days(*d);
        if rng.below(5) == 0 && next - first > Duration::days(21) {
            s.intake_pause_from = Some(first + Duration::days(7));
            s.intake_pause_until = Some(next - Duration::days(1));
        } else {
            s.intake_pause_from = None;
            s.intake_pause_until = None;
        }
        states.push((first, s));
        first = next;
    }
    states.push((first, offer.clone()));
    // An offer closed now was open before it closed.
    if offer.status == OfferStatus::Closed.as_str() && states.len() == 1 {
        let closed = start + Duration::days(span / 2 + rng.below(span as u64 / 2) as i64);
        let mut open = offer.clone();
        open.status = OfferStatus::Closing.as_str().to_owned();
        states = vec![(start, open), (closed, offer.clone())];
    }
    states
}

/// Writes the offers' history rows (replacing none: call on offers without history).
pub async fn offers<C: ConnectionTrait>(
    conn: &C,
    offers: &[care_offer::Model],
    seed: u64,
    today: NaiveDate,
) -> Result<usize, DbErr> {
    let mut rows = Vec::new();
    for o in offers {
        let states = offer_states(o, seed, today);
        for (i, (from, s)) in states.iter().enumerate() {
            rows.push(crate::history::offer_row(s, day(*from), states.get(i + 1).map(|(d, _)| day(*d))));
        }
    }
    let n = rows.len();
    for chunk in rows.chunks(200) {
        offer_history::Entity::insert_many(chunk.to_vec()).exec(conn).await?;
    }
    Ok(n)
}

/// Monthly reports for the 24 months up to `today` for every (provider, location, diagnosis
/// group) of `reports`, where none exists; a slow random walk from the existing figures. Each
/// report, old and new, gets its history row. Returns the reports added.
pub async fn waiting_times<C: ConnectionTrait>(
    conn: &C,
    reports: &[waiting_time::Model],
    seed: u64,
    today: NaiveDate,
) -> Result<Vec<waiting_time::Model>, DbErr> {
    let taken: HashSet<(&str, &str, &str, &str)> = reports
        .iter()
        .map(|r| (r.provider_id.as_str(), r.location.as_str(), r.diagnosis_group.as_str(), r.month.as_str()))
        .collect();
    let mut seen = HashSet::new();
    let mut added = Vec::new();
    for r in reports {
        if !seen.insert((r.provider_id.as_str(), r.location.as_str(), r.diagnosis_group.as_str())) {
            continue;
        }
        let mut rng = Rng::new(seed, &format!("{}|{}|{}", r.provider_id, r.location, r.diagnosis_group));
        let (mut reg, mut treat) = (r.registration_weeks, r.treatment_weeks);
        for back in 0..MONTHS {
            let month = months_back(today, back).format("%Y-%m").to_string();
            reg = (reg + (rng.unit() - 0.5) * 1.2).clamp(0.5, 30.0);
            treat = (treat + (rng.unit() - 0.5) * 2.0).clamp(0.5, 40.0);
            if taken.contains(&(
                r.provider_id.as_str(),
                r.location.as_str(),
                r.diagnosis_group.as_str(),
                month.as_str(),
            )) {
                continue;
            }
            let mut m = r.clone();
            m.id = ggzhub_kit::write::new_id();
            m.month = month;
            m.registration_weeks = (reg * 10.0).round() / 10.0;
            m.treatment_weeks = (treat * 10.0).round() / 10.0;
            m.waiting_count = ((f64::from(r.waiting_count) * (0.7 + rng.unit() * 0.6)).round() as i32).max(0);
            (m.intakes, m.treatment_starts) = crate::seed_waiting_plan::flows(
                &m.provider_id,
                &m.location,
                &m.diagnosis_group,
                &m.month,
                m.waiting_count,
            );
            added.push(m);
        }
    }
    for chunk in added.chunks(200) {
        waiting_time::Entity::insert_many(chunk.iter().cloned().map(waiting_time::ActiveModel::from))
            .exec(conn)
            .await?;
    }
    let history = reports.iter().chain(&added).map(|m| waiting_history::ActiveModel {
        report_id: Set(m.id.clone()),
        provider_id: Set(m.provider_id.clone()),
        region_code: Set(m.region_code.clone()),
        diagnosis_group: Set(m.diagnosis_group.clone()),
        month: Set(m.month.clone()),
        registration_weeks: Set(m.registration_weeks),
        treatment_weeks: Set(m.treatment_weeks),
        waiting_count: Set(m.waiting_count),
        version: Set(m.version),
        recorded_at: Set(m.created_at),
        superseded_at: Set(None),
        ..Default::default()
    });
    let history: Vec<_> = history.collect();
    for chunk in history.chunks(200) {
        waiting_history::Entity::insert_many(chunk.to_vec()).exec(conn).await?;
    }
    Ok(added)
}

/// Lifecycle events of the demo signals: raised, and the status they reached a few days later.
pub async fn signals<C: ConnectionTrait>(conn: &C, signals: &[signal::Model], seed: u64) -> Result<(), DbErr> {
    let mut rows = Vec::new();
    for s in signals {
        let mut rng = Rng::new(seed, &s.id);
        rows.push(signal_history::ActiveModel {
            signal_id: Set(s.id.clone()),
            offer_id: Set(s.offer_id.clone()),
            region_code: Set(s.region_code.clone()),
            event: Set("RAISED".to_owned()),
            status: Set(SignalStatus::Open.as_str().to_owned()),
            at: Set(s.raised_at),
            overdue_at: Set(Some(s.acknowledgement_deadline)),
            by_org: Set(s.provider_id.clone()),
            ..Default::default()
        });
        if s.status != SignalStatus::Open.as_str() {
            rows.push(signal_history::ActiveModel {
                signal_id: Set(s.id.clone()),
                offer_id: Set(s.offer_id.clone()),
                region_code: Set(s.region_code.clone()),
                event: Set(s.status.clone()),
                status: Set(s.status.clone()),
                at: Set(s.raised_at + Duration::days(1 + rng.below(13) as i64)),
                overdue_at: Set(None),
                by_org: Set(s.updated_by.clone()),
                ..Default::default()
            });
        }
    }
    if !rows.is_empty() {
        signal_history::Entity::insert_many(rows).exec(conn).await?;
    }
    Ok(())
}

/// History for everything seeded: offers, waiting times (adding the earlier months) and
/// signals, with [`DEMO_SEED`], up to `today`.
pub async fn generate<C: ConnectionTrait>(conn: &C, today: NaiveDate) -> Result<(), DbErr> {
    let all_offers = care_offer::Entity::find().all(conn).await?;
    offers(conn, &all_offers, DEMO_SEED, today).await?;
    let reports = waiting_time::Entity::find().all(conn).await?;
    waiting_times(conn, &reports, DEMO_SEED, today).await?;
    let all_signals = signal::Entity::find().all(conn).await?;
    signals(conn, &all_signals, DEMO_SEED).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(status: &str) -> care_offer::Model {
        let now = chrono::Utc::now();
        care_offer::Model {
            id: "o-1".into(),
            provider_id: "p".into(),
            region_code: "utrecht".into(),
            category: "ACUTE".into(),
            care_form: "HIC".into(),
            unit_name: "u".into(),
            location: "l".into(),
            beds: Some(10),
            places: None,
            teams: Some(2),
            fte: Some(12.5),
            availability: "TWENTY_FOUR_SEVEN".into(),
            status: status.into(),
            supra_regional: false,
            regions_served: serde_json::json!(["utrecht"]),
            inclusion_criteria: None,
            intake_pause_from: None,
            intake_pause_until: None,
            intake_pause_reason: None,
            version: 1,
            created_at: now,
            updated_at: now,
            created_by: "p".into(),
            updated_by: "p".into(),
        }
    }

    #[test]
    fn history_is_deterministic_and_ends_in_the_current_state() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 4).expect("date");
        for (i, status) in ["SECURED", "UNDER_PRESSURE", "CLOSED"].iter().enumerate() {
            let mut o = offer(status);
            o.id = format!("offer-{i}");
            let a = offer_states(&o, DEMO_SEED, today);
            let b = offer_states(&o, DEMO_SEED, today);
            assert_eq!(a, b);
            assert_eq!(a.last().map(|(_, s)| s), Some(&o));
            assert_eq!(a[0].0, NaiveDate::from_ymd_opt(2025, 1, 1).expect("date"));
            assert!(a.windows(2).all(|w| w[0].0 < w[1].0), "states in order: {a:?}");
        }
        assert_eq!(months_back(today, 23), NaiveDate::from_ymd_opt(2025, 1, 1).expect("date"));
    }
}
