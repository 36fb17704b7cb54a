//! Seed files for the hub scenario (BENCHMARK DATA: fictitious organisations, not real figures),
//! in the shape of the services' demo files, so that they load through the services' own seed
//! functions (`Source::Dir`). Deterministic: the same volume gives the same ids and rows.
//!
//! Kept from the demo set: the 31 zorgkantoor regions (with their coordinating insurers), every
//! organisation that is not a provider (insurers, patient organisations, municipalities, the
//! national table, the hub operator), the care forms, diagnosis groups, national KPIs and
//! contracting guidelines. Generated: the providers of every region, their offers spread over the
//! six categories, contracts between the region's insurers and every provider, and escalations
//! per region.

use std::path::Path;

use anyhow::Context as _;
use serde_json::{Value, json};

const COMMENT: &str = "BENCHMARK DATA — fictitious organisations, not real figures (ggzhub-bench hub)";

/// The six categories, in the order offers are spread over them.
pub const CATEGORIES: [&str; 6] = ["ACUTE", "OUTREACH", "CLINICAL", "SECURE", "SPECIALIST_MHC", "SPECIALIST_HOSPITAL"];

const PROVIDER_PREFIXES: [&str; 8] = [
    "GGZ",
    "Stichting Psychiatrie",
    "Psychiatrisch Centrum",
    "Zorggroep",
    "Verslavingszorg",
    "Ambulante GGZ",
    "Centrum voor Psychotrauma",
    "Universitair Centrum Psychiatrie",
];

const ESCALATION_STATUSES: [&str; 5] = ["SUBMITTED", "IN_DISCUSSION", "MEASURE_AGREED", "RESOLVED", "DECLINED"];
const URGENCIES: [&str; 4] = ["LOW", "MEDIUM", "HIGH", "CRITICAL"];
const SIGNAL_KINDS: [(&str, &str); 5] = [
    ("STAFFING", "HIGH"),
    ("FINANCE", "MEDIUM"),
    ("CLOSURE", "CRITICAL"),
    ("INTAKE_PAUSE", "HIGH"),
    ("HOUSING", "LOW"),
];
const SIGNAL_STATUSES: [&str; 4] = ["OPEN", "ACKNOWLEDGED", "ESCALATED", "RESOLVED"];

/// How much to generate.
#[derive(Debug, Clone, Copy)]
pub struct Volume {
    /// Providers in every region.
    pub providers_per_region: usize,
    /// Care offers of every provider (spread over the six categories).
    pub offers_per_provider: usize,
    /// Escalations raised by every region.
    pub escalations_per_region: usize,
    /// Insurers contracting every provider (from the region's insurers, coordinating one first).
    pub contracts_per_provider: usize,
    /// Diagnosis groups every provider reports waiting times for (one report per group for the
    /// current month; the region seed's history adds the 23 months before it).
    pub waiting_groups_per_provider: usize,
    /// Continuity signals raised by every provider (on its first offers).
    pub signals_per_provider: usize,
}

/// What was written.
#[derive(Debug, Clone)]
pub struct Generated {
    /// Region codes, in the demo order.
    pub region_codes: Vec<String>,
    /// Organisations (providers and the demo's other organisations).
    pub organisations: usize,
    /// Providers.
    pub providers: usize,
    /// Care offers.
    pub offers: usize,
    /// Contracts.
    pub contracts: usize,
    /// Offer links of those contracts.
    pub covered_offers: usize,
    /// Escalations.
    pub escalations: usize,
    /// Measures of those escalations.
    pub measures: usize,
    /// Waiting-time reports for the current month (the seed's history multiplies them by 24).
    pub waiting_reports: usize,
    /// Continuity signals.
    pub signals: usize,
    /// Id of the national-table organisation (the benchmark's caller).
    pub national_table_org: String,
}

/// A stable id: a fixed prefix, then the kind of record and its number.
fn uid(kind: u16, n: usize) -> String {
    const BASE: u128 = 0x6f1c_2a52_3c1e_4d8e_9b0a_0000_0000_0000;
    let n = u32::try_from(n).unwrap_or(u32::MAX);
    uuid::Uuid::from_u128(BASE | (u128::from(kind) << 32) | u128::from(n)).to_string()
}

