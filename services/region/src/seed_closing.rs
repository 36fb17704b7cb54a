//! Demo data of the closing process and of regional actions (DEMO DATA, issue 21 item 3),
//! derived deterministically from the demo offers, organisations and overviews already inserted:
//! a cause on every offer that is `UNDER_PRESSURE` or `CLOSING`, one announced closure with its
//! continuity signal, agreed notice periods in a few regions, and two actions per overview (some
//! overdue). Dates are relative to `today`, like the demo history's.

use chrono::{Duration, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel as _, QueryOrder,
};

use crate::closing::replace_notes;
use crate::domain::{OfferStatus, Severity, SignalKind, SignalStatus};
use crate::entity::{
    care_offer, offer_status_note, organisation, overview, region, region_closure_rule, regional_action, signal,
};

const CAUSES: [(SignalKind, &str); 5] = [
    (SignalKind::Staffing, "Structureel tekort aan verpleegkundigen en psychiaters"),
    (SignalKind::Finance, "Tarieven dekken de kosten van de 24/7-bezetting niet"),
    (SignalKind::Housing, "Het gebouw voldoet niet meer; vervangende huisvesting ontbreekt"),
    (SignalKind::Staffing, "Verloop in het team; vacatures blijven lang open"),
    (SignalKind::Other, "Afhankelijk van één regiebehandelaar"),
];

const ACTIONS: [(&str, &str); 4] = [
    (
        "Afspraken over opvang bij sluiting",
        "Aanbieders en zorgverzekeraars spreken af wie de zorg overneemt als een cruciaal aanbod sluit.",
    ),
    (
        "Regionale wachtlijstaanpak",
        "Gezamenlijke aanpak van de wachttijden boven de Treeknorm, met een regionale regiehouder.",
    ),
    (
        "Extra capaciteit outreachende zorg",
        "Verkennen van een extra FACT-team in het deel van de regio met de langste wachttijden.",
    ),
    (
        "Personeel delen tussen aanbieders",
        "Afspraken over het inzetten van personeel bij elkaars crisisdiensten in vakantieperiodes.",
    ),
];

