//! Demo data (DEMO DATA: fictitious, not real figures) for contracting: guidelines and
//! contracts between the demo insurers and providers, referring to the region and national-table
//! demo data by id.

use std::path::Path;

use anyhow::Context as _;
use chrono::{NaiveDate, Utc};
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait, PaginatorTrait, TransactionTrait};
use serde::Deserialize;

use crate::domain::*;
use crate::entity::{contract, covered, guideline};

/// The demo files built into the binary, by file name.
pub const DEMO_FILES: &[(&str, &str)] = &[
    ("guidelines.json", include_str!("../data/demo/guidelines.json")),
    ("contracts.json", include_str!("../data/demo/contracts.json")),
    ("offer-places.json", include_str!("../data/demo/offer-places.json")),
];

#[derive(Deserialize)]
struct File<T> {
    items: Vec<T>,
}

#[derive(Deserialize)]
struct GuidelineRow {
    id: String,
    year: i32,
    title: String,
    body: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContractRow {
    id: String,
    insurer_id: String,
    provider_id: String,
    status: ContractStatus,
    first_year: i32,
    last_year: i32,
    covered_offer_ids: Vec<String>,
    kpis: Vec<ContractKpi>,
    volume_agreement: String,
    guarantee: Guarantee,
    evaluation_moments: Vec<NaiveDate>,
    notes: String,
    return_reason: Option<String>,
    termination_reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OfferPlaceRow {
    offer_id: String,
    region_code: String,
    category: String,
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

/// Loads `source` into an empty database in one transaction. Returns the number of contracts
/// loaded, or `None` when the database already held data.
pub async fn seed(db: &DatabaseConnection, source: &Source<'_>) -> anyhow::Result<Option<usize>> {
    if contract::Entity::find().count(db).await? > 0 || guideline::Entity::find().count(db).await? > 0 {
        return Ok(None);
    }
    let guidelines: Vec<GuidelineRow> = parse(source, "guidelines.json")?;
    let contracts: Vec<ContractRow> = parse(source, "contracts.json")?;
    // Region and category of the covered offers; a directory without the file seeds none (the
    // regional contracting picture then counts only contracts made through the API).
    let places: Vec<OfferPlaceRow> = match source {
        Source::Dir(dir) if !dir.join("offer-places.json").exists() => vec![],
        _ => parse(source, "offer-places.json")?,
    };
    let now = Utc::now();
    let nobody = uuid::Uuid::nil().to_string();
    let txn = db.begin().await?;
    for g in &guidelines {
        guideline::Entity::insert(guideline::ActiveModel {
            id: Set(g.id.clone()),
            year: Set(g.year),
            title: Set(g.title.clone()),
            body: Set(g.body.clone()),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            created_by: Set(nobody.clone()),
            updated_by: Set(nobody.clone()),
        })
        .exec(&txn)
        .await
        .context("inserting guidelines")?;
    }
    for k in &contracts {
        let terms = ContractTerms {
            first_year: k.first_year,
            last_year: k.last_year,
            covered_offer_ids: k.covered_offer_ids.clone(),
            kpis: k.kpis.clone(),
            volume_agreement: k.volume_agreement.clone(),
            guarantee: k.guarantee.clone(),
            evaluation_moments: k.evaluation_moments.clone(),
            notes: k.notes.clone(),
        };
        contract::Entity::insert(contract::ActiveModel {
            id: Set(k.id.clone()),
            insurer_id: Set(k.insurer_id.clone()),
            provider_id: Set(k.provider_id.clone()),
            status: Set(k.status.as_str().to_owned()),
            first_year: Set(k.first_year),
            last_year: Set(k.last_year),
            terms: Set(serde_json::to_value(&terms)?),
            terms_version: Set(1),
            pending_terms: Set(None),
            return_reason: Set(k.return_reason.clone()),
            amendment_rejection: Set(None),
            termination_reason: Set(k.termination_reason.clone()),
            agreed_at: Set(matches!(k.status, ContractStatus::Agreed | ContractStatus::Terminated).then_some(now)),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            created_by: Set(k.insurer_id.clone()),
            updated_by: Set(k.insurer_id.clone()),
        })
        .exec(&txn)
        .await
        .context("inserting contracts")?;
        for offer in &k.covered_offer_ids {
            covered::Entity::insert(covered::ActiveModel {
                id: Set(uuid::Uuid::now_v7().to_string()),
                contract_id: Set(k.id.clone()),
                offer_id: Set(offer.clone()),
            })
            .exec(&txn)
            .await
            .context("inserting covered offers")?;
        }
    }
    let places: Vec<crate::picture::OfferPlace> = places
        .into_iter()
        .map(|p| crate::picture::OfferPlace { offer: p.offer_id, region: p.region_code, category: p.category })
        .collect();
    for chunk in places.chunks(500) {
        crate::picture::record_places(&txn, chunk).await.context("inserting offer places")?;
    }
    txn.commit().await?;
    Ok(Some(contracts.len()))
}
