//! ggzhub-kit: what every ggzhub service shares — database, identity (the internal token and
//! `Caller`), error codes, server bootstrap, telemetry, the audit log and test helpers.

//!
//! Features: `db` (sea-orm: connections, the audit log, paging over tables, the write path) and
//! `graphql` (async-graphql: error extensions, GraphQL enums, the schema helpers), both on by
//! default; the gateway turns them off and uses only identity, tokens, the server layers, TLS and
//! telemetry. `testing` adds the throw-away PKI, and with `db` the per-test database helpers.

pub mod allocator;
#[cfg(all(feature = "db", feature = "graphql"))]
pub mod audit;
#[cfg(feature = "graphql")]
pub mod batch;
pub mod calendar;
pub mod caller;
#[cfg(feature = "db")]
pub mod changes;
#[cfg(feature = "db")]
pub mod db;
#[cfg(feature = "graphql")]
pub mod domain;
pub mod error;
pub mod events;
#[cfg(feature = "graphql")]
pub mod graphql;
#[cfg(feature = "graphql")]
pub mod leaf;
pub mod metrics;
#[cfg(feature = "db")]
pub mod migration;
#[cfg(feature = "db")]
pub mod outbox;
#[cfg(all(feature = "db", feature = "graphql"))]
pub mod page;
#[cfg(feature = "graphql")]
pub mod people;
pub mod refs;
pub mod server;
pub mod telemetry;
pub mod tls;
pub mod token;
pub mod validate;
#[cfg(all(feature = "db", feature = "graphql"))]
pub mod write;

// Also in the kit's own unit tests, so the stub subgraph's tests run with `-p ggzhub-kit` alone.
#[cfg(all(any(test, feature = "testing"), feature = "db", feature = "graphql"))]
pub mod testing;

pub use caller::Caller;
#[cfg(feature = "graphql")]
pub use error::GqlResultExt;
pub use error::{ApiError, ApiResult, ErrorCode};
pub use token::{OrgKind, SigningKey, TokenSigner, TokenVerifier};

/// Crates the exported macros refer to.
#[doc(hidden)]
pub mod reexport {
    #[cfg(feature = "graphql")]
    pub use async_graphql;
    pub use serde;
}
