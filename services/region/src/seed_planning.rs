//! DEMO DATA for issue 21 items 4 and 5: a few regions' own care forms, planned offers (one
//! withdrawn) and patient input both published and kept internal. Deterministic: fixed ids and
//! texts, added only when the demo regions, organisations and overviews they refer to exist (a
//! seed directory of another shape gets none of them).

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter};

use crate::domain::PlannedOfferStatus;
use crate::entity::{care_form, organisation, overview, patient_input, planned_offer, region};

/// (region, code, category, name, description, motivation)
const FORMS: &[(&str, &str, &str, &str, &str, &str)] = &[
    (
        "utrecht",
        "UTRECHT_YOUNG_ADULT_CRISIS_BRIDGE",
        "ACUTE",
        "Crisisbrug jongvolwassenen",
        "Short-term crisis support for people aged 18 to 25 between youth and adult crisis services.",
        "Young adults fall between the youth crisis team and the adult crisis service; the regional overview names this gap.",
    ),
    (
        "groningen",
        "GRONINGEN_RURAL_FACT_EHEALTH",
        "OUTREACH",
        "Rurale FACT met e-health",
        "FACT team working partly through video contact in thinly populated areas.",
        "Travel times in the north-east make weekly home visits impossible for some clients; the national FACT form assumes shorter distances.",
    ),
    (
        "zeeland",
        "ZEELAND_CROSS_WATER_CRISIS_BEDS",
        "ACUTE",
        "Crisisbedden Zeeuws-Vlaanderen",
        "A small number of crisis beds south of the Westerschelde.",
        "Zeeuws-Vlaanderen is far from the nearest crisis beds by road; the region needs beds on its own side of the water.",
    ),
];

/// (id, region, category, care form, unit name, location, intended provider, overview, motivation,
/// withdrawal reason — `Some` for a withdrawn one)
type PlannedRow = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    &'static str,
    Option<&'static str>,
);

const PLANNED: &[PlannedRow] = &[
    (
        "a3a78eb3-aac3-5f69-bbef-32bb09e9240f",
        "utrecht",
        "ACUTE",
        "UTRECHT_YOUNG_ADULT_CRISIS_BRIDGE",
        "Crisisbrug jongvolwassenen Utrecht-Oost",
        Some("Utrecht"),
        Some("7c50861d-9493-580f-bb12-590e1d6c1336"),
        Some("2ffaf5d1-d3ed-5b73-ade0-8a7c916d89a7"),
        "The 2026 overview found no crisis support for young adults; the table agreed to start one in 2027.",
        None,
    ),
    (
        "5e3ab353-f261-59de-ad0c-8dd8551af231",
        "zeeland",
        "CLINICAL",
        "MHC_ADMISSION",
        "Opnameafdeling Zeeuws-Vlaanderen",
        Some("Terneuzen"),
        None,
        None,
        "Admissions now travel to Goes or beyond; the table wants a small admission ward in Zeeuws-Vlaanderen.",
        None,
    ),
    (
        "45b52d8b-572e-5753-9f42-8e11d302326d",
        "groningen",
        "SECURE",
        "SECURE_BED_LEVEL_2",
        "Beveiligde bedden niveau 2 Groningen",
        None,
        None,
        Some("a3215a8b-614d-52f2-9e41-d13c3facabe9"),
        "Secure level-2 beds are far away for people from the province.",
        Some("A neighbouring region's new ward serves the province; the table agreed it covers the need."),
    ),
];

/// (id, overview, organisation, internal, text)
const INPUTS: &[(&str, &str, &str, bool, &str)] = &[
    (
        "78712206-1052-5435-aabd-d8dba78dac9d",
        "2ffaf5d1-d3ed-5b73-ade0-8a7c916d89a7",
        "41e5be88-509b-51de-90a5-2dfd2e806caf",
        true,
        "For the table only: our members report that the crisis line's waiting music discourages callers; we will raise it with the provider first.",
    ),
    (
        "89feed3b-e385-582c-9cf6-101802d93068",
        "77d8bc6e-bbc0-5314-908c-cffd5c746d33",
        "41e5be88-509b-51de-90a5-2dfd2e806caf",
        false,
        "On the draft: please name the crisis support for young adults as missing care, not as a problem of one provider.",
    ),
    (
        "60fe9ed1-fd2b-5889-8132-61dd034fe1c7",
        "a3215a8b-614d-52f2-9e41-d13c3facabe9",
        "877bde5d-38e1-5ff1-b6eb-4dcdb4131179",
        true,
        "For the table only: two member groups stopped joining outreach evaluations after staff changes; we ask the table to follow up.",
    ),
];

