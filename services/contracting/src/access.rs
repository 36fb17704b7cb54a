//! The access matrix for contracting, as pure functions. The hard rule (competition law): a
//! contract's terms are read only by its two parties; to anyone else it does not exist.

use ggzhub_kit::token::scopes;
use ggzhub_kit::{ApiError, ApiResult, Caller, OrgKind};
use sea_orm::{ColumnTrait as _, Condition};

use crate::entity::contract;
use crate::loader::CoveringContract;

/// Whether `c` is one of the two parties of `k` (as the organisation kind it is party as).
pub fn is_party(c: &Caller, k: &contract::Model) -> bool {
    let org = c.org.to_string();
    (c.kind == OrgKind::Insurer && k.insurer_id == org) || (c.kind == OrgKind::Provider && k.provider_id == org)
}

/// The condition "the caller is a party", for every query that finds contracts. A lookup by id
/// carries it in its `WHERE` clause (`id = ? AND insurer_id = ?`), so a contract of others is never
/// loaded: asking about it runs the same statement, finds the same nothing and answers the same
/// bytes as asking about a random id.
pub fn party_condition(c: &Caller) -> Condition {
    let org = c.org.to_string();
    match c.kind {
        OrgKind::Insurer => Condition::all().add(contract::Column::InsurerId.eq(org)),
        OrgKind::Provider => Condition::all().add(contract::Column::ProviderId.eq(org)),
        // Nobody else is ever a party: match nothing.
        _ => Condition::all().add(contract::Column::Id.is_null()),
    }
}

/// The condition "the caller is no party": the contracts an aggregate shown to the caller is
/// computed over. For an insurer, the other insurers' contracts; for a provider, the other
/// providers' contracts; for everyone else, every contract.
pub fn not_party_condition(c: &Caller) -> Condition {
    party_condition(c).not()
}

/// Whether a contracting figure computed over contracts the caller is no party to may be shown:
/// at least [`crate::MIN_INSURERS_FOR_TERM_FIGURES`] distinct insurers stand behind it (one band
/// for 0, 1 and 2, as for [`shown_coverage`]).
pub fn contracting_figure_shown(insurers_behind: i64) -> bool {
    insurers_behind >= crate::MIN_INSURERS_FOR_TERM_FIGURES
}

/// Reading own contracts: insurers and providers with `contracts:read`. Everyone else sees
/// nothing of contracts (guidelines excepted).
pub fn read_contracts(c: &Caller) -> ApiResult<()> {
    c.require_kind(&[OrgKind::Insurer, OrgKind::Provider], "read contracts")?;
    c.require_scope(scopes::CONTRACTS_READ)
}

/// Asking which insurers contract an offer (`signalContractors`): only the region subgraph's
/// own token, with the service scope `signals:audience`. The gateway never grants that scope to
/// an organisation (it narrows every caller to its kind's scopes), so no insurer or provider
/// learns another insurer's covered offers this way. The caller must also be no organisation
/// (the nil id, kind `HUB_OPERATOR`, as the region subgraph's own token is): should the scope
/// ever reach an organisation's token by a later change, the organisation is still refused.
pub fn ask_signal_contractors(c: &Caller) -> ApiResult<()> {
    if !c.org.is_nil() || c.kind != OrgKind::HubOperator {
        return Err(ApiError::Forbidden("only the hub's own services ask which insurers contract an offer".into()));
    }
    c.require_scope(scopes::SIGNALS_AUDIENCE)
}

/// Writing as insurer (drafting, proposing, amending).
pub fn write_as_insurer(c: &Caller) -> ApiResult<()> {
    c.require_kind(&[OrgKind::Insurer], "draft, propose or amend contracts")?;
    c.require_scope(scopes::CONTRACTS_WRITE)
}

/// Writing as a party (agreeing, returning, terminating).
pub fn write_as_party(c: &Caller) -> ApiResult<()> {
    c.require_kind(&[OrgKind::Insurer, OrgKind::Provider], "change contracts")?;
    c.require_scope(scopes::CONTRACTS_WRITE)
}

/// The error for a contract the caller may not see: exactly the one for a missing contract.
pub fn no_such_contract(id: &str) -> ApiError {
    ApiError::not_found(format!("no contract with id {id}"))
}

