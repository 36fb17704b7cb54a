//! Step 2 of a request: who is calling. The bearer token is verified ([`oidc`]), its organisation
//! resolved through the hub's register ([`register`]), and [`identity`] turns the outcome into the
//! caller the engine runs the request as (with the internal tokens its subgraph calls carry).

pub mod identity;
pub mod oidc;
pub mod register;
