//! ggzhub-contracting: the contracting subgraph — insurer–provider contracts (multi-year, with
//! KPIs and guarantees), contracting guidelines and contract coverage per care offer, under the
//! competition-law rule that no insurer ever learns another insurer's contract terms.

pub mod access;
pub mod app;
pub mod clock;
pub mod domain;
pub mod entity;
pub mod graphql;
pub mod loader;
pub mod migration;
pub mod picture;
pub mod seed;

/// The audience of internal tokens for this subgraph.
pub const AUDIENCE: &str = "contracting";
/// Service name in logs and traces.
pub const SERVICE_NAME: &str = "ggzhub-contracting";
/// Fewest insurers behind any figure that summarises contract terms (ACM: no aggregate may be
/// narrow enough to reveal one insurer's terms).
pub const MIN_INSURERS_FOR_TERM_FIGURES: i64 = 3;