fn demo_items(files: &[(&str, &str)], name: &str) -> anyhow::Result<Vec<Value>> {
    let text =
        files.iter().find(|(n, _)| *n == name).map(|(_, t)| *t).with_context(|| format!("no demo file {name}"))?;
    let mut file: Value = serde_json::from_str(text).with_context(|| format!("parsing demo {name}"))?;
    match file.get_mut("items").map(Value::take) {
        Some(Value::Array(items)) => Ok(items),
        _ => anyhow::bail!("demo {name} has no items"),
    }
}

fn str_of<'a>(v: &'a Value, field: &str) -> anyhow::Result<&'a str> {
    v[field].as_str().with_context(|| format!("field {field} missing in {v}"))
}

fn write_file(dir: &Path, name: &str, items: Vec<Value>) -> anyhow::Result<()> {
    let path = dir.join(name);
    let body = serde_json::to_vec(&json!({ "_comment": COMMENT, "items": items }))?;
    std::fs::write(&path, body).with_context(|| format!("writing {}", path.display()))
}

struct Provider {
    id: String,
    region: usize,
    offers: Vec<String>,
}

/// Writes `dir/{region,national-table,contracting}/*.json` for `volume`; `today` is the current
/// day (contracts run around its year, so that coverage is counted; waiting times are reported
/// for its month and signals raised in the weeks before it).
pub fn write(dir: &Path, volume: Volume, today: chrono::NaiveDate) -> anyhow::Result<Generated> {
    use chrono::Datelike as _;
    let year = today.year();
    use ggzhub_contracting::seed::DEMO_FILES as CONTRACTING;
    use ggzhub_national_table::seed::DEMO_FILES as NATIONAL;
    use ggzhub_region::seed::DEMO_FILES as REGION;

    let region_dir = dir.join("region");
    let national_dir = dir.join("national-table");
    let contracting_dir = dir.join("contracting");
    for d in [&region_dir, &national_dir, &contracting_dir] {
        std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
    }

    // ---------- region ----------
    let regions = demo_items(REGION, "regions.json")?;
    let forms = demo_items(REGION, "care-forms.json")?;
    let others: Vec<Value> =
        demo_items(REGION, "organisations.json")?.into_iter().filter(|o| o["kind"] != "PROVIDER").collect();
    let national_table_org = others
        .iter()
        .find(|o| o["kind"] == "NATIONAL_TABLE")
        .map(|o| str_of(o, "id").map(str::to_owned))
        .context("the demo organisations have no national table")??;

    let mut providers: Vec<Provider> = Vec::new();
    let mut organisations = Vec::new();
    let mut offers = Vec::new();
    for (ri, region) in regions.iter().enumerate() {
        let code = str_of(region, "code")?;
        let region_name = str_of(region, "name")?;
        let neighbours = region["neighbours"].clone();
        for p in 0..volume.providers_per_region {
            let n = ri * volume.providers_per_region + p;
            let id = uid(1, n);
            let prefix = PROVIDER_PREFIXES[p % PROVIDER_PREFIXES.len()];
            let name = format!("{prefix} {region_name} {}", p / PROVIDER_PREFIXES.len() + 1);
            organisations.push(json!({
                "id": id, "name": name, "kind": "PROVIDER",
                "kvk": format!("{:08}", 30_000_000 + n), "ura": format!("{:08}", 40_000_000 + n),
                "agb": format!("06{:06}", n), "uzovi": null, "regions": [code],
                "demoRoles": if p == 0 { vec![format!("chair:{code}")] } else { vec![] },
            }));
            let mut own = Vec::new();
            for k in 0..volume.offers_per_provider {
                let category = CATEGORIES[k % CATEGORIES.len()];
                let team = k / CATEGORIES.len() + 1;
                let in_category: Vec<&Value> = forms.iter().filter(|f| f["category"] == category).collect();
                let form = in_category
                    .get((team + p) % in_category.len().max(1))
                    .with_context(|| format!("no care form for {category}"))?;
                let offer_id = uid(2, n * volume.offers_per_provider + k);
                let h = (n * 31 + k * 7) % 40;
                let status = match h {
                    0..=29 => "SECURED",
                    30..=36 => "UNDER_PRESSURE",
                    37 | 38 => "CLOSING",
                    _ => "CLOSED",
                };
                let beds = 8 + ((n + k) % 16) as i64;
                let (beds, places, teams, fte) = match category {
                    "ACUTE" | "OUTREACH" => (None, None, Some(1 + (k % 3) as i64), 9.5 + (n % 9) as f64),
                    "SPECIALIST_MHC" => (None, Some(40 + ((n + k) % 120) as i64), Some(1), 12.0 + (k % 5) as f64),
                    _ => (Some(beds), None, None, beds as f64 * 1.6),
                };
                let supra = category.starts_with("SPECIALIST");
                let served = if supra {
                    let mut s = vec![json!(code)];
                    s.extend(neighbours.as_array().into_iter().flatten().cloned());
                    Value::Array(s)
                } else {
                    json!([code])
                };
                let pause = (status == "UNDER_PRESSURE" && k % 2 == 0).then(|| {
                    json!({ "from": format!("{year}-10-01"), "until": null,
                            "reason": "Personeelstekort: aanmeldingen tijdelijk gestopt, lopende zorg gaat door." })
                });
                offers.push(json!({
                    "id": offer_id, "providerId": id, "regionCode": code, "category": category,
                    "careForm": str_of(form, "code")?,
                    "unitName": format!("{} {} (team {team})", str_of(form, "name")?, name),
                    "location": region_name,
                    "capacity": { "beds": beds, "places": places, "teams": teams, "fte": (fte * 10.0).round() / 10.0 },
                    "availability": if matches!(category, "ACUTE" | "CLINICAL" | "SECURE") { "TWENTY_FOUR_SEVEN" } else { "OFFICE_HOURS" },
                    "status": status, "supraRegional": supra, "regionsServed": served,
                    "inclusionCriteria": format!("Volwassenen (18+) uit de regio {region_name} met een indicatie voor {}; verwijzing door huisarts, crisisdienst of ggz-behandelaar.", str_of(form, "name")?),
                    "intakePause": pause,
                }));
                own.push(offer_id);
            }
            providers.push(Provider { id, region: ri, offers: own });
        }
    }
    let organisation_count = organisations.len() + others.len();
    organisations.extend(others.iter().cloned());
    write_file(&region_dir, "regions.json", regions.clone())?;
    write_file(&region_dir, "organisations.json", organisations)?;
    write_file(&region_dir, "care-forms.json", forms.clone())?;
    write_file(&region_dir, "diagnosis-groups.json", demo_items(REGION, "diagnosis-groups.json")?)?;
    write_file(&region_dir, "care-offers.json", offers)?;
    let groups = demo_items(REGION, "diagnosis-groups.json")?;
    let month = today.format("%Y-%m").to_string();
    let mut waiting = Vec::new();
    let mut signals = Vec::new();
    for (n, provider) in providers.iter().enumerate() {
        let location = str_of(&regions[provider.region], "name")?;
        for g in 0..volume.waiting_groups_per_provider.min(groups.len()) {
            let group = &groups[(n + g * 5) % groups.len()];
            // Spread so that part of the reports exceed a Treeknorm (4 / 10 / 14 weeks).
            let h = (n * 13 + g * 7) % 20;
            waiting.push(json!({
                "providerId": provider.id, "location": location, "diagnosisGroup": str_of(group, "code")?,
                "month": month,
                "registrationToIntakeWeeks": 1.5 + f64::from(u8::try_from(h).unwrap_or(0)) * 0.3,
                "intakeToTreatmentWeeks": 3.0 + f64::from(u8::try_from((n + g) % 12).unwrap_or(0)),
                "waitingCount": 20 + (n * 7 + g * 11) % 180,
            }));
        }
        for (k, offer) in provider.offers.iter().take(volume.signals_per_provider).enumerate() {
            let s = n * volume.signals_per_provider + k;
            let (kind, severity) = SIGNAL_KINDS[s % SIGNAL_KINDS.len()];
            let raised = today - chrono::Days::new(1 + (s % 60) as u64);
            signals.push(json!({
                "id": uid(6, s), "offerId": offer, "kind": kind, "severity": severity,
                "description": "Benchmarksignaal: dreigende discontinuïteit van het aanbod.",
                "expectedDate": (today + chrono::Days::new(30 + (s % 90) as u64)).to_string(),
                "status": SIGNAL_STATUSES[s % SIGNAL_STATUSES.len()],
                "raisedAt": format!("{raised}T09:00:00Z"),
                "acknowledgementDeadline": format!("{}T09:00:00Z", raised + chrono::Days::new(14)),
            }));
        }
    }
    let (waiting_reports, signal_count) = (waiting.len(), signals.len());
    write_file(&region_dir, "waiting-times.json", waiting)?;
    write_file(&region_dir, "continuity-signals.json", signals)?;
    write_file(&region_dir, "regional-overviews.json", vec![])?;

    // ---------- national table ----------
    let mut escalations = Vec::new();
    let mut measures = 0;
    for (ri, region) in regions.iter().enumerate() {
        let code = str_of(region, "code")?;
        let region_name = str_of(region, "name")?;
        let in_region: Vec<&Provider> = providers.iter().filter(|p| p.region == ri).collect();
        let Some(chair) = in_region.first() else { continue };
        for e in 0..volume.escalations_per_region {
            let status = ESCALATION_STATUSES[(ri + e) % ESCALATION_STATUSES.len()];
            let category_index = (ri * 3 + e) % CATEGORIES.len();
            let category = CATEGORIES[category_index];
            let raised_month = 1 + (ri + e) % 6;
            let path: &[&str] = match status {
                "SUBMITTED" => &["SUBMITTED"],
                "IN_DISCUSSION" => &["SUBMITTED", "IN_DISCUSSION"],
                "MEASURE_AGREED" => &["SUBMITTED", "IN_DISCUSSION", "MEASURE_AGREED"],
                "RESOLVED" => &["SUBMITTED", "IN_DISCUSSION", "MEASURE_AGREED", "RESOLVED"],
                _ => &["SUBMITTED", "IN_DISCUSSION", "DECLINED"],
            };
            let transitions: Vec<Value> = path
                .windows(2)
                .enumerate()
                .map(|(i, w)| {
                    json!({ "from": w[0], "to": w[1],
                            "at": format!("{year}-{:02}-15T14:00:00Z", raised_month + i + 1),
                            "note": format!("Besproken in het overleg van de landelijke tafel ({}).", w[1]) })
                })
                .collect();
            let escalation_no = ri * volume.escalations_per_region + e;
            let with_measures = matches!(status, "MEASURE_AGREED" | "RESOLVED");
            let own_measures: Vec<Value> = if with_measures {
                (0..2)
                    .map(|m| {
                        let owner = in_region.get(1 + m).unwrap_or(chair);
                        json!({ "id": uid(4, escalation_no * 2 + m),
                                "title": format!("Afspraak {} over {}", m + 1, category.to_lowercase()),
                                "description": format!("Een aanbieder in {region_name} neemt cliënten uit de regio op volgens een vaste verwijsroute, met een gezamenlijk overleg bij opname en ontslag."),
                                "ownerOrganisationId": owner.id,
                                "dueDate": format!("{year}-{:02}-28", (raised_month + 4).min(12)),
                                "status": if status == "RESOLVED" { "DONE" } else { "IN_PROGRESS" } })
                    })
                    .collect()
            } else {
                vec![]
            };
            measures += own_measures.len();
            let affected: Vec<&String> =
                in_region.iter().take(2).filter_map(|p| p.offers.get(category_index)).collect();
            let decided = matches!(status, "MEASURE_AGREED" | "RESOLVED" | "DECLINED");
            escalations.push(json!({
                "id": uid(3, escalation_no), "regionCode": code, "category": category,
                "targetGroup": format!("Volwassenen die {} nodig hebben in {region_name}", category.to_lowercase().replace('_', " ")),
                "problem": format!("De regio {region_name} kan het aanbod in de categorie {category} niet meer borgen: twee aanbieders bouwen af door personeelstekort en de buurregio's hebben zelf geen ruimte."),
                "regionTried": "De regiotafel heeft met de aanbieders en de coördinerend zorgverzekeraar gezocht naar overname en tijdelijke opvang in buurregio's; dat geeft geen structurele capaciteit.",
                "affectedOfferIds": affected,
                "urgency": URGENCIES[(ri + e) % URGENCIES.len()],
                "status": status,
                "declineReason": (status == "DECLINED").then_some("Het aanbod heeft een bovenregionale functie en is voor de regio bereikbaar in een buurregio."),
                "publicSummary": decided.then(|| format!("De landelijke tafel heeft het knelpunt van {region_name} besproken en een besluit genomen.")),
                "raisedBy": chair.id,
                "raisedAt": format!("{year}-{raised_month:02}-01T10:00:00Z"),
                "transitions": transitions,
                "measures": own_measures,
            }));
        }
    }
    let escalation_count = escalations.len();
    write_file(&national_dir, "escalations.json", escalations)?;
    write_file(&national_dir, "national-kpis.json", demo_items(NATIONAL, "national-kpis.json")?)?;
    write_file(&national_dir, "expertise-networks.json", vec![])?;
    write_file(&national_dir, "supra-regional-listings.json", vec![])?;

    // ---------- contracting ----------
    let insurers: Vec<&Value> = others.iter().filter(|o| o["kind"] == "INSURER").collect();
    anyhow::ensure!(!insurers.is_empty() || volume.contracts_per_provider == 0, "the demo set has no insurers");
    let mut contracts = Vec::new();
    let mut covered = 0;
    for (n, provider) in providers.iter().enumerate() {
        let region = &regions[provider.region];
        let code = str_of(region, "code")?;
        // The coordinating insurer first, then the others at the region's table, then any.
        let mut candidates: Vec<&str> = Vec::new();
        if let Some(c) = region["coordinatingInsurerId"].as_str() {
            candidates.push(c);
        }
        for i in &insurers {
            let sits = i["regions"].as_array().is_some_and(|r| r.iter().any(|c| c == code));
            if sits && !candidates.contains(&str_of(i, "id")?) {
                candidates.push(str_of(i, "id")?);
            }
        }
        for i in &insurers {
            if !candidates.contains(&str_of(i, "id")?) {
                candidates.push(str_of(i, "id")?);
            }
        }
        for (j, insurer) in candidates.iter().take(volume.contracts_per_provider).enumerate() {
            let first_year = year - 1;
            let last_year = year + 1 + ((n + j) % 3) as i32;
            // The third insurer covers two thirds of the offers: some offers have fewer than
            // three insurers and show no "secured until" year.
            let take = if j < 2 { provider.offers.len() } else { provider.offers.len() * 2 / 3 };
            let offer_ids = &provider.offers[..take];
            covered += offer_ids.len();
            contracts.push(json!({
                "id": uid(5, n * volume.contracts_per_provider + j),
                "insurerId": insurer, "providerId": provider.id,
                "status": if n % 10 == 9 && j == 2 { "PROPOSED" } else { "AGREED" },
                "firstYear": first_year, "lastYear": last_year,
                "coveredOfferIds": offer_ids,
                "kpis": [{ "kpiCode": "CRUCIAL_OFFER_COMPLETENESS",
                           "targets": (first_year..=last_year).map(|y| json!({ "year": y, "value": 90.0 + f64::from(y - first_year) })).collect::<Vec<_>>() }],
                "volumeAgreement": format!("Maximaal {} behandeltrajecten per jaar; bij overschrijding in overleg.", 200 + (n % 7) * 40),
                "guarantee": { "amountEur": 1_000_000.0 + (n % 9) as f64 * 250_000.0, "description": "Beschikbaarheidsgarantie bij onderbezetting van de afdeling." },
                "evaluationMoments": (first_year..=last_year).map(|y| format!("{y}-06-30")).collect::<Vec<_>>(),
                "notes": "Meerjarige afspraak met tussentijdse evaluatie; relationeel contracteren.",
                "returnReason": null, "terminationReason": null,
            }));
        }
    }
    let contract_count = contracts.len();
    write_file(&contracting_dir, "contracts.json", contracts)?;
    // Region and category of every offer (contracting records them when terms are checked; the
    // regional contracting picture groups by them). Offer k of a provider is of category k mod 6.
    let mut places = Vec::new();
    for provider in &providers {
        let code = str_of(&regions[provider.region], "code")?;
        for (k, offer) in provider.offers.iter().enumerate() {
            places.push(json!({ "offerId": offer, "regionCode": code, "category": CATEGORIES[k % CATEGORIES.len()] }));
        }
    }
    write_file(&contracting_dir, "offer-places.json", places)?;
    write_file(&contracting_dir, "guidelines.json", demo_items(CONTRACTING, "guidelines.json")?)?;

    Ok(Generated {
        region_codes: regions.iter().map(|r| str_of(r, "code").map(str::to_owned)).collect::<anyhow::Result<_>>()?,
        organisations: organisation_count,
        providers: providers.len(),
        offers: providers.iter().map(|p| p.offers.len()).sum(),
        contracts: contract_count,
        covered_offers: covered,
        escalations: escalation_count,
        measures,
        waiting_reports,
        signals: signal_count,
        national_table_org,
    })
}

