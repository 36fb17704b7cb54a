//! Step 3 of a request: whether it may be run at all, before its document is parsed. Callers with a
//! token are rate-limited per organisation ([`ratelimit`]) and held to their organisation's trusted
//! documents ([`trusted`]); callers without one, under public access ([`public`]), are rate-limited
//! per address and held to the dashboard's operations.

pub mod public;
pub mod ratelimit;
pub mod trusted;
