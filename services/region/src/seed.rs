//! Demo data (DEMO DATA: fictitious organisations, not real figures) from JSON files: the 31
//! zorgkantoor regions, organisations of every kind, offers in all six categories, waiting
//! times, signals and overviews. The files ship in `services/region/data/demo/` and are built
//! into the binary; `ggzhub seed --from DIR` loads another set of the same shape.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait, PaginatorTrait, TransactionTrait};
use serde::Deserialize;
use serde_json::json;

use crate::domain::*;
use crate::entity::{
    care_form, care_offer, diagnosis_group, organisation, overview, patient_input, region, signal, waiting_time,
};

/// The demo files built into the binary, by file name.
pub const DEMO_FILES: &[(&str, &str)] = &[
    ("regions.json", include_str!("../data/demo/regions.json")),
    ("organisations.json", include_str!("../data/demo/organisations.json")),
    ("care-forms.json", include_str!("../data/demo/care-forms.json")),
    ("diagnosis-groups.json", include_str!("../data/demo/diagnosis-groups.json")),
    ("care-offers.json", include_str!("../data/demo/care-offers.json")),
    ("waiting-times.json", include_str!("../data/demo/waiting-times.json")),
    ("continuity-signals.json", include_str!("../data/demo/continuity-signals.json")),
    ("regional-overviews.json", include_str!("../data/demo/regional-overviews.json")),
];

#[derive(Deserialize)]
struct File<T> {
    items: Vec<T>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RegionRow {
    code: String,
    name: String,
    kind: RegionKind,
    neighbours: Vec<String>,
    coordinating_insurer_id: Option<String>,
    #[serde(default)]
    tile: Option<TileRow>,
}

/// A region's tile on the schematic map.
#[derive(Deserialize, Debug, Clone, Copy)]
struct TileRow {
    row: i32,
    column: i32,
}

/// An organisation in the demo files.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrganisationRow {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: ggzhub_kit::OrgKind,
    kvk: Option<String>,
    ura: Option<String>,
    agb: Option<String>,
    uzovi: Option<String>,
    /// Regions.
    pub regions: Vec<String>,
    /// Tables it chairs in the demo register (e.g. `chair:utrecht`).
    #[serde(default)]
    pub demo_roles: Vec<String>,
}

#[derive(Deserialize)]
struct CareFormRow {
    category: CareCategory,
    code: String,
    name: String,
    description: String,
}

#[derive(Deserialize)]
struct CodeRow {
    code: String,
    name: String,
}

#[derive(Deserialize)]
struct CapacityRow {
    beds: Option<i32>,
    places: Option<i32>,
    teams: Option<i32>,
    fte: Option<f64>,
}

