//! Step 3 of a request: whether it may be run at all, before its document is parsed. Callers with a
//! token are rate-limited per organisation ([`ratelimit`]; across replicas through Redis with
//! [`shared`]) and held to their organisation's trusted
//! documents ([`trusted`]); callers without one, under public access ([`public`]), are rate-limited
//! per address and held to the dashboard's operations. Last, just before the engine runs it, a
//! request needs a slot in execution ([`capacity`]: bounded slots and queue, a share per
//! organisation), or it is refused at once with 503 `OVERLOADED`.

pub mod capacity;
pub mod public;
pub mod ratelimit;
pub mod shared;
pub mod trusted;
