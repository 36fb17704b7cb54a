//! ggzhub-kit: what every ggzhub service shares — database, identity (the internal token and
//! `Caller`), error codes, server bootstrap, telemetry, the audit log and test helpers.

pub mod audit;
pub mod caller;
pub mod db;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod page;
pub mod people;
pub mod refs;
pub mod server;
pub mod telemetry;
pub mod tls;
pub mod token;
pub mod validate;
pub mod write;

#[cfg(feature = "testing")]
pub mod testing;

pub use caller::Caller;
pub use error::{ApiError, ApiResult, ErrorCode, GqlResultExt};
pub use token::{OrgKind, SigningKey, TokenSigner, TokenVerifier};

/// Crates the exported macros refer to.
#[doc(hidden)]
pub mod reexport {
    pub use async_graphql;
    pub use serde;
}