/// Fills the demo's closing process and actions (inside the seeding transaction).
pub async fn generate<C: ConnectionTrait>(conn: &C, today: NaiveDate, by: &str) -> Result<(), DbErr> {
    let now = Utc::now();
    let offers = care_offer::Entity::find().order_by_asc(care_offer::Column::Id).all(conn).await?;
    let mut notes = Vec::new();
    let mut announced = false;
    for (i, o) in offers
        .iter()
        .filter(|o| o.status == OfferStatus::UnderPressure.as_str() || o.status == OfferStatus::Closing.as_str())
        .enumerate()
    {
        let (kind, text) = CAUSES[i % CAUSES.len()];
        let mut note = offer_status_note::Model {
            offer_id: o.id.clone(),
            region_code: o.region_code.clone(),
            status: o.status.clone(),
            cause_kind: Some(kind.as_str().to_owned()),
            cause_text: Some(text.to_owned()),
            planned_closing_date: None,
            announced_at: None,
            closure_signal_id: None,
            recorded_at: now,
            recorded_by: o.provider_id.clone(),
        };
        // One closure announced through the process, with its signal: the first closing offer.
        if !announced && o.status == OfferStatus::Closing.as_str() {
            announced = true;
            let planned = today + Duration::weeks(20);
            let raised_at = ggzhub_kit::calendar::start_of_day(today - Duration::days(10));
            let s = signal::Model {
                id: uuid::Uuid::from_u128(0x0c10_5ed0_0000_0000_0000_0000_0000_0001).to_string(),
                offer_id: o.id.clone(),
                provider_id: o.provider_id.clone(),
                region_code: o.region_code.clone(),
                kind: SignalKind::Closure.as_str().to_owned(),
                severity: Severity::High.as_str().to_owned(),
                description: format!("Closure announced for {planned} ({}); the cause is on the offer", kind.as_str()),
                expected_date: Some(planned),
                status: SignalStatus::Acknowledged.as_str().to_owned(),
                raised_at,
                acknowledgement_deadline: raised_at + Duration::days(crate::graphql::mutation::ACKNOWLEDGEMENT_DAYS),
                acknowledged_at: Some(raised_at + Duration::days(3)),
                acknowledged_by: None,
                response: Some(
                    "Besproken aan de regionale tafel; overname door een andere aanbieder wordt verkend.".into(),
                ),
                overdue_emitted_at: None,
                version: 2,
                created_at: raised_at,
                updated_at: raised_at + Duration::days(3),
                created_by: o.provider_id.clone(),
                updated_by: o.provider_id.clone(),
            };
            let s = s.into_active_model().reset_all().insert(conn).await?;
            crate::history::signal_event_at(conn, &s, &o.provider_id, raised_at).await?;
            note.planned_closing_date = Some(planned);
            note.announced_at = Some(raised_at);
            note.closure_signal_id = Some(s.id);
        }
        notes.push(note);
    }
    replace_notes(conn, &[], notes).await?;

    // Agreed notice periods: every fifth region (by code), alternately 8 and 26 weeks.
    let regions = region::Entity::find().order_by_asc(region::Column::Code).all(conn).await?;
    let rules: Vec<region_closure_rule::ActiveModel> = regions
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 5 == 2)
        .enumerate()
        .map(|(n, (_, r))| region_closure_rule::ActiveModel {
            region_code: Set(r.code.clone()),
            notice_weeks: Set(if n % 2 == 0 { 8 } else { 26 }),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            created_by: Set(by.to_owned()),
            updated_by: Set(by.to_owned()),
        })
        .collect();
    if !rules.is_empty() {
        region_closure_rule::Entity::insert_many(rules).exec_without_returning(conn).await?;
    }

    // Two actions per overview, owned by the region's first participants (providers and
    // insurers, by id); every third overview's first action is overdue.
    let orgs = organisation::Entity::find().order_by_asc(organisation::Column::Id).all(conn).await?;
    let overviews = overview::Entity::find().order_by_asc(overview::Column::Id).all(conn).await?;
    let mut actions = Vec::new();
    for (i, o) in overviews.iter().enumerate() {
        let owners: Vec<&organisation::Model> = orgs
            .iter()
            .filter(|g| g.kind == "PROVIDER" || g.kind == "INSURER")
            .filter(|g| g.regions.as_array().is_some_and(|rs| rs.iter().any(|r| r.as_str() == Some(&o.region_code))))
            .collect();
        if owners.is_empty() {
            continue;
        }
        for k in 0..2 {
            let (title, description) = ACTIONS[(i + k) % ACTIONS.len()];
            let owner = owners[(i + k) % owners.len()];
            let overdue = k == 0 && i % 3 == 0;
            let (due, status) = if overdue {
                (today - Duration::days(20 + i as i64 % 30), "OPEN")
            } else {
                (today + Duration::days(30 + 15 * ((i + k) as i64 % 12)), ["OPEN", "IN_PROGRESS", "DONE"][(i + k) % 3])
            };
            let n = (i * 2 + k) as u128;
            actions.push(regional_action::ActiveModel {
                id: Set(uuid::Uuid::from_u128(0x0ac7_1000_0000_0000_0000_0000_0000_0000 + n).to_string()),
                region_code: Set(o.region_code.clone()),
                overview_id: Set(o.id.clone()),
                title: Set(title.to_owned()),
                description: Set(description.to_owned()),
                owner_id: Set(owner.id.clone()),
                due_date: Set(due),
                status: Set(status.to_owned()),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                created_by: Set(owner.id.clone()),
                updated_by: Set(owner.id.clone()),
            });
        }
    }
    for chunk in actions.chunks(200) {
        regional_action::Entity::insert_many(chunk.to_vec()).exec_without_returning(conn).await?;
    }
    Ok(())
}
