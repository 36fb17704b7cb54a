//! The contracting vocabulary and the contract terms.

use async_graphql::{InputObject, SimpleObject};
use chrono::NaiveDate;
use ggzhub_kit::string_enum;
use serde::{Deserialize, Serialize};

string_enum! {
    /// Lifecycle of a contract: the insurer drafts and proposes, the provider agrees or sends it
    /// back; an agreed contract can be amended (both agree) or terminated.
    ContractStatus {
        /// Being written by the insurer.
        Draft => "DRAFT",
        /// Proposed to the provider.
        Proposed => "PROPOSED",
        /// Agreed by both parties.
        Agreed => "AGREED",
        /// Ended early, with a reason.
        Terminated => "TERMINATED",
    }
}

string_enum! {
    /// How `ContractCoverage` shows its figures.
    CoverageBand {
        /// The figures as they are: at least three insurers other than the caller stand behind
        /// them (or the caller is the offer's provider, reading its own contracts).
        Exact => "EXACT",
        /// Fewer than three insurers other than the caller (0, 1 or 2): no figures.
        FewerThanThree => "FEWER_THAN_THREE",
    }
}

/// A target per year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SimpleObject, InputObject)]
#[graphql(input_name = "YearTargetInput")]
pub struct YearTarget {
    /// Year.
    pub year: i32,
    /// Target value.
    pub value: f64,
}

/// A KPI agreed in a contract, tied to a national KPI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SimpleObject, InputObject)]
#[graphql(input_name = "ContractKpiInput")]
#[serde(rename_all = "camelCase")]
pub struct ContractKpi {
    /// Code of the national KPI (national-table subgraph).
    pub kpi_code: String,
    /// Targets per contract year.
    pub targets: Vec<YearTarget>,
}

/// The insurer's financial guarantee.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SimpleObject, InputObject)]
#[graphql(input_name = "GuaranteeInput")]
#[serde(rename_all = "camelCase")]
pub struct Guarantee {
    /// Guaranteed amount in euros, if any.
    pub amount_eur: Option<f64>,
    /// What is guaranteed (no personal data).
    pub description: String,
}

/// The terms of a contract: what only its two parties may read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SimpleObject, InputObject)]
#[graphql(input_name = "ContractTermsInput")]
#[serde(rename_all = "camelCase")]
pub struct ContractTerms {
    /// First contract year.
    pub first_year: i32,
    /// Last contract year (multi-year allowed).
    pub last_year: i32,
    /// Ids of the provider's care offers the contract covers.
    pub covered_offer_ids: Vec<String>,
    /// KPIs tied to national KPIs, with a target per year.
    pub kpis: Vec<ContractKpi>,
    /// Volume agreement (no personal data).
    pub volume_agreement: String,
    /// Financial guarantee.
    pub guarantee: Guarantee,
    /// Interim evaluation moments.
    pub evaluation_moments: Vec<NaiveDate>,
    /// Notes (no personal data).
    pub notes: String,
}