/// Guidelines: readable by every organisation but the hub operator.
pub fn read_guidelines(c: &Caller) -> ApiResult<()> {
    c.require_read()?;
    if c.kind == OrgKind::HubOperator {
        return Err(ApiError::forbidden("the hub operator does not read contracting guidelines"));
    }
    Ok(())
}

/// Guidelines are written by the national table.
pub fn write_guidelines(c: &Caller) -> ApiResult<()> {
    c.require_kind(&[OrgKind::NationalTable], "write contracting guidelines")?;
    c.require_scope(scopes::NATIONAL_WRITE)
}

/// Coverage of an offer in `region`: providers and insurers at that region's table, and the
/// national table.
pub fn read_coverage(c: &Caller, region: &str) -> ApiResult<()> {
    c.require_read()?;
    let ok = match c.kind {
        OrgKind::NationalTable => true,
        OrgKind::Provider | OrgKind::Insurer => c.is_participant(region),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "contract coverage is visible to the region's providers and insurers and the national table",
        ))
    }
}

/// The coverage figures shown to a caller: how many insurers other than the caller contract the
/// offer and the latest year their contracts run to — or `None`, one band for 0, 1 and 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShownCoverage {
    /// Distinct insurers other than the caller behind the figures.
    pub other_insurers: i32,
    /// Latest last year among their contracts (`None` without contracts).
    pub secured_until: Option<i32>,
}

/// What `c` is shown of the agreed contracts `covering` an offer of `offer_provider`.
///
/// DOMAIN.md: an aggregate that touches contracts is computed over the insurers other than the
/// caller and shown only when at least [`crate::MIN_INSURERS_FOR_TERM_FIGURES`] of them stand
/// behind it. An insurer's own contracts are left out (were they counted, an insurer joining as
/// the third would read figures made of two competitors); for the national table and providers
/// of other offers no contract is their own, so every insurer counts. The one exception is the
/// offer's own provider: every contract covering an offer is its provider's (terms may cover only
/// the provider's offers), so it is shown the exact figures — computed from its own contracts
/// alone, which it reads in full anyway, so they tell it nothing new.
pub fn shown_coverage(c: &Caller, offer_provider: &str, covering: &[CoveringContract]) -> Option<ShownCoverage> {
    let org = c.org.to_string();
    let figures = |contracts: Vec<&CoveringContract>| {
        let insurers: std::collections::BTreeSet<&str> = contracts.iter().map(|k| k.insurer.as_str()).collect();
        ShownCoverage {
            other_insurers: i32::try_from(insurers.len()).unwrap_or(i32::MAX),
            secured_until: contracts.iter().map(|k| k.last_year).max(),
        }
    };
    if c.kind == OrgKind::Provider && offer_provider == org {
        return Some(figures(covering.iter().filter(|k| k.provider == org).collect()));
    }
    let others = figures(covering.iter().filter(|k| !(c.kind == OrgKind::Insurer && k.insurer == org)).collect());
    (i64::from(others.other_insurers) >= crate::MIN_INSURERS_FOR_TERM_FIGURES).then_some(others)
}

/// Which audit entries of this subgraph `c` reads: its own actions (with their values); the
/// national table and the hub operator also read everyone else's, except entries about a
/// contract. Those name a contract's parties and when it was drafted, agreed, amended or
/// terminated, which are contract terms (DOMAIN.md: "when its contracts start or end"), so only
/// the organisation that acted reads them; redacting their values would still leave the party and
/// the moment.
pub fn audit_filter(c: &Caller) -> ApiResult<Condition> {
    use ggzhub_kit::audit::entry;
    c.require_read()?;
    let own = entry::Column::Org.eq(c.org.to_string());
    Ok(match c.kind {
        OrgKind::NationalTable | OrgKind::HubOperator => {
            Condition::any().add(own).add(entry::Column::Entity.ne(CONTRACT_ENTITY))
        }
        _ => Condition::all().add(own),
    })
}

