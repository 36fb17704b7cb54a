//! ggzhub-kit: what every ggzhub service shares — database, identity (the internal token and
//! `Caller`), error codes, server bootstrap, telemetry, the audit log and test helpers.

pub mod audit;
pub mod caller;
pub mod db;
pub mod error;
pub mod graphql;
pub mod server;
pub mod telemetry;
pub mod token;

#[cfg(feature = "testing")]
pub mod testing;

pub use caller::Caller;
pub use error::{ApiError, ApiResult, ErrorCode, GqlResultExt};
pub use token::{OrgKind, SigningKey, TokenSigner, TokenVerifier};