#[cfg(test)]
mod tests {
    use sea_orm::{EntityTrait as _, PaginatorTrait as _};
    use sea_orm_migration::MigratorTrait as _;

    use super::*;

    #[tokio::test]
    async fn contracting_seeds_a_place_for_every_offer() {
        let dir = std::env::temp_dir().join(format!("ggzhub-bench-data-{}", uuid::Uuid::new_v4()));
        let volume = Volume {
            providers_per_region: 2,
            offers_per_provider: 7,
            escalations_per_region: 1,
            contracts_per_provider: 3,
            waiting_groups_per_provider: 2,
            signals_per_provider: 1,
        };
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 4).expect("a date");
        let generated = write(&dir, volume, today).expect("writes");
        let db = sea_orm::Database::connect("sqlite::memory:").await.expect("connects");
        ggzhub_contracting::migration::Migrator::up(&db, None).await.expect("migrates");
        let source = ggzhub_contracting::seed::Source::Dir(&dir.join("contracting"));
        ggzhub_contracting::seed::seed(&db, &source).await.expect("seeds").expect("into an empty database");
        let places = ggzhub_contracting::entity::offer_place::Entity::find().count(&db).await.expect("counts");
        assert_eq!(places as usize, generated.offers);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[tokio::test]
    async fn region_seed_loads_waiting_times_and_signals_with_24_months_of_history() {
        let dir = std::env::temp_dir().join(format!("ggzhub-bench-data-{}", uuid::Uuid::new_v4()));
        let volume = Volume {
            providers_per_region: 1,
            offers_per_provider: 6,
            escalations_per_region: 1,
            contracts_per_provider: 1,
            waiting_groups_per_provider: 2,
            signals_per_provider: 2,
        };
        let today = ggzhub_kit::calendar::today();
        let generated = write(&dir, volume, today).expect("writes");
        assert_eq!(generated.waiting_reports, generated.providers * 2);
        assert_eq!(generated.signals, generated.providers * 2);
        let db = sea_orm::Database::connect("sqlite::memory:").await.expect("connects");
        ggzhub_region::migration::Migrator::up(&db, None).await.expect("migrates");
        let source = ggzhub_region::seed::Source::Dir(&dir.join("region"));
        let report = ggzhub_region::seed::seed(&db, &source).await.expect("seeds");
        assert_eq!((report.waiting_times, report.signals), (generated.waiting_reports, generated.signals));
        let reports = ggzhub_region::entity::waiting_time::Entity::find().count(&db).await.expect("counts");
        assert_eq!(reports as usize, generated.waiting_reports * 24, "24 months of reports per series");
        std::fs::remove_dir_all(&dir).ok();
    }
}