/// The entity name audit entries about contracts carry.
pub const CONTRACT_ENTITY: &str = "Contract";

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    const P1: Uuid = Uuid::from_u128(1);
    const P2: Uuid = Uuid::from_u128(2);
    const A: Uuid = Uuid::from_u128(0xa);
    const B: Uuid = Uuid::from_u128(0xb);
    const C: Uuid = Uuid::from_u128(0xc);
    const D: Uuid = Uuid::from_u128(0xd);

    fn caller(kind: OrgKind, org: Uuid) -> Caller {
        Caller {
            org,
            kind,
            subject: "tester".to_owned(),
            regions: ["utrecht".to_owned()].into(),
            roles: Default::default(),
            scopes: ["picture:read".to_owned()].into(),
        }
    }

    fn contracts(of: &[(Uuid, i32)]) -> Vec<CoveringContract> {
        of.iter()
            .map(|(insurer, last)| CoveringContract {
                insurer: insurer.to_string(),
                provider: P1.to_string(),
                last_year: *last,
            })
            .collect()
    }

    fn shown(other_insurers: i32, secured_until: Option<i32>) -> Option<ShownCoverage> {
        Some(ShownCoverage { other_insurers, secured_until })
    }

    #[test]
    fn an_insurer_never_reads_a_figure_of_fewer_than_three_competitors() {
        let p1 = P1.to_string();
        // Two insurers at the table: B reads nothing of A's coverage, whether B contracts or not.
        assert_eq!(shown_coverage(&caller(OrgKind::Insurer, B), &p1, &contracts(&[(A, 2030)])), None);
        assert_eq!(shown_coverage(&caller(OrgKind::Insurer, B), &p1, &contracts(&[])), None);
        // B joins as the third: the two others are still too few.
        let three = contracts(&[(A, 2030), (C, 2028), (B, 2040)]);
        assert_eq!(shown_coverage(&caller(OrgKind::Insurer, B), &p1, &three), None);
        // With three others, the figures are theirs: B's own end year does not count.
        let four = contracts(&[(A, 2030), (C, 2028), (D, 2029), (B, 2040)]);
        assert_eq!(shown_coverage(&caller(OrgKind::Insurer, B), &p1, &four), shown(3, Some(2030)));
        // Two contracts of one insurer count once.
        let twice = contracts(&[(A, 2030), (A, 2031), (C, 2028)]);
        assert_eq!(shown_coverage(&caller(OrgKind::Insurer, D), &p1, &twice), None);
    }

    #[test]
    fn others_need_three_insurers_and_the_offers_provider_reads_its_own_figures() {
        let p1 = P1.to_string();
        let two = contracts(&[(A, 2030), (C, 2028)]);
        for reader in [caller(OrgKind::NationalTable, D), caller(OrgKind::Provider, P2)] {
            assert_eq!(shown_coverage(&reader, &p1, &two), None, "{reader:?}");
            assert_eq!(
                shown_coverage(&reader, &p1, &contracts(&[(A, 2030), (B, 2031), (C, 2028)])),
                shown(3, Some(2031))
            );
        }
        let own = caller(OrgKind::Provider, P1);
        assert_eq!(shown_coverage(&own, &p1, &two), shown(2, Some(2030)));
        assert_eq!(shown_coverage(&own, &p1, &[]), shown(0, None));
        // Only its own contracts, even were another provider's to cover the offer.
        let mut foreign = contracts(&[(B, 2035)]);
        foreign[0].provider = P2.to_string();
        assert_eq!(shown_coverage(&own, &p1, &foreign), shown(0, None));
    }

    #[test]
    fn only_the_service_scope_asks_which_insurers_contract_an_offer() {
        for kind in OrgKind::ALL {
            let mut c = caller(kind, A);
            c.scopes = scopes::ALL.iter().map(|s| (*s).to_owned()).collect();
            assert!(ask_signal_contractors(&c).is_err(), "{kind:?} with every organisation scope");
        }
        // An organisation holding the service scope (were it ever granted) is still refused.
        for kind in OrgKind::ALL {
            let mut c = caller(kind, A);
            c.scopes = [scopes::SIGNALS_AUDIENCE.to_owned()].into();
            assert!(ask_signal_contractors(&c).is_err(), "{kind:?} organisation with the service scope");
        }
        let mut region = caller(OrgKind::HubOperator, Uuid::nil());
        assert!(ask_signal_contractors(&region).is_err(), "the service identity without the scope");
        region.scopes = [scopes::SIGNALS_AUDIENCE.to_owned()].into();
        assert!(ask_signal_contractors(&region).is_ok());
    }
}
