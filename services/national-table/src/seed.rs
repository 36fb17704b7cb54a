//! Demo data (DEMO DATA: fictitious, not real figures) for the national table: escalations with
//! their lifecycle and measures, the supra-regional list, expertise networks and national KPIs.
//! The files ship in `services/national-table/data/demo/` and refer to the region demo data by id.

use std::path::Path;

use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait, PaginatorTrait, TransactionTrait};
use serde::Deserialize;
use serde_json::json;

use crate::domain::*;
use crate::entity::{escalation, kpi, listing, measure, measurement, network, transition};
use crate::graphql::types::KpiTarget;

/// The demo files built into the binary, by file name.
pub const DEMO_FILES: &[(&str, &str)] = &[
    ("expertise-networks.json", include_str!("../data/demo/expertise-networks.json")),
    ("supra-regional-listings.json", include_str!("../data/demo/supra-regional-listings.json")),
    ("national-kpis.json", include_str!("../data/demo/national-kpis.json")),
    ("escalations.json", include_str!("../data/demo/escalations.json")),
];

#[derive(Deserialize)]
struct File<T> {
    items: Vec<T>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NetworkRow {
    id: String,
    name: String,
    target_group: String,
    member_organisation_ids: Vec<String>,
    consultation_contact: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListingRow {
    id: String,
    offer_id: String,
    target_group: String,
    regions_served: Vec<String>,
    hs8: bool,
    expertise_network_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MeasurementRow {
    year: i32,
    region_code: Option<String>,
    value: f64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KpiRow {
    code: String,
    name: String,
    definition: String,
    unit: String,
    direction: KpiDirection,
    targets: Vec<KpiTarget>,
    #[serde(default)]
    measurements: Vec<MeasurementRow>,
}

#[derive(Deserialize)]
struct TransitionRow {
    from: EscalationStatus,
    to: EscalationStatus,
    at: DateTime<Utc>,
    note: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MeasureRow {
    id: String,
    title: String,
    description: String,
    owner_organisation_id: String,
    due_date: NaiveDate,
    status: MeasureStatus,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EscalationRow {
    id: String,
    region_code: String,
    category: CareCategory,
    target_group: String,
    problem: String,
    region_tried: String,
    affected_offer_ids: Vec<String>,
    urgency: Urgency,
    status: EscalationStatus,
    decline_reason: Option<String>,
    public_summary: Option<String>,
    raised_by: String,
    raised_at: DateTime<Utc>,
    #[serde(default)]
    transitions: Vec<TransitionRow>,
    #[serde(default)]
    measures: Vec<MeasureRow>,
}

/// Where seed files come from.
pub enum Source<'a> {
    /// The demo set built into the binary.
    Demo,
    /// A directory with files of the same names and shape.
    Dir(&'a Path),
}

fn parse<T: serde::de::DeserializeOwned>(source: &Source<'_>, name: &str) -> anyhow::Result<Vec<T>> {
    let text = match source {
        Source::Demo => DEMO_FILES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| (*s).to_owned())
            .with_context(|| format!("no built-in demo file {name}"))?,
        Source::Dir(dir) => {
            let path = dir.join(name);
            std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?
        }
    };
    let file: File<T> = serde_json::from_str(&text).with_context(|| format!("parsing {name}"))?;
    Ok(file.items)
}

/// Loads `source` into an empty database in one transaction. Returns the number of escalations
/// loaded, or `None` when the database already held data.
pub async fn seed(db: &DatabaseConnection, source: &Source<'_>) -> anyhow::Result<Option<usize>> {
    if kpi::Entity::find().count(db).await? > 0 || escalation::Entity::find().count(db).await? > 0 {
        return Ok(None);
    }
    let networks: Vec<NetworkRow> = parse(source, "expertise-networks.json")?;
    let listings: Vec<ListingRow> = parse(source, "supra-regional-listings.json")?;
    let kpis: Vec<KpiRow> = parse(source, "national-kpis.json")?;
    let escalations: Vec<EscalationRow> = parse(source, "escalations.json")?;
    let now = Utc::now();
    // Demo rows are attributed to the nil organisation: they were loaded, not written by anyone.
    let by = uuid::Uuid::nil().to_string();
    let txn = db.begin().await?;
    for n in &networks {
        network::Entity::insert(network::ActiveModel {
            id: Set(n.id.clone()),
            name: Set(n.name.clone()),
            target_group: Set(n.target_group.clone()),
            member_org_ids: Set(json!(n.member_organisation_ids)),
            consultation_contact: Set(n.consultation_contact.clone()),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            created_by: Set(by.clone()),
            updated_by: Set(by.clone()),
        })
        .exec(&txn)
        .await
        .context("inserting expertise networks")?;
    }
    for l in &listings {
        listing::Entity::insert(listing::ActiveModel {
            id: Set(l.id.clone()),
            offer_id: Set(l.offer_id.clone()),
            target_group: Set(l.target_group.clone()),
            regions_served: Set(json!(l.regions_served)),
            hs8: Set(l.hs8),
            expertise_network_id: Set(l.expertise_network_id.clone()),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            created_by: Set(by.clone()),
            updated_by: Set(by.clone()),
        })
        .exec(&txn)
        .await
        .context("inserting listings")?;
    }
    for k in &kpis {
        kpi::Entity::insert(kpi::ActiveModel {
            code: Set(k.code.clone()),
            name: Set(k.name.clone()),
            definition: Set(k.definition.clone()),
            unit: Set(k.unit.clone()),
            direction: Set(k.direction.as_str().to_owned()),
            targets: Set(serde_json::to_value(&k.targets)?),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            created_by: Set(by.clone()),
            updated_by: Set(by.clone()),
        })
        .exec(&txn)
        .await
        .context("inserting KPIs")?;
        for m in &k.measurements {
            measurement::Entity::insert(measurement::ActiveModel {
                id: Set(uuid::Uuid::now_v7().to_string()),
                kpi_code: Set(k.code.clone()),
                year: Set(m.year),
                region_code: Set(m.region_code.clone()),
                value: Set(m.value),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                created_by: Set(by.clone()),
                updated_by: Set(by.clone()),
            })
            .exec(&txn)
            .await
            .context("inserting KPI measurements")?;
        }
    }
    for e in &escalations {
        let decided_at = e.transitions.iter().filter(|t| t.to.is_decided()).map(|t| t.at).next();
        escalation::Entity::insert(escalation::ActiveModel {
            id: Set(e.id.clone()),
            region_code: Set(e.region_code.clone()),
            category: Set(e.category.as_str().to_owned()),
            target_group: Set(e.target_group.clone()),
            problem: Set(e.problem.clone()),
            region_tried: Set(e.region_tried.clone()),
            affected_offer_ids: Set(json!(e.affected_offer_ids)),
            urgency: Set(e.urgency.as_str().to_owned()),
            status: Set(e.status.as_str().to_owned()),
            decline_reason: Set(e.decline_reason.clone()),
            public_summary: Set(e.public_summary.clone()),
            raised_by: Set(e.raised_by.clone()),
            raised_at: Set(e.raised_at),
            decided_at: Set(decided_at),
            version: Set(1),
            created_at: Set(e.raised_at),
            updated_at: Set(now),
            created_by: Set(e.raised_by.clone()),
            updated_by: Set(by.clone()),
            signal_id: Set(None),
        })
        .exec(&txn)
        .await
        .context("inserting escalations")?;
        for t in &e.transitions {
            transition::Entity::insert(transition::ActiveModel {
                id: Set(uuid::Uuid::now_v7().to_string()),
                escalation_id: Set(e.id.clone()),
                from_status: Set(t.from.as_str().to_owned()),
                to_status: Set(t.to.as_str().to_owned()),
                by_org: Set(by.clone()),
                by_subject: Set("demo".to_owned()),
                at: Set(t.at),
                note: Set(t.note.clone()),
            })
            .exec(&txn)
            .await
            .context("inserting transitions")?;
        }
        for m in &e.measures {
            measure::Entity::insert(measure::ActiveModel {
                id: Set(m.id.clone()),
                escalation_id: Set(e.id.clone()),
                title: Set(m.title.clone()),
                description: Set(m.description.clone()),
                owner_org_id: Set(m.owner_organisation_id.clone()),
                due_date: Set(m.due_date),
                status: Set(m.status.as_str().to_owned()),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                created_by: Set(by.clone()),
                updated_by: Set(by.clone()),
            })
            .exec(&txn)
            .await
            .context("inserting measures")?;
        }
    }
    txn.commit().await?;
    Ok(Some(escalations.len()))
}