/// Adds the demo's regional care forms, planned offers and patient input (in the seed's
/// transaction). `by` records the demo's own rows as made by the region's chair when the demo
/// register names one (`chairs`: region → organisation id), else by `by`.
pub async fn generate<C: ConnectionTrait>(
    conn: &C,
    chairs: &[(String, String)],
    by: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let chair_of = |region: &str| {
        chairs.iter().find(|(r, _)| r == region).map(|(_, o)| o.clone()).unwrap_or_else(|| by.to_owned())
    };
    let regions: Vec<String> = region::Entity::find().all(conn).await?.into_iter().map(|r| r.code).collect();
    let known = |code: &str| regions.iter().any(|r| r == code);
    for (code, form, category, name, description, motivation) in FORMS {
        if !known(code) {
            continue;
        }
        care_form::Entity::insert(care_form::ActiveModel {
            code: Set((*form).to_owned()),
            category: Set((*category).to_owned()),
            name: Set((*name).to_owned()),
            description: Set((*description).to_owned()),
            region_code: Set(Some((*code).to_owned())),
            motivation: Set(Some((*motivation).to_owned())),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            created_by: Set(chair_of(code)),
            updated_by: Set(chair_of(code)),
            retired_at: Set(None),
            retirement_reason: Set(None),
        })
        .exec(conn)
        .await?;
    }
    for (id, code, category, form, unit, location, provider, overview_id, motivation, withdrawn) in PLANNED {
        let form_exists = care_form::Entity::find_by_id((*form).to_owned()).count(conn).await? > 0;
        let provider_exists = match provider {
            Some(p) => organisation::Entity::find_by_id((*p).to_owned()).count(conn).await? > 0,
            None => true,
        };
        let overview_exists = match overview_id {
            Some(o) => overview::Entity::find_by_id((*o).to_owned()).count(conn).await? > 0,
            None => true,
        };
        if !(known(code) && form_exists && provider_exists && overview_exists) {
            continue;
        }
        let chair = chair_of(code);
        let status = if withdrawn.is_some() { PlannedOfferStatus::Withdrawn } else { PlannedOfferStatus::Planned };
        planned_offer::Entity::insert(planned_offer::ActiveModel {
            id: Set((*id).to_owned()),
            region_code: Set((*code).to_owned()),
            category: Set((*category).to_owned()),
            care_form: Set((*form).to_owned()),
            unit_name: Set((*unit).to_owned()),
            location: Set(location.map(str::to_owned)),
            intended_provider_id: Set(provider.map(str::to_owned)),
            overview_id: Set(overview_id.map(str::to_owned)),
            motivation: Set((*motivation).to_owned()),
            status: Set(status.as_str().to_owned()),
            realised_offer_id: Set(None),
            withdrawal_reason: Set(withdrawn.map(str::to_owned)),
            version: Set(if withdrawn.is_some() { 2 } else { 1 }),
            created_at: Set(now),
            updated_at: Set(now),
            created_by: Set(chair.clone()),
            updated_by: Set(chair),
        })
        .exec(conn)
        .await?;
    }
    for (id, overview_id, org, internal, text) in INPUTS {
        let overview_exists = overview::Entity::find_by_id((*overview_id).to_owned()).count(conn).await? > 0;
        let org_exists = organisation::Entity::find().filter(organisation::Column::Id.eq(*org)).count(conn).await? > 0;
        if !(overview_exists && org_exists) {
            continue;
        }
        patient_input::Entity::insert(patient_input::ActiveModel {
            id: Set((*id).to_owned()),
            overview_id: Set((*overview_id).to_owned()),
            organisation_id: Set((*org).to_owned()),
            text: Set((*text).to_owned()),
            internal: Set(*internal),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            created_by: Set((*org).to_owned()),
            updated_by: Set((*org).to_owned()),
        })
        .exec(conn)
        .await?;
    }
    Ok(())
}
