//! The access matrix for contracting, as pure functions. The hard rule (competition law): a
//! contract's terms are read only by its two parties; to anyone else it does not exist.

use ggzhub_kit::token::scopes;
use ggzhub_kit::{ApiError, ApiResult, Caller, OrgKind};
use sea_orm::{ColumnTrait as _, Condition};

use crate::entity::contract;

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

/// Reading own contracts: insurers and providers with `contracts:read`. Everyone else sees
/// nothing of contracts (guidelines excepted).
pub fn read_contracts(c: &Caller) -> ApiResult<()> {
    c.require_kind(&[OrgKind::Insurer, OrgKind::Provider], "read contracts")?;
    c.require_scope(scopes::CONTRACTS_READ)
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