#[derive(Deserialize)]
struct PauseRow {
    from: NaiveDate,
    until: Option<NaiveDate>,
    reason: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OfferRow {
    id: String,
    provider_id: String,
    region_code: String,
    category: CareCategory,
    care_form: String,
    unit_name: String,
    location: String,
    capacity: CapacityRow,
    availability: Availability,
    status: OfferStatus,
    supra_regional: bool,
    regions_served: Vec<String>,
    inclusion_criteria: Option<String>,
    intake_pause: Option<PauseRow>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WaitRow {
    provider_id: String,
    location: String,
    diagnosis_group: String,
    month: String,
    registration_to_intake_weeks: f64,
    intake_to_treatment_weeks: f64,
    waiting_count: i32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignalRow {
    id: String,
    offer_id: String,
    kind: SignalKind,
    severity: Severity,
    description: String,
    expected_date: Option<NaiveDate>,
    status: SignalStatus,
    raised_at: DateTime<Utc>,
    acknowledgement_deadline: DateTime<Utc>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InputRow {
    organisation_id: String,
    text: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OverviewRow {
    id: String,
    region_code: String,
    year: i32,
    status: OverviewStatus,
    public_summary: String,
    confidential_notes: String,
    assessments: Vec<crate::graphql::types::CategoryAssessment>,
    #[serde(default)]
    patient_inputs: Vec<InputRow>,
}

/// Where seed files come from.
pub enum Source<'a> {
    /// The demo set built into the binary.
    Demo,
    /// A directory with files of the same names and shape.
    Dir(&'a Path),
}

fn read(source: &Source<'_>, name: &str) -> anyhow::Result<String> {
    match source {
        Source::Demo => DEMO_FILES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| (*s).to_owned())
            .with_context(|| format!("no built-in demo file {name}")),
        Source::Dir(dir) => {
            let path = dir.join(name);
            std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
        }
    }
}

fn parse<T: serde::de::DeserializeOwned>(source: &Source<'_>, name: &str) -> anyhow::Result<Vec<T>> {
    let text = read(source, name)?;
    let file: File<T> = serde_json::from_str(&text).with_context(|| format!("parsing {name}"))?;
    Ok(file.items)
}

/// The organisations of a seed source (for demo tokens).
pub fn organisations(source: &Source<'_>) -> anyhow::Result<Vec<OrganisationRow>> {
    parse(source, "organisations.json")
}

/// What [`seed`] did.
#[derive(Debug, Default, Clone, Copy)]
pub struct SeedReport {
    /// False when the database already held regions and nothing was loaded.
    pub loaded: bool,
    /// Regions loaded.
    pub regions: usize,
    /// Organisations loaded.
    pub organisations: usize,
    /// Offers loaded.
    pub offers: usize,
    /// Waiting-time reports loaded.
    pub waiting_times: usize,
    /// Signals loaded.
    pub signals: usize,
}

/// Loads `source` into an empty database in one transaction (all or nothing). Does nothing when
/// regions already exist.
pub async fn seed(db: &DatabaseConnection, source: &Source<'_>) -> anyhow::Result<SeedReport> {
    if region::Entity::find().count(db).await? > 0 {
        // A database seeded before the register existed gets its demo register now.
        crate::register::seed_register(db, &organisations(source)?, ggzhub_kit::token::DEV_ISSUER).await?;
        return Ok(SeedReport::default());
    }
    let regions: Vec<RegionRow> = parse(source, "regions.json")?;
    let orgs = organisations(source)?;
    let forms: Vec<CareFormRow> = parse(source, "care-forms.json")?;
    let groups: Vec<CodeRow> = parse(source, "diagnosis-groups.json")?;
    let offers: Vec<OfferRow> = parse(source, "care-offers.json")?;
    let waits: Vec<WaitRow> = parse(source, "waiting-times.json")?;
    let signals: Vec<SignalRow> = parse(source, "continuity-signals.json")?;
    let overviews: Vec<OverviewRow> = parse(source, "regional-overviews.json")?;

    let now = Utc::now();
    let by = orgs
        .iter()
        .find(|o| o.kind == ggzhub_kit::OrgKind::HubOperator)
        .map(|o| o.id.clone())
        .unwrap_or_else(|| uuid::Uuid::nil().to_string());
    let txn = db.begin().await?;
    macro_rules! meta {
        () => {
            (Set(1), Set(now), Set(now), Set(by.clone()), Set(by.clone()))
        };
    }
    for chunk in orgs.chunks(200) {
        organisation::Entity::insert_many(chunk.iter().map(|o| {
            let (version, created_at, updated_at, created_by, updated_by) = meta!();
            organisation::ActiveModel {
                id: Set(o.id.clone()),
                name: Set(o.name.clone()),
                kind: Set(o.kind.as_str().to_owned()),
                kvk: Set(o.kvk.clone()),
                ura: Set(o.ura.clone()),
                agb: Set(o.agb.clone()),
                uzovi: Set(o.uzovi.clone()),
                regions: Set(json!(o.regions)),
                version,
                created_at,
                updated_at,
                created_by,
                updated_by,
            }
        }))
        .exec(&txn)
        .await
        .context("inserting organisations")?;
    }
    region::Entity::insert_many(regions.iter().map(|r| {
        let (version, created_at, updated_at, created_by, updated_by) = meta!();
        region::ActiveModel {
            code: Set(r.code.clone()),
            name: Set(r.name.clone()),
            kind: Set(r.kind.as_str().to_owned()),
            neighbours: Set(json!(r.neighbours)),
            coordinating_insurer_id: Set(r.coordinating_insurer_id.clone()),
            map_row: Set(r.tile.map(|t| t.row)),
            map_column: Set(r.tile.map(|t| t.column)),
            version,
            created_at,
            updated_at,
            created_by,
            updated_by,
        }
    }))
    .exec(&txn)
    .await
    .context("inserting regions")?;
    care_form::Entity::insert_many(forms.iter().map(|f| {
        let (version, created_at, updated_at, created_by, updated_by) = meta!();
        care_form::ActiveModel {
            code: Set(f.code.clone()),
            category: Set(f.category.as_str().to_owned()),
            name: Set(f.name.clone()),
            description: Set(f.description.clone()),
            region_code: Set(None),
            motivation: Set(None),
            version,
            created_at,
            updated_at,
            created_by,
            updated_by,
            retired_at: Set(None),
            retirement_reason: Set(None),
        }
    }))
    .exec(&txn)
    .await
    .context("inserting care forms")?;
    diagnosis_group::Entity::insert_many(
        groups.iter().map(|g| diagnosis_group::ActiveModel { code: Set(g.code.clone()), name: Set(g.name.clone()) }),
    )
    .exec(&txn)
    .await
    .context("inserting diagnosis groups")?;
    for chunk in offers.chunks(100) {
        care_offer::Entity::insert_many(chunk.iter().map(|o| {
            let (version, created_at, updated_at, _, _) = meta!();
            care_offer::ActiveModel {
                id: Set(o.id.clone()),
                provider_id: Set(o.provider_id.clone()),
                region_code: Set(o.region_code.clone()),
                category: Set(o.category.as_str().to_owned()),
                care_form: Set(o.care_form.clone()),
                unit_name: Set(o.unit_name.clone()),
                location: Set(o.location.clone()),
                beds: Set(o.capacity.beds),
                places: Set(o.capacity.places),
                teams: Set(o.capacity.teams),
                fte: Set(o.capacity.fte),
                availability: Set(o.availability.as_str().to_owned()),
                status: Set(o.status.as_str().to_owned()),
                supra_regional: Set(o.supra_regional),
                regions_served: Set(json!(o.regions_served)),
                inclusion_criteria: Set(o.inclusion_criteria.clone()),
                intake_pause_from: Set(o.intake_pause.as_ref().map(|p| p.from)),
                intake_pause_until: Set(o.intake_pause.as_ref().and_then(|p| p.until)),
                intake_pause_reason: Set(o.intake_pause.as_ref().map(|p| p.reason.clone())),
                version,
                created_at,
                updated_at,
                created_by: Set(o.provider_id.clone()),
                updated_by: Set(o.provider_id.clone()),
            }
        }))
        .exec(&txn)
        .await
        .context("inserting care offers")?;
    }
    // A waiting-time report's region is that of the provider's offers at the same location.
    let mut region_of: HashMap<(String, String), String> = HashMap::new();
    for o in &offers {
        region_of.entry((o.provider_id.clone(), o.location.clone())).or_insert_with(|| o.region_code.clone());
    }
    let provider_region: HashMap<&str, &str> =
        orgs.iter().filter_map(|o| o.regions.first().map(|r| (o.id.as_str(), r.as_str()))).collect();
    for chunk in waits.chunks(100) {
        let rows: Vec<waiting_time::ActiveModel> = chunk
            .iter()
            .map(|w| {
                let region_code = region_of
                    .get(&(w.provider_id.clone(), w.location.clone()))
                    .cloned()
                    .or_else(|| provider_region.get(w.provider_id.as_str()).map(|s| (*s).to_owned()))
                    .with_context(|| format!("waiting time of {} at {}: no region", w.provider_id, w.location))?;
                let (version, created_at, updated_at, _, _) = meta!();
                let (intakes, treatment_starts) = crate::seed_waiting_plan::flows(
                    &w.provider_id,
                    &w.location,
                    &w.diagnosis_group,
                    &w.month,
                    w.waiting_count,
                );
                Ok(waiting_time::ActiveModel {
                    id: Set(ggzhub_kit::write::new_id()),
                    provider_id: Set(w.provider_id.clone()),
                    region_code: Set(region_code),
                    location: Set(w.location.clone()),
                    diagnosis_group: Set(w.diagnosis_group.clone()),
                    month: Set(w.month.clone()),
                    registration_weeks: Set(w.registration_to_intake_weeks),
                    treatment_weeks: Set(w.intake_to_treatment_weeks),
                    waiting_count: Set(w.waiting_count),
                    intakes: Set(intakes),
                    treatment_starts: Set(treatment_starts),
                    version,
                    created_at,
                    updated_at,
                    created_by: Set(w.provider_id.clone()),
                    updated_by: Set(w.provider_id.clone()),
                })
            })
            .collect::<anyhow::Result<_>>()?;
        waiting_time::Entity::insert_many(rows).exec(&txn).await.context("inserting waiting times")?;
    }
    let offer_by_id: HashMap<&str, &OfferRow> = offers.iter().map(|o| (o.id.as_str(), o)).collect();
    for s in &signals {
        let offer = offer_by_id.get(s.offer_id.as_str()).with_context(|| format!("signal {}: unknown offer", s.id))?;
        let (version, created_at, updated_at, _, _) = meta!();
        signal::Entity::insert(signal::ActiveModel {
            id: Set(s.id.clone()),
            offer_id: Set(s.offer_id.clone()),
            provider_id: Set(offer.provider_id.clone()),
            region_code: Set(offer.region_code.clone()),
            kind: Set(s.kind.as_str().to_owned()),
            severity: Set(s.severity.as_str().to_owned()),
            description: Set(s.description.clone()),
            expected_date: Set(s.expected_date),
            status: Set(s.status.as_str().to_owned()),
            raised_at: Set(s.raised_at),
            acknowledgement_deadline: Set(s.acknowledgement_deadline),
            acknowledged_at: Set(None),
            acknowledged_by: Set(None),
            response: Set(None),
            overdue_emitted_at: Set(None),
            version,
            created_at,
            updated_at,
            created_by: Set(offer.provider_id.clone()),
            updated_by: Set(offer.provider_id.clone()),
        })
        .exec(&txn)
        .await
        .context("inserting signals")?;
    }
    for o in &overviews {
        let (version, created_at, updated_at, created_by, updated_by) = meta!();
        overview::Entity::insert(overview::ActiveModel {
            id: Set(o.id.clone()),
            region_code: Set(o.region_code.clone()),
            year: Set(o.year),
            status: Set(o.status.as_str().to_owned()),
            public_summary: Set(o.public_summary.clone()),
            confidential_notes: Set(o.confidential_notes.clone()),
            assessments: Set(serde_json::to_value(&o.assessments)?),
            published_at: Set((o.status == OverviewStatus::Published).then_some(now)),
            version,
            created_at,
            updated_at,
            created_by,
            updated_by,
        })
        .exec(&txn)
        .await
        .context("inserting overviews")?;
        for (n, i) in o.patient_inputs.iter().enumerate() {
            let (version, created_at, updated_at, _, _) = meta!();
            patient_input::Entity::insert(patient_input::ActiveModel {
                // Derived from the overview, so two loads of the same seed give the same ids.
                id: Set(crate::seed_waiting_plan::demo_id(&format!("patient-input|{}|{n}", o.id))),
                overview_id: Set(o.id.clone()),
                organisation_id: Set(i.organisation_id.clone()),
                text: Set(i.text.clone()),
                internal: Set(false),
                version,
                created_at,
                updated_at,
                created_by: Set(i.organisation_id.clone()),
                updated_by: Set(i.organisation_id.clone()),
            })
            .exec(&txn)
            .await
            .context("inserting patient input")?;
        }
    }
    // The demo's dates are relative to today in the Netherlands (the hub's calendar dates are Dutch).
    let today = ggzhub_kit::calendar::today_in_netherlands(now);
    crate::seed_history::generate(&txn, today).await.context("generating demo history")?;
    crate::seed_closing::generate(&txn, today, &by).await.context("generating demo actions and closures")?;
    let chairs: Vec<(String, String)> = orgs
        .iter()
        .flat_map(|o| {
            o.demo_roles.iter().filter_map(|r| r.strip_prefix("chair:")).map(|r| (r.to_owned(), o.id.clone()))
        })
        .collect();
    crate::seed_planning::generate(&txn, &chairs, &by, now)
        .await
        .context("generating demo regional care forms, planned offers and patient input")?;
    crate::seed_waiting_plan::generate(&txn, &chairs, now)
        .await
        .context("generating the Actieplan Wachttijden demo data")?;
    // Issue 21: IZA regions overlapping the care-office regions, and care-use figures of the
    // care-office regions supplied by the national table.
    let care_office: Vec<(String, Vec<String>)> = regions
        .iter()
        .filter(|r| r.kind == RegionKind::CareOffice)
        .map(|r| (r.code.clone(), r.neighbours.clone()))
        .collect();
    if let Some(table) = orgs.iter().find(|o| o.kind == ggzhub_kit::OrgKind::NationalTable) {
        crate::care_use::seed_demo(&txn, &care_office, &table.id, &by, today)
            .await
            .context("generating demo IZA regions and care use")?;
    }
    txn.commit().await?;
    crate::register::seed_register(db, &orgs, ggzhub_kit::token::DEV_ISSUER).await?;
    Ok(SeedReport {
        loaded: true,
        regions: regions.len(),
        organisations: orgs.len(),
        offers: offers.len(),
        waiting_times: waits.len(),
        signals: signals.len(),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use super::*;

    /// The demo regions' tile map is recognisably the Netherlands: every region has its own tile,
    /// Groningen is top right, Zeeland bottom left, Zuid-Limburg bottom right, and each region's
    /// tile touches (sides or corners) at least one of its real neighbours.
    #[test]
    fn the_demo_tile_map_looks_like_the_netherlands() {
        let regions: Vec<RegionRow> = parse(&Source::Demo, "regions.json").expect("demo regions parse");
        let tiles: HashMap<&str, TileRow> = regions
            .iter()
            .map(|r| (r.code.as_str(), r.tile.unwrap_or_else(|| panic!("{} has a tile", r.code))))
            .collect();
        let distinct: HashSet<(i32, i32)> = tiles.values().map(|t| (t.row, t.column)).collect();
        assert_eq!(distinct.len(), regions.len(), "one tile per region");
        let max_row = tiles.values().map(|t| t.row).max().expect("tiles");
        let max_column = tiles.values().map(|t| t.column).max().expect("tiles");
        let groningen = tiles["groningen"];
        assert_eq!((groningen.row, groningen.column), (0, max_column), "Groningen top right");
        let zeeland = tiles["zeeland"];
        assert!(zeeland.row >= max_row - 1 && zeeland.column <= 1, "Zeeland bottom left: {zeeland:?}");
        let limburg = tiles["zuid-limburg"];
        assert_eq!((limburg.row, limburg.column), (max_row, max_column), "Zuid-Limburg bottom right");
        for r in &regions {
            let t = tiles[r.code.as_str()];
            let touches = r.neighbours.iter().any(|n| {
                let o = tiles[n.as_str()];
                (o.row - t.row).abs() <= 1 && (o.column - t.column).abs() <= 1
            });
            assert!(touches, "{} touches one of its neighbours {:?}", r.code, r.neighbours);
        }
    }
}
